/* test_mqueue.c: mailbox queue order, timeouts, eventfd, caps, threads. */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "edist/edist.h"
#include "rt/mqueue.h"

static edist_msg *mk(uint32_t v)
{
    edist_msg *m = edist_msg_alloc(NULL, sizeof v);
    assert_non_null(m);
    memcpy(m->data, &v, sizeof v);
    return m;
}

static uint32_t val(edist_msg *m)
{
    uint32_t v;
    memcpy(&v, m->data, sizeof v);
    free(m);
    return v;
}

static int readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

static void test_order_and_fd(void **state)
{
    (void)state;
    edist_mqueue q;
    assert_int_equal(edist_mqueue_init(&q, 0), 0);
    assert_false(readable(edist_mqueue_fd(&q)));
    edist_msg *m;
    assert_int_equal(edist_mqueue_pop(&q, &m, 0), EDIST_ETIMEDOUT);
    for (uint32_t i = 0; i < 100; i++)
        assert_int_equal(edist_mqueue_push(&q, mk(i)), 0);
    assert_true(readable(edist_mqueue_fd(&q)));
    for (uint32_t i = 0; i < 100; i++) {
        assert_int_equal(edist_mqueue_pop(&q, &m, 0), 0);
        assert_int_equal(val(m), i);
    }
    assert_false(readable(edist_mqueue_fd(&q)));
    edist_mqueue_push(&q, mk(7));
    edist_mqueue_close(&q);
    assert_true(readable(edist_mqueue_fd(&q)));
    m = mk(8);
    assert_int_equal(edist_mqueue_push(&q, m), EDIST_ECLOSED);
    free(m);
    assert_int_equal(edist_mqueue_pop(&q, &m, -1), 0);
    assert_int_equal(val(m), 7);
    assert_true(readable(edist_mqueue_fd(&q)));
    assert_int_equal(edist_mqueue_pop(&q, &m, -1), EDIST_ECLOSED);
    edist_mqueue_destroy(&q);
}

static void test_timeout(void **state)
{
    (void)state;
    edist_mqueue q;
    assert_int_equal(edist_mqueue_init(&q, 0), 0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    edist_msg *m;
    assert_int_equal(edist_mqueue_pop(&q, &m, 50), EDIST_ETIMEDOUT);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    assert_true(ms >= 49);
    edist_mqueue_push(&q, mk(1)); /* left queued: destroy frees it */
    edist_mqueue_destroy(&q);
}

static long ms_since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

/* A deadline shared by successive receives: unset, a receive that finds
 * its message leaves it unset (no clock read); the first that waits sets
 * it, and the next waits only for what is left of it. */
static void test_shared_deadline(void **state)
{
    (void)state;
    edist_mqueue q;
    assert_int_equal(edist_mqueue_init(&q, 0), 0);
    edist_mq_deadline dl = {0};
    edist_msg *m;
    edist_mqueue_push(&q, mk(7));
    assert_int_equal(edist_mqueue_pop_by(&q, &m, 1, 200, &dl, NULL), 1);
    assert_int_equal(val(m), 7);
    assert_int_equal(dl.set, 0);
    struct timespec a;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(edist_mqueue_pop_by(&q, &m, 1, 200, &dl, NULL),
                     EDIST_ETIMEDOUT);
    assert_int_equal(dl.set, 1);
    assert_true(ms_since(&a) >= 199);
    /* The same deadline, passed: no second wait of 200 ms. */
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(edist_mqueue_pop_by(&q, &m, 1, 200, &dl, NULL),
                     EDIST_ETIMEDOUT);
    assert_true(ms_since(&a) < 150);
    edist_mqueue_destroy(&q);
}

static int drained;
static void on_drain(void *ud)
{
    (void)ud;
    drained++;
}

static void test_cap_backpressure(void **state)
{
    (void)state;
    edist_mqueue q;
    assert_int_equal(edist_mqueue_init(&q, 16), 0);
    q.on_drain = on_drain;
    assert_int_equal(edist_mqueue_push(&q, mk(1)), 0);
    assert_int_equal(edist_mqueue_push(&q, mk(2)), 0);
    assert_int_equal(edist_mqueue_push(&q, mk(3)), 0);
    assert_int_equal(edist_mqueue_push(&q, mk(4)), 0);
    assert_int_equal(edist_mqueue_push(&q, mk(5)), 1); /* 20 > 16 */
    edist_msg *m;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(edist_mqueue_pop(&q, &m, 0), 0);
        free(m);
    }
    assert_int_equal(drained, 0); /* 12 bytes: still above half */
    assert_int_equal(edist_mqueue_pop(&q, &m, 0), 0);
    free(m);
    assert_int_equal(drained, 1); /* 8 bytes: resume */
    edist_mqueue_destroy(&q);
}

#define PRODUCERS 4
#define PER       20000

static void *producer(void *arg)
{
    edist_mqueue *q = arg;
    for (uint32_t i = 0; i < PER; i++)
        edist_mqueue_push(q, mk(i));
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    edist_mqueue q;
    assert_int_equal(edist_mqueue_init(&q, 0), 0);
    pthread_t t[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++)
        pthread_create(&t[i], NULL, producer, &q);
    uint64_t sum = 0;
    for (int i = 0; i < PRODUCERS * PER; i++) {
        edist_msg *m;
        assert_int_equal(edist_mqueue_pop(&q, &m, 5000), 0);
        sum += val(m);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    assert_true(sum == (uint64_t)PRODUCERS * PER * (PER - 1) / 2);
    assert_false(readable(edist_mqueue_fd(&q)));
    edist_mqueue_destroy(&q);
}

/* A chain goes in under one lock, in order; pop_many takes at most max
 * and never waits for more than the first; the lazily created fd starts
 * in the right state. */
static void test_chain_and_many(void **state)
{
    (void)state;
    edist_mqueue q;
    assert_int_equal(edist_mqueue_init(&q, 0), 0);
    edist_msg *a = mk(1), *b = mk(2), *c = mk(3);
    a->next = b;
    b->next = c;
    assert_int_equal(edist_mqueue_push_chain(&q, a, c, 3, 3 * sizeof(uint32_t)),
                     0);
    /* Created after the pushes: readable at once. */
    assert_true(readable(edist_mqueue_fd(&q)));
    edist_msg *out[4];
    assert_int_equal(edist_mqueue_pop_many(&q, out, 2, 0), 2);
    assert_int_equal(val(out[0]), 1);
    assert_int_equal(val(out[1]), 2);
    assert_true(readable(edist_mqueue_fd(&q)));
    assert_int_equal(edist_mqueue_pop_many(&q, out, 4, 50), 1);
    assert_null(out[0]->next);
    assert_int_equal(val(out[0]), 3);
    assert_false(readable(edist_mqueue_fd(&q)));
    assert_int_equal(edist_mqueue_pop_many(&q, out, 4, 0), EDIST_ETIMEDOUT);
    edist_mqueue_push(&q, mk(4));
    assert_true(readable(edist_mqueue_fd(&q)));
    edist_mqueue_close(&q);
    assert_int_equal(edist_mqueue_pop_many(&q, out, 4, -1), 1);
    assert_int_equal(val(out[0]), 4);
    assert_int_equal(edist_mqueue_pop_many(&q, out, 4, -1), EDIST_ECLOSED);
    assert_true(readable(edist_mqueue_fd(&q)));
    edist_mqueue_destroy(&q);
}

/* A reader blocked in pop_many is woken by a chain pushed from another
 * thread (the signal comes after the unlock, and only with a waiter). */
static void *push_later(void *arg)
{
    edist_mqueue *q = arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    edist_msg *a = mk(7), *b = mk(8);
    a->next = b;
    edist_mqueue_push_chain(q, a, b, 2, 2 * sizeof(uint32_t));
    return NULL;
}

static void test_wakeup(void **state)
{
    (void)state;
    edist_mqueue q;
    assert_int_equal(edist_mqueue_init(&q, 0), 0);
    pthread_t t;
    pthread_create(&t, NULL, push_later, &q);
    edist_msg *out[8];
    int k = edist_mqueue_pop_many(&q, out, 8, 5000);
    assert_true(k == 1 || k == 2);
    assert_int_equal(val(out[0]), 7);
    if (k == 1) {
        assert_int_equal(edist_mqueue_pop_many(&q, out, 8, 0), 1);
        assert_int_equal(val(out[0]), 8);
    } else {
        assert_int_equal(val(out[1]), 8);
    }
    pthread_join(t, NULL);
    edist_mqueue_destroy(&q);
}

/* A stand-in for the node's leader (rx.c): waiting polls the eventfd,
 * as the leader's epoll set does, and counts what happened. */
typedef struct fake_leader {
    int efd;
    int leads;  /* times try_lead granted the leadership */
    int woken;  /* waits that ended on the eventfd */
    int refuse; /* try_lead says no */
    /* When set, another reader of q takes the leadership during the wait
     * (as thread other) and a message arrives. */
    edist_mqueue *q;
    pthread_t other;
} fake_leader;

static int fake_try_lead(void *ctx)
{
    fake_leader *f = ctx;
    if (f->refuse)
        return 0;
    f->leads++;
    return 1;
}

static void fake_wait(void *ctx, int timeout_ms)
{
    fake_leader *f = ctx;
    if (f->q) {
        pthread_mutex_lock(&f->q->mu);
        f->q->lead = 1;
        f->q->lead_thread = f->other;
        pthread_mutex_unlock(&f->q->mu);
        edist_mqueue_push(f->q, mk(5));
    }
    struct pollfd p = {.fd = f->efd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) == 1) {
        uint64_t v;
        if (read(f->efd, &v, sizeof v) == (ssize_t)sizeof v)
            f->woken++;
    }
}

static void test_leader_woken_by_push(void **state)
{
    (void)state;
    edist_mqueue q;
    assert_int_equal(edist_mqueue_init(&q, 0), 0);
    fake_leader f = {0};
    f.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    assert_true(f.efd >= 0);
    edist_mq_leader ld = {fake_try_lead, fake_wait, &f, f.efd};
    pthread_t t;
    pthread_create(&t, NULL, push_later, &q);
    edist_msg *out[8];
    /* The reader waits as the leader: only the eventfd can wake it
     * before the 5 s timeout (the push comes after 20 ms). */
    struct timespec t0, t1;
    atomic_store(&q.asked, 1); /* a reply is expected: lead */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int k = edist_mqueue_pop_led(&q, out, 8, 5000, &ld);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 2);
    assert_true(k == 1 || k == 2);
    assert_int_equal(val(out[0]), 7);
    if (k == 1)
        assert_int_equal(edist_mqueue_pop_many(&q, out + 1, 7, 0), 1);
    assert_int_equal(val(out[1]), 8);
    assert_true(f.leads >= 1);
    assert_true(f.woken >= 1);
    pthread_join(t, NULL);
    /* A sink (nothing sent since the last pop) does not lead. */
    int leads = f.leads;
    assert_int_equal(edist_mqueue_pop_led(&q, out, 8, 30, &ld),
                     EDIST_ETIMEDOUT);
    assert_int_equal(f.leads, leads);
    /* Times out like a plain pop, with the leadership given back. */
    atomic_store(&q.asked, 1);
    assert_int_equal(edist_mqueue_pop_led(&q, out, 8, 30, &ld),
                     EDIST_ETIMEDOUT);
    close(f.efd);
    edist_mqueue_destroy(&q);
}

static void test_leader_own_push_no_wake(void **state)
{
    (void)state;
    edist_mqueue q;
    assert_int_equal(edist_mqueue_init(&q, 0), 0);
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    assert_true(efd >= 0);
    /* The leader pushing to its own queue (routing what it read) must not
     * write the eventfd: that would be a wasted system call. */
    q.lead = 1;
    q.lead_thread = pthread_self();
    q.lead_efd = efd;
    assert_int_equal(edist_mqueue_push(&q, mk(1)), 0);
    assert_false(readable(efd));
    q.lead = 0;
    edist_msg *m;
    assert_int_equal(edist_mqueue_pop(&q, &m, 0), 0);
    assert_int_equal(val(m), 1);
    close(efd);
    edist_mqueue_destroy(&q);
}

static void *nothing(void *arg)
{
    return arg;
}

static void test_leader_refused_uses_cv(void **state)
{
    (void)state;
    edist_mqueue q;
    assert_int_equal(edist_mqueue_init(&q, 0), 0);
    fake_leader f = {0};
    f.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    f.refuse = 1;
    edist_mq_leader ld = {fake_try_lead, fake_wait, &f, f.efd};
    /* Refused leadership: a plain condition-variable wait, woken by a
     * push from another thread. */
    pthread_t t;
    pthread_create(&t, NULL, push_later, &q);
    edist_msg *out[8];
    atomic_store(&q.asked, 1);
    int k = edist_mqueue_pop_led(&q, out, 8, 5000, &ld);
    assert_true(k >= 1);
    if (k == 1)
        assert_int_equal(edist_mqueue_pop_many(&q, out + 1, 7, 0), 1);
    assert_int_equal(val(out[0]), 7);
    assert_int_equal(val(out[1]), 8);
    assert_int_equal(f.leads, 0);
    pthread_join(t, NULL);
    close(f.efd);
    edist_mqueue_destroy(&q);
}

/* Two threads receive on one queue: the second leads while the first
 * comes back from its wait.  The first must leave the second's mark, or
 * pushers would stop waking the second. */
static void test_leader_mark_of_other_reader_kept(void **state)
{
    (void)state;
    edist_mqueue q;
    assert_int_equal(edist_mqueue_init(&q, 0), 0);
    fake_leader f = {0};
    f.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    f.q = &q;
    assert_int_equal(pthread_create(&f.other, NULL, nothing, NULL), 0);
    pthread_join(f.other, NULL);
    edist_mq_leader ld = {fake_try_lead, fake_wait, &f, f.efd};
    atomic_store(&q.asked, 1);
    edist_msg *m;
    assert_int_equal(edist_mqueue_pop_led(&q, &m, 1, 5000, &ld), 1);
    assert_int_equal(val(m), 5); /* val frees m */
    assert_true(q.lead);
    assert_true(pthread_equal(q.lead_thread, f.other));
    q.lead = 0;
    close(f.efd);
    edist_mqueue_destroy(&q);
}

/* A queue closed over its cap fires on_drain: the links it paused must
 * resume, as it will never drain. */
static void test_close_over_cap_drains(void **state)
{
    (void)state;
    edist_mqueue q;
    assert_int_equal(edist_mqueue_init(&q, 2 * sizeof(uint32_t)), 0);
    q.on_drain = on_drain;
    drained = 0;
    assert_int_equal(edist_mqueue_push(&q, mk(1)), 0);
    assert_int_equal(edist_mqueue_push(&q, mk(2)), 0);
    assert_int_equal(edist_mqueue_push(&q, mk(3)), 1);
    edist_mqueue_close(&q);
    assert_int_equal(drained, 1);
    edist_mqueue_close(&q); /* once */
    assert_int_equal(drained, 1);
    edist_mqueue_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_fd),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_shared_deadline),
        cmocka_unit_test(test_cap_backpressure),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_chain_and_many),
        cmocka_unit_test(test_wakeup),
        cmocka_unit_test(test_leader_woken_by_push),
        cmocka_unit_test(test_leader_own_push_no_wake),
        cmocka_unit_test(test_leader_refused_uses_cv),
        cmocka_unit_test(test_leader_mark_of_other_reader_kept),
        cmocka_unit_test(test_close_over_cap_drains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
