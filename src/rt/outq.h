/*
 * outq.h: a connection's out-queue of framed bytes, built for one writer
 * and many appenders.
 *
 * The queue is a chain of chunks.  Appenders copy whole frames into the
 * tail chunk (a short critical section under the owner's lock); the
 * writer detaches the whole chain under the lock, writes it with writev()
 * WITHOUT the lock, then gives back what the socket did not take.  So
 * encoding threads never wait for a write() in progress, the writer sends
 * many frames per system call, and bytes are never moved once queued
 * (a single growable buffer consumed from the front memmoves its rest on
 * every partial write).
 *
 * Threading: no internal lock.  The owner (edist_peer) guards every call
 * with its mutex; the chain returned by edist_outq_take() belongs to the
 * caller until edist_outq_done().
 */
#ifndef EDIST_RT_OUTQ_H
#define EDIST_RT_OUTQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "edist/mem.h"

/* Default chunk payload: frames up to this size share chunks.  Bigger
 * frames get a chunk rounded up to a multiple of this size. */
#define EDIST_OUTQ_CHUNK (64u * 1024u)
/* A queue's chunks are this small (one page with the chunk and malloc
 * headers) until a burst needs more: most connections of a mesh only ever
 * carry a few small messages and ticks, and the 64 KiB chunk each kept as
 * a spare made its written pages, and malloc's header of the next chunk,
 * resident (mesh of 20: ~50 KiB less per node).  Once a queue has needed
 * more it uses full chunks. */
#define EDIST_OUTQ_FIRST (4u * 1024u - 64u)
/* Written chunks kept for reuse (at most this many, each at most
 * EDIST_OUTQ_SPARE_MAX bytes): a stream of big messages would otherwise
 * get fresh pages from the kernel, and fault them in, for every one. */
#define EDIST_OUTQ_SPARES    4
#define EDIST_OUTQ_SPARE_MAX (256u * 1024u)

typedef struct edist_outq_chunk edist_outq_chunk;
struct edist_outq_chunk {
    edist_outq_chunk *next;
    size_t off; /* bytes already written */
    size_t len; /* bytes filled */
    size_t cap;
    uint8_t data[];
};

typedef struct edist_outq {
    edist_outq_chunk *head, *tail; /* queued, not being written */
    edist_outq_chunk *spare;       /* recycled chunks, linked by next */
    size_t nspare;
    size_t bytes; /* queued + held by the writer */
    size_t limit; /* cap on bytes */
    int grown;    /* a burst has needed more than EDIST_OUTQ_FIRST */
    const edist_allocator *alloc;
} edist_outq;

/* Initialises q with a byte cap (0: no cap) and a resolved allocator
 * (borrowed). */
void edist_outq_init(edist_outq *q, size_t limit, const edist_allocator *a);

/* Frees every chunk, queued or spare.  The writer must not hold a chain. */
void edist_outq_free(edist_outq *q);

/* Reserves n contiguous bytes at the tail and returns where to write them;
 * edist_outq_commit(q, n) makes them part of the queue.  Returns NULL and
 * stores EDIST_EQUEUEFULL (over the cap: retry after the writer made
 * room), EDIST_ETOOBIG (n alone is over the cap) or EDIST_ENOMEM in *err. */
uint8_t *edist_outq_reserve(edist_outq *q, size_t n, int *err);
void edist_outq_commit(edist_outq *q, size_t n);

/* Nonzero when nothing is queued (a chain held by a writer not counted). */
int edist_outq_empty(const edist_outq *q);

/* Detaches every queued chunk for the writer (NULL when empty).  The
 * bytes stay counted against the cap until edist_outq_done(). */
edist_outq_chunk *edist_outq_take(edist_outq *q);

/* Fills iov[0..max) from chain (unwritten parts); returns the count. */
int edist_outq_iov(edist_outq_chunk *chain, struct iovec *iov, int max);

/* The writer wrote `written` bytes of chain: frees (or recycles) the
 * chunks done, uncounts the bytes and puts whatever is left back at the
 * head of the queue, before anything appended meanwhile.  Returns nonzero
 * when bytes remain queued from the chain. */
int edist_outq_done(edist_outq *q, edist_outq_chunk *chain, size_t written);

/* Queues, in FRONT of everything queued, the bytes of iov[0..k) after
 * the first `skip`: the rest of a frame a sender wrote partly to the
 * socket itself (peer.c's gather path), which must leave before any
 * frame queued meanwhile.  The bytes are copied (iov is BORROWED for the
 * call) into one chunk, which the cap does not refuse: half a frame on
 * the wire cannot be taken back.  Returns 0 or EDIST_ENOMEM. */
int edist_outq_push_front(edist_outq *q, const struct iovec *iov, int k,
                          size_t skip);

/* Drops everything queued (the connection is gone). */
void edist_outq_clear(edist_outq *q);

#endif
