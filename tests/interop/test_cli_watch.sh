#!/usr/bin/env bash
# `edist watch` and `edist nodes` against real erl and `edist node`s:
# the line format, node types and nodedown reasons, --count/--timeout and
# signals; nodes() of BEAM and edist nodes (lines, --erlang, WHICH), and
# the failures (unknown node, wrong cookie, bad WHICH).
. "$(dirname "$0")/lib.sh"
need_otp
start_private_epmd
CK=watchck
B1=b1@127.0.0.1
E1=e1@127.0.0.1
H1=h1@127.0.0.1
STAMP='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'

# A BEAM node that stays up, and two edist nodes: e1 visible, h1 hidden.
track "$(start_erl "$EP" b1 $CK 'ok.')"
wait_registered b1 20
start_edist_node e1 $CK --visible
E1_PID=$EDIST_NODE_PID
start_edist_node h1 $CK --hidden --connect "$B1"

watch() {
    timeout -k 2 30 "$EDIST_CLI" watch --cookie $CK "$@"
}

# --- nodeup lines: format, order, types.
# TZ 9 hours east of UTC (a POSIX rule, no tzdata needed): the stamps
# must still be UTC.
out=$(TZ=XYZ-9 watch --name w1@127.0.0.1 --visible --count 3 --timeout 20 \
    "$B1" "$E1" "$H1") || fail "watch --count 3: $out"
[ "$(echo "$out" | wc -l)" = 3 ] || fail "watch printed: $out"
echo "$out" | grep -Eq "^$STAMP nodeup $B1 visible\$" || fail "no b1 line: $out"
echo "$out" | grep -Eq "^$STAMP nodeup $E1 visible\$" || fail "no e1 line: $out"
echo "$out" | grep -Eq "^$STAMP nodeup $H1 hidden\$" || fail "no h1 line: $out"
ok "nodeup lines for a BEAM node, a visible and a hidden edist node"

# The timestamp is UTC, now (within a minute).
ts=$(echo "$out" | head -1 | cut -c1-19)
now=$(date -u +%s)
then=$(date -u -d "${ts}Z" +%s) || fail "bad timestamp $ts"
[ $((now - then)) -ge 0 ] && [ $((now - then)) -lt 60 ] ||
    fail "timestamp $ts is not UTC now ($(date -u))"
ok "timestamps are UTC"

# --- nodedown with its reason: e1 killed while watched (by a hidden
# watcher, which the mesh does not connect to e1's other peers).
# watch_bg NAME NODE [ARGS...]: `edist watch` as NAME@127.0.0.1 in the
# background, logging to $LIB_TMP/NAME.log, its pid in WATCH_PID; returns
# once it has seen NODE up.
watch_bg() {
    local name=$1 node=$2
    shift 2
    "$EDIST_CLI" watch --cookie $CK --name "$name@127.0.0.1" "$@" "$node" \
        >"$LIB_TMP/$name.log" 2>&1 &
    WATCH_PID=$!
    track $WATCH_PID
    wait_for 10 grep -q "nodeup $node" "$LIB_TMP/$name.log" ||
        fail "$name: $(cat "$LIB_TMP/$name.log")"
}

watch_bg w2 "$E1" --hidden --count 2 --timeout 20
W2=$WATCH_PID
kill -KILL "$E1_PID"
wait $W2 || fail "watch exited $?: $(cat "$LIB_TMP/w2.log")"
grep -Eq "^$STAMP nodedown $E1 connection_closed\$" "$LIB_TMP/w2.log" ||
    fail "no nodedown line: $(cat "$LIB_TMP/w2.log")"
ok "nodedown with reason connection_closed after SIGKILL"

# A BEAM node that disconnects the watcher: reason disconnect is BEAM's
# view; ours is that the connection closed.
watch_bg w3 "$B1" --hidden --count 2 --timeout 20
W3=$WATCH_PID
out=$(run_erl 20 "$EP" x1 $CK '
  true = rpc:call(list_to_atom("b1@127.0.0.1"), erlang, disconnect_node,
                  [list_to_atom("w3@127.0.0.1")]), halt(0).' -hidden) ||
    fail "disconnect_node: $out"
wait $W3 || fail "watch exited $?: $(cat "$LIB_TMP/w3.log")"
grep -Eq "^$STAMP nodedown $B1 [a-z_]+\$" "$LIB_TMP/w3.log" ||
    fail "no nodedown line: $(cat "$LIB_TMP/w3.log")"
ok "nodedown when BEAM disconnects: $(tail -1 "$LIB_TMP/w3.log" | cut -d' ' -f2-)"

# --- --timeout alone: exit 0; --count not reached: exit 1; SIGTERM: 0.
start=$SECONDS
watch --name w4@127.0.0.1 --timeout 1 >/dev/null || fail "--timeout alone: exit $?"
[ $((SECONDS - start)) -lt 10 ] || fail "--timeout 1 took $((SECONDS - start)) s"
out=$(watch --name w5@127.0.0.1 --timeout 1 --count 5 "$H1" 2>&1)
[ $? -eq 1 ] || fail "--count not reached should exit 1: $out"
echo "$out" | grep -q "timeout: 1 of 5 events" || fail "no timeout message: $out"
watch_bg w6 "$H1"
W6=$WATCH_PID
kill -TERM $W6
wait $W6 || fail "SIGTERM: exit $?"
kill -0 $W6 2>/dev/null && fail "watch still running after SIGTERM"
"$EDIST_CLI" names | grep -q "name w6 " && fail "w6 still registered"
ok "--timeout, --count not reached (exit 1), SIGTERM (exit 0, unregistered)"

# --- usage and connection failures.
watch --bogus >/dev/null 2>&1
[ $? -eq 2 ] || fail "watch --bogus should exit 2"
watch --name w7@127.0.0.1 nosuch@127.0.0.1 >/dev/null 2>&1
[ $? -ne 0 ] || fail "watch of an unknown node should fail"
ok "watch: usage error 2, unknown node non-zero"

# --- edist nodes against BEAM and edist.
start_edist_node e2 $CK --visible --connect "$B1"
E2=e2@127.0.0.1
wait_for 10 grep -q "nodeup $B1" "$LIB_TMP/e2.log" || fail "e2 did not connect"
nodes() { timeout -k 2 20 "$EDIST_CLI" nodes --cookie $CK "$@"; }
out=$(nodes "$B1") || fail "nodes b1: $out"
echo "$out" | grep -qx "$E2" || fail "b1's nodes() lacks e2: $out"
out=$(nodes "$B1" hidden) || fail "nodes b1 hidden: $out"
echo "$out" | grep -qx "$H1" || fail "b1's nodes(hidden) lacks h1: $out"
echo "$out" | grep -qx "$E2" && fail "b1's nodes(hidden) has e2: $out"
out=$(nodes --erlang "$B1" known) || fail "nodes --erlang b1 known: $out"
echo "$out" | grep -q "^\[.*'$B1'.*\]\$" || fail "--erlang known: $out"
out=$(nodes "$E2") || fail "nodes e2: $out"
[ "$out" = "$B1" ] || fail "e2's nodes() is '$out'"
out=$(nodes --erlang "$E2" connected) || fail "nodes --erlang e2 connected: $out"
echo "$out" | grep -q "'$B1'" || fail "e2's nodes(connected): $out"
ok "edist nodes of BEAM and edist nodes: lines, --erlang, visible/hidden/known/connected"

# Cross-check with BEAM's own answer.
out=$(run_erl 20 "$EP" x2 $CK '
  L = rpc:call(list_to_atom("b1@127.0.0.1"), erlang, nodes, []),
  io:format("~s~n", [string:join([atom_to_list(N) || N <- L], " ")]),
  halt(0).' -hidden) || fail "rpc from BEAM: $out"
[ "$(echo "$out" | tr ' ' '\n' | sort)" = "$(nodes "$B1" | sort)" ] ||
    fail "edist nodes b1 differs from BEAM's rpc: $out"
ok "edist nodes agrees with BEAM's own rpc:call(B, erlang, nodes, [])"

nodes "$B1" bogus >/dev/null 2>&1
[ $? -eq 2 ] || fail "nodes with a bad WHICH should exit 2"
out=$(nodes nosuch@127.0.0.1 2>&1)
rc=$?
[ $rc -eq 1 ] || [ $rc -eq 3 ] || fail "nodes of an unknown node: exit $rc: $out"
echo "$out" | grep -q "not registered" || fail "no clear message: $out"
out=$("$EDIST_CLI" nodes --cookie wrong "$B1" 2>&1) && fail "wrong cookie succeeded: $out"
echo "$out" | grep -qi "cookie" || fail "no cookie message: $out"
ok "edist nodes: bad WHICH (2), unknown node, wrong cookie: clear errors"

# --- through the mesh: a watcher connected to one node reports the nodes
# it is connected to by the cluster (e2 and b1 are meshed): through a BEAM
# node and through an edist node.
k=0
for via in "$B1" "$E2"; do
    k=$((k + 1))
    out=$(watch --name wm$k@127.0.0.1 --count 2 --timeout 20 "$via") ||
        fail "watch through $via: $out"
    echo "$out" | grep -Eq "^$STAMP nodeup $B1 visible\$" || fail "via $via: $out"
    echo "$out" | grep -Eq "^$STAMP nodeup $E2 visible\$" || fail "via $via: $out"
done
ok "watch reports the nodes it meets through the mesh (via BEAM, via edist)"
