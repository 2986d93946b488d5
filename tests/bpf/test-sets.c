/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Named sets, differential: random sets of nested and overlapping IPv4 and
 * IPv6 prefixes, changed over rounds (adds, removals, replaces), rules on
 * source-set and destination-set in a random order, and frames from
 * addresses inside, around and outside the prefixes, judged by the real XDP
 * program (bpf_prog_test_run_opts through the loader, fed as the daemon
 * feeds it from the set registry) and by a plain reference: the first rule
 * whose set holds the address through any of its prefixes.
 *
 *   test-sets [SEED]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "classifier.h"
#include "isolate.h"
#include "loader.h"
#include "log.h"
#include "macro.h"
#include "packet.h"
#include "set.h"

#define ROUNDS          150u
#define FRAMES          60u
#define MAX_SETS        4u
#define MAX_RULES       6u
#define MAX_ENTRIES     400u

#define TEST_IFACE0 "pfs0"
#define TEST_IFACE1 "pfs1"

struct rng {
        uint64_t state;
};

static uint64_t rng_next(struct rng *g) {
        uint64_t z = (g->state += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static uint32_t rng_below(struct rng *g, uint32_t n) {
        return n == 0 ? 0 : (uint32_t) (rng_next(g) % n);
}

/* The reference: each set's entries as a plain list. */
struct ref_set {
        struct prefix entries[MAX_ENTRIES];
        size_t n;
};

struct ref_rule {
        unsigned set;                   /* index into sets */
        bool destination;               /* destination-set, else source-set */
        bool drop;
};

static void mask_host_bits(struct prefix *p) {
        unsigned bits = p->family == AF_INET ? 32 : 128;

        for (unsigned b = p->prefixlen; b < bits; b++)
                p->addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
        if (p->family == AF_INET)
                memset(p->addr + 4, 0, 12);
}

/* Prefixes in a small space, so that they nest and overlap: 10.0.0.0/14 and 2001:db8::/44 (+ two /32s next to it). */
static void random_prefix(struct rng *g, struct prefix *p) {
        *p = (struct prefix) {};
        if (rng_below(g, 100) < 65) {
                static const uint8_t lengths[] = { 12, 14, 16, 18, 20, 22, 23, 24, 24, 25, 26, 28, 30, 31, 32, 32, 32, 32 };

                p->family = AF_INET;
                p->prefixlen = lengths[rng_below(g, ELEMENTSOF(lengths))];
                p->addr[0] = 10;
                p->addr[1] = (uint8_t) rng_below(g, 4);
                p->addr[2] = (uint8_t) rng_below(g, 8);
                p->addr[3] = (uint8_t) rng_below(g, 16);
        } else {
                static const uint8_t lengths[] = { 16, 24, 30, 32, 32, 40, 44, 48, 56, 64, 96, 127, 128, 128, 128 };

                /* A few /32s (the program's IPv6 directory is per /32), and prefixes around them. */
                p->family = AF_INET6;
                p->prefixlen = lengths[rng_below(g, ELEMENTSOF(lengths))];
                p->addr[0] = 0x20;
                p->addr[1] = 0x01;
                p->addr[2] = 0x0d;
                p->addr[3] = (uint8_t) (0xb8 + rng_below(g, 3));
                p->addr[5] = (uint8_t) (rng_below(g, 4) << 4);
                p->addr[7] = (uint8_t) rng_below(g, 4);
                p->addr[15] = (uint8_t) rng_below(g, 8);
        }
        mask_host_bits(p);
}

/* An address inside some entry (or one bit off it), or in the space at random. */
static void random_address(struct rng *g, const struct ref_set *sets, size_t n_sets, int family, uint8_t addr[16]) {
        const struct ref_set *s = &sets[rng_below(g, (uint32_t) n_sets)];
        unsigned bits = family == AF_INET ? 32 : 128;

        for (unsigned tries = 0; tries < 8 && s->n > 0; tries++) {
                const struct prefix *p = &s->entries[rng_below(g, (uint32_t) s->n)];

                if (p->family != family)
                        continue;
                memcpy(addr, p->addr, 16);
                for (unsigned b = p->prefixlen; b < bits; b++)
                        if (rng_below(g, 2))
                                addr[b / 8] |= (uint8_t) (0x80u >> (b % 8));
                if (p->prefixlen > 0 && rng_below(g, 100) < 20)
                        addr[(p->prefixlen - 1) / 8] ^= (uint8_t) (0x80u >> ((p->prefixlen - 1) % 8));
                return;
        }
        struct prefix p;

        random_prefix(g, &p);
        while (p.family != family)
                random_prefix(g, &p);
        memcpy(addr, p.addr, 16);
        for (unsigned b = p.prefixlen; b < bits; b++)
                if (rng_below(g, 2))
                        addr[b / 8] |= (uint8_t) (0x80u >> (b % 8));
}

static bool ref_holds(const struct ref_set *s, int family, const uint8_t *addr) {
        for (size_t i = 0; i < s->n; i++)
                if (s->entries[i].family == family && prefix_contains(&s->entries[i], family, addr))
                        return true;
        return false;
}

static void ref_add(struct ref_set *s, const struct prefix *p) {
        for (size_t i = 0; i < s->n; i++)
                if (prefix_equal(&s->entries[i], p))
                        return;
        if (s->n < MAX_ENTRIES)
                s->entries[s->n++] = *p;
}

static void ref_remove(struct ref_set *s, const struct prefix *p) {
        for (size_t i = 0; i < s->n; i++)
                if (prefix_equal(&s->entries[i], p)) {
                        s->entries[i] = s->entries[--s->n];
                        return;
                }
}

/* What the daemon's manager does: the registry's changes to the loader, memberships to the classifier. */
static int push(Loader *l, SetRegistry *reg, Rule **rules, size_t n_rules) {
        const struct member_change *c;
        const uint64_t *memberships;
        Classifier *cls = NULL;
        size_t n, n_memberships;
        int r;

        c = set_registry_changes(reg, &n);
        r = loader_member_apply(l, c, n);
        if (r < 0)
                return log_error_errno(r, "Failed to stage the members: %m");
        set_registry_changes_done(reg);
        set_registry_commit(reg);
        memberships = set_registry_memberships(reg, &n_memberships);
        r = classifier_build(rules, n_rules, PF_ACTION_PASS, NULL, memberships, n_memberships, &cls);
        if (r < 0)
                return log_error_errno(r, "classifier_build() failed: %m");
        loader_set_classifier(l, cls);
        r = loader_commit(l);
        return r < 0 ? r : 0;
}

static int run_frame(int prog_fd, const struct packet *p, uint32_t *ret) {
        struct xdp_md ctx = { .data_end = (uint32_t) p->len };
        LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->data, .data_size_in = (uint32_t) p->len,
                    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);

        if (bpf_prog_test_run_opts(prog_fd, &opts) < 0)
                return negative_errno();
        *ret = opts.retval;
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(set_registry_freep) SetRegistry *reg = NULL;
        _cleanup_(loader_freep) Loader *l = NULL;
        struct ref_set sets[MAX_SETS] = {};
        Set *set_of[MAX_SETS];
        uint64_t seed = 0, frames = 0, dropped = 0, disagreements = 0, registry_checks = 0;
        struct rng g;
        int r;

        if (argc > 1)
                seed = strtoull(argv[1], NULL, 10);
        else if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
                seed = (uint64_t) time(NULL);
        g.state = seed;
        printf("# seed %" PRIu64 " (replay: %s %" PRIu64 ")\n", seed, argv[0], seed);
        fflush(stdout);

        if (test_isolate(TEST_IFACE0, TEST_IFACE1) < 0)
                return EXIT_FAILURE;
        r = loader_new(NULL, &l);
        if (r < 0)
                return log_error_errno(r, "Failed to load the XDP program: %m"), EXIT_FAILURE;
        r = set_registry_new(&reg);
        if (r < 0)
                return EXIT_FAILURE;
        for (unsigned i = 0; i < MAX_SETS; i++) {
                char name[16];

                snprintf(name, sizeof(name), "set%u", i);
                if (set_registry_create(reg, name, NULL, 0, -1, &set_of[i]) < 0)
                        return EXIT_FAILURE;
        }

        for (unsigned round = 0; round < ROUNDS; round++) {
                _cleanup_free_ struct set_entry *batch = NULL;
                struct ref_rule ref_rules[MAX_RULES];
                Rule *rules[MAX_RULES] = {};
                size_t n_rules = 1 + rng_below(&g, MAX_RULES), n_batch;
                unsigned s = rng_below(&g, MAX_SETS), what = rng_below(&g, 100);

                /* Change one set: add a batch (now and then a large one: the sorted sweep),
                 * remove some, or replace it. */
                n_batch = what < 10 ? 5000 : 1 + rng_below(&g, 40);
                batch = calloc(n_batch, sizeof(struct set_entry));
                if (!batch)
                        return EXIT_FAILURE;
                for (size_t i = 0; i < n_batch; i++)
                        random_prefix(&g, &batch[i].prefix);
                if (what < 60 || what >= 90) {
                        bool replace = what >= 90;
                        size_t k = MIN(n_batch, (size_t) MAX_ENTRIES - (replace ? 0 : sets[s].n));

                        if (replace)
                                sets[s].n = 0;
                        /* The reference keeps MAX_ENTRIES at most: give the registry only what it keeps. */
                        for (size_t i = 0; i < k; i++)
                                ref_add(&sets[s], &batch[i].prefix);
                        r = set_registry_add(reg, set_of[s], batch, k, replace, NULL, NULL);
                } else {
                        struct prefix gone[16];
                        size_t n_gone = 0;

                        for (size_t i = 0; i < 16 && sets[s].n > 0; i++) {
                                gone[n_gone++] = sets[s].entries[rng_below(&g, (uint32_t) sets[s].n)];
                                ref_remove(&sets[s], &gone[n_gone - 1]);
                        }
                        r = set_registry_remove(reg, set_of[s], gone, n_gone, NULL);
                }
                if (r < 0)
                        return log_error_errno(r, "Round %u: the set registry failed: %m", round), EXIT_FAILURE;
                if (set_of[s]->n_entries != sets[s].n) {
                        printf("not ok - round %u: set%u holds %zu entries, the reference %zu\n", round, s,
                               set_of[s]->n_entries, sets[s].n);
                        return EXIT_FAILURE;
                }

                for (size_t i = 0; i < n_rules; i++) {
                        struct rule_error e;
                        char name[16];

                        ref_rules[i] = (struct ref_rule) {
                                .set = rng_below(&g, MAX_SETS),
                                .destination = rng_below(&g, 100) < 25,
                                .drop = rng_below(&g, 100) < 70,
                        };
                        rules[i] = rule_new();
                        if (!rules[i])
                                return EXIT_FAILURE;
                        snprintf(name, sizeof(name), "set%u", ref_rules[i].set);
                        (void) rule_set_action(rules[i], ref_rules[i].drop ? "drop" : "pass", &e);
                        r = ref_rules[i].destination ? rule_set_destination_set(rules[i], name, &e) :
                                                       rule_set_source_set(rules[i], name, &e);
                        if (r < 0)
                                return EXIT_FAILURE;
                        rules[i]->id = (uint32_t) i + 1;
                        rules[i]->slot = (uint32_t) i + 8 * (round % 2);
                        if (ref_rules[i].destination)
                                rules[i]->destination_set_id = set_of[ref_rules[i].set]->id;
                        else
                                rules[i]->source_set_id = set_of[ref_rules[i].set]->id;
                        r = loader_set_rule_info(l, rules[i]->slot, rule_order_key(rules[i]), rules[i]->action, 0);
                        if (r < 0)
                                return EXIT_FAILURE;
                }

                r = push(l, reg, rules, n_rules);
                if (r < 0)
                        return EXIT_FAILURE;

                for (unsigned f = 0; f < FRAMES; f++) {
                        int family = rng_below(&g, 100) < 60 ? AF_INET : AF_INET6;
                        uint8_t src[16] = {}, dst[16] = {};
                        char src_text[INET6_ADDRSTRLEN], dst_text[INET6_ADDRSTRLEN];
                        struct packet_spec spec = { .l3 = family == AF_INET ? PACKET_L3_IPV4 : PACKET_L3_IPV6,
                                                    .l4 = PACKET_L4_UDP, .sport = 1000, .dport = 53 };
                        struct packet p;
                        uint32_t verdict, want = XDP_PASS;

                        random_address(&g, sets, MAX_SETS, family, src);
                        random_address(&g, sets, MAX_SETS, family, dst);
                        inet_ntop(family, src, src_text, sizeof(src_text));
                        inet_ntop(family, dst, dst_text, sizeof(dst_text));
                        spec.src = src_text;
                        spec.dst = dst_text;
                        if (packet_build(&spec, &p) < 0 || run_frame(loader_prog_fd(l), &p, &verdict) < 0)
                                return EXIT_FAILURE;

                        /* The registry's own answer, as the data plane should compute it. */
                        for (unsigned k = 0; k < MAX_SETS; k++) {
                                bool in_ref = ref_holds(&sets[k], family, src);
                                bool in_reg = set_registry_match(reg, family, src) & (1ULL << set_of[k]->id);

                                registry_checks++;
                                if (in_ref != in_reg) {
                                        printf("not ok - round %u: set%u %s %s by the reference, %s by the registry\n",
                                               round, k, src_text, in_ref ? "holds" : "does not hold",
                                               in_reg ? "holds" : "does not hold");
                                        return EXIT_FAILURE;
                                }
                        }
                        /* Rules in id order (all priorities 0): the first whose set holds the address decides. */
                        for (size_t i = 0; i < n_rules; i++)
                                if (ref_holds(&sets[ref_rules[i].set], family, ref_rules[i].destination ? dst : src)) {
                                        want = ref_rules[i].drop ? XDP_DROP : XDP_PASS;
                                        break;
                                }
                        frames++;
                        dropped += want == XDP_DROP;
                        if (verdict != want) {
                                disagreements++;
                                if (disagreements <= 5)
                                        printf("# round %u: %s -> %s: program %s, reference %s\n", round, src_text,
                                               dst_text, verdict == XDP_DROP ? "drop" : "pass",
                                               want == XDP_DROP ? "drop" : "pass");
                        }
                }
                for (size_t i = 0; i < n_rules; i++)
                        rule_free(rules[i]);
        }

        printf("# %u rounds, %" PRIu64 " frames (%" PRIu64 " dropped by the reference), %" PRIu64
               " registry checks, %" PRIu64 " distinct prefixes at the end\n",
               ROUNDS, frames, dropped, registry_checks, (uint64_t) set_registry_entries(reg));
        if (disagreements > 0 || dropped == 0 || dropped == frames) {
                printf("not ok 1 - the program agrees with the reference on sets (%" PRIu64 " disagreements, seed %" PRIu64 ")\n",
                       disagreements, seed);
                return EXIT_FAILURE;
        }
        printf("ok 1 - the program agrees with the reference on sets (seed %" PRIu64 ")\n", seed);
        return EXIT_SUCCESS;
}
