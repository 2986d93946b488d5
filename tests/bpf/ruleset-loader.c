/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classifier.h"
#include "ruleset-loader.h"

void ruleset_installed_clear(RulesetInstalled *installed) {
        free(installed->prefixes);
        *installed = (RulesetInstalled) {};
}

unsigned ruleset_ifindex_of(const char *ifname) {
        return if_nametoindex(ifname);
}

static int by_rule_order(const void *a, const void *b) {
        return rule_compare(*(Rule *const *) a, *(Rule *const *) b);
}

/* The enabled block rule that holds this prefix: the first in rule order among those naming it. */
static const Rule *block_winner(Rule *const *rules, size_t n_rules, const struct prefix *p) {
        const Rule *winner = NULL;

        for (size_t i = 0; i < n_rules; i++) {
                const Rule *r = rules[i];

                if (!r->enabled || !rule_is_block(r) || !prefix_equal(&r->source, p))
                        continue;
                if (!winner || rule_compare(r, winner) < 0)
                        winner = r;
        }
        return winner;
}

static int push_blocks(Loader *l, Rule *const *rules, size_t n_rules, RulesetInstalled *installed) {
        _cleanup_free_ struct prefix *now = NULL;
        size_t n_now = 0;
        int r;

        now = calloc(n_rules + 1, sizeof(struct prefix));
        if (!now)
                return -ENOMEM;

        for (size_t i = 0; i < n_rules; i++) {
                const Rule *winner;
                bool seen = false;

                if (!rules[i]->enabled || !rule_is_block(rules[i]))
                        continue;
                for (size_t k = 0; k < n_now && !seen; k++)
                        seen = prefix_equal(&now[k], &rules[i]->source);
                if (seen)
                        continue;

                winner = block_winner(rules, n_rules, &rules[i]->source);
                /* Slot information first: the table must never point at a slot not yet described. */
                r = loader_set_block_info(l, winner->slot, rule_order_key(winner), winner->action, winner->expires_usec);
                if (r < 0)
                        return r;
                r = loader_block_set(l, &winner->source, winner->slot);
                if (r < 0)
                        return r;
                now[n_now++] = winner->source;
        }

        /* Prefixes no enabled block rule names any more. */
        for (size_t k = 0; k < installed->n_prefixes; k++) {
                bool kept = false;

                for (size_t i = 0; i < n_now && !kept; i++)
                        kept = prefix_equal(&now[i], &installed->prefixes[k]);
                if (kept)
                        continue;
                r = loader_block_delete(l, &installed->prefixes[k]);
                if (r < 0 && r != -ENOENT)
                        return r;
        }

        free(installed->prefixes);
        installed->prefixes = TAKE_PTR(now);
        installed->n_prefixes = n_now;
        return 0;
}

static int push_classifier(Loader *l, Rule *const *rules, size_t n_rules, enum pf_action default_action) {
        _cleanup_free_ Rule **sorted = NULL;
        Classifier *c = NULL;
        size_t n = 0;
        int r;

        sorted = calloc(n_rules + 1, sizeof(Rule *));
        if (!sorted)
                return -ENOMEM;
        for (size_t i = 0; i < n_rules; i++)
                if (rules[i]->enabled && !rule_is_block(rules[i]))
                        sorted[n++] = rules[i];
        qsort(sorted, n, sizeof(Rule *), by_rule_order);

        for (size_t i = 0; i < n; i++) {
                r = loader_set_rule_info(l, sorted[i]->slot, rule_order_key(sorted[i]), sorted[i]->action,
                                         sorted[i]->expires_usec);
                if (r < 0)
                        return r;
        }

        r = classifier_build(sorted, n, default_action, ruleset_ifindex_of, NULL, 0, &c);
        if (r < 0)
                return r;
        loader_set_classifier(l, c);
        return 0;
}

int ruleset_push(Loader *l, Rule *const *rules, size_t n_rules, enum pf_action default_action,
                 RulesetInstalled *installed) {
        int r;

        r = push_blocks(l, rules, n_rules, installed);
        if (r < 0)
                return r;
        r = push_classifier(l, rules, n_rules, default_action);
        if (r < 0)
                return r;
        return loader_commit(l);
}

int ruleset_counter_read(Loader *l, const Rule *r, uint64_t *ret_packets, uint64_t *ret_bytes) {
        if (rule_is_block(r))
                return loader_block_counter_read(l, r->slot, ret_packets, ret_bytes);
        return loader_rule_counter_read(l, r->slot, ret_packets, ret_bytes);
}

int ruleset_counters_reset(Loader *l, Rule *const *rules, size_t n_rules) {
        for (size_t i = 0; i < n_rules; i++) {
                int r = rule_is_block(rules[i]) ? loader_block_counter_reset(l, rules[i]->slot)
                                                : loader_rule_counter_reset(l, rules[i]->slot);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_u32(const char *s, uint32_t *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

int ruleset_rule_from_text(const struct rule_text *t, uint32_t id, uint32_t slot, Rule **ret,
                           struct rule_error *ret_error) {
        _cleanup_(rule_freep) Rule *rule = NULL;
        struct rule_error e = {};
        uint32_t v;
        int r;

        rule = rule_new();
        if (!rule)
                return -ENOMEM;

        r = rule_set_action(rule, t->action, &e);
        if (r >= 0 && t->source)
                r = rule_set_source(rule, t->source, &e);
        if (r >= 0 && t->destination)
                r = rule_set_destination(rule, t->destination, &e);
        if (r >= 0 && t->protocol)
                r = rule_set_protocol(rule, t->protocol, &e);
        if (r >= 0 && t->source_port)
                r = rule_set_source_port(rule, t->source_port, &e);
        if (r >= 0 && t->port)
                r = rule_set_port(rule, t->port, &e);
        if (r >= 0 && t->icmp_type) {
                e = (struct rule_error) { .field = "icmp-type", .reason = "not a number" };
                r = parse_u32(t->icmp_type, &v);
                if (r >= 0)
                        r = rule_set_icmp_type(rule, v, &e);
        }
        if (r >= 0 && t->vlan) {
                e = (struct rule_error) { .field = "vlan", .reason = "not a number" };
                r = parse_u32(t->vlan, &v);
                if (r >= 0)
                        r = rule_set_vlan(rule, v, &e);
        }
        if (r >= 0 && t->interface)
                r = rule_set_interface(rule, t->interface, &e);
        if (r >= 0) {
                rule->priority = t->priority;
                rule->enabled = !t->disabled;
                rule->id = id;
                rule->slot = slot;
                r = rule_validate(rule, &e);
        }
        if (r < 0) {
                if (ret_error)
                        *ret_error = e;
                else
                        fprintf(stderr, "Rule refused: %s: %s\n", strna(e.field), e.reason);
                return r;
        }
        *ret = TAKE_PTR(rule);
        return 0;
}
