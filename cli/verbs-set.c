/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * packetfilterctl set COMMAND: named address sets, which rules match with
 * from-set and to-set (CreateSet, DeleteSet, AddToSet, RemoveFromSet,
 * ImportSet, ExportSet, ListSets). Files travel as file descriptors: the
 * daemon reads an import and writes an export itself, so this side never
 * parses entries; the daemon judges them and names what is wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bus-util.h"
#include "format.h"
#include "packetfilterctl.h"
#include "polkit-agent.h"
#include "verbs.h"

/*
 * An import may read up to 256 MiB from a slow pipe (curl | ...), and an
 * export may write into a pipe read slowly (| less): far longer than a method
 * call's usual timeout.
 */
#define SET_TRANSFER_TIMEOUT_USEC (30 * 60 * USEC_PER_SEC)

/* Import progress shows once the call has taken this long, redrawn this often. */
#define PROGRESS_DELAY_USEC (1 * USEC_PER_SEC)
#define PROGRESS_INTERVAL_USEC (100 * UINT64_C(1000))
#define PROGRESS_BAR_WIDTH 20

static uint64_t now_monotonic_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

/* Appending an fd fails so on a connection that cannot pass fds: over SSH (-H), systemd-stdio-bridge cannot. */
static int fd_append_error(int r, const char *what) {
        if (r == -EOPNOTSUPP)
                return cli_error_errno(r, "Failed to pass %s: this connection to the bus cannot pass file descriptors%s.",
                                       what, arg_host ? " (-H goes over SSH)" : "");
        return cli_error_errno(r, "Failed to append the arguments: %m");
}

/* Appends an as from words. */
static int append_entries(sd_bus_message *m, char *const *entries, size_t n) {
        int r;

        r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "s");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append_basic(m, SD_BUS_TYPE_STRING, entries[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

int verb_set_create(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *name = argv[1];
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = new_method_call(bus, "CreateSet", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
        if (r >= 0 && arg_comment)
                r = sd_bus_message_append(m, "{sv}", "comment", "s", arg_comment);
        /* 0 is the daemon's default (entries never expire): no need to send it. */
        if (r >= 0 && arg_timeout_sec > 0)
                r = sd_bus_message_append(m, "{sv}", "default-timeout", "u", (uint32_t) arg_timeout_sec);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return cli_error_errno(r, "Failed to append the set's options: %m");

        r = sd_bus_call(bus, m, 0, &error, NULL);
        if (r < 0)
                return cli_error_errno(r, "Failed to create set '%s': %s", name, bus_error_message(&error, r));
        return 0;
}

int verb_set_delete(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *name = argv[1];
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = bus_call(bus, "DeleteSet", &error, NULL, "s", name);
        if (r < 0)
                return cli_error_errno(r, "Failed to delete set '%s': %s", name, bus_error_message(&error, r));
        return 0;
}

int verb_set_add(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *name = argv[1];
        uint32_t added;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        /* All entries in one call: all are added, or none when one is bad. */
        r = new_method_call(bus, "AddToSet", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = append_entries(m, argv + 2, argc - 2);
        /* 0: the set's default timeout. */
        if (r >= 0)
                r = sd_bus_message_append(m, "u", (uint32_t) arg_timeout_sec);
        if (r < 0)
                return cli_error_errno(r, "Failed to append the entries: %m");

        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return cli_error_errno(r, "Failed to add to set '%s': %s", name, bus_error_message(&error, r));

        r = sd_bus_message_read(reply, "u", &added);
        if (r < 0)
                return cli_error_errno(r, "Failed to parse the reply to AddToSet: %m");

        return print_reply_number("added", added);
}

int verb_set_remove(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *name = argv[1];
        uint32_t removed;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = new_method_call(bus, "RemoveFromSet", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = append_entries(m, argv + 2, argc - 2);
        if (r < 0)
                return cli_error_errno(r, "Failed to append the entries: %m");

        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return cli_error_errno(r, "Failed to remove from set '%s': %s", name, bus_error_message(&error, r));

        r = sd_bus_message_read(reply, "u", &removed);
        if (r < 0)
                return cli_error_errno(r, "Failed to parse the reply to RemoveFromSet: %m");

        return print_reply_number("removed", removed);
}

/*
 * Progress of an import on stderr, once it takes longer than a second and
 * only on a terminal. The daemon reads through the same open file
 * description as our fd, so for a regular file our file offset is how far it
 * got; for a pipe or socket there is no telling: a spinner and the time.
 */
typedef struct Progress {
        const char *what;
        int fd;
        bool regular;
        off_t start, size;
        uint64_t started_usec;
        unsigned frame;
        bool shown;
} Progress;

static void progress_init(Progress *p, const char *what, int fd) {
        struct stat st;

        *p = (Progress) {
                .what = what,
                .fd = fd,
                .started_usec = now_monotonic_usec(),
        };
        if (fstat(fd, &st) >= 0 && S_ISREG(st.st_mode)) {
                off_t offset = lseek(fd, 0, SEEK_CUR);

                if (offset >= 0) {
                        p->regular = true;
                        p->start = offset;
                        p->size = st.st_size > offset ? st.st_size : offset;
                }
        }
}

static void progress_draw(Progress *p) {
        char elapsed[FORMAT_BUFFER_MAX];
        uint64_t usec = now_monotonic_usec() - p->started_usec;

        /* A polkit agent may be asking for a password on this terminal. */
        if (usec < PROGRESS_DELAY_USEC || !isatty(STDERR_FILENO) || polkit_agent_running())
                return;
        (void) snprintf(elapsed, sizeof(elapsed), "%" PRIu64 ".%" PRIu64 "s", usec / USEC_PER_SEC,
                        usec % USEC_PER_SEC / 100000);

        if (p->regular) {
                char done_text[FORMAT_BUFFER_MAX], total_text[FORMAT_BUFFER_MAX], bar[PROGRESS_BAR_WIDTH + 1];
                off_t offset = lseek(p->fd, 0, SEEK_CUR);
                uint64_t total = (uint64_t) (p->size - p->start), done;
                unsigned percent, filled;

                if (offset < p->start)
                        offset = p->start;
                if (offset > p->size)
                        offset = p->size;
                done = (uint64_t) (offset - p->start);
                percent = total > 0 ? (unsigned) (done * 100 / total) : 100;
                filled = percent * PROGRESS_BAR_WIDTH / 100;
                memset(bar, '#', filled);
                memset(bar + filled, '.', PROGRESS_BAR_WIDTH - filled);
                bar[PROGRESS_BAR_WIDTH] = '\0';

                if (done >= total)
                        /* All read: the daemon checks and applies the entries now. */
                        fprintf(stderr, "\r%s: [%s] 100%% read, applying... %s\033[K", p->what, bar, elapsed);
                else
                        fprintf(stderr, "\r%s: [%s] %3u%% (%s of %s) %s\033[K", p->what, bar, percent,
                                format_bytes(done_text, sizeof(done_text), done),
                                format_bytes(total_text, sizeof(total_text), total), elapsed);
        } else {
                static const char frames[] = "|/-\\";

                fprintf(stderr, "\r%s: %c %s\033[K", p->what, frames[p->frame++ % 4], elapsed);
        }
        (void) fflush(stderr);
        p->shown = true;
}

static void progress_done(Progress *p) {
        if (!p->shown)
                return;
        fputs("\r\033[K", stderr);
        (void) fflush(stderr);
        p->shown = false;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        sd_bus_message **reply = userdata;

        *reply = sd_bus_message_ref(m);
        return 0;
}

/* sd_bus_call(), but asynchronous, so that progress can be drawn while the daemon works. */
static int call_with_progress(sd_bus *bus, sd_bus_message *m, Progress *progress, sd_bus_error *error,
                              sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_async(bus, &slot, m, on_reply, &reply, SET_TRANSFER_TIMEOUT_USEC);
        if (r < 0)
                return r;

        /* On a timeout, sd-bus itself answers with an error reply. */
        while (!reply) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, PROGRESS_INTERVAL_USEC);
                if (r < 0 && r != -EINTR)
                        break;
                progress_draw(progress);
        }
        progress_done(progress);
        if (!reply)
                return r < 0 ? r : -EIO;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                r = sd_bus_error_copy(error, sd_bus_message_get_error(reply));
                return r < 0 ? r : -EIO;
        }

        *ret_reply = TAKE_PTR(reply);
        return 0;
}

int verb_set_import(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_close_ int file_fd = -1;
        const char *name = argv[1], *path = argv[2];
        bool from_stdin = streq(path, "-");
        const char *what = from_stdin ? "stdin" : path;
        uint32_t added, skipped;
        Progress progress;
        struct stat st;
        int fd, r;

        if (from_stdin) {
                /* The daemon would read the terminal until ^D, with no prompt: surely not what was meant. */
                if (isatty(STDIN_FILENO))
                        return cli_usage_error("'-' reads the entries from stdin, which is a terminal: "
                                               "pipe them in or name a file.");
                fd = STDIN_FILENO;
        } else {
                file_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (file_fd < 0)
                        return cli_error_errno(negative_errno(), "Failed to open %s: %m", path);
                fd = file_fd;
        }
        if (fstat(fd, &st) < 0)
                return cli_error_errno(negative_errno(), "Failed to read %s: %m", what);
        if (S_ISDIR(st.st_mode))
                return cli_error_errno(-EISDIR, "Failed to read %s: %m", what);

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = new_method_call(bus, "ImportSet", &m);
        if (r < 0)
                return r;
        /* sd-bus sends a duplicate of fd: the same open file description, so the same offset. */
        r = sd_bus_message_append(m, "sh", name, fd);
        if (r < 0)
                return fd_append_error(r, what);
        r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
        if (r >= 0 && arg_replace)
                r = sd_bus_message_append(m, "{sv}", "replace", "b", 1);
        if (r >= 0 && arg_skip_invalid)
                r = sd_bus_message_append(m, "{sv}", "skip-invalid", "b", 1);
        if (r >= 0 && arg_timeout_sec > 0)
                r = sd_bus_message_append(m, "{sv}", "timeout", "u", (uint32_t) arg_timeout_sec);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return cli_error_errno(r, "Failed to append the import's arguments: %m");

        progress_init(&progress, what, fd);
        r = call_with_progress(bus, m, &progress, &error, &reply);
        if (r < 0)
                return cli_error_errno(r, "Failed to import %s into set '%s': %s", what, name,
                                       bus_error_message(&error, r));

        r = sd_bus_message_read(reply, "uu", &added, &skipped);
        if (r < 0)
                return cli_error_errno(r, "Failed to parse the reply to ImportSet: %m");

        if (arg_json) {
                _cleanup_json_ json_object *o = json_object_new_object();

                if (!o || json_object_object_add(o, "added", json_object_new_int64(added)) < 0 ||
                    json_object_object_add(o, "skipped", json_object_new_int64(skipped)) < 0)
                        return cli_oom();
                return json_print(o);
        }

        printf("added: %" PRIu32 "\nskipped: %" PRIu32 "\n", added, skipped);
        if (fflush(stdout) != 0)
                return cli_error_errno(negative_errno(), "Failed to write output: %m");
        return 0;
}

int verb_set_export(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_close_ int file_fd = -1;
        const char *name = argv[1], *path = argc > 2 ? argv[2] : "-";
        bool to_stdout = streq(path, "-"), created = false;
        uint32_t written;
        int r;

        if (!to_stdout) {
                /* As the shell's '>' would, but a file that did not exist is removed again on failure. */
                file_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
                if (file_fd >= 0)
                        created = true;
                else if (errno == EEXIST)
                        file_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
                if (file_fd < 0)
                        return cli_error_errno(negative_errno(), "Failed to create %s: %m", path);
        }

        r = bus_connect(&bus);
        if (r >= 0)
                r = new_method_call(bus, "ExportSet", &m);
        if (r >= 0) {
                r = sd_bus_message_append(m, "sh", name, to_stdout ? STDOUT_FILENO : file_fd);
                if (r < 0)
                        (void) fd_append_error(r, to_stdout ? "stdout" : path);
        }
        if (r >= 0) {
                r = sd_bus_call(bus, m, SET_TRANSFER_TIMEOUT_USEC, &error, &reply);
                if (r < 0)
                        (void) cli_error_errno(r, "Failed to export set '%s': %s", name,
                                               bus_error_message(&error, r));
        }
        if (r >= 0) {
                r = sd_bus_message_read(reply, "u", &written);
                if (r < 0)
                        (void) cli_error_errno(r, "Failed to parse the reply to ExportSet: %m");
        }
        if (r < 0) {
                if (created)
                        (void) unlink(path);
                return r;
        }

        /* The entries went where stdout goes: nothing else may go there. */
        if (file_fd >= 0 && close(TAKE_FD(file_fd)) < 0)
                return cli_error_errno(negative_errno(), "Failed to write %s: %m", path);
        return 0;
}

static const char *json_string(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* A number as text ("" when absent): ENTRIES, HITS. */
static const char *json_number(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) ||
            !(json_object_is_type(v, json_type_int)))
                return "";
        return json_object_get_string(v);
}

/* "3,7,12": the ids of the rules that use the set; "-" for none. */
static char *format_rule_ids(json_object *o) {
        json_object *rules;
        char *text = NULL;
        size_t size = 0;
        FILE *f;

        if (!json_object_object_get_ex(o, "rules", &rules) || !json_object_is_type(rules, json_type_array) ||
            json_object_array_length(rules) == 0)
                return strdup("-");

        f = open_memstream(&text, &size);
        if (!f)
                return NULL;
        for (size_t i = 0; i < json_object_array_length(rules); i++)
                fprintf(f, "%s%s", i > 0 ? "," : "", json_object_get_string(json_object_array_get_idx(rules, i)));
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

static int set_table_add(Table *t, json_object *set) {
        _cleanup_free_ char *rules = format_rule_ids(set);
        char timeout[FORMAT_BUFFER_MAX] = "";
        json_object *v;

        if (!rules)
                return -ENOMEM;
        if (json_object_object_get_ex(set, "default-timeout", &v) && json_object_is_type(v, json_type_int)) {
                int64_t seconds = json_object_get_int64(v);

                if (seconds <= 0)
                        (void) snprintf(timeout, sizeof(timeout), "never");
                else
                        (void) format_duration_sec(timeout, sizeof(timeout), (uint64_t) seconds);
        }

        const char *cells[] = {
                strna(json_string(set, "name")),
                json_number(set, "entries"),
                json_number(set, "hits"),
                timeout,
                json_string(set, "comment") ?: "",
                rules,
        };
        return table_add_row(t, cells);
}

int verb_set_list(int argc, char *argv[]) {
        static const char *const headers[] = { "NAME", "ENTRIES", "HITS", "TIMEOUT", "COMMENT", "RULES" };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(table_freep) Table *table = NULL;
        _cleanup_json_ json_object *sets = NULL;
        size_t n;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;

        r = bus_call(bus, "ListSets", &error, &reply, "");
        if (r < 0)
                return cli_error_errno(r, "Failed to list sets: %s", bus_error_message(&error, r));

        /* aa{sv}: an array of objects with the daemon's keys, as --json prints it. */
        r = bus_message_read_json(reply, &sets);
        if (r >= 0 && !json_object_is_type(sets, json_type_array))
                r = -EBADMSG;
        if (r < 0)
                return cli_error_errno(r, "Failed to parse the list of sets: %m");

        if (arg_json)
                return json_print(sets);

        n = json_object_array_length(sets);
        if (n == 0) {
                puts("No sets.");
                return 0;
        }

        table = table_new(ELEMENTSOF(headers), headers);
        if (!table)
                return cli_oom();
        table_set_right_aligned(table, 1, true);
        table_set_right_aligned(table, 2, true);

        for (size_t i = 0; i < n; i++) {
                json_object *set = json_object_array_get_idx(sets, i);

                if (!json_object_is_type(set, json_type_object))
                        return cli_error_errno(-EBADMSG, "Failed to parse the list of sets: %m");
                r = set_table_add(table, set);
                if (r < 0)
                        return cli_oom();
        }

        return print_table(table);
}
