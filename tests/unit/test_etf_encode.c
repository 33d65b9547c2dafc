/* test_etf_encode.c: the ETF tree encoder makes OTP 25's choices. */
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

/* Encodes t with flags and compares with the expected bytes; also checks
 * encoded_size() and encode_to() with an exact and a short buffer. */
static void expect(const edist_term *t, unsigned flags, const uint8_t *want,
                   size_t n)
{
    edist_etf_encode_opts o = {.flags = flags};
    edist_bytes b = {0};
    assert_int_equal(edist_etf_encode(t, &o, &b), 0);
    assert_int_equal(b.len, n);
    assert_memory_equal(b.data, want, n);
    edist_bytes_free(&b);
    if (flags & EDIST_ETF_COMPRESS)
        return; /* the compressed size is not known in advance */
    size_t size = 0, written = 0;
    assert_int_equal(edist_etf_encoded_size(t, &o, &size), 0);
    assert_int_equal(size, n);
    uint8_t *buf = malloc(n);
    assert_int_equal(edist_etf_encode_to(t, &o, buf, n, &written), 0);
    assert_int_equal(written, n);
    assert_memory_equal(buf, want, n);
    assert_int_equal(edist_etf_encode_to(t, &o, buf, n - 1, &written),
                     EDIST_ETOOBIG);
    free(buf);
}

#define EXPECT(t, flags, ...)                                                  \
    expect((t), (flags), V(__VA_ARGS__), VLEN(__VA_ARGS__))
#define L1 EDIST_ETF_ATOMS_LATIN1

static void test_integers(void **state)
{
    (void)state;
    edist_term t = edist_mk_int(0);
    EXPECT(&t, 0, 131, 97, 0);
    t = edist_mk_int(255);
    EXPECT(&t, 0, 131, 97, 255);
    t = edist_mk_int(256);
    EXPECT(&t, 0, 131, 98, 0, 0, 1, 0);
    t = edist_mk_int(-1);
    EXPECT(&t, 0, 131, 98, 255, 255, 255, 255);
    t = edist_mk_int(INT32_MIN);
    EXPECT(&t, 0, 131, 98, 0x80, 0, 0, 0);
    t = edist_mk_int((int64_t)INT32_MAX + 1);
    EXPECT(&t, 0, 131, 110, 4, 0, 0, 0, 0, 0x80);
    t = edist_mk_int((int64_t)INT32_MIN - 1);
    EXPECT(&t, 0, 131, 110, 4, 1, 1, 0, 0, 0x80);
    t = edist_mk_int(INT64_MIN);
    EXPECT(&t, 0, 131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 0x80);
    t = edist_mk_int(INT64_MAX);
    EXPECT(&t, 0, 131, 110, 8, 0, 255, 255, 255, 255, 255, 255, 255, 0x7F);

    edist_arena *a = edist_arena_new(NULL);
    /* 1 bsl 64 as protocol.md observed it. */
    assert_int_equal(
        edist_term_bigint(a, &t, 0, V(0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0), 11), 0);
    EXPECT(&t, 0, 131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
    /* 2^64 - 1 fits no int64_t but 8 bytes. */
    assert_int_equal(
        edist_term_bigint(a, &t, 0, V(255, 255, 255, 255, 255, 255, 255, 255),
                          8),
        0);
    EXPECT(&t, 0, 131, 110, 8, 0, 255, 255, 255, 255, 255, 255, 255, 255);
    /* 256 digits: LARGE_BIG_EXT. */
    uint8_t digits[256] = {0};
    digits[255] = 1;
    assert_int_equal(edist_term_bigint(a, &t, 1, digits, 256), 0);
    edist_bytes b = {0};
    assert_int_equal(edist_etf_encode(&t, NULL, &b), 0);
    assert_int_equal(b.len, 1 + 6 + 256);
    assert_memory_equal(b.data, V(131, 111, 0, 0, 1, 0, 1), 7);
    edist_bytes_free(&b);
    /* A hand-made BIGINT that fits is normalised like put_bigint. */
    edist_term h = {.type = EDIST_TERM_BIGINT};
    h.v.big.negative = 1;
    h.v.big.n = 3;
    h.v.big.digits = V(5, 0, 0);
    EXPECT(&h, 0, 131, 98, 255, 255, 255, 251);
    edist_arena_free(a);
}

static void test_floats(void **state)
{
    (void)state;
    edist_term t = edist_mk_float(1.5);
    EXPECT(&t, 0, 131, 70, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0);
    t = edist_mk_float(-0.0);
    EXPECT(&t, 0, 131, 70, 0x80, 0, 0, 0, 0, 0, 0, 0);
    t = edist_mk_float(NAN);
    edist_bytes b = {0};
    size_t n;
    assert_int_equal(edist_etf_encode(&t, NULL, &b), EDIST_EINVAL);
    assert_null(b.data);
    assert_int_equal(edist_etf_encoded_size(&t, NULL, &n), EDIST_EINVAL);
    t = edist_mk_float(INFINITY);
    assert_int_equal(edist_etf_encode(&t, NULL, &b), EDIST_EINVAL);
}

static void test_atoms(void **state)
{
    (void)state;
    edist_term t = edist_mk_atom("ok", 2);
    EXPECT(&t, 0, 131, 119, 2, 'o', 'k');
    EXPECT(&t, L1, 131, 100, 0, 2, 'o', 'k');
    t = edist_mk_atom("", 0);
    EXPECT(&t, 0, 131, 119, 0);
    EXPECT(&t, L1, 131, 100, 0, 0);
    /* 'hé': Latin-1 representable. */
    t = edist_mk_atom("h\xC3\xA9", 3);
    EXPECT(&t, 0, 131, 119, 3, 'h', 0xC3, 0xA9);
    EXPECT(&t, L1, 131, 100, 0, 2, 'h', 0xE9);
    /* 'α' is not: OTP 25's term_to_binary writes SMALL_ATOM_UTF8_EXT. */
    t = edist_mk_atom("\xCE\xB1", 2);
    EXPECT(&t, L1, 131, 119, 2, 0xCE, 0xB1);
    /* 200 alphas are 400 bytes: ATOM_UTF8_EXT in both modes. */
    char alpha[510];
    for (int i = 0; i < 255; i++)
        memcpy(alpha + 2 * i, "\xCE\xB1", 2);
    t = edist_mk_atom(alpha, 400);
    edist_bytes b = {0};
    assert_int_equal(edist_etf_encode(&t, NULL, &b), 0);
    assert_memory_equal(b.data, V(131, 118, 1, 144), 4);
    assert_int_equal(b.len, 404);
    edist_bytes_free(&b);
    t = edist_mk_atom(alpha, 510);
    assert_int_equal(edist_etf_encode(&t, NULL, &b), 0);
    edist_bytes_free(&b);
    /* 256 characters, invalid UTF-8. */
    char longa[256];
    memset(longa, 'a', sizeof longa);
    t = edist_mk_atom(longa, 256);
    assert_int_equal(edist_etf_encode(&t, NULL, &b), EDIST_EATOMLEN);
    t = edist_mk_atom("\xFF", 1);
    assert_int_equal(edist_etf_encode(&t, NULL, &b), EDIST_EUTF8);
}

static void test_lists(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    t = edist_mk_nil();
    EXPECT(&t, 0, 131, 106);
    /* "abc" is STRING_EXT. */
    assert_int_equal(edist_term_string(a, &t, "abc", 3), 0);
    EXPECT(&t, 0, 131, 107, 0, 3, 'a', 'b', 'c');
    /* [1, 256] is not. */
    assert_int_equal(edist_term_list(a, &t, 2), 0);
    t.v.list.elems[0] = edist_mk_int(1);
    t.v.list.elems[1] = edist_mk_int(256);
    EXPECT(&t, 0, 131, 108, 0, 0, 0, 2, 97, 1, 98, 0, 0, 1, 0, 106);
    /* [1, 2 | 3]: improper. */
    t.v.list.elems[1] = edist_mk_int(2);
    *t.v.list.tail = edist_mk_int(3);
    EXPECT(&t, 0, 131, 108, 0, 0, 0, 2, 97, 1, 97, 2, 97, 3);
    /* [alias | Ref], the OTP 24+ reply tag. */
    edist_term tag;
    assert_int_equal(edist_term_list(a, &tag, 1), 0);
    tag.v.list.elems[0] = edist_mk_atom("alias", 5);
    uint32_t ids[3] = {1, 2, 3};
    *tag.v.list.tail = edist_mk_ref((edist_atom){"n", 1}, 4, ids, 3);
    EXPECT(&tag, 0, 131, 108, 0, 0, 0, 1, 119, 5, 'a', 'l', 'i', 'a', 's', 90,
           0, 3, 119, 1, 'n', 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3);
    /* A tail that is itself a list is the list it denotes: [1 | [2]] is
     * [1, 2], "\x01\x02" as OTP writes it. */
    edist_term inner;
    assert_int_equal(edist_term_list(a, &inner, 1), 0);
    inner.v.list.elems[0] = edist_mk_int(2);
    assert_int_equal(edist_term_list(a, &t, 1), 0);
    t.v.list.elems[0] = edist_mk_int(1);
    *t.v.list.tail = inner;
    EXPECT(&t, 0, 131, 107, 0, 2, 1, 2);
    *inner.v.list.tail = edist_mk_atom("x", 1);
    *t.v.list.tail = inner;
    EXPECT(&t, 0, 131, 108, 0, 0, 0, 2, 97, 1, 97, 2, 119, 1, 'x');
    /* 65535 bytes are a string, 65536 a LIST_EXT of small integers. */
    char *s = malloc(65536);
    memset(s, 'z', 65536);
    edist_bytes b = {0};
    assert_int_equal(edist_term_string(a, &t, s, 65535), 0);
    assert_int_equal(edist_etf_encode(&t, NULL, &b), 0);
    assert_int_equal(b.len, 1 + 3 + 65535);
    assert_memory_equal(b.data, V(131, 107, 255, 255, 'z'), 5);
    edist_bytes_free(&b);
    assert_int_equal(edist_term_string(a, &t, s, 65536), 0);
    assert_int_equal(edist_etf_encode(&t, NULL, &b), 0);
    assert_int_equal(b.len, 1 + 5 + 2 * 65536 + 1);
    assert_memory_equal(b.data, V(131, 108, 0, 1, 0, 0, 97, 'z'), 8);
    edist_bytes_free(&b);
    free(s);
    edist_arena_free(a);
}

static void test_containers(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    assert_int_equal(edist_term_tuple(a, &t, 0), 0);
    EXPECT(&t, 0, 131, 104, 0);
    assert_int_equal(edist_term_tuple(a, &t, 256), 0);
    edist_bytes b = {0};
    assert_int_equal(edist_etf_encode(&t, NULL, &b), 0);
    assert_memory_equal(b.data, V(131, 105, 0, 0, 1, 0, 106), 7);
    assert_int_equal(b.len, 1 + 5 + 256);
    edist_bytes_free(&b);
    /* #{1 => a}: keys and values interleave. */
    assert_int_equal(edist_term_map(a, &t, 2), 0);
    t.v.map.keys[0] = edist_mk_int(1);
    t.v.map.values[0] = edist_mk_atom("a", 1);
    t.v.map.keys[1] = edist_mk_int(2);
    EXPECT(&t, 0, 131, 116, 0, 0, 0, 2, 97, 1, 119, 1, 'a', 97, 2, 106);
    assert_int_equal(edist_term_map(a, &t, 0), 0);
    EXPECT(&t, 0, 131, 116, 0, 0, 0, 0);
    /* Binaries and bitstrings; <<1:3>> as protocol.md observed it. */
    t = edist_mk_binary("hi", 2);
    EXPECT(&t, 0, 131, 109, 0, 0, 0, 2, 'h', 'i');
    assert_int_equal(edist_term_bitstring(a, &t, V(0x3F), 1, 3), 0);
    EXPECT(&t, 0, 131, 77, 0, 0, 0, 1, 3, 0x20);
    t.v.bin.bits = 0;
    assert_int_equal(edist_etf_encode(&t, NULL, &b), EDIST_EINVAL);
    edist_arena_free(a);
}

static void test_identifiers(void **state)
{
    (void)state;
    edist_atom n = {"n", 1}, nl = {"n\xC3\xB8", 3};
    edist_term t = edist_mk_pid(n, 9, 0, 0);
    EXPECT(&t, 0, 131, 88, 119, 1, 'n', 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0);
    t = edist_mk_pid(nl, 1, 2, 3);
    EXPECT(&t, L1, 131, 88, 100, 0, 2, 'n', 0xF8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0,
           0, 3);
    /* Ports: V4_PORT_EXT only above 28 bits. */
    t = edist_mk_port(n, 0x0FFFFFFF, 5);
    EXPECT(&t, 0, 131, 89, 119, 1, 'n', 0x0F, 255, 255, 255, 0, 0, 0, 5);
    t = edist_mk_port(n, 0x10000000, 5);
    EXPECT(&t, 0, 131, 120, 119, 1, 'n', 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 5);
    uint32_t ids[5] = {1, 2, 3, 4, 5};
    t = edist_mk_ref(n, 7, ids, 5);
    EXPECT(&t, 0, 131, 90, 0, 5, 119, 1, 'n', 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0,
           2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5);
    t.v.ref.len = 6;
    edist_bytes b = {0};
    assert_int_equal(edist_etf_encode(&t, NULL, &b), EDIST_EINVAL);
    t.type = EDIST_TERM_EXPORT;
    t.v.exp.module = (edist_atom){"lists", 5};
    t.v.exp.function = (edist_atom){"map", 3};
    t.v.exp.arity = 2;
    EXPECT(&t, L1, 131, 113, 100, 0, 5, 'l', 'i', 's', 't', 's', 100, 0, 3, 'm',
           'a', 'p', 97, 2);
    t.v.exp.arity = 256;
    assert_int_equal(edist_etf_encode(&t, NULL, &b), EDIST_EINVAL);
    /* A fun is its raw bytes. */
    t.type = EDIST_TERM_FUN;
    memset(&t.v.fun, 0, sizeof t.v.fun);
    t.v.fun.raw = V(112, 1, 2, 3);
    t.v.fun.raw_len = 4;
    EXPECT(&t, 0, 131, 112, 1, 2, 3);
    t.v.fun.raw = NULL;
    assert_int_equal(edist_etf_encode(&t, NULL, &b), EDIST_EINVAL);
}

static void test_options(void **state)
{
    (void)state;
    edist_term t = edist_mk_int(5);
    EXPECT(&t, EDIST_ETF_NO_VERSION, 97, 5);
    edist_etf_encode_opts o = {.max_size = 1};
    edist_bytes b = {0};
    assert_int_equal(edist_etf_encode(&t, &o, &b), EDIST_ETOOBIG);
    o.max_size = 3;
    assert_int_equal(edist_etf_encode(&t, &o, &b), 0);
    edist_bytes_free(&b);
    edist_bytes_free(&b); /* zeroed: a no-op */
    edist_bytes_free(NULL);
    size_t n;
    o.flags = EDIST_ETF_COMPRESS;
    assert_int_equal(edist_etf_encoded_size(&t, &o, &n), EDIST_EINVAL);
    assert_int_equal(edist_etf_encode(NULL, NULL, &b), EDIST_EINVAL);
    assert_int_equal(edist_etf_encode(&t, NULL, NULL), EDIST_EINVAL);
}

static void test_compression(void **state)
{
    (void)state;
    /* term_to_binary(<<0:800>>, [compressed]) from OTP 25. */
    uint8_t zeros[100] = {0};
    edist_term t = edist_mk_binary(zeros, 100);
    EXPECT(&t, EDIST_ETF_COMPRESS, 131, 80, 0, 0, 0, 105, 120, 156, 203, 101,
           96, 96, 72, 97, 160, 3, 0, 0, 84, 146, 0, 210);
    /* term_to_binary(<<0:80>>, [compressed]) is not compressed: zlib would
     * not save 5 bytes. */
    t = edist_mk_binary(zeros, 10);
    edist_etf_encode_opts o = {.flags = EDIST_ETF_COMPRESS};
    edist_bytes b = {0};
    assert_int_equal(edist_etf_encode(&t, &o, &b), 0);
    assert_int_equal(b.len, 16);
    assert_memory_equal(b.data, V(131, 109, 0, 0, 0, 10, 0), 7);
    edist_bytes_free(&b);
    /* Compressed output decodes back; level 9 works too. */
    o.level = 9;
    t = edist_mk_binary(zeros, 100);
    assert_int_equal(edist_etf_encode(&t, &o, &b), 0);
    edist_arena *a = edist_arena_new(NULL);
    edist_term back;
    assert_int_equal(edist_etf_decode(a, b.data, b.len, NULL, &back, NULL), 0);
    assert_int_equal(back.v.bin.size, 100);
    edist_bytes_free(&b);
    edist_arena_free(a);
}

static void test_deep(void **state)
{
    (void)state;
    /* 100000 nested one-tuples: the walk is iterative. */
    enum { N = 100000 };
    edist_term *ts = calloc(N, sizeof *ts);
    for (int i = 0; i < N; i++) {
        ts[i].type = EDIST_TERM_TUPLE;
        ts[i].v.tuple.arity = 1;
        ts[i].v.tuple.elems = i + 1 < N ? &ts[i + 1] : NULL;
    }
    ts[N - 1] = edist_mk_nil();
    size_t n = 0;
    assert_int_equal(edist_etf_encoded_size(&ts[0], NULL, &n), 0);
    assert_int_equal(n, 1 + 2 * (N - 1) + 1);
    edist_bytes b = {0};
    assert_int_equal(edist_etf_encode(&ts[0], NULL, &b), 0);
    assert_int_equal(b.len, n);
    edist_bytes_free(&b);
    free(ts);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    static const edist_allocator al = {failalloc_malloc, failalloc_realloc,
                                       failalloc_free, NULL};
    /* A tree deeper than the walk's local stack, with a big binary, so
     * that the stack, the output and zlib all allocate. */
    enum { N = 100 };
    edist_term ts[N];
    static uint8_t zeros[5000];
    for (int i = 0; i < N; i++) {
        ts[i].type = EDIST_TERM_TUPLE;
        ts[i].v.tuple.arity = 1;
        ts[i].v.tuple.elems = &ts[i + 1];
    }
    ts[N - 1] = edist_mk_binary(zeros, sizeof zeros);
    for (unsigned flags = 0; flags <= EDIST_ETF_COMPRESS;
         flags += EDIST_ETF_COMPRESS) {
        long k;
        for (k = 0; k < 1000; k++) {
            edist_etf_encode_opts o = {.flags = flags, .alloc = &al};
            edist_bytes b = {0};
            failalloc_left = k;
            failalloc_live = 0;
            int rc = edist_etf_encode(&ts[0], &o, &b);
            if (rc == 0) {
                assert_true(b.len < (flags ? 200u : 6000u));
                edist_bytes_free(&b);
                assert_int_equal(failalloc_live, 0);
                break;
            }
            assert_int_equal(rc, EDIST_ENOMEM);
            assert_null(b.data);
            assert_int_equal(failalloc_live, 0);
        }
        assert_true(k > 1 && k < 1000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_atoms),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_containers),
        cmocka_unit_test(test_identifiers),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_compression),
        cmocka_unit_test(test_deep),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
