/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The CLI's rule words (cli/rule-words.c): `packetfilterctl add WORDS...` and
 * the lines of a `packetfilterctl replace GROUP FILE` file, and the reverse
 * direction, rules from the daemon written back as words. Byte 0 picks:
 *
 *   even: the rest is one line of a rules file. words_split_line(), then
 *         rule_words_parse(). Invariant on success: the rule written back as
 *         words (rule_fields_to_words + words_to_line) splits into exactly
 *         those words and parses to the same dictionary, minus the defaults
 *         that writing leaves out (priority 0, group "default", empty
 *         comment, timeout 0);
 *   odd:  the rest is a recipe for a dictionary as a reply carries it (see
 *         build_fields): rule_fields_to_words() with flags and a clock from
 *         the input. Invariant: what it writes splits back into the same
 *         words, and (without flags) parses as a rule.
 */
#include <errno.h>
#include <inttypes.h>

#include "format.h"
#include "fuzz.h"
#include "rule-words.h"

#define LINE_INPUT_MAX (64 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet_logs();
        return 0;
}

static bool strv_equal(char *const *a, char *const *b) {
        size_t i;

        for (i = 0; a[i] && b[i]; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return !a[i] && !b[i];
}

static void dump_words(const char *title, char *const *w) {
        fprintf(stderr, "%s:", title);
        for (size_t i = 0; w && w[i]; i++)
                fprintf(stderr, " [%s]", w[i]);
        fputc('\n', stderr);
}

/* Writing leaves these out; reading puts the daemon's defaults back. */
static bool field_is_default(const RuleField *f) {
        return (streq(f->key, "priority") && f->type == RULE_VALUE_INT32 && f->int32 == 0) ||
               (streq(f->key, "group") && f->type == RULE_VALUE_STRING && streq(f->string, "default")) ||
               (streq(f->key, "comment") && f->type == RULE_VALUE_STRING && f->string[0] == 0) ||
               (streq(f->key, "timeout") && f->type == RULE_VALUE_UINT32 && f->uint32 == 0);
}

static bool fields_value_equal(const RuleField *a, const RuleField *b) {
        if (a->type != b->type)
                return false;
        switch (a->type) {
        case RULE_VALUE_STRING:
                return streq(a->string, b->string);
        case RULE_VALUE_UINT32:
                return a->uint32 == b->uint32;
        case RULE_VALUE_INT32:
                return a->int32 == b->int32;
        case RULE_VALUE_BOOLEAN:
                return a->boolean == b->boolean;
        case RULE_VALUE_UINT64:
                return a->uint64 == b->uint64;
        case RULE_VALUE_OTHER:
                return true;
        }
        return false;
}

/* Same keys with same values, in any order, after leaving out a's defaults. */
static bool fields_equivalent(const RuleFields *a, const RuleFields *b) {
        size_t n_a = 0;

        for (size_t i = 0; i < a->n_fields; i++) {
                const RuleField *other;

                if (field_is_default(&a->fields[i]))
                        continue;
                n_a++;
                other = rule_fields_find(b, a->fields[i].key);
                if (!other || !fields_value_equal(&a->fields[i], other))
                        return false;
        }
        return n_a == b->n_fields;
}

/* words → line → words must be the identity. */
static void check_line_round_trip(char *const *words) {
        WordsError e = {};
        char **again = NULL;
        char *line;

        line = words_to_line(words);
        fuzz_check(line);
        if (words_split_line(line, &again, &e) < 0 || !strv_equal(words, again)) {
                dump_words("words", words);
                fprintf(stderr, "line: %s\nsplit error: %s\n", line, e.message);
                dump_words("split again", again);
                fuzz_check(!"words_to_line() output splits back into the same words");
        }
        strv_free(again);
        free(line);
}

static void fuzz_line(const uint8_t *data, size_t size) {
        RuleFields fields = {}, again = {};
        char **words = NULL, **written = NULL;
        WordsError e = {};
        char *line;
        int r;

        line = fuzz_text(data, size, LINE_INPUT_MAX);
        if (!line)
                return;

        r = words_split_line(line, &words, &e);
        if (r < 0) {
                fuzz_check(r == -EINVAL || r == -ENOMEM);
                goto out;
        }
        fuzz_check(words);
        check_line_round_trip(words);

        r = rule_words_parse(words, strv_length(words), &fields, &e);
        if (r < 0) {
                fuzz_check(r == -EINVAL || r == -ENOMEM);
                fuzz_check(r == -ENOMEM || e.message[0]);
                goto out;
        }

        r = rule_fields_to_words(&fields, UINT64_C(1700000000000000), 0, &written, &e);
        if (r < 0) {
                fprintf(stderr, "a parsed rule cannot be written back: %s\n", e.message);
                fuzz_check(r == -ENOMEM);
                goto out;
        }
        check_line_round_trip(written);
        r = rule_words_parse(written, strv_length(written), &again, &e);
        if (r < 0 || !fields_equivalent(&fields, &again)) {
                dump_words("words", words);
                dump_words("written back", written);
                fprintf(stderr, "parse error: %s\n", r < 0 ? e.message : "(none)");
                fuzz_check(!"a rule written as words reads back to the same rule");
        }
out:
        rule_fields_clear(&again);
        rule_fields_clear(&fields);
        strv_free(written);
        strv_free(words);
        free(line);
}

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

/* A length byte, then the bytes; NULL (input skipped) for an embedded NUL: the bus cannot carry one. */
static char *take_string(Cursor *c) {
        size_t n = take_byte(c);
        char *s;

        if (n > c->left)
                n = c->left;
        if (memchr(c->p, 0, n))
                return NULL;
        s = strndup((const char *) c->p, n);
        c->p += n;
        c->left -= n;
        return s;
}

/*
 * A dictionary as the CLI gets one from the daemon: entries of a key byte
 * (k % 32 picks a name; past the table: a raw name), a type byte, a value.
 */
static int build_fields(Cursor *c, RuleFields *f) {
        static const char *const keys[] = {
                "action", "source", "destination", "protocol", "port", "source-port", "icmp-type", "vlan",
                "interface", "priority", "enabled", "comment", "group", "timeout",
                "id", "packets", "bytes", "created", "expires", "source-set", "destination-set",
        };
        static const RuleValueType types[] = {
                RULE_VALUE_STRING, RULE_VALUE_UINT32, RULE_VALUE_INT32, RULE_VALUE_BOOLEAN,
                RULE_VALUE_UINT64, RULE_VALUE_OTHER,
        };

        while (c->left > 0) {
                uint8_t k = take_byte(c);
                RuleValueType type = types[take_byte(c) % ELEMENTSOF(types)];
                char *key, *s;
                int r;

                key = k % 32 < ELEMENTSOF(keys) ? strdup(keys[k % 32]) : take_string(c);
                if (!key)
                        return -EINVAL;
                switch (type) {
                case RULE_VALUE_STRING:
                        s = take_string(c);
                        r = s ? rule_fields_add_string(f, key, s) : -EINVAL;
                        free(s);
                        break;
                case RULE_VALUE_UINT32:
                        r = rule_fields_add_uint32(f, key, (uint32_t) take_le(c, 4));
                        break;
                case RULE_VALUE_INT32:
                        r = rule_fields_add_int32(f, key, (int32_t) (uint32_t) take_le(c, 4));
                        break;
                case RULE_VALUE_BOOLEAN:
                        r = rule_fields_add_boolean(f, key, take_byte(c) & 1);
                        break;
                case RULE_VALUE_UINT64:
                        r = rule_fields_add_uint64(f, key, take_le(c, 8));
                        break;
                default:
                        r = rule_fields_add_other(f, key);
                        break;
                }
                free(key);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void fuzz_fields(const uint8_t *data, size_t size) {
        Cursor c = { data, size };
        RuleFields fields = {}, again = {};
        RuleWordsFlags flags;
        char **words = NULL;
        WordsError e = {};
        uint64_t now;
        int r;

        flags = take_byte(&c) & (RULE_WORDS_MATCH_ONLY | RULE_WORDS_SHOW_UNKNOWN);
        now = take_le(&c, 8);
        if (build_fields(&c, &fields) < 0)
                goto out;

        r = rule_fields_to_words(&fields, now, flags, &words, &e);
        if (r < 0) {
                fuzz_check(r == -EOPNOTSUPP || r == -EBADMSG || r == -ENOMEM);
                fuzz_check(r == -ENOMEM || e.message[0]);
                goto out;
        }
        fuzz_check(words);
        check_line_round_trip(words);
        /* What `list` can show, `add` takes (unless the daemon sent an action that is one of the words). */
        if (flags == 0 && words[0] && !streq(words[0], "from") && !streq(words[0], "to") &&
            !streq(words[0], "proto") && !streq(words[0], "sport") && !streq(words[0], "port") &&
            !streq(words[0], "icmp-type") && !streq(words[0], "vlan") && !streq(words[0], "on") &&
            !streq(words[0], "priority") && !streq(words[0], "group") && !streq(words[0], "timeout") &&
            !streq(words[0], "comment") && !streq(words[0], "disabled") && !streq(words[0], "from-set") &&
            !streq(words[0], "to-set")) {
                r = rule_words_parse(words, strv_length(words), &again, &e);
                if (r < 0) {
                        dump_words("written", words);
                        fprintf(stderr, "parse error: %s\n", e.message);
                        fuzz_check(!"what rule_fields_to_words() writes, rule_words_parse() reads");
                }
        }
out:
        rule_fields_clear(&again);
        rule_fields_clear(&fields);
        strv_free(words);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size == 0)
                return 0;
        if (data[0] % 2 == 0)
                fuzz_line(data + 1, size - 1);
        else
                fuzz_fields(data + 1, size - 1);
        return 0;
}
