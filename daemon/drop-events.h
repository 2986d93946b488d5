/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Drop events: reads the XDP program's ring buffer of sampled drops
 * (struct pf_drop_event), aggregates them by flow (interface, source,
 * destination, protocol, port, rule, reason) and hands out reports at a
 * bounded rate: at most signals_per_second reports in any one second, each
 * flow at most once a second, the largest counts first; a report's count
 * sums every drop it stands for. Knows nothing of D-Bus: the handler does.
 *
 * Memory is bounded: at most DROP_FLOWS_MAX flows wait; past that, drops
 * are summed into summary reports per interface, rule and reason, with no
 * addresses (at most DROP_SUMMARIES_MAX of those).
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "packetfilter.h"

#define DROP_FLOWS_MAX 4096u
#define DROP_SUMMARIES_MAX 256u
#define DROP_SIGNALS_PER_SECOND_DEFAULT 20u
#define DROP_SIGNALS_PER_SECOND_MAX 1000u

struct drop_report {
        uint64_t time_usec;             /* CLOCK_REALTIME µs of the last drop it stands for */
        uint32_t ifindex;
        uint8_t family;                 /* enum pf_family_index */
        bool has_addresses;             /* false: a summary, or a frame that was not IP */
        uint8_t source[16], destination[16];
        bool has_protocol;
        uint8_t protocol;
        bool has_port;
        uint16_t port;                  /* destination port or ICMP type */
        uint32_t rule_id;               /* 0: the default action */
        enum pf_drop_reason reason;
        uint64_t count;                 /* drops this report stands for */
};

typedef void (*drop_report_handler_t)(const struct drop_report *r, void *userdata);

typedef struct DropEvents DropEvents;

/* Reads ring_fd (the loader's pf_drop_events) from the event loop. signals_per_second >= 1. */
int drop_events_new(sd_event *event, int ring_fd, unsigned signals_per_second, drop_report_handler_t handler,
                    void *userdata, DropEvents **ret);
DropEvents *drop_events_free(DropEvents *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(DropEvents *, drop_events_free);

void drop_events_set_rate(DropEvents *d, unsigned signals_per_second);

/* For tests: feeds one event as if read from the ring buffer, and flushes at a given time. */
void drop_events_feed(DropEvents *d, const struct pf_drop_event *e);
void drop_events_flush(DropEvents *d, uint64_t now_usec);
size_t drop_events_pending(DropEvents *d);
