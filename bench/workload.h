/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The benchmark's workload, generated from one seed so that every run, and
 * every program within a run, sees the same prefixes, rules and packets:
 *  - block prefixes (IPv4, shaped like an abuse feed plus a DROP list),
 *  - classifier rule sets (sources, destinations, protocols, ports, ranges),
 *  - source addresses that are in, or not in, the prefix set,
 *  - the frames (pass, drop, block) every program runs on.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "packet.h"

/* splitmix64: small, fast, and the same sequence everywhere. */
struct bench_rng {
        uint64_t state;
};
uint64_t bench_rng_next(struct bench_rng *rng);
uint32_t bench_rng_below(struct bench_rng *rng, uint32_t n);     /* 0..n-1 */

struct bench_prefix {
        uint32_t addr;                  /* host order, host bits zero */
        uint8_t len;
};

/*
 * n distinct IPv4 prefixes drawn across the public unicast space (no
 * 0/8, 10/8, 127/8, multicast, or the ranges the packets use). Shape, as
 * in abuse feeds plus a DROP list: 85% /32, 1% /25-/31, 10% /24, 3.9% /20-/23,
 * 0.1% /16-/19. Entry 0 is a /32. Any leading slice is a sample of the same
 * shape, so the smaller sets are the first entries of the larger one.
 */
int bench_prefixes_generate(uint64_t seed, size_t n, struct bench_prefix **ret);
const char *bench_prefix_format(const struct bench_prefix *p, char buf[static 20]);

/* Which addresses the union of a prefix set covers: merged intervals, binary search. */
typedef struct BenchCover BenchCover;
int bench_cover_new(const struct bench_prefix *p, size_t n, BenchCover **ret);
BenchCover *bench_cover_free(BenchCover *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(BenchCover *, bench_cover_free);
bool bench_cover_contains(const BenchCover *c, uint32_t addr);

/* n random public addresses (host order) that no prefix of the cover holds. */
int bench_addresses_outside(uint64_t seed, const BenchCover *c, size_t n, uint32_t **ret);
/* n random addresses (host order) inside random prefixes among p[0..n_prefixes). */
int bench_addresses_inside(uint64_t seed, const struct bench_prefix *p, size_t n_prefixes, size_t n,
                           uint32_t **ret);

/* ---- Classifier rules, as plain values (ours.c turns them into Rule objects) ---- */

struct bench_range {
        uint16_t first, last;
};

struct bench_rule {
        uint32_t id;                    /* > 0, in generation order */
        bool drop;
        int32_t priority;
        bool has_source, has_destination;
        struct bench_prefix source, destination;
        int protocol;                   /* -1 = any; else 1, 6, 17 */
        bool has_source_port, has_port;
        struct bench_range source_port, port;
        int icmp_type;                  /* -1 = any */
        int vlan;                       /* -1 = any */
};

/* The packets every program is run on (bench_packets_build). */
#define BENCH_HOST              0xc0000201u     /* 192.0.2.1: the protected host, destination of every packet */
#define BENCH_PASS_SOURCE       0xc6336407u     /* 198.51.100.7: the hot pass/drop source, in no prefix */
#define BENCH_PASS_SPORT        40000
#define BENCH_PASS_PORT         40000           /* UDP: no rule matches it */
#define BENCH_DROP_SPORT        40001
#define BENCH_DROP_PORT         4444            /* TCP: only the last rule matches it */

/*
 * n rules, sorted by rule order (priority, then id): realistic
 * and varied (source prefixes of /8../32, destination prefixes from the
 * host's networks, tcp/udp/icmp, single ports, port ranges, source ports,
 * ICMP types, VLANs), 85% drop, 15% pass. No rule matches the pass packet
 * (UDP to BENCH_PASS_PORT) from any source; the last rule, "drop tcp port
 * BENCH_DROP_PORT" (priority 1000), is the only one that matches the drop
 * packet, from any source: the classifier's worst case, the last rank.
 */
enum bench_rule_shape {
        BENCH_RULES_VARIED,             /* as above */
        BENCH_RULES_NO_ADDRESSES,       /* the same without source and destination prefixes (a diagnostic) */
};
int bench_rules_generate(uint64_t seed, size_t n, enum bench_rule_shape shape, struct bench_rule **ret);

/* A plain reading of one rule against the fields of a packet (to check the generator). */
bool bench_rule_matches(const struct bench_rule *r, uint32_t saddr, uint32_t daddr, uint8_t protocol,
                        uint16_t sport, uint16_t dport);

struct bench_packets {
        struct packet pass;             /* UDP BENCH_PASS_SOURCE:40000 -> BENCH_HOST:40000 */
        struct packet drop;             /* TCP BENCH_PASS_SOURCE:40001 -> BENCH_HOST:4444 */
        size_t saddr_offset;            /* where the IPv4 source lies in the frames */
};
int bench_packets_build(struct bench_packets *ret);
/* Writes a source address (host order) into a frame, keeping the IPv4 header checksum right. */
void bench_packet_set_source(struct packet *pkt, size_t saddr_offset, uint32_t saddr);
