/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pf-bench: the data plane's cost per packet, measured with
 * bpf_prog_test_run_opts, side by side in one run: our XDP program at several
 * rule and prefix counts, the floor, the kernel LPM trie and xdp-filter, on
 * the same frames. Prints the tables, the targets with the measured
 * ratios (informational: never an exit failure), and optionally JSON.
 *
 * Exit status: 0 done, 1 a failure (a wrong verdict is one), 77 not root.
 * See docs/performance.md for the method and what limits the figures.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <linux/bpf.h>

#include "bench.h"
#include "log.h"
#include "measure.h"
#include "ours.h"
#include "peers.h"
#include "rate-events.h"
#include "workload.h"

enum method {
        METHOD_HOT,
        METHOD_PER_RUN,
        METHOD_IN_RUN,
        _METHOD_MAX,
};

enum path {
        PATH_PASS,                      /* no rule matches */
        PATH_DROP,                      /* the last classifier rule matches (xdp-filter: its port entry) */
        PATH_BLOCK,                     /* a block prefix holds the source (xdp-filter: its IP entry) */
        _PATH_MAX,
};

static const char *const method_names[_METHOD_MAX] = { "hot", "per-run", "in-run" };
static const char *const path_names[_PATH_MAX] = { "pass", "drop", "block" };

#define N_A (-1L)
#define BENCH_DIAGNOSTIC_PREFIX_INDEX 2 /* the rules-without-addresses rows: at 100k prefixes (--quick: 10k) */

struct config {
        bool quick;
        bool sets_only;                 /* --sets: the floor and the sets case only */
        const char *json_path;
        uint64_t seed;
        long rule_counts[4];
        size_t n_rule_counts;
        long prefix_counts[4];
        size_t n_prefix_counts;
        long set_counts[2];             /* the sets case (issue 7): mixed IPv4/IPv6 prefixes */
        size_t n_set_counts;
        uint32_t hot_repeat;
        unsigned hot_rounds;
        size_t per_run_frames;
        uint32_t in_run_repeat;
        unsigned in_run_rounds;
};

struct result {
        const char *program;            /* floor, xdp-filter, lpm, ours */
        long rules, prefixes;           /* N_A where it does not apply */
        enum path path;
        enum method method;
        double ns, spread;
        uint32_t repeat;
};

struct build {
        const char *what;               /* "prefixes" or "rules" */
        long prefixes, rules;           /* the state after the change */
        double stage_s, commit_s;
        unsigned n_classes, source_lengths, destination_lengths;
        uint64_t map_bytes, rss_bytes;
};

struct lpm_build {
        long prefixes;
        double insert_s;
        uint64_t map_bytes;
};

/* The sets' lists: what bench/gen-prefixes writes with --seed SEED --part 0/2 (and set-flood.sh uses). */
#define BENCH_SET_PART 0
#define BENCH_SET_PARTS 2

typedef struct Bench {
        struct config cfg;

        struct result *results;
        size_t n_results;
        struct build *builds;
        size_t n_builds;
        struct lpm_build *lpm_builds;
        size_t n_lpm_builds;
        struct lpm_build *set_builds;   /* the mixed LPM tries of the sets case */
        size_t n_set_builds;
        struct packet frame6;           /* the pass frame's IPv6 twin (sets case) */
        double scratch_stage_s, scratch_commit_s;       /* 1M prefixes into a fresh loader */
        long scratch_prefixes;
        struct map_memory *ours_maps;   /* at the largest sizes */
        size_t n_ours_maps;
        long ours_maps_rules, ours_maps_prefixes;

        struct bench_packets packets;
        struct packet block_frame;
        struct bench_prefix *prefixes;
        size_t n_prefixes;
        uint32_t *outside;              /* sources in no prefix: per-run frames use the first ones */
        size_t n_outside;

        Floor *floor;
        Lpm *lpm;
        Lpm *lpm_mixed;
        Ours *ours_sets;                /* a loader of its own: no block prefixes in the way */
        XdpFilter *xdp_filter;
        int xdp_filter_error;
        Driver *driver_outside, *driver_inside;
        Ours *ours;
} Bench;

static Bench *bench_free(Bench *b) {
        if (!b)
                return NULL;
        ours_free(b->ours);
        driver_free(b->driver_inside);
        driver_free(b->driver_outside);
        xdp_filter_free(b->xdp_filter);
        lpm_free(b->lpm_mixed);
        ours_free(b->ours_sets);
        lpm_free(b->lpm);
        floor_free(b->floor);
        free(b->ours_maps);
        free(b->outside);
        free(b->prefixes);
        free(b->set_builds);
        free(b->lpm_builds);
        free(b->builds);
        free(b->results);
        free(b);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Bench *, bench_free);

static double now_s(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static const char *count_label(long n, char buf[static 24]) {
        if (n < 0)
                return "-";
        if (n >= 1000000 && n % 1000000 == 0)
                snprintf(buf, 24, "%ldM", n / 1000000);
        else if (n >= 1000 && n % 1000 == 0)
                snprintf(buf, 24, "%ldk", n / 1000);
        else
                snprintf(buf, 24, "%ld", n);
        return buf;
}

/* ---- Results ---- */

static int bench_record(Bench *b, const char *program, long rules, long prefixes, enum path path,
                        enum method method, const struct measurement *m) {
        struct result *v = realloc(b->results, (b->n_results + 1) * sizeof(*v));

        if (!v)
                return -ENOMEM;
        b->results = v;
        v[b->n_results++] = (struct result) {
                .program = program, .rules = rules, .prefixes = prefixes,
                .path = path, .method = method, .ns = m->ns, .spread = m->spread, .repeat = m->repeat,
        };
        return 0;
}

static const struct result *bench_find(const Bench *b, const char *program, long rules, long prefixes,
                                       enum path path, enum method method) {
        for (size_t i = 0; i < b->n_results; i++) {
                const struct result *r = &b->results[i];

                if (streq(r->program, program) && r->rules == rules && r->prefixes == prefixes &&
                    r->path == path && r->method == method)
                        return r;
        }
        return NULL;
}

/* ns per packet, or NAN when not measured. */
static double bench_ns(const Bench *b, const char *program, long rules, long prefixes, enum path path,
                       enum method method) {
        const struct result *r = bench_find(b, program, rules, prefixes, path, method);

        return r ? r->ns : NAN;
}

/* The cold figure minus the floor measured the same way. */
static double bench_net(const Bench *b, const char *program, long rules, long prefixes, enum path path,
                        enum method method) {
        return bench_ns(b, program, rules, prefixes, path, method) -
               bench_ns(b, "floor", N_A, N_A, PATH_PASS, method);
}

/* Measures one program on one path, all three ways (hot only without cold_addrs), and records them. */
static int bench_measure_all(Bench *b, const char *program, long rules, long prefixes, int prog_fd,
                             enum path path, const struct packet *frame, uint32_t expect,
                             const uint32_t *cold_addrs, Driver *cold_driver) {
        struct measurement m;
        int r;

        r = measure_hot(prog_fd, frame, b->cfg.hot_repeat, b->cfg.hot_rounds, expect, &m);
        if (r < 0)
                return r;
        r = bench_record(b, program, rules, prefixes, path, METHOD_HOT, &m);
        if (r < 0)
                return r;
        fprintf(stderr, " hot %.1f", m.ns);
        if (!cold_addrs)
                return 0;

        r = measure_cold_per_run(prog_fd, frame, b->packets.saddr_offset, cold_addrs, b->cfg.per_run_frames,
                                 expect, &m);
        if (r < 0)
                return r;
        r = bench_record(b, program, rules, prefixes, path, METHOD_PER_RUN, &m);
        if (r < 0)
                return r;
        fprintf(stderr, " per-run %.1f", m.ns);

        r = measure_cold_in_run(cold_driver, prog_fd, frame, b->cfg.in_run_repeat, b->cfg.in_run_rounds, expect, &m);
        if (r < 0)
                return r;
        r = bench_record(b, program, rules, prefixes, path, METHOD_IN_RUN, &m);
        if (r < 0)
                return r;
        fprintf(stderr, " in-run %.1f", m.ns);
        return 0;
}

/*
 * cold_addrs (the per-run sources) and cold_driver (holding the in-run ones) list the same kind
 * of source; without cold_addrs only the hot figure is taken.
 */
static int bench_measure(Bench *b, const char *program, long rules, long prefixes, int prog_fd,
                         enum path path, const struct packet *frame, uint32_t expect,
                         const uint32_t *cold_addrs, Driver *cold_driver) {
        char r_buf[24], p_buf[24];
        int r;

        fprintf(stderr, "  %-11s rules %-5s prefixes %-5s %-5s ...", program, count_label(rules, r_buf),
                count_label(prefixes, p_buf), path_names[path]);
        r = bench_measure_all(b, program, rules, prefixes, prog_fd, path, frame, expect, cold_addrs, cold_driver);
        fprintf(stderr, r < 0 ? "\n" : " ns\n");
        if (r < 0)
                return log_error_errno(r, "Measuring %s (rules %s, prefixes %s) on the %s path failed: %m",
                                       program, r_buf, p_buf, path_names[path]);
        return 0;
}

static int bench_record_build(Bench *b, const char *what, long prefixes, long rules, const struct ours_timing *t) {
        struct build *v = realloc(b->builds, (b->n_builds + 1) * sizeof(*v));

        if (!v)
                return -ENOMEM;
        b->builds = v;
        v[b->n_builds++] = (struct build) {
                .what = what, .prefixes = prefixes, .rules = rules,
                .stage_s = t->stage_s, .commit_s = t->commit_s,
                .n_classes = t->n_classes, .source_lengths = t->source_lengths,
                .destination_lengths = t->destination_lengths,
                .map_bytes = ours_map_memory(b->ours), .rss_bytes = process_rss(),
        };
        return 0;
}

/* ---- The run ---- */

static int bench_setup(Bench *b) {
        long max_prefixes = b->cfg.prefix_counts[b->cfg.n_prefix_counts - 1];
        _cleanup_(bench_cover_freep) BenchCover *cover = NULL;
        int r;

        r = bench_packets_build(&b->packets);
        if (r < 0)
                return log_error_errno(r, "Failed to build the frames: %m");
        if (b->packets.saddr_offset != BENCH_IPV4_SADDR_OFFSET)
                return log_error_errno(-EINVAL, "The frames' source is not where the cold driver writes it.");

        fprintf(stderr, "Generating %ld prefixes and %zu cold sources (seed %llu)...\n", max_prefixes,
                (size_t) BENCH_DRIVER_ADDRS, (unsigned long long) b->cfg.seed);
        b->n_prefixes = max_prefixes > 0 ? (size_t) max_prefixes : 1;
        r = bench_prefixes_generate(b->cfg.seed, b->n_prefixes, &b->prefixes);
        if (r < 0)
                return log_error_errno(r, "Failed to generate prefixes: %m");
        r = bench_cover_new(b->prefixes, b->n_prefixes, &cover);
        if (r < 0)
                return r;
        /* In no prefix of the largest set, hence of none of the smaller ones (their first entries). */
        b->n_outside = BENCH_DRIVER_ADDRS;
        r = bench_addresses_outside(b->cfg.seed + 1, cover, b->n_outside, &b->outside);
        if (r < 0)
                return r;

        /* The block frame: the pass frame from prefix 0 (a /32), which xdp-filter's IP entry names too. */
        b->block_frame = b->packets.pass;
        bench_packet_set_source(&b->block_frame, b->packets.saddr_offset, b->prefixes[0].addr);

        r = floor_new(&b->floor);
        if (r < 0)
                return r;
        r = lpm_new(&b->lpm);
        if (r < 0)
                return r;
        r = driver_new(&b->driver_outside);
        if (r < 0)
                return r;
        r = driver_new(&b->driver_inside);
        if (r < 0)
                return r;
        r = driver_set_sources(b->driver_outside, b->outside, b->n_outside);
        if (r < 0)
                return r;

        b->xdp_filter_error = xdp_filter_new(b->prefixes[0].addr, BENCH_DROP_PORT, &b->xdp_filter);
        if (b->xdp_filter_error < 0)
                log_warning_errno(b->xdp_filter_error,
                                  "xdp-filter is not measured: its object %s could not be loaded: %m",
                                  "xdpfilt_alw_all.o (package libxdp1, from xdp-tools)");
        return 0;
}

static int bench_peers(Bench *b) {
        int r;

        fprintf(stderr, "Measuring the floor and xdp-filter...\n");
        r = bench_measure(b, "floor", N_A, N_A, floor_prog_fd(b->floor), PATH_PASS, &b->packets.pass, XDP_PASS,
                          b->outside, b->driver_outside);
        if (r >= 0)
                r = bench_measure(b, "mem-floor", N_A, N_A, floor_memory_prog_fd(b->floor), PATH_PASS,
                                  &b->packets.pass, XDP_PASS, b->outside, b->driver_outside);
        if (r < 0)
                return r;
        if (!b->xdp_filter)
                return 0;

        r = bench_measure(b, "xdp-filter", N_A, N_A, xdp_filter_prog_fd(b->xdp_filter), PATH_PASS,
                          &b->packets.pass, XDP_PASS, b->outside, b->driver_outside);
        if (r >= 0)
                r = bench_measure(b, "xdp-filter", N_A, N_A, xdp_filter_prog_fd(b->xdp_filter), PATH_DROP,
                                  &b->packets.drop, XDP_DROP, b->outside, b->driver_outside);
        /* Its one IP entry: only the hot figure means anything (random members would miss it). */
        if (r >= 0)
                r = bench_measure(b, "xdp-filter", N_A, N_A, xdp_filter_prog_fd(b->xdp_filter), PATH_BLOCK,
                                  &b->block_frame, XDP_DROP, NULL, NULL);
        return r;
}

/*
 * The diagnostic rows: the same rule sets without source and destination prefixes, hot only,
 * to tell the classifier's prefix probes from its bitmap scan.
 */
static int bench_without_addresses(Bench *b, long n_prefixes) {
        int r;

        for (size_t k = 0; k < b->cfg.n_rule_counts; k++) {
                long n_rules = b->cfg.rule_counts[k];
                _cleanup_free_ struct bench_rule *rules = NULL;
                struct ours_timing t;
                int prog_fd = ours_prog_fd(b->ours);

                r = bench_rules_generate(b->cfg.seed, (size_t) n_rules, BENCH_RULES_NO_ADDRESSES, &rules);
                if (r < 0)
                        return log_error_errno(r, "Failed to generate %ld rules: %m", n_rules);
                r = ours_set_rules(b->ours, rules, (size_t) n_rules, &t);
                if (r < 0)
                        return r;
                r = bench_record_build(b, "noaddr", n_prefixes, n_rules, &t);
                if (r < 0)
                        return r;
                r = bench_measure(b, "ours-noaddr", n_rules, n_prefixes, prog_fd, PATH_PASS, &b->packets.pass,
                                  XDP_PASS, NULL, NULL);
                if (r >= 0)
                        r = bench_measure(b, "ours-noaddr", n_rules, n_prefixes, prog_fd, PATH_DROP,
                                          &b->packets.drop, XDP_DROP, NULL, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Measures everything at one prefix count (the block table and the LPM trie already hold them). */
static int bench_at_prefix_count(Bench *b, long n_prefixes, const uint32_t *inside) {
        int r;

        if (n_prefixes > 0) {
                /* The kernel LPM trie holding the same prefixes, on the same frames. */
                r = bench_measure(b, "lpm", N_A, n_prefixes, lpm_prog_fd(b->lpm), PATH_PASS, &b->packets.pass,
                                  XDP_PASS, b->outside, b->driver_outside);
                if (r >= 0)
                        r = bench_measure(b, "lpm", N_A, n_prefixes, lpm_prog_fd(b->lpm), PATH_BLOCK,
                                          &b->block_frame, XDP_DROP, inside, b->driver_inside);
                if (r < 0)
                        return r;
        }

        for (size_t k = 0; k < b->cfg.n_rule_counts; k++) {
                long n_rules = b->cfg.rule_counts[k];
                _cleanup_free_ struct bench_rule *rules = NULL;
                struct ours_timing t;
                int prog_fd = ours_prog_fd(b->ours);

                r = bench_rules_generate(b->cfg.seed, (size_t) n_rules, BENCH_RULES_VARIED, &rules);
                if (r < 0)
                        return log_error_errno(r, "Failed to generate %ld rules: %m", n_rules);
                r = ours_set_rules(b->ours, rules, (size_t) n_rules, &t);
                if (r < 0)
                        return r;
                r = bench_record_build(b, "rules", n_prefixes, n_rules, &t);
                if (r < 0)
                        return r;

                r = bench_measure(b, "ours", n_rules, n_prefixes, prog_fd, PATH_PASS, &b->packets.pass, XDP_PASS,
                                  b->outside, b->driver_outside);
                if (r >= 0)
                        r = bench_measure(b, "ours", n_rules, n_prefixes, prog_fd, PATH_DROP, &b->packets.drop,
                                          XDP_DROP, b->outside, b->driver_outside);
                if (r >= 0 && n_prefixes > 0)
                        r = bench_measure(b, "ours", n_rules, n_prefixes, prog_fd, PATH_BLOCK, &b->block_frame,
                                          XDP_DROP, inside, b->driver_inside);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int bench_ours(Bench *b) {
        long have = 0;
        int r;

        r = ours_new(&b->ours);
        if (r < 0)
                return r;

        for (size_t k = 0; k < b->cfg.n_prefix_counts; k++) {
                long want = b->cfg.prefix_counts[k];
                _cleanup_free_ uint32_t *inside = NULL;
                struct ours_timing t;
                char buf[24];

                if (want > have) {
                        struct lpm_build *builds;
                        double start;

                        fprintf(stderr, "Adding prefixes %ld..%ld to our block table and the LPM trie...\n",
                                have, want);
                        r = ours_add_prefixes(b->ours, b->prefixes, (size_t) have, (size_t) want, &t);
                        if (r < 0)
                                return r;
                        if (ours_block_count(b->ours) != (size_t) want)
                                return log_error_errno(-EBADMSG, "loader_block_count() says %zu, expected %ld.",
                                                       ours_block_count(b->ours), want);
                        r = bench_record_build(b, "prefixes", want, N_A, &t);
                        if (r < 0)
                                return r;

                        start = now_s();
                        r = lpm_add(b->lpm, b->prefixes + have, (size_t) (want - have));
                        if (r < 0)
                                return r;
                        builds = realloc(b->lpm_builds, (b->n_lpm_builds + 1) * sizeof(*builds));
                        if (!builds)
                                return -ENOMEM;
                        b->lpm_builds = builds;
                        builds[b->n_lpm_builds++] = (struct lpm_build) {
                                .prefixes = want, .insert_s = now_s() - start,
                                .map_bytes = lpm_map_memory(b->lpm),
                        };
                        have = want;
                }

                if (want > 0) {
                        r = bench_addresses_inside(b->cfg.seed + 2, b->prefixes, (size_t) want,
                                                   BENCH_DRIVER_ADDRS, &inside);
                        if (r < 0)
                                return r;
                        r = driver_set_sources(b->driver_inside, inside, BENCH_DRIVER_ADDRS);
                        if (r < 0)
                                return r;
                }
                fprintf(stderr, "Measuring at %s prefixes...\n", count_label(want, buf));
                r = bench_at_prefix_count(b, want, inside);
                if (r >= 0 && k == BENCH_DIAGNOSTIC_PREFIX_INDEX)
                        r = bench_without_addresses(b, want);
                if (r < 0)
                        return r;
        }

        r = prog_map_memory(ours_prog_fd(b->ours), &b->ours_maps, &b->n_ours_maps);
        if (r < 0)
                return log_error_errno(r, "Failed to list our program's maps: %m");
        b->ours_maps_rules = b->cfg.rule_counts[b->cfg.n_rule_counts - 1];
        b->ours_maps_prefixes = have;
        return 0;
}

/*
 * Sets (issue 7): the kernel LPM trie holding mixed IPv4/IPv6 prefixes (an IPv4 and an IPv6
 * trie), from the lists bench/gen-prefixes writes, measured cold with mixed sources: members
 * (inside random prefixes of the list) and non-members (random addresses in no prefix of it).
 * "ours-set" (our program with one rule referencing a set of the same prefixes) is recorded
 * under that name by the sets loader API's case, so that the targets below find it.
 */
static int bench_sets(Bench *b) {
        long max = b->cfg.set_counts[b->cfg.n_set_counts - 1], have = 0;
        _cleanup_free_ struct pg_prefix *p = NULL;
        int r;

        r = packet_build(&(struct packet_spec) {
                        .l3 = PACKET_L3_IPV6, .src = "2001:db8:ffff::7", .dst = "2001:db8::1",
                        .l4 = PACKET_L4_UDP, .sport = BENCH_PASS_SPORT, .dport = BENCH_PASS_PORT,
                }, &b->frame6);
        if (r < 0)
                return log_error_errno(r, "Failed to build the IPv6 frame: %m");

        fprintf(stderr, "Sets: generating %ld mixed prefixes (seed %llu, part %u/%u)...\n", max,
                (unsigned long long) b->cfg.seed, BENCH_SET_PART, BENCH_SET_PARTS);
        r = pg_generate(&(struct pg_options) {
                        .seed = b->cfg.seed, .count = (size_t) max, .mix = PG_MIXED,
                        .part = BENCH_SET_PART, .parts = BENCH_SET_PARTS,
                }, &p);
        if (r < 0)
                return log_error_errno(r, "Failed to generate the sets' prefixes: %m");
        r = lpm_new(&b->lpm_mixed);
        if (r < 0)
                return r;
        r = ours_new(&b->ours_sets);
        if (r < 0)
                return r;

        for (size_t k = 0; k < b->cfg.n_set_counts; k++) {
                long want = b->cfg.set_counts[k];
                _cleanup_free_ struct pg_address *members = NULL, *outsiders = NULL;
                struct lpm_build *builds;
                struct measurement m;
                double start;
                char buf[24];

                /* Any leading slice is the list gen-prefixes writes with --count of that size. */
                start = now_s();
                r = lpm_add_mixed(b->lpm_mixed, p + have, (size_t) (want - have));
                if (r < 0)
                        return r;
                builds = realloc(b->set_builds, (b->n_set_builds + 1) * sizeof(*builds));
                if (!builds)
                        return -ENOMEM;
                b->set_builds = builds;
                builds[b->n_set_builds++] = (struct lpm_build) {
                        .prefixes = want, .insert_s = now_s() - start,
                        .map_bytes = lpm_mixed_map_memory(b->lpm_mixed),
                };
                have = want;

                r = pg_sources(b->cfg.seed + 1, p, (size_t) want, b->cfg.per_run_frames, 1.0, &members);
                if (r >= 0)
                        r = pg_sources(b->cfg.seed + 2, p, (size_t) want, b->cfg.per_run_frames, 0.0, &outsiders);
                if (r < 0)
                        return log_error_errno(r, "Failed to generate the sets' sources: %m");

                fprintf(stderr, "  %-11s set %-5s ...", "lpm-mixed", count_label(want, buf));
                r = measure_cold_per_run_mixed(lpm_mixed_prog_fd(b->lpm_mixed), &b->packets.pass,
                                               b->packets.saddr_offset, &b->frame6, members, b->cfg.per_run_frames,
                                               XDP_DROP, &m);
                if (r >= 0)
                        r = bench_record(b, "lpm-mixed", N_A, want, PATH_BLOCK, METHOD_PER_RUN, &m);
                if (r >= 0) {
                        fprintf(stderr, " in set %.1f", m.ns);
                        r = measure_cold_per_run_mixed(lpm_mixed_prog_fd(b->lpm_mixed), &b->packets.pass,
                                                       b->packets.saddr_offset, &b->frame6, outsiders,
                                                       b->cfg.per_run_frames, XDP_PASS, &m);
                }
                if (r >= 0)
                        r = bench_record(b, "lpm-mixed", N_A, want, PATH_PASS, METHOD_PER_RUN, &m);
                fprintf(stderr, r < 0 ? "\n" : " not in set %.1f ns\n", m.ns);
                if (r < 0)
                        return log_error_errno(r, "Measuring the mixed LPM tries at %ld prefixes failed: %m", want);

                /* Ours: one rule "drop source-set" over a set of the same prefixes, same frames. */
                {
                        struct ours_timing t;
                        int fd = ours_prog_fd(b->ours_sets);

                        r = ours_set_prefixes(b->ours_sets, p, (size_t) want, &t);
                        if (r < 0)
                                return r;
                        fprintf(stderr, "  %-11s set %-5s (staged %.3f s, committed %.3f s) ...", "ours-set",
                                count_label(want, buf), t.stage_s, t.commit_s);
                        r = measure_cold_per_run_mixed(fd, &b->packets.pass, b->packets.saddr_offset, &b->frame6,
                                                       members, b->cfg.per_run_frames, XDP_DROP, &m);
                        if (r >= 0)
                                r = bench_record(b, "ours-set", 1, want, PATH_BLOCK, METHOD_PER_RUN, &m);
                        if (r >= 0) {
                                fprintf(stderr, " in set %.1f", m.ns);
                                r = measure_cold_per_run_mixed(fd, &b->packets.pass, b->packets.saddr_offset,
                                                               &b->frame6, outsiders, b->cfg.per_run_frames,
                                                               XDP_PASS, &m);
                        }
                        if (r >= 0)
                                r = bench_record(b, "ours-set", 1, want, PATH_PASS, METHOD_PER_RUN, &m);
                        fprintf(stderr, r < 0 ? "\n" : " not in set %.1f ns\n", m.ns);
                        if (r < 0)
                                return log_error_errno(r, "Measuring our sets at %ld prefixes failed: %m", want);
                }
        }
        return 0;
}

/* What the daemon pays to install a large set at once: a fresh loader, every prefix in one commit. */
static int bench_scratch_build(Bench *b) {
        _cleanup_(ours_freep) Ours *fresh = NULL;
        struct ours_timing t;
        int r;

        b->scratch_prefixes = (long) b->n_prefixes;
        fprintf(stderr, "Building %zu prefixes at once into a fresh loader...\n", b->n_prefixes);
        r = ours_new(&fresh);
        if (r < 0)
                return r;
        r = ours_add_prefixes(fresh, b->prefixes, 0, b->n_prefixes, &t);
        if (r < 0)
                return r;
        b->scratch_stage_s = t.stage_s;
        b->scratch_commit_s = t.commit_s;
        return 0;
}

/* ---- Output ---- */

static void print_cell(double v) {
        if (isnan(v))
                printf(" %8s", "-");
        else
                printf(" %8.1f", v);
}

static void print_hot_table(const Bench *b) {
        char r_buf[24], p_buf[24];

        printf("\nHOT: one frame, repeat=N in one test run, median of %u runs (ns per packet);\n"
               "     N = %u, fewer for slow cases (one run ~%.1f s, N >= %u)\n",
               b->cfg.hot_rounds, b->cfg.hot_repeat, MEASURE_RUN_NS / 1e9, MEASURE_MIN_REPEAT);
        printf("%-12s %6s %9s %8s %8s %8s\n", "program", "rules", "prefixes", "pass", "drop", "block");
        for (size_t i = 0; i < b->n_results; i++) {
                const struct result *r = &b->results[i];

                if (r->method != METHOD_HOT || r->path != PATH_PASS)
                        continue;
                printf("%-12s %6s %9s", r->program, count_label(r->rules, r_buf),
                       streq(r->program, "xdp-filter") ? "1ip+1port" : count_label(r->prefixes, p_buf));
                for (enum path p = 0; p < _PATH_MAX; p++)
                        print_cell(bench_ns(b, r->program, r->rules, r->prefixes, p, METHOD_HOT));
                printf("\n");
        }
}

static void print_cold_table(const Bench *b) {
        char r_buf[24], p_buf[24];

        printf("\nCOLD: random sources, minus the floor measured the same way (ns per packet)\n");
        printf("  per-run: %zu frames that differ in their source, one test run (repeat=1) each,\n"
               "           mean without the slowest 1%%; floor %.1f ns subtracted\n",
               b->cfg.per_run_frames, bench_ns(b, "floor", N_A, N_A, PATH_PASS, METHOD_PER_RUN));
        printf("  in-run:  a driver program writes the next of %u sources into the frame and tail-calls\n"
               "           the program; repeat=%u in one test run, fewer for slow cases (one run ~%.1f s,\n"
               "           N >= %u); median of %u; floor+driver %.1f ns subtracted\n",
               BENCH_DRIVER_ADDRS, b->cfg.in_run_repeat, MEASURE_RUN_NS / 1e9, MEASURE_MIN_IN_RUN_REPEAT,
               b->cfg.in_run_rounds,
               bench_ns(b, "floor", N_A, N_A, PATH_PASS, METHOD_IN_RUN));
        printf("  pass/drop sources: in no prefix; block sources: inside random prefixes of the set\n");
        printf("%-12s %6s %9s | %8s %8s | %8s %8s | %8s %8s\n", "program", "rules", "prefixes",
               "pass", "", "drop", "", "block", "");
        printf("%-12s %6s %9s | %8s %8s | %8s %8s | %8s %8s\n", "", "", "",
               "per-run", "in-run", "per-run", "in-run", "per-run", "in-run");
        for (size_t i = 0; i < b->n_results; i++) {
                const struct result *r = &b->results[i];

                if (r->method != METHOD_HOT || r->path != PATH_PASS || streq(r->program, "floor") ||
                    !bench_find(b, r->program, r->rules, r->prefixes, PATH_PASS, METHOD_PER_RUN))
                        continue;
                printf("%-12s %6s %9s |", r->program, count_label(r->rules, r_buf),
                       streq(r->program, "xdp-filter") ? "1ip+1port" : count_label(r->prefixes, p_buf));
                for (enum path p = 0; p < _PATH_MAX; p++) {
                        print_cell(bench_net(b, r->program, r->rules, r->prefixes, p, METHOD_PER_RUN));
                        print_cell(bench_net(b, r->program, r->rules, r->prefixes, p, METHOD_IN_RUN));
                        printf(p + 1 < _PATH_MAX ? " |" : "\n");
                }
        }
}

static void print_builds(const Bench *b) {
        char r_buf[24], p_buf[24], c_buf[24];

        printf("\nBUILD AND MEMORY (ours through the loader; maps = memlock of every map, in /proc fdinfo)\n");
        printf("  classes, src/dst: what the classifier compiled to: match classes, and the IPv4 address\n"
               "  intervals of the source and destination fields (the program binary-searches them)\n");
        printf("%-9s %6s %9s %9s %9s %10s %9s %8s %8s\n", "change", "rules", "prefixes", "stage s", "commit s",
               "maps MiB", "RSS MiB", "classes", "src/dst");
        for (size_t i = 0; i < b->n_builds; i++) {
                const struct build *x = &b->builds[i];
                char lengths[24] = "-";

                if (streq(x->what, "rules"))
                        snprintf(lengths, sizeof(lengths), "%u/%u", x->source_lengths, x->destination_lengths);
                printf("%-9s %6s %9s %9.3f %9.3f %10.1f %9.1f %8s %8s\n", x->what, count_label(x->rules, r_buf),
                       count_label(x->prefixes, p_buf), x->stage_s, x->commit_s,
                       (double) x->map_bytes / 1048576.0, (double) x->rss_bytes / 1048576.0,
                       streq(x->what, "rules") ? count_label(x->n_classes, c_buf) : "-", lengths);
        }
        if (b->scratch_prefixes > 0)
                printf("%s prefixes at once into a fresh loader: stage %.3f s, commit %.3f s\n",
                       count_label(b->scratch_prefixes, p_buf), b->scratch_stage_s, b->scratch_commit_s);
        printf("our maps at %s rules + %s prefixes:\n", count_label(b->ours_maps_rules, r_buf),
               count_label(b->ours_maps_prefixes, p_buf));
        for (size_t i = 0; i < b->n_ours_maps; i++)
                printf("  %-16s type %2u  max_entries %8u  %8.1f MiB\n", b->ours_maps[i].name, b->ours_maps[i].type,
                       b->ours_maps[i].max_entries, (double) b->ours_maps[i].bytes / 1048576.0);
        printf("kernel LPM trie (one bpf_map_update_elem per prefix):\n");
        for (size_t i = 0; i < b->n_lpm_builds; i++)
                printf("  %9s prefixes: insert %.3f s (cumulative step), map %.1f MiB\n",
                       count_label(b->lpm_builds[i].prefixes, p_buf), b->lpm_builds[i].insert_s,
                       (double) b->lpm_builds[i].map_bytes / 1048576.0);
}

static void print_sets(const Bench *b) {
        char p_buf[24];

        if (b->n_set_builds == 0)
                return;
        printf("\nSETS (issue 7): mixed IPv4/IPv6 prefixes as `gen-prefixes --seed %llu --part %u/%u` writes them\n"
               "  (60%% IPv4 /32, 25%% IPv4 /16-/24, 15%% IPv6 /32-/64 and /128); cold per-run, %zu mixed sources,\n"
               "  mean without the slowest 1%%, floor %.1f ns subtracted (ns per packet)\n",
               (unsigned long long) b->cfg.seed, BENCH_SET_PART, BENCH_SET_PARTS, b->cfg.per_run_frames,
               bench_ns(b, "floor", N_A, N_A, PATH_PASS, METHOD_PER_RUN));
        printf("%-12s %9s %10s %9s %10s %10s\n", "program", "prefixes", "insert s", "map MiB", "in set", "not in set");
        for (size_t i = 0; i < b->n_set_builds; i++) {
                long n = b->set_builds[i].prefixes;

                printf("%-12s %9s %10.3f %9.1f", "lpm-mixed", count_label(n, p_buf), b->set_builds[i].insert_s,
                       (double) b->set_builds[i].map_bytes / 1048576.0);
                print_cell(bench_net(b, "lpm-mixed", N_A, n, PATH_BLOCK, METHOD_PER_RUN));
                printf("  ");
                print_cell(bench_net(b, "lpm-mixed", N_A, n, PATH_PASS, METHOD_PER_RUN));
                printf("\n");
        }
        for (size_t i = 0; i < b->n_set_builds; i++) {
                long n = b->set_builds[i].prefixes;

                if (!bench_find(b, "ours-set", 1, n, PATH_PASS, METHOD_PER_RUN))
                        continue;
                printf("%-12s %9s %10s %9s", "ours-set", count_label(n, p_buf), "-", "-");
                print_cell(bench_net(b, "ours-set", 1, n, PATH_BLOCK, METHOD_PER_RUN));
                printf("  ");
                print_cell(bench_net(b, "ours-set", 1, n, PATH_PASS, METHOD_PER_RUN));
                printf("\n");
        }
}

struct target {
        char what[160];
        double ratio;
        double limit;
};

static void target_add(struct target *t, size_t *n, size_t max, double ratio, double limit, const char *fmt, ...)
        _printf_(6, 7);
static void target_add(struct target *t, size_t *n, size_t max, double ratio, double limit, const char *fmt, ...) {
        va_list ap;

        if (*n >= max)
                return;
        va_start(ap, fmt);
        vsnprintf(t[*n].what, sizeof(t[*n].what), fmt, ap);
        va_end(ap);
        t[*n].ratio = ratio;
        t[*n].limit = limit;
        (*n)++;
}

/* Net cold ratio, NAN unless both are positive. */
static double net_ratio(double a, double b) {
        return a > 0 && b > 0 ? a / b : NAN;
}

static size_t bench_targets(const Bench *b, struct target *t, size_t max) {
        const char *methods[] = { [METHOD_PER_RUN] = "per-run", [METHOD_IN_RUN] = "in-run" };
        double xf_pass = bench_ns(b, "xdp-filter", N_A, N_A, PATH_PASS, METHOD_HOT);
        double xf_drop = bench_ns(b, "xdp-filter", N_A, N_A, PATH_DROP, METHOD_HOT);
        double floor_hot = bench_ns(b, "floor", N_A, N_A, PATH_PASS, METHOD_HOT);
        double worst = NAN;
        size_t n = 0;

        target_add(t, &n, max, bench_ns(b, "ours", 1000, 100000, PATH_PASS, METHOD_HOT) / xf_pass, 0.75,
                   "1000 rules + 100k prefixes, pass, hot: ours / xdp-filter");
        target_add(t, &n, max, bench_ns(b, "ours", 1000, 100000, PATH_PASS, METHOD_HOT) / floor_hot, 2.5,
                   "1000 rules + 100k prefixes, pass, hot: ours / floor");
        target_add(t, &n, max, bench_ns(b, "ours", 4096, 100000, PATH_PASS, METHOD_HOT) / xf_pass, 1.0,
                   "4096 rules + 100k prefixes, pass, hot: ours / xdp-filter");
        for (size_t k = 0; k < b->cfg.n_prefix_counts; k++) {
                long p = b->cfg.prefix_counts[k];
                double pass = bench_ns(b, "ours", 4096, p, PATH_PASS, METHOD_HOT) / xf_pass;
                double drop = bench_ns(b, "ours", 4096, p, PATH_DROP, METHOD_HOT) / xf_drop;

                if (!isnan(pass) && (isnan(worst) || pass > worst))
                        worst = pass;
                if (!isnan(drop) && (isnan(worst) || drop > worst))
                        worst = drop;
        }
        target_add(t, &n, max, worst, 1.0,
                   "4096 rules, worst of pass and drop at any prefix count, hot: ours / xdp-filter same path");
        for (enum path p = PATH_PASS; p <= PATH_DROP; p++)
                target_add(t, &n, max,
                           bench_ns(b, "ours", 4096, 100000, p, METHOD_HOT) /
                           bench_ns(b, "ours", 1, 100000, p, METHOD_HOT), 1.25,
                           "growth 1 -> 4096 rules (100k prefixes), %s, hot: ours(4096) / ours(1)", path_names[p]);
        for (enum method m = METHOD_PER_RUN; m <= METHOD_IN_RUN; m++) {
                target_add(t, &n, max,
                           net_ratio(bench_net(b, "ours", 1, 1000000, PATH_PASS, m),
                                     bench_net(b, "lpm", N_A, 1000000, PATH_PASS, m)), 0.2,
                           "1M prefixes, cold %s, sources in no prefix: ours(1 rule) / kernel LPM trie (net)",
                           methods[m]);
                target_add(t, &n, max,
                           net_ratio(bench_net(b, "ours", 1, 1000000, PATH_BLOCK, m),
                                     bench_net(b, "lpm", N_A, 1000000, PATH_BLOCK, m)), 0.2,
                           "1M prefixes, cold %s, sources in the set: ours(1 rule) / kernel LPM trie (net)",
                           methods[m]);
                target_add(t, &n, max,
                           net_ratio(bench_net(b, "ours", 1, 1000000, PATH_PASS, m),
                                     bench_net(b, "ours", 1, 1, PATH_PASS, m)), 2.0,
                           "cold %s, sources in no prefix: ours(1M prefixes) / ours(1 prefix) (net, 1 rule)",
                           methods[m]);
        }
        /* Issue 7: a rule referencing a 1M-entry set, cold: vs a 1-entry set, and vs the LPM tries. */
        if (b->n_set_builds > 0) {
                long lo = b->cfg.set_counts[0], hi = b->cfg.set_counts[b->cfg.n_set_counts - 1];

                for (enum path p = PATH_PASS; p <= PATH_BLOCK; p += PATH_BLOCK - PATH_PASS) {
                        const char *which = p == PATH_PASS ? "sources in no prefix" : "sources in the set";

                        target_add(t, &n, max,
                                   net_ratio(bench_net(b, "ours-set", 1, hi, p, METHOD_PER_RUN),
                                             bench_net(b, "ours-set", 1, lo, p, METHOD_PER_RUN)), 2.0,
                                   "issue 7: set of %ld mixed prefixes, cold per-run, %s: ours / ours with %ld (net)",
                                   hi, which, lo);
                        target_add(t, &n, max,
                                   net_ratio(bench_net(b, "ours-set", 1, hi, p, METHOD_PER_RUN),
                                             bench_net(b, "lpm-mixed", N_A, hi, p, METHOD_PER_RUN)), 0.2,
                                   "issue 7: set of %ld mixed prefixes, cold per-run, %s: ours / kernel LPM tries (net)",
                                   hi, which);
                }
        }
        return n;
}

static void print_targets(const struct target *t, size_t n) {
        printf("\nTARGETS (issues 3 and 7; informational, never an exit failure)\n");
        for (size_t i = 0; i < n; i++) {
                if (isnan(t[i].ratio))
                        printf("  [n/a ] %s: not measured in this run (target <= %.2f)\n", t[i].what, t[i].limit);
                else
                        printf("  [%s] %s = %.2f (target <= %.2f)\n", t[i].ratio <= t[i].limit ? "PASS" : "MISS",
                               t[i].what, t[i].ratio, t[i].limit);
        }
}

static json_object *json_count(long n) {
        return n < 0 ? NULL : json_object_new_int64(n);
}

static json_object *json_number(double v) {
        return isnan(v) ? NULL : json_object_new_double(round(v * 100) / 100);
}

static int bench_write_json(const Bench *b, const struct target *t, size_t n_targets) {
        json_object *root = json_object_new_object(), *results = json_object_new_array();
        json_object *builds = json_object_new_array(), *lpm = json_object_new_array(), *targets = json_object_new_array();
        int r = 0;

        json_object_object_add(root, "seed", json_object_new_uint64(b->cfg.seed));
        json_object_object_add(root, "quick", json_object_new_boolean(b->cfg.quick));
        json_object_object_add(root, "hot_repeat", json_object_new_int64(b->cfg.hot_repeat));
        json_object_object_add(root, "per_run_frames", json_object_new_int64((int64_t) b->cfg.per_run_frames));
        json_object_object_add(root, "in_run_repeat", json_object_new_int64(b->cfg.in_run_repeat));
        json_object_object_add(root, "in_run_sources", json_object_new_int64(BENCH_DRIVER_ADDRS));
        for (size_t i = 0; i < b->n_results; i++) {
                const struct result *x = &b->results[i];
                json_object *o = json_object_new_object();

                json_object_object_add(o, "program", json_object_new_string(x->program));
                json_object_object_add(o, "rules", json_count(x->rules));
                json_object_object_add(o, "prefixes", json_count(x->prefixes));
                json_object_object_add(o, "path", json_object_new_string(path_names[x->path]));
                json_object_object_add(o, "method", json_object_new_string(method_names[x->method]));
                json_object_object_add(o, "ns", json_number(x->ns));
                if (x->method != METHOD_HOT && !streq(x->program, "floor"))
                        json_object_object_add(o, "net_ns", json_number(bench_net(b, x->program, x->rules,
                                                                                  x->prefixes, x->path, x->method)));
                if (x->method != METHOD_PER_RUN)
                        json_object_object_add(o, "spread", json_number(x->spread));
                json_object_object_add(o, "repeat", json_object_new_int64(x->repeat));
                json_object_array_add(results, o);
        }
        for (size_t i = 0; i < b->n_builds; i++) {
                const struct build *x = &b->builds[i];
                json_object *o = json_object_new_object();

                json_object_object_add(o, "change", json_object_new_string(x->what));
                json_object_object_add(o, "rules", json_count(x->rules));
                json_object_object_add(o, "prefixes", json_count(x->prefixes));
                json_object_object_add(o, "stage_s", json_object_new_double(x->stage_s));
                json_object_object_add(o, "commit_s", json_object_new_double(x->commit_s));
                json_object_object_add(o, "map_bytes", json_object_new_uint64(x->map_bytes));
                json_object_object_add(o, "rss_bytes", json_object_new_uint64(x->rss_bytes));
                if (streq(x->what, "rules")) {
                        json_object_object_add(o, "classes", json_object_new_int64(x->n_classes));
                        json_object_object_add(o, "source_lengths", json_object_new_int64(x->source_lengths));
                        json_object_object_add(o, "destination_lengths",
                                               json_object_new_int64(x->destination_lengths));
                }
                json_object_array_add(builds, o);
        }
        for (size_t i = 0; i < b->n_lpm_builds; i++) {
                json_object *o = json_object_new_object();

                json_object_object_add(o, "prefixes", json_object_new_int64(b->lpm_builds[i].prefixes));
                json_object_object_add(o, "insert_s", json_object_new_double(b->lpm_builds[i].insert_s));
                json_object_object_add(o, "map_bytes", json_object_new_uint64(b->lpm_builds[i].map_bytes));
                json_object_array_add(lpm, o);
        }
        for (size_t i = 0; i < n_targets; i++) {
                json_object *o = json_object_new_object();

                json_object_object_add(o, "what", json_object_new_string(t[i].what));
                json_object_object_add(o, "ratio", json_number(t[i].ratio));
                json_object_object_add(o, "limit", json_object_new_double(t[i].limit));
                json_object_object_add(o, "met", isnan(t[i].ratio) ? NULL :
                                       json_object_new_boolean(t[i].ratio <= t[i].limit));
                json_object_array_add(targets, o);
        }
        json_object_object_add(root, "results", results);
        json_object_object_add(root, "builds", builds);
        json_object_object_add(root, "lpm_builds", lpm);
        {
                json_object *sets = json_object_new_array();

                for (size_t i = 0; i < b->n_set_builds; i++) {
                        json_object *o = json_object_new_object();

                        json_object_object_add(o, "prefixes", json_object_new_int64(b->set_builds[i].prefixes));
                        json_object_object_add(o, "insert_s", json_object_new_double(b->set_builds[i].insert_s));
                        json_object_object_add(o, "map_bytes", json_object_new_uint64(b->set_builds[i].map_bytes));
                        json_object_array_add(sets, o);
                }
                json_object_object_add(root, "lpm_mixed_builds", sets);
        }
        if (b->scratch_prefixes > 0) {
                json_object *o = json_object_new_object();

                json_object_object_add(o, "prefixes", json_object_new_int64(b->scratch_prefixes));
                json_object_object_add(o, "stage_s", json_object_new_double(b->scratch_stage_s));
                json_object_object_add(o, "commit_s", json_object_new_double(b->scratch_commit_s));
                json_object_object_add(root, "scratch_build", o);
        }
        json_object_object_add(root, "targets", targets);
        {
                json_object *maps = json_object_new_array();

                for (size_t i = 0; i < b->n_ours_maps; i++) {
                        json_object *o = json_object_new_object();

                        json_object_object_add(o, "name", json_object_new_string(b->ours_maps[i].name));
                        json_object_object_add(o, "type", json_object_new_int(b->ours_maps[i].type));
                        json_object_object_add(o, "max_entries", json_object_new_int64(b->ours_maps[i].max_entries));
                        json_object_object_add(o, "bytes", json_object_new_uint64(b->ours_maps[i].bytes));
                        json_object_array_add(maps, o);
                }
                json_object_object_add(root, "ours_maps", maps);
        }
        json_object_object_add(root, "xdp_filter_object",
                               b->xdp_filter ? json_object_new_string(xdp_filter_object_path(b->xdp_filter)) : NULL);

        if (json_object_to_file_ext(b->cfg.json_path, root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED) < 0)
                r = log_error_errno(-EIO, "Failed to write %s: %s", b->cfg.json_path, json_util_get_last_err());
        json_object_put(root);
        return r;
}

static void print_header(const Bench *b) {
        printf("pf-bench: XDP data-plane cost with bpf_prog_test_run_opts, seed %llu%s\n",
               (unsigned long long) b->cfg.seed, b->cfg.quick ? ", --quick (smoke run: figures not meaningful)" : "");
        printf("frames (60 bytes, Ethernet + IPv4, the same for every program):\n"
               "  pass:  UDP 198.51.100.7:40000 -> 192.0.2.1:40000, matched by no rule, in no prefix\n"
               "  drop:  TCP 198.51.100.7:40001 -> 192.0.2.1:4444, matched only by the LAST classifier rule\n"
               "         (\"drop tcp port 4444\", priority 1000: the classifier's worst case);\n"
               "         xdp-filter drops it by its one port entry (4444, dst, tcp+udp)\n"
               "  block: the pass frame from prefix 0 (a /32): a block rule (the prefix structure) drops it;\n"
               "         the LPM trie holds the same prefixes; xdp-filter drops it by its one IP entry (src)\n");
        printf("rules: generated (seed), 85%% drop: source prefixes /8-/32, destinations in the host's networks,\n"
               "  tcp/udp/icmp, single ports and ranges, source ports, ICMP types, VLANs\n");
        printf("prefixes: IPv4 across the public space: 85%% /32, 1%% /25-/31, 10%% /24, 3.9%% /20-/23, 0.1%% /16-/19\n");
        if (b->xdp_filter)
                printf("xdp-filter: %s (what `xdp-filter load` picks by default), loaded unpinned with libbpf,\n"
                       "  its maps written as `xdp-filter ip ADDR -m src` and `xdp-filter port 4444` write them\n",
                       xdp_filter_object_path(b->xdp_filter));
        else
                printf("xdp-filter: NOT MEASURED (%s)\n", strerror(-b->xdp_filter_error));
}

/* ---- main ---- */

static void help(void) {
        printf("pf-bench [OPTIONS]\n\n"
               "Measures the XDP data plane's cost per packet with bpf_prog_test_run_opts, side by side:\n"
               "our program at 1/100/1000/4096 rules and 0/1/100k/1M prefixes, the floor, the kernel\n"
               "LPM trie, and xdp-filter. Needs root. See docs/performance.md.\n\n"
               "  --quick        fewer sizes and repetitions (a smoke run; figures not meaningful)\n"
               "  --sets         only the floor and the sets case (issue 7: mixed IPv4/IPv6 prefixes)\n"
               "  --json FILE    also write every figure to FILE\n"
               "  --seed N       seed of the generated prefixes, rules and sources (default 1)\n"
               "  -h, --help     this text\n");
}

static int parse_argv(int argc, char *argv[], struct config *cfg) {
        static const struct option options[] = {
                { "quick", no_argument, NULL, 'q' },
                { "sets", no_argument, NULL, 'S' },
                { "json", required_argument, NULL, 'j' },
                { "seed", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'q':
                        cfg->quick = true;
                        break;
                case 'S':
                        cfg->sets_only = true;
                        break;
                case 'j':
                        cfg->json_path = optarg;
                        break;
                case 's': {
                        char *end;

                        errno = 0;
                        cfg->seed = strtoull(optarg, &end, 0);
                        if (errno != 0 || *end != '\0')
                                return log_error_errno(-EINVAL, "Bad --seed: %s", optarg);
                        break;
                }
                case 'h':
                        help();
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(-EINVAL, "Unexpected argument: %s", argv[optind]);

        if (cfg->quick)
                *cfg = (struct config) {
                        .quick = true, .sets_only = cfg->sets_only, .json_path = cfg->json_path, .seed = cfg->seed,
                        .rule_counts = { 1, 100 }, .n_rule_counts = 2,
                        .prefix_counts = { 0, 1, 10000 }, .n_prefix_counts = 3,
                        .set_counts = { 1, 10000 }, .n_set_counts = 2,
                        .hot_repeat = 20000, .hot_rounds = 3,
                        .per_run_frames = 2000,
                        .in_run_repeat = 1u << 16, .in_run_rounds = 2,
                };
        else
                *cfg = (struct config) {
                        .quick = false, .sets_only = cfg->sets_only, .json_path = cfg->json_path, .seed = cfg->seed,
                        .rule_counts = { 1, 100, 1000, 4096 }, .n_rule_counts = 4,
                        .prefix_counts = { 0, 1, 100000, 1000000 }, .n_prefix_counts = 4,
                        .set_counts = { 1, 1000000 }, .n_set_counts = 2,
                        .hot_repeat = 1000000, .hot_rounds = 5,
                        .per_run_frames = 50000,
                        .in_run_repeat = 1u << 21, .in_run_rounds = 3,
                };
        return 1;
}

/* test runs execute on the calling CPU: stay on one, away from CPU 0's housekeeping when possible. */
static void pin_to_one_cpu(void) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(n > 1 ? (int) n - 1 : 0, &set);
        if (sched_setaffinity(0, sizeof(set), &set) < 0)
                log_warning_errno(negative_errno(), "Failed to pin to one CPU, figures may be noisier: %m");
}

static void warn_bpf_stats(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");
        int v = 0;

        if (f && fscanf(f, "%d", &v) == 1 && v != 0)
                log_warning("kernel.bpf_stats_enabled=1 adds a clock read per program run: figures are inflated.");
}

int main(int argc, char *argv[]) {
        _cleanup_(bench_freep) Bench *b = NULL;
        struct target targets[32];
        size_t n_targets;
        double start = now_s();
        int r;

        b = calloc(1, sizeof(*b));
        if (!b)
                return EXIT_FAILURE;
        b->cfg.seed = 1;
        r = parse_argv(argc, argv, &b->cfg);
        if (r <= 0)
                return r < 0 ? 2 : EXIT_SUCCESS;

        if (geteuid() != 0) {
                log_error("pf-bench loads BPF programs and needs root: skipping.");
                return 77;
        }
        pin_to_one_cpu();
        warn_bpf_stats();

        r = bench_setup(b);
        if (r >= 0 && b->cfg.sets_only)
                r = bench_measure(b, "floor", N_A, N_A, floor_prog_fd(b->floor), PATH_PASS, &b->packets.pass,
                                  XDP_PASS, b->outside, b->driver_outside);
        else if (r >= 0)
                r = bench_peers(b);
        if (r >= 0 && !b->cfg.sets_only)
                r = bench_ours(b);
        if (r >= 0 && !b->cfg.quick && !b->cfg.sets_only)
                r = bench_scratch_build(b);
        if (r >= 0)
                r = bench_sets(b);
        if (r < 0) {
                log_error_errno(r, "pf-bench failed: %m");
                return EXIT_FAILURE;
        }

        print_header(b);
        print_hot_table(b);
        print_cold_table(b);
        if (!b->cfg.sets_only)
                print_builds(b);
        print_sets(b);
        n_targets = bench_targets(b, targets, ELEMENTSOF(targets));
        print_targets(targets, n_targets);
        {
                double rate_ns[BENCH_RATE_EVENTS_ROWS];

                r = bench_rate_events(b->cfg.quick, rate_ns);
                if (r < 0) {
                        log_error_errno(r, "pf-bench failed: %m");
                        return EXIT_FAILURE;
                }
        }
        printf("\n%s run took %.0f s.\n", b->cfg.quick ? "Quick" : "Full", now_s() - start);

        if (b->cfg.json_path) {
                r = bench_write_json(b, targets, n_targets);
                if (r < 0)
                        return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
