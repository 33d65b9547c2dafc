#!/usr/bin/env bash
# test_handshake.sh: the sans-IO handshake, framing and ticker (driven by
# hs_probe over blocking sockets) against a real OTP node, both directions:
#  1. probe -> erl completes; erl sees a hidden node; ticks keep it up for
#     more than two tick periods (net_ticktime 4 s); erl's REG_SEND of a
#     200 kB binary arrives in one piece;
#     a second connection from the same name replaces the first (alive);
#  2. a probe that stops writing is dropped by erl within the tick bounds;
#  3. a visible probe with DIST_HDR_ATOM_CACHE + FRAGMENTS decodes erl's
#     atom-cache headers (rex, global) and a fragmented 200 kB message;
#  4. wrong cookie probe -> erl, right reason on both sides;
#  5. wrong dialled name (short/long) and missing flags -> named reasons;
#     dynamic names (NAME_ME / named:) in both roles;
#  6. erl -> probe completes (connect_node true, nodes(hidden));
#  7. wrong cookie erl -> probe, and a flag the probe requires erl lacks;
#  8. none of the captured bytes contains the cookie.
. "$(dirname "$0")/lib.sh"
need_otp
PROBE=$EDIST_INTEROP_BIN/hs_probe
[ -x "$PROBE" ] || fail "hs_probe not built at $PROBE"

COOKIE=CookieSecret1234XYZ
TT=4 # net_ticktime (s): interval 1 s, erl drops a silent peer in 4-5 s
# free_port can pick a port inside the ephemeral range that a client socket
# holds without listening; epmd then fails to bind and exits 0 ("already
# running").  Retry on another port instead of failing the test.
EP=
for try in 1 2 3 4 5; do
    p=$(free_port)
    "$OTP_EPMD" -port "$p" >"$LIB_TMP/otp-epmd-$p.log" 2>&1 &
    track $!
    if wait_for 5 port_in_use "$p"; then
        EP=$p
        break
    fi
done
[ -n "$EP" ] || fail "OTP epmd did not start on any of 5 ports"

# An observer node: logs node up/down with type and reason, and sends a
# 200 kB binary to {sink, Node} on every nodeup.
OBS='ok = net_kernel:monitor_nodes(true, [{node_type, all}, nodedown_reason]),
io:format("READY~n"),
L = fun L() -> receive
  {nodeup, N, I} ->
    io:format("UP ~s ~p~n", [N, proplists:get_value(node_type, I)]),
    {sink, N} ! {big, binary:copy(<<7>>, 200000)}, L();
  {nodedown, N, I} ->
    io:format("DOWN ~s ~p~n", [N, proplists:get_value(nodedown_reason, I)]),
    L()
end end, L().'
start_erl "$EP" obs "$COOKIE" "$OBS" -kernel net_ticktime $TT >/dev/null
OBSLOG=$LIB_TMP/erl-obs.log
wait_for 20 grep -qs READY "$OBSLOG" || fail "observer node did not start"

probe() { timeout -k 2 40 "$PROBE" --cookie "$COOKIE" --epmd-port "$EP" \
    --ticktime $((TT * 1000)) "$@"; }
has() {
    grep -q -- "$2" "$1" && return 0
    echo "--- observer log:" >&2
    tail -n 20 "$OBSLOG" >&2
    fail "$3 (expected '$2' in $1: $(cat "$1"))"
}

# 1. probe -> erl, kept alive by ticks for 9 s (> 2 x 4 s).
probe --name p1@127.0.0.1 --hold 9 --capture "$LIB_TMP/cap1" \
    connect obs@127.0.0.1 >"$LIB_TMP/p1" 2>&1
has "$LIB_TMP/p1" "HANDSHAKE_OK peer=obs@127.0.0.1" "probe -> erl handshake"
has "$LIB_TMP/p1" "visible=0" "hidden connection"
has "$LIB_TMP/p1" "^HELD" "connection held for 9 s"
has "$OBSLOG" "UP p1@127.0.0.1 hidden" "erl sees the hidden probe"
rx=$(sed -n 's/^TICKS rx=\([0-9]*\).*/\1/p' "$LIB_TMP/p1")
[ "${rx:-0}" -ge 4 ] || fail "too few ticks from erl: $(cat "$LIB_TMP/p1")"
grep -q "MSG len=2000[0-9][0-9] versioned=1" "$LIB_TMP/p1" ||
    fail "200 kB pass-through message not received: $(cat "$LIB_TMP/p1")"
wait_for 5 grep -qs "DOWN p1@127.0.0.1 connection_closed" "$OBSLOG" ||
    fail "erl did not see the probe leave: $(cat "$OBSLOG")"
grep -q "DOWN p1@127.0.0.1 net_tick_timeout" "$OBSLOG" &&
    fail "erl timed out a ticking probe"
ok "probe -> erl: handshake, hidden, ticks kept it up 9 s (rx ticks $rx)"

# 1b. A second connection from the same name while the first is up: erl
#     answers "alive", the probe says "true", erl drops the old connection.
probe --name pa@127.0.0.1 --hold 8 connect obs@127.0.0.1 \
    >"$LIB_TMP/pa1" 2>&1 &
track $!
wait_for 10 grep -qs HANDSHAKE_OK "$LIB_TMP/pa1" || fail "first pa failed"
probe --name pa@127.0.0.1 --hold 2 connect obs@127.0.0.1 >"$LIB_TMP/pa2" 2>&1
has "$LIB_TMP/pa2" "ALIVE_ASKED" "erl answered alive"
has "$LIB_TMP/pa2" "HANDSHAKE_OK" "new incarnation accepted"
wait_for 10 grep -qs "PEER_CLOSED" "$LIB_TMP/pa1" ||
    fail "old connection not dropped: $(cat "$LIB_TMP/pa1")"
ok "alive: a new incarnation replaced the old connection"

# 2. A probe that goes silent after 2 s is dropped within the bounds:
#    ticktime <= silence < ticktime + interval (slack for scheduling).
probe --name p2@127.0.0.1 --hold 20 --silent-after 2 \
    connect obs@127.0.0.1 >"$LIB_TMP/p2" 2>&1
has "$LIB_TMP/p2" "PEER_CLOSED" "silent probe dropped"
ms=$(sed -n 's/.*since_write_ms=\([0-9]*\).*/\1/p' "$LIB_TMP/p2")
[ -n "$ms" ] && [ "$ms" -ge 3500 ] && [ "$ms" -le 6000 ] ||
    fail "silent probe dropped after ${ms:-?} ms, expected 4000-5000"
wait_for 5 grep -qs "DOWN p2@127.0.0.1 net_tick_timeout" "$OBSLOG" ||
    fail "erl did not report net_tick_timeout: $(cat "$OBSLOG")"
ok "silent probe dropped by erl after $ms ms of silence (net_tick_timeout)"

# 3. Visible, with distribution headers, atom cache and fragments.
probe --name p3@127.0.0.1 --hold 3 --visible --flags-add 802000 \
    --capture "$LIB_TMP/cap3" connect obs@127.0.0.1 >"$LIB_TMP/p3" 2>&1
has "$LIB_TMP/p3" "visible=1" "visible connection"
has "$LIB_TMP/p3" "atoms=obs@127.0.0.1,,rex,features_request" \
    "rex features_request with atom cache refs"
has "$LIB_TMP/p3" "global_name_server" "global init_connect atoms"
grep -q "MSG len=2000[0-9][0-9] versioned=0 frag=1" "$LIB_TMP/p3" ||
    fail "fragmented 200 kB message not reassembled: $(cat "$LIB_TMP/p3")"
has "$OBSLOG" "UP p3@127.0.0.1 visible" "erl sees a visible probe"
ok "visible probe: atom cache headers and fragments from erl decoded"

# 4. Wrong cookie, probe -> erl.
probe --name p4@127.0.0.1 --cookie WrongCookie connect obs@127.0.0.1 \
    >"$LIB_TMP/p4" 2>&1 && fail "wrong cookie accepted"
has "$LIB_TMP/p4" "code=ECOOKIE" "cookie mismatch reported"
has "$LIB_TMP/p4" "different cookies" "cookie mismatch reason"
wait_for 5 grep -qs "Invalid challenge reply" "$OBSLOG" ||
    fail "erl did not log the bad digest"
ok "wrong cookie probe -> erl: ECOOKIE"

# 5. Dialling a name that is not the node's exact name, and offering too
#    few flags (only the OTP 25 set without BIG_CREATION).
probe --name p5@127.0.0.1 connect obs@localhost >"$LIB_TMP/p5" 2>&1 &&
    fail "name mismatch accepted"
has "$LIB_TMP/p5" "code=ENAMEMISMATCH" "name mismatch reported"
probe --name p6@127.0.0.1 --flags 1030F94 connect obs@127.0.0.1 \
    >"$LIB_TMP/p6" 2>&1 && fail "missing flags accepted"
has "$LIB_TMP/p6" "code=ENOTALLOWED" "not_allowed reported"
wait_for 5 grep -qs "cannot handle" "$OBSLOG" || fail "erl did not refuse"
ok "name mismatch and missing flags refused with precise reasons"

# 5b. Dynamic names: the probe asks erl for a name, then names an erl node
#     started as undefined@127.0.0.1.
probe --name 127.0.0.1 --name-me --hold 1 connect obs@127.0.0.1 \
    >"$LIB_TMP/p7" 2>&1
grep -q "HANDSHAKE_OK peer=obs@127.0.0.1 .* me=[0-9A-Z]*@127.0.0.1 " \
    "$LIB_TMP/p7" || fail "named: status from erl: $(cat "$LIB_TMP/p7")"
probe --name dn@127.0.0.1 --hold 3 listen >"$LIB_TMP/dn" 2>&1 &
track $!
wait_for 10 grep -qs LISTENING "$LIB_TMP/dn" || fail "probe did not listen"
DYN='R = net_kernel:connect_node(list_to_atom("dn@127.0.0.1")),
io:format("CONNECT ~p ~s~n", [R, node()]), halt().'
ERL_EPMD_PORT=$EP timeout -k 2 30 "$OTP_ERL" -noshell \
    -name undefined@127.0.0.1 -setcookie "$COOKIE" -eval "$DYN" \
    >"$LIB_TMP/dyn" 2>&1
has "$LIB_TMP/dyn" "CONNECT true DYN[0-9A-F]*@127.0.0.1" "erl named by us"
wait_for 10 grep -qs TICKS "$LIB_TMP/dn" || fail "probe did not finish"
has "$LIB_TMP/dn" "HANDSHAKE_OK peer=DYN" "acceptor named: path"
ok "dynamic names: named: accepted from erl, and given to erl"

# 6. erl -> probe.
INI='Peer = list_to_atom("l1@127.0.0.1"),
R = net_kernel:connect_node(Peer),
io:format("CONNECT ~p ~p~n", [R, nodes(hidden)]),
timer:sleep(2500),
io:format("LATER ~p~n", [nodes(hidden)]), halt().'
probe --name l1@127.0.0.1 --hold 4 --capture "$LIB_TMP/cap6" listen \
    >"$LIB_TMP/l1" 2>&1 &
track $!
wait_for 10 grep -qs LISTENING "$LIB_TMP/l1" || fail "probe did not listen"
run_erl 30 "$EP" ini "$COOKIE" "$INI" -kernel net_ticktime $TT \
    >"$LIB_TMP/ini1" 2>&1
has "$LIB_TMP/ini1" "CONNECT true \['l1@127.0.0.1'\]" "erl connect_node"
has "$LIB_TMP/ini1" "LATER \['l1@127.0.0.1'\]" "connection stays up"
wait_for 10 grep -qs "TICKS" "$LIB_TMP/l1" || fail "probe did not finish"
has "$LIB_TMP/l1" "HANDSHAKE_OK peer=ini@127.0.0.1" "acceptor handshake"
ok "erl -> probe: connect_node true, nodes(hidden) shows the probe"

# 7. erl -> probe with the wrong cookie, then with a flag erl lacks.
INI2='R = net_kernel:connect_node(list_to_atom("l2@127.0.0.1")),
io:format("CONNECT ~p~n", [R]), halt().'
probe --name l2@127.0.0.1 --cookie WrongCookie listen >"$LIB_TMP/l2" 2>&1 &
track $!
wait_for 10 grep -qs LISTENING "$LIB_TMP/l2" || fail "probe did not listen"
run_erl 30 "$EP" ini2 "$COOKIE" "$INI2" >"$LIB_TMP/ini2" 2>&1
has "$LIB_TMP/ini2" "CONNECT false" "erl refused by the probe"
wait_for 10 grep -qs HANDSHAKE_FAILED "$LIB_TMP/l2" || fail "no failure"
has "$LIB_TMP/l2" "code=ECOOKIE" "acceptor reports cookie mismatch"
has "$LIB_TMP/l2" "invalid challenge reply" "acceptor reason"
# NAME_ME (bit 33) is never sent by a statically named node.
INI3=${INI2//l2@/l3@}
probe --name l3@127.0.0.1 --require 200000000 listen >"$LIB_TMP/l3" 2>&1 &
track $!
wait_for 10 grep -qs LISTENING "$LIB_TMP/l3" || fail "probe did not listen"
run_erl 30 "$EP" ini3 "$COOKIE" "$INI3" >"$LIB_TMP/ini3" 2>&1
has "$LIB_TMP/ini3" "CONNECT false" "erl refused for flags"
wait_for 10 grep -qs HANDSHAKE_FAILED "$LIB_TMP/l3" || fail "no failure"
has "$LIB_TMP/l3" "code=EFLAGS" "missing flag reported"
has "$LIB_TMP/l3" "missing=\[NAME_ME\]" "missing flag named"
ok "erl -> probe: wrong cookie (ECOOKIE) and missing flag (EFLAGS) refused"

# 8. The cookie never crosses the wire (while the captures do hold the
#    handshakes: the names are there).
for c in cap1 cap3 cap6; do
    [ -s "$LIB_TMP/$c" ] || fail "capture $c is empty"
    grep -aq "obs@127.0.0.1\|ini@127.0.0.1" "$LIB_TMP/$c" ||
        fail "capture $c lacks the handshake"
    grep -aq "$COOKIE" "$LIB_TMP/$c" && fail "cookie found in capture $c"
done
ok "captures of $(cat "$LIB_TMP"/cap* | wc -c) bytes never contain the cookie"
echo "PASS test_handshake"
