#!/usr/bin/env bash
# bench/dist/run.sh: distribution benchmark, edist side by side with BEAM,
# libei (erl_interface) and raw TCP, in one run on 127.0.0.1 with a private
# EPMD port.  Not a test: it prints figures and ratios (see README.md).
#
#   cmake --preset release && cmake --build --preset release
#   bench/dist/run.sh
#
# Environment: SMALL, BIN100, BIN64K (messages per throughput run), RTT
# (round trips), CONNS (connects), REPS (runs per pair, best kept), ONLY
# (pairs to run), EDIST_BUILD (default build/release).
# Every process is started here, tracked by pid and stopped at exit.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../bench_env.sh"

SMALL=${SMALL:-500000}
BIN100=${BIN100:-500000}
BIN64K=${BIN64K:-5000}
RTT=${RTT:-20000}
CONNS=${CONNS:-200}
LIMIT=${LIMIT:-300}
# The machine may be shared: every client runs REPS times (in rounds, see
# run_plan) and the table keeps the best figure of each (highest rate,
# lowest latency).
REPS=${REPS:-3}
# ONLY: the pairs to run (default: all).
ONLY=${ONLY:-beam_beam ei_ei edist_edist edist_beam beam_edist tcp hop}
BIN=$EDIST_BUILD/bench/dist
for b in edist_bench tcp_bench; do
    [ -x "$BIN/$b" ] || fail "$BIN/$b not built: cmake --preset release && cmake --build --preset release"
done
if [ ! -x "$BIN/ei_bench" ]; then
    echo "warning: ei_bench not built (erlang-dev's libei missing): no ei_ei pair" >&2
    ONLY=${ONLY//ei_ei/}
fi
COOKIE=benchcookie
OUT=$LIB_TMP/results
: >"$OUT"

EPMD_PORT=$(free_port)
start_otp_epmd "$EPMD_PORT"
export ERL_EPMD_PORT=$EPMD_PORT
export ERL_CRASH_DUMP=$LIB_TMP/erl_crash.dump
erlc -o "$LIB_TMP" "$HERE/bench_beam.erl" || fail "erlc failed"

# wait_ready LOG PID: waits for READY in LOG while PID lives.
wait_ready() {
    local deadline=$((SECONDS + 20))
    until grep -q READY "$1" 2>/dev/null; do
        kill -0 "$2" 2>/dev/null || fail "server died ($1): $(cat "$1")"
        [ $SECONDS -lt $deadline ] || fail "server not ready: $(cat "$1")"
        sleep 0.05
    done
}

rss_kb() {
    awk '/^VmRSS/ {print $2}' "/proc/$1/status"
}

# ---- servers
erl -noshell -hidden -name bs@127.0.0.1 -setcookie $COOKIE -pa "$LIB_TMP" \
    -eval 'spawn(fun() -> bench_beam:server() end), timer:sleep(200), io:format("READY~n").' \
    >"$LIB_TMP/bs.log" 2>&1 &
BS=$!
track $BS
ES=
if [ -x "$BIN/ei_bench" ]; then
    "$BIN/ei_bench" server es $COOKIE >"$LIB_TMP/es.log" 2>&1 &
    ES=$!
    track $ES
fi
"$BIN/edist_bench" server ds@127.0.0.1 $COOKIE "$EPMD_PORT" \
    >"$LIB_TMP/ds.log" 2>&1 &
DS=$!
track $DS
TCP_PORT=$(free_port)
"$BIN/tcp_bench" server "$TCP_PORT" >"$LIB_TMP/ts.log" 2>&1 &
TS=$!
track $TS
wait_ready "$LIB_TMP/bs.log" $BS
[ -z "$ES" ] || wait_ready "$LIB_TMP/es.log" $ES
wait_ready "$LIB_TMP/ds.log" $DS
wait_ready "$LIB_TMP/ts.log" $TS
sleep 1
echo "RESULT beam.rss_kb $(rss_kb $BS)" >>"$OUT"
[ -z "$ES" ] || echo "RESULT ei.rss_kb $(rss_kb $ES)" >>"$OUT"
echo "RESULT edist.rss_kb $(rss_kb $DS)" >>"$OUT"

COUNTS="$SMALL $BIN100 $BIN64K $RTT $CONNS"

# client NAME CMD...: adds a client run to the plan (if NAME is in ONLY).
# The plan runs REPS rounds of every client, each round in the reverse order
# of the one before (ABBA), rather than REPS runs of one client after
# another: the VM's speed drifts over minutes, and pairs compared in a ratio
# (BEAM->BEAM and BEAM->edist, run ten minutes apart before) must share its
# slow and fast periods.
PLAN_NAMES=()
PLAN_CMDS=()
client() {
    local name=$1
    shift
    case " $ONLY " in *" $name "*) ;; *) return 0 ;; esac
    PLAN_NAMES+=("$name")
    PLAN_CMDS+=("$(printf '%q ' "$@")")
}

# run_plan: every planned client, REPS rounds, each bounded in time; keeps
# their RESULT lines.
run_plan() {
    local round j k name n=${#PLAN_NAMES[@]}
    for round in $(seq 1 "$REPS"); do
        for j in $(seq 0 $((n - 1))); do
            k=$j
            [ $((round % 2)) -eq 0 ] && k=$((n - 1 - j))
            name=${PLAN_NAMES[$k]}
            echo "== $name ($round/$REPS)" >&2
            # In the background and tracked, so that an interrupted run
            # stops the client too.
            eval "timeout -k 5 $LIMIT ${PLAN_CMDS[$k]}" >"$LIB_TMP/$name.log" 2>&1 &
            local cpid=$!
            track $cpid
            wait $cpid ||
                echo "warning: $name failed: $(tail -3 "$LIB_TMP/$name.log")" >&2
            grep '^RESULT' "$LIB_TMP/$name.log" >>"$OUT"
        done
    done
}

beam_client() {
    local prefix=$1 name=$2 server=$3
    client "$prefix" erl -noshell -hidden -name "$name@127.0.0.1" \
        -setcookie $COOKIE -pa "$LIB_TMP" -run bench_beam client "$prefix" \
        "$server" $COUNTS
}

beam_client beam_beam bc bs@127.0.0.1
beam_client beam_edist bc2 ds@127.0.0.1
client ei_ei "$BIN/ei_bench" client ei_ei ec $COOKIE es@127.0.0.1 $COUNTS
client edist_edist "$BIN/edist_bench" client edist_edist dc@127.0.0.1 \
    $COOKIE "$EPMD_PORT" ds@127.0.0.1 $COUNTS
client edist_beam "$BIN/edist_bench" client edist_beam dc2@127.0.0.1 \
    $COOKIE "$EPMD_PORT" bs@127.0.0.1 $COUNTS
client tcp "$BIN/tcp_bench" client tcp "$TCP_PORT" $COUNTS
# What one thread hop (condition variable hand-off) costs here: edist's
# round trip has two more than raw TCP's (see README.md).
[ -x "$BIN/hop_bench" ] && client hop "$BIN/hop_bench" hop "$RTT"
run_plan

# ---- report
# get KEY: the best of the repetitions: the lowest latency (keys ending
# in p50/p99, connect times, RSS), otherwise the highest rate.
get() {
    awk -v k="$1" '$2 == k {
        v = $3 + 0
        low = (k ~ /(p50|p99|rss_kb)$/)
        if (!n++ || (low && v < best) || (!low && v > best)) best = v
    } END { if (n) printf "%.1f", best }' "$OUT"
}
ratio() {
    bench_ratio "$(get "$1")" "$(get "$2")"
}
# reps KEY: every repetition's value, sorted; med KEY: their median.
reps() {
    awk -v k="$1" '$2 == k { printf "%.1f\n", $3 }' "$OUT" | sort -n | paste -sd' '
}
med() {
    awk -v k="$1" '$2 == k { print $3 + 0 }' "$OUT" | sort -n |
        awk '{ v[NR] = $1 } END { if (NR) printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# floor: the fastest a connect can be here, whoever makes it: the EPMD
# lookup, a TCP connect and the handshake's two exchanges (raw round trips).
floor_us() {
    local l c r
    l=$(get edist_edist.lookup.p50) c=$(get tcp.connect.p50) r=$(get tcp.rtt.p50)
    [ -n "$l" ] && [ -n "$c" ] && [ -n "$r" ] &&
        awk -v l="$l" -v c="$c" -v r="$r" 'BEGIN { printf "%.1f", l + c + 2 * r }'
}
fmt() {
    local v
    v=$(get "$1")
    echo "${v:--}"
}

PAIRS="beam_beam ei_ei edist_edist edist_beam beam_edist tcp"
{
    echo "| pair | small msg/s | small MB/s | bin100 msg/s | bin100 MB/s | bin64k msg/s | bin64k MB/s | rtt p50 us | rtt p99 us | connect p50 us |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for p in $PAIRS; do
        echo "| $p | $(fmt $p.small.rate) | $(fmt $p.small.mbs) | $(fmt $p.bin100.rate) | $(fmt $p.bin100.mbs) | $(fmt $p.bin64k.rate) | $(fmt $p.bin64k.mbs) | $(fmt $p.rtt.p50) | $(fmt $p.rtt.p99) | $(fmt $p.connect.p50) |"
    done
    echo
    echo "| thread hop round trip (2 hops) | p50 $(fmt hop.hop2.p50) us | p99 $(fmt hop.hop2.p99) us |"
    echo "|---|---:|---:|"
    echo
    echo "| idle RSS (KiB) | BEAM $(fmt beam.rss_kb) | libei $(fmt ei.rss_kb) | edist $(fmt edist.rss_kb) |"
    echo "|---|---:|---:|---:|"
    echo
    echo "| connect floor (us) | EPMD lookup p50 | raw TCP connect p50 | 2 x raw TCP rtt p50 | floor | edist | libei |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    echo "| lowest of the repetitions | $(fmt edist_edist.lookup.p50) | $(fmt tcp.connect.p50) | $(awk -v r="$(get tcp.rtt.p50)" 'BEGIN { if (r != "") printf "%.1f", 2 * r; else print "-" }') | $(floor_us || echo -) | $(fmt edist_edist.connect.p50) | $(fmt ei_ei.connect.p50) |"
    echo
    # Every repetition of the keys whose ratios the machine's drift or a
    # bimodal peer can swing (BEAM->BEAM, see README.md).
    echo "| key | repetitions (sorted) | median |"
    echo "|---|---|---:|"
    for k in beam_beam.small.rate beam_edist.small.rate beam_beam.bin100.rate \
        beam_edist.bin100.rate edist_edist.rtt.p50 tcp.rtt.p50 \
        edist_edist.connect.p50 ei_ei.connect.p50; do
        echo "| $k | $(reps $k) | $(med $k) |"
    done
    echo
    echo "| ratio | value | target |"
    echo "|---|---:|---|"
    echo "| edist->edist / libei small msg/s | $(ratio edist_edist.small.rate ei_ei.small.rate) | >= 4 |"
    echo "| edist->edist / BEAM small msg/s | $(ratio edist_edist.small.rate beam_beam.small.rate) | >= 5 |"
    echo "| edist->edist / libei bin100 msg/s | $(ratio edist_edist.bin100.rate ei_ei.bin100.rate) | |"
    echo "| edist->edist / libei bin64k MB/s | $(ratio edist_edist.bin64k.mbs ei_ei.bin64k.mbs) | |"
    echo "| edist rtt p50 / raw TCP rtt p50 | $(ratio edist_edist.rtt.p50 tcp.rtt.p50) | <= 1.15 |"
    echo "| libei rtt p50 / raw TCP rtt p50 | $(ratio ei_ei.rtt.p50 tcp.rtt.p50) | |"
    echo "| edist->BEAM / BEAM->BEAM small msg/s | $(ratio edist_beam.small.rate beam_beam.small.rate) | >= 1 |"
    echo "| BEAM->edist / BEAM->BEAM small msg/s | $(ratio beam_edist.small.rate beam_beam.small.rate) | >= 1 |"
    echo "| edist->BEAM / BEAM->BEAM bin100 msg/s | $(ratio edist_beam.bin100.rate beam_beam.bin100.rate) | >= 1 |"
    echo "| BEAM->edist / BEAM->BEAM bin100 msg/s | $(ratio beam_edist.bin100.rate beam_beam.bin100.rate) | >= 1 |"
    echo "| edist->BEAM / BEAM->BEAM bin64k msg/s | $(ratio edist_beam.bin64k.rate beam_beam.bin64k.rate) | >= 1 |"
    echo "| BEAM->edist / BEAM->BEAM bin64k msg/s | $(ratio beam_edist.bin64k.rate beam_beam.bin64k.rate) | >= 1 |"
    echo "| edist->BEAM / BEAM->BEAM rtt p50 | $(ratio edist_beam.rtt.p50 beam_beam.rtt.p50) | <= 1 |"
    echo "| BEAM->edist / BEAM->BEAM rtt p50 | $(ratio beam_edist.rtt.p50 beam_beam.rtt.p50) | <= 1 |"
    echo "| edist connect p50 / libei connect p50 | $(ratio edist_edist.connect.p50 ei_ei.connect.p50) | edist < 150 us |"
    echo "| edist connect p50 / connect floor | $(bench_ratio "$(get edist_edist.connect.p50)" "$(floor_us)") | |"
    echo "| BEAM->edist / BEAM->BEAM small msg/s, medians | $(bench_ratio "$(med beam_edist.small.rate)" "$(med beam_beam.small.rate)") | |"
    echo "| BEAM->edist / BEAM->BEAM bin100 msg/s, medians | $(bench_ratio "$(med beam_edist.bin100.rate)" "$(med beam_beam.bin100.rate)") | |"
    echo "| edist idle RSS / 2048 KiB | $(awk -v a="$(fmt edist.rss_kb)" 'BEGIN{printf "%.2f", a/2048}') | < 1 |"
} | tee "${RESULTS:-/dev/null}"
