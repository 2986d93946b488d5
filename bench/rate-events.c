/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cost of rate-limit rules and of drop events (issue 8), hot: one frame
 * repeated, on one CPU, in the real program loaded through the loader. Each
 * row is a UDP frame to its own port, so that one rule decides it:
 *
 *   pass rule                       the reference: a classifier rule that passes
 *   rate-limit within rate, source  per-source bucket (LRU hash look-up, atomic add), pass
 *   rate-limit within rate, rule    per-rule bucket (array look-up, atomic add), pass
 *   rate-limit over rate, source    the bucket says no: rate-limited count, drop (events off)
 *   drop rule, events off           the drop path without events (budget 0)
 *   drop rule, budget exhausted     events on, this CPU's budget used up: one per-CPU look-up and a count
 *   drop rule, every drop an event  budget unbounded, ring drained between runs: the ring-buffer write
 *
 * Printed as a table, with the extra cost against the pass rule and the drop rule.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "log.h"
#include "measure.h"
#include "packet.h"
#include "rate-events.h"

enum row {
        ROW_PASS,
        ROW_RATE_SOURCE,
        ROW_RATE_RULE,
        ROW_RATE_OVER,
        ROW_DROP_OFF,
        ROW_DROP_EXHAUSTED,
        ROW_DROP_EVENTS,
        _ROW_MAX,
};

static const struct {
        const char *name;
        uint16_t port;
        const char *action;
        uint32_t rate, burst;
        enum pf_rate_per per;
        uint32_t verdict;
} rows[_ROW_MAX] = {
        [ROW_PASS]           = { "pass rule",                      6000, "pass", 0, 0, 0, XDP_PASS },
        [ROW_RATE_SOURCE]    = { "rate-limit within rate, source", 6001, "rate-limit", PF_RATE_MAX, UINT32_MAX,
                                 PF_RATE_PER_SOURCE, XDP_PASS },
        [ROW_RATE_RULE]      = { "rate-limit within rate, rule",   6002, "rate-limit", PF_RATE_MAX, UINT32_MAX,
                                 PF_RATE_PER_RULE, XDP_PASS },
        [ROW_RATE_OVER]      = { "rate-limit over rate, source",   6003, "rate-limit", 1, 1, PF_RATE_PER_SOURCE, XDP_DROP },
        [ROW_DROP_OFF]       = { "drop rule, events off",          6004, "drop", 0, 0, 0, XDP_DROP },
        [ROW_DROP_EXHAUSTED] = { "drop rule, budget exhausted",    6004, "drop", 0, 0, 0, XDP_DROP },
        [ROW_DROP_EVENTS]    = { "drop rule, every drop an event", 6004, "drop", 0, 0, 0, XDP_DROP },
};

static int frame(uint16_t port, struct packet *ret) {
        struct packet_spec spec = {
                .l3 = PACKET_L3_IPV4, .src = "198.51.100.7", .dst = "192.0.2.1",
                .l4 = PACKET_L4_UDP, .sport = 40000, .dport = port,
        };

        return packet_build(&spec, ret);
}

static int add_rules(Loader *l) {
        Rule *rules[_ROW_MAX] = {};
        size_t n = 0;
        Classifier *c = NULL;
        int r = 0;

        for (size_t i = 0; i < _ROW_MAX && r >= 0; i++) {
                struct rule_error e = {};
                char port[8];
                Rule *rule;

                if (i > 0 && rows[i].port == rows[i - 1].port)
                        continue;
                rule = rule_new();
                if (!rule) {
                        r = -ENOMEM;
                        break;
                }
                rules[n++] = rule;
                snprintf(port, sizeof(port), "%u", rows[i].port);
                rule->id = (uint32_t) n;
                rule->slot = (uint32_t) n;
                r = rule_set_action(rule, rows[i].action, &e);
                if (r >= 0)
                        r = rule_set_protocol(rule, "udp", &e);
                if (r >= 0)
                        r = rule_set_port(rule, port, &e);
                if (r >= 0 && rows[i].rate) {
                        rule->rate = rows[i].rate;
                        rule->burst = rows[i].burst;
                        rule->per = rows[i].per;
                }
                if (r >= 0)
                        r = rule_validate(rule, &e);
                if (r >= 0)
                        r = loader_set_rule_info(l, rule->slot, rule_order_key(rule), rule->action, 0);
                if (r >= 0)
                        r = loader_set_rate_limit(l, rule->slot, rule->id, rule->rate, rule->burst, rule->per);
                if (r < 0)
                        log_error("Bench rule %zu: %s: %s", i, strna(e.field), e.reason);
        }
        if (r >= 0)
                r = classifier_build(rules, n, PF_ACTION_PASS, NULL, NULL, 0, &c);
        if (r >= 0) {
                loader_set_classifier(l, c);
                r = loader_commit(l);
        }
        for (size_t i = 0; i < n; i++)
                rule_free(rules[i]);
        return r < 0 ? r : 0;
}

static int drain(void *ctx, void *data, size_t size) {
        (*(uint64_t *) ctx)++;
        return 0;
}

/* Every drop an event: runs short enough for the ring (256 KiB) to take them all, drained between runs. */
static int measure_every_event(Loader *l, const struct packet *pkt, unsigned rounds, struct measurement *ret) {
        uint64_t seen = 0;
        struct ring_buffer *ring = ring_buffer__new(loader_drop_events_fd(l), drain, &seen, NULL);
        double sum = 0;
        const uint32_t repeat = 2000;
        int r = 0;

        if (!ring)
                return negative_errno();
        (void) ring_buffer__consume(ring);
        seen = 0;
        for (unsigned i = 0; i < rounds * 10 && r >= 0; i++) {
                struct xdp_md ctx = { .data_end = pkt->len, .ingress_ifindex = 1 };
                LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt->data, .data_size_in = pkt->len,
                            .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);

                r = bpf_prog_test_run_opts(loader_prog_fd(l), &opts);
                if (r < 0)
                        r = negative_errno();
                else if (opts.retval != XDP_DROP)
                        r = -EBADMSG;
                sum += opts.duration;
                (void) ring_buffer__consume(ring);
        }
        ring_buffer__free(ring);
        if (r < 0)
                return r;
        if (seen != (uint64_t) rounds * 10 * repeat)
                return log_error_errno(-EBADMSG, "Expected an event for each of %u drops, got %" PRIu64 ".",
                                       rounds * 10 * repeat, seen);
        *ret = (struct measurement) { .ns = sum / (rounds * 10), .repeat = repeat };
        return 0;
}

int bench_rate_events(bool quick, double ret_ns[static BENCH_RATE_EVENTS_ROWS]) {
        _cleanup_(loader_freep) Loader *l = NULL;
        unsigned rounds = quick ? 3 : 9;
        uint32_t repeat = quick ? 100000 : 2000000;
        struct measurement m[_ROW_MAX] = {};
        int r;

        r = loader_new(NULL, &l);
        if (r < 0)
                return log_error_errno(r, "Failed to load the program: %m");
        r = add_rules(l);
        if (r < 0)
                return log_error_errno(r, "Failed to add the rate-limit rules: %m");

        for (size_t i = 0; i < _ROW_MAX; i++) {
                struct packet pkt;

                r = frame(rows[i].port, &pkt);
                if (r < 0)
                        return r;
                r = loader_set_drop_event_budget(l, i == ROW_DROP_EXHAUSTED ? PF_DROP_EVENT_BUDGET :
                                                    i == ROW_DROP_EVENTS ? UINT32_MAX : 0);
                if (r < 0)
                        return r;
                if (i == ROW_DROP_EVENTS)
                        r = measure_every_event(l, &pkt, rounds, &m[i]);
                else
                        r = measure_hot(loader_prog_fd(l), &pkt, repeat, rounds, rows[i].verdict, &m[i]);
                if (r < 0)
                        return log_error_errno(r, "Failed to measure '%s': %m", rows[i].name);
        }

        printf("\nRate limits and drop events (hot, one CPU, ns per packet; issue 8):\n");
        printf("  %-32s %8s %14s\n", "path", "ns", "extra");
        for (size_t i = 0; i < _ROW_MAX; i++) {
                enum row reference = i < ROW_DROP_OFF ? ROW_PASS : ROW_DROP_OFF;

                printf("  %-32s %8.1f %+8.1f vs %s\n", rows[i].name, m[i].ns, m[i].ns - m[reference].ns,
                       reference == ROW_PASS ? "pass rule" : "drop rule, events off");
                ret_ns[i] = m[i].ns;
        }
        return 0;
}
