/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pushes a list of rules into a Loader the way the daemon does, without the
 * daemon's manager, so that the BPF tests depend only on the rule model, the
 * classifier compiler and the loader:
 *  - block rules (source alone) go to the block table; for each prefix the
 *    first enabled block rule naming it in rule order holds it;
 *  - the enabled classifier rules, sorted by rule order, go to
 *    classifier_build() with the default action;
 *  - slot information (order key, action) is written for every rule that a
 *    table will refer to; then one loader_commit().
 * Rules carry their own id and slot (tests choose them). A test that replaces
 * one rule set by another must use fresh slots for rules whose meaning
 * changed until a commit returned 1, as the daemon's quarantine does.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "loader.h"
#include "rule.h"

/* The block prefixes a Loader holds, so that the next push removes those that went. */
typedef struct RulesetInstalled {
        struct prefix *prefixes;
        size_t n_prefixes;
} RulesetInstalled;

void ruleset_installed_clear(RulesetInstalled *installed);

/* Maps an interface name to its index in the current network namespace, 0 when absent. */
unsigned ruleset_ifindex_of(const char *ifname);

/* Returns what loader_commit() returned (1: both copies hold the change), or a negative errno. */
int ruleset_push(Loader *l, Rule *const *rules, size_t n_rules, enum pf_action default_action,
                 RulesetInstalled *installed);

/* A rule's counter, from the block or the classifier counters by its kind. */
int ruleset_counter_read(Loader *l, const Rule *r, uint64_t *ret_packets, uint64_t *ret_bytes);
int ruleset_counters_reset(Loader *l, Rule *const *rules, size_t n_rules);

/* Builds a rule from text fields, as a{sv} gives them; NULL fields are absent. Checks it with
 * rule_validate(). On failure fills *ret_error, or prints the field and reason to stderr when
 * ret_error is NULL. */
struct rule_text {
        const char *action;             /* "drop" or "pass" */
        const char *source, *destination, *protocol, *source_port, *port, *interface;
        const char *icmp_type, *vlan;   /* decimal text: NULL = absent (0 is a real value) */
        int32_t priority;
        bool disabled;
};
int ruleset_rule_from_text(const struct rule_text *t, uint32_t id, uint32_t slot, Rule **ret,
                           struct rule_error *ret_error);
