/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The BPF loader: the only part of user space that knows the skeleton.
 * Loads the XDP program, pins its maps and links under the bpffs folder,
 * attaches it to interfaces and writes the tables the rule model asks for.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "address.h"
#include "packetfilter.h"

typedef struct Loader Loader;

enum xdp_mode {
        XDP_MODE_AUTO,          /* native, falling back to generic */
        XDP_MODE_NATIVE,
        XDP_MODE_GENERIC,
        _XDP_MODE_MAX,
        _XDP_MODE_INVALID = -EINVAL,
};

const char *xdp_mode_to_string(enum xdp_mode m);
enum xdp_mode xdp_mode_from_string(const char *s);

struct pf_statistics {
        uint64_t v[_PF_STAT_MAX];
};

/*
 * Opens and loads the program. With a bpffs_dir, maps are pinned in
 * BPFFS_DIR/maps (reused when already there, so counters and rules survive
 * a restart) and links in BPFFS_DIR/links. With NULL nothing is pinned
 * (tests, benchmarks).
 */
int loader_new(const char *bpffs_dir, Loader **ret);
Loader *loader_free(Loader *l);
#include "macro.h"
DEFINE_TRIVIAL_CLEANUP_FUNC(Loader *, loader_free);

/* The program's fd, for bpf_prog_test_run_opts in tests and benchmarks. */
int loader_prog_fd(Loader *l);

/*
 * Attaches to ifindex through a bpf_link (pinned as BPFFS_DIR/links/IFNAME).
 * If a pinned link for IFNAME already exists it is adopted and its program
 * swapped for ours without a gap. *ret_mode gets the mode in effect.
 * -ENODEV no such interface, -EOPNOTSUPP the mode is not supported.
 */
int loader_attach(Loader *l, const char *ifname, enum xdp_mode mode, enum xdp_mode *ret_mode);
/* Detaches and unpins. -ENOENT if not attached by us. */
int loader_detach(Loader *l, const char *ifname);
/* Has a pinned link for IFNAME from an earlier run? Writes the mode recorded at attach. */
bool loader_is_attached(Loader *l, const char *ifname);

/* Source-prefix table. */
int loader_prefix_set(Loader *l, const struct prefix *p, uint32_t rule_slot, enum pf_action action);
int loader_prefix_delete(Loader *l, const struct prefix *p);
/* Deletes every entry for which keep() says false: reconciles pinned maps with saved state. */
int loader_prefix_prune(Loader *l, bool (*keep)(const struct prefix *p, void *userdata), void *userdata);

int loader_set_default_action(Loader *l, enum pf_action a);

/* Per-rule counters, summed over CPUs. */
int loader_counter_read(Loader *l, uint32_t rule_slot, uint64_t *ret_packets, uint64_t *ret_bytes);
int loader_counter_reset(Loader *l, uint32_t rule_slot);

int loader_statistics_read(Loader *l, struct pf_statistics *ret);
