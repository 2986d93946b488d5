/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cost of rate-limit rules and drop events, in the real program (see rate-events.c). */
#pragma once

#include <stdbool.h>

#define BENCH_RATE_EVENTS_ROWS 7

/* Measures and prints the table; ret_ns gets each row's ns per packet. */
int bench_rate_events(bool quick, double ret_ns[static BENCH_RATE_EVENTS_ROWS]);
