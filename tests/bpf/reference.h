/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A reference for the data plane, written for clarity and nothing else: it
 * parses a frame with its own plain parser and judges it by a linear scan of
 * the rules, following docs/dataplane.md. The tests run the real XDP program
 * and this side by side; they must agree on the verdict, on the rule that
 * decided (its counter) and on every global statistic.
 *
 * It shares nothing with the program or the classifier compiler but the rule
 * model (rule.h) and the names of the statistics (packetfilter.h).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "packetfilter.h"
#include "rule.h"

enum ref_frame {
        REF_FRAME_MALFORMED,    /* cut short or inconsistent: the default action, no rule looked at */
        REF_FRAME_NON_IP,       /* neither IPv4 nor IPv6 (ARP included): the default action */
        REF_FRAME_IPV4,
        REF_FRAME_IPV6,
};

/* What the rules can look at in a frame. */
struct ref_packet {
        enum ref_frame frame;
        size_t length;                  /* whole frame, bytes */
        bool arp;                       /* REF_FRAME_NON_IP: it is ARP */
        bool tagged;                    /* at least one VLAN tag */
        uint16_t vlan;                  /* the outer tag's id */
        int family;                     /* AF_INET or AF_INET6 */
        uint8_t source[16], destination[16];    /* network order; IPv4 in the first 4 bytes */
        uint8_t protocol;               /* upper-layer protocol (after IPv6 extension headers) */
        uint8_t hop_limit;              /* IPv6 */
        bool non_first_fragment;        /* no L4 header in this frame */
        bool has_ports;                 /* TCP, UDP or SCTP header read */
        uint16_t source_port, port;
        bool has_icmp_type;             /* ICMP or ICMPv6 header read */
        uint8_t icmp_type;
        unsigned ifindex;               /* interface the frame came in on */
};

/* Never fails: a frame it cannot make sense of is REF_FRAME_MALFORMED (or NON_IP). */
void ref_parse(const uint8_t *frame, size_t length, unsigned ifindex, struct ref_packet *ret);

struct ref_verdict {
        bool drop;
        ssize_t rule;                   /* index into the rules given of the rule that decided, -1: default */
        uint64_t stats[_PF_STAT_MAX];   /* what this frame adds to each global statistic */
};

/*
 * rules: every rule in any order, enabled or not, block rules and classifier
 * rules mixed. ifindex_of maps an interface name to its index (0: absent).
 */
void ref_judge(Rule *const *rules, size_t n_rules, enum pf_action default_action,
               unsigned (*ifindex_of)(const char *ifname), const struct ref_packet *p, struct ref_verdict *ret);

/* One line describing the parsed frame, for failure reports. */
const char *ref_packet_to_string(const struct ref_packet *p, char *buf, size_t size);
/* One line describing a rule in the words of the rule model. */
const char *ref_rule_to_string(const Rule *r, char *buf, size_t size);
const char *ref_stat_name(enum pf_stat s);
