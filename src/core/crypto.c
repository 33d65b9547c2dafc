/*
 * crypto.c: the handshake's MD5 from libcrypto, linked statically (see
 * crypto.h for why), and two small primitives.
 *
 * Only the low-level MD5_Init/MD5_Update/MD5_Final are called: they live
 * in one object of libcrypto.a (plus its assembler block function), so a
 * static link pulls in about 20 KiB of code.  MD5() one-shot would not do:
 * in OpenSSL 3 it goes through EVP_Q_digest, which drags the provider
 * machinery into the link and initialises it at run time.  The low-level
 * calls are deprecated in OpenSSL 3's headers but exported and supported.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/md5.h>
#include <string.h>

#include "core/crypto.h"
#include "edist/err.h"

int edist_md5_2(const void *a, size_t alen, const void *b, size_t blen,
                uint8_t out[16])
{
    MD5_CTX c;
    int ok = MD5_Init(&c) == 1 && (!alen || MD5_Update(&c, a, alen) == 1) &&
             (!blen || MD5_Update(&c, b, blen) == 1) && MD5_Final(out, &c) == 1;
    /* The context's block buffer may still hold cookie bytes. */
    edist_cleanse(&c, sizeof c);
    return ok ? 0 : EDIST_ESYS;
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
