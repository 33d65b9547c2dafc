/* mqueue.c: the mailbox queue (see mqueue.h). */
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"
#include "edist/err.h"
#include "rt/clock.h"
#include "rt/mqueue.h"

edist_msg *edist_msg_alloc(const edist_allocator *alloc, size_t len)
{
    alloc = edist_mem_resolve(alloc);
    if (len > SIZE_MAX - sizeof(edist_msg))
        return NULL;
    edist_msg *m = edist_mem_alloc(alloc, sizeof *m + len);
    if (!m)
        return NULL;
    m->next = NULL;
    m->alloc = alloc;
    m->len = len;
    return m;
}

int edist_mqueue_init(edist_mqueue *q, size_t limit)
{
    q->head = q->tail = NULL;
    q->bytes = q->count = 0;
    q->limit = limit;
    q->closed = 0;
    q->over = 0;
    q->waiting = 0;
    q->lead = 0;
    q->lead_efd = -1;
    atomic_init(&q->asked, 0);
    q->on_drain = NULL;
    q->drain_ud = NULL;
    q->efd = -1;
    if (node_cond_init(&q->cv) != 0)
        return EDIST_ESYS;
    if (pthread_mutex_init(&q->mu, NULL) != 0) {
        pthread_cond_destroy(&q->cv);
        return EDIST_ESYS;
    }
    return 0;
}

void edist_mqueue_destroy(edist_mqueue *q)
{
    edist_msg *m = q->head;
    while (m) {
        edist_msg *next = m->next;
        edist_mem_free(m->alloc, m);
        m = next;
    }
    q->head = q->tail = NULL;
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    if (q->efd >= 0)
        close(q->efd);
}

/* The eventfd mirrors "non-empty": set on the first push, cleared by the pop
 * that empties the queue.  Both happen under the mutex, so the fd state and
 * the queue never disagree for longer than one critical section. */
static void mqueue_signal_fd(edist_mqueue *q)
{
    uint64_t one = 1;
    ssize_t n;
    if (q->efd < 0)
        return;
    do {
        n = write(q->efd, &one, sizeof one);
    } while (n < 0 && errno == EINTR);
}

/* Under the lock: the leader to wake after the unlock, or -1.  A leader
 * pushing to its own queue (routing what it read) needs no wake-up. */
static int mqueue_leader_fd(const edist_mqueue *q)
{
    if (!q->lead || pthread_equal(q->lead_thread, pthread_self()))
        return -1;
    return q->lead_efd;
}

static void mqueue_wake_leader(int fd)
{
    uint64_t one = 1;
    ssize_t n;
    if (fd < 0)
        return;
    do {
        n = write(fd, &one, sizeof one);
    } while (n < 0 && errno == EINTR);
}

static void mqueue_clear_fd(edist_mqueue *q)
{
    uint64_t v;
    ssize_t n;
    if (q->efd < 0)
        return;
    do {
        n = read(q->efd, &v, sizeof v);
    } while (n < 0 && errno == EINTR);
}

int edist_mqueue_fd(edist_mqueue *q)
{
    pthread_mutex_lock(&q->mu);
    if (q->efd < 0) {
        q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (q->efd >= 0 && (q->count > 0 || q->closed))
            mqueue_signal_fd(q);
    }
    int fd = q->efd;
    pthread_mutex_unlock(&q->mu);
    return fd;
}

int edist_mqueue_push_chain(edist_mqueue *q, edist_msg *first, edist_msg *last,
                            size_t count, size_t bytes)
{
    pthread_mutex_lock(&q->mu);
    if (q->closed) {
        pthread_mutex_unlock(&q->mu);
        return EDIST_ECLOSED;
    }
    last->next = NULL;
    if (q->tail)
        q->tail->next = first;
    else
        q->head = first;
    q->tail = last;
    q->bytes += bytes;
    if (q->count == 0)
        mqueue_signal_fd(q);
    q->count += count;
    /* Readers pass the wake-up on while messages remain, so one signal
     * serves a whole chain.  It is sent after the unlock: a reader woken
     * under the lock would only block again on the mutex (two more
     * futex calls per message on the latency path). */
    int wake = q->waiting > 0;
    int lfd = mqueue_leader_fd(q);
    int over = q->limit && q->bytes > q->limit;
    if (over)
        q->over = 1;
    pthread_mutex_unlock(&q->mu);
    if (wake)
        pthread_cond_signal(&q->cv);
    mqueue_wake_leader(lfd);
    return over ? 1 : 0;
}

int edist_mqueue_push(edist_mqueue *q, edist_msg *m)
{
    return edist_mqueue_push_chain(q, m, m, 1, m->len);
}

int edist_mqueue_pop_many(edist_mqueue *q, edist_msg **out, size_t max,
                          int timeout_ms)
{
    return edist_mqueue_pop_led(q, out, max, timeout_ms, NULL);
}

int edist_mqueue_pop_led(edist_mqueue *q, edist_msg **out, size_t max,
                         int timeout_ms, const edist_mq_leader *ld)
{
    edist_mq_deadline dl = {0};
    return edist_mqueue_pop_by(q, out, max, timeout_ms, &dl, ld);
}

int edist_mqueue_pop_by(edist_mqueue *q, edist_msg **out, size_t max,
                        int timeout_ms, edist_mq_deadline *dl,
                        const edist_mq_leader *ld)
{
    /* Leading pays off for a reader that waits for a reply (it skips a
     * hand-off); one that drains a stream is better served by the I/O
     * thread reading in parallel.  A reply is expected when the owner
     * sent to another node since its last pop. */
    int may_lead = ld && atomic_exchange(&q->asked, 0);
    /* The deadline is read off the clock only when the queue is found
     * empty, and the first wait takes timeout_ms as it is: a receive that
     * finds its message reads no clock, one that waits reads it once. */
    struct timespec *deadline = &dl->at;
    pthread_mutex_lock(&q->mu);
    while (!q->head) {
        if (q->closed) {
            pthread_mutex_unlock(&q->mu);
            return EDIST_ECLOSED;
        }
        if (timeout_ms == 0) {
            pthread_mutex_unlock(&q->mu);
            return EDIST_ETIMEDOUT;
        }
        int ms = timeout_ms;
        if (timeout_ms > 0 && dl->set) {
            ms = node_left_ms(deadline);
        } else if (timeout_ms > 0) {
            node_deadline(deadline, timeout_ms);
            dl->set = 1;
        }
        if (ms == 0) {
            pthread_mutex_unlock(&q->mu);
            return EDIST_ETIMEDOUT;
        }
        if (may_lead && ld->try_lead(ld->ctx)) {
            /* Read the sockets ourselves: the message we wait for is
             * routed here without a hand-off to this thread. */
            q->lead = 1;
            q->lead_thread = pthread_self();
            q->lead_efd = ld->efd;
            pthread_mutex_unlock(&q->mu);
            ld->wait(ld->ctx, ms);
            pthread_mutex_lock(&q->mu);
            /* Another reader of this queue may lead by now: its mark
             * stays, or pushers would stop waking it. */
            if (pthread_equal(q->lead_thread, pthread_self()))
                q->lead = 0;
            if (!q->head && timeout_ms > 0 && node_left_ms(deadline) == 0) {
                pthread_mutex_unlock(&q->mu);
                return EDIST_ETIMEDOUT;
            }
            continue;
        }
        q->waiting++;
        int r = 0;
        if (timeout_ms < 0)
            pthread_cond_wait(&q->cv, &q->mu);
        else
            r = pthread_cond_timedwait(&q->cv, &q->mu, deadline);
        q->waiting--;
        if (r == ETIMEDOUT && !q->head) {
            pthread_mutex_unlock(&q->mu);
            return EDIST_ETIMEDOUT;
        }
    }
    size_t k = 0, bytes = 0;
    edist_msg *m = q->head;
    while (m && k < max) {
        out[k++] = m;
        bytes += m->len;
        m = m->next;
    }
    q->head = m;
    if (!m)
        q->tail = NULL;
    q->bytes -= bytes;
    q->count -= k;
    /* A closed queue stays readable to the end, so that poll() users come
     * back and see EDIST_ECLOSED. */
    int wake = 0;
    if (q->count == 0 && !q->closed)
        mqueue_clear_fd(q);
    else
        wake = q->waiting > 0; /* pass the wake-up on */
    void (*drain)(void *) = NULL;
    void *ud = NULL;
    if (q->over && q->bytes <= q->limit / 2) {
        q->over = 0;
        drain = q->on_drain;
        ud = q->drain_ud;
    }
    pthread_mutex_unlock(&q->mu);
    if (wake)
        pthread_cond_signal(&q->cv);
    /* Outside the lock: the callback wakes the I/O thread, which may push
     * to this very queue. */
    if (drain)
        drain(ud);
    for (size_t i = 0; i < k; i++)
        out[i]->next = NULL;
    return (int)k;
}

int edist_mqueue_pop(edist_mqueue *q, edist_msg **out, int timeout_ms)
{
    int rc = edist_mqueue_pop_many(q, out, 1, timeout_ms);
    return rc < 0 ? rc : 0;
}

void edist_mqueue_close(edist_mqueue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    pthread_cond_broadcast(&q->cv);
    int lfd = mqueue_leader_fd(q);
    /* A closed queue reads as ready so that poll() users notice. */
    if (q->count == 0)
        mqueue_signal_fd(q);
    /* A queue closed over its cap will not drain: what it paused (the
     * links feeding it) must resume now, or never. */
    void (*drain)(void *) = NULL;
    void *ud = NULL;
    if (q->over) {
        q->over = 0;
        drain = q->on_drain;
        ud = q->drain_ud;
    }
    pthread_mutex_unlock(&q->mu);
    mqueue_wake_leader(lfd);
    if (drain)
        drain(ud);
}
