/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block-table.h"

struct entry {
        uint8_t used;                   /* 0 empty, 1 used, 2 deleted (tombstone) */
        uint8_t family;                 /* AF_INET or AF_INET6 */
        uint8_t prefixlen;
        uint8_t addr[16];
        uint32_t slot;
};

/* An IPv6 /32 with prefixes of /32 or longer inside: what its pf_v6_dir entry is made of.
 * Most hold one or two lengths, so a few counts live inline and the full array per length
 * only in the groups that need it: a million-entry feed has ~150k groups. */
#define GROUP_INLINE_LENGTHS 4
struct v6_group {
        uint8_t used;                   /* 0 empty, 1 used, 2 deleted */
        bool has_32;                    /* the /32 itself is stored */
        uint8_t n_inline;               /* lengths in inline_len[], while count is NULL */
        uint8_t inline_len[GROUP_INLINE_LENGTHS];       /* lengths 33..128 stored inside it */
        uint32_t top32;                 /* network order */
        uint32_t base;                  /* slot + 1 of the longest stored prefix <= /32 holding it */
        uint32_t n_longer;              /* stored prefixes of length 33..128 inside it */
        uint32_t inline_count[GROUP_INLINE_LENGTHS];    /* stored prefixes of each inline_len[] */
        uint32_t *count;                /* stored prefixes per length 33..128, or NULL: inline */
};
_Static_assert(GROUP_INLINE_LENGTHS <= PF_V6_DIR_LENGTHS, "inline lengths fit one directory entry");

struct BlockTable {
        struct entry *entries;          /* open addressing, power-of-two size */
        size_t n_buckets, n_used, n_tombstones;

        uint32_t *tbl24;                /* what every copy's DIR-24 table must hold */
        uint8_t *depth;                 /* prefix length + 1 of the entry's origin, 0 = none */
        uint16_t *n_32;                 /* per /24: stored /32s inside it (up to 256) */
        uint8_t *n_mid;                 /* per /24: stored /25../31s inside it (up to 254) */
        uint64_t dirty[PF_COPIES][BLOCK_CHUNKS / 64];

        struct block_op *ops;
        size_t n_ops, allocated_ops, op_cursor[PF_COPIES];
        uint32_t count[_PF_FAMILY_MAX][129];    /* exact entries per length */
        uint32_t n_tbl24_len[25];               /* IPv4 prefixes up to /24 per length */

        struct v6_group *groups;                /* open addressing, power-of-two size */
        size_t n_groups_buckets, n_groups, n_group_tombstones;
};

static size_t entry_hash(int family, uint8_t prefixlen, const uint8_t *addr) {
        uint64_t h = 1469598103934665603ULL ^ (uint64_t) (family * 131 + prefixlen);

        for (size_t i = 0; i < 16; i++) {
                h ^= addr[i];
                h *= 1099511628211ULL;
        }
        return (size_t) (h ^ (h >> 32));
}

static struct entry *entry_find(const BlockTable *t, int family, uint8_t prefixlen, const uint8_t *addr) {
        size_t mask = t->n_buckets - 1;

        for (size_t i = entry_hash(family, prefixlen, addr) & mask;; i = (i + 1) & mask) {
                struct entry *e = &t->entries[i];

                if (e->used == 0)
                        return NULL;
                if (e->used == 1 && e->family == family && e->prefixlen == prefixlen &&
                    memcmp(e->addr, addr, 16) == 0)
                        return e;
        }
}

static int entries_grow(BlockTable *t) {
        struct entry *old = t->entries;
        size_t old_n = t->n_buckets, n = old_n ? old_n * 2 : 1024;

        /* Rehash also when tombstones pile up, at the same size. */
        if (old_n && (t->n_used + 1) * 2 < old_n)
                n = old_n;
        t->entries = calloc(n, sizeof(struct entry));
        if (!t->entries) {
                t->entries = old;
                return -ENOMEM;
        }
        t->n_buckets = n;
        t->n_tombstones = 0;
        for (size_t i = 0; i < old_n; i++) {
                struct entry *e = &old[i];
                size_t k;

                if (e->used != 1)
                        continue;
                for (k = entry_hash(e->family, e->prefixlen, e->addr) & (n - 1); t->entries[k].used; k = (k + 1) & (n - 1))
                        ;
                t->entries[k] = *e;
        }
        free(old);
        return 0;
}

int block_table_new(BlockTable **ret) {
        BlockTable *t = calloc(1, sizeof(BlockTable));
        int r;

        if (!t)
                return -ENOMEM;
        /* 64 MiB + 16 MiB, but calloc'd pages stay unbacked until a prefix touches them. */
        t->tbl24 = calloc(PF_V4_TBL24_ENTRIES, sizeof(uint32_t));
        t->depth = calloc(PF_V4_TBL24_ENTRIES, 1);
        t->n_32 = calloc(PF_V4_TBL24_ENTRIES, sizeof(uint16_t));
        t->n_mid = calloc(PF_V4_TBL24_ENTRIES, 1);
        r = t->tbl24 && t->depth && t->n_32 && t->n_mid ? entries_grow(t) : -ENOMEM;
        if (r < 0) {
                block_table_free(t);
                return r;
        }
        *ret = t;
        return 0;
}

BlockTable *block_table_free(BlockTable *t) {
        if (!t)
                return NULL;
        free(t->entries);
        free(t->tbl24);
        free(t->depth);
        free(t->n_32);
        free(t->n_mid);
        for (size_t i = 0; i < t->n_groups_buckets; i++)
                free(t->groups[i].count);
        free(t->groups);
        free(t->ops);
        free(t);
        return NULL;
}

static unsigned family_index(int family) {
        return family == AF_INET ? PF_FAMILY_V4 : PF_FAMILY_V6;
}

static bool in_tbl24(const struct prefix *p) {
        return p->family == AF_INET && p->prefixlen <= 24;
}

static uint32_t v4_index(const uint8_t *addr) {
        return ((uint32_t) addr[0] << 16) | ((uint32_t) addr[1] << 8) | addr[2];
}

static void mark_dirty(BlockTable *t, uint32_t first, uint32_t n) {
        for (uint32_t c = first >> BLOCK_CHUNK_SHIFT; c <= (first + n - 1) >> BLOCK_CHUNK_SHIFT; c++)
                for (unsigned copy = 0; copy < PF_COPIES; copy++)
                        t->dirty[copy][c / 64] |= 1ULL << (c % 64);
}

/* Writes slot (or nothing, slot == UINT32_MAX) into the /24s of a prefix wherever the
 * prefix of depth `from` is the longest that covers them. */
static void tbl24_fill(BlockTable *t, uint32_t first, uint32_t n, uint8_t from, uint8_t depth, uint32_t value) {
        for (uint32_t i = first; i < first + n; i++) {
                if (t->depth[i] > from)
                        continue;       /* a longer prefix owns this /24 */
                t->tbl24[i] = (t->tbl24[i] & PF_V4_FLAGS) | value;
                t->depth[i] = depth;
        }
        mark_dirty(t, first, n);
}

static int ops_push(BlockTable *t, const struct prefix *p, bool remove, uint32_t slot) {
        struct block_op *op;

        if (t->n_ops == t->allocated_ops) {
                size_t want = t->allocated_ops ? t->allocated_ops * 2 : 256;
                struct block_op *ops = reallocarray(t->ops, want, sizeof(struct block_op));

                if (!ops)
                        return -ENOMEM;
                t->ops = ops;
                t->allocated_ops = want;
        }
        op = &t->ops[t->n_ops++];
        *op = (struct block_op) {
                .family = family_index(p->family),
                .prefixlen = p->prefixlen,
                .remove = remove,
                .slot = slot,
        };
        memcpy(op->addr, p->addr, 16);
        return 0;
}

static int ops_reserve(BlockTable *t) {
        if (t->n_ops == t->allocated_ops) {
                size_t want = t->allocated_ops ? t->allocated_ops * 2 : 256;
                struct block_op *ops = reallocarray(t->ops, want, sizeof(struct block_op));

                if (!ops)
                        return -ENOMEM;
                t->ops = ops;
                t->allocated_ops = want;
        }
        return 0;
}

static int dir_op_push(BlockTable *t, uint32_t top32, bool remove, const struct pf_v6_dir *d) {
        struct block_op *op;
        int r = ops_reserve(t);

        if (r < 0)
                return r;
        op = &t->ops[t->n_ops++];
        *op = (struct block_op) { .family = PF_FAMILY_V6, .prefixlen = 32, .remove = remove, .dir = true };
        memcpy(op->addr, &top32, 4);
        if (d)
                op->dir_value = *d;
        return 0;
}

/* ---- The IPv6 /32 directory ---- */

static size_t group_hash(uint32_t top32) {
        uint64_t h = (uint64_t) top32 * 0x9E3779B97F4A7C15ULL;

        return (size_t) (h >> 29);
}

static struct v6_group *group_find(const BlockTable *t, uint32_t top32) {
        size_t mask;

        if (t->n_groups_buckets == 0)
                return NULL;
        mask = t->n_groups_buckets - 1;
        for (size_t i = group_hash(top32) & mask;; i = (i + 1) & mask) {
                struct v6_group *g = &t->groups[i];

                if (g->used == 0)
                        return NULL;
                if (g->used == 1 && g->top32 == top32)
                        return g;
        }
}

static int groups_resize(BlockTable *t, size_t n) {
        struct v6_group *old = t->groups;
        size_t old_n = t->n_groups_buckets;

        t->groups = calloc(n, sizeof(struct v6_group));
        if (!t->groups) {
                t->groups = old;
                return -ENOMEM;
        }
        t->n_groups_buckets = n;
        t->n_group_tombstones = 0;
        for (size_t i = 0; i < old_n; i++) {
                size_t k;

                if (old[i].used != 1)
                        continue;
                for (k = group_hash(old[i].top32) & (n - 1); t->groups[k].used; k = (k + 1) & (n - 1))
                        ;
                t->groups[k] = old[i];
        }
        free(old);
        return 0;
}

static int group_get(BlockTable *t, uint32_t top32, struct v6_group **ret) {
        struct v6_group *g = group_find(t, top32);
        size_t mask;
        int r;

        if (g) {
                *ret = g;
                return 0;
        }
        if ((t->n_groups + t->n_group_tombstones + 1) * 4 > t->n_groups_buckets * 3) {
                size_t n = t->n_groups_buckets ? t->n_groups_buckets : 256;

                while ((t->n_groups + 1) * 2 > n)
                        n *= 2;
                r = groups_resize(t, n);
                if (r < 0)
                        return r;
        }
        mask = t->n_groups_buckets - 1;
        for (size_t i = group_hash(top32) & mask;; i = (i + 1) & mask)
                if (t->groups[i].used != 1) {
                        if (t->groups[i].used == 2)
                                t->n_group_tombstones--;
                        g = &t->groups[i];
                        break;
                }
        *g = (struct v6_group) { .used = 1, .top32 = top32 };
        t->n_groups++;
        *ret = g;
        return 0;
}

static struct pf_v6_dir group_dir(const struct v6_group *g) {
        struct pf_v6_dir d = { .base = g->base };

        if (!g->count) {
                /* Longest first, as the program probes them. */
                for (unsigned i = 0; i < g->n_inline; i++) {
                        unsigned k = d.n++;

                        for (; k > 0 && d.len[k - 1] < g->inline_len[i]; k--)
                                d.len[k] = d.len[k - 1];
                        d.len[k] = g->inline_len[i];
                }
                return d;
        }
        for (int len = 128; len > 32; len--) {
                if (g->count[len - 33] == 0)
                        continue;
                if (d.n == PF_V6_DIR_LENGTHS) {
                        d.n = PF_V6_DIR_MANY;
                        break;
                }
                d.len[d.n++] = (uint8_t) len;
        }
        return d;
}

/* A stored prefix of length 33..128 inside the group came (delta 1) or went (-1). */
static int group_count_add(struct v6_group *g, uint8_t len, int delta) {
        uint32_t *count;

        if (!g->count) {
                for (unsigned i = 0; i < g->n_inline; i++) {
                        if (g->inline_len[i] != len)
                                continue;
                        g->inline_count[i] += delta;
                        if (g->inline_count[i] == 0) {
                                g->n_inline--;
                                g->inline_len[i] = g->inline_len[g->n_inline];
                                g->inline_count[i] = g->inline_count[g->n_inline];
                        }
                        g->n_longer += delta;
                        return 0;
                }
                if (delta < 0)
                        return 0;
                if (g->n_inline < GROUP_INLINE_LENGTHS) {
                        g->inline_len[g->n_inline] = len;
                        g->inline_count[g->n_inline++] = delta;
                        g->n_longer += delta;
                        return 0;
                }
                count = calloc(128 - 32, sizeof(uint32_t));
                if (!count)
                        return -ENOMEM;
                for (unsigned i = 0; i < g->n_inline; i++)
                        count[g->inline_len[i] - 33] = g->inline_count[i];
                g->count = count;
                g->n_inline = 0;
        }
        g->count[len - 33] += delta;
        g->n_longer += delta;
        return 0;
}

static int dir_op_push(BlockTable *t, uint32_t top32, bool remove, const struct pf_v6_dir *d);

/* The slot + 1 of the longest stored prefix of length <= 32 holding this /32. */
static uint32_t group_base(const BlockTable *t, uint32_t top32) {
        uint8_t addr[16] = {};

        for (int len = 32; len >= 0; len--) {
                const struct entry *e;
                uint32_t masked = len == 0 ? 0 : ntohl(top32) & (0xffffffffu << (32 - len));
                uint32_t be = htonl(masked);

                if (t->count[PF_FAMILY_V6][len] == 0)
                        continue;
                memcpy(addr, &be, 4);
                e = entry_find(t, AF_INET6, (uint8_t) len, addr);
                if (e)
                        return e->slot + 1;
        }
        return 0;
}

/* Writes the group's entry again (or deletes the group when nothing of /32 or longer is left). */
static int group_refresh(BlockTable *t, struct v6_group *g, struct pf_v6_dir before, bool existed) {
        struct pf_v6_dir now;

        if (!g->has_32 && g->n_longer == 0) {
                g->used = 2;
                free(g->count);
                g->count = NULL;
                t->n_groups--;
                t->n_group_tombstones++;
                return existed ? dir_op_push(t, g->top32, true, NULL) : 0;
        }
        now = group_dir(g);
        if (existed && memcmp(&now, &before, sizeof(now)) == 0)
                return 0;
        return dir_op_push(t, g->top32, false, &now);
}

/* A stored IPv6 prefix of length >= 32 came (delta 1) or went (-1), or one of length <= 32 changed. */
static int groups_update(BlockTable *t, const struct prefix *p, int delta) {
        uint32_t top32;
        int r;

        memcpy(&top32, p->addr, 4);
        if (p->prefixlen >= 32) {
                struct v6_group *g = group_find(t, top32);
                bool existed = g != NULL;
                struct pf_v6_dir before = {};

                if (!g) {
                        if (delta < 0)
                                return 0;
                        r = group_get(t, top32, &g);
                        if (r < 0)
                                return r;
                } else
                        before = group_dir(g);
                if (delta != 0 && p->prefixlen == 32)
                        g->has_32 = delta > 0;
                else if (delta != 0) {
                        r = group_count_add(g, p->prefixlen, delta);
                        if (r < 0)
                                return r;
                }
                g->base = group_base(t, top32);
                return group_refresh(t, g, before, existed);
        }

        /* A shorter prefix: the base of every /32 group inside it may change. */
        for (size_t i = 0; i < t->n_groups_buckets; i++) {
                struct v6_group *g = &t->groups[i];
                struct pf_v6_dir before;
                uint32_t mask = p->prefixlen == 0 ? 0 : 0xffffffffu << (32 - p->prefixlen), want;

                memcpy(&want, p->addr, 4);
                if (g->used != 1 || (ntohl(g->top32) & mask) != (ntohl(want) & mask))
                        continue;
                before = group_dir(g);
                g->base = group_base(t, g->top32);
                r = group_refresh(t, g, before, true);
                if (r < 0)
                        return r;
        }
        return 0;
}

int block_table_foreach_dir(const BlockTable *t, int (*cb)(uint32_t top32, const struct pf_v6_dir *d, void *userdata),
                            void *userdata) {
        for (size_t i = 0; i < t->n_groups_buckets; i++) {
                struct pf_v6_dir d;
                int r;

                if (t->groups[i].used != 1)
                        continue;
                d = group_dir(&t->groups[i]);
                r = cb(t->groups[i].top32, &d, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

int block_table_set(BlockTable *t, const struct prefix *p, uint32_t slot) {
        struct entry *e;
        bool is_new;
        int r;

        if (slot >= PF_BLOCK_SLOTS)
                return -ERANGE;

        e = entry_find(t, p->family, p->prefixlen, p->addr);
        is_new = !e;
        if (!e) {
                size_t mask;

                if (t->n_used >= PF_MAX_BLOCKS)
                        return -E2BIG;
                if ((t->n_used + t->n_tombstones + 1) * 4 > t->n_buckets * 3) {
                        r = entries_grow(t);
                        if (r < 0)
                                return r;
                }
                if (!in_tbl24(p)) {
                        /* Log first: the only step that can fail. */
                        r = ops_push(t, p, false, slot);
                        if (r < 0)
                                return r;
                }
                mask = t->n_buckets - 1;
                for (size_t i = entry_hash(p->family, p->prefixlen, p->addr) & mask;; i = (i + 1) & mask)
                        if (t->entries[i].used != 1) {
                                if (t->entries[i].used == 2)
                                        t->n_tombstones--;
                                e = &t->entries[i];
                                break;
                        }
                *e = (struct entry) { .used = 1, .family = p->family, .prefixlen = p->prefixlen, .slot = slot };
                memcpy(e->addr, p->addr, 16);
                t->n_used++;
                if (in_tbl24(p))
                        t->n_tbl24_len[p->prefixlen]++;
                else
                        t->count[family_index(p->family)][p->prefixlen]++;
                if (!in_tbl24(p) && p->family == AF_INET) {
                        uint32_t i = v4_index(p->addr);

                        if (p->prefixlen == 32)
                                t->n_32[i]++;
                        else
                                t->n_mid[i]++;
                }
        } else {
                if (!in_tbl24(p)) {
                        r = ops_push(t, p, false, slot);
                        if (r < 0)
                                return r;
                }
                e->slot = slot;
        }

        if (in_tbl24(p))
                tbl24_fill(t, v4_index(p->addr), 1u << (24 - p->prefixlen), p->prefixlen + 1,
                           p->prefixlen + 1, slot + 1);
        else if (p->family == AF_INET) {
                uint32_t i = v4_index(p->addr);

                t->tbl24[i] |= p->prefixlen == 32 ? PF_V4_HAS_32 : PF_V4_HAS_MID;
                mark_dirty(t, i, 1);
        }
        if (p->family == AF_INET6)
                return groups_update(t, p, is_new ? 1 : 0);
        return 0;
}

int block_table_delete(BlockTable *t, const struct prefix *p) {
        struct entry *e;
        int r;

        e = entry_find(t, p->family, p->prefixlen, p->addr);
        if (!e)
                return -ENOENT;

        if (!in_tbl24(p)) {
                r = ops_push(t, p, true, 0);
                if (r < 0)
                        return r;
        }
        e->used = 2;
        t->n_used--;
        t->n_tombstones++;

        if (in_tbl24(p)) {
                /* The /24s this prefix owned fall back to the next shorter stored prefix. */
                uint32_t first = v4_index(p->addr), value = 0;
                uint8_t depth = 0;

                t->n_tbl24_len[p->prefixlen]--;
                for (int len = p->prefixlen - 1; len >= 0; len--) {
                        struct prefix parent = *p;
                        struct entry *pe;

                        if (t->n_tbl24_len[len] == 0)
                                continue;
                        parent.prefixlen = len;
                        for (int b = len; b < 32; b++)
                                parent.addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
                        pe = entry_find(t, AF_INET, len, parent.addr);
                        if (pe) {
                                value = pe->slot + 1;
                                depth = len + 1;
                                break;
                        }
                }
                tbl24_fill(t, first, 1u << (24 - p->prefixlen), p->prefixlen + 1, depth, value);
        } else {
                t->count[family_index(p->family)][p->prefixlen]--;
                if (p->family == AF_INET) {
                        uint32_t i = v4_index(p->addr);
                        bool is_32 = p->prefixlen == 32;

                        /* The last of its kind in this /24: the program need not probe any more. */
                        if ((is_32 ? --t->n_32[i] : --t->n_mid[i]) == 0) {
                                t->tbl24[i] &= ~(is_32 ? PF_V4_HAS_32 : PF_V4_HAS_MID);
                                mark_dirty(t, i, 1);
                        }
                }
        }
        if (p->family == AF_INET6)
                return groups_update(t, p, -1);
        return 0;
}

int block_table_get(const BlockTable *t, const struct prefix *p, uint32_t *ret_slot) {
        const struct entry *e = entry_find(t, p->family, p->prefixlen, p->addr);

        if (!e)
                return -ENOENT;
        *ret_slot = e->slot;
        return 0;
}

int block_table_match(const BlockTable *t, int family, const uint8_t *addr, uint32_t *ret_slot) {
        int max = family == AF_INET ? 32 : 128;

        for (int len = max; len >= 0; len--) {
                struct prefix p = { .family = family, .prefixlen = len };
                const struct entry *e;

                memcpy(p.addr, addr, family == AF_INET ? 4 : 16);
                for (int b = len; b < max; b++)
                        p.addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
                e = entry_find(t, family, len, p.addr);
                if (e) {
                        *ret_slot = e->slot;
                        return 0;
                }
        }
        return -ENOENT;
}

size_t block_table_count(const BlockTable *t) {
        return t->n_used;
}

const uint32_t *block_table_tbl24(const BlockTable *t) {
        return t->tbl24;
}

bool block_table_chunk_dirty(const BlockTable *t, unsigned copy, size_t chunk) {
        return t->dirty[copy][chunk / 64] & (1ULL << (chunk % 64));
}

void block_table_chunks_clean(BlockTable *t, unsigned copy) {
        memset(t->dirty[copy], 0, sizeof(t->dirty[copy]));
}

const struct block_op *block_table_ops(const BlockTable *t, unsigned copy, size_t *ret_n) {
        *ret_n = t->n_ops - t->op_cursor[copy];
        return t->ops + t->op_cursor[copy];
}

void block_table_ops_done(BlockTable *t, unsigned copy) {
        bool all = true;

        t->op_cursor[copy] = t->n_ops;
        for (unsigned c = 0; c < PF_COPIES; c++)
                all = all && t->op_cursor[c] == t->n_ops;
        if (all) {
                /* Every copy has seen the log: start it afresh. */
                t->n_ops = 0;
                memset(t->op_cursor, 0, sizeof(t->op_cursor));
        }
}

void block_table_lengths(const BlockTable *t, struct pf_length_list ret[_PF_FAMILY_MAX]) {
        for (unsigned f = 0; f < _PF_FAMILY_MAX; f++) {
                ret[f] = (struct pf_length_list) {};
                for (int len = 128; len >= 0; len--) {
                        /* IPv4 /32s are probed directly (PF_V4_HAS_32), not by length. */
                        if (f == PF_FAMILY_V4 && len == 32)
                                continue;
                        if (t->count[f][len] > 0)
                                ret[f].len[ret[f].count++] = (uint8_t) len;
                }
        }
}

int block_table_foreach(const BlockTable *t, int (*cb)(const struct prefix *p, uint32_t slot, void *userdata),
                        void *userdata) {
        for (size_t i = 0; i < t->n_buckets; i++) {
                const struct entry *e = &t->entries[i];
                struct prefix p;
                int r;

                if (e->used != 1)
                        continue;
                p = (struct prefix) { .family = e->family, .prefixlen = e->prefixlen };
                memcpy(p.addr, e->addr, 16);
                r = cb(&p, e->slot, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

void block_table_mark_all_dirty(BlockTable *t, unsigned copy) {
        memset(t->dirty[copy], 0xff, sizeof(t->dirty[copy]));
}
