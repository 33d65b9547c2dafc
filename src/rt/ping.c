/*
 * ping.c: net_adm:ping/1 from C.  Like BEAM's: connect, then a gen_server
 * call {is_auth, Us} to the peer's net_kernel; `yes` is pong.
 */
#include <stdio.h>
#include <string.h>

#include "edist/err.h"
#include "rt/node_int.h"

static int ping_is_reply(edist_arena *a, const edist_msg *m,
                         const edist_term *ref)
{
    edist_term t;
    if (edist_msg_term(m, a, &t) < 0 || t.type != EDIST_TERM_TUPLE ||
        t.v.tuple.arity != 2)
        return -1;
    if (!edist_term_equal(&t.v.tuple.elems[0], ref))
        return -1;
    return edist_term_is_atom(&t.v.tuple.elems[1], "yes") ? 1 : 0;
}

int edist_ping(edist_node *n, const char *peer, int timeout_ms,
               edist_conn_error *why)
{
    int rc = edist_connect(n, peer, timeout_ms, why);
    if (rc < 0)
        return rc;
    edist_mbox *mb;
    if ((rc = edist_mbox_open(n, &mb)) < 0)
        return rc;
    edist_arena *a = edist_arena_new(NULL);
    if (!a) {
        edist_mbox_close(mb);
        return EDIST_ENOMEM;
    }
    /* {'$gen_call', {Self, Ref}, {is_auth, node()}} */
    edist_term ref = edist_make_ref(n), self = edist_mbox_pid(mb);
    edist_term call, from, req;
    edist_term_tuple(a, &call, 3);
    edist_term_tuple(a, &from, 2);
    edist_term_tuple(a, &req, 2);
    from.v.tuple.elems[0] = self;
    from.v.tuple.elems[1] = ref;
    req.v.tuple.elems[0] = edist_mk_atom("is_auth", 7);
    req.v.tuple.elems[1] = edist_mk_atom(n->name, n->name_len);
    call.v.tuple.elems[0] = edist_mk_atom("$gen_call", 9);
    call.v.tuple.elems[1] = from;
    call.v.tuple.elems[2] = req;
    rc = edist_send_named(mb, "net_kernel", peer, &call);
    uint64_t deadline =
        node_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
    while (rc == 0) {
        int left = -1;
        if (timeout_ms >= 0) {
            uint64_t now = node_now_ms();
            left = now >= deadline ? 0 : (int)(deadline - now);
        }
        edist_msg *m;
        rc = edist_recv(mb, &m, left);
        if (rc < 0)
            break;
        int r = ping_is_reply(a, m, &ref);
        edist_msg_free(m);
        if (r >= 0) {
            rc = r ? 0 : EDIST_ENOTALLOWED;
            break;
        }
    }
    if (rc < 0 && why && !why->code) {
        why->code = rc;
        snprintf(why->reason, sizeof why->reason, "%s did not answer: %s", peer,
                 edist_strerror(rc));
    }
    edist_arena_free(a);
    edist_mbox_close(mb);
    return rc;
}
