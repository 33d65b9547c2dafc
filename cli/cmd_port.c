/*
 * cmd_port.c: `edist port NAME[@HOST] [--epmd-port P]`: asks EPMD
 * (PORT_PLEASE2) where a node listens.  The first line is the bare port
 * number, for scripts; details follow:
 *
 *     35333
 *     name: foo
 *     type: 77 (normal)
 *     protocol: 0 (tcp)
 *     versions: 5..6
 *     extra: 0 bytes
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "edist/edist.h"
#include "edist/epmd.h"

static const char *type_name(uint8_t t)
{
    switch (t) {
    case 77:
        return "normal";
    case 72:
    case 104:
        return "hidden";
    default:
        return "unknown";
    }
}

int cmd_port(int argc, char **argv)
{
    edist_epmd_opts o;
    memset(&o, 0, sizeof o);
    const char *arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epmd-port") == 0 && i + 1 < argc) {
            if (cli_parse_port(argv[++i], &o.port) != 0) {
                cli_err("bad port '%s'", argv[i]);
                return CLI_USAGE;
            }
        } else if (argv[i][0] != '-' && !arg) {
            arg = argv[i];
        } else {
            arg = NULL;
            break;
        }
    }
    if (!arg || !*arg) {
        cli_err("usage: edist port NAME[@HOST] [--epmd-port P]");
        return CLI_USAGE;
    }
    char name[1100];
    const char *at = strrchr(arg, '@');
    size_t nl = at ? (size_t)(at - arg) : strlen(arg);
    if (nl == 0 || nl >= sizeof name || (at && !at[1])) {
        cli_err("bad node name '%s'", arg);
        return CLI_USAGE;
    }
    memcpy(name, arg, nl);
    name[nl] = 0;
    if (at)
        o.host = at + 1;
    edist_epmd_lookup lk;
    int rc = edist_epmd_port_please(&o, name, &lk);
    if (rc == EDIST_ENONODE) {
        cli_err("%s is not registered with EPMD on %s", name,
                o.host ? o.host : "localhost");
        return CLI_FAIL;
    }
    if (rc < 0) {
        cli_err("EPMD at %s port %u: %s", o.host ? o.host : "localhost",
                (unsigned)edist_epmd_port(&o), edist_strerror(rc));
        return cli_exit_for(rc);
    }
    const edist_epmd_node_info *n = &lk.info.node;
    char text[4096];
    int len =
        snprintf(text, sizeof text,
                 "%u\nname: %.*s\ntype: %u (%s)\nprotocol: %u (%s)\n"
                 "versions: %u..%u\nextra: %zu bytes\n",
                 (unsigned)n->port, (int)n->name_len, (const char *)n->name,
                 n->node_type, type_name(n->node_type), n->protocol,
                 n->protocol == 0 ? "tcp" : "unknown", n->low_vsn, n->high_vsn,
                 n->extra_len);
    if (len > (int)sizeof text)
        len = (int)sizeof text;
    cli_out(text, (size_t)len);
    return CLI_OK;
}
