/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The smallest test harness that can fail: check() records a failure with the
 * case that caused it and goes on, require() stops the test at once;
 * test_exit_status() turns the count into the exit code meson reads.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned test_failures;
static unsigned test_checks;

#define check(expr, ...)                                                        \
        ({                                                                      \
                bool _ok_ = (expr);                                             \
                test_checks++;                                                  \
                if (!_ok_) {                                                    \
                        test_failures++;                                        \
                        fprintf(stderr, "%s:%d: FAILED: %s: ", __FILE__, __LINE__, #expr); \
                        fprintf(stderr, __VA_ARGS__);                           \
                        fputc('\n', stderr);                                    \
                }                                                               \
                _ok_;                                                           \
        })

#define require(expr, ...)                                                      \
        do {                                                                    \
                if (!check(expr, __VA_ARGS__)) {                                \
                        fprintf(stderr, "Stopping: a required check failed.\n"); \
                        exit(EXIT_FAILURE);                                     \
                }                                                               \
        } while (0)

static inline int test_exit_status(const char *name) {
        if (test_failures > 0) {
                fprintf(stderr, "%s: %u of %u checks FAILED\n", name, test_failures, test_checks);
                return EXIT_FAILURE;
        }
        printf("%s: all %u checks passed\n", name, test_checks);
        return EXIT_SUCCESS;
}

/* A seeded generator, so that every random case can be reproduced. */
static inline uint64_t test_random(uint64_t *state) {
        /* splitmix64 */
        uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}
