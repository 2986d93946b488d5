/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Mixed IPv4/IPv6 prefix lists for the sets benchmarks (issue 7), generated
 * from one seed, so that bench/gen-prefixes (files for the daemon and nft) and
 * pf-bench (the kernel LPM trie) see the very same entries:
 *
 *  - the feed mix: 60 % IPv4 /32 hosts, 25 % IPv4 networks /16../24 (mostly
 *    /24), 15 % IPv6 (40 % /128 hosts, 25 % /64, 20 % /48, 15 % /32../63);
 *    IPv4-only and IPv6-only lists keep the same shape within the family;
 *  - all entries distinct; overlaps (a host inside a listed network) occur,
 *    as in real feeds;
 *  - never inside the ranges the sandbox and the tests use, nor any special
 *    range (PG_EXCLUDED_* below): traffic in the sandbox is only matched
 *    when a test puts its address in a list on purpose;
 *  - "parts": with parts = N, part k only holds prefixes whose first IPv4
 *    octet (IPv6: second 16-bit group) is k modulo N, so the lists of two
 *    different parts are disjoint, whatever their seeds (the replace case).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

enum pg_family_mix {
        PG_MIXED,
        PG_IPV4_ONLY,
        PG_IPV6_ONLY,
};

struct pg_options {
        uint64_t seed;
        size_t count;
        enum pg_family_mix mix;
        unsigned part, parts;           /* parts = 0 or 1: no partition */
};

struct pg_prefix {
        uint8_t family;                 /* 4 or 6 */
        uint8_t len;
        uint8_t addr[16];               /* network order, host bits zero; IPv4 in the first 4 bytes */
};

struct pg_address {
        uint8_t family;
        bool member;                    /* inside some prefix of the list */
        uint8_t addr[16];
};

/* splitmix64 */
struct pg_rng {
        uint64_t state;
};
uint64_t pg_rng_next(struct pg_rng *rng);
uint64_t pg_rng_below(struct pg_rng *rng, uint64_t n);

int pg_generate(const struct pg_options *o, struct pg_prefix **ret);

/* "192.0.2.0/24", "2001:db8::/32"; hosts (/32, /128) without the length, as feeds write them. */
#define PG_FORMAT_MAX 56
const char *pg_format_prefix(const struct pg_prefix *p, char buf[static PG_FORMAT_MAX]);
const char *pg_format_address(const struct pg_address *a, char buf[static PG_FORMAT_MAX]);

/* Which addresses the union of a list covers (merged intervals per family). */
typedef struct PgCover PgCover;
int pg_cover_new(const struct pg_prefix *p, size_t n, PgCover **ret);
PgCover *pg_cover_free(PgCover *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(PgCover *, pg_cover_free);
bool pg_cover_contains(const PgCover *c, uint8_t family, const uint8_t addr[16]);

/*
 * count source addresses in random order: round(count * member_fraction) of them
 * inside random prefixes of p (uniformly over the prefixes), the others random
 * addresses of the same families in no prefix of p (and in no excluded range).
 * Non-members take IPv4 or IPv6 in the list's proportion.
 */
int pg_sources(uint64_t seed, const struct pg_prefix *p, size_t n, size_t count, double member_fraction,
               struct pg_address **ret);
