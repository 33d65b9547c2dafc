/*
 * global_tab.c: global's tables, as global.erl keeps them in ETS:
 * registered names ({Name, Pid, Method}), locks ({ResourceId,
 * LockRequesterId, [Pid]}) and the lost_connection records that stop a
 * repeated report from being acted on twice.
 *
 * Terms are stored encoded (our encoder writes equal terms as equal
 * bytes), so equality is a byte comparison and nothing here needs an
 * arena.  Every table is capped (global_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "edist/err.h"
#include "proto/global_state.h"

static void gl_name_release(edist_gl *g, gl_name *n)
{
    edist_mem_free(g->alloc, n->key);
    edist_mem_free(g->alloc, n->pid);
    edist_mem_free(g->alloc, n->method);
    edist_mem_free(g->alloc, n);
}

static size_t gl_name_bytes(const gl_name *n)
{
    return n->key_len + n->pid_len + n->method_len;
}

/* Releases a name that is in the table (counted in table_bytes). */
static void gl_name_forget(edist_gl *g, gl_name *n)
{
    g->table_bytes -= gl_name_bytes(n);
    gl_name_release(g, n);
}

const gl_name *gl_name_find(const edist_gl *g, const edist_term *name)
{
    uint8_t *key;
    size_t len;
    if (gl_encode((edist_gl *)g, name, &key, &len) < 0)
        return NULL;
    const gl_name *n = edist_hmap_get(&g->names, key, len);
    edist_mem_free(g->alloc, key);
    return n;
}

const uint8_t *edist_gl_whereis(const edist_gl *g, const uint8_t *name,
                                size_t len, size_t *pid_len)
{
    const gl_name *n = edist_hmap_get(&g->names, name, len);
    if (!n)
        return NULL;
    *pid_len = n->pid_len;
    return n->pid;
}

void gl_name_delete(edist_gl *g, const edist_term *name)
{
    uint8_t *key;
    size_t len;
    if (gl_encode(g, name, &key, &len) < 0)
        return;
    gl_name *n = edist_hmap_del(&g->names, key, len);
    edist_mem_free(g->alloc, key);
    if (n)
        gl_name_forget(g, n);
}

int gl_name_insert(edist_gl *g, const edist_term *name, const edist_term *pid,
                   const edist_term *method)
{
    if (pid->type != EDIST_TERM_PID ||
        pid->v.pid.node.len > EDIST_NODE_NAME_MAX)
        return EDIST_EBADMSG;
    gl_name *n = edist_mem_alloc(g->alloc, sizeof *n);
    if (!n)
        return EDIST_ENOMEM;
    memset(n, 0, sizeof *n);
    int rc = gl_encode(g, name, &n->key, &n->key_len);
    if (rc == 0)
        rc = gl_encode(g, pid, &n->pid, &n->pid_len);
    if (rc == 0)
        rc = gl_encode(g, method, &n->method, &n->method_len);
    if (rc < 0) {
        gl_name_release(g, n);
        return rc;
    }
    memcpy(n->node, pid->v.pid.node.name, pid->v.pid.node.len);
    n->node_len = pid->v.pid.node.len;
    /* ins_name: a new registration replaces the old one. */
    gl_name *old = edist_hmap_del(&g->names, n->key, n->key_len);
    if (old)
        gl_name_forget(g, old);
    if (g->names.count >= EDIST_GL_MAX_NAMES ||
        gl_name_bytes(n) > EDIST_GL_MAX_BYTES - g->table_bytes) {
        gl_name_release(g, n);
        return EDIST_ETOOBIG;
    }
    rc = edist_hmap_put(&g->names, n->key, n->key_len, n);
    if (rc < 0)
        gl_name_release(g, n);
    else
        g->table_bytes += gl_name_bytes(n);
    return rc;
}

int gl_put_names(edist_gl *g, edist_etf_writer *w, size_t *count)
{
    size_t k = 0;
    for (size_t i = 0; i < g->names.cap; i++) {
        gl_name *n = g->names.slots[i].value;
        if (!g->names.slots[i].key || !n)
            continue;
        edist_etf_put_list_header(w, 1);
        edist_etf_put_tuple_header(w, 3);
        edist_etf_put_raw(w, n->key, n->key_len);
        edist_etf_put_raw(w, n->pid, n->pid_len);
        edist_etf_put_raw(w, n->method, n->method_len);
        k++;
    }
    /* Written as nested one-element cells [A | [B | ... []]]: the same
     * list, without counting first. */
    *count = k;
    return edist_etf_put_nil(w);
}

void gl_names_free(edist_gl *g)
{
    for (size_t i = 0; i < g->names.cap; i++) {
        gl_name *n = g->names.slots[i].value;
        if (g->names.slots[i].key && n)
            gl_name_release(g, n);
    }
    edist_hmap_free(&g->names);
}

/* ---------------------------------------------------------------- locks */

static int gl_cmp_terms(const void *a, const void *b)
{
    return edist_term_compare(a, b);
}

/* Encodes a lock id's LockRequesterId.  A list (global's own lock ids
 * are sorted lists of locker pids) is encoded sorted: the two sides of a
 * sync compute the same id, and term order of pids from different nodes
 * is a detail we need not match byte for byte. */
static int gl_encode_req(edist_gl *g, const edist_term *req, uint8_t **out,
                         size_t *len)
{
    if (req->type != EDIST_TERM_LIST ||
        req->v.list.tail->type != EDIST_TERM_NIL)
        return gl_encode(g, req, out, len);
    size_t n = req->v.list.len;
    edist_term *el = edist_mem_alloc(g->alloc, n * sizeof *el);
    if (!el)
        return EDIST_ENOMEM;
    memcpy(el, req->v.list.elems, n * sizeof *el);
    qsort(el, n, sizeof *el, gl_cmp_terms);
    edist_term nil = edist_mk_nil(), t = *req;
    t.v.list.elems = el;
    t.v.list.tail = &nil;
    int rc = gl_encode(g, &t, out, len);
    edist_mem_free(g->alloc, el);
    return rc;
}

typedef struct gl_lock_id {
    uint8_t *res, *req;
    size_t res_len, req_len;
} gl_lock_id;

static void gl_lock_id_free(edist_gl *g, gl_lock_id *id)
{
    edist_mem_free(g->alloc, id->res);
    edist_mem_free(g->alloc, id->req);
}

/* Id = {ResourceId, LockRequesterId}. */
static int gl_lock_id_parse(edist_gl *g, const edist_term *id, gl_lock_id *out)
{
    memset(out, 0, sizeof *out);
    if (id->type != EDIST_TERM_TUPLE || id->v.tuple.arity != 2)
        return EDIST_EBADMSG;
    int rc = gl_encode(g, &id->v.tuple.elems[0], &out->res, &out->res_len);
    if (rc == 0)
        rc = gl_encode_req(g, &id->v.tuple.elems[1], &out->req, &out->req_len);
    if (rc < 0)
        gl_lock_id_free(g, out);
    return rc;
}

static gl_lock *gl_lock_find(edist_gl *g, const gl_lock_id *id)
{
    for (size_t i = 0; i < g->nlocks; i++)
        if (g->locks[i].res_len == id->res_len &&
            memcmp(g->locks[i].res, id->res, id->res_len) == 0)
            return &g->locks[i];
    return NULL;
}

static int gl_lock_same_req(const gl_lock *l, const gl_lock_id *id)
{
    return l->req_len == id->req_len &&
           memcmp(l->req, id->req, id->req_len) == 0;
}

int gl_lock_can_set(edist_gl *g, const edist_term *t)
{
    gl_lock_id id;
    int rc = gl_lock_id_parse(g, t, &id);
    if (rc < 0)
        return rc;
    gl_lock *l = gl_lock_find(g, &id);
    rc = !l || gl_lock_same_req(l, &id);
    gl_lock_id_free(g, &id);
    return rc;
}

static void gl_lock_drop(edist_gl *g, size_t i)
{
    gl_lock *l = &g->locks[i];
    for (size_t k = 0; k < l->nh; k++) {
        g->table_bytes -= l->h[k].pid_len;
        edist_mem_free(g->alloc, l->h[k].pid);
    }
    g->nholders -= l->nh;
    g->table_bytes -= l->res_len + l->req_len;
    edist_mem_free(g->alloc, l->h);
    edist_mem_free(g->alloc, l->res);
    edist_mem_free(g->alloc, l->req);
    g->locks[i] = g->locks[--g->nlocks];
}

int gl_lock_set(edist_gl *g, const edist_term *t, const edist_term *pid)
{
    if (pid->type != EDIST_TERM_PID ||
        pid->v.pid.node.len > EDIST_NODE_NAME_MAX)
        return EDIST_EBADMSG;
    gl_lock_id id;
    int rc = gl_lock_id_parse(g, t, &id);
    if (rc < 0)
        return rc;
    uint8_t *pe = NULL;
    size_t pl = 0;
    gl_lock *l = gl_lock_find(g, &id);
    if (l && !gl_lock_same_req(l, &id)) {
        rc = 0;
        goto out;
    }
    if ((rc = gl_encode(g, pid, &pe, &pl)) < 0)
        goto out;
    for (size_t k = 0; l && k < l->nh; k++)
        if (l->h[k].pid_len == pl && memcmp(l->h[k].pid, pe, pl) == 0) {
            rc = 1; /* already holding it */
            goto out;
        }
    /* Refused when full: a full table looks like a busy lock. */
    size_t need = pl + (l ? 0 : id.res_len + id.req_len);
    if ((!l && g->nlocks >= EDIST_GL_MAX_LOCKS) ||
        g->nholders >= EDIST_GL_MAX_HOLDERS ||
        need > EDIST_GL_MAX_BYTES - g->table_bytes) {
        rc = 0;
        goto out;
    }
    if (!l) {
        if (g->nlocks == g->locks_cap) {
            size_t ncap = g->locks_cap ? 2 * g->locks_cap : 8;
            gl_lock *nl =
                edist_mem_realloc(g->alloc, g->locks, ncap * sizeof *nl);
            if (!nl) {
                rc = EDIST_ENOMEM;
                goto out;
            }
            g->locks = nl;
            g->locks_cap = ncap;
        }
        l = &g->locks[g->nlocks++];
        memset(l, 0, sizeof *l);
        l->res = id.res;
        l->res_len = id.res_len;
        l->req = id.req;
        l->req_len = id.req_len;
        id.res = id.req = NULL;
        g->table_bytes += l->res_len + l->req_len;
    }
    if (l->nh == l->hcap) {
        size_t ncap = l->hcap ? 2 * l->hcap : 2;
        gl_holder *nh = edist_mem_realloc(g->alloc, l->h, ncap * sizeof *nh);
        if (!nh) {
            rc = EDIST_ENOMEM;
            if (l->nh == 0)
                gl_lock_drop(g, (size_t)(l - g->locks));
            goto out;
        }
        l->h = nh;
        l->hcap = ncap;
    }
    gl_holder *h = &l->h[l->nh++];
    h->pid = pe;
    h->pid_len = pl;
    memcpy(h->node, pid->v.pid.node.name, pid->v.pid.node.len);
    h->node_len = pid->v.pid.node.len;
    g->nholders++;
    g->table_bytes += pl;
    pe = NULL;
    rc = 1;
out:
    edist_mem_free(g->alloc, pe);
    gl_lock_id_free(g, &id);
    return rc;
}

/* Removes holder k of lock i; the lock goes with its last holder. */
static void gl_holder_drop(edist_gl *g, size_t i, size_t k)
{
    gl_lock *l = &g->locks[i];
    g->table_bytes -= l->h[k].pid_len;
    g->nholders--;
    edist_mem_free(g->alloc, l->h[k].pid);
    l->h[k] = l->h[--l->nh];
    if (l->nh == 0)
        gl_lock_drop(g, i);
}

int gl_lock_del(edist_gl *g, const edist_term *t, const edist_term *pid)
{
    gl_lock_id id;
    int rc = gl_lock_id_parse(g, t, &id);
    if (rc < 0)
        return rc;
    uint8_t *pe = NULL;
    size_t pl;
    gl_lock *l = gl_lock_find(g, &id);
    if (l && gl_lock_same_req(l, &id) && gl_encode(g, pid, &pe, &pl) == 0) {
        for (size_t k = 0; k < l->nh; k++)
            if (l->h[k].pid_len == pl && memcmp(l->h[k].pid, pe, pl) == 0) {
                gl_holder_drop(g, (size_t)(l - g->locks), k);
                break;
            }
    }
    edist_mem_free(g->alloc, pe);
    gl_lock_id_free(g, &id);
    return 0;
}

void gl_node_resources_down(edist_gl *g, const char *node, size_t len)
{
    /* The DOWN of BEAM's monitors: names and locks of that node's pids. */
    for (size_t i = 0; i < g->names.cap; i++) {
        gl_name *n = g->names.slots[i].value;
        if (!g->names.slots[i].key || !n)
            continue;
        if (n->node_len == len && memcmp(n->node, node, len) == 0) {
            edist_hmap_del(&g->names, n->key, n->key_len);
            gl_name_forget(g, n);
        }
    }
    for (size_t i = g->nlocks; i-- > 0;) {
        gl_lock *l = &g->locks[i];
        for (size_t k = l->nh; k-- > 0;) {
            if (l->h[k].node_len == len &&
                memcmp(l->h[k].node, node, len) == 0) {
                size_t before = g->nlocks;
                gl_holder_drop(g, i, k);
                if (g->nlocks != before)
                    break; /* the lock went with its last holder */
            }
        }
    }
}

void gl_locks_free(edist_gl *g)
{
    while (g->nlocks)
        gl_lock_drop(g, g->nlocks - 1);
    edist_mem_free(g->alloc, g->locks);
    g->locks = NULL;
    g->locks_cap = 0;
}

size_t edist_gl_locks_count(const edist_gl *g)
{
    return g->nlocks;
}

size_t edist_gl_names_count(const edist_gl *g)
{
    return g->names.count;
}

size_t edist_gl_holders_count(const edist_gl *g)
{
    return g->nholders;
}

size_t edist_gl_table_bytes(const edist_gl *g)
{
    return g->table_bytes;
}

/* ----------------------------------------------------- lost connections */

int gl_lost_note(edist_gl *g, const edist_atom *a, const edist_atom *b,
                 int64_t xcre, int64_t op)
{
    char key[2 * EDIST_NODE_NAME_MAX + 2];
    if (a->len > EDIST_NODE_NAME_MAX || b->len > EDIST_NODE_NAME_MAX)
        return 0;
    memcpy(key, a->name, a->len);
    key[a->len] = '\0';
    memcpy(key + a->len + 1, b->name, b->len);
    size_t klen = a->len + 1 + b->len;
    gl_lost *l = edist_hmap_get(&g->lost, key, klen);
    if (l && l->xcre == xcre && op <= l->op)
        return 0;
    if (!l) {
        /* BEAM forgets a record after an hour; we forget them all when
         * the table is full: a forgotten record only means a repeated
         * report is acted on once more, which is harmless. */
        if (g->lost.count >= EDIST_GL_MAX_LOST)
            gl_lost_free(g);
        l = edist_mem_alloc(g->alloc, sizeof *l);
        if (!l)
            return 1;
        if (edist_hmap_put(&g->lost, key, klen, l) < 0) {
            edist_mem_free(g->alloc, l);
            return 1;
        }
    }
    l->xcre = xcre;
    l->op = op;
    return 1;
}

void gl_lost_free(edist_gl *g)
{
    for (size_t i = 0; i < g->lost.cap; i++)
        if (g->lost.slots[i].key && g->lost.slots[i].value)
            edist_mem_free(g->alloc, g->lost.slots[i].value);
    edist_hmap_free(&g->lost);
    edist_hmap_init(&g->lost, g->alloc);
}

size_t edist_gl_lost_count(const edist_gl *g)
{
    return g->lost.count;
}
