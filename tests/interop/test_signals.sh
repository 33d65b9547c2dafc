#!/usr/bin/env bash
# Process semantics against real erl (sig_test.erl drives two sig_peer
# edist nodes): links both ways with normal and abnormal reasons, exit/2,
# unlink and its races, monitors by pid and name both ways, noproc,
# gen_server calls both ways, monitor_node / monitor_nodes, a graceful
# stop (shutdown) and SIGKILL (noconnection).  Then `edist node` logs the
# exit and DOWN signals BEAM sends to it.
. "$(dirname "$0")/lib.sh"
need_otp
start_private_epmd
erlc -o "$LIB_TMP" "$(dirname "$0")/sig_test.erl" || fail "sig_test.erl does not compile"

"$EDIST_INTEROP_BIN/sig_peer" s1@127.0.0.1 secret >"$LIB_TMP/s1.log" 2>&1 &
S1PID=$!
track $S1PID
"$EDIST_INTEROP_BIN/sig_peer" s2@127.0.0.1 secret >"$LIB_TMP/s2.log" 2>&1 &
track $!
wait_for 10 grep -q ready "$LIB_TMP/s1.log" || fail "s1 did not start"
wait_for 10 grep -q ready "$LIB_TMP/s2.log" || fail "s2 did not start"

out=$(run_erl 80 "$EP" b1 secret \
    "sig_test:main([\"s1@127.0.0.1\", \"$S1PID\", \"s2@127.0.0.1\"])." \
    -pa "$LIB_TMP" 2>&1)
rc=$?
echo "$out" | grep "^ok " | sed 's/^/  /'
[ $rc -eq 0 ] && echo "$out" | grep -q "ALL OK" || fail "sig_test: rc $rc: $out"
ok "links, exit/2, unlink races, monitors, gen_server, node monitoring, stop, SIGKILL"

# S2 unregistered from EPMD on its graceful stop.
"$OTP_EPMD" -port "$EP" -names | grep -q "name s2 " && fail "s2 still registered"
ok "graceful stop unregisters from EPMD"

# `edist node` logs the exit and DOWN signals it receives.
start_edist_node c1 secret

# A LINK whose sender is not on the sending node closes the connection,
# as ERTS's invalid_message does; one from the sender's own node does not
# (the pid does not exist: the answer is an EXIT noproc, and the
# connection stays).
P=$EDIST_INTEROP_BIN/hs_probe
out=$(timeout 20 "$P" --name p1@127.0.0.1 --cookie secret --epmd-port "$EP" \
    --hold 2 --link-from ghost@127.0.0.1 connect c1@127.0.0.1)
echo "$out" | grep -q "^LINK_SENT" && echo "$out" | grep -q "^PEER_CLOSED" ||
    fail "a LINK from a third node's pid kept the connection: $out"
out=$(timeout 20 "$P" --name p2@127.0.0.1 --cookie secret --epmd-port "$EP" \
    --hold 2 --link-from p2@127.0.0.1 connect c1@127.0.0.1)
echo "$out" | grep -q "^HELD" && echo "$out" | grep -q "^MSG" ||
    fail "a LINK from the sender's own node: $out"
ok "signals naming a sender on another node close the connection"
out=$(run_erl 20 "$EP" b3 secret '
  C1 = list_to_atom("c1@127.0.0.1"),
  Echo = rpc:call(C1, erlang, whereis, [echo]),
  true = is_pid(Echo),
  undefined = rpc:call(C1, erlang, whereis, [nosuch]),
  exit(Echo, {from_exit2, 1}),
  W = spawn(fun() -> link(Echo), receive die -> exit(linked_death) end end),
  timer:sleep(200),
  W ! die,
  %% echo survives both (a mailbox traps exits) and still answers
  {echo, C1} ! {self(), alive},
  receive alive -> ok after 5000 -> halt(2) end,
  halt(0).' -hidden) || fail "b3: $out"
wait_for 5 grep -qF ",{from_exit2,1}}" "$LIB_TMP/c1.log" ||
    fail "exit/2 not logged: $(cat "$LIB_TMP/c1.log")"
wait_for 5 grep -qF ">,linked_death}" "$LIB_TMP/c1.log" ||
    fail "link exit not logged: $(cat "$LIB_TMP/c1.log")"
grep -c "echo signal <- {'EXIT'" "$LIB_TMP/c1.log" | grep -qx 2 ||
    fail "signals not logged as signals: $(cat "$LIB_TMP/c1.log")"
ok "edist node logs the exit signals it receives"
