/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The reference matcher. Plain code on purpose: no tables, no bitmaps, no
 * cleverness; each rule of docs/dataplane.md appears once, in its words.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "reference.h"

#define ETHERTYPE_IPV4          0x0800
#define ETHERTYPE_ARP           0x0806
#define ETHERTYPE_8021Q         0x8100
#define ETHERTYPE_8021AD        0x88a8
#define ETHERTYPE_IPV6          0x86dd

#define PROTO_ICMP              1
#define PROTO_TCP               6
#define PROTO_UDP               17
#define PROTO_ICMPV6            58
#define PROTO_NO_NEXT_HEADER    59
#define PROTO_SCTP              132

#define EXT_HOP                 0
#define EXT_ROUTING             43
#define EXT_FRAGMENT            44
#define EXT_AH                  51
#define EXT_DEST                60

static uint16_t get16(const uint8_t *p) {
        return (uint16_t) (p[0] << 8 | p[1]);
}

/* ---- Parsing ---------------------------------------------------------------------------------- */

/* TCP (20 bytes), UDP (8), SCTP (12) give ports; ICMP and ICMPv6 (4) the type; others nothing.
 * False when the header is shorter than that. */
static bool parse_l4(const uint8_t *l4, size_t room, struct ref_packet *p) {
        size_t need;

        switch (p->protocol) {
        case PROTO_TCP:
                need = 20;
                break;
        case PROTO_UDP:
                need = 8;
                break;
        case PROTO_SCTP:
                need = 12;
                break;
        case PROTO_ICMP:
        case PROTO_ICMPV6:
                need = 4;
                break;
        default:
                return true;
        }
        if (room < need)
                return false;

        if (p->protocol == PROTO_ICMP || p->protocol == PROTO_ICMPV6) {
                p->has_icmp_type = true;
                p->icmp_type = l4[0];
        } else {
                p->has_ports = true;
                p->source_port = get16(l4);
                p->port = get16(l4 + 2);
        }
        return true;
}

static bool parse_ipv4(const uint8_t *ip, size_t room, struct ref_packet *p) {
        size_t header_length;

        if (room < 20)
                return false;
        if (ip[0] >> 4 != 4)
                return false;
        header_length = (size_t) (ip[0] & 0x0f) * 4;
        if (header_length < 20 || header_length > room)
                return false;
        if (get16(ip + 2) < header_length)
                return false;

        p->family = AF_INET;
        memcpy(p->source, ip + 12, 4);
        memcpy(p->destination, ip + 16, 4);
        p->protocol = ip[9];

        if ((get16(ip + 6) & 0x1fff) != 0) {
                /* A later fragment: what follows the header is the middle of the payload. */
                p->non_first_fragment = true;
                return true;
        }
        return parse_l4(ip + header_length, room - header_length, p);
}

static bool is_extension_header(uint8_t next) {
        return next == EXT_HOP || next == EXT_ROUTING || next == EXT_FRAGMENT ||
               next == EXT_AH || next == EXT_DEST;
}

static bool parse_ipv6(const uint8_t *ip, size_t room, struct ref_packet *p) {
        size_t offset = 40;
        unsigned walked = 0;
        uint8_t next;

        if (room < 40)
                return false;
        if (ip[0] >> 4 != 6)
                return false;

        p->family = AF_INET6;
        memcpy(p->source, ip + 8, 16);
        memcpy(p->destination, ip + 24, 16);
        p->hop_limit = ip[7];
        next = ip[6];

        while (is_extension_header(next)) {
                const uint8_t *h = ip + offset;
                size_t size;

                /* The program walks at most PF_MAX_EXT_HEADERS; a longer chain is malformed. */
                if (walked == PF_MAX_EXT_HEADERS)
                        return false;
                walked++;

                if (room - offset < 8)
                        return false;
                if (next == EXT_FRAGMENT)
                        size = 8;
                else if (next == EXT_AH)
                        size = ((size_t) h[1] + 2) * 4;
                else
                        size = ((size_t) h[1] + 1) * 8;
                /* A header cut short is malformed, whatever follows it. */
                if (room - offset < size)
                        return false;

                if (next == EXT_FRAGMENT && (get16(h + 2) & 0xfff8) != 0) {
                        p->protocol = h[0];
                        p->non_first_fragment = true;
                        return true;
                }
                next = h[0];
                offset += size;
        }

        p->protocol = next;
        if (next == PROTO_NO_NEXT_HEADER)
                return true;
        return parse_l4(ip + offset, room - offset, p);
}

void ref_parse(const uint8_t *frame, size_t length, unsigned ifindex, struct ref_packet *ret) {
        struct ref_packet p = {
                .frame = REF_FRAME_MALFORMED,
                .length = length,
                .ifindex = ifindex,
        };
        size_t offset = 14;
        uint16_t type;

        if (length < 14) {
                *ret = p;
                return;
        }
        type = get16(frame + 12);

        /* Up to two VLAN tags (802.1Q or 802.1ad, in any order); rules see the outer one. */
        for (unsigned tags = 0; tags < 2 && (type == ETHERTYPE_8021Q || type == ETHERTYPE_8021AD); tags++) {
                if (length - offset < 4) {
                        *ret = p;
                        return;
                }
                if (tags == 0) {
                        p.tagged = true;
                        p.vlan = get16(frame + offset) & 0x0fff;
                }
                type = get16(frame + offset + 2);
                offset += 4;
        }

        /* A third tag lands here too: not IP. */
        if (type == ETHERTYPE_IPV4)
                p.frame = parse_ipv4(frame + offset, length - offset, &p) ? REF_FRAME_IPV4 : REF_FRAME_MALFORMED;
        else if (type == ETHERTYPE_IPV6)
                p.frame = parse_ipv6(frame + offset, length - offset, &p) ? REF_FRAME_IPV6 : REF_FRAME_MALFORMED;
        else {
                p.frame = REF_FRAME_NON_IP;
                p.arp = type == ETHERTYPE_ARP;
        }
        *ret = p;
}

/* ---- Judging ---------------------------------------------------------------------------------- */

static bool prefix_holds(const struct prefix *prefix, int family, const uint8_t *addr) {
        if (prefix->family != family)
                return false;
        for (unsigned bit = 0; bit < prefix->prefixlen; bit++) {
                uint8_t mask = (uint8_t) (0x80u >> (bit % 8));

                if ((prefix->addr[bit / 8] & mask) != (addr[bit / 8] & mask))
                        return false;
        }
        return true;
}

static bool port_in(const struct port_range *range, uint16_t port) {
        return port >= range->first && port <= range->last;
}

/* Rules are ordered by (priority, id). */
static bool comes_before(const Rule *a, const Rule *b) {
        if (a->priority != b->priority)
                return a->priority < b->priority;
        return a->id < b->id;
}

/* A block rule matches on the source alone. */
static bool is_block_rule(const Rule *r) {
        return r->match == RULE_MATCH_SOURCE;
}

/* All the fields a rule names must hold; a field it does not name holds always. */
static bool rule_matches(const Rule *r, const struct ref_packet *p, unsigned (*ifindex_of)(const char *ifname)) {
        if ((r->match & RULE_MATCH_SOURCE) && !prefix_holds(&r->source, p->family, p->source))
                return false;
        if ((r->match & RULE_MATCH_DESTINATION) && !prefix_holds(&r->destination, p->family, p->destination))
                return false;
        if ((r->match & RULE_MATCH_PROTOCOL) && r->protocol != p->protocol)
                return false;
        /* No ports and no ICMP type without their header: a later fragment never matches these. */
        if ((r->match & RULE_MATCH_SOURCE_PORT) && !(p->has_ports && port_in(&r->source_port, p->source_port)))
                return false;
        if ((r->match & RULE_MATCH_PORT) && !(p->has_ports && port_in(&r->port, p->port)))
                return false;
        if ((r->match & RULE_MATCH_ICMP_TYPE) && !(p->has_icmp_type && r->icmp_type == p->icmp_type))
                return false;
        /* An untagged frame matches no vlan rule. */
        if ((r->match & RULE_MATCH_VLAN) && !(p->tagged && r->vlan == p->vlan))
                return false;
        if (r->match & RULE_MATCH_INTERFACE) {
                unsigned ifindex = ifindex_of ? ifindex_of(r->interface) : 0;

                /* An interface that does not exist matches nothing. */
                if (ifindex == 0 || ifindex != p->ifindex)
                        return false;
        }
        return true;
}

/* IPv6 neighbour discovery as RFC 4861 sends it: ICMPv6 133-137 with hop limit 255. */
static bool is_neighbour_discovery(const struct ref_packet *p) {
        return p->family == AF_INET6 && p->protocol == PROTO_ICMPV6 && p->has_icmp_type &&
               p->hop_limit == 255 && p->icmp_type >= 133 && p->icmp_type <= 137;
}

static void decide_by_default(enum pf_action default_action, bool spared, struct ref_verdict *v) {
        v->rule = -1;
        if (default_action == PF_ACTION_DROP && !spared) {
                v->drop = true;
                v->stats[PF_STAT_DROPPED_BY_DEFAULT]++;
                return;
        }
        if (default_action == PF_ACTION_DROP)
                v->stats[PF_STAT_ALWAYS_PASSED]++;
        v->drop = false;
        v->stats[PF_STAT_PASSED]++;
}

void ref_judge(Rule *const *rules, size_t n_rules, enum pf_action default_action,
               unsigned (*ifindex_of)(const char *ifname), const struct ref_packet *p, struct ref_verdict *ret) {
        struct ref_verdict v = { .rule = -1 };
        ssize_t block = -1, classifier = -1, decider;

        v.stats[PF_STAT_PACKETS] = 1;

        if (p->frame == REF_FRAME_MALFORMED) {
                /* Fields read from a broken header are not trusted: no rule is looked at. */
                v.stats[PF_STAT_MALFORMED]++;
                decide_by_default(default_action, false, &v);
                *ret = v;
                return;
        }
        if (p->frame == REF_FRAME_NON_IP) {
                v.stats[PF_STAT_NON_IP]++;
                decide_by_default(default_action, p->arp, &v);
                *ret = v;
                return;
        }
        if (p->non_first_fragment)
                v.stats[PF_STAT_FRAGMENTS]++;

        for (size_t i = 0; i < n_rules; i++) {
                const Rule *r = rules[i];

                if (!r->enabled)
                        continue;
                if (is_block_rule(r)) {
                        /* Among block rules the longest prefix holding the source wins; on the
                         * same prefix, the first in rule order. */
                        if (!prefix_holds(&r->source, p->family, p->source))
                                continue;
                        if (block < 0 || r->source.prefixlen > rules[block]->source.prefixlen ||
                            (r->source.prefixlen == rules[block]->source.prefixlen && comes_before(r, rules[block])))
                                block = (ssize_t) i;
                } else {
                        /* Among classifier rules the first matching in rule order. */
                        if (!rule_matches(r, p, ifindex_of))
                                continue;
                        if (classifier < 0 || comes_before(r, rules[classifier]))
                                classifier = (ssize_t) i;
                }
        }

        /* The block rule found and the classifier rule found: the earlier in rule order decides. */
        decider = block;
        if (classifier >= 0 && (decider < 0 || comes_before(rules[classifier], rules[decider])))
                decider = classifier;

        if (decider < 0) {
                decide_by_default(default_action, is_neighbour_discovery(p), &v);
                *ret = v;
                return;
        }
        v.rule = decider;
        v.drop = rules[decider]->action == PF_ACTION_DROP;
        v.stats[v.drop ? PF_STAT_DROPPED_BY_RULE : PF_STAT_PASSED]++;
        *ret = v;
}

/* ---- Describing --------------------------------------------------------------------------------- */

/* snprintf at *pos, never past size. */
_printf_(4, 5)
static void append(char *buf, size_t size, size_t *pos, const char *format, ...) {
        va_list ap;
        int n;

        if (*pos >= size)
                return;
        va_start(ap, format);
        n = vsnprintf(buf + *pos, size - *pos, format, ap);
        va_end(ap);
        if (n > 0)
                *pos += (size_t) n;
}

const char *ref_packet_to_string(const struct ref_packet *p, char *buf, size_t size) {
        static const char *const frames[] = {
                [REF_FRAME_MALFORMED] = "malformed",
                [REF_FRAME_NON_IP] = "non-ip",
                [REF_FRAME_IPV4] = "ipv4",
                [REF_FRAME_IPV6] = "ipv6",
        };
        char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
        size_t pos = 0;

        buf[0] = '\0';
        append(buf, size, &pos, "%s%s, %zu bytes, ifindex %u", frames[p->frame], p->arp ? " (arp)" : "",
               p->length, p->ifindex);
        if (p->tagged)
                append(buf, size, &pos, ", vlan %u", p->vlan);
        if (p->frame != REF_FRAME_IPV4 && p->frame != REF_FRAME_IPV6)
                return buf;
        inet_ntop(p->family, p->source, a, sizeof(a));
        inet_ntop(p->family, p->destination, b, sizeof(b));
        append(buf, size, &pos, ", %s -> %s, protocol %u", a, b, p->protocol);
        if (p->family == AF_INET6)
                append(buf, size, &pos, ", hop limit %u", p->hop_limit);
        if (p->non_first_fragment)
                append(buf, size, &pos, ", non-first fragment");
        if (p->has_ports)
                append(buf, size, &pos, ", ports %u -> %u", p->source_port, p->port);
        if (p->has_icmp_type)
                append(buf, size, &pos, ", icmp type %u", p->icmp_type);
        return buf;
}

const char *ref_rule_to_string(const Rule *r, char *buf, size_t size) {
        char prefix[PREFIX_STRING_MAX];
        size_t pos = 0;

        buf[0] = '\0';
        append(buf, size, &pos, "id %u priority %d%s %s%s", r->id, r->priority, r->enabled ? "" : " (disabled)",
               r->action == PF_ACTION_DROP ? "drop" : "pass", is_block_rule(r) ? " [block]" : "");
        if (r->match & RULE_MATCH_SOURCE)
                append(buf, size, &pos, " source %s", prefix_format(&r->source, prefix));
        if (r->match & RULE_MATCH_DESTINATION)
                append(buf, size, &pos, " destination %s", prefix_format(&r->destination, prefix));
        if (r->match & RULE_MATCH_PROTOCOL)
                append(buf, size, &pos, " protocol %u", r->protocol);
        if (r->match & RULE_MATCH_SOURCE_PORT)
                append(buf, size, &pos, " source-port %u-%u", r->source_port.first, r->source_port.last);
        if (r->match & RULE_MATCH_PORT)
                append(buf, size, &pos, " port %u-%u", r->port.first, r->port.last);
        if (r->match & RULE_MATCH_ICMP_TYPE)
                append(buf, size, &pos, " icmp-type %u", r->icmp_type);
        if (r->match & RULE_MATCH_VLAN)
                append(buf, size, &pos, " vlan %u", r->vlan);
        if (r->match & RULE_MATCH_INTERFACE)
                append(buf, size, &pos, " interface %s", r->interface);
        append(buf, size, &pos, " (slot %u)", r->slot);
        return buf;
}

const char *ref_stat_name(enum pf_stat s) {
        static const char *const names[_PF_STAT_MAX] = {
                [PF_STAT_PACKETS] = "packets",
                [PF_STAT_PASSED] = "passed",
                [PF_STAT_DROPPED_BY_RULE] = "dropped-by-rule",
                [PF_STAT_DROPPED_BY_DEFAULT] = "dropped-by-default",
                [PF_STAT_MALFORMED] = "malformed",
                [PF_STAT_NON_IP] = "non-ip",
                [PF_STAT_FRAGMENTS] = "fragments",
                [PF_STAT_ALWAYS_PASSED] = "always-passed",
        };

        return (unsigned) s < _PF_STAT_MAX && names[s] ? names[s] : "?";
}
