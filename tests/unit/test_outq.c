/* test_outq.c: the chunked out-queue: framing order across chunks, the
 * writer's take / partial done / put back, caps, chunk reuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/mem.h"
#include "edist/edist.h"
#include "rt/outq.h"

/* Appends n bytes of value v. */
static int put(edist_outq *q, size_t n, uint8_t v)
{
    int err = 0;
    uint8_t *d = edist_outq_reserve(q, n, &err);
    if (!d)
        return err;
    memset(d, v, n);
    edist_outq_commit(q, n);
    return 0;
}

/* Gathers what a writev() of the whole chain would send. */
static size_t gather(edist_outq_chunk *chain, uint8_t *out, size_t cap)
{
    struct iovec iov[64];
    int k = edist_outq_iov(chain, iov, 64);
    size_t n = 0;
    for (int i = 0; i < k; i++) {
        assert_true(n + iov[i].iov_len <= cap);
        memcpy(out + n, iov[i].iov_base, iov[i].iov_len);
        n += iov[i].iov_len;
    }
    return n;
}

static void test_order_partial_putback(void **state)
{
    (void)state;
    edist_outq q;
    edist_outq_init(&q, 0, edist_mem_resolve(NULL));
    assert_true(edist_outq_empty(&q));
    /* Three frames: one that spills into a second chunk, one bigger than
     * a chunk (a chunk of its own), one small. */
    assert_int_equal(put(&q, 60000, 1), 0);
    assert_int_equal(put(&q, 10000, 2), 0);
    assert_int_equal(put(&q, 70000, 3), 0);
    assert_int_equal(put(&q, 10, 4), 0);
    assert_int_equal(q.bytes, 140010);
    edist_outq_chunk *chain = edist_outq_take(&q);
    assert_non_null(chain);
    assert_true(edist_outq_empty(&q));
    assert_int_equal(q.bytes, 140010); /* still counted */
    /* A sender appends while the writer holds the chain. */
    assert_int_equal(put(&q, 5, 5), 0);
    static uint8_t buf[200000];
    assert_int_equal(gather(chain, buf, sizeof buf), 140010);
    /* The socket took 65000 bytes: the rest goes back in front. */
    assert_int_equal(edist_outq_done(&q, chain, 65000), 1);
    assert_int_equal(q.bytes, 140015 - 65000);
    chain = edist_outq_take(&q);
    size_t n = gather(chain, buf, sizeof buf);
    assert_int_equal(n, 75015);
    size_t i = 0;
    for (; i < 5000; i++)
        assert_int_equal(buf[i], 2);
    for (; i < 75000; i++)
        assert_int_equal(buf[i], 3);
    for (; i < 75010; i++)
        assert_int_equal(buf[i], 4);
    for (; i < 75015; i++)
        assert_int_equal(buf[i], 5);
    assert_int_equal(edist_outq_done(&q, chain, n), 0);
    assert_int_equal(q.bytes, 0);
    assert_true(edist_outq_empty(&q));
    /* Written chunks are kept for reuse, a bounded number of them. */
    assert_true(q.nspare >= 1 && q.nspare <= EDIST_OUTQ_SPARES);
    edist_outq_free(&q);
}

/* A quiet queue uses one small chunk; the first burst that needs more
 * makes it use full chunks from then on, and drops the small spare. */
static void test_small_until_burst(void **state)
{
    (void)state;
    edist_outq q;
    edist_outq_init(&q, 0, edist_mem_resolve(NULL));
    static uint8_t buf[200000];
    for (int round = 0; round < 3; round++) {
        assert_int_equal(put(&q, 100, (uint8_t)round), 0);
        assert_int_equal(put(&q, 200, (uint8_t)round), 0);
        assert_int_equal(q.tail->cap, EDIST_OUTQ_FIRST);
        edist_outq_chunk *chain = edist_outq_take(&q);
        assert_int_equal(gather(chain, buf, sizeof buf), 300);
        assert_int_equal(edist_outq_done(&q, chain, 300), 0);
        assert_int_equal(q.nspare, 1); /* the same small chunk, reused */
    }
    assert_int_equal(q.grown, 0);
    /* A burst: the small chunk fills, a full one follows. */
    for (int i = 0; i < 10; i++)
        assert_int_equal(put(&q, 1000, (uint8_t)i), 0);
    assert_int_equal(q.grown, 1);
    assert_int_equal(q.head->cap, EDIST_OUTQ_FIRST);
    assert_int_equal(q.tail->cap, EDIST_OUTQ_CHUNK);
    edist_outq_chunk *chain = edist_outq_take(&q);
    size_t n = gather(chain, buf, sizeof buf);
    assert_int_equal(n, 10000);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(buf[i], (uint8_t)(i / 1000));
    assert_int_equal(edist_outq_done(&q, chain, n), 0);
    /* Only the full chunk is kept; the next message gets a full chunk. */
    assert_int_equal(q.nspare, 1);
    assert_int_equal(q.spare->cap, EDIST_OUTQ_CHUNK);
    assert_int_equal(put(&q, 10, 1), 0);
    assert_int_equal(q.tail->cap, EDIST_OUTQ_CHUNK);
    edist_outq_free(&q);
}

static void test_caps(void **state)
{
    (void)state;
    edist_outq q;
    edist_outq_init(&q, 1000, edist_mem_resolve(NULL));
    assert_int_equal(put(&q, 1001, 1), EDIST_ETOOBIG);
    assert_int_equal(put(&q, 600, 1), 0);
    assert_int_equal(put(&q, 500, 1), EDIST_EQUEUEFULL);
    assert_int_equal(put(&q, 400, 1), 0);
    /* Bytes held by the writer still count until done. */
    edist_outq_chunk *chain = edist_outq_take(&q);
    assert_int_equal(put(&q, 1, 1), EDIST_EQUEUEFULL);
    assert_int_equal(edist_outq_done(&q, chain, 1000), 0);
    assert_int_equal(put(&q, 1000, 1), 0);
    edist_outq_clear(&q);
    assert_int_equal(q.bytes, 0);
    assert_true(edist_outq_empty(&q));
    edist_outq_free(&q);
}

static void test_zero_progress(void **state)
{
    (void)state;
    edist_outq q;
    edist_outq_init(&q, 0, edist_mem_resolve(NULL));
    assert_int_equal(put(&q, 100, 9), 0);
    edist_outq_chunk *chain = edist_outq_take(&q);
    /* EAGAIN: nothing written, everything back. */
    assert_int_equal(edist_outq_done(&q, chain, 0), 1);
    assert_int_equal(q.bytes, 100);
    chain = edist_outq_take(&q);
    uint8_t buf[200];
    assert_int_equal(gather(chain, buf, sizeof buf), 100);
    assert_int_equal(edist_outq_done(&q, chain, 100), 0);
    edist_outq_free(&q);
}

/* The rest of a frame written partly by a sender goes in front of what
 * was queued meanwhile, past the cap, and leaves first. */
static void test_push_front(void **state)
{
    (void)state;
    edist_outq q;
    edist_outq_init(&q, 100, edist_mem_resolve(NULL));
    assert_int_equal(put(&q, 90, 7), 0);
    uint8_t a[10], b[150];
    memset(a, 1, sizeof a);
    memset(b, 2, sizeof b);
    struct iovec iov[3] = {{a, sizeof a}, {b, 0}, {b, sizeof b}};
    /* 15 bytes were written: 5 of b and none of a remain unsent. */
    assert_int_equal(edist_outq_push_front(&q, iov, 3, 15), 0);
    assert_int_equal(q.bytes, 90 + 145);
    /* Everything written already: nothing to queue. */
    assert_int_equal(edist_outq_push_front(&q, iov, 3, 160), 0);
    assert_int_equal(q.bytes, 90 + 145);
    edist_outq_chunk *chain = edist_outq_take(&q);
    uint8_t out[300];
    assert_int_equal(gather(chain, out, sizeof out), 235);
    for (size_t i = 0; i < 145; i++)
        assert_int_equal(out[i], 2);
    for (size_t i = 145; i < 235; i++)
        assert_int_equal(out[i], 7);
    assert_int_equal(edist_outq_done(&q, chain, 235), 0);
    assert_int_equal(q.bytes, 0);
    /* Into an empty queue: head and tail are the new chunk. */
    assert_int_equal(edist_outq_push_front(&q, iov, 1, 4), 0);
    assert_int_equal(put(&q, 3, 5), 0);
    chain = edist_outq_take(&q);
    assert_int_equal(gather(chain, out, sizeof out), 9);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[8], 5);
    assert_int_equal(edist_outq_done(&q, chain, 9), 0);
    edist_outq_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_front),
        cmocka_unit_test(test_order_partial_putback),
        cmocka_unit_test(test_small_until_burst),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_zero_progress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
