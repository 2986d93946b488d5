/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One function per packetfilterctl command. Each gets the command's own
 * words (argv[0] is the command name), already counted against the table in
 * packetfilterctl.c, and returns 0, a negative errno after printing why
 * (exit 1), or ERROR_USAGE (exit 2).
 */
#pragma once

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
