/* test_handshake.c: the sans-IO handshake, byte vectors and both roles
 * against each other in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "failalloc.h"

#include "core/wire.h"
#include "edist/edist.h"
#include "edist/proto.h"

#define COOKIE "secret"
#define T0     1000000u

static edist_hs_options opts_init(const char *me, const char *peer)
{
    edist_hs_options o = {0};
    o.role = EDIST_HS_INITIATOR;
    o.this_node = me;
    o.this_creation = 0x11223344;
    o.hidden = 1;
    o.cookie = COOKIE;
    o.cookie_len = strlen(COOKIE);
    o.peer_node = peer;
    o.challenge = 1111;
    return o;
}

static edist_hs_options opts_acc(const char *me)
{
    edist_hs_options o = opts_init(me, NULL);
    o.role = EDIST_HS_ACCEPTOR;
    o.this_creation = 0x55667788;
    o.challenge = 2222;
    return o;
}

/* Moves all pending output of from into to; returns feed's result. */
static int pump(edist_hs *from, edist_hs *to, uint64_t now)
{
    const uint8_t *p;
    size_t n = edist_hs_pending(from, &p);
    if (n == 0)
        return 0;
    int rc = edist_hs_feed(to, p, n, now);
    edist_hs_consumed(from, n);
    return rc;
}

static int next_type(edist_hs *hs, edist_hs_event *ev)
{
    return edist_hs_next_event(hs, ev) ? ev->type : 0;
}

/* Feeds a raw packet (adds the 2-byte length). */
static int feed_pkt(edist_hs *hs, const void *p, size_t n, uint64_t now)
{
    uint8_t buf[1024];
    edist_put16(buf, (uint16_t)n);
    memcpy(buf + 2, p, n);
    return edist_hs_feed(hs, buf, n + 2, now);
}

/* Feeds one raw packet to a fresh machine made from o, then frees it;
 * returns the feed's result. */
static int feed_fresh(const edist_hs_options *o, const void *p, size_t n)
{
    edist_hs *hs;
    assert_int_equal(edist_hs_new(&hs, o, T0), 0);
    int rc = feed_pkt(hs, p, n, T0);
    edist_hs_free(hs);
    return rc;
}

/* Takes the next queued packet of hs into out; returns its length. */
static size_t take_pkt(edist_hs *hs, uint8_t *out)
{
    const uint8_t *p;
    size_t n = edist_hs_pending(hs, &p);
    assert_true(n >= 2);
    size_t len = edist_get16(p);
    assert_true(n >= 2 + len);
    memcpy(out, p + 2, len);
    edist_hs_consumed(hs, 2 + len);
    return len;
}

static void test_digest_vector(void **state)
{
    (void)state;
    uint8_t d[16];
    static const uint8_t want[16] = {0x05, 0xaa, 0x7e, 0x5f, 0xf4, 0xb4,
                                     0x94, 0xf6, 0x57, 0x23, 0xbf, 0xf9,
                                     0x87, 0x93, 0x14, 0xe9};
    assert_int_equal(edist_hs_digest("secret", 6, 1324085057u, d), 0);
    assert_memory_equal(d, want, 16);
}

static void test_names_and_flags(void **state)
{
    (void)state;
    assert_int_equal(edist_node_name_check("a@b", 3), 0);
    assert_int_equal(edist_node_name_check("a@b@c", 5), EDIST_EBADNAME);
    assert_int_equal(edist_node_name_check("@b", 2), EDIST_EBADNAME);
    assert_int_equal(edist_node_name_check("a@", 2), EDIST_EBADNAME);
    assert_int_equal(edist_node_name_check("ab", 2), EDIST_EBADNAME);
    assert_int_equal(edist_node_name_check("a\n@b", 4), EDIST_EBADNAME);
    char big[300];
    memset(big, 'x', sizeof big);
    big[5] = '@';
    assert_int_equal(edist_node_name_check(big, 256), EDIST_EBADNAME);
    assert_int_equal(edist_node_name_check(big, 255), 0);

    char buf[128];
    uint64_t f = EDIST_DFLAG_V4_NC | EDIST_DFLAG_UNLINK_ID;
    size_t n = edist_dflags_format(f, buf, sizeof buf);
    assert_string_equal(buf, "UNLINK_ID, V4_NC");
    assert_int_equal(n, strlen("UNLINK_ID, V4_NC"));
    n = edist_dflags_format(f, buf, 5);
    assert_string_equal(buf, "UNLI");
    assert_int_equal(n, 16);
    edist_dflags_format(UINT64_C(1) << 40, buf, sizeof buf);
    assert_string_equal(buf, "UNKNOWN<0x10000000000>");
    assert_int_equal(edist_dflags_format(0, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    assert_string_equal(edist_dflag_name(EDIST_DFLAG_HANDSHAKE_23),
                        "HANDSHAKE_23");
    assert_null(edist_dflag_name(3));
    /* The digest flag stands for exactly the 11 OTP 25 flags (0x1070F94
     * is what erts_internal:get_dflags() reports as mandatory). */
    assert_int_equal(EDIST_DFLAGS_MANDATORY_25, 0x1070F94);
    assert_int_equal(edist_dflags_expand(EDIST_DFLAG_MANDATORY_25_DIGEST),
                     EDIST_DFLAG_MANDATORY_25_DIGEST | 0x1070F94);
    assert_int_equal(edist_hs_simultaneous_rule("b@h", "a@h"),
                     EDIST_HS_STATUS_NOK);
    assert_int_equal(edist_hs_simultaneous_rule("a@h", "b@h"),
                     EDIST_HS_STATUS_OK_SIMULTANEOUS);
}

static void test_send_name_bytes(void **state)
{
    (void)state;
    edist_hs_options o = opts_init("c@host", "b@host");
    edist_hs *hs;
    assert_int_equal(edist_hs_new(&hs, &o, T0), 0);
    const uint8_t *p;
    size_t n = edist_hs_pending(hs, &p);
    assert_int_equal(n, 2 + 15 + 6);
    assert_int_equal(edist_get16(p), 21);
    assert_int_equal(p[2], 'N');
    assert_int_equal(edist_get64(p + 3), EDIST_DFLAGS_DEFAULT);
    assert_int_equal(edist_get32(p + 11), 0x11223344);
    assert_int_equal(edist_get16(p + 15), 6);
    assert_memory_equal(p + 17, "c@host", 6);
    assert_int_equal(edist_hs_next_deadline(hs), T0 + 7000);
    edist_hs_free(hs);

    /* Visible nodes add PUBLISHED. */
    o.hidden = 0;
    assert_int_equal(edist_hs_new(&hs, &o, T0), 0);
    edist_hs_pending(hs, &p);
    assert_int_equal(edist_get64(p + 3),
                     EDIST_DFLAGS_DEFAULT | EDIST_DFLAG_PUBLISHED);
    edist_hs_free(hs);

    assert_int_equal(edist_hs_new(&hs, &o, T0 + 0), 0);
    edist_hs_free(hs);
    o.peer_node = "nohost";
    assert_int_equal(edist_hs_new(&hs, &o, T0), EDIST_EBADNAME);
    o.peer_node = NULL;
    assert_int_equal(edist_hs_new(&hs, &o, T0), EDIST_EINVAL);
    o = opts_init("c@host", "b@host");
    o.cookie_len = 0;
    assert_int_equal(edist_hs_new(&hs, &o, T0), EDIST_EINVAL);
}

/* Runs both roles to the end; the acceptor answers status with `status`.
 * Feeding is done in chunks of `chunk` bytes (0: all at once). */
static void run_pair(edist_hs *a, edist_hs *b, int status, size_t chunk,
                     edist_hs_event *ea, edist_hs_event *eb)
{
    int done_a = 0, done_b = 0;
    for (int round = 0; round < 20 && !(done_a && done_b); round++) {
        const uint8_t *p;
        size_t n;
        while ((n = edist_hs_pending(a, &p)) > 0) {
            size_t k = chunk && chunk < n ? chunk : n;
            edist_hs_feed(b, p, k, T0 + 1);
            edist_hs_consumed(a, k);
        }
        while ((n = edist_hs_pending(b, &p)) > 0) {
            size_t k = chunk && chunk < n ? chunk : n;
            edist_hs_feed(a, p, k, T0 + 1);
            edist_hs_consumed(b, k);
        }
        edist_hs_event ev;
        while (edist_hs_next_event(b, &ev)) {
            if (ev.type == EDIST_HS_EV_NEED_STATUS)
                edist_hs_set_status(b, status, T0 + 1);
            else if (ev.type == EDIST_HS_EV_REPLACE_OLD)
                edist_hs_old_gone(b, T0 + 1);
            else {
                *eb = ev;
                done_b = 1;
            }
        }
        while (edist_hs_next_event(a, &ev)) {
            if (ev.type == EDIST_HS_EV_NEED_ALIVE_REPLY)
                edist_hs_alive_reply(a, 1, T0 + 1);
            else {
                *ea = ev;
                done_a = 1;
            }
        }
    }
}

static void check_completed(size_t chunk, int hidden_a, int hidden_b)
{
    edist_hs_options oa = opts_init("a@host", "b@host");
    edist_hs_options ob = opts_acc("b@host");
    oa.hidden = hidden_a;
    ob.hidden = hidden_b;
    edist_hs *a, *b;
    assert_int_equal(edist_hs_new(&a, &oa, T0), 0);
    assert_int_equal(edist_hs_new(&b, &ob, T0), 0);
    edist_hs_event ea = {0}, eb = {0};
    run_pair(a, b, EDIST_HS_STATUS_OK, chunk, &ea, &eb);
    assert_int_equal(ea.type, EDIST_HS_EV_COMPLETED);
    assert_int_equal(eb.type, EDIST_HS_EV_COMPLETED);
    assert_string_equal(ea.peer_name, "b@host");
    assert_string_equal(eb.peer_name, "a@host");
    assert_int_equal(ea.peer_creation, 0x55667788);
    assert_int_equal(eb.peer_creation, 0x11223344);
    uint64_t want = edist_dflags_expand(EDIST_DFLAGS_DEFAULT);
    want &= EDIST_DFLAGS_DEFAULT;
    int vis = !hidden_a && !hidden_b;
    if (vis)
        want |= EDIST_DFLAG_PUBLISHED;
    assert_int_equal(ea.flags, want);
    assert_int_equal(eb.flags, want);
    assert_int_equal(ea.visible, vis);
    assert_int_equal(eb.visible, vis);
    assert_int_equal(ea.leftover_len, 0);
    assert_int_equal(edist_hs_next_deadline(a), EDIST_NO_DEADLINE);
    assert_int_equal(edist_hs_feed(a, (const uint8_t *)"x", 1, T0),
                     EDIST_ESTATE);
    edist_hs_free(a);
    edist_hs_free(b);
}

static void test_pair_ok(void **state)
{
    (void)state;
    check_completed(0, 1, 1);
    check_completed(1, 1, 1); /* byte at a time */
    check_completed(3, 0, 0);
    check_completed(0, 0, 1);
}

static void test_cookie_mismatch(void **state)
{
    (void)state;
    edist_hs_options oa = opts_init("a@host", "b@host");
    edist_hs_options ob = opts_acc("b@host");
    ob.cookie = "other";
    ob.cookie_len = 5;
    edist_hs *a, *b;
    assert_int_equal(edist_hs_new(&a, &oa, T0), 0);
    assert_int_equal(edist_hs_new(&b, &ob, T0), 0);
    edist_hs_event ea = {0}, eb = {0};
    run_pair(a, b, EDIST_HS_STATUS_OK, 0, &ea, &eb);
    assert_int_equal(eb.type, EDIST_HS_EV_FAILED);
    assert_int_equal(eb.error, EDIST_ECOOKIE);
    assert_non_null(strstr(eb.reason, "cookies"));
    assert_non_null(strstr(eb.reason, "a@host"));
    /* Like BEAM, the acceptor closes without a word. */
    const uint8_t *p;
    assert_int_equal(edist_hs_pending(b, &p), 0);
    assert_int_equal(ea.type, 0);
    assert_int_equal(edist_hs_closed(a, T0 + 2), EDIST_ECOOKIE);
    assert_int_equal(next_type(a, &ea), EDIST_HS_EV_FAILED);
    assert_non_null(strstr(ea.reason, "different cookies"));
    edist_hs_free(a);
    edist_hs_free(b);
}

/* Drives an initiator with hand-made acceptor packets. */
static edist_hs *init_until_challenge(uint64_t peer_flags, const char *name)
{
    edist_hs_options oa = opts_init("a@host", "b@host");
    edist_hs *a;
    assert_int_equal(edist_hs_new(&a, &oa, T0), 0);
    uint8_t out[256];
    take_pkt(a, out);
    assert_int_equal(feed_pkt(a, "sok", 3, T0 + 5), 0);
    assert_int_equal(edist_hs_next_deadline(a), T0 + 5 + 7000);
    uint8_t ch[64];
    ch[0] = 'N';
    edist_put64(ch + 1, peer_flags);
    edist_put32(ch + 9, 1324085057u);
    edist_put32(ch + 13, 77);
    edist_put16(ch + 17, (uint16_t)strlen(name));
    memcpy(ch + 19, name, strlen(name));
    feed_pkt(a, ch, 19 + strlen(name), T0 + 6);
    return a;
}

static void test_initiator_vectors(void **state)
{
    (void)state;
    edist_hs_event ev;
    /* A good challenge gets 'r' with our challenge and the known digest. */
    edist_hs *a = init_until_challenge(EDIST_DFLAGS_DEFAULT, "b@host");
    uint8_t r[64];
    assert_int_equal(take_pkt(a, r), 21);
    assert_int_equal(r[0], 'r');
    assert_int_equal(edist_get32(r + 1), 1111);
    static const uint8_t want[16] = {0x05, 0xaa, 0x7e, 0x5f, 0xf4, 0xb4,
                                     0x94, 0xf6, 0x57, 0x23, 0xbf, 0xf9,
                                     0x87, 0x93, 0x14, 0xe9};
    assert_memory_equal(r + 5, want, 16);
    /* A wrong ack digest is a cookie mismatch. */
    uint8_t ack[17] = {'a'};
    assert_int_equal(feed_pkt(a, ack, 17, T0 + 7), EDIST_ECOOKIE);
    assert_int_equal(next_type(a, &ev), EDIST_HS_EV_FAILED);
    assert_int_equal(ev.error, EDIST_ECOOKIE);
    edist_hs_free(a);

    /* The right ack completes, and bytes behind it are leftover, also when
     * the ack arrives split. */
    a = init_until_challenge(EDIST_DFLAGS_DEFAULT, "b@host");
    take_pkt(a, r);
    uint8_t buf[2 + 17 + 8] = {0, 17, 'a'};
    edist_hs_digest(COOKIE, 6, 1111, buf + 3);
    memcpy(buf + 19, "\0\0\0\0\0\0\0\x01", 8);
    assert_int_equal(edist_hs_feed(a, buf, 5, T0 + 8), 0);
    assert_int_equal(next_type(a, &ev), 0);
    assert_int_equal(edist_hs_feed(a, buf + 5, sizeof buf - 5, T0 + 8), 0);
    assert_int_equal(next_type(a, &ev), EDIST_HS_EV_COMPLETED);
    assert_int_equal(ev.leftover_len, 8);
    assert_memory_equal(ev.leftover, buf + 19, 8);
    assert_int_equal(ev.peer_creation, 77);
    edist_hs_free(a);

    /* The challenge must carry exactly the name we dialled. */
    a = init_until_challenge(EDIST_DFLAGS_DEFAULT, "b@host.example");
    assert_int_equal(next_type(a, &ev), EDIST_HS_EV_FAILED);
    assert_int_equal(ev.error, EDIST_ENAMEMISMATCH);
    assert_non_null(strstr(ev.reason, "b@host.example"));
    edist_hs_free(a);

    /* A peer without V4_NC and UNLINK_ID (an OTP 25 set minimum) is
     * refused, and the reason names both flags. */
    a = init_until_challenge(EDIST_DFLAGS_MANDATORY_25, "b@host");
    assert_int_equal(next_type(a, &ev), EDIST_HS_EV_FAILED);
    assert_int_equal(ev.error, EDIST_EFLAGS);
    assert_int_equal(ev.missing_flags,
                     EDIST_DFLAG_V4_NC | EDIST_DFLAG_UNLINK_ID);
    assert_non_null(strstr(ev.reason, "UNLINK_ID, V4_NC"));
    edist_hs_free(a);

    /* MANDATORY_25_DIGEST stands in for the 11 OTP 25 flags. */
    a = init_until_challenge(EDIST_DFLAG_MANDATORY_25_DIGEST |
                                 EDIST_DFLAG_V4_NC | EDIST_DFLAG_UNLINK_ID,
                             "b@host");
    assert_int_equal(take_pkt(a, r), 21);
    assert_int_equal(next_type(a, &ev), 0);
    edist_hs_free(a);
}

static void expect_status_failure(const char *status, int code,
                                  const char *needle)
{
    edist_hs_options oa = opts_init("a@host", "b@host");
    edist_hs *a;
    edist_hs_event ev;
    assert_int_equal(edist_hs_new(&a, &oa, T0), 0);
    assert_int_equal(feed_pkt(a, status, strlen(status), T0), code);
    assert_int_equal(next_type(a, &ev), EDIST_HS_EV_FAILED);
    assert_int_equal(ev.error, code);
    assert_non_null(strstr(ev.reason, needle));
    edist_hs_free(a);
}

static void test_status_codes(void **state)
{
    (void)state;
    expect_status_failure("snot_allowed", EDIST_ENOTALLOWED, "not_allowed");
    expect_status_failure("snok", EDIST_ENOK, "simultaneous");
    expect_status_failure("sbogus", EDIST_EHANDSHAKE, "bogus");
    expect_status_failure("snamed:\0\5x@hst\0\0\0\7", EDIST_EHANDSHAKE,
                          "did not ask");
    expect_status_failure("xok", EDIST_EHANDSHAKE, "status");
    /* ok_simultaneous continues. */
    edist_hs_options oa = opts_init("a@host", "b@host");
    edist_hs *a;
    edist_hs_event ev;
    assert_int_equal(edist_hs_new(&a, &oa, T0), 0);
    assert_int_equal(feed_pkt(a, "sok_simultaneous", 16, T0), 0);
    assert_int_equal(next_type(a, &ev), 0);
    /* An empty packet is a violation. */
    assert_int_equal(edist_hs_feed(a, (const uint8_t *)"\0\0", 2, T0),
                     EDIST_EHANDSHAKE);
    edist_hs_free(a);
}

static void test_alive(void **state)
{
    (void)state;
    for (int proceed = 0; proceed <= 1; proceed++) {
        edist_hs_options oa = opts_init("a@host", "b@host");
        edist_hs_options ob = opts_acc("b@host");
        edist_hs *a, *b;
        edist_hs_event ev;
        assert_int_equal(edist_hs_new(&a, &oa, T0), 0);
        assert_int_equal(edist_hs_new(&b, &ob, T0), 0);
        assert_int_equal(pump(a, b, T0), 0);
        assert_int_equal(next_type(b, &ev), EDIST_HS_EV_NEED_STATUS);
        assert_int_equal(edist_hs_set_status(b, EDIST_HS_STATUS_ALIVE, T0), 0);
        assert_int_equal(pump(b, a, T0), 0);
        assert_int_equal(next_type(a, &ev), EDIST_HS_EV_NEED_ALIVE_REPLY);
        assert_int_equal(edist_hs_alive_reply(b, 1, T0), EDIST_ESTATE);
        int rc = edist_hs_alive_reply(a, proceed, T0);
        assert_int_equal(rc, proceed ? 0 : EDIST_EALIVE);
        assert_int_equal(pump(a, b, T0), proceed ? 0 : EDIST_EALIVE);
        if (!proceed) {
            assert_int_equal(next_type(a, &ev), EDIST_HS_EV_FAILED);
            assert_int_equal(ev.error, EDIST_EALIVE);
            assert_int_equal(next_type(b, &ev), EDIST_HS_EV_FAILED);
            assert_int_equal(ev.error, EDIST_EALIVE);
        } else {
            assert_int_equal(pump(b, a, T0), 0); /* challenge */
            assert_int_equal(pump(a, b, T0), 0); /* reply */
            assert_int_equal(next_type(b, &ev), EDIST_HS_EV_REPLACE_OLD);
            const uint8_t *p;
            assert_int_equal(edist_hs_pending(b, &p), 0); /* no ack yet */
            assert_int_equal(edist_hs_old_gone(b, T0), 0);
            assert_int_equal(next_type(b, &ev), EDIST_HS_EV_COMPLETED);
            assert_int_equal(ev.replaced_old, 1);
            assert_int_equal(pump(b, a, T0), 0);
            assert_int_equal(next_type(a, &ev), EDIST_HS_EV_COMPLETED);
        }
        edist_hs_free(a);
        edist_hs_free(b);
    }
}

static void test_acceptor_decisions(void **state)
{
    (void)state;
    int codes[] = {EDIST_HS_STATUS_NOK, EDIST_HS_STATUS_NOT_ALLOWED};
    int errs[] = {EDIST_ENOK, EDIST_ENOTALLOWED};
    const char *texts[] = {"snok", "snot_allowed"};
    for (int i = 0; i < 2; i++) {
        edist_hs_options oa = opts_init("a@host", "b@host");
        edist_hs_options ob = opts_acc("b@host");
        edist_hs *a, *b;
        edist_hs_event ev;
        assert_int_equal(edist_hs_new(&a, &oa, T0), 0);
        assert_int_equal(edist_hs_new(&b, &ob, T0), 0);
        assert_int_equal(edist_hs_set_status(b, EDIST_HS_STATUS_OK, T0),
                         EDIST_ESTATE);
        pump(a, b, T0);
        assert_int_equal(next_type(b, &ev), EDIST_HS_EV_NEED_STATUS);
        assert_string_equal(ev.peer_name, "a@host");
        assert_int_equal(ev.name_me, 0);
        assert_int_equal(edist_hs_set_status(b, 99, T0), EDIST_EINVAL);
        assert_int_equal(edist_hs_set_status(b, codes[i], T0), errs[i]);
        uint8_t pkt[64];
        size_t n = take_pkt(b, pkt);
        assert_int_equal(n, strlen(texts[i]));
        assert_memory_equal(pkt, texts[i], n);
        assert_int_equal(next_type(b, &ev), EDIST_HS_EV_FAILED);
        assert_int_equal(ev.error, errs[i]);
        edist_hs_free(a);
        edist_hs_free(b);
    }
}

/* Builds an old-style 'n' name packet. */
static size_t old_name(uint8_t *p, uint32_t flags, const char *name)
{
    p[0] = 'n';
    edist_put16(p + 1, 5);
    edist_put32(p + 3, flags);
    memcpy(p + 7, name, strlen(name));
    return 7 + strlen(name);
}

static void test_old_name_and_complement(void **state)
{
    (void)state;
    edist_hs_options ob = opts_acc("b@host");
    edist_hs *b;
    edist_hs_event ev;
    uint8_t pkt[128];
    uint32_t low = (uint32_t)(EDIST_DFLAGS_DEFAULT & 0xffffffffu);

    assert_int_equal(edist_hs_new(&b, &ob, T0), 0);
    assert_int_equal(feed_pkt(b, pkt, old_name(pkt, low, "a@host"), T0), 0);
    assert_int_equal(next_type(b, &ev), EDIST_HS_EV_NEED_STATUS);
    assert_int_equal(edist_hs_set_status(b, EDIST_HS_STATUS_OK, T0), 0);
    assert_int_equal(take_pkt(b, pkt), 3);
    size_t n = take_pkt(b, pkt); /* 'N' challenge even for 'n' names */
    assert_int_equal(pkt[0], 'N');
    assert_int_equal(n, 19 + 6);
    uint32_t chal = edist_get32(pkt + 9);
    assert_int_equal(chal, 2222);
    uint8_t c[9] = {'c'};
    edist_put32(c + 1, (uint32_t)(EDIST_DFLAGS_DEFAULT >> 32));
    edist_put32(c + 5, 4242);
    assert_int_equal(feed_pkt(b, c, 9, T0), 0);
    uint8_t r[21] = {'r'};
    edist_put32(r + 1, 99);
    edist_hs_digest(COOKIE, 6, chal, r + 5);
    assert_int_equal(feed_pkt(b, r, 21, T0), 0);
    n = take_pkt(b, pkt);
    assert_int_equal(n, 17);
    uint8_t want[16];
    edist_hs_digest(COOKIE, 6, 99, want);
    assert_memory_equal(pkt + 1, want, 16);
    assert_int_equal(next_type(b, &ev), EDIST_HS_EV_COMPLETED);
    assert_int_equal(ev.peer_creation, 4242);
    assert_true(ev.flags & EDIST_DFLAG_V4_NC);
    edist_hs_free(b);

    /* 'n' without HANDSHAKE_23 is a pre-OTP-23 node: not_allowed. */
    assert_int_equal(edist_hs_new(&b, &ob, T0), 0);
    n = old_name(pkt, low & ~(uint32_t)EDIST_DFLAG_HANDSHAKE_23, "a@host");
    assert_int_equal(feed_pkt(b, pkt, n, T0), EDIST_EFLAGS);
    assert_int_equal(next_type(b, &ev), EDIST_HS_EV_FAILED);
    assert_int_equal(ev.missing_flags, EDIST_DFLAG_HANDSHAKE_23);
    assert_int_equal(take_pkt(b, pkt), 12);
    assert_memory_equal(pkt, "snot_allowed", 12);
    edist_hs_free(b);

    /* A complement without V4_NC is refused after the fact. */
    assert_int_equal(edist_hs_new(&b, &ob, T0), 0);
    feed_pkt(b, pkt, old_name(pkt, low, "a@host"), T0);
    next_type(b, &ev);
    edist_hs_set_status(b, EDIST_HS_STATUS_OK, T0);
    edist_put32(c + 1, 0);
    assert_int_equal(feed_pkt(b, c, 9, T0), EDIST_EFLAGS);
    assert_int_equal(next_type(b, &ev), EDIST_HS_EV_FAILED);
    assert_int_equal(ev.missing_flags, EDIST_DFLAG_V4_NC);
    edist_hs_free(b);
}

static void test_acceptor_refuses_flags_and_names(void **state)
{
    (void)state;
    edist_hs_options ob = opts_acc("b@host");
    edist_hs *b;
    edist_hs_event ev;
    uint8_t p[64] = {'N'};
    edist_put64(p + 1, EDIST_DFLAGS_MANDATORY_25);
    edist_put32(p + 9, 5);
    edist_put16(p + 13, 6);
    memcpy(p + 15, "a@host", 6);
    assert_int_equal(edist_hs_new(&b, &ob, T0), 0);
    assert_int_equal(feed_pkt(b, p, 21, T0), EDIST_EFLAGS);
    assert_int_equal(next_type(b, &ev), EDIST_HS_EV_FAILED);
    assert_non_null(strstr(ev.reason, "[UNLINK_ID, V4_NC]"));
    assert_non_null(strstr(ev.reason, "a@host"));
    uint8_t out[64];
    assert_int_equal(take_pkt(b, out), 12);
    assert_memory_equal(out, "snot_allowed", 12);
    edist_hs_free(b);

    /* Bad names: no '@', two '@', name length past the packet. */
    const char *bad[] = {"ahost", "a@b@c", "@host"};
    for (int i = 0; i < 3; i++) {
        edist_put64(p + 1, EDIST_DFLAGS_DEFAULT);
        edist_put16(p + 13, (uint16_t)strlen(bad[i]));
        memcpy(p + 15, bad[i], strlen(bad[i]));
        assert_int_equal(feed_fresh(&ob, p, 15 + strlen(bad[i])),
                         EDIST_EBADNAME);
    }
    edist_put16(p + 13, 60);
    assert_int_equal(feed_fresh(&ob, p, 21), EDIST_EHANDSHAKE);
    /* Unknown first tag. */
    assert_int_equal(feed_fresh(&ob, "x", 1), EDIST_EHANDSHAKE);
}

static void test_named(void **state)
{
    (void)state;
    edist_hs_options oa = opts_init("host", "b@host");
    oa.name_me = 1;
    oa.hidden = 0;
    edist_hs_options ob = opts_acc("b@host");
    ob.hidden = 0;
    edist_hs *a, *b;
    edist_hs_event ev;
    assert_int_equal(edist_hs_new(&a, &oa, T0), 0);
    const uint8_t *p;
    edist_hs_pending(a, &p);
    assert_int_equal(edist_get64(p + 3),
                     EDIST_DFLAGS_DEFAULT | EDIST_DFLAG_NAME_ME);
    assert_int_equal(edist_get32(p + 11), 0); /* creation unknown */
    assert_int_equal(edist_hs_new(&b, &ob, T0), 0);
    pump(a, b, T0);
    assert_int_equal(next_type(b, &ev), EDIST_HS_EV_NEED_STATUS);
    assert_int_equal(ev.name_me, 1);
    assert_string_equal(ev.peer_name, "host");
    assert_int_equal(edist_hs_set_status(b, EDIST_HS_STATUS_OK, T0),
                     EDIST_EINVAL);
    assert_int_equal(edist_hs_set_named(b, "X@other", 77, T0), EDIST_EBADNAME);
    assert_int_equal(edist_hs_set_named(b, "X@host", 2, T0), EDIST_EINVAL);
    assert_int_equal(edist_hs_set_named(b, "1FRRU7@host", 77, T0), 0);
    uint8_t pkt[64];
    size_t n = take_pkt(b, pkt);
    assert_int_equal(n, 1 + 6 + 2 + 11 + 4);
    assert_memory_equal(pkt,
                        "snamed:\0\x0b"
                        "1FRRU7@host\0\0\0\x4d",
                        n);
    /* Re-queue the named status for the initiator. */
    feed_pkt(a, pkt, n, T0);
    n = take_pkt(b, pkt); /* challenge: NAME_ME, no PUBLISHED */
    assert_int_equal(edist_get64(pkt + 1),
                     EDIST_DFLAGS_DEFAULT | EDIST_DFLAG_NAME_ME);
    feed_pkt(a, pkt, n, T0);
    pump(a, b, T0);
    pump(b, a, T0);
    assert_int_equal(next_type(a, &ev), EDIST_HS_EV_COMPLETED);
    assert_string_equal(ev.this_name, "1FRRU7@host");
    assert_int_equal(ev.this_creation, 77);
    assert_int_equal(ev.visible, 0);
    assert_int_equal(next_type(b, &ev), EDIST_HS_EV_COMPLETED);
    assert_string_equal(ev.peer_name, "1FRRU7@host");
    edist_hs_free(a);
    edist_hs_free(b);

    /* A named: status for another host is refused. */
    assert_int_equal(feed_fresh(&oa, "snamed:\0\4X@zz\0\0\0\x4d", 17),
                     EDIST_ENAMEMISMATCH);
    /* With NAME_ME only named: or not_allowed are valid. */
    assert_int_equal(feed_fresh(&oa, "sok", 3), EDIST_EHANDSHAKE);
}

static void test_timeouts_and_close(void **state)
{
    (void)state;
    edist_hs_options oa = opts_init("a@host", "b@host");
    oa.setup_timeout_ms = 500;
    edist_hs *a;
    edist_hs_event ev;
    assert_int_equal(edist_hs_new(&a, &oa, T0), 0);
    assert_int_equal(edist_hs_next_deadline(a), T0 + 500);
    assert_int_equal(edist_hs_feed(a, NULL, 0, T0 + 499), 0);
    assert_int_equal(edist_hs_feed(a, NULL, 0, T0 + 500), EDIST_ETIMEDOUT);
    assert_int_equal(next_type(a, &ev), EDIST_HS_EV_FAILED);
    assert_non_null(strstr(ev.reason, "the status"));
    assert_int_equal(edist_hs_next_deadline(a), EDIST_NO_DEADLINE);
    assert_int_equal(edist_hs_closed(a, T0), EDIST_ESTATE);
    edist_hs_free(a);

    /* A close before the status explains the usual cause. */
    assert_int_equal(edist_hs_new(&a, &oa, T0), 0);
    assert_int_equal(edist_hs_closed(a, T0), EDIST_ECLOSED);
    next_type(a, &ev);
    assert_non_null(strstr(ev.reason, "refused our name"));
    edist_hs_free(a);

    /* The acceptor's timer covers waiting for the runtime, too. */
    edist_hs_options ob = opts_acc("b@host");
    edist_hs *b;
    assert_int_equal(edist_hs_new(&b, &ob, T0), 0);
    assert_int_equal(edist_hs_closed(b, T0), EDIST_ECLOSED);
    edist_hs_free(b);
    assert_int_equal(edist_hs_new(&a, &oa, T0), 0);
    assert_int_equal(edist_hs_new(&b, &ob, T0), 0);
    pump(a, b, T0 + 100);
    assert_int_equal(next_type(b, &ev), EDIST_HS_EV_NEED_STATUS);
    assert_int_equal(edist_hs_next_deadline(b), T0 + 100 + 7000);
    assert_int_equal(edist_hs_feed(b, NULL, 0, T0 + 7100), EDIST_ETIMEDOUT);
    next_type(b, &ev);
    assert_non_null(strstr(ev.reason, "status decision"));
    edist_hs_free(a);
    edist_hs_free(b);

    /* Closing after our challenge hints at a name mismatch. */
    assert_int_equal(edist_hs_new(&a, &oa, T0), 0);
    assert_int_equal(edist_hs_new(&b, &ob, T0), 0);
    pump(a, b, T0);
    next_type(b, &ev);
    edist_hs_set_status(b, EDIST_HS_STATUS_OK, T0);
    assert_int_equal(edist_hs_closed(b, T0), EDIST_ECLOSED);
    next_type(b, &ev);
    assert_non_null(strstr(ev.reason, "short vs long"));
    edist_hs_free(a);
    edist_hs_free(b);
}

/* Both nodes dial each other at once; each acceptor applies BEAM's rule
 * with its own attempt pending: exactly one connection survives, the one
 * dialled by the node whose name sorts higher. */
static void test_simultaneous_connect(void **state)
{
    (void)state;
    edist_hs_options o1 = opts_init("a@h", "b@h"), o2 = opts_init("b@h", "a@h");
    edist_hs_options ab = opts_acc("b@h"), aa = opts_acc("a@h");
    edist_hs *a_dials, *b_dials, *b_accepts, *a_accepts;
    edist_hs_event ev;
    assert_int_equal(edist_hs_new(&a_dials, &o1, T0), 0);
    assert_int_equal(edist_hs_new(&b_dials, &o2, T0), 0);
    assert_int_equal(edist_hs_new(&b_accepts, &ab, T0), 0);
    assert_int_equal(edist_hs_new(&a_accepts, &aa, T0), 0);
    pump(a_dials, b_accepts, T0);
    pump(b_dials, a_accepts, T0);
    assert_int_equal(next_type(b_accepts, &ev), EDIST_HS_EV_NEED_STATUS);
    int sb = edist_hs_simultaneous_rule("b@h", ev.peer_name);
    assert_int_equal(sb, EDIST_HS_STATUS_NOK);
    assert_int_equal(edist_hs_set_status(b_accepts, sb, T0), EDIST_ENOK);
    assert_int_equal(next_type(a_accepts, &ev), EDIST_HS_EV_NEED_STATUS);
    int sa = edist_hs_simultaneous_rule("a@h", ev.peer_name);
    assert_int_equal(sa, EDIST_HS_STATUS_OK_SIMULTANEOUS);
    assert_int_equal(edist_hs_set_status(a_accepts, sa, T0), 0);
    /* a's own attempt learns nok; b's attempt completes. */
    assert_int_equal(pump(b_accepts, a_dials, T0), EDIST_ENOK);
    assert_int_equal(next_type(a_dials, &ev), EDIST_HS_EV_FAILED);
    assert_int_equal(ev.error, EDIST_ENOK);
    edist_hs_event ea = {0}, eb = {0};
    run_pair(b_dials, a_accepts, EDIST_HS_STATUS_OK, 0, &eb, &ea);
    assert_int_equal(eb.type, EDIST_HS_EV_COMPLETED);
    assert_int_equal(ea.type, EDIST_HS_EV_COMPLETED);
    assert_string_equal(ea.peer_name, "b@h");
    edist_hs_free(a_dials);
    edist_hs_free(b_dials);
    edist_hs_free(a_accepts);
    edist_hs_free(b_accepts);
}

static void test_flood(void **state)
{
    (void)state;
    /* A peer that keeps sending while we wait for the runtime cannot make
     * us buffer without bound. */
    edist_hs_options ob = opts_acc("b@host");
    edist_hs *b;
    assert_int_equal(edist_hs_new(&b, &ob, T0), 0);
    uint8_t p[64] = {'N'};
    edist_put64(p + 1, EDIST_DFLAGS_DEFAULT);
    edist_put16(p + 13, 6);
    memcpy(p + 15, "a@host", 6);
    feed_pkt(b, p, 21, T0);
    static uint8_t junk[200000];
    memset(junk, 0x41, sizeof junk);
    assert_int_equal(edist_hs_feed(b, junk, sizeof junk, T0), EDIST_EHANDSHAKE);
    edist_hs_free(b);
}

/* OOM sweep: fail the Nth allocation until a full handshake (with leftover
 * bytes) succeeds; every failure must be clean (ASan checks leaks). */
static void test_oom_sweep(void **state)
{
    (void)state;
    edist_allocator al = {failalloc_malloc, failalloc_realloc, failalloc_free,
                          NULL};
    int n;
    for (n = 0; n < 500; n++) {
        edist_hs_options oa = opts_init("a@host", "b@host");
        edist_hs_options ob = opts_acc("b@host");
        oa.alloc = &al;
        ob.alloc = &al;
        failalloc_left = n;
        edist_hs *a = NULL, *b = NULL;
        int ra = edist_hs_new(&a, &oa, T0);
        int rb = ra == 0 ? edist_hs_new(&b, &ob, T0) : -1;
        if (ra == 0 && rb == 0) {
            edist_hs_event ea = {0}, eb = {0};
            run_pair(a, b, EDIST_HS_STATUS_OK, 7, &ea, &eb);
            int ok = ea.type == EDIST_HS_EV_COMPLETED &&
                     eb.type == EDIST_HS_EV_COMPLETED;
            if (!ok && ea.type == EDIST_HS_EV_FAILED)
                assert_true(ea.reason && ea.reason[0]);
            edist_hs_free(a);
            edist_hs_free(b);
            if (ok)
                break;
        } else {
            assert_int_equal(ra == 0 ? rb : ra, EDIST_ENOMEM);
            edist_hs_free(a);
        }
    }
    assert_true(n > 0 && n < 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_vector),
        cmocka_unit_test(test_names_and_flags),
        cmocka_unit_test(test_send_name_bytes),
        cmocka_unit_test(test_pair_ok),
        cmocka_unit_test(test_cookie_mismatch),
        cmocka_unit_test(test_initiator_vectors),
        cmocka_unit_test(test_status_codes),
        cmocka_unit_test(test_alive),
        cmocka_unit_test(test_acceptor_decisions),
        cmocka_unit_test(test_old_name_and_complement),
        cmocka_unit_test(test_acceptor_refuses_flags_and_names),
        cmocka_unit_test(test_named),
        cmocka_unit_test(test_timeouts_and_close),
        cmocka_unit_test(test_simultaneous_connect),
        cmocka_unit_test(test_flood),
        cmocka_unit_test(test_oom_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
