/*
 * peer.c: one remote node as the rest of the runtime sees it: a bounded
 * out-queue that any thread may append to, a state (pending, up, down), and
 * the I/O thread's duties for it: flushing, ticking, coming up and going
 * down.
 *
 * The out-queue accepts messages before the connection is up (they leave
 * in order once the handshake completes, as BEAM queues messages behind an
 * auto-connect).  edist never advertises DIST_HDR_ATOM_CACHE or FRAGMENTS,
 * so every frame uses pass-through framing whatever the peer offers, and a
 * frame encoded before the handshake is valid after it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"
#include "edist/err.h"
#include "rt/node_int.h"

void peer_ref(edist_peer *p)
{
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

void peer_unref(edist_peer *p)
{
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
        return;
    edist_dist_tx_free(p->tx);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    edist_mem_free(p->node->alloc, p);
}

static edist_peer *peer_new(edist_node *n, const char *name, size_t len)
{
    edist_peer *p = edist_mem_alloc(n->alloc, sizeof *p);
    if (!p)
        return NULL;
    memset(p, 0, sizeof *p);
    atomic_init(&p->refs, 1);
    p->node = n;
    memcpy(p->name, name, len);
    p->name[len] = '\0';
    p->name_len = len;
    p->state = PEER_PENDING;
    edist_dist_tx_options to = {0};
    to.flags = 0; /* pass-through: see the comment at the top */
    to.max_pending = n->max_out_queue;
    to.alloc = n->alloc;
    if (edist_dist_tx_new(&p->tx, &to) != 0) {
        edist_mem_free(n->alloc, p);
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&p->mu, NULL);
    return p;
}

edist_peer *peer_lookup(edist_node *n, const char *name, size_t len)
{
    pthread_mutex_lock(&n->peers_mu);
    edist_peer *p = edist_hmap_get(&n->peers, name, len);
    if (p)
        peer_ref(p);
    pthread_mutex_unlock(&n->peers_mu);
    return p;
}

edist_peer *peer_get_or_create(edist_node *n, const char *name, size_t len,
                               int *created)
{
    *created = 0;
    if (len == 0 || len > EDIST_NODE_NAME_MAX)
        return NULL;
    pthread_mutex_lock(&n->peers_mu);
    edist_peer *p = edist_hmap_get(&n->peers, name, len);
    if (!p && !n->stopping) {
        p = peer_new(n, name, len);
        if (p && edist_hmap_put(&n->peers, name, len, p) != 0) {
            peer_unref(p);
            p = NULL;
        }
        *created = p != NULL;
    }
    if (p)
        peer_ref(p);
    pthread_mutex_unlock(&n->peers_mu);
    return p;
}

static void peer_deadline(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void peer_schedule_flush(edist_peer *p)
{
    edist_node *n = p->node;
    pthread_mutex_lock(&n->dirty_mu);
    /* A peer already on the list (its flush_pending cleared by a flush
     * from elsewhere) must not be linked twice: that would make a cycle. */
    int listed = p->dirty_listed;
    if (!listed) {
        peer_ref(p);
        p->dirty_listed = 1;
        p->dirty_next = n->dirty;
        n->dirty = p;
    }
    pthread_mutex_unlock(&n->dirty_mu);
    if (!listed)
        uv_async_send(&n->flush_async);
}

int peer_send(edist_peer *p, const uint8_t *ctl, size_t ctl_len,
              const uint8_t *payload, size_t payload_len)
{
    edist_node *n = p->node;
    int on_io = edist_loop_on_thread(&n->loop);
    struct timespec deadline;
    int have_deadline = 0;
    int rc, schedule = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->state == PEER_DOWN) {
            /* As in Erlang, a message to a node we cannot reach is
             * dropped, not an error. */
            pthread_mutex_unlock(&p->mu);
            return 0;
        }
        rc =
            edist_dist_tx_message(p->tx, ctl, ctl_len, payload, payload_len, 0);
        if (rc != EDIST_EQUEUEFULL || on_io || n->send_timeout_ms == 0)
            break;
        /* Backpressure: wait for the I/O thread to make room. */
        if (n->send_timeout_ms < 0) {
            pthread_cond_wait(&p->cv, &p->mu);
            continue;
        }
        if (!have_deadline) {
            peer_deadline(&deadline, n->send_timeout_ms);
            have_deadline = 1;
        }
        if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) == ETIMEDOUT)
            have_deadline = 2;
        if (have_deadline == 2) {
            rc = edist_dist_tx_message(p->tx, ctl, ctl_len, payload,
                                       payload_len, 0);
            break;
        }
    }
    if (rc == 0 && p->state == PEER_UP && !p->flush_pending) {
        p->flush_pending = 1;
        schedule = 1;
    }
    pthread_mutex_unlock(&p->mu);
    if (schedule) {
        if (on_io)
            peer_flush(p);
        else
            peer_schedule_flush(p);
    }
    return rc;
}

void peer_flush(edist_peer *p)
{
    int fail = 0, wrote = 0, blocked = 0;
    pthread_mutex_lock(&p->mu);
    p->flush_pending = 0;
    edist_link *l = p->link;
    if (p->state != PEER_UP || !l) {
        pthread_mutex_unlock(&p->mu);
        return;
    }
    for (;;) {
        const uint8_t *ptr;
        size_t len = edist_dist_tx_pending(p->tx, &ptr);
        if (!len)
            break;
        ssize_t w = write(l->fd, ptr, len);
        if (w > 0) {
            edist_dist_tx_consumed(p->tx, (size_t)w);
            wrote = 1;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            blocked = 1;
        else
            fail = errno ? errno : EPIPE;
        break;
    }
    p->writable_wait = blocked;
    if (wrote)
        pthread_cond_broadcast(&p->cv); /* room for blocked senders */
    pthread_mutex_unlock(&p->mu);
    if (wrote)
        edist_ticker_note_write(&p->ticker);
    if (fail) {
        char why[128];
        snprintf(why, sizeof why, "write to the peer failed: %s",
                 strerror(fail));
        link_close(l, EDIST_ECLOSED, why);
        return;
    }
    link_update_poll(l);
}

void node_flush_dirty(uv_async_t *h)
{
    edist_node *n = h->data;
    pthread_mutex_lock(&n->dirty_mu);
    edist_peer *p = n->dirty;
    n->dirty = NULL;
    for (edist_peer *q = p; q; q = q->dirty_next)
        q->dirty_listed = 0;
    pthread_mutex_unlock(&n->dirty_mu);
    while (p) {
        edist_peer *next = p->dirty_next;
        peer_flush(p);
        peer_unref(p);
        p = next;
    }
}

void peer_up(edist_peer *p, edist_link *l, const edist_hs_event *ev)
{
    edist_node *n = p->node;
    pthread_mutex_lock(&p->mu);
    p->state = PEER_UP;
    p->link = l;
    p->flags = ev->flags;
    p->visible = ev->visible;
    p->creation = ev->peer_creation;
    p->err.code = 0;
    p->err.reason[0] = '\0';
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    edist_ticker_init(&p->ticker, n->ticktime_ms, n->tick_intensity,
                      !ev->visible, node_now_ms());
    peer_flush(p);
    node_notify_nodes(n, p->name, p->name_len, 1);
}

void peer_down(edist_peer *p, int code, const char *reason)
{
    edist_node *n = p->node;
    pthread_mutex_lock(&p->mu);
    if (p->state == PEER_DOWN) {
        pthread_mutex_unlock(&p->mu);
        return;
    }
    int was_up = p->state == PEER_UP;
    p->state = PEER_DOWN;
    p->err.code = code;
    snprintf(p->err.reason, sizeof p->err.reason, "%s", reason);
    edist_link *l = p->link;
    p->link = NULL;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);

    pthread_mutex_lock(&n->peers_mu);
    int owned = edist_hmap_get(&n->peers, p->name, p->name_len) == p;
    if (owned)
        edist_hmap_del(&n->peers, p->name, p->name_len);
    pthread_mutex_unlock(&n->peers_mu);
    if (l)
        link_close(l, code, reason);
    if (was_up)
        node_notify_nodes(n, p->name, p->name_len, 0);
    if (owned)
        peer_unref(p); /* the table's reference */
}

/* Collects referenced pointers to every peer, for passes that must not
 * hold peers_mu while they work. */
static size_t peer_snapshot(edist_node *n, edist_peer ***out)
{
    pthread_mutex_lock(&n->peers_mu);
    size_t k = 0, cap = n->peers.count;
    edist_peer **list = cap ? malloc(cap * sizeof *list) : NULL;
    for (size_t i = 0; list && i < n->peers.cap && k < cap; i++) {
        edist_hmap_slot *s = &n->peers.slots[i];
        if (s->value) {
            list[k] = s->value;
            peer_ref(list[k++]);
        }
    }
    pthread_mutex_unlock(&n->peers_mu);
    *out = list;
    return k;
}

void node_tick(uv_timer_t *t)
{
    edist_node *n = t->data;
    edist_peer **list;
    size_t k = peer_snapshot(n, &list);
    uint64_t now = node_now_ms();
    for (size_t i = 0; i < k; i++) {
        edist_peer *p = list[i];
        pthread_mutex_lock(&p->mu);
        int up = p->state == PEER_UP;
        const uint8_t *ptr;
        int empty = edist_dist_tx_pending(p->tx, &ptr) == 0;
        /* A link paused by a full mailbox is alive; we are the slow one. */
        edist_link *l = p->link;
        if (up && l && l->paused)
            edist_ticker_note_read(&p->ticker);
        int action = up ? edist_ticker_poll(&p->ticker, now, empty) : 0;
        if (action == EDIST_TICK_SEND)
            edist_dist_tx_tick(p->tx);
        pthread_mutex_unlock(&p->mu);
        if (action == EDIST_TICK_SEND)
            peer_flush(p);
        else if (action == EDIST_ETIMEDOUT)
            peer_down(p, EDIST_ETIMEDOUT,
                      "net_tick_timeout: the peer did not answer ticks");
        peer_unref(p);
    }
    free(list);
}

int edist_node_peers(edist_node *n, const char **names, size_t cap, char *buf,
                     size_t buf_len)
{
    edist_peer **list;
    size_t k = peer_snapshot(n, &list);
    size_t count = 0, used = 0;
    int rc = 0;
    for (size_t i = 0; i < k; i++) {
        edist_peer *p = list[i];
        pthread_mutex_lock(&p->mu);
        int up = p->state == PEER_UP;
        pthread_mutex_unlock(&p->mu);
        if (up) {
            if (count < cap) {
                if (used + p->name_len + 1 > buf_len) {
                    rc = EDIST_ETOOBIG;
                } else {
                    memcpy(buf + used, p->name, p->name_len + 1);
                    names[count] = buf + used;
                    used += p->name_len + 1;
                }
            }
            count++;
        }
        peer_unref(p);
    }
    free(list);
    return rc < 0 ? rc : (int)count;
}
