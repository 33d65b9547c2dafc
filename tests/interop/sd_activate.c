/*
 * sd_activate.c: what systemd does for a socket-activated service, for
 * edist-epmd's -systemd test on machines without systemd: it listens on
 * 127.0.0.1:PORT, passes that socket as fd 3 with LISTEN_FDS=1 and
 * LISTEN_PID set to the service's pid, and collects the service's
 * sd_notify datagrams on a unix socket (NOTIFY_SOCKET: a path, or "@name"
 * in the abstract namespace), appending each to LOG.  It exits with the
 * service's status once the service is gone.
 *
 * usage: sd_activate PORT NOTIFY_PATH LOG CMD [ARG...]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop_asked;

static void on_term(int sig)
{
    (void)sig;
    stop_asked = 1;
}

/* Appends one notification to log, waiting up to ms for it; returns 1 when
 * there was one. */
static int drain(int nfd, FILE *log, int ms)
{
    struct pollfd p = {.fd = nfd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0)
        return 0;
    char msg[1024];
    ssize_t r = recv(nfd, msg, sizeof msg - 1, 0);
    if (r <= 0)
        return 0;
    msg[r] = '\0';
    fprintf(log, "%s\n--\n", msg);
    fflush(log);
    return 1;
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(fd, 64) != 0) {
        perror("sd_activate: listen");
        exit(1);
    }
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: sd_activate PORT NOTIFY_PATH LOG CMD...\n");
        return 2;
    }
    struct sockaddr_un un;
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    size_t plen = strlen(argv[2]);
    if (plen >= sizeof un.sun_path) {
        fprintf(stderr, "sd_activate: notify path too long: %s\n", argv[2]);
        return 2;
    }
    memcpy(un.sun_path, argv[2], plen);
    /* "@name" is a name in the abstract namespace, as systemd writes it. */
    int abstract = argv[2][0] == '@';
    if (abstract)
        un.sun_path[0] = '\0';
    else
        unlink(argv[2]);
    socklen_t unlen =
        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + !abstract);
    int nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (nfd < 0 || bind(nfd, (struct sockaddr *)&un, unlen) != 0) {
        perror("sd_activate: notify socket");
        return 1;
    }
    int lfd = listen_on(atoi(argv[1]));
    FILE *log = fopen(argv[3], "ae"); /* close-on-exec: not the service's */
    if (!log) {
        perror("sd_activate: log");
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("sd_activate: fork");
        return 1;
    }
    if (pid == 0) {
        if (lfd != 3) {
            dup2(lfd, 3);
            close(lfd);
        }
        char buf[32];
        snprintf(buf, sizeof buf, "%d", (int)getpid());
        setenv("LISTEN_PID", buf, 1);
        setenv("LISTEN_FDS", "1", 1);
        setenv("NOTIFY_SOCKET", argv[2], 1);
        execvp(argv[4], argv + 4);
        perror("sd_activate: exec");
        _exit(127);
    }
    close(lfd);
    /* Stopping us stops the service, as stopping a unit would: a test that
     * fails and kills what it started leaves nothing behind. */
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    int forwarded = 0;
    for (;;) {
        if (stop_asked && !forwarded) {
            kill(pid, SIGTERM);
            forwarded = 1;
        }
        if (drain(nfd, log, 100))
            continue;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            /* What it sent just before exiting is still queued. */
            while (drain(nfd, log, 0))
                ;
            if (!abstract)
                unlink(argv[2]);
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
    }
}
