#!/usr/bin/env bash
# bench/rpc/run.sh: rpc round trips per second, same machine, same run
# (not a test).  Builds the release preset first.
#
#   bench/rpc/run.sh [SECONDS]      (default 3 s per measurement)
#
# edist -> BEAM: edist_rpc (gen_server call to rex) against libei's ei_rpc
# (erl_call's path), both calling erlang:node/0 on BEAM node b.
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

e=$("$B/bench/rpc/bench_rpc" b@127.0.0.1 bench "$SECS" | awk '{print $4}')
if [ -x "$B/bench/rpc/bench_ei_rpc" ]; then
    ei=$("$B/bench/rpc/bench_ei_rpc" b@127.0.0.1 bench "$SECS" | awk '{print $4}')
else
    ei=0
fi
out=$(run_erl $((SECS * 2 + 60)) "$EP" d bench "
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
  io:format(\"~p ~p~n\", [Rate('c@127.0.0.1'), Rate('b2@127.0.0.1')]),
  halt()." -hidden)
be=$(echo "$out" | awk '{print $1}')
bb=$(echo "$out" | awk '{print $2}')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "| direction | edist (calls/s) | peer (calls/s) | edist / peer |"
echo "|---|---:|---:|---:|"
echo "| edist -> BEAM: edist_rpc vs libei ei_rpc | $e | $ei | $(ratio "$e" "$ei") |"
echo "| BEAM -> edist vs BEAM -> BEAM: rpc:call | $be | $bb | $(ratio "$be" "$bb") |"
