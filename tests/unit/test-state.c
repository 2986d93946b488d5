/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of daemon/state.c: the state file round-trips exactly (every rule
 * field), saves are atomic and leave no temporary file, anything short of a
 * valid file is refused whole (-EBADMSG) and moved aside, format 1 files (the
 * first slice's) still load, and a million block rules save and load quickly.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "rule.h"
#include "state.h"
#include "test-util.h"

#define CORRUPT_PREFIX STATE_FILE_NAME ".corrupt-"

/* A pointer no function may write over a failure. */
#define SENTINEL ((State *) (uintptr_t) 0x5e7e)

static char test_dir[] = "/tmp/test-state-XXXXXX";


/* Files */

static int rm_rf_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        (void) remove(path);
        return 0;
}

static void rm_rf(const char *path) {
        (void) nftw(path, rm_rf_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void cleanup_test_dir(void) {
        rm_rf(test_dir);
}

/* Empties the folder, keeping it. */
static void clear_dir(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;

        require(d, "opendir %s: %m", dir);
        while ((de = readdir(d))) {
                char path[4096];

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                (void) snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                rm_rf(path);
        }
        closedir(d);
}

/* Number of entries in dir; the first one's name goes to ret_first if asked for. */
static size_t count_entries(const char *dir, char *ret_first, size_t size) {
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        require(d, "opendir %s: %m", dir);
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (n == 0 && ret_first)
                        (void) snprintf(ret_first, size, "%s", de->d_name);
                n++;
        }
        closedir(d);
        return n;
}

/* Removes the entries of dir whose name starts with prefix. */
static void remove_matching(const char *dir, const char *prefix) {
        DIR *d = opendir(dir);
        struct dirent *de;

        require(d, "opendir %s: %m", dir);
        while ((de = readdir(d)))
                if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
}

static void write_file(const char *dir, const char *name, const char *data, size_t len) {
        char path[4096];
        FILE *f;

        (void) snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        require(f, "fopen %s: %m", path);
        require(fwrite(data, 1, len, f) == len, "write %s", path);
        require(fclose(f) == 0, "close %s", path);
}

static char *read_file(const char *dir, const char *name, size_t *ret_len) {
        char path[4096];
        char *buf;
        long len;
        FILE *f;

        (void) snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "re");
        if (!f)
                return NULL;
        require(fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0, "seek %s", path);
        rewind(f);
        buf = malloc((size_t) len + 1);
        require(buf, "oom");
        require(fread(buf, 1, (size_t) len, f) == (size_t) len, "read %s", path);
        buf[len] = '\0';
        fclose(f);
        *ret_len = (size_t) len;
        return buf;
}

/* States */

static const uint64_t big_values[] = {
        0, 1, 2, UINT32_MAX, (uint64_t) UINT32_MAX + 1,
        (1ull << 53) + 1,                       /* not representable as a double */
        1700000000000000ull,                    /* 2023 in µs */
        (uint64_t) INT64_MAX - 1, (uint64_t) INT64_MAX,
};

static void random_prefix(uint64_t *seed, int family, struct prefix *ret) {
        unsigned bits = family == AF_INET ? 32 : 128;
        struct prefix p = { .family = family };

        p.prefixlen = (uint8_t) (test_random(seed) % (bits + 1));
        for (unsigned i = 0; i < bits / 8; i++)
                p.addr[i] = (uint8_t) test_random(seed);
        for (unsigned i = p.prefixlen; i < bits; i++)
                p.addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
        *ret = p;
}

static int random_family(uint64_t *seed) {
        return test_random(seed) % 2 ? AF_INET6 : AF_INET;
}

static struct port_range random_ports(uint64_t *seed) {
        uint16_t a = (uint16_t) test_random(seed), b = (uint16_t) test_random(seed);

        if (test_random(seed) % 2)
                return (struct port_range) { a, a };
        return (struct port_range) { a < b ? a : b, a < b ? b : a };
}

static const char *const comments[] = {
        "ssh scanners", "quotes \" and \\ and / too", "r\xc3\xa8gle \xe2\x80\x94 \xf0\x9f\x94\xa5", "x",
        /* 256 bytes, the longest */
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
};
static const char *const groups[] = { "fail2ban", "admin", "A-b_c.9",
        "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" };
static const char *const interfaces_names[] = { "eth0", "veth-pf0", "abcdefghijklmno", "\xc3\xa9th0" };
static const uint8_t protocols[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_ICMP, IPPROTO_ICMPV6, 0, 47, 255 };

/* A valid rule with fields drawn at random: half blocks, half classifier rules. */
static Rule *random_rule(uint64_t *seed, bool block) {
        Rule *rule = rule_new();
        struct rule_error e = {};
        int family = random_family(seed);

        require(rule, "oom");
        rule->action = test_random(seed) % 3 ? PF_ACTION_DROP : PF_ACTION_PASS;
        rule->priority = test_random(seed) % 2 ? 0 : (int32_t) (uint32_t) test_random(seed);
        rule->enabled = test_random(seed) % 4 != 0;
        if (test_random(seed) % 3 == 0)
                require(rule_set_comment(rule, comments[test_random(seed) % ELEMENTSOF(comments)], &e) == 0, "comment");
        if (test_random(seed) % 3 == 0)
                require(rule_set_group(rule, groups[test_random(seed) % ELEMENTSOF(groups)], &e) == 0, "group");
        rule->created_usec = big_values[test_random(seed) % ELEMENTSOF(big_values)];
        rule->expires_usec = test_random(seed) % 2 ? 0 : test_random(seed) & (uint64_t) INT64_MAX;

        if (block) {
                rule->match = RULE_MATCH_SOURCE;
                random_prefix(seed, family, &rule->source);
                return rule;
        }

        if (test_random(seed) % 2) {
                rule->match |= RULE_MATCH_PROTOCOL;
                rule->protocol = protocols[test_random(seed) % ELEMENTSOF(protocols)];
                if (rule->protocol == IPPROTO_ICMP)
                        family = AF_INET;
                if (rule->protocol == IPPROTO_ICMPV6)
                        family = AF_INET6;
                if (rule->protocol == IPPROTO_TCP || rule->protocol == IPPROTO_UDP || rule->protocol == IPPROTO_SCTP) {
                        if (test_random(seed) % 2) {
                                rule->match |= RULE_MATCH_PORT;
                                rule->port = random_ports(seed);
                        }
                        if (test_random(seed) % 3 == 0) {
                                rule->match |= RULE_MATCH_SOURCE_PORT;
                                rule->source_port = random_ports(seed);
                        }
                }
                if ((rule->protocol == IPPROTO_ICMP || rule->protocol == IPPROTO_ICMPV6) && test_random(seed) % 2) {
                        rule->match |= RULE_MATCH_ICMP_TYPE;
                        rule->icmp_type = (uint8_t) test_random(seed);
                }
        }
        if (test_random(seed) % 2) {
                rule->match |= RULE_MATCH_SOURCE;
                random_prefix(seed, family, &rule->source);
        }
        if (test_random(seed) % 2) {
                rule->match |= RULE_MATCH_DESTINATION;
                random_prefix(seed, family, &rule->destination);
        }
        if (test_random(seed) % 4 == 0) {
                rule->match |= RULE_MATCH_VLAN;
                rule->vlan = (uint16_t) (test_random(seed) % 4096);
        }
        if (test_random(seed) % 4 == 0)
                require(rule_set_interface(rule, interfaces_names[test_random(seed) % ELEMENTSOF(interfaces_names)],
                                           &e) == 0, "interface");
        /* A source alone would make it a block after all. */
        if (rule_is_block(rule)) {
                rule->match |= RULE_MATCH_VLAN;
                rule->vlan = 4095;
        }
        /* Some rate-limit rules, with and without a burst, per source or per rule. */
        if (test_random(seed) % 5 == 0) {
                rule->action = PF_ACTION_RATE_LIMIT;
                rule->rate = (uint32_t) (test_random(seed) % PF_RATE_MAX) + 1;
                rule->burst = test_random(seed) % 2 ? 0 : (uint32_t) test_random(seed) | 1;
                rule->per = test_random(seed) % 2 ? PF_RATE_PER_RULE : PF_RATE_PER_SOURCE;
        }
        require(rule_validate(rule, &e) == 0, "random rule invalid: %s: %s", e.field, e.reason);
        return rule;
}

static void add_random_rule(State *s, uint64_t *seed, bool block) {
        Rule *rule = random_rule(seed, block);
        int r;

        r = rule_set_add(s->rules, rule, NULL);
        require(r == 0, "rule_set_add: %d", r);
}

/* A full classifier, as many blocks, holes in the ids, big 64-bit values and three interfaces. */
static State *make_big_state(uint64_t seed) {
        State *s = calloc(1, sizeof(State));
        static const StateInterface interfaces[] = {
                { "eth0", "auto" },
                { "veth-pf0", "native" },
                { "abcdefghijklmno", "generic" },       /* 15 characters, the longest */
        };

        require(s && rule_set_new(&s->rules) == 0, "oom");
        s->rules->default_action = PF_ACTION_DROP;

        for (unsigned i = 0; i < 2 * PF_MAX_RULES; i++)
                add_random_rule(s, &seed, i % 2);
        /* Remove a quarter at random, add some back: ids get holes, slots get reused. */
        for (unsigned i = 0; i < PF_MAX_RULES / 2; i++) {
                uint32_t id = (uint32_t) (test_random(&seed) % (s->rules->next_id - 1)) + 1;
                (void) rule_set_remove(s->rules, id);
        }
        rule_set_release_slots(s->rules);
        for (unsigned i = 0; i < PF_MAX_RULES / 4; i++)
                add_random_rule(s, &seed, i % 2);
        /* The last rule removed too: next-id must still move past it. */
        require(rule_set_remove(s->rules, s->rules->rules[s->rules->n_rules - 1]->id) == 0, "remove");

        s->interfaces = malloc(sizeof(interfaces));
        require(s->interfaces, "oom");
        memcpy(s->interfaces, interfaces, sizeof(interfaces));
        s->n_interfaces = ELEMENTSOF(interfaces);
        return s;
}

/* Three blocks as the slice made them, and one rule with every field. */
static State *make_small_state(void) {
        State *s = calloc(1, sizeof(State));
        static const char *const sources[] = { "192.0.2.0/24", "2001:db8::/64", "198.51.100.7" };
        struct rule_error e = {};
        Rule *rule;

        require(s && rule_set_new(&s->rules) == 0, "oom");
        for (size_t i = 0; i < ELEMENTSOF(sources); i++) {
                rule = rule_new();
                require(rule, "oom");
                rule->action = PF_ACTION_DROP;
                require(rule_set_source(rule, sources[i], &e) == 0, "parse");
                rule->created_usec = 1700000000000000ull + i;
                rule->expires_usec = i == 1 ? 1700000000500000ull : 0;
                require(rule_set_add(s->rules, rule, NULL) == 0, "add");
        }

        rule = rule_new();
        require(rule, "oom");
        require(rule_set_action(rule, "pass", &e) == 0 &&
                rule_set_source(rule, "192.0.2.0/25", &e) == 0 &&
                rule_set_destination(rule, "198.51.100.1", &e) == 0 &&
                rule_set_protocol(rule, "tcp", &e) == 0 &&
                rule_set_source_port(rule, "1024-65535", &e) == 0 &&
                rule_set_port(rule, "8000-8100", &e) == 0 &&
                rule_set_vlan(rule, 42, &e) == 0 &&
                rule_set_interface(rule, "veth0", &e) == 0 &&
                rule_set_comment(rule, "web \"farm\"", &e) == 0 &&
                rule_set_group(rule, "admin", &e) == 0, "full rule: %s: %s", e.field, e.reason);
        rule->priority = -5;
        rule->enabled = false;
        rule->created_usec = 1700000000000003ull;
        rule->expires_usec = 1700000000900000ull;
        require(rule_validate(rule, &e) == 0 && rule_set_add(s->rules, rule, NULL) == 0, "add full rule");

        s->interfaces = calloc(2, sizeof(StateInterface));
        require(s->interfaces, "oom");
        strcpy(s->interfaces[0].name, "veth0");
        strcpy(s->interfaces[0].mode, "auto");
        strcpy(s->interfaces[1].name, "veth1");
        strcpy(s->interfaces[1].mode, "generic");
        s->n_interfaces = 2;
        return s;
}

/* Every field but the slot, which is the loader's to give. */
static bool same_rule(const Rule *x, const Rule *y) {
        return x->id == y->id && x->action == y->action && x->match == y->match &&
                (!(x->match & RULE_MATCH_SOURCE) || prefix_equal(&x->source, &y->source)) &&
                (!(x->match & RULE_MATCH_DESTINATION) || prefix_equal(&x->destination, &y->destination)) &&
                (!(x->match & RULE_MATCH_PROTOCOL) || x->protocol == y->protocol) &&
                (!(x->match & RULE_MATCH_SOURCE_PORT) ||
                 (x->source_port.first == y->source_port.first && x->source_port.last == y->source_port.last)) &&
                (!(x->match & RULE_MATCH_PORT) || (x->port.first == y->port.first && x->port.last == y->port.last)) &&
                (!(x->match & RULE_MATCH_ICMP_TYPE) || x->icmp_type == y->icmp_type) &&
                (!(x->match & RULE_MATCH_VLAN) || x->vlan == y->vlan) &&
                (!(x->match & RULE_MATCH_INTERFACE) || streq(x->interface, y->interface)) &&
                x->priority == y->priority && x->enabled == y->enabled &&
                streq_ptr(x->comment, y->comment) && streq_ptr(x->group, y->group) &&
                x->created_usec == y->created_usec && x->expires_usec == y->expires_usec &&
                x->rate == y->rate && x->burst == y->burst && x->per == y->per;
}

static void check_same_state(const State *a, const State *b, const char *what) {
        _cleanup_free_ bool *cls_seen = calloc(PF_MAX_RULES, sizeof(bool)), *block_seen = calloc(PF_MAX_BLOCKS, sizeof(bool));

        require(cls_seen && block_seen, "oom");
        require(a->rules && b->rules, "%s: no rule set", what);
        check(a->rules->next_id == b->rules->next_id, "%s: next_id %" PRIu32 " vs %" PRIu32,
              what, a->rules->next_id, b->rules->next_id);
        check(a->rules->default_action == b->rules->default_action, "%s: default action", what);
        require(a->rules->n_rules == b->rules->n_rules, "%s: %zu rules vs %zu", what,
                a->rules->n_rules, b->rules->n_rules);
        check(a->rules->n_block_rules == b->rules->n_block_rules, "%s: %zu block rules vs %zu", what,
              a->rules->n_block_rules, b->rules->n_block_rules);

        for (size_t i = 0; i < a->rules->n_rules; i++) {
                const Rule *x = a->rules->rules[i], *y = b->rules->rules[i];
                bool *seen = rule_is_block(y) ? block_seen : cls_seen;
                uint32_t limit = rule_is_block(y) ? PF_MAX_BLOCKS : PF_MAX_RULES;

                if (!check(same_rule(x, y), "%s: rule %zu (id %" PRIu32 "/%" PRIu32 ") differs", what, i, x->id, y->id))
                        break;
                check(y->slot < limit && !seen[y->slot], "%s: rule %" PRIu32 " slot %" PRIu32 " reused",
                      what, y->id, y->slot);
                if (y->slot < limit)
                        seen[y->slot] = true;
        }

        require(a->n_interfaces == b->n_interfaces, "%s: %zu interfaces vs %zu", what,
                a->n_interfaces, b->n_interfaces);
        for (size_t i = 0; i < a->n_interfaces; i++) {
                check(streq(a->interfaces[i].name, b->interfaces[i].name), "%s: interface %zu name", what, i);
                check(streq(a->interfaces[i].mode, b->interfaces[i].mode), "%s: interface %zu mode", what, i);
        }
}

/* Round trips */

static void test_round_trip_string(void) {
        _cleanup_(state_freep) State *s = make_big_state(42), *loaded = NULL, *again = NULL;
        _cleanup_free_ char *text = NULL, *text2 = NULL;
        int r;

        require(s->rules->n_rules > 6000 && rule_set_count_classifier(s->rules) > 3000,
                "only %zu rules", s->rules->n_rules);
        require(state_to_string(s, &text) == 0, "state_to_string");

        r = state_from_string(text, &loaded);
        require(r == 0, "state_from_string of our own output: %d", r);
        check_same_state(s, loaded, "string round trip");

        /* Deterministic: the loaded state serialises to the same bytes. */
        require(state_to_string(loaded, &text2) == 0, "state_to_string");
        check(streq(text, text2), "serialisation is not stable");

        /* Every value we chose shows up exactly in the text (not as a double). */
        for (size_t i = 0; i < ELEMENTSOF(big_values); i++) {
                char needle[64];

                const char *at;

                (void) snprintf(needle, sizeof(needle), "\"created\": %" PRIu64, big_values[i]);
                at = strstr(text, needle);
                while (at && at[strlen(needle)] >= '0' && at[strlen(needle)] <= '9')
                        at = strstr(at + 1, needle);
                check(at, "%s not found in the output", needle);
        }
        check(text[strlen(text) - 1] == '\n', "no final newline");

        /* Loading applies exactly what the file says: the ids given, next-id past the removed ones. */
        uint32_t last_id = s->rules->rules[s->rules->n_rules - 1]->id;
        check(loaded->rules->next_id > last_id + 1, "next-id %" PRIu32 " lost the removed rule %" PRIu32,
              loaded->rules->next_id, last_id + 1);
        check(rule_set_find(loaded->rules, last_id) != NULL, "rule_set_find on the loaded set");

        /* An empty set keeps its next-id. */
        State empty = {};
        require(rule_set_new(&empty.rules) == 0, "oom");
        empty.rules->next_id = 50;
        text = (free(text), NULL);
        require(state_to_string(&empty, &text) == 0, "state_to_string");
        require(state_from_string(text, &again) == 0, "state_from_string");
        check(again->rules->n_rules == 0 && again->rules->next_id == 50 && again->n_interfaces == 0,
              "empty state: %zu rules, next-id %" PRIu32, again->rules->n_rules, again->rules->next_id);
        rule_set_free(empty.rules);
}

/* The document has the documented shape, read with json-c on its own. */
/* The exact text of a rule's object in the output (one rule per line). */
static void check_rule_line(const char *text, const char *line) {
        check(strstr(text, line), "output lacks the line\n%s\nin\n%s", line, text);
}

static const char *string_member(json_object *obj, const char *key) {
        json_object *v;

        return json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_string)
                ? json_object_get_string(v) : NULL;
}

/* The document has the documented shape, read with json-c on its own. */
static void test_format_shape(void) {
        _cleanup_(state_freep) State *s = make_small_state();
        _cleanup_free_ char *text = NULL;
        json_object *root, *v, *rules, *rule, *ifaces;

        require(state_to_string(s, &text) == 0, "state_to_string");
        root = json_tokener_parse(text);
        require(root, "output is not JSON:\n%s", text);

        check(json_object_object_get_ex(root, "format", &v) && json_object_get_int(v) == 2, "format");
        check(json_object_object_get_ex(root, "next-id", &v) && json_object_get_int(v) == 5, "next-id");
        check(json_object_object_get_ex(root, "default-action", &v) &&
              streq(json_object_get_string(v), "pass"), "default-action");
        require(json_object_object_get_ex(root, "rules", &rules) && json_object_array_length(rules) == 4, "rules");

        /* A block has what it needs and nothing else: the defaults stay out. */
        rule = json_object_array_get_idx(rules, 1);
        check(json_object_object_length(rule) == 5, "a block has %d keys", json_object_object_length(rule));
        check(json_object_object_get_ex(rule, "id", &v) && json_object_get_int(v) == 2, "rule id");
        check(streq_ptr(string_member(rule, "action"), "drop"), "action");
        check(streq_ptr(string_member(rule, "source"), "2001:db8::/64"), "source");
        check(json_object_object_get_ex(rule, "created", &v) &&
              json_object_get_int64(v) == 1700000000000001ll, "created");
        check(json_object_object_get_ex(rule, "expires", &v) &&
              json_object_get_int64(v) == 1700000000500000ll, "expires");
        rule = json_object_array_get_idx(rules, 0);
        check(!json_object_object_get_ex(rule, "expires", NULL) && !json_object_object_get_ex(rule, "group", NULL) &&
              !json_object_object_get_ex(rule, "priority", NULL) && !json_object_object_get_ex(rule, "enabled", NULL),
              "defaults written");

        /* The rule with every field: canonical strings, numbers, and its place on one line. */
        rule = json_object_array_get_idx(rules, 3);
        check(json_object_object_length(rule) == 15, "the full rule has %d keys", json_object_object_length(rule));
        check(streq_ptr(string_member(rule, "protocol"), "tcp"), "protocol");
        check(streq_ptr(string_member(rule, "source-port"), "1024-65535"), "source-port");
        check(streq_ptr(string_member(rule, "port"), "8000-8100"), "port");
        check(json_object_object_get_ex(rule, "vlan", &v) && json_object_is_type(v, json_type_int) &&
              json_object_get_int(v) == 42, "vlan");
        check(json_object_object_get_ex(rule, "priority", &v) && json_object_get_int(v) == -5, "priority");
        check(json_object_object_get_ex(rule, "enabled", &v) && json_object_is_type(v, json_type_boolean) &&
              !json_object_get_boolean(v), "enabled");
        check(streq_ptr(string_member(rule, "comment"), "web \"farm\""), "comment");
        check(streq_ptr(string_member(rule, "group"), "admin"), "group");
        check_rule_line(text, "\n    { \"id\": 1, \"action\": \"drop\", \"source\": \"192.0.2.0/24\", "
                        "\"created\": 1700000000000000 },\n");
        check_rule_line(text, "\n    { \"id\": 4, \"action\": \"pass\", \"source\": \"192.0.2.0/25\", "
                        "\"destination\": \"198.51.100.1\", \"protocol\": \"tcp\", \"source-port\": \"1024-65535\", "
                        "\"port\": \"8000-8100\", \"vlan\": 42, \"interface\": \"veth0\", \"priority\": -5, "
                        "\"enabled\": false, \"comment\": \"web \\\"farm\\\"\", \"group\": \"admin\", "
                        "\"created\": 1700000000000003, \"expires\": 1700000000900000 }\n");

        require(json_object_object_get_ex(root, "interfaces", &ifaces) &&
                json_object_array_length(ifaces) == 2, "interfaces");
        check(json_object_object_get_ex(json_object_array_get_idx(ifaces, 1), "mode", &v) &&
              streq(json_object_get_string(v), "generic"), "mode");
        json_object_put(root);

        /* ICMP rules: protocol names and numbers, the ICMP type as a number. */
        _cleanup_(state_freep) State *icmp = NULL;
        _cleanup_free_ char *icmp_text = NULL;
        struct rule_error e;
        static const char *const protos[] = { "icmp", "icmpv6", "1", "58", "47", "0" };

        icmp = calloc(1, sizeof(State));
        require(icmp && rule_set_new(&icmp->rules) == 0, "oom");
        for (size_t i = 0; i < ELEMENTSOF(protos); i++) {
                Rule *r = rule_new();

                require(r && rule_set_protocol(r, protos[i], &e) == 0, "protocol");
                if (i < 4)
                        require(rule_set_icmp_type(r, (uint32_t) (i * 60), &e) == 0, "icmp-type");
                require(rule_set_add(icmp->rules, r, NULL) == 0, "add");
        }
        require(state_to_string(icmp, &icmp_text) == 0, "state_to_string");
        check_rule_line(icmp_text, "{ \"id\": 1, \"action\": \"drop\", \"protocol\": \"icmp\", \"icmp-type\": 0, \"created\": 0 }");
        check_rule_line(icmp_text, "{ \"id\": 2, \"action\": \"drop\", \"protocol\": \"icmpv6\", \"icmp-type\": 60, \"created\": 0 }");
        check_rule_line(icmp_text, "{ \"id\": 3, \"action\": \"drop\", \"protocol\": \"icmp\", \"icmp-type\": 120, \"created\": 0 }");
        check_rule_line(icmp_text, "{ \"id\": 5, \"action\": \"drop\", \"protocol\": \"47\", \"created\": 0 }");
        check_rule_line(icmp_text, "{ \"id\": 6, \"action\": \"drop\", \"protocol\": \"0\", \"created\": 0 }");
}

static void test_save_load(void) {
        _cleanup_(state_freep) State *s = make_big_state(7), *loaded = NULL, *small = make_small_state();
        char first[256];
        struct stat st, st2;
        char path[4096];
        int r;

        (void) snprintf(path, sizeof(path), "%s/%s", test_dir, STATE_FILE_NAME);
        clear_dir(test_dir);

        /* Whatever the umask, the file is 0600. */
        mode_t old_umask = umask(0);
        r = state_save(test_dir, s);
        (void) umask(old_umask);
        require(r == 0, "state_save: %d", r);

        require(stat(path, &st) == 0, "stat %s: %m", path);
        check((st.st_mode & 07777) == 0600, "mode %o", (unsigned) (st.st_mode & 07777));
        check(count_entries(test_dir, first, sizeof(first)) == 1 && streq(first, STATE_FILE_NAME),
              "save left other files (first: %s)", first);

        r = state_load(test_dir, &loaded);
        require(r == 0, "state_load: %d", r);
        check_same_state(s, loaded, "file round trip");

        /* A second save replaces the file (a new inode: it was renamed over). */
        r = state_save(test_dir, small);
        require(r == 0, "state_save: %d", r);
        require(stat(path, &st2) == 0, "stat");
        check(st.st_ino != st2.st_ino, "the file was rewritten in place, not replaced");
        check((st2.st_mode & 07777) == 0600, "mode %o", (unsigned) (st2.st_mode & 07777));
        /* ...and keeps the state it replaced as the last good one, under its old inode. */
        check(count_entries(test_dir, NULL, 0) == 2, "save left other files than state.json and state.json.prev");
        {
                _cleanup_free_ char *prev_path = NULL;
                struct stat st3;

                require(asprintf(&prev_path, "%s/%s", test_dir, STATE_PREVIOUS_FILE_NAME) > 0, "oom");
                check(stat(prev_path, &st3) == 0 && st3.st_ino == st.st_ino, "state.json.prev is not the replaced file");
        }
        loaded = state_free(loaded);
        require(state_load(test_dir, &loaded) == 0, "state_load");
        check_same_state(small, loaded, "second save");

        /* A corrupt state.json: moved aside, and the previous state is loaded instead (returns 1). */
        {
                _cleanup_(state_freep) State *recovered = NULL;
                FILE *f = fopen(path, "we");

                require(f, "open %s: %m", path);
                fputs("{ \"format\": 2, \"rules\": [", f);
                fclose(f);
                log_set_max_level(LOG_CRIT);
                r = state_load(test_dir, &recovered);
                log_set_max_level(LOG_INFO);
                check(r == 1, "state_load of a corrupt file with a good previous one: %d", r);
                if (r == 1)
                        check_same_state(s, recovered, "recovered from state.json.prev");
                /* Put the good file back for what follows; drop the corrupt copy. */
                require(state_save(test_dir, small) == 0, "state_save");
                remove_matching(test_dir, "state.json.corrupt-");
        }

        /* A save that fails leaves the old file as it was and no temporary file. */
        StateInterface bad = { "eth/0", "auto" };
        State invalid = { .rules = small->rules, .interfaces = &bad, .n_interfaces = 1 };
        size_t before_len, after_len;
        _cleanup_free_ char *before = read_file(test_dir, STATE_FILE_NAME, &before_len);

        log_set_max_level(LOG_CRIT);
        r = state_save(test_dir, &invalid);
        log_set_max_level(LOG_INFO);
        check(r == -EINVAL, "saving an invalid interface name: %d", r);
        _cleanup_free_ char *after = read_file(test_dir, STATE_FILE_NAME, &after_len);
        check(before && after && before_len == after_len && memcmp(before, after, before_len) == 0,
              "a refused save changed the file");
        check(count_entries(test_dir, NULL, 0) == 2, "a refused save left files behind");
}

enum {
        SPOIL_EMPTY_NAME,
        SPOIL_NAME_WITH_SPACE,
        SPOIL_UNTERMINATED_NAME,
        SPOIL_DUPLICATE_INTERFACE,
        SPOIL_UNKNOWN_MODE,
        SPOIL_CREATED_TOO_BIG,
        SPOIL_EXPIRES_TOO_BIG,
        SPOIL_ID_NOT_BELOW_NEXT_ID,
        SPOIL_UNKNOWN_ACTION,
        SPOIL_UNKNOWN_DEFAULT_ACTION,
        SPOIL_HOST_BITS,
        SPOIL_BAD_FAMILY,
        SPOIL_BAD_PREFIXLEN,
        SPOIL_VLAN_TOO_BIG,
        SPOIL_PORT_REVERSED,
        SPOIL_PORTS_WITHOUT_PORT_PROTOCOL,
        SPOIL_FAMILIES_MIXED,
        SPOIL_DESTINATION_HOST_BITS,
        SPOIL_COMMENT_NEWLINE,
        SPOIL_COMMENT_NOT_UTF8,
        SPOIL_GROUP_EMPTY,
        SPOIL_GROUP_NULL,
        SPOIL_GROUP_SPACE,
        SPOIL_RULE_INTERFACE,
        SPOIL_UNKNOWN_MATCH,
        _SPOIL_MAX,
};

/* Makes one thing about a valid state invalid; says what. */
static const char *spoil(State *s, unsigned how) {
        Rule *first = s->rules->rules[0], *full = s->rules->rules[3];

        switch (how) {
        case SPOIL_EMPTY_NAME:
                s->interfaces[0].name[0] = '\0';
                return "empty interface name";
        case SPOIL_NAME_WITH_SPACE:
                strcpy(s->interfaces[0].name, "a b");
                return "interface name with a space";
        case SPOIL_UNTERMINATED_NAME:
                memset(s->interfaces[0].name, 'a', sizeof(s->interfaces[0].name));
                return "unterminated interface name";
        case SPOIL_DUPLICATE_INTERFACE:
                strcpy(s->interfaces[1].name, s->interfaces[0].name);
                return "interface listed twice";
        case SPOIL_UNKNOWN_MODE:
                strcpy(s->interfaces[0].mode, "fast");
                return "unknown mode";
        case SPOIL_CREATED_TOO_BIG:
                first->created_usec = (uint64_t) INT64_MAX + 1;
                return "created past INT64_MAX";
        case SPOIL_EXPIRES_TOO_BIG:
                first->expires_usec = UINT64_MAX;
                return "expires past INT64_MAX";
        case SPOIL_ID_NOT_BELOW_NEXT_ID:
                s->rules->next_id = s->rules->rules[s->rules->n_rules - 1]->id;
                return "id not below next-id";
        case SPOIL_UNKNOWN_ACTION:
                first->action = (enum pf_action) 7;
                return "unknown action";
        case SPOIL_UNKNOWN_DEFAULT_ACTION:
                s->rules->default_action = (enum pf_action) 7;
                return "unknown default action";
        case SPOIL_HOST_BITS:
                first->source.addr[3] = 1;      /* 192.0.2.1/24 */
                return "host bits set in a source";
        case SPOIL_BAD_FAMILY:
                first->source.family = AF_UNSPEC;
                return "source of no family";
        case SPOIL_BAD_PREFIXLEN:
                first->source.prefixlen = 33;
                return "source /33";
        case SPOIL_VLAN_TOO_BIG:
                full->vlan = 4096;
                return "vlan 4096";
        case SPOIL_PORT_REVERSED:
                full->port = (struct port_range) { 9, 8 };
                return "port range reversed";
        case SPOIL_PORTS_WITHOUT_PORT_PROTOCOL:
                full->protocol = IPPROTO_ICMP;
                return "ports with icmp";
        case SPOIL_FAMILIES_MIXED:
                require(prefix_parse("2001:db8::/32", &full->destination) == 0, "parse");
                return "IPv4 source, IPv6 destination";
        case SPOIL_DESTINATION_HOST_BITS:
                full->destination.prefixlen = 24;
                return "host bits in a destination";
        case SPOIL_COMMENT_NEWLINE:
                full->comment[1] = '\n';
                return "comment with a newline";
        case SPOIL_COMMENT_NOT_UTF8:
                full->comment[1] = '\xff';
                return "comment not UTF-8";
        case SPOIL_GROUP_EMPTY:
                full->group[0] = '\0';
                return "empty group";
        case SPOIL_GROUP_NULL:
                full->group = (free(full->group), NULL);
                return "no group";
        case SPOIL_GROUP_SPACE:
                full->group[0] = ' ';
                return "group with a space";
        case SPOIL_RULE_INTERFACE:
                strcpy(full->interface, "a:b");
                return "interface with a colon";
        case SPOIL_UNKNOWN_MATCH:
                full->match |= 1u << 20;
                return "unknown match field";
        default:
                abort();
        }
}

static void test_save_failures(void) {
        _cleanup_(state_freep) State *s = make_small_state();
        char path[4096], missing[4096];
        int r;

        clear_dir(test_dir);
        log_set_max_level(LOG_CRIT);

        /* The rename fails (state.json is a non-empty folder): the temporary file goes away. */
        (void) snprintf(path, sizeof(path), "%s/%s", test_dir, STATE_FILE_NAME);
        require(mkdir(path, 0700) == 0, "mkdir");
        write_file(path, "keep", "x", 1);
        r = state_save(test_dir, s);
        check(r < 0, "save over a folder succeeded");
        check(count_entries(test_dir, NULL, 0) == 1, "a failed save left a temporary file");
        rm_rf(path);

        (void) snprintf(missing, sizeof(missing), "%s/does-not-exist", test_dir);
        r = state_save(missing, s);
        check(r == -ENOENT, "save into a missing folder: %d", r);

        /* Never write what we would refuse to read. */
        for (unsigned i = 0; i < _SPOIL_MAX; i++) {
                _cleanup_(state_freep) State *spoilt = make_small_state();
                _cleanup_free_ char *text = NULL;
                const char *what = spoil(spoilt, i);

                r = state_to_string(spoilt, &text);
                check(r == -EINVAL && !text, "%s: state_to_string gave %d", what, r);
                r = state_save(test_dir, spoilt);
                check(r == -EINVAL, "%s: state_save gave %d", what, r);
                check(count_entries(test_dir, NULL, 0) == 0, "%s: a refused save left files", what);
        }

        log_set_max_level(LOG_INFO);
}

/* Refusal */

/* Loads bytes as a file: must give -EBADMSG, leave no state.json and one corrupt file with those bytes. */
static void check_refused_file(const char *what, const char *data, size_t len) {
        State *state = SENTINEL;
        char aside[256] = "";
        size_t aside_len = 0;
        int r;

        clear_dir(test_dir);
        write_file(test_dir, STATE_FILE_NAME, data, len);

        r = state_load(test_dir, &state);
        check(r == -EBADMSG, "%s: state_load gave %d", what, r);
        check(state == SENTINEL, "%s: result written on failure", what);
        if (state != SENTINEL)
                state_free(state);

        check(count_entries(test_dir, aside, sizeof(aside)) == 1, "%s: not exactly one file left", what);
        check(strncmp(aside, CORRUPT_PREFIX, strlen(CORRUPT_PREFIX)) == 0 &&
              strspn(aside + strlen(CORRUPT_PREFIX), "0123456789") == strlen(aside + strlen(CORRUPT_PREFIX)) &&
              strlen(aside) > strlen(CORRUPT_PREFIX),
              "%s: moved to \"%s\"", what, aside);

        _cleanup_free_ char *moved = read_file(test_dir, aside, &aside_len);
        check(moved && aside_len == len && memcmp(moved, data, len) == 0, "%s: moved file differs", what);
}

static void check_refused(const char *what, const char *text) {
        State *state = SENTINEL;
        int r;

        r = state_from_string(text, &state);
        check(r == -EBADMSG, "%s: state_from_string gave %d for:\n%s", what, r, text);
        check(state == SENTINEL, "%s: result written on failure", what);
        if (state != SENTINEL)
                state_free(state);

        check_refused_file(what, text, strlen(text));
}

static void check_accepted(const char *what, const char *text) {
        _cleanup_(state_freep) State *state = NULL;
        int r;

        r = state_from_string(text, &state);
        check(r == 0 && state, "%s: refused (%d):\n%s", what, r, text);
}

#define DOC(format, next_id, default_action, rules, interfaces)                 \
        "{\"format\": " format ", \"next-id\": " next_id                        \
        ", \"default-action\": " default_action ", \"rules\": " rules           \
        ", \"interfaces\": " interfaces "}"
#define RULE(id, action, source, created, expires)                              \
        "{\"id\": " id ", \"action\": " action ", \"source\": " source          \
        ", \"created\": " created ", \"expires\": " expires "}"
#define IFACE(name, mode) "{\"name\": " name ", \"mode\": " mode "}"

#define GOOD_RULE RULE("1", "\"drop\"", "\"192.0.2.0/24\"", "1", "0")
#define GOOD_IFACE IFACE("\"eth0\"", "\"auto\"")
#define WITH_RULE(rule) DOC("1", "10", "\"pass\"", "[" rule "]", "[]")
#define WITH_RULES(rules) DOC("1", "10", "\"pass\"", rules, "[]")
#define WITH_IFACE(iface) DOC("1", "10", "\"pass\"", "[]", "[" iface "]")
#define WITH_IFACES(ifaces) DOC("1", "10", "\"pass\"", "[]", ifaces)
#define GOOD_DOC DOC("1", "10", "\"pass\"", "[" GOOD_RULE "]", "[" GOOD_IFACE "]")

/* Format 2: a rule with id 1, action drop, created 1, and the fields given (each starting with ", "). */
#define WITH_RULES2(rules) DOC("2", "10", "\"pass\"", rules, "[]")
#define V2(fields) WITH_RULES2("[{\"id\": 1, \"action\": \"drop\", \"created\": 1" fields "}]")
#define V2_RATE(fields) WITH_RULES2("[{\"id\": 1, \"action\": \"rate-limit\", \"created\": 1" fields "}]")
#define TCP22 ", \"protocol\": \"tcp\", \"port\": \"22\""
#define EVERY_FIELD                                                                                   \
        ", \"source\": \"192.0.2.0/24\", \"destination\": \"198.51.100.1\", \"protocol\": \"udp\", "        \
        "\"source-port\": \"1024-65535\", \"port\": \"53\", \"vlan\": 4095, \"interface\": \"eth0\", "          \
        "\"priority\": -7, \"enabled\": false, \"comment\": \"dns\", \"group\": \"admin\", \"expires\": 5"
#define COMMENT_256                                                                                   \
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                            \
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                            \
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                            \
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define GROUP_64 "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const struct {
        const char *what;
        const char *text;
} accepted_cases[] = {
        { "the model document",         GOOD_DOC },
        { "empty",                      DOC("1", "1", "\"drop\"", "[]", "[]") },
        { "whitespace around",          " \n\t" GOOD_DOC "\n\n " },
        { "keys in another order",      "{\"interfaces\": [], \"rules\": [], \"default-action\": \"pass\", "
                                        "\"next-id\": 1, \"format\": 1}" },
        { "created INT64_MAX",          WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\"", "9223372036854775807", "9223372036854775807")) },
        { "largest id",                 DOC("1", "4294967295", "\"pass\"", "[" RULE("4294967294", "\"pass\"", "\"::/0\"", "0", "0") "]", "[]") },
        { "IPv6 and mapped sources",    WITH_RULES("[" RULE("1", "\"drop\"", "\"2001:db8::/32\"", "0", "0") ", "
                                                   RULE("2", "\"drop\"", "\"::ffff:192.0.2.1\"", "0", "0") "]") },
        { "non-canonical source",       WITH_RULE(RULE("1", "\"drop\"", "\"2001:DB8:0::1/128\"", "0", "0")) },
        { "ids out of order",           WITH_RULES("[" RULE("5", "\"drop\"", "\"192.0.2.5\"", "0", "0") ", "
                                                   RULE("2", "\"drop\"", "\"192.0.2.2\"", "0", "0") "]") },
        { "15-character name",          WITH_IFACE(IFACE("\"abcdefghijklmno\"", "\"generic\"")) },
        { "native mode",                WITH_IFACE(IFACE("\"veth-pf.0\"", "\"native\"")) },

        /* Format 2. */
        { "format 2, empty",            DOC("2", "1", "\"drop\"", "[]", "[]") },
        { "format 2, a rule with only what it must have", V2("") },
        { "format 2, a block",          V2(", \"source\": \"192.0.2.1\"") },
        { "format 2, a format-1 rule",  WITH_RULES2("[" GOOD_RULE "]") },
        { "every field",                V2(EVERY_FIELD) },
        { "rate-limit, per source",     V2_RATE(", \"protocol\": \"udp\", \"port\": \"53\", \"rate\": 100") },
        { "rate-limit, burst, per rule", V2_RATE(", \"rate\": 1, \"burst\": 4294967295, \"per\": \"rule\"") },
        { "rate-limit on a source alone", V2_RATE(", \"source\": \"192.0.2.0/24\", \"rate\": 100000000") },
        { "every field, IPv6",          V2(", \"source\": \"2001:db8::/32\", \"destination\": \"::/0\", \"protocol\": \"sctp\", "
                                           "\"source-port\": \"0\", \"port\": \"0-65535\", \"vlan\": 0") },
        { "icmp type",                  V2(", \"protocol\": \"icmp\", \"icmp-type\": 8, \"destination\": \"192.0.2.0/24\"") },
        { "icmpv6 by number",           V2(", \"protocol\": \"58\", \"icmp-type\": 255, \"source\": \"2001:db8::1\"") },
        { "protocol by number, a port", V2(", \"protocol\": \"6\", \"port\": \"8000-8100\"") },
        { "protocol 0 and 255",         WITH_RULES2("[{\"id\": 1, \"action\": \"pass\", \"protocol\": \"0\", \"created\": 0}, "
                                                    "{\"id\": 2, \"action\": \"pass\", \"protocol\": \"255\", \"created\": 0}]") },
        { "priorities at the ends",     WITH_RULES2("[{\"id\": 1, \"action\": \"pass\", \"priority\": -2147483648, \"created\": 0}, "
                                                    "{\"id\": 2, \"action\": \"pass\", \"priority\": 2147483647, \"created\": 0}]") },
        { "defaults written out",       V2(", \"priority\": 0, \"enabled\": true, \"group\": \"default\", \"expires\": 0") },
        { "empty comment",              V2(", \"comment\": \"\"") },
        { "256-byte comment",           V2(", \"comment\": \"" COMMENT_256 "\"") },
        { "escapes in a comment",       V2(", \"comment\": \"caf\\u00e9 \\\"q\\\" \\\\ \\/ \\ud83d\\udd25\"") },
        /* json-c decodes a lone surrogate as U+FFFD: valid text. */
        { "comment with a lone surrogate", V2(", \"comment\": \"a\\ud83d\"") },
        { "64-byte group",              V2(", \"group\": \"" GROUP_64 "\"") },
        { "interface, 15 bytes",        V2(", \"interface\": \"abcdefghijklmno\"") },
        { "escaped key",                "{\"\\u0066ormat\": 2, \"next-id\": 1, \"default-action\": \"pass\", \"rules\": [], \"interfaces\": []}" },
        { "rules before format",        "{\"rules\": [{\"id\": 3, \"action\": \"drop\", \"port\": \"22\", \"protocol\": \"tcp\", \"created\": 1}], "
                                        "\"interfaces\": [], \"default-action\": \"pass\", \"next-id\": 10, \"format\": 2}" },
        { "format-1 rules before format", "{\"rules\": [" GOOD_RULE "], \"interfaces\": [], \"default-action\": \"pass\", "
                                        "\"next-id\": 10, \"format\": 1}" },
        { "white space everywhere",     "\r\n{\t\"format\"\n:\r2 ,\"next-id\" : 10\n,\"default-action\":\"pass\",\"rules\"\n:\n[\n"
                                        "{\"id\":1,\"action\":\"drop\",\"created\":1}\n,\n{ \"id\" : 2 , \"action\" : \"pass\" , "
                                        "\"created\" : 1 }\n]\n,\"interfaces\":[ ]\t}\r\n" },
        { "no white space",             "{\"format\":2,\"next-id\":10,\"default-action\":\"pass\",\"rules\":[{\"id\":1,"
                                        "\"action\":\"drop\",\"created\":1}],\"interfaces\":[]}" },
};

static const struct {
        const char *what;
        const char *text;
} refused_cases[] = {
        /* Rate limits. */
        { "rate-limit without a rate",  V2_RATE("") },
        { "rate 0",                     V2_RATE(", \"rate\": 0") },
        { "rate past the maximum",      V2_RATE(", \"rate\": 100000001") },
        { "burst 0",                    V2_RATE(", \"rate\": 5, \"burst\": 0") },
        { "per host",                   V2_RATE(", \"rate\": 5, \"per\": \"host\"") },
        { "rate as text",               V2_RATE(", \"rate\": \"5\"") },
        { "drop with a rate",           V2(", \"rate\": 5") },
        { "drop with per",              V2(", \"per\": \"rule\"") },

        /* Not our document at all. */
        { "empty",                      "" },
        { "blank",                      " \n" },
        { "garbage",                    "x" },
        { "binary garbage",             "\x01\x02\x03\xff" },
        { "null",                       "null" },
        { "true",                       "true" },
        { "number",                     "42 " },
        { "string",                     "\"state\"" },
        { "array",                      "[]" },
        { "empty object",               "{}" },
        { "open brace",                 "{" },
        { "close brace",                "}" },
        { "unterminated",               "{\"format\": 1" },
        { "trailing garbage",           GOOD_DOC "x" },
        { "two documents",              GOOD_DOC "{}" },
        { "trailing array",             GOOD_DOC "[]" },
        { "byte order mark",            "\xef\xbb\xbf" GOOD_DOC },
        { "comment",                    "/* state */" GOOD_DOC },
        { "trailing comma",             "{\"format\": 1, \"next-id\": 1, \"default-action\": \"pass\", "
                                        "\"rules\": [], \"interfaces\": [],}" },
        { "invalid UTF-8",              WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\xff\"", "1", "0")) },

        /* Top level. */
        { "format 3",                   DOC("3", "10", "\"pass\"", "[]", "[]") },
        { "format 0",                   DOC("0", "10", "\"pass\"", "[]", "[]") },
        { "format as string",           DOC("\"1\"", "10", "\"pass\"", "[]", "[]") },
        { "format as double",           DOC("1.0", "10", "\"pass\"", "[]", "[]") },
        { "format negative",            DOC("-1", "10", "\"pass\"", "[]", "[]") },
        { "format true",                DOC("true", "10", "\"pass\"", "[]", "[]") },
        { "format null",                DOC("null", "10", "\"pass\"", "[]", "[]") },
        { "format 1e0",                 DOC("1e0", "10", "\"pass\"", "[]", "[]") },
        { "no format",                  "{\"next-id\": 1, \"default-action\": \"pass\", \"rules\": [], \"interfaces\": []}" },
        { "no next-id",                 "{\"format\": 1, \"default-action\": \"pass\", \"rules\": [], \"interfaces\": []}" },
        { "no default-action",          "{\"format\": 1, \"next-id\": 1, \"rules\": [], \"interfaces\": []}" },
        { "no rules",                   "{\"format\": 1, \"next-id\": 1, \"default-action\": \"pass\", \"interfaces\": []}" },
        { "no interfaces",              "{\"format\": 1, \"next-id\": 1, \"default-action\": \"pass\", \"rules\": []}" },
        { "unknown top-level key",      "{\"format\": 1, \"next-id\": 1, \"default-action\": \"pass\", "
                                        "\"rules\": [], \"interfaces\": [], \"sets\": []}" },
        { "next-id 0",                  DOC("1", "0", "\"pass\"", "[]", "[]") },
        { "next-id negative",           DOC("1", "-1", "\"pass\"", "[]", "[]") },
        { "next-id past 32 bits",       DOC("1", "4294967296", "\"pass\"", "[]", "[]") },
        { "next-id as string",          DOC("1", "\"5\"", "\"pass\"", "[]", "[]") },
        { "next-id as double",          DOC("1", "5.5", "\"pass\"", "[]", "[]") },
        { "next-id 1e3",                DOC("1", "1e3", "\"pass\"", "[]", "[]") },
        { "next-id past 64 bits",       DOC("1", "18446744073709551616", "\"pass\"", "[]", "[]") },
        { "next-id null",               DOC("1", "null", "\"pass\"", "[]", "[]") },
        { "default reject",             DOC("1", "10", "\"reject\"", "[]", "[]") },
        { "default empty",              DOC("1", "10", "\"\"", "[]", "[]") },
        { "default upper case",         DOC("1", "10", "\"PASS\"", "[]", "[]") },
        { "default with space",         DOC("1", "10", "\"drop \"", "[]", "[]") },
        { "default with NUL",           DOC("1", "10", "\"drop\\u0000\"", "[]", "[]") },
        { "default as number",          DOC("1", "10", "1", "[]", "[]") },
        { "default null",               DOC("1", "10", "null", "[]", "[]") },
        { "default as array",           DOC("1", "10", "[\"drop\"]", "[]", "[]") },

        /* Rules. */
        { "rules as object",            WITH_RULES("{}") },
        { "rules null",                 WITH_RULES("null") },
        { "rules as string",            WITH_RULES("\"[]\"") },
        { "rule as number",             WITH_RULES("[1]") },
        { "rule as array",              WITH_RULES("[[]]") },
        { "rule null",                  WITH_RULES("[null]") },
        { "rule empty",                 WITH_RULES("[{}]") },
        { "id 0",                       WITH_RULE(RULE("0", "\"drop\"", "\"192.0.2.0/24\"", "1", "0")) },
        { "id negative",                WITH_RULE(RULE("-1", "\"drop\"", "\"192.0.2.0/24\"", "1", "0")) },
        { "id as string",               WITH_RULE(RULE("\"1\"", "\"drop\"", "\"192.0.2.0/24\"", "1", "0")) },
        { "id as double",               WITH_RULE(RULE("1.0", "\"drop\"", "\"192.0.2.0/24\"", "1", "0")) },
        { "id equal to next-id",        WITH_RULE(RULE("10", "\"drop\"", "\"192.0.2.0/24\"", "1", "0")) },
        { "id above next-id",           WITH_RULE(RULE("11", "\"drop\"", "\"192.0.2.0/24\"", "1", "0")) },
        { "id past 32 bits",            WITH_RULE(RULE("4294967297", "\"drop\"", "\"192.0.2.0/24\"", "1", "0")) },
        { "id null",                    WITH_RULE(RULE("null", "\"drop\"", "\"192.0.2.0/24\"", "1", "0")) },
        { "id true",                    WITH_RULE(RULE("true", "\"drop\"", "\"192.0.2.0/24\"", "1", "0")) },
        { "duplicate ids",              WITH_RULES("[" GOOD_RULE ", " GOOD_RULE "]") },
        { "duplicate ids apart",        WITH_RULES("[" GOOD_RULE ", " RULE("2", "\"drop\"", "\"192.0.2.2\"", "0", "0")
                                                   ", " RULE("1", "\"pass\"", "\"192.0.2.1\"", "0", "0") "]") },
        { "action reject",              WITH_RULE(RULE("1", "\"reject\"", "\"192.0.2.0/24\"", "1", "0")) },
        { "action upper case",          WITH_RULE(RULE("1", "\"DROP\"", "\"192.0.2.0/24\"", "1", "0")) },
        { "action empty",               WITH_RULE(RULE("1", "\"\"", "\"192.0.2.0/24\"", "1", "0")) },
        { "action as number",           WITH_RULE(RULE("1", "1", "\"192.0.2.0/24\"", "1", "0")) },
        { "action null",                WITH_RULE(RULE("1", "null", "\"192.0.2.0/24\"", "1", "0")) },
        { "source with host bits",      WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.1/24\"", "1", "0")) },
        { "source /33",                 WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/33\"", "1", "0")) },
        { "source /129",                WITH_RULE(RULE("1", "\"drop\"", "\"::/129\"", "1", "0")) },
        { "source empty",               WITH_RULE(RULE("1", "\"drop\"", "\"\"", "1", "0")) },
        { "source 1.2.3",               WITH_RULE(RULE("1", "\"drop\"", "\"1.2.3\"", "1", "0")) },
        { "source with space",          WITH_RULE(RULE("1", "\"drop\"", "\" 192.0.2.0/24\"", "1", "0")) },
        { "source with NUL",            WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\\u0000x\"", "1", "0")) },
        { "source with zone",           WITH_RULE(RULE("1", "\"drop\"", "\"fe80::1%eth0\"", "1", "0")) },
        { "source as number",           WITH_RULE(RULE("1", "\"drop\"", "3221225984", "1", "0")) },
        { "source null",                WITH_RULE(RULE("1", "\"drop\"", "null", "1", "0")) },
        { "created negative",           WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\"", "-1", "0")) },
        { "created INT64_MIN",          WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\"", "-9223372036854775808", "0")) },
        { "created below INT64_MIN",    WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\"", "-9223372036854775809", "0")) },
        { "created INT64_MAX + 1",      WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\"", "9223372036854775808", "0")) },
        { "created UINT64_MAX",         WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\"", "18446744073709551615", "0")) },
        { "created past 64 bits",       WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\"", "18446744073709551616", "0")) },
        { "created huge",               WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\"", "99999999999999999999999999", "0")) },
        { "created as double",          WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\"", "1.5", "0")) },
        { "created 1e6",                WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\"", "1e6", "0")) },
        { "created NaN",                WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\"", "NaN", "0")) },
        { "created as string",          WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\"", "\"123\"", "0")) },
        { "created null",               WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\"", "null", "0")) },
        { "expires negative",           WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\"", "1", "-5")) },
        { "expires as double",          WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\"", "1", "0.0")) },
        { "expires false",              WITH_RULE(RULE("1", "\"drop\"", "\"192.0.2.0/24\"", "1", "false")) },
        { "rule without id",            WITH_RULES("[{\"action\": \"drop\", \"source\": \"192.0.2.0/24\", \"created\": 1, \"expires\": 0}]") },
        { "rule without action",        WITH_RULES("[{\"id\": 1, \"source\": \"192.0.2.0/24\", \"created\": 1, \"expires\": 0}]") },
        { "rule without source",        WITH_RULES("[{\"id\": 1, \"action\": \"drop\", \"created\": 1, \"expires\": 0}]") },
        { "rule without created",       WITH_RULES("[{\"id\": 1, \"action\": \"drop\", \"source\": \"192.0.2.0/24\", \"expires\": 0}]") },
        { "rule without expires",       WITH_RULES("[{\"id\": 1, \"action\": \"drop\", \"source\": \"192.0.2.0/24\", \"created\": 1}]") },
        { "rule with unknown key",      WITH_RULES("[{\"id\": 1, \"action\": \"drop\", \"source\": \"192.0.2.0/24\", "
                                                   "\"created\": 1, \"expires\": 0, \"destination\": \"192.0.2.0/24\"}]") },
        { "a bad rule after good ones", WITH_RULES("[" GOOD_RULE ", " RULE("2", "\"drop\"", "\"192.0.2.2\"", "0", "0")
                                                   ", " RULE("3", "\"drop\"", "\"192.0.2.3/24\"", "0", "0") "]") },

        /* Interfaces. */
        { "interfaces as object",       WITH_IFACES("{}") },
        { "interfaces null",            WITH_IFACES("null") },
        { "interface as string",        WITH_IFACES("[\"eth0\"]") },
        { "interface null",             WITH_IFACES("[null]") },
        { "interface empty",            WITH_IFACES("[{}]") },
        { "name empty",                 WITH_IFACE(IFACE("\"\"", "\"auto\"")) },
        { "name with slash",            WITH_IFACE(IFACE("\"a/b\"", "\"auto\"")) },
        { "name with space",            WITH_IFACE(IFACE("\"eth 0\"", "\"auto\"")) },
        { "name with tab",              WITH_IFACE(IFACE("\"eth\\t0\"", "\"auto\"")) },
        { "name with newline",          WITH_IFACE(IFACE("\"eth0\\n\"", "\"auto\"")) },
        { "name with colon",            WITH_IFACE(IFACE("\"eth0:1\"", "\"auto\"")) },
        { "name 16 characters",         WITH_IFACE(IFACE("\"abcdefghijklmnop\"", "\"auto\"")) },
        { "name very long",             WITH_IFACE(IFACE("\"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz\"", "\"auto\"")) },
        { "name .",                     WITH_IFACE(IFACE("\".\"", "\"auto\"")) },
        { "name ..",                    WITH_IFACE(IFACE("\"..\"", "\"auto\"")) },
        { "name with NUL",              WITH_IFACE(IFACE("\"eth\\u00000\"", "\"auto\"")) },
        { "name as number",             WITH_IFACE(IFACE("42", "\"auto\"")) },
        { "name null",                  WITH_IFACE(IFACE("null", "\"auto\"")) },
        { "mode fast",                  WITH_IFACE(IFACE("\"eth0\"", "\"fast\"")) },
        { "mode skb",                   WITH_IFACE(IFACE("\"eth0\"", "\"skb\"")) },
        { "mode empty",                 WITH_IFACE(IFACE("\"eth0\"", "\"\"")) },
        { "mode upper case",            WITH_IFACE(IFACE("\"eth0\"", "\"AUTO\"")) },
        { "mode as number",             WITH_IFACE(IFACE("\"eth0\"", "1")) },
        { "mode null",                  WITH_IFACE(IFACE("\"eth0\"", "null")) },
        { "interface without mode",     WITH_IFACES("[{\"name\": \"eth0\"}]") },
        { "interface without name",     WITH_IFACES("[{\"mode\": \"auto\"}]") },
        { "interface with unknown key", WITH_IFACES("[{\"name\": \"eth0\", \"mode\": \"auto\", \"index\": 2}]") },
        { "interface listed twice",     WITH_IFACES("[" GOOD_IFACE ", " IFACE("\"eth0\"", "\"native\"") "]") },

        /* Format 1 is only what the slice wrote. */
        { "format 1 with a priority",   WITH_RULES("[{\"id\": 1, \"action\": \"drop\", \"source\": \"192.0.2.0/24\", "
                                                   "\"created\": 1, \"expires\": 0, \"priority\": 1}]") },
        { "format 1 without a source",  WITH_RULES("[{\"id\": 1, \"action\": \"drop\", \"created\": 1, \"expires\": 0}]") },

        /* Format 2 rules: what must be there. */
        { "v2 rule without id",         WITH_RULES2("[{\"action\": \"drop\", \"created\": 1}]") },
        { "v2 rule without action",     WITH_RULES2("[{\"id\": 1, \"created\": 1}]") },
        { "v2 rule without created",    WITH_RULES2("[{\"id\": 1, \"action\": \"drop\"}]") },
        { "v2 unknown key",             V2(", \"colour\": \"bad\"") },
        { "v2 key in upper case",       V2(", \"Port\": \"22\"") },

        /* Format 2 rules: each field, as the API refuses it. */
        { "port as a number",           V2(", \"protocol\": \"tcp\", \"port\": 22") },
        { "port 70000",                 V2(", \"protocol\": \"tcp\", \"port\": \"70000\"") },
        { "port range reversed",        V2(", \"protocol\": \"tcp\", \"port\": \"9000-8000\"") },
        { "port with a leading zero",   V2(", \"protocol\": \"tcp\", \"port\": \"022\"") },
        { "port empty",                 V2(", \"protocol\": \"tcp\", \"port\": \"\"") },
        { "port without protocol",      V2(", \"port\": \"22\"") },
        { "port with icmp",             V2(", \"protocol\": \"icmp\", \"port\": \"22\"") },
        { "source-port with protocol 47", V2(", \"protocol\": \"47\", \"source-port\": \"22\"") },
        { "source-port null",           V2(TCP22 ", \"source-port\": null") },
        { "protocol foo",               V2(", \"protocol\": \"foo\"") },
        { "protocol TCP",               V2(", \"protocol\": \"TCP\"") },
        { "protocol 256",               V2(", \"protocol\": \"256\"") },
        { "protocol 06",                V2(", \"protocol\": \"06\"") },
        { "protocol as a number",       V2(", \"protocol\": 6") },
        { "icmp-type 256",              V2(", \"protocol\": \"icmp\", \"icmp-type\": 256") },
        { "icmp-type past 32 bits",     V2(", \"protocol\": \"icmp\", \"icmp-type\": 4294967304") },
        { "icmp-type negative",         V2(", \"protocol\": \"icmp\", \"icmp-type\": -1") },
        { "icmp-type as a string",      V2(", \"protocol\": \"icmp\", \"icmp-type\": \"8\"") },
        { "icmp-type alone",            V2(", \"icmp-type\": 8") },
        { "icmp-type with tcp",         V2(TCP22 ", \"icmp-type\": 8") },
        { "vlan 4096",                  V2(", \"vlan\": 4096") },
        { "vlan negative",              V2(", \"vlan\": -1") },
        { "vlan as a double",           V2(", \"vlan\": 1.0") },
        { "vlan as a string",           V2(", \"vlan\": \"1\"") },
        { "interface with a slash",     V2(", \"interface\": \"a/b\"") },
        { "interface empty",            V2(", \"interface\": \"\"") },
        { "interface 16 bytes",         V2(", \"interface\": \"abcdefghijklmnop\"") },
        { "interface with a newline",   V2(", \"interface\": \"eth0\\n\"") },
        { "interface as a number",      V2(", \"interface\": 0") },
        { "comment 257 bytes",          V2(", \"comment\": \"" COMMENT_256 "x\"") },
        { "comment with a newline",     V2(", \"comment\": \"a\\nb\"") },
        { "comment with a bell",        V2(", \"comment\": \"a\\u0007\"") },
        { "comment with a NUL",         V2(", \"comment\": \"a\\u0000b\"") },
        { "comment with U+0085",        V2(", \"comment\": \"a\\u0085\"") },
        { "comment null",               V2(", \"comment\": null") },
        { "group empty",                V2(", \"group\": \"\"") },
        { "group with a space",         V2(", \"group\": \"a b\"") },
        { "group 65 bytes",             V2(", \"group\": \"" GROUP_64 "x\"") },
        { "group null",                 V2(", \"group\": null") },
        { "group as a number",          V2(", \"group\": 1") },
        { "priority 2^31",              V2(", \"priority\": 2147483648") },
        { "priority below -2^31",       V2(", \"priority\": -2147483649") },
        { "priority huge",              V2(", \"priority\": 99999999999999999999999") },
        { "priority as a double",       V2(", \"priority\": 1.5") },
        { "priority as a string",       V2(", \"priority\": \"1\"") },
        { "priority null",              V2(", \"priority\": null") },
        { "enabled 1",                  V2(", \"enabled\": 1") },
        { "enabled as a string",        V2(", \"enabled\": \"true\"") },
        { "enabled null",               V2(", \"enabled\": null") },
        { "families mixed",             V2(", \"source\": \"192.0.2.1\", \"destination\": \"2001:db8::1\"") },
        { "icmp with an IPv6 source",   V2(", \"protocol\": \"icmp\", \"source\": \"2001:db8::1\"") },
        { "icmpv6 with an IPv4 destination", V2(", \"protocol\": \"icmpv6\", \"destination\": \"192.0.2.1\"") },
        { "destination with host bits", V2(", \"destination\": \"192.0.2.1/24\"") },
        { "source as an array",         V2(", \"source\": [\"192.0.2.1\"]") },
        { "expires negative",           V2(", \"expires\": -1") },
        { "expires null",               V2(", \"expires\": null") },
        { "created null",               WITH_RULES2("[{\"id\": 1, \"action\": \"drop\", \"created\": null}]") },
        { "v2 duplicate ids",           WITH_RULES2("[{\"id\": 1, \"action\": \"drop\", \"created\": 1}, "
                                                    "{\"id\": 1, \"action\": \"pass\", \"created\": 1}]") },
        { "a bad v2 rule after good ones", WITH_RULES2("[{\"id\": 1, \"action\": \"drop\", \"created\": 1}, "
                                                       "{\"id\": 2, \"action\": \"drop\", \"created\": 1, \"vlan\": 5000}]") },

        /* The document's structure, as walked outside json-c. */
        { "a key twice",                "{\"format\": 2, \"format\": 2, \"next-id\": 1, \"default-action\": \"pass\", "
                                        "\"rules\": [], \"interfaces\": []}" },
        { "rules twice",                "{\"format\": 2, \"next-id\": 1, \"default-action\": \"pass\", \"rules\": [], "
                                        "\"rules\": [], \"interfaces\": []}" },
        { "a key not in quotes",        "{format: 2, \"next-id\": 1, \"default-action\": \"pass\", \"rules\": [], \"interfaces\": []}" },
        { "a key in single quotes",     "{\'format\': 2, \"next-id\": 1, \"default-action\": \"pass\", \"rules\": [], \"interfaces\": []}" },
        { "a key with a NUL",           "{\"format\\u0000\": 2, \"next-id\": 1, \"default-action\": \"pass\", \"rules\": [], \"interfaces\": []}" },
        { "no colon",                   "{\"format\" 2, \"next-id\": 1, \"default-action\": \"pass\", \"rules\": [], \"interfaces\": []}" },
        { "two colons",                 "{\"format\":: 2, \"next-id\": 1, \"default-action\": \"pass\", \"rules\": [], \"interfaces\": []}" },
        { "no comma",                   "{\"format\": 2 \"next-id\": 1, \"default-action\": \"pass\", \"rules\": [], \"interfaces\": []}" },
        { "two commas",                 "{\"format\": 2,, \"next-id\": 1, \"default-action\": \"pass\", \"rules\": [], \"interfaces\": []}" },
        { "no value",                   "{\"format\": , \"next-id\": 1, \"default-action\": \"pass\", \"rules\": [], \"interfaces\": []}" },
        { "a semicolon",                "{\"format\": 2; \"next-id\": 1, \"default-action\": \"pass\", \"rules\": [], \"interfaces\": []}" },
        { "a number too long",          DOC("11111111111111111111111111111111111111111111111111111111111111111111111", "10", "\"pass\"", "[]", "[]") },
        { "format 2.0",                 DOC("2.0", "10", "\"pass\"", "[]", "[]") },
        { "format 02",                  DOC("02", "10", "\"pass\"", "[]", "[]") },
        { "format +2",                  DOC("+2", "10", "\"pass\"", "[]", "[]") },
        { "format true1",               DOC("true1", "10", "\"pass\"", "[]", "[]") },
        { "rules with a trailing comma", WITH_RULES2("[{\"id\": 1, \"action\": \"drop\", \"created\": 1},]") },
        { "rules with a leading comma", WITH_RULES2("[,{\"id\": 1, \"action\": \"drop\", \"created\": 1}]") },
        { "rules without a comma",      WITH_RULES2("[{\"id\": 1, \"action\": \"drop\", \"created\": 1} "
                                                    "{\"id\": 2, \"action\": \"drop\", \"created\": 1}]") },
        { "rules with a semicolon",     WITH_RULES2("[{\"id\": 1, \"action\": \"drop\", \"created\": 1};"
                                                    "{\"id\": 2, \"action\": \"drop\", \"created\": 1}]") },
        { "rules closed by a brace",    WITH_RULES2("[}") },
        { "a rule closed by a bracket", WITH_RULES2("[{\"id\": 1, \"action\": \"drop\", \"created\": 1]}") },
        { "a rule with a comment",      WITH_RULES2("[{\"id\": 1, /* x */ \"action\": \"drop\", \"created\": 1}]") },
        { "a rule in single quotes",    WITH_RULES2("[{\'id\': 1, \'action\': \'drop\', \'created\': 1}]") },
        { "a rule as a string",         WITH_RULES2("[\"x\"]") },
        { "a rule as true",             WITH_RULES2("[true]") },
        { "rules as a number",          WITH_RULES2("5") },
        { "rules as true",              WITH_RULES2("true") },
        { "rules unclosed",             "{\"format\": 2, \"next-id\": 1, \"default-action\": \"pass\", \"interfaces\": [], \"rules\": [" },
        { "rules unclosed, then }",     "{\"format\": 2, \"next-id\": 1, \"default-action\": \"pass\", \"interfaces\": [], \"rules\": [}" },
        { "a string unclosed",          "{\"format\": 2, \"next-id\": 1, \"default-action\": \"pass\", \"interfaces\": [], \"rules\": [\"}]}" },
        { "a string ending in a backslash", "{\"format\": 2, \"next-id\": 1, \"default-action\": \"pass\\" },
        { "a brace too many",           DOC("2", "10", "\"pass\"", "[]", "[]") "}" },
        { "bracket for brace",          "[\"format\": 2]" },
};

static void test_accepted(void) {
        for (size_t i = 0; i < ELEMENTSOF(accepted_cases); i++)
                check_accepted(accepted_cases[i].what, accepted_cases[i].text);
}

static void test_refused(void) {
        log_set_max_level(LOG_CRIT);
        for (size_t i = 0; i < ELEMENTSOF(refused_cases); i++)
                check_refused(refused_cases[i].what, refused_cases[i].text);
        log_set_max_level(LOG_INFO);
}

/* Documents only a file can hold. */
static void test_refused_files(void) {
        static const char with_nul[] = "{\"format\": 1, \0\"next-id\": 1}";
        char path[4096];
        State *state = SENTINEL;
        int r;

        log_set_max_level(LOG_CRIT);

        check_refused_file("NUL byte", with_nul, sizeof(with_nul) - 1);

        /* A valid document followed by a NUL and more: json-c would stop at the NUL. */
        char buf[sizeof(GOOD_DOC) + 8];
        memcpy(buf, GOOD_DOC, sizeof(GOOD_DOC));        /* with its NUL */
        memcpy(buf + sizeof(GOOD_DOC), "garbage", 7);
        check_refused_file("NUL after a valid document", buf, sizeof(GOOD_DOC) + 7);
        /* What a crash can leave: the document, then zeros. */
        memset(buf + sizeof(GOOD_DOC) - 1, 0, 9);
        check_refused_file("one NUL after a valid document", buf, sizeof(GOOD_DOC));
        check_refused_file("zeros after a valid document", buf, sizeof(GOOD_DOC) + 7);
        memset(buf, 0, sizeof(buf));
        check_refused_file("only zeros", buf, sizeof(buf));

        /* state.json that is not a regular file. */
        clear_dir(test_dir);
        (void) snprintf(path, sizeof(path), "%s/%s", test_dir, STATE_FILE_NAME);
        require(mkdir(path, 0700) == 0, "mkdir");
        r = state_load(test_dir, &state);
        check(r == -EBADMSG && state == SENTINEL, "state.json as a folder: %d", r);
        check(access(path, F_OK) < 0, "the folder was not moved aside");

        /* Too many classifier rules (blocks: see test_million). Format 1 had this limit for
         * blocks: its files with more load now, as blocks. */
        for (unsigned n = PF_MAX_RULES; n <= PF_MAX_RULES + 1; n++)
                for (unsigned format = 1; format <= 2; format++) {
                        _cleanup_free_ char *doc = NULL;
                        size_t size = 0;
                        FILE *f = open_memstream(&doc, &size);

                        require(f, "open_memstream");
                        fprintf(f, "{\"format\": %u, \"next-id\": %u, \"default-action\": \"pass\", \"rules\": [",
                                format, n + 1);
                        for (unsigned id = 1; id <= n; id++)
                                if (format == 1)
                                        fprintf(f, "%s{\"id\": %u, \"action\": \"drop\", \"source\": \"10.%u.%u.0/24\", "
                                                "\"created\": 1, \"expires\": 0}", id > 1 ? ", " : "", id, id / 256, id % 256);
                                else
                                        fprintf(f, "%s{\"id\": %u, \"action\": \"drop\", \"protocol\": \"tcp\", "
                                                "\"port\": \"%u\", \"created\": 1}", id > 1 ? ", " : "", id, id);
                        fprintf(f, "], \"interfaces\": []}");
                        require(fclose(f) == 0, "fclose");

                        if (n <= PF_MAX_RULES || format == 1)
                                check_accepted(format == 1 ? "format 1, blocks" : "PF_MAX_RULES classifier rules", doc);
                        else
                                check_refused("PF_MAX_RULES + 1 classifier rules", doc);
                }

        log_set_max_level(LOG_INFO);
}

static void test_missing(void) {
        State *state = SENTINEL;
        char missing[4096];
        int r;

        clear_dir(test_dir);
        r = state_load(test_dir, &state);
        check(r == -ENOENT && state == SENTINEL, "no state.json: %d", r);

        (void) snprintf(missing, sizeof(missing), "%s/does-not-exist", test_dir);
        r = state_load(missing, &state);
        check(r == -ENOENT && state == SENTINEL, "no state folder: %d", r);
        check(count_entries(test_dir, NULL, 0) == 0, "a missing file created something");
}

/* Cut a valid file at every byte: each prefix is refused and moved aside. */
static void test_truncated(void) {
        _cleanup_(state_freep) State *s = make_small_state();
        _cleanup_free_ char *text = NULL;
        size_t end;

        require(state_to_string(s, &text) == 0, "state_to_string");
        /* Dropping only the final newline leaves a valid document. */
        end = strlen(text);
        while (end > 0 && strchr(" \n", text[end - 1]))
                end--;
        require(end > 100, "document too short: %zu", end);

        log_set_max_level(LOG_CRIT);
        for (size_t len = 0; len < end; len++) {
                char what[64];
                State *state = SENTINEL;
                _cleanup_free_ char *part = strndup(text, len);

                require(part, "oom");
                (void) snprintf(what, sizeof(what), "truncated to %zu of %zu bytes", len, end);
                check(state_from_string(part, &state) == -EBADMSG && state == SENTINEL, "%s", what);
                check_refused_file(what, text, len);
        }
        log_set_max_level(LOG_INFO);

        /* The big one, from memory, at many points. */
        _cleanup_(state_freep) State *big = make_big_state(99);
        _cleanup_free_ char *big_text = NULL;

        require(state_to_string(big, &big_text) == 0, "state_to_string");
        end = strlen(big_text) - 1;
        log_set_max_level(LOG_CRIT);
        for (size_t len = 0; len < end; len += len < 200 || len > end - 200 ? 1 : 997) {
                State *state = SENTINEL;
                char saved = big_text[len];
                int r;

                big_text[len] = '\0';
                r = state_from_string(big_text, &state);
                big_text[len] = saved;
                check(r == -EBADMSG && state == SENTINEL, "big document truncated to %zu: %d", len, r);
        }
        log_set_max_level(LOG_INFO);
}

/* Corrupt loads in a row each keep their own copy; the log says why. */
static void test_moved_aside_log(void) {
        char log_path[4096];
        int saved_stderr, log_fd;
        size_t log_len = 0;
        int r;

        clear_dir(test_dir);

        (void) snprintf(log_path, sizeof(log_path), "%s.log", test_dir);
        log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        require(log_fd >= 0, "open %s: %m", log_path);
        fflush(stderr);
        saved_stderr = dup(STDERR_FILENO);
        require(saved_stderr >= 0 && dup2(log_fd, STDERR_FILENO) >= 0, "dup2");

        for (unsigned i = 0; i < 5; i++) {
                State *state = SENTINEL;

                write_file(test_dir, STATE_FILE_NAME, "{\"format\": 1", strlen("{\"format\": 1"));
                r = state_load(test_dir, &state);
                check(r == -EBADMSG, "load %u: %d", i, r);
        }

        fflush(stderr);
        require(dup2(saved_stderr, STDERR_FILENO) >= 0, "dup2");
        close(saved_stderr);
        close(log_fd);

        check(count_entries(test_dir, NULL, 0) == 5, "5 corrupt loads left %zu files, want 5",
              count_entries(test_dir, NULL, 0));

        _cleanup_free_ char *log = read_file("/", log_path + 1, &log_len);
        require(log, "no log");
        check(strstr(log, "corrupt") && strstr(log, "truncated") && strstr(log, CORRUPT_PREFIX),
              "the log does not say what and why:\n%s", log);
        printf("log line for a corrupt file: %.*s", (int) strcspn(log, "\n") + 1, log);
        (void) unlink(log_path);
}

/* What state_load() logs for a file holding text. */
static char *load_log(const char *text) {
        char log_path[4096];
        int saved_stderr, log_fd;
        State *state = SENTINEL;
        size_t log_len = 0;
        char *log;
        int r;

        clear_dir(test_dir);
        write_file(test_dir, STATE_FILE_NAME, text, strlen(text));
        (void) snprintf(log_path, sizeof(log_path), "%s.log", test_dir);
        log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        require(log_fd >= 0, "open %s: %m", log_path);
        fflush(stderr);
        saved_stderr = dup(STDERR_FILENO);
        require(saved_stderr >= 0 && dup2(log_fd, STDERR_FILENO) >= 0, "dup2");

        r = state_load(test_dir, &state);

        fflush(stderr);
        require(dup2(saved_stderr, STDERR_FILENO) >= 0, "dup2");
        close(saved_stderr);
        close(log_fd);
        check(r == -EBADMSG && state == SENTINEL, "load gave %d", r);

        log = read_file("/", log_path + 1, &log_len);
        require(log, "no log");
        (void) unlink(log_path);
        return log;
}

/* A refused file's log names the rule, the field and the reason, in the words of the API. */
static void test_reasons(void) {
        static const struct {
                const char *text;
                const char *says;
        } cases[] = {
                { V2(", \"protocol\": \"tcp\", \"port\": \"70000\""),
                  "(rule #0: port: '70000' is not a port number (0-65535));" },
                { V2(", \"port\": \"22\""), "(rule #0: port: a port needs protocol tcp, udp or sctp)" },
                { V2(", \"source\": \"192.0.2.1/24\""),
                  "(rule #0: source: '192.0.2.1/24': host bits set past the prefix length (did you mean 192.0.2.0/24?))" },
                { V2(", \"protocol\": \"foo\""),
                  "(rule #0: protocol: unknown protocol 'foo' (tcp, udp, sctp, icmp, icmpv6 or 0-255))" },
                { V2(", \"vlan\": 4096"), "(rule #0: vlan: 4096 is not a VLAN id (0-4095))" },
                { V2(", \"group\": \"a b\""), "(rule #0: group: 'a b' contains byte 0x20" },
                { V2(", \"comment\": \"a\\nb\""), "(rule #0: comment: the comment contains a control character (U+000A" },
                { V2(", \"source\": \"192.0.2.1\", \"destination\": \"::1\""),
                  "(rule #0: destination: the destination is IPv6 but the source is IPv4)" },
                { V2(", \"priority\": 1.5"), "(rule #0: \"priority\" is not of type int)" },
                { V2(", \"enabled\": null"), "(rule #0: \"enabled\" is null)" },
                { WITH_RULES2("[{\"id\": 1, \"action\": \"drop\"}]"), "(rule #0: \"created\" is missing)" },
                { WITH_RULES2("[{\"id\": 1, \"action\": \"drop\", \"created\": 1}, {\"id\": 2, \"action\": \"x\", \"created\": 1}]"),
                  "(rule #1: action: unknown action 'x' (drop, pass or rate-limit))" },
                { "{\"format\": 2, \"format\": 2}", "(top level: \"format\" given twice)" },
                { DOC("3", "10", "\"pass\"", "[]", "[]"), "(unsupported format 3 (this version reads 1 and 2))" },
                { WITH_RULES2("[{\"id\": 1, \"action\": \"drop\", \"created\": 1},]"), "(expected a value at offset " },
        };

        log_set_max_level(LOG_ERR);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *log = load_log(cases[i].text);

                check(strstr(log, cases[i].says), "the log for\n%s\nlacks \"%s\":\n%s", cases[i].text, cases[i].says, log);
        }
        log_set_max_level(LOG_INFO);
}

/* A file the first slice wrote (format 1, json-c's pretty printing) loads as blocks and is saved as format 2. */
static void test_format_1_file(void) {
        static const char slice_file[] =
                "{\n"
                "  \"format\": 1,\n"
                "  \"next-id\": 5,\n"
                "  \"default-action\": \"pass\",\n"
                "  \"rules\": [\n"
                "    {\n"
                "      \"id\": 1,\n"
                "      \"action\": \"drop\",\n"
                "      \"source\": \"192.0.2.0/24\",\n"
                "      \"created\": 1700000000000000,\n"
                "      \"expires\": 0\n"
                "    },\n"
                "    {\n"
                "      \"id\": 2,\n"
                "      \"action\": \"drop\",\n"
                "      \"source\": \"2001:db8::/64\",\n"
                "      \"created\": 1700000000000001,\n"
                "      \"expires\": 1700000000500000\n"
                "    },\n"
                "    {\n"
                "      \"id\": 4,\n"
                "      \"action\": \"drop\",\n"
                "      \"source\": \"::ffff:192.0.2.9\",\n"
                "      \"created\": 1700000000000003,\n"
                "      \"expires\": 0\n"
                "    }\n"
                "  ],\n"
                "  \"interfaces\": [\n"
                "    {\n"
                "      \"name\": \"veth0\",\n"
                "      \"mode\": \"generic\"\n"
                "    }\n"
                "  ]\n"
                "}\n";
        static const char *const sources[] = { "192.0.2.0/24", "2001:db8::/64", "::ffff:192.0.2.9" };
        static const uint32_t ids[] = { 1, 2, 4 };
        _cleanup_(state_freep) State *loaded = NULL, *again = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        clear_dir(test_dir);
        write_file(test_dir, STATE_FILE_NAME, slice_file, strlen(slice_file));
        r = state_load(test_dir, &loaded);
        require(r == 0, "the slice's file does not load: %d", r);

        check(loaded->rules->next_id == 5 && loaded->rules->n_rules == 3 && loaded->rules->n_block_rules == 3,
              "format 1: next-id %" PRIu32 ", %zu rules, %zu blocks", loaded->rules->next_id,
              loaded->rules->n_rules, loaded->rules->n_block_rules);
        for (size_t i = 0; i < ELEMENTSOF(ids) && i < loaded->rules->n_rules; i++) {
                const Rule *rule = loaded->rules->rules[i];
                char buf[PREFIX_STRING_MAX];

                check(rule->id == ids[i] && rule->action == PF_ACTION_DROP && rule_is_block(rule) &&
                      streq(prefix_format(&rule->source, buf), sources[i]) && rule->enabled && rule->priority == 0 &&
                      streq(rule->group, RULE_GROUP_DEFAULT) && !rule->comment &&
                      rule->created_usec == 1700000000000000ull + (ids[i] - 1),
                      "format 1 rule %zu", i);
        }
        check(loaded->rules->rules[1]->expires_usec == 1700000000500000ull, "expires");
        check(loaded->n_interfaces == 1 && streq(loaded->interfaces[0].name, "veth0") &&
              streq(loaded->interfaces[0].mode, "generic"), "interfaces");

        /* Saved again, it is format 2, and the same state. */
        require(state_save(test_dir, loaded) == 0, "save");
        size_t len;
        text = read_file(test_dir, STATE_FILE_NAME, &len);
        require(text, "read");
        check(strstr(text, "\"format\": 2,") && strstr(text, "{ \"id\": 2, \"action\": \"drop\", \"source\": "
                                                          "\"2001:db8::/64\", \"created\": 1700000000000001, "
                                                          "\"expires\": 1700000000500000 }"),
              "saved as:\n%s", text);
        require(state_load(test_dir, &again) == 0, "load format 2");
        check_same_state(loaded, again, "format 1 upgraded");
}

static double now_sec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* PF_MAX_BLOCKS /32 blocks: save and load in seconds, and one more is refused. */
static void test_million(void) {
        _cleanup_(state_freep) State *s = calloc(1, sizeof(State)), *loaded = NULL, *over = SENTINEL;
        _cleanup_free_ char *doc = NULL;
        struct stat st;
        char path[4096];
        double t0, t1, t2;
        size_t size = 0;
        FILE *f;
        int r;

        require(s && rule_set_new(&s->rules) == 0, "oom");
        for (uint32_t i = 0; i < PF_MAX_BLOCKS; i++) {
                Rule *rule = rule_new();
                uint32_t a = htonl(0x0a000000u + i);

                require(rule, "oom");
                rule->match = RULE_MATCH_SOURCE;
                rule->source.family = AF_INET;
                rule->source.prefixlen = 32;
                memcpy(rule->source.addr, &a, 4);
                rule->created_usec = 1700000000000000ull + i;
                if (i % 3 == 0)
                        rule->expires_usec = 1800000000000000ull + i;
                r = rule_set_add(s->rules, rule, NULL);
                if (r < 0)
                        require(r == 0, "add %" PRIu32 ": %d", i, r);
        }

        clear_dir(test_dir);
        t0 = now_sec();
        r = state_save(test_dir, s);
        t1 = now_sec();
        require(r == 0, "saving a million rules: %d", r);
        r = state_load(test_dir, &loaded);
        t2 = now_sec();
        require(r == 0, "loading a million rules: %d", r);
        (void) snprintf(path, sizeof(path), "%s/%s", test_dir, STATE_FILE_NAME);
        require(stat(path, &st) == 0, "stat");
        printf("%u /32 blocks: save %.2f s, load %.2f s, file %.1f MiB\n", PF_MAX_BLOCKS, t1 - t0, t2 - t1,
               (double) st.st_size / (1024.0 * 1024.0));
        check_same_state(s, loaded, "a million blocks");
        /* Bounds for sanitizer builds: they catch O(n^2), not a slow disk. */
        check(t1 - t0 < 30 && t2 - t1 < 30, "save %.1f s, load %.1f s", t1 - t0, t2 - t1);

        /* One block more than the data plane holds: refused whole. */
        f = open_memstream(&doc, &size);
        require(f, "open_memstream");
        fprintf(f, "{\"format\": 2, \"next-id\": %u, \"default-action\": \"pass\", \"rules\": [\n", PF_MAX_BLOCKS + 2);
        for (uint32_t id = 1; id <= PF_MAX_BLOCKS + 1; id++)
                fprintf(f, "%s{\"id\": %" PRIu32 ", \"action\": \"drop\", \"source\": \"10.%u.%u.%u\", \"created\": 1}",
                        id > 1 ? ",\n" : "", id, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff);
        fprintf(f, "], \"interfaces\": []}");
        require(fclose(f) == 0, "fclose");
        log_set_max_level(LOG_CRIT);
        r = state_from_string(doc, &over);
        log_set_max_level(LOG_INFO);
        check(r == -EBADMSG && over == SENTINEL, "%u blocks: %d", PF_MAX_BLOCKS + 1, r);
        if (over == SENTINEL)
                over = NULL;
}

int main(void) {
        require(mkdtemp(test_dir), "mkdtemp: %m");
        atexit(cleanup_test_dir);

        test_round_trip_string();
        test_format_shape();
        test_save_load();
        test_save_failures();
        test_accepted();
        test_refused();
        test_refused_files();
        test_missing();
        test_truncated();
        test_moved_aside_log();
        test_reasons();
        test_format_1_file();
        test_million();

        printf("%zu accepted and %zu refused documents\n", ELEMENTSOF(accepted_cases), ELEMENTSOF(refused_cases));
        return test_exit_status("test-state");
}
