/*
 * rpc_util.h: what the C clients of bench/rpc share: the clock, starting
 * an edist node (where the program includes edist/edist.h first) and
 * connecting a libei node (where it includes ei.h first).  Every node is named
 * after the program and its pid, so runs never collide in EPMD.
 */
#ifndef EDIST_BENCH_RPC_UTIL_H
#define EDIST_BENCH_RPC_UTIL_H

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static inline double rpc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#ifdef EDIST_EDIST_H
/* Starts the edist node "<prefix>_<pid>@127.0.0.1" with cookie.  Returns
 * it, or NULL after saying why on stderr. */
static inline edist_node *rpc_start_edist(const char *prefix,
                                          const char *cookie)
{
    char name[64], why[512];
    snprintf(name, sizeof name, "%s_%d@127.0.0.1", prefix, (int)getpid());
    edist_node_opts o = {0};
    o.name = name;
    o.cookie = cookie;
    edist_node *n;
    if (edist_node_start(&o, &n, why, sizeof why) < 0) {
        fprintf(stderr, "start: %s\n", why);
        return NULL;
    }
    return n;
}
#endif

#ifdef EI_H
/* Initialises libei and ec as "<prefix>_<pid>@127.0.0.1" and connects
 * it to peer.  Returns the connection's fd, or -1 after saying why on
 * stderr. */
static inline int rpc_ei_connect(ei_cnode *ec, const char *prefix,
                                 const char *cookie, const char *peer)
{
    char alive[64], node[128];
    ei_init();
    snprintf(alive, sizeof alive, "%s_%d", prefix, (int)getpid());
    snprintf(node, sizeof node, "%s@127.0.0.1", alive);
    if (ei_connect_xinit(ec, "127.0.0.1", alive, node, NULL, cookie, 0) < 0) {
        fprintf(stderr, "ei_connect_xinit failed\n");
        return -1;
    }
    int fd = ei_connect(ec, (char *)peer);
    if (fd < 0)
        fprintf(stderr, "ei_connect failed\n");
    return fd;
}

/* The arguments of erlang:node/0 (the empty list) and the result buffer
 * for ei_rpc; both freed with ei_x_free. */
static inline void rpc_ei_buffers(ei_x_buff *args, ei_x_buff *res)
{
    ei_x_new(args);
    ei_x_encode_empty_list(args);
    ei_x_new(res);
}
#endif

#endif
