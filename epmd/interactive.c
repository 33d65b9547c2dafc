/*
 * interactive.c: -names, -dump, -started, -kill and -stop, printing the
 * bytes OTP's epmd_cli.c prints, with its exit codes.  OTP's client writes
 * through stdio and flushes once at exit; we build the whole output and
 * write it once, so readers of a pipe see the same single chunk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edist/epmd.h"
#include "edist/err.h"
#include "interactive.h"

static void out(const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(1, c, n);
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

static void outs(const char *s)
{
    out(s, strlen(s));
}

static edist_epmd_opts local_opts(int port)
{
    edist_epmd_opts o;
    memset(&o, 0, sizeof o);
    o.port = (uint16_t)port;
    o.timeout_ms = -1; /* OTP's client blocks without bound */
    return o;
}

/* The failures every mode shares.  Returns 1 (the exit code). */
static int common_failure(int rc, int silent)
{
    if (rc == EDIST_ECONNREFUSED || rc == EDIST_EINVAL) {
        if (!silent)
            fputs("epmd: Cannot connect to local epmd\n", stderr);
    } else if (rc == EDIST_ESYS) {
        outs("epmd: Can't write to epmd\n");
    } else if (rc == EDIST_EIO) {
        outs("epmd: failed to read answer from local epmd\n");
    } else {
        outs("epmd: local epmd responded with <>\n");
    }
    return 1;
}

int epmd_cli_names(int port, int dump, int silent)
{
    edist_epmd_opts o = local_opts(port);
    uint32_t eport;
    uint8_t *body;
    size_t len;
    int rc = edist_epmd_names(&o, dump, &eport, &body, &len);
    if (rc < 0) {
        if (rc == EDIST_ECONNREFUSED || rc == EDIST_ESYS || rc == EDIST_EINVAL)
            return silent ? 1 : common_failure(rc, silent);
        if (!silent)
            outs("epmd: no response from local epmd\n");
        return 1;
    }
    if (!silent) {
        char head[96];
        int hn = snprintf(head, sizeof head,
                          "epmd: up and running on port %d with data:\n",
                          (int)eport);
        char *all = malloc((size_t)hn + len);
        if (all) {
            memcpy(all, head, (size_t)hn);
            memcpy(all + hn, body, len);
            out(all, (size_t)hn + len);
            free(all);
        }
    }
    edist_epmd_free(&o, body);
    return 0;
}

int epmd_cli_kill(int port)
{
    edist_epmd_opts o = local_opts(port);
    int rc = edist_epmd_kill(&o);
    if (rc == 0) {
        outs("Killed\n");
        return 0;
    }
    if (rc == EDIST_ENOTALLOWED) {
        outs("Killing not allowed - living nodes in database.\n");
        return 1;
    }
    return common_failure(rc, 0);
}

int epmd_cli_stop(int port, const char *name)
{
    if (strlen(name) > 1000) {
        outs("epmd: Name too long!");
        return 1;
    }
    edist_epmd_opts o = local_opts(port);
    char reply[8];
    int rc = edist_epmd_stop(&o, name, reply);
    if (rc == 0 || rc == EDIST_ENONODE || rc == EDIST_EBADMSG) {
        char line[16];
        int n = snprintf(line, sizeof line, "%s\n", reply);
        out(line, (size_t)n);
        return 0;
    }
    return common_failure(rc, 0);
}
