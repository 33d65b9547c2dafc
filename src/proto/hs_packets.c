/*
 * hs_packets.c: the handshake packets of each role (protocol.md section
 * 2), as OTP's lib/kernel/src/dist_util.erl (25.2 and 25.3+) sends and
 * checks them.
 *
 * Every handshake packet is framed with a 2-byte length:
 *
 *   +--------+-----------------------+
 *   | Len:16 | Payload (Len bytes)   |
 *   +--------+-----------------------+
 *
 * Payloads, initiator A -> acceptor B and back:
 *
 *   send_name  A->B  'N' Flags:64 Creation:32 Nlen:16 Name [extra]
 *   old name   A->B  'n' Version:16 Flags:32 Name            (accepted only)
 *   status     B->A  's' Text          ok | ok_simultaneous | nok |
 *                                      not_allowed | alive
 *   named      B->A  's' "named:" Nlen:16 Name Creation:32 [extra]
 *   alive ans  A->B  's' "true" | 's' "false"
 *   challenge  B->A  'N' Flags:64 Challenge:32 Creation:32 Nlen:16 Name
 *   complement A->B  'c' FlagsHigh:32 Creation:32   (only after 'n')
 *   reply      A->B  'r' Challenge:32 Digest:16x8
 *   ack        B->A  'a' Digest:16x8
 *
 * Digest = MD5(Cookie ++ decimal(Challenge)).  After the ack both sides
 * switch to 4-byte framing; bytes already received behind the final packet
 * are handed over as leftover.
 */
#include <stdio.h>
#include <string.h>

#include "core/crypto.h"
#include "core/wire.h"
#include "edist/err.h"
#include "edist/proto.h"
#include "proto/hs_internal.h"

/* ---- both roles ---------------------------------------------------------- */

/* The flags we advertise, remembered in sent_flags.  dist_util
 * publish_flag: with NAME_ME (asked for, or answering the request) NAME_ME
 * and no PUBLISHED; otherwise PUBLISHED unless we are hidden. */
static uint64_t hs_advertise(edist_hs *hs)
{
    uint64_t f = hs->base_flags;
    if (hs->name_me)
        f |= EDIST_DFLAG_NAME_ME;
    else if (!hs->hidden)
        f |= EDIST_DFLAG_PUBLISHED;
    hs->sent_flags = f;
    return f;
}

/* The digest of our cookie with challenge into out; fails the handshake
 * when libcrypto does. */
static int hs_digest(edist_hs *hs, uint32_t challenge, uint8_t out[16])
{
    if (edist_hs_digest(hs->cookie, hs->cookie_len, challenge, out) < 0)
        return hs_fail(hs, EDIST_ESYS, "MD5 digest failed (libcrypto)");
    return 0;
}

/* ---- acceptor ------------------------------------------------------------ */

int hs_send_challenge(edist_hs *hs, uint64_t now_ms)
{
    uint64_t f = hs_advertise(hs);
    uint8_t h[18];
    edist_put64(h, f);
    edist_put32(h + 8, hs->challenge);
    edist_put32(h + 12, hs->this_creation);
    edist_put16(h + 16, (uint16_t)hs->this_len);
    int rc = hs_send(hs, 'N', h, sizeof h, hs->this_name, hs->this_len, now_ms);
    if (rc < 0)
        return rc;
    hs->state = hs->old_name ? HS_A_WAIT_COMPLEMENT : HS_A_WAIT_REPLY;
    return 0;
}

static int hs_recv_name(edist_hs *hs, const uint8_t *p, size_t n,
                        uint64_t now_ms)
{
    uint64_t flags;
    const uint8_t *name;
    size_t nlen;
    if (p[0] == 'N') {
        if (n < 15)
            return hs_fail(hs, EDIST_EHANDSHAKE,
                           "truncated send_name ('N', %zu bytes)", n);
        flags = edist_get64(p + 1);
        hs->peer_creation = edist_get32(p + 9);
        nlen = edist_get16(p + 13);
        if (nlen > n - 15)
            return hs_fail(hs, EDIST_EHANDSHAKE,
                           "send_name name length %zu exceeds the packet",
                           nlen);
        name = p + 15;
    } else if (p[0] == 'n') {
        /* OTP 23/24 nodes that did not ask EPMD send the old format; OTP
         * 25.3+ accepts it together with the 'c' complement. */
        if (n < 7)
            return hs_fail(hs, EDIST_EHANDSHAKE,
                           "truncated send_name ('n', %zu bytes)", n);
        flags = edist_get32(p + 3);
        name = p + 7;
        nlen = n - 7;
        hs->old_name = 1;
    } else {
        return hs_fail(hs, EDIST_EHANDSHAKE,
                       "expected send_name ('N' or 'n'), got tag %u",
                       (unsigned)p[0]);
    }
    hs->peer_flags = edist_dflags_expand(flags);
    hs->name_me = !hs->old_name && (flags & EDIST_DFLAG_NAME_ME);
    int bad = hs->name_me ? hs_host_check((const char *)name, nlen)
                          : edist_node_name_check((const char *)name, nlen);
    if (bad)
        return hs_fail(hs, EDIST_EBADNAME,
                       "connecting node sent an invalid %s '%.*s' "
                       "(must be %s)",
                       hs->name_me ? "host name" : "node name",
                       (int)(nlen > 255 ? 255 : nlen), (const char *)name,
                       hs->name_me ? "a non-empty host without '@'"
                                   : "Name@Host");
    hs_copy_name(hs->peer_name, &hs->peer_len, name, nlen);
    /* Without the complement only the low 32 flag bits are known yet; the
     * rest is checked when 'c' arrives. */
    uint64_t req = hs->old_name ? (hs->required & 0xffffffffu) : hs->required;
    uint64_t missing = req & ~hs->peer_flags;
    if (hs->old_name && !(flags & EDIST_DFLAG_HANDSHAKE_23))
        missing |= EDIST_DFLAG_HANDSHAKE_23;
    if (missing)
        return hs_fail_flags(hs, missing, now_ms);
    hs->state = HS_A_DECIDE;
    hs_push(hs, EDIST_HS_EV_NEED_STATUS);
    return 0;
}

int hs_acceptor_packet(edist_hs *hs, const uint8_t *p, size_t n,
                       uint64_t now_ms)
{
    switch (hs->state) {
    case HS_A_WAIT_NAME:
        return hs_recv_name(hs, p, n, now_ms);
    case HS_A_WAIT_ALIVE_REPLY:
        if (n == 5 && memcmp(p, "strue", 5) == 0) {
            hs->replace_old = 1;
            return hs_send_challenge(hs, now_ms);
        }
        if (n == 6 && memcmp(p, "sfalse", 6) == 0)
            return hs_fail(hs, EDIST_EALIVE,
                           "%s answered 'false' to our 'alive' status: it "
                           "keeps its existing connection to us",
                           hs_peer(hs));
        return hs_fail(hs, EDIST_EHANDSHAKE,
                       "%s sent an invalid answer to our 'alive' status",
                       hs_peer(hs));
    case HS_A_WAIT_COMPLEMENT: {
        if (n != 9 || p[0] != 'c')
            return hs_fail(hs, EDIST_EHANDSHAKE,
                           "%s sent no valid complement ('c') after its "
                           "old-style name",
                           hs_peer(hs));
        hs->peer_flags |= (uint64_t)edist_get32(p + 1) << 32;
        hs->peer_flags = edist_dflags_expand(hs->peer_flags);
        hs->peer_creation = edist_get32(p + 5);
        uint64_t missing = hs->required & ~hs->peer_flags;
        if (missing)
            return hs_fail_flags(hs, missing, now_ms);
        hs->state = HS_A_WAIT_REPLY;
        return 0;
    }
    case HS_A_WAIT_REPLY: {
        if (n != 21 || p[0] != 'r')
            return hs_fail(hs, EDIST_EHANDSHAKE,
                           "%s sent no valid challenge reply ('r', 21 bytes; "
                           "got tag %u, %zu bytes)",
                           hs_peer(hs), (unsigned)p[0], n);
        uint8_t want[16];
        int rc = hs_digest(hs, hs->challenge, want);
        if (rc < 0)
            return rc;
        if (edist_ct_memcmp(want, p + 5, 16) != 0)
            return hs_fail(hs, EDIST_ECOOKIE,
                           "connection attempt from %s rejected: invalid "
                           "challenge reply, the two nodes use different "
                           "cookies",
                           hs_peer(hs));
        if ((rc = hs_digest(hs, edist_get32(p + 1), hs->ack_digest)) < 0)
            return rc;
        hs->negotiated = hs->sent_flags & hs->peer_flags;
        if (hs->replace_old) {
            /* dist_util wait_pending: the old connection must be gone
             * before the ack makes the new one usable. */
            hs->state = HS_A_WAIT_OLD_GONE;
            hs_push(hs, EDIST_HS_EV_REPLACE_OLD);
            return 0;
        }
        rc = hs_send(hs, 'a', hs->ack_digest, 16, NULL, 0, now_ms);
        return rc < 0 ? rc : 1; /* complete once the packet is consumed */
    }
    default:
        return hs_fail(hs, EDIST_EHANDSHAKE,
                       "%s sent a handshake packet out of turn (tag %u)",
                       hs_peer(hs), (unsigned)p[0]);
    }
}

/* ---- initiator ------------------------------------------------------------
 */

int hs_send_name(edist_hs *hs, uint64_t now_ms)
{
    uint64_t f = hs_advertise(hs);
    uint8_t h[14];
    edist_put64(h, f);
    edist_put32(h + 8, hs->name_me ? 0 : hs->this_creation);
    edist_put16(h + 12, (uint16_t)hs->this_len);
    return hs_send(hs, 'N', h, sizeof h, hs->this_name, hs->this_len, now_ms);
}

static int hs_recv_named(edist_hs *hs, const uint8_t *p, size_t n)
{
    /* 's' "named:" Nlen:16 Name Creation:32 [extra] */
    if (n < 13)
        return hs_fail(hs, EDIST_EHANDSHAKE, "truncated named: status");
    size_t nlen = edist_get16(p + 7);
    if (nlen > n - 13)
        return hs_fail(hs, EDIST_EHANDSHAKE,
                       "named: status name length exceeds the packet");
    const char *name = (const char *)p + 9;
    if (edist_node_name_check(name, nlen) < 0)
        return hs_fail(hs, EDIST_EBADNAME,
                       "%s gave us an invalid name in its named: status",
                       hs_peer(hs));
    const char *at = memchr(name, '@', nlen);
    size_t hlen = nlen - (size_t)(at + 1 - name);
    if (hlen != hs->this_len || memcmp(at + 1, hs->this_name, hlen) != 0)
        return hs_fail(hs, EDIST_ENAMEMISMATCH,
                       "%s named us '%.*s' but our host is '%s'", hs_peer(hs),
                       (int)nlen, name, hs->this_name);
    hs_copy_name(hs->this_name, &hs->this_len, name, nlen);
    hs->this_creation = edist_get32(p + 9 + nlen);
    hs->state = HS_I_WAIT_CHALLENGE;
    return 0;
}

static int hs_recv_status(edist_hs *hs, const uint8_t *p, size_t n)
{
    if (p[0] != 's')
        return hs_fail(hs, EDIST_EHANDSHAKE,
                       "%s sent tag %u where a status ('s') was expected",
                       hs_peer(hs), (unsigned)p[0]);
    const char *st = (const char *)p + 1;
    size_t len = n - 1;
#define HS_IS(lit) (len == sizeof(lit) - 1 && memcmp(st, lit, len) == 0)
    if (len >= 6 && memcmp(st, "named:", 6) == 0) {
        if (!hs->name_me)
            return hs_fail(hs, EDIST_EHANDSHAKE,
                           "%s sent a named: status though we did not ask "
                           "for a name",
                           hs_peer(hs));
        return hs_recv_named(hs, p, n);
    }
    if (HS_IS("not_allowed"))
        return hs_fail(hs, EDIST_ENOTALLOWED,
                       "%s refused the connection (not_allowed): it requires "
                       "distribution flags we do not offer, or our name is "
                       "not in its allowed list; its log says which",
                       hs_peer(hs));
    if (hs->name_me)
        return hs_fail(hs, EDIST_EHANDSHAKE,
                       "%s answered our NAME_ME request with status '%.*s' "
                       "instead of named:",
                       hs_peer(hs), (int)(len > 64 ? 64 : len), st);
    if (HS_IS("ok") || HS_IS("ok_simultaneous")) {
        hs->state = HS_I_WAIT_CHALLENGE;
        return 0;
    }
    if (HS_IS("nok"))
        return hs_fail(hs, EDIST_ENOK,
                       "%s answered nok: it has its own pending connection "
                       "to us and keeps it (simultaneous connect); the "
                       "connection comes up from its side",
                       hs_peer(hs));
    if (HS_IS("alive")) {
        hs->state = HS_I_ALIVE_DECIDE;
        hs_push(hs, EDIST_HS_EV_NEED_ALIVE_REPLY);
        return 0;
    }
#undef HS_IS
    return hs_fail(hs, EDIST_EHANDSHAKE, "%s sent unknown status '%.*s'",
                   hs_peer(hs), (int)(len > 64 ? 64 : len), st);
}

static int hs_recv_challenge(edist_hs *hs, const uint8_t *p, size_t n,
                             uint64_t now_ms)
{
    if (p[0] != 'N' || n < 19)
        return hs_fail(hs, EDIST_EHANDSHAKE,
                       "%s sent no valid challenge ('N', >= 19 bytes; got "
                       "tag %u, %zu bytes)%s",
                       hs_peer(hs), (unsigned)p[0], n,
                       p[0] == 'n' ? ": it is older than OTP 23" : "");
    uint64_t flags = edist_get64(p + 1);
    uint32_t their = edist_get32(p + 9);
    size_t nlen = edist_get16(p + 17);
    if (nlen > n - 19)
        return hs_fail(hs, EDIST_EHANDSHAKE,
                       "challenge name length exceeds the packet");
    const char *name = (const char *)p + 19;
    /* dist_util: list_to_existing_atom(Ns) =:= Node, byte for byte. */
    if (nlen != hs->peer_len || memcmp(name, hs->peer_name, nlen) != 0)
        return hs_fail(hs, EDIST_ENAMEMISMATCH,
                       "we dialled '%s' but the node answering calls itself "
                       "'%.*s' (short vs long name, or another host part)",
                       hs->peer_name, (int)(nlen > 255 ? 255 : nlen), name);
    hs->peer_flags = edist_dflags_expand(flags);
    hs->peer_creation = edist_get32(p + 13);
    uint64_t missing = hs->required & ~hs->peer_flags;
    if (missing)
        return hs_fail_flags(hs, missing, now_ms);
    hs->negotiated = hs->sent_flags & hs->peer_flags;
    uint8_t r[20];
    edist_put32(r, hs->challenge);
    int rc = hs_digest(hs, their, r + 4);
    if (rc == 0)
        rc = hs_send(hs, 'r', r, sizeof r, NULL, 0, now_ms);
    if (rc < 0)
        return rc;
    hs->state = HS_I_WAIT_ACK;
    return 0;
}

int hs_initiator_packet(edist_hs *hs, const uint8_t *p, size_t n,
                        uint64_t now_ms)
{
    switch (hs->state) {
    case HS_I_WAIT_STATUS:
        return hs_recv_status(hs, p, n);
    case HS_I_WAIT_CHALLENGE:
        return hs_recv_challenge(hs, p, n, now_ms);
    case HS_I_WAIT_ACK: {
        if (n != 17 || p[0] != 'a')
            return hs_fail(hs, EDIST_EHANDSHAKE,
                           "%s sent no valid challenge ack ('a', 17 bytes; "
                           "got tag %u, %zu bytes)",
                           hs_peer(hs), (unsigned)p[0], n);
        uint8_t want[16];
        int rc = hs_digest(hs, hs->challenge, want);
        if (rc < 0)
            return rc;
        if (edist_ct_memcmp(want, p + 1, 16) != 0)
            return hs_fail(hs, EDIST_ECOOKIE,
                           "connection attempt to %s cancelled: invalid "
                           "challenge ack, the peer uses another cookie for "
                           "us than we use for it",
                           hs_peer(hs));
        return 1; /* complete once the packet is consumed */
    }
    default:
        return hs_fail(hs, EDIST_EHANDSHAKE,
                       "%s sent a handshake packet out of turn (tag %u)",
                       hs_peer(hs), (unsigned)p[0]);
    }
}
