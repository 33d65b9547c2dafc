/*
 * sig_int.h: what the signals layer's files share: the table entry, the
 * queue of control messages to send after the table lock is released,
 * and the helpers of sig_table.c.  See signals.c for the model.
 */
#ifndef EDIST_RT_SIG_INT_H
#define EDIST_RT_SIG_INT_H

#include "edist/proc.h"
#include "proto/linksm.h"
#include "rt/node_int.h"

enum { SIG_LINK = 1, SIG_MON_OUT, SIG_MON_IN, SIG_NODE, SIG_ALIAS };

enum {
    OP_LINK = 1,
    OP_EXIT = 3,
    OP_EXIT2 = 8,
    OP_EXIT_TT = 13,
    OP_EXIT2_TT = 18,
    OP_MONITOR_P = 19,
    OP_DEMONITOR_P = 20,
    OP_MONITOR_P_EXIT = 21,
    OP_PAYLOAD_EXIT = 24,
    OP_PAYLOAD_EXIT_TT = 25,
    OP_PAYLOAD_EXIT2 = 26,
    OP_PAYLOAD_EXIT2_TT = 27,
    OP_PAYLOAD_MONITOR_P_EXIT = 28,
    OP_SPAWN_REQUEST = 29,
    OP_SPAWN_REQUEST_TT = 30,
    OP_SPAWN_REPLY = 31,
    OP_SPAWN_REPLY_TT = 32,
    OP_UNLINK_ID = 35,
    OP_UNLINK_ID_ACK = 36
};

/* The indexes of the table (see signals.h). */
enum { SIG_IX_OWNER, SIG_IX_NODE, SIG_IX_REF, SIG_NIX };

struct sig_ent {
    /* The table's links (set by sig_tab_add).  An index maps a key to
     * the first of the entries sharing it, linked by next/prev[ix];
     * in_ix[ix] says whether the entry is in index ix (the reference
     * index holds only entries with a ref). */
    sig_ent *all_next, *all_prev;
    sig_ent *next[SIG_NIX], *prev[SIG_NIX];
    uint8_t in_ix[SIG_NIX];
    int kind;
    uint32_t id, serial; /* the local mailbox */
    char *node;          /* the other side's node (NUL-terminated) */
    size_t node_len;
    uint8_t *other; /* LINK: the pid; MON_IN: the monitoring pid */
    size_t other_len;
    uint8_t *ref; /* MON_*: the reference */
    size_t ref_len;
    uint8_t *who; /* MON_OUT: Who of DOWN; MON_IN: FromProc (pid or name) */
    size_t who_len;
    uint8_t *target; /* MON_OUT: ToProc as sent (pid or name atom) */
    size_t target_len;
    uint64_t unlink_id;
};

/* A control message to send once the lock is released. */
typedef struct sig_out {
    struct sig_out *next;
    char *node;
    uint8_t *ctl;
    size_t ctl_len;
} sig_out;

/* sig_table.c.  The sig_tab_* and sig_lsm_apply callers hold n->sig.mu;
 * sig_out_push queues under it, sig_out_flush sends after it. */
void sig_ent_free(sig_ent *e);
int sig_bytes_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
char *sig_strdup(const char *s, size_t len);
/* Moves e (its buffers) into a new table entry, indexed; *added (may be
 * NULL) gets it.  Returns 0, or EDIST_ENOMEM (e's buffers then freed).
 * Caller holds mu. */
int sig_tab_add(edist_node *n, sig_ent *e, sig_ent **added);
/* Starts *e as an entry of kind for mailbox mb about node (copied).
 * Returns 0, or EDIST_ENOMEM (e then holds nothing that needs freeing). */
int sig_ent_init(sig_ent *e, int kind, const edist_mbox *mb, const char *node,
                 size_t len);
/* Adds e to the table under its lock, unless rc (the result of filling e
 * in) is negative, in which case e is freed.  Returns rc or the add's. */
int sig_ent_commit(edist_node *n, sig_ent *e, int rc);
/* Adds a LINK entry: mailbox mb linked with the encoded pid *other on
 * node.  Takes *other (sets it to NULL) whatever the result.  Returns 0 or
 * EDIST_ENOMEM.  Caller holds mu. */
int sig_tab_add_link(edist_node *n, const edist_mbox *mb, const char *node,
                     size_t len, uint8_t **other, size_t other_len,
                     sig_ent **added);
/* Unindexes and frees table entry e.  Caller holds mu. */
void sig_tab_del(edist_node *n, sig_ent *e);
/* The entry of kind owned by mailbox (id, serial) whose other (when not
 * NULL) and ref (when not NULL) are these bytes, or NULL.  Costs the
 * entries of that reference, else of that mailbox. */
sig_ent *sig_tab_find(edist_node *n, int kind, uint32_t id, uint32_t serial,
                      const uint8_t *other, size_t other_len,
                      const uint8_t *ref, size_t ref_len);
/* The first entry of an index's key (follow e->next[ix]), or NULL. */
sig_ent *sig_tab_owner_first(edist_node *n, uint32_t id, uint32_t serial);
sig_ent *sig_tab_node_first(edist_node *n, const char *node, size_t len);
sig_ent *sig_tab_ref_first(edist_node *n, const uint8_t *ref, size_t len);
/* Checks the indexes against the entries (fuzzing and tests): returns 0,
 * or -1 when an entry is missing from an index or a list is broken. */
int sig_tab_check(edist_node *n);
edist_linksm sig_lsm_of(const sig_ent *e);
void sig_lsm_apply(edist_node *n, sig_ent *e, const edist_linksm *s, int act);
int sig_is_local_pid(edist_node *n, const edist_term *pid);
edist_term sig_pid_of(edist_node *n, uint32_t id, uint32_t serial);
void sig_deliver_to(edist_node *n, uint32_t id, uint32_t serial,
                    const edist_term *t);
int sig_dec(edist_arena *a, const uint8_t *b, size_t len, edist_term *out);
void sig_deliver_exit(edist_node *n, edist_arena *a, uint32_t id,
                      uint32_t serial, const edist_term *from,
                      const edist_term *reason);
void sig_deliver_down(edist_node *n, edist_arena *a, const sig_ent *e,
                      const edist_term *reason);
void sig_out_push(sig_out **out, const char *node, size_t node_len, int op,
                  const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                  const uint8_t *c, size_t clen, const edist_term *last);
void sig_out_flush(edist_node *n, sig_out *list);
int sig_connect_for(edist_node *n, const edist_atom *node, int timeout_ms);

#endif
