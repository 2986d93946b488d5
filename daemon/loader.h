/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The BPF loader: the only part of user space that knows the skeleton.
 * Loads the XDP program, pins its maps and links under the bpffs folder,
 * attaches it to interfaces, and writes the tables the daemon compiles.
 *
 * Changes are transactional: loader_block_set()/loader_block_delete() and
 * loader_set_classifier() only stage; loader_commit() writes the staged
 * state into the copy no packet reads, flips pf_config.active with one
 * write, waits until no program still runs on the old copy, and brings
 * the old copy up to date. A packet is judged wholly by the old or the new
 * rules, never a mix.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

#include "address.h"
#include "classifier.h"
#include "macro.h"
#include "packetfilter.h"
#include "set.h"

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
 * BPFFS_DIR/maps (reused when already there, so rules and counters survive
 * a restart) and links in BPFFS_DIR/links. With NULL nothing is pinned
 * (tests, benchmarks).
 */
int loader_new(const char *bpffs_dir, Loader **ret);
Loader *loader_free(Loader *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(Loader *, loader_free);

/* The program's fd, for bpf_prog_test_run_opts in tests and benchmarks. */
int loader_prog_fd(Loader *l);

/* Follows an interface's new name: the attachment and its pin are renamed. -ENOENT if not ours. */
int loader_rename(Loader *l, const char *old_ifname, const char *new_ifname);
/* The interface a pinned link of an earlier run is attached to now, by its current name
 * (an interface renamed while no daemon ran). -ENOENT: no pin, or its interface is gone. */
int loader_pinned_link_ifname(Loader *l, const char *ifname, char ret[static IF_NAMESIZE]);

/* Forgets an attachment whose interface is gone (its link is defunct); unpins it. */
void loader_forget(Loader *l, const char *ifname);

/* Unpins map folders of other layout versions: call once every link runs our program. */
int loader_prune_stale_pins(Loader *l);

int loader_attach(Loader *l, const char *ifname, enum xdp_mode mode, enum xdp_mode *ret_mode);
int loader_detach(Loader *l, const char *ifname);
bool loader_is_attached(Loader *l, const char *ifname);

/* ---- Staging (nothing reaches packets before loader_commit) ---- */

/* Block rules: source prefix -> block slot (< PF_MAX_BLOCKS). Setting an existing prefix replaces its slot. */
int loader_block_set(Loader *l, const struct prefix *p, uint32_t block_slot);
int loader_block_delete(Loader *l, const struct prefix *p);
size_t loader_block_count(Loader *l);

/* Set members: prefix -> membership (1 .. PF_MAX_MEMBERSHIPS - 1), the sets holding the
 * prefix and every shorter member prefix holding it; the classifier maps memberships to classes. */
int loader_member_set(Loader *l, const struct prefix *p, uint32_t membership);
int loader_member_delete(Loader *l, const struct prefix *p);
/* The set registry's changes (set_registry_changes()), in order; a removal of a prefix the
 * table does not hold is no error. */
int loader_member_apply(Loader *l, const struct member_change *c, size_t n);

/* A block or classifier rule's place in the order, its action and its expiry (CLOCK_REALTIME µs,
 * 0 = never: the program stops matching it then, with or without a daemon), by slot. */
int loader_set_block_info(Loader *l, uint32_t block_slot, uint64_t order_key, enum pf_action action,
                          uint64_t expires_usec);
int loader_set_rule_info(Loader *l, uint32_t rule_slot, uint64_t order_key, enum pf_action action,
                         uint64_t expires_usec);

/* The compiled classifier (and the default action, which lives beside it). Takes ownership. */
void loader_set_classifier(Loader *l, Classifier *c);

/* Applies all that is staged, atomically as seen by traffic. On failure nothing staged is lost:
 * the next commit retries. Returns 1 when both copies hold the change (so nothing refers to
 * what was removed any more), 0 when only the active one does yet. */
int loader_commit(Loader *l);

/* With deferral on, loader_commit() returns once the change is in force (0), and the old copy
 * is brought up to date by loader_catch_up() later (the daemon does it after replying), or by
 * the next commit, which writes that copy anyway. loader_catch_up() returns 1 when both copies
 * hold everything committed (nothing refers to what was removed any more). */
void loader_set_defer_catch_up(Loader *l, bool b);
bool loader_is_behind(Loader *l);
int loader_catch_up(Loader *l);

/* ---- Counters ---- */
int loader_rule_counter_read(Loader *l, uint32_t rule_slot, uint64_t *ret_packets, uint64_t *ret_bytes);
int loader_rule_counter_reset(Loader *l, uint32_t rule_slot);
int loader_block_counter_read(Loader *l, uint32_t block_slot, uint64_t *ret_packets, uint64_t *ret_bytes);
int loader_block_counter_reset(Loader *l, uint32_t block_slot);
int loader_statistics_read(Loader *l, struct pf_statistics *ret);
int loader_statistics_reset(Loader *l);

/* ---- Rate limits ---- */

/* A classifier slot's rate limit (rate 0: none), written at once like the slot's information,
 * with its per-rule bucket and its rate-limited count zeroed: call it when a slot is given
 * to a rule. Per-source buckets are keyed by rule id, so a reused slot never inherits them. */
int loader_set_rate_limit(Loader *l, uint32_t rule_slot, uint32_t rule_id, uint32_t rate, uint32_t burst,
                          enum pf_rate_per per);
int loader_rate_limited_read(Loader *l, uint32_t rule_slot, uint64_t *ret);
int loader_rate_limited_reset(Loader *l, uint32_t rule_slot);
/* Entries in the per-source bucket map now (a walk of the map: for tests and diagnostics). */
int loader_rate_sources_count(Loader *l, size_t *ret);

/* ---- Drop events and per-interface figures ---- */

/* The ring buffer of struct pf_drop_event, for ring_buffer__new(). */
int loader_drop_events_fd(Loader *l);
/* Events per PF_DROP_EVENT_WINDOW_NS per CPU; 0 turns them off. */
int loader_set_drop_event_budget(Loader *l, uint32_t budget);
/* An attached interface's figures (kept from its attachment on; summed over CPUs). -ENOENT if not attached. */
int loader_interface_statistics(Loader *l, const char *ifname, struct pf_iface_stats *ret);
int loader_interface_statistics_reset(Loader *l);

/* Bytes of kernel memory the maps take (for benchmarks and GetStatistics). */
uint64_t loader_map_memory(Loader *l);
/* The same for any BPF map or program fd (the kernel's fdinfo "memlock"). */
uint64_t loader_fd_memory(int fd);
