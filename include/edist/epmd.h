/*
 * edist/epmd.h: the Erlang Port Mapper Daemon protocol (EPMD).
 *
 * Two layers live here:
 *
 *  1. Sans-IO messages (src/proto/epmd_msg.c): one-shot parsers and encoders
 *     for every EPMD request and reply.  They never allocate and never touch
 *     a socket.  Parsers follow picohttpparser: they return the number of
 *     bytes consumed (> 0) when a whole message is in the buffer, 0 when more
 *     bytes are needed, or a negative EDIST_E* code when the bytes can never
 *     become a valid message.  Parsed strings point INTO the caller's buffer
 *     (borrowed): they live as long as that buffer.  Encoders write into a
 *     caller buffer and return the length written or a negative code.
 *
 *  2. A blocking client with timeouts (src/rt/epmd_client.c): NAMES, DUMP,
 *     PORT_PLEASE2, KILL, STOP, and a registration (ALIVE2) that keeps its
 *     connection open for the lifetime of the registration, as BEAM does.
 *
 * Threading: the message functions are pure and safe from any thread.  The
 * client functions block the calling thread (at most timeout_ms per call,
 * name resolution aside) and share no state: call them from any thread.  An
 * edist_epmd_reg handle belongs to one thread at a time.
 *
 * Usage sketch:
 *
 *     edist_epmd_opts o = {0};                  // localhost, $ERL_EPMD_PORT
 *     edist_epmd_lookup lk;
 *     if (edist_epmd_port_please(&o, "foo", &lk) == 0)
 *         printf("foo listens on %u\n", lk.info.node.port);
 *
 * See docs/edist-epmd.md for the protocol and the daemon.
 */
#ifndef EDIST_EPMD_H
#define EDIST_EPMD_H

#include <stddef.h>
#include <stdint.h>

#include "edist/export.h"
#include "edist/mem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default TCP port, overridden by $ERL_EPMD_PORT. */
#define EDIST_EPMD_PORT 4369

/* Request and reply codes (the first byte after the length). */
#define EDIST_EPMD_ALIVE2_REQ    120 /* 'x' */
#define EDIST_EPMD_ALIVE2_RESP   121 /* 'y': 16-bit creation */
#define EDIST_EPMD_ALIVE2_X_RESP 118 /* 'v': 32-bit creation */
#define EDIST_EPMD_PORT2_REQ     122 /* 'z': PORT_PLEASE2_REQ */
#define EDIST_EPMD_PORT2_RESP    119 /* 'w' */
#define EDIST_EPMD_NAMES_REQ     110 /* 'n' */
#define EDIST_EPMD_DUMP_REQ      100 /* 'd' */
#define EDIST_EPMD_KILL_REQ      107 /* 'k' */
#define EDIST_EPMD_STOP_REQ      115 /* 's' */

/* Limits, as OTP's epmd applies them. */
#define EDIST_EPMD_MAX_NAME_CHARS 255  /* code points in a node name */
#define EDIST_EPMD_MAX_NAME_BYTES 1020 /* 255 * 4 UTF-8 bytes */
#define EDIST_EPMD_MAX_EXTRA      1020 /* bytes of Extra in ALIVE2 */
#define EDIST_EPMD_MAX_LEN        3057 /* largest accepted Len field */
#define EDIST_EPMD_MAX_MSG        3060 /* buffer that fits any message */
#define EDIST_EPMD_CREATION_ERROR 99   /* creation sent with a failure */

/* What a node registers and what PORT_PLEASE2 returns about it. */
typedef struct edist_epmd_node_info {
    uint16_t port;       /* the node's distribution listen port */
    uint8_t node_type;   /* 77 'M' normal (BEAM), 72 'H' / 104 'h' hidden */
    uint8_t protocol;    /* 0 = TCP */
    uint16_t high_vsn;   /* highest distribution version (6 for OTP 23+) */
    uint16_t low_vsn;    /* lowest (5 for BEAM 25, 6 for erl_interface) */
    const uint8_t *name; /* borrowed; not NUL-terminated */
    size_t name_len;
    const uint8_t *extra; /* borrowed; binary, may contain NULs */
    size_t extra_len;
} edist_epmd_node_info;

/* A parsed request.  type is one of the *_REQ codes above. */
typedef struct edist_epmd_request {
    uint8_t type;
    /* ALIVE2_REQ: everything the node sent (name and extra borrowed). */
    edist_epmd_node_info alive;
    /* PORT2_REQ: the name (trailing NUL removed).  STOP_REQ: the name up to
     * its first NUL, as OTP compares it.  Borrowed. */
    const uint8_t *name;
    size_t name_len;
} edist_epmd_request;

/*
 * Parses one request packet `Len:16 | Type:8 | Body`.
 *
 * Returns the packet size 2 + Len (> 0) when complete, with *req filled;
 * 0 when buf holds less than the whole packet; or:
 *   EDIST_ETOOBIG  Len > EDIST_EPMD_MAX_LEN;
 *   EDIST_EBADMSG  Len == 0, unknown type, ALIVE2 shorter than 14 bytes or
 *                  with Nlen/Elen past the end, STOP without a name;
 *   EDIST_EBADNAME NUL inside an ALIVE2 or PORT2 name, empty PORT2 name or
 *                  one longer than 255 characters;
 *   EDIST_EUTF8    PORT2 name not strict UTF-8.
 * OTP's epmd closes the connection without a reply in every error case.
 * Bytes after a complete packet are not looked at.  Semantic checks of an
 * ALIVE2 registration (which get a failure REPLY) are separate:
 * edist_epmd_check_alive2().  Pure; req's pointers borrow from buf.
 */
EDIST_EXTERN int edist_epmd_parse_request(const uint8_t *buf, size_t len,
                                          edist_epmd_request *req);

/*
 * The checks OTP's epmd answers with "registration failed" (Result 1,
 * creation 99) rather than a silent close.  Returns 0 when node may be
 * registered, EDIST_ETOOBIG for a name over 1020 bytes or 255 characters or
 * an extra over 1020 bytes, EDIST_EUTF8 for a name that is not strict UTF-8.
 * An empty name passes, as it does in OTP.
 */
EDIST_EXTERN int edist_epmd_check_alive2(const edist_epmd_node_info *node);

/*
 * Request encoders.  Each writes the whole packet (with its length prefix)
 * into out[0..cap) and returns its length, EDIST_ETOOBIG when cap is too
 * small, or EDIST_EINVAL when a field breaks the limits above (name or extra
 * too long; NUL in a name; empty name).
 */
EDIST_EXTERN int edist_epmd_encode_alive2_req(uint8_t *out, size_t cap,
                                              const edist_epmd_node_info *n);
EDIST_EXTERN int edist_epmd_encode_port2_req(uint8_t *out, size_t cap,
                                             const uint8_t *name,
                                             size_t name_len);
/* type: NAMES_REQ, DUMP_REQ or KILL_REQ (3-byte packets). */
EDIST_EXTERN int edist_epmd_encode_simple_req(uint8_t *out, size_t cap,
                                              uint8_t type);
EDIST_EXTERN int edist_epmd_encode_stop_req(uint8_t *out, size_t cap,
                                            const uint8_t *name,
                                            size_t name_len);

/*
 * Reply encoders (daemon side).  Same return convention.
 *
 * ALIVE2: x_resp selects ALIVE2_X_RESP (6 bytes, 32-bit creation; used when
 * the request's HighVsn >= 6) or ALIVE2_RESP (4 bytes, creation truncated to
 * 16 bits).  result 0 = ok.
 */
EDIST_EXTERN int edist_epmd_encode_alive2_resp(uint8_t *out, size_t cap,
                                               int x_resp, uint8_t result,
                                               uint32_t creation);
/* PORT2_RESP: node == NULL encodes "not found" (the 2 bytes 119 1). */
EDIST_EXTERN int edist_epmd_encode_port2_resp(uint8_t *out, size_t cap,
                                              const edist_epmd_node_info *n);
/* NAMES and DUMP replies start with the daemon's port as 4 bytes. */
EDIST_EXTERN int edist_epmd_encode_port_header(uint8_t *out, size_t cap,
                                               uint32_t epmd_port);
/* One NAMES line: "name <Name> at port <P>\n". */
EDIST_EXTERN int edist_epmd_encode_names_line(uint8_t *out, size_t cap,
                                              const uint8_t *name,
                                              size_t name_len, uint16_t port);
/*
 * One DUMP record.  active != 0: "active name     <N> at port P, fd = F\n\0";
 * else "old/unused name <N>, port = P, fd = F \n\0" (the NUL is part of the
 * record, as OTP sends it).
 */
EDIST_EXTERN int edist_epmd_encode_dump_line(uint8_t *out, size_t cap,
                                             int active, const uint8_t *name,
                                             size_t name_len, uint16_t port,
                                             int fd);

/*
 * Reply parsers (client side).  Return bytes consumed (> 0), 0 for "need
 * more", or a negative code.
 *
 * ALIVE2 reply: accepts ALIVE2_X_RESP (6 bytes) and ALIVE2_RESP (4 bytes);
 * EDIST_EBADMSG for any other first byte.
 */
EDIST_EXTERN int edist_epmd_parse_alive2_resp(const uint8_t *buf, size_t len,
                                              uint8_t *result,
                                              uint32_t *creation);

/* The PORT2_RESP of a found node (result 0) or of an unknown one. */
typedef struct edist_epmd_port_info {
    uint8_t result;            /* 0 found; otherwise not registered */
    edist_epmd_node_info node; /* valid when result == 0; borrowed */
} edist_epmd_port_info;

/*
 * Parses PORT2_RESP.  A "not found" reply is the 2 bytes 119 N (N != 0);
 * a found one carries the node record.  EDIST_EBADMSG on another first byte.
 * EDIST_ETOOBIG when Nlen or Elen exceed 1020.
 */
EDIST_EXTERN int edist_epmd_parse_port2_resp(const uint8_t *buf, size_t len,
                                             edist_epmd_port_info *out);

/*
 * Parses one NAMES line "name <N> at port <P>\n" from a NAMES body (after
 * the 4-byte header).  Returns the line length including '\n', 0 when no
 * '\n' is in buf yet, EDIST_EBADMSG when the line has another shape.
 * *name borrows from buf.
 */
EDIST_EXTERN int edist_epmd_parse_names_line(const uint8_t *buf, size_t len,
                                             const uint8_t **name,
                                             size_t *name_len, uint16_t *port);

/* ---------------------------------------------------------------------- */
/* Blocking client (src/rt/epmd_client.c).                                 */

/* Options; a zeroed struct means defaults.  Borrowed for the call only. */
typedef struct edist_epmd_opts {
    /* Host name or address literal of the EPMD to ask.  NULL means the
     * local EPMD, tried on ::1 then 127.0.0.1, as OTP's epmd client does. */
    const char *host;
    /* 0: $ERL_EPMD_PORT when set, else 4369. */
    uint16_t port;
    /* Bound on connecting plus the whole exchange, in milliseconds.  0 means
     * 10000 (BEAM's own bound); negative means wait forever.  Name
     * resolution (getaddrinfo) is not covered by it. */
    int timeout_ms;
    /* Allocator for the buffers returned to the caller; NULL = default. */
    const edist_allocator *alloc;
} edist_epmd_opts;

/*
 * The port the options designate: opts->port, else $ERL_EPMD_PORT (when it
 * is a number in 1..65535), else 4369.  opts may be NULL.
 */
EDIST_EXTERN uint16_t edist_epmd_port(const edist_epmd_opts *opts);

/*
 * NAMES (dump != 0: DUMP).  On success returns 0, stores the port the daemon
 * reports in *epmd_port and its raw text body (without the 4-byte header) in
 * *body / *body_len: owned by the caller, release with edist_epmd_free().
 * The body is NUL-terminated for convenience (the terminator is not counted
 * in body_len; DUMP bodies contain NULs of their own).
 * Errors: EDIST_ECONNREFUSED / EDIST_ENOEPMD when no daemon accepts,
 * EDIST_ETIMEDOUT, EDIST_ECLOSED when it closes before the 4-byte header
 * (DUMP from a non-local host), EDIST_ETOOBIG past 64 MiB, EDIST_ENOMEM,
 * EDIST_EINVAL (bad host), EDIST_EIO.
 */
EDIST_EXTERN int edist_epmd_names(const edist_epmd_opts *opts, int dump,
                                  uint32_t *epmd_port, uint8_t **body,
                                  size_t *body_len);

/* Releases a buffer returned by edist_epmd_names (with the same opts'
 * allocator).  NULL is fine. */
EDIST_EXTERN void edist_epmd_free(const edist_epmd_opts *opts, void *p);

/*
 * PORT_PLEASE2 for name (NUL-terminated, UTF-8).  On success returns 0 and
 * fills *out; out->node.name and .extra point into storage inside *out's
 * private buffer `raw` below and stay valid as long as *out does.
 * EDIST_ENONODE when the name is not registered; EDIST_ECLOSED when the
 * daemon closed without a reply (it does so for an invalid name); connection
 * errors as edist_epmd_names.
 */
typedef struct edist_epmd_lookup {
    edist_epmd_port_info info;
    uint8_t raw[EDIST_EPMD_MAX_MSG]; /* storage the pointers refer to */
} edist_epmd_lookup;
EDIST_EXTERN int edist_epmd_port_please(const edist_epmd_opts *opts,
                                        const char *name,
                                        edist_epmd_lookup *out);

/*
 * KILL.  Returns 0 when the daemon answered "OK" (it then exits),
 * EDIST_ENOTALLOWED when it answered anything else ("NO": live nodes and no
 * -relaxed_command_check), EDIST_ECLOSED on a short answer.
 */
EDIST_EXTERN int edist_epmd_kill(const edist_epmd_opts *opts);

/*
 * STOP name (unregisters it; needs -relaxed_command_check).  Returns 0 on
 * "STOPPED", EDIST_ENONODE on "NOEXIST", EDIST_ECLOSED when the daemon
 * closed without the 7-byte answer (not relaxed), EDIST_EBADMSG otherwise.
 * If reply7 is not NULL the first 7 bytes received are copied there
 * (NUL-padded; 8 bytes).
 */
EDIST_EXTERN int edist_epmd_stop(const edist_epmd_opts *opts, const char *name,
                                 char reply7[8]);

/*
 * Registration (ALIVE2).  The connection stays open: the node is registered
 * exactly as long as it is, as with BEAM.  The handle is owned by the
 * caller; edist_epmd_unregister() closes it and frees it.
 */
typedef struct edist_epmd_reg edist_epmd_reg;

/*
 * Registers node (name 1..255 characters, no NUL; extra may be empty).
 * On success returns 0, stores a new handle in *reg and the creation the
 * daemon assigned in *creation (32-bit with high_vsn >= 6, else 1..3).
 * Errors: EDIST_ENAMEINUSE when the daemon refused the registration (name
 * taken, or invalid in its eyes), EDIST_EINVAL for a bad node record,
 * EDIST_ECLOSED when the daemon closed silently (e.g. not a local peer),
 * connection errors as edist_epmd_names.
 */
EDIST_EXTERN int edist_epmd_register(const edist_epmd_opts *opts,
                                     const edist_epmd_node_info *node,
                                     edist_epmd_reg **reg, uint32_t *creation);

/*
 * The connected socket of a registration, so that an event loop can watch
 * it: it becomes readable (EOF) when the daemon goes away, after which the
 * node should register again.  The handle keeps ownership of the fd.
 */
EDIST_EXTERN int edist_epmd_reg_fd(const edist_epmd_reg *reg);

/* Closes the connection (the daemon unregisters the node at once) and frees
 * the handle.  NULL is fine. */
EDIST_EXTERN void edist_epmd_unregister(edist_epmd_reg *reg);

#ifdef __cplusplus
}
#endif
#endif
