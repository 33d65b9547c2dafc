/*
 * call.c: gen_server style call / cast / reply, and rpc:call into any
 * node through its `rex` server, and erpc:call by a spawn request.
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

/* Whether the connection to node is up with every flag in flags
 * negotiated. */
static int call_peer_has(edist_node *n, const char *node, size_t len,
                         uint64_t flags)
{
    uint64_t f;
    return peer_is_up(n, node, len, &f) && (f & flags) == flags;
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
    return node_is_local(n, node) ||
           call_peer_has(n, node.name, node.len, EDIST_DFLAG_ALIAS);
}

/* A call whose time counts from now (it connects or monitors before it
 * waits): its deadline, unset when it has no limit. */
static edist_mq_deadline call_deadline(int timeout_ms)
{
    edist_mq_deadline dl = {0};
    if (timeout_ms > 0) {
        node_deadline(&dl.at, timeout_ms);
        dl.set = 1;
    }
    return dl;
}

/* Whether the time of a call with deadline dl is up. */
static int call_expired(const edist_mq_deadline *dl, int timeout_ms)
{
    if (timeout_ms < 0)
        return 0;
    return timeout_ms == 0 || (dl->set && node_left_ms(&dl->at) == 0);
}

/* Waits until the deadline for the next message of mb that decodes to a
 * tuple (others are dropped).  Returns 0 with *t in arena a, or the error
 * of edist_recv (EDIST_ETIMEDOUT, EDIST_ECLOSED, ...). */
static int call_next_tuple(edist_mbox *mb, edist_mq_deadline *dl,
                           int timeout_ms, edist_arena *a, edist_term *t)
{
    for (;;) {
        edist_msg *m;
        int rc = mbox_recv_by(mb, &m, timeout_ms, dl);
        if (rc < 0)
            return rc;
        int d = edist_msg_term(m, a, t);
        edist_msg_free(m);
        if (d == 0 && t->type == EDIST_TERM_TUPLE)
            return 0;
    }
}

int edist_call(edist_mbox *mb, const edist_term *to, const edist_term *request,
               int timeout_ms, edist_arena *a, edist_term *reply)
{
    if (!mb || !to || !request || !a || !reply)
        return EDIST_EINVAL;
    edist_node *n = mb->node;
    edist_mq_deadline dl = call_deadline(timeout_ms);
    edist_mbox *me;
    int rc = edist_mbox_open(n, &me);
    if (rc < 0)
        return rc;
    /* The monitor's connect waits no longer than the call may: a call
     * with a timeout to a node that does not answer ends in time. */
    int cms = timeout_ms < 0 || timeout_ms > SIG_CONNECT_MS ? SIG_CONNECT_MS
                                                            : timeout_ms;
    edist_term mref;
    if ((rc = sig_monitor(me, to, &mref, cms)) < 0) {
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
    edist_term t;
    while (rc == 0 && (rc = call_next_tuple(me, &dl, timeout_ms, a, &t)) == 0) {
        edist_term *el = t.v.tuple.elems;
        if (t.v.tuple.arity == 2 && edist_term_equal(&el[0], &tag)) {
            *reply = el[1];
            break;
        }
        if (t.v.tuple.arity == 5 && edist_term_is_atom(&el[0], "DOWN") &&
            edist_term_equal(&el[1], &mref)) {
            *reply = el[4];
            rc = EDIST_ENOPROC;
            /* noconnection once the time is up: the connect took all of
             * it, and on BEAM the call's timeout would have fired first. */
            if (call_expired(&dl, timeout_ms) &&
                edist_term_is_atom(&el[4], "noconnection"))
                rc = EDIST_ETIMEDOUT;
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

/* An edist_rpc() call waiting for its reply: a node that goes down ends
 * it with {nodedown, Node} in its mailbox.  It lives on the caller's stack
 * and in n->rpc_waiters while the call waits.  Not a monitor_node entry
 * of the signals table: that one costs two hash tables' insert and delete
 * and a second lock per call, a quarter of the client's instructions in
 * an rpc on loopback (callgrind); this costs two pointer writes under the
 * pool's lock, which the call takes anyway. */
typedef struct call_waiter {
    struct call_waiter *prev, *next;
    edist_mbox *mb;
    const char *node;
    size_t len;
} call_waiter;

/* A mailbox for one call: an idle one from the node's pool, else a new
 * one.  With w, the call is registered as waiting on w->node.  NULL when
 * no mailbox can be opened. */
static edist_mbox *call_pool_get(edist_node *n, call_waiter *w)
{
    edist_mbox *mb = NULL;
    pthread_mutex_lock(&n->rpc_pool_mu);
    if (n->rpc_pool_n > 0)
        mb = n->rpc_pool[--n->rpc_pool_n];
    if (!mb) {
        pthread_mutex_unlock(&n->rpc_pool_mu);
        if (edist_mbox_open(n, &mb) < 0)
            return NULL;
        pthread_mutex_lock(&n->rpc_pool_mu);
    }
    if (w) {
        w->mb = mb;
        w->prev = NULL;
        w->next = n->rpc_waiters;
        if (w->next)
            w->next->prev = w;
        n->rpc_waiters = w;
    }
    pthread_mutex_unlock(&n->rpc_pool_mu);
    return mb;
}

/* Ends a call: takes w (may be NULL) off the waiters, then gives the
 * mailbox back to the pool when reuse is set, or closes it.  Only a
 * mailbox whose messages can be told from the next call's may be reused:
 * what it still holds is dropped (a nodedown sent before w was taken
 * off, a reply that came after a timeout to a call tagged with a
 * reference); one whose queue call_node_down closed is closed.  The
 * queue's lock is taken under the pool's, in the order call_node_down
 * takes them. */
static void call_pool_put(edist_node *n, edist_mbox *mb, call_waiter *w,
                          int reuse)
{
    pthread_mutex_lock(&n->rpc_pool_mu);
    if (w) {
        if (w->prev)
            w->prev->next = w->next;
        else
            n->rpc_waiters = w->next;
        if (w->next)
            w->next->prev = w->prev;
    }
    size_t cap = sizeof n->rpc_pool / sizeof n->rpc_pool[0];
    if (reuse && n->rpc_pool_n < cap) {
        edist_msg *m;
        int rc;
        while ((rc = edist_recv(mb, &m, 0)) == 0)
            edist_msg_free(m);
        if (rc == EDIST_ETIMEDOUT) { /* empty, and not closed */
            n->rpc_pool[n->rpc_pool_n++] = mb;
            mb = NULL;
        }
    }
    pthread_mutex_unlock(&n->rpc_pool_mu);
    if (mb)
        edist_mbox_close(mb);
}

void call_node_down(edist_node *n, const char *peer, size_t len,
                    const uint8_t *msg, size_t msg_len)
{
    /* Queued before the lock goes (after what this thread routed before
     * it), not left in a batch: call_pool_put drains it under the same
     * lock, or a mailbox back in the pool would hold a nodedown for its
     * next call.  When it cannot be queued (no memory), the call's queue
     * is closed instead: the call ends with nodedown all the same rather
     * than wait for a message that will not come, forever when it has no
     * timeout, and its mailbox is not reused. */
    pthread_mutex_lock(&n->rpc_pool_mu);
    for (call_waiter *c = n->rpc_waiters; c; c = c->next)
        if (c->len == len && memcmp(c->node, peer, len) == 0 &&
            mbox_push_now(c->mb, msg, msg_len) < 0)
            edist_mqueue_close(&c->mb->q);
    pthread_mutex_unlock(&n->rpc_pool_mu);
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

/* The class and value of the exit reason of erpc:execute_call/4 (the
 * DOWN of the spawned process), as erpc:call turns it into its return or
 * exception (erpc.erl, result/4).  Returns the EDIST_RPC_* class, or
 * EDIST_EBADRPC / EDIST_ENOCONN for erpc's own errors, or EDIST_ENOMEM. */
static int erpc_down_result(edist_arena *a, const edist_term *res,
                            const edist_term *reason, edist_term *out)
{
    const edist_term *el = reason->v.tuple.elems;
    size_t ar = reason->type == EDIST_TERM_TUPLE ? reason->v.tuple.arity : 0;
    static const struct {
        const char *tag;
        int cls;
    } plain[] = {{"return", EDIST_RPC_RETURN},
                 {"throw", EDIST_RPC_THROW},
                 {"exit", EDIST_RPC_EXIT}};
    if (ar >= 3 && edist_term_equal(&el[0], res)) {
        for (size_t i = 0; ar == 3 && i < sizeof plain / sizeof plain[0]; i++)
            if (edist_term_is_atom(&el[1], plain[i].tag)) {
                *out = el[2];
                return plain[i].cls;
            }
        if (ar == 4 && edist_term_is_atom(&el[1], "error")) {
            if (edist_term_tuple(a, out, 2) < 0)
                return EDIST_ENOMEM;
            out->v.tuple.elems[0] = el[2];
            out->v.tuple.elems[1] = el[3];
            return EDIST_RPC_ERROR;
        }
        if (ar == 3 && edist_term_is_atom(&el[1], "error") &&
            el[2].type == EDIST_TERM_TUPLE && el[2].v.tuple.arity == 2) {
            /* {erpc, Reason}: too many arguments (system_limit). */
            *out = el[2].v.tuple.elems[1];
            return EDIST_EBADRPC;
        }
    }
    if (edist_term_is_atom(reason, "noconnection"))
        return EDIST_ENOCONN;
    /* Killed, or anything but erpc's own exit: exit({signal, Reason}). */
    *out = *reason;
    return EDIST_RPC_EXIT;
}

/* SPAWN_REQUEST {29, ReqId, From, GroupLeader, {erpc, execute_call, 4},
 * [monitor]} with [Res, M, F, Args]: what erpc:call, and so rpc:call,
 * sends on OTP 23+ ([{reply, error_only}, monitor]; the reply option
 * stays with the caller).  The process's group leader is the node's I/O
 * proxy (route.c). */
static int rpc_spawn_send(edist_node *n, edist_mbox *mb, const char *peer,
                          const edist_term *reqid, const edist_term *res,
                          const char *module, const char *function,
                          const edist_term *args)
{
    /* Three terms naming our node (up to 1020 bytes of UTF-8 each). */
    uint8_t ctl[4096];
    edist_etf_writer w;
    edist_term self = edist_mbox_pid(mb), gl = node_io_proxy_pid(n);
    edist_term mfa[3] = {sig_atom("erpc"), sig_atom("execute_call"),
                         edist_mk_int(4)};
    edist_term opt = sig_atom("monitor"), nil = edist_mk_nil(), opts;
    opts.type = EDIST_TERM_LIST;
    opts.v.list.len = 1;
    opts.v.list.elems = &opt;
    opts.v.list.tail = &nil;
    edist_etf_writer_init_fixed(&w, ctl, sizeof ctl, 0);
    edist_etf_put_tuple_header(&w, 6);
    edist_etf_put_int(&w, 29); /* SPAWN_REQUEST */
    edist_etf_put_term(&w, reqid);
    edist_etf_put_term(&w, &self);
    edist_etf_put_term(&w, &gl);
    edist_term t = sig_tuple(mfa, 3);
    edist_etf_put_term(&w, &t);
    edist_etf_put_term(&w, &opts);
    if (w.err)
        return w.err;
    edist_term al[4] = {*res, sig_atom(module), sig_atom(function), *args};
    edist_term arglist;
    arglist.type = EDIST_TERM_LIST;
    arglist.v.list.len = 4;
    arglist.v.list.elems = al;
    arglist.v.list.tail = &nil;
    return mbox_send_ctl(mb, peer, ctl, w.len, &arglist);
}

/* The stack buffer edist_rpc encodes its request into; a bigger request
 * (large arguments) takes the generic path. */
#define RPC_REQUEST_STACK 512

/* Encodes edist_rpc's request {Self, {call, Module, Function, Args, user}}
 * with its version byte into buf: the fixed shape is written directly,
 * only Args (NULL: []) goes through the term encoder.  The generic path
 * walked the whole term: on a loopback rpc that walk was a tenth of the
 * client's instructions.  Returns 0 with *len set, or the writer's error
 * (EDIST_ETOOBIG when it does not fit). */
static int rpc_request_encode(uint8_t *buf, size_t cap, edist_mbox *mb,
                              const char *module, const char *function,
                              const edist_term *args, size_t *len)
{
    edist_etf_writer w;
    edist_term self = edist_mbox_pid(mb);
    edist_etf_writer_init_fixed(&w, buf, cap, 0);
    edist_etf_put_version(&w);
    edist_etf_put_tuple_header(&w, 2);
    edist_etf_put_pid(&w, self.v.pid.node, self.v.pid.id, self.v.pid.serial,
                      self.v.pid.creation);
    edist_etf_put_tuple_header(&w, 5);
    edist_etf_put_atom(&w, "call", 4);
    edist_etf_put_atom(&w, module, strlen(module));
    edist_etf_put_atom(&w, function, strlen(function));
    if (args)
        edist_etf_put_term(&w, args);
    else
        edist_etf_put_nil(&w);
    int rc = edist_etf_put_atom(&w, "user", 4);
    if (rc < 0 || w.err)
        return w.err ? w.err : rc;
    *len = w.len;
    return 0;
}

/* The checks edist_rpc and edist_erpc share: every argument but args is
 * given, and peer is another node (we serve rpc to others, and call our
 * own functions directly).  Returns 0 or EDIST_EINVAL. */
static int rpc_check(edist_node *n, const char *peer, const char *module,
                     const char *function, const edist_arena *a,
                     const edist_term *result)
{
    if (!n || !peer || !module || !function || !a || !result)
        return EDIST_EINVAL;
    return node_is_local(n, (edist_atom){peer, strlen(peer)}) ? EDIST_EINVAL
                                                              : 0;
}

int edist_erpc(edist_node *n, const char *peer, const char *module,
               const char *function, const edist_term *args, int timeout_ms,
               edist_arena *a, edist_term *result)
{
    int rc = rpc_check(n, peer, module, function, a, result);
    if (rc < 0)
        return rc;
    edist_mq_deadline dl = call_deadline(timeout_ms);
    uint64_t flags;
    size_t plen = strlen(peer);
    if (edist_connect(n, peer, timeout_ms < 0 ? SIG_CONNECT_MS : timeout_ms,
                      NULL) < 0 ||
        !peer_is_up(n, peer, plen, &flags))
        return EDIST_ENOCONN; /* also when it went down since */
    if (!(flags & EDIST_DFLAG_SPAWN)) {
        *result = sig_atom("notsup"); /* erpc's {erpc, notsup} */
        return EDIST_EBADRPC;
    }
    edist_mbox *mb = call_pool_get(n, NULL);
    if (!mb)
        return EDIST_ENOMEM;
    edist_term reqid = edist_make_ref(n), res = edist_make_ref(n);
    edist_term nil = edist_mk_nil();
    rc = sig_spawn_monitor(mb, &reqid, peer, plen);
    if (rc == 0 &&
        (rc = rpc_spawn_send(n, mb, peer, &reqid, &res, module, function,
                             args ? args : &nil)) == 0 &&
        !call_peer_has(n, peer, plen, EDIST_DFLAG_SPAWN))
        /* Lost since we looked: had it gone before the monitor was in the
         * table, nothing else would fire it. */
        sig_node_down(n, peer, plen);
    edist_term t;
    while (rc == 0 && (rc = call_next_tuple(mb, &dl, timeout_ms, a, &t)) == 0) {
        edist_term *el = t.v.tuple.elems;
        if (t.v.tuple.arity == 5 && edist_term_is_atom(&el[0], "DOWN") &&
            edist_term_equal(&el[1], &reqid)) {
            rc = erpc_down_result(a, &res, &el[4], result);
            break;
        }
        if (t.v.tuple.arity == 4 && edist_term_is_atom(&el[0], "spawn_reply") &&
            edist_term_equal(&el[1], &reqid)) {
            /* The spawn failed: noconnection, or notsup, badarg,
             * system_limit (erpc's error({erpc, Reason})). */
            if (edist_term_is_atom(&el[3], "noconnection")) {
                rc = EDIST_ENOCONN;
            } else {
                *result = el[3];
                rc = EDIST_EBADRPC;
            }
            break;
        }
    }
    /* After a timeout the entry goes: what the peer still sends for this
     * request finds none and is dropped, and a SPAWN_REPLY that comes
     * later is answered with DEMONITOR_P (sig_route.c). */
    edist_demonitor(mb, &reqid);
    call_pool_put(n, mb, NULL, 1);
    return rc == EDIST_ECLOSED ? EDIST_ENOCONN : rc;
}

/* rpc:call through rex: {Self, {call, M, F, Args, user}}, answered
 * {rex, Reply}: the message rex takes from C nodes (rpc.erl's
 * handle_info), as libei's ei_rpc sends it.  It carries no reference,
 * which saves making, encoding, decoding and comparing one per call, and
 * the reply's tag is an atom the atom cache already holds; together a
 * few per cent of a loopback call.  A reply cannot be told from a later
 * call's, so a mailbox goes back to the pool only when its call took its
 * reply; after a timeout or a nodedown it is closed, and a late reply
 * finds no process and is dropped (BEAM drops a late reply to a dead
 * pid the same way). */
int edist_rpc(edist_node *n, const char *peer, const char *module,
              const char *function, const edist_term *args, int timeout_ms,
              edist_arena *a, edist_term *result)
{
    int rc = rpc_check(n, peer, module, function, a, result);
    if (rc < 0)
        return rc;
    edist_term nil = edist_mk_nil();
    /* Connected already, the call's time counts from its first wait: the
     * request has gone by then, and a reply that is there before it
     * reads no clock at all. */
    edist_mq_deadline dl = {0};
    call_waiter w = {.node = peer, .len = strlen(peer)};
    /* Waiting before looking: a connection lost after the look finds w.
     * Only a peer not yet connected costs a second registration. */
    edist_mbox *mb = call_pool_get(n, &w);
    if (!mb)
        return EDIST_ENOMEM;
    int sent = 0, replied = 0;
    /* The peer found up is the one the request goes to: one look-up. */
    edist_peer *p = peer_get_up(n, peer, w.len);
    if (!p) {
        dl = call_deadline(timeout_ms);
        call_pool_put(n, mb, &w, 1);
        mb = NULL;
        if (edist_connect(n, peer, timeout_ms < 0 ? SIG_CONNECT_MS : timeout_ms,
                          NULL) == 0 &&
            !(mb = call_pool_get(n, &w)))
            return EDIST_ENOMEM;
        if (!mb || !(p = peer_get_up(n, peer, w.len)))
            rc = EDIST_ENOCONN; /* refused, or lost again already */
    }
    edist_term t, why;
    if (rc == 0) {
        uint8_t req[RPC_REQUEST_STACK];
        size_t rlen;
        if (rpc_request_encode(req, sizeof req, mb, module, function, args,
                               &rlen) == 0) {
            rc = mbox_send_named_bytes(mb, p, "rex", req, rlen);
        } else {
            /* Too big for the stack, or not encodable: the generic path
             * encodes it, or reports why it cannot. */
            edist_term rel[5] = {sig_atom("call"), sig_atom(module),
                                 sig_atom(function), args ? *args : nil,
                                 sig_atom("user")};
            edist_term mel[2] = {edist_mbox_pid(mb), sig_tuple(rel, 5)};
            edist_term msg = sig_tuple(mel, 2);
            rc = mbox_send_named_peer(mb, p, "rex", &msg);
        }
        sent = rc == 0;
    }
    if (p)
        peer_unref(p);
    while (rc == 0 && (rc = call_next_tuple(mb, &dl, timeout_ms, a, &t)) == 0) {
        if (t.v.tuple.arity != 2)
            continue;
        if (edist_term_is_atom(&t.v.tuple.elems[0], "rex")) {
            *result = t.v.tuple.elems[1];
            replied = 1;
            break;
        }
        if (edist_term_is_atom(&t.v.tuple.elems[0], "nodedown")) {
            rc = EDIST_ENOCONN;
            break;
        }
    }
    if (mb)
        call_pool_put(n, mb, &w, replied || !sent);
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
