/*
 * bench_rpc.c: sequential rpc round trips from edist into a BEAM node,
 * calling erlang:node/0: edist_rpc (rex's {Self, {call, ...}} request, the
 * path of libei's ei_rpc), or with --erpc edist_erpc (a spawn request, as
 * erpc:call and OTP 23+'s rpc:call make it).
 *
 * usage: bench_rpc [--erpc] PEER COOKIE SECONDS
 * prints: edist_rpc|edist_erpc <calls> <seconds> <calls/s>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edist/edist.h"
#include "edist/proc.h"
#include "rpc_util.h"

int main(int argc, char **argv)
{
    int erpc = argc > 1 && !strcmp(argv[1], "--erpc");
    argc -= erpc;
    argv += erpc;
    if (argc != 4) {
        fprintf(stderr, "usage: bench_rpc [--erpc] PEER COOKIE SECONDS\n");
        return 2;
    }
    edist_node *n = rpc_start_edist("bench_rpc", argv[2]);
    if (!n)
        return 1;
    edist_arena *a = edist_arena_new(NULL);
    double secs = atof(argv[3]), t0 = rpc_now(), t = t0;
    long calls = 0;
    while (t - t0 < secs) {
        for (int i = 0; i < 100; i++) {
            edist_term res;
            edist_arena_reset(a);
            int rc = (erpc ? edist_erpc : edist_rpc)(
                n, argv[1], "erlang", "node", NULL, 5000, a, &res);
            if (rc != 0) {
                fprintf(stderr, "rpc: %s\n", edist_strerror(rc));
                return 1;
            }
            calls++;
        }
        t = rpc_now();
    }
    printf("%s %ld %.3f %.0f\n", erpc ? "edist_erpc" : "edist_rpc", calls,
           t - t0, calls / (t - t0));
    edist_arena_free(a);
    edist_node_stop(n);
    return 0;
}
