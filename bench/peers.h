/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The programs our XDP program is measured against, all run on the same
 * frames: the floor (one array look-up and a counter), the kernel LPM trie
 * holding the same prefixes as our block table, and xdp-filter from
 * xdp-tools, loaded from its own object file. Plus the cold driver, which
 * feeds any of them a new source address on every repetition.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "prefixgen.h"
#include "workload.h"

/* ---- floor ---- */
typedef struct Floor Floor;
int floor_new(Floor **ret);
Floor *floor_free(Floor *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(Floor *, floor_free);
int floor_prog_fd(Floor *f);
/* The memory floor: the floor plus one read from a 64 MiB array at the source's /24. */
int floor_memory_prog_fd(Floor *f);

/* ---- kernel LPM trie ---- */
typedef struct Lpm Lpm;
int lpm_new(Lpm **ret);
Lpm *lpm_free(Lpm *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(Lpm *, lpm_free);
int lpm_prog_fd(Lpm *l);
/* Inserts p[0..n) (one system call each: LPM tries have no batch update). */
int lpm_add(Lpm *l, const struct bench_prefix *p, size_t n);
uint64_t lpm_map_memory(Lpm *l);
/* The mixed program: IPv4 sources looked up in the IPv4 trie, IPv6 ones in the IPv6 trie. */
int lpm_mixed_prog_fd(Lpm *l);
/* Inserts mixed prefixes (gen-prefixes' entries) into the two tries. */
int lpm_add_mixed(Lpm *l, const struct pg_prefix *p, size_t n);
/* Both tries. */
uint64_t lpm_mixed_map_memory(Lpm *l);

/* ---- xdp-filter (xdp-tools) ---- */
typedef struct XdpFilter XdpFilter;
/*
 * Opens xdp-filter's "policy allow, all features" object (what `xdp-filter
 * load IFACE` picks by default), loads it unpinned, and adds what `xdp-filter
 * ip ADDR --mode src` and `xdp-filter port PORT` would: one source address
 * and one destination port (tcp and udp). -ENOENT when xdp-tools' objects
 * are not installed.
 */
int xdp_filter_new(uint32_t blocked_source, uint16_t blocked_port, XdpFilter **ret);
XdpFilter *xdp_filter_free(XdpFilter *x);
DEFINE_TRIVIAL_CLEANUP_FUNC(XdpFilter *, xdp_filter_free);
int xdp_filter_prog_fd(XdpFilter *x);
const char *xdp_filter_object_path(XdpFilter *x);

/* ---- cold driver ---- */
typedef struct Driver Driver;
int driver_new(Driver **ret);
Driver *driver_free(Driver *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Driver *, driver_free);
int driver_prog_fd(Driver *d);
/* The program each repetition tail-calls into. */
int driver_set_target(Driver *d, int prog_fd);
/* The sources to cycle through (host order); fewer than BENCH_DRIVER_ADDRS are repeated. */
int driver_set_sources(Driver *d, const uint32_t *addrs, size_t n);

/* Bytes of kernel memory a map takes (memlock in /proc/self/fdinfo). */
uint64_t map_fd_memory(int fd);

/* The maps a program uses, with their memory: a breakdown of loader_map_memory(). */
struct map_memory {
        char name[16];
        uint32_t type, max_entries;
        uint64_t bytes;
};
int prog_map_memory(int prog_fd, struct map_memory **ret, size_t *ret_n);
/* This process's resident memory, in bytes. */
uint64_t process_rss(void);
