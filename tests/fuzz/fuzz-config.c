/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config_parse() (daemon/config-file.c): /etc/packetfilter/packetfilterd.conf,
 * written by an administrator, but read by a privileged daemon and re-read
 * on Reload(), so a malformed file must be refused cleanly. Invariants on
 * success: at most CONFIG_MAX_INTERFACES interfaces, each a terminated,
 * non-empty name with a valid mode.
 */
#include <errno.h>

#include "config-file.h"
#include "fuzz.h"

/* config_load() refuses files larger than this. */
#define CONFIG_INPUT_MAX (64 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet_logs();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Config c;
        char *text;
        int r;

        text = fuzz_text(data, size, CONFIG_INPUT_MAX);
        if (!text)
                return 0;

        r = config_parse(text, "fuzz", &c);
        if (r < 0) {
                fuzz_check(r == -EBADMSG || r == -ENOMEM);
                free(text);
                return 0;
        }

        fuzz_check(c.n_interfaces <= CONFIG_MAX_INTERFACES);
        for (size_t i = 0; i < c.n_interfaces; i++) {
                size_t len = strnlen(c.interfaces[i].name, sizeof(c.interfaces[i].name));

                fuzz_check(len > 0 && len < sizeof(c.interfaces[i].name));
                fuzz_check(c.interfaces[i].mode >= 0 && c.interfaces[i].mode < _XDP_MODE_MAX);
        }
        if (c.has_default_action)
                fuzz_check(pf_action_to_string(c.default_action) != NULL);
        config_done(&c);
        free(text);
        return 0;
}
