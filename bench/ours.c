/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "classifier.h"
#include "loader.h"
#include "log.h"
#include "ours.h"
#include "prefixgen.h"
#include "rule.h"
#include "set.h"

#define BLOCK_ID_BASE 100000u           /* block rules' ids: after every classifier rule's */

struct Ours {
        Loader *loader;
        SetRegistry *sets;              /* ours_set_prefixes(): one set, "bench" */
};

static double now_s(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int ours_new(Ours **ret) {
        Ours *o = calloc(1, sizeof(*o));
        int r;

        if (!o)
                return -ENOMEM;
        r = loader_new(NULL, &o->loader);
        if (r < 0) {
                free(o);
                return log_error_errno(r, "Failed to load our XDP program: %m");
        }
        *ret = o;
        return 0;
}

Ours *ours_free(Ours *o) {
        if (!o)
                return NULL;
        loader_free(o->loader);
        set_registry_free(o->sets);
        free(o);
        return NULL;
}

int ours_prog_fd(Ours *o) {
        return loader_prog_fd(o->loader);
}

uint64_t ours_map_memory(Ours *o) {
        return loader_map_memory(o->loader);
}

size_t ours_block_count(Ours *o) {
        return loader_block_count(o->loader);
}

static int commit_timed(Ours *o, struct ours_timing *t) {
        double start = now_s();
        int r = loader_commit(o->loader);

        if (r < 0)
                return log_error_errno(r, "loader_commit() failed: %m");
        t->commit_s = now_s() - start;
        return 0;
}

int ours_add_prefixes(Ours *o, const struct bench_prefix *p, size_t from, size_t to, struct ours_timing *ret) {
        struct ours_timing t = {};
        double start = now_s();
        int r;

        for (size_t i = from; i < to; i++) {
                struct prefix q = { .family = AF_INET, .prefixlen = p[i].len };
                uint32_t be = htonl(p[i].addr);
                /* What Block() creates: priority 0, a later id than every classifier rule here. */
                Rule block = { .id = BLOCK_ID_BASE + (uint32_t) i, .priority = 0 };

                memcpy(q.addr, &be, 4);
                r = loader_block_set(o->loader, &q, (uint32_t) i);
                if (r < 0) {
                        char buf[20];

                        return log_error_errno(r, "loader_block_set(%s, slot %zu) failed: %m",
                                               bench_prefix_format(&p[i], buf), i);
                }
                r = loader_set_block_info(o->loader, (uint32_t) i, rule_order_key(&block), PF_ACTION_DROP, 0);
                if (r < 0)
                        return log_error_errno(r, "loader_set_block_info(slot %zu) failed: %m", i);
        }
        t.stage_s = now_s() - start;

        r = commit_timed(o, &t);
        if (r < 0)
                return r;
        *ret = t;
        return 0;
}

static void format_prefix(const struct bench_prefix *p, char buf[static 20]) {
        (void) bench_prefix_format(p, buf);
}

static void format_range(const struct bench_range *range, char buf[static 12]) {
        if (range->first == range->last)
                snprintf(buf, 12, "%u", range->first);
        else
                snprintf(buf, 12, "%u-%u", range->first, range->last);
}

/* The rule as the daemon would build it from a client's a{sv}: through the text setters. */
static int rule_from_bench(const struct bench_rule *b, uint32_t slot, Rule **ret) {
        _cleanup_(rule_freep) Rule *r = rule_new();
        struct rule_error e = {};
        char buf[20];
        int k = 0;

        if (!r)
                return -ENOMEM;
        k = rule_set_action(r, b->drop ? "drop" : "pass", &e);
        if (k >= 0 && b->has_source) {
                format_prefix(&b->source, buf);
                k = rule_set_source(r, buf, &e);
        }
        if (k >= 0 && b->has_destination) {
                format_prefix(&b->destination, buf);
                k = rule_set_destination(r, buf, &e);
        }
        if (k >= 0 && b->protocol >= 0)
                k = rule_set_protocol(r, b->protocol == 6 ? "tcp" : b->protocol == 17 ? "udp" : "icmp", &e);
        if (k >= 0 && b->has_source_port) {
                format_range(&b->source_port, buf);
                k = rule_set_source_port(r, buf, &e);
        }
        if (k >= 0 && b->has_port) {
                format_range(&b->port, buf);
                k = rule_set_port(r, buf, &e);
        }
        if (k >= 0 && b->icmp_type >= 0)
                k = rule_set_icmp_type(r, (uint32_t) b->icmp_type, &e);
        if (k >= 0 && b->vlan >= 0)
                k = rule_set_vlan(r, (uint32_t) b->vlan, &e);
        if (k >= 0)
                k = rule_validate(r, &e);
        if (k < 0)
                return log_error_errno(k, "Generated rule %u refused: %s: %s", b->id, strna(e.field), e.reason);

        r->id = b->id;
        r->priority = b->priority;
        r->slot = slot;
        *ret = TAKE_PTR(r);
        return 0;
}

static unsigned no_interfaces(const char *ifname) {
        return 0;
}

static void rules_free(Rule **rules, size_t n) {
        for (size_t i = 0; i < n; i++)
                rule_free(rules[i]);
        free(rules);
}

int ours_set_rules(Ours *o, const struct bench_rule *rules, size_t n, struct ours_timing *ret) {
        _cleanup_(classifier_freep) Classifier *c = NULL;
        struct ours_timing t = {};
        double start = now_s();
        Rule **v;
        int r = 0;

        v = calloc(n ?: 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        /* Slot = rank: rules arrive in rule order. */
        for (size_t i = 0; i < n && r >= 0; i++)
                r = rule_from_bench(&rules[i], (uint32_t) i, &v[i]);
        for (size_t i = 1; i < n && r >= 0; i++)
                if (rule_compare(v[i - 1], v[i]) >= 0)
                        r = log_error_errno(-EINVAL, "Generated rules %zu and %zu are out of rule order.", i - 1, i);
        if (r >= 0) {
                r = classifier_build(v, n, PF_ACTION_PASS, no_interfaces, NULL, 0, &c);
                if (r < 0)
                        log_error_errno(r, "classifier_build() of %zu rules failed: %m", n);
        }
        for (size_t i = 0; i < n && r >= 0; i++) {
                r = loader_set_rule_info(o->loader, v[i]->slot, rule_order_key(v[i]), v[i]->action, 0);
                if (r < 0)
                        log_error_errno(r, "loader_set_rule_info(slot %u) failed: %m", v[i]->slot);
        }
        rules_free(v, n);
        if (r < 0)
                return r;
        t.n_classes = c->n_classes;
        t.source_lengths = c->v4[0].count;
        t.destination_lengths = c->v4[1].count;
        loader_set_classifier(o->loader, TAKE_PTR(c));
        t.stage_s = now_s() - start;

        r = commit_timed(o, &t);
        if (r < 0)
                return r;
        *ret = t;
        return 0;
}

int ours_set_prefixes(Ours *o, const struct pg_prefix *p, size_t n, struct ours_timing *ret) {
        _cleanup_(rule_freep) Rule *rule = NULL;
        _cleanup_free_ struct set_entry *entries = NULL;
        const struct member_change *changes;
        const uint64_t *memberships;
        struct ours_timing t = {};
        struct rule_error e;
        Classifier *c = NULL;
        size_t n_changes, n_memberships;
        double start = now_s();
        Set *set;
        int r;

        if (!o->sets) {
                r = set_registry_new(&o->sets);
                if (r < 0)
                        return r;
                r = set_registry_create(o->sets, "bench", NULL, 0, -1, NULL);
                if (r < 0)
                        return r;
        }
        set = set_registry_find(o->sets, "bench");
        entries = calloc(n + 1, sizeof(struct set_entry));
        if (!entries)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                entries[i].prefix = (struct prefix) { .family = p[i].family == 4 ? AF_INET : AF_INET6,
                                                      .prefixlen = p[i].len };
                memcpy(entries[i].prefix.addr, p[i].addr, 16);
        }
        /* As the daemon does it: the registry's changes to the loader, then the rule's classifier. */
        r = set_registry_add(o->sets, set, entries, n, true, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "set_registry_add() of %zu prefixes failed: %m", n);
        changes = set_registry_changes(o->sets, &n_changes);
        r = loader_member_apply(o->loader, changes, n_changes);
        if (r < 0)
                return log_error_errno(r, "Failed to stage the set members: %m");
        set_registry_changes_done(o->sets);
        set_registry_commit(o->sets);

        rule = rule_new();
        if (!rule || rule_set_source_set(rule, "bench", &e) < 0)
                return -ENOMEM;
        rule->id = 1;
        rule->slot = PF_RULE_SLOTS - 1;
        rule->source_set_id = set->id;
        r = loader_set_rule_info(o->loader, rule->slot, rule_order_key(rule), rule->action, 0);
        if (r < 0)
                return r;
        memberships = set_registry_memberships(o->sets, &n_memberships);
        r = classifier_build(&rule, 1, PF_ACTION_PASS, NULL, memberships, n_memberships, &c);
        if (r < 0)
                return log_error_errno(r, "classifier_build() failed: %m");
        loader_set_classifier(o->loader, c);
        t.stage_s = now_s() - start;
        r = commit_timed(o, &t);
        if (r < 0)
                return r;
        if (ret)
                *ret = t;
        return 0;
}
