/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the fuzz targets. Each target defines LLVMFuzzerTestOneInput()
 * and is built twice: with libFuzzer (clang, -Dfuzzing=true) to explore, and
 * with fuzz-replay.c's main() to replay its corpus in every `meson test`.
 *
 * A target returns 0 for every input; a bug is a crash, a sanitizer report,
 * or a broken invariant, which the target turns into abort() via
 * fuzz_check() so that libFuzzer saves the input.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define fuzz_check(expr)                                                                        \
        do {                                                                                    \
                if (!(expr)) {                                                                  \
                        fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,  \
                                #expr);                                                         \
                        abort();                                                                \
                }                                                                               \
        } while (0)

/* Parsers log every refusal; millions of runs need silence (FUZZ_LOG=1 to see them). */
static inline void fuzz_quiet_logs(void) {
        const char *e = getenv("FUZZ_LOG");

        log_set_max_level(e && *e == '1' ? LOG_DEBUG : LOG_CRIT);
}

/*
 * The input as a C string, or NULL when it holds a NUL or is longer than max:
 * the text these parsers get (a bus string, a file read whole) never has an
 * embedded NUL, and each has an outer size limit of its own.
 */
static inline char *fuzz_text(const uint8_t *data, size_t size, size_t max) {
        char *s;

        if (size > max || memchr(data, 0, size))
                return NULL;
        s = malloc(size + 1);
        if (!s)
                return NULL;
        memcpy(s, data, size);
        s[size] = 0;
        return s;
}
