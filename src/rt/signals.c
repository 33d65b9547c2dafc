/*
 * signals.c: links, exit signals and monitors of mailboxes, local and
 * across nodes (protocol.md 3.5, 3.6).
 *
 * One table per node holds every relation a local mailbox takes part in:
 *
 *   LINK     mailbox <-> other pid; unlink_id != 0 while our UNLINK_ID
 *            waits for its UNLINK_ID_ACK (exit signals through the link
 *            are then ignored, and the entry goes when the ack with that
 *            id arrives);
 *   MON_OUT  the mailbox monitors `target` (pid or name) with ref;
 *   MON_IN   `other` monitors the mailbox (by pid or by name) with ref;
 *   NODE     monitor_node(Node) held by the mailbox;
 *   ALIAS    ref is an alias of the mailbox (edist_call's reply tag):
 *            ALIAS_SEND to it reaches the mailbox.
 *
 * Pids, references and targets are kept encoded (ETF without the version
 * byte, as our encoder writes them), so equality is a byte comparison.
 * A relation between two local mailboxes is two entries, one each side,
 * exactly as across nodes, with "node" our own name.
 *
 * Locking: sig.mu guards the table.  Local deliveries (a queue push that
 * never blocks) happen under it; anything that may block (peer_send waits
 * for room) is collected and sent after it is released.  Order: sig.mu ->
 * procs.mu -> mailbox queue.
 */
/* node_int.h names the connection type edist_link (see proc.h). */
#define EDIST_PROC_NO_LINK_API
#include <stdlib.h>
#include <string.h>

#include "edist/err.h"
#include "edist/proc.h"
#include "proto/linksm.h"
#include "rt/node_int.h"
#include "rt/rpc_server.h"

enum { SIG_LINK = 1, SIG_MON_OUT, SIG_MON_IN, SIG_NODE, SIG_ALIAS };

enum {
    OP_LINK = 1,
    OP_EXIT = 3,
    OP_EXIT2 = 8,
    OP_EXIT_TT = 13,
    OP_EXIT2_TT = 18,
    OP_MONITOR_P = 19,
    OP_DEMONITOR_P = 20,
    OP_MONITOR_P_EXIT = 21,
    OP_PAYLOAD_EXIT = 24,
    OP_PAYLOAD_EXIT_TT = 25,
    OP_PAYLOAD_EXIT2 = 26,
    OP_PAYLOAD_EXIT2_TT = 27,
    OP_PAYLOAD_MONITOR_P_EXIT = 28,
    OP_SPAWN_REQUEST = 29,
    OP_SPAWN_REQUEST_TT = 30,
    OP_UNLINK_ID = 35,
    OP_UNLINK_ID_ACK = 36
};

/* The connection setup a link or monitor to a remote node waits for
 * (net_setuptime's default). */
#define SIG_CONNECT_MS 7000

struct sig_ent {
    int kind;
    uint32_t id, serial; /* the local mailbox */
    char *node;          /* the other side's node (NUL-terminated) */
    size_t node_len;
    uint8_t *other; /* LINK: the pid; MON_IN: the monitoring pid */
    size_t other_len;
    uint8_t *ref; /* MON_*: the reference */
    size_t ref_len;
    uint8_t *who; /* MON_OUT: Who of DOWN; MON_IN: FromProc (pid or name) */
    size_t who_len;
    uint8_t *target; /* MON_OUT: ToProc as sent (pid or name atom) */
    size_t target_len;
    uint64_t unlink_id;
};

/* A control message to send once the lock is released. */
typedef struct sig_out {
    struct sig_out *next;
    char *node;
    uint8_t *ctl;
    size_t ctl_len;
} sig_out;

void sig_init(edist_node *n)
{
    pthread_mutex_init(&n->sig.mu, NULL);
    n->sig.next_unlink_id = 1;
}

static void ent_free(sig_ent *e)
{
    free(e->node);
    free(e->other);
    free(e->ref);
    free(e->who);
    free(e->target);
}

void sig_destroy(edist_node *n)
{
    for (size_t i = 0; i < n->sig.n; i++)
        ent_free(&n->sig.ents[i]);
    free(n->sig.ents);
    n->sig.ents = NULL;
    n->sig.n = n->sig.cap = 0;
    pthread_mutex_destroy(&n->sig.mu);
}

int sig_encode(const edist_term *t, uint8_t **out, size_t *len)
{
    edist_etf_encode_opts o = {0};
    o.flags = EDIST_ETF_NO_VERSION;
    edist_bytes b;
    int rc = edist_etf_encode(t, &o, &b);
    if (rc < 0)
        return rc;
    /* Plain malloc'd bytes: entries are freed with free(). */
    *out = malloc(b.len ? b.len : 1);
    if (!*out) {
        edist_bytes_free(&b);
        return EDIST_ENOMEM;
    }
    memcpy(*out, b.data, b.len);
    *len = b.len;
    edist_bytes_free(&b);
    return 0;
}

static int bytes_eq(const uint8_t *a, size_t alen, const uint8_t *b,
                    size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

static char *str_dup(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

/* Appends e (its buffers now owned by the table).  Caller holds mu. */
static int tab_add(edist_node *n, sig_ent *e)
{
    sig_table *t = &n->sig;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        sig_ent *ne = realloc(t->ents, cap * sizeof *ne);
        if (!ne) {
            ent_free(e);
            return EDIST_ENOMEM;
        }
        t->ents = ne;
        t->cap = cap;
    }
    t->ents[t->n++] = *e;
    return 0;
}

/* Removes entry i (freeing it).  Caller holds mu. */
static void tab_del(edist_node *n, size_t i)
{
    sig_table *t = &n->sig;
    ent_free(&t->ents[i]);
    t->ents[i] = t->ents[--t->n];
}

static ptrdiff_t tab_find(edist_node *n, int kind, uint32_t id, uint32_t serial,
                          const uint8_t *other, size_t other_len,
                          const uint8_t *ref, size_t ref_len)
{
    sig_table *t = &n->sig;
    for (size_t i = 0; i < t->n; i++) {
        sig_ent *e = &t->ents[i];
        if (e->kind != kind || e->id != id || e->serial != serial)
            continue;
        if (other && !bytes_eq(e->other, e->other_len, other, other_len))
            continue;
        if (ref && !bytes_eq(e->ref, e->ref_len, ref, ref_len))
            continue;
        return (ptrdiff_t)i;
    }
    return -1;
}

/* ------------------------------------------------------------- helpers */

/* The link state machine's view of a LINK entry (present = exists). */
static edist_linksm lsm_of(const sig_ent *e)
{
    edist_linksm s = {1, e->unlink_id};
    return s;
}

/* Applies the machine's new state to entry i: dropped or updated. */
static void lsm_apply(edist_node *n, size_t i, const edist_linksm *s, int act)
{
    if ((act & EDIST_LSM_DROP) || !s->exists)
        tab_del(n, i);
    else
        n->sig.ents[i].unlink_id = s->unlink_id;
}

static int is_local_pid(edist_node *n, const edist_term *pid)
{
    return pid->type == EDIST_TERM_PID && node_is_local(n, pid->v.pid.node);
}

/* The local mailbox a pid names, with a reference, or NULL. */
static edist_mbox *local_mbox(edist_node *n, const edist_term *pid)
{
    if (!is_local_pid(n, pid) || pid->v.pid.creation != n->creation)
        return NULL;
    return (edist_mbox *)edist_procs_by_pid(&n->procs, pid->v.pid.id,
                                            pid->v.pid.serial);
}

static edist_term pid_of(edist_node *n, uint32_t id, uint32_t serial)
{
    return edist_mk_pid(edist_node_atom(n), id, serial, n->creation);
}

static void deliver_to(edist_node *n, uint32_t id, uint32_t serial,
                       const edist_term *t)
{
    edist_proc *pr = edist_procs_by_pid(&n->procs, id, serial);
    if (!pr)
        return;
    edist_etf_writer w;
    edist_etf_writer_init_dynamic(&w, 0, NULL, 0);
    edist_etf_put_version(&w);
    if (edist_etf_put_term(&w, t) == 0)
        mbox_deliver_bytes((edist_mbox *)pr, w.buf, w.len, 1);
    edist_etf_writer_free(&w);
    edist_procs_put(pr);
}

void sig_deliver_local(edist_node *n, const edist_term *pid,
                       const edist_term *t)
{
    if (is_local_pid(n, pid) && pid->v.pid.creation == n->creation)
        deliver_to(n, pid->v.pid.id, pid->v.pid.serial, t);
}

/* Decodes bytes kept in an entry. */
static int dec(edist_arena *a, const uint8_t *b, size_t len, edist_term *out)
{
    edist_etf_decode_opts o = {0};
    o.flags = EDIST_ETF_NO_VERSION;
    return edist_etf_decode(a, b, len, &o, out, NULL);
}

static edist_term atom(const char *s)
{
    return edist_mk_atom(s, strlen(s));
}

/* {'EXIT', From, Reason} */
static void deliver_exit(edist_node *n, edist_arena *a, uint32_t id,
                         uint32_t serial, const edist_term *from,
                         const edist_term *reason)
{
    edist_term t;
    if (edist_term_tuple(a, &t, 3) < 0)
        return;
    t.v.tuple.elems[0] = atom("EXIT");
    t.v.tuple.elems[1] = *from;
    t.v.tuple.elems[2] = *reason;
    deliver_to(n, id, serial, &t);
}

/* {'DOWN', Ref, process, Who, Reason} */
static void deliver_down(edist_node *n, edist_arena *a, const sig_ent *e,
                         const edist_term *reason)
{
    edist_term t, ref, who;
    if (dec(a, e->ref, e->ref_len, &ref) < 0 ||
        dec(a, e->who, e->who_len, &who) < 0 || edist_term_tuple(a, &t, 5) < 0)
        return;
    t.v.tuple.elems[0] = atom("DOWN");
    t.v.tuple.elems[1] = ref;
    t.v.tuple.elems[2] = atom("process");
    t.v.tuple.elems[3] = who;
    t.v.tuple.elems[4] = *reason;
    deliver_to(n, e->id, e->serial, &t);
}

/* Builds ctl = {op, raw...} with raw encoded parts and queues it on *out.
 * NULL parts are left out; term_part, when not NULL, is put last. */
static void out_push(sig_out **out, const char *node, size_t node_len, int op,
                     const uint8_t *a, size_t alen, const uint8_t *b,
                     size_t blen, const uint8_t *c, size_t clen,
                     const edist_term *last)
{
    edist_etf_writer w;
    edist_etf_writer_init_dynamic(&w, 0, NULL, 0);
    size_t arity = 1 + (a != NULL) + (b != NULL) + (c != NULL) + (last != NULL);
    edist_etf_put_tuple_header(&w, arity);
    edist_etf_put_int(&w, op);
    if (a)
        edist_etf_put_raw(&w, a, alen);
    if (b)
        edist_etf_put_raw(&w, b, blen);
    if (c)
        edist_etf_put_raw(&w, c, clen);
    if (last)
        edist_etf_put_term(&w, last);
    sig_out *o = malloc(sizeof *o);
    if (w.err || !o) {
        free(o);
        edist_etf_writer_free(&w);
        return;
    }
    o->node = str_dup(node, node_len);
    o->ctl = malloc(w.len);
    if (!o->node || !o->ctl) {
        free(o->node);
        free(o->ctl);
        free(o);
        edist_etf_writer_free(&w);
        return;
    }
    memcpy(o->ctl, w.buf, w.len);
    o->ctl_len = w.len;
    edist_etf_writer_free(&w);
    o->next = *out;
    *out = o;
}

/* Sends what out_push collected, oldest first. */
static void out_flush(edist_node *n, sig_out *list)
{
    sig_out *rev = NULL;
    while (list) {
        sig_out *nx = list->next;
        list->next = rev;
        rev = list;
        list = nx;
    }
    while (rev) {
        sig_out *o = rev;
        rev = o->next;
        edist_peer *p = peer_lookup(n, o->node, strlen(o->node));
        if (p) {
            peer_send(p, o->ctl, o->ctl_len, NULL, 0);
            peer_unref(p);
        }
        free(o->node);
        free(o->ctl);
        free(o);
    }
}

int sig_send_ctl(edist_node *n, const edist_atom *node, const edist_term *ctl,
                 const edist_term *payload)
{
    char name[EDIST_NODE_NAME_MAX + 1];
    if (node->len > EDIST_NODE_NAME_MAX)
        return EDIST_EBADNAME;
    memcpy(name, node->name, node->len);
    name[node->len] = '\0';
    edist_connect(n, name, 0, NULL); /* creates the peer and dials */
    edist_peer *p = peer_lookup(n, name, node->len);
    if (!p)
        return EDIST_ENOCONN;
    edist_etf_writer w, pw;
    edist_etf_writer_init_dynamic(&w, 0, NULL, 0);
    edist_etf_writer_init_dynamic(&pw, 0, NULL, 0);
    int rc = edist_etf_put_term(&w, ctl);
    if (rc == 0 && payload)
        rc = edist_etf_put_term(&pw, payload);
    if (rc == 0)
        rc = peer_send(p, w.buf, w.len, payload ? pw.buf : NULL,
                       payload ? pw.len : 0);
    edist_etf_writer_free(&w);
    edist_etf_writer_free(&pw);
    peer_unref(p);
    return rc;
}

/* Connects to a remote node for a link or monitor.  Returns 1 when up. */
static int connect_for(edist_node *n, const edist_atom *node)
{
    char name[EDIST_NODE_NAME_MAX + 1];
    if (node->len > EDIST_NODE_NAME_MAX)
        return 0;
    memcpy(name, node->name, node->len);
    name[node->len] = '\0';
    if (edist_loop_on_thread(&n->loop))
        return 0;
    return edist_connect(n, name, SIG_CONNECT_MS, NULL) == 0;
}

static int peer_is_up(edist_node *n, const char *name, size_t len)
{
    edist_peer *p = peer_lookup(n, name, len);
    if (!p)
        return 0;
    pthread_mutex_lock(&p->mu);
    int up = p->state == PEER_UP;
    pthread_mutex_unlock(&p->mu);
    peer_unref(p);
    return up;
}

/* ---------------------------------------------------------------- links */

int sig_link(edist_mbox *mb, const edist_term *pid)
{
    if (!mb || !pid)
        return EDIST_EINVAL;
    if (pid->type != EDIST_TERM_PID)
        return EDIST_ETYPE;
    edist_node *n = mb->node;
    edist_term self = edist_mbox_pid(mb);
    if (edist_term_equal(&self, pid))
        return 0;
    edist_arena *a = edist_arena_new(NULL);
    if (!a)
        return EDIST_ENOMEM;
    int rc = 0, remote = !is_local_pid(n, pid);
    if (remote && !connect_for(n, &pid->v.pid.node)) {
        edist_term r = atom("noconnection");
        deliver_exit(n, a, mb->proc.id, mb->proc.serial, pid, &r);
        edist_arena_free(a);
        return 0;
    }
    sig_ent e = {0}, e2 = {0};
    uint8_t *me = NULL;
    size_t me_len = 0;
    if ((rc = sig_encode(pid, &e.other, &e.other_len)) < 0 ||
        (rc = sig_encode(&self, &me, &me_len)) < 0)
        goto out;
    pthread_mutex_lock(&n->sig.mu);
    edist_mbox *peer_mb = remote ? NULL : local_mbox(n, pid);
    if (!remote && !peer_mb) {
        pthread_mutex_unlock(&n->sig.mu);
        edist_term r = atom("noproc");
        deliver_exit(n, a, mb->proc.id, mb->proc.serial, pid, &r);
        goto out;
    }
    ptrdiff_t i = tab_find(n, SIG_LINK, mb->proc.id, mb->proc.serial, e.other,
                           e.other_len, NULL, 0);
    int send_link = 0;
    if (i >= 0) {
        /* Linked already (nothing to do), or linking again while
         * unlinking (active again, LINK goes out). */
        edist_linksm st = lsm_of(&n->sig.ents[i]);
        int act = edist_linksm_link(&st);
        lsm_apply(n, (size_t)i, &st, act);
        send_link = (act & EDIST_LSM_SEND_LINK) != 0;
    } else {
        edist_linksm st = {0, 0};
        send_link = (edist_linksm_link(&st) & EDIST_LSM_SEND_LINK) != 0;
        e.kind = SIG_LINK;
        e.id = mb->proc.id;
        e.serial = mb->proc.serial;
        e.node = str_dup(pid->v.pid.node.name, pid->v.pid.node.len);
        e.node_len = pid->v.pid.node.len;
        rc = e.node ? tab_add(n, &e) : EDIST_ENOMEM;
        e.other = NULL;
        e.node = NULL;
        if (rc == 0 && peer_mb &&
            tab_find(n, SIG_LINK, peer_mb->proc.id, peer_mb->proc.serial, me,
                     me_len, NULL, 0) < 0) {
            e2.kind = SIG_LINK;
            e2.id = peer_mb->proc.id;
            e2.serial = peer_mb->proc.serial;
            e2.node = str_dup(n->name, n->name_len);
            e2.node_len = n->name_len;
            e2.other = me;
            e2.other_len = me_len;
            me = NULL;
            rc = e2.node ? tab_add(n, &e2) : EDIST_ENOMEM;
        }
    }
    send_link = send_link && rc == 0 && remote;
    pthread_mutex_unlock(&n->sig.mu);
    if (peer_mb)
        edist_procs_put(&peer_mb->proc);
    if (send_link) {
        /* {1, Self, Pid} */
        edist_term ctl;
        if (edist_term_tuple(a, &ctl, 3) == 0) {
            ctl.v.tuple.elems[0] = edist_mk_int(OP_LINK);
            ctl.v.tuple.elems[1] = self;
            ctl.v.tuple.elems[2] = *pid;
            sig_send_ctl(n, &pid->v.pid.node, &ctl, NULL);
        }
        if (!peer_is_up(n, pid->v.pid.node.name, pid->v.pid.node.len))
            sig_node_down(n, pid->v.pid.node.name, pid->v.pid.node.len);
    }
out:
    free(me);
    ent_free(&e);
    edist_arena_free(a);
    return rc;
}

int sig_unlink(edist_mbox *mb, const edist_term *pid)
{
    if (!mb || !pid)
        return EDIST_EINVAL;
    if (pid->type != EDIST_TERM_PID)
        return EDIST_ETYPE;
    edist_node *n = mb->node;
    edist_term self = edist_mbox_pid(mb);
    uint8_t *other, *me;
    size_t other_len, me_len;
    int rc = sig_encode(pid, &other, &other_len);
    if (rc < 0)
        return rc;
    if ((rc = sig_encode(&self, &me, &me_len)) < 0) {
        free(other);
        return rc;
    }
    uint64_t id = 0;
    pthread_mutex_lock(&n->sig.mu);
    ptrdiff_t i = tab_find(n, SIG_LINK, mb->proc.id, mb->proc.serial, other,
                           other_len, NULL, 0);
    if (i >= 0 && !is_local_pid(n, pid)) {
        edist_linksm st = lsm_of(&n->sig.ents[i]);
        int act = edist_linksm_unlink(&st, n->sig.next_unlink_id);
        lsm_apply(n, (size_t)i, &st, act);
        if (act & EDIST_LSM_SEND_UNLINK_ID)
            id = n->sig.next_unlink_id++;
    } else if (i >= 0) {
        tab_del(n, (size_t)i);
        if (pid->v.pid.creation == n->creation) {
            ptrdiff_t j = tab_find(n, SIG_LINK, pid->v.pid.id,
                                   pid->v.pid.serial, me, me_len, NULL, 0);
            if (j >= 0)
                tab_del(n, (size_t)j);
        }
    }
    pthread_mutex_unlock(&n->sig.mu);
    free(other);
    free(me);
    if (id) {
        /* {35, Id, Self, Pid} */
        edist_term ctl, parts[4];
        parts[0] = edist_mk_int(OP_UNLINK_ID);
        parts[1] = edist_mk_int((int64_t)id);
        parts[2] = self;
        parts[3] = *pid;
        ctl.type = EDIST_TERM_TUPLE;
        ctl.v.tuple.arity = 4;
        ctl.v.tuple.elems = parts;
        rc = sig_send_ctl(n, &pid->v.pid.node, &ctl, NULL);
        if (rc == EDIST_ENOCONN)
            rc = 0;
    }
    return rc;
}

int edist_exit(edist_mbox *mb, const edist_term *pid, const edist_term *reason)
{
    if (!mb || !pid || !reason)
        return EDIST_EINVAL;
    if (pid->type != EDIST_TERM_PID)
        return EDIST_ETYPE;
    edist_node *n = mb->node;
    edist_term self = edist_mbox_pid(mb);
    if (is_local_pid(n, pid)) {
        edist_arena *a = edist_arena_new(NULL);
        if (!a)
            return EDIST_ENOMEM;
        if (pid->v.pid.creation == n->creation)
            deliver_exit(n, a, pid->v.pid.id, pid->v.pid.serial, &self, reason);
        edist_arena_free(a);
        return 0;
    }
    /* {8, Self, Pid, Reason} */
    edist_term ctl, parts[4];
    parts[0] = edist_mk_int(OP_EXIT2);
    parts[1] = self;
    parts[2] = *pid;
    parts[3] = *reason;
    ctl.type = EDIST_TERM_TUPLE;
    ctl.v.tuple.arity = 4;
    ctl.v.tuple.elems = parts;
    return sig_send_ctl(n, &pid->v.pid.node, &ctl, NULL);
}

/* ------------------------------------------------------------- monitors */

int edist_monitor(edist_mbox *mb, const edist_term *target, edist_term *ref)
{
    if (!mb || !target || !ref)
        return EDIST_EINVAL;
    edist_node *n = mb->node;
    edist_atom node = edist_node_atom(n);
    edist_term to, who;
    if (target->type == EDIST_TERM_PID) {
        node = target->v.pid.node;
        to = who = *target;
    } else if (target->type == EDIST_TERM_ATOM) {
        to = *target;
        who = *target; /* completed below */
    } else if (target->type == EDIST_TERM_TUPLE && target->v.tuple.arity == 2 &&
               target->v.tuple.elems[0].type == EDIST_TERM_ATOM &&
               target->v.tuple.elems[1].type == EDIST_TERM_ATOM) {
        to = target->v.tuple.elems[0];
        node = target->v.tuple.elems[1].v.atom;
        who = *target;
    } else {
        return EDIST_ETYPE;
    }
    edist_arena *a = edist_arena_new(NULL);
    if (!a)
        return EDIST_ENOMEM;
    edist_term self = edist_mbox_pid(mb), node_t = {0};
    node_t.type = EDIST_TERM_ATOM;
    node_t.v.atom = node;
    if (target->type == EDIST_TERM_ATOM) {
        edist_term_tuple(a, &who, 2);
        who.v.tuple.elems[0] = *target;
        who.v.tuple.elems[1] = node_t;
    }
    *ref = edist_make_ref(n);
    int local = node_is_local(n, node), rc;
    sig_ent e = {0}, e2 = {0};
    e.kind = SIG_MON_OUT;
    e.id = mb->proc.id;
    e.serial = mb->proc.serial;
    e.node = str_dup(node.name, node.len);
    e.node_len = node.len;
    if (!e.node || (rc = sig_encode(ref, &e.ref, &e.ref_len)) < 0 ||
        (rc = sig_encode(&who, &e.who, &e.who_len)) < 0 ||
        (rc = sig_encode(&to, &e.target, &e.target_len)) < 0) {
        ent_free(&e);
        edist_arena_free(a);
        return e.node ? rc : EDIST_ENOMEM;
    }
    if (!local && !connect_for(n, &node)) {
        edist_term r = atom("noconnection");
        deliver_down(n, a, &e, &r);
        ent_free(&e);
        edist_arena_free(a);
        return 0;
    }
    pthread_mutex_lock(&n->sig.mu);
    edist_mbox *tmb = NULL;
    if (local) {
        tmb = to.type == EDIST_TERM_PID
                  ? local_mbox(n, &to)
                  : (edist_mbox *)edist_procs_by_name(&n->procs, to.v.atom.name,
                                                      to.v.atom.len);
        if (!tmb) {
            pthread_mutex_unlock(&n->sig.mu);
            edist_term r = atom("noproc");
            deliver_down(n, a, &e, &r);
            ent_free(&e);
            edist_arena_free(a);
            return 0;
        }
        /* The target's side: monitored by self, FromProc as asked. */
        e2.kind = SIG_MON_IN;
        e2.id = tmb->proc.id;
        e2.serial = tmb->proc.serial;
        e2.node = str_dup(n->name, n->name_len);
        e2.node_len = n->name_len;
        rc = sig_encode(&self, &e2.other, &e2.other_len);
        if (rc == 0)
            rc = sig_encode(ref, &e2.ref, &e2.ref_len);
        if (rc == 0)
            rc = sig_encode(&to, &e2.who, &e2.who_len);
        if (rc < 0 || !e2.node) {
            ent_free(&e2);
            e2.kind = 0;
        }
    }
    rc = tab_add(n, &e);
    if (rc == 0 && e2.kind)
        rc = tab_add(n, &e2);
    else if (e2.kind == 0 && local)
        rc = EDIST_ENOMEM;
    pthread_mutex_unlock(&n->sig.mu);
    if (tmb)
        edist_procs_put(&tmb->proc);
    if (rc == 0 && !local) {
        /* {19, Self, ToProc, Ref} */
        edist_term ctl, parts[4];
        parts[0] = edist_mk_int(OP_MONITOR_P);
        parts[1] = self;
        parts[2] = to;
        parts[3] = *ref;
        ctl.type = EDIST_TERM_TUPLE;
        ctl.v.tuple.arity = 4;
        ctl.v.tuple.elems = parts;
        sig_send_ctl(n, &node, &ctl, NULL);
        if (!peer_is_up(n, node.name, node.len))
            sig_node_down(n, node.name, node.len);
    }
    edist_arena_free(a);
    return rc;
}

int edist_demonitor(edist_mbox *mb, const edist_term *ref)
{
    if (!mb || !ref)
        return EDIST_EINVAL;
    edist_node *n = mb->node;
    uint8_t *rb;
    size_t rlen;
    int rc = sig_encode(ref, &rb, &rlen);
    if (rc < 0)
        return rc;
    sig_out *out = NULL;
    uint8_t *me;
    size_t me_len;
    edist_term self = edist_mbox_pid(mb);
    if ((rc = sig_encode(&self, &me, &me_len)) < 0) {
        free(rb);
        return rc;
    }
    pthread_mutex_lock(&n->sig.mu);
    ptrdiff_t i = tab_find(n, SIG_MON_OUT, mb->proc.id, mb->proc.serial, NULL,
                           0, rb, rlen);
    if (i >= 0) {
        sig_ent *e = &n->sig.ents[i];
        if (node_is_local(n, (edist_atom){e->node, e->node_len})) {
            for (size_t j = 0; j < n->sig.n; j++) {
                sig_ent *f = &n->sig.ents[j];
                if (f->kind == SIG_MON_IN &&
                    bytes_eq(f->ref, f->ref_len, rb, rlen)) {
                    tab_del(n, j);
                    break;
                }
            }
            i = tab_find(n, SIG_MON_OUT, mb->proc.id, mb->proc.serial, NULL, 0,
                         rb, rlen);
        } else {
            out_push(&out, e->node, e->node_len, OP_DEMONITOR_P, me, me_len,
                     e->target, e->target_len, rb, rlen, NULL);
        }
        if (i >= 0)
            tab_del(n, (size_t)i);
    }
    pthread_mutex_unlock(&n->sig.mu);
    out_flush(n, out);
    free(rb);
    free(me);
    return 0;
}

int edist_monitor_node(edist_mbox *mb, const char *node, int on)
{
    if (!mb || !node)
        return EDIST_EINVAL;
    edist_node *n = mb->node;
    size_t len = strlen(node);
    if (edist_node_name_check(node, len) != 0)
        return EDIST_EBADNAME;
    if (!on) {
        pthread_mutex_lock(&n->sig.mu);
        for (size_t i = 0; i < n->sig.n;) {
            sig_ent *e = &n->sig.ents[i];
            if (e->kind == SIG_NODE && e->id == mb->proc.id &&
                e->serial == mb->proc.serial &&
                bytes_eq((const uint8_t *)e->node, e->node_len,
                         (const uint8_t *)node, len))
                tab_del(n, i);
            else
                i++;
        }
        pthread_mutex_unlock(&n->sig.mu);
        return 0;
    }
    edist_atom na = {node, len};
    if (node_is_local(n, na))
        return 0; /* our own node never goes down while we run */
    sig_ent e = {0};
    e.kind = SIG_NODE;
    e.id = mb->proc.id;
    e.serial = mb->proc.serial;
    e.node = str_dup(node, len);
    e.node_len = len;
    if (!e.node)
        return EDIST_ENOMEM;
    pthread_mutex_lock(&n->sig.mu);
    int rc = tab_add(n, &e);
    pthread_mutex_unlock(&n->sig.mu);
    if (rc == 0 && (!connect_for(n, &na) || !peer_is_up(n, node, len)))
        sig_node_down(n, node, len);
    return rc;
}

/* ------------------------------------------------ a mailbox that ends */

/* Removes every entry of mailbox (id, serial), telling partners it ended
 * with reason (encoded).  Caller holds mu; sends go to *out. */
static void end_mbox(edist_node *n, edist_arena *a, uint32_t id,
                     uint32_t serial, const edist_term *reason, sig_out **out)
{
    edist_term self = pid_of(n, id, serial);
    uint8_t *me = NULL;
    size_t me_len = 0;
    if (sig_encode(&self, &me, &me_len) < 0)
        return;
    for (size_t i = 0; i < n->sig.n;) {
        sig_ent *e = &n->sig.ents[i];
        if (e->id != id || e->serial != serial) {
            i++;
            continue;
        }
        int local = node_is_local(n, (edist_atom){e->node, e->node_len});
        edist_term other;
        switch (e->kind) {
        case SIG_LINK:
            if (e->unlink_id)
                break; /* unlinking: no exit signal */
            if (!local) {
                edist_linksm st = lsm_of(e);
                if (edist_linksm_local_exit(&st) & EDIST_LSM_SEND_EXIT)
                    out_push(out, e->node, e->node_len, OP_EXIT, me, me_len,
                             e->other, e->other_len, NULL, 0, reason);
            } else if (dec(a, e->other, e->other_len, &other) == 0 &&
                       other.type == EDIST_TERM_PID) {
                ptrdiff_t j = tab_find(n, SIG_LINK, other.v.pid.id,
                                       other.v.pid.serial, me, me_len, NULL, 0);
                if (j >= 0) {
                    int active = n->sig.ents[j].unlink_id == 0;
                    tab_del(n, (size_t)j);
                    if (active)
                        deliver_exit(n, a, other.v.pid.id, other.v.pid.serial,
                                     &self, reason);
                    i = 0; /* the table moved */
                    continue;
                }
            }
            break;
        case SIG_MON_IN:
            if (!local) {
                out_push(out, e->node, e->node_len, OP_MONITOR_P_EXIT, e->who,
                         e->who_len, e->other, e->other_len, e->ref, e->ref_len,
                         reason);
            } else if (dec(a, e->other, e->other_len, &other) == 0 &&
                       other.type == EDIST_TERM_PID) {
                ptrdiff_t j =
                    tab_find(n, SIG_MON_OUT, other.v.pid.id, other.v.pid.serial,
                             NULL, 0, e->ref, e->ref_len);
                if (j >= 0) {
                    deliver_down(n, a, &n->sig.ents[j], reason);
                    tab_del(n, (size_t)j);
                    i = 0;
                    continue;
                }
            }
            break;
        case SIG_MON_OUT:
            if (!local) {
                out_push(out, e->node, e->node_len, OP_DEMONITOR_P, me, me_len,
                         e->target, e->target_len, e->ref, e->ref_len, NULL);
            } else {
                int found = 0;
                for (size_t j = 0; j < n->sig.n && !found; j++) {
                    sig_ent *f = &n->sig.ents[j];
                    if (f->kind == SIG_MON_IN &&
                        bytes_eq(f->ref, f->ref_len, e->ref, e->ref_len)) {
                        tab_del(n, j);
                        found = 1;
                    }
                }
                if (found) {
                    i = 0; /* the table moved; this entry goes next pass */
                    continue;
                }
            }
            break;
        default:
            break;
        }
        tab_del(n, i);
    }
    free(me);
}

void edist_mbox_close_reason(edist_mbox *mb, const edist_term *reason)
{
    if (!mb)
        return;
    edist_node *n = mb->node;
    edist_term normal = atom("normal");
    if (!reason)
        reason = &normal;
    edist_monitor_nodes(mb, 0);
    edist_monitor_nodes_opts(mb, 0, 0);
    edist_mqueue_close(&mb->q);
    edist_procs_get(&mb->proc);
    /* Out of the table first: a LINK or MONITOR_P arriving from now on is
     * answered noproc instead of being recorded for a mailbox that is
     * going (lookups happen under sig.mu, see route). */
    edist_procs_remove(&n->procs, &mb->proc);
    edist_arena *a = edist_arena_new(NULL);
    sig_out *out = NULL;
    pthread_mutex_lock(&n->sig.mu);
    if (a)
        end_mbox(n, a, mb->proc.id, mb->proc.serial, reason, &out);
    pthread_mutex_unlock(&n->sig.mu);
    out_flush(n, out);
    edist_arena_free(a);
    edist_procs_put(&mb->proc);
}

void edist_mbox_close(edist_mbox *mb)
{
    edist_mbox_close_reason(mb, NULL);
}

void sig_node_stop(edist_node *n)
{
    edist_arena *a = edist_arena_new(NULL);
    if (!a)
        return;
    edist_term reason = atom("shutdown");
    sig_out *out = NULL;
    pthread_mutex_lock(&n->sig.mu);
    while (n->sig.n > 0) {
        sig_ent *e = &n->sig.ents[0];
        end_mbox(n, a, e->id, e->serial, &reason, &out);
    }
    pthread_mutex_unlock(&n->sig.mu);
    out_flush(n, out);
    edist_arena_free(a);
}

/* -------------------------------------------------------------- aliases */

int sig_alias_add(edist_mbox *mb, const edist_term *ref)
{
    edist_node *n = mb->node;
    sig_ent e = {0};
    e.kind = SIG_ALIAS;
    e.id = mb->proc.id;
    e.serial = mb->proc.serial;
    e.node = str_dup(n->name, n->name_len);
    e.node_len = n->name_len;
    int rc = e.node ? sig_encode(ref, &e.ref, &e.ref_len) : EDIST_ENOMEM;
    if (rc < 0) {
        ent_free(&e);
        return rc;
    }
    pthread_mutex_lock(&n->sig.mu);
    rc = tab_add(n, &e);
    pthread_mutex_unlock(&n->sig.mu);
    return rc;
}

void sig_alias_del(edist_mbox *mb, const edist_term *ref)
{
    edist_node *n = mb->node;
    uint8_t *rb;
    size_t rlen;
    if (sig_encode(ref, &rb, &rlen) < 0)
        return;
    pthread_mutex_lock(&n->sig.mu);
    ptrdiff_t i =
        tab_find(n, SIG_ALIAS, mb->proc.id, mb->proc.serial, NULL, 0, rb, rlen);
    if (i >= 0)
        tab_del(n, (size_t)i);
    pthread_mutex_unlock(&n->sig.mu);
    free(rb);
}

edist_mbox *sig_alias_lookup(edist_node *n, const edist_term *ref)
{
    uint8_t *rb;
    size_t rlen;
    if (sig_encode(ref, &rb, &rlen) < 0)
        return NULL;
    edist_mbox *mb = NULL;
    pthread_mutex_lock(&n->sig.mu);
    for (size_t i = 0; i < n->sig.n && !mb; i++) {
        sig_ent *e = &n->sig.ents[i];
        if (e->kind == SIG_ALIAS && bytes_eq(e->ref, e->ref_len, rb, rlen))
            mb = (edist_mbox *)edist_procs_by_pid(&n->procs, e->id, e->serial);
    }
    pthread_mutex_unlock(&n->sig.mu);
    free(rb);
    return mb;
}

/* -------------------------------------------------------- node up/down */

void sig_node_up(edist_node *n, const char *peer, size_t len)
{
    nodes_notify(n, peer, len, 1);
}

void sig_node_down(edist_node *n, const char *peer, size_t len)
{
    edist_arena *a = edist_arena_new(NULL);
    if (!a)
        return;
    edist_term noconn = atom("noconnection"), other;
    pthread_mutex_lock(&n->sig.mu);
    for (size_t i = 0; i < n->sig.n;) {
        sig_ent *e = &n->sig.ents[i];
        if (!bytes_eq((const uint8_t *)e->node, e->node_len,
                      (const uint8_t *)peer, len)) {
            i++;
            continue;
        }
        edist_linksm st = lsm_of(e);
        if (e->kind == SIG_LINK &&
            (edist_linksm_conn_down(&st) & EDIST_LSM_DELIVER_EXIT) &&
            dec(a, e->other, e->other_len, &other) == 0)
            deliver_exit(n, a, e->id, e->serial, &other, &noconn);
        else if (e->kind == SIG_MON_OUT)
            deliver_down(n, a, e, &noconn);
        else if (e->kind == SIG_NODE) {
            edist_term t, nd;
            nd = edist_mk_atom(peer, len);
            if (edist_term_tuple(a, &t, 2) == 0) {
                t.v.tuple.elems[0] = atom("nodedown");
                t.v.tuple.elems[1] = nd;
                deliver_to(n, e->id, e->serial, &t);
            }
        }
        tab_del(n, i);
    }
    pthread_mutex_unlock(&n->sig.mu);
    edist_arena_free(a);
    nodes_notify(n, peer, len, 0);
}

/* ------------------------------------------------- incoming signals */

int sig_add_monitor_in(edist_mbox *mb, const edist_term *origin,
                       const edist_term *ref, const char *node, size_t len)
{
    edist_node *n = mb->node;
    edist_term self = edist_mbox_pid(mb);
    sig_ent e = {0};
    e.kind = SIG_MON_IN;
    e.id = mb->proc.id;
    e.serial = mb->proc.serial;
    e.node = str_dup(node, len);
    e.node_len = len;
    int rc = e.node ? 0 : EDIST_ENOMEM;
    if (rc == 0)
        rc = sig_encode(origin, &e.other, &e.other_len);
    if (rc == 0)
        rc = sig_encode(ref, &e.ref, &e.ref_len);
    if (rc == 0)
        rc = sig_encode(&self, &e.who, &e.who_len);
    if (rc < 0) {
        ent_free(&e);
        return rc;
    }
    pthread_mutex_lock(&n->sig.mu);
    rc = tab_add(n, &e);
    pthread_mutex_unlock(&n->sig.mu);
    return rc;
}

int sig_add_link_in(edist_mbox *mb, const edist_term *origin, const char *node,
                    size_t len)
{
    edist_node *n = mb->node;
    sig_ent e = {0};
    e.kind = SIG_LINK;
    e.id = mb->proc.id;
    e.serial = mb->proc.serial;
    e.node = str_dup(node, len);
    e.node_len = len;
    int rc = e.node ? sig_encode(origin, &e.other, &e.other_len) : EDIST_ENOMEM;
    if (rc < 0) {
        ent_free(&e);
        return rc;
    }
    pthread_mutex_lock(&n->sig.mu);
    rc = tab_add(n, &e);
    pthread_mutex_unlock(&n->sig.mu);
    return rc;
}

/* Sends {op, A, B, Reason-atom} or with ref {op, A, B, Ref, Reason}. */
static void reply_noproc(edist_peer *p, int op, const edist_term *a,
                         const edist_term *b, const edist_term *ref)
{
    edist_term ctl, parts[5];
    size_t k = 0;
    parts[k++] = edist_mk_int(op);
    parts[k++] = *a;
    parts[k++] = *b;
    if (ref)
        parts[k++] = *ref;
    parts[k++] = atom("noproc");
    ctl.type = EDIST_TERM_TUPLE;
    ctl.v.tuple.arity = k;
    ctl.v.tuple.elems = parts;
    edist_etf_writer w;
    edist_etf_writer_init_dynamic(&w, 0, NULL, 0);
    if (edist_etf_put_term(&w, &ctl) == 0)
        peer_send(p, w.buf, w.len, NULL, 0);
    edist_etf_writer_free(&w);
}

static int in_link(edist_node *n, edist_peer *p, const edist_term *from,
                   const edist_term *to)
{
    if (from->type != EDIST_TERM_PID || to->type != EDIST_TERM_PID)
        return EDIST_EBADMSG;
    uint8_t *other;
    size_t other_len;
    if (sig_encode(from, &other, &other_len) < 0)
        return 0;
    pthread_mutex_lock(&n->sig.mu);
    edist_mbox *mb = local_mbox(n, to);
    int rc = 0;
    if (mb) {
        ptrdiff_t i = tab_find(n, SIG_LINK, mb->proc.id, mb->proc.serial, other,
                               other_len, NULL, 0);
        /* protocol.md 3.6: a LINK while our unlink is outstanding is
         * ignored (the peer will see our UNLINK_ID next). */
        if (i < 0) {
            sig_ent e = {0};
            e.kind = SIG_LINK;
            e.id = mb->proc.id;
            e.serial = mb->proc.serial;
            e.node = str_dup(p->name, p->name_len);
            e.node_len = p->name_len;
            e.other = other;
            e.other_len = other_len;
            other = NULL;
            rc = e.node ? tab_add(n, &e) : (ent_free(&e), 0);
        }
    }
    pthread_mutex_unlock(&n->sig.mu);
    free(other);
    if (mb)
        edist_procs_put(&mb->proc);
    else
        reply_noproc(p, OP_EXIT, to, from, NULL);
    return rc < 0 ? 0 : 0;
}

/* EXIT through a link (link = 1) or EXIT2 (exit/2). */
static int in_exit(edist_node *n, edist_arena *a, const edist_term *from,
                   const edist_term *to, const edist_term *reason, int link)
{
    if (to->type != EDIST_TERM_PID)
        return EDIST_EBADMSG;
    if (!is_local_pid(n, to) || to->v.pid.creation != n->creation)
        return 0;
    if (!link) {
        deliver_exit(n, a, to->v.pid.id, to->v.pid.serial, from, reason);
        return 0;
    }
    uint8_t *other;
    size_t other_len;
    if (sig_encode(from, &other, &other_len) < 0)
        return 0;
    pthread_mutex_lock(&n->sig.mu);
    ptrdiff_t i = tab_find(n, SIG_LINK, to->v.pid.id, to->v.pid.serial, other,
                           other_len, NULL, 0);
    if (i >= 0) {
        edist_linksm st = lsm_of(&n->sig.ents[i]);
        int act = edist_linksm_recv_exit(&st);
        lsm_apply(n, (size_t)i, &st, act);
        if (act & EDIST_LSM_DELIVER_EXIT)
            deliver_exit(n, a, to->v.pid.id, to->v.pid.serial, from, reason);
    }
    pthread_mutex_unlock(&n->sig.mu);
    free(other);
    return 0;
}

static int in_unlink_id(edist_node *n, edist_peer *p, const edist_term *id,
                        const edist_term *from, const edist_term *to, int ack)
{
    if (from->type != EDIST_TERM_PID || to->type != EDIST_TERM_PID)
        return EDIST_EBADMSG;
    uint8_t *other;
    size_t other_len;
    if (sig_encode(from, &other, &other_len) < 0)
        return 0;
    uint64_t idv = id->type == EDIST_TERM_INT ? (uint64_t)id->v.i : 0;
    pthread_mutex_lock(&n->sig.mu);
    ptrdiff_t i = tab_find(n, SIG_LINK, to->v.pid.id, to->v.pid.serial, other,
                           other_len, NULL, 0);
    if (i >= 0 && is_local_pid(n, to)) {
        edist_linksm st = lsm_of(&n->sig.ents[i]);
        int act = ack ? edist_linksm_recv_ack(&st, idv)
                      : edist_linksm_recv_unlink(&st);
        lsm_apply(n, (size_t)i, &st, act);
    }
    pthread_mutex_unlock(&n->sig.mu);
    free(other);
    if (!ack) {
        /* {36, Id, To, From}, before anything else goes to From. */
        edist_term ctl, parts[4];
        parts[0] = edist_mk_int(OP_UNLINK_ID_ACK);
        parts[1] = *id;
        parts[2] = *to;
        parts[3] = *from;
        ctl.type = EDIST_TERM_TUPLE;
        ctl.v.tuple.arity = 4;
        ctl.v.tuple.elems = parts;
        edist_etf_writer w;
        edist_etf_writer_init_dynamic(&w, 0, NULL, 0);
        if (edist_etf_put_term(&w, &ctl) == 0)
            peer_send(p, w.buf, w.len, NULL, 0);
        edist_etf_writer_free(&w);
    }
    return 0;
}

static int in_monitor(edist_node *n, edist_peer *p, const edist_term *from,
                      const edist_term *to, const edist_term *ref)
{
    if (from->type != EDIST_TERM_PID || ref->type != EDIST_TERM_REF)
        return EDIST_EBADMSG;
    pthread_mutex_lock(&n->sig.mu);
    edist_mbox *mb = NULL;
    if (to->type == EDIST_TERM_PID)
        mb = local_mbox(n, to);
    else if (to->type == EDIST_TERM_ATOM)
        mb = (edist_mbox *)edist_procs_by_name(&n->procs, to->v.atom.name,
                                               to->v.atom.len);
    int builtin =
        to->type == EDIST_TERM_ATOM && edist_term_is_atom(to, "net_kernel");
    if (mb) {
        sig_ent e = {0};
        e.kind = SIG_MON_IN;
        e.id = mb->proc.id;
        e.serial = mb->proc.serial;
        e.node = str_dup(p->name, p->name_len);
        e.node_len = p->name_len;
        if (!e.node || sig_encode(from, &e.other, &e.other_len) < 0 ||
            sig_encode(ref, &e.ref, &e.ref_len) < 0 ||
            sig_encode(to, &e.who, &e.who_len) < 0)
            ent_free(&e);
        else
            tab_add(n, &e);
    }
    pthread_mutex_unlock(&n->sig.mu);
    if (mb)
        edist_procs_put(&mb->proc);
    else if (!builtin)
        reply_noproc(p, OP_MONITOR_P_EXIT, to, from, ref);
    return 0;
}

static int in_demonitor(edist_node *n, edist_peer *p, const edist_term *ref)
{
    uint8_t *rb;
    size_t rlen;
    if (sig_encode(ref, &rb, &rlen) < 0)
        return 0;
    pthread_mutex_lock(&n->sig.mu);
    for (size_t i = 0; i < n->sig.n; i++) {
        sig_ent *e = &n->sig.ents[i];
        if (e->kind == SIG_MON_IN && bytes_eq(e->ref, e->ref_len, rb, rlen) &&
            bytes_eq((const uint8_t *)e->node, e->node_len,
                     (const uint8_t *)p->name, p->name_len)) {
            tab_del(n, i);
            break;
        }
    }
    pthread_mutex_unlock(&n->sig.mu);
    free(rb);
    return 0;
}

static int in_monitor_exit(edist_node *n, edist_arena *a, const edist_term *to,
                           const edist_term *ref, const edist_term *reason)
{
    if (to->type != EDIST_TERM_PID || !is_local_pid(n, to))
        return 0;
    uint8_t *rb;
    size_t rlen;
    if (sig_encode(ref, &rb, &rlen) < 0)
        return 0;
    pthread_mutex_lock(&n->sig.mu);
    ptrdiff_t i = tab_find(n, SIG_MON_OUT, to->v.pid.id, to->v.pid.serial, NULL,
                           0, rb, rlen);
    if (i >= 0) {
        deliver_down(n, a, &n->sig.ents[i], reason);
        tab_del(n, (size_t)i);
    }
    pthread_mutex_unlock(&n->sig.mu);
    free(rb);
    return 0;
}

int sig_route(edist_node *n, edist_peer *p, int64_t op, const edist_dist_msg *m)
{
    edist_etf_reader r;
    edist_etf_reader_init(&r, m->data, m->len, (const edist_atom *)m->atoms,
                          m->natoms);
    if (m->versioned && edist_etf_read_version(&r) < 0)
        return EDIST_EBADMSG;
    edist_arena *a = edist_arena_new(NULL);
    if (!a)
        return 0;
    edist_term ctl, payload = {0};
    int rc = EDIST_EBADMSG, has_payload = 0;
    if (edist_etf_read_term(&r, a, NULL, &ctl) < 0 ||
        ctl.type != EDIST_TERM_TUPLE || ctl.v.tuple.arity < 3)
        goto out;
    if ((op >= OP_PAYLOAD_EXIT && op <= OP_SPAWN_REQUEST_TT)) {
        if ((m->versioned && edist_etf_read_version(&r) < 0) ||
            edist_etf_read_term(&r, a, NULL, &payload) < 0)
            goto out;
        has_payload = 1;
    }
    edist_term *el = ctl.v.tuple.elems;
    size_t ar = ctl.v.tuple.arity;
    (void)has_payload;
    switch (op) {
    case OP_LINK:
        rc = in_link(n, p, &el[1], &el[2]);
        break;
    case OP_EXIT:
    case OP_EXIT2:
        rc = ar == 4 ? in_exit(n, a, &el[1], &el[2], &el[3], op == OP_EXIT)
                     : EDIST_EBADMSG;
        break;
    case OP_EXIT_TT:
    case OP_EXIT2_TT:
        rc = ar == 5 ? in_exit(n, a, &el[1], &el[2], &el[4], op == OP_EXIT_TT)
                     : EDIST_EBADMSG;
        break;
    case OP_PAYLOAD_EXIT:
    case OP_PAYLOAD_EXIT_TT:
    case OP_PAYLOAD_EXIT2:
    case OP_PAYLOAD_EXIT2_TT:
        rc = in_exit(n, a, &el[1], &el[2], &payload,
                     op == OP_PAYLOAD_EXIT || op == OP_PAYLOAD_EXIT_TT);
        break;
    case OP_UNLINK_ID:
    case OP_UNLINK_ID_ACK:
        rc = ar == 4 ? in_unlink_id(n, p, &el[1], &el[2], &el[3],
                                    op == OP_UNLINK_ID_ACK)
                     : EDIST_EBADMSG;
        break;
    case OP_MONITOR_P:
        rc = ar == 4 ? in_monitor(n, p, &el[1], &el[2], &el[3]) : EDIST_EBADMSG;
        break;
    case OP_DEMONITOR_P:
        rc = ar == 4 ? in_demonitor(n, p, &el[3]) : EDIST_EBADMSG;
        break;
    case OP_MONITOR_P_EXIT:
        rc = ar == 5 ? in_monitor_exit(n, a, &el[2], &el[3], &el[4])
                     : EDIST_EBADMSG;
        break;
    case OP_PAYLOAD_MONITOR_P_EXIT:
        rc = ar == 4 ? in_monitor_exit(n, a, &el[2], &el[3], &payload)
                     : EDIST_EBADMSG;
        break;
    case OP_SPAWN_REQUEST:
    case OP_SPAWN_REQUEST_TT:
        rc = ar >= 6 ? rpc_spawn_request(n, p, &ctl, &payload) : EDIST_EBADMSG;
        break;
    default:
        rc = 0;
    }
out:
    edist_arena_free(a);
    return rc;
}
