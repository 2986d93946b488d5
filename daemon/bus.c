/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The D-Bus face of the daemon. Reads top to bottom: helpers, property
 * getters, method handlers, signals, the vtable, bus setup.
 *
 * Every handler has one shape: read arguments, validate, authorize
 * (asynchronously: the handler runs again when polkit answers), act,
 * reply. Named D-Bus errors are made here and nowhere else.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "bus-errors.h"
#include "bus-rule.h"
#include "bus-set.h"
#include "bus.h"
#include "config.h"
#include "log.h"
#include "macro.h"

/* Reads need no authorization; changes need one of these (polkit/org.example.packetfilter.policy). */
#define POLKIT_ACTION_MANAGE_RULES "org.example.packetfilter.manage-rules"
#define POLKIT_ACTION_MANAGE_INTERFACES "org.example.packetfilter.manage-interfaces"

/* The most rules one ListRules/ListRulesInGroup reply carries: ~260 bytes each stays well under
 * the system bus's 32 MiB message limit (past which the bus would drop the daemon's connection). */
#define RULES_PER_REPLY_MAX 65536

/* Past this many rules in one change, one RulesReplaced(group, count) per group stands for
 * the per-rule signals: a GUI re-reads the group instead of drowning in signals. */
#define SIGNALS_PER_CHANGE_MAX 64

/* ---- Helpers --------------------------------------------------------------------------------- */

static int bus_parse_prefix(const char *s, struct prefix *ret, sd_bus_error *error) {
        int r = prefix_parse(s, ret);

        if (r < 0)
                return sd_bus_error_setf(error, PF_ERROR_INVALID_ADDRESS, "Invalid address '%s': %s.",
                                         s, prefix_strerror(r));
        return 0;
}

static int bus_check_ifname(const char *ifname, sd_bus_error *error) {
        size_t n = strlen(ifname);

        if (n == 0 || n >= IF_NAMESIZE || strpbrk(ifname, "/ \t\n:") || streq(ifname, ".") || streq(ifname, ".."))
                return sd_bus_error_setf(error, PF_ERROR_NO_SUCH_INTERFACE,
                                         "Invalid interface name '%s': must be 1-%d characters without '/', ':' or spaces.",
                                         ifname, IF_NAMESIZE - 1);
        return 0;
}

static int bus_check_group(const char *group, sd_bus_error *error) {
        Rule probe = {};
        struct rule_error e = {};
        int r;

        r = rule_set_group(&probe, group, &e);
        free(probe.group);
        if (r < 0)
                return sd_bus_error_setf(error, PF_ERROR_INVALID_RULE, "Invalid %s: %s.", e.field ?: "group", e.reason);
        return 0;
}

/* The error for a failed rule change, by cause. */
static int bus_change_error(int r, uint32_t missing, sd_bus_error *error) {
        if (r == -ENOENT)
                return sd_bus_error_setf(error, PF_ERROR_NO_SUCH_RULE, "No rule with id %u.", missing);
        if (r == -E2BIG)
                return sd_bus_error_setf(error, PF_ERROR_LIMIT_EXCEEDED,
                                         "The change would pass a limit: %u classifier rules, %u block rules.",
                                         PF_MAX_RULES, PF_MAX_BLOCKS);
        if (r == -ENXIO)
                return sd_bus_error_setf(error, PF_ERROR_INVALID_RULE,
                                         "Invalid source-set or destination-set: the set does not exist (any more).");
        return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Failed to change the rules: %s.", strerror(-r));
}

/* Rules naming sets: the sets must exist (their ids go into the rules). */
static int bus_check_rule_sets(Manager *m, Rule *const *rules, size_t n, bool numbered, sd_bus_error *error) {
        for (size_t i = 0; i < n; i++) {
                struct rule_error e = {};
                char where[32] = "";

                if (manager_resolve_sets(m, rules[i], &e) >= 0)
                        continue;
                if (numbered)
                        snprintf(where, sizeof(where), "rule %zu: ", i);
                return sd_bus_error_setf(error, PF_ERROR_INVALID_RULE, "%sInvalid %s: %s.", where, e.field, e.reason);
        }
        return 0;
}

static int polkit_check_group(Manager *m, sd_bus_message *msg, const char *group, sd_bus_error *error) {
        return polkit_verify(m->polkit, msg, POLKIT_ACTION_MANAGE_RULES,
                             (const char *const[]) { "group", group, NULL }, error);
}

/* The one group a set of rules touches, or "" when they touch several. */
static const char *rules_group(Rule *const *rules, size_t n) {
        for (size_t i = 1; i < n; i++)
                if (!streq(rules[i]->group, rules[0]->group))
                        return "";
        return n > 0 ? rules[0]->group : RULE_GROUP_DEFAULT;
}

static int reply_rules(sd_bus_message *msg, Manager *m, const char *group) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ Rule **sorted = NULL;
        size_t n = 0;
        int r;

        /* In evaluation order: what a GUI shows as the rule list. */
        sorted = calloc(m->rules->n_rules + 1, sizeof(Rule *));
        if (!sorted)
                return -ENOMEM;
        for (size_t i = 0; i < m->rules->n_rules; i++)
                if (!group || streq(m->rules->rules[i]->group, group))
                        sorted[n++] = m->rules->rules[i];
        if (n > RULES_PER_REPLY_MAX)
                return sd_bus_reply_method_errorf(msg, PF_ERROR_LIMIT_EXCEEDED,
                                                  "%zu rules are more than one reply may carry (%u); "
                                                  "list them by group with ListRulesInGroup.",
                                                  n, RULES_PER_REPLY_MAX);
        qsort(sorted, n, sizeof(Rule *), rule_pointer_compare);

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = bus_message_append_rule(reply, m, sorted[i]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* ---- Properties ------------------------------------------------------------------------------ */

static int property_get_version(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int property_get_default_action(sd_bus *bus, const char *path, const char *interface,
                                       const char *property, sd_bus_message *reply, void *userdata,
                                       sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "s", pf_action_to_string(m->rules->default_action));
}

static int property_get_interfaces(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply, void *userdata,
                                   sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ss)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_interfaces; i++) {
                const Interface *iface = &m->interfaces[i];
                const char *mode = iface->in_effect == INTERFACE_WAITING ?
                        "waiting" : xdp_mode_to_string(iface->in_effect);

                r = sd_bus_message_append(reply, "(ss)", iface->name, mode);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_rule_count(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply, void *userdata,
                                   sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "u", (uint32_t) m->rules->n_rules);
}

static int property_get_generation(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply, void *userdata,
                                   sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "t", m->generation);
}

static int property_get_max_rules(sd_bus *bus, const char *path, const char *interface,
                                  const char *property, sd_bus_message *reply, void *userdata,
                                  sd_bus_error *error) {
        return sd_bus_message_append(reply, "u", PF_MAX_RULES);
}

/* ---- Methods: rules -------------------------------------------------------------------------- */

static int method_add_rule(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(rule_freep) Rule *rule = NULL;
        Manager *m = userdata;
        uint32_t timeout, id;
        int r;

        r = bus_message_read_rule(msg, -1, NULL, &rule, &timeout, error);
        if (r < 0)
                return r;
        rule->expires_usec = timeout ? now_realtime_usec() + (uint64_t) timeout * 1000000ULL : 0;
        r = bus_check_rule_sets(m, &rule, 1, false, error);
        if (r < 0)
                return r;

        r = polkit_check_group(m, msg, rule->group, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = manager_add_rules(m, &rule, 1, &id);
        if (r < 0)
                return bus_change_error(r, 0, error);
        TAKE_PTR(rule);
        return sd_bus_reply_method_return(msg, "u", id);
}

static int reply_ids(sd_bus_message *msg, const uint32_t *ids, size_t n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'u', ids, n * sizeof(uint32_t));
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Rules read from a message, freed unless handed over. */
struct rule_list {
        Rule **rules;
        size_t n;
};

static void rule_list_done(struct rule_list *l) {
        rules_free_many(l->rules, l->n);
        *l = (struct rule_list) {};
}

/* Rules without a group key joined the one replaced when read; naming another group is a mistake. */
static int rules_check_group(struct rule_list *l, const char *group, sd_bus_error *error) {
        for (size_t i = 0; i < l->n; i++) {
                Rule *rule = l->rules[i];

                if (!streq(rule->group, group))
                        return sd_bus_error_setf(error, PF_ERROR_INVALID_RULE,
                                                 "rule %zu: Invalid group: '%s' is not the group replaced, '%s'.",
                                                 i, rule->group, group);
        }
        return 0;
}

/* AddRules and ReplaceRules: read all, authorize for the group, then one transaction. */
static int method_add_or_replace(sd_bus_message *msg, Manager *m, const char *replace_group, sd_bus_error *error) {
        _cleanup_(rule_list_done) struct rule_list list = {};
        _cleanup_free_ uint32_t *ids = NULL;
        size_t n;
        int r;

        r = bus_message_read_rules(msg, replace_group, &list.rules, &list.n, error);
        if (r < 0)
                return r;
        if (replace_group) {
                r = rules_check_group(&list, replace_group, error);
                if (r < 0)
                        return r;
        }
        r = bus_check_rule_sets(m, list.rules, list.n, true, error);
        if (r < 0)
                return r;

        r = polkit_check_group(m, msg, replace_group ?: rules_group(list.rules, list.n), error);
        if (r <= 0)
                return r < 0 ? r : 1;

        n = list.n;
        ids = calloc(n + 1, sizeof(uint32_t));
        if (!ids)
                return -ENOMEM;
        r = replace_group ? manager_replace_group(m, replace_group, list.rules, n, ids) :
                            manager_add_rules(m, list.rules, n, ids);
        if (r < 0)
                return bus_change_error(r, 0, error);

        /* The rules belong to the manager now. */
        free(TAKE_PTR(list.rules));
        list.n = 0;
        return reply_ids(msg, ids, n);
}

static int method_add_rules(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_add_or_replace(msg, userdata, NULL, error);
}

static int method_replace_rules(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *group;
        int r;

        r = sd_bus_message_read(msg, "s", &group);
        if (r < 0)
                return r;
        r = bus_check_group(group, error);
        if (r < 0)
                return r;
        return method_add_or_replace(msg, userdata, group, error);
}

/* The group the rules to remove belong to, for polkit: "" if several. */
static const char *ids_group(Manager *m, const uint32_t *ids, size_t n) {
        const char *group = NULL;

        for (size_t i = 0; i < n; i++) {
                const Rule *rule = rule_set_find(m->rules, ids[i]);

                if (!rule)
                        continue;
                if (group && !streq(group, rule->group))
                        return "";
                group = rule->group;
        }
        return group ?: RULE_GROUP_DEFAULT;
}

static int remove_ids(sd_bus_message *msg, Manager *m, const uint32_t *ids, size_t n, sd_bus_error *error) {
        uint32_t missing = 0;
        int r;

        for (size_t i = 0; i < n; i++)
                if (!rule_set_find(m->rules, ids[i]))
                        return sd_bus_error_setf(error, PF_ERROR_NO_SUCH_RULE, "No rule with id %u.", ids[i]);

        r = polkit_check_group(m, msg, ids_group(m, ids, n), error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = manager_remove_rules(m, ids, n, REMOVAL_REMOVED, &missing);
        if (r < 0)
                return bus_change_error(r, missing, error);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_remove_rule(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        uint32_t id;
        int r;

        r = sd_bus_message_read(msg, "u", &id);
        if (r < 0)
                return r;
        return remove_ids(msg, userdata, &id, 1, error);
}

static int method_remove_rules(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const uint32_t *ids;
        size_t size;
        int r;

        r = sd_bus_message_read_array(msg, 'u', (const void **) &ids, &size);
        if (r < 0)
                return r;
        if (size / sizeof(uint32_t) > RULES_PER_REPLY_MAX)
                return sd_bus_error_setf(error, PF_ERROR_LIMIT_EXCEEDED,
                                         "Too many ids in one call (at most %u).", RULES_PER_REPLY_MAX);
        return remove_ids(msg, userdata, ids, size / sizeof(uint32_t), error);
}

static int method_get_rule(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const Rule *rule;
        uint32_t id;
        int r;

        r = sd_bus_message_read(msg, "u", &id);
        if (r < 0)
                return r;
        rule = rule_set_find(m->rules, id);
        if (!rule)
                return sd_bus_error_setf(error, PF_ERROR_NO_SUCH_RULE, "No rule with id %u.", id);

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = bus_message_append_rule(reply, m, rule);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_list_rules(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return reply_rules(msg, userdata, NULL);
}

static int method_list_rules_in_group(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *group;
        int r;

        r = sd_bus_message_read(msg, "s", &group);
        if (r < 0)
                return r;
        r = bus_check_group(group, error);
        if (r < 0)
                return r;
        return reply_rules(msg, userdata, group);
}

static int method_set_rule_enabled(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const Rule *rule;
        uint32_t id;
        int enabled, r;

        r = sd_bus_message_read(msg, "ub", &id, &enabled);
        if (r < 0)
                return r;
        rule = rule_set_find(m->rules, id);
        if (!rule)
                return sd_bus_error_setf(error, PF_ERROR_NO_SUCH_RULE, "No rule with id %u.", id);

        r = polkit_check_group(m, msg, rule->group, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = manager_set_enabled(m, id, enabled);
        if (r < 0)
                return bus_change_error(r, id, error);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_set_default_action(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        enum pf_action action;
        const char *s;
        int r;

        r = sd_bus_message_read(msg, "s", &s);
        if (r < 0)
                return r;
        if (pf_default_action_from_string(s, &action) < 0)
                return sd_bus_error_setf(error, PF_ERROR_INVALID_RULE, "Invalid action '%s': expected drop or pass.", s);

        r = polkit_verify(m->polkit, msg, POLKIT_ACTION_MANAGE_INTERFACES, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = manager_set_default_action(m, action);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Failed to set the default action: %s.",
                                         strerror(-r));
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_reset_counters(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = polkit_verify(m->polkit, msg, POLKIT_ACTION_MANAGE_RULES, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = manager_reset_counters(m);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Failed to reset counters: %s.", strerror(-r));
        return sd_bus_reply_method_return(msg, NULL);
}

/* ---- Methods: blocks ------------------------------------------------------------------------- */

static int method_block(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *address;
        uint32_t timeout_sec, id;
        struct prefix p;
        int r;

        r = sd_bus_message_read(msg, "su", &address, &timeout_sec);
        if (r < 0)
                return r;
        r = bus_parse_prefix(address, &p, error);
        if (r < 0)
                return r;

        r = polkit_verify(m->polkit, msg, POLKIT_ACTION_MANAGE_RULES,
                          (const char *const[]) { "address", address, "group", RULE_GROUP_DEFAULT, NULL }, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = manager_block(m, &p, timeout_sec, &id);
        if (r == -E2BIG)
                return sd_bus_error_setf(error, PF_ERROR_LIMIT_EXCEEDED,
                                         "Cannot block '%s': the limit of %u blocks is reached.",
                                         address, PF_MAX_BLOCKS);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Failed to block '%s': %s.",
                                         address, strerror(-r));

        return sd_bus_reply_method_return(msg, "u", id);
}

static int method_unblock(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *address;
        uint32_t removed;
        struct prefix p;
        int r;

        r = sd_bus_message_read(msg, "s", &address);
        if (r < 0)
                return r;
        r = bus_parse_prefix(address, &p, error);
        if (r < 0)
                return r;

        r = polkit_verify(m->polkit, msg, POLKIT_ACTION_MANAGE_RULES,
                          (const char *const[]) { "address", address, "group", RULE_GROUP_DEFAULT, NULL }, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = manager_unblock(m, &p, &removed);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Failed to unblock '%s': %s.",
                                         address, strerror(-r));

        return sd_bus_reply_method_return(msg, "u", removed);
}

/* ---- Methods: interfaces and statistics ------------------------------------------------------ */

static int method_attach_interface(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *ifname, *mode_str;
        enum xdp_mode mode, in_effect;
        int r;

        r = sd_bus_message_read(msg, "ss", &ifname, &mode_str);
        if (r < 0)
                return r;

        mode = xdp_mode_from_string(mode_str);
        if (mode < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid mode '%s': expected auto, native or generic.", mode_str);
        r = bus_check_ifname(ifname, error);
        if (r < 0)
                return r;
        if (if_nametoindex(ifname) == 0)
                return sd_bus_error_setf(error, PF_ERROR_NO_SUCH_INTERFACE,
                                         "No interface '%s' in the daemon's network namespace.", ifname);

        r = polkit_verify(m->polkit, msg, POLKIT_ACTION_MANAGE_INTERFACES,
                          (const char *const[]) { "interface", ifname, NULL }, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = manager_attach(m, ifname, mode, &in_effect);
        if (r == -ENODEV)
                return sd_bus_error_setf(error, PF_ERROR_NO_SUCH_INTERFACE,
                                         "No interface '%s' in the daemon's network namespace.", ifname);
        if (r < 0)
                return sd_bus_error_setf(error, PF_ERROR_ATTACH_FAILED,
                                         "Failed to attach to '%s' in %s mode: %s.",
                                         ifname, mode_str, strerror(-r));

        log_info("Attached to %s in %s mode.", ifname, xdp_mode_to_string(in_effect));
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_detach_interface(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *ifname;
        int r;

        r = sd_bus_message_read(msg, "s", &ifname);
        if (r < 0)
                return r;
        r = bus_check_ifname(ifname, error);
        if (r < 0)
                return r;

        r = polkit_verify(m->polkit, msg, POLKIT_ACTION_MANAGE_INTERFACES,
                          (const char *const[]) { "interface", ifname, NULL }, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = manager_detach(m, ifname);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, PF_ERROR_NO_SUCH_INTERFACE,
                                         "The filter is not attached to '%s'.", ifname);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Failed to detach from '%s': %s.",
                                         ifname, strerror(-r));

        log_info("Detached from %s.", ifname);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = polkit_verify(m->polkit, msg, POLKIT_ACTION_MANAGE_INTERFACES, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = manager_reload(m);
        if (r == -EBADMSG)
                return sd_bus_error_setf(error, PF_ERROR_INVALID_CONFIG,
                                         "The configuration in %s is invalid (the daemon's log says where); "
                                         "nothing was changed.", m->config_file);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Failed to reload: %s.", strerror(-r));
        return sd_bus_reply_method_return(msg, NULL);
}

/* One figure of an interface, as "interface:NAME:WHAT". */
static int append_interface_figure(sd_bus_message *reply, const char *ifname, const char *what, uint64_t value) {
        char key[IF_NAMESIZE + 64];

        (void) snprintf(key, sizeof(key), "interface:%s:%s", ifname, what);
        return sd_bus_message_append(reply, "{st}", key, value);
}

/* The figures of one attached interface and their rates (see docs/dbus-api.md). */
static int append_interface_statistics(sd_bus_message *reply, Manager *m, const char *ifname) {
        static const char *const rated[] = { "packets", "bytes", "passed", "dropped", "rate-limited" };
        struct pf_iface_stats is;
        int r;

        if (manager_interface_statistics(m, ifname, &is) < 0)
                return 0;               /* waiting for its interface: no figures */
        const uint64_t value[ELEMENTSOF(rated)] = { is.packets, is.bytes, is.passed, is.dropped, is.rate_limited };

        for (size_t k = 0; k < ELEMENTSOF(rated); k++) {
                char name[RATES_NAME_MAX], what[48];

                r = append_interface_figure(reply, ifname, rated[k], value[k]);
                if (r < 0)
                        return r;
                (void) snprintf(name, sizeof(name), "%s:%s", ifname, rated[k]);
                (void) snprintf(what, sizeof(what), "%s-per-second", rated[k]);
                r = append_interface_figure(reply, ifname, what, manager_rate(m, name));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int method_get_statistics(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        struct pf_statistics s;
        uint64_t *v = s.v;
        int r;

        r = manager_statistics(m, &s);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Failed to read statistics: %s.",
                                         strerror(-r));

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{st}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{st}{st}{st}{st}{st}{st}{st}{st}{st}{st}",
                        "packets", v[PF_STAT_PACKETS],
                        "passed", v[PF_STAT_PASSED],
                        "dropped", v[PF_STAT_DROPPED_BY_RULE] + v[PF_STAT_DROPPED_BY_DEFAULT] + v[PF_STAT_RATE_LIMITED],
                        "dropped-by-rule", v[PF_STAT_DROPPED_BY_RULE],
                        "dropped-by-default", v[PF_STAT_DROPPED_BY_DEFAULT],
                        "malformed", v[PF_STAT_MALFORMED],
                        "non-ip", v[PF_STAT_NON_IP],
                        "fragments", v[PF_STAT_FRAGMENTS],
                        "always-passed", v[PF_STAT_ALWAYS_PASSED],
                        "rate-limited", v[PF_STAT_RATE_LIMITED]);
        if (r >= 0)
                r = sd_bus_message_append(reply, "{st}{st}{st}{st}",
                        "packets-per-second", manager_rate(m, "packets"),
                        "passed-per-second", manager_rate(m, "passed"),
                        "dropped-per-second", manager_rate(m, "dropped"),
                        "rate-limited-per-second", manager_rate(m, "rate-limited"));
        for (size_t i = 0; r >= 0 && i < m->n_interfaces; i++)
                r = append_interface_statistics(reply, m, m->interfaces[i].name);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* ---- Signals --------------------------------------------------------------------------------- */

static const char *const removal_reasons[] = {
        [REMOVAL_REMOVED] = "removed",
        [REMOVAL_EXPIRED] = "expired",
        [REMOVAL_REPLACED] = "replaced",
};

static int emit_rule_signal(Manager *m, const char *member, const Rule *rule) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;
        int r;

        r = sd_bus_message_new_signal(m->bus, &s, PF_BUS_PATH, PF_BUS_INTERFACE, member);
        if (r >= 0)
                r = sd_bus_message_append(s, "u", rule->id);
        if (r >= 0)
                r = bus_message_append_rule(s, m, rule);
        if (r < 0)
                return r;
        return sd_bus_send(m->bus, s, NULL);
}

/* One RulesReplaced(group, count) per group a bulk change touched: count = rules the group holds now. */
static void emit_rules_replaced(Manager *m, const struct manager_changes *c) {
        _cleanup_free_ const char **groups = NULL;
        size_t n_groups = 0, total = c->n_added + c->n_removed;

        groups = calloc(total + 1, sizeof(char *));
        if (!groups) {
                log_oom();
                return;
        }
        for (size_t i = 0; i < total; i++) {
                const char *g = i < c->n_added ? c->added[i]->group : c->removed[i - c->n_added]->group;
                bool seen = false;

                for (size_t k = 0; k < n_groups && !seen; k++)
                        seen = streq(groups[k], g);
                if (!seen)
                        groups[n_groups++] = g;
        }
        for (size_t k = 0; k < n_groups; k++) {
                uint32_t count = 0;
                int r;

                for (size_t i = 0; i < m->rules->n_rules; i++)
                        count += streq(m->rules->rules[i]->group, groups[k]);
                r = sd_bus_emit_signal(m->bus, PF_BUS_PATH, PF_BUS_INTERFACE, "RulesReplaced", "su", groups[k], count);
                if (r < 0)
                        log_warning_errno(r, "Failed to emit RulesReplaced: %m");
        }
}

static void bus_on_changes(Manager *m, const struct manager_changes *c) {
        int r = 0;

        if (!m->bus)
                return;
        if (c->n_added + c->n_removed > SIGNALS_PER_CHANGE_MAX) {
                emit_rules_replaced(m, c);
                return;
        }
        /* Removals first: a replaced rule goes before its successor comes. */
        for (size_t i = 0; i < c->n_removed && r >= 0; i++)
                r = sd_bus_emit_signal(m->bus, PF_BUS_PATH, PF_BUS_INTERFACE, "RuleRemoved", "us",
                                       c->removed[i]->id, removal_reasons[c->reason]);
        for (size_t i = 0; i < c->n_added && r >= 0; i++)
                r = emit_rule_signal(m, "RuleAdded", c->added[i]);
        if (r >= 0 && c->changed)
                r = emit_rule_signal(m, "RuleChanged", c->changed);
        if (r < 0)
                log_warning_errno(r, "Failed to emit rule signals: %m");
}

/* One PropertiesChanged per committed change, always with Generation. */
static void bus_on_manager_change(Manager *m, unsigned changes) {
        const char *names[5];
        size_t n = 0;
        int r;

        if (!m->bus)
                return;
        if (changes & MANAGER_CHANGED_RULES)
                names[n++] = "RuleCount";
        if (changes & MANAGER_CHANGED_DEFAULT_ACTION)
                names[n++] = "DefaultAction";
        if (changes & MANAGER_CHANGED_INTERFACES)
                names[n++] = "Interfaces";
        names[n++] = "Generation";
        names[n] = NULL;
        r = sd_bus_emit_properties_changed_strv(m->bus, PF_BUS_PATH, PF_BUS_INTERFACE, (char **) names);
        if (r < 0)
                log_warning_errno(r, "Failed to emit PropertiesChanged: %m");
}

static const char *const drop_reasons[_PF_DROP_REASON_MAX] = {
        [PF_DROP_RULE] = "rule",
        [PF_DROP_BLOCK] = "block",
        [PF_DROP_RATE_LIMITED] = "rate-limit",
        [PF_DROP_DEFAULT] = "default",
        [PF_DROP_MALFORMED] = "malformed",
        [PF_DROP_NON_IP] = "non-ip",
};

/* PacketDropped(a{sv}): one report of drop-events.c, already rate limited there. */
static void bus_on_drop(Manager *m, const struct drop_report *d) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;
        char ifname[IF_NAMESIZE] = "", source[PREFIX_STRING_MAX] = "", destination[PREFIX_STRING_MAX] = "";
        char proto[4];
        const char *protocol = "";
        int r;

        if (!m->bus)
                return;
        if (d->ifindex == 0 || !if_indextoname(d->ifindex, ifname))
                ifname[0] = '\0';
        if (d->has_addresses) {
                struct prefix p = { .family = d->family == PF_FAMILY_V4 ? AF_INET : AF_INET6 };

                p.prefixlen = p.family == AF_INET ? 32 : 128;
                memcpy(p.addr, d->source, p.family == AF_INET ? 4 : 16);
                (void) prefix_format(&p, source);
                memcpy(p.addr, d->destination, p.family == AF_INET ? 4 : 16);
                (void) prefix_format(&p, destination);
        }
        if (d->has_protocol)
                protocol = rule_protocol_to_string(d->protocol, proto);

        r = sd_bus_message_new_signal(m->bus, &s, PF_BUS_PATH, PF_BUS_INTERFACE, "PacketDropped");
        if (r >= 0)
                r = sd_bus_message_open_container(s, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(s, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}",
                                          "time", "t", d->time_usec,
                                          "interface", "s", ifname,
                                          "source", "s", source,
                                          "destination", "s", destination,
                                          "protocol", "s", protocol,
                                          "port", "u", (uint32_t) (d->has_port ? d->port : 0),
                                          "rule", "u", d->rule_id,
                                          "count", "u", (uint32_t) (d->count > UINT32_MAX ? UINT32_MAX : d->count),
                                          "reason", "s", drop_reasons[d->reason]);
        if (r >= 0)
                r = sd_bus_message_close_container(s);
        if (r >= 0)
                r = sd_bus_send(m->bus, s, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to emit PacketDropped: %m");
}

/* ---- The object ------------------------------------------------------------------------------ */

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),

        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DefaultAction", "s", property_get_default_action, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Interfaces", "a(ss)", property_get_interfaces, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("RuleCount", "u", property_get_rule_count, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Generation", "t", property_get_generation, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("MaxRules", "u", property_get_max_rules, 0, SD_BUS_VTABLE_PROPERTY_CONST),

        SD_BUS_METHOD_WITH_ARGS("AddRule", SD_BUS_ARGS("a{sv}", rule), SD_BUS_RESULT("u", id),
                                method_add_rule, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddRules", SD_BUS_ARGS("aa{sv}", rules), SD_BUS_RESULT("au", ids),
                                method_add_rules, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveRule", SD_BUS_ARGS("u", id), SD_BUS_NO_RESULT,
                                method_remove_rule, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveRules", SD_BUS_ARGS("au", ids), SD_BUS_NO_RESULT,
                                method_remove_rules, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ReplaceRules", SD_BUS_ARGS("s", group, "aa{sv}", rules), SD_BUS_RESULT("au", ids),
                                method_replace_rules, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetRule", SD_BUS_ARGS("u", id), SD_BUS_RESULT("a{sv}", rule),
                                method_get_rule, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListRules", SD_BUS_NO_ARGS, SD_BUS_RESULT("aa{sv}", rules),
                                method_list_rules, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListRulesInGroup", SD_BUS_ARGS("s", group), SD_BUS_RESULT("aa{sv}", rules),
                                method_list_rules_in_group, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetRuleEnabled", SD_BUS_ARGS("u", id, "b", enabled), SD_BUS_NO_RESULT,
                                method_set_rule_enabled, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetDefaultAction", SD_BUS_ARGS("s", action), SD_BUS_NO_RESULT,
                                method_set_default_action, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ResetCounters", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
                                method_reset_counters, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Block", SD_BUS_ARGS("s", address, "u", timeout_sec), SD_BUS_RESULT("u", id),
                                method_block, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unblock", SD_BUS_ARGS("s", address), SD_BUS_RESULT("u", removed),
                                method_unblock, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AttachInterface", SD_BUS_ARGS("s", ifname, "s", mode), SD_BUS_NO_RESULT,
                                method_attach_interface, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DetachInterface", SD_BUS_ARGS("s", ifname), SD_BUS_NO_RESULT,
                                method_detach_interface, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
                                method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetStatistics", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{st}", statistics),
                                method_get_statistics, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateSet", SD_BUS_ARGS("s", name, "a{sv}", options), SD_BUS_NO_RESULT,
                                method_create_set, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteSet", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                method_delete_set, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddToSet", SD_BUS_ARGS("s", name, "as", entries, "u", timeout_sec),
                                SD_BUS_RESULT("u", added), method_add_to_set, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveFromSet", SD_BUS_ARGS("s", name, "as", entries), SD_BUS_RESULT("u", removed),
                                method_remove_from_set, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ImportSet", SD_BUS_ARGS("s", name, "h", fd, "a{sv}", options),
                                SD_BUS_RESULT("u", added, "u", skipped), method_import_set, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ExportSet", SD_BUS_ARGS("s", name, "h", fd), SD_BUS_RESULT("u", written),
                                method_export_set, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListSets", SD_BUS_NO_ARGS, SD_BUS_RESULT("aa{sv}", sets),
                                method_list_sets, SD_BUS_VTABLE_UNPRIVILEGED),

        SD_BUS_SIGNAL_WITH_ARGS("RuleAdded", SD_BUS_ARGS("u", id, "a{sv}", rule), 0),
        SD_BUS_SIGNAL_WITH_ARGS("RuleRemoved", SD_BUS_ARGS("u", id, "s", reason), 0),
        SD_BUS_SIGNAL_WITH_ARGS("RuleChanged", SD_BUS_ARGS("u", id, "a{sv}", rule), 0),
        SD_BUS_SIGNAL_WITH_ARGS("RulesReplaced", SD_BUS_ARGS("s", group, "u", count), 0),
        SD_BUS_SIGNAL_WITH_ARGS("SetChanged", SD_BUS_ARGS("s", name, "s", change), 0),
        SD_BUS_SIGNAL_WITH_ARGS("PacketDropped", SD_BUS_ARGS("a{sv}", event), 0),

        SD_BUS_VTABLE_END
};

int bus_setup(Manager *m) {
        int r;

        r = sd_bus_error_add_map(pf_bus_error_map);
        if (r < 0)
                return log_error_errno(r, "Failed to register error map: %m");

        /* sd_bus_open_system honours DBUS_SYSTEM_BUS_ADDRESS. */
        r = sd_bus_open_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");

        r = sd_bus_add_object_vtable(m->bus, NULL, PF_BUS_PATH, PF_BUS_INTERFACE, manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add object vtable: %m");

        r = sd_bus_attach_event(m->bus, m->event, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to attach bus to event loop: %m");
        /* Without the bus nobody can manage the filter: exit (it stays in place) and let
         * systemd start us again. */
        r = sd_bus_set_exit_on_disconnect(m->bus, true);
        if (r < 0)
                return log_error_errno(r, "Failed to set exit on disconnect: %m");

        m->notify = bus_on_manager_change;
        m->notify_changes = bus_on_changes;
        m->notify_set = bus_on_set_change;
        m->notify_drop = bus_on_drop;
        return 0;
}

int bus_request_name(Manager *m) {
        int r;

        r = sd_bus_request_name(m->bus, PF_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to own bus name %s: %m", PF_BUS_NAME);
        return 0;
}
