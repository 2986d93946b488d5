/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "rule-words.h"

/* What follows a word. */
typedef enum WordValue {
        WORD_TEXT,              /* s, passed on as it is */
        WORD_NUMBER,            /* u */
        WORD_SIGNED,            /* i */
        WORD_DURATION,          /* u, seconds */
        WORD_FLAG,              /* nothing: the word alone sets a boolean to false */
} WordValue;

typedef struct RuleWord {
        const char *word;
        const char *key;
        WordValue value;
        const char *what;       /* what the value is, for "needs a value" */
} RuleWord;

/* In the order of the grammar, which is also the order words are written in. */
static const RuleWord rule_words[] = {
        { "from",      "source",      WORD_TEXT,     "an address or prefix" },
        { "to",        "destination", WORD_TEXT,     "an address or prefix" },
        { "from-set",  "source-set",  WORD_TEXT,     "the name of an address set" },
        { "to-set",    "destination-set", WORD_TEXT, "the name of an address set" },
        { "proto",     "protocol",    WORD_TEXT,     "a protocol (tcp, udp, sctp, icmp, icmpv6 or 0-255)" },
        { "sport",     "source-port", WORD_TEXT,     "a port or a range (22, 8000-8100)" },
        { "port",      "port",        WORD_TEXT,     "a port or a range (22, 8000-8100)" },
        { "icmp-type", "icmp-type",   WORD_NUMBER,   "an ICMP type number" },
        { "vlan",      "vlan",        WORD_NUMBER,   "a VLAN id (0-4095)" },
        { "on",        "interface",   WORD_TEXT,     "an interface name" },
        { "rate",      "rate",        WORD_NUMBER,   "packets per second" },
        { "burst",     "burst",       WORD_NUMBER,   "a number of packets" },
        { "per",       "per",         WORD_TEXT,     "source or rule" },
        { "priority",  "priority",    WORD_SIGNED,   "a number" },
        { "group",     "group",       WORD_TEXT,     "a group name" },
        { "timeout",   "timeout",     WORD_DURATION, "a duration (90, 30s, 10m, 1h, 1h30m)" },
        { "comment",   "comment",     WORD_TEXT,     "a text" },
        { "disabled",  "enabled",     WORD_FLAG,     NULL },
};

#define WORD_LIST "from, to, from-set, to-set, proto, sport, port, icmp-type, vlan, on, rate, burst, per, " \
        "priority, group, timeout, comment, disabled"

/* Keys a returned rule carries besides those of the words, and their types. */
static const struct {
        const char *key;
        RuleValueType type;
} returned_keys[] = {
        { "id",      RULE_VALUE_UINT32 },
        { "packets", RULE_VALUE_UINT64 },
        { "bytes",   RULE_VALUE_UINT64 },
        { "created", RULE_VALUE_UINT64 },
        { "expires", RULE_VALUE_UINT64 },
        { "rate-limited", RULE_VALUE_UINT64 },
};

#define RULE_GROUP_DEFAULT "default"

/* Quoted words in messages are cut here: a message is for reading, not a dump. */
#define QUOTE_MAX 64

char **strv_free(char **v) {
        if (!v)
                return NULL;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
        return NULL;
}

size_t strv_length(char *const *v) {
        size_t n = 0;

        while (v && v[n])
                n++;
        return n;
}

/* Appends s to the NULL-terminated *v of *n entries, taking it (freed on failure). */
static int strv_consume(char ***v, size_t *n, char *s) {
        char **grown;

        if (!s)
                return -ENOMEM;
        grown = reallocarray(*v, *n + 2, sizeof(char *));
        if (!grown) {
                free(s);
                return -ENOMEM;
        }
        grown[(*n)++] = s;
        grown[*n] = NULL;
        *v = grown;
        return 0;
}

static int strv_push(char ***v, size_t *n, const char *s) {
        return strv_consume(v, n, strdup(s));
}

void rule_fields_clear(RuleFields *f) {
        for (size_t i = 0; i < f->n_fields; i++) {
                free(f->fields[i].key);
                if (f->fields[i].type == RULE_VALUE_STRING)
                        free(f->fields[i].string);
        }
        free(f->fields);
        *f = (RuleFields) {};
}

const RuleField *rule_fields_find(const RuleFields *f, const char *key) {
        for (size_t i = 0; i < f->n_fields; i++)
                if (streq(f->fields[i].key, key))
                        return &f->fields[i];
        return NULL;
}

/* A new last field with its key set and value zeroed; NULL when out of memory. */
static RuleField *rule_fields_append(RuleFields *f, const char *key, RuleValueType type) {
        RuleField *grown;
        char *copy;

        copy = strdup(key);
        if (!copy)
                return NULL;
        grown = reallocarray(f->fields, f->n_fields + 1, sizeof(RuleField));
        if (!grown) {
                free(copy);
                return NULL;
        }
        f->fields = grown;
        grown[f->n_fields] = (RuleField) { .key = copy, .type = type };
        return &grown[f->n_fields++];
}

int rule_fields_add_string(RuleFields *f, const char *key, const char *value) {
        _cleanup_free_ char *copy = strdup(value);
        RuleField *field;

        if (!copy)
                return -ENOMEM;
        field = rule_fields_append(f, key, RULE_VALUE_STRING);
        if (!field)
                return -ENOMEM;
        field->string = TAKE_PTR(copy);
        return 0;
}

int rule_fields_add_uint32(RuleFields *f, const char *key, uint32_t value) {
        RuleField *field = rule_fields_append(f, key, RULE_VALUE_UINT32);

        if (!field)
                return -ENOMEM;
        field->uint32 = value;
        return 0;
}

int rule_fields_add_int32(RuleFields *f, const char *key, int32_t value) {
        RuleField *field = rule_fields_append(f, key, RULE_VALUE_INT32);

        if (!field)
                return -ENOMEM;
        field->int32 = value;
        return 0;
}

int rule_fields_add_boolean(RuleFields *f, const char *key, bool value) {
        RuleField *field = rule_fields_append(f, key, RULE_VALUE_BOOLEAN);

        if (!field)
                return -ENOMEM;
        field->boolean = value;
        return 0;
}

int rule_fields_add_uint64(RuleFields *f, const char *key, uint64_t value) {
        RuleField *field = rule_fields_append(f, key, RULE_VALUE_UINT64);

        if (!field)
                return -ENOMEM;
        field->uint64 = value;
        return 0;
}

int rule_fields_add_other(RuleFields *f, const char *key) {
        return rule_fields_append(f, key, RULE_VALUE_OTHER) ? 0 : -ENOMEM;
}

static int words_error(WordsError *e, int error, const char *format, ...) _printf_(3, 4);
static int words_error(WordsError *e, int error, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(e->message, sizeof(e->message), format, ap);
        va_end(ap);
        return error;
}

/*
 * A word as it can be shown inside '…' in a message: at most QUOTE_MAX bytes
 * (cut on a character boundary, "..." added), control characters as '?'.
 */
static const char *quote_word(const char *word, char buf[static QUOTE_MAX + 4]) {
        size_t n = strnlen(word, QUOTE_MAX + 1);
        bool cut = n > QUOTE_MAX;

        if (cut) {
                n = QUOTE_MAX;
                /* Back over UTF-8 continuation bytes so no character is split. */
                while (n > 0 && ((unsigned char) word[n] & 0xc0) == 0x80)
                        n--;
        }
        for (size_t i = 0; i < n; i++) {
                unsigned char c = word[i];
                buf[i] = c < 0x20 || c == 0x7f ? '?' : (char) c;
        }
        strcpy(buf + n, cut ? "..." : "");
        return buf;
}

static const RuleWord *rule_word_find(const char *word) {
        for (size_t i = 0; i < ELEMENTSOF(rule_words); i++)
                if (streq(rule_words[i].word, word))
                        return &rule_words[i];
        return NULL;
}

static const RuleWord *rule_word_find_by_key(const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(rule_words); i++)
                if (streq(rule_words[i].key, key))
                        return &rule_words[i];
        return NULL;
}

/* Converts the value of one word and adds it under the word's key. */
static int rule_word_add_value(RuleFields *f, const RuleWord *w, const char *value, WordsError *e) {
        char q[QUOTE_MAX + 4];
        uint64_t seconds;
        uint32_t u;
        int32_t i;
        int r;

        switch (w->value) {
        case WORD_TEXT:
                return rule_fields_add_string(f, w->key, value);

        case WORD_NUMBER:
                r = parse_uint32(value, &u);
                if (r == -ERANGE)
                        return words_error(e, -EINVAL, "The value of '%s' is too large: '%s' (at most %" PRIu32 ").",
                                           w->word, quote_word(value, q), UINT32_MAX);
                if (r < 0)
                        return words_error(e, -EINVAL, "'%s' needs %s, not '%s'.",
                                           w->word, w->what, quote_word(value, q));
                return rule_fields_add_uint32(f, w->key, u);

        case WORD_SIGNED:
                r = parse_int32(value, &i);
                if (r == -ERANGE)
                        return words_error(e, -EINVAL, "The value of '%s' is out of range: '%s' "
                                           "(%" PRId32 " to %" PRId32 ").",
                                           w->word, quote_word(value, q), INT32_MIN, INT32_MAX);
                if (r < 0)
                        return words_error(e, -EINVAL, "'%s' needs %s, not '%s'.",
                                           w->word, w->what, quote_word(value, q));
                return rule_fields_add_int32(f, w->key, i);

        case WORD_DURATION:
                r = parse_duration_sec(value, &seconds);
                /* The bus carries it as a 32-bit count of seconds. */
                if (r == -ERANGE || (r >= 0 && seconds > UINT32_MAX))
                        return words_error(e, -EINVAL, "The value of '%s' is too long: '%s' (at most %" PRIu32
                                           " seconds).", w->word, quote_word(value, q), UINT32_MAX);
                if (r < 0)
                        return words_error(e, -EINVAL, "'%s' needs %s, not '%s'.",
                                           w->word, w->what, quote_word(value, q));
                return rule_fields_add_uint32(f, w->key, (uint32_t) seconds);

        case WORD_FLAG:
                break;
        }
        return -EINVAL;
}

int rule_words_parse(char *const *words, size_t n_words, RuleFields *ret, WordsError *e) {
        _cleanup_(rule_fields_clear) RuleFields f = {};
        bool seen[ELEMENTSOF(rule_words)] = {};
        char q[QUOTE_MAX + 4];
        int r;

        if (n_words == 0)
                return words_error(e, -EINVAL, "Missing ACTION: a rule starts with drop, pass or rate-limit.");
        if (rule_word_find(words[0]))
                return words_error(e, -EINVAL, "Missing ACTION before '%s': a rule starts with drop, pass or rate-limit.",
                                   words[0]);

        /* The action is text like the others: the daemon knows which actions there are. */
        r = rule_fields_add_string(&f, "action", words[0]);
        if (r < 0)
                return r;

        for (size_t i = 1; i < n_words; i++) {
                const RuleWord *w = rule_word_find(words[i]);

                if (!w)
                        return words_error(e, -EINVAL, "Unknown word '%s' (words after the action: " WORD_LIST ").",
                                           quote_word(words[i], q));
                if (seen[w - rule_words])
                        return words_error(e, -EINVAL, "The word '%s' is given twice.", w->word);
                seen[w - rule_words] = true;

                if (w->value == WORD_FLAG) {
                        r = rule_fields_add_boolean(&f, w->key, false);
                        if (r < 0)
                                return r;
                        continue;
                }

                if (i + 1 >= n_words)
                        return words_error(e, -EINVAL, "The word '%s' needs a value: %s.", w->word, w->what);
                r = rule_word_add_value(&f, w, words[++i], e);
                if (r < 0)
                        return r;
        }

        *ret = f;
        f = (RuleFields) {};
        return 0;
}

/* The type a known key must have, or 0 for a key no word or reply knows. */
static RuleValueType rule_key_type(const char *key) {
        const RuleWord *w;

        if (streq(key, "action"))
                return RULE_VALUE_STRING;
        w = rule_word_find_by_key(key);
        if (w)
                switch (w->value) {
                case WORD_TEXT:
                        return RULE_VALUE_STRING;
                case WORD_NUMBER:
                case WORD_DURATION:
                        return RULE_VALUE_UINT32;
                case WORD_SIGNED:
                        return RULE_VALUE_INT32;
                case WORD_FLAG:
                        return RULE_VALUE_BOOLEAN;
                }
        for (size_t i = 0; i < ELEMENTSOF(returned_keys); i++)
                if (streq(returned_keys[i].key, key))
                        return returned_keys[i].type;
        return 0;
}

static char *format_value(const RuleField *field) {
        char *s = NULL;

        switch (field->type) {
        case RULE_VALUE_STRING:
                return strdup(field->string);
        case RULE_VALUE_UINT32:
                return asprintf(&s, "%" PRIu32, field->uint32) < 0 ? NULL : s;
        case RULE_VALUE_INT32:
                return asprintf(&s, "%" PRId32, field->int32) < 0 ? NULL : s;
        case RULE_VALUE_BOOLEAN:
                return strdup(field->boolean ? "true" : "false");
        case RULE_VALUE_UINT64:
                return asprintf(&s, "%" PRIu64, field->uint64) < 0 ? NULL : s;
        case RULE_VALUE_OTHER:
                return strdup("?");
        }
        return NULL;
}

/* Seconds left until expires_usec, rounded up, at least 1 (0 would mean never), at most UINT32_MAX. */
static uint32_t seconds_left(uint64_t expires_usec, uint64_t now_usec) {
        uint64_t left;

        if (expires_usec <= now_usec)
                return 1;
        left = (expires_usec - now_usec + USEC_PER_SEC - 1) / USEC_PER_SEC;
        return left > UINT32_MAX ? UINT32_MAX : left < 1 ? 1 : (uint32_t) left;
}

/* The words of one rule_words[] entry for this rule, if it has them. */
static int rule_word_format(const RuleWord *w, const RuleFields *rule, uint64_t now_usec, RuleWordsFlags flags,
                            char ***words, size_t *n) {
        const RuleField *field = rule_fields_find(rule, w->key);
        char buf[FORMAT_BUFFER_MAX];
        int r;

        if (streq(w->key, "timeout")) {
                uint32_t seconds = 0;
                const RuleField *expires = rule_fields_find(rule, "expires");

                if (flags & RULE_WORDS_MATCH_ONLY)
                        return 0;
                if (field && field->uint32 > 0)
                        seconds = field->uint32;
                else if (expires && expires->uint64 > 0)
                        seconds = seconds_left(expires->uint64, now_usec);
                if (seconds == 0)
                        return 0;
                r = strv_push(words, n, w->word);
                if (r < 0)
                        return r;
                return strv_push(words, n, format_duration_sec(buf, sizeof(buf), seconds));
        }

        if (!field)
                return 0;

        /* Defaults are left out: the daemon puts them back. */
        if (streq(w->key, "priority") && ((flags & RULE_WORDS_MATCH_ONLY) || field->int32 == 0))
                return 0;
        if (streq(w->key, "group") && ((flags & RULE_WORDS_MATCH_ONLY) || streq(field->string, RULE_GROUP_DEFAULT)))
                return 0;
        if (streq(w->key, "comment") && field->string[0] == '\0')
                return 0;
        if (streq(w->key, "per") && streq(field->string, "source"))
                return 0;
        if (w->value == WORD_FLAG)
                return field->boolean ? 0 : strv_push(words, n, w->word);

        r = strv_push(words, n, w->word);
        if (r < 0)
                return r;
        return strv_consume(words, n, format_value(field));
}

int rule_fields_to_words(const RuleFields *rule, uint64_t now_usec, RuleWordsFlags flags,
                         char ***ret_words, WordsError *e) {
        _cleanup_(strv_freep) char **words = NULL;
        const RuleField *action;
        size_t n = 0;
        int r;

        /* Check every key first: a rule is written whole or not at all. */
        for (size_t i = 0; i < rule->n_fields; i++) {
                const RuleField *field = &rule->fields[i];
                RuleValueType type = rule_key_type(field->key);

                if (type == 0) {
                        if (flags & RULE_WORDS_SHOW_UNKNOWN)
                                continue;
                        return words_error(e, -EOPNOTSUPP, "The key '%s' has no word: this packetfilterctl "
                                           "cannot write the rule as words.", field->key);
                }
                if (field->type != type)
                        return words_error(e, -EBADMSG, "The key '%s' has a value of type '%c', not '%c'.",
                                           field->key, (char) field->type, (char) type);
                if (rule_fields_find(rule, field->key) != field)
                        return words_error(e, -EBADMSG, "The key '%s' is there twice.", field->key);
        }

        action = rule_fields_find(rule, "action");
        if (!action)
                return words_error(e, -EBADMSG, "The rule has no action.");

        /* An empty array, so that a rule with nothing to show still gives a list. */
        words = calloc(1, sizeof(char *));
        if (!words)
                return -ENOMEM;

        if (!(flags & RULE_WORDS_MATCH_ONLY)) {
                r = strv_push(&words, &n, action->string);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < ELEMENTSOF(rule_words); i++) {
                r = rule_word_format(&rule_words[i], rule, now_usec, flags, &words, &n);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < rule->n_fields && (flags & RULE_WORDS_SHOW_UNKNOWN); i++) {
                const RuleField *field = &rule->fields[i];
                _cleanup_free_ char *value = NULL;
                char *word;

                if (rule_key_type(field->key) != 0)
                        continue;
                value = format_value(field);
                if (!value || asprintf(&word, "%s=%s", field->key, value) < 0)
                        return -ENOMEM;
                r = strv_consume(&words, &n, word);
                if (r < 0)
                        return r;
        }

        *ret_words = TAKE_PTR(words);
        return 0;
}

/* Words that mean the same to the shell unquoted. '=' is left out: "a=b" first on a line is an assignment. */
static bool word_is_shell_safe(const char *word) {
        if (!*word)
                return false;
        for (const char *c = word; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                      strchr("_-.,:/@%+", *c)))
                        return false;
        return true;
}

/* 'text', with each ' written as '\'' (close, escaped quote, reopen): the one quoting every shell reads alike. */
static int quote_append(FILE *f, const char *word) {
        if (word_is_shell_safe(word))
                return fputs(word, f) < 0 ? -EIO : 0;

        fputc('\'', f);
        for (const char *c = word; *c; c++)
                if (*c == '\'')
                        fputs("'\\''", f);
                else
                        fputc(*c, f);
        fputc('\'', f);
        return ferror(f) ? -EIO : 0;
}

char *words_to_line(char *const *words) {
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        FILE *f;
        int r = 0;

        f = open_memstream(&line, &size);
        if (!f)
                return NULL;
        for (size_t i = 0; words && words[i] && r >= 0; i++) {
                if (i > 0)
                        fputc(' ', f);
                r = quote_append(f, words[i]);
        }
        if (fclose(f) != 0 || r < 0)
                return NULL;
        return TAKE_PTR(line);
}

static bool is_blank(char c) {
        /* \r too, so that files written on other systems read the same. */
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int words_split_line(const char *line, char ***ret_words, WordsError *e) {
        _cleanup_(strv_freep) char **words = NULL;
        size_t n = 0;
        const char *p = line;
        int r;

        words = calloc(1, sizeof(char *));
        if (!words)
                return -ENOMEM;

        for (;;) {
                _cleanup_free_ char *word = NULL;
                size_t size = 0;
                FILE *f;

                while (is_blank(*p))
                        p++;
                if (*p == '\0' || *p == '#')
                        break;

                f = open_memstream(&word, &size);
                if (!f)
                        return -ENOMEM;

                r = 0;
                while (*p && !is_blank(*p) && r == 0) {
                        if (*p == '\\') {
                                if (p[1] == '\0')
                                        r = words_error(e, -EINVAL, "The line ends with a backslash.");
                                else {
                                        fputc(p[1], f);
                                        p += 2;
                                }
                        } else if (*p == '\'') {
                                const char *end = strchr(p + 1, '\'');

                                if (!end)
                                        r = words_error(e, -EINVAL, "A single quote (') is not closed.");
                                else {
                                        fwrite(p + 1, 1, end - p - 1, f);
                                        p = end + 1;
                                }
                        } else if (*p == '"') {
                                /* As in the shell: inside "…", \ escapes only $ ` " \ and is kept before anything else. */
                                for (p++; *p && *p != '"'; p++) {
                                        if (*p == '\\' && p[1] && strchr("$`\"\\", p[1]))
                                                p++;
                                        fputc(*p, f);
                                }
                                if (*p != '"')
                                        r = words_error(e, -EINVAL, "A double quote (\") is not closed.");
                                else
                                        p++;
                        } else
                                fputc(*p++, f);
                }

                if (fclose(f) != 0 && r == 0)
                        r = -ENOMEM;
                if (r < 0)
                        return r;
                r = strv_consume(&words, &n, TAKE_PTR(word));
                if (r < 0)
                        return r;
        }

        *ret_words = TAKE_PTR(words);
        return 0;
}
