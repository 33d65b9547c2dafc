/*
 * buf.h: a growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * Every growable thing in edist has a cap: a peer that sends or asks for
 * more than the cap gets EDIST_ETOOBIG, never unbounded memory.  The buffer
 * owns its storage; edist_buf_free() releases it.  Not thread-safe: one
 * owner at a time.
 */
#ifndef EDIST_CORE_BUF_H
#define EDIST_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "edist/mem.h"

typedef struct edist_buf {
    uint8_t *data;
    size_t len;
    size_t cap;   /* allocated bytes */
    size_t limit; /* hard cap on len; 0 means SIZE_MAX */
    const edist_allocator *alloc;
} edist_buf;

/* Initialises an empty buffer; alloc may be NULL (default allocator). */
void edist_buf_init(edist_buf *b, size_t limit, const edist_allocator *alloc);

/* Releases the storage and leaves an empty buffer that can be reused. */
void edist_buf_free(edist_buf *b);

/* Makes room for n more bytes.  Returns 0, EDIST_ETOOBIG when len + n would
 * pass the limit, or EDIST_ENOMEM.  On failure the buffer is unchanged. */
int edist_buf_reserve(edist_buf *b, size_t n);

/* Appends n bytes (p may be NULL only when n is 0).  Same returns as
 * edist_buf_reserve; on failure nothing is appended. */
int edist_buf_append(edist_buf *b, const void *p, size_t n);

/* Appends one byte / a big-endian integer.  Same returns. */
int edist_buf_put8(edist_buf *b, uint8_t v);
int edist_buf_put16(edist_buf *b, uint16_t v);
int edist_buf_put32(edist_buf *b, uint32_t v);
int edist_buf_put64(edist_buf *b, uint64_t v);

/* Removes the first n bytes (n <= len), keeping the rest in order. */
void edist_buf_consume(edist_buf *b, size_t n);

/* Sets len to 0 and keeps the storage. */
static inline void edist_buf_reset(edist_buf *b)
{
    b->len = 0;
}

#endif
