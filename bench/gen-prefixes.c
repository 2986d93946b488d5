/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gen-prefixes: deterministic mixed IPv4/IPv6 prefix lists for the sets
 * benchmarks (issue 7), and source addresses of which a chosen fraction are
 * members of such a list. The entries come from bench/prefixgen.c, the same
 * code pf-bench fills the kernel LPM trie from. See --help.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefixgen.h"

enum format {
        FORMAT_PLAIN,                   /* "192.0.2.0/24" */
        FORMAT_SPAMHAUS,                /* "192.0.2.0/24 ; SBL123456", after a "; " header */
        FORMAT_HASH,                    /* "192.0.2.0/24 # entry 7", after a "# " header */
};

static void help(void) {
        printf("gen-prefixes [OPTIONS]\n\n"
               "Writes a deterministic list of distinct prefixes, one per line: by default the feed mix\n"
               "60%% IPv4 /32 hosts, 25%% IPv4 /16../24 networks (mostly /24), 15%% IPv6 (/128 hosts, /64,\n"
               "/48, /32../63). Hosts are written without a length. No entry touches the ranges the test\n"
               "sandbox uses (192.0.2.0/24, 2001:db8::/32) nor other special ranges; 198.51.100.0/24 and\n"
               "203.0.113.0/24 are never generated, so a test can add an address from them on purpose.\n\n"
               "  -n, --count N          entries (default 1000000)\n"
               "  -s, --seed N           seed (default 1): another seed, another list\n"
               "  -f, --family F         mixed (default), 4 (IPv4 only) or 6 (IPv6 only)\n"
               "  -p, --part K/N         only prefixes whose first IPv4 octet (IPv6: second group) is K\n"
               "                         modulo N: lists of different parts are disjoint (replace case)\n"
               "      --format F         plain (default), spamhaus (\"PREFIX ; SBLnnnnnn\"), hash (\"PREFIX # ...\")\n"
               "      --sources K        write K source addresses instead of the list\n"
               "      --members F        with --sources: the fraction (0..1) inside prefixes of the list\n"
               "                         (default 0.5); the others are in no prefix of it\n"
               "      --sources-seed N   seed of the sources (default: the list's seed + 1)\n"
               "  -o, --output FILE      write to FILE instead of stdout\n");
}

static int parse_u64(const char *text, uint64_t *ret) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(text, &end, 0);
        if (errno || end == text || *end || text[0] == '-')
                return -EINVAL;
        *ret = v;
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "count", required_argument, NULL, 'n' },
                { "seed", required_argument, NULL, 's' },
                { "family", required_argument, NULL, 'f' },
                { "part", required_argument, NULL, 'p' },
                { "format", required_argument, NULL, 'F' },
                { "sources", required_argument, NULL, 'S' },
                { "members", required_argument, NULL, 'm' },
                { "sources-seed", required_argument, NULL, 'x' },
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        struct pg_options o = { .seed = 1, .count = 1000000, .mix = PG_MIXED };
        enum format format = FORMAT_PLAIN;
        uint64_t n_sources = 0, sources_seed = 0, v;
        bool have_sources_seed = false;
        double members = 0.5;
        const char *output = NULL;
        _cleanup_free_ struct pg_prefix *p = NULL;
        char buf[PG_FORMAT_MAX];
        static char out_buf[1 << 20];
        int c, r;

        while ((c = getopt_long(argc, argv, "n:s:f:p:o:h", options, NULL)) >= 0) {
                switch (c) {
                case 'n':
                        if (parse_u64(optarg, &v) < 0 || v == 0 || v > 16u << 20)
                                goto bad;
                        o.count = (size_t) v;
                        break;
                case 's':
                        if (parse_u64(optarg, &o.seed) < 0)
                                goto bad;
                        break;
                case 'f':
                        if (strcmp(optarg, "mixed") == 0)
                                o.mix = PG_MIXED;
                        else if (strcmp(optarg, "4") == 0 || strcmp(optarg, "ipv4") == 0)
                                o.mix = PG_IPV4_ONLY;
                        else if (strcmp(optarg, "6") == 0 || strcmp(optarg, "ipv6") == 0)
                                o.mix = PG_IPV6_ONLY;
                        else
                                goto bad;
                        break;
                case 'p':
                        if (sscanf(optarg, "%u/%u", &o.part, &o.parts) != 2 || o.parts == 0 || o.parts > 256 ||
                            o.part >= o.parts)
                                goto bad;
                        break;
                case 'F':
                        if (strcmp(optarg, "plain") == 0)
                                format = FORMAT_PLAIN;
                        else if (strcmp(optarg, "spamhaus") == 0)
                                format = FORMAT_SPAMHAUS;
                        else if (strcmp(optarg, "hash") == 0)
                                format = FORMAT_HASH;
                        else
                                goto bad;
                        break;
                case 'S':
                        if (parse_u64(optarg, &n_sources) < 0 || n_sources == 0 || n_sources > 64u << 20)
                                goto bad;
                        break;
                case 'm': {
                        char *end;

                        members = strtod(optarg, &end);
                        if (end == optarg || *end || !(members >= 0 && members <= 1))
                                goto bad;
                        break;
                }
                case 'x':
                        if (parse_u64(optarg, &sources_seed) < 0)
                                goto bad;
                        have_sources_seed = true;
                        break;
                case 'o':
                        output = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return 2;
                }
                continue;
        bad:
                fprintf(stderr, "gen-prefixes: bad value for option %s: %s\n", argv[optind - 1], optarg);
                return 2;
        }
        if (optind < argc) {
                fprintf(stderr, "gen-prefixes: unexpected argument: %s\n", argv[optind]);
                return 2;
        }

        if (output && !freopen(output, "we", stdout)) {
                fprintf(stderr, "gen-prefixes: cannot write %s: %m\n", output);
                return 1;
        }
        setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf));

        r = pg_generate(&o, &p);
        if (r < 0) {
                fprintf(stderr, "gen-prefixes: cannot generate: %s\n", strerror(-r));
                return 1;
        }

        if (n_sources > 0) {
                _cleanup_free_ struct pg_address *a = NULL;

                r = pg_sources(have_sources_seed ? sources_seed : o.seed + 1, p, o.count, (size_t) n_sources,
                               members, &a);
                if (r < 0) {
                        fprintf(stderr, "gen-prefixes: cannot generate sources: %s\n", strerror(-r));
                        return 1;
                }
                for (size_t i = 0; i < n_sources; i++) {
                        fputs(pg_format_address(&a[i], buf), stdout);
                        fputc('\n', stdout);
                }
        } else {
                if (format == FORMAT_SPAMHAUS)
                        printf("; gen-prefixes seed %llu, %zu entries\n", (unsigned long long) o.seed, o.count);
                else if (format == FORMAT_HASH)
                        printf("# gen-prefixes seed %llu, %zu entries\n", (unsigned long long) o.seed, o.count);
                for (size_t i = 0; i < o.count; i++) {
                        fputs(pg_format_prefix(&p[i], buf), stdout);
                        if (format == FORMAT_SPAMHAUS)
                                printf(" ; SBL%06zu\n", 100000 + i);
                        else if (format == FORMAT_HASH)
                                printf(" # entry %zu\n", i);
                        else
                                fputc('\n', stdout);
                }
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "gen-prefixes: write error: %m\n");
                return 1;
        }
        return 0;
}
