/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pf-drop-watch: a GDBus client that subscribes to PacketDropped, the way a
 * GUI's "live drops" view would, and writes each signal as one JSON object
 * per line: the event's fields, plus "received" (CLOCK_MONOTONIC µs when the
 * client got it) and "sender" (the unique name that sent it).
 *
 *   pf-drop-watch --out FILE [--max-seconds S]
 *
 * Prints "subscribed" on stdout once the match is in place (a round trip to
 * the bus later), then runs until SIGTERM/SIGINT or S seconds (default 60).
 * FILE is written line by line and flushed after each signal.
 */
#include <gio/gio.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE *out;

static void on_packet_dropped(GDBusConnection *connection, const gchar *sender, const gchar *path,
                              const gchar *interface, const gchar *member, GVariant *parameters, gpointer userdata) {
        g_autoptr(GVariant) event = NULL;
        g_autoptr(GString) line = g_string_new("{");
        GVariantIter iter;
        const gchar *key;
        GVariant *value;

        if (!g_variant_is_of_type(parameters, G_VARIANT_TYPE("(a{sv})"))) {
                fprintf(stderr, "pf-drop-watch: PacketDropped with signature %s\n",
                        g_variant_get_type_string(parameters));
                return;
        }
        event = g_variant_get_child_value(parameters, 0);
        g_string_append_printf(line, "\"received\": %" G_GINT64_FORMAT ", \"sender\": \"%s\"",
                               g_get_monotonic_time(), sender);
        g_variant_iter_init(&iter, event);
        while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
                g_autofree gchar *k = g_strescape(key, NULL);

                g_string_append_printf(line, ", \"%s\": ", k);
                if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
                        g_autofree gchar *s = g_strescape(g_variant_get_string(value, NULL), NULL);

                        g_string_append_printf(line, "\"%s\"", s);
                } else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
                        g_string_append_printf(line, "%u", g_variant_get_uint32(value));
                else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64))
                        g_string_append_printf(line, "%" G_GUINT64_FORMAT, g_variant_get_uint64(value));
                else {
                        g_autofree gchar *t = g_variant_print(value, TRUE);
                        g_autofree gchar *s = g_strescape(t, NULL);

                        /* An unexpected type: kept as text, so the test can name it. */
                        g_string_append_printf(line, "{\"unexpected-type\": \"%s\"}", s);
                }
                g_variant_unref(value);
        }
        g_string_append(line, "}\n");
        fputs(line->str, out);
        fflush(out);
}

static gboolean on_stop(gpointer loop) {
        g_main_loop_quit(loop);
        return G_SOURCE_REMOVE;
}

int main(int argc, char *argv[]) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GDBusConnection) bus = NULL;
        g_autoptr(GMainLoop) loop = NULL;
        g_autofree gchar *out_path = NULL;
        gint max_seconds = 60;
        GOptionEntry entries[] = {
                { "out", 0, 0, G_OPTION_ARG_FILENAME, &out_path, "Where to write the events", "FILE" },
                { "max-seconds", 0, 0, G_OPTION_ARG_INT, &max_seconds, "Stop after S seconds", "S" },
                {}
        };
        g_autoptr(GOptionContext) context = g_option_context_new("- record PacketDropped signals");
        guint id;

        g_option_context_add_main_entries(context, entries, NULL);
        if (!g_option_context_parse(context, &argc, &argv, &error) || !out_path || max_seconds <= 0) {
                fprintf(stderr, "pf-drop-watch: %s\n", error ? error->message : "--out FILE is required");
                return 2;
        }
        out = fopen(out_path, "we");
        if (!out) {
                perror("pf-drop-watch: open");
                return 1;
        }

        bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
        if (!bus) {
                fprintf(stderr, "pf-drop-watch: %s\n", error->message);
                return 1;
        }
        id = g_dbus_connection_signal_subscribe(bus, "org.example.PacketFilter", "org.example.PacketFilter1",
                                                "PacketDropped", "/org/example/PacketFilter", NULL,
                                                G_DBUS_SIGNAL_FLAGS_NONE, on_packet_dropped, NULL, NULL);
        /* A round trip: once it returns, the bus has our match rule. */
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                                "org.freedesktop.DBus", "GetId", NULL, NULL,
                                                                G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
        if (!reply) {
                fprintf(stderr, "pf-drop-watch: %s\n", error->message);
                return 1;
        }
        printf("subscribed\n");
        fflush(stdout);

        loop = g_main_loop_new(NULL, FALSE);
        g_unix_signal_add(SIGTERM, on_stop, loop);
        g_unix_signal_add(SIGINT, on_stop, loop);
        g_timeout_add_seconds((guint) max_seconds, on_stop, loop);
        g_main_loop_run(loop);

        g_dbus_connection_signal_unsubscribe(bus, id);
        fclose(out);
        return 0;
}
