/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The block rules' prefixes as the XDP program wants them, kept in user
 * space: a DIR-24 table for IPv4 prefixes up to /24 (the longest prefix
 * holding each /24, computed on every change; flags say whether /32s or
 * /25-/31s lie inside) and exact entries for longer IPv4 prefixes and all
 * IPv6 ones, probed by the program at the lengths present. Records what changed since each of the two kernel copies was
 * last written, so that a commit writes only that.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "macro.h"
#include "packetfilter.h"

typedef struct BlockTable BlockTable;

#define BLOCK_CHUNK_SHIFT 12u                   /* tbl24 entries per dirty mark: 4096 */
#define BLOCK_CHUNKS (PF_V4_TBL24_ENTRIES >> BLOCK_CHUNK_SHIFT)

/* One change to the exact entries (pf_prefixes), or with dir set, to the IPv6 /32 directory
 * (pf_v6_dir: addr holds the /32, dir_value its new entry; remove deletes it). */
struct block_op {
        uint8_t family;                         /* enum pf_family_index */
        uint8_t prefixlen;
        uint8_t addr[16];                       /* network order */
        bool remove;
        bool dir;
        uint32_t slot;
        struct pf_v6_dir dir_value;
};

int block_table_new(BlockTable **ret);
BlockTable *block_table_free(BlockTable *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(BlockTable *, block_table_free);

/* Adds, or re-points an existing prefix at another slot. -E2BIG past PF_MAX_BLOCKS. */
int block_table_set(BlockTable *t, const struct prefix *p, uint32_t slot);
/* -ENOENT if the prefix is not there. */
int block_table_delete(BlockTable *t, const struct prefix *p);
/* Exact look-up of a stored prefix. */
int block_table_get(const BlockTable *t, const struct prefix *p, uint32_t *ret_slot);
/* Longest stored prefix holding the address (for tests): the slot, or -ENOENT. */
int block_table_match(const BlockTable *t, int family, const uint8_t *addr, uint32_t *ret_slot);
size_t block_table_count(const BlockTable *t);

/* For the loader: what a copy must be brought up to. */
const uint32_t *block_table_tbl24(const BlockTable *t);                 /* PF_V4_TBL24_ENTRIES entries */
bool block_table_chunk_dirty(const BlockTable *t, unsigned copy, size_t chunk);
void block_table_chunks_clean(BlockTable *t, unsigned copy);
/* Exact-entry changes copy has not seen yet: ops[from..n). */
const struct block_op *block_table_ops(const BlockTable *t, unsigned copy, size_t *ret_n);
void block_table_ops_done(BlockTable *t, unsigned copy);
void block_table_lengths(const BlockTable *t, struct pf_length_list ret[_PF_FAMILY_MAX]);

/* Calls cb for every IPv6 /32 directory entry (top32 in network order); stops at the first negative result. */
int block_table_foreach_dir(const BlockTable *t, int (*cb)(uint32_t top32, const struct pf_v6_dir *d, void *userdata),
                            void *userdata);

/* Calls cb for every stored prefix; stops at (and returns) the first negative result. */
int block_table_foreach(const BlockTable *t, int (*cb)(const struct prefix *p, uint32_t slot, void *userdata),
                        void *userdata);
/* Marks everything as unwritten in copy: the next commit rewrites that copy whole. */
void block_table_mark_all_dirty(BlockTable *t, unsigned copy);
