/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The live views of drops: packetfilterctl monitor (each PacketDropped
 * signal as it comes, one line or one JSON object each) and packetfilterctl
 * top (the rules and sources with the most drops, redrawn each second).
 * Both subscribe with a match rule and run until SIGINT or SIGTERM (exit 0),
 * or until the bus goes away (exit 1).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "bus-util.h"
#include "format.h"
#include "monitor.h"
#include "packetfilterctl.h"

#define TOP_ROWS 10
#define TOP_SOURCES_MAX 4096            /* distinct sources kept; the rest count as "(others)" */

/* One PacketDropped event, as its fields. */
struct drop_event {
        uint64_t time_usec;
        const char *interface, *source, *destination, *protocol, *reason;
        uint32_t port, rule, count;
};

static uint64_t json_u64(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) ? (uint64_t) json_object_get_uint64(v) : 0;
}

static const char *json_str(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
                json_object_get_string(v) : "";
}

static void drop_event_from_json(json_object *o, struct drop_event *ret) {
        *ret = (struct drop_event) {
                .time_usec = json_u64(o, "time"),
                .interface = json_str(o, "interface"),
                .source = json_str(o, "source"),
                .destination = json_str(o, "destination"),
                .protocol = json_str(o, "protocol"),
                .reason = json_str(o, "reason"),
                .port = (uint32_t) json_u64(o, "port"),
                .rule = (uint32_t) json_u64(o, "rule"),
                .count = (uint32_t) json_u64(o, "count"),
        };
}

static const char *format_time_of_day(uint64_t usec, char buf[static 32]) {
        time_t sec = (time_t) (usec / 1000000);
        struct tm tm;

        if (!localtime_r(&sec, &tm) || strftime(buf, 32, "%H:%M:%S", &tm) == 0)
                return strcpy(buf, "?");
        (void) snprintf(buf + strlen(buf), 32 - strlen(buf), ".%03u", (unsigned) (usec / 1000 % 1000));
        return buf;
}

/* "12:00:01.250 veth0 192.0.2.2 -> 192.0.2.1 udp 9999 rule 3 count 120 (rate-limit)" */
static void print_event_line(const struct drop_event *e) {
        char when[32], rule[16];

        if (e->rule)
                (void) snprintf(rule, sizeof(rule), "rule %" PRIu32, e->rule);
        else
                (void) snprintf(rule, sizeof(rule), "default");
        printf("%s %s %s -> %s %s", format_time_of_day(e->time_usec, when), *e->interface ? e->interface : "-",
               *e->source ? e->source : "*", *e->destination ? e->destination : "*",
               *e->protocol ? e->protocol : "-");
        if (e->port)
                printf(" %" PRIu32, e->port);
        printf(" %s count %" PRIu32 " (%s)\n", rule, e->count, *e->reason ? e->reason : "?");
}

/* ---- The common loop ------------------------------------------------------------------------- */

typedef struct Watch {
        sd_event *event;
        sd_bus *bus;
        void (*on_event)(struct Watch *w, json_object *event);
        int error;                      /* set when output failed */
        /* top */
        struct counted *rules, *sources;
        size_t n_rules, n_sources;
        uint64_t others;
        uint64_t events;
        uint64_t start_usec;            /* CLOCK_REALTIME */
} Watch;

struct counted {
        char key[64];
        uint64_t drops;
};

static int on_packet_dropped(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Watch *w = userdata;
        _cleanup_json_ json_object *event = NULL;
        int r;

        r = bus_message_read_json(m, &event);
        if (r < 0 || !json_object_is_type(event, json_type_object)) {
                cli_error("Ignoring a PacketDropped signal that is not an a{sv}.");
                return 0;
        }
        w->on_event(w, event);
        if (ferror(stdout) || fflush(stdout) != 0) {
                w->error = cli_error_errno(negative_errno(), "Failed to write output: %m");
                return sd_event_exit(w->event, 1);
        }
        return 0;
}

static int on_bus_closed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Watch *w = userdata;

        cli_error("The bus connection was closed.");
        w->error = -ECONNRESET;
        return sd_event_exit(w->event, 1);
}

/* Subscribes and runs until a signal; r of the loop: 0 after SIGINT/SIGTERM. */
static int watch_run(Watch *w, int (*on_tick)(sd_event_source *s, uint64_t usec, void *userdata)) {
        _cleanup_(sd_event_source_unrefp) sd_event_source *tick = NULL;
        sigset_t mask;
        int r;

        r = bus_connect(&w->bus);
        if (r < 0)
                return r;
        r = sd_event_default(&w->event);
        if (r < 0)
                return cli_error_errno(r, "Failed to allocate the event loop: %m");

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        r = sd_event_add_signal(w->event, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(w->event, NULL, SIGTERM, NULL, NULL);
        if (r < 0)
                return cli_error_errno(r, "Failed to handle signals: %m");

        /* From the service's well-known name: the bus resolves it to the daemon's connection. */
        r = sd_bus_match_signal(w->bus, NULL, PF_BUS_NAME, PF_OBJECT_PATH, PF_INTERFACE, "PacketDropped",
                                on_packet_dropped, w);
        if (r >= 0)
                r = sd_bus_match_signal(w->bus, NULL, "org.freedesktop.DBus.Local", NULL,
                                        "org.freedesktop.DBus.Local", "Disconnected", on_bus_closed, w);
        if (r < 0)
                return cli_error_errno(r, "Failed to subscribe to PacketDropped: %m");
        r = sd_bus_attach_event(w->bus, w->event, 0);
        if (r < 0)
                return cli_error_errno(r, "Failed to attach the bus to the event loop: %m");

        if (on_tick) {
                uint64_t now;

                (void) sd_event_now(w->event, CLOCK_MONOTONIC, &now);
                r = sd_event_add_time(w->event, &tick, CLOCK_MONOTONIC, now + 1000000, 10000, on_tick, w);
                if (r >= 0)
                        r = sd_event_source_set_enabled(tick, SD_EVENT_ON);
                if (r < 0)
                        return cli_error_errno(r, "Failed to add a timer: %m");
        }

        /* Say it once on stderr, so that a person knows the command is waiting. */
        if (isatty(STDERR_FILENO) && !arg_json)
                fprintf(stderr, "Waiting for dropped packets; Ctrl-C stops.\n");

        r = sd_event_loop(w->event);
        if (r < 0)
                return cli_error_errno(r, "Event loop failed: %m");
        return r == 0 ? 0 : (w->error < 0 ? w->error : -EIO);
}

static void watch_done(Watch *w) {
        sd_bus_flush_close_unref(w->bus);
        sd_event_unref(w->event);
        free(w->rules);
        free(w->sources);
}

/* ---- monitor --------------------------------------------------------------------------------- */

static void monitor_on_event(Watch *w, json_object *event) {
        struct drop_event e;

        if (arg_json) {
                const char *text = json_object_to_json_string_ext(event, JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE);

                if (text)
                        puts(text);
                return;
        }
        drop_event_from_json(event, &e);
        print_event_line(&e);
}

int verb_monitor(int argc, char *argv[]) {
        _cleanup_(watch_done) Watch w = { .on_event = monitor_on_event };

        setvbuf(stdout, NULL, _IOLBF, 0);
        return watch_run(&w, NULL);
}

/* ---- top ------------------------------------------------------------------------------------- */

static int count_add(struct counted **list, size_t *n, size_t max, const char *key, uint64_t drops) {
        struct counted *grown;

        for (size_t i = 0; i < *n; i++)
                if (streq((*list)[i].key, key)) {
                        (*list)[i].drops += drops;
                        return 0;
                }
        if (*n >= max)
                return -E2BIG;
        grown = reallocarray(*list, *n + 1, sizeof(struct counted));
        if (!grown)
                return -ENOMEM;
        *list = grown;
        snprintf(grown[*n].key, sizeof(grown[*n].key), "%s", key);
        grown[(*n)++].drops = drops;
        return 0;
}

static int compare_drops(const void *a, const void *b) {
        const struct counted *x = a, *y = b;

        return x->drops < y->drops ? 1 : x->drops > y->drops ? -1 : strcmp(x->key, y->key);
}

static void top_on_event(Watch *w, json_object *event) {
        struct drop_event e;
        char rule[16];

        drop_event_from_json(event, &e);
        w->events++;
        if (e.rule)
                (void) snprintf(rule, sizeof(rule), "%" PRIu32, e.rule);
        else
                (void) snprintf(rule, sizeof(rule), "default");
        (void) count_add(&w->rules, &w->n_rules, SIZE_MAX, rule, e.count);
        if (count_add(&w->sources, &w->n_sources, TOP_SOURCES_MAX, *e.source ? e.source : "(summary)", e.count) < 0)
                w->others += e.count;
}

static json_object *top_list_json(const struct counted *list, size_t n, const char *name) {
        _cleanup_json_ json_object *array = json_object_new_array();

        for (size_t i = 0; array && i < n && i < TOP_ROWS; i++) {
                json_object *o = json_object_new_object();

                if (!o || json_object_object_add(o, name, json_object_new_string(list[i].key)) < 0 ||
                    json_object_object_add(o, "drops", json_object_new_uint64(list[i].drops)) < 0 ||
                    json_object_array_add(array, o) < 0) {
                        json_object_put(o);
                        return NULL;
                }
        }
        return TAKE_PTR(array);
}

static void top_print_table(const char *title, const struct counted *list, size_t n) {
        printf("%-40s %12s\n", title, "DROPS");
        for (size_t i = 0; i < n && i < TOP_ROWS; i++)
                printf("%-40s %12" PRIu64 "\n", list[i].key, list[i].drops);
        if (n == 0)
                printf("%-40s %12s\n", "(none yet)", "");
        putchar('\n');
}

static int top_on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        Watch *w = userdata;
        bool redraw = isatty(STDOUT_FILENO) && !arg_json;
        char when[32];

        qsort(w->rules, w->n_rules, sizeof(struct counted), compare_drops);
        qsort(w->sources, w->n_sources, sizeof(struct counted), compare_drops);

        if (arg_json) {
                _cleanup_json_ json_object *o = json_object_new_object();

                if (!o || json_object_object_add(o, "time", json_object_new_uint64(
                                (uint64_t) time(NULL) * 1000000)) < 0 ||
                    json_object_object_add(o, "since", json_object_new_uint64(w->start_usec)) < 0 ||
                    json_object_object_add(o, "events", json_object_new_uint64(w->events)) < 0 ||
                    json_object_object_add(o, "rules", top_list_json(w->rules, w->n_rules, "rule")) < 0 ||
                    json_object_object_add(o, "sources", top_list_json(w->sources, w->n_sources, "source")) < 0)
                        return sd_event_exit(w->event, 1);
                puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        } else {
                if (redraw)
                        fputs("\033[H\033[2J", stdout);
                printf("packetfilter drops since %s, from %" PRIu64 " PacketDropped signal(s)\n\n",
                       format_time_of_day(w->start_usec, when), w->events);
                top_print_table("RULE", w->rules, w->n_rules);
                top_print_table("SOURCE", w->sources, w->n_sources);
                if (w->others)
                        printf("(%" PRIu64 " drops from further sources)\n", w->others);
                if (!redraw)
                        puts("--");
        }
        if (fflush(stdout) != 0) {
                w->error = cli_error_errno(negative_errno(), "Failed to write output: %m");
                return sd_event_exit(w->event, 1);
        }
        return sd_event_source_set_time(s, usec + 1000000);
}

int verb_top(int argc, char *argv[]) {
        _cleanup_(watch_done) Watch w = { .on_event = top_on_event, .start_usec = (uint64_t) time(NULL) * 1000000 };

        return watch_run(&w, top_on_tick);
}
