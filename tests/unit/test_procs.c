/* test_procs.c: pid allocation, names, references across threads. */
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edist/edist.h"
#include "rt/procs.h"

static atomic_int released;
static void on_release(edist_proc *p)
{
    released++;
    free(p);
}

static edist_proc *mk(void)
{
    edist_proc *p = calloc(1, sizeof *p);
    p->release = on_release;
    return p;
}

static void test_pids_and_names(void **state)
{
    (void)state;
    edist_procs t;
    assert_int_equal(edist_procs_init(&t, 3, NULL), 0);
    edist_proc *a = mk(), *b = mk(), *c = mk(), *d = mk();
    assert_int_equal(edist_procs_add(&t, a), 0);
    assert_int_equal(edist_procs_add(&t, b), 0);
    assert_int_equal(edist_procs_add(&t, c), 0);
    assert_int_equal(edist_procs_add(&t, d), EDIST_ETOOBIG);
    free(d);
    assert_int_not_equal(a->id, b->id);
    assert_int_not_equal(a->id, 0);

    assert_int_equal(edist_procs_register(&t, a, "echo", 4), 0);
    assert_int_equal(edist_procs_register(&t, b, "echo", 4), EDIST_EEXIST);
    assert_int_equal(edist_procs_register(&t, a, "other", 5), EDIST_EEXIST);
    assert_int_equal(edist_procs_register(&t, b, "", 0), EDIST_EINVAL);

    edist_proc *p = edist_procs_by_name(&t, "echo", 4);
    assert_ptr_equal(p, a);
    edist_procs_put(p);
    p = edist_procs_by_pid(&t, b->id, b->serial);
    assert_ptr_equal(p, b);

    /* Removing b while we hold a reference must not free it yet. */
    edist_procs_remove(&t, b);
    assert_int_equal(released, 0);
    assert_null(edist_procs_by_pid(&t, b->id, b->serial));
    edist_procs_put(p);
    assert_int_equal(released, 1);

    assert_int_equal(edist_procs_unregister(&t, a), 0);
    assert_int_equal(edist_procs_unregister(&t, a), EDIST_ENOTFOUND);
    assert_null(edist_procs_by_name(&t, "echo", 4));
    assert_int_equal(edist_procs_register(&t, c, "echo", 4), 0);
    edist_procs_remove(&t, a);
    edist_procs_get(c); /* hold c so that a second remove is legal */
    edist_procs_remove(&t, c);
    edist_procs_remove(&t, c);
    edist_procs_put(c);
    assert_int_equal(released, 3);
    edist_procs_destroy(&t);
}

static edist_procs shared;

static void *churn(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        edist_proc *p = mk();
        if (edist_procs_add(&shared, p) != 0) {
            free(p);
            continue;
        }
        edist_proc *q = edist_procs_by_pid(&shared, p->id, p->serial);
        assert_ptr_equal(q, p);
        edist_procs_remove(&shared, p);
        edist_procs_put(q);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    released = 0;
    assert_int_equal(edist_procs_init(&shared, 0, NULL), 0);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, churn, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(released, 8000);
    assert_int_equal(shared.count, 0);
    edist_procs_destroy(&shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pids_and_names),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
