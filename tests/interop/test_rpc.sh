#!/usr/bin/env bash
# rpc both ways against real erl: rpc:call, erpc:call and erpc:cast from
# BEAM into `edist node` (results, undef, raised errors of each class),
# and `edist rpc` into BEAM (erlang:node/0, lists:seq/2, a badrpc, a
# timeout, a node that is down).
. "$(dirname "$0")/lib.sh"
need_otp
start_private_epmd
C1=c1@127.0.0.1

start_edist_node c1 secret

# BEAM -> edist.
out=$(run_erl 30 "$EP" b1 secret '
  C1 = list_to_atom("c1@127.0.0.1"),
  Me = node(),
  C1 = rpc:call(C1, erlang, node, []),
  C1 = erpc:call(C1, erlang, node, []),
  [Me] = rpc:call(C1, erlang, nodes, [hidden]) ++ rpc:call(C1, erlang, nodes, [visible]),
  [Me] = rpc:call(C1, erlang, nodes, [connected]),
  {hello, [1,2|3], <<"b">>, #{k := 1.5}} =
      rpc:call(C1, edist, echo, [{hello, [1,2|3], <<"b">>, #{k => 1.5}}]),
  %% exactly what BEAM -> BEAM gives (erpc trims the stack to one frame)
  {badrpc, {'\''EXIT'\'', {undef, [{nosuch, fn, [1, 2], []}]}}} =
      rpc:call(C1, nosuch, fn, [1, 2]),
  {'\''EXIT'\'', {{exception, undef, [{nosuch, fn, [], []}]}, _}} =
      (catch erpc:call(C1, nosuch, fn, [])),
  {badrpc, {'\''EXIT'\'', {{badmatch, 3}, [{edist, raise, 2, _} | _]}}} =
      rpc:call(C1, edist, raise, [error, {badmatch, 3}]),
  {badrpc, {'\''EXIT'\'', because}} = rpc:call(C1, edist, raise, [exit, because]),
  thrown = rpc:call(C1, edist, raise, [throw, thrown]),
  try erpc:call(C1, edist, raise, [error, oops]) of _ -> halt(3)
  catch error:{exception, oops, [{edist, raise, 2, _}]} -> ok end,
  try erpc:call(C1, edist, raise, [exit, bye]) of _ -> halt(4)
  catch exit:{exception, bye} -> ok end,
  try erpc:call(C1, edist, raise, [throw, ball]) of _ -> halt(5)
  catch throw:ball -> ok end,
  ok = erpc:cast(C1, edist, send, [self(), cast_arg]),
  receive cast_arg -> ok after 5000 -> halt(7) end,
  true = rpc:cast(C1, edist, send, [self(), cast_arg2]),
  receive cast_arg2 -> ok after 5000 -> halt(8) end,
  %% a failing cast does not disturb later calls
  ok = erpc:cast(C1, nosuch, fn, []),
  ok = erpc:cast(C1, edist, raise, [error, x]),
  %% Concurrent calls are all answered.
  Self = self(),
  [spawn(fun() -> Self ! {done, I, rpc:call(C1, edist, echo, [I])} end) || I <- lists:seq(1, 50)],
  [receive {done, I, I} -> ok after 5000 -> halt(6) end || I <- lists:seq(1, 50)],
  io:format("rpc ok~n"),
  halt(0).' -hidden) || fail "BEAM -> edist rpc failed: $out"
echo "$out" | grep -q "rpc ok" || fail "unexpected: $out"
ok "rpc:call, erpc:call and erpc:cast into edist: values, undef, error/exit/throw"

# rex served by edist: `edist rpc` and erl_call (libei's ei_rpc) into
# `edist node`.
res=$("$EDIST_CLI" rpc --cookie secret "$C1" edist echo '{x, [1], <<"b">>}') ||
    fail "edist rpc into edist: $res"
[ "$res" = '{x,[1],<<"b">>}' ] || fail "edist rpc into edist gave $res"
res=$("$EDIST_CLI" rpc --cookie secret "$C1" nosuch fn 1)
[ $? -eq 1 ] && [ "$res" = "{badrpc,{'EXIT',{undef,[{nosuch,fn,[1],[]}]}}}" ] ||
    fail "edist rpc undef into edist gave $res"
res=$("$EDIST_CLI" rpc --cookie secret "$C1" edist raise exit why)
[ "$res" = "{badrpc,{'EXIT',why}}" ] || fail "edist rpc exit into edist gave $res"
ERL_CALL=$(ls /usr/lib/erlang/lib/erl_interface-*/bin/erl_call 2>/dev/null | head -n 1)
if [ -x "$ERL_CALL" ]; then
    res=$(timeout 10 "$ERL_CALL" -c secret -n "$C1" -a 'erlang node')
    [ "$res" = "'$C1'" ] || fail "erl_call into edist gave $res"
fi
ok "rex served by edist: edist rpc and erl_call into edist node"

# edist -> BEAM.
start_erl "$EP" b2 secret 'receive stop -> ok end.' >/dev/null
wait_registered b2
B2=b2@127.0.0.1
res=$("$EDIST_CLI" rpc --cookie secret "$B2" erlang node) || fail "rpc node: $res"
[ "$res" = "'$B2'" ] || fail "erlang:node() gave $res"
res=$("$EDIST_CLI" rpc --cookie secret "$B2" lists seq 1 5) || fail "rpc seq: $res"
[ "$res" = "[1,2,3,4,5]" ] || fail "lists:seq gave $res"
res=$("$EDIST_CLI" rpc --cookie secret "$B2" erlang list_to_tuple '[a, "s", <<"b">>]') ||
    fail "rpc list_to_tuple: $res"
[ "$res" = '{a,"s",<<"b">>}' ] || fail "list_to_tuple gave $res"
res=$("$EDIST_CLI" rpc --cookie secret "$B2" nosuch fn 1)
rc=$?
[ $rc -eq 1 ] || fail "badrpc exit code $rc ($res)"
echo "$res" | grep -q "{badrpc," || fail "no badrpc: $res"
echo "$res" | grep -q "undef" || fail "no undef: $res"
res=$("$EDIST_CLI" rpc --cookie secret --timeout 300 "$B2" timer sleep 3000)
rc=$?
[ $rc -eq 1 ] && [ "$res" = "{badrpc,timeout}" ] || fail "timeout: rc $rc, $res"
"$EDIST_CLI" rpc --cookie secret nosuch@127.0.0.1 erlang node >/dev/null 2>&1
rc=$?
[ $rc -ne 0 ] || fail "rpc to a missing node: exit code $rc"
ok "edist rpc into BEAM: node(), lists:seq, badrpc undef, timeout, missing node"
