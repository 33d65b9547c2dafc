/* parse_int.h: internals shared by the term parser (parse*.c). */
#ifndef EDIST_ETF_PARSE_INT_H
#define EDIST_ETF_PARSE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "edist/etf_text.h"

typedef struct pstate {
    edist_arena *a;
    const uint8_t *s;
    size_t n;
    size_t pos;
    const edist_parse_opts *op;
    size_t max_depth, max_terms, terms, depth;
    edist_buf stack; /* elements of the containers being built */
    edist_text_error *err;
    int rc; /* first error, latched */
} pstate;

/* Records an error at byte offset at (line and column are computed from
 * it); the first error wins.  Returns code. */
int p_fail(pstate *p, int code, size_t at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Skips white space and %-comments. */
void p_skip(pstate *p);

static inline int p_peek(const pstate *p, size_t k)
{
    return p->pos + k < p->n ? p->s[p->pos + k] : -1;
}

/* Reads one character of a quoted atom, string or $-literal at p->pos,
 * escapes included, as a code point.  Returns 0 or an error code. */
int p_char(pstate *p, uint32_t *cp, int quote);

/* Reads an integer literal (decimal, Base#digits, $c, with _ separators)
 * or a float at p->pos into *out, negated when neg.  Returns 0 or an
 * error code. */
int p_number(pstate *p, edist_term *out, int neg);

/* Parses a binary; p->pos is just after "<<".  Returns 0 or an error. */
int p_binary(pstate *p, edist_term *out);

/* Parses one term at p->pos (after white space). */
int p_term(pstate *p, edist_term *out);

/* Counts one term against the max_terms cap. */
int p_count(pstate *p);

#endif
