/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Block rules by source prefix. Several block rules may name one prefix
 * (say, one from fail2ban and one from an administrator): they match the
 * same packets, so only the first in rule order can decide. The index
 * finds them all in O(1), so that the data plane always holds that winner.
 */
#pragma once

#include "address.h"
#include "rule.h"

typedef struct RuleIndex RuleIndex;

int rule_index_new(RuleIndex **ret);
RuleIndex *rule_index_free(RuleIndex *x);
DEFINE_TRIVIAL_CLEANUP_FUNC(RuleIndex *, rule_index_free);

int rule_index_add(RuleIndex *x, Rule *r);
void rule_index_remove(RuleIndex *x, const Rule *r);
/* The rules whose source is exactly p; *ret_n = 0 when none. Valid until the next change. */
Rule *const *rule_index_get(const RuleIndex *x, const struct prefix *p, size_t *ret_n);
