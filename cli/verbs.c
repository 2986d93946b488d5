/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus-util.h"
#include "format.h"
#include "packetfilterctl.h"
#include "verbs.h"

/* Counters in the order people read them; keys a newer daemon adds follow, as they come. */
static const char *const statistics_order[] = {
        "packets",
        "passed",
        "dropped",
        "dropped-by-rule",
        "dropped-by-default",
        "malformed",
        "non-ip",
};

static int json_print(json_object *o) {
        /* Pretty for people, one line for pipes; never "\/" in prefixes like 192.0.2.0/24. */
        int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
                (isatty(STDOUT_FILENO) ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                                       : JSON_C_TO_STRING_PLAIN);
        const char *text = json_object_to_json_string_ext(o, flags);

        if (!text)
                return cli_oom();
        if (puts(text) < 0 || fflush(stdout) != 0)
                return cli_error_errno(negative_errno(), "Failed to write output: %m");
        return 0;
}

static const char *json_get_string(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static bool json_get_u64(json_object *o, const char *key, uint64_t *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return false;
        *ret = json_object_get_uint64(v);
        return true;
}

static uint64_t now_realtime_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static int print_table(const Table *t) {
        int r = table_print(t, stdout);
        if (r < 0)
                return cli_error_errno(r, "Failed to write output: %m");
        return 0;
}

/* Prints "N" for a method that returns one number, or {"key": N} with --json. */
static int print_reply_number(const char *key, uint32_t value) {
        if (arg_json) {
                _cleanup_json_ json_object *o = json_object_new_object();

                if (!o || json_object_object_add(o, key, json_object_new_int64(value)) < 0)
                        return cli_oom();
                return json_print(o);
        }

        printf("%" PRIu32 "\n", value);
        return 0;
}

int verb_attach(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *ifname = argv[1];
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = bus_call(bus, "AttachInterface", &error, NULL, "ss", ifname, arg_mode ?: "auto");
        if (r < 0)
                return cli_error_errno(r, "Failed to attach to '%s': %s", ifname, bus_error_message(&error, r));
        return 0;
}

int verb_detach(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *ifname = argv[1];
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = bus_call(bus, "DetachInterface", &error, NULL, "s", ifname);
        if (r < 0)
                return cli_error_errno(r, "Failed to detach from '%s': %s", ifname, bus_error_message(&error, r));
        return 0;
}

int verb_block(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *address = argv[1];
        uint32_t id;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = bus_call(bus, "Block", &error, &reply, "su", address, (uint32_t) arg_timeout_sec);
        if (r < 0)
                return cli_error_errno(r, "Failed to block '%s': %s", address, bus_error_message(&error, r));

        r = sd_bus_message_read(reply, "u", &id);
        if (r < 0)
                return cli_error_errno(r, "Failed to parse the reply to Block: %m");

        return print_reply_number("id", id);
}

int verb_unblock(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *address = argv[1];
        uint32_t removed;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = bus_call(bus, "Unblock", &error, &reply, "s", address);
        if (r < 0)
                return cli_error_errno(r, "Failed to unblock '%s': %s", address, bus_error_message(&error, r));

        r = sd_bus_message_read(reply, "u", &removed);
        if (r < 0)
                return cli_error_errno(r, "Failed to parse the reply to Unblock: %m");

        return print_reply_number("removed", removed);
}

/* The EXPIRES cell: time left, rounded up so that a live rule never shows "0s". */
static const char *format_expiry(char *buf, size_t size, uint64_t expires_usec, uint64_t now_usec) {
        if (expires_usec == 0)
                return "never";
        if (expires_usec <= now_usec)
                return "expired";
        return format_timespan_sec(buf, size, (expires_usec - now_usec + USEC_PER_SEC - 1) / USEC_PER_SEC);
}

static int rule_table_add(Table *t, json_object *rule, uint64_t now_usec) {
        char id[FORMAT_BUFFER_MAX] = "", packets[FORMAT_BUFFER_MAX] = "",
                bytes[FORMAT_BUFFER_MAX] = "", expires[FORMAT_BUFFER_MAX] = "";
        const char *expires_cell = "";
        uint64_t v;

        if (json_get_u64(rule, "id", &v))
                (void) snprintf(id, sizeof(id), "%" PRIu64, v);
        if (json_get_u64(rule, "packets", &v))
                (void) snprintf(packets, sizeof(packets), "%" PRIu64, v);
        if (json_get_u64(rule, "bytes", &v))
                (void) format_bytes(bytes, sizeof(bytes), v);
        if (json_get_u64(rule, "expires", &v))
                expires_cell = format_expiry(expires, sizeof(expires), v, now_usec);

        const char *cells[] = {
                id,
                json_get_string(rule, "action") ?: "",
                /* A rule without a source matches every source. */
                json_get_string(rule, "source") ?: "any",
                packets,
                bytes,
                expires_cell,
        };
        return table_add_row(t, cells);
}

int verb_list(int argc, char *argv[]) {
        static const char *const headers[] = { "ID", "ACTION", "SOURCE", "PACKETS", "BYTES", "EXPIRES" };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(table_freep) Table *table = NULL;
        _cleanup_json_ json_object *rules = NULL;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = bus_call(bus, "ListRules", &error, &reply, "");
        if (r < 0)
                return cli_error_errno(r, "Failed to list rules: %s", bus_error_message(&error, r));

        r = bus_message_read_json(reply, &rules);
        if (r >= 0 && !json_object_is_type(rules, json_type_array))
                r = -EBADMSG;
        if (r < 0)
                return cli_error_errno(r, "Failed to parse the reply to ListRules: %m");

        if (arg_json)
                return json_print(rules);

        size_t n = json_object_array_length(rules);
        if (n == 0) {
                puts("No rules.");
                return 0;
        }

        table = table_new(ELEMENTSOF(headers), headers);
        if (!table)
                return cli_oom();
        table_set_right_aligned(table, 0, true);
        table_set_right_aligned(table, 3, true);
        table_set_right_aligned(table, 4, true);

        uint64_t now = now_realtime_usec();
        for (size_t i = 0; i < n; i++) {
                r = rule_table_add(table, json_object_array_get_idx(rules, i), now);
                if (r < 0)
                        return cli_oom();
        }

        return print_table(table);
}

static int get_statistics(sd_bus *bus, json_object **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_json_ json_object *statistics = NULL;
        int r;

        r = bus_call(bus, "GetStatistics", &error, &reply, "");
        if (r < 0)
                return cli_error_errno(r, "Failed to get statistics: %s", bus_error_message(&error, r));

        r = bus_message_read_json(reply, &statistics);
        if (r >= 0 && !json_object_is_type(statistics, json_type_object))
                r = -EBADMSG;
        if (r < 0)
                return cli_error_errno(r, "Failed to parse the reply to GetStatistics: %m");

        *ret = TAKE_PTR(statistics);
        return 0;
}

static bool is_known_statistic(const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(statistics_order); i++)
                if (streq(statistics_order[i], key))
                        return true;
        return false;
}

static int statistics_table_add(Table *t, const char *key, json_object *value) {
        const char *cells[] = { key, json_object_get_string(value) };
        return table_add_row(t, cells);
}

int verb_stats(int argc, char *argv[]) {
        static const char *const headers[] = { "COUNTER", "VALUE" };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(table_freep) Table *table = NULL;
        _cleanup_json_ json_object *statistics = NULL;
        json_object *value;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = get_statistics(bus, &statistics);
        if (r < 0)
                return r;

        if (arg_json)
                return json_print(statistics);

        table = table_new(ELEMENTSOF(headers), headers);
        if (!table)
                return cli_oom();
        table_set_show_header(table, false);
        table_set_right_aligned(table, 1, true);

        for (size_t i = 0; i < ELEMENTSOF(statistics_order); i++)
                if (json_object_object_get_ex(statistics, statistics_order[i], &value) &&
                    statistics_table_add(table, statistics_order[i], value) < 0)
                        return cli_oom();

        json_object_object_foreach(statistics, key, v)
                if (!is_known_statistic(key) && statistics_table_add(table, key, v) < 0)
                        return cli_oom();

        return print_table(table);
}

/* "RuleCount" → "rule-count": JSON keys in the style of the rule dictionaries. */
static char *property_name_to_json_key(const char *name) {
        char *key = malloc(strlen(name) * 2 + 1), *p = key;

        if (!key)
                return NULL;
        for (const char *c = name; *c; c++) {
                if (isupper((unsigned char) *c) && c != name)
                        *p++ = '-';
                *p++ = tolower((unsigned char) *c);
        }
        *p = '\0';
        return key;
}

/* Interfaces arrive as a(ss), i.e. [[name, mode], ...]; scripts want [{"name", "mode"}, ...]. */
static json_object *interfaces_to_json(json_object *interfaces) {
        _cleanup_json_ json_object *array = json_object_new_array();

        if (!array)
                return NULL;
        for (size_t i = 0; i < json_object_array_length(interfaces); i++) {
                json_object *pair = json_object_array_get_idx(interfaces, i);
                _cleanup_json_ json_object *o = json_object_new_object();

                if (!o)
                        return NULL;
                if (json_object_is_type(pair, json_type_array) && json_object_array_length(pair) == 2 &&
                    (json_object_object_add(o, "name", json_object_get(json_object_array_get_idx(pair, 0))) < 0 ||
                     json_object_object_add(o, "mode", json_object_get(json_object_array_get_idx(pair, 1))) < 0))
                        return NULL;
                if (json_object_array_add(array, TAKE_PTR(o)) < 0)
                        return NULL;
        }
        return TAKE_PTR(array);
}

/* {"version": ..., "interfaces": [{"name", "mode"}], "rule-count": ..., ..., "statistics": {...}} */
static int status_to_json(json_object *properties, json_object *statistics, json_object **ret) {
        _cleanup_json_ json_object *status = json_object_new_object();

        if (!status)
                return -ENOMEM;

        json_object_object_foreach(properties, name, value) {
                _cleanup_free_ char *key = property_name_to_json_key(name);
                json_object *converted;

                if (!key)
                        return -ENOMEM;
                if (streq(name, "Interfaces") && json_object_is_type(value, json_type_array))
                        converted = interfaces_to_json(value);
                else
                        converted = json_object_get(value);
                if (!converted || json_object_object_add(status, key, converted) < 0)
                        return -ENOMEM;
        }

        if (json_object_object_add(status, "statistics", json_object_get(statistics)) < 0)
                return -ENOMEM;

        *ret = TAKE_PTR(status);
        return 0;
}

static int status_table_add(Table *t, const char *label, const char *value) {
        const char *cells[] = { label, value };
        return table_add_row(t, cells);
}

static int status_print(json_object *status) {
        static const char *const headers[] = { "FIELD", "VALUE" };
        _cleanup_(table_freep) Table *table = NULL;
        json_object *interfaces, *statistics, *v;
        int r = 0;

        table = table_new(ELEMENTSOF(headers), headers);
        if (!table)
                return cli_oom();
        table_set_show_header(table, false);
        table_set_right_aligned(table, 0, true);
        table_set_separator(table, " ");

        r = status_table_add(table, "Version:", strna(json_get_string(status, "version")));

        if (r >= 0 && json_object_object_get_ex(status, "interfaces", &interfaces)) {
                size_t n = json_object_array_length(interfaces);

                if (n == 0)
                        r = status_table_add(table, "Interfaces:", "none");
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        json_object *interface = json_object_array_get_idx(interfaces, i);
                        _cleanup_free_ char *cell = NULL;

                        if (asprintf(&cell, "%s (%s)", strna(json_get_string(interface, "name")),
                                     strna(json_get_string(interface, "mode"))) < 0)
                                return cli_oom();
                        /* Only the first line carries the label, as in hostnamectl. */
                        r = status_table_add(table, i == 0 ? "Interfaces:" : "", cell);
                }
        }

        if (r >= 0 && json_get_string(status, "default-action"))
                r = status_table_add(table, "Default action:", json_get_string(status, "default-action"));

        if (r >= 0 && json_object_object_get_ex(status, "rule-count", &v))
                r = status_table_add(table, "Rules:", json_object_get_string(v));

        if (r >= 0 && json_object_object_get_ex(status, "statistics", &statistics)) {
                static const struct {
                        const char *key, *label;
                } main_statistics[] = {
                        { "packets", "Packets:" },
                        { "passed",  "Passed:" },
                        { "dropped", "Dropped:" },
                };

                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(main_statistics); i++)
                        if (json_object_object_get_ex(statistics, main_statistics[i].key, &v))
                                r = status_table_add(table, main_statistics[i].label, json_object_get_string(v));
        }
        if (r < 0)
                return cli_oom();

        return print_table(table);
}

int verb_status(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_json_ json_object *properties = NULL, *statistics = NULL, *status = NULL;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = bus_get_all_properties_json(bus, &error, &properties);
        if (r >= 0 && !json_object_is_type(properties, json_type_object))
                r = -EBADMSG;
        if (r < 0)
                return cli_error_errno(r, "Failed to get the service's properties: %s", bus_error_message(&error, r));

        r = get_statistics(bus, &statistics);
        if (r < 0)
                return r;

        r = status_to_json(properties, statistics, &status);
        if (r < 0)
                return cli_oom();

        if (arg_json)
                return json_print(status);
        return status_print(status);
}
