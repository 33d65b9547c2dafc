/*
 * dist_tx.c: the send side of a connected distribution channel: frames
 * messages as pass-through or with a distribution header (no atom cache
 * refs), splits big payloads into fragments, and queues ticks.  Layouts are
 * drawn atop dist_frame.c.
 */
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/wire.h"
#include "edist/dist.h"
#include "edist/err.h"
#include "edist/proto.h"

struct edist_dist_tx {
    const edist_allocator *alloc;
    int header_mode;
    int fragments;
    size_t frag_size;
    uint64_t next_seq;
    edist_buf out;
};

int edist_dist_tx_new(edist_dist_tx **out, const edist_dist_tx_options *o)
{
    if (!out || !o)
        return EDIST_EINVAL;
    const edist_allocator *a = edist_mem_resolve(o->alloc);
    edist_dist_tx *tx = edist_mem_alloc(a, sizeof *tx);
    if (!tx)
        return EDIST_ENOMEM;
    memset(tx, 0, sizeof *tx);
    tx->alloc = a;
    tx->header_mode = (o->flags & (EDIST_DFLAG_DIST_HDR_ATOM_CACHE |
                                   EDIST_DFLAG_FRAGMENTS)) != 0;
    tx->fragments = (o->flags & EDIST_DFLAG_FRAGMENTS) != 0;
    tx->frag_size =
        o->fragment_size ? o->fragment_size : EDIST_DIST_FRAGMENT_SIZE_DEFAULT;
    tx->next_seq = 1;
    edist_buf_init(
        &tx->out,
        o->max_pending ? o->max_pending : EDIST_DIST_MAX_PENDING_DEFAULT, a);
    *out = tx;
    return 0;
}

void edist_dist_tx_free(edist_dist_tx *tx)
{
    if (!tx)
        return;
    edist_buf_free(&tx->out);
    edist_mem_free(tx->alloc, tx);
}

static int tx_reserve(edist_dist_tx *tx, size_t n)
{
    int rc = edist_buf_reserve(&tx->out, n);
    return rc == EDIST_ETOOBIG ? EDIST_EQUEUEFULL : rc;
}

/* Appends without checks: the caller reserved the room. */
static void tx_put(edist_dist_tx *tx, const void *p, size_t n)
{
    if (n) {
        memcpy(tx->out.data + tx->out.len, p, n);
        tx->out.len += n;
    }
}

static void tx_put32(edist_dist_tx *tx, uint32_t v)
{
    edist_put32(tx->out.data + tx->out.len, v);
    tx->out.len += 4;
}

static int tx_fragmented(edist_dist_tx *tx, const uint8_t *ctl, size_t ctl_len,
                         const uint8_t *payload, size_t payload_len,
                         uint64_t seq)
{
    size_t fs = tx->frag_size;
    size_t nfrag = payload_len / fs + (payload_len % fs != 0);
    /* First: 131 69 Seq Frag N=0 ctl chunk; others: 131 70 Seq Frag chunk */
    size_t first = payload_len < fs ? payload_len : fs;
    if (19 + ctl_len + first > UINT32_MAX)
        return EDIST_ETOOBIG;
    size_t total = 4 + 19 + ctl_len + payload_len + (nfrag - 1) * (4 + 18);
    int rc = tx_reserve(tx, total);
    if (rc < 0)
        return rc;
    uint8_t h[19];
    h[0] = 131;
    h[1] = 69;
    edist_put64(h + 2, seq);
    edist_put64(h + 10, nfrag);
    h[18] = 0;
    tx_put32(tx, (uint32_t)(19 + ctl_len + first));
    tx_put(tx, h, 19);
    tx_put(tx, ctl, ctl_len);
    tx_put(tx, payload, first);
    size_t off = first;
    for (uint64_t frag = nfrag - 1; frag >= 1; frag--) {
        size_t chunk = payload_len - off < fs ? payload_len - off : fs;
        h[1] = 70;
        edist_put64(h + 10, frag);
        tx_put32(tx, (uint32_t)(18 + chunk));
        tx_put(tx, h, 18);
        tx_put(tx, payload + off, chunk);
        off += chunk;
    }
    return 0;
}

int edist_dist_tx_message(edist_dist_tx *tx, const uint8_t *ctl, size_t ctl_len,
                          const uint8_t *payload, size_t payload_len,
                          uint64_t seq_id)
{
    if (!ctl || ctl_len == 0 || (payload_len && !payload))
        return EDIST_EINVAL;
    if (tx->header_mode && tx->fragments && payload_len > tx->frag_size)
        return tx_fragmented(tx, ctl, ctl_len, payload, payload_len,
                             seq_id ? seq_id : tx->next_seq++);
    size_t body;
    if (tx->header_mode)
        body = 3 + ctl_len + payload_len; /* 131 68 0 ctl payload */
    else
        body = 2 + ctl_len + (payload_len ? 1 + payload_len : 0);
    if (body > UINT32_MAX || ctl_len > UINT32_MAX || payload_len > UINT32_MAX)
        return EDIST_ETOOBIG;
    int rc = tx_reserve(tx, 4 + body);
    if (rc < 0)
        return rc;
    static const uint8_t hdr[3] = {131, 68, 0};
    static const uint8_t pass[2] = {112, 131};
    static const uint8_t ver = 131;
    tx_put32(tx, (uint32_t)body);
    if (tx->header_mode) {
        tx_put(tx, hdr, 3);
        tx_put(tx, ctl, ctl_len);
        tx_put(tx, payload, payload_len);
    } else {
        tx_put(tx, pass, 2);
        tx_put(tx, ctl, ctl_len);
        if (payload_len) {
            tx_put(tx, &ver, 1);
            tx_put(tx, payload, payload_len);
        }
    }
    return 0;
}

int edist_dist_tx_tick(edist_dist_tx *tx)
{
    int rc = tx_reserve(tx, 4);
    if (rc < 0)
        return rc;
    tx_put32(tx, 0);
    return 0;
}

size_t edist_dist_tx_pending(const edist_dist_tx *tx, const uint8_t **ptr)
{
    *ptr = tx->out.data;
    return tx->out.len;
}

void edist_dist_tx_consumed(edist_dist_tx *tx, size_t n)
{
    edist_buf_consume(&tx->out, n < tx->out.len ? n : tx->out.len);
}
