/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The XDP program on crafted frames, through bpf_prog_test_run_opts: for each
 * row of the table a fresh unpinned program gets the row's rules and default
 * action, runs the row's frame `repeat` times, and must give the expected
 * verdict, raise exactly the expected rule counter (packets and bytes) and
 * exactly the expected global statistics.
 *
 *   test-xdp            run every case (needs root: CAP_BPF, CAP_NET_ADMIN)
 *   test-xdp --timing   print ns/packet on the pass and drop paths (informational)
 *
 * Without root it fails, or exits 77 (skipped) when PF_ALLOW_SKIP=1.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "address.h"
#include "loader.h"
#include "log.h"
#include "macro.h"
#include "packet.h"

#define S(stat) (1u << (stat))

#define DROP PF_ACTION_DROP
#define PASS PF_ACTION_PASS

#define VLAN_8021Q  0x8100
#define VLAN_8021AD 0x88a8

struct rule_spec {
        const char *source;             /* prefix text; NULL ends the list */
        enum pf_action action;
        uint32_t slot;
};

struct xdp_case {
        const char *name;
        enum pf_action default_action;
        struct rule_spec rules[4];
        struct packet_spec packet;
        void (*mangle)(struct packet *p);       /* breaks the built frame on purpose */
        uint32_t repeat;                        /* 0 means 1 */
        int verdict;                            /* XDP_PASS or XDP_DROP */
        unsigned hit;                           /* 1-based index of the rule whose counter rises, 0 none */
        unsigned stats;                         /* S() of statistics that rise by repeat; PACKETS always does */
};

/* A local cleanup helper, named so that it cannot clash with one loader.h may grow. */
static void test_loader_freep(Loader **l) {
        *l = loader_free(*l);
}

/* Ways to break a frame. Offsets are those of packet_build(). */
static void cut_to_nothing(struct packet *p) {
        p->len = 0;
}

static void cut_to_one_byte(struct packet *p) {
        p->len = 1;
}

static void cut_inside_ethernet(struct packet *p) {
        p->len = ETH_HLEN - 1;
}

static void cut_to_ethernet_header(struct packet *p) {
        p->len = ETH_HLEN;
}

static void cut_inside_first_vlan_tag(struct packet *p) {
        p->len = ETH_HLEN + 2;
}

static void cut_inside_second_vlan_tag(struct packet *p) {
        p->len = ETH_HLEN + 4 + 2;
}

static void cut_after_ethertype(struct packet *p) {
        p->len = p->l3_off;
}

static void cut_inside_ipv4_header(struct packet *p) {
        p->len = p->l3_off + 19;
}

static void cut_inside_ipv4_options(struct packet *p) {
        p->len = p->l3_off + 24;
}

static void ipv4_ihl_beyond_end(struct packet *p) {
        p->data[p->l3_off] = 0x40 | 15;
}

static void ipv4_ihl_4(struct packet *p) {
        p->data[p->l3_off] = 0x40 | 4;
}

static void ipv4_ihl_0(struct packet *p) {
        p->data[p->l3_off] = 0x40;
}

static void ipv4_version_6(struct packet *p) {
        p->data[p->l3_off] = 0x60 | 5;
}

static void ipv4_total_length_below_header(struct packet *p) {
        p->data[p->l3_off + 2] = 0;
        p->data[p->l3_off + 3] = 19;
}

static void cut_inside_ipv6_header(struct packet *p) {
        p->len = p->l3_off + 39;
}

static void cut_after_ipv6_header(struct packet *p) {
        p->len = p->l3_off + 40;
}

static void ipv6_version_4(struct packet *p) {
        p->data[p->l3_off] = 0x40 | (p->data[p->l3_off] & 0x0f);
}

static const struct xdp_case cases[] = {
        /* IPv4 sources, single prefixes. */
        {
                .name = "ipv4 no rules, default pass",
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv4 blocked /32",
                .rules = { { "192.0.2.1/32", DROP, 1 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv4 neighbour of a blocked /32 passes",
                .rules = { { "192.0.2.1/32", DROP, 1 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.3", .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv4 destination matching a source rule passes",
                .rules = { { "192.0.2.2/32", DROP, 1 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "198.51.100.7", .dst = "192.0.2.2",
                            .l4 = PACKET_L4_TCP, .dport = 22 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv4 blocked /24, tcp",
                .rules = { { "198.51.100.0/24", DROP, 3 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "198.51.100.200", .l4 = PACKET_L4_TCP, .dport = 443 },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv4 just outside a blocked /24",
                .rules = { { "198.51.100.0/24", DROP, 3 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "198.51.101.0", .l4 = PACKET_L4_TCP, .dport = 443 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv4 blocked /0 drops everything, icmp",
                .rules = { { "0.0.0.0/0", DROP, 0 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "203.0.113.9", .l4 = PACKET_L4_ICMP, .icmp_type = 8 },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv4 /0 does not touch ipv6",
                .rules = { { "0.0.0.0/0", DROP, 0 } },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8::1", .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv4 with 40 bytes of options, blocked",
                .rules = { { "192.0.2.1/32", DROP, 1 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .ip_options = 40,
                            .l4 = PACKET_L4_TCP, .dport = 80 },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv4 with 4 bytes of options, not blocked",
                .rules = { { "192.0.2.1/32", DROP, 1 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.9", .ip_options = 4, .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        },

        /* Longest prefix wins. */
        {
                .name = "ipv4 /32 pass inside a /24 drop",
                .rules = { { "192.0.2.0/24", DROP, 1 }, { "192.0.2.7/32", PASS, 2 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.7", .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .hit = 2, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv4 rest of the /24 still dropped",
                .rules = { { "192.0.2.0/24", DROP, 1 }, { "192.0.2.7/32", PASS, 2 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.8", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv4 three nested prefixes, deepest decides",
                .rules = { { "10.0.0.0/8", DROP, 1 }, { "10.1.0.0/16", PASS, 2 }, { "10.1.2.0/24", DROP, 3 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "10.1.2.3", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 3, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv4 three nested prefixes, middle decides",
                .rules = { { "10.0.0.0/8", DROP, 1 }, { "10.1.0.0/16", PASS, 2 }, { "10.1.2.0/24", DROP, 3 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "10.1.3.3", .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .hit = 2, .stats = S(PF_STAT_PASSED),
        },

        /* Default action. */
        {
                .name = "ipv4 default drop, no match",
                .default_action = DROP,
                .rules = { { "192.0.2.1/32", PASS, 1 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.2", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT),
        }, {
                .name = "ipv4 default drop, pass rule matches",
                .default_action = DROP,
                .rules = { { "192.0.2.1/32", PASS, 1 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .hit = 1, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv6 default drop, no match",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8::1", .l4 = PACKET_L4_TCP, .dport = 22 },
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT),
        },

        /* IPv6 sources. */
        {
                .name = "ipv6 no rules, default pass",
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8::1", .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv6 blocked /128",
                .rules = { { "2001:db8::1/128", DROP, 5 } },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8::1", .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv6 neighbour of a blocked /128 passes",
                .rules = { { "2001:db8::1/128", DROP, 5 } },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8::1:1", .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv6 blocked /64",
                .rules = { { "2001:db8:0:1::/64", DROP, 4095 } },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8:0:1:ffff:ffff:ffff:ffff", .l4 = PACKET_L4_TCP },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv6 just outside a blocked /64",
                .rules = { { "2001:db8:0:1::/64", DROP, 4095 } },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8:0:2::", .l4 = PACKET_L4_TCP },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv6 blocked ::/0",
                .rules = { { "::/0", DROP, 2 } },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8:ffff::1", .l4 = PACKET_L4_ICMPV6, .icmp_type = 128 },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv6 /128 pass inside a /64 drop",
                .rules = { { "2001:db8::/64", DROP, 1 }, { "2001:db8::42/128", PASS, 2 } },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8::42", .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .hit = 2, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv6 rest of the /64 still dropped",
                .rules = { { "2001:db8::/64", DROP, 1 }, { "2001:db8::42/128", PASS, 2 } },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8::43", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv6 ipv4-mapped source is not an ipv4 match",
                .rules = { { "192.0.2.1/32", DROP, 1 } },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "::ffff:192.0.2.1", .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        },

        /* Neighbour discovery and ARP are never cut by the default drop. */
        {
                .name = "ndp neighbour solicitation passes default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV6, .src = "fe80::1", .dst = "ff02::1:ff00:2", .hop_limit = 255,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 135 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ndp neighbour advertisement passes default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV6, .src = "fe80::2", .dst = "fe80::1", .hop_limit = 255,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 136 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ndp router solicitation passes default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV6, .src = "fe80::2", .dst = "ff02::2", .hop_limit = 255,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 133 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ndp router advertisement passes default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV6, .src = "fe80::1", .dst = "ff02::1", .hop_limit = 255,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 134, .payload = 8 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ndp redirect passes default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV6, .src = "fe80::1", .dst = "fe80::2", .hop_limit = 255,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 137 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "icmpv6 echo request does not pass default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8::1", .hop_limit = 255,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 128 },
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT),
        }, {
                .name = "ndp shape with hop limit 64 (routed, forged) does not pass default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8::1", .hop_limit = 64,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 135 },
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT),
        }, {
                .name = "ndp cut before its icmpv6 header does not pass default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV6, .src = "fe80::1", .hop_limit = 255,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 135 },
                .mangle = cut_after_ipv6_header,
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT),
        }, {
                .name = "ndp from a blocked source is dropped by its rule",
                .rules = { { "fe80::bad/128", DROP, 9 } },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "fe80::bad", .hop_limit = 255,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 135 },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "arp passes default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_ARP, .src = "192.0.2.1", .dst = "192.0.2.2" },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_NON_IP),
        }, {
                .name = "arp from a blocked sender still passes",
                .rules = { { "192.0.2.1/32", DROP, 1 } },
                .packet = { .l3 = PACKET_L3_ARP, .src = "192.0.2.1", .dst = "192.0.2.2" },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_NON_IP),
        }, {
                .name = "other ethertype (lldp) takes default pass",
                .packet = { .l3 = PACKET_L3_RAW, .ethertype = 0x88cc, .payload = 46 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_NON_IP),
        }, {
                .name = "other ethertype (lldp) takes default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_RAW, .ethertype = 0x88cc, .payload = 46 },
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT) | S(PF_STAT_NON_IP),
        },

        /* VLAN tags. */
        {
                .name = "802.1q tagged ipv4, blocked",
                .rules = { { "192.0.2.1/32", DROP, 1 } },
                .packet = { .vlan = { { VLAN_8021Q, 10 } }, .l3 = PACKET_L3_IPV4, .src = "192.0.2.1",
                            .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "802.1q tagged ipv6, not blocked",
                .rules = { { "2001:db8::1/128", DROP, 1 } },
                .packet = { .vlan = { { VLAN_8021Q, 4095 } }, .l3 = PACKET_L3_IPV6, .src = "2001:db8::2",
                            .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "qinq (802.1ad + 802.1q) ipv6, blocked",
                .rules = { { "2001:db8::/64", DROP, 1 } },
                .packet = { .vlan = { { VLAN_8021AD, 100 }, { VLAN_8021Q, 200 } }, .l3 = PACKET_L3_IPV6,
                            .src = "2001:db8::1", .l4 = PACKET_L4_TCP },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "qinq (802.1ad + 802.1q) ipv4, not blocked",
                .rules = { { "192.0.2.0/24", DROP, 1 } },
                .packet = { .vlan = { { VLAN_8021AD, 100 }, { VLAN_8021Q, 200 } }, .l3 = PACKET_L3_IPV4,
                            .src = "203.0.113.1", .l4 = PACKET_L4_TCP },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "double 802.1q ipv4, blocked",
                .rules = { { "192.0.2.0/24", DROP, 1 } },
                .packet = { .vlan = { { VLAN_8021Q, 1 }, { VLAN_8021Q, 2 } }, .l3 = PACKET_L3_IPV4,
                            .src = "192.0.2.77", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "three tags are not parsed: non-ip, default drop",
                .default_action = DROP,
                .rules = { { "192.0.2.0/24", PASS, 1 } },
                .packet = { .vlan = { { VLAN_8021AD, 1 }, { VLAN_8021Q, 2 }, { VLAN_8021Q, 3 } },
                            .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT) | S(PF_STAT_NON_IP),
        }, {
                .name = "802.1q tagged arp passes default drop",
                .default_action = DROP,
                .packet = { .vlan = { { VLAN_8021Q, 10 } }, .l3 = PACKET_L3_ARP },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_NON_IP),
        },

        /* Truncated and malformed frames: never matched, counted, default action. */
        {
                .name = "zero-length frame, default pass",
                .packet = { .l3 = PACKET_L3_IPV4 },
                .mangle = cut_to_nothing,
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_MALFORMED),
        }, {
                .name = "zero-length frame, default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV4 },
                .mangle = cut_to_nothing,
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT) | S(PF_STAT_MALFORMED),
        }, {
                .name = "one-byte frame",
                .packet = { .l3 = PACKET_L3_IPV4 },
                .mangle = cut_to_one_byte,
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_MALFORMED),
        }, {
                .name = "frame cut inside the ethernet header",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV4 },
                .mangle = cut_inside_ethernet,
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT) | S(PF_STAT_MALFORMED),
        }, {
                .name = "14-byte frame announcing a vlan tag",
                .packet = { .vlan = { { VLAN_8021Q, 10 } }, .l3 = PACKET_L3_IPV4 },
                .mangle = cut_to_ethernet_header,
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_MALFORMED),
        }, {
                .name = "frame cut inside the first vlan tag",
                .packet = { .vlan = { { VLAN_8021Q, 10 } }, .l3 = PACKET_L3_IPV4 },
                .mangle = cut_inside_first_vlan_tag,
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_MALFORMED),
        }, {
                .name = "frame cut inside the second vlan tag",
                .default_action = DROP,
                .packet = { .vlan = { { VLAN_8021AD, 10 }, { VLAN_8021Q, 20 } }, .l3 = PACKET_L3_IPV4 },
                .mangle = cut_inside_second_vlan_tag,
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT) | S(PF_STAT_MALFORMED),
        }, {
                .name = "ipv4 ethertype with no ip header",
                .rules = { { "0.0.0.0/0", DROP, 1 } },
                .packet = { .l3 = PACKET_L3_IPV4 },
                .mangle = cut_after_ethertype,
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_MALFORMED),
        }, {
                .name = "ipv4 cut inside its header, blocked source not matched",
                .rules = { { "192.0.2.1/32", DROP, 1 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP },
                .mangle = cut_inside_ipv4_header,
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_MALFORMED),
        }, {
                .name = "ipv4 cut inside its options",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV4, .ip_options = 40, .l4 = PACKET_L4_UDP },
                .mangle = cut_inside_ipv4_options,
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT) | S(PF_STAT_MALFORMED),
        }, {
                .name = "ipv4 ihl past the end of the frame",
                .rules = { { "192.0.2.1/32", DROP, 1 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP },
                .mangle = ipv4_ihl_beyond_end,
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_MALFORMED),
        }, {
                .name = "ipv4 ihl 4",
                .default_action = DROP,
                .rules = { { "192.0.2.1/32", PASS, 1 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP },
                .mangle = ipv4_ihl_4,
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT) | S(PF_STAT_MALFORMED),
        }, {
                .name = "ipv4 ihl 0",
                .packet = { .l3 = PACKET_L3_IPV4, .l4 = PACKET_L4_UDP },
                .mangle = ipv4_ihl_0,
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_MALFORMED),
        }, {
                .name = "ipv4 ethertype carrying version 6",
                .rules = { { "192.0.2.1/32", DROP, 1 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP },
                .mangle = ipv4_version_6,
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_MALFORMED),
        }, {
                .name = "ipv4 total length shorter than its header",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV4, .l4 = PACKET_L4_UDP },
                .mangle = ipv4_total_length_below_header,
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT) | S(PF_STAT_MALFORMED),
        }, {
                .name = "ipv6 ethertype with no ip header",
                .packet = { .l3 = PACKET_L3_IPV6 },
                .mangle = cut_after_ethertype,
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_MALFORMED),
        }, {
                .name = "ipv6 cut inside its header, blocked source not matched",
                .rules = { { "2001:db8::1/128", DROP, 1 } },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8::1", .l4 = PACKET_L4_UDP },
                .mangle = cut_inside_ipv6_header,
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_MALFORMED),
        }, {
                .name = "ipv6 ethertype carrying version 4",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV6, .l4 = PACKET_L4_UDP },
                .mangle = ipv6_version_4,
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT) | S(PF_STAT_MALFORMED),
        }, {
                .name = "qinq ipv6 cut inside its header",
                .default_action = DROP,
                .packet = { .vlan = { { VLAN_8021AD, 1 }, { VLAN_8021Q, 2 } }, .l3 = PACKET_L3_IPV6 },
                .mangle = cut_inside_ipv6_header,
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT) | S(PF_STAT_MALFORMED),
        },

        /* Counters exact over many runs. */
        {
                .name = "ipv4 drop counted 1000 times exactly",
                .rules = { { "192.0.2.0/24", DROP, 17 } },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP, .payload = 100 },
                .repeat = 1000,
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv6 drop counted 1000 times exactly",
                .rules = { { "2001:db8::/32", DROP, 4000 } },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8::1", .l4 = PACKET_L4_TCP, .payload = 1000 },
                .repeat = 1000,
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "pass rule counted 1000 times exactly",
                .default_action = DROP,
                .rules = { { "192.0.2.0/24", DROP, 1 }, { "192.0.2.5/32", PASS, 2 } },
                .packet = { .vlan = { { VLAN_8021Q, 7 } }, .l3 = PACKET_L3_IPV4, .src = "192.0.2.5",
                            .l4 = PACKET_L4_TCP },
                .repeat = 1000,
                .verdict = XDP_PASS, .hit = 2, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "malformed counted 1000 times exactly",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV4 },
                .mangle = cut_inside_ipv4_header,
                .repeat = 1000,
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT) | S(PF_STAT_MALFORMED),
        },
};

static int install(Loader *l, enum pf_action default_action, const struct rule_spec *rules, size_t n_rules) {
        int r;

        r = loader_set_default_action(l, default_action);
        if (r < 0)
                return log_error_errno(r, "Failed to set the default action: %m");

        for (size_t i = 0; i < n_rules && rules[i].source; i++) {
                struct prefix p;

                r = prefix_parse(rules[i].source, &p);
                if (r < 0)
                        return log_error_errno(r, "Bad prefix '%s' in the test table: %s",
                                               rules[i].source, prefix_strerror(r));
                r = loader_prefix_set(l, &p, rules[i].slot, rules[i].action);
                if (r < 0)
                        return log_error_errno(r, "Failed to install %s: %m", rules[i].source);
        }
        return 0;
}

/*
 * Runs the frame through the program. test_run refuses buffers shorter than
 * an Ethernet header, so a shorter frame is put behind XDP metadata (at most
 * 32 bytes, a multiple of 4): the program then sees exactly p->len bytes.
 */
static int run_frame(int prog_fd, const struct packet *p, uint32_t repeat, uint32_t *ret_verdict,
                     uint32_t *ret_ns) {
        uint8_t buf[32 + PACKET_MAX] = {};
        struct xdp_md ctx = {};
        size_t meta = 0;
        int r;

        if (p->len < ETH_HLEN)
                meta = (ETH_HLEN - p->len + 3) & ~(size_t) 3;
        memcpy(buf + meta, p->data, p->len);
        ctx.data = meta;
        ctx.data_end = meta + p->len;

        LIBBPF_OPTS(bpf_test_run_opts, opts,
                    .data_in = buf,
                    .data_size_in = meta + p->len,
                    .ctx_in = meta > 0 ? &ctx : NULL,
                    .ctx_size_in = meta > 0 ? sizeof(ctx) : 0,
                    .repeat = repeat);

        r = bpf_prog_test_run_opts(prog_fd, &opts);
        if (r < 0)
                return negative_errno();
        *ret_verdict = opts.retval;
        if (ret_ns)
                *ret_ns = opts.duration;
        return 0;
}

static const char *stat_name(enum pf_stat s) {
        static const char *const names[_PF_STAT_MAX] = {
                [PF_STAT_PACKETS] = "packets",
                [PF_STAT_PASSED] = "passed",
                [PF_STAT_DROPPED_BY_RULE] = "dropped-by-rule",
                [PF_STAT_DROPPED_BY_DEFAULT] = "dropped-by-default",
                [PF_STAT_MALFORMED] = "malformed",
                [PF_STAT_NON_IP] = "non-ip",
        };
        return names[s] ?: "?";
}

static const char *verdict_name(uint32_t v) {
        return v == XDP_PASS ? "XDP_PASS" : v == XDP_DROP ? "XDP_DROP" : "other";
}

static int expect_nothing_counted(Loader *l, const struct xdp_case *c) {
        struct pf_statistics stats;
        int r, mismatches = 0;

        printf("#   the kernel refuses frames shorter than %d bytes: checking that nothing was counted\n", ETH_HLEN);
        r = loader_statistics_read(l, &stats);
        if (r < 0)
                return log_error_errno(r, "Failed to read the statistics: %m");
        for (enum pf_stat s = 0; s < _PF_STAT_MAX; s++)
                if (stats.v[s] != 0) {
                        printf("#   statistic %s = %" PRIu64 ", expected 0\n", stat_name(s), stats.v[s]);
                        mismatches++;
                }
        for (size_t i = 0; i < ELEMENTSOF(c->rules) && c->rules[i].source; i++) {
                uint64_t packets, bytes;

                r = loader_counter_read(l, c->rules[i].slot, &packets, &bytes);
                if (r < 0)
                        return log_error_errno(r, "Failed to read counter %u: %m", c->rules[i].slot);
                if (packets != 0 || bytes != 0) {
                        printf("#   rule %s counted %" PRIu64 " packets\n", c->rules[i].source, packets);
                        mismatches++;
                }
        }
        return mismatches;
}

/* Returns the number of mismatches (0 = passed), or a negative errno if the case could not run. */
static int run_case(const struct xdp_case *c) {
        _cleanup_(test_loader_freep) Loader *l = NULL;
        uint32_t repeat = c->repeat ?: 1, verdict;
        struct pf_statistics stats;
        struct packet p;
        int r, mismatches = 0;

        r = packet_build(&c->packet, &p);
        if (r < 0)
                return log_error_errno(r, "Bad packet in the test table: %m");
        if (c->mangle)
                c->mangle(&p);

        r = loader_new(NULL, &l);
        if (r < 0)
                return log_error_errno(r, "Failed to load the XDP program: %m");
        r = install(l, c->default_action, c->rules, ELEMENTSOF(c->rules));
        if (r < 0)
                return r;

        r = run_frame(loader_prog_fd(l), &p, repeat, &verdict, NULL);
        if (r == -EINVAL && p.len < ETH_HLEN)
                /* Recent kernels never hand XDP a frame shorter than an Ethernet header
                 * (not even behind metadata); then only check that nothing ran. */
                return expect_nothing_counted(l, c);
        if (r < 0)
                return log_error_errno(r, "bpf_prog_test_run_opts() failed on a %zu-byte frame: %m", p.len);

        if (verdict != (uint32_t) c->verdict) {
                printf("#   verdict %s, expected %s\n", verdict_name(verdict), verdict_name(c->verdict));
                mismatches++;
        }

        for (size_t i = 0; i < ELEMENTSOF(c->rules) && c->rules[i].source; i++) {
                bool hit = c->hit == i + 1;
                uint64_t packets, bytes;

                r = loader_counter_read(l, c->rules[i].slot, &packets, &bytes);
                if (r < 0)
                        return log_error_errno(r, "Failed to read counter %u: %m", c->rules[i].slot);
                if (packets != (hit ? repeat : 0) || bytes != (hit ? (uint64_t) repeat * p.len : 0)) {
                        printf("#   rule %s (slot %u): %" PRIu64 " packets, %" PRIu64 " bytes; "
                               "expected %" PRIu64 ", %" PRIu64 "\n",
                               c->rules[i].source, c->rules[i].slot, packets, bytes,
                               (uint64_t) (hit ? repeat : 0), hit ? (uint64_t) repeat * p.len : 0);
                        mismatches++;
                }
        }

        r = loader_statistics_read(l, &stats);
        if (r < 0)
                return log_error_errno(r, "Failed to read the statistics: %m");
        for (enum pf_stat s = 0; s < _PF_STAT_MAX; s++) {
                uint64_t expected = s == PF_STAT_PACKETS || (c->stats & S(s)) ? repeat : 0;

                if (stats.v[s] != expected) {
                        printf("#   statistic %s = %" PRIu64 ", expected %" PRIu64 "\n",
                               stat_name(s), stats.v[s], expected);
                        mismatches++;
                }
        }
        return mismatches;
}

/*
 * The per-CPU counters summed over CPUs are exact: one thread per CPU, each
 * pinned to its CPU, runs the same blocked frame; the total is the sum.
 */
#define ALL_CPUS_REPEAT 100000u
#define ALL_CPUS_ROUNDS 10u

struct cpu_worker {
        pthread_t thread;
        int cpu;
        int prog_fd;
        const struct packet *packet;
        int error;
};

static void *cpu_worker_run(void *userdata) {
        struct cpu_worker *w = userdata;
        cpu_set_t set;
        uint32_t verdict;

        CPU_ZERO(&set);
        CPU_SET(w->cpu, &set);
        w->error = -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
        for (unsigned i = 0; w->error == 0 && i < ALL_CPUS_ROUNDS; i++) {
                w->error = run_frame(w->prog_fd, w->packet, ALL_CPUS_REPEAT, &verdict, NULL);
                if (w->error == 0 && verdict != XDP_DROP)
                        w->error = -EBADMSG;
        }
        return NULL;
}

static int test_counters_all_cpus(void) {
        static const struct rule_spec rule = { "192.0.2.0/24", DROP, 42 };
        static const struct packet_spec spec = {
                .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP, .payload = 18,
        };
        _cleanup_(test_loader_freep) Loader *l = NULL;
        _cleanup_free_ struct cpu_worker *workers = NULL;
        long n_cpus = sysconf(_SC_NPROCESSORS_ONLN);
        struct pf_statistics stats;
        uint64_t packets, bytes, expected;
        struct packet p;
        int r, mismatches = 0;

        if (n_cpus < 1)
                n_cpus = 1;
        r = packet_build(&spec, &p);
        if (r < 0)
                return log_error_errno(r, "Bad packet: %m");
        r = loader_new(NULL, &l);
        if (r < 0)
                return log_error_errno(r, "Failed to load the XDP program: %m");
        r = install(l, PASS, &rule, 1);
        if (r < 0)
                return r;

        workers = calloc(n_cpus, sizeof(*workers));
        if (!workers)
                return log_oom();
        for (long i = 0; i < n_cpus; i++) {
                workers[i] = (struct cpu_worker) {
                        .cpu = (int) i, .prog_fd = loader_prog_fd(l), .packet = &p,
                };
                r = -pthread_create(&workers[i].thread, NULL, cpu_worker_run, &workers[i]);
                if (r < 0)
                        return log_error_errno(r, "Failed to start a thread: %m");
        }
        for (long i = 0; i < n_cpus; i++) {
                (void) pthread_join(workers[i].thread, NULL);
                if (workers[i].error < 0)
                        return log_error_errno(workers[i].error, "Run on CPU %d failed: %m", workers[i].cpu);
        }

        expected = (uint64_t) n_cpus * ALL_CPUS_ROUNDS * ALL_CPUS_REPEAT;
        r = loader_counter_read(l, rule.slot, &packets, &bytes);
        if (r < 0)
                return log_error_errno(r, "Failed to read the counter: %m");
        if (packets != expected || bytes != expected * p.len) {
                printf("#   counter: %" PRIu64 " packets, %" PRIu64 " bytes; expected %" PRIu64 ", %" PRIu64 "\n",
                       packets, bytes, expected, expected * p.len);
                mismatches++;
        }
        r = loader_statistics_read(l, &stats);
        if (r < 0)
                return log_error_errno(r, "Failed to read the statistics: %m");
        if (stats.v[PF_STAT_PACKETS] != expected || stats.v[PF_STAT_DROPPED_BY_RULE] != expected) {
                printf("#   statistics: packets %" PRIu64 ", dropped-by-rule %" PRIu64 "; expected %" PRIu64 "\n",
                       stats.v[PF_STAT_PACKETS], stats.v[PF_STAT_DROPPED_BY_RULE], expected);
                mismatches++;
        }
        return mismatches;
}

/* Informational: average ns per run of the program, as bpf_prog_test_run_opts measures it. */
static int print_timing(void) {
        static const struct {
                const char *name;
                struct packet_spec spec;
        } paths[] = {
                { "ipv4 pass (miss)", { .l3 = PACKET_L3_IPV4, .src = "203.0.113.1", .l4 = PACKET_L4_UDP } },
                { "ipv4 drop (hit)",  { .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP } },
                { "ipv6 pass (miss)", { .l3 = PACKET_L3_IPV6, .src = "2001:db8:1::1", .l4 = PACKET_L4_UDP } },
                { "ipv6 drop (hit)",  { .l3 = PACKET_L3_IPV6, .src = "2001:db8::1", .l4 = PACKET_L4_UDP } },
        };
        static const struct rule_spec rules[] = {
                { "192.0.2.0/24", DROP, 1 },
                { "2001:db8::/64", DROP, 2 },
        };
        _cleanup_(test_loader_freep) Loader *l = NULL;
        int r;

        r = loader_new(NULL, &l);
        if (r < 0)
                return log_error_errno(r, "Failed to load the XDP program: %m");
        r = install(l, PASS, rules, ELEMENTSOF(rules));
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                uint32_t verdict, ns;
                struct packet p;

                r = packet_build(&paths[i].spec, &p);
                if (r < 0)
                        return log_error_errno(r, "Bad packet: %m");
                r = run_frame(loader_prog_fd(l), &p, 1000000, &verdict, &ns);
                if (r < 0)
                        return log_error_errno(r, "bpf_prog_test_run_opts() failed: %m");
                printf("%-18s %s  %u ns/packet (repeat=1000000, hot)\n", paths[i].name, verdict_name(verdict), ns);
        }
        return 0;
}

/* loader_new(NULL) promises to pin nothing: look in the private bpffs (whose
 * own maps.debug and progs.debug files do not count). */
static int test_unpinned_loader_pins_nothing(void) {
        _cleanup_(test_loader_freep) Loader *l = NULL;
        DIR *d;
        int r, mismatches = 0;

        r = loader_new(NULL, &l);
        if (r < 0)
                return log_error_errno(r, "Failed to load the XDP program: %m");

        d = opendir("/sys/fs/bpf");
        if (!d)
                return log_error_errno(negative_errno(), "Failed to open /sys/fs/bpf: %m");
        for (struct dirent *de; (de = readdir(d)); ) {
                if (streq(de->d_name, ".") || streq(de->d_name, "..") ||
                    streq(de->d_name, "maps.debug") || streq(de->d_name, "progs.debug"))
                        continue;
                printf("#   found /sys/fs/bpf/%s (libbpf pins LIBBPF_PIN_BY_NAME maps there "
                       "unless the loader clears their pin paths)\n", de->d_name);
                mismatches++;
        }
        (void) closedir(d);
        return mismatches;
}

/*
 * Whatever the loader does, this test must not leave pins in the host's
 * bpffs: it runs in its own mount namespace with a fresh bpffs on
 * /sys/fs/bpf, which vanishes with the process. Pins that leaked there would
 * still show up as counters carried from one case to the next.
 */
static int isolate_bpffs(void) {
        if (unshare(CLONE_NEWNS) < 0)
                return log_error_errno(negative_errno(), "Failed to create a mount namespace: %m");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return log_error_errno(negative_errno(), "Failed to make mounts private: %m");
        if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") < 0)
                return log_error_errno(negative_errno(), "Failed to mount a private bpffs: %m");
        return 0;
}

int main(int argc, char *argv[]) {
        unsigned failed = 0, n = 0;
        int r;

        if (geteuid() != 0) {
                bool allow_skip = streq_ptr(getenv("PF_ALLOW_SKIP"), "1");

                fprintf(stderr, "test-xdp: needs root (CAP_BPF and CAP_NET_ADMIN) to load the XDP program%s\n",
                        allow_skip ? "; skipping" : "; run it as root, or set PF_ALLOW_SKIP=1 to skip");
                return allow_skip ? 77 : EXIT_FAILURE;
        }

        if (isolate_bpffs() < 0)
                return EXIT_FAILURE;

        if (argc > 1 && streq(argv[1], "--timing"))
                return print_timing() < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        printf("1..%zu\n", ELEMENTSOF(cases) + 2);

        r = test_unpinned_loader_pins_nothing();
        if (r < 0)
                return EXIT_FAILURE;
        printf("%s %u - an unpinned loader pins nothing\n", r == 0 ? "ok" : "not ok", ++n);
        failed += r != 0;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                r = run_case(&cases[i]);
                if (r < 0)
                        return EXIT_FAILURE;
                printf("%s %u - %s\n", r == 0 ? "ok" : "not ok", ++n, cases[i].name);
                failed += r != 0;
        }

        r = test_counters_all_cpus();
        if (r < 0)
                return EXIT_FAILURE;
        printf("%s %u - counters summed over every CPU are exact\n", r == 0 ? "ok" : "not ok", ++n);
        failed += r != 0;

        if (failed > 0) {
                printf("# %u of %u cases failed\n", failed, n);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
