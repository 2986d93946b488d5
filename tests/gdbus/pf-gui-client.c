/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pf-gui-client: what a desktop firewall front-end does with packetfilterd,
 * written as a test. GLib/GDBus only, like such a front-end.
 *
 * It connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS), makes a GDBusProxy
 * for org.example.PacketFilter1 asynchronously (typed by the contract,
 * dbus/org.example.PacketFilter1.xml, when --xml names it), reads every
 * property, listens to PropertiesChanged and the rule signals, and keeps a
 * model of the rules built only from replies and signals, the way a GUI
 * keeps its list. Then it makes a scripted series of asynchronous calls.
 * After each one it checks that the change was announced exactly once and
 * in order:
 *
 *   RuleRemoved... (removals first), RuleAdded... (in the order of the ids
 *   returned), or RuleChanged, or one RulesReplaced per group when the change
 *   touches more than SIGNALS_PER_CHANGE_MAX rules; then one
 *   PropertiesChanged with Generation + 1 and the new RuleCount.
 *
 * "Exactly once" is checked with a barrier: once the expected signals are in,
 * a Peer.Ping round trip to the daemon flushes anything else it sent, and
 * nothing else may have come. At the end the model must equal ListRules and
 * the proxy's cached properties must equal GetAll.
 *
 * Every wait is bounded. Exit status 0 when all is as it should be, 1 with a
 * message (and the signals received in that step) at the first mismatch,
 * 2 for bad usage.
 *
 * Usage: pf-gui-client [--xml CONTRACT.xml] [--interface IFNAME]
 */
#include <gio/gio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PF_BUS_NAME "org.example.PacketFilter"
#define PF_OBJECT_PATH "/org/example/PacketFilter"
#define PF_INTERFACE "org.example.PacketFilter1"
#define PF_ERROR_PREFIX PF_INTERFACE ".Error."

/* The documented bound: a change touching more rules announces itself with RulesReplaced. */
#define SIGNALS_PER_CHANGE_MAX 64

#define CALL_TIMEOUT_MS 15000
#define SIGNAL_TIMEOUT_MS 5000
#define RUN_TIMEOUT_SEC 150

#define USEC_PER_SEC G_GINT64_CONSTANT(1000000)

/* One signal as it arrived: a rule signal, or PropertiesChanged (parameters: the changed a{sv}). */
typedef struct Event {
        char *member;
        GVariant *parameters;
} Event;

typedef struct Client {
        GMainLoop *loop;
        GDBusConnection *bus;
        GDBusProxy *proxy;
        GDBusNodeInfo *contract;        /* NULL without --xml */
        GQueue events;                  /* Event *, oldest first */

        /* What the client believes, from replies and signals only. */
        GHashTable *rules;              /* id -> a{sv} */
        guint64 generation;
        char *default_action;
        GVariant *interfaces;           /* a(ss) */

        unsigned n_step;
        char *step;
} Client;

static Client client;

/* ---- Failing ----------------------------------------------------------------------------------- */

static void event_free(Event *e) {
        g_free(e->member);
        g_variant_unref(e->parameters);
        g_free(e);
}

static void dump_events(Client *c) {
        if (g_queue_is_empty(&c->events))
                return;
        fprintf(stderr, "  signals not yet checked in this step:\n");
        for (GList *l = c->events.head; l; l = l->next) {
                const Event *e = l->data;
                g_autofree char *text = g_variant_print(e->parameters, FALSE);

                fprintf(stderr, "    %s %.300s\n", e->member, text);
        }
}

/* A test stops at the first mismatch: say where and what, show what came, exit 1. */
G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN
static void die(const char *format, ...) {
        g_autofree char *message = NULL;
        va_list ap;

        va_start(ap, format);
        message = g_strdup_vprintf(format, ap);
        va_end(ap);
        fprintf(stderr, "FAIL: step %u (%s): %s\n", client.n_step, client.step ?: "start", message);
        dump_events(&client);
        fflush(NULL);
        exit(EXIT_FAILURE);
}

static void say(const char *format, ...) G_GNUC_PRINTF(1, 2);
static void say(const char *format, ...) {
        va_list ap;

        printf("[gui-client] ok: ");
        va_start(ap, format);
        vprintf(format, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
}

/* Warnings from GDBus (a property of the wrong type, a bad signature...) are failures too. */
static GLogWriterOutput on_log(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer userdata) {
        const char *domain = "glib", *message = "";

        if (!(level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)))
                return g_log_writer_default(level, fields, n_fields, userdata);
        for (gsize i = 0; i < n_fields; i++) {
                if (g_str_equal(fields[i].key, "GLIB_DOMAIN") && fields[i].length < 0)
                        domain = fields[i].value;
                else if (g_str_equal(fields[i].key, "MESSAGE") && fields[i].length < 0)
                        message = fields[i].value;
        }
        die("%s: %s", domain, message);
}

static gboolean on_run_timeout(gpointer userdata) {
        die("the whole run took more than %d s", RUN_TIMEOUT_SEC);
}

/* ---- Waiting ----------------------------------------------------------------------------------- */

static void wake(Client *c) {
        g_main_loop_quit(c->loop);
}

static gboolean on_wait_timeout(gpointer userdata) {
        wake(userdata);
        return G_SOURCE_REMOVE;
}

/* Runs the main loop until done(c, data) holds (TRUE) or timeout_ms pass (FALSE). */
static gboolean wait_until(Client *c, gboolean (*done)(Client *c, gconstpointer data), gconstpointer data,
                           guint timeout_ms) {
        gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;

        while (!done(c, data)) {
                gint64 left = deadline - g_get_monotonic_time();
                g_autoptr(GSource) timer = NULL;

                if (left <= 0)
                        return FALSE;
                timer = g_timeout_source_new((guint) (left / 1000) + 1);
                g_source_set_callback(timer, on_wait_timeout, c, NULL);
                g_source_attach(timer, NULL);
                g_main_loop_run(c->loop);
                g_source_destroy(timer);
        }
        return TRUE;
}

static gboolean flag_is_set(Client *c, gconstpointer data) {
        return *(const gboolean *) data;
}

static gboolean has_events(Client *c, gconstpointer data) {
        return c->events.length >= GPOINTER_TO_UINT(data);
}

/* ---- Calls ------------------------------------------------------------------------------------- */

typedef struct Call {
        Client *client;
        gboolean done;
        GVariant *reply;
        GError *error;
} Call;

static void on_proxy_call_done(GObject *source, GAsyncResult *result, gpointer userdata) {
        Call *call = userdata;

        call->reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), result, &call->error);
        call->done = TRUE;
        wake(call->client);
}

static void on_connection_call_done(GObject *source, GAsyncResult *result, gpointer userdata) {
        Call *call = userdata;

        call->reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &call->error);
        call->done = TRUE;
        wake(call->client);
}

static void call_wait(Client *c, Call *call, const char *what) {
        if (!wait_until(c, flag_is_set, &call->done, CALL_TIMEOUT_MS + 2000))
                die("no reply to %s within %d ms", what, CALL_TIMEOUT_MS + 2000);
}

/* Calls METHOD of the interface asynchronously, through the proxy; returns the reply or the error. */
static GVariant *call_try(Client *c, const char *method, GVariant *args, GError **ret_error) {
        Call call = { .client = c };

        g_dbus_proxy_call(c->proxy, method, args, G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS,
                          NULL, on_proxy_call_done, &call);
        call_wait(c, &call, method);
        if (call.error) {
                g_propagate_error(ret_error, call.error);
                return NULL;
        }
        return call.reply;
}

static GVariant *call(Client *c, const char *method, GVariant *args) {
        g_autoptr(GError) error = NULL;
        GVariant *reply = call_try(c, method, args, &error);

        if (!reply)
                die("%s failed: %s", method, error->message);
        return reply;
}

/* A call on another interface of the daemon's object (Peer, Properties). */
static GVariant *call_object(Client *c, const char *interface, const char *method, GVariant *args,
                             const GVariantType *reply_type) {
        Call call = { .client = c };

        g_dbus_connection_call(c->bus, PF_BUS_NAME, PF_OBJECT_PATH, interface, method, args, reply_type,
                               G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, NULL,
                               on_connection_call_done, &call);
        call_wait(c, &call, method);
        if (call.error)
                die("%s.%s failed: %s", interface, method, call.error->message);
        return call.reply;
}

/* The D-Bus error name of a failed call, e.g. org.example.PacketFilter1.Error.InvalidRule. */
static char *error_name(const GError *error) {
        return g_dbus_error_get_remote_error(error) ?: g_strdup("(not a D-Bus error)");
}

/* ---- Signals ----------------------------------------------------------------------------------- */

static const struct {
        const char *member;
        const char *signature;
} rule_signals[] = {
        { "RuleAdded", "(ua{sv})" },
        { "RuleRemoved", "(us)" },
        { "RuleChanged", "(ua{sv})" },
        { "RulesReplaced", "(su)" },
};

static void queue_event(Client *c, const char *member, GVariant *parameters) {
        Event *e = g_new0(Event, 1);

        e->member = g_strdup(member);
        e->parameters = g_variant_ref_sink(parameters);
        g_queue_push_tail(&c->events, e);
        wake(c);
}

static void on_signal(GDBusProxy *proxy, const char *sender, const char *member, GVariant *parameters,
                      gpointer userdata) {
        Client *c = userdata;

        for (size_t i = 0; i < G_N_ELEMENTS(rule_signals); i++) {
                if (!g_str_equal(member, rule_signals[i].member))
                        continue;
                if (!g_str_equal(g_variant_get_type_string(parameters), rule_signals[i].signature))
                        die("signal %s has arguments %s, the contract says %s", member,
                            g_variant_get_type_string(parameters), rule_signals[i].signature);
                queue_event(c, member, parameters);
                return;
        }
        die("unknown signal %s%s", member, g_variant_get_type_string(parameters));
}

static void on_properties_changed(GDBusProxy *proxy, GVariant *changed, const char *const *invalidated,
                                  gpointer userdata) {
        /* Every property is EmitsChangedSignal=true (or const): values come with the signal. */
        if (invalidated && invalidated[0])
                die("PropertiesChanged invalidates %s instead of sending its value", invalidated[0]);
        queue_event(userdata, "PropertiesChanged", changed);
}

/* Pops the next signal, which must be MEMBER. */
static Event *next_event(Client *c, const char *member, const char *expected) {
        Event *e = g_queue_pop_head(&c->events);

        if (!e)
                die("expected %s, but no (more) signal came", expected);
        if (!g_str_equal(e->member, member)) {
                g_autofree char *text = g_variant_print(e->parameters, FALSE);

                g_queue_push_head(&c->events, e);
                die("expected %s, got %s %.300s", expected, e->member, text);
        }
        return e;
}

static void barrier(Client *c) {
        g_autoptr(GVariant) reply = call_object(c, "org.freedesktop.DBus.Peer", "Ping", NULL, G_VARIANT_TYPE_UNIT);

        /* Whatever was dispatched along with the ping's reply. */
        while (g_main_context_iteration(NULL, FALSE))
                ;
}

/* Waits (bounded) for N signals, then for a round trip to the daemon that flushes any more. */
static void settle(Client *c, guint n) {
        (void) wait_until(c, has_events, GUINT_TO_POINTER(n), SIGNAL_TIMEOUT_MS);
        barrier(c);
}

static void expect_no_more_events(Client *c) {
        Event *e = g_queue_peek_head(&c->events);

        if (e) {
                g_autofree char *text = g_variant_print(e->parameters, FALSE);

                die("unexpected signal %s %.300s (a change must be announced exactly once)", e->member, text);
        }
}

/* ---- Rules ------------------------------------------------------------------------------------- */

/* The keys of a returned rule and their types (dbus/org.example.PacketFilter1.xml). */
static const struct {
        const char *key;
        const char *type;
        gboolean required;
} returned_keys[] = {
        { "id", "u", TRUE },
        { "action", "s", TRUE },
        { "source", "s", FALSE },
        { "destination", "s", FALSE },
        { "protocol", "s", FALSE },
        { "port", "s", FALSE },
        { "source-port", "s", FALSE },
        { "icmp-type", "u", FALSE },
        { "vlan", "u", FALSE },
        { "interface", "s", FALSE },
        { "priority", "i", TRUE },
        { "enabled", "b", TRUE },
        { "comment", "s", FALSE },
        { "group", "s", TRUE },
        { "packets", "t", TRUE },
        { "bytes", "t", TRUE },
        { "created", "t", TRUE },
        { "expires", "t", TRUE },
};

/* A rule dictionary from KEY, VALUE (GVariant *, floating), ..., NULL. */
static GVariant *rule_dict(const char *first_key, ...) G_GNUC_NULL_TERMINATED;
static GVariant *rule_dict(const char *first_key, ...) {
        GVariantBuilder b;
        va_list ap;

        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        va_start(ap, first_key);
        for (const char *key = first_key; key; key = va_arg(ap, const char *))
                g_variant_builder_add(&b, "{sv}", key, va_arg(ap, GVariant *));
        va_end(ap);
        return g_variant_ref_sink(g_variant_builder_end(&b));
}

static GVariant *rules_array(GVariant *const *rules, size_t n) {
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE("aa{sv}"));
        for (size_t i = 0; i < n; i++)
                g_variant_builder_add_value(&b, rules[i]);
        return g_variant_builder_end(&b);
}

static gboolean has_key(GVariant *dict, const char *key) {
        g_autoptr(GVariant) v = g_variant_lookup_value(dict, key, NULL);

        return v != NULL;
}

static guint32 dict_u(GVariant *dict, const char *key) {
        guint32 v = 0;

        (void) g_variant_lookup(dict, key, "u", &v);
        return v;
}

static guint64 dict_t(GVariant *dict, const char *key) {
        guint64 v = 0;

        (void) g_variant_lookup(dict, key, "t", &v);
        return v;
}

static const char *dict_s(GVariant *dict, const char *key) {
        const char *v = NULL;

        (void) g_variant_lookup(dict, key, "&s", &v);
        return v ?: "";
}

/*
 * Checks a rule the daemon sent (WHAT says where from): only known keys, each of its type,
 * the required ones there, the id ID, and every key of SENT (what we asked for; NULL: don't
 * compare) with the same value. "timeout" becomes "expires" around created + timeout.
 */
static void check_rule(const char *what, GVariant *rule, guint32 id, GVariant *sent) {
        g_autofree char *text = g_variant_print(rule, FALSE);
        GVariantIter iter;
        const char *key;
        GVariant *value;
        guint32 timeout;

        g_variant_iter_init(&iter, rule);
        while (g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
                size_t i;

                for (i = 0; i < G_N_ELEMENTS(returned_keys); i++)
                        if (g_str_equal(key, returned_keys[i].key))
                                break;
                if (i == G_N_ELEMENTS(returned_keys))
                        die("%s: unknown key '%s' in %s", what, key, text);
                if (!g_str_equal(g_variant_get_type_string(value), returned_keys[i].type))
                        die("%s: key '%s' has type %s, the contract says %s", what, key,
                            g_variant_get_type_string(value), returned_keys[i].type);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(returned_keys); i++)
                if (returned_keys[i].required && !has_key(rule, returned_keys[i].key))
                        die("%s: key '%s' missing from %s", what, returned_keys[i].key, text);
        if (dict_u(rule, "id") != id)
                die("%s: id %u in the dictionary, expected %u", what, dict_u(rule, "id"), id);

        if (!sent)
                return;
        g_variant_iter_init(&iter, sent);
        while (g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
                g_autoptr(GVariant) got = NULL;

                if (g_str_equal(key, "timeout"))
                        continue;
                got = g_variant_lookup_value(rule, key, NULL);
                if (!got || !g_variant_equal(got, value)) {
                        g_autofree char *want = g_variant_print(value, TRUE);

                        die("%s: key '%s' should be %s: %s", what, key, want, text);
                }
        }
        if (g_variant_lookup(sent, "timeout", "u", &timeout) && timeout > 0) {
                gint64 expires = (gint64) dict_t(rule, "expires"), created = (gint64) dict_t(rule, "created");

                if (llabs(expires - created - timeout * USEC_PER_SEC) > USEC_PER_SEC)
                        die("%s: timeout %u s but expires - created = %.3f s", what, timeout,
                            (double) (expires - created) / 1e6);
        } else if (dict_t(rule, "expires") != 0)
                die("%s: no timeout asked but expires = %" G_GUINT64_FORMAT, what, dict_t(rule, "expires"));
}

/* created is "now" (µs since the epoch), within a few seconds. */
static void check_created_recently(const char *what, GVariant *rule) {
        gint64 now = g_get_real_time(), created = (gint64) dict_t(rule, "created");

        if (llabs(now - created) > 10 * USEC_PER_SEC)
                die("%s: created = %" G_GINT64_FORMAT " is not now (%" G_GINT64_FORMAT ")", what, created, now);
}

static void model_put(Client *c, guint32 id, GVariant *rule) {
        g_hash_table_replace(c->rules, GUINT_TO_POINTER(id), g_variant_ref(rule));
}

static guint model_count_group(Client *c, const char *group) {
        GHashTableIter iter;
        gpointer value;
        guint n = 0;

        g_hash_table_iter_init(&iter, c->rules);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                n += g_str_equal(dict_s(value, "group"), group);
        return n;
}

/* ---- Expected signals -------------------------------------------------------------------------- */

static void expect_rule_added(Client *c, guint32 id, GVariant *sent) {
        g_autofree char *expected = g_strdup_printf("RuleAdded(%u, ...)", id);
        Event *e = next_event(c, "RuleAdded", expected);
        g_autoptr(GVariant) rule = NULL;
        guint32 got_id;

        g_variant_get(e->parameters, "(u@a{sv})", &got_id, &rule);
        if (got_id != id)
                die("expected RuleAdded(%u), got RuleAdded(%u) (additions come in the order of the ids returned)",
                    id, got_id);
        if (g_hash_table_contains(c->rules, GUINT_TO_POINTER(id)))
                die("RuleAdded(%u) for a rule the client already has", id);
        check_rule("RuleAdded", rule, id, sent);
        check_created_recently("RuleAdded", rule);
        model_put(c, id, rule);
        event_free(e);
}

/* Removals of one change may come in any order, but all before any addition. */
static void expect_rules_removed(Client *c, const guint32 *ids, size_t n, const char *reason) {
        g_autoptr(GHashTable) pending = g_hash_table_new(NULL, NULL);

        for (size_t i = 0; i < n; i++)
                g_hash_table_add(pending, GUINT_TO_POINTER(ids[i]));
        for (size_t i = 0; i < n; i++) {
                g_autofree char *expected = g_strdup_printf("RuleRemoved(one of %u ids, '%s')",
                                                            g_hash_table_size(pending), reason);
                Event *e = next_event(c, "RuleRemoved", expected);
                const char *got_reason;
                guint32 id;

                g_variant_get(e->parameters, "(u&s)", &id, &got_reason);
                if (!g_hash_table_remove(pending, GUINT_TO_POINTER(id)))
                        die("RuleRemoved(%u, '%s'): not a rule this change removes (or removed twice)",
                            id, got_reason);
                if (!g_str_equal(got_reason, reason))
                        die("RuleRemoved(%u, '%s'): the reason should be '%s'", id, got_reason, reason);
                if (!g_hash_table_remove(c->rules, GUINT_TO_POINTER(id)))
                        die("RuleRemoved(%u) for a rule the client never saw", id);
                event_free(e);
        }
}

static void expect_rule_removed(Client *c, guint32 id, const char *reason) {
        expect_rules_removed(c, &id, 1, reason);
}

/* RuleChanged(id, rule) with KEY now VALUE (floating), everything else as before but the counters. */
static void expect_rule_changed(Client *c, guint32 id, const char *key, GVariant *value) {
        g_autoptr(GVariant) want = g_variant_ref_sink(value);
        g_autofree char *expected = g_strdup_printf("RuleChanged(%u, ...)", id);
        Event *e = next_event(c, "RuleChanged", expected);
        g_autoptr(GVariant) rule = NULL, got = NULL;
        GVariant *before = g_hash_table_lookup(c->rules, GUINT_TO_POINTER(id));
        GVariantIter iter;
        const char *k;
        GVariant *v;
        guint32 got_id;

        g_variant_get(e->parameters, "(u@a{sv})", &got_id, &rule);
        if (got_id != id)
                die("expected RuleChanged(%u), got RuleChanged(%u)", id, got_id);
        if (!before)
                die("RuleChanged(%u) for a rule the client never saw", id);
        check_rule("RuleChanged", rule, id, NULL);
        got = g_variant_lookup_value(rule, key, NULL);
        if (!got || !g_variant_equal(got, want))
                die("RuleChanged(%u): '%s' should be %s", id, key, g_variant_print(want, TRUE));
        /* Nothing else moved (counters aside). */
        g_variant_iter_init(&iter, before);
        while (g_variant_iter_loop(&iter, "{&sv}", &k, &v)) {
                g_autoptr(GVariant) now = NULL;

                if (g_str_equal(k, key) || g_str_equal(k, "packets") || g_str_equal(k, "bytes"))
                        continue;
                now = g_variant_lookup_value(rule, k, NULL);
                if (!now || !g_variant_equal(now, v))
                        die("RuleChanged(%u): '%s' changed too (was %s)", id, k, g_variant_print(v, TRUE));
        }
        model_put(c, id, rule);
        event_free(e);
}

/* Like a GUI: on RulesReplaced, throw the group away and re-read it. */
static void expect_rules_replaced(Client *c, const char *group, guint32 count) {
        g_autofree char *expected = g_strdup_printf("RulesReplaced('%s', %u)", group, count);
        Event *e = next_event(c, "RulesReplaced", expected);
        g_autoptr(GVariant) reply = NULL, list = NULL;
        GHashTableIter iter;
        gpointer value;
        const char *got_group;
        guint32 got_count;
        GVariant *rule;

        g_variant_get(e->parameters, "(&su)", &got_group, &got_count);
        if (!g_str_equal(got_group, group) || got_count != count)
                die("expected %s, got RulesReplaced('%s', %u)", expected, got_group, got_count);
        event_free(e);

        g_hash_table_iter_init(&iter, c->rules);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                if (g_str_equal(dict_s(value, "group"), group))
                        g_hash_table_iter_remove(&iter);
        reply = call(c, "ListRulesInGroup", g_variant_new("(s)", group));
        list = g_variant_get_child_value(reply, 0);
        if (g_variant_n_children(list) != count)
                die("RulesReplaced('%s', %u), but ListRulesInGroup gives %zu rules", group, count,
                    g_variant_n_children(list));
        for (size_t i = 0; i < g_variant_n_children(list); i++) {
                rule = g_variant_get_child_value(list, i);
                check_rule("ListRulesInGroup", rule, dict_u(rule, "id"), NULL);
                if (!g_str_equal(dict_s(rule, "group"), group))
                        die("ListRulesInGroup('%s') returned a rule of group '%s'", group, dict_s(rule, "group"));
                model_put(c, dict_u(rule, "id"), rule);
                g_variant_unref(rule);
        }
}

/* A cached property of the proxy (kept current by PropertiesChanged). */
static GVariant *cached(Client *c, const char *name) {
        GVariant *v = g_dbus_proxy_get_cached_property(c->proxy, name);

        if (!v)
                die("the proxy has no value for property %s", name);
        return v;
}

/* Checks one PropertiesChanged: every property in it has the value the client expects now. */
static void check_changed_values(Client *c, GVariant *changed, gboolean *ret_generation) {
        GVariantIter iter;
        const char *name;
        GVariant *value;

        *ret_generation = FALSE;
        g_variant_iter_init(&iter, changed);
        while (g_variant_iter_loop(&iter, "{&sv}", &name, &value)) {
                g_autofree char *text = g_variant_print(value, TRUE);

                if (g_str_equal(name, "Generation")) {
                        if (!g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64) ||
                            g_variant_get_uint64(value) != c->generation + 1)
                                die("Generation changed to %s, expected exactly %" G_GUINT64_FORMAT
                                    " (one more per committed change)", text, c->generation + 1);
                        *ret_generation = TRUE;
                } else if (g_str_equal(name, "RuleCount")) {
                        if (!g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32) ||
                            g_variant_get_uint32(value) != g_hash_table_size(c->rules))
                                die("RuleCount changed to %s, but the client counts %u rules from the signals",
                                    text, g_hash_table_size(c->rules));
                } else if (g_str_equal(name, "DefaultAction")) {
                        if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING) ||
                            !g_str_equal(g_variant_get_string(value, NULL), c->default_action))
                                die("DefaultAction changed to %s, expected '%s'", text, c->default_action);
                } else if (g_str_equal(name, "Interfaces")) {
                        if (!g_variant_equal(value, c->interfaces))
                                die("Interfaces changed to %s, expected %s", text,
                                    g_variant_print(c->interfaces, TRUE));
                } else
                        die("PropertiesChanged names %s, which is const or unknown", name);
        }
}

/*
 * The one PropertiesChanged that closes a committed change: Generation + 1 and every property
 * NAMES (NULL-terminated) with the value the client expects, nothing else wrong.
 */
static void expect_properties_changed(Client *c, gboolean generation, const char *const *names) {
        Event *e = next_event(c, "PropertiesChanged",
                              generation ? "PropertiesChanged(Generation + 1, ...)" : "PropertiesChanged");
        gboolean has_generation;

        for (size_t i = 0; names && names[i]; i++)
                if (!has_key(e->parameters, names[i]))
                        die("PropertiesChanged without %s: %s", names[i], g_variant_print(e->parameters, FALSE));
        check_changed_values(c, e->parameters, &has_generation);
        if (generation && !has_generation)
                die("a committed change, but PropertiesChanged has no Generation: %s",
                    g_variant_print(e->parameters, FALSE));
        if (has_generation)
                c->generation++;
        event_free(e);
}

/* The end of a change to the rules: Generation + 1 and the new RuleCount. */
static void expect_rules_committed(Client *c) {
        expect_properties_changed(c, TRUE, (const char *const[]) { "RuleCount", "Generation", NULL });
}

/* ---- Steps ------------------------------------------------------------------------------------- */

/* What the proxy caches agrees with the client's model. */
static void check_model(Client *c) {
        g_autoptr(GVariant) generation = cached(c, "Generation"), count = cached(c, "RuleCount"),
                            action = cached(c, "DefaultAction"), interfaces = cached(c, "Interfaces");

        if (g_variant_get_uint64(generation) != c->generation)
                die("the cached Generation is %" G_GUINT64_FORMAT ", the client counted %" G_GUINT64_FORMAT,
                    g_variant_get_uint64(generation), c->generation);
        if (g_variant_get_uint32(count) != g_hash_table_size(c->rules))
                die("the cached RuleCount is %u, the client's model holds %u rules",
                    g_variant_get_uint32(count), g_hash_table_size(c->rules));
        if (!g_str_equal(g_variant_get_string(action, NULL), c->default_action))
                die("the cached DefaultAction is '%s', expected '%s'", g_variant_get_string(action, NULL),
                    c->default_action);
        if (!g_variant_equal(interfaces, c->interfaces))
                die("the cached Interfaces are %s, expected %s", g_variant_print(interfaces, TRUE),
                    g_variant_print(c->interfaces, TRUE));
}

/* A new step: whatever came since the last one was not asked for. */
static void step_begin(Client *c, const char *format, ...) G_GNUC_PRINTF(2, 3);
static void step_begin(Client *c, const char *format, ...) {
        va_list ap;

        barrier(c);
        expect_no_more_events(c);
        check_model(c);
        g_free(c->step);
        va_start(ap, format);
        c->step = g_strdup_vprintf(format, ap);
        va_end(ap);
        c->n_step++;
        printf("[gui-client] === %u. %s\n", c->n_step, c->step);
        fflush(stdout);
}

static void step_end(Client *c) {
        expect_no_more_events(c);
        check_model(c);
}

static guint32 *reply_ids(GVariant *reply, size_t expected) {
        g_autoptr(GVariant) array = g_variant_get_child_value(reply, 0);
        gsize n;
        const guint32 *ids = g_variant_get_fixed_array(array, &n, sizeof(guint32));

        if (n != expected)
                die("%zu ids returned for %zu rules", (size_t) n, expected);
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < i; k++)
                        if (ids[i] == ids[k] || ids[i] == 0)
                                die("the ids returned are not distinct and non-zero (%u)", ids[i]);
        return g_memdup2(ids, n * sizeof(guint32));
}

/* The properties of the contract and their types. */
static const struct {
        const char *name;
        const char *type;
} properties[] = {
        { "Version", "s" },
        { "DefaultAction", "s" },
        { "Interfaces", "a(ss)" },
        { "RuleCount", "u" },
        { "Generation", "t" },
        { "MaxRules", "u" },
};

static void proxy_ready(GObject *source, GAsyncResult *result, gpointer userdata) {
        Call *call = userdata;

        call->client->proxy = g_dbus_proxy_new_finish(result, &call->error);
        call->done = TRUE;
        wake(call->client);
}

static void bus_ready(GObject *source, GAsyncResult *result, gpointer userdata) {
        Call *call = userdata;

        call->client->bus = g_bus_get_finish(result, &call->error);
        call->done = TRUE;
        wake(call->client);
}

static void step_connect(Client *c) {
        GDBusInterfaceInfo *info = c->contract ?
                g_dbus_node_info_lookup_interface(c->contract, PF_INTERFACE) : NULL;
        Call bus_call = { .client = c }, proxy_call = { .client = c };
        g_autoptr(GVariant) reply = NULL, list = NULL;
        g_auto(GStrv) names = NULL;
        g_autofree char *owner = NULL;

        c->n_step++;
        c->step = g_strdup("connect, make the proxy, read every property");
        printf("[gui-client] === %u. %s\n", c->n_step, c->step);

        if (c->contract && !info)
                die("the contract has no interface %s", PF_INTERFACE);

        g_bus_get(G_BUS_TYPE_SYSTEM, NULL, bus_ready, &bus_call);
        call_wait(c, &bus_call, "connecting to the system bus");
        if (bus_call.error)
                die("cannot connect to the system bus: %s", bus_call.error->message);

        /* As a GUI does: properties loaded and signals subscribed by the proxy, all asynchronously. */
        g_dbus_proxy_new(c->bus, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, info, PF_BUS_NAME, PF_OBJECT_PATH,
                         PF_INTERFACE, NULL, proxy_ready, &proxy_call);
        call_wait(c, &proxy_call, "making the proxy");
        if (proxy_call.error)
                die("cannot make a proxy for %s: %s", PF_INTERFACE, proxy_call.error->message);
        owner = g_dbus_proxy_get_name_owner(c->proxy);
        if (!owner)
                die("%s has no owner on the bus", PF_BUS_NAME);
        g_signal_connect(c->proxy, "g-signal", G_CALLBACK(on_signal), c);
        g_signal_connect(c->proxy, "g-properties-changed", G_CALLBACK(on_properties_changed), c);

        /* Every property: in the proxy's cache, of its type, and the same when asked for again. */
        names = g_dbus_proxy_get_cached_property_names(c->proxy);
        if (!names || g_strv_length(names) != G_N_ELEMENTS(properties))
                die("the proxy loaded %u properties, the contract has %zu", names ? g_strv_length(names) : 0,
                    G_N_ELEMENTS(properties));
        for (size_t i = 0; i < G_N_ELEMENTS(properties); i++) {
                g_autoptr(GVariant) value = cached(c, properties[i].name), got = NULL, inner = NULL;
                g_autofree char *text = g_variant_print(value, TRUE);

                if (!g_str_equal(g_variant_get_type_string(value), properties[i].type))
                        die("property %s has type %s, the contract says %s", properties[i].name,
                            g_variant_get_type_string(value), properties[i].type);
                got = call_object(c, "org.freedesktop.DBus.Properties", "Get",
                                  g_variant_new("(ss)", PF_INTERFACE, properties[i].name), G_VARIANT_TYPE("(v)"));
                g_variant_get(got, "(v)", &inner);
                if (!g_variant_equal(inner, value))
                        die("Get(%s) = %s, but the proxy loaded %s", properties[i].name,
                            g_variant_print(inner, TRUE), text);
                say("%s = %s", properties[i].name, text);
        }
        {
                g_autoptr(GVariant) version = cached(c, "Version"), max = cached(c, "MaxRules"),
                                    action = cached(c, "DefaultAction"), generation = cached(c, "Generation");

                if (!*g_variant_get_string(version, NULL))
                        die("Version is empty");
                if (g_variant_get_uint32(max) < 128)
                        die("MaxRules = %u: this test needs room for at least 128 rules", g_variant_get_uint32(max));
                c->default_action = g_strdup(g_variant_get_string(action, NULL));
                if (!g_str_equal(c->default_action, "pass") && !g_str_equal(c->default_action, "drop"))
                        die("DefaultAction is '%s'", c->default_action);
                c->generation = g_variant_get_uint64(generation);
                c->interfaces = cached(c, "Interfaces");
        }

        /* The rule list a GUI starts from. */
        reply = call(c, "ListRules", NULL);
        list = g_variant_get_child_value(reply, 0);
        for (size_t i = 0; i < g_variant_n_children(list); i++) {
                g_autoptr(GVariant) rule = g_variant_get_child_value(list, i);

                check_rule("ListRules", rule, dict_u(rule, "id"), NULL);
                model_put(c, dict_u(rule, "id"), rule);
        }
        say("%u rules to start with, generation %" G_GUINT64_FORMAT, g_hash_table_size(c->rules), c->generation);
        step_end(c);
}

static guint32 step_add_rule(Client *c) {
        g_autoptr(GVariant) rule = rule_dict("action", g_variant_new_string("drop"),
                                             "source", g_variant_new_string("192.0.2.0/24"),
                                             "protocol", g_variant_new_string("tcp"),
                                             "port", g_variant_new_string("22"),
                                             "comment", g_variant_new_string("ssh scanners"),
                                             "priority", g_variant_new_int32(-5),
                                             NULL);
        g_autoptr(GVariant) reply = NULL, got = NULL, got_rule = NULL;
        guint32 id;

        step_begin(c, "AddRule");
        reply = call(c, "AddRule", g_variant_new("(@a{sv})", rule));
        g_variant_get(reply, "(u)", &id);
        settle(c, 2);
        expect_rule_added(c, id, rule);
        expect_rules_committed(c);
        step_end(c);

        /* GetRule says the same as the signal. */
        got = call(c, "GetRule", g_variant_new("(u)", id));
        g_variant_get(got, "(@a{sv})", &got_rule);
        check_rule("GetRule", got_rule, id, rule);
        say("AddRule -> %u: RuleAdded, PropertiesChanged(Generation %" G_GUINT64_FORMAT "), GetRule agrees",
            id, c->generation);
        return id;
}

static guint32 *step_add_rules(Client *c) {
        g_autoptr(GVariant) a = rule_dict("action", g_variant_new_string("pass"),
                                          "destination", g_variant_new_string("192.0.2.1"),
                                          "protocol", g_variant_new_string("udp"),
                                          "port", g_variant_new_string("53"),
                                          NULL);
        g_autoptr(GVariant) b = rule_dict("action", g_variant_new_string("drop"),
                                          "protocol", g_variant_new_string("icmp"),
                                          "icmp-type", g_variant_new_uint32(8),
                                          "priority", g_variant_new_int32(5),
                                          "enabled", g_variant_new_boolean(TRUE),
                                          NULL);
        g_autoptr(GVariant) d = rule_dict("action", g_variant_new_string("drop"),
                                          "source", g_variant_new_string("2001:db8::/64"),
                                          "protocol", g_variant_new_string("tcp"),
                                          "port", g_variant_new_string("8000-8100"),
                                          "source-port", g_variant_new_string("1024-65535"),
                                          "group", g_variant_new_string("gui"),
                                          NULL);
        GVariant *rules[] = { a, b, d };
        g_autoptr(GVariant) reply = NULL;
        guint32 *ids;

        step_begin(c, "AddRules of 3 rules");
        reply = call(c, "AddRules", g_variant_new("(@aa{sv})", rules_array(rules, G_N_ELEMENTS(rules))));
        ids = reply_ids(reply, G_N_ELEMENTS(rules));
        settle(c, G_N_ELEMENTS(rules) + 1);
        for (size_t i = 0; i < G_N_ELEMENTS(rules); i++)
                expect_rule_added(c, ids[i], rules[i]);
        expect_rules_committed(c);
        step_end(c);
        say("AddRules -> %u %u %u: three RuleAdded in order, one PropertiesChanged", ids[0], ids[1], ids[2]);
        return ids;
}

static void step_set_rule_enabled(Client *c, guint32 id) {
        g_autoptr(GVariant) off = NULL, again = NULL, on = NULL;

        step_begin(c, "SetRuleEnabled(%u, false)", id);
        off = call(c, "SetRuleEnabled", g_variant_new("(ub)", id, FALSE));
        settle(c, 2);
        expect_rule_changed(c, id, "enabled", g_variant_new_boolean(FALSE));
        expect_rules_committed(c);
        step_end(c);
        say("RuleChanged(%u, enabled false), Generation %" G_GUINT64_FORMAT, id, c->generation);

        /* Asking for what already is changes nothing, so says nothing. */
        step_begin(c, "SetRuleEnabled(%u, false) again", id);
        again = call(c, "SetRuleEnabled", g_variant_new("(ub)", id, FALSE));
        settle(c, 0);
        step_end(c);
        say("no signal and the same Generation for a change to the same value");

        step_begin(c, "SetRuleEnabled(%u, true)", id);
        on = call(c, "SetRuleEnabled", g_variant_new("(ub)", id, TRUE));
        settle(c, 2);
        expect_rule_changed(c, id, "enabled", g_variant_new_boolean(TRUE));
        expect_rules_committed(c);
        step_end(c);
        say("RuleChanged(%u, enabled true)", id);
}

static void step_remove_rule(Client *c, guint32 id) {
        g_autoptr(GVariant) reply = NULL;

        step_begin(c, "RemoveRule(%u)", id);
        reply = call(c, "RemoveRule", g_variant_new("(u)", id));
        settle(c, 2);
        expect_rule_removed(c, id, "removed");
        expect_rules_committed(c);
        step_end(c);
        say("RuleRemoved(%u, 'removed')", id);
}

/* The group's rules go ("replaced") before the new ones come; other groups are untouched. */
static void step_replace_rules(Client *c, const char *group) {
        g_autoptr(GVariant) a = rule_dict("action", g_variant_new_string("pass"),
                                          "source", g_variant_new_string("2001:db8::2"),
                                          "protocol", g_variant_new_string("icmpv6"),
                                          NULL);
        g_autoptr(GVariant) b = rule_dict("action", g_variant_new_string("drop"),
                                          "protocol", g_variant_new_string("udp"),
                                          "port", g_variant_new_string("5353"),
                                          "vlan", g_variant_new_uint32(42),
                                          "group", g_variant_new_string(group),
                                          NULL);
        /* A rule without a group joins the group replaced. */
        g_autoptr(GVariant) a_joined = rule_dict("action", g_variant_new_string("pass"),
                                                 "source", g_variant_new_string("2001:db8::2"),
                                                 "protocol", g_variant_new_string("icmpv6"),
                                                 "group", g_variant_new_string(group),
                                                 NULL);
        GVariant *rules[] = { a, b }, *expected[] = { a_joined, b };
        g_autoptr(GVariant) reply = NULL;
        g_autofree guint32 *old = NULL, *ids = NULL;
        g_autoptr(GHashTable) others = g_hash_table_new(NULL, NULL);
        GHashTableIter iter;
        gpointer key, value;
        size_t n_old = 0;

        step_begin(c, "ReplaceRules('%s', 2 rules)", group);
        old = g_new0(guint32, g_hash_table_size(c->rules) + 1);
        g_hash_table_iter_init(&iter, c->rules);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                if (g_str_equal(dict_s(value, "group"), group))
                        old[n_old++] = GPOINTER_TO_UINT(key);
                else
                        g_hash_table_add(others, key);
        }
        if (n_old == 0)
                die("the test meant group '%s' to hold rules before the replace", group);

        reply = call(c, "ReplaceRules", g_variant_new("(s@aa{sv})", group, rules_array(rules, G_N_ELEMENTS(rules))));
        ids = reply_ids(reply, G_N_ELEMENTS(rules));
        settle(c, n_old + G_N_ELEMENTS(rules) + 1);
        expect_rules_removed(c, old, n_old, "replaced");
        for (size_t i = 0; i < G_N_ELEMENTS(rules); i++)
                expect_rule_added(c, ids[i], expected[i]);
        expect_rules_committed(c);
        step_end(c);

        /* Every rule of another group is still there (the signals said nothing of them). */
        g_hash_table_iter_init(&iter, others);
        while (g_hash_table_iter_next(&iter, &key, NULL)) {
                g_autoptr(GVariant) got = call(c, "GetRule", g_variant_new("(u)", GPOINTER_TO_UINT(key)));
        }
        say("%zu x RuleRemoved('replaced') before 2 x RuleAdded; %u rules of other groups untouched",
            n_old, g_hash_table_size(others));
}

/* A block with a timeout: re-banning extends it (RuleChanged), it lifts itself (RuleRemoved 'expired'). */
static void step_block_expires(Client *c) {
        const char *address = "192.0.2.99";
        g_autoptr(GVariant) sent = rule_dict("action", g_variant_new_string("drop"),
                                             "source", g_variant_new_string(address),
                                             "group", g_variant_new_string("default"),
                                             "timeout", g_variant_new_uint32(2),
                                             NULL);
        g_autoptr(GVariant) reply = NULL, again = NULL, rule = NULL;
        guint64 expires_before;
        gint64 start, elapsed;
        guint32 id, id_again;

        step_begin(c, "Block('%s', 2 s)", address);
        start = g_get_monotonic_time();
        reply = call(c, "Block", g_variant_new("(su)", address, 2));
        g_variant_get(reply, "(u)", &id);
        settle(c, 2);
        expect_rule_added(c, id, sent);
        expect_rules_committed(c);
        step_end(c);
        say("Block -> %u: RuleAdded with expires = created + 2 s", id);

        step_begin(c, "Block('%s', 3 s) again: the same rule, expiring later", address);
        expires_before = dict_t(g_hash_table_lookup(c->rules, GUINT_TO_POINTER(id)), "expires");
        again = call(c, "Block", g_variant_new("(su)", address, 3));
        g_variant_get(again, "(u)", &id_again);
        if (id_again != id)
                die("blocking %s again gave a new rule %u instead of reusing %u", address, id_again, id);
        settle(c, 2);
        {
                Event *e = g_queue_peek_head(&c->events);
                guint64 expires;

                if (!e || !g_str_equal(e->member, "RuleChanged"))
                        die("expected RuleChanged(%u) for the longer ban", id);
                g_variant_get_child(e->parameters, 1, "@a{sv}", &rule);
                expires = dict_t(rule, "expires");
                if (expires <= expires_before)
                        die("the ban was extended but expires went from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT,
                            expires_before, expires);
                expect_rule_changed(c, id, "expires", g_variant_new_uint64(expires));
        }
        expect_rules_committed(c);
        step_end(c);
        say("RuleChanged(%u) with a later expiry", id);

        step_begin(c, "wait for the block to expire");
        if (!wait_until(c, has_events, GUINT_TO_POINTER(2), 8000))
                die("no RuleRemoved(%u, 'expired') + PropertiesChanged within %.1f s of the block",
                    id, (double) (g_get_monotonic_time() - start) / 1e6 + 8);
        elapsed = g_get_monotonic_time() - start;
        barrier(c);
        expect_rule_removed(c, id, "expired");
        expect_rules_committed(c);
        step_end(c);
        if (elapsed < 2 * USEC_PER_SEC || elapsed > 5 * USEC_PER_SEC)
                die("the 3 s block (counted from the first Block call) lifted after %.2f s", (double) elapsed / 1e6);
        say("RuleRemoved(%u, 'expired') %.2f s after the first Block", id, (double) elapsed / 1e6);
}

/* N classifier rules spread over the groups given (round robin), ports from BASE_PORT. */
static GVariant **make_rules(size_t n, const char *const *groups, guint base_port) {
        GVariant **rules = g_new0(GVariant *, n + 1);
        size_t n_groups = g_strv_length((char **) groups);

        for (size_t i = 0; i < n; i++) {
                g_autofree char *port = g_strdup_printf("%zu", base_port + i);

                rules[i] = rule_dict("action", g_variant_new_string(i % 2 ? "pass" : "drop"),
                                     "protocol", g_variant_new_string("tcp"),
                                     "port", g_variant_new_string(port),
                                     "group", g_variant_new_string(groups[i % n_groups]),
                                     NULL);
        }
        return rules;
}

static void free_rules(GVariant **rules, size_t n) {
        for (size_t i = 0; i < n; i++)
                g_variant_unref(rules[i]);
        g_free(rules);
}

/* At the bound: SIGNALS_PER_CHANGE_MAX rules still get one signal each, both ways. */
static void step_bulk_at_bound(Client *c) {
        const char *const groups[] = { "bound", NULL };
        size_t n = SIGNALS_PER_CHANGE_MAX;
        GVariant **rules = make_rules(n, groups, 30000);
        g_autoptr(GVariant) reply = NULL, removed = NULL;
        g_autofree guint32 *ids = NULL;

        step_begin(c, "AddRules of %zu rules (the bound)", n);
        reply = call(c, "AddRules", g_variant_new("(@aa{sv})", rules_array(rules, n)));
        ids = reply_ids(reply, n);
        settle(c, n + 1);
        for (size_t i = 0; i < n; i++)
                expect_rule_added(c, ids[i], rules[i]);
        expect_rules_committed(c);
        step_end(c);
        say("%zu x RuleAdded, no RulesReplaced", n);

        step_begin(c, "RemoveRules of those %zu rules", n);
        removed = call(c, "RemoveRules", g_variant_new("(@au)",
                        g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, ids, n, sizeof(guint32))));
        settle(c, n + 1);
        expect_rules_removed(c, ids, n, "removed");
        expect_rules_committed(c);
        step_end(c);
        say("%zu x RuleRemoved('removed'), no RulesReplaced", n);
        free_rules(rules, n);
}

/* Past the bound: one RulesReplaced per group touched, and no per-rule signal at all. */
static void step_bulk_past_bound(Client *c) {
        const char *const bulk[] = { "bulk", NULL }, *const two[] = { "bulk-a", "bulk-b", NULL };
        GVariant **rules = make_rules(100, bulk, 20000), **mixed = make_rules(70, two, 40000);
        g_autoptr(GVariant) reply = NULL, emptied = NULL, reply2 = NULL, removed = NULL;
        g_autofree guint32 *ids = NULL, *ids2 = NULL;

        step_begin(c, "AddRules of 100 rules in group 'bulk'");
        reply = call(c, "AddRules", g_variant_new("(@aa{sv})", rules_array(rules, 100)));
        ids = reply_ids(reply, 100);
        settle(c, 2);
        expect_rules_replaced(c, "bulk", 100);
        expect_rules_committed(c);
        step_end(c);
        for (size_t i = 0; i < 100; i++)
                if (!g_hash_table_contains(c->rules, GUINT_TO_POINTER(ids[i])))
                        die("id %u returned by AddRules is not in ListRulesInGroup('bulk')", ids[i]);
        say("one RulesReplaced('bulk', 100), no RuleAdded, one PropertiesChanged");

        step_begin(c, "ReplaceRules('bulk', no rules)");
        emptied = call(c, "ReplaceRules", g_variant_new("(s@aa{sv})", "bulk", rules_array(NULL, 0)));
        settle(c, 2);
        expect_rules_replaced(c, "bulk", 0);
        expect_rules_committed(c);
        step_end(c);
        say("one RulesReplaced('bulk', 0), no RuleRemoved");

        step_begin(c, "AddRules of 70 rules in groups 'bulk-a' and 'bulk-b'");
        reply2 = call(c, "AddRules", g_variant_new("(@aa{sv})", rules_array(mixed, 70)));
        ids2 = reply_ids(reply2, 70);
        settle(c, 3);
        {
                /* One per group, in either order. */
                Event *e = g_queue_peek_head(&c->events);
                const char *first = "bulk-a";

                if (e && g_str_equal(e->member, "RulesReplaced"))
                        g_variant_get_child(e->parameters, 0, "&s", &first);
                first = g_str_equal(first, "bulk-b") ? "bulk-b" : "bulk-a";
                expect_rules_replaced(c, first, 35);
                expect_rules_replaced(c, g_str_equal(first, "bulk-a") ? "bulk-b" : "bulk-a", 35);
        }
        expect_rules_committed(c);
        step_end(c);
        say("RulesReplaced once for each of the two groups");

        step_begin(c, "RemoveRules of those 70");
        removed = call(c, "RemoveRules", g_variant_new("(@au)",
                        g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, ids2, 70, sizeof(guint32))));
        settle(c, 3);
        {
                Event *e = g_queue_peek_head(&c->events);
                const char *first = "bulk-a";

                if (e && g_str_equal(e->member, "RulesReplaced"))
                        g_variant_get_child(e->parameters, 0, "&s", &first);
                first = g_str_equal(first, "bulk-b") ? "bulk-b" : "bulk-a";
                expect_rules_replaced(c, first, 0);
                expect_rules_replaced(c, g_str_equal(first, "bulk-a") ? "bulk-b" : "bulk-a", 0);
        }
        expect_rules_committed(c);
        step_end(c);
        if (model_count_group(c, "bulk-a") + model_count_group(c, "bulk-b") != 0)
                die("rules of bulk-a/bulk-b are left after removing them all");
        say("RulesReplaced(group, 0) once for each group");
        free_rules(rules, 100);
        free_rules(mixed, 70);
}

static void step_default_action(Client *c) {
        static const char *const actions[] = { "drop", "drop", "pass" };

        for (size_t i = 0; i < G_N_ELEMENTS(actions); i++) {
                gboolean changes = !g_str_equal(c->default_action, actions[i]);
                g_autoptr(GVariant) reply = NULL;

                step_begin(c, "SetDefaultAction('%s')%s", actions[i], changes ? "" : " again");
                reply = call(c, "SetDefaultAction", g_variant_new("(s)", actions[i]));
                if (changes) {
                        g_free(c->default_action);
                        c->default_action = g_strdup(actions[i]);
                        settle(c, 1);
                        expect_properties_changed(c, TRUE,
                                                  (const char *const[]) { "DefaultAction", "Generation", NULL });
                } else
                        settle(c, 0);
                step_end(c);
                say(changes ? "PropertiesChanged(DefaultAction '%s', Generation + 1)" :
                              "'%s' again: no signal, same Generation", actions[i]);
        }
}

/* Interfaces is a property: one PropertiesChanged with the new list. Generation may or may not move. */
static void step_interfaces(Client *c, const char *ifname) {
        g_autoptr(GVariant) attach = NULL, detach = NULL, before = g_variant_ref(c->interfaces);
        GVariantBuilder b;
        GVariantIter iter;
        const char *name, *mode;

        step_begin(c, "AttachInterface('%s', 'generic')", ifname);
        g_variant_builder_init(&b, G_VARIANT_TYPE("a(ss)"));
        g_variant_iter_init(&iter, before);
        while (g_variant_iter_loop(&iter, "(&s&s)", &name, &mode))
                if (!g_str_equal(name, ifname))
                        g_variant_builder_add(&b, "(ss)", name, mode);
        g_variant_builder_add(&b, "(ss)", ifname, "generic");
        g_variant_unref(c->interfaces);
        c->interfaces = g_variant_ref_sink(g_variant_builder_end(&b));
        attach = call(c, "AttachInterface", g_variant_new("(ss)", ifname, "generic"));
        settle(c, 1);
        expect_properties_changed(c, FALSE, (const char *const[]) { "Interfaces", NULL });
        step_end(c);
        say("PropertiesChanged(Interfaces %s)", g_variant_print(c->interfaces, FALSE));

        step_begin(c, "DetachInterface('%s')", ifname);
        g_variant_unref(c->interfaces);
        c->interfaces = g_variant_ref(before);
        detach = call(c, "DetachInterface", g_variant_new("(s)", ifname));
        settle(c, 1);
        expect_properties_changed(c, FALSE, (const char *const[]) { "Interfaces", NULL });
        step_end(c);
        say("PropertiesChanged(Interfaces %s)", g_variant_print(c->interfaces, FALSE));
}

static void step_counters(Client *c) {
        g_autoptr(GVariant) reset = NULL, stats = NULL, dict = NULL;
        guint64 v;

        step_begin(c, "ResetCounters and GetStatistics");
        reset = call(c, "ResetCounters", NULL);
        settle(c, 0);
        /* Counters are no property: nothing to announce, unless the daemon counts it a change. */
        if (!g_queue_is_empty(&c->events))
                expect_properties_changed(c, TRUE, (const char *const[]) { "Generation", NULL });
        step_end(c);
        stats = call(c, "GetStatistics", NULL);
        g_variant_get(stats, "(@a{st})", &dict);
        for (const char *const *k = (const char *const[]) { "packets", "passed", "dropped", NULL }; *k; k++)
                if (!g_variant_lookup(dict, *k, "t", &v))
                        die("GetStatistics has no '%s': %s", *k, g_variant_print(dict, FALSE));
        say("ResetCounters: no rule signal; GetStatistics has packets, passed, dropped");
}

/* Refused changes: the named error, and no signal, no Generation. */
static void step_refused(Client *c, guint32 missing_id) {
        g_autoptr(GVariant) bad = rule_dict("action", g_variant_new_string("drop"),
                                            "port", g_variant_new_string("22"),
                                            NULL);
        g_autoptr(GVariant) good = rule_dict("action", g_variant_new_string("drop"),
                                             "protocol", g_variant_new_string("udp"),
                                             NULL);
        GVariant *rules[] = { good, bad };
        static const char *const expected[] = {
                PF_ERROR_PREFIX "InvalidRule", PF_ERROR_PREFIX "InvalidRule", PF_ERROR_PREFIX "NoSuchRule",
        };
        const char *const fields[] = { "port", "rule 1", NULL };

        step_begin(c, "refused changes: AddRule, AddRules with a bad 2nd rule, RemoveRule(%u)", missing_id);
        for (size_t i = 0; i < G_N_ELEMENTS(expected); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = NULL;
                g_autofree char *name = NULL;

                reply = i == 0 ? call_try(c, "AddRule", g_variant_new("(@a{sv})", bad), &error) :
                        i == 1 ? call_try(c, "AddRules", g_variant_new("(@aa{sv})", rules_array(rules, 2)), &error) :
                                 call_try(c, "RemoveRule", g_variant_new("(u)", missing_id), &error);
                if (reply)
                        die("refused change %zu succeeded", i);
                name = error_name(error);
                if (!g_str_equal(name, expected[i]))
                        die("error %s, expected %s (%s)", name, expected[i], error->message);
                if (fields[i] && !strstr(error->message, fields[i]))
                        die("the message does not name '%s': %s", fields[i], error->message);
                g_dbus_error_strip_remote_error(error);
                say("%s: %s", name, error->message);
        }
        settle(c, 0);
        step_end(c);
        say("no signal and the same Generation after refused changes");
}

/* The model the signals built is what the daemon has; the proxy's cache is what GetAll says. */
static void step_final(Client *c) {
        g_autoptr(GVariant) reply = NULL, list = NULL, all = NULL, props = NULL;
        GVariantIter iter;
        const char *name;
        GVariant *value;

        step_begin(c, "the model built from signals equals ListRules; the cache equals GetAll");
        reply = call(c, "ListRules", NULL);
        list = g_variant_get_child_value(reply, 0);
        if (g_variant_n_children(list) != g_hash_table_size(c->rules))
                die("ListRules has %zu rules, the model built from signals %u", g_variant_n_children(list),
                    g_hash_table_size(c->rules));
        for (size_t i = 0; i < g_variant_n_children(list); i++) {
                g_autoptr(GVariant) rule = g_variant_get_child_value(list, i);
                guint32 id = dict_u(rule, "id");
                GVariant *mine = g_hash_table_lookup(c->rules, GUINT_TO_POINTER(id));
                GVariantIter keys;
                const char *key;
                GVariant *v;

                if (!mine)
                        die("ListRules has rule %u, which no signal announced", id);
                g_variant_iter_init(&keys, rule);
                while (g_variant_iter_loop(&keys, "{&sv}", &key, &v)) {
                        g_autoptr(GVariant) known = NULL;

                        if (g_str_equal(key, "packets") || g_str_equal(key, "bytes"))
                                continue;
                        known = g_variant_lookup_value(mine, key, NULL);
                        if (!known || !g_variant_equal(known, v))
                                die("rule %u: ListRules says %s = %s, the signals said %s", id, key,
                                    g_variant_print(v, TRUE), known ? g_variant_print(known, TRUE) : "nothing");
                }
        }
        all = call_object(c, "org.freedesktop.DBus.Properties", "GetAll", g_variant_new("(s)", PF_INTERFACE),
                          G_VARIANT_TYPE("(a{sv})"));
        props = g_variant_get_child_value(all, 0);
        g_variant_iter_init(&iter, props);
        while (g_variant_iter_loop(&iter, "{&sv}", &name, &value)) {
                g_autoptr(GVariant) mine = cached(c, name);

                if (!g_variant_equal(mine, value))
                        die("GetAll says %s = %s, the proxy's cache %s", name, g_variant_print(value, TRUE),
                            g_variant_print(mine, TRUE));
        }
        step_end(c);
        say("%u rules, generation %" G_GUINT64_FORMAT ": the signals told the whole story",
            g_hash_table_size(c->rules), c->generation);
}

/* ---- main -------------------------------------------------------------------------------------- */

int main(int argc, char *argv[]) {
        g_autofree char *xml_path = NULL, *ifname = NULL;
        GOptionEntry options[] = {
                { "xml", 0, 0, G_OPTION_ARG_FILENAME, &xml_path, "The contract: org.example.PacketFilter1.xml", "FILE" },
                { "interface", 0, 0, G_OPTION_ARG_STRING, &ifname, "Also attach and detach this interface", "IFNAME" },
                { NULL },
        };
        g_autoptr(GOptionContext) context = g_option_context_new("- check packetfilterd the way a GUI uses it");
        g_autoptr(GError) error = NULL;
        g_autofree guint32 *three = NULL;
        guint32 first;

        g_option_context_add_main_entries(context, options, NULL);
        if (!g_option_context_parse(context, &argc, &argv, &error)) {
                fprintf(stderr, "%s\n", error->message);
                return 2;
        }

        g_log_set_writer_func(on_log, NULL, NULL);
        client.loop = g_main_loop_new(NULL, FALSE);
        client.rules = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify) g_variant_unref);
        g_queue_init(&client.events);
        (void) g_timeout_add_seconds(RUN_TIMEOUT_SEC, on_run_timeout, NULL);

        if (xml_path) {
                g_autofree char *xml = NULL;

                if (!g_file_get_contents(xml_path, &xml, NULL, &error))
                        die("cannot read the contract: %s", error->message);
                client.contract = g_dbus_node_info_new_for_xml(xml, &error);
                if (!client.contract)
                        die("cannot parse %s: %s", xml_path, error->message);
        }

        step_connect(&client);
        first = step_add_rule(&client);
        three = step_add_rules(&client);
        step_set_rule_enabled(&client, first);
        step_remove_rule(&client, three[0]);
        step_replace_rules(&client, "gui");
        step_block_expires(&client);
        step_bulk_at_bound(&client);
        step_bulk_past_bound(&client);
        step_default_action(&client);
        if (ifname)
                step_interfaces(&client, ifname);
        step_counters(&client);
        step_refused(&client, three[0]);
        step_final(&client);

        printf("[gui-client] PASS: %u steps, every change announced exactly once and in order\n", client.n_step);
        return EXIT_SUCCESS;
}
