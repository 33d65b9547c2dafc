/*
 * cmd_nodes.c: `edist nodes NODE [visible|hidden|connected|known]`: NODE's
 * erlang:nodes() (or erlang:nodes(Which)) through rpc, one node per line,
 * or with --erlang the list in Erlang syntax.  Works against BEAM nodes
 * and `edist node`s alike.  Exit 1 with a message on {badrpc, _} or a
 * result that is not a list of atoms, 3 when NODE cannot be reached.
 * The command's own node is hidden unless --visible is given, so that
 * asking does not add it to the cluster it looks at.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edist/etf_text.h"
#include "edist/proc.h"

#define NODES_TIMEOUT_MS 10000

static const char *const nodes_kinds[] = {"visible", "hidden", "connected",
                                          "known"};

static int nodes_valid_kind(const char *s)
{
    for (size_t i = 0; i < sizeof nodes_kinds / sizeof *nodes_kinds; i++)
        if (!strcmp(s, nodes_kinds[i]))
            return 1;
    return 0;
}

/* Prints the list one atom per line; returns CLI_OK or CLI_FAIL. */
static int nodes_print_lines(const edist_term *res)
{
    if (res->type == EDIST_TERM_NIL)
        return CLI_OK;
    if (res->type != EDIST_TERM_LIST ||
        res->v.list.tail->type != EDIST_TERM_NIL)
        return CLI_FAIL;
    for (size_t i = 0; i < res->v.list.len; i++)
        if (res->v.list.elems[i].type != EDIST_TERM_ATOM)
            return CLI_FAIL;
    for (size_t i = 0; i < res->v.list.len; i++) {
        const edist_term *e = &res->v.list.elems[i];
        printf("%.*s\n", (int)e->v.atom.len, e->v.atom.name);
    }
    return CLI_OK;
}

int cmd_nodes(int argc, char **argv)
{
    cli_node_opts o;
    char **rest = calloc((size_t)argc, sizeof *rest);
    edist_arena *a = edist_arena_new(NULL);
    int nrest = 0, rc = CLI_USAGE, erlang = 0, k = 0;
    if (!rest || !a || cli_node_args(argc, argv, &o, rest, &nrest) != 0)
        goto out;
    for (int i = 0; i < nrest; i++) {
        if (!strcmp(rest[i], "--erlang"))
            erlang = 1;
        else
            rest[k++] = rest[i];
    }
    if (k < 1 || k > 2 || rest[0][0] == '-' ||
        (k == 2 && !nodes_valid_kind(rest[1]))) {
        cli_err("usage: edist nodes [OPTIONS] [--erlang] NODE "
                "[visible|hidden|connected|known]");
        goto out;
    }
    edist_term args = edist_mk_nil();
    if (k == 2) {
        if (edist_term_list(a, &args, 1) < 0 ||
            edist_term_atom(a, &args.v.list.elems[0], rest[1],
                            strlen(rest[1])) < 0) {
            rc = CLI_FAIL;
            goto out;
        }
    }
    cli_node_default_hidden(&o);
    edist_node *n;
    rc = cli_node_connect(&o, rest[0], &n);
    if (rc != CLI_OK)
        goto out;
    edist_term res;
    int c = edist_rpc(n, rest[0], "erlang", "nodes", &args, NODES_TIMEOUT_MS, a,
                      &res);
    edist_print_opts po = {0};
    po.style = EDIST_TEXT_P;
    po.line_length = -1;
    char *text = NULL;
    if (c == 0 || c == EDIST_EBADRPC)
        if (edist_term_print_arena(a, &res, &po, &text, NULL) < 0)
            text = NULL;
    if (c == 0 && erlang && text) {
        printf("%s\n", text);
        rc = CLI_OK;
    } else if (c == 0 && !erlang) {
        rc = nodes_print_lines(&res);
        if (rc != CLI_OK)
            cli_err("%s: nodes() returned a non-list: %s", rest[0],
                    text ? text : "?");
    } else if (c == EDIST_EBADRPC) {
        cli_err("%s: %s", rest[0], text ? text : "{badrpc,...}");
        rc = CLI_FAIL;
    } else {
        cli_err("%s: rpc failed: %s", rest[0], edist_strerror(c));
        rc = CLI_FAIL;
    }
    fflush(stdout);
    edist_node_stop(n);
out:
    edist_arena_free(a);
    free(rest);
    return rc;
}
