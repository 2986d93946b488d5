/* SPDX-License-Identifier: (GPL-2.0-or-later OR BSD-2-Clause) */
/*
 * The floor: the least an XDP filter can do. One array look-up and one
 * per-CPU counter increment, then XDP_PASS. Every figure pf-bench prints is
 * read against this one.
 *
 * And the memory floor: the same plus one read from a 64 MiB array at the
 * source's /24, the access our DIR-24 block table makes. With random sources
 * it is what one look-up into a large table costs on this machine at best.
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

struct {
        __uint(type, BPF_MAP_TYPE_ARRAY);
        __type(key, __u32);
        __type(value, __u32);
        __uint(max_entries, BENCH_MEMORY_ENTRIES);
} floor_memory SEC(".maps");

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

SEC("xdp")
int memory_xdp(struct xdp_md *ctx) {
        void *data = (void *) (long) ctx->data;
        void *data_end = (void *) (long) ctx->data_end;
        __u8 *saddr = data + BENCH_IPV4_SADDR_OFFSET;
        __u32 zero = 0, index, *slot;
        __u64 *packets = bpf_map_lookup_elem(&floor_packets, &zero);

        if (packets)
                *packets += 1;
        if ((void *) (saddr + 4) > data_end)
                return XDP_ABORTED;
        index = (__u32) saddr[0] << 16 | (__u32) saddr[1] << 8 | saddr[2];     /* the /24, as the DIR-24 table */
        slot = bpf_map_lookup_elem(&floor_memory, &index);
        return slot && *slot ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
