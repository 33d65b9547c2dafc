/*
 * node_dialer.c: dials a peer at a moment another process chooses, to
 * provoke simultaneous connects.  It starts a node, prints "ready", waits
 * until GOFILE exists, connects to PEER and pings it, prints pong or pang,
 * and stays up HOLD_MS so that the peer can finish its own attempt.
 *
 * usage: node_dialer NAME COOKIE PEER GOFILE HOLD_MS
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "edist/edist.h"
#include "edist/node.h"

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: node_dialer NAME COOKIE PEER GOFILE HOLD\n");
        return 2;
    }
    edist_node_opts o = {0};
    o.name = argv[1];
    o.cookie = argv[2];
    edist_node *n;
    char why[512];
    if (edist_node_start(&o, &n, why, sizeof why) < 0) {
        fprintf(stderr, "start: %s\n", why);
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    struct timespec ms = {0, 1000000L};
    for (int i = 0; i < 20000 && access(argv[4], F_OK) != 0; i++)
        nanosleep(&ms, NULL);
    edist_conn_error e;
    int rc = edist_ping(n, argv[3], 10000, &e);
    printf("%s%s%s\n", rc == 0 ? "pong" : "pang", rc ? " " : "",
           rc ? e.reason : "");
    /* The race is over: exactly one connection to the peer is up. */
    const char *names[8];
    char buf[1024];
    int k = edist_node_peers(n, names, 8, buf, sizeof buf);
    printf("peers %d\n", k);
    fflush(stdout);
    usleep((useconds_t)atoi(argv[5]) * 1000u);
    edist_node_stop(n);
    return rc != 0;
}
