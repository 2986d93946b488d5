/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rule model: what a rule is, the ordered set of rules, and their
 * validation. Knows nothing of D-Bus or BPF.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "packetfilter.h"

typedef struct Rule {
        uint32_t id;                    /* > 0, never reused */
        enum pf_action action;
        struct prefix source;           /* what Block() matches on */
        uint64_t created_usec;          /* CLOCK_REALTIME, µs since the epoch */
        uint64_t expires_usec;          /* CLOCK_REALTIME, 0 = never */
        uint32_t slot;                  /* counter slot in the data plane, < PF_MAX_RULES */
} Rule;

typedef struct RuleSet {
        Rule **rules;                   /* ordered by id (= evaluation order for now) */
        size_t n_rules;
        uint32_t next_id;
        enum pf_action default_action;
        uint8_t slot_used[PF_MAX_RULES];
} RuleSet;

int rule_set_new(RuleSet **ret);
RuleSet *rule_set_free(RuleSet *rs);

/*
 * Takes a rule whose id is 0 (a new one: gets the next id) or set (loaded
 * from state: next_id moves past it). Assigns a free counter slot.
 * -E2BIG when PF_MAX_RULES rules exist, -EEXIST for a duplicate id.
 */
int rule_set_add(RuleSet *rs, Rule *rule, uint32_t *ret_id);
/* Removes and frees; -ENOENT if there is no such id. */
int rule_set_remove(RuleSet *rs, uint32_t id);
Rule *rule_set_find(RuleSet *rs, uint32_t id);
/* The earliest expiry among rules, 0 when none expires. */
uint64_t rule_set_next_expiry(const RuleSet *rs);

Rule *rule_new(void);
Rule *rule_free(Rule *r);

const char *pf_action_to_string(enum pf_action a);
int pf_action_from_string(const char *s, enum pf_action *ret);

#include "macro.h"
DEFINE_TRIVIAL_CLEANUP_FUNC(Rule *, rule_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(RuleSet *, rule_set_free);
