/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's state and what may be done to it: rules, interfaces,
 * persistence and expiry. Every change is all-or-nothing: on disk before
 * it is applied and reported, rolled back when any step fails.
 * Knows nothing of D-Bus; the bus layer learns of changes through notify().
 */
#pragma once

#include <net/if.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config-file.h"
#include "loader.h"
#include "polkit.h"
#include "rule.h"

/* Interface.mode when the interface is configured but not present. */
#define INTERFACE_WAITING _XDP_MODE_MAX

typedef struct Interface {
        char name[IF_NAMESIZE];
        enum xdp_mode requested;
        enum xdp_mode in_effect;        /* native, generic, or INTERFACE_WAITING */
} Interface;

enum manager_change {
        MANAGER_CHANGED_RULES = 1 << 0,
        MANAGER_CHANGED_INTERFACES = 1 << 1,
};

typedef struct Manager Manager;
struct Manager {
        sd_event *event;
        sd_bus *bus;
        PolkitRegistry *polkit;
        Loader *loader;
        RuleSet *rules;
        Interface *interfaces;
        size_t n_interfaces;
        sd_event_source *expiry_timer;

        char *state_dir;
        char *bpffs_dir;
        char *config_file;
        Config config;

        void (*notify)(Manager *m, unsigned changes);
};

int manager_new(const char *state_dir, const char *bpffs_dir, const char *config_file, Manager **ret);
Manager *manager_free(Manager *m);

/* Loads the program (adopting pinned maps and links), the saved state, and applies it. */
int manager_start(Manager *m);

/* What a stop does: leaves the filter in place, unless the config says DetachOnStop=yes. */
void manager_stop(Manager *m);

/* Returns the id of the block; an existing block on the same prefix is reused (its expiry
 * only ever moves later, and 0 makes it permanent). -E2BIG at the rule limit. */
int manager_block(Manager *m, const struct prefix *p, uint32_t timeout_sec, uint32_t *ret_id);
int manager_unblock(Manager *m, const struct prefix *p, uint32_t *ret_removed);

/* -ENODEV no such interface; other errors: the kernel refused the attachment. */
int manager_attach(Manager *m, const char *ifname, enum xdp_mode mode, enum xdp_mode *ret_mode);
/* -ENOENT when the filter is not attached there. */
int manager_detach(Manager *m, const char *ifname);

int manager_rule_counters(Manager *m, const Rule *r, uint64_t *ret_packets, uint64_t *ret_bytes);
int manager_statistics(Manager *m, struct pf_statistics *ret);

uint64_t now_realtime_usec(void);

DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);
