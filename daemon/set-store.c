/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "rule.h"
#include "set-file.h"
#include "set-store.h"

#define SET_FILE_HEADER "# packetfilter set 1"
#define SET_FILE_SUFFIX ".set"

static int sets_dir_open(const char *state_dir, bool create) {
        _cleanup_free_ char *path = NULL;
        int fd;

        if (asprintf(&path, "%s/%s", state_dir, SET_STORE_DIR) < 0)
                return -ENOMEM;
        if (create && mkdir(path, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int set_store_save(const char *state_dir, const SetRegistry *reg, const Set *set) {
        _cleanup_free_ struct set_entry *entries = NULL;
        _cleanup_close_ int dir_fd = -1;
        _cleanup_fclose_ FILE *f = NULL;
        char tmp[SET_NAME_MAX + 32], name[SET_NAME_MAX + 8];
        size_t n;
        int fd, r;

        r = set_registry_list_unsorted(reg, set, &entries, &n);
        if (r < 0)
                return r;
        dir_fd = sets_dir_open(state_dir, true);
        if (dir_fd < 0)
                return dir_fd;

        snprintf(name, sizeof(name), "%s" SET_FILE_SUFFIX, set->name);
        snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                close(fd);
                (void) unlinkat(dir_fd, tmp, 0);
                return r;
        }
        (void) setvbuf(f, NULL, _IOFBF, 1 << 20);

        fprintf(f, SET_FILE_HEADER "\n# id=%u\n# default-timeout=%" PRIu32 "\n", set->id, set->default_timeout_sec);
        if (set->comment)
                fprintf(f, "# comment=%s\n", set->comment);
        for (size_t i = 0; i < n; i++) {
                char buf[PREFIX_STRING_MAX];

                fwrite(buf, 1, set_file_format_entry(&entries[i].prefix, buf), f);
                if (entries[i].expires_usec)
                        fprintf(f, " %" PRIu64, entries[i].expires_usec);
                fputc('\n', f);
        }
        if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0) {
                r = -errno ?: -EIO;
                (void) unlinkat(dir_fd, tmp, 0);
                return r;
        }
        if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
                r = -errno;
                (void) unlinkat(dir_fd, tmp, 0);
                return r;
        }
        return fsync(dir_fd) < 0 ? -errno : 0;
}

int set_store_remove(const char *state_dir, const char *name) {
        _cleanup_close_ int dir_fd = -1;
        char file[SET_NAME_MAX + 8];

        dir_fd = sets_dir_open(state_dir, false);
        if (dir_fd == -ENOENT)
                return 0;
        if (dir_fd < 0)
                return dir_fd;
        snprintf(file, sizeof(file), "%s" SET_FILE_SUFFIX, name);
        if (unlinkat(dir_fd, file, 0) < 0 && errno != ENOENT)
                return -errno;
        return fsync(dir_fd) < 0 ? -errno : 0;
}

/* One file: header lines, then entries. -EBADMSG (with the line said in the log) if it does not parse. */
static int set_store_load_one(int dir_fd, const char *file, SetRegistry *reg, uint64_t now_usec) {
        _cleanup_free_ struct set_entry *entries = NULL;
        _cleanup_free_ char *line = NULL, *comment = NULL, *set_name = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t n = 0, allocated = 0, line_size = 0, lineno = 0, added;
        uint32_t timeout = 0;
        int id = -1, fd, r;
        struct rule_error e = {};
        ssize_t len;
        Set *set;

        set_name = strndup(file, strlen(file) - strlen(SET_FILE_SUFFIX));
        if (!set_name)
                return -ENOMEM;
        if (set_name_check(set_name, "name", &e) < 0) {
                log_error("Set file %s: %s", file, e.reason);
                return -EBADMSG;
        }
        fd = openat(dir_fd, file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        f = fdopen(fd, "r");
        if (!f) {
                close(fd);
                return -errno;
        }

        while ((len = getline(&line, &line_size, f)) >= 0) {
                struct prefix p;
                char *space;
                uint64_t expires = 0;

                lineno++;
                if (len > 0 && line[len - 1] == '\n')
                        line[--len] = '\0';
                if (lineno == 1) {
                        if (!streq(line, SET_FILE_HEADER)) {
                                log_error("Set file %s: not a set file (no '" SET_FILE_HEADER "' line).", file);
                                return -EBADMSG;
                        }
                        continue;
                }
                if (line[0] == '#') {
                        unsigned v;

                        if (sscanf(line, "# id=%u", &v) == 1 && v < PF_MAX_SETS)
                                id = (int) v;
                        else if (sscanf(line, "# default-timeout=%u", &v) == 1)
                                timeout = v;
                        else if (strncmp(line, "# comment=", 10) == 0) {
                                free(comment);
                                comment = strdup(line + 10);
                                if (!comment)
                                        return -ENOMEM;
                        }
                        continue;
                }
                space = strchr(line, ' ');
                if (space) {
                        char *end;

                        *space = '\0';
                        errno = 0;
                        expires = strtoull(space + 1, &end, 10);
                        if (errno || *end || end == space + 1) {
                                log_error("Set file %s, line %zu: bad expiry.", file, lineno);
                                return -EBADMSG;
                        }
                }
                r = prefix_parse(line, &p);
                if (r < 0) {
                        log_error("Set file %s, line %zu: '%s': %s.", file, lineno, line, prefix_strerror(r));
                        return -EBADMSG;
                }
                if (expires != 0 && expires <= now_usec)
                        continue;
                if (n == allocated) {
                        size_t want = allocated ? allocated * 2 : 1024;
                        struct set_entry *v = reallocarray(entries, want, sizeof(struct set_entry));

                        if (!v)
                                return -ENOMEM;
                        entries = v;
                        allocated = want;
                }
                entries[n++] = (struct set_entry) { .prefix = p, .expires_usec = expires };
        }
        if (lineno == 0) {
                log_error("Set file %s is empty.", file);
                return -EBADMSG;
        }

        r = set_registry_create(reg, set_name, comment, timeout, id, &set);
        if (r == -EEXIST && id >= 0)
                r = set_registry_create(reg, set_name, comment, timeout, -1, &set);
        if (r < 0)
                return log_error_errno(r, "Set file %s: cannot create the set: %m", file);
        r = set_registry_add(reg, set, entries, n, false, &added, NULL);
        set_registry_commit(reg);
        if (r < 0)
                return log_error_errno(r, "Set file %s: cannot load its %zu entries: %m", file, n);
        log_info("Loaded set %s: %zu entries.", set_name, set->n_entries);
        return 0;
}

int set_store_load(const char *state_dir, SetRegistry *reg, uint64_t now_usec) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_close_ int dir_fd = -1;
        struct dirent *de;
        int r;

        dir_fd = sets_dir_open(state_dir, false);
        if (dir_fd == -ENOENT)
                return 0;
        if (dir_fd < 0)
                return dir_fd;
        d = fdopendir(dup(dir_fd));
        if (!d)
                return -errno;

        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);

                if (de->d_name[0] == '.' || len <= strlen(SET_FILE_SUFFIX) ||
                    !streq(de->d_name + len - strlen(SET_FILE_SUFFIX), SET_FILE_SUFFIX))
                        continue;
                r = set_store_load_one(dir_fd, de->d_name, reg, now_usec);
                if (r == -EBADMSG) {
                        char aside[512];

                        snprintf(aside, sizeof(aside), "%s.corrupt-%" PRIu64, de->d_name, now_usec);
                        if (renameat(dir_fd, de->d_name, dir_fd, aside) >= 0)
                                log_error("Moved the unreadable set file aside as %s/%s/%s.", state_dir,
                                          SET_STORE_DIR, aside);
                        continue;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}
