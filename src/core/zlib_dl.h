/*
 * zlib_dl.h: zlib, loaded when a term is compressed or decompressed.
 *
 * Like libcrypto (crypto.h), zlib is not linked: most nodes never see a
 * compressed term, and mapping the library costs an idle node about
 * 80 KiB of RSS.  Each user opens it for one operation; the first open
 * loads it (RTLD_NODELETE), later ones find it loaded.  The archive that
 * statically linked programs use is built with EDIST_ZLIB_DIRECT: zlib is
 * linked in and "opening" it only fills in the pointers.
 */
#ifndef EDIST_CORE_ZLIB_DL_H
#define EDIST_CORE_ZLIB_DL_H

#include <zlib.h>

typedef struct edist_zlib {
    void *h;
    int (*deflate_init)(z_streamp, int, const char *, int);
    int (*deflate)(z_streamp, int);
    int (*deflate_end)(z_streamp);
    int (*inflate_init)(z_streamp, const char *, int);
    int (*inflate)(z_streamp, int);
    int (*inflate_end)(z_streamp);
} edist_zlib;

/* Loads zlib into *z.  Returns 0, or EDIST_EZLIB when it cannot be loaded
 * (then nothing needs closing).  Thread-safe. */
int edist_zlib_open(edist_zlib *z);

/* Releases what edist_zlib_open took. */
void edist_zlib_close(edist_zlib *z);

#endif
