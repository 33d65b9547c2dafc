/*
 * msgpool.h: storage for received messages, with a small cache of large
 * blocks.
 *
 * A node receiving a stream of large messages (64 KiB binaries, say)
 * allocates a block per message on the thread that reads the socket and
 * the program frees it on another.  With the C library's allocator each
 * free of such a block let the reading thread's heap shrink past its trim
 * threshold (128 KiB), so the heap gave the pages back (madvise, a TLB
 * shoot-down on every CPU running the process) and the next message took
 * a page fault and a page clear for every 4 KiB it was copied into.
 * Measured BEAM -> edist with 64 KiB binaries: a fifth of the receiving
 * process's time went to those faults.  The pool keeps a few freed blocks
 * (capped in count and bytes) for the next messages, and gives them back
 * when no large message came for a whole tick interval, so an idle node
 * keeps nothing.
 *
 * Small messages go straight to the node's allocator: the C library
 * handles them without returning pages.
 *
 * Thread safety: every function may be called from any thread.  A block
 * taken from the pool keeps the pool alive (a reference), so messages may
 * be freed after their node stopped.
 */
#ifndef EDIST_RT_MSGPOOL_H
#define EDIST_RT_MSGPOOL_H

#include <stddef.h>

#include "edist/mem.h"
#include "rt/mqueue.h"

/* Messages whose block (header included) is at least this big come from
 * the pool; smaller ones from the base allocator. */
#define MSGPOOL_MIN_BLOCK (16u * 1024u)
/* The largest block kept for reuse: above the C library's initial mmap
 * threshold (128 KiB), whose own adaptive threshold handles larger ones. */
#define MSGPOOL_MAX_BLOCK (256u * 1024u)
/* Caps on what the cache holds. */
#define MSGPOOL_MAX_BLOCKS 8u
#define MSGPOOL_MAX_BYTES  (1024u * 1024u)

typedef struct msgpool msgpool;

/* Creates a pool over base (not NULL; must outlive every message of the
 * pool).  Returns the pool, or NULL when memory is exhausted. */
msgpool *msgpool_new(const edist_allocator *base);

/* Allocates a message with room for len bytes (filled by the caller) and
 * its next, alloc and len fields set.  edist_msg_free() (or freeing it
 * through m->alloc) returns it.  Returns NULL when memory is exhausted. */
edist_msg *msgpool_msg(msgpool *p, size_t len);

/* Frees the cached blocks unless a message came from the cache or was
 * allocated since the previous call; called once per tick interval. */
void msgpool_trim(msgpool *p);

/* Frees the cached blocks and drops the creator's reference: the pool is
 * freed when the last message taken from it is freed.  p may be NULL. */
void msgpool_close(msgpool *p);

#endif
