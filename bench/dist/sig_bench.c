/*
 * sig_bench: what links and monitors cost as a node holds more of them
 * (the signals table).  Not a test: it prints figures.
 *
 *   sig_bench EPMD_PORT N
 *
 * One node, one watcher mailbox W and N target mailboxes:
 *   monitor   W monitors every target (N monitors, 2N table entries);
 *   pair      with those in place, another mailbox monitors and
 *             demonitors one target 4000 times: the per-signal cost of a
 *             call (edist_call takes a monitor and drops it per request);
 *   link      a third mailbox links with and unlinks from one target
 *             4000 times (pair and link: best of 7 batches);
 *   close     every target closes, each sending W its DOWN: the mailbox
 *             close path;
 *   down      W receives the N DOWN messages (checked: exactly N).
 * Figures are ns per operation; a table scanned linearly makes monitor,
 * pair, link and close grow with N, an indexed one keeps them flat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edist/edist.h"
#include "edist/node.h"
#include "edist/proc.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void check(int rc, const char *what)
{
    if (rc < 0) {
        fprintf(stderr, "sig_bench: %s: %s\n", what, edist_strerror(rc));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: sig_bench EPMD_PORT N\n");
        return 2;
    }
    long n = atol(argv[2]);
    edist_node_opts o;
    memset(&o, 0, sizeof o);
    o.name = "sigbench@127.0.0.1";
    o.cookie = "sigbench";
    o.epmd_port = (unsigned)atoi(argv[1]);
    o.no_epmd_start = 1;
    edist_node *node;
    char why[256];
    check(edist_node_start(&o, &node, why, sizeof why), why);
    edist_mbox *w, *p, *l, **t = calloc((size_t)n, sizeof *t);
    check(edist_mbox_open(node, &w), "open");
    check(edist_mbox_open(node, &p), "open");
    check(edist_mbox_open(node, &l), "open");
    for (long i = 0; i < n; i++)
        check(edist_mbox_open(node, &t[i]), "open");

    double t0 = now();
    for (long i = 0; i < n; i++) {
        edist_term pid = edist_mbox_pid(t[i]), ref;
        check(edist_monitor(w, &pid, &ref), "monitor");
    }
    double t_mon = (now() - t0) / (double)n * 1e9;

    /* The machine may be shared: 7 batches each, the best kept. */
    const long rounds = 4000;
    edist_term target = edist_mbox_pid(t[n / 2]);
    double t_pair = 1e300, t_link = 1e300;
    for (int batch = 0; batch < 7; batch++) {
        t0 = now();
        for (long i = 0; i < rounds; i++) {
            edist_term ref;
            check(edist_monitor(p, &target, &ref), "monitor");
            check(edist_demonitor(p, &ref), "demonitor");
        }
        double dt = (now() - t0) / (double)rounds * 1e9;
        t_pair = dt < t_pair ? dt : t_pair;
        t0 = now();
        for (long i = 0; i < rounds; i++) {
            check(edist_link(l, &target), "link");
            check(edist_unlink(l, &target), "unlink");
        }
        dt = (now() - t0) / (double)rounds * 1e9;
        t_link = dt < t_link ? dt : t_link;
    }

    t0 = now();
    for (long i = 0; i < n; i++)
        edist_mbox_close(t[i]);
    double t_close = (now() - t0) / (double)n * 1e9;

    long downs = 0;
    edist_msg *m;
    while (edist_recv(w, &m, 0) == 0) {
        downs++;
        edist_msg_free(m);
    }
    if (downs != n) {
        fprintf(stderr, "sig_bench: %ld DOWN messages, want %ld\n", downs, n);
        return 1;
    }
    printf("N=%ld monitor %.0f ns, monitor+demonitor %.0f ns, link+unlink "
           "%.0f ns, close %.0f ns (per operation)\n",
           n, t_mon, t_pair, t_link, t_close);
    edist_mbox_close(w);
    edist_mbox_close(p);
    edist_mbox_close(l);
    edist_node_stop(node);
    free(t);
    return 0;
}
