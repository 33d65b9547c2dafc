/*
 * nodeopt.c: the options every node-starting subcommand shares, and the
 * start of the CLI's own node.
 *
 *   --name N | -name N      long name (N or N@host)
 *   --sname N | -sname N    short name
 *   --cookie C | -setcookie C
 *   --epmd-port P           EPMD port (default $ERL_EPMD_PORT or 4369)
 *   --ticktime S            net_ticktime in seconds (default 60)
 *   --hidden | -hidden      a hidden node (no PUBLISHED flag, no global)
 *   --visible               a visible node taking part in the global mesh
 *                           (the default of `edist node`; ping, rpc and
 *                           send default to hidden)
 *   --connect-all BOOL | -connect_all BOOL
 *                           true (default): global connects transitively;
 *                           false: it never does (erl -connect_all false)
 *   --ipv6                  listen on IPv6 (erl -proto_dist inet6_tcp)
 *   --no-epmd-start         fail instead of starting edist-epmd when no
 *                           EPMD answers (erl -start_epmd false)
 *   -v                      explain failures on stderr
 * Anything else is left for the subcommand, in order.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"

/* The host part of node name s ("" when there is none). */
static const char *nodeopt_host(const char *s)
{
    const char *at = s ? strchr(s, '@') : NULL;
    return at ? at + 1 : "";
}

int cli_node_args(int argc, char **argv, cli_node_opts *o, char **rest,
                  int *nrest)
{
    memset(o, 0, sizeof *o);
    *nrest = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
#define ARG(s1, s2) ((!strcmp(a, s1) || !strcmp(a, s2)) && has)
        if (ARG("--name", "-name")) {
            o->name = argv[++i];
            o->longnames = 1;
        } else if (ARG("--sname", "-sname")) {
            o->name = argv[++i];
            o->longnames = 0;
        } else if (ARG("--cookie", "-setcookie")) {
            o->cookie = argv[++i];
        } else if (!strcmp(a, "--epmd-port") && has) {
            uint16_t p;
            if (cli_parse_port(argv[++i], &p) != 0) {
                cli_err("bad --epmd-port '%s'", argv[i]);
                return -1;
            }
            o->epmd_port = p;
        } else if (!strcmp(a, "--ticktime") && has) {
            long t = strtol(argv[++i], NULL, 10);
            if (t < 1 || t > 100000) {
                cli_err("bad --ticktime '%s'", argv[i]);
                return -1;
            }
            o->ticktime = (unsigned)t;
        } else if (!strcmp(a, "--hidden") || !strcmp(a, "-hidden")) {
            o->hidden = 1;
            o->hidden_set = 1;
        } else if (!strcmp(a, "--visible")) {
            o->hidden = 0;
            o->hidden_set = 1;
        } else if (ARG("--connect-all", "-connect_all")) {
            const char *v = argv[++i];
            if (!strcmp(v, "true")) {
                o->no_connect_all = 0;
            } else if (!strcmp(v, "false")) {
                o->no_connect_all = 1;
            } else {
                cli_err("bad %s '%s': expected true or false", a, v);
                return -1;
            }
        } else if (!strcmp(a, "--ipv6")) {
            o->ipv6 = 1;
        } else if (!strcmp(a, "--no-epmd-start")) {
            o->no_epmd_start = 1;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            o->verbose = 1;
        } else {
            rest[(*nrest)++] = argv[i];
        }
#undef ARG
    }
    return 0;
}

void cli_node_default_hidden(cli_node_opts *o)
{
    if (!o->hidden_set)
        o->hidden = 1;
}

/* The fully qualified name of this host, for long names without a host. */
static void nodeopt_fqdn(char *out, size_t len)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0) {
        snprintf(out, len, "127.0.0.1");
        return;
    }
    host[sizeof host - 1] = '\0';
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_flags = AI_CANONNAME;
    if (!strchr(host, '.') && getaddrinfo(host, NULL, &hints, &res) == 0 &&
        res && res->ai_canonname && strchr(res->ai_canonname, '.')) {
        snprintf(out, len, "%s", res->ai_canonname);
    } else {
        snprintf(out, len, "%s", host);
    }
    if (res)
        freeaddrinfo(res);
}

int cli_node_start(const cli_node_opts *o, const char *peer_hint,
                   edist_node **out)
{
    char name[600];
    if (o->name && strchr(o->name, '@')) {
        snprintf(name, sizeof name, "%s", o->name);
    } else if (o->name && o->longnames) {
        char fq[256];
        nodeopt_fqdn(fq, sizeof fq);
        snprintf(name, sizeof name, "%s@%s", o->name, fq);
    } else if (o->name) {
        snprintf(name, sizeof name, "%s", o->name);
    } else {
        /* No name given: a throw-away one on the host of the node we are
         * about to talk to, so that short and long names match it. */
        const char *h = nodeopt_host(peer_hint);
        if (*h)
            snprintf(name, sizeof name, "edist_%ld@%s", (long)getpid(), h);
        else
            snprintf(name, sizeof name, "edist_%ld", (long)getpid());
    }
    edist_node_opts no = {0};
    no.name = name;
    no.cookie = o->cookie;
    no.epmd_port = o->epmd_port;
    no.ticktime = o->ticktime;
    no.hidden = o->hidden;
    no.no_connect_all = o->no_connect_all;
    no.ipv6 = o->ipv6;
    no.no_epmd_start = o->no_epmd_start;
    char why[512] = "";
    int rc = edist_node_start(&no, out, why, sizeof why);
    if (rc < 0)
        cli_err("cannot start node %s: %s", name,
                why[0] ? why : edist_strerror(rc));
    return rc;
}

int cli_node_connect(const cli_node_opts *o, const char *peer, edist_node **out)
{
    if (cli_node_start(o, peer, out) < 0)
        return CLI_NOCONN;
    edist_conn_error why;
    int c = edist_connect(*out, peer, 10000, &why);
    if (c == 0)
        return CLI_OK;
    cli_err("cannot connect to %s: %s", peer,
            why.reason[0] ? why.reason : edist_strerror(c));
    edist_node_stop(*out);
    *out = NULL;
    return cli_exit_for(c);
}
