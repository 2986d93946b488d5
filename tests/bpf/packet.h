/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small builder of test frames: Ethernet, up to two VLAN tags, IPv4 (with
 * options), IPv6, ARP, TCP, UDP, ICMP and ICMPv6, with lengths and checksums
 * filled in as a real stack would. Tests describe a frame with a
 * packet_spec, build it, then break it on purpose through the offsets the
 * builder records.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PACKET_MAX 1500

enum packet_l3 {
        PACKET_L3_IPV4,
        PACKET_L3_IPV6,
        PACKET_L3_ARP,
        PACKET_L3_RAW,          /* spec.ethertype, then spec.payload bytes */
};

enum packet_l4 {
        PACKET_L4_NONE,         /* spec.payload bytes straight after the IP header */
        PACKET_L4_TCP,
        PACKET_L4_UDP,
        PACKET_L4_ICMP,
        PACKET_L4_ICMPV6,
};

struct packet_vlan {
        uint16_t tpid;          /* 0x8100 or 0x88a8; 0 = no tag */
        uint16_t id;            /* 0..4095 */
};

struct packet_spec {
        struct packet_vlan vlan[3];     /* outermost first; a third tag only to test refusal */
        enum packet_l3 l3;
        uint16_t ethertype;             /* PACKET_L3_RAW only */
        const char *src;                /* IP source (ARP: sender IPv4), text */
        const char *dst;                /* IP destination (ARP: target IPv4), text */
        uint8_t hop_limit;              /* IPv4 TTL / IPv6 hop limit; 0 = 64 */
        uint8_t ip_options;             /* IPv4 option bytes: a multiple of 4, at most 40 */
        uint8_t next_header;            /* PACKET_L4_NONE: IP protocol to announce (0 = 59, none) */
        enum packet_l4 l4;
        uint16_t sport, dport;          /* TCP/UDP */
        uint8_t icmp_type, icmp_code;   /* ICMP/ICMPv6 */
        size_t payload;                 /* bytes after the L4 header (or L3, without L4) */
};

struct packet {
        uint8_t data[PACKET_MAX];
        size_t len;
        size_t l3_off;                  /* first byte after the Ethernet header and tags */
        size_t l4_off;                  /* first byte after the IP header (with options) */
};

/* Returns 0, or -EINVAL for an address that does not parse or a spec that does not fit. */
int packet_build(const struct packet_spec *spec, struct packet *ret);

/* The Internet checksum (RFC 1071) of buf plus a partial sum, folded and complemented:
 * the value to store big-endian in the header. */
uint16_t packet_checksum(const void *buf, size_t len, uint32_t partial);
