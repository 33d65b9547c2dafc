/* test_text_parse.c: the Erlang term syntax parser: values, error
 * positions and messages, caps. */
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

static edist_arena *arena;

static int setup(void **state)
{
    (void)state;
    arena = edist_arena_new(NULL);
    return arena ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    edist_arena_free(arena);
    return 0;
}

/* Half the smallest denormal, 2^-1075, exactly: the tie between 0 and
 * 5e-324. */
#define HALF_MIN_DENORMAL                                                      \
    "2.4703282292062327208828439643411068618252990130716238221279"             \
    "284125033775363510437593264991818081799618989828234772285886"             \
    "546332835517796989819938739800539093906315035659515570226392"             \
    "290858392449105184435931802849936536152500319370457678249219"             \
    "365623669863658480757001585769269903706311928279558551332927"             \
    "834338409351978015531246597263579574622766465272827220056374"             \
    "006485499977096599470454020828166226237857393450736339007967"             \
    "761930577506740176324673600968951340535537458516661134223766"             \
    "678604162159680461914467291840300530057530849048765391711386"             \
    "591646239524912623653881879636239373280423891018672348497668"             \
    "235089863388587925628302755995657524455507255189313690836254"             \
    "779186948667994968324049705821028513185451396213837722826145"             \
    "437693412532098591327667236328125"

static edist_term parse_ok(const char *s)
{
    edist_term t;
    edist_text_error e;
    int rc = edist_term_parse(arena, s, strlen(s), NULL, &t, &e);
    if (rc != 0)
        fail_msg("parse '%s': %s at %d:%d: %s", s, edist_errname(rc), e.line,
                 e.col, e.msg);
    return t;
}

/* Parses s and checks that it prints (~w) as want. */
static void same(const char *s, const char *want)
{
    edist_term t = parse_ok(s);
    char buf[512];
    size_t n;
    assert_int_equal(edist_term_print(&t, NULL, buf, sizeof buf, &n), 0);
    if (strcmp(buf, want) != 0)
        fail_msg("'%s' printed %s, want %s", s, buf, want);
}

static void test_values(void **state)
{
    (void)state;
    edist_term t = parse_ok("  42 % comment\n . ");
    assert_int_equal(t.type, EDIST_TERM_INT);
    assert_int_equal(t.v.i, 42);
    t = parse_ok("16#7fffffffffffffff");
    assert_int_equal(t.v.i, INT64_MAX);
    t = parse_ok("-16#8000000000000000");
    assert_int_equal(t.type, EDIST_TERM_INT);
    assert_int_equal(t.v.i, INT64_MIN);
    t = parse_ok("16#8000000000000000");
    assert_int_equal(t.type, EDIST_TERM_BIGINT);
    assert_int_equal(t.v.big.n, 8);
    t = parse_ok("1.5");
    assert_int_equal(t.type, EDIST_TERM_FLOAT);
    assert_true(t.v.f == 1.5);
    t = parse_ok("0.1e1_0");
    assert_true(t.v.f == 1e9);
    /* Correct rounding of long mantissas (strtod on all digits): the exact
     * tie rounds to even (0), one digit more rounds up. */
    t = parse_ok(HALF_MIN_DENORMAL "e-324");
    assert_true(t.v.f == 0.0);
    t = parse_ok(HALF_MIN_DENORMAL "000001e-324");
    assert_true(t.v.f == 5e-324);
    same("$\\s", "32");
    same("$\\^A", "1");
    same("$\\x41", "65");
    same("\"\\1234\"", "[83,52]");
    same("'\\z'", "z");
    same("\"a\" \"b\"  \"c\"", "[97,98,99]");
    same("[1 , 2 | [ 3 ] ]", "[1,2,3]");
    same("{ a , { } , [ ] }", "{a,{},[]}");
    same("#{ a => 1 , b => #{ } }", "#{a => 1,b => #{}}");
    same("#{a => 1, b => 2, a => 3}", "#{a => 3,b => 2}");
    same("#{1 => a, 1.0 => b, 1 => c}", "#{1 => c,1.0 => b}");
    same("<< >>", "<<>>");
    same("<<1:4, 2:4>>", "<<18>>");
    same("<<-1:12>>", "<<255,15:4>>");
    same("<<1:1, 1:1>>", "<<3:2>>");
    same("<<300:16/big, 300:16/little>>", "<<1,44,44,1>>");
    same("<<16#1F600/utf8>>", "<<240,159,152,128>>");
    same("<<16#1F600/utf16>>", "<<216,61,222,0>>");
    same("<<16#1F600/utf16-little>>", "<<61,216,0,222>>");
    same("<<$a/utf32>>", "<<0,0,0,97>>");
    same("<<\"ab\"/utf8, \"c\":16/little>>", "<<97,98,99,0>>");
    same("<<<<1,2,3>>:2/binary>>", "<<1,2>>");
    same("<<<<1,2,3>>:9/bits>>", "<<1,0:1>>");
    same("<<1.0:32/float>>", "<<63,128,0,0>>");
    same("<<2:64/float>>", "<<64,0,0,0,0,0,0,0>>");
    /* Half and single precision, as BEAM rounds them (recorded). */
    same("<<1.5:16/float>>", "<<62,0>>");
    same("<<1.0e-8:16/float>>", "<<0,0>>");
    same("<<65504.0:16/float>>", "<<123,255>>");
    same("<<65520.0:16/float>>", "<<124,0>>");
    same("<<1.0e-5:16/float>>", "<<0,168>>");
    same("<<-0.0:16/float>>", "<<128,0>>");
    same("<<5.96e-8:16/float>>", "<<0,1>>");
    same("<<2.98e-8:16/float>>", "<<0,0>>");
    same("<<2.99e-8:16/float>>", "<<0,1>>");
    same("<<1.00048828125:16/float>>", "<<60,0>>");
    same("<<1.000732421875:16/float-little>>", "<<1,60>>");
    same("<<3.4028235e38:32/float>>", "<<127,127,255,255>>");
    same("<<3.4028236e38:32/float>>", "<<127,128,0,0>>");
    same("<<-1.0e300:32/float>>", "<<255,128,0,0>>");
    same("<<1:2/unit:8>>", "<<0,1>>");
    same("<<2#11:2>>", "<<3:2>>");
    same("<<1:0>>", "<<>>");
    same("<<18446744073709551615:72>>",
         "<<0,255,255,255,255,255,255,255,255>>");
    same("<<-18446744073709551615:72>>", "<<255,0,0,0,0,0,0,0,1>>");
    same("fun m:f/0", "fun m:f/0");
    same("fun 'M':'f g'/255", "fun 'M':'f g'/255");
    same("- 1.5", "-1.5");
    same("+ 3", "3");
    same("'\\x{1F600}'", "'\\x{1F600}'");
    same("\"\\x{1F600}\"", "[128512]");
    same("['é'|ñ]", "[é|ñ]");
    /* Forms found by the differential test against erl_parse. */
    same("-(1)", "-1");
    same("- ( 2.5 )", "-2.5");
    same("-(-9223372036854775808)", "9223372036854775808");
    same("-(9223372036854775808)", "-9223372036854775808");
    same("+(7)", "7");
    same("# {a => 1}", "#{a => 1}");
    same("#\n{}", "#{}");
    same("\"\\^@\\^[\\^λ\"", "[0,27,27]");
    same("\"\\x{FFFD}\"", "[65533]");
}

struct err_vec {
    const char *in;
    int code, line, col;
    const char *msg_part;
};

static const struct err_vec errors[] = {
    {"", EDIST_ESYNTAX, 1, 1, "expected a term"},
    {"   ", EDIST_ESYNTAX, 1, 4, "expected a term"},
    {"[1,2", EDIST_ESYNTAX, 1, 5, "expected ',', '|' or ']'"},
    {"[1,2}", EDIST_ESYNTAX, 1, 5, "expected ',', '|' or ']'"},
    {"{a,\n b\n c}", EDIST_ESYNTAX, 3, 2, "expected ',' or '}'"},
    {"#{a => }", EDIST_ESYNTAX, 1, 8, "expected a term"},
    {"#{a, b}", EDIST_ESYNTAX, 1, 4, "'=>'"},
    {"[1|2,3]", EDIST_ESYNTAX, 1, 5, "']'"},
    {"X", EDIST_ESYNTAX, 1, 1, "variables"},
    {"{ok, _}", EDIST_ESYNTAX, 1, 6, "variables"},
    {"case", EDIST_ESYNTAX, 1, 1, "reserved word"},
    {"1 2", EDIST_ESYNTAX, 1, 3, "end of input"},
    {"1..", EDIST_ESYNTAX, 1, 3, "end of input"},
    {"\"abc", EDIST_ESYNTAX, 1, 1, "unterminated string"},
    {"'abc", EDIST_ESYNTAX, 1, 1, "unterminated quoted atom"},
    {"\"\\x{110000}\"", EDIST_ESYNTAX, 1, 2, "10FFFF"},
    {"\"\\xg0\"", EDIST_ESYNTAX, 1, 4, "hex"},
    {"37#1", EDIST_ESYNTAX, 1, 1, "base"},
    {"2#", EDIST_ESYNTAX, 1, 3, "base 2 digits"},
    {"1.0e", EDIST_ESYNTAX, 1, 4, "exponent"},
    {"1.0e999", EDIST_ESYNTAX, 1, 1, "illegal float"},
    {"-a", EDIST_ESYNTAX, 1, 2, "number after '-'"},
    {"<<a>>", EDIST_ESYNTAX, 1, 3, "segment value"},
    {"<<1/foo>>", EDIST_ESYNTAX, 1, 5, "type specifier"},
    {"<<1:>>", EDIST_ESYNTAX, 1, 5, "size"},
    {"<<<<1>>>>", EDIST_ESYNTAX, 1, 3, "/binary"},
    {"<<1.5:8/float>>", EDIST_ESYNTAX, 1, 3, "16, 32 or 64"},
    {"<<1/unit:8>>", EDIST_ESYNTAX, 1, 3, "unit:N needs a size"},
    {"<<16#110000/utf8>>", EDIST_ESYNTAX, 1, 3, "code point"},
    {"<<1/utf8:8>>", EDIST_ESYNTAX, 1, 9, "expected ',' or '>>'"},
    {"<<<<1>>:2/binary>>", EDIST_ESYNTAX, 1, 3, "larger"},
    {"<<1,2", EDIST_ESYNTAX, 1, 6, "expected ',' or '>>'"},
    {"<0.1.2>", EDIST_ESYNTAX, 1, 2, "local node"},
    {"#Pid<n@h.1.2>", EDIST_ESYNTAX, 1, 13, "'/'"},
    {"#Fun<erl_eval.1.2>", EDIST_ESYNTAX, 1, 1, "cannot be parsed"},
    {"#rec{}", EDIST_ESYNTAX, 1, 1, "records"},
    {"fun m:f/256", EDIST_ESYNTAX, 1, 9, "too large"},
    {"fun m/1", EDIST_ESYNTAX, 1, 6, "':'"},
    {"\x80", EDIST_ESYNTAX, 1, 1, "0x80"},
    {"\"\xC3\x28\"", EDIST_EUTF8, 1, 2, "UTF-8"},
    {"'\xff'", EDIST_EUTF8, 1, 2, "UTF-8"},
    {"1 % comment\n\n   ]", EDIST_ESYNTAX, 3, 4, "end of input"},
    {"\"\\x{D800}\"", EDIST_ESYNTAX, 1, 2, "illegal character U+D800"},
    {"'\xEF\xBF\xBE'", EDIST_ESYNTAX, 1, 2, "illegal character U+FFFE"},
    {"4130.125_", EDIST_ESYNTAX, 1, 9, "end of input"},
    {"-(a)", EDIST_ESYNTAX, 1, 2, "number after the sign"},
    {"#[]", EDIST_ESYNTAX, 1, 1, "records"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof errors / sizeof *errors; i++) {
        const struct err_vec *v = &errors[i];
        edist_term t = edist_mk_int(7);
        edist_text_error e;
        int rc = edist_term_parse(arena, v->in, strlen(v->in), NULL, &t, &e);
        if (rc != v->code || e.line != v->line || e.col != v->col ||
            !strstr(e.msg, v->msg_part))
            fail_msg("'%s': got %s %d:%d '%s', want %s %d:%d '...%s...'", v->in,
                     edist_errname(rc), e.line, e.col, e.msg,
                     edist_errname(v->code), v->line, v->col, v->msg_part);
        /* On error the output is untouched. */
        assert_int_equal(t.type, EDIST_TERM_INT);
        assert_int_equal(t.v.i, 7);
    }
    edist_term t;
    assert_int_equal(edist_term_parse(NULL, "1", 1, NULL, &t, NULL),
                     EDIST_EINVAL);
    assert_int_equal(edist_term_parse(arena, NULL, 1, NULL, &t, NULL),
                     EDIST_EINVAL);
    assert_int_equal(edist_term_parse(arena, "1", 1, NULL, NULL, NULL),
                     EDIST_EINVAL);
}

static void test_caps(void **state)
{
    (void)state;
    edist_parse_opts o;
    memset(&o, 0, sizeof o);
    edist_term t;
    edist_text_error e;
    /* Depth: 1000 by default; the cap counts nested terms. */
    char deep[2105];
    memset(deep, '[', 1050);
    memset(deep + 1050, ']', 1050);
    assert_int_equal(edist_term_parse(arena, deep, 2100, NULL, &t, &e),
                     EDIST_EDEPTH);
    o.max_depth = 2000;
    assert_int_equal(edist_term_parse(arena, deep, 2100, &o, &t, &e), 0);
    o.max_depth = 3;
    assert_int_equal(edist_term_parse(arena, "[[1]]", 5, &o, &t, &e), 0);
    assert_int_equal(edist_term_parse(arena, "[[[1]]]", 7, &o, &t, &e),
                     EDIST_EDEPTH);
    assert_int_equal(e.col, 4);
    o.max_depth = 0;
    /* Term count, strings included. */
    o.max_terms = 4;
    assert_int_equal(edist_term_parse(arena, "[1,2,3]", 7, &o, &t, &e), 0);
    assert_int_equal(edist_term_parse(arena, "[1,2,3,4]", 9, &o, &t, &e),
                     EDIST_ETERMS);
    assert_int_equal(edist_term_parse(arena, "\"abcd\"", 6, &o, &t, &e),
                     EDIST_ETERMS);
    o.max_terms = 0;
    /* Input size. */
    o.max_input = 3;
    assert_int_equal(edist_term_parse(arena, "1234", 4, &o, &t, &e),
                     EDIST_ETOOBIG);
    o.max_input = 0;
    /* Atoms: 255 characters at most, quoted or not. */
    char atom[600];
    memset(atom, 'a', 256);
    assert_int_equal(edist_term_parse(arena, atom, 255, NULL, &t, &e), 0);
    assert_int_equal(edist_term_parse(arena, atom, 256, NULL, &t, &e),
                     EDIST_EATOMLEN);
    atom[0] = '\'';
    memset(atom + 1, 'b', 256);
    atom[257] = '\'';
    assert_int_equal(edist_term_parse(arena, atom, 258, NULL, &t, &e),
                     EDIST_EATOMLEN);
    /* Huge integers and segments. */
    char *digits = malloc(9001);
    memset(digits, '9', 9000);
    assert_int_equal(edist_term_parse(arena, digits, 9000, NULL, &t, &e),
                     EDIST_ETOOBIG);
    assert_int_equal(edist_term_parse(arena, digits, 7000, NULL, &t, &e), 0);
    assert_int_equal(t.type, EDIST_TERM_BIGINT);
    free(digits);
    const char *big = "<<0:4000000000>>";
    assert_int_equal(edist_term_parse(arena, big, strlen(big), NULL, &t, &e),
                     EDIST_ETOOBIG);
    /* An arena with a small limit fails cleanly. */
    edist_arena_opts ao = {.limit = 256};
    edist_arena *small = edist_arena_new(&ao);
    const char *l = "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]";
    assert_int_equal(edist_term_parse(small, l, strlen(l), NULL, &t, &e),
                     EDIST_ENOMEM);
    edist_arena_free(small);
}

static void test_ids(void **state)
{
    (void)state;
    edist_parse_opts o;
    memset(&o, 0, sizeof o);
    o.local_node = edist_mk_atom("me@h", 4).v.atom;
    o.local_creation = 5;
    edist_term t;
    assert_int_equal(edist_term_parse(arena, "<0.85.3>", 8, &o, &t, NULL), 0);
    assert_int_equal(t.type, EDIST_TERM_PID);
    assert_int_equal(t.v.pid.id, 85);
    assert_int_equal(t.v.pid.serial, 3);
    assert_int_equal(t.v.pid.creation, 5);
    assert_true(t.v.pid.node.len == 4 &&
                memcmp(t.v.pid.node.name, "me@h", 4) == 0);
    const char *r = "#Ref<0.1.2.3>";
    assert_int_equal(edist_term_parse(arena, r, strlen(r), &o, &t, NULL), 0);
    assert_int_equal(t.type, EDIST_TERM_REF);
    assert_int_equal(t.v.ref.len, 3);
    assert_int_equal(t.v.ref.ids[0], 3);
    assert_int_equal(t.v.ref.ids[2], 1);
    r = "#Port<'a b@c'/7.99>";
    assert_int_equal(edist_term_parse(arena, r, strlen(r), &o, &t, NULL), 0);
    assert_int_equal(t.type, EDIST_TERM_PORT);
    assert_int_equal(t.v.port.id, 99);
    assert_int_equal(t.v.port.creation, 7);
    assert_int_equal(t.v.port.node.len, 5);
    r = "#Ref<n@h/1.1.2.3.4.5.6>";
    assert_int_equal(edist_term_parse(arena, r, strlen(r), &o, &t, NULL),
                     EDIST_ESYNTAX);
    r = "#Pid<n@h/4294967296.1.2>";
    assert_int_equal(edist_term_parse(arena, r, strlen(r), &o, &t, NULL),
                     EDIST_ESYNTAX);
}

/* An allocator that fails every call from the n-th on. */
typedef struct failing {
    long left;
} failing;

static void *f_malloc(size_t n, void *ud)
{
    failing *f = ud;
    return f->left-- > 0 ? malloc(n) : NULL;
}

static void *f_realloc(void *p, size_t n, void *ud)
{
    failing *f = ud;
    return f->left-- > 0 ? realloc(p, n) : NULL;
}

static void f_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

/* Every allocation of parse, ~w and ~p may fail: the result is then
 * EDIST_ENOMEM, never a crash or a leak (ASan checks the leaks). */
static void test_oom_sweep(void **state)
{
    (void)state;
    const char *src =
        "{state, #{k => [1,2|3], 1.0 => <<\"bin\", 7:3>>, \"s\" => x},"
        " 123456789012345678901234567890, [\"abc\", <<1,2,3>>],"
        " fun lists:seq/2, #{a => #{b => [{c, d, 3.5}]}}}";
    int parsed = 0, printed = 0;
    for (long n = 0; n < 400 && !(parsed && printed); n++) {
        failing f = {n};
        edist_allocator al = {f_malloc, f_realloc, f_free, &f};
        edist_arena_opts ao = {&al, 0, 64};
        edist_arena *a = edist_arena_new(&ao);
        if (!a)
            continue;
        edist_parse_opts po;
        memset(&po, 0, sizeof po);
        po.alloc = &al;
        edist_term t;
        int rc = edist_term_parse(a, src, strlen(src), &po, &t, NULL);
        assert_true(rc == 0 || rc == EDIST_ENOMEM);
        if (rc == 0) {
            parsed = 1;
            edist_print_opts o;
            memset(&o, 0, sizeof o);
            o.alloc = &al;
            o.line_length = 30;
            for (int style = 0; style < 2; style++) {
                o.style = style ? EDIST_TEXT_P : EDIST_TEXT_W;
                char buf[1024];
                size_t len;
                long before = f.left;
                for (long m = 0; m < 100; m++) {
                    f.left = m;
                    rc = edist_term_print(&t, &o, buf, sizeof buf, &len);
                    assert_true(rc == 0 || rc == EDIST_ENOMEM);
                    if (rc == 0)
                        break;
                }
                assert_int_equal(rc, 0);
                printed = 1;
                f.left = before;
            }
        }
        edist_arena_free(a);
    }
    assert_true(parsed && printed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),    cmocka_unit_test(test_errors),
        cmocka_unit_test(test_caps),      cmocka_unit_test(test_ids),
        cmocka_unit_test(test_oom_sweep),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
