%% mesh_test: drives the test_mesh_*.sh scenarios from a hidden BEAM node
%% (hidden, so that it never becomes part of the mesh it checks).  Nodes
%% are given by short names (X@127.0.0.1); BEAM members are told to ping
%% through rpc, edist members answer erlang:nodes/0 through rpc (served by
%% `edist node`).  Every wait is a poll with a deadline.  Prints "ok ..."
%% lines and ALL OK, or FAIL and halts with 1.
-module(mesh_test).
-export([main/1]).

n(S) -> list_to_atom(S ++ "@127.0.0.1").

now_ms() -> erlang:monotonic_time(millisecond).

view(N) ->
    case catch rpc:call(N, erlang, nodes, [], 3000) of
        L when is_list(L) -> lists:sort(L);
        E -> E
    end.

%% [] when every node's nodes() is exactly the others.
mesh_diff(Nodes) ->
    [{N, Got} || N <- Nodes, (Got = view(N)) =/= lists:sort(Nodes -- [N])].

poll(F, Ms) -> poll(F, now_ms() + Ms, undefined).
poll(F, Deadline, _) ->
    case F() of
        [] -> ok;
        Bad ->
            case now_ms() > Deadline of
                true -> {timeout, Bad};
                false -> timer:sleep(200), poll(F, Deadline, Bad)
            end
    end.

full_mesh(Nodes, Ms) -> poll(fun() -> mesh_diff(Nodes) end, Ms).

check(ok, What) -> io:format("ok ~s~n", [What]);
check(Bad, What) ->
    io:format("FAIL ~s: ~p~n", [What, Bad]),
    halt(1).

ping(From, To) ->
    check(case rpc:call(From, net_adm, ping, [To], 10000) of
              pong -> ok;
              E -> E
          end, io_lib:format("~s pings ~s", [From, To])).

%% global:sync() on Node returns within Ms.
sync(Node, Ms) ->
    T0 = now_ms(),
    R = rpc:call(Node, global, sync, [], Ms),
    check(case R of ok -> ok; _ -> {sync, R} end,
          io_lib:format("global:sync() on ~s returned in ~p ms",
                        [Node, now_ms() - T0])).

%% Stays meshed for Ms: checked again at the end (and on the way).
stays_meshed(Nodes, Ms) ->
    Deadline = now_ms() + Ms,
    Loop = fun L() ->
                   case mesh_diff(Nodes) of
                       [] -> case now_ms() > Deadline of
                                 true -> ok;
                                 false -> timer:sleep(1000), L()
                             end;
                       Bad -> {broken, Bad}
                   end
           end,
    Loop().

connected(A, B) -> lists:member(B, view(A)).

main(Args) ->
    try run(Args) of
        _ -> io:format("ALL OK~n"), halt(0)
    catch C:R:St ->
            io:format("FAIL ~p:~p ~p~n", [C, R, St]),
            halt(1)
    end.

run(["transitive" | _]) ->
    [B1, B2, B3, E1, E2, E3] = [n(X) || X <- ["b1", "b2", "b3", "e1", "e2", "e3"]],
    %% b1 and e1 first; a global name registered on b1 reaches e1's table
    %% (e1 answers global's calls: the registration's locks and register)
    ping(B1, E1),
    check(full_mesh([B1, E1], 10000), "b1 and e1 meshed"),
    Pid = rpc:call(B1, erlang, spawn, [timer, sleep, [infinity]]),
    check(case rpc:call(B1, global, register_name, [mesh_name, Pid]) of
              yes -> ok; E -> E end, "global:register_name on b1"),
    Known = rpc:call(B1, gen_server, call, [{global_name_server, E1}, get_known]),
    check(case Known of [B1] -> ok; _ -> {get_known, Known} end,
          "e1's global_name_server answers calls (get_known)"),
    %% rex's nodes observer on b1 asked e1 for its features at nodeup
    Feat = fun() ->
                   Tab = rpc:call(B1, persistent_term, get, [rex_nodes_observer]),
                   case rpc:call(B1, ets, lookup, [Tab, E1]) of
                       [{E1, true}] -> [];
                       Other -> Other
                   end
           end,
    check(poll(Feat, 5000), "e1 answered rex's features_request ([erpc])"),
    %% BEAM -> edist -> BEAM: b2 meets only e1; it learns the name from
    %% e1's exchange (b1 and b2 never exchange names: only in_sync)
    ping(B2, E1),
    check(full_mesh([B1, B2, E1], 10000), "BEAM -> edist -> BEAM meshed"),
    sync(B1, 5000),
    sync(B2, 5000),
    check(case rpc:call(B2, global, whereis_name, [mesh_name]) of
              Pid -> ok; E2x -> {whereis, E2x} end,
          "global:whereis_name on b2 finds it (through e1)"),
    %% edist -> BEAM -> edist (e2 and e3 dialled b3 themselves)
    check(full_mesh([B3, E2, E3], 10000), "edist -> BEAM -> edist meshed"),
    sync(B3, 5000),
    %% the two partitions merge into one through a BEAM node
    ping(B1, B3),
    check(full_mesh([B1, B2, B3, E1, E2, E3], 15000), "partitions merged: 6 nodes"),
    [sync(B, 5000) || B <- [B1, B2, B3]],
    check(case rpc:call(B3, global, whereis_name, [mesh_name]) of
              Pid -> ok; E3x -> {whereis, E3x} end,
          "the global name reached the other partition");

run(["chain" | _]) ->
    [B1, B2, B3, E1, E2] = [n(X) || X <- ["b1", "b2", "b3", "e1", "e2"]],
    %% a mixed chain b1 - e1 - b2 - e2 - b3, all links made at once
    [ping(F, T) || {F, T} <- [{B1, E1}, {B2, E1}, {B2, E2}, {B3, E2}]],
    check(full_mesh([B1, E1, B2, E2, B3], 15000), "mixed chain of 5 meshed"),
    [sync(B, 5000) || B <- [B1, B2, B3]],
    %% a star: e5 in the middle of b4, e6 and e7 (who dialled e5)
    [B4, E5, E6, E7] = [n(X) || X <- ["b4", "e5", "e6", "e7"]],
    ping(B4, E5),
    check(full_mesh([B4, E5, E6, E7], 15000), "star around edist meshed"),
    sync(B4, 5000),
    %% an edist-only chain of 5 (each dialled the previous)
    Es = [n("c" ++ integer_to_list(I)) || I <- lists:seq(1, 5)],
    check(full_mesh(Es, 15000), "edist-only chain of 5 meshed");

run(["partition", E2Pid, E3Pid]) ->
    [B1, B2, E1, E2, E3] = [n(X) || X <- ["b1", "b2", "e1", "e2", "e3"]],
    All = [B1, B2, E1, E2],
    [ping(F, T) || {F, T} <- [{B1, E1}, {B2, E1}, {B2, E2}, {B1, E3}]],
    check(full_mesh([E3 | All], 15000), "b1 - e1 - b2 - e2 (+ e3) meshed"),
    %% a graceful stop of an edist member does not split the others (as
    %% BEAM's init:stop, it reports no lost connections)
    os:cmd("kill -TERM " ++ E3Pid),
    check(full_mesh(All, 10000), "e3 stopped: the other four still meshed"),
    check(stays_meshed(All, 2000), "and stay meshed"),
    %% b1 drops e1: every node keeps at most one side of it (BEAM asks the
    %% others to remove_connection; edist honours it)
    true = rpc:call(B1, erlang, disconnect_node, [E1]),
    Split = fun() ->
                    [{X, view(X)} || X <- [B2, E2],
                                     connected(X, B1) andalso connected(X, E1)]
                        ++ [b1_e1 || connected(B1, E1)]
            end,
    check(poll(Split, 10000), "no node keeps both b1 and e1 after the split"),
    %% heal: b1 reconnects to the nodes it lost; global merges the rest
    timer:sleep(500),
    [ping(B1, X) || X <- [E1, B2, E2], not connected(B1, X)],
    check(full_mesh(All, 15000), "partition healed into one mesh"),
    [sync(B, 5000) || B <- [B1, B2]],
    %% SIGKILL of an edist member: the others stay meshed
    os:cmd("kill -KILL " ++ E2Pid),
    check(full_mesh([B1, B2, E1], 10000), "e2 killed: b1, b2, e1 meshed"),
    check(stays_meshed([B1, B2, E1], 3000), "and stay meshed"),
    %% SIGKILL of a BEAM member
    B2Pid = rpc:call(B2, os, getpid, []),
    os:cmd("kill -KILL " ++ B2Pid),
    check(full_mesh([B1, E1], 10000), "b2 killed: b1, e1 meshed"),
    sync(B1, 5000);

run(["hidden" | _]) ->
    [B1, B2, B3, B4, H, C] = [n(X) || X <- ["b1", "b2", "b3", "b4", "h", "nc"]],
    %% a hidden edist node between b1 and b2: nodes(hidden), no global,
    %% no meshing
    ping(B1, H),
    ping(B2, H),
    timer:sleep(2000),
    Hid = rpc:call(B1, erlang, nodes, [hidden]),
    check(case {lists:member(H, Hid), view(B1)} of
              {true, []} -> ok; Other -> {Hid, Other} end,
          "hidden edist: in nodes(hidden) of b1, b1 not meshed with b2"),
    HHid = lists:sort(rpc:call(H, erlang, nodes, [hidden])),
    check(case {view(H), lists:member(B1, HHid), lists:member(B2, HHid)} of
              {[], true, true} -> ok; Other1 -> {HHid, Other1} end,
          "hidden edist: its nodes() is empty, nodes(hidden) has b1 and b2"),
    Known = rpc:call(B1, gen_server, call, [global_name_server, get_known]),
    check(case lists:member(H, Known) of false -> ok; true -> Known end,
          "hidden edist: unknown to b1's global"),
    sync(B1, 5000),
    %% connect_all false: visible, but global never meshes through it
    ping(B3, C),
    ping(B4, C),
    timer:sleep(2000),
    check(case {view(B3), view(B4)} of
              {[C], [C]} -> ok; Other2 -> Other2 end,
          "connect_all false: visible, b3 and b4 not meshed through it");

run(["scale", NStr, TickStr]) ->
    N = list_to_integer(NStr),
    Tick = list_to_integer(TickStr),
    Ns = [n("s" ++ integer_to_list(I)) || I <- lists:seq(1, N)],
    T0 = now_ms(),
    check(full_mesh(Ns, 90000),
          io_lib:format("edist-only chain of ~p meshed", [N])),
    io:format("RESULT mesh_ms ~p~n", [now_ms() - T0]),
    check(stays_meshed(Ns, 3 * Tick * 1000),
          io_lib:format("still meshed after 3 ticktimes (~p s)", [3 * Tick])).
