/* SPDX-License-Identifier: (GPL-2.0-or-later OR BSD-2-Clause) */
/*
 * The XDP program. Per packet:
 *   1. parse Ethernet (two VLAN tags at most), IPv4 (options, fragments) or
 *      IPv6 (a bounded chain of extension headers), and TCP/UDP/SCTP ports or
 *      the ICMP/ICMPv6 type;
 *   2. pick the copy of the tables in force (pf_config.active) once;
 *   3. block rules: the longest block prefix holding the source address,
 *      from the DIR-24 table (IPv4 up to /24) or by probing pf_prefixes at
 *      the lengths present, longest first;
 *   4. classifier rules: one class per field (arrays for protocol, ports,
 *      ICMP type and VLAN; a binary search over intervals for addresses;
 *      for named sets, the address's membership from a second prefix table),
 *      the AND of their bitmaps; the lowest set bit is the first match;
 *   5. the earlier of the two in rule order decides; else the default action.
 * Nothing loops over rules: the cost depends on the fields and prefix
 * lengths in use, not on how many rules there are. See docs/dataplane.md.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "packetfilter.h"

#define PF_ETH_P_8021Q          0x8100
#define PF_ETH_P_8021AD         0x88A8
#define PF_IPPROTO_ICMPV6       58
#define PF_IPPROTO_SCTP         132
#define PF_NEXTHDR_HOP          0
#define PF_NEXTHDR_ROUTING      43
#define PF_NEXTHDR_FRAGMENT     44
#define PF_NEXTHDR_AUTH         51
#define PF_NEXTHDR_NONE         59
#define PF_NEXTHDR_DEST         60
#define PF_NDP_TYPE_FIRST       133     /* router solicitation */
#define PF_NDP_TYPE_LAST        137     /* redirect */
#define PF_NDP_HOP_LIMIT        255     /* RFC 4861: on-link NDP always carries 255 */
#define PF_IP_OFFSET_MASK       0x1fff
#define PF_IP6_OFFSET_MASK      0xfff8

#define ARRAY_MAP(name, value_type, entries, flags)             \
        struct {                                                \
                __uint(type, BPF_MAP_TYPE_ARRAY);               \
                __type(key, __u32);                             \
                __type(value, value_type);                      \
                __uint(max_entries, entries);                   \
                __uint(map_flags, flags);                       \
                __uint(pinning, LIBBPF_PIN_BY_NAME);            \
        } name SEC(".maps")

ARRAY_MAP(pf_config, struct pf_config, 1, 0);
ARRAY_MAP(pf_gen, struct pf_gen, PF_COPIES, 0);
ARRAY_MAP(pf_masks, struct pf_mask, 129, 0);
ARRAY_MAP(pf_v4_block, struct pf_tbl24_row, PF_COPIES * PF_V4_TBL24_ENTRIES / PF_TBL24_ROW, BPF_F_MMAPABLE);
ARRAY_MAP(pf_v4_set, struct pf_tbl24_row, PF_COPIES * PF_V4_TBL24_ENTRIES / PF_TBL24_ROW, BPF_F_MMAPABLE);
ARRAY_MAP(pf_set_class, __u32, PF_COPIES * 2 * PF_MAX_MEMBERSHIPS, BPF_F_MMAPABLE);
ARRAY_MAP(pf_block_info, struct pf_rule_info, PF_BLOCK_SLOTS, BPF_F_MMAPABLE);
ARRAY_MAP(pf_block_counters, struct pf_counter, PF_BLOCK_SLOTS, 0);
ARRAY_MAP(pf_rule_info, struct pf_rule_info, PF_RULE_SLOTS, BPF_F_MMAPABLE);
ARRAY_MAP(pf_rank_slot, __u32, PF_COPIES * PF_MAX_RULES, BPF_F_MMAPABLE);
ARRAY_MAP(pf_proto_class, __u32, PF_COPIES * 256, BPF_F_MMAPABLE);
ARRAY_MAP(pf_sport_class, __u32, PF_COPIES * PF_PORT_PROTOCOLS * 65536, BPF_F_MMAPABLE);
ARRAY_MAP(pf_dport_class, __u32, PF_COPIES * PF_PORT_PROTOCOLS * 65536, BPF_F_MMAPABLE);
ARRAY_MAP(pf_icmp_class, __u32, PF_COPIES * 256, BPF_F_MMAPABLE);
ARRAY_MAP(pf_vlan_class, __u32, PF_COPIES * (PF_VLAN_UNTAGGED + 1), BPF_F_MMAPABLE);
ARRAY_MAP(pf_bitmaps, struct pf_bitmap, PF_COPIES * PF_MAX_CLASSES, BPF_F_MMAPABLE);
ARRAY_MAP(pf_intervals_v4, struct pf_intervals_v4, PF_COPIES * 2, BPF_F_MMAPABLE);
ARRAY_MAP(pf_intervals_v6, struct pf_intervals_v6, PF_COPIES * 2, BPF_F_MMAPABLE);

struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __type(key, struct pf_prefix_key);
        __type(value, __u32);
        __uint(max_entries, PF_MAX_PREFIX_ENTRIES);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_prefixes SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __type(key, struct pf_v6_dir_key);
        __type(value, struct pf_v6_dir);
        __uint(max_entries, PF_MAX_PREFIX_ENTRIES);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_v6_dir SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __type(key, struct pf_iface_key);
        __type(value, __u32);
        __uint(max_entries, PF_COPIES * PF_MAX_INTERFACES);
        __uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_iface_class SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __type(key, __u32);
        __type(value, struct pf_counter);
        __uint(max_entries, PF_RULE_SLOTS);
        __uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_rule_counters SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __type(key, __u32);
        __type(value, __u64);
        __uint(max_entries, _PF_STAT_MAX);
        __uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_stats SEC(".maps");

ARRAY_MAP(pf_rate_config, struct pf_rate_limit, PF_RULE_SLOTS, 0);
ARRAY_MAP(pf_rate_rule, struct pf_rate_bucket, PF_RULE_SLOTS, 0);
ARRAY_MAP(pf_event_config, struct pf_event_config, 1, 0);

struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __type(key, struct pf_rate_source_key);
        __type(value, struct pf_rate_bucket);
        __uint(max_entries, PF_RATE_SOURCES);
        __uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_rate_source SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __type(key, __u32);
        __type(value, __u64);
        __uint(max_entries, PF_RULE_SLOTS);
        __uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_rate_limited SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_RINGBUF);
        __uint(max_entries, PF_DROP_EVENTS_BYTES);
        __uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_drop_events SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __type(key, __u32);
        __type(value, struct pf_drop_budget);
        __uint(max_entries, 1);
        __uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_drop_budget SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
        __type(key, __u32);
        __type(value, struct pf_iface_stats);
        __uint(max_entries, PF_MAX_INTERFACES);
        __uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_iface_stats SEC(".maps");

struct pf_vlan_hdr {
        __be16 tci;
        __be16 encapsulated_proto;
};

struct pf_addr {
        __u32 word[4];                  /* network order; IPv4 in word[0] */
};

/* What the classifier and the block table look at, parsed once. */
struct packet {
        struct pf_addr src;             /* network order; IPv4 in word[0] */
        struct pf_addr dst;
        __u32 family;                   /* enum pf_family_index */
        __u32 protocol;                 /* upper-layer protocol, also for non-first fragments */
        __u32 has_l4;                   /* ports or ICMP type were read */
        __u32 sport, dport;             /* host order */
        __u32 icmp_type;
        __u32 vlan;                     /* outer VLAN id, or PF_VLAN_UNTAGGED */
        __u32 hop_limit;
};

static __always_inline void stat_inc(__u32 stat) {
        __u64 *v = bpf_map_lookup_elem(&pf_stats, &stat);

        if (v)
                *v += 1;
}

/* Index of the lowest set bit; x != 0. Branch-free (a popcount of the bits below it): BPF has
 * no instruction for it, clang 14 cannot expand the builtin, and branches would multiply the
 * paths the verifier walks. */
static __always_inline __u32 ctz64(__u64 x) {
        __u64 v = (x & (0 - x)) - 1;

        v = v - ((v >> 1) & 0x5555555555555555ULL);
        v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
        v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
        return (__u32) ((v * 0x0101010101010101ULL) >> 56);
}

/*
 * Longest-prefix match among the block prefixes in pf_prefixes: probes the lengths
 * present (a list the daemon keeps per copy and family, longest first) and stops at
 * the first hit. Cost: one hash look-up per length tried. Returns the slot, or -1.
 *
 * A global function: the verifier checks it once, not once per caller path.
 */
__noinline __s64 prefix_lookup(__u32 where, __u32 family, const struct pf_addr *addr,
                               const struct pf_length_list *lengths, __u32 max_len) {
        /* where: copy | table << 8 (BPF functions take five arguments at most). */
        struct pf_prefix_key key = { .copy = where & 1, .family = family, .table = (where >> 8) & 1 };
        __u32 n;

        if (!addr || !lengths)
                return -1;
        n = lengths->count;
        for (__u32 i = 0; i < n && i < 129; i++) {
                __u32 len = lengths->len[i];
                const struct pf_mask *m;
                __u32 *hit;

                if (len > max_len)
                        continue;
                m = bpf_map_lookup_elem(&pf_masks, &len);
                if (!m)
                        return -1;
                key.prefixlen = len;
                key.addr32[0] = addr->word[0] & m->word[0];
                key.addr32[1] = addr->word[1] & m->word[1];
                key.addr32[2] = addr->word[2] & m->word[2];
                key.addr32[3] = addr->word[3] & m->word[3];
                hit = bpf_map_lookup_elem(&pf_prefixes, &key);
                if (hit)
                        return *hit;
        }
        return -1;
}

/*
 * Branch-free comparisons: BPF has no conditional move, and a branch per step of a
 * binary search would make the verifier walk every path (2^14 of them).
 */
static __always_inline __u64 le32(__u32 x, __u32 y) {          /* 1 if x <= y */
        __s64 d = (__s64) y - (__s64) x;

        return (__u64) ((d >> 63) + 1);
}

static __always_inline __u64 lt64(__u64 x, __u64 y) {          /* 1 if x < y, unsigned */
        return ((~x & y) | ((~x | y) & (x - y))) >> 63;
}

static __always_inline __u64 eq64(__u64 x, __u64 y) {
        __u64 z = x ^ y;

        return 1 ^ ((z | (0 - z)) >> 63);
}

/*
 * The class of an address in one address field: the last interval starting at or
 * below it. The arrays are padded to PF_INTERVALS_MAX with copies of the last
 * interval, so the search is a fixed 14 halvings, always the same instructions.
 */
__noinline __s64 interval_lookup_v4(__u32 index, __u32 addr) {
        const struct pf_intervals_v4 *t = bpf_map_lookup_elem(&pf_intervals_v4, &index);
        __u32 base = 0;

        if (!t)
                return -1;
#pragma unroll
        for (__u32 half = PF_INTERVALS_MAX / 2; half > 0; half /= 2)
                base += le32(t->start[(base + half) & (PF_INTERVALS_MAX - 1)], addr) * half;
        return t->class[base & (PF_INTERVALS_MAX - 1)];
}

__noinline __s64 interval_lookup_v6(__u32 index, __u64 addr_hi, __u64 addr_lo) {
        const struct pf_intervals_v6 *t = bpf_map_lookup_elem(&pf_intervals_v6, &index);
        __u32 base = 0;

        if (!t)
                return -1;
#pragma unroll
        for (__u32 half = PF_INTERVALS_MAX / 2; half > 0; half /= 2) {
                __u32 i = (base + half) & (PF_INTERVALS_MAX - 1);
                __u64 s_hi = t->start_hi[i], s_lo = t->start_lo[i];
                /* start <= addr  <=>  not (addr < start) */
                __u64 below = lt64(addr_hi, s_hi) | (eq64(addr_hi, s_hi) & lt64(addr_lo, s_lo));

                base += (1 - below) * half;
        }
        return t->class[base & (PF_INTERVALS_MAX - 1)];
}

static __always_inline __s64 address_class(__u32 copy, __u32 field, const struct packet *p, const struct pf_addr *a) {
        __u32 index = copy * 2 + field;

        if (p->family == PF_FAMILY_V4)
                return interval_lookup_v4(index, bpf_ntohl(a->word[0]));
        return interval_lookup_v6(index,
                                  ((__u64) bpf_ntohl(a->word[0]) << 32) | bpf_ntohl(a->word[1]),
                                  ((__u64) bpf_ntohl(a->word[2]) << 32) | bpf_ntohl(a->word[3]));
}

/*
 * IPv6: the /32's directory entry says which longer lengths to probe and what holds the
 * /32 itself; without one, only lengths below /32 can hold the address. So a source in no
 * prefix costs one probe, however many lengths the table holds. A global function.
 */
__noinline __s64 v6_lookup(__u32 table, __u32 copy, const struct pf_addr *addr, const struct pf_length_list *lengths) {
        struct pf_v6_dir_key dk = { .copy = copy, .table = table };
        const struct pf_v6_dir *d;
        struct pf_prefix_key key = { .copy = copy, .family = PF_FAMILY_V6, .table = table };

        if (!addr || !lengths)
                return -1;
        dk.top32 = addr->word[0];
        d = bpf_map_lookup_elem(&pf_v6_dir, &dk);
        if (!d)
                return prefix_lookup(copy | table << 8, PF_FAMILY_V6, addr, lengths, 31);
        if (d->n > PF_V6_DIR_LENGTHS)
                return prefix_lookup(copy | table << 8, PF_FAMILY_V6, addr, lengths, 128);
        for (__u32 i = 0; i < PF_V6_DIR_LENGTHS && i < d->n; i++) {
                __u32 len = d->len[i];
                const struct pf_mask *m = bpf_map_lookup_elem(&pf_masks, &len);
                __u32 *hit;

                if (!m)
                        return -1;
                key.prefixlen = len;
                key.addr32[0] = addr->word[0] & m->word[0];
                key.addr32[1] = addr->word[1] & m->word[1];
                key.addr32[2] = addr->word[2] & m->word[2];
                key.addr32[3] = addr->word[3] & m->word[3];
                hit = bpf_map_lookup_elem(&pf_prefixes, &key);
                if (hit)
                        return *hit;
        }
        return d->base ? (__s64) d->base - 1 : -1;
}

/*
 * The longest prefix holding an address in one of the two prefix tables: the value stored
 * with it (block slot or membership), or -1. IPv4 reads the DIR-24 entry of the address's /24
 * first; only when longer prefixes lie in that /24 does it probe pf_prefixes. A global
 * function, verified once for both tables.
 */
__noinline __s64 lpm_lookup(__u32 table, __u32 copy, __u32 family, const struct pf_addr *addr,
                            const struct pf_length_list *lengths) {
        __s64 v;

        if (!addr || !lengths)
                return -1;
        if (family == PF_FAMILY_V4) {
                __u32 i = copy * PF_V4_TBL24_ENTRIES + (bpf_ntohl(addr->word[0]) >> 8);
                __u32 row_index = i / PF_TBL24_ROW;
                struct pf_tbl24_row *row = table == PF_TABLE_SETS ? bpf_map_lookup_elem(&pf_v4_set, &row_index) :
                                                                    bpf_map_lookup_elem(&pf_v4_block, &row_index);
                __u32 e;

                if (!row)
                        return -1;
                e = row->entry[i & (PF_TBL24_ROW - 1)];
                if (e & PF_V4_HAS_32) {
                        /* The commonest longer prefix, a single address: one exact probe. */
                        struct pf_prefix_key key = {
                                .copy = copy, .family = PF_FAMILY_V4, .prefixlen = 32, .table = table,
                        };
                        __u32 *hit;

                        key.addr32[0] = addr->word[0];
                        hit = bpf_map_lookup_elem(&pf_prefixes, &key);
                        if (hit)
                                return *hit;
                }
                if (e & PF_V4_HAS_MID) {
                        v = prefix_lookup(copy | table << 8, PF_FAMILY_V4, addr, lengths, 31);
                        if (v >= 0)
                                return v;
                }
                return (e & PF_V4_SLOT_MASK) ? (__s64) (e & PF_V4_SLOT_MASK) - 1 : -1;
        }
        return v6_lookup(table, copy, addr, lengths);
}

/* Block rules: the slot of the longest block prefix holding the source, or -1. */
static __always_inline __s64 block_lookup(__u32 copy, const struct pf_gen *gen, const struct packet *p) {
        return lpm_lookup(PF_TABLE_BLOCKS, copy, p->family & 1, &p->src, &gen->block_lengths[p->family & 1]);
}

/* The class of an address in a set field (0 source, 1 destination), by its membership. */
static __always_inline __u32 set_class(__u32 copy, __u32 field, const struct pf_gen *gen, const struct packet *p,
                                       const struct pf_addr *a) {
        __s64 m = lpm_lookup(PF_TABLE_SETS, copy, p->family & 1, a, &gen->set_lengths[p->family & 1]);
        __u32 index = (copy * 2 + field) * PF_MAX_MEMBERSHIPS + (m > 0 ? (__u32) m & (PF_MAX_MEMBERSHIPS - 1) : 0);
        __u32 *c = bpf_map_lookup_elem(&pf_set_class, &index);

        return c ? *c : PF_CLASS_ANY;
}

static __always_inline __u32 class_from_array(void *map, __u32 copy, __u32 entries, __u32 value) {
        __u32 index = copy * entries + value;
        __u32 *c = bpf_map_lookup_elem(map, &index);

        return c ? *c : PF_CLASS_ANY;
}

static __always_inline const struct pf_bitmap *bitmap_of(__u32 copy, __u32 class) {
        __u32 index = copy * PF_MAX_CLASSES + (class & (PF_MAX_CLASSES - 1));

        return bpf_map_lookup_elem(&pf_bitmaps, &index);
}

static __always_inline int l4_has_ports(__u32 protocol) {
        return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == PF_IPPROTO_SCTP;
}

static __always_inline int l4_is_icmp(__u32 protocol) {
        return protocol == IPPROTO_ICMP || protocol == PF_IPPROTO_ICMPV6;
}

struct pf_classes {
        __u32 class[_PF_FIELD_MAX];
        __u32 copy;
};

/* The class of each field for this packet; a field no rule uses gets PF_CLASS_ANY (all ones). */
static __always_inline void classify_fields(__u32 copy, const struct pf_gen *gen, const struct packet *p,
                                            __u32 ifindex, __u32 class[_PF_FIELD_MAX]) {
        __u32 mask = gen->field_mask;
        __u32 *hit;
        __s64 v;

#pragma unroll
        for (int f = 0; f < _PF_FIELD_MAX; f++)
                class[f] = (mask & (1U << f)) ? gen->absent_class[f] : PF_CLASS_ANY;

        if (mask & (1U << PF_FIELD_SOURCE)) {
                v = address_class(copy, 0, p, &p->src);
                if (v >= 0)
                        class[PF_FIELD_SOURCE] = v;
        }
        if (mask & (1U << PF_FIELD_DESTINATION)) {
                v = address_class(copy, 1, p, &p->dst);
                if (v >= 0)
                        class[PF_FIELD_DESTINATION] = v;
        }
        if (mask & (1U << PF_FIELD_PROTOCOL))
                class[PF_FIELD_PROTOCOL] = class_from_array(&pf_proto_class, copy, 256, p->protocol & 0xff);
        if (p->has_l4 && l4_has_ports(p->protocol)) {
                __u32 slot = p->protocol == IPPROTO_TCP ? PF_PORT_TCP :
                             p->protocol == IPPROTO_UDP ? PF_PORT_UDP : PF_PORT_SCTP;

                if (mask & (1U << PF_FIELD_SOURCE_PORT))
                        class[PF_FIELD_SOURCE_PORT] = class_from_array(&pf_sport_class, copy, PF_PORT_PROTOCOLS * 65536,
                                                                       slot * 65536 + (p->sport & 0xffff));
                if (mask & (1U << PF_FIELD_PORT))
                        class[PF_FIELD_PORT] = class_from_array(&pf_dport_class, copy, PF_PORT_PROTOCOLS * 65536,
                                                                slot * 65536 + (p->dport & 0xffff));
        } else if (p->has_l4 && l4_is_icmp(p->protocol) && (mask & (1U << PF_FIELD_PORT)))
                class[PF_FIELD_PORT] = class_from_array(&pf_icmp_class, copy, 256, p->icmp_type & 0xff);
        if (mask & (1U << PF_FIELD_VLAN))
                class[PF_FIELD_VLAN] = class_from_array(&pf_vlan_class, copy, PF_VLAN_UNTAGGED + 1,
                                                        p->vlan > PF_VLAN_UNTAGGED ? PF_VLAN_UNTAGGED : p->vlan);
        if (mask & (1U << PF_FIELD_INTERFACE)) {
                struct pf_iface_key key = { .copy = copy, .ifindex = ifindex };

                hit = bpf_map_lookup_elem(&pf_iface_class, &key);
                if (hit)
                        class[PF_FIELD_INTERFACE] = *hit;
        }
        if (mask & (1U << PF_FIELD_SOURCE_SET))
                class[PF_FIELD_SOURCE_SET] = set_class(copy, 0, gen, p, &p->src);
        if (mask & (1U << PF_FIELD_DESTINATION_SET))
                class[PF_FIELD_DESTINATION_SET] = set_class(copy, 1, gen, p, &p->dst);
}

/* The rank of the first classifier rule that matches, or -1: AND the fields' bitmaps,
 * first over the summary words, then only in the 64-rule words that can still match.
 * A global function, verified once. */
__noinline __s64 classify_bitmaps(const struct pf_classes *c) {
        const struct pf_bitmap *b0, *b1, *b2, *b3, *b4, *b5, *b6, *b7, *b8;
        __u64 candidates;

        if (!c)
                return -1;
        b0 = bitmap_of(c->copy, c->class[0]);
        b1 = bitmap_of(c->copy, c->class[1]);
        b2 = bitmap_of(c->copy, c->class[2]);
        b3 = bitmap_of(c->copy, c->class[3]);
        b4 = bitmap_of(c->copy, c->class[4]);
        b5 = bitmap_of(c->copy, c->class[5]);
        b6 = bitmap_of(c->copy, c->class[6]);
        b7 = bitmap_of(c->copy, c->class[7]);
        b8 = bitmap_of(c->copy, c->class[8]);
        if (!b0 || !b1 || !b2 || !b3 || !b4 || !b5 || !b6 || !b7 || !b8)
                return -1;

        candidates = b0->summary & b1->summary & b2->summary & b3->summary &
                     b4->summary & b5->summary & b6->summary & b7->summary & b8->summary;
        for (int k = 0; k < (int) PF_BITMAP_WORDS && candidates; k++) {
                __u32 i = ctz64(candidates) & (PF_BITMAP_WORDS - 1);
                /* Port, addresses and source set first: they are the sparsest, so most
                 * false candidates end after four loads. */
                __u64 w = b4->words[i] & b0->words[i] & b1->words[i] & b7->words[i];

                candidates &= candidates - 1;
                if (!w)
                        continue;
                w &= b2->words[i] & b3->words[i] & b5->words[i] & b6->words[i] & b8->words[i];
                if (w)
                        return (__s64) (i * 64 + ctz64(w));
        }
        return -1;
}

/* Classifier rules: the rank of the first that matches, or -1. A global function: the branches
 * over the fields in use are walked once, not once per path through the parser. */
__noinline __s64 classify_packet(__u32 copy, const struct pf_gen *gen, const struct packet *p, __u32 ifindex) {
        struct pf_classes classes = { .copy = copy & 1 };

        if (!gen || !p)
                return -1;
        classify_fields(copy & 1, gen, p, ifindex, classes.class);
        return classify_bitmaps(&classes);
}

/* Skips up to two VLAN tags; returns the ethertype after them (or -1 if cut short). */
static __always_inline int parse_ethernet(void *data, void *data_end, void **ret_l3, __u32 *ret_vlan) {
        struct ethhdr *eth = data;
        void *cursor;
        __u32 vlan = PF_VLAN_UNTAGGED;
        __u16 proto;

        if ((void *) (eth + 1) > data_end)
                return -1;
        proto = bpf_ntohs(eth->h_proto);
        cursor = eth + 1;

#pragma unroll
        for (int i = 0; i < 2; i++) {
                struct pf_vlan_hdr *tag = cursor;

                if (proto != PF_ETH_P_8021Q && proto != PF_ETH_P_8021AD)
                        break;
                if ((void *) (tag + 1) > data_end)
                        return -1;
                if (i == 0)
                        vlan = bpf_ntohs(tag->tci) & 0x0fff;    /* the outer tag is the one rules see */
                proto = bpf_ntohs(tag->encapsulated_proto);
                cursor = tag + 1;
        }

        *ret_l3 = cursor;
        *ret_vlan = vlan;
        return proto;
}

/* Reads ports or the ICMP type at l4; -1 if the header is cut short. */
static __always_inline int parse_l4(void *l4, void *data_end, struct packet *p) {
        __u8 *b = l4;
        __u32 need;

        if (p->protocol == IPPROTO_TCP)
                need = 20;
        else if (p->protocol == IPPROTO_UDP)
                need = 8;
        else if (p->protocol == PF_IPPROTO_SCTP)
                need = 12;
        else if (l4_is_icmp(p->protocol))
                need = 4;
        else
                return 0;               /* no fields we match on */

        if (l4 + need > data_end)
                return -1;
        if (l4_is_icmp(p->protocol))
                p->icmp_type = b[0];
        else {
                p->sport = ((__u32) b[0] << 8) | b[1];
                p->dport = ((__u32) b[2] << 8) | b[3];
        }
        p->has_l4 = 1;
        return 0;
}

static __always_inline int parse_ipv4(void *l3, void *data_end, struct packet *p) {
        struct iphdr *ip4 = l3;
        __u32 hdr_len;

        if ((void *) (ip4 + 1) > data_end || ip4->version != 4 || ip4->ihl < 5)
                return -1;
        hdr_len = ip4->ihl * 4;
        if (l3 + hdr_len > data_end || bpf_ntohs(ip4->tot_len) < hdr_len)
                return -1;

        p->family = PF_FAMILY_V4;
        p->src.word[0] = ip4->saddr;
        p->dst.word[0] = ip4->daddr;
        p->protocol = ip4->protocol;
        if (bpf_ntohs(ip4->frag_off) & PF_IP_OFFSET_MASK) {
                stat_inc(PF_STAT_FRAGMENTS);
                return 0;               /* not the first fragment: no L4 header here */
        }
        return parse_l4(l3 + hdr_len, data_end, p);
}

static __always_inline int parse_ipv6(void *l3, void *data_end, struct packet *p) {
        struct ipv6hdr *ip6 = l3;
        void *cursor = ip6 + 1;
        __u32 next;

        if ((void *) (ip6 + 1) > data_end || ip6->version != 6)
                return -1;

        p->family = PF_FAMILY_V6;
        __builtin_memcpy(&p->src, &ip6->saddr, 16);
        __builtin_memcpy(&p->dst, &ip6->daddr, 16);
        p->hop_limit = ip6->hop_limit;
        next = ip6->nexthdr;

#pragma unroll
        for (int i = 0; i <= (int) PF_MAX_EXT_HEADERS; i++) {
                __u8 *h = cursor;

                if (next != PF_NEXTHDR_HOP && next != PF_NEXTHDR_ROUTING && next != PF_NEXTHDR_DEST &&
                    next != PF_NEXTHDR_FRAGMENT && next != PF_NEXTHDR_AUTH) {
                        p->protocol = next;
                        if (next == PF_NEXTHDR_NONE)
                                return 0;
                        return parse_l4(cursor, data_end, p);
                }
                if (i == (int) PF_MAX_EXT_HEADERS)
                        return -1;      /* one more than we walk */
                if ((void *) (h + 8) > data_end)
                        return -1;
                if (next == PF_NEXTHDR_FRAGMENT) {
                        next = h[0];
                        cursor = h + 8;
                        if (((((__u32) h[2]) << 8) | h[3]) & PF_IP6_OFFSET_MASK) {
                                p->protocol = next;
                                stat_inc(PF_STAT_FRAGMENTS);
                                return 0;       /* not the first fragment */
                        }
                } else if (next == PF_NEXTHDR_AUTH) {
                        next = h[0];
                        cursor = h + ((__u32) h[1] + 2) * 4;
                } else {
                        next = h[0];
                        cursor = h + ((__u32) h[1] + 1) * 8;
                }
                if (cursor > data_end)
                        return -1;      /* the header runs past the frame */
        }
        return -1;                      /* a longer chain than we walk: treat as malformed */
}

/* A rule past its expiry no longer matches, whether or not the daemon has removed it yet. */
static __always_inline int rule_expired(const struct pf_rule_info *info) {
        return info->expires_tai_ns != 0 && bpf_ktime_get_tai_ns() >= info->expires_tai_ns;
}

static __always_inline int verdict(__u32 stat, int xdp_action) {
        stat_inc(stat);
        return xdp_action;
}

static __always_inline int verdict_default(const struct pf_gen *gen, int exempt) {
        if (gen && gen->default_action == PF_ACTION_DROP && !exempt)
                return verdict(PF_STAT_DROPPED_BY_DEFAULT, XDP_DROP);
        if (gen && gen->default_action == PF_ACTION_DROP)
                stat_inc(PF_STAT_ALWAYS_PASSED);
        return verdict(PF_STAT_PASSED, XDP_PASS);
}

static __always_inline int verdict_rule(__u8 action) {
        if (action == PF_ACTION_DROP)
                return verdict(PF_STAT_DROPPED_BY_RULE, XDP_DROP);
        return verdict(PF_STAT_PASSED, XDP_PASS);
}

#define PICK_BLOCK      (1LL << 32)
#define PICK_DROP       (1LL << 33)
#define PICK_RATE       (1LL << 34)

/*
 * A rate-limit rule's bucket for this packet (its source's, or the rule's): 1 if the
 * packet is over the rate (drop), 0 if within it (pass). GCRA (see packetfilter.h). The
 * admitted packet moves the bucket on with an atomic add, so concurrent CPUs never lose
 * a packet's share of the rate; at worst, CPUs that check at the same moment may each
 * admit one packet past the burst, and a bucket restarting after idle (a plain store)
 * may forget the adds of packets admitted at that instant. A source seen for the first
 * time, or again after the LRU map evicted it, starts with its whole burst.
 * A global function, verified once.
 */
__noinline int rate_limit_check(__u32 slot, __u32 family, const struct pf_addr *src) {
        const struct pf_rate_limit *cfg;
        struct pf_rate_bucket *b;
        __u64 now, tat;

        if (!src)
                return 0;
        cfg = bpf_map_lookup_elem(&pf_rate_config, &slot);
        if (!cfg || cfg->interval_ns == 0)
                return 0;
        now = bpf_ktime_get_ns();
        if (cfg->per == PF_RATE_PER_RULE) {
                b = bpf_map_lookup_elem(&pf_rate_rule, &slot);
                if (!b)
                        return 0;
        } else {
                struct pf_rate_source_key key = { .rule_id = cfg->rule_id, .family = family };

                __builtin_memcpy(key.addr, src->word, 16);
                b = bpf_map_lookup_elem(&pf_rate_source, &key);
                if (!b) {
                        /* A new bucket, with this packet taken from its burst. */
                        struct pf_rate_bucket fresh = { .tat_ns = now + cfg->interval_ns };

                        (void) bpf_map_update_elem(&pf_rate_source, &key, &fresh, BPF_NOEXIST);
                        return cfg->burst_ns < cfg->interval_ns;
                }
        }
        tat = b->tat_ns;
        if (tat < now) {
                b->tat_ns = now;        /* idle since: the whole burst again */
                tat = now;
        }
        if (tat - now + cfg->interval_ns > cfg->burst_ns)
                return 1;
        __sync_fetch_and_add(&b->tat_ns, cfg->interval_ns);
        return 0;
}

/*
 * Reports a drop through the ring buffer, within this CPU's budget of events per window;
 * past it, only counts the drop, for the count of the next event. Called on drops only.
 * winner: what pick_rule() returned (-1: the default action). A global function.
 */
__noinline int drop_event(const struct packet *p, __u32 ifindex, __s64 winner, __u32 frame_len, __u32 reason) {
        const struct pf_event_config *cfg;
        struct pf_drop_budget *budget;
        struct pf_drop_event *e;
        __u32 zero = 0, rule_id = 0;
        __u64 now;

        if (!p)
                return 0;
        cfg = bpf_map_lookup_elem(&pf_event_config, &zero);
        if (!cfg || cfg->budget == 0)
                return 0;
        budget = bpf_map_lookup_elem(&pf_drop_budget, &zero);
        if (!budget)
                return 0;
        /* The coarse clock (a tick's resolution) is plenty for a 100 ms window, and cheaper. */
        now = bpf_ktime_get_coarse_ns();
        if (now - budget->window_start_ns >= PF_DROP_EVENT_WINDOW_NS) {
                budget->window_start_ns = now;
                budget->used = 0;
        }
        if (budget->used >= cfg->budget) {
                budget->suppressed += 1;
                return 0;
        }
        e = bpf_ringbuf_reserve(&pf_drop_events, sizeof(*e), 0);
        if (!e) {
                budget->suppressed += 1;        /* the reader is behind: count it for later */
                return 0;
        }
        budget->used += 1;

        if (winner >= 0) {
                __u32 s = winner & 0xffffffff;
                const struct pf_rule_info *info = (winner & PICK_BLOCK) ?
                        bpf_map_lookup_elem(&pf_block_info, &s) : bpf_map_lookup_elem(&pf_rule_info, &s);

                if (info)
                        rule_id = info->order & 0xffffffff;
        }
        e->time_ns = bpf_ktime_get_ns();
        e->ifindex = ifindex;
        e->rule_id = rule_id;
        e->count = 1 + budget->suppressed;
        e->frame_len = frame_len;
        e->family = p->family;
        e->protocol = p->protocol;
        e->port = l4_is_icmp(p->protocol) ? p->icmp_type : p->dport;
        e->reason = reason;
        e->has_l4 = p->has_l4;
        e->pad[0] = e->pad[1] = 0;
        __builtin_memcpy(e->src, p->src.word, 16);
        __builtin_memcpy(e->dst, p->dst.word, 16);
        budget->suppressed = 0;
        bpf_ringbuf_submit(e, 0);
        return 0;
}

/* Per-interface figures; outcome: 0 passed, 1 dropped, 2 rate-limited (dropped too). A global function. */
__noinline int iface_account(__u32 ifindex, __u32 frame_len, __u32 outcome) {
        struct pf_iface_stats *s = bpf_map_lookup_elem(&pf_iface_stats, &ifindex);

        if (!s)
                return 0;
        s->packets += 1;
        s->bytes += frame_len;
        if (outcome == 0)
                s->passed += 1;
        else
                s->dropped += 1;
        if (outcome == 2)
                s->rate_limited += 1;
        return 0;
}

/*
 * Between the block rule found (slot, or -1) and the first matching classifier rule
 * (rank, or -1), the one earlier in rule order decides; a rule past its expiry does
 * not match. Returns the slot, with PICK_BLOCK and PICK_DROP set as they apply, or -1.
 * A global function, verified once.
 */
__noinline __s64 pick_rule(__u32 copy, __s64 block_slot, __s64 rank) {
        const struct pf_rule_info *block = NULL, *cls = NULL;
        __u32 bs = 0, cs = 0;

        if (block_slot >= 0 && block_slot < PF_BLOCK_SLOTS) {
                bs = block_slot;
                block = bpf_map_lookup_elem(&pf_block_info, &bs);
                if (block && rule_expired(block))
                        block = NULL;
        }
        if (rank >= 0) {
                __u32 index = copy * PF_MAX_RULES + (rank & (PF_MAX_RULES - 1));
                __u32 *rs = bpf_map_lookup_elem(&pf_rank_slot, &index);

                if (rs) {
                        cs = *rs;
                        cls = bpf_map_lookup_elem(&pf_rule_info, &cs);
                        if (cls && rule_expired(cls))
                                cls = NULL;
                }
        }
        if (cls && (!block || cls->order < block->order))
                return (__s64) cs | (cls->action == PF_ACTION_DROP ? PICK_DROP : 0) |
                       (cls->action == PF_ACTION_RATE_LIMIT ? PICK_RATE : 0);
        if (block)
                return (__s64) bs | PICK_BLOCK | (block->action == PF_ACTION_DROP ? PICK_DROP : 0);
        return -1;
}

/* How a packet was judged, for the accounting after the verdict. */
struct judgement {
        __s64 winner;                   /* what pick_rule() returned, -1: the default action */
        __u32 reason;                   /* enum pf_drop_reason, when dropped */
};

static __always_inline int judge(struct xdp_md *ctx, struct packet *p, struct judgement *j) {
        void *data = (void *) (long) ctx->data;
        void *data_end = (void *) (long) ctx->data_end;
        __u64 frame_len = data_end - data;
        const struct pf_config *cfg;
        const struct pf_gen *gen;
        __u32 zero = 0, copy;
        void *l3 = NULL;
        __s64 slot, rank, winner;
        int proto, exempt;

        stat_inc(PF_STAT_PACKETS);

        cfg = bpf_map_lookup_elem(&pf_config, &zero);
        copy = cfg ? cfg->active & 1 : 0;
        gen = bpf_map_lookup_elem(&pf_gen, &copy);
        if (!gen)
                return verdict(PF_STAT_PASSED, XDP_PASS);

        proto = parse_ethernet(data, data_end, &l3, &p->vlan);
        if (proto == ETH_P_IP) {
                if (parse_ipv4(l3, data_end, p) < 0)
                        goto malformed;
        } else if (proto == ETH_P_IPV6) {
                if (parse_ipv6(l3, data_end, p) < 0)
                        goto malformed;
        } else if (proto >= 0) {
                stat_inc(PF_STAT_NON_IP);
                j->reason = PF_DROP_NON_IP;
                /* The default drop never cuts a host off its own link. */
                return verdict_default(gen, proto == ETH_P_ARP);
        } else
                goto malformed;

        /* No block rules: no cold read of their table. */
        slot = gen->has_blocks ? block_lookup(copy, gen, p) : -1;
        rank = -1;
        if (gen->has_classifier)
                rank = classify_packet(copy, gen, p, ctx->ingress_ifindex);

        winner = pick_rule(copy, slot, rank);
        if (winner >= 0) {
                __u32 s = winner & 0xffffffff;

                j->winner = winner;
                j->reason = (winner & PICK_BLOCK) ? PF_DROP_BLOCK : PF_DROP_RULE;
                if (winner & PICK_BLOCK) {
                        struct pf_counter *c = bpf_map_lookup_elem(&pf_block_counters, &s);

                        if (c) {
                                __sync_fetch_and_add(&c->packets, 1);
                                __sync_fetch_and_add(&c->bytes, frame_len);
                        }
                } else {
                        struct pf_counter *c = bpf_map_lookup_elem(&pf_rule_counters, &s);

                        if (c) {
                                c->packets += 1;
                                c->bytes += frame_len;
                        }
                }
                if ((winner & PICK_RATE) && rate_limit_check(s, p->family, &p->src)) {
                        __u64 *limited = bpf_map_lookup_elem(&pf_rate_limited, &s);

                        if (limited)
                                *limited += 1;
                        j->reason = PF_DROP_RATE_LIMITED;
                        return verdict(PF_STAT_RATE_LIMITED, XDP_DROP);
                }
                return verdict_rule((winner & PICK_DROP) ? PF_ACTION_DROP : PF_ACTION_PASS);
        }

        exempt = p->family == PF_FAMILY_V6 && p->protocol == PF_IPPROTO_ICMPV6 && p->has_l4 &&
                 p->hop_limit == PF_NDP_HOP_LIMIT &&
                 p->icmp_type >= PF_NDP_TYPE_FIRST && p->icmp_type <= PF_NDP_TYPE_LAST;
        return verdict_default(gen, exempt);

malformed:
        /* Cut or inconsistent headers take the default path without a look-up: fields read
         * from a broken header cannot be trusted to match a rule. */
        stat_inc(PF_STAT_MALFORMED);
        j->reason = PF_DROP_MALFORMED;
        return verdict_default(gen, 0);
}

SEC("xdp")
int packetfilter_xdp(struct xdp_md *ctx) {
        __u32 frame_len = (__u32) ((long) ctx->data_end - (long) ctx->data);
        __u32 ifindex = ctx->ingress_ifindex;
        struct judgement j = { .winner = -1, .reason = PF_DROP_DEFAULT };
        struct packet p = {};
        int action = judge(ctx, &p, &j);

        /* After the verdict, outside the decision: per-interface figures, and drop events. */
        iface_account(ifindex, frame_len,
                      action != XDP_DROP ? 0 : j.reason == PF_DROP_RATE_LIMITED ? 2 : 1);
        if (action == XDP_DROP)
                drop_event(&p, ifindex, j.winner, frame_len, j.reason);
        return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
