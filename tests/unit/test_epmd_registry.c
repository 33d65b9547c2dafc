/* test_epmd_registry.c: edist-epmd's node table (epmd/registry.c): OTP's
 * creation numbering, reg/unreg lists, the hash table under growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edist/edist.h"
#include "registry.h"

static const uint8_t seed[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static edist_epmd_node_info info(const char *name, uint16_t hi)
{
    edist_epmd_node_info n = {0};
    n.port = 5555;
    n.node_type = 77;
    n.high_vsn = hi;
    n.low_vsn = 5;
    n.name = (const uint8_t *)name;
    n.name_len = strlen(name);
    n.extra = (const uint8_t *)"\0x";
    n.extra_len = 2;
    return n;
}

static epmd_node *reg(epmd_registry *r, const char *name, uint64_t now)
{
    edist_epmd_node_info n = info(name, 6);
    epmd_node *out = NULL;
    assert_int_equal(epmd_registry_register(r, &n, NULL, 3, now, &out), 0);
    return out;
}

static void test_register_lookup(void **state)
{
    (void)state;
    epmd_registry r;
    assert_int_equal(epmd_registry_init(&r, 1000, seed), 0);
    epmd_node *a = reg(&r, "a", 1000);
    assert_int_equal(a->counter, 1001); /* time + 1 */
    assert_int_equal(epmd_node_creation(a), 1001);
    assert_ptr_equal(epmd_registry_lookup(&r, (const uint8_t *)"a", 1), a);
    assert_null(epmd_registry_lookup(&r, (const uint8_t *)"b", 1));
    assert_null(epmd_registry_lookup(&r, (const uint8_t *)"a\0", 2));
    edist_epmd_node_info i;
    epmd_node_info(a, &i);
    assert_int_equal(i.extra_len, 2);
    assert_memory_equal(i.extra, "\0x", 2);
    /* Same name while live: refused, registry unchanged. */
    edist_epmd_node_info dup = info("a", 6);
    epmd_node *out = NULL;
    assert_int_equal(epmd_registry_register(&r, &dup, NULL, 4, 1000, &out),
                     EDIST_ENAMEINUSE);
    assert_int_equal(r.live, 1);
    /* Invalid records are refused by the same checks as the daemon's. */
    edist_epmd_node_info bad = info("\xc0\x80", 6);
    assert_int_equal(epmd_registry_register(&r, &bad, NULL, 4, 1000, &out),
                     EDIST_EUTF8);
    /* Newest first. */
    epmd_node *b = reg(&r, "b", 1000);
    assert_ptr_equal(r.reg_head, b);
    assert_ptr_equal(b->next, a);
    epmd_registry_free(&r);
}

static void test_creation_rules(void **state)
{
    (void)state;
    epmd_registry r;
    assert_int_equal(epmd_registry_init(&r, 1000, seed), 0);
    epmd_node *a = reg(&r, "a", 500);
    assert_int_equal(a->counter, 501);
    epmd_registry_unregister(&r, a);
    assert_int_equal(r.live, 0);
    assert_int_equal(r.unreg_count, 1);
    assert_null(epmd_registry_lookup(&r, (const uint8_t *)"a", 1));
    /* Coming back: counter + 1 regardless of the clock. */
    a = reg(&r, "a", 9999);
    assert_int_equal(a->counter, 502);
    assert_int_equal(r.unreg_count, 0);
    /* Version 5 nodes get counter % 3 + 1 (1..3). */
    edist_epmd_node_info v5 = info("old", 5);
    epmd_node *o = NULL;
    assert_int_equal(epmd_registry_register(&r, &v5, NULL, 3, 700, &o), 0);
    assert_int_equal(epmd_node_creation(o), 701 % 3 + 1);
    /* Counters never go below 4 (0..3 are reserved). */
    epmd_node *z = reg(&r, "z", 0);
    assert_int_equal(z->counter, 4);
    epmd_registry_unregister(&r, z);
    z = reg(&r, "z", 0);
    assert_int_equal(z->counter, 5);
    /* Unregistering twice is harmless. */
    epmd_registry_unregister(&r, z);
    epmd_registry_unregister(&r, z);
    assert_int_equal(r.unreg_count, 1);
    epmd_registry_free(&r);
}

static void test_unreg_recycling(void **state)
{
    (void)state;
    /* unreg_max 5 (OTP with -d): once more than 5 wait, a new name takes
     * the oldest unreg record's counter (not bumped). */
    epmd_registry r;
    assert_int_equal(epmd_registry_init(&r, 5, seed), 0);
    char name[16];
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "u%d", i);
        epmd_node *n = reg(&r, name, (uint64_t)(100 * (i + 1)));
        epmd_registry_unregister(&r, n);
    }
    assert_int_equal(r.unreg_count, 6);
    assert_memory_equal(epmd_node_name(r.unreg_head), "u0", 2);
    epmd_node *fresh = reg(&r, "fresh", 5000);
    assert_int_equal(fresh->counter, 101); /* u0's counter */
    assert_int_equal(r.unreg_count, 5);
    assert_memory_equal(epmd_node_name(r.unreg_head), "u1", 2);
    /* u0 is forgotten: it comes back with a fresh counter. */
    epmd_node *u0 = reg(&r, "u0", 7000);
    assert_int_equal(u0->counter, 7001);
    /* With exactly 5 waiting, a new name allocates (time-based). */
    epmd_node *n2 = reg(&r, "n2", 8000);
    assert_int_equal(r.unreg_count, 5);
    assert_int_equal(n2->counter, 8001);
    epmd_registry_free(&r);
}

static void test_many(void **state)
{
    (void)state;
    epmd_registry r;
    assert_int_equal(epmd_registry_init(&r, 1000, seed), 0);
    enum { N = 30000 };
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "node%d", i);
        reg(&r, name, 1);
    }
    assert_int_equal(r.live, N);
    assert_true(r.nbuckets >= N); /* the table grew: O(1) chains */
    for (int i = 0; i < N; i += 7) {
        snprintf(name, sizeof name, "node%d", i);
        epmd_node *n =
            epmd_registry_lookup(&r, (const uint8_t *)name, strlen(name));
        assert_non_null(n);
        if (i % 2)
            epmd_registry_unregister(&r, n);
    }
    size_t longest = 0;
    for (size_t b = 0; b < r.nbuckets; b++) {
        size_t len = 0;
        for (epmd_node *n = r.buckets[b]; n; n = n->hnext)
            len++;
        if (len > longest)
            longest = len;
    }
    assert_true(longest < 16);
    epmd_registry_free(&r);
}

static void test_siphash_vector(void **state)
{
    (void)state;
    /* SipHash-2-4 reference: key 00..0f, message 00..0e -> a129ca6149be45e5
     * (the paper's test vector, 15-byte input). */
    uint8_t msg[15];
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
    assert_int_equal(epmd_siphash(k0, k1, msg, 15), 0xa129ca6149be45e5ULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_lookup),
        cmocka_unit_test(test_creation_rules),
        cmocka_unit_test(test_unreg_recycling),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_siphash_vector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
