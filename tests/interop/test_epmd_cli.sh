#!/usr/bin/env bash
# OTP's own epmd client (-names, -dump, -started, -kill, -stop) and
# edist-epmd's client modes must print the same bytes and return the same
# exit codes against OTP's epmd and against edist-epmd; `edist names` must
# print what `epmd -names` prints.  Also: usage errors, "-daemon" on a busy
# port exits 0 (erl's auto-start relies on it), KILL releases the port.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/epmd_lib.sh"
need_otp

# hold PORT: registers n0 n1 n2 on PORT and keeps them (background).
hold() {
    printf 'hold 3 n\nsleep 60000\n' | "$PROBE" 127.0.0.1 "$1" >/dev/null &
    track $!
}

# runc CLIENT PORT ARGS...: one client run, as "rc=<code>" + stdout +
# "stderr:" + stderr, with the daemon's port and fd numbers masked.
runc() {
    local client=$1 port=$2
    shift 2
    local rc
    timeout 10 "$client" -port "$port" "$@" >"$LIB_TMP/out" 2>"$LIB_TMP/err"
    rc=$?
    printf 'rc=%s\n%s\nstderr:%s\n' "$rc" "$(tr '\0' '@' <"$LIB_TMP/out")" \
        "$(cat "$LIB_TMP/err")" |
        sed -e "s/port $port with/port PORT with/" -e 's/fd = [0-9]*/fd = N/g' \
            -e 's/epmd: [A-Z][a-z]* [A-Z][a-z]* *[0-9]* [0-9:]* [0-9]*: /epmd: DATE: /'
}

# both NAME ARGS...: runs ARGS with both clients against both daemons; the
# four transcripts must be equal.
both() {
    local what=$1
    shift
    runc "$OTP_EPMD" "$PO" "$@" >"$LIB_TMP/a"
    runc "$OTP_EPMD" "$PE" "$@" >"$LIB_TMP/b"
    runc "$EDIST_EPMD" "$PO" "$@" >"$LIB_TMP/c"
    runc "$EDIST_EPMD" "$PE" "$@" >"$LIB_TMP/d"
    for f in b c d; do
        diff -u "$LIB_TMP/a" "$LIB_TMP/$f" ||
            fail "$what: transcript $f differs from OTP client vs OTP epmd"
    done
    ok "$what: $(head -c 60 "$LIB_TMP/a" | tr '\n' ' ')"
}

PO=$(free_port)
start_otp_epmd "$PO"
PE=$(free_port)
start_edist_epmd "$PE"
hold "$PO"
hold "$PE"
sleep 0.5

both "names" -names
grep -q "^name n2 at port 12345" "$LIB_TMP/a" || fail "names lack n2"
both "dump" -dump
both "started" -started
both "kill refused" -kill
grep -q "rc=1" "$LIB_TMP/a" || fail "kill with live nodes must fail"
both "stop refused" -stop n1
both "stop empty" -stop ""
# 1001 characters (coreutils only: xxd is not on a fresh machine).
both "stop too long" -stop "$(head -c 1001 /dev/zero | tr '\0' a)"
both "usage" -names extra

# Interactive modes against a port where nothing listens.
PN=$(free_port)
runc "$OTP_EPMD" "$PN" -names >"$LIB_TMP/a"
runc "$EDIST_EPMD" "$PN" -names >"$LIB_TMP/b"
diff -u "$LIB_TMP/a" "$LIB_TMP/b" || fail "no daemon: outputs differ"
runc "$OTP_EPMD" "$PN" -started >"$LIB_TMP/a"
runc "$EDIST_EPMD" "$PN" -started >"$LIB_TMP/b"
diff -u "$LIB_TMP/a" "$LIB_TMP/b" || fail "-started: outputs differ"
ok "no daemon: same failure text and exit code"

# Usage on stderr, exit 1, identical text.
"$EDIST_EPMD" -port 0 2>/dev/null && fail "-port 0 accepted"
"$EDIST_EPMD" -packet_timeout x 2>/dev/null && fail "-packet_timeout x accepted"
both "-port 0" -port 0 -names
both "-packet_timeout x" -packet_timeout x -names
both "-address garbage" -address 10.0.0.1,foo
both "-address 14 extra" -address "$(seq -s, -f '10.9.9.%g' 1 14)"
ok "usage text and exit code 1"

# edist names == epmd -names, against OTP's epmd.
ERL_EPMD_PORT=$PO "$OTP_EPMD" -names >"$LIB_TMP/a"
"$EDIST_CLI" names --epmd-port "$PO" >"$LIB_TMP/b" || fail "edist names failed"
diff -u "$LIB_TMP/a" "$LIB_TMP/b" || fail "edist names differs from epmd -names"
"$EDIST_CLI" names 127.0.0.1 --epmd-port "$PE" >"$LIB_TMP/b" ||
    fail "edist names HOST failed"
grep -q "^name n0 at port 12345" "$LIB_TMP/b" || fail "edist names HOST"
"$EDIST_CLI" names --epmd-port "$PN" 2>/dev/null
[ $? -eq 3 ] || fail "edist names without daemon must exit 3"
"$EDIST_CLI" port n1 --epmd-port "$PO" >"$LIB_TMP/a" || fail "edist port failed"
[ "$(head -n 1 "$LIB_TMP/a")" = 12345 ] || fail "edist port: $(cat "$LIB_TMP/a")"
"$EDIST_CLI" port n1@127.0.0.1 --epmd-port "$PE" >"$LIB_TMP/b" ||
    fail "edist port NAME@HOST failed"
diff -u "$LIB_TMP/a" "$LIB_TMP/b" || fail "edist port differs between daemons"
"$EDIST_CLI" port nosuch --epmd-port "$PE" 2>/dev/null
[ $? -eq 1 ] || fail "edist port of an unknown name must exit 1"
"$EDIST_CLI" bogus 2>/dev/null
[ $? -eq 2 ] || fail "edist bogus must exit 2"
ok "edist names / port"

# The library's registration API (examples/epmd_register.c) against both.
EX=$EDIST_BUILD/examples/example_epmd_register
[ -x "$EX" ] || fail "example not built at $EX"
for p in "$PO" "$PE"; do
    ERL_EPMD_PORT=$p "$EX" libreg 4242 >"$LIB_TMP/ex" || fail "register on $p"
    grep -q "^registered libreg, creation [0-9]" "$LIB_TMP/ex" &&
        grep -q "^lookup: port 4242" "$LIB_TMP/ex" &&
        grep -q "^name libreg at port 4242" "$LIB_TMP/ex" ||
        fail "register example on $p: $(cat "$LIB_TMP/ex")"
    ERL_EPMD_PORT=$p "$EX" n1 4242 >/dev/null 2>&1 &&
        fail "registering a taken name must fail"
done
"$EDIST_CLI" port libreg --epmd-port "$PE" >/dev/null 2>&1 &&
    fail "registration outlived its connection"
ok "library registration API against both daemons"

# A second daemon on a busy port exits 0, foreground and -daemon alike.
timeout 5 "$EDIST_EPMD" -port "$PO" || fail "busy port: exit $?"
timeout 5 "$EDIST_EPMD" -port "$PE" -daemon || fail "busy port -daemon: $?"
ok "busy port: exit 0"

# Relaxed daemons: STOP and KILL are honoured, with the same output.
PO2=$(free_port)
start_otp_epmd "$PO2" -relaxed_command_check
PE2=$(free_port)
start_edist_epmd "$PE2" -relaxed_command_check
hold "$PO2"
hold "$PE2"
sleep 0.5
PO_SAVE=$PO PE_SAVE=$PE
PO=$PO2 PE=$PE2
runc "$OTP_EPMD" "$PO" -stop n1 >"$LIB_TMP/a"
runc "$OTP_EPMD" "$PE" -stop n1 >"$LIB_TMP/b"
diff -u "$LIB_TMP/a" "$LIB_TMP/b" || fail "stop n1 differs"
grep -q STOPPED "$LIB_TMP/a" || fail "stop n1: $(cat "$LIB_TMP/a")"
runc "$EDIST_EPMD" "$PO" -stop n1 >"$LIB_TMP/a"
runc "$EDIST_EPMD" "$PE" -stop n1 >"$LIB_TMP/b"
diff -u "$LIB_TMP/a" "$LIB_TMP/b" || fail "stop unknown differs"
grep -q NOEXIST "$LIB_TMP/a" || fail "stop unknown: $(cat "$LIB_TMP/a")"
both "names after stop" -names
both "dump after stop" -dump
runc "$OTP_EPMD" "$PO" -kill >"$LIB_TMP/a"
runc "$EDIST_EPMD" "$PE" -kill >"$LIB_TMP/b"
diff -u "$LIB_TMP/a" "$LIB_TMP/b" || fail "kill differs"
grep -q Killed "$LIB_TMP/a" || fail "kill: $(cat "$LIB_TMP/a")"
sleep 0.3
port_in_use "$PE" && fail "edist-epmd still listens after KILL"
# The port is free again at once (SO_REUSEADDR).
start_edist_epmd "$PE"
ok "relaxed STOP/KILL; port reusable after KILL"

# -daemon on a free port detaches and serves; KILL stops it.
PD=$(free_port)
"$EDIST_EPMD" -port "$PD" -daemon || fail "-daemon start failed"
wait_port "$PD"
"$EDIST_EPMD" -port "$PD" -names | grep -q "up and running" ||
    fail "daemon does not answer"
"$EDIST_EPMD" -port "$PD" -kill | grep -q Killed || fail "daemon kill"
ok "-daemon"
PO=$PO_SAVE PE=$PE_SAVE

# Socket activation: -systemd takes its listener from systemd and tells it
# when it is ready and when it exits.  sd_activate does systemd's part (a
# listening socket as fd 3, LISTEN_PID/LISTEN_FDS, a NOTIFY_SOCKET), so
# this runs without systemd.
# activated NOTIFY TAG: systemd's part with NOTIFY_SOCKET at NOTIFY (a path,
# or @name in the abstract namespace); checks the daemon's notifications.
activated() {
    local ps log=$LIB_TMP/notify.$2.log
    ps=$(free_port)
    "$EDIST_INTEROP_BIN/sd_activate" "$ps" "$1" "$log" "$EDIST_EPMD" -systemd \
        >"$LIB_TMP/sd.log" 2>&1 &
    local sda=$!
    track $sda
    wait_port "$ps"
    "$OTP_EPMD" -port "$ps" -names | grep -q "up and running" ||
        fail "-systemd: no answer: $(cat "$LIB_TMP/sd.log")"
    wait_for 10 grep -q "^READY=1$" "$log" ||
        fail "-systemd: no READY=1 notification to $1: $(cat "$log" 2>&1)"
    grep -q "^MAINPID=[1-9][0-9]*$" "$log" ||
        fail "-systemd: no MAINPID in: $(cat "$log")"
    "$OTP_EPMD" -port "$ps" -kill | grep -q Killed || fail "-systemd: kill"
    wait $sda || fail "-systemd: the daemon exited with $?: $(cat "$LIB_TMP/sd.log")"
    grep -q "^STATUS=Exited.$" "$log" ||
        fail "-systemd: no exit notification to $1: $(cat "$log")"
}
activated "$LIB_TMP/notify.sock" path
activated "@edist-test-$$-notify" abstract
# Without sockets meant for it (none, or LISTEN_PID naming another
# process) there is nothing to listen on: a clear error and exit 1.
for env in "LISTEN_PID= LISTEN_FDS=" "LISTEN_PID=$$ LISTEN_FDS=1"; do
    rc=0
    env $env timeout -k 2 10 "$EDIST_EPMD" -systemd >"$LIB_TMP/nosd.log" 2>&1 ||
        rc=$?
    [ "$rc" = 1 ] && grep -q "systemd provides no sockets" "$LIB_TMP/nosd.log" ||
        fail "-systemd with $env: exit $rc, $(cat "$LIB_TMP/nosd.log")"
done
ok "-systemd socket activation and notification"
