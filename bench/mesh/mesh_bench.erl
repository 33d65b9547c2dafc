%% mesh_bench: the BEAM side of bench/mesh (run.sh): a hidden driver node
%% that times how long a chain of nodes takes to become a full mesh, and
%% an observer that times a nodedown.  Works the same whatever the nodes
%% are (BEAM or `edist node`): it only uses rpc (erlang:nodes/0 and
%% net_kernel:connect_node/1, which both serve).
-module(mesh_bench).
-export([mesh/1, observe/1]).

%% mesh([Mode, N1, N2, ...]): N1..Nk are running and unconnected.  At T0
%% asks each Ni to connect to Ni+1 (the chain): all at once (Mode
%% "parallel") or one after the other, each request answered before the
%% next is sent (Mode "serial"); then polls every
%% node's nodes() until each lists the k-1 others: "full mesh reached".
%% Prints RESULT mesh_ms <ms from T0 to the first poll that saw the full
%% mesh> and RESULT polls <how many polling rounds>.
mesh([Mode | Args]) ->
    Nodes = [list_to_atom(A) || A <- Args],
    K = length(Nodes),
    %% Warm-up, not timed: the driver's own (hidden) connections.
    Warm = erpc:multicall(Nodes, erlang, nodes, [], 20000),
    [begin
         {ok, []} =:= W orelse
             fail("node ~p not ready or not alone: ~p", [N, W])
     end || {N, W} <- lists:zip(Nodes, Warm)],
    Pairs = lists:zip(lists:droplast(Nodes), tl(Nodes)),
    T0 = erlang:monotonic_time(microsecond),
    case Mode of
        "parallel" ->
            [spawn(fun() -> erpc:call(A, net_kernel, connect_node, [B], 20000) end)
             || {A, B} <- Pairs];
        "serial" ->
            [true = erpc:call(A, net_kernel, connect_node, [B], 20000)
             || {A, B} <- Pairs]
    end,
    Deadline = T0 + 60000000,
    {T, Polls} = poll(Nodes, K - 1, Deadline, 1),
    io:format("RESULT mesh_ms ~.1f~nRESULT polls ~p~n",
              [(T - T0) / 1000, Polls]),
    halt(0).

poll(Nodes, Want, Deadline, Round) ->
    Rs = erpc:multicall(Nodes, erlang, nodes, [], 5000),
    Now = erlang:monotonic_time(microsecond),
    case lists:all(fun({ok, L}) -> length(L) =:= Want; (_) -> false end,
                   Rs) of
        true ->
            {Now, Round};
        false when Now > Deadline ->
            Counts = [case R of {ok, L} -> length(L); E -> E end || R <- Rs],
            fail("no full mesh after 60 s: ~p", [Counts]);
        false ->
            poll(Nodes, Want, Deadline, Round + 1)
    end.

%% observe([Victim]): connects to Victim, prints READY, and on nodedown
%% prints DOWN <os:system_time(millisecond)> (the wall clock, which run.sh
%% compares with the time it sent the signal).
observe([V0]) ->
    V = list_to_atom(V0),
    true = net_kernel:connect_node(V) orelse fail("cannot connect ~p", [V]),
    monitor_node(V, true),
    io:format("READY~n"),
    receive
        {nodedown, V} ->
            io:format("DOWN ~p~n", [os:system_time(millisecond)]),
            halt(0)
    after 60000 ->
        fail("no nodedown in 60 s", [])
    end.

fail(Fmt, Args) ->
    io:format("FAIL " ++ Fmt ++ "~n", Args),
    halt(1).
