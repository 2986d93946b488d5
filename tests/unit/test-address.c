/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of daemon/address.c: prefix_parse(), prefix_format(),
 * prefix_contains(), prefix_compare(), prefix_equal(), prefix_strerror().
 *
 * Decisions these tests pin down:
 * - A prefix length is decimal digits only and has no leading zero: "/024"
 *   is refused (-ERANGE) because some tools read it as octal (20); "/0" is fine.
 * - Leading zeros inside an IPv4 address ("01.2.3.4") are refused by
 *   inet_pton() for the same reason; IPv6 groups may have them ("0db8").
 * - An IPv4-mapped IPv6 address ("::ffff:192.0.2.1") stays IPv6: it neither
 *   matches nor equals the IPv4 address.
 * - The API takes C strings: input is read up to the first NUL, never past.
 *   A caller holding length-delimited bytes must refuse embedded NULs itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "macro.h"
#include "test-util.h"

/* Valid input and what it must become. */
static const struct {
        const char *input;
        int family;
        unsigned prefixlen;
        const char *canonical;
} valid_cases[] = {
        { "192.0.2.1",                  AF_INET,  32, "192.0.2.1" },
        { "192.0.2.1/32",               AF_INET,  32, "192.0.2.1" },
        { "192.0.2.0/24",               AF_INET,  24, "192.0.2.0/24" },
        { "192.0.2.2/31",               AF_INET,  31, "192.0.2.2/31" },
        { "192.0.2.4/30",               AF_INET,  30, "192.0.2.4/30" },
        { "10.0.0.0/8",                 AF_INET,   8, "10.0.0.0/8" },
        { "10.128.0.0/9",               AF_INET,   9, "10.128.0.0/9" },
        { "128.0.0.0/1",                AF_INET,   1, "128.0.0.0/1" },
        { "0.0.0.0/1",                  AF_INET,   1, "0.0.0.0/1" },
        { "0.0.0.0/0",                  AF_INET,   0, "0.0.0.0/0" },
        { "0.0.0.0",                    AF_INET,  32, "0.0.0.0" },
        { "255.255.255.255",            AF_INET,  32, "255.255.255.255" },
        { "255.255.255.254/31",         AF_INET,  31, "255.255.255.254/31" },
        { "2001:db8::1",                AF_INET6, 128, "2001:db8::1" },
        { "2001:DB8::1",                AF_INET6, 128, "2001:db8::1" },
        { "2001:0db8:0000:0000:0000:0000:0000:0001", AF_INET6, 128, "2001:db8::1" },
        { "2001:db8::1/128",            AF_INET6, 128, "2001:db8::1" },
        { "2001:db8::/32",              AF_INET6,  32, "2001:db8::/32" },
        { "2001:db8::/64",              AF_INET6,  64, "2001:db8::/64" },
        { "2001:db8::8000:0:0:0/65",    AF_INET6,  65, "2001:db8:0:0:8000::/65" },
        { "2001:db8::/127",             AF_INET6, 127, "2001:db8::/127" },
        { "2001:db8::2/127",            AF_INET6, 127, "2001:db8::2/127" },
        { "2001:db8:0:0:1:0:0:1",       AF_INET6, 128, "2001:db8::1:0:0:1" },
        { "fe80::/10",                  AF_INET6,  10, "fe80::/10" },
        { "8000::/1",                   AF_INET6,   1, "8000::/1" },
        { "::/0",                       AF_INET6,   0, "::/0" },
        { "::",                         AF_INET6, 128, "::" },
        { "::1",                        AF_INET6, 128, "::1" },
        { "::1/128",                    AF_INET6, 128, "::1" },
        { "00::1",                      AF_INET6, 128, "::1" },
        { "1:2:3:4:5:6:7::",            AF_INET6, 128, "1:2:3:4:5:6:7:0" },
        { "::ffff:192.0.2.1",           AF_INET6, 128, "::ffff:192.0.2.1" },
        { "::ffff:c000:0201",           AF_INET6, 128, "::ffff:192.0.2.1" },
        { "::ffff:192.0.2.0/120",       AF_INET6, 120, "::ffff:192.0.2.0/120" },
        { "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", AF_INET6, 128,
          "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
        /* Exactly the longest text inet_pton() can take (INET6_ADDRSTRLEN - 1). */
        { "0000:0000:0000:0000:0000:ffff:255.255.255.255", AF_INET6, 128, "::ffff:255.255.255.255" },
        { "0000:0000:0000:0000:0000:ffff:255.255.255.255/128", AF_INET6, 128, "::ffff:255.255.255.255" },
};

/* Invalid input and the error it must give. */
static const struct {
        const char *input;
        int error;
} invalid_cases[] = {
        /* Not an address at all. */
        { "",                           -EINVAL },
        { " ",                          -EINVAL },
        { "/",                          -EINVAL },
        { "/24",                        -EINVAL },
        { "abc",                        -EINVAL },
        { "localhost",                  -EINVAL },
        { "abc/24",                     -EINVAL },
        { "abc/99",                     -EINVAL },      /* the address is judged first */
        { "1.2.3",                      -EINVAL },
        { "1.2.3/24",                   -EINVAL },
        { "1.2.3.4.5",                  -EINVAL },
        { "1.2.3.",                     -EINVAL },
        { ".1.2.3",                     -EINVAL },
        { "1..2.3",                     -EINVAL },
        { "256.0.0.1",                  -EINVAL },
        { "1.2.3.256",                  -EINVAL },
        { "01.2.3.4",                   -EINVAL },
        { "1.2.3.04",                   -EINVAL },
        { "0x1.2.3.4",                  -EINVAL },
        { "1.2.3.0x4",                  -EINVAL },
        { "1.2.3.-4",                   -EINVAL },
        { "+1.2.3.4",                   -EINVAL },
        { "-1.2.3.4",                   -EINVAL },
        { "16909060",                   -EINVAL },      /* inet_aton() would take it */
        { "1.2.3.4 /24",                -EINVAL },
        { " 192.0.2.1",                 -EINVAL },
        { "192.0.2.1 ",                 -EINVAL },
        { "\t192.0.2.1",                -EINVAL },
        { "192.0.2.1\n",                -EINVAL },
        { "192. 0.2.1",                 -EINVAL },
        { "2001:db8::1::2",             -EINVAL },
        { "2001:db8:::1",               -EINVAL },
        { "12345::1",                   -EINVAL },
        { "::00001",                    -EINVAL },
        { "1:2:3:4:5:6:7:8:9",          -EINVAL },
        { "1:2:3:4:5:6:7",              -EINVAL },
        { "fe80::1%eth0",               -EINVAL },      /* no zone index */
        { "fe80::1%eth0/64",            -EINVAL },
        { "[::1]",                      -EINVAL },
        { "[::1]/128",                  -EINVAL },
        { "::ffff:01.2.3.4",            -EINVAL },
        { "g::1",                       -EINVAL },
        { " ::1",                       -EINVAL },
        { "::1 ",                       -EINVAL },
        /* One character past the longest valid text: must not be truncated into a valid one. */
        { "0000:0000:0000:0000:0000:ffff:255.255.255.2551", -EINVAL },
        { "00000:0000:0000:0000:0000:ffff:255.255.255.255", -EINVAL },

        /* Bad prefix lengths. */
        { "192.0.2.0/",                 -ERANGE },
        { "192.0.2.0//24",              -ERANGE },
        { "192.0.2.0/24/",              -ERANGE },
        { "192.0.2.0/24/24",            -ERANGE },
        { "192.0.2.0/-1",               -ERANGE },
        { "192.0.2.0/-0",               -ERANGE },
        { "192.0.2.0/+24",              -ERANGE },
        { "192.0.2.0/ 24",              -ERANGE },
        { "192.0.2.0/24 ",              -ERANGE },
        { "192.0.2.0/2 4",              -ERANGE },
        { "192.0.2.0/24\n",             -ERANGE },
        { "192.0.2.0/024",              -ERANGE },      /* octal to some tools: refuse to guess */
        { "192.0.2.0/00",               -ERANGE },
        { "0.0.0.0/00",                 -ERANGE },
        { "192.0.2.0/0x18",             -ERANGE },
        { "192.0.2.0/1e1",              -ERANGE },
        { "192.0.2.0/24.0",             -ERANGE },
        { "192.0.2.0/abc",              -ERANGE },
        { "1.2.3.4/33",                 -ERANGE },
        { "0.0.0.0/33",                 -ERANGE },
        { "1.2.3.4/-1",                 -ERANGE },
        { "192.0.2.0/255",              -ERANGE },
        { "192.0.2.0/256",              -ERANGE },      /* would wrap a uint8_t to 0 */
        { "192.0.2.0/280",              -ERANGE },      /* would wrap a uint8_t to 24 */
        { "192.0.2.0/4294967320",       -ERANGE },      /* would wrap a uint32_t to 24 */
        { "192.0.2.0/18446744073709551640", -ERANGE },  /* would wrap a uint64_t to 24 */
        { "192.0.2.0/99999999999999999999999999999999", -ERANGE },
        { "::/129",                     -ERANGE },
        { "::/256",                     -ERANGE },
        { "::/384",                     -ERANGE },      /* would wrap a uint8_t to 128 */
        { "::/1000",                    -ERANGE },
        { "::/",                        -ERANGE },
        { "2001:db8::/032",             -ERANGE },
        { "2001:db8::/ 32",             -ERANGE },
        { "2001:db8::/-32",             -ERANGE },

        /* Host bits set past the prefix length. */
        { "192.0.2.1/24",               -EDOM },
        { "192.0.2.3/31",               -EDOM },
        { "192.0.2.1/31",               -EDOM },
        { "0.0.0.1/0",                  -EDOM },
        { "128.0.0.0/0",                -EDOM },
        { "255.255.255.255/0",          -EDOM },
        { "10.192.0.0/9",               -EDOM },
        { "192.0.2.128/24",             -EDOM },
        { "2001:db8::1/64",             -EDOM },
        { "2001:db8::1/127",            -EDOM },
        { "2001:db8::/16",              -EDOM },
        { "::1/127",                    -EDOM },
        { "::1/0",                      -EDOM },
        { "8000::/0",                   -EDOM },
        { "2001:db8::4000:0:0:0/65",    -EDOM },
        { "::ffff:192.0.2.1/120",       -EDOM },
};

static void fill_sentinel(struct prefix *p) {
        memset(p, 0xa5, sizeof(*p));
}

static bool is_sentinel(const struct prefix *p) {
        struct prefix s;

        fill_sentinel(&s);
        return memcmp(p, &s, sizeof(s)) == 0;
}

static void test_valid(void) {
        for (size_t i = 0; i < ELEMENTSOF(valid_cases); i++) {
                const char *input = valid_cases[i].input;
                char buf[PREFIX_STRING_MAX], buf2[PREFIX_STRING_MAX];
                struct prefix p, again;
                int r;

                fill_sentinel(&p);
                r = prefix_parse(input, &p);
                if (!check(r == 0, "\"%s\": got %d (%s)", input, r, prefix_strerror(r)))
                        continue;

                check(p.family == valid_cases[i].family, "\"%s\": family %d", input, p.family);
                check(p.prefixlen == valid_cases[i].prefixlen, "\"%s\": prefixlen %u, want %u",
                      input, p.prefixlen, valid_cases[i].prefixlen);
                if (p.family == AF_INET) {
                        static const uint8_t zero[12] = {};

                        check(memcmp(p.addr + 4, zero, sizeof(zero)) == 0,
                              "\"%s\": bytes past an IPv4 address are not zero", input);
                }

                prefix_format(&p, buf);
                check(streq(buf, valid_cases[i].canonical), "\"%s\": formatted \"%s\", want \"%s\"",
                      input, buf, valid_cases[i].canonical);

                /* The canonical text parses back to the same prefix and formats the same. */
                fill_sentinel(&again);
                r = prefix_parse(buf, &again);
                check(r == 0, "canonical \"%s\" of \"%s\" does not parse: %d", buf, input, r);
                check(prefix_equal(&p, &again), "\"%s\" and its canonical \"%s\" differ", input, buf);
                check(prefix_compare(&p, &again) == 0, "\"%s\": compare with itself is not 0", input);
                prefix_format(&again, buf2);
                check(streq(buf, buf2), "\"%s\": formatting is not stable: \"%s\" then \"%s\"", input, buf, buf2);
                check(strlen(buf) < PREFIX_STRING_MAX, "\"%s\": too long", buf);
        }
}

static void test_invalid(void) {
        for (size_t i = 0; i < ELEMENTSOF(invalid_cases); i++) {
                const char *input = invalid_cases[i].input;
                struct prefix p;
                int r;

                fill_sentinel(&p);
                r = prefix_parse(input, &p);
                check(r == invalid_cases[i].error, "\"%s\": got %d (%s), want %d (%s)", input,
                      r, r < 0 ? prefix_strerror(r) : "accepted",
                      invalid_cases[i].error, prefix_strerror(invalid_cases[i].error));
                check(is_sentinel(&p), "\"%s\": result written on failure", input);
        }
}

/* Whitespace anywhere around a valid input makes it invalid. */
static void test_whitespace(void) {
        static const char spaces[] = " \t\n\r\v\f";

        for (size_t i = 0; i < ELEMENTSOF(valid_cases); i++)
                for (const char *sp = spaces; *sp; sp++) {
                        char buf[128];
                        struct prefix p;
                        int r;

                        (void) snprintf(buf, sizeof(buf), "%c%s", *sp, valid_cases[i].input);
                        r = prefix_parse(buf, &p);
                        check(r < 0, "\"%s\" with leading 0x%02x accepted", valid_cases[i].input, *sp);

                        (void) snprintf(buf, sizeof(buf), "%s%c", valid_cases[i].input, *sp);
                        r = prefix_parse(buf, &p);
                        check(r < 0, "\"%s\" with trailing 0x%02x accepted", valid_cases[i].input, *sp);
                }
}

/* Every prefix length in range is accepted, every one past it refused. */
static void test_all_lengths(void) {
        for (unsigned len = 0; len <= 1000; len++) {
                char buf[64];
                struct prefix p;
                int r;

                (void) snprintf(buf, sizeof(buf), "0.0.0.0/%u", len);
                r = prefix_parse(buf, &p);
                if (len <= 32)
                        check(r == 0 && p.family == AF_INET && p.prefixlen == len, "\"%s\": %d", buf, r);
                else
                        check(r == -ERANGE, "\"%s\": %d", buf, r);

                (void) snprintf(buf, sizeof(buf), "::/%u", len);
                r = prefix_parse(buf, &p);
                if (len <= 128)
                        check(r == 0 && p.family == AF_INET6 && p.prefixlen == len, "\"%s\": %d", buf, r);
                else
                        check(r == -ERANGE, "\"%s\": %d", buf, r);
        }
}

static void test_long_strings(void) {
        static const size_t sizes[] = { 45, 46, 47, 64, 255, 4096, 1 << 20 };

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                size_t n = sizes[i];
                _cleanup_free_ char *s = malloc(n + 1);
                struct prefix p;
                int r;

                require(s, "out of memory");

                /* Digits, colons, a valid address followed by more digits, a huge length. */
                memset(s, '1', n);
                s[n] = '\0';
                r = prefix_parse(s, &p);
                check(r == -EINVAL, "%zu times '1': %d", n, r);

                memset(s, ':', n);
                r = prefix_parse(s, &p);
                check(r == -EINVAL, "%zu colons: %d", n, r);

                memset(s, '0', n);
                memcpy(s, "192.0.2.1", strlen("192.0.2.1"));
                r = prefix_parse(s, &p);
                check(r == -EINVAL, "192.0.2.1 and zeros, %zu bytes: %d", n, r);

                memset(s, '0', n);
                memcpy(s, "192.0.2.0/", strlen("192.0.2.0/"));
                s[n - 2] = '2';
                s[n - 1] = '4';
                r = prefix_parse(s, &p);
                check(r == -ERANGE, "192.0.2.0/000...24, %zu bytes: %d", n, r);

                memset(s, '9', n);
                memcpy(s, "::/", 3);
                r = prefix_parse(s, &p);
                check(r == -ERANGE, "::/999..., %zu bytes: %d", n, r);
        }
}

/* The parser reads up to the first NUL and never past it. */
static void test_embedded_nul(void) {
        static const char with_nul[] = "192.0.2.1\0/33";
        static const char nul_in_len[] = "192.0.2.0/2\0" "4";
        static const char nul_first[] = "\0" "192.0.2.1";
        char buf[PREFIX_STRING_MAX];
        struct prefix p;
        int r;

        check(sizeof(with_nul) - 1 > strlen(with_nul), "test data has no embedded NUL");

        r = prefix_parse(with_nul, &p);
        check(r == 0 && p.prefixlen == 32 && streq(prefix_format(&p, buf), "192.0.2.1"),
              "text after an embedded NUL was read: %d", r);

        r = prefix_parse(nul_in_len, &p);
        check(r == -EDOM, "\"192.0.2.0/2\\0" "4\" should be read as /2: %d", r);

        r = prefix_parse(nul_first, &p);
        check(r == -EINVAL, "a leading NUL is an empty string: %d", r);

        r = prefix_parse(NULL, &p);
        check(r == -EINVAL, "NULL input: %d", r);
        r = prefix_parse("192.0.2.1", NULL);
        check(r == -EINVAL, "NULL result: %d", r);
}

static void test_mapped_stays_ipv6(void) {
        struct prefix v4, mapped, mapped_net;
        uint8_t a4[4], a6[16];

        require(prefix_parse("192.0.2.1", &v4) == 0, "parse");
        require(prefix_parse("::ffff:192.0.2.1", &mapped) == 0, "parse");
        require(prefix_parse("::ffff:192.0.2.0/120", &mapped_net) == 0, "parse");
        require(inet_pton(AF_INET, "192.0.2.1", a4) == 1, "inet_pton");
        require(inet_pton(AF_INET6, "::ffff:192.0.2.1", a6) == 1, "inet_pton");

        check(mapped.family == AF_INET6, "mapped address became family %d", mapped.family);
        check(!prefix_equal(&v4, &mapped), "IPv4 and IPv4-mapped IPv6 are equal");
        check(prefix_compare(&v4, &mapped) < 0, "IPv4 does not sort before IPv6");
        check(!prefix_contains(&mapped_net, AF_INET, a4), "::ffff:192.0.2.0/120 contains IPv4 192.0.2.1");
        check(prefix_contains(&mapped_net, AF_INET6, a6), "::ffff:192.0.2.0/120 misses ::ffff:192.0.2.1");
        check(!prefix_contains(&v4, AF_INET6, a6), "192.0.2.1 contains ::ffff:192.0.2.1");
}

/* prefix_contains() at the edge lengths, by hand. */
static const struct {
        const char *prefix;
        const char *address;
        bool contained;
} contains_cases[] = {
        { "0.0.0.0/0",          "0.0.0.0",              true },
        { "0.0.0.0/0",          "255.255.255.255",      true },
        { "0.0.0.0/0",          "::",                   false },
        { "128.0.0.0/1",        "128.0.0.0",            true },
        { "128.0.0.0/1",        "255.255.255.255",      true },
        { "128.0.0.0/1",        "127.255.255.255",      false },
        { "0.0.0.0/1",          "127.255.255.255",      true },
        { "0.0.0.0/1",          "128.0.0.0",            false },
        { "10.128.0.0/9",       "10.128.0.1",           true },
        { "10.128.0.0/9",       "10.255.255.255",       true },
        { "10.128.0.0/9",       "10.127.255.255",       false },
        { "10.128.0.0/9",       "11.128.0.0",           false },
        { "192.0.2.0/24",       "192.0.2.255",          true },
        { "192.0.2.0/24",       "192.0.3.0",            false },
        { "192.0.2.2/31",       "192.0.2.2",            true },
        { "192.0.2.2/31",       "192.0.2.3",            true },
        { "192.0.2.2/31",       "192.0.2.1",            false },
        { "192.0.2.2/31",       "192.0.2.4",            false },
        { "192.0.2.1/32",       "192.0.2.1",            true },
        { "192.0.2.1",          "192.0.2.0",            false },
        { "192.0.2.1",          "192.0.2.2",            false },
        { "192.0.2.1",          "193.0.2.1",            false },
        { "255.255.255.255",    "255.255.255.255",      true },
        { "255.255.255.255",    "255.255.255.254",      false },
        { "::/0",               "::",                   true },
        { "::/0",               "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true },
        { "::/0",               "0.0.0.0",              false },
        { "8000::/1",           "8000::",               true },
        { "8000::/1",           "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false },
        { "::/1",               "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true },
        { "2001:db8::/32",      "2001:db8:ffff::1",     true },
        { "2001:db8::/32",      "2001:db9::",           false },
        { "2001:db8::/64",      "2001:db8::ffff:ffff:ffff:ffff", true },
        { "2001:db8::/64",      "2001:db8:0:1::",       false },
        { "2001:db8::8000:0:0:0/65", "2001:db8::ffff:0:0:1", true },
        { "2001:db8::8000:0:0:0/65", "2001:db8::7fff:0:0:1", false },
        { "2001:db8::/127",     "2001:db8::",           true },
        { "2001:db8::/127",     "2001:db8::1",          true },
        { "2001:db8::/127",     "2001:db8::2",          false },
        { "2001:db8::2/127",    "2001:db8::3",          true },
        { "2001:db8::2/127",    "2001:db8::1",          false },
        { "2001:db8::1",        "2001:db8::1",          true },
        { "2001:db8::1",        "2001:db8::",           false },
        { "2001:db8::1",        "2001:db8::3",          false },
        { "2001:db8::1",        "2001:db8::1:0:0:1",    false },
        { "::1",                "::1",                  true },
        { "::1",                "::",                   false },
        { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", false },
};

static void test_contains(void) {
        for (size_t i = 0; i < ELEMENTSOF(contains_cases); i++) {
                const char *ps = contains_cases[i].prefix, *as = contains_cases[i].address;
                uint8_t addr[16] = {};
                struct prefix p;
                int family;

                require(prefix_parse(ps, &p) == 0, "case %zu: \"%s\" does not parse", i, ps);
                family = strchr(as, ':') ? AF_INET6 : AF_INET;
                require(inet_pton(family, as, addr) == 1, "case %zu: \"%s\" does not parse", i, as);

                check(prefix_contains(&p, family, addr) == contains_cases[i].contained,
                      "%s contains %s: want %s", ps, as, contains_cases[i].contained ? "yes" : "no");
        }
}

static bool bit(const uint8_t *addr, unsigned i) {
        return (addr[i / 8] >> (7 - i % 8)) & 1;
}

/* A reference written for clarity, bit by bit, against the real one. */
static bool reference_contains(const struct prefix *p, const uint8_t *addr) {
        for (unsigned i = 0; i < p->prefixlen; i++)
                if (bit(p->addr, i) != bit(addr, i))
                        return false;
        return true;
}

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

static void test_random_round_trip_and_contains(void) {
        uint64_t seed = 0x5eed;

        for (unsigned n = 0; n < 200000; n++) {
                int family = n % 2 ? AF_INET6 : AF_INET;
                unsigned bits = family == AF_INET ? 32 : 128;
                char buf[PREFIX_STRING_MAX];
                struct prefix p, again;
                uint8_t addr[16] = {};
                int r;

                random_prefix(&seed, family, &p);

                prefix_format(&p, buf);
                r = prefix_parse(buf, &again);
                check(r == 0 && prefix_equal(&p, &again),
                      "seed-case %u: \"%s\" does not round-trip (%d)", n, buf, r);

                /* An address near the prefix: inside, or one bit flipped. */
                memcpy(addr, p.addr, bits / 8);
                for (unsigned i = p.prefixlen; i < bits; i++)
                        if (test_random(&seed) & 1)
                                addr[i / 8] |= (uint8_t) (0x80 >> (i % 8));
                if (test_random(&seed) % 2) {
                        unsigned flip = (unsigned) (test_random(&seed) % bits);
                        addr[flip / 8] ^= (uint8_t) (0x80 >> (flip % 8));
                }

                check(prefix_contains(&p, family, addr) == reference_contains(&p, addr),
                      "seed-case %u: %s contains address: real %d, reference %d", n, buf,
                      prefix_contains(&p, family, addr), reference_contains(&p, addr));
        }
}

static void test_compare(void) {
        static const char *const sorted[] = {
                "0.0.0.0/0",
                "0.0.0.0/1",
                "0.0.0.0",
                "10.0.0.0/8",
                "10.0.0.0/16",
                "10.0.1.0/24",
                "192.0.2.0/24",
                "192.0.2.0/25",
                "192.0.2.1",
                "255.255.255.255",
                "::/0",
                "::",
                "::1",
                "::ffff:192.0.2.1",
                "2001:db8::/32",
                "2001:db8::/64",
                "2001:db8::1",
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        };
        struct prefix p[ELEMENTSOF(sorted)];

        for (size_t i = 0; i < ELEMENTSOF(sorted); i++)
                require(prefix_parse(sorted[i], &p[i]) == 0, "\"%s\" does not parse", sorted[i]);

        for (size_t i = 0; i < ELEMENTSOF(sorted); i++)
                for (size_t j = 0; j < ELEMENTSOF(sorted); j++) {
                        int want = i < j ? -1 : i > j ? 1 : 0;
                        int got = prefix_compare(&p[i], &p[j]);

                        check(got == want, "compare(%s, %s) = %d, want %d", sorted[i], sorted[j], got, want);
                        check(prefix_equal(&p[i], &p[j]) == (i == j), "equal(%s, %s)", sorted[i], sorted[j]);
                }

        /* Bytes past an IPv4 address do not count. */
        struct prefix a = p[8], b = p[8];
        memset(b.addr + 4, 0xff, 12);
        check(prefix_equal(&a, &b) && prefix_compare(&a, &b) == 0, "IPv4 compare looks past 4 bytes");
}

static void test_strerror(void) {
        const char *einval = prefix_strerror(-EINVAL);
        const char *erange = prefix_strerror(-ERANGE);
        const char *edom = prefix_strerror(-EDOM);

        check(einval && *einval && erange && *erange && edom && *edom, "empty reason");
        check(!streq(einval, erange) && !streq(erange, edom) && !streq(einval, edom),
              "reasons are not distinct");
        check(strstr(erange, "0-32") && strstr(erange, "0-128"), "\"%s\" does not give the ranges", erange);
        check(streq(prefix_strerror(EINVAL), einval), "positive errno gives another reason");
        check(prefix_strerror(-ENOMEM) && *prefix_strerror(-ENOMEM), "unknown errno gives no reason");

        printf("reasons: EINVAL \"%s\"; ERANGE \"%s\"; EDOM \"%s\"\n", einval, erange, edom);
}

static void test_format_invalid(void) {
        char buf[PREFIX_STRING_MAX];
        struct prefix p = { .family = AF_UNSPEC };

        check(streq(prefix_format(&p, buf), "(invalid)"), "unknown family formats as \"%s\"", buf);
        p = (struct prefix) { .family = AF_INET, .prefixlen = 33 };
        check(streq(prefix_format(&p, buf), "(invalid)"), "/33 formats as \"%s\"", buf);
}

int main(void) {
        test_valid();
        test_invalid();
        test_whitespace();
        test_all_lengths();
        test_long_strings();
        test_embedded_nul();
        test_mapped_stays_ipv6();
        test_contains();
        test_random_round_trip_and_contains();
        test_compare();
        test_strerror();
        test_format_invalid();

        printf("%zu valid, %zu invalid, %zu contains cases\n",
               ELEMENTSOF(valid_cases), ELEMENTSOF(invalid_cases), ELEMENTSOF(contains_cases));
        return test_exit_status("test-address");
}
