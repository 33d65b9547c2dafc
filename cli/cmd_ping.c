/*
 * cmd_ping.c: `edist ping NODE...`: pong or pang per node, like
 * net_adm:ping/1.  Exit 0 only if every node answered; -v explains a pang.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

#define PING_TIMEOUT_MS 10000

int cmd_ping(int argc, char **argv)
{
    cli_node_opts o;
    char **rest = calloc((size_t)argc, sizeof *rest);
    int nrest;
    if (!rest || cli_node_args(argc, argv, &o, rest, &nrest) != 0 ||
        nrest == 0) {
        if (rest && nrest == 0)
            cli_err("usage: edist ping [OPTIONS] NODE...");
        free(rest);
        return CLI_USAGE;
    }
    edist_node *n;
    cli_node_default_hidden(&o);
    if (cli_node_start(&o, rest[0], &n) < 0) {
        free(rest);
        return CLI_NOCONN;
    }
    int all = 1;
    for (int i = 0; i < nrest; i++) {
        edist_conn_error why;
        int rc = edist_ping(n, rest[i], PING_TIMEOUT_MS, &why);
        if (nrest > 1)
            printf("%s ", rest[i]);
        printf("%s\n", rc == 0 ? "pong" : "pang");
        fflush(stdout);
        if (rc != 0) {
            all = 0;
            if (o.verbose)
                cli_err("%s: %s", rest[i],
                        why.reason[0] ? why.reason : edist_strerror(rc));
        }
    }
    edist_node_stop(n);
    free(rest);
    return all ? CLI_OK : CLI_FAIL;
}
