/*
 * test_etf_gather.c: the gathering writer (edist_etf_writer_gather):
 * large payloads are referenced, never copied, and the pieces (or the
 * flattened bytes) are exactly what the copying writer produces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "failalloc.h"

#include "edist/edist.h"
#include "edist/etf.h"

static uint8_t big[70000];
static uint8_t text[1000];

static void fill(void)
{
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 131 + 7);
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (uint8_t)('a' + i % 26);
}

/* The puts under test, on any writer: {Big, Text, <<1,2,3>>, [Big]}. */
static int put_sample(edist_etf_writer *w)
{
    static const uint8_t small[3] = {1, 2, 3};
    edist_etf_put_version(w);
    edist_etf_put_tuple_header(w, 4);
    edist_etf_put_binary(w, big, sizeof big);
    edist_etf_put_string(w, text, sizeof text);
    edist_etf_put_binary(w, small, sizeof small);
    edist_etf_put_list_header(w, 1);
    edist_etf_put_bitstring(w, big, 600, 8);
    return edist_etf_put_nil(w);
}

/* The same bytes from a plain (copying) dynamic writer. */
static edist_bytes plain_sample(void)
{
    edist_etf_writer w;
    edist_bytes b;
    edist_etf_writer_init_dynamic(&w, 0, NULL, 0);
    assert_int_equal(put_sample(&w), 0);
    assert_int_equal(w.nrefs, 0);
    assert_int_equal(edist_etf_writer_take(&w, &b), 0);
    return b;
}

/* Concatenates the pieces of w and compares them with want. */
static void expect_pieces(const edist_etf_writer *w, const uint8_t *want,
                          size_t n)
{
    size_t max = 2 * w->nrefs + 1;
    edist_etf_piece *pc = calloc(max, sizeof *pc);
    size_t k = edist_etf_writer_pieces(w, pc, max);
    assert_true(k <= max);
    size_t off = 0;
    for (size_t i = 0; i < k; i++) {
        assert_true(pc[i].len > 0);
        assert_true(off + pc[i].len <= n);
        assert_memory_equal(pc[i].data, want + off, pc[i].len);
        off += pc[i].len;
    }
    assert_int_equal(off, n);
    free(pc);
    assert_int_equal(edist_etf_writer_size(w), n);
    uint8_t *flat = malloc(n);
    assert_int_equal(edist_etf_writer_flatten(w, flat, n), 0);
    assert_memory_equal(flat, want, n);
    if (n)
        assert_int_equal(edist_etf_writer_flatten(w, flat, n - 1),
                         EDIST_ETOOBIG);
    free(flat);
}

static void test_fixed(void **state)
{
    (void)state;
    edist_bytes want = plain_sample();
    uint8_t buf[256];
    edist_etf_ref refs[8];
    edist_etf_writer w;
    edist_etf_writer_init_fixed(&w, buf, sizeof buf, 0);
    edist_etf_writer_gather(&w, 0, refs, 8);
    assert_int_equal(put_sample(&w), 0);
    /* Big, Text and the 600-byte binary are referenced; the small one is
     * copied.  The buffer holds only tags, lengths and small values. */
    assert_int_equal(w.nrefs, 3);
    assert_ptr_equal(refs[0].data, big);
    assert_int_equal(refs[0].len, sizeof big);
    assert_ptr_equal(refs[1].data, text);
    assert_int_equal(w.ref_bytes, sizeof big + sizeof text + 600);
    assert_true(w.len < 64);
    expect_pieces(&w, want.data, want.len);
    /* Fewer pieces than needed: the count is still the whole. */
    edist_etf_piece pc[2];
    assert_int_equal(edist_etf_writer_pieces(&w, pc, 2), 7);
    assert_ptr_equal(pc[1].data, big);
    edist_bytes_free(&want);
}

static void test_off_and_thresholds(void **state)
{
    (void)state;
    edist_bytes want = plain_sample();
    edist_etf_ref refs[8];
    edist_etf_writer w;
    /* Not gathering: everything is copied. */
    edist_etf_writer_init_dynamic(&w, 0, NULL, 0);
    assert_int_equal(put_sample(&w), 0);
    assert_int_equal(w.nrefs, 0);
    expect_pieces(&w, want.data, want.len);
    edist_etf_writer_free(&w);
    /* A threshold above the text: only the two binaries. */
    edist_etf_writer_init_dynamic(&w, 0, NULL, 0);
    edist_etf_writer_gather(&w, 1001, refs, 8);
    assert_int_equal(put_sample(&w), 0);
    assert_int_equal(w.nrefs, 1); /* 600 < 1001 too */
    expect_pieces(&w, want.data, want.len);
    edist_etf_writer_free(&w);
    /* One slot: the first payload is referenced, the rest copied. */
    edist_etf_writer_init_dynamic(&w, 0, NULL, 0);
    edist_etf_writer_gather(&w, 1, refs, 1);
    assert_int_equal(put_sample(&w), 0);
    assert_int_equal(w.nrefs, 1);
    assert_ptr_equal(refs[0].data, big);
    expect_pieces(&w, want.data, want.len);
    /* A writer holding references cannot hand its buffer over. */
    edist_bytes b;
    assert_int_equal(edist_etf_writer_take(&w, &b), EDIST_EINVAL);
    edist_etf_writer_free(&w);
    assert_int_equal(w.nrefs, 0);
    edist_bytes_free(&want);
}

static void test_limits(void **state)
{
    (void)state;
    edist_etf_ref refs[4];
    edist_etf_writer w;
    /* A dynamic writer's limit covers referenced bytes. */
    edist_etf_writer_init_dynamic(&w, sizeof big + 5, NULL, 0);
    edist_etf_writer_gather(&w, 0, refs, 4);
    assert_int_equal(edist_etf_put_binary(&w, big, sizeof big), 0);
    assert_int_equal(edist_etf_writer_size(&w), sizeof big + 5);
    assert_int_equal(edist_etf_put_nil(&w), EDIST_ETOOBIG);
    edist_etf_writer_free(&w);
    edist_etf_writer_init_dynamic(&w, sizeof big + 4, NULL, 0);
    edist_etf_writer_gather(&w, 0, refs, 4);
    assert_int_equal(edist_etf_put_binary(&w, big, sizeof big), EDIST_ETOOBIG);
    assert_int_equal(w.len, 0);
    assert_int_equal(w.nrefs, 0);
    edist_etf_writer_free(&w);
    /* Copied bytes after a reference stay under the limit as well. */
    edist_etf_writer_init_dynamic(&w, 600 + 5 + 300, NULL, 0);
    edist_etf_writer_gather(&w, 0, refs, 4);
    assert_int_equal(edist_etf_put_binary(&w, big, 600), 0);
    assert_int_equal(edist_etf_put_binary(&w, big, 290), 0);
    assert_int_equal(edist_etf_put_binary(&w, big, 10), EDIST_ETOOBIG);
    assert_true(edist_etf_writer_size(&w) <= 905);
    edist_etf_writer_free(&w);
    /* A fixed buffer bounds only what is copied into it. */
    uint8_t buf[16];
    edist_etf_writer_init_fixed(&w, buf, sizeof buf, 0);
    edist_etf_writer_gather(&w, 0, refs, 4);
    assert_int_equal(edist_etf_put_binary(&w, big, sizeof big), 0);
    assert_int_equal(edist_etf_put_string(&w, text, sizeof text), 0);
    assert_int_equal(w.len, 8);
    assert_int_equal(edist_etf_put_binary(&w, big, 100), EDIST_ETOOBIG);
    assert_int_equal(w.err, EDIST_ETOOBIG);
    uint8_t out[8];
    assert_int_equal(edist_etf_writer_flatten(&w, out, sizeof out),
                     EDIST_ETOOBIG);
}

/* A tree whose binaries are referenced by put_term; its encoding must be
 * edist_etf_encode()'s, byte for byte. */
static edist_term sample_tree(edist_arena *a, size_t depth)
{
    edist_term t = edist_mk_nil();
    for (size_t i = 0; i < depth; i++) {
        edist_term tp, l;
        if (edist_term_tuple(a, &tp, 3) < 0 || edist_term_list(a, &l, 1) < 0)
            fail();
        tp.v.tuple.elems[0] = edist_mk_binary(big, i % 3 ? 700 + i : 7);
        tp.v.tuple.elems[1] = t;
        tp.v.tuple.elems[2] = edist_mk_binary(text, i % 2 ? sizeof text : 5);
        l.v.list.elems[0] = tp;
        t = l;
    }
    return t;
}

static void test_put_term(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t = sample_tree(a, 5);
    edist_bytes want;
    assert_int_equal(edist_etf_encode(&t, NULL, &want), 0);
    edist_etf_ref refs[16];
    uint8_t buf[512];
    edist_etf_writer w;
    edist_etf_writer_init_fixed(&w, buf, sizeof buf, 0);
    edist_etf_writer_gather(&w, 0, refs, 16);
    edist_etf_put_version(&w);
    assert_int_equal(edist_etf_put_term(&w, &t), 0);
    assert_true(w.nrefs >= 4);
    expect_pieces(&w, want.data, want.len);
    /* A failing put_term leaves neither bytes nor references. */
    size_t len = w.len, nrefs = w.nrefs, refb = w.ref_bytes;
    edist_term bad;
    assert_int_equal(edist_term_tuple(a, &bad, 2), 0);
    bad.v.tuple.elems[0] = edist_mk_binary(big, 4000);
    bad.v.tuple.elems[1] = edist_mk_float(0.0);
    bad.v.tuple.elems[1].v.f = 0.0 / 0.0;
    assert_int_equal(edist_etf_put_term(&w, &bad), EDIST_EINVAL);
    assert_int_equal(w.len, len);
    assert_int_equal(w.nrefs, nrefs);
    assert_int_equal(w.ref_bytes, refb);
    edist_bytes_free(&want);
    edist_arena_free(a);
}

/* Out of memory at every allocation of a dynamic gathering writer
 * (buffer growth, and the walk's stack of a tree deeper than 32): the
 * error is ENOMEM, nothing leaks, and the success is exact. */
static void test_alloc_failures(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t = sample_tree(a, 60);
    edist_bytes want;
    assert_int_equal(edist_etf_encode(&t, NULL, &want), 0);
    edist_etf_ref refs[64];
    for (long n = 0;; n++) {
        failalloc_left = n;
        failalloc_live = 0;
        edist_etf_writer w;
        edist_etf_writer_init_dynamic(&w, 0, &failalloc, 0);
        edist_etf_writer_gather(&w, 0, refs, 64);
        edist_etf_put_version(&w);
        int rc = edist_etf_put_term(&w, &t);
        if (rc == 0) {
            expect_pieces(&w, want.data, want.len);
            edist_etf_writer_free(&w);
            assert_int_equal(failalloc_live, 0);
            assert_true(n > 1);
            break;
        }
        assert_int_equal(rc, EDIST_ENOMEM);
        assert_int_equal(w.err, EDIST_ENOMEM);
        edist_etf_writer_free(&w);
        assert_int_equal(failalloc_live, 0);
        assert_true(n < 100);
    }
    edist_bytes_free(&want);
    edist_arena_free(a);
}

int main(void)
{
    fill();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_off_and_thresholds),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_put_term),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
