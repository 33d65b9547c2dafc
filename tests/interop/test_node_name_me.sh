#!/usr/bin/env bash
# NAME_ME (dynamic node names, OTP 23+): a BEAM started as
# `-name undefined@127.0.0.1` dials `edist node`, which names it like
# net_kernel does (random base-36 name @ its host, random creation >= 4).
# The BEAM must come up under that name, the edist node must know it by
# that name (nodeup, erlang:nodes/1), and messages must flow both ways
# (echo: the reply goes to a pid carrying the assigned name and creation).
. "$(dirname "$0")/lib.sh"
need_otp
start_private_epmd
start_edist_node nm secret

out=$(run_erl 30 "$EP" undefined secret '
  N = list_to_atom("nm@127.0.0.1"),
  true = net_kernel:connect_node(N),
  Me = node(),
  [Alive, "127.0.0.1"] = string:split(atom_to_list(Me), "@"),
  true = Alive =/= "undefined",
  {echo, N} ! {self(), {hello, Me}},
  receive {hello, Me} -> ok after 5000 -> halt(3) end,
  Known = rpc:call(N, erlang, nodes, [hidden]),
  true = lists:member(Me, Known),
  io:format("RESULT ~s~n", [Me]),
  halt().' 2>&1) || fail "dynamic-name BEAM failed: $out"
name=$(printf '%s\n' "$out" | sed -n 's/^RESULT //p')
[ -n "$name" ] || fail "no RESULT line: $out"
case "$name" in
undefined@*) fail "the BEAM kept the name $name" ;;
esac
wait_for 5 grep -q "nodeup $name" "$LIB_TMP/nm.log" ||
    fail "edist did not log nodeup $name: $(cat "$LIB_TMP/nm.log")"
ok "NAME_ME: BEAM named $name by edist, echo and rpc under that name"
