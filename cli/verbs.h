/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One function per packetfilterctl command. Each gets the command's own
 * words (argv[0] is the command name), already counted against the table in
 * packetfilterctl.c, and returns 0, a negative errno after printing why
 * (exit 1), or ERROR_USAGE (exit 2).
 */
#pragma once

#include <json-c/json.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "format.h"

int verb_add(int argc, char *argv[]);
int verb_remove(int argc, char *argv[]);
int verb_replace(int argc, char *argv[]);
int verb_show(int argc, char *argv[]);
int verb_enable(int argc, char *argv[]);
int verb_disable(int argc, char *argv[]);
int verb_default(int argc, char *argv[]);
int verb_reset_counters(int argc, char *argv[]);
int verb_attach(int argc, char *argv[]);
int verb_detach(int argc, char *argv[]);
int verb_block(int argc, char *argv[]);
int verb_unblock(int argc, char *argv[]);
int verb_list(int argc, char *argv[]);
int verb_stats(int argc, char *argv[]);
int verb_status(int argc, char *argv[]);

/* Shared by the verbs (verbs.c). */
/* Prints JSON: pretty on a terminal, one line in a pipe. */
int json_print(json_object *o);
int print_table(const Table *t);
/* Prints "N" for a method that returns one number, or {"key": N} with --json. */
int print_reply_number(const char *key, uint32_t value);
/* A call to fill in; send it with sd_bus_call(bus, m, 0, ...) (the bus's own timeout). */
int new_method_call(sd_bus *bus, const char *method, sd_bus_message **ret);
uint64_t now_realtime_usec(void);

/* verbs-set.c: packetfilterctl set COMMAND (argv[0] is the subcommand's name). */
int verb_set_create(int argc, char *argv[]);
int verb_set_delete(int argc, char *argv[]);
int verb_set_add(int argc, char *argv[]);
int verb_set_remove(int argc, char *argv[]);
int verb_set_import(int argc, char *argv[]);
int verb_set_export(int argc, char *argv[]);
int verb_set_list(int argc, char *argv[]);
