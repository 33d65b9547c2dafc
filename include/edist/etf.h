/*
 * edist/etf.h: the External Term Format (ETF) codec.
 *
 * Two APIs over the same wire format:
 *
 *  1. Streaming, allocation-free.  An edist_etf_reader is a bounds-checked
 *     cursor over a caller's buffer: peek at the next term's type, read
 *     scalars and container headers, or skip whole terms, without building
 *     anything.  An edist_etf_writer appends encodings to a caller's fixed
 *     buffer or to a capped growable one.  The distribution hot paths
 *     (control tuples such as {6, From, '', Name}) use these.
 *
 *  2. Term trees (edist/term.h).  edist_etf_decode() builds a tree in an
 *     arena; edist_etf_encode*() write a tree back, making the choices
 *     OTP 25's term_to_binary/1 makes, so that for every term without maps
 *     encode(decode(term_to_binary(T))) == term_to_binary(T) byte for byte
 *     (with EDIST_ETF_ATOMS_LATIN1).
 *
 * Errors are the negative EDIST_E* codes of edist/err.h.  No function
 * reads outside the buffer it is given, whatever the bytes.  No function
 * keeps global state: every object here has one owner at a time, and
 * different objects may be used from different threads freely.
 *
 * See docs/etf.md for a guide with examples.
 */
#ifndef EDIST_ETF_H
#define EDIST_ETF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include "edist/err.h"
#include "edist/export.h"
#include "edist/mem.h"
#include "edist/term.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------- constants */

/* The version byte that starts term_to_binary output and each term of a
 * pass-through distribution message. */
#define EDIST_ETF_VERSION 131

/* Wire tags (protocol.md section 4). */
enum edist_etf_tag {
    EDIST_ETF_NEW_FLOAT = 70,
    EDIST_ETF_BIT_BINARY = 77,
    EDIST_ETF_COMPRESSED = 80,
    EDIST_ETF_ATOM_CACHE_REF = 82,
    EDIST_ETF_NEW_PID = 88,
    EDIST_ETF_NEW_PORT = 89,
    EDIST_ETF_NEWER_REFERENCE = 90,
    EDIST_ETF_SMALL_INTEGER = 97,
    EDIST_ETF_INTEGER = 98,
    EDIST_ETF_FLOAT = 99,
    EDIST_ETF_ATOM = 100,
    EDIST_ETF_REFERENCE = 101,
    EDIST_ETF_PORT = 102,
    EDIST_ETF_PID = 103,
    EDIST_ETF_SMALL_TUPLE = 104,
    EDIST_ETF_LARGE_TUPLE = 105,
    EDIST_ETF_NIL = 106,
    EDIST_ETF_STRING = 107,
    EDIST_ETF_LIST = 108,
    EDIST_ETF_BINARY = 109,
    EDIST_ETF_SMALL_BIG = 110,
    EDIST_ETF_LARGE_BIG = 111,
    EDIST_ETF_NEW_FUN = 112,
    EDIST_ETF_EXPORT = 113,
    EDIST_ETF_NEW_REFERENCE = 114,
    EDIST_ETF_SMALL_ATOM = 115,
    EDIST_ETF_MAP = 116,
    EDIST_ETF_ATOM_UTF8 = 118,
    EDIST_ETF_SMALL_ATOM_UTF8 = 119,
    EDIST_ETF_V4_PORT = 120
};

/* Option flags (decode, encode, reader and writer; each says which). */
enum edist_etf_flags {
    /* Decode/encode: the term has no leading 131 byte, as inside a
     * distribution message with a header (protocol.md 3.2). */
    EDIST_ETF_NO_VERSION = 1u << 0,
    /* Encode/writer: atoms as OTP 25's term_to_binary/1 writes them:
     * ATOM_EXT for atoms whose characters are all Latin-1, UTF-8 tags
     * otherwise.  Without this flag atoms are written as the distribution
     * does (DFLAG_UTF8_ATOMS): SMALL_ATOM_UTF8_EXT, or ATOM_UTF8_EXT for
     * atoms over 255 bytes. */
    EDIST_ETF_ATOMS_LATIN1 = 1u << 1,
    /* Encode: compress as term_to_binary(T, [compressed]) does (tag 80,
     * zlib), falling back to the plain encoding when compression would
     * not save at least 5 bytes, as OTP does. */
    EDIST_ETF_COMPRESS = 1u << 2,
    /* Decode: atoms in UTF-8 tags and binaries point into the input buffer
     * instead of being copied into the arena (zero copy).  The caller must
     * then keep the input alive as long as the tree is used. */
    EDIST_ETF_BORROW = 1u << 3
};

/* Defaults for the decoder's caps (a zero field in the options). */
#define EDIST_ETF_DEFAULT_MAX_DEPTH        4096u
#define EDIST_ETF_DEFAULT_MAX_TERMS        (1u << 23)
#define EDIST_ETF_DEFAULT_MAX_DECOMPRESSED (64u * 1024u * 1024u)
/* Atoms hold at most 255 characters (1020 bytes of UTF-8). */
#define EDIST_ETF_MAX_ATOM_CHARS 255u

/* ------------------------------------------------------- output buffers */

/* Bytes owned by the caller, allocated with alloc (the default allocator
 * when the producing call was given none).  Release with
 * edist_bytes_free(). */
typedef struct edist_bytes {
    uint8_t *data;
    size_t len;
    const edist_allocator *alloc;
} edist_bytes;

/* Frees b->data and zeroes *b.  NULL or an already freed (zeroed) struct
 * is a no-op. */
EDIST_EXTERN void edist_bytes_free(edist_bytes *b);

/* ------------------------------------------------------ streaming reader */

/*
 * A bounds-checked cursor over an encoded term, in the caller's buffer.
 * Initialise with edist_etf_reader_init(); the fields are public so that a
 * caller may save and restore a position (copy the struct, or save and
 * restore p), but should not be written otherwise.  The buffer and the
 * cache table are BORROWED: they must outlive the reader and every pointer
 * it hands out.  Nothing is allocated, ever.
 *
 * Every read function checks the type and the bounds first, and on any
 * error leaves the reader where it was, so a caller can try another
 * reading.  Common returns of the read functions:
 *   0               success, the reader moved past what was read;
 *   EDIST_EAGAIN    the buffer ends inside the term (truncated input);
 *   EDIST_ETYPE     the next term is of another type than asked for;
 *   EDIST_EBADMSG   malformed encoding (bad bit count, non-finite float,
 *                   a node that is not an atom, ...);
 *   EDIST_EUTF8     an atom whose UTF-8 is invalid;
 *   EDIST_EATOMLEN  an atom over 255 characters;
 *   EDIST_ETAG      the next tag is unknown or unsupported;
 *   EDIST_EATOMCACHE an ATOM_CACHE_REF outside the cache table.
 * A container header whose count exceeds the bytes left (each element
 * takes at least one) is EDIST_EAGAIN: it cannot be complete.
 */
typedef struct edist_etf_reader {
    const uint8_t *start; /* the buffer */
    const uint8_t *p;     /* the next byte to read */
    const uint8_t *end;
    const edist_atom *cache_refs; /* see edist_etf_decode_opts */
    size_t n_cache_refs;
    /* Scratch for a Latin-1 atom converted to UTF-8 (see read_atom), and
     * for the function name of an export (see read_next). */
    char scratch[2 * EDIST_ETF_MAX_ATOM_CHARS + 2];
    char scratch2[2 * EDIST_ETF_MAX_ATOM_CHARS + 2];
} edist_etf_reader;

/* Starts a reader at buf[0]; cache_refs may be NULL (then n must be 0).
 * Does not consume a version byte: see edist_etf_read_version(). */
static inline void edist_etf_reader_init(edist_etf_reader *r, const void *buf,
                                         size_t len,
                                         const edist_atom *cache_refs,
                                         size_t n_cache_refs)
{
    r->start = (const uint8_t *)buf;
    r->p = r->start;
    r->end = r->start + (buf ? len : 0);
    r->cache_refs = cache_refs;
    r->n_cache_refs = cache_refs ? n_cache_refs : 0;
}

/* Bytes left after the cursor. */
static inline size_t edist_etf_reader_left(const edist_etf_reader *r)
{
    return (size_t)(r->end - r->p);
}

/* Consumes the 131 version byte.  Returns 0, EDIST_EAGAIN (empty) or
 * EDIST_EVERSION (another byte). */
static inline int edist_etf_read_version(edist_etf_reader *r)
{
    if (r->p >= r->end)
        return EDIST_EAGAIN;
    if (*r->p != EDIST_ETF_VERSION)
        return EDIST_EVERSION;
    r->p++;
    return 0;
}

/* Returns the tag byte of the next term (>= 0, see enum edist_etf_tag)
 * without consuming it, or EDIST_EAGAIN at the end of the buffer. */
EDIST_EXTERN int edist_etf_peek_tag(const edist_etf_reader *r);

/* Returns the edist_term_type (> 0) of the next term without consuming it:
 * STRING_EXT gives EDIST_TERM_LIST, and bignums that fit int64_t give
 * EDIST_TERM_INT.  Errors: EDIST_EAGAIN, EDIST_ETAG (including tag 80:
 * compressed terms can only be decoded whole). */
EDIST_EXTERN int edist_etf_peek_type(const edist_etf_reader *r);

/* Reads an integer that fits int64_t (SMALL_INTEGER, INTEGER or a
 * bignum).  Also returns EDIST_ERANGE for a bignum outside int64_t. */
EDIST_EXTERN int edist_etf_read_int64(edist_etf_reader *r, int64_t *v);

/* Reads a non-negative integer that fits uint64_t (as the Id of
 * UNLINK_ID).  EDIST_ERANGE for a negative or larger integer. */
EDIST_EXTERN int edist_etf_read_uint64(edist_etf_reader *r, uint64_t *v);

/* Reads a NEW_FLOAT_EXT or legacy FLOAT_EXT. */
EDIST_EXTERN int edist_etf_read_double(edist_etf_reader *r, double *v);

/*
 * Reads an atom of any atom tag (or an ATOM_CACHE_REF) as UTF-8 text.
 * out->name is BORROWED and not NUL-terminated: it points into the buffer
 * (UTF-8 tags and pure-ASCII Latin-1 atoms), into the cache table (cache
 * refs), or, for Latin-1 atoms with characters above 127, into the
 * reader's scratch space, valid until the next atom read on this reader.
 */
EDIST_EXTERN int edist_etf_read_atom(edist_etf_reader *r, edist_atom *out);

/* Reads an atom and compares it with the NUL-terminated UTF-8 name.
 * Returns 1 (equal, consumed), 0 (another atom; NOT consumed) or an error
 * of edist_etf_read_atom(). */
EDIST_EXTERN int edist_etf_read_atom_eq(edist_etf_reader *r, const char *name);

/* Reads a SMALL_TUPLE_EXT or LARGE_TUPLE_EXT header; the arity elements
 * follow. */
EDIST_EXTERN int edist_etf_read_tuple_header(edist_etf_reader *r,
                                             size_t *arity);

/* Reads a LIST_EXT header (*len elements then a tail term follow; the
 * tail is NIL_EXT for a proper list) or NIL_EXT (*len = 0, nothing
 * follows).  STRING_EXT gives EDIST_ETYPE: read it with
 * edist_etf_read_string().  A LIST_EXT of 0 elements (which OTP reads as
 * its tail and never writes) is EDIST_EBADMSG here; edist_etf_read_next()
 * and the tree decoder accept it. */
EDIST_EXTERN int edist_etf_read_list_header(edist_etf_reader *r, size_t *len);

/* Reads NIL_EXT. */
EDIST_EXTERN int edist_etf_read_nil(edist_etf_reader *r);

/* Reads a STRING_EXT (a list of bytes) or NIL_EXT (*len = 0).  *data is
 * BORROWED from the buffer. */
EDIST_EXTERN int edist_etf_read_string(edist_etf_reader *r,
                                       const uint8_t **data, size_t *len);

/* Reads a MAP_EXT header; *pairs key-value pairs follow, key first. */
EDIST_EXTERN int edist_etf_read_map_header(edist_etf_reader *r, size_t *pairs);

/* Reads a BINARY_EXT; *data is BORROWED from the buffer.  A bitstring
 * (BIT_BINARY_EXT with fewer than 8 bits in its last byte) is EDIST_ETYPE. */
EDIST_EXTERN int edist_etf_read_binary(edist_etf_reader *r,
                                       const uint8_t **data, size_t *size);

/* Reads a BINARY_EXT or BIT_BINARY_EXT: *bits (1..8) used bits of the last
 * byte (8 for binaries).  *data is BORROWED; the unused low bits of the
 * last byte are as on the wire (the tree decoder clears them). */
EDIST_EXTERN int edist_etf_read_bitstring(edist_etf_reader *r,
                                          const uint8_t **data, size_t *size,
                                          uint8_t *bits);

/* Reads a pid (NEW_PID_EXT or PID_EXT), port (NEW_PORT_EXT, V4_PORT_EXT,
 * PORT_EXT) or reference (NEWER_REFERENCE_EXT, NEW_REFERENCE_EXT,
 * REFERENCE_EXT) into *out, a term whose node atom is BORROWED as in
 * edist_etf_read_atom(). */
EDIST_EXTERN int edist_etf_read_pid(edist_etf_reader *r, edist_term *out);
EDIST_EXTERN int edist_etf_read_port(edist_etf_reader *r, edist_term *out);
EDIST_EXTERN int edist_etf_read_ref(edist_etf_reader *r, edist_term *out);

/*
 * One step of a pull parse: what edist_etf_read_next() found.  Scalars
 * come whole; containers come as a header whose elements are the next
 * items.  Everything pointed to is BORROWED as in the read functions.
 */
typedef struct edist_etf_item {
    uint8_t tag;          /* the wire tag (enum edist_etf_tag) */
    edist_term_type type; /* as edist_etf_peek_type() */
    /* TUPLE: arity.  MAP: pairs (2 * n items follow).  LIST: for
     * LIST_EXT, the elements (n items, then the tail item, follow; n may
     * be 0, which OTP accepts); for STRING_EXT (tag 107), the bytes, in
     * data, and nothing follows.  NIL: 0.  BINARY: bytes.  BIGINT: digit
     * bytes.  FUN: the length of the whole NEW_FUN_EXT, in data. */
    size_t n;
    /* STRING_EXT bytes, BINARY data, BIGINT little-endian digits (high
     * zero bytes possible), FUN encoding (tag included); else NULL. */
    const uint8_t *data;
    union {
        int64_t i;       /* INT */
        double f;        /* FLOAT */
        edist_atom atom; /* ATOM */
        uint8_t bits;    /* BINARY: used bits of the last byte, 1..8 */
        int negative;    /* BIGINT */
        edist_term id;   /* PID, PORT, REF, EXPORT as scalar terms */
    } v;
} edist_etf_item;

/* edist_etf_read_next(r, it) (inline, at the end of this header) reads
 * the next item (see edist_etf_item): one call per value, for generic
 * walks that would otherwise peek and then read.  Returns 0 or the read
 * functions' errors (EDIST_ETAG for compressed terms). */

/* Skips one whole term, however deep, in constant memory, checking its
 * structure (tags, lengths, atom UTF-8) but not building anything.
 * Compressed terms (tag 80) are EDIST_ETAG here.  Also EDIST_ETERMS when
 * the term holds more than max_terms terms (0: the default cap). */
EDIST_EXTERN int edist_etf_skip(edist_etf_reader *r, size_t max_terms);

/* Skips one term like edist_etf_skip() and returns its encoding: *raw is
 * BORROWED from the buffer, *len bytes. */
EDIST_EXTERN int edist_etf_read_raw(edist_etf_reader *r, const uint8_t **raw,
                                    size_t *len);

/* ------------------------------------------------------ streaming writer */

/*
 * An encoder that appends to a buffer, without building a tree.  Either
 * over a caller's fixed buffer (edist_etf_writer_init_fixed: nothing is
 * ever allocated; the buffer is BORROWED) or over a growable buffer owned
 * by the writer (edist_etf_writer_init_dynamic: capped by limit, allocated
 * with alloc; release it with edist_etf_writer_free() or take it with
 * edist_etf_writer_take()).
 *
 * The put functions return 0, or:
 *   EDIST_ETOOBIG  the fixed buffer is full or the limit would be passed;
 *   EDIST_ENOMEM   the growable buffer could not grow;
 *   EDIST_EINVAL   an argument no encoding can carry (stated per call).
 * A failed put writes nothing and is remembered in w->err (the first error
 * sticks, and later puts fail at once with it), so a caller may issue a
 * series of puts and check only the last return, or w->err.
 *
 * The writer does not check that the puts form a well-formed term (for
 * instance that a tuple header is followed by arity terms): that is the
 * caller's job.
 */
/* A payload that a gathering writer references instead of copying (see
 * edist_etf_writer_gather()): len bytes at data (BORROWED) belong at
 * offset `at` of the writer's buffer, that is after the first `at` bytes
 * written there. */
typedef struct edist_etf_ref {
    size_t at;
    const uint8_t *data;
    size_t len;
} edist_etf_ref;

typedef struct edist_etf_writer {
    uint8_t *buf;
    size_t len; /* bytes written into buf */
    size_t cap; /* bytes available in buf */
    size_t limit;
    const edist_allocator *alloc; /* NULL for a fixed buffer */
    unsigned flags;               /* EDIST_ETF_ATOMS_LATIN1 or 0 */
    int err;                      /* first error, 0 if none */
    /* Gathering (edist_etf_writer_gather()); off after init: payloads of
     * at least ref_min bytes (SIZE_MAX: none) are referenced in refs
     * instead of being copied into buf. */
    size_t ref_min;
    edist_etf_ref *refs; /* the caller's array, BORROWED */
    size_t nrefs, refs_cap;
    size_t ref_bytes; /* sum of the referenced lengths */
} edist_etf_writer;

/* One piece of a gathered encoding (edist_etf_writer_pieces()). */
typedef struct edist_etf_piece {
    const uint8_t *data;
    size_t len;
} edist_etf_piece;

/* A writer over buf[0..cap), BORROWED.  flags: EDIST_ETF_ATOMS_LATIN1. */
EDIST_EXTERN void edist_etf_writer_init_fixed(edist_etf_writer *w, void *buf,
                                              size_t cap, unsigned flags);

/* A writer over a growable buffer of at most limit bytes (0: no limit),
 * allocated with alloc (NULL: the default allocator, BORROWED).  Allocates
 * nothing until the first put. */
EDIST_EXTERN void edist_etf_writer_init_dynamic(edist_etf_writer *w,
                                                size_t limit,
                                                const edist_allocator *alloc,
                                                unsigned flags);

/* Releases a dynamic writer's buffer (no-op for fixed ones); the writer
 * may be reused after a new init. */
EDIST_EXTERN void edist_etf_writer_free(edist_etf_writer *w);

/* Hands a dynamic writer's bytes to the caller, who then OWNS out (free
 * with edist_bytes_free()), and leaves the writer empty.  Returns 0,
 * w->err if a put failed (nothing is handed over, the writer keeps its
 * buffer), or EDIST_EINVAL for a fixed writer or a writer holding
 * references (its buffer alone is not the encoding: use
 * edist_etf_writer_flatten()). */
EDIST_EXTERN int edist_etf_writer_take(edist_etf_writer *w, edist_bytes *out);

/*
 * Gathering: turns on zero-copy for large payloads on an initialised
 * writer (fixed or dynamic, before or between puts).  From then on a
 * binary (edist_etf_put_binary, put_bitstring with 8 bits, and BINARY
 * terms written by edist_etf_put_term) or a byte string (put_string of
 * at most 65535 bytes, written as STRING_EXT) of at least `min` bytes
 * (0: EDIST_ETF_GATHER_MIN) is not copied: only its tag and length go
 * into the buffer, and an edist_etf_ref in refs[0..cap) records where its
 * bytes belong.  Once refs is full, payloads are copied again, so
 * gathering never fails and never allocates.
 *
 * OWNERSHIP: refs is BORROWED (the caller's array, alive as long as the
 * writer is used), and so is every referenced payload: the caller must
 * keep each one alive and unchanged until it has consumed the encoding
 * (edist_etf_writer_pieces(), _flatten(), or a writev of them).  Term
 * trees are BORROWED the same way: their binaries are referenced, not
 * copied.
 *
 * Limits: a dynamic writer's limit applies to the whole encoding
 * (buffer and referenced bytes); a fixed buffer bounds only the bytes
 * copied into it.  A failed put_term drops the references it added.
 * Threading: as the writer (one owner at a time).
 */
#define EDIST_ETF_GATHER_MIN 512u
EDIST_EXTERN void edist_etf_writer_gather(edist_etf_writer *w, size_t min,
                                          edist_etf_ref *refs, size_t cap);

/* The size of the whole encoding: bytes in the buffer plus referenced
 * bytes (w->len when nothing is referenced). */
static inline size_t edist_etf_writer_size(const edist_etf_writer *w)
{
    return w->len + w->ref_bytes;
}

/* Describes the encoding as pieces in order, alternating runs of the
 * writer's buffer and referenced payloads (empty runs are left out):
 * fills out[0..max) and returns the number of pieces the whole encoding
 * needs (at most 2 * nrefs + 1), which may exceed max (then only the
 * first max are filled).  The pieces point into the writer's buffer and
 * into the referenced payloads: valid until the next put or free. */
EDIST_EXTERN size_t edist_etf_writer_pieces(const edist_etf_writer *w,
                                            edist_etf_piece *out, size_t max);

/* Copies the whole encoding (edist_etf_writer_size() bytes) into
 * dst[0..cap) (BORROWED).  Returns 0, EDIST_ETOOBIG when cap is too small
 * (nothing copied), or w->err if a put failed. */
EDIST_EXTERN int edist_etf_writer_flatten(const edist_etf_writer *w, void *dst,
                                          size_t cap);

/* edist_etf_put_version(w) (inline) puts the 131 version byte. */
/* SMALL_TUPLE_EXT or LARGE_TUPLE_EXT; EDIST_EINVAL above 2^32-1. */
/* LIST_EXT header for len >= 1 elements (then the caller puts the
 * elements and a tail, edist_etf_put_nil() for a proper list); len 0 puts
 * NIL_EXT.  EDIST_EINVAL above 2^32-1. */
/* MAP_EXT header; pairs key, value, ... follow.  EDIST_EINVAL > 2^32-1. */
/* The integer as OTP writes it: SMALL_INTEGER_EXT, INTEGER_EXT or
 * SMALL_BIG_EXT. */
EDIST_EXTERN int edist_etf_put_uint64(edist_etf_writer *w, uint64_t v);
/* An integer of any size from sign and little-endian magnitude (leading
 * zero bytes allowed), normalised as OTP would write it. */
EDIST_EXTERN int edist_etf_put_bigint(edist_etf_writer *w, int negative,
                                      const uint8_t *le, size_t n);
/* NEW_FLOAT_EXT; EDIST_EINVAL for NaN or infinities (not Erlang terms). */
/* An atom from UTF-8 text (BORROWED during the call), with the tag the
 * writer's flags select.  EDIST_EATOMLEN over 255 characters, EDIST_EUTF8
 * for invalid UTF-8. */
EDIST_EXTERN int edist_etf_put_atom(edist_etf_writer *w, const char *utf8,
                                    size_t len);
/* edist_etf_put_atom() of a NUL-terminated name. */
EDIST_EXTERN int edist_etf_put_atom_z(edist_etf_writer *w, const char *name);
/* BINARY_EXT; EDIST_EINVAL above 2^32-1 bytes.  Referenced instead of
 * copied when gathering (see edist_etf_writer_gather()). */
/* Only the 5-byte BINARY_EXT header of a binary of size bytes, for
 * zero-copy framing: the caller then sends the size bytes itself (for
 * instance as a second iovec of a writev), without copying them into the
 * writer.  EDIST_EINVAL above 2^32-1. */
EDIST_EXTERN int edist_etf_put_binary_header(edist_etf_writer *w, size_t size);
/* BIT_BINARY_EXT for bits 1..7 (unused low bits are cleared), BINARY_EXT
 * for bits 8.  EDIST_EINVAL for bits outside 1..8 or bits < 8 with size
 * 0. */
EDIST_EXTERN int edist_etf_put_bitstring(edist_etf_writer *w, const void *data,
                                         size_t size, uint8_t bits);
/* edist_etf_put_string(w, s, len) (inline) puts the list of the bytes
 * s[0..len) as OTP writes it: NIL_EXT when empty, STRING_EXT up to 65535
 * bytes, else a LIST_EXT of integers.  A STRING_EXT's bytes are
 * referenced instead of copied when gathering. */
/* NEW_PID_EXT, NEW_PORT_EXT / V4_PORT_EXT (id above 28 bits),
 * NEWER_REFERENCE_EXT (len 1..5, else EDIST_EINVAL), EXPORT_EXT (arity
 * 0..255, else EDIST_EINVAL).  Node and names are UTF-8, BORROWED. */
EDIST_EXTERN int edist_etf_put_pid(edist_etf_writer *w, edist_atom node,
                                   uint32_t id, uint32_t serial,
                                   uint32_t creation);
EDIST_EXTERN int edist_etf_put_port(edist_etf_writer *w, edist_atom node,
                                    uint64_t id, uint32_t creation);
EDIST_EXTERN int edist_etf_put_ref(edist_etf_writer *w, edist_atom node,
                                   uint32_t creation, const uint32_t *ids,
                                   uint32_t len);
EDIST_EXTERN int edist_etf_put_export(edist_etf_writer *w, edist_atom module,
                                      edist_atom function, uint32_t arity);
/* Copies an already encoded term (BORROWED) verbatim. */
EDIST_EXTERN int edist_etf_put_raw(edist_etf_writer *w, const void *raw,
                                   size_t len);
/* Encodes a whole term tree (BORROWED) as edist_etf_encode() does, without
 * a version byte and without compression.  The walk is iterative, so no
 * tree is too deep; beyond 32 levels its stack is allocated with the
 * writer's allocator (the default one for fixed writers), which may fail
 * with EDIST_ENOMEM.  Also EDIST_EINVAL for trees no encoding can carry
 * (NaN, bad bit counts, arity over 2^32-1, a FUN without raw bytes, a
 * REF of 0 or more than 5 words).  On failure nothing of the term stays
 * written (w->len is restored) and w->err is set. */
EDIST_EXTERN int edist_etf_put_term(edist_etf_writer *w, const edist_term *t);

/* ---------------------------------------------------------- tree decode */

typedef struct edist_etf_decode_opts {
    /* EDIST_ETF_NO_VERSION, EDIST_ETF_BORROW. */
    unsigned flags;
    /* Caps; 0 means the default.  max_depth: nesting of containers
     * (EDIST_EDEPTH).  max_terms: terms in the whole tree, every element
     * and tail counted (EDIST_ETERMS).  max_size: bytes of the encoding,
     * after decompression (EDIST_ETOOBIG; default: no cap beyond len).
     * max_decompressed: the size a compressed term may claim
     * (EDIST_ETOOBIG).  max_atom_chars: atoms longer than this are
     * EDIST_EATOMLEN (default and maximum 255). */
    size_t max_depth;
    size_t max_terms;
    size_t max_size;
    size_t max_decompressed;
    size_t max_atom_chars;
    /* The atoms of the current distribution message's header, in header
     * order: ATOM_CACHE_REF n stands for cache_refs[n].  BORROWED for the
     * call (and for the tree's lifetime with EDIST_ETF_BORROW).  A ref
     * past n_cache_refs is EDIST_EATOMCACHE. */
    const edist_atom *cache_refs;
    size_t n_cache_refs;
} edist_etf_decode_opts;

/*
 * Decodes one term from buf[0..len) into a tree allocated in arena a.
 * opts may be NULL (defaults: 131 expected, copies, default caps).
 * On success *out holds the term, *consumed (may be NULL) the bytes used
 * (trailing bytes are allowed and left to the caller), and returns 0.
 * The tree is owned by the arena; with EDIST_ETF_BORROW it also borrows
 * buf.  On failure *out is untouched; what was allocated stays in the
 * arena until it is reset or freed.
 * Returns, beyond the reader's codes (EDIST_EAGAIN for truncated input,
 * EDIST_EBADMSG, EDIST_ETAG, EDIST_EATOMCACHE):
 *   EDIST_EVERSION  missing 131 byte (unless EDIST_ETF_NO_VERSION);
 *   EDIST_EDEPTH, EDIST_ETERMS, EDIST_ETOOBIG, EDIST_EATOMLEN: caps;
 *   EDIST_EUTF8     an atom with invalid UTF-8;
 *   EDIST_EZLIB     a corrupt compressed term, or one whose size differs
 *                   from the size it claims;
 *   EDIST_ENOMEM    the arena could not allocate;
 *   EDIST_EINVAL    NULL a, buf (with len > 0) or out.
 * A map with two equal (=:=) keys is EDIST_EBADMSG, as in OTP.
 */
EDIST_EXTERN int edist_etf_decode(edist_arena *a, const void *buf, size_t len,
                                  const edist_etf_decode_opts *opts,
                                  edist_term *out, size_t *consumed);

/* Decodes the term at the reader's cursor (no version byte; a compressed
 * term is accepted) and moves the reader past it.  opts may be NULL; its
 * flags' NO_VERSION and its cache refs are ignored (the reader's count).
 * Same returns as edist_etf_decode(); on failure the reader stays put. */
EDIST_EXTERN int edist_etf_read_term(edist_etf_reader *r, edist_arena *a,
                                     const edist_etf_decode_opts *opts,
                                     edist_term *out);

/* ---------------------------------------------------------- tree encode */

typedef struct edist_etf_encode_opts {
    /* EDIST_ETF_NO_VERSION, EDIST_ETF_ATOMS_LATIN1, EDIST_ETF_COMPRESS. */
    unsigned flags;
    /* zlib level 1..9 for EDIST_ETF_COMPRESS; 0 means 6, term_to_binary's
     * default. */
    int level;
    /* Cap on the output bytes (EDIST_ETOOBIG); 0: none. */
    size_t max_size;
    /* Allocator for the output and zlib's state; NULL: default.
     * BORROWED: it must outlive the returned bytes. */
    const edist_allocator *alloc;
} edist_etf_encode_opts;

/*
 * Computes the exact number of bytes edist_etf_encode_to() writes for t
 * (version byte included unless EDIST_ETF_NO_VERSION).  Returns 0, or
 * EDIST_EINVAL for a tree no encoding can carry (see put_term), for a NULL
 * argument, or when EDIST_ETF_COMPRESS is set (the compressed size is not
 * known in advance), or EDIST_ENOMEM (the walk's stack, past 32 levels).
 */
EDIST_EXTERN int edist_etf_encoded_size(const edist_term *t,
                                        const edist_etf_encode_opts *opts,
                                        size_t *size);

/* Encodes t (BORROWED) into buf[0..cap) (BORROWED), for callers that
 * frame messages in preallocated buffers.  *written gets the length.
 * EDIST_ETF_COMPRESS is not supported here (EDIST_EINVAL).  Returns 0,
 * EDIST_ETOOBIG when cap is too small (buf contents then undefined), or
 * the errors of edist_etf_encoded_size(). */
EDIST_EXTERN int edist_etf_encode_to(const edist_term *t,
                                     const edist_etf_encode_opts *opts,
                                     void *buf, size_t cap, size_t *written);

/* Encodes t into newly allocated bytes that the caller OWNS (release with
 * edist_bytes_free()).  opts may be NULL: version byte, UTF-8 atoms, no
 * compression.  Returns 0, EDIST_ENOMEM, EDIST_ETOOBIG (max_size), the
 * errors of edist_etf_encoded_size(), or EDIST_EZLIB when zlib fails.
 * On failure *out is zeroed. */
EDIST_EXTERN int edist_etf_encode(const edist_term *t,
                                  const edist_etf_encode_opts *opts,
                                  edist_bytes *out);

/* ------------------------------------------ inline fast paths (hot code) */

/*
 * The calls above that run once per value in a hot loop are inline: their
 * common cases compile into the caller, and everything else goes to the
 * exported out-of-line parts below, which callers should not call
 * directly.  Semantics, returns and ownership are as documented above:
 *   edist_etf_read_next        (see edist_etf_item)
 *   edist_etf_put_tuple_header, edist_etf_put_list_header,
 *   edist_etf_put_nil, edist_etf_put_map_header, edist_etf_put_int,
 *   edist_etf_put_double, edist_etf_put_binary, edist_etf_put_version,
 *   edist_etf_put_string  (see the writer section)
 */
EDIST_EXTERN int edist_etf_read_next_slow(edist_etf_reader *r,
                                          edist_etf_item *it);
/* Makes room for n bytes: returns where to write, or NULL with w->err. */
EDIST_EXTERN uint8_t *edist_etf_writer_grow(edist_etf_writer *w, size_t n);
EDIST_EXTERN int edist_etf_put_int_slow(edist_etf_writer *w, int64_t v);
EDIST_EXTERN int edist_etf_put_header_slow(edist_etf_writer *w, uint8_t tag,
                                           size_t n);
EDIST_EXTERN int edist_etf_put_string_slow(edist_etf_writer *w, const void *s,
                                           size_t len);

static inline uint32_t edist_etf_get32_(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static inline void edist_etf_put32_(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline int edist_etf_read_next(edist_etf_reader *r, edist_etf_item *it)
{
    const uint8_t *p = r->p;
    size_t left = (size_t)(r->end - p);
    if (left >= 9) {
        it->data = NULL;
        it->n = 0;
        switch (*p) {
        case EDIST_ETF_SMALL_INTEGER:
            it->tag = *p;
            it->type = EDIST_TERM_INT;
            it->v.i = p[1];
            r->p = p + 2;
            return 0;
        case EDIST_ETF_INTEGER:
            it->tag = *p;
            it->type = EDIST_TERM_INT;
            it->v.i = (int32_t)edist_etf_get32_(p + 1);
            r->p = p + 5;
            return 0;
        case EDIST_ETF_NEW_FLOAT: {
            uint64_t bits = (uint64_t)edist_etf_get32_(p + 1) << 32 |
                            edist_etf_get32_(p + 5);
            if ((bits >> 52 & 0x7FF) == 0x7FF)
                break; /* NaN or infinity: the slow path refuses it */
            it->tag = *p;
            it->type = EDIST_TERM_FLOAT;
            memcpy(&it->v.f, &bits, sizeof bits);
            r->p = p + 9;
            return 0;
        }
        case EDIST_ETF_SMALL_TUPLE:
            if (p[1] > left - 2)
                break;
            it->tag = *p;
            it->type = EDIST_TERM_TUPLE;
            it->n = p[1];
            r->p = p + 2;
            return 0;
        case EDIST_ETF_NIL:
            it->tag = *p;
            it->type = EDIST_TERM_NIL;
            r->p = p + 1;
            return 0;
        case EDIST_ETF_LIST: {
            size_t n = edist_etf_get32_(p + 1);
            if (n >= left - 5)
                break;
            it->tag = *p;
            it->type = EDIST_TERM_LIST;
            it->n = n;
            r->p = p + 5;
            return 0;
        }
        case EDIST_ETF_SMALL_ATOM_UTF8: {
            /* Short ASCII atoms: one load checks them (10 bytes left). */
            size_t n = p[1];
            uint64_t w;
            if (n > 8 || left < 10)
                break;
            memcpy(&w, p + 2, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            uint64_t high = n ? 0x8080808080808080u << (8 * (8 - n)) : 0;
#else
            uint64_t high = n ? 0x8080808080808080u >> (8 * (8 - n)) : 0;
#endif
            if (w & high)
                break;
            it->tag = *p;
            it->type = EDIST_TERM_ATOM;
            it->v.atom.name = (const char *)p + 2;
            it->v.atom.len = n;
            r->p = p + 2 + n;
            return 0;
        }
        case EDIST_ETF_BINARY: {
            size_t n = edist_etf_get32_(p + 1);
            if (n > left - 5)
                break;
            it->tag = *p;
            it->type = EDIST_TERM_BINARY;
            it->n = n;
            it->data = p + 5;
            it->v.bits = 8;
            r->p = p + 5 + n;
            return 0;
        }
        default:
            break;
        }
    }
    return edist_etf_read_next_slow(r, it);
}

static inline uint8_t *edist_etf_room_(edist_etf_writer *w, size_t n)
{
    if (!w->err && w->cap - w->len >= n)
        return w->buf + w->len;
    return edist_etf_writer_grow(w, n);
}

static inline int edist_etf_put_int(edist_etf_writer *w, int64_t v)
{
    if (v >= 0 && v <= 255) {
        uint8_t *o = edist_etf_room_(w, 2);
        if (!o)
            return w->err;
        o[0] = EDIST_ETF_SMALL_INTEGER;
        o[1] = (uint8_t)v;
        w->len += 2;
        return 0;
    }
    if (v >= INT32_MIN && v <= INT32_MAX) {
        uint8_t *o = edist_etf_room_(w, 5);
        if (!o)
            return w->err;
        o[0] = EDIST_ETF_INTEGER;
        edist_etf_put32_(o + 1, (uint32_t)(int32_t)v);
        w->len += 5;
        return 0;
    }
    return edist_etf_put_int_slow(w, v);
}

static inline int edist_etf_put_tuple_header(edist_etf_writer *w, size_t arity)
{
    if (arity < 256) {
        uint8_t *o = edist_etf_room_(w, 2);
        if (!o)
            return w->err;
        o[0] = EDIST_ETF_SMALL_TUPLE;
        o[1] = (uint8_t)arity;
        w->len += 2;
        return 0;
    }
    return edist_etf_put_header_slow(w, EDIST_ETF_LARGE_TUPLE, arity);
}

static inline int edist_etf_put_nil(edist_etf_writer *w)
{
    uint8_t *o = edist_etf_room_(w, 1);
    if (!o)
        return w->err;
    o[0] = EDIST_ETF_NIL;
    w->len += 1;
    return 0;
}

static inline int edist_etf_put_header32_(edist_etf_writer *w, uint8_t tag,
                                          size_t n)
{
    if (n > 0xFFFFFFFFu)
        return edist_etf_put_header_slow(w, tag, n);
    uint8_t *o = edist_etf_room_(w, 5);
    if (!o)
        return w->err;
    o[0] = tag;
    edist_etf_put32_(o + 1, (uint32_t)n);
    w->len += 5;
    return 0;
}

static inline int edist_etf_put_list_header(edist_etf_writer *w, size_t len)
{
    if (len == 0)
        return edist_etf_put_nil(w);
    return edist_etf_put_header32_(w, EDIST_ETF_LIST, len);
}

static inline int edist_etf_put_map_header(edist_etf_writer *w, size_t pairs)
{
    return edist_etf_put_header32_(w, EDIST_ETF_MAP, pairs);
}

static inline int edist_etf_put_double(edist_etf_writer *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    if (w->err)
        return w->err;
    if ((bits >> 52 & 0x7FF) == 0x7FF)
        return w->err = EDIST_EINVAL; /* NaN and infinities */
    uint8_t *o = edist_etf_room_(w, 9);
    if (!o)
        return w->err;
    o[0] = EDIST_ETF_NEW_FLOAT;
    edist_etf_put32_(o + 1, (uint32_t)(bits >> 32));
    edist_etf_put32_(o + 5, (uint32_t)bits);
    w->len += 9;
    return 0;
}

static inline int edist_etf_put_version(edist_etf_writer *w)
{
    uint8_t *o = edist_etf_room_(w, 1);
    if (!o)
        return w->err;
    o[0] = EDIST_ETF_VERSION;
    w->len += 1;
    return 0;
}

static inline int edist_etf_put_string(edist_etf_writer *w, const void *s,
                                       size_t len)
{
    if (s && len - 1 < 0xFFFF && len < w->ref_min) {
        uint8_t *o = edist_etf_room_(w, 3 + len);
        if (!o)
            return w->err;
        o[0] = EDIST_ETF_STRING;
        o[1] = (uint8_t)(len >> 8);
        o[2] = (uint8_t)len;
        memcpy(o + 3, s, len);
        w->len += 3 + len;
        return 0;
    }
    return edist_etf_put_string_slow(w, s, len);
}

static inline int edist_etf_put_binary(edist_etf_writer *w, const void *data,
                                       size_t size)
{
    if (data && size <= UINT32_MAX && size < w->ref_min) {
        uint8_t *o = edist_etf_room_(w, 5 + size);
        if (!o)
            return w->err;
        o[0] = EDIST_ETF_BINARY;
        edist_etf_put32_(o + 1, (uint32_t)size);
        memcpy(o + 5, data, size);
        w->len += 5 + size;
        return 0;
    }
    return edist_etf_put_bitstring(w, data, size, 8);
}

#ifdef __cplusplus
}
#endif
#endif
