/*
 * access.c: who may ask what.
 *
 * OTP's rule for "local" (ALIVE2, DUMP, KILL and STOP) is reproduced
 * exactly: the peer is in 127.0.0.0/8, is ::1, or has the same address as
 * our end of the socket (a process on this host dialling one of its
 * external addresses).  The allowlist is edist's opt-in extension that
 * also restricts NAMES and PORT_PLEASE2.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "epmd.h"

int epmd_peer_is_local(int fd, const struct sockaddr *peer)
{
    if (peer->sa_family == AF_INET) {
        const struct sockaddr_in *p = (const struct sockaddr_in *)peer;
        if ((ntohl(p->sin_addr.s_addr) & 0xFF000000U) == 0x7F000000U)
            return 1;
    } else if (peer->sa_family == AF_INET6) {
        const struct sockaddr_in6 *p = (const struct sockaddr_in6 *)peer;
        if (IN6_IS_ADDR_LOOPBACK(&p->sin6_addr))
            return 1;
    } else {
        return 0;
    }
    struct sockaddr_storage me;
    socklen_t ml = sizeof me;
    if (getsockname(fd, (struct sockaddr *)&me, &ml) != 0 ||
        me.ss_family != peer->sa_family)
        return 0;
    if (peer->sa_family == AF_INET)
        return ((const struct sockaddr_in *)peer)->sin_addr.s_addr ==
               ((struct sockaddr_in *)&me)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)peer)->sin6_addr,
                  &((struct sockaddr_in6 *)&me)->sin6_addr,
                  sizeof(struct in6_addr)) == 0;
}

static int prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
    int full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xFF << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

int epmd_peer_allowed(const epmd_config *cfg, const struct sockaddr *peer)
{
    const uint8_t *addr;
    uint8_t mapped[4];
    int family = peer->sa_family;
    if (family == AF_INET) {
        addr = (const uint8_t *)&((const struct sockaddr_in *)peer)->sin_addr;
    } else if (family == AF_INET6) {
        const struct in6_addr *a6 =
            &((const struct sockaddr_in6 *)peer)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            memcpy(mapped, a6->s6_addr + 12, 4);
            addr = mapped;
            family = AF_INET;
        } else {
            addr = a6->s6_addr;
        }
    } else {
        return 0;
    }
    for (int i = 0; i < cfg->nallow; i++) {
        const epmd_allow *e = &cfg->allow[i];
        if (e->family == family && prefix_match(e->addr, addr, e->prefix))
            return 1;
    }
    return 0;
}

int epmd_parse_allowlist(epmd_config *cfg, const char *list)
{
    char *copy = strdup(list ? list : "");
    if (!copy)
        return -1;
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ", ", &save); tok;
         tok = strtok_r(NULL, ", ", &save)) {
        if (strcmp(tok, "local") == 0)
            continue;
        if (cfg->nallow >= EPMD_MAX_ALLOW) {
            rc = -1;
            break;
        }
        epmd_allow *e = &cfg->allow[cfg->nallow];
        char *slash = strchr(tok, '/');
        long prefix = -1;
        if (slash) {
            char *end;
            *slash = 0;
            prefix = strtol(slash + 1, &end, 10);
            if (*end || slash[1] == 0 || prefix < 0) {
                rc = -1;
                break;
            }
        }
        if (inet_pton(AF_INET6, tok, e->addr) == 1) {
            e->family = AF_INET6;
            if (prefix < 0)
                prefix = 128;
        } else if (inet_pton(AF_INET, tok, e->addr) == 1) {
            e->family = AF_INET;
            if (prefix < 0)
                prefix = 32;
        } else {
            rc = -1;
            break;
        }
        if (prefix > (e->family == AF_INET ? 32 : 128)) {
            rc = -1;
            break;
        }
        e->prefix = (int)prefix;
        cfg->nallow++;
    }
    free(copy);
    return rc;
}
