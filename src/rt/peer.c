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
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/wire.h"
#include "edist/etf.h"
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
    edist_outq_free(&p->q);
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
    p->fd = -1;
    edist_outq_init(&p->q, n->max_out_queue, n->alloc);
    node_cond_init(&p->cv);
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

int peer_is_up(edist_node *n, const char *name, size_t len, uint64_t *flags)
{
    edist_peer *p = peer_get_up(n, name, len);
    if (!p)
        return 0;
    if (flags) {
        pthread_mutex_lock(&p->mu);
        *flags = p->flags;
        pthread_mutex_unlock(&p->mu);
    }
    peer_unref(p);
    return 1;
}

edist_peer *peer_get_up(edist_node *n, const char *name, size_t len)
{
    edist_peer *p = peer_lookup(n, name, len);
    if (!p)
        return NULL;
    if (atomic_load_explicit(&p->state, memory_order_acquire) != PEER_UP) {
        peer_unref(p);
        p = NULL;
    }
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

/* What a frame carries: a control term and either payload bytes or a term
 * to encode in place (msg, msg_size bytes with its 131 version byte). */
typedef struct peer_body {
    const uint8_t *ctl;
    size_t ctl_len;
    const uint8_t *payload;
    size_t payload_len;
    const edist_term *msg;
    size_t msg_size;
} peer_body;

/*
 * Frames one pass-through message into the out-queue (mu held):
 *
 *   Len:32 | 112 | 131 Ctl | [131 Payload]
 *
 * edist never advertises DIST_HDR_ATOM_CACHE or FRAGMENTS, so this is the
 * only framing we send (see the top of this file).  A message given as a
 * term is encoded straight into the queue: no buffer of its own, no copy.
 */
static int peer_frame(edist_peer *p, const peer_body *b)
{
    size_t pay =
        b->msg ? b->msg_size : (b->payload_len ? 1 + b->payload_len : 0);
    if (b->ctl_len == 0)
        return EDIST_EINVAL;
    if (pay > UINT32_MAX || b->ctl_len > UINT32_MAX - 2 - pay)
        return EDIST_ETOOBIG;
    size_t body = 2 + b->ctl_len + pay;
    int err;
    uint8_t *d = edist_outq_reserve(&p->q, 4 + body, &err);
    if (!d)
        return err;
    edist_put32(d, (uint32_t)body);
    d[4] = 112;
    d[5] = 131;
    memcpy(d + 6, b->ctl, b->ctl_len);
    uint8_t *t = d + 6 + b->ctl_len;
    if (b->msg) {
        size_t w;
        int rc = edist_etf_encode_to(b->msg, NULL, t, pay, &w);
        if (rc < 0 || w != pay)
            return rc < 0 ? rc : EDIST_EINVAL; /* nothing committed */
    } else if (b->payload_len) {
        t[0] = 131;
        memcpy(t + 1, b->payload, b->payload_len);
    }
    edist_outq_commit(&p->q, 4 + body);
    return 0;
}

enum { PEER_W_DONE = 0, PEER_W_BLOCKED = 1, PEER_W_BUSY = 2 };

/* A writer lets go of the socket (mu held): p->writing is cleared, the
 * ticker learns that bytes left, and whoever waits is woken. */
static void peer_write_end(edist_peer *p, int wrote)
{
    p->writing = 0;
    if (wrote) {
        edist_ticker_note_write(&p->ticker);
        if (p->waiters)
            pthread_cond_broadcast(&p->cv); /* room for blocked senders */
    }
    /* peer_down may be waiting for the writer to let go of the fd. */
    if (p->state != PEER_UP)
        pthread_cond_broadcast(&p->cv);
}

/* One sendmsg() of iov[0..k) on fd, retried on EINTR; MSG_NOSIGNAL, not
 * writev: a peer that reset the connection must cost us EPIPE, not a
 * SIGPIPE that would end the user's program.  Returns the bytes written
 * or -1 with errno. */
static ssize_t peer_sendmsg(int fd, struct iovec *iov, int k)
{
    struct msghdr mh = {0};
    mh.msg_iov = iov;
    mh.msg_iovlen = (size_t)k;
    ssize_t w;
    do {
        /* One piece goes with send(): the kernel then has no iovec array
         * to copy in and check. */
        w = k == 1 ? send(fd, iov[0].iov_base, iov[0].iov_len,
                          MSG_NOSIGNAL | MSG_DONTWAIT)
                   : sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (w < 0 && errno == EINTR);
    return w;
}

/*
 * Writes the queue to the socket until it is empty, the socket is full or
 * it fails.  Called with mu held by whichever thread flushes (the I/O
 * thread, or a sender writing directly); mu is released around the sendmsg(),
 * so senders keep appending meanwhile and this loop takes their frames
 * too.  One writer at a time (p->writing): a second caller returns
 * PEER_W_BUSY at once, its frames are the first writer's to send.
 * Returns PEER_W_DONE, PEER_W_BLOCKED (EAGAIN: bytes stay queued), or a
 * positive errno.
 */
static int peer_write(edist_peer *p, int max_passes)
{
    if (p->writing)
        return PEER_W_BUSY;
    if (p->fd < 0)
        return PEER_W_DONE;
    p->writing = 1;
    int fd = p->fd, rc = PEER_W_DONE, wrote = 0;
    for (int pass = 0;; pass++) {
        if (max_passes && pass == max_passes && !edist_outq_empty(&p->q)) {
            /* A sender has done its share for others: the I/O thread
             * takes over (the caller schedules it). */
            rc = PEER_W_BUSY;
            break;
        }
        edist_outq_chunk *chain = edist_outq_take(&p->q);
        if (!chain)
            break;
        struct iovec iov[64];
        int k = edist_outq_iov(chain, iov, 64);
        size_t want = 0;
        for (int i = 0; i < k; i++)
            want += iov[i].iov_len;
        pthread_mutex_unlock(&p->mu);
        ssize_t w = peer_sendmsg(fd, iov, k);
        int e = w < 0 ? errno : 0;
        pthread_mutex_lock(&p->mu);
        edist_outq_done(&p->q, chain, w > 0 ? (size_t)w : 0);
        if (w > 0)
            wrote = 1;
        if (w < 0) {
            rc = (e == EAGAIN || e == EWOULDBLOCK) ? PEER_W_BLOCKED
                 : e                               ? e
                                                   : EPIPE;
            break;
        }
        if ((size_t)w < want) {
            /* A short write means the socket buffer is full: asking
             * again would only earn an EAGAIN. */
            rc = PEER_W_BLOCKED;
            break;
        }
    }
    peer_write_end(p, wrote);
    return rc;
}

/* A sender writes to the socket itself, skipping the hop to the I/O
 * thread, when the queue was idle: the message is then the only one to
 * send, and latency is all that matters.  Messages that follow the
 * previous one closer than this are left to the I/O thread, which sends
 * them many per sendmsg() (one system call per message would cap a busy
 * sender far below what batching gives). */
#define PEER_DIRECT_GAP_NS 10000u

/* ... except the first few of a burst: a thread that sends two or three
 * messages and then waits (the rpc worker's SPAWN_REPLY and the result,
 * a reply and a demonitor) would otherwise wait for the I/O thread's
 * wake-up (20-40 us here) to save a system call (2-4 us).  A sender that
 * keeps going is batched from its fifth message on. */
#define PEER_DIRECT_BURST 4u

/* mu held: whether this send may write directly (gap and burst rules
 * above), recording its time for the next one.  The caller counts a
 * direct write in p->burst.  answered: the link was read since our
 * previous send to this peer (rx.c takes tx_mark), so this send opens a
 * new exchange, which is a new burst whatever the gap: no clock is read.
 * An rpc read the clock five times per call, this was one of them. */
static int peer_direct_ok(edist_peer *p, int answered)
{
    if (answered) {
        p->burst = 0;
        p->last_send_ns = 0; /* the next send, unanswered, starts afresh */
        return 1;
    }
    uint64_t now = node_now_ns();
    if (now - p->last_send_ns > PEER_DIRECT_GAP_NS)
        p->burst = 0;
    p->last_send_ns = now;
    return p->burst < PEER_DIRECT_BURST;
}

/* Queued bytes above which senders wait for the writer (BEAM's default
 * dist_buf_busy_limit); max_out_queue stays the hard cap. */
#define PEER_BUSY_LIMIT ((size_t)1 << 20)

enum { PEER_G_NO = 0, PEER_G_SENT = 1, PEER_G_QUEUED = 2 };

/*
 * Writes one whole frame, iov[0..k) of total bytes in the caller's memory,
 * with one sendmsg() (mu held, the peer up, the queue empty and nobody
 * writing; mu is released around the call).  Returns PEER_G_SENT when the
 * socket took it all, PEER_G_QUEUED when the rest was copied into the
 * queue, in front of frames queued meanwhile (the caller then schedules a
 * flush), or EDIST_ENOMEM when it could not be, in which case the
 * connection is shut down: half a frame is on the wire and nothing else
 * may follow it.
 */
static int peer_send_iov(edist_peer *p, struct iovec *iov, int k, size_t total)
{
    int fd = p->fd;
    p->writing = 1;
    pthread_mutex_unlock(&p->mu);
    ssize_t sent = peer_sendmsg(fd, iov, k);
    pthread_mutex_lock(&p->mu);
    size_t done = sent > 0 ? (size_t)sent : 0;
    int rc = PEER_G_SENT;
    if (done < total) {
        /* The socket is full (or failed: the I/O thread's flush will see
         * the error and close the link).  Keep the rest, ahead of what
         * other senders queued while we wrote. */
        rc = PEER_G_QUEUED;
        if (p->state == PEER_UP &&
            edist_outq_push_front(&p->q, iov, k, done) < 0) {
            shutdown(fd, SHUT_RDWR);
            rc = EDIST_ENOMEM;
        }
    }
    peer_write_end(p, done > 0);
    return rc;
}

/*
 * Zero-copy sends.  A message term whose encoding references large
 * binaries (EDIST_ETF_GATHER_MIN bytes and up, see edist_etf_writer_gather)
 * is written with one sendmsg() straight from the caller's term when the
 * queue is idle: the frame's header and small parts from a stack buffer,
 * each large payload from the caller's memory.  The kernel's copy into
 * the socket buffer is then the only one.  Whatever the socket does not
 * take is copied into the out-queue (in front of frames queued meanwhile)
 * before edist_send returns, so the caller may still free its term at
 * once: a second copy happens only when the socket is full.  Under load
 * (queue not idle) frames are encoded into the queue as before, which is
 * then the one copy.
 */
#define PEER_GATHER_BUF  4096u
#define PEER_GATHER_REFS 16u
/* Referenced bytes from which a direct write beats batching whatever the
 * gap since the previous send: copying them would cost more than the
 * system call saved. */
#define PEER_GATHER_ALWAYS (16u * 1024u)

/* Whether t holds a binary worth referencing among its first 64 terms: a
 * cheap look before encoding into the stack buffer, so that messages
 * without one (or with it buried in bulk that the stack buffer could not
 * hold anyway) are encoded once, into the queue. */
static int peer_has_large_binary(const edist_term *t)
{
    const edist_term *stack[16];
    size_t sp = 0, visits = 0;
    stack[sp++] = t;
    while (sp && visits < 64) {
        const edist_term *x = stack[--sp];
        visits++;
        if (x->type == EDIST_TERM_BINARY && x->v.bin.bits == 8 &&
            x->v.bin.size >= EDIST_ETF_GATHER_MIN)
            return 1;
        const edist_term *el = NULL;
        size_t n = 0;
        if (x->type == EDIST_TERM_TUPLE) {
            el = x->v.tuple.elems;
            n = x->v.tuple.arity;
        } else if (x->type == EDIST_TERM_LIST) {
            el = x->v.list.elems;
            n = x->v.list.len;
        } else if (x->type == EDIST_TERM_MAP) {
            el = x->v.map.values;
            n = x->v.map.size;
        }
        for (size_t i = n; i-- > 0 && sp < 16;)
            stack[sp++] = &el[i];
    }
    return 0;
}

/*
 * Tries the zero-copy path for b (a term, mu held, the peer up, the queue
 * empty and nobody writing).  Returns PEER_G_NO when the frame should go
 * through the queue (no large payload, too many small parts for the stack
 * buffer, or batching is better), PEER_G_SENT when the socket took it
 * whole, PEER_G_QUEUED when the rest of it was queued (the caller then
 * schedules a flush), or a negative code: EDIST_ENOMEM when the rest could
 * not be queued, in which case the connection is shut down (half a frame
 * is on the wire; nothing else may follow it).
 */
static int peer_send_gather(edist_peer *p, const peer_body *b, int direct_ok)
{
    uint8_t buf[PEER_GATHER_BUF];
    edist_etf_ref refs[PEER_GATHER_REFS];
    edist_etf_writer w;
    size_t body = 2 + b->ctl_len + b->msg_size;
    if (b->msg_size < EDIST_ETF_GATHER_MIN || b->ctl_len == 0 ||
        b->msg_size > UINT32_MAX || b->ctl_len > UINT32_MAX - 2 - b->msg_size ||
        !peer_has_large_binary(b->msg))
        return PEER_G_NO;
    edist_etf_writer_init_fixed(&w, buf, sizeof buf, 0);
    edist_etf_writer_gather(&w, EDIST_ETF_GATHER_MIN, refs, PEER_GATHER_REFS);
    uint8_t h[6];
    edist_put32(h, (uint32_t)body);
    h[4] = 112;
    h[5] = 131;
    edist_etf_put_raw(&w, h, sizeof h);
    edist_etf_put_raw(&w, b->ctl, b->ctl_len);
    edist_etf_put_version(&w);
    if (edist_etf_put_term(&w, b->msg) < 0 || w.nrefs == 0 ||
        edist_etf_writer_size(&w) != 4 + body ||
        (!direct_ok && w.ref_bytes < PEER_GATHER_ALWAYS))
        return PEER_G_NO;
    edist_etf_piece pc[2 * PEER_GATHER_REFS + 1];
    struct iovec iov[2 * PEER_GATHER_REFS + 1];
    int k = (int)edist_etf_writer_pieces(&w, pc, 2 * PEER_GATHER_REFS + 1);
    for (int i = 0; i < k; i++) {
        iov[i].iov_base = (void *)(uintptr_t)pc[i].data;
        iov[i].iov_len = pc[i].len;
    }
    return peer_send_iov(p, iov, k, 4 + body);
}

/*
 * The direct path of a small frame whose message is already encoded (the
 * caller's stack buffer, mbox.c): one sendmsg() of header, control and
 * payload where they are, when the queue is idle and the send may write
 * directly.  Copying them into the out-queue only to take them out again
 * cost a request/reply exchange a tenth of its user-space instructions
 * (reserve, copy, take, done).  Same conditions and returns as
 * peer_send_gather; PEER_G_NO when the frame should be queued.
 */
#define PEER_SMALL_FRAME 1024u

static int peer_send_small(edist_peer *p, const peer_body *b, int direct_ok)
{
    if (!direct_ok || !b->payload_len || b->ctl_len == 0 ||
        b->payload_len > UINT32_MAX - 3 - b->ctl_len)
        return PEER_G_NO;
    size_t body = 2 + b->ctl_len + 1 + b->payload_len;
    uint8_t h[PEER_SMALL_FRAME];
    static const uint8_t version = 131;
    edist_put32(h, (uint32_t)body);
    h[4] = 112;
    h[5] = 131;
    if (4 + body <= sizeof h) {
        /* Copying a few hundred bytes costs less than the kernel's
         * handling of four iovecs. */
        memcpy(h + 6, b->ctl, b->ctl_len);
        h[6 + b->ctl_len] = 131;
        memcpy(h + 7 + b->ctl_len, b->payload, b->payload_len);
        struct iovec one = {h, 4 + body};
        return peer_send_iov(p, &one, 1, 4 + body);
    }
    struct iovec iov[4] = {
        {h, 6},
        {(void *)(uintptr_t)b->ctl, b->ctl_len},
        {(void *)(uintptr_t)&version, 1},
        {(void *)(uintptr_t)b->payload, b->payload_len},
    };
    return peer_send_iov(p, iov, 4, 4 + body);
}

static int peer_send_body(edist_peer *p, const peer_body *b);

int peer_send(edist_peer *p, const uint8_t *ctl, size_t ctl_len,
              const uint8_t *payload, size_t payload_len)
{
    peer_body b = {ctl, ctl_len, payload, payload_len, NULL, 0};
    return peer_send_body(p, &b);
}

int peer_send_term(edist_peer *p, const uint8_t *ctl, size_t ctl_len,
                   const edist_term *msg, size_t size)
{
    peer_body b = {ctl, ctl_len, NULL, 0, msg, size};
    return peer_send_body(p, &b);
}

/* Releases mu, then has the out-queue flushed when schedule is set: at
 * once on the I/O thread, else by a flush command posted to it.  A leader
 * (on_io, but not the loop's thread) writes what it can itself first, as
 * a direct sender does: a reply it sends while routing (SPAWN_REPLY,
 * is_auth, noproc) must not wait for a thread hop.  What it cannot write
 * (a full socket, another writer, an error) goes to the I/O thread, which
 * alone may arm POLLOUT or close the link: libuv is its alone. */
static void peer_unlock_flush(edist_peer *p, int schedule, int on_io)
{
    int loop = on_io && edist_loop_on_thread(&p->node->loop);
    if (schedule && on_io && !loop && p->state == PEER_UP &&
        !p->writable_wait && peer_write(p, 0) == PEER_W_DONE) {
        p->flush_pending = 0;
        schedule = 0;
    }
    pthread_mutex_unlock(&p->mu);
    if (!schedule)
        return;
    if (loop)
        peer_flush(p);
    else
        peer_schedule_flush(p);
}

/* After the zero-copy path (mu held; released here): frames that other
 * senders queued while we wrote, or the rest of ours, are flushed by us
 * (socket not full) or by the I/O thread.  Returns 0 or g's error. */
static int peer_gather_done(edist_peer *p, int g, int on_io)
{
    int schedule = 0;
    if (!edist_outq_empty(&p->q) && p->state == PEER_UP && !p->writing &&
        !p->flush_pending) {
        if (g != PEER_G_SENT || on_io || peer_write(p, 8) != PEER_W_DONE) {
            p->flush_pending = 1;
            schedule = 1;
        }
    }
    peer_unlock_flush(p, schedule, on_io);
    return g < 0 ? g : 0;
}

static int peer_send_body(edist_peer *p, const peer_body *b)
{
    edist_node *n = p->node;
    /* Tells the link's reader that this is an exchange (rx.c).  Tested
     * first: a sender that streams then leaves the reader's cache line
     * alone until the reader takes the mark.  Found taken, it says that
     * the peer was read from since our previous send (peer_direct_ok). */
    int answered = !atomic_load_explicit(&p->tx_mark, memory_order_relaxed);
    if (answered)
        atomic_store_explicit(&p->tx_mark, 1, memory_order_relaxed);
    /* A leader routing a frame (rx.c) must not wait for the I/O thread
     * either: it may be waiting for that leader's link. */
    int on_io = node_on_io(n);
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
        /* Flow control before the cap: while more than the busy limit is
         * queued to an up peer, a sender that may wait does, as BEAM
         * suspends a process whose distribution buffer is busy.  Filling
         * the whole cap first would only make the queue a cold, many-
         * megabyte working set that the writer and the allocator churn
         * through.  A sender whose wait timed out falls back to the cap. */
        int may_wait = !on_io && n->send_timeout_ms != 0;
        int busy = may_wait && have_deadline != 2 && p->state == PEER_UP &&
                   p->q.bytes > PEER_BUSY_LIMIT;
        if (!busy && (b->msg || b->payload_len) && p->state == PEER_UP &&
            p->fd >= 0 && !p->writing && !p->flush_pending &&
            !p->writable_wait && edist_outq_empty(&p->q)) {
            int ok = peer_direct_ok(p, answered);
            answered = 0; /* recorded: a second look is not a new exchange */
            int g = b->msg ? peer_send_gather(p, b, on_io || ok)
                           : peer_send_small(p, b, !on_io && ok);
            if (g != PEER_G_NO) {
                p->burst++;
                return peer_gather_done(p, g, on_io);
            }
        }
        if (!busy) {
            rc = peer_frame(p, b);
            if (rc != EDIST_EQUEUEFULL || !may_wait || have_deadline == 2)
                break;
        }
        /* Backpressure: wait for the writer to make room. */
        p->waiters++;
        if (n->send_timeout_ms < 0) {
            pthread_cond_wait(&p->cv, &p->mu);
        } else {
            if (!have_deadline) {
                node_deadline(&deadline, n->send_timeout_ms);
                have_deadline = 1;
            }
            if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) == ETIMEDOUT)
                have_deadline = 2;
        }
        p->waiters--;
    }
    if (rc == 0 && p->state == PEER_UP && !p->writing && !p->flush_pending) {
        int ok = peer_direct_ok(p, answered);
        int direct = !on_io && !p->writable_wait && ok;
        p->burst += (unsigned)direct;
        if (!direct || peer_write(p, 8) != PEER_W_DONE) {
            /* Left for the I/O thread: it batches, arms POLLOUT on a
             * full socket and closes the link on an error. */
            p->flush_pending = 1;
            schedule = 1;
        }
    } else if (rc == 0 && !answered) {
        p->last_send_ns = node_now_ns();
    }
    peer_unlock_flush(p, schedule, on_io);
    return rc;
}

void peer_flush(edist_peer *p)
{
    pthread_mutex_lock(&p->mu);
    p->flush_pending = 0;
    rt_link *l = p->link;
    if (p->state != PEER_UP || !l) {
        pthread_mutex_unlock(&p->mu);
        return;
    }
    int rc = peer_write(p, 0);
    if (rc != PEER_W_BUSY)
        p->writable_wait = rc == PEER_W_BLOCKED;
    pthread_mutex_unlock(&p->mu);
    if (rc != PEER_W_DONE && rc != PEER_W_BLOCKED && rc != PEER_W_BUSY) {
        char why[128];
        snprintf(why, sizeof why, "write to the peer failed: %s", strerror(rc));
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
    pthread_mutex_unlock(&n->dirty_mu);
    while (p) {
        /* One peer at a time leaves the list, under the lock: a peer still
         * listed is not linked again by peer_schedule_flush, so its next
         * pointer holds until it is read here.  (Clearing every mark at
         * once let a sender relink a peer further down, which then skipped
         * the peers after it, whose queues stalled for good, or walked
         * into the new list and dropped a reference twice.) */
        pthread_mutex_lock(&n->dirty_mu);
        edist_peer *next = p->dirty_next;
        p->dirty_listed = 0;
        pthread_mutex_unlock(&n->dirty_mu);
        peer_flush(p);
        peer_unref(p);
        p = next;
    }
}

void peer_up(edist_peer *p, rt_link *l, const edist_hs_event *ev)
{
    edist_node *n = p->node;
    pthread_mutex_lock(&p->mu);
    /* Under the lock: once the state is UP a sender may write directly
     * and note it in the ticker (TSan found the init racing with that). */
    edist_ticker_init(&p->ticker, n->ticktime_ms, n->tick_intensity,
                      !ev->visible, node_now_ms());
    p->state = PEER_UP;
    p->link = l;
    p->fd = l->fd;
    p->flags = ev->flags;
    p->visible = ev->visible;
    p->creation = ev->peer_creation;
    p->err.code = 0;
    p->err.reason[0] = '\0';
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    /* Up is told before the first flush: a write that fails there takes
     * the peer down again, and its nodedown must come after the nodeup. */
    node_notify_nodes(n, p->name, p->name_len, 1);
    peer_flush(p);
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
    /* A sender may be in sendmsg() on the socket without the lock: the fd
     * must stay open (and not be reused) until it is done. */
    while (p->writing)
        pthread_cond_wait(&p->cv, &p->mu);
    p->fd = -1;
    edist_outq_clear(&p->q);
    p->err.code = code;
    snprintf(p->err.reason, sizeof p->err.reason, "%s", reason);
    rt_link *l = p->link;
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

size_t peer_snapshot(edist_node *n, edist_peer ***out)
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
        int empty = edist_outq_empty(&p->q) && !p->writing;
        /* A link paused by a full mailbox is alive; we are the slow one. */
        rt_link *l = p->link;
        if (up && l && l->paused)
            edist_ticker_note_read(&p->ticker);
        /* Readers (the I/O thread or a leader, rx.c) only set a flag. */
        if (atomic_exchange(&p->rx_seen, 0))
            edist_ticker_note_read(&p->ticker);
        /* Every connection is evaluated at every pass: the passes are one
         * interval apart, and the reads and writes noted since the last
         * pass are what one interval saw.  Each ticker's schedule started
         * when its connection came up, at another phase; a connection
         * whose next evaluation fell a millisecond after this pass (the
         * loop ran late once, or the ticker rounded the ticktime up) would
         * otherwise wait a whole interval more, and tick a second late.
         * Half an interval of slack keeps them in step. */
        uint64_t due = now + edist_ticker_interval(&p->ticker) / 2;
        int action = up ? edist_ticker_poll(&p->ticker, due, empty) : 0;
        if (action == EDIST_TICK_SEND) {
            int err;
            uint8_t *d = edist_outq_reserve(&p->q, 4, &err);
            if (d) {
                memset(d, 0, 4); /* a tick: an empty frame */
                edist_outq_commit(&p->q, 4);
            }
        }
        pthread_mutex_unlock(&p->mu);
        if (action == EDIST_TICK_SEND)
            peer_flush(p);
        else if (action == EDIST_ETIMEDOUT)
            peer_down(p, EDIST_ETIMEDOUT,
                      "net_tick_timeout: the peer did not answer ticks");
        peer_unref(p);
    }
    free(list);
    /* Large-message blocks nobody took for a whole interval go back. */
    msgpool_trim(n->msgpool);
}

int edist_node_peers(edist_node *n, const char **names, size_t cap, char *buf,
                     size_t buf_len)
{
    /* nodes(connected): the same walk as edist_node_nodes (nodes.c). */
    return edist_node_nodes(n, EDIST_NODES_CONNECTED, names, cap, buf, buf_len);
}
