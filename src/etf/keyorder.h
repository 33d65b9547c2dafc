/* keyorder.h: map keys in exact term order, for comparing maps (compare.c),
 * printing them (print.c, pretty.c) and building them (parse.c). */
#ifndef EDIST_ETF_KEYORDER_H
#define EDIST_ETF_KEYORDER_H

#include <stddef.h>

#include "edist/term.h"

/* Fills idx[0..n) with the indices of n keys in exact term order (see
 * edist_term_compare_exact; equal keys keep their order).  Key i is
 * keys[i * stride]: 1 for a key array, 2 for interleaved key-value pairs.
 * tmp is scratch for n indices.  Recursion depth is log2(n). */
void term_key_order(const edist_term *keys, size_t stride, size_t *idx,
                    size_t *tmp, size_t n);

#endif
