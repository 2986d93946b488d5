/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the parts of packetfilterctl share: the parsed command line (arg_*,
 * as in systemctl) and how errors are reported.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* Exit codes, documented in --help; scripts rely on them. */
#define EXIT_OK 0
#define EXIT_FAILED 1   /* the daemon refused, or the bus was unreachable */
#define EXIT_USAGE 2    /* bad command line: nothing was sent */

/*
 * Returned (instead of a negative errno) by whatever detects a usage error,
 * after it printed the reason. Not an errno value, so no real failure is
 * ever mistaken for it; main() turns it into EXIT_USAGE.
 */
#define ERROR_USAGE (-100000)

/* Global options. */
extern bool arg_json;
extern bool arg_ask_password;
extern const char *arg_host;

/* Options that only some commands take (each command's table entry says which). */
extern const char *arg_mode;
extern uint64_t arg_timeout_sec;
extern const char *arg_group;     /* list --group: ListRulesInGroup */
extern bool arg_words;            /* list --words: rules as the words of add */
extern const char *arg_comment;   /* set create --comment */
extern bool arg_replace;          /* set import --replace */
extern bool arg_skip_invalid;     /* set import --skip-invalid */

/* "packetfilterctl: <message>" on stderr, %m being strerror(error); returns error (negative). */
int cli_error_errno(int error, const char *format, ...) _printf_(2, 3);
#define cli_error(...) ((void) cli_error_errno(0, __VA_ARGS__))
#define cli_oom() cli_error_errno(-ENOMEM, "Out of memory.")

/* Prints the reason and a hint to --help on stderr; returns ERROR_USAGE. */
int cli_usage_error(const char *format, ...) _printf_(1, 2);
