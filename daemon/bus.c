/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every handler has one shape: read arguments, validate, authorize
 * (asynchronously: the handler runs again when polkit answers), act,
 * reply. Named D-Bus errors are made here and nowhere else.
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>

#include "bus-errors.h"
#include "bus.h"
#include "config.h"
#include "log.h"
#include "macro.h"

#define POLKIT_ACTION_MANAGE "org.example.packetfilter.manage"

/* ---- Properties ---------------------------------------------------------------------------- */

static int property_get_version(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
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

/* ---- Helpers ------------------------------------------------------------------------------- */

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

static int append_rule(sd_bus_message *reply, Manager *m, const Rule *rule) {
        char buf[PREFIX_STRING_MAX];
        uint64_t packets = 0, bytes = 0;
        int r;

        r = manager_rule_counters(m, rule, &packets, &bytes);
        if (r < 0)
                log_warning_errno(r, "Failed to read counters of rule %u: %m", rule->id);

        return sd_bus_message_append(reply, "a{sv}", 7,
                                     "id", "u", rule->id,
                                     "action", "s", pf_action_to_string(rule->action),
                                     "source", "s", prefix_format(&rule->source, buf),
                                     "packets", "t", packets,
                                     "bytes", "t", bytes,
                                     "created", "t", rule->created_usec,
                                     "expires", "t", rule->expires_usec);
}

/* ---- Methods ------------------------------------------------------------------------------- */

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

        r = polkit_verify(m->polkit, msg, POLKIT_ACTION_MANAGE,
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

        r = polkit_verify(m->polkit, msg, POLKIT_ACTION_MANAGE,
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

        r = polkit_verify(m->polkit, msg, POLKIT_ACTION_MANAGE,
                          (const char *const[]) { "address", address, "group", "default", NULL }, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = manager_block(m, &p, timeout_sec, &id);
        if (r == -E2BIG)
                return sd_bus_error_setf(error, PF_ERROR_LIMIT_EXCEEDED,
                                         "Cannot block '%s': the limit of %u rules is reached.",
                                         address, PF_MAX_RULES);
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

        r = polkit_verify(m->polkit, msg, POLKIT_ACTION_MANAGE,
                          (const char *const[]) { "address", address, "group", "default", NULL }, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = manager_unblock(m, &p, &removed);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Failed to unblock '%s': %s.",
                                         address, strerror(-r));

        return sd_bus_reply_method_return(msg, "u", removed);
}

static int method_list_rules(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->rules->n_rules; i++) {
                r = append_rule(reply, m, m->rules->rules[i]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_statistics(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        struct pf_statistics s;
        uint64_t *v = s.v;
        int r;

        r = manager_statistics(m, &s);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Failed to read statistics: %s.",
                                         strerror(-r));

        return sd_bus_reply_method_return(msg, "a{st}", 7,
                "packets", v[PF_STAT_PACKETS],
                "passed", v[PF_STAT_PASSED],
                "dropped", v[PF_STAT_DROPPED_BY_RULE] + v[PF_STAT_DROPPED_BY_DEFAULT],
                "dropped-by-rule", v[PF_STAT_DROPPED_BY_RULE],
                "dropped-by-default", v[PF_STAT_DROPPED_BY_DEFAULT],
                "malformed", v[PF_STAT_MALFORMED],
                "non-ip", v[PF_STAT_NON_IP]);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),

        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Interfaces", "a(ss)", property_get_interfaces, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("RuleCount", "u", property_get_rule_count, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),

        SD_BUS_METHOD_WITH_ARGS("AttachInterface",
                                SD_BUS_ARGS("s", ifname, "s", mode),
                                SD_BUS_NO_RESULT,
                                method_attach_interface,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DetachInterface",
                                SD_BUS_ARGS("s", ifname),
                                SD_BUS_NO_RESULT,
                                method_detach_interface,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Block",
                                SD_BUS_ARGS("s", address, "u", timeout_sec),
                                SD_BUS_RESULT("u", id),
                                method_block,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unblock",
                                SD_BUS_ARGS("s", address),
                                SD_BUS_RESULT("u", removed),
                                method_unblock,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListRules",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("aa{sv}", rules),
                                method_list_rules,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetStatistics",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a{st}", statistics),
                                method_get_statistics,
                                SD_BUS_VTABLE_UNPRIVILEGED),

        SD_BUS_VTABLE_END
};

static void bus_on_manager_change(Manager *m, unsigned changes) {
        int r;

        if (!m->bus)
                return;
        if (changes & MANAGER_CHANGED_RULES) {
                r = sd_bus_emit_properties_changed(m->bus, PF_BUS_PATH, PF_BUS_INTERFACE, "RuleCount", NULL);
                if (r < 0)
                        log_warning_errno(r, "Failed to emit PropertiesChanged: %m");
        }
        if (changes & MANAGER_CHANGED_INTERFACES) {
                r = sd_bus_emit_properties_changed(m->bus, PF_BUS_PATH, PF_BUS_INTERFACE, "Interfaces", NULL);
                if (r < 0)
                        log_warning_errno(r, "Failed to emit PropertiesChanged: %m");
        }
}

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

        m->notify = bus_on_manager_change;
        return 0;
}

int bus_request_name(Manager *m) {
        int r;

        r = sd_bus_request_name(m->bus, PF_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to own bus name %s: %m", PF_BUS_NAME);
        return 0;
}
