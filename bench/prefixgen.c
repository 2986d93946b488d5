/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefixgen.h"

typedef unsigned __int128 u128;

uint64_t pg_rng_next(struct pg_rng *rng) {
        uint64_t z = (rng->state += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

uint64_t pg_rng_below(struct pg_rng *rng, uint64_t n) {
        return n ? pg_rng_next(rng) % n : 0;
}

/* ---- Excluded ranges ---- */

/*
 * IPv4 ranges no list entry and no non-member source ever touches: "this network", private,
 * shared, loopback, link-local, IETF, the documentation ranges (192.0.2.0/24 is the sandbox's:
 * tests/lib/sandbox.sh; 198.51.100.0/24 and 203.0.113.0/24 are left for addresses a test puts
 * in a list on purpose), 6to4 relay, benchmarking (198.18.0.0/15), multicast and reserved.
 */
static const struct {
        uint32_t addr;
        uint8_t len;
} excluded_v4[] = {
        { 0x00000000u, 8 },  { 0x0a000000u, 8 },  { 0x64400000u, 10 }, { 0x7f000000u, 8 },
        { 0xa9fe0000u, 16 }, { 0xac100000u, 12 }, { 0xc0000000u, 24 }, { 0xc0000200u, 24 },
        { 0xc0586300u, 24 }, { 0xc0a80000u, 16 }, { 0xc6120000u, 15 }, { 0xc6336400u, 24 },
        { 0xcb007100u, 24 }, { 0xe0000000u, 3 },
};

static uint64_t v4_last(uint32_t addr, unsigned len) {
        return (uint64_t) addr + ((uint64_t) 1 << (32 - len)) - 1;
}

static bool v4_excluded(uint32_t addr, unsigned len) {
        for (size_t i = 0; i < ELEMENTSOF(excluded_v4); i++)
                if (addr <= v4_last(excluded_v4[i].addr, excluded_v4[i].len) &&
                    excluded_v4[i].addr <= v4_last(addr, len))
                        return true;
        return false;
}

/*
 * IPv6: global unicast 2000::/3 only, without 2001::/16 (Teredo, benchmarking 2001:2::/48, ORCHID,
 * and the documentation 2001:db8::/32 the sandbox uses) and 2002::/16 (6to4: IPv4 inside).
 */
static uint16_t v6_first_group(struct pg_rng *rng) {
        for (;;) {
                uint16_t g = 0x2000 | (uint16_t) (pg_rng_next(rng) & 0x1fff);

                if (g != 0x2001 && g != 0x2002)
                        return g;
        }
}

static u128 v6_load(const uint8_t a[16]) {
        u128 v = 0;

        for (int i = 0; i < 16; i++)
                v = (v << 8) | a[i];
        return v;
}

static void v6_store(u128 v, uint8_t a[16]) {
        for (int i = 15; i >= 0; i--) {
                a[i] = (uint8_t) v;
                v >>= 8;
        }
}

static u128 v6_mask(unsigned len) {
        return len == 0 ? 0 : ~(u128) 0 << (128 - len);
}

static uint32_t v4_mask(unsigned len) {
        return len == 0 ? 0 : ~0u << (32 - len);
}

/* ---- Generation ---- */

static unsigned v4_network_length(struct pg_rng *rng) {
        /* per mille: mostly /24, as in DROP lists and abuse feeds */
        static const struct {
                uint8_t len;
                uint16_t weight;
        } lengths[] = {
                { 24, 700 }, { 23, 100 }, { 22, 80 }, { 21, 50 }, { 20, 40 },
                { 19, 20 },  { 18, 5 },   { 17, 3 },  { 16, 2 },
        };
        unsigned x = (unsigned) pg_rng_below(rng, 1000);

        for (size_t i = 0; i < ELEMENTSOF(lengths); i++) {
                if (x < lengths[i].weight)
                        return lengths[i].len;
                x -= lengths[i].weight;
        }
        return 24;
}

static unsigned v6_length(struct pg_rng *rng) {
        unsigned x = (unsigned) pg_rng_below(rng, 100);

        if (x < 40)
                return 128;
        if (x < 65)
                return 64;
        if (x < 85)
                return 48;
        return 32 + (unsigned) pg_rng_below(rng, 32);
}

static bool in_part(const struct pg_options *o, unsigned key) {
        return o->parts <= 1 || key % o->parts == o->part;
}

static void draw_v4(struct pg_rng *rng, const struct pg_options *o, unsigned len, struct pg_prefix *ret) {
        uint32_t addr, be;

        do
                addr = (uint32_t) pg_rng_next(rng) & v4_mask(len);
        while (v4_excluded(addr, len) || !in_part(o, addr >> 24));
        *ret = (struct pg_prefix) { .family = 4, .len = (uint8_t) len };
        be = htonl(addr);
        memcpy(ret->addr, &be, 4);
}

static void draw_v6(struct pg_rng *rng, const struct pg_options *o, unsigned len, struct pg_prefix *ret) {
        u128 v;

        do {
                v = ((u128) pg_rng_next(rng) << 64) | pg_rng_next(rng);
                v = (v & ~((u128) 0xffff << 112)) | ((u128) v6_first_group(rng) << 112);
                v &= v6_mask(len);
        } while (!in_part(o, (unsigned) (v >> 96) & 0xffff));
        *ret = (struct pg_prefix) { .family = 6, .len = (uint8_t) len };
        v6_store(v, ret->addr);
}

static uint64_t prefix_hash(const struct pg_prefix *p) {
        uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t) p->family << 8 | p->len);

        for (int i = 0; i < (p->family == 4 ? 4 : 16); i++)
                h = (h ^ p->addr[i]) * 0x100000001b3ull;
        return h ^ (h >> 29);
}

static bool prefix_equal(const struct pg_prefix *a, const struct pg_prefix *b) {
        return a->family == b->family && a->len == b->len && memcmp(a->addr, b->addr, 16) == 0;
}

int pg_generate(const struct pg_options *o, struct pg_prefix **ret) {
        _cleanup_free_ struct pg_prefix *p = NULL;
        _cleanup_free_ uint32_t *table = NULL;
        struct pg_rng rng = { o->seed ^ 0x7065746c69737473ull };
        size_t slots = 1024;

        if (o->count == 0 || (o->parts > 1 && o->part >= o->parts) || o->parts > 256)
                return -EINVAL;
        while (slots < o->count * 2)
                slots <<= 1;
        p = calloc(o->count, sizeof(*p));
        table = malloc(slots * sizeof(*table));
        if (!p || !table)
                return -ENOMEM;
        memset(table, 0xff, slots * sizeof(*table));

        for (size_t n = 0; n < o->count;) {
                struct pg_prefix x;
                unsigned kind = (unsigned) pg_rng_below(&rng, 100);
                size_t slot;
                bool duplicate = false;

                if (o->mix == PG_IPV6_ONLY || (o->mix == PG_MIXED && kind >= 85))
                        draw_v6(&rng, o, v6_length(&rng), &x);
                else if ((o->mix == PG_MIXED ? kind : kind * 85 / 100) < 60)
                        draw_v4(&rng, o, 32, &x);
                else
                        draw_v4(&rng, o, v4_network_length(&rng), &x);

                for (slot = prefix_hash(&x) & (slots - 1); table[slot] != UINT32_MAX; slot = (slot + 1) & (slots - 1))
                        if (prefix_equal(&p[table[slot]], &x)) {
                                duplicate = true;
                                break;
                        }
                if (duplicate)
                        continue;
                table[slot] = (uint32_t) n;
                p[n++] = x;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

const char *pg_format_prefix(const struct pg_prefix *p, char buf[static PG_FORMAT_MAX]) {
        char text[INET6_ADDRSTRLEN];

        inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, text, sizeof(text));
        if (p->len == (p->family == 4 ? 32 : 128))
                snprintf(buf, PG_FORMAT_MAX, "%s", text);
        else
                snprintf(buf, PG_FORMAT_MAX, "%s/%u", text, p->len);
        return buf;
}

const char *pg_format_address(const struct pg_address *a, char buf[static PG_FORMAT_MAX]) {
        inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, buf, PG_FORMAT_MAX);
        return buf;
}

/* ---- Cover ---- */

struct interval {
        u128 first, last;
};

struct PgCover {
        struct interval *v[2];          /* [0] IPv4, [1] IPv6 */
        size_t n[2];
};

static int compare_interval(const void *a, const void *b) {
        const struct interval *x = a, *y = b;

        return (x->first > y->first) - (x->first < y->first);
}

static size_t merge(struct interval *v, size_t n) {
        size_t out = 0;

        if (n == 0)
                return 0;
        qsort(v, n, sizeof(*v), compare_interval);
        for (size_t i = 1; i < n; i++) {
                if (v[i].first <= v[out].last + 1 || v[out].last == ~(u128) 0) {
                        if (v[i].last > v[out].last)
                                v[out].last = v[i].last;
                } else
                        v[++out] = v[i];
        }
        return out + 1;
}

static u128 prefix_first(const struct pg_prefix *p) {
        uint32_t be;

        if (p->family == 6)
                return v6_load(p->addr);
        memcpy(&be, p->addr, 4);
        return ntohl(be);
}

int pg_cover_new(const struct pg_prefix *p, size_t n, PgCover **ret) {
        _cleanup_(pg_cover_freep) PgCover *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        for (int f = 0; f < 2; f++) {
                c->v[f] = malloc((n ?: 1) * sizeof(struct interval));
                if (!c->v[f])
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                int f = p[i].family == 6;
                unsigned bits = f ? 128 : 32;
                u128 first = prefix_first(&p[i]);
                u128 size_minus_1 = p[i].len == 0 ? (f ? ~(u128) 0 : 0xffffffffu)
                                                  : (((u128) 1 << (bits - p[i].len)) - 1);

                c->v[f][c->n[f]++] = (struct interval) { first, first + size_minus_1 };
        }
        for (int f = 0; f < 2; f++)
                c->n[f] = merge(c->v[f], c->n[f]);
        *ret = TAKE_PTR(c);
        return 0;
}

PgCover *pg_cover_free(PgCover *c) {
        if (!c)
                return NULL;
        free(c->v[0]);
        free(c->v[1]);
        free(c);
        return NULL;
}

bool pg_cover_contains(const PgCover *c, uint8_t family, const uint8_t addr[16]) {
        struct pg_prefix x = { .family = family };
        int f = family == 6;
        size_t lo = 0, hi = c->n[f];
        u128 a;

        memcpy(x.addr, addr, 16);
        a = prefix_first(&x);
        /* The last interval starting at or before a. */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (c->v[f][mid].first <= a)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo > 0 && a <= c->v[f][lo - 1].last;
}

/* ---- Sources ---- */

static void member_of(struct pg_rng *rng, const struct pg_prefix *p, struct pg_address *ret) {
        *ret = (struct pg_address) { .family = p->family, .member = true };
        if (p->family == 4) {
                uint32_t be;
                uint32_t a;

                memcpy(&be, p->addr, 4);
                a = ntohl(be) | ((uint32_t) pg_rng_next(rng) & ~v4_mask(p->len));
                be = htonl(a);
                memcpy(ret->addr, &be, 4);
        } else {
                u128 host = ((u128) pg_rng_next(rng) << 64) | pg_rng_next(rng);

                v6_store(v6_load(p->addr) | (host & ~v6_mask(p->len)), ret->addr);
        }
}

static void outsider(struct pg_rng *rng, const PgCover *c, uint8_t family, struct pg_address *ret) {
        *ret = (struct pg_address) { .family = family };
        for (;;) {
                if (family == 4) {
                        uint32_t a = (uint32_t) pg_rng_next(rng), be = htonl(a);

                        if (v4_excluded(a, 32))
                                continue;
                        memcpy(ret->addr, &be, 4);
                } else {
                        u128 v = ((u128) pg_rng_next(rng) << 64) | pg_rng_next(rng);

                        v = (v & ~((u128) 0xffff << 112)) | ((u128) v6_first_group(rng) << 112);
                        v6_store(v, ret->addr);
                }
                if (!pg_cover_contains(c, family, ret->addr))
                        return;
        }
}

int pg_sources(uint64_t seed, const struct pg_prefix *p, size_t n, size_t count, double member_fraction,
               struct pg_address **ret) {
        _cleanup_(pg_cover_freep) PgCover *c = NULL;
        _cleanup_free_ struct pg_address *a = NULL;
        struct pg_rng rng = { seed ^ 0x736f757263657321ull };
        size_t members, n4 = 0;
        int r;

        if (n == 0 || count == 0 || !(member_fraction >= 0 && member_fraction <= 1))
                return -EINVAL;
        r = pg_cover_new(p, n, &c);
        if (r < 0)
                return r;
        a = calloc(count, sizeof(*a));
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                n4 += p[i].family == 4;

        members = (size_t) llround((double) count * member_fraction);
        for (size_t i = 0; i < count; i++) {
                if (i < members)
                        member_of(&rng, &p[pg_rng_below(&rng, n)], &a[i]);
                else
                        outsider(&rng, c, pg_rng_below(&rng, n) < n4 ? 4 : 6, &a[i]);
        }
        /* Fisher-Yates: members and non-members interleaved at random. */
        for (size_t i = count - 1; i > 0; i--) {
                size_t j = (size_t) pg_rng_below(&rng, i + 1);
                struct pg_address t = a[i];

                a[i] = a[j];
                a[j] = t;
        }
        *ret = TAKE_PTR(a);
        return 0;
}
