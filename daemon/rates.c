/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rates.h"

struct counter {
        char name[RATES_NAME_MAX];
        uint64_t value, time_usec;      /* the last sample */
        uint64_t per_second;
};

struct Rates {
        struct counter *counters;
        size_t n, allocated;
};

int rates_new(Rates **ret) {
        Rates *r = calloc(1, sizeof(Rates));

        if (!r)
                return -ENOMEM;
        *ret = r;
        return 0;
}

Rates *rates_free(Rates *r) {
        if (!r)
                return NULL;
        free(r->counters);
        free(r);
        return NULL;
}

static struct counter *rates_find(Rates *r, const char *name) {
        for (size_t i = 0; i < r->n; i++)
                if (strncmp(r->counters[i].name, name, RATES_NAME_MAX) == 0)
                        return &r->counters[i];
        return NULL;
}

int rates_sample(Rates *r, const char *name, uint64_t value, uint64_t now_usec) {
        struct counter *c;

        if (!r || !name || strlen(name) >= RATES_NAME_MAX)
                return -EINVAL;
        c = rates_find(r, name);
        if (!c) {
                if (r->n == r->allocated) {
                        size_t want = r->allocated ? r->allocated * 2 : 16;
                        struct counter *cs = reallocarray(r->counters, want, sizeof(struct counter));

                        if (!cs)
                                return -ENOMEM;
                        r->counters = cs;
                        r->allocated = want;
                }
                c = &r->counters[r->n++];
                *c = (struct counter) { .value = value, .time_usec = now_usec };
                snprintf(c->name, sizeof(c->name), "%s", name);
                return 0;
        }
        if (now_usec <= c->time_usec)
                return 0;
        if (value < c->value)
                c->per_second = 0;      /* reset meanwhile */
        else
                c->per_second = ((value - c->value) * 1000000ULL + (now_usec - c->time_usec) / 2) /
                                (now_usec - c->time_usec);
        c->value = value;
        c->time_usec = now_usec;
        return 0;
}

uint64_t rates_get(Rates *r, const char *name) {
        struct counter *c = r && name ? rates_find(r, name) : NULL;

        return c ? c->per_second : 0;
}

void rates_forget_older(Rates *r, uint64_t before_usec) {
        size_t kept = 0;

        for (size_t i = 0; i < r->n; i++)
                if (r->counters[i].time_usec >= before_usec)
                        r->counters[kept++] = r->counters[i];
        r->n = kept;
}
