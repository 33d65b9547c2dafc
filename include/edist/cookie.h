/*
 * edist/cookie.h: where a node's cookie comes from, and the CSPRNG helpers
 * the handshake needs (challenges).
 *
 * Cookie lookup follows OTP's auth.erl (protocol.md section 6):
 *   1. an explicit cookie (erl -setcookie C);
 *   2. $HOME/.erlang.cookie;
 *   3. $XDG_CONFIG_HOME/erlang/.erlang.cookie ($HOME/.config/erlang/ when
 *      XDG_CONFIG_HOME is unset);
 *   4. otherwise $HOME/.erlang.cookie is created with 20 random uppercase
 *      letters (from the kernel CSPRNG, getrandom(2)), mode 0400, no
 *      newline (without HOME, the XDG path is created instead).
 * Only a missing file moves on to the next source: a file that exists but
 * is not a regular file, can be read by group or others, or holds bad
 * content is an error, exactly as it stops a BEAM node's distribution.
 * Content rules: printable ASCII (0x20..0x7E) up to the first other byte,
 * after which only '\n', '\r' and ' ' may follow; an empty cookie is an
 * error.  The cookie is at most EDIST_COOKIE_MAX bytes (it is an atom).
 *
 * Threading: every function is safe from any thread (no shared state;
 * environment variables are read, never written).
 */
#ifndef EDIST_COOKIE_H
#define EDIST_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "edist/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EDIST_COOKIE_MAX 255

typedef struct edist_cookie_options {
    /* -setcookie: used as is when non-NULL (borrowed; 1..255 bytes). */
    const char *cookie;
    /* Overrides of $HOME and $XDG_CONFIG_HOME (borrowed); NULL reads the
     * environment.  Tests point these at temporary directories. */
    const char *home;
    const char *xdg_config_home;
} edist_cookie_options;

typedef struct edist_cookie {
    char value[EDIST_COOKIE_MAX + 1]; /* NUL-terminated */
    size_t len;
    char path[4096]; /* the file read or created; "" for explicit */
    int created;     /* 1 when the file was created now */
    char error[640]; /* why it failed, naming the file; "" on success */
} edist_cookie;

/*
 * Resolves the cookie into *out (owned by caller; wipe it with
 * edist_cookie_wipe() when done).  opts may be NULL (environment only).
 * Returns 0, or:
 *   EDIST_EINVAL       explicit cookie empty, too long or not printable;
 *   EDIST_ECOOKIEFILE  a cookie file exists but is unusable (not a regular
 *                      file, readable by group/others, bad or empty
 *                      content, too long, unreadable), or could not be
 *                      created; out->error says which file and why;
 *   EDIST_ESYS         the CSPRNG failed while creating a cookie.
 */
EDIST_EXTERN int edist_cookie_resolve(const edist_cookie_options *opts,
                                      edist_cookie *out);

/* Overwrites the cookie value in *c with zeros. */
EDIST_EXTERN void edist_cookie_wipe(edist_cookie *c);

/*
 * Fills buf with n bytes from the kernel CSPRNG (getrandom(2)).
 * Returns 0 or EDIST_ESYS.
 */
EDIST_EXTERN int edist_random_bytes(void *buf, size_t n);

/*
 * Stores a random 32-bit handshake challenge in *out.  Returns 0 or
 * EDIST_ESYS.
 */
EDIST_EXTERN int edist_random_challenge(uint32_t *out);

#ifdef __cplusplus
}
#endif
#endif
