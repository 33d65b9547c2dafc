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
EPMD=$(ls /usr/lib/erlang/erts-*/bin/epmd | head -n 1)
TMP=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
EP=$((20000 + RANDOM % 20000))
export ERL_EPMD_PORT=$EP
"$EPMD" -port "$EP" &
PIDS+=($!)
sleep 0.5
erl -noshell -name b@127.0.0.1 -setcookie bench -eval 'receive stop -> ok end.' &
PIDS+=($!)
erl -noshell -name b2@127.0.0.1 -setcookie bench -eval 'receive stop -> ok end.' &
PIDS+=($!)
"$B/cli/edist" node --name c@127.0.0.1 --cookie bench >"$TMP/c.log" 2>&1 &
PIDS+=($!)
for i in $(seq 50); do
    "$EPMD" -port "$EP" -names 2>/dev/null | grep -q "name b2 " &&
        grep -q listening "$TMP/c.log" && break
    sleep 0.2
done
sleep 1

e=$("$B/bench/rpc/bench_rpc" b@127.0.0.1 bench "$SECS" | awk '{print $4}')
if [ -x "$B/bench/rpc/bench_ei_rpc" ]; then
    ei=$("$B/bench/rpc/bench_ei_rpc" b@127.0.0.1 bench "$SECS" | awk '{print $4}')
else
    ei=0
fi
out=$(erl -noshell -name d@127.0.0.1 -setcookie bench -hidden -eval "
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
  halt().")
be=$(echo "$out" | awk '{print $1}')
bb=$(echo "$out" | awk '{print $2}')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "| direction | edist (calls/s) | peer (calls/s) | edist / peer |"
echo "|---|---:|---:|---:|"
echo "| edist -> BEAM: edist_rpc vs libei ei_rpc | $e | $ei | $(ratio "$e" "$ei") |"
echo "| BEAM -> edist vs BEAM -> BEAM: rpc:call | $be | $bb | $(ratio "$be" "$bb") |"
