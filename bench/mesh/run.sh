#!/usr/bin/env bash
# bench/mesh/run.sh: how fast clusters mesh, how fast a dead node is seen,
# and what an idle node costs; BEAM nodes and `edist node`s side by side
# in one run on 127.0.0.1 with a private EPMD port.  Not a test: it prints
# tables and ratios (method and figures in README.md).
#
#   cmake --preset release && cmake --build --preset release
#   bench/mesh/run.sh
#
# Environment: NS (cluster sizes, default "5 10 20"), BIG (the edist-only
# extra size, default 50; empty to skip), KINDS (default "beam edist
# mixed"), MODES (how the chain's links are asked for: "parallel", all at
# once, and/or "serial", one after the other; default both), REPS (runs per size and kind,
# median kept; default 3), DOWN_REPS (runs per nodedown case, default 3),
# IDLE (idle nodes of each kind for RSS, default 5), EDIST_BUILD (default
# build/release), RESULTS (a file that also gets the tables).
# Every process is started here, tracked by pid and stopped at exit.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../bench_env.sh"

NS=${NS:-5 10 20}
BIG=${BIG-50}
REPS=${REPS:-3}
KINDS=${KINDS:-beam edist mixed}
MODES=${MODES:-parallel serial}
DOWN_REPS=${DOWN_REPS:-3}
IDLE=${IDLE:-5}
CLI=$EDIST_BUILD/cli/edist
[ -x "$CLI" ] || fail "$CLI not built: cmake --preset release && cmake --build --preset release"
COOKIE=meshbench
OUT=$LIB_TMP/results
: >"$OUT"
start_private_epmd
export ERL_CRASH_DUMP=$LIB_TMP/erl_crash.dump
erlc -o "$LIB_TMP" "$HERE/mesh_bench.erl" || fail "erlc failed"

# ---- nodes of a run: started, recorded, stopped by pid.
RUN_PIDS=()
RUN_NAMES=()
declare -A PID_OF  # node name -> pid to signal / read RSS from
declare -A IS_BEAM # node name -> 1 for BEAM nodes

# start_beam NAME [ERL ARGS...]: a visible BEAM node, idle.
start_beam() {
    local name=$1
    shift
    erl -noshell -name "$name@127.0.0.1" -setcookie $COOKIE "$@" \
        -eval "$(erl_pidfile "$name")ok." >"$LIB_TMP/$name.log" 2>&1 &
    track $!
    RUN_PIDS+=($!)
    RUN_NAMES+=("$name")
    IS_BEAM[$name]=1
}

# start_edist NAME [ARGS...]: a visible `edist node`, idle.
start_edist() {
    local name=$1
    shift
    "$CLI" node --name "$name@127.0.0.1" --cookie $COOKIE --visible "$@" \
        >"$LIB_TMP/$name.log" 2>&1 &
    track $!
    RUN_PIDS+=($!)
    RUN_NAMES+=("$name")
    PID_OF[$name]=$!
}

# ready: waits until every node of the run is registered with EPMD, and
# records the BEAM pids (the BEAM's own, from its pid file).
ready() {
    local deadline=$((SECONDS + 60)) n missing
    while :; do
        missing=0
        local names
        names=$("$OTP_EPMD" -port "$EP" -names 2>/dev/null)
        for n in "${RUN_NAMES[@]}"; do
            grep -q "^name $n " <<<"$names" || missing=$((missing + 1))
            # A BEAM writes its pid file just after registering.
            [ -z "${IS_BEAM[$n]:-}" ] || [ -s "$LIB_TMP/beam-$n.pid" ] ||
                missing=$((missing + 1))
        done
        [ $missing -eq 0 ] && break
        [ $SECONDS -lt $deadline ] || fail "$missing nodes did not register"
        sleep 0.1
    done
    for n in "${RUN_NAMES[@]}"; do
        [ -s "$LIB_TMP/beam-$n.pid" ] && PID_OF[$n]=$(cat "$LIB_TMP/beam-$n.pid")
    done
    return 0
}

# stop_run: stops the run's nodes and waits until EPMD has forgotten them.
stop_run() {
    local pid n
    for n in "${RUN_NAMES[@]}"; do
        [ -s "$LIB_TMP/beam-$n.pid" ] && kill -KILL "$(cat "$LIB_TMP/beam-$n.pid")" 2>/dev/null
        rm -f "$LIB_TMP/beam-$n.pid"
    done
    for pid in "${RUN_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    # (wait's "Killed" notices are noise here.)
    for pid in "${RUN_PIDS[@]}"; do
        for _ in $(seq 1 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    RUN_PIDS=()
    RUN_NAMES=()
    IS_BEAM=()
    PID_OF=()
}

# mem_kb PID FIELD: a figure of /proc/PID/smaps_rollup in kB: Rss (what
# top shows: shared library pages included), Pss (shared pages divided
# among their users), Uss (Private_Clean + Private_Dirty: what the node
# alone holds, the cost of one more node).
mem_kb() {
    awk -v f="$2" '
        f == "Uss" && ($1 == "Private_Clean:" || $1 == "Private_Dirty:") { s += $2 }
        $1 == f ":" { s += $2 }
        END { if (NR) print s }' "/proc/$1/smaps_rollup" 2>/dev/null
}

# avg_mem PREFIX FIELD: the mean of mem_kb over the run's nodes whose
# name starts with PREFIX.
avg_mem() {
    local n sum=0 k=0 r
    for n in "${RUN_NAMES[@]}"; do
        case $n in "$1"*) ;; *) continue ;; esac
        r=$(mem_kb "${PID_OF[$n]}" "$2")
        [ -n "$r" ] || continue
        sum=$((sum + r))
        k=$((k + 1))
    done
    [ $k -gt 0 ] && echo $((sum / k))
}

# record_mem TAG PREFIX KIND: RESULT lines for Rss, Pss and Uss.
record_mem() {
    local f r
    for f in Rss Pss Uss; do
        r=$(avg_mem "$2" $f)
        [ -n "$r" ] && echo "RESULT $f.$1.$3 $r" >>"$OUT"
    done
    return 0
}

# ---- 1. chain -> full mesh
# mesh_run MODE KIND N REP: KIND beam | edist | mixed (alternating B, E,
# B...); MODE parallel | serial (mesh_bench.erl).
mesh_run() {
    local mode=$1 kind=$2 n=$3 rep=$4 i name chain=()
    for ((i = 1; i <= n; i++)); do
        local t=$kind
        [ "$kind" = mixed ] && { ((i % 2)) && t=beam || t=edist; }
        if [ "$t" = beam ]; then
            name=b${mode:0:1}${kind:0:1}${n}r${rep}n$i
            start_beam "$name"
        else
            name=e${mode:0:1}${kind:0:1}${n}r${rep}n$i
            start_edist "$name"
        fi
        chain+=("$name@127.0.0.1")
    done
    ready
    # Let the nodes finish booting (a BEAM keeps loading code after it
    # registers), so that the figure is the mesh's, not the boot's.
    sleep 2
    echo "== mesh $mode $kind N=$n run $rep" >&2
    timeout -k 5 120 erl -noshell -hidden -name "drv$mode$kind${n}r$rep@127.0.0.1" \
        -setcookie $COOKIE -pa "$LIB_TMP" -run mesh_bench mesh $mode "${chain[@]}" \
        >"$LIB_TMP/drv.log" 2>&1
    if grep -q '^RESULT mesh_ms' "$LIB_TMP/drv.log"; then
        sed -n "s/^RESULT mesh_ms /RESULT mesh.$mode.$kind.$n /p" "$LIB_TMP/drv.log" >>"$OUT"
        sed -n "s/^RESULT polls /RESULT polls.$mode.$kind.$n /p" "$LIB_TMP/drv.log" >>"$OUT"
    else
        echo "warning: mesh $mode $kind N=$n run $rep: $(tail -3 "$LIB_TMP/drv.log")" >&2
    fi
    # Memory of a node in a settled mesh of n.
    sleep 1
    if [ "$mode" = "${MODES%% *}" ]; then
        record_mem mesh.$kind.$n b beam
        record_mem mesh.$kind.$n e edist
    fi
    stop_run
}

for mode in $MODES; do
    for n in $NS; do
        for rep in $(seq 1 "$REPS"); do
            for kind in $KINDS; do
                mesh_run $mode $kind "$n" "$rep"
            done
        done
    done
    if [ -n "$BIG" ]; then
        for rep in $(seq 1 "$REPS"); do mesh_run $mode edist "$BIG" "$rep"; done
    fi
done

# ---- 2. nodedown detection, net_ticktime 4
# down_run VICTIM_KIND SIGNAL REP: a victim node, a BEAM observer and an
# edist observer (`edist watch`), both connected to it only; the victim
# gets SIGNAL; each observer's nodedown time minus the signal's time.
down_run() {
    local vk=$1 sig=$2 rep=$3 v=v$1$2$3
    if [ "$vk" = beam ]; then
        start_beam "$v" -kernel net_ticktime 4
    else
        start_edist "$v" --ticktime 4
    fi
    ready
    erl -noshell -hidden -name "ob$v@127.0.0.1" -setcookie $COOKIE \
        -kernel net_ticktime 4 -pa "$LIB_TMP" \
        -eval "$(erl_pidfile "ob$v")mesh_bench:observe([\"$v@127.0.0.1\"])." \
        >"$LIB_TMP/ob.log" 2>&1 &
    local ob=$!
    track $ob
    "$CLI" watch --hidden --ticktime 4 --cookie $COOKIE --name "ow$v@127.0.0.1" \
        --count 2 --timeout 60 "$v@127.0.0.1" >"$LIB_TMP/ow.log" 2>&1 &
    local ow=$!
    track $ow
    wait_for 30 grep -q READY "$LIB_TMP/ob.log" || fail "observer: $(cat "$LIB_TMP/ob.log")"
    wait_for 30 grep -q nodeup "$LIB_TMP/ow.log" || fail "watch: $(cat "$LIB_TMP/ow.log")"
    sleep 1.5
    echo "== nodedown $vk SIG$sig run $rep" >&2
    local t0
    t0=$(date +%s%3N)
    kill -"$sig" "${PID_OF[$v]}"
    wait $ob
    wait $ow
    local down
    down=$(sed -n 's/^DOWN //p' "$LIB_TMP/ob.log")
    [ -n "$down" ] && echo "RESULT down.$vk.$sig.beam $((down - t0))" >>"$OUT"
    down=$(awk '$2 == "nodedown" {print $1}' "$LIB_TMP/ow.log")
    [ -n "$down" ] && echo "RESULT down.$vk.$sig.edist $(($(date -d "$down" +%s%3N) - t0))" >>"$OUT"
    [ "$sig" = STOP ] && kill -KILL "${PID_OF[$v]}" 2>/dev/null
    rm -f "$LIB_TMP/beam-ob$v.pid"
    stop_run
}

for rep in $(seq 1 "$DOWN_REPS"); do
    for vk in beam edist; do
        for sig in KILL STOP; do down_run $vk $sig "$rep"; done
    done
done

# ---- 3. idle nodes: RSS
for ((i = 1; i <= IDLE; i++)); do
    start_beam "bidle$i"
    start_edist "eidle$i"
done
ready
sleep 3
record_mem idle bidle beam
record_mem idle eidle edist
stop_run

# ---- report
# med KEY: the median of the runs.
med() {
    awk -v k="$1" '$2 == k { print $3 + 0 }' "$OUT" | sort -g |
        awk '{ v[n++] = $1 }
            END { if (!n) exit
                  m = (n % 2) ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
                  printf "%.0f", m }'
}
fmt() {
    local v
    v=$(med "$1")
    echo "${v:--}"
}
ratio() {
    bench_ratio "$(med "$1")" "$(med "$2")"
}
{
    for mode in $MODES; do
        echo "Chain -> full mesh, links asked for in $mode (ms, median of $REPS; lower is better)"
        echo
        echo "| N | BEAM-only | edist-only | mixed | edist/BEAM | mixed/BEAM |"
        echo "|---:|---:|---:|---:|---:|---:|"
        for n in $NS; do
            k=mesh.$mode
            echo "| $n | $(fmt $k.beam.$n) | $(fmt $k.edist.$n) | $(fmt $k.mixed.$n) | $(ratio $k.edist.$n $k.beam.$n) | $(ratio $k.mixed.$n $k.beam.$n) |"
        done
        [ -n "$BIG" ] && echo "| $BIG | - | $(fmt mesh.$mode.edist.$BIG) | - | - | - |"
        echo
    done
    echo "nodedown detection, net_ticktime 4 (ms from the signal, median of $DOWN_REPS)"
    echo
    echo "| victim | signal | BEAM observer | edist observer | edist/BEAM |"
    echo "|---|---|---:|---:|---:|"
    for vk in beam edist; do
        for sig in KILL STOP; do
            echo "| $vk | SIG$sig | $(fmt down.$vk.$sig.beam) | $(fmt down.$vk.$sig.edist) | $(ratio down.$vk.$sig.edist down.$vk.$sig.beam) |"
        done
    done
    echo
    last=${NS##* }
    echo "Memory per node (kB, mean over the nodes; Rss / Pss / Uss, see README.md)"
    echo
    echo "| node | idle, unconnected | in a mesh of $last, own kind | in a mixed mesh of $last |"
    echo "|---|---:|---:|---:|"
    m() { echo "$(fmt Rss.$1) / $(fmt Pss.$1) / $(fmt Uss.$1)"; }
    echo "| BEAM | $(m idle.beam) | $(m mesh.beam.$last.beam) | $(m mesh.mixed.$last.beam) |"
    echo "| edist | $(m idle.edist) | $(m mesh.edist.$last.edist) | $(m mesh.mixed.$last.edist) |"
    [ -n "$BIG" ] && echo "| edist, mesh of $BIG | | $(m mesh.edist.$BIG.edist) | |"
    echo
    echo "| target | value | goal |"
    echo "|---|---:|---|"
    for mode in $MODES; do
        echo "| edist-only / BEAM-only mesh time, N = $last, $mode | $(ratio mesh.$mode.edist.$last mesh.$mode.beam.$last) | <= 0.33 |"
    done
    echo "| edist idle node, Rss (kB) | $(fmt Rss.idle.edist) | < 2048 |"
    echo "| edist idle node, Uss (kB) | $(fmt Uss.idle.edist) | < 2048 |"
    echo "| BEAM / edist idle Rss | $(ratio Rss.idle.beam Rss.idle.edist) | |"
} | tee "${RESULTS:-/dev/null}"
