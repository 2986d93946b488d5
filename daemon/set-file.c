/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "macro.h"
#include "set-file.h"

/* Bytes of an entry shown in a message; the rest becomes "...". */
#define SET_FILE_QUOTE_MAX 64

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Where an entry ends: a blank, or a comment right after it ("192.0.2.1#x"). */
static bool ends_entry(char c) {
        return is_blank(c) || c == '#' || c == ';';
}

static void set_file_error_set(struct set_file_error *e, size_t line, const char *format, ...) _printf_(3, 4);
static void set_file_error_set(struct set_file_error *e, size_t line, const char *format, ...) {
        int n;
        va_list ap;

        if (!e)
                return;
        e->line = line;
        n = snprintf(e->reason, sizeof(e->reason), "line %zu: ", line);
        if (n < 0 || (size_t) n >= sizeof(e->reason))
                return;
        va_start(ap, format);
        (void) vsnprintf(e->reason + n, sizeof(e->reason) - (size_t) n, format, ap);
        va_end(ap);
}

/* The entry as it can appear in a message (and so on the bus): printable ASCII only, cut short. */
static const char *quote_entry(const char *s, size_t n, char buf[static SET_FILE_QUOTE_MAX + 4]) {
        bool cut = n > SET_FILE_QUOTE_MAX;

        if (cut)
                n = SET_FILE_QUOTE_MAX;
        for (size_t i = 0; i < n; i++)
                buf[i] = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
        strcpy(buf + n, cut ? "..." : "");
        return buf;
}

/*
 * The common case without inet_pton(): dotted-quad IPv4, each octet 0-255
 * without a leading zero, an optional length 0-32 without one. Returns false
 * for anything else (no error: the caller asks prefix_parse(), which knows
 * what is wrong), so it accepts a subset of what prefix_parse() accepts, with
 * the same result.
 */
static bool parse_ipv4_fast(const char *s, size_t n, struct prefix *ret) {
        uint8_t addr[4];
        unsigned prefixlen = 32;
        size_t i = 0;

        for (unsigned octet = 0; octet < 4; octet++) {
                unsigned value = 0, digits = 0;

                if (octet > 0) {
                        if (i >= n || s[i] != '.')
                                return false;
                        i++;
                }
                while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 4) {
                        value = value * 10 + (unsigned) (s[i] - '0');
                        digits++;
                        i++;
                }
                if (digits == 0 || digits > 3 || value > 255 || (digits > 1 && s[i - digits] == '0'))
                        return false;
                addr[octet] = (uint8_t) value;
        }

        if (i < n) {
                unsigned digits = 0;

                if (s[i] != '/')
                        return false;
                i++;
                prefixlen = 0;
                while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 3) {
                        prefixlen = prefixlen * 10 + (unsigned) (s[i] - '0');
                        digits++;
                        i++;
                }
                if (i != n || digits == 0 || digits > 2 || prefixlen > 32 || (digits > 1 && s[i - digits] == '0'))
                        return false;
        }

        uint32_t host = (uint32_t) addr[0] << 24 | (uint32_t) addr[1] << 16 | (uint32_t) addr[2] << 8 | addr[3];
        uint32_t host_mask = prefixlen == 0 ? UINT32_MAX : prefixlen == 32 ? 0 : UINT32_MAX >> prefixlen;
        if (host & host_mask)
                return false;

        *ret = (struct prefix) { .family = AF_INET, .prefixlen = (uint8_t) prefixlen };
        memcpy(ret->addr, addr, sizeof(addr));
        return true;
}

/* ::ffff:a.b.c.d/96+n is the IPv4 prefix a.b.c.d/n; shorter ones reach outside the mapped range and stay IPv6. */
static void prefix_unmap_ipv4(struct prefix *p) {
        static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

        if (p->family != AF_INET6 || p->prefixlen < 96 || memcmp(p->addr, mapped, sizeof(mapped)) != 0)
                return;
        memmove(p->addr, p->addr + 12, 4);
        memset(p->addr + 4, 0, sizeof(p->addr) - 4);
        p->family = AF_INET;
        p->prefixlen -= 96;
}

static size_t format_ipv4(const struct prefix *p, char *out);

/* One entry of n bytes (no blanks in it): 0, or a negative errno of prefix_parse(). */
static int parse_entry(const char *s, size_t n, struct prefix *ret);

int set_file_parse_entry(const char *s, struct prefix *ret) {
        return parse_entry(s, strlen(s), ret);
}

static int parse_entry(const char *s, size_t n, struct prefix *ret) {
        char text[SET_FILE_LINE_MAX + 1];
        struct prefix p;
        int r;

        if (parse_ipv4_fast(s, n, ret))
                return 0;

        /* Longer than any address: refused as prefix_parse() would refuse it, without copying it. */
        if (n > SET_FILE_LINE_MAX)
                return -EINVAL;
        memcpy(text, s, n);
        text[n] = '\0';
        r = prefix_parse(text, &p);
        if (r < 0)
                return r;

        prefix_unmap_ipv4(&p);
        *ret = p;
        return 0;
}

typedef struct Entries {
        struct prefix *items;
        size_t n, allocated;
} Entries;

static void entries_done(Entries *e) {
        free(e->items);
        *e = (Entries) {};
}

static int entries_add(Entries *e, const struct prefix *p) {
        if (e->n == e->allocated) {
                size_t want = e->allocated ? e->allocated * 2 : 1024;
                struct prefix *grown;

                if (want > SET_FILE_ENTRIES_MAX)
                        want = SET_FILE_ENTRIES_MAX;
                if (want <= e->n)
                        return -E2BIG;
                grown = reallocarray(e->items, want, sizeof(struct prefix));
                if (!grown)
                        return -ENOMEM;
                e->items = grown;
                e->allocated = want;
        }
        /* Field by field into zeroed memory: padding too is zero, so entries compare equal with memcmp(). */
        struct prefix *slot = &e->items[e->n++];
        memset(slot, 0, sizeof(*slot));
        slot->family = p->family;
        slot->prefixlen = p->prefixlen;
        memcpy(slot->addr, p->addr, sizeof(slot->addr));
        return 0;
}

/*
 * One line, without its '\n': 1 and *ret for an entry, 0 for a blank or
 * comment line, -EINVAL with *e filled for a bad line.
 */
static int parse_line(const char *line, size_t n, size_t number, struct prefix *ret, struct set_file_error *e) {
        char quoted[SET_FILE_QUOTE_MAX + 4];
        const char *p = line, *end = line + n, *entry;
        int r;

        /* The length without a CRLF's '\r', so that a file of DOS lines has the same limit. */
        if (n - (n > 0 && line[n - 1] == '\r') > SET_FILE_LINE_MAX) {
                set_file_error_set(e, number, "longer than %u bytes", SET_FILE_LINE_MAX);
                return -EINVAL;
        }
        if (memchr(line, '\0', n)) {
                set_file_error_set(e, number, "contains a NUL byte");
                return -EINVAL;
        }

        while (p < end && is_blank(*p))
                p++;
        if (p == end || *p == '#' || *p == ';')
                return 0;

        entry = p;
        while (p < end && !ends_entry(*p))
                p++;

        r = parse_entry(entry, p - entry, ret);
        if (r < 0) {
                quote_entry(entry, p - entry, quoted);
                if (r == -EINVAL)
                        set_file_error_set(e, number, "'%s' is not an IPv4 or IPv6 address or prefix", quoted);
                else
                        set_file_error_set(e, number, "'%s' is not an IPv4 or IPv6 address or prefix: %s",
                                           quoted, prefix_strerror(r));
                return -EINVAL;
        }
        return 1;
}

int set_file_parse(const char *buf, size_t len, bool skip_invalid,
                   struct prefix **ret_entries, size_t *ret_n, size_t *ret_skipped,
                   struct set_file_error *ret_error) {
        _cleanup_(entries_done) Entries entries = {};
        struct set_file_error first = {};
        const char *p = buf, *end = buf + len;
        size_t number = 0, skipped = 0;
        int r;

        if ((!buf && len > 0) || !ret_entries || !ret_n)
                return -EINVAL;

        if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
                p += 3;

        while (p < end) {
                const char *newline = memchr(p, '\n', end - p);
                const char *eol = newline ?: end;
                struct set_file_error e;
                struct prefix entry;

                number++;
                r = parse_line(p, eol - p, number, &entry, &e);
                p = newline ? newline + 1 : end;
                if (r == 0)
                        continue;
                if (r < 0) {
                        if (!skip_invalid) {
                                if (ret_error)
                                        *ret_error = e;
                                return r;
                        }
                        if (skipped++ == 0)
                                first = e;
                        continue;
                }

                r = entries_add(&entries, &entry);
                if (r == -E2BIG) {
                        if (ret_error) {
                                *ret_error = (struct set_file_error) {};
                                set_file_error_set(ret_error, number, "more than %u entries", SET_FILE_ENTRIES_MAX);
                        }
                        return r;
                }
                if (r < 0)
                        return r;
        }

        if (ret_error)
                *ret_error = first;
        if (ret_skipped)
                *ret_skipped = skipped;
        *ret_n = entries.n;
        *ret_entries = TAKE_PTR(entries.items);
        return 0;
}

static uint64_t load_be64(const uint8_t *p) {
        uint64_t v;

        memcpy(&v, p, sizeof(v));
        return be64toh(v);
}

/* prefix_compare()'s order (family, address, length), with the address compared as big-endian words. */
static int compare_entries(const void *x, const void *y) {
        const struct prefix *a = x, *b = y;
        uint64_t ka, kb;

        if (a->family != b->family)
                return a->family < b->family ? -1 : 1;

        ka = load_be64(a->addr);
        kb = load_be64(b->addr);
        if (a->family == AF_INET) {
                /* Only the first 4 bytes are the address. */
                ka >>= 32;
                kb >>= 32;
        } else if (ka == kb) {
                ka = load_be64(a->addr + 8);
                kb = load_be64(b->addr + 8);
        }
        if (ka != kb)
                return ka < kb ? -1 : 1;
        if (a->prefixlen != b->prefixlen)
                return a->prefixlen < b->prefixlen ? -1 : 1;
        return 0;
}

/* Is p what prefix_parse() could have made: a known family, a length in range, no host bits? */
static bool prefix_is_valid(const struct prefix *p) {
        unsigned bits, bytes;

        if (p->family == AF_INET)
                bits = 32;
        else if (p->family == AF_INET6)
                bits = 128;
        else
                return false;
        if (p->prefixlen > bits)
                return false;

        bytes = bits / 8;
        for (unsigned i = p->prefixlen / 8; i < bytes; i++) {
                unsigned bit = i * 8;
                uint8_t host_mask = bit >= p->prefixlen ? 0xff : (uint8_t) (0xff >> (p->prefixlen - bit));

                if (p->addr[i] & host_mask)
                        return false;
        }
        return true;
}

/* "192.0.2.0/24\n" without snprintf(): an export of a million entries is mostly IPv4. */
size_t set_file_format_entry(const struct prefix *p, char out[static PREFIX_STRING_MAX]) {
        if (p->family != AF_INET)
                return strlen(prefix_format(p, out));
        return format_ipv4(p, out);
}

static size_t format_ipv4(const struct prefix *p, char *out) {
        char *o = out;

        for (unsigned i = 0; i < 4; i++) {
                unsigned v = p->addr[i];

                if (i > 0)
                        *o++ = '.';
                if (v >= 100)
                        *o++ = (char) ('0' + v / 100);
                if (v >= 10)
                        *o++ = (char) ('0' + v / 10 % 10);
                *o++ = (char) ('0' + v % 10);
        }
        if (p->prefixlen < 32) {
                *o++ = '/';
                if (p->prefixlen >= 10)
                        *o++ = (char) ('0' + p->prefixlen / 10);
                *o++ = (char) ('0' + p->prefixlen % 10);
        }
        return o - out;
}

int set_file_format(const struct prefix *entries, size_t n, char **ret_text, size_t *ret_len) {
        _cleanup_free_ struct prefix *sorted = NULL;
        _cleanup_free_ char *text = NULL;
        size_t allocated = 0, used = 0;

        if ((!entries && n > 0) || !ret_text)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!prefix_is_valid(&entries[i]))
                        return -EINVAL;

        if (n > 0) {
                sorted = reallocarray(NULL, n, sizeof(struct prefix));
                if (!sorted)
                        return -ENOMEM;
                memcpy(sorted, entries, n * sizeof(struct prefix));
                qsort(sorted, n, sizeof(struct prefix), compare_entries);
        }

        for (size_t i = 0; i <= n; i++) {
                /* Room for the longest line (PREFIX_STRING_MAX counts a NUL, a line its '\n') and the final NUL. */
                if (allocated - used < PREFIX_STRING_MAX + 1) {
                        size_t want = allocated ? allocated * 2 : 4096;
                        char *grown;

                        if (want < allocated)
                                return -ENOMEM;
                        grown = realloc(text, want);
                        if (!grown)
                                return -ENOMEM;
                        text = grown;
                        allocated = want;
                }
                if (i == n)
                        break;

                if (sorted[i].family == AF_INET)
                        used += format_ipv4(&sorted[i], text + used);
                else {
                        char buf[PREFIX_STRING_MAX];
                        size_t l = strlen(prefix_format(&sorted[i], buf));

                        memcpy(text + used, buf, l);
                        used += l;
                }
                text[used++] = '\n';
        }
        text[used] = '\0';

        if (ret_len)
                *ret_len = used;
        *ret_text = TAKE_PTR(text);
        return 0;
}
