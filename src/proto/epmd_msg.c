/*
 * epmd_msg.c: sans-IO EPMD messages (parsers and encoders).
 *
 * Every request is a packet with a 2-byte length that does not count
 * itself; replies are raw bytes and the daemon closes after them (except
 * after ALIVE2, whose connection lives as long as the registration):
 *
 *      2        1      Len - 1
 *   +------+------+-----------+
 *   | Len  | Type |   Body    |      1 <= Len <= 3057
 *   +------+------+-----------+
 *
 * ALIVE2_REQ (Type 120 'x'), at least 14 bytes after Len:
 *
 *     1      2        1         1          2         2        2      Nlen
 *   +-----+------+--------+----------+---------+--------+------+------+
 *   | 120 | Port | NodeTy | Protocol | HighVsn | LowVsn | Nlen | Name |
 *   +-----+------+--------+----------+---------+--------+------+------+
 *      2     Elen
 *   +------+-------+
 *   | Elen | Extra |   (bytes after Extra are ignored, as OTP does)
 *   +------+-------+
 *
 * ALIVE2_X_RESP: 118 Result:8 Creation:32.  ALIVE2_RESP: 121 Result:8
 * Creation:16.  Creation is 99 when Result != 0.
 *
 * PORT_PLEASE2_REQ: 122 Name (one trailing NUL tolerated).
 * PORT2_RESP: 119 0 Port:16 NodeType:8 Protocol:8 HighVsn:16 LowVsn:16
 *             Nlen:16 Name Elen:16 Extra; or just 119 N (N != 0).
 * NAMES_REQ 110 / DUMP_REQ 100: reply EpmdPort:32 then text lines.
 * KILL_REQ 107: reply "OK" or "NO".  STOP_REQ 115 Name: "STOPPED" or
 * "NOEXIST" (OTP then also sends "STOPPED").
 *
 * The validation mirrors OTP's epmd_srv.c exactly: the checks that make it
 * close silently are parse errors here; the checks that make it answer
 * "registration failed" are edist_epmd_check_alive2().
 */
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "core/wire.h"
#include "edist/epmd.h"
#include "edist/err.h"

static int has_nul(const uint8_t *p, size_t n)
{
    return n && memchr(p, 0, n) != NULL;
}

static int parse_alive2(const uint8_t *b, size_t bsize, edist_epmd_request *req)
{
    /* b[0] is the type byte; bsize counts it (OTP's bsize). */
    if (bsize <= 13)
        return EDIST_EBADMSG;
    edist_epmd_node_info *n = &req->alive;
    n->port = edist_get16(b + 1);
    n->node_type = b[3];
    n->protocol = b[4];
    n->high_vsn = edist_get16(b + 5);
    n->low_vsn = edist_get16(b + 7);
    size_t nlen = edist_get16(b + 9);
    if (nlen + 13 > bsize)
        return EDIST_EBADMSG;
    size_t elen = edist_get16(b + 11 + nlen);
    if (elen + nlen + 13 > bsize)
        return EDIST_EBADMSG;
    if (has_nul(b + 11, nlen))
        return EDIST_EBADNAME;
    n->name = b + 11;
    n->name_len = nlen;
    n->extra = b + 13 + nlen;
    n->extra_len = elen;
    return 0;
}

static int parse_port2(const uint8_t *b, size_t bsize, edist_epmd_request *req)
{
    if (b[bsize - 1] == 0) /* one terminating NUL is tolerated */
        bsize--;
    if (bsize <= 1)
        return EDIST_EBADNAME;
    if (has_nul(b + 1, bsize - 1))
        return EDIST_EBADNAME;
    long chars = edist_utf8_count(b + 1, bsize - 1);
    if (chars < 0)
        return EDIST_EUTF8;
    /* OTP also counts the terminator here and so refuses 255-character
     * names it lets register; we accept them (see docs/edist-epmd.md). */
    if (chars > EDIST_EPMD_MAX_NAME_CHARS)
        return EDIST_EBADNAME;
    req->name = b + 1;
    req->name_len = bsize - 1;
    return 0;
}

int edist_epmd_parse_request(const uint8_t *buf, size_t len,
                             edist_epmd_request *req)
{
    if (len < 2)
        return 0;
    size_t plen = edist_get16(buf);
    if (plen == 0)
        return EDIST_EBADMSG;
    if (plen > EDIST_EPMD_MAX_LEN)
        return EDIST_ETOOBIG;
    if (len < plen + 2)
        return 0;
    const uint8_t *b = buf + 2;
    int rc = 0;
    memset(req, 0, sizeof *req);
    req->type = b[0];
    switch (b[0]) {
    case EDIST_EPMD_ALIVE2_REQ:
        rc = parse_alive2(b, plen, req);
        break;
    case EDIST_EPMD_PORT2_REQ:
        rc = parse_port2(b, plen, req);
        break;
    case EDIST_EPMD_NAMES_REQ:
    case EDIST_EPMD_DUMP_REQ:
    case EDIST_EPMD_KILL_REQ:
        break; /* any body is ignored, as OTP does */
    case EDIST_EPMD_STOP_REQ: {
        if (plen <= 1)
            return EDIST_EBADMSG;
        /* OTP compares the name as a C string: up to the first NUL. */
        const uint8_t *z = memchr(b + 1, 0, plen - 1);
        req->name = b + 1;
        req->name_len = z ? (size_t)(z - (b + 1)) : plen - 1;
        break;
    }
    default:
        return EDIST_EBADMSG;
    }
    return rc < 0 ? rc : (int)(plen + 2);
}

int edist_epmd_check_alive2(const edist_epmd_node_info *n)
{
    if (n->name_len > EDIST_EPMD_MAX_NAME_BYTES)
        return EDIST_ETOOBIG;
    long chars = edist_utf8_count(n->name, n->name_len);
    if (chars > EDIST_EPMD_MAX_NAME_CHARS)
        return EDIST_ETOOBIG;
    if (chars < 0)
        return EDIST_EUTF8;
    if (n->extra_len > EDIST_EPMD_MAX_EXTRA)
        return EDIST_ETOOBIG;
    return 0;
}

/* A name a client may send: 1..1020 bytes, no NUL. */
static int name_ok(const uint8_t *name, size_t len)
{
    return name && len > 0 && len <= EDIST_EPMD_MAX_NAME_BYTES &&
           !has_nul(name, len);
}

int edist_epmd_encode_alive2_req(uint8_t *out, size_t cap,
                                 const edist_epmd_node_info *n)
{
    if (!n || !name_ok(n->name, n->name_len) ||
        n->extra_len > EDIST_EPMD_MAX_EXTRA || (n->extra_len && !n->extra))
        return EDIST_EINVAL;
    size_t body = 13 + n->name_len + n->extra_len;
    if (cap < body + 2)
        return EDIST_ETOOBIG;
    edist_put16(out, (uint16_t)body);
    out[2] = EDIST_EPMD_ALIVE2_REQ;
    edist_put16(out + 3, n->port);
    out[5] = n->node_type;
    out[6] = n->protocol;
    edist_put16(out + 7, n->high_vsn);
    edist_put16(out + 9, n->low_vsn);
    edist_put16(out + 11, (uint16_t)n->name_len);
    memcpy(out + 13, n->name, n->name_len);
    edist_put16(out + 13 + n->name_len, (uint16_t)n->extra_len);
    if (n->extra_len)
        memcpy(out + 15 + n->name_len, n->extra, n->extra_len);
    return (int)(body + 2);
}

static int encode_named(uint8_t *out, size_t cap, uint8_t type,
                        const uint8_t *name, size_t len)
{
    if (!name_ok(name, len))
        return EDIST_EINVAL;
    if (cap < len + 3)
        return EDIST_ETOOBIG;
    edist_put16(out, (uint16_t)(len + 1));
    out[2] = type;
    memcpy(out + 3, name, len);
    return (int)(len + 3);
}

int edist_epmd_encode_port2_req(uint8_t *out, size_t cap, const uint8_t *name,
                                size_t name_len)
{
    return encode_named(out, cap, EDIST_EPMD_PORT2_REQ, name, name_len);
}

int edist_epmd_encode_stop_req(uint8_t *out, size_t cap, const uint8_t *name,
                               size_t name_len)
{
    return encode_named(out, cap, EDIST_EPMD_STOP_REQ, name, name_len);
}

int edist_epmd_encode_simple_req(uint8_t *out, size_t cap, uint8_t type)
{
    if (type != EDIST_EPMD_NAMES_REQ && type != EDIST_EPMD_DUMP_REQ &&
        type != EDIST_EPMD_KILL_REQ)
        return EDIST_EINVAL;
    if (cap < 3)
        return EDIST_ETOOBIG;
    edist_put16(out, 1);
    out[2] = type;
    return 3;
}

int edist_epmd_encode_alive2_resp(uint8_t *out, size_t cap, int x_resp,
                                  uint8_t result, uint32_t creation)
{
    size_t n = x_resp ? 6 : 4;
    if (cap < n)
        return EDIST_ETOOBIG;
    out[0] = x_resp ? EDIST_EPMD_ALIVE2_X_RESP : EDIST_EPMD_ALIVE2_RESP;
    out[1] = result;
    if (x_resp)
        edist_put32(out + 2, creation);
    else
        edist_put16(out + 2, (uint16_t)creation);
    return (int)n;
}

int edist_epmd_encode_port2_resp(uint8_t *out, size_t cap,
                                 const edist_epmd_node_info *n)
{
    if (!n) {
        if (cap < 2)
            return EDIST_ETOOBIG;
        out[0] = EDIST_EPMD_PORT2_RESP;
        out[1] = 1;
        return 2;
    }
    if (n->name_len > EDIST_EPMD_MAX_NAME_BYTES ||
        n->extra_len > EDIST_EPMD_MAX_EXTRA)
        return EDIST_EINVAL;
    size_t total = 14 + n->name_len + n->extra_len;
    if (cap < total)
        return EDIST_ETOOBIG;
    out[0] = EDIST_EPMD_PORT2_RESP;
    out[1] = 0;
    edist_put16(out + 2, n->port);
    out[4] = n->node_type;
    out[5] = n->protocol;
    edist_put16(out + 6, n->high_vsn);
    edist_put16(out + 8, n->low_vsn);
    edist_put16(out + 10, (uint16_t)n->name_len);
    if (n->name_len)
        memcpy(out + 12, n->name, n->name_len);
    edist_put16(out + 12 + n->name_len, (uint16_t)n->extra_len);
    if (n->extra_len)
        memcpy(out + 14 + n->name_len, n->extra, n->extra_len);
    return (int)total;
}

int edist_epmd_encode_port_header(uint8_t *out, size_t cap, uint32_t port)
{
    if (cap < 4)
        return EDIST_ETOOBIG;
    edist_put32(out, port);
    return 4;
}

/* Appends the text pieces [pre, name, post] when they fit. */
static int put_text(uint8_t *out, size_t cap, const char *pre,
                    const uint8_t *name, size_t name_len, const char *post,
                    size_t post_len)
{
    size_t pl = strlen(pre);
    size_t total = pl + name_len + post_len;
    if (total > cap || total > 0x7fffffff)
        return EDIST_ETOOBIG;
    memcpy(out, pre, pl);
    if (name_len)
        memcpy(out + pl, name, name_len);
    memcpy(out + pl + name_len, post, post_len);
    return (int)total;
}

int edist_epmd_encode_names_line(uint8_t *out, size_t cap, const uint8_t *name,
                                 size_t name_len, uint16_t port)
{
    char post[32];
    int pn = snprintf(post, sizeof post, " at port %u\n", (unsigned)port);
    return put_text(out, cap, "name ", name, name_len, post, (size_t)pn);
}

int edist_epmd_encode_dump_line(uint8_t *out, size_t cap, int active,
                                const uint8_t *name, size_t name_len,
                                uint16_t port, int fd)
{
    char post[64];
    int pn;
    if (active)
        pn = snprintf(post, sizeof post, "> at port %u, fd = %d\n",
                      (unsigned)port, fd);
    else
        pn = snprintf(post, sizeof post, ">, port = %u, fd = %d \n",
                      (unsigned)port, fd);
    /* The record's NUL terminator is sent too. */
    return put_text(out, cap,
                    active ? "active name     <" : "old/unused name <", name,
                    name_len, post, (size_t)pn + 1);
}

int edist_epmd_parse_alive2_resp(const uint8_t *buf, size_t len,
                                 uint8_t *result, uint32_t *creation)
{
    if (len < 1)
        return 0;
    if (buf[0] == EDIST_EPMD_ALIVE2_X_RESP) {
        if (len < 6)
            return 0;
        *result = buf[1];
        *creation = edist_get32(buf + 2);
        return 6;
    }
    if (buf[0] == EDIST_EPMD_ALIVE2_RESP) {
        if (len < 4)
            return 0;
        *result = buf[1];
        *creation = edist_get16(buf + 2);
        return 4;
    }
    return EDIST_EBADMSG;
}

int edist_epmd_parse_port2_resp(const uint8_t *buf, size_t len,
                                edist_epmd_port_info *out)
{
    /* *out is only written once the whole reply has been seen. */
    edist_epmd_port_info pi;
    if (len < 1)
        return 0;
    if (buf[0] != EDIST_EPMD_PORT2_RESP)
        return EDIST_EBADMSG;
    if (len < 2)
        return 0;
    memset(&pi, 0, sizeof pi);
    pi.result = buf[1];
    if (buf[1] != 0) {
        *out = pi;
        return 2;
    }
    if (len < 12)
        return 0;
    edist_epmd_node_info *n = &pi.node;
    n->port = edist_get16(buf + 2);
    n->node_type = buf[4];
    n->protocol = buf[5];
    n->high_vsn = edist_get16(buf + 6);
    n->low_vsn = edist_get16(buf + 8);
    n->name_len = edist_get16(buf + 10);
    if (n->name_len > EDIST_EPMD_MAX_NAME_BYTES)
        return EDIST_ETOOBIG;
    if (len < 14 + n->name_len)
        return 0;
    n->name = buf + 12;
    n->extra_len = edist_get16(buf + 12 + n->name_len);
    if (n->extra_len > EDIST_EPMD_MAX_EXTRA)
        return EDIST_ETOOBIG;
    size_t total = 14 + n->name_len + n->extra_len;
    if (len < total)
        return 0;
    n->extra = buf + 14 + n->name_len;
    *out = pi;
    return (int)total;
}

int edist_epmd_parse_names_line(const uint8_t *buf, size_t len,
                                const uint8_t **name, size_t *name_len,
                                uint16_t *port)
{
    const uint8_t *nl = memchr(buf, '\n', len);
    if (!nl)
        return len > EDIST_EPMD_MAX_MSG ? EDIST_EBADMSG : 0;
    size_t n = (size_t)(nl - buf);
    static const char pre[] = "name ", mid[] = " at port ";
    if (n < 5 || memcmp(buf, pre, 5) != 0)
        return EDIST_EBADMSG;
    /* The name may contain spaces: the last " at port " is the separator. */
    size_t i = n;
    while (i > 5 && !(i >= 9 + 5 && memcmp(buf + i - 9, mid, 9) == 0))
        i--;
    if (i <= 5 + 9 - 1 || memcmp(buf + i - 9, mid, 9) != 0 || i == n)
        return EDIST_EBADMSG;
    unsigned long p = 0;
    for (size_t k = i; k < n; k++) {
        if (buf[k] < '0' || buf[k] > '9' || p > 65535)
            return EDIST_EBADMSG;
        p = p * 10 + (unsigned)(buf[k] - '0');
    }
    if (p > 65535)
        return EDIST_EBADMSG;
    *name = buf + 5;
    *name_len = i - 9 - 5;
    *port = (uint16_t)p;
    return (int)(n + 1);
}
