/* SPDX-License-Identifier: (GPL-2.0-or-later OR BSD-2-Clause) */
/*
 * The whole contract between the XDP program and user space: map names,
 * limits, and the layout of every key and value. Fixed-width types only,
 * explicit padding, byte order written beside each field.
 *
 * Every table the program reads comes in two copies (PF_COPIES). The
 * program reads pf_config.active once per packet and uses that copy for
 * every lookup, so a packet is judged wholly by one version of the rules.
 * User space writes the inactive copy, flips pf_config.active with one
 * write, waits until no program runs on the old copy (an RCU grace period),
 * then brings the old copy up to date. See docs/dataplane.md.
 */
#pragma once

#include <linux/types.h>

/*
 * The layout version of the maps. Bump it whenever any map's key, value or
 * size changes: maps are pinned in BPFFS_DIR/maps-<version>, so a daemon of
 * another layout loads fresh maps, fills them and swaps its program into the
 * pinned links, never reusing maps it cannot read.
 */
#define PF_ABI_VERSION          "9"

/* ---- Limits (the daemon refuses changes past them with a clear error) ---- */
#define PF_COPIES               2u
#define PF_MAX_RULES            4096u                   /* rules; also counter slots and ranks */
#define PF_BITMAP_WORDS         (PF_MAX_RULES / 64u)    /* one bit per rank */
#define PF_MAX_CLASSES          16384u                  /* distinct match bitmaps per copy */
#define PF_MAX_BLOCKS           (1u << 20)              /* block rules (source alone): 1M prefixes */
/* Slots: twice the rules, because a removed rule's slot is reused only once no copy of the
 * tables refers to it, so replacing every rule in one change needs a second set of slots. */
#define PF_RULE_SLOTS           (2u * PF_MAX_RULES)
#define PF_BLOCK_SLOTS          (2u * PF_MAX_BLOCKS)
#define PF_MAX_PREFIX_ENTRIES   (2u * (PF_MAX_BLOCKS + PF_MAX_SET_ENTRIES)) /* pf_prefixes entries: both tables, both copies */
#define PF_INTERVALS_MAX        16384u                  /* address intervals per field and family (>= 2 * PF_MAX_RULES + 1) */
#define PF_MAX_EXT_HEADERS      8u                      /* IPv6 extension headers walked */
#define PF_MAX_INTERFACES       256u                    /* interfaces named by rules */
#define PF_V4_TBL24_ENTRIES     (1u << 24)              /* one per /24, per copy */
#define PF_MAX_SETS             64u                     /* named address sets: a membership is a 64-bit mask */
#define PF_MAX_SET_ENTRIES      (1u << 20)              /* prefixes over all sets */
#define PF_MAX_MEMBERSHIPS      16384u                  /* distinct combinations of sets an address is in */

enum pf_action {
        PF_ACTION_PASS = 0,
        PF_ACTION_DROP = 1,
        PF_ACTION_RATE_LIMIT = 2,       /* pass within the rule's rate, drop the rest (classifier rules only) */
};

/* Indexes into the per-CPU statistics array pf_stats (__u64 each, host order). */
enum pf_stat {
        PF_STAT_PACKETS = 0,            /* every packet the program saw */
        PF_STAT_PASSED,                 /* given XDP_PASS, for any reason */
        PF_STAT_DROPPED_BY_RULE,        /* dropped by a matching rule */
        PF_STAT_DROPPED_BY_DEFAULT,     /* dropped by the default action */
        PF_STAT_MALFORMED,              /* truncated or inconsistent headers (then: default action) */
        PF_STAT_NON_IP,                 /* neither IPv4 nor IPv6 nor ARP (then: default action) */
        PF_STAT_FRAGMENTS,              /* non-first IP fragments (no L4 header) */
        PF_STAT_ALWAYS_PASSED,          /* ARP and IPv6 neighbour discovery spared the default drop */
        PF_STAT_RATE_LIMITED,           /* matched a rate-limit rule over its rate: dropped */
        _PF_STAT_MAX,
};

/* The classifier's match fields: one class table each. */
enum pf_field {
        PF_FIELD_SOURCE = 0,            /* pf_intervals_v4 / pf_intervals_v6 */
        PF_FIELD_DESTINATION,           /* likewise */
        PF_FIELD_PROTOCOL,              /* pf_proto_class */
        PF_FIELD_SOURCE_PORT,           /* pf_sport_class */
        PF_FIELD_PORT,                  /* pf_dport_class (tcp/udp/sctp) or pf_icmp_class (icmp/icmpv6) */
        PF_FIELD_VLAN,                  /* pf_vlan_class */
        PF_FIELD_INTERFACE,             /* pf_iface_class */
        PF_FIELD_SOURCE_SET,            /* pf_set_class, by the source address's membership */
        PF_FIELD_DESTINATION_SET,       /* pf_set_class, by the destination address's membership */
        _PF_FIELD_MAX,
};

enum pf_family_index {
        PF_FAMILY_V4 = 0,
        PF_FAMILY_V6 = 1,
        _PF_FAMILY_MAX,
};

/* Map pf_config: ARRAY[1]. The one word that selects the copy in force. */
struct pf_config {
        __u32 active;                   /* host order, 0 or 1 */
        __u32 pad;
};

/* Prefix lengths to probe in one table of pf_prefixes, longest first. */
struct pf_length_list {
        __u8  count;                    /* 0..129 */
        __u8  len[129];                 /* descending */
        __u8  pad[2];
};

/* Map pf_masks: ARRAY[129], written once at load: the netmask of each prefix length. */
struct pf_mask {
        __u32 word[4];                  /* network order */
};

/* Map pf_gen: ARRAY[PF_COPIES]. What a copy holds, beyond its tables. */
struct pf_gen {
        __u8  default_action;           /* enum pf_action */
        __u8  has_classifier;           /* 0: no multi-field rule, skip the classifier */
        __u8  has_blocks;               /* 0: no block rule, skip the block table */
        __u8  pad0;
        __u32 field_mask;               /* host order; bit (1 << enum pf_field): some rule matches on it */
        __u32 absent_class[_PF_FIELD_MAX]; /* host order; class of "field absent or unmatched" */
        __u32 pad1;
        /* The block prefix lengths that have entries in pf_prefixes, per family
         * (IPv4: only /25../31; a /32 is probed directly when PF_V4_HAS_32 says so). */
        struct pf_length_list block_lengths[_PF_FAMILY_MAX];
        /* The same for the set members (pf_v4_set and pf_prefixes with table PF_TABLE_SETS). */
        struct pf_length_list set_lengths[_PF_FAMILY_MAX];
};

/*
 * Map pf_v6_dir: HASH, one entry per IPv6 /32 (first 32 bits) under which a prefix of
 * /32 or longer lies, per copy and table: the value of the longest prefix up to /32 holding
 * that /32, and the longer lengths present under it. An IPv6 lookup reads it first: no entry,
 * and only lengths below /32 remain to probe; an entry, and only its few lengths.
 */
#define PF_V6_DIR_LENGTHS       11u
#define PF_V6_DIR_MANY          0xffu   /* more lengths than fit: probe the table's whole list */
struct pf_v6_dir_key {
        __u8  copy;
        __u8  table;                    /* enum pf_table */
        __u16 pad;
        __u32 top32;                    /* network order: the address's first 32 bits */
};
struct pf_v6_dir {
        __u32 base;                     /* host order: value + 1 of the longest prefix <= /32 holding it; 0 = none */
        __u8  n;                        /* lengths in len[], or PF_V6_DIR_MANY */
        __u8  len[PF_V6_DIR_LENGTHS];   /* lengths > 32 present under it, longest first */
};

/* The two longest-prefix tables, which share pf_prefixes (struct pf_prefix_key.table). */
enum pf_table {
        PF_TABLE_BLOCKS = 0,            /* block rules: prefix -> block slot; pf_v4_block */
        PF_TABLE_SETS = 1,              /* set members: prefix -> membership; pf_v4_set */
};

/* Map pf_prefixes: HASH of the prefixes of both tables (IPv4 longer than /24, all IPv6):
 * longest-prefix match by probing the present lengths, longest first. Value: __u32 (host
 * order), a block slot (PF_TABLE_BLOCKS) or a membership (PF_TABLE_SETS). */
struct pf_prefix_key {
        __u8  copy;                     /* 0 or 1 */
        __u8  family;                   /* enum pf_family_index */
        __u8  prefixlen;                /* 0..32 or 0..128 */
        __u8  table;                    /* enum pf_table */
        union {
                __u8  addr[16];         /* network order, bits past prefixlen zero; IPv4 in the first 4 */
                __u32 addr32[4];
        };
};

/*
 * Maps pf_intervals_v4, pf_intervals_v6: ARRAY[PF_COPIES * 2], mmapable, indexed
 * copy * 2 + (0 source, 1 destination): the classifier's address fields as sorted
 * elementary intervals; the class of an address is that of the last interval
 * starting at or below it (a binary search: ~14 steps whatever the prefixes).
 */
struct pf_intervals_v4 {
        __u32 count;                    /* host order, 1..PF_INTERVALS_MAX; start[0] = 0 */
        __u32 pad;
        __u32 start[PF_INTERVALS_MAX];  /* host order, ascending */
        __u32 class[PF_INTERVALS_MAX];  /* host order */
};

struct pf_intervals_v6 {
        __u32 count;                    /* host order, 1..PF_INTERVALS_MAX */
        __u32 pad;
        __u64 start_hi[PF_INTERVALS_MAX]; /* host order: the address's first 64 bits */
        __u64 start_lo[PF_INTERVALS_MAX]; /* host order: its last 64 bits */
        __u32 class[PF_INTERVALS_MAX];  /* host order */
};

/*
 * Map pf_v4_block: ARRAY[PF_COPIES * PF_V4_TBL24_ENTRIES / PF_TBL24_ROW] of struct pf_tbl24_row,
 * mmapable: the DIR-24 table of the IPv4 block prefixes up to /24. Entry for a /24 index i
 * (= address >> 8) of copy c: row (c * 2^24 + i) / PF_TBL24_ROW, entry i % PF_TBL24_ROW.
 * (Rows, because array elements are 8-byte aligned: single __u32 elements would waste half.)
 */
#define PF_TBL24_ROW            1024u
struct pf_tbl24_row {
        __u32 entry[PF_TBL24_ROW];      /* host order */
};
#define PF_V4_SLOT_MASK         0x3fffffffu     /* block slot + 1 of the longest prefix <= /24; 0 = none */
#define PF_V4_HAS_32            0x80000000u     /* some /32 lies in this /24: probe pf_prefixes at /32 */
#define PF_V4_HAS_MID           0x40000000u     /* some /25../31 lies in this /24: probe those lengths */
#define PF_V4_FLAGS             (PF_V4_HAS_32 | PF_V4_HAS_MID)

/*
 * Named sets. Map pf_v4_set: the same DIR-24 layout as pf_v4_block, whose entries (and the
 * PF_TABLE_SETS entries of pf_prefixes) hold membership + 1: the set of sets (a 64-bit mask,
 * kept by the daemon) holding the address, through any of their prefixes. Each prefix's
 * membership already includes the sets of every shorter prefix holding it, so the longest
 * match gives the whole answer.
 * Map pf_set_class: ARRAY[PF_COPIES * 2 * PF_MAX_MEMBERSHIPS] of __u32 class (host order),
 * indexed (copy * 2 + (0 source, 1 destination)) * PF_MAX_MEMBERSHIPS + membership; membership
 * 0 = in no set.
 */

/*
 * Maps pf_rule_info: ARRAY[PF_RULE_SLOTS] (classifier rules, by slot) and
 * pf_block_info: ARRAY[PF_BLOCK_SLOTS] (block rules, by slot): a rule's place
 * in the order and its verdict. One copy only: a slot is written before any
 * table refers to it and reused only once no copy refers to it any more.
 */
struct pf_rule_info {
        __u64 order;                    /* host order; (priority + 2^31) << 32 | id: sorts like the rules */
        __u64 expires_tai_ns;           /* host order; CLOCK_TAI, 0 = never: past it the rule no longer
                                         * matches, even while no daemon runs to remove it */
        __u8  action;                   /* enum pf_action */
        __u8  pad[7];
};

/* Map pf_rank_slot: ARRAY[PF_COPIES * PF_MAX_RULES] of __u32 (host order): classifier rank -> rule slot. */

/*
 * Class tables: ARRAY[PF_COPIES * N] of __u32 class (host order), indexed copy * N + value
 * (mmapable; each element takes 8 bytes in the mapping):
 *   pf_proto_class  N = 256    (IP protocol / IPv6 next header)
 *   pf_sport_class  N = PF_PORT_PROTOCOLS * 65536  (protocol slot * 65536 + source port)
 *   pf_dport_class  N = PF_PORT_PROTOCOLS * 65536  (protocol slot * 65536 + destination port)
 *   pf_icmp_class   N = 256    (ICMP or ICMPv6 type)
 *   pf_vlan_class   N = 4097   (outer VLAN id; 4096 = untagged)
 * pf_iface_class: HASH struct pf_iface_key -> __u32 class.
 */
#define PF_VLAN_UNTAGGED        4096u
/* Port tables are per protocol (a rule with a port always names tcp, udp or sctp), so a
 * packet's port class holds only rules of its own protocol: sparser bitmaps, fewer candidates. */
enum pf_port_protocol {
        PF_PORT_TCP = 0,
        PF_PORT_UDP,
        PF_PORT_SCTP,
        PF_PORT_PROTOCOLS,
};
struct pf_iface_key {
        __u32 copy;                     /* host order */
        __u32 ifindex;                  /* host order */
};

/* Map pf_bitmaps: ARRAY[PF_COPIES * PF_MAX_CLASSES], mmapable: the rules (by rank) a class matches. */
struct pf_bitmap {
        __u64 summary;                  /* host order; bit i set iff words[i] != 0 */
        __u64 words[PF_BITMAP_WORDS];   /* host order; bit r of word r/64 = rank r */
};

/*
 * Map pf_rule_counters: PERCPU_ARRAY[PF_RULE_SLOTS], by classifier slot (plain adds per CPU).
 * Map pf_block_counters: ARRAY[PF_BLOCK_SLOTS], by block slot (atomic adds: per-CPU copies of
 * a million counters would cost too much memory on large machines).
 */
struct pf_counter {
        __u64 packets;                  /* host order */
        __u64 bytes;                    /* host order, whole frame length */
};

/* Map pf_stats: PERCPU_ARRAY[_PF_STAT_MAX] of __u64. */
/* Class 0 of every copy is all ones: the class of a field no rule matches on. */
#define PF_CLASS_ANY            0u

/* ---- Rate limits ------------------------------------------------------------------------------ */

/*
 * A rate-limit rule passes the packets it matches within its rate and drops the rest
 * (GCRA, the token bucket as a "theoretical arrival time", in CLOCK_MONOTONIC ns): a
 * bucket admits a packet when tat - now + interval <= burst * interval, and the
 * packet then moves tat on by interval; a bucket whose tat lies in the past starts
 * again from now, that is with its whole burst.
 */
#define PF_RATE_SOURCES         65536u                  /* per-source buckets (LRU: the least recently seen goes) */
#define PF_RATE_MAX             100000000u              /* packets per second, at most */

enum pf_rate_per {
        PF_RATE_PER_SOURCE = 0,         /* one bucket per source address (pf_rate_source) */
        PF_RATE_PER_RULE = 1,           /* one bucket for the rule (pf_rate_rule) */
};

/* Map pf_rate_config: ARRAY[PF_RULE_SLOTS], by classifier slot: a rate-limit rule's rate.
 * Written when the slot is given to a rule, before any table refers to it. */
struct pf_rate_limit {
        __u64 interval_ns;              /* host order; 1e9 / rate; 0 = not a rate-limit rule (pass) */
        __u64 burst_ns;                 /* host order; burst * interval_ns */
        __u32 rule_id;                  /* host order; keys the per-source buckets, so a reused slot starts afresh */
        __u8  per;                      /* enum pf_rate_per */
        __u8  pad[3];
};

/* Maps pf_rate_rule: ARRAY[PF_RULE_SLOTS] by classifier slot (zeroed with the slot), and
 * pf_rate_source: LRU_HASH[PF_RATE_SOURCES] struct pf_rate_source_key -> struct pf_rate_bucket. */
struct pf_rate_bucket {
        __u64 tat_ns;                   /* host order; CLOCK_MONOTONIC; advanced with atomic adds */
};

struct pf_rate_source_key {
        __u32 rule_id;                  /* host order */
        __u32 family;                   /* enum pf_family_index */
        __u8  addr[16];                 /* network order; IPv4 in the first 4 */
};

/* Map pf_rate_limited: PERCPU_ARRAY[PF_RULE_SLOTS] of __u64, by classifier slot: the packets a
 * rate-limit rule dropped (its pf_rule_counters count every packet it matched). */

/* ---- Drop events ------------------------------------------------------------------------------ */

/*
 * Map pf_drop_events: RINGBUF of PF_DROP_EVENTS_BYTES: one struct pf_drop_event per reported
 * drop. Sampled per CPU: at most pf_event_config.budget events per PF_DROP_EVENT_WINDOW_NS on
 * each CPU (pf_drop_budget); the drops not reported are counted and handed on in the count of
 * the next event that CPU reports.
 */
#define PF_DROP_EVENTS_BYTES    (256u * 1024u)
#define PF_DROP_EVENT_WINDOW_NS 100000000ull            /* 100 ms */
#define PF_DROP_EVENT_BUDGET    64u                     /* events per window per CPU, by default */

enum pf_drop_reason {
        PF_DROP_RULE = 0,               /* a drop rule (classifier) */
        PF_DROP_BLOCK,                  /* a block rule */
        PF_DROP_RATE_LIMITED,           /* a rate-limit rule, over its rate */
        PF_DROP_DEFAULT,                /* the default action */
        PF_DROP_MALFORMED,              /* the default action, for a malformed frame (fields as far as parsed) */
        PF_DROP_NON_IP,                 /* the default action, for a frame neither IP nor ARP (no fields) */
        _PF_DROP_REASON_MAX,
};

struct pf_drop_event {
        __u64 time_ns;                  /* host order; CLOCK_MONOTONIC */
        __u32 ifindex;                  /* host order */
        __u32 rule_id;                  /* host order; 0 = the default action */
        __u32 count;                    /* host order; 1 + drops on this CPU not reported since its last event */
        __u32 frame_len;                /* host order */
        __u8  family;                   /* enum pf_family_index */
        __u8  protocol;
        __u16 port;                     /* host order; destination port, or ICMP type; 0 = none */
        __u8  reason;                   /* enum pf_drop_reason */
        __u8  has_l4;                   /* port holds a port or ICMP type */
        __u8  pad[2];
        __u8  src[16];                  /* network order; IPv4 in the first 4 */
        __u8  dst[16];
};

/* Map pf_drop_budget: PERCPU_ARRAY[1]. */
struct pf_drop_budget {
        __u64 window_start_ns;          /* host order; CLOCK_MONOTONIC */
        __u32 used;                     /* events sent in this window */
        __u32 suppressed;               /* drops not reported since the last event */
};

/* Map pf_event_config: ARRAY[1], written by the daemon. */
struct pf_event_config {
        __u32 budget;                   /* host order; events per window per CPU; 0 = no events */
        __u32 pad;
};

/* ---- Per-interface statistics ----------------------------------------------------------------- */

/* Map pf_iface_stats: PERCPU_HASH[PF_MAX_INTERFACES] ifindex (__u32, host order) -> struct
 * pf_iface_stats. The daemon creates an entry when it attaches to an interface; the program
 * only adds to entries that exist. */
struct pf_iface_stats {
        __u64 packets;                  /* host order, every value */
        __u64 bytes;
        __u64 passed;
        __u64 dropped;                  /* for any reason, rate-limited included */
        __u64 rate_limited;
};
