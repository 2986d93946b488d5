/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the rule words (cli/rule-words.c): words → dictionary for good
 * and bad word lists, dictionary → words → dictionary for many rules (every
 * key, odd comments, ranges, IPv6, seeded random ones), the shell quoting of
 * lines (checked against /bin/sh itself) and the splitting of rules-file lines.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "format.h"
#include "rule-words.h"

static unsigned failures, checks;

#define CHECK(cond, ...)                                                        \
        ({                                                                      \
                bool _ok_ = (cond);                                             \
                checks++;                                                       \
                if (!_ok_) {                                                    \
                        fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);   \
                        fprintf(stderr, __VA_ARGS__);                           \
                        fputc('\n', stderr);                                    \
                        failures++;                                             \
                }                                                               \
                _ok_;                                                           \
        })

/* A fixed "now" so that expiries give exact timeouts. */
#define NOW_USEC (UINT64_C(1700000000) * USEC_PER_SEC + 250000)

/* "key=type:value" per field, in order, separated by blanks: one string to compare. */
static char *fields_to_string(const RuleFields *f) {
        char *out = NULL;
        size_t size = 0;
        FILE *s = open_memstream(&out, &size);

        if (!s)
                abort();
        for (size_t i = 0; i < f->n_fields; i++) {
                const RuleField *field = &f->fields[i];

                fprintf(s, "%s%s=%c:", i > 0 ? " " : "", field->key, (char) field->type);
                switch (field->type) {
                case RULE_VALUE_STRING:
                        fputs(field->string, s);
                        break;
                case RULE_VALUE_UINT32:
                        fprintf(s, "%" PRIu32, field->uint32);
                        break;
                case RULE_VALUE_INT32:
                        fprintf(s, "%" PRId32, field->int32);
                        break;
                case RULE_VALUE_BOOLEAN:
                        fputs(field->boolean ? "true" : "false", s);
                        break;
                case RULE_VALUE_UINT64:
                        fprintf(s, "%" PRIu64, field->uint64);
                        break;
                default:
                        fputs("?", s);
                }
        }
        if (fclose(s) != 0)
                abort();
        return out;
}

static size_t words_count(const char *const *words) {
        size_t n = 0;
        while (words[n])
                n++;
        return n;
}

static void test_parse_good(void) {
        static const struct {
                const char *words[32];
                const char *expected;
        } cases[] = {
                { { "drop" }, "action=s:drop" },
                { { "pass" }, "action=s:pass" },
                { { "drop", "from", "192.0.2.0/24", "proto", "tcp", "port", "22", "timeout", "1h",
                    "comment", "ssh scanners" },
                  "action=s:drop source=s:192.0.2.0/24 protocol=s:tcp port=s:22 timeout=u:3600 "
                  "comment=s:ssh scanners" },
                { { "pass", "to", "2001:db8::1", "proto", "udp", "sport", "53", "port", "8000-8100" },
                  "action=s:pass destination=s:2001:db8::1 protocol=s:udp source-port=s:53 port=s:8000-8100" },
                { { "drop", "proto", "icmp", "icmp-type", "8", "vlan", "4095", "on", "eth0" },
                  "action=s:drop protocol=s:icmp icmp-type=u:8 vlan=u:4095 interface=s:eth0" },
                /* Every word, in reverse order: order does not matter after the action. */
                { { "drop", "disabled", "comment", "x", "timeout", "90", "group", "web", "priority", "-5",
                    "on", "veth0", "vlan", "0", "icmp-type", "0", "port", "1", "sport", "2", "proto", "sctp",
                    "to-set", "servers", "from-set", "scanners", "to", "10.0.0.0/8", "from", "10.1.0.0/16" },
                  "action=s:drop enabled=b:false comment=s:x timeout=u:90 group=s:web priority=i:-5 "
                  "interface=s:veth0 vlan=u:0 icmp-type=u:0 port=s:1 source-port=s:2 protocol=s:sctp "
                  "destination-set=s:servers source-set=s:scanners "
                  "destination=s:10.0.0.0/8 source=s:10.1.0.0/16" },
                /* Sets: names go as they are, the daemon judges them (and whether the set exists). */
                { { "drop", "from-set", "spamhaus" }, "action=s:drop source-set=s:spamhaus" },
                { { "pass", "to-set", "web.servers-v6_2", "proto", "tcp", "port", "443" },
                  "action=s:pass destination-set=s:web.servers-v6_2 protocol=s:tcp port=s:443" },
                { { "drop", "from-set", "a", "to-set", "a" }, "action=s:drop source-set=s:a destination-set=s:a" },
                { { "drop", "from", "192.0.2.0/24", "from-set", "x" }, "action=s:drop source=s:192.0.2.0/24 source-set=s:x" },
                { { "drop", "from-set", "no such name!" }, "action=s:drop source-set=s:no such name!" },
                /* Numbers: signs for priority only, the full ranges of their types. */
                { { "drop", "priority", "+7" }, "action=s:drop priority=i:7" },
                { { "drop", "priority", "-2147483648" }, "action=s:drop priority=i:-2147483648" },
                { { "drop", "priority", "2147483647" }, "action=s:drop priority=i:2147483647" },
                { { "drop", "vlan", "4294967295" }, "action=s:drop vlan=u:4294967295" },
                /* The CLI converts numbers, the daemon judges them: 9999 is its to refuse. */
                { { "drop", "vlan", "9999" }, "action=s:drop vlan=u:9999" },
                { { "drop", "timeout", "1d2h3m4s" }, "action=s:drop timeout=u:93784" },
                { { "drop", "timeout", "0" }, "action=s:drop timeout=u:0" },
                { { "drop", "timeout", "4294967295" }, "action=s:drop timeout=u:4294967295" },
                /* Text goes as it is, whatever it looks like: the daemon judges it. */
                { { "drop", "from", "not-an-address" }, "action=s:drop source=s:not-an-address" },
                { { "drop", "from", "" }, "action=s:drop source=s:" },
                { { "frobnicate" }, "action=s:frobnicate" },
                { { "drop", "comment", "port" }, "action=s:drop comment=s:port" },
                { { "drop", "comment", "--json" }, "action=s:drop comment=s:--json" },
                { { "drop", "comment", "it's \"quoted\" $HOME `x` \\ # not a comment" },
                  "action=s:drop comment=s:it's \"quoted\" $HOME `x` \\ # not a comment" },
                { { "drop", "comment", "" }, "action=s:drop comment=s:" },
                { { "drop", "group", "fail2ban" }, "action=s:drop group=s:fail2ban" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(rule_fields_clear) RuleFields f = {};
                _cleanup_free_ char *got = NULL;
                WordsError e = {};
                int r;

                r = rule_words_parse((char *const *) cases[i].words, words_count(cases[i].words), &f, &e);
                if (!CHECK(r == 0, "case %zu (%s): refused with %d: %s", i, cases[i].expected, r, e.message))
                        continue;
                got = fields_to_string(&f);
                CHECK(streq(got, cases[i].expected), "case %zu: got\n  %s\nexpected\n  %s", i, got,
                      cases[i].expected);
        }
}

static void test_parse_bad(void) {
        static const struct {
                const char *words[8];
                const char *message;    /* must appear in the error message */
        } cases[] = {
                { { NULL },                                       "Missing ACTION" },
                { { "from", "192.0.2.1" },                        "Missing ACTION before 'from'" },
                { { "disabled" },                                 "Missing ACTION before 'disabled'" },
                { { "drop", "frm", "192.0.2.1" },                 "Unknown word 'frm'" },
                { { "drop", "192.0.2.1" },                        "Unknown word '192.0.2.1'" },
                { { "drop", "drop" },                             "Unknown word 'drop'" },
                { { "drop", "FROM", "192.0.2.1" },                "Unknown word 'FROM'" },
                { { "drop", "disabled", "yes" },                  "Unknown word 'yes'" },
                { { "drop", "--json" },                           "Unknown word '--json'" },
                { { "drop", "from", "192.0.2.1", "from", "192.0.2.2" }, "'from' is given twice" },
                { { "drop", "disabled", "disabled" },             "'disabled' is given twice" },
                { { "drop", "port", "22", "port", "22" },         "'port' is given twice" },
                { { "drop", "from" },                             "'from' needs a value" },
                { { "drop", "proto", "tcp", "port" },             "'port' needs a value" },
                { { "drop", "comment" },                          "'comment' needs a value" },
                { { "drop", "from-set" },                         "'from-set' needs a value: the name of an address set" },
                { { "drop", "to-set" },                           "'to-set' needs a value: the name of an address set" },
                { { "drop", "from-set", "a", "from-set", "b" },   "'from-set' is given twice" },
                { { "drop", "to-set", "a", "to-set", "a" },       "'to-set' is given twice" },
                { { "drop", "from_set", "a" },                    "Unknown word 'from_set'" },
                { { "drop", "set", "a" },                         "Unknown word 'set' (words after the action: from, to, from-set, to-set," },
                { { "from-set", "a" },                            "Missing ACTION before 'from-set'" },
                { { "drop", "timeout" },                          "'timeout' needs a value" },
                { { "drop", "vlan", "ten" },                      "'vlan' needs a VLAN id" },
                { { "drop", "vlan", "-1" },                       "'vlan' needs" },
                { { "drop", "vlan", "" },                         "'vlan' needs" },
                { { "drop", "vlan", "0x10" },                     "'vlan' needs" },
                { { "drop", "vlan", " 5" },                       "'vlan' needs" },
                { { "drop", "icmp-type", "4294967296" },          "'icmp-type' is too large" },
                { { "drop", "priority", "high" },                 "'priority' needs a number" },
                { { "drop", "priority", "2147483648" },           "'priority' is out of range" },
                { { "drop", "priority", "-2147483649" },          "'priority' is out of range" },
                { { "drop", "priority", "-" },                    "'priority' needs" },
                { { "drop", "timeout", "1 hour" },                "'timeout' needs a duration" },
                { { "drop", "timeout", "-1s" },                   "'timeout' needs a duration" },
                { { "drop", "timeout", "4294967296" },            "'timeout' is too long" },
                { { "drop", "timeout", "50000d" },                "'timeout' is too long" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                RuleFields f = {};
                WordsError e = {};
                int r;

                r = rule_words_parse((char *const *) cases[i].words, words_count(cases[i].words), &f, &e);
                CHECK(r == -EINVAL, "bad case %zu (%s): returned %d", i, cases[i].message, r);
                CHECK(strstr(e.message, cases[i].message), "bad case %zu: message \"%s\" lacks \"%s\"", i,
                      e.message, cases[i].message);
                CHECK(f.n_fields == 0 && !f.fields, "bad case %zu: wrote its result on failure", i);
        }

        /* A long unknown word is cut in the message, which stays within its buffer. */
        char long_word[600];
        memset(long_word, 'x', sizeof(long_word) - 1);
        long_word[sizeof(long_word) - 1] = '\0';
        char *words[] = { "drop", long_word };
        WordsError e = {};
        RuleFields f = {};
        CHECK(rule_words_parse(words, 2, &f, &e) == -EINVAL, "a long unknown word was accepted");
        CHECK(strstr(e.message, "xxx...'"), "a long word is not cut with '...': %s", e.message);
}

/*
 * What a rule means, whatever its form: the keys that make the rule, defaults
 * dropped, expires turned into the timeout left at NOW_USEC, sorted by key.
 */
static char *normalize(const RuleFields *f) {
        _cleanup_(rule_fields_clear) RuleFields n = {};
        const char *order[] = {
                "action", "source", "destination", "source-set", "destination-set", "protocol", "source-port",
                "port", "icmp-type", "vlan", "interface", "rate", "burst", "per", "priority", "group", "timeout",
                "comment", "enabled",
        };

        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                const RuleField *field = rule_fields_find(f, order[i]);
                int r = 0;

                if (streq(order[i], "timeout")) {
                        const RuleField *expires = rule_fields_find(f, "expires");
                        uint32_t seconds = field ? field->uint32 : 0;

                        if (!seconds && expires && expires->uint64)
                                seconds = expires->uint64 <= NOW_USEC ? 1 :
                                        (expires->uint64 - NOW_USEC + USEC_PER_SEC - 1) / USEC_PER_SEC;
                        if (seconds)
                                r = rule_fields_add_uint32(&n, "timeout", seconds);
                } else if (!field)
                        continue;
                else if (streq(order[i], "priority") && field->int32 == 0)
                        continue;
                else if (streq(order[i], "group") && streq(field->string, "default"))
                        continue;
                else if (streq(order[i], "comment") && !field->string[0])
                        continue;
                else if (streq(order[i], "enabled") && field->boolean)
                        continue;
                else if (streq(order[i], "per") && streq(field->string, "source"))
                        continue;
                else if (field->type == RULE_VALUE_STRING)
                        r = rule_fields_add_string(&n, field->key, field->string);
                else if (field->type == RULE_VALUE_UINT32)
                        r = rule_fields_add_uint32(&n, field->key, field->uint32);
                else if (field->type == RULE_VALUE_INT32)
                        r = rule_fields_add_int32(&n, field->key, field->int32);
                else if (field->type == RULE_VALUE_BOOLEAN)
                        r = rule_fields_add_boolean(&n, field->key, field->boolean);
                if (r < 0)
                        abort();
        }
        return fields_to_string(&n);
}

/* The words /bin/sh makes of "printf '%s\0' LINE": the proof that the quoting is the shell's. */
static char **shell_words(const char *line) {
        _cleanup_free_ char *command = NULL, *out = NULL;
        char **words = calloc(1, sizeof(char *));
        size_t n = 0, size = 0, length;
        FILE *p;

        if (!words || asprintf(&command, "printf '%%s\\0' %s", line) < 0)
                abort();
        p = popen(command, "r");
        if (!p)
                abort();
        out = malloc(64 * 1024);
        if (!out)
                abort();
        length = fread(out, 1, 64 * 1024 - 1, p);
        if (pclose(p) != 0)
                return strv_free(words);
        for (size_t start = 0; start < length; start += strlen(out + start) + 1) {
                words = reallocarray(words, n + 2, sizeof(char *));
                if (!words)
                        abort();
                words[n++] = strdup(out + start);
                words[n] = NULL;
        }
        (void) size;
        return words;
}

static bool strv_equal(char *const *a, char *const *b) {
        size_t i;

        for (i = 0; a[i] && b[i]; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return !a[i] && !b[i];
}

/*
 * dictionary → words → line → words → dictionary, and the same meaning at the
 * end as at the start. With through_shell, the line also goes through /bin/sh.
 */
static void check_round_trip(const char *what, const RuleFields *rule, bool through_shell) {
        _cleanup_(strv_freep) char **words = NULL, **split = NULL, **from_shell = NULL;
        _cleanup_(rule_fields_clear) RuleFields parsed = {};
        _cleanup_free_ char *line = NULL, *before = NULL, *after = NULL;
        WordsError e = {};
        int r;

        r = rule_fields_to_words(rule, NOW_USEC, 0, &words, &e);
        if (!CHECK(r == 0, "%s: no words: %d %s", what, r, e.message))
                return;
        line = words_to_line(words);
        if (!CHECK(line, "%s: words_to_line failed", what))
                return;
        CHECK(!strchr(line, '\n'), "%s: a line with a newline: %s", what, line);

        r = words_split_line(line, &split, &e);
        if (!CHECK(r == 0, "%s: line refused: %s: %s", what, line, e.message))
                return;
        CHECK(strv_equal(words, split), "%s: the line \"%s\" splits into other words", what, line);

        if (through_shell) {
                from_shell = shell_words(line);
                CHECK(from_shell && strv_equal(words, from_shell),
                      "%s: /bin/sh splits \"%s\" into other words", what, line);
        }

        r = rule_words_parse(split, strv_length(split), &parsed, &e);
        if (!CHECK(r == 0, "%s: the words of \"%s\" are refused: %s", what, line, e.message))
                return;

        before = normalize(rule);
        after = normalize(&parsed);
        CHECK(streq(before, after), "%s: round trip through \"%s\" changed the rule:\n  %s\n  %s", what, line,
              before, after);
}

/* A rule as the daemon returns it: id, counters, times, and the defaults spelled out. */
static void add_returned_keys(RuleFields *f, uint32_t id, int32_t priority, bool enabled, const char *group,
                              uint64_t expires) {
        if (rule_fields_add_uint32(f, "id", id) < 0 ||
            rule_fields_add_int32(f, "priority", priority) < 0 ||
            rule_fields_add_boolean(f, "enabled", enabled) < 0 ||
            rule_fields_add_string(f, "group", group) < 0 ||
            rule_fields_add_uint64(f, "packets", 123456789) < 0 ||
            rule_fields_add_uint64(f, "bytes", UINT64_C(98765432100)) < 0 ||
            rule_fields_add_uint64(f, "created", NOW_USEC - 5 * USEC_PER_SEC) < 0 ||
            rule_fields_add_uint64(f, "expires", expires) < 0)
                abort();
}

static void test_round_trip_fixed(void) {
        static const struct {
                const char *action, *source, *destination, *protocol, *source_port, *port, *interface,
                        *comment, *group;
                int64_t icmp_type, vlan;        /* -1: absent */
                int32_t priority;
                bool enabled;
                uint64_t expires;
        } cases[] = {
                { "drop", "192.0.2.0/24", NULL, "tcp", NULL, "22", NULL, "ssh scanners", "default", -1, -1,
                  0, true, NOW_USEC + 3600 * USEC_PER_SEC },
                { "pass", NULL, "2001:db8::/64", "udp", "1024-65535", "8000-8100", "veth-fw", NULL, "web",
                  -1, 10, -5, true, 0 },
                { "drop", "2001:db8::2", "2001:db8::1", "icmpv6", NULL, NULL, NULL, "it's a \"test\"",
                  "fail2ban", 128, -1, 2147483647, false, 0 },
                { "drop", "192.0.2.2", "192.0.2.1", "icmp", NULL, NULL, "eth0", "$HOME `rm -rf` \\ ; & | > <",
                  "default", 8, 4095, -2147483647 - 1, true, NOW_USEC + 1 },
                { "pass", NULL, NULL, "sctp", "9", "0-65535", NULL, "  leading and trailing  ", "a.b-c_d",
                  -1, 0, 1, true, NOW_USEC - 10 },  /* expired, not yet removed: still 1 s */
                { "drop", NULL, NULL, "47", NULL, NULL, NULL, "# not a comment", "default", -1, -1, 0, true, 0 },
                { "drop", NULL, NULL, NULL, NULL, NULL, NULL, "-5", "default", -1, -1, 0, false,
                  NOW_USEC + UINT64_C(86400) * 400 * USEC_PER_SEC },
                { "pass", "::/0", NULL, NULL, NULL, NULL, NULL, "ünïcødé ☃ comment", "default", -1, -1, 0,
                  true, NOW_USEC + 1500000 },   /* 1.5 s left: 2 s */
                { "drop", "::ffff:192.0.2.1", NULL, NULL, NULL, NULL, NULL, "'", "default", -1, -1, 0,
                  true, 0 },
                { "drop", "fe80::1/10", NULL, "tcp", "22", "22", "veth0", "''\"\"''", "default", -1, 1,
                  0, true, 0 },
                { "drop", NULL, NULL, NULL, NULL, NULL, NULL, "--", "default", -1, -1, 0, true, 0 },
                { "drop", NULL, NULL, NULL, NULL, NULL, NULL, "a=b", "default", -1, -1, 0, true, 0 },
                { "drop", NULL, NULL, NULL, NULL, NULL, NULL, "~root *.c ?x [ab] {a,b}", "default", -1, -1,
                  0, true, 0 },
                { "pass", NULL, NULL, NULL, NULL, NULL, NULL, "", "default", -1, -1, 0, true, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(rule_fields_clear) RuleFields f = {};
                char what[32];
                int r = 0;

                r = rule_fields_add_string(&f, "action", cases[i].action);
                if (r >= 0 && cases[i].source)
                        r = rule_fields_add_string(&f, "source", cases[i].source);
                if (r >= 0 && cases[i].destination)
                        r = rule_fields_add_string(&f, "destination", cases[i].destination);
                if (r >= 0 && cases[i].protocol)
                        r = rule_fields_add_string(&f, "protocol", cases[i].protocol);
                if (r >= 0 && cases[i].source_port)
                        r = rule_fields_add_string(&f, "source-port", cases[i].source_port);
                if (r >= 0 && cases[i].port)
                        r = rule_fields_add_string(&f, "port", cases[i].port);
                if (r >= 0 && cases[i].icmp_type >= 0)
                        r = rule_fields_add_uint32(&f, "icmp-type", cases[i].icmp_type);
                if (r >= 0 && cases[i].vlan >= 0)
                        r = rule_fields_add_uint32(&f, "vlan", cases[i].vlan);
                if (r >= 0 && cases[i].interface)
                        r = rule_fields_add_string(&f, "interface", cases[i].interface);
                if (r >= 0 && cases[i].comment)
                        r = rule_fields_add_string(&f, "comment", cases[i].comment);
                if (r < 0)
                        abort();
                add_returned_keys(&f, i + 1, cases[i].priority, cases[i].enabled, cases[i].group,
                                  cases[i].expires);

                snprintf(what, sizeof(what), "fixed rule %zu", i);
                check_round_trip(what, &f, /* through_shell= */ true);
        }
}

/* Rules with sets, as the daemon returns them: written as from-set/to-set, read back the same. */
static void test_round_trip_sets(void) {
        static const struct {
                const char *source, *destination, *source_set, *destination_set;
        } cases[] = {
                { NULL, NULL, "spamhaus", NULL },
                { NULL, NULL, NULL, "web-servers" },
                { NULL, NULL, "scanners", "servers.v6" },
                { "192.0.2.0/24", NULL, NULL, "a" },
                { NULL, "2001:db8::1", "B_9", NULL },
                { "10.0.0.0/8", "10.1.0.0/16", "x", "x" },
                /* A name that needs quoting in a file: the daemon refuses it, but the words must survive. */
                { NULL, NULL, "it's", "a b" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(rule_fields_clear) RuleFields f = {};
                _cleanup_(strv_freep) char **words = NULL;
                _cleanup_free_ char *line = NULL;
                char what[32];
                WordsError e = {};
                int r;

                r = rule_fields_add_string(&f, "action", "drop");
                if (r >= 0 && cases[i].source)
                        r = rule_fields_add_string(&f, "source", cases[i].source);
                if (r >= 0 && cases[i].destination)
                        r = rule_fields_add_string(&f, "destination", cases[i].destination);
                if (r >= 0 && cases[i].source_set)
                        r = rule_fields_add_string(&f, "source-set", cases[i].source_set);
                if (r >= 0 && cases[i].destination_set)
                        r = rule_fields_add_string(&f, "destination-set", cases[i].destination_set);
                if (r < 0)
                        abort();
                add_returned_keys(&f, i + 1, 0, true, "default", 0);

                snprintf(what, sizeof(what), "set rule %zu", i);
                check_round_trip(what, &f, /* through_shell= */ true);

                /* The words name the sets with from-set and to-set, in the grammar's order. */
                r = rule_fields_to_words(&f, NOW_USEC, 0, &words, &e);
                if (!CHECK(r == 0, "%s: %s", what, e.message))
                        continue;
                line = words_to_line(words);
                if (cases[i].source_set)
                        CHECK(line && strstr(line, "from-set "), "%s: no from-set in \"%s\"", what, strna(line));
                if (cases[i].destination_set)
                        CHECK(line && strstr(line, "to-set "), "%s: no to-set in \"%s\"", what, strna(line));
                if (!cases[i].source_set && !cases[i].destination_set)
                        CHECK(line && !strstr(line, "-set"), "%s: a set in \"%s\"", what, strna(line));
        }

        /* list's MATCH column shows them too. */
        _cleanup_(rule_fields_clear) RuleFields f = {};
        _cleanup_(strv_freep) char **match = NULL;
        _cleanup_free_ char *line = NULL;
        WordsError e = {};

        if (rule_fields_add_string(&f, "action", "drop") < 0 || rule_fields_add_string(&f, "source-set", "spamhaus") < 0 ||
            rule_fields_add_string(&f, "protocol", "tcp") < 0)
                abort();
        add_returned_keys(&f, 1, 5, true, "web", 0);
        CHECK(rule_fields_to_words(&f, NOW_USEC, RULE_WORDS_MATCH_ONLY, &match, &e) == 0, "match words: %s", e.message);
        line = words_to_line(match);
        CHECK(line && streq(line, "from-set spamhaus proto tcp"), "match words: \"%s\"", strna(line));
}

/* Rate-limit rules: the words of the issue's example, and rules as the daemon returns them. */
static void test_rate_limit_words(void) {
        static const char *const words[] = {
                "rate-limit", "proto", "udp", "port", "53", "rate", "100", "burst", "20", "per", "source", NULL
        };
        _cleanup_(rule_fields_clear) RuleFields parsed = {};
        _cleanup_free_ char *got = NULL;
        WordsError e = {};
        int r;

        r = rule_words_parse((char *const *) words, 11, &parsed, &e);
        if (CHECK(r == 0, "rate-limit words refused: %s", e.message)) {
                got = fields_to_string(&parsed);
                CHECK(streq(got, "action=s:rate-limit protocol=s:udp port=s:53 rate=u:100 burst=u:20 per=s:source"),
                      "rate-limit words: %s", got);
        }

        for (int per_rule = 0; per_rule < 2; per_rule++) {
                _cleanup_(rule_fields_clear) RuleFields f = {};
                _cleanup_(strv_freep) char **out = NULL;
                _cleanup_free_ char *line = NULL;
                char what[32];

                if (rule_fields_add_string(&f, "action", "rate-limit") < 0 ||
                    rule_fields_add_string(&f, "protocol", "udp") < 0 ||
                    rule_fields_add_string(&f, "port", "53") < 0 ||
                    rule_fields_add_uint32(&f, "rate", 100) < 0 ||
                    rule_fields_add_uint32(&f, "burst", 4294967295u) < 0 ||
                    rule_fields_add_string(&f, "per", per_rule ? "rule" : "source") < 0 ||
                    rule_fields_add_uint64(&f, "rate-limited", 42) < 0)
                        abort();
                add_returned_keys(&f, 7, 0, true, "default", 0);
                snprintf(what, sizeof(what), "rate-limit rule, per %s", per_rule ? "rule" : "source");
                check_round_trip(what, &f, /* through_shell= */ true);

                r = rule_fields_to_words(&f, NOW_USEC, 0, &out, &e);
                if (!CHECK(r == 0, "%s: %s", what, e.message))
                        continue;
                line = words_to_line(out);
                CHECK(line && streq(line, per_rule ? "rate-limit proto udp port 53 rate 100 burst 4294967295 per rule" :
                                                     "rate-limit proto udp port 53 rate 100 burst 4294967295"),
                      "%s: %s", what, strna(line));
        }
}

static void test_words_of_returned_rule(void) {
        _cleanup_(rule_fields_clear) RuleFields f = {};
        _cleanup_(strv_freep) char **words = NULL, **match = NULL;
        _cleanup_free_ char *line = NULL, *match_line = NULL;
        WordsError e = {};

        if (rule_fields_add_string(&f, "action", "drop") < 0 ||
            rule_fields_add_string(&f, "source", "192.0.2.0/24") < 0 ||
            rule_fields_add_string(&f, "protocol", "tcp") < 0 ||
            rule_fields_add_string(&f, "port", "22") < 0 ||
            rule_fields_add_string(&f, "comment", "ssh scanners") < 0)
                abort();
        add_returned_keys(&f, 7, 0, true, "default", NOW_USEC + 3600 * USEC_PER_SEC);

        CHECK(rule_fields_to_words(&f, NOW_USEC, 0, &words, &e) == 0, "to_words failed: %s", e.message);
        line = words ? words_to_line(words) : NULL;
        CHECK(line && streq(line, "drop from 192.0.2.0/24 proto tcp port 22 timeout 1h comment 'ssh scanners'"),
              "words: %s", strna(line));

        CHECK(rule_fields_to_words(&f, NOW_USEC, RULE_WORDS_MATCH_ONLY, &match, &e) == 0, "to_words failed");
        match_line = match ? words_to_line(match) : NULL;
        CHECK(match_line && streq(match_line, "from 192.0.2.0/24 proto tcp port 22 comment 'ssh scanners'"),
              "match words: %s", strna(match_line));

        /* A rule that matches everything has no match words. */
        _cleanup_(rule_fields_clear) RuleFields any = {};
        _cleanup_(strv_freep) char **none = NULL;
        if (rule_fields_add_string(&any, "action", "pass") < 0)
                abort();
        add_returned_keys(&any, 8, 3, false, "web", 0);
        CHECK(rule_fields_to_words(&any, NOW_USEC, RULE_WORDS_MATCH_ONLY, &none, &e) == 0 && none &&
              streq(none[0] ?: "(null)", "disabled") && !none[1], "match words of a disabled catch-all rule");
}

static void test_to_words_errors(void) {
        _cleanup_(rule_fields_clear) RuleFields unknown = {}, wrong_type = {}, no_action = {}, twice = {};
        _cleanup_(strv_freep) char **words = NULL, **shown = NULL;
        WordsError e = {};
        int r;

        /* A key from a newer daemon: no word says it, so writing the rule would change it. */
        if (rule_fields_add_string(&unknown, "action", "drop") < 0 ||
            rule_fields_add_string(&unknown, "rate-limit", "10/s") < 0 ||
            rule_fields_add_other(&unknown, "weird") < 0)
                abort();
        r = rule_fields_to_words(&unknown, NOW_USEC, 0, &words, &e);
        CHECK(r == -EOPNOTSUPP && strstr(e.message, "rate-limit"), "unknown key: %d %s", r, e.message);
        CHECK(!words, "words written on failure");

        /* For display, they show as key=value. */
        r = rule_fields_to_words(&unknown, NOW_USEC, RULE_WORDS_SHOW_UNKNOWN, &shown, &e);
        _cleanup_free_ char *line = r == 0 ? words_to_line(shown) : NULL;
        CHECK(line && streq(line, "drop 'rate-limit=10/s' 'weird=?'"), "shown: %s", strna(line));

        if (rule_fields_add_string(&wrong_type, "action", "drop") < 0 ||
            rule_fields_add_string(&wrong_type, "vlan", "10") < 0)
                abort();
        r = rule_fields_to_words(&wrong_type, NOW_USEC, 0, &words, &e);
        CHECK(r == -EBADMSG && strstr(e.message, "vlan"), "wrong type: %d %s", r, e.message);

        if (rule_fields_add_string(&no_action, "source", "192.0.2.1") < 0)
                abort();
        r = rule_fields_to_words(&no_action, NOW_USEC, 0, &words, &e);
        CHECK(r == -EBADMSG && strstr(e.message, "action"), "no action: %d %s", r, e.message);

        if (rule_fields_add_string(&twice, "action", "drop") < 0 ||
            rule_fields_add_string(&twice, "port", "1") < 0 ||
            rule_fields_add_string(&twice, "port", "2") < 0)
                abort();
        r = rule_fields_to_words(&twice, NOW_USEC, 0, &words, &e);
        CHECK(r == -EBADMSG && strstr(e.message, "port"), "key twice: %d %s", r, e.message);
}

static void test_split_line(void) {
        static const struct {
                const char *line;
                const char *words[8];
        } good[] = {
                { "",                                    { NULL } },
                { "   \t  \r\n",                         { NULL } },
                { "# a comment",                         { NULL } },
                { "   # indented comment 'unterminated", { NULL } },
                { "drop from 192.0.2.1",                 { "drop", "from", "192.0.2.1" } },
                { "  drop\tfrom  192.0.2.1  \r\n",       { "drop", "from", "192.0.2.1" } },
                { "drop # scanners",                     { "drop" } },
                { "drop comment a#b",                    { "drop", "comment", "a#b" } },
                { "drop comment '# x'",                  { "drop", "comment", "# x" } },
                { "drop comment 'it'\\''s'",             { "drop", "comment", "it's" } },
                { "drop comment \"say \\\"hi\\\" \\$x \\n\"", { "drop", "comment", "say \"hi\" $x \\n" } },
                { "drop comment a\\ b\\'c",              { "drop", "comment", "a b'c" } },
                { "drop comment ''",                     { "drop", "comment", "" } },
                { "drop comment \"\"x''y",               { "drop", "comment", "xy" } },
                { "drop comment $HOME",                  { "drop", "comment", "$HOME" } },
        };
        static const struct {
                const char *line, *message;
        } bad[] = {
                { "drop comment 'open",                  "single quote" },
                { "drop comment \"open",                 "double quote" },
                { "drop comment \"a\\\"",                "double quote" },
                { "drop comment x\\",                    "backslash" },
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_(strv_freep) char **words = NULL;
                WordsError e = {};
                int r = words_split_line(good[i].line, &words, &e);

                if (!CHECK(r == 0, "line \"%s\" refused: %s", good[i].line, e.message))
                        continue;
                CHECK(strv_equal(words, (char *const *) good[i].words), "line \"%s\" split wrongly (first: %s)",
                      good[i].line, strna(words[0]));
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char **words = NULL;
                WordsError e = {};
                int r = words_split_line(bad[i].line, &words, &e);

                CHECK(r == -EINVAL && strstr(e.message, bad[i].message), "bad line \"%s\": %d %s", bad[i].line,
                      r, e.message);
                CHECK(!words, "bad line \"%s\": words written on failure", bad[i].line);
        }
}

static void test_quoting(void) {
        static const struct {
                const char *words[4];
                const char *line;
        } cases[] = {
                { { "drop", "from", "2001:db8::/64" },      "drop from 2001:db8::/64" },
                { { "comment", "ssh scanners" },            "comment 'ssh scanners'" },
                { { "comment", "it's" },                    "comment 'it'\\''s'" },
                { { "comment", "" },                        "comment ''" },
                { { "comment", "a=b" },                     "comment 'a=b'" },
                { { "priority", "-5" },                     "priority -5" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *line = words_to_line((char *const *) cases[i].words);
                CHECK(line && streq(line, cases[i].line), "quoted as %s, expected %s", strna(line), cases[i].line);
        }
}

/* Random rules from a seeded generator: every key, any mix, comments of awkward characters. */
static uint64_t random_next(uint64_t *state) {
        uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

static const char *random_pick(uint64_t *state, const char *const *choices, size_t n) {
        return choices[random_next(state) % n];
}

static void random_comment(uint64_t *state, char *buf, size_t size) {
        static const char *const pieces[] = {
                "a", "Z", "0", " ", "  ", "'", "\"", "\\", "$", "`", "#", "-", "--", "=", ";", "&", "|", "*",
                "?", "~", "!", "(", ")", "{", "}", "[", "]", "<", ">", "%", "é", "☃", "ssh", "port", "from",
        };
        size_t n = 0, k = random_next(state) % 24;

        buf[0] = '\0';
        for (size_t i = 0; i < k; i++) {
                const char *p = random_pick(state, pieces, ELEMENTSOF(pieces));
                if (n + strlen(p) + 1 >= size)
                        break;
                strcpy(buf + n, p);
                n += strlen(p);
        }
}

static void test_round_trip_random(void) {
        static const char *const addresses[] = {
                "192.0.2.1", "192.0.2.0/24", "0.0.0.0/0", "10.0.0.0/8", "198.51.100.255",
                "2001:db8::1", "2001:db8::/64", "::/0", "::1", "fe80::/10", "2001:db8:0:1:2:3:4:5",
        };
        static const char *const protocols[] = { "tcp", "udp", "sctp", "icmp", "icmpv6", "0", "47", "255" };
        static const char *const ports[] = { "0", "22", "65535", "8000-8100", "1-65535", "443" };
        static const char *const interfaces[] = { "eth0", "veth-fw", "wlp2s0", "br-lan.10", "x" };
        static const char *const groups[] = { "default", "web", "fail2ban", "a.b-c_D9" };
        static const char *const sets[] = { "spamhaus", "scanners", "web-servers.v6", "A_1" };
        uint64_t seed = 20241125, state = seed;

        for (unsigned i = 0; i < 3000; i++) {
                _cleanup_(rule_fields_clear) RuleFields f = {};
                char comment[160], what[64];
                uint64_t bits = random_next(&state), expires = 0;
                int r = 0;

                r = rule_fields_add_string(&f, "action", bits & 1 ? "drop" : "pass");
                if (r >= 0 && (bits & 2))
                        r = rule_fields_add_string(&f, "source", random_pick(&state, addresses, ELEMENTSOF(addresses)));
                if (r >= 0 && (bits & 4))
                        r = rule_fields_add_string(&f, "destination",
                                                   random_pick(&state, addresses, ELEMENTSOF(addresses)));
                if (r >= 0 && (bits & 8))
                        r = rule_fields_add_string(&f, "protocol", random_pick(&state, protocols, ELEMENTSOF(protocols)));
                if (r >= 0 && (bits & 16))
                        r = rule_fields_add_string(&f, "source-port", random_pick(&state, ports, ELEMENTSOF(ports)));
                if (r >= 0 && (bits & 32))
                        r = rule_fields_add_string(&f, "port", random_pick(&state, ports, ELEMENTSOF(ports)));
                if (r >= 0 && (bits & 64))
                        r = rule_fields_add_uint32(&f, "icmp-type", random_next(&state) % 256);
                if (r >= 0 && (bits & 128))
                        r = rule_fields_add_uint32(&f, "vlan", random_next(&state) % 4096);
                if (r >= 0 && (bits & 256))
                        r = rule_fields_add_string(&f, "interface",
                                                   random_pick(&state, interfaces, ELEMENTSOF(interfaces)));
                if (r >= 0 && (bits & 512)) {
                        random_comment(&state, comment, sizeof(comment));
                        r = rule_fields_add_string(&f, "comment", comment);
                }
                if (r >= 0 && (bits & 8192))
                        r = rule_fields_add_string(&f, "source-set", random_pick(&state, sets, ELEMENTSOF(sets)));
                if (r >= 0 && (bits & 16384))
                        r = rule_fields_add_string(&f, "destination-set", random_pick(&state, sets, ELEMENTSOF(sets)));
                if (r < 0)
                        abort();
                if (bits & 1024)
                        expires = NOW_USEC + random_next(&state) % (UINT64_C(1) << 40);
                add_returned_keys(&f, i + 1,
                                  bits & 2048 ? (int32_t) (uint32_t) random_next(&state) : 0,
                                  !(bits & 4096),
                                  random_pick(&state, groups, ELEMENTSOF(groups)),
                                  expires);

                snprintf(what, sizeof(what), "random rule %u (seed %" PRIu64 ")", i, seed);
                /* The shell is slow to start: every 20th rule goes through it. */
                check_round_trip(what, &f, i % 20 == 0);
        }
}

int main(void) {
        test_parse_good();
        test_parse_bad();
        test_round_trip_fixed();
        test_round_trip_sets();
        test_rate_limit_words();
        test_words_of_returned_rule();
        test_to_words_errors();
        test_split_line();
        test_quoting();
        test_round_trip_random();

        if (failures > 0) {
                fprintf(stderr, "%u of %u checks failed\n", failures, checks);
                return 1;
        }
        printf("all %u checks passed\n", checks);
        return 0;
}
