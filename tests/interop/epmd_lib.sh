# epmd_lib.sh: packet builders shared by the test_epmd_*.sh scripts
# (sourced after lib.sh).  Everything is hex text for epmd_probe.

PROBE="$EDIST_INTEROP_BIN/epmd_probe"
[ -x "$PROBE" ] || fail "epmd_probe not built at $PROBE"

# hexs STRING: the bytes of STRING as hex.
hexs() {
    printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'
}

# rep HEX N: HEX repeated N times.
rep() {
    local out="" i
    for ((i = 0; i < $2; i++)); do out+=$1; done
    printf '%s' "$out"
}

# pkt BODYHEX: the body with its 2-byte length prefix.
pkt() {
    printf '%04x%s' $((${#1} / 2)) "$1"
}

# alive NAMEHEX [EXTRAHEX [HIGH [LOW]]]: an ALIVE2_REQ packet (port 12345,
# type 77, protocol 0).
alive() {
    local n=$1 e=${2:-} hi=${3:-0006} lo=${4:-0005}
    pkt "7830394d00${hi}${lo}$(printf %04x $((${#n} / 2)))${n}$(printf %04x $((${#e} / 2)))${e}"
}

# port2 NAMEHEX: a PORT_PLEASE2_REQ packet.
port2() {
    pkt "7a$1"
}

NAMES_REQ=0001${NAMES_HEX:-6e}
KILL_REQ=00016b

# run_probe PORT SCRIPTFILE OUTFILE: runs the script and masks the
# daemon's port (it appears in NAMES headers) so two daemons compare equal.
run_probe() {
    local port=$1 script=$2 out=$3
    timeout -k 2 120 "$PROBE" 127.0.0.1 "$port" <"$script" |
        sed "s/0000$(printf %04x "$port")/0000PPPP/g" >"$out" ||
        fail "epmd_probe failed against port $port"
}

# check_edist_exit PID PORT: stops an edist-epmd started by
# start_edist_epmd with SIGTERM and requires a clean exit: status 0 and no
# sanitizer report (leaks included) in its log.
check_edist_exit() {
    local pid=$1 port=$2 rc
    kill -TERM "$pid" 2>/dev/null || fail "edist-epmd $pid already gone"
    wait "$pid"
    rc=$?
    if grep -q "Sanitizer" "$LIB_TMP/edist-epmd-$port.log"; then
        cat "$LIB_TMP/edist-epmd-$port.log" >&2
        fail "edist-epmd on port $port: sanitizer report"
    fi
    [ "$rc" -eq 0 ] || fail "edist-epmd on port $port exited with $rc"
    ok "edist-epmd on port $port exited cleanly (no leaks)"
}
