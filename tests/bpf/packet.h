/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small builder of test frames: Ethernet, up to two VLAN tags, IPv4 (with
 * options, fragments), IPv6 (with a chain of extension headers), ARP, TCP,
 * UDP, SCTP, ICMP and ICMPv6, with lengths and checksums filled in as a real
 * stack would. Tests describe a frame with a
 * packet_spec, build it, then break it on purpose through the offsets the
 * builder records.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PACKET_MAX 1500
#define PACKET_MAX_EXT 12       /* IPv6 extension headers a spec may chain */

/* IPv6 extension header types (RFC 8200, 4302). */
#define PACKET_EXT_HOP          0
#define PACKET_EXT_ROUTING      43
#define PACKET_EXT_FRAGMENT     44
#define PACKET_EXT_AH           51
#define PACKET_EXT_DEST         60

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
        PACKET_L4_SCTP,
};

struct packet_vlan {
        uint16_t tpid;          /* 0x8100 or 0x88a8; 0 = no tag */
        uint16_t id;            /* 0..4095 */
};

struct packet_ext {
        uint8_t type;           /* PACKET_EXT_* */
        uint8_t length;         /* the header's length field: (length + 1) * 8 bytes; AH (length + 2) * 4;
                                 * ignored for a fragment header (always 8) */
        uint16_t offset;        /* fragment header: offset in 8-byte units */
        bool more;              /* fragment header: more fragments follow */
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
        uint16_t frag_offset;           /* IPv4: fragment offset in 8-byte units (the L4 header is still
                                         * written, as bait: a non-first fragment must not be read as one) */
        bool more_fragments;            /* IPv4: MF (and no DF) */
        struct packet_ext ext[PACKET_MAX_EXT];  /* IPv6 extension headers, in order */
        size_t n_ext;
        enum packet_l4 l4;
        uint16_t sport, dport;          /* TCP/UDP/SCTP */
        uint8_t icmp_type, icmp_code;   /* ICMP/ICMPv6 */
        size_t payload;                 /* bytes after the L4 header (or L3, without L4) */
};

struct packet {
        uint8_t data[PACKET_MAX];
        size_t len;
        size_t l3_off;                  /* first byte after the Ethernet header and tags */
        size_t l4_off;                  /* first byte after the IP header (with options, extension headers) */
        size_t ext_off[PACKET_MAX_EXT]; /* IPv6: where each extension header starts */
};

/* Bytes an extension header takes. */
size_t packet_ext_size(const struct packet_ext *e);

/* Returns 0, or -EINVAL for an address that does not parse or a spec that does not fit. */
int packet_build(const struct packet_spec *spec, struct packet *ret);

/* The Internet checksum (RFC 1071) of buf plus a partial sum, folded and complemented:
 * the value to store big-endian in the header. */
uint16_t packet_checksum(const void *buf, size_t len, uint32_t partial);
