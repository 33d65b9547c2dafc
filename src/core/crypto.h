/*
 * crypto.h: the handshake's MD5, taken from libcrypto loaded on first use,
 * and the two primitives the library used to borrow from OpenSSL (a
 * constant-time comparison and a wipe that the compiler cannot drop).
 *
 * libcrypto is not linked: mapping and relocating it costs an idle node
 * about 1.4 MB of RSS, more than everything else the node touches.  The
 * first digest dlopen()s it (RTLD_NODELETE, so it stays once loaded) and
 * every later digest finds it already there.
 */
#ifndef EDIST_CORE_CRYPTO_H
#define EDIST_CORE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* MD5(a ++ b) into out, computed by libcrypto's EVP_Digest.  a and b are
 * borrowed.  Returns 0, or EDIST_ESYS when libcrypto cannot be loaded or
 * fails.  Thread-safe (the loader serialises the first load). */
int edist_md5_2(const void *a, size_t alen, const void *b, size_t blen,
                uint8_t out[16]);

/* Compares n bytes in time independent of their contents.  Returns 0 when
 * equal, non-zero otherwise. */
int edist_ct_memcmp(const void *a, const void *b, size_t n);

/* Overwrites n bytes with zeros in a way the optimiser keeps. */
void edist_cleanse(void *p, size_t n);

#endif
