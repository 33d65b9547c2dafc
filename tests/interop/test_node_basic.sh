#!/usr/bin/env bash
# Node runtime against real erl: ping both ways, messages of every kind both
# ways (to pids and registered names), visible by default (nodes(), and
# global:sync() returns), wrong cookie
# refused both ways with the right reason, unknown names explained, and the
# cookie never on the wire.
. "$(dirname "$0")/lib.sh"
need_otp
start_private_epmd
C1=c1@127.0.0.1

# An edist node serving echo.
start_edist_node c1 secret

# BEAM -> edist: ping (c1 is a visible node taking part in global), then
# every kind of term through echo (to a registered name; the reply comes
# back to a BEAM pid).
out=$(run_erl 30 "$EP" b1 secret '
  C1 = list_to_atom("c1@127.0.0.1"),
  pong = net_adm:ping(C1),
  true = lists:member(C1, nodes()),
  false = lists:member(C1, nodes(hidden)),
  ok = global:sync(),
  Big = list_to_binary(lists:duplicate(100000, $x)),
  Terms = [hello, 42, -5, 255, 256, -2147483648, 2147483648, 1 bsl 70,
           -(1 bsl 200), 3.14, -0.0, 1.0e300, <<>>, <<"bin">>, <<1:3>>, Big,
           "string", [1,2|3], [a, "b", <<"c">>], {a,{b,c}}, #{k => v, 1 => [2]},
           self(), make_ref(), hd(erlang:ports()), fun lists:map/2,
           fun(X) -> X end, [], {}, '\''quoted atom'\'', '\''åäö'\'',
           list_to_atom([16#1F600]), [16#1F600, 16#e9]],
  lists:foreach(fun(T) ->
      {echo, C1} ! {self(), T},
      receive T -> ok
      after 5000 -> io:format("MISSING ~p~n", [T]), halt(1)
      end end, Terms),
  io:format("echoed ~p~n", [length(Terms)]),
  halt(0).') || fail "BEAM -> edist echo failed: $out"
echo "$out" | grep -q "echoed 32" || fail "unexpected: $out"
ok "BEAM pings edist, every kind of term echoed"

# edist -> BEAM: ping, and `edist send` to a registered BEAM process; the
# BEAM side checks the exact term.
start_erl "$EP" b2 secret '
  register(inbox, self()),
  receive {hello, <<"bin">>, #{k := [1,2|3]}, "str", 1180591620717411303424, 2.5} = T ->
    io:format("GOT ~w~n", [T]) after 20000 -> io:format("TIMEOUT~n") end,
  halt(0).' >/dev/null
wait_registered b2
sleep 0.5
[ "$("$EDIST_CLI" ping --cookie secret b2@127.0.0.1)" = pong ] ||
    fail "edist ping b2 was not pong"
"$EDIST_CLI" send --cookie secret b2@127.0.0.1 inbox \
    '{hello, <<"bin">>, #{k => [1,2|3]}, "str", 1180591620717411303424, 2.5}' ||
    fail "edist send failed"
wait_for 10 grep -q "GOT" "$LIB_TMP/erl-b2.log" || fail "b2 got nothing: $(cat "$LIB_TMP/erl-b2.log")"
ok "edist pings BEAM and sends to a registered name"

# Wrong cookie, edist -> BEAM: pang, and -v says why.
start_erl "$EP" b3 secret 'receive stop -> ok end.' >/dev/null
wait_registered b3
res=$("$EDIST_CLI" ping -v --cookie wrong b3@127.0.0.1 2>"$LIB_TMP/why")
rc=$?
[ "$res" = pang ] && [ $rc -eq 1 ] || fail "wrong cookie: got '$res' rc $rc"
grep -q "cookie" "$LIB_TMP/why" || fail "no cookie reason: $(cat "$LIB_TMP/why")"
ok "wrong cookie edist -> BEAM: pang ($(cat "$LIB_TMP/why"))"

# Wrong cookie, BEAM -> edist: pang on the BEAM side.
out=$(run_erl 20 "$EP" b4 wrong '
  io:format("~p~n", [net_adm:ping(list_to_atom("c1@127.0.0.1"))]), halt(0).')
[ "$out" = pang ] || fail "BEAM with a wrong cookie got '$out'"
ok "wrong cookie BEAM -> edist: pang"

# An unknown name and a host without EPMD are explained.
"$EDIST_CLI" ping -v --cookie secret nosuch@127.0.0.1 2>"$LIB_TMP/why" >/dev/null
grep -q "not registered" "$LIB_TMP/why" || fail "unknown name: $(cat "$LIB_TMP/why")"
NP=$(free_port)
"$EDIST_CLI" ping -v --cookie secret --epmd-port "$NP" --no-epmd-start \
    x@127.0.0.1 2>"$LIB_TMP/why" >/dev/null
grep -qi "epmd" "$LIB_TMP/why" || fail "no EPMD: $(cat "$LIB_TMP/why")"
ok "unknown names and missing EPMD explained"

# The cookie never crosses the wire: record every byte the CLI's node
# sends and receives during a ping and look for it.
COOKIE=Zq7CookieNeverOnTheWire
start_erl "$EP" b5 "$COOKIE" 'receive stop -> ok end.' >/dev/null
wait_registered b5
command -v strace >/dev/null || fail "strace is required: run scripts/bootstrap"
# LeakSanitizer cannot run under ptrace.
ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=read,write,readv,writev,sendto,recvfrom,sendmsg,recvmsg \
    -e signal=none -yy -xx -s 100000 -o "$LIB_TMP/trace" \
    "$EDIST_CLI" ping --cookie "$COOKIE" b5@127.0.0.1 >"$LIB_TMP/pong" ||
    fail "traced ping failed"
[ "$(cat "$LIB_TMP/pong")" = pong ] || fail "traced ping: $(cat "$LIB_TMP/pong")"
hex=$(printf '%s' "$COOKIE" | od -An -tx1 | tr -d ' \n' | sed 's/\(..\)/\\\\x\1/g')
# Only socket traffic counts (-yy names TCP fds); the command line that
# carries the cookie is read by the sanitizer runtime from /proc.
grep '<TCP' "$LIB_TMP/trace" >"$LIB_TMP/wire"
grep -q "$hex" "$LIB_TMP/wire" && fail "the cookie appears on the wire"
[ "$(wc -l <"$LIB_TMP/wire")" -gt 5 ] || fail "the trace recorded no socket I/O"
# Positive control: the peer's name, which the handshake does carry, is
# found by the same search.
peer=$(printf '%s' "b5@127.0.0.1" | od -An -tx1 | tr -d ' \n' | sed 's/\(..\)/\\\\x\1/g')
grep -q "$peer" "$LIB_TMP/wire" || fail "the trace does not show the handshake"
ok "the cookie never crosses the wire"
