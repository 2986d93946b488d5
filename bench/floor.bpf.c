/* SPDX-License-Identifier: (GPL-2.0-or-later OR BSD-2-Clause) */
/*
 * The floor: the least an XDP filter can do. One array look-up and one
 * per-CPU counter increment, then XDP_PASS. Every figure pf-bench prints is
 * read against this one.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bench.h"

struct {
        __uint(type, BPF_MAP_TYPE_ARRAY);
        __type(key, __u32);
        __type(value, __u32);
        __uint(max_entries, 1);
} floor_config SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __type(key, __u32);
        __type(value, __u64);
        __uint(max_entries, 1);
} floor_packets SEC(".maps");

SEC("xdp")
int floor_xdp(struct xdp_md *ctx) {
        __u32 zero = 0;
        __u32 *config = bpf_map_lookup_elem(&floor_config, &zero);
        __u64 *packets = bpf_map_lookup_elem(&floor_packets, &zero);

        if (packets)
                *packets += 1;
        /* Act on the look-up's result so that the compiler cannot drop it. */
        return config && *config ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
