#!/usr/bin/env bash
# bench/epmd/run.sh: OTP's epmd and edist-epmd side by side, same machine,
# same run, same load generator (epmd_load).  Not a test.
#
#   bench/epmd/run.sh [SECONDS]      (default 3 s per measurement)
#
# Measures PORT_PLEASE2 and NAMES requests/s with p50/p99 latency at 50 and
# 1000 registrations with 1 and 200 concurrent clients (one request per
# connection, as real clients do), the daemon's CPU time per request,
# registration capacity, and RSS; prints a Markdown table with edist/OTP
# ratios.  Builds the release preset first.
set -eu
cd "$(dirname "$0")/../.."
SECS=${1:-3}
cmake --preset release >/dev/null
cmake --build --preset release -j 2 >/dev/null
# The interop tests' helpers: free private ports, every process tracked
# by pid and stopped at exit, temporary files in $LIB_TMP.
export EDIST_BUILD=$PWD/build/release
. tests/interop/lib.sh
LOAD=$EDIST_BUILD/bench/epmd/epmd_load
EDIST=$EDIST_EPMD
OTP=$OTP_EPMD
[ -x "$LOAD" ] && [ -x "$EDIST" ] && [ -x "$OTP" ] || fail "missing binaries"
TMP=$LIB_TMP

# start NAME BIN PORT: a daemon in the foreground (we own its pid).
start() {
    "$2" -port "$3" >/dev/null 2>&1 &
    track $!
    eval "PID_$1=$!"
    wait_port "$3"
}

# hold PORT N: keeps N registrations open until the holder's stdin closes.
hold() {
    local fifo=$TMP/hold.$1.$2
    mkfifo "$fifo"
    "$LOAD" "$1" hold "$2" n <"$fifo" >"$TMP/held.$1" &
    track $!
    exec {HOLDFD}>"$fifo"
    for _ in $(seq 600); do grep -q held "$TMP/held.$1" 2>/dev/null && break; sleep 0.05; done
}
release() {
    exec {HOLDFD}>&-
    sleep 0.5
}
rss() { awk '/VmRSS/ {print $2}' /proc/"$1"/status; }
# ticks PID: CPU time (user + system) the daemon has used, in clock ticks.
ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
HZ=$(getconf CLK_TCK)

# measure PORT PID ARGS...: one cell; appends the daemon's CPU time per
# request (µs) to the generator's output as cpu_us=N.
measure() {
    local port=$1 pid=$2 t0 t1 out n
    shift 2
    t0=$(ticks "$pid")
    out=$("$LOAD" "$port" rate "$@")
    t1=$(ticks "$pid")
    n=$(sed 's/requests=\([0-9]*\).*/\1/' <<<"$out")
    echo "$out cpu_us=$(( n > 0 ? (t1 - t0) * 1000000 / HZ / n : 0 ))"
}

PO=$(free_port)
start otp "$OTP" "$PO"
PE=$(free_port)
start edist "$EDIST" "$PE"
results=$TMP/results
: >"$results"
for names in 50 1000; do
    hold "$PO" "$names"
    ho=$(cat "$TMP/held.$PO")
    OH=$HOLDFD
    hold "$PE" "$names"
    he=$(cat "$TMP/held.$PE")
    EH=$HOLDFD
    echo "rss $names $(rss "$PID_otp") $(rss "$PID_edist") ($ho / $he)" >>"$results"
    for req in port names; do
        for clients in 1 200; do
            o=$(measure "$PO" "$PID_otp" "$req" "$clients" "$SECS" "$names" n)
            e=$(measure "$PE" "$PID_edist" "$req" "$clients" "$SECS" "$names" n)
            echo "$req $names $clients | $o | $e" >>"$results"
            echo "$req names=$names clients=$clients: OTP $o / edist $e" >&2
        done
    done
    HOLDFD=$OH release
    HOLDFD=$EH release
done

# Capacity: register until the daemon refuses (or 25,000).
cap() {
    local fifo=$TMP/cap.$1
    mkfifo "$fifo"
    "$LOAD" "$1" hold 25000 cap <"$fifo" >"$TMP/cap.out.$1" &
    track $!
    exec {CF}>"$fifo"
    for _ in $(seq 1200); do grep -q held "$TMP/cap.out.$1" 2>/dev/null && break; sleep 0.05; done
    awk '{print $2}' "$TMP/cap.out.$1"
    exec {CF}>&-
}
co=$(cap "$PO")
ce=$(cap "$PE")
echo "capacity $co $ce" >>"$results"

# The report.
field() { sed -n "s/.*$2=\([0-9]*\).*/\1/p" <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'; }
echo
echo "| request | names | clients | OTP req/s | OTP p50/p99 µs | OTP CPU µs/req | edist req/s | edist p50/p99 µs | edist CPU µs/req | edist/OTP req/s |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
grep -E '^(port|names) ' "$results" | while IFS='|' read -r key o e; do
    set -- $key
    req=$1 n=$2 c=$3
    [ "$req" = port ] && req=PORT_PLEASE2 || req=NAMES
    orps=$(field "$o" rps) erps=$(field "$e" rps)
    echo "| $req | $n | $c | $orps | $(field "$o" p50_us)/$(field "$o" p99_us) | $(field "$o" cpu_us) | $erps | $(field "$e" p50_us)/$(field "$e" p99_us) | $(field "$e" cpu_us) | $(ratio "$erps" "$orps") |"
done
echo
echo "| | OTP epmd | edist-epmd |"
echo "|---|---:|---:|"
grep '^rss' "$results" | while read -r _ n o e rest; do
    echo "| RSS with $n registrations (kB) | $o | $e |"
done
set -- $(grep '^capacity' "$results")
echo "| registrations held (capacity) | $2 | $3 |"
echo
echo "machine: $(nproc) cores, $(uname -r), descriptor limit $(ulimit -Hn); $SECS s per cell"
