#!/usr/bin/env bash
# 50 edist nodes started as a chain (each dials the previous) mesh fully
# (1225 connections) with net_ticktime 4, stay meshed for 3 ticktimes, and
# none logs a nodedown.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mesh_lib.sh"
N=50
TICK=4
mesh_setup
mesh_edist s1 --ticktime $TICK
for i in $(seq 2 $N); do
    mesh_edist s$i --ticktime $TICK --connect s$((i - 1))@127.0.0.1
done
MESH_ERL_ARGS="-kernel net_ticktime $TICK" mesh_run 150 scale $N $TICK
# (The hidden controller's own nodedown at its halt does not count.)
if grep -q "nodedown s" "$LIB_TMP"/s*.log; then
    fail "spurious nodedown: $(grep -h "nodedown s" "$LIB_TMP"/s*.log | head -5)"
fi
grep -q "nodeup s$N@" "$LIB_TMP/s1.log" || fail "s1 never saw s$N come up"
ok "$N edist nodes meshed and stayed meshed, no nodedown"
