#!/usr/bin/env escript
%% text_check.escript: the OTP side of test_text_erl.sh.
%%
%% Usage: text_check.escript HELPER WORKDIR COUNT [CORPUSDIR]
%% (run under ERL_FLAGS="+pc unicode" it checks ~tp with that range)
%%
%% 1. text: random terms (fixed seed) written with io_lib ~w and ~p; the C
%%    helper parses both, prints ~w and ~p; we check that edist's texts
%%    equal io_lib's byte for byte and that erl_parse:parse_term/1 reads
%%    edist's texts back to =:= terms wherever Erlang can parse them.
%% 2. cmp: random pairs, also with pids/ports/refs of many nodes and
%%    creations (written in edist's #Pid<node/creation.I.S> syntax); the
%%    helper's compare/equal/exact-order must match <, ==, =:= and the
%%    map key order.
%% 3. sort: random lists sorted by the helper equal lists:sort/1.
%% With CORPUSDIR, also writes io_lib texts as a fuzz corpus seed.
-mode(compile).

main([Helper, Dir, CountS | Rest]) ->
    Count = list_to_integer(CountS),
    rand:seed(exsss, {20261121, 3, 7}),
    Fails = text_test(Helper, Dir, Count, Rest)
        + parse_test(Helper, Dir, Count)
        + cmp_test(Helper, Dir, Count)
        + sort_test(Helper, Dir, Count div 10),
    case Fails of
        0 -> io:format("all text checks passed~n"), halt(0);
        _ -> io:format("~p failures~n", [Fails]), halt(1)
    end.

%% ------------------------------------------------------------ helpers

hex(B) -> binary:encode_hex(iolist_to_binary(B)).
utf8(Chars) -> unicode:characters_to_binary(Chars).

run(Helper, Dir, Mode, Lines) ->
    In = filename:join(Dir, Mode ++ ".in"),
    Out = filename:join(Dir, Mode ++ ".out"),
    ok = file:write_file(In, [[L, $\n] || L <- Lines]),
    Pc = case io:printable_range() of unicode -> " --pc-unicode"; _ -> "" end,
    Cmd = io_lib:format("'~s' ~s --local nonode@nohost~s < '~s' > '~s'",
                        [Helper, Mode, Pc, In, Out]),
    _ = os:cmd(lists:flatten(Cmd)),
    {ok, Res} = file:read_file(Out),
    binary:split(Res, <<"\n">>, [global, trim]).

report(What, T, Detail) ->
    io:format("FAIL ~s: ~w~n  ~ts~n", [What, T, Detail]),
    1.

%% ------------------------------------------------------------ text

text_test(Helper, Dir, Count, Rest) ->
    Terms = [gen_text(3) || _ <- lists:seq(1, Count)] ++ fixed(),
    Ws = [utf8(io_lib:format("~w", [T])) || T <- Terms],
    Ps = [utf8(io_lib:format("~p", [T])) || T <- Terms],
    TWs = [utf8(io_lib:format("~tw", [T])) || T <- Terms],
    TPs = [utf8(io_lib:format("~tp", [T])) || T <- Terms],
    case Rest of
        [Corpus] -> write_corpus(Corpus, Ws, Ps);
        [] -> ok
    end,
    Lines = [[hex(W), " ", hex(P), " ", hex(TP)] || {W, P, TP} <- lists:zip3(Ws, Ps, TPs)],
    Res = run(Helper, Dir, "text", Lines),
    length(Res) =:= length(Terms) orelse
        io:format("FAIL helper answered ~p of ~p~n", [length(Res), length(Terms)]),
    Fails = lists:sum([check_text(T, W, P, TW, TP, R)
                       || {T, {W, P, TW, TP}, R}
                              <- zip3(Terms, lists:zip(lists:zip(Ws, Ps), lists:zip(TWs, TPs)), Res)]),
    io:format("text: ~p terms, ~p failures~n", [length(Terms), Fails]),
    Fails + abs(length(Res) - length(Terms)).

zip3([A | As], [{{B, C}, {D, E}} | Bs], [R | Rs]) -> [{A, {B, C, D, E}, R} | zip3(As, Bs, Rs)];
zip3(_, _, _) -> [].

check_text(T, W, P, TW, TP, <<"OK ", Rest/binary>>) ->
    [EW, EP, ETW, ETP] = [binary:decode_hex(X) || X <- binary:split(Rest, <<" ">>, [global])],
    F4 = case {ETW, ETP} =:= {TW, TP} of
             true -> 0;
             false -> report("~tw/~tp differs", T,
                             io_lib:format("io_lib ~ts~n~ts~n  edist  ~ts~n~ts", [TW, TP, ETW, ETP]))
         end,
    F1 = case EW =:= W of
             true -> 0;
             false -> report("~w differs", T, io_lib:format("io_lib ~ts~n  edist  ~ts", [W, EW]))
         end,
    F2 = case EP =:= P of
             true -> 0;
             false -> report("~p differs", T, io_lib:format("io_lib~n~ts~n  edist~n~ts", [P, EP]))
         end,
    F3 = case parseable(T) of
             false -> 0;
             true -> reparse(T, EW) + reparse(T, EP) + reparse(T, ETP)
         end,
    F1 + F2 + F3 + F4;
check_text(T, _W, _P, _TW, _TP, Err) ->
    report("helper", T, Err).

reparse(T, Text) ->
    case erl_scan:string(unicode:characters_to_list(Text) ++ ".") of
        {ok, Toks, _} ->
            case erl_parse:parse_term(Toks) of
                {ok, T2} when T2 =:= T -> 0;
                Other -> report("parse_term", T, io_lib:format("~p", [Other]))
            end;
        Other -> report("erl_scan", T, io_lib:format("~p", [Other]))
    end.

%% erl_parse:parse_term/1 reads no pids, ports, refs or funs.
parseable(T) when is_pid(T); is_port(T); is_reference(T); is_function(T) -> false;
parseable(T) when is_list(T) -> parseable_list(T);
parseable(T) when is_tuple(T) -> lists:all(fun parseable/1, tuple_to_list(T));
parseable(T) when is_map(T) ->
    lists:all(fun parseable/1, maps:keys(T) ++ maps:values(T));
parseable(_) -> true.

parseable_list([H | T]) -> parseable(H) andalso parseable_list(T);
parseable_list([]) -> true;
parseable_list(T) -> parseable(T).

write_corpus(Dir, Ws, Ps) ->
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    Small = [X || X <- Ws ++ Ps, byte_size(X) < 400],
    Pick = lists:sublist(Small, 1, 120) ++ lists:sublist(lists:reverse(Small), 1, 80),
    lists:foreach(fun({I, X}) ->
                          N = io_lib:format("io_lib_~3..0B", [I]),
                          file:write_file(filename:join(Dir, N), X)
                  end, lists:zip(lists:seq(1, length(Pick)), Pick)).

fixed() ->
    [[], {}, #{}, <<>>, "", "abc", [1,2|3], [a|b], <<1:3>>, <<"ab",1:3>>,
     'hello world', 'λx', 'é', [955,97], [160,255], "\e\d", <<"é">>,
     -0.0, 0.1+0.2, 1.0e16, 9007199254740993.0, 123456789.0, 5.0e-324,
     1.7976931348623157e308, 1.0e-5, 0.0001, 100.0, 1.0e22, 12345.678e-20,
     (1 bsl 64), -(1 bsl 64), (1 bsl 63) - 1, -(1 bsl 63), 1 bsl 200,
     #{1.0 => a, 1 => b, 2 => c, 0.5 => d, -1 => e},
     lists:seq(1, 40), [lists:seq(1, 30), {tag, lists:seq(1, 30)}],
     {a, [{b, "some string here"}, {c, <<"binary text">>}, {d, #{k => v}}],
      lists:seq(100, 140)},
     #{key => [1, 2, 3], other => {a, b, lists:seq(1, 25)}, z => "text"},
     list_to_binary(lists:seq(0, 100)), {<<1,2,3>>, list_to_binary(lists:seq(1, 60))},
     [{x, N, <<N>>} || N <- lists:seq(1, 12)],
     self(), make_ref(), hd(erlang:ports()), fun lists:map/2, fun 'a b':'c d'/0,
     ['case', 'fun', 'maybe', 'else', '_x', 'A', a@b, 'a.b', '', 'ÿ', '÷x', 'ß']].

%% Random terms; Depth bounds nesting.
gen_text(0) -> gen_leaf();
gen_text(D) ->
    case rand:uniform(10) of
        N when N =< 4 -> gen_leaf();
        5 -> [gen_text(D - 1) || _ <- lists:seq(1, rand:uniform(6) - 1)];
        6 -> list_to_tuple([gen_text(D - 1) || _ <- lists:seq(1, rand:uniform(5) - 1)]);
        7 -> maps:from_list([{gen_text(D - 1), gen_text(D - 1)}
                             || _ <- lists:seq(1, rand:uniform(6) - 1)]);
        8 -> gen_improper(D);
        9 -> {gen_atom(), gen_text(D - 1), gen_text(D - 1)};
        10 -> [gen_text(D - 1) || _ <- lists:seq(1, rand:uniform(30))]
    end.

gen_improper(D) ->
    Tail = case rand:uniform(3) of 1 -> gen_atom(); 2 -> rand:uniform(100); 3 -> <<"t">> end,
    lists:foldl(fun(E, Acc) -> [E | Acc] end, Tail,
                [gen_text(D - 1) || _ <- lists:seq(1, rand:uniform(3))]).

gen_leaf() ->
    case rand:uniform(14) of
        1 -> rand:uniform(200) - 100;
        2 -> rand:uniform(1 bsl 62) * sign();
        3 -> rand:uniform(1 bsl 200) * sign();
        4 -> gen_float();
        5 -> gen_atom();
        6 -> gen_string();
        7 -> gen_binary();
        8 -> gen_bits();
        9 -> [];
        10 -> gen_atom();
        11 -> lists:nth(rand:uniform(4), [self(), make_ref(), hd(erlang:ports()),
                                          list_to_pid("<0.5.1>")]);
        12 -> fun erlang:abs/1;
        13 -> gen_float();
        14 -> rand:uniform(1 bsl 70) * sign()
    end.

sign() -> case rand:uniform(2) of 1 -> 1; 2 -> -1 end.

gen_float() ->
    case rand:uniform(6) of
        1 -> rand:uniform() * 1000;
        2 -> (rand:uniform() - 0.5) * math:pow(10, rand:uniform(600) - 300);
        3 -> float(rand:uniform(1 bsl 60)) * sign();
        4 -> <<F:64/float>> = <<0:1, (rand:uniform(2046)):11, (rand:uniform(1 bsl 52) - 1):52>>, F;
        5 -> float(rand:uniform(100000)) / 8;
        6 -> math:pow(2, rand:uniform(120) - 20) * sign()
    end.

gen_atom() ->
    lists:nth(rand:uniform(16),
              [ok, error, 'Hello', 'with space', 'q\'uote', 'back\\slash', 'nl\n',
               '', 'λ', 'é', 'ñandú', a_B@9, 'case', 'end', 'x-y', '\x{1F600}']).

gen_string() ->
    case rand:uniform(5) of
        5 -> [lists:nth(rand:uniform(6), [955, 233, 16#1F600, 16#FFFF, 16#D7FF, $a]) || _ <- lists:seq(1, rand:uniform(4))];
        1 -> [$a + rand:uniform(25) || _ <- lists:seq(1, rand:uniform(20))];
        2 -> [rand:uniform(255) || _ <- lists:seq(1, rand:uniform(10))];
        3 -> "tab\there \"q\" back\\ \n" ++ [233, 255];
        4 -> [rand:uniform(1000) || _ <- lists:seq(1, rand:uniform(5))]
    end.

gen_binary() ->
    case rand:uniform(5) of
        4 -> unicode:characters_to_binary(lists:nth(rand:uniform(4), ["λé", "abc\x{1F600}", "é", [955, 10, 34]]));
        5 -> <<"abc", 200, 201>>;
        1 -> list_to_binary(gen_string_bytes());
        2 -> crypto_bytes(rand:uniform(40));
        3 -> <<"printable binary \"with\" escapes\n">>
    end.

gen_string_bytes() -> [$a + rand:uniform(25) || _ <- lists:seq(1, rand:uniform(30))].

crypto_bytes(N) -> list_to_binary([rand:uniform(256) - 1 || _ <- lists:seq(1, N)]).

gen_bits() ->
    B = crypto_bytes(rand:uniform(5) - 1),
    N = rand:uniform(7),
    <<B/binary, (rand:uniform(1 bsl N) - 1):N>>.

%% ------------------------------------------------------------ parse

%% Differential test of the parser against erl_scan + erl_parse:parse_term
%% on tricky texts and on random mutations of io_lib output: both must
%% accept the same texts and read the same terms.  Texts with pid, port or
%% ref syntax (which only edist reads), invalid UTF-8, or a final "."
%% (optional for edist, a second dot for erl_parse) are left out.
parse_test(Helper, Dir, Count) ->
    Texts0 = tricky() ++ [mutate(utf8(io_lib:format("~p", [gen_text(2)])))
                          || _ <- lists:seq(1, Count)],
    Texts = [T || T <- Texts0, comparable(T)],
    Res = run(Helper, Dir, "parse", [hex(T) || T <- Texts]),
    Fails = lists:sum([check_parse(T, R) || {T, R} <- lists:zip(Texts, Res)]),
    io:format("parse: ~p texts, ~p failures~n", [length(Texts), Fails]),
    Fails.

comparable(T) ->
    is_list(unicode:characters_to_list(T)) andalso
        binary:match(T, [<<"#Pid<">>, <<"#Port<">>, <<"#Ref<">>, <<"<0">>,
                         <<"<1">>, <<"<2">>, <<"<3">>, <<"<4">>, <<"<5">>,
                         <<"<6">>, <<"<7">>, <<"<8">>, <<"<9">>]) =:= nomatch
        andalso not bad_end(T)
        andalso re:run(T, "\\.\\s*%") =:= nomatch.

%% A final "." (possibly before a comment: a second dot for erl_parse), or
%% a final $, \\ or \\^ that would take the newline erl_parse needs after
%% the text.
bad_end(T) ->
    S = unicode:characters_to_list(T),
    case string:trim(S, trailing) of
        [] -> false;
        St -> lists:last(St) =:= $. orelse
                  lists:suffix("$", S) orelse lists:suffix("\\", S) orelse
                  lists:suffix("\\^", S)
    end.

erl_term(T) ->
    case erl_scan:string(unicode:characters_to_list(T) ++ "\n.") of
        {ok, Toks, _} ->
            case catch erl_parse:parse_term(Toks) of
                {ok, Term} -> {ok, Term};
                _ -> error
            end;
        _ -> error
    end.

check_parse(T, R) ->
    case {erl_term(T), R} of
        {error, <<"ERR", _/binary>>} -> 0;
        {{ok, Term}, <<"OK ", H/binary>>} ->
            W = utf8(io_lib:format("~w", [Term])),
            case binary:decode_hex(H) of
                W -> 0;
                Mine -> report("parse", T, io_lib:format("erl ~ts edist ~ts", [W, Mine]))
            end;
        {E, _} -> report("parse acceptance", T, io_lib:format("erl ~p edist ~ts", [E, R]))
    end.

mutate(B) ->
    case rand:uniform(4) of
        1 -> B;
        _ ->
            N = byte_size(B),
            P = rand:uniform(N + 1) - 1,
            <<Pre:P/binary, Post/binary>> = B,
            Chars = <<"[]{}<>,|#=>:/-+.$'\"\\ _0123456789aAeE#%\n">>,
            C = binary:at(Chars, rand:uniform(byte_size(Chars)) - 1),
            case {rand:uniform(3), Post} of
                {1, <<_, Rest/binary>>} -> <<Pre/binary, Rest/binary>>;
                {2, _} -> <<Pre/binary, C, Post/binary>>;
                {_, <<_, Rest/binary>>} -> <<Pre/binary, C, Rest/binary>>;
                _ -> <<Pre/binary, C>>
            end
    end.

tricky() ->
    [<<"1_000">>, <<"1__0">>, <<"1_">>, <<"_1">>, <<"16#_f">>, <<"16#f_f">>,
     <<"2#102">>, <<"1.0e">>, <<"1.e5">>, <<"1e5">>, <<"0.5e-3">>, <<"1.0E+3">>,
     <<"$">>, <<"$ ">>, <<"$\\">>, <<"$\\x{}">>, <<"$\\x{41}">>, <<"$\\^">>,
     <<"'\\x{D800}'">>, <<"\"\\x{D800}\"">>, <<"<<16#D800/utf8>>">>,
     <<"\"\\x{110000}\"">>, <<"'a'b">>, <<"a b">>, <<"[a|]">>, <<"[|a]">>,
     <<"{,}">>, <<"#{a=>}">>, <<"#{=>1}">>, <<"#{a =>1,}">>, <<"[1,]">>,
     <<"- - 1">>, <<"-(1)">>, <<"(-1)">>, <<"((a))">>, <<"( )">>, <<"+ $a">>,
     <<"<<>>">>, <<"<< >>">>, <<"<<,>>">>, <<"<<1,>>">>, <<"<<1:3/bits>>">>,
     <<"<<\"a\"/utf16-little>>">>, <<"<<-1/unsigned>>">>, <<"<<1:1/unit:7>>">>,
     <<"<<(-1):4>>">>, <<"<<$a/utf8>>">>, <<"<<1.0/float-big>>">>,
     <<"<<\"ab\" \"cd\">>">>, <<"<<\"\">>">>, <<"<<<<>>/binary>>">>,
     <<"<<1:0>>">>, <<"<<1/binary>>">>, <<"<<1.5>>">>, <<"<<a/utf8>>">>,
     <<"fun a:b/1">>, <<"fun a:b/ 1">>, <<"fun 'a':'b'/1">>, <<"fun a:b">>,
     <<"fun (a):b/1">>, <<"'\\'">>, <<"'">>, <<"''">>, <<"\"\\\"\"">>,
     <<"% only a comment">>, <<"1 % c\n">>, <<"\t\n 1 \r\n">>,
     <<"\"a\\\nb\"">>, <<"\"\\d\\e\\s\\z\"">>, <<"'\\101\\1011'">>,
     <<"\"\\^@\"">>, <<"\"\\^[\"">>, <<"\"\\^a\\^Z\"">>,
     <<"'hello world'">>, <<"ok.ok">>, <<"a@b.c">>, <<"a.b">>, <<"Ünïcödé">>,
     <<"ñ">>, <<"'λ'">>, <<"λ">>, <<"\"λ\"">>, <<"×">>, <<"ß">>, <<"÷">>,
     <<"true">>, <<"maybe">>, <<"else">>, <<"case">>, <<"'case'">>,
     <<"#{a => 1, a => 2}">>, <<"#{1 => a, 1.0 => b}">>, <<"[1 | [2 | []]]">>,
     <<"36#zZ">>, <<"37#1">>, <<"1#0">>, <<"10#99">>, <<"16#FFFFFFFFFFFFFFFFFFFF">>,
     <<"1.7976931348623157e308">>, <<"1.7976931348623159e308">>, <<"4.9e-324">>,
     <<"2.4703282292062327e-324">>, <<"1.0e-400">>, <<"00012">>, <<"0.0000">>].

%% ------------------------------------------------------------ cmp

cmp_test(Helper, Dir, Count) ->
    Pairs = [gen_pair() || _ <- lists:seq(1, Count)],
    Res = run(Helper, Dir, "cmp", [hex(fmt({A, B})) || {A, B} <- Pairs]),
    Fails = lists:sum([check_cmp(P, R) || {P, R} <- lists:zip(Pairs, Res)]),
    io:format("cmp: ~p pairs, ~p failures~n", [length(Pairs), Fails]),
    Fails.

check_cmp({A, B} = P, R) ->
    Want = iolist_to_binary(io_lib:format("~w ~w ~w",
                                          [if A < B -> -1; A > B -> 1; true -> 0 end,
                                           if A =:= B -> 1; true -> 0 end,
                                           exact_order(A, B)])),
    case R =:= Want of
        true -> 0;
        false -> report("compare", P, io_lib:format("erlang ~s edist ~s", [Want, R]))
    end.

%% The exact (map key) order, as BEAM shows it: a two-key map's key order.
exact_order(A, B) when A =:= B -> 0;
exact_order(A, B) ->
    case maps:keys(#{A => 1, B => 2}) of
        [A, B] -> -1;
        [B, A] -> 1
    end.

gen_pair() ->
    case rand:uniform(6) of
        1 -> {gen_num(), gen_num()};
        2 -> X = gen_cmp(2), {X, X};
        3 -> {gen_id(), gen_id()};
        4 -> X = gen_num(), {X, float_or_int(X)};
        5 -> {[gen_cmp(1) || _ <- lists:seq(1, 3)], [gen_cmp(1) || _ <- lists:seq(1, 3)]};
        6 -> {gen_cmp(2), gen_cmp(2)}
    end.

float_or_int(X) when is_integer(X), abs(X) < 1 bsl 1000 -> float(X);
float_or_int(X) when is_float(X) -> round(X);
float_or_int(X) -> X.

gen_num() ->
    case rand:uniform(7) of
        1 -> rand:uniform(10) - 5;
        2 -> gen_float();
        3 -> (1 bsl (50 + rand:uniform(30))) + rand:uniform(5) - 3;
        4 -> float((1 bsl (50 + rand:uniform(30))));
        5 -> rand:uniform(1 bsl 200) * sign();
        6 -> float(rand:uniform(1 bsl 70)) * sign();
        7 -> (1 bsl 63) + rand:uniform(3) - 2
    end.

gen_cmp(0) -> pick_cmp_leaf();
gen_cmp(D) ->
    case rand:uniform(8) of
        1 -> [gen_cmp(D - 1) || _ <- lists:seq(1, rand:uniform(3))];
        2 -> list_to_tuple([gen_cmp(D - 1) || _ <- lists:seq(1, rand:uniform(3))]);
        3 -> maps:from_list([{gen_cmp(D - 1), gen_cmp(D - 1)} || _ <- lists:seq(1, rand:uniform(4))]);
        4 -> [gen_cmp(D - 1) | gen_cmp(D - 1)];
        _ -> pick_cmp_leaf()
    end.

pick_cmp_leaf() ->
    case rand:uniform(7) of
        1 -> gen_num();
        2 -> gen_atom();
        3 -> gen_id();
        4 -> gen_bits();
        5 -> gen_binary();
        6 -> [];
        7 -> F = lists:nth(rand:uniform(3), [map, foldl, filter]),
             fun lists:F/2
    end.

gen_id() ->
    Node = lists:nth(rand:uniform(4), [<<"a@h">>, <<"b@h">>, <<"a@i">>, <<"zz@127.0.0.1">>]),
    Cr = rand:uniform(3),
    A = <<119, (byte_size(Node)), Node/binary>>,
    case rand:uniform(3) of
        1 -> binary_to_term(<<131, 88, A/binary, (rand:uniform(4)):32,
                              (rand:uniform(3) - 1):32, Cr:32>>);
        2 -> binary_to_term(<<131, 89, A/binary, (rand:uniform(6)):32, Cr:32>>);
        3 -> Len = rand:uniform(3) + 2,
             Ids = << <<(rand:uniform(3) - 1):32>> || _ <- lists:seq(1, Len) >>,
             binary_to_term(<<131, 90, Len:16, A/binary, Cr:32, Ids/binary>>)
    end.

%% Terms in edist syntax: ~w except pids, ports and refs.
fmt(T) when is_pid(T) ->
    <<131, 88, Rest/binary>> = term_to_binary(T),
    {Node, <<Id:32, Ser:32, Cr:32>>} = node_of(Rest),
    io_lib:format("#Pid<~s/~w.~w.~w>", [Node, Cr, Id, Ser]);
fmt(T) when is_port(T) ->
    {Node, Id, Cr} = case term_to_binary(T) of
                         <<131, 89, R/binary>> ->
                             {N, <<I:32, C:32>>} = node_of(R), {N, I, C};
                         <<131, 120, R/binary>> ->
                             {N, <<I:64, C:32>>} = node_of(R), {N, I, C}
                     end,
    io_lib:format("#Port<~s/~w.~w>", [Node, Cr, Id]);
fmt(T) when is_reference(T) ->
    <<131, 90, Len:16, Rest/binary>> = term_to_binary(T),
    {Node, <<Cr:32, IdsB/binary>>} = node_of(Rest),
    Ids = lists:reverse([I || <<I:32>> <= IdsB]),
    Len = length(Ids),
    ["#Ref<", Node, "/", integer_to_list(Cr), [[$., integer_to_list(I)] || I <- Ids], ">"];
fmt(T) when is_list(T) -> ["[", fmt_list(T), "]"];
fmt(T) when is_tuple(T) -> ["{", lists:join(",", [fmt(E) || E <- tuple_to_list(T)]), "}"];
fmt(T) when is_map(T) ->
    ["#{", lists:join(",", [[fmt(K), " => ", fmt(V)] || {K, V} <- maps:to_list(T)]), "}"];
fmt(T) -> utf8(io_lib:format("~w", [T])).

fmt_list([]) -> [];
fmt_list([H]) -> fmt(H);
fmt_list([H | T]) when is_list(T) -> [fmt(H), "," | fmt_list(T)];
fmt_list([H | T]) -> [fmt(H), "|", fmt(T)].

node_of(<<119, L, N:L/binary, R/binary>>) -> {N, R};
node_of(<<118, L:16, N:L/binary, R/binary>>) -> {N, R};
node_of(<<100, L:16, N:L/binary, R/binary>>) -> {N, R}.

%% ------------------------------------------------------------ sort

sort_test(Helper, Dir, Count) ->
    Lists = [[gen_cmp(1) || _ <- lists:seq(1, rand:uniform(25))] || _ <- lists:seq(1, Count)],
    Res = run(Helper, Dir, "sort", [hex(fmt(L)) || L <- Lists]),
    Fails = lists:sum([check_sort(L, R) || {L, R} <- lists:zip(Lists, Res)]),
    io:format("sort: ~p lists, ~p failures~n", [length(Lists), Fails]),
    Fails.

check_sort(L, R) ->
    Ix = [binary_to_integer(X) || X <- binary:split(R, <<" ">>, [global, trim_all])],
    Mine = [lists:nth(I + 1, L) || I <- Ix],
    Theirs = lists:sort(L),
    case length(Mine) =:= length(L) andalso
         lists:all(fun({X, Y}) -> X == Y end, lists:zip(Mine, Theirs)) of
        true -> 0;
        false -> report("sort", L, io_lib:format("edist ~w", [Mine]))
    end.
