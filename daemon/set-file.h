/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The text of a named address set, as ImportSet reads it and ExportSet writes
 * it: one entry per line. Pure: no D-Bus, no BPF, no file descriptors (the
 * caller reads the whole file into a buffer first).
 *
 * A line is one of (leading and trailing blanks, and a CRLF ending, are fine):
 *
 *   (empty or blanks only)                 skipped
 *   # comment          ; comment           skipped
 *   PREFIX                                 192.0.2.1, 198.51.100.0/24, 2001:db8::/32
 *   PREFIX # comment   PREFIX ; comment    Spamhaus DROP: "1.10.16.0/20 ; SBL256894"
 *   PREFIX<blanks>anything                 the first word is the entry, the rest is ignored
 *
 * Blanks are space, tab, CR, VT and FF. The entry ends at the first blank,
 * '#' or ';' (none of which an address contains). An IPv4-mapped IPv6
 * address or prefix (::ffff:192.0.2.9, ::ffff:192.0.2.0/120) becomes the
 * IPv4 one (192.0.2.9, 192.0.2.0/24). A UTF-8 byte order mark at the very
 * start of the buffer is skipped. Lines end at '\n'; the last may lack it.
 *
 * A bad line: an entry prefix_parse() refuses (including host bits set past
 * the length, "192.0.2.1/24"), a NUL byte anywhere in the line, or a line of
 * more than SET_FILE_LINE_MAX bytes (its "\n" or "\r\n" not counted).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "address.h"

#define SET_FILE_LINE_MAX 4096

/*
 * At most this many entries come out of one buffer (a 256 MiB file of "::"
 * lines would otherwise need 2 GiB of entries). Four times the daemon's limit
 * on entries over all sets, so that duplicates within a file are no problem.
 */
#define SET_FILE_ENTRIES_MAX (4u * 1048576u)

/* Why a line was refused; reason is valid UTF-8 (bytes of the line that are not printable ASCII show as '?'). */
struct set_file_error {
        size_t line;            /* 1-based line of the first bad line */
        char reason[256];       /* "line 12: '10.0.0.0/33' is not an IPv4 or IPv6 address or prefix: ..." */
};

/*
 * Parses a whole buffer (need not be NUL-terminated). Entries come back in
 * file order, duplicates kept (the caller dedups); *ret_entries is NULL when
 * there are none, else the caller frees it.
 *
 * Without skip_invalid, the first bad line fails the whole parse: -EINVAL,
 * with *ret_error (if given) naming the line and why. With skip_invalid, bad
 * lines are left out and counted in *ret_skipped, and *ret_error (if given)
 * describes the first of them (line 0 and an empty reason when there was
 * none). More than SET_FILE_ENTRIES_MAX entries: -E2BIG, *ret_error naming
 * the line where the limit was passed. -ENOMEM. The other ret_ parameters
 * are written only on success.
 */
int set_file_parse(const char *buf, size_t len, bool skip_invalid,
                   struct prefix **ret_entries, size_t *ret_n, size_t *ret_skipped,
                   struct set_file_error *ret_error);

/* One entry as AddToSet/RemoveFromSet take it: exactly an address or prefix (IPv4-mapped IPv6
 * becomes IPv4). 0, or prefix_parse()'s negative errno (prefix_strerror() says why). */
int set_file_parse_entry(const char *s, struct prefix *ret);

/* One entry's canonical text, as prefix_format() writes it (IPv4 by hand: inet_ntop() is most
 * of the time of writing a million), without a NUL; returns its length. */
size_t set_file_format_entry(const struct prefix *p, char out[static PREFIX_STRING_MAX]);

/*
 * The canonical export text: the entries sorted by prefix_compare() (IPv4
 * first, then by address, then by length), one prefix_format() a line, each
 * ending in '\n'; duplicates are written as often as they are given. The text
 * is NUL-terminated (*ret_len does not count the NUL); "" for no entries.
 * -EINVAL for an entry that is not a valid prefix (bad family or length, host
 * bits set), -ENOMEM.
 */
int set_file_format(const struct prefix *entries, size_t n, char **ret_text, size_t *ret_len);
