/*
 * hs_internal.h: the handshake object, shared by handshake.c (driving,
 * runtime decisions, lifecycle) and hs_packets.c (the packet parsers and
 * builders of each role).  Not installed; not part of the API.
 */
#ifndef EDIST_PROTO_HS_INTERNAL_H
#define EDIST_PROTO_HS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "edist/proto.h"

#define HS_PKT_MAX    (2 + 65535)
#define HS_IN_CAP     (2 * HS_PKT_MAX)
#define HS_OUT_CAP    (4 * HS_PKT_MAX)
#define HS_MAX_EVQ    4
#define HS_COOKIE_MAX 255

enum hs_state {
    HS_I_WAIT_STATUS,
    HS_I_ALIVE_DECIDE,
    HS_I_WAIT_CHALLENGE,
    HS_I_WAIT_ACK,
    HS_A_WAIT_NAME,
    HS_A_DECIDE,
    HS_A_WAIT_ALIVE_REPLY,
    HS_A_WAIT_COMPLEMENT,
    HS_A_WAIT_REPLY,
    HS_A_WAIT_OLD_GONE,
    HS_DONE,
    HS_FAILED
};

struct edist_hs {
    const edist_allocator *alloc;
    int role;
    enum hs_state state;
    char this_name[EDIST_NODE_NAME_MAX + 1];
    char peer_name[EDIST_NODE_NAME_MAX + 1];
    size_t this_len, peer_len;
    uint8_t cookie[HS_COOKIE_MAX];
    size_t cookie_len;
    uint32_t this_creation, peer_creation;
    uint64_t base_flags; /* options' flags without PUBLISHED / NAME_ME */
    uint64_t sent_flags; /* what we advertised */
    uint64_t peer_flags; /* expanded */
    uint64_t required;
    uint64_t negotiated;
    uint32_t challenge;
    uint32_t timeout_ms;
    uint64_t deadline;
    int hidden;
    int name_me;     /* initiator: we asked; acceptor: the peer asked */
    int old_name;    /* acceptor: peer sent 'n', a 'c' must follow */
    int replace_old; /* acceptor: alive answered true */
    uint8_t ack_digest[16];
    edist_buf in, out;
    uint8_t *leftover;
    size_t leftover_len;
    int evq[HS_MAX_EVQ];
    unsigned evhead, evlen;
    int error;
    uint64_t missing;
    char reason[640];
};

/* Helpers shared by the two files (hidden symbols, edist_hsi_ prefix). */
#define hs_push             edist_hsi_push
#define hs_peer             edist_hsi_peer
#define hs_fail             edist_hsi_fail
#define hs_arm              edist_hsi_arm
#define hs_send             edist_hsi_send
#define hs_send_status      edist_hsi_send_status
#define hs_host_check       edist_hsi_host_check
#define hs_copy_name        edist_hsi_copy_name
#define hs_fail_flags       edist_hsi_fail_flags
#define hs_send_challenge   edist_hsi_send_challenge
#define hs_send_name        edist_hsi_send_name
#define hs_acceptor_packet  edist_hsi_acceptor_packet
#define hs_initiator_packet edist_hsi_initiator_packet

void hs_push(edist_hs *hs, int type);
const char *hs_peer(const edist_hs *hs);
/* Fails the handshake with code and a formatted reason; returns code. */
__attribute__((format(printf, 3, 4))) int hs_fail(edist_hs *hs, int code,
                                                  const char *fmt, ...);
void hs_arm(edist_hs *hs, uint64_t now_ms);
/* Queues one packet: Len:16, tag, then the two parts. */
int hs_send(edist_hs *hs, uint8_t tag, const void *a, size_t alen,
            const void *b, size_t blen, uint64_t now_ms);
int hs_send_status(edist_hs *hs, const char *text, uint64_t now_ms);
int hs_host_check(const char *h, size_t len);
void hs_copy_name(char *dst, size_t *dlen, const void *src, size_t n);
int hs_fail_flags(edist_hs *hs, uint64_t missing, uint64_t now_ms);
int hs_send_challenge(edist_hs *hs, uint64_t now_ms);
int hs_send_name(edist_hs *hs, uint64_t now_ms);
/* Handle one received packet p[0..n) (n >= 1).  Return 0 to go on, 1
 * when the handshake completes once the packet is consumed, or a failure
 * code. */
int hs_acceptor_packet(edist_hs *hs, const uint8_t *p, size_t n,
                       uint64_t now_ms);
int hs_initiator_packet(edist_hs *hs, const uint8_t *p, size_t n,
                        uint64_t now_ms);

#endif
