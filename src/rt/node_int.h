/*
 * node_int.h: the node runtime's internal structures.
 *
 * Ownership and threads, in one place:
 *
 *   edist_node   created by edist_node_start(), freed by edist_node_stop().
 *   edist_mbox   user-owned; its edist_proc header is reference-counted
 *                because the I/O thread may be delivering to it while a
 *                user thread closes it.
 *   edist_peer   one per remote node name we are connected or connecting
 *                to: the out-queue (an edist_dist_tx), the state and the
 *                waiters.  Shared by user threads (which queue messages)
 *                and the I/O thread; guarded by peer->mu; reference-counted
 *                (the peer table holds one reference).
 *   rt_link      one socket and its handshake, dial or accepted.  I/O
 *                thread only, except what reading an up link touches (the
 *                frame decoder, paused): that belongs to whoever holds
 *                rx_mu, the I/O thread or the leader (rx.c).  A link
 *                becomes the peer's link when its handshake completes (or,
 *                when dialling, from the start).
 *
 * Locks are never nested except peers_mu -> peer->mu (lookup then lock)
 * and rx.reg_mu -> link->rx_mu -> what routing takes (rx.c), and no lock
 * is held across a blocking call.
 */
#ifndef EDIST_RT_NODE_INT_H
#define EDIST_RT_NODE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "core/hmap.h"
#include "edist/cookie.h"
#include "edist/epmd.h"
#include "edist/etf.h"
#include "edist/node.h"
#include "edist/proto.h"
#include "rt/clock.h"
#include "rt/loop.h"
#include "rt/mesh.h"
#include "rt/mqueue.h"
#include "rt/msgpool.h"
#include "rt/outq.h"
#include "rt/procs.h"
#include "rt/rpc_server.h"
#include "rt/signals.h"

/* The most one read of a link asks for (link_rx_read; a large frame is
 * read to its end at once), and the size of the handshakes' read buffer. */
#define NODE_READ_CHUNK (64u * 1024u)

struct edist_mbox {
    edist_proc proc; /* first: the process table hands these out */
    edist_node *node;
    edist_mqueue q;
    int monitor_nodes; /* subscribed to {nodeup, N} / {nodedown, N} */
};

enum peer_state {
    PEER_PENDING = 1, /* dialling or waiting for the handshake */
    PEER_UP = 2,
    PEER_DOWN = 3 /* gone: removed from the table, queue dropped */
};

typedef struct rt_link rt_link;

/* Messages routed from the frames of one read, held per mailbox and
 * pushed as a chain (mbox.c). */
typedef struct mbox_batch {
    int active;
    int over;       /* a flush out of turn found its mailbox over the cap */
    edist_mbox *mb; /* a reference while it holds messages */
    edist_msg *head, *tail;
    size_t count, bytes;
} mbox_batch;

/* Reading up links (rx.c).  Every up link's fd is in two epoll sets with
 * EPOLLEXCLUSIVE, leaders' set first: the kernel then wakes a thread
 * blocked in a receive (the leader) when there is one, and the I/O thread
 * (through io_poll) only when there is none. */
typedef struct node_rx {
    int ep;    /* the leader waits here */
    int io_ep; /* watched by the I/O thread through io_poll */
    int efd;   /* wakes the leader (its mailbox got a message) */
    uv_poll_t io_poll;
    atomic_int busy;          /* a leader is waiting or reading */
    _Atomic(pthread_t) owner; /* the leader, else the I/O thread */
    atomic_int stopping;      /* no new leaders */
    pthread_mutex_t reg_mu;   /* guards the registry for leaders */
    rt_link **slots;          /* registry: tags to links */
    uint32_t *gens;
    size_t nslots;
    /* Receive coalescing (I/O thread only): streaming links taken out of
     * the sets until the timerfd fires. */
    int tfd;
    uv_poll_t tpoll;
    int tarmed;
    uint64_t *coal; /* tags of the links to put back */
    size_t ncoal, capcoal;
    /* A leader that leaves readable links in ep unread (rx.c) has the I/O
     * thread read them: their readiness went to ep, not io_ep. */
    uv_async_t sweep;
} node_rx;

typedef struct edist_peer {
    atomic_uint refs;
    edist_node *node;
    char name[EDIST_NODE_NAME_MAX + 1];
    size_t name_len;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* state changes, room in the queue, writer done */
    edist_outq q;      /* queued frames (peer.c frames them) */
    /* enum peer_state; written under mu, read without it where a look is
     * all that is needed (peer_get_up: the answer may change at once
     * anyway). */
    atomic_int state;
    int flush_pending;     /* an I/O-thread flush is scheduled */
    int writable_wait;     /* the I/O thread waits for POLLOUT */
    int fd;                /* the up link's socket, for direct writes; -1 */
    int writing;           /* a thread is in writev() on fd without mu */
    int waiters;           /* senders waiting for room */
    uint64_t last_send_ns; /* when the previous message was queued */
    unsigned burst;        /* direct writes since the last idle gap */
    atomic_int rx_seen;    /* bytes read since the last tick pass */
    /* Set by every send to this peer, taken by the link's reader: a
     * read that follows a send is an exchange, not a stream (rx.c). */
    atomic_int tx_mark;
    edist_conn_error err;
    /* The EPMD lookup edist_connect() did in its caller's thread, for
     * link_dial (set before the dial is posted). */
    int pre_resolved;
    struct sockaddr_storage pre_addr;
    socklen_t pre_addrlen;
    edist_conn_error pre_err;

    /* I/O thread only. */
    rt_link *link;  /* the dial in progress, or the up connection */
    uint64_t flags; /* negotiated */
    int visible;
    uint32_t creation;
    edist_ticker ticker;
    struct edist_peer *dirty_next; /* guarded by node->dirty_mu */
    int dirty_listed;              /* on the dirty list; node->dirty_mu */
} edist_peer;

enum link_state {
    LINK_LOOKUP = 1, /* EPMD lookup and name resolution in the pool */
    LINK_CONNECTING, /* non-blocking connect() in flight */
    LINK_HANDSHAKE,
    LINK_UP,
    LINK_CLOSED,
    /* We dialled, the peer answered nok (its own attempt to us wins the
     * simultaneous connect): the socket is closed, but the link stays the
     * peer's until that attempt arrives, so queued messages and waiters
     * are kept, or until the handshake time limit passes. */
    LINK_NOK_WAIT
};

struct rt_link {
    edist_node *node;
    rt_link *next, *prev; /* the node's list of live links */
    int state;            /* enum link_state */
    int role;             /* EDIST_HS_INITIATOR or EDIST_HS_ACCEPTOR */
    int fd;
    uv_poll_t poll;
    int poll_started;
    int poll_events;
    uv_timer_t timer; /* handshake deadline */
    int closing;
    edist_hs *hs;
    edist_dist_rx *rx;
    edist_peer *peer;  /* a reference, once known */
    int up;            /* this link is its peer's up connection */
    atomic_int paused; /* a mailbox is full: not reading (backpressure) */
    /* Reading once up (rx.c): whoever reads and routes holds rx_mu, the
     * I/O thread or a leader (a user thread blocked in a receive). */
    pthread_mutex_t rx_mu;
    uint32_t rx_slot, rx_gen; /* in node->rx's registry; gen 0: none */
    atomic_int rx_armed;      /* the fd is in both rx epoll sets */
    atomic_int rx_closed;     /* link_close ran: readers leave it */
    int rx_more; /* the last link_rx_read stopped at its bound (rx_mu) */
    uint64_t rx_last_ns; /* the previous read that got bytes */
    unsigned rx_streak;  /* small reads in a row with no send between */
    /* Dial: what the thread pool found. */
    uv_work_t work;
    char host[256];
    char alive[256];
    unsigned epmd_port;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    edist_conn_error lookup_err;
};

struct edist_node {
    const edist_allocator *alloc;
    msgpool *msgpool; /* received messages' storage (msgpool.h) */
    char name[EDIST_NODE_NAME_MAX + 1];
    size_t name_len;
    char host[256];
    uint32_t creation;
    edist_cookie cookie;
    uint64_t flags; /* advertised, without PUBLISHED */
    uint32_t ticktime_ms;
    uint32_t tick_intensity;
    int hidden;
    int ipv6;
    unsigned epmd_port;
    size_t max_out_queue;
    size_t max_mailbox;
    int send_timeout_ms;

    edist_procs procs;
    edist_loop loop;
    int listen_fd;
    unsigned port;
    uv_poll_t listen_poll;
    uv_timer_t tick_timer;
    uv_async_t flush_async;
    uv_async_t resume_async; /* a full mailbox drained */
    edist_epmd_reg *reg;

    pthread_mutex_t peers_mu;
    edist_hmap peers; /* name -> edist_peer (one reference each) */
    rt_link *links;   /* every live link (I/O thread only) */

    pthread_mutex_t dirty_mu;
    edist_peer *dirty; /* peers with queued bytes to flush */

    pthread_mutex_t mon_mu;
    edist_hmap monitors; /* pid key -> mbox subscribed to node events */

    /* I/O thread only: messages routed from the frames of one read, held
     * per mailbox and pushed as a chain (mbox.c: one lock and at most one
     * wake-up per batch instead of per message). */
    mbox_batch deliver;
    mbox_batch ldeliver; /* the same for the current leader (rx.c) */
    sig_table sig;       /* links and monitors (signals.c) */
    struct {             /* monitor_nodes/2 subscriptions (nodemon.c) */
        pthread_mutex_t mu;
        struct nm_sub *subs;
        size_t nsubs, capsubs;
        struct nm_known *known;
        size_t nknown, capknown;
    } nm;
    rpc_server *rpc; /* rpc_server.c */
    /* Idle mailboxes of finished edist_rpc() calls, reused by the next
     * ones (call.c): opening and closing one per call cost 3 us of a
     * 35 us round trip. */
    pthread_mutex_t rpc_pool_mu;
    edist_mbox *rpc_pool[8];
    size_t rpc_pool_n;
    /* The edist_rpc() calls waiting for a reply, told when their node goes
     * down (call.c); under rpc_pool_mu. */
    struct call_waiter *rpc_waiters;
    rt_mesh *mesh; /* mesh.c: global_name_server; NULL when hidden */
    /* The group leader of the processes edist_erpc spawns: its I/O
     * requests go on to the caller's `user` (route.c).  The I/O thread
     * knows it by id and serial, which stay valid after it is closed. */
    edist_mbox *io_proxy;
    uint32_t io_proxy_id, io_proxy_serial;
    node_rx rx; /* reading up links, leader/follower (rx.c) */

    atomic_uint_fast64_t next_ref; /* make_ref counter */
    uint32_t ref_salt[2];          /* random words: refs of this node */
    int stopping;
    uint8_t rbuf[NODE_READ_CHUNK]; /* I/O thread's read buffer */
};

/* ---- peers (peer.c) */
edist_peer *peer_get_or_create(edist_node *n, const char *name, size_t len,
                               int *created);
edist_peer *peer_lookup(edist_node *n, const char *name, size_t len);
/* Whether the connection to the named node is up; if so and flags is not
 * NULL, *flags gets the distribution flags it negotiated. */
int peer_is_up(edist_node *n, const char *name, size_t len, uint64_t *flags);
/* The named node's peer with a reference for the caller when its
 * connection is up, else NULL. */
edist_peer *peer_get_up(edist_node *n, const char *name, size_t len);
void peer_ref(edist_peer *p);
void peer_unref(edist_peer *p);
/* Queues a message (ctl and payload without version bytes) and schedules
 * a flush.  Waits up to the node's send timeout for room. */
int peer_send(edist_peer *p, const uint8_t *ctl, size_t ctl_len,
              const uint8_t *payload, size_t payload_len);
/* As peer_send, with the payload given as a term (borrowed) that is
 * encoded straight into the out-queue; size is its encoded size with the
 * version byte (edist_etf_encoded_size). */
int peer_send_term(edist_peer *p, const uint8_t *ctl, size_t ctl_len,
                   const edist_term *msg, size_t size);
/* I/O thread: writes what is queued; arms POLLOUT when the socket is full. */
void peer_flush(edist_peer *p);
/* I/O thread: the peer's connection is up / gone. */
void peer_up(edist_peer *p, rt_link *l, const edist_hs_event *ev);
void peer_down(edist_peer *p, int code, const char *reason);
void node_flush_dirty(uv_async_t *h);
void node_tick(uv_timer_t *t);
/* Referenced pointers to every peer in *out (free() the array, unref each
 * peer); returns their number.  For passes that must not hold peers_mu. */
size_t peer_snapshot(edist_node *n, edist_peer ***out);

/* ---- links (link.c) */
void link_dial(edist_node *n, edist_peer *p);
/* Blocking: asks EPMD on host for alive's port and resolves host.
 * Returns 0 with the address in *addr, or a code with the reason in *e. */
int link_resolve(const char *host, const char *alive, unsigned epmd_port,
                 int timeout_ms, struct sockaddr_storage *addr,
                 socklen_t *addrlen, edist_conn_error *e);
void link_accept(edist_node *n, int fd);
void link_close(rt_link *l, int code, const char *reason);
void link_update_poll(rt_link *l);
void node_resume_links(uv_async_t *h);

/* ---- reading up links (rx.c) */
int rx_init(edist_node *n);        /* before the loop starts */
int rx_loop_setup(edist_node *n);  /* on the loop, with the other handles */
void rx_loop_close(edist_node *n); /* node_on_stop */
void rx_stop(edist_node *n);       /* any thread: ends leadership */
void rx_destroy(edist_node *n);
/* I/O thread: registers an up link and starts reading it. */
int rx_attach(rt_link *l);
/* Adds the fd to / removes it from both epoll sets.  Idempotent. */
void rx_arm(rt_link *l);
void rx_disarm(rt_link *l);
/* I/O thread: forgets l (its fd is about to close); waits for a leader
 * reading it. */
void rx_detach(rt_link *l);
/* True on the I/O thread or on the current leader: routing code must not
 * wait for the I/O thread there. */
int node_on_io(edist_node *n);

/* Closes the idle edist_rpc() mailboxes (call.c); at node stop. */
void call_pool_close(edist_node *n);
/* Queues msg, {nodedown, Peer} encoded with its version byte, to the
 * edist_rpc() calls waiting on peer (call.c); node_notify_nodes calls it
 * once the connection is marked down. */
void call_node_down(edist_node *n, const char *peer, size_t len,
                    const uint8_t *msg, size_t msg_len);
/* The leader hooks for a mailbox queue's pop. */
int rx_try_lead(void *ctx);
void rx_lead_wait(void *ctx, int timeout_ms);
/* link.c: reads and routes what fd holds, rx_mu held; *got is the number
 * of bytes read.  Returns 0, or a negative code when the link must close
 * (*why says why). */
int link_rx_read(rt_link *l, size_t *got, char *why, size_t why_len);

/* ---- routing of incoming control messages (route.c) */
/* Returns 0, 1 when a mailbox passed its cap (pause the link), or a
 * negative code for a malformed control message (close the link). */
int route_message(edist_node *n, edist_peer *p, const edist_dist_msg *m);
/* Decodes the message that starts at payload (inside m) into a new arena,
 * returned in *a (free it, also on failure, when not NULL).  Returns 0 or
 * a decoding error. */
int route_payload_term(const edist_dist_msg *m, const uint8_t *payload,
                       edist_arena **a, edist_term *t);

/* ---- mailboxes (mbox.c) */
/* Copies a term (with or without its 131 byte) into a message for mb.
 * Returns 0, 1 when the mailbox is now over its cap, EDIST_ECLOSED,
 * EDIST_ENOMEM. */
int mbox_deliver_bytes(edist_mbox *mb, const uint8_t *term, size_t len,
                       int has_version);
/* The same for a term with its version byte, queued when it returns:
 * what the calling thread's batch holds is queued first, so the message
 * still comes after those routed before it.  Returns 0, 1 (over the cap),
 * EDIST_ECLOSED, EDIST_ENOMEM. */
int mbox_push_now(edist_mbox *mb, const uint8_t *term, size_t len);
/* edist_recv, waiting at most until *dl (edist_mqueue_pop_by). */
int mbox_recv_by(edist_mbox *mb, edist_msg **out, int timeout_ms,
                 edist_mq_deadline *dl);
/* Sends the control term ctl (encoded, no version byte) with payload (a
 * term, borrowed) from mailbox from to node (not ours), connecting if
 * needed; an answer may then be read by from's receiving thread.
 * Returns 0 or a peer_send / encoding error. */
int mbox_send_ctl(edist_mbox *from, const char *node, const uint8_t *ctl,
                  size_t ctl_len, const edist_term *payload);
/* edist_send_named(from, name, <p's node>, msg) over peer p, which the
 * caller holds a reference to: no second look-up of the peer (edist_rpc
 * has just checked it is up).  Returns as edist_send_named. */
int mbox_send_named_peer(edist_mbox *from, edist_peer *p, const char *name,
                         const edist_term *msg);
/* The same for a message the caller encoded: msg[0..len) is one term
 * with its version byte (borrowed).  Returns as edist_send_named, or
 * EDIST_EINVAL when len < 2. */
int mbox_send_named_bytes(edist_mbox *from, edist_peer *p, const char *name,
                          const uint8_t *msg, size_t len);
/* I/O thread or leader: between begin and end, deliveries made on that
 * thread are batched per mailbox.  end pushes what is held and returns 1 when a
 * mailbox went over its cap meanwhile (pause the source), else 0. */
void mbox_batch_begin(edist_node *n);
int mbox_batch_end(edist_node *n);
void node_notify_nodes(edist_node *n, const char *peer, size_t len, int up);
int node_is_local(const edist_node *n, edist_atom node);
/* The pid of the I/O proxy (the group leader edist_erpc gives): made
 * from its id and serial, so any thread may ask, even while the node
 * stops and the mailbox itself is gone. */
edist_term node_io_proxy_pid(const edist_node *n);
/* The mailbox a pid of this node (and this incarnation) names, with a
 * reference taken (edist_procs_put), or NULL. */
edist_mbox *node_local_mbox(edist_node *n, const edist_term *pid);

/* ---- node monitoring with options (nodemon.c) */
void nodemon_init(edist_node *n);
void nodemon_destroy(edist_node *n);
void nodes_notify(edist_node *n, const char *peer, size_t len, int up);

/* ---- rpc server (rpc_server.c) */
int rpc_server_init(edist_node *n);

#endif
