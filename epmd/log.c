/*
 * log.c: the debug log in OTP's format, so that people who grep epmd's
 * output find the same lines: "epmd: <ctime>: message\r\n" on stderr, or
 * "epmd: message" to syslog once daemonised.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "epmd.h"

void epmd_log(const epmd_config *cfg, int level, const char *fmt, ...)
{
    if (cfg->debug < level)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cfg->daemon) {
        syslog(LOG_ERR, "epmd: %s", msg);
        return;
    }
    time_t now = time(NULL);
    char ts[64];
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%a %b %e %H:%M:%S %Y", &tm);
    fprintf(stderr, "epmd: %s: %s\r\n", ts, msg);
}
