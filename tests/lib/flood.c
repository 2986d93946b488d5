/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pf-flood: a bounded UDP sender and a receiver that counts datagrams by
 * source address, for tests that must prove that not one packet from a
 * blocked source got through while the daemon restarted, crashed or was
 * upgraded.
 *
 *   pf-flood send --to ADDR --port PORT --from SRC[,SRC...] --rate PPS --count N
 *                 [--max-seconds S]
 *       Sends N datagrams in all, taking the sources in turn (each socket
 *       bound to its source address), paced at PPS. Stops early on SIGTERM
 *       or SIGINT, or after S seconds (default 60). Prints "SRC SENT" per
 *       source on exit.
 *
 *   pf-flood spoof --dev IFACE --dst-mac MAC --to ADDR --port PORT --from PREFIX
 *                  --sources N [--per-source K] --rate PPS [--max-seconds S]
 *       Sends IPv4 UDP frames through an AF_PACKET socket on IFACE, with
 *       spoofed sources: the first N addresses of the IPv4 PREFIX in turn,
 *       K frames each (default 1; round after round, so a source's frames are
 *       N frames apart). For tests of per-source state (rate-limit buckets):
 *       only addresses of PREFIX, only to ADDR, only out of IFACE. Prints
 *       "sent N" on exit.
 *
 *   pf-flood recv --port PORT --out FILE [--max-seconds S]
 *       Counts datagrams on PORT (IPv4 and IPv6) by source address until
 *       SIGTERM or SIGINT, or for S seconds (default 60); prints "listening"
 *       once bound, and writes "SRC COUNT" lines to FILE (written whole and
 *       renamed into place) when it stops.
 *
 * Both are bounded in count and time, so a test that dies leaves nothing
 * running for long. Only addresses given on the command line are used.
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOURCES 16
#define PAYLOAD_MAGIC 0x70666c64u       /* "pfld" */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
        stop_requested = 1;
}

static void install_signals(void) {
        struct sigaction sa = { .sa_handler = on_signal };      /* no SA_RESTART: poll and sleeps wake up */

        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
}

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static int die(const char *format, const char *arg) {
        fprintf(stderr, "pf-flood: ");
        fprintf(stderr, format, arg);
        fputc('\n', stderr);
        return 2;
}

/* An IPv4 or IPv6 address and port as a socket address. */
static int parse_address(const char *text, unsigned port, struct sockaddr_storage *ret, socklen_t *ret_len) {
        struct sockaddr_in *in4 = (struct sockaddr_in *) ret;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ret;

        memset(ret, 0, sizeof(*ret));
        if (inet_pton(AF_INET, text, &in4->sin_addr) == 1) {
                in4->sin_family = AF_INET;
                in4->sin_port = htons(port);
                *ret_len = sizeof(*in4);
                return 0;
        }
        if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(port);
                *ret_len = sizeof(*in6);
                return 0;
        }
        return -EINVAL;
}

/* ---- send ------------------------------------------------------------------------------------ */

static int do_send(const char *to, unsigned port, char *from, unsigned rate, uint64_t count, unsigned max_seconds) {
        struct {
                char text[INET6_ADDRSTRLEN];
                int fd;
                uint64_t sent, failed;
        } sources[MAX_SOURCES];
        size_t n_sources = 0;
        struct sockaddr_storage dst;
        socklen_t dst_len;
        uint64_t start, deadline, total = 0;

        if (parse_address(to, port, &dst, &dst_len) < 0)
                return die("not an address: %s", to);

        for (char *save = NULL, *s = strtok_r(from, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
                struct sockaddr_storage src;
                socklen_t src_len;
                int fd;

                if (n_sources >= MAX_SOURCES)
                        return die("too many sources (at most 16): %s", s);
                if (parse_address(s, 0, &src, &src_len) < 0 || src.ss_family != dst.ss_family)
                        return die("not an address of the destination's family: %s", s);
                fd = socket(src.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (fd < 0 || bind(fd, (struct sockaddr *) &src, src_len) < 0 ||
                    connect(fd, (struct sockaddr *) &dst, dst_len) < 0)
                        return die("cannot send from %s: %m", s);
                snprintf(sources[n_sources].text, sizeof(sources[n_sources].text), "%s", s);
                sources[n_sources].fd = fd;
                sources[n_sources].sent = sources[n_sources].failed = 0;
                n_sources++;
        }
        if (n_sources == 0)
                return die("no source address%s", "");

        install_signals();
        start = now_ns();
        deadline = start + (uint64_t) max_seconds * 1000000000u;
        while (total < count && !stop_requested) {
                uint64_t now = now_ns(), due;
                struct timespec pause = { 0, 500000 };

                if (now >= deadline)
                        break;
                /* Catch up to where the rate says we should be, then nap. */
                due = (uint64_t) ((double) (now - start) * rate / 1e9) + 1;
                while (total < due && total < count) {
                        size_t i = total % n_sources;
                        uint32_t payload[2] = { htonl(PAYLOAD_MAGIC), htonl((uint32_t) total) };

                        if (send(sources[i].fd, payload, sizeof(payload), MSG_DONTWAIT) == sizeof(payload))
                                sources[i].sent++;
                        else
                                sources[i].failed++;    /* ECONNREFUSED from an earlier ICMP, a full queue */
                        total++;
                }
                nanosleep(&pause, NULL);
        }

        for (size_t i = 0; i < n_sources; i++) {
                printf("%s %" PRIu64 "\n", sources[i].text, sources[i].sent);
                if (sources[i].failed)
                        fprintf(stderr, "pf-flood: %" PRIu64 " sends from %s failed\n", sources[i].failed,
                                sources[i].text);
                close(sources[i].fd);
        }
        fprintf(stderr, "pf-flood: sent %" PRIu64 " datagrams in %.2f s\n", total,
                (double) (now_ns() - start) / 1e9);
        return 0;
}

/* ---- spoof ---------------------------------------------------------------------------------- */

static uint16_t ip_checksum(const void *data, size_t len) {
        const uint8_t *b = data;
        uint32_t sum = 0;

        for (size_t i = 0; i + 1 < len; i += 2)
                sum += (uint32_t) b[i] << 8 | b[i + 1];
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return htons((uint16_t) ~sum);
}

static int parse_mac(const char *text, uint8_t mac[6]) {
        unsigned v[6];

        if (sscanf(text, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
                return -EINVAL;
        for (int i = 0; i < 6; i++) {
                if (v[i] > 0xff)
                        return -EINVAL;
                mac[i] = (uint8_t) v[i];
        }
        return 0;
}

static int do_spoof(const char *dev, const char *dst_mac, const char *to, unsigned port, const char *prefix,
                    uint64_t sources, uint64_t per_source, unsigned rate, unsigned max_seconds) {
        struct {
                struct ether_header eth;
                struct iphdr ip;
                struct udphdr udp;
                uint32_t payload[2];
        } __attribute__((packed)) frame = {};
        struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_halen = 6 };
        char network[INET_ADDRSTRLEN] = "";
        struct in_addr base, dst;
        const char *slash = strchr(prefix, '/');
        unsigned len;
        uint64_t total = 0, count = sources * per_source, start, deadline, failed = 0;
        int fd;

        if (!slash || (size_t) (slash - prefix) >= sizeof(network))
                return die("not an IPv4 prefix: %s", prefix);
        memcpy(network, prefix, (size_t) (slash - prefix));
        if (inet_pton(AF_INET, network, &base) != 1 || sscanf(slash + 1, "%u", &len) != 1 || len > 32)
                return die("not an IPv4 prefix: %s", prefix);
        if (len < 32 && sources > (1ULL << (32 - len)))
                return die("more sources than the prefix holds: %s", prefix);
        if (inet_pton(AF_INET, to, &dst) != 1)
                return die("not an IPv4 address: %s", to);
        if (parse_mac(dst_mac, frame.eth.ether_dhost) < 0)
                return die("not a MAC address: %s", dst_mac);
        ll.sll_ifindex = (int) if_nametoindex(dev);
        if (ll.sll_ifindex == 0)
                return die("no such interface: %s", dev);
        memcpy(ll.sll_addr, frame.eth.ether_dhost, 6);

        fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return die("AF_PACKET socket: %m%s", "");

        frame.eth.ether_type = htons(ETH_P_IP);
        frame.ip.version = 4;
        frame.ip.ihl = 5;
        frame.ip.ttl = 64;
        frame.ip.protocol = IPPROTO_UDP;
        frame.ip.tot_len = htons(sizeof(frame) - sizeof(frame.eth));
        frame.ip.daddr = dst.s_addr;
        frame.udp.source = htons(40000);
        frame.udp.dest = htons(port);
        frame.udp.len = htons(sizeof(frame.udp) + sizeof(frame.payload));
        frame.payload[0] = htonl(PAYLOAD_MAGIC);

        install_signals();
        start = now_ns();
        deadline = start + (uint64_t) max_seconds * 1000000000u;
        while (total < count && !stop_requested) {
                uint64_t now = now_ns(), due;
                struct timespec pause = { 0, 200000 };

                if (now >= deadline)
                        break;
                due = (uint64_t) ((double) (now - start) * rate / 1e9) + 1;
                while (total < due && total < count) {
                        uint32_t host = ntohl(base.s_addr) + (uint32_t) (total % sources);

                        frame.ip.saddr = htonl(host);
                        frame.ip.id = htons((uint16_t) total);
                        frame.ip.check = 0;
                        frame.ip.check = ip_checksum(&frame.ip, sizeof(frame.ip));
                        frame.payload[1] = htonl((uint32_t) total);
                        if (sendto(fd, &frame, sizeof(frame), 0, (struct sockaddr *) &ll, sizeof(ll)) != sizeof(frame))
                                failed++;
                        total++;
                }
                nanosleep(&pause, NULL);
        }
        close(fd);
        printf("sent %" PRIu64 "\n", total - failed);
        fprintf(stderr, "pf-flood: spoofed %" PRIu64 " frames from %" PRIu64 " sources in %.2f s (%" PRIu64 " failed)\n",
                total, sources, (double) (now_ns() - start) / 1e9, failed);
        return 0;
}

/* ---- recv ------------------------------------------------------------------------------------ */

struct source_count {
        char text[INET6_ADDRSTRLEN];
        uint64_t count;
};

static void count_source(struct source_count *counts, size_t *n, size_t max, const struct sockaddr_in6 *from) {
        char text[INET6_ADDRSTRLEN];

        if (IN6_IS_ADDR_V4MAPPED(&from->sin6_addr))
                inet_ntop(AF_INET, &from->sin6_addr.s6_addr[12], text, sizeof(text));
        else
                inet_ntop(AF_INET6, &from->sin6_addr, text, sizeof(text));
        for (size_t i = 0; i < *n; i++)
                if (strcmp(counts[i].text, text) == 0) {
                        counts[i].count++;
                        return;
                }
        if (*n < max) {
                snprintf(counts[*n].text, sizeof(counts[*n].text), "%s", text);
                counts[(*n)++].count = 1;
        }
}

static int write_counts(const char *out, const struct source_count *counts, size_t n) {
        char tmp[4096];
        FILE *f;

        snprintf(tmp, sizeof(tmp), "%s.tmp", out);
        f = fopen(tmp, "we");
        if (!f)
                return die("cannot write %s: %m", tmp);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s %" PRIu64 "\n", counts[i].text, counts[i].count);
        if (fclose(f) != 0 || rename(tmp, out) < 0)
                return die("cannot write %s: %m", out);
        return 0;
}

static int do_recv(unsigned port, const char *out, unsigned max_seconds) {
        struct source_count counts[256];
        size_t n_counts = 0;
        struct sockaddr_in6 address = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_ANY_INIT };
        int fd, off = 0, size = 8 * 1024 * 1024;
        uint64_t deadline = now_ns() + (uint64_t) max_seconds * 1000000000u, ignored = 0;

        fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return die("socket: %m%s", "");
        /* One socket for both families; a big buffer so that a slow reader does not lose datagrams. */
        (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
                (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        if (bind(fd, (struct sockaddr *) &address, sizeof(address)) < 0)
                return die("cannot listen on the port: %m%s", "");

        install_signals();
        printf("listening\n");
        fflush(stdout);

        while (!stop_requested && now_ns() < deadline) {
                struct pollfd p = { .fd = fd, .events = POLLIN };

                if (poll(&p, 1, 100) <= 0)
                        continue;
                for (;;) {
                        struct sockaddr_in6 from;
                        socklen_t from_len = sizeof(from);
                        uint32_t payload[2];
                        ssize_t n;

                        n = recvfrom(fd, payload, sizeof(payload), 0, (struct sockaddr *) &from, &from_len);
                        if (n < 0)
                                break;
                        if (n != sizeof(payload) || ntohl(payload[0]) != PAYLOAD_MAGIC) {
                                ignored++;
                                continue;
                        }
                        count_source(counts, &n_counts, sizeof(counts) / sizeof(counts[0]), &from);
                }
        }
        /* What is still queued arrived before we stopped: count it. */
        for (;;) {
                struct sockaddr_in6 from;
                socklen_t from_len = sizeof(from);
                uint32_t payload[2];
                ssize_t n = recvfrom(fd, payload, sizeof(payload), 0, (struct sockaddr *) &from, &from_len);

                if (n < 0)
                        break;
                if (n == sizeof(payload) && ntohl(payload[0]) == PAYLOAD_MAGIC)
                        count_source(counts, &n_counts, sizeof(counts) / sizeof(counts[0]), &from);
        }
        close(fd);
        if (ignored)
                fprintf(stderr, "pf-flood: ignored %" PRIu64 " datagrams that were not ours\n", ignored);
        return write_counts(out, counts, n_counts);
}

/* ---- main ------------------------------------------------------------------------------------ */

static int usage(void) {
        fprintf(stderr,
                "usage: pf-flood send --to ADDR --port PORT --from SRC[,SRC...] --rate PPS --count N [--max-seconds S]\n"
                "       pf-flood spoof --dev IFACE --dst-mac MAC --to ADDR --port PORT --from PREFIX\n"
                "                      --sources N [--per-source K] --rate PPS [--max-seconds S]\n"
                "       pf-flood recv --port PORT --out FILE [--max-seconds S]\n");
        return 2;
}

static int parse_unsigned(const char *text, unsigned long long max, unsigned long long *ret) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(text, &end, 10);
        if (errno || end == text || *end || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "to",          required_argument, NULL, 't' },
                { "port",        required_argument, NULL, 'p' },
                { "from",        required_argument, NULL, 'f' },
                { "rate",        required_argument, NULL, 'r' },
                { "count",       required_argument, NULL, 'c' },
                { "max-seconds", required_argument, NULL, 'm' },
                { "out",         required_argument, NULL, 'o' },
                { "dev",         required_argument, NULL, 'd' },
                { "dst-mac",     required_argument, NULL, 'M' },
                { "sources",     required_argument, NULL, 's' },
                { "per-source",  required_argument, NULL, 'k' },
                {}
        };
        const char *to = NULL, *out = NULL, *dev = NULL, *dst_mac = NULL;
        char *from = NULL;
        unsigned long long port = 0, rate = 1000, count = 0, max_seconds = 60, sources = 0, per_source = 1, *target;
        int c;

        if (argc < 2)
                return usage();
        setvbuf(stdout, NULL, _IOLBF, 0);
        while ((c = getopt_long(argc - 1, argv + 1, "", options, NULL)) >= 0) {
                unsigned long long max = UINT32_MAX;

                switch (c) {
                case 't': to = optarg; continue;
                case 'f': from = optarg; continue;
                case 'o': out = optarg; continue;
                case 'd': dev = optarg; continue;
                case 'M': dst_mac = optarg; continue;
                case 's': target = &sources; max = 1u << 24; break;
                case 'k': target = &per_source; max = 1000; break;
                case 'p': target = &port; max = 65535; break;
                case 'r': target = &rate; break;
                case 'c': target = &count; max = UINT64_MAX; break;
                case 'm': target = &max_seconds; max = 3600; break;
                default: return usage();
                }
                if (parse_unsigned(optarg, max, target) < 0)
                        return die("bad number: %s", optarg);
        }
        if (optind + 1 != argc || port == 0 || max_seconds == 0)
                return usage();

        if (strcmp(argv[1], "send") == 0) {
                if (!to || !from || rate == 0 || count == 0)
                        return usage();
                return do_send(to, (unsigned) port, from, (unsigned) rate, count, (unsigned) max_seconds);
        }
        if (strcmp(argv[1], "spoof") == 0) {
                if (!dev || !dst_mac || !to || !from || rate == 0 || sources == 0 || per_source == 0)
                        return usage();
                return do_spoof(dev, dst_mac, to, (unsigned) port, from, sources, per_source, (unsigned) rate,
                                (unsigned) max_seconds);
        }
        if (strcmp(argv[1], "recv") == 0) {
                if (!out)
                        return usage();
                return do_recv((unsigned) port, out, (unsigned) max_seconds);
        }
        return usage();
}
