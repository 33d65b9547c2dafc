/*
 * handshake.c: the distribution handshake (protocol.md section 2) as a
 * sans-IO state machine in both roles: input buffering and packet
 * framing, deadlines, the runtime's decisions, and the object's lifecycle.
 * The packets themselves are built and parsed in hs_packets.c (wire
 * diagram there).  Behaviour follows OTP's lib/kernel/src/dist_util.erl.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/mem.h"
#include "core/wire.h"
#include "edist/err.h"
#include "edist/proto.h"
#include "proto/hs_internal.h"

/* ---- small helpers ------------------------------------------------------ */

void hs_push(edist_hs *hs, int type)
{
    if (hs->evlen < HS_MAX_EVQ)
        hs->evq[(hs->evhead + hs->evlen++) % HS_MAX_EVQ] = type;
}

const char *hs_peer(const edist_hs *hs)
{
    return hs->peer_len ? hs->peer_name : "the connecting node";
}

/* Fails the handshake with code and a formatted reason; returns code. */
int hs_fail(edist_hs *hs, int code, const char *fmt, ...)
{
    if (hs->state == HS_FAILED)
        return code; /* keep the first, most precise reason */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(hs->reason, sizeof hs->reason, fmt, ap);
    va_end(ap);
    hs->state = HS_FAILED;
    hs->error = code;
    hs->deadline = EDIST_NO_DEADLINE;
    hs_push(hs, EDIST_HS_EV_FAILED);
    return code;
}

void hs_arm(edist_hs *hs, uint64_t now_ms)
{
    hs->deadline = now_ms + hs->timeout_ms;
}

/* Queues one packet: Len:16 then the parts. */
int hs_send(edist_hs *hs, uint8_t tag, const void *a, size_t alen,
            const void *b, size_t blen, uint64_t now_ms)
{
    size_t len = 1 + alen + blen;
    if (len > 65535)
        return hs_fail(hs, EDIST_ETOOBIG, "handshake packet too large");
    int rc = edist_buf_reserve(&hs->out, 2 + len);
    if (rc == 0) {
        edist_buf_put16(&hs->out, (uint16_t)len);
        edist_buf_put8(&hs->out, tag);
        edist_buf_append(&hs->out, a, alen);
        edist_buf_append(&hs->out, b, blen);
    }
    if (rc < 0)
        return hs_fail(hs, rc, "cannot queue handshake output: %s",
                       edist_strerror(rc));
    hs_arm(hs, now_ms);
    return 0;
}

int hs_send_status(edist_hs *hs, const char *text, uint64_t now_ms)
{
    return hs_send(hs, 's', text, strlen(text), NULL, 0, now_ms);
}

/* Checks a host part sent with NAME_ME: non-empty, no '@', printable. */
int hs_host_check(const char *h, size_t len)
{
    if (len == 0 || len > EDIST_NODE_NAME_MAX)
        return EDIST_EBADNAME;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c < 0x20 || c == 0x7f || c == '@')
            return EDIST_EBADNAME;
    }
    return 0;
}

void hs_copy_name(char *dst, size_t *dlen, const void *src, size_t n)
{
    memcpy(dst, src, n);
    dst[n] = '\0';
    *dlen = n;
}

/* Fails with EDIST_EFLAGS naming the flags the peer lacks.  The acceptor
 * first queues "not_allowed", as dist_util check_dflags does. */
int hs_fail_flags(edist_hs *hs, uint64_t missing, uint64_t now_ms)
{
    char names[400];
    edist_dflags_format(missing, names, sizeof names);
    hs->missing = missing;
    if (hs->role == EDIST_HS_ACCEPTOR) {
        hs_send_status(hs, "not_allowed", now_ms);
        return hs_fail(hs, EDIST_EFLAGS,
                       "connection attempt from %s rejected (not_allowed) "
                       "since it cannot handle [%s]: it is older than the "
                       "OTP releases edist supports (25-27) or a C node "
                       "with an incomplete flag set",
                       hs_peer(hs), names);
    }
    return hs_fail(hs, EDIST_EFLAGS,
                   "connection attempt to %s aborted since it cannot handle "
                   "[%s]: it is older than the OTP releases edist supports "
                   "(25-27) or a C node with an incomplete flag set",
                   hs_peer(hs), names);
}

/* ---- completion --------------------------------------------------------- */

/* Completes: everything still buffered, plus rest[0..n), is leftover. */
static int hs_complete(edist_hs *hs, const uint8_t *rest, size_t n)
{
    size_t total = hs->in.len + n;
    if (total) {
        hs->leftover = edist_mem_alloc(hs->alloc, total);
        if (!hs->leftover)
            return hs_fail(hs, EDIST_ENOMEM, "out of memory");
        if (hs->in.len)
            memcpy(hs->leftover, hs->in.data, hs->in.len);
        if (n)
            memcpy(hs->leftover + hs->in.len, rest, n);
        hs->leftover_len = total;
    }
    edist_buf_reset(&hs->in);
    hs->state = HS_DONE;
    hs->deadline = EDIST_NO_DEADLINE;
    hs_push(hs, EDIST_HS_EV_COMPLETED);
    return 0;
}

/* ---- driving --------------------------------------------------------------
 */

static int hs_waiting_for_runtime(const edist_hs *hs)
{
    return hs->state == HS_A_DECIDE || hs->state == HS_I_ALIVE_DECIDE ||
           hs->state == HS_A_WAIT_OLD_GONE;
}

/* Processes complete packets in hs->in.  Returns 1 when the final packet
 * (initiator's ack) was consumed, 0 when more input is needed or a runtime
 * decision is awaited, or a negative failure code. */
static int hs_process(edist_hs *hs, uint64_t now_ms)
{
    while (hs->state != HS_DONE && hs->state != HS_FAILED &&
           !hs_waiting_for_runtime(hs) && hs->in.len >= 2) {
        size_t plen = edist_get16(hs->in.data);
        if (plen == 0)
            return hs_fail(hs, EDIST_EHANDSHAKE,
                           "%s sent an empty handshake packet", hs_peer(hs));
        if (hs->in.len < 2 + plen)
            return 0;
        hs_arm(hs, now_ms);
        int rc = hs->role == EDIST_HS_INITIATOR
                     ? hs_initiator_packet(hs, hs->in.data + 2, plen, now_ms)
                     : hs_acceptor_packet(hs, hs->in.data + 2, plen, now_ms);
        if (rc < 0)
            return rc;
        edist_buf_consume(&hs->in, 2 + plen);
        if (rc == 1)
            return 1;
    }
    return 0;
}

/* After a runtime decision: processes packets that arrived meanwhile. */
static int hs_resume(edist_hs *hs, uint64_t now_ms)
{
    int rc = hs_process(hs, now_ms);
    return rc == 1 ? hs_complete(hs, NULL, 0) : rc;
}

static int hs_check_time(edist_hs *hs, uint64_t now_ms)
{
    if (now_ms < hs->deadline)
        return 0;
    static const char *const what[] = {
        [HS_I_WAIT_STATUS] = "the status",
        [HS_I_ALIVE_DECIDE] = "our own alive decision",
        [HS_I_WAIT_CHALLENGE] = "the challenge",
        [HS_I_WAIT_ACK] = "the challenge ack",
        [HS_A_WAIT_NAME] = "the node name",
        [HS_A_DECIDE] = "our own status decision",
        [HS_A_WAIT_ALIVE_REPLY] = "the answer to 'alive'",
        [HS_A_WAIT_COMPLEMENT] = "the complement",
        [HS_A_WAIT_REPLY] = "the challenge reply",
        [HS_A_WAIT_OLD_GONE] = "the old connection to close",
    };
    return hs_fail(hs, EDIST_ETIMEDOUT,
                   "handshake with %s timed out waiting for %s (each step "
                   "must finish within %u ms, net_setuptime)",
                   hs_peer(hs), what[hs->state], (unsigned)hs->timeout_ms);
}

int edist_hs_feed(edist_hs *hs, const uint8_t *in, size_t len, uint64_t now_ms)
{
    if (hs->state == HS_DONE || hs->state == HS_FAILED)
        return EDIST_ESTATE;
    int rc = hs_check_time(hs, now_ms);
    if (rc < 0)
        return rc;
    do {
        size_t room = HS_IN_CAP - hs->in.len;
        size_t take = len < room ? len : room;
        if (take == 0 && len > 0)
            return hs_fail(hs, EDIST_EHANDSHAKE,
                           "%s sent more handshake data than the protocol "
                           "allows at this step",
                           hs_peer(hs));
        rc = edist_buf_append(&hs->in, in, take);
        if (rc < 0)
            return hs_fail(hs, rc, "cannot buffer handshake input: %s",
                           edist_strerror(rc));
        in += take;
        len -= take;
        rc = hs_process(hs, now_ms);
        if (rc < 0)
            return rc;
        if (rc == 1)
            return hs_complete(hs, in, len);
    } while (len > 0);
    return 0;
}

int edist_hs_closed(edist_hs *hs, uint64_t now_ms)
{
    (void)now_ms;
    const char *p = hs_peer(hs);
    switch (hs->state) {
    case HS_DONE:
    case HS_FAILED:
        return EDIST_ESTATE;
    case HS_I_WAIT_ACK:
        /* BEAM answers a wrong digest by closing the socket silently. */
        return hs_fail(hs, EDIST_ECOOKIE,
                       "%s closed the connection after our challenge reply: "
                       "that is how an Erlang node rejects a wrong digest, "
                       "the two nodes use different cookies",
                       p);
    case HS_I_WAIT_STATUS:
        return hs_fail(hs, EDIST_ECLOSED,
                       "%s closed the connection before sending a status: it "
                       "refused our name (a -sname node refuses long names "
                       "and vice versa; an 'allowed' list may exclude us)",
                       p);
    case HS_A_WAIT_COMPLEMENT:
    case HS_A_WAIT_REPLY:
        return hs_fail(hs, EDIST_ECLOSED,
                       "%s closed the connection after our challenge: it "
                       "dialled another node name than ours '%s' (short vs "
                       "long names, host part) or refused our flags",
                       p, hs->this_name);
    default:
        return hs_fail(hs, EDIST_ECLOSED,
                       "%s closed the connection during the handshake", p);
    }
}

/* ---- runtime decisions ------------------------------------------------------
 */

int edist_hs_set_status(edist_hs *hs, int status, uint64_t now_ms)
{
    if (hs->state != HS_A_DECIDE)
        return EDIST_ESTATE;
    if (status < EDIST_HS_STATUS_OK || status > EDIST_HS_STATUS_ALIVE)
        return EDIST_EINVAL;
    if (hs->name_me && status != EDIST_HS_STATUS_NOT_ALLOWED &&
        status != EDIST_HS_STATUS_NOK)
        return EDIST_EINVAL;
    int rc;
    switch (status) {
    case EDIST_HS_STATUS_OK:
    case EDIST_HS_STATUS_OK_SIMULTANEOUS:
        rc = hs_send_status(
            hs, status == EDIST_HS_STATUS_OK ? "ok" : "ok_simultaneous",
            now_ms);
        if (rc == 0)
            rc = hs_send_challenge(hs, now_ms);
        return rc < 0 ? rc : hs_resume(hs, now_ms);
    case EDIST_HS_STATUS_NOK:
        hs_send_status(hs, "nok", now_ms);
        return hs_fail(hs, EDIST_ENOK,
                       "answered nok to %s: our own pending connection to "
                       "it wins the simultaneous connect",
                       hs_peer(hs));
    case EDIST_HS_STATUS_NOT_ALLOWED:
        hs_send_status(hs, "not_allowed", now_ms);
        return hs_fail(hs, EDIST_ENOTALLOWED,
                       "refused the connection from %s (not_allowed)",
                       hs_peer(hs));
    default: /* ALIVE */
        rc = hs_send_status(hs, "alive", now_ms);
        if (rc < 0)
            return rc;
        hs->state = HS_A_WAIT_ALIVE_REPLY;
        return hs_resume(hs, now_ms);
    }
}

int edist_hs_set_named(edist_hs *hs, const char *name, uint32_t creation,
                       uint64_t now_ms)
{
    if (hs->state != HS_A_DECIDE)
        return EDIST_ESTATE;
    if (!hs->name_me || creation < 4 || !name)
        return EDIST_EINVAL;
    size_t nlen = strlen(name);
    if (edist_node_name_check(name, nlen) < 0)
        return EDIST_EBADNAME;
    const char *at = strchr(name, '@');
    if (strcmp(at + 1, hs->peer_name) != 0)
        return EDIST_EBADNAME;
    /* The status packet is 's' "named:" Nlen Name Creation. */
    uint8_t st[6 + 2 + EDIST_NODE_NAME_MAX + 4];
    memcpy(st, "named:", 6);
    edist_put16(st + 6, (uint16_t)nlen);
    memcpy(st + 8, name, nlen);
    edist_put32(st + 8 + nlen, creation);
    int rc = hs_send(hs, 's', st, 8 + nlen + 4, NULL, 0, now_ms);
    if (rc < 0)
        return rc;
    hs_copy_name(hs->peer_name, &hs->peer_len, name, nlen);
    hs->peer_creation = creation;
    rc = hs_send_challenge(hs, now_ms);
    return rc < 0 ? rc : hs_resume(hs, now_ms);
}

int edist_hs_alive_reply(edist_hs *hs, int proceed, uint64_t now_ms)
{
    if (hs->state != HS_I_ALIVE_DECIDE)
        return EDIST_ESTATE;
    int rc = hs_send_status(hs, proceed ? "true" : "false", now_ms);
    if (rc < 0)
        return rc;
    if (!proceed)
        return hs_fail(hs, EDIST_EALIVE,
                       "%s already has a live connection from our name and "
                       "we answered false (our old connection is still up)",
                       hs_peer(hs));
    hs->state = HS_I_WAIT_CHALLENGE;
    /* Packets that arrived while we decided are processed now. */
    return hs_resume(hs, now_ms);
}

int edist_hs_old_gone(edist_hs *hs, uint64_t now_ms)
{
    if (hs->state != HS_A_WAIT_OLD_GONE)
        return EDIST_ESTATE;
    int rc = hs_send(hs, 'a', hs->ack_digest, 16, NULL, 0, now_ms);
    return rc < 0 ? rc : hs_complete(hs, NULL, 0);
}

/* ---- object lifecycle and accessors
 * ------------------------------------------- */

int edist_hs_new(edist_hs **out, const edist_hs_options *o, uint64_t now_ms)
{
    if (!out || !o || !o->this_node || !o->cookie || o->cookie_len == 0 ||
        o->cookie_len > HS_COOKIE_MAX)
        return EDIST_EINVAL;
    if (o->role != EDIST_HS_INITIATOR && o->role != EDIST_HS_ACCEPTOR)
        return EDIST_EINVAL;
    int name_me = o->role == EDIST_HS_INITIATOR && o->name_me;
    size_t tlen = strlen(o->this_node);
    if (name_me ? hs_host_check(o->this_node, tlen)
                : edist_node_name_check(o->this_node, tlen))
        return EDIST_EBADNAME;
    size_t plen = 0;
    if (o->role == EDIST_HS_INITIATOR) {
        if (!o->peer_node)
            return EDIST_EINVAL;
        plen = strlen(o->peer_node);
        if (edist_node_name_check(o->peer_node, plen) < 0)
            return EDIST_EBADNAME;
    }
    const edist_allocator *a = edist_mem_resolve(o->alloc);
    edist_hs *hs = edist_mem_alloc(a, sizeof *hs);
    if (!hs)
        return EDIST_ENOMEM;
    memset(hs, 0, sizeof *hs);
    hs->alloc = a;
    hs->role = o->role;
    hs_copy_name(hs->this_name, &hs->this_len, o->this_node, tlen);
    if (plen)
        hs_copy_name(hs->peer_name, &hs->peer_len, o->peer_node, plen);
    memcpy(hs->cookie, o->cookie, o->cookie_len);
    hs->cookie_len = o->cookie_len;
    hs->this_creation = o->this_creation;
    hs->base_flags = (o->flags ? o->flags : EDIST_DFLAGS_DEFAULT) &
                     ~(EDIST_DFLAG_PUBLISHED | EDIST_DFLAG_NAME_ME);
    hs->required = EDIST_DFLAGS_MANDATORY_26 | o->required_flags;
    hs->challenge = o->challenge;
    hs->hidden = o->hidden != 0;
    hs->name_me = name_me;
    hs->timeout_ms =
        o->setup_timeout_ms ? o->setup_timeout_ms : EDIST_HS_SETUP_TIMEOUT_MS;
    edist_buf_init(&hs->in, HS_IN_CAP, a);
    edist_buf_init(&hs->out, HS_OUT_CAP, a);
    hs_arm(hs, now_ms);
    if (hs->role == EDIST_HS_INITIATOR) {
        hs->state = HS_I_WAIT_STATUS;
        int rc = hs_send_name(hs, now_ms);
        if (rc < 0) {
            edist_hs_free(hs);
            return rc;
        }
    } else {
        hs->state = HS_A_WAIT_NAME;
    }
    *out = hs;
    return 0;
}

void edist_hs_free(edist_hs *hs)
{
    if (!hs)
        return;
    /* The cookie is secret: do not leave it in freed memory. */
    edist_cleanse(hs->cookie, sizeof hs->cookie);
    edist_buf_free(&hs->in);
    edist_buf_free(&hs->out);
    edist_mem_free(hs->alloc, hs->leftover);
    edist_mem_free(hs->alloc, hs);
}

size_t edist_hs_pending(const edist_hs *hs, const uint8_t **ptr)
{
    *ptr = hs->out.data;
    return hs->out.len;
}

void edist_hs_consumed(edist_hs *hs, size_t n)
{
    edist_buf_consume(&hs->out, n < hs->out.len ? n : hs->out.len);
}

uint64_t edist_hs_next_deadline(const edist_hs *hs)
{
    return hs->deadline;
}

int edist_hs_next_event(edist_hs *hs, edist_hs_event *ev)
{
    if (hs->evlen == 0)
        return 0;
    memset(ev, 0, sizeof *ev);
    ev->type = hs->evq[hs->evhead];
    hs->evhead = (hs->evhead + 1) % HS_MAX_EVQ;
    hs->evlen--;
    ev->peer_name = hs->peer_name;
    ev->peer_name_len = hs->peer_len;
    ev->peer_creation = hs->peer_creation;
    ev->peer_flags = hs->peer_flags;
    ev->name_me = hs->role == EDIST_HS_ACCEPTOR && hs->name_me;
    ev->this_name = hs->this_name;
    ev->this_creation = hs->this_creation;
    if (ev->type == EDIST_HS_EV_COMPLETED) {
        ev->flags = hs->negotiated;
        ev->visible = (hs->negotiated & EDIST_DFLAG_PUBLISHED) != 0;
        ev->replaced_old = hs->replace_old;
        ev->leftover = hs->leftover;
        ev->leftover_len = hs->leftover_len;
    }
    if (ev->type == EDIST_HS_EV_FAILED) {
        ev->error = hs->error;
        ev->reason = hs->reason;
        ev->missing_flags = hs->missing;
    }
    return 1;
}
