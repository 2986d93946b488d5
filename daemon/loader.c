/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The BPF loader: the only file that includes the skeleton. Everything else
 * sees the small API of loader.h.
 *
 * Pinning layout under the bpffs folder:
 *   maps/<map name>      every map (libbpf LIBBPF_PIN_BY_NAME): reused on restart,
 *                        so rules and counters live on while no daemon runs
 *   links/<ifname>       the XDP bpf_link of each interface: keeps the program
 *                        attached after the daemon exits
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "loader.h"
#include "log.h"
#include "macro.h"
#include "packetfilter.skel.h"

struct attachment {
        char ifname[IF_NAMESIZE];
        int ifindex;
        int link_fd;
        enum xdp_mode mode;             /* in effect: native or generic */
};

struct Loader {
        struct packetfilter_bpf *skel;
        char *bpffs_dir;                /* NULL: nothing is pinned */
        struct attachment *attachments;
        size_t n_attachments;
        int n_cpus;
};

static const char *const xdp_mode_names[_XDP_MODE_MAX] = {
        [XDP_MODE_AUTO] = "auto",
        [XDP_MODE_NATIVE] = "native",
        [XDP_MODE_GENERIC] = "generic",
};

const char *xdp_mode_to_string(enum xdp_mode m) {
        if (m < 0 || m >= _XDP_MODE_MAX)
                return NULL;
        return xdp_mode_names[m];
}

enum xdp_mode xdp_mode_from_string(const char *s) {
        for (int i = 0; i < _XDP_MODE_MAX; i++)
                if (s && streq(s, xdp_mode_names[i]))
                        return i;
        return _XDP_MODE_INVALID;
}

static int mkdir_if_missing(const char *path, mode_t mode) {
        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int libbpf_print_fn(enum libbpf_print_level level, const char *format, va_list args) {
        /* libbpf is chatty at debug level: only pass it on when we debug too. */
        if (level == LIBBPF_DEBUG && log_get_max_level() < LOG_DEBUG)
                return 0;
        return vfprintf(stderr, format, args);
}

static int loader_pin_path(Loader *l, const char *sub, const char *name, char **ret) {
        char *p;

        if (asprintf(&p, "%s/%s%s%s", l->bpffs_dir, sub, name ? "/" : "", name ?: "") < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int loader_new(const char *bpffs_dir, Loader **ret) {
        _cleanup_free_ char *maps_dir = NULL, *links_dir = NULL;
        Loader *l;
        int r;

        libbpf_set_print(libbpf_print_fn);

        l = calloc(1, sizeof(Loader));
        if (!l)
                return -ENOMEM;

        r = libbpf_num_possible_cpus();
        if (r < 0) {
                loader_free(l);
                return log_error_errno(r, "Failed to count possible CPUs: %m");
        }
        l->n_cpus = r;

        if (bpffs_dir) {
                l->bpffs_dir = strdup(bpffs_dir);
                if (!l->bpffs_dir) {
                        loader_free(l);
                        return -ENOMEM;
                }
                r = loader_pin_path(l, "maps", NULL, &maps_dir);
                if (r >= 0)
                        r = loader_pin_path(l, "links", NULL, &links_dir);
                if (r >= 0)
                        r = mkdir_if_missing(l->bpffs_dir, 0700);
                if (r >= 0)
                        r = mkdir_if_missing(maps_dir, 0700);
                if (r >= 0)
                        r = mkdir_if_missing(links_dir, 0700);
                if (r < 0) {
                        loader_free(l);
                        return log_error_errno(r, "Failed to create pin folders under %s: %m", bpffs_dir);
                }
        }

        LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = maps_dir);
        l->skel = packetfilter_bpf__open_opts(&opts);
        if (!l->skel) {
                r = negative_errno();
                loader_free(l);
                return log_error_errno(r, "Failed to open BPF object: %m");
        }

        if (!bpffs_dir) {
                struct bpf_map *map;

                /* Without a pin root libbpf would pin LIBBPF_PIN_BY_NAME maps in /sys/fs/bpf. */
                bpf_object__for_each_map(map, l->skel->obj) {
                        r = bpf_map__set_pin_path(map, NULL);
                        if (r < 0) {
                                loader_free(l);
                                return log_error_errno(r, "Failed to unset pin path: %m");
                        }
                }
        }

        r = packetfilter_bpf__load(l->skel);
        if (r < 0) {
                loader_free(l);
                return log_error_errno(r, "Failed to load BPF program: %m");
        }

        *ret = l;
        return 0;
}

Loader *loader_free(Loader *l) {
        if (!l)
                return NULL;
        /* Closing a pinned link's fd leaves it attached: that is the point of the pin. */
        for (size_t i = 0; i < l->n_attachments; i++)
                closep(&l->attachments[i].link_fd);
        free(l->attachments);
        packetfilter_bpf__destroy(l->skel);
        free(l->bpffs_dir);
        free(l);
        return NULL;
}

int loader_prog_fd(Loader *l) {
        return bpf_program__fd(l->skel->progs.packetfilter_xdp);
}

static struct attachment *loader_find_attachment(Loader *l, const char *ifname) {
        for (size_t i = 0; i < l->n_attachments; i++)
                if (streq(l->attachments[i].ifname, ifname))
                        return &l->attachments[i];
        return NULL;
}

/* Which mode is our link in? The kernel reports the program per attach mode. */
static enum xdp_mode xdp_query_mode(int ifindex, int prog_fd) {
        struct bpf_prog_info info = {};
        __u32 len = sizeof(info);
        LIBBPF_OPTS(bpf_xdp_query_opts, q);

        if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0)
                return _XDP_MODE_INVALID;
        if (bpf_xdp_query(ifindex, 0, &q) < 0)
                return _XDP_MODE_INVALID;
        if (q.drv_prog_id == info.id)
                return XDP_MODE_NATIVE;
        if (q.skb_prog_id == info.id)
                return XDP_MODE_GENERIC;
        return _XDP_MODE_INVALID;
}

static int xdp_link_create(int prog_fd, int ifindex, enum xdp_mode mode, enum xdp_mode *ret_mode) {
        static const struct {
                enum xdp_mode mode;
                __u32 flags;
        } tries[] = {
                { XDP_MODE_NATIVE, XDP_FLAGS_DRV_MODE },
                { XDP_MODE_GENERIC, XDP_FLAGS_SKB_MODE },
        };
        int r = -EOPNOTSUPP;

        for (size_t i = 0; i < ELEMENTSOF(tries); i++) {
                LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = tries[i].flags);
                int fd;

                if (mode != XDP_MODE_AUTO && mode != tries[i].mode)
                        continue;

                fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
                if (fd >= 0) {
                        *ret_mode = tries[i].mode;
                        return fd;
                }
                r = fd;
                log_debug_errno(r, "XDP attach in %s mode to ifindex %d failed: %m",
                                xdp_mode_to_string(tries[i].mode), ifindex);
        }
        return r;
}

/* Opens a pinned link and checks that it still belongs to ifindex (a link outlives a deleted interface, defunct). */
static int loader_open_pinned_link(const char *path, int ifindex) {
        struct bpf_link_info info = {};
        __u32 len = sizeof(info);
        _cleanup_close_ int fd = -1;

        fd = bpf_obj_get(path);
        if (fd < 0)
                return fd;
        if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
                return negative_errno();
        if (info.type != BPF_LINK_TYPE_XDP || (int) info.xdp.ifindex != ifindex)
                return -ESTALE;
        return TAKE_FD(fd);
}

static int loader_record_attachment(Loader *l, struct attachment *a, const char *ifname, int ifindex,
                                    int link_fd, enum xdp_mode in_effect, enum xdp_mode *ret_mode) {
        if (!a) {
                struct attachment *as;

                as = reallocarray(l->attachments, l->n_attachments + 1, sizeof(struct attachment));
                if (!as) {
                        closep(&link_fd);
                        return -ENOMEM;
                }
                l->attachments = as;
                a = &l->attachments[l->n_attachments++];
                *a = (struct attachment) {};
                snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
        }
        a->ifindex = ifindex;
        a->link_fd = link_fd;
        a->mode = in_effect;
        if (ret_mode)
                *ret_mode = in_effect;
        return 0;
}

int loader_attach(Loader *l, const char *ifname, enum xdp_mode mode, enum xdp_mode *ret_mode) {
        _cleanup_free_ char *pin = NULL;
        _cleanup_close_ int link_fd = -1, old_fd = -1;
        enum xdp_mode in_effect = _XDP_MODE_INVALID;
        struct attachment *a;
        int ifindex, prog_fd = loader_prog_fd(l), r;

        if (strlen(ifname) >= IF_NAMESIZE)
                return -ENODEV;
        ifindex = (int) if_nametoindex(ifname);
        if (ifindex == 0)
                return -ENODEV;

        if (l->bpffs_dir) {
                r = loader_pin_path(l, "links", ifname, &pin);
                if (r < 0)
                        return r;
        }

        a = loader_find_attachment(l, ifname);
        if (a && a->ifindex != ifindex)
                closep(&a->link_fd);    /* its interface was deleted; the link is defunct */
        if (a && a->link_fd >= 0)
                old_fd = TAKE_FD(a->link_fd);
        else if (pin) {
                old_fd = loader_open_pinned_link(pin, ifindex);
                if (old_fd == -ESTALE) {
                        log_info("Pinned link for %s belongs to an interface that is gone, replacing it.", ifname);
                        (void) unlink(pin);
                }
        }

        if (old_fd >= 0) {
                /* Adopt the running link: swap our program in, no gap. */
                r = bpf_link_update(old_fd, prog_fd, NULL);
                if (r < 0) {
                        if (a)
                                a->link_fd = TAKE_FD(old_fd);
                        return log_error_errno(r, "Failed to update XDP link on %s: %m", ifname);
                }
                in_effect = xdp_query_mode(ifindex, prog_fd);
                if (mode == XDP_MODE_AUTO || mode == in_effect)
                        return loader_record_attachment(l, a, ifname, ifindex, TAKE_FD(old_fd), in_effect, ret_mode);
                /* Another mode was asked for: attach in it first, then drop the old link,
                 * so that the interface is filtered at every moment. */
        }

        link_fd = xdp_link_create(prog_fd, ifindex, mode, &in_effect);
        if (link_fd < 0) {
                r = link_fd;
                if (a && old_fd >= 0)
                        a->link_fd = TAKE_FD(old_fd);
                return log_warning_errno(r, "Failed to attach XDP to %s in %s mode: %m",
                                         ifname, xdp_mode_to_string(mode));
        }
        if (pin) {
                (void) unlink(pin);
                if (bpf_obj_pin(link_fd, pin) < 0) {
                        r = negative_errno();
                        if (a && old_fd >= 0)
                                a->link_fd = TAKE_FD(old_fd);
                        return log_error_errno(r, "Failed to pin XDP link at %s: %m", pin);
                }
        }
        if (old_fd >= 0)
                (void) bpf_link_detach(old_fd);

        return loader_record_attachment(l, a, ifname, ifindex, TAKE_FD(link_fd), in_effect, ret_mode);
}

int loader_detach(Loader *l, const char *ifname) {
        _cleanup_free_ char *pin = NULL;
        _cleanup_close_ int fd = -1;
        struct attachment *a;
        int r;

        a = loader_find_attachment(l, ifname);
        if (a) {
                fd = TAKE_FD(a->link_fd);
                *a = l->attachments[--l->n_attachments];
        }

        if (l->bpffs_dir) {
                r = loader_pin_path(l, "links", ifname, &pin);
                if (r < 0)
                        return r;
                if (fd < 0)
                        fd = bpf_obj_get(pin);
                (void) unlink(pin);
        }
        if (fd < 0)
                return -ENOENT;

        /* Detach explicitly: another holder of the link (bpftool, a stale fd) must not keep it alive. */
        r = bpf_link_detach(fd);
        if (r < 0 && r != -ENOLINK)
                return log_error_errno(r, "Failed to detach XDP link from %s: %m", ifname);
        return 0;
}

bool loader_is_attached(Loader *l, const char *ifname) {
        _cleanup_free_ char *pin = NULL;

        if (loader_find_attachment(l, ifname))
                return true;
        if (!l->bpffs_dir || loader_pin_path(l, "links", ifname, &pin) < 0)
                return false;
        return access(pin, F_OK) == 0;
}

static void prefix_to_key_v4(const struct prefix *p, struct pf_lpm_v4_key *k) {
        *k = (struct pf_lpm_v4_key) { .prefixlen = p->prefixlen };
        memcpy(k->addr, p->addr, sizeof(k->addr));
}

static void prefix_to_key_v6(const struct prefix *p, struct pf_lpm_v6_key *k) {
        *k = (struct pf_lpm_v6_key) { .prefixlen = p->prefixlen };
        memcpy(k->addr, p->addr, sizeof(k->addr));
}

int loader_prefix_set(Loader *l, const struct prefix *p, uint32_t rule_slot, enum pf_action action) {
        struct pf_prefix_value v = { .rule_slot = rule_slot, .action = action };
        int r;

        if (rule_slot >= PF_MAX_RULES)
                return -ERANGE;

        if (p->family == AF_INET) {
                struct pf_lpm_v4_key k;

                prefix_to_key_v4(p, &k);
                r = bpf_map__update_elem(l->skel->maps.pf_src_v4, &k, sizeof(k), &v, sizeof(v), BPF_ANY);
        } else {
                struct pf_lpm_v6_key k;

                prefix_to_key_v6(p, &k);
                r = bpf_map__update_elem(l->skel->maps.pf_src_v6, &k, sizeof(k), &v, sizeof(v), BPF_ANY);
        }
        return r < 0 ? r : 0;
}

int loader_prefix_delete(Loader *l, const struct prefix *p) {
        int r;

        if (p->family == AF_INET) {
                struct pf_lpm_v4_key k;

                prefix_to_key_v4(p, &k);
                r = bpf_map__delete_elem(l->skel->maps.pf_src_v4, &k, sizeof(k), 0);
        } else {
                struct pf_lpm_v6_key k;

                prefix_to_key_v6(p, &k);
                r = bpf_map__delete_elem(l->skel->maps.pf_src_v6, &k, sizeof(k), 0);
        }
        return r < 0 ? r : 0;
}

/* Walks one LPM map and deletes what keep() rejects. Keys are collected first:
 * deleting while iterating would restart the walk. */
static int loader_prune_map(struct bpf_map *map, int family, size_t key_size,
                            bool (*keep)(const struct prefix *p, void *userdata), void *userdata) {
        _cleanup_free_ uint8_t *keys = NULL;
        uint8_t key[sizeof(struct pf_lpm_v6_key)], *prev = NULL;
        size_t n = 0, allocated = 0;
        int r;

        for (;;) {
                r = bpf_map__get_next_key(map, prev, key, key_size);
                if (r == -ENOENT)
                        break;
                if (r < 0)
                        return r;
                if (n == allocated) {
                        size_t want = allocated ? allocated * 2 : 64;
                        uint8_t *k = reallocarray(keys, want, key_size);

                        if (!k)
                                return -ENOMEM;
                        keys = k;
                        allocated = want;
                }
                memcpy(keys + n * key_size, key, key_size);
                prev = keys + n * key_size;
                n++;
        }

        for (size_t i = 0; i < n; i++) {
                uint8_t *k = keys + i * key_size;
                struct prefix p = { .family = family };
                uint32_t prefixlen;

                memcpy(&prefixlen, k, sizeof(prefixlen));
                p.prefixlen = (uint8_t) prefixlen;
                memcpy(p.addr, k + sizeof(prefixlen), key_size - sizeof(prefixlen));
                if (keep(&p, userdata))
                        continue;
                r = bpf_map__delete_elem(map, k, key_size, 0);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}

int loader_prefix_prune(Loader *l, bool (*keep)(const struct prefix *p, void *userdata), void *userdata) {
        int r;

        r = loader_prune_map(l->skel->maps.pf_src_v4, AF_INET, sizeof(struct pf_lpm_v4_key), keep, userdata);
        if (r < 0)
                return r;
        return loader_prune_map(l->skel->maps.pf_src_v6, AF_INET6, sizeof(struct pf_lpm_v6_key), keep, userdata);
}

int loader_set_default_action(Loader *l, enum pf_action a) {
        struct pf_config c = { .default_action = a };
        __u32 key = 0;

        return bpf_map__update_elem(l->skel->maps.pf_config, &key, sizeof(key), &c, sizeof(c), BPF_ANY);
}

int loader_counter_read(Loader *l, uint32_t rule_slot, uint64_t *ret_packets, uint64_t *ret_bytes) {
        _cleanup_free_ struct pf_counter *per_cpu = NULL;
        uint64_t packets = 0, bytes = 0;
        int r;

        if (rule_slot >= PF_MAX_RULES)
                return -ERANGE;
        per_cpu = calloc(l->n_cpus, sizeof(struct pf_counter));
        if (!per_cpu)
                return -ENOMEM;
        r = bpf_map__lookup_elem(l->skel->maps.pf_counters, &rule_slot, sizeof(rule_slot),
                                 per_cpu, l->n_cpus * sizeof(struct pf_counter), 0);
        if (r < 0)
                return r;
        for (int i = 0; i < l->n_cpus; i++) {
                packets += per_cpu[i].packets;
                bytes += per_cpu[i].bytes;
        }
        *ret_packets = packets;
        *ret_bytes = bytes;
        return 0;
}

int loader_counter_reset(Loader *l, uint32_t rule_slot) {
        _cleanup_free_ struct pf_counter *zero = NULL;

        if (rule_slot >= PF_MAX_RULES)
                return -ERANGE;
        zero = calloc(l->n_cpus, sizeof(struct pf_counter));
        if (!zero)
                return -ENOMEM;
        return bpf_map__update_elem(l->skel->maps.pf_counters, &rule_slot, sizeof(rule_slot),
                                    zero, l->n_cpus * sizeof(struct pf_counter), BPF_ANY);
}

int loader_statistics_read(Loader *l, struct pf_statistics *ret) {
        _cleanup_free_ uint64_t *per_cpu = NULL;
        struct pf_statistics s = {};
        int r;

        per_cpu = calloc(l->n_cpus, sizeof(uint64_t));
        if (!per_cpu)
                return -ENOMEM;
        for (uint32_t i = 0; i < _PF_STAT_MAX; i++) {
                r = bpf_map__lookup_elem(l->skel->maps.pf_stats, &i, sizeof(i),
                                         per_cpu, l->n_cpus * sizeof(uint64_t), 0);
                if (r < 0)
                        return r;
                for (int c = 0; c < l->n_cpus; c++)
                        s.v[i] += per_cpu[c];
        }
        *ret = s;
        return 0;
}
