/*
 * interactive.h: edist-epmd's client modes.  Each prints what OTP's epmd
 * prints (stdout, in one write) and returns the exit code OTP's returns.
 * They use the library's client (edist/epmd.h), without a timeout, as
 * OTP's blocking client has none.
 */
#ifndef EDIST_EPMD_INTERACTIVE_H
#define EDIST_EPMD_INTERACTIVE_H

/* -names (dump = 0, silent = 0), -dump (dump = 1), -started (silent = 1). */
int epmd_cli_names(int port, int dump, int silent);
/* -kill */
int epmd_cli_kill(int port);
/* -stop NAME */
int epmd_cli_stop(int port, const char *name);

#endif
