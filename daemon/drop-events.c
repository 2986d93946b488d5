/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "drop-events.h"
#include "log.h"

#define USEC_PER_SEC 1000000ULL
#define FLUSH_INTERVAL_USEC (100 * 1000ULL)     /* a new flow is reported within this */
#define FLOW_REPORT_INTERVAL_USEC USEC_PER_SEC  /* a flow is reported at most this often */
#define FLOW_IDLE_USEC (5 * USEC_PER_SEC)       /* a reported flow without drops is forgotten after this */
#define HASH_SLOTS 16384u                       /* a power of two, at least twice the flows: at most half full */

/* What makes two drops "similar": every field of the report but the count and time. */
struct flow_key {
        uint32_t ifindex;
        uint32_t rule_id;
        uint8_t family, protocol, has_addresses, has_l4;
        uint16_t port;
        uint8_t reason;
        uint8_t summary;
        uint8_t src[16], dst[16];
};

struct flow {
        struct flow_key key;
        uint64_t count;                 /* drops since it was last reported */
        uint64_t last_drop_ns;          /* CLOCK_MONOTONIC, from the program */
        uint64_t last_report_usec;      /* CLOCK_MONOTONIC; 0 = never */
};

struct DropEvents {
        sd_event *event;
        struct ring_buffer *ring;
        sd_event_source *io, *timer;
        drop_report_handler_t handler;
        void *userdata;

        struct flow *flows;             /* [DROP_FLOWS_MAX + DROP_SUMMARIES_MAX] */
        size_t n_flows, n_summaries;
        uint32_t *hash;                 /* [HASH_SLOTS]: index + 1 into flows, 0 = empty */

        unsigned rate;                  /* reports per second, at most */
        uint64_t *sent;                 /* [DROP_SIGNALS_PER_SECOND_MAX]: times of the last reports, a ring */
        size_t n_sent, sent_head;
};

static uint64_t now_usec(clockid_t clock) {
        struct timespec ts;

        (void) clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000ULL;
}

static uint32_t flow_key_hash(const struct flow_key *k) {
        const uint8_t *b = (const uint8_t *) k;
        uint32_t h = 2166136261u;       /* FNV-1a */

        for (size_t i = 0; i < sizeof(*k); i++)
                h = (h ^ b[i]) * 16777619u;
        return h;
}

static struct flow *flow_find(DropEvents *d, const struct flow_key *k, uint32_t *ret_slot) {
        uint32_t i = flow_key_hash(k) & (HASH_SLOTS - 1);

        for (;; i = (i + 1) & (HASH_SLOTS - 1)) {
                uint32_t v = d->hash[i];

                if (v == 0) {
                        *ret_slot = i;
                        return NULL;
                }
                if (memcmp(&d->flows[v - 1].key, k, sizeof(*k)) == 0)
                        return &d->flows[v - 1];
        }
}

static void rehash(DropEvents *d) {
        memset(d->hash, 0, HASH_SLOTS * sizeof(uint32_t));
        for (size_t i = 0; i < d->n_flows; i++) {
                uint32_t slot;

                (void) flow_find(d, &d->flows[i].key, &slot);
                d->hash[slot] = (uint32_t) i + 1;
        }
}

static void drop_events_arm(DropEvents *d, uint64_t when_usec) {
        if (!d->timer)
                return;
        (void) sd_event_source_set_time(d->timer, when_usec);
        (void) sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
}

/* Something waits: make sure a flush comes within FLUSH_INTERVAL_USEC. */
static void drop_events_soon(DropEvents *d) {
        uint64_t soon = now_usec(CLOCK_MONOTONIC) + FLUSH_INTERVAL_USEC, when = 0;
        int enabled = SD_EVENT_OFF;

        if (!d->timer)
                return;
        (void) sd_event_source_get_enabled(d->timer, &enabled);
        (void) sd_event_source_get_time(d->timer, &when);
        if (enabled == SD_EVENT_OFF || when > soon)
                drop_events_arm(d, soon);
}

void drop_events_feed(DropEvents *d, const struct pf_drop_event *e) {
        struct flow_key k = {
                .ifindex = e->ifindex,
                .rule_id = e->rule_id,
                .reason = e->reason < _PF_DROP_REASON_MAX ? e->reason : PF_DROP_DEFAULT,
        };
        static const uint8_t zero[16] = {};
        struct flow *f;
        uint32_t slot;

        /* Addresses when there are some: never for non-IP frames, and a frame cut before its
         * IP header (malformed) has none either. */
        if (e->reason != PF_DROP_NON_IP &&
            !(e->reason == PF_DROP_MALFORMED && memcmp(e->src, zero, 16) == 0 && memcmp(e->dst, zero, 16) == 0)) {
                k.has_addresses = 1;
                k.family = e->family & 1;
                k.protocol = e->protocol;
                k.has_l4 = e->has_l4;
                k.port = e->has_l4 ? e->port : 0;
                memcpy(k.src, e->src, k.family == PF_FAMILY_V4 ? 4 : 16);
                memcpy(k.dst, e->dst, k.family == PF_FAMILY_V4 ? 4 : 16);
        }

        f = flow_find(d, &k, &slot);
        if (!f && d->n_flows - d->n_summaries >= DROP_FLOWS_MAX) {
                /* Too many flows wait: sum this one into its interface's and rule's summary. */
                k = (struct flow_key) {
                        .ifindex = k.ifindex, .rule_id = k.rule_id, .reason = k.reason, .summary = 1,
                };
                f = flow_find(d, &k, &slot);
                for (size_t i = d->n_flows; !f && d->n_summaries >= DROP_SUMMARIES_MAX && i > 0; i--)
                        if (d->flows[i - 1].key.summary)
                                f = &d->flows[i - 1];   /* the last summary takes the rest */
        }
        if (!f) {
                f = &d->flows[d->n_flows];
                *f = (struct flow) { .key = k };
                d->hash[slot] = (uint32_t) ++d->n_flows;
                d->n_summaries += k.summary;
        }
        f->count += e->count;
        if (e->time_ns > f->last_drop_ns)
                f->last_drop_ns = e->time_ns;
        drop_events_soon(d);
}

static int on_ring_event(void *ctx, void *data, size_t size) {
        DropEvents *d = ctx;
        struct pf_drop_event e;

        if (size < sizeof(e))
                return 0;
        memcpy(&e, data, sizeof(e));
        drop_events_feed(d, &e);
        return 0;
}

/* May one more report go out now without passing `rate` in any one second? */
static bool window_allows(DropEvents *d, uint64_t now) {
        if (d->n_sent < d->rate)
                return true;
        return d->sent[d->sent_head] + USEC_PER_SEC <= now;
}

static void window_record(DropEvents *d, uint64_t now) {
        if (d->n_sent < d->rate) {
                d->sent[(d->sent_head + d->n_sent) % d->rate] = now;
                d->n_sent++;
                return;
        }
        d->sent[d->sent_head] = now;
        d->sent_head = (d->sent_head + 1) % d->rate;
}

static void report(DropEvents *d, const struct flow *f, uint64_t realtime_minus_mono_usec) {
        struct drop_report r = {
                .time_usec = f->last_drop_ns / 1000ULL + realtime_minus_mono_usec,
                .ifindex = f->key.ifindex,
                .family = f->key.family,
                .has_addresses = f->key.has_addresses && !f->key.summary,
                .has_protocol = f->key.has_addresses && !f->key.summary,
                .protocol = f->key.protocol,
                .has_port = f->key.has_l4 && !f->key.summary,
                .port = f->key.port,
                .rule_id = f->key.rule_id,
                .reason = f->key.reason,
                .count = f->count,
        };

        memcpy(r.source, f->key.src, 16);
        memcpy(r.destination, f->key.dst, 16);
        if (d->handler)
                d->handler(&r, d->userdata);
}

static int compare_count_desc(const void *a, const void *b) {
        const struct flow *x = *(const struct flow *const *) a, *y = *(const struct flow *const *) b;

        return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

size_t drop_events_pending(DropEvents *d) {
        size_t n = 0;

        for (size_t i = 0; i < d->n_flows; i++)
                n += d->flows[i].count > 0;
        return n;
}

void drop_events_flush(DropEvents *d, uint64_t now) {
        _cleanup_free_ struct flow **due = NULL;
        uint64_t offset = now_usec(CLOCK_REALTIME) - now_usec(CLOCK_MONOTONIC);
        size_t n_due = 0, kept = 0, n_summaries = 0;

        due = calloc(d->n_flows + 1, sizeof(struct flow *));
        if (!due) {
                log_oom();
                return;
        }
        for (size_t i = 0; i < d->n_flows; i++) {
                struct flow *f = &d->flows[i];

                if (f->count > 0 && (f->last_report_usec == 0 || f->last_report_usec + FLOW_REPORT_INTERVAL_USEC <= now))
                        due[n_due++] = f;
        }
        qsort(due, n_due, sizeof(struct flow *), compare_count_desc);
        for (size_t i = 0; i < n_due && window_allows(d, now); i++) {
                report(d, due[i], offset);
                window_record(d, now);
                due[i]->count = 0;
                due[i]->last_report_usec = now;
        }

        /* Forget flows that were reported and have been quiet since. */
        for (size_t i = 0; i < d->n_flows; i++) {
                struct flow *f = &d->flows[i];

                if (f->count == 0 && f->last_report_usec + FLOW_IDLE_USEC <= now)
                        continue;
                n_summaries += f->key.summary;
                d->flows[kept++] = *f;
        }
        if (kept != d->n_flows) {
                d->n_flows = kept;
                d->n_summaries = n_summaries;
                rehash(d);
        }
        if (drop_events_pending(d) > 0)
                drop_events_arm(d, now + FLUSH_INTERVAL_USEC);
        else if (d->n_flows > 0)
                drop_events_arm(d, now + FLOW_IDLE_USEC);       /* to forget the quiet ones */
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        drop_events_flush(userdata, now_usec(CLOCK_MONOTONIC));
        return 0;
}

static int on_ring_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        DropEvents *d = userdata;
        int r;

        r = ring_buffer__consume(d->ring);
        if (r < 0)
                log_warning_errno(r, "Failed to read drop events: %m");
        return 0;
}

void drop_events_set_rate(DropEvents *d, unsigned signals_per_second) {
        if (signals_per_second < 1)
                signals_per_second = 1;
        if (signals_per_second > DROP_SIGNALS_PER_SECOND_MAX)
                signals_per_second = DROP_SIGNALS_PER_SECOND_MAX;
        if (d->rate == signals_per_second)
                return;
        /* A new window: the reports of the last second still count, spread over the new ring. */
        d->rate = signals_per_second;
        d->n_sent = d->sent_head = 0;
        for (size_t i = 0; i < d->rate; i++)
                d->sent[d->n_sent++] = now_usec(CLOCK_MONOTONIC);
}

int drop_events_new(sd_event *event, int ring_fd, unsigned signals_per_second, drop_report_handler_t handler,
                    void *userdata, DropEvents **ret) {
        _cleanup_(drop_events_freep) DropEvents *d = NULL;
        int r;

        d = calloc(1, sizeof(DropEvents));
        if (!d)
                return -ENOMEM;
        d->handler = handler;
        d->userdata = userdata;
        d->flows = calloc(DROP_FLOWS_MAX + DROP_SUMMARIES_MAX, sizeof(struct flow));
        d->hash = calloc(HASH_SLOTS, sizeof(uint32_t));
        d->sent = calloc(DROP_SIGNALS_PER_SECOND_MAX, sizeof(uint64_t));
        if (!d->flows || !d->hash || !d->sent)
                return -ENOMEM;
        d->rate = signals_per_second < 1 ? 1 :
                  signals_per_second > DROP_SIGNALS_PER_SECOND_MAX ? DROP_SIGNALS_PER_SECOND_MAX : signals_per_second;

        if (event) {
                d->event = sd_event_ref(event);
                r = sd_event_add_time(event, &d->timer, CLOCK_MONOTONIC, 0, 10 * 1000, on_timer, d);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_enabled(d->timer, SD_EVENT_OFF);
                (void) sd_event_source_set_description(d->timer, "drop-events-flush");
        }
        if (ring_fd >= 0) {
                d->ring = ring_buffer__new(ring_fd, on_ring_event, d, NULL);
                if (!d->ring)
                        return negative_errno();
                r = sd_event_add_io(event, &d->io, ring_buffer__epoll_fd(d->ring), EPOLLIN, on_ring_io, d);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_description(d->io, "drop-events-ring");
                /* What waited in the ring while no daemon ran is old news: skip it. */
                (void) ring_buffer__consume(d->ring);
                d->n_flows = d->n_summaries = 0;
                memset(d->hash, 0, HASH_SLOTS * sizeof(uint32_t));
        }

        *ret = TAKE_PTR(d);
        return 0;
}

DropEvents *drop_events_free(DropEvents *d) {
        if (!d)
                return NULL;
        sd_event_source_disable_unref(d->io);
        sd_event_source_disable_unref(d->timer);
        ring_buffer__free(d->ring);
        sd_event_unref(d->event);
        free(d->flows);
        free(d->hash);
        free(d->sent);
        free(d);
        return NULL;
}

_Static_assert((HASH_SLOTS & (HASH_SLOTS - 1)) == 0, "HASH_SLOTS must be a power of two");
_Static_assert(HASH_SLOTS >= 2 * (DROP_FLOWS_MAX + DROP_SUMMARIES_MAX), "HASH_SLOTS must be at least twice the flows");
