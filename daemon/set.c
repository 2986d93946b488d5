/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One table of every distinct member prefix over all sets, with the mask of
 * the sets that hold exactly it ("own") and its membership: the interned
 * union of its own mask and its nearest shorter member's membership. A
 * change to a single address (/32, /128) recomputes only it; any other
 * change, or a large one, recomputes all memberships in one sorted sweep
 * (a shorter prefix's membership flows into every prefix inside it).
 *
 * Every change is recorded in an undo log until set_registry_commit(), so
 * that the manager can roll a change back when the data plane refuses it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "set.h"

#define SMALL_CHANGE_MAX 4096u          /* single-address changes done one by one; beyond: one sweep */
#define NO_SET 0xffu

/* A key (family, length, set tag, address) and two payload words; used by both tables. */
struct slot {
        uint8_t used;                   /* 0 empty, 1 used, 2 deleted */
        uint8_t family;                 /* AF_INET, AF_INET6 */
        uint8_t prefixlen;
        uint8_t tag;                    /* members: NO_SET; expiries: the set id */
        uint32_t membership;            /* members: interned id (0 until computed) */
        uint8_t addr[16];
        uint64_t value;                 /* members: own mask; expiries: expiry, µs */
};

struct table {
        struct slot *slots;
        size_t n_buckets, n_used, n_tombstones;
};

struct undo {
        struct prefix prefix;
        uint8_t set_id;
        bool was_member;
        uint64_t old_expires;
};

struct SetRegistry {
        Set *sets[PF_MAX_SETS];
        size_t n_sets, n_entries;

        struct table members, expiries;
        uint32_t count[2][129];         /* member prefixes per family (0 IPv4, 1 IPv6) and length */

        uint64_t masks[PF_MAX_MEMBERSHIPS];
        uint32_t refs[PF_MAX_MEMBERSHIPS];
        uint32_t n_ids;                 /* ids below this have been handed out (0 is "none") */
        uint32_t intern[2 * PF_MAX_MEMBERSHIPS];        /* id + 1, 0 = empty */
        uint64_t exported[PF_MAX_MEMBERSHIPS];

        struct member_change *changes;
        size_t n_changes, allocated_changes;

        struct undo *undo;
        size_t n_undo, allocated_undo;
        bool undoing;

        /* Pending work of the change being made: single addresses to recompute, or all. */
        struct prefix *dirty;
        size_t n_dirty, allocated_dirty;
        bool sweep;
};

/* ---- The open-addressing tables ---- */

static size_t slot_hash(uint8_t family, uint8_t prefixlen, uint8_t tag, const uint8_t *addr) {
        uint64_t h = 1469598103934665603ULL ^ ((uint64_t) family << 16 | (uint64_t) prefixlen << 8 | tag);

        for (size_t i = 0; i < 16; i++) {
                h ^= addr[i];
                h *= 1099511628211ULL;
        }
        return (size_t) (h ^ (h >> 29));
}

static struct slot *table_find(const struct table *t, const struct prefix *p, uint8_t tag) {
        size_t mask;

        if (t->n_buckets == 0)
                return NULL;
        mask = t->n_buckets - 1;
        for (size_t i = slot_hash(p->family, p->prefixlen, tag, p->addr) & mask;; i = (i + 1) & mask) {
                struct slot *s = &t->slots[i];

                if (s->used == 0)
                        return NULL;
                if (s->used == 1 && s->family == p->family && s->prefixlen == p->prefixlen && s->tag == tag &&
                    memcmp(s->addr, p->addr, 16) == 0)
                        return s;
        }
}

static int table_resize(struct table *t, size_t n) {
        struct slot *old = t->slots;
        size_t old_n = t->n_buckets;

        t->slots = calloc(n, sizeof(struct slot));
        if (!t->slots) {
                t->slots = old;
                return -ENOMEM;
        }
        t->n_buckets = n;
        t->n_tombstones = 0;
        for (size_t i = 0; i < old_n; i++) {
                struct slot *s = &old[i];
                size_t k;

                if (s->used != 1)
                        continue;
                for (k = slot_hash(s->family, s->prefixlen, s->tag, s->addr) & (n - 1); t->slots[k].used;
                     k = (k + 1) & (n - 1))
                        ;
                t->slots[k] = *s;
        }
        free(old);
        return 0;
}

/* Finds or inserts (zeroed payload). */
static int table_get(struct table *t, const struct prefix *p, uint8_t tag, struct slot **ret, bool *ret_new) {
        struct slot *s = table_find(t, p, tag);
        size_t mask;
        int r;

        if (s) {
                *ret = s;
                *ret_new = false;
                return 0;
        }
        if ((t->n_used + t->n_tombstones + 1) * 4 > t->n_buckets * 3) {
                size_t n = t->n_buckets ? t->n_buckets : 1024;

                while ((t->n_used + 1) * 2 > n)
                        n *= 2;
                r = table_resize(t, n);
                if (r < 0)
                        return r;
        }
        mask = t->n_buckets - 1;
        for (size_t i = slot_hash(p->family, p->prefixlen, tag, p->addr) & mask;; i = (i + 1) & mask)
                if (t->slots[i].used != 1) {
                        if (t->slots[i].used == 2)
                                t->n_tombstones--;
                        s = &t->slots[i];
                        break;
                }
        *s = (struct slot) { .used = 1, .family = p->family, .prefixlen = p->prefixlen, .tag = tag };
        memcpy(s->addr, p->addr, 16);
        t->n_used++;
        *ret = s;
        *ret_new = true;
        return 0;
}

static void table_delete(struct table *t, struct slot *s) {
        s->used = 2;
        t->n_used--;
        t->n_tombstones++;
}

static struct prefix slot_prefix(const struct slot *s) {
        struct prefix p = { .family = s->family, .prefixlen = s->prefixlen };

        memcpy(p.addr, s->addr, 16);
        return p;
}

static unsigned family_index(int family) {
        return family == AF_INET ? 0 : 1;
}

static bool is_host(const struct prefix *p) {
        return p->prefixlen == (p->family == AF_INET ? 32 : 128);
}

/* ---- Growing arrays ---- */

static int grow(void **array, size_t *allocated, size_t n, size_t size) {
        size_t want;
        void *a;

        if (n < *allocated)
                return 0;
        want = *allocated ? *allocated * 2 : 256;
        while (want <= n)
                want *= 2;
        a = reallocarray(*array, want, size);
        if (!a)
                return -ENOMEM;
        *array = a;
        *allocated = want;
        return 0;
}

static int log_change(SetRegistry *reg, const struct prefix *p, uint32_t membership) {
        int r = grow((void **) &reg->changes, &reg->allocated_changes, reg->n_changes, sizeof(struct member_change));

        if (r < 0)
                return r;
        reg->changes[reg->n_changes++] = (struct member_change) { .prefix = *p, .membership = membership };
        return 0;
}

static int log_undo(SetRegistry *reg, const struct prefix *p, uint8_t set_id, bool was_member, uint64_t old_expires) {
        int r;

        if (reg->undoing)
                return 0;
        r = grow((void **) &reg->undo, &reg->allocated_undo, reg->n_undo, sizeof(struct undo));
        if (r < 0)
                return r;
        reg->undo[reg->n_undo++] = (struct undo) {
                .prefix = *p, .set_id = set_id, .was_member = was_member, .old_expires = old_expires,
        };
        return 0;
}

static int mark_dirty(SetRegistry *reg, const struct prefix *p) {
        int r;

        if (reg->sweep)
                return 0;
        if (!is_host(p) || reg->n_dirty >= SMALL_CHANGE_MAX) {
                reg->sweep = true;
                return 0;
        }
        r = grow((void **) &reg->dirty, &reg->allocated_dirty, reg->n_dirty, sizeof(struct prefix));
        if (r < 0)
                return r;
        reg->dirty[reg->n_dirty++] = *p;
        return 0;
}

/* ---- Memberships ---- */

static size_t mask_hash(uint64_t mask) {
        mask *= 0x9E3779B97F4A7C15ULL;
        return (size_t) (mask >> 40);
}

static void intern_rebuild(SetRegistry *reg) {
        memset(reg->intern, 0, sizeof(reg->intern));
        for (uint32_t id = 1; id < reg->n_ids; id++) {
                size_t i;

                if (reg->refs[id] == 0)
                        continue;
                for (i = mask_hash(reg->masks[id]) % ELEMENTSOF(reg->intern); reg->intern[i];
                     i = (i + 1) % ELEMENTSOF(reg->intern))
                        ;
                reg->intern[i] = id + 1;
        }
}

/* The id of a non-empty mask, with one more reference. -E2BIG when PF_MAX_MEMBERSHIPS are in use. */
static int membership_ref(SetRegistry *reg, uint64_t mask, uint32_t *ret) {
        size_t i;
        uint32_t id;

        for (i = mask_hash(mask) % ELEMENTSOF(reg->intern); reg->intern[i]; i = (i + 1) % ELEMENTSOF(reg->intern)) {
                id = reg->intern[i] - 1;
                if (reg->masks[id] == mask) {
                        reg->refs[id]++;
                        *ret = id;
                        return 0;
                }
        }
        if (reg->n_ids < PF_MAX_MEMBERSHIPS) {
                id = reg->n_ids++;
                reg->intern[i] = id + 1;
        } else {
                /* Reuse an id nothing refers to: the commit that writes it also writes its classes. */
                for (id = 1; id < PF_MAX_MEMBERSHIPS && reg->refs[id] > 0; id++)
                        ;
                if (id == PF_MAX_MEMBERSHIPS)
                        return -E2BIG;
                reg->masks[id] = mask;
                reg->refs[id] = 1;
                intern_rebuild(reg);
                *ret = id;
                return 0;
        }
        reg->masks[id] = mask;
        reg->refs[id] = 1;
        *ret = id;
        return 0;
}

static void membership_unref(SetRegistry *reg, uint32_t id) {
        if (id > 0 && id < PF_MAX_MEMBERSHIPS && reg->refs[id] > 0)
                reg->refs[id]--;
}

/* Gives a member its membership: logs the change when it differs. */
static int member_assign(SetRegistry *reg, struct slot *m, uint64_t mask) {
        struct prefix p = slot_prefix(m);
        uint32_t id;
        int r;

        if (m->membership != 0 && reg->masks[m->membership] == mask)
                return 0;
        r = membership_ref(reg, mask, &id);
        if (r < 0)
                return r;
        membership_unref(reg, m->membership);
        m->membership = id;
        return log_change(reg, &p, id);
}

/* The membership of the nearest shorter member holding p (0 if none). */
static uint64_t ancestor_mask(const SetRegistry *reg, const struct prefix *p) {
        unsigned f = family_index(p->family);

        for (int len = p->prefixlen - 1; len >= 0; len--) {
                struct prefix a = *p;
                const struct slot *s;

                if (reg->count[f][len] == 0)
                        continue;
                a.prefixlen = len;
                for (int b = len; b < 128; b++)
                        a.addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
                s = table_find(&reg->members, &a, NO_SET);
                if (s)
                        return reg->masks[s->membership];
        }
        return 0;
}

static int slot_order(const void *x, const void *y) {
        const struct slot *a = *(const struct slot *const *) x, *b = *(const struct slot *const *) y;
        int c;

        if (a->family != b->family)
                return a->family == AF_INET ? -1 : 1;
        c = memcmp(a->addr, b->addr, 16);
        if (c != 0)
                return c;
        return (int) a->prefixlen - (int) b->prefixlen;
}

static bool slot_contains(const struct slot *outer, const struct slot *inner) {
        unsigned len = outer->prefixlen;

        if (outer->family != inner->family || inner->prefixlen < len)
                return false;
        if (memcmp(outer->addr, inner->addr, len / 8) != 0)
                return false;
        return len % 8 == 0 || ((outer->addr[len / 8] ^ inner->addr[len / 8]) & (0xff00u >> (len % 8)) & 0xff) == 0;
}

/* Every membership, in one pass over the members sorted by address: an enclosing prefix
 * comes before the prefixes inside it, so a stack holds the chain of enclosing members. */
static int sweep(SetRegistry *reg) {
        _cleanup_free_ struct slot **v = NULL;
        struct { struct slot *s; uint64_t mask; } stack[130];
        size_t n = 0, depth = 0;
        int r;

        v = malloc_multiply(reg->members.n_used ?: 1, sizeof(struct slot *));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < reg->members.n_buckets; i++)
                if (reg->members.slots[i].used == 1)
                        v[n++] = &reg->members.slots[i];
        qsort(v, n, sizeof(struct slot *), slot_order);

        for (size_t i = 0; i < n; i++) {
                uint64_t mask;

                while (depth > 0 && !slot_contains(stack[depth - 1].s, v[i]))
                        depth--;
                mask = v[i]->value | (depth > 0 ? stack[depth - 1].mask : 0);
                r = member_assign(reg, v[i], mask);
                if (r < 0)
                        return r;
                if (depth < ELEMENTSOF(stack))
                        stack[depth++] = (typeof(stack[0])) { v[i], mask };
        }
        return 0;
}

/* Brings memberships up to date after own masks changed. */
static int recompute(SetRegistry *reg) {
        int r = 0;

        if (reg->sweep)
                r = sweep(reg);
        else
                for (size_t i = 0; i < reg->n_dirty && r >= 0; i++) {
                        struct slot *m = table_find(&reg->members, &reg->dirty[i], NO_SET);

                        if (m)
                                r = member_assign(reg, m, m->value | ancestor_mask(reg, &reg->dirty[i]));
                }
        reg->n_dirty = 0;
        reg->sweep = false;
        return r;
}

/* ---- Entries ---- */

/* An entry's expiry (µs), 0 = never. */
static uint64_t expiry_get(const SetRegistry *reg, uint8_t set_id, const struct prefix *p) {
        const struct slot *s = table_find(&reg->expiries, p, set_id);

        return s ? s->value : 0;
}

static int expiry_set(SetRegistry *reg, uint8_t set_id, const struct prefix *p, uint64_t expires) {
        struct slot *s;
        bool is_new;
        int r;

        if (expires == 0) {
                s = table_find(&reg->expiries, p, set_id);
                if (s)
                        table_delete(&reg->expiries, s);
                return 0;
        }
        r = table_get(&reg->expiries, p, set_id, &s, &is_new);
        if (r < 0)
                return r;
        s->value = expires;
        return 0;
}

/* Sets or clears one set's bit on a prefix, with its expiry; records the undo. */
static int entry_put(SetRegistry *reg, Set *set, const struct prefix *p, bool member, uint64_t expires,
                     bool *ret_changed) {
        uint64_t bit = 1ULL << set->id, old_expires;
        struct slot *m;
        bool is_new, was_member;
        int r;

        m = table_find(&reg->members, p, NO_SET);
        was_member = m && (m->value & bit);
        old_expires = expiry_get(reg, set->id, p);

        if (was_member == member) {
                if (member && old_expires != expires) {
                        r = log_undo(reg, p, set->id, was_member, old_expires);
                        if (r >= 0)
                                r = expiry_set(reg, set->id, p, expires);
                        if (r < 0)
                                return r;
                }
                *ret_changed = false;
                return 0;
        }

        r = log_undo(reg, p, set->id, was_member, old_expires);
        if (r < 0)
                return r;
        if (member) {
                r = table_get(&reg->members, p, NO_SET, &m, &is_new);
                if (r < 0)
                        return r;
                if (is_new)
                        reg->count[family_index(p->family)][p->prefixlen]++;
                r = expiry_set(reg, set->id, p, expires);
                if (r < 0)
                        return r;
                m->value |= bit;
                set->n_entries++;
                reg->n_entries++;
        } else {
                (void) expiry_set(reg, set->id, p, 0);
                m->value &= ~bit;
                set->n_entries--;
                reg->n_entries--;
                if (m->value == 0) {
                        /* No set holds it any more: out of the data plane. */
                        r = log_change(reg, p, 0);
                        if (r < 0)
                                return r;
                        membership_unref(reg, m->membership);
                        reg->count[family_index(p->family)][p->prefixlen]--;
                        table_delete(&reg->members, m);
                        if (!is_host(p))
                                reg->sweep = true;      /* what lies inside it loses its sets */
                        *ret_changed = true;
                        return 0;
                }
        }
        *ret_changed = true;
        return mark_dirty(reg, p);
}

/* ---- Public ---- */

int set_registry_new(SetRegistry **ret) {
        SetRegistry *reg = calloc(1, sizeof(SetRegistry));

        if (!reg)
                return -ENOMEM;
        reg->n_ids = 1;         /* id 0: in no set */
        *ret = reg;
        return 0;
}

static Set *set_free(Set *s) {
        if (!s)
                return NULL;
        free(s->name);
        free(s->comment);
        free(s);
        return NULL;
}

SetRegistry *set_registry_free(SetRegistry *reg) {
        if (!reg)
                return NULL;
        for (size_t i = 0; i < PF_MAX_SETS; i++)
                set_free(reg->sets[i]);
        free(reg->members.slots);
        free(reg->expiries.slots);
        free(reg->changes);
        free(reg->undo);
        free(reg->dirty);
        free(reg);
        return NULL;
}

Set *set_registry_find(SetRegistry *reg, const char *name) {
        for (size_t i = 0; i < PF_MAX_SETS; i++)
                if (reg->sets[i] && streq(reg->sets[i]->name, name))
                        return reg->sets[i];
        return NULL;
}

Set *set_registry_get(SetRegistry *reg, unsigned id) {
        return id < PF_MAX_SETS ? reg->sets[id] : NULL;
}

size_t set_registry_count(const SetRegistry *reg) {
        return reg->n_sets;
}

size_t set_registry_entries(const SetRegistry *reg) {
        return reg->n_entries;
}

int set_registry_create(SetRegistry *reg, const char *name, const char *comment, uint32_t default_timeout_sec,
                        int id, Set **ret) {
        Set *s;

        if (set_registry_find(reg, name))
                return -EEXIST;
        if (id < 0) {
                for (id = 0; id < (int) PF_MAX_SETS && reg->sets[id]; id++)
                        ;
                if (id == (int) PF_MAX_SETS)
                        return -E2BIG;
        } else if (id >= (int) PF_MAX_SETS || reg->sets[id])
                return -EEXIST;

        s = calloc(1, sizeof(Set));
        if (!s)
                return -ENOMEM;
        s->name = strdup(name);
        s->comment = comment && comment[0] ? strdup(comment) : NULL;
        if (!s->name || (comment && comment[0] && !s->comment)) {
                set_free(s);
                return -ENOMEM;
        }
        s->default_timeout_sec = default_timeout_sec;
        s->id = (uint8_t) id;
        reg->sets[id] = s;
        reg->n_sets++;
        if (ret)
                *ret = s;
        return 0;
}

int set_registry_delete(SetRegistry *reg, const char *name) {
        Set *s = set_registry_find(reg, name);
        _cleanup_free_ struct set_entry *entries = NULL;
        _cleanup_free_ struct prefix *prefixes = NULL;
        size_t n = 0, removed;
        int r;

        if (!s)
                return -ENOENT;
        r = set_registry_list(reg, s, &entries, &n);
        if (r < 0)
                return r;
        prefixes = malloc_multiply(n ?: 1, sizeof(struct prefix));
        if (!prefixes)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                prefixes[i] = entries[i].prefix;
        r = set_registry_remove(reg, s, prefixes, n, &removed);
        if (r < 0)
                return r;
        reg->sets[s->id] = NULL;
        reg->n_sets--;
        set_free(s);
        return 0;
}

static int prefix_order(const void *x, const void *y) {
        return prefix_compare(x, y);
}

static int set_entry_order(const void *x, const void *y) {
        const struct set_entry *a = x, *b = y;

        if (a->prefix.family != b->prefix.family)
                return a->prefix.family == AF_INET ? -1 : 1;
        return prefix_compare(&a->prefix, &b->prefix);
}

int set_registry_add(SetRegistry *reg, Set *set, const struct set_entry *entries, size_t n, bool replace,
                     size_t *ret_added, size_t *ret_removed) {
        size_t added = 0, removed = 0;
        int r = 0;

        if (replace) {
                _cleanup_free_ struct prefix *keep = NULL, *gone = NULL;
                uint64_t bit = 1ULL << set->id;
                size_t n_gone = 0;

                /* What the set holds and the new list does not: found by binary search in the list. */
                keep = malloc_multiply(n ?: 1, sizeof(struct prefix));
                gone = malloc_multiply(set->n_entries ?: 1, sizeof(struct prefix));
                if (!keep || !gone)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++)
                        keep[i] = entries[i].prefix;
                qsort(keep, n, sizeof(struct prefix), prefix_order);
                for (size_t i = 0; i < reg->members.n_buckets; i++) {
                        const struct slot *m = &reg->members.slots[i];
                        struct prefix p;

                        if (m->used != 1 || !(m->value & bit))
                                continue;
                        p = slot_prefix(m);
                        if (!bsearch(&p, keep, n, sizeof(struct prefix), prefix_order))
                                gone[n_gone++] = p;
                }
                r = set_registry_remove(reg, set, gone, n_gone, &removed);
                if (r < 0)
                        return r;
        }

        /* One resize for a large import, not twenty doublings. */
        if ((reg->members.n_used + n) * 4 > reg->members.n_buckets * 3) {
                size_t want = reg->members.n_buckets ?: 1024;

                while ((reg->members.n_used + n) * 2 > want)
                        want *= 2;
                r = table_resize(&reg->members, want);
                if (r < 0)
                        return r;
        }
        r = grow((void **) &reg->undo, &reg->allocated_undo, reg->n_undo + n, sizeof(struct undo));
        if (r < 0)
                return r;

        for (size_t i = 0; i < n; i++) {
                const struct prefix *p = &entries[i].prefix;
                uint64_t expires = entries[i].expires_usec, old;
                struct slot *m = table_find(&reg->members, p, NO_SET);
                bool changed;

                if (m && (m->value & (1ULL << set->id))) {
                        /* Already there. Adding: the later expiry wins, and never wins over any time;
                         * replacing: the new list's expiry. */
                        old = expiry_get(reg, set->id, p);
                        if (!replace)
                                expires = old == 0 || expires == 0 ? 0 : MAX(old, expires);
                        if (expires == old)
                                continue;
                }
                r = entry_put(reg, set, p, true, expires, &changed);
                if (r < 0)
                        return r;
                if (changed)
                        added++;
                if (reg->n_entries > PF_MAX_SET_ENTRIES)
                        return -E2BIG;
        }
        r = recompute(reg);
        if (r < 0)
                return r;
        if (ret_added)
                *ret_added = added;
        if (ret_removed)
                *ret_removed = removed;
        return 0;
}

int set_registry_remove(SetRegistry *reg, Set *set, const struct prefix *entries, size_t n, size_t *ret_removed) {
        size_t removed = 0;
        int r;

        for (size_t i = 0; i < n; i++) {
                bool changed;

                r = entry_put(reg, set, &entries[i], false, 0, &changed);
                if (r < 0)
                        return r;
                removed += changed;
        }
        r = recompute(reg);
        if (r < 0)
                return r;
        if (ret_removed)
                *ret_removed = removed;
        return 0;
}

static int set_registry_collect(const SetRegistry *reg, const Set *set, bool sorted, struct set_entry **ret,
                                size_t *ret_n) {
        _cleanup_free_ struct set_entry *v = NULL;
        uint64_t bit = 1ULL << set->id;
        size_t n = 0;

        v = malloc_multiply(set->n_entries ?: 1, sizeof(struct set_entry));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < reg->members.n_buckets && n < set->n_entries; i++) {
                const struct slot *m = &reg->members.slots[i];

                if (m->used != 1 || !(m->value & bit))
                        continue;
                v[n].prefix = slot_prefix(m);
                v[n].expires_usec = expiry_get(reg, set->id, &v[n].prefix);
                n++;
        }
        if (sorted)
                qsort(v, n, sizeof(struct set_entry), set_entry_order);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

int set_registry_list(const SetRegistry *reg, const Set *set, struct set_entry **ret, size_t *ret_n) {
        return set_registry_collect(reg, set, true, ret, ret_n);
}

int set_registry_list_unsorted(const SetRegistry *reg, const Set *set, struct set_entry **ret, size_t *ret_n) {
        return set_registry_collect(reg, set, false, ret, ret_n);
}

uint64_t set_registry_next_expiry(const SetRegistry *reg) {
        uint64_t next = 0;

        for (size_t i = 0; i < reg->expiries.n_buckets; i++) {
                const struct slot *s = &reg->expiries.slots[i];

                if (s->used == 1 && (next == 0 || s->value < next))
                        next = s->value;
        }
        return next;
}

int set_registry_expired(const SetRegistry *reg, uint64_t now_usec, unsigned *ret_set_id, struct prefix **ret,
                         size_t *ret_n) {
        _cleanup_free_ struct prefix *v = NULL;
        size_t n = 0, allocated = 0;
        int set_id = -1, r;

        for (size_t i = 0; i < reg->expiries.n_buckets; i++) {
                const struct slot *s = &reg->expiries.slots[i];

                if (s->used != 1 || s->value > now_usec)
                        continue;
                if (set_id >= 0 && s->tag != set_id)
                        continue;       /* one set per call */
                set_id = s->tag;
                r = grow((void **) &v, &allocated, n, sizeof(struct prefix));
                if (r < 0)
                        return r;
                v[n++] = slot_prefix(s);
        }
        if (set_id < 0)
                return -ENOENT;
        *ret_set_id = (unsigned) set_id;
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

void set_registry_commit(SetRegistry *reg) {
        reg->n_undo = 0;
}

int set_registry_rollback(SetRegistry *reg) {
        int r = 0;

        reg->undoing = true;
        for (size_t i = reg->n_undo; i > 0 && r >= 0; i--) {
                const struct undo *u = &reg->undo[i - 1];
                Set *set = reg->sets[u->set_id];
                bool changed;

                if (set)
                        r = entry_put(reg, set, &u->prefix, u->was_member, u->old_expires, &changed);
        }
        if (r >= 0)
                r = recompute(reg);
        reg->undoing = false;
        reg->n_undo = 0;
        return r;
}

const struct member_change *set_registry_changes(const SetRegistry *reg, size_t *ret_n) {
        *ret_n = reg->n_changes;
        return reg->changes;
}

void set_registry_changes_done(SetRegistry *reg) {
        reg->n_changes = 0;
}

const uint64_t *set_registry_memberships(const SetRegistry *reg, size_t *ret_n) {
        SetRegistry *r = (SetRegistry *) reg;

        for (uint32_t id = 0; id < reg->n_ids; id++)
                r->exported[id] = reg->refs[id] > 0 ? reg->masks[id] : 0;
        *ret_n = reg->n_ids;
        return reg->exported;
}

uint64_t set_registry_match(const SetRegistry *reg, int family, const uint8_t *addr) {
        unsigned bits = family == AF_INET ? 32 : 128;

        for (int len = bits; len >= 0; len--) {
                struct prefix p = { .family = family, .prefixlen = len };
                const struct slot *s;

                if (reg->count[family_index(family)][len] == 0)
                        continue;
                memcpy(p.addr, addr, family == AF_INET ? 4 : 16);
                for (unsigned b = len; b < 128; b++)
                        p.addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
                s = table_find(&reg->members, &p, NO_SET);
                if (s)
                        return reg->masks[s->membership];
        }
        return 0;
}
