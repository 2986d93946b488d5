/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * set_file_parse() and set_file_format() (daemon/set-file.c): the file an
 * ImportSet caller hands the daemon, read whole, any bytes (NULs included).
 * Beyond not crashing:
 * - the entries are exactly what a plain reference reading of the lines gives
 *   (split at '\n', first word up to a blank, '#' or ';', prefix_parse(),
 *   IPv4-mapped made IPv4), so the hand-rolled IPv4 fast path agrees with
 *   prefix_parse();
 * - a refusal names a line that exists, with a reason of printable ASCII
 *   (it goes out in a D-Bus error, which must be UTF-8);
 * - skip_invalid accepts everything, and keeps the good lines;
 * - the export text parses back to the same entries, sorted, and formats again
 *   to the same text.
 */
#include <errno.h>
#include <sys/socket.h>

#include "address.h"
#include "fuzz.h"
#include "set-file.h"

/* Big enough for lines past SET_FILE_LINE_MAX; libFuzzer's own -max_len rules anyway. */
#define SET_FILE_INPUT_MAX (64 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet_logs();
        return 0;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool reason_is_printable(const struct set_file_error *e) {
        size_t n = strnlen(e->reason, sizeof(e->reason));

        if (n == sizeof(e->reason))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) e->reason[i] < 0x20 || (unsigned char) e->reason[i] >= 0x7f)
                        return false;
        return true;
}

/* The reference reading of one line: 1 and *ret for an entry, 0 for none, -1 for a bad line. */
static int reference_line(const char *line, size_t n, struct prefix *ret) {
        static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        size_t length = n, start = 0, end;
        char text[SET_FILE_LINE_MAX + 1];
        struct prefix p;

        if (length > 0 && line[length - 1] == '\r')
                length--;
        if (length > SET_FILE_LINE_MAX || memchr(line, 0, n))
                return -1;
        while (start < n && is_blank(line[start]))
                start++;
        if (start == n || line[start] == '#' || line[start] == ';')
                return 0;
        for (end = start; end < n && !is_blank(line[end]) && line[end] != '#' && line[end] != ';'; end++)
                ;
        memcpy(text, line + start, end - start);
        text[end - start] = 0;
        if (prefix_parse(text, &p) < 0)
                return -1;
        if (p.family == AF_INET6 && p.prefixlen >= 96 && memcmp(p.addr, mapped, 12) == 0) {
                struct prefix v4 = { .family = AF_INET, .prefixlen = p.prefixlen - 96 };

                memcpy(v4.addr, p.addr + 12, 4);
                p = v4;
        }
        *ret = p;
        return 1;
}

/* Checks entries against the reference reading; returns the number of bad lines and the first one. */
static size_t reference_check(const uint8_t *data, size_t size, const struct prefix *entries, size_t n,
                              size_t *ret_first_bad) {
        const char *p = (const char *) data, *end = p + size;
        size_t line = 0, i = 0, bad = 0;

        *ret_first_bad = 0;
        if (size >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
                p += 3;
        while (p < end) {
                const char *newline = memchr(p, '\n', end - p), *eol = newline ?: end;
                struct prefix want;
                int r;

                line++;
                r = reference_line(p, eol - p, &want);
                p = newline ? newline + 1 : end;
                if (r < 0) {
                        if (bad++ == 0)
                                *ret_first_bad = line;
                        continue;
                }
                if (r == 0)
                        continue;
                fuzz_check(i < n);
                fuzz_check(prefix_equal(&entries[i], &want));
                fuzz_check(entries[i].family == want.family && entries[i].prefixlen == want.prefixlen);
                fuzz_check(memcmp(entries[i].addr, want.addr, sizeof(want.addr)) == 0);
                i++;
        }
        fuzz_check(i == n);
        return bad;
}

static void check_round_trip(const struct prefix *entries, size_t n) {
        struct prefix *again = NULL;
        char *text = NULL, *text2 = NULL;
        size_t len = 0, len2 = 0, n2 = 0, skipped = 1;

        fuzz_check(set_file_format(entries, n, &text, &len) == 0);
        fuzz_check(strlen(text) == len);
        fuzz_check(set_file_parse(text, len, false, &again, &n2, &skipped, NULL) == 0);
        fuzz_check(n2 == n && skipped == 0);
        for (size_t i = 1; i < n2; i++)
                fuzz_check(prefix_compare(&again[i - 1], &again[i]) <= 0);
        /* Every entry is there as often as before: each sorted entry is one of the input's, counts equal. */
        for (size_t i = 0; i < n2; i++) {
                size_t in_input = 0, in_output = 0;

                if (i > 0 && prefix_equal(&again[i - 1], &again[i]))
                        continue;
                for (size_t j = 0; j < n; j++)
                        in_input += prefix_equal(&entries[j], &again[i]);
                for (size_t j = i; j < n2 && prefix_equal(&again[j], &again[i]); j++)
                        in_output++;
                fuzz_check(in_input == in_output);
        }
        fuzz_check(set_file_format(again, n2, &text2, &len2) == 0);
        fuzz_check(len2 == len && memcmp(text, text2, len) == 0);
        free(again);
        free(text);
        free(text2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct prefix *entries = NULL, *all = NULL;
        struct set_file_error e, e2;
        size_t n = 0, skipped = 0, n_all = 0, skipped_all = 0, first_bad;
        int r;

        if (size > SET_FILE_INPUT_MAX)
                return 0;

        /* skip_invalid: always accepted; the good lines are exactly the reference's. */
        memset(&e2, 0xAA, sizeof(e2));
        r = set_file_parse((const char *) data, size, true, &all, &n_all, &skipped_all, &e2);
        fuzz_check(r == 0);
        fuzz_check((n_all == 0) == (all == NULL));
        fuzz_check(reason_is_printable(&e2));
        fuzz_check(reference_check(data, size, all, n_all, &first_bad) == skipped_all);
        fuzz_check(e2.line == first_bad);
        fuzz_check((e2.line == 0) == (e2.reason[0] == 0));

        for (size_t i = 0; i < n_all; i++) {
                const struct prefix *p = &all[i];
                static const uint8_t zero[12] = {};

                fuzz_check(p->family == AF_INET || p->family == AF_INET6);
                fuzz_check(p->prefixlen <= (p->family == AF_INET ? 32 : 128));
                for (unsigned bit = p->prefixlen; bit < (p->family == AF_INET ? 32u : 128u); bit++)
                        fuzz_check(!(p->addr[bit / 8] & (0x80 >> (bit % 8))));
                if (p->family == AF_INET)
                        fuzz_check(memcmp(p->addr + 4, zero, sizeof(zero)) == 0);
        }

        /* Without: fails at the first bad line, the same line and reason, or gives the same entries. */
        memset(&e, 0xAA, sizeof(e));
        r = set_file_parse((const char *) data, size, false, &entries, &n, &skipped, &e);
        if (skipped_all > 0) {
                fuzz_check(r == -EINVAL);
                fuzz_check(e.line == e2.line && strcmp(e.reason, e2.reason) == 0);
                fuzz_check(!entries);
        } else {
                fuzz_check(r == 0 && skipped == 0 && n == n_all);
                fuzz_check(n == 0 || memcmp(entries, all, n * sizeof(struct prefix)) == 0);
        }

        check_round_trip(all, n_all);

        free(entries);
        free(all);
        return 0;
}
