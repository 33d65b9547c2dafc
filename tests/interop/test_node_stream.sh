#!/usr/bin/env bash
# test_node_stream.sh: streaming through the whole runtime (node_stream).
# 1. edist -> edist: 4 sender threads, small and 100 KiB messages, a small
#    out-queue cap (backpressure) and a small mailbox cap (reading pauses
#    and resumes); every message must arrive once and in order per sender.
# 2. BEAM -> edist: 3 BEAM processes stream the same messages (the first
#    half all small) to the sink registered as `sink`.  BEAM writes each
#    small message on its own, so the I/O thread coalesces its reads of
#    the link (rx.c), while the
#    mailbox cap pauses reading and every fourth batch is received as the
#    node's leader (after an ack to BEAM): nothing may be lost or reordered.
. "$(dirname "$0")/lib.sh"
BIN=$EDIST_INTEROP_BIN/node_stream
[ -x "$BIN" ] || fail "node_stream not built at $BIN"
EP=$(free_port)
start_edist_epmd "$EP"
timeout -k 5 240 "$BIN" "$EP" 4 20000 || fail "node_stream failed"
ok "edist -> edist streamed in order"

need_otp
SENDERS=3
N=30000
BEAM_PID=$(start_erl "$EP" bt streamcookie '
    register(ack, spawn(fun Loop() -> receive _ -> Loop() end end)),
    io:format("UP~n"), receive after infinity -> ok end.')
track "$BEAM_PID"
wait_for 20 grep -qs UP "$LIB_TMP/erl-bt.log" || fail "BEAM bt: $(cat "$LIB_TMP/erl-bt.log")"
timeout -k 5 240 "$BIN" "$EP" $SENDERS $N --beam bt@127.0.0.1 \
    >"$LIB_TMP/sink.log" 2>&1 &
SINK=$!
track $SINK
wait_for 20 grep -qs READY "$LIB_TMP/sink.log" || fail "sink: $(cat "$LIB_TMP/sink.log")"
# Each sender: N messages {I, Seq, Bin} with node_stream's sizes and bytes,
# then {I, self()}, and the sink must answer {done, N}.
run_erl 200 "$EP" bsend streamcookie "
    Node = 'sb@127.0.0.1', N = $N,
    Size = fun(S) when S < N div 2 -> 24;
              (S) when S rem 97 =:= 5 -> 100 * 1024;
              (S) when S rem 13 =:= 3 -> 2000;
              (_) -> 24 end,
    Pat = << <<(K * 13 rem 251)>> || K <- lists:seq(0, 250) >>,
    Rep = binary:copy(Pat, 410),
    Bin = fun(I, S) -> binary:part(Rep, (S * 7 + I * 31) rem 251, Size(S)) end,
    Self = self(),
    Send = fun Send(I, S) when S =:= N -> {sink, Node} ! {I, self()},
                  receive {done, C} -> Self ! {I, C} after 120000 -> Self ! {I, timeout} end;
               Send(I, S) -> {sink, Node} ! {I, S, Bin(I, S)}, Send(I, S + 1) end,
    [spawn(fun() -> Send(I, 0) end) || I <- lists:seq(0, $SENDERS - 1)],
    R = [receive {I, C} -> C after 150000 -> timeout end || I <- lists:seq(0, $SENDERS - 1)],
    io:format(\"answers ~p~n\", [R]),
    halt(case lists:all(fun(C) -> C =:= N end, R) of true -> 0; false -> 1 end)." ||
    fail "BEAM senders: $(cat "$LIB_TMP/sink.log")"
wait $SINK || fail "sink failed: $(cat "$LIB_TMP/sink.log")"
grep -q "$((SENDERS * N)) messages from $SENDERS senders in order" "$LIB_TMP/sink.log" ||
    fail "sink: $(cat "$LIB_TMP/sink.log")"
ok "BEAM -> edist streamed in order"
