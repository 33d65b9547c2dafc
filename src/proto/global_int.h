/*
 * global_int.h: a sans-IO model of OTP's global_name_server (kernel
 * global.erl, protocol vsn 8), so that an edist node takes part in the
 * fully connected mesh BEAM nodes keep (protocol.md 5, docs/mesh.md).
 *
 * Input: events (a peer came up or went down) and decoded terms sent to
 * the registered name global_name_server (casts, calls and plain
 * messages).  Output: actions the runtime pulls with edist_gl_next() and
 * carries out: send a message to {global_name_server, Node} or to a pid,
 * connect to a node, disconnect a node.  No I/O, no clocks, no threads:
 * every step is a function of the state and the input, which is what the
 * unit tests and the fuzzer drive.
 *
 * Threading: none of its own.  One owner (the node's I/O thread) calls
 * everything.
 */
#ifndef EDIST_PROTO_GLOBAL_INT_H
#define EDIST_PROTO_GLOBAL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "edist/mem.h"
#include "edist/proto.h"
#include "edist/term.h"

/* The protocol version we speak (global.erl ?vsn in OTP 25-27). */
#define EDIST_GL_VSN 8

/* Caps that keep a peer's messages from growing the state without bound:
 * nodes remembered, global names, lock resources, lost_connection
 * records. */
#define EDIST_GL_MAX_NODES 65536u
#define EDIST_GL_MAX_NAMES 65536u
#define EDIST_GL_MAX_LOCKS 4096u
#define EDIST_GL_MAX_LOST  4096u
/* Pids holding locks, over all locks: one lock id may be set by any
 * number of pids, so the lock count alone does not bound them (and each
 * set_lock scans the holders of its lock, as BEAM's lists:member does). */
#define EDIST_GL_MAX_HOLDERS 4096u
/* Encoded bytes kept for names and locks (names, pids, methods, lock
 * ids): a term may be as large as a message (64 MiB), so counts alone
 * would let a peer pin terabytes. */
#define EDIST_GL_MAX_BYTES ((size_t)64 << 20)

enum edist_gl_action_kind {
    /* msg to {global_name_server, node}; connects first unless
     * noconnect (then dropped when node is not connected). */
    EDIST_GL_SEND = 1,
    /* msg to the pid to (a reply to a call); node is the pid's node. */
    EDIST_GL_SEND_PID,
    /* connect to node (BEAM: erlang:monitor_node(Node, true)). */
    EDIST_GL_CONNECT,
    /* disconnect node (net_kernel:async_disconnect/1). */
    EDIST_GL_DISCONNECT
};

typedef struct edist_gl_action {
    int kind; /* enum edist_gl_action_kind */
    int noconnect;
    char node[EDIST_NODE_NAME_MAX + 1];
    size_t node_len;
    uint8_t *to; /* SEND_PID: the pid, encoded without version byte */
    size_t to_len;
    uint8_t *msg; /* SEND, SEND_PID: the message, with version byte */
    size_t msg_len;
    struct edist_gl_action *next;
} edist_gl_action;

typedef struct edist_gl_opts {
    const char *self; /* "name@host", copied */
    uint32_t creation;
    /* Pid numbers (id, serial) of the two processes we pretend to run:
     * the global_name_server (the sender of our messages) and its locker
     * (named in init_connect and lock_set). */
    uint32_t server_id, server_serial;
    uint32_t locker_id, locker_serial;
    /* First sync tag; tags then count up (unique_integer([monotonic])). */
    int64_t first_tag;
    int no_connect_all; /* -connect_all false */
    const edist_allocator *alloc;
} edist_gl_opts;

typedef struct edist_gl edist_gl;

/* Creates the state.  Returns 0 with *out (owned by the caller:
 * edist_gl_free), EDIST_EINVAL (no or bad self name), EDIST_ENOMEM. */
int edist_gl_new(const edist_gl_opts *o, edist_gl **out);
void edist_gl_free(edist_gl *g);

/* A connection to node came up (visible = 1) or went down.  Hidden
 * connections are ignored (as by global).  Returns 0 or EDIST_ENOMEM. */
int edist_gl_peer_up(edist_gl *g, const char *node, size_t len, int visible);
int edist_gl_peer_down(edist_gl *g, const char *node, size_t len);

/* A message (borrowed) that node sent to global_name_server.  Returns 0
 * (also for messages global ignores), EDIST_EBADMSG for a shape global
 * would not match (ignored by the caller: BEAM logs those), or
 * EDIST_ENOMEM. */
int edist_gl_message(edist_gl *g, const char *from, size_t from_len,
                     const edist_term *msg);

/* The node is stopping (global's prepare_shutdown): from now on the
 * connections that go down are not reported (no lost_connection), as
 * BEAM does under init:stop/0, so that the others stay meshed. */
void edist_gl_prepare_shutdown(edist_gl *g);

/* The oldest pending action (owned by the caller: edist_gl_action_free),
 * or NULL when there is none. */
edist_gl_action *edist_gl_next(edist_gl *g);
void edist_gl_action_free(edist_gl *g, edist_gl_action *a);

/* Introspection (tests, the runtime's edist_node_nodes). */
/* 1 when node is in known (our partition), else 0. */
int edist_gl_is_known(const edist_gl *g, const char *node, size_t len);
size_t edist_gl_known_count(const edist_gl *g);
size_t edist_gl_names_count(const edist_gl *g);
size_t edist_gl_locks_count(const edist_gl *g);
/* Pids holding locks, over all locks (<= EDIST_GL_MAX_HOLDERS). */
size_t edist_gl_holders_count(const edist_gl *g);
/* Encoded bytes kept for names and locks (<= EDIST_GL_MAX_BYTES). */
size_t edist_gl_table_bytes(const edist_gl *g);
size_t edist_gl_nodes_count(const edist_gl *g);
size_t edist_gl_lost_count(const edist_gl *g);
/* 1 when a sync session with node is running. */
int edist_gl_in_session(const edist_gl *g, const char *node, size_t len);
/* The encoded pid (no version byte) registered as the name whose
 * encoding (no version byte) is name[0..len), or NULL. */
const uint8_t *edist_gl_whereis(const edist_gl *g, const uint8_t *name,
                                size_t len, size_t *pid_len);
/* Actions queued and not yet taken. */
size_t edist_gl_pending_actions(const edist_gl *g);

#endif
