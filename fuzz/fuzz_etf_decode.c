/*
 * fuzz_etf_decode.c: the ETF decoder against hostile bytes.
 *
 * For any input: the tree decoder and the streaming skipper must not
 * crash or read out of bounds, and must agree on whether the term is
 * well formed and how long it is.  For inputs that decode: encode ->
 * decode -> encode must give identical bytes (the encoder's output is a
 * fixed point), in both atom modes, and encoded_size() must be exact.
 * The input is also tried as a distribution-header term (no 131) with a
 * small atom cache table, so ATOM_CACHE_REF paths are reached.  The
 * gathering writer must describe the same bytes as the copying one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edist/edist.h"
#include "edist/etf.h"

static const edist_atom cache[3] = {{"a@host", 6}, {"", 0}, {"rex", 3}};

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c))                                                              \
            abort();                                                           \
    } while (0)

/* The gathering writer (binaries referenced, not copied) must describe
 * exactly the bytes the copying encoder wrote, whatever the threshold and
 * however few reference slots it has. */
static void gather_check(const edist_term *t, unsigned flags,
                         const edist_bytes *want)
{
    edist_etf_ref refs[4];
    edist_etf_writer w;
    edist_etf_writer_init_dynamic(&w, 0, NULL, flags);
    edist_etf_writer_gather(&w, 1 + want->len % 13, refs, 1 + want->len % 4);
    edist_etf_put_version(&w);
    CHECK(edist_etf_put_term(&w, t) == 0);
    CHECK(edist_etf_writer_size(&w) == want->len);
    edist_etf_piece pc[9];
    size_t k = edist_etf_writer_pieces(&w, pc, 9), off = 0;
    CHECK(k <= 2 * w.nrefs + 1);
    for (size_t i = 0; i < k; i++) {
        CHECK(pc[i].len && off + pc[i].len <= want->len);
        CHECK(memcmp(pc[i].data, want->data + off, pc[i].len) == 0);
        off += pc[i].len;
    }
    CHECK(off == want->len);
    uint8_t *flat = malloc(want->len);
    CHECK(flat && edist_etf_writer_flatten(&w, flat, want->len) == 0);
    CHECK(memcmp(flat, want->data, want->len) == 0);
    free(flat);
    edist_etf_writer_free(&w);
}

static void round_trip(const edist_term *t, unsigned flags)
{
    edist_etf_encode_opts eo = {.flags = flags};
    edist_bytes b1 = {0}, b2 = {0};
    size_t size = 0;
    CHECK(edist_etf_encode(t, &eo, &b1) == 0);
    CHECK(edist_etf_encoded_size(t, &eo, &size) == 0 && size == b1.len);
    edist_arena *a2 = edist_arena_new(NULL);
    edist_term t2;
    size_t used = 0;
    edist_etf_decode_opts o2 = {.max_depth = 200, .max_terms = 1u << 20};
    CHECK(edist_etf_decode(a2, b1.data, b1.len, &o2, &t2, &used) == 0);
    CHECK(used == b1.len);
    CHECK(edist_etf_encode(&t2, &eo, &b2) == 0);
    CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
    /* The skipper agrees on the re-encoded bytes too. */
    edist_etf_reader r;
    edist_etf_reader_init(&r, b1.data, b1.len, NULL, 0);
    CHECK(edist_etf_read_version(&r) == 0 && edist_etf_skip(&r, 0) == 0 &&
          edist_etf_reader_left(&r) == 0);
    gather_check(t, flags, &b1);
    edist_bytes_free(&b1);
    edist_bytes_free(&b2);
    edist_arena_free(a2);
}

/* Walks one term with edist_etf_read_next(); returns 0 and sets *end, or
 * a negative code. */
static int pull_walk(edist_etf_reader *r)
{
    size_t pending = 1;
    edist_etf_item it;
    while (pending) {
        pending--;
        int rc = edist_etf_read_next(r, &it);
        if (rc < 0)
            return rc;
        if (it.type == EDIST_TERM_TUPLE)
            pending += it.n;
        else if (it.type == EDIST_TERM_MAP)
            pending += 2 * it.n;
        else if (it.type == EDIST_TERM_LIST && it.tag == EDIST_ETF_LIST)
            pending += it.n + 1;
    }
    return 0;
}

static void one(const uint8_t *data, size_t size, unsigned flags)
{
    edist_arena_opts ao = {.limit = 64u << 20};
    edist_arena *a = edist_arena_new(&ao);
    edist_etf_decode_opts o = {.flags = flags,
                               .max_depth = 200,
                               .max_terms = 1u << 20,
                               .max_decompressed = 1u << 20,
                               .cache_refs = cache,
                               .n_cache_refs = 3};
    edist_term t;
    size_t used = 0;
    int rc = edist_etf_decode(a, data, size, &o, &t, &used);

    /* The skipper must agree (compressed terms it refuses by design). */
    edist_etf_reader r;
    edist_etf_reader_init(&r, data, size, cache, 3);
    size_t off = (flags & EDIST_ETF_NO_VERSION) ? 0 : 1;
    int compressed = size > off && data[off] == EDIST_ETF_COMPRESSED;
    int src = off ? edist_etf_read_version(&r) : 0;
    if (src == 0)
        src = edist_etf_skip(&r, 1u << 20);
    if (rc == 0 && !compressed) {
        CHECK(src == 0);
        CHECK((size_t)(r.p - r.start) == used);
        /* The pull parser walks to the same place. */
        edist_etf_reader_init(&r, data, size, cache, 3);
        if (off)
            CHECK(edist_etf_read_version(&r) == 0);
        CHECK(pull_walk(&r) == 0);
        CHECK((size_t)(r.p - r.start) == used);
    }
    if (rc == 0) {
        CHECK(used <= size);
        round_trip(&t, 0);
        round_trip(&t, EDIST_ETF_ATOMS_LATIN1);
    }
    edist_arena_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, 0);
    if (size > 1 && data[0] == EDIST_ETF_VERSION)
        one(data + 1, size - 1, EDIST_ETF_NO_VERSION | EDIST_ETF_BORROW);
    return 0;
}
