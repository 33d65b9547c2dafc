/*
 * cmd_send.c: `edist send NODE NAME TERM`: sends TERM, written in Erlang
 * syntax, to the process registered as NAME on NODE ({Name, Node} ! Term).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edist/etf_text.h"

int cmd_send(int argc, char **argv)
{
    cli_node_opts o;
    char **rest = calloc((size_t)argc, sizeof *rest);
    edist_arena *a = edist_arena_new(NULL);
    int nrest = 0, rc = CLI_USAGE;
    if (!rest || !a || cli_node_args(argc, argv, &o, rest, &nrest) != 0)
        goto out;
    cli_node_default_hidden(&o);
    if (nrest != 3) {
        cli_err("usage: edist send [OPTIONS] NODE NAME TERM");
        goto out;
    }
    edist_term t;
    edist_text_error err;
    if (edist_term_parse(a, rest[2], strlen(rest[2]), NULL, &t, &err) < 0) {
        cli_err("TERM: %d:%d: %s", err.line, err.col, err.msg);
        goto out;
    }
    edist_node *n;
    rc = cli_node_connect(&o, rest[0], &n);
    if (rc != CLI_OK)
        goto out;
    edist_mbox *mb;
    int c = edist_mbox_open(n, &mb);
    if (c == 0) {
        c = edist_send_named(mb, rest[1], rest[0], &t);
        edist_mbox_close(mb);
    }
    if (c < 0)
        cli_err("send failed: %s", edist_strerror(c));
    rc = c < 0 ? CLI_FAIL : CLI_OK;
    edist_node_stop(n);
out:
    edist_arena_free(a);
    free(rest);
    return rc;
}
