/*
 * term.c: constructors and helpers for the arena-owned term tree.
 *
 * Constructors copy into the arena and initialise container elements to
 * [] so that a half-built term is always a valid term: a caller that stops
 * filling in after an error leaves nothing dangerous behind.
 */
#include <string.h>

#include "core/utf8.h"
#include "edist/err.h"
#include "edist/term.h"

/* Atoms hold at most 255 characters, so at most 255 * 4 bytes of UTF-8. */
#define TERM_ATOM_MAX_CHARS 255
#define TERM_ATOM_MAX_BYTES (TERM_ATOM_MAX_CHARS * 4)

edist_term edist_mk_ref(edist_atom node, uint32_t creation, const uint32_t *ids,
                        uint32_t len)
{
    edist_term t;
    memset(&t, 0, sizeof t);
    if (len < 1)
        len = 1;
    if (len > 5)
        len = 5;
    t.type = EDIST_TERM_REF;
    t.v.ref.node = node;
    t.v.ref.creation = creation;
    t.v.ref.len = len;
    if (ids)
        memcpy(t.v.ref.ids, ids, len * sizeof *ids);
    return t;
}

/* Allocates n terms initialised to []. */
static edist_term *term_array(edist_arena *a, size_t n)
{
    edist_term *e = edist_arena_calloc(a, n, sizeof *e);
    if (!e)
        return NULL;
    for (size_t i = 0; i < n; i++)
        e[i].type = EDIST_TERM_NIL;
    return e;
}

int edist_term_atom(edist_arena *a, edist_term *out, const char *utf8,
                    size_t len)
{
    if (!utf8 && len)
        return EDIST_EINVAL;
    if (len > TERM_ATOM_MAX_BYTES)
        return EDIST_EATOMLEN;
    long chars = edist_utf8_count((const uint8_t *)utf8, len);
    if (chars < 0)
        return EDIST_EUTF8;
    if (chars > TERM_ATOM_MAX_CHARS)
        return EDIST_EATOMLEN;
    char *copy = edist_arena_alloc(a, len + 1);
    if (!copy)
        return EDIST_ENOMEM;
    if (len)
        memcpy(copy, utf8, len);
    copy[len] = '\0';
    *out = edist_mk_atom(copy, len);
    return 0;
}

int edist_term_tuple(edist_arena *a, edist_term *out, size_t arity)
{
    edist_term *e = NULL;
    if (arity && !(e = term_array(a, arity)))
        return EDIST_ENOMEM;
    out->type = EDIST_TERM_TUPLE;
    out->v.tuple.arity = arity;
    out->v.tuple.elems = e;
    return 0;
}

int edist_term_list(edist_arena *a, edist_term *out, size_t len)
{
    if (len == 0) {
        *out = edist_mk_nil();
        return 0;
    }
    /* One allocation: the elements followed by the tail. */
    if (len == SIZE_MAX)
        return EDIST_ENOMEM;
    edist_term *e = term_array(a, len + 1);
    if (!e)
        return EDIST_ENOMEM;
    out->type = EDIST_TERM_LIST;
    out->v.list.len = len;
    out->v.list.elems = e;
    out->v.list.tail = &e[len];
    return 0;
}

int edist_term_map(edist_arena *a, edist_term *out, size_t size)
{
    edist_term *k = NULL;
    if (size) {
        if (size > SIZE_MAX / 2)
            return EDIST_ENOMEM;
        if (!(k = term_array(a, size * 2)))
            return EDIST_ENOMEM;
    }
    out->type = EDIST_TERM_MAP;
    out->v.map.size = size;
    out->v.map.keys = k;
    out->v.map.values = k ? k + size : NULL;
    return 0;
}

int edist_term_bitstring(edist_arena *a, edist_term *out, const void *data,
                         size_t size, uint8_t bits)
{
    if (bits < 1 || bits > 8 || (bits < 8 && size == 0))
        return EDIST_EINVAL;
    if (!data && size)
        return EDIST_EINVAL;
    uint8_t *copy = edist_arena_alloc(a, size ? size : 1);
    if (!copy)
        return EDIST_ENOMEM;
    if (size) {
        memcpy(copy, data, size);
        copy[size - 1] &= (uint8_t)(0xFFu << (8 - bits));
    }
    out->type = EDIST_TERM_BINARY;
    out->v.bin.size = size;
    out->v.bin.data = copy;
    out->v.bin.bits = bits;
    return 0;
}

int edist_term_binary(edist_arena *a, edist_term *out, const void *data,
                      size_t size)
{
    return edist_term_bitstring(a, out, data, size, 8);
}

int edist_term_string(edist_arena *a, edist_term *out, const char *s,
                      size_t len)
{
    if (!s && len)
        return EDIST_EINVAL;
    edist_term t;
    int rc = edist_term_list(a, &t, len);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < len; i++)
        t.v.list.elems[i] = edist_mk_int((unsigned char)s[i]);
    *out = t;
    return 0;
}

int edist_term_bigint(edist_arena *a, edist_term *out, int negative,
                      const uint8_t *le, size_t n)
{
    if (!le && n)
        return EDIST_EINVAL;
    while (n && le[n - 1] == 0)
        n--;
    if (n <= 8) {
        uint64_t mag = 0;
        for (size_t i = n; i-- > 0;)
            mag = mag << 8 | le[i];
        if (!negative && mag <= (uint64_t)INT64_MAX) {
            *out = edist_mk_int((int64_t)mag);
            return 0;
        }
        if (negative && mag <= (uint64_t)INT64_MAX + 1) {
            /* -(2^63) is representable; negate in unsigned arithmetic. */
            *out = edist_mk_int(mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN
                                                               : -(int64_t)mag);
            return 0;
        }
    }
    uint8_t *copy = edist_arena_alloc(a, n);
    if (!copy)
        return EDIST_ENOMEM;
    memcpy(copy, le, n);
    out->type = EDIST_TERM_BIGINT;
    out->v.big.negative = negative ? 1 : 0;
    out->v.big.n = n;
    out->v.big.digits = copy;
    return 0;
}

bool edist_term_is_atom(const edist_term *t, const char *name)
{
    if (t->type != EDIST_TERM_ATOM)
        return false;
    size_t n = strlen(name);
    return t->v.atom.len == n && memcmp(t->v.atom.name, name, n) == 0;
}

static int term_copy_atom(edist_arena *a, edist_atom *dst, edist_atom src)
{
    char *p = edist_arena_alloc(a, src.len + 1);
    if (!p)
        return EDIST_ENOMEM;
    if (src.len)
        memcpy(p, src.name, src.len);
    p[src.len] = '\0';
    dst->name = p;
    dst->len = src.len;
    return 0;
}

static const uint8_t *term_copy_bytes(edist_arena *a, const uint8_t *src,
                                      size_t n)
{
    uint8_t *p = edist_arena_alloc(a, n ? n : 1);
    if (p && n)
        memcpy(p, src, n);
    return p;
}

static int term_copy_array(edist_arena *a, edist_term **dst,
                           const edist_term *src, size_t n)
{
    edist_term *e = term_array(a, n);
    if (!e)
        return EDIST_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int rc = edist_term_copy(a, &e[i], &src[i]);
        if (rc < 0)
            return rc;
    }
    *dst = e;
    return 0;
}

int edist_term_copy(edist_arena *a, edist_term *out, const edist_term *src)
{
    edist_term t = *src;
    int rc = 0;
    switch (src->type) {
    case EDIST_TERM_ATOM:
        rc = term_copy_atom(a, &t.v.atom, src->v.atom);
        break;
    case EDIST_TERM_PID:
        rc = term_copy_atom(a, &t.v.pid.node, src->v.pid.node);
        break;
    case EDIST_TERM_PORT:
        rc = term_copy_atom(a, &t.v.port.node, src->v.port.node);
        break;
    case EDIST_TERM_REF:
        rc = term_copy_atom(a, &t.v.ref.node, src->v.ref.node);
        break;
    case EDIST_TERM_EXPORT:
        rc = term_copy_atom(a, &t.v.exp.module, src->v.exp.module);
        if (rc == 0)
            rc = term_copy_atom(a, &t.v.exp.function, src->v.exp.function);
        break;
    case EDIST_TERM_FUN:
        rc = term_copy_atom(a, &t.v.fun.module, src->v.fun.module);
        if (rc == 0 && !(t.v.fun.raw = term_copy_bytes(a, src->v.fun.raw,
                                                       src->v.fun.raw_len)))
            rc = EDIST_ENOMEM;
        break;
    case EDIST_TERM_BIGINT:
        if (!(t.v.big.digits =
                  term_copy_bytes(a, src->v.big.digits, src->v.big.n)))
            rc = EDIST_ENOMEM;
        break;
    case EDIST_TERM_BINARY:
        if (!(t.v.bin.data =
                  term_copy_bytes(a, src->v.bin.data, src->v.bin.size)))
            rc = EDIST_ENOMEM;
        break;
    case EDIST_TERM_TUPLE:
        t.v.tuple.elems = NULL;
        if (src->v.tuple.arity)
            rc = term_copy_array(a, &t.v.tuple.elems, src->v.tuple.elems,
                                 src->v.tuple.arity);
        break;
    case EDIST_TERM_LIST: {
        /* Tails that are lists are walked, not recursed into: the decoder
         * accepts chains of them at constant depth, so recursing could
         * exhaust the stack on a small input. */
        const edist_term *s = src;
        edist_term *d = &t;
        for (;;) {
            rc = edist_term_list(a, d, s->v.list.len);
            if (rc < 0 || d->type != EDIST_TERM_LIST)
                break;
            for (size_t i = 0; rc == 0 && i < s->v.list.len; i++)
                rc = edist_term_copy(a, &d->v.list.elems[i],
                                     &s->v.list.elems[i]);
            d = d->v.list.tail;
            s = s->v.list.tail;
            if (rc < 0 || s->type != EDIST_TERM_LIST) {
                if (rc == 0)
                    rc = edist_term_copy(a, d, s);
                break;
            }
        }
        break;
    }
    case EDIST_TERM_MAP:
        rc = edist_term_map(a, &t, src->v.map.size);
        for (size_t i = 0; rc == 0 && i < src->v.map.size; i++) {
            rc = edist_term_copy(a, &t.v.map.keys[i], &src->v.map.keys[i]);
            if (rc == 0)
                rc = edist_term_copy(a, &t.v.map.values[i],
                                     &src->v.map.values[i]);
        }
        break;
    case EDIST_TERM_INT:
    case EDIST_TERM_FLOAT:
    case EDIST_TERM_NIL:
        break;
    }
    if (rc == 0)
        *out = t;
    return rc;
}
