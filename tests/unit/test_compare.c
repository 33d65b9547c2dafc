/* test_compare.c: term order and exact equality against answers recorded
 * from OTP 25 (vectors/text_vectors.h) and hand-built corner cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edist/edist.h"
#include "edist/etf_text.h"
#include "vectors/text_vectors.h"

static int sgn(int c)
{
    return c < 0 ? -1 : c > 0;
}

static edist_term parse(edist_arena *a, const char *s)
{
    edist_term t;
    edist_text_error e;
    if (edist_term_parse(a, s, strlen(s), NULL, &t, &e) != 0)
        fail_msg("parse %s: %s", s, e.msg);
    return t;
}

static void test_vectors(void **state)
{
    (void)state;
    (void)text_vectors;
    edist_arena *a = edist_arena_new(NULL);
    for (size_t i = 0; i < sizeof cmp_vectors / sizeof *cmp_vectors; i++) {
        const struct cmp_vec *v = &cmp_vectors[i];
        edist_term x = parse(a, v->a), y = parse(a, v->b);
        int c = sgn(edist_term_compare(&x, &y));
        int e = edist_term_equal(&x, &y);
        int k = sgn(edist_term_compare_exact(&x, &y));
        if (c != v->cmp || e != v->eq || k != v->exact)
            fail_msg("%s vs %s: got %d %d %d, OTP says %d %d %d", v->a, v->b, c,
                     e, k, v->cmp, v->eq, v->exact);
        /* Antisymmetry. */
        assert_int_equal(sgn(edist_term_compare(&y, &x)), -c);
        assert_int_equal(sgn(edist_term_compare_exact(&y, &x)), -k);
    }
    edist_arena_free(a);
}

/* Every term compares equal and =:= to itself and its copy. */
static void test_reflexive(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    for (size_t i = 0; i < sizeof text_vectors / sizeof *text_vectors; i++) {
        edist_term t = parse(a, text_vectors[i].in), c;
        assert_int_equal(edist_term_copy(a, &c, &t), 0);
        assert_int_equal(edist_term_compare(&t, &c), 0);
        assert_true(edist_term_equal(&t, &c));
    }
    edist_arena_free(a);
}

static void test_type_order(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_atom n = {"n@h", 3};
    uint32_t ids[3] = {1, 2, 3};
    edist_term fun;
    memset(&fun, 0, sizeof fun);
    fun.type = EDIST_TERM_FUN;
    fun.v.fun.module = n;
    /* number < atom < reference < fun < port < pid < tuple < map < nil <
     * list < bit string; local funs before exports (BEAM FUN_DEF <
     * EXPORT_DEF). */
    edist_term order[] = {parse(a, "1.0e300"),
                          parse(a, "a"),
                          edist_mk_ref(n, 1, ids, 3),
                          fun,
                          parse(a, "fun a:b/1"),
                          edist_mk_port(n, 1, 1),
                          edist_mk_pid(n, 1, 1, 1),
                          parse(a, "{}"),
                          parse(a, "#{}"),
                          parse(a, "[]"),
                          parse(a, "[a]"),
                          parse(a, "<<>>")};
    size_t k = sizeof order / sizeof *order;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++)
            assert_int_equal(sgn(edist_term_compare(&order[i], &order[j])),
                             i < j ? -1 : i > j);
    edist_arena_free(a);
}

/* Pids, ports and refs as erts_cmp orders them (checked against OTP in
 * test_text_erl.sh): pids by serial, id, then node; ports and refs by
 * node first; nodes by name, then creation. */
static void test_ids(void **state)
{
    (void)state;
    edist_atom a = {"a@h", 3}, b = {"b@h", 3};
    edist_term x = edist_mk_pid(b, 1, 1, 1), y = edist_mk_pid(a, 2, 1, 1);
    assert_true(edist_term_compare(&x, &y) < 0); /* id before node */
    x = edist_mk_pid(a, 9, 1, 1);
    y = edist_mk_pid(a, 1, 2, 1);
    assert_true(edist_term_compare(&x, &y) < 0); /* serial before id */
    x = edist_mk_pid(a, 1, 1, 2);
    y = edist_mk_pid(b, 1, 1, 1);
    assert_true(edist_term_compare(&x, &y) < 0); /* name before creation */
    y = edist_mk_pid(a, 1, 1, 1);
    assert_true(edist_term_compare(&x, &y) > 0);
    assert_false(edist_term_equal(&x, &y));
    x = edist_mk_port(a, 9, 1);
    y = edist_mk_port(b, 1, 1);
    assert_true(edist_term_compare(&x, &y) < 0); /* node before id */
    uint32_t i1[3] = {5, 0, 0}, i2[3] = {1, 0, 1};
    x = edist_mk_ref(a, 1, i1, 3);
    y = edist_mk_ref(a, 1, i2, 3);
    assert_true(edist_term_compare(&x, &y) < 0); /* high word first */
    x = edist_mk_ref(b, 1, i1, 3);
    assert_true(edist_term_compare(&x, &y) > 0);
    /* Refs of different lengths: zero high words do not count. */
    uint32_t i3[1] = {5};
    y = edist_mk_ref(b, 1, i3, 1);
    assert_int_equal(edist_term_compare(&x, &y), 0);
    uint32_t i4[3] = {5, 0, 1};
    x = edist_mk_ref(b, 1, i4, 3);
    assert_true(edist_term_compare(&x, &y) > 0);
}

static void test_numbers(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    /* Around 2^63 and 2^64, integers against floats, exactly. */
    const char *asc[] = {"-1.0e300",
                         "-18446744073709551617",
                         "-18446744073709551616.0",
                         "-9223372036854775809",
                         "-9223372036854775808.0",
                         "-9223372036854775807",
                         "-1.5",
                         "-1",
                         "-0.5",
                         "0",
                         "1.0e-300",
                         "1",
                         "9007199254740992.0",
                         "9007199254740993",
                         "9007199254740994.0",
                         "9223372036854775807",
                         "9223372036854775808.0",
                         "9223372036854775809",
                         "18446744073709551616.0",
                         "18446744073709551617",
                         "1.0e300",
                         "2" /* 2 * 10^300 */};
    size_t k = sizeof asc / sizeof *asc;
    edist_term t[32];
    char *big = malloc(310);
    big[0] = '2';
    memset(big + 1, '0', 300);
    big[301] = '\0';
    for (size_t i = 0; i < k; i++)
        t[i] = parse(a, i == k - 1 ? big : asc[i]);
    free(big);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++)
            if (sgn(edist_term_compare(&t[i], &t[j])) != (i < j ? -1 : i > j))
                fail_msg("%s vs %s", asc[i], asc[j]);
    /* Equal values of different types: == but not =:=. */
    edist_term x = parse(a, "18446744073709551616"),
               y = parse(a, "18446744073709551616.0");
    assert_int_equal(edist_term_compare(&x, &y), 0);
    assert_false(edist_term_equal(&x, &y));
    assert_true(edist_term_compare_exact(&x, &y) < 0);
    x = parse(a, "0.0");
    y = parse(a, "-0.0");
    assert_true(edist_term_equal(&x, &y)); /* OTP 25: 0.0 =:= -0.0 */
    edist_arena_free(a);
}

static void test_containers(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    /* A list whose tail is itself a list node equals the flat list. */
    edist_term flat = parse(a, "[1,2,3]"), head, rest;
    assert_int_equal(edist_term_list(a, &head, 1), 0);
    assert_int_equal(edist_term_list(a, &rest, 2), 0);
    head.v.list.elems[0] = edist_mk_int(1);
    rest.v.list.elems[0] = edist_mk_int(2);
    rest.v.list.elems[1] = edist_mk_int(3);
    *head.v.list.tail = rest;
    assert_true(edist_term_equal(&flat, &head));
    rest.v.list.elems[1] = edist_mk_int(4);
    assert_true(edist_term_compare(&flat, &head) < 0);
    /* Maps: equal whatever the stored key order. */
    edist_term m1, m2;
    assert_int_equal(edist_term_map(a, &m1, 3), 0);
    assert_int_equal(edist_term_map(a, &m2, 3), 0);
    const char *ks[3] = {"c", "a", "b"};
    for (int i = 0; i < 3; i++) {
        m1.v.map.keys[i] = edist_mk_atom(ks[i], 1);
        m1.v.map.values[i] = edist_mk_int(i);
        m2.v.map.keys[2 - i] = edist_mk_atom(ks[i], 1);
        m2.v.map.values[2 - i] = edist_mk_int(i);
    }
    assert_true(edist_term_equal(&m1, &m2));
    m2.v.map.values[0] = edist_mk_float(2.0);
    assert_false(edist_term_equal(&m1, &m2));
    assert_int_equal(edist_term_compare(&m1, &m2), 0);
    /* A big map (sorting path) against its reverse. */
    edist_term b1, b2;
    assert_int_equal(edist_term_map(a, &b1, 500), 0);
    assert_int_equal(edist_term_map(a, &b2, 500), 0);
    for (int i = 0; i < 500; i++) {
        b1.v.map.keys[i] = edist_mk_int(i * 7919 % 1000);
        b1.v.map.values[i] = edist_mk_int(i);
        b2.v.map.keys[499 - i] = b1.v.map.keys[i];
        b2.v.map.values[499 - i] = edist_mk_int(i);
    }
    assert_true(edist_term_equal(&b1, &b2));
    b2.v.map.values[0] = edist_mk_int(-1);
    assert_false(edist_term_equal(&b1, &b2));
    edist_arena_free(a);
}

/* A NEW_FUN_EXT header: module m, OldIndex, OldUniq, creator pid, and
 * one free variable (a small integer). */
static size_t fun_raw(uint8_t *r, uint8_t old_index, uint8_t old_uniq,
                      uint8_t env)
{
    size_t k = 0;
    memset(r, 0, 64);
    r[k++] = 112;
    k += 4 + 1 + 16 + 4 + 4;
    r[k++] = 119, r[k++] = 1, r[k++] = 'm';
    r[k++] = 97, r[k++] = old_index;
    r[k++] = 97, r[k++] = old_uniq;
    r[k++] = 88, r[k++] = 119, r[k++] = 1, r[k++] = 'n';
    k += 12;
    r[k++] = 97, r[k++] = env;
    return k;
}

static void test_funs(void **state)
{
    (void)state;
    uint8_t r1[64], r2[64];
    edist_term f1, f2;
    memset(&f1, 0, sizeof f1);
    f1.type = EDIST_TERM_FUN;
    f1.v.fun.module = edist_mk_atom("m", 1).v.atom;
    f1.v.fun.num_free = 1;
    f2 = f1;
    f1.v.fun.raw = r1;
    f2.v.fun.raw = r2;
    f1.v.fun.raw_len = fun_raw(r1, 1, 9, 5);
    f2.v.fun.raw_len = fun_raw(r2, 2, 1, 5);
    assert_true(edist_term_compare(&f1, &f2) < 0); /* OldIndex first */
    fun_raw(r2, 1, 8, 5);
    assert_true(edist_term_compare(&f1, &f2) > 0); /* then OldUniq */
    fun_raw(r2, 1, 9, 5);
    r2[40] = 'x'; /* another creator pid node: not compared */
    assert_int_equal(edist_term_compare(&f1, &f2), 0);
    fun_raw(r2, 1, 9, 6);
    assert_true(edist_term_compare(&f1, &f2) < 0); /* environment */
    f2.v.fun.module = edist_mk_atom("a", 1).v.atom;
    assert_true(edist_term_compare(&f1, &f2) > 0); /* module first */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),    cmocka_unit_test(test_reflexive),
        cmocka_unit_test(test_type_order), cmocka_unit_test(test_ids),
        cmocka_unit_test(test_numbers),    cmocka_unit_test(test_containers),
        cmocka_unit_test(test_funs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
