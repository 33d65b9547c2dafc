#!/usr/bin/env bash
# Transitive meshing with real erl: BEAM -> edist -> BEAM and
# edist -> BEAM -> edist end fully meshed, global:sync() returns on every
# BEAM node, a global name registered on one BEAM node is found from the
# others (also after two partitions, each with edist members, merge).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mesh_lib.sh"
mesh_setup
for b in b1 b2 b3; do mesh_beam $b; done
mesh_edist e1
for b in b1 b2 b3; do wait_registered $b; done
mesh_edist e2 --connect b3@127.0.0.1
mesh_edist e3 --connect b3@127.0.0.1
mesh_run 60 transitive
ok "transitive meshing through edist and through BEAM, global:sync, global names"
