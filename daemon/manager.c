/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "classifier.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "set-store.h"
#include "state.h"

uint64_t now_monotonic_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

uint64_t now_realtime_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

int manager_new(const char *state_dir, const char *bpffs_dir, const char *config_file, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof(Manager));
        if (!m)
                return -ENOMEM;

        m->state_dir = strdup(state_dir);
        m->bpffs_dir = strdup(bpffs_dir);
        m->config_file = strdup(config_file);
        if (!m->state_dir || !m->bpffs_dir || !m->config_file)
                return -ENOMEM;

        r = polkit_registry_new(&m->polkit);
        if (r >= 0)
                r = rule_set_new(&m->rules);
        if (r >= 0)
                r = rule_index_new(&m->blocks);
        if (r >= 0)
                r = set_registry_new(&m->sets);
        if (r >= 0)
                r = sd_event_default(&m->event);
        if (r >= 0)
                r = rates_new(&m->rates);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        sd_event_source_unref(m->expiry_timer);
        sd_event_source_unref(m->catch_up);
        sd_event_source_disable_unref(m->sample_timer);
        drop_events_free(m->drop_events);
        rates_free(m->rates);
        netlink_watch_free(m->netlink);
        polkit_registry_free(m->polkit);
        sd_bus_flush_close_unref(m->bus);
        loader_free(m->loader);
        rule_index_free(m->blocks);
        rule_set_free(m->rules);
        set_registry_free(m->sets);
        free(m->interfaces);
        config_done(&m->config);
        sd_event_unref(m->event);
        free(m->state_dir);
        free(m->bpffs_dir);
        free(m->config_file);
        free(m);
        return NULL;
}

/* Every committed change goes through here once: Generation counts them. */
static void manager_notify(Manager *m, unsigned changes) {
        size_t attached = 0;

        m->generation++;
        for (size_t i = 0; i < m->n_interfaces; i++)
                attached += m->interfaces[i].in_effect != INTERFACE_WAITING;
        /* systemctl status shows what the daemon enforces right now. */
        (void) sd_notifyf(false, "STATUS=Filtering %zu interface(s) with %zu rule(s), default %s.",
                          attached, m->rules->n_rules, pf_action_to_string(m->rules->default_action));
        if (m->notify)
                m->notify(m, changes);
}

static int manager_save(Manager *m) {
        _cleanup_free_ StateInterface *ifs = NULL;
        State s = { .rules = m->rules };

        if (m->n_interfaces > 0) {
                ifs = calloc(m->n_interfaces, sizeof(StateInterface));
                if (!ifs)
                        return -ENOMEM;
                for (size_t i = 0; i < m->n_interfaces; i++) {
                        snprintf(ifs[i].name, sizeof(ifs[i].name), "%s", m->interfaces[i].name);
                        snprintf(ifs[i].mode, sizeof(ifs[i].mode), "%s",
                                 xdp_mode_to_string(m->interfaces[i].requested));
                }
        }
        s.interfaces = ifs;
        s.n_interfaces = m->n_interfaces;

        return state_save(m->state_dir, &s);
}

/* ---- Staging the data plane ------------------------------------------------------------------ */

static unsigned ifindex_of(const char *ifname) {
        return if_nametoindex(ifname);
}

/* The classifier from the enabled classifier rules in rule order, with the default action. */
static int manager_stage_classifier(Manager *m) {
        _cleanup_free_ Rule **rules = NULL;
        const uint64_t *memberships;
        Classifier *c = NULL;
        size_t n = 0, n_memberships;
        int r;

        rules = calloc(m->rules->n_rules + 1, sizeof(Rule *));
        if (!rules)
                return -ENOMEM;
        for (size_t i = 0; i < m->rules->n_rules; i++) {
                Rule *rule = m->rules->rules[i];

                if (rule->enabled && !rule_is_block(rule))
                        rules[n++] = rule;
        }
        qsort(rules, n, sizeof(Rule *), rule_pointer_compare);

        memberships = set_registry_memberships(m->sets, &n_memberships);
        r = classifier_build(rules, n, m->rules->default_action, ifindex_of, memberships, n_memberships, &c);
        if (r < 0)
                return r;
        loader_set_classifier(m->loader, c);
        return 0;
}

/* The block table holds, per prefix, the first enabled block rule (in rule order) that names it. */
static int manager_stage_prefix(Manager *m, const struct prefix *p) {
        Rule *const *rules, *winner = NULL;
        size_t n;
        int r;

        rules = rule_index_get(m->blocks, p, &n);
        for (size_t i = 0; i < n; i++)
                if (rules[i]->enabled && (!winner || rule_compare(rules[i], winner) < 0))
                        winner = rules[i];
        if (!winner) {
                r = loader_block_delete(m->loader, p);
                return r == -ENOENT ? 0 : r;
        }
        return loader_block_set(m->loader, p, winner->slot);
}

/* A rule's slot information: its place in the order, its verdict, its expiry. */
static int manager_stage_info(Manager *m, const Rule *rule) {
        if (rule_is_block(rule))
                return loader_set_block_info(m->loader, rule->slot, rule_order_key(rule), rule->action,
                                             rule->expires_usec);
        return loader_set_rule_info(m->loader, rule->slot, rule_order_key(rule), rule->action, rule->expires_usec);
}

/* A new rule's slot: its information and zeroed counters. */
static int manager_stage_slot(Manager *m, const Rule *rule) {
        int r;

        r = manager_stage_info(m, rule);
        if (r < 0)
                return r;
        if (rule_is_block(rule))
                return loader_block_counter_reset(m->loader, rule->slot);
        /* Before any table refers to the slot: its rate (or none) and fresh buckets. */
        r = loader_set_rate_limit(m->loader, rule->slot, rule->id, rule->rate, rule->burst, rule->per);
        if (r < 0)
                return r;
        return loader_rule_counter_reset(m->loader, rule->slot);
}

/* Stages what these rules touch (their prefixes, or the classifier) from the current rule set. */
static int manager_stage_rules(Manager *m, Rule *const *rules, size_t n) {
        bool classifier = false;
        int r;

        for (size_t i = 0; i < n; i++) {
                if (!rule_is_block(rules[i])) {
                        classifier = true;
                        continue;
                }
                r = manager_stage_prefix(m, &rules[i]->source);
                if (r < 0)
                        return r;
        }
        return classifier ? manager_stage_classifier(m) : 0;
}

static int on_catch_up(sd_event_source *s, void *userdata) {
        Manager *m = userdata;

        /* Slots of removed rules are free again once no copy of the tables refers to them. */
        if (loader_catch_up(m->loader) > 0)
                rule_set_release_slots(m->rules);
        return 0;
}

/* The change is in force when this returns; the old copy of the tables is brought up to date
 * right after the reply has gone out (a large change's second half need not delay it). */
static int manager_commit(Manager *m) {
        int r;

        r = loader_commit(m->loader);
        if (r < 0)
                return r;
        if (r > 0) {
                rule_set_release_slots(m->rules);
                return 0;
        }
        if (!m->catch_up) {
                r = sd_event_add_defer(m->event, &m->catch_up, on_catch_up, m);
                if (r < 0)
                        return on_catch_up(NULL, m);
                (void) sd_event_source_set_description(m->catch_up, "tables-catch-up");
        }
        return sd_event_source_set_enabled(m->catch_up, SD_EVENT_ONESHOT);
}

/* ---- Expiry ---------------------------------------------------------------------------------- */

static int manager_arm_expiry(Manager *m);
static void manager_expire_set_entries(Manager *m, uint64_t now);

static int on_expiry(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        _cleanup_free_ uint32_t *ids = NULL;
        uint64_t now = now_realtime_usec();
        size_t n = 0;
        int r;

        ids = calloc(m->rules->n_rules + 1, sizeof(uint32_t));
        if (!ids)
                return log_oom();
        for (size_t i = 0; i < m->rules->n_rules; i++) {
                const Rule *rule = m->rules->rules[i];

                if (rule->expires_usec != 0 && rule->expires_usec <= now)
                        ids[n++] = rule->id;
        }
        if (n > 0) {
                r = manager_remove_rules(m, ids, n, REMOVAL_EXPIRED, NULL);
                if (r < 0)
                        log_error_errno(r, "Failed to remove %zu expired rules, will retry: %m", n);
                else
                        log_info("%zu rule(s) expired.", n);
        }
        manager_expire_set_entries(m, now);
        return manager_arm_expiry(m);
}

static int manager_arm_expiry(Manager *m) {
        uint64_t next = rule_set_next_expiry(m->rules), next_entry = set_registry_next_expiry(m->sets);
        int r;

        if (next_entry != 0 && (next == 0 || next_entry < next))
                next = next_entry;

        if (next == 0)
                return m->expiry_timer ? sd_event_source_set_enabled(m->expiry_timer, SD_EVENT_OFF) : 0;

        if (!m->expiry_timer) {
                /* CLOCK_REALTIME: expiry times are absolute, stored across restarts. */
                r = sd_event_add_time(m->event, &m->expiry_timer, CLOCK_REALTIME, next, 100 * 1000, on_expiry, m);
                if (r < 0)
                        return log_error_errno(r, "Failed to add expiry timer: %m");
                (void) sd_event_source_set_description(m->expiry_timer, "rule-expiry");
        } else {
                r = sd_event_source_set_time(m->expiry_timer, next);
                if (r < 0)
                        return log_error_errno(r, "Failed to set expiry timer: %m");
        }
        return sd_event_source_set_enabled(m->expiry_timer, SD_EVENT_ONESHOT);
}

/* ---- Rules ----------------------------------------------------------------------------------- */

/* Takes the rules out of the set and the index again (the undo of an add). */
static void manager_unadd(Manager *m, Rule **rules, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (rule_is_block(rules[i]))
                        rule_index_remove(m->blocks, rules[i]);
                (void) rule_set_steal(m->rules, rules[i]->id);
        }
}

/* Puts removed rules back (the undo of a removal). */
static void manager_unremove(Manager *m, Rule **rules, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (rule_set_restore(m->rules, rules[i]) >= 0 && rule_is_block(rules[i]))
                        (void) rule_index_add(m->blocks, rules[i]);
}

/* Undoes the set and index part of a change that was not saved yet; returns r. */
static int manager_change_undo(Manager *m, Rule **added, size_t n_added, Rule **removed, size_t n_removed, int r) {
        manager_unadd(m, added, n_added);
        manager_unremove(m, removed, n_removed);
        return r;
}

static void manager_announce(Manager *m, const struct manager_changes *c, unsigned what) {
        if (m->notify_changes)
                m->notify_changes(m, c);
        manager_notify(m, what);
}

int manager_change(Manager *m, const uint32_t *remove_ids, size_t n_remove, enum removal_reason reason,
                   Rule **add, size_t n_add, uint32_t *ret_ids, uint32_t *ret_missing) {
        _cleanup_free_ Rule **removed = NULL, **touched = NULL;
        size_t n_removed = 0, n_added = 0, n_block_add = 0, n_block_remove = 0, n_cls_remove = 0;
        uint64_t now = now_realtime_usec();
        int r;

        _cleanup_free_ uint32_t *unique = NULL;

        if (n_remove == 0 && n_add == 0)
                return 0;               /* nothing to commit: no Generation, no signal */

        /* The same id twice means it once. */
        unique = calloc(n_remove + 1, sizeof(uint32_t));
        if (!unique)
                return -ENOMEM;
        {
                size_t k = 0;

                for (size_t i = 0; i < n_remove; i++) {
                        bool dup = false;

                        for (size_t j = 0; j < k && !dup; j++)
                                dup = unique[j] == remove_ids[i];
                        if (!dup)
                                unique[k++] = remove_ids[i];
                }
                remove_ids = unique;
                n_remove = k;
        }

        /* Check everything before changing anything. */
        for (size_t i = 0; i < n_remove; i++) {
                const Rule *rule = rule_set_find(m->rules, remove_ids[i]);

                if (!rule) {
                        if (ret_missing)
                                *ret_missing = remove_ids[i];
                        return -ENOENT;
                }
                if (rule_is_block(rule))
                        n_block_remove++;
                else
                        n_cls_remove++;
        }
        for (size_t i = 0; i < n_add; i++) {
                struct rule_error e;

                n_block_add += rule_is_block(add[i]);
                r = manager_resolve_sets(m, add[i], &e);
                if (r < 0)
                        return r;
        }
        if (rule_set_count_classifier(m->rules) - n_cls_remove + (n_add - n_block_add) > PF_MAX_RULES ||
            m->rules->n_block_rules - n_block_remove + n_block_add > PF_MAX_BLOCKS)
                return -E2BIG;

        removed = calloc(n_remove + 1, sizeof(Rule *));
        touched = calloc(n_remove + n_add + 1, sizeof(Rule *));
        if (!removed || !touched)
                return -ENOMEM;

        for (size_t i = 0; i < n_remove; i++) {
                Rule *rule = rule_set_steal(m->rules, remove_ids[i]);

                if (!rule)
                        continue;       /* the same id twice */
                if (rule_is_block(rule))
                        rule_index_remove(m->blocks, rule);
                removed[n_removed++] = rule;
        }
        for (; n_added < n_add; n_added++) {
                Rule *rule = add[n_added];

                rule->id = 0;
                rule->created_usec = now;
                r = rule_set_add(m->rules, rule, &ret_ids[n_added]);
                if (r >= 0 && rule_is_block(rule)) {
                        r = rule_index_add(m->blocks, rule);
                        if (r < 0)
                                (void) rule_set_steal(m->rules, rule->id);
                }
                if (r < 0)
                        return manager_change_undo(m, add, n_added, removed, n_removed, r);
        }

        /* On disk first: nothing acknowledged is lost by a crash. */
        r = manager_save(m);
        if (r < 0)
                return manager_change_undo(m, add, n_added, removed, n_removed, r);

        for (size_t i = 0; i < n_add && r >= 0; i++)
                r = manager_stage_slot(m, add[i]);
        /* memcpy() with a NULL source is undefined even for 0 bytes: copy only what there is. */
        if (n_removed > 0)
                memcpy(touched, removed, n_removed * sizeof(Rule *));
        if (n_add > 0)
                memcpy(touched + n_removed, add, n_add * sizeof(Rule *));
        if (r >= 0)
                r = manager_stage_rules(m, touched, n_removed + n_add);
        if (r >= 0)
                r = manager_commit(m);
        if (r < 0) {
                log_error_errno(r, "Failed to apply a change to the rules, rolling back: %m");
                manager_unadd(m, add, n_add);
                manager_unremove(m, removed, n_removed);
                (void) manager_stage_rules(m, touched, n_removed + n_add);
                (void) manager_commit(m);
                (void) manager_save(m);
                return r;
        }

        (void) manager_arm_expiry(m);
        manager_announce(m, &(struct manager_changes) {
                        .added = add, .n_added = n_add,
                        .removed = removed, .n_removed = n_removed, .reason = reason,
                }, MANAGER_CHANGED_RULES);
        for (size_t i = 0; i < n_removed; i++)
                rule_free(removed[i]);
        return 0;
}

int manager_add_rules(Manager *m, Rule **rules, size_t n, uint32_t *ret_ids) {
        return manager_change(m, NULL, 0, REMOVAL_REMOVED, rules, n, ret_ids, NULL);
}

int manager_remove_rules(Manager *m, const uint32_t *ids, size_t n, enum removal_reason reason,
                         uint32_t *ret_missing) {
        return manager_change(m, ids, n, reason, NULL, 0, NULL, ret_missing);
}

int manager_replace_group(Manager *m, const char *group, Rule **rules, size_t n, uint32_t *ret_ids) {
        _cleanup_free_ uint32_t *ids = NULL;
        size_t k = 0;

        ids = calloc(m->rules->n_rules + 1, sizeof(uint32_t));
        if (!ids)
                return -ENOMEM;
        for (size_t i = 0; i < m->rules->n_rules; i++)
                if (streq(m->rules->rules[i]->group, group))
                        ids[k++] = m->rules->rules[i]->id;
        return manager_change(m, ids, k, REMOVAL_REPLACED, rules, n, ret_ids, NULL);
}

/* Changes a rule in place (enabled, expiry): saved, restaged, committed, or all undone. */
static int manager_update_rule(Manager *m, Rule *rule, const Rule *before) {
        int r;

        r = manager_save(m);
        if (r >= 0)
                r = manager_stage_info(m, rule);        /* a new expiry */
        if (r >= 0)
                r = manager_stage_rules(m, &rule, 1);
        if (r >= 0)
                r = manager_commit(m);
        if (r < 0) {
                rule->enabled = before->enabled;
                rule->expires_usec = before->expires_usec;
                (void) manager_stage_info(m, rule);
                (void) manager_stage_rules(m, &rule, 1);
                (void) manager_commit(m);
                (void) manager_save(m);
                return r;
        }
        (void) manager_arm_expiry(m);
        manager_announce(m, &(struct manager_changes) { .changed = rule }, MANAGER_CHANGED_RULES);
        return 0;
}

int manager_set_enabled(Manager *m, uint32_t id, bool enabled) {
        Rule *rule = rule_set_find(m->rules, id), before;

        if (!rule)
                return -ENOENT;
        if (rule->enabled == enabled)
                return 0;
        before = *rule;
        rule->enabled = enabled;
        return manager_update_rule(m, rule, &before);
}

int manager_set_default_action(Manager *m, enum pf_action action) {
        enum pf_action before = m->rules->default_action;
        int r;

        if (before == action)
                return 0;
        m->rules->default_action = action;
        r = manager_save(m);
        if (r >= 0)
                r = manager_stage_classifier(m);
        if (r >= 0)
                r = manager_commit(m);
        if (r < 0) {
                m->rules->default_action = before;
                (void) manager_stage_classifier(m);
                (void) manager_commit(m);
                (void) manager_save(m);
                return r;
        }
        manager_announce(m, &(struct manager_changes) {}, MANAGER_CHANGED_DEFAULT_ACTION);
        return 0;
}

int manager_reset_counters(Manager *m) {
        int r;

        for (size_t i = 0; i < m->rules->n_rules; i++) {
                const Rule *rule = m->rules->rules[i];

                r = rule_is_block(rule) ? loader_block_counter_reset(m->loader, rule->slot) :
                                          loader_rule_counter_reset(m->loader, rule->slot);
                if (r >= 0 && rule->action == PF_ACTION_RATE_LIMIT)
                        r = loader_rate_limited_reset(m->loader, rule->slot);
                if (r < 0)
                        return r;
        }
        r = loader_interface_statistics_reset(m->loader);
        if (r >= 0)
                r = loader_statistics_reset(m->loader);
        /* Rates start again too: 0 until two samples after the reset. */
        rates_forget_older(m->rates, UINT64_MAX);
        if (r < 0)
                return r;
        manager_notify(m, 0);
        return 0;
}

/* The block Block() made earlier for this prefix, if any. */
static Rule *manager_find_block(Manager *m, const struct prefix *p) {
        Rule *const *rules;
        size_t n;

        rules = rule_index_get(m->blocks, p, &n);
        for (size_t i = 0; i < n; i++)
                if (rules[i]->action == PF_ACTION_DROP && streq(rules[i]->group, RULE_GROUP_DEFAULT))
                        return rules[i];
        return NULL;
}

static uint64_t expiry_from_timeout(uint32_t timeout_sec) {
        return timeout_sec == 0 ? 0 : now_realtime_usec() + (uint64_t) timeout_sec * 1000000ULL;
}

int manager_block(Manager *m, const struct prefix *p, uint32_t timeout_sec, uint32_t *ret_id) {
        _cleanup_(rule_freep) Rule *rule = NULL;
        uint64_t expires = expiry_from_timeout(timeout_sec);
        Rule *existing;
        int r;

        existing = manager_find_block(m, p);
        if (existing) {
                uint64_t old = existing->expires_usec;

                /* Banning again never shortens a ban: fail2ban re-bans extend it. */
                /* Blocking again enables a disabled block: the caller wants it dropped now. */
                if (!existing->enabled || (old != 0 && (expires == 0 || expires > old))) {
                        Rule before = *existing;

                        existing->enabled = true;
                        if (old != 0 && (expires == 0 || expires > old))
                                existing->expires_usec = expires;
                        r = manager_update_rule(m, existing, &before);
                        if (r < 0)
                                return r;
                }
                *ret_id = existing->id;
                return 0;
        }

        rule = rule_new();
        if (!rule)
                return -ENOMEM;
        rule->action = PF_ACTION_DROP;
        rule->match = RULE_MATCH_SOURCE;
        rule->source = *p;
        rule->expires_usec = expires;

        r = manager_add_rules(m, &rule, 1, ret_id);
        if (r < 0)
                return r;
        TAKE_PTR(rule);
        return 0;
}

int manager_unblock(Manager *m, const struct prefix *p, uint32_t *ret_removed) {
        Rule *rule;
        uint32_t id;
        int r;

        rule = manager_find_block(m, p);
        if (!rule) {
                *ret_removed = 0;
                return 0;
        }
        id = rule->id;
        r = manager_remove_rules(m, &id, 1, REMOVAL_REMOVED, NULL);
        if (r < 0)
                return r;
        *ret_removed = 1;
        return 0;
}

int manager_rule_counters(Manager *m, const Rule *r, uint64_t *ret_packets, uint64_t *ret_bytes) {
        if (rule_is_block(r))
                return loader_block_counter_read(m->loader, r->slot, ret_packets, ret_bytes);
        return loader_rule_counter_read(m->loader, r->slot, ret_packets, ret_bytes);
}

int manager_statistics(Manager *m, struct pf_statistics *ret) {
        return loader_statistics_read(m->loader, ret);
}

int manager_rule_rate_limited(Manager *m, const Rule *r, uint64_t *ret) {
        if (rule_is_block(r) || r->action != PF_ACTION_RATE_LIMIT) {
                *ret = 0;
                return 0;
        }
        return loader_rate_limited_read(m->loader, r->slot, ret);
}

int manager_interface_statistics(Manager *m, const char *ifname, struct pf_iface_stats *ret) {
        return loader_interface_statistics(m->loader, ifname, ret);
}

uint64_t manager_rate(Manager *m, const char *name) {
        return rates_get(m->rates, name);
}

/* ---- Rates and drop events ------------------------------------------------------------------- */

#define SAMPLE_INTERVAL_USEC (1000 * 1000ULL)

/* The figures whose rates GetStatistics gives: "packets", "passed", "dropped", "rate-limited",
 * "bytes" (per interface only), globally and as "IFNAME:..." per attached interface. */
static void manager_sample_rates(Manager *m, uint64_t now) {
        struct pf_statistics s;
        uint64_t *v = s.v;

        if (manager_statistics(m, &s) >= 0) {
                (void) rates_sample(m->rates, "packets", v[PF_STAT_PACKETS], now);
                (void) rates_sample(m->rates, "passed", v[PF_STAT_PASSED], now);
                (void) rates_sample(m->rates, "dropped", v[PF_STAT_DROPPED_BY_RULE] + v[PF_STAT_DROPPED_BY_DEFAULT] +
                                    v[PF_STAT_RATE_LIMITED], now);
                (void) rates_sample(m->rates, "rate-limited", v[PF_STAT_RATE_LIMITED], now);
        }
        for (size_t i = 0; i < m->n_interfaces; i++) {
                const char *ifname = m->interfaces[i].name;
                static const char *const what[] = { "packets", "bytes", "passed", "dropped", "rate-limited" };
                struct pf_iface_stats is;
                char name[RATES_NAME_MAX];

                if (manager_interface_statistics(m, ifname, &is) < 0)
                        continue;
                const uint64_t value[ELEMENTSOF(what)] = { is.packets, is.bytes, is.passed, is.dropped,
                                                          is.rate_limited };

                for (size_t k = 0; k < ELEMENTSOF(what); k++) {
                        (void) snprintf(name, sizeof(name), "%s:%s", ifname, what[k]);
                        (void) rates_sample(m->rates, name, value[k], now);
                }
        }
        rates_forget_older(m->rates, now - 3 * SAMPLE_INTERVAL_USEC);
}

static int on_sample_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        uint64_t now = now_monotonic_usec();

        manager_sample_rates(m, now);
        (void) sd_event_source_set_time(s, now + SAMPLE_INTERVAL_USEC);
        return 0;
}

static int manager_start_sampling(Manager *m) {
        int r;

        r = sd_event_add_time(m->event, &m->sample_timer, CLOCK_MONOTONIC, now_monotonic_usec() + SAMPLE_INTERVAL_USEC,
                              50 * 1000, on_sample_timer, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the statistics timer: %m");
        (void) sd_event_source_set_description(m->sample_timer, "statistics-rates");
        manager_sample_rates(m, now_monotonic_usec());
        return sd_event_source_set_enabled(m->sample_timer, SD_EVENT_ON);
}

static void on_drop_report(const struct drop_report *r, void *userdata) {
        Manager *m = userdata;

        if (m->notify_drop)
                m->notify_drop(m, r);
}

/* DropSignalsPerSecond= as configured: events on (with the program's budget) or off. */
static int manager_apply_drop_events(Manager *m) {
        unsigned per_second = config_drop_signals_per_second(&m->config);
        int r;

        if (per_second == 0) {
                m->drop_events = drop_events_free(m->drop_events);
                return loader_set_drop_event_budget(m->loader, 0);
        }
        if (m->drop_events)
                drop_events_set_rate(m->drop_events, per_second);
        else {
                r = drop_events_new(m->event, loader_drop_events_fd(m->loader), per_second, on_drop_report, m,
                                    &m->drop_events);
                if (r < 0)
                        return log_error_errno(r, "Failed to read drop events: %m");
        }
        return loader_set_drop_event_budget(m->loader, PF_DROP_EVENT_BUDGET);
}

/* ---- Interfaces ---------------------------------------------------------------------------- */

static Interface *manager_find_interface(Manager *m, const char *ifname) {
        for (size_t i = 0; i < m->n_interfaces; i++)
                if (streq(m->interfaces[i].name, ifname))
                        return &m->interfaces[i];
        return NULL;
}

static int manager_add_interface(Manager *m, const char *ifname, enum xdp_mode requested,
                                 enum xdp_mode in_effect) {
        Interface *i = manager_find_interface(m, ifname), *is;

        if (!i) {
                is = reallocarray(m->interfaces, m->n_interfaces + 1, sizeof(Interface));
                if (!is)
                        return -ENOMEM;
                m->interfaces = is;
                i = &m->interfaces[m->n_interfaces++];
                *i = (Interface) {};
                snprintf(i->name, sizeof(i->name), "%s", ifname);
        }
        i->requested = requested;
        i->in_effect = in_effect;
        return 0;
}

int manager_attach(Manager *m, const char *ifname, enum xdp_mode mode, enum xdp_mode *ret_mode) {
        Interface *i, saved = {};
        bool existed;
        enum xdp_mode in_effect;
        int r;

        i = manager_find_interface(m, ifname);
        existed = i;
        if (i)
                saved = *i;

        r = loader_attach(m->loader, ifname, mode, &in_effect);
        if (r < 0)
                return r;

        r = manager_add_interface(m, ifname, mode, in_effect);
        if (r >= 0)
                r = manager_save(m);
        if (r < 0) {
                /* Roll back to what was there: re-apply the old mode, or detach. */
                if (existed) {
                        (void) loader_attach(m->loader, ifname, saved.requested, NULL);
                        *manager_find_interface(m, ifname) = saved;
                } else {
                        (void) loader_detach(m->loader, ifname);
                        i = manager_find_interface(m, ifname);
                        if (i)
                                *i = m->interfaces[--m->n_interfaces];
                }
                return r;
        }

        manager_notify(m, MANAGER_CHANGED_INTERFACES);
        if (ret_mode)
                *ret_mode = in_effect;
        return 0;
}

int manager_detach(Manager *m, const char *ifname) {
        Interface *i;
        int r;

        i = manager_find_interface(m, ifname);
        if (!i && !loader_is_attached(m->loader, ifname))
                return -ENOENT;

        r = loader_detach(m->loader, ifname);
        if (r < 0 && r != -ENOENT)
                return r;

        if (i)
                *i = m->interfaces[--m->n_interfaces];
        r = manager_save(m);
        if (r < 0)
                log_error_errno(r, "Detached %s, but failed to save state: %m", ifname);

        manager_notify(m, MANAGER_CHANGED_INTERFACES);
        return 0;
}

/* ---- Interfaces that come and go ------------------------------------------------------------ */

static void manager_attach_one(Manager *m, const char *ifname, enum xdp_mode requested);

static bool manager_rules_name_interfaces(Manager *m) {
        for (size_t i = 0; i < m->rules->n_rules; i++)
                if (m->rules->rules[i]->match & RULE_MATCH_INTERFACE)
                        return true;
        return false;
}

/* Rules match interfaces by name, the program by index: recompile when names and indexes move. */
static void manager_refresh_interface_rules(Manager *m) {
        int r;

        if (!manager_rules_name_interfaces(m))
                return;
        r = manager_stage_classifier(m);
        if (r >= 0)
                r = manager_commit(m);
        if (r < 0)
                log_error_errno(r, "Failed to update rules that name interfaces: %m");
}

static void on_link_event(void *userdata, enum link_event ev, int ifindex, const char *ifname,
                          const char *old_ifname) {
        Manager *m = userdata;
        Interface *iface;
        int r;

        switch (ev) {
        case LINK_NEW:
                iface = manager_find_interface(m, ifname);
                if (iface) {
                        /* A configured or earlier-attached interface is back: filter it again. */
                        log_info("Interface %s appeared (index %d).", ifname, ifindex);
                        manager_attach_one(m, ifname, iface->requested);
                        manager_notify(m, MANAGER_CHANGED_INTERFACES);
                }
                break;

        case LINK_RENAMED:
                iface = manager_find_interface(m, old_ifname);
                if (iface && !manager_find_interface(m, ifname)) {
                        r = loader_rename(m->loader, old_ifname, ifname);
                        if (r < 0 && r != -ENOENT)
                                log_warning_errno(r, "Failed to follow %s's new name %s: %m", old_ifname, ifname);
                        snprintf(iface->name, sizeof(iface->name), "%s", ifname);
                        log_info("Interface %s is now %s; still filtering it.", old_ifname, ifname);
                        r = manager_save(m);
                        if (r < 0)
                                log_warning_errno(r, "Failed to save state: %m");
                        manager_notify(m, MANAGER_CHANGED_INTERFACES);
                } else if ((iface = manager_find_interface(m, ifname)) && iface->in_effect == INTERFACE_WAITING) {
                        /* Another interface took a name we wait for. */
                        manager_attach_one(m, ifname, iface->requested);
                        manager_notify(m, MANAGER_CHANGED_INTERFACES);
                }
                break;

        case LINK_DEL:
                iface = manager_find_interface(m, ifname);
                if (iface && iface->in_effect != INTERFACE_WAITING) {
                        log_notice("Interface %s is gone; waiting for it to come back.", ifname);
                        loader_forget(m->loader, ifname);
                        iface->in_effect = INTERFACE_WAITING;
                        manager_notify(m, MANAGER_CHANGED_INTERFACES);
                }
                break;
        }
        manager_refresh_interface_rules(m);
}

/* ---- Sets ---------------------------------------------------------------------------------- */

int manager_resolve_sets(Manager *m, Rule *rule, struct rule_error *e) {
        for (unsigned i = 0; i < 2; i++) {
                unsigned bit = i == 0 ? RULE_MATCH_SOURCE_SET : RULE_MATCH_DESTINATION_SET;
                const char *name = i == 0 ? rule->source_set : rule->destination_set;
                Set *set;

                if (!(rule->match & bit))
                        continue;
                set = set_registry_find(m->sets, name);
                if (!set) {
                        e->field = i == 0 ? "source-set" : "destination-set";
                        snprintf(e->reason, sizeof(e->reason), "there is no set named '%s' (CreateSet() makes one)",
                                 name);
                        return -ENXIO;
                }
                if (i == 0)
                        rule->source_set_id = set->id;
                else
                        rule->destination_set_id = set->id;
        }
        return 0;
}

static bool rule_uses_set(const Rule *rule, const Set *set) {
        return ((rule->match & RULE_MATCH_SOURCE_SET) && streq(rule->source_set, set->name)) ||
               ((rule->match & RULE_MATCH_DESTINATION_SET) && streq(rule->destination_set, set->name));
}

int manager_set_users(Manager *m, const Set *set, uint32_t **ret_ids, size_t *ret_n) {
        _cleanup_free_ uint32_t *ids = NULL;
        size_t n = 0;

        ids = calloc(m->rules->n_rules + 1, sizeof(uint32_t));
        if (!ids)
                return -ENOMEM;
        for (size_t i = 0; i < m->rules->n_rules; i++)
                if (rule_uses_set(m->rules->rules[i], set))
                        ids[n++] = m->rules->rules[i]->id;
        *ret_ids = TAKE_PTR(ids);
        *ret_n = n;
        return 0;
}

uint64_t manager_set_hits(Manager *m, const Set *set) {
        uint64_t hits = 0;

        for (size_t i = 0; i < m->rules->n_rules; i++) {
                uint64_t packets, bytes;

                if (rule_uses_set(m->rules->rules[i], set) &&
                    manager_rule_counters(m, m->rules->rules[i], &packets, &bytes) >= 0)
                        hits += packets;
        }
        return hits;
}

/* Hands the member table's changes to the loader, and the memberships to the classifier. */
static int manager_stage_sets(Manager *m) {
        const struct member_change *c;
        size_t n;
        int r;

        c = set_registry_changes(m->sets, &n);
        r = loader_member_apply(m->loader, c, n);
        set_registry_changes_done(m->sets);
        if (r < 0)
                return r;
        return manager_stage_classifier(m);
}

static void manager_announce_set(Manager *m, const char *name, const char *change) {
        if (m->notify_set)
                m->notify_set(m, name, change);
        manager_notify(m, MANAGER_CHANGED_SETS);
}

/* After a change to a set's entries (r: how the change itself went): saved, staged and
 * committed, or rolled back everywhere. */
static int manager_finish_set_change(Manager *m, Set *set, int r) {
        uint64_t t0 = now_monotonic_usec(), t1 = t0, t2 = t0, t3 = t0;

        if (r >= 0)
                r = set_store_save(m->state_dir, m->sets, set);
        t1 = now_monotonic_usec();
        if (r >= 0)
                r = manager_stage_sets(m);
        t2 = now_monotonic_usec();
        if (r >= 0)
                r = manager_commit(m);
        t3 = now_monotonic_usec();
        log_debug("Set %s: saved in %" PRIu64 " ms, staged in %" PRIu64 " ms, committed in %" PRIu64 " ms.",
                  set->name, (t1 - t0) / 1000, (t2 - t1) / 1000, (t3 - t2) / 1000);
        if (r < 0) {
                log_error_errno(r, "Failed to change set %s, rolling back: %m", set->name);
                (void) set_registry_rollback(m->sets);
                (void) manager_stage_sets(m);
                (void) manager_commit(m);
                (void) set_store_save(m->state_dir, m->sets, set);
                return r;
        }
        set_registry_commit(m->sets);
        (void) manager_arm_expiry(m);
        manager_announce_set(m, set->name, "updated");
        return 0;
}

int manager_set_create(Manager *m, const char *name, const char *comment, uint32_t default_timeout_sec) {
        Set *set;
        int r;

        r = set_registry_create(m->sets, name, comment, default_timeout_sec, -1, &set);
        if (r < 0)
                return r;
        r = set_store_save(m->state_dir, m->sets, set);
        if (r < 0) {
                (void) set_registry_delete(m->sets, name);
                set_registry_commit(m->sets);
                return r;
        }
        manager_announce_set(m, name, "created");
        return 0;
}

int manager_set_delete(Manager *m, const char *name) {
        _cleanup_free_ struct set_entry *entries = NULL;
        _cleanup_free_ struct prefix *prefixes = NULL;
        _cleanup_free_ uint32_t *users = NULL;
        size_t n, n_users;
        Set *set;
        int r;

        set = set_registry_find(m->sets, name);
        if (!set)
                return -ENOENT;
        r = manager_set_users(m, set, &users, &n_users);
        if (r < 0)
                return r;
        if (n_users > 0)
                return -EBUSY;

        /* Empty it first, which can be rolled back; then the empty set goes. */
        r = set_registry_list(m->sets, set, &entries, &n);
        if (r < 0)
                return r;
        prefixes = malloc_multiply(n ?: 1, sizeof(struct prefix));
        if (!prefixes)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                prefixes[i] = entries[i].prefix;
        r = set_registry_remove(m->sets, set, prefixes, n, NULL);
        if (r >= 0)
                r = manager_stage_sets(m);
        if (r >= 0)
                r = manager_commit(m);
        if (r < 0) {
                (void) set_registry_rollback(m->sets);
                (void) manager_stage_sets(m);
                (void) manager_commit(m);
                return r;
        }
        set_registry_commit(m->sets);
        r = set_store_remove(m->state_dir, name);
        if (r < 0)
                log_warning_errno(r, "Failed to remove the file of set %s: %m", name);
        (void) set_registry_delete(m->sets, name);
        set_registry_commit(m->sets);
        manager_announce_set(m, name, "deleted");
        return 0;
}

int manager_set_add(Manager *m, Set *set, const struct prefix *prefixes, size_t n, uint32_t timeout_sec, bool replace,
                    size_t *ret_added, size_t *ret_removed) {
        _cleanup_free_ struct set_entry *entries = NULL;
        uint32_t timeout = timeout_sec ?: set->default_timeout_sec;
        uint64_t expires = timeout == 0 ? 0 : now_realtime_usec() + (uint64_t) timeout * 1000000ULL, t0;
        size_t added = 0, removed = 0;
        int r;

        entries = malloc_multiply(n ?: 1, sizeof(struct set_entry));
        if (!entries)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                entries[i] = (struct set_entry) { .prefix = prefixes[i], .expires_usec = expires };
        t0 = now_monotonic_usec();
        r = set_registry_add(m->sets, set, entries, n, replace, &added, &removed);
        log_debug("Set %s: %zu entries applied in %" PRIu64 " ms.", set->name, n, (now_monotonic_usec() - t0) / 1000);
        r = manager_finish_set_change(m, set, r);
        if (r < 0)
                return r;
        if (ret_added)
                *ret_added = added;
        if (ret_removed)
                *ret_removed = removed;
        return 0;
}

int manager_set_remove(Manager *m, Set *set, const struct prefix *prefixes, size_t n, size_t *ret_removed) {
        size_t removed = 0;
        int r;

        r = set_registry_remove(m->sets, set, prefixes, n, &removed);
        r = manager_finish_set_change(m, set, r);
        if (r < 0)
                return r;
        if (ret_removed)
                *ret_removed = removed;
        return 0;
}

static void manager_expire_set_entries(Manager *m, uint64_t now) {
        /* One set per round; a bound, so that a clock jump cannot keep us here. */
        for (unsigned round = 0; round < PF_MAX_SETS; round++) {
                _cleanup_free_ struct prefix *expired = NULL;
                unsigned set_id;
                size_t n;
                Set *set;
                int r;

                if (set_registry_expired(m->sets, now, &set_id, &expired, &n) < 0)
                        return;
                set = set_registry_get(m->sets, set_id);
                if (!set)
                        return;
                r = manager_set_remove(m, set, expired, n, NULL);
                if (r < 0) {
                        log_error_errno(r, "Failed to remove %zu expired entries of set %s, will retry: %m", n,
                                        set->name);
                        return;
                }
                log_info("%zu entr%s of set %s expired.", n, n == 1 ? "y" : "ies", set->name);
        }
}

/* Rules naming a set no file brought back (a lost or corrupt set file): the set comes back
 * empty, and loudly, rather than the rules going. */
static int manager_restore_rule_sets(Manager *m) {
        for (size_t i = 0; i < m->rules->n_rules; i++) {
                Rule *rule = m->rules->rules[i];
                struct rule_error e = {};

                for (unsigned k = 0; k < 2; k++) {
                        const char *name = k == 0 ? rule->source_set : rule->destination_set;
                        Set *set;
                        int r;

                        if (!name || set_registry_find(m->sets, name))
                                continue;
                        log_error("Rule %u names set %s, which was not saved; it is empty now.", rule->id, name);
                        r = set_registry_create(m->sets, name, NULL, 0, -1, &set);
                        if (r < 0)
                                return log_error_errno(r, "Failed to recreate set %s: %m", name);
                        (void) set_store_save(m->state_dir, m->sets, set);
                }
                if (manager_resolve_sets(m, rule, &e) < 0)
                        return -EBADMSG;
        }
        return 0;
}

/* ---- Start-up ------------------------------------------------------------------------------ */

/* Stages the whole rule set; the loader rewrites both copies whole on its first commit. */
static int manager_apply_all(Manager *m) {
        int r;

        r = manager_stage_sets(m);
        if (r < 0)
                return log_error_errno(r, "Failed to stage the sets: %m");

        for (size_t i = 0; i < m->rules->n_rules; i++) {
                Rule *rule = m->rules->rules[i];

                r = manager_stage_slot(m, rule);
                if (r >= 0 && rule_is_block(rule))
                        r = rule_index_add(m->blocks, rule);
                if (r >= 0 && rule_is_block(rule))
                        r = manager_stage_prefix(m, &rule->source);
                if (r < 0)
                        return log_error_errno(r, "Failed to stage rule %u: %m", rule->id);
        }
        r = manager_stage_classifier(m);
        if (r < 0)
                return log_error_errno(r, "Failed to compile the classifier: %m");
        r = manager_commit(m);
        if (r < 0)
                return log_error_errno(r, "Failed to apply the rules: %m");
        return 0;
}

static void manager_attach_one(Manager *m, const char *ifname, enum xdp_mode requested) {
        char renamed[IF_NAMESIZE];
        enum xdp_mode in_effect;
        int r;

        /* Renamed while no daemon ran? Its pinned link knows the interface: follow it. */
        if (if_nametoindex(ifname) == 0 && loader_pinned_link_ifname(m->loader, ifname, renamed) >= 0 &&
            !manager_find_interface(m, renamed) && !loader_is_attached(m->loader, renamed)) {
                _cleanup_free_ char *old_pin = NULL, *new_pin = NULL;

                if (asprintf(&old_pin, "%s/links/%s", m->bpffs_dir, ifname) >= 0 &&
                    asprintf(&new_pin, "%s/links/%s", m->bpffs_dir, renamed) >= 0 &&
                    rename(old_pin, new_pin) >= 0) {
                        Interface *iface = manager_find_interface(m, ifname);

                        log_info("Interface %s was renamed %s while the daemon was not running; following it.",
                                 ifname, renamed);
                        if (iface)
                                snprintf(iface->name, sizeof(iface->name), "%s", renamed);
                        ifname = renamed;
                }
        }

        r = loader_attach(m->loader, ifname, requested, &in_effect);
        if (r == -ENODEV) {
                log_notice("Interface %s is not present; waiting for it.", ifname);
                in_effect = INTERFACE_WAITING;
        } else if (r < 0) {
                log_warning_errno(r, "Failed to attach to %s: %m", ifname);
                in_effect = INTERFACE_WAITING;
        } else
                log_info("Filtering %s (%s).", ifname, xdp_mode_to_string(in_effect));

        if (manager_add_interface(m, ifname, requested, in_effect) < 0)
                log_oom();
}

/* Links pinned by an earlier run that the state does not name (state lost or reset):
 * adopt them rather than leave a filter nobody manages. */
static void manager_adopt_pinned_links(Manager *m) {
        _cleanup_free_ char *dir = NULL;
        DIR *d;
        struct dirent *de;

        if (asprintf(&dir, "%s/links", m->bpffs_dir) < 0)
                return;
        d = opendir(dir);
        if (!d)
                return;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && !manager_find_interface(m, de->d_name))
                        manager_attach_one(m, de->d_name, XDP_MODE_AUTO);
        closedir(d);
}

int manager_start(Manager *m) {
        _cleanup_(state_freep) State *s = NULL;
        bool recovered;
        int r;

        r = config_load(m->config_file, &m->config);
        if (r < 0)
                return log_error_errno(r, "Refusing to start with a bad configuration in %s.", m->config_file);

        r = loader_new(m->bpffs_dir, &m->loader);
        if (r < 0)
                return r;
        loader_set_defer_catch_up(m->loader, true);

        r = state_load(m->state_dir, &s);
        if (r == -ENOENT)
                log_info("No saved state in %s, starting empty.", m->state_dir);
        else if (r == -EBADMSG)
                log_error("Saved state in %s is corrupt and was moved aside; starting empty.", m->state_dir);
        else if (r < 0)
                return log_error_errno(r, "Failed to load saved state from %s: %m", m->state_dir);
        else {
                rule_set_free(m->rules);
                m->rules = TAKE_PTR(s->rules);
                log_info("Loaded %zu rules from %s.", m->rules->n_rules, m->state_dir);
        }
        recovered = r == 1;

        if (m->config.has_default_action)
                m->rules->default_action = m->config.default_action;

        r = set_store_load(m->state_dir, m->sets, now_realtime_usec());
        if (r < 0)
                return log_error_errno(r, "Failed to load the sets from %s: %m", m->state_dir);
        r = manager_restore_rule_sets(m);
        if (r < 0)
                return log_error_errno(r, "Failed to restore the sets the rules name: %m");

        /* Watch before looking at interfaces, so nothing that happens after the look is missed. */
        r = netlink_watch_new(m->event, on_link_event, m, &m->netlink);
        if (r < 0)
                return log_error_errno(r, "Failed to watch network interfaces: %m");

        r = manager_apply_all(m);
        if (r < 0)
                return r;
        r = manager_apply_drop_events(m);
        if (r < 0)
                return r;

        for (size_t i = 0; i < m->config.n_interfaces; i++)
                manager_attach_one(m, m->config.interfaces[i].name, m->config.interfaces[i].mode);
        for (size_t i = 0; s && i < s->n_interfaces; i++)
                if (!manager_find_interface(m, s->interfaces[i].name))
                        manager_attach_one(m, s->interfaces[i].name, xdp_mode_from_string(s->interfaces[i].mode));
        manager_adopt_pinned_links(m);
        /* Write back what start-up found (a recovered state, interfaces followed to new
         * names, expired rules), so that the next start begins from it. */
        r = manager_save(m);
        if (r < 0)
                log_warning_errno(r, "Failed to save the state after start-up%s: %m",
                                  recovered ? " (recovered from the previous one)" : "");
        /* Every link now runs this program with these maps: an older version's maps can go. */
        (void) loader_prune_stale_pins(m->loader);

        r = manager_start_sampling(m);
        if (r < 0)
                return r;
        return manager_arm_expiry(m);
}

int manager_reload(Manager *m) {
        Config c = {};
        int r;

        /* A bad file changes nothing: the running configuration stays. */
        r = config_load(m->config_file, &c);
        if (r < 0)
                return r;
        config_done(&m->config);
        m->config = c;
        r = manager_apply_drop_events(m);
        if (r < 0)
                log_warning_errno(r, "Failed to apply DropSignalsPerSecond=: %m");

        if (c.has_default_action) {
                r = manager_set_default_action(m, c.default_action);
                if (r < 0)
                        return r;
        }
        /* Attaching what the file names adds filtering, never removes any: no gap. */
        for (size_t i = 0; i < c.n_interfaces; i++) {
                Interface *iface = manager_find_interface(m, c.interfaces[i].name);

                if (!iface || iface->in_effect == INTERFACE_WAITING)
                        manager_attach_one(m, c.interfaces[i].name, c.interfaces[i].mode);
                else if (iface->requested != c.interfaces[i].mode)
                        /* The kernel allows one XDP mode at a time: switching needs a detach, a gap. */
                        log_notice("%s stays in %s mode; to use %s, detach and attach it.", iface->name,
                                   xdp_mode_to_string(iface->in_effect), xdp_mode_to_string(c.interfaces[i].mode));
        }
        r = manager_save(m);
        if (r < 0)
                return r;
        manager_notify(m, MANAGER_CHANGED_INTERFACES);
        log_info("Reloaded %s.", m->config_file);
        return 0;
}

void manager_stop(Manager *m) {
        if (!m->config.detach_on_stop || !m->loader)
                return;
        for (size_t i = 0; i < m->n_interfaces; i++) {
                int r = loader_detach(m->loader, m->interfaces[i].name);

                if (r < 0 && r != -ENOENT)
                        log_warning_errno(r, "Failed to detach from %s: %m", m->interfaces[i].name);
                else
                        log_info("Detached from %s (DetachOnStop=yes).", m->interfaces[i].name);
        }
}
