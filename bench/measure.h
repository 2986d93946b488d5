/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Timing with bpf_prog_test_run_opts, three ways:
 *  - hot: one frame, repeat=N in one test run; the kernel times the loop
 *    and reports the mean; the median of several such runs is kept;
 *  - cold, one frame per run: K frames that differ in their source
 *    address, one test run with repeat=1 each (the kernel's own timer
 *    around one program run), trimmed mean over all of them;
 *  - cold, in-run: the driver program writes a new source (from a list of
 *    1M) into the frame before each repetition and tail-calls the program
 *    under test; one test run with repeat=N; median of several runs. The
 *    driver's cursor carries on from run to run, so no run starts over.
 * Cold figures are read against the floor measured the same way. Every
 * verdict is checked: a wrong one fails the measurement.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "peers.h"
#include "prefixgen.h"

struct measurement {
        double ns;                      /* per packet */
        double spread;                  /* (max - min) / median over the rounds, hot and in-run only */
        uint32_t repeat;                /* repetitions per test run (1 for per-run) */
};

/* Slow cases get fewer repetitions, so that one test run lasts about this long, but never fewer than
 * MEASURE_MIN_REPEAT (hot) or MEASURE_MIN_IN_RUN_REPEAT (in-run). */
#define MEASURE_RUN_NS                  200000000.0
#define MEASURE_MIN_REPEAT              100000u
#define MEASURE_MIN_IN_RUN_REPEAT       65536u

int measure_hot(int prog_fd, const struct packet *pkt, uint32_t repeat, unsigned rounds, uint32_t expect,
                struct measurement *ret);

/* The frame is copied; addrs are sources in host order, each used once, in order. */
int measure_cold_per_run(int prog_fd, const struct packet *pkt, size_t saddr_offset, const uint32_t *addrs,
                         size_t n, uint32_t expect, struct measurement *ret);

/* The driver must already hold the sources (driver_set_sources). Only the last verdict can be
 * checked; the per-run method checks them all. */
int measure_cold_in_run(Driver *d, int prog_fd, const struct packet *pkt, uint32_t repeat, unsigned rounds,
                        uint32_t expect, struct measurement *ret);

/*
 * The per-run method for mixed IPv4/IPv6 sources (the sets case): each source goes into the
 * IPv4 or the IPv6 frame (frame4's source at saddr_offset, frame6's at its l3_off + 8).
 */
int measure_cold_per_run_mixed(int prog_fd, const struct packet *frame4, size_t saddr_offset,
                               const struct packet *frame6, const struct pg_address *addrs, size_t n,
                               uint32_t expect, struct measurement *ret);

const char *xdp_action_name(uint32_t action);
