/*
 * node_blaster.c: sends to a peer as fast as it can for SECONDS while the
 * test kills that peer.  Writing to a connection the peer has reset raises
 * SIGPIPE, whose default action would end this program: the library must
 * never let that happen to its user.  Prints "survived N" at the end.
 *
 * usage: node_blaster NAME COOKIE PEER SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edist/edist.h"

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: node_blaster NAME COOKIE PEER SECONDS\n");
        return 2;
    }
    edist_node_opts o = {0};
    o.name = argv[1];
    o.cookie = argv[2];
    o.send_timeout_ms = 100;
    edist_node *n;
    char why[512];
    if (edist_node_start(&o, &n, why, sizeof why) < 0) {
        fprintf(stderr, "start: %s\n", why);
        return 1;
    }
    edist_conn_error e;
    if (edist_connect(n, argv[3], 10000, &e) < 0) {
        fprintf(stderr, "connect: %s\n", e.reason);
        edist_node_stop(n);
        return 1;
    }
    printf("connected\n");
    fflush(stdout);
    edist_mbox *mb;
    edist_mbox_open(n, &mb);
    static uint8_t blob[1024];
    memset(blob, 'x', sizeof blob);
    edist_term msg = edist_mk_binary(blob, sizeof blob);
    time_t end = time(NULL) + atoi(argv[4]);
    long sent = 0;
    /* Bursts, then pauses: bursts leave the writing to the I/O thread,
     * a send after a pause writes from this thread directly; a dead peer
     * must be survived on both paths. */
    struct timespec pause = {0, 200000L};
    while (time(NULL) < end) {
        for (int i = 0; i < 32; i++)
            if (edist_send_named(mb, "sink", argv[3], &msg) == 0)
                sent++;
        nanosleep(&pause, NULL);
        if (edist_send_named(mb, "sink", argv[3], &msg) == 0)
            sent++;
        nanosleep(&pause, NULL);
    }
    edist_mbox_close(mb);
    edist_node_stop(n);
    printf("survived %ld\n", sent);
    return 0;
}
