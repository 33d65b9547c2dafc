/*
 * node.c: starting and stopping a node: name, cookie, listen socket, EPMD
 * registration (starting an EPMD when none answers, as erl does), and the
 * I/O thread's long-lived handles (listener, tick timer, flush wake-up).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"
#include "edist/err.h"
#include "rt/node_int.h"

#define NODE_DEFAULT_QUEUE           ((size_t)64 << 20)
#define NODE_DEFAULT_SEND_TIMEOUT_MS 10000
#define NODE_EPMD_START_WAIT_MS      3000

static void node_why(char *why, size_t len, const char *fmt, ...)
{
    if (!why || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
}

/* "name@host" stays as given; a bare "name" becomes a short name on this
 * host (the host name up to its first dot), as erl -sname does. */
static int node_set_name(edist_node *n, const char *name, char *why,
                         size_t why_len)
{
    if (!name || !*name) {
        node_why(why, why_len, "a node name is required");
        return EDIST_EINVAL;
    }
    const char *at = strchr(name, '@');
    int len;
    if (at) {
        len = snprintf(n->name, sizeof n->name, "%s", name);
    } else {
        char host[256];
        if (gethostname(host, sizeof host) != 0)
            return EDIST_ESYS;
        host[sizeof host - 1] = '\0';
        char *dot = strchr(host, '.');
        if (dot)
            *dot = '\0';
        len = snprintf(n->name, sizeof n->name, "%s@%s", name, host);
    }
    if (len < 0 || (size_t)len >= sizeof n->name ||
        edist_node_name_check(n->name, (size_t)len) != 0) {
        node_why(why, why_len, "bad node name '%s': expected name@host", name);
        return EDIST_EBADNAME;
    }
    n->name_len = (size_t)len;
    snprintf(n->host, sizeof n->host, "%s", strchr(n->name, '@') + 1);
    return 0;
}

static int node_listen(edist_node *n, unsigned port, char *why, size_t why_len)
{
    int fam = n->ipv6 ? AF_INET6 : AF_INET;
    int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        node_why(why, why_len, "socket: %s", strerror(errno));
        return EDIST_ESYS;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    if (fam == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_any;
        s6->sin6_port = htons((uint16_t)port);
        sl = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_addr.s_addr = htonl(INADDR_ANY);
        s4->sin_port = htons((uint16_t)port);
        sl = sizeof *s4;
    }
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
        listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        close(fd);
        node_why(why, why_len, "cannot listen on port %u: %s", port,
                 strerror(e));
        return e == EADDRINUSE ? EDIST_EADDRINUSE : EDIST_ESYS;
    }
    sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    n->port = fam == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                              : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    n->listen_fd = fd;
    return 0;
}

/* The program to start when no EPMD answers: the option, else edist-epmd
 * beside this executable, else edist-epmd from PATH. */
static void node_epmd_program(const char *opt, char *out, size_t len)
{
    if (opt) {
        snprintf(out, len, "%s", opt);
        return;
    }
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) {
        exe[k] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            const char *cands[] = {"%s/edist-epmd", "%s/../epmd/edist-epmd",
                                   "%s/../bin/edist-epmd"};
            for (size_t i = 0; i < sizeof cands / sizeof *cands; i++) {
                snprintf(out, len, cands[i], exe);
                if (access(out, X_OK) == 0)
                    return;
            }
        }
    }
    snprintf(out, len, "edist-epmd");
}

/* Starts "PROG -daemon -port P" and reaps the short-lived parent, as erl
 * starts epmd.  The daemon detaches itself. */
static int node_start_epmd(const char *prog, unsigned port)
{
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%u", port);
    pid_t pid = fork();
    if (pid < 0)
        return EDIST_ESYS;
    if (pid == 0) {
        /* The daemon outlives us: it must not inherit a signal mask that
         * blocks SIGTERM (a program such as `edist node` blocks it to take
         * signals through a signalfd), or nothing could stop it. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execlp(prog, prog, "-daemon", "-port", portstr, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : EDIST_ENOEPMD;
}

static int node_register(edist_node *n, const edist_node_opts *o, char *why,
                         size_t why_len)
{
    edist_epmd_opts eo = {0};
    eo.port = (uint16_t)n->epmd_port;
    eo.timeout_ms = 10000;
    size_t alive_len = (size_t)(strchr(n->name, '@') - n->name);
    edist_epmd_node_info info = {0};
    info.port = (uint16_t)n->port;
    /* BEAM registers 77 even when hidden; we tell the truth, which only
     * EPMD's dump shows. */
    info.node_type = n->hidden ? 72 : 77;
    info.protocol = 0;
    info.high_vsn = 6;
    info.low_vsn = 6;
    info.name = (const uint8_t *)n->name;
    info.name_len = alive_len;
    int rc = edist_epmd_register(&eo, &info, &n->reg, &n->creation);
    if ((rc == EDIST_ECONNREFUSED || rc == EDIST_ENOEPMD) &&
        !o->no_epmd_start) {
        char prog[PATH_MAX];
        node_epmd_program(o->epmd_program, prog, sizeof prog);
        if (node_start_epmd(prog, n->epmd_port) == 0) {
            uint64_t until = node_now_ms() + NODE_EPMD_START_WAIT_MS;
            do {
                struct timespec ts = {0, 20 * 1000000L};
                nanosleep(&ts, NULL);
                rc = edist_epmd_register(&eo, &info, &n->reg, &n->creation);
            } while ((rc == EDIST_ECONNREFUSED || rc == EDIST_ENOEPMD) &&
                     node_now_ms() < until);
        }
    }
    switch (rc) {
    case 0:
        return 0;
    case EDIST_ENAMEINUSE:
        node_why(why, why_len,
                 "the name '%.*s' is already registered with EPMD on port "
                 "%u",
                 (int)alive_len, n->name, n->epmd_port);
        return rc;
    case EDIST_ECONNREFUSED:
    case EDIST_ENOEPMD:
        node_why(why, why_len, "no EPMD answers on port %u%s", n->epmd_port,
                 o->no_epmd_start ? "" : " and none could be started");
        return EDIST_ENOEPMD;
    default:
        node_why(why, why_len, "EPMD registration failed: %s",
                 edist_strerror(rc));
        return rc;
    }
}

static void node_on_listen(uv_poll_t *h, int status, int events)
{
    edist_node *n = h->data;
    if (status < 0 || !(events & UV_READABLE))
        return;
    /* Drain the backlog: a burst of connects costs one wake-up. */
    for (int i = 0; i < 64; i++) {
        int fd =
            accept4(n->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        link_accept(n, fd);
    }
}

static void node_on_stop(void *ctx)
{
    edist_node *n = ctx;
    n->stopping = 1;
    /* Flushes scheduled but not yet run hold peer references. */
    node_flush_dirty(&n->flush_async);
    /* Close every link; their close callbacks free them. */
    edist_peer **list;
    size_t k = peer_snapshot(n, &list);
    for (size_t i = 0; i < k; i++) {
        /* What was sent before the stop leaves first (best effort: a
         * socket that is full now is not waited for). */
        peer_flush(list[i]);
        peer_down(list[i], EDIST_ESHUTDOWN, "node stopping");
        peer_unref(list[i]);
    }
    free(list);
    /* Links still in their handshake belong to no peer yet. */
    while (n->links)
        link_close(n->links, EDIST_ESHUTDOWN, "node stopping");
    uv_poll_stop(&n->listen_poll);
    uv_close((uv_handle_t *)&n->listen_poll, NULL);
    uv_timer_stop(&n->tick_timer);
    uv_close((uv_handle_t *)&n->tick_timer, NULL);
    uv_close((uv_handle_t *)&n->flush_async, NULL);
    uv_close((uv_handle_t *)&n->resume_async, NULL);
    rx_loop_close(n);
}

static int node_loop_setup(edist_node *n)
{
    if (uv_poll_init(&n->loop.uv, &n->listen_poll, n->listen_fd) != 0)
        return EDIST_ESYS;
    n->listen_poll.data = n;
    uv_poll_start(&n->listen_poll, UV_READABLE, node_on_listen);
    uv_timer_init(&n->loop.uv, &n->tick_timer);
    n->tick_timer.data = n;
    /* One timer for every connection: all share the node's ticktime, so
     * one pass per interval serves them all. */
    uint64_t interval = n->ticktime_ms / n->tick_intensity;
    if (interval < 250)
        interval = 250;
    uv_timer_start(&n->tick_timer, node_tick, interval, interval);
    uv_async_init(&n->loop.uv, &n->flush_async, node_flush_dirty);
    n->flush_async.data = n;
    uv_async_init(&n->loop.uv, &n->resume_async, node_resume_links);
    n->resume_async.data = n;
    return rx_loop_setup(n);
}

static void node_free(edist_node *n)
{
    if (n->reg)
        edist_epmd_unregister(n->reg);
    if (n->listen_fd >= 0)
        close(n->listen_fd);
    edist_mbox_close(n->io_proxy); /* a start that failed after opening it */
    sig_destroy(n);
    nodemon_destroy(n);
    rpc_server_stop(n);
    mesh_destroy(n);
    rx_destroy(n);
    edist_procs_destroy(&n->procs);
    edist_hmap_free(&n->peers);
    edist_hmap_free(&n->monitors);
    pthread_mutex_destroy(&n->peers_mu);
    pthread_mutex_destroy(&n->dirty_mu);
    pthread_mutex_destroy(&n->mon_mu);
    pthread_mutex_destroy(&n->rpc_pool_mu);
    edist_cookie_wipe(&n->cookie);
    msgpool_close(n->msgpool);
    edist_mem_free(n->alloc, n);
}

int edist_node_start(const edist_node_opts *o, edist_node **out, char *why,
                     size_t why_len)
{
    if (!o || !out)
        return EDIST_EINVAL;
    const edist_allocator *al = edist_mem_resolve(o->alloc);
    edist_node *n = edist_mem_alloc(al, sizeof *n);
    if (!n)
        return EDIST_ENOMEM;
    memset(n, 0, offsetof(edist_node, rbuf));
    n->alloc = al;
    int rxrc = rx_init(n);
    n->listen_fd = -1;
    pthread_mutex_init(&n->peers_mu, NULL);
    pthread_mutex_init(&n->dirty_mu, NULL);
    pthread_mutex_init(&n->mon_mu, NULL);
    pthread_mutex_init(&n->rpc_pool_mu, NULL);
    edist_hmap_init(&n->peers, al);
    edist_hmap_init(&n->monitors, al);
    sig_init(n);
    nodemon_init(n);
    int rc = edist_procs_init(&n->procs, 0, al);
    if (rc == 0)
        rc = rpc_server_init(n);
    if (rc == 0 && !(n->msgpool = msgpool_new(al)))
        rc = EDIST_ENOMEM;
    if (rc == 0)
        rc = rxrc;
    if (rc < 0) {
        rx_destroy(n);
        sig_destroy(n);
        nodemon_destroy(n);
        rpc_server_stop(n);
        msgpool_close(n->msgpool);
        edist_mem_free(al, n);
        return rc;
    }
    n->hidden = o->hidden != 0;
    n->ipv6 = o->ipv6;
    n->ticktime_ms = (o->ticktime ? o->ticktime : 60) * 1000u;
    n->tick_intensity = o->tick_intensity ? o->tick_intensity : 4;
    if (n->tick_intensity < 4)
        n->tick_intensity = 4;
    n->max_out_queue = o->max_out_queue ? o->max_out_queue : NODE_DEFAULT_QUEUE;
    n->max_mailbox = o->max_mailbox ? o->max_mailbox : NODE_DEFAULT_QUEUE;
    n->send_timeout_ms =
        o->send_timeout_ms ? o->send_timeout_ms : NODE_DEFAULT_SEND_TIMEOUT_MS;
    edist_epmd_opts eo = {0};
    eo.port = (uint16_t)o->epmd_port;
    n->epmd_port = edist_epmd_port(&eo);
    /* SPAWN: rpc:call/erpc into us (rpc_server.c); EXIT_PAYLOAD: we read
     * the PAYLOAD_* exit forms (signals.c); ALIAS: ALIAS_SEND to the
     * aliases edist_call uses as reply tags (route.c).  PUBLISHED is
     * added per connection unless the node is hidden. */
    n->flags = EDIST_DFLAGS_DEFAULT | EDIST_DFLAG_SPAWN |
               EDIST_DFLAG_EXIT_PAYLOAD | EDIST_DFLAG_ALIAS;

    if ((rc = node_set_name(n, o->name, why, why_len)) < 0)
        goto fail;
    /* References mix a counter with random words, so that two runs of a
     * node with the same creation still make different references. */
    uint64_t seed = 0;
    if (edist_random_bytes(&seed, sizeof seed) != 0 ||
        edist_random_bytes(n->ref_salt, sizeof n->ref_salt) != 0) {
        rc = EDIST_ESYS;
        goto fail;
    }
    atomic_init(&n->next_ref, seed >> 16);
    edist_cookie_options co = {0};
    co.cookie = o->cookie;
    if ((rc = edist_cookie_resolve(&co, &n->cookie)) < 0) {
        node_why(why, why_len, "%s",
                 n->cookie.error[0] ? n->cookie.error : edist_strerror(rc));
        goto fail;
    }
    if ((rc = node_listen(n, o->listen_port, why, why_len)) < 0)
        goto fail;
    if ((rc = node_register(n, o, why, why_len)) < 0)
        goto fail;
    if ((rc = mesh_init(n, o->no_connect_all)) < 0)
        goto fail;
    if ((rc = edist_mbox_open(n, &n->io_proxy)) < 0)
        goto fail;
    n->io_proxy_id = n->io_proxy->proc.id;
    n->io_proxy_serial = n->io_proxy->proc.serial;
    if ((rc = edist_loop_init(&n->loop, n, node_on_stop)) < 0)
        goto fail;
    if ((rc = node_loop_setup(n)) < 0 ||
        (rc = edist_loop_start(&n->loop)) < 0) {
        edist_loop_stop(&n->loop);
        goto fail;
    }
    /* Who node_on_io() names when no leader reads (rx.c). */
    atomic_store(&n->rx.owner, n->loop.thread);
    *out = n;
    return 0;
fail:
    node_free(n);
    return rc;
}

void edist_node_stop(edist_node *n)
{
    if (!n)
        return;
    /* Graceful: rpc callbacks end first, then every remote partner of a
     * mailbox still open learns it ended (`shutdown`) before the
     * connections close (node_on_stop flushes what is queued). */
    call_pool_close(n);
    edist_mbox_close(n->io_proxy);
    n->io_proxy = NULL;
    rpc_server_stop(n);
    mesh_stop(n);
    sig_node_stop(n);
    rx_stop(n); /* user threads stop reading the sockets */
    edist_loop_stop(&n->loop);
    node_free(n);
}

const char *edist_node_name(const edist_node *n)
{
    return n->name;
}

uint32_t edist_node_creation(const edist_node *n)
{
    return n->creation;
}

unsigned edist_node_port(const edist_node *n)
{
    return n->port;
}

edist_atom edist_node_atom(const edist_node *n)
{
    edist_atom a = {n->name, n->name_len};
    return a;
}

int node_is_local(const edist_node *n, edist_atom node)
{
    return node.len == n->name_len && memcmp(node.name, n->name, node.len) == 0;
}

edist_term node_io_proxy_pid(const edist_node *n)
{
    return edist_mk_pid(edist_node_atom(n), n->io_proxy_id, n->io_proxy_serial,
                        n->creation);
}

edist_term edist_make_ref(edist_node *n)
{
    uint64_t c = atomic_fetch_add(&n->next_ref, 1);
    /* Like BEAM's, the first word holds 18 bits. */
    uint32_t ids[3] = {(uint32_t)c & 0x3ffff,
                       (uint32_t)(c >> 18) ^ n->ref_salt[0],
                       (uint32_t)(c >> 50) ^ n->ref_salt[1]};
    return edist_mk_ref(edist_node_atom(n), n->creation, ids, 3);
}
