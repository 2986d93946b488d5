/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rule model: what a rule is, the ordered set of rules, and their
 * validation. Knows nothing of D-Bus or BPF.
 *
 * A rule is an action and optional match fields, all ANDed (absent = any).
 * Rules are ordered by (priority, id); the first enabled rule that matches
 * decides; when none does, the default action decides.
 *
 * Two kinds, by what they match (decided once, at creation):
 *  - block rules match on a source address or prefix alone (what Block()
 *    creates): kept in the prefix structure, up to PF_MAX_BLOCKS of them;
 *  - classifier rules match on anything else: up to PF_MAX_RULES of them.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "macro.h"
#include "packetfilter.h"

#define RULE_COMMENT_MAX 256            /* bytes */
#define RULE_GROUP_MAX 64               /* bytes */
#define RULE_GROUP_DEFAULT "default"

enum rule_match {
        RULE_MATCH_SOURCE       = 1 << 0,
        RULE_MATCH_DESTINATION  = 1 << 1,
        RULE_MATCH_PROTOCOL     = 1 << 2,
        RULE_MATCH_SOURCE_PORT  = 1 << 3,
        RULE_MATCH_PORT         = 1 << 4,
        RULE_MATCH_ICMP_TYPE    = 1 << 5,
        RULE_MATCH_VLAN         = 1 << 6,
        RULE_MATCH_INTERFACE    = 1 << 7,
        RULE_MATCH_SOURCE_SET   = 1 << 8,
        RULE_MATCH_DESTINATION_SET = 1 << 9,
};

#define SET_NAME_MAX 64                 /* bytes */

struct port_range {
        uint16_t first, last;           /* inclusive, host order */
};

typedef struct Rule {
        uint32_t id;                    /* > 0, never reused */
        enum pf_action action;
        unsigned match;                 /* enum rule_match bits: which fields below are set */
        struct prefix source;
        struct prefix destination;
        uint8_t protocol;               /* IP protocol number */
        struct port_range source_port;
        struct port_range port;         /* destination port */
        uint8_t icmp_type;
        uint16_t vlan;                  /* 0..4095 */
        char interface[IF_NAMESIZE];
        char *source_set;               /* set names; NULL unless the match bit is set */
        char *destination_set;
        uint8_t source_set_id;          /* the sets' ids, filled in by the manager when the rule */
        uint8_t destination_set_id;     /* joins the rule set (the set registry knows them) */
        int32_t priority;
        bool enabled;
        char *comment;                  /* NULL = none */
        char *group;                    /* never NULL once validated */
        uint64_t created_usec;          /* CLOCK_REALTIME, µs since the epoch */
        uint64_t expires_usec;          /* CLOCK_REALTIME, 0 = never */
        uint32_t slot;                  /* data-plane slot, in the space of its kind */
        /* Action rate-limit only (all 0 otherwise): */
        uint32_t rate;                  /* packets per second, 1..PF_RATE_MAX */
        uint32_t burst;                 /* packets at once; 0 = as many as rate (rule_rate_burst()) */
        enum pf_rate_per per;           /* one bucket per source (default) or for the whole rule */
} Rule;

/* Why a rule was refused: the field and the reason, for the caller's error message. */
struct rule_error {
        const char *field;              /* "source", "port", ... or "rule" for the whole */
        char reason[160];
};

Rule *rule_new(void);                   /* action drop, enabled, group "default", nothing matched */
Rule *rule_free(Rule *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Rule *, rule_free);
int rule_copy(const Rule *r, Rule **ret);

/* Setters from text, as a{sv} and the CLI give them. Each checks its own value only;
 * -EINVAL (or -ENOMEM) with *e filled. */
int rule_set_action(Rule *r, const char *s, struct rule_error *e);
int rule_set_source(Rule *r, const char *s, struct rule_error *e);
int rule_set_destination(Rule *r, const char *s, struct rule_error *e);
int rule_set_protocol(Rule *r, const char *s, struct rule_error *e);     /* tcp, udp, sctp, icmp, icmpv6, 0-255 */
int rule_set_source_port(Rule *r, const char *s, struct rule_error *e);  /* "22" or "8000-8100" */
int rule_set_port(Rule *r, const char *s, struct rule_error *e);
int rule_set_icmp_type(Rule *r, uint32_t v, struct rule_error *e);
int rule_set_vlan(Rule *r, uint32_t v, struct rule_error *e);
int rule_set_interface(Rule *r, const char *s, struct rule_error *e);
int rule_set_source_set(Rule *r, const char *s, struct rule_error *e);  /* a set name (syntax only) */
int rule_set_destination_set(Rule *r, const char *s, struct rule_error *e);
int rule_set_comment(Rule *r, const char *s, struct rule_error *e);     /* "" = none (NULL) */
int rule_set_group(Rule *r, const char *s, struct rule_error *e);
int rule_set_rate(Rule *r, uint32_t v, struct rule_error *e);           /* packets per second */
int rule_set_burst(Rule *r, uint32_t v, struct rule_error *e);          /* packets, >= 1 */
int rule_set_per(Rule *r, const char *s, struct rule_error *e);         /* source or rule */

/* The burst a rate-limit rule allows: its burst, or one second's worth when none was given. */
uint32_t rule_rate_burst(const Rule *r);
const char *pf_rate_per_to_string(enum pf_rate_per p);

/* Checks the fields together (ports need tcp/udp/sctp, icmp-type needs icmp/icmpv6,
 * source and destination of one family, the protocol fits the family...). */
int rule_validate(const Rule *r, struct rule_error *e);

/* A set name: 1..SET_NAME_MAX bytes of [A-Za-z0-9_.-], starting with a letter or digit. */
int set_name_check(const char *s, const char *field, struct rule_error *e);

bool rule_is_block(const Rule *r);      /* matches on the source alone */
/* (priority, id) as one number that sorts like the rule order. */
uint64_t rule_order_key(const Rule *r);
int rule_compare(const Rule *a, const Rule *b);
/* rule_compare() for qsort() over an array of Rule pointers. */
static inline int rule_pointer_compare(const void *a, const void *b) {
        return rule_compare(*(Rule *const *) a, *(Rule *const *) b);
}

/* Canonical text of fields, for replies and the state file. */
const char *rule_protocol_to_string(uint8_t protocol, char buf[static 4]);
const char *port_range_to_string(const struct port_range *p, char buf[static 12]);
int port_range_parse(const char *s, struct port_range *ret);

typedef struct RuleSet {
        Rule **rules;                   /* sorted by id */
        size_t n_rules, n_rules_allocated;
        size_t n_block_rules;
        uint32_t next_id;
        enum pf_action default_action;
        /* Free slots of each kind: slots from next_*_slot up were never used; below
         * that, a stack of free indexes. Slots freed by rule_set_remove() wait in
         * quarantine (the data plane may still refer to them) until
         * rule_set_release_slots(). */
        uint32_t next_cls_slot, next_block_slot;
        uint32_t *free_cls_slots, n_free_cls_slots;
        uint32_t *free_block_slots, n_free_block_slots;
        uint32_t *quarantined_cls_slots, n_quarantined_cls_slots;
        uint32_t *quarantined_block_slots, n_quarantined_block_slots;
} RuleSet;

int rule_set_new(RuleSet **ret);
RuleSet *rule_set_free(RuleSet *rs);
DEFINE_TRIVIAL_CLEANUP_FUNC(RuleSet *, rule_set_free);

/*
 * Takes ownership of a validated rule on success. A rule with id 0 gets the
 * next id; one with an id (from saved state) keeps it and next_id moves past.
 * Assigns a slot of its kind. -E2BIG when its kind is full (or no id is left),
 * -EBUSY when the only free slots are still in quarantine, -EEXIST for a
 * duplicate id, -EINVAL for id UINT32_MAX. On failure neither the rule nor
 * the set changes. The match fields of a rule in a set must not change (its
 * kind and slot depend on them): replace the rule instead.
 */
int rule_set_add(RuleSet *rs, Rule *rule, uint32_t *ret_id);
/* Removes and frees; its slot goes to quarantine. -ENOENT if there is no such id. */
int rule_set_remove(RuleSet *rs, uint32_t id);
/* The data plane no longer refers to any slot freed so far: they may be handed out again. */
void rule_set_release_slots(RuleSet *rs);
/* Takes a rule out of the set without freeing it (its slot goes to quarantine); NULL if absent. */
Rule *rule_set_steal(RuleSet *rs, uint32_t id);
/* Puts a stolen rule back with its id and slot (taking the slot out of quarantine). */
int rule_set_restore(RuleSet *rs, Rule *rule);
Rule *rule_set_find(RuleSet *rs, uint32_t id);
uint64_t rule_set_next_expiry(const RuleSet *rs);
size_t rule_set_count_classifier(const RuleSet *rs);

const char *pf_action_to_string(enum pf_action a);
int pf_action_from_string(const char *s, enum pf_action *ret);
/* pass or drop only: what a default action may be. */
int pf_default_action_from_string(const char *s, enum pf_action *ret);
