/*
 * fuzz_handshake.c: arbitrary peer bytes into both handshake roles, with
 * the runtime's decisions also taken from the input; then a round trip of
 * two real state machines whose options come from the input.
 *
 * Input layout: byte 0 = mode bits (bit 0: acceptor, bit 1: name_me,
 * bit 2: hidden, bits 3-5: status choice, bit 6: alive answer), byte 1 =
 * chunk size, then the peer's bytes.  Any input is valid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edist/edist.h"
#include "edist/proto.h"

static void drain(edist_hs *hs, int mode, uint64_t now)
{
    edist_hs_event ev;
    while (edist_hs_next_event(hs, &ev)) {
        switch (ev.type) {
        case EDIST_HS_EV_NEED_STATUS:
            if (ev.name_me)
                edist_hs_set_named(hs, "X1@h", 4 + (mode & 7), now);
            else
                edist_hs_set_status(hs, 1 + ((mode >> 3) & 7) % 5, now);
            break;
        case EDIST_HS_EV_NEED_ALIVE_REPLY:
            edist_hs_alive_reply(hs, (mode >> 6) & 1, now);
            break;
        case EDIST_HS_EV_REPLACE_OLD:
            edist_hs_old_gone(hs, now);
            break;
        case EDIST_HS_EV_COMPLETED: {
            /* Touch every byte the event points at. */
            volatile uint8_t sink = 0;
            for (size_t i = 0; i < ev.leftover_len; i++)
                sink ^= ev.leftover[i];
            for (size_t i = 0; i < ev.peer_name_len; i++)
                sink ^= (uint8_t)ev.peer_name[i];
            (void)sink;
            break;
        }
        case EDIST_HS_EV_FAILED:
            if (!ev.reason || !ev.reason[0] || ev.error >= 0)
                abort();
            break;
        default:
            abort();
        }
    }
}

static void one_role(const uint8_t *data, size_t size, int mode, size_t chunk)
{
    edist_hs_options o = {0};
    int acceptor = mode & 1;
    o.role = acceptor ? EDIST_HS_ACCEPTOR : EDIST_HS_INITIATOR;
    o.name_me = !acceptor && (mode & 2);
    o.this_node = o.name_me ? "h" : "me@h";
    o.peer_node = "b@h";
    o.this_creation = 5;
    o.hidden = (mode >> 2) & 1;
    o.cookie = "c";
    o.cookie_len = 1;
    o.challenge = 1;
    edist_hs *hs;
    if (edist_hs_new(&hs, &o, 0) < 0)
        abort();
    uint64_t now = 0;
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        const uint8_t *p;
        size_t pend = edist_hs_pending(hs, &p);
        edist_hs_consumed(hs, pend / 2 + 1);
        int rc = edist_hs_feed(hs, data + off, n, now++);
        drain(hs, mode, now);
        if (rc < 0)
            break;
    }
    edist_hs_closed(hs, now);
    drain(hs, mode, now);
    edist_hs_free(hs);
}

/* Two real machines must always agree with each other. */
static void pair(const uint8_t *data, size_t size, int mode)
{
    char cookie[64];
    size_t clen = size < sizeof cookie ? size : sizeof cookie;
    if (clen == 0)
        return;
    memcpy(cookie, data, clen);
    edist_hs_options a = {0}, b = {0};
    a.role = EDIST_HS_INITIATOR;
    a.this_node = "a@h";
    a.peer_node = "b@h";
    a.cookie = cookie;
    a.cookie_len = clen;
    a.challenge = (uint32_t)size * 2654435761u;
    a.hidden = mode & 1;
    b = a;
    b.role = EDIST_HS_ACCEPTOR;
    b.this_node = "b@h";
    b.challenge = ~a.challenge;
    b.hidden = (mode >> 1) & 1;
    edist_hs *ha, *hb;
    if (edist_hs_new(&ha, &a, 0) < 0 || edist_hs_new(&hb, &b, 0) < 0)
        abort();
    int done = 0;
    for (int round = 0; round < 10 && done < 2; round++) {
        const uint8_t *p;
        size_t n;
        if ((n = edist_hs_pending(ha, &p)) > 0) {
            edist_hs_feed(hb, p, n, 1);
            edist_hs_consumed(ha, n);
        }
        edist_hs_event ev;
        while (edist_hs_next_event(hb, &ev)) {
            if (ev.type == EDIST_HS_EV_NEED_STATUS)
                edist_hs_set_status(hb, EDIST_HS_STATUS_OK, 1);
            else if (ev.type == EDIST_HS_EV_COMPLETED)
                done++;
            else
                abort();
        }
        if ((n = edist_hs_pending(hb, &p)) > 0) {
            edist_hs_feed(ha, p, n, 1);
            edist_hs_consumed(hb, n);
        }
        while (edist_hs_next_event(ha, &ev)) {
            if (ev.type != EDIST_HS_EV_COMPLETED)
                abort();
            if (ev.visible != (!a.hidden && !b.hidden))
                abort();
            done++;
        }
    }
    if (done != 2)
        abort();
    edist_hs_free(ha);
    edist_hs_free(hb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int mode = data[0];
    size_t chunk = data[1] ? data[1] : size;
    one_role(data + 2, size - 2, mode, chunk);
    one_role(data + 2, size - 2, mode ^ 1, chunk);
    pair(data + 2, size - 2, mode);
    return 0;
}
