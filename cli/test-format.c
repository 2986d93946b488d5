/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of packetfilterctl's pure helpers: durations, time spans, byte sizes, tables. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "format.h"

static unsigned failures;

#define CHECK(cond, ...)                                                        \
        do {                                                                    \
                if (!(cond)) {                                                  \
                        fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);   \
                        fprintf(stderr, __VA_ARGS__);                           \
                        fputc('\n', stderr);                                    \
                        failures++;                                             \
                }                                                               \
        } while (0)

static void test_parse_duration(void) {
        static const struct {
                const char *text;
                int ret;
                uint64_t sec;
        } cases[] = {
                { "0",          0,       0 },
                { "90",         0,       90 },
                { "30s",        0,       30 },
                { "10m",        0,       600 },
                { "1h",         0,       3600 },
                { "2d",         0,       172800 },
                { "1h30m",      0,       5400 },
                { "1d2h3m4s",   0,       93784 },
                { "0s",         0,       0 },
                { "4294967295", 0,       4294967295 },
                { "18446744073709551615", 0, UINT64_MAX },
                { "18446744073709551616", -ERANGE, 0 },
                { "213503982334601d",     0, UINT64_C(213503982334601) * 86400 },
                { "213503982334602d",     -ERANGE, 0 },
                { "18446744073709551615s1s", -ERANGE, 0 },
                { "",           -EINVAL, 0 },
                { "s",          -EINVAL, 0 },
                { "-5",         -EINVAL, 0 },
                { "+5",         -EINVAL, 0 },
                { " 5",         -EINVAL, 0 },
                { "5 ",         -EINVAL, 0 },
                { "5x",         -EINVAL, 0 },
                { "1.5h",       -EINVAL, 0 },
                { "1h30",       -EINVAL, 0 },
                { "1h 30m",     -EINVAL, 0 },
                { "5S",         -EINVAL, 0 },
                { "h1",         -EINVAL, 0 },
                { "0x10",       -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t sec = 12345;
                int r = parse_duration_sec(cases[i].text, &sec);

                CHECK(r == cases[i].ret, "parse_duration_sec(\"%s\") returned %d, expected %d",
                      cases[i].text, r, cases[i].ret);
                if (cases[i].ret == 0)
                        CHECK(sec == cases[i].sec, "parse_duration_sec(\"%s\") gave %" PRIu64 ", expected %" PRIu64,
                              cases[i].text, sec, cases[i].sec);
                else
                        CHECK(sec == 12345, "parse_duration_sec(\"%s\") wrote its result on failure", cases[i].text);
        }

        CHECK(parse_duration_sec(NULL, &(uint64_t) { 0 }) == -EINVAL, "parse_duration_sec(NULL) accepted");
}

static void test_format_duration(void) {
        static const struct {
                uint64_t sec;
                const char *text;
        } cases[] = {
                { 0,            "0s" },
                { 1,            "1s" },
                { 60,           "1m" },
                { 3599,         "59m59s" },
                { 3600,         "1h" },
                { 3601,         "1h1s" },
                { 93784,        "1d2h3m4s" },
                { 86400 * 400,  "400d" },
                { UINT32_MAX,   "49710d6h28m15s" },
                { UINT64_MAX,   "213503982334601d7h15s" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[FORMAT_BUFFER_MAX];
                uint64_t back = 0;

                format_duration_sec(buf, sizeof(buf), cases[i].sec);
                CHECK(streq(buf, cases[i].text), "format_duration_sec(%" PRIu64 ") gave \"%s\", expected \"%s\"",
                      cases[i].sec, buf, cases[i].text);
                /* What it writes, parse_duration_sec() reads back exactly. */
                CHECK(parse_duration_sec(buf, &back) == 0 && back == cases[i].sec,
                      "\"%s\" does not parse back to %" PRIu64, buf, cases[i].sec);
        }

        /* Every second of the first day, and a sweep beyond, round trip. */
        for (uint64_t s = 0; s < 200000; s += s < 86400 ? 1 : 997) {
                char buf[FORMAT_BUFFER_MAX];
                uint64_t back = 0;

                format_duration_sec(buf, sizeof(buf), s);
                if (!(parse_duration_sec(buf, &back) == 0 && back == s)) {
                        CHECK(false, "format_duration_sec(%" PRIu64 ") = \"%s\" does not parse back", s, buf);
                        break;
                }
        }
}

static void test_parse_numbers(void) {
        static const struct {
                const char *text;
                int ret32;              /* parse_uint32 */
                uint32_t u;
                int reti;               /* parse_int32 */
                int32_t i;
        } cases[] = {
                { "0",           0, 0,          0, 0 },
                { "42",          0, 42,         0, 42 },
                { "007",         0, 7,          0, 7 },
                { "4294967295",  0, UINT32_MAX, -ERANGE, 0 },
                { "4294967296",  -ERANGE, 0,    -ERANGE, 0 },
                { "2147483647",  0, 2147483647, 0, INT32_MAX },
                { "2147483648",  0, 2147483648u, -ERANGE, 0 },
                { "-2147483648", -EINVAL, 0,    0, INT32_MIN },
                { "-2147483649", -EINVAL, 0,    -ERANGE, 0 },
                { "+5",          -EINVAL, 0,    0, 5 },
                { "-0",          -EINVAL, 0,    0, 0 },
                { "",            -EINVAL, 0,    -EINVAL, 0 },
                { "-",           -EINVAL, 0,    -EINVAL, 0 },
                { " 1",          -EINVAL, 0,    -EINVAL, 0 },
                { "1 ",          -EINVAL, 0,    -EINVAL, 0 },
                { "0x10",        -EINVAL, 0,    -EINVAL, 0 },
                { "1e3",         -EINVAL, 0,    -EINVAL, 0 },
                { "99999999999999999999999", -ERANGE, 0, -ERANGE, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint32_t u = 12345;
                int32_t v = 12345;
                int r;

                r = parse_uint32(cases[i].text, &u);
                CHECK(r == cases[i].ret32 && (r < 0 ? u == 12345 : u == cases[i].u),
                      "parse_uint32(\"%s\") = %d, %" PRIu32, cases[i].text, r, u);
                r = parse_int32(cases[i].text, &v);
                CHECK(r == cases[i].reti && (r < 0 ? v == 12345 : v == cases[i].i),
                      "parse_int32(\"%s\") = %d, %" PRId32, cases[i].text, r, v);
        }
}

static void test_format_timespan(void) {
        static const struct {
                uint64_t sec;
                const char *text;
        } cases[] = {
                { 0,            "0s" },
                { 1,            "1s" },
                { 59,           "59s" },
                { 60,           "1m" },
                { 61,           "1m 1s" },
                { 598,          "9m 58s" },
                { 3600,         "1h" },
                { 3605,         "1h" },         /* rounded to the minute */
                { 3631,         "1h 1m" },
                { 3599,         "59m 59s" },
                { 86399,        "1d" },         /* 23h 59m 59s, rounded to the hour */
                { 93597,        "1d 2h" },
                { 91800,        "1d 2h" },      /* half an hour rounds up */
                { 91799,        "1d 1h" },
                { 5400,         "1h 30m" },
                { 86400,        "1d" },
                { 183600,       "2d 3h" },
                { 172805,       "2d" },
                { 176400,       "2d 1h" },
                { 180000,       "2d 2h" },
                { UINT64_MAX,   "213503982334601d 7h" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[FORMAT_BUFFER_MAX];

                format_timespan_sec(buf, sizeof(buf), cases[i].sec);
                CHECK(streq(buf, cases[i].text), "format_timespan_sec(%" PRIu64 ") gave \"%s\", expected \"%s\"",
                      cases[i].sec, buf, cases[i].text);
        }

        /* Truncation never overflows, and leaves a terminated string. */
        char small[4];
        format_timespan_sec(small, sizeof(small), 183600);
        CHECK(strlen(small) < sizeof(small), "format_timespan_sec overflowed a small buffer");
}

static void test_format_bytes(void) {
        static const struct {
                uint64_t bytes;
                const char *text;
        } cases[] = {
                { 0,                            "0B" },
                { 1,                            "1B" },
                { 1023,                         "1023B" },
                { 1024,                         "1.0K" },
                { 1536,                         "1.5K" },
                { 2047,                         "1.9K" },       /* rounded down, never up */
                { 1024 * 1024 - 1,              "1023.9K" },
                { 1024 * 1024,                  "1.0M" },
                { UINT64_C(5) << 30,            "5.0G" },
                { UINT64_C(3) << 40,            "3.0T" },
                { UINT64_C(1) << 50,            "1.0P" },
                { UINT64_C(1) << 60,            "1.0E" },
                { UINT64_MAX,                   "15.9E" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[FORMAT_BUFFER_MAX];

                format_bytes(buf, sizeof(buf), cases[i].bytes);
                CHECK(streq(buf, cases[i].text), "format_bytes(%" PRIu64 ") gave \"%s\", expected \"%s\"",
                      cases[i].bytes, buf, cases[i].text);
        }
}

static void test_table(void) {
        static const char *const headers[] = { "ID", "SOURCE", "PACKETS" };
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_free_ char *out = NULL;
        size_t size = 0;

        t = table_new(ELEMENTSOF(headers), headers);
        CHECK(t, "table_new failed");
        if (!t)
                return;
        table_set_right_aligned(t, 0, true);
        table_set_right_aligned(t, 2, true);

        CHECK(table_add_row(t, (const char *const[]) { "1", "192.0.2.0/24", "5" }) == 0, "table_add_row failed");
        CHECK(table_add_row(t, (const char *const[]) { "12", "2001:db8::1", "123456" }) == 0, "table_add_row failed");
        CHECK(table_add_row(t, (const char *const[]) { "3", NULL, "0" }) == 0, "table_add_row failed");
        CHECK(table_get_rows(t) == 3, "table has %zu rows, expected 3", table_get_rows(t));

        FILE *f = open_memstream(&out, &size);
        CHECK(f, "open_memstream failed");
        if (!f)
                return;
        CHECK(table_print(t, f) == 0, "table_print failed");
        fclose(f);

        const char *expected =
                "ID  SOURCE        PACKETS\n"
                " 1  192.0.2.0/24        5\n"
                "12  2001:db8::1    123456\n"
                " 3                      0\n";
        CHECK(streq(out, expected), "table printed as:\n%s\nexpected:\n%s", out, expected);

        /* Without header, and with a left-aligned last column: no trailing blanks. */
        _cleanup_(table_freep) Table *u = table_new(2, (const char *const[]) { "K", "V" });
        _cleanup_free_ char *out2 = NULL;
        CHECK(u, "table_new failed");
        if (!u)
                return;
        table_set_show_header(u, false);
        table_set_separator(u, " ");
        (void) table_add_row(u, (const char *const[]) { "packets", "1" });
        (void) table_add_row(u, (const char *const[]) { "non-ip", "22" });
        f = open_memstream(&out2, &size);
        if (!f)
                return;
        CHECK(table_print(u, f) == 0, "table_print failed");
        fclose(f);
        CHECK(streq(out2, "packets 1\nnon-ip  22\n"), "headerless table printed as:\n%s", out2);
}

int main(void) {
        test_parse_duration();
        test_format_duration();
        test_parse_numbers();
        test_format_timespan();
        test_format_bytes();
        test_table();

        if (failures > 0) {
                fprintf(stderr, "%u check(s) failed\n", failures);
                return 1;
        }
        printf("all checks passed\n");
        return 0;
}
