/*
 * main.c: the `edist` command: a table of subcommands, the usage text and
 * the exit codes (cli.h).  Adding a subcommand = one cli/cmd_<name>.c file
 * plus one line in the table below.  Documented in docs/edist.md.
 */
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "edist/edist.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *args;
    const char *summary;
} command;

static const command commands[] = {
    {"names", cmd_names, "[HOST] [--epmd-port P]",
     "list the nodes registered with EPMD (as epmd -names)"},
    {"port", cmd_port, "NAME[@HOST] [--epmd-port P]",
     "look a node up in EPMD: its port and details"},
    {"ping", cmd_ping, "[OPTS] NODE...", "ping nodes: pong or pang each"},
    {"send", cmd_send, "[OPTS] NODE NAME TERM",
     "send TERM (Erlang syntax) to NAME on NODE"},
    {"rpc", cmd_rpc, "[OPTS] [--timeout MS] [--erpc] NODE MOD FUN [ARG...]",
     "rpc:call NODE MOD:FUN(ARG...) (Erlang syntax); prints the result"},
    {"node", cmd_node, "[OPTS] [--connect NODE]...",
     "run a node: logs events and messages, serves echo"},
    {"watch", cmd_watch, "[OPTS] [--count N] [--timeout S] [NODE...]",
     "stream timestamped nodeup/nodedown lines"},
    {"nodes", cmd_nodes, "[OPTS] [--erlang] NODE [WHICH]",
     "NODE's nodes() or nodes(WHICH), one per line"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

void cli_err(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "edist: %s\n", msg);
}

void cli_out(const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(1, c, n);
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

int cli_parse_port(const char *s, uint16_t *port)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

int cli_exit_for(int rc)
{
    switch (rc) {
    case EDIST_ECONNREFUSED:
    case EDIST_ETIMEDOUT:
    case EDIST_ENOEPMD:
    case EDIST_EINVAL:
    case EDIST_ESYS:
        return CLI_NOCONN;
    default:
        return CLI_FAIL;
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: edist COMMAND [ARGS...]\n"
               "       edist --help | --version\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-6s %-28s %s\n", commands[i].name, commands[i].args,
                commands[i].summary);
    fprintf(f, "\nexit codes: 0 ok, 1 failed, 2 usage, 3 cannot connect\n"
               "see docs/edist.md\n");
}

int main(int argc, char **argv)
{
    /* One malloc arena for the whole process: glibc gives each thread that
     * allocates (the node's I/O thread, libuv's lookup pool) an arena of
     * its own, with its own partly used pages; the CLI's threads allocate
     * little and rarely at once, so sharing costs nothing measurable and
     * saves ~40 KiB per node in a mesh.  The library leaves this process
     * setting to its programs (docs/design-notes.md).  A MALLOC_ARENA_MAX
     * in the environment still wins. */
    if (!getenv("MALLOC_ARENA_MAX"))
        mallopt(M_ARENA_MAX, 1);
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
        strcmp(name, "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("edist %s\n", edist_version());
        return CLI_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    cli_err("unknown command '%s'", name);
    usage(stderr);
    return CLI_USAGE;
}
