/*
 * epmd_probe: a tiny scripted EPMD client for the interop tests.  It runs
 * the same script against OTP's epmd and edist-epmd so that the two outputs
 * can be diffed byte for byte.
 *
 * Usage: epmd_probe HOST PORT < script
 * Script lines (IDs name connections):
 *   conn ID              connect (prints nothing; "ID: refused" on error)
 *   send ID HEX          send bytes (hex digits, '_' ignored)
 *   recv ID MS           wait up to MS ms for EOF, print "ID: <hex> closed"
 *                        or "ID: <hex> open"; a successful ALIVE2 reply has
 *                        its creation masked ("7600CCCCCCCC") and stored
 *   recvall PFX N MS     like "recv" for PFX1..PFXN, but waits on all of them
 *                        at once: until each has closed or MS ms have passed
 *                        since the command began, then prints them in order
 *   cdiff ID1 ID2        print creation(ID2) - creation(ID1)
 *   creation ID          print "ID: fresh" when the stored creation is within
 *                        10 s of now, else the value (v5: "1..3" check)
 *   reset ID             close with RST (SO_LINGER 0)
 *   close ID             close
 *   sleep MS
 *   hold N PREFIX        register N names PREFIX<i> (kept open);
 *                        prints "held K" (K successful)
 *   release              close every held registration
 *   flood N HEX          N sequential connections sending HEX, each read
 *                        to EOF; prints "flood N replies=K bytes=B"
 *   echo TEXT            print TEXT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 512

static struct {
    char id[32];
    int fd;
    long creation;
    int v5;
} conns[MAXC];
static int nconns;
static struct sockaddr_storage target;
static socklen_t target_len;
static int *held;
static int nheld;

static int find(const char *id, int create)
{
    for (int i = 0; i < nconns; i++)
        if (strcmp(conns[i].id, id) == 0)
            return i;
    if (!create || nconns == MAXC)
        return -1;
    snprintf(conns[nconns].id, sizeof conns[nconns].id, "%s", id);
    conns[nconns].fd = -1;
    conns[nconns].creation = -1;
    return nconns++;
}

static int dial(void)
{
    int fd = socket(target.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&target, target_len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static size_t unhex(const char *h, unsigned char *out, size_t cap)
{
    size_t n = 0;
    while (*h && n < cap) {
        if (*h == '_') {
            h++;
            continue;
        }
        unsigned v;
        if (sscanf(h, "%2x", &v) != 1)
            break;
        out[n++] = (unsigned char)v;
        h += 2;
    }
    return n;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads until EOF or ms elapse; returns bytes, *closed says which. */
static size_t drain(int fd, unsigned char *buf, size_t cap, int ms, int *closed)
{
    size_t n = 0;
    long end = now_ms() + ms;
    *closed = 0;
    for (;;) {
        long left = end - now_ms();
        if (left < 0)
            left = 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            return n;
        ssize_t r = recv(fd, buf + n, cap - n, 0);
        if (r <= 0) {
            *closed = 1;
            return n;
        }
        n += (size_t)r;
        if (n == cap)
            return n;
    }
}

static void print_recv(int i, const unsigned char *buf, size_t n, int closed)
{
    printf("%s: ", conns[i].id);
    if (n == 6 && buf[0] == 0x76 && buf[1] == 0) {
        conns[i].creation =
            (long)((unsigned long)buf[2] << 24 | (unsigned long)buf[3] << 16 |
                   (unsigned long)buf[4] << 8 | buf[5]);
        printf("7600CCCCCCCC");
    } else if (n == 4 && buf[0] == 0x79 && buf[1] == 0) {
        conns[i].creation = buf[2] << 8 | buf[3];
        conns[i].v5 = 1;
        printf("7900CCCC");
    } else if (n == 0) {
        printf("-");
    } else {
        for (size_t k = 0; k < n; k++)
            printf("%02x", buf[k]);
    }
    printf(" %s\n", closed ? "closed" : "open");
}

static void do_recv(int i, int ms)
{
    static unsigned char buf[65536];
    int closed;
    size_t n = drain(conns[i].fd, buf, sizeof buf, ms, &closed);
    print_recv(i, buf, n, closed);
}

/*
 * Waits on connections PFX1..PFXN together, so that a daemon slowed down by
 * machine load gets the whole MS budget for every connection instead of a
 * fixed sleep followed by near-zero per-connection timeouts.
 */
#define RECVALL_MAX 128
#define RECVALL_CAP 4096
static void do_recvall(const char *pfx, int n, int ms)
{
    static unsigned char bufs[RECVALL_MAX][RECVALL_CAP];
    size_t len[RECVALL_MAX] = {0};
    int idx[RECVALL_MAX], done[RECVALL_MAX] = {0};
    if (n < 0 || n > RECVALL_MAX) {
        fprintf(stderr, "epmd_probe: recvall of more than %d\n", RECVALL_MAX);
        exit(2);
    }
    for (int k = 0; k < n; k++) {
        char id[64];
        snprintf(id, sizeof id, "%s%d", pfx, k + 1);
        idx[k] = find(id, 0);
        if (idx[k] < 0 || conns[idx[k]].fd < 0) {
            fprintf(stderr, "epmd_probe: recvall: no connection %s\n", id);
            exit(2);
        }
    }
    long end = now_ms() + ms;
    for (;;) {
        struct pollfd p[RECVALL_MAX];
        int map[RECVALL_MAX], np = 0;
        for (int k = 0; k < n; k++)
            if (!done[k]) {
                p[np] =
                    (struct pollfd){.fd = conns[idx[k]].fd, .events = POLLIN};
                map[np++] = k;
            }
        long left = end - now_ms();
        if (np == 0 || left <= 0)
            break;
        if (poll(p, (nfds_t)np, (int)left) <= 0)
            break;
        for (int j = 0; j < np; j++) {
            if (!p[j].revents)
                continue;
            int k = map[j];
            ssize_t r =
                recv(p[j].fd, bufs[k] + len[k], RECVALL_CAP - len[k], 0);
            if (r <= 0)
                done[k] = 1;
            else if ((len[k] += (size_t)r) == RECVALL_CAP)
                done[k] = 2;
        }
    }
    for (int k = 0; k < n; k++)
        print_recv(idx[k], bufs[k], len[k], done[k] == 1);
}

static int alive2(int fd, const char *name)
{
    unsigned char b[600];
    size_t nl = strlen(name);
    size_t len = 13 + nl;
    b[0] = (unsigned char)(len >> 8), b[1] = (unsigned char)len;
    b[2] = 'x', b[3] = 0x30, b[4] = 0x39, b[5] = 77, b[6] = 0;
    b[7] = 0, b[8] = 6, b[9] = 0, b[10] = 5;
    b[11] = (unsigned char)(nl >> 8), b[12] = (unsigned char)nl;
    memcpy(b + 13, name, nl);
    b[13 + nl] = 0, b[14 + nl] = 0;
    if (send(fd, b, len + 2, 0) != (ssize_t)(len + 2))
        return -1;
    unsigned char r[6];
    size_t got = 0;
    while (got < 6) {
        ssize_t k = recv(fd, r + got, 6 - got, 0);
        if (k <= 0)
            return -1;
        got += (size_t)k;
    }
    return r[0] == 0x76 && r[1] == 0 ? 0 : -1;
}

static void do_hold(int n, const char *prefix)
{
    int *more = realloc(held, sizeof *held * (size_t)(nheld + n));
    if (!more) {
        printf("held 0\n");
        return;
    }
    held = more;
    int ok = 0;
    for (int i = 0; i < n; i++) {
        char name[256];
        snprintf(name, sizeof name, "%s%d", prefix, i);
        int fd = dial();
        if (fd < 0)
            continue;
        if (alive2(fd, name) == 0) {
            held[nheld++] = fd;
            ok++;
        } else {
            close(fd);
        }
    }
    printf("held %d\n", ok);
}

static void do_flood(int n, const char *hex)
{
    unsigned char req[4096], buf[1 << 16];
    size_t rl = unhex(hex, req, sizeof req);
    int replies = 0;
    long bytes = 0;
    for (int i = 0; i < n; i++) {
        int fd = dial();
        if (fd < 0)
            continue;
        if (send(fd, req, rl, 0) == (ssize_t)rl) {
            int closed;
            size_t got = drain(fd, buf, sizeof buf, 5000, &closed);
            if (got > 0)
                replies++;
            bytes += (long)got;
        }
        close(fd);
    }
    printf("flood %d replies=%d bytes=%ld\n", n, replies, bytes);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: epmd_probe HOST PORT < script\n");
        return 2;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(argv[1], argv[2], &hints, &res) != 0) {
        fprintf(stderr, "epmd_probe: cannot resolve %s\n", argv[1]);
        return 2;
    }
    memcpy(&target, res->ai_addr, res->ai_addrlen);
    target_len = res->ai_addrlen;
    freeaddrinfo(res);
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[16384];
    while (fgets(line, sizeof line, stdin)) {
        char cmd[32] = "", a[8192] = "", b[8192] = "";
        if (sscanf(line, "%31s %8191s %8191s", cmd, a, b) < 1 || cmd[0] == '#')
            continue;
        if (strcmp(cmd, "conn") == 0) {
            int i = find(a, 1);
            if (i < 0) {
                fprintf(stderr, "epmd_probe: more than %d connections\n", MAXC);
                return 2;
            }
            conns[i].fd = dial();
            if (conns[i].fd < 0)
                printf("%s: refused\n", a);
        } else if (strcmp(cmd, "send") == 0) {
            int i = find(a, 0);
            unsigned char buf[8192];
            size_t n = unhex(b, buf, sizeof buf);
            if (i < 0 || send(conns[i].fd, buf, n, MSG_NOSIGNAL) < 0)
                printf("%s: send failed\n", a);
        } else if (strcmp(cmd, "recv") == 0) {
            int i = find(a, 0);
            if (i >= 0)
                do_recv(i, atoi(b));
        } else if (strcmp(cmd, "recvall") == 0) {
            char pfx[32];
            int n, ms;
            if (sscanf(line, "%*s %31s %d %d", pfx, &n, &ms) != 3) {
                fprintf(stderr, "epmd_probe: bad recvall line\n");
                return 2;
            }
            do_recvall(pfx, n, ms);
        } else if (strcmp(cmd, "cdiff") == 0) {
            int i = find(a, 0), j = find(b, 0);
            if (i >= 0 && j >= 0)
                printf("cdiff %s %s: %ld\n", a, b,
                       conns[j].creation - conns[i].creation);
        } else if (strcmp(cmd, "creation") == 0) {
            int i = find(a, 0);
            long c = i >= 0 ? conns[i].creation : -1;
            long now = (long)time(NULL);
            if (i >= 0 && conns[i].v5)
                printf("%s: %s\n", a, c >= 1 && c <= 3 ? "1..3" : "bad");
            else if (c > now - 10 && c < now + 10)
                printf("%s: fresh\n", a);
            else
                printf("%s: %ld\n", a, c);
        } else if (strcmp(cmd, "reset") == 0 || strcmp(cmd, "close") == 0) {
            int i = find(a, 0);
            if (i >= 0 && conns[i].fd >= 0) {
                if (cmd[0] == 'r') {
                    struct linger l = {1, 0};
                    setsockopt(conns[i].fd, SOL_SOCKET, SO_LINGER, &l,
                               sizeof l);
                }
                close(conns[i].fd);
                conns[i].fd = -1;
            }
        } else if (strcmp(cmd, "sleep") == 0) {
            usleep((useconds_t)atoi(a) * 1000);
        } else if (strcmp(cmd, "hold") == 0) {
            do_hold(atoi(a), b);
        } else if (strcmp(cmd, "release") == 0) {
            for (int i = 0; i < nheld; i++)
                close(held[i]);
            nheld = 0;
        } else if (strcmp(cmd, "flood") == 0) {
            do_flood(atoi(a), b);
        } else if (strcmp(cmd, "echo") == 0) {
            printf("%s", line + 5);
        } else {
            fprintf(stderr, "epmd_probe: unknown command %s\n", cmd);
            return 2;
        }
    }
    for (int i = 0; i < nconns; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    for (int i = 0; i < nheld; i++)
        close(held[i]);
    free(held);
    return 0;
}
