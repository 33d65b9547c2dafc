#!/usr/bin/env bash
# bench/dist/sig_run.sh: the signals table's cost per link, monitor and
# mailbox close as a node holds 1000, 10000 and 30000 monitors (sig_bench).
# Not a test.  Starts edist-epmd on a private port, stopped at exit.
#
#   cmake --preset release && cmake --build --preset release
#   bench/dist/sig_run.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
: "${EDIST_BUILD:=$(cd "$HERE/../.." && pwd)/build/release}"
export EDIST_BUILD
: "${EDIST_EPMD:=$EDIST_BUILD/epmd/edist-epmd}"
export EDIST_EPMD
. "$HERE/../../tests/interop/lib.sh"
BIN=$EDIST_BUILD/bench/dist/sig_bench
[ -x "$BIN" ] || fail "$BIN not built: cmake --build --preset release"
EP=$(free_port)
start_edist_epmd "$EP"
for n in ${SIZES:-1000 10000 30000}; do
    timeout 600 "$BIN" "$EP" "$n" || fail "sig_bench $n failed"
done
