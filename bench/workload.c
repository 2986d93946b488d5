/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "workload.h"

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17

uint64_t bench_rng_next(struct bench_rng *rng) {
        uint64_t z = (rng->state += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

uint32_t bench_rng_below(struct bench_rng *rng, uint32_t n) {
        return (uint32_t) (((bench_rng_next(rng) >> 32) * (uint64_t) n) >> 32);
}

static uint32_t prefix_mask(uint8_t len) {
        return len == 0 ? 0 : ~0u << (32 - len);
}

/* Public unicast, and none of the ranges the benchmark's packets and rules use. */
static bool address_is_public(uint32_t a) {
        uint8_t first = a >> 24;

        if (first == 0 || first == 10 || first == 127 || first >= 224)
                return false;
        if ((a & 0xffff0000u) == 0xa9fe0000u ||         /* 169.254/16 */
            (a & 0xfff00000u) == 0xac100000u ||         /* 172.16/12 */
            (a & 0xffff0000u) == 0xc0a80000u ||         /* 192.168/16 */
            (a & 0xffffff00u) == 0xc0000200u ||         /* 192.0.2/24: the host */
            (a & 0xffffff00u) == 0xc6336400u ||         /* 198.51.100/24: hot sources */
            (a & 0xffffff00u) == 0xcb007100u ||         /* 203.0.113/24 */
            (a & 0xfffe0000u) == 0xc6120000u)           /* 198.18/15: rule destinations */
                return false;
        return true;
}

static uint32_t random_public(struct bench_rng *rng) {
        for (;;) {
                uint32_t a = (uint32_t) bench_rng_next(rng);

                if (address_is_public(a))
                        return a;
        }
}

static uint8_t random_block_length(struct bench_rng *rng) {
        uint32_t x = bench_rng_below(rng, 1000);

        if (x < 850)
                return 32;
        if (x < 860)
                return 25 + bench_rng_below(rng, 7);    /* /25../31 */
        if (x < 960)
                return 24;
        if (x < 999)
                return 20 + bench_rng_below(rng, 4);    /* /20../23 */
        return 16 + bench_rng_below(rng, 4);            /* /16../19 */
}

/* An open-addressing set of (address, length) to keep the prefixes distinct. */
struct prefix_set {
        uint64_t *slots;                /* 0 = empty; else (addr << 8 | len) + 1 */
        size_t mask;
};

static bool prefix_set_add(struct prefix_set *s, const struct bench_prefix *p) {
        uint64_t key = ((uint64_t) p->addr << 8 | p->len) + 1;
        size_t i = (size_t) ((key * 0x9e3779b97f4a7c15ULL) >> 20) & s->mask;

        for (;; i = (i + 1) & s->mask) {
                if (s->slots[i] == key)
                        return false;
                if (s->slots[i] == 0) {
                        s->slots[i] = key;
                        return true;
                }
        }
}

int bench_prefixes_generate(uint64_t seed, size_t n, struct bench_prefix **ret) {
        struct bench_rng rng = { seed };
        _cleanup_free_ struct bench_prefix *p = NULL;
        _cleanup_free_ uint64_t *slots = NULL;
        struct prefix_set set;
        size_t size = 1024;

        while (size < 2 * n)
                size <<= 1;
        slots = calloc(size, sizeof(*slots));
        p = calloc(n ?: 1, sizeof(*p));
        if (!slots || !p)
                return -ENOMEM;
        set = (struct prefix_set) { .slots = slots, .mask = size - 1 };

        for (size_t i = 0; i < n;) {
                uint8_t len = i == 0 ? 32 : random_block_length(&rng);
                struct bench_prefix candidate = { .addr = random_public(&rng) & prefix_mask(len), .len = len };

                /* Masking may land a wide prefix on a range we keep clear (say 198.0.0.0/12). */
                if (!address_is_public(candidate.addr) ||
                    !address_is_public(candidate.addr | ~prefix_mask(len)) ||
                    !address_is_public(candidate.addr | (~prefix_mask(len) & 0x00fefe00u)))
                        continue;
                if ((BENCH_PASS_SOURCE & prefix_mask(len)) == candidate.addr ||
                    (BENCH_HOST & prefix_mask(len)) == candidate.addr)
                        continue;
                if (prefix_set_add(&set, &candidate))
                        p[i++] = candidate;
        }

        *ret = TAKE_PTR(p);
        return 0;
}

const char *bench_prefix_format(const struct bench_prefix *p, char buf[static 20]) {
        snprintf(buf, 20, "%u.%u.%u.%u/%u", p->addr >> 24, (p->addr >> 16) & 0xff, (p->addr >> 8) & 0xff,
                 p->addr & 0xff, p->len);
        return buf;
}

/* ---- Cover ---- */

struct interval {
        uint32_t first, last;           /* inclusive */
};

struct BenchCover {
        struct interval *intervals;
        size_t n;
};

static int interval_compare(const void *a, const void *b) {
        const struct interval *x = a, *y = b;

        if (x->first != y->first)
                return x->first < y->first ? -1 : 1;
        return x->last < y->last ? -1 : x->last > y->last;
}

int bench_cover_new(const struct bench_prefix *p, size_t n, BenchCover **ret) {
        _cleanup_free_ struct interval *v = NULL;
        BenchCover *c;
        size_t m = 0;

        v = calloc(n ?: 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                v[i] = (struct interval) { p[i].addr, p[i].addr | ~prefix_mask(p[i].len) };
        qsort(v, n, sizeof(*v), interval_compare);
        for (size_t i = 0; i < n; i++) {
                if (m > 0 && (uint64_t) v[i].first <= (uint64_t) v[m - 1].last + 1) {
                        if (v[i].last > v[m - 1].last)
                                v[m - 1].last = v[i].last;
                } else
                        v[m++] = v[i];
        }

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        *c = (BenchCover) { .intervals = TAKE_PTR(v), .n = m };
        *ret = c;
        return 0;
}

BenchCover *bench_cover_free(BenchCover *c) {
        if (!c)
                return NULL;
        free(c->intervals);
        free(c);
        return NULL;
}

bool bench_cover_contains(const BenchCover *c, uint32_t addr) {
        size_t lo = 0, hi = c->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (c->intervals[mid].last < addr)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < c->n && c->intervals[lo].first <= addr;
}

int bench_addresses_outside(uint64_t seed, const BenchCover *c, size_t n, uint32_t **ret) {
        struct bench_rng rng = { seed };
        uint32_t *v = calloc(n ?: 1, sizeof(*v));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n;) {
                uint32_t a = random_public(&rng);

                if (!bench_cover_contains(c, a))
                        v[i++] = a;
        }
        *ret = v;
        return 0;
}

int bench_addresses_inside(uint64_t seed, const struct bench_prefix *p, size_t n_prefixes, size_t n,
                           uint32_t **ret) {
        struct bench_rng rng = { seed };
        uint32_t *v;

        if (n_prefixes == 0)
                return -EINVAL;
        v = calloc(n ?: 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const struct bench_prefix *q = &p[bench_rng_below(&rng, (uint32_t) n_prefixes)];

                v[i] = q->addr | ((uint32_t) bench_rng_next(&rng) & ~prefix_mask(q->len));
        }
        *ret = v;
        return 0;
}

/* ---- Rules ---- */

/* What firewall rule sets name again and again: a few dozen services and ranges. */
static const struct bench_range port_pool[] = {
        { 22, 22 }, { 25, 25 }, { 53, 53 }, { 80, 80 }, { 110, 110 }, { 123, 123 }, { 143, 143 },
        { 161, 161 }, { 389, 389 }, { 443, 443 }, { 445, 445 }, { 465, 465 }, { 587, 587 },
        { 636, 636 }, { 993, 993 }, { 995, 995 }, { 1194, 1194 }, { 1433, 1433 }, { 1521, 1521 },
        { 1883, 1883 }, { 2049, 2049 }, { 2375, 2376 }, { 3306, 3306 }, { 3389, 3389 },
        { 5060, 5061 }, { 5432, 5432 }, { 5672, 5672 }, { 5900, 5900 }, { 6379, 6379 },
        { 6443, 6443 }, { 8080, 8080 }, { 8443, 8443 }, { 9090, 9090 }, { 9200, 9200 },
        { 11211, 11211 }, { 27017, 27017 },
        /* ranges */
        { 1, 1023 }, { 137, 139 }, { 6000, 6063 }, { 8000, 8100 }, { 10000, 20000 },
        { 27015, 27030 }, { 30000, 32767 }, { 49152, 65535 }, { 2000, 2999 }, { 9000, 9999 },
};
#define PORT_POOL_SINGLES 36

static const struct bench_range source_port_pool[] = {
        { 0, 1023 }, { 1024, 65535 }, { 53, 53 }, { 123, 123 }, { 67, 68 }, { 49152, 65535 },
};

static const int icmp_type_pool[] = { 0, 3, 5, 8, 11, 13 };
static const int vlan_pool[] = { 10, 20, 100, 4000 };

static uint8_t random_rule_source_length(struct bench_rng *rng) {
        uint32_t x = bench_rng_below(rng, 100);

        if (x < 2)
                return 8;
        if (x < 10)
                return 12 + bench_rng_below(rng, 5);    /* /12../16 */
        if (x < 50)
                return 17 + bench_rng_below(rng, 8);    /* /17../24 */
        return 25 + bench_rng_below(rng, 8);            /* /25../32 */
}

static struct bench_prefix random_rule_destination(struct bench_rng *rng) {
        static const struct bench_prefix fixed[] = {
                { 0xc0000200u, 24 }, { 0xc0000200u, 25 }, { 0xc0000280u, 25 }, { 0xc0000201u, 32 },
                { 0xc0000202u, 32 }, { 0xc0000240u, 26 }, { 0xc6120000u, 15 },
        };
        uint32_t x = bench_rng_below(rng, 10);

        if (x < 7)
                return fixed[x];
        /* A /24 of the host's other networks. */
        return (struct bench_prefix) { 0xc6120000u | bench_rng_below(rng, 512) << 8, 24 };
}

bool bench_rule_matches(const struct bench_rule *r, uint32_t saddr, uint32_t daddr, uint8_t protocol,
                        uint16_t sport, uint16_t dport) {
        bool ports = protocol == PROTO_TCP || protocol == PROTO_UDP;

        if (r->has_source && (saddr & prefix_mask(r->source.len)) != r->source.addr)
                return false;
        if (r->has_destination && (daddr & prefix_mask(r->destination.len)) != r->destination.addr)
                return false;
        if (r->protocol >= 0 && r->protocol != protocol)
                return false;
        if (r->has_source_port && (!ports || sport < r->source_port.first || sport > r->source_port.last))
                return false;
        if (r->has_port && (!ports || dport < r->port.first || dport > r->port.last))
                return false;
        if (r->icmp_type >= 0)
                return false;           /* the benchmark's packets carry no ICMP */
        if (r->vlan >= 0)
                return false;           /* ... and no VLAN tag */
        return true;
}

/* Could r match the pass or the drop packet, from some source? */
static bool rule_could_match_bench_packets(const struct bench_rule *r) {
        struct bench_rule any_source = *r;

        any_source.has_source = false;
        return bench_rule_matches(&any_source, 0, BENCH_HOST, PROTO_UDP, BENCH_PASS_SPORT, BENCH_PASS_PORT) ||
               bench_rule_matches(&any_source, 0, BENCH_HOST, PROTO_TCP, BENCH_DROP_SPORT, BENCH_DROP_PORT);
}

static void random_rule(struct bench_rng *rng, enum bench_rule_shape shape, struct bench_rule *r) {
        static const int32_t priorities[] = { -10, 0, 0, 0, 0, 10 };
        uint32_t x;

        *r = (struct bench_rule) {
                .drop = bench_rng_below(rng, 100) < 85,
                .priority = priorities[bench_rng_below(rng, ELEMENTSOF(priorities))],
                .protocol = -1,
                .icmp_type = -1,
                .vlan = -1,
        };
        if (bench_rng_below(rng, 100) < 60) {
                uint8_t len = random_rule_source_length(rng);

                r->has_source = true;
                r->source = (struct bench_prefix) { random_public(rng) & prefix_mask(len), len };
        }
        if (bench_rng_below(rng, 100) < 35) {
                r->has_destination = true;
                r->destination = random_rule_destination(rng);
        }

        x = bench_rng_below(rng, 100);
        r->protocol = x < 60 ? PROTO_TCP : x < 85 ? PROTO_UDP : x < 93 ? PROTO_ICMP : -1;
        if (r->protocol == PROTO_TCP || r->protocol == PROTO_UDP) {
                if (bench_rng_below(rng, 100) < 80) {
                        r->has_port = true;
                        r->port = bench_rng_below(rng, 100) < 65 ?
                                port_pool[bench_rng_below(rng, PORT_POOL_SINGLES)] :
                                port_pool[PORT_POOL_SINGLES +
                                          bench_rng_below(rng, ELEMENTSOF(port_pool) - PORT_POOL_SINGLES)];
                }
                if (bench_rng_below(rng, 100) < 10) {
                        r->has_source_port = true;
                        r->source_port = source_port_pool[bench_rng_below(rng, ELEMENTSOF(source_port_pool))];
                }
        } else if (r->protocol == PROTO_ICMP && bench_rng_below(rng, 100) < 50)
                r->icmp_type = icmp_type_pool[bench_rng_below(rng, ELEMENTSOF(icmp_type_pool))];
        if (bench_rng_below(rng, 100) < 3)
                r->vlan = vlan_pool[bench_rng_below(rng, ELEMENTSOF(vlan_pool))];

        if (shape == BENCH_RULES_NO_ADDRESSES)
                r->has_source = r->has_destination = false;

        /* Keep the benchmark's packets on their paths: such a rule gets a service port as well. */
        if (rule_could_match_bench_packets(r)) {
                if (r->protocol < 0)
                        r->protocol = PROTO_TCP;
                r->has_port = true;
                r->port = port_pool[bench_rng_below(rng, PORT_POOL_SINGLES)];
        }
}

static int bench_rule_compare(const void *a, const void *b) {
        const struct bench_rule *x = a, *y = b;

        if (x->priority != y->priority)
                return x->priority < y->priority ? -1 : 1;
        return (x->id > y->id) - (x->id < y->id);
}

int bench_rules_generate(uint64_t seed, size_t n, enum bench_rule_shape shape, struct bench_rule **ret) {
        struct bench_rng rng = { seed ^ 0x72756c6573ULL };
        _cleanup_free_ struct bench_rule *v = NULL;

        if (n == 0)
                return -EINVAL;
        v = calloc(n, sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i + 1 < n; i++) {
                random_rule(&rng, shape, &v[i]);
                v[i].id = (uint32_t) i + 1;
        }
        v[n - 1] = (struct bench_rule) {
                .id = (uint32_t) n,
                .drop = true,
                .priority = 1000,
                .protocol = PROTO_TCP,
                .has_port = true,
                .port = { BENCH_DROP_PORT, BENCH_DROP_PORT },
                .icmp_type = -1,
                .vlan = -1,
        };
        qsort(v, n, sizeof(*v), bench_rule_compare);

        *ret = TAKE_PTR(v);
        return 0;
}

/* ---- Packets ---- */

static void format_ipv4(uint32_t a, char buf[static 16]) {
        snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

int bench_packets_build(struct bench_packets *ret) {
        char src[16], dst[16];
        struct bench_packets p = {};
        int r;

        format_ipv4(BENCH_PASS_SOURCE, src);
        format_ipv4(BENCH_HOST, dst);
        r = packet_build(&(struct packet_spec) {
                        .l3 = PACKET_L3_IPV4, .src = src, .dst = dst, .l4 = PACKET_L4_UDP,
                        .sport = BENCH_PASS_SPORT, .dport = BENCH_PASS_PORT, .payload = 18,
                }, &p.pass);
        if (r < 0)
                return r;
        r = packet_build(&(struct packet_spec) {
                        .l3 = PACKET_L3_IPV4, .src = src, .dst = dst, .l4 = PACKET_L4_TCP,
                        .sport = BENCH_DROP_SPORT, .dport = BENCH_DROP_PORT, .payload = 6,
                }, &p.drop);
        if (r < 0)
                return r;
        p.saddr_offset = p.pass.l3_off + 12;
        /* 60 bytes each (a minimal Ethernet frame without FCS), untagged, no IP options. */
        if (p.pass.len != 60 || p.drop.len != 60 || p.pass.l3_off != 14 || p.drop.l3_off != 14 ||
            p.pass.l4_off != 34 || p.drop.l4_off != 34)
                return -EBADMSG;

        *ret = p;
        return 0;
}

void bench_packet_set_source(struct packet *pkt, size_t saddr_offset, uint32_t saddr) {
        uint8_t *ip = pkt->data + pkt->l3_off;
        uint32_t be = htonl(saddr);
        uint16_t sum;

        memcpy(pkt->data + saddr_offset, &be, 4);
        ip[10] = ip[11] = 0;
        sum = packet_checksum(ip, (size_t) (ip[0] & 0x0f) * 4, 0);
        ip[10] = sum >> 8;
        ip[11] = sum & 0xff;
        /* L4 checksums are left stale: no program under test reads them. */
}
