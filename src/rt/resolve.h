/*
 * resolve.h: host names to socket addresses for the runtime's connects
 * (EPMD lookups and dials).
 */
#ifndef EDIST_RT_RESOLVE_H
#define EDIST_RT_RESOLVE_H

#include <stdint.h>
#include <sys/socket.h>

/* Fills *addr and *addrlen with host's address and port when host is an
 * IPv4 or IPv6 literal ("127.0.0.1", "::1"), without the resolver.
 * Returns 1 when it was one, 0 when host is a name for getaddrinfo(). */
int rt_numeric_addr(const char *host, uint16_t port,
                    struct sockaddr_storage *addr, socklen_t *addrlen);

#endif
