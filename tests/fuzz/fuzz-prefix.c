/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * prefix_parse() (daemon/address.c): every address a caller sends (Block,
 * Unblock, rule sources and destinations, the state file). Beyond not
 * crashing: an accepted prefix is canonical (no host bits, length in range),
 * its text form parses back to the same prefix, and it contains its own
 * network address.
 */
#include <errno.h>
#include <sys/socket.h>

#include "address.h"
#include "fuzz.h"

/* Longer than any address a parser could accept; bus strings can be longer, and must be refused. */
#define PREFIX_INPUT_MAX 256

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet_logs();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char buf[PREFIX_STRING_MAX];
        struct prefix p, again;
        char *text;
        int r;

        text = fuzz_text(data, size, PREFIX_INPUT_MAX);
        if (!text)
                return 0;

        memset(&p, 0xAA, sizeof(p));
        r = prefix_parse(text, &p);
        if (r < 0) {
                fuzz_check(r == -EINVAL || r == -ERANGE || r == -EDOM);
                fuzz_check(prefix_strerror(r) != NULL);
                free(text);
                return 0;
        }
        fuzz_check(r == 0);

        fuzz_check(p.family == AF_INET || p.family == AF_INET6);
        fuzz_check(p.prefixlen <= (p.family == AF_INET ? 32 : 128));
        for (unsigned bit = p.prefixlen; bit < (p.family == AF_INET ? 32u : 128u); bit++)
                fuzz_check(!(p.addr[bit / 8] & (0x80 >> (bit % 8))));
        fuzz_check(prefix_contains(&p, p.family, p.addr));

        fuzz_check(prefix_format(&p, buf) == buf);
        fuzz_check(strlen(buf) < sizeof(buf));
        fuzz_check(prefix_parse(buf, &again) == 0);
        fuzz_check(prefix_equal(&p, &again));
        fuzz_check(prefix_compare(&p, &again) == 0);

        free(text);
        return 0;
}
