/*
 * edist/err.h: the one error list of libedist.
 *
 * Every function that can fail returns an int: 0 (or a non-negative count
 * where documented) on success, or one of the negative EDIST_E* codes below.
 * There is no global error state: the code is the whole answer, and
 * edist_strerror() turns it into a sentence a person can act on.
 *
 * The list is an X-macro (after libuv's UV_ERRNO_MAP) so that the enum, the
 * names and the messages can never drift apart.  Codes are stable: new ones
 * are appended, none is renumbered.
 *
 * Threading: every function here is pure and safe from any thread.
 */
#ifndef EDIST_ERR_H
#define EDIST_ERR_H

#include "edist/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, message) */
#define EDIST_ERRNO_MAP(X)                                                     \
    X(EINVAL, -1, "invalid argument")                                          \
    X(ENOMEM, -2, "out of memory")                                             \
    X(ETOOBIG, -3, "size cap exceeded")                                        \
    X(EAGAIN, -4, "need more input")                                           \
    X(EBADMSG, -5, "malformed message")                                        \
    X(EUTF8, -6, "invalid UTF-8")                                              \
    X(ERANGE, -7, "value out of range")                                        \
    X(EDEPTH, -8, "nesting depth cap exceeded")                                \
    X(ETERMS, -9, "term count cap exceeded")                                   \
    X(EATOMLEN, -10, "atom too long")                                          \
    X(ETAG, -11, "unknown or unsupported term tag")                            \
    X(EVERSION, -12, "missing or wrong version byte")                          \
    X(EZLIB, -13, "compressed term is corrupt")                                \
    X(ETRAILING, -14, "trailing bytes after term")                             \
    X(ETYPE, -15, "term has another type")                                     \
    X(ESYNTAX, -16, "Erlang term syntax error")                                \
    X(EATOMCACHE, -17, "atom cache reference to an empty slot")                \
    X(ENOTFOUND, -18, "not found")                                             \
    X(EEXIST, -19, "already exists")                                           \
    X(ECLOSED, -20, "connection closed")                                       \
    X(ETIMEDOUT, -21, "timed out")                                             \
    X(ENOTLOCAL, -22, "request refused: peer is not local")                    \
    X(EIO, -23, "input/output error")                                          \
    X(ECONNREFUSED, -24, "connection refused")                                 \
    X(EADDRINUSE, -25, "address already in use")                               \
    X(ENOEPMD, -26, "no EPMD answers")                                         \
    X(ENAMEINUSE, -27, "node name already registered")                         \
    X(ENONODE, -28, "node name not registered with EPMD")                      \
    X(ECOOKIE, -29, "cookie mismatch (digest verification failed)")            \
    X(ECOOKIEFILE, -30, "cookie file unusable")                                \
    X(EFLAGS, -31, "peer lacks mandatory distribution flags")                  \
    X(ENOTALLOWED, -32, "peer refused the connection (not_allowed)")           \
    X(EBADNAME, -33, "bad node name")                                          \
    X(ENAMEMISMATCH, -34, "peer answered with another node name")              \
    X(EHANDSHAKE, -35, "handshake protocol violation")                         \
    X(ENOK, -36, "peer keeps its own simultaneous connection attempt")         \
    X(EALIVE, -37, "peer already has a live connection from this name")        \
    X(ENOCONN, -38, "not connected")                                           \
    X(ENOPROC, -39, "no such process")                                         \
    X(EQUEUEFULL, -40, "queue full")                                           \
    X(ESTATE, -41, "operation not valid in this state")                        \
    X(ESYS, -42, "system call failed")                                         \
    X(EBADRPC, -43, "remote procedure call failed")                            \
    X(ESHUTDOWN, -44, "node is shutting down")

enum edist_err {
#define EDIST_ERR_ENUM_(name, val, msg) EDIST_##name = (val),
    EDIST_ERRNO_MAP(EDIST_ERR_ENUM_)
#undef EDIST_ERR_ENUM_
        EDIST_OK = 0
};

/*
 * Returns a static, never-NULL English sentence for code.  Unknown codes
 * (including positive values) give "unknown error".  The string is owned by
 * the library and lives forever.
 */
EDIST_EXTERN const char *edist_strerror(int code);

/*
 * Returns the code's symbolic name without the prefix ("ENOMEM"), "OK" for 0,
 * or "UNKNOWN".  Static storage, owned by the library.
 */
EDIST_EXTERN const char *edist_errname(int code);

#ifdef __cplusplus
}
#endif
#endif
