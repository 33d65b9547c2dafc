/*
 * main.c: edist-epmd's command line, parsed as OTP's epmd parses it:
 * strictly left to right, numeric arguments through atoi (0 or garbage is a
 * usage error), interactive options (-names, -dump, -started, -kill,
 * -stop NAME) only as the last arguments, anything unknown prints the
 * usage on stderr and exits 1.  Environment: ERL_EPMD_PORT,
 * ERL_EPMD_ADDRESS, ERL_EPMD_RELAXED_COMMAND_CHECK, and edist's own
 * EDIST_EPMD_RESTRICT_NAMES.  See docs/edist-epmd.md.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "epmd.h"
#include "interactive.h"

static const char usage_text[] =
    "usage: epmd [-d|-debug] [DbgExtra...] [-address List]\n"
    "            [-port No] [-daemon] [-relaxed_command_check]\n"
    "       epmd [-d|-debug] [-port No] [-names|-kill|-stop name]\n"
    "\n"
    "See the Erlang epmd manual page for info about the usage.\n"
    "\n"
    "Regular options\n"
    "    -address List\n"
    "        Let epmd listen only on the comma-separated list of IP\n"
    "        addresses (and on the loopback interface).\n"
    "    -port No\n"
    "        Let epmd listen to another port than default 4369\n"
    "    -d\n"
    "    -debug\n"
    "        Enable debugging. This will give a log to\n"
    "        the standard error stream. It will shorten\n"
    "        the number of saved used node names to 5.\n"
    "\n"
    "        If you give more than one debug flag you may\n"
    "        get more debugging information.\n"
    "    -daemon\n"
    "        Start epmd detached (as a daemon)\n"
    "    -relaxed_command_check\n"
    "        Allow this instance of epmd to be killed with\n"
    "        epmd -kill even if there are registered nodes.\n"
    "        Also allows forced unregister (epmd -stop).\n"
    "    -systemd\n"
    "        Wait for socket from systemd. The option makes sense\n"
    "        when started from .socket unit.\n"
    "\n"
    "DbgExtra options\n"
    "    -packet_timeout Seconds\n"
    "        Set the number of seconds a connection can be\n"
    "        inactive before epmd times out and closes the\n"
    "        connection (default 60).\n"
    "\n"
    "    -delay_accept Seconds\n"
    "        To simulate a busy server you can insert a\n"
    "        delay between epmd gets notified about that\n"
    "        a new connection is requested and when the\n"
    "        connections gets accepted.\n"
    "\n"
    "    -delay_write Seconds\n"
    "        Also a simulation of a busy server. Inserts\n"
    "        a delay before a reply is sent.\n"
    "\n"
    "Interactive options\n"
    "    -names\n"
    "        List names registered with the currently running epmd\n"
    "    -kill\n"
    "        Kill the currently running epmd\n"
    "        (only allowed if -names show empty database or\n"
    "        -relaxed_command_check was given when epmd was started).\n"
    "    -stop Name\n"
    "        Forcibly unregisters a name with epmd\n"
    "        (only allowed if -relaxed_command_check was given when \n"
    "        epmd was started).\n";

/* Byte for byte OTP's usage (Debian's build, which lists -systemd), so that
 * nothing can tell the two apart; edist's own -restrict_names is documented
 * in docs/edist-epmd.md. */
static void usage(void)
{
    fputs(usage_text, stderr);
    exit(1);
}

/* OTP forks twice (so the daemon is no session leader), detaches from the
 * terminal and logs to syslog.  Done before the loop exists. */
static void daemonize(const epmd_config *cfg)
{
    pid_t pid = fork();
    if (pid < 0) {
        syslog(LOG_ERR, "erlang mapper daemon can't fork %m");
        exit(1);
    }
    if (pid > 0)
        exit(0);
    if (setsid() < 0) {
        epmd_log(cfg, 0, "epmd: Can't setsid()");
        exit(1);
    }
    signal(SIGHUP, SIG_IGN);
    pid = fork();
    if (pid < 0) {
        syslog(LOG_ERR, "erlang mapper daemon can't fork 2'nd time %m");
        exit(1);
    }
    if (pid > 0)
        exit(0);
    if (chdir("/") < 0) {
        epmd_log(cfg, 0, "epmd: chdir() failed");
        exit(1);
    }
    umask(0);
    closelog();
    /* Every inherited descriptor goes, then stdio points at /dev/null. */
    for (int fd = 0; fd < 3; fd++)
        close(fd);
    close_range(3, ~0U, 0);
    if (open("/dev/null", O_RDONLY) < 0 || open("/dev/null", O_WRONLY) < 0 ||
        open("/dev/null", O_WRONLY) < 0)
        exit(1);
}

/* OTP's atoi-based numeric options: 0 (or no number) is a usage error. */
static int number_arg(int argc, char **argv)
{
    int v = 0;
    if (argc == 1 || (v = atoi(argv[1])) == 0)
        usage();
    return v;
}

int main(int argc, char **argv)
{
    epmd_config cfg;
    memset(&cfg, 0, sizeof cfg);
    const char *env = getenv("ERL_EPMD_PORT");
    cfg.port = env ? atoi(env) : 4369;
    cfg.addresses = getenv("ERL_EPMD_ADDRESS");
    cfg.relaxed = getenv("ERL_EPMD_RELAXED_COMMAND_CHECK") != NULL;
    cfg.packet_timeout = EPMD_IDLE_DEFAULT;
    const char *restrict_env = getenv("EDIST_EPMD_RESTRICT_NAMES");
    const char *restrict_list = restrict_env;

    argc--;
    argv++;
    while (argc > 0) {
        const char *a = argv[0];
        if (strcmp(a, "-debug") == 0 || strcmp(a, "-d") == 0) {
            cfg.debug++;
            argv++, argc--;
        } else if (strcmp(a, "-packet_timeout") == 0) {
            cfg.packet_timeout = number_arg(argc, argv);
            argv += 2, argc -= 2;
        } else if (strcmp(a, "-delay_accept") == 0) {
            cfg.delay_accept = number_arg(argc, argv);
            argv += 2, argc -= 2;
        } else if (strcmp(a, "-delay_write") == 0) {
            cfg.delay_write = number_arg(argc, argv);
            argv += 2, argc -= 2;
        } else if (strcmp(a, "-daemon") == 0) {
            cfg.daemon = 1;
            argv++, argc--;
        } else if (strcmp(a, "-relaxed_command_check") == 0) {
            cfg.relaxed = 1;
            argv++, argc--;
        } else if (strcmp(a, "-kill") == 0) {
            if (argc != 1)
                usage();
            return epmd_cli_kill(cfg.port);
        } else if (strcmp(a, "-address") == 0) {
            if (argc == 1)
                usage();
            cfg.addresses = argv[1];
            argv += 2, argc -= 2;
        } else if (strcmp(a, "-port") == 0) {
            cfg.port = number_arg(argc, argv);
            argv += 2, argc -= 2;
        } else if (strcmp(a, "-names") == 0 || strcmp(a, "-started") == 0 ||
                   strcmp(a, "-dump") == 0) {
            if (argc != 1)
                usage();
            return epmd_cli_names(cfg.port, a[1] == 'd', a[1] == 's');
        } else if (strcmp(a, "-stop") == 0) {
            if (argc != 2)
                usage();
            return epmd_cli_stop(cfg.port, argv[1]);
        } else if (strcmp(a, "-systemd") == 0) {
            cfg.systemd = 1;
            argv++, argc--;
        } else if (strcmp(a, "-restrict_names") == 0) {
            if (argc == 1)
                usage();
            restrict_list = argv[1];
            argv += 2, argc -= 2;
        } else {
            usage();
        }
    }
    /* OTP keeps the port in an unsigned short. */
    cfg.port = (uint16_t)cfg.port;
    if (restrict_list) {
        cfg.restrict_names = 1;
        if (epmd_parse_allowlist(&cfg, restrict_list) != 0) {
            fprintf(stderr, "epmd: bad -restrict_names list \"%s\"\n",
                    restrict_list);
            return 1;
        }
    }
    epmd_log(&cfg, 1, "epmd running - daemon = %d", cfg.daemon);
    if (cfg.daemon)
        daemonize(&cfg);
    return epmd_server_run(&cfg);
}
