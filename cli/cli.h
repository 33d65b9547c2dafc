/*
 * cli.h: what every `edist` subcommand shares.
 *
 * A subcommand is one file cli/cmd_<name>.c defining
 *     int cmd_<name>(int argc, char **argv);
 * (argv[0] is the subcommand's name) plus one line in the table of
 * cli/main.c.  It uses only the public headers (include/edist/).
 *
 * Exit codes, for every subcommand:
 */
#ifndef EDIST_CLI_H
#define EDIST_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "edist/edist.h"
#include "edist/node.h"

#define CLI_OK     0 /* done */
#define CLI_FAIL   1 /* the operation failed (not found, refused, ...) */
#define CLI_USAGE  2 /* bad command line */
#define CLI_NOCONN 3 /* could not reach the peer (EPMD, node) */

/* Prints "edist: <msg>\n" on stderr (printf-style). */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes all of p[0..n) to stdout in one write where the OS allows. */
void cli_out(const void *p, size_t n);

/* Parses a port 1..65535; returns 0 on success. */
int cli_parse_port(const char *s, uint16_t *port);

/* Maps a library error of a connection attempt to an exit code. */
int cli_exit_for(int rc);

/* Options shared by the subcommands that start a node (nodeopt.c). */
typedef struct cli_node_opts {
    const char *name; /* NULL: a throw-away name */
    int longnames;
    const char *cookie; /* NULL: ~/.erlang.cookie as erl */
    unsigned epmd_port;
    unsigned ticktime;
    /* --hidden / --visible; hidden_set says whether either was given (the
     * one-shot commands default to hidden, as erl_call does, so that they
     * do not join the mesh for the second they run). */
    int hidden;
    int hidden_set;
    int no_connect_all; /* --connect-all false */
    int ipv6;           /* --ipv6: listen on IPv6 (dual-stack) */
    int no_epmd_start;
    int verbose;
} cli_node_opts;

/* Parses argv[1..argc) into *o; other arguments go to rest[0..*nrest) in
 * order (rest must hold argc entries).  Returns 0, or -1 after printing
 * the error. */
int cli_node_args(int argc, char **argv, cli_node_opts *o, char **rest,
                  int *nrest);

/* Makes a node hidden unless --hidden or --visible was given: for the
 * one-shot commands (ping, rpc, send). */
void cli_node_default_hidden(cli_node_opts *o);

/* Starts the CLI's node from *o; peer_hint (may be NULL) is the node the
 * command will talk to, whose host a default name borrows.  Prints the
 * error and returns it on failure. */
int cli_node_start(const cli_node_opts *o, const char *peer_hint,
                   edist_node **out);

/* Starts the CLI's node from *o and connects it to peer (10 s bound).
 * Returns CLI_OK with the node in *out (the caller stops it), or the exit
 * code after printing the error (no node is left running). */
int cli_node_connect(const cli_node_opts *o, const char *peer,
                     edist_node **out);

/* Subcommands. */
int cmd_names(int argc, char **argv);
int cmd_port(int argc, char **argv);
int cmd_ping(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_node(int argc, char **argv);
int cmd_rpc(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_nodes(int argc, char **argv);

#endif
