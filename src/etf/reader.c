/*
 * reader.c: the streaming ETF reader, a bounds-checked cursor.
 *
 * Wire format of the terms it reads (big-endian; protocol.md section 4):
 *
 *   131 Tag Data...                      version byte, then one term
 *   +----+----+                +----+------+
 *   | 97 | u8 |  SMALL_INTEGER | 98 | s32  |  INTEGER
 *   +----+----+                +----+------+
 *   +-----+-------+------+---------------+   110 SMALL_BIG (n:8),
 *   | 110 | n     | sign | n digits (LE) |   111 LARGE_BIG (n:32)
 *   +-----+-------+------+---------------+
 *   +----+--------+  NEW_FLOAT   +----+----------------------+  FLOAT
 *   | 70 | f64 BE |              | 99 | 31 bytes "%.20e" NUL |
 *   +----+--------+              +----+----------------------+
 *   +-----+--------+------+  100 ATOM (len:16, Latin-1), 115 SMALL_ATOM
 *   | tag | len    | text |  (len:8, Latin-1), 118 ATOM_UTF8 (len:16),
 *   +-----+--------+------+  119 SMALL_ATOM_UTF8 (len:8); 82 Index:8 is
 *                            ATOM_CACHE_REF (the message header's atoms)
 *   +-----+-------+-------+  104 SMALL_TUPLE (arity:8), 105 LARGE_TUPLE
 *   | tag | arity | elems |  (arity:32); 116 MAP (pairs:32, K V K V...);
 *   +-----+-------+-------+  108 LIST (len:32, elems, tail); 106 NIL
 *   +-----+--------+-------+  107 STRING (len:16 bytes); 109 BINARY
 *   | tag | len    | bytes |  (len:32); 77 BIT_BINARY (len:32, bits:8
 *   +-----+--------+-------+  used in the last byte, then the bytes)
 *   88 NEW_PID   Node ID:32 Serial:32 Creation:32   103 PID (Creation:8)
 *   89 NEW_PORT  Node ID:32 Creation:32             102 PORT (Creation:8)
 *   120 V4_PORT  Node ID:64 Creation:32
 *   90 NEWER_REFERENCE Len:16 Node Creation:32 ID:32*Len (Len 1..5)
 *   114 NEW_REFERENCE  Len:16 Node Creation:8 ID:32*Len
 *   101 REFERENCE      Node ID:32 Creation:8
 *   113 EXPORT   Module(atom) Function(atom) Arity(SMALL_INTEGER)
 *   112 NEW_FUN  Size:32 (bytes from Size to the end) Arity:8 Uniq:16
 *                Index:32 NumFree:32 Module OldIndex OldUniq Pid Free...
 *   80 COMPRESSED UncompressedSize:32 zlib(Tag Data) (top level only)
 *
 * Every read checks the bytes left before touching them, and restores the
 * cursor on failure, so that a reader is never left mid-term.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "core/wire.h"
#include "edist/err.h"
#include "etf/etf_int.h"

int edist_etf_peek_tag(const edist_etf_reader *r)
{
    return r->p < r->end ? *r->p : EDIST_EAGAIN;
}

int edist_etf_read_int64(edist_etf_reader *r, int64_t *v)
{
    const uint8_t *p = r->p;
    size_t left = (size_t)(r->end - p);
    if (left < 2)
        return left ? (*p == EDIST_ETF_SMALL_INTEGER ||
                               *p == EDIST_ETF_INTEGER ||
                               *p == EDIST_ETF_SMALL_BIG ||
                               *p == EDIST_ETF_LARGE_BIG
                           ? EDIST_EAGAIN
                           : EDIST_ETYPE)
                    : EDIST_EAGAIN;
    switch (*p) {
    case EDIST_ETF_SMALL_INTEGER:
        *v = p[1];
        r->p = p + 2;
        return 0;
    case EDIST_ETF_INTEGER:
        if (left < 5)
            return EDIST_EAGAIN;
        *v = (int32_t)edist_get32(p + 1);
        r->p = p + 5;
        return 0;
    case EDIST_ETF_SMALL_BIG:
    case EDIST_ETF_LARGE_BIG: {
        int neg;
        const uint8_t *d;
        size_t n;
        uint64_t m;
        long rc = etf_big_at(p, r->end, &neg, &d, &n);
        if (rc < 0)
            return (int)rc;
        if (!etf_big_mag64(d, n, r->end, &m))
            return EDIST_ERANGE;
        if (!neg && m > (uint64_t)INT64_MAX)
            return EDIST_ERANGE;
        if (neg && m > (uint64_t)INT64_MAX + 1)
            return EDIST_ERANGE;
        *v = neg ? (int64_t)(0 - m) : (int64_t)m;
        r->p = p + rc;
        return 0;
    }
    default:
        return EDIST_ETYPE;
    }
}

int edist_etf_read_uint64(edist_etf_reader *r, uint64_t *v)
{
    const uint8_t *p = r->p;
    if (p < r->end &&
        (*p == EDIST_ETF_SMALL_BIG || *p == EDIST_ETF_LARGE_BIG)) {
        int neg;
        const uint8_t *d;
        size_t n;
        uint64_t m;
        long rc = etf_big_at(p, r->end, &neg, &d, &n);
        if (rc < 0)
            return (int)rc;
        if (!etf_big_mag64(d, n, r->end, &m) || (neg && m != 0))
            return EDIST_ERANGE;
        *v = m;
        r->p = p + rc;
        return 0;
    }
    int64_t s;
    int rc = edist_etf_read_int64(r, &s);
    if (rc < 0)
        return rc;
    if (s < 0) {
        r->p = p;
        return EDIST_ERANGE;
    }
    *v = (uint64_t)s;
    return 0;
}

int edist_etf_read_double(edist_etf_reader *r, double *v)
{
    const uint8_t *p = r->p;
    size_t left = (size_t)(r->end - p);
    if (!left)
        return EDIST_EAGAIN;
    if (*p == EDIST_ETF_NEW_FLOAT) {
        if (left < 9)
            return EDIST_EAGAIN;
        uint64_t bits = edist_get64(p + 1);
        double d;
        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d))
            return EDIST_EBADMSG;
        *v = d;
        r->p = p + 9;
        return 0;
    }
    if (*p == EDIST_ETF_FLOAT) {
        if (left < 32)
            return EDIST_EAGAIN;
        /* The legacy format is "%.20e" padded with NULs to 31 bytes. */
        char text[32], *endp;
        memcpy(text, p + 1, 31);
        text[31] = '\0';
        if (!(text[0] == '-' || text[0] == '+' ||
              (text[0] >= '0' && text[0] <= '9')))
            return EDIST_EBADMSG;
        double d = strtod(text, &endp);
        if (endp == text || !isfinite(d))
            return EDIST_EBADMSG;
        /* OTP refuses anything but NULs after the number. */
        while (endp < text + 31 && *endp == '\0')
            endp++;
        if (endp != text + 31)
            return EDIST_EBADMSG;
        *v = d;
        r->p = p + 32;
        return 0;
    }
    return EDIST_ETYPE;
}

/* Latin-1 bytes to UTF-8 in dst (room for 2 * n). */
static size_t latin1_to_utf8(char *dst, const uint8_t *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c < 0x80) {
            dst[o++] = (char)c;
        } else {
            dst[o++] = (char)(0xC0 | c >> 6);
            dst[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    return o;
}

/* Reads an atom, converting Latin-1 into scratch (2 * 255 bytes). */
int etf_read_atom_in(edist_etf_reader *r, edist_atom *out, char *scratch)
{
    const uint8_t *p = r->p;
    size_t left = (size_t)(r->end - p), len, hdr;
    if (!left)
        return EDIST_EAGAIN;
    uint8_t tag = *p;
    switch (tag) {
    case EDIST_ETF_SMALL_ATOM_UTF8:
    case EDIST_ETF_SMALL_ATOM:
        if (left < 2)
            return EDIST_EAGAIN;
        len = p[1];
        hdr = 2;
        break;
    case EDIST_ETF_ATOM_UTF8:
    case EDIST_ETF_ATOM:
        if (left < 3)
            return EDIST_EAGAIN;
        len = edist_get16(p + 1);
        hdr = 3;
        break;
    case EDIST_ETF_ATOM_CACHE_REF:
        if (left < 2)
            return EDIST_EAGAIN;
        if (p[1] >= r->n_cache_refs)
            return EDIST_EATOMCACHE;
        *out = r->cache_refs[p[1]];
        r->p = p + 2;
        return 0;
    default:
        return EDIST_ETYPE;
    }
    if (len > left - hdr)
        return EDIST_EAGAIN;
    const uint8_t *text = p + hdr;
    if (tag == EDIST_ETF_ATOM_UTF8 || tag == EDIST_ETF_SMALL_ATOM_UTF8) {
        if (len > 4 * EDIST_ETF_MAX_ATOM_CHARS)
            return EDIST_EATOMLEN;
        if (len > EDIST_ETF_MAX_ATOM_CHARS || !etf_all_ascii(text, len)) {
            long chars = edist_utf8_count(text, len);
            if (chars < 0)
                return EDIST_EUTF8;
            if (chars > (long)EDIST_ETF_MAX_ATOM_CHARS)
                return EDIST_EATOMLEN;
        }
        out->name = (const char *)text;
        out->len = len;
    } else {
        if (len > EDIST_ETF_MAX_ATOM_CHARS)
            return EDIST_EATOMLEN;
        if (etf_all_ascii(text, len)) {
            out->name = (const char *)text;
            out->len = len;
        } else {
            out->len = latin1_to_utf8(scratch, text, len);
            out->name = scratch;
        }
    }
    r->p = text + len;
    return 0;
}

int edist_etf_read_atom(edist_etf_reader *r, edist_atom *out)
{
    return etf_read_atom_in(r, out, r->scratch);
}

int edist_etf_read_atom_eq(edist_etf_reader *r, const char *name)
{
    const uint8_t *save = r->p;
    edist_atom a;
    int rc = edist_etf_read_atom(r, &a);
    if (rc < 0)
        return rc;
    size_t n = strlen(name);
    if (a.len == n && memcmp(a.name, name, n) == 0)
        return 1;
    r->p = save;
    return 0;
}

int edist_etf_read_tuple_header(edist_etf_reader *r, size_t *arity)
{
    const uint8_t *p = r->p;
    size_t left = (size_t)(r->end - p), n;
    if (left < 2)
        return left && *p != EDIST_ETF_SMALL_TUPLE &&
                       *p != EDIST_ETF_LARGE_TUPLE
                   ? EDIST_ETYPE
                   : EDIST_EAGAIN;
    if (*p == EDIST_ETF_SMALL_TUPLE) {
        n = p[1];
        p += 2;
    } else if (*p == EDIST_ETF_LARGE_TUPLE) {
        if (left < 5)
            return EDIST_EAGAIN;
        n = edist_get32(p + 1);
        p += 5;
    } else {
        return EDIST_ETYPE;
    }
    /* Each element takes at least one byte. */
    if (n > (size_t)(r->end - p))
        return EDIST_EAGAIN;
    *arity = n;
    r->p = p;
    return 0;
}

int edist_etf_read_list_header(edist_etf_reader *r, size_t *len)
{
    const uint8_t *p = r->p;
    size_t left = (size_t)(r->end - p);
    if (!left)
        return EDIST_EAGAIN;
    if (*p == EDIST_ETF_NIL) {
        *len = 0;
        r->p = p + 1;
        return 0;
    }
    if (*p != EDIST_ETF_LIST)
        return EDIST_ETYPE;
    if (left < 5)
        return EDIST_EAGAIN;
    size_t n = edist_get32(p + 1);
    if (n == 0)
        return EDIST_EBADMSG; /* OTP never writes an empty LIST_EXT */
    if (n >= left - 5)        /* n elements and a tail */
        return EDIST_EAGAIN;
    *len = n;
    r->p = p + 5;
    return 0;
}

int edist_etf_read_nil(edist_etf_reader *r)
{
    if (r->p >= r->end)
        return EDIST_EAGAIN;
    if (*r->p != EDIST_ETF_NIL)
        return EDIST_ETYPE;
    r->p++;
    return 0;
}

int edist_etf_read_string(edist_etf_reader *r, const uint8_t **data,
                          size_t *len)
{
    const uint8_t *p = r->p;
    size_t left = (size_t)(r->end - p);
    if (!left)
        return EDIST_EAGAIN;
    if (*p == EDIST_ETF_NIL) {
        *data = p;
        *len = 0;
        r->p = p + 1;
        return 0;
    }
    if (*p != EDIST_ETF_STRING)
        return EDIST_ETYPE;
    if (left < 3)
        return EDIST_EAGAIN;
    size_t n = edist_get16(p + 1);
    if (n > left - 3)
        return EDIST_EAGAIN;
    *data = p + 3;
    *len = n;
    r->p = p + 3 + n;
    return 0;
}

int edist_etf_read_map_header(edist_etf_reader *r, size_t *pairs)
{
    const uint8_t *p = r->p;
    size_t left = (size_t)(r->end - p);
    if (!left)
        return EDIST_EAGAIN;
    if (*p != EDIST_ETF_MAP)
        return EDIST_ETYPE;
    if (left < 5)
        return EDIST_EAGAIN;
    size_t n = edist_get32(p + 1);
    if (n > (left - 5) / 2)
        return EDIST_EAGAIN;
    *pairs = n;
    r->p = p + 5;
    return 0;
}

int edist_etf_read_bitstring(edist_etf_reader *r, const uint8_t **data,
                             size_t *size, uint8_t *bits)
{
    const uint8_t *p = r->p;
    size_t left = (size_t)(r->end - p), hdr;
    uint8_t b = 8;
    if (!left)
        return EDIST_EAGAIN;
    if (*p == EDIST_ETF_BINARY) {
        hdr = 5;
    } else if (*p == EDIST_ETF_BIT_BINARY) {
        hdr = 6;
    } else {
        return EDIST_ETYPE;
    }
    if (left < hdr)
        return EDIST_EAGAIN;
    size_t n = edist_get32(p + 1);
    if (hdr == 6) {
        /* OTP accepts 1..8 used bits, and 0 only for an empty bitstring
         * (which is the empty binary). */
        b = p[5];
        if (b > 8 || (n == 0 && b != 0) || (n != 0 && b == 0))
            return EDIST_EBADMSG;
        if (n == 0)
            b = 8;
    }
    if (n > left - hdr)
        return EDIST_EAGAIN;
    *data = p + hdr;
    *size = n;
    *bits = b;
    r->p = p + hdr + n;
    return 0;
}

int edist_etf_read_binary(edist_etf_reader *r, const uint8_t **data,
                          size_t *size)
{
    const uint8_t *save = r->p;
    uint8_t bits;
    int rc = edist_etf_read_bitstring(r, data, size, &bits);
    if (rc == 0 && bits != 8) {
        r->p = save;
        return EDIST_ETYPE;
    }
    return rc;
}

/* Reads the node atom of a pid/port/ref at r and checks that need more
 * bytes follow; restores r on failure. */
static int read_node(edist_etf_reader *r, edist_atom *node, size_t need)
{
    const uint8_t *save = r->p;
    int rc = etf_read_atom_in(r, node, r->scratch);
    if (rc < 0)
        return rc == EDIST_ETYPE ? EDIST_EBADMSG : rc;
    if ((size_t)(r->end - r->p) < need) {
        r->p = save;
        return EDIST_EAGAIN;
    }
    return 0;
}

int edist_etf_read_pid(edist_etf_reader *r, edist_term *out)
{
    const uint8_t *save = r->p;
    if (r->p >= r->end)
        return EDIST_EAGAIN;
    uint8_t tag = *r->p;
    if (tag != EDIST_ETF_NEW_PID && tag != EDIST_ETF_PID)
        return EDIST_ETYPE;
    size_t need = tag == EDIST_ETF_NEW_PID ? 12 : 9;
    edist_atom node;
    r->p++;
    int rc = read_node(r, &node, need);
    if (rc < 0) {
        r->p = save;
        return rc;
    }
    const uint8_t *q = r->p;
    *out = edist_mk_pid(node, edist_get32(q), edist_get32(q + 4),
                        need == 12 ? edist_get32(q + 8) : q[8]);
    r->p = q + need;
    return 0;
}

int edist_etf_read_port(edist_etf_reader *r, edist_term *out)
{
    const uint8_t *save = r->p;
    if (r->p >= r->end)
        return EDIST_EAGAIN;
    uint8_t tag = *r->p;
    size_t need;
    if (tag == EDIST_ETF_NEW_PORT)
        need = 8;
    else if (tag == EDIST_ETF_V4_PORT)
        need = 12;
    else if (tag == EDIST_ETF_PORT)
        need = 5;
    else
        return EDIST_ETYPE;
    edist_atom node;
    r->p++;
    int rc = read_node(r, &node, need);
    if (rc < 0) {
        r->p = save;
        return rc;
    }
    const uint8_t *q = r->p;
    if (tag == EDIST_ETF_V4_PORT)
        *out = edist_mk_port(node, edist_get64(q), edist_get32(q + 8));
    else
        *out = edist_mk_port(node, edist_get32(q),
                             tag == EDIST_ETF_PORT ? q[4] : edist_get32(q + 4));
    r->p = q + need;
    return 0;
}

int edist_etf_read_ref(edist_etf_reader *r, edist_term *out)
{
    const uint8_t *save = r->p;
    size_t left = (size_t)(r->end - r->p);
    if (!left)
        return EDIST_EAGAIN;
    uint8_t tag = *r->p;
    uint32_t ids[5], n = 1, creation;
    edist_atom node;
    int rc;
    if (tag == EDIST_ETF_REFERENCE) {
        r->p++;
        if ((rc = read_node(r, &node, 5)) < 0)
            goto fail;
        ids[0] = edist_get32(r->p);
        creation = r->p[4];
        r->p += 5;
    } else if (tag == EDIST_ETF_NEWER_REFERENCE ||
               tag == EDIST_ETF_NEW_REFERENCE) {
        if (left < 3)
            return EDIST_EAGAIN;
        n = edist_get16(r->p + 1);
        /* OTP 25 accepts 0 words, but such a reference cannot be made
         * by any node and the term tree needs at least one. */
        if (n < 1 || n > 5)
            return EDIST_EBADMSG;
        size_t csize = tag == EDIST_ETF_NEWER_REFERENCE ? 4 : 1;
        r->p += 3;
        if ((rc = read_node(r, &node, csize + 4 * (size_t)n)) < 0)
            goto fail;
        creation = csize == 4 ? edist_get32(r->p) : r->p[0];
        r->p += csize;
        for (uint32_t i = 0; i < n; i++, r->p += 4)
            ids[i] = edist_get32(r->p);
    } else {
        return EDIST_ETYPE;
    }
    *out = edist_mk_ref(node, creation, ids, n);
    return 0;
fail:
    r->p = save;
    return rc;
}

int etf_read_small_int(edist_etf_reader *r, int64_t *v)
{
    if (r->p < r->end && *r->p != EDIST_ETF_SMALL_INTEGER &&
        *r->p != EDIST_ETF_INTEGER)
        return EDIST_EBADMSG;
    return edist_etf_read_int64(r, v);
}

int etf_export_arity(edist_etf_reader *r, size_t *arity)
{
    const uint8_t *save = r->p;
    int64_t v;
    int rc = etf_read_small_int(r, &v);
    if (rc < 0)
        return rc;
    if (v < 0 || v > 255) {
        r->p = save;
        return EDIST_EBADMSG;
    }
    *arity = (size_t)v;
    return 0;
}

/* Every tag; edist_etf_read_next() inlines the common ones and calls this
 * for the rest. */
int edist_etf_read_next_slow(edist_etf_reader *r, edist_etf_item *it)
{
    const uint8_t *p = r->p;
    size_t left = (size_t)(r->end - p);
    int rc;
    if (!left)
        return EDIST_EAGAIN;
    it->tag = *p;
    it->data = NULL;
    it->n = 0;
    switch (*p) {
    case EDIST_ETF_SMALL_INTEGER:
        if (left < 2)
            return EDIST_EAGAIN;
        it->type = EDIST_TERM_INT;
        it->v.i = p[1];
        r->p = p + 2;
        return 0;
    case EDIST_ETF_INTEGER:
        if (left < 5)
            return EDIST_EAGAIN;
        it->type = EDIST_TERM_INT;
        it->v.i = (int32_t)edist_get32(p + 1);
        r->p = p + 5;
        return 0;
    case EDIST_ETF_SMALL_BIG:
    case EDIST_ETF_LARGE_BIG: {
        int neg;
        const uint8_t *d;
        size_t n;
        uint64_t m;
        long len = etf_big_at(p, r->end, &neg, &d, &n);
        if (len < 0)
            return (int)len;
        if (etf_big_mag64(d, n, r->end, &m) &&
            m <= (uint64_t)INT64_MAX + (neg ? 1u : 0u)) {
            it->type = EDIST_TERM_INT;
            it->v.i = neg ? (int64_t)(0 - m) : (int64_t)m;
        } else {
            it->type = EDIST_TERM_BIGINT;
            it->v.negative = neg;
            it->data = d;
            it->n = n;
        }
        r->p = p + len;
        return 0;
    }
    case EDIST_ETF_NEW_FLOAT:
    case EDIST_ETF_FLOAT:
        it->type = EDIST_TERM_FLOAT;
        return edist_etf_read_double(r, &it->v.f);
    case EDIST_ETF_ATOM:
    case EDIST_ETF_SMALL_ATOM:
    case EDIST_ETF_ATOM_UTF8:
    case EDIST_ETF_SMALL_ATOM_UTF8:
    case EDIST_ETF_ATOM_CACHE_REF:
        it->type = EDIST_TERM_ATOM;
        return etf_read_atom_in(r, &it->v.atom, r->scratch);
    case EDIST_ETF_SMALL_TUPLE:
    case EDIST_ETF_LARGE_TUPLE:
        it->type = EDIST_TERM_TUPLE;
        return edist_etf_read_tuple_header(r, &it->n);
    case EDIST_ETF_MAP:
        it->type = EDIST_TERM_MAP;
        return edist_etf_read_map_header(r, &it->n);
    case EDIST_ETF_NIL:
        it->type = EDIST_TERM_NIL;
        r->p = p + 1;
        return 0;
    case EDIST_ETF_STRING:
        it->type = EDIST_TERM_LIST;
        return edist_etf_read_string(r, &it->data, &it->n);
    case EDIST_ETF_LIST:
        if (left < 5)
            return EDIST_EAGAIN;
        it->n = edist_get32(p + 1);
        if (it->n >= left - 5)
            return EDIST_EAGAIN;
        it->type = EDIST_TERM_LIST;
        r->p = p + 5;
        return 0;
    case EDIST_ETF_BINARY:
    case EDIST_ETF_BIT_BINARY:
        it->type = EDIST_TERM_BINARY;
        return edist_etf_read_bitstring(r, &it->data, &it->n, &it->v.bits);
    case EDIST_ETF_NEW_PID: {
        /* The pid of every control message: no struct copies. */
        edist_atom node;
        r->p = p + 1;
        rc = etf_read_atom_in(r, &node, r->scratch);
        if (rc == 0 && r->end - r->p < 12)
            rc = EDIST_EAGAIN;
        if (rc < 0) {
            r->p = p;
            return rc == EDIST_ETYPE ? EDIST_EBADMSG : rc;
        }
        const uint8_t *q = r->p;
        it->type = EDIST_TERM_PID;
        it->v.id.type = EDIST_TERM_PID;
        it->v.id.v.pid.node = node;
        it->v.id.v.pid.id = edist_get32(q);
        it->v.id.v.pid.serial = edist_get32(q + 4);
        it->v.id.v.pid.creation = edist_get32(q + 8);
        r->p = q + 12;
        return 0;
    }
    case EDIST_ETF_PID:
        it->type = EDIST_TERM_PID;
        return edist_etf_read_pid(r, &it->v.id);
    case EDIST_ETF_NEW_PORT:
    case EDIST_ETF_V4_PORT:
    case EDIST_ETF_PORT:
        it->type = EDIST_TERM_PORT;
        return edist_etf_read_port(r, &it->v.id);
    case EDIST_ETF_NEWER_REFERENCE:
    case EDIST_ETF_NEW_REFERENCE:
    case EDIST_ETF_REFERENCE:
        it->type = EDIST_TERM_REF;
        return edist_etf_read_ref(r, &it->v.id);
    case EDIST_ETF_EXPORT: {
        edist_atom m, f;
        size_t arity;
        r->p = p + 1;
        if ((rc = etf_read_atom_in(r, &m, r->scratch)) < 0 ||
            (rc = etf_read_atom_in(r, &f, r->scratch2)) < 0 ||
            (rc = etf_export_arity(r, &arity)) < 0) {
            r->p = p;
            return rc == EDIST_ETYPE ? EDIST_EBADMSG : rc;
        }
        it->type = EDIST_TERM_EXPORT;
        memset(&it->v.id, 0, sizeof it->v.id);
        it->v.id.type = EDIST_TERM_EXPORT;
        it->v.id.v.exp.module = m;
        it->v.id.v.exp.function = f;
        it->v.id.v.exp.arity = (uint32_t)arity;
        return 0;
    }
    case EDIST_ETF_NEW_FUN:
        it->type = EDIST_TERM_FUN;
        return edist_etf_read_raw(r, &it->data, &it->n);
    default:
        return EDIST_ETAG;
    }
}
