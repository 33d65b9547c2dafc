#!/usr/bin/env bash
# Real Erlang nodes on edist-epmd: two `erl -name` nodes started with
# ERL_EPMD_PORT pointing at a pre-started edist-epmd register (erl's own
# auto-started `epmd -daemon` finds the port busy and exits 0), find each
# other, ping each other and call each other; the creation a node uses is
# the one edist-epmd assigned; a node that stops is unregistered at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/epmd_lib.sh"
need_otp

P=$(free_port)
start_edist_epmd "$P"
EPID=${LIB_PIDS[-1]}
COOKIE=edist_test_cookie

start_erl "$P" alpha "$COOKIE" 'timer:sleep(30000), halt().' >/dev/null
APID=${LIB_PIDS[-1]}
wait_for 15 sh -c "'$EDIST_EPMD' -port $P -names | grep -q 'name alpha at port'" ||
    fail "alpha did not register: $("$EDIST_EPMD" -port "$P" -names)"
ok "alpha registered"

out=$(run_erl 30 "$P" beta "$COOKIE" '
    A = list_to_atom("alpha@127.0.0.1"),
    Pong = net_adm:ping(A),
    {ok, Names} = net_adm:names(),
    Remote = rpc:call(A, erlang, node, []),
    Back = rpc:call(A, net_adm, ping, [node()]),
    Cr = erlang:system_info(creation),
    io:format("~p ~p ~p ~p ~p~n", [Pong, lists:sort([N || {N, _} <- Names]),
                                 Remote, Back, Cr]),
    halt().') || fail "beta failed: $out"
echo "$out"
set -- $out
[ "$1" = pong ] || fail "beta could not ping alpha: $out"
[ "$2" = '["alpha","beta"]' ] || fail "net_adm:names: $2"
[ "$3" = "'alpha@127.0.0.1'" ] || fail "rpc to alpha: $3"
[ "$4" = pong ] || fail "alpha could not ping beta back: $4"
now=$(date +%s)
[ "$5" -gt $((now - 120)) ] && [ "$5" -le $((now + 5)) ] ||
    fail "creation $5 is not edist-epmd's time-based one (now $now)"
ok "ping both ways, rpc, names, creation $5"

# beta has halted: its name must be gone at once; alpha's still there.
wait_for 5 sh -c "! '$EDIST_EPMD' -port $P -names | grep -q 'name beta '" ||
    fail "beta still registered after it stopped"
"$EDIST_EPMD" -port "$P" -names | grep -q "name alpha " || fail "alpha lost"
kill "$APID"
wait_for 5 sh -c "! '$EDIST_EPMD' -port $P -names | grep -q 'name alpha '" ||
    fail "alpha still registered after it was killed"
ok "registrations end with their connections"

# A node that comes back under the same name gets creation + 1.
c1=$(run_erl 20 "$P" gamma "$COOKIE" \
    'io:format("~p~n", [erlang:system_info(creation)]), halt().')
c2=$(run_erl 20 "$P" gamma "$COOKIE" \
    'io:format("~p~n", [erlang:system_info(creation)]), halt().')
[ "$c2" = $((c1 + 1)) ] || fail "re-registration creation: $c1 then $c2"
ok "re-registration bumps the creation ($c1 -> $c2)"
check_edist_exit "$EPID" "$P"
