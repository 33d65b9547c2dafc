/*
 * epmd_register: registers a (fake) node with the local EPMD, looks it up,
 * lists the names, and unregisters.  Uses only the public API.
 *
 *   epmd_register [NAME [PORT]]        (EPMD port: $ERL_EPMD_PORT or 4369)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edist/edist.h"
#include "edist/epmd.h"

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "example";
    edist_epmd_opts opts = {0}; /* local EPMD, default port, 10 s */
    edist_epmd_node_info me = {0};
    me.port = (uint16_t)(argc > 2 ? atoi(argv[2]) : 45678);
    me.node_type = 72; /* hidden */
    me.high_vsn = 6;
    me.low_vsn = 6;
    me.name = (const uint8_t *)name;
    me.name_len = strlen(name);

    edist_epmd_reg *reg;
    uint32_t creation;
    int rc = edist_epmd_register(&opts, &me, &reg, &creation);
    if (rc < 0) {
        fprintf(stderr, "register: %s\n", edist_strerror(rc));
        return 1;
    }
    printf("registered %s, creation %u\n", name, creation);

    edist_epmd_lookup lk;
    rc = edist_epmd_port_please(&opts, name, &lk);
    if (rc == 0)
        printf("lookup: port %u\n", lk.info.node.port);

    uint32_t eport;
    uint8_t *text;
    size_t len;
    if (edist_epmd_names(&opts, 0, &eport, &text, &len) == 0) {
        printf("EPMD on port %u knows:\n%s", eport, (char *)text);
        edist_epmd_free(&opts, text);
    }
    edist_epmd_unregister(reg); /* closing the connection unregisters */
    return rc == 0 ? 0 : 1;
}
