/* SPDX-License-Identifier: (GPL-2.0-or-later OR BSD-2-Clause) */
/*
 * The whole contract between the XDP program and user space: map names,
 * limits, and the layout of every key and value. Fixed-width types only,
 * explicit padding, byte order written beside each field.
 */
#pragma once

#include <linux/types.h>

/* Limits. The daemon refuses changes past them with a clear error. */
#define PF_MAX_RULES            4096u           /* rules, and so counter slots */
#define PF_MAX_PREFIXES_V4      (1u << 20)      /* source-prefix entries, IPv4 */
#define PF_MAX_PREFIXES_V6      (1u << 20)      /* source-prefix entries, IPv6 */

/* Verdicts a rule (or the default) can give. */
enum pf_action {
        PF_ACTION_PASS = 0,
        PF_ACTION_DROP = 1,
};

/* Indexes into the global per-CPU statistics array (pf_stats). */
enum pf_stat {
        PF_STAT_PACKETS = 0,            /* every packet the program saw */
        PF_STAT_PASSED,                 /* given XDP_PASS, for any reason */
        PF_STAT_DROPPED_BY_RULE,        /* dropped by a matching rule */
        PF_STAT_DROPPED_BY_DEFAULT,     /* dropped by the default action */
        PF_STAT_MALFORMED,              /* truncated or inconsistent headers */
        PF_STAT_NON_IP,                 /* neither IPv4 nor IPv6 */
        _PF_STAT_MAX,
};

/* Map pf_src_v4: BPF_MAP_TYPE_LPM_TRIE, source IPv4 prefix -> rule. */
struct pf_lpm_v4_key {
        __u32 prefixlen;                /* host byte order, 0..32 */
        __u8  addr[4];                  /* network byte order */
};

/* Map pf_src_v6: BPF_MAP_TYPE_LPM_TRIE, source IPv6 prefix -> rule. */
struct pf_lpm_v6_key {
        __u32 prefixlen;                /* host byte order, 0..128 */
        __u8  addr[16];                 /* network byte order */
};

/* Value of both prefix maps: which rule matched and what it decides. */
struct pf_prefix_value {
        __u32 rule_slot;                /* host byte order, index into pf_counters */
        __u8  action;                   /* enum pf_action */
        __u8  pad[3];
};

/* Map pf_counters: BPF_MAP_TYPE_PERCPU_ARRAY[PF_MAX_RULES], per-rule hits. */
struct pf_counter {
        __u64 packets;                  /* host byte order */
        __u64 bytes;                    /* host byte order, whole frame length */
};

/* Map pf_config: BPF_MAP_TYPE_ARRAY[1], global settings. */
struct pf_config {
        __u8  default_action;           /* enum pf_action */
        __u8  pad[7];
};

/* Map pf_stats: BPF_MAP_TYPE_PERCPU_ARRAY[_PF_STAT_MAX] of __u64 (host byte order). */
