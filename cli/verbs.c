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
        "rate-limited",
        "malformed",
        "non-ip",
};

int json_print(json_object *o) {
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

uint64_t now_realtime_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

int print_table(const Table *t) {
        int r = table_print(t, stdout);
        if (r < 0)
                return cli_error_errno(r, "Failed to write output: %m");
        return 0;
}

/* Prints "N" for a method that returns one number, or {"key": N} with --json. */
int print_reply_number(const char *key, uint32_t value) {
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

/* A rule id: a positive decimal number. */
static int parse_rule_id(const char *text, uint32_t *ret_id) {
        uint32_t id;

        if (parse_uint32(text, &id) < 0 || id == 0)
                return cli_usage_error("Invalid rule id '%s': use a positive number, as list shows it.", text);
        *ret_id = id;
        return 0;
}

/* A call to fill in, for arguments bus_call()'s format string cannot express (a{sv} from fields).
 * Send it with sd_bus_call(bus, m, 0, ...): 0 is the bus's own timeout, which bus_connect() sets. */
int new_method_call(sd_bus *bus, const char *method, sd_bus_message **ret) {
        int r = sd_bus_message_new_method_call(bus, ret, PF_BUS_NAME, PF_OBJECT_PATH, PF_INTERFACE, method);
        if (r < 0)
                return cli_error_errno(r, "Failed to create a %s call: %m", method);
        return 0;
}

int verb_add(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(rule_fields_clear) RuleFields rule = {};
        WordsError e;
        uint32_t id;
        int r;

        r = rule_words_parse(argv + 1, argc - 1, &rule, &e);
        if (r == -EINVAL)
                return cli_usage_error("%s", e.message);
        if (r < 0)
                return cli_oom();

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = new_method_call(bus, "AddRule", &m);
        if (r < 0)
                return r;
        r = bus_message_append_rule_fields(m, &rule);
        if (r < 0)
                return cli_error_errno(r, "Failed to append the rule: %m");

        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return cli_error_errno(r, "Failed to add the rule: %s", bus_error_message(&error, r));

        r = sd_bus_message_read(reply, "u", &id);
        if (r < 0)
                return cli_error_errno(r, "Failed to parse the reply to AddRule: %m");

        return print_reply_number("id", id);
}

int verb_remove(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ uint32_t *ids = NULL;
        size_t n = argc - 1;
        int r;

        ids = calloc(n, sizeof(uint32_t));
        if (!ids)
                return cli_oom();
        for (size_t i = 0; i < n; i++) {
                r = parse_rule_id(argv[i + 1], &ids[i]);
                if (r < 0)
                        return r;
        }

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        /* Several ids go in one call: all are removed or none. */
        r = new_method_call(bus, n == 1 ? "RemoveRule" : "RemoveRules", &m);
        if (r < 0)
                return r;
        if (n == 1)
                r = sd_bus_message_append(m, "u", ids[0]);
        else
                r = sd_bus_message_append_array(m, 'u', ids, n * sizeof(uint32_t));
        if (r < 0)
                return cli_error_errno(r, "Failed to append the rule ids: %m");

        r = sd_bus_call(bus, m, 0, &error, NULL);
        if (r < 0)
                return cli_error_errno(r, "Failed to remove %s: %s", n == 1 ? "the rule" : "the rules",
                                       bus_error_message(&error, r));
        return 0;
}

/* The rules of a file for replace: each with the line it came from, for messages. */
typedef struct RulesFile {
        RuleFields *rules;
        unsigned *lines;
        size_t n;
} RulesFile;

static void rules_file_clear(RulesFile *f) {
        rule_list_free(f->rules, f->n);
        free(f->lines);
        *f = (RulesFile) {};
}

static int rules_file_add(RulesFile *f, RuleFields *rule, unsigned line) {
        RuleFields *rules = reallocarray(f->rules, f->n + 1, sizeof(RuleFields));
        if (!rules)
                return -ENOMEM;
        f->rules = rules;

        unsigned *lines = reallocarray(f->lines, f->n + 1, sizeof(unsigned));
        if (!lines)
                return -ENOMEM;
        f->lines = lines;

        f->rules[f->n] = *rule;
        f->lines[f->n] = line;
        f->n++;
        *rule = (RuleFields) {};
        return 0;
}

/* Reads every line before anything is sent: a bad line is a usage error and changes nothing. */
static int rules_file_read(FILE *input, const char *name, RulesFile *ret) {
        _cleanup_(rules_file_clear) RulesFile file = {};
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        unsigned number = 0;
        int r;

        for (;;) {
                _cleanup_(rule_fields_clear) RuleFields rule = {};
                _cleanup_(strv_freep) char **words = NULL;
                WordsError e;

                ssize_t length;

                errno = 0;
                length = getline(&line, &size, input);
                if (length < 0) {
                        if (ferror(input))
                                return cli_error_errno(negative_errno(), "Failed to read %s: %m", name);
                        break;
                }
                number++;
                /* Text only: a NUL would silently cut the line short. */
                if (strlen(line) != (size_t) length)
                        return cli_usage_error("%s:%u: The line contains a NUL byte.", name, number);

                r = words_split_line(line, &words, &e);
                if (r == -EINVAL)
                        return cli_usage_error("%s:%u: %s", name, number, e.message);
                if (r < 0)
                        return cli_oom();
                if (!words[0])
                        continue;

                r = rule_words_parse(words, strv_length(words), &rule, &e);
                if (r == -EINVAL)
                        return cli_usage_error("%s:%u: %s", name, number, e.message);
                if (r < 0)
                        return cli_oom();

                r = rules_file_add(&file, &rule, number);
                if (r < 0)
                        return cli_oom();
        }

        *ret = file;
        file = (RulesFile) {};
        return 0;
}

/*
 * The daemon names a bad rule by its index ("rule 3: Invalid port: ..."); a
 * person wants the line of the file. Other messages pass unchanged.
 */
static void print_replace_error(const char *group, const char *name, const RulesFile *file,
                                const sd_bus_error *error, int r) {
        const char *message = bus_error_message(error, r);
        unsigned index;
        int consumed = 0;

        if (sscanf(message, "rule %u: %n", &index, &consumed) == 1 && consumed > 0 && index < file->n)
                (void) cli_error_errno(r, "Failed to replace the rules of group '%s': %s:%u: %s",
                                       group, name, file->lines[index], message + consumed);
        else
                (void) cli_error_errno(r, "Failed to replace the rules of group '%s': %s", group, message);
}

static int print_ids(sd_bus_message *reply) {
        const uint32_t *ids;
        size_t size;
        int r;

        r = sd_bus_message_read_array(reply, 'u', (const void **) &ids, &size);
        if (r < 0)
                return cli_error_errno(r, "Failed to parse the reply: %m");

        if (arg_json) {
                _cleanup_json_ json_object *o = json_object_new_object(), *array = json_object_new_array();

                if (!o || !array)
                        return cli_oom();
                for (size_t i = 0; i < size / sizeof(uint32_t); i++)
                        if (json_object_array_add(array, json_object_new_int64(ids[i])) < 0)
                                return cli_oom();
                if (json_object_object_add(o, "ids", TAKE_PTR(array)) < 0)
                        return cli_oom();
                return json_print(o);
        }

        for (size_t i = 0; i < size / sizeof(uint32_t); i++)
                printf("%" PRIu32 "\n", ids[i]);
        return 0;
}

int verb_replace(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(rules_file_clear) RulesFile file = {};
        const char *group = argv[1], *path = argv[2];
        bool from_stdin = streq(path, "-");
        const char *name = from_stdin ? "stdin" : path;
        int r;

        if (from_stdin)
                r = rules_file_read(stdin, name, &file);
        else {
                _cleanup_fclose_ FILE *input = fopen(path, "re");

                if (!input)
                        return cli_error_errno(negative_errno(), "Failed to open %s: %m", path);
                r = rules_file_read(input, name, &file);
        }
        if (r < 0)
                return r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = new_method_call(bus, "ReplaceRules", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", group);
        if (r >= 0)
                r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "a{sv}");
        for (size_t i = 0; r >= 0 && i < file.n; i++)
                r = bus_message_append_rule_fields(m, &file.rules[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return cli_error_errno(r, "Failed to append the rules: %m");

        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0) {
                print_replace_error(group, name, &file, &error, r);
                return r;
        }

        return print_ids(reply);
}

/* The EXPIRES cell: time left, rounded up so that a live rule never shows "0s". */
static const char *format_expiry(char *buf, size_t size, uint64_t expires_usec, uint64_t now_usec) {
        if (expires_usec == 0)
                return "never";
        if (expires_usec <= now_usec)
                return "expired";
        return format_timespan_sec(buf, size, (expires_usec - now_usec + USEC_PER_SEC - 1) / USEC_PER_SEC);
}

/* The words of a rule as one line, quoted for the shell. -EOPNOTSUPP or -EBADMSG with *e filled, -ENOMEM. */
static int rule_to_line(const RuleFields *rule, uint64_t now_usec, RuleWordsFlags flags, char **ret_line,
                        WordsError *e) {
        _cleanup_(strv_freep) char **words = NULL;
        char *line;
        int r;

        r = rule_fields_to_words(rule, now_usec, flags, &words, e);
        if (r < 0)
                return r;
        line = words_to_line(words);
        if (!line)
                return -ENOMEM;
        *ret_line = line;
        return 0;
}

static uint32_t rule_get_uint32(const RuleFields *rule, const char *key) {
        const RuleField *f = rule_fields_find(rule, key);
        return f && f->type == RULE_VALUE_UINT32 ? f->uint32 : 0;
}

static uint64_t rule_get_uint64(const RuleFields *rule, const char *key) {
        const RuleField *f = rule_fields_find(rule, key);
        return f && f->type == RULE_VALUE_UINT64 ? f->uint64 : 0;
}

static const char *rule_get_string(const RuleFields *rule, const char *key) {
        const RuleField *f = rule_fields_find(rule, key);
        return f && f->type == RULE_VALUE_STRING ? f->string : NULL;
}

static int rule_table_add(Table *t, const RuleFields *rule, uint64_t now_usec) {
        char id[FORMAT_BUFFER_MAX] = "", priority[FORMAT_BUFFER_MAX] = "", packets[FORMAT_BUFFER_MAX] = "",
                bytes[FORMAT_BUFFER_MAX] = "", expires[FORMAT_BUFFER_MAX] = "";
        const RuleField *f;
        _cleanup_free_ char *match = NULL;
        WordsError e;
        int r;

        (void) snprintf(id, sizeof(id), "%" PRIu32, rule_get_uint32(rule, "id"));
        f = rule_fields_find(rule, "priority");
        if (f && f->type == RULE_VALUE_INT32)
                (void) snprintf(priority, sizeof(priority), "%" PRId32, f->int32);
        (void) snprintf(packets, sizeof(packets), "%" PRIu64, rule_get_uint64(rule, "packets"));
        (void) format_bytes(bytes, sizeof(bytes), rule_get_uint64(rule, "bytes"));

        r = rule_to_line(rule, now_usec, RULE_WORDS_MATCH_ONLY | RULE_WORDS_SHOW_UNKNOWN, &match, &e);
        if (r == -ENOMEM)
                return r;

        const char *cells[] = {
                id,
                priority,
                rule_get_string(rule, "action") ?: "",
                /* No match words: the rule matches every packet. */
                match ? (*match ? match : "any") : "?",
                packets,
                bytes,
                format_expiry(expires, sizeof(expires), rule_get_uint64(rule, "expires"), now_usec),
                rule_get_string(rule, "group") ?: "",
        };
        return table_add_row(t, cells);
}

static int call_list_rules(sd_bus *bus, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (arg_group)
                r = bus_call(bus, "ListRulesInGroup", &error, ret_reply, "s", arg_group);
        else
                r = bus_call(bus, "ListRules", &error, ret_reply, "");
        if (r < 0)
                return cli_error_errno(r, "Failed to list rules: %s", bus_error_message(&error, r));
        return 0;
}

/* list --words: each rule as the words of add, one per line; a file replace reads back. */
static int print_rules_as_words(const RuleFields *rules, size_t n, uint64_t now_usec) {
        int ret = 0;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *line = NULL;
                WordsError e;
                int r;

                r = rule_to_line(&rules[i], now_usec, 0, &line, &e);
                if (r == -ENOMEM)
                        return cli_oom();
                if (r < 0) {
                        /* Go on with the others; the exit status tells a script something is missing. */
                        ret = cli_error_errno(r, "Rule %" PRIu32 " left out: %s",
                                              rule_get_uint32(&rules[i], "id"), e.message);
                        continue;
                }
                puts(line);
        }

        if (fflush(stdout) != 0)
                return cli_error_errno(negative_errno(), "Failed to write output: %m");
        return ret;
}

int verb_list(int argc, char *argv[]) {
        static const char *const headers[] = {
                "ID", "PRIO", "ACTION", "MATCH", "PACKETS", "BYTES", "EXPIRES", "GROUP",
        };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(table_freep) Table *table = NULL;
        RuleFields *rules = NULL;
        size_t n = 0;
        int r;

        if (arg_json && arg_words)
                return cli_usage_error("--json and --words do not go together.");

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = call_list_rules(bus, &reply);
        if (r < 0)
                return r;

        if (arg_json) {
                _cleanup_json_ json_object *json = NULL;

                r = bus_message_read_json(reply, &json);
                if (r >= 0 && !json_object_is_type(json, json_type_array))
                        r = -EBADMSG;
                if (r < 0)
                        return cli_error_errno(r, "Failed to parse the list of rules: %m");
                return json_print(json);
        }

        r = bus_message_read_rule_list(reply, &rules, &n);
        if (r < 0)
                return cli_error_errno(r, "Failed to parse the list of rules: %m");

        uint64_t now = now_realtime_usec();
        if (arg_words) {
                r = print_rules_as_words(rules, n, now);
                rule_list_free(rules, n);
                return r;
        }

        if (n == 0) {
                if (arg_group)
                        printf("No rules in group '%s'.\n", arg_group);
                else
                        puts("No rules.");
                return 0;
        }

        table = table_new(ELEMENTSOF(headers), headers);
        if (!table) {
                rule_list_free(rules, n);
                return cli_oom();
        }
        table_set_right_aligned(table, 0, true);
        table_set_right_aligned(table, 1, true);
        table_set_right_aligned(table, 4, true);
        table_set_right_aligned(table, 5, true);

        for (size_t i = 0; r >= 0 && i < n; i++)
                r = rule_table_add(table, &rules[i], now);
        rule_list_free(rules, n);
        if (r < 0)
                return cli_oom();

        return print_table(table);
}

/* "Mon 2024-05-06 14:03:00 CEST", as systemd shows times. */
static const char *format_time(char *buf, size_t size, uint64_t usec) {
        time_t sec = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (!localtime_r(&sec, &tm) || strftime(buf, size, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                (void) snprintf(buf, size, "%" PRIu64 " µs since the epoch", usec);
        return buf;
}

/* One "key: value" line of show, values made readable where a raw number is not. */
static int show_field(const RuleField *field, uint64_t now_usec) {
        char buf[FORMAT_BUFFER_MAX], span[FORMAT_BUFFER_MAX];

        printf("%s: ", field->key);
        switch (field->type) {
        case RULE_VALUE_STRING:
                puts(field->string);
                break;
        case RULE_VALUE_UINT32:
                printf("%" PRIu32 "\n", field->uint32);
                break;
        case RULE_VALUE_INT32:
                printf("%" PRId32 "\n", field->int32);
                break;
        case RULE_VALUE_BOOLEAN:
                puts(field->boolean ? "yes" : "no");
                break;
        case RULE_VALUE_UINT64:
                if (streq(field->key, "bytes"))
                        printf("%" PRIu64 " (%s)\n", field->uint64, format_bytes(buf, sizeof(buf), field->uint64));
                else if (streq(field->key, "created"))
                        puts(format_time(buf, sizeof(buf), field->uint64));
                else if (streq(field->key, "expires")) {
                        if (field->uint64 == 0)
                                puts("never");
                        else
                                printf("%s (%s%s)\n", format_time(buf, sizeof(buf), field->uint64),
                                       field->uint64 > now_usec ? "in " : "",
                                       format_expiry(span, sizeof(span), field->uint64, now_usec));
                } else
                        printf("%" PRIu64 "\n", field->uint64);
                break;
        default:
                puts("(a value of a type this packetfilterctl does not know)");
        }
        return 0;
}

int verb_show(int argc, char *argv[]) {
        /* The order people read a rule in; keys a newer daemon adds follow, as they come. */
        static const char *const order[] = {
                "id", "action", "source", "destination", "source-set", "destination-set", "protocol", "source-port", "port", "icmp-type",
                "vlan", "interface", "priority", "enabled", "group", "comment", "packets", "bytes",
                "created", "expires",
        };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(rule_fields_clear) RuleFields rule = {};
        _cleanup_free_ char *line = NULL;
        WordsError e;
        uint32_t id = 0;
        int r;

        r = parse_rule_id(argv[1], &id);
        if (r < 0)
                return r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = bus_call(bus, "GetRule", &error, &reply, "u", id);
        if (r < 0)
                return cli_error_errno(r, "Failed to get rule %" PRIu32 ": %s", id, bus_error_message(&error, r));

        if (arg_json) {
                _cleanup_json_ json_object *json = NULL;

                r = bus_message_read_json(reply, &json);
                if (r >= 0 && !json_object_is_type(json, json_type_object))
                        r = -EBADMSG;
                if (r < 0)
                        return cli_error_errno(r, "Failed to parse the rule: %m");
                return json_print(json);
        }

        r = bus_message_read_rule_fields(reply, &rule);
        if (r < 0)
                return cli_error_errno(r, "Failed to parse the rule: %m");

        uint64_t now = now_realtime_usec();
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                const RuleField *field = rule_fields_find(&rule, order[i]);
                if (field)
                        (void) show_field(field, now);
        }
        for (size_t i = 0; i < rule.n_fields; i++) {
                bool known = false;

                for (size_t j = 0; j < ELEMENTSOF(order) && !known; j++)
                        known = streq(order[j], rule.fields[i].key);
                if (!known)
                        (void) show_field(&rule.fields[i], now);
        }

        /* The same rule as add takes it (unless a newer daemon's key has no word yet). */
        r = rule_to_line(&rule, now, 0, &line, &e);
        if (r == -ENOMEM)
                return cli_oom();
        if (r >= 0)
                printf("words: %s\n", line);

        if (fflush(stdout) != 0)
                return cli_error_errno(negative_errno(), "Failed to write output: %m");
        return 0;
}

static int set_rule_enabled(const char *text, bool enabled) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        uint32_t id = 0;
        int r;

        r = parse_rule_id(text, &id);
        if (r < 0)
                return r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = bus_call(bus, "SetRuleEnabled", &error, NULL, "ub", id, (int) enabled);
        if (r < 0)
                return cli_error_errno(r, "Failed to %s rule %" PRIu32 ": %s", enabled ? "enable" : "disable",
                                       id, bus_error_message(&error, r));
        return 0;
}

int verb_enable(int argc, char *argv[]) {
        return set_rule_enabled(argv[1], true);
}

int verb_disable(int argc, char *argv[]) {
        return set_rule_enabled(argv[1], false);
}

int verb_default(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *action = NULL;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        if (argc > 1) {
                /* The daemon judges the action, as it does the words of add. */
                r = bus_call(bus, "SetDefaultAction", &error, NULL, "s", argv[1]);
                if (r < 0)
                        return cli_error_errno(r, "Failed to set the default action: %s",
                                               bus_error_message(&error, r));
                return 0;
        }

        r = sd_bus_get_property_string(bus, PF_BUS_NAME, PF_OBJECT_PATH, PF_INTERFACE, "DefaultAction",
                                       &error, &action);
        if (r < 0)
                return cli_error_errno(r, "Failed to get the default action: %s", bus_error_message(&error, r));

        if (arg_json) {
                _cleanup_json_ json_object *o = json_object_new_object();

                if (!o || json_object_object_add(o, "default-action", json_object_new_string(action)) < 0)
                        return cli_oom();
                return json_print(o);
        }

        puts(action);
        return 0;
}

int verb_reset_counters(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = bus_call(bus, "ResetCounters", &error, NULL, "");
        if (r < 0)
                return cli_error_errno(r, "Failed to reset the counters: %s", bus_error_message(&error, r));
        return 0;
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
