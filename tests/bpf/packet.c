/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "packet.h"

#define ETHERTYPE_IPV4  0x0800
#define ETHERTYPE_IPV6  0x86dd
#define ETHERTYPE_ARP   0x0806
#define PROTO_ICMP      1
#define PROTO_TCP       6
#define PROTO_UDP       17
#define PROTO_ICMPV6    58
#define PROTO_NONE      59
#define PROTO_SCTP      132

static const uint8_t mac_dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t mac_src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static void put16(uint8_t *p, uint16_t v) {
        p[0] = v >> 8;
        p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v) {
        put16(p, v >> 16);
        put16(p + 2, v & 0xffff);
}

static uint32_t sum16(const void *buf, size_t len, uint32_t sum) {
        const uint8_t *p = buf;

        for (; len > 1; p += 2, len -= 2)
                sum += (uint32_t) p[0] << 8 | p[1];
        if (len > 0)
                sum += (uint32_t) p[0] << 8;
        return sum;
}

uint16_t packet_checksum(const void *buf, size_t len, uint32_t partial) {
        uint32_t sum = sum16(buf, len, partial);

        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return (uint16_t) ~sum;
}

/* The pseudo-header sum shared by TCP, UDP and ICMPv6 (RFC 793, 768, 8200). */
static uint32_t pseudo_header_sum(int family, const uint8_t *src, const uint8_t *dst,
                                  uint8_t proto, size_t l4_len) {
        size_t alen = family == AF_INET ? 4 : 16;
        uint32_t sum = 0;

        sum = sum16(src, alen, sum);
        sum = sum16(dst, alen, sum);
        sum += proto;
        sum += (uint32_t) l4_len;
        return sum;
}

static size_t l4_header_len(const struct packet_spec *spec) {
        switch (spec->l4) {
        case PACKET_L4_TCP:
                return 20;
        case PACKET_L4_UDP:
        case PACKET_L4_ICMP:
                return 8;
        case PACKET_L4_SCTP:
                return 12;
        case PACKET_L4_ICMPV6:
                /* Neighbour solicitation/advertisement and redirect carry a target address. */
                if (spec->icmp_type == 135 || spec->icmp_type == 136)
                        return 24;
                if (spec->icmp_type == 137)
                        return 40;
                return 8;
        default:
                return 0;
        }
}

static uint8_t l4_proto(const struct packet_spec *spec) {
        switch (spec->l4) {
        case PACKET_L4_TCP:
                return PROTO_TCP;
        case PACKET_L4_UDP:
                return PROTO_UDP;
        case PACKET_L4_ICMP:
                return PROTO_ICMP;
        case PACKET_L4_ICMPV6:
                return PROTO_ICMPV6;
        case PACKET_L4_SCTP:
                return PROTO_SCTP;
        default:
                return spec->next_header ?: PROTO_NONE;
        }
}

/* Writes the L4 header and payload at p, checksum included. */
static void put_l4(const struct packet_spec *spec, int family, const uint8_t *src, const uint8_t *dst,
                   uint8_t *p, size_t l4_len) {
        size_t hlen = l4_header_len(spec);

        /* A recognisable payload, so that a dump shows where it starts. */
        for (size_t i = hlen; i < l4_len; i++)
                p[i] = (uint8_t) i;

        switch (spec->l4) {
        case PACKET_L4_TCP:
                put16(p, spec->sport);
                put16(p + 2, spec->dport);
                put32(p + 4, 1);                /* sequence */
                p[12] = 5 << 4;                 /* data offset: 20 bytes */
                p[13] = 0x02;                   /* SYN */
                put16(p + 14, 65535);           /* window */
                put16(p + 16, packet_checksum(
                        p, l4_len, pseudo_header_sum(family, src, dst, PROTO_TCP, l4_len)));
                break;
        case PACKET_L4_UDP: {
                uint16_t csum;

                put16(p, spec->sport);
                put16(p + 2, spec->dport);
                put16(p + 4, (uint16_t) l4_len);
                csum = packet_checksum(p, l4_len, pseudo_header_sum(family, src, dst, PROTO_UDP, l4_len));
                /* 0 means "no checksum" in UDP: a computed 0 goes out as all ones. */
                put16(p + 6, csum ?: 0xffff);
                break;
        }
        case PACKET_L4_SCTP:
                /* The common header (RFC 9260); nobody here checks its CRC32c. */
                put16(p, spec->sport);
                put16(p + 2, spec->dport);
                put32(p + 4, 0x0badcafe);      /* verification tag */
                break;
        case PACKET_L4_ICMP:
                p[0] = spec->icmp_type;
                p[1] = spec->icmp_code;
                put16(p + 4, 0x1234);           /* echo identifier */
                put16(p + 6, 1);                /* echo sequence */
                put16(p + 2, packet_checksum(p, l4_len, 0));
                break;
        case PACKET_L4_ICMPV6:
                p[0] = spec->icmp_type;
                p[1] = spec->icmp_code;
                if (hlen >= 24 && family == AF_INET6)
                        memcpy(p + 8, dst, 16); /* target address (an IPv6 one only) */
                put16(p + 2, packet_checksum(
                        p, l4_len, pseudo_header_sum(family, src, dst, PROTO_ICMPV6, l4_len)));
                break;
        default:
                break;
        }
}

static int put_ipv4(const struct packet_spec *spec, uint8_t *p, size_t room, size_t *ret_len) {
        size_t hlen = 20 + spec->ip_options, l4_len = l4_header_len(spec) + spec->payload;
        uint8_t src[4], dst[4];

        if (spec->ip_options % 4 != 0 || spec->ip_options > 40 || hlen + l4_len > room)
                return -EINVAL;
        if (inet_pton(AF_INET, spec->src ?: "192.0.2.1", src) != 1 ||
            inet_pton(AF_INET, spec->dst ?: "192.0.2.2", dst) != 1)
                return -EINVAL;

        p[0] = 0x40 | (uint8_t) (hlen / 4);
        put16(p + 2, (uint16_t) (hlen + l4_len));
        put16(p + 4, 0x1c46);                   /* identification */
        if (spec->frag_offset > 0x1fff)
                return -EINVAL;
        if (spec->frag_offset > 0 || spec->more_fragments)
                put16(p + 6, (spec->more_fragments ? 0x2000 : 0) | spec->frag_offset);
        else
                put16(p + 6, 0x4000);           /* don't fragment */
        p[8] = spec->hop_limit ?: 64;
        p[9] = l4_proto(spec);
        memcpy(p + 12, src, 4);
        memcpy(p + 16, dst, 4);
        /* Options: no-operations, closed by end-of-list. */
        if (spec->ip_options > 0) {
                memset(p + 20, 0x01, spec->ip_options);
                p[hlen - 1] = 0x00;
        }
        put16(p + 10, packet_checksum(p, hlen, 0));

        put_l4(spec, AF_INET, src, dst, p + hlen, l4_len);
        *ret_len = hlen + l4_len;
        return 0;
}

size_t packet_ext_size(const struct packet_ext *e) {
        switch (e->type) {
        case PACKET_EXT_FRAGMENT:
                return 8;
        case PACKET_EXT_AH:
                return ((size_t) e->length + 2) * 4;
        default:
                return ((size_t) e->length + 1) * 8;
        }
}

/* One extension header at p, announcing next; returns its size. */
static size_t put_ext(const struct packet_ext *e, uint8_t next, uint8_t *p) {
        size_t size = packet_ext_size(e);

        memset(p, 0, size);
        p[0] = next;
        switch (e->type) {
        case PACKET_EXT_FRAGMENT:
                put16(p + 2, (uint16_t) (e->offset << 3) | (e->more ? 1 : 0));
                put32(p + 4, 0xf00d);           /* identification */
                break;
        case PACKET_EXT_AH:
                p[1] = e->length;
                put32(p + 4, 0x100);            /* SPI */
                put32(p + 8, 1);                /* sequence */
                break;
        case PACKET_EXT_ROUTING:
                p[1] = e->length;
                p[2] = 253;                     /* routing type: experimental (RFC 4727) */
                p[3] = 0;                       /* segments left: nothing to route */
                break;
        default:
                /* Hop-by-hop or destination options: one PadN option fills the rest. */
                p[1] = e->length;
                if (size > 4) {
                        p[2] = 1;
                        p[3] = (uint8_t) (size - 4);
                } else
                        p[2] = 0;
                break;
        }
        return size;
}

static int put_ipv6(const struct packet_spec *spec, uint8_t *p, size_t room, size_t *ret_len,
                    size_t ext_off[static PACKET_MAX_EXT], size_t *ret_l4_off) {
        size_t l4_len = l4_header_len(spec) + spec->payload, ext_len = 0, off = 40;
        uint8_t src[16], dst[16];

        if (spec->n_ext > PACKET_MAX_EXT)
                return -EINVAL;
        for (size_t i = 0; i < spec->n_ext; i++)
                ext_len += packet_ext_size(&spec->ext[i]);
        if (40 + ext_len + l4_len > room || ext_len + l4_len > UINT16_MAX)
                return -EINVAL;
        if (inet_pton(AF_INET6, spec->src ?: "2001:db8::1", src) != 1 ||
            inet_pton(AF_INET6, spec->dst ?: "2001:db8::2", dst) != 1)
                return -EINVAL;

        put32(p, 6u << 28);                     /* version, no traffic class, no flow label */
        put16(p + 4, (uint16_t) (ext_len + l4_len));
        p[6] = spec->n_ext > 0 ? spec->ext[0].type : l4_proto(spec);
        p[7] = spec->hop_limit ?: 64;
        memcpy(p + 8, src, 16);
        memcpy(p + 24, dst, 16);

        for (size_t i = 0; i < spec->n_ext; i++) {
                uint8_t next = i + 1 < spec->n_ext ? spec->ext[i + 1].type : l4_proto(spec);

                ext_off[i] = off;
                off += put_ext(&spec->ext[i], next, p + off);
        }

        put_l4(spec, AF_INET6, src, dst, p + off, l4_len);
        *ret_l4_off = off;
        *ret_len = off + l4_len;
        return 0;
}

/* An ARP request for IPv4 over Ethernet (RFC 826). */
static int put_arp(const struct packet_spec *spec, uint8_t *p, size_t room, size_t *ret_len) {
        if (28 > room)
                return -EINVAL;

        put16(p, 1);                            /* hardware: Ethernet */
        put16(p + 2, ETHERTYPE_IPV4);
        p[4] = 6;
        p[5] = 4;
        put16(p + 6, 1);                        /* request */
        memcpy(p + 8, mac_src, 6);
        if (inet_pton(AF_INET, spec->src ?: "192.0.2.1", p + 14) != 1)
                return -EINVAL;
        memset(p + 18, 0, 6);
        if (inet_pton(AF_INET, spec->dst ?: "192.0.2.2", p + 24) != 1)
                return -EINVAL;
        *ret_len = 28;
        return 0;
}

int packet_build(const struct packet_spec *spec, struct packet *ret) {
        struct packet pkt = {};
        uint8_t *ethertype_at;
        size_t off = 12, l3_len = 0;
        uint16_t ethertype;
        int r;

        memcpy(pkt.data, mac_dst, 6);
        memcpy(pkt.data + 6, mac_src, 6);

        for (size_t i = 0; i < sizeof(spec->vlan) / sizeof(spec->vlan[0]) && spec->vlan[i].tpid != 0; i++) {
                put16(pkt.data + off, spec->vlan[i].tpid);
                put16(pkt.data + off + 2, spec->vlan[i].id & 0x0fff);
                off += 4;
        }
        ethertype_at = pkt.data + off;
        off += 2;
        pkt.l3_off = off;

        switch (spec->l3) {
        case PACKET_L3_IPV4:
                ethertype = ETHERTYPE_IPV4;
                r = put_ipv4(spec, pkt.data + off, PACKET_MAX - off, &l3_len);
                pkt.l4_off = off + 20 + spec->ip_options;
                break;
        case PACKET_L3_IPV6:
                ethertype = ETHERTYPE_IPV6;
                r = put_ipv6(spec, pkt.data + off, PACKET_MAX - off, &l3_len, pkt.ext_off, &pkt.l4_off);
                pkt.l4_off += off;
                for (size_t i = 0; i < spec->n_ext; i++)
                        pkt.ext_off[i] += off;
                break;
        case PACKET_L3_ARP:
                ethertype = ETHERTYPE_ARP;
                r = put_arp(spec, pkt.data + off, PACKET_MAX - off, &l3_len);
                pkt.l4_off = off + l3_len;
                break;
        case PACKET_L3_RAW:
                ethertype = spec->ethertype;
                r = spec->payload <= PACKET_MAX - off ? 0 : -EINVAL;
                l3_len = spec->payload;
                memset(pkt.data + off, 0xab, l3_len);
                pkt.l4_off = off;
                break;
        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;

        put16(ethertype_at, ethertype);
        pkt.len = off + l3_len;
        *ret = pkt;
        return 0;
}
