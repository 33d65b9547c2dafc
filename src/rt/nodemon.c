/*
 * nodemon.c: net_kernel:monitor_nodes/2 subscriptions with options (hidden
 * nodes, nodedown reasons).  The I/O thread reports every peer that comes
 * up or goes down; we remember each up peer (a reference to it) so that
 * its visibility and the reason it went down can be read when it goes.
 */
#include <stdlib.h>
#include <string.h>

#include "edist/err.h"
#include "edist/proc.h"
#include "rt/node_int.h"

typedef struct nm_sub {
    uint32_t id, serial;
    unsigned options;
} nm_sub;

typedef struct nm_known {
    edist_peer *peer; /* a reference */
} nm_known;

void nodemon_destroy(edist_node *n)
{
    for (size_t i = 0; i < n->nm.nknown; i++)
        peer_unref(n->nm.known[i].peer);
    free(n->nm.known);
    free(n->nm.subs);
    pthread_mutex_destroy(&n->nm.mu);
}

void nodemon_init(edist_node *n)
{
    pthread_mutex_init(&n->nm.mu, NULL);
}

int edist_monitor_nodes_opts(edist_mbox *mb, int on, unsigned options)
{
    if (!mb || options > 15u)
        return EDIST_EINVAL;
    edist_node *n = mb->node;
    int rc = 0;
    pthread_mutex_lock(&n->nm.mu);
    if (on) {
        if (n->nm.nsubs == n->nm.capsubs) {
            size_t cap = n->nm.capsubs ? n->nm.capsubs * 2 : 8;
            nm_sub *s = realloc(n->nm.subs, cap * sizeof *s);
            if (!s)
                rc = EDIST_ENOMEM;
            else {
                n->nm.subs = s;
                n->nm.capsubs = cap;
            }
        }
        if (rc == 0) {
            nm_sub *s = &n->nm.subs[n->nm.nsubs++];
            s->id = mb->proc.id;
            s->serial = mb->proc.serial;
            s->options = options;
        }
    } else {
        /* Off with options 0 (from edist_mbox_close): every subscription
         * of the mailbox; otherwise the one with these options. */
        for (size_t i = 0; i < n->nm.nsubs;) {
            nm_sub *s = &n->nm.subs[i];
            if (s->id == mb->proc.id && s->serial == mb->proc.serial &&
                (options == 0 || s->options == options))
                n->nm.subs[i] = n->nm.subs[--n->nm.nsubs];
            else
                i++;
        }
    }
    pthread_mutex_unlock(&n->nm.mu);
    return rc;
}

/* BEAM's nodedown_reason for how the connection ended. */
static const char *nm_reason(const edist_conn_error *e)
{
    if (e->code == EDIST_ETIMEDOUT)
        return "net_tick_timeout";
    if (strstr(e->reason, "disconnected"))
        return "disconnect";
    return "connection_closed";
}

void nodes_notify(edist_node *n, const char *peer, size_t len, int up)
{
    edist_peer *p = NULL;
    pthread_mutex_lock(&n->nm.mu);
    if (up) {
        p = peer_lookup(n, peer, len);
        nm_known *k = NULL;
        if (p && n->nm.nknown == n->nm.capknown) {
            size_t cap = n->nm.capknown ? n->nm.capknown * 2 : 8;
            k = realloc(n->nm.known, cap * sizeof *k);
            if (k) {
                n->nm.known = k;
                n->nm.capknown = cap;
            }
        }
        if (p && n->nm.nknown < n->nm.capknown) {
            n->nm.known[n->nm.nknown++].peer = p;
            peer_ref(p);
        }
    } else {
        for (size_t i = 0; i < n->nm.nknown; i++) {
            edist_peer *q = n->nm.known[i].peer;
            if (q->name_len == len && memcmp(q->name, peer, len) == 0) {
                p = q; /* the table's reference moves to us */
                n->nm.known[i] = n->nm.known[--n->nm.nknown];
                break;
            }
        }
    }
    int visible = 1;
    char reason[64] = "connection_closed";
    if (p) {
        pthread_mutex_lock(&p->mu);
        visible = p->visible;
        if (!up)
            snprintf(reason, sizeof reason, "%s", nm_reason(&p->err));
        pthread_mutex_unlock(&p->mu);
    }
    /* {nodeup, Node} | {nodedown, Node} | ... with an info list. */
    for (size_t i = 0; i < n->nm.nsubs; i++) {
        nm_sub *s = &n->nm.subs[i];
        unsigned o = s->options;
        if (visible ? (o & EDIST_MONITOR_NODES_HIDDEN_ONLY) != 0
                    : !(o & (EDIST_MONITOR_NODES_HIDDEN |
                             EDIST_MONITOR_NODES_HIDDEN_ONLY)))
            continue;
        /* The info list, in ERTS's order (see edist/proc.h). */
        edist_term rp[2] = {sig_atom("nodedown_reason"), sig_atom(reason)};
        edist_term tp[2] = {sig_atom("node_type"),
                            sig_atom(visible ? "visible" : "hidden")};
        edist_term items[2], nil = edist_mk_nil();
        size_t k = 0;
        if (!up && (o & EDIST_MONITOR_NODES_REASON))
            items[k++] = sig_tuple(rp, 2);
        if (o & EDIST_MONITOR_NODES_TYPE)
            items[k++] = sig_tuple(tp, 2);
        edist_term info = nil;
        if (k) {
            info.type = EDIST_TERM_LIST;
            info.v.list.len = k;
            info.v.list.elems = items;
            info.v.list.tail = &nil;
        }
        edist_term el[3] = {sig_atom(up ? "nodeup" : "nodedown"),
                            edist_mk_atom(peer, len), info};
        edist_term t = sig_tuple(
            el, o & (EDIST_MONITOR_NODES_REASON | EDIST_MONITOR_NODES_TYPE)
                    ? 3
                    : 2);
        edist_term pid =
            edist_mk_pid(edist_node_atom(n), s->id, s->serial, n->creation);
        sig_deliver_local(n, &pid, &t);
    }
    pthread_mutex_unlock(&n->nm.mu);
    if (p)
        peer_unref(p); /* the lookup's reference, or the table's on down */
    /* global_name_server hears of it as net_kernel's subscribers do. */
    mesh_peer_event(n, peer, len, up, visible);
}

int edist_node_peer_visible(edist_node *n, const char *peer)
{
    if (!n || !peer)
        return EDIST_EINVAL;
    edist_peer *p = peer_lookup(n, peer, strlen(peer));
    if (!p)
        return EDIST_ENOCONN;
    pthread_mutex_lock(&p->mu);
    int rc = p->state == PEER_UP ? (p->visible != 0) : EDIST_ENOCONN;
    pthread_mutex_unlock(&p->mu);
    peer_unref(p);
    return rc;
}

int edist_whereis(edist_node *n, const char *name, edist_term *pid)
{
    if (!n || !name || !pid)
        return EDIST_EINVAL;
    edist_proc *pr = edist_procs_by_name(&n->procs, name, strlen(name));
    if (!pr)
        return EDIST_ENOPROC;
    *pid = edist_mk_pid(edist_node_atom(n), pr->id, pr->serial, n->creation);
    edist_procs_put(pr);
    return 0;
}
