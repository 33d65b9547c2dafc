#!/usr/bin/env bash
# Opting out: a --hidden edist node is listed in nodes(hidden), is unknown
# to global and meshes nobody; a --connect-all false node is visible but
# never meshes its peers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mesh_lib.sh"
mesh_setup
for b in b1 b2 b3 b4; do mesh_beam $b; done
mesh_edist h --hidden
mesh_edist nc --connect-all false
for b in b1 b2 b3 b4; do wait_registered $b; done
mesh_run 60 hidden
ok "hidden and connect_all false"
