/*
 * bench_ab_rpc.c: edist_rpc against libei's ei_rpc in one process,
 * interleaved: rounds of ROUND calls with each, the order swapped every
 * round, both calling erlang:node/0 on the same BEAM node over their own
 * connection.  The machine's speed drifts over seconds (a VM here swings
 * by a third), so two programs run one after the other measure the drift
 * as much as the libraries; paired rounds measure the libraries.
 *
 * usage: bench_ab_rpc PEER COOKIE SECONDS
 * prints: ab_rpc <edist calls/s> <ei calls/s> <median of the per-round
 *         ratios edist/ei> <rounds>
 *
 * AB_MODE (environment) replaces edist_rpc by the bare exchange written
 * with the public API (edist_send_named to rex, edist_recv), to tell what
 * edist_rpc's bookkeeping costs from what the library's send and receive
 * cost: 0, ei_rpc's message {Self, {call, erlang, node, [], user}};
 * 1, a '$gen_call' tagged with an integer; 2, tagged with a reference.
 */
#include <stdio.h>
#include <stdlib.h>

#include "edist/edist.h"
#include "edist/proc.h"
#include "ei.h"
#include "rpc_util.h"

#define ROUND 200

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ROUND calls with edist_rpc; returns the seconds they took, or -1. */
static double round_edist(edist_node *n, const char *peer, edist_arena *a)
{
    double t0 = rpc_now();
    for (int i = 0; i < ROUND; i++) {
        edist_term res;
        edist_arena_reset(a);
        int rc = edist_rpc(n, peer, "erlang", "node", NULL, 5000, a, &res);
        if (rc != 0) {
            fprintf(stderr, "edist_rpc: %s\n", edist_strerror(rc));
            return -1;
        }
    }
    return rpc_now() - t0;
}

/* ROUND calls the way ei_rpc makes them, through edist's public API:
 * {Self, {call, erlang, node, [], user}} to rex, answered {rex, Reply}.
 * Not a usable rpc (a late reply cannot be told from the next one): it
 * tells apart what the library costs from what the message format costs
 * BEAM.  Returns the seconds the calls took, or -1. */
static double round_plain(edist_node *n, edist_mbox *mb, const char *peer,
                          int mode)
{
    edist_term nil = edist_mk_nil();
    edist_term call[5] = {edist_mk_atom("call", 4), edist_mk_atom("erlang", 6),
                          edist_mk_atom("node", 4), nil,
                          edist_mk_atom("user", 4)};
    edist_term req, msg, el[2];
    req.type = EDIST_TERM_TUPLE;
    req.v.tuple.arity = 5;
    req.v.tuple.elems = call;
    el[0] = edist_mbox_pid(mb);
    el[1] = req;
    msg.type = EDIST_TERM_TUPLE;
    msg.v.tuple.arity = 2;
    msg.v.tuple.elems = el;
    edist_term from[2], gc[3], gmsg, fromt;
    if (mode) {
        from[0] = edist_mbox_pid(mb);
        from[1] = mode == 1 ? edist_mk_int(12345) : edist_make_ref(n);
        fromt.type = EDIST_TERM_TUPLE;
        fromt.v.tuple.arity = 2;
        fromt.v.tuple.elems = from;
        gc[0] = edist_mk_atom("$gen_call", 9);
        gc[1] = fromt;
        gc[2] = req;
        gmsg.type = EDIST_TERM_TUPLE;
        gmsg.v.tuple.arity = 3;
        gmsg.v.tuple.elems = gc;
        msg = gmsg;
    }
    double t0 = rpc_now();
    for (int i = 0; i < ROUND; i++) {
        edist_msg *m;
        if (edist_send_named(mb, "rex", peer, &msg) != 0 ||
            edist_recv(mb, &m, 5000) != 0) {
            fprintf(stderr, "plain rex call failed\n");
            return -1;
        }
        edist_msg_free(m);
    }
    return rpc_now() - t0;
}

/* ROUND calls with ei_rpc; returns the seconds they took, or -1. */
static double round_ei(ei_cnode *ec, int fd, ei_x_buff *args, ei_x_buff *res)
{
    double t0 = rpc_now();
    for (int i = 0; i < ROUND; i++) {
        res->index = 0;
        if (ei_rpc(ec, fd, "erlang", "node", args->buff, args->index, res) <
            0) {
            fprintf(stderr, "ei_rpc failed\n");
            return -1;
        }
    }
    return rpc_now() - t0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_ab_rpc PEER COOKIE SECONDS\n");
        return 2;
    }
    const char *peer = argv[1];
    edist_node *n = rpc_start_edist("bench_ab", argv[2]);
    if (!n)
        return 1;
    ei_cnode ec;
    int fd = rpc_ei_connect(&ec, "bench_abei", argv[2], peer);
    if (fd < 0)
        return 1;
    ei_x_buff args, res;
    rpc_ei_buffers(&args, &res);
    edist_arena *a = edist_arena_new(NULL);
    /* One warm-up round each: connection set-up, first allocations. */
    if (round_edist(n, peer, a) < 0 || round_ei(&ec, fd, &args, &res) < 0)
        return 1;
    edist_mbox *mb;
    if (edist_mbox_open(n, &mb) != 0)
        return 1;
    int plain = getenv("AB_MODE") != NULL;
    int mode = plain ? atoi(getenv("AB_MODE")) : 0;
    double secs = atof(argv[3]), t0 = rpc_now(), te = 0, tei = 0;
    size_t cap = 1024, k = 0;
    double *ratios = malloc(cap * sizeof *ratios);
    if (!ratios)
        return 1;
    while (rpc_now() - t0 < secs) {
        double de, di;
        if (k % 2 == 0) {
            de = plain ? round_plain(n, mb, peer, mode)
                       : round_edist(n, peer, a);
            di = round_ei(&ec, fd, &args, &res);
        } else {
            di = round_ei(&ec, fd, &args, &res);
            de = plain ? round_plain(n, mb, peer, mode)
                       : round_edist(n, peer, a);
        }
        if (de < 0 || di < 0)
            return 1;
        te += de;
        tei += di;
        if (k == cap) {
            double *r = realloc(ratios, 2 * cap * sizeof *r);
            if (!r)
                return 1;
            ratios = r;
            cap *= 2;
        }
        ratios[k++] = di / de; /* calls/s edist over calls/s ei */
    }
    qsort(ratios, k, sizeof *ratios, cmp_double);
    printf("ab_rpc %.0f %.0f %.3f %zu\n", (double)k * ROUND / te,
           (double)k * ROUND / tei, ratios[k / 2], k);
    free(ratios);
    ei_x_free(&args);
    ei_x_free(&res);
    edist_arena_free(a);
    edist_node_stop(n);
    return 0;
}
