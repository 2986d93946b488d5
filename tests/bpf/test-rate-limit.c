/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Rate-limit rules and drop events in the XDP program, on crafted frames
 * through bpf_prog_test_run_opts, on one CPU:
 *  - per source: each source gets its burst, then only drops, counted as
 *    rate-limited (rule and global statistics) and in the rule's packets;
 *  - per rule: all sources share one bucket;
 *  - a repeat of 1000 frames in one run: burst passed, the rest dropped;
 *  - the bucket refills at the rate; a slot given to a new rule starts afresh;
 *  - drop events: at most the budget per window on a CPU, each with the
 *    frame's fields and the rule's id (0 for the default action); the next
 *    window's first event carries the count of those not reported.
 *
 *   test-rate-limit     (needs root; PF_ALLOW_SKIP=1 turns "not root" into a skip)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "isolate.h"
#include "loader.h"
#include "log.h"
#include "macro.h"
#include "packet.h"
#include "ruleset-loader.h"

#define IFINDEX 1                       /* lo */

static unsigned failures, checks;

#define CHECK(expr, ...)                                                                \
        ({                                                                              \
                bool _ok = (expr);                                                      \
                checks++;                                                               \
                if (!_ok) {                                                             \
                        failures++;                                                     \
                        fprintf(stderr, "FAILED %s:%d: ", __FILE__, __LINE__);          \
                        fprintf(stderr, __VA_ARGS__);                                   \
                        fputc('\n', stderr);                                            \
                }                                                                       \
                _ok;                                                                    \
        })

static int run(Loader *l, const char *src, const char *dst, uint16_t dport, uint32_t repeat, uint32_t *ret_verdict) {
        struct packet_spec spec = {
                .l3 = PACKET_L3_IPV4, .src = src, .dst = dst, .l4 = PACKET_L4_UDP, .dport = dport,
        };
        struct packet p;
        struct xdp_md ctx = { .ingress_ifindex = IFINDEX };
        int r;

        r = packet_build(&spec, &p);
        if (r < 0)
                return r;
        ctx.data_end = p.len;
        LIBBPF_OPTS(bpf_test_run_opts, opts,
                    .data_in = p.data, .data_size_in = p.len,
                    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
                    .repeat = repeat);
        r = bpf_prog_test_run_opts(loader_prog_fd(l), &opts);
        if (r < 0)
                return negative_errno();
        *ret_verdict = opts.retval;
        return 0;
}

/* How many of n single runs pass. */
static unsigned passes(Loader *l, const char *src, uint16_t dport, unsigned n) {
        unsigned passed = 0;

        for (unsigned i = 0; i < n; i++) {
                uint32_t v = 0;

                if (run(l, src, "192.0.2.200", dport, 1, &v) < 0)
                        abort();
                passed += v == XDP_PASS;
        }
        return passed;
}

static Rule *rate_rule(uint32_t id, uint32_t slot, uint16_t port, uint32_t rate, uint32_t burst, const char *per) {
        char port_text[8];
        struct rule_text t = { .action = "rate-limit", .protocol = "udp", .port = port_text };
        struct rule_error e = {};
        Rule *r = NULL;

        snprintf(port_text, sizeof(port_text), "%u", port);
        /* ruleset_rule_from_text() validates: give it the rate first. */
        t.action = "drop";
        if (ruleset_rule_from_text(&t, id, slot, &r, &e) < 0)
                abort();
        r->action = PF_ACTION_RATE_LIMIT;
        if (rule_set_rate(r, rate, &e) < 0 || rule_set_burst(r, burst, &e) < 0 || rule_set_per(r, per, &e) < 0 ||
            rule_validate(r, &e) < 0) {
                fprintf(stderr, "rate rule: %s: %s\n", e.field, e.reason);
                abort();
        }
        return r;
}

static uint64_t stat_of(Loader *l, enum pf_stat s) {
        struct pf_statistics st;

        if (loader_statistics_read(l, &st) < 0)
                abort();
        return st.v[s];
}

static Rule *rules[16];
static size_t n_rules;
static RulesetInstalled installed;

static void push(Loader *l, Rule *r) {
        rules[n_rules++] = r;
        if (ruleset_push(l, rules, n_rules, PF_ACTION_PASS, &installed) < 0 ||
            (r->action == PF_ACTION_RATE_LIMIT &&
             loader_set_rate_limit(l, r->slot, r->id, r->rate, r->burst, r->per) < 0) ||
            loader_rule_counter_reset(l, r->slot) < 0)
                abort();
}

static void test_per_source(Loader *l) {
        Rule *r = rate_rule(1, 11, 53, 1, 5, "source");
        uint64_t packets, bytes, limited, stat_before = stat_of(l, PF_STAT_RATE_LIMITED);

        push(l, r);
        CHECK(passes(l, "192.0.2.1", 53, 20) == 5, "per source: 192.0.2.1 passed other than its burst of 5");
        CHECK(passes(l, "192.0.2.9", 53, 20) == 5, "per source: 192.0.2.9 has a bucket of its own");
        CHECK(passes(l, "192.0.2.1", 54, 3) == 3, "another port is not rate limited");
        CHECK(loader_rule_counter_read(l, r->slot, &packets, &bytes) == 0 && packets == 40,
              "per source: the rule counted %" PRIu64 " packets, not 40", packets);
        CHECK(loader_rate_limited_read(l, r->slot, &limited) == 0 && limited == 30,
              "per source: %" PRIu64 " rate-limited, not 30", limited);
        CHECK(stat_of(l, PF_STAT_RATE_LIMITED) - stat_before == 30, "global rate-limited statistic");
}

static void test_per_rule(Loader *l) {
        Rule *r = rate_rule(2, 12, 123, 1, 3, "rule");

        push(l, r);
        CHECK(passes(l, "192.0.2.1", 123, 2) == 2, "per rule: first two pass");
        CHECK(passes(l, "192.0.2.2", 123, 5) == 1, "per rule: another source shares the bucket");
        CHECK(passes(l, "192.0.2.3", 123, 5) == 0, "per rule: the bucket is empty for everyone");

        /* The slot given to another rule (a new id): a fresh bucket, whatever the old one held. */
        CHECK(loader_set_rate_limit(l, r->slot, 99, 1, 3, PF_RATE_PER_RULE) == 0, "set");
        CHECK(passes(l, "192.0.2.3", 123, 5) == 3, "per rule: a reused slot starts with its burst");
}

static void test_repeat(Loader *l) {
        Rule *r = rate_rule(3, 13, 1000, 1, 7, "source");
        uint64_t limited = 0, packets = 0, bytes = 0;
        uint32_t v;

        push(l, r);
        CHECK(run(l, "198.51.100.1", "192.0.2.200", 1000, 1000, &v) == 0 && v == XDP_DROP, "repeat: last verdict");
        CHECK(loader_rate_limited_read(l, r->slot, &limited) == 0 && limited == 993,
              "repeat 1000, burst 7: %" PRIu64 " rate-limited, not 993", limited);
        CHECK(loader_rule_counter_read(l, r->slot, &packets, &bytes) == 0 && packets == 1000, "repeat: packets");
}

static void test_refill(Loader *l) {
        Rule *r = rate_rule(4, 14, 2000, 1000, 2, "source");      /* one packet per ms */
        struct timespec pause = { 0, 5 * 1000 * 1000 };

        push(l, r);
        CHECK(passes(l, "203.0.113.5", 2000, 10) == 2, "refill: the burst");
        nanosleep(&pause, NULL);
        CHECK(passes(l, "203.0.113.5", 2000, 10) == 2, "refill: after 5 ms, the burst again (not more)");
        pause.tv_nsec = 1500 * 1000;
        nanosleep(&pause, NULL);
        CHECK(passes(l, "203.0.113.5", 2000, 10) >= 1, "refill: after 1.5 ms, one more");
}

/* ---- Drop events ---- */

static struct pf_drop_event events[4096];
static size_t n_events;

static int on_event(void *ctx, void *data, size_t size) {
        if (size >= sizeof(struct pf_drop_event) && n_events < ELEMENTSOF(events))
                memcpy(&events[n_events++], data, sizeof(struct pf_drop_event));
        return 0;
}

static void test_drop_events(Loader *l) {
        struct ring_buffer *ring = ring_buffer__new(loader_drop_events_fd(l), on_event, NULL, NULL);
        struct timespec window = { 0, 110 * 1000 * 1000 };
        struct rule_text t = { .action = "drop", .protocol = "udp", .port = "99" };
        struct rule_error e = {};
        uint64_t total = 0;
        uint32_t v, src, dst;
        Rule *r;

        if (!CHECK(ring, "ring_buffer__new: %m"))
                return;
        (void) ring_buffer__consume(ring);      /* nothing was reported with the budget 0 */
        CHECK(n_events == 0, "events while the budget was 0: %zu", n_events);

        if (ruleset_rule_from_text(&t, 20, 20, &r, &e) < 0)
                abort();
        push(l, r);
        CHECK(loader_set_drop_event_budget(l, PF_DROP_EVENT_BUDGET) == 0, "budget");
        nanosleep(&window, NULL);               /* a new window for this CPU */

        CHECK(run(l, "192.0.2.77", "192.0.2.200", 99, 1000, &v) == 0 && v == XDP_DROP, "drops");
        (void) ring_buffer__consume(ring);
        CHECK(n_events == PF_DROP_EVENT_BUDGET, "1000 drops in one window: %zu events, not %u", n_events,
              PF_DROP_EVENT_BUDGET);
        inet_pton(AF_INET, "192.0.2.77", &src);
        inet_pton(AF_INET, "192.0.2.200", &dst);
        for (size_t i = 0; i < n_events; i++) {
                total += events[i].count;
                if (!CHECK(events[i].rule_id == 20 && events[i].ifindex == IFINDEX && events[i].count == 1 &&
                           events[i].family == PF_FAMILY_V4 && events[i].protocol == IPPROTO_UDP &&
                           events[i].port == 99 && events[i].has_l4 && events[i].reason == PF_DROP_RULE &&
                           memcmp(events[i].src, &src, 4) == 0 && memcmp(events[i].dst, &dst, 4) == 0 &&
                           events[i].frame_len > 40 && events[i].time_ns > 0,
                           "event %zu: rule %u, ifindex %u, count %u, port %u, reason %u", i, events[i].rule_id,
                           events[i].ifindex, events[i].count, events[i].port, events[i].reason))
                        break;
        }

        /* The next window: its first event stands for itself and the 936 not reported. */
        nanosleep(&window, NULL);
        n_events = 0;
        CHECK(run(l, "192.0.2.77", "192.0.2.200", 99, 1, &v) == 0 && v == XDP_DROP, "one more drop");
        (void) ring_buffer__consume(ring);
        CHECK(n_events == 1 && events[0].count == 1000 - PF_DROP_EVENT_BUDGET + 1,
              "next window: %zu events, count %u", n_events, n_events ? events[0].count : 0);
        total += n_events ? events[0].count : 0;
        CHECK(total == 1001, "the counts add up to %" PRIu64 ", not the 1001 drops", total);

        /* Rate-limited drops say so, with their rule's id; the default action says rule 0. */
        n_events = 0;
        CHECK(passes(l, "192.0.2.1", 53, 1) == 0, "still over the rate");
        (void) ring_buffer__consume(ring);
        CHECK(n_events == 1 && events[0].reason == PF_DROP_RATE_LIMITED && events[0].rule_id == 1 &&
              events[0].port == 53, "rate-limited event: %zu events, reason %u, rule %u", n_events,
              n_events ? events[0].reason : 0, n_events ? events[0].rule_id : 0);

        n_events = 0;
        CHECK(ruleset_push(l, rules, n_rules, PF_ACTION_DROP, &installed) >= 0, "default drop");
        CHECK(run(l, "192.0.2.1", "192.0.2.200", 7, 1, &v) == 0 && v == XDP_DROP, "default drop");
        (void) ring_buffer__consume(ring);
        CHECK(n_events == 1 && events[0].reason == PF_DROP_DEFAULT && events[0].rule_id == 0 && events[0].port == 7,
              "default-drop event: %zu events, reason %u, rule %u", n_events, n_events ? events[0].reason : 0,
              n_events ? events[0].rule_id : 0);

        /* Budget 0: no events, nothing counted for later. */
        n_events = 0;
        CHECK(loader_set_drop_event_budget(l, 0) == 0, "budget 0");
        CHECK(run(l, "192.0.2.1", "192.0.2.200", 7, 100, &v) == 0 && v == XDP_DROP, "drops");
        (void) ring_buffer__consume(ring);
        CHECK(n_events == 0, "%zu events with the budget 0", n_events);
        ring_buffer__free(ring);
}

int main(int argc, char *argv[]) {
        _cleanup_(loader_freep) Loader *l = NULL;
        cpu_set_t cpus;
        int r;

        if (geteuid() != 0) {
                bool allow_skip = streq_ptr(getenv("PF_ALLOW_SKIP"), "1");

                fprintf(stderr, "test-rate-limit: needs root to load the XDP program%s\n",
                        allow_skip ? "; skipping" : "; run it as root, or set PF_ALLOW_SKIP=1 to skip");
                return allow_skip ? 77 : EXIT_FAILURE;
        }
        if (test_isolate("pfr0", "pfr1") < 0)
                return EXIT_FAILURE;
        /* One CPU: the per-CPU budget of drop events is then one budget. */
        CPU_ZERO(&cpus);
        CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &cpus);
        if (sched_setaffinity(0, sizeof(cpus), &cpus) < 0)
                return log_error_errno(negative_errno(), "sched_setaffinity: %m"), EXIT_FAILURE;

        r = loader_new(NULL, &l);
        if (r < 0)
                return log_error_errno(r, "Failed to load the XDP program: %m"), EXIT_FAILURE;

        test_per_source(l);
        test_per_rule(l);
        test_repeat(l);
        test_refill(l);
        test_drop_events(l);

        for (size_t i = 0; i < n_rules; i++)
                rule_free(rules[i]);
        ruleset_installed_clear(&installed);
        if (failures > 0) {
                fprintf(stderr, "test-rate-limit: %u of %u checks FAILED\n", failures, checks);
                return EXIT_FAILURE;
        }
        printf("test-rate-limit: all %u checks passed\n", checks);
        return EXIT_SUCCESS;
}
