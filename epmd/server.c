/*
 * server.c: edist-epmd's event loop.
 *
 * One libuv loop, one server struct (no global state), no FD_SETSIZE
 * ceiling.  Sockets are driven with uv_poll and plain recv/send rather than
 * uv_tcp streams, for two reasons: OTP's behaviour depends on exactly how
 * many bytes each read asks for ("got N bytes in packet, expected M"), and
 * most EPMD requests are one packet that has already arrived when we accept,
 * so we read it, answer and close in the accept callback, without ever
 * registering the socket with epoll.
 *
 * Per-connection packet assembly copies OTP's do_read: until the 2-byte
 * length is known a read asks for up to INBUF - 1 bytes, afterwards exactly
 * the missing ones; a length of 0 or >= INBUF - 2, or more bytes than
 * announced, closes silently; the request is handled when the packet is
 * complete.  After ALIVE2 (even a refused one, as in OTP) the connection is
 * kept; anything then readable on it (a byte, EOF, an error) unregisters
 * the node and closes.  Other connections idle for longer than the packet
 * timeout are closed (deadline: last activity + timeout + 1 s, which
 * matches OTP's whole-second test "mod_time + timeout < now").
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "core/buf.h"
#include "core/wire.h"
#include "edist/epmd.h"
#include "edist/err.h"
#include "epmd.h"
#include "registry.h"

typedef struct conn conn;
typedef struct server server;

struct conn {
    uv_poll_t poll; /* valid when has_poll */
    server *srv;
    conn *prev, *next;   /* all connections */
    conn *tprev, *tnext; /* timeout list, oldest activity first */
    uint64_t deadline;   /* loop time (ms) when it times out */
    int fd;
    uint8_t has_poll, keep, local, names_ok, in_tlist, closing;
    uint16_t got, want;
    uint8_t *buf;    /* EPMD_INBUF bytes while assembling */
    epmd_node *node; /* registration owned by this connection */
    uint8_t *out;    /* unsent reply bytes (large NAMES/DUMP) */
    size_t out_len, out_off;
};

struct server {
    uv_loop_t loop;
    epmd_config cfg;
    epmd_registry reg;
    uv_poll_t lpoll[EPMD_MAX_LISTEN];
    int lfd[EPMD_MAX_LISTEN];
    int nlisten;
    uv_timer_t timer;
    uv_signal_t sigterm, sigint;
    conn *conns;
    conn *thead, *ttail;
    size_t nremote;    /* open connections from non-local peers */
    int spare_fd;      /* reserve fd to shed connections on EMFILE */
    int listen_paused; /* out of descriptors and of the spare one */
    int exit_code;
    int stopping;
};

static void conn_on_io(uv_poll_t *p, int status, int events);
static void on_timer(uv_timer_t *t);

/* ---- timeout list ------------------------------------------------------ */

static void tlist_remove(server *s, conn *c)
{
    if (!c->in_tlist)
        return;
    if (c->tprev)
        c->tprev->tnext = c->tnext;
    else
        s->thead = c->tnext;
    if (c->tnext)
        c->tnext->tprev = c->tprev;
    else
        s->ttail = c->tprev;
    c->tprev = c->tnext = NULL;
    c->in_tlist = 0;
}

static void timer_arm(server *s)
{
    if (!s->thead || uv_is_active((uv_handle_t *)&s->timer))
        return;
    uint64_t now = uv_now(&s->loop);
    uint64_t d = s->thead->deadline;
    uv_timer_start(&s->timer, on_timer, d > now ? d - now : 0, 0);
}

/* Notes activity: the connection moves to the tail with a fresh deadline.
 * A non-local peer's deadline is not moved: it counts from its first
 * activity, so a peer that trickles a byte a minute (or reads its reply
 * that slowly) cannot hold a connection for longer than the timeout.  It
 * keeps its place, which keeps the list in deadline order. */
static void tlist_touch(server *s, conn *c)
{
    if (c->in_tlist && !c->local)
        return;
    tlist_remove(s, c);
    int64_t t = (int64_t)s->cfg.packet_timeout + 1;
    int64_t ms = t > 0 ? t * 1000 : 0;
    c->deadline = uv_now(&s->loop) + (uint64_t)ms;
    c->tprev = s->ttail;
    if (s->ttail)
        s->ttail->tnext = c;
    else
        s->thead = c;
    s->ttail = c;
    c->in_tlist = 1;
    timer_arm(s);
}

/* ---- connections ------------------------------------------------------- */

static void conn_free_cb(uv_handle_t *h)
{
    conn *c = (conn *)h;
    free(c);
}

static void on_listen(uv_poll_t *p, int status, int events);

/* Out of descriptors with none in reserve: the listening sockets stay
 * readable and the loop would spin on them; they are not watched until a
 * connection closes. */
static void listen_pause(server *s)
{
    for (int i = 0; i < s->nlisten; i++)
        uv_poll_stop(&s->lpoll[i]);
    s->listen_paused = 1;
}

static void listen_resume(server *s)
{
    s->listen_paused = 0;
    if (s->spare_fd < 0)
        s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    for (int i = 0; i < s->nlisten && !s->stopping; i++)
        uv_poll_start(&s->lpoll[i], UV_READABLE, on_listen);
}

static void conn_close(conn *c)
{
    server *s = c->srv;
    if (c->closing)
        return;
    c->closing = 1;
    if (c->node) {
        epmd_log(&s->cfg, 1, "unregistering '%.*s:%u', port %u",
                 (int)c->node->name_len, epmd_node_name(c->node),
                 epmd_node_creation(c->node), c->node->port);
        epmd_registry_unregister(&s->reg, c->node);
        c->node = NULL;
    }
    tlist_remove(s, c);
    if (!c->local)
        s->nremote--;
    if (s->listen_paused)
        listen_resume(s); /* a descriptor is free again */
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c->buf);
    free(c->out);
    c->buf = c->out = NULL;
    epmd_log(&s->cfg, 2, "closing connection on file descriptor %d", c->fd);
    if (c->has_poll) {
        /* uv_close first: it drops events still queued for this fd, so the
         * number can be reused by an accept in the same loop iteration. */
        uv_close((uv_handle_t *)&c->poll, conn_free_cb);
        close(c->fd);
    } else {
        close(c->fd);
        free(c);
    }
}

static int conn_watch(conn *c, int events)
{
    if (!c->has_poll) {
        if (uv_poll_init_socket(&c->srv->loop, &c->poll, c->fd) != 0)
            return -1;
        c->poll.data = c;
        c->has_poll = 1;
    }
    return uv_poll_start(&c->poll, events, conn_on_io) == 0 ? 0 : -1;
}

/*
 * Sends a reply.  Returns 0 when it is sent or queued, -1 when the socket
 * failed.  Small replies always leave at once; the rest of a large one is
 * queued and the connection closes when it drains (see conn_on_io).
 */
static int conn_send(conn *c, const uint8_t *p, size_t n)
{
    if (c->srv->cfg.delay_write > 0)
        sleep((unsigned)c->srv->cfg.delay_write); /* OTP's busy-server knob */
    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->out = malloc(n);
            if (!c->out)
                return -1;
            memcpy(c->out, p, n);
            c->out_len = n;
            c->out_off = 0;
            return 0;
        } else {
            return -1;
        }
    }
    return 0;
}

/* Closes now, or once the queued reply has drained. */
static void conn_finish(conn *c)
{
    if (c->out && c->out_off < c->out_len) {
        tlist_touch(c->srv, c);
        if (conn_watch(c, UV_WRITABLE) == 0)
            return;
    }
    conn_close(c);
}

/* ---- requests ---------------------------------------------------------- */

static void do_alive2(conn *c, const edist_epmd_request *req)
{
    server *s = c->srv;
    const edist_epmd_node_info *in = &req->alive;
    epmd_node *node = NULL;
    int rc = epmd_registry_register(&s->reg, in, c, c->fd, (uint64_t)time(NULL),
                                    &node);
    if (rc < 0) {
        epmd_log(&s->cfg, 0, "ALIVE2_REQ for '%.*s' refused: %s",
                 (int)(in->name_len > 64 ? 64 : in->name_len), in->name,
                 edist_strerror(rc));
    } else {
        epmd_log(&s->cfg, 1, "registering '%.*s:%u', port %u",
                 (int)node->name_len, epmd_node_name(node),
                 epmd_node_creation(node), node->port);
        epmd_log(&s->cfg, 1, "type %u proto %u highvsn %u lowvsn %u",
                 in->node_type, in->protocol, in->high_vsn, in->low_vsn);
    }
    uint8_t out[8];
    int n = edist_epmd_encode_alive2_resp(
        out, sizeof out, in->high_vsn >= 6, rc < 0 ? 1 : 0,
        rc < 0 ? EDIST_EPMD_CREATION_ERROR : epmd_node_creation(node));
    if (conn_send(c, out, (size_t)n) < 0 || c->out) {
        /* The node never learnt its creation: forget it again. */
        if (node)
            epmd_registry_unregister(&s->reg, node);
        conn_close(c);
        return;
    }
    /* OTP keeps the connection even when the registration failed. */
    c->node = node;
    c->keep = 1;
    tlist_remove(s, c);
    free(c->buf);
    c->buf = NULL;
    if (conn_watch(c, UV_READABLE | UV_DISCONNECT) < 0)
        conn_close(c);
}

static void do_port2(conn *c, const edist_epmd_request *req)
{
    epmd_node *node =
        epmd_registry_lookup(&c->srv->reg, req->name, req->name_len);
    uint8_t out[EDIST_EPMD_MAX_MSG];
    edist_epmd_node_info info;
    if (node)
        epmd_node_info(node, &info);
    int n = edist_epmd_encode_port2_resp(out, sizeof out, node ? &info : NULL);
    if (n > 0)
        conn_send(c, out, (size_t)n);
    conn_finish(c);
}

static void do_names(conn *c, int dump)
{
    server *s = c->srv;
    edist_buf b;
    edist_buf_init(&b, 0, NULL);
    uint8_t line[EDIST_EPMD_MAX_MSG];
    int n =
        edist_epmd_encode_port_header(line, sizeof line, (uint32_t)s->cfg.port);
    int rc = edist_buf_append(&b, line, (size_t)n);
    for (epmd_node *e = s->reg.reg_head; e && rc == 0; e = e->next) {
        n = dump ? edist_epmd_encode_dump_line(line, sizeof line, 1,
                                               epmd_node_name(e), e->name_len,
                                               e->port, e->fd)
                 : edist_epmd_encode_names_line(line, sizeof line,
                                                epmd_node_name(e), e->name_len,
                                                e->port);
        rc = n < 0 ? n : edist_buf_append(&b, line, (size_t)n);
    }
    for (epmd_node *e = dump ? s->reg.unreg_head : NULL; e && rc == 0;
         e = e->next) {
        n = edist_epmd_encode_dump_line(line, sizeof line, 0, epmd_node_name(e),
                                        e->name_len, e->port, e->fd);
        rc = n < 0 ? n : edist_buf_append(&b, line, (size_t)n);
    }
    if (rc == 0)
        conn_send(c, b.data, b.len);
    edist_buf_free(&b);
    conn_finish(c);
}

static void server_stop(server *s, int code);

static void do_kill(conn *c)
{
    server *s = c->srv;
    if (!s->cfg.relaxed && s->reg.live > 0) {
        epmd_log(&s->cfg, 0, "Disallowed KILL_REQ, live nodes");
        conn_send(c, (const uint8_t *)"NO", 2);
        conn_finish(c);
        return;
    }
    conn_send(c, (const uint8_t *)"OK", 2);
    epmd_log(&s->cfg, 1, "epmd killed");
    conn_close(c);
    epmd_log(&s->cfg, 0, "got KILL_REQ - terminates normal");
    server_stop(s, 0);
}

static void do_stop(conn *c, const edist_epmd_request *req)
{
    server *s = c->srv;
    if (!s->cfg.relaxed) {
        epmd_log(&s->cfg, 0, "Disallowed STOP_REQ, no relaxed_command_check");
        conn_close(c);
        return;
    }
    epmd_node *node = epmd_registry_lookup(&s->reg, req->name, req->name_len);
    if (!node) {
        conn_send(c, (const uint8_t *)"NOEXIST", 7);
    } else {
        conn *owner = node->owner;
        epmd_registry_unregister(&s->reg, node);
        if (owner) {
            owner->node = NULL;
            conn_close(owner);
        }
        epmd_log(&s->cfg, 1, "epmd connection stopped");
    }
    /* OTP sends STOPPED after NOEXIST too (clients read 7 bytes). */
    conn_send(c, (const uint8_t *)"STOPPED", 7);
    conn_finish(c);
}

/* A whole packet is in buf[0..len): answer it. */
static void handle_packet(conn *c, const uint8_t *buf, size_t len)
{
    server *s = c->srv;
    edist_epmd_request req;
    int rc = edist_epmd_parse_request(buf, len, &req);
    if (rc <= 0) {
        epmd_log(&s->cfg, 0, "bad request (type %u): %s", len > 2 ? buf[2] : 0,
                 edist_strerror(rc));
        conn_close(c);
        return;
    }
    int local_only =
        req.type == EDIST_EPMD_ALIVE2_REQ || req.type == EDIST_EPMD_DUMP_REQ ||
        req.type == EDIST_EPMD_KILL_REQ || req.type == EDIST_EPMD_STOP_REQ;
    if (local_only && !c->local) {
        epmd_log(&s->cfg, 0, "request %u from non local address", req.type);
        conn_close(c);
        return;
    }
    if (!local_only && !c->names_ok) {
        epmd_log(&s->cfg, 1, "request %u refused by -restrict_names", req.type);
        conn_close(c);
        return;
    }
    switch (req.type) {
    case EDIST_EPMD_ALIVE2_REQ:
        do_alive2(c, &req);
        break;
    case EDIST_EPMD_PORT2_REQ:
        do_port2(c, &req);
        break;
    case EDIST_EPMD_NAMES_REQ:
        do_names(c, 0);
        break;
    case EDIST_EPMD_DUMP_REQ:
        do_names(c, 1);
        break;
    case EDIST_EPMD_KILL_REQ:
        do_kill(c);
        break;
    default:
        do_stop(c, &req);
        break;
    }
}

/*
 * Reads what OTP's do_read would read.  Returns 1 when the connection is
 * still waiting for bytes, 0 when it was handed on (answered or closed).
 */
static int conn_read(conn *c)
{
    server *s = c->srv;
    uint8_t tmp[EPMD_INBUF];
    if (c->keep) {
        ssize_t r = recv(c->fd, tmp, sizeof tmp, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return 1;
        if (r > 0)
            epmd_log(&s->cfg, 1,
                     "got more than expected on ALIVE socket %d (%d)", c->fd,
                     (int)r);
        conn_close(c);
        return 0;
    }
    uint8_t *dst = c->buf ? c->buf : tmp;
    size_t pack = c->want ? c->want : EPMD_INBUF - 1;
    ssize_t r = recv(c->fd, dst + c->got, pack - c->got, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return 1;
    if (r <= 0) {
        if (r == 0)
            epmd_log(&s->cfg, 0,
                     "got partial packet only on file descriptor %d (%d)",
                     c->fd, c->got);
        conn_close(c);
        return 0;
    }
    c->got = (uint16_t)(c->got + r);
    if (c->want == 0 && c->got >= 2) {
        c->want = (uint16_t)(edist_get16(dst) + 2);
        if (c->want < 3 || c->want >= EPMD_INBUF) {
            epmd_log(&s->cfg, 0, "invalid packet size (%d)", c->want - 2);
            conn_close(c);
            return 0;
        }
        if (c->got > c->want) {
            epmd_log(&s->cfg, 0, "got %d bytes in packet, expected %d",
                     c->got - 2, c->want - 2);
            conn_close(c);
            return 0;
        }
    }
    if (c->want && c->got == c->want) {
        handle_packet(c, dst, c->got);
        return 0;
    }
    if (!c->buf) {
        c->buf = malloc(EPMD_INBUF);
        if (!c->buf) {
            conn_close(c);
            return 0;
        }
        memcpy(c->buf, tmp, c->got);
    }
    tlist_touch(s, c);
    return 1;
}

static void conn_on_io(uv_poll_t *p, int status, int events)
{
    conn *c = p->data;
    if (c->closing)
        return;
    if (c->out) {
        if (status < 0) {
            conn_close(c);
            return;
        }
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (w <= 0) {
            conn_close(c);
            return;
        }
        c->out_off += (size_t)w;
        if (c->out_off == c->out_len)
            conn_close(c);
        else
            tlist_touch(c->srv, c);
        return;
    }
    (void)events;
    if (status < 0 && !c->keep) {
        conn_close(c);
        return;
    }
    if (conn_read(c) && !c->has_poll)
        conn_watch(c, UV_READABLE);
}

/* ---- accepting ---------------------------------------------------------- */

static void accept_one(server *s, int fd, const struct sockaddr *peer)
{
    int local = epmd_peer_is_local(fd, peer);
    /* Non-local peers share a fixed number of connections: however many
     * they open, local nodes can still register and look each other up
     * while descriptors remain. */
    if (!local && s->nremote >= EPMD_MAX_REMOTE_CONNS) {
        epmd_log(&s->cfg, 1,
                 "non-local connection refused: %d already open (the cap)",
                 EPMD_MAX_REMOTE_CONNS);
        close(fd);
        return;
    }
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->srv = s;
    c->fd = fd;
    c->local = (uint8_t)local;
    if (!local)
        s->nremote++;
    c->names_ok = (uint8_t)(!s->cfg.restrict_names || c->local ||
                            epmd_peer_allowed(&s->cfg, peer));
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    epmd_log(&s->cfg, 2, "%s peer connected on file descriptor %d",
             c->local ? "Local" : "Non-local", fd);
    /* The request has usually arrived with the handshake: try it now. */
    if (conn_read(c)) {
        if (conn_watch(c, UV_READABLE) < 0)
            conn_close(c);
        else if (!c->in_tlist)
            tlist_touch(s, c);
    }
}

static void on_listen(uv_poll_t *p, int status, int events)
{
    server *s = p->loop->data;
    int lfd = (int)(intptr_t)p->data;
    (void)events;
    if (status < 0)
        return;
    if (s->cfg.delay_accept > 0)
        sleep((unsigned)s->cfg.delay_accept);
    for (int i = 0; i < 256 && !s->stopping; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                /* Out of descriptors: accept with the spare one and shed
                 * the connection, so the backlog does not spin the loop. */
                epmd_log(&s->cfg, 0, "out of file descriptors: %s",
                         strerror(errno));
                if (s->spare_fd >= 0) {
                    close(s->spare_fd);
                    int x = accept(lfd, NULL, NULL);
                    if (x >= 0)
                        close(x);
                    s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                }
                /* No spare left to shed with: stop watching until a
                 * connection closes, rather than spin (and log) on a
                 * listening socket that stays readable. */
                if (s->spare_fd < 0 && s->conns)
                    listen_pause(s);
            }
            return;
        }
        accept_one(s, fd, (struct sockaddr *)&ss);
    }
}

/* ---- lifecycle ---------------------------------------------------------- */

static void on_timer(uv_timer_t *t)
{
    server *s = t->data;
    uint64_t now = uv_now(&s->loop);
    while (s->thead && s->thead->deadline <= now) {
        epmd_log(&s->cfg, 1, "closing because timed out on receive");
        conn_close(s->thead);
    }
    timer_arm(s);
}

static void server_stop(server *s, int code)
{
    if (s->stopping)
        return;
    s->stopping = 1;
    s->exit_code = code;
    while (s->conns)
        conn_close(s->conns);
    for (int i = 0; i < s->nlisten; i++) {
        uv_close((uv_handle_t *)&s->lpoll[i], NULL);
        close(s->lfd[i]);
    }
    uv_close((uv_handle_t *)&s->timer, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sigint, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    server *s = h->data;
    epmd_log(&s->cfg, 1, "got signal %d, exiting", signum);
    server_stop(s, 0);
}

/* epmd has no FD_SETSIZE ceiling: take every descriptor we may. */
static void raise_nofile(const epmd_config *cfg)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            epmd_log(cfg, 1, "cannot raise RLIMIT_NOFILE: %s", strerror(errno));
    }
}

int epmd_server_run(const epmd_config *cfg)
{
    server *s = calloc(1, sizeof *s);
    if (!s)
        return 1;
    s->cfg = *cfg;
    s->spare_fd = -1;
    raise_nofile(cfg);
    s->nlisten = epmd_listen(cfg, s->lfd);
    if (s->nlisten <= 0) {
        int code = s->nlisten == 0 ? 0 : 1;
        free(s);
        return code;
    }
    uint8_t seed[16];
    if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
        uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
        memcpy(seed, &t, 8);
        memcpy(seed + 8, &s, sizeof s < 8 ? sizeof s : 8);
    }
    if (epmd_registry_init(&s->reg, cfg->debug ? 5 : 1000, seed) != 0 ||
        uv_loop_init(&s->loop) != 0) {
        for (int i = 0; i < s->nlisten; i++)
            close(s->lfd[i]);
        epmd_registry_free(&s->reg);
        free(s);
        return 1;
    }
    s->loop.data = s;
    for (int i = 0; i < s->nlisten; i++) {
        uv_poll_init_socket(&s->loop, &s->lpoll[i], s->lfd[i]);
        s->lpoll[i].data = (void *)(intptr_t)s->lfd[i];
        uv_poll_start(&s->lpoll[i], UV_READABLE, on_listen);
    }
    uv_timer_init(&s->loop, &s->timer);
    s->timer.data = s;
    uv_signal_init(&s->loop, &s->sigterm);
    uv_signal_init(&s->loop, &s->sigint);
    s->sigterm.data = s->sigint.data = s;
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (cfg->systemd)
        epmd_sd_notify("READY=1\nSTATUS=Processing port mapping requests...\n"
                       "MAINPID=%lu",
                       (unsigned long)getpid());
    epmd_log(cfg, 2, "entering the main loop");
    uv_run(&s->loop, UV_RUN_DEFAULT);
    int code = s->exit_code;
    if (cfg->systemd)
        epmd_sd_notify("STATUS=Exited.\nERRNO=%i", code);
    uv_loop_close(&s->loop);
    epmd_registry_free(&s->reg);
    if (s->spare_fd >= 0)
        close(s->spare_fd);
    free(s);
    return code;
}
