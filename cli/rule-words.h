/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Rule words: a rule written as a short sentence on the command line, and the
 * rule dictionary (the a{sv} of org.example.PacketFilter1) it stands for, in
 * both directions. Pure: no D-Bus here (the verbs append and read the
 * dictionaries), so the unit tests and fuzzers link this file and format.c alone.
 *
 * Grammar of one rule (ACTION first, the rest in any order, each at most once):
 *
 *   ACTION [from ADDR] [to ADDR] [from-set SET] [to-set SET] [proto P]
 *          [sport PORT|RANGE] [port PORT|RANGE] [icmp-type N] [vlan N] [on IFACE]
 *          [rate N] [burst N] [per source|rule]
 *          [priority N] [group G] [timeout DURATION] [comment TEXT] [disabled]
 *
 *   word        key          type  value
 *   ACTION      action       s     drop, pass or rate-limit
 *   from        source       s     IPv4/IPv6 address or CIDR prefix
 *   to          destination  s     IPv4/IPv6 address or CIDR prefix
 *   from-set    source-set   s     the name of an address set (packetfilterctl set)
 *   to-set      destination-set s  the name of an address set
 *   proto       protocol     s     tcp, udp, sctp, icmp, icmpv6 or 0-255
 *   sport       source-port  s     22 or 8000-8100
 *   port        port         s     22 or 8000-8100 (destination port)
 *   icmp-type   icmp-type    u     a number
 *   vlan        vlan         u     a number
 *   on          interface    s     an interface name
 *   rate        rate         u     packets per second (rate-limit)
 *   burst       burst        u     packets at once (rate-limit; default: rate)
 *   per         per          s     source (default) or rule (rate-limit)
 *   priority    priority     i     a number, may be negative
 *   group       group        s     a group name
 *   timeout     timeout      u     seconds, or a duration: 90, 30s, 10m, 1h, 1h30m
 *   comment     comment      s     any text (quote it for the shell)
 *   disabled    enabled      b     false (takes no value)
 *
 * Text values go to the daemon as they are and are judged there; only the
 * numbers (u, i) and durations are converted, and refused here when they are
 * not numbers. An unknown word, a repeated word or a missing value is a usage
 * error naming the word.
 *
 * A file of rules (packetfilterctl replace) holds one rule per line, split
 * into words as the shell would: '…' and "…" quote, \ escapes, a word that
 * starts with # begins a comment; nothing is expanded.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* D-Bus type codes of the values a rule dictionary holds. */
typedef enum RuleValueType {
        RULE_VALUE_STRING  = 's',
        RULE_VALUE_UINT32  = 'u',
        RULE_VALUE_INT32   = 'i',
        RULE_VALUE_BOOLEAN = 'b',
        RULE_VALUE_UINT64  = 't',       /* counters and times in returned rules */
        RULE_VALUE_OTHER   = '?',       /* any other type: kept so that its key can be named */
} RuleValueType;

typedef struct RuleField {
        char *key;
        RuleValueType type;
        union {
                char *string;
                uint32_t uint32;
                int32_t int32;
                bool boolean;
                uint64_t uint64;
        };
} RuleField;

/* One rule dictionary, keys in the order they came. */
typedef struct RuleFields {
        RuleField *fields;
        size_t n_fields;
} RuleFields;

/* Frees what the dictionary holds and leaves it empty. */
void rule_fields_clear(RuleFields *f);
/* Key NULL when absent. */
const RuleField *rule_fields_find(const RuleFields *f, const char *key);

int rule_fields_add_string(RuleFields *f, const char *key, const char *value);
int rule_fields_add_uint32(RuleFields *f, const char *key, uint32_t value);
int rule_fields_add_int32(RuleFields *f, const char *key, int32_t value);
int rule_fields_add_boolean(RuleFields *f, const char *key, bool value);
int rule_fields_add_uint64(RuleFields *f, const char *key, uint64_t value);
int rule_fields_add_other(RuleFields *f, const char *key);

/* Why words were refused: a message for a person, naming the word. */
typedef struct WordsError {
        char message[256];
} WordsError;

/*
 * Words → dictionary. 0 on success; -EINVAL with *e filled for a usage error;
 * -ENOMEM. *ret (empty on entry) is written only on success.
 */
int rule_words_parse(char *const *words, size_t n_words, RuleFields *ret, WordsError *e);

typedef enum RuleWordsFlags {
        /* Only what list shows in its MATCH column: leave out action, priority, group
         * and timeout (they have columns of their own). */
        RULE_WORDS_MATCH_ONLY    = 1 << 0,
        /* Show keys that no word expresses as "key=VALUE" instead of failing (for
         * display only: add does not take them). */
        RULE_WORDS_SHOW_UNKNOWN  = 1 << 1,
} RuleWordsFlags;

/*
 * Dictionary → words that add accepts and that make the same rule (a
 * NULL-terminated array). What a returned rule adds (id, counters, created) is
 * left out; expires becomes the time left at now_usec (at least 1 s); defaults
 * (priority 0, group "default", enabled) are left out. -EOPNOTSUPP with *e
 * filled for a key that no word expresses, -EBADMSG for a value of the wrong
 * type, -ENOMEM.
 */
int rule_fields_to_words(const RuleFields *rule, uint64_t now_usec, RuleWordsFlags flags,
                         char ***ret_words, WordsError *e);

/* The words on one line, each quoted for the shell when it needs to be. */
char *words_to_line(char *const *words);

/*
 * One line of a rules file → words (NULL-terminated; empty for a blank or
 * comment line). -EINVAL with *e filled for an unterminated quote or a
 * trailing backslash, -ENOMEM.
 */
int words_split_line(const char *line, char ***ret_words, WordsError *e);

char **strv_free(char **v);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
size_t strv_length(char *const *v);
