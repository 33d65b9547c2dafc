/* outq.c: the chunked out-queue (see outq.h). */
#include <string.h>

#include "core/mem.h"
#include "edist/err.h"
#include "rt/outq.h"

void edist_outq_init(edist_outq *q, size_t limit, const edist_allocator *a)
{
    q->head = q->tail = q->spare = NULL;
    q->nspare = 0;
    q->bytes = 0;
    q->grown = 0;
    q->limit = limit ? limit : SIZE_MAX;
    q->alloc = a;
}

static void outq_free_chain(edist_outq *q, edist_outq_chunk *c)
{
    while (c) {
        edist_outq_chunk *next = c->next;
        edist_mem_free(q->alloc, c);
        c = next;
    }
}

void edist_outq_free(edist_outq *q)
{
    outq_free_chain(q, q->head);
    outq_free_chain(q, q->spare);
    q->head = q->tail = q->spare = NULL;
    q->nspare = 0;
    q->bytes = 0;
}

/* A written chunk: keep a few for the next burst, so a steady stream does
 * not call malloc (and fault in fresh pages) per chunk. */
static void outq_recycle(edist_outq *q, edist_outq_chunk *c)
{
    /* A grown queue keeps its spare slots for full chunks. */
    int small = c->cap < EDIST_OUTQ_CHUNK;
    if (q->nspare < EDIST_OUTQ_SPARES && c->cap <= EDIST_OUTQ_SPARE_MAX &&
        !(small && q->grown)) {
        c->next = q->spare;
        q->spare = c;
        q->nspare++;
        return;
    }
    edist_mem_free(q->alloc, c);
}

/* A spare chunk with room for n bytes, unlinked, or NULL. */
static edist_outq_chunk *outq_take_spare(edist_outq *q, size_t n)
{
    for (edist_outq_chunk **pp = &q->spare; *pp; pp = &(*pp)->next) {
        if ((*pp)->cap >= n) {
            edist_outq_chunk *c = *pp;
            *pp = c->next;
            q->nspare--;
            return c;
        }
    }
    return NULL;
}

uint8_t *edist_outq_reserve(edist_outq *q, size_t n, int *err)
{
    if (n > q->limit) {
        *err = EDIST_ETOOBIG;
        return NULL;
    }
    if (n > q->limit - q->bytes) {
        *err = EDIST_EQUEUEFULL;
        return NULL;
    }
    edist_outq_chunk *t = q->tail;
    if (t && t->cap - t->len >= n)
        return t->data + t->len;
    edist_outq_chunk *c = outq_take_spare(q, n);
    if (!c) {
        size_t cap = EDIST_OUTQ_CHUNK;
        if (!q->grown && !t && n <= EDIST_OUTQ_FIRST)
            cap = EDIST_OUTQ_FIRST; /* a quiet queue: one page */
        else
            q->grown = 1;
        if (n > cap) /* round up: the chunk can be reused for its kin */
            cap = n <= SIZE_MAX - EDIST_OUTQ_CHUNK
                      ? (n + EDIST_OUTQ_CHUNK - 1) / EDIST_OUTQ_CHUNK *
                            EDIST_OUTQ_CHUNK
                      : n;
        if (cap > SIZE_MAX - sizeof *c) {
            *err = EDIST_ETOOBIG;
            return NULL;
        }
        c = edist_mem_alloc(q->alloc, sizeof *c + cap);
        if (!c) {
            *err = EDIST_ENOMEM;
            return NULL;
        }
        c->cap = cap;
    }
    c->next = NULL;
    c->off = c->len = 0;
    if (t)
        t->next = c;
    else
        q->head = c;
    q->tail = c;
    return c->data;
}

void edist_outq_commit(edist_outq *q, size_t n)
{
    q->tail->len += n;
    q->bytes += n;
}

int edist_outq_empty(const edist_outq *q)
{
    return q->head == NULL;
}

edist_outq_chunk *edist_outq_take(edist_outq *q)
{
    edist_outq_chunk *c = q->head;
    q->head = q->tail = NULL;
    return c;
}

int edist_outq_iov(edist_outq_chunk *c, struct iovec *iov, int max)
{
    int k = 0;
    for (; c && k < max; c = c->next) {
        if (c->len == c->off)
            continue;
        iov[k].iov_base = c->data + c->off;
        iov[k].iov_len = c->len - c->off;
        k++;
    }
    return k;
}

int edist_outq_done(edist_outq *q, edist_outq_chunk *c, size_t written)
{
    q->bytes -= written;
    while (c) {
        size_t left = c->len - c->off;
        if (written < left) {
            c->off += written;
            break;
        }
        written -= left;
        edist_outq_chunk *next = c->next;
        outq_recycle(q, c);
        c = next;
    }
    if (!c)
        return 0;
    /* Put the rest back in front of what was appended meanwhile. */
    edist_outq_chunk *last = c;
    while (last->next)
        last = last->next;
    last->next = q->head;
    if (!q->head)
        q->tail = last;
    q->head = c;
    return 1;
}

int edist_outq_push_front(edist_outq *q, const struct iovec *iov, int k,
                          size_t skip)
{
    size_t n = 0;
    for (int i = 0; i < k; i++)
        n += iov[i].iov_len;
    if (skip >= n)
        return 0;
    n -= skip;
    edist_outq_chunk *c = outq_take_spare(q, n);
    if (!c) {
        if (n > SIZE_MAX - sizeof *c)
            return EDIST_ENOMEM;
        c = edist_mem_alloc(q->alloc, sizeof *c + n);
        if (!c)
            return EDIST_ENOMEM;
        c->cap = n;
    }
    c->off = 0;
    c->len = 0;
    for (int i = 0; i < k; i++) {
        size_t len = iov[i].iov_len;
        const uint8_t *b = iov[i].iov_base;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        memcpy(c->data + c->len, b + skip, len - skip);
        c->len += len - skip;
        skip = 0;
    }
    c->next = q->head;
    if (!q->head)
        q->tail = c;
    q->head = c;
    q->bytes += n;
    return 0;
}

void edist_outq_clear(edist_outq *q)
{
    outq_free_chain(q, q->head);
    q->head = q->tail = NULL;
    q->bytes = 0;
}
