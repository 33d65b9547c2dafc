#!/usr/bin/env bash
# IPv6: `edist node --ipv6` (opts.ipv6) listens on IPv6, so a BEAM started
# with `-proto_dist inet6_tcp` (which dials IPv6 only) reaches it on ::1:
# ping, a message to the echo process and its answer, and the other way
# (edist dials the BEAM at ::1, resolved from its node name).  Skipped (77)
# only when the machine has no IPv6 loopback address, except with CI=true,
# where that is a failure.
. "$(dirname "$0")/lib.sh"
need_otp
if ! grep -qs '^00000000000000000000000000000001 ' /proc/net/if_inet6; then
    [ "${CI:-}" = true ] && fail "no IPv6 loopback (::1) on this machine"
    echo "SKIP: no IPv6 loopback (::1) on this machine"
    exit 77
fi
start_private_epmd
"$EDIST_CLI" node --name d6@::1 --ipv6 --cookie secret \
    >"$LIB_TMP/d6.log" 2>&1 &
track $!
wait_for 10 grep -qs "listening on port" "$LIB_TMP/d6.log" ||
    fail "edist node --ipv6 did not start: $(cat "$LIB_TMP/d6.log")"

# BEAM -> edist over IPv6, then edist -> BEAM (the BEAM stays up for it).
ERL_EPMD_PORT=$EP "$OTP_ERL" -noshell -name e6@::1 -proto_dist inet6_tcp \
    -setcookie secret -eval "$(erl_pidfile e6)"'
  D = list_to_atom("d6@::1"),
  pong = net_adm:ping(D),
  {echo, D} ! {self(), over_ipv6},
  receive over_ipv6 -> io:format("ECHO~n") after 5000 -> halt(3) end,
  register(inbox, self()),
  receive M -> io:format("GOT ~p~n", [M]) after 20000 -> halt(4) end,
  halt().' >"$LIB_TMP/e6.log" 2>&1 &
track $!
wait_for 15 grep -q ECHO "$LIB_TMP/e6.log" ||
    fail "BEAM (inet6_tcp) -> edist: $(cat "$LIB_TMP/e6.log")"
ok "BEAM with -proto_dist inet6_tcp pings and messages edist --ipv6 on ::1"

out=$(timeout 20 "$EDIST_CLI" send --name s6@::1 --cookie secret \
    e6@::1 inbox '{from_edist, 6}' 2>&1) || fail "edist send over IPv6: $out"
wait_for 10 grep -q "GOT {from_edist,6}" "$LIB_TMP/e6.log" ||
    fail "edist -> BEAM over IPv6: $(cat "$LIB_TMP/e6.log")"
ok "edist dials a BEAM listening on IPv6 only"
