/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of daemon/rule.c: every setter with good and bad values (and the
 * field each refusal names), rule_validate() on field combinations, the order
 * key, and the rule set: ids, the two slot spaces, their limits, the slot
 * quarantine, steal/restore, and a million block rules.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "rule.h"
#include "test-util.h"

static double now_sec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* ---- Setters ------------------------------------------------------------------------------ */

typedef int (*string_setter)(Rule *r, const char *s, struct rule_error *e);

static const struct {
        const char *field;
        string_setter set;
        unsigned bit;
} string_setters[] = {
        { "action",      rule_set_action,      0 },
        { "source",      rule_set_source,      RULE_MATCH_SOURCE },
        { "destination", rule_set_destination, RULE_MATCH_DESTINATION },
        { "protocol",    rule_set_protocol,    RULE_MATCH_PROTOCOL },
        { "source-port", rule_set_source_port, RULE_MATCH_SOURCE_PORT },
        { "port",        rule_set_port,        RULE_MATCH_PORT },
        { "interface",   rule_set_interface,   RULE_MATCH_INTERFACE },
        { "comment",     rule_set_comment,     0 },
        { "group",       rule_set_group,       0 },
};

static string_setter setter_of(const char *field, unsigned *ret_bit) {
        for (size_t i = 0; i < ELEMENTSOF(string_setters); i++)
                if (streq(field, string_setters[i].field)) {
                        if (ret_bit)
                                *ret_bit = string_setters[i].bit;
                        return string_setters[i].set;
                }
        return NULL;
}

/* The field's value as text, canonical, to compare with what a good case expects. */
static const char *field_text(const Rule *r, const char *field, char buf[static 64]) {
        if (streq(field, "action"))
                return pf_action_to_string(r->action);
        if (streq(field, "source"))
                return prefix_format(&r->source, buf);
        if (streq(field, "destination"))
                return prefix_format(&r->destination, buf);
        if (streq(field, "protocol"))
                return rule_protocol_to_string(r->protocol, buf);
        if (streq(field, "source-port"))
                return port_range_to_string(&r->source_port, buf);
        if (streq(field, "port"))
                return port_range_to_string(&r->port, buf);
        if (streq(field, "interface"))
                return r->interface;
        if (streq(field, "comment"))
                return r->comment ?: "(none)";
        if (streq(field, "group"))
                return r->group;
        return "?";
}

#define LONG_COMMENT_256                                                                          \
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                        \
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                        \
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                        \
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define GROUP_64 "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/*
 * value == NULL: the setter is given NULL. good: the canonical text it must
 * leave (NULL = the value itself). bad: the exact reason, or when it starts
 * with '~' a part of it.
 */
static const struct {
        const char *field;
        const char *value;
        const char *good;
        const char *bad;
} string_cases[] = {
        { "action", "drop", NULL, NULL },
        { "action", "pass", NULL, NULL },
        { "action", "DROP", NULL, "unknown action 'DROP' (drop, pass or rate-limit)" },
        { "action", "reject", NULL, "unknown action 'reject' (drop, pass or rate-limit)" },
        { "action", "", NULL, "unknown action '' (drop, pass or rate-limit)" },
        { "action", "drop ", NULL, "~unknown action" },
        { "action", NULL, NULL, "no value given" },

        { "source", "192.0.2.0/24", NULL, NULL },
        { "source", "192.0.2.7", NULL, NULL },
        { "source", "192.0.2.7/32", "192.0.2.7", NULL },
        { "source", "0.0.0.0/0", NULL, NULL },
        { "source", "2001:db8::/32", NULL, NULL },
        { "source", "2001:DB8:0::1", "2001:db8::1", NULL },
        { "source", "::/0", NULL, NULL },
        { "source", "::ffff:192.0.2.1", NULL, NULL },
        { "source", "192.0.2.1/24", NULL,
          "'192.0.2.1/24': host bits set past the prefix length (did you mean 192.0.2.0/24?)" },
        { "source", "2001:db8::1/32", NULL, "~(did you mean 2001:db8::/32?)" },
        { "source", "1.2.3", NULL, "'1.2.3': not an IPv4 or IPv6 address" },
        { "source", "", NULL, "'': not an IPv4 or IPv6 address" },
        { "source", "192.0.2.0/33", NULL, "~invalid prefix length" },
        { "source", "::/129", NULL, "~invalid prefix length" },
        { "source", "192.0.2.0/024", NULL, "~invalid prefix length" },
        { "source", "fe80::1%eth0", NULL, "~not an IPv4 or IPv6 address" },
        { "source", " 192.0.2.1", NULL, "~not an IPv4 or IPv6 address" },
        { "source", "192.0.2.1\n", NULL, "'192.0.2.1?': not an IPv4 or IPv6 address" },
        { "source", NULL, NULL, "no value given" },
        { "destination", "198.51.100.0/24", NULL, NULL },
        { "destination", "2001:db8:1::/48", NULL, NULL },
        { "destination", "198.51.100.1/24", NULL, "~host bits set" },
        { "destination", "example.com", NULL, "'example.com': not an IPv4 or IPv6 address" },

        { "protocol", "tcp", NULL, NULL },
        { "protocol", "udp", NULL, NULL },
        { "protocol", "sctp", NULL, NULL },
        { "protocol", "icmp", NULL, NULL },
        { "protocol", "icmpv6", NULL, NULL },
        { "protocol", "6", "tcp", NULL },
        { "protocol", "17", "udp", NULL },
        { "protocol", "132", "sctp", NULL },
        { "protocol", "1", "icmp", NULL },
        { "protocol", "58", "icmpv6", NULL },
        { "protocol", "0", NULL, NULL },
        { "protocol", "47", NULL, NULL },
        { "protocol", "255", NULL, NULL },
        { "protocol", "foo", NULL, "unknown protocol 'foo' (tcp, udp, sctp, icmp, icmpv6 or 0-255)" },
        { "protocol", "TCP", NULL, "unknown protocol 'TCP' (tcp, udp, sctp, icmp, icmpv6 or 0-255)" },
        { "protocol", "256", NULL, "unknown protocol '256' (tcp, udp, sctp, icmp, icmpv6 or 0-255)" },
        { "protocol", "-1", NULL, "~unknown protocol '-1'" },
        { "protocol", "+6", NULL, "~unknown protocol '+6'" },
        { "protocol", "06", NULL, "~unknown protocol '06'" },
        { "protocol", "00", NULL, "~unknown protocol '00'" },
        { "protocol", "", NULL, "~unknown protocol ''" },
        { "protocol", " 6", NULL, "~unknown protocol ' 6'" },
        { "protocol", "6 ", NULL, "~unknown protocol '6 '" },
        { "protocol", "0x6", NULL, "~unknown protocol '0x6'" },
        { "protocol", "99999999999999999999", NULL, "~unknown protocol" },
        { "protocol", "icmp6", NULL, "~unknown protocol 'icmp6'" },
        { "protocol", "tcp\x1b[31m", NULL, "~unknown protocol 'tcp?[31m'" },
        { "protocol", NULL, NULL, "no value given" },

        { "port", "22", NULL, NULL },
        { "port", "0", NULL, NULL },
        { "port", "65535", NULL, NULL },
        { "port", "8000-8100", NULL, NULL },
        { "port", "0-65535", NULL, NULL },
        { "port", "22-22", "22", NULL },
        { "port", "70000", NULL, "'70000' is not a port number (0-65535)" },
        { "port", "65536", NULL, "'65536' is not a port number (0-65535)" },
        { "port", "9000-8000", NULL, "port range 9000-8000 is reversed" },
        { "port", "1-70000", NULL, "'70000' is not a port number (0-65535)" },
        { "port", "99999999999999999999", NULL, "'99999999999999999999' is not a port number (0-65535)" },
        { "port", "ssh", NULL, "'ssh' is not a port number (0-65535)" },
        { "port", "022", NULL, "'022' is not a port number (0-65535, no leading zeros)" },
        { "port", "1-022", NULL, "'022' is not a port number (0-65535, no leading zeros)" },
        { "port", "", NULL, "'' is not a port or port range (N or N-M, 0-65535)" },
        { "port", "-", NULL, "~is not a port or port range" },
        { "port", "22-", NULL, "'22-' is not a port or port range (N or N-M, 0-65535)" },
        { "port", "-22", NULL, "~is not a port or port range" },
        { "port", "1-2-3", NULL, "'2-3' is not a port number (0-65535)" },
        { "port", "1--2", NULL, "~is not a port" },
        { "port", " 22", NULL, "~is not a port number" },
        { "port", "22 ", NULL, "~is not a port number" },
        { "port", "+22", NULL, "~is not a port number" },
        { "port", "1 - 2", NULL, "~is not a port number" },
        { "port", "22,23", NULL, "~is not a port number" },
        { "port", NULL, NULL, "no value given" },
        { "source-port", "1024-65535", NULL, NULL },
        { "source-port", "53", NULL, NULL },
        { "source-port", "2-1", NULL, "port range 2-1 is reversed" },
        { "source-port", "x", NULL, "'x' is not a port number (0-65535)" },

        { "interface", "eth0", NULL, NULL },
        { "interface", "veth-pf.0", NULL, NULL },
        { "interface", "abcdefghijklmno", NULL, NULL },
        { "interface", "a", NULL, NULL },
        { "interface", "wlp2s0@x", NULL, NULL },
        { "interface", "abcdefghijklmnop", NULL, "'abcdefghijklmnop' is longer than 15 bytes" },
        { "interface", "", NULL, "the interface name is empty" },
        { "interface", ".", NULL, "'.' is not an interface name" },
        { "interface", "..", NULL, "'..' is not an interface name" },
        { "interface", "...", NULL, NULL },
        { "interface", "a/b", NULL, "'a/b' contains '/', which interface names cannot hold" },
        { "interface", "eth0:1", NULL, "'eth0:1' contains ':', which interface names cannot hold" },
        { "interface", "eth 0", NULL, "'eth 0' contains white space, which interface names cannot hold" },
        { "interface", "eth\t0", NULL, "~contains white space" },
        { "interface", "eth0\n", NULL, "~contains white space" },
        { "interface", "eth\x01", NULL, "~contains a control character" },
        { "interface", "eth\x7f", NULL, "~contains a control character" },
        { "interface", "eth\xff", NULL, "~is not valid UTF-8" },
        { "interface", "eth\xc3", NULL, "~is not valid UTF-8" },
        { "interface", "\xc3\xa9th0", NULL, NULL },    /* éth0: valid UTF-8 */
        { "interface", NULL, NULL, "no value given" },

        { "comment", "ssh scanners", NULL, NULL },
        { "comment", "", "(none)", NULL },
        { "comment", "r\xc3\xa8gle \xe2\x80\x94 \xf0\x9f\x94\xa5", NULL, NULL },
        { "comment", "quotes \" and \\ and /", NULL, NULL },
        { "comment", LONG_COMMENT_256, NULL, NULL },
        { "comment", LONG_COMMENT_256 "x", NULL, "the comment is 257 bytes long, more than 256" },
        { "comment", "two\nlines", NULL, "the comment contains a control character (U+000A at byte 3)" },
        { "comment", "tab\there", NULL, "the comment contains a control character (U+0009 at byte 3)" },
        { "comment", "cr\r", NULL, "~control character (U+000D" },
        { "comment", "esc\x1b[2J", NULL, "~control character (U+001B" },
        { "comment", "del\x7f", NULL, "~control character (U+007F" },
        { "comment", "c1 \xc2\x85", NULL, "~control character (U+0085" },
        { "comment", "bad \xff utf8", NULL, "the comment is not valid UTF-8 (at byte 4)" },
        { "comment", "overlong \xc0\xaf", NULL, "~is not valid UTF-8" },
        { "comment", "surrogate \xed\xa0\x80", NULL, "~is not valid UTF-8" },
        { "comment", "past U+10FFFF \xf4\x90\x80\x80", NULL, "~is not valid UTF-8" },
        { "comment", "cut \xe2\x80", NULL, "~is not valid UTF-8" },
        { "comment", NULL, NULL, "no value given" },

        { "group", "default", NULL, NULL },
        { "group", "fail2ban", NULL, NULL },
        { "group", "a", NULL, NULL },
        { "group", "Team_1.x-y", NULL, NULL },
        { "group", GROUP_64, NULL, NULL },
        { "group", GROUP_64 "x", NULL, "~is longer than 64 bytes" },
        { "group", "", NULL, "the group name is empty" },
        { "group", "a b", NULL, "'a b' contains byte 0x20 (group names use A-Z a-z 0-9 _ . -)" },
        { "group", "a/b", NULL, "'a/b' contains '/' (group names use A-Z a-z 0-9 _ . -)" },
        { "group", "caf\xc3\xa9", NULL, "'caf?\?' contains byte 0xc3 (group names use A-Z a-z 0-9 _ . -)" },
        { "group", "a\n", NULL, "~contains byte 0x0a" },
        { "group", "x:y", NULL, "~contains ':'" },
        { "group", NULL, NULL, "no value given" },
};

/* Compares every field, strings by content. */
static bool rule_equal(const Rule *a, const Rule *b) {
        return a->id == b->id && a->action == b->action && a->match == b->match &&
                memcmp(&a->source, &b->source, sizeof(a->source)) == 0 &&
                memcmp(&a->destination, &b->destination, sizeof(a->destination)) == 0 &&
                a->protocol == b->protocol &&
                a->source_port.first == b->source_port.first && a->source_port.last == b->source_port.last &&
                a->port.first == b->port.first && a->port.last == b->port.last &&
                a->icmp_type == b->icmp_type && a->vlan == b->vlan &&
                memcmp(a->interface, b->interface, sizeof(a->interface)) == 0 &&
                a->priority == b->priority && a->enabled == b->enabled &&
                streq_ptr(a->comment, b->comment) && streq_ptr(a->group, b->group) &&
                a->created_usec == b->created_usec && a->expires_usec == b->expires_usec && a->slot == b->slot;
}

/* A rule with every field set to something no case sets, to see that a refusal changes nothing. */
static Rule *make_full_rule(void) {
        Rule *r = rule_new();
        struct rule_error e;

        require(r, "oom");
        require(rule_set_action(r, "pass", &e) == 0 &&
                rule_set_source(r, "203.0.113.0/25", &e) == 0 &&
                rule_set_destination(r, "203.0.113.128/25", &e) == 0 &&
                rule_set_protocol(r, "udp", &e) == 0 &&
                rule_set_source_port(r, "5000-5001", &e) == 0 &&
                rule_set_port(r, "4000", &e) == 0 &&
                rule_set_icmp_type(r, 3, &e) == 0 &&
                rule_set_vlan(r, 7, &e) == 0 &&
                rule_set_interface(r, "lo", &e) == 0 &&
                rule_set_comment(r, "before", &e) == 0 &&
                rule_set_group(r, "before", &e) == 0, "make_full_rule");
        r->id = 77;
        r->priority = -3;
        r->enabled = false;
        r->created_usec = 11;
        r->expires_usec = 12;
        r->slot = 13;
        return r;
}

static void test_rule_new(void) {
        _cleanup_(rule_freep) Rule *r = rule_new();

        require(r, "oom");
        check(r->action == PF_ACTION_DROP, "default action");
        check(r->enabled, "not enabled");
        check(r->group && streq(r->group, RULE_GROUP_DEFAULT), "group %s", strna(r->group));
        check(r->match == 0 && r->id == 0 && r->priority == 0 && !r->comment && r->expires_usec == 0,
              "not empty");
        check(rule_validate(r, NULL) == 0, "a new rule does not validate");
        check(!rule_is_block(r), "a rule matching nothing is a block");
        check(rule_free(NULL) == NULL, "rule_free(NULL)");
}

static void test_string_setters(void) {
        for (size_t i = 0; i < ELEMENTSOF(string_cases); i++) {
                const char *field = string_cases[i].field, *value = string_cases[i].value;
                _cleanup_(rule_freep) Rule *r = make_full_rule(), *before = NULL;
                struct rule_error e = { .field = "unset", .reason = "unset" };
                char shown[64] = "", buf[64];
                unsigned bit = 0;
                string_setter set = setter_of(field, &bit);
                int k;

                require(set, "no setter for %s", field);
                require(rule_copy(r, &before) == 0, "rule_copy");
                (void) snprintf(shown, sizeof(shown), "%s", value ?: "(null)");

                /* Good values are checked on a fresh rule, so the match bit shows the setter set it. */
                if (!string_cases[i].bad) {
                        _cleanup_(rule_freep) Rule *fresh = rule_new();

                        require(fresh, "oom");
                        k = set(fresh, value, &e);
                        if (!check(k == 0, "%s '%s' refused: %s: %s", field, shown, e.field, e.reason))
                                continue;
                        check(streq(field_text(fresh, field, buf), string_cases[i].good ?: value),
                              "%s '%s' gave '%s'", field, shown, field_text(fresh, field, buf));
                        check(fresh->match == bit, "%s '%s': match 0x%x, want 0x%x", field, shown, fresh->match, bit);
                        continue;
                }

                k = set(r, value, &e);
                if (!check(k == -EINVAL, "%s '%s' accepted (%d)", field, shown, k))
                        continue;
                check(e.field && streq(e.field, field), "%s '%s': error names field %s", field, shown, e.field);
                if (string_cases[i].bad[0] == '~')
                        check(strstr(e.reason, string_cases[i].bad + 1),
                              "%s '%s': reason \"%s\" lacks \"%s\"", field, shown, e.reason, string_cases[i].bad + 1);
                else
                        check(streq(e.reason, string_cases[i].bad),
                              "%s '%s': reason \"%s\", want \"%s\"", field, shown, e.reason, string_cases[i].bad);
                check(rule_equal(r, before), "%s '%s': a refused value changed the rule", field, shown);
                /* Messages go into D-Bus errors: printable ASCII only, whatever the value. */
                for (const char *c = e.reason; *c; c++)
                        if (!check(*c >= 0x20 && *c < 0x7f, "%s '%s': reason has byte 0x%02x", field, shown,
                                   (unsigned char) *c))
                                break;

                /* A NULL error pointer is allowed. */
                check(set(r, value, NULL) == -EINVAL, "%s '%s' without an error struct", field, shown);
        }
}

static void test_uint_setters(void) {
        static const struct {
                bool vlan;
                uint32_t value;
                const char *bad;
        } cases[] = {
                { false, 0, NULL },
                { false, 8, NULL },
                { false, 255, NULL },
                { false, 256, "256 is not an ICMP type (0-255)" },
                { false, UINT32_MAX, "4294967295 is not an ICMP type (0-255)" },
                { true, 0, NULL },
                { true, 1, NULL },
                { true, 4095, NULL },
                { true, 4096, "4096 is not a VLAN id (0-4095)" },
                { true, 65535, "65535 is not a VLAN id (0-4095)" },
                { true, UINT32_MAX, "4294967295 is not a VLAN id (0-4095)" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(rule_freep) Rule *r = make_full_rule(), *before = NULL, *fresh = rule_new();
                const char *field = cases[i].vlan ? "vlan" : "icmp-type";
                struct rule_error e = {};
                int k;

                require(fresh && rule_copy(r, &before) == 0, "oom");
                if (!cases[i].bad) {
                        k = cases[i].vlan ? rule_set_vlan(fresh, cases[i].value, &e)
                                          : rule_set_icmp_type(fresh, cases[i].value, &e);
                        check(k == 0, "%s %" PRIu32 " refused: %s", field, cases[i].value, e.reason);
                        check(cases[i].vlan ? fresh->vlan == cases[i].value && fresh->match == RULE_MATCH_VLAN
                                            : fresh->icmp_type == cases[i].value && fresh->match == RULE_MATCH_ICMP_TYPE,
                              "%s %" PRIu32 " not stored", field, cases[i].value);
                        continue;
                }
                k = cases[i].vlan ? rule_set_vlan(r, cases[i].value, &e) : rule_set_icmp_type(r, cases[i].value, &e);
                check(k == -EINVAL && e.field && streq(e.field, field) && streq(e.reason, cases[i].bad),
                      "%s %" PRIu32 ": %d %s: %s", field, cases[i].value, k, strna(e.field), e.reason);
                check(rule_equal(r, before), "%s %" PRIu32 ": a refused value changed the rule", field, cases[i].value);
        }
}

/* Setting a field again replaces it; setting the comment to "" removes it. */
static void test_setters_replace(void) {
        _cleanup_(rule_freep) Rule *r = make_full_rule();
        struct rule_error e;

        check(rule_set_comment(r, "", &e) == 0 && r->comment == NULL, "empty comment kept");
        check(rule_set_comment(r, "again", &e) == 0 && streq(r->comment, "again"), "comment");
        check(rule_set_group(r, "other", &e) == 0 && streq(r->group, "other"), "group");
        check(rule_set_interface(r, "abcdefghijklmno", &e) == 0 && rule_set_interface(r, "x", &e) == 0 &&
              streq(r->interface, "x") && r->interface[2] == '\0', "interface not cleared");
        check(rule_set_port(r, "1-2", &e) == 0 && r->port.first == 1 && r->port.last == 2, "port");
}

static void test_copy(void) {
        _cleanup_(rule_freep) Rule *r = make_full_rule(), *c = NULL, *plain = rule_new(), *c2 = NULL;

        require(plain, "oom");
        require(rule_copy(r, &c) == 0, "rule_copy");
        check(rule_equal(r, c), "copy differs");
        check(c->comment != r->comment && c->group != r->group, "strings shared");
        c->comment[0] = 'X';
        c->group[0] = 'X';
        check(streq(r->comment, "before") && streq(r->group, "before"), "copy is shallow");

        plain->group = (free(plain->group), NULL);
        require(rule_copy(plain, &c2) == 0, "rule_copy without strings");
        check(!c2->comment && !c2->group, "NULL strings");
}

/* ---- Validation --------------------------------------------------------------------------- */

/* Applies "field=value" items; numbers for icmp-type and vlan. */
static void apply_items(Rule *r, const char *const *items, const char *what) {
        for (size_t i = 0; items[i]; i++) {
                const char *eq = strchr(items[i], '=');
                char field[32];
                struct rule_error e = {};
                int k;

                require(eq && (size_t) (eq - items[i]) < sizeof(field), "%s: bad item %s", what, items[i]);
                memcpy(field, items[i], (size_t) (eq - items[i]));
                field[eq - items[i]] = '\0';

                if (streq(field, "icmp-type"))
                        k = rule_set_icmp_type(r, (uint32_t) strtoul(eq + 1, NULL, 10), &e);
                else if (streq(field, "vlan"))
                        k = rule_set_vlan(r, (uint32_t) strtoul(eq + 1, NULL, 10), &e);
                else {
                        string_setter set = setter_of(field, NULL);

                        require(set, "%s: no field %s", what, field);
                        k = set(r, eq + 1, &e);
                }
                require(k == 0, "%s: setting %s: %s", what, items[i], e.reason);
        }
}

#define ITEMS(...) ((const char *const[]) { __VA_ARGS__, NULL })
#define NO_ITEMS ((const char *const[]) { NULL })

static void test_validate(void) {
        const struct {
                const char *what;
                const char *const *items;
                const char *field;      /* NULL: valid */
                const char *reason;     /* a part of it */
        } cases[] = {
                { "nothing: matches all",       NO_ITEMS, NULL, NULL },
                { "source alone",               ITEMS("source=192.0.2.0/24"), NULL, NULL },
                { "everything v4",              ITEMS("source=192.0.2.0/24", "destination=198.51.100.1", "protocol=tcp",
                                                      "source-port=1024-65535", "port=22", "vlan=10", "interface=eth0",
                                                      "comment=x", "group=g", "action=pass"), NULL, NULL },
                { "everything v6",              ITEMS("source=2001:db8::/32", "destination=2001:db8:1::1", "protocol=udp",
                                                      "port=53"), NULL, NULL },
                { "sctp with ports",            ITEMS("protocol=sctp", "port=3868", "source-port=1-2"), NULL, NULL },
                { "protocol 6 with a port",     ITEMS("protocol=6", "port=80"), NULL, NULL },
                { "protocol 17 with a port",    ITEMS("protocol=17", "source-port=53"), NULL, NULL },
                { "port alone",                 ITEMS("port=22"), "port", "a port needs protocol tcp, udp or sctp" },
                { "source-port alone",          ITEMS("source-port=22"), "source-port", "needs protocol tcp, udp or sctp" },
                { "port with icmp",             ITEMS("protocol=icmp", "port=22"), "port",
                                                "protocol icmp has no ports (only tcp, udp and sctp do)" },
                { "port with gre",              ITEMS("protocol=47", "port=22"), "port", "protocol 47 has no ports" },
                { "source-port with icmpv6",    ITEMS("protocol=icmpv6", "source-port=1"), "source-port",
                                                "protocol icmpv6 has no ports" },
                { "port with protocol 0",       ITEMS("protocol=0", "port=1"), "port", "protocol 0 has no ports" },
                { "icmp-type alone",            ITEMS("icmp-type=8"), "icmp-type",
                                                "an ICMP type needs protocol icmp or icmpv6" },
                { "icmp-type with tcp",         ITEMS("protocol=tcp", "icmp-type=8"), "icmp-type",
                                                "protocol tcp has no ICMP types" },
                { "icmp-type with icmp",        ITEMS("protocol=icmp", "icmp-type=8"), NULL, NULL },
                { "icmp-type with 1",           ITEMS("protocol=1", "icmp-type=0"), NULL, NULL },
                { "icmp-type with icmpv6",      ITEMS("protocol=icmpv6", "icmp-type=128"), NULL, NULL },
                { "icmp-type with 58",          ITEMS("protocol=58", "icmp-type=255"), NULL, NULL },
                { "icmp with v4 addresses",     ITEMS("protocol=icmp", "source=192.0.2.1", "destination=198.51.100.0/24",
                                                      "icmp-type=8"), NULL, NULL },
                { "icmpv6 with v6 addresses",   ITEMS("protocol=icmpv6", "source=2001:db8::1", "destination=::/0"), NULL, NULL },
                { "icmp with a v6 source",      ITEMS("protocol=icmp", "source=2001:db8::1"), "protocol",
                                                "protocol icmp needs IPv4 addresses, but the source is IPv6" },
                { "icmp with a v6 destination", ITEMS("protocol=icmp", "destination=2001:db8::1"), "protocol",
                                                "protocol icmp needs IPv4 addresses, but the destination is IPv6" },
                { "protocol 1 with v6",         ITEMS("protocol=1", "destination=::/0"), "protocol", "needs IPv4" },
                { "icmpv6 with a v4 source",    ITEMS("protocol=icmpv6", "source=192.0.2.1"), "protocol",
                                                "protocol icmpv6 needs IPv6 addresses, but the source is IPv4" },
                { "icmpv6 with a v4 dest",      ITEMS("protocol=icmpv6", "destination=0.0.0.0/0"), "protocol",
                                                "but the destination is IPv4" },
                { "icmp without addresses",     ITEMS("protocol=icmp"), NULL, NULL },
                { "mixed families",             ITEMS("source=192.0.2.1", "destination=2001:db8::1"), "destination",
                                                "the destination is IPv6 but the source is IPv4" },
                { "mixed families, other way",  ITEMS("source=2001:db8::/32", "destination=0.0.0.0/0"), "destination",
                                                "the destination is IPv4 but the source is IPv6" },
                { "mapped v6 with v4",          ITEMS("source=::ffff:192.0.2.1", "destination=192.0.2.2"), "destination",
                                                "IPv4 but the source is IPv6" },
                { "destination alone",          ITEMS("destination=192.0.2.0/24"), NULL, NULL },
                { "vlan alone",                 ITEMS("vlan=4095"), NULL, NULL },
                { "interface alone",            ITEMS("interface=eth0"), NULL, NULL },
                { "protocol alone",             ITEMS("protocol=255"), NULL, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(rule_freep) Rule *r = rule_new();
                struct rule_error e = {};
                int k;

                require(r, "oom");
                apply_items(r, cases[i].items, cases[i].what);
                k = rule_validate(r, &e);
                if (!cases[i].field) {
                        check(k == 0, "%s: refused: %s: %s", cases[i].what, strna(e.field), e.reason);
                        continue;
                }
                check(k == -EINVAL && e.field && streq(e.field, cases[i].field) && strstr(e.reason, cases[i].reason),
                      "%s: got %d, field %s, reason \"%s\"; want field %s, \"%s\"", cases[i].what, k, strna(e.field),
                      e.reason, cases[i].field, cases[i].reason);
        }
}

/* Rules built in code, not through the setters: validate() catches what the setters would have. */
static void test_validate_raw(void) {
        static const char *const fields[] = {
                "action", "source", "source", "source", "destination", "port", "source-port", "vlan", "interface",
                "interface", "interface", "comment", "comment", "group", "group", "group", "rule",
        };

        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                _cleanup_(rule_freep) Rule *r = make_full_rule();
                struct rule_error e = {};
                int k;

                r->match &= ~(unsigned) RULE_MATCH_ICMP_TYPE;   /* udp: no ICMP type */
                require(rule_validate(r, &e) == 0, "the full rule does not validate: %s: %s", strna(e.field), e.reason);
                switch (i) {
                case 0: r->action = (enum pf_action) 7; break;
                case 1: r->source.addr[3] = 1; break;                   /* host bit past /25 */
                case 2: r->source.prefixlen = 33; break;
                case 3: r->source.family = AF_UNSPEC; break;
                case 4: r->destination.addr[5] = 1; break;              /* past an IPv4 address */
                case 5: r->port = (struct port_range) { 10, 9 }; break;
                case 6: r->source_port = (struct port_range) { 2, 1 }; break;
                case 7: r->vlan = 4096; break;
                case 8: memset(r->interface, 'a', sizeof(r->interface)); break;
                case 9: r->interface[0] = '\0'; break;
                case 10: strcpy(r->interface, "a/b"); break;
                case 11: r->comment[0] = '\n'; break;
                case 12: {
                        free(r->comment);
                        r->comment = malloc(RULE_COMMENT_MAX + 2);
                        require(r->comment, "oom");
                        memset(r->comment, 'c', RULE_COMMENT_MAX + 1);
                        r->comment[RULE_COMMENT_MAX + 1] = '\0';
                        break;
                }
                case 13: r->group = (free(r->group), NULL); break;
                case 14: r->group[0] = '\0'; break;
                case 15: r->group[0] = ' '; break;
                case 16: r->match |= 1u << 12; break;
                }
                k = rule_validate(r, &e);
                check(k == -EINVAL && e.field && streq(e.field, fields[i]), "raw case %zu: %d, field %s (%s), want %s",
                      i, k, strna(e.field), e.reason, fields[i]);
        }
}

static void test_is_block(void) {
        const struct {
                const char *const *items;
                int priority;
                bool enabled;
                bool block;
        } cases[] = {
                { ITEMS("source=192.0.2.1"), 0, true, true },
                { ITEMS("source=2001:db8::/32"), 0, true, true },
                { ITEMS("source=192.0.2.1", "action=pass"), 0, true, true },
                { ITEMS("source=192.0.2.1"), -100, false, true },
                { ITEMS("source=192.0.2.1", "comment=x", "group=fail2ban"), INT32_MAX, true, true },
                { NO_ITEMS, 0, true, false },
                { ITEMS("destination=192.0.2.1"), 0, true, false },
                { ITEMS("source=192.0.2.1", "destination=192.0.2.2"), 0, true, false },
                { ITEMS("source=192.0.2.1", "protocol=tcp"), 0, true, false },
                { ITEMS("source=192.0.2.1", "vlan=1"), 0, true, false },
                { ITEMS("source=192.0.2.1", "interface=eth0"), 0, true, false },
                { ITEMS("protocol=tcp", "port=22"), 0, true, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(rule_freep) Rule *r = rule_new();

                require(r, "oom");
                apply_items(r, cases[i].items, "is_block");
                r->priority = cases[i].priority;
                r->enabled = cases[i].enabled;
                check(rule_is_block(r) == cases[i].block, "is_block case %zu: %d", i, rule_is_block(r));
        }
}

static int compare_by_fields(const void *a, const void *b) {
        const Rule *x = *(Rule *const *) a, *y = *(Rule *const *) b;

        if (x->priority != y->priority)
                return x->priority < y->priority ? -1 : 1;
        return x->id < y->id ? -1 : x->id > y->id;
}

static int compare_by_key(const void *a, const void *b) {
        return rule_compare(*(Rule *const *) a, *(Rule *const *) b);
}

static void test_order_key(void) {
        static const struct {
                int32_t priority;
                uint32_t id;
                uint64_t key;
        } exact[] = {
                { 0, 5, 0x8000000000000005ull },
                { 0, 0, 0x8000000000000000ull },
                { INT32_MIN, 1, 0x0000000000000001ull },
                { INT32_MIN, UINT32_MAX, 0x00000000ffffffffull },
                { -1, 7, 0x7fffffff00000007ull },
                { 1, 7, 0x8000000100000007ull },
                { INT32_MAX, UINT32_MAX, 0xffffffffffffffffull },
                { -100, 3, ((uint64_t) (0x80000000u - 100u) << 32) | 3 },
        };
        static const int32_t priorities[] = { INT32_MIN, INT32_MIN + 1, -1000, -1, 0, 1, 1000, INT32_MAX - 1, INT32_MAX };
        static const uint32_t ids[] = { 1, 2, 1000, UINT32_MAX - 1, UINT32_MAX };
        Rule rules[ELEMENTSOF(priorities) * ELEMENTSOF(ids)] = {}, *a[ELEMENTSOF(rules)], *b[ELEMENTSOF(rules)];
        uint64_t seed = 1;

        for (size_t i = 0; i < ELEMENTSOF(exact); i++) {
                Rule r = { .priority = exact[i].priority, .id = exact[i].id };

                check(rule_order_key(&r) == exact[i].key, "key of (%" PRId32 ", %" PRIu32 "): %016" PRIx64 ", want %016" PRIx64,
                      exact[i].priority, exact[i].id, rule_order_key(&r), exact[i].key);
        }

        for (size_t i = 0; i < ELEMENTSOF(priorities); i++)
                for (size_t j = 0; j < ELEMENTSOF(ids); j++) {
                        size_t k = i * ELEMENTSOF(ids) + j;

                        rules[k].priority = priorities[i];
                        rules[k].id = ids[j];
                }
        /* Shuffled, then sorted both ways: the same order. */
        for (size_t i = 0; i < ELEMENTSOF(rules); i++)
                a[i] = &rules[i];
        for (size_t i = ELEMENTSOF(rules) - 1; i > 0; i--) {
                size_t j = test_random(&seed) % (i + 1);
                Rule *t = a[i];

                a[i] = a[j];
                a[j] = t;
        }
        memcpy(b, a, sizeof(a));
        qsort(a, ELEMENTSOF(a), sizeof(a[0]), compare_by_key);
        qsort(b, ELEMENTSOF(b), sizeof(b[0]), compare_by_fields);
        for (size_t i = 0; i < ELEMENTSOF(a); i++)
                check(a[i] == b[i], "order differs at %zu: (%" PRId32 ", %" PRIu32 ") vs (%" PRId32 ", %" PRIu32 ")",
                      i, a[i]->priority, a[i]->id, b[i]->priority, b[i]->id);
        for (size_t i = 0; i + 1 < ELEMENTSOF(a); i++)
                check(rule_order_key(a[i]) < rule_order_key(a[i + 1]) && rule_compare(a[i], a[i + 1]) < 0 &&
                      rule_compare(a[i + 1], a[i]) > 0, "keys not strictly increasing at %zu", i);
        check(rule_compare(a[0], a[0]) == 0, "compare with itself");
}

/* ---- Text of fields ------------------------------------------------------------------------ */

static void test_protocol_strings(void) {
        static const struct {
                uint8_t number;
                const char *text;
        } cases[] = {
                { 6, "tcp" }, { 17, "udp" }, { 132, "sctp" }, { 1, "icmp" }, { 58, "icmpv6" },
                { 0, "0" }, { 2, "2" }, { 47, "47" }, { 255, "255" }, { 100, "100" },
        };
        char buf[4];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check(streq(rule_protocol_to_string(cases[i].number, buf), cases[i].text), "protocol %u: %s",
                      cases[i].number, rule_protocol_to_string(cases[i].number, buf));

        /* Every number round-trips through the setter. */
        for (unsigned p = 0; p < 256; p++) {
                _cleanup_(rule_freep) Rule *r = rule_new();
                struct rule_error e;
                char num[4];

                require(r, "oom");
                (void) snprintf(num, sizeof(num), "%u", p);
                check(rule_set_protocol(r, rule_protocol_to_string((uint8_t) p, buf), &e) == 0 && r->protocol == p,
                      "protocol %u does not round-trip", p);
                check(rule_set_protocol(r, num, &e) == 0 && r->protocol == p, "protocol \"%s\"", num);
        }
}

static void test_port_ranges(void) {
        static const char *const refused[] = {
                "", "-", "1-", "-1", "1--2", "1-2-3", " 1", "1 ", "+1", "65536", "99999999999", "0x10", "01", "1-02",
                "2-1", "65535-0", "a", "1.0", "1,2", "\xef\xbc\x91", "1\n",
        };
        uint64_t seed = 7;
        struct port_range p;
        char buf[12];

        for (uint32_t port = 0; port <= 65535; port++) {
                struct port_range one = { (uint16_t) port, (uint16_t) port };

                port_range_to_string(&one, buf);
                if (!check(port_range_parse(buf, &p) == 0 && p.first == port && p.last == port, "port %s", buf))
                        break;
        }
        for (unsigned i = 0; i < 10000; i++) {
                uint16_t x = (uint16_t) test_random(&seed), y = (uint16_t) test_random(&seed);
                struct port_range range = { x < y ? x : y, x < y ? y : x };

                port_range_to_string(&range, buf);
                check(port_range_parse(buf, &p) == 0 && p.first == range.first && p.last == range.last,
                      "range %s", buf);
                check(range.first == range.last || strchr(buf, '-'), "range %s", buf);
        }
        p = (struct port_range) { 0, 65535 };
        check(streq(port_range_to_string(&p, buf), "0-65535"), "widest range: %s", buf);

        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                struct port_range untouched = { 1234, 4321 };

                p = untouched;
                check(port_range_parse(refused[i], &p) < 0 && p.first == 1234 && p.last == 4321,
                      "port range \"%s\" accepted or written", refused[i]);
        }
        check(port_range_parse("2-1", &p) == -EDOM, "reversed is -EDOM");
        check(port_range_parse("65536", &p) == -ERANGE, "too big is -ERANGE");
        check(port_range_parse("x", &p) == -EINVAL, "not a number is -EINVAL");
        check(port_range_parse(NULL, &p) == -EINVAL, "NULL");
}

static void test_actions(void) {
        enum pf_action a;

        check(streq(pf_action_to_string(PF_ACTION_DROP), "drop") && streq(pf_action_to_string(PF_ACTION_PASS), "pass"),
              "action names");
        check(streq(pf_action_to_string(PF_ACTION_RATE_LIMIT), "rate-limit"), "rate-limit's name");
        check(pf_action_to_string((enum pf_action) 3) == NULL, "action 3 has a name");
        check(pf_action_from_string("rate-limit", &a) == 0 && a == PF_ACTION_RATE_LIMIT, "rate-limit");
        check(pf_default_action_from_string("rate-limit", &a) == -EINVAL, "rate-limit as a default action");
        check(pf_default_action_from_string("drop", &a) == 0 && a == PF_ACTION_DROP, "drop as a default action");
        check(pf_action_from_string("drop", &a) == 0 && a == PF_ACTION_DROP, "drop");
        check(pf_action_from_string("pass", &a) == 0 && a == PF_ACTION_PASS, "pass");
        check(pf_action_from_string("Pass", &a) == -EINVAL && pf_action_from_string(NULL, &a) == -EINVAL, "bad actions");
}

/* Rate-limit rules: rate, burst and per, alone and together with the action. */
static void test_rate_limit(void) {
        const struct {
                const char *what;
                const char *action;
                uint32_t rate, burst;           /* 0: not set */
                const char *per;                /* NULL: not set */
                const char *field;              /* NULL: valid */
                const char *reason;
        } cases[] = {
                { "rate alone",            "rate-limit", 100, 0, NULL, NULL, NULL },
                { "rate, burst, per rule", "rate-limit", 1, 5, "rule", NULL, NULL },
                { "per source",            "rate-limit", 100000000, 1, "source", NULL, NULL },
                { "no rate",               "rate-limit", 0, 0, NULL, "rate", "needs a rate" },
                { "no rate, a burst",      "rate-limit", 0, 3, NULL, "rate", "needs a rate" },
                { "drop with a rate",      "drop", 10, 0, NULL, "rate", "only a rate-limit rule" },
                { "pass with a burst",     "pass", 0, 10, NULL, "burst", "only a rate-limit rule" },
                { "drop per rule",         "drop", 0, 0, "rule", "per", "only a rate-limit rule" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(rule_freep) Rule *r = rule_new();
                struct rule_error e = {};
                int k;

                require(r, "oom");
                require(rule_set_action(r, cases[i].action, &e) == 0, "%s: action", cases[i].what);
                if (cases[i].rate)
                        require(rule_set_rate(r, cases[i].rate, &e) == 0, "%s: rate: %s", cases[i].what, e.reason);
                if (cases[i].burst)
                        require(rule_set_burst(r, cases[i].burst, &e) == 0, "%s: burst: %s", cases[i].what, e.reason);
                if (cases[i].per)
                        require(rule_set_per(r, cases[i].per, &e) == 0, "%s: per: %s", cases[i].what, e.reason);
                k = rule_validate(r, &e);
                if (!cases[i].field) {
                        check(k == 0, "%s: refused: %s: %s", cases[i].what, strna(e.field), e.reason);
                        check(rule_rate_burst(r) == (cases[i].burst ?: cases[i].rate), "%s: burst %u",
                              cases[i].what, rule_rate_burst(r));
                        check(!rule_is_block(r), "%s: a block rule", cases[i].what);
                        continue;
                }
                check(k == -EINVAL && e.field && streq(e.field, cases[i].field) && strstr(e.reason, cases[i].reason),
                      "%s: got %d, field %s, reason \"%s\"", cases[i].what, k, strna(e.field), e.reason);
        }

        /* The setters' own checks. */
        {
                _cleanup_(rule_freep) Rule *r = rule_new();
                struct rule_error e = {};

                require(r, "oom");
                check(rule_set_rate(r, 0, &e) == -EINVAL && streq(e.field, "rate"), "rate 0");
                check(rule_set_rate(r, PF_RATE_MAX + 1, &e) == -EINVAL && strstr(e.reason, "1-100000000"),
                      "rate past the maximum: %s", e.reason);
                check(rule_set_burst(r, 0, &e) == -EINVAL && streq(e.field, "burst"), "burst 0");
                check(rule_set_per(r, "host", &e) == -EINVAL && strstr(e.reason, "source or rule"), "per host");
                check(rule_set_per(r, NULL, &e) == -EINVAL, "per NULL");
                check(r->rate == 0 && r->burst == 0 && r->per == PF_RATE_PER_SOURCE, "refused values were kept");
        }

        /* A source alone is a block rule, unless the action is rate-limit. */
        {
                _cleanup_(rule_freep) Rule *r = rule_new();
                struct rule_error e = {};

                require(r, "oom");
                require(rule_set_source(r, "192.0.2.0/24", &e) == 0, "source");
                check(rule_is_block(r), "drop from a source: a block rule");
                require(rule_set_action(r, "rate-limit", &e) == 0 && rule_set_rate(r, 5, &e) == 0, "rate-limit");
                check(!rule_is_block(r), "rate-limit from a source: a classifier rule");
        }
}

/* ---- The rule set -------------------------------------------------------------------------- */

static Rule *make_rule(bool block, uint32_t n) {
        Rule *r = rule_new();

        require(r, "oom");
        if (block) {
                uint32_t a = htonl(0x0a000000u + n);

                r->match = RULE_MATCH_SOURCE;
                r->source.family = AF_INET;
                r->source.prefixlen = 32;
                memcpy(r->source.addr, &a, 4);
        } else {
                r->match = RULE_MATCH_PROTOCOL | RULE_MATCH_PORT;
                r->protocol = IPPROTO_TCP;
                r->port = (struct port_range) { (uint16_t) n, (uint16_t) n };
        }
        return r;
}

static void check_sorted(const RuleSet *rs, const char *what) {
        size_t blocks = 0;

        for (size_t i = 0; i < rs->n_rules; i++) {
                if (i > 0 && !check(rs->rules[i - 1]->id < rs->rules[i]->id, "%s: ids not sorted at %zu", what, i))
                        return;
                blocks += rule_is_block(rs->rules[i]);
                if (!check(rs->rules[i]->id < rs->next_id, "%s: id %" PRIu32 " not below next_id", what, rs->rules[i]->id))
                        return;
        }
        check(blocks == rs->n_block_rules, "%s: n_block_rules %zu, counted %zu", what, rs->n_block_rules, blocks);
        check(rule_set_count_classifier(rs) == rs->n_rules - blocks, "%s: count_classifier", what);
}

static void test_set_basics(void) {
        _cleanup_(rule_set_freep) RuleSet *rs = NULL;
        Rule *r, *dup;
        uint32_t id = 0;
        int k;

        require(rule_set_new(&rs) == 0, "rule_set_new");
        check(rs->n_rules == 0 && rs->next_id == 1 && rs->default_action == PF_ACTION_PASS, "new set");
        check(rule_set_next_expiry(rs) == 0, "expiry of an empty set");

        for (uint32_t i = 1; i <= 3; i++) {
                require(rule_set_add(rs, make_rule(i != 2, i), &id) == 0, "add");
                check(id == i, "auto id %" PRIu32 ", want %" PRIu32, id, i);
        }
        check(rs->n_block_rules == 2 && rule_set_count_classifier(rs) == 1, "counts");

        /* An explicit id keeps it; next_id moves past; one in between goes in its place. */
        r = make_rule(true, 10);
        r->id = 10;
        require(rule_set_add(rs, r, &id) == 0 && id == 10, "explicit id");
        check(rs->next_id == 11, "next_id %" PRIu32, rs->next_id);
        r = make_rule(false, 5);
        r->id = 5;
        require(rule_set_add(rs, r, NULL) == 0, "id 5");
        check(rs->next_id == 11, "next_id moved back");
        check_sorted(rs, "basics");
        check(rule_set_find(rs, 5) == r && rule_set_find(rs, 4) == NULL && rule_set_find(rs, 11) == NULL &&
              rule_set_find(rs, 0) == NULL, "find");

        /* A duplicate id changes neither the rule nor the set. */
        dup = make_rule(true, 99);
        dup->id = 5;
        dup->slot = 12345;
        size_t n = rs->n_rules;
        k = rule_set_add(rs, dup, &id);
        check(k == -EEXIST && dup->id == 5 && dup->slot == 12345 && rs->n_rules == n && rs->next_id == 11 &&
              rs->n_block_rules == 3, "duplicate id: %d", k);
        dup->id = 0;
        rs->next_id = 10;       /* as if an id ahead had been loaded: the auto id collides */
        k = rule_set_add(rs, dup, &id);
        check(k == -EEXIST && dup->id == 0 && dup->slot == 12345 && rs->n_rules == n, "colliding auto id: %d", k);
        rs->next_id = 11;
        rule_free(dup);

        /* Ids at the top of the range. */
        r = make_rule(true, 1);
        r->id = UINT32_MAX;
        check(rule_set_add(rs, r, NULL) == -EINVAL && rs->n_rules == n, "id UINT32_MAX accepted");
        r->id = UINT32_MAX - 1;
        require(rule_set_add(rs, r, NULL) == 0, "id UINT32_MAX - 1");
        check(rs->next_id == UINT32_MAX, "next_id %" PRIu32, rs->next_id);
        r = make_rule(true, 2);
        k = rule_set_add(rs, r, &id);
        check(k == -E2BIG && r->id == 0 && rs->next_id == UINT32_MAX, "ids exhausted: %d", k);
        rule_free(r);

        /* Remove. */
        check(rule_set_remove(rs, 2) == 0 && rule_set_find(rs, 2) == NULL, "remove");
        check(rule_set_remove(rs, 2) == -ENOENT && rule_set_remove(rs, 424242) == -ENOENT, "remove again");
        check(rs->n_block_rules == 4 && rule_set_count_classifier(rs) == 1, "counts after remove");
        check_sorted(rs, "after remove");

        /* The earliest expiry. */
        rule_set_find(rs, 1)->expires_usec = 500;
        rule_set_find(rs, 3)->expires_usec = 300;
        rule_set_find(rs, 5)->expires_usec = 0;
        check(rule_set_next_expiry(rs) == 300, "next expiry %" PRIu64, rule_set_next_expiry(rs));
        check(rule_set_remove(rs, 3) == 0 && rule_set_next_expiry(rs) == 500, "next expiry after remove");

        check(rule_set_free(NULL) == NULL, "rule_set_free(NULL)");
        rule_set_release_slots(NULL);
}

/* Removed slots stay out of use until released, then come back. */
static void test_quarantine(void) {
        _cleanup_(rule_set_freep) RuleSet *rs = NULL;
        uint32_t freed[3], ids[10];
        bool seen[64] = {};

        require(rule_set_new(&rs) == 0, "rule_set_new");
        for (unsigned i = 0; i < 10; i++)
                require(rule_set_add(rs, make_rule(false, i), &ids[i]) == 0, "add");
        for (unsigned i = 0; i < 10; i++)
                check(rule_set_find(rs, ids[i])->slot == i, "lowest slots first: %" PRIu32, rule_set_find(rs, ids[i])->slot);

        for (unsigned i = 0; i < 3; i++) {
                freed[i] = rule_set_find(rs, ids[2 + 3 * i])->slot;
                require(rule_set_remove(rs, ids[2 + 3 * i]) == 0, "remove");
        }
        check(rs->n_quarantined_cls_slots == 3, "%" PRIu32 " quarantined", rs->n_quarantined_cls_slots);

        /* New rules get fresh slots, never the quarantined ones. */
        for (unsigned i = 0; i < 20; i++) {
                uint32_t id;
                Rule *r;

                require(rule_set_add(rs, make_rule(false, 100 + i), &id) == 0, "add");
                r = rule_set_find(rs, id);
                for (unsigned j = 0; j < 3; j++)
                        check(r->slot != freed[j], "quarantined slot %" PRIu32 " handed out", freed[j]);
        }

        rule_set_release_slots(rs);
        check(rs->n_quarantined_cls_slots == 0 && rs->n_free_cls_slots == 3, "release");
        /* Now they come back (and only they, before fresh ones). */
        for (unsigned i = 0; i < 3; i++) {
                uint32_t id;

                require(rule_set_add(rs, make_rule(false, 200 + i), &id) == 0, "add");
                seen[rule_set_find(rs, id)->slot] = true;
        }
        for (unsigned j = 0; j < 3; j++)
                check(seen[freed[j]], "released slot %" PRIu32 " not reused", freed[j]);

        /* Slot spaces are separate: a block rule's slot says nothing of classifier slots. */
        uint32_t bid;
        require(rule_set_add(rs, make_rule(true, 1), &bid) == 0, "block");
        check(rule_set_find(rs, bid)->slot == 0, "first block slot %" PRIu32, rule_set_find(rs, bid)->slot);
        require(rule_set_remove(rs, bid) == 0, "remove block");
        check(rs->n_quarantined_block_slots == 1 && rs->n_quarantined_cls_slots == 0, "block quarantine");
        require(rule_set_add(rs, make_rule(true, 2), &bid) == 0, "block");
        check(rule_set_find(rs, bid)->slot == 1, "block slot 0 reused early");
}

static void test_steal_restore(void) {
        _cleanup_(rule_set_freep) RuleSet *rs = NULL;
        uint32_t id, other;
        Rule *r, *again;
        uint32_t slot;

        require(rule_set_new(&rs) == 0, "rule_set_new");
        for (unsigned i = 0; i < 5; i++)
                require(rule_set_add(rs, make_rule(false, i), &id) == 0, "add");

        r = rule_set_steal(rs, 3);
        require(r && r->id == 3, "steal");
        slot = r->slot;
        check(!rule_set_find(rs, 3) && rs->n_rules == 4 && rule_set_steal(rs, 3) == NULL, "stolen");
        check(rs->n_quarantined_cls_slots == 1, "steal quarantines");

        /* While stolen, its slot is not handed out. */
        require(rule_set_add(rs, make_rule(false, 9), &other) == 0, "add");
        check(rule_set_find(rs, other)->slot != slot, "stolen slot handed out");

        check(rule_set_restore(rs, r) == 0, "restore");
        check(rule_set_find(rs, 3) == r && r->slot == slot && rs->n_rules == 6, "restored");
        check_sorted(rs, "restore");
        check(rule_set_restore(rs, r) == -EEXIST, "restore twice");

        /* Released after a restore: the slot stays in use. Steal/restore/steal lists it once. */
        rule_set_release_slots(rs);
        check(rs->n_free_cls_slots == 0, "a restored slot was freed");
        require(rule_set_steal(rs, 3) == r, "steal");
        require(rule_set_restore(rs, r) == 0, "restore");
        require(rule_set_steal(rs, 3) == r, "steal");
        check(rs->n_quarantined_cls_slots == 1, "listed %" PRIu32 " times", rs->n_quarantined_cls_slots);
        rule_set_release_slots(rs);
        check(rs->n_free_cls_slots == 1 && rs->free_cls_slots[0] == slot, "released once");

        /* Once released the slot may be reused: restoring then is refused. */
        check(rule_set_restore(rs, r) == -EBUSY && !rule_set_find(rs, 3), "restore after release");
        rule_free(r);

        /* A block rule restored keeps its slot in the block space. */
        require(rule_set_add(rs, make_rule(true, 1), &id) == 0, "block");
        r = rule_set_steal(rs, id);
        require(r, "steal block");
        check(rs->n_block_rules == 0, "n_block_rules after steal");
        check(rule_set_restore(rs, r) == 0 && rs->n_block_rules == 1, "restore block");
        again = rule_set_find(rs, id);
        check(again == r, "find block");
}

/* The classifier's limit, and what it takes to reuse a slot at the limit. */
static void test_classifier_limit(void) {
        _cleanup_(rule_set_freep) RuleSet *rs = NULL;
        _cleanup_free_ bool *seen = calloc(PF_RULE_SLOTS, sizeof(bool));
        uint32_t id, slot;
        Rule *r;
        int k;

        require(seen && rule_set_new(&rs) == 0, "oom");
        for (unsigned i = 0; i < PF_MAX_RULES; i++) {
                k = rule_set_add(rs, make_rule(false, i), &id);
                require(k == 0, "classifier rule %u: %d", i, k);
                r = rule_set_find(rs, id);
                check(r->slot < PF_RULE_SLOTS && !seen[r->slot], "slot %" PRIu32 " out of range or twice", r->slot);
                if (r->slot < PF_RULE_SLOTS)
                        seen[r->slot] = true;
        }
        check(rule_set_count_classifier(rs) == PF_MAX_RULES, "count");

        r = make_rule(false, 1);
        r->slot = 777777;
        k = rule_set_add(rs, r, &id);
        check(k == -E2BIG && r->id == 0 && r->slot == 777777 && rs->n_rules == PF_MAX_RULES, "past the limit: %d", k);

        /* Block rules have their own room. */
        require(rule_set_add(rs, make_rule(true, 1), NULL) == 0, "block rule beside a full classifier");

        /* Remove one: its slot is quarantined, yet the next add succeeds at once on a slot of the
         * second half (slots are twice the limit, so that a whole set can be replaced in one change). */
        slot = rule_set_find(rs, 100)->slot;
        require(rule_set_remove(rs, 100) == 0, "remove");
        k = rule_set_add(rs, r, &id);
        check(k == 0 && r->slot != slot && r->slot < PF_RULE_SLOTS, "add beside a quarantined slot: %d, slot %" PRIu32,
              k, r->slot);
        rule_set_release_slots(rs);
        check_sorted(rs, "classifier limit");
}

/* A million block rules: add (appending), find, the limit, removes, slots unique. */
static void test_million_blocks(void) {
        _cleanup_(rule_set_freep) RuleSet *rs = NULL;
        _cleanup_free_ uint8_t *seen = calloc(PF_BLOCK_SLOTS, 1);
        uint64_t seed = 42;
        double t0, t1, t2, t3, t4, t5;
        uint32_t id;
        int k;

        require(seen && rule_set_new(&rs) == 0, "oom");

        t0 = now_sec();
        for (uint32_t i = 0; i < PF_MAX_BLOCKS; i++) {
                k = rule_set_add(rs, make_rule(true, i), NULL);
                if (k < 0)
                        require(k == 0, "block rule %" PRIu32 ": %d", i, k);
        }
        t1 = now_sec();
        check(rs->n_block_rules == PF_MAX_BLOCKS && rs->n_rules == PF_MAX_BLOCKS, "count");

        Rule *r = make_rule(true, 0);
        k = rule_set_add(rs, r, NULL);
        check(k == -E2BIG && r->id == 0, "block %u: %d", PF_MAX_BLOCKS + 1, k);
        rule_free(r);
        require(rule_set_add(rs, make_rule(false, 1), &id) == 0, "a classifier rule beside a million blocks");

        t2 = now_sec();
        for (uint32_t i = 1; i <= PF_MAX_BLOCKS; i++) {
                Rule *f = rule_set_find(rs, i);

                if (!f || f->id != i || f->slot >= PF_BLOCK_SLOTS || seen[f->slot]) {
                        check(false, "find %" PRIu32 ": %p", i, (void *) f);
                        break;
                }
                seen[f->slot] = 1;
        }
        t3 = now_sec();

        /* Removes at random places (each moves the pointers after it), then the set is whole again. */
        for (unsigned i = 0; i < 1000; i++) {
                uint32_t victim = (uint32_t) (test_random(&seed) % PF_MAX_BLOCKS) + 1;

                k = rule_set_remove(rs, victim);
                check(k == 0 || (k == -ENOENT && !rule_set_find(rs, victim)), "remove %" PRIu32 ": %d", victim, k);
        }
        t4 = now_sec();
        size_t removed = PF_MAX_BLOCKS - rs->n_block_rules;
        check(rs->n_quarantined_block_slots == removed, "%" PRIu32 " quarantined, %zu removed",
              rs->n_quarantined_block_slots, removed);
        /* The count is below the limit again; new rules take fresh slots, never quarantined ones. */
        for (size_t i = 0; i < removed; i++)
                check(rule_set_add(rs, make_rule(true, (uint32_t) i), NULL) == 0, "add beside quarantined slots");
        rule_set_release_slots(rs);
        check(rs->n_block_rules == PF_MAX_BLOCKS, "full again");
        check_sorted(rs, "a million");

        memset(seen, 0, PF_BLOCK_SLOTS);
        for (size_t i = 0; i < rs->n_rules; i++)
                if (rule_is_block(rs->rules[i])) {
                        if (!check(!seen[rs->rules[i]->slot], "slot %" PRIu32 " twice", rs->rules[i]->slot))
                                break;
                        seen[rs->rules[i]->slot] = 1;
                }

        t5 = now_sec();
        (void) rule_set_next_expiry(rs);
        double t6 = now_sec();

        printf("1M block rules: add %.3f s, find all %.3f s, 1000 random removes %.3f s (%.1f us each), "
               "next_expiry %.1f ms\n",
               t1 - t0, t3 - t2, t4 - t3, (t4 - t3) * 1e3, (t6 - t5) * 1e3);
        /* Generous bounds (sanitizer builds are slow): they catch O(n^2), not a slow machine. */
        check(t1 - t0 < 20, "adding a million rules took %.1f s", t1 - t0);
        check(t3 - t2 < 20, "finding a million rules took %.1f s", t3 - t2);
}

/* Random operations against a plain model of the slots: never two live rules on one slot,
 * never a quarantined slot handed out before a release. */
static void test_random_operations(void) {
        _cleanup_(rule_set_freep) RuleSet *rs = NULL;
        _cleanup_free_ uint8_t *quarantined = calloc(PF_RULE_SLOTS, 1), *live = calloc(PF_RULE_SLOTS, 1);
        Rule *stolen[64];
        size_t n_stolen = 0;
        uint64_t seed = 2024;

        require(quarantined && live && rule_set_new(&rs) == 0, "oom");
        for (unsigned step = 0; step < 200000; step++) {
                unsigned op = test_random(&seed) % 100;

                if (op < 50) {
                        Rule *r = make_rule(false, step);
                        int k = rule_set_add(rs, r, NULL);

                        if (k == 0) {
                                if (!check(!quarantined[r->slot] && !live[r->slot], "step %u: slot %" PRIu32 " handed out "
                                           "while %s", step, r->slot, live[r->slot] ? "live" : "quarantined"))
                                        return;
                                live[r->slot] = 1;
                        } else {
                                check(k == -E2BIG || k == -EBUSY, "step %u: add gave %d", step, k);
                                rule_free(r);
                        }
                } else if (op < 80 && rs->n_rules > 0) {
                        Rule *r = rs->rules[test_random(&seed) % rs->n_rules];
                        uint32_t slot = r->slot;

                        if (op < 70 || n_stolen == ELEMENTSOF(stolen)) {
                                require(rule_set_remove(rs, r->id) == 0, "remove");
                        } else
                                stolen[n_stolen++] = rule_set_steal(rs, r->id);
                        live[slot] = 0;
                        quarantined[slot] = 1;
                } else if (op < 90 && n_stolen > 0) {
                        size_t i = test_random(&seed) % n_stolen;
                        Rule *r = stolen[i];
                        int k = rule_set_restore(rs, r);

                        if (k == 0) {
                                check(quarantined[r->slot] && !live[r->slot], "step %u: restored onto a reused slot", step);
                                quarantined[r->slot] = 0;
                                live[r->slot] = 1;
                        } else {
                                check(k == -EBUSY && !quarantined[r->slot], "step %u: restore gave %d", step, k);
                                rule_free(r);
                        }
                        stolen[i] = stolen[--n_stolen];
                } else if (op >= 97) {
                        rule_set_release_slots(rs);
                        memset(quarantined, 0, PF_RULE_SLOTS);
                }
        }
        check_sorted(rs, "random operations");
        for (size_t i = 0; i < n_stolen; i++)
                rule_free(stolen[i]);
}

int main(void) {
        test_rule_new();
        test_string_setters();
        test_uint_setters();
        test_setters_replace();
        test_copy();
        test_validate();
        test_validate_raw();
        test_is_block();
        test_order_key();
        test_protocol_strings();
        test_port_ranges();
        test_actions();
        test_rate_limit();
        test_set_basics();
        test_quarantine();
        test_steal_restore();
        test_classifier_limit();
        test_random_operations();
        test_million_blocks();

        printf("%zu setter cases\n", ELEMENTSOF(string_cases));
        return test_exit_status("test-rule");
}
