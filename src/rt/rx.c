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
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/mem.h"
#include "edist/err.h"
#include "rt/node_int.h"

#define RX_EFD_TAG UINT64_MAX

static uint64_t rx_tag(const rt_link *l)
{
    return (uint64_t)l->rx_gen << 32 | l->rx_slot;
}

int rx_init(edist_node *n)
{
    node_rx *r = &n->rx;
    r->ep = r->io_ep = r->efd = -1;
    r->slots = NULL;
    r->gens = NULL;
    r->nslots = 0;
    r->buf = NULL;
    atomic_init(&r->busy, 0);
    atomic_init(&r->stopping, 0);
    if (pthread_mutex_init(&r->reg_mu, NULL) != 0)
        return EDIST_ESYS;
    r->ep = epoll_create1(EPOLL_CLOEXEC);
    r->io_ep = epoll_create1(EPOLL_CLOEXEC);
    r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->ep < 0 || r->io_ep < 0 || r->efd < 0)
        return EDIST_ESYS;
    /* Only the pages a leader reads into ever become resident. */
    r->buf = malloc(NODE_READ_CHUNK);
    if (!r->buf)
        return EDIST_ENOMEM;
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
    free(r->slots);
    free(r->gens);
    free(r->buf);
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

static void rx_on_io(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    edist_node *n = h->data;
    struct epoll_event ev[16];
    int k = epoll_wait(n->rx.io_ep, ev, 16, 0);
    for (int i = 0; i < k; i++) {
        uint32_t slot = (uint32_t)ev[i].data.u64;
        uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);
        /* Only this thread changes the registry: no lock to read it. */
        if (slot >= n->rx.nslots || n->rx.gens[slot] != gen ||
            !n->rx.slots[slot])
            continue;
        rt_link *l = n->rx.slots[slot];
        char why[512];
        pthread_mutex_lock(&l->rx_mu);
        int rc = link_rx_read(l, n->rbuf, sizeof n->rbuf, why, sizeof why);
        pthread_mutex_unlock(&l->rx_mu);
        if (rc < 0 && !l->closing)
            link_close(l, rc, why);
    }
}

int rx_loop_setup(edist_node *n)
{
    if (uv_poll_init(&n->loop.uv, &n->rx.io_poll, n->rx.io_ep) != 0)
        return EDIST_ESYS;
    n->rx.io_poll.data = n;
    uv_poll_start(&n->rx.io_poll, UV_READABLE, rx_on_io);
    return 0;
}

void rx_loop_close(edist_node *n)
{
    uv_poll_stop(&n->rx.io_poll);
    uv_close((uv_handle_t *)&n->rx.io_poll, NULL);
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
    uint32_t slot = (uint32_t)c->tag, gen = (uint32_t)(c->tag >> 32);
    if (slot < n->rx.nslots && n->rx.gens[slot] == gen && n->rx.slots[slot] &&
        !n->rx.slots[slot]->closing)
        link_close(n->rx.slots[slot], c->code, c->why);
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
    atomic_store(&n->rx.owner, pthread_self());
    return 1;
}

/* Reads the link tag names.  Returns 1 when the I/O thread is reading
 * it right now (it delivers what came), else 0. */
static int rx_lead_read(edist_node *n, uint64_t tag)
{
    node_rx *r = &n->rx;
    uint32_t slot = (uint32_t)tag, gen = (uint32_t)(tag >> 32);
    pthread_mutex_lock(&r->reg_mu);
    rt_link *l =
        slot < r->nslots && r->gens[slot] == gen ? r->slots[slot] : NULL;
    if (!l) {
        pthread_mutex_unlock(&r->reg_mu);
        return 0;
    }
    /* Waiting for the lock would put two threads through the futex per
     * read, and the level-triggered set would wake us again at once:
     * the caller waits as a follower instead. */
    if (pthread_mutex_trylock(&l->rx_mu) != 0) {
        pthread_mutex_unlock(&r->reg_mu);
        return 1;
    }
    pthread_mutex_unlock(&r->reg_mu);
    char why[512];
    int rc = link_rx_read(l, r->buf, NODE_READ_CHUNK, why, sizeof why);
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
    return 0;
}

int rx_lead_wait(void *ctx, int timeout_ms)
{
    int follow = 0;
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
        follow |= rx_lead_read(n, ev[i].data.u64);
    }
    atomic_store(&r->owner, n->loop.thread);
    atomic_store(&r->busy, 0);
    return follow;
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
