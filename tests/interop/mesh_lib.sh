# mesh_lib.sh: helpers shared by test_mesh_*.sh (sourced after lib.sh).
# Members are BEAM nodes (idle, visible) and `edist node` processes; the
# scenario runs in mesh_test.erl on a hidden BEAM node, which drives the
# BEAM members through rpc and reads every member's nodes() through rpc.

MESH_COOKIE=meshcookie

mesh_setup() {
    need_otp
    start_private_epmd
    erlc -o "$LIB_TMP" "$(dirname "$0")/mesh_test.erl" ||
        fail "mesh_test.erl does not compile"
}

# mesh_beam NAME [ERL ARGS...]: an idle visible BEAM member.
mesh_beam() {
    local name=$1
    shift
    local pid
    pid=$(start_erl "$EP" "$name" "$MESH_COOKIE" 'receive stop -> ok end.' "$@")
    track "$pid"
}

# mesh_edist NAME [EDIST NODE ARGS...]: an `edist node` member.
mesh_edist() {
    local name=$1
    shift
    start_edist_node "$name" "$MESH_COOKIE" "$@"
}

# mesh_run SECONDS SCENARIO [ARGS...]: runs the scenario; fails the test
# unless it prints ALL OK.
mesh_run() {
    local secs=$1
    shift
    local args="" a
    for a in "$@"; do args="$args, \"$a\""; done
    local out rc
    out=$(run_erl "$secs" "$EP" ctl "$MESH_COOKIE" \
        "mesh_test:main([${args#, }])." -hidden -pa "$LIB_TMP" \
        ${MESH_ERL_ARGS:-} 2>&1)
    rc=$?
    echo "$out" | grep -E "^(ok|RESULT) " | sed 's/^/  /'
    [ $rc -eq 0 ] && echo "$out" | grep -q "ALL OK" ||
        fail "mesh_test $1: rc $rc: $out"
}
