#!/usr/bin/env bash
# test_node_stream.sh: edist -> edist streaming through the whole runtime
# (node_stream): 4 sender threads, small and 100 KiB messages, a small
# out-queue cap (backpressure) and a small mailbox cap (reading pauses and
# resumes); every message must arrive once and in order per sender.
. "$(dirname "$0")/lib.sh"
BIN=$EDIST_INTEROP_BIN/node_stream
[ -x "$BIN" ] || fail "node_stream not built at $BIN"
EP=$(free_port)
start_edist_epmd "$EP"
timeout -k 5 240 "$BIN" "$EP" 4 20000 || fail "node_stream failed"
ok "streamed in order"
