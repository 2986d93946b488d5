/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The classifier compiler: turns the ordered classifier rules into the
 * per-field class tables and match bitmaps the XDP program reads
 * (Linear Bit Vector Search, with equal bitmaps shared as one class).
 * Pure computation: no BPF, no D-Bus; the loader writes the result.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packetfilter.h"
#include "rule.h"

struct classifier_interface {
        uint32_t ifindex;
        uint32_t class;
};

typedef struct Classifier {
        enum pf_action default_action;
        uint32_t field_mask;                            /* bit (1 << enum pf_field) */
        uint32_t absent_class[_PF_FIELD_MAX];
        uint32_t proto[256];
        uint32_t sport[PF_PORT_PROTOCOLS][65536];
        uint32_t dport[PF_PORT_PROTOCOLS][65536];
        uint32_t icmp[256];
        uint32_t vlan[PF_VLAN_UNTAGGED + 1];
        struct classifier_interface *interfaces;
        size_t n_interfaces;
        struct pf_intervals_v4 v4[2];                   /* [0] source, [1] destination */
        struct pf_intervals_v6 v6[2];
        uint32_t set_class[2][PF_MAX_MEMBERSHIPS];     /* [0] source set, [1] destination set; by membership */
        struct pf_bitmap *bitmaps;                      /* [n_classes]; class 0 is all ones */
        uint32_t n_classes;
        uint32_t rank_slot[PF_MAX_RULES];               /* rank -> classifier slot */
        uint32_t n_ranks;
} Classifier;

/*
 * rules: the enabled classifier rules, sorted by rule order (priority, id);
 * the index in this array is the rule's rank. ifindex_of() maps an interface
 * name to its index, or 0 when it does not exist (such rules never match).
 * -E2BIG when more than PF_MAX_RULES rules or PF_MAX_CLASSES classes result,
 * or more than PF_MAX_INTERFACES interfaces are named. memberships[m] is the mask of set
 * ids (Rule.source_set_id, .destination_set_id) of membership m (0: in no set); NULL when
 * there are no sets.
 */
int classifier_build(Rule *const *rules, size_t n_rules, enum pf_action default_action,
                     unsigned (*ifindex_of)(const char *ifname), const uint64_t *memberships,
                     size_t n_memberships, Classifier **ret);
Classifier *classifier_free(Classifier *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Classifier *, classifier_free);

/* The rank of the first rule whose bitmaps all say yes, as the XDP program computes it, or -1:
 * for tests, which compare it with a plain reading of the rules. */
int classifier_match(const Classifier *c, const uint32_t class[_PF_FIELD_MAX]);
