/* SPDX-License-Identifier: (GPL-2.0-or-later OR BSD-2-Clause) */
/*
 * The XDP program: parses Ethernet (up to two VLAN tags), IPv4 and IPv6,
 * looks the source address up in the prefix table of its family and gives
 * the verdict of the matching rule, or the default action on a miss.
 *
 * Every counter is per-CPU and bumped with a plain "+=": no locks, no
 * atomics, no lost increments; user space sums the CPUs. Nothing loops over
 * rules, so the cost per packet does not grow with their number.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "packetfilter.h"

/* Not in every uapi header set, and all we need of them. */
#define PF_ETH_P_8021Q          0x8100
#define PF_ETH_P_8021AD         0x88A8
#define PF_IPPROTO_ICMPV6       58
#define PF_NDP_TYPE_FIRST       133     /* router solicitation */
#define PF_NDP_TYPE_LAST        137     /* redirect */
#define PF_NDP_HOP_LIMIT        255     /* RFC 4861: on-link NDP always carries 255 */

struct pf_vlan_hdr {
        __be16 tci;
        __be16 encapsulated_proto;
};

struct {
        __uint(type, BPF_MAP_TYPE_LPM_TRIE);
        __type(key, struct pf_lpm_v4_key);
        __type(value, struct pf_prefix_value);
        __uint(max_entries, PF_MAX_PREFIXES_V4);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_src_v4 SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_LPM_TRIE);
        __type(key, struct pf_lpm_v6_key);
        __type(value, struct pf_prefix_value);
        __uint(max_entries, PF_MAX_PREFIXES_V6);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_src_v6 SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __type(key, __u32);
        __type(value, struct pf_counter);
        __uint(max_entries, PF_MAX_RULES);
        __uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_counters SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_ARRAY);
        __type(key, __u32);
        __type(value, struct pf_config);
        __uint(max_entries, 1);
        __uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_config SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __type(key, __u32);
        __type(value, __u64);
        __uint(max_entries, _PF_STAT_MAX);
        __uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_stats SEC(".maps");

static __always_inline void stat_inc(__u32 stat) {
        __u64 *v = bpf_map_lookup_elem(&pf_stats, &stat);

        if (v)
                *v += 1;
}

/* Every verdict goes out through here, so that the statistics always add up:
 * packets = passed + dropped-by-rule + dropped-by-default. */
static __always_inline int verdict_pass(void) {
        stat_inc(PF_STAT_PASSED);
        return XDP_PASS;
}

static __always_inline int verdict_default(void) {
        __u32 zero = 0;
        struct pf_config *cfg = bpf_map_lookup_elem(&pf_config, &zero);

        if (cfg && cfg->default_action == PF_ACTION_DROP) {
                stat_inc(PF_STAT_DROPPED_BY_DEFAULT);
                return XDP_DROP;
        }
        return verdict_pass();
}

static __always_inline int verdict_rule(const struct pf_prefix_value *hit, __u64 frame_len) {
        __u32 slot = hit->rule_slot;
        struct pf_counter *c = bpf_map_lookup_elem(&pf_counters, &slot);

        if (c) {
                c->packets += 1;
                c->bytes += frame_len;
        }

        if (hit->action == PF_ACTION_DROP) {
                stat_inc(PF_STAT_DROPPED_BY_RULE);
                return XDP_DROP;
        }
        return verdict_pass();
}

/*
 * Skips up to two VLAN tags (802.1ad outer + 802.1Q inner, or 802.1Q twice).
 * Returns the ethertype of what follows, with *ret_l3 pointing at it, or -1
 * if a header is cut short. A third tag is left alone: its TPID comes back
 * as the ethertype, which is then neither IPv4 nor IPv6.
 */
static __always_inline int parse_ethernet(void *data, void *data_end, void **ret_l3) {
        struct ethhdr *eth = data;
        void *cursor;
        __u16 proto;

        if ((void *) (eth + 1) > data_end)
                return -1;
        proto = bpf_ntohs(eth->h_proto);
        cursor = eth + 1;

#pragma unroll
        for (int i = 0; i < 2; i++) {
                struct pf_vlan_hdr *vlan = cursor;

                if (proto != PF_ETH_P_8021Q && proto != PF_ETH_P_8021AD)
                        break;
                if ((void *) (vlan + 1) > data_end)
                        return -1;
                proto = bpf_ntohs(vlan->encapsulated_proto);
                cursor = vlan + 1;
        }

        *ret_l3 = cursor;
        return proto;
}

/* The IPv4 header, if it is whole (options included) and consistent; NULL otherwise. */
static __always_inline struct iphdr *parse_ipv4(void *l3, void *data_end) {
        struct iphdr *ip4 = l3;
        __u32 hdr_len;

        if ((void *) (ip4 + 1) > data_end || ip4->version != 4 || ip4->ihl < 5)
                return NULL;
        hdr_len = ip4->ihl * 4;
        if (l3 + hdr_len > data_end || bpf_ntohs(ip4->tot_len) < hdr_len)
                return NULL;
        return ip4;
}

/* The IPv6 fixed header, if it is whole and says version 6; NULL otherwise. */
static __always_inline struct ipv6hdr *parse_ipv6(void *l3, void *data_end) {
        struct ipv6hdr *ip6 = l3;

        if ((void *) (ip6 + 1) > data_end || ip6->version != 6)
                return NULL;
        return ip6;
}

/*
 * Neighbour discovery, recognised only when ICMPv6 follows the fixed header
 * directly and the hop limit is 255, which no routed packet can have
 * (RFC 4861): the exemption from the default drop stays on the link.
 */
static __always_inline int is_neighbour_discovery(struct ipv6hdr *ip6, void *data_end) {
        __u8 *icmp6_type = (void *) (ip6 + 1);

        if (ip6->nexthdr != PF_IPPROTO_ICMPV6 || ip6->hop_limit != PF_NDP_HOP_LIMIT)
                return 0;
        if ((void *) (icmp6_type + 1) > data_end)
                return 0;
        return *icmp6_type >= PF_NDP_TYPE_FIRST && *icmp6_type <= PF_NDP_TYPE_LAST;
}

SEC("xdp")
int packetfilter_xdp(struct xdp_md *ctx) {
        void *data = (void *) (long) ctx->data;
        void *data_end = (void *) (long) ctx->data_end;
        struct pf_prefix_value *hit = NULL;
        int proto, exempt = 0;
        void *l3 = NULL;

        stat_inc(PF_STAT_PACKETS);

        proto = parse_ethernet(data, data_end, &l3);
        if (proto == ETH_P_IP) {
                struct iphdr *ip4 = parse_ipv4(l3, data_end);
                struct pf_lpm_v4_key key = { .prefixlen = 32 };

                if (!ip4)
                        goto malformed;
                __builtin_memcpy(key.addr, &ip4->saddr, sizeof(key.addr));
                hit = bpf_map_lookup_elem(&pf_src_v4, &key);
        } else if (proto == ETH_P_IPV6) {
                struct ipv6hdr *ip6 = parse_ipv6(l3, data_end);
                struct pf_lpm_v6_key key = { .prefixlen = 128 };

                if (!ip6)
                        goto malformed;
                /* A rule naming the source applies to its neighbour discovery too:
                 * the user asked for everything from it to be dropped. */
                __builtin_memcpy(key.addr, &ip6->saddr, sizeof(key.addr));
                hit = bpf_map_lookup_elem(&pf_src_v6, &key);
                if (!hit)
                        exempt = is_neighbour_discovery(ip6, data_end);
        } else if (proto >= 0) {
                stat_inc(PF_STAT_NON_IP);
                /* The default drop never cuts a host off its own link. */
                exempt = proto == ETH_P_ARP;
        } else
                goto malformed;

        if (hit)
                return verdict_rule(hit, data_end - data);
        if (exempt)
                return verdict_pass();
        return verdict_default();

malformed:
        /* Cut or inconsistent headers take the default path without a lookup: a
         * source read from a broken header cannot be trusted to match a rule.
         * With default pass the stack sees the frame and drops it itself. */
        stat_inc(PF_STAT_MALFORMED);
        return verdict_default();
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
