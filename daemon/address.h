/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IPv4/IPv6 addresses and CIDR prefixes: parsing, canonical formatting, matching. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" and a NUL. */
#define PREFIX_STRING_MAX (INET6_ADDRSTRLEN + 4)

struct prefix {
        int family;             /* AF_INET or AF_INET6 */
        uint8_t prefixlen;      /* 0..32 or 0..128 */
        uint8_t addr[16];       /* network byte order; only the first 4 bytes for AF_INET;
                                 * bits past prefixlen are always zero */
};

/*
 * Parses "ADDR" or "ADDR/LEN". A bare address is a full-length prefix.
 * Refuses, with a negative errno that prefix_strerror() explains:
 *   -EINVAL  not an IPv4 or IPv6 address (or empty, or stray characters)
 *   -ERANGE  prefix length missing, not a number, or out of range for the family
 *   -EDOM    host bits set past the prefix length ("192.0.2.1/24": did you mean 192.0.2.0/24?)
 * *ret is written only on success.
 */
int prefix_parse(const char *s, struct prefix *ret);
const char *prefix_strerror(int error);

/* Canonical text: "192.0.2.0/24", "2001:db8::/32"; a full-length prefix prints as the bare address. */
const char *prefix_format(const struct prefix *p, char buf[static PREFIX_STRING_MAX]);

bool prefix_equal(const struct prefix *a, const struct prefix *b);
/* Does p contain the address addr (network byte order, 4 or 16 bytes by family)? */
bool prefix_contains(const struct prefix *p, int family, const uint8_t *addr);
/* Order for sorting: family, then address bytes, then prefix length. */
int prefix_compare(const struct prefix *a, const struct prefix *b);
