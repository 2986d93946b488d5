/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "macro.h"
#include "rule.h"

/* The slot spaces, one per kind of rule (see packetfilter.h). */
#define CLS_SLOTS PF_RULE_SLOTS
#define BLOCK_SLOTS PF_BLOCK_SLOTS

#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* A value quoted in a reason: printable ASCII only, so that the message stays valid
 * UTF-8 for D-Bus whatever it quotes, and short enough for struct rule_error. */
#define QUOTE_MAX 40

static const char *quote(const char *s, char buf[static QUOTE_MAX + 4]) {
        size_t i;

        for (i = 0; s[i] && i < QUOTE_MAX; i++)
                buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
        if (s[i])
                memcpy(buf + i, "...", 4);
        else
                buf[i] = '\0';
        return buf;
}

static int refuse(struct rule_error *e, const char *field, const char *format, ...) _printf_(3, 4);
static int refuse(struct rule_error *e, const char *field, const char *format, ...) {
        va_list ap;

        if (!e)
                return -EINVAL;
        e->field = field;
        va_start(ap, format);
        (void) vsnprintf(e->reason, sizeof(e->reason), format, ap);
        va_end(ap);
        return -EINVAL;
}

static int refuse_missing(struct rule_error *e, const char *field) {
        return refuse(e, field, "no value given");
}

/* ---- Rules ------------------------------------------------------------------------------------ */

Rule *rule_new(void) {
        Rule *r;

        r = calloc(1, sizeof(Rule));
        if (!r)
                return NULL;
        r->group = strdup(RULE_GROUP_DEFAULT);
        if (!r->group) {
                free(r);
                return NULL;
        }
        r->action = PF_ACTION_DROP;
        r->enabled = true;
        return r;
}

Rule *rule_free(Rule *r) {
        if (!r)
                return NULL;
        free(r->comment);
        free(r->group);
        free(r->source_set);
        free(r->destination_set);
        free(r);
        return NULL;
}

int rule_copy(const Rule *r, Rule **ret) {
        _cleanup_(rule_freep) Rule *copy = NULL;

        if (!r || !ret)
                return -EINVAL;

        copy = malloc(sizeof(Rule));
        if (!copy)
                return -ENOMEM;
        *copy = *r;
        copy->comment = copy->group = copy->source_set = copy->destination_set = NULL;
        if (r->source_set) {
                copy->source_set = strdup(r->source_set);
                if (!copy->source_set)
                        return -ENOMEM;
        }
        if (r->destination_set) {
                copy->destination_set = strdup(r->destination_set);
                if (!copy->destination_set)
                        return -ENOMEM;
        }
        if (r->comment) {
                copy->comment = strdup(r->comment);
                if (!copy->comment)
                        return -ENOMEM;
        }
        if (r->group) {
                copy->group = strdup(r->group);
                if (!copy->group)
                        return -ENOMEM;
        }

        *ret = TAKE_PTR(copy);
        return 0;
}

/* ---- Field syntax ---------------------------------------------------------------------------- */

/*
 * A decimal number without sign, space or leading zero ("080": some tools read
 * that as octal, so we refuse to guess), at most max. -EINVAL if it is not such a
 * number at all, -ERANGE if it is one above max.
 */
static int parse_decimal(const char *s, size_t len, uint32_t max, uint32_t *ret) {
        uint64_t value = 0;

        if (len == 0 || (s[0] == '0' && len > 1))
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                if (value <= UINT32_MAX)        /* stop growing; the range check below says no */
                        value = value * 10 + (uint64_t) (s[i] - '0');
        }
        if (value > max)
                return -ERANGE;
        *ret = (uint32_t) value;
        return 0;
}

/* Which part of a port range was wrong, for the message. */
struct port_range_problem {
        const char *part;
        size_t len;
};

static int port_range_parse_full(const char *s, struct port_range *ret, struct port_range_problem *problem) {
        const char *dash;
        uint32_t first, last;
        size_t len;
        int r;

        if (!s)
                return -EINVAL;
        len = strlen(s);
        dash = strchr(s, '-');

        r = parse_decimal(s, dash ? (size_t) (dash - s) : len, UINT16_MAX, &first);
        if (r < 0) {
                *problem = (struct port_range_problem) { s, dash ? (size_t) (dash - s) : len };
                return r;
        }
        if (!dash)
                last = first;
        else {
                r = parse_decimal(dash + 1, len - (size_t) (dash + 1 - s), UINT16_MAX, &last);
                if (r < 0) {
                        *problem = (struct port_range_problem) { dash + 1, len - (size_t) (dash + 1 - s) };
                        return r;
                }
                if (first > last)
                        return -EDOM;
        }

        *ret = (struct port_range) { .first = (uint16_t) first, .last = (uint16_t) last };
        return 0;
}

int port_range_parse(const char *s, struct port_range *ret) {
        struct port_range_problem problem;

        if (!ret)
                return -EINVAL;
        return port_range_parse_full(s, ret, &problem);
}

const char *port_range_to_string(const struct port_range *p, char buf[static 12]) {
        if (p->first == p->last)
                (void) snprintf(buf, 12, "%" PRIu16, p->first);
        else
                (void) snprintf(buf, 12, "%" PRIu16 "-%" PRIu16, p->first, p->last);
        return buf;
}

static const struct {
        const char *name;
        uint8_t number;
} protocol_names[] = {
        { "tcp",    6 },
        { "udp",    17 },
        { "sctp",   132 },
        { "icmp",   1 },
        { "icmpv6", 58 },
};

const char *rule_protocol_to_string(uint8_t protocol, char buf[static 4]) {
        for (size_t i = 0; i < ELEMENTSOF(protocol_names); i++)
                if (protocol_names[i].number == protocol)
                        return protocol_names[i].name;
        (void) snprintf(buf, 4, "%" PRIu8, protocol);
        return buf;
}

static bool protocol_has_ports(uint8_t p) {
        return p == IPPROTO_TCP || p == IPPROTO_UDP || p == IPPROTO_SCTP;
}

static bool protocol_is_icmp(uint8_t p) {
        return p == IPPROTO_ICMP || p == IPPROTO_ICMPV6;
}

/*
 * Length of the UTF-8 sequence at s (1..4), or 0 if it is not valid UTF-8
 * (overlong forms, surrogates and code points past U+10FFFF included).
 * *ret_cp gets the code point.
 */
static size_t utf8_sequence(const unsigned char *s, uint32_t *ret_cp) {
        uint32_t cp, min;
        size_t n;

        if (s[0] < 0x80) {
                *ret_cp = s[0];
                return 1;
        }
        if ((s[0] & 0xe0) == 0xc0)
                n = 2, cp = s[0] & 0x1f, min = 0x80;
        else if ((s[0] & 0xf0) == 0xe0)
                n = 3, cp = s[0] & 0x0f, min = 0x800;
        else if ((s[0] & 0xf8) == 0xf0)
                n = 4, cp = s[0] & 0x07, min = 0x10000;
        else
                return 0;

        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)      /* also stops at the NUL */
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret_cp = cp;
        return n;
}

static bool is_control(uint32_t cp) {
        return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/*
 * Text that goes to D-Bus and the state file must be valid UTF-8; control
 * characters (newlines, tabs, escapes) have no place in a name or a one-line
 * comment either. NULL if fine, else what is wrong (with the byte offset).
 */
static const char *check_text(const char *s, char buf[static 64]) {
        const unsigned char *u = (const unsigned char *) s;

        for (size_t i = 0; u[i];) {
                uint32_t cp;
                size_t n = utf8_sequence(u + i, &cp);

                if (n == 0) {
                        (void) snprintf(buf, 64, "is not valid UTF-8 (at byte %zu)", i);
                        return buf;
                }
                if (is_control(cp)) {
                        (void) snprintf(buf, 64, "contains a control character (U+%04" PRIX32 " at byte %zu)", cp, i);
                        return buf;
                }
                i += n;
        }
        return NULL;
}

/* The kernel's rule (dev_valid_name()), plus valid UTF-8 without control characters. */
static int check_interface(const char *s, struct rule_error *e) {
        char q[QUOTE_MAX + 4], why[64];
        size_t len = strnlen(s, IF_NAMESIZE);
        const char *problem;

        if (len == 0)
                return refuse(e, "interface", "the interface name is empty");
        if (len >= IF_NAMESIZE)
                return refuse(e, "interface", "'%s' is longer than %d bytes", quote(s, q), IF_NAMESIZE - 1);
        if (streq(s, ".") || streq(s, ".."))
                return refuse(e, "interface", "'%s' is not an interface name", s);
        for (const char *c = s; *c; c++)
                if (*c == '/' || *c == ':' || ((unsigned char) *c < 0x80 && isspace((unsigned char) *c)))
                        return refuse(e, "interface", "'%s' contains %s, which interface names cannot hold",
                                      quote(s, q), *c == '/' ? "'/'" : *c == ':' ? "':'" : "white space");
        problem = check_text(s, why);
        if (problem)
                return refuse(e, "interface", "'%s' %s", quote(s, q), problem);
        return 0;
}

static int check_comment(const char *s, struct rule_error *e) {
        size_t len = strlen(s);
        const char *problem;
        char why[64];

        if (len > RULE_COMMENT_MAX)
                return refuse(e, "comment", "the comment is %zu bytes long, more than %d", len, RULE_COMMENT_MAX);
        problem = check_text(s, why);
        if (problem)
                return refuse(e, "comment", "the comment %s", problem);
        return 0;
}

static bool is_group_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '.' || c == '-';
}

static int check_group(const char *s, struct rule_error *e) {
        char q[QUOTE_MAX + 4];
        size_t len = strlen(s);

        if (len == 0)
                return refuse(e, "group", "the group name is empty");
        if (len > RULE_GROUP_MAX)
                return refuse(e, "group", "'%s' is longer than %d bytes", quote(s, q), RULE_GROUP_MAX);
        for (size_t i = 0; i < len; i++)
                if (!is_group_char(s[i])) {
                        char what[16];

                        if (s[i] > 0x20 && s[i] < 0x7f)
                                (void) snprintf(what, sizeof(what), "'%c'", s[i]);
                        else
                                (void) snprintf(what, sizeof(what), "byte 0x%02x", (unsigned char) s[i]);
                        return refuse(e, "group", "'%s' contains %s (group names use A-Z a-z 0-9 _ . -)",
                                      quote(s, q), what);
                }
        return 0;
}

/* ---- Setters ------------------------------------------------------------------------------- */

int rule_set_action(Rule *r, const char *s, struct rule_error *e) {
        enum pf_action a;
        char q[QUOTE_MAX + 4];

        if (!s)
                return refuse_missing(e, "action");
        if (pf_action_from_string(s, &a) < 0)
                return refuse(e, "action", "unknown action '%s' (drop, pass or rate-limit)", quote(s, q));
        r->action = a;
        return 0;
}

static int set_prefix(const char *field, const char *s, struct prefix *ret, struct rule_error *e) {
        char q[QUOTE_MAX + 4];
        struct prefix p;
        int k;

        if (!s)
                return refuse_missing(e, field);
        k = prefix_parse(s, &p);
        if (k == -EDOM) {
                /* Say which network was probably meant. */
                char meant[PREFIX_STRING_MAX];
                struct prefix masked;
                const char *slash = strrchr(s, '/');
                _cleanup_free_ char *address = strndup(s, slash ? (size_t) (slash - s) : strlen(s));

                if (address && prefix_parse(address, &masked) >= 0 && slash) {
                        uint32_t len;

                        if (parse_decimal(slash + 1, strlen(slash + 1), masked.prefixlen, &len) >= 0) {
                                masked.prefixlen = (uint8_t) len;
                                for (unsigned b = len; b < 128; b++)
                                        masked.addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
                                return refuse(e, field, "'%s': %s (did you mean %s?)", quote(s, q),
                                              prefix_strerror(k), prefix_format(&masked, meant));
                        }
                }
        }
        if (k < 0)
                return refuse(e, field, "'%s': %s", quote(s, q), prefix_strerror(k));
        *ret = p;
        return 0;
}

int rule_set_source(Rule *r, const char *s, struct rule_error *e) {
        int k = set_prefix("source", s, &r->source, e);

        if (k < 0)
                return k;
        r->match |= RULE_MATCH_SOURCE;
        return 0;
}

int rule_set_destination(Rule *r, const char *s, struct rule_error *e) {
        int k = set_prefix("destination", s, &r->destination, e);

        if (k < 0)
                return k;
        r->match |= RULE_MATCH_DESTINATION;
        return 0;
}

int rule_set_protocol(Rule *r, const char *s, struct rule_error *e) {
        char q[QUOTE_MAX + 4];
        uint32_t number;

        if (!s)
                return refuse_missing(e, "protocol");
        for (size_t i = 0; i < ELEMENTSOF(protocol_names); i++)
                if (streq(s, protocol_names[i].name)) {
                        r->protocol = protocol_names[i].number;
                        r->match |= RULE_MATCH_PROTOCOL;
                        return 0;
                }
        if (parse_decimal(s, strlen(s), UINT8_MAX, &number) < 0)
                return refuse(e, "protocol", "unknown protocol '%s' (tcp, udp, sctp, icmp, icmpv6 or 0-255)",
                              quote(s, q));
        r->protocol = (uint8_t) number;
        r->match |= RULE_MATCH_PROTOCOL;
        return 0;
}

static int set_port_range(const char *field, const char *s, struct port_range *ret, struct rule_error *e) {
        struct port_range_problem problem = {};
        char q[QUOTE_MAX + 4];
        struct port_range p;
        int k;

        if (!s)
                return refuse_missing(e, field);
        k = port_range_parse_full(s, &p, &problem);
        if (k == -EDOM)
                return refuse(e, field, "port range %s is reversed", quote(s, q));
        if (k < 0) {
                _cleanup_free_ char *part = NULL;

                if (problem.part && problem.len == 0)
                        return refuse(e, field, "'%s' is not a port or port range (N or N-M, 0-65535)", quote(s, q));
                part = strndup(problem.part ?: s, problem.part ? problem.len : strlen(s));
                if (!part)
                        return -ENOMEM;
                if (part[0] == '0' && part[1] >= '0' && part[1] <= '9' && strspn(part, "0123456789") == strlen(part))
                        return refuse(e, field, "'%s' is not a port number (0-65535, no leading zeros)", quote(part, q));
                return refuse(e, field, "'%s' is not a port number (0-65535)", quote(part, q));
        }
        *ret = p;
        return 0;
}

int rule_set_source_port(Rule *r, const char *s, struct rule_error *e) {
        int k = set_port_range("source-port", s, &r->source_port, e);

        if (k < 0)
                return k;
        r->match |= RULE_MATCH_SOURCE_PORT;
        return 0;
}

int rule_set_port(Rule *r, const char *s, struct rule_error *e) {
        int k = set_port_range("port", s, &r->port, e);

        if (k < 0)
                return k;
        r->match |= RULE_MATCH_PORT;
        return 0;
}

int rule_set_icmp_type(Rule *r, uint32_t v, struct rule_error *e) {
        if (v > UINT8_MAX)
                return refuse(e, "icmp-type", "%" PRIu32 " is not an ICMP type (0-255)", v);
        r->icmp_type = (uint8_t) v;
        r->match |= RULE_MATCH_ICMP_TYPE;
        return 0;
}

int rule_set_vlan(Rule *r, uint32_t v, struct rule_error *e) {
        if (v > 4095)
                return refuse(e, "vlan", "%" PRIu32 " is not a VLAN id (0-4095)", v);
        r->vlan = (uint16_t) v;
        r->match |= RULE_MATCH_VLAN;
        return 0;
}

int rule_set_interface(Rule *r, const char *s, struct rule_error *e) {
        int k;

        if (!s)
                return refuse_missing(e, "interface");
        k = check_interface(s, e);
        if (k < 0)
                return k;
        memset(r->interface, 0, sizeof(r->interface));
        memcpy(r->interface, s, strlen(s));
        r->match |= RULE_MATCH_INTERFACE;
        return 0;
}

int set_name_check(const char *s, const char *field, struct rule_error *e) {
        char q[QUOTE_MAX + 4];
        size_t len;

        if (!s)
                return refuse_missing(e, field);
        len = strnlen(s, SET_NAME_MAX + 1);
        if (len == 0)
                return refuse(e, field, "the set name is empty");
        if (len > SET_NAME_MAX)
                return refuse(e, field, "'%s' is longer than %d bytes", quote(s, q), SET_NAME_MAX);
        if (!isalnum((unsigned char) s[0]) || (unsigned char) s[0] >= 0x80)
                return refuse(e, field, "'%s' does not start with a letter or digit", quote(s, q));
        for (const char *c = s; *c; c++)
                if ((unsigned char) *c >= 0x80 || (!isalnum((unsigned char) *c) && !strchr("_.-", *c)))
                        return refuse(e, field, "'%s' holds a character other than letters, digits, '_', '.' and '-'",
                                      quote(s, q));
        return 0;
}

static int rule_set_set(Rule *r, const char *s, bool source, struct rule_error *e) {
        const char *field = source ? "source-set" : "destination-set";
        char **name = source ? &r->source_set : &r->destination_set;
        char *copy;
        int k;

        k = set_name_check(s, field, e);
        if (k < 0)
                return k;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        free(*name);
        *name = copy;
        r->match |= source ? RULE_MATCH_SOURCE_SET : RULE_MATCH_DESTINATION_SET;
        return 0;
}

int rule_set_source_set(Rule *r, const char *s, struct rule_error *e) {
        return rule_set_set(r, s, true, e);
}

int rule_set_destination_set(Rule *r, const char *s, struct rule_error *e) {
        return rule_set_set(r, s, false, e);
}

int rule_set_comment(Rule *r, const char *s, struct rule_error *e) {
        char *copy = NULL;
        int k;

        if (!s)
                return refuse_missing(e, "comment");
        k = check_comment(s, e);
        if (k < 0)
                return k;
        if (s[0]) {
                copy = strdup(s);
                if (!copy)
                        return -ENOMEM;
        }
        free(r->comment);
        r->comment = copy;
        return 0;
}

int rule_set_group(Rule *r, const char *s, struct rule_error *e) {
        char *copy;
        int k;

        if (!s)
                return refuse_missing(e, "group");
        k = check_group(s, e);
        if (k < 0)
                return k;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        free(r->group);
        r->group = copy;
        return 0;
}

int rule_set_rate(Rule *r, uint32_t v, struct rule_error *e) {
        if (v == 0 || v > PF_RATE_MAX)
                return refuse(e, "rate", "%" PRIu32 " is not a rate (1-%u packets per second)", v, PF_RATE_MAX);
        r->rate = v;
        return 0;
}

int rule_set_burst(Rule *r, uint32_t v, struct rule_error *e) {
        if (v == 0)
                return refuse(e, "burst", "a burst must be at least 1 packet");
        r->burst = v;
        return 0;
}

static const char *const rate_per_names[] = {
        [PF_RATE_PER_SOURCE] = "source",
        [PF_RATE_PER_RULE] = "rule",
};

const char *pf_rate_per_to_string(enum pf_rate_per p) {
        if ((size_t) p >= ELEMENTSOF(rate_per_names))
                return NULL;
        return rate_per_names[p];
}

int rule_set_per(Rule *r, const char *s, struct rule_error *e) {
        char q[QUOTE_MAX + 4];

        if (!s)
                return refuse_missing(e, "per");
        for (size_t i = 0; i < ELEMENTSOF(rate_per_names); i++)
                if (streq(s, rate_per_names[i])) {
                        r->per = (enum pf_rate_per) i;
                        return 0;
                }
        return refuse(e, "per", "unknown '%s' (source or rule)", quote(s, q));
}

uint32_t rule_rate_burst(const Rule *r) {
        return r->burst ?: r->rate;
}

/* ---- Validation ------------------------------------------------------------------------------ */

static bool prefix_is_well_formed(const struct prefix *p) {
        unsigned bits;

        if (p->family != AF_INET && p->family != AF_INET6)
                return false;
        bits = p->family == AF_INET ? 32 : 128;
        if (p->prefixlen > bits)
                return false;
        /* No host bits, and nothing past an IPv4 address. */
        if (p->prefixlen % 8 && (p->addr[p->prefixlen / 8] & (0xffu >> (p->prefixlen % 8))))
                return false;
        for (unsigned i = (p->prefixlen + 7u) / 8u; i < sizeof(p->addr); i++)
                if (p->addr[i])
                        return false;
        return true;
}

static const char *family_name(int family) {
        return family == AF_INET ? "IPv4" : "IPv6";
}

int rule_validate(const Rule *r, struct rule_error *e) {
        char buf[4];
        int k;

        if (!r)
                return -EINVAL;

        /* Each field on its own: a rule built in code gets the checks the setters make. */
        if (!pf_action_to_string(r->action))
                return refuse(e, "action", "no valid action (drop, pass or rate-limit)");
        if (r->action == PF_ACTION_RATE_LIMIT) {
                if (r->rate == 0)
                        return refuse(e, "rate", "a rate-limit rule needs a rate (packets per second)");
                if (r->rate > PF_RATE_MAX)
                        return refuse(e, "rate", "%" PRIu32 " is not a rate (1-%u packets per second)",
                                      r->rate, PF_RATE_MAX);
                if (!pf_rate_per_to_string(r->per))
                        return refuse(e, "per", "no valid bucket (source or rule)");
        } else if (r->rate != 0 || r->burst != 0 || r->per != PF_RATE_PER_SOURCE)
                return refuse(e, r->rate ? "rate" : r->burst ? "burst" : "per",
                              "only a rate-limit rule has a rate, a burst or a per");
        if ((r->match & RULE_MATCH_SOURCE) && !prefix_is_well_formed(&r->source))
                return refuse(e, "source", "not a valid address or prefix");
        if ((r->match & RULE_MATCH_DESTINATION) && !prefix_is_well_formed(&r->destination))
                return refuse(e, "destination", "not a valid address or prefix");
        if ((r->match & RULE_MATCH_SOURCE_PORT) && r->source_port.first > r->source_port.last)
                return refuse(e, "source-port", "port range %u-%u is reversed",
                              r->source_port.first, r->source_port.last);
        if ((r->match & RULE_MATCH_PORT) && r->port.first > r->port.last)
                return refuse(e, "port", "port range %u-%u is reversed", r->port.first, r->port.last);
        if ((r->match & RULE_MATCH_VLAN) && r->vlan > 4095)
                return refuse(e, "vlan", "%u is not a VLAN id (0-4095)", r->vlan);
        if (r->match & RULE_MATCH_INTERFACE) {
                if (!memchr(r->interface, '\0', sizeof(r->interface)))
                        return refuse(e, "interface", "the interface name is longer than %d bytes", IF_NAMESIZE - 1);
                k = check_interface(r->interface, e);
                if (k < 0)
                        return k;
        }
        for (unsigned i = 0; i < 2; i++) {
                unsigned bit = i == 0 ? RULE_MATCH_SOURCE_SET : RULE_MATCH_DESTINATION_SET;
                const char *name = i == 0 ? r->source_set : r->destination_set;

                if (!(r->match & bit) != !name)
                        return refuse(e, i == 0 ? "source-set" : "destination-set", "set name and match flag disagree");
                if (name) {
                        k = set_name_check(name, i == 0 ? "source-set" : "destination-set", e);
                        if (k < 0)
                                return k;
                }
        }
        if (r->comment) {
                k = check_comment(r->comment, e);
                if (k < 0)
                        return k;
        }
        if (!r->group)
                return refuse(e, "group", "no group given");
        k = check_group(r->group, e);
        if (k < 0)
                return k;
        if (r->match & ~(unsigned) (RULE_MATCH_SOURCE | RULE_MATCH_DESTINATION | RULE_MATCH_PROTOCOL |
                                    RULE_MATCH_SOURCE_PORT | RULE_MATCH_PORT | RULE_MATCH_ICMP_TYPE |
                                    RULE_MATCH_VLAN | RULE_MATCH_INTERFACE | RULE_MATCH_SOURCE_SET |
                                    RULE_MATCH_DESTINATION_SET))
                return refuse(e, "rule", "unknown match fields 0x%x", r->match);

        /* The fields together. */
        for (unsigned i = 0; i < 2; i++) {
                unsigned bit = i == 0 ? RULE_MATCH_SOURCE_PORT : RULE_MATCH_PORT;
                const char *field = i == 0 ? "source-port" : "port";

                if (!(r->match & bit))
                        continue;
                if (!(r->match & RULE_MATCH_PROTOCOL))
                        return refuse(e, field, "a port needs protocol tcp, udp or sctp");
                if (!protocol_has_ports(r->protocol))
                        return refuse(e, field, "protocol %s has no ports (only tcp, udp and sctp do)",
                                      rule_protocol_to_string(r->protocol, buf));
        }
        if (r->match & RULE_MATCH_ICMP_TYPE) {
                if (!(r->match & RULE_MATCH_PROTOCOL))
                        return refuse(e, "icmp-type", "an ICMP type needs protocol icmp or icmpv6");
                if (!protocol_is_icmp(r->protocol))
                        return refuse(e, "icmp-type", "protocol %s has no ICMP types (only icmp and icmpv6 do)",
                                      rule_protocol_to_string(r->protocol, buf));
        }
        if ((r->match & RULE_MATCH_SOURCE) && (r->match & RULE_MATCH_DESTINATION) &&
            r->source.family != r->destination.family)
                return refuse(e, "destination", "the destination is %s but the source is %s",
                              family_name(r->destination.family), family_name(r->source.family));
        if ((r->match & RULE_MATCH_PROTOCOL) && protocol_is_icmp(r->protocol)) {
                int family = r->protocol == IPPROTO_ICMP ? AF_INET : AF_INET6;

                for (unsigned i = 0; i < 2; i++) {
                        unsigned bit = i == 0 ? RULE_MATCH_SOURCE : RULE_MATCH_DESTINATION;
                        const struct prefix *p = i == 0 ? &r->source : &r->destination;

                        if ((r->match & bit) && p->family != family)
                                return refuse(e, "protocol", "protocol %s needs %s addresses, but the %s is %s",
                                              rule_protocol_to_string(r->protocol, buf), family_name(family),
                                              i == 0 ? "source" : "destination", family_name(p->family));
                }
        }

        return 0;
}

bool rule_is_block(const Rule *r) {
        /* A rate-limit rule is always a classifier rule: its buckets live by classifier slot. */
        return r->match == RULE_MATCH_SOURCE && r->action != PF_ACTION_RATE_LIMIT;
}

uint64_t rule_order_key(const Rule *r) {
        return ((uint64_t) ((int64_t) r->priority + ((int64_t) 1 << 31)) << 32) | r->id;
}

int rule_compare(const Rule *a, const Rule *b) {
        uint64_t x = rule_order_key(a), y = rule_order_key(b);

        return x < y ? -1 : x > y ? 1 : 0;
}

/* ---- The rule set ----------------------------------------------------------------------------- */

/* What rule_set_* keeps per slot, beyond the stacks. */
enum {
        SLOT_QUARANTINED = 1 << 0,      /* freed, but the data plane may still refer to it */
        SLOT_LISTED      = 1 << 1,      /* in the quarantine list (maybe restored since) */
};

/* One kind's slot space, as pointers into the RuleSet. */
typedef struct SlotSpace {
        uint32_t size;
        uint32_t *next;
        uint32_t **free, *n_free;
        uint32_t **quarantined, *n_quarantined;
} SlotSpace;

static SlotSpace slot_space(RuleSet *rs, bool block) {
        if (block)
                return (SlotSpace) {
                        .size = BLOCK_SLOTS,
                        .next = &rs->next_block_slot,
                        .free = &rs->free_block_slots, .n_free = &rs->n_free_block_slots,
                        .quarantined = &rs->quarantined_block_slots, .n_quarantined = &rs->n_quarantined_block_slots,
                };
        return (SlotSpace) {
                .size = CLS_SLOTS,
                .next = &rs->next_cls_slot,
                .free = &rs->free_cls_slots, .n_free = &rs->n_free_cls_slots,
                .quarantined = &rs->quarantined_cls_slots, .n_quarantined = &rs->n_quarantined_cls_slots,
        };
}

/* The flags of each slot (SLOT_*) live in the allocation of the quarantine list, after its
 * size entries: rule.h's struct need not know of them. */
static uint8_t *slot_flags(const SlotSpace *s) {
        return (uint8_t *) (*s->quarantined + s->size);
}

/* Allocated at the first rule of a kind, so that removing never needs memory. Big, but
 * only the pages used are touched. */
static int slot_space_allocate(SlotSpace *s) {
        uint32_t *free_slots, *quarantined;

        if (*s->free)
                return 0;
        free_slots = malloc(s->size * sizeof(uint32_t));
        quarantined = calloc(1, s->size * sizeof(uint32_t) + s->size);
        if (!free_slots || !quarantined) {
                free(free_slots);
                free(quarantined);
                return -ENOMEM;
        }
        *s->free = free_slots;
        *s->quarantined = quarantined;
        return 0;
}

static bool slot_space_has_free(const SlotSpace *s) {
        return *s->n_free > 0 || *s->next < s->size;
}

static uint32_t slot_take(SlotSpace *s) {
        if (*s->n_free > 0)
                return (*s->free)[--*s->n_free];
        return (*s->next)++;
}

static void slot_quarantine(SlotSpace *s, uint32_t slot) {
        uint8_t *flags = slot_flags(s);

        flags[slot] |= SLOT_QUARANTINED;
        if (!(flags[slot] & SLOT_LISTED)) {
                flags[slot] |= SLOT_LISTED;
                (*s->quarantined)[(*s->n_quarantined)++] = slot;
        }
}

static void slot_release_all(SlotSpace *s) {
        uint8_t *flags;

        if (!*s->quarantined)
                return;
        flags = slot_flags(s);
        /* In reverse, so that the stack hands out the earliest freed first. */
        for (uint32_t i = *s->n_quarantined; i > 0; i--) {
                uint32_t slot = (*s->quarantined)[i - 1];

                /* A slot restored since its removal is in use again: it only leaves the list. */
                if (flags[slot] & SLOT_QUARANTINED)
                        (*s->free)[(*s->n_free)++] = slot;
                flags[slot] = 0;
        }
        *s->n_quarantined = 0;
}

int rule_set_new(RuleSet **ret) {
        RuleSet *rs;

        if (!ret)
                return -EINVAL;
        rs = calloc(1, sizeof(RuleSet));
        if (!rs)
                return -ENOMEM;
        rs->next_id = 1;
        rs->default_action = PF_ACTION_PASS;
        *ret = rs;
        return 0;
}

RuleSet *rule_set_free(RuleSet *rs) {
        if (!rs)
                return NULL;
        for (size_t i = 0; i < rs->n_rules; i++)
                rule_free(rs->rules[i]);
        free(rs->rules);
        free(rs->free_cls_slots);
        free(rs->free_block_slots);
        free(rs->quarantined_cls_slots);
        free(rs->quarantined_block_slots);
        free(rs);
        return NULL;
}

/* Index of id, or -ENOENT and where it would go. Ids usually come in increasing order: look at the end first. */
static int rule_set_find_index(const RuleSet *rs, uint32_t id, size_t *ret_index) {
        size_t lo = 0, hi = rs->n_rules;

        if (hi == 0 || rs->rules[hi - 1]->id < id) {
                *ret_index = hi;
                return -ENOENT;
        }
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (rs->rules[mid]->id == id) {
                        *ret_index = mid;
                        return 0;
                }
                if (rs->rules[mid]->id < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *ret_index = lo;
        return -ENOENT;
}

static int rule_set_reserve(RuleSet *rs, size_t n) {
        Rule **rules;
        size_t want;

        if (n <= rs->n_rules_allocated)
                return 0;
        want = MAX(n, MAX(rs->n_rules_allocated * 2, (size_t) 64));
        rules = reallocarray(rs->rules, want, sizeof(Rule *));
        if (!rules)
                return -ENOMEM;
        rs->rules = rules;
        rs->n_rules_allocated = want;
        return 0;
}

static void rule_set_insert_at(RuleSet *rs, size_t index, Rule *rule) {
        memmove(rs->rules + index + 1, rs->rules + index, (rs->n_rules - index) * sizeof(Rule *));
        rs->rules[index] = rule;
        rs->n_rules++;
        if (rule_is_block(rule))
                rs->n_block_rules++;
        if (rule->id >= rs->next_id)
                rs->next_id = rule->id + 1;
}

int rule_set_add(RuleSet *rs, Rule *rule, uint32_t *ret_id) {
        bool block;
        SlotSpace space;
        size_t index, n_kind;
        uint32_t id;
        int r;

        if (!rs || !rule)
                return -EINVAL;

        id = rule->id;
        if (id == 0) {
                if (rs->next_id == UINT32_MAX)
                        return -E2BIG;
                id = rs->next_id;
        } else if (id == UINT32_MAX)
                return -EINVAL;         /* next_id could not move past it */

        if (rule_set_find_index(rs, id, &index) >= 0)
                return -EEXIST;

        block = rule_is_block(rule);
        n_kind = block ? rs->n_block_rules : rs->n_rules - rs->n_block_rules;
        space = slot_space(rs, block);
        if (n_kind >= (block ? PF_MAX_BLOCKS : PF_MAX_RULES))
                return -E2BIG;
        if (!slot_space_has_free(&space))
                return -EBUSY;

        /* Everything that can fail before anything changes. */
        r = slot_space_allocate(&space);
        if (r < 0)
                return r;
        r = rule_set_reserve(rs, rs->n_rules + 1);
        if (r < 0)
                return r;

        rule->id = id;
        rule->slot = slot_take(&space);
        rule_set_insert_at(rs, index, rule);

        if (ret_id)
                *ret_id = id;
        return 0;
}

Rule *rule_set_steal(RuleSet *rs, uint32_t id) {
        SlotSpace space;
        size_t index;
        Rule *rule;

        if (!rs || rule_set_find_index(rs, id, &index) < 0)
                return NULL;

        rule = rs->rules[index];
        memmove(rs->rules + index, rs->rules + index + 1, (rs->n_rules - index - 1) * sizeof(Rule *));
        rs->n_rules--;
        if (rule_is_block(rule))
                rs->n_block_rules--;

        space = slot_space(rs, rule_is_block(rule));
        slot_quarantine(&space, rule->slot);
        return rule;
}

int rule_set_restore(RuleSet *rs, Rule *rule) {
        SlotSpace space;
        uint8_t *flags;
        size_t index;
        int r;

        if (!rs || !rule || rule->id == 0 || rule->id == UINT32_MAX)
                return -EINVAL;
        if (rule_set_find_index(rs, rule->id, &index) >= 0)
                return -EEXIST;

        space = slot_space(rs, rule_is_block(rule));
        if (rule->slot >= space.size || !*space.quarantined)
                return -EBUSY;
        flags = slot_flags(&space);
        if (!(flags[rule->slot] & SLOT_QUARANTINED))
                return -EBUSY;          /* released since, maybe handed out again */

        r = rule_set_reserve(rs, rs->n_rules + 1);
        if (r < 0)
                return r;

        flags[rule->slot] &= ~SLOT_QUARANTINED;
        rule_set_insert_at(rs, index, rule);
        return 0;
}

int rule_set_remove(RuleSet *rs, uint32_t id) {
        Rule *rule = rule_set_steal(rs, id);

        if (!rule)
                return -ENOENT;
        rule_free(rule);
        return 0;
}

void rule_set_release_slots(RuleSet *rs) {
        SlotSpace cls, block;

        if (!rs)
                return;
        cls = slot_space(rs, false);
        block = slot_space(rs, true);
        slot_release_all(&cls);
        slot_release_all(&block);
}

Rule *rule_set_find(RuleSet *rs, uint32_t id) {
        size_t index;

        if (!rs || rule_set_find_index(rs, id, &index) < 0)
                return NULL;
        return rs->rules[index];
}

uint64_t rule_set_next_expiry(const RuleSet *rs) {
        uint64_t next = UINT64_MAX;

        for (size_t i = 0; i < rs->n_rules; i++) {
                uint64_t e = rs->rules[i]->expires_usec;

                if (e != 0 && e < next)
                        next = e;
        }
        return next == UINT64_MAX ? 0 : next;
}

size_t rule_set_count_classifier(const RuleSet *rs) {
        return rs->n_rules - rs->n_block_rules;
}

/* ---- Actions ---------------------------------------------------------------------------------- */

static const char *const action_names[] = {
        [PF_ACTION_PASS] = "pass",
        [PF_ACTION_DROP] = "drop",
        [PF_ACTION_RATE_LIMIT] = "rate-limit",
};

const char *pf_action_to_string(enum pf_action a) {
        if ((size_t) a >= ELEMENTSOF(action_names))
                return NULL;
        return action_names[a];
}

int pf_action_from_string(const char *s, enum pf_action *ret) {
        for (size_t i = 0; i < ELEMENTSOF(action_names); i++)
                if (s && streq(s, action_names[i])) {
                        *ret = (enum pf_action) i;
                        return 0;
                }
        return -EINVAL;
}

int pf_default_action_from_string(const char *s, enum pf_action *ret) {
        enum pf_action a;

        /* A default action decides alone: rate-limit needs a rule's rate. */
        if (pf_action_from_string(s, &a) < 0 || a == PF_ACTION_RATE_LIMIT)
                return -EINVAL;
        *ret = a;
        return 0;
}
