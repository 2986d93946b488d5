/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main() for a fuzz target built without libFuzzer (any compiler): feeds every
 * file named on the command line, or found in a folder named there, to
 * LLVMFuzzerTestOneInput() once. So the seed corpora (and every crash input
 * added to them) run in the normal `meson test`, under gcc and under ASan.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

/* libFuzzer's own cap by default is 4096; corpora here are small. */
#define REPLAY_INPUT_MAX (16u * 1024u * 1024u)

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv) {
        return 0;
}

static int replay_file(const char *path, unsigned *n_done) {
        struct stat st;
        uint8_t *buf;
        ssize_t n;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return -errno;
        }
        if ((size_t) st.st_size > REPLAY_INPUT_MAX) {
                fprintf(stderr, "%s: larger than %u bytes\n", path, REPLAY_INPUT_MAX);
                close(fd);
                return -EFBIG;
        }
        /* An exact-size buffer, so ASan sees any read past the input. */
        buf = malloc(st.st_size ? (size_t) st.st_size : 1);
        if (!buf) {
                close(fd);
                return -ENOMEM;
        }
        n = read(fd, buf, st.st_size);
        close(fd);
        if (n != st.st_size) {
                fprintf(stderr, "%s: short read\n", path);
                free(buf);
                return -EIO;
        }
        (void) LLVMFuzzerTestOneInput(buf, (size_t) n);
        free(buf);
        (*n_done)++;
        return 0;
}

static int compare_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int replay_path(const char *path, unsigned *n_done) {
        struct dirent *de;
        char **names = NULL;
        size_t n = 0;
        struct stat st;
        DIR *d;
        int r = 0;

        if (stat(path, &st) < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -errno;
        }
        if (!S_ISDIR(st.st_mode))
                return replay_file(path, n_done);

        d = opendir(path);
        if (!d)
                return -errno;
        /* In name order, so a run is reproducible. */
        while ((de = readdir(d))) {
                char **grown;

                if (de->d_name[0] == '.')
                        continue;
                grown = realloc(names, (n + 1) * sizeof(char *));
                if (!grown || asprintf(&grown[n], "%s/%s", path, de->d_name) < 0) {
                        names = grown ?: names;
                        r = -ENOMEM;
                        break;
                }
                names = grown;
                n++;
        }
        closedir(d);
        qsort(names, n, sizeof(char *), compare_names);
        for (size_t i = 0; i < n; i++) {
                if (r >= 0) {
                        int q = replay_path(names[i], n_done);
                        if (q < 0)
                                r = q;
                }
                free(names[i]);
        }
        free(names);
        return r;
}

int main(int argc, char **argv) {
        unsigned n_done = 0;
        int r = 0;

        if (argc < 2) {
                fprintf(stderr, "Usage: %s FILE|FOLDER...\n"
                        "Runs each input once through the fuzz target (no fuzzing).\n", argv[0]);
                return 2;
        }
        (void) LLVMFuzzerInitialize(&argc, &argv);
        for (int i = 1; i < argc; i++) {
                int q = replay_path(argv[i], &n_done);
                if (q < 0)
                        r = q;
        }
        printf("%s: replayed %u inputs\n", argv[0], n_done);
        if (n_done == 0) {
                fprintf(stderr, "no inputs found: an empty corpus proves nothing\n");
                return 1;
        }
        return r < 0 ? 1 : 0;
}
