/*
 * parse_bin.c: binaries and bit strings in bit syntax, as erl_eval
 * builds them for literal segments.
 *
 *   binary  := '<<' (segment (',' segment)*)? '>>'
 *   segment := value (':' size)? ('/' spec ('-' spec)*)?
 *   value   := ('-'|'+')? integer | float | $char | string+ | binary
 *            | '(' term ')'
 *   spec    := integer | float | binary | bytes | bitstring | bits
 *            | utf8 | utf16 | utf32 | signed | unsigned
 *            | big | little | native | unit ':' 1..256
 *
 * Integers are truncated to Size * Unit bits (default 8), two's
 * complement for negatives, big-endian unless little (little-endian puts
 * whole bytes least significant first, then the high remaining bits, as
 * BEAM does).  Floats are 64 (default), 32 or 16 bits, rounded to nearest
 * even, too large ones becoming infinity as in BEAM.  utf8/16/32 encode one
 * code point and take no size.  A string segment stands for one segment
 * per character with the same size and type.  A binary value takes
 * /binary (Size * 8 bits) or /bits (Size bits); without a size, all of it.
 * "native" is little-endian here (edist runs on little-endian hosts only
 * in practice; documented).
 */
#include <math.h>
#include <string.h>

#include "core/utf8.h"
#include "edist/err.h"
#include "etf/parse_int.h"

/* Caps one segment's size, so that <<0:4000000000>> cannot exhaust
 * memory: 256 Mbit. */
#define MAX_SEG_BITS ((uint64_t)1 << 28)

typedef struct bitw {
    edist_buf b;
    uint64_t bits;
} bitw;

static int put_bit(bitw *w, unsigned bit)
{
    if (w->bits % 8 == 0) {
        int rc = edist_buf_put8(&w->b, 0);
        if (rc < 0)
            return rc;
    }
    if (bit)
        w->b.data[w->bits / 8] |= (uint8_t)(0x80u >> (w->bits % 8));
    w->bits++;
    return 0;
}

/* Appends the low nbits of the little-endian magnitude le[0..n), most
 * significant first; bits past n bytes are `fill`. */
static int put_le_bits(bitw *w, const uint8_t *le, size_t n, uint64_t nbits,
                       uint64_t from, unsigned fill)
{
    if (w->bits % 8 == 0 && nbits % 8 == 0 && from % 8 == 0) {
        /* Whole bytes onto a byte boundary: <<0:80000000>> must not cost
         * a call per bit. */
        uint64_t nb = nbits / 8;
        int rc = edist_buf_reserve(&w->b, (size_t)nb);
        if (rc < 0)
            return rc;
        for (uint64_t i = nb; i-- > 0;) {
            uint64_t bi = from / 8 + i;
            w->b.data[w->b.len++] =
                bi < n ? le[bi] : (uint8_t)(fill ? 0xFF : 0);
        }
        w->bits += nbits;
        return 0;
    }
    for (uint64_t i = nbits; i-- > 0;) {
        uint64_t bi = from + i;
        unsigned bit = bi / 8 < n ? (le[bi / 8] >> (bi % 8)) & 1 : fill;
        int rc = put_bit(w, bit);
        if (rc < 0)
            return rc;
    }
    return 0;
}

typedef struct segspec {
    enum { T_INT, T_FLOAT, T_BIN, T_BITS, T_UTF8, T_UTF16, T_UTF32 } type;
    int little;
    int has_size;
    uint64_t size;
    uint64_t unit; /* 0: default for the type */
} segspec;

/* Two's complement of an integer term as little-endian bytes in the
 * arena, sign-extended by the caller through `fill`. */
static int int_bytes(pstate *p, const edist_term *v, const uint8_t **le,
                     size_t *n, unsigned *fill)
{
    uint8_t *b;
    if (v->type == EDIST_TERM_INT) {
        if (!(b = edist_arena_alloc(p->a, 8)))
            return EDIST_ENOMEM;
        uint64_t u = (uint64_t)v->v.i;
        for (int i = 0; i < 8; i++)
            b[i] = (uint8_t)(u >> (8 * i));
        *le = b;
        *n = 8;
        *fill = v->v.i < 0;
        return 0;
    }
    size_t m = v->v.big.n;
    if (!(b = edist_arena_alloc(p->a, m + 1)))
        return EDIST_ENOMEM;
    memcpy(b, v->v.big.digits, m);
    b[m] = 0;
    if (v->v.big.negative) {
        unsigned carry = 1;
        for (size_t i = 0; i <= m; i++) {
            unsigned x = (uint8_t)~b[i] + carry;
            b[i] = (uint8_t)x;
            carry = x >> 8;
        }
    }
    *le = b;
    *n = m + 1;
    *fill = v->v.big.negative ? 1 : 0;
    return 0;
}

static int put_int(pstate *p, bitw *w, const edist_term *v, uint64_t nbits,
                   int little)
{
    const uint8_t *le;
    size_t n;
    unsigned fill;
    int rc = int_bytes(p, v, &le, &n, &fill);
    if (rc < 0)
        return rc;
    if (!little || nbits < 8)
        return put_le_bits(w, le, n, nbits, 0, fill);
    /* Whole bytes from the least significant, then the top bits. */
    uint64_t whole = nbits / 8;
    for (uint64_t i = 0; i < whole; i++)
        if ((rc = put_le_bits(w, le, n, 8, i * 8, fill)) < 0)
            return rc;
    return put_le_bits(w, le, n, nbits % 8, whole * 8, fill);
}

/* Rounds x >= 0 to the nearest integer, ties to even.  Callers pass
 * x < 2^11, so the integer conversions are exact; doing without floor()
 * and fmod() keeps libm out of the library. */
static double round_even(double x)
{
    uint64_t i = (uint64_t)x;
    double d = x - (double)i;
    if (d > 0.5 || (d == 0.5 && (i & 1)))
        i++;
    return (double)i;
}

/* IEEE binary16 of f, rounded to nearest even; too large becomes
 * infinity, as BEAM's <<F:16/float>> does. */
static uint16_t to_half(double f)
{
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    double a = fabs(f);
    if (a >= 65520.0) /* 65504 + half an ulp rounds (to even) up */
        return sign | 0x7C00;
    if (a < ldexp(1, -14)) /* subnormal: a multiple of 2^-24 */
        return (uint16_t)(sign | (uint16_t)round_even(ldexp(a, 24)));
    int e;
    double m = frexp(a, &e); /* a = m * 2^e, m in [0.5, 1) */
    uint32_t q = (uint32_t)round_even(ldexp(m, 11));
    int ex = e - 1 + 15;
    if (q == 2048) {
        q = 1024;
        ex++;
    }
    if (ex >= 31)
        return sign | 0x7C00;
    return (uint16_t)(sign | (uint32_t)ex << 10 | (q - 1024));
}

/* binary32 of f: the C conversion, except that values past FLT_MAX
 * (undefined behaviour in C) round to FLT_MAX or, from FLT_MAX plus half
 * an ulp, to infinity, as BEAM produces. */
static float to_single(double f)
{
    double a = fabs(f);
    if (a <= 3.4028234663852886e38)
        return (float)f;
    float r = a >= 3.4028235677973366e38 ? INFINITY : 3.4028234663852886e38f;
    return signbit(f) ? -r : r;
}

static int put_float(bitw *w, double f, uint64_t nbits, int little)
{
    uint8_t le[8];
    if (nbits == 64) {
        uint64_t u;
        memcpy(&u, &f, 8);
        for (int i = 0; i < 8; i++)
            le[i] = (uint8_t)(u >> (8 * i));
    } else if (nbits == 32) {
        float g = to_single(f);
        uint32_t u;
        memcpy(&u, &g, 4);
        for (int i = 0; i < 4; i++)
            le[i] = (uint8_t)(u >> (8 * i));
    } else {
        uint16_t u = to_half(f);
        le[0] = (uint8_t)u;
        le[1] = (uint8_t)(u >> 8);
    }
    size_t nb = (size_t)(nbits / 8);
    for (size_t i = 0; i < nb; i++) {
        size_t k = little ? i : nb - 1 - i;
        int rc = put_le_bits(w, le, nb, 8, (uint64_t)k * 8, 0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int put_utf(bitw *w, uint32_t cp, int type, int little)
{
    uint8_t out[4];
    int rc;
    if (type == T_UTF8) {
        int k = edist_utf8_encode(cp, out);
        for (int i = 0; i < k; i++)
            if ((rc = put_le_bits(w, &out[i], 1, 8, 0, 0)) < 0)
                return rc;
        return 0;
    }
    uint16_t units[2];
    int nu = 1;
    if (type == T_UTF32) {
        uint8_t le[4] = {(uint8_t)cp, (uint8_t)(cp >> 8), (uint8_t)(cp >> 16),
                         0};
        for (int i = 0; i < 4; i++)
            if ((rc = put_le_bits(w, le, 4, 8,
                                  (uint64_t)(little ? i : 3 - i) * 8, 0)) < 0)
                return rc;
        return 0;
    }
    if (cp >= 0x10000) {
        units[0] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
        units[1] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
        nu = 2;
    } else {
        units[0] = (uint16_t)cp;
    }
    for (int u = 0; u < nu; u++) {
        uint8_t le[2] = {(uint8_t)units[u], (uint8_t)(units[u] >> 8)};
        for (int i = 0; i < 2; i++)
            if ((rc = put_le_bits(w, le, 2, 8,
                                  (uint64_t)(little ? i : 1 - i) * 8, 0)) < 0)
                return rc;
    }
    return 0;
}

static int read_spec(pstate *p, segspec *sp)
{
    for (;;) {
        size_t at = p->pos, n = 0;
        while (p->pos + n < p->n &&
               ((p->s[p->pos + n] >= 'a' && p->s[p->pos + n] <= 'z') ||
                (p->s[p->pos + n] >= '0' && p->s[p->pos + n] <= '9')))
            n++;
        const char *w = (const char *)p->s + p->pos;
#define IS(s) (n == sizeof(s) - 1 && memcmp(w, s, n) == 0)
        if (IS("integer"))
            sp->type = T_INT;
        else if (IS("float"))
            sp->type = T_FLOAT;
        else if (IS("binary") || IS("bytes"))
            sp->type = T_BIN;
        else if (IS("bitstring") || IS("bits"))
            sp->type = T_BITS;
        else if (IS("utf8"))
            sp->type = T_UTF8;
        else if (IS("utf16"))
            sp->type = T_UTF16;
        else if (IS("utf32"))
            sp->type = T_UTF32;
        else if (IS("little") || IS("native"))
            sp->little = 1;
        else if (IS("big"))
            sp->little = 0;
        else if (IS("signed") || IS("unsigned"))
            ;
        else if (IS("unit")) {
            p->pos += n;
            if (p_peek(p, 0) != ':')
                return p_fail(p, EDIST_ESYNTAX, p->pos,
                              "expected ':' after unit");
            p->pos++;
            uint64_t u = 0;
            int nd = 0;
            while (p_peek(p, 0) >= '0' && p_peek(p, 0) <= '9' && nd < 4) {
                u = u * 10 + (uint64_t)(p->s[p->pos++] - '0');
                nd++;
            }
            if (u < 1 || u > 256)
                return p_fail(p, EDIST_ESYNTAX, at, "unit must be 1..256");
            sp->unit = u;
            n = 0;
        } else
            return p_fail(p, EDIST_ESYNTAX, at,
                          "expected a type specifier (integer, float, "
                          "binary, bits, utf8, little, signed, unit:N...)");
#undef IS
        p->pos += n;
        if (p_peek(p, 0) != '-')
            return 0;
        p->pos++;
    }
}

/* One value of a segment, as integer/float term, or a binary. */
static int seg_value(pstate *p, const segspec *sp, const edist_term *v,
                     size_t at, bitw *w)
{
    int rc;
    uint64_t unit = sp->unit;
    switch (sp->type) {
    case T_INT:
        if (v->type != EDIST_TERM_INT && v->type != EDIST_TERM_BIGINT)
            break;
        {
            uint64_t size = sp->has_size ? sp->size : 8;
            uint64_t nbits = size * (unit ? unit : 1);
            if (nbits > MAX_SEG_BITS)
                return p_fail(p, EDIST_ETOOBIG, at, "segment too large");
            rc = put_int(p, w, v, nbits, sp->little);
            return rc < 0 ? p_fail(p, rc, at, "binary too large") : 0;
        }
    case T_FLOAT: {
        uint64_t nbits = (sp->has_size ? sp->size : 64) * (unit ? unit : 1);
        double f;
        if (v->type == EDIST_TERM_FLOAT)
            f = v->v.f;
        else if (v->type == EDIST_TERM_INT)
            f = (double)v->v.i;
        else
            break;
        if (nbits != 64 && nbits != 32 && nbits != 16)
            return p_fail(p, EDIST_ESYNTAX, at,
                          "float segments must be 16, 32 or 64 bits");
        rc = put_float(w, f, nbits, sp->little);
        return rc < 0 ? p_fail(p, rc, at, "binary too large") : 0;
    }
    case T_UTF8:
    case T_UTF16:
    case T_UTF32:
        if (v->type != EDIST_TERM_INT)
            break;
        if (sp->has_size)
            return p_fail(p, EDIST_ESYNTAX, at, "utf segments take no size");
        if (v->v.i < 0 || v->v.i > 0x10FFFF ||
            (v->v.i >= 0xD800 && v->v.i <= 0xDFFF))
            return p_fail(p, EDIST_ESYNTAX, at, "not a Unicode code point");
        rc = put_utf(w, (uint32_t)v->v.i, sp->type, sp->little);
        return rc < 0 ? p_fail(p, rc, at, "binary too large") : 0;
    case T_BIN:
    case T_BITS: {
        if (v->type != EDIST_TERM_BINARY)
            break;
        uint64_t have = v->v.bin.size
                            ? (uint64_t)(v->v.bin.size - 1) * 8 + v->v.bin.bits
                            : 0;
        uint64_t want = have;
        if (sp->has_size)
            want = sp->size * (unit ? unit : sp->type == T_BIN ? 8 : 1);
        else if (sp->type == T_BIN && have % 8)
            return p_fail(p, EDIST_ESYNTAX, at,
                          "a /binary segment needs whole bytes (use /bits)");
        if (want > have)
            return p_fail(p, EDIST_ESYNTAX, at,
                          "segment size larger than the binary");
        if (w->bits % 8 == 0 && want % 8 == 0) {
            if ((rc = edist_buf_append(&w->b, v->v.bin.data,
                                       (size_t)(want / 8))) < 0)
                return p_fail(p, rc, at, "binary too large");
            w->bits += want;
            return 0;
        }
        for (uint64_t i = 0; i < want; i++)
            if ((rc = put_bit(w, (v->v.bin.data[i / 8] >> (7 - i % 8)) & 1)) <
                0)
                return p_fail(p, rc, at, "binary too large");
        return 0;
    }
    }
    return p_fail(p, EDIST_ESYNTAX, at,
                  "value does not match the segment "
                  "type");
}

static int segment(pstate *p, bitw *w)
{
    p_skip(p);
    size_t at = p->pos, base = p->stack.len;
    edist_term v;
    int rc, is_string = p_peek(p, 0) == '"';
    if (is_string) {
        /* Parsed as a list of character codes; each is a segment. */
        if ((rc = p_term(p, &v)) < 0)
            return rc;
    } else if ((p_peek(p, 0) == '<' && p_peek(p, 1) == '<') ||
               p_peek(p, 0) == '(') {
        /* A nested binary, or any value in parentheses. */
        if ((rc = p_term(p, &v)) < 0)
            return rc;
    } else {
        int c = p_peek(p, 0), neg = 0;
        if (c == '-' || c == '+') {
            neg = c == '-';
            p->pos++;
            p_skip(p);
            c = p_peek(p, 0);
        }
        if (!((c >= '0' && c <= '9') || c == '$'))
            return p_fail(p, EDIST_ESYNTAX, p->pos,
                          "expected a segment value (integer, float, "
                          "character, string or binary)");
        if ((rc = p_count(p)) < 0 || (rc = p_number(p, &v, neg)) < 0)
            return rc;
    }
    segspec sp = {T_INT, 0, 0, 0, 0};
    if (v.type == EDIST_TERM_FLOAT)
        sp.type = T_FLOAT;
    p_skip(p);
    if (p_peek(p, 0) == ':') {
        p->pos++;
        p_skip(p);
        uint64_t s = 0;
        int nd = 0;
        while (p_peek(p, 0) >= '0' && p_peek(p, 0) <= '9') {
            if (s > MAX_SEG_BITS)
                return p_fail(p, EDIST_ETOOBIG, p->pos, "size too large");
            s = s * 10 + (uint64_t)(p->s[p->pos++] - '0');
            nd++;
        }
        if (nd == 0)
            return p_fail(p, EDIST_ESYNTAX, p->pos,
                          "expected a size after ':'");
        sp.has_size = 1;
        sp.size = s;
        p_skip(p);
    }
    if (p_peek(p, 0) == '/') {
        p->pos++;
        p_skip(p);
        if ((rc = read_spec(p, &sp)) < 0)
            return rc;
    }
    if (v.type == EDIST_TERM_BINARY && sp.type == T_INT)
        return p_fail(p, EDIST_ESYNTAX, at,
                      "a binary value needs /binary or /bits");
    if (sp.unit && !sp.has_size && sp.type != T_BIN && sp.type != T_BITS)
        return p_fail(p, EDIST_ESYNTAX, at, "unit:N needs a size");
    if (is_string && v.type != EDIST_TERM_NIL) {
        for (const edist_term *x = &v; x->type == EDIST_TERM_LIST;
             x = x->v.list.tail)
            for (size_t i = 0; i < x->v.list.len; i++)
                if ((rc = seg_value(p, &sp, &x->v.list.elems[i], at, w)) < 0)
                    return rc;
    } else if (!is_string) {
        if ((rc = seg_value(p, &sp, &v, at, w)) < 0)
            return rc;
    }
    p->stack.len = base;
    return 0;
}

int p_binary(pstate *p, edist_term *out)
{
    size_t at = p->pos - 2;
    bitw w;
    memset(&w, 0, sizeof w);
    edist_buf_init(&w.b, (size_t)(MAX_SEG_BITS / 8) * 4, p->op->alloc);
    int rc = 0;
    p_skip(p);
    if (!(p_peek(p, 0) == '>' && p_peek(p, 1) == '>')) {
        for (;;) {
            if ((rc = segment(p, &w)) < 0)
                goto done;
            p_skip(p);
            if (p_peek(p, 0) == ',') {
                p->pos++;
                continue;
            }
            if (p_peek(p, 0) == '>' && p_peek(p, 1) == '>')
                break;
            rc = p_fail(p, EDIST_ESYNTAX, p->pos, "expected ',' or '>>'");
            goto done;
        }
    }
    p->pos += 2;
    uint8_t bits = (uint8_t)(w.bits % 8 ? w.bits % 8 : 8);
    rc = edist_term_bitstring(p->a, out, w.b.data, w.b.len, bits);
    if (rc < 0)
        rc = p_fail(p, rc, at, "out of memory");
done:
    edist_buf_free(&w.b);
    return rc;
}
