/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Our XDP program, loaded and fed only through the daemon's own loader API
 * (loader.h), so that the benchmark measures exactly what the daemon runs:
 * block prefixes through loader_block_set(), classifier rules as Rule
 * objects compiled by classifier_build(), every change through loader_commit().
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "workload.h"

typedef struct Ours Ours;

int ours_new(Ours **ret);
Ours *ours_free(Ours *o);
DEFINE_TRIVIAL_CLEANUP_FUNC(Ours *, ours_free);
int ours_prog_fd(Ours *o);

struct ours_timing {
        double stage_s;                 /* building the change in user space (rule objects, classifier, block table) */
        double commit_s;                /* loader_commit(): both copies written, the switch, the grace period */
        /* What the classifier compiled to (rule changes only): the per-packet cost drivers. */
        unsigned n_classes;
        unsigned source_lengths;        /* IPv4 address intervals the program searches for the source field */
        unsigned destination_lengths;   /* ... and for the destination field */
};

/* Adds the block rules p[from..to) (block slot i = prefix i), then commits. */
int ours_add_prefixes(Ours *o, const struct bench_prefix *p, size_t from, size_t to, struct ours_timing *ret);
/* Replaces the classifier rules with rules[0..n) (in rule order), then commits. */
int ours_set_rules(Ours *o, const struct bench_rule *rules, size_t n, struct ours_timing *ret);

/* Makes the one set "bench" hold exactly p[0..n) and the one rule "drop source-set bench"
 * (through the set registry, as the daemon does), then commits. */
struct pg_prefix;
int ours_set_prefixes(Ours *o, const struct pg_prefix *p, size_t n, struct ours_timing *ret);

uint64_t ours_map_memory(Ours *o);
size_t ours_block_count(Ours *o);
