/*
 * tcp_bench: raw TCP on 127.0.0.1 with the distribution's 4-byte length
 * framing, the ceiling for bench/dist.  Frames carry as many bytes as the
 * matching edist frame (a SEND control message plus the payload term).
 *
 *   tcp_bench server PORT
 *   tcp_bench client PREFIX PORT SMALL BIN100 BIN64K RTT CONNS
 *
 * A connection starts with one command frame: 'S' + N (sink N frames, then
 * answer one frame) or 'E' + K (echo K frames).  The client batches frames
 * into 64 KiB writes for throughput (the best a sender can do) and writes
 * one frame at a time for the round trip.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

#define TB_BUF (256 * 1024)

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* ---- server */

static void serve(int fd)
{
    static uint8_t buf[TB_BUF + 70000];
    uint8_t hdr[4 + 9];
    if (read_all(fd, hdr, sizeof hdr) < 0)
        return;
    uint64_t n = 0;
    for (int i = 0; i < 8; i++)
        n = n << 8 | hdr[5 + i];
    if (hdr[4] == 'E') {
        for (uint64_t i = 0; i < n; i++) {
            uint8_t h[4];
            if (read_all(fd, h, 4) < 0)
                return;
            uint32_t len = get32(h);
            memcpy(buf, h, 4);
            if (len > sizeof buf - 4 || read_all(fd, buf + 4, len) < 0 ||
                write_all(fd, buf, 4 + len) < 0)
                return;
        }
        return;
    }
    /* Sink: parse frames out of big reads, as a dist receiver does. */
    size_t have = 0;
    uint64_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + have, TB_BUF);
        if (r <= 0)
            return;
        have += (size_t)r;
        size_t off = 0;
        while (have - off >= 4) {
            uint32_t len = get32(buf + off);
            if (have - off < 4 + (size_t)len)
                break;
            off += 4 + len;
            got++;
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    uint8_t done[5] = {0, 0, 0, 1, 'D'};
    write_all(fd, done, sizeof done);
}

static int server(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(argv[2]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 64) < 0) {
        perror("tcp_bench: bind/listen");
        return 1;
    }
    printf("READY\n");
    fflush(stdout);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            continue;
        nodelay(fd);
        serve(fd);
        close(fd);
    }
}

/* ---- client */

static int client_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("tcp_bench: connect");
        exit(1);
    }
    nodelay(fd);
    return fd;
}

static void command(int fd, char c, uint64_t n)
{
    uint8_t h[13] = {0, 0, 0, 9, (uint8_t)c};
    for (int i = 0; i < 8; i++)
        h[5 + i] = (uint8_t)(n >> (56 - 8 * i));
    write_all(fd, h, sizeof h);
}

/* Frame body sizes of the edist frames for the three messages: 112 131
 * ctl(34) 131 payload. */
static size_t body_size(const char *kind)
{
    if (!strcmp(kind, "bin100"))
        return 37 + 105;
    if (!strcmp(kind, "bin64k"))
        return 37 + 65541;
    return 37 + 32;
}

static void client_thr(const char *prefix, int port, const char *kind,
                       long long n)
{
    if (n <= 0)
        return;
    int fd = client_connect(port);
    command(fd, 'S', (uint64_t)n);
    static uint8_t buf[TB_BUF + 70000];
    size_t body = body_size(kind), used = 0;
    memset(buf, 7, sizeof buf);
    double t0 = bu_now_us();
    for (long long i = 0; i < n; i++) {
        put32(buf + used, (uint32_t)body);
        used += 4 + body;
        if (used >= 65536) {
            write_all(fd, buf, used);
            used = 0;
        }
    }
    write_all(fd, buf, used);
    uint8_t done[5];
    read_all(fd, done, 5);
    double us = bu_now_us() - t0;
    close(fd);
    char key[64];
    snprintf(key, sizeof key, "%s.rate", kind);
    bu_result(prefix, key, (double)n * 1e6 / us);
    snprintf(key, sizeof key, "%s.mbs", kind);
    bu_result(prefix, key, (double)n * (double)(body - 37) / us);
}

static void client_rtt(const char *prefix, int port, long long k)
{
    if (k <= 0)
        return;
    int fd = client_connect(port);
    command(fd, 'E', (uint64_t)k);
    uint8_t f[4 + 69];
    memset(f, 7, sizeof f);
    put32(f, 69);
    double *v = malloc((size_t)k * sizeof *v);
    for (long long i = 0; i < k; i++) {
        double t0 = bu_now_us();
        uint8_t h[4 + 69];
        if (write_all(fd, f, sizeof f) < 0 || read_all(fd, h, 4) < 0 ||
            read_all(fd, h + 4, get32(h)) < 0) {
            fprintf(stderr, "tcp_bench: echo failed\n");
            exit(1);
        }
        v[i] = bu_now_us() - t0;
    }
    close(fd);
    bu_result(prefix, "rtt.p50", bu_pct(v, (size_t)k, 0.50));
    bu_result(prefix, "rtt.p99", bu_pct(v, (size_t)k, 0.99));
    free(v);
}

static void client_conn(const char *prefix, int port, long long k)
{
    if (k <= 0)
        return;
    double *v = malloc((size_t)k * sizeof *v);
    for (long long i = 0; i < k; i++) {
        double t0 = bu_now_us();
        int fd = client_connect(port);
        v[i] = bu_now_us() - t0;
        command(fd, 'E', 0);
        close(fd);
        usleep(1000);
    }
    bu_result(prefix, "connect.p50", bu_pct(v, (size_t)k, 0.50));
    free(v);
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "server"))
        return server(argc, argv);
    if (argc > 8 && !strcmp(argv[1], "client")) {
        int port = atoi(argv[3]);
        client_thr(argv[2], port, "small", atoll(argv[4]));
        client_thr(argv[2], port, "bin100", atoll(argv[5]));
        client_thr(argv[2], port, "bin64k", atoll(argv[6]));
        client_rtt(argv[2], port, atoll(argv[7]));
        client_conn(argv[2], port, atoll(argv[8]));
        return 0;
    }
    fprintf(stderr, "usage: tcp_bench server|client ...\n");
    return 2;
}
