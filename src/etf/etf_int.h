/* etf_int.h: what the ETF reader, writer, decoder and encoder share. */
#ifndef EDIST_ETF_INT_H
#define EDIST_ETF_INT_H

#include <stddef.h>
#include <stdint.h>

#include "edist/etf.h"

/* Strings up to this length are written as STRING_EXT (erts external.c
 * MAX_STRING_LEN). */
#define ETF_MAX_STRING_LEN 0xFFFFu
/* Port numbers above 28 bits need V4_PORT_EXT (ERTS_MAX_V3_PORT_NUMBER). */
#define ETF_MAX_V3_PORT 0x0FFFFFFFu

/*
 * Skips one term at r like edist_etf_skip(), counting the terms it visits
 * into *terms (checked against max_terms) and setting *saw_cache_ref when
 * an ATOM_CACHE_REF occurs anywhere inside (funs carrying one must be
 * rebuilt before they can leave their message).  On error r stays put.
 */
int etf_skip_terms(edist_etf_reader *r, size_t max_terms, size_t *terms,
                   int *saw_cache_ref);

/* Reads the arity of an EXPORT_EXT: SMALL_INTEGER_EXT or INTEGER_EXT in
 * 0..255 (OTP accepts both); EDIST_EBADMSG otherwise. */
int etf_export_arity(edist_etf_reader *r, size_t *arity);

/* Bytes the atom takes in the writer's atom mode (flags), or a negative
 * code for text no atom can hold. */
long etf_atom_size(const char *utf8, size_t len, unsigned flags);

/* Bytes of an integer encoding (SMALL_INTEGER/INTEGER/SMALL_BIG). */
size_t etf_int_size(int64_t v);

/* Inflates a compressed term's body: src[0..len) is the zlib stream,
 * dst[0..dlen) must be filled exactly.  zlib's state is allocated in the
 * arena.  Returns the bytes of src consumed (> 0) or EDIST_EZLIB /
 * EDIST_ENOMEM / EDIST_EAGAIN (stream truncated). */
long etf_inflate(edist_arena *a, const uint8_t *src, size_t len, uint8_t *dst,
                 size_t dlen);

/* Makes room for n bytes in the writer (see edist_etf_room_). */
static inline uint8_t *etf_room(edist_etf_writer *w, size_t n)
{
    return edist_etf_room_(w, n);
}

#endif
