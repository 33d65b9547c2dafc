/*
 * resolve.c: literal addresses without the resolver.
 *
 * A node name that carries an address (name@10.0.0.5, the usual form with
 * -name in containers and tests) needs no resolver.  glibc's getaddrinfo()
 * makes no system call for a literal either, but the code it runs makes
 * pages of text resident: measured, a node in a mesh of 20 edist nodes
 * named by address is ~75 KiB smaller without it (1755-1765 against
 * 1833-1841 KiB Rss, the same binary).
 */
#include "rt/resolve.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

int rt_numeric_addr(const char *host, uint16_t port,
                    struct sockaddr_storage *addr, socklen_t *addrlen)
{
    memset(addr, 0, sizeof *addr);
    struct sockaddr_in *s4 = (struct sockaddr_in *)addr;
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        *addrlen = sizeof *s4;
        return 1;
    }
    /* A scoped address (fe80::1%eth0) fails here and goes to the
     * resolver, which knows the interface names. */
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)addr;
    if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        *addrlen = sizeof *s6;
        return 1;
    }
    return 0;
}
