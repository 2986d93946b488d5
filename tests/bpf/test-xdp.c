/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The XDP program on crafted frames, through bpf_prog_test_run_opts. Each row
 * of the table gives rules in the words of the rule model, the default
 * action, a frame and the interface it comes in on. The rules are pushed into
 * one unpinned program the way the daemon pushes them (ruleset-loader.c),
 * the frame runs `repeat` times, and then:
 *  - the verdict is the expected one;
 *  - exactly the expected rule's counter rose, by `repeat` packets and
 *    `repeat` × the frame length bytes, and no other slot any row uses moved;
 *  - exactly the expected global statistics rose, each by `repeat`;
 *  - the reference matcher (reference.c) gives the table's answer too, so
 *    that the table also checks the reference the differential test trusts.
 *
 *   test-xdp            run every case (needs root: CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)
 *   test-xdp --timing   print ns/packet on a few paths (informational)
 *
 * It runs in a mount namespace of its own (a private bpffs on /sys/fs/bpf)
 * and a network namespace of its own (lo and a veth pair to match interface
 * rules against); both vanish with the process. Without root it fails, or
 * exits 77 (skipped) when PF_ALLOW_SKIP=1.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "address.h"
#include "loader.h"
#include "log.h"
#include "macro.h"
#include "isolate.h"
#include "packet.h"
#include "reference.h"
#include "ruleset-loader.h"

#define S(stat) (1u << (stat))
#define PASSED          S(PF_STAT_PASSED)
#define BY_RULE         S(PF_STAT_DROPPED_BY_RULE)
#define BY_DEFAULT      S(PF_STAT_DROPPED_BY_DEFAULT)
#define MALFORMED       S(PF_STAT_MALFORMED)
#define NON_IP          S(PF_STAT_NON_IP)
#define FRAGMENT        S(PF_STAT_FRAGMENTS)
#define SPARED          S(PF_STAT_ALWAYS_PASSED)

#define DROP PF_ACTION_DROP
#define PASS PF_ACTION_PASS

#define VLAN_8021Q  0x8100
#define VLAN_8021AD 0x88a8

#define V4 .l3 = PACKET_L3_IPV4
#define V6 .l3 = PACKET_L3_IPV6

/* A rule on the source alone: a block rule. */
#define BLOCK(prefix, act) { .action = (act), .source = (prefix) }

/* The veth pair inside the test's own network namespace. */
#define TEST_IFACE0 "pfx0"
#define TEST_IFACE1 "pfx1"

#define MAX_RULES 6
/* An explicit slot in a row (0 in the table means "chosen by the test"). */
#define SLOT(n) ((n) + 1u)
#define AUTO_CLASSIFIER_SLOT(i) (100u + 7u * (i))
#define AUTO_BLOCK_SLOT(i) (1000u + 17u * (i))

struct xdp_case {
        const char *name;
        enum pf_action default_action;
        struct rule_text rules[MAX_RULES];      /* .action NULL ends the list */
        uint32_t ids[MAX_RULES];                /* 0: position + 1 */
        uint32_t slots[MAX_RULES];              /* SLOT(n), or 0: AUTO_*_SLOT(position) */
        struct packet_spec packet;
        void (*mangle)(struct packet *p);       /* breaks the built frame on purpose */
        const char *ingress;                    /* interface the frame comes in on; NULL: lo */
        uint32_t repeat;                        /* 0 means 1 */
        int verdict;                            /* XDP_PASS or XDP_DROP */
        unsigned hit;                           /* 1-based index of the rule that decides, 0: the default */
        unsigned stats;                         /* S() of statistics that rise by repeat; PACKETS always does */
};

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

static void ipv4_total_length_1500(struct packet *p) {
        p->data[p->l3_off + 2] = 1500 >> 8;
        p->data[p->l3_off + 3] = 1500 & 0xff;
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

static void cut_after_l3(struct packet *p) {
        p->len = p->l4_off;
}

static void cut_inside_first_ext(struct packet *p) {
        p->len = p->ext_off[0] + 5;
}

static void cut_first_ext_after_8(struct packet *p) {
        p->len = p->ext_off[0] + 8;
}

static void cut_l4_at_3(struct packet *p) {
        p->len = p->l4_off + 3;
}

static void cut_l4_at_4(struct packet *p) {
        p->len = p->l4_off + 4;
}

static void cut_l4_at_7(struct packet *p) {
        p->len = p->l4_off + 7;
}

static void cut_l4_at_11(struct packet *p) {
        p->len = p->l4_off + 11;
}

static void cut_l4_at_19(struct packet *p) {
        p->len = p->l4_off + 19;
}

static const struct xdp_case cases[] = {
        /* IPv4 sources, single prefixes. */
        {
                .name = "ipv4 no rules, default pass",
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv4 blocked /32",
                .rules = { BLOCK("192.0.2.1/32", "drop") },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv4 neighbour of a blocked /32 passes",
                .rules = { BLOCK("192.0.2.1/32", "drop") },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.3", .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv4 destination matching a source rule passes",
                .rules = { BLOCK("192.0.2.2/32", "drop") },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "198.51.100.7", .dst = "192.0.2.2",
                            .l4 = PACKET_L4_TCP, .dport = 22 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv4 blocked /24, tcp",
                .rules = { BLOCK("198.51.100.0/24", "drop") },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "198.51.100.200", .l4 = PACKET_L4_TCP, .dport = 443 },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv4 just outside a blocked /24",
                .rules = { BLOCK("198.51.100.0/24", "drop") },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "198.51.101.0", .l4 = PACKET_L4_TCP, .dport = 443 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv4 blocked /0 drops everything, icmp",
                .rules = { BLOCK("0.0.0.0/0", "drop") },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "203.0.113.9", .l4 = PACKET_L4_ICMP, .icmp_type = 8 },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv4 /0 does not touch ipv6",
                .rules = { BLOCK("0.0.0.0/0", "drop") },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8::1", .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv4 with 40 bytes of options, blocked",
                .rules = { BLOCK("192.0.2.1/32", "drop") },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .ip_options = 40,
                            .l4 = PACKET_L4_TCP, .dport = 80 },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv4 with 4 bytes of options, not blocked",
                .rules = { BLOCK("192.0.2.1/32", "drop") },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.9", .ip_options = 4, .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        },

        /* Longest prefix wins. */
        {
                .name = "ipv4 /32 pass inside a /24 drop",
                .rules = { BLOCK("192.0.2.0/24", "drop"), BLOCK("192.0.2.7/32", "pass") },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.7", .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .hit = 2, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv4 rest of the /24 still dropped",
                .rules = { BLOCK("192.0.2.0/24", "drop"), BLOCK("192.0.2.7/32", "pass") },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.8", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv4 three nested prefixes, deepest decides",
                .rules = { BLOCK("10.0.0.0/8", "drop"), BLOCK("10.1.0.0/16", "pass"), BLOCK("10.1.2.0/24", "drop") },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "10.1.2.3", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 3, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv4 three nested prefixes, middle decides",
                .rules = { BLOCK("10.0.0.0/8", "drop"), BLOCK("10.1.0.0/16", "pass"), BLOCK("10.1.2.0/24", "drop") },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "10.1.3.3", .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .hit = 2, .stats = S(PF_STAT_PASSED),
        },

        /* Default action. */
        {
                .name = "ipv4 default drop, no match",
                .default_action = DROP,
                .rules = { BLOCK("192.0.2.1/32", "pass") },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.2", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT),
        }, {
                .name = "ipv4 default drop, pass rule matches",
                .default_action = DROP,
                .rules = { BLOCK("192.0.2.1/32", "pass") },
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
                .rules = { BLOCK("2001:db8::1/128", "drop") },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8::1", .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv6 neighbour of a blocked /128 passes",
                .rules = { BLOCK("2001:db8::1/128", "drop") },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8::1:1", .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv6 blocked /64",
                .rules = { BLOCK("2001:db8:0:1::/64", "drop") },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8:0:1:ffff:ffff:ffff:ffff", .l4 = PACKET_L4_TCP },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv6 just outside a blocked /64",
                .rules = { BLOCK("2001:db8:0:1::/64", "drop") },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8:0:2::", .l4 = PACKET_L4_TCP },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv6 blocked ::/0",
                .rules = { BLOCK("::/0", "drop") },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8:ffff::1", .l4 = PACKET_L4_ICMPV6, .icmp_type = 128 },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv6 /128 pass inside a /64 drop",
                .rules = { BLOCK("2001:db8::/64", "drop"), BLOCK("2001:db8::42/128", "pass") },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8::42", .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .hit = 2, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "ipv6 rest of the /64 still dropped",
                .rules = { BLOCK("2001:db8::/64", "drop"), BLOCK("2001:db8::42/128", "pass") },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8::43", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv6 ipv4-mapped source is not an ipv4 match",
                .rules = { BLOCK("192.0.2.1/32", "drop") },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "::ffff:192.0.2.1", .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        },

        /* Neighbour discovery and ARP are never cut by the default drop. */
        {
                .name = "ndp neighbour solicitation passes default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV6, .src = "fe80::1", .dst = "ff02::1:ff00:2", .hop_limit = 255,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 135 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_ALWAYS_PASSED),
        }, {
                .name = "ndp neighbour advertisement passes default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV6, .src = "fe80::2", .dst = "fe80::1", .hop_limit = 255,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 136 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_ALWAYS_PASSED),
        }, {
                .name = "ndp router solicitation passes default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV6, .src = "fe80::2", .dst = "ff02::2", .hop_limit = 255,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 133 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_ALWAYS_PASSED),
        }, {
                .name = "ndp router advertisement passes default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV6, .src = "fe80::1", .dst = "ff02::1", .hop_limit = 255,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 134, .payload = 8 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_ALWAYS_PASSED),
        }, {
                .name = "ndp redirect passes default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV6, .src = "fe80::1", .dst = "fe80::2", .hop_limit = 255,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 137 },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_ALWAYS_PASSED),
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
                .name = "ndp cut before its icmpv6 header is malformed: no pass on default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_IPV6, .src = "fe80::1", .hop_limit = 255,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 135 },
                .mangle = cut_after_ipv6_header,
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT) | MALFORMED,
        }, {
                .name = "ndp from a blocked source is dropped by its rule",
                .rules = { BLOCK("fe80::bad/128", "drop") },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "fe80::bad", .hop_limit = 255,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 135 },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "arp passes default drop",
                .default_action = DROP,
                .packet = { .l3 = PACKET_L3_ARP, .src = "192.0.2.1", .dst = "192.0.2.2" },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_ALWAYS_PASSED) | S(PF_STAT_NON_IP),
        }, {
                .name = "arp from a blocked sender still passes",
                .rules = { BLOCK("192.0.2.1/32", "drop") },
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
                .rules = { BLOCK("192.0.2.1/32", "drop") },
                .packet = { .vlan = { { VLAN_8021Q, 10 } }, .l3 = PACKET_L3_IPV4, .src = "192.0.2.1",
                            .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "802.1q tagged ipv6, not blocked",
                .rules = { BLOCK("2001:db8::1/128", "drop") },
                .packet = { .vlan = { { VLAN_8021Q, 4095 } }, .l3 = PACKET_L3_IPV6, .src = "2001:db8::2",
                            .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "qinq (802.1ad + 802.1q) ipv6, blocked",
                .rules = { BLOCK("2001:db8::/64", "drop") },
                .packet = { .vlan = { { VLAN_8021AD, 100 }, { VLAN_8021Q, 200 } }, .l3 = PACKET_L3_IPV6,
                            .src = "2001:db8::1", .l4 = PACKET_L4_TCP },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "qinq (802.1ad + 802.1q) ipv4, not blocked",
                .rules = { BLOCK("192.0.2.0/24", "drop") },
                .packet = { .vlan = { { VLAN_8021AD, 100 }, { VLAN_8021Q, 200 } }, .l3 = PACKET_L3_IPV4,
                            .src = "203.0.113.1", .l4 = PACKET_L4_TCP },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED),
        }, {
                .name = "double 802.1q ipv4, blocked",
                .rules = { BLOCK("192.0.2.0/24", "drop") },
                .packet = { .vlan = { { VLAN_8021Q, 1 }, { VLAN_8021Q, 2 } }, .l3 = PACKET_L3_IPV4,
                            .src = "192.0.2.77", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "three tags are not parsed: non-ip, default drop",
                .default_action = DROP,
                .rules = { BLOCK("192.0.2.0/24", "pass") },
                .packet = { .vlan = { { VLAN_8021AD, 1 }, { VLAN_8021Q, 2 }, { VLAN_8021Q, 3 } },
                            .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .stats = S(PF_STAT_DROPPED_BY_DEFAULT) | S(PF_STAT_NON_IP),
        }, {
                .name = "802.1q tagged arp passes default drop",
                .default_action = DROP,
                .packet = { .vlan = { { VLAN_8021Q, 10 } }, .l3 = PACKET_L3_ARP },
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_ALWAYS_PASSED) | S(PF_STAT_NON_IP),
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
                .rules = { BLOCK("0.0.0.0/0", "drop") },
                .packet = { .l3 = PACKET_L3_IPV4 },
                .mangle = cut_after_ethertype,
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_MALFORMED),
        }, {
                .name = "ipv4 cut inside its header, blocked source not matched",
                .rules = { BLOCK("192.0.2.1/32", "drop") },
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
                .rules = { BLOCK("192.0.2.1/32", "drop") },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP },
                .mangle = ipv4_ihl_beyond_end,
                .verdict = XDP_PASS, .stats = S(PF_STAT_PASSED) | S(PF_STAT_MALFORMED),
        }, {
                .name = "ipv4 ihl 4",
                .default_action = DROP,
                .rules = { BLOCK("192.0.2.1/32", "pass") },
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
                .rules = { BLOCK("192.0.2.1/32", "drop") },
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
                .rules = { BLOCK("2001:db8::1/128", "drop") },
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
                .rules = { BLOCK("192.0.2.0/24", "drop") },
                .packet = { .l3 = PACKET_L3_IPV4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP, .payload = 100 },
                .repeat = 1000,
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "ipv6 drop counted 1000 times exactly",
                .rules = { BLOCK("2001:db8::/32", "drop") },
                .packet = { .l3 = PACKET_L3_IPV6, .src = "2001:db8::1", .l4 = PACKET_L4_TCP, .payload = 1000 },
                .repeat = 1000,
                .verdict = XDP_DROP, .hit = 1, .stats = S(PF_STAT_DROPPED_BY_RULE),
        }, {
                .name = "pass rule counted 1000 times exactly",
                .default_action = DROP,
                .rules = { BLOCK("192.0.2.0/24", "drop"), BLOCK("192.0.2.5/32", "pass") },
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

        /* ---- Classifier rules: each field alone ---- */

        /* destination */
        {
                .name = "destination ipv4 /24 drops",
                .rules = { { .action = "drop", .destination = "198.51.100.0/24" } },
                .packet = { V4, .dst = "198.51.100.9", .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "destination ipv4 /24, other destination passes",
                .rules = { { .action = "drop", .destination = "198.51.100.0/24" } },
                .packet = { V4, .dst = "198.51.101.9", .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "destination ipv6 /48 drops",
                .rules = { { .action = "drop", .destination = "2001:db8:1::/48" } },
                .packet = { V6, .dst = "2001:db8:1:2::3", .l4 = PACKET_L4_TCP, .dport = 80 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "destination ipv6 rule does not look at the source",
                .rules = { { .action = "drop", .destination = "2001:db8:1::/48" } },
                .packet = { V6, .src = "2001:db8:1::5", .dst = "2001:db8:2::5", .l4 = PACKET_L4_TCP },
                .verdict = XDP_PASS, .stats = PASSED,
        },

        /* protocol */
        {
                .name = "protocol tcp by name drops tcp",
                .rules = { { .action = "drop", .protocol = "tcp" } },
                .packet = { V4, .l4 = PACKET_L4_TCP, .dport = 80 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "protocol tcp does not match udp",
                .rules = { { .action = "drop", .protocol = "tcp" } },
                .packet = { V4, .l4 = PACKET_L4_UDP, .dport = 80 },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "protocol 17 by number matches ipv6 udp",
                .rules = { { .action = "drop", .protocol = "17" } },
                .packet = { V6, .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "protocol 47 (gre) by number",
                .rules = { { .action = "drop", .protocol = "47" } },
                .packet = { V4, .next_header = 47, .payload = 8 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "protocol sctp",
                .rules = { { .action = "drop", .protocol = "sctp" } },
                .packet = { V4, .l4 = PACKET_L4_SCTP, .sport = 1, .dport = 2 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "protocol icmpv6",
                .rules = { { .action = "drop", .protocol = "icmpv6" } },
                .packet = { V6, .l4 = PACKET_L4_ICMPV6, .icmp_type = 128 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "protocol icmp does not match icmpv6",
                .rules = { { .action = "drop", .protocol = "icmp" } },
                .packet = { V6, .l4 = PACKET_L4_ICMPV6, .icmp_type = 128 },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "protocol 59 matches ipv6 with no next header",
                .rules = { { .action = "drop", .protocol = "59" } },
                .packet = { V6 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        },

        /* destination port */
        {
                .name = "tcp port 22 drops port 22",
                .rules = { { .action = "drop", .protocol = "tcp", .port = "22" } },
                .packet = { V4, .l4 = PACKET_L4_TCP, .sport = 40000, .dport = 22 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "tcp port 22 passes port 23",
                .rules = { { .action = "drop", .protocol = "tcp", .port = "22" } },
                .packet = { V4, .l4 = PACKET_L4_TCP, .sport = 40000, .dport = 23 },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "port range: low edge 8000 matches",
                .rules = { { .action = "drop", .protocol = "tcp", .port = "8000-8100" } },
                .packet = { V4, .l4 = PACKET_L4_TCP, .dport = 8000 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "port range: high edge 8100 matches",
                .rules = { { .action = "drop", .protocol = "tcp", .port = "8000-8100" } },
                .packet = { V6, .l4 = PACKET_L4_TCP, .dport = 8100 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "port range: 7999 below it passes",
                .rules = { { .action = "drop", .protocol = "tcp", .port = "8000-8100" } },
                .packet = { V4, .l4 = PACKET_L4_TCP, .dport = 7999 },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "port range: 8101 above it passes",
                .rules = { { .action = "drop", .protocol = "tcp", .port = "8000-8100" } },
                .packet = { V6, .l4 = PACKET_L4_TCP, .dport = 8101 },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "udp port rule does not match tcp on that port",
                .rules = { { .action = "drop", .protocol = "udp", .port = "53" } },
                .packet = { V4, .l4 = PACKET_L4_TCP, .dport = 53 },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "sctp port",
                .rules = { { .action = "drop", .protocol = "sctp", .port = "9899" } },
                .packet = { V6, .l4 = PACKET_L4_SCTP, .sport = 9899, .dport = 9899 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "port 0",
                .rules = { { .action = "drop", .protocol = "udp", .port = "0" } },
                .packet = { V4, .l4 = PACKET_L4_UDP, .sport = 1, .dport = 0 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "port 65535",
                .rules = { { .action = "drop", .protocol = "udp", .port = "65535" } },
                .packet = { V4, .l4 = PACKET_L4_UDP, .dport = 65535 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "port range 0-65535 matches every tcp port",
                .rules = { { .action = "drop", .protocol = "tcp", .port = "0-65535" } },
                .packet = { V4, .l4 = PACKET_L4_TCP, .dport = 12345 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        },

        /* source port */
        {
                .name = "source-port range: low edge 1024 matches",
                .rules = { { .action = "drop", .protocol = "udp", .source_port = "1024-65535" } },
                .packet = { V4, .l4 = PACKET_L4_UDP, .sport = 1024, .dport = 53 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "source-port range: 1023 below it passes",
                .rules = { { .action = "drop", .protocol = "udp", .source_port = "1024-65535" } },
                .packet = { V4, .l4 = PACKET_L4_UDP, .sport = 1023, .dport = 53 },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "source-port does not look at the destination port",
                .rules = { { .action = "drop", .protocol = "tcp", .source_port = "22" } },
                .packet = { V6, .l4 = PACKET_L4_TCP, .sport = 40000, .dport = 22 },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "source-port and port together match",
                .rules = { { .action = "drop", .protocol = "tcp", .source_port = "1000-2000", .port = "80" } },
                .packet = { V4, .l4 = PACKET_L4_TCP, .sport = 1500, .dport = 80 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "source-port and port together, wrong port passes",
                .rules = { { .action = "drop", .protocol = "tcp", .source_port = "1000-2000", .port = "80" } },
                .packet = { V4, .l4 = PACKET_L4_TCP, .sport = 1500, .dport = 81 },
                .verdict = XDP_PASS, .stats = PASSED,
        },

        /* icmp-type */
        {
                .name = "icmp-type 8 matches echo request",
                .rules = { { .action = "drop", .protocol = "icmp", .icmp_type = "8" } },
                .packet = { V4, .l4 = PACKET_L4_ICMP, .icmp_type = 8 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "icmp-type 8 passes echo reply",
                .rules = { { .action = "drop", .protocol = "icmp", .icmp_type = "8" } },
                .packet = { V4, .l4 = PACKET_L4_ICMP, .icmp_type = 0 },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "icmp-type 0 matches echo reply",
                .rules = { { .action = "drop", .protocol = "icmp", .icmp_type = "0" } },
                .packet = { V4, .l4 = PACKET_L4_ICMP, .icmp_type = 0 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "icmpv6 icmp-type 128 matches",
                .rules = { { .action = "drop", .protocol = "icmpv6", .icmp_type = "128" } },
                .packet = { V6, .l4 = PACKET_L4_ICMPV6, .icmp_type = 128 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "icmpv6 icmp-type 128 passes 129",
                .rules = { { .action = "drop", .protocol = "icmpv6", .icmp_type = "128" } },
                .packet = { V6, .l4 = PACKET_L4_ICMPV6, .icmp_type = 129 },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "icmp-type of icmp does not match icmpv6 of that type",
                .rules = { { .action = "drop", .protocol = "icmp", .icmp_type = "128" } },
                .packet = { V6, .l4 = PACKET_L4_ICMPV6, .icmp_type = 128 },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "icmp-type 8 does not match tcp port 8",
                .rules = { { .action = "drop", .protocol = "icmp", .icmp_type = "8" } },
                .packet = { V4, .l4 = PACKET_L4_TCP, .sport = 8, .dport = 8 },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "tcp port 8 does not match icmp type 8",
                .rules = { { .action = "drop", .protocol = "tcp", .port = "8" } },
                .packet = { V4, .l4 = PACKET_L4_ICMP, .icmp_type = 8 },
                .verdict = XDP_PASS, .stats = PASSED,
        },

        /* vlan */
        {
                .name = "vlan 10 matches an 802.1q tag 10",
                .rules = { { .action = "drop", .vlan = "10" } },
                .packet = { .vlan = { { VLAN_8021Q, 10 } }, V4, .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "vlan 10 passes tag 11",
                .rules = { { .action = "drop", .vlan = "10" } },
                .packet = { .vlan = { { VLAN_8021Q, 11 } }, V4, .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "vlan 10 passes an untagged frame",
                .rules = { { .action = "drop", .vlan = "10" } },
                .packet = { V4, .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "vlan matches the outer tag of qinq",
                .rules = { { .action = "drop", .vlan = "100" } },
                .packet = { .vlan = { { VLAN_8021AD, 100 }, { VLAN_8021Q, 200 } }, V6, .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "vlan does not match the inner tag of qinq",
                .rules = { { .action = "drop", .vlan = "200" } },
                .packet = { .vlan = { { VLAN_8021AD, 100 }, { VLAN_8021Q, 200 } }, V6, .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "vlan 0 matches a priority tag",
                .rules = { { .action = "drop", .vlan = "0" } },
                .packet = { .vlan = { { VLAN_8021Q, 0 } }, V4, .l4 = PACKET_L4_TCP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "vlan 0 passes an untagged frame",
                .rules = { { .action = "drop", .vlan = "0" } },
                .packet = { V4, .l4 = PACKET_L4_TCP },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "vlan 4095",
                .rules = { { .action = "drop", .vlan = "4095" } },
                .packet = { .vlan = { { VLAN_8021Q, 4095 } }, V4, .l4 = PACKET_L4_TCP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "vlan rule on a frame with three tags: not ip, no rule",
                .rules = { { .action = "drop", .vlan = "1" } },
                .packet = { .vlan = { { VLAN_8021Q, 1 }, { VLAN_8021Q, 2 }, { VLAN_8021Q, 3 } }, V4,
                            .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .stats = PASSED | NON_IP,
        },

        /* interface (ingress ifindex through the test run's context) */
        {
                .name = "interface lo matches a frame on lo",
                .rules = { { .action = "drop", .interface = "lo" } },
                .packet = { V4, .l4 = PACKET_L4_UDP },
                .ingress = "lo",
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "interface pfx0 matches a frame on pfx0",
                .rules = { { .action = "drop", .interface = TEST_IFACE0 } },
                .packet = { V6, .l4 = PACKET_L4_UDP },
                .ingress = TEST_IFACE0,
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "interface pfx0 passes a frame on pfx1",
                .rules = { { .action = "drop", .interface = TEST_IFACE0 } },
                .packet = { V6, .l4 = PACKET_L4_UDP },
                .ingress = TEST_IFACE1,
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "interface pfx0 passes a frame on lo",
                .rules = { { .action = "drop", .interface = TEST_IFACE0 } },
                .packet = { V4, .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "interface that does not exist matches nothing",
                .rules = { { .action = "drop", .interface = "pfnosuch0" } },
                .packet = { V4, .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "two interface rules, default drop",
                .default_action = DROP,
                .rules = { { .action = "pass", .interface = TEST_IFACE1 },
                           { .action = "drop", .interface = TEST_IFACE0 } },
                .packet = { V4, .l4 = PACKET_L4_UDP },
                .ingress = TEST_IFACE1,
                .verdict = XDP_PASS, .hit = 1, .stats = PASSED,
        },

        /* ---- Fields combined ---- */
        {
                .name = "every field at once matches",
                .rules = { { .action = "drop", .source = "192.0.2.0/24", .destination = "198.51.100.0/24",
                             .protocol = "udp", .source_port = "5000-6000", .port = "53", .vlan = "10",
                             .interface = TEST_IFACE0 } },
                .packet = { .vlan = { { VLAN_8021Q, 10 } }, V4, .src = "192.0.2.7", .dst = "198.51.100.1",
                            .l4 = PACKET_L4_UDP, .sport = 5353, .dport = 53 },
                .ingress = TEST_IFACE0,
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "every field but the vlan matches",
                .rules = { { .action = "drop", .source = "192.0.2.0/24", .destination = "198.51.100.0/24",
                             .protocol = "udp", .source_port = "5000-6000", .port = "53", .vlan = "10",
                             .interface = TEST_IFACE0 } },
                .packet = { .vlan = { { VLAN_8021Q, 11 } }, V4, .src = "192.0.2.7", .dst = "198.51.100.1",
                            .l4 = PACKET_L4_UDP, .sport = 5353, .dport = 53 },
                .ingress = TEST_IFACE0,
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "every field but the interface matches",
                .rules = { { .action = "drop", .source = "192.0.2.0/24", .destination = "198.51.100.0/24",
                             .protocol = "udp", .source_port = "5000-6000", .port = "53", .vlan = "10",
                             .interface = TEST_IFACE0 } },
                .packet = { .vlan = { { VLAN_8021Q, 10 } }, V4, .src = "192.0.2.7", .dst = "198.51.100.1",
                            .l4 = PACKET_L4_UDP, .sport = 5353, .dport = 53 },
                .ingress = TEST_IFACE1,
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "every field but the source matches",
                .rules = { { .action = "drop", .source = "192.0.2.0/24", .destination = "198.51.100.0/24",
                             .protocol = "udp", .source_port = "5000-6000", .port = "53", .vlan = "10",
                             .interface = TEST_IFACE0 } },
                .packet = { .vlan = { { VLAN_8021Q, 10 } }, V4, .src = "192.0.3.7", .dst = "198.51.100.1",
                            .l4 = PACKET_L4_UDP, .sport = 5353, .dport = 53 },
                .ingress = TEST_IFACE0,
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "every field but the source port matches",
                .rules = { { .action = "drop", .source = "192.0.2.0/24", .destination = "198.51.100.0/24",
                             .protocol = "udp", .source_port = "5000-6000", .port = "53", .vlan = "10",
                             .interface = TEST_IFACE0 } },
                .packet = { .vlan = { { VLAN_8021Q, 10 } }, V4, .src = "192.0.2.7", .dst = "198.51.100.1",
                            .l4 = PACKET_L4_UDP, .sport = 6001, .dport = 53 },
                .ingress = TEST_IFACE0,
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "ipv6 source, destination and tcp port match",
                .rules = { { .action = "drop", .source = "2001:db8:a::/48", .destination = "2001:db8:b::/48",
                             .protocol = "tcp", .port = "443" } },
                .packet = { V6, .src = "2001:db8:a::1", .dst = "2001:db8:b::1", .l4 = PACKET_L4_TCP, .dport = 443 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "ipv6 source, destination and tcp port: destination outside",
                .rules = { { .action = "drop", .source = "2001:db8:a::/48", .destination = "2001:db8:b::/48",
                             .protocol = "tcp", .port = "443" } },
                .packet = { V6, .src = "2001:db8:a::1", .dst = "2001:db8:c::1", .l4 = PACKET_L4_TCP, .dport = 443 },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "source with protocol is a classifier rule: other protocol passes",
                .rules = { { .action = "drop", .source = "192.0.2.0/24", .protocol = "tcp" } },
                .packet = { V4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "nested classifier sources: the longer, earlier rule decides",
                .rules = { { .action = "drop", .source = "10.0.0.0/8", .protocol = "udp", .priority = 5 },
                           { .action = "pass", .source = "10.1.2.0/24", .protocol = "udp", .priority = 0 } },
                .packet = { V4, .src = "10.1.2.3", .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .hit = 2, .stats = PASSED,
        }, {
                .name = "nested classifier sources: outside the longer, the shorter decides",
                .rules = { { .action = "drop", .source = "10.0.0.0/8", .protocol = "udp", .priority = 5 },
                           { .action = "pass", .source = "10.1.2.0/24", .protocol = "udp", .priority = 0 } },
                .packet = { V4, .src = "10.9.9.9", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "nested classifier sources: the shorter, earlier rule decides",
                .rules = { { .action = "pass", .source = "10.1.2.0/24", .protocol = "udp", .priority = 5 },
                           { .action = "drop", .source = "10.0.0.0/8", .protocol = "udp", .priority = 0 } },
                .packet = { V4, .src = "10.1.2.3", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 2, .stats = BY_RULE,
        }, {
                .name = "ipv4 and ipv6 destinations in one set",
                .default_action = DROP,
                .rules = { { .action = "drop", .destination = "2001:db8::/32" },
                           { .action = "pass", .destination = "192.0.2.0/24" } },
                .packet = { V4, .dst = "192.0.2.2", .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .hit = 2, .stats = PASSED,
        },

        /* ---- Order: (priority, id), first match ---- */
        {
                .name = "lower priority decides first",
                .rules = { { .action = "drop", .protocol = "udp", .priority = 10 },
                           { .action = "pass", .protocol = "udp", .port = "53", .priority = 1 } },
                .packet = { V4, .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_PASS, .hit = 2, .stats = PASSED,
        }, {
                .name = "same priority: lower id decides, whatever the table order",
                .rules = { { .action = "drop", .protocol = "udp" }, { .action = "pass", .protocol = "udp" } },
                .ids = { 7, 3 },
                .packet = { V4, .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .hit = 2, .stats = PASSED,
        }, {
                .name = "negative priority comes before 0",
                .rules = { { .action = "pass", .protocol = "udp" }, { .action = "drop", .protocol = "udp", .priority = -5 } },
                .packet = { V6, .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 2, .stats = BY_RULE,
        }, {
                .name = "priority extremes",
                .rules = { { .action = "drop", .protocol = "udp", .priority = INT32_MAX },
                           { .action = "pass", .protocol = "udp", .priority = INT32_MIN } },
                .packet = { V4, .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .hit = 2, .stats = PASSED,
        }, {
                .name = "disabled first rule: the next one decides",
                .default_action = DROP,
                .rules = { { .action = "drop", .protocol = "udp", .disabled = true },
                           { .action = "pass", .protocol = "udp", .priority = 1 } },
                .packet = { V4, .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .hit = 2, .stats = PASSED,
        }, {
                .name = "only rule disabled: the default decides",
                .rules = { { .action = "drop", .protocol = "udp", .disabled = true } },
                .packet = { V4, .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "disabled block rule",
                .rules = { { .action = "drop", .source = "192.0.2.1", .disabled = true } },
                .packet = { V4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .stats = PASSED,
        },

        /* ---- Block rules against classifier rules ---- */
        {
                .name = "classifier pass earlier than a block drop wins",
                .rules = { BLOCK("192.0.2.0/24", "drop"),
                           { .action = "pass", .protocol = "udp", .port = "53", .priority = -1 } },
                .packet = { V4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_PASS, .hit = 2, .stats = PASSED,
        }, {
                .name = "block drop earlier than a classifier pass wins",
                .rules = { { .action = "drop", .source = "192.0.2.0/24", .priority = -1 },
                           { .action = "pass", .protocol = "udp", .port = "53" } },
                .packet = { V4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "block and classifier at one priority: the lower id wins",
                .rules = { BLOCK("192.0.2.0/24", "drop"), { .action = "pass", .protocol = "udp" } },
                .ids = { 2, 1 },
                .packet = { V4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .hit = 2, .stats = PASSED,
        }, {
                .name = "block and classifier at one priority: the lower id wins (block)",
                .rules = { BLOCK("192.0.2.0/24", "drop"), { .action = "pass", .protocol = "udp" } },
                .ids = { 1, 2 },
                .packet = { V4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "longest block prefix, then an earlier classifier rule",
                .rules = { { .action = "drop", .source = "10.0.0.0/8", .priority = -10 },
                           { .action = "pass", .source = "10.1.2.3", .priority = 5 },
                           { .action = "drop", .protocol = "udp" } },
                .packet = { V4, .src = "10.1.2.3", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 3, .stats = BY_RULE,
        }, {
                .name = "longest block prefix wins over an earlier shorter one",
                .rules = { { .action = "drop", .source = "10.0.0.0/8", .priority = -10 },
                           { .action = "pass", .source = "10.1.2.3", .priority = 5 },
                           { .action = "drop", .protocol = "udp" } },
                .packet = { V4, .src = "10.1.2.3", .l4 = PACKET_L4_TCP },
                .verdict = XDP_PASS, .hit = 2, .stats = PASSED,
        }, {
                .name = "two block rules on one prefix: the first in order holds it",
                .rules = { BLOCK("192.0.2.9", "drop"), BLOCK("192.0.2.9", "pass") },
                .ids = { 5, 4 },
                .packet = { V4, .src = "192.0.2.9", .l4 = PACKET_L4_TCP },
                .verdict = XDP_PASS, .hit = 2, .stats = PASSED,
        }, {
                .name = "two block rules on one prefix, the first disabled",
                .rules = { { .action = "pass", .source = "192.0.2.9", .priority = -1, .disabled = true },
                           BLOCK("192.0.2.9", "drop") },
                .packet = { V4, .src = "192.0.2.9", .l4 = PACKET_L4_TCP },
                .verdict = XDP_DROP, .hit = 2, .stats = BY_RULE,
        }, {
                .name = "ipv6 block /128 against an earlier classifier rule",
                .rules = { { .action = "pass", .source = "2001:db8::1", .priority = 1 },
                           { .action = "drop", .source = "2001:db8::/32", .protocol = "udp" } },
                .packet = { V6, .src = "2001:db8::1", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 2, .stats = BY_RULE,
        }, {
                .name = "block /25 inside a block /24: inside the /25",
                .rules = { BLOCK("192.0.2.0/24", "drop"), BLOCK("192.0.2.128/25", "pass") },
                .packet = { V4, .src = "192.0.2.200", .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .hit = 2, .stats = PASSED,
        }, {
                .name = "block /25 inside a block /24: outside the /25",
                .rules = { BLOCK("192.0.2.0/24", "drop"), BLOCK("192.0.2.128/25", "pass") },
                .packet = { V4, .src = "192.0.2.100", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "block /16 with a /32 pass in another /24",
                .rules = { BLOCK("10.1.0.0/16", "drop"), BLOCK("10.1.5.5", "pass") },
                .packet = { V4, .src = "10.1.6.5", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "block /16 with a /32 pass: the /32",
                .rules = { BLOCK("10.1.0.0/16", "drop"), BLOCK("10.1.5.5", "pass") },
                .packet = { V4, .src = "10.1.5.5", .l4 = PACKET_L4_UDP },
                .verdict = XDP_PASS, .hit = 2, .stats = PASSED,
        }, {
                .name = "block /16 with a /32 pass: its /24 neighbour",
                .rules = { BLOCK("10.1.0.0/16", "drop"), BLOCK("10.1.5.5", "pass") },
                .packet = { V4, .src = "10.1.5.6", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        },

        /* ---- Slots at the edges of their spaces ---- */
        {
                .name = "block slot 0 on a /24",
                .rules = { BLOCK("192.0.2.0/24", "drop") },
                .slots = { SLOT(0) },
                .packet = { V4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "block slot 65534 on a /24",
                .rules = { BLOCK("192.0.2.0/24", "drop") },
                .slots = { SLOT(65534) },
                .packet = { V4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "block slot 65535 on a /24",
                .rules = { BLOCK("192.0.2.0/24", "drop") },
                .slots = { SLOT(65535) },
                .packet = { V4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "block slot 70000 on a /24, beside slot 4464",
                .rules = { BLOCK("192.0.2.0/24", "drop"), BLOCK("198.51.100.0/24", "pass") },
                .slots = { SLOT(70000), SLOT(4464) },
                .packet = { V4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "block slot PF_MAX_BLOCKS - 1 on a /16",
                .rules = { BLOCK("10.7.0.0/16", "drop") },
                .slots = { SLOT(PF_MAX_BLOCKS - 1) },
                .packet = { V4, .src = "10.7.1.1", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "block slot PF_MAX_BLOCKS - 1 on a /32",
                .rules = { BLOCK("10.7.1.1", "drop") },
                .slots = { SLOT(PF_MAX_BLOCKS - 1) },
                .packet = { V4, .src = "10.7.1.1", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "block slot PF_MAX_BLOCKS - 1 on an ipv6 /64",
                .rules = { BLOCK("2001:db8:7::/64", "drop") },
                .slots = { SLOT(PF_MAX_BLOCKS - 1) },
                .packet = { V6, .src = "2001:db8:7::1", .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "classifier slot 0",
                .rules = { { .action = "drop", .protocol = "udp" } },
                .slots = { SLOT(0) },
                .packet = { V4, .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "classifier slot PF_MAX_RULES - 1",
                .rules = { { .action = "drop", .protocol = "udp" } },
                .slots = { SLOT(PF_MAX_RULES - 1) },
                .packet = { V4, .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        },

        /* ---- Default action and neighbour discovery ---- */
        {
                .name = "explicit drop rule applies to neighbour discovery",
                .rules = { { .action = "drop", .protocol = "icmpv6", .icmp_type = "135" } },
                .packet = { V6, .src = "fe80::1", .dst = "ff02::1:ff00:2", .hop_limit = 255,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 135 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "default drop, pass rule matching: counted by the rule, not spared",
                .default_action = DROP,
                .rules = { { .action = "pass", .protocol = "icmpv6" } },
                .packet = { V6, .src = "fe80::1", .dst = "ff02::1:ff00:2", .hop_limit = 255,
                            .l4 = PACKET_L4_ICMPV6, .icmp_type = 135 },
                .verdict = XDP_PASS, .hit = 1, .stats = PASSED,
        }, {
                .name = "default drop, tcp pass rule",
                .default_action = DROP,
                .rules = { { .action = "pass", .protocol = "tcp", .port = "22" } },
                .packet = { V4, .l4 = PACKET_L4_TCP, .dport = 22 },
                .verdict = XDP_PASS, .hit = 1, .stats = PASSED,
        }, {
                .name = "icmpv6 type 132 with hop limit 255 is not neighbour discovery",
                .default_action = DROP,
                .packet = { V6, .src = "fe80::1", .hop_limit = 255, .l4 = PACKET_L4_ICMPV6, .icmp_type = 132 },
                .verdict = XDP_DROP, .stats = BY_DEFAULT,
        }, {
                .name = "icmpv6 type 138 with hop limit 255 is not neighbour discovery",
                .default_action = DROP,
                .packet = { V6, .src = "fe80::1", .hop_limit = 255, .l4 = PACKET_L4_ICMPV6, .icmp_type = 138 },
                .verdict = XDP_DROP, .stats = BY_DEFAULT,
        }, {
                .name = "neighbour solicitation behind a hop-by-hop header is spared",
                .default_action = DROP,
                .packet = { V6, .src = "fe80::1", .dst = "ff02::1:ff00:2", .hop_limit = 255,
                            .n_ext = 1, .ext = { { PACKET_EXT_HOP } }, .l4 = PACKET_L4_ICMPV6, .icmp_type = 135 },
                .verdict = XDP_PASS, .stats = PASSED | SPARED,
        },

        /* ---- IPv4 fragments ---- */
        {
                .name = "ipv4 later fragment: a port rule never matches",
                .rules = { { .action = "drop", .protocol = "udp", .port = "53" } },
                .packet = { V4, .frag_offset = 100, .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_PASS, .stats = PASSED | FRAGMENT,
        }, {
                .name = "ipv4 later fragment: a protocol rule matches",
                .rules = { { .action = "drop", .protocol = "udp" } },
                .packet = { V4, .frag_offset = 100, .more_fragments = true, .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE | FRAGMENT,
        }, {
                .name = "ipv4 later fragment: a source and protocol rule matches",
                .rules = { { .action = "drop", .source = "192.0.2.0/24", .protocol = "udp" } },
                .packet = { V4, .src = "192.0.2.1", .frag_offset = 1, .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE | FRAGMENT,
        }, {
                .name = "ipv4 later fragment: a block rule matches",
                .rules = { BLOCK("192.0.2.1", "drop") },
                .packet = { V4, .src = "192.0.2.1", .frag_offset = 1, .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE | FRAGMENT,
        }, {
                .name = "ipv4 first fragment (MF, offset 0): a port rule matches",
                .rules = { { .action = "drop", .protocol = "udp", .port = "53" } },
                .packet = { V4, .more_fragments = true, .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "ipv4 later fragment: an icmp-type rule never matches",
                .rules = { { .action = "drop", .protocol = "icmp", .icmp_type = "8" } },
                .packet = { V4, .frag_offset = 1, .l4 = PACKET_L4_ICMP, .icmp_type = 8 },
                .verdict = XDP_PASS, .stats = PASSED | FRAGMENT,
        }, {
                .name = "ipv4 later fragment: a source-port rule never matches",
                .rules = { { .action = "drop", .protocol = "tcp", .source_port = "0-65535" } },
                .packet = { V4, .frag_offset = 1, .l4 = PACKET_L4_TCP },
                .verdict = XDP_PASS, .stats = PASSED | FRAGMENT,
        }, {
                .name = "ipv4 later fragment with nothing after its header is not malformed",
                .rules = { { .action = "drop", .protocol = "udp", .port = "53" } },
                .packet = { V4, .frag_offset = 100, .l4 = PACKET_L4_UDP, .dport = 53 },
                .mangle = cut_after_l3,
                .verdict = XDP_PASS, .stats = PASSED | FRAGMENT,
        }, {
                .name = "ipv4 last fragment, default drop",
                .default_action = DROP,
                .packet = { V4, .frag_offset = 185, .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .stats = BY_DEFAULT | FRAGMENT,
        }, {
                .name = "ipv4 fragment offset 8191",
                .rules = { { .action = "drop", .protocol = "tcp" } },
                .packet = { V4, .frag_offset = 8191, .l4 = PACKET_L4_TCP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE | FRAGMENT,
        },

        /* ---- IPv6 extension headers ---- */
        {
                .name = "hop-by-hop, then a udp port rule matches",
                .rules = { { .action = "drop", .protocol = "udp", .port = "53" } },
                .packet = { V6, .n_ext = 1, .ext = { { PACKET_EXT_HOP } }, .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "routing header (24 bytes), then a tcp port rule matches",
                .rules = { { .action = "drop", .protocol = "tcp", .port = "80" } },
                .packet = { V6, .n_ext = 1, .ext = { { PACKET_EXT_ROUTING, 2 } }, .l4 = PACKET_L4_TCP, .dport = 80 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "destination options (16 bytes), then an icmpv6 type rule matches",
                .rules = { { .action = "drop", .protocol = "icmpv6", .icmp_type = "128" } },
                .packet = { V6, .n_ext = 1, .ext = { { PACKET_EXT_DEST, 1 } }, .l4 = PACKET_L4_ICMPV6, .icmp_type = 128 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "fragment header, first fragment: a port rule matches",
                .rules = { { .action = "drop", .protocol = "udp", .port = "53" } },
                .packet = { V6, .n_ext = 1, .ext = { { PACKET_EXT_FRAGMENT, .more = true } },
                            .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "fragment header, later fragment: a port rule never matches",
                .rules = { { .action = "drop", .protocol = "udp", .port = "53" } },
                .packet = { V6, .n_ext = 1, .ext = { { PACKET_EXT_FRAGMENT, .offset = 10 } },
                            .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_PASS, .stats = PASSED | FRAGMENT,
        }, {
                .name = "fragment header, later fragment: a protocol rule matches",
                .rules = { { .action = "drop", .protocol = "udp" } },
                .packet = { V6, .n_ext = 1, .ext = { { PACKET_EXT_FRAGMENT, .offset = 10, .more = true } },
                            .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE | FRAGMENT,
        }, {
                .name = "authentication header (24 bytes), then a tcp port rule matches",
                .rules = { { .action = "drop", .protocol = "tcp", .port = "443" } },
                .packet = { V6, .n_ext = 1, .ext = { { PACKET_EXT_AH, 4 } }, .l4 = PACKET_L4_TCP, .dport = 443 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "a chain of six, then a udp port rule matches",
                .rules = { { .action = "drop", .protocol = "udp", .port = "53" } },
                .packet = { V6, .n_ext = 6, .ext = { { PACKET_EXT_HOP }, { PACKET_EXT_DEST, 1 },
                                                      { PACKET_EXT_ROUTING, 2 }, { PACKET_EXT_FRAGMENT },
                                                      { PACKET_EXT_AH, 1 }, { PACKET_EXT_DEST } },
                            .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "eight extension headers (PF_MAX_EXT_HEADERS) are walked",
                .rules = { { .action = "drop", .protocol = "udp", .port = "53" } },
                .packet = { V6, .n_ext = 8, .ext = { { PACKET_EXT_HOP }, { PACKET_EXT_DEST }, { PACKET_EXT_DEST },
                                                      { PACKET_EXT_DEST }, { PACKET_EXT_DEST }, { PACKET_EXT_DEST },
                                                      { PACKET_EXT_DEST }, { PACKET_EXT_DEST } },
                            .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "nine extension headers: malformed, default pass",
                .rules = { { .action = "drop", .protocol = "udp" } },
                .packet = { V6, .n_ext = 9, .ext = { { PACKET_EXT_HOP }, { PACKET_EXT_DEST }, { PACKET_EXT_DEST },
                                                      { PACKET_EXT_DEST }, { PACKET_EXT_DEST }, { PACKET_EXT_DEST },
                                                      { PACKET_EXT_DEST }, { PACKET_EXT_DEST }, { PACKET_EXT_DEST } },
                            .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_PASS, .stats = PASSED | MALFORMED,
        }, {
                .name = "nine extension headers: malformed, default drop",
                .default_action = DROP,
                .rules = { { .action = "pass", .protocol = "udp" } },
                .packet = { V6, .n_ext = 9, .ext = { { PACKET_EXT_HOP }, { PACKET_EXT_ROUTING }, { PACKET_EXT_DEST },
                                                      { PACKET_EXT_DEST }, { PACKET_EXT_DEST }, { PACKET_EXT_DEST },
                                                      { PACKET_EXT_DEST }, { PACKET_EXT_DEST }, { PACKET_EXT_DEST } },
                            .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_DROP, .stats = BY_DEFAULT | MALFORMED,
        }, {
                .name = "no next header (59) after destination options: protocol 59 matches",
                .rules = { { .action = "drop", .protocol = "59" } },
                .packet = { V6, .n_ext = 1, .ext = { { PACKET_EXT_DEST } } },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "no next header (59): a udp rule does not match",
                .rules = { { .action = "drop", .protocol = "udp" } },
                .packet = { V6, .payload = 8 },
                .verdict = XDP_PASS, .stats = PASSED,
        }, {
                .name = "later fragment behind hop-by-hop: a protocol rule matches",
                .rules = { { .action = "drop", .protocol = "udp" } },
                .packet = { V6, .n_ext = 2, .ext = { { PACKET_EXT_HOP }, { PACKET_EXT_FRAGMENT, .offset = 5 } },
                            .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE | FRAGMENT,
        }, {
                .name = "block rule behind an extension chain",
                .rules = { BLOCK("2001:db8::1", "drop") },
                .packet = { V6, .src = "2001:db8::1", .n_ext = 2, .ext = { { PACKET_EXT_HOP }, { PACKET_EXT_DEST } },
                            .l4 = PACKET_L4_UDP },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "extension header cut inside its first 8 bytes",
                .rules = { { .action = "drop", .protocol = "udp" } },
                .packet = { V6, .n_ext = 1, .ext = { { PACKET_EXT_HOP } }, .l4 = PACKET_L4_UDP },
                .mangle = cut_inside_first_ext,
                .verdict = XDP_PASS, .stats = PASSED | MALFORMED,
        }, {
                .name = "extension header cut short before a udp header",
                .default_action = DROP,
                .packet = { V6, .n_ext = 1, .ext = { { PACKET_EXT_HOP, 1 } }, .l4 = PACKET_L4_UDP },
                .mangle = cut_first_ext_after_8,
                .verdict = XDP_DROP, .stats = BY_DEFAULT | MALFORMED,
        }, {
                .name = "extension header cut short with no next header after it",
                .rules = { { .action = "drop", .protocol = "59" } },
                .packet = { V6, .n_ext = 1, .ext = { { PACKET_EXT_DEST, 1 } } },
                .mangle = cut_first_ext_after_8,
                .verdict = XDP_PASS, .stats = PASSED | MALFORMED,
        }, {
                .name = "fragment header cut inside",
                .rules = { { .action = "drop", .protocol = "udp" } },
                .packet = { V6, .n_ext = 1, .ext = { { PACKET_EXT_FRAGMENT, .offset = 3 } }, .l4 = PACKET_L4_UDP },
                .mangle = cut_inside_first_ext,
                .verdict = XDP_PASS, .stats = PASSED | MALFORMED,
        },

        /* ---- Truncated L4 headers ---- */
        {
                .name = "tcp header cut at 19 bytes: malformed, no rule",
                .rules = { { .action = "drop", .protocol = "tcp" } },
                .packet = { V4, .l4 = PACKET_L4_TCP },
                .mangle = cut_l4_at_19,
                .verdict = XDP_PASS, .stats = PASSED | MALFORMED,
        }, {
                .name = "udp header cut at 7 bytes, default drop",
                .default_action = DROP,
                .rules = { { .action = "pass", .protocol = "udp" } },
                .packet = { V4, .l4 = PACKET_L4_UDP },
                .mangle = cut_l4_at_7,
                .verdict = XDP_DROP, .stats = BY_DEFAULT | MALFORMED,
        }, {
                .name = "sctp header cut at 11 bytes",
                .packet = { V6, .l4 = PACKET_L4_SCTP },
                .mangle = cut_l4_at_11,
                .verdict = XDP_PASS, .stats = PASSED | MALFORMED,
        }, {
                .name = "icmp header cut at 3 bytes",
                .rules = { BLOCK("192.0.2.1", "drop") },
                .packet = { V4, .src = "192.0.2.1", .l4 = PACKET_L4_ICMP, .icmp_type = 8 },
                .mangle = cut_l4_at_3,
                .verdict = XDP_PASS, .stats = PASSED | MALFORMED,
        }, {
                .name = "icmpv6 neighbour solicitation cut at 3 bytes, default drop",
                .default_action = DROP,
                .packet = { V6, .src = "fe80::1", .hop_limit = 255, .l4 = PACKET_L4_ICMPV6, .icmp_type = 135 },
                .mangle = cut_l4_at_3,
                .verdict = XDP_DROP, .stats = BY_DEFAULT | MALFORMED,
        }, {
                .name = "tcp cut at 19 bytes behind an extension header",
                .packet = { V6, .n_ext = 1, .ext = { { PACKET_EXT_ROUTING } }, .l4 = PACKET_L4_TCP },
                .mangle = cut_l4_at_19,
                .verdict = XDP_PASS, .stats = PASSED | MALFORMED,
        }, {
                .name = "udp header of exactly 8 bytes is whole",
                .rules = { { .action = "drop", .protocol = "udp", .port = "53" } },
                .packet = { V4, .l4 = PACKET_L4_UDP, .dport = 53 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "icmp header of exactly 4 bytes is whole",
                .rules = { { .action = "drop", .protocol = "icmp", .icmp_type = "8" } },
                .packet = { V4, .l4 = PACKET_L4_ICMP, .icmp_type = 8 },
                .mangle = cut_l4_at_4,
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "gre with nothing after the ip header is not malformed",
                .rules = { { .action = "drop", .protocol = "47" } },
                .packet = { V4, .next_header = 47 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "ipv4 total length past the frame end is not checked",
                .rules = { { .action = "drop", .protocol = "udp" } },
                .packet = { V4, .l4 = PACKET_L4_UDP },
                .mangle = ipv4_total_length_1500,
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        },

        /* ---- IPv4 options before the ports ---- */
        {
                .name = "ports read after 40 bytes of options",
                .rules = { { .action = "drop", .protocol = "tcp", .port = "80" } },
                .packet = { V4, .ip_options = 40, .l4 = PACKET_L4_TCP, .dport = 80 },
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "ports read after 4 bytes of options, no match",
                .rules = { { .action = "drop", .protocol = "udp", .source_port = "257" } },
                .packet = { V4, .ip_options = 4, .l4 = PACKET_L4_UDP, .sport = 1, .dport = 54 },
                .verdict = XDP_PASS, .stats = PASSED,
        },

        /* ---- Counters exact over many runs ---- */
        {
                .name = "classifier rule counted 1000 times exactly",
                .rules = { { .action = "drop", .protocol = "udp", .port = "53" } },
                .packet = { V4, .l4 = PACKET_L4_UDP, .dport = 53, .payload = 100 },
                .repeat = 1000,
                .verdict = XDP_DROP, .hit = 1, .stats = BY_RULE,
        }, {
                .name = "two matching rules: only the decider counts, 1000 times",
                .rules = { { .action = "pass", .protocol = "udp" }, { .action = "drop", .protocol = "udp", .priority = 1 } },
                .packet = { V6, .l4 = PACKET_L4_UDP, .payload = 333 },
                .repeat = 1000,
                .verdict = XDP_PASS, .hit = 1, .stats = PASSED,
        }, {
                .name = "block rule in a mixed set counted 1000 times",
                .rules = { { .action = "drop", .protocol = "tcp", .port = "22" }, BLOCK("192.0.2.0/24", "drop") },
                .packet = { V4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP, .payload = 7 },
                .repeat = 1000,
                .verdict = XDP_DROP, .hit = 2, .stats = BY_RULE,
        }
};

static void rules_freep(Rule *(*rules)[MAX_RULES]) {
        for (size_t i = 0; i < MAX_RULES; i++)
                (*rules)[i] = rule_free((*rules)[i]);
}

/* The row's rules as Rule objects, with ids and slots. */
static int case_rules(const struct xdp_case *c, Rule *rules[MAX_RULES], size_t *ret_n) {
        size_t n = 0;
        int r;

        for (; n < MAX_RULES && c->rules[n].action; n++) {
                Rule *rule;

                r = ruleset_rule_from_text(&c->rules[n], c->ids[n] ?: (uint32_t) n + 1, 0, &rule, NULL);
                if (r < 0)
                        return log_error_errno(r, "Rule %zu of \"%s\" is refused: %m", n + 1, c->name);
                if (c->slots[n] != 0)
                        rule->slot = c->slots[n] - 1;
                else
                        rule->slot = rule_is_block(rule) ? AUTO_BLOCK_SLOT(n) : AUTO_CLASSIFIER_SLOT(n);
                rules[n] = rule;
        }
        *ret_n = n;
        return 0;
}

/* Every slot some row uses, by kind: after each row, the ones it did not hit must read 0. */
struct slot_list {
        uint32_t slot[256];
        bool block[256];
        size_t n;
};

static int collect_slots(struct slot_list *ret) {
        struct slot_list list = {};

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(rules_freep) Rule *rules[MAX_RULES] = {};
                size_t n;
                int r;

                r = case_rules(&cases[i], rules, &n);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < n; k++) {
                        bool seen = false;

                        for (size_t j = 0; j < list.n && !seen; j++)
                                seen = list.slot[j] == rules[k]->slot && list.block[j] == rule_is_block(rules[k]);
                        if (seen)
                                continue;
                        if (list.n == ELEMENTSOF(list.slot))
                                return log_error_errno(-E2BIG, "Too many distinct slots in the table.");
                        list.slot[list.n] = rules[k]->slot;
                        list.block[list.n++] = rule_is_block(rules[k]);
                }
        }
        *ret = list;
        return 0;
}

static int slot_counter_read(Loader *l, uint32_t slot, bool block, uint64_t *ret_packets, uint64_t *ret_bytes) {
        return block ? loader_block_counter_read(l, slot, ret_packets, ret_bytes)
                     : loader_rule_counter_read(l, slot, ret_packets, ret_bytes);
}

static int slots_reset(Loader *l, const struct slot_list *slots) {
        for (size_t i = 0; i < slots->n; i++) {
                int r = slots->block[i] ? loader_block_counter_reset(l, slots->slot[i])
                                        : loader_rule_counter_reset(l, slots->slot[i]);
                if (r < 0)
                        return log_error_errno(r, "Failed to reset counter %u: %m", slots->slot[i]);
        }
        return 0;
}

static unsigned ingress_ifindex(const struct xdp_case *c) {
        return if_nametoindex(c->ingress ?: "lo");
}

/*
 * Runs the frame through the program, arriving on ifindex. test_run refuses
 * buffers shorter than an Ethernet header, so a shorter frame is put behind
 * XDP metadata (at most 32 bytes, a multiple of 4): the program then sees
 * exactly p->len bytes, on kernels that accept it.
 */
static int run_frame(int prog_fd, const struct packet *p, unsigned ifindex, uint32_t repeat,
                     uint32_t *ret_verdict, uint32_t *ret_ns) {
        uint8_t buf[32 + PACKET_MAX] = {};
        struct xdp_md ctx = {};
        size_t meta = 0;
        int r;

        if (p->len < ETH_HLEN)
                meta = (ETH_HLEN - p->len + 3) & ~(size_t) 3;
        memcpy(buf + meta, p->data, p->len);
        ctx.data = meta;
        ctx.data_end = meta + p->len;
        ctx.ingress_ifindex = ifindex;

        LIBBPF_OPTS(bpf_test_run_opts, opts,
                    .data_in = buf,
                    .data_size_in = meta + p->len,
                    .ctx_in = &ctx,
                    .ctx_size_in = sizeof(ctx),
                    .repeat = repeat);

        r = bpf_prog_test_run_opts(prog_fd, &opts);
        if (r < 0)
                return negative_errno();
        *ret_verdict = opts.retval;
        if (ret_ns)
                *ret_ns = opts.duration;
        return 0;
}

static const char *verdict_name(uint32_t v) {
        return v == XDP_PASS ? "XDP_PASS" : v == XDP_DROP ? "XDP_DROP" : "other";
}

/* The reference must give the table's answer: it is what the differential test trusts. */
static int check_reference(const struct xdp_case *c, Rule *const *rules, size_t n_rules, const struct packet *p) {
        struct ref_packet rp;
        struct ref_verdict rv;
        char buf[512];
        int mismatches = 0;

        ref_parse(p->data, p->len, ingress_ifindex(c), &rp);
        ref_judge(rules, n_rules, c->default_action, ruleset_ifindex_of, &rp, &rv);

        if (rv.drop != (c->verdict == XDP_DROP) || rv.rule != (ssize_t) c->hit - 1) {
                printf("#   reference: %s by %s%zd, the table says %s by %s%u\n",
                       rv.drop ? "drop" : "pass", rv.rule < 0 ? "default " : "rule ", rv.rule + 1,
                       verdict_name(c->verdict), c->hit == 0 ? "default " : "rule ", c->hit);
                mismatches++;
        }
        for (enum pf_stat s = 0; s < _PF_STAT_MAX; s++) {
                uint64_t expected = s == PF_STAT_PACKETS || (c->stats & S(s)) ? 1 : 0;

                if (rv.stats[s] != expected) {
                        printf("#   reference: %s +%" PRIu64 ", the table says +%" PRIu64 "\n",
                               ref_stat_name(s), rv.stats[s], expected);
                        mismatches++;
                }
        }
        if (mismatches > 0)
                printf("#   reference parsed: %s\n", ref_packet_to_string(&rp, buf, sizeof(buf)));
        return mismatches;
}

static int expect_nothing_counted(Loader *l, const struct slot_list *slots) {
        struct pf_statistics stats;
        int r, mismatches = 0;

        printf("#   the kernel refuses frames shorter than %d bytes: checking that nothing was counted\n", ETH_HLEN);
        r = loader_statistics_read(l, &stats);
        if (r < 0)
                return log_error_errno(r, "Failed to read the statistics: %m");
        for (enum pf_stat s = 0; s < _PF_STAT_MAX; s++)
                if (stats.v[s] != 0) {
                        printf("#   statistic %s = %" PRIu64 ", expected 0\n", ref_stat_name(s), stats.v[s]);
                        mismatches++;
                }
        for (size_t i = 0; i < slots->n; i++) {
                uint64_t packets, bytes;

                r = slot_counter_read(l, slots->slot[i], slots->block[i], &packets, &bytes);
                if (r < 0)
                        return log_error_errno(r, "Failed to read counter %u: %m", slots->slot[i]);
                if (packets != 0 || bytes != 0) {
                        printf("#   %s slot %u counted %" PRIu64 " packets\n",
                               slots->block[i] ? "block" : "classifier", slots->slot[i], packets);
                        mismatches++;
                }
        }
        return mismatches;
}

/* Returns the number of mismatches (0 = passed), or a negative errno if the case could not run. */
static int run_case(Loader *l, RulesetInstalled *installed, const struct slot_list *slots, const struct xdp_case *c) {
        _cleanup_(rules_freep) Rule *rules[MAX_RULES] = {};
        uint32_t repeat = c->repeat ?: 1, verdict;
        struct pf_statistics stats;
        const Rule *hit = NULL;
        struct packet p;
        size_t n_rules;
        int r, mismatches = 0;

        r = packet_build(&c->packet, &p);
        if (r < 0)
                return log_error_errno(r, "Bad packet in the test table: %m");
        if (c->mangle)
                c->mangle(&p);
        r = case_rules(c, rules, &n_rules);
        if (r < 0)
                return r;
        if (c->hit > n_rules)
                return log_error_errno(-EINVAL, "Row \"%s\" names rule %u of %zu.", c->name, c->hit, n_rules);
        if (c->hit > 0)
                hit = rules[c->hit - 1];
        if (c->ingress && if_nametoindex(c->ingress) == 0)
                return log_error_errno(-ENODEV, "No interface %s in the test's namespace.", c->ingress);

        mismatches += check_reference(c, rules, n_rules, &p);

        r = ruleset_push(l, rules, n_rules, c->default_action, installed);
        if (r < 0)
                return log_error_errno(r, "Failed to push the rules: %m");
        if (r == 0)
                return log_error_errno(-EIO, "The commit reached only one copy of the tables.");
        r = slots_reset(l, slots);
        if (r < 0)
                return r;
        r = loader_statistics_reset(l);
        if (r < 0)
                return log_error_errno(r, "Failed to reset the statistics: %m");

        r = run_frame(loader_prog_fd(l), &p, ingress_ifindex(c), repeat, &verdict, NULL);
        if (r == -EINVAL && p.len < ETH_HLEN)
                /* Recent kernels never hand XDP a frame shorter than an Ethernet header
                 * (not even behind metadata); then only check that nothing ran. */
                return mismatches + expect_nothing_counted(l, slots);
        if (r < 0)
                return log_error_errno(r, "bpf_prog_test_run_opts() failed on a %zu-byte frame: %m", p.len);

        if (verdict != (uint32_t) c->verdict) {
                printf("#   verdict %s, expected %s\n", verdict_name(verdict), verdict_name(c->verdict));
                mismatches++;
        }

        for (size_t i = 0; i < slots->n; i++) {
                bool is_hit = hit && hit->slot == slots->slot[i] && rule_is_block(hit) == slots->block[i];
                uint64_t packets, bytes, want_packets = is_hit ? repeat : 0, want_bytes = want_packets * p.len;

                r = slot_counter_read(l, slots->slot[i], slots->block[i], &packets, &bytes);
                if (r < 0)
                        return log_error_errno(r, "Failed to read counter %u: %m", slots->slot[i]);
                if (packets != want_packets || bytes != want_bytes) {
                        printf("#   %s slot %u: %" PRIu64 " packets, %" PRIu64 " bytes; expected %" PRIu64 ", %" PRIu64 "\n",
                               slots->block[i] ? "block" : "classifier", slots->slot[i], packets, bytes,
                               want_packets, want_bytes);
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
                               ref_stat_name(s), stats.v[s], expected);
                        mismatches++;
                }
        }

        if (mismatches > 0) {
                char buf[512];

                for (size_t i = 0; i < n_rules; i++)
                        printf("#   rule %zu: %s\n", i + 1, ref_rule_to_string(rules[i], buf, sizeof(buf)));
        }
        return mismatches;
}

/*
 * The counters summed over CPUs are exact: one thread per CPU, each pinned to
 * its CPU, runs a frame a classifier rule decides (per-CPU counter) and one a
 * block rule decides (one shared counter, atomic adds); the totals are the sums.
 */
#define ALL_CPUS_REPEAT 100000u
#define ALL_CPUS_ROUNDS 10u

struct cpu_worker {
        pthread_t thread;
        int cpu;
        int prog_fd;
        const struct packet *frames[2];
        int error;
};

static void *cpu_worker_run(void *userdata) {
        struct cpu_worker *w = userdata;
        cpu_set_t set;
        uint32_t verdict;

        CPU_ZERO(&set);
        CPU_SET(w->cpu, &set);
        w->error = -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
        for (unsigned i = 0; w->error == 0 && i < 2 * ALL_CPUS_ROUNDS; i++) {
                w->error = run_frame(w->prog_fd, w->frames[i % 2], 1, ALL_CPUS_REPEAT, &verdict, NULL);
                if (w->error == 0 && verdict != XDP_DROP)
                        w->error = -EBADMSG;
        }
        return NULL;
}

static int test_counters_all_cpus(Loader *l, RulesetInstalled *installed) {
        static const struct rule_text texts[] = {
                { .action = "drop", .protocol = "udp", .port = "53" },
                BLOCK("192.0.2.0/24", "drop"),
        };
        /* One frame for each rule: the first for the classifier rule, the second for the block rule. */
        static const struct packet_spec specs[] = {
                { V4, .src = "198.51.100.1", .l4 = PACKET_L4_UDP, .dport = 53, .payload = 18 },
                { V4, .src = "192.0.2.1", .l4 = PACKET_L4_TCP, .payload = 1 },
        };
        _cleanup_(rules_freep) Rule *rules[MAX_RULES] = {};
        _cleanup_free_ struct cpu_worker *workers = NULL;
        long n_cpus = sysconf(_SC_NPROCESSORS_ONLN);
        struct packet frames[2];
        struct pf_statistics stats;
        uint64_t expected;
        int r, mismatches = 0;

        if (n_cpus < 1)
                n_cpus = 1;
        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                r = ruleset_rule_from_text(&texts[i], (uint32_t) i + 1, 42, &rules[i], NULL);
                if (r < 0)
                        return r;
        }
        r = packet_build(&specs[0], &frames[0]);
        if (r >= 0)
                r = packet_build(&specs[1], &frames[1]);
        if (r < 0)
                return log_error_errno(r, "Bad packet: %m");

        r = ruleset_push(l, rules, ELEMENTSOF(texts), PASS, installed);
        if (r <= 0)
                return log_error_errno(r < 0 ? r : -EIO, "Failed to push the rules: %m");
        r = ruleset_counters_reset(l, rules, ELEMENTSOF(texts));
        if (r >= 0)
                r = loader_statistics_reset(l);
        if (r < 0)
                return log_error_errno(r, "Failed to reset counters: %m");

        workers = calloc(n_cpus, sizeof(*workers));
        if (!workers)
                return log_oom();
        for (long i = 0; i < n_cpus; i++) {
                workers[i] = (struct cpu_worker) {
                        .cpu = (int) i, .prog_fd = loader_prog_fd(l), .frames = { &frames[0], &frames[1] },
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
        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                uint64_t packets, bytes;

                r = ruleset_counter_read(l, rules[i], &packets, &bytes);
                if (r < 0)
                        return log_error_errno(r, "Failed to read a counter: %m");
                if (packets != expected || bytes != expected * frames[i].len) {
                        printf("#   %s counter: %" PRIu64 " packets, %" PRIu64 " bytes; expected %" PRIu64 ", %" PRIu64 "\n",
                               rule_is_block(rules[i]) ? "block" : "classifier", packets, bytes,
                               expected, expected * frames[i].len);
                        mismatches++;
                }
        }
        r = loader_statistics_read(l, &stats);
        if (r < 0)
                return log_error_errno(r, "Failed to read the statistics: %m");
        if (stats.v[PF_STAT_PACKETS] != 2 * expected || stats.v[PF_STAT_DROPPED_BY_RULE] != 2 * expected) {
                printf("#   statistics: packets %" PRIu64 ", dropped-by-rule %" PRIu64 "; expected %" PRIu64 "\n",
                       stats.v[PF_STAT_PACKETS], stats.v[PF_STAT_DROPPED_BY_RULE], 2 * expected);
                mismatches++;
        }
        return mismatches;
}

/* Informational: average ns per run of the program, as bpf_prog_test_run_opts measures it. */
static int print_timing(Loader *l) {
        static const struct {
                const char *name;
                struct packet_spec spec;
        } paths[] = {
                { "ipv4 pass (miss)",       { V4, .src = "203.0.113.1", .l4 = PACKET_L4_UDP } },
                { "ipv4 block drop",        { V4, .src = "192.0.2.1", .l4 = PACKET_L4_UDP } },
                { "ipv4 classifier drop",   { V4, .src = "203.0.113.1", .l4 = PACKET_L4_TCP, .dport = 22 } },
                { "ipv6 pass (miss)",       { V6, .src = "2001:db8:1::1", .l4 = PACKET_L4_UDP } },
                { "ipv6 block drop",        { V6, .src = "2001:db8::1", .l4 = PACKET_L4_UDP } },
        };
        static const struct rule_text texts[] = {
                BLOCK("192.0.2.0/24", "drop"),
                BLOCK("2001:db8::/64", "drop"),
                { .action = "drop", .protocol = "tcp", .port = "22" },
        };
        _cleanup_(rules_freep) Rule *rules[MAX_RULES] = {};
        RulesetInstalled installed = {};
        int r;

        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                r = ruleset_rule_from_text(&texts[i], (uint32_t) i + 1, (uint32_t) i, &rules[i], NULL);
                if (r < 0)
                        return r;
        }
        r = ruleset_push(l, rules, ELEMENTSOF(texts), PASS, &installed);
        ruleset_installed_clear(&installed);
        if (r < 0)
                return log_error_errno(r, "Failed to push the rules: %m");

        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                uint32_t verdict, ns;
                struct packet p;

                r = packet_build(&paths[i].spec, &p);
                if (r < 0)
                        return log_error_errno(r, "Bad packet: %m");
                r = run_frame(loader_prog_fd(l), &p, 1, 1000000, &verdict, &ns);
                if (r < 0)
                        return log_error_errno(r, "bpf_prog_test_run_opts() failed: %m");
                printf("%-22s %s  %u ns/packet (repeat=1000000, hot)\n", paths[i].name, verdict_name(verdict), ns);
        }
        return 0;
}

/* loader_new(NULL) promises to pin nothing: look in the private bpffs (whose
 * own maps.debug and progs.debug files do not count). */
static int test_unpinned_loader_pins_nothing(void) {
        _cleanup_(loader_freep) Loader *l = NULL;
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

int main(int argc, char *argv[]) {
        _cleanup_(loader_freep) Loader *l = NULL;
        RulesetInstalled installed = {};
        struct slot_list slots = {};
        unsigned failed = 0, n = 0;
        int r;

        if (geteuid() != 0) {
                bool allow_skip = streq_ptr(getenv("PF_ALLOW_SKIP"), "1");

                fprintf(stderr, "test-xdp: needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN) to load the XDP program%s\n",
                        allow_skip ? "; skipping" : "; run it as root, or set PF_ALLOW_SKIP=1 to skip");
                return allow_skip ? 77 : EXIT_FAILURE;
        }

        if (test_isolate(TEST_IFACE0, TEST_IFACE1) < 0)
                return EXIT_FAILURE;
        if (collect_slots(&slots) < 0)
                return EXIT_FAILURE;

        printf("1..%zu\n", ELEMENTSOF(cases) + 2);

        r = test_unpinned_loader_pins_nothing();
        if (r < 0)
                return EXIT_FAILURE;
        printf("%s %u - an unpinned loader pins nothing\n", r == 0 ? "ok" : "not ok", ++n);
        failed += r != 0;

        r = loader_new(NULL, &l);
        if (r < 0)
                return log_error_errno(r, "Failed to load the XDP program: %m"), EXIT_FAILURE;

        if (argc > 1 && streq(argv[1], "--timing"))
                return print_timing(l) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                r = run_case(l, &installed, &slots, &cases[i]);
                if (r < 0)
                        return EXIT_FAILURE;
                printf("%s %u - %s\n", r == 0 ? "ok" : "not ok", ++n, cases[i].name);
                failed += r != 0;
        }

        r = test_counters_all_cpus(l, &installed);
        if (r < 0)
                return EXIT_FAILURE;
        printf("%s %u - counters summed over every CPU are exact\n", r == 0 ? "ok" : "not ok", ++n);
        failed += r != 0;
        ruleset_installed_clear(&installed);

        if (failed > 0) {
                printf("# %u of %u cases failed\n", failed, n);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
