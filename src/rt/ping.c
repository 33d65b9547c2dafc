/*
 * ping.c: net_adm:ping/1 from C.  Like BEAM's: connect (which gives a
 * precise reason when it fails), then gen_server:call({net_kernel, Peer},
 * {is_auth, Us}); `yes` is pong.
 */
#include <stdio.h>
#include <string.h>

#include "edist/err.h"
#include "edist/proc.h"
#include "rt/node_int.h"

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
    edist_term to_el[2] = {edist_mk_atom("net_kernel", 10),
                           edist_mk_atom(peer, strlen(peer))};
    edist_term req_el[2] = {edist_mk_atom("is_auth", 7),
                            edist_mk_atom(n->name, n->name_len)};
    edist_term to = {.type = EDIST_TERM_TUPLE},
               req = {.type = EDIST_TERM_TUPLE};
    to.v.tuple.arity = 2;
    to.v.tuple.elems = to_el;
    req.v.tuple.arity = 2;
    req.v.tuple.elems = req_el;
    edist_term reply;
    rc = edist_call(mb, &to, &req, timeout_ms, a, &reply);
    if (rc == 0 && !edist_term_is_atom(&reply, "yes"))
        rc = EDIST_ENOTALLOWED;
    if (rc < 0 && why && !why->code) {
        why->code = rc;
        snprintf(why->reason, sizeof why->reason, "%s did not answer: %s", peer,
                 edist_strerror(rc));
    }
    edist_arena_free(a);
    edist_mbox_close(mb);
    return rc;
}
