/*
 * test_global.c: the sans-IO global_name_server (proto/global_int.h)
 * driven by scripted message sequences written as Erlang text: a sync
 * session with a BEAM-like peer step by step, new_nodes and in_sync, the
 * protocol.md 5.4 pitfall (a node we are connected to but not synced with
 * must not be listed in `resolved`), lost_connection / remove_connection
 * under prevent_overlapping_partitions, calls (register, locks) with their
 * replies, connect_all false, tag mismatches; and a small simulated
 * network of edist nodes only (chains, a star, a partition heal) run to
 * quiescence, which must end fully meshed with every node known to all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edist/err.h"
#include "edist/etf.h"
#include "edist/etf_text.h"
#include "proto/global_int.h"

#define T0 (-1000)

/* ------------------------------------------------------------ helpers */

static edist_gl *mk(const char *self, int no_connect_all)
{
    edist_gl_opts o = {0};
    o.self = self;
    o.creation = 3;
    o.server_id = 10;
    o.locker_id = 11;
    o.first_tag = T0;
    o.no_connect_all = no_connect_all;
    edist_gl *g;
    assert_int_equal(edist_gl_new(&o, &g), 0);
    return g;
}

/* Feeds text as a message to global_name_server; returns the result. */
static int feed(edist_gl *g, const char *text)
{
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    edist_text_error err;
    int rc = edist_term_parse(a, text, strlen(text), NULL, &t, &err);
    if (rc < 0)
        fail_msg("parse %s: %s", text, err.msg);
    rc = edist_gl_message(g, "", 0, &t);
    edist_arena_free(a);
    return rc;
}

/* Pops every action, as text lines "KIND node[!]: message" joined by
 * newlines ("!" marks noconnect).  Caller frees. */
static char *take(edist_gl *g)
{
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    edist_gl_action *a;
    while ((a = edist_gl_next(g))) {
        char text[8192] = "";
        if (a->msg) {
            edist_arena *ar = edist_arena_new(NULL);
            edist_term t;
            assert_int_equal(
                edist_etf_decode(ar, a->msg, a->msg_len, NULL, &t, NULL), 0);
            size_t tl;
            edist_term_print(&t, NULL, text, sizeof text, &tl);
            edist_arena_free(ar);
        }
        static const char *const kinds[] = {"?", "SEND", "REPLY", "CONNECT",
                                            "DISCONNECT"};
        char line[9000];
        int n = snprintf(line, sizeof line, "%s %s%s: %s\n", kinds[a->kind],
                         a->node, a->noconnect ? "!" : "", text);
        if (len + (size_t)n + 1 > cap) {
            cap = (cap + (size_t)n) * 2;
            out = realloc(out, cap);
        }
        memcpy(out + len, line, (size_t)n + 1);
        len += (size_t)n;
        edist_gl_action_free(g, a);
    }
    return out;
}

#define HAS(acts, s)                                                           \
    do {                                                                       \
        if (!strstr((acts), (s)))                                              \
            fail_msg("missing <%s> in:\n%s", (s), (acts));                     \
    } while (0)
#define HASNT(acts, s)                                                         \
    do {                                                                       \
        if (strstr((acts), (s)))                                               \
            fail_msg("unexpected <%s> in:\n%s", (s), (acts));                  \
    } while (0)

static int count(const char *acts, const char *s)
{
    int k = 0;
    for (const char *p = acts; (p = strstr(p, s)); p++)
        k++;
    return k;
}

static void up(edist_gl *g, const char *node)
{
    assert_int_equal(edist_gl_peer_up(g, node, strlen(node), 1), 0);
}

static void down(edist_gl *g, const char *node)
{
    assert_int_equal(edist_gl_peer_down(g, node, strlen(node)), 0);
}

static int known(edist_gl *g, const char *node)
{
    return edist_gl_is_known(g, node, strlen(node));
}

#define ME     "#Pid<e@h/3.10.0>"
#define LOCKER "#Pid<e@h/3.11.0>"
#define BLOCK  "#Pid<b@h/1.7.0>"

/* Runs a whole session with b (a BEAM-like peer whose known list is
 * his_known) and returns the actions of its last step. */
static char *sync_with_b(edist_gl *g, const char *his_known)
{
    char buf[1024];
    up(g, "b@h");
    free(take(g));
    feed(g, "{'$gen_cast', {init_connect, {8, -100}, 'b@h', {locker, "
            "no_longer_a_pid, #{}, " BLOCK "}}}");
    free(take(g));
    feed(g, "{'$gen_cast', {lock_set, " BLOCK ", true, [], -1000}}");
    free(take(g));
    feed(g, "{'$gen_cast', {exchange, 'b@h', [], [], -1000}}");
    free(take(g));
    snprintf(buf, sizeof buf,
             "{'$gen_cast', {resolved, 'b@h', [], %s, unused, [], -1000}}",
             his_known);
    feed(g, buf);
    return take(g);
}

/* -------------------------------------------------------------- tests */

static void test_nodeup_init_connect(void **state)
{
    (void)state;
    edist_gl *g = mk("e@h", 0);
    assert_int_equal(edist_gl_peer_up(g, "h@h", 3, 0), 0);
    char *a = take(g);
    assert_string_equal(a, ""); /* hidden: ignored */
    free(a);
    up(g, "b@h");
    a = take(g);
    HAS(a, "SEND b@h: {'$gen_cast',{init_connect,{8,-1000},e@h,{locker,"
           "no_longer_a_pid,[]," LOCKER "}}}");
    assert_int_equal(count(a, "\n"), 1);
    free(a);
    assert_true(edist_gl_in_session(g, "b@h", 3));
    edist_gl_free(g);
}

static void test_session_with_beam(void **state)
{
    (void)state;
    edist_gl *g = mk("e@h", 0);
    up(g, "b@h");
    free(take(g));
    /* His init_connect: we acknowledge with both tags and, holding our
     * lock, offer lock_set. */
    feed(g, "{'$gen_cast', {init_connect, {8, -100}, 'b@h', {locker, "
            "no_longer_a_pid, #{}, " BLOCK "}}}");
    char *a = take(g);
    HAS(a, "SEND b@h!: {init_connect_ack,e@h,-100,-1000}");
    HAS(a, "SEND b@h: {'$gen_cast',{lock_set," LOCKER ",true,[],-100}}");
    free(a);
    /* His locker locks us with the same lock id: granted. */
    feed(g, "{'$gen_call', {" BLOCK ", [alias|#Ref<b@h/1.1.2.3>]}, "
            "{set_lock, {global, [" LOCKER ", " BLOCK "]}}}");
    a = take(g);
    HAS(a, "REPLY b@h: {[alias|#Ref<b@h/1.1.2.3>],true}");
    free(a);
    /* A name registered here before the sync goes out in exchange. */
    feed(g, "{'$gen_call', {" BLOCK ", t1}, {register, mine, "
            "#Pid<x@h/1.1.0>, {global, random_exit_name}}}");
    free(take(g));
    /* His lock_set with our tag: both locks are set, names go out. */
    feed(g, "{'$gen_cast', {lock_set, " BLOCK ", true, [], -1000}}");
    a = take(g);
    HAS(a, "{'$gen_cast',{exchange,e@h,[{mine,#Pid<x@h/1.1.0>,{global,"
           "random_exit_name}}],[],-100}}");
    free(a);
    /* His names: a new one is an op for us; our resolved lists our
     * partition (nobody yet). */
    feed(g, "{'$gen_cast', {exchange, 'b@h', [{foo, #Pid<b@h/1.9.0>, "
            "{global, random_exit_name}}], [], -1000}}");
    a = take(g);
    HAS(a, "SEND b@h: {'$gen_cast',{resolved,e@h,[],[],unused,[],-100}}");
    free(a);
    assert_false(known(g, "b@h"));
    /* His resolved: c is in his partition; we connect to it and tell it
     * we are in sync; b and c are now known; the name is registered. */
    feed(g, "{'$gen_cast', {resolved, 'b@h', [], [{'c@h', 8}], unused, [], "
            "-1000}}");
    a = take(g);
    HAS(a, "CONNECT c@h");
    HAS(a, "SEND c@h: {'$gen_cast',{in_sync,e@h,true}}");
    free(a);
    assert_true(known(g, "b@h"));
    assert_true(known(g, "c@h"));
    assert_false(edist_gl_in_session(g, "b@h", 3));
    assert_int_equal(edist_gl_names_count(g), 2);
    /* b's locker lets go: no lock left (ours went with the session). */
    feed(g, "{'$gen_call', {" BLOCK ", t2}, {del_lock, {global, [" BLOCK
            ", " LOCKER "]}}}");
    a = take(g);
    HAS(a, "REPLY b@h: {t2,true}");
    free(a);
    assert_int_equal(edist_gl_locks_count(g), 0);
    /* get_known answers with the partition. */
    feed(g, "{'$gen_call', {" BLOCK ", t3}, get_known}");
    a = take(g);
    HAS(a, "b@h");
    HAS(a, "c@h");
    free(a);
    edist_gl_free(g);
}

static void test_new_nodes_to_partition(void **state)
{
    (void)state;
    edist_gl *g = mk("e@h", 0);
    free(sync_with_b(g, "[{'c@h', 8}]"));
    /* A third partition joins through d: b and c hear of d and d's
     * partition with the ops. */
    up(g, "d@h");
    free(take(g));
    feed(g, "{'$gen_cast', {init_connect, {8, -200}, 'd@h', {locker, "
            "no_longer_a_pid, #{}, #Pid<d@h/1.7.0>}}}");
    free(take(g));
    feed(g, "{'$gen_cast', {lock_set, #Pid<d@h/1.7.0>, true, [], -999}}");
    free(take(g));
    feed(g, "{'$gen_cast', {exchange, 'd@h', [{dn, #Pid<d@h/1.2.0>, m}], "
            "[], -999}}");
    char *a = take(g);
    /* Our resolved to d lists b and c (synced) with their versions. */
    HAS(a, "resolved,e@h,[],[");
    HAS(a, "{b@h,8}");
    HAS(a, "{c@h,8}");
    free(a);
    feed(g, "{'$gen_cast', {resolved, 'd@h', [], [{'f@h', 8}], unused, [], "
            "-999}}");
    a = take(g);
    HAS(a, "SEND b@h: {'$gen_cast',{new_nodes,e@h,[{insert,{dn,"
           "#Pid<d@h/1.2.0>,m}}],[],[{d@h,8},{f@h,8}],[{vsn,8},{lock,");
    HAS(a, "SEND c@h: {'$gen_cast',{new_nodes,e@h");
    HAS(a, "CONNECT f@h");
    assert_int_equal(count(a, "SEND b@h: {'$gen_cast',{new_nodes"), 1);
    assert_int_equal(count(a, "SEND c@h: {'$gen_cast',{new_nodes"), 1);
    /* The newcomers hear every node we know now (see gl_announce). */
    HAS(a, "SEND d@h: {'$gen_cast',{new_nodes,e@h,[],[],[");
    HAS(a, "SEND f@h: {'$gen_cast',{new_nodes,e@h,[],[],[");
    HASNT(a, "SEND d@h: {'$gen_cast',{new_nodes,e@h,[],[],[{d@h");
    free(a);
    assert_true(known(g, "f@h"));
    assert_true(known(g, "d@h"));
    /* new_nodes from b: the added nodes are connected and told. */
    feed(g, "{'$gen_cast', {new_nodes, 'b@h', [], [], [{'g@h', 8}, {'c@h', "
            "8}, {'e@h', 8}], [{vsn, 8}]}}");
    a = take(g);
    HAS(a, "CONNECT g@h");
    HAS(a, "SEND g@h: {'$gen_cast',{in_sync,e@h,true}}");
    HASNT(a, "CONNECT c@h");
    HASNT(a, "CONNECT e@h");
    free(a);
    edist_gl_free(g);
}

/* protocol.md 5.4 pitfall: x is connected (its session not done) and must
 * not be listed in the resolved we send to y. */
static void test_pitfall_unsynced_not_listed(void **state)
{
    (void)state;
    edist_gl *g = mk("e@h", 0);
    up(g, "x@h");
    feed(g, "{'$gen_cast', {init_connect, {8, -300}, 'x@h', {locker, "
            "no_longer_a_pid, #{}, #Pid<x@h/1.7.0>}}}");
    free(take(g));
    up(g, "y@h");
    free(take(g));
    feed(g, "{'$gen_cast', {init_connect, {8, -400}, 'y@h', {locker, "
            "no_longer_a_pid, #{}, #Pid<y@h/1.7.0>}}}");
    free(take(g));
    /* Our lock is with x's session; y's lock_set is refused for now. */
    feed(g, "{'$gen_cast', {lock_set, #Pid<y@h/1.7.0>, true, [], -999}}");
    char *a = take(g);
    HAS(a, "{lock_set," LOCKER ",false,[],-400}");
    free(a);
    /* x refuses ours (busy elsewhere): our lock goes to y. */
    feed(g, "{'$gen_cast', {lock_set, #Pid<x@h/1.7.0>, false, [], -1000}}");
    a = take(g);
    HAS(a, "SEND y@h: {'$gen_cast',{lock_set," LOCKER ",true,[],-400}}");
    free(a);
    feed(g, "{'$gen_cast', {lock_set, #Pid<y@h/1.7.0>, true, [], -999}}");
    free(take(g));
    feed(g, "{'$gen_cast', {exchange, 'y@h', [], [], -999}}");
    a = take(g);
    HAS(a, "{resolved,e@h,[],[],unused,[],-400}");
    HASNT(a, "x@h");
    free(a);
    feed(g, "{'$gen_cast', {resolved, 'y@h', [], [], unused, [], -999}}");
    free(take(g));
    assert_true(known(g, "y@h"));
    assert_false(known(g, "x@h"));
    /* Our lock is free again, so x (who refused) is not pestered; when x
     * offers, we take it. */
    feed(g, "{'$gen_cast', {lock_set, #Pid<x@h/1.7.0>, true, [], -1000}}");
    a = take(g);
    HAS(a, "SEND x@h: {'$gen_cast',{lock_set," LOCKER ",true,[],-300}}");
    HAS(a, "{exchange,e@h,[],[],-300}");
    free(a);
    feed(g, "{'$gen_cast', {exchange, 'x@h', [], [], -1000}}");
    a = take(g);
    /* Now y is synced and listed. */
    HAS(a, "{resolved,e@h,[],[{y@h,8}],unused,[],-300}");
    free(a);
    edist_gl_free(g);
}

static void test_in_sync_ends_session(void **state)
{
    (void)state;
    edist_gl *g = mk("e@h", 0);
    up(g, "b@h");
    free(take(g));
    assert_true(edist_gl_in_session(g, "b@h", 3));
    feed(g, "{'$gen_cast', {in_sync, 'b@h', true}}");
    char *a = take(g);
    /* b counts us in its partition: so do we, and we tell b, whose own
     * session with us would otherwise wait forever. */
    assert_string_equal(a, "SEND b@h: {'$gen_cast',{in_sync,e@h,true}}\n");
    free(a);
    assert_false(edist_gl_in_session(g, "b@h", 3));
    assert_true(known(g, "b@h"));
    /* Once known, another in_sync is not answered. */
    feed(g, "{'$gen_cast', {in_sync, 'b@h', true}}");
    a = take(g);
    assert_string_equal(a, "");
    free(a);
    edist_gl_free(g);
}

static void test_lost_and_remove_connection(void **state)
{
    (void)state;
    edist_gl *g = mk("e@h", 0);
    free(sync_with_b(g, "[{'c@h', 8}, {'d@h', 8}]"));
    up(g, "c@h");
    up(g, "d@h");
    free(take(g));
    /* b lost c: pass it on (not to b) and ask c to drop us. */
    const char *lost = "{lost_connection, 'b@h', 77, 5, 'c@h'}";
    feed(g, lost);
    char *a = take(g);
    HAS(a, "SEND c@h!: {remove_connection,e@h}");
    HAS(a, "SEND d@h!: {lost_connection,b@h,77,5,c@h}");
    HASNT(a, "SEND b@h");
    HASNT(a, "DISCONNECT");
    free(a);
    assert_false(known(g, "c@h"));
    /* The same report again: already handled. */
    feed(g, lost);
    a = take(g);
    assert_string_equal(a, "");
    free(a);
    /* c goes: we asked for it, so no lost_connection of ours. */
    down(g, "c@h");
    a = take(g);
    assert_string_equal(a, "");
    free(a);
    /* b asks us to drop d: we disconnect it. */
    feed(g, "{remove_connection, 'd@h'}");
    a = take(g);
    HAS(a, "DISCONNECT d@h");
    free(a);
    assert_false(known(g, "d@h"));
    down(g, "d@h");
    a = take(g);
    assert_string_equal(a, "");
    free(a);
    /* A lost_connection naming us: the reporter is asked to drop us. */
    feed(g, "{lost_connection, 'b@h', 77, 6, 'e@h'}");
    a = take(g);
    HAS(a, "SEND b@h!: {remove_connection,e@h}");
    free(a);
    edist_gl_free(g);
}

static void test_we_lose_a_connection(void **state)
{
    (void)state;
    edist_gl *g = mk("e@h", 0);
    free(sync_with_b(g, "[{'c@h', 8}]"));
    up(g, "c@h");
    free(take(g));
    /* Our connection to c dies: we tell our partition (b), noconnect. */
    down(g, "c@h");
    char *a = take(g);
    HAS(a, "SEND b@h!: {lost_connection,e@h,3,");
    HAS(a, ",c@h}");
    HASNT(a, "SEND c@h");
    free(a);
    assert_false(known(g, "c@h"));
    /* A stopping node reports nothing (BEAM's prepare_shutdown). */
    up(g, "d@h");
    feed(g, "{'$gen_cast', {new_nodes, 'b@h', [], [], [{'d@h', 8}], []}}");
    free(take(g));
    assert_true(known(g, "d@h"));
    edist_gl_prepare_shutdown(g);
    down(g, "d@h");
    down(g, "b@h");
    a = take(g);
    assert_string_equal(a, "");
    free(a);
    edist_gl_free(g);
}

static void test_names_and_locks_calls(void **state)
{
    (void)state;
    edist_gl *g = mk("e@h", 0);
    feed(g, "{'$gen_call', {#Pid<b@h/1.1.0>, [alias|#Ref<b@h/1.4.5.6>]}, "
            "{register, {n, 1}, #Pid<b@h/1.2.0>, m}}");
    char *a = take(g);
    HAS(a, "REPLY b@h: {[alias|#Ref<b@h/1.4.5.6>],yes}");
    free(a);
    assert_int_equal(edist_gl_names_count(g), 1);
    feed(g, "{'$gen_call', {#Pid<b@h/1.1.0>, t}, {unregister, {n, 1}}}");
    a = take(g);
    HAS(a, "{t,ok}");
    free(a);
    assert_int_equal(edist_gl_names_count(g), 0);
    /* Locks: one requester at a time per resource. */
    feed(g, "{'$gen_call', {#Pid<b@h/1.1.0>, t}, {set_lock, {res, [a]}}}");
    feed(g, "{'$gen_call', {#Pid<c@h/1.1.0>, t}, {set_lock, {res, [b]}}}");
    feed(g, "{'$gen_call', {#Pid<c@h/1.2.0>, t}, {set_lock, {res, [a]}}}");
    a = take(g);
    HAS(a, "REPLY b@h: {t,true}");
    HAS(a, "REPLY c@h: {t,false}\nREPLY c@h: {t,true}");
    free(a);
    feed(g, "{'$gen_call', {#Pid<b@h/1.1.0>, t}, {del_lock, {res, [a]}}}");
    feed(g, "{'$gen_call', {#Pid<c@h/1.1.0>, t}, {set_lock, {res, [b]}}}");
    a = take(g);
    HAS(a, "{t,false}"); /* c@h/1.2.0 still holds it */
    free(a);
    /* The holder's node goes: its locks and names go with it. */
    up(g, "c@h");
    feed(g, "{'$gen_call', {#Pid<b@h/1.1.0>, t}, {register, z, "
            "#Pid<c@h/1.2.0>, m}}");
    free(take(g));
    down(g, "c@h");
    free(take(g));
    assert_int_equal(edist_gl_locks_count(g), 0);
    assert_int_equal(edist_gl_names_count(g), 0);
    /* Unknown calls get no answer, as from BEAM. */
    feed(g, "{'$gen_call', {#Pid<b@h/1.1.0>, t}, {what, ever}}");
    a = take(g);
    assert_string_equal(a, "");
    free(a);
    feed(g, "{'$gen_call', {#Pid<b@h/1.1.0>, t}, get_protocol_version}");
    a = take(g);
    HAS(a, "{t,8}");
    free(a);
    edist_gl_free(g);
}

/* A register call whose Name is a binary of size bytes starting with tag. */
static int feed_big_register(edist_gl *g, size_t size, uint8_t tag)
{
    static const char text[] = "{'$gen_call', {#Pid<b@h/1.1.0>, t}, "
                               "{register, x, #Pid<b@h/1.2.0>, m}}";
    edist_arena *a = edist_arena_new(NULL);
    edist_term t;
    edist_text_error err;
    assert_int_equal(edist_term_parse(a, text, strlen(text), NULL, &t, &err),
                     0);
    uint8_t *big = calloc(1, size);
    assert_non_null(big);
    big[0] = tag;
    t.v.tuple.elems[2].v.tuple.elems[1] = edist_mk_binary(big, size);
    int rc = edist_gl_message(g, "", 0, &t);
    free(big);
    edist_arena_free(a);
    return rc;
}

/* A hostile peer cannot grow the tables past their caps: the pids holding
 * one lock are bounded (set_lock answers false beyond), and so are the
 * bytes of names, which a count cap alone would not bound. */
static void test_table_caps(void **state)
{
    (void)state;
    edist_gl *g = mk("e@h", 0);
    char msg[160];
    for (unsigned i = 0; i < EDIST_GL_MAX_HOLDERS; i++) {
        snprintf(msg, sizeof msg,
                 "{'$gen_call', {#Pid<b@h/%u.%u.0>, t}, {set_lock, {r, [q]}}}",
                 i & 0x7fff, i >> 15);
        assert_int_equal(feed(g, msg), 0);
        free(take(g));
    }
    assert_int_equal(edist_gl_holders_count(g), EDIST_GL_MAX_HOLDERS);
    assert_int_equal(edist_gl_locks_count(g), 1);
    feed(g, "{'$gen_call', {#Pid<c@h/1.0.0>, t}, {set_lock, {r, [q]}}}");
    feed(g, "{'$gen_call', {#Pid<c@h/1.0.0>, t}, {set_lock, {s, [q]}}}");
    char *a = take(g);
    assert_int_equal(count(a, "{t,false}"), 2);
    free(a);
    assert_int_equal(edist_gl_holders_count(g), EDIST_GL_MAX_HOLDERS);
    /* A holder already in stays true; its node going frees them all. */
    feed(g, "{'$gen_call', {#Pid<b@h/5.0.0>, t}, {set_lock, {r, [q]}}}");
    a = take(g);
    HAS(a, "{t,true}");
    free(a);
    up(g, "b@h");
    down(g, "b@h");
    free(take(g));
    assert_int_equal(edist_gl_holders_count(g), 0);
    assert_int_equal(edist_gl_locks_count(g), 0);
    assert_int_equal(edist_gl_table_bytes(g), 0);

    /* Names of 4 MiB: 15 fit the byte budget with room, then refusals. */
    size_t big = (size_t)4 << 20;
    unsigned stored = 0;
    for (unsigned i = 0; i < 20; i++) {
        size_t before = edist_gl_names_count(g);
        assert_int_equal(feed_big_register(g, big, (uint8_t)i), 0);
        stored += edist_gl_names_count(g) - before;
        a = take(g);
        HAS(a, "{t,yes}"); /* BEAM answers yes whatever happens */
        free(a);
        assert_true(edist_gl_table_bytes(g) <= EDIST_GL_MAX_BYTES);
    }
    assert_int_equal(stored, EDIST_GL_MAX_BYTES / big - 1);
    assert_int_equal(edist_gl_names_count(g), stored);
    /* Re-registering a stored name replaces it (no double count). */
    size_t bytes = edist_gl_table_bytes(g);
    assert_int_equal(feed_big_register(g, big, 0), 0);
    free(take(g));
    assert_int_equal(edist_gl_names_count(g), stored);
    assert_int_equal(edist_gl_table_bytes(g), bytes);
    up(g, "b@h");
    down(g, "b@h");
    free(take(g));
    assert_int_equal(edist_gl_names_count(g), 0);
    assert_int_equal(edist_gl_table_bytes(g), 0);
    /* init_connect is kept for nodes not up yet (BEAM's pre_connect): its
     * locker must be a pid, not any term a peer cares to send. */
    assert_int_equal(feed(g, "{'$gen_cast', {init_connect, {8, -100}, "
                             "'z@h', {locker, no, [], <<1,2,3>>}}}"),
                     EDIST_EBADMSG);
    assert_int_equal(edist_gl_nodes_count(g), 0);
    assert_int_equal(feed(g, "{'$gen_cast', {init_connect, {8, -100}, "
                             "'z@h', {locker, no, [], #Pid<z@h/7.0.0>}}}"),
                     0);
    assert_int_equal(edist_gl_nodes_count(g), 1);
    edist_gl_free(g);
}

static void test_connect_all_false(void **state)
{
    (void)state;
    edist_gl *g = mk("e@h", 1);
    up(g, "b@h");
    char *a = take(g);
    assert_string_equal(a, "");
    free(a);
    feed(g, "{'$gen_cast', {init_connect, {8, -100}, 'b@h', {locker, "
            "no_longer_a_pid, #{}, " BLOCK "}}}");
    feed(g, "{lost_connection, 'b@h', 77, 5, 'c@h'}");
    a = take(g);
    assert_string_equal(a, "");
    free(a);
    /* Calls are still served. */
    feed(g, "{'$gen_call', {" BLOCK ", t}, get_known}");
    a = take(g);
    HAS(a, "{t,[]}");
    free(a);
    edist_gl_free(g);
}

static void test_tag_mismatch_restarts(void **state)
{
    (void)state;
    edist_gl *g = mk("e@h", 0);
    up(g, "b@h");
    feed(g, "{'$gen_cast', {init_connect, {8, -100}, 'b@h', {locker, "
            "no_longer_a_pid, #{}, " BLOCK "}}}");
    free(take(g));
    /* Messages with a stale tag are ignored. */
    feed(g, "{'$gen_cast', {exchange, 'b@h', [], [], -5}}");
    char *a = take(g);
    assert_string_equal(a, "");
    free(a);
    /* An init_connect_ack with the wrong tags: cancel, and start over
     * with a new tag. */
    feed(g, "{init_connect_ack, 'b@h', -77, -100}");
    a = take(g);
    HAS(a, "SEND b@h!: {cancel_connect,e@h,-100}");
    HAS(a, "{init_connect,{8,-999},e@h");
    free(a);
    /* cancel_connect with our current tag: again a new session. */
    feed(g, "{cancel_connect, 'b@h', -999}");
    a = take(g);
    HAS(a, "{init_connect,{8,-998},e@h");
    free(a);
    /* Garbage is refused without harm. */
    assert_int_equal(feed(g, "{'$gen_cast', {init_connect, x, y, z}}"),
                     EDIST_EBADMSG);
    assert_int_equal(feed(g, "{'$gen_call', x, y}"), EDIST_EBADMSG);
    assert_int_equal(feed(g, "[1,2,3]"), EDIST_EBADMSG);
    /* A node position must hold a node name we could dial. */
    assert_int_equal(feed(g, "{'$gen_cast', {init_connect, {8, -3}, nohost, "
                             "{locker, x, #{}, " BLOCK "}}}"),
                     EDIST_EBADMSG);
    assert_int_equal(feed(g, "{remove_connection, 'a\\x{0}@h'}"),
                     EDIST_EBADMSG);
    assert_int_equal(feed(g, "{'$gen_cast', {resolved, 'b@h', [a|b], [], "
                             "unused, [], -998}}"),
                     EDIST_EBADMSG);
    free(take(g));
    edist_gl_free(g);
}

static void test_name_clash(void **state)
{
    (void)state;
    /* We (a@h) are the smaller node: we settle clashes.  The pid on the
     * smaller node keeps the name. */
    edist_gl *g = mk("a@h", 0);
    feed(g, "{'$gen_call', {#Pid<b@h/1.1.0>, t}, {register, n1, "
            "#Pid<z@h/1.2.0>, m}}");
    feed(g, "{'$gen_call', {#Pid<b@h/1.1.0>, t}, {register, n2, "
            "#Pid<c@h/1.2.0>, m}}");
    free(take(g));
    up(g, "b@h");
    feed(g, "{'$gen_cast', {init_connect, {8, -100}, 'b@h', {locker, "
            "no_longer_a_pid, #{}, " BLOCK "}}}");
    feed(g, "{'$gen_cast', {lock_set, " BLOCK ", true, [], -1000}}");
    free(take(g));
    feed(g, "{'$gen_cast', {exchange, 'b@h', [{n1, #Pid<b@h/1.3.0>, m}, "
            "{n2, #Pid<d@h/1.3.0>, m}], [], -1000}}");
    char *a = take(g);
    /* n2: ours (on c) wins over his (on d): he is told. */
    HAS(a, "{resolved,a@h,[{insert,{n2,#Pid<c@h/1.2.0>,m}}]");
    free(a);
    feed(g, "{'$gen_cast', {resolved, 'b@h', [], [], unused, [], -1000}}");
    free(take(g));
    /* n1: his (on b) wins over ours (on z). */
    edist_arena *ar = edist_arena_new(NULL);
    edist_term n1 = edist_mk_atom("n1", 2);
    edist_bytes key;
    edist_etf_encode_opts eo = {0};
    eo.flags = EDIST_ETF_NO_VERSION;
    assert_int_equal(edist_etf_encode(&n1, &eo, &key), 0);
    size_t pl;
    const uint8_t *pid = edist_gl_whereis(g, key.data, key.len, &pl);
    assert_non_null(pid);
    edist_term p;
    edist_etf_decode_opts dop = {0};
    dop.flags = EDIST_ETF_NO_VERSION;
    assert_int_equal(edist_etf_decode(ar, pid, pl, &dop, &p, NULL), 0);
    assert_int_equal(p.type, EDIST_TERM_PID);
    assert_memory_equal(p.v.pid.node.name, "b@h", 3);
    edist_bytes_free(&key);
    edist_arena_free(ar);
    edist_gl_free(g);
}

/* ------------------------------------------------- a simulated network */

#define NET_MAX 12

typedef struct net {
    int n;
    edist_gl *g[NET_MAX];
    char name[NET_MAX][16];
    int conn[NET_MAX][NET_MAX];
    /* One FIFO of in-flight messages. */
    struct msg {
        int from, to;
        uint8_t *data;
        size_t len;
    } q[20000];
    size_t head, tail;
    int steps;
    uint64_t rng; /* 0: FIFO delivery; else a seed for random order */
} net;

static uint64_t net_rand(net *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

/* With a seed, picks a random message that is the oldest of its
 * (from, to) pair, as TCP keeps order per connection only. */
static void net_pick(net *w)
{
    if (!w->rng || w->tail - w->head < 2)
        return;
    size_t cand[64], nc = 0;
    for (size_t i = w->head; i < w->tail && nc < 64; i++) {
        int first = 1;
        for (size_t j = w->head; j < i && first; j++)
            if (w->q[j].from == w->q[i].from && w->q[j].to == w->q[i].to)
                first = 0;
        if (first)
            cand[nc++] = i;
    }
    size_t k = cand[net_rand(w) % nc];
    struct msg m = w->q[k];
    memmove(&w->q[w->head + 1], &w->q[w->head], (k - w->head) * sizeof w->q[0]);
    w->q[w->head] = m;
}

static int net_find(net *w, const char *name)
{
    for (int i = 0; i < w->n; i++)
        if (!strcmp(w->name[i], name))
            return i;
    return -1;
}

static void net_connect(net *w, int a, int b)
{
    if (a == b || w->conn[a][b])
        return;
    w->conn[a][b] = w->conn[b][a] = 1;
    assert_int_equal(
        edist_gl_peer_up(w->g[a], w->name[b], strlen(w->name[b]), 1), 0);
    assert_int_equal(
        edist_gl_peer_up(w->g[b], w->name[a], strlen(w->name[a]), 1), 0);
}

static void net_disconnect(net *w, int a, int b)
{
    if (!w->conn[a][b])
        return;
    w->conn[a][b] = w->conn[b][a] = 0;
    /* Messages in flight between them are lost with the connection. */
    for (size_t i = w->head; i < w->tail; i++)
        if ((w->q[i].from == a && w->q[i].to == b) ||
            (w->q[i].from == b && w->q[i].to == a))
            w->q[i].to = -1;
    edist_gl_peer_down(w->g[a], w->name[b], strlen(w->name[b]));
    edist_gl_peer_down(w->g[b], w->name[a], strlen(w->name[a]));
}

/* Carries out every node's actions. */
static void net_push(net *w, int from, int to, uint8_t *data, size_t len)
{
    assert_true(w->tail < sizeof w->q / sizeof w->q[0]);
    w->q[w->tail].from = from;
    w->q[w->tail].to = to;
    w->q[w->tail].data = data;
    w->q[w->tail].len = len;
    w->tail++;
}

static void net_actions(net *w)
{
    for (int i = 0; i < w->n; i++) {
        edist_gl_action *a;
        while ((a = edist_gl_next(w->g[i]))) {
            int t = net_find(w, a->node);
            /* With random order, a connection comes up later, as a dial
             * does (a queued item without data), and the messages to that
             * node wait behind it. */
            int later = w->rng && t >= 0 && t != i && !w->conn[i][t];
            if (t < 0) {
                /* not a node of this network */
            } else if (a->kind == EDIST_GL_CONNECT) {
                if (later)
                    net_push(w, i, t, NULL, 0);
                else
                    net_connect(w, i, t);
            } else if (a->kind == EDIST_GL_DISCONNECT) {
                net_disconnect(w, i, t);
            } else if (!w->conn[i][t] &&
                       (a->noconnect || a->kind != EDIST_GL_SEND)) {
                /* volatile, or a reply: dropped without a connection */
            } else {
                if (later)
                    net_push(w, i, t, NULL, 0);
                else
                    net_connect(w, i, t);
                net_push(w, i, a->kind == EDIST_GL_SEND ? t : -1, a->msg,
                         a->msg_len);
                a->msg = NULL;
            }
            edist_gl_action_free(w->g[i], a);
        }
    }
}

/* Delivers until nothing moves; fails on a livelock. */
static void net_run(net *w)
{
    net_actions(w);
    while (w->head < w->tail) {
        net_pick(w);
        struct msg m = w->q[w->head++];
        if (!m.data) {
            if (m.to >= 0)
                net_connect(w, m.from, m.to);
        } else if (m.to >= 0 && w->conn[m.from][m.to]) {
            edist_arena *a = edist_arena_new(NULL);
            edist_term t;
            assert_int_equal(edist_etf_decode(a, m.data, m.len, NULL, &t, NULL),
                             0);
            edist_gl_message(w->g[m.to], w->name[m.from],
                             strlen(w->name[m.from]), &t);
            edist_arena_free(a);
        }
        free(m.data);
        net_actions(w);
        assert_true(++w->steps < 200000);
    }
    w->head = w->tail = 0;
}

static net *net_new(int n)
{
    net *w = calloc(1, sizeof *w);
    w->n = n;
    for (int i = 0; i < n; i++) {
        snprintf(w->name[i], sizeof w->name[i], "n%d@h", i);
        edist_gl_opts o = {0};
        o.self = w->name[i];
        o.creation = (uint32_t)i + 1;
        o.server_id = 1;
        o.locker_id = 2;
        o.first_tag = -1000000 * (i + 1);
        assert_int_equal(edist_gl_new(&o, &w->g[i]), 0);
    }
    return w;
}

static void net_free(net *w)
{
    for (int i = 0; i < w->n; i++)
        edist_gl_free(w->g[i]);
    free(w);
}

/* Every pair connected, every node known to every other, no session or
 * lock left. */
static uint64_t net_seed;

static void net_dump(net *w)
{
    for (int i = 0; i < w->n; i++) {
        fprintf(stderr, "%s: conn", w->name[i]);
        for (int j = 0; j < w->n; j++)
            if (w->conn[i][j])
                fprintf(stderr, " %d", j);
        fprintf(stderr, " | known");
        for (int j = 0; j < w->n; j++)
            if (known(w->g[i], w->name[j]))
                fprintf(stderr, " %d", j);
        fprintf(stderr, " | session");
        for (int j = 0; j < w->n; j++)
            if (edist_gl_in_session(w->g[i], w->name[j], strlen(w->name[j])))
                fprintf(stderr, " %d", j);
        fprintf(stderr, " | locks %zu\n", edist_gl_locks_count(w->g[i]));
    }
}

static void net_check_mesh(net *w, int n)
{
    if (getenv("GL_DEBUG") && net_seed)
        fprintf(stderr, "seed %llu\n", (unsigned long long)net_seed);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            if (i == j)
                continue;
            if (!w->conn[i][j]) {
                net_dump(w);
                fail_msg("%s not connected to %s", w->name[i], w->name[j]);
            }
            if (!known(w->g[i], w->name[j]))
                fail_msg("%s does not know %s", w->name[i], w->name[j]);
            assert_false(
                edist_gl_in_session(w->g[i], w->name[j], strlen(w->name[j])));
        }
        assert_int_equal(edist_gl_known_count(w->g[i]), (size_t)n - 1);
        assert_int_equal(edist_gl_locks_count(w->g[i]), 0);
    }
}

static void test_net_chain(void **state)
{
    (void)state;
    for (int n = 2; n <= NET_MAX; n += 5) {
        net *w = net_new(n);
        /* All links of the chain at once, as nodes started together. */
        for (int i = 0; i + 1 < n; i++)
            net_connect(w, i, i + 1);
        net_run(w);
        net_check_mesh(w, n);
        net_free(w);
    }
}

static void test_net_chain_stepwise_and_star(void **state)
{
    (void)state;
    net *w = net_new(8);
    /* A chain grown one link at a time. */
    for (int i = 0; i + 1 < 4; i++) {
        net_connect(w, i, i + 1);
        net_run(w);
    }
    net_check_mesh(w, 4);
    /* A star around node 4 joining nodes 5..7, then node 4 joins the
     * mesh of 0..3 through node 2. */
    for (int i = 5; i < 8; i++)
        net_connect(w, 4, i);
    net_run(w);
    for (int i = 5; i < 8; i++)
        for (int j = 4; j < 8; j++)
            assert_true(i == j ||
                        (w->conn[i][j] && known(w->g[i], w->name[j])));
    net_connect(w, 4, 2);
    net_run(w);
    net_check_mesh(w, 8);
    net_free(w);
}

static void test_net_partition_heal(void **state)
{
    (void)state;
    net *w = net_new(5);
    for (int i = 0; i + 1 < 5; i++)
        net_connect(w, i, i + 1);
    net_run(w);
    net_check_mesh(w, 5);
    /* Node 0 drops node 4: both report it (lost_connection) and, as BEAM
     * does under prevent_overlapping_partitions, the others drop what
     * they must, so no node keeps both sides (BEAM isolates both ends of
     * an erlang:disconnect_node/1 the same way). */
    net_disconnect(w, 0, 4);
    net_run(w);
    for (int i = 1; i < 4; i++)
        assert_false(w->conn[i][0] && w->conn[i][4]);
    /* Heal: reconnect 0 and 4; everything meshes again. */
    assert_false(w->conn[0][4]);
    /* Heal as a user does on BEAM: node 0 reconnects to the nodes it lost
     * (the others lost each other too: 1..3 and 4 must be meshed by
     * global, not by this loop). */
    for (int j = 1; j < 5; j++) {
        if (!w->conn[0][j])
            net_connect(w, 0, j);
        net_run(w);
    }
    net_check_mesh(w, 5);
    net_free(w);
}

/* Random shapes, all links at once, messages delivered in random order
 * (per-connection order kept): every run must end as one mesh. */
static void test_net_random(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        int n = 3 + (int)(seed % 8);
        net *w = net_new(n);
        w->rng = seed * 0x9e3779b97f4a7c15ull;
        net_seed = seed;
        for (int i = 1; i < n; i++)
            net_connect(w, i, (int)(net_rand(w) % (uint64_t)i));
        for (int e = 0; e < n / 3; e++)
            net_connect(w, (int)(net_rand(w) % (uint64_t)n),
                        (int)(net_rand(w) % (uint64_t)n));
        net_run(w);
        net_check_mesh(w, n);
        /* A random link drops, then one of its ends reconnects to every
         * node it lost: one mesh again. */
        int x = (int)(net_rand(w) % (uint64_t)n);
        int y = (x + 1 + (int)(net_rand(w) % (uint64_t)(n - 1))) % n;
        net_disconnect(w, x, y);
        net_run(w);
        for (int j = 0; j < n; j++) {
            if (j != x && !w->conn[x][j])
                net_push(w, x, j, NULL, 0);
        }
        net_run(w);
        net_check_mesh(w, n);
        net_free(w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nodeup_init_connect),
        cmocka_unit_test(test_session_with_beam),
        cmocka_unit_test(test_new_nodes_to_partition),
        cmocka_unit_test(test_pitfall_unsynced_not_listed),
        cmocka_unit_test(test_in_sync_ends_session),
        cmocka_unit_test(test_lost_and_remove_connection),
        cmocka_unit_test(test_we_lose_a_connection),
        cmocka_unit_test(test_names_and_locks_calls),
        cmocka_unit_test(test_connect_all_false),
        cmocka_unit_test(test_tag_mismatch_restarts),
        cmocka_unit_test(test_name_clash),
        cmocka_unit_test(test_net_chain),
        cmocka_unit_test(test_net_chain_stepwise_and_star),
        cmocka_unit_test(test_net_partition_heal),
        cmocka_unit_test(test_net_random),
        cmocka_unit_test(test_table_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
