/* test_core.c: errors table, capped buffers, wire helpers, strict UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "failalloc.h"

#include "core/buf.h"
#include "core/utf8.h"
#include "core/wire.h"
#include "edist/edist.h"

static void test_err_names(void **state)
{
    (void)state;
    assert_string_equal(edist_errname(EDIST_ENOMEM), "ENOMEM");
    assert_string_equal(edist_strerror(EDIST_ENOMEM), "out of memory");
    assert_string_equal(edist_errname(0), "OK");
    assert_string_equal(edist_errname(-9999), "UNKNOWN");
    assert_string_equal(edist_strerror(12345), "unknown error");
    /* Every code in the map has a distinct name and a message. */
#define CHECK_(name, val, msg)                                                 \
    assert_string_equal(edist_errname(val), #name);                            \
    assert_string_equal(edist_strerror(val), msg);
    EDIST_ERRNO_MAP(CHECK_)
#undef CHECK_
}

static void test_buf_cap(void **state)
{
    (void)state;
    edist_buf b;
    edist_buf_init(&b, 10, NULL);
    assert_int_equal(edist_buf_append(&b, "0123456789", 10), 0);
    assert_int_equal(edist_buf_put8(&b, 1), EDIST_ETOOBIG);
    assert_int_equal(b.len, 10);
    edist_buf_consume(&b, 4);
    assert_int_equal(b.len, 6);
    assert_memory_equal(b.data, "456789", 6);
    assert_int_equal(edist_buf_put32(&b, 0x01020304), 0);
    assert_int_equal(edist_buf_put16(&b, 1), EDIST_ETOOBIG);
    assert_int_equal(b.len, 10);
    assert_true(b.cap <= 10);
    edist_buf_free(&b);
}

static void test_buf_grow(void **state)
{
    (void)state;
    edist_buf b;
    edist_buf_init(&b, 0, NULL);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(edist_buf_put64(&b, (uint64_t)i), 0);
    assert_int_equal(b.len, 8000);
    assert_int_equal(edist_get64(b.data + 8 * 999), 999);
    edist_buf_free(&b);
}

static void test_buf_oom(void **state)
{
    (void)state;
    edist_allocator a = {failalloc_malloc, failalloc_realloc, failalloc_free,
                         NULL};
    edist_buf b;
    edist_buf_init(&b, 0, &a);
    failalloc_left = 0;
    assert_int_equal(edist_buf_append(&b, "x", 1), EDIST_ENOMEM);
    assert_int_equal(b.len, 0);
    failalloc_left = 1;
    assert_int_equal(edist_buf_append(&b, "x", 1), 0);
    edist_buf_free(&b);
}

static void test_wire(void **state)
{
    (void)state;
    uint8_t t[8];
    edist_put16(t, 0x1234);
    assert_memory_equal(t, "\x12\x34", 2);
    edist_put32(t, 0xdeadbeef);
    assert_memory_equal(t, "\xde\xad\xbe\xef", 4);
    assert_int_equal(edist_get32(t), 0xdeadbeef);
    edist_put64(t, 0x0102030405060708ULL);
    assert_memory_equal(t, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    assert_true(edist_get64(t) == 0x0102030405060708ULL);
    assert_int_equal(edist_get16((const uint8_t *)"\xff\x01"), 0xff01);
}

static void test_utf8(void **state)
{
    (void)state;
#define U(s) (const uint8_t *)(s), sizeof(s) - 1
    assert_int_equal(edist_utf8_count(U("abc")), 3);
    assert_int_equal(edist_utf8_count(U("")), 0);
    assert_int_equal(edist_utf8_count(U("\xc3\xa9t\xc3\xa9")), 3);
    assert_int_equal(edist_utf8_count(U("\xf0\x9f\x98\x80")), 1);
    assert_int_equal(edist_utf8_count(U("\xf4\x8f\xbf\xbf")), 1);
    /* overlong, surrogate, above U+10FFFF, truncated, stray continuation */
    assert_int_equal(edist_utf8_count(U("\xc0\xaf")), EDIST_EUTF8);
    assert_int_equal(edist_utf8_count(U("\xe0\x80\xaf")), EDIST_EUTF8);
    assert_int_equal(edist_utf8_count(U("\xf0\x80\x80\xaf")), EDIST_EUTF8);
    assert_int_equal(edist_utf8_count(U("\xed\xa0\x80")), EDIST_EUTF8);
    assert_int_equal(edist_utf8_count(U("\xf4\x90\x80\x80")), EDIST_EUTF8);
    assert_int_equal(edist_utf8_count(U("\xe2\x82")), EDIST_EUTF8);
    assert_int_equal(edist_utf8_count(U("\x80")), EDIST_EUTF8);
    assert_int_equal(edist_utf8_count(U("\xff")), EDIST_EUTF8);
    uint8_t out[4];
    assert_int_equal(edist_utf8_encode(0xe9, out), 2);
    assert_memory_equal(out, "\xc3\xa9", 2);
    assert_int_equal(edist_utf8_encode(0x1F600, out), 4);
    assert_int_equal(edist_utf8_encode(0xD800, out), EDIST_EUTF8);
    assert_int_equal(edist_utf8_encode(0x110000, out), EDIST_EUTF8);
    /* Every encodable code point round-trips. */
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp += 7) {
        int n = edist_utf8_encode(cp, out);
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            assert_int_equal(n, EDIST_EUTF8);
            continue;
        }
        uint32_t back;
        assert_int_equal(edist_utf8_decode(out, (size_t)n, &back), n);
        assert_int_equal(back, cp);
    }
#undef U
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_names), cmocka_unit_test(test_buf_cap),
        cmocka_unit_test(test_buf_grow),  cmocka_unit_test(test_buf_oom),
        cmocka_unit_test(test_wire),      cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
