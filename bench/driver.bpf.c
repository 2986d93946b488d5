/* SPDX-License-Identifier: (GPL-2.0-or-later OR BSD-2-Clause) */
/*
 * The cold driver: gives the program under test a new source address on
 * every repetition of one test run, so that "many distinct packets" costs
 * no system call per packet. XDP test runs reuse the same packet buffer for
 * every repetition, so what this writes is what the target then reads.
 * Its own cost (a per-CPU counter, one array read, a 4-byte store, a tail
 * call) is measured the same way in front of the floor and subtracted.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bench.h"

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __type(key, __u32);
        __type(value, __u32);
        __uint(max_entries, 1);
} driver_cursor SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_ARRAY);
        __type(key, __u32);
        __type(value, __u32);
        __uint(max_entries, BENCH_DRIVER_ADDRS);
} driver_addrs SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
        __type(key, __u32);
        __type(value, __u32);
        __uint(max_entries, 1);
} driver_target SEC(".maps");

SEC("xdp")
int driver_xdp(struct xdp_md *ctx) {
        void *data = (void *) (long) ctx->data;
        void *data_end = (void *) (long) ctx->data_end;
        __u32 *saddr = data + BENCH_IPV4_SADDR_OFFSET;
        __u32 zero = 0, *cursor, *addr, index;

        cursor = bpf_map_lookup_elem(&driver_cursor, &zero);
        if (!cursor || (void *) (saddr + 1) > data_end)
                return XDP_ABORTED;
        index = (*cursor)++ & (BENCH_DRIVER_ADDRS - 1);
        addr = bpf_map_lookup_elem(&driver_addrs, &index);
        if (!addr)
                return XDP_ABORTED;
        *saddr = *addr;

        bpf_tail_call(ctx, &driver_target, 0);
        return XDP_ABORTED;             /* the tail call failed */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
