/*
 * edist/proto.h: the sans-IO distribution protocol core: capability flags
 * and the node-to-node handshake (protocol.md section 2).  The connected
 * state (4-byte framing, atom cache, fragments, ticks) is in edist/dist.h,
 * which this header includes.
 *
 * Nothing here touches a socket or a clock.  The runtime (src/rt) owns the
 * socket and passes bytes in, takes bytes out and passes the current time
 * (any monotonic clock in milliseconds) as an argument:
 *
 *     edist_hs *hs;
 *     edist_hs_new(&hs, &opts, now());
 *     for (;;) {
 *         const uint8_t *out;
 *         size_t n = edist_hs_pending(hs, &out);
 *         ... write n bytes ..., then edist_hs_consumed(hs, written);
 *         ... wait for readable or edist_hs_next_deadline(hs) ...
 *         edist_hs_feed(hs, buf, nread, now());   (nread 0: time passed)
 *         edist_hs_event ev;
 *         while (edist_hs_next_event(hs, &ev) > 0)
 *             switch (ev.type) { ... }
 *     }
 *
 * The runtime answers the events that need knowledge the core does not
 * have (its connection table): EDIST_HS_EV_NEED_STATUS (acceptor),
 * EDIST_HS_EV_NEED_ALIVE_REPLY (initiator) and EDIST_HS_EV_REPLACE_OLD
 * (acceptor).  docs/protocol-core.md walks through a full session.
 *
 * Threading: an edist_hs is a single-owner object.  Calls on one object
 * must not overlap; distinct objects are independent.  The pure functions
 * (flags helpers, digest, simultaneous rule) are safe from any thread.
 */
#ifndef EDIST_PROTO_H
#define EDIST_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "edist/export.h"
#include "edist/mem.h"
#include "edist/dist.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Capability flags (DFLAG_*), values from erts dist.h ---------------- */

#define EDIST_DFLAG_PUBLISHED           UINT64_C(0x1)
#define EDIST_DFLAG_ATOM_CACHE          UINT64_C(0x2)
#define EDIST_DFLAG_EXTENDED_REFERENCES UINT64_C(0x4)
#define EDIST_DFLAG_DIST_MONITOR        UINT64_C(0x8)
#define EDIST_DFLAG_FUN_TAGS            UINT64_C(0x10)
#define EDIST_DFLAG_DIST_MONITOR_NAME   UINT64_C(0x20)
#define EDIST_DFLAG_HIDDEN_ATOM_CACHE   UINT64_C(0x40)
#define EDIST_DFLAG_NEW_FUN_TAGS        UINT64_C(0x80)
#define EDIST_DFLAG_EXTENDED_PIDS_PORTS UINT64_C(0x100)
#define EDIST_DFLAG_EXPORT_PTR_TAG      UINT64_C(0x200)
#define EDIST_DFLAG_BIT_BINARIES        UINT64_C(0x400)
#define EDIST_DFLAG_NEW_FLOATS          UINT64_C(0x800)
#define EDIST_DFLAG_UNICODE_IO          UINT64_C(0x1000)
#define EDIST_DFLAG_DIST_HDR_ATOM_CACHE UINT64_C(0x2000)
#define EDIST_DFLAG_SMALL_ATOM_TAGS     UINT64_C(0x4000)
#define EDIST_DFLAG_UTF8_ATOMS          UINT64_C(0x10000)
#define EDIST_DFLAG_MAP_TAG             UINT64_C(0x20000)
#define EDIST_DFLAG_BIG_CREATION        UINT64_C(0x40000)
#define EDIST_DFLAG_SEND_SENDER         UINT64_C(0x80000)
#define EDIST_DFLAG_BIG_SEQTRACE_LABELS UINT64_C(0x100000)
#define EDIST_DFLAG_EXIT_PAYLOAD        UINT64_C(0x400000)
#define EDIST_DFLAG_FRAGMENTS           UINT64_C(0x800000)
#define EDIST_DFLAG_HANDSHAKE_23        UINT64_C(0x1000000)
#define EDIST_DFLAG_UNLINK_ID           UINT64_C(0x2000000)
/* 0x4000000, not 1 << 36 as erl_dist_protocol.md claims (code wins). */
#define EDIST_DFLAG_MANDATORY_25_DIGEST UINT64_C(0x4000000)
#define EDIST_DFLAG_SPAWN               (UINT64_C(1) << 32)
#define EDIST_DFLAG_NAME_ME             (UINT64_C(1) << 33)
#define EDIST_DFLAG_V4_NC               (UINT64_C(1) << 34)
#define EDIST_DFLAG_ALIAS               (UINT64_C(1) << 35)

/* The 11 flags OTP 25 requires of every peer (MANDATORY_DFLAGS_25); a peer
 * may send EDIST_DFLAG_MANDATORY_25_DIGEST instead of listing them. */
#define EDIST_DFLAGS_MANDATORY_25                                              \
    (EDIST_DFLAG_EXTENDED_REFERENCES | EDIST_DFLAG_FUN_TAGS |                  \
     EDIST_DFLAG_EXTENDED_PIDS_PORTS | EDIST_DFLAG_NEW_FUN_TAGS |              \
     EDIST_DFLAG_EXPORT_PTR_TAG | EDIST_DFLAG_BIT_BINARIES |                   \
     EDIST_DFLAG_NEW_FLOATS | EDIST_DFLAG_UTF8_ATOMS | EDIST_DFLAG_MAP_TAG |   \
     EDIST_DFLAG_BIG_CREATION | EDIST_DFLAG_HANDSHAKE_23)

/* OTP 26 and 27 add V4_NC and UNLINK_ID (DFLAG_DIST_MANDATORY_26).  edist
 * requires this set of every peer: its term codec and link protocol rely on
 * both, and every OTP release from 24 on sends them. */
#define EDIST_DFLAGS_MANDATORY_26                                              \
    (EDIST_DFLAGS_MANDATORY_25 | EDIST_DFLAG_V4_NC | EDIST_DFLAG_UNLINK_ID)

/* The flags edist advertises by default: the erl_interface 5.3 set plus
 * DIST_MONITOR_NAME (protocol.md 2.6, recommended C-node set).  PUBLISHED
 * is added per connection unless the node is hidden.  The runtime extends
 * this (SPAWN, ALIAS, SEND_SENDER, EXIT_PAYLOAD, DIST_HDR_ATOM_CACHE,
 * FRAGMENTS) only together with the matching decoding support. */
#define EDIST_DFLAGS_DEFAULT                                                   \
    (EDIST_DFLAGS_MANDATORY_26 | EDIST_DFLAG_MANDATORY_25_DIGEST |             \
     EDIST_DFLAG_DIST_MONITOR | EDIST_DFLAG_DIST_MONITOR_NAME |                \
     EDIST_DFLAG_SMALL_ATOM_TAGS)

/*
 * Returns flags with EDIST_DFLAG_MANDATORY_25_DIGEST expanded into the 11
 * flags it stands for (dist_util expand_mandatory_25_flag).  Pure.
 */
EDIST_EXTERN uint64_t edist_dflags_expand(uint64_t flags);

/*
 * Returns the OTP name of one flag bit ("V4_NC"), or NULL when bit is not
 * exactly one known bit.  Static storage.  Pure.
 */
EDIST_EXTERN const char *edist_dflag_name(uint64_t bit);

/*
 * Writes the names of every bit set in flags, lowest bit first, separated by
 * ", " ("V4_NC, UNLINK_ID"; unknown bits as "UNKNOWN<0x...>"), NUL-terminated
 * and truncated to fit cap bytes (like snprintf; buf may be NULL when cap is
 * 0).  Returns the length the full text needs, excluding the NUL.  Pure.
 */
EDIST_EXTERN size_t edist_dflags_format(uint64_t flags, char *buf, size_t cap);

/* ---- Helpers ------------------------------------------------------------ */

/*
 * MD5(cookie ++ decimal(challenge)), the handshake digest (protocol.md 2.4).
 * cookie is borrowed.  Returns 0, or EDIST_ESYS if libcrypto fails.
 */
EDIST_EXTERN int edist_hs_digest(const void *cookie, size_t cookie_len,
                                 uint32_t challenge, uint8_t out[16]);

/*
 * BEAM's simultaneous-connect rule (net_kernel accept_pending): when node
 * my_name, which has its own pending attempt to peer_name, receives an
 * attempt from peer_name, it keeps its own attempt (answers "nok") if
 * my_name > peer_name in byte order, else it drops its own attempt and
 * answers "ok_simultaneous".  Returns EDIST_HS_STATUS_NOK or
 * EDIST_HS_STATUS_OK_SIMULTANEOUS.  Both names are borrowed, NUL-terminated.
 */
EDIST_EXTERN int edist_hs_simultaneous_rule(const char *my_name,
                                            const char *peer_name);

/*
 * Checks a full node name "Name@Host": exactly one '@', both parts
 * non-empty, 1..255 bytes, no NUL or control byte.  Returns 0 or
 * EDIST_EBADNAME.  len excludes any NUL.  Pure.
 */
EDIST_EXTERN int edist_node_name_check(const char *name, size_t len);

/* ---- The handshake state machine ---------------------------------------- */

/* Node names are at most 255 bytes: BEAM sends them as Latin-1 atoms. */
#define EDIST_NODE_NAME_MAX 255
/* net_setuptime: every handshake step must finish within this time. */
#define EDIST_HS_SETUP_TIMEOUT_MS 7000
/* Returned by the next_deadline functions when no timer is armed. */
#define EDIST_NO_DEADLINE UINT64_MAX

typedef struct edist_hs edist_hs;

enum edist_hs_role {
    EDIST_HS_INITIATOR = 1, /* we dialled: send_name first ("A") */
    EDIST_HS_ACCEPTOR = 2   /* we accepted: recv_name first ("B") */
};

/* Acceptor status decisions, see edist_hs_set_status(). */
enum edist_hs_status {
    EDIST_HS_STATUS_OK = 1,
    EDIST_HS_STATUS_OK_SIMULTANEOUS = 2,
    EDIST_HS_STATUS_NOK = 3,
    EDIST_HS_STATUS_NOT_ALLOWED = 4,
    EDIST_HS_STATUS_ALIVE = 5
};

typedef struct edist_hs_options {
    int role; /* enum edist_hs_role */
    /* Our node name, "Name@Host" (borrowed, copied).  An initiator with
     * name_me set gives only the host here. */
    const char *this_node;
    /* Our creation (from EPMD); sent in send_name and the challenge.  An
     * initiator with name_me sends 0 and learns its creation. */
    uint32_t this_creation;
    /* Flags to advertise; 0 means EDIST_DFLAGS_DEFAULT.  PUBLISHED and
     * NAME_ME in here are ignored: they follow hidden and name_me. */
    uint64_t flags;
    /* Nonzero: a hidden node (no PUBLISHED).  Nodes default to hidden
     * until the mesh work lands (issue 4, item 7), so the runtime sets 1. */
    int hidden;
    /* Flags the peer must have beyond EDIST_DFLAGS_MANDATORY_26. */
    uint64_t required_flags;
    /* The cookie for this peer (borrowed, copied; 1..255 bytes).  It is
     * only ever hashed, never sent. */
    const void *cookie;
    size_t cookie_len;
    /* Initiator: the exact node name dialled; the peer's challenge must
     * carry exactly this name.  Acceptor: ignored. */
    const char *peer_node;
    /* Our challenge; draw it from a CSPRNG (edist_random_challenge()). */
    uint32_t challenge;
    /* Initiator only: ask the acceptor for a dynamic name (NAME_ME). */
    int name_me;
    /* Per-step limit; 0 means EDIST_HS_SETUP_TIMEOUT_MS. */
    uint32_t setup_timeout_ms;
    /* Allocator (borrowed; must outlive the object); NULL: malloc. */
    const edist_allocator *alloc;
} edist_hs_options;

enum edist_hs_event_type {
    /* Acceptor: the peer's name and flags are known and acceptable; call
     * edist_hs_set_status() (or edist_hs_set_named() when ev.name_me). */
    EDIST_HS_EV_NEED_STATUS = 1,
    /* Initiator: the peer answered "alive" (it has an up connection from
     * our name).  Call edist_hs_alive_reply(): 1 if this really is a new
     * incarnation / our old connection is gone, 0 to give up. */
    EDIST_HS_EV_NEED_ALIVE_REPLY = 2,
    /* Acceptor, after an "alive" status answered "true": the cookie is
     * verified; tear down the old connection to this peer, then call
     * edist_hs_old_gone() to send the final ack. */
    EDIST_HS_EV_REPLACE_OLD = 3,
    /* The handshake succeeded: switch to 4-byte framing (edist/dist.h) and
     * feed it ev.leftover first. */
    EDIST_HS_EV_COMPLETED = 4,
    /* The handshake failed: flush edist_hs_pending() (it may hold a status
     * such as "not_allowed" the peer should see), then close. */
    EDIST_HS_EV_FAILED = 5
};

/*
 * An event.  Every pointer is borrowed from the edist_hs and stays valid
 * until edist_hs_free(); strings are NUL-terminated.
 */
typedef struct edist_hs_event {
    int type; /* enum edist_hs_event_type */
    /* Peer node name (for a NAME_ME request: the peer's host only); set
     * from NEED_STATUS on (acceptor) or from the start (initiator). */
    const char *peer_name;
    size_t peer_name_len;
    uint32_t peer_creation; /* 0 while unknown */
    /* The peer's advertised flags, MANDATORY_25_DIGEST expanded. */
    uint64_t peer_flags;
    /* COMPLETED: the negotiated flags (ours AND the peer's).  Drive the
     * framing and the codec with these. */
    uint64_t flags;
    /* COMPLETED: 1 when both sides advertised PUBLISHED (visible), 0 for a
     * hidden connection. */
    int visible;
    /* NEED_STATUS: the peer asked for a dynamic name (NAME_ME). */
    int name_me;
    /* COMPLETED: 1 if this connection replaces an old one (alive path). */
    int replaced_old;
    /* COMPLETED: our own name and creation; differ from the options only
     * after a "named:" status gave us a name. */
    const char *this_name;
    uint32_t this_creation;
    /* COMPLETED: bytes received after the final handshake packet; they
     * belong to the 4-byte framing and must be processed first. */
    const uint8_t *leftover;
    size_t leftover_len;
    /* FAILED: the EDIST_E* code, a sentence a person can act on, and for
     * EDIST_EFLAGS the mandatory flags the peer lacks. */
    int error;
    const char *reason;
    uint64_t missing_flags;
} edist_hs_event;

/*
 * Creates a handshake.  An initiator immediately queues its send_name
 * ('N', never the old 'n').  now_ms arms the first step's deadline.
 * Returns 0 and stores the object in *out (owned by caller, release with
 * edist_hs_free), or EDIST_EINVAL (bad role, missing cookie or peer_node),
 * EDIST_EBADNAME (this_node or peer_node malformed), EDIST_ENOMEM.
 */
EDIST_EXTERN int edist_hs_new(edist_hs **out, const edist_hs_options *opts,
                              uint64_t now_ms);

/* Releases hs and everything it owns; NULL is a no-op. */
EDIST_EXTERN void edist_hs_free(edist_hs *hs);

/*
 * Feeds len bytes read from the peer (borrowed; copied as needed) and the
 * current time.  len 0 (in may be NULL) only advances time, which is how
 * the runtime reports that edist_hs_next_deadline() has passed.
 * Returns 0 while the handshake goes on or when it completed, or the
 * negative EDIST_E* code of a failure (also reported as an
 * EDIST_HS_EV_FAILED event), or EDIST_ESTATE when called after the
 * handshake already completed or failed.
 */
EDIST_EXTERN int edist_hs_feed(edist_hs *hs, const uint8_t *in, size_t len,
                               uint64_t now_ms);

/*
 * Reports that the peer closed the connection (EOF or error).  The
 * handshake fails with a reason that says what a close at this step
 * usually means (e.g. a close right after our challenge reply is how BEAM
 * rejects a wrong cookie: EDIST_ECOOKIE).  Returns that code, or
 * EDIST_ESTATE after completion/failure.
 */
EDIST_EXTERN int edist_hs_closed(edist_hs *hs, uint64_t now_ms);

/*
 * Output: stores a pointer to the bytes waiting to be written in *ptr and
 * returns their count (0: nothing).  The pointer stays valid until the next
 * call on hs other than edist_hs_pending / edist_hs_next_deadline.
 */
EDIST_EXTERN size_t edist_hs_pending(const edist_hs *hs, const uint8_t **ptr);

/* Marks n bytes of the pending output as written (n <= pending). */
EDIST_EXTERN void edist_hs_consumed(edist_hs *hs, size_t n);

/*
 * Pops the next event into *ev.  Returns 1 when an event was stored, 0 when
 * there is none.  Events come in order; at most one of COMPLETED/FAILED.
 */
EDIST_EXTERN int edist_hs_next_event(edist_hs *hs, edist_hs_event *ev);

/*
 * Returns the absolute time (ms, same clock as now_ms) by which the current
 * step must finish, or EDIST_NO_DEADLINE once completed or failed.  The
 * deadline is re-armed whenever a handshake packet is sent or received, as
 * dist_util resets its setup timer before each network operation.
 */
EDIST_EXTERN uint64_t edist_hs_next_deadline(const edist_hs *hs);

/*
 * Acceptor: answers EDIST_HS_EV_NEED_STATUS.  status is one of
 * enum edist_hs_status, decided from the runtime's connection table:
 *   OK               no connection to the peer (the usual case);
 *   OK_SIMULTANEOUS  we had a pending attempt to the peer and dropped it
 *                    (edist_hs_simultaneous_rule() said so);
 *   NOK              we keep our own pending attempt: this one fails with
 *                    EDIST_ENOK after "nok" is queued;
 *   NOT_ALLOWED      refuse (fails with EDIST_ENOTALLOWED);
 *   ALIVE            we have an up connection from that name: ask the peer,
 *                    see EDIST_HS_EV_REPLACE_OLD.
 * Returns 0 (or the failure code for NOK / NOT_ALLOWED), EDIST_EINVAL for
 * an unknown status or OK/OK_SIMULTANEOUS/ALIVE on a NAME_ME request (use
 * edist_hs_set_named), EDIST_ESTATE when no status is awaited.
 */
EDIST_EXTERN int edist_hs_set_status(edist_hs *hs, int status, uint64_t now_ms);

/*
 * Acceptor: answers a NAME_ME request (ev.name_me) with the dynamic name the
 * runtime chose ("Random@Host", borrowed, copied; Host must be the host the
 * peer sent) and its creation (>= 4).  Returns 0, EDIST_EBADNAME,
 * EDIST_EINVAL (not a NAME_ME request, creation < 4), EDIST_ESTATE.
 */
EDIST_EXTERN int edist_hs_set_named(edist_hs *hs, const char *name,
                                    uint32_t creation, uint64_t now_ms);

/*
 * Initiator: answers EDIST_HS_EV_NEED_ALIVE_REPLY.  Nonzero sends "true"
 * and continues; zero sends "false" and fails with EDIST_EALIVE.  Returns 0
 * (or EDIST_EALIVE), EDIST_ESTATE when no reply is awaited.
 */
EDIST_EXTERN int edist_hs_alive_reply(edist_hs *hs, int proceed,
                                      uint64_t now_ms);

/*
 * Acceptor: the old connection named in EDIST_HS_EV_REPLACE_OLD is gone;
 * sends the challenge ack and completes.  Returns 0 or EDIST_ESTATE.
 */
EDIST_EXTERN int edist_hs_old_gone(edist_hs *hs, uint64_t now_ms);

#ifdef __cplusplus
}
#endif
#endif
