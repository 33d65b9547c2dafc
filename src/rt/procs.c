/* procs.c: the process table (see procs.h). */
#include <string.h>

#include "core/mem.h"
#include "core/wire.h"
#include "edist/err.h"
#include "rt/procs.h"

#define PROCS_DEFAULT_LIMIT (1u << 20)

int edist_procs_init(edist_procs *t, size_t limit, const edist_allocator *alloc)
{
    if (pthread_mutex_init(&t->mu, NULL) != 0)
        return EDIST_ESYS;
    t->alloc = edist_mem_resolve(alloc);
    edist_hmap_init(&t->by_id, t->alloc);
    edist_hmap_init(&t->by_name, t->alloc);
    /* Id 0 is left out so that a zeroed pid never names a process. */
    t->next = 1;
    t->count = 0;
    t->limit = limit ? limit : PROCS_DEFAULT_LIMIT;
    return 0;
}

void edist_procs_destroy(edist_procs *t)
{
    edist_hmap_free(&t->by_id);
    edist_hmap_free(&t->by_name);
    pthread_mutex_destroy(&t->mu);
}

static void procs_key(uint8_t key[8], uint32_t id, uint32_t serial)
{
    edist_put32(key, id);
    edist_put32(key + 4, serial);
}

int edist_procs_add(edist_procs *t, edist_proc *p)
{
    uint8_t key[8];
    int rc;
    pthread_mutex_lock(&t->mu);
    if (t->count >= t->limit) {
        pthread_mutex_unlock(&t->mu);
        return EDIST_ETOOBIG;
    }
    /* Pids are never reused while the node lives: (id, serial) counts up
     * through 2^64 values, so a stale pid held by a peer can never reach a
     * newer mailbox. */
    p->id = (uint32_t)t->next;
    p->serial = (uint32_t)(t->next >> 32);
    t->next++;
    if ((uint32_t)t->next == 0)
        t->next++;
    procs_key(key, p->id, p->serial);
    atomic_init(&p->refs, 1);
    p->name = NULL;
    p->name_len = 0;
    rc = edist_hmap_put(&t->by_id, key, sizeof key, p);
    if (rc == 0)
        t->count++;
    pthread_mutex_unlock(&t->mu);
    return rc;
}

int edist_procs_register(edist_procs *t, edist_proc *p, const char *name,
                         size_t len)
{
    if (len == 0 || len > 255)
        return EDIST_EINVAL;
    char *copy = edist_mem_alloc(t->alloc, len + 1);
    if (!copy)
        return EDIST_ENOMEM;
    memcpy(copy, name, len);
    copy[len] = '\0';
    pthread_mutex_lock(&t->mu);
    int rc = p->name ? EDIST_EEXIST : edist_hmap_put(&t->by_name, name, len, p);
    if (rc == 0) {
        p->name = copy;
        p->name_len = len;
    }
    pthread_mutex_unlock(&t->mu);
    if (rc < 0)
        edist_mem_free(t->alloc, copy);
    return rc;
}

/* Called with t->mu held. */
static int procs_unregister_locked(edist_procs *t, edist_proc *p)
{
    if (!p->name)
        return EDIST_ENOTFOUND;
    edist_hmap_del(&t->by_name, p->name, p->name_len);
    edist_mem_free(t->alloc, p->name);
    p->name = NULL;
    p->name_len = 0;
    return 0;
}

int edist_procs_unregister(edist_procs *t, edist_proc *p)
{
    pthread_mutex_lock(&t->mu);
    int rc = procs_unregister_locked(t, p);
    pthread_mutex_unlock(&t->mu);
    return rc;
}

void edist_procs_remove(edist_procs *t, edist_proc *p)
{
    uint8_t key[8];
    procs_key(key, p->id, p->serial);
    pthread_mutex_lock(&t->mu);
    procs_unregister_locked(t, p);
    int present = edist_hmap_del(&t->by_id, key, sizeof key) != NULL;
    if (present)
        t->count--;
    pthread_mutex_unlock(&t->mu);
    if (present)
        edist_procs_put(p);
}

edist_proc *edist_procs_by_pid(edist_procs *t, uint32_t id, uint32_t serial)
{
    uint8_t key[8];
    procs_key(key, id, serial);
    pthread_mutex_lock(&t->mu);
    edist_proc *p = edist_hmap_get(&t->by_id, key, sizeof key);
    if (p)
        edist_procs_get(p);
    pthread_mutex_unlock(&t->mu);
    return p;
}

edist_proc *edist_procs_by_name(edist_procs *t, const char *name, size_t len)
{
    pthread_mutex_lock(&t->mu);
    edist_proc *p = edist_hmap_get(&t->by_name, name, len);
    if (p)
        edist_procs_get(p);
    pthread_mutex_unlock(&t->mu);
    return p;
}

void edist_procs_get(edist_proc *p)
{
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

void edist_procs_put(edist_proc *p)
{
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1 &&
        p->release)
        p->release(p);
}
