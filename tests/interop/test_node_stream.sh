#!/usr/bin/env bash
# test_node_stream.sh: edist -> edist streaming through the whole runtime
# (node_stream): 4 sender threads, small and 100 KiB messages, a small
# out-queue cap (backpressure) and a small mailbox cap (reading pauses and
# resumes); every message must arrive once and in order per sender.
. "$(dirname "$0")/lib.sh"
BIN=$EDIST_INTEROP_BIN/node_stream
[ -x "$BIN" ] || fail "node_stream not built at $BIN"
# A port below the ephemeral range that no socket uses: a random pick in
# that range may be some connection's local port, which bind() refuses
# even with SO_REUSEADDR.
quiet_port() {
    local p i
    for i in $(seq 1 200); do
        p=$((20000 + RANDOM % 12000))
        ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null | grep -q . ||
            { echo "$p"; return 0; }
    done
    fail "no free port found"
}
EP=$(quiet_port)
start_edist_epmd "$EP"
timeout -k 5 240 "$BIN" "$EP" 4 20000 || fail "node_stream failed"
ok "streamed in order"
