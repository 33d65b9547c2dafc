/* test_text_print.c: the ~w / ~p printer against texts recorded from OTP
 * 25 (vectors/text_vectors.h) and hand-built terms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edist/edist.h"
#include "edist/etf_text.h"
#include "vectors/text_vectors.h"

static const char *print_u(edist_arena *a, const edist_term *t,
                           edist_text_style style, int unicode)
{
    edist_print_opts o;
    memset(&o, 0, sizeof o);
    o.style = style;
    o.unicode = unicode;
    o.local_node = edist_mk_atom("me@host", 7).v.atom;
    char *s = NULL;
    assert_int_equal(edist_term_print_arena(a, t, &o, &s, NULL), 0);
    return s;
}

static const char *print(edist_arena *a, const edist_term *t,
                         edist_text_style style)
{
    return print_u(a, t, style, 0);
}

/* Every vector: parse the Erlang source text, print both ways, compare
 * with io_lib's output; io_lib's own outputs must parse to =:= terms. */
static void test_vectors(void **state)
{
    (void)state;
    (void)cmp_vectors;
    edist_arena *a = edist_arena_new(NULL);
    for (size_t i = 0; i < sizeof text_vectors / sizeof *text_vectors; i++) {
        const struct text_vec *v = &text_vectors[i];
        edist_term t, tw, tp;
        edist_text_error e;
        int rc = edist_term_parse(a, v->in, strlen(v->in), NULL, &t, &e);
        if (rc != 0)
            fail_msg("parse %s: %d:%d %s", v->in, e.line, e.col, e.msg);
        const char *w = print(a, &t, EDIST_TEXT_W);
        const char *p = print(a, &t, EDIST_TEXT_P);
        if (strcmp(w, v->w) != 0)
            fail_msg("~w of %s:\n got %s\nwant %s", v->in, w, v->w);
        if (strcmp(p, v->p) != 0)
            fail_msg("~p of %s:\n got %s\nwant %s", v->in, p, v->p);
        const char *xw = print_u(a, &t, EDIST_TEXT_W, 1);
        const char *xp = print_u(a, &t, EDIST_TEXT_P, 1);
        if (strcmp(xw, v->tw) != 0)
            fail_msg("~tw of %s:\n got %s\nwant %s", v->in, xw, v->tw);
        if (strcmp(xp, v->tp) != 0)
            fail_msg("~tp of %s:\n got %s\nwant %s", v->in, xp, v->tp);
        assert_int_equal(
            edist_term_parse(a, v->w, strlen(v->w), NULL, &tw, NULL), 0);
        assert_int_equal(
            edist_term_parse(a, v->p, strlen(v->p), NULL, &tp, NULL), 0);
        assert_true(edist_term_equal(&t, &tw));
        assert_true(edist_term_equal(&t, &tp));
    }
    edist_arena_free(a);
}

static void check_float(double f, const char *want)
{
    edist_term t = edist_mk_float(f);
    char buf[64];
    size_t n;
    assert_int_equal(edist_term_print(&t, NULL, buf, sizeof buf, &n), 0);
    if (strcmp(buf, want) != 0)
        fail_msg("float %.17g: got %s want %s", f, buf, want);
}

/* float_to_list(F, [short]) outputs recorded from OTP 25. */
static void test_floats(void **state)
{
    (void)state;
    check_float(0.0, "0.0");
    check_float(-0.0, "-0.0");
    check_float(1.5e-7, "1.5e-7");
    check_float(123456789.0, "123456789.0");
    check_float(1.0e15, "1.0e15");
    check_float(1.234e21, "1.234e21");
    check_float(12345678901234567.0, "1.2345678901234568e16");
    check_float(0.001, "0.001");
    check_float(0.0001, "0.0001");
    check_float(1.0e-5, "1.0e-5");
    check_float(5e-324, "5.0e-324");
    check_float(1.7976931348623157e308, "1.7976931348623157e308");
    check_float(100.0, "100.0");
    check_float(1.0e9, "1.0e9");
    check_float(2.5e15, "2.5e15");
    check_float(9007199254740993.0, "9.007199254740992e15");
    check_float(0.000123, "1.23e-4");
    check_float(1.2345e-5, "1.2345e-5");
    check_float(0.1 + 0.2, "0.30000000000000004");
    check_float(2.0e-308, "2.0e-308");
    check_float(123456.7, "123456.7");
    /* Every float reads back exactly. */
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double f;
        uint64_t bits = x & ~(0x7FFull << 52);
        bits |= (uint64_t)(x % 2046 + 1) << 52;
        memcpy(&f, &bits, 8);
        edist_term t = edist_mk_float(f);
        char buf[64];
        size_t n;
        assert_int_equal(edist_term_print(&t, NULL, buf, sizeof buf, &n), 0);
        edist_arena *a = edist_arena_new(NULL);
        edist_term back;
        assert_int_equal(edist_term_parse(a, buf, n, NULL, &back, NULL), 0);
        assert_int_equal(back.type, EDIST_TERM_FLOAT);
        assert_memory_equal(&back.v.f, &f, 8);
        edist_arena_free(a);
    }
}

static const uint32_t ref_ids[3] = {82502, 788267009, 1418368044};

static void test_ids(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_atom me = {"me@host", 7}, other = {"other@h.example", 15},
               odd = {"we ird", 6};
    edist_term t = edist_mk_pid(me, 85, 0, 3);
    assert_string_equal(print(a, &t, EDIST_TEXT_W), "<0.85.0>");
    t = edist_mk_pid(other, 85, 1, 3);
    assert_string_equal(print(a, &t, EDIST_TEXT_W),
                        "#Pid<other@h.example/3.85.1>");
    t = edist_mk_pid(odd, 1, 2, 0);
    assert_string_equal(print(a, &t, EDIST_TEXT_P), "#Pid<'we ird'/0.1.2>");
    t = edist_mk_port(me, 7, 1);
    assert_string_equal(print(a, &t, EDIST_TEXT_W), "#Port<0.7>");
    t = edist_mk_port(other, 1ull << 40, 9);
    assert_string_equal(print(a, &t, EDIST_TEXT_W),
                        "#Port<other@h.example/9.1099511627776>");
    t = edist_mk_ref(me, 1, ref_ids, 3);
    assert_string_equal(print(a, &t, EDIST_TEXT_W),
                        "#Ref<0.1418368044.788267009.82502>");
    t = edist_mk_ref(other, 2, ref_ids, 3);
    assert_string_equal(print(a, &t, EDIST_TEXT_W),
                        "#Ref<other@h.example/2.1418368044.788267009.82502>");
    /* local_creation restricts the local form to one incarnation. */
    edist_print_opts o;
    memset(&o, 0, sizeof o);
    o.local_node = me;
    o.local_creation = 4;
    char buf[64];
    size_t n;
    t = edist_mk_pid(me, 85, 0, 3);
    assert_int_equal(edist_term_print(&t, &o, buf, sizeof buf, &n), 0);
    assert_string_equal(buf, "#Pid<me@host/3.85.0>");
    /* Every id form parses back to the same term. */
    edist_parse_opts po;
    memset(&po, 0, sizeof po);
    po.local_node = me;
    po.local_creation = 3;
    const edist_term ts[] = {
        edist_mk_pid(me, 85, 0, 3),         edist_mk_pid(other, 85, 1, 3),
        edist_mk_pid(odd, 1, 2, 0),         edist_mk_port(other, 1ull << 40, 9),
        edist_mk_ref(other, 2, ref_ids, 3), edist_mk_ref(me, 3, ref_ids, 1)};
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
        const char *s = print(a, &ts[i], EDIST_TEXT_W);
        edist_term back;
        assert_int_equal(edist_term_parse(a, s, strlen(s), &po, &back, NULL),
                         0);
        assert_true(edist_term_equal(&ts[i], &back));
    }
    edist_arena_free(a);
}

static void test_funs(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    /* NEW_FUN_EXT of #Fun<erl_eval.43.3316493> (header fields only). */
    uint8_t raw[64] = {112, 0, 0, 0, 60, 1};
    size_t k = 30;
    raw[k++] = 119;
    raw[k++] = 8;
    memcpy(raw + k, "erl_eval", 8);
    k += 8;
    raw[k++] = 97;
    raw[k++] = 43;
    raw[k++] = 98;
    raw[k++] = 0x00;
    raw[k++] = 0x32;
    raw[k++] = 0x9B;
    raw[k++] = 0x0D;
    edist_term f;
    memset(&f, 0, sizeof f);
    f.type = EDIST_TERM_FUN;
    f.v.fun.raw = raw;
    f.v.fun.raw_len = k;
    f.v.fun.module = edist_mk_atom("erl_eval", 8).v.atom;
    f.v.fun.index = 43;
    assert_string_equal(print(a, &f, EDIST_TEXT_W),
                        "#Fun<erl_eval.43.3316493>");
    edist_term e;
    memset(&e, 0, sizeof e);
    e.type = EDIST_TERM_EXPORT;
    e.v.exp.module = edist_mk_atom("lists", 5).v.atom;
    e.v.exp.function = edist_mk_atom("map", 3).v.atom;
    e.v.exp.arity = 2;
    assert_string_equal(print(a, &e, EDIST_TEXT_P), "fun lists:map/2");
    edist_arena_free(a);
}

/* snprintf semantics: truncation, size queries, the output cap. */
static void test_buffers(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    const char *src = "{hello,[1,2,3],<<\"bin\">>}";
    assert_int_equal(edist_term_parse(a, src, strlen(src), NULL, &t, NULL), 0);
    size_t n;
    assert_int_equal(edist_term_print(&t, NULL, NULL, 0, &n), 0);
    assert_int_equal(n, strlen("{hello,[1,2,3],<<98,105,110>>}"));
    char buf[8];
    assert_int_equal(edist_term_print(&t, NULL, buf, sizeof buf, &n), 0);
    assert_string_equal(buf, "{hello,");
    assert_true(n >= sizeof buf);
    edist_print_opts o;
    memset(&o, 0, sizeof o);
    o.max_output = 10;
    assert_int_equal(edist_term_print(&t, &o, NULL, 0, &n), EDIST_ETOOBIG);
    o.style = EDIST_TEXT_P;
    assert_int_equal(edist_term_print(&t, &o, NULL, 0, &n), EDIST_ETOOBIG);
    assert_int_equal(edist_term_print(NULL, NULL, NULL, 0, &n), EDIST_EINVAL);
    assert_int_equal(edist_term_print(&t, NULL, NULL, 5, &n), EDIST_EINVAL);
    /* Line length and start column, as io_lib_pretty:print/4. */
    const char *l = "[aaaa,bbbb,cccc,dddd]";
    assert_int_equal(edist_term_parse(a, l, strlen(l), NULL, &t, NULL), 0);
    char out[128];
    o.max_output = 0;
    o.line_length = 12;
    assert_int_equal(edist_term_print(&t, &o, out, sizeof out, &n), 0);
    assert_string_equal(out, "[aaaa,\n bbbb,\n cccc,\n dddd]");
    o.line_length = -1;
    assert_int_equal(edist_term_print(&t, &o, out, sizeof out, &n), 0);
    assert_string_equal(out, l);
    edist_arena_free(a);
}

static void test_bigints(void **state)
{
    (void)state;
    edist_arena *a = edist_arena_new(NULL);
    uint8_t mag[40];
    memset(mag, 0xFF, sizeof mag);
    edist_term t;
    assert_int_equal(edist_term_bigint(a, &t, 1, mag, 9), 0);
    assert_string_equal(print(a, &t, EDIST_TEXT_W), "-4722366482869645213695");
    assert_int_equal(edist_term_bigint(a, &t, 0, mag, 40), 0);
    assert_string_equal(print(a, &t, EDIST_TEXT_W),
                        "21359870359209100823950217061695521146027045223566527"
                        "699470416078222197257806405500229620869"
                        "36575");
    memset(mag, 0, sizeof mag);
    mag[8] = 1; /* 2^64 */
    assert_int_equal(edist_term_bigint(a, &t, 0, mag, 9), 0);
    assert_string_equal(print(a, &t, EDIST_TEXT_W), "18446744073709551616");
    mag[8] = 0;
    mag[12] = 1; /* 2^96: a 9-digit group of zeros in the middle */
    assert_int_equal(edist_term_bigint(a, &t, 1, mag, 13), 0);
    assert_string_equal(print(a, &t, EDIST_TEXT_W),
                        "-79228162514264337593543950336");
    t = edist_mk_int(INT64_MIN);
    assert_string_equal(print(a, &t, EDIST_TEXT_W), "-9223372036854775808");
    edist_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors), cmocka_unit_test(test_floats),
        cmocka_unit_test(test_ids),     cmocka_unit_test(test_funs),
        cmocka_unit_test(test_buffers), cmocka_unit_test(test_bigints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
