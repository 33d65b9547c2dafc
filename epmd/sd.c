/*
 * sd.c: systemd's socket activation and readiness notification, without
 * libsystemd.
 *
 * Both are small, documented and stable protocols that systemd invites
 * programs to implement themselves (sd_listen_fds(3), sd_notify(3)): the
 * sockets are inherited from fd 3 on, announced by LISTEN_PID (which must
 * be ours) and LISTEN_FDS; a notification is one datagram of
 * "KEY=VALUE\n" lines sent to the AF_UNIX socket named by NOTIFY_SOCKET
 * ('@' for the abstract namespace).  Linking libsystemd for these two
 * calls cost the daemon its dependency chain (libgcrypt, liblzma, libzstd,
 * liblz4, libcap: ~1 MB of RSS) and kept it from being linked statically.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "epmd.h"

/* A decimal environment value in 0..max, else -1. */
static long env_number(const char *name, long max)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return -1;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < 0 || n > max)
        return -1;
    return n;
}

int epmd_sd_listen_fds(void)
{
    /* PIDs go up to pid_max, 4194304 on Debian's systemd hosts. */
    long pid = env_number("LISTEN_PID", INT_MAX);
    long n = env_number("LISTEN_FDS", INT_MAX - EPMD_SD_LISTEN_FDS_START);
    if (pid < 0 || n < 0)
        return 0;
    if ((pid_t)pid != getpid())
        return 0; /* meant for another process (a parent's leftover) */
    for (long i = 0; i < n; i++) {
        int fd = EPMD_SD_LISTEN_FDS_START + (int)i;
        if (fcntl(fd, F_GETFD) < 0)
            return -EBADF;
    }
    return (int)n;
}

int epmd_sd_notify(const char *fmt, ...)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return 0;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t len = strlen(path);
    /* A path needs its terminating NUL in sun_path; an abstract name
     * ('@' becomes the leading NUL) is counted by the address length. */
    if ((path[0] != '/' && path[0] != '@') ||
        len > sizeof sa.sun_path - (path[0] == '/'))
        return -EINVAL;
    memcpy(sa.sun_path, path, len);
    if (path[0] == '@')
        sa.sun_path[0] = '\0'; /* the abstract namespace */
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t)m >= sizeof msg)
        return -EINVAL;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    ssize_t w =
        sendto(fd, msg, (size_t)m, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
    int e = errno;
    close(fd);
    return w == m ? 1 : -e;
}
