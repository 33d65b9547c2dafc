/* funinfo.h: the fields of an opaque NEW_FUN_EXT that printing and term
 * order need. */
#ifndef EDIST_ETF_FUNINFO_H
#define EDIST_ETF_FUNINFO_H

#include <stddef.h>
#include <stdint.h>

#include "edist/term.h"

typedef struct fun_info {
    uint32_t old_index, old_uniq;
    size_t env_off; /* offset of the free variables in raw */
} fun_info;

/* Reads OldIndex, OldUniq and where the environment starts from
 * t->v.fun.raw; returns 0, or -1 (info then holds index and 0) when the
 * bytes are not a well-formed header.  Bounds-checked. */
int fun_info_get(const edist_term *t, fun_info *info);

#endif
