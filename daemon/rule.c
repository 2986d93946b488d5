/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "rule.h"

Rule *rule_new(void) {
        return calloc(1, sizeof(Rule));
}

Rule *rule_free(Rule *r) {
        free(r);
        return NULL;
}

int rule_set_new(RuleSet **ret) {
        RuleSet *rs;

        rs = calloc(1, sizeof(RuleSet));
        if (!rs)
                return -ENOMEM;
        rs->next_id = 1;
        rs->default_action = PF_ACTION_PASS;
        *ret = rs;
        return 0;
}

RuleSet *rule_set_free(RuleSet *rs) {
        if (!rs)
                return NULL;
        for (size_t i = 0; i < rs->n_rules; i++)
                rule_free(rs->rules[i]);
        free(rs->rules);
        free(rs);
        return NULL;
}

static int rule_set_find_index(const RuleSet *rs, uint32_t id, size_t *ret_index) {
        size_t lo = 0, hi = rs->n_rules;

        /* Rules are kept sorted by id. */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (rs->rules[mid]->id == id) {
                        *ret_index = mid;
                        return 0;
                }
                if (rs->rules[mid]->id < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *ret_index = lo;        /* where it would go */
        return -ENOENT;
}

static int rule_set_take_slot(RuleSet *rs, uint32_t *ret_slot) {
        for (uint32_t s = 0; s < PF_MAX_RULES; s++)
                if (!rs->slot_used[s]) {
                        rs->slot_used[s] = 1;
                        *ret_slot = s;
                        return 0;
                }
        return -E2BIG;
}

int rule_set_add(RuleSet *rs, Rule *rule, uint32_t *ret_id) {
        Rule **rules;
        size_t index;
        uint32_t slot;
        int r;

        if (rs->n_rules >= PF_MAX_RULES)
                return -E2BIG;

        if (rule->id == 0) {
                if (rs->next_id == UINT32_MAX)
                        return -E2BIG;
                rule->id = rs->next_id;
        }
        if (rule_set_find_index(rs, rule->id, &index) >= 0)
                return -EEXIST;

        rules = reallocarray(rs->rules, rs->n_rules + 1, sizeof(Rule *));
        if (!rules)
                return -ENOMEM;
        rs->rules = rules;

        r = rule_set_take_slot(rs, &slot);
        if (r < 0)
                return r;

        rule->slot = slot;
        memmove(rs->rules + index + 1, rs->rules + index, (rs->n_rules - index) * sizeof(Rule *));
        rs->rules[index] = rule;
        rs->n_rules++;
        if (rule->id >= rs->next_id)
                rs->next_id = rule->id + 1;

        if (ret_id)
                *ret_id = rule->id;
        return 0;
}

int rule_set_remove(RuleSet *rs, uint32_t id) {
        size_t index;
        int r;

        r = rule_set_find_index(rs, id, &index);
        if (r < 0)
                return r;

        rs->slot_used[rs->rules[index]->slot] = 0;
        rule_free(rs->rules[index]);
        memmove(rs->rules + index, rs->rules + index + 1, (rs->n_rules - index - 1) * sizeof(Rule *));
        rs->n_rules--;
        return 0;
}

Rule *rule_set_find(RuleSet *rs, uint32_t id) {
        size_t index;

        if (rule_set_find_index(rs, id, &index) < 0)
                return NULL;
        return rs->rules[index];
}

uint64_t rule_set_next_expiry(const RuleSet *rs) {
        uint64_t next = 0;

        for (size_t i = 0; i < rs->n_rules; i++) {
                uint64_t e = rs->rules[i]->expires_usec;

                if (e != 0 && (next == 0 || e < next))
                        next = e;
        }
        return next;
}

static const char *const action_names[] = {
        [PF_ACTION_PASS] = "pass",
        [PF_ACTION_DROP] = "drop",
};

const char *pf_action_to_string(enum pf_action a) {
        if ((size_t) a >= ELEMENTSOF(action_names))
                return NULL;
        return action_names[a];
}

int pf_action_from_string(const char *s, enum pf_action *ret) {
        for (size_t i = 0; i < ELEMENTSOF(action_names); i++)
                if (s && streq(s, action_names[i])) {
                        *ret = (enum pf_action) i;
                        return 0;
                }
        return -EINVAL;
}
