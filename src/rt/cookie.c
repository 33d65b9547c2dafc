/*
 * cookie.c: find, check or create the node's cookie like OTP's auth.erl
 * (see edist/cookie.h for the rules).  This is runtime code: it reads the
 * environment and the file system.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto.h"
#include "edist/cookie.h"
#include "edist/err.h"

/* Cookie files are tiny; a bigger one is certainly not a cookie. */
#define COOKIE_FILE_MAX 4096
#define COOKIE_NEW_LEN  20

__attribute__((format(printf, 3, 4))) static int
cookie_err(edist_cookie *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
    edist_cookie_wipe(c);
    return code;
}

/* auth.erl check_cookie/check_cookie1 on the file content. */
static int cookie_parse(edist_cookie *c, const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] >= 0x20 && s[i] <= 0x7e)
        i++;
    size_t len = i;
    for (; i < n; i++)
        if (s[i] != '\n' && s[i] != '\r' && s[i] != ' ')
            return cookie_err(c, EDIST_ECOOKIEFILE,
                              "Bad characters in cookie file %s (byte 0x%02x "
                              "at offset %zu)",
                              c->path, s[i], i);
    if (len == 0)
        return cookie_err(c, EDIST_ECOOKIEFILE, "Too short cookie string in %s",
                          c->path);
    if (len > EDIST_COOKIE_MAX)
        return cookie_err(c, EDIST_ECOOKIEFILE,
                          "Cookie in %s is longer than %d bytes", c->path,
                          EDIST_COOKIE_MAX);
    memcpy(c->value, s, len);
    c->value[len] = '\0';
    c->len = len;
    return 0;
}

/* Reads c->path.  Returns 0, 1 when the file does not exist, or an
 * error. */
static int cookie_read(edist_cookie *c)
{
    /* Open first and check the opened file (no stat/open race);
     * O_NONBLOCK keeps a FIFO planted there from blocking us. */
    int fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        return cookie_err(c, EDIST_ECOOKIEFILE, "Error when reading %s: %s",
                          c->path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return cookie_err(c, EDIST_ECOOKIEFILE, "Error when reading %s: %s",
                          c->path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return cookie_err(c, EDIST_ECOOKIEFILE,
                          "Cookie file %s is not a regular file", c->path);
    }
    if (st.st_mode & 077) {
        close(fd);
        return cookie_err(c, EDIST_ECOOKIEFILE,
                          "Cookie file %s must be accessible by owner only "
                          "(mode %03o; run chmod 400 %s)",
                          c->path, (unsigned)(st.st_mode & 0777), c->path);
    }
    unsigned char buf[COOKIE_FILE_MAX + 1];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, sizeof buf - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            edist_cleanse(buf, sizeof buf);
            return cookie_err(c, EDIST_ECOOKIEFILE, "Error when reading %s: %s",
                              c->path, strerror(e));
        }
        if (r == 0 || (n += (size_t)r) == sizeof buf)
            break;
    }
    close(fd);
    int rc = n > COOKIE_FILE_MAX
                 ? cookie_err(c, EDIST_ECOOKIEFILE,
                              "Cookie file %s is too large", c->path)
                 : cookie_parse(c, buf, n);
    edist_cleanse(buf, sizeof buf);
    return rc;
}

/* Sets the file times to today's local midnight, as auth.erl does, so the
 * file does not reveal when the cookie was made.  Best effort. */
static void cookie_hide_time(int fd)
{
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm))
        return;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    time_t midnight = mktime(&tm);
    if (midnight == (time_t)-1)
        return;
    struct timespec ts[2] = {{midnight, 0}, {midnight, 0}};
    (void)futimens(fd, ts);
}

static int cookie_create(edist_cookie *c)
{
    unsigned char letters[COOKIE_NEW_LEN];
    size_t have = 0;
    while (have < COOKIE_NEW_LEN) {
        unsigned char r[32];
        if (edist_random_bytes(r, sizeof r) < 0)
            return cookie_err(c, EDIST_ESYS, "CSPRNG failure");
        /* Rejection sampling keeps the 26 letters equally likely. */
        for (size_t i = 0; i < sizeof r && have < COOKIE_NEW_LEN; i++)
            if (r[i] < 26 * 9)
                letters[have++] = (unsigned char)('A' + r[i] % 26);
        edist_cleanse(r, sizeof r);
    }
    int fd = open(c->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
    if (fd < 0)
        return cookie_err(c, EDIST_ECOOKIEFILE,
                          "Failed to create cookie file '%s': %s", c->path,
                          strerror(errno));
    size_t off = 0;
    while (off < COOKIE_NEW_LEN) {
        ssize_t w = write(fd, letters + off, COOKIE_NEW_LEN - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(c->path);
            return cookie_err(c, EDIST_ECOOKIEFILE,
                              "Failed to write to cookie file '%s': %s",
                              c->path, strerror(e));
        }
        off += (size_t)w;
    }
    /* O_CREAT applied 0400 minus the umask; make it exactly 0400. */
    (void)fchmod(fd, 0400);
    cookie_hide_time(fd);
    close(fd);
    memcpy(c->value, letters, COOKIE_NEW_LEN);
    c->value[COOKIE_NEW_LEN] = '\0';
    c->len = COOKIE_NEW_LEN;
    c->created = 1;
    edist_cleanse(letters, sizeof letters);
    return 0;
}

static int cookie_set_path(edist_cookie *c, const char *dir, const char *sub)
{
    int n = snprintf(c->path, sizeof c->path, "%s%s/.erlang.cookie", dir, sub);
    if (n < 0 || (size_t)n >= sizeof c->path)
        return cookie_err(c, EDIST_ECOOKIEFILE, "cookie path too long");
    return 0;
}

/* filename:basedir(user_config, "erlang") on Unix. */
static int cookie_xdg_path(edist_cookie *c, const char *home, const char *xdg)
{
    if (xdg && *xdg)
        return cookie_set_path(c, xdg, "/erlang");
    if (home && *home)
        return cookie_set_path(c, home, "/.config/erlang");
    return cookie_err(c, EDIST_ECOOKIEFILE,
                      "No home for cookie file: neither HOME nor "
                      "XDG_CONFIG_HOME is set");
}

int edist_cookie_resolve(const edist_cookie_options *opts, edist_cookie *out)
{
    memset(out, 0, sizeof *out);
    edist_cookie_options none = {0};
    if (!opts)
        opts = &none;
    if (opts->cookie) {
        size_t n = strlen(opts->cookie);
        if (n == 0 || n > EDIST_COOKIE_MAX)
            return cookie_err(out, EDIST_EINVAL,
                              "explicit cookie must be 1..%d bytes",
                              EDIST_COOKIE_MAX);
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)opts->cookie[i];
            if (ch < 0x20 || ch == 0x7f)
                return cookie_err(out, EDIST_EINVAL,
                                  "explicit cookie contains a control "
                                  "character");
        }
        memcpy(out->value, opts->cookie, n + 1);
        out->len = n;
        return 0;
    }
    const char *home = opts->home ? opts->home : getenv("HOME");
    const char *xdg = opts->xdg_config_home ? opts->xdg_config_home
                                            : getenv("XDG_CONFIG_HOME");
    int rc;
    if (home && *home) {
        if ((rc = cookie_set_path(out, home, "")) < 0)
            return rc;
        if ((rc = cookie_read(out)) <= 0)
            return rc;
        char home_path[sizeof out->path];
        memcpy(home_path, out->path, sizeof home_path);
        if ((rc = cookie_xdg_path(out, home, xdg)) < 0)
            return rc;
        if ((rc = cookie_read(out)) <= 0)
            return rc;
        memcpy(out->path, home_path, sizeof out->path);
        return cookie_create(out);
    }
    /* Without HOME, auth.erl tries and creates the XDG path only. */
    if ((rc = cookie_xdg_path(out, home, xdg)) < 0)
        return rc;
    if ((rc = cookie_read(out)) <= 0)
        return rc;
    return cookie_create(out);
}

void edist_cookie_wipe(edist_cookie *c)
{
    edist_cleanse(c->value, sizeof c->value);
    c->len = 0;
}
