/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Persistence of named sets: one text file per set, STATE_DIR/sets/NAME.set,
 * written whole and atomically (temporary file, fsync, rename, fsync of the
 * folder) whenever the set changes, so that a large set never weighs on the
 * saving of the rules in state.json.
 *
 *   # packetfilter set 1
 *   # id=3
 *   # default-timeout=3600
 *   # comment=Spamhaus DROP
 *   192.0.2.0/24
 *   198.51.100.7 1764000000000000      (an expiry: CLOCK_REALTIME µs)
 */
#pragma once

#include "set.h"

#define SET_STORE_DIR "sets"

int set_store_save(const char *state_dir, const SetRegistry *reg, const Set *set);
int set_store_remove(const char *state_dir, const char *name);

/* Loads every STATE_DIR/sets/ *.set file into the registry. A file that does not parse is
 * moved aside (NAME.set.corrupt-USEC) and said in the log; the others load. Entries already
 * expired at `now` are left out. */
int set_store_load(const char *state_dir, SetRegistry *reg, uint64_t now_usec);
