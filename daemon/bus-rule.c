/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-errors.h"
#include "bus-rule.h"
#include "log.h"
#include "macro.h"

/* Upper bound on rules in one call: a bulk call may fill the classifier, not more. */
#define BUS_RULES_MAX (PF_MAX_RULES + 16)

enum key_type {
        KEY_STRING = 's',
        KEY_UINT32 = 'u',
        KEY_INT32 = 'i',
        KEY_BOOLEAN = 'b',
};

struct rule_key {
        const char *name;
        enum key_type type;
        unsigned bit;                   /* to refuse repeated keys */
};

static const struct rule_key rule_keys[] = {
        { "action",      KEY_STRING,  1u << 0 },
        { "source",      KEY_STRING,  1u << 1 },
        { "destination", KEY_STRING,  1u << 2 },
        { "protocol",    KEY_STRING,  1u << 3 },
        { "port",        KEY_STRING,  1u << 4 },
        { "source-port", KEY_STRING,  1u << 5 },
        { "icmp-type",   KEY_UINT32,  1u << 6 },
        { "vlan",        KEY_UINT32,  1u << 7 },
        { "interface",   KEY_STRING,  1u << 8 },
        { "priority",    KEY_INT32,   1u << 9 },
        { "enabled",     KEY_BOOLEAN, 1u << 10 },
        { "comment",     KEY_STRING,  1u << 11 },
        { "group",       KEY_STRING,  1u << 12 },
        { "timeout",     KEY_UINT32,  1u << 13 },
        { "source-set",  KEY_STRING,  1u << 14 },
        { "destination-set", KEY_STRING, 1u << 15 },
        { "rate",        KEY_UINT32,  1u << 16 },
        { "burst",       KEY_UINT32,  1u << 17 },
        { "per",         KEY_STRING,  1u << 18 },
};

static const struct rule_key *rule_key_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(rule_keys); i++)
                if (streq(rule_keys[i].name, name))
                        return &rule_keys[i];
        return NULL;
}

static int set_error(sd_bus_error *error, int index, const char *name, const char *field, const char *reason) {
        char where[32] = "";

        if (index >= 0)
                snprintf(where, sizeof(where), "rule %d: ", index);
        return sd_bus_error_setf(error, name, "%sInvalid %s: %s.", where, field, reason);
}

/* Applies one key's value to the rule, with the model's own checks. */
static int rule_apply_key(Rule *r, const struct rule_key *k, const void *value, uint32_t *timeout,
                          struct rule_error *e) {
        const char *s = k->type == KEY_STRING ? *(const char *const *) value : NULL;
        uint32_t u = k->type == KEY_UINT32 ? *(const uint32_t *) value : 0;

        if (streq(k->name, "action"))
                return rule_set_action(r, s, e);
        if (streq(k->name, "source"))
                return rule_set_source(r, s, e);
        if (streq(k->name, "destination"))
                return rule_set_destination(r, s, e);
        if (streq(k->name, "protocol"))
                return rule_set_protocol(r, s, e);
        if (streq(k->name, "port"))
                return rule_set_port(r, s, e);
        if (streq(k->name, "source-port"))
                return rule_set_source_port(r, s, e);
        if (streq(k->name, "icmp-type"))
                return rule_set_icmp_type(r, u, e);
        if (streq(k->name, "vlan"))
                return rule_set_vlan(r, u, e);
        if (streq(k->name, "interface"))
                return rule_set_interface(r, s, e);
        if (streq(k->name, "source-set"))
                return rule_set_source_set(r, s, e);
        if (streq(k->name, "destination-set"))
                return rule_set_destination_set(r, s, e);
        if (streq(k->name, "comment"))
                return rule_set_comment(r, s, e);
        if (streq(k->name, "group"))
                return rule_set_group(r, s, e);
        if (streq(k->name, "rate"))
                return rule_set_rate(r, u, e);
        if (streq(k->name, "burst"))
                return rule_set_burst(r, u, e);
        if (streq(k->name, "per"))
                return rule_set_per(r, s, e);
        if (streq(k->name, "priority")) {
                r->priority = *(const int32_t *) value;
                return 0;
        }
        if (streq(k->name, "enabled")) {
                r->enabled = *(const int *) value;
                return 0;
        }
        if (streq(k->name, "timeout")) {
                *timeout = u;
                return 0;
        }
        return -EINVAL;
}

int bus_message_read_rule(sd_bus_message *m, int index, const char *default_group, Rule **ret,
                          uint32_t *ret_timeout_sec, sd_bus_error *error) {
        _cleanup_(rule_freep) Rule *r = NULL;
        struct rule_error e = {};
        unsigned seen = 0;
        uint32_t timeout = 0;
        int q;

        r = rule_new();
        if (!r)
                return -ENOMEM;

        q = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (q < 0)
                return q;

        for (;;) {
                const struct rule_key *k;
                const char *name, *contents;
                char type;
                union {
                        const char *s;
                        uint32_t u;
                        int32_t i;
                        int b;
                } value;

                q = sd_bus_message_enter_container(m, 'e', "sv");
                if (q < 0)
                        return q;
                if (q == 0)
                        break;
                q = sd_bus_message_read(m, "s", &name);
                if (q < 0)
                        return q;

                k = rule_key_find(name);
                if (!k) {
                        char reason[320];

                        snprintf(reason, sizeof(reason), "unknown key '%.64s' (keys: action, source, destination, "
                                 "protocol, port, source-port, icmp-type, vlan, interface, source-set, destination-set, "
                                 "priority, enabled, comment, group, timeout, rate, burst, per)", name);
                        return set_error(error, index, PF_ERROR_INVALID_RULE, "rule", reason);
                }
                if (seen & k->bit)
                        return set_error(error, index, PF_ERROR_INVALID_RULE, k->name, "the key is given twice");
                seen |= k->bit;

                q = sd_bus_message_peek_type(m, &type, &contents);
                if (q < 0)
                        return q;
                if (!contents || strlen(contents) != 1 || contents[0] != (char) k->type) {
                        char reason[96];

                        snprintf(reason, sizeof(reason), "the value must be of D-Bus type '%c', not '%.16s'",
                                 (char) k->type, strna(contents));
                        return set_error(error, index, PF_ERROR_INVALID_RULE, k->name, reason);
                }
                q = sd_bus_message_enter_container(m, 'v', contents);
                if (q < 0)
                        return q;
                q = sd_bus_message_read_basic(m, contents[0], &value);
                if (q < 0)
                        return q;
                q = sd_bus_message_exit_container(m);
                if (q >= 0)
                        q = sd_bus_message_exit_container(m);
                if (q < 0)
                        return q;

                q = rule_apply_key(r, k, &value, &timeout, &e);
                if (q == -ENOMEM)
                        return q;
                if (q < 0)
                        return set_error(error, index,
                                         streq(k->name, "source") || streq(k->name, "destination") ?
                                                PF_ERROR_INVALID_ADDRESS : PF_ERROR_INVALID_RULE,
                                         e.field ?: k->name, e.reason);
        }
        q = sd_bus_message_exit_container(m);
        if (q < 0)
                return q;

        if (!(seen & rule_key_find("group")->bit) && default_group) {
                q = rule_set_group(r, default_group, &e);
                if (q < 0)
                        return set_error(error, index, PF_ERROR_INVALID_RULE, "group", e.reason);
        }
        if (!(seen & rule_key_find("action")->bit))
                return set_error(error, index, PF_ERROR_INVALID_RULE, "action", "the key is required (drop, pass or rate-limit)");
        q = rule_validate(r, &e);
        if (q < 0)
                return set_error(error, index, PF_ERROR_INVALID_RULE, e.field ?: "rule", e.reason);

        *ret = TAKE_PTR(r);
        if (ret_timeout_sec)
                *ret_timeout_sec = timeout;
        return 0;
}

void rules_free_many(Rule **rules, size_t n) {
        for (size_t i = 0; i < n; i++)
                rule_free(rules[i]);
        free(rules);
}

/* Rules read so far, freed unless handed over. */
struct rules_read {
        Rule **rules;
        size_t n, allocated;
};

static void rules_read_done(struct rules_read *l) {
        rules_free_many(l->rules, l->n);
}

int bus_message_read_rules(sd_bus_message *m, const char *default_group, Rule ***ret, size_t *ret_n,
                           sd_bus_error *error) {
        _cleanup_(rules_read_done) struct rules_read l = {};
        int r;

        r = sd_bus_message_enter_container(m, 'a', "a{sv}");
        if (r < 0)
                return r;
        for (;;) {
                _cleanup_(rule_freep) Rule *rule = NULL;
                uint32_t timeout;

                r = sd_bus_message_at_end(m, false);
                if (r < 0)
                        return r;
                if (r > 0)
                        break;
                if (l.n >= BUS_RULES_MAX)
                        return sd_bus_error_setf(error, PF_ERROR_LIMIT_EXCEEDED,
                                                 "Too many rules in one call (at most %u).", BUS_RULES_MAX);
                r = bus_message_read_rule(m, (int) l.n, default_group, &rule, &timeout, error);
                if (r < 0)
                        return r;
                rule->expires_usec = timeout ? now_realtime_usec() + (uint64_t) timeout * 1000000ULL : 0;
                if (l.n == l.allocated) {
                        size_t want = l.allocated ? l.allocated * 2 : 16;
                        Rule **rs = reallocarray(l.rules, want, sizeof(Rule *));

                        if (!rs)
                                return -ENOMEM;
                        l.rules = rs;
                        l.allocated = want;
                }
                l.rules[l.n++] = TAKE_PTR(rule);
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l.rules);
        *ret_n = l.n;
        l.n = 0;
        return 0;
}

/* A rule as a{sv}: the keys of the rule model, only those set, plus id, counters and times. */
int bus_message_append_rule(sd_bus_message *reply, Manager *m, const Rule *rule) {
        char buf[PREFIX_STRING_MAX], proto[4], ports[12];
        uint64_t packets = 0, bytes = 0, limited = 0;
        int r;

        r = manager_rule_counters(m, rule, &packets, &bytes);
        if (r < 0)
                log_warning_errno(r, "Failed to read counters of rule %u: %m", rule->id);
        if (rule->action == PF_ACTION_RATE_LIMIT) {
                r = manager_rule_rate_limited(m, rule, &limited);
                if (r < 0)
                        log_warning_errno(r, "Failed to read the rate-limited count of rule %u: %m", rule->id);
        }

        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "{sv}{sv}", "id", "u", rule->id,
                                  "action", "s", pf_action_to_string(rule->action));
        if (r >= 0 && (rule->match & RULE_MATCH_SOURCE))
                r = sd_bus_message_append(reply, "{sv}", "source", "s", prefix_format(&rule->source, buf));
        if (r >= 0 && (rule->match & RULE_MATCH_DESTINATION))
                r = sd_bus_message_append(reply, "{sv}", "destination", "s",
                                          prefix_format(&rule->destination, buf));
        if (r >= 0 && (rule->match & RULE_MATCH_PROTOCOL))
                r = sd_bus_message_append(reply, "{sv}", "protocol", "s",
                                          rule_protocol_to_string(rule->protocol, proto));
        if (r >= 0 && (rule->match & RULE_MATCH_SOURCE_PORT))
                r = sd_bus_message_append(reply, "{sv}", "source-port", "s",
                                          port_range_to_string(&rule->source_port, ports));
        if (r >= 0 && (rule->match & RULE_MATCH_PORT))
                r = sd_bus_message_append(reply, "{sv}", "port", "s", port_range_to_string(&rule->port, ports));
        if (r >= 0 && (rule->match & RULE_MATCH_ICMP_TYPE))
                r = sd_bus_message_append(reply, "{sv}", "icmp-type", "u", (uint32_t) rule->icmp_type);
        if (r >= 0 && (rule->match & RULE_MATCH_VLAN))
                r = sd_bus_message_append(reply, "{sv}", "vlan", "u", (uint32_t) rule->vlan);
        if (r >= 0 && (rule->match & RULE_MATCH_INTERFACE))
                r = sd_bus_message_append(reply, "{sv}", "interface", "s", rule->interface);
        if (r >= 0 && (rule->match & RULE_MATCH_SOURCE_SET))
                r = sd_bus_message_append(reply, "{sv}", "source-set", "s", rule->source_set);
        if (r >= 0 && (rule->match & RULE_MATCH_DESTINATION_SET))
                r = sd_bus_message_append(reply, "{sv}", "destination-set", "s", rule->destination_set);
        if (r >= 0 && rule->action == PF_ACTION_RATE_LIMIT)
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}",
                                          "rate", "u", rule->rate,
                                          "burst", "u", rule_rate_burst(rule),
                                          "per", "s", pf_rate_per_to_string(rule->per),
                                          "rate-limited", "t", limited);
        if (r >= 0 && rule->comment)
                r = sd_bus_message_append(reply, "{sv}", "comment", "s", rule->comment);
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}",
                                          "priority", "i", rule->priority,
                                          "enabled", "b", (int) rule->enabled,
                                          "group", "s", rule->group,
                                          "packets", "t", packets,
                                          "bytes", "t", bytes,
                                          "created", "t", rule->created_usec,
                                          "expires", "t", rule->expires_usec);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

