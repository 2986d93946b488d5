/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Differential test: thousands of random rule sets, each with random frames,
 * judged by the real XDP program (bpf_prog_test_run_opts, through the loader
 * the daemon uses) and by the reference matcher (reference.c). For every
 * frame they must agree on the verdict, on which rule's counter rose (packets
 * and bytes) and on every global statistic. Any disagreement prints the rule
 * set, the frame (hex and parsed) and both answers, and fails.
 *
 * The generator is biased so that matches are frequent: addresses are drawn
 * inside the rules' prefixes (or next to them), ports at the edges of the
 * rules' ranges, protocols, ICMP types and VLANs from the rules' values.
 * Frames carry VLAN tags, IPv4 options and fragments, IPv6 extension chains,
 * and are cut or corrupted now and then.
 *
 *   test-differential [SEED [SETS]]   run SETS rule sets (default 2000) from SEED
 *   test-differential SEED --set N    replay rule set N of SEED alone
 *
 * Without SEED one is drawn at random; it is printed first, so any failure can
 * be replayed. Each rule set has its own generator seeded from (SEED, N). The
 * run stops drawing rule sets after TIME_BUDGET_SECONDS (commits wait for an
 * RCU grace period, slow on a busy machine) and says how many it ran.
 * Runs in private mount and network namespaces (a veth pair for interface
 * rules). Needs root; PF_ALLOW_SKIP=1 turns "not root" into a skip (77).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <time.h>
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

#define DEFAULT_SETS            2000u
#define TIME_BUDGET_SECONDS     50      /* stop drawing new rule sets after this (the machine may be busy) */
#define FRAMES_PER_SET          40u
#define MAX_RULES_PER_SET       16u
#define MAX_REPORTED_FAILURES   5u

#define TEST_IFACE0 "pfd0"
#define TEST_IFACE1 "pfd1"

/* ---- A small, reproducible generator (splitmix64) ---------------------------------------------- */

struct rng {
        uint64_t state;
};

static uint64_t rng_next(struct rng *g) {
        uint64_t z = (g->state += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static uint32_t rng_below(struct rng *g, uint32_t n) {
        return n == 0 ? 0 : (uint32_t) (rng_next(g) % n);
}

/* True with probability percent/100. */
static bool rng_chance(struct rng *g, unsigned percent) {
        return rng_below(g, 100) < percent;
}

#define PICK(g, array) ((array)[rng_below((g), ELEMENTSOF(array))])

/* ---- Value pools: few values, so that rules and frames meet often ---------------------------- */

static const char *const v4_pool[] = {
        "10.1.2.3", "10.1.2.130", "10.1.3.1", "10.2.0.1", "192.0.2.1", "192.0.2.200", "198.51.100.7", "203.0.113.9",
};
static const char *const v6_pool[] = {
        "2001:db8::1", "2001:db8::1:5", "2001:db8:1::1", "2001:db8:1:2::3", "fe80::1", "2001:db8:ffff::9",
};
static const uint8_t v4_lengths[] = { 0, 8, 12, 16, 20, 23, 24, 25, 28, 31, 32, 32 };
static const uint8_t v4_block_lengths[] = { 8, 12, 16, 20, 23, 24, 24, 25, 28, 31, 32, 32 };
static const uint8_t v6_lengths[] = { 0, 16, 32, 48, 64, 64, 96, 112, 127, 128, 128 };
static const uint16_t port_pool[] = { 0, 1, 22, 53, 80, 443, 1023, 1024, 5000, 8000, 8080, 8100, 65534, 65535 };
static const uint8_t icmp_pool[] = { 0, 3, 8, 128, 129, 133, 135, 136, 137, 255 };
static const uint16_t vlan_pool[] = { 0, 1, 10, 100, 4095 };
static const char *const interface_pool[] = { "lo", TEST_IFACE0, TEST_IFACE1, "pfdgone0" };
static const int32_t priority_pool[] = { -3, 0, 0, 0, 1, 5 };

/* ---- Rule sets ------------------------------------------------------------------------------------ */

struct rule_set {
        Rule *rules[MAX_RULES_PER_SET];
        size_t n;
        enum pf_action default_action;
};

static void rule_set_done(struct rule_set *s) {
        for (size_t i = 0; i < s->n; i++)
                s->rules[i] = rule_free(s->rules[i]);
        s->n = 0;
}

/* A pool address masked to a length, as prefix text. */
static void random_prefix(struct rng *g, int family, bool block, char buf[static PREFIX_STRING_MAX]) {
        struct prefix p;
        uint8_t len;

        if (family == AF_INET) {
                (void) prefix_parse(PICK(g, v4_pool), &p);
                len = block ? PICK(g, v4_block_lengths) : PICK(g, v4_lengths);
                /* Rarely a very short IPv4 block prefix: it rewrites a large part of the DIR-24 table. */
                if (block && rng_chance(g, 1))
                        len = (uint8_t) rng_below(g, 8);
        } else {
                (void) prefix_parse(PICK(g, v6_pool), &p);
                len = PICK(g, v6_lengths);
        }
        p.prefixlen = len;
        for (unsigned b = len; b < 128; b++)
                p.addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
        (void) prefix_format(&p, buf);
}

static void random_port_range(struct rng *g, char *buf, size_t size) {
        uint16_t a = PICK(g, port_pool), b = PICK(g, port_pool);

        if (rng_chance(g, 50)) {
                snprintf(buf, size, "%u", a);
                return;
        }
        if (a > b) {
                uint16_t t = a;
                a = b;
                b = t;
        }
        snprintf(buf, size, "%u-%u", a, b);
}

/* One valid rule: a block rule (source alone) or a classifier rule with a few fields. */
static int random_rule(struct rng *g, uint32_t id, Rule **ret) {
        for (unsigned attempt = 0; attempt < 100; attempt++) {
                char source[PREFIX_STRING_MAX], destination[PREFIX_STRING_MAX], sport[16], dport[16],
                     icmp[8], vlan[8];
                struct rule_text t = {
                        .action = rng_chance(g, 50) ? "drop" : "pass",
                        .priority = PICK(g, priority_pool),
                        .disabled = rng_chance(g, 8),
                };
                int family = rng_chance(g, 50) ? AF_INET : AF_INET6;
                Rule *rule;

                if (rng_chance(g, 30)) {
                        random_prefix(g, family, true, source);
                        t.source = source;
                } else {
                        bool ports = rng_chance(g, 40), icmp_type = !ports && rng_chance(g, 20);

                        if (rng_chance(g, 35)) {
                                random_prefix(g, family, false, source);
                                t.source = source;
                        }
                        if (rng_chance(g, 30)) {
                                random_prefix(g, family, false, destination);
                                t.destination = destination;
                        }
                        if (ports) {
                                static const char *const with_ports[] = { "tcp", "udp", "sctp", "6", "17" };

                                t.protocol = PICK(g, with_ports);
                                if (rng_chance(g, 70)) {
                                        random_port_range(g, dport, sizeof(dport));
                                        t.port = dport;
                                }
                                if (!t.port || rng_chance(g, 30)) {
                                        random_port_range(g, sport, sizeof(sport));
                                        t.source_port = sport;
                                }
                        } else if (icmp_type) {
                                t.protocol = family == AF_INET ? "icmp" : "icmpv6";
                                snprintf(icmp, sizeof(icmp), "%u", PICK(g, icmp_pool));
                                t.icmp_type = icmp;
                        } else if (rng_chance(g, 40)) {
                                static const char *const any[] = { "tcp", "udp", "sctp", "icmp", "icmpv6", "47", "0", "59" };

                                t.protocol = PICK(g, any);
                        }
                        if (rng_chance(g, 20)) {
                                snprintf(vlan, sizeof(vlan), "%u", PICK(g, vlan_pool));
                                t.vlan = vlan;
                        }
                        if (rng_chance(g, 15))
                                t.interface = PICK(g, interface_pool);
                }

                /* Combinations the rule model refuses (icmp with IPv6 addresses...) are drawn again. */
                if (ruleset_rule_from_text(&t, id, 0, &rule, &(struct rule_error) {}) < 0)
                        continue;
                *ret = rule;
                return 0;
        }
        return -EDEADLK;
}

/* Distinct ids in a random order, distinct slots of each kind anywhere in their spaces. */
static int random_rule_set(struct rng *g, struct rule_set *ret) {
        struct rule_set s = { .default_action = rng_chance(g, 50) ? PF_ACTION_DROP : PF_ACTION_PASS };
        size_t n = 1 + rng_below(g, rng_chance(g, 70) ? 6 : MAX_RULES_PER_SET);
        uint32_t id_base = 1 + rng_below(g, 1000);

        for (size_t i = 0; i < n; i++) {
                uint32_t id = id_base + (uint32_t) rng_below(g, 4) + (uint32_t) i * 4;
                int r = random_rule(g, id, &s.rules[s.n]);

                if (r < 0) {
                        rule_set_done(&s);
                        return r;
                }
                s.n++;
        }
        /* Shuffle, so that the order of the list never stands in for the rule order. */
        for (size_t i = s.n; i > 1; i--) {
                size_t k = rng_below(g, (uint32_t) i);
                Rule *t = s.rules[i - 1];

                s.rules[i - 1] = s.rules[k];
                s.rules[k] = t;
        }
        for (size_t i = 0; i < s.n; i++) {
                bool block = rule_is_block(s.rules[i]);
                uint32_t space = block ? PF_MAX_BLOCKS : PF_MAX_RULES, slot;
                bool taken;

                do {
                        /* Low slots most often, as the daemon hands them out, but any slot is legal. */
                        slot = rng_chance(g, 70) ? rng_below(g, 64) : rng_below(g, space);
                        taken = false;
                        for (size_t k = 0; k < i; k++)
                                taken = taken || (s.rules[k]->slot == slot && rule_is_block(s.rules[k]) == block);
                } while (taken);
                s.rules[i]->slot = slot;
        }
        *ret = s;
        return 0;
}

/* ---- Frames ------------------------------------------------------------------------------------- */

/* An address inside a prefix, with random host bits. */
static void address_inside(struct rng *g, const struct prefix *p, uint8_t addr[16]) {
        unsigned bits = p->family == AF_INET ? 32 : 128;

        memcpy(addr, p->addr, 16);
        for (unsigned b = p->prefixlen; b < bits; b++)
                if (rng_chance(g, 50))
                        addr[b / 8] |= (uint8_t) (0x80u >> (b % 8));
}

/* An address for a frame of this family: inside some rule's prefix, next to one, a pool one, or any. */
static void random_address(struct rng *g, const struct rule_set *s, int family, bool source, char *buf, size_t size) {
        unsigned bits = family == AF_INET ? 32 : 128;
        uint8_t addr[16] = {};
        unsigned choice = rng_below(g, 100);

        if (choice < 55) {
                const struct prefix *candidates[MAX_RULES_PER_SET];
                size_t n = 0;

                for (size_t i = 0; i < s->n; i++) {
                        const Rule *r = s->rules[i];
                        unsigned want = source ? RULE_MATCH_SOURCE : RULE_MATCH_DESTINATION;
                        const struct prefix *p = source ? &r->source : &r->destination;

                        if ((r->match & want) && p->family == family)
                                candidates[n++] = p;
                }
                if (n > 0) {
                        const struct prefix *p = candidates[rng_below(g, (uint32_t) n)];

                        address_inside(g, p, addr);
                        /* Now and then just outside: flip the last bit of the prefix. */
                        if (p->prefixlen > 0 && rng_chance(g, 20))
                                addr[(p->prefixlen - 1) / 8] ^= (uint8_t) (0x80u >> ((p->prefixlen - 1) % 8));
                        inet_ntop(family, addr, buf, size);
                        return;
                }
        }
        if (choice < 85) {
                struct prefix p;

                (void) prefix_parse(family == AF_INET ? PICK(g, v4_pool) : PICK(g, v6_pool), &p);
                memcpy(addr, p.addr, 16);
                if (rng_chance(g, 30)) {
                        unsigned b = bits - 1 - rng_below(g, bits / 2);

                        addr[b / 8] ^= (uint8_t) (0x80u >> (b % 8));
                }
        } else
                for (unsigned i = 0; i < bits / 8; i++)
                        addr[i] = (uint8_t) rng_below(g, 256);
        inet_ntop(family, addr, buf, size);
}

/* A port at the edge of some rule's range (or just past it), or a pool port, or any. */
static uint16_t random_port(struct rng *g, const struct rule_set *s, bool source) {
        if (rng_chance(g, 60)) {
                const struct port_range *candidates[MAX_RULES_PER_SET];
                size_t n = 0;

                for (size_t i = 0; i < s->n; i++) {
                        const Rule *r = s->rules[i];

                        if (source && (r->match & RULE_MATCH_SOURCE_PORT))
                                candidates[n++] = &r->source_port;
                        if (!source && (r->match & RULE_MATCH_PORT))
                                candidates[n++] = &r->port;
                }
                if (n > 0) {
                        const struct port_range *pr = candidates[rng_below(g, (uint32_t) n)];

                        switch (rng_below(g, 5)) {
                        case 0:
                                return pr->first;
                        case 1:
                                return pr->last;
                        case 2:
                                return (uint16_t) (pr->first - 1);
                        case 3:
                                return (uint16_t) (pr->last + 1);
                        default:
                                return (uint16_t) (pr->first + rng_below(g, (uint32_t) (pr->last - pr->first) + 1));
                        }
                }
        }
        if (rng_chance(g, 70))
                return PICK(g, port_pool);
        return (uint16_t) rng_below(g, 65536);
}

static uint8_t random_icmp_type(struct rng *g, const struct rule_set *s) {
        if (rng_chance(g, 50))
                for (size_t i = 0; i < s->n; i++)
                        if ((s->rules[i]->match & RULE_MATCH_ICMP_TYPE) && rng_chance(g, 50))
                                return s->rules[i]->icmp_type;
        return rng_chance(g, 80) ? PICK(g, icmp_pool) : (uint8_t) rng_below(g, 256);
}

static uint16_t random_vlan(struct rng *g, const struct rule_set *s) {
        if (rng_chance(g, 50))
                for (size_t i = 0; i < s->n; i++)
                        if ((s->rules[i]->match & RULE_MATCH_VLAN) && rng_chance(g, 50))
                                return s->rules[i]->vlan;
        return rng_chance(g, 70) ? PICK(g, vlan_pool) : (uint16_t) rng_below(g, 4096);
}

static enum packet_l4 random_l4(struct rng *g, const struct rule_set *s, int family, uint8_t *ret_next_header) {
        static const uint8_t raw[] = { 47, 59, 0, 50, 132, 89 };
        uint8_t protocol = 0;
        bool from_rule = false;

        /* Often the protocol of some rule. */
        if (rng_chance(g, 40))
                for (size_t i = 0; i < s->n && !from_rule; i++)
                        if ((s->rules[i]->match & RULE_MATCH_PROTOCOL) && rng_chance(g, 50)) {
                                protocol = s->rules[i]->protocol;
                                from_rule = true;
                        }
        if (!from_rule)
                switch (rng_below(g, 10)) {
                case 0: case 1: case 2:
                        protocol = 6;
                        break;
                case 3: case 4: case 5:
                        protocol = 17;
                        break;
                case 6:
                        protocol = 132;
                        break;
                case 7: case 8:
                        protocol = family == AF_INET ? 1 : 58;
                        break;
                default:
                        protocol = PICK(g, raw);
                        break;
                }

        switch (protocol) {
        case 6:
                return PACKET_L4_TCP;
        case 17:
                return PACKET_L4_UDP;
        case 132:
                return PACKET_L4_SCTP;
        case 1:
                return PACKET_L4_ICMP;
        case 58:
                return PACKET_L4_ICMPV6;
        default:
                /* 0 tells the builder "no next header"; anything else goes out raw. */
                *ret_next_header = protocol;
                return PACKET_L4_NONE;
        }
}

static void random_ext_chain(struct rng *g, struct packet_spec *spec) {
        static const uint8_t types[] = {
                PACKET_EXT_HOP, PACKET_EXT_ROUTING, PACKET_EXT_DEST, PACKET_EXT_DEST, PACKET_EXT_AH, PACKET_EXT_FRAGMENT,
        };

        if (rng_chance(g, 65))
                return;
        spec->n_ext = 1 + rng_below(g, rng_chance(g, 80) ? 4 : 10);
        for (size_t i = 0; i < spec->n_ext; i++) {
                struct packet_ext *e = &spec->ext[i];

                e->type = PICK(g, types);
                e->length = (uint8_t) rng_below(g, 3);
                if (e->type == PACKET_EXT_FRAGMENT) {
                        e->offset = rng_chance(g, 50) ? 0 : (uint16_t) (1 + rng_below(g, 8191));
                        e->more = rng_chance(g, 50);
                }
        }
}

/* Corrupts a frame now and then: cut it anywhere past the Ethernet header, or break a header field. */
static void random_damage(struct rng *g, const struct packet_spec *spec, struct packet *p) {
        unsigned choice = rng_below(g, 100);

        if (choice < 12 && p->len > ETH_HLEN) {
                /* Cuts near the interesting boundaries are likelier. */
                size_t from = rng_chance(g, 50) && p->l4_off > ETH_HLEN && p->l4_off <= p->len ? p->l4_off - 1 : ETH_HLEN;

                p->len = from + rng_below(g, (uint32_t) (p->len - from));
        } else if (choice < 15 && spec->l3 == PACKET_L3_IPV4)
                p->data[p->l3_off] = (uint8_t) ((rng_chance(g, 50) ? 0x40 : rng_below(g, 16) << 4) | rng_below(g, 16));
        else if (choice < 17 && spec->l3 == PACKET_L3_IPV4) {
                uint16_t total = (uint16_t) rng_below(g, 80);

                p->data[p->l3_off + 2] = (uint8_t) (total >> 8);
                p->data[p->l3_off + 3] = (uint8_t) total;
        } else if (choice < 19 && spec->l3 == PACKET_L3_IPV6)
                p->data[p->l3_off] = (uint8_t) (rng_below(g, 16) << 4);
}

static int random_frame(struct rng *g, const struct rule_set *s, struct packet *ret, unsigned *ret_ifindex) {
        char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
        struct packet_spec spec = {};
        unsigned kind = rng_below(g, 100), tags;
        int family;

        tags = rng_chance(g, 55) ? 0 : rng_chance(g, 60) ? 1 : rng_chance(g, 85) ? 2 : 3;
        for (unsigned i = 0; i < tags; i++)
                spec.vlan[i] = (struct packet_vlan) {
                        .tpid = rng_chance(g, 70) ? 0x8100 : 0x88a8,
                        .id = random_vlan(g, s),
                };

        *ret_ifindex = if_nametoindex(PICK(g, interface_pool));  /* the absent one gives 0: use lo then */
        if (*ret_ifindex == 0)
                *ret_ifindex = 1;

        if (kind < 3) {
                spec.l3 = PACKET_L3_ARP;
                return packet_build(&spec, ret);
        }
        if (kind < 5) {
                spec.l3 = PACKET_L3_RAW;
                spec.ethertype = rng_chance(g, 50) ? 0x88cc : (uint16_t) rng_below(g, 65536);
                spec.payload = rng_below(g, 64);
                return packet_build(&spec, ret);
        }

        family = kind < 52 ? AF_INET : AF_INET6;
        spec.l3 = family == AF_INET ? PACKET_L3_IPV4 : PACKET_L3_IPV6;
        random_address(g, s, family, true, src, sizeof(src));
        random_address(g, s, family, false, dst, sizeof(dst));
        spec.src = src;
        spec.dst = dst;
        spec.l4 = random_l4(g, s, family, &spec.next_header);
        spec.sport = random_port(g, s, true);
        spec.dport = random_port(g, s, false);
        spec.icmp_type = random_icmp_type(g, s);
        spec.hop_limit = rng_chance(g, 50) ? 255 : (uint8_t) (1 + rng_below(g, 254));
        spec.payload = rng_chance(g, 50) ? 0 : rng_below(g, 64);
        if (family == AF_INET) {
                if (rng_chance(g, 15))
                        spec.ip_options = (uint8_t) (4 * (1 + rng_below(g, 10)));
                if (rng_chance(g, 10))
                        spec.frag_offset = (uint16_t) (1 + rng_below(g, 8191));
                spec.more_fragments = rng_chance(g, 10);
        } else
                random_ext_chain(g, &spec);

        int r = packet_build(&spec, ret);
        if (r < 0)
                return r;
        random_damage(g, &spec, ret);
        return 0;
}

/* ---- Running and comparing -------------------------------------------------------------------- */

static int run_frame(int prog_fd, const struct packet *p, unsigned ifindex, uint32_t *ret_verdict) {
        struct xdp_md ctx = {
                .data_end = (uint32_t) p->len,
                .ingress_ifindex = ifindex,
        };
        LIBBPF_OPTS(bpf_test_run_opts, opts,
                    .data_in = p->data,
                    .data_size_in = (uint32_t) p->len,
                    .ctx_in = &ctx,
                    .ctx_size_in = sizeof(ctx),
                    .repeat = 1);

        if (bpf_prog_test_run_opts(prog_fd, &opts) < 0)
                return negative_errno();
        *ret_verdict = opts.retval;
        return 0;
}

/* What the frames exercised, to show that the generator reaches every path. */
static struct {
        uint64_t frames, by_block, by_classifier, by_default, spared, malformed, non_ip, fragments;
} coverage;

static void coverage_add(Rule *const *rules, const struct ref_verdict *rv) {
        coverage.frames++;
        if (rv->rule >= 0 && rule_is_block(rules[rv->rule]))
                coverage.by_block++;
        else if (rv->rule >= 0)
                coverage.by_classifier++;
        else
                coverage.by_default++;
        coverage.spared += rv->stats[PF_STAT_ALWAYS_PASSED];
        coverage.malformed += rv->stats[PF_STAT_MALFORMED];
        coverage.non_ip += rv->stats[PF_STAT_NON_IP];
        coverage.fragments += rv->stats[PF_STAT_FRAGMENTS];
}

struct tallies {
        uint64_t packets[MAX_RULES_PER_SET], bytes[MAX_RULES_PER_SET];
        uint64_t stats[_PF_STAT_MAX];
};

static void print_rule_set(const struct rule_set *s) {
        char buf[512];

        printf("#   default %s; rules (in list order):\n", s->default_action == PF_ACTION_DROP ? "drop" : "pass");
        for (size_t i = 0; i < s->n; i++)
                printf("#     [%zu] %s\n", i, ref_rule_to_string(s->rules[i], buf, sizeof(buf)));
}

static void print_frame(const struct packet *p, const struct ref_packet *rp) {
        char buf[512];

        printf("#   frame (%zu bytes):", p->len);
        for (size_t i = 0; i < p->len; i++)
                printf("%s%02x", i % 32 == 0 ? "\n#     " : " ", p->data[i]);
        printf("\n#   parsed by the reference: %s\n", ref_packet_to_string(rp, buf, sizeof(buf)));
}

/* Runs one rule set with its frames. Returns the number of disagreeing frames, or a negative errno. */
static int run_set(Loader *l, RulesetInstalled *installed, uint64_t seed, unsigned index, bool verbose) {
        struct rng g = { .state = seed ^ (0x5851f42d4c957f2dULL * (index + 1)) };
        _cleanup_(rule_set_done) struct rule_set s = {};
        struct tallies want = {};
        int r, failures = 0;

        r = random_rule_set(&g, &s);
        if (r < 0)
                return log_error_errno(r, "Failed to draw a valid rule set: %m");
        if (verbose)
                print_rule_set(&s);

        r = ruleset_push(l, s.rules, s.n, s.default_action, installed);
        if (r < 0)
                return log_error_errno(r, "Failed to push rule set %u: %m", index);
        if (r == 0)
                return log_error_errno(-EIO, "The commit of rule set %u reached only one copy.", index);
        r = ruleset_counters_reset(l, s.rules, s.n);
        if (r >= 0)
                r = loader_statistics_reset(l);
        if (r < 0)
                return log_error_errno(r, "Failed to reset counters: %m");

        for (unsigned f = 0; f < FRAMES_PER_SET; f++) {
                struct ref_packet rp;
                struct ref_verdict rv;
                struct pf_statistics stats;
                struct packet p;
                unsigned ifindex;
                uint32_t verdict;
                bool bad = false;
                char lines[4096] = "";
                size_t pos = 0;

                r = random_frame(&g, &s, &p, &ifindex);
                if (r < 0)
                        return log_error_errno(r, "Failed to build a frame: %m");

                ref_parse(p.data, p.len, ifindex, &rp);
                ref_judge(s.rules, s.n, s.default_action, ruleset_ifindex_of, &rp, &rv);
                coverage_add(s.rules, &rv);
                if (rv.rule >= 0) {
                        want.packets[rv.rule]++;
                        want.bytes[rv.rule] += p.len;
                }
                for (enum pf_stat k = 0; k < _PF_STAT_MAX; k++)
                        want.stats[k] += rv.stats[k];

                r = run_frame(loader_prog_fd(l), &p, ifindex, &verdict);
                if (r < 0)
                        return log_error_errno(r, "bpf_prog_test_run_opts() failed on a %zu-byte frame: %m", p.len);

/* Appends to lines[], keeping pos inside it (a long report is cut, never overrun). */
#define NOTE(...)                                                                               \
        do {                                                                                    \
                pos += (size_t) snprintf(lines + pos, sizeof(lines) - pos, __VA_ARGS__);        \
                if (pos >= sizeof(lines))                                                       \
                        pos = sizeof(lines) - 1;                                                \
        } while (false)
                if ((verdict == XDP_DROP) != rv.drop || (verdict != XDP_DROP && verdict != XDP_PASS)) {
                        NOTE("#   program: %s; reference: %s by %s",
                             verdict == XDP_DROP ? "drop" : verdict == XDP_PASS ? "pass" : "other",
                             rv.drop ? "drop" : "pass", rv.rule < 0 ? "the default" : "rule");
                        if (rv.rule >= 0)
                                NOTE(" [%zd]", rv.rule);
                        NOTE("\n");
                        bad = true;
                }
                for (size_t i = 0; i < s.n; i++) {
                        uint64_t packets, bytes;

                        r = ruleset_counter_read(l, s.rules[i], &packets, &bytes);
                        if (r < 0)
                                return log_error_errno(r, "Failed to read a counter: %m");
                        if (packets != want.packets[i] || bytes != want.bytes[i]) {
                                NOTE("#   rule [%zu] counted %" PRIu64 " packets, %" PRIu64 " bytes; "
                                     "the reference says %" PRIu64 ", %" PRIu64 "%s\n",
                                     i, packets, bytes, want.packets[i], want.bytes[i],
                                     (ssize_t) i == rv.rule ? " (it decided this frame)" : "");
                                bad = true;
                                /* Carry the program's figures on, so that one mistake is reported once. */
                                want.packets[i] = packets;
                                want.bytes[i] = bytes;
                        }
                }
                r = loader_statistics_read(l, &stats);
                if (r < 0)
                        return log_error_errno(r, "Failed to read the statistics: %m");
                for (enum pf_stat k = 0; k < _PF_STAT_MAX; k++)
                        if (stats.v[k] != want.stats[k]) {
                                NOTE("#   statistic %s is %" PRIu64 ", the reference says %" PRIu64 "\n",
                                     ref_stat_name(k), stats.v[k], want.stats[k]);
                                bad = true;
                                want.stats[k] = stats.v[k];
                        }
#undef NOTE

                if (bad) {
                        failures++;
                        if (failures <= 2) {
                                printf("# DISAGREEMENT: seed %" PRIu64 ", rule set %u, frame %u, ifindex %u\n",
                                       seed, index, f, ifindex);
                                if (!verbose)
                                        print_rule_set(&s);
                                print_frame(&p, &rp);
                                fputs(lines, stdout);
                                printf("#   replay: test-differential %" PRIu64 " --set %u\n", seed, index);
                        }
                }
        }
        return failures;
}

static int parse_number(const char *s, uint64_t *ret) {
        char *end;

        errno = 0;
        *ret = strtoull(s, &end, 0);
        return errno != 0 || end == s || *end != '\0' ? -EINVAL : 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(loader_freep) Loader *l = NULL;
        RulesetInstalled installed = {};
        uint64_t seed, sets = DEFAULT_SETS, only = UINT64_MAX;
        unsigned failed_sets = 0, failed_frames = 0, ran = 0;
        struct timespec start, end;
        int r;

        if (geteuid() != 0) {
                bool allow_skip = streq_ptr(getenv("PF_ALLOW_SKIP"), "1");

                fprintf(stderr, "test-differential: needs root to load the XDP program%s\n",
                        allow_skip ? "; skipping" : "; run it as root, or set PF_ALLOW_SKIP=1 to skip");
                return allow_skip ? 77 : EXIT_FAILURE;
        }

        if (argc > 1) {
                if (parse_number(argv[1], &seed) < 0) {
                        fprintf(stderr, "Usage: %s [SEED [SETS | --set N]]\n", argv[0]);
                        return EXIT_FAILURE;
                }
        } else if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
                seed = (uint64_t) time(NULL);
        if (argc > 3 && streq(argv[2], "--set")) {
                if (parse_number(argv[3], &only) < 0)
                        return EXIT_FAILURE;
        } else if (argc > 2 && parse_number(argv[2], &sets) < 0)
                return EXIT_FAILURE;

        printf("# seed %" PRIu64 " (replay: %s %" PRIu64 ")\n", seed, argv[0], seed);
        fflush(stdout);

        if (test_isolate(TEST_IFACE0, TEST_IFACE1) < 0)
                return EXIT_FAILURE;
        r = loader_new(NULL, &l);
        if (r < 0)
                return log_error_errno(r, "Failed to load the XDP program: %m"), EXIT_FAILURE;

        clock_gettime(CLOCK_MONOTONIC, &start);
        for (uint64_t i = 0; i < sets; i++) {
                if (only != UINT64_MAX && i != only)
                        continue;
                clock_gettime(CLOCK_MONOTONIC, &end);
                if (only == UINT64_MAX && end.tv_sec - start.tv_sec >= TIME_BUDGET_SECONDS) {
                        printf("# time budget of %d s spent: stopping after %u rule sets\n", TIME_BUDGET_SECONDS, ran);
                        break;
                }
                r = run_set(l, &installed, seed, (unsigned) i, only != UINT64_MAX);
                if (r < 0)
                        return EXIT_FAILURE;
                ran++;
                if (r > 0) {
                        failed_sets++;
                        failed_frames += (unsigned) r;
                        if (failed_sets >= MAX_REPORTED_FAILURES && only == UINT64_MAX) {
                                printf("# stopping after %u rule sets with disagreements\n", failed_sets);
                                break;
                        }
                }
        }
        clock_gettime(CLOCK_MONOTONIC, &end);
        ruleset_installed_clear(&installed);

        printf("# %u rule sets, %u frames each, %.1f s: %u sets (%u frames) disagreed\n",
               ran, FRAMES_PER_SET,
               (double) (end.tv_sec - start.tv_sec) + (double) (end.tv_nsec - start.tv_nsec) / 1e9,
               failed_sets, failed_frames);
        printf("# frames decided by a block rule %" PRIu64 ", a classifier rule %" PRIu64 ", the default %" PRIu64
               " (spared %" PRIu64 "); malformed %" PRIu64 ", non-ip %" PRIu64 ", later fragments %" PRIu64 "\n",
               coverage.by_block, coverage.by_classifier, coverage.by_default, coverage.spared,
               coverage.malformed, coverage.non_ip, coverage.fragments);
        if (failed_sets > 0) {
                printf("not ok 1 - the program agrees with the reference (seed %" PRIu64 ")\n", seed);
                return EXIT_FAILURE;
        }
        printf("ok 1 - the program agrees with the reference (seed %" PRIu64 ")\n", seed);
        return EXIT_SUCCESS;
}
