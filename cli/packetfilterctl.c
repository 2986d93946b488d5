/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * packetfilterctl: the command line face of packetfilterd. It speaks only
 * D-Bus (org.example.PacketFilter1); every decision is the daemon's.
 * This file holds the option parser and the table of commands; each command
 * is one verb_*() in verbs.c.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "format.h"
#include "packetfilterctl.h"
#include "polkit-agent.h"
#include "verbs.h"

bool arg_json = false;
bool arg_ask_password = true;
const char *arg_host = NULL;
const char *arg_mode = NULL;
uint64_t arg_timeout_sec = 0;

typedef enum VerbFlags {
        VERB_CHANGES        = 1 << 0,   /* changes the filter: may need polkit, so start an agent */
        VERB_OPTION_MODE    = 1 << 1,   /* takes --mode */
        VERB_OPTION_TIMEOUT = 1 << 2,   /* takes --timeout */
} VerbFlags;

/* The command-specific options, to tell a user which one a command does not take. */
static const struct {
        VerbFlags flag;
        const char *name;
} verb_options[] = {
        { VERB_OPTION_MODE,    "--mode" },
        { VERB_OPTION_TIMEOUT, "--timeout" },
};

/* Command-specific options given on the command line (VERB_OPTION_* bits). */
static VerbFlags arg_verb_options;

typedef struct Verb {
        const char *name;
        unsigned min_args, max_args;    /* words after the command name */
        VerbFlags flags;
        int (*run)(int argc, char *argv[]);
        const char *synopsis;           /* arguments, as shown in --help */
        const char *help;
} Verb;

static int verb_help(int argc, char *argv[]);

static const Verb verbs[] = {
        { "status",  0, 0, 0,                                  verb_status,  "",
          "Show version, interfaces, rule count and counters" },
        { "list",    0, 0, 0,                                  verb_list,    "",
          "List rules with their counters and expiry" },
        { "stats",   0, 0, 0,                                  verb_stats,   "",
          "Show the global counters" },
        { "block",   1, 1, VERB_CHANGES | VERB_OPTION_TIMEOUT, verb_block,   "ADDR [--timeout DURATION]",
          "Drop all traffic from ADDR; prints the rule id" },
        { "unblock", 1, 1, VERB_CHANGES,                       verb_unblock, "ADDR",
          "Remove the blocks on exactly ADDR; prints how many" },
        { "attach",  1, 1, VERB_CHANGES | VERB_OPTION_MODE,    verb_attach,  "IFACE [--mode MODE]",
          "Attach the filter to a network interface" },
        { "detach",  1, 1, VERB_CHANGES,                       verb_detach,  "IFACE",
          "Detach the filter from a network interface" },
        { "help",    0, 0, 0,                                  verb_help,    "",
          "Show this help" },
};

int cli_error_errno(int error, const char *format, ...) {
        int saved_errno = errno;
        va_list ap;

        fprintf(stderr, "%s: ", program_invocation_short_name);
        /* %m is glibc's: make it print our error, not whatever errno holds. */
        errno = error < 0 ? -error : error;
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);
        errno = saved_errno;

        return error > 0 ? -error : error;
}

int cli_usage_error(const char *format, ...) {
        va_list ap;

        fprintf(stderr, "%s: ", program_invocation_short_name);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fprintf(stderr, "\nTry '%s --help' for more information.\n", program_invocation_short_name);

        return ERROR_USAGE;
}

static void help(void) {
        printf("%s [OPTIONS...] COMMAND [ARGS...]\n\n"
               "Control the packetfilter XDP packet filter (packetfilterd) over D-Bus.\n\n"
               "Commands:\n", program_invocation_short_name);

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                _cleanup_free_ char *usage = NULL;

                if (asprintf(&usage, "%s%s%s", verbs[i].name, *verbs[i].synopsis ? " " : "", verbs[i].synopsis) < 0)
                        usage = NULL;
                /* Long synopses get a line of their own, the text goes below. */
                if (usage && strlen(usage) > 26)
                        printf("  %s\n  %-26s  %s\n", usage, "", verbs[i].help);
                else
                        printf("  %-26s  %s\n", usage ?: verbs[i].name, verbs[i].help);
        }

        printf("\nOptions:\n"
               "  -h --help                   Show this help\n"
               "     --version                Show the version\n"
               "     --json                   Print JSON (read commands, block, unblock)\n"
               "     --no-ask-password        Never ask for a password to authorize a change\n"
               "  -H --host=[USER@]HOST       Operate on a remote host, over SSH\n"
               "     --system                 Talk to the system bus (the default; honours\n"
               "                              DBUS_SYSTEM_BUS_ADDRESS)\n"
               "     --mode=MODE              attach: auto (native, else generic; the default),\n"
               "                              native or generic\n"
               "     --timeout=DURATION       block: lift the block after DURATION, in seconds\n"
               "                              or with s, m, h, d: 90, 30s, 10m, 1h, 2d, 1h30m\n"
               "                              (default 0: until unblocked)\n"
               "\nADDR is an IPv4 or IPv6 address or CIDR prefix: 192.0.2.1, 2001:db8::/64.\n"
               "\nExit status:\n"
               "  0  success\n"
               "  1  failure: the service refused (its message is printed), or is unreachable\n"
               "  2  usage error: nothing was sent\n");
}

static int verb_help(int argc, char *argv[]) {
        help();
        return 0;
}

static int parse_mode(const char *mode) {
        static const char *const modes[] = { "auto", "native", "generic" };

        for (size_t i = 0; i < ELEMENTSOF(modes); i++)
                if (streq(mode, modes[i]))
                        return 0;
        return cli_usage_error("Invalid mode '%s': use auto, native or generic.", mode);
}

static int parse_timeout(const char *text, uint64_t *ret_sec) {
        uint64_t sec;
        int r;

        r = parse_duration_sec(text, &sec);
        /* The bus carries the timeout as a 32-bit count of seconds. */
        if (r == -ERANGE || (r >= 0 && sec > UINT32_MAX))
                return cli_usage_error("Timeout '%s' too long: at most %" PRIu32 " seconds.", text, UINT32_MAX);
        if (r < 0)
                return cli_usage_error("Invalid timeout '%s': use seconds, or a number with s, m, h or d "
                                       "(90, 30s, 10m, 1h, 2d).", text);

        *ret_sec = sec;
        return 0;
}

/* Returns 1 to go on with a command, 0 when done (--help, --version), or ERROR_USAGE. */
static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_JSON,
                ARG_NO_ASK_PASSWORD,
                ARG_SYSTEM,
                ARG_MODE,
                ARG_TIMEOUT,
        };
        static const struct option options[] = {
                { "help",            no_argument,       NULL, 'h'                 },
                { "version",         no_argument,       NULL, ARG_VERSION         },
                { "json",            no_argument,       NULL, ARG_JSON            },
                { "no-ask-password", no_argument,       NULL, ARG_NO_ASK_PASSWORD },
                { "host",            required_argument, NULL, 'H'                 },
                { "system",          no_argument,       NULL, ARG_SYSTEM          },
                { "mode",            required_argument, NULL, ARG_MODE            },
                { "timeout",         required_argument, NULL, ARG_TIMEOUT         },
                {}
        };
        int c, r;

        /* We print our own messages, with the hint to --help (hence also the leading ':'). */
        opterr = 0;

        while ((c = getopt_long(argc, argv, ":hH:", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("%s %s\n", program_invocation_short_name, PACKAGE_VERSION);
                        return 0;
                case ARG_JSON:
                        arg_json = true;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        arg_ask_password = false;
                        break;
                case 'H':
                        arg_host = optarg;
                        break;
                case ARG_SYSTEM:
                        /* The only bus there is; -H picks the transport, not the bus. */
                        break;
                case ARG_MODE:
                        r = parse_mode(optarg);
                        if (r < 0)
                                return r;
                        arg_mode = optarg;
                        arg_verb_options |= VERB_OPTION_MODE;
                        break;
                case ARG_TIMEOUT:
                        r = parse_timeout(optarg, &arg_timeout_sec);
                        if (r < 0)
                                return r;
                        arg_verb_options |= VERB_OPTION_TIMEOUT;
                        break;
                case ':':
                        if (optopt > 0 && optopt < 0x100)
                                return cli_usage_error("Option '-%c' needs an argument.", optopt);
                        return cli_usage_error("Option '%s' needs an argument.", argv[optind - 1]);
                case '?':
                        if (optopt > 0)
                                return cli_usage_error("Unknown option '-%c'.", optopt);
                        return cli_usage_error("Unknown option '%s'.", argv[optind - 1]);
                default:
                        return cli_usage_error("Unhandled option.");
                }
        }

        return 1;
}

static const Verb *verb_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return verbs + i;
        return NULL;
}

static int dispatch_verb(int argc, char *argv[]) {
        const Verb *verb;
        int r;

        if (argc <= 0)
                return cli_usage_error("Missing command.");

        verb = verb_find(argv[0]);
        if (!verb)
                return cli_usage_error("Unknown command '%s'.", argv[0]);

        unsigned n_args = argc - 1;
        if (n_args < verb->min_args || n_args > verb->max_args)
                return cli_usage_error("Wrong number of arguments for '%s'. Usage: %s %s%s%s", verb->name,
                                       program_invocation_short_name, verb->name,
                                       *verb->synopsis ? " " : "", verb->synopsis);

        for (size_t i = 0; i < ELEMENTSOF(verb_options); i++)
                if ((arg_verb_options & verb_options[i].flag) && !(verb->flags & verb_options[i].flag))
                        return cli_usage_error("Option %s does not apply to '%s'.", verb_options[i].name, verb->name);

        /* An agent can only answer for the local polkitd. */
        if ((verb->flags & VERB_CHANGES) && arg_ask_password && !arg_host)
                (void) polkit_agent_open();

        r = verb->run(argc, argv);
        polkit_agent_close();
        return r;
}

int main(int argc, char *argv[]) {
        int r;

        /* For the display width of non-ASCII text in tables. */
        (void) setlocale(LC_ALL, "");

        r = parse_argv(argc, argv);
        if (r > 0)
                r = dispatch_verb(argc - optind, argv + optind);

        if (r == ERROR_USAGE)
                return EXIT_USAGE;
        return r < 0 ? EXIT_FAILED : EXIT_OK;
}
