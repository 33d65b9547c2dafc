/* test_dist_frame.c: connected-state framing, atom cache, fragments, the
 * sender and the ticker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "failalloc.h"

#include "core/wire.h"
#include "edist/edist.h"
#include "edist/proto.h"

#define HDR_FLAGS  (EDIST_DFLAGS_DEFAULT | EDIST_DFLAG_DIST_HDR_ATOM_CACHE)
#define FRAG_FLAGS (HDR_FLAGS | EDIST_DFLAG_FRAGMENTS)

static edist_dist_rx *rx_make(uint64_t flags, size_t max_frame)
{
    edist_dist_rx_options o = {0};
    o.flags = flags;
    o.max_frame = max_frame;
    edist_dist_rx *rx;
    assert_int_equal(edist_dist_rx_new(&rx, &o), 0);
    return rx;
}

/* Feeds one frame: Len:32 then p[0..n). */
static void feed_frame(edist_dist_rx *rx, const void *p, size_t n)
{
    uint8_t len[4];
    edist_put32(len, (uint32_t)n);
    assert_int_equal(edist_dist_rx_feed(rx, len, 4), 0);
    assert_int_equal(edist_dist_rx_feed(rx, p, n), 0);
}

static void test_pass_through_and_ticks(void **state)
{
    (void)state;
    edist_dist_rx *rx = rx_make(EDIST_DFLAGS_DEFAULT, 0);
    static const uint8_t bytes[] = {0,    0,    0,    0,    0,    0, 0, 6, 0x70,
                                    0x83, 0x68, 0x00, 0x83, 0x6a, 0, 0, 0, 0};
    edist_dist_msg m;
    /* Byte at a time: nothing is lost at any split point. */
    int got[3] = {0}, k = 0;
    for (size_t i = 0; i < sizeof bytes; i++) {
        assert_int_equal(edist_dist_rx_feed(rx, bytes + i, 1), 0);
        int rc;
        while ((rc = edist_dist_rx_next(rx, &m)) == 1) {
            assert_true(k < 3);
            got[k++] = m.type;
            if (m.type == EDIST_DIST_MESSAGE) {
                assert_int_equal(m.versioned, 1);
                assert_int_equal(m.len, 5);
                assert_memory_equal(m.data, "\x83\x68\x00\x83\x6a", 5);
                assert_int_equal(m.natoms, 0);
            }
        }
        assert_int_equal(rc, 0);
    }
    assert_int_equal(k, 3);
    assert_int_equal(got[0], EDIST_DIST_TICK);
    assert_int_equal(got[1], EDIST_DIST_MESSAGE);
    assert_int_equal(got[2], EDIST_DIST_TICK);
    /* A distribution header on a pass-through connection is fatal, and
     * the error sticks. */
    feed_frame(rx, "\x83\x44\x00\x68\x00", 5);
    assert_int_equal(edist_dist_rx_next(rx, &m), EDIST_EBADMSG);
    assert_non_null(strstr(edist_dist_rx_reason(rx), "pass-through"));
    assert_int_equal(edist_dist_rx_next(rx, &m), EDIST_EBADMSG);
    assert_int_equal(edist_dist_rx_feed(rx, bytes, 4), EDIST_EBADMSG);
    edist_dist_rx_free(rx);
}

/* protocol.md 3.3 worked capture from OTP 25. */
static const uint8_t capture[] = {
    0x83, 0x44, 0x04, 0x88, 0xdc, 0x00, 0x3a, 0x04, 'a', '@', 'v', 'm', 0x05,
    0x00, 0x76, 0x03, 'r', 'e', 'x', 0x5e, 0x10, 'f', 'e', 'a', 't', 'u', 'r',
    'e', 's', '_', 'r', 'e', 'q', 'u', 'e', 's', 't',
    /* a control term: {6, ..} abbreviated to SMALL_TUPLE 1, ref 0 */
    0x68, 0x01, 0x52, 0x00};

/* Writes n bytes of src where edist_dist_rx_space says, as a read would;
 * returns how many it offered. */
static size_t read_in(edist_dist_rx *rx, size_t max, const uint8_t *src,
                      size_t n)
{
    size_t room;
    uint8_t *dst = edist_dist_rx_space(rx, max, &room);
    assert_non_null(dst);
    assert_true(n <= room);
    memcpy(dst, src, n);
    assert_int_equal(edist_dist_rx_commit(rx, n), 0);
    return room;
}

static void test_in_place(void **state)
{
    (void)state;
    edist_dist_rx *rx = rx_make(EDIST_DFLAGS_DEFAULT, 1 << 20);
    /* Two 20 KiB pass-through frames and a tick, back to back. */
    size_t body = 20 * 1024, flen = 3 + body, total = 2 * (4 + flen) + 4;
    uint8_t *wire = calloc(1, total);
    assert_non_null(wire);
    for (size_t f = 0; f < 2; f++) {
        uint8_t *p = wire + f * (4 + flen);
        edist_put32(p, (uint32_t)flen);
        p[4] = 0x70;
        p[5] = 0x83;
        p[6] = 0x6a;
        memset(p + 7, (int)(f + 1), body);
    }
    size_t room, off = 0;
    /* Nothing buffered: the caller's maximum. */
    assert_int_equal(read_in(rx, 4096, wire, 4096), 4096);
    off = 4096;
    edist_dist_msg m;
    assert_int_equal(edist_dist_rx_next(rx, &m), 0);
    /* A large frame partly buffered: exactly its rest, even past max. */
    room = read_in(rx, 4096, wire + off, 0);
    assert_int_equal(room, 4 + flen - off);
    room = read_in(rx, 4096, wire + off, room);
    off += room;
    assert_int_equal(edist_dist_rx_next(rx, &m), 1);
    assert_int_equal(m.len, flen - 1);
    assert_int_equal(m.data[m.len - 1], 1);
    assert_int_equal(edist_dist_rx_next(rx, &m), 0);
    /* A small read that stops inside the next length field, then the
     * frame's rest and the tick in pieces. */
    read_in(rx, 0, wire + off, 2);
    off += 2;
    room = read_in(rx, 0, wire + off, 5);
    /* Two bytes of the length only: the offer, doubled once by the
     * first read, which filled it (the exact read did not count). */
    assert_int_equal(room, 8192);
    off += 5;
    room = read_in(rx, 0, wire + off, 0);
    assert_int_equal(room, 4 + flen - 7);
    /* Over the room offered: refused, nothing recorded; and a feed
     * between space and commit withdraws the room. */
    edist_dist_rx_space(rx, 0, &room);
    assert_int_equal(edist_dist_rx_commit(rx, room + 1), EDIST_EINVAL);
    edist_dist_rx_space(rx, 0, &room);
    assert_int_equal(edist_dist_rx_feed(rx, NULL, 0), 0);
    assert_int_equal(edist_dist_rx_commit(rx, 1), EDIST_EINVAL);
    room = read_in(rx, 0, wire + off, 4 + flen - 7);
    off += room;
    read_in(rx, 0, wire + off, total - off);
    assert_int_equal(edist_dist_rx_next(rx, &m), 1);
    assert_int_equal(m.data[m.len - 1], 2);
    assert_int_equal(edist_dist_rx_next(rx, &m), 1);
    assert_int_equal(m.type, EDIST_DIST_TICK);
    assert_int_equal(edist_dist_rx_next(rx, &m), 0);
    /* A frame over max_frame gets no room of its own and fails as a
     * feed would; then no room at all, with the reason. */
    uint8_t big[4];
    edist_put32(big, (1u << 20) + 1);
    read_in(rx, 0, big, 4);
    room = read_in(rx, 0, big, 0);
    assert_int_equal(room, 8192);
    assert_int_equal(edist_dist_rx_next(rx, &m), EDIST_ETOOBIG);
    assert_null(edist_dist_rx_space(rx, 0, &room));
    assert_int_equal(room, 0);
    assert_int_equal(edist_dist_rx_commit(rx, 0), EDIST_ETOOBIG);
    assert_true(edist_dist_rx_reason(rx)[0] != '\0');
    edist_dist_rx_free(rx);
    free(wire);
    /* A frame larger than the step is read in steps: room is made for
     * bytes as they come, not for the length announced. */
    rx = rx_make(EDIST_DFLAGS_DEFAULT, 8u << 20);
    uint8_t hdr[5];
    edist_put32(hdr, 3u << 20);
    hdr[4] = 0x70;
    read_in(rx, 0, hdr, 5);
    assert_int_equal(read_in(rx, 65536, hdr, 0), 1u << 20);
    edist_dist_rx_free(rx);
}

static void test_atom_cache_capture(void **state)
{
    (void)state;
    edist_dist_rx *rx = rx_make(HDR_FLAGS, 0);
    edist_dist_msg m;
    feed_frame(rx, capture, sizeof capture);
    assert_int_equal(edist_dist_rx_next(rx, &m), 1);
    assert_int_equal(m.type, EDIST_DIST_MESSAGE);
    assert_int_equal(m.versioned, 0);
    assert_int_equal(m.natoms, 4);
    const char *want[4] = {"a@vm", "", "rex", "features_request"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(m.atoms[i].len, strlen(want[i]));
        assert_memory_equal(m.atoms[i].utf8, want[i], strlen(want[i]));
    }
    assert_int_equal(m.len, 4);
    assert_memory_equal(m.data, "\x68\x01\x52\x00", 4);

    /* Later messages refer to the cached slots without the text: slot
     * 0x03a (segment 0) and 0x55e (segment 5). */
    static const uint8_t again[] = {0x83, 0x44, 0x02, 0x50,
                                    0x00, 0x3a, 0x5e, 0x6a};
    feed_frame(rx, again, sizeof again);
    assert_int_equal(edist_dist_rx_next(rx, &m), 1);
    assert_int_equal(m.natoms, 2);
    assert_memory_equal(m.atoms[0].utf8, "a@vm", 4);
    assert_int_equal(m.atoms[1].len, 16);
    assert_memory_equal(m.atoms[1].utf8, "features_request", 16);
    assert_int_equal(m.len, 1);

    /* Long atoms: nibble N has bit 0 set, lengths are 16 bits. */
    static const uint8_t longa[] = {0x83, 0x44, 0x01, 0x18, 0x07, 0x00,
                                    0x03, 'a',  'b',  'c',  0x6a};
    feed_frame(rx, longa, sizeof longa);
    assert_int_equal(edist_dist_rx_next(rx, &m), 1);
    assert_int_equal(m.natoms, 1);
    assert_memory_equal(m.atoms[0].utf8, "abc", 3);
    /* No refs at all: 131 68 0. */
    feed_frame(rx, "\x83\x44\x00\x6a", 4);
    assert_int_equal(edist_dist_rx_next(rx, &m), 1);
    assert_int_equal(m.natoms, 0);
    assert_null(m.atoms);

    /* One header may define the same slot twice: each ref keeps its own
     * text (found by the fuzzer: the second definition used to free the
     * first ref's text). */
    static const uint8_t twice[] = {0x83, 0x44, 0x02, 0x88, 0x00, 0x01,
                                    0x01, 'a',  0x01, 0x07, 'b',  'c',
                                    'd',  'e',  'f',  'g',  'h',  0x6a};
    feed_frame(rx, twice, sizeof twice);
    assert_int_equal(edist_dist_rx_next(rx, &m), 1);
    assert_int_equal(m.natoms, 2);
    assert_int_equal(m.atoms[0].len, 1);
    assert_memory_equal(m.atoms[0].utf8, "a", 1);
    assert_memory_equal(m.atoms[1].utf8, "bcdefgh", 7);

    /* A ref to a slot never filled is fatal. */
    feed_frame(rx, "\x83\x44\x01\x01\x09\x6a", 6);
    assert_int_equal(edist_dist_rx_next(rx, &m), EDIST_EATOMCACHE);
    edist_dist_rx_free(rx);
}

/* "aNNN" for v < 1000 into out[0..4). */
static void atom_name(uint8_t *out, size_t v)
{
    out[0] = 'a';
    out[1] = (uint8_t)('0' + v / 100);
    out[2] = (uint8_t)('0' + v / 10 % 10);
    out[3] = (uint8_t)('0' + v % 10);
}

/* A header defining count new atoms "aNNN" in slots first.. of segment 0
 * (count <= 255, slots < 256), then the payload 0x6a. */
static size_t many_refs(uint8_t *out, size_t count, size_t first)
{
    size_t k = 0;
    out[k++] = 0x83;
    out[k++] = 0x44;
    out[k++] = (uint8_t)count;
    size_t flen = count / 2 + 1;
    memset(out + k, 0, flen);
    for (size_t i = 0; i < count; i++)
        out[k + i / 2] |= (uint8_t)(0x8 << ((i & 1) * 4)); /* new, seg 0 */
    k += flen;
    for (size_t i = 0; i < count; i++) {
        out[k++] = (uint8_t)(first + i);
        out[k++] = 4;
        atom_name(out + k, first + i);
        k += 4;
    }
    out[k++] = 0x6a;
    return k;
}

/* Headers of up to RX_SMALL_REFS refs use the receiver's small arrays; a
 * bigger one (up to 255) moves it to arrays for the maximum, with the
 * texts of the slots it redefines kept until the next frame. */
static void test_many_refs(void **state)
{
    (void)state;
    edist_dist_rx *rx = rx_make(HDR_FLAGS, 0);
    edist_dist_msg m;
    static uint8_t f[4096];
    size_t counts[] = {2, 31, 32, 33, 200, 255, 3};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        size_t n = many_refs(f, counts[c], 0); /* redefines slots 0.. */
        feed_frame(rx, f, n);
        assert_int_equal(edist_dist_rx_next(rx, &m), 1);
        assert_int_equal(m.natoms, counts[c]);
        for (size_t i = 0; i < counts[c]; i++) {
            uint8_t want[4];
            atom_name(want, i);
            assert_int_equal(m.atoms[i].len, 4);
            assert_memory_equal(m.atoms[i].utf8, want, 4);
        }
    }
    /* Refs to the cached slots only, after the arrays grew. */
    static const uint8_t again[] = {0x83, 0x44, 0x02, 0x00,
                                    0x00, 0xfe, 0x01, 0x6a};
    feed_frame(rx, again, sizeof again);
    assert_int_equal(edist_dist_rx_next(rx, &m), 1);
    assert_memory_equal(m.atoms[0].utf8, "a254", 4);
    assert_memory_equal(m.atoms[1].utf8, "a001", 4);
    edist_dist_rx_free(rx);
}

static void expect_bad(uint64_t flags, const void *p, size_t n, int code)
{
    edist_dist_rx *rx = rx_make(flags, 100);
    edist_dist_msg m;
    feed_frame(rx, p, n);
    assert_int_equal(edist_dist_rx_next(rx, &m), code);
    assert_true(strlen(edist_dist_rx_reason(rx)) > 0);
    edist_dist_rx_free(rx);
}

static void test_rx_errors(void **state)
{
    (void)state;
    expect_bad(HDR_FLAGS, "\x70\x83\x6a", 3, EDIST_EBADMSG);
    expect_bad(HDR_FLAGS, "\x83\x47\x00", 3, EDIST_EBADMSG);
    expect_bad(HDR_FLAGS, "\x83\x44", 2, EDIST_EBADMSG);
    expect_bad(HDR_FLAGS, "\x83\x44\x00", 3, EDIST_EBADMSG);
    expect_bad(HDR_FLAGS, "\x83\x44\x01", 3, EDIST_EBADMSG);
    expect_bad(HDR_FLAGS,
               "\x83\x44\x01\x08\x01\x05"
               "ab",
               8, EDIST_EBADMSG);
    expect_bad(HDR_FLAGS, "\x83\x44\x01\x08\x01\x02\xff\xfe\x6a", 9,
               EDIST_EUTF8);
    expect_bad(EDIST_DFLAGS_DEFAULT, "\x70\x6a", 2, EDIST_EBADMSG);
    expect_bad(EDIST_DFLAGS_DEFAULT, "\x71\x83\x6a", 3, EDIST_EBADMSG);
    /* Frame over the cap. */
    uint8_t big[101] = {0x70, 0x83};
    expect_bad(EDIST_DFLAGS_DEFAULT, big, sizeof big, EDIST_ETOOBIG);
    /* 256-character atom. */
    uint8_t la[7 + 256 + 1] = {0x83, 0x44, 0x01, 0x18, 0x01, 0x01, 0x00};
    memset(la + 7, 'x', 256);
    la[7 + 256] = 0x6a;
    edist_dist_rx *rx = rx_make(HDR_FLAGS, 0);
    edist_dist_msg m;
    feed_frame(rx, la, sizeof la);
    assert_int_equal(edist_dist_rx_next(rx, &m), EDIST_EATOMLEN);
    edist_dist_rx_free(rx);
}

static edist_dist_tx *tx_make(uint64_t flags, size_t frag, size_t max)
{
    edist_dist_tx_options o = {0};
    o.flags = flags;
    o.fragment_size = frag;
    o.max_pending = max;
    edist_dist_tx *tx;
    assert_int_equal(edist_dist_tx_new(&tx, &o), 0);
    return tx;
}

static void test_tx_vectors(void **state)
{
    (void)state;
    const uint8_t *p;
    edist_dist_tx *tx = tx_make(EDIST_DFLAGS_DEFAULT, 0, 0);
    assert_int_equal(edist_dist_tx_message(tx, (const uint8_t *)"\x68\x00", 2,
                                           (const uint8_t *)"\x6a", 1, 0),
                     0);
    assert_int_equal(
        edist_dist_tx_message(tx, (const uint8_t *)"\x6a", 1, NULL, 0, 0), 0);
    assert_int_equal(edist_dist_tx_tick(tx), 0);
    size_t n = edist_dist_tx_pending(tx, &p);
    static const uint8_t want[] = {0,    0,    0,    6, 0x70, 0x83, 0x68,
                                   0x00, 0x83, 0x6a, 0, 0,    0,    3,
                                   0x70, 0x83, 0x6a, 0, 0,    0,    0};
    assert_int_equal(n, sizeof want);
    assert_memory_equal(p, want, n);
    edist_dist_tx_consumed(tx, 10);
    assert_int_equal(edist_dist_tx_pending(tx, &p), 11);
    assert_int_equal(edist_dist_tx_message(tx, NULL, 0, NULL, 0, 0),
                     EDIST_EINVAL);
    edist_dist_tx_free(tx);

    tx = tx_make(HDR_FLAGS, 0, 16);
    assert_int_equal(edist_dist_tx_message(tx, (const uint8_t *)"\x68\x00", 2,
                                           (const uint8_t *)"\x6a", 1, 0),
                     0);
    n = edist_dist_tx_pending(tx, &p);
    assert_int_equal(n, 10);
    assert_memory_equal(p, "\0\0\0\x06\x83\x44\x00\x68\x00\x6a", 10);
    /* Backpressure: all or nothing. */
    assert_int_equal(edist_dist_tx_message(tx, (const uint8_t *)"\x68\x00", 2,
                                           (const uint8_t *)"\x6a", 1, 0),
                     EDIST_EQUEUEFULL);
    assert_int_equal(edist_dist_tx_pending(tx, &p), 10);
    edist_dist_tx_free(tx);
}

/* Sends through tx, decodes with rx, checks the one message. */
static void roundtrip(uint64_t flags, size_t frag, size_t plen)
{
    edist_dist_tx *tx = tx_make(flags, frag, 0);
    edist_dist_rx *rx = rx_make(flags, 0);
    uint8_t *payload = malloc(plen ? plen : 1);
    for (size_t i = 0; i < plen; i++)
        payload[i] = (uint8_t)(i * 7);
    static const uint8_t ctl[] = {0x68, 0x03, 0x61, 0x02, 0x6a, 0x6a};
    assert_int_equal(
        edist_dist_tx_message(tx, ctl, sizeof ctl, payload, plen, 42), 0);
    const uint8_t *p;
    size_t n = edist_dist_tx_pending(tx, &p);
    int frames = 0;
    size_t fs = frag ? frag : EDIST_DIST_FRAGMENT_SIZE_DEFAULT;
    for (size_t off = 0; off < n; off += 4 + edist_get32(p + off))
        frames++;
    if ((flags & EDIST_DFLAG_FRAGMENTS) && plen > fs)
        assert_int_equal(frames, (int)((plen + fs - 1) / fs));
    else
        assert_int_equal(frames, 1);
    assert_int_equal(edist_dist_rx_feed(rx, p, n), 0);
    edist_dist_msg m;
    assert_int_equal(edist_dist_rx_next(rx, &m), 1);
    int versioned = !(flags & EDIST_DFLAG_DIST_HDR_ATOM_CACHE);
    assert_int_equal(m.versioned, versioned);
    size_t vl = versioned ? 1 : 0;
    size_t want = vl + sizeof ctl + (plen ? vl + plen : 0);
    assert_int_equal(m.len, want);
    assert_memory_equal(m.data + vl, ctl, sizeof ctl);
    if (plen)
        assert_memory_equal(m.data + want - plen, payload, plen);
    assert_int_equal(edist_dist_rx_next(rx, &m), 0);
    free(payload);
    edist_dist_tx_free(tx);
    edist_dist_rx_free(rx);
}

static void test_roundtrips(void **state)
{
    (void)state;
    roundtrip(EDIST_DFLAGS_DEFAULT, 0, 0);
    roundtrip(EDIST_DFLAGS_DEFAULT, 0, 1000);
    roundtrip(HDR_FLAGS, 0, 1000);
    roundtrip(FRAG_FLAGS, 10, 35);
    roundtrip(FRAG_FLAGS, 10, 40);
    roundtrip(FRAG_FLAGS, 10, 9);
    roundtrip(FRAG_FLAGS, 0, 300000); /* 5 x 64 KiB */
}

/* Builds a fragment frame. */
static size_t frag(uint8_t *b, int cont, uint64_t seq, uint64_t id,
                   const char *rest, size_t rlen)
{
    b[0] = 131;
    b[1] = cont ? 70 : 69;
    edist_put64(b + 2, seq);
    edist_put64(b + 10, id);
    memcpy(b + 18, rest, rlen);
    return 18 + rlen;
}

static void test_fragments(void **state)
{
    (void)state;
    edist_dist_rx *rx = rx_make(FRAG_FLAGS, 0);
    edist_dist_msg m;
    uint8_t b[128];
    /* Sequence 7 defines atom "abc" in slot 1; sequence 9 interleaves; a
     * normal message then overwrites slot 1 before sequence 7 ends. */
    feed_frame(rx, b,
               frag(b, 0, 7, 3,
                    "\x01\x08\x01\x03"
                    "abcC1",
                    9));
    feed_frame(rx, b,
               frag(b, 0, 9, 2,
                    "\x00"
                    "D1",
                    3));
    assert_int_equal(edist_dist_rx_next(rx, &m), 0);
    feed_frame(rx, "\x83\x44\x01\x08\x01\x03xyzM", 10);
    assert_int_equal(edist_dist_rx_next(rx, &m), 1);
    assert_memory_equal(m.atoms[0].utf8, "xyz", 3);
    assert_int_equal(m.fragmented, 0);
    feed_frame(rx, b, frag(b, 1, 7, 2, "C2", 2));
    feed_frame(rx, b, frag(b, 1, 9, 1, "D2", 2));
    feed_frame(rx, b, frag(b, 1, 7, 1, "C3", 2));
    assert_int_equal(edist_dist_rx_next(rx, &m), 1);
    assert_int_equal(m.seq_id, 9);
    assert_int_equal(m.fragmented, 1);
    assert_int_equal(m.len, 4);
    assert_memory_equal(m.data, "D1D2", 4);
    assert_int_equal(edist_dist_rx_next(rx, &m), 1);
    assert_int_equal(m.seq_id, 7);
    assert_int_equal(m.natoms, 1);
    assert_memory_equal(m.atoms[0].utf8, "abc", 3);
    assert_memory_equal(m.data, "C1C2C3", 6);
    assert_int_equal(edist_dist_rx_next(rx, &m), 0);
    /* A one-fragment sequence is just a message. */
    feed_frame(rx, b, frag(b, 0, 5, 1, "\x00Z", 2));
    assert_int_equal(edist_dist_rx_next(rx, &m), 1);
    assert_int_equal(m.len, 1);
    edist_dist_rx_free(rx);

    /* Out of order, unknown sequence, duplicate start, id 0. */
    struct {
        int cont1, cont2;
        uint64_t s1, i1, s2, i2;
    } bad[] = {
        {0, 1, 1, 3, 1, 1},
        {0, 1, 1, 3, 2, 2},
        {0, 0, 1, 3, 1, 3},
        {0, 1, 1, 0, 1, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rx = rx_make(FRAG_FLAGS, 0);
        feed_frame(rx, b,
                   frag(b, bad[i].cont1, bad[i].s1, bad[i].i1, "\x00X", 2));
        feed_frame(rx, b,
                   frag(b, bad[i].cont2, bad[i].s2, bad[i].i2, "\x00X", 2));
        int rc = edist_dist_rx_next(rx, &m);
        assert_int_equal(rc, EDIST_EBADMSG);
        edist_dist_rx_free(rx);
    }

    /* Caps: sequences in flight and reassembled size. */
    edist_dist_rx_options o = {0};
    o.flags = FRAG_FLAGS;
    o.max_sequences = 2;
    o.max_message = 8;
    assert_int_equal(edist_dist_rx_new(&rx, &o), 0);
    feed_frame(rx, b, frag(b, 0, 1, 5, "\x00X", 2));
    feed_frame(rx, b, frag(b, 0, 2, 5, "\x00X", 2));
    feed_frame(rx, b, frag(b, 0, 3, 5, "\x00X", 2));
    assert_int_equal(edist_dist_rx_next(rx, &m), EDIST_ETOOBIG);
    edist_dist_rx_free(rx);
    assert_int_equal(edist_dist_rx_new(&rx, &o), 0);
    feed_frame(rx, b, frag(b, 0, 1, 5, "\x00XXXX", 5));
    feed_frame(rx, b, frag(b, 1, 1, 4, "YYYYY", 5));
    assert_int_equal(edist_dist_rx_next(rx, &m), EDIST_ETOOBIG);
    edist_dist_rx_free(rx);
}

static void test_ticker(void **state)
{
    (void)state;
    edist_ticker t;
    assert_int_equal(edist_ticker_init(&t, 0, 0, 0, 0), 0);
    assert_int_equal(edist_ticker_ticktime(&t), 60000);
    assert_int_equal(edist_ticker_interval(&t), 15000);
    assert_int_equal(edist_ticker_next_deadline(&t), 15000);
    edist_ticker_init(&t, 4001, 4, 0, 0);
    assert_int_equal(edist_ticker_ticktime(&t), 4004);
    edist_ticker_init(&t, 10, 3, 0, 0);
    assert_int_equal(edist_ticker_ticktime(&t), 1000);
    assert_int_equal(edist_ticker_interval(&t), 250);
    edist_ticker_init(&t, 60000, 5000, 0, 0);
    assert_int_equal(edist_ticker_interval(&t), 60);
    assert_int_equal(edist_ticker_init(NULL, 0, 0, 0, 0), EDIST_EINVAL);

    /* Visible: tick only when nothing was written. */
    edist_ticker_init(&t, 60000, 4, 0, 0);
    assert_int_equal(edist_ticker_poll(&t, 14999, 1), EDIST_TICK_IDLE);
    edist_ticker_note_read(&t);
    edist_ticker_note_write(&t);
    assert_int_equal(edist_ticker_poll(&t, 15000, 1), EDIST_TICK_IDLE);
    edist_ticker_note_read(&t);
    assert_int_equal(edist_ticker_poll(&t, 30000, 1), EDIST_TICK_SEND);
    edist_ticker_note_read(&t);
    assert_int_equal(edist_ticker_poll(&t, 45000, 0), EDIST_TICK_IDLE);
    /* An idle connection ticks every interval even when the runtime
     * notes the write of each tick (dist_util counts its tick into its
     * write baseline); it used to tick every other interval. */
    edist_ticker_init(&t, 4000, 4, 0, 0);
    for (uint64_t at = 1000; at <= 8000; at += 1000) {
        edist_ticker_note_read(&t);
        assert_int_equal(edist_ticker_poll(&t, at, 1), EDIST_TICK_SEND);
        edist_ticker_note_write(&t); /* the tick */
    }
    /* Data written after the tick still counts as written. */
    edist_ticker_note_read(&t);
    assert_int_equal(edist_ticker_poll(&t, 9000, 1), EDIST_TICK_SEND);
    edist_ticker_note_write(&t); /* the tick */
    edist_ticker_note_write(&t); /* a message */
    edist_ticker_note_read(&t);
    assert_int_equal(edist_ticker_poll(&t, 10000, 1), EDIST_TICK_IDLE);
    /* A tick asked for but never written is forgotten at the next poll:
     * a later write counts. */
    edist_ticker_note_read(&t);
    assert_int_equal(edist_ticker_poll(&t, 11000, 1), EDIST_TICK_SEND);
    edist_ticker_note_read(&t);
    assert_int_equal(edist_ticker_poll(&t, 12000, 0), EDIST_TICK_IDLE);
    edist_ticker_note_write(&t);
    edist_ticker_note_read(&t);
    assert_int_equal(edist_ticker_poll(&t, 13000, 1), EDIST_TICK_IDLE);
    /* Hidden: also tick when nothing was read. */
    edist_ticker_init(&t, 60000, 4, 1, 0);
    edist_ticker_note_write(&t);
    assert_int_equal(edist_ticker_poll(&t, 15000, 0), EDIST_TICK_SEND);

    /* Detection bounds: last read at r, declared at D with
     * ticktime <= D - r < ticktime + interval. */
    uint64_t reads[] = {1, 7500, 14999};
    for (int i = 0; i < 3; i++) {
        edist_ticker_init(&t, 60000, 4, 0, 0);
        edist_ticker_note_read(&t); /* at reads[i] */
        uint64_t now = 15000;
        int rc;
        while ((rc = edist_ticker_poll(&t, now, 1)) != EDIST_ETIMEDOUT) {
            assert_true(now < 200000);
            now = edist_ticker_next_deadline(&t);
        }
        assert_true(now - reads[i] >= 60000);
        assert_true(now - reads[i] < 75000);
    }
    /* A stalled caller does not kill the peer in one go. */
    edist_ticker_init(&t, 60000, 4, 0, 0);
    edist_ticker_note_read(&t);
    assert_int_equal(edist_ticker_poll(&t, 500000, 1), EDIST_TICK_SEND);
    assert_int_equal(edist_ticker_next_deadline(&t), 515000);
}

/* OOM sweep over decoding the capture plus an interleaved fragmented
 * message: each failure is ENOMEM and clean, until all of it succeeds. */
static void test_oom_sweep(void **state)
{
    (void)state;
    edist_allocator al = {failalloc_malloc, failalloc_realloc, failalloc_free,
                          NULL};
    uint8_t b[128];
    int n;
    for (n = 0; n < 200; n++) {
        failalloc_left = n;
        edist_dist_rx_options o = {0};
        o.flags = FRAG_FLAGS;
        o.alloc = &al;
        edist_dist_rx *rx;
        if (edist_dist_rx_new(&rx, &o) < 0)
            continue;
        uint8_t len[4];
        int rc = 0, got = 0;
        const struct {
            const uint8_t *p;
            size_t n;
        } frames[] = {
            {capture, sizeof capture},
            {b, frag(b, 0, 7, 2,
                     "\x01\x08\x01\x03"
                     "abcC1",
                     9)},
        };
        for (size_t i = 0; i < 2 && rc >= 0; i++) {
            edist_put32(len, (uint32_t)frames[i].n);
            rc = edist_dist_rx_feed(rx, len, 4);
            if (rc == 0)
                rc = edist_dist_rx_feed(rx, frames[i].p, frames[i].n);
            edist_dist_msg m;
            while (rc >= 0 && (rc = edist_dist_rx_next(rx, &m)) == 1)
                got++;
        }
        if (rc >= 0) {
            uint8_t c[40];
            size_t cn = frag(c, 1, 7, 1, "C2", 2);
            edist_put32(len, (uint32_t)cn);
            rc = edist_dist_rx_feed(rx, len, 4);
            if (rc == 0)
                rc = edist_dist_rx_feed(rx, c, cn);
            edist_dist_msg m;
            while (rc >= 0 && (rc = edist_dist_rx_next(rx, &m)) == 1)
                got++;
        }
        if (rc < 0)
            assert_int_equal(rc, EDIST_ENOMEM);
        edist_dist_rx_free(rx);
        if (rc >= 0) {
            assert_int_equal(got, 2);
            break;
        }
    }
    assert_true(n > 0 && n < 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pass_through_and_ticks),
        cmocka_unit_test(test_in_place),
        cmocka_unit_test(test_atom_cache_capture),
        cmocka_unit_test(test_rx_errors),
        cmocka_unit_test(test_tx_vectors),
        cmocka_unit_test(test_roundtrips),
        cmocka_unit_test(test_fragments),
        cmocka_unit_test(test_many_refs),
        cmocka_unit_test(test_ticker),
        cmocka_unit_test(test_oom_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
