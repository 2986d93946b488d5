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
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "format.h"
#include "packetfilterctl.h"
#include "polkit-agent.h"
#include "monitor.h"
#include "verbs.h"

bool arg_json = false;
bool arg_ask_password = true;
const char *arg_host = NULL;
const char *arg_mode = NULL;
uint64_t arg_timeout_sec = 0;
const char *arg_group = NULL;
bool arg_words = false;

typedef enum VerbFlags {
        VERB_CHANGES           = 1 << 0,   /* changes the filter: may need polkit, so start an agent */
        VERB_CHANGES_WITH_ARGS = 1 << 1,   /* changes it only when given arguments (default drop) */
        VERB_TAKES_WORDS       = 1 << 2,   /* options end at the first word: words may start with '-' */
        VERB_OPTION_MODE       = 1 << 3,   /* takes --mode */
        VERB_OPTION_TIMEOUT    = 1 << 4,   /* takes --timeout */
        VERB_OPTION_GROUP      = 1 << 5,   /* takes --group */
        VERB_OPTION_WORDS      = 1 << 6,   /* takes --words */
} VerbFlags;

/* The command-specific options, to tell a user which one a command does not take. */
static const struct {
        VerbFlags flag;
        const char *name;
} verb_options[] = {
        { VERB_OPTION_MODE,    "--mode" },
        { VERB_OPTION_TIMEOUT, "--timeout" },
        { VERB_OPTION_GROUP,   "--group" },
        { VERB_OPTION_WORDS,   "--words" },
};

/* Command-specific options given on the command line (VERB_OPTION_* bits). */
static VerbFlags arg_verb_options;

#define ARGS_MANY UINT_MAX

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
        { "status",         0, 0,         0,                                  verb_status,
          "",                             "Show the service's state and counters" },
        { "list",           0, 0,         VERB_OPTION_GROUP | VERB_OPTION_WORDS, verb_list,
          "[--group G] [--words]",        "List the rules in the order they are tried" },
        { "show",           1, 1,         0,                                  verb_show,
          "ID",                           "Show one rule, key: value" },
        { "stats",          0, 0,         0,                                  verb_stats,
          "",                             "Show the global counters" },
        { "default",        0, 1,         VERB_CHANGES_WITH_ARGS,             verb_default,
          "[drop|pass]",                  "Show or set the action for packets no rule matches" },
        { "add",            1, ARGS_MANY, VERB_CHANGES | VERB_TAKES_WORDS,    verb_add,
          "WORDS...",                     "Add a rule (see RULE WORDS); prints its id" },
        { "remove",         1, ARGS_MANY, VERB_CHANGES,                       verb_remove,
          "ID...",                        "Remove rules by id, all or none" },
        { "replace",        2, 2,         VERB_CHANGES,                       verb_replace,
          "GROUP FILE",                   "Replace GROUP's rules by FILE's, atomically" },
        { "enable",         1, 1,         VERB_CHANGES,                       verb_enable,
          "ID",                           "Enable a rule" },
        { "disable",        1, 1,         VERB_CHANGES,                       verb_disable,
          "ID",                           "Disable a rule (it keeps its place and counters)" },
        { "reset-counters", 0, 0,         VERB_CHANGES,                       verb_reset_counters,
          "",                             "Zero every rule's counters and the global ones" },
        { "block",          1, 1,         VERB_CHANGES | VERB_OPTION_TIMEOUT, verb_block,
          "ADDR [--timeout DURATION]",    "Drop all traffic from ADDR; prints the rule id" },
        { "unblock",        1, 1,         VERB_CHANGES,                       verb_unblock,
          "ADDR",                         "Remove the blocks on exactly ADDR; prints how many" },
        { "attach",         1, 1,         VERB_CHANGES | VERB_OPTION_MODE,    verb_attach,
          "IFACE [--mode MODE]",          "Attach the filter to a network interface" },
        { "detach",         1, 1,         VERB_CHANGES,                       verb_detach,
          "IFACE",                        "Detach the filter from a network interface" },
        { "monitor",        0, 0,         0,                                  verb_monitor,
          "[--json]",                     "Print dropped packets as they are reported, until Ctrl-C" },
        { "top",            0, 0,         0,                                  verb_top,
          "[--json]",                     "Show the rules and sources with the most drops, each second" },
        { "help",           0, 0,         0,                                  verb_help,
          "",                             "Show this help" },
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
               "     --json                   Print JSON: list, show, stats, status, default,\n"
               "                              monitor, top\n"
               "                              (and add, replace, block, unblock)\n"
               "     --no-ask-password        Never ask for a password to authorize a change\n"
               "  -H --host=[USER@]HOST       Operate on a remote host, over SSH\n"
               "     --system                 Talk to the system bus (the default; honours\n"
               "                              DBUS_SYSTEM_BUS_ADDRESS)\n"
               "     --mode=MODE              attach: auto (native, else generic; the default),\n"
               "                              native or generic\n"
               "     --timeout=DURATION       block: lift the block after DURATION (default 0:\n"
               "                              until unblocked)\n"
               "     --group=GROUP            list: only the rules of GROUP\n"
               "     --words                  list: each rule as the words of add, one a line\n"
               "\nOptions go before the command or after it; for add, before its first word\n"
               "(so that words may start with '-': priority -5).\n"
               "\nRULE WORDS (add, and each line of a replace FILE):\n"
               "  ACTION [from ADDR] [to ADDR] [proto P] [sport PORT|RANGE] [port PORT|RANGE]\n"
               "         [icmp-type N] [vlan N] [on IFACE] [rate N] [burst N] [per source|rule]\n"
               "         [priority N] [group G] [timeout DURATION] [comment TEXT] [disabled]\n"
               "  ACTION is drop, pass or rate-limit and comes first; the rest in any order,\n"
               "  each once.\n"
               "  from/to ADDR      source/destination address or CIDR prefix (IPv4 or IPv6)\n"
               "  proto P           tcp, udp, sctp, icmp, icmpv6 or a number 0-255\n"
               "  sport/port PORT   source/destination port or range (22, 8000-8100);\n"
               "                    tcp, udp and sctp only\n"
               "  icmp-type N       with proto icmp or icmpv6\n"
               "  vlan N            802.1Q VLAN id, 0-4095\n"
               "  on IFACE          only packets arriving on IFACE\n"
               "  rate N            rate-limit: pass N packets per second, drop the rest\n"
               "  burst N           rate-limit: N packets may pass at once (default: rate)\n"
               "  per source|rule   rate-limit: a bucket per source address (default) or\n"
               "                    one for the whole rule\n"
               "  priority N        lower runs first (default 0); rules run by (priority, id)\n"
               "  group G           who owns the rule (default \"default\")\n"
               "  timeout DURATION  the rule removes itself after DURATION\n"
               "  comment TEXT      up to 256 bytes; quote it for the shell\n"
               "  disabled          add the rule disabled\n"
               "  The service checks the values and says what is wrong. In a FILE, '#'\n"
               "  starts a comment, blank lines are skipped, words are quoted as in the\n"
               "  shell ('...', \"...\", \\); list --words prints rules in this form.\n"
               "\nDURATION is seconds, or numbers with s, m, h, d: 90, 30s, 10m, 1h, 2d, 1h30m.\n"
               "ADDR is an IPv4 or IPv6 address or CIDR prefix: 192.0.2.1, 2001:db8::/64.\n"
               "\nExamples:\n"
               "  %1$s add drop from 192.0.2.0/24 proto tcp port 22 \\\n"
               "          timeout 1h comment \"ssh scanners\"\n"
               "  %1$s add pass to 2001:db8::1 proto udp port 8000-8100 priority -5\n"
               "  %1$s add rate-limit proto udp port 53 rate 100 burst 20 per source\n"
               "  %1$s list --group web --words > web.rules\n"
               "  %1$s replace web web.rules     (FILE '-' reads stdin)\n"
               "\nExit status:\n"
               "  0  success\n"
               "  1  failure: the service refused (its message is printed), is unreachable,\n"
               "     or a file could not be read\n"
               "  2  usage error: nothing was sent\n", program_invocation_short_name);
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

/*
 * Parses the options of argv[1..] (argv[0] is the program's or the command's
 * name). With stop_at_operand, parsing ends at the first operand (the command
 * name, or the first word of add); otherwise options and operands may mix and
 * getopt moves the operands to the end. Either way they start at optind.
 * Returns 1 to go on, 0 when done (--help, --version), or ERROR_USAGE.
 */
static int parse_options(int argc, char *argv[], bool stop_at_operand) {
        enum {
                ARG_VERSION = 0x100,
                ARG_JSON,
                ARG_NO_ASK_PASSWORD,
                ARG_SYSTEM,
                ARG_MODE,
                ARG_TIMEOUT,
                ARG_GROUP,
                ARG_WORDS,
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
                { "group",           required_argument, NULL, ARG_GROUP           },
                { "words",           no_argument,       NULL, ARG_WORDS           },
                {}
        };
        int c, r;

        /* We print our own messages, with the hint to --help (hence also the leading ':'). */
        opterr = 0;
        /* 0, not 1: glibc starts afresh, as argv may be another array than last time. */
        optind = 0;

        while ((c = getopt_long(argc, argv, stop_at_operand ? "+:hH:" : ":hH:", options, NULL)) >= 0) {
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
                case ARG_GROUP:
                        arg_group = optarg;
                        arg_verb_options |= VERB_OPTION_GROUP;
                        break;
                case ARG_WORDS:
                        arg_words = true;
                        arg_verb_options |= VERB_OPTION_WORDS;
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

/* argv[0] is the command name, then its arguments; options are already parsed. */
static int dispatch_verb(const Verb *verb, int argc, char *argv[]) {
        int r;

        unsigned n_args = argc - 1;
        if (n_args < verb->min_args || n_args > verb->max_args)
                return cli_usage_error("Wrong number of arguments for '%s'. Usage: %s %s%s%s", verb->name,
                                       program_invocation_short_name, verb->name,
                                       *verb->synopsis ? " " : "", verb->synopsis);

        for (size_t i = 0; i < ELEMENTSOF(verb_options); i++)
                if ((arg_verb_options & verb_options[i].flag) && !(verb->flags & verb_options[i].flag))
                        return cli_usage_error("Option %s does not apply to '%s'.", verb_options[i].name, verb->name);

        /* An agent can only answer for the local polkitd. */
        bool changes = (verb->flags & VERB_CHANGES) || ((verb->flags & VERB_CHANGES_WITH_ARGS) && n_args > 0);
        if (changes && arg_ask_password && !arg_host)
                (void) polkit_agent_open();

        r = verb->run(argc, argv);
        polkit_agent_close();
        return r;
}

/* Options before the command, the command, then its own options and arguments. */
static int run(int argc, char *argv[]) {
        const Verb *verb;
        int r;

        r = parse_options(argc, argv, /* stop_at_operand= */ true);
        if (r <= 0)
                return r;
        if (optind >= argc)
                return cli_usage_error("Missing command.");

        verb = verb_find(argv[optind]);
        if (!verb)
                return cli_usage_error("Unknown command '%s'.", argv[optind]);

        int verb_argc = argc - optind;
        char **verb_argv = argv + optind;

        r = parse_options(verb_argc, verb_argv, verb->flags & VERB_TAKES_WORDS);
        if (r <= 0)
                return r;

        /* The operands now sit at the end, from optind on: put the command name just before them. */
        verb_argv[optind - 1] = verb_argv[0];
        return dispatch_verb(verb, verb_argc - optind + 1, verb_argv + optind - 1);
}

int main(int argc, char *argv[]) {
        int r;

        /* For the display width of non-ASCII text in tables. */
        (void) setlocale(LC_ALL, "");

        r = run(argc, argv);
        if (r == ERROR_USAGE)
                return EXIT_USAGE;
        return r < 0 ? EXIT_FAILED : EXIT_OK;
}
