/* test_epmd_msg.c: EPMD messages, byte vectors for every request and reply
 * and every validation edge (src/proto/epmd_msg.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edist/edist.h"
#include "edist/epmd.h"

/* Builds "Len | body" into out; returns the packet size. */
static size_t pkt(uint8_t *out, const uint8_t *body, size_t n)
{
    out[0] = (uint8_t)(n >> 8);
    out[1] = (uint8_t)n;
    memcpy(out + 2, body, n);
    return n + 2;
}

/* An ALIVE2 body with name nm[0..nl) and extra ex[0..el). */
static size_t alive_body(uint8_t *b, const uint8_t *nm, size_t nl,
                         const uint8_t *ex, size_t el, uint16_t hi)
{
    uint8_t head[] = {120, 0x8a, 0x05, 77, 0, 0, 0, 0, 5};
    head[5] = (uint8_t)(hi >> 8), head[6] = (uint8_t)hi;
    memcpy(b, head, sizeof head);
    b[9] = (uint8_t)(nl >> 8), b[10] = (uint8_t)nl;
    memcpy(b + 11, nm, nl);
    b[11 + nl] = (uint8_t)(el >> 8), b[12 + nl] = (uint8_t)el;
    if (el)
        memcpy(b + 13 + nl, ex, el);
    return 13 + nl + el;
}

static void test_alive2_req_vector(void **state)
{
    (void)state;
    /* Captured from BEAM (-sname zz): protocol.md 1.2. */
    static const uint8_t beam[] = {0x00, 0x0f, 0x78, 0x8a, 0x05, 0x4d,
                                   0x00, 0x00, 0x06, 0x00, 0x05, 0x00,
                                   0x02, 0x7a, 0x7a, 0x00, 0x00};
    edist_epmd_request r;
    assert_int_equal(edist_epmd_parse_request(beam, sizeof beam, &r), 17);
    assert_int_equal(r.type, EDIST_EPMD_ALIVE2_REQ);
    assert_int_equal(r.alive.port, 35333);
    assert_int_equal(r.alive.node_type, 77);
    assert_int_equal(r.alive.protocol, 0);
    assert_int_equal(r.alive.high_vsn, 6);
    assert_int_equal(r.alive.low_vsn, 5);
    assert_int_equal(r.alive.name_len, 2);
    assert_memory_equal(r.alive.name, "zz", 2);
    assert_int_equal(r.alive.extra_len, 0);
    assert_int_equal(edist_epmd_check_alive2(&r.alive), 0);
    /* Every prefix needs more. */
    for (size_t i = 0; i < sizeof beam; i++)
        assert_int_equal(edist_epmd_parse_request(beam, i, &r), 0);
    /* Re-encoding gives the same bytes. */
    uint8_t out[64];
    assert_int_equal(edist_epmd_encode_alive2_req(out, sizeof out, &r.alive),
                     17);
    assert_memory_equal(out, beam, 17);
    assert_int_equal(edist_epmd_encode_alive2_req(out, 16, &r.alive),
                     EDIST_ETOOBIG);
}

static void test_alive2_edges(void **state)
{
    (void)state;
    uint8_t b[4000], p[4100];
    edist_epmd_request r;
    /* Binary extra with NULs is echoed; bytes after Extra are ignored. */
    const uint8_t ex[] = {0, 1, 0, 2};
    size_t n = alive_body(b, (const uint8_t *)"n", 1, ex, 4, 6);
    b[n] = 0xee, b[n + 1] = 0xff;
    size_t pn = pkt(p, b, n + 2);
    assert_int_equal(edist_epmd_parse_request(p, pn, &r), (int)pn);
    assert_int_equal(r.alive.extra_len, 4);
    assert_memory_equal(r.alive.extra, ex, 4);
    /* bsize 13 (no room for a name) and less: silent close. */
    uint8_t s13[] = {120, 0, 1, 77, 0, 0, 6, 0, 5, 0, 0, 0, 0};
    pn = pkt(p, s13, 13);
    assert_int_equal(edist_epmd_parse_request(p, pn, &r), EDIST_EBADMSG);
    pn = pkt(p, s13, 12);
    assert_int_equal(edist_epmd_parse_request(p, pn, &r), EDIST_EBADMSG);
    /* An empty name with one trailing byte passes the parser and the
     * checks, as in OTP (bsize 14, Nlen 0). */
    uint8_t e14[] = {120, 0, 1, 77, 0, 0, 6, 0, 5, 0, 0, 0, 0, 9};
    pn = pkt(p, e14, 14);
    assert_int_equal(edist_epmd_parse_request(p, pn, &r), 16);
    assert_int_equal(r.alive.name_len, 0);
    assert_int_equal(edist_epmd_check_alive2(&r.alive), 0);
    /* Nlen past the end; Elen past the end. */
    n = alive_body(b, (const uint8_t *)"ab", 2, NULL, 0, 6);
    b[10] = 3;
    pn = pkt(p, b, n);
    assert_int_equal(edist_epmd_parse_request(p, pn, &r), EDIST_EBADMSG);
    n = alive_body(b, (const uint8_t *)"ab", 2, NULL, 0, 6);
    b[14] = 1;
    pn = pkt(p, b, n);
    assert_int_equal(edist_epmd_parse_request(p, pn, &r), EDIST_EBADMSG);
    /* NUL inside or at the end of the name. */
    n = alive_body(b, (const uint8_t *)"a\0b", 3, NULL, 0, 6);
    pn = pkt(p, b, n);
    assert_int_equal(edist_epmd_parse_request(p, pn, &r), EDIST_EBADNAME);
    n = alive_body(b, (const uint8_t *)"ab\0", 3, NULL, 0, 6);
    pn = pkt(p, b, n);
    assert_int_equal(edist_epmd_parse_request(p, pn, &r), EDIST_EBADNAME);
}

static void test_alive2_checks(void **state)
{
    (void)state;
    uint8_t name[1100], extra[1100];
    edist_epmd_node_info n = {0};
    n.name = name;
    n.extra = extra;
    memset(name, 'a', sizeof name);
    memset(extra, 0, sizeof extra);
    n.name_len = 255;
    assert_int_equal(edist_epmd_check_alive2(&n), 0);
    n.name_len = 256;
    assert_int_equal(edist_epmd_check_alive2(&n), EDIST_ETOOBIG);
    /* 255 four-byte characters = 1020 bytes: fine; one more byte: no. */
    for (int i = 0; i < 255; i++)
        memcpy(name + 4 * i, "\xf0\x9f\x98\x80", 4);
    n.name_len = 1020;
    assert_int_equal(edist_epmd_check_alive2(&n), 0);
    name[1020] = 'a';
    n.name_len = 1021;
    assert_int_equal(edist_epmd_check_alive2(&n), EDIST_ETOOBIG);
    /* Strict UTF-8: overlong, surrogate, > U+10FFFF, truncated, stray. */
    static const char *bad[] = {
        "a\xc0\x80", "a\xed\xa0\x80", "a\xf4\x90\x80\x80",
        "a\xc3",     "a\x80",         "a\xe2\x82"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        n.name = (const uint8_t *)bad[i];
        n.name_len = strlen(bad[i]);
        assert_int_equal(edist_epmd_check_alive2(&n), EDIST_EUTF8);
    }
    n.name = (const uint8_t *)"ok";
    n.name_len = 2;
    n.extra_len = 1020;
    assert_int_equal(edist_epmd_check_alive2(&n), 0);
    n.extra_len = 1021;
    assert_int_equal(edist_epmd_check_alive2(&n), EDIST_ETOOBIG);
}

static void test_port2_req(void **state)
{
    (void)state;
    uint8_t p[600], b[600];
    edist_epmd_request r;
    static const uint8_t foo[] = {0, 4, 122, 'f', 'o', 'o'};
    assert_int_equal(edist_epmd_parse_request(foo, 6, &r), 6);
    assert_int_equal(r.type, EDIST_EPMD_PORT2_REQ);
    assert_int_equal(r.name_len, 3);
    assert_memory_equal(r.name, "foo", 3);
    uint8_t out[16];
    assert_int_equal(
        edist_epmd_encode_port2_req(out, sizeof out, (const uint8_t *)"foo", 3),
        6);
    assert_memory_equal(out, foo, 6);
    /* One trailing NUL is tolerated, two are not. */
    static const uint8_t nul1[] = {0, 5, 122, 'f', 'o', 'o', 0};
    assert_int_equal(edist_epmd_parse_request(nul1, 7, &r), 7);
    assert_int_equal(r.name_len, 3);
    static const uint8_t nul2[] = {0, 6, 122, 'f', 'o', 'o', 0, 0};
    assert_int_equal(edist_epmd_parse_request(nul2, 8, &r), EDIST_EBADNAME);
    static const uint8_t mid[] = {0, 4, 122, 'f', 0, 'o'};
    assert_int_equal(edist_epmd_parse_request(mid, 6, &r), EDIST_EBADNAME);
    static const uint8_t empty[] = {0, 1, 122};
    assert_int_equal(edist_epmd_parse_request(empty, 3, &r), EDIST_EBADNAME);
    static const uint8_t only_nul[] = {0, 2, 122, 0};
    assert_int_equal(edist_epmd_parse_request(only_nul, 4, &r), EDIST_EBADNAME);
    static const uint8_t bad8[] = {0, 3, 122, 0xc0, 0x80};
    assert_int_equal(edist_epmd_parse_request(bad8, 5, &r), EDIST_EUTF8);
    /* 255 characters are accepted (see docs: OTP refuses them), 256 not. */
    b[0] = 122;
    memset(b + 1, 'c', 256);
    size_t pn = pkt(p, b, 256);
    assert_int_equal(edist_epmd_parse_request(p, pn, &r), (int)pn);
    pn = pkt(p, b, 257);
    assert_int_equal(edist_epmd_parse_request(p, pn, &r), EDIST_EBADNAME);
    /* Encoder refuses what the daemon would refuse. */
    assert_int_equal(edist_epmd_encode_port2_req(out, sizeof out, NULL, 0),
                     EDIST_EINVAL);
    assert_int_equal(edist_epmd_encode_port2_req(out, sizeof out,
                                                 (const uint8_t *)"a\0b", 3),
                     EDIST_EINVAL);
    assert_int_equal(
        edist_epmd_encode_port2_req(out, 5, (const uint8_t *)"foo", 3),
        EDIST_ETOOBIG);
}

static void test_simple_reqs(void **state)
{
    (void)state;
    edist_epmd_request r;
    uint8_t out[8];
    const uint8_t types[] = {EDIST_EPMD_NAMES_REQ, EDIST_EPMD_DUMP_REQ,
                             EDIST_EPMD_KILL_REQ};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(
            edist_epmd_encode_simple_req(out, sizeof out, types[i]), 3);
        assert_int_equal(out[0], 0);
        assert_int_equal(out[1], 1);
        assert_int_equal(out[2], types[i]);
        assert_int_equal(edist_epmd_parse_request(out, 3, &r), 3);
        assert_int_equal(r.type, types[i]);
    }
    assert_int_equal(edist_epmd_encode_simple_req(out, sizeof out, 'q'),
                     EDIST_EINVAL);
    assert_int_equal(edist_epmd_encode_simple_req(out, 2, 'n'), EDIST_ETOOBIG);
    /* A body after NAMES is ignored, as OTP does. */
    static const uint8_t nb[] = {0, 3, 'n', 1, 2};
    assert_int_equal(edist_epmd_parse_request(nb, 5, &r), 5);
    /* STOP: the name as a C string; empty STOP is refused. */
    static const uint8_t stop[] = {0, 6, 's', 'f', 'o', 'o', 0, 'x'};
    assert_int_equal(edist_epmd_parse_request(stop, 8, &r), 8);
    assert_int_equal(r.type, EDIST_EPMD_STOP_REQ);
    assert_int_equal(r.name_len, 3);
    static const uint8_t stop0[] = {0, 1, 's'};
    assert_int_equal(edist_epmd_parse_request(stop0, 3, &r), EDIST_EBADMSG);
    assert_int_equal(
        edist_epmd_encode_stop_req(out, sizeof out, (const uint8_t *)"ab", 2),
        5);
    assert_memory_equal(out, "\0\003sab", 5);
}

static void test_framing(void **state)
{
    (void)state;
    edist_epmd_request r;
    static const uint8_t zero[] = {0, 0};
    assert_int_equal(edist_epmd_parse_request(zero, 2, &r), EDIST_EBADMSG);
    static const uint8_t big[] = {0x0b, 0xf2}; /* 3058 */
    assert_int_equal(edist_epmd_parse_request(big, 2, &r), EDIST_ETOOBIG);
    static const uint8_t max[] = {0x0b, 0xf1, 'n'}; /* 3057: need more */
    assert_int_equal(edist_epmd_parse_request(max, 3, &r), 0);
    static const uint8_t unknown[] = {0, 1, 'q'};
    assert_int_equal(edist_epmd_parse_request(unknown, 3, &r), EDIST_EBADMSG);
    static const uint8_t old_alive[] = {0, 3, 'a', 0, 1};
    assert_int_equal(edist_epmd_parse_request(old_alive, 5, &r), EDIST_EBADMSG);
    assert_int_equal(edist_epmd_parse_request(zero, 1, &r), 0);
    assert_int_equal(edist_epmd_parse_request(zero, 0, &r), 0);
}

static void test_alive2_resp(void **state)
{
    (void)state;
    uint8_t out[8], res;
    uint32_t cr;
    assert_int_equal(
        edist_epmd_encode_alive2_resp(out, sizeof out, 1, 0, 0x6b01b648), 6);
    assert_memory_equal(out, "\x76\x00\x6b\x01\xb6\x48", 6);
    assert_int_equal(edist_epmd_parse_alive2_resp(out, 6, &res, &cr), 6);
    assert_int_equal(res, 0);
    assert_int_equal(cr, 0x6b01b648);
    assert_int_equal(edist_epmd_parse_alive2_resp(out, 5, &res, &cr), 0);
    /* Failure vectors: protocol.md 1.2. */
    assert_int_equal(edist_epmd_encode_alive2_resp(out, sizeof out, 1, 1, 99),
                     6);
    assert_memory_equal(out, "\x76\x01\x00\x00\x00\x63", 6);
    assert_int_equal(edist_epmd_encode_alive2_resp(out, sizeof out, 0, 1, 99),
                     4);
    assert_memory_equal(out, "\x79\x01\x00\x63", 4);
    assert_int_equal(edist_epmd_parse_alive2_resp(out, 4, &res, &cr), 4);
    assert_int_equal(res, 1);
    assert_int_equal(cr, 99);
    assert_int_equal(edist_epmd_parse_alive2_resp(out, 3, &res, &cr), 0);
    assert_int_equal(edist_epmd_parse_alive2_resp(out, 0, &res, &cr), 0);
    assert_int_equal(
        edist_epmd_parse_alive2_resp((const uint8_t *)"w", 1, &res, &cr),
        EDIST_EBADMSG);
    assert_int_equal(edist_epmd_encode_alive2_resp(out, 5, 1, 0, 1),
                     EDIST_ETOOBIG);
}

static void test_port2_resp(void **state)
{
    (void)state;
    /* protocol.md 1.2: "foo" at 5555, v6/6. */
    static const uint8_t vec[] = {0x77, 0, 0x15, 0xb3, 0x4d, 0,   0, 6, 0,
                                  6,    0, 3,    'f',  'o',  'o', 0, 0};
    edist_epmd_port_info pi;
    assert_int_equal(edist_epmd_parse_port2_resp(vec, sizeof vec, &pi), 17);
    assert_int_equal(pi.result, 0);
    assert_int_equal(pi.node.port, 5555);
    assert_int_equal(pi.node.node_type, 77);
    assert_int_equal(pi.node.high_vsn, 6);
    assert_int_equal(pi.node.low_vsn, 6);
    assert_memory_equal(pi.node.name, "foo", 3);
    for (size_t i = 0; i < sizeof vec; i++)
        assert_int_equal(edist_epmd_parse_port2_resp(vec, i, &pi), 0);
    uint8_t out[64];
    assert_int_equal(edist_epmd_encode_port2_resp(out, sizeof out, &pi.node),
                     17);
    assert_memory_equal(out, vec, 17);
    assert_int_equal(edist_epmd_encode_port2_resp(out, 16, &pi.node),
                     EDIST_ETOOBIG);
    /* Not found: exactly 119 1. */
    assert_int_equal(edist_epmd_encode_port2_resp(out, sizeof out, NULL), 2);
    assert_memory_equal(out, "\x77\x01", 2);
    assert_int_equal(edist_epmd_parse_port2_resp(out, 2, &pi), 2);
    assert_int_equal(pi.result, 1);
    assert_int_equal(edist_epmd_parse_port2_resp((const uint8_t *)"v", 1, &pi),
                     EDIST_EBADMSG);
    /* Oversized Nlen in a reply. */
    static const uint8_t huge[] = {0x77, 0, 0, 1, 77,   0,
                                   0,    6, 0, 5, 0xff, 0xff};
    assert_int_equal(edist_epmd_parse_port2_resp(huge, sizeof huge, &pi),
                     EDIST_ETOOBIG);
}

static void test_names_dump_text(void **state)
{
    (void)state;
    uint8_t out[128];
    assert_int_equal(edist_epmd_encode_port_header(out, 4, 4369), 4);
    assert_memory_equal(out, "\0\0\x11\x11", 4);
    int n = edist_epmd_encode_names_line(out, sizeof out,
                                         (const uint8_t *)"bar", 3, 5555);
    assert_int_equal(n, 22);
    assert_memory_equal(out, "name bar at port 5555\n", 22);
    assert_int_equal(
        edist_epmd_encode_names_line(out, 10, (const uint8_t *)"bar", 3, 5555),
        EDIST_ETOOBIG);
    const uint8_t *nm;
    size_t nl;
    uint16_t port;
    assert_int_equal(edist_epmd_parse_names_line(out, 22, &nm, &nl, &port), 22);
    assert_int_equal(nl, 3);
    assert_memory_equal(nm, "bar", 3);
    assert_int_equal(port, 5555);
    assert_int_equal(edist_epmd_parse_names_line(out, 21, &nm, &nl, &port), 0);
    static const char sp[] = "name a at port b at port 7\n";
    assert_int_equal(edist_epmd_parse_names_line((const uint8_t *)sp,
                                                 strlen(sp), &nm, &nl, &port),
                     (int)strlen(sp));
    assert_int_equal(nl, 11);
    assert_int_equal(port, 7);
    static const char bad[] = "nome x at port 1\n";
    assert_int_equal(edist_epmd_parse_names_line((const uint8_t *)bad,
                                                 strlen(bad), &nm, &nl, &port),
                     EDIST_EBADMSG);
    static const char badp[] = "name x at port 99999\n";
    assert_int_equal(edist_epmd_parse_names_line((const uint8_t *)badp,
                                                 strlen(badp), &nm, &nl, &port),
                     EDIST_EBADMSG);
    /* DUMP records carry their NUL terminator. */
    static const char act[] = "active name     <foo> at port 5555, fd = 7\n";
    n = edist_epmd_encode_dump_line(out, sizeof out, 1, (const uint8_t *)"foo",
                                    3, 5555, 7);
    assert_int_equal(n, (int)sizeof act);
    assert_memory_equal(out, act, sizeof act);
    static const char old[] = "old/unused name <foo>, port = 5555, fd = 7 \n";
    n = edist_epmd_encode_dump_line(out, sizeof out, 0, (const uint8_t *)"foo",
                                    3, 5555, 7);
    assert_int_equal(n, (int)sizeof old);
    assert_memory_equal(out, old, sizeof old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alive2_req_vector),
        cmocka_unit_test(test_alive2_edges),
        cmocka_unit_test(test_alive2_checks),
        cmocka_unit_test(test_port2_req),
        cmocka_unit_test(test_simple_reqs),
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_alive2_resp),
        cmocka_unit_test(test_port2_resp),
        cmocka_unit_test(test_names_dump_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
