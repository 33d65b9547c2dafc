#!/usr/bin/env escript
%% etf_golden.escript: golden ETF vectors made by the real BEAM.
%%
%%   etf_golden.escript gen DIR COUNT SEED
%%       writes DIR/N.bin = term_to_binary(T) (some with [compressed]) for
%%       COUNT random terms of every kind, and DIR/manifest with one line
%%       "N map|nomap" per term (byte equality is only promised for terms
%%       without maps, whose key order is OTP's business).
%%   etf_golden.escript check DIR
%%       for every N, binary_to_term of what edist re-encoded (DIR/N.t2b,
%%       term_to_binary atom mode, and DIR/N.dist, distribution UTF-8 atom
%%       mode) must be =:= binary_to_term(DIR/N.bin).  Prints the number
%%       of terms checked; exits 1 on the first mismatch.
-mode(compile).

main(["gen", Dir, CountS, SeedS]) ->
    Count = list_to_integer(CountS),
    Seed = list_to_integer(SeedS),
    rand:seed(exsss, {Seed, Seed * 7 + 1, Seed * 13 + 5}),
    Lines = [gen_one(Dir, N) || N <- lists:seq(1, Count)],
    ok = file:write_file(filename:join(Dir, "manifest"), Lines),
    io:format("generated ~b terms~n", [Count]);
main(["check", Dir]) ->
    {ok, Man} = file:read_file(filename:join(Dir, "manifest")),
    Ns = [hd(string:split(L, " "))
          || L <- string:split(binary_to_list(Man), "\n", all), L =/= ""],
    lists:foreach(fun(N) -> check_one(Dir, N) end, Ns),
    io:format("checked ~b terms~n", [length(Ns)]);
main(_) ->
    io:format(standard_error, "usage: etf_golden.escript gen DIR COUNT SEED | check DIR~n", []),
    halt(2).

gen_one(Dir, N) ->
    T = term(4),
    Opts = case rand:uniform(10) of 1 -> [compressed]; _ -> [] end,
    Bin = term_to_binary(T, Opts),
    ok = file:write_file(filename:join(Dir, integer_to_list(N) ++ ".bin"), Bin),
    Kind = case has_map(T) of true -> "map"; false -> "nomap" end,
    [integer_to_list(N), " ", Kind, "\n"].

check_one(Dir, N) ->
    Read = fun(Ext) ->
                   {ok, B} = file:read_file(filename:join(Dir, N ++ Ext)),
                   B
           end,
    Orig = binary_to_term(Read(".bin")),
    lists:foreach(
      fun(Ext) ->
              Got = try binary_to_term(Read(Ext))
                    catch C:E -> {decode_failed, C, E}
                    end,
              case Got =:= Orig of
                  true -> ok;
                  false ->
                      io:format("MISMATCH ~s~s:~n  orig ~P~n  got  ~P~n",
                                [N, Ext, Orig, 12, Got, 12]),
                      halt(1)
              end
      end, [".t2b", ".dist"]).

has_map(T) when is_map(T) -> true;
has_map(T) when is_tuple(T) -> has_map(tuple_to_list(T));
has_map([H | R]) -> has_map(H) orelse has_map(R);
has_map(_) -> false.

%% ------------------------------------------------------------ generators

term(0) -> scalar();
term(D) ->
    case rand:uniform(12) of
        1 -> list_to_tuple([term(D - 1) || _ <- lists:seq(1, rand:uniform(6) - 1)]);
        2 -> [term(D - 1) || _ <- lists:seq(1, rand:uniform(6) - 1)];
        3 -> improper(D);
        4 -> maps:from_list([{term(D - 1), term(D - 1)} || _ <- lists:seq(1, rand:uniform(5) - 1)]);
        5 -> big_container(D);
        6 -> deep(rand:uniform(60));
        _ -> scalar()
    end.

improper(D) ->
    L = [term(D - 1) || _ <- lists:seq(1, rand:uniform(4))],
    lists:foldr(fun(E, Acc) -> [E | Acc] end, scalar(), L).

big_container(D) ->
    case rand:uniform(5) of
        1 -> list_to_tuple([scalar() || _ <- lists:seq(1, 250 + rand:uniform(20))]);
        2 -> maps:from_list([{I, term(D - 1)} || I <- lists:seq(1, 30 + rand:uniform(20))]);
        3 -> long_string();
        4 -> [rand:uniform(1000) || _ <- lists:seq(1, 300)];
        5 -> lists:seq(1, rand:uniform(300))
    end.

deep(0) -> [];
deep(N) ->
    case N rem 3 of
        0 -> {deep(N - 1)};
        1 -> [deep(N - 1)];
        2 -> [a | deep(N - 1)]
    end.

scalar() ->
    case rand:uniform(17) of
        1 -> int();
        2 -> int();
        3 -> float();
        4 -> atom();
        5 -> atom();
        6 -> string();
        7 -> binary();
        8 -> bitstring();
        9 -> pid();
        10 -> port();
        11 -> ref();
        12 -> export();
        13 -> closure();
        14 -> [];
        15 -> {};
        16 -> #{};
        17 -> <<>>
    end.

int() ->
    case rand:uniform(9) of
        1 -> rand:uniform(256) - 1;
        2 -> rand:uniform(1 bsl 32) - (1 bsl 31) - 1;
        3 -> lists:nth(rand:uniform(12), [-1, 255, 256, -256, 2147483647, -2147483648,
                                          2147483648, -2147483649, 9223372036854775807,
                                          -9223372036854775808, 1 bsl 64, -(1 bsl 64)]);
        4 -> rand:uniform(1 bsl 63) * sign();
        5 -> rand:uniform(1 bsl 200) * sign();
        6 -> (1 bsl (rand:uniform(2100) + 60)) + rand:uniform(1000) * sign();
        7 -> rand:uniform(1 bsl 64) * sign();
        8 -> (1 bsl 20000) * sign() - 1;
        9 -> -rand:uniform(300)
    end.

sign() -> case rand:uniform(2) of 1 -> 1; 2 -> -1 end.

float() ->
    case rand:uniform(6) of
        1 -> rand:uniform() * sign();
        2 -> -0.0;
        3 -> 0.0;
        4 -> rand:uniform() * math:pow(10, rand:uniform(600) - 300) * sign();
        5 -> 1.7976931348623157e308;
        6 -> 5.0e-324
    end.

atom() ->
    Len = case rand:uniform(8) of 1 -> 255; 2 -> 0; _ -> rand:uniform(12) end,
    Chars = case rand:uniform(4) of
                1 -> [rand:uniform(255) || _ <- lists:seq(1, Len)];
                2 -> [unicode_char() || _ <- lists:seq(1, Len)];
                _ -> [$a + rand:uniform(26) - 1 || _ <- lists:seq(1, Len)]
            end,
    list_to_atom(Chars).

unicode_char() ->
    case rand:uniform(4) of
        1 -> 16#100 + rand:uniform(16#700);
        2 -> 16#3000 + rand:uniform(16#1000);
        3 -> 16#1F600 + rand:uniform(80);
        4 -> rand:uniform(255)
    end.

string() ->
    case rand:uniform(4) of
        1 -> [rand:uniform(256) - 1 || _ <- lists:seq(1, rand:uniform(40))];
        2 -> "hello world";
        3 -> [unicode_char() || _ <- lists:seq(1, rand:uniform(10))];
        4 -> long_string()
    end.

%% Strings around STRING_EXT's 65535 limit, rarely (they are big).
long_string() ->
    case rand:uniform(30) of
        1 -> [rand:uniform(256) - 1 || _ <- lists:seq(1, 65535 + rand:uniform(3) - 2)];
        _ -> lists:duplicate(rand:uniform(100), $x)
    end.

binary() ->
    case rand:uniform(3) of
        1 -> rand:bytes(rand:uniform(40));
        2 -> rand:bytes(rand:uniform(2000));
        3 -> <<"bin">>
    end.

bitstring() ->
    B = rand:bytes(rand:uniform(20)),
    Bits = rand:uniform(7),
    <<B/binary, (rand:uniform(1 bsl Bits) - 1):Bits>>.

node_atom() ->
    lists:nth(rand:uniform(4), ['a@b', 'node@127.0.0.1', 'n\x{f8}de@h\x{e9}st',
                                list_to_atom([16#3b1, $@, $h])]).

atom_ext(A) ->
    <<131, Rest/binary>> = term_to_binary(A, [{minor_version, 2}]),
    Rest.

creation() ->
    case rand:uniform(3) of 1 -> 0; 2 -> rand:uniform(3); 3 -> rand:uniform(1 bsl 32) - 1 end.

pid() ->
    case rand:uniform(3) of
        1 -> self();
        2 -> list_to_pid("<0." ++ integer_to_list(rand:uniform(1000)) ++ ".0>");
        3 -> binary_to_term(<<131, 88, (atom_ext(node_atom()))/binary,
                              (rand:uniform(1 bsl 32) - 1):32,
                              (rand:uniform(1 bsl 32) - 1):32, (creation()):32>>)
    end.

port() ->
    case rand:uniform(4) of
        1 -> hd(erlang:ports());
        2 -> binary_to_term(<<131, 89, (atom_ext(node_atom()))/binary,
                              (rand:uniform(1 bsl 28) - 1):32, (creation()):32>>);
        3 -> binary_to_term(<<131, 120, (atom_ext(node_atom()))/binary,
                              (rand:uniform(1 bsl 64) - 1):64, (creation()):32>>);
        4 -> binary_to_term(<<131, 120, (atom_ext(node_atom()))/binary,
                              (16#0FFFFFFF + rand:uniform(2) - 1):64, (creation()):32>>)
    end.

ref() ->
    case rand:uniform(2) of
        1 -> make_ref();
        2 ->
            Len = rand:uniform(5),
            Ids = << <<(rand:uniform(1 bsl 32) - 1):32>> || _ <- lists:seq(1, Len) >>,
            binary_to_term(<<131, 90, Len:16, (atom_ext(node_atom()))/binary,
                             (creation()):32, Ids/binary>>)
    end.

export() ->
    lists:nth(rand:uniform(4), [fun lists:map/2, fun erlang:self/0,
                                fun 'mod\x{e9}':'f\x{3b1}'/3, fun m:f/255]).

closure() ->
    X = rand:uniform(100),
    case rand:uniform(3) of
        1 -> fun(Y) -> X + Y end;
        2 -> fun() -> ok end;
        3 -> Z = atom(), fun(A, B) -> {A, B, Z, X} end
    end.
