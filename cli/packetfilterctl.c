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
const char *arg_comment = NULL;
bool arg_replace = false;
bool arg_skip_invalid = false;

typedef enum VerbFlags {
        VERB_CHANGES           = 1 << 0,   /* changes the filter: may need polkit, so start an agent */
        VERB_CHANGES_WITH_ARGS = 1 << 1,   /* changes it only when given arguments (default drop) */
        VERB_TAKES_WORDS       = 1 << 2,   /* options end at the first word: words may start with '-' */
        VERB_OPTION_MODE       = 1 << 3,   /* takes --mode */
        VERB_OPTION_TIMEOUT    = 1 << 4,   /* takes --timeout */
        VERB_OPTION_GROUP      = 1 << 5,   /* takes --group */
        VERB_OPTION_WORDS      = 1 << 6,   /* takes --words */
        VERB_OPTION_COMMENT    = 1 << 7,   /* takes --comment */
        VERB_OPTION_REPLACE    = 1 << 8,   /* takes --replace */
        VERB_OPTION_SKIP_INVALID = 1 << 9, /* takes --skip-invalid */
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
        { VERB_OPTION_COMMENT, "--comment" },
        { VERB_OPTION_REPLACE, "--replace" },
        { VERB_OPTION_SKIP_INVALID, "--skip-invalid" },
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
        /* A command of commands (set): its first argument picks one of these, run is unused. */
        const struct Verb *subverbs;
        size_t n_subverbs;
} Verb;

static int verb_help(int argc, char *argv[]);

/* packetfilterctl set COMMAND ...: named address sets. */
static const Verb set_verbs[] = {
        { "create",         1, 1,         VERB_CHANGES | VERB_OPTION_COMMENT | VERB_OPTION_TIMEOUT, verb_set_create,
          "NAME [--comment TEXT] [--timeout DURATION]", "Create an empty address set" },
        { "delete",         1, 1,         VERB_CHANGES,                       verb_set_delete,
          "NAME",                         "Delete a set that no rule uses" },
        { "add",            2, ARGS_MANY, VERB_CHANGES | VERB_OPTION_TIMEOUT, verb_set_add,
          "NAME ENTRY... [--timeout DURATION]", "Add entries; prints how many were new" },
        { "remove",         2, ARGS_MANY, VERB_CHANGES,                       verb_set_remove,
          "NAME ENTRY...",                "Remove entries; prints how many were in the set" },
        { "import",         2, 2,         VERB_CHANGES | VERB_OPTION_REPLACE | VERB_OPTION_SKIP_INVALID |
                                          VERB_OPTION_TIMEOUT,                verb_set_import,
          "NAME FILE|- [--replace] [--skip-invalid] [--timeout DURATION]",
          "Add FILE's entries (- is stdin); prints counts" },
        { "export",         1, 2,         0,                                  verb_set_export,
          "NAME [FILE|-]",                "Write the entries, sorted (default: stdout)" },
        { "list",           0, 0,         0,                                  verb_set_list,
          "",                             "List the sets with their entries, hits and rules" },
};

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
        { "set",            1, ARGS_MANY, 0,                                  NULL,
          "COMMAND ...",                  "Named address sets, for rules' from-set and to-set",
          set_verbs,        ELEMENTSOF(set_verbs) },
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

static void help_verb(const char *parent, const Verb *verb) {
        _cleanup_free_ char *usage = NULL;

        if (asprintf(&usage, "%s%s%s%s%s", parent ?: "", parent ? " " : "", verb->name,
                     *verb->synopsis ? " " : "", verb->synopsis) < 0)
                usage = NULL;
        /* Long synopses get a line of their own, the text goes below. */
        if (usage && strlen(usage) > 26)
                printf("  %s\n  %-26s  %s\n", usage, "", verb->help);
        else
                printf("  %-26s  %s\n", usage ?: verb->name, verb->help);
}

static void help(void) {
        printf("%s [OPTIONS...] COMMAND [ARGS...]\n\n"
               "Control the packetfilter XDP packet filter (packetfilterd) over D-Bus.\n\n"
               "Commands:\n", program_invocation_short_name);

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                /* A command of commands shows each of them instead. */
                if (verbs[i].subverbs)
                        for (size_t j = 0; j < verbs[i].n_subverbs; j++)
                                help_verb(verbs[i].name, &verbs[i].subverbs[j]);
                else
                        help_verb(NULL, &verbs[i]);
        }

        printf("\nOptions:\n"
               "  -h --help                   Show this help\n"
               "     --version                Show the version\n"
               "     --json                   Print JSON: list, show, stats, status, default,\n"
               "                              set list, monitor, top (and add, replace,\n"
               "                              block, unblock, set add, set remove, set import)\n"
               "     --no-ask-password        Never ask for a password to authorize a change\n"
               "  -H --host=[USER@]HOST       Operate on a remote host, over SSH\n"
               "     --system                 Talk to the system bus (the default; honours\n"
               "                              DBUS_SYSTEM_BUS_ADDRESS)\n"
               "     --mode=MODE              attach: auto (native, else generic; the default),\n"
               "                              native or generic\n"
               "     --timeout=DURATION       block: lift the block after DURATION (default 0:\n"
               "                              until unblocked); set create: the set's default\n"
               "                              for its entries (default 0: they never expire);\n"
               "                              set add, set import: for these entries (default:\n"
               "                              the set's)\n"
               "     --group=GROUP            list: only the rules of GROUP\n"
               "     --words                  list: each rule as the words of add, one a line\n"
               "     --comment=TEXT           set create: a comment, up to 256 bytes\n"
               "     --replace                set import: the set becomes exactly the file's\n"
               "                              entries, at once (default: add to them)\n"
               "     --skip-invalid           set import: skip and count bad lines (default: a\n"
               "                              bad line fails the import, nothing changes)\n"
               "\nOptions go before the command or after it; for add, before its first word\n"
               "(so that words may start with '-': priority -5).\n"
               "\nRULE WORDS (add, and each line of a replace FILE):\n"
               "  ACTION [from ADDR] [to ADDR] [from-set SET] [to-set SET] [proto P]\n"
               "         [sport PORT|RANGE] [port PORT|RANGE] [icmp-type N] [vlan N] [on IFACE]\n"
               "         [rate N] [burst N] [per source|rule]\n"
               "         [priority N] [group G] [timeout DURATION] [comment TEXT] [disabled]\n"
               "  ACTION is drop, pass or rate-limit and comes first; the rest in any order,\n"
               "  each once.\n"
               "  from/to ADDR      source/destination address or CIDR prefix (IPv4 or IPv6)\n"
               "  from-set SET      the source address is in the address set SET\n"
               "  to-set SET        the destination address is in the address set SET\n"
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
               "\nSETS: a set holds up to a million addresses and prefixes (over all sets),\n"
               "each with an optional expiry; a rule matches a set with from-set/to-set.\n"
               "A FILE of set import has one entry a line: blank lines and lines starting\n"
               "with # or ; are skipped, and so is anything after the first word of a line\n"
               "(\"1.10.16.0/20 ; SBL256894\" as in Spamhaus DROP).\n"
               "\nExamples:\n"
               "  %1$s add drop from 192.0.2.0/24 proto tcp port 22 \\\n"
               "          timeout 1h comment \"ssh scanners\"\n"
               "  %1$s add pass to 2001:db8::1 proto udp port 8000-8100 priority -5\n"
               "  %1$s add rate-limit proto udp port 53 rate 100 burst 20 per source\n"
               "  %1$s list --group web --words > web.rules\n"
               "  %1$s replace web web.rules     (FILE '-' reads stdin)\n"
               "  %1$s set create scanners --comment \"seen probing\" --timeout 1d\n"
               "  curl -s https://www.spamhaus.org/drop/drop.txt | \\\n"
               "          %1$s set import spamhaus - --replace\n"
               "  %1$s add drop from-set spamhaus\n"
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
                ARG_COMMENT,
                ARG_REPLACE,
                ARG_SKIP_INVALID,
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
                { "comment",         required_argument, NULL, ARG_COMMENT         },
                { "replace",         no_argument,       NULL, ARG_REPLACE         },
                { "skip-invalid",    no_argument,       NULL, ARG_SKIP_INVALID    },
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
                case ARG_COMMENT:
                        arg_comment = optarg;
                        arg_verb_options |= VERB_OPTION_COMMENT;
                        break;
                case ARG_REPLACE:
                        arg_replace = true;
                        arg_verb_options |= VERB_OPTION_REPLACE;
                        break;
                case ARG_SKIP_INVALID:
                        arg_skip_invalid = true;
                        arg_verb_options |= VERB_OPTION_SKIP_INVALID;
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

static const Verb *verb_find(const Verb *table, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(table[i].name, name))
                        return table + i;
        return NULL;
}

/* "create, delete, add, ..." */
static char *subverb_names(const Verb *verb) {
        char *names = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&names, &size);

        if (!f)
                return NULL;
        for (size_t i = 0; i < verb->n_subverbs; i++)
                fprintf(f, "%s%s", i > 0 ? (i + 1 < verb->n_subverbs ? ", " : " or ") : "", verb->subverbs[i].name);
        if (fclose(f) != 0) {
                free(names);
                return NULL;
        }
        return names;
}

/*
 * argv[0] is the command name, then its arguments; options are already
 * parsed. parent is the command a subcommand belongs to ("set"), or NULL.
 */
static int dispatch_verb(const char *parent, const Verb *verb, int argc, char *argv[]) {
        _cleanup_free_ char *full_name = NULL;
        int r;

        if (asprintf(&full_name, "%s%s%s", parent ?: "", parent ? " " : "", verb->name) < 0)
                return cli_oom();

        if (verb->subverbs) {
                _cleanup_free_ char *names = subverb_names(verb);
                const Verb *sub;

                if (argc < 2)
                        return cli_usage_error("Missing %s command: %s.", verb->name, strna(names));
                sub = verb_find(verb->subverbs, verb->n_subverbs, argv[1]);
                if (!sub)
                        return cli_usage_error("Unknown %s command '%s': use %s.", verb->name, argv[1], strna(names));
                return dispatch_verb(verb->name, sub, argc - 1, argv + 1);
        }

        unsigned n_args = argc - 1;
        if (n_args < verb->min_args || n_args > verb->max_args)
                return cli_usage_error("Wrong number of arguments for '%s'. Usage: %s %s%s%s", full_name,
                                       program_invocation_short_name, full_name,
                                       *verb->synopsis ? " " : "", verb->synopsis);

        for (size_t i = 0; i < ELEMENTSOF(verb_options); i++)
                if ((arg_verb_options & verb_options[i].flag) && !(verb->flags & verb_options[i].flag))
                        return cli_usage_error("Option %s does not apply to '%s'.", verb_options[i].name, full_name);

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

        verb = verb_find(verbs, ELEMENTSOF(verbs), argv[optind]);
        if (!verb)
                return cli_usage_error("Unknown command '%s'.", argv[optind]);

        int verb_argc = argc - optind;
        char **verb_argv = argv + optind;

        r = parse_options(verb_argc, verb_argv, verb->flags & VERB_TAKES_WORDS);
        if (r <= 0)
                return r;

        /* The operands now sit at the end, from optind on: put the command name just before them. */
        verb_argv[optind - 1] = verb_argv[0];
        return dispatch_verb(NULL, verb, verb_argc - optind + 1, verb_argv + optind - 1);
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
