/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * state_from_string() (daemon/state.c): the state file, read at every start.
 * It is written only by the daemon, but a crash, a full disk or a hand edit
 * can leave anything in it, and a bad file must be refused whole. Invariant
 * on success: what was accepted can be saved, and the saved text reads back
 * to the very same text (no rule or interface lost or changed on a restart).
 */
#include <errno.h>

#include "fuzz.h"
#include "state.h"

/* Big enough for a few hundred rules; libFuzzer's -max_len decides the rest. */
#define STATE_INPUT_MAX (1024 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet_logs();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        State *state = NULL, *again = NULL;
        char *text, *saved = NULL, *saved_again = NULL;
        int r;

        text = fuzz_text(data, size, STATE_INPUT_MAX);
        if (!text)
                return 0;

        r = state_from_string(text, &state);
        if (r < 0) {
                fuzz_check(r == -EBADMSG || r == -ENOMEM || r == -EINVAL);
                fuzz_check(!state);
                free(text);
                return 0;
        }
        fuzz_check(state && state->rules);
        fuzz_check(state->rules->n_rules <= state->rules->n_rules_allocated);
        for (size_t i = 0; i < state->rules->n_rules; i++)
                fuzz_check(state->rules->rules[i]->id > 0 && state->rules->rules[i]->id < state->rules->next_id);

        fuzz_check(state_to_string(state, &saved) == 0);
        fuzz_check(state_from_string(saved, &again) == 0);
        fuzz_check(again->rules->n_rules == state->rules->n_rules);
        fuzz_check(again->n_interfaces == state->n_interfaces);
        fuzz_check(state_to_string(again, &saved_again) == 0);
        if (strcmp(saved, saved_again) != 0) {
                fprintf(stderr, "saved:\n%s\nsaved again:\n%s\n", saved, saved_again);
                fuzz_check(!"state survives a save and a load unchanged");
        }

        free(saved_again);
        free(saved);
        state_free(again);
        state_free(state);
        free(text);
        return 0;
}
