/*
 * link.c: one TCP connection to another node, on the I/O thread: the EPMD
 * lookup and connect() of a dial, the handshake in both roles (driving the
 * sans-IO edist_hs), then reading frames once up.
 *
 * Sockets are plain non-blocking fds watched with uv_poll: we read into the
 * node's one read buffer and write straight from the peer's out-queue, so
 * no bytes are copied into libuv's own buffers and a write can start from
 * whichever thread holds the queue.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/mem.h"
#include "edist/err.h"
#include "rt/node_int.h"
#include "rt/resolve.h"

static void link_on_poll(uv_poll_t *h, int status, int events);
static void link_on_timer(uv_timer_t *t);

static rt_link *link_new(edist_node *n, int role, int fd)
{
    rt_link *l = edist_mem_alloc(n->alloc, sizeof *l);
    if (!l)
        return NULL;
    memset(l, 0, sizeof *l);
    l->node = n;
    l->role = role;
    l->fd = fd;
    pthread_mutex_init(&l->rx_mu, NULL);
    uv_timer_init(&n->loop.uv, &l->timer);
    l->timer.data = l;
    l->next = n->links;
    if (n->links)
        n->links->prev = l;
    n->links = l;
    return l;
}

static void link_free(rt_link *l)
{
    edist_node *n = l->node;
    rx_detach(l); /* no leader reads it any more */
    if (l->fd >= 0)
        close(l->fd);
    pthread_mutex_destroy(&l->rx_mu);
    edist_hs_free(l->hs);
    edist_dist_rx_free(l->rx);
    if (l->peer)
        peer_unref(l->peer);
    edist_mem_free(n->alloc, l);
}

/* Every handle of a link is closed before it is freed; the last close
 * callback (or the end of a cancelled lookup) frees it. */
static void link_on_closed(uv_handle_t *h)
{
    rt_link *l = h->data;
    if (--l->closing == 1)
        link_free(l);
}

void link_close(rt_link *l, int code, const char *reason)
{
    if (l->closing)
        return;
    /* closing counts the callbacks still to come, plus one. */
    l->closing = 1;
    l->state = LINK_CLOSED;
    atomic_store(&l->rx_closed, 1);
    rx_disarm(l);
    edist_node *n = l->node;
    if (l->prev)
        l->prev->next = l->next;
    else if (n->links == l)
        n->links = l->next;
    if (l->next)
        l->next->prev = l->prev;
    l->next = l->prev = NULL;
    edist_peer *p = l->peer;
    if (p) {
        pthread_mutex_lock(&p->mu);
        int mine = p->link == l;
        pthread_mutex_unlock(&p->mu);
        if (mine)
            peer_down(p, code, reason);
    }
    uv_timer_stop(&l->timer);
    l->closing++;
    uv_close((uv_handle_t *)&l->timer, link_on_closed);
    if (l->poll_started) {
        uv_poll_stop(&l->poll);
        l->closing++;
        uv_close((uv_handle_t *)&l->poll, link_on_closed);
    }
    if (l->work.type == UV_WORK) {
        /* A lookup is in the pool: its completion callback finishes. */
        l->closing++;
        uv_cancel((uv_req_t *)&l->work);
    }
}

void link_update_poll(rt_link *l)
{
    if (l->closing || l->fd < 0 || l->state == LINK_NOK_WAIT)
        return;
    /* An up link is read through the rx epoll sets (rx.c). */
    int ev = l->paused || l->state == LINK_UP ? 0 : UV_READABLE;
    if (l->state == LINK_CONNECTING)
        ev = UV_WRITABLE;
    else if (l->state == LINK_HANDSHAKE && l->hs) {
        const uint8_t *p;
        if (edist_hs_pending(l->hs, &p))
            ev |= UV_WRITABLE;
    } else if (l->state == LINK_UP && l->peer && l->peer->writable_wait) {
        ev |= UV_WRITABLE;
    }
    if (!l->poll_started) {
        if (uv_poll_init(&l->node->loop.uv, &l->poll, l->fd) != 0)
            return;
        l->poll.data = l;
        l->poll_started = 1;
        l->poll_events = 0;
    }
    if (ev != l->poll_events) {
        if (ev)
            uv_poll_start(&l->poll, ev, link_on_poll);
        else
            uv_poll_stop(&l->poll);
        l->poll_events = ev;
    }
}

/* ---- handshake */

static void link_arm_deadline(rt_link *l)
{
    uint64_t d = l->hs ? edist_hs_next_deadline(l->hs) : EDIST_NO_DEADLINE;
    if (d == EDIST_NO_DEADLINE) {
        uv_timer_stop(&l->timer);
        return;
    }
    uint64_t now = node_now_ms();
    uv_timer_start(&l->timer, link_on_timer, d > now ? d - now : 0, 0);
}

/* Writes the handshake's pending bytes; returns 0 or -1 on a dead socket. */
static int link_hs_write(rt_link *l)
{
    const uint8_t *p;
    size_t n;
    while ((n = edist_hs_pending(l->hs, &p)) > 0) {
        ssize_t w = send(l->fd, p, n, MSG_NOSIGNAL); /* no SIGPIPE */
        if (w > 0) {
            edist_hs_consumed(l->hs, (size_t)w);
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        return -1;
    }
    return 0;
}

static int link_read_frames(rt_link *l, const uint8_t *in, size_t len,
                            char *why, size_t why_len);

/* Acceptor, NAME_ME (a node started as `-sname undefined` dials us):
 * names it as net_kernel:generate_node_name/2 does, a random 64-bit
 * number in base 36 (upper case) @ the host it sent, with a random
 * creation of at least 4, and claims a fresh peer entry for that name
 * (a name in use is drawn again).  Returns the peer (a reference) or
 * NULL when out of memory or randomness. */
static edist_peer *link_name_peer(rt_link *l, const edist_hs_event *ev,
                                  uint32_t *creation)
{
    edist_node *n = l->node;
    for (int attempt = 0; attempt < 8; attempt++) {
        uint64_t r;
        uint32_t c;
        if (edist_random_bytes(&r, sizeof r) != 0 ||
            edist_random_bytes(&c, sizeof c) != 0)
            return NULL;
        char digits[16], name[EDIST_NODE_NAME_MAX + 1];
        size_t k = 0;
        r = r ? r : 1;
        while (r) {
            digits[k++] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[r % 36];
            r /= 36;
        }
        size_t len = 0;
        while (k)
            name[len++] = digits[--k];
        int w = snprintf(name + len, sizeof name - len, "@%.*s",
                         (int)ev->peer_name_len, ev->peer_name);
        if (w < 0 || (size_t)w >= sizeof name - len)
            return NULL;
        len += (size_t)w;
        int created;
        edist_peer *p = peer_get_or_create(n, name, len, &created);
        if (!p)
            return NULL;
        if (created) {
            /* net_kernel's wrap_creation: creations 0-3 are avoided. */
            *creation = c >= 4 ? c : c + 4;
            return p;
        }
        peer_unref(p);
    }
    return NULL;
}

/* Acceptor: decide the status from the peer table (net_kernel's rules). */
static void link_need_status(rt_link *l, const edist_hs_event *ev)
{
    edist_node *n = l->node;
    uint64_t now = node_now_ms();
    if (ev->name_me) {
        uint32_t creation = 0;
        edist_peer *p = link_name_peer(l, ev, &creation);
        if (!p) {
            edist_hs_set_status(l->hs, EDIST_HS_STATUS_NOT_ALLOWED, now);
            return;
        }
        pthread_mutex_lock(&p->mu);
        p->link = l;
        pthread_mutex_unlock(&p->mu);
        l->peer = p; /* keeps the reference from peer_get_or_create */
        if (edist_hs_set_named(l->hs, p->name, creation, now) < 0)
            link_close(l, EDIST_EBADNAME, "cannot name the NAME_ME peer");
        return;
    }
    int created;
    edist_peer *p =
        peer_get_or_create(n, ev->peer_name, ev->peer_name_len, &created);
    if (!p) {
        edist_hs_set_status(l->hs, EDIST_HS_STATUS_NOT_ALLOWED, now);
        return;
    }
    pthread_mutex_lock(&p->mu);
    int state = p->state;
    rt_link *other = p->link;
    if (created || (state == PEER_PENDING && !other))
        p->link = l;
    pthread_mutex_unlock(&p->mu);
    l->peer = p; /* keeps the reference from peer_get_or_create */
    if (created || (state == PEER_PENDING && !other)) {
        edist_hs_set_status(l->hs, EDIST_HS_STATUS_OK, now);
    } else if (state == PEER_PENDING && other->state == LINK_NOK_WAIT) {
        /* The attempt our nok'ed dial was waiting for. */
        pthread_mutex_lock(&p->mu);
        p->link = l;
        pthread_mutex_unlock(&p->mu);
        link_close(other, EDIST_ENOK, "simultaneous connect");
        edist_hs_set_status(l->hs, EDIST_HS_STATUS_OK, now);
    } else if (state == PEER_PENDING && other &&
               other->role == EDIST_HS_INITIATOR) {
        /* Simultaneous connect: BEAM's rule picks one attempt. */
        int st = edist_hs_simultaneous_rule(n->name, p->name);
        if (st == EDIST_HS_STATUS_OK_SIMULTANEOUS) {
            pthread_mutex_lock(&p->mu);
            p->link = l;
            pthread_mutex_unlock(&p->mu);
            link_close(other, EDIST_ENOK, "simultaneous connect");
        }
        edist_hs_set_status(l->hs, st, now);
    } else if (state == PEER_UP) {
        edist_hs_set_status(l->hs, EDIST_HS_STATUS_ALIVE, now);
    } else {
        /* Another accepted attempt is already in its handshake. */
        edist_hs_set_status(l->hs, EDIST_HS_STATUS_NOT_ALLOWED, now);
    }
}

/* Acceptor, alive path: the old connection is replaced by this one. */
static void link_replace_old(rt_link *l)
{
    edist_node *n = l->node;
    edist_peer *old = l->peer;
    peer_down(old, EDIST_ECLOSED, "replaced by a new incarnation");
    int created;
    edist_peer *p = peer_get_or_create(n, old->name, old->name_len, &created);
    peer_unref(old);
    l->peer = p;
    if (p) {
        pthread_mutex_lock(&p->mu);
        p->link = l;
        pthread_mutex_unlock(&p->mu);
    }
    edist_hs_old_gone(l->hs, node_now_ms());
}

static void link_completed(rt_link *l, const edist_hs_event *ev)
{
    edist_dist_rx_options ro = {0};
    ro.flags = ev->flags;
    ro.alloc = l->node->alloc;
    if (!l->peer || edist_dist_rx_new(&l->rx, &ro) != 0) {
        link_close(l, EDIST_ENOMEM, "out of memory");
        return;
    }
    l->state = LINK_UP;
    l->up = 1;
    uv_timer_stop(&l->timer);
    /* Copy the leftover: it lives in the hs, which we free now. */
    size_t left = ev->leftover_len;
    uint8_t *copy = NULL;
    if (left) {
        copy = edist_mem_alloc(l->node->alloc, left);
        if (copy)
            memcpy(copy, ev->leftover, left);
    }
    peer_up(l->peer, l, ev);
    edist_hs_free(l->hs);
    l->hs = NULL;
    link_update_poll(l); /* reading moves to the rx sets */
    if (rx_attach(l) < 0) {
        edist_mem_free(l->node->alloc, copy);
        link_close(l, EDIST_ENOMEM, "out of memory");
        return;
    }
    char why[512];
    int rc = 0;
    pthread_mutex_lock(&l->rx_mu);
    if (copy)
        rc = link_read_frames(l, copy, left, why, sizeof why);
    if (rc >= 0 && !l->paused)
        rx_arm(l);
    pthread_mutex_unlock(&l->rx_mu);
    edist_mem_free(l->node->alloc, copy);
    if (rc < 0)
        link_close(l, rc, why);
}

/* Initiator answered nok: the peer is dialling us and its attempt wins.
 * BEAM's net_kernel keeps the connection pending for the callers meanwhile
 * (net_adm:ping still answers pong), so we close the socket but leave the
 * link in place as the peer's placeholder until the peer's own connection
 * reaches link_need_status, or the handshake time limit passes. */
static void link_park_nok(rt_link *l)
{
    /* The socket stays open (unwatched) until the link is freed: closing it
     * now would let accept() hand out the same fd number while our poll
     * handle still exists, and libuv would then miss the new socket's
     * events. */
    if (l->poll_started)
        uv_poll_stop(&l->poll);
    l->poll_events = 0;
    edist_hs_free(l->hs);
    l->hs = NULL;
    l->state = LINK_NOK_WAIT;
    uv_timer_start(&l->timer, link_on_timer, EDIST_HS_SETUP_TIMEOUT_MS, 0);
}

static void link_hs_events(rt_link *l)
{
    edist_hs_event ev;
    while (!l->closing && l->hs && edist_hs_next_event(l->hs, &ev) > 0) {
        switch (ev.type) {
        case EDIST_HS_EV_NEED_STATUS:
            link_need_status(l, &ev);
            break;
        case EDIST_HS_EV_NEED_ALIVE_REPLY:
            /* We dialled, so we have no up connection to them: this is a
             * new incarnation of us, and the old link is dead. */
            edist_hs_alive_reply(l->hs, 1, node_now_ms());
            break;
        case EDIST_HS_EV_REPLACE_OLD:
            link_replace_old(l);
            break;
        case EDIST_HS_EV_COMPLETED:
            link_hs_write(l);
            link_completed(l, &ev);
            return;
        case EDIST_HS_EV_FAILED: {
            char why[512];
            snprintf(why, sizeof why, "%s", ev.reason ? ev.reason : "");
            link_hs_write(l); /* a status like not_allowed */
            if (ev.error == EDIST_ENOK && l->role == EDIST_HS_INITIATOR)
                link_park_nok(l);
            else
                link_close(l, ev.error, why);
            return;
        }
        }
    }
    if (l->closing || !l->hs)
        return;
    if (link_hs_write(l) < 0) {
        edist_hs_closed(l->hs, node_now_ms());
        link_hs_events(l);
        return;
    }
    link_arm_deadline(l);
    link_update_poll(l);
}

static int link_start_hs(rt_link *l)
{
    edist_node *n = l->node;
    edist_hs_options o = {0};
    o.role = l->role;
    o.this_node = n->name;
    o.this_creation = n->creation;
    o.flags = n->flags;
    o.hidden = n->hidden;
    o.cookie = n->cookie.value;
    o.cookie_len = n->cookie.len;
    o.peer_node = l->role == EDIST_HS_INITIATOR ? l->peer->name : NULL;
    o.alloc = n->alloc;
    if (edist_random_challenge(&o.challenge) != 0)
        return EDIST_ESYS;
    int rc = edist_hs_new(&l->hs, &o, node_now_ms());
    if (rc < 0)
        return rc;
    l->state = LINK_HANDSHAKE;
    int one = 1;
    setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    link_hs_events(l);
    return 0;
}

/* ---- accept */

void link_accept(edist_node *n, int fd)
{
    if (n->stopping) {
        close(fd);
        return;
    }
    rt_link *l = link_new(n, EDIST_HS_ACCEPTOR, fd);
    if (!l) {
        close(fd);
        return;
    }
    if (link_start_hs(l) < 0)
        link_close(l, EDIST_ESYS, "handshake setup failed");
}

/* ---- dial */

int link_resolve(const char *host, const char *alive, unsigned epmd_port,
                 int timeout_ms, struct sockaddr_storage *addr,
                 socklen_t *addrlen, edist_conn_error *e)
{
    edist_epmd_opts eo = {0};
    eo.host = host;
    eo.port = (uint16_t)epmd_port;
    eo.timeout_ms = timeout_ms;
    edist_epmd_lookup lk;
    int rc = edist_epmd_port_please(&eo, alive, &lk);
    if (rc == EDIST_ENONODE || rc == EDIST_ECLOSED) {
        e->code = EDIST_ENONODE;
        snprintf(e->reason, sizeof e->reason,
                 "the name '%.200s' is not registered with EPMD on %.200s:%u",
                 alive, host, epmd_port);
        return e->code;
    }
    if (rc < 0) {
        e->code = rc == EDIST_ECONNREFUSED ? EDIST_ENOEPMD : rc;
        snprintf(e->reason, sizeof e->reason,
                 "no EPMD answers on %.200s:%u (%s)", host, epmd_port,
                 edist_strerror(rc));
        return e->code;
    }
    if (rt_numeric_addr(host, lk.info.node.port, addr, addrlen))
        return 0;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    int g = getaddrinfo(host, NULL, &hints, &res);
    if (g != 0 || !res) {
        e->code = EDIST_EBADNAME;
        snprintf(e->reason, sizeof e->reason,
                 "cannot resolve host '%.200s': %s", host, gai_strerror(g));
        return e->code;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    uint16_t port = htons(lk.info.node.port);
    if (addr->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)addr)->sin6_port = port;
    else
        ((struct sockaddr_in *)addr)->sin_port = port;
    return 0;
}

static void link_lookup_work(uv_work_t *w)
{
    rt_link *l = w->data;
    link_resolve(l->host, l->alive, l->epmd_port, EDIST_HS_SETUP_TIMEOUT_MS,
                 &l->addr, &l->addrlen, &l->lookup_err);
}

static void link_fail(rt_link *l, int code, const char *reason)
{
    link_close(l, code, reason);
}

static void link_connect_addr(rt_link *l);

static void link_lookup_done(uv_work_t *w, int status)
{
    rt_link *l = w->data;
    w->type = UV_UNKNOWN_REQ;
    if (l->closing) {
        /* Closed while the lookup ran: finish what link_close began. */
        if (--l->closing == 1)
            link_free(l);
        return;
    }
    if (status < 0) {
        link_fail(l, EDIST_ESHUTDOWN, "lookup cancelled");
        return;
    }
    link_connect_addr(l);
}

/* Starts the non-blocking connect() to the address the lookup found. */
static void link_connect_addr(rt_link *l)
{
    if (l->lookup_err.code) {
        link_fail(l, l->lookup_err.code, l->lookup_err.reason);
        return;
    }
    l->fd = socket(l->addr.ss_family,
                   SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd < 0) {
        link_fail(l, EDIST_ESYS, strerror(errno));
        return;
    }
    if (connect(l->fd, (struct sockaddr *)&l->addr, l->addrlen) != 0 &&
        errno != EINPROGRESS) {
        char why[512];
        snprintf(why, sizeof why, "connect to %.200s failed: %s", l->host,
                 strerror(errno));
        link_fail(l, EDIST_ECONNREFUSED, why);
        return;
    }
    l->state = LINK_CONNECTING;
    uv_timer_start(&l->timer, link_on_timer, EDIST_HS_SETUP_TIMEOUT_MS, 0);
    link_update_poll(l);
}

void link_dial(edist_node *n, edist_peer *p)
{
    /* An accepted connection from that node may have claimed the peer
     * between the send that created it and this command. */
    pthread_mutex_lock(&p->mu);
    int busy = p->state != PEER_PENDING || p->link;
    pthread_mutex_unlock(&p->mu);
    if (busy || n->stopping)
        return;
    rt_link *l = link_new(n, EDIST_HS_INITIATOR, -1);
    if (!l) {
        peer_down(p, EDIST_ENOMEM, "out of memory");
        return;
    }
    peer_ref(p);
    l->peer = p;
    pthread_mutex_lock(&p->mu);
    p->link = l;
    pthread_mutex_unlock(&p->mu);
    const char *at = strchr(p->name, '@');
    size_t alen = at ? (size_t)(at - p->name) : 0;
    if (!at || alen == 0 || alen >= sizeof l->alive) {
        link_fail(l, EDIST_EBADNAME, "bad node name: expected name@host");
        return;
    }
    memcpy(l->alive, p->name, alen);
    l->alive[alen] = '\0';
    snprintf(l->host, sizeof l->host, "%s", at + 1);
    l->epmd_port = n->epmd_port;
    l->state = LINK_LOOKUP;
    /* edist_connect() may have looked the peer up in its own thread,
     * which waits anyway: two thread hops fewer than the pool. */
    pthread_mutex_lock(&p->mu);
    int pre = p->pre_resolved;
    if (pre) {
        l->addr = p->pre_addr;
        l->addrlen = p->pre_addrlen;
        l->lookup_err = p->pre_err;
    }
    pthread_mutex_unlock(&p->mu);
    if (pre) {
        link_connect_addr(l);
        return;
    }
    l->work.data = l;
    if (uv_queue_work(&n->loop.uv, &l->work, link_lookup_work,
                      link_lookup_done) != 0)
        link_fail(l, EDIST_ESYS, "cannot queue the EPMD lookup");
}

/* ---- I/O events */

/* Routes every complete frame; rx_mu held, on the I/O thread or a
 * leader.  Deliveries are batched per mailbox for the duration
 * (mbox_batch_begin/end): one lock and at most one wake-up per batch instead of
 * per message.  Returns 0, or a negative code with the reason in why: the
 * caller closes the link. */
static int link_read_frames(rt_link *l, const uint8_t *in, size_t len,
                            char *why, size_t why_len)
{
    edist_peer *p = l->peer;
    edist_node *n = l->node;
    int rc = len ? edist_dist_rx_feed(l->rx, in, len) : 0;
    atomic_store_explicit(&p->rx_seen, 1, memory_order_relaxed);
    edist_dist_msg m;
    mbox_batch_begin(n);
    int over = 0;
    while (rc >= 0 && !over && !atomic_load(&l->rx_closed) &&
           (rc = edist_dist_rx_next(l->rx, &m)) > 0) {
        if (m.type == EDIST_DIST_MESSAGE) {
            int r = route_message(n, p, &m);
            if (r < 0) {
                mbox_batch_end(n);
                snprintf(why, why_len, "bad control message from the peer");
                return r;
            }
            /* A mailbox passed its cap: stop reading until it drains
             * (backpressure instead of unbounded memory). */
            over = r == 1;
        }
    }
    if (mbox_batch_end(n))
        over = 1;
    if (over && !l->paused) {
        l->paused = 1;
        rx_disarm(l);
    }
    if (rc < 0) {
        snprintf(why, why_len, "bad distribution frame: %s",
                 edist_dist_rx_reason(l->rx));
        return rc;
    }
    return 0;
}

int link_rx_read(rt_link *l, size_t *got, char *why, size_t why_len)
{
    *got = 0;
    l->rx_more = 0;
    /* Bounded, so one busy peer cannot starve the others; rx_more tells
     * the caller that data may be left. */
    for (int i = 0; i < 16; i++) {
        if (atomic_load(&l->rx_closed) || l->paused)
            return 0;
        /* Straight into the decoder's buffer: one copy fewer than reading
         * into a buffer of our own and feeding it, and a large frame is
         * read to its end exactly, so nothing moves after it is decoded
         * (edist_dist_rx_space). */
        size_t cap;
        uint8_t *dst = edist_dist_rx_space(l->rx, NODE_READ_CHUNK, &cap);
        if (!dst) {
            snprintf(why, why_len, "%s", edist_dist_rx_reason(l->rx));
            int e = edist_dist_rx_commit(l->rx, 0); /* the sticky code */
            return e < 0 ? e : EDIST_ENOMEM;
        }
        ssize_t r = read(l->fd, dst, cap);
        if (r > 0) {
            *got += (size_t)r;
            edist_dist_rx_commit(l->rx, (size_t)r);
            int rc = link_read_frames(l, NULL, 0, why, why_len);
            if (rc < 0 || (size_t)r < cap)
                return rc;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        snprintf(why, why_len, "connection closed by the peer");
        return EDIST_ECLOSED;
    }
    l->rx_more = 1;
    return 0;
}

static void link_on_readable(rt_link *l)
{
    edist_node *n = l->node;
    /* Bounded, so one busy peer cannot starve the others. */
    for (int i = 0; i < 16 && !l->closing; i++) {
        ssize_t r = read(l->fd, n->rbuf, sizeof n->rbuf);
        if (r > 0) {
            /* Once up, the link is read through rx.c. */
            if (l->state != LINK_HANDSHAKE)
                return;
            edist_hs_feed(l->hs, n->rbuf, (size_t)r, node_now_ms());
            link_hs_events(l);
            if ((size_t)r < sizeof n->rbuf)
                return;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        /* EOF or a socket error. */
        if (l->state == LINK_HANDSHAKE) {
            edist_hs_closed(l->hs, node_now_ms());
            link_hs_events(l);
        } else {
            link_close(l, EDIST_ECLOSED, "connection closed by the peer");
        }
        return;
    }
}

static void link_on_connected(rt_link *l)
{
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) {
        char why[512];
        snprintf(
            why, sizeof why,
            "connect to %.200s failed: %s (the node is registered with EPMD "
            "but does not accept)",
            l->host, strerror(err));
        link_fail(l, EDIST_ECONNREFUSED, why);
        return;
    }
    if (link_start_hs(l) < 0)
        link_fail(l, EDIST_ESYS, "handshake setup failed");
}

static void link_on_poll(uv_poll_t *h, int status, int events)
{
    rt_link *l = h->data;
    if (l->closing)
        return;
    if (l->state == LINK_CONNECTING) {
        link_on_connected(l);
        return;
    }
    if (status < 0)
        events |= UV_READABLE; /* read() reports the error */
    if ((events & UV_WRITABLE) && l->state == LINK_HANDSHAKE) {
        if (link_hs_write(l) < 0) {
            edist_hs_closed(l->hs, node_now_ms());
            link_hs_events(l);
            return;
        }
        link_update_poll(l);
    }
    if ((events & UV_WRITABLE) && l->state == LINK_UP && l->peer)
        peer_flush(l->peer);
    if ((events & UV_READABLE) && !l->closing)
        link_on_readable(l);
}

static void link_on_timer(uv_timer_t *t)
{
    rt_link *l = t->data;
    if (l->closing)
        return;
    if (l->state == LINK_HANDSHAKE) {
        edist_hs_feed(l->hs, NULL, 0, node_now_ms());
        link_hs_events(l);
    } else if (l->state == LINK_CONNECTING) {
        char why[512];
        snprintf(why, sizeof why, "connect to %.200s timed out", l->host);
        link_fail(l, EDIST_ETIMEDOUT, why);
    } else if (l->state == LINK_NOK_WAIT) {
        link_close(l, EDIST_ENOK,
                   "the peer answered nok (simultaneous connect) but its "
                   "own connection to us did not arrive in time");
    }
}

void node_resume_links(uv_async_t *h)
{
    edist_node *n = h->data;
    rt_link *next;
    for (rt_link *l = n->links; l; l = next) {
        next = l->next;
        if (l->closing)
            continue;
        char why[512];
        /* paused is tested under rx_mu: a leader that routed into the full
         * mailbox may set it just after the mailbox drained. */
        pthread_mutex_lock(&l->rx_mu);
        if (!l->paused) {
            pthread_mutex_unlock(&l->rx_mu);
            continue;
        }
        l->paused = 0;
        /* Frames that arrived before the pause come first. */
        int rc = link_read_frames(l, NULL, 0, why, sizeof why);
        if (rc >= 0 && !l->paused)
            rx_arm(l);
        pthread_mutex_unlock(&l->rx_mu);
        if (rc < 0)
            link_close(l, rc, why);
    }
}
