/* test_etf_decode.c: the ETF tree decoder, tag by tag, error by error. */
#include <math.h>
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
#define DEC(a, t, ...)                                                         \
    decode((a), &(t), V(__VA_ARGS__), VLEN(__VA_ARGS__), NULL)

/* Decodes from a private heap copy of exactly len bytes, so that ASan
 * catches any read past the end. */
static int decode(edist_arena *a, edist_term *t, const uint8_t *b, size_t len,
                  const edist_etf_decode_opts *o)
{
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, b, len);
    size_t used = 0;
    int rc = edist_etf_decode(a, copy, len, o, t, &used);
    if (rc == 0)
        assert_int_equal(used, len);
    free(copy);
    return rc;
}

static void test_integers(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    assert_int_equal(DEC(a, t, 131, 97, 255), 0);
    assert_int_equal(t.type, EDIST_TERM_INT);
    assert_int_equal(t.v.i, 255);
    assert_int_equal(DEC(a, t, 131, 98, 0xFF, 0xFF, 0xFF, 0xFF), 0);
    assert_int_equal(t.v.i, -1);
    assert_int_equal(DEC(a, t, 131, 98, 0x80, 0, 0, 0), 0);
    assert_int_equal(t.v.i, INT32_MIN);
    /* 1 bsl 64, as protocol.md observed it. */
    assert_int_equal(DEC(a, t, 131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), 0);
    assert_int_equal(t.type, EDIST_TERM_BIGINT);
    assert_int_equal(t.v.big.n, 9);
    assert_int_equal(t.v.big.negative, 0);
    assert_int_equal(t.v.big.digits[8], 1);
    /* -(2^63) fits int64_t. */
    assert_int_equal(DEC(a, t, 131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 0x80), 0);
    assert_int_equal(t.type, EDIST_TERM_INT);
    assert_true(t.v.i == INT64_MIN);
    /* Leading zero digits normalise; SMALL_BIG of zero digits is 0. */
    assert_int_equal(DEC(a, t, 131, 110, 3, 1, 5, 0, 0), 0);
    assert_int_equal(t.v.i, -5);
    assert_int_equal(DEC(a, t, 131, 110, 0, 0), 0);
    assert_int_equal(t.v.i, 0);
    /* LARGE_BIG of 300 digits. */
    uint8_t big[6 + 300] = {131, 111, 0, 0, 1, 44, 1};
    big[6 + 299] = 0x7F;
    assert_int_equal(decode(a, &t, big, 5 + 1 + 300, NULL), EDIST_EAGAIN);
    uint8_t big2[7 + 300] = {131, 111, 0, 0, 1, 44, 1};
    big2[7 + 299] = 0x7F;
    assert_int_equal(decode(a, &t, big2, sizeof big2, NULL), 0);
    assert_int_equal(t.type, EDIST_TERM_BIGINT);
    assert_int_equal(t.v.big.n, 300);
    assert_int_equal(t.v.big.negative, 1);
    edist_arena_free(a);
}

static void test_floats(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    assert_int_equal(DEC(a, t, 131, 70, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0), 0);
    assert_int_equal(t.type, EDIST_TERM_FLOAT);
    assert_true(t.v.f == 1.5);
    assert_int_equal(DEC(a, t, 131, 70, 0x80, 0, 0, 0, 0, 0, 0, 0), 0);
    assert_true(t.v.f == 0.0 && signbit(t.v.f));
    /* Infinity and NaN are not Erlang terms. */
    assert_int_equal(DEC(a, t, 131, 70, 0x7F, 0xF0, 0, 0, 0, 0, 0, 0),
                     EDIST_EBADMSG);
    assert_int_equal(DEC(a, t, 131, 70, 0x7F, 0xF8, 0, 0, 0, 0, 0, 1),
                     EDIST_EBADMSG);
    /* Legacy FLOAT_EXT: "%.20e" padded with NULs. */
    uint8_t old[33] = {131, 99};
    memcpy(old + 2, "-2.50000000000000000000e+00", 27);
    assert_int_equal(decode(a, &t, old, sizeof old, NULL), 0);
    assert_true(t.v.f == -2.5);
    old[2] = ' ';
    assert_int_equal(decode(a, &t, old, sizeof old, NULL), EDIST_EBADMSG);
    memcpy(old + 2, "1.5x", 4);
    assert_int_equal(decode(a, &t, old, sizeof old, NULL), EDIST_EBADMSG);
    edist_arena_free(a);
}

static void test_atoms(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    assert_int_equal(DEC(a, t, 131, 100, 0, 2, 'o', 'k'), 0);
    assert_true(edist_term_is_atom(&t, "ok"));
    assert_int_equal(t.v.atom.name[2], '\0');
    /* Latin-1 becomes UTF-8 in the tree. */
    assert_int_equal(DEC(a, t, 131, 100, 0, 2, 'h', 0xE9), 0);
    assert_true(edist_term_is_atom(&t, "h\xC3\xA9"));
    assert_int_equal(DEC(a, t, 131, 115, 1, 0xFF), 0);
    assert_true(edist_term_is_atom(&t, "\xC3\xBF"));
    assert_int_equal(DEC(a, t, 131, 119, 2, 0xCE, 0xB1), 0);
    assert_true(edist_term_is_atom(&t, "\xCE\xB1"));
    assert_int_equal(DEC(a, t, 131, 118, 0, 0), 0);
    assert_true(edist_term_is_atom(&t, ""));
    /* Invalid UTF-8, overlong form, surrogate. */
    assert_int_equal(DEC(a, t, 131, 119, 1, 0xFF), EDIST_EUTF8);
    assert_int_equal(DEC(a, t, 131, 119, 2, 0xC0, 0x80), EDIST_EUTF8);
    assert_int_equal(DEC(a, t, 131, 119, 3, 0xED, 0xA0, 0x80), EDIST_EUTF8);
    /* Length caps: 255 characters. */
    uint8_t long1[4 + 256] = {131, 100, 1, 0};
    memset(long1 + 4, 'a', 256);
    assert_int_equal(decode(a, &t, long1, sizeof long1, NULL), EDIST_EATOMLEN);
    long1[2] = 0;
    long1[3] = 255;
    assert_int_equal(decode(a, &t, long1, sizeof long1 - 1, NULL), 0);
    uint8_t long2[4 + 512] = {131, 118, 2, 0};
    for (int i = 0; i < 256; i++)
        memcpy(long2 + 4 + 2 * i, "\xCE\xB1", 2);
    assert_int_equal(decode(a, &t, long2, sizeof long2, NULL), EDIST_EATOMLEN);
    long2[2] = 1;
    long2[3] = 254; /* 255 alphas = 510 bytes */
    assert_int_equal(decode(a, &t, long2, 4 + 510, NULL), 0);
    assert_int_equal(t.v.atom.len, 510);
    edist_etf_decode_opts o = {.max_atom_chars = 3};
    assert_int_equal(
        decode(a, &t, V(131, 100, 0, 4, 'a', 'b', 'c', 'd'), 8, &o),
        EDIST_EATOMLEN);
    assert_int_equal(decode(a, &t, V(131, 100, 0, 3, 'a', 'b', 'c'), 7, &o), 0);
    edist_arena_free(a);
}

static void test_atom_cache(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    const edist_atom refs[2] = {{"a@vm", 4}, {"", 0}};
    edist_etf_decode_opts o = {
        .flags = EDIST_ETF_NO_VERSION, .cache_refs = refs, .n_cache_refs = 2};
    /* {6, <a@vm.1.0.3>, '', a@vm} as a dist header message carries it. */
    const uint8_t msg[] = {104, 4, 97, 6, 88, 82, 0, 0,  0, 0,  1, 0,
                           0,   0, 0,  0, 0,  0,  3, 82, 1, 82, 0};
    assert_int_equal(decode(a, &t, msg, sizeof msg, &o), 0);
    assert_int_equal(t.v.tuple.arity, 4);
    assert_int_equal(t.v.tuple.elems[1].type, EDIST_TERM_PID);
    assert_int_equal(t.v.tuple.elems[1].v.pid.node.len, 4);
    assert_memory_equal(t.v.tuple.elems[1].v.pid.node.name, "a@vm", 4);
    assert_int_equal(t.v.tuple.elems[1].v.pid.creation, 3);
    assert_true(edist_term_is_atom(&t.v.tuple.elems[2], ""));
    assert_true(edist_term_is_atom(&t.v.tuple.elems[3], "a@vm"));
    /* Out of range, and no table at all. */
    assert_int_equal(decode(a, &t, V(82, 2), 2, &o), EDIST_EATOMCACHE);
    o.n_cache_refs = 0;
    assert_int_equal(decode(a, &t, V(82, 0), 2, &o), EDIST_EATOMCACHE);
    assert_int_equal(DEC(a, t, 131, 82, 0), EDIST_EATOMCACHE);
    edist_arena_free(a);
}

static void test_containers(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    assert_int_equal(DEC(a, t, 131, 104, 0), 0);
    assert_int_equal(t.type, EDIST_TERM_TUPLE);
    assert_int_equal(t.v.tuple.arity, 0);
    assert_int_equal(DEC(a, t, 131, 105, 0, 0, 0, 2, 97, 1, 106), 0);
    assert_int_equal(t.v.tuple.arity, 2);
    assert_int_equal(t.v.tuple.elems[1].type, EDIST_TERM_NIL);
    assert_int_equal(DEC(a, t, 131, 107, 0, 3, 'a', 'b', 'c'), 0);
    assert_int_equal(t.type, EDIST_TERM_LIST);
    assert_int_equal(t.v.list.len, 3);
    assert_int_equal(t.v.list.elems[2].v.i, 'c');
    assert_int_equal(t.v.list.tail->type, EDIST_TERM_NIL);
    assert_int_equal(DEC(a, t, 131, 107, 0, 0), 0);
    assert_int_equal(t.type, EDIST_TERM_NIL);
    /* [1, 2 | 3] */
    assert_int_equal(DEC(a, t, 131, 108, 0, 0, 0, 2, 97, 1, 97, 2, 97, 3), 0);
    assert_int_equal(t.v.list.len, 2);
    assert_int_equal(t.v.list.tail->v.i, 3);
    /* An empty LIST_EXT is its tail, as OTP reads it. */
    assert_int_equal(DEC(a, t, 131, 108, 0, 0, 0, 0, 97, 7), 0);
    assert_int_equal(t.type, EDIST_TERM_INT);
    assert_int_equal(t.v.i, 7);
    /* #{1 => 2, a => []} */
    assert_int_equal(
        DEC(a, t, 131, 116, 0, 0, 0, 2, 97, 1, 97, 2, 119, 1, 'a', 106), 0);
    assert_int_equal(t.type, EDIST_TERM_MAP);
    assert_int_equal(t.v.map.size, 2);
    assert_int_equal(t.v.map.keys[0].v.i, 1);
    assert_int_equal(t.v.map.values[0].v.i, 2);
    assert_true(edist_term_is_atom(&t.v.map.keys[1], "a"));
    assert_int_equal(t.v.map.values[1].type, EDIST_TERM_NIL);
    /* Duplicate keys are refused, as OTP does: integers, and atoms in
     * two encodings; 1 and 1.0 are different keys. */
    assert_int_equal(
        DEC(a, t, 131, 116, 0, 0, 0, 2, 97, 1, 97, 2, 98, 0, 0, 0, 1, 97, 3),
        EDIST_EBADMSG);
    assert_int_equal(DEC(a, t, 131, 116, 0, 0, 0, 2, 100, 0, 1, 'a', 97, 2, 119,
                         1, 'a', 97, 3),
                     EDIST_EBADMSG);
    assert_int_equal(DEC(a, t, 131, 116, 0, 0, 0, 2, 97, 1, 97, 2, 70, 0x3F,
                         0xF0, 0, 0, 0, 0, 0, 0, 97, 3),
                     0);
    assert_int_equal(DEC(a, t, 131, 116, 0, 0, 0, 3, 104, 1, 97, 1, 97, 2, 104,
                         1, 97, 2, 97, 3, 104, 1, 97, 1, 106),
                     EDIST_EBADMSG);
    /* Claims beyond the bytes left fail before allocating. */
    assert_int_equal(DEC(a, t, 131, 105, 0xFF, 0xFF, 0xFF, 0xFF, 106),
                     EDIST_EAGAIN);
    assert_int_equal(DEC(a, t, 131, 108, 0xFF, 0xFF, 0xFF, 0xFF, 106),
                     EDIST_EAGAIN);
    assert_int_equal(DEC(a, t, 131, 116, 0x7F, 0xFF, 0xFF, 0xFF, 106),
                     EDIST_EAGAIN);
    assert_true(edist_arena_used(a) < 4096);
    edist_arena_free(a);
}

static void test_binaries(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    assert_int_equal(DEC(a, t, 131, 109, 0, 0, 0, 3, 1, 2, 3), 0);
    assert_int_equal(t.type, EDIST_TERM_BINARY);
    assert_int_equal(t.v.bin.size, 3);
    assert_int_equal(t.v.bin.bits, 8);
    /* <<1:3>>, as protocol.md observed it. */
    assert_int_equal(DEC(a, t, 131, 77, 0, 0, 0, 1, 3, 0x20), 0);
    assert_int_equal(t.v.bin.bits, 3);
    assert_int_equal(t.v.bin.data[0], 0x20);
    /* Unused bits are cleared; 8 bits is a binary; 0 bits only if empty. */
    assert_int_equal(DEC(a, t, 131, 77, 0, 0, 0, 1, 3, 0xFF), 0);
    assert_int_equal(t.v.bin.data[0], 0xE0);
    assert_int_equal(DEC(a, t, 131, 77, 0, 0, 0, 1, 8, 0xFF), 0);
    assert_int_equal(t.v.bin.bits, 8);
    assert_int_equal(DEC(a, t, 131, 77, 0, 0, 0, 0, 0), 0);
    assert_int_equal(t.v.bin.size, 0);
    assert_int_equal(t.v.bin.bits, 8);
    assert_int_equal(DEC(a, t, 131, 77, 0, 0, 0, 0, 8), EDIST_EBADMSG);
    assert_int_equal(DEC(a, t, 131, 77, 0, 0, 0, 1, 0, 1), EDIST_EBADMSG);
    assert_int_equal(DEC(a, t, 131, 77, 0, 0, 0, 1, 9, 1), EDIST_EBADMSG);
    edist_arena_free(a);
}

static void test_identifiers(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    /* NEW_PID_EXT as protocol.md observed it, and legacy PID_EXT. */
    assert_int_equal(
        DEC(a, t, 131, 88, 119, 1, 'n', 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0), 0);
    assert_int_equal(t.type, EDIST_TERM_PID);
    assert_int_equal(t.v.pid.id, 9);
    assert_int_equal(
        DEC(a, t, 131, 103, 100, 0, 1, 'n', 0, 0, 0, 1, 0, 0, 0, 2, 3), 0);
    assert_int_equal(t.v.pid.serial, 2);
    assert_int_equal(t.v.pid.creation, 3);
    /* Ports: NEW_PORT, V4 (64-bit id), legacy PORT. */
    assert_int_equal(DEC(a, t, 131, 89, 119, 1, 'n', 0, 0, 0, 5, 0, 0, 0, 7),
                     0);
    assert_int_equal(t.type, EDIST_TERM_PORT);
    assert_int_equal(t.v.port.id, 5);
    assert_int_equal(t.v.port.creation, 7);
    assert_int_equal(
        DEC(a, t, 131, 120, 119, 1, 'n', 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 7),
        0);
    assert_true(t.v.port.id == ((uint64_t)1 << 40 | 1));
    assert_int_equal(DEC(a, t, 131, 102, 119, 1, 'n', 0, 0, 0, 5, 2), 0);
    assert_int_equal(t.v.port.creation, 2);
    /* References: NEWER (5 words), NEW (creation:8), legacy. */
    assert_int_equal(DEC(a, t, 131, 90, 0, 5, 119, 1, 'n', 0, 0, 0, 1, 0, 0, 0,
                         1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5),
                     0);
    assert_int_equal(t.type, EDIST_TERM_REF);
    assert_int_equal(t.v.ref.len, 5);
    assert_int_equal(t.v.ref.ids[4], 5);
    assert_int_equal(DEC(a, t, 131, 114, 0, 1, 100, 0, 1, 'n', 3, 0, 0, 0, 9),
                     0);
    assert_int_equal(t.v.ref.creation, 3);
    assert_int_equal(t.v.ref.ids[0], 9);
    assert_int_equal(DEC(a, t, 131, 101, 100, 0, 1, 'n', 0, 0, 0, 9, 1), 0);
    assert_int_equal(t.v.ref.len, 1);
    assert_int_equal(DEC(a, t, 131, 90, 0, 6, 119, 1, 'n', 0, 0, 0, 1, 0, 0, 0,
                         1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0,
                         0, 0, 6),
                     EDIST_EBADMSG);
    assert_int_equal(DEC(a, t, 131, 90, 0, 0, 119, 1, 'n', 0, 0, 0, 1),
                     EDIST_EBADMSG);
    /* A node that is not an atom. */
    assert_int_equal(
        DEC(a, t, 131, 88, 97, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0),
        EDIST_EBADMSG);
    /* fun lists:map/2, and INTEGER_EXT arity (OTP accepts it). */
    assert_int_equal(DEC(a, t, 131, 113, 100, 0, 5, 'l', 'i', 's', 't', 's',
                         100, 0, 3, 'm', 'a', 'p', 97, 2),
                     0);
    assert_int_equal(t.type, EDIST_TERM_EXPORT);
    assert_true(t.v.exp.arity == 2);
    assert_int_equal(t.v.exp.function.len, 3);
    assert_int_equal(
        DEC(a, t, 131, 113, 119, 1, 'a', 119, 1, 'b', 98, 0, 0, 0, 1), 0);
    assert_int_equal(
        DEC(a, t, 131, 113, 119, 1, 'a', 119, 1, 'b', 98, 0, 0, 1, 0),
        EDIST_EBADMSG);
    edist_arena_free(a);
}

/* fun(X) -> X + N end with N = 5, from term_to_binary of OTP 25. */
static const uint8_t FUN[] = {
    131, 112, 0,   0,   0,   71,  1,   3,  37,  146, 155, 22,  88,  247, 151,
    153, 139, 138, 97,  38,  171, 55,  40, 0,   0,   0,   0,   0,   0,   0,
    1,   100, 0,   1,   102, 97,  0,   98, 0,   25,  44,  148, 88,  100, 0,
    13,  110, 111, 110, 111, 100, 101, 64, 110, 111, 104, 111, 115, 116, 0,
    0,   0,   9,   0,   0,   0,   0,   0,  0,   0,   0,   97,  5};

static void test_funs(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    assert_int_equal(decode(a, &t, FUN, sizeof FUN, NULL), 0);
    assert_int_equal(t.type, EDIST_TERM_FUN);
    assert_int_equal(t.v.fun.raw_len, sizeof FUN - 1);
    assert_memory_equal(t.v.fun.raw, FUN + 1, sizeof FUN - 1);
    assert_int_equal(t.v.fun.arity, 1);
    assert_int_equal(t.v.fun.num_free, 1);
    assert_true(edist_term_is_atom(
        &(edist_term){.type = EDIST_TERM_ATOM, .v.atom = t.v.fun.module}, "f"));
    /* A wrong Size field is refused. */
    uint8_t bad[sizeof FUN];
    memcpy(bad, FUN, sizeof FUN);
    bad[5] = 70;
    assert_int_equal(decode(a, &t, bad, sizeof bad, NULL), EDIST_EBADMSG);
    bad[5] = 72;
    assert_int_equal(decode(a, &t, bad, sizeof bad, NULL), EDIST_EAGAIN);

    /* The same fun with its module and node as atom cache refs: it is
     * rebuilt so that its bytes no longer depend on the message. */
    const uint8_t cached[] = {
        112, 0,   0,   0,  55, 1,   3,  37, 146, 155, 22,  88, 247, 151,
        153, 139, 138, 97, 38, 171, 55, 40, 0,   0,   0,   0,  0,   0,
        0,   1,   82,  1,  97, 0,   98, 0,  25,  44,  148, 88, 82,  0,
        0,   0,   0,   9,  0,  0,   0,  0,  0,   0,   0,   0,  97,  5};
    const edist_atom refs[2] = {{"nonode@nohost", 13}, {"f", 1}};
    edist_etf_decode_opts o = {
        .flags = EDIST_ETF_NO_VERSION, .cache_refs = refs, .n_cache_refs = 2};
    assert_int_equal(decode(a, &t, cached, sizeof cached, &o), 0);
    assert_int_equal(t.type, EDIST_TERM_FUN);
    edist_term t2;
    /* The rebuilt fun decodes without any cache and has the same parts. */
    edist_etf_decode_opts o2 = {.flags = EDIST_ETF_NO_VERSION};
    assert_int_equal(decode(a, &t2, t.v.fun.raw, t.v.fun.raw_len, &o2), 0);
    assert_int_equal(t2.v.fun.num_free, 1);
    assert_int_equal(t2.v.fun.index, 0);
    assert_int_equal(t2.v.fun.module.len, 1);
    edist_arena_free(a);
}

static void test_compressed(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    /* term_to_binary(<<0:800>>, [compressed]) from OTP 25. */
    const uint8_t z[] = {131, 80, 0,  0,   0, 105, 120, 156, 203, 101, 96,
                         96,  72, 97, 160, 3, 0,   0,   84,  146, 0,   210};
    assert_int_equal(decode(a, &t, z, sizeof z, NULL), 0);
    assert_int_equal(t.type, EDIST_TERM_BINARY);
    assert_int_equal(t.v.bin.size, 100);
    /* The claimed size must match. */
    uint8_t w[sizeof z];
    memcpy(w, z, sizeof z);
    w[5] = 104;
    assert_int_equal(decode(a, &t, w, sizeof w, NULL), EDIST_EZLIB);
    w[5] = 106;
    assert_int_equal(decode(a, &t, w, sizeof w, NULL), EDIST_EZLIB);
    /* Corrupt stream. */
    memcpy(w, z, sizeof z);
    w[10] ^= 0x55;
    assert_int_not_equal(decode(a, &t, w, sizeof w, NULL), 0);
    /* Caps on the claimed size. */
    edist_etf_decode_opts o = {.max_decompressed = 100};
    assert_int_equal(decode(a, &t, z, sizeof z, &o), EDIST_ETOOBIG);
    assert_int_equal(DEC(a, t, 131, 80, 0xFF, 0xFF, 0xFF, 0xFF, 120, 156),
                     EDIST_ETOOBIG);
    /* Only at the top level. */
    assert_int_equal(DEC(a, t, 131, 104, 1, 80, 0, 0, 0, 1, 120, 156),
                     EDIST_ETAG);
    edist_arena_free(a);
}

static void test_errors_and_caps(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    assert_int_equal(DEC(a, t, 130, 106), EDIST_EVERSION);
    assert_int_equal(decode(a, &t, V(0), 0, NULL), EDIST_EAGAIN);
    assert_int_equal(DEC(a, t, 131), EDIST_EAGAIN);
    assert_int_equal(DEC(a, t, 131, 117, 0), EDIST_ETAG); /* FUN_EXT */
    assert_int_equal(DEC(a, t, 131, 121, 0), EDIST_ETAG); /* LOCAL_EXT */
    assert_int_equal(DEC(a, t, 131, 0), EDIST_ETAG);
    assert_int_equal(edist_etf_decode(NULL, V(131, 106), 2, NULL, &t, NULL),
                     EDIST_EINVAL);
    /* Trailing bytes are the caller's: consumed says where the term ends. */
    size_t used = 0;
    assert_int_equal(edist_etf_decode(a, V(131, 106, 1, 2), 4, NULL, &t, &used),
                     0);
    assert_int_equal(used, 2);

    /* Depth: n nested one-tuples. */
    enum { N = 5000 };
    uint8_t *deep = malloc(1 + 2 * N + 1);
    deep[0] = 131;
    for (int i = 0; i < N; i++) {
        deep[1 + 2 * i] = 104;
        deep[2 + 2 * i] = 1;
    }
    deep[1 + 2 * N] = 106;
    edist_etf_decode_opts o = {.max_depth = N};
    assert_int_equal(decode(a, &t, deep, 2 + 2 * N, NULL), EDIST_EDEPTH);
    assert_int_equal(decode(a, &t, deep, 2 + 2 * N, &o), EDIST_EDEPTH);
    o.max_depth = N + 1;
    assert_int_equal(decode(a, &t, deep, 2 + 2 * N, &o), 0);
    free(deep);

    /* A long chain of improper tails does not count as depth. */
    uint8_t *chain = malloc(1 + 7 * N + 1);
    chain[0] = 131;
    for (int i = 0; i < N; i++)
        memcpy(chain + 1 + 7 * i, V(108, 0, 0, 0, 1, 97, 1), 7);
    chain[1 + 7 * N] = 106;
    o.max_depth = 3;
    assert_int_equal(decode(a, &t, chain, 2 + 7 * N, &o), 0);
    free(chain);

    /* Term count: 3 terms in {1, 2}. */
    edist_etf_decode_opts c = {.max_terms = 2};
    assert_int_equal(DEC(a, t, 131, 104, 2, 97, 1, 97, 2), 0);
    assert_int_equal(decode(a, &t, V(131, 104, 2, 97, 1, 97, 2), 7, &c),
                     EDIST_ETERMS);
    c.max_terms = 3;
    assert_int_equal(decode(a, &t, V(131, 104, 2, 97, 1, 97, 2), 7, &c), 0);
    c.max_terms = 3;
    assert_int_equal(decode(a, &t, V(131, 107, 0, 3, 1, 2, 3), 7, &c),
                     EDIST_ETERMS);

    /* Total size. */
    edist_etf_decode_opts s = {.max_size = 4};
    assert_int_equal(decode(a, &t, V(131, 109, 0, 0, 0, 3, 1, 2, 3), 9, &s),
                     EDIST_ETOOBIG);
    s.max_size = 8;
    assert_int_equal(decode(a, &t, V(131, 109, 0, 0, 0, 3, 1, 2, 3), 9, &s), 0);

    /* The arena's own limit shows as ENOMEM. */
    edist_arena_opts ao = {.limit = 256};
    edist_arena *small = edist_arena_new(&ao);
    assert_int_equal(decode(small, &t,
                            V(131, 107, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                              11, 12, 13, 14, 15, 16, 17, 18, 19, 20),
                            24, NULL),
                     EDIST_ENOMEM);
    edist_arena_free(small);
    edist_arena_free(a);
}

static void test_borrow(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    const uint8_t b[] = {131, 104, 3, 119, 2, 'o', 'k', 109, 0,
                         0,   0,   2, 7,   8, 100, 0,   1,   0xE9};
    edist_etf_decode_opts o = {.flags = EDIST_ETF_BORROW};
    assert_int_equal(edist_etf_decode(a, b, sizeof b, &o, &t, NULL), 0);
    assert_ptr_equal(t.v.tuple.elems[0].v.atom.name, (const char *)b + 5);
    assert_ptr_equal(t.v.tuple.elems[1].v.bin.data, b + 12);
    /* A converted Latin-1 atom cannot be borrowed: it is copied. */
    assert_true(edist_term_is_atom(&t.v.tuple.elems[2], "\xC3\xA9"));
    assert_true(t.v.tuple.elems[2].v.atom.name < (const char *)b ||
                t.v.tuple.elems[2].v.atom.name >= (const char *)b + sizeof b);
    edist_arena_free(a);
}

/* Every prefix of every vector must fail cleanly (never read past it). */
static void test_truncation(void **state)
{
    (void)state;
    const struct {
        const uint8_t *b;
        size_t n;
    } vs[] = {
        {FUN, sizeof FUN},
        {V(131, 104, 4, 97, 6, 88, 119, 1, 'n', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
           3, 119, 0, 100, 0, 3, 'r', 'e', 'x'),
         VLEN(131, 104, 4, 97, 6, 88, 119, 1, 'n', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
              0, 3, 119, 0, 100, 0, 3, 'r', 'e', 'x')},
        {V(131, 116, 0, 0, 0, 1, 107, 0, 2, 'h', 'i', 108, 0, 0, 0, 1, 70, 0, 0,
           0, 0, 0, 0, 0, 1, 77, 0, 0, 0, 1, 3, 0x20),
         VLEN(131, 116, 0, 0, 0, 1, 107, 0, 2, 'h', 'i', 108, 0, 0, 0, 1, 70, 0,
              0, 0, 0, 0, 0, 0, 1, 77, 0, 0, 0, 1, 3, 0x20)},
        {V(131, 90, 0, 2, 100, 0, 1, 'n', 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2),
         VLEN(131, 90, 0, 2, 100, 0, 1, 'n', 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,
              2)},
        {V(131, 104, 2, 111, 0, 0, 0, 2, 0, 1, 1, 113, 119, 1, 'a', 119, 1, 'b',
           97, 0),
         VLEN(131, 104, 2, 111, 0, 0, 0, 2, 0, 1, 1, 113, 119, 1, 'a', 119, 1,
              'b', 97, 0)},
        {V(131, 120, 119, 1, 'n', 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 7),
         VLEN(131, 120, 119, 1, 'n', 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 7)},
        {V(131, 80, 0, 0, 0, 105, 120, 156, 203, 101, 96, 96, 72, 97, 160, 3, 0,
           0, 84, 146, 0, 210),
         VLEN(131, 80, 0, 0, 0, 105, 120, 156, 203, 101, 96, 96, 72, 97, 160, 3,
              0, 0, 84, 146, 0, 210)},
    };
    edist_arena *a = edist_arena_new(NULL);
    for (size_t v = 0; v < sizeof vs / sizeof vs[0]; v++) {
        edist_term t;
        assert_int_equal(decode(a, &t, vs[v].b, vs[v].n, NULL), 0);
        for (size_t n = 0; n < vs[v].n; n++) {
            int rc = decode(a, &t, vs[v].b, n, NULL);
            assert_true(rc < 0);
            edist_arena_reset(a);
        }
    }
    edist_arena_free(a);
}

/* Allocation failure at every point: fail the Nth allocation. */

static void test_alloc_failures(void **state)
{
    (void)state;
    static const edist_allocator al = {failalloc_malloc, failalloc_realloc,
                                       failalloc_free, NULL};
    /* A term that needs many chunks of a small arena: tuples, a long
     * string, atoms, a bignum, a binary, a fun, a compressed body. */
    uint8_t b[4096];
    size_t n = 0;
    /* {Fun, String, [40 tuples], Big, []} */
    b[n++] = 131;
    b[n++] = 104;
    b[n++] = 5;
    memcpy(b + n, FUN + 1, sizeof FUN - 1);
    n += sizeof FUN - 1;
    b[n++] = 107;
    b[n++] = 0;
    b[n++] = 200;
    for (int i = 0; i < 200; i++)
        b[n++] = (uint8_t)i;
    memcpy(b + n, V(108, 0, 0, 0, 40), 5);
    n += 5;
    for (int i = 0; i < 40; i++) {
        memcpy(b + n, V(104, 2, 100, 0, 2, 'h', 0xE9, 109, 0, 0, 0, 3, 1, 2, 3),
               15);
        n += 15;
    }
    b[n++] = 106;
    memcpy(b + n, V(110, 10, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 13);
    n += 13;
    b[n++] = 106;
    long attempts = 0;
    for (long k = 0;; k++) {
        edist_arena_opts ao = {.alloc = &al, .chunk_size = 256};
        failalloc_left = k;
        failalloc_live = 0;
        edist_arena *a = edist_arena_new(&ao);
        if (!a) {
            assert_int_equal(failalloc_live, 0);
            continue;
        }
        edist_term t;
        int rc = edist_etf_decode(a, b, n, NULL, &t, NULL);
        edist_arena_free(a);
        assert_int_equal(failalloc_live, 0);
        attempts++;
        if (rc == 0)
            break;
        assert_int_equal(rc, EDIST_ENOMEM);
        assert_true(k < 100000);
    }
    assert_true(attempts > 5);
    /* The compressed path allocates zlib's state in the arena. */
    const uint8_t z[] = {131, 80, 0,  0,   0, 105, 120, 156, 203, 101, 96,
                         96,  72, 97, 160, 3, 0,   0,   84,  146, 0,   210};
    for (long k = 0;; k++) {
        edist_arena_opts ao = {.alloc = &al, .chunk_size = 256};
        failalloc_left = k;
        failalloc_live = 0;
        edist_arena *a = edist_arena_new(&ao);
        if (!a)
            continue;
        edist_term t;
        int rc = edist_etf_decode(a, z, sizeof z, NULL, &t, NULL);
        edist_arena_free(a);
        assert_int_equal(failalloc_live, 0);
        if (rc == 0)
            break;
        assert_int_equal(rc, EDIST_ENOMEM);
        assert_true(k < 100000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_atoms),
        cmocka_unit_test(test_atom_cache),
        cmocka_unit_test(test_containers),
        cmocka_unit_test(test_binaries),
        cmocka_unit_test(test_identifiers),
        cmocka_unit_test(test_funs),
        cmocka_unit_test(test_compressed),
        cmocka_unit_test(test_errors_and_caps),
        cmocka_unit_test(test_borrow),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
