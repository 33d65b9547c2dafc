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
    n->sig.all = NULL;
    n->sig.n = 0;
    n->sig.spare = NULL;
    n->sig.nspare = 0;
    edist_hmap_init(&n->sig.by_owner, NULL);
    edist_hmap_init(&n->sig.by_node, NULL);
    edist_hmap_init(&n->sig.by_ref, NULL);
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

#define SIG_SPARES 32

void sig_destroy(edist_node *n)
{
    while (n->sig.all)
        sig_tab_del(n, n->sig.all);
    while (n->sig.spare) {
        sig_ent *e = n->sig.spare;
        n->sig.spare = e->all_next;
        free(e);
    }
    n->sig.nspare = 0;
    edist_hmap_free(&n->sig.by_owner);
    edist_hmap_free(&n->sig.by_node);
    edist_hmap_free(&n->sig.by_ref);
    pthread_mutex_destroy(&n->sig.mu);
}

int sig_encode(const edist_term *t, uint8_t **out, size_t *len)
{
    /* Pids, references and names fit on the stack: one walk, one
     * allocation of the exact size. */
    uint8_t buf[512];
    edist_etf_writer w;
    edist_etf_writer_init_fixed(&w, buf, sizeof buf, 0);
    if (edist_etf_put_term(&w, t) == 0) {
        *out = malloc(w.len ? w.len : 1);
        if (!*out)
            return EDIST_ENOMEM;
        memcpy(*out, buf, w.len);
        *len = w.len;
        return 0;
    }
    if (w.err != EDIST_ETOOBIG)
        return w.err;
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
    rc = sig_tab_add(n, e, NULL);
    pthread_mutex_unlock(&n->sig.mu);
    return rc;
}

int sig_tab_add_link(edist_node *n, const edist_mbox *mb, const char *node,
                     size_t len, uint8_t **other, size_t other_len,
                     sig_ent **added)
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
    return sig_tab_add(n, &e, added);
}

/* ------------------------------------------------------------- indexes */

/*
 * Each index maps a key to the first entry of a doubly linked list of the
 * entries with that key (links in the entries, so unlinking is O(1); the
 * map's value is replaced in place when the first one changes).  A key
 * is in a map exactly while its list is not empty.  Keys: the owner's
 * (id, serial) as 8 bytes, the node name, the encoded reference.
 */
static edist_hmap *ix_map(sig_table *t, int ix)
{
    return ix == SIG_IX_OWNER  ? &t->by_owner
           : ix == SIG_IX_NODE ? &t->by_node
                               : &t->by_ref;
}

static void owner_key(uint8_t k[8], uint32_t id, uint32_t serial)
{
    memcpy(k, &id, 4);
    memcpy(k + 4, &serial, 4);
}

/* e's key in index ix (k: storage for the owner key). */
static const void *ix_key(const sig_ent *e, int ix, uint8_t k[8], size_t *len)
{
    if (ix == SIG_IX_OWNER) {
        owner_key(k, e->id, e->serial);
        *len = 8;
        return k;
    }
    if (ix == SIG_IX_NODE) {
        *len = e->node_len;
        return e->node;
    }
    *len = e->ref_len;
    return e->ref;
}

static int ix_link(sig_table *t, sig_ent *e, int ix)
{
    uint8_t k[8];
    size_t len;
    const void *key = ix_key(e, ix, k, &len);
    edist_hmap *m = ix_map(t, ix);
    void **head = edist_hmap_ref(m, key, len);
    e->prev[ix] = NULL;
    if (head) {
        sig_ent *h = *head;
        e->next[ix] = h;
        h->prev[ix] = e;
        *head = e;
    } else {
        e->next[ix] = NULL;
        if (edist_hmap_put(m, key, len, e) != 0)
            return EDIST_ENOMEM;
    }
    e->in_ix[ix] = 1;
    return 0;
}

static void ix_unlink(sig_table *t, sig_ent *e, int ix)
{
    if (!e->in_ix[ix])
        return;
    e->in_ix[ix] = 0;
    if (e->next[ix])
        e->next[ix]->prev[ix] = e->prev[ix];
    if (e->prev[ix]) {
        e->prev[ix]->next[ix] = e->next[ix];
        return;
    }
    uint8_t k[8];
    size_t len;
    const void *key = ix_key(e, ix, k, &len);
    if (e->next[ix]) {
        void **head = edist_hmap_ref(ix_map(t, ix), key, len);
        if (head)
            *head = e->next[ix];
    } else {
        edist_hmap_del(ix_map(t, ix), key, len);
    }
}

/* Appends e (its buffers now owned by the table).  Caller holds mu. */
int sig_tab_add(edist_node *n, sig_ent *e, sig_ent **added)
{
    sig_table *t = &n->sig;
    sig_ent *x = t->spare;
    if (x) {
        t->spare = x->all_next;
        t->nspare--;
    } else if (!(x = malloc(sizeof *x))) {
        sig_ent_free(e);
        return EDIST_ENOMEM;
    }
    *x = *e;
    memset(x->in_ix, 0, sizeof x->in_ix);
    int want[SIG_NIX] = {1,
                         !node_is_local(n, (edist_atom){x->node, x->node_len}),
                         x->ref != NULL};
    for (int ix = 0; ix < SIG_NIX; ix++) {
        if (want[ix] && ix_link(t, x, ix) < 0) {
            while (ix-- > 0)
                ix_unlink(t, x, ix);
            sig_ent_free(x);
            free(x);
            return EDIST_ENOMEM;
        }
    }
    x->all_prev = NULL;
    x->all_next = t->all;
    if (t->all)
        t->all->all_prev = x;
    t->all = x;
    t->n++;
    if (added)
        *added = x;
    return 0;
}

/* Removes entry e (freeing it).  Caller holds mu. */
void sig_tab_del(edist_node *n, sig_ent *e)
{
    sig_table *t = &n->sig;
    for (int ix = 0; ix < SIG_NIX; ix++)
        ix_unlink(t, e, ix);
    if (e->all_prev)
        e->all_prev->all_next = e->all_next;
    else
        t->all = e->all_next;
    if (e->all_next)
        e->all_next->all_prev = e->all_prev;
    t->n--;
    sig_ent_free(e);
    if (t->nspare < SIG_SPARES) {
        e->all_next = t->spare;
        t->spare = e;
        t->nspare++;
    } else {
        free(e);
    }
}

sig_ent *sig_tab_owner_first(edist_node *n, uint32_t id, uint32_t serial)
{
    uint8_t k[8];
    owner_key(k, id, serial);
    return edist_hmap_get(&n->sig.by_owner, k, 8);
}

sig_ent *sig_tab_node_first(edist_node *n, const char *node, size_t len)
{
    return edist_hmap_get(&n->sig.by_node, node, len);
}

sig_ent *sig_tab_ref_first(edist_node *n, const uint8_t *ref, size_t len)
{
    return edist_hmap_get(&n->sig.by_ref, ref, len);
}

sig_ent *sig_tab_find(edist_node *n, int kind, uint32_t id, uint32_t serial,
                      const uint8_t *other, size_t other_len,
                      const uint8_t *ref, size_t ref_len)
{
    int ix = ref ? SIG_IX_REF : SIG_IX_OWNER;
    sig_ent *e = ref ? sig_tab_ref_first(n, ref, ref_len)
                     : sig_tab_owner_first(n, id, serial);
    for (; e; e = e->next[ix]) {
        if (e->kind != kind || e->id != id || e->serial != serial)
            continue;
        if (other && !sig_bytes_eq(e->other, e->other_len, other, other_len))
            continue;
        if (ref && !sig_bytes_eq(e->ref, e->ref_len, ref, ref_len))
            continue;
        return e;
    }
    return NULL;
}

/* Whether e sits in the list of its key in index ix, found through the
 * map, and the list's links agree both ways. */
static int check_in(sig_table *t, sig_ent *e, int ix)
{
    uint8_t k[8];
    size_t len;
    const void *key = ix_key(e, ix, k, &len);
    sig_ent *x = edist_hmap_get(ix_map(t, ix), key, len);
    if (!e->in_ix[ix] || !x || x->prev[ix])
        return -1;
    for (; x; x = x->next[ix]) {
        if (!x->in_ix[ix] || (x->next[ix] && x->next[ix]->prev[ix] != x))
            return -1;
        if (x == e)
            return 0;
    }
    return -1;
}

int sig_tab_check(edist_node *n)
{
    sig_table *t = &n->sig;
    size_t count = 0, with_ref = 0;
    for (sig_ent *e = t->all; e; e = e->all_next) {
        if (++count > t->n || (e->all_next && e->all_next->all_prev != e))
            return -1;
        int local = node_is_local(n, (edist_atom){e->node, e->node_len});
        if (check_in(t, e, SIG_IX_OWNER) < 0 ||
            (local ? e->in_ix[SIG_IX_NODE] : check_in(t, e, SIG_IX_NODE) < 0))
            return -1;
        if (e->ref) {
            with_ref++;
            if (check_in(t, e, SIG_IX_REF) < 0)
                return -1;
        } else if (e->in_ix[SIG_IX_REF]) {
            return -1;
        }
    }
    /* No key outlives its entries: each map holds only keys in use,
     * which the counts bound from above. */
    if (count != t->n || t->by_owner.count > count ||
        t->by_node.count > count || t->by_ref.count > with_ref)
        return -1;
    return 0;
}

/* ------------------------------------------------------------- helpers */

/* The link state machine's view of a LINK entry (present = exists). */
edist_linksm sig_lsm_of(const sig_ent *e)
{
    edist_linksm s = {1, e->unlink_id};
    return s;
}

/* Applies the machine's new state to entry e: dropped or updated. */
void sig_lsm_apply(edist_node *n, sig_ent *e, const edist_linksm *s, int act)
{
    if ((act & EDIST_LSM_DROP) || !s->exists)
        sig_tab_del(n, e);
    else
        e->unlink_id = s->unlink_id;
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

int sig_send_ctl(edist_node *n, const edist_atom *node, const edist_term *ctl,
                 int dial)
{
    char name[EDIST_NODE_NAME_MAX + 1];
    if (node->len > EDIST_NODE_NAME_MAX)
        return EDIST_EBADNAME;
    memcpy(name, node->name, node->len);
    name[node->len] = '\0';
    if (dial)
        edist_connect(n, name, 0, NULL); /* creates the peer and dials */
    edist_peer *p = peer_lookup(n, name, node->len);
    if (!p)
        return EDIST_ENOCONN;
    int rc = sig_peer_send(p, ctl);
    peer_unref(p);
    return rc;
}

/* Connects to a remote node for a link or monitor, waiting up to
 * timeout_ms.  Returns 1 when up. */
int sig_connect_for(edist_node *n, const edist_atom *node, int timeout_ms)
{
    char name[EDIST_NODE_NAME_MAX + 1];
    if (node->len > EDIST_NODE_NAME_MAX)
        return 0;
    memcpy(name, node->name, node->len);
    name[node->len] = '\0';
    if (edist_loop_on_thread(&n->loop))
        return 0;
    return edist_connect(n, name, timeout_ms, NULL) == 0;
}
