/*
 * crypto.h: the handshake's MD5, libcrypto's implementation, and the two
 * primitives the library used to borrow from OpenSSL (a constant-time
 * comparison and a wipe that the compiler cannot drop).
 *
 * libcrypto is linked statically when libcrypto.a is installed (Debian's
 * libssl-dev ships it; src/CMakeLists.txt falls back to the shared library
 * otherwise): mapping and relocating libcrypto.so.3 costs a node about
 * 1.5 MB of RSS, for one hash function of a few kilobytes.  libedist.so
 * does not re-export the archive's symbols (--exclude-libs), so a program
 * that also links libcrypto.so has no clash.
 */
#ifndef EDIST_CORE_CRYPTO_H
#define EDIST_CORE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* MD5(a ++ b) into out, computed by libcrypto's MD5_Init/Update/Final.
 * a and b are borrowed; no copy of them is kept (the hash context is wiped
 * before returning, since a is the cookie).  Returns 0, or EDIST_ESYS when
 * libcrypto reports a failure.  Thread-safe (no shared state). */
int edist_md5_2(const void *a, size_t alen, const void *b, size_t blen,
                uint8_t out[16]);

/* Compares n bytes in time independent of their contents.  Returns 0 when
 * equal, non-zero otherwise. */
int edist_ct_memcmp(const void *a, const void *b, size_t n);

/* Overwrites n bytes with zeros in a way the optimiser keeps. */
void edist_cleanse(void *p, size_t n);

#endif
