#!/usr/bin/env bash
# Partitions with real erl: erlang:disconnect_node/1 between a BEAM and an
# edist member splits the mesh as prevent_overlapping_partitions wants
# (edist honours remove_connection and reports lost connections), the
# partition heals into one mesh, a stopped edist member (SIGTERM) does not
# split the others, and a SIGKILLed edist member and a SIGKILLed BEAM
# member leave the others meshed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mesh_lib.sh"
mesh_setup
for b in b1 b2; do mesh_beam $b; done
mesh_edist e1
mesh_edist e2
E2PID=$EDIST_NODE_PID
mesh_edist e3
E3PID=$EDIST_NODE_PID
for b in b1 b2; do wait_registered $b; done
mesh_run 90 partition "$E2PID" "$E3PID"
grep -q "nodedown" "$LIB_TMP/e1.log" || fail "e1 logged no nodedown"
ok "split, heal, and killed members"
