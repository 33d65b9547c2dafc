#!/usr/bin/env bash
# rpc both ways against real erl: rpc:call, erpc:call and erpc:cast from
# BEAM into `edist node` (results, undef, raised errors of each class),
# and `edist rpc` into BEAM (erlang:node/0, lists:seq/2, a badrpc, a
# timeout, a node that is down, results compared with rpc:call's, the
# group leader, a node that halts during the call), through rex and, with
# --erpc, by spawn request.
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

# edist -> edist: `edist rpc` (rex), `edist rpc --erpc` (a spawn request)
# and erl_call (libei's ei_rpc, rex) into `edist node`.
res=$("$EDIST_CLI" rpc --cookie secret "$C1" edist echo '{x, [1], <<"b">>}') ||
    fail "edist rpc into edist: $res"
[ "$res" = '{x,[1],<<"b">>}' ] || fail "edist rpc into edist gave $res"
res=$("$EDIST_CLI" rpc --cookie secret "$C1" nosuch fn 1)
[ $? -eq 1 ] && [ "$res" = "{badrpc,{'EXIT',{undef,[{nosuch,fn,[1],[]}]}}}" ] ||
    fail "edist rpc undef into edist gave $res"
res=$("$EDIST_CLI" rpc --cookie secret "$C1" edist raise exit why)
[ "$res" = "{badrpc,{'EXIT',why}}" ] || fail "edist rpc exit into edist gave $res"
e() { "$EDIST_CLI" rpc --cookie secret --erpc "$C1" "$@"; }
[ "$(e edist echo '{x, [1]}')" = '{x,[1]}' ] || fail "erpc into edist: $(e edist echo x)"
[ "$(e nosuch fn 1)" = "{error,undef,[{nosuch,fn,[1],[]}]}" ] ||
    fail "erpc undef into edist: $(e nosuch fn 1)"
[ "$(e edist raise exit why)" = "{exit,why}" ] || fail "erpc exit into edist"
[ "$(e edist raise throw ball)" = "{throw,ball}" ] || fail "erpc throw into edist"
ERL_CALL=$(ls /usr/lib/erlang/lib/erl_interface-*/bin/erl_call 2>/dev/null | head -n 1)
if [ -x "$ERL_CALL" ]; then
    res=$(timeout 10 "$ERL_CALL" -c secret -n "$C1" -a 'erlang node')
    [ "$res" = "'$C1'" ] || fail "erl_call into edist gave $res"
fi
ok "edist rpc, edist rpc --erpc and erl_call into edist node"

# edist -> BEAM.
start_erl "$EP" b2 secret 'receive stop -> ok end.' >/dev/null
wait_registered b2
B2=b2@127.0.0.1
res=$("$EDIST_CLI" rpc --cookie secret "$B2" erlang node) || fail "rpc node: $res"
[ "$res" = "'$B2'" ] || fail "erlang:node() gave $res"
res=$("$EDIST_CLI" rpc --cookie secret "$B2" lists seq 1 5) || fail "rpc seq: $res"
[ "$res" = "[1,2,3,4,5]" ] || fail "lists:seq gave $res"
# A request bigger than edist_rpc's stack buffer (512 bytes) takes the
# generic encoder.
long=$(printf 'a%.0s' $(seq 1 600))
res=$("$EDIST_CLI" rpc --cookie secret "$B2" erlang length "\"$long\"") ||
    fail "rpc with a 600-byte argument: $res"
[ "$res" = "600" ] || fail "erlang:length of 600 characters gave $res"
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
ok "edist rpc into BEAM: node(), lists:seq, a large argument, badrpc undef, timeout, missing node"

# edist_rpc gives what rpc:call gives and edist_erpc what erpc:call
# gives, call for call: the same results from a BEAM node d (erpc's
# exceptions written as the CLI writes them) and from `edist rpc`.
# One call per line: module, function, arguments (no spaces inside one).
cat >"$LIB_TMP/calls" <<'EOF'
nosuch fn 1
erlang error oops
erlang exit bye
erlang throw ball
erlang throw {'EXIT',x}
erlang exit kill
erlang error {badmatch,[1|2]}
erlang list_to_tuple [a,"s",<<"b">>,1.5,-7]
lists seq 1 3
EOF
beam=$(run_erl 30 "$EP" d secret '
  B = list_to_atom("b2@127.0.0.1"),
  {ok, Text} = file:read_file("'"$LIB_TMP"'/calls"),
  Calls = [begin
       [M, F | As] = string:lexemes(binary_to_list(L), " "),
       Args = [begin {ok, T, _} = erl_scan:string(A ++ "."),
                     {ok, V} = erl_parse:parse_term(T), V end || A <- As],
       {list_to_atom(M), list_to_atom(F), Args}
   end || L <- binary:split(Text, <<"\n">>, [global]), L =/= <<>>],
  [io:format("~0p~n", [rpc:call(B, M, F, A)]) || {M, F, A} <- Calls],
  io:format("--~n"),
  [io:format("~0p~n", [try erpc:call(B, M, F, A)
                       catch error:{exception, R, S} -> {error, R, S};
                             exit:{exception, R} -> {exit, R};
                             exit:{signal, R} -> {exit, R};
                             error:{erpc, R} -> {erpc, R};
                             throw:T -> {throw, T} end]) || {M, F, A} <- Calls],
  halt().' -hidden) || fail "BEAM rpc:call reference run: $beam"
for how in rpc erpc; do
    flag=
    [ $how = erpc ] && flag=--erpc
    mine=$(set -f
        while read -r m f args; do
            # shellcheck disable=SC2086 # one word per argument
            "$EDIST_CLI" rpc --cookie secret $flag "$B2" "$m" "$f" $args
        done <"$LIB_TMP/calls")
    if [ $how = rpc ]; then
        # rex itself answers a thrown {'EXIT', x} as the value (rpc.erl's
        # handle_call catches it), where rpc:call since OTP 23 says badrpc.
        want=$(echo "$beam" | sed -n '1,/^--$/p' | sed '$d' | sed "5s/.*/{'EXIT',x}/")
    else
        want=$(echo "$beam" | sed -n '/^--$/,$p' | sed 1d)
    fi
    [ "$mine" = "$want" ] || fail "edist rpc $flag differs from $how:call:
$mine
--- expected:
$want"
done
ok "edist rpc gives what rpc:call gives, edist rpc --erpc what erpc:call gives"

# Through erpc the function's group leader is a process of the calling
# node, which passes I/O on to `user` on B2; through rex it is B2's user.
gl=$("$EDIST_CLI" rpc --cookie secret --erpc "$B2" erlang group_leader)
echo "$gl" | grep -q "^#Pid<edist_" || fail "erpc: group leader $gl"
gl=$("$EDIST_CLI" rpc --cookie secret "$B2" erlang group_leader)
echo "$gl" | grep -q "^#Pid<$B2/" || fail "rex: group leader $gl"
for how in rpc erpc; do
    flag=
    [ $how = erpc ] && flag=--erpc
    res=$("$EDIST_CLI" rpc --cookie secret $flag "$B2" io format "\"printed by $how~n\"")
    [ "$res" = ok ] || fail "io:format by $how gave $res"
    wait_for 5 grep -q "^printed by $how\$" "$LIB_TMP/erl-b2.log" ||
        fail "io:format by $how did not print on b2"
done
res=$("$EDIST_CLI" rpc --cookie secret --erpc --timeout 300 "$B2" timer sleep 3000)
[ $? -eq 1 ] && [ "$res" = "{erpc,timeout}" ] || fail "erpc timeout: $res"
ok "erpc: group leader passes I/O to the called node's user; timeout"

# A node that goes down during the call: {badrpc, nodedown}.
start_erl "$EP" b3 secret 'receive stop -> ok end.' >/dev/null
wait_registered b3
res=$("$EDIST_CLI" rpc --cookie secret --erpc b3@127.0.0.1 erlang halt)
[ $? -eq 1 ] && [ "$res" = "{erpc,noconnection}" ] || fail "halt during erpc: $res"
start_erl "$EP" b3 secret 'receive stop -> ok end.' >/dev/null
wait_registered b3
res=$("$EDIST_CLI" rpc --cookie secret b3@127.0.0.1 erlang halt)
[ $? -eq 1 ] && [ "$res" = "{badrpc,nodedown}" ] || fail "halt during rpc: $res"
ok "a node that halts during the call: {erpc,noconnection}, {badrpc,nodedown}"
