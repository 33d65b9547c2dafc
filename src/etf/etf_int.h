/* etf_int.h: what the ETF reader, writer, decoder and encoder share. */
#ifndef EDIST_ETF_INT_H
#define EDIST_ETF_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/wire.h"
#include "edist/err.h"
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

/* Reads a SMALL_INTEGER_EXT or INTEGER_EXT, where OTP wants nothing else
 * (an export's arity, a fun's OldIndex and OldUniq): any other tag is
 * EDIST_EBADMSG.  On error r stays put. */
int etf_read_small_int(edist_etf_reader *r, int64_t *v);

/* Reads the arity of an EXPORT_EXT: SMALL_INTEGER_EXT or INTEGER_EXT in
 * 0..255 (OTP accepts both); EDIST_EBADMSG otherwise. */
int etf_export_arity(edist_etf_reader *r, size_t *arity);

/* Reads an atom at r, converting Latin-1 into scratch (2 * 255 bytes);
 * edist_etf_read_atom() with a choice of scratch. */
int etf_read_atom_in(edist_etf_reader *r, edist_atom *out, char *scratch);

/* Value of a bignum's magnitude if it fits 64 bits: returns 1 and sets
 * *mag, or 0 when it does not fit.  end bounds the readable bytes: when 8
 * bytes can be read from d, one load does instead of a loop. */
static inline int etf_big_mag64(const uint8_t *d, size_t n, const uint8_t *end,
                                uint64_t *mag)
{
    while (n > 8 && d[n - 1] == 0)
        n--;
    if (n > 8)
        return 0;
    uint64_t m = 0;
    if (n && (size_t)(end - d) >= 8) {
        m = (uint64_t)d[0] | (uint64_t)d[1] << 8 | (uint64_t)d[2] << 16 |
            (uint64_t)d[3] << 24 | (uint64_t)d[4] << 32 | (uint64_t)d[5] << 40 |
            (uint64_t)d[6] << 48 | (uint64_t)d[7] << 56;
        if (n < 8)
            m &= ((uint64_t)1 << (8 * n)) - 1;
    } else {
        for (size_t i = n; i-- > 0;)
            m = m << 8 | d[i];
    }
    *mag = m;
    return 1;
}

/* Locates a bignum at p: sets *neg, *digits, *n and returns the bytes it
 * takes, or a negative code. */
static inline long etf_big_at(const uint8_t *p, const uint8_t *end, int *neg,
                              const uint8_t **digits, size_t *n)
{
    size_t left = (size_t)(end - p), hdr;
    uint64_t len;
    if (p[0] == EDIST_ETF_SMALL_BIG) {
        if (left < 3)
            return EDIST_EAGAIN;
        len = p[1];
        hdr = 3;
    } else {
        if (left < 6)
            return EDIST_EAGAIN;
        len = edist_get32(p + 1);
        hdr = 6;
    }
    if (len > left - hdr)
        return EDIST_EAGAIN;
    *neg = p[hdr - 1] != 0;
    *digits = p + hdr;
    *n = (size_t)len;
    return (long)(hdr + len);
}

/* True when s[0..n) is ASCII: overlapping word loads, no byte loop for
 * the common lengths. */
static inline int etf_all_ascii(const uint8_t *s, size_t n)
{
    uint64_t acc = 0, w;
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&w, s + i, 8);
            acc |= w;
        }
        memcpy(&w, s + n - 8, 8);
        return !((acc | w) & 0x8080808080808080u);
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        return !((a | b) & 0x80808080u);
    }
    uint8_t t = 0;
    for (size_t i = 0; i < n; i++)
        t |= s[i];
    return t < 0x80;
}

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
