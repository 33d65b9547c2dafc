# lib.sh: shared helpers for interop tests against real Erlang/OTP.
#
# Rules every script follows (sourced with `. "$(dirname "$0")/lib.sh"`):
#  - only 127.0.0.1 and private ports chosen here, never 4369;
#  - every process started is recorded and stopped by pid at exit;
#  - every wait is bounded (timeout), so a hung peer fails the test.
# A test fails with `fail "message"`; `ok "message"` logs progress.

set -u
LIB_PIDS=()
LIB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/edist-interop.XXXXXX")
: "${EDIST_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${EDIST_BUILD:=$EDIST_SRC/build/asan}"
: "${EDIST_EPMD:=$EDIST_BUILD/epmd/edist-epmd}"
: "${EDIST_CLI:=$EDIST_BUILD/cli/edist}"
: "${EDIST_INTEROP_BIN:=$EDIST_BUILD/interop-bin}"

# The real OTP tools.  erl starts epmd from its own bindir, so we locate that
# binary explicitly rather than trusting PATH.
OTP_EPMD=$(ls /usr/lib/erlang/erts-*/bin/epmd 2>/dev/null | head -n 1)
OTP_ERL=$(command -v erl || true)

LIB_EPMD_PORTS=()
lib_cleanup() {
    # Keep the script's own status: a kill of a process that is already
    # gone must not turn a passing test into a failure.
    local rc=$? pid port
    set +e
    for pid in "${LIB_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    sleep 0.2
    for pid in "${LIB_PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    for pid in $(cat "$LIB_TMP"/beam-*.pid 2>/dev/null); do
        kill -KILL "$pid" 2>/dev/null
    done
    # Daemons we caused to start (EPMD auto-start) are not our children:
    # stop them through their own protocol, on the ports we gave them.
    for port in "${LIB_EPMD_PORTS[@]}"; do
        "$OTP_EPMD" -port "$port" -kill >/dev/null 2>&1
    done
    # Give back the ports free_port reserved for this script.
    local d
    for d in "$LIB_PORT_LOCKS"/*/; do
        [ "$(cat "$d/owner" 2>/dev/null)" = "$LIB_TMP" ] && rm -rf "$d"
    done
    rm -rf "$LIB_TMP"
    exit "$rc"
}
trap lib_cleanup EXIT

# Ports handed out by free_port are reserved across the test scripts that
# CTest runs in parallel (a directory per port, created atomically), so
# two scripts never pick the same one between choosing it and binding it:
# a script that bound a port another had chosen made the second talk to
# the first one's daemon, which the first then killed.  Reservations of
# scripts that died without cleaning up expire after an hour.
LIB_PORT_LOCKS=${TMPDIR:-/tmp}/edist-interop-ports
mkdir -p "$LIB_PORT_LOCKS"
find "$LIB_PORT_LOCKS" -mindepth 1 -maxdepth 1 -mmin +60 -exec rm -rf {} + \
    2>/dev/null

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

ok() {
    echo "ok: $*"
}

need_otp() {
    [ -n "$OTP_ERL" ] && [ -x "$OTP_EPMD" ] ||
        fail "Erlang/OTP (erlang-nox) is required: run scripts/bootstrap"
}

# Records an EPMD port whose daemon a test caused to start, so that it is
# killed (epmd -kill) at exit.
track_epmd_port() {
    LIB_EPMD_PORTS+=("$1")
}

# Records a pid so that it is stopped at exit.
track() {
    LIB_PIDS+=("$1")
}

# port_in_use PORT: true when something accepts on 127.0.0.1:PORT.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port: prints a random port that nothing listens on and no socket
# uses, below the kernel's ephemeral range: a port in that range may be the
# local end of some connection (even one in TIME-WAIT), and OTP's epmd then
# refuses to bind it.  Random so that tests running in parallel do not
# collide.
free_port() {
    local p i hi
    hi=$(awk '{print $1 - 1}' /proc/sys/net/ipv4/ip_local_port_range \
        2>/dev/null)
    [ -n "$hi" ] && [ "$hi" -gt 21000 ] || hi=32767
    for i in $(seq 1 200); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % (hi - 20000)))
        port_in_use "$p" && continue
        if command -v ss >/dev/null 2>&1 &&
            ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null |
            grep -q .; then
            continue
        fi
        mkdir "$LIB_PORT_LOCKS/$p" 2>/dev/null || continue
        echo "$LIB_TMP" >"$LIB_PORT_LOCKS/$p/owner"
        echo "$p"
        return 0
    done
    fail "no free port found"
}

# wait_port PORT [SECONDS]: waits until 127.0.0.1:PORT accepts.
wait_port() {
    local deadline=$((SECONDS + ${2:-10}))
    while ! port_in_use "$1"; do
        [ $SECONDS -lt $deadline ] || fail "nothing listens on port $1"
        sleep 0.05
    done
}

# start_otp_epmd PORT [ARGS...]: OTP's epmd in the foreground (so that we
# own its pid), on PORT.
start_otp_epmd() {
    local port=$1
    shift
    "$OTP_EPMD" -port "$port" "$@" >"$LIB_TMP/otp-epmd-$port.log" 2>&1 &
    local pid=$!
    track $pid
    wait_port "$port"
    own_port "$pid" "$port"
}

# own_port PID PORT: fails unless the daemon PID is still running once
# PORT accepts (a daemon that found its port taken exits, and the test
# would then talk to somebody else's).
own_port() {
    sleep 0.05
    kill -0 "$1" 2>/dev/null ||
        fail "the daemon for port $2 exited: $(cat "$LIB_TMP"/*epmd-"$2".log 2>/dev/null)"
}

# start_edist_epmd PORT [ARGS...]: our epmd in the foreground on PORT.
start_edist_epmd() {
    local port=$1
    shift
    [ -x "$EDIST_EPMD" ] || fail "edist-epmd not built at $EDIST_EPMD"
    "$EDIST_EPMD" -port "$port" "$@" >"$LIB_TMP/edist-epmd-$port.log" 2>&1 &
    local pid=$!
    track $pid
    wait_port "$port"
    own_port "$pid" "$port"
}

# start_private_epmd: OTP's epmd on a free private port, which EP names
# and ERL_EPMD_PORT points every later erl and edist at.
start_private_epmd() {
    EP=$(free_port)
    start_otp_epmd "$EP"
    export ERL_EPMD_PORT=$EP
}

# start_edist_node NAME COOKIE [ARGS...]: `edist node` as NAME@127.0.0.1
# in the background, logging to $LIB_TMP/NAME.log; returns once it
# listens.  Its pid is left in EDIST_NODE_PID.
start_edist_node() {
    local name=$1 cookie=$2
    shift 2
    "$EDIST_CLI" node --name "$name@127.0.0.1" --cookie "$cookie" "$@" \
        >"$LIB_TMP/$name.log" 2>&1 &
    EDIST_NODE_PID=$!
    track "$EDIST_NODE_PID"
    wait_for 10 grep -qs "listening on port" "$LIB_TMP/$name.log" ||
        fail "edist node $name did not start: $(cat "$LIB_TMP/$name.log")"
}

# wait_registered NAME [SECONDS]: waits until NAME is registered with the
# EPMD on $ERL_EPMD_PORT (a node started in the background is up).
wait_registered() {
    wait_for "${2:-10}" bash -c \
        "'$OTP_EPMD' -port $ERL_EPMD_PORT -names | grep -q 'name $1 '" ||
        fail "$1 did not register"
}

# start_erl EPMD_PORT NAME COOKIE EXPR [ERL ARGS...]: a BEAM node in the
# background with long name NAME@127.0.0.1, running EXPR.  Prints its pid.
# Called as PID=$(start_erl ...) it runs in a subshell whose tracking is
# lost: `track "$PID"` afterwards.
# Its stdout/stderr go to $LIB_TMP/erl-NAME.log.
start_erl() {
    local eport=$1 name=$2 cookie=$3 expr=$4
    shift 4
    ERL_EPMD_PORT=$eport "$OTP_ERL" -noshell -name "$name@127.0.0.1" \
        -setcookie "$cookie" "$@" -eval "$(erl_pidfile "$name")$expr" \
        >"$LIB_TMP/erl-$name.log" 2>&1 &
    local pid=$!
    track "$pid"
    echo "$pid"
}

# run_erl SECONDS EPMD_PORT NAME COOKIE EXPR [ERL ARGS...]: runs a BEAM node
# in the foreground, bounded by SECONDS; prints its output, returns its
# status.  EXPR should end with halt().
run_erl() {
    local secs=$1 eport=$2 name=$3 cookie=$4 expr=$5
    shift 5
    ERL_EPMD_PORT=$eport timeout -k 2 "$secs" "$OTP_ERL" -noshell \
        -name "$name@127.0.0.1" -setcookie "$cookie" "$@" \
        -eval "$(erl_pidfile "$name")$expr"
}

# erl_pidfile NAME: an expression that records the BEAM's own pid.  `erl`
# is a wrapper whose child is the BEAM, so the pid `$!` gives is not the
# one to stop; lib_cleanup kills every pid recorded this way.
erl_pidfile() {
    printf 'file:write_file("%s/beam-%s.pid", os:getpid()), ' "$LIB_TMP" "$1"
}

# wait_for SECONDS CMD...: retries CMD until it succeeds or time runs out.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.1
    done
}
