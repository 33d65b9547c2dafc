/*
 * edist/mem.h: allocator hooks.
 *
 * There is no process-wide allocator setting (no global mutable state):
 * objects that allocate take an optional `const edist_allocator *` in their
 * options.  NULL, or a zeroed struct, means the C library's malloc family.
 * The struct is borrowed: it must outlive every object created with it.
 *
 * The hooks exist so that tests can fail the Nth allocation (OOM sweeps) and
 * so that embedders can account for memory.
 */
#ifndef EDIST_MEM_H
#define EDIST_MEM_H

#include <stddef.h>

#include "edist/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct edist_allocator {
    /* Like malloc/realloc/free, with ud passed back.  malloc(0) may return
     * NULL or a unique pointer; free(NULL) must be a no-op.  Either all
     * three are set or all three are NULL. */
    void *(*malloc)(size_t size, void *ud);
    void *(*realloc)(void *ptr, size_t size, void *ud);
    void (*free)(void *ptr, void *ud);
    void *ud;
} edist_allocator;

/* The library's default allocator (the C library's); static storage. */
EDIST_EXTERN const edist_allocator *edist_default_allocator(void);

#ifdef __cplusplus
}
#endif
#endif
