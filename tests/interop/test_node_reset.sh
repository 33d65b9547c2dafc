#!/usr/bin/env bash
# A peer that dies while we write to it must not take our program down:
# writing to a reset connection raises SIGPIPE, which would kill a C
# program that uses the library (exit status 141).  A C node blasts
# messages at a BEAM node that is killed mid-stream, several times.
. "$(dirname "$0")/lib.sh"
need_otp
start_private_epmd
for i in 1 2 3; do
    B=$(start_erl "$EP" "sink$i" secret '
      register(sink, self()),
      Loop = fun L() -> receive _ -> L() end end, Loop().')
    track "$B"
    wait_registered "sink$i"
    "$EDIST_INTEROP_BIN/node_blaster" "blaster$i@127.0.0.1" secret \
        "sink$i@127.0.0.1" 3 >"$LIB_TMP/blaster$i.log" 2>&1 &
    BL=$!
    track $BL
    wait_for 10 grep -q connected "$LIB_TMP/blaster$i.log" ||
        fail "blaster$i: $(cat "$LIB_TMP/blaster$i.log")"
    sleep 0.5
    # The BEAM's own pid (erl is a wrapper): kill it with unread data
    # queued, so that its kernel answers our next writes with RST.
    wait_for 5 test -s "$LIB_TMP/beam-sink$i.pid" || fail "no BEAM pid"
    kill -KILL "$(cat "$LIB_TMP/beam-sink$i.pid")"
    wait "$BL"
    rc=$?
    [ $rc -eq 0 ] && grep -q survived "$LIB_TMP/blaster$i.log" ||
        fail "the sender died with status $rc: $(cat "$LIB_TMP/blaster$i.log")"
done
ok "a peer killed mid-stream does not kill the sender"
