/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The drop-event aggregation (daemon/drop-events.c) without a ring buffer or
 * an event loop: events are fed as the program would write them and flushed
 * at chosen times. Checks that similar drops become one report whose count
 * sums them, that no second ever carries more reports than the bound, that a
 * flow is reported at most once a second, that more flows than the table
 * holds end in summaries without losing a drop, and the rates of rates.c.
 */
#include <arpa/inet.h>
#include <string.h>

#include "drop-events.h"
#include "rates.h"
#include "test-util.h"

#define SEC 1000000ULL
#define MAX_REPORTS 100000

static struct drop_report reports[MAX_REPORTS];
static uint64_t report_times[MAX_REPORTS];
static size_t n_reports;
static uint64_t now;

static void on_report(const struct drop_report *r, void *userdata) {
        require(n_reports < MAX_REPORTS, "too many reports");
        report_times[n_reports] = now;
        reports[n_reports++] = *r;
}

static struct pf_drop_event event(uint32_t source, uint16_t port, uint32_t rule, uint32_t count) {
        struct pf_drop_event e = {
                .time_ns = 1000, .ifindex = 3, .rule_id = rule, .count = count, .frame_len = 60,
                .family = PF_FAMILY_V4, .protocol = 17, .port = port, .has_l4 = 1,
                .reason = rule ? PF_DROP_RULE : PF_DROP_DEFAULT,
        };
        uint32_t s = htonl(source), d = htonl(0xc0000201);

        memcpy(e.src, &s, 4);
        memcpy(e.dst, &d, 4);
        return e;
}

static uint64_t total_reported(void) {
        uint64_t t = 0;

        for (size_t i = 0; i < n_reports; i++)
                t += reports[i].count;
        return t;
}

/* No window of one second holds more than bound reports. */
static void check_bound(unsigned bound, const char *what) {
        for (size_t i = 0; i < n_reports; i++) {
                size_t inside = 0;

                for (size_t j = i; j < n_reports && report_times[j] < report_times[i] + SEC; j++)
                        inside++;
                if (!check(inside <= bound, "%s: %zu reports within a second from %zu", what, inside, i))
                        return;
        }
}

static void test_one_flow(void) {
        _cleanup_(drop_events_freep) DropEvents *d = NULL;
        struct pf_drop_event e = event(0xc0000202, 53, 7, 1);

        n_reports = 0;
        require(drop_events_new(NULL, -1, 20, on_report, NULL, &d) == 0, "new");
        for (int i = 0; i < 25; i++)
                drop_events_feed(d, &e);
        e.count = 75;                   /* one event standing for 75 drops */
        drop_events_feed(d, &e);
        check(drop_events_pending(d) == 1, "pending %zu", drop_events_pending(d));
        now = 10 * SEC;
        drop_events_flush(d, now);
        require(n_reports == 1, "%zu reports", n_reports);
        check(reports[0].count == 100, "count %" PRIu64, reports[0].count);
        check(reports[0].rule_id == 7 && reports[0].ifindex == 3 && reports[0].has_addresses &&
              reports[0].has_port && reports[0].port == 53 && reports[0].protocol == 17 &&
              reports[0].reason == PF_DROP_RULE, "fields");
        check(memcmp(reports[0].source, e.src, 4) == 0 && memcmp(reports[0].destination, e.dst, 4) == 0, "addresses");

        /* More of the same flow: not again within the second, then once with the sum. */
        for (int i = 0; i < 10; i++)
                drop_events_feed(d, &e);
        now += SEC / 2;
        drop_events_flush(d, now);
        check(n_reports == 1, "reported again within a second");
        now += SEC / 2;
        drop_events_flush(d, now);
        check(n_reports == 2 && reports[1].count == 750, "second report: %zu, count %" PRIu64, n_reports,
              reports[1].count);

        /* A frame that was not IP: no addresses, no port. */
        e.reason = PF_DROP_NON_IP;
        drop_events_feed(d, &e);
        now += 2 * SEC;
        drop_events_flush(d, now);
        check(n_reports == 3 && !reports[2].has_addresses && !reports[2].has_port && !reports[2].has_protocol,
              "non-ip report");

        /* A malformed frame cut before its IP header: no addresses either; one with them keeps them. */
        {
                struct pf_drop_event cut = { .time_ns = 5, .ifindex = 3, .count = 1, .reason = PF_DROP_MALFORMED };
                struct pf_drop_event inner = event(0xc0000202, 0, 0, 1);

                inner.reason = PF_DROP_MALFORMED;
                inner.has_l4 = 0;
                drop_events_feed(d, &cut);
                drop_events_feed(d, &inner);
                now += 2 * SEC;
                drop_events_flush(d, now);
                check(n_reports == 5, "malformed reports: %zu", n_reports);
                for (size_t i = 3; i < n_reports; i++)
                        check(reports[i].reason == PF_DROP_MALFORMED && !reports[i].has_port &&
                              reports[i].has_addresses == (reports[i].source[0] == 192), "malformed report %zu", i);
        }

        /* Quiet flows are forgotten. */
        now += 10 * SEC;
        drop_events_flush(d, now);
        check(drop_events_pending(d) == 0, "pending after quiet");
}

static void test_rate_bound(void) {
        static const unsigned bounds[] = { 1, 5, 20, 1000 };

        for (size_t b = 0; b < ELEMENTSOF(bounds); b++) {
                _cleanup_(drop_events_freep) DropEvents *d = NULL;
                uint64_t fed = 0, seed = b;
                char what[32];

                snprintf(what, sizeof(what), "bound %u", bounds[b]);
                n_reports = 0;
                require(drop_events_new(NULL, -1, bounds[b], on_report, NULL, &d) == 0, "new");
                /* 10 s of a flood from 3000 flows, flushed every 100 ms as the timer does. */
                now = 100 * SEC;
                for (int tick = 0; tick < 100; tick++) {
                        for (int i = 0; i < 500; i++) {
                                struct pf_drop_event e = event(0x0a000000 + (uint32_t) (test_random(&seed) % 3000),
                                                               (uint16_t) (test_random(&seed) % 2), 1,
                                                               1 + (uint32_t) (test_random(&seed) % 3));

                                drop_events_feed(d, &e);
                                fed += e.count;
                        }
                        drop_events_flush(d, now);
                        now += SEC / 10;
                }
                check_bound(bounds[b], what);
                check(n_reports >= 10 * bounds[b] * 9 / 10 || bounds[b] == 1000, "%s: only %zu reports", what,
                      n_reports);
                /* When the flood stops, what waits drains at the bound, and nothing is lost. */
                for (int tick = 0; tick < 100000 && drop_events_pending(d) > 0; tick++) {
                        drop_events_flush(d, now);
                        now += SEC / 10;
                }
                check(drop_events_pending(d) == 0, "%s: still pending", what);
                check(total_reported() == fed, "%s: reported %" PRIu64 " of %" PRIu64 " drops", what,
                      total_reported(), fed);
                check_bound(bounds[b], what);
        }
}

static void test_overflow(void) {
        _cleanup_(drop_events_freep) DropEvents *d = NULL;
        uint64_t fed = 0;
        size_t summaries = 0;

        n_reports = 0;
        require(drop_events_new(NULL, -1, 1000, on_report, NULL, &d) == 0, "new");
        /* Far more flows than the table holds, over two rules. */
        for (uint32_t i = 0; i < 3 * DROP_FLOWS_MAX; i++) {
                struct pf_drop_event e = event(0x0a000000 + i, 80, 1 + i % 2, 1);

                drop_events_feed(d, &e);
                fed++;
        }
        check(drop_events_pending(d) <= DROP_FLOWS_MAX + DROP_SUMMARIES_MAX, "pending %zu", drop_events_pending(d));
        now = 1000 * SEC;
        for (int tick = 0; tick < 1000 && drop_events_pending(d) > 0; tick++) {
                drop_events_flush(d, now);
                now += SEC;
        }
        check(total_reported() == fed, "reported %" PRIu64 " of %" PRIu64, total_reported(), fed);
        for (size_t i = 0; i < n_reports; i++)
                if (!reports[i].has_addresses) {
                        summaries++;
                        check(reports[i].rule_id == 1 || reports[i].rule_id == 2, "summary of rule %u",
                              reports[i].rule_id);
                }
        check(summaries == 2, "%zu summaries (one per rule)", summaries);
}

static void test_rates(void) {
        _cleanup_(rates_freep) Rates *r = NULL;

        require(rates_new(&r) == 0, "new");
        check(rates_get(r, "packets") == 0, "unknown");
        require(rates_sample(r, "packets", 1000, 5 * SEC) == 0, "sample");
        check(rates_get(r, "packets") == 0, "one sample");
        require(rates_sample(r, "packets", 3000, 7 * SEC) == 0, "sample");
        check(rates_get(r, "packets") == 1000, "rate %" PRIu64, rates_get(r, "packets"));
        require(rates_sample(r, "packets", 3500, 7 * SEC + SEC / 2) == 0, "sample");
        check(rates_get(r, "packets") == 1000, "half a second: %" PRIu64, rates_get(r, "packets"));
        require(rates_sample(r, "packets", 10, 8 * SEC) == 0, "sample");
        check(rates_get(r, "packets") == 0, "after a reset: %" PRIu64, rates_get(r, "packets"));
        require(rates_sample(r, "eth0:dropped", 0, 8 * SEC) == 0, "sample");
        rates_forget_older(r, 8 * SEC);
        check(rates_sample(r, "x", 0, 0) == 0, "another");
        rates_forget_older(r, 9 * SEC);
        require(rates_sample(r, "packets", 5, 10 * SEC) == 0, "sample");
        check(rates_get(r, "packets") == 0, "forgotten, then one sample");
        check(rates_sample(r, "a-name-longer-than-sixty-four-bytes-is-refused-because-it-would-be-cut", 1, 0) ==
              -EINVAL, "long name");
}

int main(void) {
        test_one_flow();
        test_rate_bound();
        test_overflow();
        test_rates();
        return test_exit_status("test-drop-events");
}
