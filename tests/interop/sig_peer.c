/*
 * sig_peer.c: an edist node a BEAM test script drives by messages, to
 * exercise links, monitors, exit signals, node monitoring, gen_server
 * calls and rpc from the edist side.
 *
 * It opens mailbox 0 registered as `ctl`.  Commands sent to ctl (Obs is
 * the BEAM pid that receives the answer and, from then on, every other
 * message any mailbox of this program receives, as {got, Index, Msg}):
 *
 *   {open, Obs}                    -> {opened, Index, Pid}
 *   {close, Obs, Index, Reason}    -> {closed, Index}
 *   {link, Obs, Index, Pid}        -> {linked, Rc}
 *   {unlink, Obs, Index, Pid}      -> {unlinked, Rc}
 *   {register, Obs, Index, Name}   -> {registered, Rc}
 *   {exit, Obs, Index, Pid, Why}   -> {exited, Rc}
 *   {monitor, Obs, Index, Target}  -> {monitored, Ref}
 *   {demonitor, Obs, Index, Ref}   -> {demonitored, Rc}
 *   {monitor_node, Obs, Node, On}  -> {monitor_node, Rc}
 *   {monitor_nodes, Obs, Opts}     -> {monitor_nodes, Rc}  (Opts: a list
 *                                     of hidden / nodedown_reason)
 *   {call, Obs, To, Req, Timeout}  -> {call, Rc, Reply}
 *   {rpc, Obs, Node, M, F, Args, Timeout} -> {rpc, Rc, Result}
 *   {cast, Obs, To, Req}           -> {cast, Rc}
 *   {disconnect, Obs, Node}        -> {disconnect, Rc}
 *   {stop, Obs}                    -> {stopping} then edist_node_stop
 *
 * ctl also answers {'$gen_call', From, Req} with {reply, Req} (a tiny
 * gen_server) and logs '$gen_cast' requests by forwarding them.  Rc is 0
 * or the EDIST_E* code's name.
 *
 * usage: sig_peer NAME COOKIE
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edist/edist.h"
#include "edist/node.h"
#include "edist/proc.h"

#define MAXMB 16

static edist_node *node;
static edist_mbox *mbs[MAXMB];
static edist_term obs;
static int have_obs;
static edist_arena *obs_arena;

static edist_term A(const char *s)
{
    return edist_mk_atom(s, strlen(s));
}

static edist_term rcterm(int rc)
{
    switch (rc) {
    case 0:
        return edist_mk_int(0);
    case EDIST_ETIMEDOUT:
        return A("etimedout");
    case EDIST_ENOPROC:
        return A("enoproc");
    case EDIST_EBADRPC:
        return A("ebadrpc");
    case EDIST_EINVAL:
        return A("einval");
    default:
        return A(edist_strerror(rc));
    }
}

static void tell(edist_arena *a, size_t k, const edist_term *el)
{
    if (!have_obs)
        return;
    edist_term t;
    edist_term_tuple(a, &t, k);
    memcpy(t.v.tuple.elems, el, k * sizeof *el);
    edist_send(mbs[0], &obs, &t);
}

static edist_mbox *mb_at(const edist_term *i)
{
    if (i->type != EDIST_TERM_INT || i->v.i < 0 || i->v.i >= MAXMB)
        return NULL;
    return mbs[i->v.i];
}

static int command(edist_arena *a, const edist_term *t)
{
    edist_term *el = t->v.tuple.elems;
    size_t ar = t->v.tuple.arity;
    const edist_term *cmd = &el[0];
    static const char *const cmds[] = {
        "open", "close",   "link",      "unlink",       "register",
        "exit", "monitor", "demonitor", "monitor_node", "monitor_nodes",
        "call", "rpc",     "stop",      "disconnect",   "cast"};
    int known = 0;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        known |= edist_term_is_atom(cmd, cmds[i]);
    if (!known)
        return -1;
    if (ar >= 2 && el[1].type == EDIST_TERM_PID) {
        edist_arena_reset(obs_arena);
        edist_term_copy(obs_arena, &obs, &el[1]);
        have_obs = 1;
    }
    if (edist_term_is_atom(cmd, "open") && ar == 2) {
        for (int i = 1; i < MAXMB; i++) {
            if (!mbs[i] && edist_mbox_open(node, &mbs[i]) == 0) {
                edist_term r[3] = {A("opened"), edist_mk_int(i),
                                   edist_mbox_pid(mbs[i])};
                tell(a, 3, r);
                break;
            }
        }
    } else if (edist_term_is_atom(cmd, "close") && ar == 4) {
        edist_mbox *mb = mb_at(&el[2]);
        if (mb && el[2].v.i > 0) {
            edist_mbox_close_reason(mb, &el[3]);
            mbs[el[2].v.i] = NULL;
        }
        edist_term r[2] = {A("closed"), el[2]};
        tell(a, 2, r);
    } else if ((edist_term_is_atom(cmd, "link") ||
                edist_term_is_atom(cmd, "unlink")) &&
               ar == 4) {
        edist_mbox *mb = mb_at(&el[2]);
        int link = edist_term_is_atom(cmd, "link");
        int rc = !mb    ? EDIST_EINVAL
                 : link ? edist_link(mb, &el[3])
                        : edist_unlink(mb, &el[3]);
        edist_term r[2] = {A(link ? "linked" : "unlinked"), rcterm(rc)};
        tell(a, 2, r);
    } else if (edist_term_is_atom(cmd, "register") && ar == 4 &&
               el[3].type == EDIST_TERM_ATOM) {
        edist_mbox *mb = mb_at(&el[2]);
        char name[1024];
        snprintf(name, sizeof name, "%.*s", (int)el[3].v.atom.len,
                 el[3].v.atom.name);
        int rc = mb ? edist_mbox_register(mb, name) : EDIST_EINVAL;
        edist_term r[2] = {A("registered"), rcterm(rc)};
        tell(a, 2, r);
    } else if (edist_term_is_atom(cmd, "exit") && ar == 5) {
        edist_mbox *mb = mb_at(&el[2]);
        int rc = mb ? edist_exit(mb, &el[3], &el[4]) : EDIST_EINVAL;
        edist_term r[2] = {A("exited"), rcterm(rc)};
        tell(a, 2, r);
    } else if (edist_term_is_atom(cmd, "monitor") && ar == 4) {
        edist_mbox *mb = mb_at(&el[2]);
        edist_term ref;
        int rc = mb ? edist_monitor(mb, &el[3], &ref) : EDIST_EINVAL;
        edist_term r[2] = {A("monitored"), rc == 0 ? ref : rcterm(rc)};
        tell(a, 2, r);
    } else if (edist_term_is_atom(cmd, "demonitor") && ar == 4) {
        edist_mbox *mb = mb_at(&el[2]);
        int rc = mb ? edist_demonitor(mb, &el[3]) : EDIST_EINVAL;
        edist_term r[2] = {A("demonitored"), rcterm(rc)};
        tell(a, 2, r);
    } else if (edist_term_is_atom(cmd, "monitor_node") && ar == 4 &&
               el[2].type == EDIST_TERM_ATOM) {
        char name[1024];
        snprintf(name, sizeof name, "%.*s", (int)el[2].v.atom.len,
                 el[2].v.atom.name);
        int rc = edist_monitor_node(mbs[0], name,
                                    edist_term_is_atom(&el[3], "true"));
        edist_term r[2] = {A("monitor_node"), rcterm(rc)};
        tell(a, 2, r);
    } else if (edist_term_is_atom(cmd, "monitor_nodes") && ar == 3) {
        unsigned opts = 0;
        for (size_t i = 0;
             el[2].type == EDIST_TERM_LIST && i < el[2].v.list.len; i++) {
            if (edist_term_is_atom(&el[2].v.list.elems[i], "hidden"))
                opts |= EDIST_MONITOR_NODES_HIDDEN;
            if (edist_term_is_atom(&el[2].v.list.elems[i], "all"))
                opts |= EDIST_MONITOR_NODES_HIDDEN | EDIST_MONITOR_NODES_TYPE;
            if (edist_term_is_atom(&el[2].v.list.elems[i], "nodedown_reason"))
                opts |= EDIST_MONITOR_NODES_REASON;
        }
        int rc = edist_monitor_nodes_opts(mbs[0], 1, opts);
        edist_term r[2] = {A("monitor_nodes"), rcterm(rc)};
        tell(a, 2, r);
    } else if (edist_term_is_atom(cmd, "call") && ar == 5) {
        edist_term reply = A("none");
        int rc = edist_call(mbs[0], &el[2], &el[3], (int)el[4].v.i, a, &reply);
        edist_term r[3] = {A("call"), rcterm(rc), reply};
        tell(a, 3, r);
    } else if (edist_term_is_atom(cmd, "rpc") && ar == 7 &&
               el[2].type == EDIST_TERM_ATOM) {
        char nd[1024], m[1024], f[1024];
        snprintf(nd, sizeof nd, "%.*s", (int)el[2].v.atom.len,
                 el[2].v.atom.name);
        snprintf(m, sizeof m, "%.*s", (int)el[3].v.atom.len, el[3].v.atom.name);
        snprintf(f, sizeof f, "%.*s", (int)el[4].v.atom.len, el[4].v.atom.name);
        edist_term res = A("none");
        int rc = edist_rpc(node, nd, m, f, &el[5], (int)el[6].v.i, a, &res);
        edist_term r[3] = {A("rpc"), rcterm(rc), res};
        tell(a, 3, r);
    } else if (edist_term_is_atom(cmd, "cast") && ar == 4) {
        int rc = edist_cast(mbs[0], &el[2], &el[3]);
        edist_term r[2] = {A("cast"), rcterm(rc)};
        tell(a, 2, r);
    } else if (edist_term_is_atom(cmd, "disconnect") && ar == 3 &&
               el[2].type == EDIST_TERM_ATOM) {
        char nd[1024];
        snprintf(nd, sizeof nd, "%.*s", (int)el[2].v.atom.len,
                 el[2].v.atom.name);
        int rc = edist_disconnect(node, nd);
        edist_term r[2] = {A("disconnect"), rcterm(rc)};
        tell(a, 2, r);
    } else if (edist_term_is_atom(cmd, "stop") && ar == 2) {
        edist_term r[1] = {A("stopping")};
        tell(a, 1, r);
        return 1;
    } else {
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: sig_peer NAME COOKIE\n");
        return 2;
    }
    edist_node_opts o = {0};
    o.name = argv[1];
    o.cookie = argv[2];
    /* Hidden, as the test expects: visible peers would take part in
     * global, which disconnects nodes to keep partitions whole when the
     * test drops a connection on purpose. */
    o.hidden = 1;
    char why[512];
    if (edist_node_start(&o, &node, why, sizeof why) < 0) {
        fprintf(stderr, "start: %s\n", why);
        return 1;
    }
    obs_arena = edist_arena_new(NULL);
    if (edist_mbox_open(node, &mbs[0]) || edist_mbox_register(mbs[0], "ctl"))
        return 1;
    printf("ready\n");
    fflush(stdout);
    int stop = 0;
    edist_arena *a = edist_arena_new(NULL);
    while (!stop) {
        struct pollfd pf[MAXMB];
        int idx[MAXMB], k = 0;
        for (int i = 0; i < MAXMB; i++) {
            if (mbs[i]) {
                pf[k].fd = edist_mbox_fd(mbs[i]);
                pf[k].events = POLLIN;
                idx[k++] = i;
            }
        }
        if (poll(pf, (nfds_t)k, 1000) < 0)
            break;
        for (int j = 0; j < k && !stop; j++) {
            int i = idx[j];
            edist_msg *m;
            while (!stop && mbs[i] && edist_recv(mbs[i], &m, 0) == 0) {
                edist_arena_reset(a);
                edist_term t;
                int ok = edist_msg_term(m, a, &t) == 0;
                edist_msg_free(m);
                if (!ok)
                    continue;
                int handled = -1;
                if (i == 0 && t.type == EDIST_TERM_TUPLE &&
                    t.v.tuple.arity >= 1) {
                    if (t.v.tuple.arity == 3 &&
                        edist_term_is_atom(&t.v.tuple.elems[0], "$gen_call")) {
                        edist_term r[2] = {A("reply"), t.v.tuple.elems[2]}, rt;
                        edist_term_tuple(a, &rt, 2);
                        memcpy(rt.v.tuple.elems, r, sizeof r);
                        edist_reply(mbs[0], &t.v.tuple.elems[1], &rt);
                        continue;
                    }
                    handled = command(a, &t);
                    if (handled == 1)
                        stop = 1;
                }
                if (handled < 0) {
                    edist_term r[3] = {A("got"), edist_mk_int(i), t};
                    tell(a, 3, r);
                }
            }
        }
    }
    /* A graceful stop with the mailboxes still open: the node tells their
     * remote links and monitors (reason shutdown).  The mailboxes are not
     * usable afterwards and are not freed: _exit skips the leak report. */
    edist_node_stop(node);
    fflush(stdout);
    _exit(0);
}
