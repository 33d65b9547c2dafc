/* mem.h: internal helpers that route allocations through an allocator. */
#ifndef EDIST_CORE_MEM_H
#define EDIST_CORE_MEM_H

#include <stddef.h>

#include "edist/mem.h"

/* Returns a usable allocator: a itself when fully set, else the default. */
const edist_allocator *edist_mem_resolve(const edist_allocator *a);

static inline void *edist_mem_alloc(const edist_allocator *a, size_t n)
{
    return a->malloc(n ? n : 1, a->ud);
}

static inline void *edist_mem_realloc(const edist_allocator *a, void *p,
                                      size_t n)
{
    return a->realloc(p, n ? n : 1, a->ud);
}

static inline void edist_mem_free(const edist_allocator *a, void *p)
{
    if (p)
        a->free(p, a->ud);
}

#endif
