/*
 * signals.c: links, exit signals and monitors of mailboxes, local and
 * across nodes (protocol.md 3.5, 3.6).
 *
 * One table per node holds every relation a local mailbox takes part in:
 *
 *   LINK     mailbox <-> other pid; unlink_id != 0 while our UNLINK_ID
 *            waits for its UNLINK_ID_ACK (exit signals through the link
 *            are then ignored, and the entry goes when the ack with that
 *            id arrives);
 *   MON_OUT  the mailbox monitors `target` (pid or name) with ref;
 *   MON_IN   `other` monitors the mailbox (by pid or by name) with ref;
 *   NODE     monitor_node(Node) held by the mailbox;
 *   ALIAS    ref is an alias of the mailbox (edist_call's reply tag):
 *            ALIAS_SEND to it reaches the mailbox.
 *
 * Pids, references and targets are kept encoded (ETF without the version
 * byte, as our encoder writes them), so equality is a byte comparison.
 * A relation between two local mailboxes is two entries, one each side,
 * exactly as across nodes, with "node" our own name.
 *
 * Locking: sig.mu guards the table.  Local deliveries (a queue push that
 * never blocks) happen under it; anything that may block (peer_send waits
 * for room) is collected and sent after it is released.  Order: sig.mu ->
 * procs.mu -> mailbox queue.
 */
#include <stdlib.h>
#include <string.h>

#include "edist/err.h"
#include "rt/sig_int.h"

/* ---------------------------------------------------------------- links */

int sig_link(edist_mbox *mb, const edist_term *pid)
{
    if (!mb || !pid)
        return EDIST_EINVAL;
    if (pid->type != EDIST_TERM_PID)
        return EDIST_ETYPE;
    edist_node *n = mb->node;
    edist_term self = edist_mbox_pid(mb);
    if (edist_term_equal(&self, pid))
        return 0;
    edist_arena *a = edist_arena_new(NULL);
    if (!a)
        return EDIST_ENOMEM;
    int rc = 0, remote = !sig_is_local_pid(n, pid);
    if (remote && !sig_connect_for(n, &pid->v.pid.node, SIG_CONNECT_MS)) {
        edist_term r = sig_atom("noconnection");
        sig_deliver_exit(n, a, mb->proc.id, mb->proc.serial, pid, &r);
        edist_arena_free(a);
        return 0;
    }
    uint8_t *other = NULL, *me = NULL;
    size_t other_len = 0, me_len = 0;
    if ((rc = sig_encode(pid, &other, &other_len)) < 0 ||
        (rc = sig_encode(&self, &me, &me_len)) < 0)
        goto out;
    pthread_mutex_lock(&n->sig.mu);
    edist_mbox *peer_mb = remote ? NULL : node_local_mbox(n, pid);
    if (!remote && !peer_mb) {
        pthread_mutex_unlock(&n->sig.mu);
        edist_term r = sig_atom("noproc");
        sig_deliver_exit(n, a, mb->proc.id, mb->proc.serial, pid, &r);
        goto out;
    }
    sig_ent *e = sig_tab_find(n, SIG_LINK, mb->proc.id, mb->proc.serial, other,
                              other_len, NULL, 0);
    int send_link = 0;
    if (e) {
        /* Linked already (nothing to do), or linking again while
         * unlinking (active again, LINK goes out). */
        edist_linksm st = sig_lsm_of(e);
        int act = edist_linksm_link(&st);
        sig_lsm_apply(n, e, &st, act);
        send_link = (act & EDIST_LSM_SEND_LINK) != 0;
    } else {
        edist_linksm st = {0, 0};
        send_link = (edist_linksm_link(&st) & EDIST_LSM_SEND_LINK) != 0;
        rc = sig_tab_add_link(n, mb, pid->v.pid.node.name, pid->v.pid.node.len,
                              &other, other_len, &e);
        /* A local pid: its side too, unless it is linked with us already.
         * Our side alone would never fire: it goes when theirs fails. */
        if (rc == 0 && peer_mb &&
            !sig_tab_find(n, SIG_LINK, peer_mb->proc.id, peer_mb->proc.serial,
                          me, me_len, NULL, 0)) {
            rc = sig_tab_add_link(n, peer_mb, n->name, n->name_len, &me, me_len,
                                  NULL);
            if (rc < 0)
                sig_tab_del(n, e);
        }
    }
    send_link = send_link && rc == 0 && remote;
    pthread_mutex_unlock(&n->sig.mu);
    if (peer_mb)
        edist_procs_put(&peer_mb->proc);
    if (send_link) {
        /* {1, Self, Pid} */
        edist_term el[3] = {edist_mk_int(OP_LINK), self, *pid};
        edist_term ctl = sig_tuple(el, 3);
        sig_send_ctl(n, &pid->v.pid.node, &ctl, 0);
        if (!peer_is_up(n, pid->v.pid.node.name, pid->v.pid.node.len, NULL))
            sig_node_down(n, pid->v.pid.node.name, pid->v.pid.node.len);
    }
out:
    free(other);
    free(me);
    edist_arena_free(a);
    return rc;
}

int sig_unlink(edist_mbox *mb, const edist_term *pid)
{
    if (!mb || !pid)
        return EDIST_EINVAL;
    if (pid->type != EDIST_TERM_PID)
        return EDIST_ETYPE;
    edist_node *n = mb->node;
    edist_term self = edist_mbox_pid(mb);
    uint8_t *other, *me;
    size_t other_len, me_len;
    int rc = sig_encode(pid, &other, &other_len);
    if (rc < 0)
        return rc;
    if ((rc = sig_encode(&self, &me, &me_len)) < 0) {
        free(other);
        return rc;
    }
    uint64_t id = 0;
    pthread_mutex_lock(&n->sig.mu);
    sig_ent *e = sig_tab_find(n, SIG_LINK, mb->proc.id, mb->proc.serial, other,
                              other_len, NULL, 0);
    if (e && !sig_is_local_pid(n, pid)) {
        edist_linksm st = sig_lsm_of(e);
        int act = edist_linksm_unlink(&st, n->sig.next_unlink_id);
        sig_lsm_apply(n, e, &st, act);
        if (act & EDIST_LSM_SEND_UNLINK_ID)
            id = n->sig.next_unlink_id++;
    } else if (e) {
        sig_tab_del(n, e);
        if (pid->v.pid.creation == n->creation) {
            sig_ent *j = sig_tab_find(n, SIG_LINK, pid->v.pid.id,
                                      pid->v.pid.serial, me, me_len, NULL, 0);
            if (j)
                sig_tab_del(n, j);
        }
    }
    pthread_mutex_unlock(&n->sig.mu);
    free(other);
    free(me);
    if (id) {
        /* {35, Id, Self, Pid} */
        edist_term el[4] = {edist_mk_int(OP_UNLINK_ID),
                            edist_mk_int((int64_t)id), self, *pid};
        edist_term ctl = sig_tuple(el, 4);
        rc = sig_send_ctl(n, &pid->v.pid.node, &ctl, 0);
        if (rc == EDIST_ENOCONN)
            rc = 0;
    }
    return rc;
}

int edist_exit(edist_mbox *mb, const edist_term *pid, const edist_term *reason)
{
    if (!mb || !pid || !reason)
        return EDIST_EINVAL;
    if (pid->type != EDIST_TERM_PID)
        return EDIST_ETYPE;
    edist_node *n = mb->node;
    edist_term self = edist_mbox_pid(mb);
    if (sig_is_local_pid(n, pid)) {
        edist_arena *a = edist_arena_new(NULL);
        if (!a)
            return EDIST_ENOMEM;
        if (pid->v.pid.creation == n->creation)
            sig_deliver_exit(n, a, pid->v.pid.id, pid->v.pid.serial, &self,
                             reason);
        edist_arena_free(a);
        return 0;
    }
    /* {8, Self, Pid, Reason} */
    edist_term el[4] = {edist_mk_int(OP_EXIT2), self, *pid, *reason};
    edist_term ctl = sig_tuple(el, 4);
    return sig_send_ctl(n, &pid->v.pid.node, &ctl, 1);
}

/* ------------------------------------------------------------- monitors */

int edist_monitor(edist_mbox *mb, const edist_term *target, edist_term *ref)
{
    return sig_monitor(mb, target, ref, SIG_CONNECT_MS);
}

int sig_monitor(edist_mbox *mb, const edist_term *target, edist_term *ref,
                int connect_ms)
{
    if (!mb || !target || !ref)
        return EDIST_EINVAL;
    edist_node *n = mb->node;
    edist_atom node = edist_node_atom(n);
    edist_term to, who, who_el[2];
    if (target->type == EDIST_TERM_PID) {
        node = target->v.pid.node;
        to = who = *target;
    } else if (target->type == EDIST_TERM_ATOM) {
        /* A local name: Who of the DOWN is {Name, OurNode}. */
        to = *target;
        who_el[0] = *target;
        who_el[1] = edist_mk_atom(node.name, node.len);
        who = sig_tuple(who_el, 2);
    } else if (target->type == EDIST_TERM_TUPLE && target->v.tuple.arity == 2 &&
               target->v.tuple.elems[0].type == EDIST_TERM_ATOM &&
               target->v.tuple.elems[1].type == EDIST_TERM_ATOM) {
        to = target->v.tuple.elems[0];
        node = target->v.tuple.elems[1].v.atom;
        who = *target;
    } else {
        return EDIST_ETYPE;
    }
    edist_arena *a = edist_arena_new(NULL);
    if (!a)
        return EDIST_ENOMEM;
    edist_term self = edist_mbox_pid(mb);
    *ref = edist_make_ref(n);
    int local = node_is_local(n, node);
    sig_ent e, e2;
    int rc = sig_ent_init(&e, SIG_MON_OUT, mb, node.name, node.len);
    if (rc == 0)
        rc = sig_encode(ref, &e.ref, &e.ref_len);
    if (rc == 0)
        rc = sig_encode(&who, &e.who, &e.who_len);
    if (rc == 0)
        rc = sig_encode(&to, &e.target, &e.target_len);
    if (rc < 0) {
        sig_ent_free(&e);
        edist_arena_free(a);
        return rc;
    }
    if (!local && !sig_connect_for(n, &node, connect_ms)) {
        edist_term r = sig_atom("noconnection");
        sig_deliver_down(n, a, &e, &r);
        sig_ent_free(&e);
        edist_arena_free(a);
        return 0;
    }
    pthread_mutex_lock(&n->sig.mu);
    edist_mbox *tmb = NULL;
    if (local) {
        tmb = to.type == EDIST_TERM_PID
                  ? node_local_mbox(n, &to)
                  : (edist_mbox *)edist_procs_by_name(&n->procs, to.v.atom.name,
                                                      to.v.atom.len);
        if (!tmb) {
            pthread_mutex_unlock(&n->sig.mu);
            edist_term r = sig_atom("noproc");
            sig_deliver_down(n, a, &e, &r);
            sig_ent_free(&e);
            edist_arena_free(a);
            return 0;
        }
        /* The target's side: monitored by self, FromProc as asked. */
        rc = sig_ent_init(&e2, SIG_MON_IN, tmb, n->name, n->name_len);
        if (rc == 0)
            rc = sig_encode(&self, &e2.other, &e2.other_len);
        if (rc == 0)
            rc = sig_encode(ref, &e2.ref, &e2.ref_len);
        if (rc == 0)
            rc = sig_encode(&to, &e2.who, &e2.who_len);
    }
    /* Both sides or neither: our side alone would never fire.  A failed
     * sig_tab_add frees its entry. */
    sig_ent *added = NULL;
    if (rc == 0)
        rc = sig_tab_add(n, &e, &added);
    else
        sig_ent_free(&e);
    if (local && rc < 0)
        sig_ent_free(&e2);
    else if (local && (rc = sig_tab_add(n, &e2, NULL)) < 0)
        sig_tab_del(n, added);
    pthread_mutex_unlock(&n->sig.mu);
    if (tmb)
        edist_procs_put(&tmb->proc);
    if (rc == 0 && !local) {
        /* {19, Self, ToProc, Ref} */
        edist_term el[4] = {edist_mk_int(OP_MONITOR_P), self, to, *ref};
        edist_term ctl = sig_tuple(el, 4);
        sig_send_ctl(n, &node, &ctl, 0);
        if (!peer_is_up(n, node.name, node.len, NULL))
            sig_node_down(n, node.name, node.len);
    }
    edist_arena_free(a);
    return rc;
}

int sig_spawn_monitor(edist_mbox *mb, const edist_term *reqid, const char *node,
                      size_t len)
{
    edist_node *n = mb->node;
    /* Who is unknown until SPAWN_REPLY names the process; a DOWN before
     * it (the connection lost) says `undefined`. */
    edist_term who = sig_atom("undefined");
    sig_ent e;
    int rc = sig_ent_init(&e, SIG_MON_OUT, mb, node, len);
    if (rc == 0)
        rc = sig_encode(reqid, &e.ref, &e.ref_len);
    if (rc == 0)
        rc = sig_encode(&who, &e.who, &e.who_len);
    return sig_ent_commit(n, &e, rc);
}

int edist_demonitor(edist_mbox *mb, const edist_term *ref)
{
    if (!mb || !ref)
        return EDIST_EINVAL;
    edist_node *n = mb->node;
    uint8_t *rb;
    size_t rlen;
    int rc = sig_encode(ref, &rb, &rlen);
    if (rc < 0)
        return rc;
    sig_out *out = NULL;
    uint8_t *me;
    size_t me_len;
    edist_term self = edist_mbox_pid(mb);
    if ((rc = sig_encode(&self, &me, &me_len)) < 0) {
        free(rb);
        return rc;
    }
    pthread_mutex_lock(&n->sig.mu);
    sig_ent *e = sig_tab_find(n, SIG_MON_OUT, mb->proc.id, mb->proc.serial,
                              NULL, 0, rb, rlen);
    if (e) {
        if (node_is_local(n, (edist_atom){e->node, e->node_len})) {
            for (sig_ent *f = sig_tab_ref_first(n, rb, rlen); f;
                 f = f->next[SIG_IX_REF]) {
                if (f->kind == SIG_MON_IN) {
                    sig_tab_del(n, f);
                    break;
                }
            }
        } else if (e->target) {
            sig_out_push(&out, e->node, e->node_len, OP_DEMONITOR_P, me, me_len,
                         e->target, e->target_len, rb, rlen, NULL);
        } /* else a spawn whose reply has not come: nothing to undo yet
             (its late reply is answered with DEMONITOR_P, sig_route.c) */
        sig_tab_del(n, e);
    }
    pthread_mutex_unlock(&n->sig.mu);
    sig_out_flush(n, out);
    free(rb);
    free(me);
    return 0;
}

/* Removes one instance: as in ERTS (dist.c keeps a count per process and
 * node), monitor_node(N, true) twice and false once leaves one nodedown
 * to come. */
static void demonitor_node(edist_mbox *mb, const char *node, size_t len)
{
    edist_node *n = mb->node;
    pthread_mutex_lock(&n->sig.mu);
    for (sig_ent *e = sig_tab_owner_first(n, mb->proc.id, mb->proc.serial); e;
         e = e->next[SIG_IX_OWNER]) {
        if (e->kind == SIG_NODE &&
            sig_bytes_eq((const uint8_t *)e->node, e->node_len,
                         (const uint8_t *)node, len)) {
            sig_tab_del(n, e);
            break;
        }
    }
    pthread_mutex_unlock(&n->sig.mu);
}

/* Adds the entry, connecting node. */
static int monitor_node_add(edist_mbox *mb, const char *node, size_t len)
{
    edist_node *n = mb->node;
    edist_atom na = {node, len};
    if (node_is_local(n, na))
        return 0; /* our own node never goes down while we run */
    sig_ent e;
    int rc = sig_ent_init(&e, SIG_NODE, mb, node, len);
    rc = sig_ent_commit(n, &e, rc);
    /* Checked after the entry is in the table: a connection that went
     * down before would otherwise fire nothing. */
    if (rc == 0 && (!sig_connect_for(n, &na, SIG_CONNECT_MS) ||
                    !peer_is_up(n, node, len, NULL)))
        sig_node_down(n, node, len);
    return rc;
}

int edist_monitor_node(edist_mbox *mb, const char *node, int on)
{
    if (!mb || !node)
        return EDIST_EINVAL;
    size_t len = strlen(node);
    if (edist_node_name_check(node, len) != 0)
        return EDIST_EBADNAME;
    if (!on) {
        demonitor_node(mb, node, len);
        return 0;
    }
    return monitor_node_add(mb, node, len);
}

/* ------------------------------------------------ a mailbox that ends */

/* Removes every entry of mailbox (id, serial), telling partners it ended
 * with reason (encoded).  Costs the mailbox's own entries (and a lookup
 * of each local partner's).  Caller holds mu; sends go to *out. */
static void end_mbox(edist_node *n, edist_arena *a, uint32_t id,
                     uint32_t serial, const edist_term *reason, sig_out **out)
{
    edist_term self = sig_pid_of(n, id, serial);
    uint8_t *me = NULL;
    size_t me_len = 0;
    sig_ent *e;
    if (sig_encode(&self, &me, &me_len) < 0) {
        /* No memory to name ourselves in the signals: the entries go all
         * the same (sig_node_stop loops until none is left). */
        while ((e = sig_tab_owner_first(n, id, serial)) != NULL)
            sig_tab_del(n, e);
        return;
    }
    /* The first entry each time: handling one may remove others of the
     * same mailbox (a monitor of itself has both sides here). */
    while ((e = sig_tab_owner_first(n, id, serial)) != NULL) {
        int local = node_is_local(n, (edist_atom){e->node, e->node_len});
        edist_term other;
        sig_ent *j;
        switch (e->kind) {
        case SIG_LINK:
            if (e->unlink_id)
                break; /* unlinking: no exit signal */
            if (!local) {
                edist_linksm st = sig_lsm_of(e);
                if (edist_linksm_local_exit(&st) & EDIST_LSM_SEND_EXIT)
                    sig_out_push(out, e->node, e->node_len, OP_EXIT, me, me_len,
                                 e->other, e->other_len, NULL, 0, reason);
            } else if (sig_dec(a, e->other, e->other_len, &other) == 0 &&
                       other.type == EDIST_TERM_PID &&
                       (j = sig_tab_find(n, SIG_LINK, other.v.pid.id,
                                         other.v.pid.serial, me, me_len, NULL,
                                         0)) != NULL &&
                       j != e) {
                int active = j->unlink_id == 0;
                sig_tab_del(n, j);
                if (active)
                    sig_deliver_exit(n, a, other.v.pid.id, other.v.pid.serial,
                                     &self, reason);
            }
            break;
        case SIG_MON_IN:
            if (!local) {
                sig_out_push(out, e->node, e->node_len, OP_MONITOR_P_EXIT,
                             e->who, e->who_len, e->other, e->other_len, e->ref,
                             e->ref_len, reason);
            } else if (sig_dec(a, e->other, e->other_len, &other) == 0 &&
                       other.type == EDIST_TERM_PID &&
                       (j = sig_tab_find(n, SIG_MON_OUT, other.v.pid.id,
                                         other.v.pid.serial, NULL, 0, e->ref,
                                         e->ref_len)) != NULL) {
                sig_deliver_down(n, a, j, reason);
                sig_tab_del(n, j);
            }
            break;
        case SIG_MON_OUT:
            if (!local) {
                /* A spawn whose reply has not come has nothing to undo
                 * yet: its late reply is answered then (sig_route.c). */
                if (e->target)
                    sig_out_push(out, e->node, e->node_len, OP_DEMONITOR_P, me,
                                 me_len, e->target, e->target_len, e->ref,
                                 e->ref_len, NULL);
            } else {
                for (j = sig_tab_ref_first(n, e->ref, e->ref_len); j;
                     j = j->next[SIG_IX_REF]) {
                    if (j->kind == SIG_MON_IN) {
                        sig_tab_del(n, j);
                        break;
                    }
                }
            }
            break;
        default:
            break;
        }
        sig_tab_del(n, e);
    }
    free(me);
}

void edist_mbox_close_reason(edist_mbox *mb, const edist_term *reason)
{
    if (!mb)
        return;
    edist_node *n = mb->node;
    edist_term normal = sig_atom("normal");
    if (!reason)
        reason = &normal;
    edist_monitor_nodes(mb, 0);
    edist_monitor_nodes_opts(mb, 0, 0);
    edist_mqueue_close(&mb->q);
    edist_procs_get(&mb->proc);
    /* Out of the table first: a LINK or MONITOR_P arriving from now on is
     * answered noproc instead of being recorded for a mailbox that is
     * going (lookups happen under sig.mu, see route). */
    edist_procs_remove(&n->procs, &mb->proc);
    edist_arena *a = edist_arena_new(NULL);
    sig_out *out = NULL;
    pthread_mutex_lock(&n->sig.mu);
    if (a)
        end_mbox(n, a, mb->proc.id, mb->proc.serial, reason, &out);
    pthread_mutex_unlock(&n->sig.mu);
    sig_out_flush(n, out);
    edist_arena_free(a);
    edist_procs_put(&mb->proc);
}

void edist_mbox_close(edist_mbox *mb)
{
    edist_mbox_close_reason(mb, NULL);
}

void sig_node_stop(edist_node *n)
{
    edist_arena *a = edist_arena_new(NULL);
    if (!a)
        return;
    edist_term reason = sig_atom("shutdown");
    sig_out *out = NULL;
    pthread_mutex_lock(&n->sig.mu);
    while (n->sig.all) {
        uint32_t id = n->sig.all->id, serial = n->sig.all->serial;
        end_mbox(n, a, id, serial, &reason, &out);
    }
    pthread_mutex_unlock(&n->sig.mu);
    sig_out_flush(n, out);
    edist_arena_free(a);
}

/* -------------------------------------------------------------- aliases */

int sig_alias_add(edist_mbox *mb, const edist_term *ref)
{
    edist_node *n = mb->node;
    sig_ent e;
    int rc = sig_ent_init(&e, SIG_ALIAS, mb, n->name, n->name_len);
    if (rc == 0)
        rc = sig_encode(ref, &e.ref, &e.ref_len);
    return sig_ent_commit(n, &e, rc);
}

void sig_alias_del(edist_mbox *mb, const edist_term *ref)
{
    edist_node *n = mb->node;
    uint8_t *rb;
    size_t rlen;
    if (sig_encode(ref, &rb, &rlen) < 0)
        return;
    pthread_mutex_lock(&n->sig.mu);
    sig_ent *e = sig_tab_find(n, SIG_ALIAS, mb->proc.id, mb->proc.serial, NULL,
                              0, rb, rlen);
    if (e)
        sig_tab_del(n, e);
    pthread_mutex_unlock(&n->sig.mu);
    free(rb);
}

edist_mbox *sig_alias_lookup(edist_node *n, const edist_term *ref)
{
    uint8_t *rb;
    size_t rlen;
    if (sig_encode(ref, &rb, &rlen) < 0)
        return NULL;
    edist_mbox *mb = NULL;
    pthread_mutex_lock(&n->sig.mu);
    for (sig_ent *e = sig_tab_ref_first(n, rb, rlen); e && !mb;
         e = e->next[SIG_IX_REF]) {
        if (e->kind == SIG_ALIAS)
            mb = (edist_mbox *)edist_procs_by_pid(&n->procs, e->id, e->serial);
    }
    pthread_mutex_unlock(&n->sig.mu);
    free(rb);
    return mb;
}

/* -------------------------------------------------------- node up/down */

void sig_node_up(edist_node *n, const char *peer, size_t len)
{
    nodes_notify(n, peer, len, 1);
}

void sig_node_down(edist_node *n, const char *peer, size_t len)
{
    edist_arena *a = edist_arena_new(NULL);
    if (!a)
        return;
    edist_term noconn = sig_atom("noconnection"), other;
    pthread_mutex_lock(&n->sig.mu);
    sig_ent *e;
    while ((e = sig_tab_node_first(n, peer, len)) != NULL) {
        edist_linksm st = sig_lsm_of(e);
        if (e->kind == SIG_LINK &&
            (edist_linksm_conn_down(&st) & EDIST_LSM_DELIVER_EXIT) &&
            sig_dec(a, e->other, e->other_len, &other) == 0)
            sig_deliver_exit(n, a, e->id, e->serial, &other, &noconn);
        else if (e->kind == SIG_MON_OUT)
            sig_deliver_down(n, a, e, &noconn);
        else if (e->kind == SIG_NODE) {
            edist_term t, nd;
            nd = edist_mk_atom(peer, len);
            if (edist_term_tuple(a, &t, 2) == 0) {
                t.v.tuple.elems[0] = sig_atom("nodedown");
                t.v.tuple.elems[1] = nd;
                sig_deliver_to(n, e->id, e->serial, &t);
            }
        }
        sig_tab_del(n, e);
    }
    pthread_mutex_unlock(&n->sig.mu);
    edist_arena_free(a);
}

void sig_conn_down(edist_node *n, const char *peer, size_t len)
{
    sig_node_down(n, peer, len);
    nodes_notify(n, peer, len, 0);
}
