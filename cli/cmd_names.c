/*
 * cmd_names.c: `edist names [HOST] [--epmd-port P]`.  Prints exactly what
 * `epmd -names` prints (the daemon's port, then its NAMES text), in one
 * write, so that scripts written for epmd keep working.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edist/edist.h"
#include "edist/epmd.h"

int cmd_names(int argc, char **argv)
{
    edist_epmd_opts o;
    memset(&o, 0, sizeof o);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epmd-port") == 0 && i + 1 < argc) {
            if (cli_parse_port(argv[++i], &o.port) != 0) {
                cli_err("bad port '%s'", argv[i]);
                return CLI_USAGE;
            }
        } else if (argv[i][0] != '-' && !o.host) {
            o.host = argv[i];
        } else {
            cli_err("usage: edist names [HOST] [--epmd-port P]");
            return CLI_USAGE;
        }
    }
    uint32_t eport;
    uint8_t *body;
    size_t len;
    int rc = edist_epmd_names(&o, 0, &eport, &body, &len);
    if (rc < 0) {
        cli_err("EPMD at %s port %u: %s", o.host ? o.host : "localhost",
                (unsigned)edist_epmd_port(&o), edist_strerror(rc));
        return cli_exit_for(rc);
    }
    char head[96];
    int hn =
        snprintf(head, sizeof head,
                 "epmd: up and running on port %d with data:\n", (int)eport);
    char *all = malloc((size_t)hn + len);
    if (!all) {
        edist_epmd_free(&o, body);
        cli_err("out of memory");
        return CLI_FAIL;
    }
    memcpy(all, head, (size_t)hn);
    memcpy(all + hn, body, len);
    cli_out(all, (size_t)hn + len);
    free(all);
    edist_epmd_free(&o, body);
    return CLI_OK;
}
