/*
 * mqueue.h: a mailbox's message queue, shared by the I/O thread (which
 * pushes) and any user thread (which pops).
 *
 * A queue holds messages as ETF bytes.  It is readable through a condition
 * variable (edist_recv) and through an eventfd that is readable exactly
 * while the queue is non-empty, for programs with an event loop of their
 * own.  The eventfd is created on first request (edist_mqueue_fd): keeping
 * it costs two system calls per idle-to-busy cycle, which a program that
 * never polls should not pay.  The condition variable is signalled only
 * when a reader waits.  Its byte cap is a backpressure signal, not a drop rule:
 * a push over the cap still succeeds (the message was already received and must
 * not be lost) and tells the pusher to pause its source; the drain callback
 * fires when the queue falls back under half the cap.
 */
#ifndef EDIST_RT_MQUEUE_H
#define EDIST_RT_MQUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "edist/mem.h"

/* One message: the bytes 131 Term (a complete term_to_binary image). */
struct edist_msg {
    struct edist_msg *next;
    const edist_allocator *alloc;
    size_t len;
    uint8_t data[];
};

typedef struct edist_msg edist_msg;

typedef struct edist_mqueue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    edist_msg *head, *tail;
    size_t bytes; /* sum of len over queued messages */
    size_t count;
    size_t limit;
    int efd;     /* eventfd, readable while count > 0; -1 until requested */
    int waiting; /* readers blocked on cv */
    int closed;  /* no more pushes; pops drain then get ECLOSED */
    int over;    /* a push passed the limit and the drain is pending */
    int lead;    /* a reader waits as the node's leader (not on cv) */
    pthread_t lead_thread;
    int lead_efd; /* written to wake that leader */
    /* The owner sent to another node since its last pop: a reply is
     * likely to come over a socket, so a waiting pop may lead. */
    atomic_int asked;
    void (*on_drain)(void *ud);
    void *drain_ud;
} edist_mqueue;

/* Allocates a message with room for len bytes (filled by the caller).
 * Returns NULL when memory is exhausted. */
edist_msg *edist_msg_alloc(const edist_allocator *alloc, size_t len);

/* Initialises q with a byte cap (0: no cap).  Returns 0, EDIST_ESYS when
 * the eventfd or the threading primitives cannot be created. */
int edist_mqueue_init(edist_mqueue *q, size_t limit);

/* Frees every queued message and the primitives.  Nobody may be blocked
 * in edist_mqueue_pop() (close first and join the readers). */
void edist_mqueue_destroy(edist_mqueue *q);

/* Appends m (takes ownership).  Returns 0; 1 when the queue is now over its
 * cap (the caller should pause what feeds it until on_drain fires); or
 * EDIST_ECLOSED, in which case ownership stays with the caller. */
int edist_mqueue_push(edist_mqueue *q, edist_msg *m);

/* Appends the chain first..last (linked by next, count messages, bytes in
 * all; takes ownership) in one critical section.  Returns as
 * edist_mqueue_push. */
int edist_mqueue_push_chain(edist_mqueue *q, edist_msg *first, edist_msg *last,
                            size_t count, size_t bytes);

/* Takes the oldest message, waiting up to timeout_ms (< 0: forever, 0: do
 * not wait).  Returns 0 with *out owned by the caller, EDIST_ETIMEDOUT, or
 * EDIST_ECLOSED once the queue is closed and empty. */
int edist_mqueue_pop(edist_mqueue *q, edist_msg **out, int timeout_ms);

/* Takes up to max (>= 1) of the oldest messages into out[], waiting as
 * edist_mqueue_pop for the first.  Returns the count (>= 1, each message
 * owned by the caller), EDIST_ETIMEDOUT or EDIST_ECLOSED. */
int edist_mqueue_pop_many(edist_mqueue *q, edist_msg **out, size_t max,
                          int timeout_ms);

/* A way to wait other than the condition variable: a reader that becomes
 * its node's leader (try_lead returns 1) calls wait(ctx, ms), which reads
 * the node's sockets itself and returns when efd was written, something
 * was read, or ms passed (< 0: no limit); wait gives the leadership back.
 * Pushers from other threads write efd instead of signalling cv. */
typedef struct edist_mq_leader {
    int (*try_lead)(void *ctx);
    void (*wait)(void *ctx, int timeout_ms);
    void *ctx;
    int efd;
} edist_mq_leader;

/* As edist_mqueue_pop_many; a reader that must wait does it through ld
 * when ld (borrowed; may be NULL) grants the leadership and q->asked was
 * set (it is cleared here).  A reader that only consumes (a sink) does not
 * lead: the I/O thread reading in parallel drains a stream faster. */
int edist_mqueue_pop_led(edist_mqueue *q, edist_msg **out, size_t max,
                         int timeout_ms, const edist_mq_leader *ld);

/* A deadline that successive receives of one caller share (a call that
 * skips messages that are not its answer).  Zero-initialised it is unset:
 * the first receive that must wait sets it, timeout_ms from then, so that
 * a receive that finds its message reads no clock.  A caller whose time
 * started earlier (a connect counts) sets it first with node_deadline. */
typedef struct edist_mq_deadline {
    int set;
    struct timespec at;
} edist_mq_deadline;

/* As edist_mqueue_pop_led, waiting at most until *dl (borrowed, set
 * here when unset and the wait needs it; timeout_ms > 0 only). */
int edist_mqueue_pop_by(edist_mqueue *q, edist_msg **out, size_t max,
                        int timeout_ms, edist_mq_deadline *dl,
                        const edist_mq_leader *ld);

/* The eventfd readable while the queue is non-empty (or closed), created
 * on the first call.  Returns it, or -1 when it cannot be created. */
int edist_mqueue_fd(edist_mqueue *q);

/* Marks the queue closed and wakes every waiter.  Idempotent. */
void edist_mqueue_close(edist_mqueue *q);

#endif
