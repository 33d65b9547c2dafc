#!/usr/bin/env bash
# bench/rpc/run.sh: rpc round trips per second, same machine, same run
# (not a test).  Builds the release preset first.
#
#   bench/rpc/run.sh [SECONDS]      (default 3 s per measurement)
#
# REPS (default 3) measurements of each client, in rotated order (the
# edist -> BEAM clients) or alternating order (BEAM -> edist / BEAM), best
# of each kept.
#
# edist -> BEAM: edist_rpc (a gen_server call to rex) against libei's
# ei_rpc (erl_call's path, rex), and edist_erpc (a spawn request for
# erpc:execute_call/4, as OTP's own erpc:call and rpc:call) for reference,
# all calling erlang:node/0 on BEAM node b.
# BEAM -> edist: rpc:call(C, erlang, node, []) into `edist node` against
# rpc:call into a second BEAM node, from the same BEAM node.
# Sequential calls (one in flight): this measures latency-bound round trips.
set -eu
cd "$(dirname "$0")/../.."
SECS=${1:-3}
cmake --preset release >/dev/null
cmake --build --preset release -j 2 >/dev/null
B=build/release
# The interop tests' helpers: a private EPMD port, every process tracked
# by pid (the BEAMs' own pids too) and stopped at exit.
export EDIST_BUILD=$PWD/$B
. tests/interop/lib.sh
need_otp
start_private_epmd
start_erl "$EP" b bench 'receive stop -> ok end.' >/dev/null
start_erl "$EP" b2 bench 'receive stop -> ok end.' >/dev/null
start_edist_node c bench
wait_registered b
wait_registered b2

REPS=${REPS:-3}
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 > b + 0) ? a : b }'; }
run_e() { "$B/bench/rpc/bench_rpc" b@127.0.0.1 bench "$SECS" | awk '{print $4}'; }
run_r() { "$B/bench/rpc/bench_rpc" --erpc b@127.0.0.1 bench "$SECS" | awk '{print $4}'; }
run_ei() {
    if [ -x "$B/bench/rpc/bench_ei_rpc" ]; then
        "$B/bench/rpc/bench_ei_rpc" b@127.0.0.1 bench "$SECS" | awk '{print $4}'
    else
        echo 0
    fi
}
# Each rep runs the three clients in a rotated order, so that none is
# always the one with the coldest (or warmest) peer.
e=0
r=0
ei=0
for i in $(seq 1 "$REPS"); do
    case $((i % 3)) in
    1) e=$(max "$e" "$(run_e)"); r=$(max "$r" "$(run_r)"); ei=$(max "$ei" "$(run_ei)") ;;
    2) r=$(max "$r" "$(run_r)"); ei=$(max "$ei" "$(run_ei)"); e=$(max "$e" "$(run_e)") ;;
    0) ei=$(max "$ei" "$(run_ei)"); e=$(max "$e" "$(run_e)"); r=$(max "$r" "$(run_r)") ;;
    esac
done
out=$(run_erl $((SECS * 2 * REPS + 60)) "$EP" d bench "
  Secs = $SECS,
  Rate = fun(N) ->
      pong = net_adm:ping(N),
      N = rpc:call(N, erlang, node, []),
      T0 = erlang:monotonic_time(millisecond),
      Loop = fun L(K) ->
          case erlang:monotonic_time(millisecond) - T0 < Secs * 1000 of
              true -> [N = rpc:call(N, erlang, node, []) || _ <- lists:seq(1, 100)], L(K + 100);
              false -> K end end,
      K = Loop(0),
      round(K * 1000 / (erlang:monotonic_time(millisecond) - T0)) end,
  Pairs = [case I rem 2 of
               1 -> {Rate('c@127.0.0.1'), Rate('b2@127.0.0.1')};
               0 -> {Bb, Be} = {Rate('b2@127.0.0.1'), Rate('c@127.0.0.1')}, {Be, Bb}
           end || I <- lists:seq(1, $REPS)],
  io:format(\"~p ~p~n\", [lists:max([Be || {Be, _} <- Pairs]),
                          lists:max([Bb || {_, Bb} <- Pairs])]),
  halt()." -hidden)
be=$(echo "$out" | awk '{print $1}')
bb=$(echo "$out" | awk '{print $2}')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# Paired: edist_rpc and ei_rpc interleaved in one process, rounds of 200
# calls each (bench_ab_rpc.c).  Separate programs, even in rotated order,
# measure the VM's drift as much as the libraries (runs of one client
# swing by a third here); the paired ratio does not.  REPS runs of 2 *
# SECS seconds; the run with the median ratio is reported, with the range.
ab=""
if [ -x "$B/bench/rpc/bench_ab_rpc" ]; then
    ab=$(for i in $(seq 1 "$REPS"); do
        "$B/bench/rpc/bench_ab_rpc" b@127.0.0.1 bench $((SECS * 2))
    done | sort -k4,4n)
fi
echo "| direction | edist (calls/s) | peer (calls/s) | edist / peer |"
echo "|---|---:|---:|---:|"
echo "| edist -> BEAM: edist_rpc vs libei ei_rpc | $e | $ei | $(ratio "$e" "$ei") |"
if [ -n "$ab" ]; then
    echo "$ab" | awk '{ r[NR] = $4; l[NR] = $0 } END {
        split(l[int((NR + 1) / 2)], m, " ")
        printf "| edist -> BEAM, paired in one process: edist_rpc vs ei_rpc | %s | %s | %.3f (%.3f-%.3f) |\n", m[2], m[3], m[4], r[1], r[NR] }'
fi
echo "| edist -> BEAM: edist_erpc (spawn request) vs libei ei_rpc | $r | $ei | $(ratio "$r" "$ei") |"
echo "| BEAM -> edist vs BEAM -> BEAM: rpc:call | $be | $bb | $(ratio "$be" "$bb") |"
