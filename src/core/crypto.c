/*
 * crypto.c: MD5 from libcrypto loaded at the first digest (see crypto.h).
 *
 * Nothing is cached in the library: each digest dlopen()s libcrypto by
 * its SONAME and dlclose()s it again.  The first call loads it with
 * RTLD_NODELETE, so later calls only find the loaded object (about a
 * microsecond, against the network round trips of a handshake) and the
 * library keeps no global state of its own.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "edist/err.h"

/* OpenSSL 3's libcrypto (the version CMakeLists.txt requires). */
#define CRYPTO_SONAME "libcrypto.so.3"

/* libcrypto's entry points, with OpenSSL's signatures (EVP_MD and ENGINE
 * are opaque to us).  MD5() is the low-level one-shot digest: unlike
 * EVP_Digest it does not initialise OpenSSL 3's provider machinery, which
 * made a connected node 2 MB larger (RSS 5.8 MB against 3.8 MB, measured
 * on an idle `edist node` with one peer).  It is deprecated in OpenSSL 3's
 * headers but exported; EVP_Digest is the fallback should it go away. */
typedef unsigned char *(*md5_fn)(const unsigned char *d, size_t n,
                                 unsigned char *md);
typedef const void *(*evp_md5_fn)(void);
typedef int (*evp_digest_fn)(const void *data, size_t count, unsigned char *md,
                             unsigned int *size, const void *type, void *impl);

int edist_md5_2(const void *a, size_t alen, const void *b, size_t blen,
                uint8_t out[16])
{
    if (alen > SIZE_MAX - blen)
        return EDIST_ESYS;
    void *h = dlopen(CRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!h)
        return EDIST_ESYS;
    /* dlsym returns data pointers; POSIX guarantees the conversion. */
    md5_fn oneshot;
    evp_md5_fn md5;
    evp_digest_fn digest;
    void *s0 = dlsym(h, "MD5");
    void *s1 = dlsym(h, "EVP_md5"), *s2 = dlsym(h, "EVP_Digest");
    memcpy(&oneshot, &s0, sizeof oneshot);
    memcpy(&md5, &s1, sizeof md5);
    memcpy(&digest, &s2, sizeof digest);
    int rc = EDIST_ESYS;
    uint8_t stack[512];
    size_t len = alen + blen;
    uint8_t *buf = len <= sizeof stack ? stack : malloc(len);
    if ((s0 || (s1 && s2)) && buf) {
        if (alen)
            memcpy(buf, a, alen);
        if (blen)
            memcpy(buf + alen, b, blen);
        if (s0) {
            if (oneshot(buf, len, out) == out)
                rc = 0;
        } else {
            unsigned int olen = 0;
            const void *type = md5();
            if (type && digest(buf, len, out, &olen, type, NULL) == 1 &&
                olen == 16)
                rc = 0;
        }
        edist_cleanse(buf, len); /* it held the cookie */
    }
    if (buf && buf != stack)
        free(buf);
    dlclose(h);
    return rc;
}

int edist_ct_memcmp(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (uint8_t)(x[i] ^ y[i]);
    return d;
}

void edist_cleanse(void *p, size_t n)
{
    /* glibc's explicit_bzero is documented to survive optimisation. */
    if (n)
        explicit_bzero(p, n);
}
