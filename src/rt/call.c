/*
 * call.c: gen_server style call / cast / reply, and rpc:call into any
 * node through its `rex` server.
 *
 * A call tags its request [alias | Mref] (the monitor reference, made an
 * alias of the private mailbox) when the server's node knows aliases,
 * as OTP 24+'s gen:call does; a plain Mref otherwise.
 *
 * A call runs from a private mailbox: the caller's own queue is never
 * searched, so no message is taken out of order, and a reply that comes
 * after a timeout is dropped with the private mailbox, as a late reply to
 * an alias is dropped on BEAM.
 */
#include <string.h>

#include "edist/err.h"
#include "edist/proc.h"
#include "rt/node_int.h"

/* Sends msg to to: a pid, an atom (local name) or {Name, Node}. */
static int call_send(edist_mbox *mb, const edist_term *to,
                     const edist_term *msg)
{
    char name[256 * 4 + 1], node[EDIST_NODE_NAME_MAX + 1];
    if (to->type == EDIST_TERM_PID)
        return edist_send(mb, to, msg);
    const edist_term *nm = to, *nd = NULL;
    if (to->type == EDIST_TERM_TUPLE && to->v.tuple.arity == 2) {
        nm = &to->v.tuple.elems[0];
        nd = &to->v.tuple.elems[1];
        if (nd->type != EDIST_TERM_ATOM || nd->v.atom.len > EDIST_NODE_NAME_MAX)
            return EDIST_ETYPE;
    }
    if (nm->type != EDIST_TERM_ATOM || nm->v.atom.len >= sizeof name)
        return EDIST_ETYPE;
    memcpy(name, nm->v.atom.name, nm->v.atom.len);
    name[nm->v.atom.len] = '\0';
    if (nd) {
        memcpy(node, nd->v.atom.name, nd->v.atom.len);
        node[nd->v.atom.len] = '\0';
    }
    return edist_send_named(mb, name, nd ? node : NULL, msg);
}

/* Whether the node of to takes [alias | Ref] tags: ours does, a peer
 * does when it negotiated ALIAS (OTP 24+). */
static int call_alias_ok(edist_node *n, const edist_term *to)
{
    edist_atom node = edist_node_atom(n);
    if (to->type == EDIST_TERM_PID)
        node = to->v.pid.node;
    else if (to->type == EDIST_TERM_TUPLE)
        node = to->v.tuple.elems[1].v.atom;
    if (node_is_local(n, node))
        return 1;
    edist_peer *p = peer_lookup(n, node.name, node.len);
    if (!p)
        return 0;
    pthread_mutex_lock(&p->mu);
    int ok = p->state == PEER_UP && (p->flags & EDIST_DFLAG_ALIAS);
    pthread_mutex_unlock(&p->mu);
    peer_unref(p);
    return ok;
}

static int left_ms(uint64_t deadline, int timeout_ms)
{
    if (timeout_ms < 0)
        return -1;
    uint64_t now = node_now_ms();
    return now >= deadline ? 0 : (int)(deadline - now);
}

int edist_call(edist_mbox *mb, const edist_term *to, const edist_term *request,
               int timeout_ms, edist_arena *a, edist_term *reply)
{
    if (!mb || !to || !request || !a || !reply)
        return EDIST_EINVAL;
    edist_node *n = mb->node;
    uint64_t deadline =
        node_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
    edist_mbox *me;
    int rc = edist_mbox_open(n, &me);
    if (rc < 0)
        return rc;
    edist_term mref;
    if ((rc = edist_monitor(me, to, &mref)) < 0) {
        edist_mbox_close(me);
        return rc;
    }
    /* {'$gen_call', {Self, Tag}, Request} with Tag = [alias | Mref] as
     * gen:call sends since OTP 24 (the reply may come to the alias), or
     * the plain Mref for a peer without aliases. */
    edist_term tag = mref, tail = mref, head = sig_atom("alias");
    if (call_alias_ok(n, to) && sig_alias_add(me, &mref) == 0) {
        tag.type = EDIST_TERM_LIST;
        tag.v.list.len = 1;
        tag.v.list.elems = &head;
        tag.v.list.tail = &tail;
    }
    edist_term fel[2] = {edist_mbox_pid(me), tag};
    edist_term mel[3] = {sig_atom("$gen_call"), sig_tuple(fel, 2), *request};
    edist_term msg = sig_tuple(mel, 3);
    rc = call_send(me, to, &msg);
    while (rc == 0) {
        edist_msg *m;
        rc = edist_recv(me, &m, left_ms(deadline, timeout_ms));
        if (rc < 0)
            break;
        edist_term t;
        int d = edist_msg_term(m, a, &t);
        edist_msg_free(m);
        if (d < 0 || t.type != EDIST_TERM_TUPLE)
            continue;
        edist_term *el = t.v.tuple.elems;
        if (t.v.tuple.arity == 2 && edist_term_equal(&el[0], &tag)) {
            *reply = el[1];
            break;
        }
        if (t.v.tuple.arity == 5 && edist_term_is_atom(&el[0], "DOWN") &&
            edist_term_equal(&el[1], &mref)) {
            *reply = el[4];
            rc = EDIST_ENOPROC;
            break;
        }
    }
    edist_demonitor(me, &mref);
    edist_mbox_close(me);
    return rc;
}

int edist_cast(edist_mbox *mb, const edist_term *to, const edist_term *request)
{
    if (!mb || !to || !request)
        return EDIST_EINVAL;
    edist_term el[2] = {sig_atom("$gen_cast"), *request};
    edist_term msg = sig_tuple(el, 2);
    return call_send(mb, to, &msg);
}

int edist_reply(edist_mbox *mb, const edist_term *from, const edist_term *reply)
{
    if (!mb || !from || !reply)
        return EDIST_EINVAL;
    if (from->type != EDIST_TERM_TUPLE || from->v.tuple.arity != 2 ||
        from->v.tuple.elems[0].type != EDIST_TERM_PID)
        return EDIST_EINVAL;
    /* The tag goes back as it came: [alias | Ref] stays improper. */
    edist_term el[2] = {from->v.tuple.elems[1], *reply};
    edist_term msg = sig_tuple(el, 2);
    return edist_send(mb, &from->v.tuple.elems[0], &msg);
}

static int badrpc(edist_arena *a, const edist_term *why, edist_term *out)
{
    if (edist_term_tuple(a, out, 2) < 0)
        return EDIST_ENOMEM;
    out->v.tuple.elems[0] = sig_atom("badrpc");
    out->v.tuple.elems[1] = *why;
    return EDIST_EBADRPC;
}

/* A mailbox for one edist_rpc() call: an idle one from the node's pool,
 * else a new one.  NULL when none can be opened. */
static edist_mbox *call_pool_get(edist_node *n)
{
    edist_mbox *mb = NULL;
    pthread_mutex_lock(&n->rpc_pool_mu);
    if (n->rpc_pool_n > 0)
        mb = n->rpc_pool[--n->rpc_pool_n];
    pthread_mutex_unlock(&n->rpc_pool_mu);
    if (!mb && edist_mbox_open(n, &mb) < 0)
        return NULL;
    return mb;
}

/* Gives a call's mailbox back, its node monitor already removed.  What it
 * still holds (a reply that came after a timeout) is dropped; what comes
 * later is skipped by the next call, whose reference differs. */
static void call_pool_put(edist_node *n, edist_mbox *mb)
{
    edist_msg *m;
    while (edist_recv(mb, &m, 0) == 0)
        edist_msg_free(m);
    pthread_mutex_lock(&n->rpc_pool_mu);
    size_t cap = sizeof n->rpc_pool / sizeof n->rpc_pool[0];
    if (n->rpc_pool_n < cap) {
        n->rpc_pool[n->rpc_pool_n++] = mb;
        mb = NULL;
    }
    pthread_mutex_unlock(&n->rpc_pool_mu);
    if (mb)
        edist_mbox_close(mb);
}

void call_pool_close(edist_node *n)
{
    pthread_mutex_lock(&n->rpc_pool_mu);
    size_t k = n->rpc_pool_n;
    edist_mbox *mbs[sizeof n->rpc_pool / sizeof n->rpc_pool[0]];
    memcpy(mbs, n->rpc_pool, k * sizeof mbs[0]);
    n->rpc_pool_n = 0;
    pthread_mutex_unlock(&n->rpc_pool_mu);
    for (size_t i = 0; i < k; i++)
        edist_mbox_close(mbs[i]);
}

int edist_rpc(edist_node *n, const char *peer, const char *module,
              const char *function, const edist_term *args, int timeout_ms,
              edist_arena *a, edist_term *result)
{
    if (!n || !peer || !module || !function || !a || !result)
        return EDIST_EINVAL;
    edist_term nil = edist_mk_nil(), why;
    if (!args)
        args = &nil;
    uint64_t deadline =
        node_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
    if (edist_connect(n, peer, timeout_ms < 0 ? 7000 : timeout_ms, NULL) < 0) {
        why = sig_atom("nodedown");
        return badrpc(a, &why, result);
    }
    edist_mbox *mb = call_pool_get(n);
    if (!mb)
        return EDIST_ENOMEM;
    /* A node monitor, not a process monitor on rex: it costs no message on
     * the wire (rex exists on every BEAM node), and a connection that goes
     * down during the call still ends it with nodedown. */
    int rc = edist_monitor_node(mb, peer, 1);
    if (rc < 0) {
        call_pool_put(n, mb);
        return rc;
    }
    /* {'$gen_call', {Self, Ref}, {call, M, F, Args, user}} to {rex, Peer} */
    edist_term ref = edist_make_ref(n), self = edist_mbox_pid(mb);
    edist_term fel[2] = {self, ref};
    edist_term rel[5] = {sig_atom("call"), sig_atom(module), sig_atom(function),
                         *args, sig_atom("user")};
    edist_term mel[3] = {sig_atom("$gen_call"), sig_tuple(fel, 2),
                         sig_tuple(rel, 5)};
    edist_term msg = sig_tuple(mel, 3);
    rc = edist_send_named(mb, "rex", peer, &msg);
    while (rc == 0) {
        edist_msg *m;
        rc = edist_recv(mb, &m, left_ms(deadline, timeout_ms));
        if (rc < 0)
            break;
        edist_term t;
        int d = edist_msg_term(m, a, &t);
        edist_msg_free(m);
        if (d < 0 || t.type != EDIST_TERM_TUPLE || t.v.tuple.arity != 2)
            continue;
        if (edist_term_equal(&t.v.tuple.elems[0], &ref)) {
            *result = t.v.tuple.elems[1];
            break;
        }
        if (edist_term_is_atom(&t.v.tuple.elems[0], "nodedown")) {
            rc = EDIST_ENOCONN;
            break;
        }
    }
    edist_monitor_node(mb, peer, 0);
    call_pool_put(n, mb);
    if (rc == EDIST_ETIMEDOUT || rc == EDIST_ENOCONN || rc == EDIST_ECLOSED) {
        why = sig_atom(rc == EDIST_ETIMEDOUT ? "timeout" : "nodedown");
        return badrpc(a, &why, result);
    }
    if (rc < 0)
        return rc;
    if (result->type == EDIST_TERM_TUPLE && result->v.tuple.arity == 2 &&
        edist_term_is_atom(&result->v.tuple.elems[0], "badrpc"))
        return EDIST_EBADRPC;
    return 0;
}
