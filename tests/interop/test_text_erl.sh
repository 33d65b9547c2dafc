#!/usr/bin/env bash
# test_text_erl.sh: Erlang term syntax against real OTP.
#
# text_check.escript generates random terms with a fixed seed and drives
# text_roundtrip (the C helper): edist must parse io_lib's ~w, ~p and ~tp
# text, print ~w, ~p, ~tw and ~tp byte for byte as io_lib does, print text
# that erl_parse:parse_term/1 reads back to =:= terms, and compare and sort
# exactly as BEAM does (<, ==, =:=, map key order, lists:sort/1).  A second
# run under `+pc unicode` checks ~tp with the Unicode printable range.
# No network and no distribution: only escript and the helper.
. "$(dirname "$0")/lib.sh"
need_otp

HELPER="$EDIST_INTEROP_BIN/text_roundtrip"
[ -x "$HELPER" ] || fail "missing helper $HELPER"
COUNT=${EDIST_TEXT_COUNT:-3000}
CHECK="$EDIST_SRC/tests/interop/text_check.escript"

timeout 120 escript "$CHECK" "$HELPER" "$LIB_TMP" "$COUNT" ||
    fail "text checks against OTP failed"
ok "edist text printing, parsing and term order match OTP"

ERL_FLAGS="+pc unicode" timeout 120 escript "$CHECK" "$HELPER" "$LIB_TMP" \
    "$((COUNT / 3))" || fail "text checks under +pc unicode failed"
ok "~tp under +pc unicode matches OTP"
