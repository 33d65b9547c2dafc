/* buf.c: growable, capped byte buffers. */
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/wire.h"
#include "edist/err.h"

void edist_buf_init(edist_buf *b, size_t limit, const edist_allocator *alloc)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit ? limit : SIZE_MAX;
    b->alloc = edist_mem_resolve(alloc);
}

void edist_buf_free(edist_buf *b)
{
    edist_mem_free(b->alloc, b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

int edist_buf_reserve(edist_buf *b, size_t n)
{
    if (n > b->limit - b->len)
        return EDIST_ETOOBIG;
    size_t need = b->len + n;
    if (need <= b->cap)
        return 0;
    /* Grow geometrically so appends are amortised O(1), but never past the
     * limit: the limit is a promise about memory, not only about length. */
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (ncap > b->limit)
        ncap = b->limit;
    uint8_t *p = edist_mem_realloc(b->alloc, b->data, ncap);
    if (!p)
        return EDIST_ENOMEM;
    b->data = p;
    b->cap = ncap;
    return 0;
}

int edist_buf_append(edist_buf *b, const void *p, size_t n)
{
    int rc = edist_buf_reserve(b, n);
    if (rc < 0)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int edist_buf_put8(edist_buf *b, uint8_t v)
{
    return edist_buf_append(b, &v, 1);
}

int edist_buf_put16(edist_buf *b, uint16_t v)
{
    uint8_t t[2];
    edist_put16(t, v);
    return edist_buf_append(b, t, 2);
}

int edist_buf_put32(edist_buf *b, uint32_t v)
{
    uint8_t t[4];
    edist_put32(t, v);
    return edist_buf_append(b, t, 4);
}

int edist_buf_put64(edist_buf *b, uint64_t v)
{
    uint8_t t[8];
    edist_put64(t, v);
    return edist_buf_append(b, t, 8);
}

void edist_buf_consume(edist_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}
