/* random.c: CSPRNG helpers (OpenSSL RAND_bytes, seeded by the OS). */
#include <limits.h>

#include <openssl/rand.h>

#include "edist/cookie.h"
#include "edist/err.h"

int edist_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        int chunk = n > INT_MAX ? INT_MAX : (int)n;
        if (RAND_bytes(p, chunk) != 1)
            return EDIST_ESYS;
        p += chunk;
        n -= (size_t)chunk;
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
