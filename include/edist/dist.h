/*
 * edist/dist.h: the connected state of a distribution connection, sans-IO
 * (protocol.md sections 3.1-3.4 and 3.7): 4-byte length framing, ticks,
 * pass-through vs distribution-header messages, the receive atom cache,
 * fragment reassembly, the sending side, and the tick timer.
 *
 * Three single-owner objects per connection, all driven by the runtime:
 *   edist_dist_rx   bytes from the peer in, messages out (per-connection,
 *                   receive-direction atom cache and fragment table);
 *   edist_dist_tx   control + payload terms in, framed bytes out;
 *   edist_ticker    when to send a tick, when the peer is dead.
 * Which framing applies follows from the negotiated flags of the handshake
 * (edist_hs_event.flags): with DIST_HDR_ATOM_CACHE or FRAGMENTS every
 * message starts 131 68 (or 131 69/70) and its terms carry no 131 version
 * byte; otherwise every message is 112 followed by terms that each start
 * with 131.  Mixing the two kills the connection, as BEAM does.
 *
 * Threading: each object is single-owner (no internal locking); calls on
 * one object must not overlap.  Distinct objects are independent, so the
 * rx and tx of one connection may live on different threads.
 */
#ifndef EDIST_DIST_H
#define EDIST_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "edist/export.h"
#include "edist/mem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default cap on one frame (4-byte length) and on one reassembled message:
 * 64 MiB.  BEAM has no cap of its own; 64 MiB is far above what BEAM sends
 * unfragmented in practice (it fragments at 64 KiB when allowed) and low
 * enough that a hostile length field cannot make us allocate gigabytes. */
#define EDIST_DIST_MAX_FRAME_DEFAULT ((size_t)64 << 20)
/* Default cap on fragment sequences in flight at once (BEAM derives the
 * sequence id from the sending process, so this bounds concurrent big
 * senders) and on the bytes they hold together. */
#define EDIST_DIST_MAX_SEQUENCES_DEFAULT  256
#define EDIST_DIST_MAX_REASSEMBLY_DEFAULT ((size_t)256 << 20)
/* BEAM's fragment size: 64 KiB of payload per fragment. */
#define EDIST_DIST_FRAGMENT_SIZE_DEFAULT ((size_t)64 << 10)
/* Default cap on bytes queued in an edist_dist_tx (backpressure). */
#define EDIST_DIST_MAX_PENDING_DEFAULT ((size_t)64 << 20)
/* 2048 cache slots per connection and direction (8 segments x 256). */
#define EDIST_ATOM_CACHE_SLOTS 2048
/* At most 255 atom cache refs in one distribution header. */
#define EDIST_DIST_MAX_REFS 255

/* One atom referenced by a distribution header, resolved: UTF-8 text
 * (not NUL-terminated), len bytes.  ATOM_CACHE_REF (tag 82) Index in the
 * message's terms means atoms[Index]. */
typedef struct edist_atom_ref {
    const char *utf8;
    size_t len;
} edist_atom_ref;

/* ---- Receiving ---------------------------------------------------------- */

typedef struct edist_dist_rx edist_dist_rx;

typedef struct edist_dist_rx_options {
    uint64_t flags;               /* negotiated flags from the handshake */
    size_t max_frame;             /* 0: EDIST_DIST_MAX_FRAME_DEFAULT */
    size_t max_message;           /* reassembled size; 0: max_frame */
    size_t max_sequences;         /* 0: EDIST_DIST_MAX_SEQUENCES_DEFAULT */
    size_t max_reassembly;        /* 0: EDIST_DIST_MAX_REASSEMBLY_DEFAULT */
    const edist_allocator *alloc; /* borrowed; NULL: malloc */
} edist_dist_rx_options;

enum edist_dist_msg_type {
    EDIST_DIST_TICK = 1,   /* a zero-length frame: liveness only */
    EDIST_DIST_MESSAGE = 2 /* a control message, maybe with payload */
};

/*
 * One received item.  All pointers are borrowed from the edist_dist_rx and
 * stay valid until the next edist_dist_rx_next / _feed / _free call.
 */
typedef struct edist_dist_msg {
    int type; /* enum edist_dist_msg_type */
    /* The control term immediately followed by the payload term(s), if
     * any.  With versioned = 1 (pass-through framing) each term starts with
     * its own 131 version byte; with versioned = 0 (distribution header)
     * no term does.  Either way the codec must decode the control term to
     * find where the payload starts. */
    const uint8_t *data;
    size_t len;
    int versioned;
    /* The atom cache refs of this message's header in header order (0 for
     * pass-through or a header without refs). */
    const edist_atom_ref *atoms;
    size_t natoms;
    /* 1 when reassembled from fragments (then seq_id is the SeqId). */
    int fragmented;
    uint64_t seq_id;
} edist_dist_msg;

/*
 * Creates a receiver for a connection whose handshake negotiated
 * opts->flags.  Returns 0 and stores it in *out (owned by caller, release
 * with edist_dist_rx_free), EDIST_EINVAL (opts NULL), EDIST_ENOMEM.
 */
EDIST_EXTERN int edist_dist_rx_new(edist_dist_rx **out,
                                   const edist_dist_rx_options *opts);

/* Releases rx; NULL is a no-op. */
EDIST_EXTERN void edist_dist_rx_free(edist_dist_rx *rx);

/*
 * Appends len bytes read from the socket (borrowed, copied).  Pass the
 * handshake's leftover bytes first.  Returns 0, EDIST_ETOOBIG when the
 * buffered, undecoded bytes would pass 2 * (max_frame + 4) (room for one
 * partial frame plus one read; drain edist_dist_rx_next between feeds and
 * read at most max_frame bytes at a time), EDIST_ENOMEM, or the sticky
 * error of an earlier failure.  The bytes of a frame over max_frame are
 * rejected by edist_dist_rx_next as soon as its length is buffered.
 */
EDIST_EXTERN int edist_dist_rx_feed(edist_dist_rx *rx, const uint8_t *in,
                                    size_t len);

/*
 * Reading in place, instead of edist_dist_rx_feed's copy: returns where
 * the next read from the socket should put its bytes (owned by rx, valid
 * until the next call on rx) and, in *len, how many to ask for: from
 * 4 KiB, doubling while reads fill what was offered, up to max (0:
 * max_frame + 4), so that a quiet connection keeps a small buffer.  While
 * a frame of at least EDIST_DIST_RX_EXACT bytes is partly buffered it is
 * the rest of that frame instead (in steps of at most max or 1 MiB,
 * whichever is larger), so that once it is decoded no undecoded tail is
 * left to move to the front of the buffer.  Then call
 * edist_dist_rx_commit with the number of bytes the read stored.
 * Returns NULL (and *len = 0) on the sticky error of an earlier failure,
 * or when the room cannot be had (EDIST_ENOMEM / EDIST_ETOOBIG, which
 * become the sticky error); edist_dist_rx_reason() then says why.
 */
#define EDIST_DIST_RX_EXACT ((size_t)16 << 10)
EDIST_EXTERN uint8_t *edist_dist_rx_space(edist_dist_rx *rx, size_t max,
                                          size_t *len);

/*
 * Records that n bytes (at most the *len of the last edist_dist_rx_space)
 * were stored where it pointed.  Returns 0, EDIST_EINVAL when n is more
 * than that room (nothing is recorded), or the sticky error.
 */
EDIST_EXTERN int edist_dist_rx_commit(edist_dist_rx *rx, size_t n);

/*
 * Decodes the next complete item into *msg.  Returns 1 when one was stored,
 * 0 when more input is needed (continuation fragments are absorbed and
 * yield 0 until their message is complete), or a negative code that is
 * fatal to the connection and sticky:
 *   EDIST_ETOOBIG    frame over max_frame, message over max_message, or
 *                    reassembly over max_sequences / max_reassembly;
 *   EDIST_EBADMSG    malformed header, 112 on a header connection or 131
 *                    on a pass-through one, unknown header tag, fragment
 *                    out of order / unknown SeqId / duplicate SeqId;
 *   EDIST_EATOMCACHE a ref to an empty cache slot;
 *   EDIST_EUTF8 / EDIST_EATOMLEN  a new cache entry that is not an atom;
 *   EDIST_ENOMEM.
 * edist_dist_rx_reason() then describes the failure.
 */
EDIST_EXTERN int edist_dist_rx_next(edist_dist_rx *rx, edist_dist_msg *msg);

/* A sentence describing the sticky failure ("" if none); borrowed. */
EDIST_EXTERN const char *edist_dist_rx_reason(const edist_dist_rx *rx);

/* ---- Sending ------------------------------------------------------------ */

typedef struct edist_dist_tx edist_dist_tx;

typedef struct edist_dist_tx_options {
    uint64_t flags;               /* negotiated flags from the handshake */
    size_t fragment_size;         /* payload bytes per fragment; 0: 64 KiB */
    size_t max_pending;           /* cap on queued bytes; 0: 64 MiB */
    const edist_allocator *alloc; /* borrowed; NULL: malloc */
} edist_dist_tx_options;

/*
 * Creates a sender.  Returns 0 and stores it in *out (owned by caller,
 * release with edist_dist_tx_free), EDIST_EINVAL, EDIST_ENOMEM.
 */
EDIST_EXTERN int edist_dist_tx_new(edist_dist_tx **out,
                                   const edist_dist_tx_options *opts);

/* Releases tx; NULL is a no-op. */
EDIST_EXTERN void edist_dist_tx_free(edist_dist_tx *tx);

/*
 * Frames one message: ctl is the control term and payload the payload term
 * (payload_len 0 for control-only messages), both encoded WITHOUT the 131
 * version byte and borrowed (copied).  Pass-through connections get
 * Len 112 131 ctl [131 payload]; header connections get Len 131 68 0 ctl
 * [payload] (no atom cache refs, which BEAM accepts), split into
 * 131 69 / 131 70 fragments of fragment_size payload bytes when FRAGMENTS
 * was negotiated and the payload is larger.  seq_id names the fragment
 * sequence (BEAM uses the sender's pid); 0 lets tx pick a fresh one.
 * All-or-nothing.  Returns 0, EDIST_EINVAL (ctl_len 0), EDIST_EQUEUEFULL
 * (would pass max_pending: backpressure, retry after writing),
 * EDIST_ETOOBIG (a frame would pass 2^32-1 bytes), EDIST_ENOMEM.
 */
EDIST_EXTERN int edist_dist_tx_message(edist_dist_tx *tx, const uint8_t *ctl,
                                       size_t ctl_len, const uint8_t *payload,
                                       size_t payload_len, uint64_t seq_id);

/* Queues a tick (00 00 00 00).  Returns 0, EDIST_EQUEUEFULL, ENOMEM. */
EDIST_EXTERN int edist_dist_tx_tick(edist_dist_tx *tx);

/* Stores a pointer to the queued bytes in *ptr and returns their count.
 * Valid until the next non-const call on tx. */
EDIST_EXTERN size_t edist_dist_tx_pending(const edist_dist_tx *tx,
                                          const uint8_t **ptr);

/* Marks n queued bytes as written (n <= pending). */
EDIST_EXTERN void edist_dist_tx_consumed(edist_dist_tx *tx, size_t n);

/* ---- Ticks -------------------------------------------------------------- */

/*
 * The per-connection tick state of dist_util's send_tick.  Every
 * ticktime/intensity (the "interval", 15 s by default) the runtime calls
 * edist_ticker_poll():
 *   - a tick is due if nothing was written in the last interval and the
 *     send queue is empty, or, for a hidden connection, if nothing was read
 *     in the last interval (a primitive hidden node only ticks back);
 *   - the peer is declared dead when nothing was read for `intensity`
 *     consecutive intervals: between ticktime and ticktime + interval after
 *     the last byte read (60-75 s by default).
 * The fields are private; the struct is public only so it can be embedded.
 */
typedef struct edist_ticker {
    uint64_t interval_ms;
    uint64_t next_ms;
    uint32_t ticktime_ms;
    uint32_t intensity;
    uint32_t silent;
    int hidden;
    int read;
    int written; /* bit 0: written; bit 1: a tick was asked for */
} edist_ticker;

enum edist_tick_action {
    EDIST_TICK_IDLE = 0, /* nothing to do */
    EDIST_TICK_SEND = 1  /* queue a tick (edist_dist_tx_tick) */
};

/*
 * Initialises t.  ticktime_ms 0 means 60000 (net_ticktime 60 s); values
 * below 1000 become 1000.  intensity 0 means 4; it is clamped to 4..1000.
 * Like net_kernel, ticktime is rounded up to a multiple of intensity.
 * hidden: the connection is hidden (edist_hs_event.visible == 0).  The
 * first interval starts at now_ms.  Returns 0 or EDIST_EINVAL (t NULL).
 */
EDIST_EXTERN int edist_ticker_init(edist_ticker *t, uint32_t ticktime_ms,
                                   uint32_t intensity, int hidden,
                                   uint64_t now_ms);

/* The effective ticktime and interval after rounding. */
EDIST_EXTERN uint32_t edist_ticker_ticktime(const edist_ticker *t);
EDIST_EXTERN uint64_t edist_ticker_interval(const edist_ticker *t);

/* Records that bytes (anything: data or a tick) were read from the peer /
 * written to the peer.  Ticks the ticker asked for need not be recorded;
 * if they are (a runtime that notes every write), the first write noted
 * after an EDIST_TICK_SEND is taken for that tick and not counted, as
 * dist_util counts its own tick into its write baseline: otherwise an idle
 * connection would tick every other interval instead of every interval.
 * A runtime that does not record its ticks loses the first data write
 * after each tick instead, which costs at most one tick more than needed,
 * never a missing one. */
EDIST_EXTERN void edist_ticker_note_read(edist_ticker *t);
EDIST_EXTERN void edist_ticker_note_write(edist_ticker *t);

/*
 * Advances the ticker to now_ms.  queue_empty: nonzero when nothing waits
 * in the connection's send queue.  Returns EDIST_TICK_IDLE, EDIST_TICK_SEND
 * (queue one tick), or EDIST_ETIMEDOUT (the peer is not responding: close
 * the connection and report it down).  If the caller was late by more than
 * one interval (it was itself stalled), only one interval is evaluated and
 * the schedule restarts from now_ms, so a stall of ours cannot make a live
 * peer look dead.
 */
EDIST_EXTERN int edist_ticker_poll(edist_ticker *t, uint64_t now_ms,
                                   int queue_empty);

/* When edist_ticker_poll() must be called next (absolute ms). */
EDIST_EXTERN uint64_t edist_ticker_next_deadline(const edist_ticker *t);

#ifdef __cplusplus
}
#endif
#endif
