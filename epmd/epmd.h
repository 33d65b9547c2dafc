/*
 * epmd.h: internal interfaces of edist-epmd (not installed).
 *
 *   main.c      command line (OTP's flags, parsed as OTP does), -daemon,
 *               interactive client modes (-names, -dump, -kill, -stop,
 *               -started)
 *   server.c    the libuv loop: listeners, per-connection packet assembly,
 *               requests, replies, packet timeout
 *   listen.c    listening sockets (-address, IPv4/IPv6, -systemd)
 *   sd.c        systemd's socket activation and notification protocols
 *   access.c    who counts as local, the -restrict_names allowlist
 *   log.c       OTP-style debug log (stderr, or syslog when daemonised)
 *   registry.c  the node table (pure)
 */
#ifndef EDIST_EPMD_EPMD_H
#define EDIST_EPMD_EPMD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define EPMD_MAX_LISTEN 16
#define EPMD_MAX_ALLOW  64
#define EPMD_INBUF      3060 /* OTP's INBUF_SIZE (3 * 1020) */
/* Connections open at once from non-local peers (server.c); local peers
 * are bounded by the descriptor limit only.  OTP's epmd holds about 1017
 * connections in all. */
#define EPMD_MAX_REMOTE_CONNS 1024
#define EPMD_IDLE_DEFAULT     60 /* OTP's CLOSE_TIMEOUT */

/* One entry of the -restrict_names allowlist: an address and a prefix. */
typedef struct epmd_allow {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    int prefix; /* bits */
} epmd_allow;

typedef struct epmd_config {
    int port;
    int debug;
    int daemon;
    int relaxed;
    int packet_timeout;    /* seconds */
    int delay_accept;      /* seconds slept before accepting (test knob) */
    int delay_write;       /* seconds slept before each reply (test knob) */
    const char *addresses; /* -address / ERL_EPMD_ADDRESS; NULL = any */
    int systemd;
    /* Beyond OTP: answer NAMES and PORT_PLEASE2 only to local peers and
     * to the allowlist. */
    int restrict_names;
    epmd_allow allow[EPMD_MAX_ALLOW];
    int nallow;
} epmd_config;

/* Runs the daemon until KILL or SIGTERM/SIGINT; returns the exit code. */
int epmd_server_run(const epmd_config *cfg);

/* ---- log.c ---- */
/* Level 0 messages always print (as in OTP); others need -d at least
 * `level` times.  Once daemonised they go to syslog. */
void epmd_log(const epmd_config *cfg, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- access.c ---- */
/* True when the accepted peer is local by OTP's rule: 127.0.0.0/8, ::1, or
 * the same address as the socket's own end. */
int epmd_peer_is_local(int fd, const struct sockaddr *peer);
/* True when peer matches an allowlist entry. */
int epmd_peer_allowed(const epmd_config *cfg, const struct sockaddr *peer);
/* Parses "ADDR[/PREFIX],..." (commas or spaces) into cfg's allowlist.
 * "" and "local" add nothing (local peers only).  Returns 0 or -1. */
int epmd_parse_allowlist(epmd_config *cfg, const char *list);

/* ---- listen.c ---- */
/*
 * Opens the listening sockets cfg asks for.  Returns the number of fds in
 * fds (>= 1), 0 when the port is taken (OTP exits 0 then), or -1 on a
 * fatal error (already logged).
 */
int epmd_listen(const epmd_config *cfg, int fds[EPMD_MAX_LISTEN]);

/* The first descriptor systemd passes (sd-daemon.h's SD_LISTEN_FDS_START). */
#define EPMD_SD_LISTEN_FDS_START 3

/* sd_listen_fds(0): how many sockets systemd passed from fd 3 on (0 when
 * LISTEN_PID/LISTEN_FDS are absent or meant for another process), or
 * -EBADF when one of them is not open.  The variables are left as they
 * are. */
int epmd_sd_listen_fds(void);

/* sd_notify(0, ...): sends the printf-formatted "KEY=VALUE\n" lines to
 * NOTIFY_SOCKET.  Returns 1 when sent, 0 when there is no NOTIFY_SOCKET,
 * or a negative errno. */
int epmd_sd_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
