/*
 * decode.c: ETF to term trees in an arena.
 *
 * The decoder is iterative: containers push a frame (their element array
 * and how many slots are still to fill) on an explicit stack that starts
 * on the C stack and moves into the arena when deeper, so hostile nesting
 * costs a bounded amount of arena memory and never the C stack.  A frame
 * is popped as its last slot is taken, so a list's tail (its last slot)
 * does not deepen the stack: chains of improper tails cost nothing.
 *
 * Allocation is bounded by the input: a container may only claim as many
 * elements as there are bytes left (each element takes at least one), so
 * a short hostile input cannot make the decoder reserve gigabytes.
 *
 * Layouts: see reader.c.  Compressed terms (tag 80) are accepted where
 * OTP accepts them, at the top level:
 *   131 80 UncompressedSize:32 zlib(Tag Data)
 */
#include <string.h>

#include "core/utf8.h"
#include "core/wire.h"
#include "core/zlib_dl.h"
#include "edist/err.h"
#include "etf/etf_int.h"

enum { DF_ARRAY, DF_LIST, DF_MAP };

typedef struct dframe {
    edist_term *base; /* elements; keys for maps */
    edist_term *aux;  /* maps: values */
    size_t i, n;      /* slots taken and total (2 * pairs for maps) */
    size_t depth;     /* depth of the container */
    int kind;
} dframe;

#define DF_LOCAL 32

typedef struct dec {
    edist_etf_reader r;
    edist_arena *a;
    unsigned flags;
    size_t max_depth, max_terms, max_atom_chars, max_size, max_zsize;
    size_t terms;
    dframe *f;
    size_t sp, cap;
    dframe local[DF_LOCAL];
} dec;

static int dpush(dec *d, int kind, edist_term *base, edist_term *aux, size_t n,
                 size_t depth)
{
    if (depth + 1 > d->max_depth)
        return EDIST_EDEPTH;
    if (d->sp == d->cap) {
        dframe *nf = edist_arena_alloc(d->a, 2 * d->cap * sizeof *nf);
        if (!nf)
            return EDIST_ENOMEM;
        memcpy(nf, d->f, d->sp * sizeof *nf);
        d->f = nf;
        d->cap *= 2;
    }
    dframe *f = &d->f[d->sp++];
    f->base = base;
    f->aux = aux;
    f->i = 0;
    f->n = n;
    f->depth = depth;
    f->kind = kind;
    return 0;
}

/* Stores an atom read by the reader into dst: borrowed or copied. */
static int store_atom(dec *d, edist_atom src, edist_atom *dst)
{
    if (d->max_atom_chars < EDIST_ETF_MAX_ATOM_CHARS &&
        src.len > d->max_atom_chars &&
        edist_utf8_count((const uint8_t *)src.name, src.len) >
            (long)d->max_atom_chars)
        return EDIST_EATOMLEN;
    if ((d->flags & EDIST_ETF_BORROW) && src.name != d->r.scratch) {
        *dst = src;
        return 0;
    }
    char *p = edist_arena_alloc(d->a, src.len + 1);
    if (!p)
        return EDIST_ENOMEM;
    memcpy(p, src.name, src.len);
    p[src.len] = '\0';
    dst->name = p;
    dst->len = src.len;
    return 0;
}

static edist_term *alloc_terms(dec *d, size_t n)
{
    if (n > SIZE_MAX / sizeof(edist_term))
        return NULL;
    return edist_arena_alloc(d->a, n * sizeof(edist_term));
}

static int count_terms(dec *d, size_t n)
{
    if (n > d->max_terms - d->terms)
        return EDIST_ETERMS;
    d->terms += n;
    return 0;
}

static int decode_fun(dec *d, edist_term *t);

/* Decodes the term at the cursor into *t; containers push a frame for
 * their elements, whose depth will be depth + 1. */
static int decode_one(dec *d, edist_term *t, size_t depth)
{
    edist_etf_reader *r = &d->r;
    int rc;
again:
    if (d->terms >= d->max_terms)
        return EDIST_ETERMS;
    d->terms++;
    if (r->p >= r->end)
        return EDIST_EAGAIN;
    const uint8_t *p = r->p;
    size_t left = (size_t)(r->end - p), n;
    switch (*p) {
    case EDIST_ETF_SMALL_INTEGER:
        if (left < 2)
            return EDIST_EAGAIN;
        t->type = EDIST_TERM_INT;
        t->v.i = p[1];
        r->p = p + 2;
        return 0;
    case EDIST_ETF_INTEGER:
        if (left < 5)
            return EDIST_EAGAIN;
        t->type = EDIST_TERM_INT;
        t->v.i = (int32_t)edist_get32(p + 1);
        r->p = p + 5;
        return 0;
    case EDIST_ETF_SMALL_BIG:
    case EDIST_ETF_LARGE_BIG: {
        size_t hdr = *p == EDIST_ETF_SMALL_BIG ? 3 : 6;
        if (left < hdr)
            return EDIST_EAGAIN;
        n = hdr == 3 ? p[1] : edist_get32(p + 1);
        if (n > left - hdr)
            return EDIST_EAGAIN;
        if ((rc = edist_term_bigint(d->a, t, p[hdr - 1] != 0, p + hdr, n)) < 0)
            return rc;
        r->p = p + hdr + n;
        return 0;
    }
    case EDIST_ETF_NEW_FLOAT:
    case EDIST_ETF_FLOAT:
        t->type = EDIST_TERM_FLOAT;
        return edist_etf_read_double(r, &t->v.f);
    case EDIST_ETF_ATOM:
    case EDIST_ETF_SMALL_ATOM:
    case EDIST_ETF_ATOM_UTF8:
    case EDIST_ETF_SMALL_ATOM_UTF8:
    case EDIST_ETF_ATOM_CACHE_REF: {
        edist_atom at;
        if ((rc = edist_etf_read_atom(r, &at)) < 0)
            return rc;
        t->type = EDIST_TERM_ATOM;
        return store_atom(d, at, &t->v.atom);
    }
    case EDIST_ETF_SMALL_TUPLE:
    case EDIST_ETF_LARGE_TUPLE: {
        if ((rc = edist_etf_read_tuple_header(r, &n)) < 0)
            return rc;
        edist_term *e = NULL;
        if (n && !(e = alloc_terms(d, n)))
            return EDIST_ENOMEM;
        t->type = EDIST_TERM_TUPLE;
        t->v.tuple.arity = n;
        t->v.tuple.elems = e;
        return n ? dpush(d, DF_ARRAY, e, NULL, n, depth) : 0;
    }
    case EDIST_ETF_NIL:
        t->type = EDIST_TERM_NIL;
        t->v.i = 0;
        r->p = p + 1;
        return 0;
    case EDIST_ETF_STRING: {
        const uint8_t *s;
        if ((rc = edist_etf_read_string(r, &s, &n)) < 0)
            return rc;
        if (n == 0) {
            t->type = EDIST_TERM_NIL;
            t->v.i = 0;
            return 0;
        }
        if ((rc = count_terms(d, n)) < 0)
            return rc;
        edist_term *e = alloc_terms(d, n + 1);
        if (!e)
            return EDIST_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            e[i].type = EDIST_TERM_INT;
            e[i].v.i = s[i];
        }
        e[n].type = EDIST_TERM_NIL;
        e[n].v.i = 0;
        t->type = EDIST_TERM_LIST;
        t->v.list.len = n;
        t->v.list.elems = e;
        t->v.list.tail = &e[n];
        return 0;
    }
    case EDIST_ETF_LIST: {
        if (left < 5)
            return EDIST_EAGAIN;
        n = edist_get32(p + 1);
        if (n >= left - 5)
            return EDIST_EAGAIN;
        r->p = p + 5;
        if (n == 0) /* OTP reads an empty LIST_EXT as its tail alone */
            goto again;
        edist_term *e = alloc_terms(d, n + 1);
        if (!e)
            return EDIST_ENOMEM;
        t->type = EDIST_TERM_LIST;
        t->v.list.len = n;
        t->v.list.elems = e;
        t->v.list.tail = &e[n];
        return dpush(d, DF_LIST, e, NULL, n + 1, depth);
    }
    case EDIST_ETF_MAP: {
        if ((rc = edist_etf_read_map_header(r, &n)) < 0)
            return rc;
        edist_term *e = NULL;
        if (n && !(e = alloc_terms(d, 2 * n)))
            return EDIST_ENOMEM;
        t->type = EDIST_TERM_MAP;
        t->v.map.size = n;
        t->v.map.keys = e;
        t->v.map.values = e ? e + n : NULL;
        return n ? dpush(d, DF_MAP, e, e + n, 2 * n, depth) : 0;
    }
    case EDIST_ETF_BINARY:
    case EDIST_ETF_BIT_BINARY: {
        const uint8_t *data;
        uint8_t bits;
        if ((rc = edist_etf_read_bitstring(r, &data, &n, &bits)) < 0)
            return rc;
        uint8_t mask = (uint8_t)(0xFFu >> bits);
        t->type = EDIST_TERM_BINARY;
        t->v.bin.size = n;
        t->v.bin.bits = bits;
        if ((d->flags & EDIST_ETF_BORROW) &&
            (bits == 8 || !(data[n - 1] & mask))) {
            t->v.bin.data = data;
            return 0;
        }
        uint8_t *copy = edist_arena_alloc(d->a, n ? n : 1);
        if (!copy)
            return EDIST_ENOMEM;
        if (n) {
            memcpy(copy, data, n);
            copy[n - 1] &= (uint8_t)~mask;
        }
        t->v.bin.data = copy;
        return 0;
    }
    case EDIST_ETF_NEW_PID:
    case EDIST_ETF_PID:
        if ((rc = edist_etf_read_pid(r, t)) < 0)
            return rc;
        return store_atom(d, t->v.pid.node, &t->v.pid.node);
    case EDIST_ETF_NEW_PORT:
    case EDIST_ETF_V4_PORT:
    case EDIST_ETF_PORT:
        if ((rc = edist_etf_read_port(r, t)) < 0)
            return rc;
        return store_atom(d, t->v.port.node, &t->v.port.node);
    case EDIST_ETF_NEWER_REFERENCE:
    case EDIST_ETF_NEW_REFERENCE:
    case EDIST_ETF_REFERENCE:
        if ((rc = edist_etf_read_ref(r, t)) < 0)
            return rc;
        return store_atom(d, t->v.ref.node, &t->v.ref.node);
    case EDIST_ETF_EXPORT: {
        edist_atom m, f;
        r->p = p + 1;
        if ((rc = edist_etf_read_atom(r, &m)) < 0 ||
            (rc = store_atom(d, m, &m)) < 0 ||
            (rc = edist_etf_read_atom(r, &f)) < 0 ||
            (rc = store_atom(d, f, &f)) < 0 ||
            (rc = etf_export_arity(r, &n)) < 0) {
            r->p = p;
            return rc == EDIST_ETYPE ? EDIST_EBADMSG : rc;
        }
        t->type = EDIST_TERM_EXPORT;
        t->v.exp.module = m;
        t->v.exp.function = f;
        t->v.exp.arity = (uint32_t)n;
        return 0;
    }
    case EDIST_ETF_NEW_FUN:
        return decode_fun(d, t);
    default:
        return EDIST_ETAG;
    }
}

typedef struct keyenc {
    const uint8_t *p;
    size_t n;
} keyenc;

static uint64_t key_hash(const edist_term *k, const keyenc *e)
{
    if (!e)
        return (uint64_t)k->v.i * 0x9E3779B97F4A7C15u;
    uint64_t h = 0xCBF29CE484222325u; /* FNV-1a */
    for (size_t i = 0; i < e->n; i++)
        h = (h ^ e->p[i]) * 0x100000001B3u;
    return h;
}

static int key_same(const edist_term *a, const edist_term *b, const keyenc *ea,
                    const keyenc *eb)
{
    if (!ea)
        return a->v.i == b->v.i;
    return ea->n == eb->n && memcmp(ea->p, eb->p, ea->n) == 0;
}

/*
 * OTP refuses a map with two equal keys.  Keys are compared by their
 * canonical encodings (equal encodings iff =:=, the map key equality), in
 * a hash set; integer keys, the common case, as integers, and keys that
 * are already strictly ascending integers (OTP's small maps) need no set.
 * Scratch goes to the arena.
 */
static int check_keys(dec *d, const edist_term *keys, size_t n)
{
    if (n < 2)
        return 0;
    size_t i, ints = 0, sorted = 1;
    for (i = 0; i < n; i++)
        ints += keys[i].type == EDIST_TERM_INT;
    keyenc *e = NULL;
    if (ints == n) {
        for (i = 1; i < n && sorted; i++)
            sorted = keys[i - 1].v.i < keys[i].v.i;
        if (sorted)
            return 0;
    } else {
        if (!(e = edist_arena_alloc(d->a, n * sizeof *e)))
            return EDIST_ENOMEM;
        edist_etf_encode_opts o = {.flags = EDIST_ETF_NO_VERSION};
        for (i = 0; i < n; i++) {
            size_t size;
            int rc = edist_etf_encoded_size(&keys[i], &o, &size);
            if (rc < 0)
                return rc;
            uint8_t *b = edist_arena_alloc(d->a, size);
            if (!b)
                return EDIST_ENOMEM;
            if ((rc = edist_etf_encode_to(&keys[i], &o, b, size, &size)) < 0)
                return rc;
            e[i].p = b;
            e[i].n = size;
        }
    }
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    size_t *slot = edist_arena_alloc(d->a, cap * sizeof *slot);
    if (!slot)
        return EDIST_ENOMEM;
    memset(slot, 0xFF, cap * sizeof *slot); /* SIZE_MAX: empty */
    for (i = 0; i < n; i++) {
        const keyenc *ei = e ? &e[i] : NULL;
        size_t h = (size_t)(key_hash(&keys[i], ei) >> 16) & (cap - 1);
        for (; slot[h] != SIZE_MAX; h = (h + 1) & (cap - 1)) {
            size_t j = slot[h];
            if (key_same(&keys[i], &keys[j], ei, e ? &e[j] : NULL))
                return EDIST_EBADMSG;
        }
        slot[h] = i;
    }
    return 0;
}

/* Fills the tree rooted at root from the cursor. */
static int decode_tree(dec *d, edist_term *root)
{
    edist_term *t = root;
    size_t depth = 1;
    d->f = d->local;
    d->sp = 0;
    d->cap = DF_LOCAL;
    for (;;) {
        int rc = decode_one(d, t, depth);
        if (rc < 0)
            return rc;
        if (!d->sp)
            return 0;
        dframe *f = &d->f[d->sp - 1];
        size_t i = f->i++;
        if (f->kind == DF_MAP) {
            /* Taking the last value: every key is complete by now. */
            if (i == f->n - 1 && (rc = check_keys(d, f->base, f->n / 2)) < 0)
                return rc;
            t = (i & 1) ? &f->aux[i >> 1] : &f->base[i >> 1];
            depth = f->depth + 1;
        } else {
            t = &f->base[i];
            /* A list's tail sits at the list's own depth. */
            depth =
                f->kind == DF_LIST && f->i == f->n ? f->depth : f->depth + 1;
        }
        if (f->i == f->n)
            d->sp--;
    }
}

/*
 * NEW_FUN_EXT.  The fun is validated and kept as its raw bytes, which
 * re-encode byte for byte.  Raw bytes that refer to the message's atom
 * cache would be meaningless anywhere else, so such a fun is rebuilt:
 * its parts are decoded (cache refs resolved) and encoded afresh.
 */
static int decode_fun(dec *d, edist_term *t)
{
    edist_etf_reader *r = &d->r;
    const uint8_t *p = r->p;
    edist_etf_reader sub = *r;
    size_t cnt = d->terms;
    int saw = 0, rc;
    if ((rc = etf_skip_terms(&sub, d->max_terms, &cnt, &saw)) < 0)
        return rc;
    d->terms = cnt;
    size_t raw_len = (size_t)(sub.p - p);
    memset(&t->v.fun, 0, sizeof t->v.fun);
    t->type = EDIST_TERM_FUN;
    t->v.fun.arity = p[5];
    memcpy(t->v.fun.uniq, p + 6, 16);
    t->v.fun.index = edist_get32(p + 22);
    t->v.fun.num_free = edist_get32(p + 26);
    /* Module, OldIndex, OldUniq, Pid, then the free variables. */
    const uint8_t *end = r->end;
    edist_atom module;
    r->p = p + 30;
    r->end = sub.p;
    rc = edist_etf_read_atom(r, &module);
    if (rc == 0)
        rc = store_atom(d, module, &t->v.fun.module);
    edist_etf_reader in = *r;
    r->p = p;
    r->end = end;
    if (rc < 0)
        return rc;
    if (!saw) {
        if (d->flags & EDIST_ETF_BORROW) {
            t->v.fun.raw = p;
        } else {
            uint8_t *copy = edist_arena_alloc(d->a, raw_len);
            if (!copy)
                return EDIST_ENOMEM;
            memcpy(copy, p, raw_len);
            t->v.fun.raw = copy;
        }
        t->v.fun.raw_len = raw_len;
        r->p = sub.p;
        return 0;
    }
    size_t nparts = 4 + (size_t)t->v.fun.num_free;
    edist_term *parts = alloc_terms(d, nparts);
    if (!parts)
        return EDIST_ENOMEM;
    parts[0] = edist_mk_atom(t->v.fun.module.name, t->v.fun.module.len);
    edist_etf_decode_opts o = {.flags = d->flags & EDIST_ETF_BORROW,
                               .max_depth = d->max_depth,
                               .max_terms = d->max_terms,
                               .max_atom_chars = d->max_atom_chars};
    for (size_t i = 1; i < nparts; i++)
        if ((rc = edist_etf_read_term(&in, d->a, &o, &parts[i])) < 0)
            return rc;
    /* Header: tag, Size, Arity, Uniq, Index, NumFree. */
    size_t size = 1 + 4 + 1 + 16 + 4 + 4, part;
    for (size_t i = 0; i < nparts; i++) {
        edist_etf_encode_opts eo = {.flags = EDIST_ETF_NO_VERSION};
        if ((rc = edist_etf_encoded_size(&parts[i], &eo, &part)) < 0)
            return rc;
        size += part;
    }
    if (size - 1 > UINT32_MAX)
        return EDIST_ETOOBIG;
    uint8_t *raw = edist_arena_alloc(d->a, size);
    if (!raw)
        return EDIST_ENOMEM;
    memcpy(raw, p, 30);
    edist_put32(raw + 1, (uint32_t)(size - 1));
    edist_etf_writer w;
    edist_etf_writer_init_fixed(&w, raw + 30, size - 30, 0);
    for (size_t i = 0; i < nparts; i++)
        if ((rc = edist_etf_put_term(&w, &parts[i])) < 0)
            return rc;
    t->v.fun.raw = raw;
    t->v.fun.raw_len = size;
    r->p = sub.p;
    return 0;
}

static void *z_arena_alloc(void *opaque, unsigned items, unsigned size)
{
    if (size && items > SIZE_MAX / size)
        return NULL;
    return edist_arena_alloc(opaque, (size_t)items * size);
}

static void z_arena_free(void *opaque, void *p)
{
    /* The arena frees everything at once. */
    (void)opaque;
    (void)p;
}

long etf_inflate(edist_arena *a, const uint8_t *src, size_t len, uint8_t *dst,
                 size_t dlen)
{
    edist_zlib zl;
    if (edist_zlib_open(&zl) < 0)
        return EDIST_EZLIB;
    z_stream z;
    memset(&z, 0, sizeof z);
    z.zalloc = z_arena_alloc;
    z.zfree = z_arena_free;
    z.opaque = a;
    int zr = zl.inflate_init(&z, ZLIB_VERSION, (int)sizeof z);
    if (zr != Z_OK) {
        edist_zlib_close(&zl);
        return zr == Z_MEM_ERROR ? EDIST_ENOMEM : EDIST_EZLIB;
    }
    if (len > UINT32_MAX)
        len = UINT32_MAX;
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)len;
    z.next_out = dst;
    z.avail_out = (uInt)dlen;
    zr = zl.inflate(&z, Z_FINISH);
    long used = (long)z.total_in;
    size_t produced = dlen - z.avail_out;
    zl.inflate_end(&z);
    edist_zlib_close(&zl);
    if (zr == Z_STREAM_END)
        return produced == dlen ? used : EDIST_EZLIB;
    if (zr == Z_MEM_ERROR)
        return EDIST_ENOMEM;
    if (zr == Z_BUF_ERROR && z.avail_out == 0)
        return EDIST_EZLIB; /* more data than claimed */
    if (zr == Z_BUF_ERROR)
        return EDIST_EAGAIN; /* the stream is cut short */
    return EDIST_EZLIB;
}

static void dec_init(dec *d, edist_arena *a, const edist_etf_decode_opts *opts)
{
    d->a = a;
    d->flags = opts ? opts->flags : 0;
    d->max_depth =
        opts && opts->max_depth ? opts->max_depth : EDIST_ETF_DEFAULT_MAX_DEPTH;
    d->max_terms =
        opts && opts->max_terms ? opts->max_terms : EDIST_ETF_DEFAULT_MAX_TERMS;
    d->max_atom_chars = opts && opts->max_atom_chars &&
                                opts->max_atom_chars < EDIST_ETF_MAX_ATOM_CHARS
                            ? opts->max_atom_chars
                            : EDIST_ETF_MAX_ATOM_CHARS;
    d->max_size = opts && opts->max_size ? opts->max_size : SIZE_MAX;
    d->max_zsize = opts && opts->max_decompressed
                       ? opts->max_decompressed
                       : EDIST_ETF_DEFAULT_MAX_DECOMPRESSED;
    d->terms = 0;
}

/* Decodes a term at d->r's cursor (no version byte), compressed or not. */
static int decode_at(dec *d, edist_term *out)
{
    edist_etf_reader *r = &d->r;
    const uint8_t *start = r->p;
    size_t left = (size_t)(r->end - start);
    /* The size cap: the encoding may not run past max_size bytes. */
    const uint8_t *real_end = r->end;
    int capped = left > d->max_size;
    if (capped)
        r->end = start + d->max_size;
    int rc;
    edist_term t;
    if (left && *start == EDIST_ETF_COMPRESSED) {
        r->end = real_end;
        if (left < 5)
            return EDIST_EAGAIN;
        size_t zsize = edist_get32(start + 1);
        if (zsize > d->max_zsize || zsize > d->max_size)
            return EDIST_ETOOBIG;
        if (zsize == 0)
            return EDIST_EZLIB;
        uint8_t *body = edist_arena_alloc(d->a, zsize);
        if (!body)
            return EDIST_ENOMEM;
        long used = etf_inflate(d->a, start + 5, left - 5, body, zsize);
        if (used < 0)
            return (int)used;
        edist_etf_reader outer = *r;
        r->start = body;
        r->p = body;
        r->end = body + zsize;
        rc = decode_tree(d, &t);
        if (rc == 0 && r->p != r->end)
            rc = EDIST_EZLIB; /* the body must be exactly one term */
        outer.p = start + 5 + used;
        *r = outer;
        if (rc < 0) {
            r->p = start;
            return rc == EDIST_EAGAIN ? EDIST_EZLIB : rc;
        }
        *out = t;
        return 0;
    }
    rc = decode_tree(d, &t);
    r->end = real_end;
    if (rc < 0) {
        r->p = start;
        return rc == EDIST_EAGAIN && capped ? EDIST_ETOOBIG : rc;
    }
    *out = t;
    return 0;
}

int edist_etf_decode(edist_arena *a, const void *buf, size_t len,
                     const edist_etf_decode_opts *opts, edist_term *out,
                     size_t *consumed)
{
    if (!a || (!buf && len) || !out)
        return EDIST_EINVAL;
    dec d;
    dec_init(&d, a, opts);
    edist_etf_reader_init(&d.r, buf, len, opts ? opts->cache_refs : NULL,
                          opts ? opts->n_cache_refs : 0);
    if (!(d.flags & EDIST_ETF_NO_VERSION)) {
        int rc = edist_etf_read_version(&d.r);
        if (rc < 0)
            return rc;
    }
    int rc = decode_at(&d, out);
    if (rc < 0)
        return rc;
    if (consumed)
        *consumed = (size_t)(d.r.p - d.r.start);
    return 0;
}

int edist_etf_read_term(edist_etf_reader *r, edist_arena *a,
                        const edist_etf_decode_opts *opts, edist_term *out)
{
    if (!r || !a || !out)
        return EDIST_EINVAL;
    dec d;
    dec_init(&d, a, opts);
    d.r = *r;
    int rc = decode_at(&d, out);
    if (rc < 0)
        return rc;
    r->p = d.r.p;
    return 0;
}
