#!/usr/bin/env bash
# test_etf_golden.sh: ETF golden vectors made by real OTP at test time.
#
# An escript writes term_to_binary/1,2 output for a few thousand random
# terms of every kind (fixed seed); etf_roundtrip decodes each with edist
# and re-encodes it, checking byte equality with term_to_binary for terms
# without maps; then the escript checks on the BEAM that binary_to_term of
# both edist encodings (term_to_binary and distribution atom modes) is =:=
# the original term.
. "$(dirname "$0")/lib.sh"
need_otp
helper="$EDIST_INTEROP_BIN/etf_roundtrip"
[ -x "$helper" ] || fail "etf_roundtrip not built at $helper"
script="$EDIST_SRC/tests/interop/etf_golden.escript"
dir="$LIB_TMP/golden"
mkdir -p "$dir"

for seed in 1 2; do
    rm -f "$dir"/*
    timeout 60 escript "$script" gen "$dir" 1500 "$seed" ||
        fail "escript gen (seed $seed)"
    timeout 120 "$helper" "$dir" || fail "edist round trip (seed $seed)"
    timeout 60 escript "$script" check "$dir" ||
        fail "BEAM check of edist encodings (seed $seed)"
    ok "seed $seed"
done
ok "ETF golden vectors"
