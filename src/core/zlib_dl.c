/* zlib_dl.c: zlib loaded on use, or linked (see zlib_dl.h). */
#include <string.h>

#include "core/zlib_dl.h"
#include "edist/err.h"

#ifdef EDIST_ZLIB_DIRECT
/* The archive for statically linked programs: zlib is linked in (a static
 * program cannot dlopen it without mapping a second libc), and the linker
 * keeps its code apart from the idle code, so it costs no RSS until used. */
int edist_zlib_open(edist_zlib *z)
{
    memset(z, 0, sizeof *z);
    z->deflate_init = deflateInit_;
    z->deflate = deflate;
    z->deflate_end = deflateEnd;
    z->inflate_init = inflateInit_;
    z->inflate = inflate;
    z->inflate_end = inflateEnd;
    return 0;
}

void edist_zlib_close(edist_zlib *z)
{
    (void)z;
}
#else
#include <dlfcn.h>

#define ZLIB_SONAME "libz.so.1"

/* dlsym returns data pointers; POSIX guarantees the conversion. */
static int zsym(void *h, const char *name, void *fnp, size_t size)
{
    void *s = dlsym(h, name);
    if (!s)
        return -1;
    memcpy(fnp, &s, size);
    return 0;
}

int edist_zlib_open(edist_zlib *z)
{
    memset(z, 0, sizeof *z);
    z->h = dlopen(ZLIB_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!z->h)
        return EDIST_EZLIB;
    if (zsym(z->h, "deflateInit_", &z->deflate_init, sizeof z->deflate_init) <
            0 ||
        zsym(z->h, "deflate", &z->deflate, sizeof z->deflate) < 0 ||
        zsym(z->h, "deflateEnd", &z->deflate_end, sizeof z->deflate_end) < 0 ||
        zsym(z->h, "inflateInit_", &z->inflate_init, sizeof z->inflate_init) <
            0 ||
        zsym(z->h, "inflate", &z->inflate, sizeof z->inflate) < 0 ||
        zsym(z->h, "inflateEnd", &z->inflate_end, sizeof z->inflate_end) < 0) {
        dlclose(z->h);
        z->h = NULL;
        return EDIST_EZLIB;
    }
    return 0;
}

void edist_zlib_close(edist_zlib *z)
{
    if (z->h)
        dlclose(z->h);
    z->h = NULL;
}
#endif
