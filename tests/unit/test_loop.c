/* test_loop.c: commands run on the I/O thread, in order; stop is clean. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edist/edist.h"
#include "rt/loop.h"

typedef struct ctx {
    edist_loop *loop;
    int count;
    int last;
    int ordered;
    int stopped;
    uv_timer_t timer;
} ctx;

typedef struct num_cmd {
    edist_loop_cmd cmd;
    int n;
} num_cmd;

static void run_num(edist_loop_cmd *c, void *vctx)
{
    ctx *x = vctx;
    num_cmd *nc = (num_cmd *)c;
    assert_true(edist_loop_on_thread(x->loop));
    if (nc->n != x->last + 1)
        x->ordered = 0;
    x->last = nc->n;
    x->count++;
    free(nc);
}

static int read_count(void *arg, void *vctx)
{
    (void)arg;
    return ((ctx *)vctx)->count;
}

static void on_stop(void *vctx)
{
    ctx *x = vctx;
    x->stopped = 1;
    uv_close((uv_handle_t *)&x->timer, NULL);
}

static void test_post_and_call(void **state)
{
    (void)state;
    edist_loop l;
    ctx x = {.loop = &l, .ordered = 1};
    assert_int_equal(edist_loop_init(&l, &x, on_stop), 0);
    /* A handle the loop owns: on_stop must close it or stop would hang. */
    uv_timer_init(&l.uv, &x.timer);
    assert_int_equal(edist_loop_start(&l), 0);
    assert_false(edist_loop_on_thread(&l));
    for (int i = 1; i <= 10000; i++) {
        num_cmd *c = malloc(sizeof *c);
        c->cmd.fn = run_num;
        c->n = i;
        assert_int_equal(edist_loop_post(&l, &c->cmd), 0);
    }
    /* A synchronous call runs after everything posted before it. */
    assert_int_equal(edist_loop_call(&l, read_count, NULL), 10000);
    edist_loop_stop(&l);
    assert_true(x.ordered);
    assert_true(x.stopped);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_and_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
