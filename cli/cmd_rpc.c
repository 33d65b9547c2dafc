/*
 * cmd_rpc.c: `edist rpc NODE MOD FUN [ARG...]`: rpc:call(NODE, MOD, FUN,
 * [ARG...]) through the peer's rex server, or with --erpc erpc:call (a
 * spawn request); each ARG is a term in Erlang syntax.  Prints the result
 * like ~p; with --erpc an exception prints as {error, Reason, Stack},
 * {exit, Reason} or {throw, Value}, and a failed call as {erpc, Reason}
 * (erpc's own errors).  Exit code 1 when the result is {badrpc, _} or not
 * a return, 3 when the node cannot be reached.  --timeout MS (default:
 * infinity, as rpc:call/4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edist/etf_text.h"
#include "edist/proc.h"

/* edist_erpc(), its outcome made one term: the value (returns 0), else
 * {error, Reason, Stack}, {exit, Reason}, {throw, Value} or {erpc, Why}
 * (returns EDIST_EBADRPC), or another error code. */
static int rpc_erpc(edist_node *n, char **rest, const edist_term *args,
                    int timeout, edist_arena *a, edist_term *res)
{
    edist_term v;
    int c = edist_erpc(n, rest[0], rest[1], rest[2], args, timeout, a, &v);
    if (c == EDIST_RPC_RETURN) {
        *res = v;
        return 0;
    }
    const char *tag = c == EDIST_RPC_ERROR   ? "error"
                      : c == EDIST_RPC_EXIT  ? "exit"
                      : c == EDIST_RPC_THROW ? "throw"
                                             : "erpc";
    const char *why = c == EDIST_ENOCONN     ? "noconnection"
                      : c == EDIST_ETIMEDOUT ? "timeout"
                                             : NULL;
    if (why)
        v = edist_mk_atom(why, strlen(why));
    else if (c < 0 && c != EDIST_EBADRPC)
        return c;
    size_t k = c == EDIST_RPC_ERROR ? 3 : 2;
    if (edist_term_tuple(a, res, k) < 0)
        return EDIST_ENOMEM;
    res->v.tuple.elems[0] = edist_mk_atom(tag, strlen(tag));
    if (k == 3) {
        res->v.tuple.elems[1] = v.v.tuple.elems[0];
        res->v.tuple.elems[2] = v.v.tuple.elems[1];
    } else {
        res->v.tuple.elems[1] = v;
    }
    return EDIST_EBADRPC;
}

int cmd_rpc(int argc, char **argv)
{
    cli_node_opts o;
    char **rest = calloc((size_t)argc, sizeof *rest);
    int nrest = 0, rc = CLI_USAGE, timeout = -1, erpc = 0;
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
        } else if (!strcmp(rest[i], "--erpc")) {
            erpc = 1;
        } else {
            rest[k++] = rest[i];
        }
    }
    if (k < 3) {
        cli_err("usage: edist rpc [OPTIONS] [--timeout MS] [--erpc] NODE MOD "
                "FUN [ARG...]");
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
    int c =
        erpc ? rpc_erpc(n, rest, &args, timeout, a, &res)
             : edist_rpc(n, rest[0], rest[1], rest[2], &args, timeout, a, &res);
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
