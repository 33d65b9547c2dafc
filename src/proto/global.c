/*
 * global.c: the sync sessions and events of OTP's global_name_server
 * (kernel global.erl, vsn 8), as edist_gl (global_int.h).
 *
 * A sync session between us and a newly connected visible node P, as both
 * sides run it (protocol.md 5.2; every message goes to the registered
 * name global_name_server; "cast" = {'$gen_cast', Msg}):
 *
 *   us                                              P
 *   cast {init_connect, {8, MyTag}, Me,      --->  (P does the same)
 *         {locker, no_longer_a_pid, [], MyLocker}}
 *   {init_connect_ack, Me, HisTag, MyTag}    --->  (P checks both tags)
 *   cast {lock_set, MyLocker, true, [], HisTag} <-> (once each side holds
 *                                                    its partition lock
 *                                                    {global, [L1, L2]})
 *   cast {exchange, Me, Names, [], HisTag}   --->  our registered names
 *   cast {resolved, Me, Resolved, KnownNV,   --->  KnownNV = [{Node, Vsn}]
 *         unused, [], HisTag}                      of our partition
 *   then each side: connects to the other's partition and casts
 *   {in_sync, Me, true} to each of those nodes; casts {new_nodes, Me, Ops,
 *   [], [{P, 8} | PKnown], ExtraInfo} to its own partition; adds P and
 *   PKnown to known.
 *
 * What edist does differently from BEAM (docs/mesh.md): the partition lock
 * is taken on this node only (BEAM's locker locks every node of its
 * partition), and a name clash is settled without calling the resolve
 * function (the pid on the smaller node wins, as random_exit_name, but
 * nobody is killed).  Everything else follows global.erl: who connects,
 * who disconnects under prevent_overlapping_partitions, what each message
 * holds.
 */
#include <string.h>

#include "core/mem.h"
#include "edist/err.h"
#include "proto/global_state.h"

enum { GL_DOWN_DISCONNECTED, GL_DOWN_REMOVE, GL_DOWN_IGNORE };

/* The vsn from which lost_connection / remove_connection are understood
 * (global.erl ?pop_vsn) and node lists carry versions (?pgpv_vsn). */
#define GL_POP_VSN 7

/* ------------------------------------------------------------ term shapes */

static int gl_is_tuple(const edist_term *t, size_t arity)
{
    return t->type == EDIST_TERM_TUPLE && t->v.tuple.arity == arity;
}

static const edist_term *gl_el(const edist_term *t, size_t i)
{
    return &t->v.tuple.elems[i];
}

/* A node name we could connect to ("name@host", no NUL): anything else
 * in a node position is ignored. */
static int gl_node_atom(const edist_term *t)
{
    return t->type == EDIST_TERM_ATOM && t->v.atom.len > 0 &&
           t->v.atom.len <= EDIST_NODE_NAME_MAX &&
           edist_node_name_check(t->v.atom.name, t->v.atom.len) == 0;
}

/* Walks a proper list, possibly split over several list cells.  Returns
 * the number of elements, or -1 for an improper list or a non-list. */
typedef struct gl_iter {
    const edist_term *cell;
    size_t i;
} gl_iter;

static int gl_list_ok(const edist_term *t)
{
    while (t->type == EDIST_TERM_LIST)
        t = t->v.list.tail;
    return t->type == EDIST_TERM_NIL;
}

static const edist_term *gl_next(gl_iter *it)
{
    while (it->cell && it->cell->type == EDIST_TERM_LIST) {
        if (it->i < it->cell->v.list.len)
            return &it->cell->v.list.elems[it->i++];
        it->cell = it->cell->v.list.tail;
        it->i = 0;
    }
    return NULL;
}

static int gl_is_self(const edist_gl *g, const edist_atom *a)
{
    return a->len == g->self_len && memcmp(a->name, g->self, a->len) == 0;
}

/* ------------------------------------------------------------------ nodes */

static gl_node *gl_find(const edist_gl *g, const char *name, size_t len)
{
    return edist_hmap_get(&g->nodes, name, len);
}

static gl_node *gl_get(edist_gl *g, const char *name, size_t len)
{
    if (len == 0 || len > EDIST_NODE_NAME_MAX ||
        edist_node_name_check(name, len) != 0 ||
        (len == g->self_len && memcmp(name, g->self, len) == 0))
        return NULL;
    gl_node *n = gl_find(g, name, len);
    if (n || g->nodes.count >= EDIST_GL_MAX_NODES)
        return n;
    n = edist_mem_alloc(g->alloc, sizeof *n);
    if (!n)
        return NULL;
    memset(n, 0, sizeof *n);
    memcpy(n->name, name, len);
    n->len = len;
    if (edist_hmap_put(&g->nodes, name, len, n) < 0) {
        edist_mem_free(g->alloc, n);
        return NULL;
    }
    return n;
}

static void gl_node_release(edist_gl *g, gl_node *n)
{
    edist_arena_free(n->a);
    edist_arena_free(n->pre_a);
    edist_mem_free(g->alloc, n);
}

/* Forgets a node nothing refers to any more (keeps the table bounded by
 * the nodes that matter). */
static void gl_gc(edist_gl *g, gl_node *n)
{
    if (!n || n->up || n->known || n->pending || n->removing || n->synced ||
        n->session || n->pre || g->lock_owner == n)
        return;
    edist_hmap_del(&g->nodes, n->name, n->len);
    gl_node_release(g, n);
}

static gl_node *gl_get_atom(edist_gl *g, const edist_term *t)
{
    return gl_node_atom(t) ? gl_get(g, t->v.atom.name, t->v.atom.len) : NULL;
}

static void gl_set_known(edist_gl *g, gl_node *n, int vsn)
{
    if (!n->known)
        g->known_count++;
    n->known = 1;
    n->known_vsn = vsn;
}

static void gl_unset_known(edist_gl *g, gl_node *n)
{
    if (n->known)
        g->known_count--;
    n->known = 0;
    n->known_vsn = 0;
}

/* node_vsn/2: its version as known or pending, else 0. */
static int gl_node_vsn(const gl_node *n)
{
    return n->known ? n->known_vsn : n->pending ? n->pending_vsn : 0;
}

/* ---------------------------------------------------------------- sending */

static edist_term gl_locker_term(const edist_gl *g)
{
    return edist_mk_pid((edist_atom){g->self, g->self_len}, g->locker_id,
                        g->locker_serial, g->creation);
}

/* [{Node, Vsn}] of known (mk_known_list for vsn >= 7), or the plain node
 * list for older peers. */
static void gl_put_known(edist_gl *g, edist_etf_writer *w, int pairs,
                         const gl_node *except)
{
    for (size_t i = 0; i < g->nodes.cap; i++) {
        const gl_node *k = g->nodes.slots[i].value;
        if (!k || !k->known || k == except)
            continue;
        edist_etf_put_list_header(w, 1);
        if (pairs) {
            edist_etf_put_tuple_header(w, 2);
            edist_etf_put_atom(w, k->name, k->len);
            edist_etf_put_int(w, k->known_vsn);
        } else {
            edist_etf_put_atom(w, k->name, k->len);
        }
    }
    edist_etf_put_nil(w);
}

static int gl_cast_begin(edist_gl *g, edist_etf_writer *w, const char *op,
                         size_t arity)
{
    gl_w_init(g, w);
    gl_w_cast(g, w);
    edist_etf_put_tuple_header(w, arity);
    return edist_etf_put_atom_z(w, op);
}

static int gl_send(edist_gl *g, const gl_node *n, int noconnect,
                   edist_etf_writer *w)
{
    return gl_emit_send(g, n->name, n->len, noconnect, w);
}

/* {cancel_connect, Me, HisTag}, volatile (noconnect). */
static int gl_send_cancel(edist_gl *g, const gl_node *n, int64_t his_tag)
{
    edist_etf_writer w;
    gl_w_init(g, &w);
    edist_etf_put_tuple_header(&w, 3);
    edist_etf_put_atom_z(&w, "cancel_connect");
    gl_put_self(g, &w);
    edist_etf_put_int(&w, his_tag);
    return gl_send(g, n, 1, &w);
}

/* cast {lock_set, MyLocker, Set, [], HisTag}. */
static int gl_send_lock_set(edist_gl *g, const gl_node *n, int set)
{
    edist_etf_writer w;
    gl_cast_begin(g, &w, "lock_set", 5);
    gl_put_locker_pid(g, &w);
    edist_etf_put_atom_z(&w, set ? "true" : "false");
    edist_etf_put_nil(&w);
    edist_etf_put_int(&w, n->his_tag);
    return gl_send(g, n, 0, &w);
}

/* sync_others/1: connect to each node and tell it we are in sync. */
static int gl_sync_other(edist_gl *g, const char *name, size_t len)
{
    if (len == g->self_len && memcmp(name, g->self, len) == 0)
        return 0;
    int rc = gl_emit_node(g, EDIST_GL_CONNECT, name, len);
    if (rc < 0)
        return rc;
    edist_etf_writer w;
    gl_cast_begin(g, &w, "in_sync", 3);
    gl_put_self(g, &w);
    edist_etf_put_atom_z(&w, "true");
    return gl_emit_send(g, name, len, 0, &w);
}

/* ----------------------------------------------------------- our lock */

/* Our part of the lock {global, [MyLocker, HisLocker]}: taken on this
 * node for one session at a time. */
static int gl_lock_id(edist_gl *g, gl_node *n, edist_arena *a, edist_term *id)
{
    edist_term *el;
    if (edist_term_tuple(a, id, 2) < 0)
        return EDIST_ENOMEM;
    edist_term list;
    if (edist_term_list(a, &list, 2) < 0)
        return EDIST_ENOMEM;
    el = list.v.list.elems;
    el[0] = gl_locker_term(g);
    el[1] = n->his_locker;
    if (edist_term_compare(&el[0], &el[1]) > 0) {
        edist_term t = el[0];
        el[0] = el[1];
        el[1] = t;
    }
    id->v.tuple.elems[0] = edist_mk_atom("global", 6);
    id->v.tuple.elems[1] = list;
    return 0;
}

static int gl_take_lock(edist_gl *g, gl_node *n)
{
    if (g->lock_owner == n)
        return 1;
    if (g->lock_owner || !n->a)
        return 0;
    edist_term id, me = gl_locker_term(g);
    if (gl_lock_id(g, n, n->a, &id) < 0)
        return 0;
    if (gl_lock_set(g, &id, &me) != 1)
        return 0;
    g->lock_owner = n;
    return 1;
}

/* Lets go of our lock if n holds it; the caller then runs
 * gl_lock_released() when it is done with n. */
static int gl_drop_lock(edist_gl *g, gl_node *n)
{
    if (g->lock_owner != n)
        return 0;
    edist_term id, me = gl_locker_term(g);
    if (n->a && gl_lock_id(g, n, n->a, &id) == 0)
        gl_lock_del(g, &id, &me);
    g->lock_owner = NULL;
    return 1;
}

static int gl_lock_is_set(edist_gl *g, gl_node *n);

/* Offers our lock to a session that waits for one. */
static int gl_propose(edist_gl *g, gl_node *n)
{
    if (!n->session || !n->have_his || n->lock_sent || n->refused)
        return 0;
    if (!gl_take_lock(g, n))
        return 0;
    n->lock_sent = 1;
    return gl_send_lock_set(g, n, 1);
}

void gl_lock_released(edist_gl *g)
{
    for (size_t i = 0; i < g->nodes.cap && !g->lock_owner; i++) {
        gl_node *n = g->nodes.slots[i].value;
        if (n)
            gl_propose(g, n);
    }
}

/* ---------------------------------------------------------- sessions */

/* Ends the session with n (cancel_locker + reset_node_state).  With
 * cancel and a pending connect, tells n (send_cancel_connect). */
static void gl_session_end(edist_gl *g, gl_node *n, int cancel)
{
    if (cancel && n->session && n->pending && n->have_his)
        gl_send_cancel(g, n, n->his_tag);
    int released = gl_drop_lock(g, n);
    edist_arena_free(n->a);
    n->a = NULL;
    n->session = 0;
    n->have_his = 0;
    n->lock_sent = n->lock_got = n->refused = 0;
    n->exchange_sent = n->names_got = n->ops_done = n->resolved_got = 0;
    if (released)
        gl_lock_released(g);
}

static int gl_init_connect(edist_gl *g, gl_node *n, int64_t tag, int vsn,
                           const edist_term *locker);

/* handle_nodeup/2: a visible node we are not in sync with. */
static int gl_nodeup(edist_gl *g, gl_node *n)
{
    if (!g->connect_all || n->known || n->session)
        return 0;
    n->a = edist_arena_new(NULL);
    if (!n->a)
        return EDIST_ENOMEM;
    n->session = 1;
    n->my_tag = g->next_tag++;
    edist_etf_writer w;
    gl_cast_begin(g, &w, "init_connect", 4);
    edist_etf_put_tuple_header(&w, 2);
    edist_etf_put_int(&w, EDIST_GL_VSN);
    edist_etf_put_int(&w, n->my_tag);
    gl_put_self(g, &w);
    edist_etf_put_tuple_header(&w, 4);
    edist_etf_put_atom_z(&w, "locker");
    edist_etf_put_atom_z(&w, "no_longer_a_pid");
    edist_etf_put_nil(&w); /* BEAM's known map here is ignored */
    gl_put_locker_pid(g, &w);
    int rc = gl_send(g, n, 0, &w);
    if (rc == 0 && n->pre) {
        /* resend_pre_connect/1 */
        n->pre = 0;
        rc = gl_init_connect(g, n, n->pre_tag, n->pre_vsn, &n->pre_locker);
        edist_arena_free(n->pre_a);
        n->pre_a = NULL;
    }
    return rc;
}

/* restart_connect/3 */
static int gl_restart(edist_gl *g, gl_node *n)
{
    int had = n->session;
    gl_session_end(g, n, 1);
    n->pending = 0;
    return had && n->up ? gl_nodeup(g, n) : 0;
}

static int gl_init_connect(edist_gl *g, gl_node *n, int64_t tag, int vsn,
                           const edist_term *locker)
{
    int rc = 0;
    if (n->pending) {
        /* A second attempt while one runs: cancel both and start over. */
        gl_send_cancel(g, n, tag);
        if ((rc = gl_restart(g, n)) < 0)
            return rc;
    }
    if (!n->session) {
        /* No session yet (or the node is already known): keep it for
         * gl_nodeup, as BEAM's pre_connect. */
        edist_arena_opts ao = {.alloc = g->alloc, .chunk_size = 256};
        edist_arena_free(n->pre_a);
        n->pre_a = edist_arena_new(&ao);
        if (!n->pre_a || edist_term_copy(n->pre_a, &n->pre_locker, locker) < 0)
            return EDIST_ENOMEM;
        n->pre = 1;
        n->pre_tag = tag;
        n->pre_vsn = vsn;
        return 0;
    }
    if (edist_term_copy(n->a, &n->his_locker, locker) < 0)
        return EDIST_ENOMEM;
    n->have_his = 1;
    n->his_tag = tag;
    n->his_vsn = vsn > EDIST_GL_VSN ? EDIST_GL_VSN : vsn;
    edist_etf_writer w;
    gl_w_init(g, &w);
    edist_etf_put_tuple_header(&w, 4);
    edist_etf_put_atom_z(&w, "init_connect_ack");
    gl_put_self(g, &w);
    edist_etf_put_int(&w, tag);
    edist_etf_put_int(&w, n->my_tag);
    if ((rc = gl_send(g, n, 1, &w)) < 0)
        return rc;
    n->pending = 1;
    n->pending_vsn = vsn;
    return gl_propose(g, n);
}

/* Both locks are set: send our names (lock_is_set/3). */
static int gl_resolve(edist_gl *g, gl_node *n);
static int gl_finish(edist_gl *g, gl_node *n);

static int gl_lock_is_set(edist_gl *g, gl_node *n)
{
    if (n->exchange_sent)
        return 0;
    edist_etf_writer w;
    size_t count;
    gl_cast_begin(g, &w, "exchange", 5);
    gl_put_self(g, &w);
    gl_put_names(g, &w, &count);
    edist_etf_put_nil(&w);
    edist_etf_put_int(&w, n->his_tag);
    int rc = gl_send(g, n, 0, &w);
    n->exchange_sent = 1;
    if (rc == 0 && n->names_got)
        rc = gl_resolve(g, n);
    return rc;
}

/* The locker's side of lock_set from P's locker. */
static int gl_on_lock_set(edist_gl *g, gl_node *n, int set)
{
    if (!set) {
        if (n->lock_sent && !n->lock_got) {
            /* Our offer was refused: let go until he offers. */
            n->refused = 1;
            n->lock_sent = 0;
            if (gl_drop_lock(g, n))
                gl_lock_released(g);
        }
        return 0;
    }
    n->refused = 0;
    if (!n->have_his)
        return 0;
    if (!n->lock_sent) {
        if (!gl_take_lock(g, n))
            return gl_send_lock_set(g, n, 0);
        n->lock_sent = 1;
        int rc = gl_send_lock_set(g, n, 1);
        if (rc < 0)
            return rc;
    }
    n->lock_got = 1;
    return gl_lock_is_set(g, n);
}

static int gl_op_insert(edist_arena *a, edist_term *op, const edist_term *name,
                        const edist_term *pid, const edist_term *method)
{
    edist_term nm;
    if (edist_term_tuple(a, op, 2) < 0 || edist_term_tuple(a, &nm, 3) < 0)
        return EDIST_ENOMEM;
    nm.v.tuple.elems[0] = *name;
    nm.v.tuple.elems[1] = *pid;
    nm.v.tuple.elems[2] = *method;
    op->v.tuple.elems[0] = edist_mk_atom("insert", 6);
    op->v.tuple.elems[1] = nm;
    return 0;
}

/* Builds a proper list of k terms from arr in arena a. */
static int gl_mk_list(edist_arena *a, edist_term *out, const edist_term *arr,
                      size_t k)
{
    if (edist_term_list(a, out, k) < 0)
        return EDIST_ENOMEM;
    if (k)
        memcpy(out->v.list.elems, arr, k * sizeof *arr);
    return 0;
}

/* exchange_names/4 over his names, then our resolved message. */
static int gl_resolve(edist_gl *g, gl_node *n)
{
    if (n->ops_done)
        return 0;
    size_t cnt = 0;
    gl_iter it = {&n->his_names, 0};
    while (gl_next(&it))
        cnt++;
    edist_term *ops = edist_arena_alloc(n->a, (cnt + 1) * sizeof *ops);
    edist_term *res = edist_arena_alloc(n->a, (cnt + 1) * sizeof *res);
    edist_arena *tmp = edist_arena_new(NULL);
    if (!ops || !res || !tmp) {
        edist_arena_free(tmp);
        return EDIST_ENOMEM;
    }
    size_t nops = 0, nres = 0;
    edist_term him = edist_mk_atom(n->name, n->len),
               me = edist_mk_atom(g->self, g->self_len);
    int his_smaller = edist_term_compare(&him, &me) < 0;
    it = (gl_iter){&n->his_names, 0};
    const edist_term *e;
    while ((e = gl_next(&it))) {
        if (!gl_is_tuple(e, 3) || gl_el(e, 1)->type != EDIST_TERM_PID)
            continue;
        const gl_name *mine = gl_name_find(g, gl_el(e, 0));
        if (!mine) {
            gl_op_insert(n->a, &ops[nops++], gl_el(e, 0), gl_el(e, 1),
                         gl_el(e, 2));
            continue;
        }
        edist_term pid, method;
        edist_etf_decode_opts dop = {0};
        dop.flags = EDIST_ETF_NO_VERSION;
        if (edist_etf_decode(tmp, mine->pid, mine->pid_len, &dop, &pid, NULL) <
                0 ||
            edist_etf_decode(tmp, mine->method, mine->method_len, &dop, &method,
                             NULL) < 0 ||
            pid.type != EDIST_TERM_PID)
            continue;
        if (edist_term_equal(&pid, gl_el(e, 1)) || his_smaller)
            continue; /* the same, or his side settles the clash */
        /* A clash we settle: the pid on the smaller node keeps the name
         * (random_exit_name's choice, without the kill). */
        edist_term mcopy, pcopy;
        if (edist_term_copy(n->a, &pcopy, &pid) < 0 ||
            edist_term_copy(n->a, &mcopy, &method) < 0)
            break;
        edist_atom hn = gl_el(e, 1)->v.pid.node, mn = pid.v.pid.node;
        edist_term ha = edist_mk_atom(hn.name, hn.len),
                   ma = edist_mk_atom(mn.name, mn.len);
        if (edist_term_compare(&ha, &ma) < 0)
            gl_op_insert(n->a, &ops[nops++], gl_el(e, 0), gl_el(e, 1),
                         gl_el(e, 2));
        else
            gl_op_insert(n->a, &res[nres++], gl_el(e, 0), &pcopy, &mcopy);
    }
    edist_arena_free(tmp);
    edist_term rlist;
    if (gl_mk_list(n->a, &n->my_ops, ops, nops) < 0 ||
        gl_mk_list(n->a, &rlist, res, nres) < 0)
        return EDIST_ENOMEM;
    edist_etf_writer w;
    gl_cast_begin(g, &w, "resolved", 7);
    gl_put_self(g, &w);
    edist_etf_put_term(&w, &rlist);
    gl_put_known(g, &w, n->his_vsn >= GL_POP_VSN, n);
    edist_etf_put_atom_z(&w, "unused");
    edist_etf_put_nil(&w);
    edist_etf_put_int(&w, n->his_tag);
    int rc = gl_send(g, n, 0, &w);
    n->ops_done = 1;
    if (rc == 0 && n->resolved_got)
        rc = gl_finish(g, n);
    return rc;
}

/* do_ops/5 */
static void gl_do_ops(edist_gl *g, const edist_term *ops)
{
    gl_iter it = {ops, 0};
    const edist_term *op;
    while ((op = gl_next(&it))) {
        if (gl_is_tuple(op, 2) && edist_term_is_atom(gl_el(op, 0), "insert") &&
            gl_is_tuple(gl_el(op, 1), 3)) {
            const edist_term *nm = gl_el(op, 1);
            gl_name_insert(g, gl_el(nm, 0), gl_el(nm, 1), gl_el(nm, 2));
        } else if (gl_is_tuple(op, 2) &&
                   edist_term_is_atom(gl_el(op, 0), "delete")) {
            gl_name_delete(g, gl_el(op, 1));
        }
    }
}

/* One entry of a node list: Node or {Node, Vsn}. */
static int gl_nv(const edist_term *e, const edist_term **node, int *vsn)
{
    *vsn = 0;
    if (gl_node_atom(e)) {
        *node = e;
        return 1;
    }
    if (gl_is_tuple(e, 2) && gl_node_atom(gl_el(e, 0)) &&
        gl_el(e, 1)->type == EDIST_TERM_INT) {
        *node = gl_el(e, 0);
        int64_t v = gl_el(e, 1)->v.i;
        *vsn = v < 0 ? 0 : v > 1000 ? 1000 : (int)v;
        return 1;
    }
    return 0;
}

/* add_to_known/2; with sync, sync_others/1 for the added nodes. */
static int gl_add_known(edist_gl *g, const edist_term *list, int sync)
{
    gl_iter it = {list, 0};
    const edist_term *e, *node;
    int vsn, rc = 0;
    while ((e = gl_next(&it)) && rc == 0) {
        if (!gl_nv(e, &node, &vsn) || gl_is_self(g, &node->v.atom))
            continue;
        gl_node *k = gl_get_atom(g, node);
        if (!k || k->known)
            continue;
        if (vsn == 0)
            vsn = gl_node_vsn(k);
        gl_set_known(g, k, vsn);
        k->fresh = 1;
        if (sync)
            rc = gl_sync_other(g, k->name, k->len);
    }
    return rc;
}

/* Writes {new_nodes, Me, [], [], Nodes, [{vsn, 8}]} for k: the fresh
 * nodes, or (full) every known node but k. */
static int gl_send_nodes(edist_gl *g, gl_node *k, int full)
{
    int pairs = k->known_vsn >= GL_POP_VSN || k->known_vsn == 0, any = 0;
    edist_etf_writer w;
    gl_cast_begin(g, &w, "new_nodes", 6);
    gl_put_self(g, &w);
    edist_etf_put_nil(&w); /* no ops: names travel with syncs */
    edist_etf_put_nil(&w);
    for (size_t j = 0; j < g->nodes.cap; j++) {
        gl_node *f = g->nodes.slots[j].value;
        if (!f || f == k || !f->known || (!full && !f->fresh))
            continue;
        any = 1;
        edist_etf_put_list_header(&w, 1);
        if (pairs) {
            edist_etf_put_tuple_header(&w, 2);
            edist_etf_put_atom(&w, f->name, f->len);
            edist_etf_put_int(&w, f->known_vsn ? f->known_vsn : EDIST_GL_VSN);
        } else {
            edist_etf_put_atom(&w, f->name, f->len);
        }
    }
    edist_etf_put_nil(&w);
    edist_etf_put_list_header(&w, 1);
    edist_etf_put_tuple_header(&w, 2);
    edist_etf_put_atom_z(&w, "vsn");
    edist_etf_put_int(&w, EDIST_GL_VSN);
    edist_etf_put_nil(&w);
    if (!any) {
        edist_etf_writer_free(&w);
        return 0;
    }
    return gl_send(g, k, 0, &w);
}

/*
 * Nodes were just added to known (marked fresh): tells the rest of our
 * partition about them (unless forward is 0: the caller did) and tells
 * each of them every node we know; then clears the marks.  `from`, when
 * not NULL, already knows the fresh nodes.
 *
 * BEAM does not need this: its locker holds the lock on the whole
 * partition while two partitions merge, so no node joins either side
 * meanwhile.  edist locks only itself, so a node may join our partition
 * while a merge we take part in runs, and one side would not hear of it
 * (the simulated networks in test_global.c find such runs).  With every
 * addition passed on to the nodes we know, and every newcomer told all we
 * know, two nodes that know each other end up knowing the same nodes;
 * it ends because a node is added once.  BEAM nodes take such a
 * new_nodes as any other (add what is new, connect, in_sync).
 */
static int gl_announce(edist_gl *g, const gl_node *from, int forward)
{
    int rc = 0;
    for (size_t i = 0; i < g->nodes.cap && rc == 0; i++) {
        gl_node *k = g->nodes.slots[i].value;
        if (!k || !k->known || k == from)
            continue;
        if (k->fresh)
            rc = gl_send_nodes(g, k, 1);
        else if (forward)
            rc = gl_send_nodes(g, k, 0);
    }
    for (size_t i = 0; i < g->nodes.cap; i++) {
        gl_node *k = g->nodes.slots[i].value;
        if (k)
            k->fresh = 0;
    }
    return rc;
}

/* resolved/5: both sides have exchanged; merge the partitions. */
static int gl_finish(edist_gl *g, gl_node *n)
{
    int rc = 0;
    /* HisKnown: connect to them and tell them (sync_others). */
    gl_iter it = {&n->his_known, 0};
    const edist_term *e, *node;
    int vsn;
    while ((e = gl_next(&it)) && rc == 0)
        if (gl_nv(e, &node, &vsn))
            rc = gl_sync_other(g, node->v.atom.name, node->v.atom.len);
    gl_do_ops(g, &n->my_ops);
    gl_do_ops(g, &n->his_resolved);
    /* new_nodes to our partition, before it grows. */
    int pvsn = n->pending ? n->pending_vsn : n->his_vsn;
    for (size_t i = 0; i < g->nodes.cap && rc == 0; i++) {
        gl_node *k = g->nodes.slots[i].value;
        if (!k || !k->known || k == n)
            continue;
        int pairs = k->known_vsn >= GL_POP_VSN;
        /* Ops ++ HisResolved, written as one list. */
        edist_etf_writer w;
        gl_cast_begin(g, &w, "new_nodes", 6);
        gl_put_self(g, &w);
        gl_iter oi = {&n->my_ops, 0};
        const edist_term *op;
        while ((op = gl_next(&oi))) {
            edist_etf_put_list_header(&w, 1);
            edist_etf_put_term(&w, op);
        }
        oi = (gl_iter){&n->his_resolved, 0};
        while ((op = gl_next(&oi))) {
            edist_etf_put_list_header(&w, 1);
            edist_etf_put_term(&w, op);
        }
        edist_etf_put_nil(&w);
        edist_etf_put_nil(&w); /* Names_ext */
        edist_etf_put_list_header(&w, 1);
        if (pairs) {
            edist_etf_put_tuple_header(&w, 2);
            edist_etf_put_atom(&w, n->name, n->len);
            edist_etf_put_int(&w, pvsn);
        } else {
            edist_etf_put_atom(&w, n->name, n->len);
        }
        it = (gl_iter){&n->his_known, 0};
        while ((e = gl_next(&it))) {
            if (!gl_nv(e, &node, &vsn))
                continue;
            edist_etf_put_list_header(&w, 1);
            if (pairs) {
                edist_etf_put_tuple_header(&w, 2);
                edist_etf_put_term(&w, node);
                edist_etf_put_int(&w, vsn ? vsn : EDIST_GL_VSN);
            } else {
                edist_etf_put_term(&w, node);
            }
        }
        edist_etf_put_nil(&w);
        /* ExtraInfo: [{vsn, Vsn}, {lock, LockId}] */
        edist_etf_put_list_header(&w, 2);
        edist_etf_put_tuple_header(&w, 2);
        edist_etf_put_atom_z(&w, "vsn");
        edist_etf_put_int(&w, pvsn);
        edist_etf_put_tuple_header(&w, 2);
        edist_etf_put_atom_z(&w, "lock");
        edist_term id;
        if (gl_lock_id(g, n, n->a, &id) == 0)
            edist_etf_put_term(&w, &id);
        else
            edist_etf_put_nil(&w);
        edist_etf_put_nil(&w);
        rc = gl_emit_send(g, k->name, k->len, 0, &w);
    }
    if (rc < 0)
        return rc;
    /* add_to_known([{Node, Vsn} | HisKnown]) */
    if (!n->known) {
        gl_set_known(g, n, pvsn);
        n->fresh = 1;
    }
    rc = gl_add_known(g, &n->his_known, 0);
    n->pending = 0;
    n->synced = 1;
    gl_session_end(g, n, 0);
    /* The new_nodes above told our partition; the newcomers hear from us
     * what we know now (our resolved may be older). */
    int rc2 = gl_announce(g, NULL, 0);
    return rc < 0 ? rc : rc2;
}

/* --------------------------------------------------------------- casts */

static int gl_tag_ok(const gl_node *n, const edist_term *tag)
{
    return n && n->session && tag->type == EDIST_TERM_INT &&
           tag->v.i == n->my_tag;
}

static int gl_cast(edist_gl *g, const edist_term *m)
{
    if (m->type != EDIST_TERM_TUPLE || m->v.tuple.arity < 1 ||
        gl_el(m, 0)->type != EDIST_TERM_ATOM)
        return EDIST_EBADMSG;
    const edist_term *op = gl_el(m, 0);
    size_t ar = m->v.tuple.arity;

    if (edist_term_is_atom(op, "init_connect") && ar == 4) {
        /* {init_connect, {Vsn, HisTag, ...}, Node, InitMsg}, InitMsg =
         * {locker, _, HisKnown, HisTheLocker}.  The locker must be a pid
         * (BEAM's locker links to it): kept until nodeup for any node a
         * peer names, it must not be an arbitrarily large term. */
        const edist_term *v = gl_el(m, 1), *im = gl_el(m, 3);
        if (v->type != EDIST_TERM_TUPLE || v->v.tuple.arity < 2 ||
            gl_el(v, 0)->type != EDIST_TERM_INT ||
            gl_el(v, 1)->type != EDIST_TERM_INT || !gl_is_tuple(im, 4) ||
            gl_el(im, 3)->type != EDIST_TERM_PID)
            return EDIST_EBADMSG;
        gl_node *n = gl_get_atom(g, gl_el(m, 2));
        if (!n)
            return EDIST_EBADMSG;
        int64_t hv = gl_el(v, 0)->v.i;
        int vsn = hv < 0 ? 0 : hv > 1000 ? 1000 : (int)hv;
        int rc = gl_init_connect(g, n, gl_el(v, 1)->v.i, vsn, gl_el(im, 3));
        gl_gc(g, n);
        return rc;
    }
    if (edist_term_is_atom(op, "lock_set") && (ar == 5 || ar == 4)) {
        /* {lock_set, Pid, Set, HisKnown[, MyTag]} from his locker. */
        const edist_term *pid = gl_el(m, 1);
        if (pid->type != EDIST_TERM_PID ||
            pid->v.pid.node.len > EDIST_NODE_NAME_MAX)
            return EDIST_EBADMSG;
        gl_node *n = gl_find(g, pid->v.pid.node.name, pid->v.pid.node.len);
        if (!n || !n->session)
            return 0;
        if (ar == 5 && !gl_tag_ok(n, gl_el(m, 4)))
            return 0;
        /* His locker is the one init_connect named: our lock id was made
         * from it, so a pid that differs is not taken over. */
        return gl_on_lock_set(g, n, edist_term_is_atom(gl_el(m, 2), "true"));
    }
    if (edist_term_is_atom(op, "exchange") && ar == 5) {
        /* {exchange, Node, NameList, NameExtList, MyTag} */
        if (!gl_node_atom(gl_el(m, 1)) || !gl_list_ok(gl_el(m, 2)))
            return EDIST_EBADMSG;
        gl_node *n =
            gl_find(g, gl_el(m, 1)->v.atom.name, gl_el(m, 1)->v.atom.len);
        if (!gl_tag_ok(n, gl_el(m, 4)) || n->names_got)
            return 0;
        if (edist_term_copy(n->a, &n->his_names, gl_el(m, 2)) < 0)
            return EDIST_ENOMEM;
        n->names_got = 1;
        return n->exchange_sent ? gl_resolve(g, n) : 0;
    }
    if (edist_term_is_atom(op, "resolved") && ar == 7) {
        /* {resolved, Node, HisResolved, HisKnown, unused, NamesExt, Tag} */
        if (!gl_node_atom(gl_el(m, 1)) || !gl_list_ok(gl_el(m, 2)) ||
            !gl_list_ok(gl_el(m, 3)))
            return EDIST_EBADMSG;
        gl_node *n =
            gl_find(g, gl_el(m, 1)->v.atom.name, gl_el(m, 1)->v.atom.len);
        if (!gl_tag_ok(n, gl_el(m, 6)) || n->resolved_got)
            return 0;
        if (edist_term_copy(n->a, &n->his_resolved, gl_el(m, 2)) < 0 ||
            edist_term_copy(n->a, &n->his_known, gl_el(m, 3)) < 0)
            return EDIST_ENOMEM;
        n->resolved_got = 1;
        return n->ops_done ? gl_finish(g, n) : 0;
    }
    if (edist_term_is_atom(op, "new_nodes") && ar == 6) {
        /* {new_nodes, Node, Ops, NamesExt, Nodes, ExtraInfo} */
        if (!gl_list_ok(gl_el(m, 2)) || !gl_list_ok(gl_el(m, 4)))
            return EDIST_EBADMSG;
        int rc = gl_add_known(g, gl_el(m, 4), 1);
        gl_do_ops(g, gl_el(m, 2));
        const edist_term *from = gl_el(m, 1);
        gl_node *fn = gl_node_atom(from)
                          ? gl_find(g, from->v.atom.name, from->v.atom.len)
                          : NULL;
        int rc2 = gl_announce(g, fn, 1);
        return rc < 0 ? rc : rc2;
    }
    if (edist_term_is_atom(op, "in_sync") && ar == 3) {
        gl_node *n = gl_get_atom(g, gl_el(m, 1));
        if (!n)
            return EDIST_EBADMSG;
        n->synced = 1;
        int vsn = n->pending ? n->pending_vsn : EDIST_GL_VSN;
        n->pending = 0;
        gl_session_end(g, n, 0);
        /* n counts us in its partition (it sends in_sync after adding
         * us); BEAM waits to hear the same from its own partition, which
         * its partition lock guarantees.  Without that lock we take n's
         * word for it, so that both sides agree (see gl_announce). */
        int rc = 0;
        if (!n->known && n->up) {
            gl_set_known(g, n, vsn);
            /* ...and say so, or a session n runs with us would wait for
             * us forever. */
            edist_etf_writer w;
            gl_cast_begin(g, &w, "in_sync", 3);
            gl_put_self(g, &w);
            edist_etf_put_atom_z(&w, "true");
            rc = gl_send(g, n, 0, &w);
            n->fresh = 1;
            if (rc == 0)
                rc = gl_announce(g, NULL, 1);
        }
        gl_gc(g, n);
        return rc;
    }
    return 0; /* async_del_name, async_del_lock, unknown: ignored */
}

/* ----------------------------------------------------------- lost links */

static int gl_handle_nodedown(edist_gl *g, gl_node *n, int what);

/* gns_volatile_multicast/5 to known and pending nodes of vsn >= 7. */
static int gl_multicast(edist_gl *g, const edist_term *msg, const char *except,
                        size_t except_len)
{
    int rc = 0;
    for (size_t i = 0; i < g->nodes.cap && rc == 0; i++) {
        gl_node *k = g->nodes.slots[i].value;
        if (!k ||
            (k->len == except_len && memcmp(k->name, except, k->len) == 0))
            continue;
        int vsn = k->known ? k->known_vsn : k->pending ? k->pending_vsn : -1;
        if (vsn < GL_POP_VSN)
            continue;
        edist_etf_writer w;
        gl_w_init(g, &w);
        edist_etf_put_term(&w, msg);
        rc = gl_send(g, k, 1, &w);
    }
    return rc;
}

static int gl_inform_loss(edist_gl *g, gl_node *n)
{
    if (!g->connect_all)
        return 0;
    edist_term el[5] = {
        edist_mk_atom("lost_connection", 15),
        edist_mk_atom(g->self, g->self_len), edist_mk_int((int64_t)g->creation),
        edist_mk_int(g->next_tag++), edist_mk_atom(n->name, n->len)};
    edist_term msg;
    msg.type = EDIST_TERM_TUPLE;
    msg.v.tuple.arity = 5;
    msg.v.tuple.elems = el;
    return gl_multicast(g, &msg, n->name, n->len);
}

/* handle_nodedown/3 */
static int gl_handle_nodedown(edist_gl *g, gl_node *n, int what)
{
    int rc = 0;
    gl_session_end(g, n, 1);
    n->pre = 0;
    edist_arena_free(n->pre_a);
    n->pre_a = NULL;
    if (what == GL_DOWN_REMOVE) {
        n->removing = 1;
    } else if (what == GL_DOWN_IGNORE) {
        n->removing = 0;
    } else if (n->removing) {
        n->removing = 0;
    } else {
        rc = gl_inform_loss(g, n);
    }
    n->pending = 0;
    gl_unset_known(g, n);
    n->synced = 0;
    return rc;
}

static int gl_is_potentially_known(const gl_node *n)
{
    return n && (n->known || n->pending);
}

/* {lost_connection, NodeA, XCreationA, OpIdA, NodeB}: A lost B. */
static int gl_lost_connection(edist_gl *g, const edist_term *m)
{
    if (!g->connect_all)
        return 0;
    const edist_term *a = gl_el(m, 1), *b = gl_el(m, 4);
    if (!gl_node_atom(a) || !gl_node_atom(b) ||
        gl_el(m, 2)->type != EDIST_TERM_INT ||
        gl_el(m, 3)->type != EDIST_TERM_INT)
        return EDIST_EBADMSG;
    if (!gl_lost_note(g, &a->v.atom, &b->v.atom, gl_el(m, 2)->v.i,
                      gl_el(m, 3)->v.i))
        return 0;
    /* Pass it on, so that every node hears of it even if A dies now. */
    int rc = gl_multicast(g, m, a->v.atom.name, a->v.atom.len);
    const edist_term *rm = gl_is_self(g, &b->v.atom) ? a : b;
    gl_node *r = gl_find(g, rm->v.atom.name, rm->v.atom.len);
    if (rc < 0 || !gl_is_potentially_known(r))
        return rc;
    /* Ask the node to drop us (it disconnects), and stop counting it. */
    edist_etf_writer w;
    gl_w_init(g, &w);
    edist_etf_put_tuple_header(&w, 2);
    edist_etf_put_atom_z(&w, "remove_connection");
    gl_put_self(g, &w);
    if ((rc = gl_send(g, r, 1, &w)) < 0)
        return rc;
    rc = gl_handle_nodedown(g, r, GL_DOWN_REMOVE);
    gl_gc(g, r);
    return rc;
}

static int gl_plain(edist_gl *g, const edist_term *m)
{
    if (m->type != EDIST_TERM_TUPLE || m->v.tuple.arity < 1 ||
        gl_el(m, 0)->type != EDIST_TERM_ATOM)
        return EDIST_EBADMSG;
    const edist_term *op = gl_el(m, 0);
    size_t ar = m->v.tuple.arity;
    if (edist_term_is_atom(op, "init_connect_ack") && ar == 4) {
        /* {init_connect_ack, Node, HisMyTag, HisHisTag} */
        gl_node *n = gl_get_atom(g, gl_el(m, 1));
        const edist_term *mt = gl_el(m, 2), *ht = gl_el(m, 3);
        if (!n || ht->type != EDIST_TERM_INT)
            return EDIST_EBADMSG;
        if (n->session && mt->type == EDIST_TERM_INT && mt->v.i == n->my_tag &&
            n->have_his && ht->v.i == n->his_tag)
            return 0;
        /* Out of sync: cancel and start over. */
        int rc = gl_send_cancel(g, n, ht->v.i);
        if (rc == 0)
            rc = gl_restart(g, n);
        gl_gc(g, n);
        return rc;
    }
    if (edist_term_is_atom(op, "cancel_connect") && ar == 3) {
        gl_node *n = gl_get_atom(g, gl_el(m, 1));
        if (!n)
            return EDIST_EBADMSG;
        int rc = 0;
        if (gl_tag_ok(n, gl_el(m, 2)))
            rc = gl_restart(g, n);
        gl_gc(g, n);
        return rc;
    }
    if (edist_term_is_atom(op, "lost_connection") && ar == 5)
        return gl_lost_connection(g, m);
    if (edist_term_is_atom(op, "remove_connection") && ar == 2) {
        gl_node *n = gl_get_atom(g, gl_el(m, 1));
        if (!n)
            return EDIST_EBADMSG;
        int rc = 0;
        if (gl_is_potentially_known(n)) {
            rc = gl_emit_node(g, EDIST_GL_DISCONNECT, n->name, n->len);
            if (rc == 0)
                rc = gl_handle_nodedown(g, n, GL_DOWN_REMOVE);
        }
        gl_gc(g, n);
        return rc;
    }
    return 0;
}

/* --------------------------------------------------------------- calls */

static void gl_put_node_list(edist_gl *g, edist_etf_writer *w, int synced)
{
    for (size_t i = 0; i < g->nodes.cap; i++) {
        const gl_node *k = g->nodes.slots[i].value;
        if (k && (synced ? k->synced : k->known)) {
            edist_etf_put_list_header(w, 1);
            edist_etf_put_atom(w, k->name, k->len);
        }
    }
    edist_etf_put_nil(w);
}

static int gl_call(edist_gl *g, const edist_term *from, const edist_term *tag,
                   const edist_term *req)
{
    edist_etf_writer r;
    edist_etf_writer_init_dynamic(&r, 0, g->alloc, 0);
    int rescan = 0, rc;
    if (gl_is_tuple(req, 4) && edist_term_is_atom(gl_el(req, 0), "register")) {
        rc = gl_name_insert(g, gl_el(req, 1), gl_el(req, 2), gl_el(req, 3));
        edist_etf_put_atom_z(&r, "yes");
    } else if (gl_is_tuple(req, 5) &&
               edist_term_is_atom(gl_el(req, 0), "register_ext")) {
        rc = gl_name_insert(g, gl_el(req, 1), gl_el(req, 2), gl_el(req, 3));
        edist_etf_put_atom_z(&r, "yes");
    } else if (gl_is_tuple(req, 2) &&
               edist_term_is_atom(gl_el(req, 0), "unregister")) {
        gl_name_delete(g, gl_el(req, 1));
        edist_etf_put_atom_z(&r, "ok");
    } else if (gl_is_tuple(req, 2) &&
               edist_term_is_atom(gl_el(req, 0), "set_lock")) {
        rc = gl_lock_set(g, gl_el(req, 1), from);
        edist_etf_put_atom_z(&r, rc == 1 ? "true" : "false");
    } else if (gl_is_tuple(req, 2) &&
               edist_term_is_atom(gl_el(req, 0), "del_lock")) {
        gl_lock_del(g, gl_el(req, 1), from);
        edist_etf_put_atom_z(&r, "true");
        rescan = 1;
    } else if (edist_term_is_atom(req, "get_known")) {
        gl_put_node_list(g, &r, 0);
    } else if (edist_term_is_atom(req, "get_synced")) {
        gl_put_node_list(g, &r, 1);
    } else if (edist_term_is_atom(req, "get_protocol_version")) {
        edist_etf_put_int(&r, EDIST_GL_VSN);
    } else if (edist_term_is_atom(req, "get_names_ext")) {
        edist_etf_put_nil(&r);
    } else {
        /* BEAM logs an unexpected call and does not answer. */
        edist_etf_writer_free(&r);
        return 0;
    }
    rc = gl_emit_reply(g, from, tag, &r);
    if (rescan && !g->lock_owner)
        gl_lock_released(g);
    return rc;
}

/* -------------------------------------------------------------- public */

int edist_gl_message(edist_gl *g, const char *from, size_t from_len,
                     const edist_term *m)
{
    (void)from, (void)from_len; /* the messages name their node */
    if (gl_is_tuple(m, 2) && edist_term_is_atom(gl_el(m, 0), "$gen_cast"))
        return gl_cast(g, gl_el(m, 1));
    if (gl_is_tuple(m, 3) && edist_term_is_atom(gl_el(m, 0), "$gen_call")) {
        const edist_term *ft = gl_el(m, 1);
        if (!gl_is_tuple(ft, 2) || gl_el(ft, 0)->type != EDIST_TERM_PID)
            return EDIST_EBADMSG;
        return gl_call(g, gl_el(ft, 0), gl_el(ft, 1), gl_el(m, 2));
    }
    return gl_plain(g, m);
}

int edist_gl_peer_up(edist_gl *g, const char *node, size_t len, int visible)
{
    if (!visible)
        return 0; /* global ignores hidden connections */
    gl_node *n = gl_get(g, node, len);
    if (!n)
        return len > EDIST_NODE_NAME_MAX ? EDIST_EINVAL : EDIST_ENOMEM;
    n->up = 1;
    return gl_nodeup(g, n);
}

int edist_gl_peer_down(edist_gl *g, const char *node, size_t len)
{
    gl_node *n = gl_find(g, node, len);
    if (!n || !n->up)
        return 0;
    n->up = 0;
    gl_node_resources_down(g, node, len);
    int rc = gl_handle_nodedown(g, n, GL_DOWN_DISCONNECTED);
    gl_gc(g, n);
    return rc;
}

void edist_gl_prepare_shutdown(edist_gl *g)
{
    g->connect_all = 0;
}

int edist_gl_new(const edist_gl_opts *o, edist_gl **out)
{
    if (!o || !o->self || !out)
        return EDIST_EINVAL;
    size_t len = strlen(o->self);
    if (len == 0 || len > EDIST_NODE_NAME_MAX)
        return EDIST_EINVAL;
    const edist_allocator *al = edist_mem_resolve(o->alloc);
    edist_gl *g = edist_mem_alloc(al, sizeof *g);
    if (!g)
        return EDIST_ENOMEM;
    memset(g, 0, sizeof *g);
    g->alloc = al;
    memcpy(g->self, o->self, len);
    g->self_len = len;
    g->creation = o->creation;
    g->server_id = o->server_id;
    g->server_serial = o->server_serial;
    g->locker_id = o->locker_id;
    g->locker_serial = o->locker_serial;
    g->next_tag = o->first_tag;
    g->connect_all = !o->no_connect_all;
    edist_hmap_init(&g->nodes, al);
    edist_hmap_init(&g->names, al);
    edist_hmap_init(&g->lost, al);
    *out = g;
    return 0;
}

void edist_gl_free(edist_gl *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->nodes.cap; i++) {
        gl_node *n = g->nodes.slots[i].value;
        if (n)
            gl_node_release(g, n);
    }
    edist_hmap_free(&g->nodes);
    gl_names_free(g);
    gl_locks_free(g);
    gl_lost_free(g);
    edist_hmap_free(&g->lost);
    gl_actions_free(g);
    edist_mem_free(g->alloc, g);
}

int edist_gl_is_known(const edist_gl *g, const char *node, size_t len)
{
    const gl_node *n = gl_find(g, node, len);
    return n && n->known;
}

int edist_gl_in_session(const edist_gl *g, const char *node, size_t len)
{
    const gl_node *n = gl_find(g, node, len);
    return n && n->session;
}

size_t edist_gl_known_count(const edist_gl *g)
{
    return g->known_count;
}

size_t edist_gl_nodes_count(const edist_gl *g)
{
    return g->nodes.count;
}
