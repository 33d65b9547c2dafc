/*
 * edist/node.h: a C program as an Erlang node.
 *
 * Lifecycle:
 *
 *     edist_node_opts o = {0};
 *     o.name = "c1@127.0.0.1";
 *     o.cookie = "secret";            // or NULL: read like OTP does
 *     edist_node *n;
 *     int rc = edist_node_start(&o, &n);      // registers with EPMD
 *     edist_mbox *mb;
 *     edist_mbox_open(n, &mb);
 *     edist_mbox_register(mb, "echo");
 *     edist_msg *m;
 *     while (edist_recv(mb, &m, -1) == 0) {   // blocks; ticks go on anyway
 *         edist_term t;
 *         edist_msg_term(m, arena, &t);
 *         ...
 *         edist_msg_free(m);
 *     }
 *     edist_mbox_close(mb);
 *     edist_node_stop(n);                     // disconnects, unregisters
 *
 * Threading: a node runs one I/O thread of its own that owns every socket,
 * timer and handshake; ticks are sent and checked there, so a program that
 * does not call edist_recv() for minutes stays connected.  To save a thread
 * hand-off per message, one thread at a time that waits in edist_recv() or
 * edist_recv_many() on an empty mailbox that sent to another node since
 * its last receive (it probably waits for a reply) reads the connections
 * itself while it waits, and routes what arrives (to its own mailbox or any
 * other) before it returns; it never runs user code there and never
 * blocks on anything but the sockets.  Every function in
 * this header is safe to call from any thread, concurrently, except that a
 * mailbox must not be used after (or while) edist_mbox_close() runs on it,
 * and the node must not be used after edist_node_stop() returns.
 *
 * A node is visible by default and takes part in OTP's `global` (protocol
 * vsn 8) as a BEAM node does: nodes that meet only through it are
 * connected to each other, and it is connected to every member of the
 * clusters it joins (docs/mesh.md).  opts.hidden makes it a hidden node.
 *
 * Messages are handed over as External Term Format bytes (edist_msg): the
 * I/O thread routes them without decoding the payload, and the receiving
 * thread decodes them into its own arena.  Exit signals, monitor DOWN
 * notifications and node up/down events arrive as ordinary messages built
 * like Erlang's ({'EXIT', From, Reason}, {'DOWN', Ref, process, Who,
 * Reason}, {nodeup, Node}, {nodedown, Node}).
 */
#ifndef EDIST_NODE_H
#define EDIST_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "edist/export.h"
#include "edist/mem.h"
#include "edist/term.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct edist_node edist_node;
typedef struct edist_mbox edist_mbox;
typedef struct edist_msg edist_msg;

typedef struct edist_node_opts {
    /* "name@host" (long name if host contains a dot or is an IP literal,
     * else short), or "name" alone: a short name on this host's name.
     * Required.  Copied. */
    const char *name;
    /* The cookie, with OTP's -setcookie semantics.  NULL: read
     * ~/.erlang.cookie, else $XDG_CONFIG_HOME/erlang/.erlang.cookie, else
     * create ~/.erlang.cookie (20 random capitals, mode 0400).  Copied. */
    const char *cookie;
    /* net_ticktime in seconds (0: 60) and tick intensity (0: 4). */
    unsigned ticktime;
    unsigned tick_intensity;
    /* Non-zero: a hidden node (erl -hidden): connections carry no
     * PUBLISHED flag, peers list it in nodes(hidden), and it takes no part
     * in `global` (no transitive connections).  Zero, the default: a
     * visible node that runs a global_name_server compatible with OTP's
     * (protocol vsn 8), so it is meshed with every node of the cluster as
     * a BEAM node is (docs/mesh.md). */
    int hidden;
    /* Non-zero: OTP's -connect_all false: global only records
     * connections and never connects transitively (nor does it sync with
     * peers).  Ignored when hidden. */
    int no_connect_all;
    /* Non-zero: listen and register on IPv6 (::) instead of IPv4. */
    int ipv6;
    /* EPMD port; 0: $ERL_EPMD_PORT, else 4369. */
    unsigned epmd_port;
    /* Port to listen on for distribution; 0: an ephemeral port. */
    unsigned listen_port;
    /* Program started (with -daemon -port P) when no EPMD answers; NULL:
     * "edist-epmd" beside the running executable, else in PATH.  Set
     * no_epmd_start to fail with EDIST_ENOEPMD instead. */
    const char *epmd_program;
    int no_epmd_start;
    /* Per-connection cap on queued outgoing bytes (0: 64 MiB).  A sender
     * that would pass it waits up to send_timeout_ms for room, then gets
     * EDIST_EQUEUEFULL: backpressure, not unbounded memory.  Before the
     * cap, a sender also waits (within the same timeout) while more than
     * 1 MiB is queued to a connected peer, as BEAM suspends a process
     * whose distribution buffer is busy (dist_buf_busy_limit): a fast
     * sender then paces itself on the socket instead of filling the cap.
     * A message larger than the cap fails at once with EDIST_ETOOBIG. */
    size_t max_out_queue;
    /* Per-mailbox cap on queued incoming bytes (0: 64 MiB).  When a mailbox
     * is full the connections feeding it stop reading until it drains, so
     * nothing is lost and memory stays bounded. */
    size_t max_mailbox;
    /* How long edist_send() waits for room in a full out-queue before
     * giving up with EDIST_EQUEUEFULL (0: 10000 ms; < 0: forever). */
    int send_timeout_ms;
    /* Allocator for the node's own structures; NULL: default.  Borrowed. */
    const edist_allocator *alloc;
} edist_node_opts;

/*
 * Starts a node: resolves the cookie, listens, registers with EPMD
 * (starting edist-epmd when none answers, unless no_epmd_start) and starts
 * the I/O thread.  opts is borrowed for the call.  On success stores the
 * node in *out (owned by the caller: edist_node_stop() releases it).
 * Returns 0 or:
 *   EDIST_EINVAL / EDIST_EBADNAME   bad options or node name;
 *   EDIST_ECOOKIEFILE               the cookie file is unusable (why says
 *                                   which file and why);
 *   EDIST_ENAMEINUSE                EPMD already has a node of that name;
 *   EDIST_ENOEPMD                   no EPMD answers and none could be
 *                                   started;
 *   EDIST_EADDRINUSE, EDIST_ESYS    the listen socket or a thread could
 *                                   not be created;
 *   EDIST_ENOMEM.
 * why, when not NULL, receives a sentence for a person (why_len bytes,
 * NUL-terminated) on failure.
 */
EDIST_EXTERN int edist_node_start(const edist_node_opts *opts, edist_node **out,
                                  char *why, size_t why_len);

/*
 * Stops a node gracefully: waits for a running rpc callback to return
 * (queued rpc requests end with reason `shutdown`), tells every remote
 * process linked to or monitoring a mailbox still open that it ended with
 * reason `shutdown` (edist/proc.h), flushes what is queued, disconnects
 * every peer, unregisters from EPMD, ends the I/O thread and frees the
 * node.  Mailboxes still open become invalid (and are not freed): close
 * them first if other threads use them.  NULL is a no-op.
 */
EDIST_EXTERN void edist_node_stop(edist_node *node);

/* The node's full name ("name@host"), NUL-terminated; owned by the node. */
EDIST_EXTERN const char *edist_node_name(const edist_node *node);

/* The node's creation (from EPMD). */
EDIST_EXTERN uint32_t edist_node_creation(const edist_node *node);

/* The TCP port the node listens on for distribution. */
EDIST_EXTERN unsigned edist_node_port(const edist_node *node);

/* The node name as an atom (borrowed from the node; valid until stop). */
EDIST_EXTERN edist_atom edist_node_atom(const edist_node *node);

/* A new reference unique to this node (erlang:make_ref/0): three words
 * with the node's creation; its node atom is borrowed from the node. */
EDIST_EXTERN edist_term edist_make_ref(edist_node *node);

/* ------------------------------------------------------------ mailboxes */

/* Opens a mailbox with a fresh pid.  Returns 0 and stores it in *out
 * (owned by the caller: edist_mbox_close), EDIST_ETOOBIG (the node's cap
 * on processes), EDIST_ESHUTDOWN (node stopping), EDIST_ENOMEM. */
EDIST_EXTERN int edist_mbox_open(edist_node *node, edist_mbox **out);

/* Closes a mailbox: unregisters its name, drops queued messages and frees
 * it.  Like a process ending with reason `normal`: its links receive exit
 * signals and its monitors DOWN messages (edist_mbox_close_reason() in
 * edist/proc.h gives another reason).  Any thread blocked in edist_recv()
 * on it returns EDIST_ECLOSED first.  NULL is a no-op. */
EDIST_EXTERN void edist_mbox_close(edist_mbox *mb);

/* Registers name (UTF-8, 1..255 bytes) for the mailbox, like
 * erlang:register/2.  Returns 0, EDIST_EEXIST (name taken or the mailbox
 * has a name), EDIST_EINVAL, EDIST_ENOMEM. */
EDIST_EXTERN int edist_mbox_register(edist_mbox *mb, const char *name);

/* The mailbox's pid (its node atom is borrowed from the node). */
EDIST_EXTERN edist_term edist_mbox_pid(const edist_mbox *mb);

/* A file descriptor that is readable while messages are waiting (or the
 * mailbox is closed): for poll/epoll users.  Owned by the mailbox.  It is
 * created on the first call (a mailbox that is never polled saves two
 * system calls per idle-to-busy cycle); returns -1 when it cannot be
 * created (the process is out of file descriptors). */
EDIST_EXTERN int edist_mbox_fd(const edist_mbox *mb);

/*
 * Sends msg to the process to (a pid term, local or remote), like `To !
 * Msg`.  A remote node is connected on first use (EPMD lookup, handshake)
 * while the message waits in order.  As in Erlang, a message to a process
 * that does not exist is dropped silently.  Encodes in the caller's thread.
 * Returns 0, or:
 *   EDIST_ETYPE       to is not a pid;
 *   EDIST_EQUEUEFULL  the connection's out-queue stayed full for the
 *                     node's send timeout (backpressure);
 *   EDIST_ENOCONN     the peer could not be connected earlier and is
 *                     still failing (the message is dropped);
 *   EDIST_ETOOBIG, EDIST_ENOMEM, EDIST_ESHUTDOWN.
 */
EDIST_EXTERN int edist_send(edist_mbox *from, const edist_term *to,
                            const edist_term *msg);

/* Sends to the process registered as name on node (NULL or this node's
 * name: a local send), like `{Name, Node} ! Msg`.  Returns as edist_send. */
EDIST_EXTERN int edist_send_named(edist_mbox *from, const char *name,
                                  const char *node, const edist_term *msg);

/*
 * Takes the oldest message, waiting up to timeout_ms (< 0: forever; 0:
 * poll).  Returns 0 and stores it in *out (owned by the caller:
 * edist_msg_free), EDIST_ETIMEDOUT, or EDIST_ECLOSED.  While it waits the
 * calling thread may read and route the node's incoming traffic (see
 * Threading above), so a reply reaches it without a thread hand-off.
 */
EDIST_EXTERN int edist_recv(edist_mbox *mb, edist_msg **out, int timeout_ms);

/*
 * Takes up to max (>= 1) of the oldest messages at once into out[0..max),
 * oldest first, waiting up to timeout_ms for the first as edist_recv()
 * does and never for more.  One lock round trip for a whole batch: a
 * consumer that keeps up with a fast sender pays per batch, not per
 * message.  Returns the number stored (>= 1; each message owned by the
 * caller: edist_msg_free), EDIST_ETIMEDOUT, EDIST_ECLOSED, or
 * EDIST_EINVAL (mb or out NULL, max 0).
 */
EDIST_EXTERN int edist_recv_many(edist_mbox *mb, edist_msg **out, size_t max,
                                 int timeout_ms);

/* The message as term_to_binary bytes (131 ...), borrowed from msg. */
EDIST_EXTERN const uint8_t *edist_msg_data(const edist_msg *msg, size_t *len);

/* Decodes the message into arena a.  Returns 0 or a decode error
 * (edist/etf.h). */
EDIST_EXTERN int edist_msg_term(const edist_msg *msg, edist_arena *a,
                                edist_term *out);

/* Frees a message; NULL is a no-op. */
EDIST_EXTERN void edist_msg_free(edist_msg *msg);

/* ---------------------------------------------------------- connections */

/* Why a connection attempt failed, for a person: code is the EDIST_E*
 * value, reason a sentence (which flags the peer lacks, cookie mismatch,
 * name not registered, no EPMD on that host, timeout...). */
typedef struct edist_conn_error {
    int code;
    char reason[512];
} edist_conn_error;

/*
 * Connects to node ("name@host") unless already connected, and waits up to
 * timeout_ms (< 0: forever) for the handshake.  Returns 0 when connected,
 * or the failure's code (EDIST_ENOEPMD, EDIST_ENONODE, EDIST_ECONNREFUSED,
 * EDIST_ECOOKIE, EDIST_EFLAGS, EDIST_ENOTALLOWED, EDIST_ENAMEMISMATCH,
 * EDIST_ETIMEDOUT, EDIST_EBADNAME, ...), with details in *why when not
 * NULL.
 */
EDIST_EXTERN int edist_connect(edist_node *node, const char *peer,
                               int timeout_ms, edist_conn_error *why);

/* Closes the connection to peer, if any (like erlang:disconnect_node/1).
 * Returns 0, or EDIST_ENOCONN when not connected. */
EDIST_EXTERN int edist_disconnect(edist_node *node, const char *peer);

/*
 * net_adm:ping/1: connects if needed and asks the peer's net_kernel
 * whether it accepts us.  Returns 0 for pong, or the reason for pang (as
 * edist_connect, or EDIST_ETIMEDOUT when the peer did not answer), with
 * details in *why when not NULL.
 */
EDIST_EXTERN int edist_ping(edist_node *node, const char *peer, int timeout_ms,
                            edist_conn_error *why);

/*
 * Subscribes mb to node up/down events (net_kernel:monitor_nodes/1):
 * {nodeup, Node} and {nodedown, Node} messages for every peer, visible or
 * hidden.  on = 0 unsubscribes.  Returns 0, EDIST_ENOMEM.  See
 * edist_monitor_nodes_opts() (edist/proc.h) for net_kernel's options.
 */
EDIST_EXTERN int edist_monitor_nodes(edist_mbox *mb, int on);

/*
 * Lists the connected peers' names into names[0..cap) (borrowed copies
 * are made into buf, NUL-separated: each names[i] points into buf).
 * Returns the number of peers (which may exceed cap: call again with more
 * room), or EDIST_ETOOBIG when buf is too small.  The same as
 * edist_node_nodes(node, EDIST_NODES_CONNECTED, ...).
 */
EDIST_EXTERN int edist_node_peers(edist_node *node, const char **names,
                                  size_t cap, char *buf, size_t buf_len);

/* Which peers edist_node_nodes() lists (erlang:nodes/1): visible ones,
 * hidden ones, or both (connected). */
#define EDIST_NODES_VISIBLE   1u
#define EDIST_NODES_HIDDEN    2u
#define EDIST_NODES_CONNECTED 3u

/*
 * erlang:nodes/1: lists the names of the peers whose connection is up and
 * of the kinds in which (EDIST_NODES_*; a connection is visible when both
 * nodes published themselves) into names[0..cap), with the strings
 * copied into buf (NUL-terminated; each names[i] points into buf; owned by
 * the caller).  Returns the number of such peers (which may exceed cap:
 * call again with more room), EDIST_ETOOBIG when buf is too small for the
 * names that fit in cap, or EDIST_EINVAL (node NULL, which 0 or above 3,
 * names or buf NULL with cap > 0).  Thread-safe; a snapshot.
 */
EDIST_EXTERN int edist_node_nodes(edist_node *node, unsigned which,
                                  const char **names, size_t cap, char *buf,
                                  size_t buf_len);

#ifdef __cplusplus
}
#endif
#endif
