/*
 * floor_server: the least any port mapper can do per request, to measure
 * the ceiling a real one can reach on this machine (not a test, and not an
 * EPMD: it answers every request with the same PORT2_RESP for "n0").
 * Blocking accept, one read, one 16-byte reply, close: no parsing, no
 * registry, no event loop.  A daemon's rate divided by this one's says how
 * much of the time is the daemon's own.
 *
 * usage: floor_server PORT     (listens on 127.0.0.1:PORT until killed)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 4096) != 0)
        return 1;
    /* PORT2_RESP: found, port 5555, type 77, proto 0, vsn 6..5, "n0". */
    static const unsigned char reply[] = {119, 0, 0x15, 0xb3, 77,  0,   0, 6,
                                          0,   5, 0,    2,    'n', '0', 0, 0};
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0)
            continue;
        char buf[512];
        if (read(c, buf, sizeof buf) > 0 &&
            write(c, reply, sizeof reply) != (ssize_t)sizeof reply) {
            /* Nothing to do: the client counts the failure. */
        }
        close(c);
    }
}
