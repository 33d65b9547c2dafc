%% bench_beam: the BEAM side of bench/dist (server and client roles).
%%
%% Protocol shared by every implementation in this benchmark (BEAM, libei,
%% edist): the server is registered as `bench`.
%%   {sink, From, N}  -> server replies {ready, ServerPid}, takes the next N
%%                       messages from its mailbox, then sends `done` to From.
%%   {echo, From, K}  -> server replies {ready, ServerPid}, then sends each of
%%                       the next K messages back to From unchanged.
%% The client prints "RESULT key value" lines that run.sh collects.
-module(bench_beam).
-export([server/0, client/1]).

server() ->
    register(bench, self()),
    loop().

loop() ->
    receive
        {sink, From, N} ->
            From ! {ready, self()},
            sink(N),
            From ! done,
            loop();
        {echo, From, K} ->
            From ! {ready, self()},
            echo(From, K),
            loop();
        stop ->
            erlang:halt(0);
        _ ->
            loop()
    end.

sink(0) -> ok;
sink(N) -> receive _ -> sink(N - 1) end.

echo(_, 0) -> ok;
echo(From, K) -> receive M -> From ! M, echo(From, K - 1) end.

%% client([Prefix, ServerNode, Small, Bin100, Bin64k, Rtt, Conns])
client([Prefix, Server | Counts]) ->
    Node = list_to_atom(Server),
    [Small, B100, B64k, Rtt, Conns] = [list_to_integer(C) || C <- Counts],
    pong = net_adm:ping(Node),
    thr(Prefix, Node, small, Small),
    thr(Prefix, Node, bin100, B100),
    thr(Prefix, Node, bin64k, B64k),
    rtt(Prefix, Node, Rtt),
    conn(Prefix, Node, Conns),
    erlang:halt(0).

msg(small) -> {self(), 42};
msg(bin100) -> binary:copy(<<7>>, 100);
msg(bin64k) -> binary:copy(<<7>>, 65536).

ready(Node, Tag, N) ->
    {bench, Node} ! {Tag, self(), N},
    receive {ready, P} -> P after 10000 -> exit(noready) end.

thr(_, _, _, 0) -> ok;
thr(Prefix, Node, Kind, N) ->
    Pid = ready(Node, sink, N),
    Msg = msg(Kind),
    T0 = erlang:monotonic_time(microsecond),
    send_n(Pid, Msg, N),
    receive done -> ok after 120000 -> exit(timeout) end,
    Us = max(1, erlang:monotonic_time(microsecond) - T0),
    Bytes = byte_size(term_to_binary(Msg)) - 1,
    io:format("RESULT ~s.~s.rate ~.1f~n", [Prefix, Kind, N * 1.0e6 / Us]),
    io:format("RESULT ~s.~s.mbs ~.1f~n",
              [Prefix, Kind, N * Bytes / Us]).

send_n(_, _, 0) -> ok;
send_n(Pid, Msg, N) -> Pid ! Msg, send_n(Pid, Msg, N - 1).

rtt(_, _, 0) -> ok;
rtt(Prefix, Node, K) ->
    Pid = ready(Node, echo, K),
    Msg = msg(small),
    Ts = lists:sort(rtt_loop(Pid, Msg, K, [])),
    io:format("RESULT ~s.rtt.p50 ~.1f~n", [Prefix, pct(Ts, 0.50)]),
    io:format("RESULT ~s.rtt.p99 ~.1f~n", [Prefix, pct(Ts, 0.99)]).

rtt_loop(_, _, 0, Acc) -> Acc;
rtt_loop(Pid, Msg, K, Acc) ->
    T0 = erlang:monotonic_time(nanosecond),
    Pid ! Msg,
    receive Msg -> ok after 10000 -> exit(rtt_timeout) end,
    T = erlang:monotonic_time(nanosecond) - T0,
    rtt_loop(Pid, Msg, K - 1, [T / 1000 | Acc]).

pct(Sorted, P) ->
    lists:nth(max(1, min(length(Sorted), round(P * length(Sorted)))), Sorted).

%% Connect + handshake (EPMD lookup included, as ei_connect does), then a
%% disconnect and a short pause outside the measurement.
conn(_, _, 0) -> ok;
conn(Prefix, Node, K) ->
    erlang:disconnect_node(Node),
    timer:sleep(20),
    Ts = lists:sort(conn_loop(Node, K, [])),
    io:format("RESULT ~s.connect.p50 ~.1f~n", [Prefix, pct(Ts, 0.50)]).

conn_loop(_, 0, Acc) -> Acc;
conn_loop(Node, K, Acc) ->
    T0 = erlang:monotonic_time(nanosecond),
    true = net_kernel:connect_node(Node),
    T = erlang:monotonic_time(nanosecond) - T0,
    erlang:disconnect_node(Node),
    timer:sleep(3),
    conn_loop(Node, K - 1, [T / 1000 | Acc]).
