/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The D-Bus methods of named sets. Same shape as bus.c's handlers: read,
 * validate, authorize, act, reply. ImportSet and ExportSet take a file
 * descriptor: a regular file is read or written at once; a pipe or socket
 * is served from the event loop as data comes, without ever blocking the
 * daemon on a slow or stuck client, and the reply goes out at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus-errors.h"
#include "bus-set.h"
#include "bus.h"
#include "log.h"
#include "macro.h"
#include "set-file.h"

#define POLKIT_ACTION_MANAGE_RULES "org.example.packetfilter.manage-rules"
#define SET_FILE_SIZE_MAX (256u << 20)  /* bytes an import reads at most */
#define SET_JOBS_MAX 4                  /* imports and exports from pipes in flight at once */
#define SET_ENTRIES_PER_CALL_MAX (1u << 20)     /* AddToSet/RemoveFromSet entries */

static unsigned n_jobs;

static int polkit_check_set(Manager *m, sd_bus_message *msg, const char *name, sd_bus_error *error) {
        return polkit_verify(m->polkit, msg, POLKIT_ACTION_MANAGE_RULES,
                             (const char *const[]) { "set", name, NULL }, error);
}

static int bus_find_set(Manager *m, const char *name, Set **ret, sd_bus_error *error) {
        struct rule_error e = {};
        Set *set;

        if (set_name_check(name, "name", &e) < 0)
                return sd_bus_error_setf(error, PF_ERROR_INVALID_SET, "Invalid %s: %s.", e.field, e.reason);
        set = set_registry_find(m->sets, name);
        if (!set)
                return sd_bus_error_setf(error, PF_ERROR_NO_SUCH_SET, "There is no set named '%s'.", name);
        *ret = set;
        return 0;
}

static int set_change_error(int r, const char *name, sd_bus_error *error) {
        if (r == -E2BIG)
                return sd_bus_error_setf(error, PF_ERROR_LIMIT_EXCEEDED,
                                         "Set %s: the change would pass the limit of %u entries over all sets "
                                         "(or %u distinct combinations of sets).",
                                         name, PF_MAX_SET_ENTRIES, PF_MAX_MEMBERSHIPS);
        return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Failed to change set %s: %s.", name, strerror(-r));
}

/*
 * Options dictionaries: each key one type; unknown, repeated or mistyped keys are errors.
 * Reads into the given slots (NULL: key not accepted).
 */
struct set_options {
        const char *comment;
        uint32_t default_timeout;
        int replace, skip_invalid;
        uint32_t timeout;
        unsigned seen;
};

static int read_set_options(sd_bus_message *msg, const char *const *keys, struct set_options *o,
                            const char *error_name, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        for (;;) {
                const char *key, *contents;
                char type;
                unsigned k;

                r = sd_bus_message_enter_container(msg, 'e', "sv");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = sd_bus_message_read(msg, "s", &key);
                if (r < 0)
                        return r;
                for (k = 0; keys[k] && !streq(keys[k], key); k++)
                        ;
                if (!keys[k]) {
                        _cleanup_free_ char *list = NULL;
                        size_t len = 0;
                        FILE *f = open_memstream(&list, &len);

                        if (!f)
                                return -ENOMEM;
                        for (unsigned i = 0; keys[i]; i++)
                                fprintf(f, "%s%s", i ? ", " : "", keys[i]);
                        fclose(f);
                        return sd_bus_error_setf(error, error_name, "Invalid options: unknown key '%.64s' (keys: %s).",
                                                 key, list);
                }
                if (o->seen & (1u << k))
                        return sd_bus_error_setf(error, error_name, "Invalid %s: the key is given twice.", key);
                o->seen |= 1u << k;

                r = sd_bus_message_peek_type(msg, &type, &contents);
                if (r < 0)
                        return r;
                {
                        const char *want = streq(key, "comment") ? "s" :
                                           streq(key, "replace") || streq(key, "skip-invalid") ? "b" : "u";

                        if (!streq(contents, want))
                                return sd_bus_error_setf(error, error_name, "Invalid %s: the value must be of type '%s', not '%s'.",
                                                         key, want, contents);
                        if (streq(key, "comment"))
                                r = sd_bus_message_read(msg, "v", "s", &o->comment);
                        else if (streq(key, "default-timeout"))
                                r = sd_bus_message_read(msg, "v", "u", &o->default_timeout);
                        else if (streq(key, "timeout"))
                                r = sd_bus_message_read(msg, "v", "u", &o->timeout);
                        else if (streq(key, "replace"))
                                r = sd_bus_message_read(msg, "v", "b", &o->replace);
                        else
                                r = sd_bus_message_read(msg, "v", "b", &o->skip_invalid);
                }
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_exit_container(msg);
}

/* ---- CreateSet, DeleteSet ---------------------------------------------------------------------- */

int method_create_set(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        static const char *const keys[] = { "comment", "default-timeout", NULL };
        struct set_options o = {};
        Manager *m = userdata;
        struct rule_error e = {};
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = read_set_options(msg, keys, &o, PF_ERROR_INVALID_SET, error);
        if (r < 0)
                return r;
        if (set_name_check(name, "name", &e) < 0)
                return sd_bus_error_setf(error, PF_ERROR_INVALID_SET, "Invalid %s: %s.", e.field, e.reason);
        if (o.comment) {
                Rule probe = {};

                /* A comment takes the rules' checks: UTF-8, no control characters, 256 bytes at most. */
                r = rule_set_comment(&probe, o.comment, &e);
                free(probe.comment);
                if (r < 0)
                        return sd_bus_error_setf(error, PF_ERROR_INVALID_SET, "Invalid %s: %s.", e.field, e.reason);
        }
        if (set_registry_find(m->sets, name))
                return sd_bus_error_setf(error, PF_ERROR_SET_EXISTS, "A set named '%s' exists already.", name);

        r = polkit_check_set(m, msg, name, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = manager_set_create(m, name, o.comment, o.default_timeout);
        if (r == -EEXIST)
                return sd_bus_error_setf(error, PF_ERROR_SET_EXISTS, "A set named '%s' exists already.", name);
        if (r == -E2BIG)
                return sd_bus_error_setf(error, PF_ERROR_LIMIT_EXCEEDED, "Cannot create set '%s': %u sets exist, the most there can be.",
                                         name, PF_MAX_SETS);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Failed to create set '%s': %s.", name, strerror(-r));
        return sd_bus_reply_method_return(msg, NULL);
}

static int set_in_use_error(Manager *m, const Set *set, sd_bus_error *error) {
        _cleanup_free_ uint32_t *ids = NULL;
        _cleanup_free_ char *list = NULL;
        size_t n, len = 0;
        FILE *f;
        int r;

        r = manager_set_users(m, set, &ids, &n);
        if (r < 0)
                return r;
        f = open_memstream(&list, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < n && i < 32; i++)
                fprintf(f, "%s%u", i ? ", " : "", ids[i]);
        if (n > 32)
                fprintf(f, " and %zu more", n - 32);
        fclose(f);
        return sd_bus_error_setf(error, PF_ERROR_SET_IN_USE, "Set '%s' is in use by rule%s %s: remove %s first.",
                                 set->name, n == 1 ? "" : "s", list, n == 1 ? "it" : "them");
}

int method_delete_set(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_free_ uint32_t *users = NULL;
        Manager *m = userdata;
        const char *name;
        size_t n_users;
        Set *set;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = bus_find_set(m, name, &set, error);
        if (r < 0)
                return r;
        r = manager_set_users(m, set, &users, &n_users);
        if (r < 0)
                return r;
        if (n_users > 0)
                return set_in_use_error(m, set, error);

        r = polkit_check_set(m, msg, name, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = manager_set_delete(m, name);
        if (r == -EBUSY)
                return set_in_use_error(m, set, error);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, PF_ERROR_NO_SUCH_SET, "There is no set named '%s'.", name);
        if (r < 0)
                return set_change_error(r, name, error);
        return sd_bus_reply_method_return(msg, NULL);
}

/* ---- AddToSet, RemoveFromSet ------------------------------------------------------------------- */

/* Reads "as" entries: all valid, or an error naming the first bad one. */
static int read_entries(sd_bus_message *msg, struct prefix **ret, size_t *ret_n, sd_bus_error *error) {
        _cleanup_free_ struct prefix *v = NULL;
        size_t n = 0, allocated = 0;
        const char *s;
        int r;

        r = sd_bus_message_enter_container(msg, 'a', "s");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read_basic(msg, 's', &s)) > 0) {
                if (n >= SET_ENTRIES_PER_CALL_MAX)
                        return sd_bus_error_setf(error, PF_ERROR_LIMIT_EXCEEDED,
                                                 "More than %u entries in one call: use ImportSet.",
                                                 SET_ENTRIES_PER_CALL_MAX);
                if (n == allocated) {
                        size_t want = allocated ? allocated * 2 : 64;
                        struct prefix *a = reallocarray(v, want, sizeof(struct prefix));

                        if (!a)
                                return -ENOMEM;
                        v = a;
                        allocated = want;
                }
                r = set_file_parse_entry(s, &v[n]);
                if (r < 0)
                        return sd_bus_error_setf(error, PF_ERROR_INVALID_ADDRESS,
                                                 "entries[%zu]: '%.64s' is not an IPv4 or IPv6 address or prefix: %s.",
                                                 n, s, prefix_strerror(r));
                n++;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(msg);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

int method_add_to_set(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_free_ struct prefix *entries = NULL;
        Manager *m = userdata;
        const char *name;
        uint32_t timeout;
        size_t n, added;
        Set *set;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = read_entries(msg, &entries, &n, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "u", &timeout);
        if (r < 0)
                return r;
        r = bus_find_set(m, name, &set, error);
        if (r < 0)
                return r;

        r = polkit_check_set(m, msg, name, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = manager_set_add(m, set, entries, n, timeout, false, &added, NULL);
        if (r < 0)
                return set_change_error(r, name, error);
        return sd_bus_reply_method_return(msg, "u", (uint32_t) added);
}

int method_remove_from_set(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_free_ struct prefix *entries = NULL;
        Manager *m = userdata;
        const char *name;
        size_t n, removed;
        Set *set;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = read_entries(msg, &entries, &n, error);
        if (r < 0)
                return r;
        r = bus_find_set(m, name, &set, error);
        if (r < 0)
                return r;

        r = polkit_check_set(m, msg, name, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = manager_set_remove(m, set, entries, n, &removed);
        if (r < 0)
                return set_change_error(r, name, error);
        return sd_bus_reply_method_return(msg, "u", (uint32_t) removed);
}

/* ---- ImportSet, ExportSet --------------------------------------------------------------------- */

typedef struct SetJob {
        Manager *manager;
        sd_bus_message *msg;            /* the call, answered at the end */
        sd_event_source *source;
        int fd;
        bool is_socket;
        char *name;
        char *buf;
        size_t len, allocated, done;
        struct set_options options;
        size_t n_entries;               /* export: how many entries the text holds */
} SetJob;

static SetJob *set_job_free(SetJob *j) {
        if (!j)
                return NULL;
        sd_event_source_disable_unref(j->source);
        sd_bus_message_unref(j->msg);
        closep(&j->fd);
        free(j->name);
        free(j->buf);
        free(j);
        n_jobs--;
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(SetJob *, set_job_free);

static int set_job_new(Manager *m, sd_bus_message *msg, const char *name, int fd, SetJob **ret) {
        SetJob *j = calloc(1, sizeof(SetJob));
        struct stat st;

        if (!j)
                return -ENOMEM;
        n_jobs++;
        j->fd = -1;
        j->manager = m;
        j->msg = sd_bus_message_ref(msg);
        j->name = strdup(name);
        j->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (!j->name || j->fd < 0) {
                set_job_free(j);
                return -ENOMEM;
        }
        j->is_socket = fstat(j->fd, &st) >= 0 && S_ISSOCK(st.st_mode);
        *ret = j;
        return 0;
}

/* What the caller may pass: a regular file, a pipe or a socket, open the right way (and for a
 * pipe or socket, a free job). */
static int check_fd(int fd, bool for_writing, bool *ret_regular, sd_bus_error *error) {
        struct stat st;
        int flags;

        if (fstat(fd, &st) < 0 || (flags = fcntl(fd, F_GETFL)) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid fd: %s.", strerror(errno));
        if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid fd: not a regular file, a pipe or a socket.");
        if ((flags & O_ACCMODE) == (for_writing ? O_RDONLY : O_WRONLY))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid fd: not open for %s.",
                                         for_writing ? "writing" : "reading");
        if (S_ISREG(st.st_mode) && !for_writing && st.st_size > (off_t) SET_FILE_SIZE_MAX)
                return sd_bus_error_setf(error, PF_ERROR_LIMIT_EXCEEDED, "The file is %lld bytes, more than %u.",
                                         (long long) st.st_size, SET_FILE_SIZE_MAX);
        /* A regular file is done within the call; pipes and sockets wait in the event loop. */
        if (!S_ISREG(st.st_mode) && n_jobs >= SET_JOBS_MAX)
                return sd_bus_error_setf(error, PF_ERROR_LIMIT_EXCEEDED,
                                         "%u imports and exports from pipes are in progress; try again later.", n_jobs);
        *ret_regular = S_ISREG(st.st_mode);
        return 0;
}

static int reply_job_error(SetJob *j, const sd_bus_error *e) {
        return sd_bus_reply_method_error(j->msg, e);
}

/* The whole file is in: parse, change the set in one commit, answer. */
static int import_finish(SetJob *j) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ struct prefix *entries = NULL;
        struct set_file_error fe = {};
        size_t n = 0, skipped = 0, added;
        Set *set;
        int r;

        r = set_file_parse(j->buf, j->len, j->options.skip_invalid, &entries, &n, &skipped, &fe);
        free(j->buf);
        j->buf = NULL;
        if (r == -EINVAL)
                sd_bus_error_setf(&error, PF_ERROR_INVALID_SET_FILE, "Invalid set file: %s; the set is unchanged.",
                                  fe.reason);
        else if (r == -E2BIG)
                sd_bus_error_setf(&error, PF_ERROR_LIMIT_EXCEEDED, "Invalid set file: %s; the set is unchanged.",
                                  fe.reason);
        else if (r < 0)
                sd_bus_error_set_errno(&error, r);
        else {
                set = set_registry_find(j->manager->sets, j->name);
                if (!set)
                        sd_bus_error_setf(&error, PF_ERROR_NO_SUCH_SET, "There is no set named '%s'.", j->name);
                else {
                        r = manager_set_add(j->manager, set, entries, n, j->options.timeout, j->options.replace,
                                            &added, NULL);
                        if (r < 0)
                                set_change_error(r, j->name, &error);
                        else {
                                log_info("Imported %zu entries into set %s (%zu new, %zu lines skipped).", n,
                                         j->name, added, skipped);
                                return sd_bus_reply_method_return(j->msg, "uu", (uint32_t) added, (uint32_t) skipped);
                        }
                }
        }
        return reply_job_error(j, &error);
}

/* Reads what is there; 1 at the end of the file, 0 for more to come. */
static int import_read(SetJob *j, size_t want) {
        ssize_t k;

        if (want == 0)
                want = 1 << 16;
        if (j->len + want > SET_FILE_SIZE_MAX + 1)
                want = SET_FILE_SIZE_MAX + 1 - j->len;
        if (j->len + want > j->allocated) {
                size_t size = MAX(j->allocated * 2, j->len + want);
                char *b = realloc(j->buf, size);

                if (!b)
                        return -ENOMEM;
                j->buf = b;
                j->allocated = size;
        }
        k = j->is_socket ? recv(j->fd, j->buf + j->len, want, MSG_DONTWAIT) : read(j->fd, j->buf + j->len, want);
        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (k == 0)
                return 1;
        j->len += (size_t) k;
        if (j->len > SET_FILE_SIZE_MAX)
                return -EFBIG;
        return 0;
}

static int import_read_error(SetJob *j, int r) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        if (r == -EFBIG)
                sd_bus_error_setf(&error, PF_ERROR_LIMIT_EXCEEDED, "The file is longer than %u bytes; the set is unchanged.",
                                  SET_FILE_SIZE_MAX);
        else
                sd_bus_error_setf(&error, SD_BUS_ERROR_IO_ERROR, "Failed to read the file: %s; the set is unchanged.",
                                  strerror(-r));
        return reply_job_error(j, &error);
}

static int on_import_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        _cleanup_(set_job_freep) SetJob *j = userdata;
        int available = 0, r;

        /* A pipe says how much it holds: reading that much never blocks (the fd is the
         * caller's too, so it stays in blocking mode). Nothing held and readable = the end. */
        if (ioctl(fd, FIONREAD, &available) < 0)
                available = 0;
        if (available == 0 && !j->is_socket && !(revents & (EPOLLHUP | EPOLLERR))) {
                TAKE_PTR(j);
                return 0;
        }
        r = available > 0 || j->is_socket ? import_read(j, (size_t) available) : 1;
        if (r < 0) {
                (void) import_read_error(j, r);
                return 0;
        }
        if (r == 0) {
                TAKE_PTR(j);            /* more to come */
                return 0;
        }
        (void) import_finish(j);
        return 0;
}

int method_import_set(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        static const char *const keys[] = { "replace", "skip-invalid", "timeout", NULL };
        _cleanup_(set_job_freep) SetJob *j = NULL;
        struct set_options o = {};
        Manager *m = userdata;
        const char *name;
        bool regular;
        Set *set;
        int fd, r;

        r = sd_bus_message_read(msg, "sh", &name, &fd);
        if (r < 0)
                return r;
        r = read_set_options(msg, keys, &o, SD_BUS_ERROR_INVALID_ARGS, error);
        if (r < 0)
                return r;
        r = bus_find_set(m, name, &set, error);
        if (r < 0)
                return r;
        r = check_fd(fd, false, &regular, error);
        if (r < 0)
                return r;

        r = polkit_check_set(m, msg, name, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = set_job_new(m, msg, name, fd, &j);
        if (r < 0)
                return r;
        j->options = o;
        if (regular) {
                /* Through the caller's own file offset, which shows it how far we are. */
                for (;;) {
                        r = import_read(j, 1 << 20);
                        if (r < 0)
                                return import_read_error(j, r);
                        if (r > 0)
                                break;
                }
                return import_finish(j);
        }
        r = sd_event_add_io(m->event, &j->source, j->fd, EPOLLIN, on_import_readable, j);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(j->source, "set-import");
        TAKE_PTR(j);
        return 1;
}

/* Writes what fits without blocking; 1 when all is written. */
static int export_write(SetJob *j, bool regular) {
        while (j->done < j->len) {
                size_t want = j->len - j->done;
                ssize_t k;

                if (j->is_socket)
                        k = send(j->fd, j->buf + j->done, want, MSG_DONTWAIT | MSG_NOSIGNAL);
                else {
                        if (!regular) {
                                int size = fcntl(j->fd, F_GETPIPE_SZ), used = 0;

                                if (size <= 0 || ioctl(j->fd, FIONREAD, &used) < 0)
                                        return -errno;
                                if (size - used <= 0)
                                        return 0;
                                want = MIN(want, (size_t) (size - used));
                        }
                        k = write(j->fd, j->buf + j->done, want);
                }
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        return -errno;
                }
                j->done += (size_t) k;
                if (!regular)
                        return j->done == j->len;
        }
        return 1;
}

static int export_reply(SetJob *j, int r) {
        if (r < 0)
                return sd_bus_reply_method_errorf(j->msg, SD_BUS_ERROR_IO_ERROR, "Failed to write the set: %s.",
                                                  strerror(-r));
        return sd_bus_reply_method_return(j->msg, "u", (uint32_t) j->n_entries);
}

static int on_export_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        _cleanup_(set_job_freep) SetJob *j = userdata;
        int r;

        r = revents & EPOLLERR ? -EPIPE : export_write(j, false);
        if (r == 0) {
                TAKE_PTR(j);
                return 0;
        }
        (void) export_reply(j, r < 0 ? r : 0);
        return 0;
}

int method_export_set(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(set_job_freep) SetJob *j = NULL;
        _cleanup_free_ struct set_entry *entries = NULL;
        _cleanup_free_ struct prefix *prefixes = NULL;
        Manager *m = userdata;
        const char *name;
        bool regular;
        size_t n;
        Set *set;
        int fd, r;

        r = sd_bus_message_read(msg, "sh", &name, &fd);
        if (r < 0)
                return r;
        r = bus_find_set(m, name, &set, error);
        if (r < 0)
                return r;
        r = check_fd(fd, true, &regular, error);
        if (r < 0)
                return r;

        r = set_registry_list(m->sets, set, &entries, &n);
        if (r < 0)
                return r;
        prefixes = malloc_multiply(n ?: 1, sizeof(struct prefix));
        if (!prefixes)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                prefixes[i] = entries[i].prefix;
        r = set_job_new(m, msg, name, fd, &j);
        if (r < 0)
                return r;
        r = set_file_format(prefixes, n, &j->buf, &j->len);
        if (r < 0)
                return r;
        j->n_entries = n;
        if (regular)
                return export_reply(j, export_write(j, true) < 0 ? -errno : 0);

        r = sd_event_add_io(m->event, &j->source, j->fd, EPOLLOUT, on_export_writable, j);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(j->source, "set-export");
        TAKE_PTR(j);
        return 1;
}

/* ---- ListSets, SetChanged --------------------------------------------------------------------- */

int method_list_sets(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (unsigned id = 0; id < PF_MAX_SETS && r >= 0; id++) {
                _cleanup_free_ uint32_t *users = NULL;
                Set *set = set_registry_get(m->sets, id);
                size_t n_users;

                if (!set)
                        continue;
                r = manager_set_users(m, set, &users, &n_users);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'a', "{sv}");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}{sv}",
                                                  "name", "s", set->name,
                                                  "entries", "u", (uint32_t) set->n_entries,
                                                  "comment", "s", set->comment ?: "",
                                                  "default-timeout", "u", set->default_timeout_sec,
                                                  "hits", "t", manager_set_hits(m, set));
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", "rules");
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'v', "au");
                if (r >= 0)
                        r = sd_bus_message_append_array(reply, 'u', users, n_users * sizeof(uint32_t));
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

void bus_on_set_change(Manager *m, const char *name, const char *change) {
        int r;

        if (!m->bus)
                return;
        r = sd_bus_emit_signal(m->bus, PF_BUS_PATH, PF_BUS_INTERFACE, "SetChanged", "ss", name, change);
        if (r < 0)
                log_warning_errno(r, "Failed to emit SetChanged: %m");
}
