/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rule-index.h"

struct bucket {
        struct prefix key;
        Rule **rules;                   /* NULL: empty bucket */
        size_t n, allocated;
        bool tombstone;
};

struct RuleIndex {
        struct bucket *buckets;
        size_t n_buckets, n_used, n_tombstones;
};

static size_t prefix_hash(const struct prefix *p) {
        uint64_t h = 1469598103934665603ULL ^ (uint64_t) (p->family * 131 + p->prefixlen);

        for (size_t i = 0; i < 16; i++) {
                h ^= p->addr[i];
                h *= 1099511628211ULL;
        }
        return (size_t) (h ^ (h >> 32));
}

int rule_index_new(RuleIndex **ret) {
        RuleIndex *x = calloc(1, sizeof(RuleIndex));

        if (!x)
                return -ENOMEM;
        x->n_buckets = 1024;
        x->buckets = calloc(x->n_buckets, sizeof(struct bucket));
        if (!x->buckets) {
                free(x);
                return -ENOMEM;
        }
        *ret = x;
        return 0;
}

RuleIndex *rule_index_free(RuleIndex *x) {
        if (!x)
                return NULL;
        for (size_t i = 0; i < x->n_buckets; i++)
                free(x->buckets[i].rules);
        free(x->buckets);
        free(x);
        return NULL;
}

static struct bucket *rule_index_find(const RuleIndex *x, const struct prefix *p) {
        size_t mask = x->n_buckets - 1;

        for (size_t i = prefix_hash(p) & mask;; i = (i + 1) & mask) {
                struct bucket *b = &x->buckets[i];

                if (!b->rules && !b->tombstone)
                        return NULL;
                if (b->rules && prefix_equal(&b->key, p))
                        return b;
        }
}

static int rule_index_grow(RuleIndex *x) {
        struct bucket *old = x->buckets;
        size_t old_n = x->n_buckets, n = (x->n_used + 1) * 2 < old_n ? old_n : old_n * 2;

        x->buckets = calloc(n, sizeof(struct bucket));
        if (!x->buckets) {
                x->buckets = old;
                return -ENOMEM;
        }
        x->n_buckets = n;
        x->n_tombstones = 0;
        for (size_t i = 0; i < old_n; i++) {
                size_t k;

                if (!old[i].rules)
                        continue;
                for (k = prefix_hash(&old[i].key) & (n - 1); x->buckets[k].rules; k = (k + 1) & (n - 1))
                        ;
                x->buckets[k] = old[i];
        }
        free(old);
        return 0;
}

int rule_index_add(RuleIndex *x, Rule *r) {
        struct bucket *b = rule_index_find(x, &r->source);
        int e;

        if (!b) {
                size_t mask;

                if ((x->n_used + x->n_tombstones + 1) * 4 > x->n_buckets * 3) {
                        e = rule_index_grow(x);
                        if (e < 0)
                                return e;
                }
                mask = x->n_buckets - 1;
                for (size_t i = prefix_hash(&r->source) & mask;; i = (i + 1) & mask)
                        if (!x->buckets[i].rules) {
                                b = &x->buckets[i];
                                break;
                        }
                if (b->tombstone)
                        x->n_tombstones--;
                *b = (struct bucket) { .key = r->source };
                b->rules = malloc(sizeof(Rule *));
                if (!b->rules)
                        return -ENOMEM;
                b->allocated = 1;
                x->n_used++;
        }
        if (b->n == b->allocated) {
                Rule **rules = reallocarray(b->rules, b->allocated * 2, sizeof(Rule *));

                if (!rules)
                        return -ENOMEM;
                b->rules = rules;
                b->allocated *= 2;
        }
        b->rules[b->n++] = r;
        return 0;
}

void rule_index_remove(RuleIndex *x, const Rule *r) {
        struct bucket *b = rule_index_find(x, &r->source);

        if (!b)
                return;
        for (size_t i = 0; i < b->n; i++)
                if (b->rules[i] == r) {
                        b->rules[i] = b->rules[--b->n];
                        break;
                }
        if (b->n == 0) {
                free(b->rules);
                *b = (struct bucket) { .tombstone = true };
                x->n_used--;
                x->n_tombstones++;
        }
}

Rule *const *rule_index_get(const RuleIndex *x, const struct prefix *p, size_t *ret_n) {
        const struct bucket *b = rule_index_find(x, p);

        *ret_n = b ? b->n : 0;
        return b ? b->rules : NULL;
}
