/*
 * dist_frame.c: the receive side of a connected distribution channel
 * (protocol.md 3.1-3.4): 4-byte frames, ticks, pass-through messages,
 * distribution headers with the atom cache, and fragment reassembly.
 *
 * Frame:            +--------+------------------+
 *                   | Len:32 | Data (Len bytes) |   Len 0 = tick
 *                   +--------+------------------+
 * Pass-through:     112 | 131 Control | [131 Payload]
 * Normal header:    131 68 | N:8 | Flags | Refs | Control | [Payload]
 * Fragment start:   131 69 | SeqId:64 | FragId:64 | N:8 | Flags | Refs |
 *                   Control | first payload chunk
 * Fragment cont.:   131 70 | SeqId:64 | FragId:64 | next payload chunk
 *
 * Flags (present only when N > 0) are N/2+1 bytes of 4-bit nibbles; the
 * nibble of ref i is the low half of byte i/2 for even i, the high half
 * for odd i:
 *
 *   nibble i = NewCacheEntry:1 | SegmentIndex:3
 *   nibble N = (unused):3 | LongAtoms:1
 *
 * Each ref is InternalSegmentIndex:8, followed for a new entry by
 * Len:8 (Len:16 with LongAtoms) and the atom's UTF-8 text.  The cache slot
 * is SegmentIndex * 256 + InternalSegmentIndex; a new entry overwrites the
 * slot for this and every later message of the connection.  FragId counts
 * down from the number of fragments to 1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/utf8.h"
#include "core/wire.h"
#include "edist/dist.h"
#include "edist/err.h"
#include "edist/proto.h"

#define DIST_PASS_THROUGH 112
#define DIST_VERSION      131
#define DIST_HEADER       68
#define DIST_FRAG_HEADER  69
#define DIST_FRAG_CONT    70
/* An atom is at most 255 characters of at most 4 UTF-8 bytes each. */
#define DIST_ATOM_BYTES_MAX 1020

struct atom_slot {
    char *text;
    uint16_t len;
    uint8_t set;
};

/* The cache is kept in blocks of 32 slots, each allocated when a slot of it
 * is first defined: a connection uses a few dozen atoms scattered over the
 * 2048 slots (BEAM picks the slot from the atom's hash), so a flat table
 * would make 32 KiB per connection resident for a few hundred bytes used. */
#define ATOM_BLOCK_SLOTS 32u
#define ATOM_BLOCKS      (EDIST_ATOM_CACHE_SLOTS / ATOM_BLOCK_SLOTS)
/* Refs per header that fit without allocating (see edist_dist_rx.refs). */
#define RX_SMALL_REFS 32
/* In-place reads start this small and double while reads fill what was
 * offered, so that a quiet connection's buffer stays small (a node in a
 * mesh of 50 has 49) and a streaming one soon reads the caller's max. */
#define RX_OFFER_MIN ((size_t)4 << 10)

struct frag_seq {
    uint64_t id;
    uint64_t next_frag;
    edist_buf data;
    char *blob; /* the atom texts of the start header, copied */
    size_t blob_len;
    edist_atom_ref *atoms;
    size_t natoms;
};

struct edist_dist_rx {
    const edist_allocator *alloc;
    int header_mode;
    size_t max_frame, max_message, max_sequences, max_reassembly;
    edist_buf in;
    size_t off;
    size_t room;    /* bytes the last edist_dist_rx_space offered */
    size_t offer;   /* what it offers next, short of a large frame's rest */
    int room_grows; /* that room was the offer: filling it doubles it */
    struct atom_slot *cache[ATOM_BLOCKS]; /* blocks, allocated lazily */
    size_t ngrave;
    struct frag_seq **seqs;
    size_t nseqs;
    size_t reasm_bytes;
    struct frag_seq *done; /* delivered; freed on the next call */
    int error;
    char reason[256];
    /* The header's refs, and the texts of slots overwritten while decoding
     * the current frame (an earlier ref of the same header may still point
     * at them).  Entries are written before they are read (refs[0..natoms),
     * grave[0..ngrave)).  They point at the small arrays below until a
     * header has more than RX_SMALL_REFS refs, then at arrays for the
     * maximum, allocated once: most connections never need them, and 255
     * entries of each cost ~6 KiB per connection (a node in a mesh of 50
     * has 49). */
    edist_atom_ref *refs;
    char **grave;
    size_t refs_cap;
    edist_atom_ref refs_small[RX_SMALL_REFS];
    char *grave_small[RX_SMALL_REFS];
};

__attribute__((format(printf, 3, 4))) static int
rx_fail(edist_dist_rx *rx, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rx->reason, sizeof rx->reason, fmt, ap);
    va_end(ap);
    rx->error = code;
    return code;
}

static void rx_bury(edist_dist_rx *rx)
{
    for (size_t i = 0; i < rx->ngrave; i++)
        edist_mem_free(rx->alloc, rx->grave[i]);
    rx->ngrave = 0;
}

static void seq_free(edist_dist_rx *rx, struct frag_seq *s)
{
    if (!s)
        return;
    rx->reasm_bytes -= s->data.len + s->blob_len;
    edist_buf_free(&s->data);
    edist_mem_free(rx->alloc, s->blob);
    edist_mem_free(rx->alloc, s->atoms);
    edist_mem_free(rx->alloc, s);
}

int edist_dist_rx_new(edist_dist_rx **out, const edist_dist_rx_options *o)
{
    if (!out || !o)
        return EDIST_EINVAL;
    const edist_allocator *a = edist_mem_resolve(o->alloc);
    edist_dist_rx *rx = edist_mem_alloc(a, sizeof *rx);
    if (!rx)
        return EDIST_ENOMEM;
    memset(rx, 0, offsetof(edist_dist_rx, refs_small));
    rx->alloc = a;
    rx->refs = rx->refs_small;
    rx->grave = rx->grave_small;
    rx->refs_cap = RX_SMALL_REFS;
    rx->offer = RX_OFFER_MIN;
    rx->header_mode = (o->flags & (EDIST_DFLAG_DIST_HDR_ATOM_CACHE |
                                   EDIST_DFLAG_FRAGMENTS)) != 0;
    rx->max_frame = o->max_frame ? o->max_frame : EDIST_DIST_MAX_FRAME_DEFAULT;
    if (rx->max_frame > UINT32_MAX)
        rx->max_frame = UINT32_MAX;
    rx->max_message = o->max_message ? o->max_message : rx->max_frame;
    rx->max_sequences =
        o->max_sequences ? o->max_sequences : EDIST_DIST_MAX_SEQUENCES_DEFAULT;
    rx->max_reassembly = o->max_reassembly ? o->max_reassembly
                                           : EDIST_DIST_MAX_REASSEMBLY_DEFAULT;
    /* One partial frame plus one more read of the same size. */
    edist_buf_init(&rx->in, 2 * (rx->max_frame + 4), a);
    *out = rx;
    return 0;
}

void edist_dist_rx_free(edist_dist_rx *rx)
{
    if (!rx)
        return;
    seq_free(rx, rx->done);
    rx_bury(rx);
    for (size_t i = 0; i < rx->nseqs; i++)
        seq_free(rx, rx->seqs[i]);
    edist_mem_free(rx->alloc, rx->seqs);
    for (size_t b = 0; b < ATOM_BLOCKS; b++) {
        if (!rx->cache[b])
            continue;
        for (size_t i = 0; i < ATOM_BLOCK_SLOTS; i++)
            edist_mem_free(rx->alloc, rx->cache[b][i].text);
        edist_mem_free(rx->alloc, rx->cache[b]);
    }
    edist_buf_free(&rx->in);
    if (rx->refs != rx->refs_small) {
        edist_mem_free(rx->alloc, rx->refs);
        edist_mem_free(rx->alloc, rx->grave);
    }
    edist_mem_free(rx->alloc, rx);
}

/* Makes room for count refs (count <= EDIST_DIST_MAX_REFS): the arrays
 * for the maximum replace the small ones, keeping the graves of the
 * current frame.  Returns 0 or EDIST_ENOMEM. */
static int rx_refs_room(edist_dist_rx *rx, size_t count)
{
    if (count <= rx->refs_cap)
        return 0;
    edist_atom_ref *refs =
        edist_mem_alloc(rx->alloc, EDIST_DIST_MAX_REFS * sizeof *refs);
    char **grave =
        edist_mem_alloc(rx->alloc, EDIST_DIST_MAX_REFS * sizeof *grave);
    if (!refs || !grave) {
        edist_mem_free(rx->alloc, refs);
        edist_mem_free(rx->alloc, grave);
        return EDIST_ENOMEM;
    }
    memcpy(grave, rx->grave, rx->ngrave * sizeof *grave);
    rx->refs = refs;
    rx->grave = grave;
    rx->refs_cap = EDIST_DIST_MAX_REFS;
    return 0;
}

const char *edist_dist_rx_reason(const edist_dist_rx *rx)
{
    return rx->reason;
}

/* Compacts lazily: only the undecoded tail moves, and only when more
 * bytes are about to come. */
static void rx_compact(edist_dist_rx *rx)
{
    if (rx->off) {
        edist_buf_consume(&rx->in, rx->off);
        rx->off = 0;
    }
}

/* Makes room for n more bytes.  Returns 0 or the (sticky) failure. */
static int rx_reserve(edist_dist_rx *rx, size_t n)
{
    int rc = edist_buf_reserve(&rx->in, n);
    if (rc == EDIST_ETOOBIG)
        return rx_fail(rx, rc, "more than %zu undecoded bytes buffered",
                       rx->in.limit);
    return rc < 0 ? rx_fail(rx, rc, "out of memory") : 0;
}

int edist_dist_rx_feed(edist_dist_rx *rx, const uint8_t *in, size_t len)
{
    rx->room = 0;
    if (rx->error)
        return rx->error;
    rx_compact(rx);
    int rc = rx_reserve(rx, len);
    if (rc < 0)
        return rc;
    if (len)
        memcpy(rx->in.data + rx->in.len, in, len);
    rx->in.len += len;
    return 0;
}

/* A large frame is read to its end in steps of at most this much (or
 * max, if larger): room is made for bytes as they come, not for the
 * length the peer announced. */
#define RX_EXACT_STEP ((size_t)1 << 20)

uint8_t *edist_dist_rx_space(edist_dist_rx *rx, size_t max, size_t *len)
{
    *len = 0;
    rx->room = 0;
    if (rx->error)
        return NULL;
    rx_compact(rx);
    if (max == 0 || max > rx->max_frame + 4)
        max = rx->max_frame + 4;
    size_t want = rx->offer < max ? rx->offer : max, have = rx->in.len;
    int exact = 0;
    if (have >= 4) {
        size_t flen = edist_get32(rx->in.data);
        /* An oversized frame is refused by edist_dist_rx_next: no room
         * is made for it. */
        if (flen >= EDIST_DIST_RX_EXACT && flen <= rx->max_frame &&
            have - 4 < flen) {
            size_t step = max > RX_EXACT_STEP ? max : RX_EXACT_STEP;
            size_t rest = flen - (have - 4);
            want = rest < step ? rest : step;
            exact = 1;
        }
    }
    if (rx_reserve(rx, want) < 0)
        return NULL;
    *len = rx->room = want;
    rx->room_grows = !exact;
    return rx->in.data + rx->in.len;
}

int edist_dist_rx_commit(edist_dist_rx *rx, size_t n)
{
    if (rx->error)
        return rx->error;
    if (n > rx->room)
        return EDIST_EINVAL;
    rx->in.len += n;
    /* A read that filled the room may have left more behind. */
    if (n == rx->room && rx->room_grows && rx->offer < SIZE_MAX / 2)
        rx->offer *= 2;
    rx->room = 0;
    return 0;
}

/* Parses N, Flags and Refs at p[*pos..n), updating the cache and filling
 * rx->refs.  Returns 0 and the ref count in *natoms, or a failure. */
static int rx_refs(edist_dist_rx *rx, const uint8_t *p, size_t n, size_t *pos,
                   size_t *natoms)
{
    if (*pos >= n)
        return rx_fail(rx, EDIST_EBADMSG, "distribution header truncated");
    size_t count = p[(*pos)++];
    *natoms = count;
    if (count == 0)
        return 0;
    if (rx_refs_room(rx, count) < 0)
        return rx_fail(rx, EDIST_ENOMEM, "out of memory");
    size_t flen = count / 2 + 1;
    if (n - *pos < flen)
        return rx_fail(rx, EDIST_EBADMSG, "atom cache flags truncated");
    const uint8_t *fl = p + *pos;
    *pos += flen;
    int long_atoms = (fl[count / 2] >> ((count & 1) * 4)) & 1;
    for (size_t i = 0; i < count; i++) {
        unsigned nib = (fl[i / 2] >> ((i & 1) * 4)) & 0xf;
        if (*pos >= n)
            return rx_fail(rx, EDIST_EBADMSG, "atom cache ref %zu truncated",
                           i);
        size_t slot_ix = (size_t)(nib & 7) * 256 + p[(*pos)++];
        struct atom_slot **block = &rx->cache[slot_ix / ATOM_BLOCK_SLOTS];
        if (!*block && (nib & 8)) {
            size_t sz = ATOM_BLOCK_SLOTS * sizeof **block;
            *block = edist_mem_alloc(rx->alloc, sz);
            if (!*block)
                return rx_fail(rx, EDIST_ENOMEM, "out of memory");
            memset(*block, 0, sz);
        }
        if (!*block)
            return rx_fail(rx, EDIST_EATOMCACHE,
                           "atom cache ref %zu names empty slot %zu", i,
                           slot_ix);
        struct atom_slot *slot = &(*block)[slot_ix % ATOM_BLOCK_SLOTS];
        if (nib & 8) {
            size_t lb = long_atoms ? 2 : 1;
            if (n - *pos < lb)
                return rx_fail(rx, EDIST_EBADMSG,
                               "atom cache entry %zu truncated", i);
            size_t alen = long_atoms ? edist_get16(p + *pos) : p[*pos];
            *pos += lb;
            if (n - *pos < alen)
                return rx_fail(rx, EDIST_EBADMSG,
                               "atom cache entry %zu text truncated", i);
            long cps = edist_utf8_count(p + *pos, alen);
            if (cps < 0)
                return rx_fail(rx, EDIST_EUTF8,
                               "atom cache entry %zu is not UTF-8", i);
            if (cps > 255 || alen > DIST_ATOM_BYTES_MAX)
                return rx_fail(rx, EDIST_EATOMLEN,
                               "atom cache entry %zu longer than 255 "
                               "characters",
                               i);
            /* Slot texts are immutable once handed out: a header may
             * define the same slot twice, and the first ref must keep the
             * first text.  The old text is freed with the frame. */
            char *t = edist_mem_alloc(rx->alloc, alen ? alen : 1);
            if (!t)
                return rx_fail(rx, EDIST_ENOMEM, "out of memory");
            memcpy(t, p + *pos, alen);
            if (slot->text)
                rx->grave[rx->ngrave++] = slot->text;
            slot->text = t;
            slot->len = (uint16_t)alen;
            slot->set = 1;
            *pos += alen;
        } else if (!slot->set) {
            return rx_fail(rx, EDIST_EATOMCACHE,
                           "atom cache ref %zu names empty slot %zu", i,
                           slot_ix);
        }
        rx->refs[i].utf8 = slot->text;
        rx->refs[i].len = slot->len;
    }
    return 0;
}

static struct frag_seq *rx_find(edist_dist_rx *rx, uint64_t id, size_t *ix)
{
    for (size_t i = 0; i < rx->nseqs; i++)
        if (rx->seqs[i]->id == id) {
            *ix = i;
            return rx->seqs[i];
        }
    return NULL;
}

/* Starts a fragment sequence; the refs were resolved into rx->refs. */
static int rx_seq_start(edist_dist_rx *rx, uint64_t id, uint64_t frags,
                        size_t natoms, const uint8_t *rest, size_t rlen)
{
    size_t ix;
    if (rx_find(rx, id, &ix))
        return rx_fail(rx, EDIST_EBADMSG,
                       "fragment sequence %llu started twice",
                       (unsigned long long)id);
    if (rx->nseqs >= rx->max_sequences)
        return rx_fail(rx, EDIST_ETOOBIG,
                       "more than %zu fragmented messages in flight",
                       rx->max_sequences);
    size_t blob = 0;
    for (size_t i = 0; i < natoms; i++)
        blob += rx->refs[i].len;
    if (rlen > rx->max_message)
        return rx_fail(rx, EDIST_ETOOBIG, "fragmented message over %zu bytes",
                       rx->max_message);
    if (blob + rlen > rx->max_reassembly - rx->reasm_bytes)
        return rx_fail(rx, EDIST_ETOOBIG, "fragment reassembly over %zu bytes",
                       rx->max_reassembly);
    if (rx->nseqs % 16 == 0) {
        struct frag_seq **ns = edist_mem_realloc(rx->alloc, rx->seqs,
                                                 (rx->nseqs + 16) * sizeof *ns);
        if (!ns)
            return rx_fail(rx, EDIST_ENOMEM, "out of memory");
        rx->seqs = ns;
    }
    struct frag_seq *s = edist_mem_alloc(rx->alloc, sizeof *s);
    if (!s)
        return rx_fail(rx, EDIST_ENOMEM, "out of memory");
    memset(s, 0, sizeof *s);
    s->id = id;
    s->next_frag = frags - 1;
    edist_buf_init(&s->data, rx->max_message, rx->alloc);
    /* The atoms are copied now: later messages (even interleaved ones) may
     * overwrite the cache slots before the last fragment arrives. */
    s->natoms = natoms;
    if (natoms) {
        s->atoms = edist_mem_alloc(rx->alloc, natoms * sizeof *s->atoms);
        s->blob = edist_mem_alloc(rx->alloc, blob ? blob : 1);
    }
    if (edist_buf_append(&s->data, rest, rlen) < 0 ||
        (natoms && (!s->atoms || !s->blob))) {
        edist_buf_free(&s->data);
        edist_mem_free(rx->alloc, s->atoms);
        edist_mem_free(rx->alloc, s->blob);
        edist_mem_free(rx->alloc, s);
        return rx_fail(rx, EDIST_ENOMEM, "out of memory");
    }
    size_t off = 0;
    for (size_t i = 0; i < natoms; i++) {
        if (rx->refs[i].len)
            memcpy(s->blob + off, rx->refs[i].utf8, rx->refs[i].len);
        s->atoms[i].utf8 = s->blob + off;
        s->atoms[i].len = rx->refs[i].len;
        off += rx->refs[i].len;
    }
    s->blob_len = blob;
    rx->reasm_bytes += blob + rlen;
    rx->seqs[rx->nseqs++] = s;
    return 0;
}

/* Appends a continuation; sets *done to the finished sequence (removed
 * from the table) when FragId reached 1. */
static int rx_seq_cont(edist_dist_rx *rx, uint64_t id, uint64_t frag,
                       const uint8_t *rest, size_t rlen, struct frag_seq **done)
{
    size_t ix;
    struct frag_seq *s = rx_find(rx, id, &ix);
    if (!s)
        return rx_fail(rx, EDIST_EBADMSG,
                       "continuation fragment for unknown sequence %llu",
                       (unsigned long long)id);
    if (frag != s->next_frag)
        return rx_fail(rx, EDIST_EBADMSG,
                       "fragment %llu of sequence %llu out of order "
                       "(expected %llu)",
                       (unsigned long long)frag, (unsigned long long)id,
                       (unsigned long long)s->next_frag);
    if (rlen > rx->max_reassembly - rx->reasm_bytes)
        return rx_fail(rx, EDIST_ETOOBIG, "fragment reassembly over %zu bytes",
                       rx->max_reassembly);
    int rc = edist_buf_append(&s->data, rest, rlen);
    if (rc == EDIST_ETOOBIG)
        return rx_fail(rx, rc, "fragmented message over %zu bytes",
                       rx->max_message);
    if (rc < 0)
        return rx_fail(rx, rc, "out of memory");
    rx->reasm_bytes += rlen;
    s->next_frag--;
    if (frag == 1) {
        rx->seqs[ix] = rx->seqs[--rx->nseqs];
        *done = s;
    }
    return 0;
}

/* Decodes the frame p[0..n) on a header connection.  Returns 1 with *msg
 * filled, 0 when the frame was absorbed (a continuation), or a failure. */
static int rx_header_frame(edist_dist_rx *rx, const uint8_t *p, size_t n,
                           edist_dist_msg *msg)
{
    if (p[0] == DIST_PASS_THROUGH)
        return rx_fail(rx, EDIST_EBADMSG,
                       "pass-through message (112) on a connection that "
                       "negotiated distribution headers");
    if (p[0] != DIST_VERSION || n < 2)
        return rx_fail(rx, EDIST_EBADMSG,
                       "message does not start with 131 (got %u)",
                       (unsigned)p[0]);
    size_t pos = 2, natoms = 0;
    int rc;
    switch (p[1]) {
    case DIST_HEADER:
        if ((rc = rx_refs(rx, p, n, &pos, &natoms)) < 0)
            return rc;
        break;
    case DIST_FRAG_HEADER:
    case DIST_FRAG_CONT: {
        if (n < 18)
            return rx_fail(rx, EDIST_EBADMSG, "fragment header truncated");
        uint64_t id = edist_get64(p + 2), frag = edist_get64(p + 10);
        pos = 18;
        if (frag == 0)
            return rx_fail(rx, EDIST_EBADMSG, "fragment id 0");
        if (p[1] == DIST_FRAG_CONT) {
            struct frag_seq *s = NULL;
            if ((rc = rx_seq_cont(rx, id, frag, p + pos, n - pos, &s)) < 0)
                return rc;
            if (!s)
                return 0;
            rx->done = s;
            msg->data = s->data.data;
            msg->len = s->data.len;
            msg->atoms = s->atoms;
            msg->natoms = s->natoms;
            msg->fragmented = 1;
            msg->seq_id = id;
            return 1;
        }
        if ((rc = rx_refs(rx, p, n, &pos, &natoms)) < 0)
            return rc;
        if (frag > 1) {
            rc = rx_seq_start(rx, id, frag, natoms, p + pos, n - pos);
            return rc < 0 ? rc : 0;
        }
        /* A sequence of one fragment is an ordinary message. */
        msg->fragmented = 1;
        msg->seq_id = id;
        break;
    }
    default:
        return rx_fail(rx, EDIST_EBADMSG, "unknown distribution header tag %u",
                       (unsigned)p[1]);
    }
    if (pos >= n)
        return rx_fail(rx, EDIST_EBADMSG, "message without control term");
    msg->data = p + pos;
    msg->len = n - pos;
    msg->atoms = natoms ? rx->refs : NULL;
    msg->natoms = natoms;
    return 1;
}

int edist_dist_rx_next(edist_dist_rx *rx, edist_dist_msg *msg)
{
    if (rx->error)
        return rx->error;
    if (rx->done) {
        seq_free(rx, rx->done);
        rx->done = NULL;
    }
    for (;;) {
        size_t avail = rx->in.len - rx->off;
        if (avail < 4)
            return 0;
        const uint8_t *f = rx->in.data + rx->off;
        size_t flen = edist_get32(f);
        if (flen > rx->max_frame)
            return rx_fail(rx, EDIST_ETOOBIG,
                           "frame of %zu bytes over the %zu-byte cap", flen,
                           rx->max_frame);
        if (avail - 4 < flen)
            return 0;
        rx->off += 4 + flen;
        rx_bury(rx); /* refs of the previous frame are dead now */
        memset(msg, 0, sizeof *msg);
        if (flen == 0) {
            msg->type = EDIST_DIST_TICK;
            return 1;
        }
        const uint8_t *p = f + 4;
        msg->type = EDIST_DIST_MESSAGE;
        if (rx->header_mode) {
            int rc = rx_header_frame(rx, p, flen, msg);
            if (rc != 0)
                return rc;
            continue; /* a continuation fragment was absorbed */
        }
        if (p[0] == DIST_VERSION)
            return rx_fail(rx, EDIST_EBADMSG,
                           "distribution header (131) on a pass-through "
                           "connection");
        if (p[0] != DIST_PASS_THROUGH || flen < 3 || p[1] != DIST_VERSION)
            return rx_fail(rx, EDIST_EBADMSG,
                           "pass-through message must start 112 131");
        msg->data = p + 1;
        msg->len = flen - 1;
        msg->versioned = 1;
        return 1;
    }
}
