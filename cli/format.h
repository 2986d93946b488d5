/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pure helpers of packetfilterctl: parsing durations, formatting numbers and
 * time spans, and printing aligned tables. Nothing here talks to D-Bus, so the
 * unit tests link this file alone.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "macro.h"

#define USEC_PER_SEC UINT64_C(1000000)

/* Long enough for any formatted uint64 time span or byte size, with its units. */
#define FORMAT_BUFFER_MAX 64

/*
 * "90", "30s", "10m", "1h", "2d" or a sequence like "1h30m": seconds as an integer.
 * -EINVAL for anything else (empty, signs, spaces, fractions, unknown units),
 * -ERANGE when the result does not fit in 64 bits.
 */
int parse_duration_sec(const char *s, uint64_t *ret_sec);

/*
 * Decimal numbers: digits only (an optional sign for int32), no blanks, no hex.
 * -EINVAL for anything else, -ERANGE when it does not fit.
 */
int parse_uint32(const char *s, uint32_t *ret);
int parse_int32(const char *s, int32_t *ret);

/*
 * "1d2h3m4s", "1h", "59m59s", "0s": exact, every non-zero unit, no blanks; what
 * parse_duration_sec() reads back to the same number.
 */
const char *format_duration_sec(char *buf, size_t size, uint64_t sec);

/* "2d 3h", "9m 58s", "45s", "0s": the two most significant units at most, rounded to the nearest of the second. */
const char *format_timespan_sec(char *buf, size_t size, uint64_t sec);

/* "512B", "1.5K", "23.4M", "2.0G" (powers of 1024, one decimal, rounded down). */
const char *format_bytes(char *buf, size_t size, uint64_t bytes);

/*
 * An aligned text table: a header row, then rows of cells, each column
 * padded to its widest cell. Columns flagged as numeric are right-aligned.
 */
typedef struct Table Table;

Table *table_new(size_t n_columns, const char *const *headers);
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);

void table_set_right_aligned(Table *t, size_t column, bool right);
void table_set_show_header(Table *t, bool show);
/* What goes between columns; two spaces unless set. The string must outlive the table. */
void table_set_separator(Table *t, const char *separator);
/* Adds one row; cells[] holds n_columns strings (NULL prints as empty), copied. */
int table_add_row(Table *t, const char *const *cells);
size_t table_get_rows(const Table *t);
int table_print(const Table *t, FILE *f);

/* How many terminal columns a UTF-8 string takes (its byte length if it is not valid). */
size_t utf8_display_width(const char *s);
