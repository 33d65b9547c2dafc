#!/usr/bin/env bash
# The live demo (scripts/run, what `make run` runs) end to end, with the
# test build's binaries.  ERL_EPMD_PORT is set to a private free port, so
# the demo starts its own edist-epmd there and never touches 4369.  Checks
# the key lines of every step, and that the demo leaves nothing running
# (every pid it reports is gone, its port mapper no longer answers).
# Then once more without erl (DEMO_NO_ERL=1): the degraded demo passes too.
. "$(dirname "$0")/lib.sh"
need_otp
EP=$(free_port)
LOG=$LIB_TMP/demo.log

run_demo() {
    ERL_EPMD_PORT=$EP EDIST_CLI=$EDIST_CLI EDIST_EPMD=$EDIST_EPMD \
        timeout -k 5 150 "$EDIST_SRC/scripts/run" >"$LOG" 2>&1 &
    local pid=$!
    track $pid
    wait $pid
}

# expect REGEX: the demo's output has a line matching REGEX.
expect() {
    grep -Eq -- "$1" "$LOG" || fail "no line matching '$1' in the demo's output:
$(cat "$LOG")"
}

# gone: everything the demo reported starting has stopped.
gone() {
    local pid
    for pid in $(sed -n 's/.*(pid \([0-9]*\)).*/\1/p' "$LOG"); do
        kill -0 "$pid" 2>/dev/null && fail "pid $pid still runs after the demo"
    done
    port_in_use "$EP" && fail "the demo's edist-epmd still answers on $EP"
    return 0
}

run_demo || fail "the demo failed (exit $?):
$(cat "$LOG")"
expect "started edist-epmd there"
expect "^   edist node alpha@127.0.0.1 \(pid [0-9]+\)"
expect "^   BEAM node beam@127.0.0.1 \(pid [0-9]+\), Erlang/OTP [0-9]+"
expect "watch\| .*Z nodeup alpha@127.0.0.1 visible"
expect "alpha@127.0.0.1 +nodes\(\) = \['watch@127.0.0.1'\]"
expect "connect_node \"'beta@127.0.0.1'\""
expect "full mesh: each of the 5 nodes sees the 4 others"
for n in beta gamma beam; do
    expect "watch\| .*Z nodeup $n@127.0.0.1 visible"
done
expect "^     alpha@127.0.0.1 pong"
expect "^     beam@127.0.0.1 pong"
expect 'alpha\| .*echo <- \{hello,"from the shell",42\}'
expect 'beam\| beam: inbox got \{greeting,<<"from edist">>,\[1,2,3\]\}'
expect "^     \[1,2,3,4,5\]"
expect "^     'gamma@127.0.0.1'"
expect "^     hi$"
expect "watch\| .*Z nodedown beta@127.0.0.1 connection_closed"
expect "beam\| beam: nodedown beta@127.0.0.1"
expect "still one mesh: each of the 4 remaining nodes sees the 3 others"
expect "demo: finished, all steps passed"
[ "$(grep -c '^== ' "$LOG")" -eq 10 ] || fail "expected 10 steps: $(grep '^== ' "$LOG")"
gone
ok "the demo with a BEAM node: chain -> mesh, ping, messages, rpc both ways, kill"

DEMO_NO_ERL=1 run_demo || fail "the demo without erl failed (exit $?):
$(cat "$LOG")"
expect "NOTE: erl \(Erlang/OTP\) is not installed"
expect "full mesh: each of the 4 nodes sees the 3 others"
expect "watch\| .*Z nodedown beta@127.0.0.1 connection_closed"
expect "demo: finished, all steps passed"
grep -q "beam@" "$LOG" && fail "the demo without erl started a BEAM node"
gone
ok "the demo without erl: edist nodes only, said clearly"
