/*
 * hs_probe.c: drives the sans-IO handshake, framing and ticker over
 * blocking sockets against a real Erlang node, for test_handshake.sh.
 *
 *   hs_probe [options] connect PEER     dial PEER (EPMD lookup), handshake
 *   hs_probe [options] listen           register with EPMD, accept one
 * Options:
 *   --name N@H --cookie C --epmd-port P   identity (long names)
 *   --visible                             advertise PUBLISHED
 *   --hold S                              stay connected S seconds
 *   --ticktime MS                         net_ticktime of the ticker
 *   --silent-after S                      stop writing after S seconds
 *   --capture FILE                        every byte sent and received
 *   --corpus DIR                          save received bytes as fuzz seeds
 *   --flags-add HEX                       advertise these flags as well
 *   --flags HEX                           advertise exactly these flags
 *   --require HEX                         require these flags of the peer
 *   --name-me                             (connect) ask the peer for a
 *                                         dynamic name; --name gives the
 *                                         host only
 *   --link-from NODE                      once connected, send LINK from
 *                                         <NODE.1.0> to <PEER.30000.0> (a
 *                                         sender on NODE, which may be
 *                                         another node than this one)
 * Output (stdout, one line each): HANDSHAKE_OK ..., HANDSHAKE_FAILED
 * code=E... reason=..., then TICKS rx=N tx=M msgs=K and one of HELD,
 * PEER_CLOSED silent_ms=N, PEER_TIMEOUT.  Exit 0 on HANDSHAKE_OK.
 *
 * The EPMD requests below (ALIVE2_REQ, PORT_PLEASE2_REQ) are a deliberately
 * minimal copy for this probe only; the library's real EPMD client is a
 * separate module.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/wire.h"
#include "edist/cookie.h"
#include "edist/edist.h"
#include "edist/proto.h"

static const char *opt_name = "probe@127.0.0.1", *opt_cookie = "cookie";
static int opt_epmd = 4369, opt_visible, opt_hold = 0, opt_silent = -1;
static int opt_name_me;
static const char *opt_link_from;
static uint32_t opt_ticktime = 60000;
static uint64_t opt_flags_add, opt_flags, opt_require;
static FILE *capture;
static const char *corpus_dir;
static uint8_t hs_rx[65536];
static size_t hs_rx_len;
static uint8_t dist_rx_bytes[65536];
static size_t dist_rx_len;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void cap(const char *dir, const uint8_t *p, size_t n)
{
    if (!capture)
        return;
    fprintf(capture, "%s %zu\n", dir, n);
    fwrite(p, 1, n, capture);
    fputc('\n', capture);
    fflush(capture);
}

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        cap("TX", p, (size_t)w);
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_exact(int fd, uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* ALIVE2_REQ; the returned socket must stay open while registered. */
static int epmd_register(const char *alive, int port, uint32_t *creation)
{
    int fd = tcp_connect(opt_epmd);
    if (fd < 0)
        return -1;
    size_t nl = strlen(alive);
    uint8_t b[300];
    edist_put16(b, (uint16_t)(13 + nl));
    b[2] = 'x';
    edist_put16(b + 3, (uint16_t)port);
    b[5] = 77; /* BEAM registers 77 even when hidden */
    b[6] = 0;
    edist_put16(b + 7, 6);
    edist_put16(b + 9, 5);
    edist_put16(b + 11, (uint16_t)nl);
    memcpy(b + 13, alive, nl);
    edist_put16(b + 13 + nl, 0);
    uint8_t r[6];
    if (write(fd, b, 15 + nl) != (ssize_t)(15 + nl) || read_exact(fd, r, 6) ||
        r[0] != 'v' || r[1] != 0) {
        close(fd);
        return -1;
    }
    *creation = edist_get32(r + 2);
    return fd;
}

/* PORT_PLEASE2_REQ; returns the port or -1. */
static int epmd_lookup(const char *alive)
{
    int fd = tcp_connect(opt_epmd);
    if (fd < 0)
        return -1;
    size_t nl = strlen(alive);
    uint8_t b[300];
    edist_put16(b, (uint16_t)(1 + nl));
    b[2] = 'z';
    memcpy(b + 3, alive, nl);
    uint8_t r[4];
    int port = -1;
    if (write(fd, b, 3 + nl) == (ssize_t)(3 + nl) &&
        read_exact(fd, r, 2) == 0 && r[0] == 'w' && r[1] == 0 &&
        read_exact(fd, r, 2) == 0)
        port = edist_get16(r);
    close(fd);
    return port;
}

static void save_seed(const char *name, int mode, const uint8_t *p, size_t n)
{
    if (!corpus_dir || n == 0)
        return;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", corpus_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fputc(mode, f);
    fputc(0, f);
    fwrite(p, 1, n, f);
    fclose(f);
}

/* Runs the handshake; returns 0 with *done filled, or -1. */
static int handshake(int fd, edist_hs *hs, edist_hs_event *done)
{
    for (;;) {
        const uint8_t *out;
        size_t n = edist_hs_pending(hs, &out);
        if (n) {
            if (write_all(fd, out, n) < 0)
                edist_hs_closed(hs, now_ms());
            else
                edist_hs_consumed(hs, n);
        }
        edist_hs_event ev;
        int finished = 0;
        while (edist_hs_next_event(hs, &ev)) {
            if (ev.type == EDIST_HS_EV_NEED_STATUS && ev.name_me) {
                /* A dynamic-name request: name it like net_kernel does,
                 * a random base-36 name on the host it sent. */
                char dyn[300];
                uint32_t r[2];
                edist_random_bytes(r, sizeof r);
                snprintf(dyn, sizeof dyn, "DYN%08X@%s", r[0], ev.peer_name);
                edist_hs_set_named(hs, dyn, 4 + r[1] % 1000000, now_ms());
            } else if (ev.type == EDIST_HS_EV_NEED_STATUS)
                /* The probe has no other connections: always ok. */
                edist_hs_set_status(hs, EDIST_HS_STATUS_OK, now_ms());
            else if (ev.type == EDIST_HS_EV_NEED_ALIVE_REPLY) {
                /* We have no other connection: this is a new incarnation. */
                printf("ALIVE_ASKED\n");
                edist_hs_alive_reply(hs, 1, now_ms());
            } else if (ev.type == EDIST_HS_EV_REPLACE_OLD)
                edist_hs_old_gone(hs, now_ms());
            else {
                *done = ev;
                finished = 1;
            }
        }
        if (finished) {
            n = edist_hs_pending(hs, &out); /* e.g. not_allowed, 'a' */
            if (n && write_all(fd, out, n) == 0)
                edist_hs_consumed(hs, n);
            return 0;
        }
        if (edist_hs_pending(hs, &out))
            continue;
        uint64_t dl = edist_hs_next_deadline(hs), t = now_ms();
        struct pollfd pfd = {fd, POLLIN, 0};
        int rc = poll(&pfd, 1, dl > t ? (int)(dl - t) : 0);
        if (rc == 0) {
            edist_hs_feed(hs, NULL, 0, now_ms());
            continue;
        }
        uint8_t buf[4096];
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0) {
            edist_hs_closed(hs, now_ms());
            continue;
        }
        cap("RX", buf, (size_t)r);
        if (hs_rx_len + (size_t)r <= sizeof hs_rx) {
            memcpy(hs_rx + hs_rx_len, buf, (size_t)r);
            hs_rx_len += (size_t)r;
        }
        edist_hs_feed(hs, buf, (size_t)r, now_ms());
    }
}

/* The connected state: ticks both ways until --hold expires. */
static int connected(int fd, const edist_hs_event *ev)
{
    edist_dist_rx_options ro = {0};
    ro.flags = ev->flags;
    edist_dist_tx_options to = {0};
    to.flags = ev->flags;
    edist_dist_rx *rx;
    edist_dist_tx *tx;
    edist_ticker tk;
    uint64_t start = now_ms(), end = start + (uint64_t)opt_hold * 1000;
    uint64_t silent_at =
        opt_silent >= 0 ? start + (uint64_t)opt_silent * 1000 : UINT64_MAX;
    if (edist_dist_rx_new(&rx, &ro) || edist_dist_tx_new(&tx, &to))
        return 1;
    edist_ticker_init(&tk, opt_ticktime, 4, !ev->visible, start);
    unsigned long ticks_rx = 0, ticks_tx = 0, msgs = 0;
    uint64_t last_write = start;
    int result = 0;
    edist_dist_rx_feed(rx, ev->leftover, ev->leftover_len);
    if (ev->leftover_len)
        edist_ticker_note_read(&tk);
    if (opt_link_from) {
        /* {1, From, To} */
        uint8_t ctl[2048];
        edist_etf_writer w;
        edist_etf_writer_init_fixed(&w, ctl, sizeof ctl, 0);
        edist_etf_put_tuple_header(&w, 3);
        edist_etf_put_int(&w, 1);
        edist_etf_put_pid(
            &w, (edist_atom){opt_link_from, strlen(opt_link_from)}, 1, 0, 1);
        edist_etf_put_pid(&w, (edist_atom){ev->peer_name, ev->peer_name_len},
                          30000, 0, ev->peer_creation);
        if (w.err || edist_dist_tx_message(tx, ctl, w.len, NULL, 0, 0) < 0)
            return 1;
        printf("LINK_SENT\n");
    }
    for (;;) {
        edist_dist_msg m;
        int rc;
        while ((rc = edist_dist_rx_next(rx, &m)) == 1) {
            if (m.type == EDIST_DIST_TICK)
                ticks_rx++;
            else if (msgs++ < 8) {
                printf("MSG len=%zu versioned=%d frag=%d atoms=", m.len,
                       m.versioned, m.fragmented);
                for (size_t k = 0; k < m.natoms; k++)
                    printf("%s%.*s", k ? "," : "", (int)m.atoms[k].len,
                           m.atoms[k].utf8);
                printf("\n");
            }
        }
        if (rc < 0) {
            printf("RX_ERROR %s: %s\n", edist_errname(rc),
                   edist_dist_rx_reason(rx));
            result = 1;
            break;
        }
        uint64_t t = now_ms();
        if (t >= end) {
            printf("HELD\n");
            break;
        }
        const uint8_t *out;
        int silent = t >= silent_at;
        int act =
            edist_ticker_poll(&tk, t, edist_dist_tx_pending(tx, &out) == 0);
        if (act == EDIST_ETIMEDOUT) {
            printf("PEER_TIMEOUT after %llu ms\n",
                   (unsigned long long)(t - start));
            result = 2;
            break;
        }
        if (act == EDIST_TICK_SEND && !silent) {
            edist_dist_tx_tick(tx);
            ticks_tx++;
        }
        size_t n = edist_dist_tx_pending(tx, &out);
        if (n && !silent) {
            if (write_all(fd, out, n) < 0) {
                printf("PEER_CLOSED write\n");
                result = 3;
                break;
            }
            edist_dist_tx_consumed(tx, n);
            last_write = now_ms();
        }
        uint64_t wake = edist_ticker_next_deadline(&tk);
        if (wake > end)
            wake = end;
        if (silent_at > t && wake > silent_at)
            wake = silent_at;
        t = now_ms();
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, wake > t ? (int)(wake - t) : 0) <= 0)
            continue;
        uint8_t buf[65536];
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0) {
            uint64_t now = now_ms();
            printf("PEER_CLOSED silent_ms=%lld since_write_ms=%llu\n",
                   silent_at == UINT64_MAX ? -1LL
                                           : (long long)(now - silent_at),
                   (unsigned long long)(now - last_write));
            result = 3;
            break;
        }
        cap("RX", buf, (size_t)r);
        if (dist_rx_len + (size_t)r <= sizeof dist_rx_bytes) {
            memcpy(dist_rx_bytes + dist_rx_len, buf, (size_t)r);
            dist_rx_len += (size_t)r;
        }
        edist_ticker_note_read(&tk);
        if (edist_dist_rx_feed(rx, buf, (size_t)r) < 0)
            continue; /* reported by rx_next */
    }
    printf("TICKS rx=%lu tx=%lu msgs=%lu\n", ticks_rx, ticks_tx, msgs);
    save_seed(
        "erl_connected",
        (ev->flags & (EDIST_DFLAG_DIST_HDR_ATOM_CACHE | EDIST_DFLAG_FRAGMENTS))
            ? 1
            : 0,
        dist_rx_bytes, dist_rx_len);
    edist_dist_rx_free(rx);
    edist_dist_tx_free(tx);
    return result;
}

static int run(int fd, edist_hs_options *o, const char *seed)
{
    edist_hs *hs;
    int rc = edist_hs_new(&hs, o, now_ms());
    if (rc < 0) {
        printf("HANDSHAKE_FAILED code=%s reason=bad options\n",
               edist_errname(rc));
        return 1;
    }
    edist_hs_event ev;
    handshake(fd, hs, &ev);
    save_seed(seed, o->role == EDIST_HS_ACCEPTOR ? 1 : 0, hs_rx, hs_rx_len);
    if (ev.type != EDIST_HS_EV_COMPLETED) {
        char missing[256];
        edist_dflags_format(ev.missing_flags, missing, sizeof missing);
        printf("HANDSHAKE_FAILED code=%s reason=%s missing=[%s]\n",
               edist_errname(ev.error), ev.reason, missing);
        edist_hs_free(hs);
        return 1;
    }
    printf("HANDSHAKE_OK peer=%s creation=%u flags=0x%llx visible=%d "
           "leftover=%zu me=%s my_creation=%u\n",
           ev.peer_name, ev.peer_creation, (unsigned long long)ev.flags,
           ev.visible, ev.leftover_len, ev.this_name, ev.this_creation);
    fflush(stdout);
    rc = connected(fd, &ev);
    edist_hs_free(hs);
    return rc;
}

int main(int argc, char **argv)
{
    int i = 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(k, "--visible")) {
            opt_visible = 1;
            i--;
        } else if (!strcmp(k, "--name-me")) {
            opt_name_me = 1;
            i--;
        } else if (!strcmp(k, "--name"))
            opt_name = v;
        else if (!strcmp(k, "--cookie"))
            opt_cookie = v;
        else if (!strcmp(k, "--epmd-port"))
            opt_epmd = atoi(v);
        else if (!strcmp(k, "--hold"))
            opt_hold = atoi(v);
        else if (!strcmp(k, "--ticktime"))
            opt_ticktime = (uint32_t)atoi(v);
        else if (!strcmp(k, "--silent-after"))
            opt_silent = atoi(v);
        else if (!strcmp(k, "--capture"))
            capture = fopen(v, "wb");
        else if (!strcmp(k, "--corpus"))
            corpus_dir = v;
        else if (!strcmp(k, "--flags-add"))
            opt_flags_add = strtoull(v, NULL, 16);
        else if (!strcmp(k, "--flags"))
            opt_flags = strtoull(v, NULL, 16);
        else if (!strcmp(k, "--require"))
            opt_require = strtoull(v, NULL, 16);
        else if (!strcmp(k, "--link-from"))
            opt_link_from = v;
        else {
            fprintf(stderr, "unknown option %s\n", k);
            return 64;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "usage: hs_probe [options] connect PEER | listen\n");
        return 64;
    }
    edist_hs_options o = {0};
    o.this_node = opt_name;
    o.hidden = !opt_visible;
    o.flags = (opt_flags ? opt_flags : EDIST_DFLAGS_DEFAULT) | opt_flags_add;
    o.required_flags = opt_require;
    o.cookie = opt_cookie;
    o.cookie_len = strlen(opt_cookie);
    if (edist_random_challenge(&o.challenge) < 0)
        return 1;
    char alive[256];
    snprintf(alive, sizeof alive, "%s", opt_name);
    if (strchr(alive, '@'))
        *strchr(alive, '@') = '\0';
    o.name_me = opt_name_me;
    if (!strcmp(argv[i], "connect") && i + 1 < argc) {
        const char *peer = argv[i + 1];
        char palive[256];
        snprintf(palive, sizeof palive, "%s", peer);
        char *at = strchr(palive, '@');
        if (at)
            *at = '\0';
        int port = epmd_lookup(palive);
        if (port < 0) {
            printf("EPMD_LOOKUP_FAILED %s\n", palive);
            return 1;
        }
        int fd = tcp_connect(port);
        if (fd < 0) {
            printf("CONNECT_FAILED %d\n", port);
            return 1;
        }
        o.role = EDIST_HS_INITIATOR;
        o.peer_node = peer;
        o.this_creation = 0x1234567;
        return run(fd, &o, "erl_acceptor_bytes");
    }
    if (!strcmp(argv[i], "listen")) {
        int lfd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {0};
        socklen_t al = sizeof a;
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
            listen(lfd, 4) < 0 ||
            getsockname(lfd, (struct sockaddr *)&a, &al) < 0)
            return 1;
        uint32_t creation;
        int efd = epmd_register(alive, ntohs(a.sin_port), &creation);
        if (efd < 0) {
            printf("EPMD_REGISTER_FAILED\n");
            return 1;
        }
        printf("LISTENING port=%d creation=%u\n", ntohs(a.sin_port), creation);
        struct pollfd pfd = {lfd, POLLIN, 0};
        if (poll(&pfd, 1, 30000) <= 0) {
            printf("NO_CONNECTION\n");
            return 1;
        }
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            return 1;
        o.role = EDIST_HS_ACCEPTOR;
        o.this_creation = creation;
        int rc = run(fd, &o, "erl_initiator_bytes");
        close(efd);
        return rc;
    }
    fprintf(stderr, "usage: hs_probe [options] connect PEER | listen\n");
    return 64;
}
