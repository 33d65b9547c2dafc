/*
 * edist/term.h: Erlang terms as a tree owned by an arena.
 *
 * Lifecycle: create an edist_arena, build or decode terms into it, read
 * them through the public struct fields, then free (or reset) the arena:
 * every term, atom text, binary and element array allocated in it goes at
 * once.  There is no per-term free.
 *
 *     edist_arena *a = edist_arena_new(NULL);
 *     edist_term t, *e;
 *     edist_term_tuple(a, &t, 2);              // {ok, 42}
 *     e = t.v.tuple.elems;
 *     edist_term_atom(a, &e[0], "ok", 2);
 *     e[1] = edist_mk_int(42);
 *     ...
 *     edist_arena_free(a);
 *
 * Terms are plain structs held by value: containers (tuples, lists, maps)
 * point to arrays of edist_term in the arena.  Scalars (integers, floats,
 * nil, pids, ports, references) need no arena and are made by the
 * edist_mk_* inline functions.  Atoms and binaries made by the edist_mk_*
 * functions BORROW their bytes: the caller keeps them alive as long as the
 * term is used.  The edist_term_* functions COPY into the arena.
 *
 * Threading: an arena and the terms in it have one owner at a time; reading
 * the same terms from several threads is safe as long as nobody writes.
 */
#ifndef EDIST_TERM_H
#define EDIST_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edist/export.h"
#include "edist/mem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- arena */

typedef struct edist_arena edist_arena;

typedef struct edist_arena_opts {
    /* Allocator for the arena's chunks; NULL means the default. Borrowed:
     * it must outlive the arena. */
    const edist_allocator *alloc;
    /* Hard cap on the bytes the arena may hold; 0 means no cap.  An
     * allocation past the cap fails as if memory were exhausted. */
    size_t limit;
    /* Size of ordinary chunks; 0 means 16 KiB. */
    size_t chunk_size;
} edist_arena_opts;

/* Creates an arena.  opts may be NULL (defaults).  Returns NULL when memory
 * is exhausted.  Owned by the caller: release with edist_arena_free(). */
EDIST_EXTERN edist_arena *edist_arena_new(const edist_arena_opts *opts);

/* Frees the arena and everything allocated in it.  NULL is a no-op. */
EDIST_EXTERN void edist_arena_free(edist_arena *a);

/* Forgets everything allocated in the arena but keeps its first chunk for
 * reuse, so a loop that decodes one message at a time allocates nothing
 * in the steady state.  Terms from before the reset become invalid. */
EDIST_EXTERN void edist_arena_reset(edist_arena *a);

/* Allocates size bytes aligned for any scalar type; the memory is
 * uninitialised and owned by the arena.  Returns NULL when the allocator
 * fails or the arena's limit would be passed. */
EDIST_EXTERN void *edist_arena_alloc(edist_arena *a, size_t size);

/* Like edist_arena_alloc for n elements of size bytes, zero-filled, with
 * overflow checking.  Returns NULL on overflow, allocation failure or cap. */
EDIST_EXTERN void *edist_arena_calloc(edist_arena *a, size_t n, size_t size);

/* Bytes currently allocated from the arena (for caps and statistics). */
EDIST_EXTERN size_t edist_arena_used(const edist_arena *a);

/* ---------------------------------------------------------------- terms */

/*
 * The types, listed in Erlang's term order (number < atom < reference <
 * fun < port < pid < tuple < map < nil < list < bit string), which is the
 * order edist_term_compare() follows.  INT and BIGINT and FLOAT are all
 * numbers; EXPORT and FUN are both funs.
 */
typedef enum edist_term_type {
    EDIST_TERM_INT = 1, /* an integer that fits int64_t */
    EDIST_TERM_BIGINT,  /* an integer that does not fit int64_t */
    EDIST_TERM_FLOAT,   /* a finite double */
    EDIST_TERM_ATOM,
    EDIST_TERM_REF,
    EDIST_TERM_FUN,    /* a local fun (NEW_FUN_EXT), kept opaque */
    EDIST_TERM_EXPORT, /* fun M:F/A (EXPORT_EXT) */
    EDIST_TERM_PORT,
    EDIST_TERM_PID,
    EDIST_TERM_TUPLE,
    EDIST_TERM_MAP,
    EDIST_TERM_NIL,    /* [] */
    EDIST_TERM_LIST,   /* a non-empty list, proper or improper */
    EDIST_TERM_BINARY, /* binaries and bitstrings */
} edist_term_type;

/* Atom text: UTF-8, at most 255 characters (1020 bytes), not necessarily
 * NUL-terminated (atoms copied into an arena are, for convenience). */
typedef struct edist_atom {
    const char *name;
    size_t len;
} edist_atom;

typedef struct edist_term edist_term;

struct edist_term {
    edist_term_type type;
    union {
        int64_t i; /* INT */
        struct {   /* BIGINT: magnitude as little-endian bytes, the most */
            int negative; /* significant byte non-zero; never a */
            size_t n;     /* value that fits int64_t */
            const uint8_t *digits;
        } big;
        double f;        /* FLOAT */
        edist_atom atom; /* ATOM */
        struct {         /* TUPLE */
            size_t arity;
            edist_term *elems;
        } tuple;
        struct { /* LIST: len >= 1 elements, then tail (NIL if proper) */
            size_t len;
            edist_term *elems;
            edist_term *tail;
        } list;
        struct { /* MAP: size pairs keys[i] => values[i], no duplicates */
            size_t size;
            edist_term *keys;
            edist_term *values;
        } map;
        struct {         /* BINARY: size bytes; bits = used bits of the last */
            size_t size; /* byte, 1..8, 8 for a binary (and */
            const uint8_t *data; /* for an empty one); unused low bits */
            uint8_t bits;        /* of the last byte are zero */
        } bin;
        struct { /* PID */
            edist_atom node;
            uint32_t id, serial, creation;
        } pid;
        struct { /* PORT */
            edist_atom node;
            uint64_t id;
            uint32_t creation;
        } port;
        struct { /* REF: 1..5 words */
            edist_atom node;
            uint32_t creation;
            uint32_t len;
            uint32_t ids[5];
        } ref;
        struct { /* EXPORT: fun Module:Function/Arity */
            edist_atom module, function;
            uint32_t arity;
        } exp;
        struct { /* FUN: the complete NEW_FUN_EXT encoding (tag 112  */
            const uint8_t *raw; /* included), kept opaque so it can be */
            size_t raw_len;     /* re-encoded byte for byte, plus the */
            edist_atom module;  /* fields a printer or matcher needs */
            uint32_t arity;
            uint32_t index;
            uint32_t num_free;
            uint8_t uniq[16];
        } fun;
    } v;
};

/* Scalars by value; no arena needed.  Atoms and node names are BORROWED. */
static inline edist_term edist_mk_int(int64_t i)
{
    edist_term t;
    t.type = EDIST_TERM_INT;
    t.v.i = i;
    return t;
}

static inline edist_term edist_mk_float(double f)
{
    edist_term t;
    t.type = EDIST_TERM_FLOAT;
    t.v.f = f;
    return t;
}

static inline edist_term edist_mk_nil(void)
{
    edist_term t;
    t.type = EDIST_TERM_NIL;
    t.v.i = 0;
    return t;
}

/* An atom whose text is borrowed (for example a string literal).  The
 * text is not validated: use edist_term_atom() for untrusted input. */
static inline edist_term edist_mk_atom(const char *name, size_t len)
{
    edist_term t;
    t.type = EDIST_TERM_ATOM;
    t.v.atom.name = name;
    t.v.atom.len = len;
    return t;
}

static inline edist_term edist_mk_pid(edist_atom node, uint32_t id,
                                      uint32_t serial, uint32_t creation)
{
    edist_term t;
    t.type = EDIST_TERM_PID;
    t.v.pid.node = node;
    t.v.pid.id = id;
    t.v.pid.serial = serial;
    t.v.pid.creation = creation;
    return t;
}

static inline edist_term edist_mk_port(edist_atom node, uint64_t id,
                                       uint32_t creation)
{
    edist_term t;
    t.type = EDIST_TERM_PORT;
    t.v.port.node = node;
    t.v.port.id = id;
    t.v.port.creation = creation;
    return t;
}

/* A reference of len (1..5) words; words beyond len are zeroed.  A len
 * outside 1..5 is clamped into it. */
EDIST_EXTERN edist_term edist_mk_ref(edist_atom node, uint32_t creation,
                                     const uint32_t *ids, uint32_t len);

/* A binary whose bytes are borrowed. */
static inline edist_term edist_mk_binary(const void *data, size_t size)
{
    edist_term t;
    t.type = EDIST_TERM_BINARY;
    t.v.bin.size = size;
    t.v.bin.data = (const uint8_t *)data;
    t.v.bin.bits = 8;
    return t;
}

/*
 * Constructors that copy into the arena.  Each fills *out and returns 0, or
 * returns a negative code and leaves *out untouched:
 *   EDIST_ENOMEM    the arena could not allocate (or hit its limit);
 *   EDIST_EINVAL    a NULL pointer where data was required;
 * and, where stated, validation errors.
 */

/* Copies the atom text (NUL-terminated in the arena).  Also returns
 * EDIST_EUTF8 (not strict UTF-8) or EDIST_EATOMLEN (over 255 characters). */
EDIST_EXTERN int edist_term_atom(edist_arena *a, edist_term *out,
                                 const char *utf8, size_t len);

/* A tuple of arity elements, each initialised to [] for the caller to
 * fill in place through out->v.tuple.elems.  Arity 0 allocates nothing. */
EDIST_EXTERN int edist_term_tuple(edist_arena *a, edist_term *out,
                                  size_t arity);

/* A proper list of len elements, each initialised to [] and the tail to
 * [].  len 0 gives NIL.  Set *out->v.list.tail for an improper list. */
EDIST_EXTERN int edist_term_list(edist_arena *a, edist_term *out, size_t len);

/* A map of size pairs, keys and values initialised to []; the caller fills
 * them and must not repeat a key (the encoder does not check). */
EDIST_EXTERN int edist_term_map(edist_arena *a, edist_term *out, size_t size);

/* A binary holding a copy of data[0..size). */
EDIST_EXTERN int edist_term_binary(edist_arena *a, edist_term *out,
                                   const void *data, size_t size);

/* A bitstring of size bytes whose last byte holds bits (1..8) used bits,
 * most significant first; the unused bits are cleared in the copy.  Also
 * returns EDIST_EINVAL for bits outside 1..8 or bits < 8 with size 0. */
EDIST_EXTERN int edist_term_bitstring(edist_arena *a, edist_term *out,
                                      const void *data, size_t size,
                                      uint8_t bits);

/* The list of the bytes of s (Erlang's "string" syntax): [] when len is 0. */
EDIST_EXTERN int edist_term_string(edist_arena *a, edist_term *out,
                                   const char *s, size_t len);

/* An integer from sign and little-endian magnitude bytes (any length;
 * leading zero bytes are allowed).  Normalises: a value that fits int64_t
 * becomes EDIST_TERM_INT, anything else BIGINT with a copied magnitude. */
EDIST_EXTERN int edist_term_bigint(edist_arena *a, edist_term *out,
                                   int negative, const uint8_t *le, size_t n);

/* ------------------------------------------------------ order, equality */

/* Compares in Erlang's standard term order (the order of `<` and
 * lists:sort/1): returns <0, 0 or >0.  Numbers compare by value across
 * integers and floats (1 == 1.0 compares equal here, as with ==). */
EDIST_EXTERN int edist_term_compare(const edist_term *x, const edist_term *y);

/* The exact order BEAM uses for map keys (maps:keys/1, printing, map
 * comparison): like edist_term_compare() except that every integer sorts
 * before every float, so it returns 0 only for =:= terms. */
EDIST_EXTERN int edist_term_compare_exact(const edist_term *x,
                                          const edist_term *y);

/* Exact equality, Erlang's =:= (1 =/= 1.0). */
EDIST_EXTERN bool edist_term_equal(const edist_term *x, const edist_term *y);

/* True if t is the atom whose text is the NUL-terminated name. */
EDIST_EXTERN bool edist_term_is_atom(const edist_term *t, const char *name);

/* Deep copy of src into arena a (atoms, binaries and arrays copied), so
 * that the copy outlives src's storage.  The C stack grows with the
 * nesting of containers in src (as the decoder and parser cap it), not
 * with chains of list tails.  Returns 0 or EDIST_ENOMEM; on failure *out
 * is untouched (partial copies stay in the arena until it is reset or
 * freed). */
EDIST_EXTERN int edist_term_copy(edist_arena *a, edist_term *out,
                                 const edist_term *src);

#ifdef __cplusplus
}
#endif
#endif
