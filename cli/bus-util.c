/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "bus-util.h"
#include "packetfilterctl.h"

/* Long enough for a person to answer a polkit password prompt; sd-bus's default is 25 s. */
#define INTERACTIVE_CALL_TIMEOUT_USEC (120 * UINT64_C(1000000))

int bus_connect(sd_bus **ret_bus) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        if (arg_host)
                r = sd_bus_open_system_remote(&bus, arg_host);
        else
                r = sd_bus_open_system(&bus);
        if (r < 0)
                return cli_error_errno(r, "Failed to connect to the system bus%s%s: %m",
                                       arg_host ? " on " : "", arg_host ?: "");

        /* Only a person at a terminal can answer a password prompt; elsewhere, fail fast. */
        if (arg_ask_password && isatty(STDIN_FILENO)) {
                r = sd_bus_set_allow_interactive_authorization(bus, true);
                if (r < 0)
                        return cli_error_errno(r, "Failed to allow interactive authorization: %m");
                r = sd_bus_set_method_call_timeout(bus, INTERACTIVE_CALL_TIMEOUT_USEC);
                if (r < 0)
                        return cli_error_errno(r, "Failed to set the method call timeout: %m");
        }

        *ret_bus = TAKE_PTR(bus);
        return 0;
}

int bus_call(sd_bus *bus, const char *method, sd_bus_error *error, sd_bus_message **reply,
             const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = sd_bus_call_methodv(bus, PF_BUS_NAME, PF_OBJECT_PATH, PF_INTERFACE, method,
                                error, reply, types, ap);
        va_end(ap);
        return r;
}

const char *bus_error_message(const sd_bus_error *error, int r) {
        if (error && error->message)
                return error->message;
        return strerror(r < 0 ? -r : r);
}

static int read_json_basic(sd_bus_message *m, char type, json_object **ret) {
        union {
                uint8_t u8;
                int b;
                int16_t i16;
                uint16_t u16;
                int32_t i32;
                uint32_t u32;
                int64_t i64;
                uint64_t u64;
                double d;
                const char *s;
                int fd;
        } v;
        json_object *o;
        int r;

        r = sd_bus_message_read_basic(m, type, &v);
        if (r < 0)
                return r;

        switch (type) {
        case SD_BUS_TYPE_BYTE:
                o = json_object_new_int64(v.u8);
                break;
        case SD_BUS_TYPE_BOOLEAN:
                o = json_object_new_boolean(v.b);
                break;
        case SD_BUS_TYPE_INT16:
                o = json_object_new_int64(v.i16);
                break;
        case SD_BUS_TYPE_UINT16:
                o = json_object_new_int64(v.u16);
                break;
        case SD_BUS_TYPE_INT32:
                o = json_object_new_int64(v.i32);
                break;
        case SD_BUS_TYPE_UINT32:
                o = json_object_new_int64(v.u32);
                break;
        case SD_BUS_TYPE_INT64:
                o = json_object_new_int64(v.i64);
                break;
        case SD_BUS_TYPE_UINT64:
                o = json_object_new_uint64(v.u64);
                break;
        case SD_BUS_TYPE_DOUBLE:
                o = json_object_new_double(v.d);
                break;
        case SD_BUS_TYPE_UNIX_FD:
                o = json_object_new_int64(v.fd);
                break;
        case SD_BUS_TYPE_STRING:
        case SD_BUS_TYPE_OBJECT_PATH:
        case SD_BUS_TYPE_SIGNATURE:
                o = json_object_new_string(v.s);
                break;
        default:
                return -EBADMSG;
        }
        if (!o)
                return -ENOMEM;

        *ret = o;
        return 0;
}

/* a{s*}, a{o*}, a{g*}: the only dictionaries whose keys can be JSON object keys. */
static int read_json_dict(sd_bus_message *m, const char *contents, json_object **ret) {
        _cleanup_json_ json_object *object = NULL;
        const char *entry_contents;
        char type;
        int r;

        object = json_object_new_object();
        if (!object)
                return -ENOMEM;

        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, contents);
        if (r < 0)
                return r;

        while ((r = sd_bus_message_peek_type(m, &type, &entry_contents)) > 0) {
                _cleanup_json_ json_object *value = NULL;
                const char *key;

                r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, entry_contents);
                if (r < 0)
                        return r;
                r = sd_bus_message_read_basic(m, entry_contents[0], &key);
                if (r < 0)
                        return r;
                r = bus_message_read_json(m, &value);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;

                if (json_object_object_add(object, key, TAKE_PTR(value)) < 0)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;

        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(object);
        return 0;
}

/* Any other array, or a struct: a JSON array of its members. */
static int read_json_sequence(sd_bus_message *m, char container, const char *contents, json_object **ret) {
        _cleanup_json_ json_object *array = NULL;
        int r;

        array = json_object_new_array();
        if (!array)
                return -ENOMEM;

        r = sd_bus_message_enter_container(m, container, contents);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_json_ json_object *value = NULL;

                r = sd_bus_message_at_end(m, false);
                if (r < 0)
                        return r;
                if (r > 0)
                        break;

                r = bus_message_read_json(m, &value);
                if (r < 0)
                        return r;
                if (json_object_array_add(array, TAKE_PTR(value)) < 0)
                        return -ENOMEM;
        }

        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(array);
        return 0;
}

int bus_message_read_json(sd_bus_message *m, json_object **ret) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENXIO;

        switch (type) {
        case SD_BUS_TYPE_ARRAY:
                if (contents[0] == SD_BUS_TYPE_DICT_ENTRY_BEGIN &&
                    strchr("sog", contents[1]))
                        return read_json_dict(m, contents, ret);
                return read_json_sequence(m, type, contents, ret);

        case SD_BUS_TYPE_STRUCT:
                return read_json_sequence(m, type, contents, ret);

        case SD_BUS_TYPE_VARIANT: {
                _cleanup_json_ json_object *value = NULL;

                r = sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, contents);
                if (r < 0)
                        return r;
                r = bus_message_read_json(m, &value);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(value);
                return 0;
        }

        default:
                return read_json_basic(m, type, ret);
        }
}

int bus_get_all_properties_json(sd_bus *bus, sd_bus_error *error, json_object **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(bus, PF_BUS_NAME, PF_OBJECT_PATH,
                               "org.freedesktop.DBus.Properties", "GetAll",
                               error, &reply, "s", PF_INTERFACE);
        if (r < 0)
                return r;

        return bus_message_read_json(reply, ret);
}

int bus_message_append_rule_fields(sd_bus_message *m, const RuleFields *rule) {
        int r;

        r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
        if (r < 0)
                return r;

        for (size_t i = 0; i < rule->n_fields; i++) {
                const RuleField *field = &rule->fields[i];

                switch (field->type) {
                case RULE_VALUE_STRING:
                        r = sd_bus_message_append(m, "{sv}", field->key, "s", field->string);
                        break;
                case RULE_VALUE_UINT32:
                        r = sd_bus_message_append(m, "{sv}", field->key, "u", field->uint32);
                        break;
                case RULE_VALUE_INT32:
                        r = sd_bus_message_append(m, "{sv}", field->key, "i", field->int32);
                        break;
                case RULE_VALUE_BOOLEAN:
                        r = sd_bus_message_append(m, "{sv}", field->key, "b", (int) field->boolean);
                        break;
                case RULE_VALUE_UINT64:
                        r = sd_bus_message_append(m, "{sv}", field->key, "t", field->uint64);
                        break;
                default:
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }

        return sd_bus_message_close_container(m);
}

static int read_rule_field(sd_bus_message *m, RuleFields *rule) {
        const char *key, *contents;
        union {
                const char *s;
                uint32_t u;
                int32_t i;
                int b;
                uint64_t t;
        } v;
        char type;
        int r;

        r = sd_bus_message_read_basic(m, SD_BUS_TYPE_STRING, &key);
        if (r < 0)
                return r;
        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (r == 0 || type != SD_BUS_TYPE_VARIANT)
                return -EBADMSG;

        if (strlen(contents) != 1 || !strchr("suibt", contents[0])) {
                r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                return rule_fields_add_other(rule, key);
        }

        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, contents);
        if (r < 0)
                return r;
        r = sd_bus_message_read_basic(m, contents[0], &v);
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        switch (contents[0]) {
        case SD_BUS_TYPE_STRING:
                return rule_fields_add_string(rule, key, v.s);
        case SD_BUS_TYPE_UINT32:
                return rule_fields_add_uint32(rule, key, v.u);
        case SD_BUS_TYPE_INT32:
                return rule_fields_add_int32(rule, key, v.i);
        case SD_BUS_TYPE_BOOLEAN:
                return rule_fields_add_boolean(rule, key, v.b);
        default:
                return rule_fields_add_uint64(rule, key, v.t);
        }
}

int bus_message_read_rule_fields(sd_bus_message *m, RuleFields *ret) {
        _cleanup_(rule_fields_clear) RuleFields rule = {};
        int r;

        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
        if (r < 0)
                return r;

        while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv")) > 0) {
                r = read_rule_field(m, &rule);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;

        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        *ret = rule;
        rule = (RuleFields) {};
        return 0;
}

void rule_list_free(RuleFields *rules, size_t n) {
        for (size_t i = 0; i < n; i++)
                rule_fields_clear(&rules[i]);
        free(rules);
}

int bus_message_read_rule_list(sd_bus_message *m, RuleFields **ret_rules, size_t *ret_n) {
        RuleFields *rules = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "a{sv}");
        if (r < 0)
                return r;

        for (;;) {
                RuleFields rule = {}, *grown;

                r = sd_bus_message_at_end(m, false);
                if (r != 0)
                        break;
                r = bus_message_read_rule_fields(m, &rule);
                if (r < 0)
                        break;
                grown = reallocarray(rules, n + 1, sizeof(RuleFields));
                if (!grown) {
                        rule_fields_clear(&rule);
                        r = -ENOMEM;
                        break;
                }
                rules = grown;
                rules[n++] = rule;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                rule_list_free(rules, n);
                return r;
        }

        *ret_rules = rules;
        *ret_n = n;
        return 0;
}
