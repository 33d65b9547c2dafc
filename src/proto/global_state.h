/*
 * global_state.h: the state behind edist_gl (global_int.h), shared by
 * global.c (sessions and events), global_tab.c (names, locks, lost
 * connection records) and global_out.c (messages and the action queue).
 */
#ifndef EDIST_PROTO_GLOBAL_STATE_H
#define EDIST_PROTO_GLOBAL_STATE_H

#include "core/hmap.h"
#include "edist/etf.h"
#include "proto/global_int.h"

/* One node global has heard of.  BEAM keeps these facts as keys of its
 * `known` map (Node => Vsn, {pending, Node} => Vsn, {removing, Node}) and
 * in the process dictionary (sync_tag_my, sync_tag_his, pre_connect...). */
typedef struct gl_node {
    char name[EDIST_NODE_NAME_MAX + 1];
    size_t len;
    int up;        /* a visible connection is up */
    int known;     /* in our partition */
    int known_vsn; /* its global vsn (0: not yet told) */
    int pending;   /* {pending, Node}: init_connect seen in a session */
    int pending_vsn;
    int removing; /* {removing, Node}: we asked for its disconnect */
    int synced;
    int fresh; /* just added to known by a new_nodes (gl_add_known) */

    /* A sync session (BEAM: a resolver process exists). */
    int session;
    int64_t my_tag;
    int have_his;
    int64_t his_tag;
    int his_vsn;
    edist_arena *a; /* the session's saved terms */
    edist_term his_locker;
    int lock_sent; /* we sent lock_set true (holding our lock) */
    int lock_got;  /* his lock_set true arrived */
    int refused;   /* he answered our lock_set with false */
    int exchange_sent;
    int names_got;
    edist_term his_names;
    int ops_done; /* our resolved went out; my_ops saved */
    edist_term my_ops;
    int resolved_got;
    edist_term his_resolved, his_known;

    /* init_connect that came before the session (pre_connect). */
    int pre;
    int64_t pre_tag;
    int pre_vsn;
    edist_arena *pre_a;
    edist_term pre_locker;
} gl_node;

typedef struct gl_name {
    uint8_t *key; /* Name, encoded */
    size_t key_len;
    uint8_t *pid;
    size_t pid_len;
    uint8_t *method;
    size_t method_len;
    char node[EDIST_NODE_NAME_MAX + 1]; /* node(Pid) */
    size_t node_len;
} gl_name;

typedef struct gl_holder {
    uint8_t *pid;
    size_t pid_len;
    char node[EDIST_NODE_NAME_MAX + 1];
    size_t node_len;
} gl_holder;

typedef struct gl_lock {
    uint8_t *res; /* ResourceId, encoded */
    size_t res_len;
    uint8_t *req; /* LockRequesterId, encoded (lists sorted) */
    size_t req_len;
    gl_holder *h;
    size_t nh, hcap; /* h grows geometrically: no quadratic copying */
} gl_lock;

typedef struct gl_lost {
    int64_t xcre, op;
} gl_lost;

struct edist_gl {
    const edist_allocator *alloc;
    char self[EDIST_NODE_NAME_MAX + 1];
    size_t self_len;
    uint32_t creation;
    uint32_t server_id, server_serial, locker_id, locker_serial;
    int64_t next_tag;
    int connect_all;

    edist_hmap nodes; /* name -> gl_node */
    size_t known_count;
    edist_hmap names; /* encoded Name -> gl_name */
    gl_lock *locks;
    size_t nlocks, locks_cap;
    size_t nholders;    /* over all locks, <= EDIST_GL_MAX_HOLDERS */
    size_t table_bytes; /* names and locks, <= EDIST_GL_MAX_BYTES */
    edist_hmap lost;    /* "A\0B" -> gl_lost */

    /* The session holding our own `global` lock (our partition's lock,
     * which edist takes on itself only), or NULL. */
    gl_node *lock_owner;

    edist_gl_action *head, *tail;
    size_t nactions;
};

/* ---- global_out.c: actions and message encoding */
/* Starts a message: a dynamic writer with the version byte. */
void gl_w_init(edist_gl *g, edist_etf_writer *w);
void gl_put_self(edist_gl *g, edist_etf_writer *w);
void gl_put_server_pid(edist_gl *g, edist_etf_writer *w);
void gl_put_locker_pid(edist_gl *g, edist_etf_writer *w);
/* Queues the writer's bytes as a message to {global_name_server, node}
 * (frees the writer).  cast wraps it as {'$gen_cast', Msg}: the caller
 * then wrote only Msg after gl_w_cast(). */
int gl_emit_send(edist_gl *g, const char *node, size_t len, int noconnect,
                 edist_etf_writer *w);
void gl_w_cast(edist_gl *g, edist_etf_writer *w);
int gl_emit_reply(edist_gl *g, const edist_term *from, const edist_term *tag,
                  edist_etf_writer *reply_body);
int gl_emit_node(edist_gl *g, int kind, const char *node, size_t len);
void gl_actions_free(edist_gl *g);
/* Encodes t (borrowed, no version byte) into newly allocated bytes. */
int gl_encode(edist_gl *g, const edist_term *t, uint8_t **out, size_t *len);

/* ---- global_tab.c: names, locks, lost connections */
int gl_name_insert(edist_gl *g, const edist_term *name, const edist_term *pid,
                   const edist_term *method);
void gl_name_delete(edist_gl *g, const edist_term *name);
/* Forgets names of pids on node, and its lock holders. */
void gl_node_resources_down(edist_gl *g, const char *node, size_t len);
/* {Name, Pid, Method} for every name, as list elements. */
int gl_put_names(edist_gl *g, edist_etf_writer *w, size_t *count);
const gl_name *gl_name_find(const edist_gl *g, const edist_term *name);
/* set_lock / del_lock from pid.  Returns 1 (set), 0 (refused) or a
 * negative code. */
int gl_lock_set(edist_gl *g, const edist_term *id, const edist_term *pid);
int gl_lock_del(edist_gl *g, const edist_term *id, const edist_term *pid);
/* Whether lock Id could be set now (free or the same requester). */
int gl_lock_can_set(edist_gl *g, const edist_term *id);
void gl_locks_free(edist_gl *g);
void gl_names_free(edist_gl *g);
/* lost_connection bookkeeping: 1 when (a, b) with xcre/op is news (then
 * recorded), 0 when already handled. */
int gl_lost_note(edist_gl *g, const edist_atom *a, const edist_atom *b,
                 int64_t xcre, int64_t op);
void gl_lost_free(edist_gl *g);

/* ---- global.c */
/* Our lock came free: proposes a lock to a waiting session. */
void gl_lock_released(edist_gl *g);

#endif
