#!/usr/bin/env bash
# edist-epmd holds 20,000 registrations at once (OTP's epmd stops at about
# 1017, its select() ceiling), lists them all, looks any of them up, and
# forgets them all when their connections close.  The test raises its own
# descriptor limit (root with CAP_SYS_RESOURCE may raise the hard limit);
# edist-epmd raises its soft limit to the hard one by itself.  Where the
# hard limit cannot be raised (a container without CAP_SYS_RESOURCE whose
# limit is 20,000), N is the limit minus a small margin for the daemon's
# own descriptors, and must still be at least 19,000.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/epmd_lib.sh"

N=20000
need=$((N + 200))
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$need" ]; then
    if ! ulimit -Hn "$need" 2>/dev/null; then
        N=$(($(ulimit -Hn) - 64))
        need=$((N + 32))
        echo "note: descriptor hard limit $(ulimit -Hn) cannot be raised;" \
            "holding $N registrations"
        if [ "$N" -lt 19000 ]; then
            [ "${CI:-}" = true ] && fail "descriptor limit too low for the test"
            echo "SKIP: descriptor hard limit $(ulimit -Hn) too low"
            exit 77
        fi
    fi
fi
# Only the hard limit is raised for the daemon: it must lift its own soft one.
ulimit -Sn 1024

P=$(free_port)
start_edist_epmd "$P"
EPID=${LIB_PIDS[-1]}
ulimit -Sn "$need"

printf 'hold %d s\nsleep 120000\n' "$N" | "$PROBE" 127.0.0.1 "$P" >"$LIB_TMP/hold" &
HOLDER=$!
track $HOLDER
wait_for 120 grep -q "^held" "$LIB_TMP/hold" || fail "registrations did not finish"
[ "$(cat "$LIB_TMP/hold")" = "held $N" ] || fail "only $(cat "$LIB_TMP/hold")"
ok "$N registrations accepted"

"$EDIST_CLI" names --epmd-port "$P" >"$LIB_TMP/names" || fail "names failed"
count=$(grep -c '^name s[0-9]* at port 12345$' "$LIB_TMP/names")
[ "$count" -eq "$N" ] || fail "NAMES lists $count of $N"
# Newest first, as OTP orders them.
[ "$(sed -n 2p "$LIB_TMP/names")" = "name s$((N - 1)) at port 12345" ] ||
    fail "NAMES order: $(sed -n 2p "$LIB_TMP/names")"
for i in 0 7 $((N / 2)) $((N - 1)); do
    "$EDIST_CLI" port "s$i" --epmd-port "$P" >/dev/null || fail "lookup s$i"
done
rss=$(awk '/VmRSS/ {print $2}' /proc/"$EPID"/status)
ok "NAMES lists all $N, lookups work (daemon RSS ${rss} kB, ASan build)"

kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
wait_for 30 sh -c "[ \$('$EDIST_EPMD' -port $P -names | wc -l) -eq 1 ]" ||
    fail "registrations survive their connections"
ok "all $N unregistered when their connections closed"
check_edist_exit "$EPID" "$P"

# Out of descriptors: with a limit of 40, 60 idle connections exhaust it;
# the daemon sheds the excess (no busy loop on the backlog) and serves
# again once they are gone.
PL=$(free_port)
(ulimit -n 40 && exec "$EDIST_EPMD" -port "$PL") >"$LIB_TMP/edist-epmd-$PL.log" 2>&1 &
LPID=$!
track $LPID
wait_port "$PL"
{
    for i in $(seq 60); do echo "conn c$i"; echo "send c$i 00"; done
    echo "sleep 1000"
    for i in $(seq 60); do echo "close c$i"; done
    echo "sleep 300"
    echo "conn m"; echo "send m $NAMES_REQ"; echo "recv m 1000"
} >"$LIB_TMP/exhaust"
ticks0=$(awk '{print $14 + $15}' /proc/$LPID/stat)
"$PROBE" 127.0.0.1 "$PL" <"$LIB_TMP/exhaust" >"$LIB_TMP/exhaust.out"
ticks1=$(awk '{print $14 + $15}' /proc/$LPID/stat)
grep -q "^m: 0000" "$LIB_TMP/exhaust.out" ||
    fail "no answer after descriptor exhaustion: $(cat "$LIB_TMP/exhaust.out")"
[ $((ticks1 - ticks0)) -lt 100 ] ||
    fail "daemon spun while out of descriptors ($((ticks1 - ticks0)) ticks)"
grep -q "out of file descriptors" "$LIB_TMP/edist-epmd-$PL.log" ||
    fail "descriptors were not exhausted (test ineffective)"
check_edist_exit "$LPID" "$PL"
