/*
 * cmd_watch.c: `edist watch [NODE...]`: starts a node, connects it to
 * each NODE, and streams one line per node event, visible or hidden peer,
 * until SIGINT/SIGTERM, --count N events or --timeout S seconds:
 *
 *   2026-11-21T19:02:11.418Z nodeup b@127.0.0.1 visible
 *   2026-11-21T19:02:14.002Z nodedown b@127.0.0.1 connection_closed
 *
 * The time is UTC with milliseconds, when the event was read.  The node
 * type is the peer's (visible or hidden); the nodedown reason is BEAM's
 * nodedown_reason (connection_closed, disconnect, net_tick_timeout, ...).
 * Being a visible node by default, the watcher takes part in the mesh, so
 * it also reports the nodes it is connected to through it.  Each line is
 * flushed as it is written, so the stream can be piped.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "edist/proc.h"

typedef struct watch_args {
    long count;     /* stop after this many events; 0: never */
    long timeout_s; /* stop after this many seconds; 0: never */
    const char **nodes;
    int nnodes;
} watch_args;

static long watch_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Prints "YYYY-MM-DDTHH:MM:SS.mmmZ " (UTC). */
static void watch_stamp(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    printf("%s.%03ldZ ", when, ts.tv_nsec / 1000000);
}

/* The value of {Key, Value} in a proplist, when Value is an atom. */
static const edist_term *watch_prop(const edist_term *list, const char *key)
{
    if (list->type != EDIST_TERM_LIST)
        return NULL;
    for (size_t i = 0; i < list->v.list.len; i++) {
        const edist_term *e = &list->v.list.elems[i];
        if (e->type == EDIST_TERM_TUPLE && e->v.tuple.arity == 2 &&
            edist_term_is_atom(&e->v.tuple.elems[0], key) &&
            e->v.tuple.elems[1].type == EDIST_TERM_ATOM)
            return &e->v.tuple.elems[1];
    }
    return NULL;
}

/* Prints one event line; returns 1 if m was a node event, else 0. */
static int watch_event(edist_node *n, edist_msg *m)
{
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    int done = 0;
    if (!a || edist_msg_term(m, a, &t) < 0)
        goto out;
    /* {nodeup, Node, Info} | {nodedown, Node, Info} */
    if (t.type != EDIST_TERM_TUPLE || t.v.tuple.arity != 3 ||
        t.v.tuple.elems[1].type != EDIST_TERM_ATOM)
        goto out;
    const edist_term *node = &t.v.tuple.elems[1], *info = &t.v.tuple.elems[2];
    int up = edist_term_is_atom(&t.v.tuple.elems[0], "nodeup");
    if (!up && !edist_term_is_atom(&t.v.tuple.elems[0], "nodedown"))
        goto out;
    char name[512];
    size_t len =
        node->v.atom.len < sizeof name - 1 ? node->v.atom.len : sizeof name - 1;
    memcpy(name, node->v.atom.name, len);
    name[len] = '\0';
    const char *what;
    char buf[256];
    const edist_term *v =
        watch_prop(info, up ? "node_type" : "nodedown_reason");
    if (v) {
        size_t l =
            v->v.atom.len < sizeof buf - 1 ? v->v.atom.len : sizeof buf - 1;
        memcpy(buf, v->v.atom.name, l);
        buf[l] = '\0';
        what = buf;
    } else {
        what = "unknown";
    }
    watch_stamp();
    printf("%s %s %s\n", up ? "nodeup" : "nodedown", name, what);
    fflush(stdout);
    done = 1;
out:
    edist_arena_free(a);
    return done;
}

static int watch_parse(int nrest, char **rest, watch_args *w)
{
    for (int i = 0; i < nrest; i++) {
        const char *a = rest[i];
        if ((!strcmp(a, "--count") || !strcmp(a, "--timeout")) &&
            i + 1 < nrest) {
            char *end;
            long v = strtol(rest[++i], &end, 10);
            if (!*rest[i] || *end || v < 1 || v > 100000000) {
                cli_err("%s: expected a positive number, got '%s'", a, rest[i]);
                return -1;
            }
            if (a[2] == 'c')
                w->count = v;
            else
                w->timeout_s = v;
        } else if (a[0] == '-') {
            cli_err("usage: edist watch [OPTIONS] [--count N] [--timeout S] "
                    "[NODE...]");
            return -1;
        } else {
            w->nodes[w->nnodes++] = a;
        }
    }
    return 0;
}

/* Streams events until a signal, the count or the deadline.  Returns the
 * exit code. */
static int watch_loop(edist_node *n, edist_mbox *mb, int sfd,
                      const watch_args *w)
{
    long deadline = w->timeout_s ? watch_now_ms() + w->timeout_s * 1000 : 0;
    long seen = 0;
    struct pollfd pf[2] = {{edist_mbox_fd(mb), POLLIN, 0}, {sfd, POLLIN, 0}};
    for (;;) {
        edist_msg *m;
        while (edist_recv(mb, &m, 0) == 0) {
            seen += watch_event(n, m);
            edist_msg_free(m);
            if (w->count && seen >= w->count)
                return CLI_OK;
        }
        int wait = -1;
        if (deadline) {
            long left = deadline - watch_now_ms();
            if (left <= 0)
                break;
            wait = (int)left;
        }
        if (poll(pf, 2, wait) < 0 && errno != EINTR)
            return CLI_FAIL;
        if (pf[1].revents)
            return CLI_OK;
    }
    /* The deadline passed: a failure only when events were asked for. */
    if (w->count) {
        cli_err("timeout: %ld of %ld events in %ld s", seen, w->count,
                w->timeout_s);
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cmd_watch(int argc, char **argv)
{
    cli_node_opts o;
    char **rest = calloc((size_t)argc, sizeof *rest);
    watch_args w = {0};
    w.nodes = calloc((size_t)argc, sizeof *w.nodes);
    int nrest = 0, rc = CLI_USAGE, sfd = -1;
    if (!rest || !w.nodes || cli_node_args(argc, argv, &o, rest, &nrest) ||
        watch_parse(nrest, rest, &w))
        goto out;
    /* Signals arrive through a signalfd polled with the mailbox; blocking
     * them before the node starts keeps them off its threads. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    sfd = signalfd(-1, &set, SFD_CLOEXEC);
    edist_node *n;
    if (sfd < 0 || cli_node_start(&o, w.nnodes ? w.nodes[0] : NULL, &n) < 0) {
        rc = CLI_NOCONN;
        goto out;
    }
    /* Subscribe before connecting, so the first nodeup is not missed. */
    edist_mbox *mb;
    if (edist_mbox_open(n, &mb) ||
        edist_monitor_nodes_opts(mb, 1,
                                 EDIST_MONITOR_NODES_HIDDEN |
                                     EDIST_MONITOR_NODES_REASON |
                                     EDIST_MONITOR_NODES_TYPE)) {
        cli_err("cannot subscribe to node events");
        edist_node_stop(n);
        rc = CLI_FAIL;
        goto out;
    }
    rc = CLI_OK;
    for (int i = 0; i < w.nnodes && rc == CLI_OK; i++) {
        edist_conn_error why;
        int c = edist_connect(n, w.nodes[i], 10000, &why);
        if (c < 0) {
            cli_err("cannot connect to %s: %s", w.nodes[i],
                    why.reason[0] ? why.reason : edist_strerror(c));
            rc = cli_exit_for(c);
        }
    }
    if (rc == CLI_OK)
        rc = watch_loop(n, mb, sfd, &w);
    edist_mbox_close(mb);
    edist_node_stop(n);
out:
    if (sfd >= 0)
        close(sfd);
    free(rest);
    free(w.nodes);
    return rc;
}
