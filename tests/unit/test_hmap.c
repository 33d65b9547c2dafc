/* test_hmap.c: the hash map against a brute-force model, with churn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/hmap.h"
#include "edist/edist.h"

#define N 5000

static void test_model(void **state)
{
    (void)state;
    edist_hmap m;
    edist_hmap_init(&m, NULL);
    static int present[N];
    memset(present, 0, sizeof present);
    uint32_t seed = 12345;
    for (int round = 0; round < 200000; round++) {
        seed = seed * 1103515245u + 12345u;
        int k = (int)((seed >> 8) % N);
        char key[16];
        int klen = snprintf(key, sizeof key, "k%d", k);
        int op = (int)((seed >> 4) % 3);
        if (op == 0) {
            int rc = edist_hmap_put(&m, key, (size_t)klen, &present[k]);
            assert_int_equal(rc, present[k] ? EDIST_EEXIST : 0);
            present[k] = 1;
        } else if (op == 1) {
            void *v = edist_hmap_del(&m, key, (size_t)klen);
            assert_true((v != NULL) == (present[k] != 0));
            present[k] = 0;
        } else {
            void *v = edist_hmap_get(&m, key, (size_t)klen);
            assert_true((v != NULL) == (present[k] != 0));
            if (v)
                assert_ptr_equal(v, &present[k]);
        }
    }
    size_t live = 0;
    for (int k = 0; k < N; k++)
        live += present[k] != 0;
    assert_int_equal(m.count, live);
    assert_true(m.cap <= 4 * 2 * N); /* churn did not blow the table up */
    edist_hmap_free(&m);
}

static void test_binary_keys(void **state)
{
    (void)state;
    edist_hmap m;
    edist_hmap_init(&m, NULL);
    int a, b;
    assert_int_equal(edist_hmap_put(&m, "a\0b", 3, &a), 0);
    assert_int_equal(edist_hmap_put(&m, "a\0c", 3, &b), 0);
    assert_int_equal(edist_hmap_put(&m, "", 0, &b), 0);
    assert_ptr_equal(edist_hmap_get(&m, "a\0b", 3), &a);
    assert_ptr_equal(edist_hmap_get(&m, "", 0), &b);
    assert_null(edist_hmap_get(&m, "a", 1));
    edist_hmap_free(&m);
}

/* edist_hmap_ref: the value's address, replaced in place. */
static void test_ref(void **state)
{
    (void)state;
    edist_hmap m;
    int a = 1, b = 2;
    edist_hmap_init(&m, NULL);
    assert_null(edist_hmap_ref(&m, "k", 1));
    assert_int_equal(edist_hmap_put(&m, "k", 1, &a), 0);
    void **v = edist_hmap_ref(&m, "k", 1);
    assert_non_null(v);
    assert_ptr_equal(*v, &a);
    *v = &b;
    assert_ptr_equal(edist_hmap_get(&m, "k", 1), &b);
    assert_ptr_equal(edist_hmap_del(&m, "k", 1), &b);
    assert_null(edist_hmap_ref(&m, "k", 1));
    edist_hmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_binary_keys),
        cmocka_unit_test(test_ref),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
