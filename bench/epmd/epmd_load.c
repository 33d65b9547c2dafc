/*
 * epmd_load: load generator for bench/epmd/run.sh (not a test).  Speaks
 * raw EPMD over loopback so that OTP's epmd and edist-epmd see exactly the
 * same traffic.
 *
 *   epmd_load PORT hold N PREFIX
 *       registers PREFIX0..PREFIX<N-1> (one connection each), prints
 *       "held K", keeps them until stdin reaches EOF.
 *   epmd_load PORT rate port|names CLIENTS SECONDS NAMES PREFIX
 *       CLIENTS threads each run one request per connection (connect,
 *       send, read to EOF) for SECONDS; PORT_PLEASE2 asks for a random one
 *       of PREFIX0..PREFIX<NAMES-1>.  Prints
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

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int do_rate(const char *kind, int clients, double secs, int nnames,
                   const char *prefix)
{
    worker *ws = calloc((size_t)clients, sizeof *ws);
    double start = now_s();
    for (int i = 0; i < clients; i++) {
        ws[i].names_req = strcmp(kind, "names") == 0;
        ws[i].nnames = nnames > 0 ? nnames : 1;
        ws[i].prefix = prefix;
        ws[i].end = start + secs;
        ws[i].seed = (unsigned)i * 7919u + 1;
        pthread_create(&ws[i].th, NULL, run_worker, &ws[i]);
    }
    long total = 0, errors = 0;
    size_t nlat = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(ws[i].th, NULL);
        total += ws[i].count;
        errors += ws[i].errors;
        nlat += ws[i].nlat;
    }
    double elapsed = now_s() - start;
    uint32_t *all = malloc((nlat ? nlat : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < clients; i++) {
        memcpy(all + k, ws[i].lat, ws[i].nlat * sizeof *all);
        k += ws[i].nlat;
        free(ws[i].lat);
    }
    qsort(all, nlat, sizeof *all, cmp_u32);
    uint32_t p50 = nlat ? all[nlat / 2] : 0;
    uint32_t p99 = nlat ? all[nlat * 99 / 100] : 0;
    printf("requests=%ld rps=%.0f p50_us=%u p99_us=%u errors=%ld\n", total,
           (double)total / elapsed, p50, p99, errors);
    free(all);
    free(ws);
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
