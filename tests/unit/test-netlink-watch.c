/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of daemon/netlink-watch.c against the real kernel, in a network
 * namespace of the test's own (unshare(CLONE_NEWNET): the host's interfaces
 * are never seen or touched, and everything vanishes with the process).
 *
 * The test keeps a model of the links (index -> name) fed only by the
 * watcher's events, and checks it against the kernel's list: after creation,
 * rename, deletion, re-creation under the same name, and after a burst that
 * overflows the socket's buffer (ENOBUFS), which the watcher must repair by
 * a dump. Link changes that are not about existence or name (up, MTU) must
 * not be reported.
 */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "netlink-watch.h"
#include "test-util.h"

#define MAX_LINKS 512
#define BURST_PAIRS 40

struct model_link {
        int ifindex;
        char name[IF_NAMESIZE];
};

static struct model_link model[MAX_LINKS];
static size_t n_model;
static unsigned n_events;
static struct {
        enum link_event ev;
        int ifindex;
        char name[IF_NAMESIZE];
        char old_name[IF_NAMESIZE];
} last_events[16];                      /* the events since events_reset() (first 16) */

static struct model_link *model_find(int ifindex) {
        for (size_t i = 0; i < n_model; i++)
                if (model[i].ifindex == ifindex)
                        return &model[i];
        return NULL;
}

static void model_add(int ifindex, const char *name) {
        require(n_model < MAX_LINKS, "model full");
        model[n_model].ifindex = ifindex;
        snprintf(model[n_model].name, sizeof(model[n_model].name), "%s", name);
        n_model++;
}

static void on_link(void *userdata, enum link_event ev, int ifindex, const char *ifname, const char *old_ifname) {
        struct model_link *l = model_find(ifindex);

        if (n_events < ELEMENTSOF(last_events)) {
                last_events[n_events].ev = ev;
                last_events[n_events].ifindex = ifindex;
                snprintf(last_events[n_events].name, IF_NAMESIZE, "%s", ifname);
                snprintf(last_events[n_events].old_name, IF_NAMESIZE, "%s", old_ifname ?: "");
        }
        n_events++;

        switch (ev) {
        case LINK_NEW:
                check(!l, "LINK_NEW for index %d (%s), which the model already holds as %s", ifindex, ifname,
                      l ? l->name : "");
                check(!old_ifname, "LINK_NEW with an old name");
                if (!l)
                        model_add(ifindex, ifname);
                break;
        case LINK_RENAMED:
                check(l, "LINK_RENAMED for unknown index %d (%s)", ifindex, ifname);
                check(old_ifname && l && streq(l->name, old_ifname), "LINK_RENAMED %d: old name %s, model has %s",
                      ifindex, strna(old_ifname), l ? l->name : "nothing");
                check(old_ifname && !streq(old_ifname, ifname), "LINK_RENAMED %d to the same name %s", ifindex, ifname);
                if (l)
                        snprintf(l->name, sizeof(l->name), "%s", ifname);
                break;
        case LINK_DEL:
                check(l, "LINK_DEL for unknown index %d (%s)", ifindex, ifname);
                check(!old_ifname, "LINK_DEL with an old name");
                if (l)
                        *l = model[--n_model];
                break;
        default:
                check(false, "unknown event %d", ev);
        }
}

static void events_reset(void) {
        n_events = 0;
}

static void model_from_kernel(void) {
        struct if_nameindex *ni = if_nameindex();

        require(ni, "if_nameindex: %m");
        n_model = 0;
        for (struct if_nameindex *i = ni; i->if_index != 0; i++)
                model_add((int) i->if_index, i->if_name);
        if_freenameindex(ni);
}

/* Does the model equal the kernel's list? Says how not when asked. */
static bool model_matches_kernel(bool explain) {
        struct if_nameindex *ni = if_nameindex();
        size_t n_kernel = 0;
        bool same = true;

        if (!ni)
                return false;
        for (struct if_nameindex *i = ni; i->if_index != 0; i++) {
                struct model_link *l = model_find((int) i->if_index);

                n_kernel++;
                if (!l || !streq(l->name, i->if_name)) {
                        if (explain)
                                fprintf(stderr, "  kernel has %u %s, model has %s\n", i->if_index, i->if_name,
                                        l ? l->name : "nothing");
                        same = false;
                }
        }
        if (n_kernel != n_model) {
                if (explain) {
                        fprintf(stderr, "  kernel has %zu links, model %zu:", n_kernel, n_model);
                        for (size_t i = 0; i < n_model; i++)
                                if (if_nametoindex(model[i].name) != (unsigned) model[i].ifindex)
                                        fprintf(stderr, " %d %s", model[i].ifindex, model[i].name);
                        fputc('\n', stderr);
                }
                same = false;
        }
        if_freenameindex(ni);
        return same;
}

_printf_(1, 2) static void ip(const char *format, ...) {
        char command[512];
        va_list ap;
        int r;

        va_start(ap, format);
        vsnprintf(command, sizeof(command), format, ap);
        va_end(ap);
        r = system(command);
        require(r == 0, "'%s' failed (%d)", command, r);
}

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Runs the loop until cond() holds (true) or timeout_ms pass (false). NULL cond: just run that long. */
static bool run_until(sd_event *e, bool (*cond)(void), unsigned timeout_ms) {
        uint64_t deadline = now_ms() + timeout_ms;

        while (!(cond && cond())) {
                uint64_t now = now_ms();
                int r;

                if (now >= deadline)
                        return cond ? cond() : true;
                r = sd_event_run(e, (deadline - now) * 1000);
                require(r >= 0, "sd_event_run: %s", strerror(-r));
        }
        return true;
}

static unsigned wanted_events;
static bool enough_events(void) {
        return n_events >= wanted_events;
}

static bool model_in_sync(void) {
        return model_matches_kernel(false);
}

static int index_of(const char *name) {
        int i = (int) if_nametoindex(name);

        require(i > 0, "no interface %s", name);
        return i;
}

static void test_quiet_start(sd_event *e, NetlinkWatch *w) {
        const char *name;

        /* Links that existed before the watcher are known, not reported. */
        check(run_until(e, NULL, 200) && n_events == 0, "%u events for links that were already there", n_events);
        check(netlink_watch_get_name(w, index_of("pfw-pre0"), &name) == 0 && streq(name, "pfw-pre0"),
              "the watcher does not know pfw-pre0");
        check(netlink_watch_get_name(w, 999999, &name) == -ENODEV, "a made-up index is known");
        check(model_matches_kernel(true), "model differs from the kernel at start");
}

static void test_create(sd_event *e) {
        int a, b;

        events_reset();
        ip("ip link add pfw-a type veth peer name pfw-b");
        a = index_of("pfw-a");
        b = index_of("pfw-b");
        wanted_events = 2;
        check(run_until(e, enough_events, 3000), "only %u events after creating a veth pair", n_events);
        check(n_events == 2, "%u events for one veth pair, expected 2", n_events);
        for (unsigned i = 0; i < 2 && i < n_events; i++)
                check(last_events[i].ev == LINK_NEW &&
                      ((last_events[i].ifindex == a && streq(last_events[i].name, "pfw-a")) ||
                       (last_events[i].ifindex == b && streq(last_events[i].name, "pfw-b"))),
                      "event %u is %s %d %s", i, link_event_to_string(last_events[i].ev),
                      last_events[i].ifindex, last_events[i].name);
        check(model_matches_kernel(true), "model differs from the kernel after creation");
}

static void test_noise(sd_event *e) {
        events_reset();
        ip("ip link set pfw-a up && ip link set pfw-b up && ip link set pfw-a mtu 1400 && ip link set pfw-a down");
        check(run_until(e, NULL, 300) && n_events == 0,
              "%u events for up/mtu/down changes (first: %s %s)", n_events,
              n_events ? link_event_to_string(last_events[0].ev) : "", n_events ? last_events[0].name : "");
}

static void test_rename(sd_event *e) {
        int a = index_of("pfw-a");

        events_reset();
        ip("ip link set pfw-a name pfw-c");
        wanted_events = 1;
        check(run_until(e, enough_events, 3000), "no event after a rename");
        check(n_events == 1 && last_events[0].ev == LINK_RENAMED && last_events[0].ifindex == a &&
              streq(last_events[0].name, "pfw-c") && streq(last_events[0].old_name, "pfw-a"),
              "rename: %u events, first %s %d %s (old %s)", n_events,
              n_events ? link_event_to_string(last_events[0].ev) : "-", last_events[0].ifindex,
              last_events[0].name, last_events[0].old_name);
        check(model_matches_kernel(true), "model differs from the kernel after a rename");
}

static void test_delete_and_recreate(sd_event *e) {
        int old_c = index_of("pfw-c"), old_b = index_of("pfw-b"), c;
        bool del_c = false, del_b = false;

        events_reset();
        ip("ip link del pfw-c");
        wanted_events = 2;
        check(run_until(e, enough_events, 3000), "only %u events after deleting a veth pair", n_events);
        for (unsigned i = 0; i < n_events && i < ELEMENTSOF(last_events); i++) {
                del_c |= last_events[i].ev == LINK_DEL && last_events[i].ifindex == old_c &&
                         streq(last_events[i].name, "pfw-c");
                del_b |= last_events[i].ev == LINK_DEL && last_events[i].ifindex == old_b &&
                         streq(last_events[i].name, "pfw-b");
        }
        check(del_c && del_b, "deleting the pair: LINK_DEL pfw-c %s, pfw-b %s", del_c ? "seen" : "missing",
              del_b ? "seen" : "missing");

        /* The same name again: a new index, reported as new. */
        events_reset();
        ip("ip link add pfw-c type veth peer name pfw-b");
        c = index_of("pfw-c");
        wanted_events = 2;
        check(run_until(e, enough_events, 3000), "only %u events after re-creating the pair", n_events);
        check(c != old_c, "the re-created pfw-c kept index %d", c);
        check(model_find(c) && streq(model_find(c)->name, "pfw-c"), "re-created pfw-c (%d) not reported", c);
        check(model_matches_kernel(true), "model differs from the kernel after delete and re-create");
}

static void test_overflow(sd_event *e, NetlinkWatch *w) {
        unsigned resyncs = netlink_watch_resync_count(w);
        int tiny = 1, big = 1024 * 1024;
        _cleanup_fclose_ FILE *batch = NULL;
        char path[] = "/tmp/test-netlink-watch-XXXXXX";
        int fd;

        /* The smallest buffer the kernel allows holds one or two notifications: a burst must overflow it. */
        require(setsockopt(netlink_watch_fd(w), SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny)) == 0, "SO_RCVBUF: %m");

        fd = mkstemp(path);
        require(fd >= 0, "mkstemp: %m");
        batch = fdopen(fd, "w");
        require(batch, "fdopen: %m");
        for (unsigned i = 0; i < BURST_PAIRS; i++)
                fprintf(batch, "link add pfw-n%u type veth peer name pfw-m%u\n", i, i);
        for (unsigned i = 0; i < BURST_PAIRS; i += 2)
                fprintf(batch, "link del pfw-n%u\n", i);
        fprintf(batch, "link del pfw-pre0\n");          /* existed before the watcher */
        fprintf(batch, "link set pfw-c down\nlink set pfw-c name pfw-d\n");
        fprintf(batch, "link set pfw-n1 name pfw-r1\n");
        require(fflush(batch) == 0, "fflush: %m");

        events_reset();
        ip("ip -batch %s", path);
        (void) unlink(path);

        /* Let the repair dump through at a normal size. */
        require(setsockopt(netlink_watch_fd(w), SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)) == 0, "SO_RCVBUF: %m");
        check(run_until(e, model_in_sync, 5000), "the watcher did not catch up after an overflow");
        if (!model_matches_kernel(true))
                fprintf(stderr, "  (after %u events)\n", n_events);
        check(netlink_watch_resync_count(w) > resyncs, "the burst did not overflow the socket: test proves nothing");
        printf("overflow: %u events, %u resyncs\n", n_events, netlink_watch_resync_count(w) - resyncs);

        /* And it keeps working afterwards. */
        events_reset();
        ip("ip link add pfw-z type veth peer name pfw-y");
        wanted_events = 2;
        check(run_until(e, enough_events, 3000) && model_matches_kernel(true),
              "events after the overflow are not reported (%u events)", n_events);
}

static void test_resync_without_loss(sd_event *e, NetlinkWatch *w) {
        /* A dump when nothing changed reports nothing. */
        events_reset();
        check(netlink_watch_resync(w) == 0, "netlink_watch_resync failed");
        check(run_until(e, NULL, 300) && n_events == 0, "a resync with no change reported %u events", n_events);
        check(model_matches_kernel(true), "model differs from the kernel after a plain resync");
}

int main(void) {
        _cleanup_(netlink_watch_freep) NetlinkWatch *w = NULL;
        sd_event *e = NULL;
        int r;

        log_set_max_level(LOG_DEBUG);
        if (geteuid() != 0) {
                fprintf(stderr, "SKIP: needs root for a network namespace of its own\n");
                return 77;
        }
        if (unshare(CLONE_NEWNET) < 0) {
                fprintf(stderr, "SKIP: unshare(CLONE_NEWNET): %m\n");
                return 77;
        }
        if (system("ip link add pfw-pre0 type veth peer name pfw-pre1") != 0) {
                fprintf(stderr, "SKIP: cannot create a veth pair with ip(8)\n");
                return 77;
        }

        r = sd_event_new(&e);
        require(r >= 0, "sd_event_new: %s", strerror(-r));

        model_from_kernel();
        r = netlink_watch_new(e, on_link, NULL, &w);
        require(r >= 0, "netlink_watch_new: %s", strerror(-r));

        test_quiet_start(e, w);
        test_create(e);
        test_noise(e);
        test_rename(e);
        test_delete_and_recreate(e);
        test_resync_without_loss(e, w);
        test_overflow(e, w);

        w = netlink_watch_free(w);
        sd_event_unref(e);
        return test_exit_status("test-netlink-watch");
}
