/*
 * rx.c: reading up links, leader/follower.
 *
 * A raw TCP ping-pong wakes one thread per message: the reader blocked in
 * read().  When only the I/O thread read the sockets, an edist message
 * woke two: the I/O thread, then the thread blocked in edist_recv (a
 * condition-variable hand-off, about 4 us each way here).  So a thread
 * that blocks in a receive on an empty mailbox becomes the node's leader
 * (one at a time): it waits on the sockets itself, reads and routes what
 * comes, and finds its own message in its queue without a hand-off.  The
 * I/O thread keeps everything else (handshakes, accepts, timers, ticks,
 * closing) and reads the sockets whenever there is no leader.
 *
 * Who wakes is left to the kernel.  Every up link's fd is in two epoll
 * sets with EPOLLEXCLUSIVE, the leader's set (ep) registered first, then
 * the I/O thread's (io_ep, which libuv watches through io_poll).  A
 * socket wakes exclusive waiters in registration order and stops at the
 * first set with a thread blocked in it: the leader when one waits, else
 * the I/O thread.  The I/O thread is therefore not woken at all while a
 * leader waits, and nobody spins.
 *
 * Whoever reads a link holds its rx_mu for the read and the routing, so
 * frames are routed in order, one reader at a time.  A leader never
 * touches libuv: a link that must close or pause is taken out of both
 * sets by the leader and closed by the I/O thread (a posted command).
 * Leaders find links through a registry of (slot, generation) tags under
 * reg_mu, and rx_detach() waits for a leader holding the link before its
 * fd closes.  Lock order: reg_mu -> rx_mu -> everything routing takes.
 * The I/O thread never takes reg_mu while it holds an rx_mu.
 *
 * Receive coalescing.  A peer that streams small messages without
 * waiting for answers (BEAM sends each one with its own writev) would
 * otherwise wake the I/O thread for nearly every message.  Each wake-up
 * costs the reader an epoll_wait and a read, and costs the *sender* more:
 * its write runs our side of the loopback path and must wake a sleeping
 * thread.  Measured BEAM -> edist, 500k `{Pid, 42}` messages: 150k reads,
 * and the BEAM sender spent 2.0-2.5 s of CPU against 1.1-1.3 s when the
 * reader was not sleeping in epoll_wait, for a rate of 200-230k msg/s
 * against 440-520k.  So, like a NIC's interrupt moderation, the I/O
 * thread takes a link that streams out of both epoll sets after a small
 * read and reads it itself RX_COALESCE_US later (one timerfd for the
 * node): the sender meanwhile only queues, and that read takes the lot.
 * While the link still streams it stays out, read once per interval; it
 * goes back into the sets when a timed read finds it quiet.  A
 * link streams after RX_STREAM_READS small reads in a row, each within
 * RX_STREAM_GAP_NS of the previous, with no send to that peer between
 * them; so a request/reply exchange (any send resets it), the first
 * message after a pause and bulk transfers (reads of RX_COALESCE_BYTES or
 * more) are read at once.  A leader never coalesces: it waits for a
 * reply.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/mem.h"
#include "edist/err.h"
#include "rt/node_int.h"

#define RX_EFD_TAG UINT64_MAX

/* Receive coalescing (see above).  100 us: half a BEAM sender's gain was
 * there at 50 us, and a stream's messages wait no longer than a NIC's
 * default interrupt moderation would make them. */
#define RX_COALESCE_US    100
#define RX_COALESCE_BYTES (16u * 1024u)
#define RX_STREAM_READS   3
#define RX_STREAM_GAP_NS  (RX_COALESCE_US * 1000u + 400000u)

static uint64_t rx_tag(const rt_link *l)
{
    return (uint64_t)l->rx_gen << 32 | l->rx_slot;
}

/* The link a tag names, or NULL when it is gone (its slot reused or
 * emptied).  On the I/O thread, which alone changes the registry, or
 * under reg_mu. */
static rt_link *rx_link_of(const node_rx *r, uint64_t tag)
{
    uint32_t slot = (uint32_t)tag, gen = (uint32_t)(tag >> 32);
    return slot < r->nslots && r->gens[slot] == gen ? r->slots[slot] : NULL;
}

int rx_init(edist_node *n)
{
    node_rx *r = &n->rx;
    r->ep = r->io_ep = r->efd = r->tfd = -1;
    r->tarmed = 0;
    r->coal = NULL;
    r->ncoal = r->capcoal = 0;
    r->slots = NULL;
    r->gens = NULL;
    r->nslots = 0;
    atomic_init(&r->busy, 0);
    atomic_init(&r->stopping, 0);
    if (pthread_mutex_init(&r->reg_mu, NULL) != 0)
        return EDIST_ESYS;
    r->ep = epoll_create1(EPOLL_CLOEXEC);
    r->io_ep = epoll_create1(EPOLL_CLOEXEC);
    r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (r->ep < 0 || r->io_ep < 0 || r->efd < 0 || r->tfd < 0)
        return EDIST_ESYS;
    struct epoll_event ev = {0};
    ev.events = EPOLLIN;
    ev.data.u64 = RX_EFD_TAG;
    if (epoll_ctl(r->ep, EPOLL_CTL_ADD, r->efd, &ev) != 0)
        return EDIST_ESYS;
    return 0;
}

void rx_destroy(edist_node *n)
{
    node_rx *r = &n->rx;
    if (r->ep >= 0)
        close(r->ep);
    if (r->io_ep >= 0)
        close(r->io_ep);
    if (r->efd >= 0)
        close(r->efd);
    if (r->tfd >= 0)
        close(r->tfd);
    free(r->coal);
    free(r->slots);
    free(r->gens);
    pthread_mutex_destroy(&r->reg_mu);
}

/* ---- the registry (written by the I/O thread only) */

int rx_attach(rt_link *l)
{
    node_rx *r = &l->node->rx;
    pthread_mutex_lock(&r->reg_mu);
    size_t i = 0;
    while (i < r->nslots && r->slots[i])
        i++;
    if (i == r->nslots) {
        size_t cap = r->nslots ? r->nslots * 2 : 8;
        rt_link **s = realloc(r->slots, cap * sizeof *s);
        if (s)
            r->slots = s;
        uint32_t *g = s ? realloc(r->gens, cap * sizeof *g) : NULL;
        if (!g) {
            pthread_mutex_unlock(&r->reg_mu);
            return EDIST_ENOMEM;
        }
        r->gens = g;
        for (size_t k = r->nslots; k < cap; k++) {
            r->slots[k] = NULL;
            r->gens[k] = 0;
        }
        r->nslots = cap;
    }
    if (++r->gens[i] == 0)
        r->gens[i] = 1; /* 0 means "not registered" */
    r->slots[i] = l;
    l->rx_slot = (uint32_t)i;
    l->rx_gen = r->gens[i];
    pthread_mutex_unlock(&r->reg_mu);
    return 0;
}

void rx_detach(rt_link *l)
{
    if (!l->rx_gen)
        return;
    node_rx *r = &l->node->rx;
    rx_disarm(l);
    pthread_mutex_lock(&r->reg_mu);
    r->slots[l->rx_slot] = NULL;
    pthread_mutex_unlock(&r->reg_mu);
    /* A leader that found the link before holds its rx_mu until done. */
    pthread_mutex_lock(&l->rx_mu);
    pthread_mutex_unlock(&l->rx_mu);
    l->rx_gen = 0;
}

/* ---- the epoll sets */

void rx_arm(rt_link *l)
{
    if (!l->rx_gen || atomic_load(&l->rx_closed) ||
        atomic_exchange(&l->rx_armed, 1))
        return;
    node_rx *r = &l->node->rx;
    struct epoll_event ev = {0};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.u64 = rx_tag(l);
    /* The leader's set first: wake-ups go to it before the I/O thread. */
    int a = epoll_ctl(r->ep, EPOLL_CTL_ADD, l->fd, &ev);
    int b = epoll_ctl(r->io_ep, EPOLL_CTL_ADD, l->fd, &ev);
    if (a != 0 || b != 0) {
        /* Should not happen (memory): the I/O thread must still read it.
         * Without EPOLLEXCLUSIVE both threads may wake, which only costs
         * time. */
        ev.events = EPOLLIN;
        if (b != 0)
            epoll_ctl(r->io_ep, EPOLL_CTL_ADD, l->fd, &ev);
    }
}

void rx_disarm(rt_link *l)
{
    if (!atomic_exchange(&l->rx_armed, 0))
        return;
    node_rx *r = &l->node->rx;
    epoll_ctl(r->ep, EPOLL_CTL_DEL, l->fd, NULL);
    epoll_ctl(r->io_ep, EPOLL_CTL_DEL, l->fd, NULL);
}

/* ---- the I/O thread's side */

/* Under rx_mu, after a read that got got bytes: whether the link now
 * streams (see the top of the file). */
static int rx_streams(rt_link *l, size_t got)
{
    if (got == 0)
        return 0;
    int sent =
        atomic_exchange_explicit(&l->peer->tx_mark, 0, memory_order_relaxed);
    if (sent) {
        /* An exchange: no streak, and no clock read on the reply path of
         * every request (peer.c, peer_direct_ok).  The next read then
         * starts a streak one read later than it could. */
        l->rx_streak = 0;
        l->rx_last_ns = 0;
        return 0;
    }
    uint64_t now = node_now_ns();
    if (got < RX_COALESCE_BYTES && now - l->rx_last_ns < RX_STREAM_GAP_NS) {
        if (l->rx_streak < RX_STREAM_READS)
            l->rx_streak++;
    } else {
        l->rx_streak = 0;
    }
    l->rx_last_ns = now;
    return l->rx_streak >= RX_STREAM_READS;
}

/* Queues a link that is out of the sets for the next timer pass (arming
 * the timer).  Returns 0, or -1 when it cannot (the link must then be
 * read at once). */
static int rx_coalesce_queue(edist_node *n, rt_link *l)
{
    node_rx *r = &n->rx;
    if (r->ncoal == r->capcoal) {
        size_t cap = r->capcoal ? r->capcoal * 2 : 8;
        uint64_t *c = realloc(r->coal, cap * sizeof *c);
        if (!c)
            return -1;
        r->coal = c;
        r->capcoal = cap;
    }
    if (!r->tarmed) {
        struct itimerspec its = {{0, 0}, {0, RX_COALESCE_US * 1000}};
        if (timerfd_settime(r->tfd, 0, &its, NULL) != 0)
            return -1;
        r->tarmed = 1;
    }
    r->coal[r->ncoal++] = rx_tag(l);
    return 0;
}

/* Takes a streaming link out of the sets until the timer reads it. */
static void rx_coalesce(edist_node *n, rt_link *l)
{
    if (rx_coalesce_queue(n, l) == 0)
        rx_disarm(l);
    /* else it is simply read at once */
}

static void rx_on_timer(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    edist_node *n = h->data;
    node_rx *r = &n->rx;
    uint64_t v;
    /* Only EAGAIN (a spurious wake-up) can fail here; the list is put
     * back either way, so that no link stays out. */
    if (read(r->tfd, &v, sizeof v) < 0) {
        /* nothing to do */
    }
    r->tarmed = 0;
    /* The links are read here rather than put back in the sets at once: a
     * stream has almost always sent more meanwhile, and putting a link
     * back only for epoll to report it readable costs four epoll_ctl and
     * a wake-up per interval.  A link that still streams stays out for
     * another interval; one that went quiet (nothing to read), bulk or
     * answered (rx_streams) goes back. */
    size_t k = r->ncoal;
    r->ncoal = 0;
    for (size_t i = 0; i < k; i++) {
        rt_link *l = rx_link_of(r, r->coal[i]);
        if (!l || l->closing)
            continue;
        /* Under rx_mu: a leader that read the link before it was taken out
         * may be pausing it (full mailbox) or giving it up right now, and
         * a paused link must stay out until node_resume_links. */
        char why[512];
        size_t got = 0;
        int rc = 0;
        pthread_mutex_lock(&l->rx_mu);
        if (!l->paused && !atomic_load(&l->rx_closed)) {
            rc = link_rx_read(l, &got, why, sizeof why);
            /* Still streaming: one more interval out (it is out already). */
            if (rc == 0 && !l->paused &&
                !(rx_streams(l, got) && rx_coalesce_queue(n, l) == 0))
                rx_arm(l);
        }
        pthread_mutex_unlock(&l->rx_mu);
        if (rc < 0 && !l->closing)
            link_close(l, rc, why);
    }
}

/* The I/O thread reads the links ready in the epoll set ep; with
 * coalesce, a link that streams is taken out for an interval.  Returns
 * whether anything was read. */
static int rx_io_pass(edist_node *n, int ep, int coalesce)
{
    struct epoll_event ev[16];
    int k = epoll_wait(ep, ev, 16, 0), any = 0;
    for (int i = 0; i < k; i++) {
        rt_link *l = ev[i].data.u64 == RX_EFD_TAG
                         ? NULL
                         : rx_link_of(&n->rx, ev[i].data.u64);
        if (!l)
            continue;
        char why[512];
        size_t got;
        pthread_mutex_lock(&l->rx_mu);
        int rc = link_rx_read(l, &got, why, sizeof why);
        any |= got > 0;
        if (coalesce && rc == 0 && rx_streams(l, got) && !l->paused)
            rx_coalesce(n, l);
        pthread_mutex_unlock(&l->rx_mu);
        if (rc < 0 && !l->closing)
            link_close(l, rc, why);
    }
    return any;
}

static void rx_on_io(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    edist_node *n = h->data;
    (void)rx_io_pass(n, n->rx.io_ep, 1);
}

/* The I/O thread reads what a leader left ready in ep (the leader's set,
 * where nobody may wait now).  Another pass follows any that found
 * something: the level-triggered set is polled again then, and drops the
 * links that are drained. */
static void rx_on_sweep(uv_async_t *h)
{
    edist_node *n = h->data;
    if (rx_io_pass(n, n->rx.ep, 0) && !atomic_load(&n->rx.stopping))
        uv_async_send(&n->rx.sweep);
}

int rx_loop_setup(edist_node *n)
{
    if (uv_poll_init(&n->loop.uv, &n->rx.io_poll, n->rx.io_ep) != 0)
        return EDIST_ESYS;
    n->rx.io_poll.data = n;
    uv_poll_start(&n->rx.io_poll, UV_READABLE, rx_on_io);
    if (uv_poll_init(&n->loop.uv, &n->rx.tpoll, n->rx.tfd) != 0)
        return EDIST_ESYS;
    n->rx.tpoll.data = n;
    uv_poll_start(&n->rx.tpoll, UV_READABLE, rx_on_timer);
    if (uv_async_init(&n->loop.uv, &n->rx.sweep, rx_on_sweep) != 0)
        return EDIST_ESYS;
    n->rx.sweep.data = n;
    return 0;
}

void rx_loop_close(edist_node *n)
{
    uv_poll_stop(&n->rx.io_poll);
    uv_close((uv_handle_t *)&n->rx.io_poll, NULL);
    uv_poll_stop(&n->rx.tpoll);
    uv_close((uv_handle_t *)&n->rx.tpoll, NULL);
    uv_close((uv_handle_t *)&n->rx.sweep, NULL);
}

/* A link a leader found broken: closed on the I/O thread, if it is
 * still the same link by then. */
typedef struct rx_close_cmd {
    edist_loop_cmd cmd;
    uint64_t tag;
    int code;
    char why[512];
} rx_close_cmd;

static void rx_close_run(edist_loop_cmd *cmd, void *ctx)
{
    rx_close_cmd *c = (rx_close_cmd *)cmd;
    edist_node *n = ctx;
    rt_link *l = rx_link_of(&n->rx, c->tag);
    if (l && !l->closing)
        link_close(l, c->code, c->why);
    free(c);
}

/* ---- the leader's side */

int node_on_io(edist_node *n)
{
    if (edist_loop_on_thread(&n->loop))
        return 1;
    return atomic_load(&n->rx.busy) &&
           pthread_equal(atomic_load(&n->rx.owner), pthread_self());
}

int rx_try_lead(void *ctx)
{
    edist_node *n = ctx;
    int idle = 0;
    if (atomic_load(&n->rx.stopping) ||
        !atomic_compare_exchange_strong(&n->rx.busy, &idle, 1))
        return 0;
    /* rx_stop may have set stopping and seen busy still 0 between the
     * two tests above: it no longer waits for us, so we must not lead. */
    if (atomic_load(&n->rx.stopping)) {
        atomic_store(&n->rx.busy, 0);
        return 0;
    }
    atomic_store(&n->rx.owner, pthread_self());
    return 1;
}

/* Reads the link tag names.  Returns 1 when the read stopped at its bound
 * (data may be left), else 0. */
static int rx_lead_read(edist_node *n, uint64_t tag)
{
    node_rx *r = &n->rx;
    pthread_mutex_lock(&r->reg_mu);
    rt_link *l = rx_link_of(r, tag);
    if (!l) {
        pthread_mutex_unlock(&r->reg_mu);
        return 0;
    }
    /* Waits for the lock when the I/O thread holds it.  Leaving it to the
     * holder (as a follower) lost messages: the readiness that woke us
     * went to ep alone, and a holder that had read before it came (the
     * coalescing timer, a link put back in the sets) never read again;
     * the message waited for the peer's next packet.  reg_mu is still
     * held, so the link cannot be detached meanwhile; the I/O thread never
     * takes reg_mu while it holds an rx_mu. */
    pthread_mutex_lock(&l->rx_mu);
    pthread_mutex_unlock(&r->reg_mu);
    char why[512];
    size_t got;
    int rc = link_rx_read(l, &got, why, sizeof why);
    int more = rc == 0 && l->rx_more;
    /* Kept up to date, but a leader reads at once: it waits for a reply. */
    (void)rx_streams(l, got);
    if (rc < 0 && !atomic_exchange(&l->rx_closed, 1)) {
        /* Nobody reads it any more; the I/O thread closes it. */
        rx_disarm(l);
        rx_close_cmd *c = malloc(sizeof *c);
        if (c) {
            c->cmd.fn = rx_close_run;
            c->tag = tag;
            c->code = rc;
            memcpy(c->why, why, sizeof c->why);
            if (edist_loop_post(&n->loop, &c->cmd) != 0)
                free(c); /* stopping: every link closes anyway */
        }
    }
    pthread_mutex_unlock(&l->rx_mu);
    return more;
}

void rx_lead_wait(void *ctx, int timeout_ms)
{
    int more = 0;
    edist_node *n = ctx;
    node_rx *r = &n->rx;
    struct epoll_event ev[8];
    int k;
    do {
        k = epoll_wait(r->ep, ev, 8, timeout_ms);
    } while (k < 0 && errno == EINTR);
    for (int i = 0; i < k; i++) {
        if (ev[i].data.u64 == RX_EFD_TAG) {
            uint64_t v;
            ssize_t rd;
            do {
                rd = read(r->efd, &v, sizeof v);
            } while (rd < 0 && errno == EINTR);
            continue;
        }
        more |= rx_lead_read(n, ev[i].data.u64);
    }
    /* What we leave readable stays ready in ep, where nobody may wait
     * after us: later bytes on those links wake the I/O thread, but
     * those already there would wait for them.  The I/O thread reads
     * them (rx_on_sweep). */
    if (more || k == (int)(sizeof ev / sizeof ev[0]))
        uv_async_send(&r->sweep);
    atomic_store(&r->owner, n->loop.thread);
    atomic_store(&r->busy, 0);
}

void rx_stop(edist_node *n)
{
    atomic_store(&n->rx.stopping, 1);
    uint64_t one = 1;
    while (atomic_load(&n->rx.busy)) {
        /* Wakes a leader still in epoll_wait; it sees no message and
         * does not lead again. */
        if (write(n->rx.efd, &one, sizeof one) < 0 && errno != EAGAIN)
            break;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}
