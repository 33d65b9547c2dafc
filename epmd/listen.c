/*
 * listen.c: the listening sockets, chosen as OTP's epmd chooses them.
 *
 *  - Default: 0.0.0.0:port and [::]:port (IPV6_V6ONLY).  Unlike OTP, a
 *    failure of the IPv6 socket (other than "port in use") is not fatal, so
 *    that the daemon keeps working on hosts with IPv6 disabled.
 *  - -address LIST / ERL_EPMD_ADDRESS: 127.0.0.1 and ::1 first (their
 *    failures are not fatal), then every listed address (loopback ones are
 *    skipped as duplicates); fewer than 16 sockets, as OTP counts them
 *    (so at most 13 further addresses); a token that is not an
 *    address literal is fatal.
 *  - -systemd: the sockets systemd passes (sd_listen_fds; sd.c), 1 to 16.
 *  - "Address in use" on any socket means another epmd runs: OTP exits 0
 *    then, and so do we (erl's own "epmd -daemon" relies on it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "epmd.h"

typedef struct want {
    struct sockaddr_storage sa;
    socklen_t len;
    int nonfatal;
} want;

static void set4(want *w, uint32_t addr_be, int port, int nonfatal)
{
    struct sockaddr_in *s = (struct sockaddr_in *)&w->sa;
    memset(w, 0, sizeof *w);
    s->sin_family = AF_INET;
    s->sin_addr.s_addr = addr_be;
    s->sin_port = htons((uint16_t)port);
    w->len = sizeof *s;
    w->nonfatal = nonfatal;
}

static void set6(want *w, const struct in6_addr *a, int port, int nonfatal)
{
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&w->sa;
    memset(w, 0, sizeof *w);
    s->sin6_family = AF_INET6;
    s->sin6_addr = *a;
    s->sin6_port = htons((uint16_t)port);
    w->len = sizeof *s;
    w->nonfatal = nonfatal;
}

static const char *ntop(const want *w, char *buf, size_t n)
{
    const void *a =
        w->sa.ss_family == AF_INET6
            ? (const void *)&((struct sockaddr_in6 *)&w->sa)->sin6_addr
            : (const void *)&((struct sockaddr_in *)&w->sa)->sin_addr;
    return inet_ntop(w->sa.ss_family, a, buf, (socklen_t)n);
}

/* Fills ws from the address list; returns the count or -1 (logged). */
static int plan(const epmd_config *cfg, want ws[EPMD_MAX_LISTEN])
{
    int n = 0;
    const char *list = cfg->addresses;
    if (!list || list[strspn(list, " ,")] == 0) {
        set4(&ws[n++], htonl(INADDR_ANY), cfg->port, 0);
        set6(&ws[n++], &in6addr_any, cfg->port, 1);
        return n;
    }
    set4(&ws[n++], htonl(INADDR_LOOPBACK), cfg->port, 1);
    set6(&ws[n++], &in6addr_loopback, cfg->port, 1);
    char *copy = strdup(list);
    if (!copy)
        return -1;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ", ", &save); tok;
         tok = strtok_r(NULL, ", ", &save)) {
        struct in6_addr a6;
        struct in_addr a4;
        if (inet_pton(AF_INET6, tok, &a6) == 1) {
            if (IN6_IS_ADDR_LOOPBACK(&a6))
                continue;
            set6(&ws[n++], &a6, cfg->port, 0);
        } else if (inet_pton(AF_INET, tok, &a4) == 1) {
            if (a4.s_addr == htonl(INADDR_LOOPBACK))
                continue;
            set4(&ws[n++], a4.s_addr, cfg->port, 0);
        } else {
            epmd_log(cfg, 0, "cannot parse IP address \"%s\"", tok);
            free(copy);
            return -1;
        }
        /* OTP counts the two loopback sockets and refuses a 16th socket,
         * so at most 13 further addresses. */
        if (n >= EPMD_MAX_LISTEN)
            goto too_many;
    }
    free(copy);
    return n;
too_many:
    epmd_log(cfg, 0, "cannot listen on more than %d IP addresses",
             EPMD_MAX_LISTEN);
    free(copy);
    return -1;
}

static int from_systemd(const epmd_config *cfg, int fds[EPMD_MAX_LISTEN])
{
    int n = epmd_sd_listen_fds();
    if (n < 0) {
        epmd_log(cfg, 0, "cannot obtain sockets from systemd: %s",
                 strerror(-n));
        return -1;
    }
    if (n == 0) {
        epmd_log(cfg, 0, "systemd provides no sockets");
        return -1;
    }
    if (n > EPMD_MAX_LISTEN) {
        epmd_log(cfg, 0, "cannot listen on more than %d IP addresses",
                 EPMD_MAX_LISTEN);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        fds[i] = EPMD_SD_LISTEN_FDS_START + i;
        int fl = fcntl(fds[i], F_GETFL, 0);
        fcntl(fds[i], F_SETFL, fl | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    return n;
}

int epmd_listen(const epmd_config *cfg, int fds[EPMD_MAX_LISTEN])
{
    if (cfg->systemd)
        return from_systemd(cfg, fds);
    want ws[EPMD_MAX_LISTEN];
    int n = plan(cfg, ws);
    if (n < 0)
        return -1;
    int bound = 0;
    char name[INET6_ADDRSTRLEN];
    for (int i = 0; i < n; i++) {
        int fam = ws[i].sa.ss_family;
        int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            if (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)
                continue;
            epmd_log(cfg, 0, "error opening stream socket: %s",
                     strerror(errno));
            goto fatal;
        }
        int one = 1;
        if (fam == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&ws[i].sa, ws[i].len) < 0) {
            int e = errno;
            close(fd);
            if (e == EADDRINUSE) {
                epmd_log(cfg, 1,
                         "there is already a epmd running at port %d on "
                         "ipaddr %s",
                         cfg->port, ntop(&ws[i], name, sizeof name));
                while (bound > 0)
                    close(fds[--bound]);
                return 0;
            }
            epmd_log(cfg, ws[i].nonfatal ? 1 : 0,
                     "failed to bind on ipaddr %s: %s",
                     ntop(&ws[i], name, sizeof name), strerror(e));
            if (ws[i].nonfatal)
                continue;
            goto fatal;
        }
        if (listen(fd, SOMAXCONN) < 0) {
            epmd_log(cfg, 0, "failed to listen on ipaddr %s: %s",
                     ntop(&ws[i], name, sizeof name), strerror(errno));
            close(fd);
            goto fatal;
        }
        fds[bound++] = fd;
    }
    if (bound == 0) {
        epmd_log(cfg, 0, "unable to bind any address");
        return -1;
    }
    return bound;
fatal:
    while (bound > 0)
        close(fds[--bound]);
    return -1;
}
