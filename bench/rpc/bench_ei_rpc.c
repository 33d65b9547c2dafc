/*
 * bench_ei_rpc.c: sequential rpc round trips with libei's ei_rpc (what
 * erl_call uses), calling erlang:node/0 on a BEAM node.
 *
 * usage: bench_ei_rpc PEER COOKIE SECONDS
 * prints: ei_rpc <calls> <seconds> <calls/s>
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ei.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_ei_rpc PEER COOKIE SECONDS\n");
        return 2;
    }
    ei_init();
    ei_cnode ec;
    char alive[64], node[128];
    snprintf(alive, sizeof alive, "bench_ei_%d", (int)getpid());
    snprintf(node, sizeof node, "%s@127.0.0.1", alive);
    if (ei_connect_xinit(&ec, "127.0.0.1", alive, node, NULL, argv[2], 0) < 0) {
        fprintf(stderr, "ei_connect_xinit failed\n");
        return 1;
    }
    int fd = ei_connect(&ec, argv[1]);
    if (fd < 0) {
        fprintf(stderr, "ei_connect failed\n");
        return 1;
    }
    ei_x_buff args, res;
    ei_x_new(&args);
    ei_x_encode_empty_list(&args);
    ei_x_new(&res);
    double secs = atof(argv[3]), t0 = now(), t = t0;
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
        t = now();
    }
    printf("ei_rpc %ld %.3f %.0f\n", calls, t - t0, calls / (t - t0));
    ei_x_free(&args);
    ei_x_free(&res);
    return 0;
}
