/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of daemon/set-file.c: set_file_parse() and set_file_format(),
 * the text of ImportSet and ExportSet.
 *
 * Decisions these tests pin down:
 * - The first word of a line is the entry; it ends at a blank, '#' or ';'.
 *   What follows it is ignored, whatever it is.
 * - IPv4-mapped IPv6 (::ffff:a.b.c.d[/96+n]) becomes IPv4; a mapped prefix
 *   shorter than /96 reaches outside the mapped range and stays IPv6.
 * - Entries come back in file order, duplicates and overlaps kept.
 * - A line of exactly SET_FILE_LINE_MAX bytes (its "\n" or "\r\n" not
 *   counted) is fine, one more byte is a bad line; so is a NUL byte.
 * - With skip_invalid the error describes the first skipped line.
 * - Parsing a million lines is timed and printed, not asserted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "address.h"
#include "macro.h"
#include "set-file.h"
#include "test-util.h"

/* A parse that must succeed: the entries, formatted one per line with '\n' after each. */
static char *entries_to_text(const struct prefix *entries, size_t n) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        require(f, "open_memstream");
        for (size_t i = 0; i < n; i++) {
                char buf[PREFIX_STRING_MAX];
                fprintf(f, "%s\n", prefix_format(&entries[i], buf));
        }
        require(fclose(f) == 0, "fclose");
        return text;
}

static const struct {
        const char *what;
        const char *input;
        const char *entries;    /* in file order, one prefix_format() a line */
} valid_cases[] = {
        { "empty file",                 "",                                     "" },
        { "one newline",                "\n",                                   "" },
        { "blank lines",                "\n\n \n\t\n  \t \r\n",                 "" },
        { "only comments",              "# a\n; b\n  # c\n\t; d\n#\n;",         "" },
        { "bare IPv4",                  "192.0.2.1\n",                          "192.0.2.1\n" },
        { "no final newline",           "192.0.2.1",                            "192.0.2.1\n" },
        { "IPv4 /32 is the address",    "192.0.2.1/32\n",                       "192.0.2.1\n" },
        { "IPv4 prefix",                "198.51.100.0/24\n",                    "198.51.100.0/24\n" },
        { "IPv4 /0",                    "0.0.0.0/0\n",                          "0.0.0.0/0\n" },
        { "bare IPv6",                  "2001:db8::1\n",                        "2001:db8::1\n" },
        { "IPv6 upper case, long form", "2001:0DB8:0000::0001/128\n",           "2001:db8::1\n" },
        { "IPv6 prefix",                "2001:db8::/32\n",                      "2001:db8::/32\n" },
        { "IPv6 /0",                    "::/0\n",                               "::/0\n" },
        { "comment after '#'",          "192.0.2.1 # a host\n",                 "192.0.2.1\n" },
        { "comment after ';'",          "192.0.2.0/24 ; SBL123\n",              "192.0.2.0/24\n" },
        { "Spamhaus DROP",
          "; Spamhaus DROP List 2024/01/01 - (c) 2024 The Spamhaus Project\n"
          "; Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT\n"
          "1.10.16.0/20 ; SBL256894\n"
          "1.19.0.0/16 ; SBL434604\n",
          "1.10.16.0/20\n1.19.0.0/16\n" },
        { "comment without a blank",    "192.0.2.1#x\n192.0.2.2;y\n",           "192.0.2.1\n192.0.2.2\n" },
        { "anything after a tab",       "192.0.2.1\tsome scanner 2024-01-01\n", "192.0.2.1\n" },
        { "anything after spaces",      "2001:db8::/48    whatever = 5 ; #\n",  "2001:db8::/48\n" },
        { "leading and trailing blanks", "  \t192.0.2.1 \t \n",                 "192.0.2.1\n" },
        { "CRLF",                       "192.0.2.1\r\n2001:db8::/32\r\n\r\n# c\r\n", "192.0.2.1\n2001:db8::/32\n" },
        { "CRLF, comment",              "192.0.2.0/24 ; x\r\n",                 "192.0.2.0/24\n" },
        { "vertical tab, form feed",    "\v192.0.2.1\f\n",                      "192.0.2.1\n" },
        { "byte order mark",            "\xef\xbb\xbf" "192.0.2.1\n",           "192.0.2.1\n" },
        { "mapped address",             "::ffff:192.0.2.9\n",                   "192.0.2.9\n" },
        { "mapped, hex",                "::ffff:c000:0209\n",                   "192.0.2.9\n" },
        { "mapped /128",                "::ffff:192.0.2.9/128\n",               "192.0.2.9\n" },
        { "mapped /120",                "::ffff:192.0.2.0/120\n",               "192.0.2.0/24\n" },
        { "mapped /96",                 "::ffff:0.0.0.0/96\n",                  "0.0.0.0/0\n" },
        { "mapped range /95 stays IPv6", "::fffe:0:0/95\n",                     "::fffe:0:0/95\n" },
        { "compatible (not mapped) stays IPv6", "::192.0.2.9\n",                "::192.0.2.9\n" },
        { "duplicates kept, in order",
          "192.0.2.1\n2001:db8::1\n192.0.2.1\n192.0.2.1/32\n::ffff:192.0.2.1\n",
          "192.0.2.1\n2001:db8::1\n192.0.2.1\n192.0.2.1\n192.0.2.1\n" },
        { "overlaps kept, in order",
          "10.0.0.0/8\n10.1.0.0/16\n10.1.2.3\n0.0.0.0/0\n",
          "10.0.0.0/8\n10.1.0.0/16\n10.1.2.3\n0.0.0.0/0\n" },
        { "IPv4 fast path edges",
          "0.0.0.0\n255.255.255.255\n1.2.3.4/32\n128.0.0.0/1\n10.0.0.0/8\n100.64.0.0/10\n",
          "0.0.0.0\n255.255.255.255\n1.2.3.4\n128.0.0.0/1\n10.0.0.0/8\n100.64.0.0/10\n" },
};

static void test_valid(void) {
        for (size_t i = 0; i < ELEMENTSOF(valid_cases); i++) {
                _cleanup_free_ struct prefix *entries = NULL;
                _cleanup_free_ char *text = NULL, *copy = NULL;
                struct set_file_error e = { .line = 999 };
                size_t n = 999, skipped = 999, len = strlen(valid_cases[i].input);
                int r;

                /* An exact-size copy without a NUL: ASan sees any read past it. */
                copy = malloc(len ? len : 1);
                require(copy, "out of memory");
                memcpy(copy, valid_cases[i].input, len);

                r = set_file_parse(copy, len, false, &entries, &n, &skipped, &e);
                if (!check(r == 0, "%s: %d (%s)", valid_cases[i].what, r, r == -EINVAL ? e.reason : ""))
                        continue;
                check(skipped == 0, "%s: skipped %zu", valid_cases[i].what, skipped);
                check(e.line == 0 && e.reason[0] == '\0', "%s: error filled: %s", valid_cases[i].what, e.reason);
                check((n == 0) == (entries == NULL), "%s: %zu entries at %p", valid_cases[i].what, n, (void *) entries);
                text = entries_to_text(entries, n);
                check(streq(text, valid_cases[i].entries), "%s: got\n%s\nwant\n%s", valid_cases[i].what, text,
                      valid_cases[i].entries);

                /* The same with skip_invalid. */
                free(entries);
                entries = NULL;
                r = set_file_parse(copy, len, true, &entries, &n, &skipped, NULL);
                check(r == 0 && skipped == 0, "%s: with skip_invalid: %d, skipped %zu", valid_cases[i].what, r, skipped);
        }
}

/* A string literal and its length, NUL bytes inside it included. */
#define TEXT(s) s, sizeof(s) - 1

static const struct {
        const char *input;
        size_t len;
        size_t line;            /* of the first bad line */
        size_t skipped;         /* bad lines */
        size_t n;               /* good entries */
        const char *reason;
} invalid_cases[] = {
        { TEXT("300.1.1.1\n"),                1, 1, 0, "line 1: '300.1.1.1' is not an IPv4 or IPv6 address or prefix" },
        { TEXT("192.0.2.1\n\n# c\nfoo\n"),    4, 1, 1, "line 4: 'foo' is not an IPv4 or IPv6 address or prefix" },
        { TEXT("10.0.0.0/33\n"),              1, 1, 0, "line 1: '10.0.0.0/33' is not an IPv4 or IPv6 address or prefix: "
                                                 "invalid prefix length (a decimal number without leading zeros, "
                                                 "0-32 for IPv4, 0-128 for IPv6)" },
        { TEXT("2001:db8::/129\n"),           1, 1, 0, "line 1: '2001:db8::/129' is not an IPv4 or IPv6 address or prefix: "
                                                 "invalid prefix length (a decimal number without leading zeros, "
                                                 "0-32 for IPv4, 0-128 for IPv6)" },
        { TEXT("192.0.2.0/024\n"),            1, 1, 0, "line 1: '192.0.2.0/024' is not an IPv4 or IPv6 address or prefix: "
                                                 "invalid prefix length (a decimal number without leading zeros, "
                                                 "0-32 for IPv4, 0-128 for IPv6)" },
        { TEXT("192.0.2.0/\n"),               1, 1, 0, "line 1: '192.0.2.0/' is not an IPv4 or IPv6 address or prefix: "
                                                 "invalid prefix length (a decimal number without leading zeros, "
                                                 "0-32 for IPv4, 0-128 for IPv6)" },
        { TEXT("a\n192.0.2.1/24\n"),          1, 2, 0, "line 1: 'a' is not an IPv4 or IPv6 address or prefix" },
        { TEXT("192.0.2.0\n192.0.2.1/24\n"),  2, 1, 1, "line 2: '192.0.2.1/24' is not an IPv4 or IPv6 address or prefix: "
                                                 "host bits set past the prefix length" },
        { TEXT("2001:db8::1/64\n"),           1, 1, 0, "line 1: '2001:db8::1/64' is not an IPv4 or IPv6 address or prefix: "
                                                 "host bits set past the prefix length" },
        { TEXT("::ffff:192.0.2.1/120\n"),     1, 1, 0, "line 1: '::ffff:192.0.2.1/120' is not an IPv4 or IPv6 address or "
                                                 "prefix: host bits set past the prefix length" },
        { TEXT("01.2.3.4\n"),                 1, 1, 0, "line 1: '01.2.3.4' is not an IPv4 or IPv6 address or prefix" },
        { TEXT("1.2.3\n"),                    1, 1, 0, "line 1: '1.2.3' is not an IPv4 or IPv6 address or prefix" },
        { TEXT("1.2.3.4.5\n"),                1, 1, 0, "line 1: '1.2.3.4.5' is not an IPv4 or IPv6 address or prefix" },
        { TEXT("1.2.3.4/\n"),                 1, 1, 0, "line 1: '1.2.3.4/' is not an IPv4 or IPv6 address or prefix: "
                                                 "invalid prefix length (a decimal number without leading zeros, "
                                                 "0-32 for IPv4, 0-128 for IPv6)" },
        { TEXT("1.2.3.4/8\n"),                1, 1, 0, "line 1: '1.2.3.4/8' is not an IPv4 or IPv6 address or prefix: "
                                                 "host bits set past the prefix length" },
        { TEXT("1.2.3.4,5.6.7.8\n"),          1, 1, 0, "line 1: '1.2.3.4,5.6.7.8' is not an IPv4 or IPv6 address or prefix" },
        { TEXT("fe80::1%eth0\n"),             1, 1, 0, "line 1: 'fe80::1%eth0' is not an IPv4 or IPv6 address or prefix" },
        { TEXT("[2001:db8::1]\n"),            1, 1, 0, "line 1: '[2001:db8::1]' is not an IPv4 or IPv6 address or prefix" },
        { TEXT("/24\n"),                      1, 1, 0, "line 1: '/24' is not an IPv4 or IPv6 address or prefix" },
        { TEXT("192.0.2.0/24/24\n"),          1, 1, 0, "line 1: '192.0.2.0/24/24' is not an IPv4 or IPv6 address or prefix: "
                                                 "invalid prefix length (a decimal number without leading zeros, "
                                                 "0-32 for IPv4, 0-128 for IPv6)" },
        { TEXT("192.0.2.1\r\r\nx\r\n"),       2, 1, 1, "line 2: 'x' is not an IPv4 or IPv6 address or prefix" },
        { TEXT("192.0.2.1\n\n\n\n\n\n\n\n\n\n\n300::1::\n"), 12, 1, 1,
                                                 "line 12: '300::1::' is not an IPv4 or IPv6 address or prefix" },
        /* Bytes that are no printable ASCII show as '?', so that the reason is valid UTF-8. */
        { TEXT("192.0.2.\xc3\xa9\n"),         1, 1, 0, "line 1: '192.0.2.?\?' is not an IPv4 or IPv6 address or prefix" },
        { TEXT("\x01\x7f\xff\n"),             1, 1, 0, "line 1: '?\?\?' is not an IPv4 or IPv6 address or prefix" },
        /* A BOM only counts at the start of the buffer. */
        { TEXT("\n\xef\xbb\xbf" "192.0.2.1\n"), 2, 1, 0, "line 2: '???192.0.2.1' is not an IPv4 or IPv6 address or prefix" },
        /* An entry too long to show is cut. */
        { TEXT("11111111111111111111111111111111111111111111111111111111111111111111111\n"), 1, 1, 0,
          "line 1: '1111111111111111111111111111111111111111111111111111111111111111...' "
          "is not an IPv4 or IPv6 address or prefix" },
        /* NUL bytes, anywhere in a line, even in a comment. */
        { TEXT("192.0.2.1\n192.0.2.2\0\n"),   2, 1, 1, "line 2: contains a NUL byte" },
        { TEXT("\0"),                         1, 1, 0, "line 1: contains a NUL byte" },
        { TEXT("\n\0\n"),                     2, 1, 0, "line 2: contains a NUL byte" },
        { TEXT("# comment \0 hidden\n"),      1, 1, 0, "line 1: contains a NUL byte" },
        { TEXT("192.0.2.1 # \0\n"),           1, 1, 0, "line 1: contains a NUL byte" },
        { TEXT("192.0.2.1\0" "192.0.2.2\n"),  1, 1, 0, "line 1: contains a NUL byte" },
};

/* Parses input both ways and checks that it fails, or skips, as said. */
static void check_invalid(const char *what, const char *input, size_t len, size_t want_line,
                          const char *want_reason, size_t want_skipped, size_t want_n) {
        _cleanup_free_ struct prefix *entries = NULL;
        _cleanup_free_ char *copy = NULL;
        struct set_file_error e = {};
        struct prefix sentinel_entry, *sentinel = &sentinel_entry;
        size_t n = 4242, skipped = 4242;
        int r;

        /* An exact-size copy: ASan sees any read past it. */
        copy = malloc(len ? len : 1);
        require(copy, "out of memory");
        memcpy(copy, input, len);

        entries = sentinel;
        r = set_file_parse(copy, len, false, &entries, &n, &skipped, &e);
        check(r == -EINVAL, "%s: %d", what, r);
        check(e.line == want_line, "%s: line %zu, want %zu", what, e.line, want_line);
        check(streq(e.reason, want_reason), "%s: reason\n  \"%s\", want\n  \"%s\"", what, e.reason, want_reason);
        check(entries == sentinel && n == 4242 && skipped == 4242, "%s: results written on failure", what);
        entries = NULL;

        /* Without an error to fill, it fails the same. */
        r = set_file_parse(copy, len, false, &entries, &n, &skipped, NULL);
        check(r == -EINVAL && !entries, "%s: without ret_error: %d", what, r);

        /* With skip_invalid: the bad lines are counted, the error describes the first, the good lines come back. */
        memset(&e, 0x55, sizeof(e));
        r = set_file_parse(copy, len, true, &entries, &n, &skipped, &e);
        check(r == 0, "%s, skip_invalid: %d", what, r);
        check(skipped == want_skipped, "%s, skip_invalid: skipped %zu, want %zu", what, skipped, want_skipped);
        check(n == want_n, "%s, skip_invalid: %zu entries, want %zu", what, n, want_n);
        check(e.line == want_line && streq(e.reason, want_reason),
              "%s, skip_invalid: first skipped line %zu \"%s\"", what, e.line, e.reason);
}

static void test_invalid(void) {
        for (size_t i = 0; i < ELEMENTSOF(invalid_cases); i++)
                check_invalid(invalid_cases[i].input, invalid_cases[i].input, invalid_cases[i].len,
                              invalid_cases[i].line, invalid_cases[i].reason, invalid_cases[i].skipped,
                              invalid_cases[i].n);
}

/*
 * A line of exactly SET_FILE_LINE_MAX bytes is fine, one more is a bad line;
 * "\r\n" does not count; the last line (no ending) has the same limit.
 */
static void test_long_lines(void) {
        static const char *const endings[] = { "\n", "\r\n", "" };

        for (size_t i = 0; i < ELEMENTSOF(endings); i++)
                for (size_t extra = 0; extra <= 1; extra++) {
                        bool last = !endings[i][0];
                        size_t line_len = SET_FILE_LINE_MAX + extra;
                        size_t len = strlen("192.0.2.1\n") + line_len + strlen(endings[i]) +
                                (last ? 0 : strlen("192.0.2.3\n"));
                        _cleanup_free_ struct prefix *entries = NULL;
                        _cleanup_free_ char *buf = malloc(len);
                        struct set_file_error e = {};
                        size_t n = 0, skipped = 0, want_n = last ? 2 : 3;
                        char *p = buf;
                        int r;

                        require(buf, "out of memory");
                        /* "192.0.2.1\n", "192.0.2.2 #######..." and its ending, "192.0.2.3\n" unless it is last. */
                        p = stpcpy(p, "192.0.2.1\n");
                        memcpy(p, "192.0.2.2 ", 10);
                        memset(p + 10, '#', line_len - 10);
                        p += line_len;
                        memcpy(p, endings[i], strlen(endings[i]));
                        p += strlen(endings[i]);
                        if (!last) {
                                memcpy(p, "192.0.2.3\n", 10);
                                p += 10;
                        }
                        require((size_t) (p - buf) == len, "test buffer length");

                        r = set_file_parse(buf, len, false, &entries, &n, &skipped, &e);
                        if (extra == 0) {
                                check(r == 0 && n == want_n, "a line of %zu bytes, ending \"%s\": %d, %zu entries (%s)",
                                      line_len, endings[i][0] == '\r' ? "\\r\\n" : endings[i][0] ? "\\n" : "", r, n,
                                      e.reason);
                                continue;
                        }
                        check(r == -EINVAL, "a line of %zu bytes: %d", line_len, r);
                        check(e.line == 2 && streq(e.reason, "line 2: longer than 4096 bytes"),
                              "a line of %zu bytes: line %zu \"%s\"", line_len, e.line, e.reason);

                        r = set_file_parse(buf, len, true, &entries, &n, &skipped, &e);
                        check(r == 0 && n == want_n - 1 && skipped == 1,
                              "a line of %zu bytes, skip_invalid: %d, %zu, %zu", line_len, r, n, skipped);
                }

        /* A huge line, a megabyte without a newline, of digits: refused, not copied into a stack buffer. */
        size_t huge = 1u << 20;
        _cleanup_free_ char *buf = malloc(huge);
        _cleanup_free_ struct prefix *entries = NULL;
        struct set_file_error e = {};
        size_t n, skipped;
        int r;

        require(buf, "out of memory");
        memset(buf, '1', huge);
        r = set_file_parse(buf, huge, false, &entries, &n, &skipped, &e);
        check(r == -EINVAL && e.line == 1 && streq(e.reason, "line 1: longer than 4096 bytes"),
              "a 1 MiB line: %d, line %zu \"%s\"", r, e.line, e.reason);
}

static void test_bad_arguments(void) {
        _cleanup_free_ struct prefix *entries = NULL;
        size_t n, skipped;
        char *text = NULL;
        size_t len;
        struct prefix bad = { .family = AF_INET, .prefixlen = 33 };
        struct prefix host_bits = { .family = AF_INET, .prefixlen = 24, .addr = { 192, 0, 2, 1 } };
        struct prefix no_family = { .family = 0, .prefixlen = 0 };

        check(set_file_parse(NULL, 1, false, &entries, &n, &skipped, NULL) == -EINVAL, "NULL buffer, length 1");
        check(set_file_parse("x", 1, false, NULL, &n, &skipped, NULL) == -EINVAL, "NULL ret_entries");
        check(set_file_parse("x", 1, false, &entries, NULL, &skipped, NULL) == -EINVAL, "NULL ret_n");
        /* An empty buffer may be NULL, and ret_skipped is optional. */
        check(set_file_parse(NULL, 0, false, &entries, &n, NULL, NULL) == 0 && n == 0 && !entries, "NULL, 0");

        check(set_file_format(&bad, 1, &text, &len) == -EINVAL && !text, "/33 formatted");
        check(set_file_format(&host_bits, 1, &text, &len) == -EINVAL && !text, "host bits formatted");
        check(set_file_format(&no_family, 1, &text, &len) == -EINVAL && !text, "family 0 formatted");
        check(set_file_format(NULL, 1, &text, &len) == -EINVAL && !text, "NULL entries formatted");
        check(set_file_format(NULL, 0, &text, &len) == 0 && text && streq(text, "") && len == 0,
              "no entries: \"%s\"", strna(text));
        free(text);
}

static struct prefix parse_one(const char *s) {
        struct prefix p;

        require(prefix_parse(s, &p) == 0, "test data: \"%s\"", s);
        return p;
}

/* IPv4 first, then by address bytes, then by length; the input is not changed. */
static void test_format_sorting(void) {
        static const char *const unsorted[] = {
                "2001:db8::/32", "192.0.2.0/24", "10.0.0.0/8", "::/0", "192.0.2.0/25", "192.0.2.1",
                "10.0.0.0/8", "0.0.0.0/0", "2001:db8::1", "::1", "255.255.255.255", "2001:db8::/31",
                "9.255.255.255", "fe80::/10", "192.0.2.128/25", "2001:db8::/33",
        };
        static const char expected[] =
                "0.0.0.0/0\n"
                "9.255.255.255\n"
                "10.0.0.0/8\n"
                "10.0.0.0/8\n"
                "192.0.2.0/24\n"
                "192.0.2.0/25\n"
                "192.0.2.1\n"
                "192.0.2.128/25\n"
                "255.255.255.255\n"
                "::/0\n"
                "::1\n"
                "2001:db8::/31\n"
                "2001:db8::/32\n"
                "2001:db8::/33\n"
                "2001:db8::1\n"
                "fe80::/10\n";
        struct prefix entries[ELEMENTSOF(unsorted)], copy[ELEMENTSOF(unsorted)];
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(unsorted); i++)
                entries[i] = parse_one(unsorted[i]);
        memcpy(copy, entries, sizeof(entries));

        r = set_file_format(entries, ELEMENTSOF(entries), &text, &len);
        require(r == 0, "set_file_format: %d", r);
        check(streq(text, expected), "sorted:\n%s\nwant:\n%s", text, expected);
        check(len == strlen(text), "length %zu, text %zu", len, strlen(text));
        check(memcmp(copy, entries, sizeof(entries)) == 0, "the input was changed");

        /* ret_len is optional. */
        free(text);
        text = NULL;
        check(set_file_format(entries, 1, &text, NULL) == 0 && streq(text, "2001:db8::/32\n"), "one entry");
}

static uint64_t now_nsec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/*
 * A random prefix as a person might write it: IPv4 or IPv6, address or
 * prefix, sometimes mapped, with host bits cleared. The canonical text comes
 * from prefix_format() on what prefix_parse() makes of the written text.
 */
static void random_line(uint64_t *seed, FILE *f, struct prefix *ret) {
        uint64_t r = test_random(seed), a = test_random(seed), b = test_random(seed);
        char text[PREFIX_STRING_MAX + 16];
        struct prefix p = {};
        unsigned kind = r % 10;

        if (kind < 6) {
                /* IPv4: half addresses, half prefixes. */
                unsigned len = (r >> 8) & 1 ? 32 : (unsigned) ((r >> 16) % 33);
                uint32_t addr = (uint32_t) a;
                if (len < 32)
                        addr &= len == 0 ? 0 : ~(UINT32_MAX >> len);
                (void) snprintf(text, sizeof(text), "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff,
                                (addr >> 8) & 0xff, addr & 0xff);
                if (len < 32 || (r >> 24) % 4 == 0)
                        (void) snprintf(text + strlen(text), sizeof(text) - strlen(text), "/%u", len);
        } else if (kind < 9) {
                /* IPv6 in 2000::/3, as prefix_format() writes it. */
                unsigned len = (r >> 8) & 1 ? 128 : (unsigned) ((r >> 16) % 129);
                uint8_t addr[16];

                memcpy(addr, &a, 8);
                memcpy(addr + 8, &b, 8);
                addr[0] = (uint8_t) (0x20 | (addr[0] & 0x1f));
                for (unsigned bit = len; bit < 128; bit++)
                        addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
                require(inet_ntop(AF_INET6, addr, text, sizeof(text)), "inet_ntop");
                if (len < 128)
                        (void) snprintf(text + strlen(text), sizeof(text) - strlen(text), "/%u", len);
        } else {
                uint32_t addr = (uint32_t) a;
                (void) snprintf(text, sizeof(text), "::ffff:%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff,
                                (addr >> 8) & 0xff, addr & 0xff);
        }

        /* The expected entry: mapped ones become IPv4. */
        {
                char plain[sizeof(text)];
                const char *t = text;

                if (strncmp(text, "::ffff:", 7) == 0) {
                        (void) snprintf(plain, sizeof(plain), "%s", text + 7);
                        t = plain;
                }
                require(prefix_parse(t, &p) == 0, "generated \"%s\" does not parse", text);
        }

        /* Some lines get a comment, some blanks, some a CRLF. */
        switch ((r >> 32) % 8) {
        case 0:
                fprintf(f, "%s ; SBL%" PRIu64 "\n", text, b % 1000000);
                break;
        case 1:
                fprintf(f, "  %s\t# note\r\n", text);
                break;
        default:
                fprintf(f, "%s\n", text);
        }
        *ret = p;
}

#define ROUND_TRIP_LINES 1000000u

/* A million generated lines: parse -> format -> parse gives the same entries, sorted; timed. */
static void test_round_trip_million(void) {
        _cleanup_free_ struct prefix *expected = calloc(ROUND_TRIP_LINES, sizeof(struct prefix));
        _cleanup_free_ struct prefix *entries = NULL, *again = NULL;
        _cleanup_free_ char *input = NULL, *text = NULL, *text2 = NULL;
        size_t input_len = 0, n = 0, n2 = 0, skipped = 1, len = 0, len2 = 0;
        uint64_t seed = 7, t0, t1, t2, t3, best = UINT64_MAX;
        struct set_file_error e = {};
        FILE *f;
        int r;

        require(expected, "out of memory");
        f = open_memstream(&input, &input_len);
        require(f, "open_memstream");
        fputs("# generated by test-set-file\n", f);
        for (size_t i = 0; i < ROUND_TRIP_LINES; i++)
                random_line(&seed, f, &expected[i]);
        require(fclose(f) == 0, "fclose");

        /* Three runs, the best counts: the first one also pays for page faults. */
        for (unsigned run = 0; run < 3; run++) {
                free(entries);
                entries = NULL;
                t0 = now_nsec();
                r = set_file_parse(input, input_len, false, &entries, &n, &skipped, &e);
                t1 = now_nsec();
                require(r == 0, "parse of %u lines: %d: %s", ROUND_TRIP_LINES, r, e.reason);
                if (t1 - t0 < best)
                        best = t1 - t0;
        }
        check(n == ROUND_TRIP_LINES && skipped == 0, "%zu entries, %zu skipped", n, skipped);
        for (size_t i = 0; i < n && i < ROUND_TRIP_LINES; i++)
                if (!check(prefix_equal(&entries[i], &expected[i]), "entry %zu differs", i))
                        break;

        t1 = now_nsec();
        r = set_file_format(entries, n, &text, &len);
        t2 = now_nsec();
        require(r == 0, "format: %d", r);

        r = set_file_parse(text, len, false, &again, &n2, &skipped, &e);
        t3 = now_nsec();
        require(r == 0, "parse of the formatted text: %d: %s", r, e.reason);
        check(n2 == n, "%zu entries after the round trip, %zu before", n2, n);

        /* Sorted: each entry is >= the one before, and formatting again changes nothing. */
        for (size_t i = 1; i < n2; i++)
                if (!check(prefix_compare(&again[i - 1], &again[i]) <= 0, "entries %zu and %zu out of order", i - 1, i))
                        break;
        r = set_file_format(again, n2, &text2, &len2);
        require(r == 0, "format again: %d", r);
        check(len2 == len && memcmp(text, text2, len) == 0, "formatting is not stable");

        /* The same multiset: sort the originals and compare. */
        qsort(expected, ROUND_TRIP_LINES, sizeof(struct prefix),
              (int (*)(const void *, const void *)) prefix_compare);
        check(n2 == ROUND_TRIP_LINES, "%zu entries after the round trip", n2);
        for (size_t i = 0; i < n2 && i < ROUND_TRIP_LINES; i++)
                if (!check(prefix_equal(&again[i], &expected[i]), "sorted entry %zu lost or changed", i))
                        break;

        printf("parse of %u mixed lines (%zu bytes): %.3f s (best of 3); format: %.3f s; "
               "parse of the canonical text: %.3f s\n",
               ROUND_TRIP_LINES, input_len, best / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9);
}

/* More than SET_FILE_ENTRIES_MAX entries: -E2BIG naming the line, also with skip_invalid. */
static void test_too_many_entries(void) {
        size_t lines = SET_FILE_ENTRIES_MAX + 1, len = lines * 3;
        _cleanup_free_ char *buf = malloc(len);
        _cleanup_free_ struct prefix *entries = NULL;
        struct set_file_error e = {};
        char want[sizeof(e.reason)];
        size_t n = 0, skipped = 0;
        int r;

        require(buf, "out of memory");
        for (size_t i = 0; i < lines; i++)
                memcpy(buf + 3 * i, "::\n", 3);

        r = set_file_parse(buf, len, true, &entries, &n, &skipped, &e);
        (void) snprintf(want, sizeof(want), "line %zu: more than %u entries", lines, SET_FILE_ENTRIES_MAX);
        check(r == -E2BIG && e.line == lines && streq(e.reason, want), "%zu lines: %d, line %zu \"%s\"",
              lines, r, e.line, e.reason);

        /* Exactly the limit is fine. */
        r = set_file_parse(buf, len - 3, false, &entries, &n, &skipped, &e);
        check(r == 0 && n == SET_FILE_ENTRIES_MAX, "%u lines: %d, %zu", SET_FILE_ENTRIES_MAX, r, n);
}

int main(void) {
        test_valid();
        test_invalid();
        test_long_lines();
        test_bad_arguments();
        test_format_sorting();
        test_round_trip_million();
        test_too_many_entries();
        return test_exit_status("test-set-file");
}
