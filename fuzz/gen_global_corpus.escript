#!/usr/bin/env escript
%% Writes the seed corpus of fuzz_global (fuzz/fuzz_global.c): scripts of
%% node events and real global_name_server message shapes (OTP 25,
%% global.erl vsn 8) from peers n0@h..n6@h to us (n7@h).
%% Usage: escript fuzz/gen_global_corpus.escript fuzz/corpus/global
main([Dir]) ->
    Scripts = scripts(),
    lists:foreach(fun({I, S}) ->
        F = filename:join(Dir, io_lib:format("seed_~3..0w", [I])),
        ok = file:write_file(F, iolist_to_binary(S))
    end, lists:zip(lists:seq(1, length(Scripts)), Scripts)).

pid(Node, Id) ->
    N = atom_to_binary(Node, utf8),
    binary_to_term(<<131, 88, 119, (byte_size(N)), N/binary, Id:32, 0:32, 1:32>>).

ref(Node) ->
    N = atom_to_binary(Node, utf8),
    binary_to_term(<<131, 90, 3:16, 119, (byte_size(N)), N/binary, 1:32, 1:32, 2:32, 3:32>>).

up(I) -> <<0, I>>.
hidden(I) -> <<1, I>>.
down(I) -> <<2, I>>.
msg(I, T) -> B = term_to_binary(T), <<3, I, (byte_size(B)):16, B/binary>>.
nd(I) -> list_to_atom("n" ++ integer_to_list(I) ++ "@h").
cast(M) -> {'$gen_cast', M}.
call(I, Req) -> {'$gen_call', {pid(nd(I), 1), [alias | ref(nd(I))]}, Req}.

-define(MY, -1000).

session(I, Known, Names) ->
    L = pid(nd(I), 7),
    [up(I),
     msg(I, cast({init_connect, {8, -100 - I}, nd(I), {locker, no_longer_a_pid, #{}, L}})),
     msg(I, {init_connect_ack, nd(I), ?MY, -100 - I}),
     msg(I, call(I, {set_lock, {global, lists:sort([L, pid('n7@h', 2)])}})),
     msg(I, cast({lock_set, L, true, [], ?MY})),
     msg(I, cast({exchange, nd(I), Names, [], ?MY})),
     msg(I, cast({resolved, nd(I), [], Known, unused, [], ?MY})),
     msg(I, call(I, {del_lock, {global, lists:sort([L, pid('n7@h', 2)])}}))].

scripts() ->
    N1 = [{foo, pid('n1@h', 9), {global, random_exit_name}}],
    [session(1, [], []),
     session(1, [{'n2@h', 8}, {'n3@h', 8}], N1),
     session(2, ['n4@h'], N1) ++ session(3, [{'n5@h', 8}], []),
     session(1, [{'n2@h', 8}], []) ++ [msg(2, cast({in_sync, 'n2@h', true})), up(2)],
     session(1, [], []) ++
         [msg(1, cast({new_nodes, 'n1@h', [{insert, {bar, pid('n1@h', 3), m}}], [],
                       [{'n2@h', 8}, {'n3@h', 8}, {'n7@h', 8}], [{vsn, 8}]}))],
     session(1, [{'n2@h', 8}], []) ++ [up(2), msg(1, {lost_connection, 'n1@h', 77, 5, 'n2@h'}),
                                       msg(1, {lost_connection, 'n1@h', 77, 5, 'n2@h'}), down(2)],
     session(1, [{'n2@h', 8}], []) ++ [msg(1, {remove_connection, 'n2@h'}), down(1)],
     session(1, [], []) ++ [msg(1, {lost_connection, 'n1@h', 77, 6, 'n7@h'})],
     [up(1), msg(1, {init_connect_ack, 'n1@h', -5, -6}), msg(1, {cancel_connect, 'n1@h', -1001})],
     [up(1), msg(1, cast({init_connect, {8, -3}, 'n1@h', {locker, no_longer_a_pid, #{}, pid('n1@h', 7)}})),
      msg(1, cast({init_connect, {9, -4, extra}, 'n1@h', {locker, no_longer_a_pid, #{}, pid('n1@h', 7)}}))],
     [msg(1, call(1, {register, {a, name}, pid('n1@h', 3), {global, random_exit_name}})),
      msg(1, call(1, {register_ext, x, pid('n2@h', 3), m, 'n2@h'})),
      msg(1, call(1, {unregister, {a, name}})),
      msg(1, call(1, {set_lock, {res, [pid('n1@h', 1)]}})),
      msg(2, call(2, {set_lock, {res, [pid('n2@h', 1)]}})),
      msg(1, call(1, {del_lock, {res, [pid('n1@h', 1)]}})),
      msg(1, call(1, get_known)), msg(1, call(1, get_synced)),
      msg(1, call(1, get_protocol_version)), msg(1, call(1, get_names_ext)),
      msg(1, call(1, {whatever}))],
     [hidden(3), msg(3, cast({init_connect, {8, -3}, 'n3@h', {locker, x, #{}, pid('n3@h', 7)}})), down(3)],
     [up(7), msg(7, cast({init_connect, {8, -3}, 'n7@h', {locker, x, #{}, pid('n7@h', 7)}}))],
     [up(1), up(2), up(3),
      msg(2, cast({lock_set, pid('n2@h', 7), true, [], ?MY + 1})),
      msg(1, cast({lock_set, pid('n1@h', 7), false, [], ?MY})),
      msg(3, cast({lock_set, pid('n3@h', 7), true, []})),
      msg(1, cast({async_del_name, x, pid('n1@h', 1)})),
      msg(1, [garbage]), msg(1, {'$gen_call', x, y})]
    ].
