/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Atomicity of rule-set changes as seen by real traffic: the XDP program is
 * attached to one end of a veth pair, a sender floods UDP through the pair,
 * and the test replaces the whole rule set over and over, A, B, A, B...
 * No packet may be judged by a mix of A and B.
 *
 * How a mix becomes visible. Every flood packet is UDP from 192.0.2.1:5000+k
 * to 192.0.2.2:1000-1999, so it matches every rule below; the default is drop.
 *
 *   A1  block rule  source 192.0.2.0/24           pass  priority 0   block slot 10
 *   A2  classifier  udp port 1000-1999             drop  priority 5   classifier slot 11
 *   B1  classifier  udp source-port 5000-5999      pass  priority 0   classifier slot 12
 *   B2  block rule  source 192.0.2.1/32            drop  priority 5   block slot 13
 *
 * Under A alone A1 decides every flood packet; under B alone B1 does. So A2
 * and B2 never count a packet, nor does the default action, as long as each
 * packet sees one version whole. A packet that met B's block table and A's
 * classifier would be decided by A2 or B2; one that met a block table or a
 * classifier half written (a /24 entry cleared before the /32 it leads to is
 * findable, class tables of one version with bitmaps of the other) would be
 * decided by A2, B2 or the default. The check therefore is: A1 and B1 both
 * counted (both versions were in force while traffic ran), and A2, B2 and
 * dropped-by-default all stayed at 0. Every version uses its own slots, as
 * the daemon's slot quarantine guarantees, so slot information never
 * changes under a table that refers to it.
 *
 * Demonstrated to fail (by hand, not part of the suite) with a loader whose
 * commit writes the active copy in place instead of flipping copies.
 *
 * The namespaces are anonymous: the filter side is this process's own network
 * namespace, the sender side one its sender thread unshares. The veth pair,
 * the attachment and everything else vanish with the process, however it
 * ends. Nothing touches the host's interfaces or bpffs (a private bpffs is
 * mounted on /sys/fs/bpf in a private mount namespace, and the loader pins
 * nothing anyway).
 *
 *   test-atomicity [--mode auto|native|generic] [--seconds N]
 *
 * Needs root; PF_ALLOW_SKIP=1 turns "not root" into a skip (77).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "isolate.h"
#include "loader.h"
#include "log.h"
#include "macro.h"
#include "ruleset-loader.h"

#define FILTER_IFACE    "pfa0"          /* in the test's namespace, where XDP runs */
#define SENDER_IFACE    "pfa1"          /* in the sender thread's namespace */
#define FILTER_MAC      "02:00:00:00:a0:02"
#define SENDER_MAC      "02:00:00:00:a0:01"
#define FILTER_ADDR     "192.0.2.2"
#define SENDER_ADDR     "192.0.2.1"
#define SENDER_SOCKETS  4               /* source ports 5000..5003 */
#define BATCH           64

/* Bounds on the flood: whichever comes first. */
#define FLOOD_MAX_PACKETS       50000000ULL
#define FLOOD_MAX_SECONDS       30

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* Runs a shell command (ip, from whichever thread calls it: it inherits that thread's namespace). */
_printf_(1, 2)
static int run(const char *format, ...) {
        char command[512];
        va_list ap;
        int r;

        va_start(ap, format);
        vsnprintf(command, sizeof(command), format, ap);
        va_end(ap);
        r = system(command);
        if (r != 0)
                return log_error_errno(-EIO, "Command failed (%d): %s", r, command);
        return 0;
}

/* IPv6 off in this thread's namespace before any link exists: no router solicitations, DAD or MLD
 * reaching the filter, whose default drop would otherwise count them. */
static int disable_ipv6(void) {
        static const char *const paths[] = {
                "/proc/sys/net/ipv6/conf/all/disable_ipv6",
                "/proc/sys/net/ipv6/conf/default/disable_ipv6",
        };

        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                _cleanup_close_ int fd = open(paths[i], O_WRONLY | O_CLOEXEC);

                if (fd < 0 && errno == ENOENT)
                        return 0;       /* no IPv6 at all */
                if (fd < 0 || write(fd, "1", 1) != 1)
                        return log_error_errno(negative_errno(), "Failed to write %s: %m", paths[i]);
        }
        return 0;
}

/* ---- The sender: a thread in its own network namespace ------------------------------------------ */

struct sender {
        pthread_t thread;
        bool started, joined;
        pid_t tid;
        int error;
        atomic_bool netns_ready;        /* its namespace exists: the veth peer can be moved in */
        atomic_bool configured;         /* the main thread has made the veth pair */
        atomic_bool ready;              /* addresses set, sockets open */
        atomic_bool go, stop;
        atomic_uint_fast64_t sent;
};

static int sender_setup(int sockets[SENDER_SOCKETS]) {
        int r;

        r = run("ip link set lo up && ip addr add " SENDER_ADDR "/24 dev " SENDER_IFACE
                " && ip link set " SENDER_IFACE " up"
                " && ip neigh replace " FILTER_ADDR " lladdr " FILTER_MAC " dev " SENDER_IFACE " nud permanent");
        if (r < 0)
                return r;

        for (int i = 0; i < SENDER_SOCKETS; i++) {
                struct sockaddr_in local = {
                        .sin_family = AF_INET,
                        .sin_port = htons(5000 + i),
                };

                inet_pton(AF_INET, SENDER_ADDR, &local.sin_addr);
                sockets[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (sockets[i] < 0)
                        return log_error_errno(negative_errno(), "Failed to open a UDP socket: %m");
                if (bind(sockets[i], (struct sockaddr *) &local, sizeof(local)) < 0)
                        return log_error_errno(negative_errno(), "Failed to bind a UDP socket: %m");
        }
        return 0;
}

static void *sender_run(void *userdata) {
        struct sender *s = userdata;
        int sockets[SENDER_SOCKETS] = { -1, -1, -1, -1 };
        struct sockaddr_in to[BATCH];
        struct mmsghdr msgs[BATCH];
        struct iovec iov[BATCH];
        uint8_t payload[BATCH][18];
        uint64_t sent = 0, deadline, seq = 0;

        s->tid = (pid_t) syscall(SYS_gettid);
        if (unshare(CLONE_NEWNET) < 0) {
                s->error = log_error_errno(negative_errno(), "Failed to create the sender's network namespace: %m");
                atomic_store(&s->netns_ready, true);
                return NULL;
        }
        s->error = disable_ipv6();
        atomic_store(&s->netns_ready, true);
        while (s->error == 0 && !atomic_load(&s->configured) && !atomic_load(&s->stop))
                usleep(1000);
        if (s->error == 0 && !atomic_load(&s->stop))
                s->error = sender_setup(sockets);
        atomic_store(&s->ready, true);
        while (s->error == 0 && !atomic_load(&s->go) && !atomic_load(&s->stop))
                usleep(1000);

        deadline = now_usec() + FLOOD_MAX_SECONDS * 1000000ULL;
        while (s->error == 0 && !atomic_load(&s->stop) && sent < FLOOD_MAX_PACKETS && now_usec() < deadline) {
                int fd = sockets[(sent / BATCH) % SENDER_SOCKETS], n;

                for (int i = 0; i < BATCH; i++) {
                        to[i] = (struct sockaddr_in) {
                                .sin_family = AF_INET,
                                .sin_port = htons((uint16_t) (1000 + (seq + (uint64_t) i) % 1000)),
                        };
                        inet_pton(AF_INET, FILTER_ADDR, &to[i].sin_addr);
                        memcpy(payload[i], &seq, sizeof(seq));
                        iov[i] = (struct iovec) { .iov_base = payload[i], .iov_len = sizeof(payload[i]) };
                        msgs[i] = (struct mmsghdr) {
                                .msg_hdr = {
                                        .msg_name = &to[i],
                                        .msg_namelen = sizeof(to[i]),
                                        .msg_iov = &iov[i],
                                        .msg_iovlen = 1,
                                },
                        };
                }
                n = sendmmsg(fd, msgs, BATCH, 0);
                if (n < 0) {
                        if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED || errno == EINTR)
                                continue;
                        s->error = log_error_errno(negative_errno(), "sendmmsg() failed: %m");
                        break;
                }
                sent += (uint64_t) n;
                seq += (uint64_t) n;
                atomic_store(&s->sent, sent);
        }

        for (int i = 0; i < SENDER_SOCKETS; i++)
                closep(&sockets[i]);
        return NULL;
}

static int wait_for(atomic_bool *flag, const struct sender *s, uint64_t timeout_usec) {
        uint64_t deadline = now_usec() + timeout_usec;

        while (!atomic_load(flag)) {
                if (s->error < 0)
                        return s->error;
                if (now_usec() > deadline)
                        return -ETIMEDOUT;
                usleep(1000);
        }
        return s->error;
}

/* ---- The two versions ------------------------------------------------------------------------- */

enum { A1, A2, B1, B2, _N_RULES };

static const char *const rule_names[_N_RULES] = { "A1", "A2", "B1", "B2" };

static int make_rules(Rule *rules[_N_RULES]) {
        static const struct {
                struct rule_text text;
                uint32_t slot;
        } defs[_N_RULES] = {
                [A1] = { { .action = "pass", .source = "192.0.2.0/24" }, 10 },
                [A2] = { { .action = "drop", .protocol = "udp", .port = "1000-1999", .priority = 5 }, 11 },
                [B1] = { { .action = "pass", .protocol = "udp", .source_port = "5000-5999" }, 12 },
                [B2] = { { .action = "drop", .source = SENDER_ADDR, .priority = 5 }, 13 },
        };

        for (int i = 0; i < _N_RULES; i++) {
                int r = ruleset_rule_from_text(&defs[i].text, (uint32_t) i + 1, defs[i].slot, &rules[i], NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int push_version(Loader *l, Rule *rules[_N_RULES], bool b, RulesetInstalled *installed) {
        Rule *version[2] = { rules[b ? B1 : A1], rules[b ? B2 : A2] };
        int r;

        r = ruleset_push(l, version, 2, PF_ACTION_DROP, installed);
        if (r < 0)
                return log_error_errno(r, "Failed to apply version %c: %m", b ? 'B' : 'A');
        if (r == 0)
                return log_error_errno(-EIO, "Version %c reached only one copy of the tables.", b ? 'B' : 'A');
        return 0;
}

/* ---- The test ---------------------------------------------------------------------------------- */

static void sender_stop(struct sender *s) {
        if (!s->started || s->joined)
                return;
        atomic_store(&s->stop, true);
        (void) pthread_join(s->thread, NULL);
        s->joined = true;
}

/* Stops the sender (its namespace goes with it) and deletes the pair at once, ready for another round. */
static void sender_stopp(struct sender *s) {
        if (!s->started)
                return;
        sender_stop(s);
        (void) system("ip link del " FILTER_IFACE " 2>/dev/null");
}

static void rules_freep(Rule *(*rules)[_N_RULES]) {
        for (int i = 0; i < _N_RULES; i++)
                (*rules)[i] = rule_free((*rules)[i]);
}

static void installed_clearp(RulesetInstalled *installed) {
        ruleset_installed_clear(installed);
}

static int run_test(enum xdp_mode mode, unsigned seconds) {
        _cleanup_(loader_freep) Loader *l = NULL;
        _cleanup_(installed_clearp) RulesetInstalled installed = {};
        _cleanup_(rules_freep) Rule *rules[_N_RULES] = {};
        _cleanup_(sender_stopp) struct sender sender = {};
        struct pf_statistics stats;
        uint64_t packets[_N_RULES] = {}, bytes, deadline, switches = 0;
        enum xdp_mode in_effect;
        int r, failures = 0;

        r = make_rules(rules);
        if (r < 0)
                return r;
        r = loader_new(NULL, &l);
        if (r < 0)
                return log_error_errno(r, "Failed to load the XDP program: %m");

        r = -pthread_create(&sender.thread, NULL, sender_run, &sender);
        if (r < 0)
                return log_error_errno(r, "Failed to start the sender: %m");
        sender.started = true;
        r = wait_for(&sender.netns_ready, &sender, 5000000);
        if (r >= 0)
                r = run("ip link add " FILTER_IFACE " address " FILTER_MAC " type veth peer name " SENDER_IFACE
                        " address " SENDER_MAC " netns /proc/%d/task/%d/ns/net", getpid(), sender.tid);
        if (r >= 0)
                r = run("ip link set lo up && ip addr add " FILTER_ADDR "/24 dev " FILTER_IFACE
                        " && ip link set " FILTER_IFACE " up"
                        " && ip neigh replace " SENDER_ADDR " lladdr " SENDER_MAC " dev " FILTER_IFACE " nud permanent");
        atomic_store(&sender.configured, true);
        if (r >= 0)
                r = wait_for(&sender.ready, &sender, 10000000);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the veth pair: %m");

        r = push_version(l, rules, false, &installed);
        if (r >= 0)
                r = ruleset_counters_reset(l, rules, _N_RULES);
        if (r >= 0)
                r = loader_statistics_reset(l);
        if (r >= 0)
                r = loader_attach(l, FILTER_IFACE, mode, &in_effect);
        if (r < 0)
                return log_error_errno(r, "Failed to attach to %s: %m", FILTER_IFACE);
        printf("# attached to %s in %s mode\n", FILTER_IFACE, xdp_mode_to_string(in_effect));

        /* Flood, and flip A and B as fast as commits go, for the time given. */
        atomic_store(&sender.go, true);
        usleep(200000);
        deadline = now_usec() + (uint64_t) seconds * 1000000;
        while (now_usec() < deadline && sender.error == 0 && r >= 0) {
                r = push_version(l, rules, switches % 2 == 0, &installed);
                switches++;
        }
        usleep(200000);
        sender_stop(&sender);
        usleep(200000);         /* what is still in flight reaches the program */
        (void) loader_detach(l, FILTER_IFACE);
        if (r < 0)
                return r;
        if (sender.error < 0)
                return log_error_errno(sender.error, "The sender failed: %m");

        for (int i = 0; i < _N_RULES; i++) {
                r = ruleset_counter_read(l, rules[i], &packets[i], &bytes);
                if (r < 0)
                        return log_error_errno(r, "Failed to read counter of %s: %m", rule_names[i]);
        }
        r = loader_statistics_read(l, &stats);
        if (r < 0)
                return log_error_errno(r, "Failed to read the statistics: %m");

        printf("# %" PRIu64 " rule-set replacements, %" PRIu64 " packets sent, %" PRIu64 " seen by the program\n",
               switches, (uint64_t) atomic_load(&sender.sent), stats.v[PF_STAT_PACKETS]);
        printf("# decided by A1 %" PRIu64 ", B1 %" PRIu64 " (legitimate); A2 %" PRIu64 ", B2 %" PRIu64
               ", default drop %" PRIu64 " (each would be a mix); non-ip %" PRIu64 ", malformed %" PRIu64 "\n",
               packets[A1], packets[B1], packets[A2], packets[B2], stats.v[PF_STAT_DROPPED_BY_DEFAULT],
               stats.v[PF_STAT_NON_IP], stats.v[PF_STAT_MALFORMED]);

        if (switches < 20 || packets[A1] == 0 || packets[B1] == 0) {
                printf("# too little traffic or too few replacements to judge: the check proves nothing\n");
                failures++;
        }
        if (packets[A2] != 0 || packets[B2] != 0 || stats.v[PF_STAT_DROPPED_BY_DEFAULT] != 0 ||
            stats.v[PF_STAT_MALFORMED] != 0) {
                printf("# packets were judged by a mix of versions A and B\n");
                failures++;
        }
        return failures;
}

static int isolate(void) {
        /* A private bpffs and the filter side's network namespace, with IPv6 off before any link. */
        int r = test_isolate(NULL, NULL);

        return r < 0 ? r : disable_ipv6();
}

int main(int argc, char *argv[]) {
        static const enum xdp_mode default_modes[] = { XDP_MODE_NATIVE, XDP_MODE_GENERIC };
        enum xdp_mode modes[2];
        size_t n_modes = 0;
        unsigned seconds = 6, n = 0, failed = 0;
        int r;

        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--mode") && i + 1 < argc) {
                        modes[0] = xdp_mode_from_string(argv[++i]);
                        if (modes[0] < 0) {
                                fprintf(stderr, "Unknown mode %s (auto, native, generic).\n", argv[i]);
                                return EXIT_FAILURE;
                        }
                        n_modes = 1;
                } else if (streq(argv[i], "--seconds") && i + 1 < argc)
                        seconds = (unsigned) atoi(argv[++i]);
                else {
                        fprintf(stderr, "Usage: %s [--mode auto|native|generic] [--seconds N]\n", argv[0]);
                        return EXIT_FAILURE;
                }
        }
        if (n_modes == 0) {
                memcpy(modes, default_modes, sizeof(default_modes));
                n_modes = ELEMENTSOF(default_modes);
        }
        if (seconds < 1 || seconds > FLOOD_MAX_SECONDS - 2)
                seconds = 6;

        if (geteuid() != 0) {
                bool allow_skip = streq_ptr(getenv("PF_ALLOW_SKIP"), "1");

                fprintf(stderr, "test-atomicity: needs root (namespaces, XDP)%s\n",
                        allow_skip ? "; skipping" : "; run it as root, or set PF_ALLOW_SKIP=1 to skip");
                return allow_skip ? 77 : EXIT_FAILURE;
        }
        if (isolate() < 0)
                return EXIT_FAILURE;

        printf("1..%zu\n", n_modes);
        for (size_t i = 0; i < n_modes; i++) {
                r = run_test(modes[i], seconds);
                if (r < 0)
                        return EXIT_FAILURE;
                printf("%s %u - no packet judged by a mix of two rule sets (%s mode)\n",
                       r == 0 ? "ok" : "not ok", ++n, xdp_mode_to_string(modes[i]));
                failed += r != 0;
        }
        return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
