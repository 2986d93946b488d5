/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * set-flood-sender: blasts raw Ethernet frames (IPv4 or IPv6 + UDP) out of one
 * interface with AF_PACKET, taking the source addresses from a list file in
 * turn, as fast as one CPU can, bounded in count and time. Used by
 * bench/set-flood.sh inside the sandbox's peer namespace, so that the
 * receiving veth's filter (XDP, nft ingress, none) sees many random sources.
 *
 *   set-flood-sender --ifname IF --sources FILE --count N [options]
 *     --dst4 ADDR, --dst6 ADDR   destinations (default 192.0.2.1, 2001:db8::1: the sandbox's fw side)
 *     --dst-mac MAC             destination MAC (default 02:00:00:00:00:01, not the receiver's:
 *                               the receiving stack drops the frames as PACKET_OTHERHOST in
 *                               ip_rcv / ipv6_rcv, right after the filters ran, so the cost
 *                               measured is the filter's plus a fixed floor)
 *     --port P                  UDP destination port (default 9)
 *     --batch B                 frames per sendmmsg() (default 32)
 *     --cpu C                   pin to CPU C (default: the last one)
 *     --max-seconds S           stop after S seconds (default 30)
 *
 * On exit it prints one line of key=value pairs on stdout:
 *   frames sent, sends that failed, wall seconds, the CPU it ran on, that CPU's busy
 *   seconds from /proc/stat over the run (user+nice+system+irq+softirq, i.e. not idle,
 *   iowait or steal), of which softirq, and this process's own user and system seconds.
 * With veth and no XDP, the receive path (netif_rx backlog) runs in softirq on the
 * sending CPU; with XDP on veth, the peer's NAPI is scheduled on the sending CPU too.
 * So the busy time of that CPU per frame is the cost of sending and receiving one frame,
 * and the difference against a run without a filter is the filter's cost.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 256
#define FRAME_MAX 128
#define PAYLOAD 18                      /* IPv4 frame: 14 + 20 + 8 + 18 = 60 bytes, the minimum */

struct source {
        uint8_t family;
        uint8_t addr[16];
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
        stop_requested = 1;
}

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

struct cpu_times {
        unsigned long long busy, softirq;
};

static int read_cpu_times(int cpu, struct cpu_times *ret) {
        char line[512], name[16];
        FILE *f = fopen("/proc/stat", "re");
        int r = -ENOENT;

        if (!f)
                return -errno;
        snprintf(name, sizeof(name), "cpu%d ", cpu);
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, name, strlen(name)) == 0) {
                        unsigned long long user, nice, system, idle, iowait, irq, softirq;

                        if (sscanf(line + strlen(name), "%llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system,
                                   &idle, &iowait, &irq, &softirq) != 7)
                                break;
                        ret->busy = user + nice + system + irq + softirq;
                        ret->softirq = softirq;
                        r = 0;
                        break;
                }
        fclose(f);
        return r;
}

static int load_sources(const char *path, struct source **ret, size_t *ret_n) {
        FILE *f = fopen(path, "re");
        struct source *v = NULL;
        size_t n = 0, allocated = 0;
        char line[256];

        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                char *token = strtok(line, " \t\r\n");
                struct source s = {};

                if (!token || token[0] == '#')
                        continue;
                if (inet_pton(AF_INET, token, s.addr) == 1)
                        s.family = 4;
                else if (inet_pton(AF_INET6, token, s.addr) == 1)
                        s.family = 6;
                else {
                        fprintf(stderr, "set-flood-sender: %s: not an address: %s\n", path, token);
                        free(v);
                        fclose(f);
                        return -EINVAL;
                }
                if (n == allocated) {
                        struct source *w;

                        allocated = allocated ? allocated * 2 : 65536;
                        w = realloc(v, allocated * sizeof(*v));
                        if (!w) {
                                free(v);
                                fclose(f);
                                return -ENOMEM;
                        }
                        v = w;
                }
                v[n++] = s;
        }
        fclose(f);
        if (n == 0) {
                free(v);
                return -ENODATA;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static uint32_t sum16(const void *data, size_t len, uint32_t sum) {
        const uint8_t *p = data;

        for (size_t i = 0; i + 1 < len; i += 2)
                sum += (uint32_t) p[i] << 8 | p[i + 1];
        if (len & 1)
                sum += (uint32_t) p[len - 1] << 8;
        return sum;
}

static uint16_t fold(uint32_t sum) {
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return (uint16_t) ~sum;
}

/* Builds one frame from src to dst (same family) into buf; returns its length. */
static size_t build_frame(uint8_t *buf, const uint8_t dst_mac[6], const uint8_t src_mac[6], const struct source *s,
                          const uint8_t dst4[4], const uint8_t dst6[16], uint16_t port, uint32_t seq) {
        uint8_t *l3 = buf + 14, *udp;
        size_t l3_len;
        uint16_t sum;

        memcpy(buf, dst_mac, 6);
        memcpy(buf + 6, src_mac, 6);
        if (s->family == 4) {
                buf[12] = 0x08, buf[13] = 0x00;
                memset(l3, 0, 20);
                l3[0] = 0x45;
                l3[2] = 0, l3[3] = 20 + 8 + PAYLOAD;
                l3[6] = 0x40;           /* DF */
                l3[8] = 64;
                l3[9] = IPPROTO_UDP;
                memcpy(l3 + 12, s->addr, 4);
                memcpy(l3 + 16, dst4, 4);
                sum = fold(sum16(l3, 20, 0));
                l3[10] = sum >> 8, l3[11] = sum & 0xff;
                l3_len = 20;
        } else {
                buf[12] = 0x86, buf[13] = 0xdd;
                memset(l3, 0, 40);
                l3[0] = 0x60;
                l3[4] = 0, l3[5] = 8 + PAYLOAD;
                l3[6] = IPPROTO_UDP;
                l3[7] = 64;
                memcpy(l3 + 8, s->addr, 16);
                memcpy(l3 + 24, dst6, 16);
                l3_len = 40;
        }
        udp = l3 + l3_len;
        udp[0] = 40000 >> 8, udp[1] = 40000 & 0xff;
        udp[2] = port >> 8, udp[3] = port & 0xff;
        udp[4] = 0, udp[5] = 8 + PAYLOAD;
        udp[6] = udp[7] = 0;
        memset(udp + 8, 0, PAYLOAD);
        udp[8] = seq >> 24, udp[9] = seq >> 16, udp[10] = seq >> 8, udp[11] = seq;
        {
                /* The pseudo-header, then the datagram. */
                uint32_t acc = 0;

                if (s->family == 4)
                        acc = sum16(l3 + 12, 8, 0);
                else
                        acc = sum16(l3 + 8, 32, 0);
                acc += IPPROTO_UDP + 8 + PAYLOAD;
                sum = fold(sum16(udp, 8 + PAYLOAD, acc));
                if (sum == 0)
                        sum = 0xffff;
                udp[6] = sum >> 8, udp[7] = sum & 0xff;
        }
        return 14 + l3_len + 8 + PAYLOAD;
}

static int parse_mac(const char *text, uint8_t mac[6]) {
        unsigned v[6];

        if (sscanf(text, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
                return -EINVAL;
        for (int i = 0; i < 6; i++) {
                if (v[i] > 255)
                        return -EINVAL;
                mac[i] = (uint8_t) v[i];
        }
        return 0;
}

static int usage(void) {
        fprintf(stderr, "usage: set-flood-sender --ifname IF --sources FILE --count N [--dst4 A] [--dst6 A]\n"
                        "       [--dst-mac MAC] [--port P] [--batch B] [--cpu C] [--max-seconds S]\n");
        return 2;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "ifname", required_argument, NULL, 'i' },
                { "sources", required_argument, NULL, 's' },
                { "count", required_argument, NULL, 'c' },
                { "dst4", required_argument, NULL, '4' },
                { "dst6", required_argument, NULL, '6' },
                { "dst-mac", required_argument, NULL, 'm' },
                { "port", required_argument, NULL, 'p' },
                { "batch", required_argument, NULL, 'b' },
                { "cpu", required_argument, NULL, 'C' },
                { "max-seconds", required_argument, NULL, 'M' },
                {}
        };
        const char *ifname = NULL, *sources_path = NULL, *dst4_text = "192.0.2.1", *dst6_text = "2001:db8::1";
        uint8_t dst_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 }, src_mac[6], dst4[4], dst6[16];
        unsigned long long count = 0, port = 9, batch = 32, max_seconds = 30;
        long cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1;
        static uint8_t frames[MAX_BATCH][FRAME_MAX];
        struct mmsghdr msgs[MAX_BATCH];
        struct iovec iovs[MAX_BATCH];
        struct sockaddr_ll ll = { .sll_family = AF_PACKET };
        struct source *sources = NULL;
        size_t n_sources = 0, next = 0;
        struct cpu_times before, after;
        struct rusage usage_before, usage_after;
        uint64_t sent = 0, failed = 0, start, deadline, elapsed;
        struct ifreq ifr = {};
        cpu_set_t set;
        int c, fd, one = 1, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                char *end = NULL;

                switch (c) {
                case 'i': ifname = optarg; break;
                case 's': sources_path = optarg; break;
                case '4': dst4_text = optarg; break;
                case '6': dst6_text = optarg; break;
                case 'm':
                        if (parse_mac(optarg, dst_mac) < 0)
                                return usage();
                        break;
                case 'c': count = strtoull(optarg, &end, 10); break;
                case 'p': port = strtoull(optarg, &end, 10); break;
                case 'b': batch = strtoull(optarg, &end, 10); break;
                case 'C': cpu = strtol(optarg, &end, 10); break;
                case 'M': max_seconds = strtoull(optarg, &end, 10); break;
                default: return usage();
                }
                if (end && (*end || end == optarg))
                        return usage();
        }
        if (!ifname || !sources_path || count == 0 || port == 0 || port > 65535 || batch == 0 ||
            batch > MAX_BATCH || max_seconds == 0 || max_seconds > 3600 || cpu < 0 || optind != argc)
                return usage();
        if (inet_pton(AF_INET, dst4_text, dst4) != 1 || inet_pton(AF_INET6, dst6_text, dst6) != 1)
                return usage();

        r = load_sources(sources_path, &sources, &n_sources);
        if (r < 0) {
                fprintf(stderr, "set-flood-sender: cannot read sources from %s: %s\n", sources_path, strerror(-r));
                return 1;
        }

        CPU_ZERO(&set);
        CPU_SET((int) cpu, &set);
        if (sched_setaffinity(0, sizeof(set), &set) < 0) {
                fprintf(stderr, "set-flood-sender: cannot pin to CPU %ld: %m\n", cpu);
                return 1;
        }

        /* Protocol 0: this socket only sends, it never gets a copy of received frames. */
        fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                fprintf(stderr, "set-flood-sender: socket(AF_PACKET): %m\n");
                return 1;
        }
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
        ll.sll_ifindex = (int) if_nametoindex(ifname);
        if (ll.sll_ifindex == 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
                fprintf(stderr, "set-flood-sender: no interface %s here: %m\n", ifname);
                return 1;
        }
        memcpy(src_mac, ifr.ifr_hwaddr.sa_data, 6);
        if (bind(fd, (struct sockaddr *) &ll, sizeof(ll)) < 0) {
                fprintf(stderr, "set-flood-sender: bind to %s: %m\n", ifname);
                return 1;
        }
        (void) setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));

        for (size_t i = 0; i < MAX_BATCH; i++) {
                iovs[i] = (struct iovec) { .iov_base = frames[i] };
                msgs[i] = (struct mmsghdr) { .msg_hdr = { .msg_iov = &iovs[i], .msg_iovlen = 1 } };
        }

        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        if (read_cpu_times((int) cpu, &before) < 0) {
                fprintf(stderr, "set-flood-sender: cannot read /proc/stat for CPU %ld\n", cpu);
                return 1;
        }
        getrusage(RUSAGE_SELF, &usage_before);
        start = now_ns();
        deadline = start + max_seconds * 1000000000ull;
        while (sent + failed < count && !stop_requested) {
                unsigned n = (unsigned) (count - sent - failed < batch ? count - sent - failed : batch);
                int k;

                for (unsigned i = 0; i < n; i++) {
                        iovs[i].iov_len = build_frame(frames[i], dst_mac, src_mac, &sources[next], dst4, dst6,
                                                      (uint16_t) port, (uint32_t) (sent + failed + i));
                        next = next + 1 == n_sources ? 0 : next + 1;
                }
                k = sendmmsg(fd, msgs, n, 0);
                if (k < 0) {
                        if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
                                fprintf(stderr, "set-flood-sender: sendmmsg: %m\n");
                                return 1;
                        }
                        k = 0;
                }
                sent += (unsigned) k;
                failed += n - (unsigned) k;
                if (((sent + failed) & 0xfff) < batch && now_ns() >= deadline)
                        break;
        }
        elapsed = now_ns() - start;
        getrusage(RUSAGE_SELF, &usage_after);
        if (read_cpu_times((int) cpu, &after) < 0)
                return 1;

        {
                double tick = (double) sysconf(_SC_CLK_TCK);
                double user = (double) (usage_after.ru_utime.tv_sec - usage_before.ru_utime.tv_sec) +
                              (double) (usage_after.ru_utime.tv_usec - usage_before.ru_utime.tv_usec) / 1e6;
                double sys = (double) (usage_after.ru_stime.tv_sec - usage_before.ru_stime.tv_sec) +
                             (double) (usage_after.ru_stime.tv_usec - usage_before.ru_stime.tv_usec) / 1e6;

                printf("sent=%" PRIu64 " failed=%" PRIu64 " seconds=%.6f cpu=%ld cpu_busy_s=%.3f cpu_softirq_s=%.3f "
                       "self_user_s=%.3f self_sys_s=%.3f sources=%zu\n",
                       sent, failed, (double) elapsed / 1e9, cpu, (double) (after.busy - before.busy) / tick,
                       (double) (after.softirq - before.softirq) / tick, user, sys, n_sources);
        }
        free(sources);
        close(fd);
        return 0;
}
