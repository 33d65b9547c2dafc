/*
 * node_sleeper.c: a node whose program never calls receive.  It connects
 * to PEER, sleeps SECONDS, then sends {sleeper, done} to inbox on PEER.
 * The test checks that PEER never saw it go down: the library answers
 * ticks on its own thread (erl_interface only does inside receive).
 *
 * usage: node_sleeper NAME COOKIE PEER SECONDS TICKTIME
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "edist/edist.h"
#include "edist/node.h"

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: node_sleeper NAME COOKIE PEER SECONDS "
                        "TICKTIME\n");
        return 2;
    }
    edist_node_opts o = {0};
    o.name = argv[1];
    o.cookie = argv[2];
    /* Hidden, as the test expects: visible peers would take part in
     * global, which disconnects nodes to keep partitions whole when the
     * test drops a connection on purpose. */
    o.hidden = 1;
    o.ticktime = (unsigned)atoi(argv[5]);
    edist_node *n;
    char why[512];
    int rc = edist_node_start(&o, &n, why, sizeof why);
    if (rc < 0) {
        fprintf(stderr, "start: %s\n", why);
        return 1;
    }
    edist_conn_error e;
    if ((rc = edist_connect(n, argv[3], 10000, &e)) < 0) {
        fprintf(stderr, "connect: %s\n", e.reason);
        edist_node_stop(n);
        return 1;
    }
    sleep((unsigned)atoi(argv[4]));
    edist_mbox *mb;
    edist_mbox_open(n, &mb);
    edist_term done[2] = {edist_mk_atom("sleeper", 7),
                          edist_mk_atom("done", 4)};
    edist_term msg = {.type = EDIST_TERM_TUPLE};
    msg.v.tuple.arity = 2;
    msg.v.tuple.elems = done;
    rc = edist_send_named(mb, "inbox", argv[3], &msg);
    edist_mbox_close(mb);
    edist_node_stop(n);
    printf("sent: %s\n", edist_strerror(rc));
    return rc < 0;
}
