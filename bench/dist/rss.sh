#!/usr/bin/env bash
# bench/dist/rss.sh: resident memory of idle edist nodes, next to a libei C
# node and a BEAM node, in one run on 127.0.0.1 with a private EPMD port.
# Not a test: it prints figures (see README.md, "Memory").
#
#   cmake --preset release && cmake --build --preset release
#   bench/dist/rss.sh            # VERBOSE=1 adds the per-mapping table
#
# Each server (edist_bench server, `edist node`, ei_bench server) is measured
# idle and unconnected, then again after a hidden BEAM node connected to it
# (net_kernel:connect_node) and the connection stayed idle for a second.  Figures are
# from /proc/PID/smaps_rollup: Rss (what top shows, shared library pages
# included), Pss and Uss (Private_Clean + Private_Dirty: what one more node
# costs), in KiB.  Environment: EDIST_BUILD (default build/release).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../bench_env.sh"
BIN=$EDIST_BUILD/bench/dist
CLI=$EDIST_BUILD/cli/edist
[ -x "$BIN/edist_bench" ] || fail "$BIN/edist_bench not built"
COOKIE=rsscookie
EPMD_PORT=$(free_port)
start_otp_epmd "$EPMD_PORT"
export ERL_EPMD_PORT=$EPMD_PORT

# rollup PID: "Rss Pss Uss" in KiB.
rollup() {
    awk '/^Rss:/ {r=$2} /^Pss:/ {p=$2}
         /^Private_(Clean|Dirty):/ {u+=$2}
         END {print r, p, u}' "/proc/$1/smaps_rollup"
}

# mappings PID: Rss, Private_Dirty and Anonymous per mapping, biggest first.
mappings() {
    awk '/^[0-9a-f]+-[0-9a-f]+ / {name = NF >= 6 ? $6 : "[anon]"; sub(/.*\//, "", name)}
         /^Rss:/ {r[name] += $2} /^Private_Dirty:/ {d[name] += $2}
         /^Anonymous:/ {a[name] += $2}
         END {for (n in r) if (r[n]) printf "    %-28s %6d %6d %6d\n", n, r[n], d[n], a[n]}' \
        "/proc/$1/smaps" | sort -k2 -n -r
}

# wait_line FILE TEXT PID: waits (bounded) for TEXT in FILE while PID lives.
wait_line() {
    local deadline=$((SECONDS + 20))
    until grep -q "$2" "$1" 2>/dev/null; do
        kill -0 "$3" 2>/dev/null || fail "server died: $(cat "$1")"
        [ $SECONDS -lt $deadline ] || fail "server not ready: $(cat "$1")"
        sleep 0.05
    done
}

# report KIND STATE PID
report() {
    local r
    r=$(rollup "$3")
    printf '%-12s %-11s %s\n' "$1" "$2" "$r"
    echo "RESULT $1.$2 $r" >>"$LIB_TMP/results"
    if [ -n "${VERBOSE:-}" ]; then
        echo "    mapping                         Rss  PDirty  Anon"
        mappings "$3"
    fi
}

# connect NODE: a hidden BEAM node connects to NODE (the handshake only:
# a libei server answers no net_kernel calls) and stays connected; its pid
# is left in PEER.
connect() {
    local log=$LIB_TMP/peer-$RANDOM.log
    erl -noshell -hidden -name "p$RANDOM@127.0.0.1" -setcookie $COOKIE \
        -eval "true = net_kernel:connect_node('$1'), io:format(\"UP~n\"), timer:sleep(infinity)." \
        >"$log" 2>&1 &
    PEER=$!
    track $PEER
    wait_line "$log" UP $PEER
}

# measure KIND NODE PID LOG READY
measure() {
    wait_line "$4" "$5" "$3"
    sleep 1
    report "$1" idle "$3"
    connect "$2"
    sleep 1
    report "$1" connected "$3"
    kill "$PEER" "$3" 2>/dev/null
}

echo "kind         state       Rss Pss Uss (KiB)"
"$BIN/edist_bench" server ds@127.0.0.1 $COOKIE "$EPMD_PORT" \
    >"$LIB_TMP/ds.log" 2>&1 &
DS=$!
track $DS
measure edist_bench ds@127.0.0.1 $DS "$LIB_TMP/ds.log" READY

"$CLI" node --name en@127.0.0.1 --cookie $COOKIE --no-epmd-start \
    >"$LIB_TMP/en.log" 2>&1 &
EN=$!
track $EN
measure edist_node en@127.0.0.1 $EN "$LIB_TMP/en.log" "listening on port"

if [ -x "$BIN/ei_bench" ]; then
    "$BIN/ei_bench" server es $COOKIE >"$LIB_TMP/es.log" 2>&1 &
    ES=$!
    track $ES
    measure ei_bench es@127.0.0.1 $ES \
        "$LIB_TMP/es.log" READY
fi
