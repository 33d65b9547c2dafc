/* msgpool.c: storage for received messages (see msgpool.h). */
#include "rt/msgpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "core/mem.h"

/* Under AddressSanitizer a cached block is poisoned, so that a program
 * touching a large message after freeing it is still caught although the
 * block is not freed. */
#if defined(__SANITIZE_ADDRESS__)
#define MSGPOOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MSGPOOL_ASAN 1
#endif
#endif
#ifdef MSGPOOL_ASAN
#include <sanitizer/asan_interface.h>
#define POOL_POISON(h)                                                         \
    ASAN_POISON_MEMORY_REGION((h) + 1, (h)->cap - sizeof *(h))
#define POOL_UNPOISON(h)                                                       \
    ASAN_UNPOISON_MEMORY_REGION((h) + 1, (h)->cap - sizeof *(h))
#else
#define POOL_POISON(h)   ((void)(h))
#define POOL_UNPOISON(h) ((void)(h))
#endif

/* Sits in front of every pooled block: the block's size, so that a free
 * (which gets only the pointer) can file it for reuse. */
typedef union blk_hdr {
    size_t cap;
    max_align_t align;
} blk_hdr;

struct msgpool {
    /* Set as the alloc of every pooled message; ud is the pool.  First,
     * so that the interface's address is the pool's. */
    edist_allocator iface;
    const edist_allocator *base;
    pthread_mutex_t mu;
    /* The creator's reference plus one per block handed out. */
    atomic_size_t refs;
    /* Under mu. */
    int closed;
    int used; /* a pooled block was handed out since the last trim */
    size_t nfree;
    size_t free_bytes;
    blk_hdr *free[MSGPOOL_MAX_BLOCKS];
};

/* A page multiple, so that consecutive sizes share a block size. */
static size_t pool_round(size_t n)
{
    return (n + 4095u) & ~(size_t)4095u;
}

static void pool_unref(msgpool *p)
{
    if (atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&p->mu);
    edist_mem_free(p->base, p);
}

/* The cached block that fits total with at most a quarter to spare, taken
 * out of the cache, or NULL.  mu held. */
static blk_hdr *pool_take(msgpool *p, size_t total)
{
    size_t best = SIZE_MAX, at = 0;
    for (size_t i = 0; i < p->nfree; i++) {
        size_t cap = p->free[i]->cap;
        if (cap >= total && cap - total <= total / 4 && cap < best) {
            best = cap;
            at = i;
        }
    }
    if (best == SIZE_MAX)
        return NULL;
    blk_hdr *h = p->free[at];
    p->free[at] = p->free[--p->nfree];
    p->free_bytes -= h->cap;
    POOL_UNPOISON(h);
    return h;
}

static void *pool_malloc(size_t size, void *ud)
{
    msgpool *p = ud;
    if (size > SIZE_MAX - sizeof(blk_hdr) - 4095u)
        return NULL;
    size_t total = pool_round(sizeof(blk_hdr) + size);
    pthread_mutex_lock(&p->mu);
    p->used = 1;
    blk_hdr *h = pool_take(p, total);
    pthread_mutex_unlock(&p->mu);
    if (!h) {
        h = edist_mem_alloc(p->base, total);
        if (!h)
            return NULL;
        h->cap = total;
    }
    atomic_fetch_add(&p->refs, 1);
    return h + 1;
}

static void pool_free(void *ptr, void *ud)
{
    msgpool *p = ud;
    if (!ptr)
        return;
    blk_hdr *h = (blk_hdr *)ptr - 1;
    int kept = 0;
    pthread_mutex_lock(&p->mu);
    if (!p->closed && h->cap >= MSGPOOL_MIN_BLOCK &&
        h->cap <= MSGPOOL_MAX_BLOCK && p->nfree < MSGPOOL_MAX_BLOCKS &&
        p->free_bytes + h->cap <= MSGPOOL_MAX_BYTES) {
        p->free[p->nfree++] = h;
        p->free_bytes += h->cap;
        POOL_POISON(h);
        kept = 1;
    }
    pthread_mutex_unlock(&p->mu);
    if (!kept)
        edist_mem_free(p->base, h);
    pool_unref(p);
}

/* Messages are never resized; this completes the allocator interface
 * (mem.h asks for all three functions) with the same block accounting. */
static void *pool_realloc(void *ptr, size_t size, void *ud)
{
    msgpool *p = ud;
    if (!ptr)
        return pool_malloc(size, ud);
    blk_hdr *h = (blk_hdr *)ptr - 1;
    if (size <= h->cap - sizeof(blk_hdr))
        return ptr;
    void *q = pool_malloc(size, ud);
    if (!q)
        return NULL;
    memcpy(q, ptr, h->cap - sizeof(blk_hdr));
    pool_free(ptr, p);
    return q;
}

msgpool *msgpool_new(const edist_allocator *base)
{
    msgpool *p = edist_mem_alloc(base, sizeof *p);
    if (!p)
        return NULL;
    memset(p, 0, sizeof *p);
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        edist_mem_free(base, p);
        return NULL;
    }
    p->iface.malloc = pool_malloc;
    p->iface.realloc = pool_realloc;
    p->iface.free = pool_free;
    p->iface.ud = p;
    p->base = base;
    atomic_init(&p->refs, 1);
    return p;
}

edist_msg *msgpool_msg(msgpool *p, size_t len)
{
    if (len > SIZE_MAX - sizeof(edist_msg) - sizeof(blk_hdr))
        return NULL;
    int small = sizeof(blk_hdr) + sizeof(edist_msg) + len < MSGPOOL_MIN_BLOCK;
    /* The pool's interface is a complete allocator: the message records
     * it, and its free comes back here. */
    return edist_msg_alloc(small ? p->base : &p->iface, len);
}

/* Frees the cached blocks; mu held.  The blocks go to the base allocator
 * outside the lock by the caller: returns them in out (capacity
 * MSGPOOL_MAX_BLOCKS) and their number. */
static size_t pool_drain(msgpool *p, blk_hdr **out)
{
    size_t k = p->nfree;
    memcpy(out, p->free, k * sizeof *out);
    for (size_t i = 0; i < k; i++)
        POOL_UNPOISON(out[i]);
    p->nfree = 0;
    p->free_bytes = 0;
    return k;
}

void msgpool_trim(msgpool *p)
{
    blk_hdr *out[MSGPOOL_MAX_BLOCKS];
    size_t k = 0;
    pthread_mutex_lock(&p->mu);
    if (!p->used)
        k = pool_drain(p, out);
    p->used = 0;
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < k; i++)
        edist_mem_free(p->base, out[i]);
}

void msgpool_close(msgpool *p)
{
    if (!p)
        return;
    blk_hdr *out[MSGPOOL_MAX_BLOCKS];
    pthread_mutex_lock(&p->mu);
    p->closed = 1;
    size_t k = pool_drain(p, out);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < k; i++)
        edist_mem_free(p->base, out[i]);
    pool_unref(p);
}
