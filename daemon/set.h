/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Named address sets: what each set holds, and, for the data plane, the
 * membership of every member prefix: the mask of sets holding it through it
 * or any shorter member prefix. The longest match then gives an address's
 * whole membership in one look-up (see bpf/packetfilter.h, pf_v4_set).
 * Memberships are interned to small ids; the classifier maps ids to classes.
 * Knows nothing of D-Bus or BPF: changes of prefix -> membership id are
 * logged for the manager to stage in the loader.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "macro.h"
#include "packetfilter.h"

typedef struct SetRegistry SetRegistry;

typedef struct Set {
        char *name;
        char *comment;                  /* NULL = none */
        uint32_t default_timeout_sec;   /* 0 = entries never expire unless told */
        uint8_t id;                     /* 0 .. PF_MAX_SETS - 1: its bit in memberships */
        size_t n_entries;
} Set;

/* A change of the data plane's member table: membership 0 = the prefix is no member any more. */
struct member_change {
        struct prefix prefix;
        uint32_t membership;
};

/* One entry to add, with its expiry (CLOCK_REALTIME µs, 0 = never). */
struct set_entry {
        struct prefix prefix;
        uint64_t expires_usec;
};

int set_registry_new(SetRegistry **ret);
SetRegistry *set_registry_free(SetRegistry *reg);
DEFINE_TRIVIAL_CLEANUP_FUNC(SetRegistry *, set_registry_free);

/* -EEXIST, -E2BIG (PF_MAX_SETS). id < 0: the lowest free id; else that id (state loading). */
int set_registry_create(SetRegistry *reg, const char *name, const char *comment, uint32_t default_timeout_sec,
                        int id, Set **ret);
/* Deletes a set and all its entries. -ENOENT. */
int set_registry_delete(SetRegistry *reg, const char *name);
Set *set_registry_find(SetRegistry *reg, const char *name);
Set *set_registry_get(SetRegistry *reg, unsigned id);
size_t set_registry_count(const SetRegistry *reg);
size_t set_registry_entries(const SetRegistry *reg);    /* over all sets */

/*
 * Adds entries to a set. An entry already there keeps its place; its expiry only moves
 * later (0 = never wins). replace: the set becomes exactly these entries. All or nothing
 * as far as limits go: -E2BIG before anything changes when PF_MAX_SET_ENTRIES would be
 * passed. *ret_added: entries new to the set; *ret_removed (replace): entries gone.
 */
int set_registry_add(SetRegistry *reg, Set *set, const struct set_entry *entries, size_t n, bool replace,
                     size_t *ret_added, size_t *ret_removed);
/* Removes entries (absent ones are not an error); *ret_removed counts those that were there. */
int set_registry_remove(SetRegistry *reg, Set *set, const struct prefix *entries, size_t n, size_t *ret_removed);

/* Every change since the last commit can be rolled back (when the data plane refuses it);
 * commit forgets the undo log. Deleting a set cannot be rolled back. */
void set_registry_commit(SetRegistry *reg);
int set_registry_rollback(SetRegistry *reg);

/* The set's entries (sorted: IPv4 first, by address, then length), with their expiries. */
int set_registry_list(const SetRegistry *reg, const Set *set, struct set_entry **ret, size_t *ret_n);
/* The same in no particular order (faster, for saving). */
int set_registry_list_unsorted(const SetRegistry *reg, const Set *set, struct set_entry **ret, size_t *ret_n);

/* The earliest entry expiry of any set (0 = none), and the entries of one set past `now`. */
uint64_t set_registry_next_expiry(const SetRegistry *reg);
int set_registry_expired(const SetRegistry *reg, uint64_t now_usec, unsigned *ret_set_id, struct prefix **ret,
                         size_t *ret_n);

/* Changes to the member table since the last call (the caller stages them), and the
 * membership masks by id for the classifier (memberships[0] = 0: in no set). */
const struct member_change *set_registry_changes(const SetRegistry *reg, size_t *ret_n);
void set_registry_changes_done(SetRegistry *reg);
const uint64_t *set_registry_memberships(const SetRegistry *reg, size_t *ret_n);

/* For tests: the membership mask of an address, as the data plane computes it. */
uint64_t set_registry_match(const SetRegistry *reg, int family, const uint8_t *addr);
