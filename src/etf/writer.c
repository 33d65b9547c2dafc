/*
 * writer.c: the streaming ETF writer.
 *
 * Each put function writes one encoding with the tag OTP 25 would choose
 * (see reader.c for the layouts): integers as SMALL_INTEGER_EXT (0..255),
 * INTEGER_EXT (other int32) or SMALL_BIG_EXT / LARGE_BIG_EXT; floats as
 * NEW_FLOAT_EXT; pids as NEW_PID_EXT, ports as NEW_PORT_EXT unless the
 * number needs more than 28 bits (V4_PORT_EXT), references as
 * NEWER_REFERENCE_EXT.  Atoms follow the writer's mode: the distribution's
 * UTF-8 tags, or term_to_binary/1's ATOM_EXT for Latin-1 text.
 *
 * The fast path of every put is one capacity comparison; growth lives in
 * edist_etf_writer_grow() so that the inline part stays small.
 */
#include <math.h>
#include <string.h>

#include "core/mem.h"
#include "core/utf8.h"
#include "core/wire.h"
#include "edist/err.h"
#include "etf/etf_int.h"

void edist_bytes_free(edist_bytes *b)
{
    if (!b)
        return;
    if (b->data)
        edist_mem_free(edist_mem_resolve(b->alloc), b->data);
    b->data = NULL;
    b->len = 0;
    b->alloc = NULL;
}

static void writer_no_gather(edist_etf_writer *w)
{
    w->ref_min = SIZE_MAX;
    w->refs = NULL;
    w->nrefs = w->refs_cap = 0;
    w->ref_bytes = 0;
}

void edist_etf_writer_init_fixed(edist_etf_writer *w, void *buf, size_t cap,
                                 unsigned flags)
{
    w->buf = buf;
    w->len = 0;
    w->cap = buf ? cap : 0;
    w->limit = w->cap;
    w->alloc = NULL;
    w->flags = flags;
    w->err = 0;
    writer_no_gather(w);
}

void edist_etf_writer_init_dynamic(edist_etf_writer *w, size_t limit,
                                   const edist_allocator *alloc, unsigned flags)
{
    w->buf = NULL;
    w->len = 0;
    w->cap = 0;
    w->limit = limit ? limit : SIZE_MAX;
    w->alloc = edist_mem_resolve(alloc);
    w->flags = flags;
    w->err = 0;
    writer_no_gather(w);
}

void edist_etf_writer_free(edist_etf_writer *w)
{
    if (w->alloc)
        edist_mem_free(w->alloc, w->buf);
    if (w->alloc) {
        w->buf = NULL;
        w->cap = 0;
    }
    w->len = 0;
    w->nrefs = 0;
    w->ref_bytes = 0;
}

int edist_etf_writer_take(edist_etf_writer *w, edist_bytes *out)
{
    if (!w->alloc || w->nrefs)
        return EDIST_EINVAL;
    if (w->err)
        return w->err;
    out->data = w->buf;
    out->len = w->len;
    out->alloc = w->alloc;
    w->buf = NULL;
    w->len = 0;
    w->cap = 0;
    return 0;
}

uint8_t *edist_etf_writer_grow(edist_etf_writer *w, size_t n)
{
    if (w->err)
        return NULL;
    /* A dynamic writer's limit covers referenced bytes too. */
    if (!w->alloc || n > w->limit - w->len - w->ref_bytes) {
        w->err = EDIST_ETOOBIG;
        return NULL;
    }
    size_t need = w->len + n;
    size_t ncap = w->cap > SIZE_MAX / 2 ? SIZE_MAX : w->cap * 2;
    if (ncap < 256)
        ncap = 256;
    if (ncap < need)
        ncap = need;
    if (ncap > w->limit - w->ref_bytes)
        ncap = w->limit - w->ref_bytes;
    uint8_t *p = edist_mem_realloc(w->alloc, w->buf, ncap);
    if (!p) {
        w->err = EDIST_ENOMEM;
        return NULL;
    }
    w->buf = p;
    w->cap = ncap;
    return p + w->len;
}

static int put_fail(edist_etf_writer *w, int rc)
{
    if (!w->err)
        w->err = rc;
    return rc;
}

/* ----------------------------------------------------------- gathering */

void edist_etf_writer_gather(edist_etf_writer *w, size_t min,
                             edist_etf_ref *refs, size_t cap)
{
    w->ref_min = min ? min : EDIST_ETF_GATHER_MIN;
    w->refs = refs;
    w->refs_cap = refs ? cap : 0;
    w->nrefs = 0;
    w->ref_bytes = 0;
}

/* Whether a payload of n bytes is to be referenced rather than copied:
 * gathering is on, n reaches the threshold and a slot is free. */
static int gather_wants(const edist_etf_writer *w, size_t n)
{
    return n >= w->ref_min && w->nrefs < w->refs_cap;
}

/* Writes the header of a payload of n bytes (tag, then a 16-bit length
 * for STRING_EXT or a 32-bit one for BINARY_EXT) into the buffer and
 * references data[0..n) after it.  Returns 0 or the error (recorded in
 * w->err).  Inline: this is the whole cost of a large payload. */
static inline int put_referenced(edist_etf_writer *w, uint8_t tag,
                                 const void *data, size_t n)
{
    size_t hlen = tag == EDIST_ETF_STRING ? 3 : 5;
    uint8_t *o = etf_room(w, hlen);
    if (!o)
        return w->err;
    /* A dynamic writer's limit covers the payload too. */
    if (w->alloc && n > w->limit - w->len - hlen - w->ref_bytes)
        return put_fail(w, EDIST_ETOOBIG);
    o[0] = tag;
    if (hlen == 3)
        edist_put16(o + 1, (uint16_t)n);
    else
        edist_put32(o + 1, (uint32_t)n);
    w->len += hlen;
    edist_etf_ref *r = &w->refs[w->nrefs++];
    r->at = w->len;
    r->data = data;
    r->len = n;
    w->ref_bytes += n;
    /* The inline puts compare with cap only: keep cap within what the
     * limit leaves beside the referenced bytes. */
    if (w->alloc && w->cap > w->limit - w->ref_bytes)
        w->cap = w->limit - w->ref_bytes;
    return 0;
}

size_t edist_etf_writer_pieces(const edist_etf_writer *w, edist_etf_piece *out,
                               size_t max)
{
    size_t k = 0, from = 0;
    for (size_t i = 0; i <= w->nrefs; i++) {
        size_t at = i < w->nrefs ? w->refs[i].at : w->len;
        if (at > from) {
            if (k < max) {
                out[k].data = w->buf + from;
                out[k].len = at - from;
            }
            k++;
        }
        from = at;
        if (i < w->nrefs && w->refs[i].len) {
            if (k < max) {
                out[k].data = w->refs[i].data;
                out[k].len = w->refs[i].len;
            }
            k++;
        }
    }
    return k;
}

int edist_etf_writer_flatten(const edist_etf_writer *w, void *dst, size_t cap)
{
    if (w->err)
        return w->err;
    if (edist_etf_writer_size(w) > cap)
        return EDIST_ETOOBIG;
    uint8_t *d = dst;
    size_t from = 0;
    for (size_t i = 0; i <= w->nrefs; i++) {
        size_t at = i < w->nrefs ? w->refs[i].at : w->len;
        if (at > from) {
            memcpy(d, w->buf + from, at - from);
            d += at - from;
        }
        from = at;
        if (i < w->nrefs && w->refs[i].len) {
            memcpy(d, w->refs[i].data, w->refs[i].len);
            d += w->refs[i].len;
        }
    }
    return 0;
}

#define ROOM(w, n)                                                             \
    uint8_t *o = etf_room((w), (n));                                           \
    if (!o)                                                                    \
        return (w)->err;

int edist_etf_put_header_slow(edist_etf_writer *w, uint8_t tag, size_t n)
{
    if (n > UINT32_MAX)
        return put_fail(w, EDIST_EINVAL);
    ROOM(w, 5);
    o[0] = tag;
    edist_put32(o + 1, (uint32_t)n);
    w->len += 5;
    return 0;
}

size_t etf_int_size(int64_t v)
{
    if (v >= 0 && v <= 255)
        return 2;
    if (v >= INT32_MIN && v <= INT32_MAX)
        return 5;
    uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0;
    while (m) {
        n++;
        m >>= 8;
    }
    return 3 + n;
}

/* SMALL_BIG_EXT of a magnitude that needs more than 31 bits. */
static int put_small_big64(edist_etf_writer *w, int neg, uint64_t m)
{
    size_t n = (size_t)(71 - __builtin_clzll(m)) / 8; /* m != 0 here */
    /* Room for all 8 digit bytes lets the stores be unconditional. */
    size_t room = w->cap - w->len >= 11 ? 11 : 3 + n;
    ROOM(w, room);
    o[0] = EDIST_ETF_SMALL_BIG;
    o[1] = (uint8_t)n;
    o[2] = neg ? 1 : 0;
    if (room == 11) {
        for (int i = 0; i < 8; i++)
            o[3 + i] = (uint8_t)(m >> (8 * i));
    } else {
        for (size_t i = 0; i < n; i++, m >>= 8)
            o[3 + i] = (uint8_t)m;
    }
    w->len += 3 + n;
    return 0;
}

int edist_etf_put_int_slow(edist_etf_writer *w, int64_t v)
{
    if (v >= INT32_MIN && v <= INT32_MAX)
        return edist_etf_put_int(w, v);
    return put_small_big64(w, v < 0, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

int edist_etf_put_uint64(edist_etf_writer *w, uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX)
        return edist_etf_put_int(w, (int64_t)v);
    return put_small_big64(w, 0, v);
}

int edist_etf_put_bigint(edist_etf_writer *w, int negative, const uint8_t *le,
                         size_t n)
{
    if (!le && n)
        return put_fail(w, EDIST_EINVAL);
    while (n && le[n - 1] == 0)
        n--;
    if (n <= 8) {
        uint64_t m = 0;
        for (size_t i = n; i-- > 0;)
            m = m << 8 | le[i];
        if (!negative && m <= (uint64_t)INT64_MAX)
            return edist_etf_put_int(w, (int64_t)m);
        if (negative && m <= (uint64_t)INT64_MAX + 1)
            return edist_etf_put_int(w, (int64_t)(0 - m));
        return put_small_big64(w, negative, m);
    }
    if (n > UINT32_MAX)
        return put_fail(w, EDIST_EINVAL);
    size_t hdr = n <= 255 ? 3 : 6;
    ROOM(w, hdr + n);
    if (hdr == 3) {
        o[0] = EDIST_ETF_SMALL_BIG;
        o[1] = (uint8_t)n;
    } else {
        o[0] = EDIST_ETF_LARGE_BIG;
        edist_put32(o + 1, (uint32_t)n);
    }
    o[hdr - 1] = negative ? 1 : 0;
    memcpy(o + hdr, le, n);
    w->len += hdr + n;
    return 0;
}

/* How an atom goes on the wire. */
typedef struct atom_plan {
    uint8_t tag;
    size_t wire_len; /* bytes of text on the wire */
    int latin1;      /* text must be converted from UTF-8 to Latin-1 */
} atom_plan;

static int plan_atom(const char *utf8, size_t len, unsigned flags,
                     atom_plan *pl)
{
    const uint8_t *s = (const uint8_t *)utf8;
    if (etf_all_ascii(s, len)) {
        if (len > EDIST_ETF_MAX_ATOM_CHARS)
            return EDIST_EATOMLEN;
        pl->wire_len = len;
        pl->latin1 = 0;
        pl->tag = (flags & EDIST_ETF_ATOMS_LATIN1) ? EDIST_ETF_ATOM
                                                   : EDIST_ETF_SMALL_ATOM_UTF8;
        return 0;
    }
    if (len > 4 * EDIST_ETF_MAX_ATOM_CHARS)
        return EDIST_EATOMLEN;
    long chars = edist_utf8_count(s, len);
    if (chars < 0)
        return EDIST_EUTF8;
    if (chars > (long)EDIST_ETF_MAX_ATOM_CHARS)
        return EDIST_EATOMLEN;
    if (flags & EDIST_ETF_ATOMS_LATIN1) {
        /* Latin-1 code points are U+0080..U+00FF: lead bytes C2 and C3. */
        int latin1 = 1;
        for (size_t i = 0; i < len; i++)
            if (s[i] >= 0xC4) {
                latin1 = 0;
                break;
            }
        if (latin1) {
            pl->tag = EDIST_ETF_ATOM;
            pl->wire_len = (size_t)chars;
            pl->latin1 = 1;
            return 0;
        }
    }
    pl->tag = len <= 255 ? EDIST_ETF_SMALL_ATOM_UTF8 : EDIST_ETF_ATOM_UTF8;
    pl->wire_len = len;
    pl->latin1 = 0;
    return 0;
}

static size_t plan_size(const atom_plan *pl)
{
    return pl->wire_len + (pl->tag == EDIST_ETF_SMALL_ATOM_UTF8 ? 2 : 3);
}

long etf_atom_size(const char *utf8, size_t len, unsigned flags)
{
    atom_plan pl;
    int rc = plan_atom(utf8, len, flags, &pl);
    if (rc < 0)
        return rc;
    return (long)plan_size(&pl);
}

/* Writes a planned atom at o; returns the byte after it. */
static uint8_t *emit_atom(uint8_t *o, const char *utf8, size_t len,
                          const atom_plan *pl)
{
    size_t hdr = pl->tag == EDIST_ETF_SMALL_ATOM_UTF8 ? 2 : 3;
    o[0] = pl->tag;
    if (hdr == 2)
        o[1] = (uint8_t)pl->wire_len;
    else
        edist_put16(o + 1, (uint16_t)pl->wire_len);
    uint8_t *d = o + hdr;
    if (!pl->latin1) {
        if (len)
            memcpy(d, utf8, len);
        return d + len;
    }
    const uint8_t *s = (const uint8_t *)utf8;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x80)
            *d++ = s[i];
        else
            *d++ = (uint8_t)((s[i] & 0x03) << 6 | (s[i + 1] & 0x3F)), i++;
    }
    return d;
}

/* Plans an atom for the writer, recording a failure. */
static int plan_for(edist_etf_writer *w, edist_atom a, atom_plan *pl)
{
    if (!a.name && a.len)
        return put_fail(w, EDIST_EINVAL);
    int rc = plan_atom(a.name, a.len, w->flags, pl);
    return rc < 0 ? put_fail(w, rc) : 0;
}

int edist_etf_put_atom(edist_etf_writer *w, const char *utf8, size_t len)
{
    /* The common case: a short ASCII atom, the same bytes in both modes. */
    if (utf8 && len <= EDIST_ETF_MAX_ATOM_CHARS &&
        etf_all_ascii((const uint8_t *)utf8, len)) {
        int l1 = (w->flags & EDIST_ETF_ATOMS_LATIN1) != 0;
        size_t hdr = l1 ? 3 : 2;
        ROOM(w, hdr + len);
        if (l1) {
            o[0] = EDIST_ETF_ATOM;
            o[1] = 0;
            o[2] = (uint8_t)len;
        } else {
            o[0] = EDIST_ETF_SMALL_ATOM_UTF8;
            o[1] = (uint8_t)len;
        }
        memcpy(o + hdr, utf8, len);
        w->len += hdr + len;
        return 0;
    }
    atom_plan pl;
    edist_atom a = {utf8, len};
    int rc = plan_for(w, a, &pl);
    if (rc < 0)
        return rc;
    size_t n = plan_size(&pl);
    ROOM(w, n);
    emit_atom(o, utf8, len, &pl);
    w->len += n;
    return 0;
}

int edist_etf_put_atom_z(edist_etf_writer *w, const char *name)
{
    if (!name)
        return put_fail(w, EDIST_EINVAL);
    return edist_etf_put_atom(w, name, strlen(name));
}

int edist_etf_put_bitstring(edist_etf_writer *w, const void *data, size_t size,
                            uint8_t bits)
{
    if (bits < 1 || bits > 8 || (bits < 8 && size == 0) || size > UINT32_MAX ||
        (!data && size))
        return put_fail(w, EDIST_EINVAL);
    if (bits == 8 && gather_wants(w, size))
        return put_referenced(w, EDIST_ETF_BINARY, data, size);
    size_t hdr = bits == 8 ? 5 : 6;
    ROOM(w, hdr + size);
    o[0] = bits == 8 ? EDIST_ETF_BINARY : EDIST_ETF_BIT_BINARY;
    edist_put32(o + 1, (uint32_t)size);
    if (size)
        memcpy(o + hdr, data, size);
    if (bits < 8) {
        o[5] = bits;
        o[hdr + size - 1] &= (uint8_t)(0xFFu << (8 - bits));
    }
    w->len += hdr + size;
    return 0;
}

int edist_etf_put_binary_header(edist_etf_writer *w, size_t size)
{
    return edist_etf_put_header_slow(w, EDIST_ETF_BINARY, size);
}

int edist_etf_put_string_slow(edist_etf_writer *w, const void *s, size_t len)
{
    const uint8_t *b = s;
    /* Gathering first: it is why a string of a STRING_EXT's length gets
     * here. */
    if (s && len - 1 < ETF_MAX_STRING_LEN && gather_wants(w, len))
        return put_referenced(w, EDIST_ETF_STRING, b, len);
    if (!s && len)
        return put_fail(w, EDIST_EINVAL);
    if (len == 0)
        return edist_etf_put_nil(w);
    if (len <= ETF_MAX_STRING_LEN) {
        ROOM(w, 3 + len);
        o[0] = EDIST_ETF_STRING;
        edist_put16(o + 1, (uint16_t)len);
        memcpy(o + 3, b, len);
        w->len += 3 + len;
        return 0;
    }
    if (len > UINT32_MAX || len > (SIZE_MAX - 6) / 2)
        return put_fail(w, EDIST_EINVAL);
    ROOM(w, 6 + 2 * len);
    o[0] = EDIST_ETF_LIST;
    edist_put32(o + 1, (uint32_t)len);
    for (size_t i = 0; i < len; i++) {
        o[5 + 2 * i] = EDIST_ETF_SMALL_INTEGER;
        o[6 + 2 * i] = b[i];
    }
    o[5 + 2 * len] = EDIST_ETF_NIL;
    w->len += 6 + 2 * len;
    return 0;
}

int edist_etf_put_pid(edist_etf_writer *w, edist_atom node, uint32_t id,
                      uint32_t serial, uint32_t creation)
{
    atom_plan pl;
    int rc = plan_for(w, node, &pl);
    if (rc < 0)
        return rc;
    size_t n = 1 + plan_size(&pl) + 12;
    ROOM(w, n);
    o[0] = EDIST_ETF_NEW_PID;
    o = emit_atom(o + 1, node.name, node.len, &pl);
    edist_put32(o, id);
    edist_put32(o + 4, serial);
    edist_put32(o + 8, creation);
    w->len += n;
    return 0;
}

int edist_etf_put_port(edist_etf_writer *w, edist_atom node, uint64_t id,
                       uint32_t creation)
{
    atom_plan pl;
    int rc = plan_for(w, node, &pl);
    if (rc < 0)
        return rc;
    int v4 = id > ETF_MAX_V3_PORT;
    size_t n = 1 + plan_size(&pl) + (v4 ? 12 : 8);
    ROOM(w, n);
    o[0] = v4 ? EDIST_ETF_V4_PORT : EDIST_ETF_NEW_PORT;
    o = emit_atom(o + 1, node.name, node.len, &pl);
    if (v4) {
        edist_put64(o, id);
        o += 8;
    } else {
        edist_put32(o, (uint32_t)id);
        o += 4;
    }
    edist_put32(o, creation);
    w->len += n;
    return 0;
}

int edist_etf_put_ref(edist_etf_writer *w, edist_atom node, uint32_t creation,
                      const uint32_t *ids, uint32_t len)
{
    if (len < 1 || len > 5 || !ids)
        return put_fail(w, EDIST_EINVAL);
    atom_plan pl;
    int rc = plan_for(w, node, &pl);
    if (rc < 0)
        return rc;
    size_t n = 3 + plan_size(&pl) + 4 + 4 * (size_t)len;
    ROOM(w, n);
    o[0] = EDIST_ETF_NEWER_REFERENCE;
    edist_put16(o + 1, (uint16_t)len);
    o = emit_atom(o + 3, node.name, node.len, &pl);
    edist_put32(o, creation);
    for (uint32_t i = 0; i < len; i++)
        edist_put32(o + 4 + 4 * i, ids[i]);
    w->len += n;
    return 0;
}

int edist_etf_put_export(edist_etf_writer *w, edist_atom module,
                         edist_atom function, uint32_t arity)
{
    if (arity > 255)
        return put_fail(w, EDIST_EINVAL);
    atom_plan pm, pf;
    int rc;
    if ((rc = plan_for(w, module, &pm)) < 0 ||
        (rc = plan_for(w, function, &pf)) < 0)
        return rc;
    size_t n = 1 + plan_size(&pm) + plan_size(&pf) + 2;
    ROOM(w, n);
    o[0] = EDIST_ETF_EXPORT;
    o = emit_atom(o + 1, module.name, module.len, &pm);
    o = emit_atom(o, function.name, function.len, &pf);
    o[0] = EDIST_ETF_SMALL_INTEGER;
    o[1] = (uint8_t)arity;
    w->len += n;
    return 0;
}

int edist_etf_put_raw(edist_etf_writer *w, const void *raw, size_t len)
{
    if (!raw && len)
        return put_fail(w, EDIST_EINVAL);
    ROOM(w, len);
    if (len)
        memcpy(o, raw, len);
    w->len += len;
    return 0;
}
