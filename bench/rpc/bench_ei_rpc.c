/*
 * bench_ei_rpc.c: sequential rpc round trips with libei's ei_rpc (what
 * erl_call uses), calling erlang:node/0 on a BEAM node.
 *
 * usage: bench_ei_rpc PEER COOKIE SECONDS
 * prints: ei_rpc <calls> <seconds> <calls/s>
 */
#include <stdio.h>
#include <stdlib.h>

#include "ei.h"
#include "rpc_util.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_ei_rpc PEER COOKIE SECONDS\n");
        return 2;
    }
    ei_cnode ec;
    int fd = rpc_ei_connect(&ec, "bench_ei", argv[2], argv[1]);
    if (fd < 0)
        return 1;
    ei_x_buff args, res;
    rpc_ei_buffers(&args, &res);
    double secs = atof(argv[3]), t0 = rpc_now(), t = t0;
    long calls = 0;
    while (t - t0 < secs) {
        for (int i = 0; i < 100; i++) {
            res.index = 0;
            if (ei_rpc(&ec, fd, "erlang", "node", args.buff, args.index, &res) <
                0) {
                fprintf(stderr, "ei_rpc failed\n");
                return 1;
            }
            calls++;
        }
        t = rpc_now();
    }
    printf("ei_rpc %ld %.3f %.0f\n", calls, t - t0, calls / (t - t0));
    ei_x_free(&args);
    ei_x_free(&res);
    return 0;
}
