/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "log.h"
#include "measure.h"
#include "workload.h"

const char *xdp_action_name(uint32_t action) {
        static const char *const names[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT" };

        return action < ELEMENTSOF(names) ? names[action] : "XDP_?";
}

static int compare_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return (x > y) - (x < y);
}

static int test_run(int prog_fd, const void *data, size_t len, uint32_t repeat, uint32_t *ret_retval,
                    uint32_t *ret_duration) {
        uint8_t out[PACKET_MAX + 256];
        LIBBPF_OPTS(bpf_test_run_opts, opts,
                    .data_in = data,
                    .data_size_in = (uint32_t) len,
                    .data_out = out,
                    .data_size_out = sizeof(out),
                    .repeat = repeat);

        if (bpf_prog_test_run_opts(prog_fd, &opts) < 0)
                return negative_errno();
        *ret_retval = opts.retval;
        *ret_duration = opts.duration;
        return 0;
}

/* Repetitions for one run of about MEASURE_RUN_NS, given a first estimate of the cost. */
static uint32_t repeat_for(uint32_t ns_estimate, uint32_t lowest, uint32_t highest) {
        double want = MEASURE_RUN_NS / (ns_estimate > 0 ? ns_estimate : 1);

        if (lowest > highest)
                lowest = highest;
        if (want < lowest)
                return lowest;
        if (want > highest)
                return highest;
        return (uint32_t) want;
}

static void rounds_summarize(double *v, unsigned n, struct measurement *ret) {
        qsort(v, n, sizeof(*v), compare_double);
        ret->ns = v[n / 2];
        ret->spread = ret->ns > 0 ? (v[n - 1] - v[0]) / ret->ns : 0;
}

int measure_hot(int prog_fd, const struct packet *pkt, uint32_t repeat, unsigned rounds, uint32_t expect,
                struct measurement *ret) {
        double v[32];
        uint32_t retval, duration;
        int r;

        if (rounds == 0 || rounds > ELEMENTSOF(v))
                return -EINVAL;
        /* One short warm-up run: code, maps and the frame into the caches, and a first estimate. */
        r = test_run(prog_fd, pkt->data, pkt->len, repeat / 10 ?: 1, &retval, &duration);
        if (r < 0)
                return log_error_errno(r, "bpf_prog_test_run_opts failed: %m");
        repeat = repeat_for(duration, MEASURE_MIN_REPEAT, repeat);
        for (unsigned i = 0; i < rounds; i++) {
                r = test_run(prog_fd, pkt->data, pkt->len, repeat, &retval, &duration);
                if (r < 0)
                        return log_error_errno(r, "bpf_prog_test_run_opts failed: %m");
                if (retval != expect)
                        return log_error_errno(-EBADMSG, "Wrong verdict: %s, expected %s.",
                                               xdp_action_name(retval), xdp_action_name(expect));
                /* The kernel reports whole nanoseconds per repetition: fine at repeat >= 1e5. */
                v[i] = duration;
        }
        rounds_summarize(v, rounds, ret);
        ret->repeat = repeat;
        return 0;
}

int measure_cold_per_run(int prog_fd, const struct packet *pkt, size_t saddr_offset, const uint32_t *addrs,
                         size_t n, uint32_t expect, struct measurement *ret) {
        _cleanup_free_ double *v = NULL;
        struct packet frame = *pkt;
        size_t wrong = 0, kept;
        double sum = 0;
        int r;

        if (n < 100)
                return -EINVAL;
        v = calloc(n, sizeof(*v));
        if (!v)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                uint32_t retval, duration;

                bench_packet_set_source(&frame, saddr_offset, addrs[i]);
                r = test_run(prog_fd, frame.data, frame.len, 1, &retval, &duration);
                if (r < 0)
                        return log_error_errno(r, "bpf_prog_test_run_opts failed: %m");
                if (retval != expect && wrong++ == 0)
                        log_error("Wrong verdict for source %u.%u.%u.%u: %s, expected %s.",
                                  addrs[i] >> 24, (addrs[i] >> 16) & 0xff, (addrs[i] >> 8) & 0xff,
                                  addrs[i] & 0xff, xdp_action_name(retval), xdp_action_name(expect));
                v[i] = duration;
        }
        if (wrong > 0)
                return log_error_errno(-EBADMSG, "%zu of %zu verdicts were wrong.", wrong, n);

        /* Interrupts and preemption land in a few runs as microseconds: drop the top 1%. */
        qsort(v, n, sizeof(*v), compare_double);
        kept = n - n / 100;
        for (size_t i = 0; i < kept; i++)
                sum += v[i];
        ret->ns = sum / (double) kept;
        ret->spread = 0;
        ret->repeat = 1;
        return 0;
}

int measure_cold_per_run_mixed(int prog_fd, const struct packet *frame4, size_t saddr_offset,
                               const struct packet *frame6, const struct pg_address *addrs, size_t n,
                               uint32_t expect, struct measurement *ret) {
        _cleanup_free_ double *v = NULL;
        _cleanup_free_ struct packet *f = NULL;
        size_t wrong = 0, kept;
        double sum = 0;
        int r;

        if (n < 100)
                return -EINVAL;
        v = calloc(n, sizeof(*v));
        f = calloc(2, sizeof(*f));
        if (!v || !f)
                return -ENOMEM;
        f[0] = *frame4;
        f[1] = *frame6;

        for (size_t i = 0; i < n; i++) {
                struct packet *frame = &f[addrs[i].family == 6];
                uint32_t retval, duration;

                if (addrs[i].family == 6)
                        memcpy(frame->data + frame->l3_off + 8, addrs[i].addr, 16);
                else {
                        uint32_t be;

                        memcpy(&be, addrs[i].addr, 4);
                        bench_packet_set_source(frame, saddr_offset, ntohl(be));
                }
                r = test_run(prog_fd, frame->data, frame->len, 1, &retval, &duration);
                if (r < 0)
                        return log_error_errno(r, "bpf_prog_test_run_opts failed: %m");
                if (retval != expect && wrong++ == 0) {
                        char buf[PG_FORMAT_MAX];

                        log_error("Wrong verdict for source %s: %s, expected %s.", pg_format_address(&addrs[i], buf),
                                  xdp_action_name(retval), xdp_action_name(expect));
                }
                v[i] = duration;
        }
        if (wrong > 0)
                return log_error_errno(-EBADMSG, "%zu of %zu verdicts were wrong.", wrong, n);

        qsort(v, n, sizeof(*v), compare_double);
        kept = n - n / 100;
        for (size_t i = 0; i < kept; i++)
                sum += v[i];
        ret->ns = sum / (double) kept;
        ret->spread = 0;
        ret->repeat = 1;
        return 0;
}

int measure_cold_in_run(Driver *d, int prog_fd, const struct packet *pkt, uint32_t repeat, unsigned rounds,
                        uint32_t expect, struct measurement *ret) {
        double v[32];
        uint32_t retval, duration;
        int r;

        if (rounds == 0 || rounds > ELEMENTSOF(v))
                return -EINVAL;
        r = driver_set_target(d, prog_fd);
        if (r < 0)
                return r;
        /* A first estimate, which also takes the program's code into the caches. */
        r = test_run(driver_prog_fd(d), pkt->data, pkt->len, MEASURE_MIN_IN_RUN_REPEAT / 4, &retval, &duration);
        if (r < 0)
                return log_error_errno(r, "bpf_prog_test_run_opts failed: %m");
        repeat = repeat_for(duration, MEASURE_MIN_IN_RUN_REPEAT, repeat);
        for (unsigned i = 0; i < rounds; i++) {
                r = test_run(driver_prog_fd(d), pkt->data, pkt->len, repeat, &retval, &duration);
                if (r < 0)
                        return log_error_errno(r, "bpf_prog_test_run_opts failed: %m");
                if (retval != expect)
                        return log_error_errno(-EBADMSG, "Wrong verdict through the cold driver: %s, expected %s.",
                                               xdp_action_name(retval), xdp_action_name(expect));
                v[i] = duration;
        }
        rounds_summarize(v, rounds, ret);
        ret->repeat = repeat;
        return 0;
}
