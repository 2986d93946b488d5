/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "format.h"

static const struct {
        char suffix;
        uint64_t seconds;
} duration_units[] = {
        { 'd', 24 * 60 * 60 },
        { 'h', 60 * 60 },
        { 'm', 60 },
        { 's', 1 },
};

static int duration_unit_seconds(char suffix, uint64_t *ret) {
        for (size_t i = 0; i < ELEMENTSOF(duration_units); i++)
                if (duration_units[i].suffix == suffix) {
                        *ret = duration_units[i].seconds;
                        return 0;
                }
        return -EINVAL;
}

int parse_duration_sec(const char *s, uint64_t *ret_sec) {
        uint64_t total = 0;
        const char *p = s;

        if (!s || !*s)
                return -EINVAL;

        while (*p) {
                uint64_t value = 0, unit;
                const char *digits = p;

                /* Digits only: strtoull() would accept signs and spaces, which have no meaning here. */
                for (; *p >= '0' && *p <= '9'; p++) {
                        if (__builtin_mul_overflow(value, 10, &value) ||
                            __builtin_add_overflow(value, (uint64_t) (*p - '0'), &value))
                                return -ERANGE;
                }
                if (p == digits)
                        return -EINVAL;

                if (*p == '\0') {
                        /* A bare number means seconds, but only on its own: "1h30" is a typo, not 1h30s. */
                        if (digits != s)
                                return -EINVAL;
                        unit = 1;
                } else {
                        if (duration_unit_seconds(*p, &unit) < 0)
                                return -EINVAL;
                        p++;
                }

                if (__builtin_mul_overflow(value, unit, &value) ||
                    __builtin_add_overflow(total, value, &total))
                        return -ERANGE;
        }

        *ret_sec = total;
        return 0;
}

/* Decimal digits only: strtoul() would take signs, blanks and hex, which mean nothing here. */
static int parse_uint64_digits(const char *s, uint64_t *ret) {
        uint64_t v = 0;

        if (!*s)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t) (*p - '0'), &v))
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

int parse_uint32(const char *s, uint32_t *ret) {
        uint64_t v;
        int r;

        r = parse_uint64_digits(s, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

int parse_int32(const char *s, int32_t *ret) {
        bool negative = s[0] == '-';
        uint64_t v;
        int r;

        r = parse_uint64_digits(s + (s[0] == '-' || s[0] == '+'), &v);
        if (r < 0)
                return r;
        if (v > (negative ? (uint64_t) INT32_MAX + 1 : (uint64_t) INT32_MAX))
                return -ERANGE;
        *ret = negative ? (int32_t) -(int64_t) v : (int32_t) v;
        return 0;
}

const char *format_duration_sec(char *buf, size_t size, uint64_t sec) {
        size_t n = 0;

        if (size == 0)
                return buf;
        buf[0] = '\0';

        if (sec == 0) {
                (void) snprintf(buf, size, "0s");
                return buf;
        }

        for (size_t i = 0; i < ELEMENTSOF(duration_units) && sec > 0; i++) {
                uint64_t count = sec / duration_units[i].seconds;

                if (count == 0)
                        continue;
                int k = snprintf(buf + n, size - n, "%" PRIu64 "%c", count, duration_units[i].suffix);
                if (k < 0 || (size_t) k >= size - n)
                        break;
                n += k;
                sec -= count * duration_units[i].seconds;
        }

        return buf;
}

const char *format_timespan_sec(char *buf, size_t size, uint64_t sec) {
        size_t n = 0;
        unsigned shown = 0;

        if (size == 0)
                return buf;
        buf[0] = '\0';

        /* Round to the smallest unit that will be shown, so that 1d 1h 59m 57s reads "1d 2h". */
        for (size_t i = 0; i + 1 < ELEMENTSOF(duration_units); i++)
                if (sec >= duration_units[i].seconds) {
                        uint64_t unit = duration_units[i + 1].seconds, rounded;

                        if (!__builtin_add_overflow(sec, unit / 2, &rounded))
                                sec = rounded - rounded % unit;
                        break;
                }

        for (size_t i = 0; i < ELEMENTSOF(duration_units) && shown < 2; i++) {
                uint64_t count = sec / duration_units[i].seconds;

                if (shown == 0 && count == 0 && duration_units[i].seconds != 1)
                        continue;
                /* A second unit only when adjacent and non-zero: "2d 3h" or "2d", never "2d 5s". */
                if (shown > 0 && count == 0)
                        break;

                int k = snprintf(buf + n, size - n, "%s%" PRIu64 "%c",
                                 shown > 0 ? " " : "", count, duration_units[i].suffix);
                if (k < 0 || (size_t) k >= size - n)
                        break;
                n += k;
                sec -= count * duration_units[i].seconds;
                shown++;
        }

        return buf;
}

const char *format_bytes(char *buf, size_t size, uint64_t bytes) {
        static const char prefixes[] = "KMGTPE";
        uint64_t factor = 1024;
        size_t i;

        if (bytes < 1024) {
                (void) snprintf(buf, size, "%" PRIu64 "B", bytes);
                return buf;
        }

        /* The largest prefix that keeps the integer part at least 1. */
        for (i = 0; i + 1 < sizeof(prefixes) - 1 && bytes / factor >= 1024; i++)
                factor *= 1024;

        /* Tenths in integers (128 bits: 10 × the remainder can overflow 64), rounded down. */
        uint64_t whole = bytes / factor;
        uint64_t tenths = (uint64_t) ((unsigned __int128) (bytes % factor) * 10 / factor);

        (void) snprintf(buf, size, "%" PRIu64 ".%" PRIu64 "%c", whole, tenths, prefixes[i]);
        return buf;
}

size_t utf8_display_width(const char *s) {
        mbstate_t state = {};
        size_t width = 0;
        const char *p = s;
        size_t left = strlen(s);

        while (left > 0) {
                wchar_t wc;
                size_t k = mbrtowc(&wc, p, left, &state);
                if (k == (size_t) -1 || k == (size_t) -2 || k == 0)
                        return strlen(s);
                int w = wcwidth(wc);
                width += w > 0 ? (size_t) w : 0;
                p += k;
                left -= k;
        }
        return width;
}

struct Table {
        size_t n_columns;
        char **cells;           /* header row first, then n_rows rows, row-major */
        size_t n_rows;          /* data rows, not counting the header */
        bool *right_aligned;
        bool show_header;
        const char *separator;
};

static void strv_free_n(char **v, size_t n) {
        if (!v)
                return;
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        strv_free_n(t->cells, (t->n_rows + 1) * t->n_columns);
        free(t->right_aligned);
        free(t);
        return NULL;
}

int table_add_row(Table *t, const char *const *cells) {
        char **grown = reallocarray(t->cells, (t->n_rows + 2) * t->n_columns, sizeof(char *));
        if (!grown)
                return -ENOMEM;
        t->cells = grown;

        /* The row being appended sits at index n_rows + 1 (the header is row 0). */
        char **row = t->cells + (t->n_rows + 1) * t->n_columns;
        for (size_t i = 0; i < t->n_columns; i++) {
                row[i] = strdup(cells[i] ?: "");
                if (!row[i]) {
                        for (size_t j = 0; j < i; j++)
                                free(row[j]);
                        return -ENOMEM;
                }
        }
        t->n_rows++;
        return 0;
}

Table *table_new(size_t n_columns, const char *const *headers) {
        _cleanup_(table_freep) Table *t = NULL;

        t = calloc(1, sizeof(Table));
        if (!t)
                return NULL;
        t->n_columns = n_columns;
        t->show_header = true;
        t->separator = "  ";
        t->right_aligned = calloc(n_columns, sizeof(bool));
        t->cells = calloc(n_columns, sizeof(char *));
        if (!t->right_aligned || !t->cells)
                return NULL;

        for (size_t i = 0; i < n_columns; i++) {
                t->cells[i] = strdup(headers[i]);
                if (!t->cells[i])
                        return NULL;
        }
        return TAKE_PTR(t);
}

void table_set_right_aligned(Table *t, size_t column, bool right) {
        if (column < t->n_columns)
                t->right_aligned[column] = right;
}

void table_set_show_header(Table *t, bool show) {
        t->show_header = show;
}

void table_set_separator(Table *t, const char *separator) {
        t->separator = separator;
}

size_t table_get_rows(const Table *t) {
        return t->n_rows;
}

int table_print(const Table *t, FILE *f) {
        _cleanup_free_ size_t *widths = calloc(t->n_columns, sizeof(size_t));
        if (!widths)
                return -ENOMEM;

        size_t first = t->show_header ? 0 : 1;
        for (size_t r = first; r <= t->n_rows; r++)
                for (size_t c = 0; c < t->n_columns; c++) {
                        size_t w = utf8_display_width(t->cells[r * t->n_columns + c]);
                        if (w > widths[c])
                                widths[c] = w;
                }

        for (size_t r = first; r <= t->n_rows; r++) {
                for (size_t c = 0; c < t->n_columns; c++) {
                        const char *cell = t->cells[r * t->n_columns + c];
                        size_t pad = widths[c] - utf8_display_width(cell);
                        bool last = c + 1 == t->n_columns;

                        if (c > 0)
                                fputs(t->separator, f);
                        if (t->right_aligned[c])
                                fprintf(f, "%*s%s", (int) pad, "", cell);
                        else if (last)
                                /* No trailing blanks after the last column. */
                                fputs(cell, f);
                        else
                                fprintf(f, "%s%*s", cell, (int) pad, "");
                }
                fputc('\n', f);
        }

        return fflush(f) == 0 ? 0 : negative_errno();
}
