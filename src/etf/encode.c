/*
 * encode.c: term trees to ETF, as OTP 25's term_to_binary/1 writes them.
 *
 * One walker serves two passes: SIZE computes the exact length (so that
 * callers can encode into a preallocated frame and edist_etf_encode()
 * allocates once), WRITE emits through the streaming writer.  The walk is
 * iterative with an explicit stack (on the C stack for the first levels,
 * then on the heap), so no tree is too deep for it.
 *
 * Lists follow OTP's rules (erts external.c): a proper list of at most
 * 65535 integers in 0..255 is STRING_EXT; otherwise LIST_EXT counts every
 * cons cell up to the first tail that is not a list, so a tree whose tail
 * is itself a list is written as the one list it denotes.
 *
 * Compression is OTP's: zlib at level 6 of the body (the term without the
 * version byte) into a buffer 5 bytes smaller than the body; if it does
 * not fit, the plain encoding is returned.
 *
 *   +-----+----+-------------------+-------------------------+
 *   | 131 | 80 | UncompressedSize  | zlib stream of Tag Data |
 *   +-----+----+-------------------+-------------------------+
 */
#include <math.h>
#include <string.h>

#include "core/mem.h"
#include "core/zlib_dl.h"
#include "edist/err.h"
#include "etf/etf_int.h"

enum { WALK_SIZE, WALK_WRITE };

enum { EF_ARRAY, EF_MAP, EF_LIST };

typedef struct eframe {
    const edist_term *base; /* elements; keys for maps */
    const edist_term *aux;  /* maps: the values; lists: the tail */
    size_t i, n;            /* n: elements, or 2 * pairs for maps */
    int kind;
} eframe;

#define EF_LOCAL 32

typedef struct walker {
    int mode;
    edist_etf_writer *w; /* WRITE */
    unsigned flags;      /* atom mode, for SIZE */
    size_t size;         /* SIZE */
    eframe *f;
    size_t sp, cap;
    const edist_allocator *alloc;
    eframe local[EF_LOCAL];
} walker;

static int push(walker *k, int kind, const edist_term *base, size_t n,
                const edist_term *aux)
{
    if (k->sp == k->cap) {
        size_t ncap = k->cap * 2;
        eframe *nf = edist_mem_alloc(k->alloc, ncap * sizeof *nf);
        if (!nf)
            return EDIST_ENOMEM;
        memcpy(nf, k->f, k->sp * sizeof *nf);
        if (k->f != k->local)
            edist_mem_free(k->alloc, k->f);
        k->f = nf;
        k->cap = ncap;
    }
    eframe *f = &k->f[k->sp++];
    f->base = base;
    f->aux = aux;
    f->i = 0;
    f->n = n;
    f->kind = kind;
    return 0;
}

/* A list chain: its cons cells up to the first non-list tail. */
typedef struct list_run {
    size_t count;
    const edist_term *end; /* the final tail */
    int string;            /* STRING_EXT applies */
} list_run;

static void list_chain(const edist_term *t, list_run *c)
{
    size_t count = 0;
    int bytes = 1;
    while (t->type == EDIST_TERM_LIST) {
        const edist_term *e = t->v.list.elems;
        size_t n = t->v.list.len;
        count += n;
        for (size_t i = 0; bytes && i < n; i++)
            if (e[i].type != EDIST_TERM_INT || (uint64_t)e[i].v.i > 255)
                bytes = 0;
        t = t->v.list.tail;
    }
    c->count = count;
    c->end = t;
    c->string = bytes && t->type == EDIST_TERM_NIL && count > 0 &&
                count <= ETF_MAX_STRING_LEN;
}

static int put_string_chain(edist_etf_writer *w, const edist_term *t,
                            size_t count)
{
    uint8_t *o = etf_room(w, 3 + count);
    if (!o)
        return w->err;
    o[0] = EDIST_ETF_STRING;
    o[1] = (uint8_t)(count >> 8);
    o[2] = (uint8_t)count;
    o += 3;
    for (; t->type == EDIST_TERM_LIST; t = t->v.list.tail)
        for (size_t i = 0; i < t->v.list.len; i++)
            *o++ = (uint8_t)t->v.list.elems[i].v.i;
    w->len += 3 + count;
    return 0;
}

static long big_size(int neg, const uint8_t *le, size_t n)
{
    while (n && le[n - 1] == 0)
        n--;
    if (n <= 8) {
        uint64_t m = 0;
        for (size_t i = n; i-- > 0;)
            m = m << 8 | le[i];
        if (!neg && m <= (uint64_t)INT64_MAX)
            return (long)etf_int_size((int64_t)m);
        if (neg && m <= (uint64_t)INT64_MAX + 1)
            return (long)etf_int_size((int64_t)(0 - m));
        return (long)(3 + n);
    }
    return (long)(n <= 255 ? 3 + n : 6 + n);
}

static long atom_size(walker *k, edist_atom a)
{
    if (!a.name && a.len)
        return EDIST_EINVAL;
    return etf_atom_size(a.name, a.len, k->flags);
}

/* SIZE pass: the bytes of t's own encoding (children excluded). */
static long head_size(walker *k, const edist_term *t, list_run *c)
{
    long a, b;
    switch (t->type) {
    case EDIST_TERM_INT:
        return (long)etf_int_size(t->v.i);
    case EDIST_TERM_BIGINT:
        if (!t->v.big.digits && t->v.big.n)
            return EDIST_EINVAL;
        return big_size(t->v.big.negative, t->v.big.digits, t->v.big.n);
    case EDIST_TERM_FLOAT:
        return isfinite(t->v.f) ? 9 : EDIST_EINVAL;
    case EDIST_TERM_ATOM:
        return atom_size(k, t->v.atom);
    case EDIST_TERM_REF:
        if (t->v.ref.len < 1 || t->v.ref.len > 5)
            return EDIST_EINVAL;
        a = atom_size(k, t->v.ref.node);
        return a < 0 ? a : a + 7 + 4 * (long)t->v.ref.len;
    case EDIST_TERM_FUN:
        if (!t->v.fun.raw || !t->v.fun.raw_len)
            return EDIST_EINVAL;
        return (long)t->v.fun.raw_len;
    case EDIST_TERM_EXPORT:
        if (t->v.exp.arity > 255)
            return EDIST_EINVAL;
        a = atom_size(k, t->v.exp.module);
        b = atom_size(k, t->v.exp.function);
        return a < 0 ? a : b < 0 ? b : 3 + a + b;
    case EDIST_TERM_PORT:
        a = atom_size(k, t->v.port.node);
        return a < 0 ? a : a + (t->v.port.id > ETF_MAX_V3_PORT ? 13 : 9);
    case EDIST_TERM_PID:
        a = atom_size(k, t->v.pid.node);
        return a < 0 ? a : a + 13;
    case EDIST_TERM_TUPLE:
        if (t->v.tuple.arity > UINT32_MAX)
            return EDIST_EINVAL;
        return t->v.tuple.arity < 256 ? 2 : 5;
    case EDIST_TERM_MAP:
        return t->v.map.size > UINT32_MAX ? EDIST_EINVAL : 5;
    case EDIST_TERM_NIL:
        return 1;
    case EDIST_TERM_LIST:
        if (c->count > UINT32_MAX)
            return EDIST_EINVAL;
        return c->string ? 3 + (long)c->count : 5;
    case EDIST_TERM_BINARY: {
        uint8_t bits = t->v.bin.bits;
        size_t n = t->v.bin.size;
        if (bits < 1 || bits > 8 || (bits < 8 && n == 0) || n > UINT32_MAX ||
            (!t->v.bin.data && n))
            return EDIST_EINVAL;
        return (long)((bits == 8 ? 5 : 6) + n);
    }
    }
    return EDIST_EINVAL;
}

/* WRITE pass: t's own encoding. */
static int head_write(edist_etf_writer *w, const edist_term *t, list_run *c)
{
    switch (t->type) {
    case EDIST_TERM_INT:
        return edist_etf_put_int(w, t->v.i);
    case EDIST_TERM_BIGINT:
        return edist_etf_put_bigint(w, t->v.big.negative, t->v.big.digits,
                                    t->v.big.n);
    case EDIST_TERM_FLOAT:
        return edist_etf_put_double(w, t->v.f);
    case EDIST_TERM_ATOM:
        return edist_etf_put_atom(w, t->v.atom.name, t->v.atom.len);
    case EDIST_TERM_REF:
        return edist_etf_put_ref(w, t->v.ref.node, t->v.ref.creation,
                                 t->v.ref.ids, t->v.ref.len);
    case EDIST_TERM_FUN:
        if (!t->v.fun.raw || !t->v.fun.raw_len)
            return w->err = EDIST_EINVAL;
        return edist_etf_put_raw(w, t->v.fun.raw, t->v.fun.raw_len);
    case EDIST_TERM_EXPORT:
        return edist_etf_put_export(w, t->v.exp.module, t->v.exp.function,
                                    t->v.exp.arity);
    case EDIST_TERM_PORT:
        return edist_etf_put_port(w, t->v.port.node, t->v.port.id,
                                  t->v.port.creation);
    case EDIST_TERM_PID:
        return edist_etf_put_pid(w, t->v.pid.node, t->v.pid.id, t->v.pid.serial,
                                 t->v.pid.creation);
    case EDIST_TERM_TUPLE:
        return edist_etf_put_tuple_header(w, t->v.tuple.arity);
    case EDIST_TERM_MAP:
        return edist_etf_put_map_header(w, t->v.map.size);
    case EDIST_TERM_NIL:
        return edist_etf_put_nil(w);
    case EDIST_TERM_LIST:
        if (c->string)
            return put_string_chain(w, t, c->count);
        return edist_etf_put_list_header(w, c->count);
    case EDIST_TERM_BINARY:
        return edist_etf_put_bitstring(w, t->v.bin.data, t->v.bin.size,
                                       t->v.bin.bits);
    }
    return w->err = EDIST_EINVAL;
}

static int walk(walker *k, const edist_term *t)
{
    k->f = k->local;
    k->sp = 0;
    k->cap = EF_LOCAL;
    int rc = 0;
    for (;;) {
        list_run c = {0, NULL, 0};
        if (t->type == EDIST_TERM_LIST) {
            list_chain(t, &c);
            if (c.count == 0) {
                /* Only empty segments: the term is its final tail. */
                t = c.end;
                continue;
            }
        }
        if (k->mode == WALK_SIZE) {
            long n = head_size(k, t, &c);
            if (n < 0) {
                rc = (int)n;
                break;
            }
            k->size += (size_t)n;
        } else if ((rc = head_write(k->w, t, &c)) < 0) {
            break;
        }
        if (t->type == EDIST_TERM_TUPLE && t->v.tuple.arity)
            rc = push(k, EF_ARRAY, t->v.tuple.elems, t->v.tuple.arity, NULL);
        else if (t->type == EDIST_TERM_MAP && t->v.map.size)
            rc = push(k, EF_MAP, t->v.map.keys, 2 * t->v.map.size,
                      t->v.map.values);
        else if (t->type == EDIST_TERM_LIST && !c.string)
            rc = push(k, EF_LIST, t->v.list.elems, t->v.list.len,
                      t->v.list.tail);
        if (rc < 0)
            break;
        /* Find the next term to emit. */
        t = NULL;
        while (k->sp) {
            eframe *f = &k->f[k->sp - 1];
            if (f->i < f->n) {
                size_t i = f->i++;
                if (f->kind == EF_MAP)
                    t = (i & 1) ? &f->aux[i >> 1] : &f->base[i >> 1];
                else
                    t = &f->base[i];
                break;
            }
            k->sp--;
            if (f->kind == EF_LIST) {
                const edist_term *tl = f->aux;
                if (tl->type == EDIST_TERM_LIST) {
                    /* The next segment of the same list: reuse the
                     * frame. */
                    k->sp++;
                    f->base = tl->v.list.elems;
                    f->n = tl->v.list.len;
                    f->i = 0;
                    f->aux = tl->v.list.tail;
                    continue;
                }
                t = tl;
                break;
            }
        }
        if (!t)
            break;
    }
    if (k->f != k->local)
        edist_mem_free(k->alloc, k->f);
    return rc;
}

static void walker_init(walker *k, int mode, edist_etf_writer *w,
                        unsigned flags, const edist_allocator *alloc)
{
    k->mode = mode;
    k->w = w;
    k->flags = flags;
    k->size = 0;
    k->alloc = edist_mem_resolve(alloc);
}

int edist_etf_put_term(edist_etf_writer *w, const edist_term *t)
{
    if (w->err)
        return w->err;
    if (!t) {
        w->err = EDIST_EINVAL;
        return w->err;
    }
    walker k;
    walker_init(&k, WALK_WRITE, w, w->flags, w->alloc);
    size_t len0 = w->len, nrefs0 = w->nrefs, ref_bytes0 = w->ref_bytes;
    int rc = walk(&k, t);
    if (rc < 0) {
        /* A failed put writes nothing, whatever went out before. */
        w->len = len0;
        w->nrefs = nrefs0;
        w->ref_bytes = ref_bytes0;
        if (!w->err)
            w->err = rc;
    }
    return rc;
}

static unsigned atom_flags(const edist_etf_encode_opts *o)
{
    return o ? (o->flags & EDIST_ETF_ATOMS_LATIN1) : 0;
}

/* The size of t's body (no version byte). */
static int body_size(const edist_term *t, const edist_etf_encode_opts *o,
                     size_t *size)
{
    walker k;
    walker_init(&k, WALK_SIZE, NULL, atom_flags(o), o ? o->alloc : NULL);
    int rc = walk(&k, t);
    if (rc < 0)
        return rc;
    *size = k.size;
    return 0;
}

int edist_etf_encoded_size(const edist_term *t,
                           const edist_etf_encode_opts *opts, size_t *size)
{
    if (!t || !size || (opts && (opts->flags & EDIST_ETF_COMPRESS)))
        return EDIST_EINVAL;
    size_t n;
    int rc = body_size(t, opts, &n);
    if (rc < 0)
        return rc;
    *size = n + ((opts && (opts->flags & EDIST_ETF_NO_VERSION)) ? 0 : 1);
    return 0;
}

int edist_etf_encode_to(const edist_term *t, const edist_etf_encode_opts *opts,
                        void *buf, size_t cap, size_t *written)
{
    if (!t || (!buf && cap) || (opts && (opts->flags & EDIST_ETF_COMPRESS)))
        return EDIST_EINVAL;
    edist_etf_writer w;
    edist_etf_writer_init_fixed(&w, buf, cap, atom_flags(opts));
    /* The walk's stack, when deeper than its local frames, comes from the
     * options' allocator; the fixed writer itself never allocates. */
    if (!(opts && (opts->flags & EDIST_ETF_NO_VERSION)))
        edist_etf_put_version(&w);
    walker k;
    walker_init(&k, WALK_WRITE, &w, w.flags, opts ? opts->alloc : NULL);
    int rc = w.err ? w.err : walk(&k, t);
    if (rc < 0)
        return rc;
    if (written)
        *written = w.len;
    return 0;
}

static void *z_alloc(void *opaque, unsigned items, unsigned size)
{
    const edist_allocator *a = opaque;
    if (size && items > SIZE_MAX / size)
        return NULL;
    return edist_mem_alloc(a, (size_t)items * size);
}

static void z_free(void *opaque, void *p)
{
    edist_mem_free((const edist_allocator *)opaque, p);
}

/* Compresses body[0..n) into out->data after a 6-byte header (version and
 * tag 80 and the size; 5 bytes without the version).  Returns 1 when it
 * fits in n - 5 bytes, 0 when OTP would fall back, or a negative code. */
static int compress_body(const edist_allocator *al, int level,
                         const uint8_t *body, size_t n, uint8_t *dst,
                         size_t dcap, size_t *dlen)
{
    /* zlib counts in uInt; terms beyond 4 GiB are not compressed. */
    if (n > UINT32_MAX || dcap > UINT32_MAX)
        return 0;
    edist_zlib zl;
    if (edist_zlib_open(&zl) < 0)
        return EDIST_EZLIB;
    z_stream z;
    memset(&z, 0, sizeof z);
    z.zalloc = z_alloc;
    z.zfree = z_free;
    z.opaque = (void *)(uintptr_t)al;
    int zr = zl.deflate_init(&z, level, ZLIB_VERSION, (int)sizeof z);
    if (zr != Z_OK) {
        edist_zlib_close(&zl);
        return zr == Z_MEM_ERROR ? EDIST_ENOMEM : EDIST_EZLIB;
    }
    z.next_in = (Bytef *)(uintptr_t)body;
    z.avail_in = (uInt)n;
    z.next_out = dst;
    z.avail_out = (uInt)dcap;
    zr = zl.deflate(&z, Z_FINISH);
    *dlen = dcap - z.avail_out;
    zl.deflate_end(&z);
    edist_zlib_close(&zl);
    if (zr == Z_STREAM_END)
        return 1;
    if (zr == Z_OK || zr == Z_BUF_ERROR)
        return 0;
    return zr == Z_MEM_ERROR ? EDIST_ENOMEM : EDIST_EZLIB;
}

int edist_etf_encode(const edist_term *t, const edist_etf_encode_opts *opts,
                     edist_bytes *out)
{
    if (!out)
        return EDIST_EINVAL;
    memset(out, 0, sizeof *out);
    if (!t)
        return EDIST_EINVAL;
    unsigned flags = opts ? opts->flags : 0;
    const edist_allocator *al = edist_mem_resolve(opts ? opts->alloc : NULL);
    size_t limit = opts && opts->max_size ? opts->max_size : SIZE_MAX;
    size_t ver = (flags & EDIST_ETF_NO_VERSION) ? 0 : 1;
    size_t body;
    int rc = body_size(t, opts, &body);
    if (rc < 0)
        return rc;
    if (body > SIZE_MAX - 1)
        return EDIST_ETOOBIG;
    uint8_t *plain = edist_mem_alloc(al, ver + body);
    if (!plain)
        return EDIST_ENOMEM;
    edist_etf_writer w;
    edist_etf_writer_init_fixed(&w, plain, ver + body, atom_flags(opts));
    if (ver)
        edist_etf_put_version(&w);
    walker k;
    walker_init(&k, WALK_WRITE, &w, w.flags, al);
    rc = walk(&k, t);
    if (rc == 0 && w.len != ver + body)
        rc = EDIST_EINVAL; /* the tree changed between the passes */
    if (rc == 0 && (flags & EDIST_ETF_COMPRESS) && body > 5 &&
        body <= UINT32_MAX) {
        int level = opts->level ? opts->level : Z_DEFAULT_COMPRESSION;
        size_t hdr = ver + 5, dlen = 0;
        uint8_t *z = edist_mem_alloc(al, hdr + body - 5);
        if (!z) {
            rc = EDIST_ENOMEM;
        } else {
            rc = compress_body(al, level, plain + ver, body, z + hdr, body - 5,
                               &dlen);
            if (rc == 1) {
                if (ver)
                    z[0] = EDIST_ETF_VERSION;
                z[ver] = EDIST_ETF_COMPRESSED;
                z[ver + 1] = (uint8_t)(body >> 24);
                z[ver + 2] = (uint8_t)(body >> 16);
                z[ver + 3] = (uint8_t)(body >> 8);
                z[ver + 4] = (uint8_t)body;
                edist_mem_free(al, plain);
                plain = z;
                body = hdr + dlen - ver;
                rc = 0;
            } else {
                edist_mem_free(al, z);
            }
        }
    }
    if (rc == 0 && ver + body > limit)
        rc = EDIST_ETOOBIG;
    if (rc < 0) {
        edist_mem_free(al, plain);
        return rc;
    }
    out->data = plain;
    out->len = ver + body;
    out->alloc = opts ? opts->alloc : NULL;
    return 0;
}
