/*
 * sig_table.c: the signals table (see signals.c) and its helpers: entries,
 * lookups, local deliveries of {'EXIT', ...} and {'DOWN', ...}, and the
 * control messages queued under the lock and sent after it.
 */
#include <stdlib.h>
#include <string.h>

#include "edist/err.h"
#include "rt/sig_int.h"

void sig_init(edist_node *n)
{
    pthread_mutex_init(&n->sig.mu, NULL);
    n->sig.next_unlink_id = 1;
}

void sig_ent_free(sig_ent *e)
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
        sig_ent_free(&n->sig.ents[i]);
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

int sig_bytes_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

char *sig_strdup(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

int sig_ent_init(sig_ent *e, int kind, const edist_mbox *mb, const char *node,
                 size_t len)
{
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->id = mb->proc.id;
    e->serial = mb->proc.serial;
    e->node = sig_strdup(node, len);
    e->node_len = len;
    return e->node ? 0 : EDIST_ENOMEM;
}

int sig_ent_commit(edist_node *n, sig_ent *e, int rc)
{
    if (rc < 0) {
        sig_ent_free(e);
        return rc;
    }
    pthread_mutex_lock(&n->sig.mu);
    rc = sig_tab_add(n, e);
    pthread_mutex_unlock(&n->sig.mu);
    return rc;
}

int sig_tab_add_link(edist_node *n, const edist_mbox *mb, const char *node,
                     size_t len, uint8_t **other, size_t other_len)
{
    sig_ent e;
    int rc = sig_ent_init(&e, SIG_LINK, mb, node, len);
    e.other = *other;
    e.other_len = other_len;
    *other = NULL;
    if (rc < 0) {
        sig_ent_free(&e);
        return rc;
    }
    return sig_tab_add(n, &e);
}

/* Appends e (its buffers now owned by the table).  Caller holds mu. */
int sig_tab_add(edist_node *n, sig_ent *e)
{
    sig_table *t = &n->sig;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        sig_ent *ne = realloc(t->ents, cap * sizeof *ne);
        if (!ne) {
            sig_ent_free(e);
            return EDIST_ENOMEM;
        }
        t->ents = ne;
        t->cap = cap;
    }
    t->ents[t->n++] = *e;
    return 0;
}

/* Removes entry i (freeing it).  Caller holds mu. */
void sig_tab_del(edist_node *n, size_t i)
{
    sig_table *t = &n->sig;
    sig_ent_free(&t->ents[i]);
    t->ents[i] = t->ents[--t->n];
}

ptrdiff_t sig_tab_find(edist_node *n, int kind, uint32_t id, uint32_t serial,
                       const uint8_t *other, size_t other_len,
                       const uint8_t *ref, size_t ref_len)
{
    sig_table *t = &n->sig;
    for (size_t i = 0; i < t->n; i++) {
        sig_ent *e = &t->ents[i];
        if (e->kind != kind || e->id != id || e->serial != serial)
            continue;
        if (other && !sig_bytes_eq(e->other, e->other_len, other, other_len))
            continue;
        if (ref && !sig_bytes_eq(e->ref, e->ref_len, ref, ref_len))
            continue;
        return (ptrdiff_t)i;
    }
    return -1;
}

/* ------------------------------------------------------------- helpers */

/* The link state machine's view of a LINK entry (present = exists). */
edist_linksm sig_lsm_of(const sig_ent *e)
{
    edist_linksm s = {1, e->unlink_id};
    return s;
}

/* Applies the machine's new state to entry i: dropped or updated. */
void sig_lsm_apply(edist_node *n, size_t i, const edist_linksm *s, int act)
{
    if ((act & EDIST_LSM_DROP) || !s->exists)
        sig_tab_del(n, i);
    else
        n->sig.ents[i].unlink_id = s->unlink_id;
}

int sig_is_local_pid(edist_node *n, const edist_term *pid)
{
    return pid->type == EDIST_TERM_PID && node_is_local(n, pid->v.pid.node);
}

edist_term sig_pid_of(edist_node *n, uint32_t id, uint32_t serial)
{
    return edist_mk_pid(edist_node_atom(n), id, serial, n->creation);
}

void sig_deliver_to(edist_node *n, uint32_t id, uint32_t serial,
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
    if (sig_is_local_pid(n, pid) && pid->v.pid.creation == n->creation)
        sig_deliver_to(n, pid->v.pid.id, pid->v.pid.serial, t);
}

/* Decodes bytes kept in an entry. */
int sig_dec(edist_arena *a, const uint8_t *b, size_t len, edist_term *out)
{
    edist_etf_decode_opts o = {0};
    o.flags = EDIST_ETF_NO_VERSION;
    return edist_etf_decode(a, b, len, &o, out, NULL);
}

edist_term sig_atom(const char *s)
{
    return edist_mk_atom(s, strlen(s));
}

/* {'EXIT', From, Reason} */
void sig_deliver_exit(edist_node *n, edist_arena *a, uint32_t id,
                      uint32_t serial, const edist_term *from,
                      const edist_term *reason)
{
    edist_term t;
    if (edist_term_tuple(a, &t, 3) < 0)
        return;
    t.v.tuple.elems[0] = sig_atom("EXIT");
    t.v.tuple.elems[1] = *from;
    t.v.tuple.elems[2] = *reason;
    sig_deliver_to(n, id, serial, &t);
}

/* {'DOWN', Ref, process, Who, Reason} */
void sig_deliver_down(edist_node *n, edist_arena *a, const sig_ent *e,
                      const edist_term *reason)
{
    edist_term t, ref, who;
    if (sig_dec(a, e->ref, e->ref_len, &ref) < 0 ||
        sig_dec(a, e->who, e->who_len, &who) < 0 ||
        edist_term_tuple(a, &t, 5) < 0)
        return;
    t.v.tuple.elems[0] = sig_atom("DOWN");
    t.v.tuple.elems[1] = ref;
    t.v.tuple.elems[2] = sig_atom("process");
    t.v.tuple.elems[3] = who;
    t.v.tuple.elems[4] = *reason;
    sig_deliver_to(n, e->id, e->serial, &t);
}

/* Builds ctl = {op, raw...} with raw encoded parts and queues it on *out.
 * NULL parts are left out; term_part, when not NULL, is put last. */
void sig_out_push(sig_out **out, const char *node, size_t node_len, int op,
                  const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                  const uint8_t *c, size_t clen, const edist_term *last)
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
    o->node = sig_strdup(node, node_len);
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
void sig_out_flush(edist_node *n, sig_out *list)
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

int sig_peer_send(edist_peer *p, const edist_term *ctl)
{
    edist_etf_writer w;
    edist_etf_writer_init_dynamic(&w, 0, NULL, 0);
    int rc = edist_etf_put_term(&w, ctl);
    if (rc == 0)
        rc = peer_send(p, w.buf, w.len, NULL, 0);
    edist_etf_writer_free(&w);
    return rc;
}

int sig_send_ctl(edist_node *n, const edist_atom *node, const edist_term *ctl)
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
    int rc = sig_peer_send(p, ctl);
    peer_unref(p);
    return rc;
}

/* Connects to a remote node for a link or monitor.  Returns 1 when up. */
int sig_connect_for(edist_node *n, const edist_atom *node)
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

int sig_peer_is_up(edist_node *n, const char *name, size_t len)
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
