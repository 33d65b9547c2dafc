/*
 * fuzz_epmd_msg.c: libFuzzer target for the EPMD message parsers
 * (src/proto/epmd_msg.c).  Every parser runs on the input; whatever parses
 * is re-encoded and parsed again, and must give the same fields back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edist/epmd.h"
#include "edist/err.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

static void same_node(const edist_epmd_node_info *a,
                      const edist_epmd_node_info *b)
{
    check(a->port == b->port && a->node_type == b->node_type &&
          a->protocol == b->protocol && a->high_vsn == b->high_vsn &&
          a->low_vsn == b->low_vsn && a->name_len == b->name_len &&
          a->extra_len == b->extra_len);
    check(a->name_len == 0 || memcmp(a->name, b->name, a->name_len) == 0);
    check(a->extra_len == 0 || memcmp(a->extra, b->extra, a->extra_len) == 0);
}

static void requests(const uint8_t *d, size_t n)
{
    edist_epmd_request r, r2;
    uint8_t out[EDIST_EPMD_MAX_MSG];
    int rc = edist_epmd_parse_request(d, n, &r);
    check(rc <= 0 || ((size_t)rc <= n && rc >= 3));
    if (rc <= 0)
        return;
    if (r.type == EDIST_EPMD_ALIVE2_REQ) {
        int ok = edist_epmd_check_alive2(&r.alive);
        int m = edist_epmd_encode_alive2_req(out, sizeof out, &r.alive);
        /* What the daemon accepts, a client can send. */
        if (ok == 0 && r.alive.name_len > 0)
            check(m > 0);
        if (m > 0) {
            check(edist_epmd_parse_request(out, (size_t)m, &r2) == m);
            same_node(&r.alive, &r2.alive);
        }
        /* The PORT2 reply carrying this node round-trips too. */
        edist_epmd_port_info pi;
        m = edist_epmd_encode_port2_resp(out, sizeof out, &r.alive);
        if (ok == 0) {
            check(m > 0);
            check(edist_epmd_parse_port2_resp(out, (size_t)m, &pi) == m);
            same_node(&r.alive, &pi.node);
        }
    } else if (r.type == EDIST_EPMD_PORT2_REQ) {
        int m =
            edist_epmd_encode_port2_req(out, sizeof out, r.name, r.name_len);
        check(m > 0);
        check(edist_epmd_parse_request(out, (size_t)m, &r2) == m);
        check(r2.name_len == r.name_len &&
              memcmp(r2.name, r.name, r.name_len) == 0);
        m = edist_epmd_encode_names_line(out, sizeof out, r.name, r.name_len,
                                         4369);
        if (m > 0 && !memchr(r.name, '\n', r.name_len)) {
            const uint8_t *nm;
            size_t nl;
            uint16_t port;
            check(edist_epmd_parse_names_line(out, (size_t)m, &nm, &nl,
                                              &port) == m);
            check(port == 4369 && nl == r.name_len);
        }
    }
}

static void replies(const uint8_t *d, size_t n)
{
    uint8_t res;
    uint32_t cr;
    int rc = edist_epmd_parse_alive2_resp(d, n, &res, &cr);
    check(rc <= 0 || (size_t)rc <= n);
    edist_epmd_port_info pi;
    rc = edist_epmd_parse_port2_resp(d, n, &pi);
    check(rc <= 0 || (size_t)rc <= n);
    if (rc > 0 && pi.result == 0) {
        uint8_t out[EDIST_EPMD_MAX_MSG];
        int m = edist_epmd_encode_port2_resp(out, sizeof out, &pi.node);
        check(m == rc && memcmp(out, d, (size_t)m) == 0);
    }
    const uint8_t *nm;
    size_t nl;
    uint16_t port;
    rc = edist_epmd_parse_names_line(d, n, &nm, &nl, &port);
    check(rc <= 0 || ((size_t)rc <= n && nm >= d && nm + nl <= d + n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Copy so that ASan sees reads past the end of the input. */
    uint8_t *d = malloc(size ? size : 1);
    if (!d)
        return 0;
    if (size)
        memcpy(d, data, size);
    requests(d, size);
    replies(d, size);
    free(d);
    return 0;
}
