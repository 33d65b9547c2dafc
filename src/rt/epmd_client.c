/*
 * epmd_client.c: a blocking EPMD client with timeouts.
 *
 * Why blocking sockets with poll() rather than libuv: every EPMD exchange
 * is one request and one reply on a fresh connection, and BEAM itself does
 * it synchronously (erl_epmd waits at most 10 s).  A plain, thread-safe,
 * loop-free call serves the CLI, edist-epmd's interactive modes and
 * embedders without an event loop alike; the node runtime calls it from
 * its own thread and watches the registration's fd (edist_epmd_reg_fd) in
 * its loop to learn when EPMD goes away.  Sockets are non-blocking and
 * every wait is a poll() bounded by the caller's deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/wire.h"
#include "edist/epmd.h"
#include "edist/err.h"
#include "rt/resolve.h"

#define NAMES_CAP (64u << 20) /* a NAMES body larger than this is absurd */

struct edist_epmd_reg {
    int fd;
    const edist_allocator *alloc;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Deadline in ms on the monotonic clock, or -1 for "never". */
static int64_t deadline_of(const edist_epmd_opts *o)
{
    int t = o ? o->timeout_ms : 0;
    if (t < 0)
        return -1;
    return now_ms() + (t == 0 ? 10000 : t);
}

/* Waits until fd is ready for ev; 0 (with poll's revents in *rev when rev
 * is not NULL), EDIST_ETIMEDOUT or EDIST_EIO. */
static int wait_fd(int fd, short ev, int64_t deadline, short *rev)
{
    for (;;) {
        int ms = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0)
                return EDIST_ETIMEDOUT;
            ms = left > 0x7fffffff ? 0x7fffffff : (int)left;
        }
        struct pollfd p = {.fd = fd, .events = ev};
        int r = poll(&p, 1, ms);
        if (r > 0) {
            if (rev)
                *rev = p.revents;
            return 0;
        }
        if (r == 0)
            return EDIST_ETIMEDOUT;
        if (errno != EINTR)
            return EDIST_EIO;
    }
}

uint16_t edist_epmd_port(const edist_epmd_opts *o)
{
    if (o && o->port)
        return o->port;
    const char *env = getenv("ERL_EPMD_PORT");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == 0 && v > 0 && v <= 65535)
            return (uint16_t)v;
    }
    return EDIST_EPMD_PORT;
}

/* Connects to one address; 0, EDIST_ECONNREFUSED or EDIST_ETIMEDOUT. */
static int try_connect(const struct sockaddr *sa, socklen_t len,
                       int64_t deadline, int *out)
{
    int fd =
        socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return EDIST_ECONNREFUSED;
    /* Every system call shows in a lookup here (8-13 us each on the
     * project's VM, a lookup about 100 us): the connection's error is read
     * only when poll reports one, and TCP_NODELAY is not set, as each
     * connection writes one request (Nagle holds back only a write that
     * follows unacknowledged data). */
    int rc = 0;
    short rev = 0;
    if (connect(fd, sa, len) != 0) {
        if (errno != EINPROGRESS) {
            rc = EDIST_ECONNREFUSED;
        } else if ((rc = wait_fd(fd, POLLOUT, deadline, &rev)) == 0 &&
                   (rev & (POLLERR | POLLHUP | POLLNVAL))) {
            int err = 0;
            socklen_t el = sizeof err;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err ||
                !(rev & POLLOUT))
                rc = EDIST_ECONNREFUSED;
        }
    }
    if (rc < 0) {
        close(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

static int epmd_connect(const edist_epmd_opts *o, int64_t deadline, int *fd)
{
    uint16_t port = edist_epmd_port(o);
    const char *host = o ? o->host : NULL;
    if (!host) {
        /* OTP's epmd client: ::1 first, then 127.0.0.1. */
        struct sockaddr_in6 s6;
        memset(&s6, 0, sizeof s6);
        s6.sin6_family = AF_INET6;
        s6.sin6_addr = in6addr_loopback;
        s6.sin6_port = htons(port);
        int rc = try_connect((struct sockaddr *)&s6, sizeof s6, deadline, fd);
        if (rc == 0 || rc == EDIST_ETIMEDOUT)
            return rc;
        struct sockaddr_in s4;
        memset(&s4, 0, sizeof s4);
        s4.sin_family = AF_INET;
        s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        s4.sin_port = htons(port);
        return try_connect((struct sockaddr *)&s4, sizeof s4, deadline, fd);
    }
    struct sockaddr_storage lit;
    socklen_t litlen;
    if (rt_numeric_addr(host, port, &lit, &litlen))
        return try_connect((struct sockaddr *)&lit, litlen, deadline, fd);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", (unsigned)port);
    if (getaddrinfo(host, ps, &hints, &res) != 0 || !res)
        return EDIST_EINVAL;
    int rc = EDIST_ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        rc = try_connect(ai->ai_addr, ai->ai_addrlen, deadline, fd);
        if (rc == 0 || rc == EDIST_ETIMEDOUT)
            break;
    }
    freeaddrinfo(res);
    return rc;
}

/* Writes everything; EDIST_ESYS when the daemon does not take it. */
static int send_all(int fd, const uint8_t *p, size_t n, int64_t deadline)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            int rc = wait_fd(fd, POLLOUT, deadline, NULL);
            if (rc < 0)
                return rc == EDIST_ETIMEDOUT ? rc : EDIST_ESYS;
        } else {
            return EDIST_ESYS;
        }
    }
    return 0;
}

/* One recv, after waiting for data: a reply never precedes its request,
 * so a recv first would only find nothing.  *got == 0 means EOF. */
static int recv_some(int fd, uint8_t *p, size_t n, int64_t deadline,
                     size_t *got)
{
    for (;;) {
        int rc = wait_fd(fd, POLLIN, deadline, NULL);
        if (rc < 0)
            return rc;
        ssize_t r = recv(fd, p, n, 0);
        if (r >= 0) {
            *got = (size_t)r;
            return 0;
        }
        if (errno != EAGAIN && errno != EINTR)
            return EDIST_EIO;
    }
}

/* Reads up to n bytes, stopping early at EOF; *got says how many.
 * Returns 0, EDIST_EIO or EDIST_ETIMEDOUT. */
static int recv_fill(int fd, uint8_t *p, size_t n, int64_t deadline,
                     size_t *got)
{
    *got = 0;
    while (*got < n) {
        size_t k;
        int rc = recv_some(fd, p + *got, n - *got, deadline, &k);
        if (rc < 0 || k == 0)
            return rc;
        *got += k;
    }
    return 0;
}

/* Connects and sends one request; *fd is open on success. */
static int exchange_start(const edist_epmd_opts *o, const uint8_t *req,
                          size_t n, int64_t deadline, int *fd)
{
    int rc = epmd_connect(o, deadline, fd);
    if (rc < 0)
        return rc;
    rc = send_all(*fd, req, n, deadline);
    if (rc < 0)
        close(*fd);
    return rc;
}

int edist_epmd_names(const edist_epmd_opts *o, int dump, uint32_t *epmd_port,
                     uint8_t **body, size_t *body_len)
{
    int64_t deadline = deadline_of(o);
    uint8_t req[3];
    edist_epmd_encode_simple_req(
        req, sizeof req, dump ? EDIST_EPMD_DUMP_REQ : EDIST_EPMD_NAMES_REQ);
    int fd;
    int rc = exchange_start(o, req, sizeof req, deadline, &fd);
    if (rc < 0)
        return rc;
    uint8_t hdr[4];
    size_t got;
    rc = recv_fill(fd, hdr, 4, deadline, &got);
    if (rc == 0 && got < 4)
        rc = EDIST_ECLOSED;
    edist_buf b;
    edist_buf_init(&b, NAMES_CAP, o ? o->alloc : NULL);
    while (rc == 0) {
        if ((rc = edist_buf_reserve(&b, 4096)) < 0)
            break;
        ssize_t r = recv(fd, b.data + b.len, b.cap - b.len - 1, 0);
        if (r > 0) {
            b.len += (size_t)r;
        } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            rc = wait_fd(fd, POLLIN, deadline, NULL);
        } else {
            /* EOF ends the body; so does an error once the header is in,
             * as OTP's client treats it. */
            break;
        }
    }
    close(fd);
    if (rc == 0)
        rc = edist_buf_reserve(&b, 1);
    if (rc < 0) {
        edist_buf_free(&b);
        return rc;
    }
    b.data[b.len] = 0;
    *epmd_port = edist_get32(hdr);
    *body = b.data;
    *body_len = b.len;
    return 0;
}

void edist_epmd_free(const edist_epmd_opts *o, void *p)
{
    edist_mem_free(edist_mem_resolve(o ? o->alloc : NULL), p);
}

int edist_epmd_port_please(const edist_epmd_opts *o, const char *name,
                           edist_epmd_lookup *out)
{
    if (!name || !out)
        return EDIST_EINVAL;
    int64_t deadline = deadline_of(o);
    uint8_t req[EDIST_EPMD_MAX_NAME_BYTES + 3];
    int n = edist_epmd_encode_port2_req(req, sizeof req, (const uint8_t *)name,
                                        strlen(name));
    if (n < 0)
        return EDIST_EINVAL;
    int fd;
    int rc = exchange_start(o, req, (size_t)n, deadline, &fd);
    if (rc < 0)
        return rc;
    size_t have = 0;
    for (;;) {
        int p = edist_epmd_parse_port2_resp(out->raw, have, &out->info);
        if (p != 0) {
            rc = p < 0 ? p : 0;
            break;
        }
        size_t got;
        rc = recv_some(fd, out->raw + have, sizeof out->raw - have, deadline,
                       &got);
        if (rc == 0 && got == 0)
            rc = have == 0 ? EDIST_ECLOSED : EDIST_EBADMSG;
        if (rc < 0)
            break;
        have += got;
    }
    close(fd);
    if (rc == 0 && out->info.result != 0)
        rc = EDIST_ENONODE;
    return rc;
}

/* Sends a request and reads an n-byte answer (stopping at EOF). */
static int short_exchange(const edist_epmd_opts *o, const uint8_t *req,
                          size_t rn, uint8_t *ans, size_t n, size_t *got)
{
    int64_t deadline = deadline_of(o);
    int fd;
    int rc = exchange_start(o, req, rn, deadline, &fd);
    if (rc < 0)
        return rc;
    rc = recv_fill(fd, ans, n, deadline, got);
    close(fd);
    return rc;
}

int edist_epmd_kill(const edist_epmd_opts *o)
{
    uint8_t req[3], ans[2];
    size_t got;
    edist_epmd_encode_simple_req(req, sizeof req, EDIST_EPMD_KILL_REQ);
    int rc = short_exchange(o, req, sizeof req, ans, 2, &got);
    if (rc < 0)
        return rc;
    if (got < 2)
        return EDIST_ECLOSED;
    return ans[0] == 'O' && ans[1] == 'K' ? 0 : EDIST_ENOTALLOWED;
}

int edist_epmd_stop(const edist_epmd_opts *o, const char *name, char reply[8])
{
    if (!name)
        return EDIST_EINVAL;
    size_t nl = strlen(name);
    uint8_t req[EDIST_EPMD_MAX_NAME_BYTES + 3];
    int n;
    if (nl == 0) {
        /* OTP's client sends an empty STOP too; the daemon closes. */
        req[0] = 0, req[1] = 1, req[2] = EDIST_EPMD_STOP_REQ;
        n = 3;
    } else {
        n = edist_epmd_encode_stop_req(req, sizeof req, (const uint8_t *)name,
                                       nl);
        if (n < 0)
            return EDIST_EINVAL;
    }
    uint8_t ans[7];
    size_t got;
    int rc = short_exchange(o, req, (size_t)n, ans, 7, &got);
    if (rc < 0)
        return rc;
    if (reply) {
        memset(reply, 0, 8);
        memcpy(reply, ans, got);
    }
    if (got < 7)
        return EDIST_ECLOSED;
    if (memcmp(ans, "STOPPED", 7) == 0)
        return 0;
    return memcmp(ans, "NOEXIST", 7) == 0 ? EDIST_ENONODE : EDIST_EBADMSG;
}

int edist_epmd_register(const edist_epmd_opts *o,
                        const edist_epmd_node_info *node, edist_epmd_reg **reg,
                        uint32_t *creation)
{
    if (!node || !reg || !creation)
        return EDIST_EINVAL;
    uint8_t req[EDIST_EPMD_MAX_MSG];
    int n = edist_epmd_encode_alive2_req(req, sizeof req, node);
    if (n < 0)
        return EDIST_EINVAL;
    const edist_allocator *a = edist_mem_resolve(o ? o->alloc : NULL);
    edist_epmd_reg *r = edist_mem_alloc(a, sizeof *r);
    if (!r)
        return EDIST_ENOMEM;
    int64_t deadline = deadline_of(o);
    int fd;
    int rc = exchange_start(o, req, (size_t)n, deadline, &fd);
    if (rc < 0) {
        edist_mem_free(a, r);
        return rc;
    }
    uint8_t ans[6];
    size_t have = 0;
    uint8_t result = 1;
    for (;;) {
        int p = edist_epmd_parse_alive2_resp(ans, have, &result, creation);
        if (p != 0) {
            rc = p < 0 ? p : 0;
            break;
        }
        /* Never read past the reply: the socket stays open afterwards. */
        size_t want =
            have == 0 ? 1 : (ans[0] == EDIST_EPMD_ALIVE2_RESP ? 4 : 6);
        size_t got;
        rc = recv_fill(fd, ans + have, want - have, deadline, &got);
        if (rc == 0 && got < want - have)
            rc = EDIST_ECLOSED;
        if (rc < 0)
            break;
        have += got;
    }
    if (rc == 0 && result != 0)
        rc = EDIST_ENAMEINUSE;
    if (rc < 0) {
        close(fd);
        edist_mem_free(a, r);
        return rc;
    }
    r->fd = fd;
    r->alloc = a;
    *reg = r;
    return 0;
}

int edist_epmd_reg_fd(const edist_epmd_reg *reg)
{
    return reg ? reg->fd : -1;
}

void edist_epmd_unregister(edist_epmd_reg *reg)
{
    if (!reg)
        return;
    close(reg->fd);
    edist_mem_free(reg->alloc, reg);
}
