/* test_etf_stream.c: the streaming reader and writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "failalloc.h"

#include "edist/edist.h"
#include "edist/etf.h"

#define V(...)    ((const uint8_t[]){__VA_ARGS__})
#define VLEN(...) sizeof((const uint8_t[]){__VA_ARGS__})

/* {6, <n.1.0.3>, '', rex} then "hi": a REG_SEND and its message. */
static const uint8_t REG_SEND[] = {
    131, 104, 4, 97, 6,   88, 119, 1, 'n', 0,   0,   0,   1,   0, 0, 0,   0,
    0,   0,   0, 3,  119, 0,  119, 3, 'r', 'e', 'x', 131, 107, 0, 2, 'h', 'i'};

/* Reads REG_SEND the way the dist layer will; returns 0 or the code. */
static int walk_reg_send(const uint8_t *b, size_t n)
{
    edist_etf_reader r;
    size_t arity;
    int64_t op;
    edist_term from;
    edist_atom unused, name;
    const uint8_t *s;
    size_t slen;
    int rc;
    edist_etf_reader_init(&r, b, n, NULL, 0);
    if ((rc = edist_etf_read_version(&r)) < 0 ||
        (rc = edist_etf_read_tuple_header(&r, &arity)) < 0 ||
        (rc = edist_etf_read_int64(&r, &op)) < 0 ||
        (rc = edist_etf_read_pid(&r, &from)) < 0 ||
        (rc = edist_etf_read_atom(&r, &unused)) < 0 ||
        (rc = edist_etf_read_atom(&r, &name)) < 0 ||
        (rc = edist_etf_read_version(&r)) < 0 ||
        (rc = edist_etf_read_string(&r, &s, &slen)) < 0)
        return rc;
    assert_int_equal(arity, 4);
    assert_int_equal(op, 6);
    assert_int_equal(from.v.pid.id, 1);
    assert_int_equal(from.v.pid.creation, 3);
    assert_int_equal(unused.len, 0);
    assert_int_equal(name.len, 3);
    assert_memory_equal(name.name, "rex", 3);
    assert_int_equal(slen, 2);
    assert_int_equal(edist_etf_reader_left(&r), 0);
    return 0;
}

static void test_read_control(void **state)
{
    (void)state;
    assert_int_equal(walk_reg_send(REG_SEND, sizeof REG_SEND), 0);
    /* Every prefix fails, from a private copy so ASan sees overreads. */
    for (size_t n = 0; n < sizeof REG_SEND; n++) {
        uint8_t *c = malloc(n ? n : 1);
        memcpy(c, REG_SEND, n);
        assert_int_equal(walk_reg_send(c, n), EDIST_EAGAIN);
        free(c);
    }
}

static void test_read_scalars(void **state)
{
    (void)state;
    edist_etf_reader r;
    int64_t i;
    uint64_t u;
    double d;
    const uint8_t b[] = {97, 7,  98,   255, 255, 255, 254,  110, 8, 0, 0,
                         0,  0,  0,    0,   0,   0,   0x80, 110, 2, 1, 1,
                         1,  70, 0x40, 0,   0,   0,   0,    0,   0, 0, 106};
    edist_etf_reader_init(&r, b, sizeof b, NULL, 0);
    assert_int_equal(edist_etf_peek_tag(&r), 97);
    assert_int_equal(edist_etf_peek_type(&r), EDIST_TERM_INT);
    assert_int_equal(edist_etf_read_int64(&r, &i), 0);
    assert_int_equal(i, 7);
    assert_int_equal(edist_etf_read_int64(&r, &i), 0);
    assert_int_equal(i, -2);
    /* 2^63 is BIGINT for peek, ERANGE for int64, fine for uint64. */
    assert_int_equal(edist_etf_peek_type(&r), EDIST_TERM_BIGINT);
    const uint8_t *at = r.p;
    assert_int_equal(edist_etf_read_int64(&r, &i), EDIST_ERANGE);
    assert_ptr_equal(r.p, at);
    assert_int_equal(edist_etf_read_double(&r, &d), EDIST_ETYPE);
    assert_ptr_equal(r.p, at);
    assert_int_equal(edist_etf_read_uint64(&r, &u), 0);
    assert_true(u == (uint64_t)1 << 63);
    /* -257 fits, but not uint64. */
    assert_int_equal(edist_etf_peek_type(&r), EDIST_TERM_INT);
    assert_int_equal(edist_etf_read_uint64(&r, &u), EDIST_ERANGE);
    assert_int_equal(edist_etf_read_int64(&r, &i), 0);
    assert_int_equal(i, -257);
    assert_int_equal(edist_etf_peek_type(&r), EDIST_TERM_FLOAT);
    assert_int_equal(edist_etf_read_double(&r, &d), 0);
    assert_true(d == 2.0);
    assert_int_equal(edist_etf_read_nil(&r), 0);
    assert_int_equal(edist_etf_peek_tag(&r), EDIST_EAGAIN);
    assert_int_equal(edist_etf_peek_type(&r), EDIST_EAGAIN);
    assert_int_equal(edist_etf_read_nil(&r), EDIST_EAGAIN);
    /* Unknown tags. */
    edist_etf_reader_init(&r, V(117, 0), 2, NULL, 0);
    assert_int_equal(edist_etf_peek_type(&r), EDIST_ETAG);
    assert_int_equal(edist_etf_skip(&r, 0), EDIST_ETAG);
    edist_etf_reader_init(&r, V(130), 1, NULL, 0);
    assert_int_equal(edist_etf_read_version(&r), EDIST_EVERSION);
}

static void test_read_atoms(void **state)
{
    (void)state;
    edist_etf_reader r;
    edist_atom a;
    const edist_atom cache[1] = {{"cached", 6}};
    const uint8_t b[] = {100, 0,    2,    'h', 0xE9, 115, 2, 'o', 'k', 119,
                         2,   0xCE, 0xB1, 82,  0,    82,  1, 97,  1};
    edist_etf_reader_init(&r, b, sizeof b, cache, 1);
    assert_int_equal(edist_etf_read_atom(&r, &a), 0);
    /* Latin-1 with non-ASCII is converted into the reader's scratch. */
    assert_int_equal(a.len, 3);
    assert_memory_equal(a.name, "h\xC3\xA9", 3);
    assert_ptr_equal(a.name, r.scratch);
    /* Pure ASCII Latin-1 is borrowed. */
    assert_int_equal(edist_etf_read_atom_eq(&r, "ko"), 0);
    assert_int_equal(edist_etf_read_atom_eq(&r, "ok"), 1);
    assert_int_equal(edist_etf_read_atom(&r, &a), 0);
    assert_ptr_equal(a.name, (const char *)b + 11);
    assert_int_equal(edist_etf_read_atom(&r, &a), 0);
    assert_ptr_equal(a.name, cache[0].name);
    assert_int_equal(edist_etf_read_atom(&r, &a), EDIST_EATOMCACHE);
    r.p += 2;
    assert_int_equal(edist_etf_read_atom(&r, &a), EDIST_ETYPE);
}

static void test_read_containers(void **state)
{
    (void)state;
    edist_etf_reader r;
    size_t n;
    const uint8_t *d;
    uint8_t bits;
    /* [{}, #{}, <<1,2>>, <<1:3>>, "ab" | []] via headers. */
    const uint8_t b[] = {108, 0,   0, 0,    4,   104, 0, 116, 0,   0,  0,
                         0,   109, 0, 0,    0,   2,   1, 2,   77,  0,  0,
                         0,   1,   3, 0x20, 107, 0,   2, 'a', 'b', 106};
    edist_etf_reader_init(&r, b, sizeof b, NULL, 0);
    assert_int_equal(edist_etf_peek_type(&r), EDIST_TERM_LIST);
    assert_int_equal(edist_etf_read_tuple_header(&r, &n), EDIST_ETYPE);
    assert_int_equal(edist_etf_read_list_header(&r, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(edist_etf_read_tuple_header(&r, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(edist_etf_read_map_header(&r, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(edist_etf_read_binary(&r, &d, &n), 0);
    assert_ptr_equal(d, b + 17);
    assert_int_equal(n, 2);
    assert_int_equal(edist_etf_read_binary(&r, &d, &n), EDIST_ETYPE);
    assert_int_equal(edist_etf_read_bitstring(&r, &d, &n, &bits), 0);
    assert_int_equal(bits, 3);
    assert_int_equal(edist_etf_read_list_header(&r, &n), EDIST_ETYPE);
    assert_int_equal(edist_etf_read_string(&r, &d, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(edist_etf_read_list_header(&r, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(edist_etf_reader_left(&r), 0);
    /* Headers claiming more elements than bytes. */
    edist_etf_reader_init(&r, V(104, 5, 106), 3, NULL, 0);
    assert_int_equal(edist_etf_read_tuple_header(&r, &n), EDIST_EAGAIN);
    edist_etf_reader_init(&r, V(108, 0, 0, 0, 1, 106), 6, NULL, 0);
    assert_int_equal(edist_etf_read_list_header(&r, &n), EDIST_EAGAIN);
    edist_etf_reader_init(&r, V(108, 0, 0, 0, 0, 106), 6, NULL, 0);
    assert_int_equal(edist_etf_read_list_header(&r, &n), EDIST_EBADMSG);
    edist_etf_reader_init(&r, V(116, 0, 0, 0, 1, 106), 6, NULL, 0);
    assert_int_equal(edist_etf_read_map_header(&r, &n), EDIST_EAGAIN);
}

static void test_read_ids(void **state)
{
    (void)state;
    edist_etf_reader r;
    edist_term t;
    const uint8_t b[] = {
        89,  119, 1, 'n', 0,   0,   0, 5, 0, 0, 0, 7,       /* port */
        90,  0,   1, 119, 1,   'n', 0, 0, 0, 7, 0, 0, 0, 1, /* ref */
        103, 100, 0, 1,   'n', 0,   0, 0, 1, 0, 0, 0, 2, 3, /* old pid */
        88,  97,  1, 0,   0,   0,   0, 0, 0, 0, 0, 0, 0, 0,
        0,   0,   0, 0, /* bad */
    };
    edist_etf_reader_init(&r, b, sizeof b, NULL, 0);
    assert_int_equal(edist_etf_read_pid(&r, &t), EDIST_ETYPE);
    assert_int_equal(edist_etf_read_port(&r, &t), 0);
    assert_int_equal(t.v.port.id, 5);
    assert_int_equal(edist_etf_read_ref(&r, &t), 0);
    assert_int_equal(t.v.ref.len, 1);
    assert_int_equal(edist_etf_read_pid(&r, &t), 0);
    assert_int_equal(t.v.pid.creation, 3);
    const uint8_t *at = r.p;
    assert_int_equal(edist_etf_read_pid(&r, &t), EDIST_EBADMSG);
    assert_ptr_equal(r.p, at);
}

static void test_skip_and_raw(void **state)
{
    (void)state;
    edist_etf_reader r;
    const uint8_t *raw;
    size_t n;
    /* {[1 | 2], #{a => "x"}, fun m:f/1}, then 106. */
    const uint8_t b[] = {104, 3,   108, 0, 0,   0,   1, 97,  1,   97, 2,
                         116, 0,   0,   0, 1,   119, 1, 'a', 107, 0,  1,
                         'x', 113, 119, 1, 'm', 119, 1, 'f', 97,  1,  106};
    edist_etf_reader_init(&r, b, sizeof b, NULL, 0);
    assert_int_equal(edist_etf_read_raw(&r, &raw, &n), 0);
    assert_ptr_equal(raw, b);
    assert_int_equal(n, sizeof b - 1);
    assert_int_equal(edist_etf_read_nil(&r), 0);
    /* Term cap for skip: 1 tuple + 1 list + 2 ints + map + atom + string
     * of 1 (2 terms) + export = 9. */
    edist_etf_reader_init(&r, b, sizeof b - 1, NULL, 0);
    assert_int_equal(edist_etf_skip(&r, 8), EDIST_ETERMS);
    assert_ptr_equal(r.p, b);
    assert_int_equal(edist_etf_skip(&r, 9), 0);
    /* Truncated at every length. */
    for (size_t len = 0; len < sizeof b - 1; len++) {
        uint8_t *c = malloc(len ? len : 1);
        memcpy(c, b, len);
        edist_etf_reader_init(&r, c, len, NULL, 0);
        assert_int_equal(edist_etf_skip(&r, 0), EDIST_EAGAIN);
        assert_ptr_equal(r.p, c);
        free(c);
    }
    /* Deep nesting costs skip no memory: 100000 nested lists. */
    enum { N = 100000 };
    uint8_t *deep = malloc(5 * N + 1 + N);
    size_t o = 0;
    for (int i = 0; i < N; i++) {
        memcpy(deep + o, V(108, 0, 0, 0, 1), 5);
        o += 5;
    }
    deep[o++] = 106;
    for (int i = 0; i < N; i++)
        deep[o++] = 106;
    edist_etf_reader_init(&r, deep, o, NULL, 0);
    assert_int_equal(edist_etf_skip(&r, 0), 0);
    assert_int_equal(edist_etf_reader_left(&r), 0);
    free(deep);
}

/* A generic walk with read_next over every kind of term. */
static void test_read_next(void **state)
{
    (void)state;
    const uint8_t
        b
            [] = {108, 0,    0,   0,   15,             /* list of 14 */
                  97,  1,    98,  255, 255,  255, 255, /* 1, -1 */
                  110, 9,    1,   0,   0,    0,   0,    0,    0,  0, 0,
                  1,                                             /* -(2^64)
                                                                  */
                  110, 3,    0,   1,   2,    3,                  /* 197121 */
                  70,  0x40, 0,   0,   0,    0,   0,    0,    0, /* 2.0 */
                  119, 2,    'o', 'k', 100,  0,   1,    0xE9,    /* ok, 'é' */
                  104, 1,    106,                                /* {[]} */
                  116, 0,    0,   0,   1,    97,  1,    107,  0,  2, 'h',
                  'i',                                  /* #{1
                                                           =>
                                                           "hi"}
                                                         */
                  77,  0,    0,   0,   1,    3,   0x20, /* <<1:3>> */
                  88,  119,  1,   'n', 0,    0,   0,    1,    0,  0, 0,
                  0,   0,    0,   0,   3, /* pid */
                  120, 119,  1,   'n', 0,    0,   1,    0,    0,  0, 0,
                  0,   0,    0,   0,   1, /* V4 port */
                  90,  0,    1,   119, 1,    'n', 0,    0,    0,  1, 0,
                  0,   0,    9,                                      /* ref
                                                                      */
                  113, 100,  0,   1,   0xE9, 119, 1,    'f',  97, 2, /* fun
                                                                        'é':f/2
                                                                      */
                  97,  0,                                            /* 0 */
                  97,  7};                                           /* | 7 */
    edist_etf_reader r;
    edist_etf_item it;
    edist_etf_reader_init(&r, b, sizeof b, NULL, 0);
    int types[32], ntypes = 0;
    size_t pending = 1;
    while (pending) {
        pending--;
        assert_int_equal(edist_etf_read_next(&r, &it), 0);
        types[ntypes++] = it.type;
        if (it.type == EDIST_TERM_TUPLE)
            pending += it.n;
        else if (it.type == EDIST_TERM_MAP)
            pending += 2 * it.n;
        else if (it.type == EDIST_TERM_LIST && it.tag == EDIST_ETF_LIST)
            pending += it.n + 1;
        if (it.type == EDIST_TERM_BIGINT) {
            assert_int_equal(it.n, 9);
            assert_int_equal(it.v.negative, 1);
        }
        if (it.type == EDIST_TERM_EXPORT) {
            assert_int_equal(it.v.id.v.exp.module.len, 2);
            assert_memory_equal(it.v.id.v.exp.module.name, "\xC3\xA9", 2);
            assert_int_equal(it.v.id.v.exp.arity, 2);
        }
        if (it.type == EDIST_TERM_PORT)
            assert_true(it.v.id.v.port.id == (uint64_t)1 << 40);
    }
    assert_int_equal(edist_etf_reader_left(&r), 0);
    const int want[] = {
        EDIST_TERM_LIST,  EDIST_TERM_INT,    EDIST_TERM_INT,  EDIST_TERM_BIGINT,
        EDIST_TERM_INT,   EDIST_TERM_FLOAT,  EDIST_TERM_ATOM, EDIST_TERM_ATOM,
        EDIST_TERM_TUPLE, EDIST_TERM_NIL,    EDIST_TERM_MAP,  EDIST_TERM_INT,
        EDIST_TERM_LIST,  EDIST_TERM_BINARY, EDIST_TERM_PID,  EDIST_TERM_PORT,
        EDIST_TERM_REF,   EDIST_TERM_EXPORT, EDIST_TERM_INT,  EDIST_TERM_INT};
    assert_int_equal(ntypes, sizeof want / sizeof want[0]);
    assert_memory_equal(types, want, sizeof want);
    /* Every prefix fails cleanly. */
    for (size_t n = 0; n < sizeof b; n++) {
        uint8_t *c = malloc(n ? n : 1);
        memcpy(c, b, n);
        edist_etf_reader_init(&r, c, n, NULL, 0);
        int rc = 0;
        pending = 1;
        while (pending && rc == 0) {
            pending--;
            rc = edist_etf_read_next(&r, &it);
            if (rc == 0 && it.type == EDIST_TERM_TUPLE)
                pending += it.n;
            else if (rc == 0 && it.type == EDIST_TERM_MAP)
                pending += 2 * it.n;
            else if (rc == 0 && it.type == EDIST_TERM_LIST &&
                     it.tag == EDIST_ETF_LIST)
                pending += it.n + 1;
        }
        assert_true(rc < 0);
        free(c);
    }
    /* Non-finite floats and compressed terms. */
    edist_etf_reader_init(&r, V(70, 0x7F, 0xF0, 0, 0, 0, 0, 0, 0, 0, 0), 11,
                          NULL, 0);
    assert_int_equal(edist_etf_read_next(&r, &it), EDIST_EBADMSG);
    edist_etf_reader_init(&r, V(80, 0, 0, 0, 1, 0), 6, NULL, 0);
    assert_int_equal(edist_etf_read_next(&r, &it), EDIST_ETAG);
}

static void test_read_term(void **state)
{
    (void)state;
    /* The control tuple by streaming, the payload as a tree. */
    edist_etf_reader r;
    edist_etf_reader_init(&r, REG_SEND, sizeof REG_SEND, NULL, 0);
    assert_int_equal(edist_etf_read_version(&r), 0);
    assert_int_equal(edist_etf_skip(&r, 0), 0);
    assert_int_equal(edist_etf_read_version(&r), 0);
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    assert_int_equal(edist_etf_read_term(&r, a, NULL, &t), 0);
    assert_int_equal(t.type, EDIST_TERM_LIST);
    assert_int_equal(t.v.list.len, 2);
    assert_int_equal(edist_etf_reader_left(&r), 0);
    assert_int_equal(edist_etf_read_term(&r, a, NULL, &t), EDIST_EAGAIN);
    edist_arena_free(a);
}

/* Builds REG_SEND with the writer. */
static int put_reg_send(edist_etf_writer *w)
{
    edist_atom n = {"n", 1};
    edist_etf_put_version(w);
    edist_etf_put_tuple_header(w, 4);
    edist_etf_put_int(w, 6);
    edist_etf_put_pid(w, n, 1, 0, 3);
    edist_etf_put_atom(w, "", 0);
    edist_etf_put_atom_z(w, "rex");
    edist_etf_put_version(w);
    return edist_etf_put_string(w, "hi", 2);
}

static void test_writer_fixed(void **state)
{
    (void)state;
    uint8_t buf[64];
    edist_etf_writer w;
    edist_etf_writer_init_fixed(&w, buf, sizeof buf, 0);
    assert_int_equal(put_reg_send(&w), 0);
    assert_int_equal(w.len, sizeof REG_SEND);
    assert_memory_equal(buf, REG_SEND, sizeof REG_SEND);
    /* Every shorter buffer fails, with a sticky error and nothing written
     * past its end. */
    for (size_t cap = 0; cap < sizeof REG_SEND; cap++) {
        uint8_t *c = malloc(cap ? cap : 1);
        edist_etf_writer_init_fixed(&w, c, cap, 0);
        assert_int_equal(put_reg_send(&w), EDIST_ETOOBIG);
        assert_int_equal(w.err, EDIST_ETOOBIG);
        assert_true(w.len <= cap);
        free(c);
    }
    /* A failed put writes nothing. */
    edist_etf_writer_init_fixed(&w, buf, 5, 0);
    assert_int_equal(edist_etf_put_atom_z(&w, "toolong"), EDIST_ETOOBIG);
    assert_int_equal(w.len, 0);
    assert_int_equal(edist_etf_put_nil(&w), EDIST_ETOOBIG);
    edist_bytes out;
    assert_int_equal(edist_etf_writer_take(&w, &out), EDIST_EINVAL);
    edist_etf_writer_free(&w);
    /* Arguments no encoding carries. */
    edist_etf_writer_init_fixed(&w, buf, sizeof buf, 0);
    assert_int_equal(edist_etf_put_bitstring(&w, "x", 1, 0), EDIST_EINVAL);
    edist_etf_writer_init_fixed(&w, buf, sizeof buf, 0);
    assert_int_equal(edist_etf_put_atom(&w, "\xFF", 1), EDIST_EUTF8);
    edist_etf_writer_init_fixed(&w, buf, sizeof buf, 0);
    assert_int_equal(edist_etf_put_ref(&w, (edist_atom){"n", 1}, 0, NULL, 0),
                     EDIST_EINVAL);
}

static void test_writer_values(void **state)
{
    (void)state;
    uint8_t buf[256];
    edist_etf_writer w;
    edist_etf_writer_init_fixed(&w, buf, sizeof buf, EDIST_ETF_ATOMS_LATIN1);
    edist_etf_put_list_header(&w, 3);
    edist_etf_put_uint64(&w, UINT64_MAX);
    edist_etf_put_bigint(&w, 1, V(1, 0, 0, 0, 0), 5);
    edist_etf_put_double(&w, 0.5);
    edist_etf_put_nil(&w);
    edist_etf_put_atom(&w, "\xC3\xA9", 2);
    edist_etf_put_map_header(&w, 0);
    edist_etf_put_binary(&w, "ab", 2);
    edist_etf_put_bitstring(&w, V(0xFF), 1, 1);
    edist_etf_put_port(&w, (edist_atom){"n", 1}, (uint64_t)1 << 40, 1);
    edist_etf_put_export(&w, (edist_atom){"m", 1}, (edist_atom){"f", 1}, 0);
    edist_etf_put_list_header(&w, 0);
    assert_int_equal(edist_etf_put_raw(&w, V(97, 1), 2), 0);
    assert_int_equal(edist_etf_put_binary_header(&w, 258), 0);
    const uint8_t want[] = {
        108, 0,    0,   0,   3,   110, 8,   0,   255,  255,  255,  255, 255,
        255, 255,  255, 98,  255, 255, 255, 255, 70,   0x3F, 0xE0, 0,   0,
        0,   0,    0,   0,   106, 100, 0,   1,   0xE9, 116,  0,    0,   0,
        0,   109,  0,   0,   0,   2,   'a', 'b', 77,   0,    0,    0,   1,
        1,   0x80, 120, 100, 0,   1,   'n', 0,   0,    1,    0,    0,   0,
        0,   0,    0,   0,   0,   1,   113, 100, 0,    1,    'm',  100, 0,
        1,   'f',  97,  0,   106, 97,  1,   109, 0,    0,    1,    2};
    assert_int_equal(w.len, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
}

static void test_writer_dynamic(void **state)
{
    (void)state;
    static const edist_allocator al = {failalloc_malloc, failalloc_realloc,
                                       failalloc_free, NULL};
    static uint8_t big[3000];
    long k;
    for (k = 0; k < 100; k++) {
        edist_etf_writer w;
        failalloc_left = k;
        failalloc_live = 0;
        edist_etf_writer_init_dynamic(&w, 0, &al, 0);
        put_reg_send(&w);
        edist_etf_put_binary(&w, big, sizeof big);
        edist_bytes out = {0};
        int rc = edist_etf_writer_take(&w, &out);
        edist_etf_writer_free(&w);
        if (rc == 0) {
            assert_int_equal(out.len, sizeof REG_SEND + 5 + sizeof big);
            assert_memory_equal(out.data, REG_SEND, sizeof REG_SEND);
            edist_bytes_free(&out);
            assert_int_equal(failalloc_live, 0);
            break;
        }
        assert_int_equal(rc, EDIST_ENOMEM);
        assert_int_equal(failalloc_live, 0);
    }
    assert_true(k > 0 && k < 100);
    /* The limit is a hard cap. */
    edist_etf_writer w;
    edist_etf_writer_init_dynamic(&w, 10, NULL, 0);
    assert_int_equal(put_reg_send(&w), EDIST_ETOOBIG);
    edist_etf_writer_free(&w);
    /* A tree through the writer. */
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    assert_int_equal(edist_etf_decode(a, REG_SEND, 28, NULL, &t, NULL), 0);
    edist_etf_writer_init_dynamic(&w, 0, NULL, 0);
    edist_etf_put_version(&w);
    assert_int_equal(edist_etf_put_term(&w, &t), 0);
    assert_int_equal(w.len, 28);
    assert_memory_equal(w.buf, REG_SEND, 28);
    edist_etf_writer_free(&w);
    edist_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_control),
        cmocka_unit_test(test_read_scalars),
        cmocka_unit_test(test_read_atoms),
        cmocka_unit_test(test_read_containers),
        cmocka_unit_test(test_read_ids),
        cmocka_unit_test(test_skip_and_raw),
        cmocka_unit_test(test_read_next),
        cmocka_unit_test(test_read_term),
        cmocka_unit_test(test_writer_fixed),
        cmocka_unit_test(test_writer_values),
        cmocka_unit_test(test_writer_dynamic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
