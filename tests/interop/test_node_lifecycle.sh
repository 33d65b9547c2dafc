#!/usr/bin/env bash
# Node lifecycle against real erl: EPMD auto-start, a restarted peer with a
# new creation, simultaneous connects, explicit connect at start.
. "$(dirname "$0")/lib.sh"
need_otp

# 1. No EPMD on the port: the node starts edist-epmd -daemon, as erl does,
# and BEAM nodes find it there.
EP=$(free_port)
export ERL_EPMD_PORT=$EP
track_epmd_port "$EP"
"$EDIST_CLI" node --name a1@127.0.0.1 --cookie secret >"$LIB_TMP/a1.log" 2>&1 &
A1=$!
track $A1
wait_for 15 grep -q "listening" "$LIB_TMP/a1.log" ||
    fail "node did not start without EPMD: $(cat "$LIB_TMP/a1.log")"
port_in_use "$EP" || fail "no EPMD was started on $EP"
"$OTP_EPMD" -port "$EP" -names | grep -q "name a1 at port" ||
    fail "the started EPMD does not list a1"
out=$(run_erl 20 "$EP" e1 secret '
  io:format("~p~n", [net_adm:ping(list_to_atom("a1@127.0.0.1"))]), halt(0).')
[ "$out" = pong ] || fail "BEAM could not reach a1 through the started EPMD: $out"
ok "EPMD auto-started on port $EP"

# 2. A restarted peer gets a new creation and is reachable again; messages
# flow to the new incarnation.  e2 sends to {echo, a1} every 100-400 ms for
# about 25 s, so it is still sending when a1 comes back.
creation() { sed -n 's/.*(creation \([0-9]*\)).*/\1/p' "$1" | head -n 1; }
c_old=$(creation "$LIB_TMP/a1.log")
start_erl "$EP" e2 secret '
  A = list_to_atom("a1@127.0.0.1"),
  Loop = fun L(0) -> halt(1);
             L(N) -> {echo, A} ! {self(), N},
                     receive N -> io:format("ECHO ~p~n", [N]) after 300 -> ok end,
                     timer:sleep(100),
                     L(N - 1) end,
  Loop(250).' >/dev/null
wait_for 10 grep -q ECHO "$LIB_TMP/erl-e2.log" || fail "e2 got no echo"
kill -KILL $A1
wait $A1 2>/dev/null
sleep 0.3
"$EDIST_CLI" node --name a1@127.0.0.1 --cookie secret >"$LIB_TMP/a1b.log" 2>&1 &
track $!
wait_for 10 grep -q "listening" "$LIB_TMP/a1b.log" || fail "a1 did not restart"
c_new=$(creation "$LIB_TMP/a1b.log")
[ -n "$c_old" ] && [ -n "$c_new" ] && [ "$c_old" != "$c_new" ] ||
    fail "creation did not change: $c_old -> $c_new"
n_before=$(grep -c ECHO "$LIB_TMP/erl-e2.log")
wait_for 10 bash -c "[ \$(grep -c ECHO '$LIB_TMP/erl-e2.log') -gt $n_before ]" ||
    fail "no echo from the restarted node"
ok "restarted node: creation $c_old -> $c_new, messages flow again"

# 3. Simultaneous connects: two edist nodes dial each other at the same
# moment (both wait for one file), several times; BEAM's rule must leave
# exactly one connection, and both pings must succeed.
for i in 1 2 3 4 5; do
    go="$LIB_TMP/go$i"
    "$EDIST_INTEROP_BIN/node_dialer" "p$i@127.0.0.1" secret "q$i@127.0.0.1" \
        "$go" 1500 >"$LIB_TMP/p$i.log" 2>&1 &
    track $!
    "$EDIST_INTEROP_BIN/node_dialer" "q$i@127.0.0.1" secret "p$i@127.0.0.1" \
        "$go" 1500 >"$LIB_TMP/q$i.log" 2>&1 &
    track $!
    wait_for 10 grep -q ready "$LIB_TMP/p$i.log" || fail "p$i"
    wait_for 10 grep -q ready "$LIB_TMP/q$i.log" || fail "q$i"
    touch "$go"
done
for i in 1 2 3 4 5; do
    for x in p q; do
        wait_for 15 grep -q "^peers" "$LIB_TMP/$x$i.log" ||
            fail "$x$i did not finish: $(cat "$LIB_TMP/$x$i.log")"
        grep -q "^pong" "$LIB_TMP/$x$i.log" ||
            fail "$x$i: $(cat "$LIB_TMP/$x$i.log")"
        grep -q "^peers 1" "$LIB_TMP/$x$i.log" ||
            fail "$x$i: not exactly one peer: $(cat "$LIB_TMP/$x$i.log")"
    done
done
ok "simultaneous edist <-> edist connects settle into one connection"

# 4. BEAM and edist dial each other at the same moment: BEAM's
# net_kernel and edist apply the same rule, so both sides agree.  z counts
# its connections 1 s after its own ping returns, so w stays up 4 s after
# its ping: a BEAM ping slowed down by load must not find w already gone.
for i in 1 2 3; do
    go="$LIB_TMP/bgo$i"
    "$EDIST_INTEROP_BIN/node_dialer" "w$i@127.0.0.1" secret "z$i@127.0.0.1" \
        "$go" 4000 >"$LIB_TMP/w$i.log" 2>&1 &
    track $!
    start_erl "$EP" "z$i" secret "
      Go = fun G(0) -> halt(3); G(N) -> case filelib:is_file(\"$go\") of
               true -> ok; false -> timer:sleep(1), G(N - 1) end end,
      Go(20000),
      R = net_adm:ping(list_to_atom(\"w$i@127.0.0.1\")),
      timer:sleep(1000),
      io:format(\"~p ~p~n\", [R, length(nodes(connected))]),
      halt(0)." >/dev/null
    wait_for 10 grep -q ready "$LIB_TMP/w$i.log" || fail "w$i"
    wait_for 10 bash -c "'$OTP_EPMD' -port $EP -names | grep -q 'name z$i '" || fail "z$i"
    touch "$go"
done
for i in 1 2 3; do
    wait_for 15 grep -q "^peers" "$LIB_TMP/w$i.log" || fail "w$i did not finish"
    grep -q "^pong" "$LIB_TMP/w$i.log" || fail "w$i: $(cat "$LIB_TMP/w$i.log") z$i: $(cat "$LIB_TMP/erl-z$i.log")"
    wait_for 15 grep -q "pong 1" "$LIB_TMP/erl-z$i.log" ||
        fail "z$i: $(cat "$LIB_TMP/erl-z$i.log")"
done
ok "simultaneous BEAM <-> edist connects settle into one connection"
