/*
 * compare.c: Erlang's standard term order and exact equality, as BEAM's
 * erts_cmp() (erts/emulator/beam/utils.c) defines them.
 *
 *   number < atom < reference < fun < port < pid < tuple < map < nil
 *          < list < bit string
 *
 * Rules taken from erts_cmp, and checked against OTP 25 in the tests:
 *  - numbers compare by mathematical value across integers, bignums and
 *    floats (BEAM is exact also beyond 2^53: it turns the float into a
 *    bignum), and 1 == 1.0;
 *  - in "exact" mode, used for map keys and for =:=, every integer sorts
 *    before every float whatever the values (erts falls through to the type
 *    tags: FLOAT_DEF > BIG_DEF > SMALL_DEF in its reversed numbering);
 *  - local funs sort before external funs (FUN_DEF < EXPORT_DEF); local
 *    funs by module, OldIndex, OldUniq, free variable count, environment;
 *  - atoms by their UTF-8 bytes, which is code point order;
 *  - references and ports: node first (name, then creation), then the
 *    value (references from the most significant word down, extra high
 *    words that are zero being ignored);
 *  - pids: the value first (serial, then number), then the node;
 *  - tuples by arity, then element by element;
 *  - maps by size, then their keys in (exact) sorted order, then the
 *    values in key order;
 *  - lists element by element, improper tails compared as terms;
 *  - bit strings by their bits, then by bit length.
 *
 * Recursion depth equals the nesting depth of the terms, which the parser
 * and the decoder cap.
 */
#include <math.h>
#include <string.h>

#include "core/mem.h"
#include "etf/funinfo.h"
#include "etf/keyorder.h"
#include "edist/term.h"

static int cmp_term(const edist_term *a, const edist_term *b, int exact);

/* Rank of a type in the standard order; all numbers share rank 0. */
static int type_rank(edist_term_type t)
{
    switch (t) {
    case EDIST_TERM_INT:
    case EDIST_TERM_BIGINT:
    case EDIST_TERM_FLOAT:
        return 0;
    case EDIST_TERM_ATOM:
        return 1;
    case EDIST_TERM_REF:
        return 2;
    case EDIST_TERM_FUN:
        return 3;
    case EDIST_TERM_EXPORT:
        return 4;
    case EDIST_TERM_PORT:
        return 5;
    case EDIST_TERM_PID:
        return 6;
    case EDIST_TERM_TUPLE:
        return 7;
    case EDIST_TERM_MAP:
        return 8;
    case EDIST_TERM_NIL:
        return 9;
    case EDIST_TERM_LIST:
        return 10;
    case EDIST_TERM_BINARY:
        return 11;
    }
    return 12;
}

#define SIGN(x)   ((x) < 0 ? -1 : (x) > 0 ? 1 : 0)
#define CMP(x, y) ((x) < (y) ? -1 : (x) > (y) ? 1 : 0)

static int cmp_bytes(const void *a, size_t na, const void *b, size_t nb)
{
    size_t n = na < nb ? na : nb;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return SIGN(c);
    return CMP(na, nb);
}

static int cmp_atom(edist_atom a, edist_atom b)
{
    return cmp_bytes(a.name, a.len, b.name, b.len);
}

/* Compares little-endian magnitudes, ignoring high zero bytes. */
static int cmp_mag(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    while (na && a[na - 1] == 0)
        na--;
    while (nb && b[nb - 1] == 0)
        nb--;
    if (na != nb)
        return CMP(na, nb);
    for (size_t i = na; i-- > 0;)
        if (a[i] != b[i])
            return CMP(a[i], b[i]);
    return 0;
}

/* A float against an int64: exact, whatever the magnitudes. */
static int cmp_float_int(double f, int64_t i)
{
    if (f >= 9223372036854775808.0)
        return 1;
    if (f < -9223372036854775808.0)
        return -1;
    /* f is within int64 range, so truncation is exact. */
    int64_t t = (int64_t)f;
    if (t != i)
        return CMP(t, i);
    double frac = f - (double)t;
    return SIGN(frac);
}

/* |f| as a little-endian magnitude; f must be integral and >= 2^63 in
 * absolute value.  Returns the byte count (<= 136). */
static size_t float_mag(double f, uint8_t out[136])
{
    int e;
    double m = frexp(fabs(f), &e); /* |f| = m * 2^e, m in [0.5, 1) */
    uint64_t mant = (uint64_t)ldexp(m, 53);
    int shift = e - 53; /* >= 11 since |f| >= 2^63 */
    memset(out, 0, 136);
    for (int bit = 0; bit < 53; bit++)
        if (mant >> bit & 1) {
            int pos = bit + shift;
            out[pos / 8] |= (uint8_t)(1u << (pos % 8));
        }
    return (size_t)((52 + shift) / 8 + 1);
}

static int cmp_float_big(double f, const edist_term *big)
{
    int bsign = big->v.big.negative ? -1 : 1;
    int fsign = f < 0 ? -1 : 1;
    if (fsign != bsign)
        return fsign;
    /* Same sign: compare magnitudes, then flip for negatives.  A float
     * below 2^63 is smaller in magnitude than any bignum. */
    int mc;
    if (!isfinite(f)) {
        mc = 1; /* not an Erlang value; ordered beyond every integer */
    } else if (fabs(f) < 9223372036854775808.0) {
        mc = -1;
    } else {
        uint8_t mag[136];
        size_t n = float_mag(f, mag);
        mc = cmp_mag(mag, n, big->v.big.digits, big->v.big.n);
    }
    return bsign < 0 ? -mc : mc;
}

static int cmp_int_big(int64_t i, const edist_term *big)
{
    (void)i;
    /* A bignum never fits int64_t, so its sign decides. */
    return big->v.big.negative ? 1 : -1;
}

static int cmp_big_big(const edist_term *a, const edist_term *b)
{
    if (a->v.big.negative != b->v.big.negative)
        return a->v.big.negative ? -1 : 1;
    int mc = cmp_mag(a->v.big.digits, a->v.big.n, b->v.big.digits, b->v.big.n);
    return a->v.big.negative ? -mc : mc;
}

static int cmp_number(const edist_term *a, const edist_term *b, int exact)
{
    edist_term_type ta = a->type, tb = b->type;
    if (exact && (ta == EDIST_TERM_FLOAT) != (tb == EDIST_TERM_FLOAT))
        return ta == EDIST_TERM_FLOAT ? 1 : -1;
    if (ta == EDIST_TERM_INT && tb == EDIST_TERM_INT)
        return CMP(a->v.i, b->v.i);
    if (ta == EDIST_TERM_FLOAT && tb == EDIST_TERM_FLOAT)
        return CMP(a->v.f, b->v.f);
    if (ta == EDIST_TERM_BIGINT && tb == EDIST_TERM_BIGINT)
        return cmp_big_big(a, b);
    if (ta == EDIST_TERM_INT && tb == EDIST_TERM_BIGINT)
        return cmp_int_big(a->v.i, b);
    if (ta == EDIST_TERM_BIGINT && tb == EDIST_TERM_INT)
        return -cmp_int_big(b->v.i, a);
    if (ta == EDIST_TERM_FLOAT && tb == EDIST_TERM_INT)
        return cmp_float_int(a->v.f, b->v.i);
    if (ta == EDIST_TERM_INT && tb == EDIST_TERM_FLOAT)
        return -cmp_float_int(b->v.f, a->v.i);
    if (ta == EDIST_TERM_FLOAT)
        return cmp_float_big(a->v.f, b);
    return -cmp_float_big(b->v.f, a);
}

static int cmp_node(edist_atom an, uint32_t ac, edist_atom bn, uint32_t bc)
{
    int c = cmp_atom(an, bn);
    return c ? c : CMP(ac, bc);
}

static int cmp_ref(const edist_term *a, const edist_term *b)
{
    int c = cmp_node(a->v.ref.node, a->v.ref.creation, b->v.ref.node,
                     b->v.ref.creation);
    if (c)
        return c;
    uint32_t al = a->v.ref.len > 5 ? 5 : a->v.ref.len;
    uint32_t bl = b->v.ref.len > 5 ? 5 : b->v.ref.len;
    /* Extra high words count only when non-zero (erts ref_common). */
    for (; al > bl; al--)
        if (a->v.ref.ids[al - 1] != 0)
            return 1;
    for (; bl > al; bl--)
        if (b->v.ref.ids[bl - 1] != 0)
            return -1;
    for (uint32_t i = al; i-- > 0;)
        if (a->v.ref.ids[i] != b->v.ref.ids[i])
            return CMP(a->v.ref.ids[i], b->v.ref.ids[i]);
    return 0;
}

static int cmp_bits(const edist_term *a, const edist_term *b)
{
    size_t as = a->v.bin.size, bs = b->v.bin.size;
    /* Bit lengths; sizes are far below SIZE_MAX / 8 in any real term. */
    size_t al = as ? (as - 1) * 8 + a->v.bin.bits : 0;
    size_t bl = bs ? (bs - 1) * 8 + b->v.bin.bits : 0;
    size_t ml = al < bl ? al : bl;
    size_t full = ml / 8;
    if (full) {
        int c = memcmp(a->v.bin.data, b->v.bin.data, full);
        if (c)
            return SIGN(c);
    }
    unsigned rest = (unsigned)(ml % 8);
    if (rest) {
        unsigned x = a->v.bin.data[full] >> (8 - rest);
        unsigned y = b->v.bin.data[full] >> (8 - rest);
        if (x != y)
            return CMP(x, y);
    }
    return CMP(al, bl);
}

/* Walks a list, proper or not, across tails that are themselves lists. */
typedef struct list_cursor {
    const edist_term *node; /* a LIST, or NULL once at the final tail */
    size_t i;
    const edist_term *tail; /* the final tail when node is NULL */
} list_cursor;

static void cursor_norm(list_cursor *c)
{
    while (c->node && c->i >= c->node->v.list.len) {
        const edist_term *t = c->node->v.list.tail;
        if (t->type == EDIST_TERM_LIST && t->v.list.len > 0) {
            c->node = t;
            c->i = 0;
        } else {
            c->node = NULL;
            c->tail = t;
        }
    }
}

static int cmp_list(const edist_term *a, const edist_term *b, int exact)
{
    list_cursor x = {a, 0, NULL}, y = {b, 0, NULL};
    for (;;) {
        cursor_norm(&x);
        cursor_norm(&y);
        if (x.node && y.node) {
            int c = cmp_term(&x.node->v.list.elems[x.i],
                             &y.node->v.list.elems[y.i], exact);
            if (c)
                return c;
            x.i++;
            y.i++;
            continue;
        }
        if (!x.node && !y.node)
            return cmp_term(x.tail, y.tail, exact);
        /* One side still has elements (a list), the other a tail. */
        if (x.node)
            return CMP(type_rank(EDIST_TERM_LIST), type_rank(y.tail->type));
        return CMP(type_rank(x.tail->type), type_rank(EDIST_TERM_LIST));
    }
}

/* Stable merge sort of key indices by exact order; key i is
 * keys[i * stride]. */
static void sort_keys(const edist_term *keys, size_t stride, size_t *idx,
                      size_t *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_keys(keys, stride, idx, tmp, h);
    sort_keys(keys, stride, idx + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        if (cmp_term(&keys[idx[j] * stride], &keys[idx[i] * stride], 1) < 0)
            tmp[k++] = idx[j++];
        else
            tmp[k++] = idx[i++];
    }
    while (i < h)
        tmp[k++] = idx[i++];
    while (j < n)
        tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

void term_key_order(const edist_term *keys, size_t stride, size_t *idx,
                    size_t *tmp, size_t n)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    sort_keys(keys, stride, idx, tmp, n);
}

/* Index of the smallest key strictly greater than prev (or the smallest
 * when prev is NULL): the allocation-free fallback, O(n) per step. */
static size_t next_key(const edist_term *keys, size_t n, const edist_term *prev)
{
    size_t best = n;
    for (size_t i = 0; i < n; i++) {
        if (prev && cmp_term(&keys[i], prev, 1) <= 0)
            continue;
        if (best == n || cmp_term(&keys[i], &keys[best], 1) < 0)
            best = i;
    }
    return best;
}

static int cmp_map_slow(const edist_term *a, const edist_term *b, int exact)
{
    size_t n = a->v.map.size;
    const edist_term *pa = NULL, *pb = NULL;
    int vres = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = next_key(a->v.map.keys, n, pa);
        size_t j = next_key(b->v.map.keys, n, pb);
        if (i == n || j == n)
            return 0; /* duplicate keys: not a valid map */
        int c = cmp_term(&a->v.map.keys[i], &b->v.map.keys[j], 1);
        if (c)
            return c;
        if (!vres)
            vres = cmp_term(&a->v.map.values[i], &b->v.map.values[j], exact);
        pa = &a->v.map.keys[i];
        pb = &b->v.map.keys[j];
    }
    return vres;
}

/* Maps decoded from BEAM (flatmaps) and parsed by edist keep their keys
 * sorted, which lets most comparisons skip the sort. */
static int keys_sorted(const edist_term *m)
{
    for (size_t i = 1; i < m->v.map.size; i++)
        if (cmp_term(&m->v.map.keys[i - 1], &m->v.map.keys[i], 1) >= 0)
            return 0;
    return 1;
}

static int cmp_map(const edist_term *a, const edist_term *b, int exact)
{
    size_t n = a->v.map.size;
    if (n != b->v.map.size)
        return CMP(n, b->v.map.size);
    if (n == 0)
        return 0;
    if (keys_sorted(a) && keys_sorted(b)) {
        int c = 0;
        for (size_t i = 0; !c && i < n; i++)
            c = cmp_term(&a->v.map.keys[i], &b->v.map.keys[i], 1);
        for (size_t i = 0; !c && i < n; i++)
            c = cmp_term(&a->v.map.values[i], &b->v.map.values[i], exact);
        return c;
    }
    const edist_allocator *al = edist_default_allocator();
    size_t *ix = NULL;
    if (n <= SIZE_MAX / (3 * sizeof *ix))
        ix = edist_mem_alloc(al, 3 * n * sizeof *ix);
    if (!ix)
        return cmp_map_slow(a, b, exact);
    size_t *ia = ix, *ib = ix + n, *tmp = ix + 2 * n;
    term_key_order(a->v.map.keys, 1, ia, tmp, n);
    term_key_order(b->v.map.keys, 1, ib, tmp, n);
    int c = 0;
    for (size_t i = 0; !c && i < n; i++)
        c = cmp_term(&a->v.map.keys[ia[i]], &b->v.map.keys[ib[i]], 1);
    for (size_t i = 0; !c && i < n; i++)
        c = cmp_term(&a->v.map.values[ia[i]], &b->v.map.values[ib[i]], exact);
    edist_mem_free(al, ix);
    return c;
}

static int cmp_fun(const edist_term *a, const edist_term *b)
{
    /* erts: module, OldIndex, OldUniq, the number of free variables, then
     * the free variables as terms.  They stay encoded here, so their
     * bytes break the last tie: equal funs compare equal, but two funs
     * differing only in their environment may order unlike BEAM. */
    fun_info fa, fb;
    fun_info_get(a, &fa);
    fun_info_get(b, &fb);
    int c = cmp_atom(a->v.fun.module, b->v.fun.module);
    if (c)
        return c;
    if (fa.old_index != fb.old_index)
        return CMP(fa.old_index, fb.old_index);
    if (fa.old_uniq != fb.old_uniq)
        return CMP(fa.old_uniq, fb.old_uniq);
    if (a->v.fun.num_free != b->v.fun.num_free)
        return CMP(a->v.fun.num_free, b->v.fun.num_free);
    const uint8_t *ea = a->v.fun.raw ? a->v.fun.raw + fa.env_off : NULL;
    const uint8_t *eb = b->v.fun.raw ? b->v.fun.raw + fb.env_off : NULL;
    size_t la = a->v.fun.raw ? a->v.fun.raw_len - fa.env_off : 0;
    size_t lb = b->v.fun.raw ? b->v.fun.raw_len - fb.env_off : 0;
    return cmp_bytes(ea, la, eb, lb);
}

static int cmp_term(const edist_term *a, const edist_term *b, int exact)
{
    int ra = type_rank(a->type), rb = type_rank(b->type);
    if (ra != rb)
        return CMP(ra, rb);
    int c;
    switch (a->type) {
    case EDIST_TERM_INT:
    case EDIST_TERM_BIGINT:
    case EDIST_TERM_FLOAT:
        return cmp_number(a, b, exact);
    case EDIST_TERM_ATOM:
        return cmp_atom(a->v.atom, b->v.atom);
    case EDIST_TERM_REF:
        return cmp_ref(a, b);
    case EDIST_TERM_FUN:
        return cmp_fun(a, b);
    case EDIST_TERM_EXPORT:
        c = cmp_atom(a->v.exp.module, b->v.exp.module);
        if (!c)
            c = cmp_atom(a->v.exp.function, b->v.exp.function);
        return c ? c : CMP(a->v.exp.arity, b->v.exp.arity);
    case EDIST_TERM_PORT:
        c = cmp_node(a->v.port.node, a->v.port.creation, b->v.port.node,
                     b->v.port.creation);
        return c ? c : CMP(a->v.port.id, b->v.port.id);
    case EDIST_TERM_PID:
        if (a->v.pid.serial != b->v.pid.serial)
            return CMP(a->v.pid.serial, b->v.pid.serial);
        if (a->v.pid.id != b->v.pid.id)
            return CMP(a->v.pid.id, b->v.pid.id);
        return cmp_node(a->v.pid.node, a->v.pid.creation, b->v.pid.node,
                        b->v.pid.creation);
    case EDIST_TERM_TUPLE:
        if (a->v.tuple.arity != b->v.tuple.arity)
            return CMP(a->v.tuple.arity, b->v.tuple.arity);
        for (size_t i = 0; i < a->v.tuple.arity; i++) {
            c = cmp_term(&a->v.tuple.elems[i], &b->v.tuple.elems[i], exact);
            if (c)
                return c;
        }
        return 0;
    case EDIST_TERM_MAP:
        return cmp_map(a, b, exact);
    case EDIST_TERM_NIL:
        return 0;
    case EDIST_TERM_LIST:
        return cmp_list(a, b, exact);
    case EDIST_TERM_BINARY:
        return cmp_bits(a, b);
    }
    return 0;
}

int edist_term_compare(const edist_term *x, const edist_term *y)
{
    return cmp_term(x, y, 0);
}

int edist_term_compare_exact(const edist_term *x, const edist_term *y)
{
    return cmp_term(x, y, 1);
}

bool edist_term_equal(const edist_term *x, const edist_term *y)
{
    return cmp_term(x, y, 1) == 0;
}
