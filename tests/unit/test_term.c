/* test_term.c: arena and term constructors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edist/edist.h"
#include "edist/term.h"

static void test_arena_basic(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    assert_non_null(a);
    for (int i = 0; i < 10000; i++) {
        char *p = edist_arena_alloc(a, (size_t)(i % 100) + 1);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        memset(p, 0xAB, (size_t)(i % 100) + 1);
    }
    void *big = edist_arena_alloc(a, 1 << 20);
    assert_non_null(big);
    memset(big, 1, 1 << 20);
    edist_arena_reset(a);
    assert_int_equal(edist_arena_used(a), 0);
    assert_non_null(edist_arena_alloc(a, 10));
    assert_null(edist_arena_calloc(a, SIZE_MAX / 2, 4));
    edist_arena_free(a);
    edist_arena_free(NULL);
}

static void test_arena_limit(void **state)
{
    (void)state;
    edist_arena_opts o = {.limit = 1000};
    edist_arena *a = edist_arena_new(&o);
    assert_non_null(edist_arena_alloc(a, 500));
    assert_null(edist_arena_alloc(a, 600));
    assert_non_null(edist_arena_alloc(a, 100));
    edist_arena_free(a);
}

static void test_constructors(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    assert_int_equal(edist_term_tuple(a, &t, 2), 0);
    assert_int_equal(t.v.tuple.elems[1].type, EDIST_TERM_NIL);
    assert_int_equal(edist_term_atom(a, &t.v.tuple.elems[0], "ok", 2), 0);
    assert_true(edist_term_is_atom(&t.v.tuple.elems[0], "ok"));
    assert_false(edist_term_is_atom(&t.v.tuple.elems[0], "o"));
    t.v.tuple.elems[1] = edist_mk_int(42);

    edist_term at;
    assert_int_equal(edist_term_atom(a, &at, "\xff", 1), EDIST_EUTF8);
    char longname[300];
    memset(longname, 'x', sizeof longname);
    assert_int_equal(edist_term_atom(a, &at, longname, 255), 0);
    assert_int_equal(edist_term_atom(a, &at, longname, 256), EDIST_EATOMLEN);

    edist_term l;
    assert_int_equal(edist_term_string(a, &l, "abc", 3), 0);
    assert_int_equal(l.type, EDIST_TERM_LIST);
    assert_int_equal(l.v.list.len, 3);
    assert_int_equal(l.v.list.elems[2].v.i, 'c');
    assert_int_equal(l.v.list.tail->type, EDIST_TERM_NIL);
    assert_int_equal(edist_term_string(a, &l, "", 0), 0);
    assert_int_equal(l.type, EDIST_TERM_NIL);

    edist_term b;
    assert_int_equal(edist_term_bitstring(a, &b, "\xff", 1, 3), 0);
    assert_int_equal(b.v.bin.data[0], 0xE0);
    assert_int_equal(edist_term_bitstring(a, &b, "", 0, 3), EDIST_EINVAL);
    assert_int_equal(edist_term_bitstring(a, &b, "\x01", 1, 9), EDIST_EINVAL);

    edist_term m;
    assert_int_equal(edist_term_map(a, &m, 3), 0);
    assert_ptr_equal(m.v.map.values, m.v.map.keys + 3);

    edist_term copy;
    assert_int_equal(edist_term_copy(a, &copy, &t), 0);
    assert_ptr_not_equal(copy.v.tuple.elems, t.v.tuple.elems);
    assert_true(edist_term_is_atom(&copy.v.tuple.elems[0], "ok"));
    edist_arena_free(a);
}

static void test_bigint_normalise(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    const uint8_t max[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    assert_int_equal(edist_term_bigint(a, &t, 0, max, 8), 0);
    assert_int_equal(t.type, EDIST_TERM_INT);
    assert_true(t.v.i == INT64_MAX);
    const uint8_t min[9] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0};
    assert_int_equal(edist_term_bigint(a, &t, 1, min, 9), 0);
    assert_int_equal(t.type, EDIST_TERM_INT);
    assert_true(t.v.i == INT64_MIN);
    assert_int_equal(edist_term_bigint(a, &t, 0, min, 9), 0);
    assert_int_equal(t.type, EDIST_TERM_BIGINT);
    assert_int_equal(t.v.big.n, 8);
    const uint8_t two64[9] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
    assert_int_equal(edist_term_bigint(a, &t, 1, two64, 9), 0);
    assert_int_equal(t.type, EDIST_TERM_BIGINT);
    assert_int_equal(t.v.big.negative, 1);
    assert_int_equal(edist_term_bigint(a, &t, 1, NULL, 0), 0);
    assert_int_equal(t.type, EDIST_TERM_INT);
    assert_int_equal(t.v.i, 0);
    edist_arena_free(a);
}

/* A list whose tail is a list, and so on, as the decoder accepts (LIST_EXT
 * of one element whose tail is another LIST_EXT): copying it must walk the
 * tails, not recurse on them, like the decoder and the comparison do. */
static void test_copy_tail_chain(void **state)
{
    (void)state;
    enum { CHAIN = 1000000 };
    edist_arena *a = edist_arena_new(NULL);
    assert_non_null(a);
    edist_term *cells = edist_arena_alloc(a, CHAIN * 2 * sizeof *cells);
    assert_non_null(cells);
    edist_term end = edist_mk_int(-1); /* the last tail: improper */
    for (size_t i = 0; i < CHAIN; i++) {
        edist_term *l = &cells[2 * i];
        l->type = EDIST_TERM_LIST;
        l->v.list.len = 1;
        l->v.list.elems = &cells[2 * i + 1];
        l->v.list.tail = i + 1 < CHAIN ? &cells[2 * i + 2] : &end;
        cells[2 * i + 1] = edist_mk_int((int64_t)i);
    }
    edist_term copy;
    assert_int_equal(edist_term_copy(a, &copy, &cells[0]), 0);
    assert_true(edist_term_equal(&copy, &cells[0]));
    const edist_term *c = &copy;
    for (size_t i = 0; i < CHAIN; i++) {
        assert_int_equal(c->type, EDIST_TERM_LIST);
        assert_int_equal(c->v.list.len, 1);
        assert_ptr_not_equal(c, &cells[2 * i]);
        assert_true(c->v.list.elems[0].v.i == (int64_t)i);
        c = c->v.list.tail;
    }
    assert_int_equal(c->type, EDIST_TERM_INT);
    assert_true(c->v.i == -1);
    edist_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_basic),
        cmocka_unit_test(test_arena_limit),
        cmocka_unit_test(test_constructors),
        cmocka_unit_test(test_bigint_normalise),
        cmocka_unit_test(test_copy_tail_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
