/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's state and what may be done to it: rules, interfaces,
 * persistence and expiry. Every change is one transaction: the rule set is
 * changed, saved to disk, compiled and committed to the data plane; if any
 * step fails, everything goes back to how it was. Knows nothing of D-Bus;
 * the bus layer learns of changes through the notify callbacks.
 */
#pragma once

#include <net/if.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config-file.h"
#include "drop-events.h"
#include "loader.h"
#include "netlink-watch.h"
#include "polkit.h"
#include "rates.h"
#include "rule-index.h"
#include "rule.h"
#include "set.h"

/* Interface.in_effect when the interface is configured but not present. */
#define INTERFACE_WAITING _XDP_MODE_MAX

typedef struct Interface {
        char name[IF_NAMESIZE];
        enum xdp_mode requested;
        enum xdp_mode in_effect;        /* native, generic, or INTERFACE_WAITING */
} Interface;

enum manager_change {
        MANAGER_CHANGED_RULES = 1 << 0,
        MANAGER_CHANGED_INTERFACES = 1 << 1,
        MANAGER_CHANGED_DEFAULT_ACTION = 1 << 2,
        MANAGER_CHANGED_SETS = 1 << 3,
};

/* Why a rule went away, as RuleRemoved says it. */
enum removal_reason {
        REMOVAL_REMOVED,
        REMOVAL_EXPIRED,
        REMOVAL_REPLACED,
};

/* One committed change, for the bus layer's signals. */
struct manager_changes {
        Rule *const *added;
        size_t n_added;
        Rule *const *removed;           /* valid during the callback only */
        size_t n_removed;
        enum removal_reason reason;
        const Rule *changed;            /* a rule changed in place */
};

typedef struct Manager Manager;
struct Manager {
        sd_event *event;
        sd_bus *bus;
        PolkitRegistry *polkit;
        Loader *loader;
        RuleSet *rules;
        RuleIndex *blocks;              /* block rules by source prefix */
        SetRegistry *sets;
        Interface *interfaces;
        size_t n_interfaces;
        sd_event_source *expiry_timer;
        sd_event_source *catch_up;      /* brings the old copy of the tables up to date */
        NetlinkWatch *netlink;          /* interfaces that come, go and change names */
        uint64_t generation;            /* +1 on every committed change */

        char *state_dir;
        char *bpffs_dir;
        char *config_file;
        Config config;

        void (*notify)(Manager *m, unsigned changes);
        void (*notify_changes)(Manager *m, const struct manager_changes *c);
        void (*notify_set)(Manager *m, const char *name, const char *change);   /* created, deleted, updated */

        DropEvents *drop_events;        /* NULL while DropSignalsPerSecond=0 */
        Rates *rates;                   /* per-second rates of the statistics */
        sd_event_source *sample_timer;  /* samples them each second */
        void (*notify_drop)(Manager *m, const struct drop_report *r);
};

int manager_new(const char *state_dir, const char *bpffs_dir, const char *config_file, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Loads the program (adopting pinned maps and links), the saved state, and applies it. */
int manager_start(Manager *m);
/* Re-reads the config file and applies it without a gap; a bad file changes nothing (-EBADMSG). */
int manager_reload(Manager *m);
/* What a stop does: leaves the filter in place, unless the config says DetachOnStop=yes. */
void manager_stop(Manager *m);

/*
 * One transaction: removes rules by id and adds validated rules, all or none, in one
 * commit to the data plane. Takes ownership of the added rules on success (their ids in
 * ret_ids). -ENOENT (id in *ret_missing) for an unknown id; -E2BIG past a limit.
 */
int manager_change(Manager *m, const uint32_t *remove_ids, size_t n_remove, enum removal_reason reason,
                   Rule **add, size_t n_add, uint32_t *ret_ids, uint32_t *ret_missing);

/*
 * Adds validated rules, all or none. Takes ownership of every rule on success
 * (ids written to ret_ids). -E2BIG: a limit would be passed.
 */
int manager_add_rules(Manager *m, Rule **rules, size_t n, uint32_t *ret_ids);
/* Removes rules, all or none. -ENOENT (with *ret_missing) when an id does not exist. */
int manager_remove_rules(Manager *m, const uint32_t *ids, size_t n, enum removal_reason reason,
                         uint32_t *ret_missing);

/* Replaces every rule of a group by these, in one commit; other groups are untouched. */
int manager_replace_group(Manager *m, const char *group, Rule **rules, size_t n, uint32_t *ret_ids);
int manager_set_enabled(Manager *m, uint32_t id, bool enabled);
int manager_set_default_action(Manager *m, enum pf_action action);
int manager_reset_counters(Manager *m);

/* Returns the id of the block; an existing block on the same prefix is reused (its expiry
 * only ever moves later, and 0 makes it permanent). */
int manager_block(Manager *m, const struct prefix *p, uint32_t timeout_sec, uint32_t *ret_id);
int manager_unblock(Manager *m, const struct prefix *p, uint32_t *ret_removed);

int manager_attach(Manager *m, const char *ifname, enum xdp_mode mode, enum xdp_mode *ret_mode);
int manager_detach(Manager *m, const char *ifname);

int manager_rule_counters(Manager *m, const Rule *r, uint64_t *ret_packets, uint64_t *ret_bytes);
int manager_statistics(Manager *m, struct pf_statistics *ret);
/* The packets a rate-limit rule dropped, over its rate. */
int manager_rule_rate_limited(Manager *m, const Rule *r, uint64_t *ret);
/* An attached interface's figures. -ENOENT when it is not attached now. */
int manager_interface_statistics(Manager *m, const char *ifname, struct pf_iface_stats *ret);
/* A statistic's change per second, as last sampled ("packets", "eth0:dropped", ...; see manager.c). */
uint64_t manager_rate(Manager *m, const char *name);

/* ---- Sets ---- */

/* Fills the rule's set ids from their names; -ENXIO (e filled) when a set does not exist. */
int manager_resolve_sets(Manager *m, Rule *rule, struct rule_error *e);
/* -EEXIST, -E2BIG (PF_MAX_SETS sets). */
int manager_set_create(Manager *m, const char *name, const char *comment, uint32_t default_timeout_sec);
/* -ENOENT; -EBUSY while a rule names it (manager_set_users() says which). */
int manager_set_delete(Manager *m, const char *name);
/* Adds (or with replace, makes the set exactly) these prefixes, expiring after timeout_sec
 * (0: the set's default timeout), all or nothing, in one commit. -E2BIG past PF_MAX_SET_ENTRIES. */
int manager_set_add(Manager *m, Set *set, const struct prefix *prefixes, size_t n, uint32_t timeout_sec, bool replace,
                    size_t *ret_added, size_t *ret_removed);
int manager_set_remove(Manager *m, Set *set, const struct prefix *prefixes, size_t n, size_t *ret_removed);
int manager_set_users(Manager *m, const Set *set, uint32_t **ret_ids, size_t *ret_n);
/* Packets decided by the rules that name the set. */
uint64_t manager_set_hits(Manager *m, const Set *set);

uint64_t now_realtime_usec(void);
uint64_t now_monotonic_usec(void);
