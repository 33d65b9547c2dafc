/*
 * fuzz_dist_frame.c: arbitrary bytes into the connected-state decoder in
 * each framing mode, and a send/receive round trip of the input as a
 * payload.
 *
 * Input layout: byte 0 = mode (bits 0-1: 0 pass-through, 1 header,
 * 2/3 header + fragments), byte 1 = chunk size, then the peer's bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edist/edist.h"
#include "edist/proto.h"

static uint64_t mode_flags(int mode)
{
    switch (mode & 3) {
    case 0:
        return EDIST_DFLAGS_DEFAULT;
    case 1:
        return EDIST_DFLAGS_DEFAULT | EDIST_DFLAG_DIST_HDR_ATOM_CACHE;
    default:
        return EDIST_DFLAGS_DEFAULT | EDIST_DFLAG_DIST_HDR_ATOM_CACHE |
               EDIST_DFLAG_FRAGMENTS;
    }
}

static void decode(const uint8_t *data, size_t size, int mode, size_t chunk)
{
    edist_dist_rx_options o = {0};
    o.flags = mode_flags(mode);
    o.max_frame = 1 << 16;
    o.max_sequences = 4;
    o.max_reassembly = 1 << 17;
    edist_dist_rx *rx;
    if (edist_dist_rx_new(&rx, &o) < 0)
        abort();
    volatile uint8_t sink = 0;
    /* Chunks alternate between the copying feed and the in-place
     * space/commit pair, which the runtime uses. */
    int in_place = 0;
    for (size_t off = 0; off < size; in_place ^= 1) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (in_place) {
            size_t room;
            uint8_t *dst = edist_dist_rx_space(rx, chunk, &room);
            if (!dst) {
                if (!edist_dist_rx_reason(rx)[0])
                    abort();
                break;
            }
            if (room < n)
                n = room;
            memcpy(dst, data + off, n);
            /* More than offered is refused and records nothing. */
            if (edist_dist_rx_commit(rx, room + 1) != EDIST_EINVAL ||
                edist_dist_rx_commit(rx, n) < 0)
                abort();
        } else if (edist_dist_rx_feed(rx, data + off, n) < 0) {
            break;
        }
        off += n;
        edist_dist_msg m;
        int rc;
        while ((rc = edist_dist_rx_next(rx, &m)) == 1) {
            for (size_t i = 0; i < m.len; i++)
                sink ^= m.data[i];
            for (size_t i = 0; i < m.natoms; i++)
                for (size_t j = 0; j < m.atoms[i].len; j++)
                    sink ^= (uint8_t)m.atoms[i].utf8[j];
        }
        if (rc < 0) {
            if (!edist_dist_rx_reason(rx)[0])
                abort();
            break;
        }
    }
    (void)sink;
    edist_dist_rx_free(rx);
}

static void roundtrip(const uint8_t *data, size_t size, int mode)
{
    uint64_t flags = mode_flags(mode);
    edist_dist_tx_options to = {0};
    to.flags = flags;
    to.fragment_size = 1 + (mode >> 2);
    edist_dist_tx *tx;
    edist_dist_rx_options ro = {0};
    ro.flags = flags;
    edist_dist_rx *rx;
    if (edist_dist_tx_new(&tx, &to) < 0 || edist_dist_rx_new(&rx, &ro) < 0)
        abort();
    static const uint8_t ctl[] = {0x6a};
    if (edist_dist_tx_message(tx, ctl, 1, data, size, 0) < 0)
        abort();
    const uint8_t *p;
    size_t n = edist_dist_tx_pending(tx, &p);
    if (edist_dist_rx_feed(rx, p, n) < 0)
        abort();
    edist_dist_msg m;
    if (edist_dist_rx_next(rx, &m) != 1)
        abort();
    size_t v = m.versioned ? 1 : 0;
    if (m.len != v + 1 + (size ? v + size : 0) || m.data[v] != 0x6a ||
        (size && memcmp(m.data + m.len - size, data, size) != 0))
        abort();
    if (edist_dist_rx_next(rx, &m) != 0)
        abort();
    edist_dist_tx_free(tx);
    edist_dist_rx_free(rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int mode = data[0];
    size_t chunk = data[1] ? data[1] : size;
    decode(data + 2, size - 2, mode, chunk);
    roundtrip(data + 2, size - 2, mode);
    return 0;
}
