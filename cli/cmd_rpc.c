/*
 * cmd_rpc.c: `edist rpc NODE MOD FUN [ARG...]`: rpc:call(NODE, MOD, FUN,
 * [ARG...]) through the peer's rex server; each ARG is a term in Erlang
 * syntax.  Prints the result like ~p.  Exit code 1 when the result is
 * {badrpc, _}, 3 when the node cannot be reached.  --timeout MS (default:
 * infinity, as rpc:call/4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edist/etf_text.h"
#include "edist/proc.h"

int cmd_rpc(int argc, char **argv)
{
    cli_node_opts o;
    char **rest = calloc((size_t)argc, sizeof *rest);
    int nrest = 0, rc = CLI_USAGE, timeout = -1;
    edist_arena *a = edist_arena_new(NULL);
    if (!rest || !a || cli_node_args(argc, argv, &o, rest, &nrest) != 0)
        goto out;
    cli_node_default_hidden(&o);
    int k = 0;
    for (int i = 0; i < nrest; i++) {
        if (!strcmp(rest[i], "--timeout") && i + 1 < nrest) {
            char *end;
            long v = strtol(rest[++i], &end, 10);
            if (*end || v < 0 || v > 0x7fffffff) {
                cli_err("--timeout: expected milliseconds, got '%s'", rest[i]);
                goto out;
            }
            timeout = (int)v;
        } else {
            rest[k++] = rest[i];
        }
    }
    if (k < 3) {
        cli_err("usage: edist rpc [OPTIONS] [--timeout MS] NODE MOD FUN "
                "[ARG...]");
        goto out;
    }
    edist_term args = edist_mk_nil();
    if (k > 3 && edist_term_list(a, &args, (size_t)(k - 3)) < 0)
        goto out;
    for (int i = 3; i < k; i++) {
        edist_text_error err;
        if (edist_term_parse(a, rest[i], strlen(rest[i]), NULL,
                             &args.v.list.elems[i - 3], &err) < 0) {
            cli_err("ARG %d: %d:%d: %s", i - 2, err.line, err.col, err.msg);
            goto out;
        }
    }
    edist_node *n;
    rc = cli_node_connect(&o, rest[0], &n);
    if (rc != CLI_OK)
        goto out;
    edist_term res;
    int c = edist_rpc(n, rest[0], rest[1], rest[2], &args, timeout, a, &res);
    if (c == 0 || c == EDIST_EBADRPC) {
        edist_print_opts po = {0};
        po.style = EDIST_TEXT_P;
        char *text;
        if (edist_term_print_arena(a, &res, &po, &text, NULL) == 0)
            printf("%s\n", text);
        rc = c == 0 ? CLI_OK : CLI_FAIL;
    } else {
        cli_err("rpc failed: %s", edist_strerror(c));
        rc = CLI_FAIL;
    }
    edist_node_stop(n);
out:
    edist_arena_free(a);
    free(rest);
    return rc;
}
