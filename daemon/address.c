/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "address.h"

/* Longest text inet_pton() can accept: the INET6_ADDRSTRLEN form, no NUL. */
#define ADDRESS_TEXT_MAX (INET6_ADDRSTRLEN - 1)

static unsigned family_bits(int family) {
        return family == AF_INET ? 32 : 128;
}

static size_t family_bytes(int family) {
        return family == AF_INET ? 4 : 16;
}

/*
 * The prefix length: decimal digits only, no sign, no space, and no leading
 * zero ("024"): some tools read that as octal (20), so we refuse to guess.
 * At most three digits, so it cannot overflow before the range check.
 */
static int parse_prefixlen(const char *s, unsigned max, uint8_t *ret) {
        size_t n = strlen(s);
        unsigned value = 0;

        if (n == 0 || n > 3)
                return -ERANGE;
        if (s[0] == '0' && n > 1)
                return -ERANGE;

        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -ERANGE;
                value = value * 10 + (unsigned) (s[i] - '0');
        }

        if (value > max)
                return -ERANGE;

        *ret = (uint8_t) value;
        return 0;
}

/* Are all bits of addr past the first prefixlen zero? */
static bool host_bits_clear(const uint8_t *addr, size_t n_bytes, unsigned prefixlen) {
        for (size_t i = 0; i < n_bytes; i++) {
                unsigned bit = (unsigned) i * 8;
                uint8_t host_mask;

                if (bit + 8 <= prefixlen)
                        continue;
                host_mask = bit >= prefixlen ? 0xff : (uint8_t) (0xff >> (prefixlen - bit));
                if (addr[i] & host_mask)
                        return false;
        }
        return true;
}

int prefix_parse(const char *s, struct prefix *ret) {
        char text[ADDRESS_TEXT_MAX + 1];
        struct prefix p = {};
        const char *slash;
        size_t address_len;
        int r;

        if (!s || !ret)
                return -EINVAL;

        slash = strchr(s, '/');
        address_len = slash ? (size_t) (slash - s) : strlen(s);
        if (address_len == 0 || address_len > ADDRESS_TEXT_MAX)
                return -EINVAL;
        memcpy(text, s, address_len);
        text[address_len] = '\0';

        /* inet_pton() is strict already: no spaces, no shorthand like "1.2.3",
         * no leading zeros in IPv4 octets, no zone index. */
        if (inet_pton(AF_INET, text, p.addr) == 1)
                p.family = AF_INET;
        else if (inet_pton(AF_INET6, text, p.addr) == 1)
                p.family = AF_INET6;
        else
                return -EINVAL;

        if (slash) {
                r = parse_prefixlen(slash + 1, family_bits(p.family), &p.prefixlen);
                if (r < 0)
                        return r;
        } else
                p.prefixlen = (uint8_t) family_bits(p.family);

        /* "192.0.2.1/24" is most likely a typo for a host or for 192.0.2.0/24:
         * refuse rather than silently widen or narrow what gets blocked. */
        if (!host_bits_clear(p.addr, family_bytes(p.family), p.prefixlen))
                return -EDOM;

        *ret = p;
        return 0;
}

const char *prefix_strerror(int error) {
        switch (error < 0 ? -error : error) {
        case 0:
                return "success";
        case EINVAL:
                return "not an IPv4 or IPv6 address";
        case ERANGE:
                return "invalid prefix length (a decimal number without leading zeros, "
                       "0-32 for IPv4, 0-128 for IPv6)";
        case EDOM:
                return "host bits set past the prefix length";
        default:
                return "invalid address or prefix";
        }
}

const char *prefix_format(const struct prefix *p, char buf[static PREFIX_STRING_MAX]) {
        char address[INET6_ADDRSTRLEN];

        if (!p || (p->family != AF_INET && p->family != AF_INET6) ||
            p->prefixlen > family_bits(p->family) ||
            !inet_ntop(p->family, p->addr, address, sizeof(address))) {
                (void) strcpy(buf, "(invalid)");
                return buf;
        }

        if (p->prefixlen == family_bits(p->family))
                (void) snprintf(buf, PREFIX_STRING_MAX, "%s", address);
        else
                (void) snprintf(buf, PREFIX_STRING_MAX, "%s/%u", address, (unsigned) p->prefixlen);
        return buf;
}

bool prefix_equal(const struct prefix *a, const struct prefix *b) {
        return prefix_compare(a, b) == 0;
}

bool prefix_contains(const struct prefix *p, int family, const uint8_t *addr) {
        unsigned full_bytes, rest_bits;

        if (!p || !addr || p->family != family || p->prefixlen > family_bits(family))
                return false;

        full_bytes = p->prefixlen / 8;
        rest_bits = p->prefixlen % 8;

        if (memcmp(p->addr, addr, full_bytes) != 0)
                return false;
        if (rest_bits == 0)
                return true;

        uint8_t mask = (uint8_t) (0xff << (8 - rest_bits));
        return (p->addr[full_bytes] & mask) == (addr[full_bytes] & mask);
}

int prefix_compare(const struct prefix *a, const struct prefix *b) {
        int r;

        if (a->family != b->family)
                return a->family < b->family ? -1 : 1;

        /* Only the family's bytes count: the rest of addr is not part of an IPv4 prefix. */
        r = memcmp(a->addr, b->addr, family_bytes(a->family));
        if (r != 0)
                return r < 0 ? -1 : 1;

        if (a->prefixlen != b->prefixlen)
                return a->prefixlen < b->prefixlen ? -1 : 1;

        return 0;
}
