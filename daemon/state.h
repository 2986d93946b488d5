/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Persistence of the daemon's state (rules, attached interfaces) in the
 * state folder as JSON (json-c). Writes are atomic and durable: a temporary
 * file, fsync, rename, fsync of the folder, before a method replies.
 */
#pragma once

#include "rule.h"

#define STATE_FILE_NAME "state.json"
#define STATE_PREVIOUS_FILE_NAME "state.json.prev"     /* the state before the last save */
#define STATE_FORMAT_VERSION 2          /* written; format 1 (the first slice's blocks) is read too */

typedef struct StateInterface {
        char name[16];                  /* IFNAMSIZ */
        char mode[16];                  /* as asked: "auto", "native" or "generic" */
} StateInterface;

typedef struct State {
        RuleSet *rules;
        StateInterface *interfaces;
        size_t n_interfaces;
} State;

State *state_free(State *s);

/*
 * Reads DIR/state.json. -ENOENT if there is none (a first start). A file
 * that does not parse or fails validation is never half-applied: it is
 * renamed to state.json.corrupt-<usec>; then the state before the last save
 * (state.json.prev, which every save keeps) is loaded instead and 1 is
 * returned; if that is bad or absent too, -EBADMSG. *ret is written only on
 * success.
 */
int state_load(const char *dir, State **ret);
/* Serialises to memory (used by state_save and the fuzzer/unit tests). */
int state_to_string(const State *s, char **ret);
int state_from_string(const char *text, State **ret);
int state_save(const char *dir, const State *s);

DEFINE_TRIVIAL_CLEANUP_FUNC(State *, state_free);
