/*
 * sig_route.c: incoming signals (protocol.md 3.5, 3.6): LINK, EXIT,
 * EXIT2 and their _TT and PAYLOAD_ forms, UNLINK_ID and its ack,
 * MONITOR_P, DEMONITOR_P, MONITOR_P_EXIT, SPAWN_REQUEST (handed to
 * rpc_server.c) and SPAWN_REPLY (to edist_erpc's requests, call.c).  Runs on
 * the I/O thread; see signals.c for the table.
 */
#include <stdlib.h>
#include <string.h>

#include "edist/err.h"
#include "rt/sig_int.h"
#include "rt/rpc_server.h"

/* ------------------------------------------------- incoming signals */

int sig_add_monitor_in(edist_mbox *mb, const edist_term *origin,
                       const edist_term *ref, const char *node, size_t len)
{
    edist_term self = edist_mbox_pid(mb);
    sig_ent e;
    int rc = sig_ent_init(&e, SIG_MON_IN, mb, node, len);
    if (rc == 0)
        rc = sig_encode(origin, &e.other, &e.other_len);
    if (rc == 0)
        rc = sig_encode(ref, &e.ref, &e.ref_len);
    if (rc == 0)
        rc = sig_encode(&self, &e.who, &e.who_len);
    return sig_ent_commit(mb->node, &e, rc);
}

int sig_add_link_in(edist_mbox *mb, const edist_term *origin, const char *node,
                    size_t len)
{
    sig_ent e;
    int rc = sig_ent_init(&e, SIG_LINK, mb, node, len);
    if (rc == 0)
        rc = sig_encode(origin, &e.other, &e.other_len);
    return sig_ent_commit(mb->node, &e, rc);
}

/* Sends {op, A, B, Reason-atom} or with ref {op, A, B, Ref, Reason}. */
static void reply_noproc(edist_peer *p, int op, const edist_term *a,
                         const edist_term *b, const edist_term *ref)
{
    edist_term parts[5];
    size_t k = 0;
    parts[k++] = edist_mk_int(op);
    parts[k++] = *a;
    parts[k++] = *b;
    if (ref)
        parts[k++] = *ref;
    parts[k++] = sig_atom("noproc");
    edist_term ctl = sig_tuple(parts, k);
    sig_peer_send(p, &ctl);
}

/* Whether pid is a process of the peer's node.  ERTS takes LINK, EXIT,
 * UNLINK_ID, UNLINK_ID_ACK and MONITOR_P only from the node their sender
 * lives on, and closes a connection that names another ("invalid_message"
 * in dist.c); so do we: else a peer could cut links between two of our
 * mailboxes, or link them to a third node's processes. */
static int from_peer(const edist_peer *p, const edist_term *pid)
{
    return pid->type == EDIST_TERM_PID && pid->v.pid.node.len == p->name_len &&
           memcmp(pid->v.pid.node.name, p->name, p->name_len) == 0;
}

static int in_link(edist_node *n, edist_peer *p, const edist_term *from,
                   const edist_term *to)
{
    if (!from_peer(p, from) || to->type != EDIST_TERM_PID)
        return EDIST_EBADMSG;
    uint8_t *other;
    size_t other_len;
    if (sig_encode(from, &other, &other_len) < 0)
        return 0;
    pthread_mutex_lock(&n->sig.mu);
    edist_mbox *mb = node_local_mbox(n, to);
    /* protocol.md 3.6: a LINK while our unlink is outstanding is ignored
     * (the peer will see our UNLINK_ID next). */
    if (mb && !sig_tab_find(n, SIG_LINK, mb->proc.id, mb->proc.serial, other,
                            other_len, NULL, 0))
        sig_tab_add_link(n, mb, p->name, p->name_len, &other, other_len, NULL);
    pthread_mutex_unlock(&n->sig.mu);
    free(other);
    if (mb)
        edist_procs_put(&mb->proc);
    else
        reply_noproc(p, OP_EXIT, to, from, NULL);
    return 0;
}

/* EXIT through a link (link = 1) or EXIT2 (exit/2). */
static int in_exit(edist_node *n, edist_peer *p, edist_arena *a,
                   const edist_term *from, const edist_term *to,
                   const edist_term *reason, int link)
{
    if (to->type != EDIST_TERM_PID || (link && !from_peer(p, from)))
        return EDIST_EBADMSG;
    if (!sig_is_local_pid(n, to) || to->v.pid.creation != n->creation)
        return 0;
    if (!link) {
        sig_deliver_exit(n, a, to->v.pid.id, to->v.pid.serial, from, reason);
        return 0;
    }
    uint8_t *other;
    size_t other_len;
    if (sig_encode(from, &other, &other_len) < 0)
        return 0;
    pthread_mutex_lock(&n->sig.mu);
    sig_ent *e = sig_tab_find(n, SIG_LINK, to->v.pid.id, to->v.pid.serial,
                              other, other_len, NULL, 0);
    if (e) {
        edist_linksm st = sig_lsm_of(e);
        int act = edist_linksm_recv_exit(&st);
        sig_lsm_apply(n, e, &st, act);
        if (act & EDIST_LSM_DELIVER_EXIT)
            sig_deliver_exit(n, a, to->v.pid.id, to->v.pid.serial, from,
                             reason);
    }
    pthread_mutex_unlock(&n->sig.mu);
    free(other);
    return 0;
}

static int in_unlink_id(edist_node *n, edist_peer *p, const edist_term *id,
                        const edist_term *from, const edist_term *to, int ack)
{
    if (!from_peer(p, from) || to->type != EDIST_TERM_PID)
        return EDIST_EBADMSG;
    uint8_t *other;
    size_t other_len;
    if (sig_encode(from, &other, &other_len) < 0)
        return 0;
    uint64_t idv = id->type == EDIST_TERM_INT ? (uint64_t)id->v.i : 0;
    if (!ack) {
        /* {36, Id, To, From}, before anything else goes to From: so before
         * the link leaves the table.  Sent after, a LINK of To's made in
         * between (it finds no link) could overtake it, and the sender,
         * still unlinking, would ignore it: a link on our side alone.
         * Before, such a LINK finds the link still there and is not sent;
         * both sides end unlinked, as when link/1 races an unlink on BEAM.
         * Not under sig.mu: a failed write may take the peer down, which
         * fires entries under it. */
        edist_term el[4] = {edist_mk_int(OP_UNLINK_ID_ACK), *id, *to, *from};
        edist_term ctl = sig_tuple(el, 4);
        sig_peer_send(p, &ctl);
    }
    pthread_mutex_lock(&n->sig.mu);
    sig_ent *e = sig_tab_find(n, SIG_LINK, to->v.pid.id, to->v.pid.serial,
                              other, other_len, NULL, 0);
    if (e && sig_is_local_pid(n, to)) {
        edist_linksm st = sig_lsm_of(e);
        int act = ack ? edist_linksm_recv_ack(&st, idv)
                      : edist_linksm_recv_unlink(&st);
        sig_lsm_apply(n, e, &st, act);
    }
    pthread_mutex_unlock(&n->sig.mu);
    free(other);
    return 0;
}

static int in_monitor(edist_node *n, edist_peer *p, const edist_term *from,
                      const edist_term *to, const edist_term *ref)
{
    if (!from_peer(p, from) || ref->type != EDIST_TERM_REF)
        return EDIST_EBADMSG;
    pthread_mutex_lock(&n->sig.mu);
    edist_mbox *mb = NULL;
    if (to->type == EDIST_TERM_PID)
        mb = node_local_mbox(n, to);
    else if (to->type == EDIST_TERM_ATOM)
        mb = (edist_mbox *)edist_procs_by_name(&n->procs, to->v.atom.name,
                                               to->v.atom.len);
    /* Built-in servers answer gen_server calls: a monitor on them must
     * not fire noproc (global_name_server exists on visible nodes). */
    int builtin = to->type == EDIST_TERM_ATOM &&
                  (edist_term_is_atom(to, "net_kernel") ||
                   (n->mesh && edist_term_is_atom(to, "global_name_server")));
    int kept = 0;
    if (mb) {
        /* FromProc as asked: the pid or the name. */
        sig_ent e;
        int rc = sig_ent_init(&e, SIG_MON_IN, mb, p->name, p->name_len);
        if (rc == 0)
            rc = sig_encode(from, &e.other, &e.other_len);
        if (rc == 0)
            rc = sig_encode(ref, &e.ref, &e.ref_len);
        if (rc == 0)
            rc = sig_encode(to, &e.who, &e.who_len);
        if (rc < 0)
            sig_ent_free(&e);
        else
            kept = sig_tab_add(n, &e, NULL) == 0;
    }
    pthread_mutex_unlock(&n->sig.mu);
    if (mb)
        edist_procs_put(&mb->proc);
    /* A monitor we could not record (no memory) is answered noproc too:
     * never firing, it would hang a gen_server:call(..., infinity). */
    if (!kept && !builtin)
        reply_noproc(p, OP_MONITOR_P_EXIT, to, from, ref);
    return 0;
}

static int in_demonitor(edist_node *n, edist_peer *p, const edist_term *ref)
{
    uint8_t *rb;
    size_t rlen;
    if (sig_encode(ref, &rb, &rlen) < 0)
        return 0;
    pthread_mutex_lock(&n->sig.mu);
    for (sig_ent *e = sig_tab_ref_first(n, rb, rlen); e;
         e = e->next[SIG_IX_REF]) {
        if (e->kind == SIG_MON_IN &&
            sig_bytes_eq((const uint8_t *)e->node, e->node_len,
                         (const uint8_t *)p->name, p->name_len)) {
            sig_tab_del(n, e);
            break;
        }
    }
    pthread_mutex_unlock(&n->sig.mu);
    free(rb);
    return 0;
}

static int in_monitor_exit(edist_node *n, edist_peer *p, edist_arena *a,
                           const edist_term *to, const edist_term *ref,
                           const edist_term *reason)
{
    if (to->type != EDIST_TERM_PID || !sig_is_local_pid(n, to))
        return 0;
    uint8_t *rb;
    size_t rlen;
    if (sig_encode(ref, &rb, &rlen) < 0)
        return 0;
    pthread_mutex_lock(&n->sig.mu);
    sig_ent *e = sig_tab_find(n, SIG_MON_OUT, to->v.pid.id, to->v.pid.serial,
                              NULL, 0, rb, rlen);
    /* Only the monitored node may fire the monitor: a reference is not a
     * secret, and another peer must not make us believe a process on a
     * third node died. */
    if (e && (e->node_len != p->name_len ||
              memcmp(e->node, p->name, p->name_len) != 0))
        e = NULL;
    if (e) {
        sig_deliver_down(n, a, e, reason);
        sig_tab_del(n, e);
    }
    pthread_mutex_unlock(&n->sig.mu);
    free(rb);
    return 0;
}

/* SPAWN_REPLY {31, ReqId, To, Flags, Result} to edist_erpc's spawn request
 * (call.c).  A pid names the process the monitor now watches; an atom is
 * the spawn's failure, delivered as {spawn_reply, ReqId, error, Reason} as
 * BEAM delivers it to spawn_request(..., [{reply, error_only}, monitor]).
 * A process spawned without the monitor asked for could never report its
 * end: the call fails with notsup rather than wait for nothing. */
static int in_spawn_reply(edist_node *n, edist_peer *p, edist_arena *a,
                          const edist_term *reqid, const edist_term *to,
                          const edist_term *flags, const edist_term *result)
{
    if (to->type != EDIST_TERM_PID || reqid->type != EDIST_TERM_REF ||
        flags->type != EDIST_TERM_INT)
        return EDIST_EBADMSG;
    if (!sig_is_local_pid(n, to))
        return 0;
    uint8_t *rb, *pid = NULL, *pid2 = NULL;
    size_t rlen, plen = 0;
    if (sig_encode(reqid, &rb, &rlen) < 0)
        return 0;
    /* The pid is both Who of the DOWN and the target of a demonitor. */
    int ok = result->type == EDIST_TERM_PID && (flags->v.i & 2) &&
             sig_encode(result, &pid, &plen) == 0 &&
             (pid2 = malloc(plen)) != NULL;
    if (ok)
        memcpy(pid2, pid, plen);
    pthread_mutex_lock(&n->sig.mu);
    sig_ent *e = sig_tab_find(n, SIG_MON_OUT, to->v.pid.id, to->v.pid.serial,
                              NULL, 0, rb, rlen);
    /* Only the node asked may answer (see in_monitor_exit), and only once:
     * a known target means the reply came already. */
    int stray = !e;
    if (e && (e->target || e->node_len != p->name_len ||
              memcmp(e->node, p->name, p->name_len) != 0))
        e = NULL;
    if (e && ok) {
        free(e->who);
        e->who = pid;
        e->who_len = plen;
        e->target = pid2;
        e->target_len = plen;
        pid = pid2 = NULL;
    } else if (e) {
        edist_term t;
        if (edist_term_tuple(a, &t, 4) == 0) {
            t.v.tuple.elems[0] = sig_atom("spawn_reply");
            t.v.tuple.elems[1] = *reqid;
            t.v.tuple.elems[2] = sig_atom("error");
            t.v.tuple.elems[3] =
                result->type == EDIST_TERM_ATOM ? *result : sig_atom("notsup");
            sig_deliver_to(n, e->id, e->serial, &t);
        }
        sig_tab_del(n, e);
    }
    pthread_mutex_unlock(&n->sig.mu);
    if (stray && ok) {
        /* The request was given up (a timeout) before this reply: the
         * peer is told to drop the monitor it set up for us, as BEAM's
         * spawn_request_abandon does.  {20, To, Pid, ReqId} */
        edist_term el[4] = {edist_mk_int(OP_DEMONITOR_P), *to, *result, *reqid};
        edist_term ctl = sig_tuple(el, 4);
        sig_peer_send(p, &ctl);
    }
    free(rb);
    free(pid);
    free(pid2);
    return 0;
}

int sig_route(edist_node *n, edist_peer *p, int64_t op, const edist_dist_msg *m)
{
    switch (op) {
    case OP_LINK:
    case OP_EXIT:
    case OP_EXIT2:
    case OP_EXIT_TT:
    case OP_EXIT2_TT:
    case OP_MONITOR_P:
    case OP_DEMONITOR_P:
    case OP_MONITOR_P_EXIT:
    case OP_UNLINK_ID:
    case OP_UNLINK_ID_ACK:
    case OP_SPAWN_REPLY:
    case OP_SPAWN_REPLY_TT:
        break;
    default:
        if (op >= OP_PAYLOAD_EXIT && op <= OP_SPAWN_REQUEST_TT)
            break;
        return 0; /* ops we do not know (or that OTP no longer sends) */
    }
    edist_etf_reader r;
    edist_etf_reader_init(&r, m->data, m->len, (const edist_atom *)m->atoms,
                          m->natoms);
    if (m->versioned && edist_etf_read_version(&r) < 0)
        return EDIST_EBADMSG;
    edist_arena *a = edist_arena_new(NULL);
    if (!a)
        return 0;
    edist_term ctl, payload = {0};
    int rc = EDIST_EBADMSG;
    if (edist_etf_read_term(&r, a, NULL, &ctl) < 0 ||
        ctl.type != EDIST_TERM_TUPLE || ctl.v.tuple.arity < 3)
        goto out;
    if (op >= OP_PAYLOAD_EXIT && op <= OP_SPAWN_REQUEST_TT &&
        ((m->versioned && edist_etf_read_version(&r) < 0) ||
         edist_etf_read_term(&r, a, NULL, &payload) < 0))
        goto out;
    edist_term *el = ctl.v.tuple.elems;
    size_t ar = ctl.v.tuple.arity;
    switch (op) {
    case OP_LINK:
        rc = in_link(n, p, &el[1], &el[2]);
        break;
    case OP_EXIT:
    case OP_EXIT2:
        rc = ar == 4 ? in_exit(n, p, a, &el[1], &el[2], &el[3], op == OP_EXIT)
                     : EDIST_EBADMSG;
        break;
    case OP_EXIT_TT:
    case OP_EXIT2_TT:
        rc = ar == 5
                 ? in_exit(n, p, a, &el[1], &el[2], &el[4], op == OP_EXIT_TT)
                 : EDIST_EBADMSG;
        break;
    case OP_PAYLOAD_EXIT:
    case OP_PAYLOAD_EXIT_TT:
    case OP_PAYLOAD_EXIT2:
    case OP_PAYLOAD_EXIT2_TT:
        rc = in_exit(n, p, a, &el[1], &el[2], &payload,
                     op == OP_PAYLOAD_EXIT || op == OP_PAYLOAD_EXIT_TT);
        break;
    case OP_UNLINK_ID:
    case OP_UNLINK_ID_ACK:
        rc = ar == 4 ? in_unlink_id(n, p, &el[1], &el[2], &el[3],
                                    op == OP_UNLINK_ID_ACK)
                     : EDIST_EBADMSG;
        break;
    case OP_MONITOR_P:
        rc = ar == 4 ? in_monitor(n, p, &el[1], &el[2], &el[3]) : EDIST_EBADMSG;
        break;
    case OP_DEMONITOR_P:
        rc = ar == 4 ? in_demonitor(n, p, &el[3]) : EDIST_EBADMSG;
        break;
    case OP_MONITOR_P_EXIT:
        rc = ar == 5 ? in_monitor_exit(n, p, a, &el[2], &el[3], &el[4])
                     : EDIST_EBADMSG;
        break;
    case OP_PAYLOAD_MONITOR_P_EXIT:
        rc = ar == 4 ? in_monitor_exit(n, p, a, &el[2], &el[3], &payload)
                     : EDIST_EBADMSG;
        break;
    case OP_SPAWN_REQUEST:
    case OP_SPAWN_REQUEST_TT:
        rc = ar >= 6 ? rpc_spawn_request(n, p, &ctl, &payload) : EDIST_EBADMSG;
        break;
    case OP_SPAWN_REPLY:
    case OP_SPAWN_REPLY_TT:
        rc = ar == (op == OP_SPAWN_REPLY ? 5u : 6u)
                 ? in_spawn_reply(n, p, a, &el[1], &el[2], &el[3], &el[4])
                 : EDIST_EBADMSG;
        break;
    default:
        rc = 0;
    }
out:
    edist_arena_free(a);
    return rc;
}
