/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "macro.h"
#include "manager.h"
#include "state.h"

uint64_t now_realtime_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

int manager_new(const char *state_dir, const char *bpffs_dir, const char *config_file, Manager **ret) {
        Manager *m;
        int r;

        m = calloc(1, sizeof(Manager));
        if (!m)
                return -ENOMEM;

        m->state_dir = strdup(state_dir);
        m->bpffs_dir = strdup(bpffs_dir);
        m->config_file = strdup(config_file);
        if (!m->state_dir || !m->bpffs_dir || !m->config_file) {
                manager_free(m);
                return -ENOMEM;
        }

        r = polkit_registry_new(&m->polkit);
        if (r >= 0)
                r = rule_set_new(&m->rules);
        if (r >= 0)
                r = sd_event_default(&m->event);
        if (r < 0) {
                manager_free(m);
                return r;
        }

        *ret = m;
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        sd_event_source_unref(m->expiry_timer);
        polkit_registry_free(m->polkit);
        sd_bus_flush_close_unref(m->bus);
        loader_free(m->loader);
        rule_set_free(m->rules);
        free(m->interfaces);
        sd_event_unref(m->event);
        free(m->state_dir);
        free(m->bpffs_dir);
        free(m->config_file);
        free(m);
        return NULL;
}

static void manager_notify(Manager *m, unsigned changes) {
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

/* ---- Expiry -------------------------------------------------------------------------------- */

static int manager_arm_expiry(Manager *m);

static int on_expiry(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        uint64_t now = now_realtime_usec();
        unsigned removed = 0;
        int r;

        for (size_t i = 0; i < m->rules->n_rules;) {
                Rule *rule = m->rules->rules[i];
                struct prefix p = rule->source;
                char buf[PREFIX_STRING_MAX];

                if (rule->expires_usec == 0 || rule->expires_usec > now) {
                        i++;
                        continue;
                }
                log_info("Rule %u (%s %s) expired.", rule->id, pf_action_to_string(rule->action),
                         prefix_format(&p, buf));
                /* Persist first: a crash now must not bring the rule back on restart. */
                (void) rule_set_remove(m->rules, rule->id);
                r = loader_prefix_delete(m->loader, &p);
                if (r < 0 && r != -ENOENT)
                        log_warning_errno(r, "Failed to remove expired prefix %s from the filter: %m", buf);
                removed++;
        }

        if (removed > 0) {
                r = manager_save(m);
                if (r < 0)
                        log_error_errno(r, "Failed to save state after expiry: %m");
                manager_notify(m, MANAGER_CHANGED_RULES);
        }

        return manager_arm_expiry(m);
}

static int manager_arm_expiry(Manager *m) {
        uint64_t next = rule_set_next_expiry(m->rules);
        int r;

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

/* ---- Rules --------------------------------------------------------------------------------- */

static Rule *manager_find_block(Manager *m, const struct prefix *p) {
        for (size_t i = 0; i < m->rules->n_rules; i++)
                if (prefix_equal(&m->rules->rules[i]->source, p))
                        return m->rules->rules[i];
        return NULL;
}

static uint64_t expiry_from_timeout(uint32_t timeout_sec) {
        return timeout_sec == 0 ? 0 : now_realtime_usec() + (uint64_t) timeout_sec * 1000000ULL;
}

int manager_block(Manager *m, const struct prefix *p, uint32_t timeout_sec, uint32_t *ret_id) {
        _cleanup_(rule_freep) Rule *rule = NULL;
        uint64_t expires = expiry_from_timeout(timeout_sec);
        Rule *existing;
        uint32_t id;
        int r;

        existing = manager_find_block(m, p);
        if (existing) {
                uint64_t old = existing->expires_usec;

                /* Banning again never shortens a ban: fail2ban re-bans extend it. */
                if (old != 0 && (expires == 0 || expires > old)) {
                        existing->expires_usec = expires;
                        r = manager_save(m);
                        if (r < 0) {
                                existing->expires_usec = old;
                                return r;
                        }
                        (void) manager_arm_expiry(m);
                        manager_notify(m, MANAGER_CHANGED_RULES);
                }
                *ret_id = existing->id;
                return 0;
        }

        rule = rule_new();
        if (!rule)
                return -ENOMEM;
        rule->action = PF_ACTION_DROP;
        rule->source = *p;
        rule->created_usec = now_realtime_usec();
        rule->expires_usec = expires;

        r = rule_set_add(m->rules, rule, &id);
        if (r < 0)
                return r;
        Rule *added = TAKE_PTR(rule);

        /* On disk before it is applied: nothing acknowledged is lost by a crash. */
        r = manager_save(m);
        if (r >= 0)
                r = loader_counter_reset(m->loader, added->slot);
        if (r >= 0)
                r = loader_prefix_set(m->loader, p, added->slot, added->action);
        if (r < 0) {
                (void) loader_prefix_delete(m->loader, p);
                (void) rule_set_remove(m->rules, id);
                (void) manager_save(m);
                return r;
        }

        (void) manager_arm_expiry(m);
        manager_notify(m, MANAGER_CHANGED_RULES);
        *ret_id = id;
        return 0;
}

int manager_unblock(Manager *m, const struct prefix *p, uint32_t *ret_removed) {
        Rule *rule, saved;
        int r;

        rule = manager_find_block(m, p);
        if (!rule) {
                *ret_removed = 0;
                return 0;
        }

        saved = *rule;
        (void) rule_set_remove(m->rules, saved.id);
        r = manager_save(m);
        if (r < 0) {
                Rule *back = rule_new();

                if (back) {
                        *back = saved;
                        (void) rule_set_add(m->rules, back, NULL);
                }
                return r;
        }
        r = loader_prefix_delete(m->loader, p);
        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "Failed to remove prefix from the filter: %m");

        (void) manager_arm_expiry(m);
        manager_notify(m, MANAGER_CHANGED_RULES);
        *ret_removed = 1;
        return 0;
}

int manager_rule_counters(Manager *m, const Rule *r, uint64_t *ret_packets, uint64_t *ret_bytes) {
        return loader_counter_read(m->loader, r->slot, ret_packets, ret_bytes);
}

int manager_statistics(Manager *m, struct pf_statistics *ret) {
        return loader_statistics_read(m->loader, ret);
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

/* ---- Start-up ------------------------------------------------------------------------------ */

static bool keep_prefix(const struct prefix *p, void *userdata) {
        return manager_find_block(userdata, p);
}

/* Makes the (possibly pinned, possibly stale) maps say exactly what the rule set says,
 * without a moment where a kept rule is missing: write all, then prune the rest. */
static int manager_apply_rules(Manager *m) {
        int r;

        r = loader_set_default_action(m->loader, m->rules->default_action);
        if (r < 0)
                return log_error_errno(r, "Failed to set the default action: %m");

        for (size_t i = 0; i < m->rules->n_rules; i++) {
                Rule *rule = m->rules->rules[i];

                r = loader_prefix_set(m->loader, &rule->source, rule->slot, rule->action);
                if (r < 0)
                        return log_error_errno(r, "Failed to apply rule %u: %m", rule->id);
        }
        r = loader_prefix_prune(m->loader, keep_prefix, m);
        if (r < 0)
                return log_error_errno(r, "Failed to prune stale prefixes: %m");
        return 0;
}

static void manager_attach_one(Manager *m, const char *ifname, enum xdp_mode requested) {
        enum xdp_mode in_effect;
        int r;

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
        int r;

        r = config_load(m->config_file, &m->config);
        if (r < 0)
                return log_error_errno(r, "Refusing to start with a bad configuration in %s.", m->config_file);

        r = loader_new(m->bpffs_dir, &m->loader);
        if (r < 0)
                return r;

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

        if (m->config.has_default_action)
                m->rules->default_action = m->config.default_action;

        r = manager_apply_rules(m);
        if (r < 0)
                return r;

        for (size_t i = 0; i < m->config.n_interfaces; i++)
                manager_attach_one(m, m->config.interfaces[i].name, m->config.interfaces[i].mode);
        for (size_t i = 0; s && i < s->n_interfaces; i++)
                if (!manager_find_interface(m, s->interfaces[i].name))
                        manager_attach_one(m, s->interfaces[i].name, xdp_mode_from_string(s->interfaces[i].mode));
        manager_adopt_pinned_links(m);

        return manager_arm_expiry(m);
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
