/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pf-call: one call to org.example.PacketFilter1 with arguments written as GVariant
 * text, for shell tests that need what busctl and dbus-send cannot give: the D-Bus
 * error name of a failure (busctl shows only the message), dictionaries of variants
 * with any types or repeated keys (dbus-send cannot), and arguments larger than one
 * command-line word may be (read from stdin).
 *
 *   pf-call [OPTIONS] METHOD [ARGS]
 *                            ARGS: the argument tuple, e.g. "({'action': <'drop'>},)"
 *                            or "(uint32 7,)"; "-" reads it from stdin; none: ()
 *   --fd FILE                open FILE for reading and pass it along with the call, as the
 *                            next index of the message's fd list: the first --fd or --fd-out
 *                            is "handle 0" in ARGS, the next "handle 1" (ImportSet)
 *   --fd-out FILE            the same for a FILE created (or truncated) for writing (ExportSet)
 *   --time                   print "pf-call: METHOD took S s" on stderr: the call alone, from
 *                            sending it to its reply (not the connection, not the parsing)
 *
 * On success prints the reply (GVariant text with types) and exits 0. On a D-Bus error
 * prints "ERROR-NAME: message" and exits 1. Anything else (bad usage, no bus): exit 2.
 */
#include <fcntl.h>
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int usage(const char *argv0) {
        fprintf(stderr, "usage: %s [--fd FILE | --fd-out FILE]... [--time] METHOD [ARGS | -]\n", argv0);
        return 2;
}

int main(int argc, char *argv[]) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GDBusConnection) bus = NULL;
        g_autoptr(GVariant) args = NULL, reply = NULL;
        g_autoptr(GUnixFDList) fds = g_unix_fd_list_new();
        g_autofree char *text = NULL, *printed = NULL, *name = NULL;
        const char *method;
        gboolean timed = FALSE;
        gint64 start;
        int i;

        for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
                if (g_str_equal(argv[i], "--time")) {
                        timed = TRUE;
                } else if ((g_str_equal(argv[i], "--fd") || g_str_equal(argv[i], "--fd-out")) && i + 1 < argc) {
                        gboolean out = g_str_equal(argv[i], "--fd-out");
                        int fd = open(argv[i + 1], out ? O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC : O_RDONLY | O_CLOEXEC,
                                      0644);

                        if (fd < 0) {
                                fprintf(stderr, "pf-call: cannot open %s: %m\n", argv[i + 1]);
                                return 2;
                        }
                        /* The list keeps a duplicate. */
                        if (g_unix_fd_list_append(fds, fd, &error) < 0) {
                                fprintf(stderr, "pf-call: cannot pass %s: %s\n", argv[i + 1], error->message);
                                close(fd);
                                return 2;
                        }
                        close(fd);
                        i++;
                } else
                        return usage(argv[0]);
        }
        if (i >= argc || argc - i > 2)
                return usage(argv[0]);
        method = argv[i];
        if (argc - i == 2) {
                text = g_str_equal(argv[i + 1], "-") ? read_stdin() : g_strdup(argv[i + 1]);
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
        start = g_get_monotonic_time();
        reply = g_dbus_connection_call_with_unix_fd_list_sync(bus, PF_BUS_NAME, PF_OBJECT_PATH, PF_INTERFACE, method,
                                                              g_steal_pointer(&args), NULL,
                                                              G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS,
                                                              g_unix_fd_list_get_length(fds) > 0 ? fds : NULL,
                                                              NULL, NULL, &error);
        if (timed)
                fprintf(stderr, "pf-call: %s took %.6f s\n", method, (double) (g_get_monotonic_time() - start) / 1e6);
        if (!reply) {
                name = g_dbus_error_get_remote_error(error);
                if (!name) {
                        fprintf(stderr, "pf-call: %s failed: %s\n", method, error->message);
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
