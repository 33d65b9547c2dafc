/*
 * failalloc.h: an allocator for out-of-memory sweeps (after nghttp2's
 * failmalloc): it lets failalloc_left allocations succeed, then fails every
 * one after, and counts the blocks alive so that a sweep can check that a
 * failed operation gave back everything it took.
 *
 *     for (long n = 0;; n++) {
 *         failalloc_left = n;
 *         failalloc_live = 0;
 *         int rc = operation(&failalloc);   // uses the allocator
 *         if (rc == 0) break;
 *         assert_int_equal(rc, EDIST_ENOMEM);
 *         assert_int_equal(failalloc_live, 0);
 *     }
 *
 * One copy per test program (the counters are static): include it from
 * test files only.
 */
#ifndef EDIST_TEST_FAILALLOC_H
#define EDIST_TEST_FAILALLOC_H

#include <stdlib.h>

#include "edist/mem.h"

static long failalloc_left;
static long failalloc_live;

static void *failalloc_malloc(size_t n, void *ud)
{
    (void)ud;
    if (failalloc_left-- <= 0)
        return NULL;
    failalloc_live++;
    return malloc(n);
}

static void *failalloc_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    if (failalloc_left-- <= 0)
        return NULL;
    if (!p)
        failalloc_live++;
    return realloc(p, n);
}

static void failalloc_free(void *p, void *ud)
{
    (void)ud;
    if (p)
        failalloc_live--;
    free(p);
}

static const edist_allocator failalloc = {failalloc_malloc, failalloc_realloc,
                                          failalloc_free, NULL};

#endif
