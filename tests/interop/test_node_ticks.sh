#!/usr/bin/env bash
# Ticks and failure detection against real erl, with net_ticktime 4 on both
# sides (interval 1 s; a silent peer is down after 3 to 5 s):
#  - a program that never calls receive stays connected for 3 ticktimes;
#  - an edist node stopped with SIGSTOP is seen down by BEAM in bounds;
#  - a BEAM node stopped with SIGSTOP is seen down by edist in bounds;
#  - SIGKILL on either side is seen at once (connection closed).
. "$(dirname "$0")/lib.sh"
need_otp
start_private_epmd
TT="-kernel net_ticktime 4"
# The BEAM's logger may also write to stdout (a "not responding" report
# can land just before halt): keep only the RESULT line.
result_line() { sed -n 's/^RESULT //p'; }

# 1. The sleeper: connected, silent in its own code for 12 s.
start_erl "$EP" t1 secret '
  register(inbox, self()),
  S = list_to_atom("sleeper@127.0.0.1"),
  Wait = fun W(0) -> halt(3); W(N) -> case lists:member(S, nodes(hidden)) of
           true -> ok; false -> timer:sleep(100), W(N - 1) end end,
  Wait(100),
  erlang:monitor_node(S, true),
  receive {nodedown, S} -> io:format("NODEDOWN~n"), halt(1);
          {sleeper, done} -> io:format("DONE~n"), halt(0)
  after 30000 -> io:format("TIMEOUT~n"), halt(2) end.' $TT >/dev/null
wait_registered t1
"$EDIST_INTEROP_BIN/node_sleeper" sleeper@127.0.0.1 secret t1@127.0.0.1 12 4 \
    >"$LIB_TMP/sleeper.log" 2>&1 || fail "sleeper: $(cat "$LIB_TMP/sleeper.log")"
wait_for 10 grep -q DONE "$LIB_TMP/erl-t1.log" ||
    fail "BEAM saw: $(cat "$LIB_TMP/erl-t1.log")"
ok "a node that never receives stays connected through 3 ticktimes"

# 2. edist stopped: BEAM sees nodedown within the tick bounds.
start_edist_node c2 secret --ticktime 4
C2PID=$EDIST_NODE_PID

# 1b. An idle edist node ticks once per interval (1 s here), as dist_util
# does: it once ticked every other interval (the write of its own tick
# counted as traffic), which halved a peer's margin before "not
# responding".  hs_probe (a bare dist connection, hidden, ticking itself)
# counts the ticks it receives in 10 s: 9 or 10, against 5 before; 8 leaves
# room for one tick delayed past the end by a busy machine.
"$EDIST_INTEROP_BIN/hs_probe" --name probe@127.0.0.1 --cookie secret \
    --epmd-port "$EP" --ticktime 4000 --hold 10 connect c2@127.0.0.1 \
    >"$LIB_TMP/probe.log" 2>&1 || fail "hs_probe: $(cat "$LIB_TMP/probe.log")"
RX=$(sed -n 's/^TICKS rx=\([0-9]*\).*/\1/p' "$LIB_TMP/probe.log")
[ -n "$RX" ] && [ "$RX" -ge 8 ] ||
    fail "an idle edist node sent ${RX:-no} ticks in 10 s (ticktime 4: expected 9-10)"
ok "an idle edist node ticks every interval ($RX ticks in 10 s)"
out=$(run_erl 30 "$EP" t2 secret "
  C = list_to_atom(\"c2@127.0.0.1\"),
  pong = net_adm:ping(C),
  erlang:monitor_node(C, true),
  timer:sleep(1500),
  T0 = erlang:monotonic_time(millisecond),
  os:cmd(\"kill -STOP $C2PID\"),
  receive {nodedown, C} ->
    io:format(\"RESULT ~p~n\", [erlang:monotonic_time(millisecond) - T0])
  after 15000 -> io:format(\"RESULT never~n\") end,
  halt(0)." $TT | result_line)
kill -CONT $C2PID
case $out in
never | '' | *[!0-9]*) fail "BEAM did not see the stopped edist node go down: $out" ;;
esac
[ "$out" -ge 2800 ] && [ "$out" -le 6500 ] ||
    fail "BEAM saw the stopped edist node down after $out ms (bounds 3000..5000)"
ok "SIGSTOP of edist seen by BEAM after $out ms"

# 3. BEAM stopped: edist sees nodedown within the tick bounds.
T3=$(start_erl "$EP" t3 secret "
  pong = net_adm:ping(list_to_atom(\"c2@127.0.0.1\")),
  io:format(\"UP~n\"), receive after infinity -> ok end." $TT)
track "$T3" # start_erl ran in a subshell: record the pid here
wait_for 10 grep -q UP "$LIB_TMP/erl-t3.log" || fail "t3: $(cat "$LIB_TMP/erl-t3.log")"
wait_for 5 grep -q "nodeup t3@" "$LIB_TMP/c2.log" || fail "c2 saw no nodeup"
sleep 1.5
t0=$(date +%s%N)
kill -STOP "$T3"
wait_for 15 grep -q "nodedown t3@" "$LIB_TMP/c2.log" ||
    fail "edist did not see the stopped BEAM node go down"
ms=$((($(date +%s%N) - t0) / 1000000))
kill -CONT "$T3"
[ "$ms" -ge 2500 ] && [ "$ms" -le 6500 ] ||
    fail "edist saw the stopped BEAM node down after $ms ms (bounds 3000..5000)"
ok "SIGSTOP of BEAM seen by edist after $ms ms"

# 4. SIGKILL: seen at once both ways.
T4=$(start_erl "$EP" t4 secret "
  pong = net_adm:ping(list_to_atom(\"c2@127.0.0.1\")),
  io:format(\"UP~n\"), receive after infinity -> ok end." $TT)
track "$T4"
wait_for 10 grep -q UP "$LIB_TMP/erl-t4.log" || fail "t4"
wait_for 5 grep -q "nodeup t4@" "$LIB_TMP/c2.log" || fail "c2 saw no nodeup t4"
kill -KILL "$T4"
# 3 s: under the 4 s ticktime, so only the closed connection can explain it.
wait_for 3 grep -q "nodedown t4@" "$LIB_TMP/c2.log" ||
    fail "edist did not see the killed BEAM node go down at once"
out=$(run_erl 30 "$EP" t5 secret "
  C = list_to_atom(\"c2@127.0.0.1\"),
  pong = net_adm:ping(C),
  erlang:monitor_node(C, true),
  T0 = erlang:monotonic_time(millisecond),
  os:cmd(\"kill -KILL $C2PID\"),
  receive {nodedown, C} ->
    io:format(\"RESULT ~p~n\", [erlang:monotonic_time(millisecond) - T0])
  after 15000 -> io:format(\"RESULT never~n\") end,
  halt(0)." $TT | result_line)
case $out in
never | '' | *[!0-9]*) fail "BEAM did not see the killed edist node: $out" ;;
esac
[ "$out" -le 1500 ] || fail "BEAM saw the killed edist node after $out ms"
ok "SIGKILL seen at once both ways (BEAM: $out ms)"
