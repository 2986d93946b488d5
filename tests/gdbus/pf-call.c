/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pf-call: one call to org.example.PacketFilter1 with arguments written as GVariant
 * text, for shell tests that need what busctl and dbus-send cannot give: the D-Bus
 * error name of a failure (busctl shows only the message), dictionaries of variants
 * with any types or repeated keys (dbus-send cannot), and arguments larger than one
 * command-line word may be (read from stdin).
 *
 *   pf-call METHOD [ARGS]    ARGS: the argument tuple, e.g. "({'action': <'drop'>},)"
 *                            or "(uint32 7,)"; "-" reads it from stdin; none: ()
 *
 * On success prints the reply (GVariant text with types) and exits 0. On a D-Bus error
 * prints "ERROR-NAME: message" and exits 1. Anything else (bad usage, no bus): exit 2.
 */
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>

#define PF_BUS_NAME "org.example.PacketFilter"
#define PF_OBJECT_PATH "/org/example/PacketFilter"
#define PF_INTERFACE "org.example.PacketFilter1"
#define CALL_TIMEOUT_MS 120000

static char *read_stdin(void) {
        g_autoptr(GString) text = g_string_new(NULL);
        char buffer[65536];
        size_t n;

        while ((n = fread(buffer, 1, sizeof(buffer), stdin)) > 0)
                g_string_append_len(text, buffer, (gssize) n);
        if (ferror(stdin))
                return NULL;
        return g_string_free(g_steal_pointer(&text), FALSE);
}

int main(int argc, char *argv[]) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GDBusConnection) bus = NULL;
        g_autoptr(GVariant) args = NULL, reply = NULL;
        g_autofree char *text = NULL, *printed = NULL, *name = NULL;

        if (argc < 2 || argc > 3) {
                fprintf(stderr, "usage: %s METHOD [ARGS | -]\n", argv[0]);
                return 2;
        }
        if (argc == 3) {
                text = g_str_equal(argv[2], "-") ? read_stdin() : g_strdup(argv[2]);
                if (!text) {
                        fprintf(stderr, "pf-call: cannot read the arguments from stdin\n");
                        return 2;
                }
                args = g_variant_parse(NULL, text, NULL, NULL, &error);
                if (!args || !g_variant_is_of_type(args, G_VARIANT_TYPE_TUPLE)) {
                        fprintf(stderr, "pf-call: the arguments must be a GVariant tuple: %s\n",
                                error ? error->message : g_variant_get_type_string(args));
                        return 2;
                }
        }

        bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
        if (!bus) {
                fprintf(stderr, "pf-call: cannot connect to the system bus: %s\n", error->message);
                return 2;
        }
        reply = g_dbus_connection_call_sync(bus, PF_BUS_NAME, PF_OBJECT_PATH, PF_INTERFACE, argv[1],
                                            g_steal_pointer(&args), NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                            CALL_TIMEOUT_MS, NULL, &error);
        if (!reply) {
                name = g_dbus_error_get_remote_error(error);
                if (!name) {
                        fprintf(stderr, "pf-call: %s failed: %s\n", argv[1], error->message);
                        return 2;
                }
                g_dbus_error_strip_remote_error(error);
                printf("%s: %s\n", name, error->message);
                return 1;
        }
        printed = g_variant_print(reply, TRUE);
        printf("%s\n", printed);
        return 0;
}
