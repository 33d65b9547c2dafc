/*
 * node_stream: two edist nodes in one process stream messages to each
 * other through the whole runtime (out-queue, direct writes, the I/O
 * thread's batched delivery, mailbox caps) and check that nothing is lost,
 * duplicated or reordered.
 *
 *   node_stream EPMD_PORT SENDERS MESSAGES
 *
 * Node sb has a sink mailbox with a small cap (256 KiB: reading pauses and
 * resumes); node sa has a small out-queue cap (192 KiB: senders meet
 * backpressure) and SENDERS threads, each with its own mailbox, sending
 * {I, Seq, Bin} to the sink: mostly small binaries, every 97th 100 KiB
 * (partial writes), every 13th 2000 bytes (both sent from the sender's
 * memory when the queue is idle: the zero-copy path), with pauses now and
 * then so that both the direct-write path and the batched path are taken.
 * Every binary's bytes depend on (I, Seq), and a sender rewrites its
 * buffer as soon as edist_send returns, so the sink also checks that no
 * payload was read from the caller's memory after the call.  The sink checks
 * that every sender's Seq counts up from 0 without gaps, alternating between
 * blocking receives, edist_recv_many(), poll() on the mailbox fd, and receives
 * each preceded by a small ack sent to a mailbox on sa (a mailbox that
 * sent to another node waits as the node's leader and reads the socket
 * itself, concurrently with the I/O thread: rx.c), then answers each
 * sender's {I, done} with {done, Count}, which the sender waits for.
 * Exits 0 when everything arrived in order, 1 with a message otherwise.
 *
 *   node_stream EPMD_PORT SENDERS MESSAGES --beam ACKNODE
 *
 * runs only the sink, as sb@127.0.0.1 registered as `sink`, for SENDERS
 * processes on a real BEAM node that send the same messages (BEAM writes
 * each small message on its own, which makes the I/O thread coalesce its
 * reads: rx.c); acks go to the process registered as `ack` on ACKNODE.
 * It prints READY once registered.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edist/edist.h"
#include "edist/node.h"

#define BIG_SIZE (100 * 1024)
#define MID_SIZE 2000

static long messages;
static const char *ack_node; /* --beam: acks to {ack, ack_node} */

/* The size of sender message seq's binary and its byte at k.  With
 * --beam the first half is small messages only: a stream that the I/O
 * thread reads coalesced (rx.c). */
static size_t bin_size(long seq)
{
    if (ack_node && seq < messages / 2)
        return 24;
    return seq % 97 == 5 ? BIG_SIZE : seq % 13 == 3 ? MID_SIZE : 24;
}

/* A window into a 251-byte pattern that depends on (idx, seq): BEAM
 * senders (--beam) make it as a sub-binary of a repeated pattern. */
static uint8_t bin_byte(long idx, long seq, size_t k)
{
    return (uint8_t)(((long)k + seq * 7 + idx * 31) % 251 * 13 % 251);
}

static unsigned epmd_port;
static int senders;
static edist_node *na, *nb;
static edist_term sink_pid;
static atomic_int failed;

static void die(const char *what, int rc)
{
    fprintf(stderr, "node_stream: %s: %s\n", what, edist_strerror(rc));
    exit(1);
}

static edist_node *start(const char *name, size_t out_cap, size_t mbox_cap)
{
    edist_node_opts o = {0};
    o.name = name;
    o.cookie = "streamcookie";
    o.epmd_port = epmd_port;
    o.no_epmd_start = 1;
    o.max_out_queue = out_cap;
    o.max_mailbox = mbox_cap;
    o.send_timeout_ms = 60000;
    edist_node *n;
    char why[256];
    int rc = edist_node_start(&o, &n, why, sizeof why);
    if (rc < 0) {
        fprintf(stderr, "node_stream: start %s: %s\n", name, why);
        exit(1);
    }
    return n;
}

static void *sender_main(void *arg)
{
    long idx = (long)(intptr_t)arg;
    uint8_t *buf = malloc(BIG_SIZE);
    edist_mbox *mb;
    if (!buf)
        die("malloc", EDIST_ENOMEM);
    int rc = edist_mbox_open(na, &mb);
    if (rc < 0)
        die("mbox_open", rc);
    for (long seq = 0; seq < messages; seq++) {
        edist_term elems[3], msg;
        elems[0] = edist_mk_int(idx);
        elems[1] = edist_mk_int(seq);
        size_t n = bin_size(seq);
        for (size_t k = 0; k < n; k++)
            buf[k] = bin_byte(idx, seq, k);
        elems[2] = edist_mk_binary(buf, n);
        msg.type = EDIST_TERM_TUPLE;
        msg.v.tuple.arity = 3;
        msg.v.tuple.elems = elems;
        if ((rc = edist_send(mb, &sink_pid, &msg)) < 0)
            die("send", rc);
        memset(buf, 0xEE, n); /* the caller's bytes are its own again */
        if (seq % 1000 == 999)
            usleep(200); /* idle: the next send writes directly */
    }
    edist_term done[2], msg;
    done[0] = edist_mk_int(idx);
    done[1] = edist_mbox_pid(mb);
    msg.type = EDIST_TERM_TUPLE;
    msg.v.tuple.arity = 2;
    msg.v.tuple.elems = done;
    if ((rc = edist_send(mb, &sink_pid, &msg)) < 0)
        die("send done", rc);
    edist_msg *m;
    if ((rc = edist_recv(mb, &m, 60000)) < 0)
        die("waiting for the sink's answer", rc);
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    if (edist_msg_term(m, a, &t) < 0 || t.type != EDIST_TERM_TUPLE ||
        t.v.tuple.arity != 2 || t.v.tuple.elems[1].type != EDIST_TERM_INT ||
        t.v.tuple.elems[1].v.i != messages) {
        fprintf(stderr, "node_stream: sender %ld: bad answer\n", idx);
        atomic_store(&failed, 1);
    }
    edist_arena_free(a);
    edist_msg_free(m);
    edist_mbox_close(mb);
    free(buf);
    return NULL;
}

/* Checks one message at the sink; returns 1 for a sender's done. */
static int sink_check(edist_mbox *sink, edist_arena *a, edist_msg *m,
                      long *next)
{
    edist_term t;
    edist_arena_reset(a);
    if (edist_msg_term(m, a, &t) < 0 || t.type != EDIST_TERM_TUPLE ||
        t.v.tuple.elems[0].type != EDIST_TERM_INT) {
        fprintf(stderr, "node_stream: undecodable message\n");
        exit(1);
    }
    long i = (long)t.v.tuple.elems[0].v.i;
    if (i < 0 || i >= senders) {
        fprintf(stderr, "node_stream: bad sender %ld\n", i);
        exit(1);
    }
    if (t.v.tuple.arity == 2) {
        /* {I, SenderPid}: the sender is done; answer {done, Count}. */
        edist_term reply[2], r;
        reply[0] = edist_mk_atom("done", 4);
        reply[1] = edist_mk_int(next[i]);
        r.type = EDIST_TERM_TUPLE;
        r.v.tuple.arity = 2;
        r.v.tuple.elems = reply;
        int rc = edist_send(sink, &t.v.tuple.elems[1], &r);
        if (rc < 0)
            die("answer", rc);
        return 1;
    }
    long seq = (long)t.v.tuple.elems[1].v.i;
    const edist_term *bin = &t.v.tuple.elems[2];
    size_t want = bin_size(seq), bad = 0;
    if (bin->type == EDIST_TERM_BINARY && bin->v.bin.size == want)
        for (size_t k = 0; k < want; k++)
            bad += bin->v.bin.data[k] != bin_byte(i, seq, k);
    if (bad) {
        fprintf(stderr, "node_stream: sender %ld seq %ld: %zu bad bytes\n", i,
                seq, bad);
        exit(1);
    }
    if (seq != next[i] || bin->type != EDIST_TERM_BINARY ||
        bin->v.bin.size != want) {
        fprintf(stderr,
                "node_stream: sender %ld: got seq %ld, expected %ld "
                "(size %zu)\n",
                i, seq, next[i], bin->v.bin.size);
        exit(1);
    }
    next[i]++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4 && !(argc == 6 && strcmp(argv[4], "--beam") == 0)) {
        fprintf(stderr, "usage: node_stream EPMD_PORT SENDERS MESSAGES "
                        "[--beam ACKNODE]\n");
        return 2;
    }
    epmd_port = (unsigned)atoi(argv[1]);
    senders = atoi(argv[2]);
    messages = atol(argv[3]);
    ack_node = argc == 6 ? argv[5] : NULL;
    nb = start("sb@127.0.0.1", 0, 256 * 1024);
    edist_mbox *sink;
    int rc = edist_mbox_open(nb, &sink);
    if (rc < 0)
        die("sink open", rc);
    sink_pid = edist_mbox_pid(sink);
    edist_mbox *ackmb = NULL;
    edist_term ack = edist_mk_atom("ack", 3), ack_pid = ack;
    pthread_t *th = calloc((size_t)senders, sizeof *th);
    long *next = calloc((size_t)senders, sizeof *next);
    if (ack_node) {
        if ((rc = edist_mbox_register(sink, "sink")) < 0)
            die("register sink", rc);
        printf("READY\n");
        fflush(stdout);
    } else {
        na = start("sa@127.0.0.1", 192 * 1024, 0);
        /* Acks go to a mailbox on sa that nobody reads (its node has no
         * mailbox cap): sending them makes the sink's next receive
         * lead. */
        if ((rc = edist_mbox_open(na, &ackmb)) < 0)
            die("ack mailbox open", rc);
        ack_pid = edist_mbox_pid(ackmb);
        for (long i = 0; i < senders; i++)
            pthread_create(&th[i], NULL, sender_main, (void *)(intptr_t)i);
    }
    edist_arena *a = edist_arena_new(NULL);
    int done = 0;
    long got = 0;
    while (done < senders) {
        edist_msg *batch[32];
        int k;
        int mode = (int)(got / 5000) % 4;
        if (mode == 3) {
            rc = ack_node ? edist_send_named(sink, "ack", ack_node, &ack)
                          : edist_send(sink, &ack_pid, &ack);
            if (rc < 0)
                die("ack", rc);
            k = edist_recv_many(sink, batch, 32, 60000);
        } else if (mode == 0) {
            k = edist_recv(sink, &batch[0], 60000) == 0 ? 1 : -1;
        } else if (mode == 1) {
            k = edist_recv_many(sink, batch, 32, 60000);
        } else {
            /* The fd is readable exactly while messages wait, and only
             * this thread takes them: a poll that says so must be
             * followed by a non-blocking receive that gets some. */
            struct pollfd pf = {edist_mbox_fd(sink), POLLIN, 0};
            if (pf.fd < 0 || poll(&pf, 1, 60000) != 1) {
                fprintf(stderr, "node_stream: poll on the mailbox fd\n");
                return 1;
            }
            k = edist_recv_many(sink, batch, 32, 0);
            if (k < 1) {
                fprintf(stderr, "node_stream: fd readable, queue empty\n");
                return 1;
            }
        }
        if (k < 0 || k > 32) {
            fprintf(stderr, "node_stream: receive failed (%d) after %ld\n", k,
                    got);
            return 1;
        }
        for (int j = 0; j < k; j++) {
            if (sink_check(sink, a, batch[j], next))
                done++;
            else
                got++;
            edist_msg_free(batch[j]);
        }
    }
    for (long i = 0; i < senders && !ack_node; i++)
        pthread_join(th[i], NULL);
    if (got != senders * messages) {
        fprintf(stderr, "node_stream: %ld messages, expected %ld\n", got,
                senders * messages);
        return 1;
    }
    printf("node_stream: %ld messages from %d senders in order\n", got,
           senders);
    edist_arena_free(a);
    free(next);
    free(th);
    edist_mbox_close(sink);
    if (ackmb)
        edist_mbox_close(ackmb);
    if (na)
        edist_node_stop(na);
    edist_node_stop(nb);
    return atomic_load(&failed);
}
