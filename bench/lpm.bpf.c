/* SPDX-License-Identifier: (GPL-2.0-or-later OR BSD-2-Clause) */
/*
 * The reference for large prefix sets: the kernel's LPM trie. Parses an
 * untagged Ethernet + IPv4 frame, looks the source address up in an
 * LPM_TRIE of IPv4 prefixes and drops on a hit. Counts packets like the floor.
 * lpm_mixed_xdp does the same for IPv4 and IPv6 (a second trie, lpm_v6): the
 * reference for sets of mixed prefixes (issue 7).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bench.h"

struct {
        __uint(type, BPF_MAP_TYPE_LPM_TRIE);
        __type(key, struct bench_lpm_v4_key);
        __type(value, __u32);
        __uint(max_entries, BENCH_LPM_MAX_ENTRIES);
        __uint(map_flags, BPF_F_NO_PREALLOC);           /* required for LPM tries */
} lpm_v4 SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_LPM_TRIE);
        __type(key, struct bench_lpm_v6_key);
        __type(value, __u32);
        __uint(max_entries, BENCH_LPM_MAX_ENTRIES);
        __uint(map_flags, BPF_F_NO_PREALLOC);
} lpm_v6 SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __type(key, __u32);
        __type(value, __u64);
        __uint(max_entries, 1);
} lpm_packets SEC(".maps");

SEC("xdp")
int lpm_xdp(struct xdp_md *ctx) {
        void *data = (void *) (long) ctx->data;
        void *data_end = (void *) (long) ctx->data_end;
        struct ethhdr *eth = data;
        struct iphdr *ip4 = (void *) (eth + 1);
        struct bench_lpm_v4_key key = { .prefixlen = 32 };
        __u32 zero = 0, *verdict;
        __u64 *packets;

        packets = bpf_map_lookup_elem(&lpm_packets, &zero);
        if (packets)
                *packets += 1;

        if ((void *) (ip4 + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
                return XDP_PASS;

        __builtin_memcpy(key.addr, &ip4->saddr, 4);
        verdict = bpf_map_lookup_elem(&lpm_v4, &key);
        return verdict && *verdict ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int lpm_mixed_xdp(struct xdp_md *ctx) {
        void *data = (void *) (long) ctx->data;
        void *data_end = (void *) (long) ctx->data_end;
        struct ethhdr *eth = data;
        __u32 zero = 0, *verdict = NULL;
        __u64 *packets;

        packets = bpf_map_lookup_elem(&lpm_packets, &zero);
        if (packets)
                *packets += 1;

        if ((void *) (eth + 1) > data_end)
                return XDP_PASS;
        if (eth->h_proto == bpf_htons(ETH_P_IP)) {
                struct iphdr *ip4 = (void *) (eth + 1);
                struct bench_lpm_v4_key key = { .prefixlen = 32 };

                if ((void *) (ip4 + 1) > data_end)
                        return XDP_PASS;
                __builtin_memcpy(key.addr, &ip4->saddr, 4);
                verdict = bpf_map_lookup_elem(&lpm_v4, &key);
        } else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
                struct ipv6hdr *ip6 = (void *) (eth + 1);
                struct bench_lpm_v6_key key = { .prefixlen = 128 };

                if ((void *) (ip6 + 1) > data_end)
                        return XDP_PASS;
                __builtin_memcpy(key.addr, &ip6->saddr, 16);
                verdict = bpf_map_lookup_elem(&lpm_v6, &key);
        }
        return verdict && *verdict ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
