/*
 * edist_bench: the edist side of bench/dist, using only the public API.
 *
 *   edist_bench server NAME COOKIE EPMD_PORT
 *   edist_bench client PREFIX NAME COOKIE EPMD_PORT SERVER_NODE
 *                      SMALL BIN100 BIN64K RTT CONNS
 *
 * The protocol is bench_beam.erl's: the server is registered as `bench`,
 * answers {sink, From, N} and {echo, From, K} with {ready, Self}, then
 * swallows N messages and sends `done`, or echoes K messages.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "edist/edist.h"
#include "edist/epmd.h"
#include "edist/node.h"

static edist_node *bench_start(const char *name, const char *cookie,
                               const char *epmd_port, int hidden)
{
    edist_node_opts o = {0};
    o.name = name;
    o.hidden = hidden;
    o.cookie = cookie;
    o.epmd_port = (unsigned)atoi(epmd_port);
    o.no_epmd_start = 1;
    edist_node *n;
    char why[256];
    int rc = edist_node_start(&o, &n, why, sizeof why);
    if (rc < 0) {
        fprintf(stderr, "edist_bench: node start: %s (%s)\n",
                edist_strerror(rc), why);
        exit(1);
    }
    return n;
}

/* ---- server */

static int server(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    edist_node *n = bench_start(argv[2], argv[3], argv[4], 0);
    edist_mbox *mb;
    if (edist_mbox_open(n, &mb) < 0 || edist_mbox_register(mb, "bench") < 0)
        return 1;
    edist_arena *sess = edist_arena_new(NULL), *tmp = edist_arena_new(NULL);
    edist_term peer = {0}, self = edist_mbox_pid(mb);
    int64_t left = 0;
    int echo = 0;
    printf("READY\n");
    fflush(stdout);
    for (;;) {
        edist_msg *m;
        edist_term t;
        if (left > 0 && !echo) {
            /* Sink: take what is there in batches (edist_recv_many). */
            edist_msg *batch[64];
            int k =
                edist_recv_many(mb, batch, left < 64 ? (size_t)left : 64, -1);
            if (k < 0)
                break;
            for (int i = 0; i < k; i++)
                edist_msg_free(batch[i]);
            left -= k;
            if (left == 0) {
                edist_term done = edist_mk_atom("done", 4);
                edist_send(mb, &peer, &done);
            }
            continue;
        }
        if (edist_recv(mb, &m, -1) < 0)
            break;
        if (left > 0) {
            if (echo) {
                edist_arena_reset(tmp);
                if (edist_msg_term(m, tmp, &t) == 0)
                    edist_send(mb, &peer, &t);
            }
            edist_msg_free(m);
            if (--left == 0 && !echo) {
                edist_term done = edist_mk_atom("done", 4);
                edist_send(mb, &peer, &done);
            }
            continue;
        }
        edist_arena_reset(tmp);
        int ok = edist_msg_term(m, tmp, &t) == 0 &&
                 t.type == EDIST_TERM_TUPLE && t.v.tuple.arity == 3 &&
                 t.v.tuple.elems[1].type == EDIST_TERM_PID &&
                 t.v.tuple.elems[2].type == EDIST_TERM_INT;
        if (ok && edist_term_is_atom(&t.v.tuple.elems[0], "stop"))
            break;
        if (ok) {
            edist_arena_reset(sess);
            edist_term_copy(sess, &peer, &t.v.tuple.elems[1]);
            echo = edist_term_is_atom(&t.v.tuple.elems[0], "echo");
            left = t.v.tuple.elems[2].v.i;
            edist_term reply;
            edist_term_tuple(tmp, &reply, 2);
            reply.v.tuple.elems[0] = edist_mk_atom("ready", 5);
            reply.v.tuple.elems[1] = self;
            edist_send(mb, &peer, &reply);
        }
        edist_msg_free(m);
    }
    edist_arena_free(sess);
    edist_arena_free(tmp);
    edist_mbox_close(mb);
    edist_node_stop(n);
    return 0;
}

/* ---- client */

typedef struct client {
    edist_node *n;
    edist_mbox *mb;
    const char *server;
    const char *prefix;
    edist_arena *a;
} client;

/* Sends {Tag, Self, N} to {bench, Server} and returns the server's pid
 * (in c->a) from its {ready, Pid}. */
static edist_term client_ready(client *c, const char *tag, int64_t n)
{
    edist_term hello, self = edist_mbox_pid(c->mb);
    edist_arena_reset(c->a);
    edist_term_tuple(c->a, &hello, 3);
    hello.v.tuple.elems[0] = edist_mk_atom(tag, strlen(tag));
    hello.v.tuple.elems[1] = self;
    hello.v.tuple.elems[2] = edist_mk_int(n);
    if (edist_send_named(c->mb, "bench", c->server, &hello) < 0) {
        fprintf(stderr, "edist_bench: hello failed\n");
        exit(1);
    }
    edist_msg *m;
    edist_term t;
    if (edist_recv(c->mb, &m, 10000) < 0 || edist_msg_term(m, c->a, &t) < 0 ||
        t.type != EDIST_TERM_TUPLE || t.v.tuple.arity != 2) {
        fprintf(stderr, "edist_bench: no ready from %s\n", c->server);
        exit(1);
    }
    edist_msg_free(m);
    return t.v.tuple.elems[1];
}

static void client_thr(client *c, const char *kind, int64_t n)
{
    if (n <= 0)
        return;
    edist_term to = client_ready(c, "sink", n);
    edist_term msg, self = edist_mbox_pid(c->mb);
    static uint8_t bin[65536];
    memset(bin, 7, sizeof bin);
    size_t size = bu_kind_size(kind);
    if (size) {
        msg = edist_mk_binary(bin, bu_kind_bin(kind));
    } else {
        edist_term_tuple(c->a, &msg, 2);
        msg.v.tuple.elems[0] = self;
        msg.v.tuple.elems[1] = edist_mk_int(42);
        size = 19 + edist_node_atom(c->n).len; /* 104 2 pid 97 42 */
    }
    double t0 = bu_now_us();
    for (int64_t i = 0; i < n; i++) {
        int rc = edist_send(c->mb, &to, &msg);
        if (rc < 0) {
            fprintf(stderr, "edist_bench: send: %s\n", edist_strerror(rc));
            exit(1);
        }
    }
    edist_msg *m;
    if (edist_recv(c->mb, &m, 120000) < 0) {
        fprintf(stderr, "edist_bench: no done\n");
        exit(1);
    }
    edist_msg_free(m);
    double us = bu_now_us() - t0;
    char key[64];
    snprintf(key, sizeof key, "%s.rate", kind);
    bu_result(c->prefix, key, (double)n * 1e6 / us);
    snprintf(key, sizeof key, "%s.mbs", kind);
    bu_result(c->prefix, key, (double)n * (double)size / us);
}

static void client_rtt(client *c, int64_t k)
{
    if (k <= 0)
        return;
    edist_term to = client_ready(c, "echo", k);
    edist_term msg, self = edist_mbox_pid(c->mb);
    edist_term_tuple(c->a, &msg, 2);
    msg.v.tuple.elems[0] = self;
    msg.v.tuple.elems[1] = edist_mk_int(42);
    double *v = malloc((size_t)k * sizeof *v);
    for (int64_t i = 0; i < k; i++) {
        double t0 = bu_now_us();
        edist_msg *m;
        if (edist_send(c->mb, &to, &msg) < 0 ||
            edist_recv(c->mb, &m, 10000) < 0) {
            fprintf(stderr, "edist_bench: rtt failed\n");
            exit(1);
        }
        edist_msg_free(m);
        v[i] = bu_now_us() - t0;
    }
    bu_result(c->prefix, "rtt.p50", bu_pct(v, (size_t)k, 0.50));
    bu_result(c->prefix, "rtt.p99", bu_pct(v, (size_t)k, 0.99));
    free(v);
}

/* Connect + handshake (EPMD lookup included, as ei_connect does); the
 * disconnect and a short pause stay outside the measurement. */
static void client_conn(client *c, int64_t k)
{
    if (k <= 0)
        return;
    double *v = malloc((size_t)k * sizeof *v);
    edist_disconnect(c->n, c->server);
    usleep(20000);
    for (int64_t i = 0; i < k; i++) {
        edist_conn_error why;
        double t0 = bu_now_us();
        int rc = edist_connect(c->n, c->server, 5000, &why);
        v[i] = bu_now_us() - t0;
        if (rc < 0) {
            fprintf(stderr, "edist_bench: connect: %s\n", why.reason);
            exit(1);
        }
        edist_disconnect(c->n, c->server);
        usleep(3000);
    }
    bu_result(c->prefix, "connect.p50", bu_pct(v, (size_t)k, 0.50));
    free(v);
}

/* The EPMD lookup alone (PORT_PLEASE2_REQ for the server's name, through
 * the public blocking client), which every connect above begins with:
 * with the raw TCP connect and two raw round trips (the handshake's two
 * exchanges) it gives the floor of a connect on this machine (run.sh). */
static void client_lookup(client *c, unsigned epmd_port, int64_t k)
{
    char alive[256];
    const char *at = strchr(c->server, '@');
    size_t len = at ? (size_t)(at - c->server) : 0;
    if (k <= 0 || !at || len >= sizeof alive)
        return;
    memcpy(alive, c->server, len);
    alive[len] = '\0';
    edist_epmd_opts o = {0};
    o.host = at + 1;
    o.port = (uint16_t)epmd_port;
    o.timeout_ms = 5000;
    double *v = malloc((size_t)k * sizeof *v);
    for (int64_t i = 0; i < k; i++) {
        edist_epmd_lookup lk;
        double t0 = bu_now_us();
        int rc = edist_epmd_port_please(&o, alive, &lk);
        v[i] = bu_now_us() - t0;
        if (rc < 0) {
            fprintf(stderr, "edist_bench: lookup: %s\n", edist_strerror(rc));
            exit(1);
        }
        usleep(3000);
    }
    bu_result(c->prefix, "lookup.p50", bu_pct(v, (size_t)k, 0.50));
    free(v);
}

static int client_main(int argc, char **argv)
{
    if (argc < 12)
        return 2;
    client c = {0};
    c.prefix = argv[2];
    /* Hidden, as the BEAM clients (-hidden) and libei's nodes are: a
     * visible pair would also run global's sync after every connect, and
     * global may dial back after a disconnect, as BEAM's does. */
    c.n = bench_start(argv[3], argv[4], argv[5], 1);
    c.server = argv[6];
    c.a = edist_arena_new(NULL);
    if (edist_mbox_open(c.n, &c.mb) < 0)
        return 1;
    edist_conn_error why;
    if (edist_connect(c.n, c.server, 10000, &why) < 0) {
        fprintf(stderr, "edist_bench: connect %s: %s\n", c.server, why.reason);
        return 1;
    }
    client_thr(&c, "small", atoll(argv[7]));
    client_thr(&c, "bin100", atoll(argv[8]));
    client_thr(&c, "bin64k", atoll(argv[9]));
    client_rtt(&c, atoll(argv[10]));
    client_conn(&c, atoll(argv[11]));
    client_lookup(&c, (unsigned)atoi(argv[5]), atoll(argv[11]));
    edist_mbox_close(c.mb);
    edist_arena_free(c.a);
    edist_node_stop(c.n);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "server"))
        return server(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "client"))
        return client_main(argc, argv);
    fprintf(stderr, "usage: edist_bench server|client ...\n");
    return 2;
}
