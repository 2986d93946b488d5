/* SPDX-License-Identifier: (GPL-2.0-or-later OR BSD-2-Clause) */
/*
 * What the benchmark's own BPF programs (floor, LPM reference, cold driver)
 * share with pf-bench. Bench-only: none of this is part of the product.
 */
#pragma once

#include <linux/types.h>

#define BENCH_LPM_MAX_ENTRIES   (1u << 21)      /* room for the 1M-prefix set */
#define BENCH_DRIVER_ADDRS      (1u << 20)      /* sources the cold driver cycles through: more lines than caches hold */

/* Map lpm_v4: LPM_TRIE, the kernel's own longest-prefix match (struct bpf_lpm_trie_key layout). */
struct bench_lpm_v4_key {
        __u32 prefixlen;                /* host order, 0..32 */
        __u8  addr[4];                  /* network order */
};
/* value: __u32, host order: 1 = drop */

/* Map lpm_v6: the same for IPv6 (lpm_mixed_xdp looks IPv4 sources up in lpm_v4, IPv6 ones here). */
struct bench_lpm_v6_key {
        __u32 prefixlen;                /* host order, 0..128 */
        __u8  addr[16];                 /* network order */
};

/* Map floor_config: ARRAY[1] of __u32, read once per packet by the floor. */
/* Map floor_memory: ARRAY of __u32, one per /24 (64 MiB), read by the memory floor; all zero. */
#define BENCH_MEMORY_ENTRIES    (1u << 24)
/* Map floor_packets / lpm_packets: PERCPU_ARRAY[1] of __u64: packets seen. */

/*
 * The cold driver (driver.bpf.c): before each run of the program under test
 * it writes the next source address from driver_addrs (network order) into
 * the IPv4 header, then tail-calls driver_target[0]. XDP test runs keep the
 * packet between repetitions, so one test run with repeat=N sees N sources.
 */
#define BENCH_IPV4_SADDR_OFFSET (14 + 12)       /* untagged Ethernet + offset of saddr in struct iphdr */
