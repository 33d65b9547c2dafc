/*
 * parse_lex.c: the lexical part of the term parser, after erl_scan:
 * white space and comments, escapes, integers and floats.
 *
 *   integer  := digits | base '#' based-digits | '$' char
 *   digits   := [0-9] ('_'? [0-9])*          (OTP 23+ separators)
 *   base     := 2..36 written in decimal
 *   float    := digits '.' digits (('e'|'E') ('+'|'-')? digits)?
 *   escape   := '\' ( [0-7]{1,3} | 'x' hex hex | 'x{' hex+ '}'
 *                   | '^' letter | b d e f n r s t v | any other char )
 *
 * Every read checks p->pos against p->n.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "edist/err.h"
#include "etf/parse_int.h"

/* Integers with more digits than this are refused (their conversion is
 * quadratic); that is a number of more than 3 kB. */
#define MAX_INT_DIGITS 8000

int p_fail(pstate *p, int code, size_t at, const char *fmt, ...)
{
    if (p->rc)
        return p->rc;
    p->rc = code;
    if (p->err) {
        int line = 1;
        size_t ls = 0;
        if (at > p->n)
            at = p->n;
        for (size_t i = 0; i < at; i++)
            if (p->s[i] == '\n') {
                line++;
                ls = i + 1;
            }
        p->err->line = line;
        p->err->col = (int)(at - ls) + 1;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void p_skip(pstate *p)
{
    while (p->pos < p->n) {
        uint8_t c = p->s[p->pos];
        if (c == '%') {
            while (p->pos < p->n && p->s[p->pos] != '\n')
                p->pos++;
        } else if (c <= ' ') {
            p->pos++;
        } else if (c == 0xC2 && p->pos + 1 < p->n && p->s[p->pos + 1] == 0xA0) {
            p->pos += 2; /* U+00A0, which erl_scan also skips */
        } else {
            break;
        }
    }
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int p_escape(pstate *p, uint32_t *cp)
{
    size_t at = p->pos - 1; /* the backslash */
    int c = p_peek(p, 0);
    if (c < 0)
        return p_fail(p, EDIST_ESYNTAX, at, "unterminated escape sequence");
    if (c >= '0' && c <= '7') {
        uint32_t v = 0;
        for (int k = 0; k < 3 && p_peek(p, 0) >= '0' && p_peek(p, 0) <= '7';
             k++)
            v = v * 8 + (uint32_t)(p->s[p->pos++] - '0');
        *cp = v;
        return 0;
    }
    if (c == 'x') {
        p->pos++;
        if (p_peek(p, 0) == '{') {
            p->pos++;
            uint32_t v = 0;
            int nd = 0;
            while (hexval(p_peek(p, 0)) >= 0) {
                v = v * 16 + (uint32_t)hexval(p->s[p->pos++]);
                if (v > 0x10FFFF)
                    return p_fail(p, EDIST_ESYNTAX, at,
                                  "character code above 10FFFF in escape");
                nd++;
            }
            if (nd == 0 || p_peek(p, 0) != '}')
                return p_fail(p, EDIST_ESYNTAX, p->pos,
                              "expected hex digits and '}' in \\x{...}");
            p->pos++;
            *cp = v;
            return 0;
        }
        int h1 = hexval(p_peek(p, 0)), h2 = hexval(p_peek(p, 1));
        if (h1 < 0 || h2 < 0)
            return p_fail(p, EDIST_ESYNTAX, p->pos,
                          "expected two hex digits after \\x");
        p->pos += 2;
        *cp = (uint32_t)(h1 * 16 + h2);
        return 0;
    }
    if (c == '^') {
        /* Control character: any character's code band 31. */
        p->pos++;
        if (p->pos >= p->n)
            return p_fail(p, EDIST_ESYNTAX, at, "unterminated escape sequence");
        uint32_t l;
        int len = edist_utf8_decode(p->s + p->pos, p->n - p->pos, &l);
        if (len < 0)
            return p_fail(p, EDIST_EUTF8, p->pos, "invalid UTF-8");
        p->pos += (size_t)len;
        *cp = l & 31;
        return 0;
    }
    static const char from[] = "bdefnrstv";
    static const uint8_t to[] = {8, 127, 27, 12, 10, 13, 32, 9, 11};
    const char *k = c ? strchr(from, c) : NULL;
    if (k) {
        p->pos++;
        *cp = to[k - from];
        return 0;
    }
    /* Any other escaped character stands for itself (\\, \', \"). */
    int len = edist_utf8_decode(p->s + p->pos, p->n - p->pos, cp);
    if (len < 0)
        return p_fail(p, EDIST_EUTF8, p->pos, "invalid UTF-8");
    p->pos += (size_t)len;
    return 0;
}

int p_char(pstate *p, uint32_t *cp, int quote)
{
    (void)quote;
    size_t at = p->pos;
    if (p->pos >= p->n)
        return p_fail(p, EDIST_ESYNTAX, p->pos, "unexpected end of input");
    if (p->s[p->pos] == '\\') {
        p->pos++;
        int rc = p_escape(p, cp);
        if (rc < 0)
            return rc;
    } else {
        int len = edist_utf8_decode(p->s + p->pos, p->n - p->pos, cp);
        if (len < 0)
            return p_fail(p, EDIST_EUTF8, p->pos, "invalid UTF-8");
        p->pos += (size_t)len;
    }
    /* erl_scan's ?UNICODE: no surrogates, no U+FFFE or U+FFFF. */
    if ((*cp >= 0xD800 && *cp <= 0xDFFF) || *cp == 0xFFFE || *cp == 0xFFFF)
        return p_fail(p, EDIST_ESYNTAX, at, "illegal character U+%04X",
                      (unsigned)*cp);
    return 0;
}

static int digit_in(int c, unsigned base)
{
    int v = -1;
    if (c >= '0' && c <= '9')
        v = c - '0';
    else if (c >= 'a' && c <= 'z')
        v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'Z')
        v = c - 'A' + 10;
    return v >= 0 && (unsigned)v < base ? v : -1;
}

/* Reads digits of base with single '_' between digits into dst (as
 * values); returns the count, or -1 on a misplaced '_'. */
static long read_digits(pstate *p, unsigned base, uint8_t *dst, size_t cap)
{
    long nd = 0;
    for (;;) {
        int v = digit_in(p_peek(p, 0), base);
        if (v >= 0) {
            if ((size_t)nd < cap)
                dst[nd] = (uint8_t)v;
            nd++;
            p->pos++;
            continue;
        }
        if (p_peek(p, 0) == '_' && nd > 0 &&
            digit_in(p_peek(p, 1), base) >= 0) {
            p->pos++;
            continue;
        }
        return nd;
    }
}

/* Digit values (most significant first) to a term. */
static int make_int(pstate *p, edist_term *out, const uint8_t *dig, size_t nd,
                    unsigned base, int neg)
{
    /* Most integers fit 64 bits: no arena memory for them. */
    uint64_t small = 0;
    size_t used_digits = 0;
    for (; used_digits < nd && small <= (UINT64_MAX - dig[used_digits]) / base;
         used_digits++)
        small = small * base + dig[used_digits];
    if (used_digits == nd && small <= (uint64_t)INT64_MAX) {
        *out = edist_mk_int(neg ? -(int64_t)small : (int64_t)small);
        return 0;
    }
    /* Little-endian magnitude; each base digit adds < 6 bits. */
    size_t cap = nd * 6 / 8 + 2;
    uint8_t *mag = edist_arena_calloc(p->a, cap, 1);
    if (!mag)
        return p_fail(p, EDIST_ENOMEM, p->pos, "out of memory");
    size_t used = 0;
    for (size_t i = 0; i < nd; i++) {
        unsigned carry = dig[i];
        for (size_t k = 0; k < used; k++) {
            unsigned v = mag[k] * base + carry;
            mag[k] = (uint8_t)v;
            carry = v >> 8;
        }
        while (carry) {
            mag[used++] = (uint8_t)carry;
            carry >>= 8;
        }
    }
    int rc = edist_term_bigint(p->a, out, neg, mag, used);
    if (rc < 0)
        return p_fail(p, rc, p->pos, "out of memory");
    return 0;
}

static int p_float(pstate *p, edist_term *out, size_t start, int neg)
{
    /* start: first digit.  Collect the mantissa digits without the point
     * and '_', and the exponent, then let strtod round "DIGITSe<exp>",
     * which has no decimal point and so no locale dependence. */
    char buf[800];
    size_t k = 0;
    long frac = 0;
    int point = 0, lead = 1;
    size_t i = start;
    for (; i < p->n; i++) {
        int c = p->s[i];
        if (c == '_') {
            /* A separator only between two digits (OTP 23+). */
            if (i > start && p->s[i - 1] >= '0' && p->s[i - 1] <= '9' &&
                i + 1 < p->n && p->s[i + 1] >= '0' && p->s[i + 1] <= '9')
                continue;
            break;
        }
        if (c == '.') {
            if (point || i + 1 >= p->n || p->s[i + 1] < '0' ||
                p->s[i + 1] > '9')
                break;
            point = 1;
            continue;
        }
        if (c < '0' || c > '9')
            break;
        if (point)
            frac++;
        if (lead && c == '0')
            continue; /* leading zeros carry no digits */
        lead = 0;
        if (k < 780) {
            buf[k++] = (char)c;
        } else {
            /* A halfway point between two doubles has at most 767
             * significant digits, so digits past 780 only need a sticky
             * non-zero last digit for correct rounding. */
            if (c != '0' && buf[779] == '0')
                buf[779] = '1';
            frac--;
        }
    }
    long ex = 0;
    p->pos = i;
    int e = p_peek(p, 0);
    if (e == 'e' || e == 'E') {
        size_t at = p->pos;
        p->pos++;
        int sgn = 1;
        if (p_peek(p, 0) == '+' || p_peek(p, 0) == '-')
            sgn = p->s[p->pos++] == '-' ? -1 : 1;
        int nd = 0;
        while (p_peek(p, 0) >= '0' && p_peek(p, 0) <= '9') {
            if (ex < 100000)
                ex = ex * 10 + (p->s[p->pos] - '0');
            p->pos++;
            nd++;
            if (p_peek(p, 0) == '_' && p_peek(p, 1) >= '0' &&
                p_peek(p, 1) <= '9')
                p->pos++;
        }
        if (nd == 0)
            return p_fail(p, EDIST_ESYNTAX, at,
                          "expected digits in the float's exponent");
        ex *= sgn;
    }
    double v = 0;
    if (k > 0) {
        snprintf(buf + k, sizeof buf - k, "e%ld", ex - frac);
        v = strtod(buf, NULL);
        if (v > 1.7976931348623157e308)
            return p_fail(p, EDIST_ESYNTAX, start, "illegal float");
    }
    *out = edist_mk_float(neg ? -v : v);
    return 0;
}

int p_number(pstate *p, edist_term *out, int neg)
{
    size_t start = p->pos;
    if (p_peek(p, 0) == '$') {
        p->pos++;
        uint32_t cp;
        if (p->pos >= p->n)
            return p_fail(p, EDIST_ESYNTAX, start,
                          "expected a character after $");
        int rc = p_char(p, &cp, 0);
        if (rc < 0)
            return rc;
        *out = edist_mk_int(neg ? -(int64_t)cp : (int64_t)cp);
        return 0;
    }
    uint8_t dig[MAX_INT_DIGITS];
    long nd = read_digits(p, 10, dig, sizeof dig);
    if (nd > MAX_INT_DIGITS)
        return p_fail(p, EDIST_ETOOBIG, start, "integer has too many digits");
    if (p_peek(p, 0) == '#') {
        unsigned base = 0;
        for (long i = 0; i < nd && base <= 36; i++)
            base = base * 10 + dig[i];
        if (base < 2 || base > 36)
            return p_fail(p, EDIST_ESYNTAX, start,
                          "illegal base (2..36) in Base#Digits");
        p->pos++;
        size_t at = p->pos;
        nd = read_digits(p, base, dig, sizeof dig);
        if (nd == 0)
            return p_fail(p, EDIST_ESYNTAX, at,
                          "expected base %u digits after '#'", base);
        if (nd > MAX_INT_DIGITS)
            return p_fail(p, EDIST_ETOOBIG, start,
                          "integer has too many digits");
        return make_int(p, out, dig, (size_t)nd, base, neg);
    }
    if (p_peek(p, 0) == '.' && p_peek(p, 1) >= '0' && p_peek(p, 1) <= '9')
        return p_float(p, out, start, neg);
    return make_int(p, out, dig, (size_t)nd, 10, neg);
}
