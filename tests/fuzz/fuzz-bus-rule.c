/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The a{sv} rule decoder (daemon/bus-rule.c): bus_message_read_rule() for
 * AddRule, bus_message_read_rules() for AddRules/ReplaceRules. Any caller on
 * the system bus can send these dictionaries, before polkit is even asked.
 *
 * The input is not a wire message (sd-bus's own parser is not ours to fuzz)
 * but a recipe for one, appended with the public sd-bus API to a method call
 * on a bus object that is started but never connected, then sealed:
 *
 *   byte 0            bit 0: 0 = one a{sv} (AddRule), 1 = aa{sv} (AddRules)
 *   then entries:
 *     key byte        0xff: start the next rule dictionary (aa{sv} only);
 *                     k % 32 < N_KEY_NAMES: a known or near-miss key name;
 *                     otherwise a raw key: length, bytes
 *     type byte       t % N_VALUE_TYPES picks the variant's D-Bus type
 *     value           strings: length (1 or 2 bytes), bytes; numbers: little-endian bytes
 *
 * An input that sd-bus itself refuses to append (a string that is not UTF-8,
 * say) could never arrive over the bus and is skipped. Invariant on success:
 * the rule, encoded the way replies encode it (minus the read-only keys id,
 * packets, bytes, created, expires), decodes again to the same rule.
 */
#include <errno.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "bus-rule.h"
#include "fuzz.h"

static const char *const key_names[] = {
        "action", "source", "destination", "protocol", "port", "source-port", "icmp-type",
        "vlan", "interface", "priority", "enabled", "comment", "group", "timeout",
        /* read-only keys of replies, and near misses */
        "id", "packets", "bytes", "created", "expires", "Action",
};
#define N_KEY_NAMES (sizeof(key_names) / sizeof(key_names[0]))

static const char *const value_types[] = {
        "s", "u", "i", "b", "y", "n", "q", "x", "t", "d", "o", "g", "as", "a{sv}", "(su)", "v", "ay",
};
#define N_VALUE_TYPES (sizeof(value_types) / sizeof(value_types[0]))

/* The decoder's only links to the rest of the daemon. */
int manager_rule_counters(Manager *m, const Rule *r, uint64_t *ret_packets, uint64_t *ret_bytes) {
        *ret_packets = 42;
        *ret_bytes = 4242;
        return 0;
}

int manager_rule_rate_limited(Manager *m, const Rule *r, uint64_t *ret) {
        *ret = 7;
        return 0;
}

uint64_t now_realtime_usec(void) {
        return UINT64_C(1700000000000000);
}

static sd_bus *bus;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        int fds[2];

        fuzz_quiet_logs();
        /* sd-bus makes messages only for a started bus: give it one end of a
         * socket pair that nobody ever answers. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) < 0 ||
            sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, fds[0], fds[0]) < 0 || sd_bus_start(bus) < 0) {
                fprintf(stderr, "Cannot set up a bus object for the fuzzer.\n");
                abort();
        }
        return 0;
}

#define STRING_MAX 4096

typedef struct Cursor {
        const uint8_t *p;
        size_t left;
} Cursor;

static uint8_t take_byte(Cursor *c) {
        if (c->left == 0)
                return 0;
        c->left--;
        return *c->p++;
}

static uint64_t take_le(Cursor *c, unsigned bytes) {
        uint64_t v = 0;

        for (unsigned i = 0; i < bytes; i++)
                v |= (uint64_t) take_byte(c) << (8 * i);
        return v;
}

/* A length, then that many bytes (or what is left), as a C string. The length
 * is one byte below 0xf0, else ((byte - 0xf0) << 8) + the next byte, so that
 * strings can pass the model's limits (comment: 256 bytes). */
static int take_string(Cursor *c, char *buf, size_t size) {
        size_t n = take_byte(c);

        if (n >= 0xf0)
                n = ((n - 0xf0) << 8) + take_byte(c);

        if (n > c->left)
                n = c->left;
        if (n >= size)
                n = size - 1;
        memcpy(buf, c->p, n);
        buf[n] = 0;
        c->p += n;
        c->left -= n;
        /* An embedded NUL: the bus could not carry this string. */
        return strlen(buf) == n ? 0 : -EINVAL;
}

static int append_value(sd_bus_message *m, const char *type, Cursor *c) {
        char s[STRING_MAX];
        int r;

        switch (type[0]) {
        case 's':
                r = take_string(c, s, sizeof(s));
                return r < 0 ? r : sd_bus_message_append_basic(m, 's', s);
        case 'o':
                return sd_bus_message_append_basic(m, 'o', "/org/example/PacketFilter");
        case 'g':
                return sd_bus_message_append_basic(m, 'g', "a{sv}");
        case 'b': {
                int b = take_byte(c) & 1;
                return sd_bus_message_append_basic(m, 'b', &b);
        }
        case 'y': {
                uint8_t v = take_byte(c);
                return sd_bus_message_append_basic(m, 'y', &v);
        }
        case 'n':
        case 'q': {
                uint16_t v = (uint16_t) take_le(c, 2);
                return sd_bus_message_append_basic(m, type[0], &v);
        }
        case 'u':
        case 'i': {
                uint32_t v = (uint32_t) take_le(c, 4);
                return sd_bus_message_append_basic(m, type[0], &v);
        }
        case 'x':
        case 't':
        case 'd': {
                uint64_t v = take_le(c, 8);
                return sd_bus_message_append_basic(m, type[0], &v);
        }
        case 'v':
                r = take_string(c, s, sizeof(s));
                return r < 0 ? r : sd_bus_message_append(m, "v", "s", s);
        case '(':
                r = take_string(c, s, sizeof(s));
                return r < 0 ? r : sd_bus_message_append(m, "(su)", s, (uint32_t) take_le(c, 4));
        case 'a':
                if (streq(type, "a{sv}"))
                        return sd_bus_message_append(m, "a{sv}", 1, "k", "u", (uint32_t) take_byte(c));
                if (streq(type, "ay")) {
                        size_t n = take_byte(c);

                        if (n > c->left)
                                n = c->left;
                        r = sd_bus_message_append_array(m, 'y', c->p, n);
                        c->p += n;
                        c->left -= n;
                        return r;
                }
                r = sd_bus_message_open_container(m, 'a', "s");
                for (unsigned i = 0, n = take_byte(c) % 4; r >= 0 && i < n; i++) {
                        r = take_string(c, s, sizeof(s));
                        if (r >= 0)
                                r = sd_bus_message_append_basic(m, 's', s);
                }
                return r < 0 ? r : sd_bus_message_close_container(m);
        }
        return -EINVAL;
}

/* Appends one dictionary entry: key, then a variant of the given type holding a value from the input. */
static int append_entry(sd_bus_message *m, const char *key, const char *type, Cursor *c) {
        int r;

        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append_basic(m, 's', key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', type);
        if (r >= 0)
                r = append_value(m, type, c);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* Builds the method call from the recipe. Returns 0 and the message, or < 0 when sd-bus refuses the recipe. */
static int build_message(Cursor *c, bool many, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.example.PacketFilter", "/org/example/PacketFilter",
                                           "org.example.PacketFilter1", many ? "AddRules" : "AddRule");
        if (r >= 0 && many)
                r = sd_bus_message_open_container(m, 'a', "a{sv}");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        while (r >= 0 && c->left > 0) {
                uint8_t k = take_byte(c);
                char key[STRING_MAX];

                if (k == 0xff) {
                        /* The next rule of aa{sv}; nothing in a lone a{sv}. */
                        if (many)
                                r = sd_bus_message_close_container(m);
                        if (r >= 0 && many)
                                r = sd_bus_message_open_container(m, 'a', "{sv}");
                        continue;
                }
                if (k % 32 < N_KEY_NAMES)
                        snprintf(key, sizeof(key), "%s", key_names[k % 32]);
                else
                        r = take_string(c, key, sizeof(key));
                if (r >= 0)
                        r = append_entry(m, key, value_types[take_byte(c) % N_VALUE_TYPES], c);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0 && many)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_seal(m, 1, 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

static bool rules_equal(const Rule *a, const Rule *b) {
        if (a->action != b->action || a->match != b->match || a->priority != b->priority ||
            a->enabled != b->enabled)
                return false;
        if ((a->match & RULE_MATCH_SOURCE) && !prefix_equal(&a->source, &b->source))
                return false;
        if ((a->match & RULE_MATCH_DESTINATION) && !prefix_equal(&a->destination, &b->destination))
                return false;
        if ((a->match & RULE_MATCH_PROTOCOL) && a->protocol != b->protocol)
                return false;
        if ((a->match & RULE_MATCH_SOURCE_PORT) &&
            (a->source_port.first != b->source_port.first || a->source_port.last != b->source_port.last))
                return false;
        if ((a->match & RULE_MATCH_PORT) && (a->port.first != b->port.first || a->port.last != b->port.last))
                return false;
        if ((a->match & RULE_MATCH_ICMP_TYPE) && a->icmp_type != b->icmp_type)
                return false;
        if ((a->match & RULE_MATCH_VLAN) && a->vlan != b->vlan)
                return false;
        if ((a->match & RULE_MATCH_INTERFACE) && !streq(a->interface, b->interface))
                return false;
        if (!streq_ptr(a->comment, b->comment) || !streq_ptr(a->group, b->group))
                return false;
        return true;
}

/* Encodes the rule as a reply does, keeps the keys a caller may send, decodes again. */
static void check_round_trip(const Rule *rule) {
        static const char *const read_only[] = { "id", "packets", "bytes", "created", "expires" };
        sd_bus_message *encoded = NULL, *sent = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        Rule *again = NULL;
        int r;

        fuzz_check(sd_bus_message_new_method_call(bus, &encoded, "a.b", "/a", "a.b", "Encoded") >= 0);
        fuzz_check(bus_message_append_rule(encoded, NULL, rule) >= 0);
        fuzz_check(sd_bus_message_seal(encoded, 2, 0) >= 0);

        fuzz_check(sd_bus_message_new_method_call(bus, &sent, "a.b", "/a", "a.b", "AddRule") >= 0);
        fuzz_check(sd_bus_message_open_container(sent, 'a', "{sv}") >= 0);
        fuzz_check(sd_bus_message_enter_container(encoded, 'a', "{sv}") > 0);
        while ((r = sd_bus_message_enter_container(encoded, 'e', "sv")) > 0) {
                const char *key;
                bool skip = false;

                fuzz_check(sd_bus_message_read(encoded, "s", &key) > 0);
                for (size_t i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++)
                        skip = skip || streq(key, read_only[i]);
                if (skip)
                        fuzz_check(sd_bus_message_skip(encoded, "v") >= 0);
                else {
                        fuzz_check(sd_bus_message_open_container(sent, 'e', "sv") >= 0);
                        fuzz_check(sd_bus_message_append_basic(sent, 's', key) >= 0);
                        fuzz_check(sd_bus_message_copy(sent, encoded, false) >= 0);
                        fuzz_check(sd_bus_message_close_container(sent) >= 0);
                }
                fuzz_check(sd_bus_message_exit_container(encoded) >= 0);
        }
        fuzz_check(r == 0);
        fuzz_check(sd_bus_message_close_container(sent) >= 0);
        fuzz_check(sd_bus_message_seal(sent, 3, 0) >= 0);

        r = bus_message_read_rule(sent, -1, NULL, &again, NULL, &error);
        if (r < 0) {
                fprintf(stderr, "an encoded rule does not decode: %s: %s\n", strna(error.name), strna(error.message));
                abort();
        }
        fuzz_check(rules_equal(rule, again));

        rule_free(again);
        sd_bus_error_free(&error);
        sd_bus_message_unref(sent);
        sd_bus_message_unref(encoded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL;
        Cursor c = { data, size };
        bool many;
        int r;

        if (size == 0)
                return 0;
        many = take_byte(&c) & 1;
        if (build_message(&c, many, &m) < 0)
                return 0;

        if (!many) {
                Rule *rule = NULL;
                uint32_t timeout;

                r = bus_message_read_rule(m, -1, NULL, &rule, &timeout, &error);
                if (r >= 0) {
                        fuzz_check(rule);
                        fuzz_check(!sd_bus_error_is_set(&error));
                        check_round_trip(rule);
                        rule_free(rule);
                } else
                        fuzz_check(!rule);
        } else {
                Rule **rules = NULL;
                size_t n = 0;

                r = bus_message_read_rules(m, NULL, &rules, &n, &error);
                if (r >= 0) {
                        for (size_t i = 0; i < n; i++)
                                check_round_trip(rules[i]);
                        rules_free_many(rules, n);
                }
        }
        /* A refusal the caller sees must carry a named error and a message, unless sd-bus itself failed. */
        if (r < 0 && sd_bus_error_is_set(&error))
                fuzz_check(error.name && error.message);

        sd_bus_error_free(&error);
        sd_bus_message_unref(m);
        return 0;
}
