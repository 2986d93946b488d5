/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Rates of growing counters: named figures sampled about once a second,
 * each with its change per second between its last two samples. Pure
 * bookkeeping: the caller samples (the manager's one-second timer) and
 * reads (GetStatistics).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define RATES_NAME_MAX 64

typedef struct Rates Rates;

int rates_new(Rates **ret);
Rates *rates_free(Rates *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Rates *, rates_free);

/* Records a sample of a counter at now_usec (CLOCK_MONOTONIC). A counter that went down
 * (reset) restarts: its rate is 0 until the next sample. */
int rates_sample(Rates *r, const char *name, uint64_t value, uint64_t now_usec);
/* The counter's change per second between its last two samples, rounded; 0 if unknown. */
uint64_t rates_get(Rates *r, const char *name);
/* Forgets counters not sampled since before_usec (interfaces detached). */
void rates_forget_older(Rates *r, uint64_t before_usec);
