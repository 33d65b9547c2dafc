/*
 * random.c: CSPRNG helpers: the kernel's CSPRNG through getrandom(2), the
 * source OpenSSL's RAND_bytes seeds itself from.  Asking the kernel
 * directly keeps libcrypto untouched until a handshake needs MD5: its
 * initialisation (providers, DRBG, configuration) costs an idle node
 * megabytes of resident memory.
 */
#include <errno.h>
#include <sys/random.h>

#include "edist/cookie.h"
#include "edist/err.h"

int edist_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        /* Blocks only until the pool is initialised at boot; never
         * returns short for requests up to 256 bytes once it is. */
        ssize_t r = getrandom(p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return EDIST_ESYS;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int edist_random_challenge(uint32_t *out)
{
    unsigned char b[4];
    int rc = edist_random_bytes(b, sizeof b);
    if (rc < 0)
        return rc;
    *out = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
           b[3];
    return 0;
}
