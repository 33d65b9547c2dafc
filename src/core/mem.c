/* mem.c: the default allocator and allocator resolution. */
#include <stdlib.h>

#include "core/mem.h"

static void *mem_libc_malloc(size_t n, void *ud)
{
    (void)ud;
    return malloc(n);
}

static void *mem_libc_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    return realloc(p, n);
}

static void mem_libc_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

/* Read-only: a const object is not global mutable state. */
static const edist_allocator mem_libc = {mem_libc_malloc, mem_libc_realloc,
                                         mem_libc_free, NULL};

const edist_allocator *edist_default_allocator(void)
{
    return &mem_libc;
}

const edist_allocator *edist_mem_resolve(const edist_allocator *a)
{
    if (a && a->malloc && a->realloc && a->free)
        return a;
    return &mem_libc;
}
