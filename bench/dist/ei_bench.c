/*
 * ei_bench: the libei (erl_interface) side of bench/dist, written the way
 * erl_interface's documentation shows: blocking sockets, one connection at
 * a time, ei_xreceive_msg / ei_send.
 *
 *   ei_bench server ALIVE COOKIE        (ERL_EPMD_PORT in the environment)
 *   ei_bench client PREFIX ALIVE COOKIE SERVER_NODE
 *                   SMALL BIN100 BIN64K RTT CONNS
 *
 * Same protocol as bench_beam.erl.  Nodes are ALIVE@127.0.0.1.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "ei.h"

static void ei_start(ei_cnode *ec, const char *alive, const char *cookie)
{
    char node[512];
    struct in_addr addr;
    inet_aton("127.0.0.1", &addr);
    snprintf(node, sizeof node, "%s@127.0.0.1", alive);
    ei_init();
    if (ei_connect_xinit(ec, "127.0.0.1", alive, node, &addr, cookie, 0) < 0) {
        fprintf(stderr, "ei_bench: ei_connect_xinit failed\n");
        exit(1);
    }
}

/* ---- server */

static void serve(ei_cnode *ec, int fd)
{
    ei_x_buff x, out;
    ei_x_new(&x);
    ei_x_new(&out);
    erlang_msg msg;
    erlang_pid peer;
    long long left = 0;
    int echo = 0;
    for (;;) {
        int r = ei_xreceive_msg(fd, &msg, &x);
        if (r == ERL_TICK)
            continue;
        if (r == ERL_ERROR)
            break;
        if (msg.msgtype != ERL_SEND && msg.msgtype != ERL_REG_SEND)
            continue;
        if (left > 0) {
            if (echo)
                ei_send(fd, &peer, x.buff, x.index);
            if (--left == 0 && !echo) {
                out.index = 0;
                ei_x_encode_version(&out);
                ei_x_encode_atom(&out, "done");
                ei_send(fd, &peer, out.buff, out.index);
            }
            continue;
        }
        int idx = 0, ver, arity;
        char tag[MAXATOMLEN_UTF8];
        long long n;
        if (ei_decode_version(x.buff, &idx, &ver) < 0 ||
            ei_decode_tuple_header(x.buff, &idx, &arity) < 0 || arity != 3 ||
            ei_decode_atom(x.buff, &idx, tag) < 0 ||
            ei_decode_pid(x.buff, &idx, &peer) < 0 ||
            ei_decode_longlong(x.buff, &idx, &n) < 0)
            continue;
        echo = !strcmp(tag, "echo");
        left = n;
        out.index = 0;
        ei_x_encode_version(&out);
        ei_x_encode_tuple_header(&out, 2);
        ei_x_encode_atom(&out, "ready");
        ei_x_encode_pid(&out, ei_self(ec));
        ei_send(fd, &peer, out.buff, out.index);
    }
    ei_x_free(&x);
    ei_x_free(&out);
    close(fd);
}

static int server(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    ei_cnode ec;
    ei_start(&ec, argv[2], argv[3]);
    struct in_addr addr;
    inet_aton("127.0.0.1", &addr);
    int port = 0;
    int lfd = ei_xlisten(&ec, &addr, &port, 16);
    if (lfd < 0 || ei_publish(&ec, port) < 0) {
        fprintf(stderr, "ei_bench: listen/publish failed\n");
        return 1;
    }
    printf("READY\n");
    fflush(stdout);
    for (;;) {
        ErlConnect conn;
        int fd = ei_accept(&ec, lfd, &conn);
        if (fd < 0)
            continue;
        serve(&ec, fd);
    }
    return 0;
}

/* ---- client */

typedef struct client {
    ei_cnode ec;
    int fd;
    char *server;
    const char *prefix;
    ei_x_buff x;
} client;

static int client_recv(client *c)
{
    erlang_msg msg;
    for (;;) {
        int r = ei_xreceive_msg_tmo(c->fd, &msg, &c->x, 120000);
        if (r == ERL_TICK)
            continue;
        if (r == ERL_ERROR) {
            fprintf(stderr, "ei_bench: receive failed\n");
            exit(1);
        }
        return 0;
    }
}

static erlang_pid client_ready(client *c, const char *tag, long long n)
{
    ei_x_buff h;
    ei_x_new_with_version(&h);
    ei_x_encode_tuple_header(&h, 3);
    ei_x_encode_atom(&h, tag);
    ei_x_encode_pid(&h, ei_self(&c->ec));
    ei_x_encode_longlong(&h, n);
    ei_reg_send(&c->ec, c->fd, "bench", h.buff, h.index);
    ei_x_free(&h);
    client_recv(c);
    int idx = 0, ver, arity;
    char atom[MAXATOMLEN_UTF8];
    erlang_pid p;
    if (ei_decode_version(c->x.buff, &idx, &ver) < 0 ||
        ei_decode_tuple_header(c->x.buff, &idx, &arity) < 0 ||
        ei_decode_atom(c->x.buff, &idx, atom) < 0 ||
        ei_decode_pid(c->x.buff, &idx, &p) < 0) {
        fprintf(stderr, "ei_bench: bad ready\n");
        exit(1);
    }
    return p;
}

/* Encodes the benchmark message into out, as a program would per send. */
static void client_encode(client *c, ei_x_buff *out, const char *kind)
{
    static char bin[65536];
    out->index = 0;
    ei_x_encode_version(out);
    size_t b = bu_kind_bin(kind);
    if (b) {
        ei_x_encode_binary(out, bin, (long)b);
    } else {
        ei_x_encode_tuple_header(out, 2);
        ei_x_encode_pid(out, ei_self(&c->ec));
        ei_x_encode_long(out, 42);
    }
}

static void client_thr(client *c, const char *kind, long long n)
{
    if (n <= 0)
        return;
    erlang_pid to = client_ready(c, "sink", n);
    ei_x_buff out;
    ei_x_new(&out);
    double t0 = bu_now_us();
    for (long long i = 0; i < n; i++) {
        client_encode(c, &out, kind);
        if (ei_send(c->fd, &to, out.buff, out.index) < 0) {
            fprintf(stderr, "ei_bench: send failed\n");
            exit(1);
        }
    }
    client_recv(c);
    double us = bu_now_us() - t0;
    size_t size = (size_t)out.index - 1;
    char key[64];
    snprintf(key, sizeof key, "%s.rate", kind);
    bu_result(c->prefix, key, (double)n * 1e6 / us);
    snprintf(key, sizeof key, "%s.mbs", kind);
    bu_result(c->prefix, key, (double)n * (double)size / us);
    ei_x_free(&out);
}

static void client_rtt(client *c, long long k)
{
    if (k <= 0)
        return;
    erlang_pid to = client_ready(c, "echo", k);
    ei_x_buff out;
    ei_x_new(&out);
    double *v = malloc((size_t)k * sizeof *v);
    for (long long i = 0; i < k; i++) {
        double t0 = bu_now_us();
        client_encode(c, &out, "small");
        ei_send(c->fd, &to, out.buff, out.index);
        client_recv(c);
        v[i] = bu_now_us() - t0;
    }
    bu_result(c->prefix, "rtt.p50", bu_pct(v, (size_t)k, 0.50));
    bu_result(c->prefix, "rtt.p99", bu_pct(v, (size_t)k, 0.99));
    free(v);
    ei_x_free(&out);
}

static void client_conn(client *c, long long k)
{
    if (k <= 0)
        return;
    close(c->fd);
    usleep(20000);
    double *v = malloc((size_t)k * sizeof *v);
    for (long long i = 0; i < k; i++) {
        double t0 = bu_now_us();
        int fd = ei_connect(&c->ec, c->server);
        v[i] = bu_now_us() - t0;
        if (fd < 0) {
            fprintf(stderr, "ei_bench: ei_connect failed\n");
            exit(1);
        }
        close(fd);
        usleep(3000);
    }
    bu_result(c->prefix, "connect.p50", bu_pct(v, (size_t)k, 0.50));
    free(v);
}

static int client_main(int argc, char **argv)
{
    if (argc < 11)
        return 2;
    client c;
    c.prefix = argv[2];
    ei_start(&c.ec, argv[3], argv[4]);
    c.server = argv[5];
    ei_x_new(&c.x);
    c.fd = ei_connect(&c.ec, c.server);
    if (c.fd < 0) {
        fprintf(stderr, "ei_bench: cannot connect to %s\n", c.server);
        return 1;
    }
    client_thr(&c, "small", atoll(argv[6]));
    client_thr(&c, "bin100", atoll(argv[7]));
    client_thr(&c, "bin64k", atoll(argv[8]));
    client_rtt(&c, atoll(argv[9]));
    client_conn(&c, atoll(argv[10]));
    ei_x_free(&c.x);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "server"))
        return server(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "client"))
        return client_main(argc, argv);
    fprintf(stderr, "usage: ei_bench server|client ...\n");
    return 2;
}
