%% sig_test: the BEAM side of test_signals.sh.  Drives sig_peer (an edist
%% node, commands documented in sig_peer.c) and checks links, exit
%% signals, monitors, node monitoring and gen_server calls both ways.
%%
%% main([S1, S1OsPid, S2]): S1 and S2 are sig_peer nodes; S1 is killed with
%% SIGKILL at the end, S2 stopped gracefully.
-module(sig_test).
-export([main/1]).

-define(T, 5000).
-define(EXPECT(P, What), receive P -> ok after ?T -> fail({missing, What}) end).
-define(NONE(P, What), receive P -> fail({unexpected, What}) after 300 -> ok end).

fail(What) ->
    io:format("FAIL ~p~n~p~n", [What, flush([])]),
    halt(1).

flush(Acc) ->
    receive M -> flush([M | Acc]) after 0 -> lists:reverse(Acc) end.

tag(open) -> opened;
tag(close) -> closed;
tag(link) -> linked;
tag(unlink) -> unlinked;
tag(exit) -> exited;
tag(monitor) -> monitored;
tag(demonitor) -> demonitored;
tag(register) -> registered;
tag(stop) -> stopping;
tag(T) -> T.

cmd(S, Msg) ->
    {ctl, S} ! Msg,
    T = tag(element(1, Msg)),
    receive R when element(1, R) =:= T -> R
    after 10000 -> fail({no_reply, Msg})
    end.

open(S) ->
    {opened, I, P} = cmd(S, {open, self()}),
    {I, P}.

ok(S, Msg) ->
    case cmd(S, Msg) of
        {_, 0} -> ok;
        Other -> fail({Msg, Other})
    end.

%% A BEAM process that reports what it receives and exits on {die, R}.
worker(Parent, Trap) ->
    spawn(fun() ->
                  process_flag(trap_exit, Trap),
                  worker_loop(Parent)
          end).

worker_loop(Parent) ->
    receive
        {die, R} -> exit(R);
        {link, P} -> link(P), Parent ! {wlinked, self()}, worker_loop(Parent);
        {unlink, P} -> unlink(P), Parent ! {wunlinked, self()}, worker_loop(Parent);
        M -> Parent ! {worker, self(), M}, worker_loop(Parent)
    end.

main([S1a, OsPidA, S2a]) ->
    S = list_to_atom(S1a),
    S2 = list_to_atom(S2a),
    Me = node(),
    process_flag(trap_exit, true),
    pong = net_adm:ping(S),

    %% --- links, BEAM -> edist, normal and abnormal close.
    {I1, P1} = open(S),
    true = link(P1),
    {I2, P2} = open(S),
    true = link(P2),
    cmd(S, {close, self(), I1, normal}),
    ?EXPECT({'EXIT', P1, normal}, exit_normal),
    cmd(S, {close, self(), I2, {shutdown, boom}}),
    ?EXPECT({'EXIT', P2, {shutdown, boom}}, exit_abnormal),
    %% a link to a mailbox that is gone: noproc
    true = link(P1),
    ?EXPECT({'EXIT', P1, noproc}, link_noproc),
    io:format("ok links BEAM -> edist~n"),

    %% --- links, edist -> BEAM: normal and abnormal exits.
    W1 = worker(self(), false),
    W2 = worker(self(), false),
    ok(S, {link, self(), 0, W1}),
    ok(S, {link, self(), 0, W2}),
    W1 ! {die, normal},
    ?EXPECT({got, 0, {'EXIT', W1, normal}}, edist_exit_normal),
    W2 ! {die, crash},
    ?EXPECT({got, 0, {'EXIT', W2, crash}}, edist_exit_crash),
    %% edist links to a dead BEAM pid: noproc
    ok(S, {link, self(), 0, W1}),
    ?EXPECT({got, 0, {'EXIT', W1, noproc}}, edist_link_noproc),
    %% the link is seen from BEAM: closing the edist side kills a
    %% non-trapping worker
    {I3, P3} = open(S),
    W3 = worker(self(), false),
    MW3 = monitor(process, W3),
    ok(S, {link, self(), I3, W3}),
    {links, L3} = process_info(W3, links),
    true = lists:member(P3, L3),
    cmd(S, {close, self(), I3, bad}),
    ?EXPECT({'DOWN', MW3, process, W3, bad}, linked_worker_killed),
    io:format("ok links edist -> BEAM~n"),

    %% --- exit/2 both ways.
    {I4, P4} = open(S),
    exit(P4, kill_me),
    Self = self(),
    ?EXPECT({got, I4, {'EXIT', Self, kill_me}}, exit2_in),
    W4 = worker(self(), true),
    ok(S, {exit, self(), I4, W4, bye}),
    ?EXPECT({worker, W4, {'EXIT', P4, bye}}, exit2_out),
    io:format("ok exit/2~n"),

    %% --- unlink, both sides, and races.
    W5 = worker(self(), false),
    ok(S, {link, self(), I4, W5}),
    ok(S, {unlink, self(), I4, W5}),
    W5 ! {die, crash},
    ?NONE({got, I4, {'EXIT', W5, _}}, exit_after_unlink),
    {I5, P5} = open(S),
    true = link(P5),
    true = unlink(P5),
    cmd(S, {close, self(), I5, crash}),
    ?NONE({'EXIT', P5, _}, exit_after_beam_unlink),
    %% races: BEAM unlinks while edist closes; edist unlinks while the
    %% BEAM side dies.  No exit signal may arrive after the unlink.
    lists:foreach(
      fun(K) ->
              {Ia, Pa} = open(S),
              true = link(Pa),
              {ctl, S} ! {close, self(), Ia, race},
              true = unlink(Pa),
              receive {'EXIT', Pa, _} -> fail({race1, K}) after 0 -> ok end,
              receive {closed, Ia} -> ok after ?T -> fail(race_close) end,
              Wb = worker(self(), false),
              ok(S, {link, self(), 0, Wb}),
              Wb ! {die, race},
              {unlinked, 0} = cmd(S, {unlink, self(), 0, Wb}),
              %% An EXIT that came before the unlink is fine (the edist
              %% side relays it to us asynchronously, hence the grace
              %% period); one that comes later fails the check below.
              receive {got, 0, {'EXIT', Wb, race}} -> ok after 200 -> ok end
      end, lists:seq(1, 20)),
    ?NONE({'EXIT', _, race}, late_race_exit_beam),
    ?NONE({got, 0, {'EXIT', _, race}}, late_race_exit_edist),
    %% simultaneous unlink from both sides
    {I6, P6} = open(S),
    true = link(P6),
    {ctl, S} ! {unlink, self(), I6, self()},
    true = unlink(P6),
    ?EXPECT({unlinked, 0}, both_unlink),
    cmd(S, {close, self(), I6, gone}),
    ?NONE({'EXIT', P6, _}, exit_after_both_unlink),
    io:format("ok unlink and races~n"),

    %% --- monitors, BEAM -> edist, by pid and by name; noproc.
    {I7, P7} = open(S),
    ok(S, {register, self(), I7, named7}),
    R7 = monitor(process, P7),
    R7n = monitor(process, {named7, S}),
    cmd(S, {close, self(), I7, r7}),
    ?EXPECT({'DOWN', R7, process, P7, r7}, down_pid),
    ?EXPECT({'DOWN', R7n, process, {named7, S}, r7}, down_name),
    R7x = monitor(process, P7),
    ?EXPECT({'DOWN', R7x, process, P7, noproc}, down_noproc_pid),
    R7y = monitor(process, {nosuch, S}),
    ?EXPECT({'DOWN', R7y, process, {nosuch, S}, noproc}, down_noproc_name),
    {I8, P8} = open(S),
    R8 = monitor(process, P8),
    true = demonitor(R8),
    cmd(S, {close, self(), I8, r8}),
    ?NONE({'DOWN', R8, _, _, _}, down_after_demonitor),
    io:format("ok monitors BEAM -> edist~n"),

    %% --- monitors, edist -> BEAM, by pid and name; noproc; demonitor.
    W9 = worker(self(), false),
    {monitored, R9} = cmd(S, {monitor, self(), 0, W9}),
    W9 ! {die, r9},
    ?EXPECT({got, 0, {'DOWN', R9, process, W9, r9}}, edist_down_pid),
    W10 = worker(self(), false),
    register(w10, W10),
    {monitored, R10} = cmd(S, {monitor, self(), 0, {w10, Me}}),
    W10 ! {die, r10},
    ?EXPECT({got, 0, {'DOWN', R10, process, {w10, Me}, r10}}, edist_down_name),
    {monitored, R11} = cmd(S, {monitor, self(), 0, {nosuch, Me}}),
    ?EXPECT({got, 0, {'DOWN', R11, process, {nosuch, Me}, noproc}}, edist_noproc),
    {monitored, R12} = cmd(S, {monitor, self(), 0, W9}),
    ?EXPECT({got, 0, {'DOWN', R12, process, W9, noproc}}, edist_noproc_pid),
    W13 = worker(self(), false),
    {monitored, R13} = cmd(S, {monitor, self(), 0, W13}),
    ok(S, {demonitor, self(), 0, R13}),
    W13 ! {die, r13},
    ?NONE({got, 0, {'DOWN', R13, _, _, _}}, edist_down_after_demonitor),
    io:format("ok monitors edist -> BEAM~n"),

    %% --- links and monitors between two mailboxes of the same edist node.
    {La, _} = open(S),
    {Lb, PLb} = open(S),
    {Lc, PLc} = open(S),
    ok(S, {register, self(), Lc, local_c}),
    ok(S, {link, self(), La, PLb}),
    {monitored, RLc} = cmd(S, {monitor, self(), La, PLc}),
    {monitored, RLn} = cmd(S, {monitor, self(), La, local_c}),
    cmd(S, {close, self(), Lb, local_reason}),
    ?EXPECT({got, La, {'EXIT', PLb, local_reason}}, local_link_exit),
    cmd(S, {close, self(), Lc, local_down}),
    ?EXPECT({got, La, {'DOWN', RLc, process, PLc, local_down}}, local_down_pid),
    ?EXPECT({got, La, {'DOWN', RLn, process, {local_c, S}, local_down}}, local_down_name),
    ok(S, {link, self(), La, PLb}),
    ?EXPECT({got, La, {'EXIT', PLb, noproc}}, local_link_noproc),
    {monitored, RLx} = cmd(S, {monitor, self(), La, local_c}),
    ?EXPECT({got, La, {'DOWN', RLx, process, {local_c, S}, noproc}}, local_noproc),
    %% a local link undone by unlink: closing sends nothing
    {Ld, PLd} = open(S),
    ok(S, {link, self(), La, PLd}),
    ok(S, {unlink, self(), La, PLd}),
    cmd(S, {close, self(), Ld, after_unlink}),
    ?NONE({got, La, {'EXIT', PLd, _}}, local_exit_after_unlink),
    io:format("ok local links and monitors~n"),

    %% --- gen_server both ways.
    {reply, hello} = gen_server:call({ctl, S}, hello),
    {reply, {1, [2]}} = gen_server:call({ctl, S}, {1, [2]}, 2000),
    {'EXIT', {noproc, _}} = (catch gen_server:call(P7, x, 2000)),
    {'EXIT', {noproc, _}} = (catch gen_server:call({nosuch, S}, x, infinity)),
    {call, 0, Me} = cmd(S, {call, self(), {rex, Me}, {call, erlang, node, [], user}, 5000}),
    register(silent, spawn(fun() -> receive after infinity -> ok end end)),
    {call, etimedout, _} = cmd(S, {call, self(), {silent, Me}, x, 300}),
    {call, enoproc, noproc} = cmd(S, {call, self(), {nosuch, Me}, x, 5000}),
    %% A node whose handshake never answers (registered in EPMD, its port
    %% accepts and stays silent): the call ends with its own timeout, not
    %% after the 7 s connection setup.
    {ok, GL} = gen_tcp:listen(0, [{ip, {127, 0, 0, 1}}]),
    {ok, GPort} = inet:port(GL),
    {ok, GE} = gen_tcp:connect({127, 0, 0, 1},
                               list_to_integer(os:getenv("ERL_EPMD_PORT")),
                               [binary, {active, false}]),
    ok = gen_tcp:send(GE, <<18:16, 120, GPort:16, 72, 0, 6:16, 5:16, 5:16,
                            "ghost", 0:16>>),
    {ok, <<GR, 0, _/binary>>} = gen_tcp:recv(GE, 0, 5000),
    true = GR =:= 118 orelse GR =:= 121, % ALIVE2_X_RESP or ALIVE2_RESP
    Ghost = list_to_atom("ghost@127.0.0.1"),
    TG = erlang:monotonic_time(millisecond),
    {call, etimedout, _} = cmd(S, {call, self(), {x, Ghost}, x, 400}),
    case erlang:monotonic_time(millisecond) - TG of
        TGd when TGd < 3000 -> ok;
        TGd -> fail({call_to_silent_node_took, TGd})
    end,
    gen_tcp:close(GE),
    {rpc, 0, [1, 2, 3]} = cmd(S, {rpc, self(), Me, lists, seq, [1, 3], 5000}),
    %% A reply that comes after its call timed out is not taken for the
    %% next call's ({rex, Reply} carries no tag of the call).
    {rpc, ebadrpc, {badrpc, timeout}} =
        cmd(S, {rpc, self(), Me, timer, sleep, [400], 100}),
    timer:sleep(600),
    {rpc, 0, Me} = cmd(S, {rpc, self(), Me, erlang, node, [], 5000}),
    %% The edist node has no rex of its own to call: refused at once.
    {rpc, einval, none} = cmd(S, {rpc, self(), S, erlang, node, [], 5000}),
    ok = gen_server:cast({ctl, S}, {hello, cast}),
    ?EXPECT({got, 0, {'$gen_cast', {hello, cast}}}, cast_in),
    register(castee, self()),
    ok(S, {cast, self(), {castee, Me}, {from, edist}}),
    ?EXPECT({'$gen_cast', {from, edist}}, cast_out_name),
    ok(S, {cast, self(), self(), {from, edist, pid}}),
    ?EXPECT({'$gen_cast', {from, edist, pid}}, cast_out_pid),
    unregister(castee),
    io:format("ok gen_server call and cast both ways~n"),

    %% --- node monitoring both ways, with a second BEAM node.
    %% [all, nodedown_reason] is net_kernel's [{node_type, all}, nodedown_reason]:
    %% the info lists must be built as ERTS builds them.
    ok(S, {monitor_nodes, self(), [all, nodedown_reason]}),
    {ok, Peer, B2} = peer:start_link(#{name => b2, host => "127.0.0.1",
                                      longnames => true,
                                      args => ["-setcookie", atom_to_list(erlang:get_cookie()), "-hidden"]}),
    %% the edist node connects to b2 through a monitor on one of its procs
    B2Pid = erpc:call(B2, erlang, whereis, [init]),
    {monitored, R14} = cmd(S, {monitor, self(), 0, B2Pid}),
    ?EXPECT({got, 0, {nodeup, B2, [{node_type, hidden}]}}, nodeup_b2),
    ok(S, {monitor_node, self(), B2, true}),
    %% Instances count, as in ERTS: true twice and false once leaves one.
    ok(S, {monitor_node, self(), B2, true}),
    ok(S, {monitor_node, self(), B2, false}),
    W15 = erpc:call(B2, erlang, spawn, [timer, sleep, [infinity]]),
    ok(S, {link, self(), 0, W15}),
    B2Os = erpc:call(B2, os, getpid, []),
    os:cmd("kill -9 " ++ B2Os),
    ?EXPECT({got, 0, {'DOWN', R14, process, B2Pid, noconnection}}, down_noconnection),
    ?EXPECT({got, 0, {'EXIT', W15, noconnection}}, exit_noconnection),
    ?EXPECT({got, 0, {nodedown, B2}}, monitor_node_down),
    ?EXPECT({got, 0, {nodedown, B2, [{nodedown_reason, connection_closed},
                                     {node_type, hidden}]}}, monitor_nodes_down),
    %% the peer controller ends with its node
    ?EXPECT({'EXIT', Peer, _}, peer_gone),
    ok(S, {monitor_node, self(), 'nosuch@127.0.0.1', true}),
    ?EXPECT({got, 0, {nodedown, 'nosuch@127.0.0.1'}}, monitor_node_unreachable),
    %% ... but monitor_nodes subscribers hear only of nodes that were up
    ?NONE({got, 0, {nodedown, 'nosuch@127.0.0.1', _}}, nodedown_never_up),
    %% edist -> edist: monitor_node connects s1 to s2; rex of s2 answers
    %% undef for what s2 does not serve; disconnect gives its reason.
    ok(S, {monitor_node, self(), S2, true}),
    ?EXPECT({got, 0, {nodeup, S2, [{node_type, hidden}]}}, nodeup_s2_from_s1),
    {rpc, ebadrpc, {badrpc, {'EXIT', {undef, [{nosuch, fn, [], []}]}}}} =
        cmd(S, {rpc, self(), S2, nosuch, fn, [], 5000}),
    ok(S, {disconnect, self(), S2}),
    ?EXPECT({got, 0, {nodedown, S2}}, disconnect_monitor_node),
    ?EXPECT({got, 0, {nodedown, S2, [{nodedown_reason, disconnect},
                                     {node_type, hidden}]}}, disconnect_reason),
    io:format("ok node monitoring from edist, noconnection, edist -> edist~n"),

    %% --- a graceful stop of S2: links and monitors get `shutdown`.
    ok = net_kernel:monitor_nodes(true, [{node_type, all}]),
    pong = net_adm:ping(S2),
    ?EXPECT({nodeup, S2, _}, nodeup_s2),
    {I16, P16} = open(S2),
    true = link(P16),
    R16 = monitor(process, P16),
    erlang:monitor_node(S2, true),
    {ok, I16} = {ok, I16},
    cmd(S2, {stop, self()}),
    ?EXPECT({'EXIT', P16, shutdown}, stop_exit),
    ?EXPECT({'DOWN', R16, process, P16, shutdown}, stop_down),
    ?EXPECT({nodedown, S2}, stop_monitor_node),
    ?EXPECT({nodedown, S2, _}, stop_monitor_nodes),
    io:format("ok graceful stop~n"),

    %% --- SIGKILL of S: noconnection for links and monitors, nodedown.
    {_, P17} = open(S),
    true = link(P17),
    R17 = monitor(process, P17),
    erlang:monitor_node(S, true),
    os:cmd("kill -9 " ++ OsPidA),
    ?EXPECT({'EXIT', P17, noconnection}, kill_exit),
    ?EXPECT({'DOWN', R17, process, P17, noconnection}, kill_down),
    ?EXPECT({nodedown, S}, kill_monitor_node),
    ?EXPECT({nodedown, S, _}, kill_monitor_nodes),
    io:format("ok SIGKILL: noconnection~n"),
    io:format("ALL OK~n"),
    halt(0).
