/*
 * signals.h: the node's table of links, monitors and node monitors, and
 * the entry points the rest of the runtime calls (route.c for incoming
 * control messages, mbox.c on close and on node up/down, node.c on stop).
 */
#ifndef EDIST_RT_SIGNALS_H
#define EDIST_RT_SIGNALS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/hmap.h"
#include "edist/dist.h"
#include "edist/term.h"

typedef struct edist_node edist_node;
typedef struct edist_peer edist_peer;
typedef struct edist_mbox edist_mbox;
typedef struct sig_ent sig_ent;

/* The node's part (embedded in edist_node).  Every entry is on the `all`
 * list and indexed three ways, each a map to the list of entries sharing
 * a key: by owner mailbox (id, serial), by the other side's node (remote
 * nodes only: our own never goes down), and by reference (monitors and
 * aliases).  So a signal or a mailbox close touches only the entries it
 * concerns (sig_table.c). */
typedef struct sig_table {
    pthread_mutex_t mu;
    sig_ent *all;
    size_t n;
    edist_hmap by_owner, by_node, by_ref;
    /* Freed entries kept for reuse (linked by all_next): a call takes
     * and drops a monitor and an alias per request. */
    sig_ent *spare;
    size_t nspare;
    uint64_t next_unlink_id;
} sig_table;

void sig_init(edist_node *n);
void sig_destroy(edist_node *n);

/* route.c: a signal op (LINK, EXIT*, UNLINK_ID*, MONITOR_P*, DEMONITOR_P,
 * SPAWN_REQUEST*).  Returns 0 or EDIST_EBADMSG (close the connection). */
int sig_route(edist_node *n, edist_peer *p, int64_t op,
              const edist_dist_msg *m);

/* mbox.c: the peer's connection came up / went down (I/O thread):
 * relations over it fire, monitor_nodes/2 subscribers are told. */
void sig_node_up(edist_node *n, const char *peer, size_t len);
void sig_conn_down(edist_node *n, const char *peer, size_t len);
/* The relations with peer fire (noconnection, nodedown) without telling
 * monitor_nodes subscribers: also for a node that never came up. */
void sig_node_down(edist_node *n, const char *peer, size_t len);

/* edist_node_stop(): tells every remote partner that our mailboxes end
 * with reason `shutdown`, and forgets them. */
void sig_node_stop(edist_node *n);

/* Adds the monitor a spawn request asked for (rpc_server.c): origin
 * monitors the local mailbox mb with ref.  Both return 0 or EDIST_ENOMEM. */
int sig_add_monitor_in(edist_mbox *mb, const edist_term *origin,
                       const edist_term *ref, const char *node, size_t len);
/* And the link it asked for. */
int sig_add_link_in(edist_mbox *mb, const edist_term *origin, const char *node,
                    size_t len);

/* edist_erpc's spawn request (call.c): mb monitors, with reference reqid,
 * the process node will spawn for it.  The entry learns the process from
 * SPAWN_REPLY (sig_route.c), fires as any monitor (MONITOR_P_EXIT,
 * noconnection) and is dropped by edist_demonitor(mb, reqid), which tells
 * the peer only once the process is known.  Returns 0 or EDIST_ENOMEM. */
int sig_spawn_monitor(edist_mbox *mb, const edist_term *reqid, const char *node,
                      size_t len);

/* The connection setup a link or monitor to a remote node waits for
 * (net_setuptime's default). */
#define SIG_CONNECT_MS 7000

/* edist_monitor, waiting at most connect_ms for the connection to a
 * remote target (a call's own timeout bounds it: edist_call).  Returns
 * as edist_monitor. */
int sig_monitor(edist_mbox *mb, const edist_term *target, edist_term *ref,
                int connect_ms);

/* edist_link / edist_unlink (proc_link.c wraps them: see proc.h). */
int sig_link(edist_mbox *mb, const edist_term *pid);
int sig_unlink(edist_mbox *mb, const edist_term *pid);

/* Aliases (ALIAS_SEND targets) of a mailbox: edist_call's reply tags.
 * lookup returns the mailbox with a reference taken, or NULL. */
int sig_alias_add(edist_mbox *mb, const edist_term *ref);
void sig_alias_del(edist_mbox *mb, const edist_term *ref);
edist_mbox *sig_alias_lookup(edist_node *n, const edist_term *ref);

/* Encodes t (no version byte) into owned bytes; 0 or an error. */
int sig_encode(const edist_term *t, uint8_t **out, size_t *len);

/* The tuple of the arity terms at el (borrowed, not copied): for control
 * messages and replies built on the stack. */
static inline edist_term sig_tuple(edist_term *el, size_t arity)
{
    edist_term t;
    t.type = EDIST_TERM_TUPLE;
    t.v.tuple.arity = arity;
    t.v.tuple.elems = el;
    return t;
}

/* The atom of a NUL-terminated string (borrowed, not validated).  Inline:
 * the length of a literal is then known at compile time. */
static inline edist_term sig_atom(const char *s)
{
    return edist_mk_atom(s, strlen(s));
}

/* Encodes the control message ctl (no payload) and sends it on p: 0 or
 * an encoding or peer_send error. */
int sig_peer_send(edist_peer *p, const edist_term *ctl);

/* Sends the control message ctl (no payload) to node: with dial, over a
 * connection made if there is none (exit/2 connects, as on BEAM); without,
 * only over the connection there is (up, or still coming up).  A signal
 * whose entry was made for a connection must not go out on the next one:
 * that connection's going down already fired the entry, and the peer
 * would hold a link or monitor we no longer have.  Returns 0,
 * EDIST_ENOCONN (no connection: dropped), or an encoding or peer_send
 * error. */
int sig_send_ctl(edist_node *n, const edist_atom *node, const edist_term *ctl,
                 int dial);

/* Delivers t to the local pid (no-op when gone). */
void sig_deliver_local(edist_node *n, const edist_term *pid,
                       const edist_term *t);

#endif
