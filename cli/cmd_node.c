/*
 * cmd_node.c: `edist node`: a long-lived node.  It logs node up/down
 * events and every message it receives, in Erlang syntax, answers ping
 * (the library does), and runs a process registered as `echo`: a message
 * {Pid, Term} sent to echo is answered by sending Term to Pid.
 * It serves rpc (rpc:call, erpc:call, erpc:cast) for erlang:node/0,
 * erlang:nodes/0, erlang:nodes/1 (connected, visible, hidden, known),
 * erlang:whereis/1, net_kernel:connect_node/1 (true or false, as BEAM;
 * how a script asks a running node to join another's cluster),
 * edist:echo/1 (returns its argument), edist:send/2 (Pid ! Msg, for
 * observing casts) and edist:raise/2 (raises Reason
 * with Class error, exit or throw: for testing failures), and logs the
 * exit signals and DOWN messages echo receives (links and monitors BEAM
 * sets up on it).
 * --connect NODE (repeatable) connects at start.  SIGINT and SIGTERM stop
 * it cleanly (connections closed, EPMD registration dropped).
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "edist/etf_text.h"
#include "edist/proc.h"

/* How long the node must be quiet before freed heap is given back. */
#define NODE_TRIM_QUIET_MS 500

static void node_log(const char *fmt, const char *a, const char *b)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    printf("%s.%03ld ", when, ts.tv_nsec / 1000000);
    printf(fmt, a, b);
    putchar('\n');
    fflush(stdout);
}

static void node_print(edist_node *n, edist_arena *a, const edist_term *t,
                       char **out)
{
    edist_print_opts po = {0};
    po.style = EDIST_TEXT_P;
    po.line_length = -1;
    po.local_node = edist_node_atom(n);
    po.local_creation = edist_node_creation(n);
    if (edist_term_print_arena(a, t, &po, out, NULL) < 0)
        *out = "<unprintable>";
}

/* One message to echo: log it, and answer {Pid, Term} with Term. */
static void node_echo(edist_node *n, edist_mbox *echo, edist_msg *m)
{
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    char *text;
    if (!a || edist_msg_term(m, a, &t) < 0) {
        node_log("echo: %s%s", "undecodable message", "");
        edist_arena_free(a);
        return;
    }
    node_print(n, a, &t, &text);
    int signal = t.type == EDIST_TERM_TUPLE && t.v.tuple.arity >= 3 &&
                 (edist_term_is_atom(&t.v.tuple.elems[0], "EXIT") ||
                  edist_term_is_atom(&t.v.tuple.elems[0], "DOWN"));
    node_log(signal ? "echo signal <- %s%s" : "echo <- %s%s", text, "");
    if (t.type == EDIST_TERM_TUPLE && t.v.tuple.arity == 2 &&
        t.v.tuple.elems[0].type == EDIST_TERM_PID) {
        int rc = edist_send(echo, &t.v.tuple.elems[0], &t.v.tuple.elems[1]);
        if (rc < 0)
            node_log("echo: reply failed: %s%s", edist_strerror(rc), "");
    }
    edist_arena_free(a);
}

static void node_event(edist_node *n, edist_msg *m)
{
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    if (!a || edist_msg_term(m, a, &t) < 0) {
        edist_arena_free(a);
        return;
    }
    if (t.type == EDIST_TERM_TUPLE && t.v.tuple.arity == 2 &&
        t.v.tuple.elems[0].type == EDIST_TERM_ATOM &&
        t.v.tuple.elems[1].type == EDIST_TERM_ATOM) {
        node_log("%s %s", t.v.tuple.elems[0].v.atom.name,
                 t.v.tuple.elems[1].v.atom.name);
    } else {
        char *text;
        node_print(n, a, &t, &text);
        node_log("event <- %s%s", text, "");
    }
    edist_arena_free(a);
}

/* ---- rpc functions served to other nodes */

static int rpc_node(void *ud, edist_node *n, edist_arena *a,
                    const edist_term *args, size_t nargs, edist_term *res)
{
    (void)ud, (void)a, (void)args, (void)nargs;
    *res = edist_mk_atom(edist_node_name(n), strlen(edist_node_name(n)));
    return EDIST_RPC_RETURN;
}

/* nodes(Which): which = 0 visible, 1 hidden, 2 connected, 3 known (with
 * this node). */
static int rpc_list_nodes(edist_node *n, edist_arena *a, int which,
                          edist_term *res)
{
    static const unsigned kinds[] = {EDIST_NODES_VISIBLE, EDIST_NODES_HIDDEN,
                                     EDIST_NODES_CONNECTED,
                                     EDIST_NODES_CONNECTED};
    int k = edist_node_nodes(n, kinds[which], NULL, 0, NULL, 0);
    const char **names = NULL;
    for (int tries = 0; k > 0 && tries < 8; tries++) {
        /* Room for a few more, as peers may come up meanwhile. */
        size_t cap = (size_t)k + 8;
        names = edist_arena_alloc(a, cap * sizeof *names);
        char *buf = edist_arena_alloc(a, cap * 256);
        if (!names || !buf)
            return EDIST_RPC_ERROR;
        int got = edist_node_nodes(n, kinds[which], names, cap, buf, cap * 256);
        if (got >= 0 && (size_t)got <= cap) {
            k = got;
            break;
        }
        k = got < 0 ? 0 : got;
        names = NULL;
    }
    if (!names)
        k = 0;
    size_t m = 0, total = (size_t)k + (which == 3);
    edist_term *items = edist_arena_alloc(a, (total + 1) * sizeof *items);
    if (!items)
        return EDIST_RPC_ERROR;
    if (which == 3)
        items[m++] =
            edist_mk_atom(edist_node_name(n), strlen(edist_node_name(n)));
    for (int i = 0; i < k; i++)
        edist_term_atom(a, &items[m++], names[i], strlen(names[i]));
    *res = edist_mk_nil();
    if (m && edist_term_list(a, res, m) == 0)
        memcpy(res->v.list.elems, items, m * sizeof *items);
    return EDIST_RPC_RETURN;
}

static int rpc_nodes0(void *ud, edist_node *n, edist_arena *a,
                      const edist_term *args, size_t nargs, edist_term *res)
{
    (void)ud, (void)args, (void)nargs;
    return rpc_list_nodes(n, a, 0, res);
}

static int rpc_nodes1(void *ud, edist_node *n, edist_arena *a,
                      const edist_term *args, size_t nargs, edist_term *res)
{
    (void)ud, (void)nargs;
    static const char *const kinds[] = {"visible", "hidden", "connected",
                                        "known"};
    for (int i = 0; i < 4; i++)
        if (edist_term_is_atom(&args[0], kinds[i]))
            return rpc_list_nodes(n, a, i, res);
    *res = edist_mk_atom("badarg", 6);
    return EDIST_RPC_ERROR;
}

static int rpc_echo(void *ud, edist_node *n, edist_arena *a,
                    const edist_term *args, size_t nargs, edist_term *res)
{
    (void)ud, (void)n, (void)a, (void)nargs;
    *res = args[0];
    return EDIST_RPC_RETURN;
}

static int rpc_raise(void *ud, edist_node *n, edist_arena *a,
                     const edist_term *args, size_t nargs, edist_term *res)
{
    (void)ud, (void)n, (void)a, (void)nargs;
    *res = args[1];
    if (edist_term_is_atom(&args[0], "exit"))
        return EDIST_RPC_EXIT;
    if (edist_term_is_atom(&args[0], "throw"))
        return EDIST_RPC_THROW;
    return EDIST_RPC_ERROR;
}

/* The atom t as a C string in name[0..cap); -1 when t is not an atom or
 * does not fit. */
static int atom_arg(const edist_term *t, char *name, size_t cap)
{
    if (t->type != EDIST_TERM_ATOM || t->v.atom.len >= cap)
        return -1;
    memcpy(name, t->v.atom.name, t->v.atom.len);
    name[t->v.atom.len] = '\0';
    return 0;
}

static int rpc_whereis(void *ud, edist_node *n, edist_arena *a,
                       const edist_term *args, size_t nargs, edist_term *res)
{
    (void)ud, (void)a, (void)nargs;
    char name[1024];
    if (atom_arg(&args[0], name, sizeof name) < 0) {
        *res = edist_mk_atom("badarg", 6);
        return EDIST_RPC_ERROR;
    }
    if (edist_whereis(n, name, res) < 0)
        *res = edist_mk_atom("undefined", 9);
    return EDIST_RPC_RETURN;
}

/* net_kernel:connect_node(Node): true once connected, else false. */
static int rpc_connect_node(void *ud, edist_node *n, edist_arena *a,
                            const edist_term *args, size_t nargs,
                            edist_term *res)
{
    (void)ud, (void)a, (void)nargs;
    char name[1024];
    if (atom_arg(&args[0], name, sizeof name) < 0) {
        *res = edist_mk_atom("badarg", 6);
        return EDIST_RPC_ERROR;
    }
    int ok = edist_connect(n, name, 10000, NULL) == 0;
    *res = ok ? edist_mk_atom("true", 4) : edist_mk_atom("false", 5);
    return EDIST_RPC_RETURN;
}

/* edist:send(Pid, Msg): Pid ! Msg from the echo mailbox (userdata). */
static int rpc_send(void *ud, edist_node *n, edist_arena *a,
                    const edist_term *args, size_t nargs, edist_term *res)
{
    (void)n, (void)a, (void)nargs;
    if (args[0].type != EDIST_TERM_PID) {
        *res = edist_mk_atom("badarg", 6);
        return EDIST_RPC_ERROR;
    }
    edist_send(ud, &args[0], &args[1]);
    *res = args[1];
    return EDIST_RPC_RETURN;
}

static int node_serve_rpc(edist_node *n, edist_mbox *echo)
{
    return edist_rpc_register(n, "erlang", "node", 0, rpc_node, NULL) ||
           edist_rpc_register(n, "erlang", "nodes", 0, rpc_nodes0, NULL) ||
           edist_rpc_register(n, "erlang", "nodes", 1, rpc_nodes1, NULL) ||
           edist_rpc_register(n, "erlang", "whereis", 1, rpc_whereis, NULL) ||
           edist_rpc_register(n, "net_kernel", "connect_node", 1,
                              rpc_connect_node, NULL) ||
           edist_rpc_register(n, "edist", "echo", 1, rpc_echo, NULL) ||
           edist_rpc_register(n, "edist", "send", 2, rpc_send, echo) ||
           edist_rpc_register(n, "edist", "raise", 2, rpc_raise, NULL);
}

int cmd_node(int argc, char **argv)
{
    cli_node_opts o;
    char **rest = calloc((size_t)argc, sizeof *rest);
    const char **connect = calloc((size_t)argc, sizeof *connect);
    int nrest = 0, nconnect = 0, rc = CLI_USAGE, sfd = -1;
    if (!rest || !connect || cli_node_args(argc, argv, &o, rest, &nrest))
        goto out;
    for (int i = 0; i < nrest; i++) {
        if (!strcmp(rest[i], "--connect") && i + 1 < nrest) {
            connect[nconnect++] = rest[++i];
        } else {
            cli_err("usage: edist node [OPTIONS] [--connect NODE]...");
            goto out;
        }
    }
    if (!o.name)
        o.name = "edist";
    /* Signals arrive through a signalfd in the poll loop; blocking them
     * before the node starts keeps them off the I/O thread. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    sfd = signalfd(-1, &set, SFD_CLOEXEC);
    edist_node *n;
    if (sfd < 0 || cli_node_start(&o, connect[0], &n) < 0) {
        rc = CLI_NOCONN;
        goto out;
    }
    edist_mbox *echo, *events;
    if (edist_mbox_open(n, &echo) || edist_mbox_register(echo, "echo") ||
        edist_mbox_open(n, &events) || edist_monitor_nodes(events, 1) ||
        node_serve_rpc(n, echo)) {
        cli_err("cannot open the echo mailbox");
        edist_node_stop(n);
        rc = CLI_FAIL;
        goto out;
    }
    char info[64];
    snprintf(info, sizeof info, "%u (creation %u)", edist_node_port(n),
             (unsigned)edist_node_creation(n));
    node_log("node %s listening on port %s", edist_node_name(n), info);
    for (int i = 0; i < nconnect; i++) {
        edist_conn_error why;
        int c = edist_connect(n, connect[i], 10000, &why);
        if (c < 0)
            node_log("cannot connect to %s: %s", connect[i],
                     why.reason[0] ? why.reason : edist_strerror(c));
    }
    struct pollfd pf[3] = {{edist_mbox_fd(echo), POLLIN, 0},
                           {edist_mbox_fd(events), POLLIN, 0},
                           {sfd, POLLIN, 0}};
    /* What a burst freed (start-up, a mesh forming: global's sync, the
     * decoding of its messages) stays resident as free heap pages until
     * malloc gives it back.  Once the node has been quiet for a moment,
     * give it back, once per burst: a node in a mesh of 50 keeps ~0.3 MB
     * less (docs/design-notes.md, "Idle resident memory").  A process
     * setting, so the CLI's and not the library's. */
    int trimmed = 0;
    for (;;) {
        int r = poll(pf, 3, trimmed ? -1 : NODE_TRIM_QUIET_MS);
        if (r < 0 && errno != EINTR)
            break;
        if (r == 0) {
            malloc_trim(0);
            trimmed = 1;
            continue;
        }
        trimmed = 0;
        if (pf[2].revents)
            break;
        edist_msg *m;
        while (edist_recv(echo, &m, 0) == 0) {
            node_echo(n, echo, m);
            edist_msg_free(m);
        }
        while (edist_recv(events, &m, 0) == 0) {
            node_event(n, m);
            edist_msg_free(m);
        }
    }
    node_log("node %s stopping%s", edist_node_name(n), "");
    edist_mbox_close(echo);
    edist_mbox_close(events);
    edist_node_stop(n);
    rc = CLI_OK;
out:
    if (sfd >= 0)
        close(sfd);
    free(rest);
    free(connect);
    return rc;
}
