/* SPDX-License-Identifier: GPL-2.0-or-later */
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

/* Far above what PF_MAX_RULES rules and any sane number of interfaces need;
 * a bigger file is treated as corrupt rather than read into memory. */
#define STATE_FILE_SIZE_MAX (64u * 1024u * 1024u)

/* json-c's int is int64: larger literals are silently clamped by the parser,
 * so the one range we can read back exactly is 0..INT64_MAX. */
#define STATE_UINT_MAX ((uint64_t) INT64_MAX)

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

/* Reading */

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
                        return bad(reason, "%s: unknown key \"%s\"", where, key);
        }
        return 0;
}

static int get_member(json_object *obj, const char *key, json_type type, const char *where,
                      Reason *reason, json_object **ret) {
        json_object *v;

        if (!json_object_object_get_ex(obj, key, &v) || !v)
                return bad(reason, "%s: \"%s\" is missing", where, key);
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

static int parse_rule(json_object *obj, size_t index, uint32_t next_id, Reason *reason, Rule **ret) {
        static const char *const keys[] = { "id", "action", "source", "created", "expires", NULL };
        _cleanup_(rule_freep) Rule *rule = NULL;
        const char *action, *source;
        char where[64];
        uint64_t id;
        int r;

        (void) snprintf(where, sizeof(where), "rule #%zu", index);
        if (!json_object_is_type(obj, json_type_object))
                return bad(reason, "%s: not an object", where);
        r = check_keys(obj, keys, where, reason);
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

        r = get_string(obj, "action", where, reason, &action);
        if (r < 0)
                return r;
        if (pf_action_from_string(action, &rule->action) < 0)
                return bad(reason, "%s: unknown action \"%s\"", where, action);

        r = get_string(obj, "source", where, reason, &source);
        if (r < 0)
                return r;
        r = prefix_parse(source, &rule->source);
        if (r < 0)
                return bad(reason, "%s: invalid source \"%s\": %s", where, source, prefix_strerror(r));

        r = get_uint(obj, "created", UINT64_MAX, where, reason, &rule->created_usec);
        if (r < 0)
                return r;
        r = get_uint(obj, "expires", UINT64_MAX, where, reason, &rule->expires_usec);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(rule);
        return 0;
}

static int parse_rules(json_object *array, RuleSet *rs, uint32_t next_id, Reason *reason) {
        size_t n = json_object_array_length(array);
        int r;

        if (n > PF_MAX_RULES)
                return bad(reason, "%zu rules, more than the limit of %u", n, PF_MAX_RULES);

        for (size_t i = 0; i < n; i++) {
                _cleanup_(rule_freep) Rule *rule = NULL;

                r = parse_rule(json_object_array_get_idx(array, i), i, next_id, reason, &rule);
                if (r < 0)
                        return r;

                r = rule_set_add(rs, rule, NULL);
                if (r == -EEXIST)
                        return bad(reason, "rule #%zu: duplicate id %" PRIu32, i, rule->id);
                if (r == -E2BIG)
                        return bad(reason, "rule #%zu: no room left in the rule set", i);
                if (r < 0)
                        return r;
                TAKE_PTR(rule);         /* the set owns it now */
        }
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
                if (!json_object_is_type(obj, json_type_object))
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

static int state_parse(const char *text, size_t len, Reason *reason, State **ret) {
        static const char *const keys[] = { "format", "next-id", "default-action", "rules", "interfaces", NULL };
        _cleanup_(json_tokener_freep) json_tokener *tok = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_(state_freep) State *state = NULL;
        json_object *rules, *interfaces;
        const char *default_action, *nul;
        uint64_t format, next_id;
        int r;

        if (len == 0)
                return bad(reason, "the file is empty");
        /* json-c would stop at a NUL and miss what follows (zeros left by a crash, say). */
        nul = memchr(text, '\0', len);
        if (nul)
                return bad(reason, "NUL byte at offset %zu", (size_t) (nul - text));

        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);

        root = json_tokener_parse_ex(tok, text, len);
        if (!root) {
                enum json_tokener_error e = json_tokener_get_error(tok);

                if (e == json_tokener_continue)
                        return bad(reason, "truncated JSON");
                if (e == json_tokener_success)
                        return bad(reason, "not a JSON object");
                return bad(reason, "invalid JSON at offset %zu: %s",
                           json_tokener_get_parse_end(tok), json_tokener_error_desc(e));
        }
        /* With JSON_TOKENER_STRICT json-c refuses trailing characters itself; be sure. */
        for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
                if (!(text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
                        return bad(reason, "trailing data at offset %zu", i);

        if (!json_object_is_type(root, json_type_object))
                return bad(reason, "not a JSON object");
        r = check_keys(root, keys, "top level", reason);
        if (r < 0)
                return r;

        r = get_uint(root, "format", UINT64_MAX, "top level", reason, &format);
        if (r < 0)
                return r;
        if (format != STATE_FORMAT_VERSION)
                return bad(reason, "unsupported format %" PRIu64 " (this version reads %d)",
                           format, STATE_FORMAT_VERSION);

        r = get_uint(root, "next-id", UINT32_MAX, "top level", reason, &next_id);
        if (r < 0)
                return r;
        if (next_id == 0)
                return bad(reason, "top level: \"next-id\" must not be 0");

        r = get_string(root, "default-action", "top level", reason, &default_action);
        if (r < 0)
                return r;
        r = get_member(root, "rules", json_type_array, "top level", reason, &rules);
        if (r < 0)
                return r;
        r = get_member(root, "interfaces", json_type_array, "top level", reason, &interfaces);
        if (r < 0)
                return r;

        state = calloc(1, sizeof(State));
        if (!state)
                return -ENOMEM;
        r = rule_set_new(&state->rules);
        if (r < 0)
                return r;

        if (pf_action_from_string(default_action, &state->rules->default_action) < 0)
                return bad(reason, "top level: unknown default action \"%.64s\"", default_action);

        r = parse_rules(rules, state->rules, (uint32_t) next_id, reason);
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

/* Writing */

static int json_add(json_object *obj, const char *key, json_object *value) {
        if (!value)
                return -ENOMEM;
        if (json_object_object_add(obj, key, value) < 0) {
                (void) json_object_put(value);
                return -ENOMEM;
        }
        return 0;
}

static int json_append(json_object *array, json_object *value) {
        if (!value)
                return -ENOMEM;
        if (json_object_array_add(array, value) < 0) {
                (void) json_object_put(value);
                return -ENOMEM;
        }
        return 0;
}

static int rule_to_json(const Rule *rule, uint32_t next_id, json_object **ret) {
        _cleanup_(json_object_putp) json_object *obj = NULL;
        char source[PREFIX_STRING_MAX];
        const char *action;
        int r;

        action = pf_action_to_string(rule->action);
        if (!action || rule->id == 0 || rule->id >= next_id || !prefix_is_valid(&rule->source) ||
            rule->created_usec > STATE_UINT_MAX || rule->expires_usec > STATE_UINT_MAX)
                return -EINVAL;

        obj = json_object_new_object();
        if (!obj)
                return -ENOMEM;

        if ((r = json_add(obj, "id", json_object_new_int64(rule->id))) < 0 ||
            (r = json_add(obj, "action", json_object_new_string(action))) < 0 ||
            (r = json_add(obj, "source", json_object_new_string(prefix_format(&rule->source, source)))) < 0 ||
            (r = json_add(obj, "created", json_object_new_int64((int64_t) rule->created_usec))) < 0 ||
            (r = json_add(obj, "expires", json_object_new_int64((int64_t) rule->expires_usec))) < 0)
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

        if ((r = json_add(obj, "name", json_object_new_string(iface->name))) < 0 ||
            (r = json_add(obj, "mode", json_object_new_string(iface->mode))) < 0)
                return r;

        *ret = TAKE_PTR(obj);
        return 0;
}

int state_to_string(const State *s, char **ret) {
        _cleanup_(json_object_putp) json_object *root = NULL, *rules = NULL, *interfaces = NULL;
        const char *default_action, *text;
        char *copy;
        size_t len;
        int r;

        if (!s || !s->rules || !ret || (s->n_interfaces > 0 && !s->interfaces))
                return -EINVAL;

        default_action = pf_action_to_string(s->rules->default_action);
        if (!default_action || s->rules->next_id == 0)
                return -EINVAL;

        rules = json_object_new_array();
        interfaces = json_object_new_array();
        root = json_object_new_object();
        if (!rules || !interfaces || !root)
                return -ENOMEM;

        for (size_t i = 0; i < s->rules->n_rules; i++) {
                json_object *obj;

                r = rule_to_json(s->rules->rules[i], s->rules->next_id, &obj);
                if (r < 0)
                        return r;
                r = json_append(rules, obj);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < s->n_interfaces; i++) {
                json_object *obj;

                for (size_t j = 0; j < i; j++)
                        if (strncmp(s->interfaces[i].name, s->interfaces[j].name, sizeof(s->interfaces[i].name)) == 0)
                                return -EINVAL;

                r = interface_to_json(s->interfaces + i, &obj);
                if (r < 0)
                        return r;
                r = json_append(interfaces, obj);
                if (r < 0)
                        return r;
        }

        if ((r = json_add(root, "format", json_object_new_int(STATE_FORMAT_VERSION))) < 0 ||
            (r = json_add(root, "next-id", json_object_new_int64(s->rules->next_id))) < 0 ||
            (r = json_add(root, "default-action", json_object_new_string(default_action))) < 0 ||
            (r = json_add(root, "rules", TAKE_PTR(rules))) < 0 ||
            (r = json_add(root, "interfaces", TAKE_PTR(interfaces))) < 0)
                return r;

        text = json_object_to_json_string_length(root,
                                                 JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE,
                                                 &len);
        if (!text)
                return -ENOMEM;

        /* A copy of our own (json-c's buffer dies with root), with the final newline text files have. */
        copy = malloc(len + 2);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, text, len);
        copy[len] = '\n';
        copy[len + 1] = '\0';

        *ret = copy;
        return 0;
}

/* Files */

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

        if (renameat(AT_FDCWD, tmp_path, dir_fd, STATE_FILE_NAME) < 0)
                return log_error_errno(-errno, "Failed to rename %s to %s/%s: %m", tmp_path, dir, STATE_FILE_NAME);
        free(TAKE_PTR(tmp_path));       /* it is state.json now: nothing to unlink */

        /* The rename itself must be durable before the method replies. */
        if (fsync(dir_fd) < 0)
                return log_error_errno(-errno, "Failed to sync state folder %s: %m", dir);

        return 0;
}
