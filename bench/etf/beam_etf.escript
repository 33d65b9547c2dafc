#!/usr/bin/env escript
%% beam_etf.escript DIR: times term_to_binary/1 and binary_to_term/1 on
%% every DIR/*.bin (the items bench_etf dumps), best of 5 batches, and
%% prints "item dec_ns enc_ns" per line.
-mode(compile).

main([Dir]) ->
    Files = lists:sort(filelib:wildcard(filename:join(Dir, "*.bin"))),
    lists:foreach(fun(F) -> one(F) end, Files).

one(File) ->
    {ok, Bin} = file:read_file(File),
    Term = binary_to_term(Bin),
    Dec = best(fun() -> binary_to_term(Bin) end),
    Enc = best(fun() -> term_to_binary(Term, [{minor_version, 2}]) end),
    io:format("~s ~.1f ~.1f~n", [filename:basename(File, ".bin"), Dec, Enc]).

%% Nanoseconds per call: grow the batch to ~40 ms, then best of 5.
best(F) ->
    N = calibrate(F, 1),
    lists:min([batch(F, N) / N || _ <- lists:seq(1, 5)]).

calibrate(F, N) ->
    case batch(F, N) > 40000000 of
        true -> N;
        false -> calibrate(F, N * 2)
    end.

batch(F, N) ->
    T0 = erlang:monotonic_time(nanosecond),
    loop(F, N),
    erlang:monotonic_time(nanosecond) - T0.

loop(_, 0) -> ok;
loop(F, N) -> F(), loop(F, N - 1).
