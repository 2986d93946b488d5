/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "driver.skel.h"
#include "floor.skel.h"
#include "log.h"
#include "lpm.skel.h"
#include "loader.h"
#include "peers.h"

/* ---- floor ---- */

struct Floor {
        struct floor_bpf *skel;
};

int floor_new(Floor **ret) {
        Floor *f = calloc(1, sizeof(*f));

        if (!f)
                return -ENOMEM;
        f->skel = floor_bpf__open_and_load();
        if (!f->skel) {
                int r = negative_errno();

                free(f);
                return log_error_errno(r, "Failed to load the floor program: %m");
        }
        *ret = f;
        return 0;
}

Floor *floor_free(Floor *f) {
        if (!f)
                return NULL;
        floor_bpf__destroy(f->skel);
        free(f);
        return NULL;
}

int floor_prog_fd(Floor *f) {
        return bpf_program__fd(f->skel->progs.floor_xdp);
}

int floor_memory_prog_fd(Floor *f) {
        return bpf_program__fd(f->skel->progs.memory_xdp);
}

/* ---- kernel LPM trie ---- */

struct Lpm {
        struct lpm_bpf *skel;
};

int lpm_new(Lpm **ret) {
        Lpm *l = calloc(1, sizeof(*l));

        if (!l)
                return -ENOMEM;
        l->skel = lpm_bpf__open_and_load();
        if (!l->skel) {
                int r = negative_errno();

                free(l);
                return log_error_errno(r, "Failed to load the LPM trie program: %m");
        }
        *ret = l;
        return 0;
}

Lpm *lpm_free(Lpm *l) {
        if (!l)
                return NULL;
        lpm_bpf__destroy(l->skel);
        free(l);
        return NULL;
}

int lpm_prog_fd(Lpm *l) {
        return bpf_program__fd(l->skel->progs.lpm_xdp);
}

int lpm_add(Lpm *l, const struct bench_prefix *p, size_t n) {
        int fd = bpf_map__fd(l->skel->maps.lpm_v4);
        uint32_t drop = 1;

        for (size_t i = 0; i < n; i++) {
                struct bench_lpm_v4_key key = { .prefixlen = p[i].len };
                uint32_t be = htonl(p[i].addr);

                memcpy(key.addr, &be, 4);
                if (bpf_map_update_elem(fd, &key, &drop, BPF_ANY) < 0)
                        return log_error_errno(negative_errno(), "Failed to add prefix %zu to the LPM trie: %m", i);
        }
        return 0;
}

uint64_t lpm_map_memory(Lpm *l) {
        return map_fd_memory(bpf_map__fd(l->skel->maps.lpm_v4));
}

int lpm_mixed_prog_fd(Lpm *l) {
        return bpf_program__fd(l->skel->progs.lpm_mixed_xdp);
}

int lpm_add_mixed(Lpm *l, const struct pg_prefix *p, size_t n) {
        int fd4 = bpf_map__fd(l->skel->maps.lpm_v4), fd6 = bpf_map__fd(l->skel->maps.lpm_v6);
        uint32_t drop = 1;

        for (size_t i = 0; i < n; i++) {
                int r;

                if (p[i].family == 4) {
                        struct bench_lpm_v4_key key = { .prefixlen = p[i].len };

                        memcpy(key.addr, p[i].addr, 4);
                        r = bpf_map_update_elem(fd4, &key, &drop, BPF_ANY);
                } else {
                        struct bench_lpm_v6_key key = { .prefixlen = p[i].len };

                        memcpy(key.addr, p[i].addr, 16);
                        r = bpf_map_update_elem(fd6, &key, &drop, BPF_ANY);
                }
                if (r < 0)
                        return log_error_errno(negative_errno(), "Failed to add prefix %zu to the LPM tries: %m", i);
        }
        return 0;
}

uint64_t lpm_mixed_map_memory(Lpm *l) {
        return map_fd_memory(bpf_map__fd(l->skel->maps.lpm_v4)) + map_fd_memory(bpf_map__fd(l->skel->maps.lpm_v6));
}

/* ---- xdp-filter ---- */

/* xdp-filter's map values (xdp-filter/common_kern_user.h): flags in the low bits, a counter above. */
#define XDPFILT_FLAG_SRC (1u << 0)
#define XDPFILT_FLAG_DST (1u << 1)
#define XDPFILT_FLAG_TCP (1u << 2)
#define XDPFILT_FLAG_UDP (1u << 3)
#define XDPFILT_OBJECT "xdpfilt_alw_all.o"      /* policy allow, features tcp,udp,ipv4,ipv6,ethernet */

struct XdpFilter {
        struct bpf_object *obj;
        int prog_fd;
        char *path;
};

/* Where libxdp (package libxdp1) installs the objects; LIBXDP_OBJECT_PATH first, as libxdp does. */
static int xdp_filter_find_object(char **ret) {
        const char *dirs[] = {
                getenv("LIBXDP_OBJECT_PATH"),
                BENCH_MULTIARCH_BPF_DIR,
                "/usr/lib/bpf",
                "/usr/local/lib/bpf",
                "/usr/lib64/bpf",
                "/usr/share/xdp-tools",
        };

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                char *path;

                if (!dirs[i] || dirs[i][0] == '\0')
                        continue;
                if (asprintf(&path, "%s/%s", dirs[i], XDPFILT_OBJECT) < 0)
                        return -ENOMEM;
                if (access(path, R_OK) == 0) {
                        *ret = path;
                        return 0;
                }
                free(path);
        }
        return -ENOENT;
}

/* As xdp-filter's map_set_flags(): per-CPU values, the same flags on every CPU. */
static int xdp_filter_set_flags(struct bpf_object *obj, const char *map_name, const void *key, uint64_t flags) {
        struct bpf_map *map = bpf_object__find_map_by_name(obj, map_name);
        _cleanup_free_ uint64_t *values = NULL;
        int n_cpus = libbpf_num_possible_cpus();

        if (!map)
                return log_error_errno(-ENOENT, "xdp-filter's object has no map %s.", map_name);
        if (n_cpus < 0)
                return n_cpus;
        values = calloc(n_cpus, sizeof(*values));
        if (!values)
                return -ENOMEM;
        for (int i = 0; i < n_cpus; i++)
                values[i] = flags;
        if (bpf_map_update_elem(bpf_map__fd(map), key, values, BPF_ANY) < 0)
                return log_error_errno(negative_errno(), "Failed to write xdp-filter's map %s: %m", map_name);
        return 0;
}

int xdp_filter_new(uint32_t blocked_source, uint16_t blocked_port, XdpFilter **ret) {
        _cleanup_(xdp_filter_freep) XdpFilter *x = NULL;
        struct bpf_program *prog;
        struct bpf_map *map;
        uint32_t addr_key = htonl(blocked_source);
        uint32_t port_key = htons(blocked_port);       /* the program keys on the __be16 as loaded */
        int r;

        x = calloc(1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        x->prog_fd = -1;
        r = xdp_filter_find_object(&x->path);
        if (r < 0)
                return r;

        x->obj = bpf_object__open_file(x->path, NULL);
        if (!x->obj) {
                r = negative_errno();
                x->obj = NULL;
                return log_error_errno(r, "Failed to open %s: %m", x->path);
        }
        /* Its maps ask to be pinned by name under /sys/fs/bpf: keep them private to this process. */
        bpf_object__for_each_map(map, x->obj) {
                r = bpf_map__set_pin_path(map, NULL);
                if (r < 0)
                        return log_error_errno(r, "Failed to unpin xdp-filter's map %s: %m", bpf_map__name(map));
        }
        r = bpf_object__load(x->obj);
        if (r < 0)
                return log_error_errno(r, "Failed to load %s: %m", x->path);
        prog = bpf_object__next_program(x->obj, NULL);
        if (!prog)
                return log_error_errno(-ENOENT, "%s holds no program.", x->path);
        x->prog_fd = bpf_program__fd(prog);

        r = xdp_filter_set_flags(x->obj, "filter_ipv4", &addr_key, XDPFILT_FLAG_SRC);
        if (r < 0)
                return r;
        r = xdp_filter_set_flags(x->obj, "filter_ports", &port_key,
                                 XDPFILT_FLAG_DST | XDPFILT_FLAG_TCP | XDPFILT_FLAG_UDP);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(x);
        return 0;
}

XdpFilter *xdp_filter_free(XdpFilter *x) {
        if (!x)
                return NULL;
        bpf_object__close(x->obj);
        free(x->path);
        free(x);
        return NULL;
}

int xdp_filter_prog_fd(XdpFilter *x) {
        return x->prog_fd;
}

const char *xdp_filter_object_path(XdpFilter *x) {
        return x->path;
}

/* ---- cold driver ---- */

#define DRIVER_BATCH 4096u              /* entries per batch update: the kernel caps one batch */

struct Driver {
        struct driver_bpf *skel;
};

int driver_new(Driver **ret) {
        Driver *d = calloc(1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        d->skel = driver_bpf__open_and_load();
        if (!d->skel) {
                int r = negative_errno();

                free(d);
                return log_error_errno(r, "Failed to load the cold driver: %m");
        }
        *ret = d;
        return 0;
}

Driver *driver_free(Driver *d) {
        if (!d)
                return NULL;
        driver_bpf__destroy(d->skel);
        free(d);
        return NULL;
}

int driver_prog_fd(Driver *d) {
        return bpf_program__fd(d->skel->progs.driver_xdp);
}

int driver_set_target(Driver *d, int prog_fd) {
        uint32_t zero = 0;

        if (bpf_map_update_elem(bpf_map__fd(d->skel->maps.driver_target), &zero, &prog_fd, BPF_ANY) < 0)
                return log_error_errno(negative_errno(), "Failed to point the cold driver at program fd %d: %m",
                                       prog_fd);
        return 0;
}

int driver_set_sources(Driver *d, const uint32_t *addrs, size_t n) {
        _cleanup_free_ uint32_t *keys = NULL, *values = NULL;
        uint32_t zero = 0;
        int n_cpus = libbpf_num_possible_cpus();
        _cleanup_free_ uint32_t *cursors = NULL;

        if (n == 0 || n_cpus < 0)
                return -EINVAL;
        keys = calloc(BENCH_DRIVER_ADDRS, sizeof(*keys));
        values = calloc(BENCH_DRIVER_ADDRS, sizeof(*values));
        cursors = calloc(n_cpus, sizeof(*cursors));
        if (!keys || !values || !cursors)
                return -ENOMEM;
        for (uint32_t i = 0; i < BENCH_DRIVER_ADDRS; i++) {
                keys[i] = i;
                values[i] = htonl(addrs[i % n]);
        }
        for (uint32_t first = 0; first < BENCH_DRIVER_ADDRS; first += DRIVER_BATCH) {
                uint32_t count = DRIVER_BATCH;

                if (bpf_map_update_batch(bpf_map__fd(d->skel->maps.driver_addrs), keys + first, values + first,
                                         &count, NULL) < 0)
                        return log_error_errno(negative_errno(), "Failed to write the cold driver's sources: %m");
        }
        /* Start every run list from its beginning. */
        if (bpf_map_update_elem(bpf_map__fd(d->skel->maps.driver_cursor), &zero, cursors, BPF_ANY) < 0)
                return log_error_errno(negative_errno(), "Failed to reset the cold driver: %m");
        return 0;
}

/* ---- memory ---- */

uint64_t map_fd_memory(int fd) {
        return loader_fd_memory(fd);
}

int prog_map_memory(int prog_fd, struct map_memory **ret, size_t *ret_n) {
        struct bpf_prog_info info = {};
        uint32_t len = sizeof(info);
        _cleanup_free_ uint32_t *ids = NULL;
        _cleanup_free_ struct map_memory *v = NULL;
        uint32_t n;

        if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0)
                return negative_errno();
        n = info.nr_map_ids;
        ids = calloc(n ?: 1, sizeof(*ids));
        v = calloc(n ?: 1, sizeof(*v));
        if (!ids || !v)
                return -ENOMEM;
        info = (struct bpf_prog_info) { .nr_map_ids = n, .map_ids = (uint64_t) (uintptr_t) ids };
        len = sizeof(info);
        if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0)
                return negative_errno();

        for (uint32_t i = 0; i < n; i++) {
                struct bpf_map_info map_info = {};
                uint32_t map_len = sizeof(map_info);
                _cleanup_close_ int fd = bpf_map_get_fd_by_id(ids[i]);

                if (fd < 0 || bpf_obj_get_info_by_fd(fd, &map_info, &map_len) < 0)
                        return negative_errno();
                memcpy(v[i].name, map_info.name, sizeof(v[i].name));
                v[i].name[sizeof(v[i].name) - 1] = '\0';
                v[i].type = map_info.type;
                v[i].max_entries = map_info.max_entries;
                v[i].bytes = map_fd_memory(fd);
        }
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

uint64_t process_rss(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        uint64_t kib = 0;

        if (!f)
                return 0;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %" SCNu64 " kB", &kib) == 1)
                        break;
        return kib * 1024;
}
