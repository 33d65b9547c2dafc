/*
 * epmd_load: load generator for bench/epmd/run.sh (not a test).  Speaks
 * raw EPMD over loopback so that OTP's epmd and edist-epmd see exactly the
 * same traffic.
 *
 *   epmd_load PORT hold N PREFIX
 *       registers PREFIX0..PREFIX<N-1> (one connection each), prints
 *       "held K", keeps them until stdin reaches EOF.
 *   epmd_load PORT rate port|names CLIENTS SECONDS NAMES PREFIX
 *       CLIENTS concurrent clients each run one request per connection
 *       (connect, send, read to EOF) for SECONDS; PORT_PLEASE2 asks for a
 *       random one of PREFIX0..PREFIX<NAMES-1>.  One client is a blocking
 *       loop; more are non-blocking sockets multiplexed with epoll on two
 *       threads, so that the generator's own cost stays small and the same
 *       for both daemons.  Prints
 *       "requests=R rps=X p50_us=A p99_us=B errors=E".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in target;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&target, sizeof target) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int do_hold(int n, const char *prefix)
{
    int held = 0;
    for (int i = 0; i < n; i++) {
        char name[64];
        int nl = snprintf(name, sizeof name, "%s%d", prefix, i);
        uint8_t b[128];
        size_t len = 13 + (size_t)nl;
        b[0] = (uint8_t)(len >> 8), b[1] = (uint8_t)len;
        b[2] = 'x', b[3] = 0x30, b[4] = 0x39, b[5] = 77, b[6] = 0;
        b[7] = 0, b[8] = 6, b[9] = 0, b[10] = 5, b[11] = 0;
        b[12] = (uint8_t)nl;
        memcpy(b + 13, name, (size_t)nl);
        b[13 + nl] = 0, b[14 + nl] = 0;
        int fd = dial();
        if (fd < 0)
            break;
        uint8_t r[6];
        if (send(fd, b, len + 2, 0) != (ssize_t)(len + 2) ||
            recv(fd, r, 6, MSG_WAITALL) != 6 || r[1] != 0) {
            close(fd);
            break;
        }
        held++;
    }
    printf("held %d\n", held);
    fflush(stdout);
    char buf[64];
    while (fread(buf, 1, sizeof buf, stdin) > 0)
        ;
    return 0;
}

typedef struct worker {
    pthread_t th;
    int names_req;
    int nnames;
    const char *prefix;
    double end;
    unsigned seed;
    long count, errors;
    uint32_t *lat; /* microseconds */
    size_t nlat, cap;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    uint8_t buf[1 << 16];
    while (now_s() < w->end) {
        uint8_t req[80];
        size_t rl;
        if (w->names_req) {
            req[0] = 0, req[1] = 1, req[2] = 'n';
            rl = 3;
        } else {
            int i = (int)(rand_r(&w->seed) % (unsigned)w->nnames);
            int nl =
                snprintf((char *)req + 3, sizeof req - 3, "%s%d", w->prefix, i);
            req[0] = 0, req[1] = (uint8_t)(nl + 1), req[2] = 'z';
            rl = (size_t)nl + 3;
        }
        double t0 = now_s();
        int fd = dial();
        if (fd < 0) {
            w->errors++;
            continue;
        }
        size_t got = 0;
        if (send(fd, req, rl, 0) == (ssize_t)rl) {
            ssize_t r;
            while ((r = recv(fd, buf, sizeof buf, 0)) > 0)
                got += (size_t)r;
        }
        close(fd);
        if (got < (w->names_req ? 4u : 2u) || (!w->names_req && got == 2)) {
            w->errors++;
            continue;
        }
        double dt = now_s() - t0;
        if (w->nlat == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 4096;
            w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
            if (!w->lat)
                abort();
        }
        w->lat[w->nlat++] = (uint32_t)(dt * 1e6);
        w->count++;
    }
    return NULL;
}

/* One in-flight request of the epoll engine. */
typedef struct slot {
    int fd;
    double t0;
    size_t got;
} slot;

static void build_req(worker *w, uint8_t *req, size_t *rl)
{
    if (w->names_req) {
        req[0] = 0, req[1] = 1, req[2] = 'n';
        *rl = 3;
        return;
    }
    int i = (int)(rand_r(&w->seed) % (unsigned)w->nnames);
    int nl = snprintf((char *)req + 3, 70, "%s%d", w->prefix, i);
    req[0] = 0, req[1] = (uint8_t)(nl + 1), req[2] = 'z';
    *rl = (size_t)nl + 3;
}

static void record(worker *w, double dt)
{
    if (w->nlat == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 4096;
        w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
        if (!w->lat)
            abort();
    }
    w->lat[w->nlat++] = (uint32_t)(dt * 1e6);
    w->count++;
}

/* Starts a request in s: connect (non-blocking) and send once writable. */
static int slot_start(int ep, slot *s)
{
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s->fd < 0)
        return -1;
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    s->t0 = now_s();
    s->got = (size_t)-1; /* not sent yet */
    if (connect(s->fd, (struct sockaddr *)&target, sizeof target) != 0 &&
        errno != EINPROGRESS) {
        close(s->fd);
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = s};
    return epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
}

typedef struct engine {
    worker w;
    int nslots;
} engine;

static void *run_engine(void *arg)
{
    engine *e = arg;
    worker *w = &e->w;
    int ep = epoll_create1(0);
    slot *slots = calloc((size_t)e->nslots, sizeof *slots);
    for (int i = 0; i < e->nslots; i++)
        if (slot_start(ep, &slots[i]) < 0)
            w->errors++;
    struct epoll_event evs[256];
    uint8_t buf[1 << 16];
    while (now_s() < w->end) {
        int n = epoll_wait(ep, evs, 256, 100);
        for (int k = 0; k < n; k++) {
            slot *s = evs[k].data.ptr;
            if (s->got == (size_t)-1) {
                uint8_t req[80];
                size_t rl;
                build_req(w, req, &rl);
                if (send(s->fd, req, rl, MSG_NOSIGNAL) != (ssize_t)rl)
                    goto failed;
                s->got = 0;
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
                epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
                continue;
            }
            for (;;) {
                ssize_t r = recv(s->fd, buf, sizeof buf, 0);
                if (r > 0) {
                    s->got += (size_t)r;
                    continue;
                }
                if (r < 0 && errno == EAGAIN)
                    break;
                if (r < 0 || s->got < (w->names_req ? 4u : 3u))
                    goto failed;
                record(w, now_s() - s->t0);
                close(s->fd);
                if (slot_start(ep, s) < 0)
                    w->errors++;
                break;
            }
            continue;
        failed:
            w->errors++;
            close(s->fd);
            if (slot_start(ep, s) < 0)
                w->errors++;
        }
    }
    for (int i = 0; i < e->nslots; i++)
        close(slots[i].fd);
    free(slots);
    close(ep);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int do_rate(const char *kind, int clients, double secs, int nnames,
                   const char *prefix)
{
    int nth = clients == 1 ? 1 : 2;
    engine *es = calloc((size_t)nth, sizeof *es);
    double start = now_s();
    for (int i = 0; i < nth; i++) {
        worker *w = &es[i].w;
        w->names_req = strcmp(kind, "names") == 0;
        w->nnames = nnames > 0 ? nnames : 1;
        w->prefix = prefix;
        w->end = start + secs;
        w->seed = (unsigned)i * 7919u + 1;
        es[i].nslots = clients / nth + (i < clients % nth);
        pthread_create(&w->th, NULL, clients == 1 ? run_worker : run_engine,
                       clients == 1 ? (void *)w : (void *)&es[i]);
    }
    long total = 0, errors = 0;
    size_t nlat = 0;
    for (int i = 0; i < nth; i++) {
        pthread_join(es[i].w.th, NULL);
        total += es[i].w.count;
        errors += es[i].w.errors;
        nlat += es[i].w.nlat;
    }
    double elapsed = now_s() - start;
    uint32_t *all = malloc((nlat ? nlat : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < nth; i++) {
        if (es[i].w.nlat)
            memcpy(all + k, es[i].w.lat, es[i].w.nlat * sizeof *all);
        k += es[i].w.nlat;
        free(es[i].w.lat);
    }
    qsort(all, nlat, sizeof *all, cmp_u32);
    uint32_t p50 = nlat ? all[nlat / 2] : 0;
    uint32_t p99 = nlat ? all[nlat * 99 / 100] : 0;
    printf("requests=%ld rps=%.0f p50_us=%u p99_us=%u errors=%ld\n", total,
           (double)total / elapsed, p50, p99, errors);
    free(all);
    free(es);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: see the comment atop epmd_load.c\n");
        return 2;
    }
    memset(&target, 0, sizeof target);
    target.sin_family = AF_INET;
    target.sin_port = htons((uint16_t)atoi(argv[1]));
    target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (strcmp(argv[2], "hold") == 0 && argc == 5)
        return do_hold(atoi(argv[3]), argv[4]);
    if (strcmp(argv[2], "rate") == 0 && argc == 8)
        return do_rate(argv[3], atoi(argv[4]), atof(argv[5]), atoi(argv[6]),
                       argv[7]);
    fprintf(stderr, "usage: see the comment atop epmd_load.c\n");
    return 2;
}
