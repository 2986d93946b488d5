/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The state file:
 *
 *   {
 *     "format": 2,
 *     "next-id": 12,
 *     "default-action": "pass",
 *     "rules": [
 *       { "id": 1, "action": "drop", "source": "192.0.2.0/24", "created": 1700000000000000 },
 *       { "id": 7, "action": "pass", "protocol": "tcp", "port": "22", "priority": -5, "created": ... }
 *     ],
 *     "interfaces": [
 *       { "name": "eth0", "mode": "auto" }
 *     ]
 *   }
 *
 * One rule per line, so that a million blocks stay a file one can read and diff.
 * A rule holds only the fields it has: match fields and comment when set,
 * priority when not 0, enabled when false, group when not "default", expires
 * when not 0 (never); a rate-limit rule's rate, its burst when given, and per when
 * "rule". Rules are read through the same setters and rule_validate()
 * as the bus uses, so the file accepts exactly what the API accepts.
 *
 * Format 1 (the first slice) is still read: its rules are blocks with exactly
 * id, action, source, created and expires.
 *
 * A million rules cannot go through one json-c document (about 1 KiB of memory
 * per parsed object): the top level and the rules array are walked here, and
 * json-c parses each value on its own, strictly.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "log.h"
#include "macro.h"
#include "state.h"

/* Far above what PF_MAX_BLOCKS block rules with the longest comments and groups
 * need (about 900 bytes each); a bigger file is treated as corrupt rather than
 * read into memory. */
#define STATE_FILE_SIZE_MAX (1024u * 1024u * 1024u)

/* json-c's int is int64: larger literals are silently clamped by the parser,
 * so the one range we can read back exactly is 0..INT64_MAX. */
#define STATE_UINT_MAX ((uint64_t) INT64_MAX)

/* A scalar value (number, true, false, null) longer than this is no value of ours. */
#define SCALAR_MAX 64

#define REASON_MAX 256

#define IFNAME_SIZE sizeof(((StateInterface *) NULL)->name)

static void json_object_putp(json_object **o) {
        if (*o)
                (void) json_object_put(*o);
}

static void json_tokener_freep(json_tokener **t) {
        if (*t)
                json_tokener_free(*t);
}

State *state_free(State *s) {
        if (!s)
                return NULL;
        rule_set_free(s->rules);
        free(s->interfaces);
        free(s);
        return NULL;
}

/* Validation, shared by the reader and the writer: never write what we would refuse to read. */

/* The kernel's own rule (dev_valid_name()). */
static bool interface_name_is_valid(const char *name) {
        size_t n = strnlen(name, IFNAME_SIZE);

        if (n == 0 || n >= IFNAME_SIZE)
                return false;
        if (streq(name, ".") || streq(name, ".."))
                return false;
        for (const char *c = name; *c; c++)
                if (*c == '/' || *c == ':' || isspace((unsigned char) *c))
                        return false;
        return true;
}

static bool interface_mode_is_valid(const char *mode) {
        return streq(mode, "auto") || streq(mode, "native") || streq(mode, "generic");
}

static bool prefix_is_valid(const struct prefix *p) {
        char buf[PREFIX_STRING_MAX];
        struct prefix again;

        /* Whatever we format must parse back to the same prefix. */
        return prefix_parse(prefix_format(p, buf), &again) >= 0 && prefix_equal(p, &again);
}

/* ---- Reading ---------------------------------------------------------------------------------- */

typedef struct Reason {
        char text[REASON_MAX];
} Reason;

static int bad(Reason *reason, const char *format, ...) _printf_(2, 3);
static int bad(Reason *reason, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(reason->text, sizeof(reason->text), format, ap);
        va_end(ap);
        return -EBADMSG;
}

/* Every key must be known: silently ignoring, say, a future match field would
 * turn a narrow rule into a broad one. */
static int check_keys(json_object *obj, const char *const *allowed, const char *where, Reason *reason) {
        json_object_object_foreach(obj, key, value) {
                bool known = false;

                (void) value;
                for (const char *const *a = allowed; *a; a++)
                        if (streq(key, *a)) {
                                known = true;
                                break;
                        }
                if (!known)
                        return bad(reason, "%s: unknown key \"%.64s\"", where, key);
        }
        return 0;
}

static bool has_member(json_object *obj, const char *key) {
        return json_object_object_get_ex(obj, key, NULL);
}

static int get_member(json_object *obj, const char *key, json_type type, const char *where,
                      Reason *reason, json_object **ret) {
        json_object *v;

        if (!json_object_object_get_ex(obj, key, &v))
                return bad(reason, "%s: \"%s\" is missing", where, key);
        if (!v)
                return bad(reason, "%s: \"%s\" is null", where, key);
        if (!json_object_is_type(v, type))
                return bad(reason, "%s: \"%s\" is not of type %s", where, key, json_type_to_name(type));
        *ret = v;
        return 0;
}

static int get_uint(json_object *obj, const char *key, uint64_t max, const char *where,
                    Reason *reason, uint64_t *ret) {
        json_object *v;
        uint64_t u;
        int r;

        r = get_member(obj, key, json_type_int, where, reason, &v);
        if (r < 0)
                return r;

        if (json_object_get_int64(v) < 0)
                return bad(reason, "%s: \"%s\" is negative", where, key);
        u = json_object_get_uint64(v);
        if (u > max || u > STATE_UINT_MAX)
                return bad(reason, "%s: \"%s\" is out of range (at most %" PRIu64 ")", where, key,
                           max < STATE_UINT_MAX ? max : STATE_UINT_MAX);
        *ret = u;
        return 0;
}

static int get_int32(json_object *obj, const char *key, const char *where, Reason *reason, int32_t *ret) {
        json_object *v;
        int64_t i;
        int r;

        r = get_member(obj, key, json_type_int, where, reason, &v);
        if (r < 0)
                return r;

        /* json-c clamps what does not fit in 64 bits, which lands out of range here too. */
        i = json_object_get_int64(v);
        if (i < INT32_MIN || i > INT32_MAX)
                return bad(reason, "%s: \"%s\" is out of range (%" PRId32 "..%" PRId32 ")", where, key,
                           INT32_MIN, INT32_MAX);
        *ret = (int32_t) i;
        return 0;
}

static int get_bool(json_object *obj, const char *key, const char *where, Reason *reason, bool *ret) {
        json_object *v;
        int r;

        r = get_member(obj, key, json_type_boolean, where, reason, &v);
        if (r < 0)
                return r;
        *ret = json_object_get_boolean(v);
        return 0;
}

static int get_string(json_object *obj, const char *key, const char *where, Reason *reason,
                      const char **ret) {
        json_object *v;
        const char *s;
        int r;

        r = get_member(obj, key, json_type_string, where, reason, &v);
        if (r < 0)
                return r;

        s = json_object_get_string(v);
        if (strlen(s) != (size_t) json_object_get_string_len(v))
                return bad(reason, "%s: \"%s\" contains a NUL character", where, key);
        *ret = s;
        return 0;
}

/* A rule field the setters refused: the field and the reason, as the bus would say them. */
static int bad_field(Reason *reason, const char *where, const struct rule_error *e) {
        return bad(reason, "%s: %s: %s", where, e->field, e->reason);
}

typedef int (*string_setter)(Rule *r, const char *s, struct rule_error *e);
typedef int (*uint_setter)(Rule *r, uint32_t v, struct rule_error *e);

static int set_string_field(Rule *rule, json_object *obj, const char *key, string_setter setter,
                            const char *where, Reason *reason) {
        struct rule_error e = {};
        const char *s;
        int r;

        if (!has_member(obj, key))
                return 0;
        r = get_string(obj, key, where, reason, &s);
        if (r < 0)
                return r;
        r = setter(rule, s, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return bad_field(reason, where, &e);
        return 0;
}

static int set_uint_field(Rule *rule, json_object *obj, const char *key, uint_setter setter,
                          const char *where, Reason *reason) {
        struct rule_error e = {};
        uint64_t v;
        int r;

        if (!has_member(obj, key))
                return 0;
        r = get_uint(obj, key, UINT32_MAX, where, reason, &v);
        if (r < 0)
                return r;
        r = setter(rule, (uint32_t) v, &e);
        if (r < 0)
                return bad_field(reason, where, &e);
        return 0;
}

static int parse_rule(json_object *obj, size_t index, uint64_t format, uint32_t next_id, Reason *reason,
                      Rule **ret) {
        static const char *const keys_v1[] = { "id", "action", "source", "created", "expires", NULL };
        static const char *const keys_v2[] = {
                "id", "action", "source", "destination", "protocol", "source-port", "port", "icmp-type",
                "vlan", "interface", "source-set", "destination-set", "priority", "enabled", "comment", "group",
                "created", "expires", "rate", "burst", "per", NULL
        };
        static const struct {
                const char *key;
                string_setter set;
        } string_fields[] = {
                { "action",      rule_set_action },
                { "source",      rule_set_source },
                { "destination", rule_set_destination },
                { "protocol",    rule_set_protocol },
                { "source-port", rule_set_source_port },
                { "port",        rule_set_port },
                { "interface",   rule_set_interface },
                { "source-set",  rule_set_source_set },
                { "destination-set", rule_set_destination_set },
                { "comment",     rule_set_comment },
                { "group",       rule_set_group },
                { "per",         rule_set_per },
        };
        static const struct {
                const char *key;
                uint_setter set;
        } uint_fields[] = {
                { "icmp-type", rule_set_icmp_type },
                { "vlan",      rule_set_vlan },
                { "rate",      rule_set_rate },
                { "burst",     rule_set_burst },
        };
        _cleanup_(rule_freep) Rule *rule = NULL;
        struct rule_error e = {};
        char where[64];
        uint64_t id;
        int r;

        (void) snprintf(where, sizeof(where), "rule #%zu", index);
        if (!obj || !json_object_is_type(obj, json_type_object))
                return bad(reason, "%s: not an object", where);
        r = check_keys(obj, format == 1 ? keys_v1 : keys_v2, where, reason);
        if (r < 0)
                return r;

        rule = rule_new();
        if (!rule)
                return -ENOMEM;

        r = get_uint(obj, "id", UINT32_MAX, where, reason, &id);
        if (r < 0)
                return r;
        if (id == 0)
                return bad(reason, "%s: \"id\" must not be 0", where);
        if (id >= next_id)
                return bad(reason, "%s: \"id\" %" PRIu64 " is not below \"next-id\" %" PRIu32,
                           where, id, next_id);
        rule->id = (uint32_t) id;

        /* What must be there: format 1 had every key, format 2 what has no default. */
        for (const char *const *k = format == 1 ? keys_v1 : (const char *const[]) { "action", "created", NULL };
             *k; k++)
                if (!has_member(obj, *k))
                        return bad(reason, "%s: \"%s\" is missing", where, *k);

        for (size_t i = 0; i < ELEMENTSOF(string_fields); i++) {
                r = set_string_field(rule, obj, string_fields[i].key, string_fields[i].set, where, reason);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(uint_fields); i++) {
                r = set_uint_field(rule, obj, uint_fields[i].key, uint_fields[i].set, where, reason);
                if (r < 0)
                        return r;
        }
        if (has_member(obj, "priority")) {
                r = get_int32(obj, "priority", where, reason, &rule->priority);
                if (r < 0)
                        return r;
        }
        if (has_member(obj, "enabled")) {
                r = get_bool(obj, "enabled", where, reason, &rule->enabled);
                if (r < 0)
                        return r;
        }
        r = get_uint(obj, "created", UINT64_MAX, where, reason, &rule->created_usec);
        if (r < 0)
                return r;
        if (has_member(obj, "expires")) {
                r = get_uint(obj, "expires", UINT64_MAX, where, reason, &rule->expires_usec);
                if (r < 0)
                        return r;
        }

        r = rule_validate(rule, &e);
        if (r < 0)
                return bad_field(reason, where, &e);

        *ret = TAKE_PTR(rule);
        return 0;
}

static int parse_interfaces(json_object *array, State *state, Reason *reason) {
        static const char *const keys[] = { "name", "mode", NULL };
        size_t n = json_object_array_length(array);
        int r;

        if (n == 0)
                return 0;

        state->interfaces = calloc(n, sizeof(StateInterface));
        if (!state->interfaces)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                json_object *obj = json_object_array_get_idx(array, i);
                StateInterface *iface = state->interfaces + i;
                const char *name, *mode;
                char where[64];

                (void) snprintf(where, sizeof(where), "interface #%zu", i);
                if (!obj || !json_object_is_type(obj, json_type_object))
                        return bad(reason, "%s: not an object", where);
                r = check_keys(obj, keys, where, reason);
                if (r < 0)
                        return r;

                r = get_string(obj, "name", where, reason, &name);
                if (r < 0)
                        return r;
                if (!interface_name_is_valid(name))
                        return bad(reason, "%s: invalid interface name \"%.64s\"", where, name);

                r = get_string(obj, "mode", where, reason, &mode);
                if (r < 0)
                        return r;
                if (!interface_mode_is_valid(mode))
                        return bad(reason, "%s: unknown mode \"%.64s\"", where, mode);

                for (size_t j = 0; j < i; j++)
                        if (streq(state->interfaces[j].name, name))
                                return bad(reason, "%s: interface \"%s\" listed twice", where, name);

                (void) strcpy(iface->name, name);
                (void) strcpy(iface->mode, mode);
                state->n_interfaces = i + 1;
        }
        return 0;
}

/*
 * The walk over the document: where values begin and end. json-c, strict, judges
 * every value itself; this only has to find them, and refuses anything between
 * them that is not JSON punctuation or white space.
 */
typedef struct Reader {
        const char *text;
        size_t len;
        json_tokener *tok;
        Reason *reason;
} Reader;

static bool is_json_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_space(const Reader *rd, size_t pos) {
        while (pos < rd->len && is_json_space(rd->text[pos]))
                pos++;
        return pos;
}

/* The top-level object is not closed yet wherever the text ends early. */
static int truncated(Reader *rd) {
        return bad(rd->reason, "truncated JSON");
}

/* One past the end of the value that starts at pos. */
static int value_end(Reader *rd, size_t pos, size_t *ret_end) {
        const char *t = rd->text;
        size_t depth = 0, i = pos;

        if (pos >= rd->len)
                return truncated(rd);

        if (t[i] != '"' && t[i] != '{' && t[i] != '[') {
                while (i < rd->len && !is_json_space(t[i]) && !strchr(",:{}[]\"", t[i]))
                        i++;
                if (i == pos)
                        return bad(rd->reason, "expected a value at offset %zu", pos);
                if (i == rd->len)
                        return truncated(rd);
                *ret_end = i;
                return 0;
        }

        for (; i < rd->len; i++) {
                switch (t[i]) {
                case '"':
                        for (i++; i < rd->len && t[i] != '"'; i++)
                                if (t[i] == '\\')
                                        i++;
                        if (i >= rd->len)
                                return truncated(rd);
                        break;
                case '{':
                case '[':
                        depth++;
                        break;
                case '}':
                case ']':
                        depth--;
                        break;
                }
                if (depth == 0) {
                        *ret_end = i + 1;
                        return 0;
                }
        }
        return truncated(rd);
}

/* Parses text[start, end) as one JSON value. JSON null gives NULL. */
static int parse_value(Reader *rd, size_t start, size_t end, json_object **ret) {
        char scalar[SCALAR_MAX + 1];
        const char *text = rd->text + start;
        size_t len = end - start;
        enum json_tokener_error e;
        json_object *obj;

        json_tokener_reset(rd->tok);
        if (*text != '"' && *text != '{' && *text != '[') {
                /* json-c cannot know a number has ended until it sees what follows: give it a NUL. */
                if (len > SCALAR_MAX)
                        return bad(rd->reason, "invalid value at offset %zu", start);
                memcpy(scalar, text, len);
                scalar[len] = '\0';
                text = scalar;
                obj = json_tokener_parse_ex(rd->tok, text, (int) len + 1);
        } else
                obj = json_tokener_parse_ex(rd->tok, text, (int) len);

        e = json_tokener_get_error(rd->tok);
        if (e != json_tokener_success || json_tokener_get_parse_end(rd->tok) != len) {
                json_object_put(obj);
                if (e == json_tokener_success)
                        return bad(rd->reason, "invalid JSON at offset %zu", start + json_tokener_get_parse_end(rd->tok));
                return bad(rd->reason, "invalid JSON at offset %zu: %s",
                           start + json_tokener_get_parse_end(rd->tok), json_tokener_error_desc(e));
        }
        *ret = obj;
        return 0;
}

enum {
        TOP_FORMAT,
        TOP_NEXT_ID,
        TOP_DEFAULT_ACTION,
        TOP_RULES,
        TOP_INTERFACES,
        _TOP_MAX,
};

static const char *const top_keys[_TOP_MAX] = {
        [TOP_FORMAT]         = "format",
        [TOP_NEXT_ID]        = "next-id",
        [TOP_DEFAULT_ACTION] = "default-action",
        [TOP_RULES]          = "rules",
        [TOP_INTERFACES]     = "interfaces",
};

typedef struct Top {
        bool seen[_TOP_MAX];
        json_object *value[_TOP_MAX];   /* all but the rules, which are read one by one */
        size_t rules_start, rules_end;
} Top;

static void top_done(Top *top) {
        for (size_t i = 0; i < _TOP_MAX; i++)
                json_object_put(top->value[i]);
}

/* The top-level object: its keys, each value parsed except the rules array, whose place is kept. */
static int read_top(Reader *rd, Top *top) {
        size_t pos, end;
        int r;

        pos = skip_space(rd, 0);
        if (pos == rd->len)
                return truncated(rd);
        if (rd->text[pos] != '{')
                return bad(rd->reason, "not a JSON object");
        pos = skip_space(rd, pos + 1);
        if (pos < rd->len && rd->text[pos] == '}')
                pos++;
        else
                for (;;) {
                        _cleanup_(json_object_putp) json_object *key_obj = NULL;
                        const char *key;
                        size_t k;

                        if (pos == rd->len)
                                return truncated(rd);
                        if (rd->text[pos] != '"')
                                return bad(rd->reason, "expected a key at offset %zu", pos);
                        r = value_end(rd, pos, &end);
                        if (r < 0)
                                return r;
                        r = parse_value(rd, pos, end, &key_obj);
                        if (r < 0)
                                return r;
                        key = json_object_get_string(key_obj);
                        if (strlen(key) != (size_t) json_object_get_string_len(key_obj))
                                return bad(rd->reason, "top level: a key contains a NUL character");
                        for (k = 0; k < _TOP_MAX; k++)
                                if (streq(key, top_keys[k]))
                                        break;
                        if (k == _TOP_MAX)
                                return bad(rd->reason, "top level: unknown key \"%.64s\"", key);
                        if (top->seen[k])
                                return bad(rd->reason, "top level: \"%s\" given twice", key);
                        top->seen[k] = true;

                        pos = skip_space(rd, end);
                        if (pos == rd->len)
                                return truncated(rd);
                        if (rd->text[pos] != ':')
                                return bad(rd->reason, "expected ':' at offset %zu", pos);
                        pos = skip_space(rd, pos + 1);

                        r = value_end(rd, pos, &end);
                        if (r < 0)
                                return r;
                        if (k == TOP_RULES) {
                                top->rules_start = pos;
                                top->rules_end = end;
                        } else {
                                r = parse_value(rd, pos, end, &top->value[k]);
                                if (r < 0)
                                        return r;
                        }

                        pos = skip_space(rd, end);
                        if (pos == rd->len)
                                return truncated(rd);
                        if (rd->text[pos] == '}') {
                                pos++;
                                break;
                        }
                        if (rd->text[pos] != ',')
                                return bad(rd->reason, "expected ',' or '}' at offset %zu", pos);
                        pos = skip_space(rd, pos + 1);
                }

        pos = skip_space(rd, pos);
        if (pos < rd->len)
                return bad(rd->reason, "trailing data at offset %zu", pos);
        return 0;
}

/* A member of the top level, as get_member() would give it from a json-c object. */
static int top_member(const Top *top, unsigned k, json_type type, Reason *reason, json_object **ret) {
        if (!top->seen[k])
                return bad(reason, "top level: \"%s\" is missing", top_keys[k]);
        if (!top->value[k])
                return bad(reason, "top level: \"%s\" is null", top_keys[k]);
        if (!json_object_is_type(top->value[k], type))
                return bad(reason, "top level: \"%s\" is not of type %s", top_keys[k], json_type_to_name(type));
        *ret = top->value[k];
        return 0;
}

static int top_uint(const Top *top, unsigned k, uint64_t max, Reason *reason, uint64_t *ret) {
        json_object *v;
        uint64_t u;
        int r;

        r = top_member(top, k, json_type_int, reason, &v);
        if (r < 0)
                return r;
        if (json_object_get_int64(v) < 0)
                return bad(reason, "top level: \"%s\" is negative", top_keys[k]);
        u = json_object_get_uint64(v);
        if (u > max)
                return bad(reason, "top level: \"%s\" is out of range (at most %" PRIu64 ")", top_keys[k], max);
        *ret = u;
        return 0;
}

/* The rules array, one element at a time. */
static int read_rules(Reader *rd, const Top *top, uint64_t format, RuleSet *rs, uint32_t next_id) {
        size_t pos = top->rules_start, end;
        int r;

        if (rd->text[pos] != '[') {
                _cleanup_(json_object_putp) json_object *v = NULL;

                r = parse_value(rd, pos, top->rules_end, &v);
                if (r < 0)
                        return r;
                return bad(rd->reason, "top level: \"rules\" is %s", v ? "not of type array" : "null");
        }

        pos = skip_space(rd, pos + 1);
        if (rd->text[pos] == ']')
                return pos + 1 == top->rules_end ? 0 : bad(rd->reason, "invalid JSON at offset %zu", pos);

        for (size_t i = 0;; i++) {
                _cleanup_(json_object_putp) json_object *obj = NULL;
                _cleanup_(rule_freep) Rule *rule = NULL;

                r = value_end(rd, pos, &end);
                if (r < 0)
                        return r;
                if (end > top->rules_end)
                        return bad(rd->reason, "invalid JSON at offset %zu", pos);
                r = parse_value(rd, pos, end, &obj);
                if (r < 0)
                        return r;

                r = parse_rule(obj, i, format, next_id, rd->reason, &rule);
                if (r < 0)
                        return r;
                obj = (json_object_put(obj), NULL);

                r = rule_set_add(rs, rule, NULL);
                if (r == -EEXIST)
                        return bad(rd->reason, "rule #%zu: duplicate id %" PRIu32, i, rule->id);
                if (r == -E2BIG)
                        return bad(rd->reason, "rule #%zu: more than %u %s rules", i,
                                   rule_is_block(rule) ? PF_MAX_BLOCKS : PF_MAX_RULES,
                                   rule_is_block(rule) ? "block" : "classifier");
                if (r < 0)
                        return r;
                TAKE_PTR(rule);         /* the set owns it now */

                pos = skip_space(rd, end);
                if (pos < top->rules_end && rd->text[pos] == ']')
                        return pos + 1 == top->rules_end ? 0 : bad(rd->reason, "invalid JSON at offset %zu", pos);
                if (pos >= top->rules_end || rd->text[pos] != ',')
                        return bad(rd->reason, "expected ',' or ']' at offset %zu", pos);
                pos = skip_space(rd, pos + 1);
        }
}

static int state_parse(const char *text, size_t len, Reason *reason, State **ret) {
        _cleanup_(json_tokener_freep) json_tokener *tok = NULL;
        _cleanup_(state_freep) State *state = NULL;
        _cleanup_(top_done) Top top = {};
        json_object *default_action, *interfaces;
        uint64_t format, next_id;
        const char *nul, *action;
        Reader rd;
        int r;

        if (len == 0)
                return bad(reason, "the file is empty");
        /* json-c would stop at a NUL and miss what follows (zeros left by a crash, say). */
        nul = memchr(text, '\0', len);
        if (nul)
                return bad(reason, "NUL byte at offset %zu", (size_t) (nul - text));
        if (len > STATE_FILE_SIZE_MAX)
                return bad(reason, "larger than %u bytes", STATE_FILE_SIZE_MAX);

        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        rd = (Reader) { .text = text, .len = len, .tok = tok, .reason = reason };

        r = read_top(&rd, &top);
        if (r < 0)
                return r;

        r = top_uint(&top, TOP_FORMAT, UINT64_MAX, reason, &format);
        if (r < 0)
                return r;
        if (format != 1 && format != STATE_FORMAT_VERSION)
                return bad(reason, "unsupported format %" PRIu64 " (this version reads 1 and %d)",
                           format, STATE_FORMAT_VERSION);

        r = top_uint(&top, TOP_NEXT_ID, UINT32_MAX, reason, &next_id);
        if (r < 0)
                return r;
        if (next_id == 0)
                return bad(reason, "top level: \"next-id\" must not be 0");

        r = top_member(&top, TOP_DEFAULT_ACTION, json_type_string, reason, &default_action);
        if (r < 0)
                return r;
        action = json_object_get_string(default_action);
        if (!top.seen[TOP_RULES])
                return bad(reason, "top level: \"rules\" is missing");
        r = top_member(&top, TOP_INTERFACES, json_type_array, reason, &interfaces);
        if (r < 0)
                return r;

        state = calloc(1, sizeof(State));
        if (!state)
                return -ENOMEM;
        r = rule_set_new(&state->rules);
        if (r < 0)
                return r;

        if (strlen(action) != (size_t) json_object_get_string_len(default_action) ||
            pf_default_action_from_string(action, &state->rules->default_action) < 0)
                return bad(reason, "top level: unknown default action \"%.64s\"", action);

        r = read_rules(&rd, &top, format, state->rules, (uint32_t) next_id);
        if (r < 0)
                return r;
        /* Ids are never reused, not even those of rules removed before the save. */
        state->rules->next_id = (uint32_t) next_id;

        r = parse_interfaces(interfaces, state, reason);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(state);
        return 0;
}

int state_from_string(const char *text, State **ret) {
        Reason reason = {};
        State *state;
        int r;

        if (!text || !ret)
                return -EINVAL;

        r = state_parse(text, strlen(text), &reason, &state);
        if (r == -EBADMSG)
                return log_debug_errno(r, "Invalid state: %s", reason.text);
        if (r < 0)
                return r;

        *ret = state;
        return 0;
}

/* ---- Writing ---------------------------------------------------------------------------------- */

static int json_add(json_object *obj, const char *key, json_object *value) {
        if (!value)
                return -ENOMEM;
        if (json_object_object_add(obj, key, value) < 0) {
                (void) json_object_put(value);
                return -ENOMEM;
        }
        return 0;
}

static int json_add_string(json_object *obj, const char *key, const char *value) {
        return json_add(obj, key, json_object_new_string(value));
}

static int rule_to_json(const Rule *rule, uint32_t next_id, json_object **ret) {
        _cleanup_(json_object_putp) json_object *obj = NULL;
        char buf[PREFIX_STRING_MAX];
        struct rule_error e;
        int r;

        if (rule->id == 0 || rule->id >= next_id || rule_validate(rule, &e) < 0 ||
            ((rule->match & RULE_MATCH_SOURCE) && !prefix_is_valid(&rule->source)) ||
            ((rule->match & RULE_MATCH_DESTINATION) && !prefix_is_valid(&rule->destination)) ||
            rule->created_usec > STATE_UINT_MAX || rule->expires_usec > STATE_UINT_MAX)
                return -EINVAL;

        obj = json_object_new_object();
        if (!obj)
                return -ENOMEM;

        /* The fields in the order of the API's documentation; what a rule does not have stays out. */
        r = json_add(obj, "id", json_object_new_int64(rule->id));
        if (r >= 0)
                r = json_add_string(obj, "action", pf_action_to_string(rule->action));
        if (r >= 0 && (rule->match & RULE_MATCH_SOURCE))
                r = json_add_string(obj, "source", prefix_format(&rule->source, buf));
        if (r >= 0 && (rule->match & RULE_MATCH_DESTINATION))
                r = json_add_string(obj, "destination", prefix_format(&rule->destination, buf));
        if (r >= 0 && (rule->match & RULE_MATCH_PROTOCOL))
                r = json_add_string(obj, "protocol", rule_protocol_to_string(rule->protocol, buf));
        if (r >= 0 && (rule->match & RULE_MATCH_SOURCE_PORT))
                r = json_add_string(obj, "source-port", port_range_to_string(&rule->source_port, buf));
        if (r >= 0 && (rule->match & RULE_MATCH_PORT))
                r = json_add_string(obj, "port", port_range_to_string(&rule->port, buf));
        if (r >= 0 && (rule->match & RULE_MATCH_ICMP_TYPE))
                r = json_add(obj, "icmp-type", json_object_new_int(rule->icmp_type));
        if (r >= 0 && (rule->match & RULE_MATCH_VLAN))
                r = json_add(obj, "vlan", json_object_new_int(rule->vlan));
        if (r >= 0 && (rule->match & RULE_MATCH_INTERFACE))
                r = json_add_string(obj, "interface", rule->interface);
        if (r >= 0 && (rule->match & RULE_MATCH_SOURCE_SET))
                r = json_add_string(obj, "source-set", rule->source_set);
        if (r >= 0 && (rule->match & RULE_MATCH_DESTINATION_SET))
                r = json_add_string(obj, "destination-set", rule->destination_set);
        if (r >= 0 && rule->action == PF_ACTION_RATE_LIMIT)
                r = json_add(obj, "rate", json_object_new_int64(rule->rate));
        if (r >= 0 && rule->burst != 0)
                r = json_add(obj, "burst", json_object_new_int64(rule->burst));
        if (r >= 0 && rule->action == PF_ACTION_RATE_LIMIT && rule->per != PF_RATE_PER_SOURCE)
                r = json_add_string(obj, "per", pf_rate_per_to_string(rule->per));
        if (r >= 0 && rule->priority != 0)
                r = json_add(obj, "priority", json_object_new_int64(rule->priority));
        if (r >= 0 && !rule->enabled)
                r = json_add(obj, "enabled", json_object_new_boolean(false));
        if (r >= 0 && rule->comment && rule->comment[0])
                r = json_add_string(obj, "comment", rule->comment);
        if (r >= 0 && !streq(rule->group, RULE_GROUP_DEFAULT))
                r = json_add_string(obj, "group", rule->group);
        if (r >= 0)
                r = json_add(obj, "created", json_object_new_int64((int64_t) rule->created_usec));
        if (r >= 0 && rule->expires_usec != 0)
                r = json_add(obj, "expires", json_object_new_int64((int64_t) rule->expires_usec));
        if (r < 0)
                return r;

        *ret = TAKE_PTR(obj);
        return 0;
}

static int interface_to_json(const StateInterface *iface, json_object **ret) {
        _cleanup_(json_object_putp) json_object *obj = NULL;
        int r;

        if (!memchr(iface->name, '\0', sizeof(iface->name)) || !interface_name_is_valid(iface->name) ||
            !memchr(iface->mode, '\0', sizeof(iface->mode)) || !interface_mode_is_valid(iface->mode))
                return -EINVAL;

        obj = json_object_new_object();
        if (!obj)
                return -ENOMEM;

        r = json_add_string(obj, "name", iface->name);
        if (r >= 0)
                r = json_add_string(obj, "mode", iface->mode);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(obj);
        return 0;
}

/* Writes one object on one line of the array; frees it. */
static int write_element(FILE *f, json_object *obj, bool first) {
        const char *text;

        text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text) {
                json_object_put(obj);
                return -ENOMEM;
        }
        (void) fputs(first ? "\n    " : ",\n    ", f);
        (void) fputs(text, f);
        json_object_put(obj);
        return 0;
}

int state_to_string(const State *s, char **ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        const char *default_action;
        size_t size = 0;
        int r;

        if (!s || !s->rules || !ret || (s->n_interfaces > 0 && !s->interfaces))
                return -EINVAL;

        default_action = pf_action_to_string(s->rules->default_action);
        if (!default_action || s->rules->next_id == 0)
                return -EINVAL;

        for (size_t i = 0; i < s->n_interfaces; i++)
                for (size_t j = 0; j < i; j++)
                        if (strncmp(s->interfaces[i].name, s->interfaces[j].name, sizeof(s->interfaces[i].name)) == 0)
                                return -EINVAL;

        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;

        fprintf(f, "{\n  \"format\": %d,\n  \"next-id\": %" PRIu32 ",\n  \"default-action\": \"%s\",\n  \"rules\": [",
                STATE_FORMAT_VERSION, s->rules->next_id, default_action);
        for (size_t i = 0; i < s->rules->n_rules; i++) {
                json_object *obj;

                r = rule_to_json(s->rules->rules[i], s->rules->next_id, &obj);
                if (r < 0)
                        return r;
                r = write_element(f, obj, i == 0);
                if (r < 0)
                        return r;
        }
        fputs(s->rules->n_rules > 0 ? "\n  ],\n  \"interfaces\": [" : "],\n  \"interfaces\": [", f);
        for (size_t i = 0; i < s->n_interfaces; i++) {
                json_object *obj;

                r = interface_to_json(s->interfaces + i, &obj);
                if (r < 0)
                        return r;
                r = write_element(f, obj, i == 0);
                if (r < 0)
                        return r;
        }
        fputs(s->n_interfaces > 0 ? "\n  ]\n}\n" : "]\n}\n", f);

        if (ferror(f) || fflush(f) != 0)
                return -ENOMEM;
        r = fclose(TAKE_PTR(f));
        if (r != 0)
                return -ENOMEM;
        /* Never write what we would refuse to read. */
        if (size > STATE_FILE_SIZE_MAX)
                return -EFBIG;

        *ret = TAKE_PTR(text);
        return 0;
}

/* ---- Files ------------------------------------------------------------------------------------ */

static int write_all(int fd, const char *buf, size_t len) {
        while (len > 0) {
                ssize_t n = write(fd, buf, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                buf += n;
                len -= (size_t) n;
        }
        return 0;
}

/* Reads at most max bytes; -EFBIG if there is more. */
static int read_all(int fd, size_t max, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, allocated = 0;

        for (;;) {
                ssize_t n;

                if (allocated - len < 4096) {
                        size_t want = allocated == 0 ? 65536 : allocated * 2;
                        char *p;

                        if (want > max + 1)
                                want = max + 1;
                        if (want <= len)
                                return -EFBIG;
                        p = realloc(buf, want + 1);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        allocated = want;
                }

                n = read(fd, buf + len, allocated - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max)
                        return -EFBIG;
        }

        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

static uint64_t now_realtime_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* Renames the state file to state.json.corrupt-<usec>, never over an earlier one. */
static int move_aside(int dir_fd, char *ret_name, size_t name_size) {
        uint64_t usec = now_realtime_usec();

        for (unsigned attempt = 0; attempt < 64; attempt++) {
                (void) snprintf(ret_name, name_size, STATE_FILE_NAME ".corrupt-%" PRIu64, usec + attempt);

                if (renameat2(dir_fd, STATE_FILE_NAME, dir_fd, ret_name, RENAME_NOREPLACE) >= 0) {
                        (void) fsync(dir_fd);
                        return 0;
                }
                if (errno == EINVAL) {
                        /* A file system without RENAME_NOREPLACE: check by hand. */
                        if (faccessat(dir_fd, ret_name, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                                continue;
                        if (renameat(dir_fd, STATE_FILE_NAME, dir_fd, ret_name) < 0)
                                return -errno;
                        (void) fsync(dir_fd);
                        return 0;
                }
                if (errno != EEXIST)
                        return -errno;
        }
        return -EEXIST;
}

/* Reads and parses one state file of the folder; -EBADMSG with reason on a bad one. */
static int state_read_file(int dir_fd, const char *dir, const char *name, Reason *reason, State **ret) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t len = 0;
        int r;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return bad(reason, "not a regular file");
        r = read_all(fd, STATE_FILE_SIZE_MAX, &text, &len);
        if (r == -EFBIG)
                return bad(reason, "larger than %u bytes", STATE_FILE_SIZE_MAX);
        if (r < 0)
                return r;
        return state_parse(text, len, reason, ret);
}

int state_load(const char *dir, State **ret) {
        _cleanup_close_ int dir_fd = -1, fd = -1;
        _cleanup_free_ char *text = NULL;
        Reason reason = {};
        State *state = NULL;
        struct stat st;
        size_t len = 0;
        int r;

        if (!dir || !ret)
                return -EINVAL;

        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0) {
                if (errno == ENOENT)
                        return log_debug_errno(-ENOENT, "No state folder %s, starting afresh.", dir);
                return log_error_errno(-errno, "Failed to open state folder %s: %m", dir);
        }

        fd = openat(dir_fd, STATE_FILE_NAME, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ENOENT)
                        return log_debug_errno(-ENOENT, "No %s/%s, starting afresh.", dir, STATE_FILE_NAME);
                return log_error_errno(-errno, "Failed to open %s/%s: %m", dir, STATE_FILE_NAME);
        }

        if (fstat(fd, &st) < 0)
                return log_error_errno(-errno, "Failed to stat %s/%s: %m", dir, STATE_FILE_NAME);

        if (!S_ISREG(st.st_mode))
                r = bad(&reason, "not a regular file");
        else {
                r = read_all(fd, STATE_FILE_SIZE_MAX, &text, &len);
                if (r == -EFBIG)
                        r = bad(&reason, "larger than %u bytes", STATE_FILE_SIZE_MAX);
                else if (r < 0)
                        return log_error_errno(r, "Failed to read %s/%s: %m", dir, STATE_FILE_NAME);
                else
                        r = state_parse(text, len, &reason, &state);
        }

        if (r == -EBADMSG) {
                char aside[sizeof(STATE_FILE_NAME ".corrupt-") + 21];
                int q;

                q = move_aside(dir_fd, aside, sizeof(aside));
                if (q < 0)
                        (void) log_error_errno(q, "State file %s/%s is corrupt (%s), and moving it aside failed: %m",
                                        dir, STATE_FILE_NAME, reason.text);
                else
                        log_error("State file %s/%s is corrupt (%s); moved it to %s.",
                                  dir, STATE_FILE_NAME, reason.text, aside);

                /* Fall back to the state before the last save: never start empty while a good one exists. */
                reason = (Reason) {};
                q = state_read_file(dir_fd, dir, STATE_PREVIOUS_FILE_NAME, &reason, &state);
                if (q >= 0) {
                        log_warning("Keeping the last good state, from %s/%s (one change older).",
                                    dir, STATE_PREVIOUS_FILE_NAME);
                        *ret = state;
                        return 1;
                }
                if (q == -EBADMSG)
                        log_error("The previous state %s/%s is corrupt too (%s).", dir, STATE_PREVIOUS_FILE_NAME,
                                  reason.text);
                return -EBADMSG;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to load %s/%s: %m", dir, STATE_FILE_NAME);

        *ret = state;
        return 0;
}

/* Removes the temporary file unless the rename took it. */
static void unlink_and_freep(char **path) {
        if (*path) {
                (void) unlink(*path);
                free(*path);
        }
}

int state_save(const char *dir, const State *s) {
        _cleanup_(unlink_and_freep) char *tmp_path = NULL;
        _cleanup_free_ char *text = NULL, *template = NULL;
        _cleanup_close_ int dir_fd = -1, fd = -1;
        int r;

        if (!dir || !s)
                return -EINVAL;

        r = state_to_string(s, &text);
        if (r < 0)
                return log_error_errno(r, "Failed to serialise the state: %m");

        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return log_error_errno(-errno, "Failed to open state folder %s: %m", dir);

        if (asprintf(&template, "%s/." STATE_FILE_NAME ".XXXXXX", dir) < 0)
                return log_oom();
        /* mkostemp() creates with mode 0600. */
        fd = mkostemp(template, O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to create a temporary file in %s: %m", dir);
        tmp_path = TAKE_PTR(template);

        if (fchmod(fd, 0600) < 0)
                return log_error_errno(-errno, "Failed to set the mode of %s: %m", tmp_path);
        r = write_all(fd, text, strlen(text));
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", tmp_path);
        if (fsync(fd) < 0)
                return log_error_errno(-errno, "Failed to sync %s: %m", tmp_path);

        /* Keep the state being replaced as the last good one: a hard link, no copy. Our saves
         * always rename a new file into place, so the two never share an inode. */
        if (linkat(dir_fd, STATE_FILE_NAME, dir_fd, "." STATE_PREVIOUS_FILE_NAME ".tmp", 0) >= 0) {
                if (renameat(dir_fd, "." STATE_PREVIOUS_FILE_NAME ".tmp", dir_fd, STATE_PREVIOUS_FILE_NAME) < 0)
                        (void) unlinkat(dir_fd, "." STATE_PREVIOUS_FILE_NAME ".tmp", 0);
        } else if (errno == EEXIST) {
                (void) unlinkat(dir_fd, "." STATE_PREVIOUS_FILE_NAME ".tmp", 0);
        }

        if (renameat(AT_FDCWD, tmp_path, dir_fd, STATE_FILE_NAME) < 0)
                return log_error_errno(-errno, "Failed to rename %s to %s/%s: %m", tmp_path, dir, STATE_FILE_NAME);
        free(TAKE_PTR(tmp_path));       /* it is state.json now: nothing to unlink */

        /* The rename itself must be durable before the method replies. */
        if (fsync(dir_fd) < 0)
                return log_error_errno(-errno, "Failed to sync state folder %s: %m", dir);

        return 0;
}
