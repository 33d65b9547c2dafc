/* test_msgpool.c: received-message storage: reuse, caps, trim, close. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edist/edist.h"
#include "rt/msgpool.h"

/* A base allocator that counts what it hands out, so that every test can
 * tell a block from the cache from a new one, and find leaks. */
typedef struct counting {
    atomic_long mallocs, frees, live;
} counting;

static void *c_malloc(size_t n, void *ud)
{
    counting *c = ud;
    atomic_fetch_add(&c->mallocs, 1);
    atomic_fetch_add(&c->live, 1);
    return malloc(n);
}

static void *c_realloc(void *p, size_t n, void *ud)
{
    counting *c = ud;
    if (!p) {
        atomic_fetch_add(&c->mallocs, 1);
        atomic_fetch_add(&c->live, 1);
    }
    return realloc(p, n);
}

static void c_free(void *p, void *ud)
{
    counting *c = ud;
    if (!p)
        return;
    atomic_fetch_add(&c->frees, 1);
    atomic_fetch_add(&c->live, -1);
    free(p);
}

typedef struct fixture {
    counting c;
    edist_allocator a;
    msgpool *p;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->a.malloc = c_malloc;
    f->a.realloc = c_realloc;
    f->a.free = c_free;
    f->a.ud = &f->c;
    f->p = msgpool_new(&f->a);
    assert_non_null(f->p);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    msgpool_close(f->p);
    /* Everything, the pool included, went back to the base allocator. */
    assert_int_equal(atomic_load(&f->c.live), 0);
    free(f);
    return 0;
}

static edist_msg *take(fixture *f, size_t len)
{
    edist_msg *m = msgpool_msg(f->p, len);
    assert_non_null(m);
    assert_int_equal(m->len, len);
    assert_null(m->next);
    /* The whole data area is writable. */
    memset(m->data, 0xab, len);
    return m;
}

static void test_small_bypass(void **state)
{
    fixture *f = *state;
    long before = atomic_load(&f->c.mallocs);
    edist_msg *m = take(f, 100);
    assert_ptr_equal(m->alloc, &f->a);
    edist_msg_free(m);
    m = take(f, 100);
    /* Small messages are the base allocator's: one allocation each. */
    assert_int_equal(atomic_load(&f->c.mallocs), before + 2);
    edist_msg_free(m);
}

static void test_reuse(void **state)
{
    fixture *f = *state;
    edist_msg *m = take(f, 64 * 1024 + 30);
    assert_ptr_not_equal(m->alloc, &f->a);
    uint8_t *first = m->data;
    long allocs = atomic_load(&f->c.mallocs);
    edist_msg_free(m);
    /* Same size, a little smaller, a little larger (same pages): the
     * cached block again, with no allocation. */
    size_t sizes[] = {64 * 1024 + 30, 64 * 1024, 64 * 1024 + 100};
    for (size_t i = 0; i < 3; i++) {
        m = take(f, sizes[i]);
        assert_ptr_equal(m->data, first);
        edist_msg_free(m);
    }
    assert_int_equal(atomic_load(&f->c.mallocs), allocs);
    /* A block much larger than asked for is not used for it. */
    m = take(f, 20 * 1024);
    assert_ptr_not_equal(m->data, first);
    assert_int_equal(atomic_load(&f->c.mallocs), allocs + 1);
    edist_msg_free(m);
}

static void test_caps(void **state)
{
    fixture *f = *state;
    edist_msg *ms[MSGPOOL_MAX_BLOCKS + 4];
    size_t n = MSGPOOL_MAX_BLOCKS + 4;
    for (size_t i = 0; i < n; i++)
        ms[i] = take(f, 40 * 1024);
    long frees = atomic_load(&f->c.frees);
    for (size_t i = 0; i < n; i++)
        edist_msg_free(ms[i]);
    /* At most MSGPOOL_MAX_BLOCKS stay cached; the rest went back. */
    assert_int_equal(atomic_load(&f->c.frees), frees + 4);
    /* Blocks over the size cap are never kept; nor past the byte cap. */
    frees = atomic_load(&f->c.frees);
    edist_msg *big = take(f, MSGPOOL_MAX_BLOCK + 1);
    edist_msg_free(big);
    assert_int_equal(atomic_load(&f->c.frees), frees + 1);
    msgpool_trim(f->p); /* used since the last trim: kept */
    msgpool_trim(f->p); /* idle for an interval: freed */
    for (size_t i = 0; i < 6; i++)
        ms[i] = take(f, 200 * 1024);
    frees = atomic_load(&f->c.frees);
    for (size_t i = 0; i < 6; i++)
        edist_msg_free(ms[i]);
    /* 1 MiB holds five blocks of 204 KiB. */
    assert_int_equal(atomic_load(&f->c.frees), frees + 1);
}

static void test_trim(void **state)
{
    fixture *f = *state;
    edist_msg *m = take(f, 32 * 1024);
    edist_msg_free(m);
    long live = atomic_load(&f->c.live);
    msgpool_trim(f->p);
    /* A block was handed out in this interval: the cache stays. */
    assert_int_equal(atomic_load(&f->c.live), live);
    msgpool_trim(f->p);
    /* A whole interval without a large message: given back. */
    assert_int_equal(atomic_load(&f->c.live), live - 1);
}

static void test_close_outstanding(void **state)
{
    fixture *f = *state;
    edist_msg *kept = take(f, 32 * 1024);
    edist_msg *cached = take(f, 32 * 1024);
    edist_msg_free(cached);
    msgpool_close(f->p);
    /* The pool lives on for the message still out... */
    assert_int_equal(atomic_load(&f->c.live), 2);
    edist_msg_free(kept);
    /* ...and goes with it. */
    assert_int_equal(atomic_load(&f->c.live), 0);
    f->p = msgpool_new(&f->a); /* for the teardown */
}

static void test_resize(void **state)
{
    fixture *f = *state;
    edist_msg *m = take(f, 20 * 1024);
    const edist_allocator *a = m->alloc;
    /* Within the block: in place; beyond: moved, contents kept. */
    edist_msg *r = a->realloc(m, sizeof *m + 20 * 1024 + 10, a->ud);
    assert_ptr_equal(r, m);
    r = a->realloc(r, sizeof *m + 100 * 1024, a->ud);
    assert_non_null(r);
    assert_int_equal(r->data[20 * 1024 - 1], 0xab);
    r->len = 100 * 1024;
    edist_msg_free(r);
}

/* Threads taking and freeing at once, as the I/O thread and the program's
 * receivers do; the sanitizer presets and the leak check in the teardown
 * judge it. */
static atomic_int churn_failures;

static void *churn(void *arg)
{
    fixture *f = arg;
    for (int i = 0; i < 2000; i++) {
        size_t len = 16 * 1024 + (size_t)(i % 7) * 9000;
        edist_msg *m = msgpool_msg(f->p, len);
        /* cmocka's asserts may not jump out of another thread. */
        if (!m || m->len != len) {
            atomic_fetch_add(&churn_failures, 1);
            continue;
        }
        m->data[0] = 1;
        m->data[len - 1] = 2;
        edist_msg_free(m);
        if (i % 500 == 0)
            msgpool_trim(f->p);
    }
    return NULL;
}

static void test_threads(void **state)
{
    fixture *f = *state;
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn, f), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&churn_failures), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_small_bypass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_outstanding, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_resize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
