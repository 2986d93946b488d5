/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The BPF loader: the only file that includes the skeleton. Everything else
 * sees the small API of loader.h.
 *
 * Pinning layout under the bpffs folder:
 *   maps-<abi>/<map>     every map (libbpf LIBBPF_PIN_BY_NAME): reused on restart,
 *                        so rules and counters live on while no daemon runs; <abi> is
 *                        PF_ABI_VERSION, so an upgrade with other maps starts afresh
 *   links/<ifname>       the XDP bpf_link of each interface: keeps the program
 *                        attached after the daemon exits
 *
 * Writing tables: every table the program reads has two copies; see
 * loader_commit() for how a change reaches packets without a mixed moment.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "block-table.h"
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

/* An mmapped array map: elements sit at 8-byte aligned strides. */
struct mapped_array {
        uint8_t *base;
        size_t elem_size;
        size_t n;
        size_t length;
};

struct Loader {
        struct packetfilter_bpf *skel;
        char *bpffs_dir;                /* NULL: nothing is pinned */
        struct attachment *attachments;
        size_t n_attachments;
        int n_cpus;

        struct mapped_array tbl24, set_tbl24, set_class, block_info, rule_info, rank_slot, proto, sport, dport,
                icmp, vlan, bitmaps, intervals_v4, intervals_v6;
        int sync_outer_fd, sync_inner_fd;

        /* What should be in force, and what each copy holds of it. */
        BlockTable *blocks;
        BlockTable *members;                    /* set members: prefix -> membership */
        Classifier *classifier;                 /* staged; NULL = none yet */
        Classifier *written[PF_COPIES];         /* what each copy's classifier tables hold */
        bool full_rewrite[PF_COPIES];           /* copy content unknown (pinned maps from an earlier run) */
        bool defer_catch_up;                    /* loader_commit() leaves the old copy to loader_catch_up() */
        bool behind;                            /* the inactive copy lags the active one */
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

/* The interface's figures start when we first attach to it (kept across restarts and adoptions). */
static void loader_iface_stats_create(Loader *l, int ifindex) {
        _cleanup_free_ struct pf_iface_stats *zero = NULL;
        uint32_t key = (uint32_t) ifindex;
        int r;

        zero = calloc(l->n_cpus, sizeof(struct pf_iface_stats));
        if (!zero) {
                log_oom();
                return;
        }
        r = bpf_map__update_elem(l->skel->maps.pf_iface_stats, &key, sizeof(key), zero,
                                 l->n_cpus * sizeof(struct pf_iface_stats), BPF_NOEXIST);
        if (r < 0 && r != -EEXIST)
                log_warning_errno(r, "Failed to create the statistics of interface %d: %m", ifindex);
}

static void loader_iface_stats_delete(Loader *l, int ifindex) {
        uint32_t key = (uint32_t) ifindex;

        if (ifindex > 0)
                (void) bpf_map__delete_elem(l->skel->maps.pf_iface_stats, &key, sizeof(key), 0);
}

static int loader_record_attachment(Loader *l, struct attachment *a, const char *ifname, int ifindex,
                                    int link_fd, enum xdp_mode in_effect, enum xdp_mode *ret_mode) {
        loader_iface_stats_create(l, ifindex);
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
        if (a && a->ifindex != ifindex) {
                closep(&a->link_fd);    /* its interface was deleted; the link is defunct */
                loader_iface_stats_delete(l, a->ifindex);
        }
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
                                         ifname, strna(xdp_mode_to_string(mode)));
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
                loader_iface_stats_delete(l, a->ifindex);
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

int loader_rename(Loader *l, const char *old_ifname, const char *new_ifname) {
        _cleanup_free_ char *old_pin = NULL, *new_pin = NULL;
        struct attachment *a = loader_find_attachment(l, old_ifname);
        int r;

        if (!a)
                return -ENOENT;
        if (strlen(new_ifname) >= IF_NAMESIZE)
                return -EINVAL;
        if (l->bpffs_dir) {
                r = loader_pin_path(l, "links", old_ifname, &old_pin);
                if (r >= 0)
                        r = loader_pin_path(l, "links", new_ifname, &new_pin);
                if (r < 0)
                        return r;
                if (rename(old_pin, new_pin) < 0)
                        return log_warning_errno(-errno, "Failed to rename pin %s to %s: %m", old_pin, new_pin);
        }
        snprintf(a->ifname, sizeof(a->ifname), "%s", new_ifname);
        return 0;
}

int loader_pinned_link_ifname(Loader *l, const char *ifname, char ret[static IF_NAMESIZE]) {
        _cleanup_free_ char *pin = NULL;
        _cleanup_close_ int fd = -1;
        struct bpf_link_info info = {};
        __u32 len = sizeof(info);
        char name[IF_NAMESIZE];
        int r;

        if (!l->bpffs_dir)
                return -ENOENT;
        r = loader_pin_path(l, "links", ifname, &pin);
        if (r < 0)
                return r;
        fd = bpf_obj_get(pin);
        if (fd < 0)
                return -ENOENT;
        if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 || info.type != BPF_LINK_TYPE_XDP || info.xdp.ifindex == 0)
                return -ENOENT;
        if (!if_indextoname(info.xdp.ifindex, name))
                return -ENOENT;
        memcpy(ret, name, IF_NAMESIZE);
        return 0;
}

void loader_forget(Loader *l, const char *ifname) {
        _cleanup_free_ char *pin = NULL;
        struct attachment *a = loader_find_attachment(l, ifname);

        if (a) {
                closep(&a->link_fd);
                loader_iface_stats_delete(l, a->ifindex);
                *a = l->attachments[--l->n_attachments];
        }
        if (l->bpffs_dir && loader_pin_path(l, "links", ifname, &pin) >= 0)
                (void) unlink(pin);
}

bool loader_is_attached(Loader *l, const char *ifname) {
        _cleanup_free_ char *pin = NULL;

        if (loader_find_attachment(l, ifname))
                return true;
        if (!l->bpffs_dir || loader_pin_path(l, "links", ifname, &pin) < 0)
                return false;
        return access(pin, F_OK) == 0;
}


static int mapped_array_open(struct bpf_map *map, struct mapped_array *ret) {
        size_t elem = (bpf_map__value_size(map) + 7) & ~(size_t) 7, n = bpf_map__max_entries(map);
        size_t length = elem * n;
        void *p;

        length = (length + (size_t) getpagesize() - 1) & ~((size_t) getpagesize() - 1);
        p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);
        if (p == MAP_FAILED)
                return negative_errno();
        *ret = (struct mapped_array) { .base = p, .elem_size = elem, .n = n, .length = length };
        return 0;
}

static void mapped_array_close(struct mapped_array *a) {
        if (a->base)
                (void) munmap(a->base, a->length);
        *a = (struct mapped_array) {};
}

static void *mapped_array_at(const struct mapped_array *a, size_t index) {
        return a->base + index * a->elem_size;
}

static void mapped_array_set_u32(const struct mapped_array *a, size_t index, uint32_t v) {
        memcpy(mapped_array_at(a, index), &v, sizeof(v));
}

/* A map-in-map whose update makes the kernel wait until no BPF program that started
 * before it still runs (synchronize_rcu): how we know nobody reads the old copy. */
static int loader_create_sync_maps(Loader *l) {
        LIBBPF_OPTS(bpf_map_create_opts, opts);

        l->sync_inner_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pf_sync_inner", 4, 4, 1, NULL);
        if (l->sync_inner_fd < 0)
                return l->sync_inner_fd;
        opts.inner_map_fd = l->sync_inner_fd;
        l->sync_outer_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "pf_sync", 4, 4, 1, &opts);
        return l->sync_outer_fd < 0 ? l->sync_outer_fd : 0;
}

static int loader_wait_for_readers(Loader *l) {
        uint32_t zero = 0;

        return bpf_map_update_elem(l->sync_outer_fd, &zero, &l->sync_inner_fd, BPF_ANY);
}

static int loader_write_masks(Loader *l) {
        for (uint32_t len = 0; len <= 128; len++) {
                struct pf_mask m = {};
                int r;

                for (uint32_t b = 0; b < len; b++)
                        ((uint8_t *) m.word)[b / 8] |= (uint8_t) (0x80u >> (b % 8));
                r = bpf_map__update_elem(l->skel->maps.pf_masks, &len, sizeof(len), &m, sizeof(m), BPF_ANY);
                if (r < 0)
                        return r;
        }
        return 0;
}

int loader_new(const char *bpffs_dir, Loader **ret) {
        _cleanup_(loader_freep) Loader *l = NULL;
        _cleanup_free_ char *maps_dir = NULL, *links_dir = NULL;
        int r;

        libbpf_set_print(libbpf_print_fn);

        l = calloc(1, sizeof(Loader));
        if (!l)
                return -ENOMEM;
        l->sync_outer_fd = l->sync_inner_fd = -1;

        r = libbpf_num_possible_cpus();
        if (r < 0)
                return log_error_errno(r, "Failed to count possible CPUs: %m");
        l->n_cpus = r;

        r = block_table_new(&l->blocks);
        if (r >= 0)
                r = block_table_new(&l->members);
        if (r < 0)
                return r;

        if (bpffs_dir) {
                l->bpffs_dir = strdup(bpffs_dir);
                if (!l->bpffs_dir)
                        return -ENOMEM;
                r = loader_pin_path(l, "maps-" PF_ABI_VERSION, NULL, &maps_dir);
                if (r >= 0)
                        r = loader_pin_path(l, "links", NULL, &links_dir);
                if (r >= 0)
                        r = mkdir_if_missing(l->bpffs_dir, 0700);
                if (r >= 0)
                        r = mkdir_if_missing(maps_dir, 0700);
                if (r >= 0)
                        r = mkdir_if_missing(links_dir, 0700);
                if (r < 0)
                        return log_error_errno(r, "Failed to create pin folders under %s: %m", bpffs_dir);
        }

        LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = maps_dir);
        l->skel = packetfilter_bpf__open_opts(&opts);
        if (!l->skel)
                return log_error_errno(negative_errno(), "Failed to open BPF object: %m");

        if (!bpffs_dir) {
                struct bpf_map *map;

                /* Without a pin root libbpf would pin LIBBPF_PIN_BY_NAME maps in /sys/fs/bpf. */
                bpf_object__for_each_map(map, l->skel->obj) {
                        r = bpf_map__set_pin_path(map, NULL);
                        if (r < 0)
                                return log_error_errno(r, "Failed to unset pin path: %m");
                }
        }

        r = packetfilter_bpf__load(l->skel);
        if (r < 0)
                return log_error_errno(r, "Failed to load BPF program: %m");

        struct {
                struct bpf_map *map;
                struct mapped_array *array;
        } mapped[] = {
                { l->skel->maps.pf_v4_block, &l->tbl24 },
                { l->skel->maps.pf_v4_set, &l->set_tbl24 },
                { l->skel->maps.pf_set_class, &l->set_class },
                { l->skel->maps.pf_block_info, &l->block_info },
                { l->skel->maps.pf_rule_info, &l->rule_info },
                { l->skel->maps.pf_rank_slot, &l->rank_slot },
                { l->skel->maps.pf_proto_class, &l->proto },
                { l->skel->maps.pf_sport_class, &l->sport },
                { l->skel->maps.pf_dport_class, &l->dport },
                { l->skel->maps.pf_icmp_class, &l->icmp },
                { l->skel->maps.pf_vlan_class, &l->vlan },
                { l->skel->maps.pf_bitmaps, &l->bitmaps },
                { l->skel->maps.pf_intervals_v4, &l->intervals_v4 },
                { l->skel->maps.pf_intervals_v6, &l->intervals_v6 },
        };
        for (size_t i = 0; i < ELEMENTSOF(mapped); i++) {
                r = mapped_array_open(mapped[i].map, mapped[i].array);
                if (r < 0)
                        return log_error_errno(r, "Failed to map %s: %m", bpf_map__name(mapped[i].map));
        }

        r = loader_create_sync_maps(l);
        if (r < 0)
                return log_error_errno(r, "Failed to create the synchronisation map: %m");
        r = loader_write_masks(l);
        if (r < 0)
                return log_error_errno(r, "Failed to write prefix masks: %m");

        /* Pinned maps may hold anything from an earlier run: the first commit rewrites both copies whole. */
        for (unsigned c = 0; c < PF_COPIES; c++) {
                l->full_rewrite[c] = true;
                block_table_mark_all_dirty(l->blocks, c);
                block_table_mark_all_dirty(l->members, c);
        }

        *ret = TAKE_PTR(l);
        return 0;
}

static void loader_release_classifier(Loader *l, Classifier *c) {
        if (!c || c == l->classifier)
                return;
        for (unsigned k = 0; k < PF_COPIES; k++)
                if (l->written[k] == c)
                        return;
        classifier_free(c);
}

Loader *loader_free(Loader *l) {
        Classifier *cs[PF_COPIES + 1];

        if (!l)
                return NULL;
        /* Closing a pinned link's fd leaves it attached: that is the point of the pin. */
        for (size_t i = 0; i < l->n_attachments; i++)
                closep(&l->attachments[i].link_fd);
        free(l->attachments);

        struct mapped_array *arrays[] = {
                &l->tbl24, &l->set_tbl24, &l->set_class, &l->block_info, &l->rule_info, &l->rank_slot, &l->proto,
                &l->sport, &l->dport, &l->icmp, &l->vlan, &l->bitmaps, &l->intervals_v4, &l->intervals_v6,
        };
        for (size_t i = 0; i < ELEMENTSOF(arrays); i++)
                mapped_array_close(arrays[i]);
        closep(&l->sync_outer_fd);
        closep(&l->sync_inner_fd);

        /* Free each classifier once, however many copies share it. */
        cs[0] = l->classifier;
        for (unsigned k = 0; k < PF_COPIES; k++)
                cs[k + 1] = l->written[k];
        for (size_t i = 0; i < ELEMENTSOF(cs); i++) {
                bool dup = false;

                for (size_t j = 0; j < i; j++)
                        dup = dup || cs[j] == cs[i];
                if (!dup)
                        classifier_free(cs[i]);
        }

        block_table_free(l->blocks);
        block_table_free(l->members);
        packetfilter_bpf__destroy(l->skel);
        free(l->bpffs_dir);
        free(l);
        return NULL;
}

int loader_prog_fd(Loader *l) {
        return bpf_program__fd(l->skel->progs.packetfilter_xdp);
}

/* Unpins map folders of other layouts (an upgrade's predecessor): call once the links run our program. */
int loader_prune_stale_pins(Loader *l) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        if (!l->bpffs_dir)
                return 0;
        d = opendir(l->bpffs_dir);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                _cleanup_(closedirp) DIR *maps = NULL;
                _cleanup_free_ char *dir = NULL;
                struct dirent *me;

                if (!streq(de->d_name, "maps") && strncmp(de->d_name, "maps-", 5) != 0)
                        continue;
                if (streq(de->d_name, "maps-" PF_ABI_VERSION))
                        continue;
                if (asprintf(&dir, "%s/%s", l->bpffs_dir, de->d_name) < 0)
                        return -ENOMEM;
                maps = opendir(dir);
                if (!maps)
                        continue;
                while ((me = readdir(maps)))
                        if (me->d_name[0] != '.')
                                (void) unlinkat(dirfd(maps), me->d_name, 0);
                if (rmdir(dir) >= 0)
                        log_info("Unpinned the maps of an earlier version (%s).", de->d_name);
        }
        return 0;
}

/* ---- Staging ---------------------------------------------------------------------------------- */

int loader_block_set(Loader *l, const struct prefix *p, uint32_t block_slot) {
        return block_table_set(l->blocks, p, block_slot);
}

int loader_block_delete(Loader *l, const struct prefix *p) {
        return block_table_delete(l->blocks, p);
}

int loader_member_set(Loader *l, const struct prefix *p, uint32_t membership) {
        if (membership == 0 || membership >= PF_MAX_MEMBERSHIPS)
                return -ERANGE;
        return block_table_set(l->members, p, membership);
}

int loader_member_delete(Loader *l, const struct prefix *p) {
        return block_table_delete(l->members, p);
}

int loader_member_apply(Loader *l, const struct member_change *c, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int r = c[i].membership ? loader_member_set(l, &c[i].prefix, c[i].membership) :
                                          loader_member_delete(l, &c[i].prefix);

                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}

size_t loader_block_count(Loader *l) {
        return block_table_count(l->blocks);
}

/* CLOCK_REALTIME µs to CLOCK_TAI ns, the clock the program can read (bpf_ktime_get_tai_ns). */
static uint64_t realtime_usec_to_tai_ns(uint64_t usec) {
        struct timespec rt, tai;
        int64_t offset_ns;

        if (usec == 0)
                return 0;
        (void) clock_gettime(CLOCK_REALTIME, &rt);
        (void) clock_gettime(CLOCK_TAI, &tai);
        offset_ns = ((int64_t) tai.tv_sec - rt.tv_sec) * 1000000000LL + ((int64_t) tai.tv_nsec - rt.tv_nsec);
        /* Round the offset to whole seconds: TAI - UTC is whole seconds; the rest is the gap between reads. */
        offset_ns = (offset_ns + (offset_ns >= 0 ? 500000000LL : -500000000LL)) / 1000000000LL * 1000000000LL;
        return usec * 1000ULL + (uint64_t) offset_ns;
}

static struct pf_rule_info rule_info_make(uint64_t order_key, enum pf_action action, uint64_t expires_usec) {
        return (struct pf_rule_info) {
                .order = order_key,
                .action = action,
                .expires_tai_ns = realtime_usec_to_tai_ns(expires_usec),
        };
}

/* Slot information is written at once: no copy refers to a slot before a commit does. */
int loader_set_block_info(Loader *l, uint32_t block_slot, uint64_t order_key, enum pf_action action,
                          uint64_t expires_usec) {
        struct pf_rule_info info = rule_info_make(order_key, action, expires_usec);

        if (block_slot >= PF_BLOCK_SLOTS)
                return -ERANGE;
        memcpy(mapped_array_at(&l->block_info, block_slot), &info, sizeof(info));
        return 0;
}

int loader_set_rule_info(Loader *l, uint32_t rule_slot, uint64_t order_key, enum pf_action action,
                         uint64_t expires_usec) {
        struct pf_rule_info info = rule_info_make(order_key, action, expires_usec);

        if (rule_slot >= PF_RULE_SLOTS)
                return -ERANGE;
        memcpy(mapped_array_at(&l->rule_info, rule_slot), &info, sizeof(info));
        return 0;
}

void loader_set_classifier(Loader *l, Classifier *c) {
        Classifier *old = l->classifier;

        l->classifier = c;
        loader_release_classifier(l, old);
}

/* ---- Writing one copy -------------------------------------------------------------------------- */

/* pf_prefixes keys and values waiting to go to the kernel in one batch call. */
#define PREFIX_BATCH 4096u
struct prefix_batch {
        Loader *l;
        unsigned copy;
        enum pf_table table;
        bool remove;
        uint32_t n;
        struct pf_prefix_key keys[PREFIX_BATCH];
        uint32_t values[PREFIX_BATCH];
};

static int prefix_batch_flush(struct prefix_batch *b) {
        int fd = bpf_map__fd(b->l->skel->maps.pf_prefixes);
        uint32_t done = 0;

        /* One system call per batch, not per prefix: a million entries take a second, not ten. */
        while (done < b->n) {
                uint32_t count = b->n - done;
                int r;

                if (b->remove) {
                        r = bpf_map_delete_batch(fd, b->keys + done, &count, NULL);
                        if (r == -ENOENT) {
                                /* Stopped at a key that is not there (nothing to delete): skip it. */
                                done += count + 1;
                                continue;
                        }
                } else
                        r = bpf_map_update_batch(fd, b->keys + done, b->values + done, &count, NULL);
                if (r < 0)
                        return r;
                done += count;
        }
        b->n = 0;
        return 0;
}

static int prefix_batch_add(struct prefix_batch *b, uint8_t family, uint8_t prefixlen, const uint8_t *addr,
                            bool remove, uint32_t value) {
        struct pf_prefix_key *key;
        int r;

        if (b->n > 0 && remove != b->remove) {
                /* Keep the log's order: a removal and a later re-add of one prefix must not swap. */
                r = prefix_batch_flush(b);
                if (r < 0)
                        return r;
        }
        if (b->n == PREFIX_BATCH) {
                r = prefix_batch_flush(b);
                if (r < 0)
                        return r;
        }
        b->remove = remove;
        key = &b->keys[b->n];
        *key = (struct pf_prefix_key) { .copy = b->copy, .family = family, .prefixlen = prefixlen, .table = b->table };
        memcpy(key->addr, addr, 16);
        b->values[b->n++] = value;
        return 0;
}

/* Deletes every entry of a copy from a hash map whose keys start with the copy's byte
 * (pf_prefixes, pf_v6_dir: both tables at once). */
static int purge_copy(struct bpf_map *map, size_t key_size, unsigned copy) {
        uint8_t key[64], next[64];
        bool have_key = false;
        int r;

        assert(key_size <= sizeof(key));
        /* Deleting while walking restarts nothing here: we step from the last key kept. */
        for (;;) {
                r = bpf_map__get_next_key(map, have_key ? key : NULL, next, key_size);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return r;
                if (next[0] == copy) {
                        r = bpf_map__delete_elem(map, next, key_size, 0);
                        if (r < 0 && r != -ENOENT)
                                return r;
                        /* The deleted key can no longer be a cursor: go on from the last kept one. */
                        continue;
                }
                memcpy(key, next, key_size);
                have_key = true;
        }
}

static int dir_write(Loader *l, unsigned copy, enum pf_table table, uint32_t top32, bool remove,
                     const struct pf_v6_dir *d) {
        struct pf_v6_dir_key key = { .copy = copy, .table = table, .top32 = top32 };
        int r;

        if (remove) {
                r = bpf_map__delete_elem(l->skel->maps.pf_v6_dir, &key, sizeof(key), 0);
                return r == -ENOENT ? 0 : r;
        }
        return bpf_map__update_elem(l->skel->maps.pf_v6_dir, &key, sizeof(key), d, sizeof(*d), BPF_ANY);
}

static int write_dir_entry(uint32_t top32, const struct pf_v6_dir *d, void *userdata) {
        struct prefix_batch *b = userdata;

        return dir_write(b->l, b->copy, b->table, top32, false, d);
}

static int write_prefix_entry(const struct prefix *p, uint32_t value, void *userdata) {
        struct prefix_batch *b = userdata;

        if (p->family == AF_INET && p->prefixlen <= 24)
                return 0;       /* lives in the DIR-24 table */
        return prefix_batch_add(b, p->family == AF_INET ? PF_FAMILY_V4 : PF_FAMILY_V6, p->prefixlen, p->addr,
                                false, value);
}

/* Brings one prefix table of a copy up to date: its dirty DIR-24 chunks, then its exact entries
 * (all of them after a purge, else the changes logged since this copy was last written). */
static int loader_write_prefix_table(Loader *l, unsigned copy, enum pf_table table, bool purged) {
        BlockTable *t = table == PF_TABLE_SETS ? l->members : l->blocks;
        struct mapped_array *tbl24 = table == PF_TABLE_SETS ? &l->set_tbl24 : &l->tbl24;
        const uint32_t *want = block_table_tbl24(t);
        _cleanup_free_ struct prefix_batch *b = NULL;
        int r;

        for (size_t chunk = 0; chunk < BLOCK_CHUNKS; chunk++) {
                size_t first = chunk << BLOCK_CHUNK_SHIFT, n = (size_t) 1 << BLOCK_CHUNK_SHIFT;
                size_t global = (size_t) copy * PF_V4_TBL24_ENTRIES + first;

                if (!block_table_chunk_dirty(t, copy, chunk))
                        continue;
                /* Rows are PF_TBL24_ROW entries without gaps, and a chunk is whole rows. */
                memcpy(mapped_array_at(tbl24, global / PF_TBL24_ROW), want + first, n * sizeof(uint32_t));
        }

        b = malloc(sizeof(struct prefix_batch));
        if (!b)
                return -ENOMEM;
        *b = (struct prefix_batch) { .l = l, .copy = copy, .table = table };
        if (purged) {
                r = block_table_foreach(t, write_prefix_entry, b);
                if (r >= 0)
                        r = block_table_foreach_dir(t, write_dir_entry, b);
        } else {
                const struct block_op *ops;
                size_t n;

                ops = block_table_ops(t, copy, &n);
                r = 0;
                for (size_t i = 0; i < n && r >= 0; i++) {
                        uint32_t top32;

                        if (ops[i].dir) {
                                /* The copy is not in use: the order against the batched prefixes does not matter. */
                                memcpy(&top32, ops[i].addr, 4);
                                r = dir_write(l, copy, table, top32, ops[i].remove, &ops[i].dir_value);
                        } else
                                r = prefix_batch_add(b, ops[i].family, ops[i].prefixlen, ops[i].addr,
                                                     ops[i].remove, ops[i].slot);
                }
        }
        if (r >= 0)
                r = prefix_batch_flush(b);
        return r;
}

static int loader_write_blocks(Loader *l, unsigned copy) {
        bool purge = l->full_rewrite[copy];
        int r;

        if (purge) {
                r = purge_copy(l->skel->maps.pf_prefixes, sizeof(struct pf_prefix_key), copy);
                if (r >= 0)
                        r = purge_copy(l->skel->maps.pf_v6_dir, sizeof(struct pf_v6_dir_key), copy);
                if (r < 0)
                        return r;
        }
        r = loader_write_prefix_table(l, copy, PF_TABLE_BLOCKS, purge);
        if (r >= 0)
                r = loader_write_prefix_table(l, copy, PF_TABLE_SETS, purge);
        return r;
}

static int loader_write_classifier(Loader *l, unsigned copy) {
        const Classifier *c = l->classifier, *old = l->full_rewrite[copy] ? NULL : l->written[copy];
        struct bpf_map *ifaces = l->skel->maps.pf_iface_class;
        size_t base;
        int r;

        if (!c || (c == old && !l->full_rewrite[copy]))
                return 0;

        for (size_t v = 0; v < 256; v++) {
                mapped_array_set_u32(&l->proto, copy * 256 + v, c->proto[v]);
                mapped_array_set_u32(&l->icmp, copy * 256 + v, c->icmp[v]);
        }
        for (size_t p = 0; p < PF_PORT_PROTOCOLS; p++)
                for (size_t v = 0; v < 65536; v++) {
                        size_t i = (copy * PF_PORT_PROTOCOLS + p) * 65536 + v;

                        mapped_array_set_u32(&l->sport, i, c->sport[p][v]);
                        mapped_array_set_u32(&l->dport, i, c->dport[p][v]);
                }
        for (size_t v = 0; v <= PF_VLAN_UNTAGGED; v++)
                mapped_array_set_u32(&l->vlan, copy * (PF_VLAN_UNTAGGED + 1) + v, c->vlan[v]);
        for (size_t rank = 0; rank < PF_MAX_RULES; rank++)
                mapped_array_set_u32(&l->rank_slot, copy * PF_MAX_RULES + rank,
                                     rank < c->n_ranks ? c->rank_slot[rank] : 0);
        base = (size_t) copy * PF_MAX_CLASSES;
        for (uint32_t k = 0; k < c->n_classes; k++)
                memcpy(mapped_array_at(&l->bitmaps, base + k), &c->bitmaps[k], sizeof(struct pf_bitmap));

        for (unsigned f = 0; f < 2; f++)
                for (size_t m = 0; m < PF_MAX_MEMBERSHIPS; m++)
                        mapped_array_set_u32(&l->set_class, (copy * 2 + f) * PF_MAX_MEMBERSHIPS + m, c->set_class[f][m]);

        for (unsigned f = 0; f < 2; f++) {
                memcpy(mapped_array_at(&l->intervals_v4, copy * 2 + f), &c->v4[f], sizeof(c->v4[f]));
                memcpy(mapped_array_at(&l->intervals_v6, copy * 2 + f), &c->v6[f], sizeof(c->v6[f]));
        }

        /* Interfaces live in a hash map: drop what this copy had, then write. */
        if (old) {
                for (size_t i = 0; i < old->n_interfaces; i++) {
                        struct pf_iface_key key = { .copy = copy, .ifindex = old->interfaces[i].ifindex };

                        (void) bpf_map__delete_elem(ifaces, &key, sizeof(key), 0);
                }
        } else {
                struct pf_iface_key key, *prev = NULL, next;

                while (bpf_map__get_next_key(ifaces, prev, &next, sizeof(next)) >= 0) {
                        if (next.copy == copy) {
                                (void) bpf_map__delete_elem(ifaces, &next, sizeof(next), 0);
                                continue;
                        }
                        key = next;
                        prev = &key;
                }
        }
        for (size_t i = 0; i < c->n_interfaces; i++) {
                struct pf_iface_key key = { .copy = copy, .ifindex = c->interfaces[i].ifindex };

                r = bpf_map__update_elem(ifaces, &key, sizeof(key), &c->interfaces[i].class,
                                         sizeof(uint32_t), BPF_ANY);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int loader_write_gen(Loader *l, unsigned copy) {
        const Classifier *c = l->classifier;
        struct pf_length_list block_lengths[_PF_FAMILY_MAX], set_lengths[_PF_FAMILY_MAX];
        struct pf_gen gen = {};

        block_table_lengths(l->blocks, block_lengths);
        block_table_lengths(l->members, set_lengths);
        if (c) {
                gen.default_action = c->default_action;
                gen.has_classifier = c->n_ranks > 0;
                gen.field_mask = c->field_mask;
                memcpy(gen.absent_class, c->absent_class, sizeof(gen.absent_class));
        }
        memcpy(gen.block_lengths, block_lengths, sizeof(block_lengths));
        memcpy(gen.set_lengths, set_lengths, sizeof(set_lengths));
        gen.has_blocks = block_table_count(l->blocks) > 0;
        return bpf_map__update_elem(l->skel->maps.pf_gen, &copy, sizeof(copy), &gen, sizeof(gen), BPF_ANY);
}

/* Brings one (inactive) copy up to what is staged. Marks are cleared only on success,
 * so a failure leaves the copy to be rewritten by the next commit. */
static int loader_write_copy(Loader *l, unsigned copy) {
        Classifier *old = l->written[copy];
        int r;

        r = loader_write_blocks(l, copy);
        if (r >= 0)
                r = loader_write_classifier(l, copy);
        if (r >= 0)
                r = loader_write_gen(l, copy);
        if (r < 0)
                return r;

        block_table_chunks_clean(l->blocks, copy);
        block_table_ops_done(l->blocks, copy);
        block_table_chunks_clean(l->members, copy);
        block_table_ops_done(l->members, copy);
        l->written[copy] = l->classifier;
        l->full_rewrite[copy] = false;
        loader_release_classifier(l, old);
        return 0;
}

static int loader_active_copy(Loader *l, unsigned *ret) {
        struct pf_config cfg;
        uint32_t zero = 0;
        int r;

        r = bpf_map__lookup_elem(l->skel->maps.pf_config, &zero, sizeof(zero), &cfg, sizeof(cfg), 0);
        if (r < 0)
                return r;
        *ret = cfg.active & 1;
        return 0;
}

/*
 * 1. write everything staged into the copy no packet reads;
 * 2. flip pf_config.active to it: one 4-byte write, so each packet sees one copy or the other;
 * 3. wait until no program run that started on the old copy is still going;
 * 4. bring the old copy up to date, ready for the next change.
 */
int loader_commit(Loader *l) {
        struct pf_config cfg = {};
        unsigned active, target;
        uint32_t zero = 0;
        int r;

        r = loader_active_copy(l, &active);
        if (r < 0)
                return log_error_errno(r, "Failed to read the active copy: %m");
        target = active ^ 1;

        r = loader_write_copy(l, target);
        if (r < 0)
                return log_error_errno(r, "Failed to write the inactive copy of the tables: %m");

        cfg.active = target;
        r = bpf_map__update_elem(l->skel->maps.pf_config, &zero, sizeof(zero), &cfg, sizeof(cfg), BPF_ANY);
        if (r < 0)
                return log_error_errno(r, "Failed to switch to the new tables: %m");

        r = loader_wait_for_readers(l);
        if (r < 0)
                return log_error_errno(r, "Failed to wait for readers of the old tables: %m");

        /* The change is in force. If this fails, the next commit rewrites that copy. */
        l->behind = true;
        if (l->defer_catch_up)
                return 0;
        r = loader_catch_up(l);
        return r < 0 ? 0 : r;
}

void loader_set_defer_catch_up(Loader *l, bool b) {
        l->defer_catch_up = b;
}

bool loader_is_behind(Loader *l) {
        return l->behind;
}

int loader_catch_up(Loader *l) {
        unsigned active;
        int r;

        if (!l->behind)
                return 1;
        r = loader_active_copy(l, &active);
        if (r < 0)
                return r;
        r = loader_write_copy(l, active ^ 1);
        if (r < 0)
                return log_warning_errno(r, "Failed to bring the old copy of the tables up to date, will retry: %m");
        l->behind = false;
        return 1;
}

/* ---- Counters ---------------------------------------------------------------------------------- */

int loader_rule_counter_read(Loader *l, uint32_t rule_slot, uint64_t *ret_packets, uint64_t *ret_bytes) {
        _cleanup_free_ struct pf_counter *per_cpu = NULL;
        uint64_t packets = 0, bytes = 0;
        int r;

        if (rule_slot >= PF_RULE_SLOTS)
                return -ERANGE;
        per_cpu = calloc(l->n_cpus, sizeof(struct pf_counter));
        if (!per_cpu)
                return -ENOMEM;
        r = bpf_map__lookup_elem(l->skel->maps.pf_rule_counters, &rule_slot, sizeof(rule_slot),
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

int loader_rule_counter_reset(Loader *l, uint32_t rule_slot) {
        _cleanup_free_ struct pf_counter *zero = NULL;

        if (rule_slot >= PF_RULE_SLOTS)
                return -ERANGE;
        zero = calloc(l->n_cpus, sizeof(struct pf_counter));
        if (!zero)
                return -ENOMEM;
        return bpf_map__update_elem(l->skel->maps.pf_rule_counters, &rule_slot, sizeof(rule_slot),
                                    zero, l->n_cpus * sizeof(struct pf_counter), BPF_ANY);
}

int loader_block_counter_read(Loader *l, uint32_t block_slot, uint64_t *ret_packets, uint64_t *ret_bytes) {
        struct pf_counter c;
        int r;

        if (block_slot >= PF_BLOCK_SLOTS)
                return -ERANGE;
        r = bpf_map__lookup_elem(l->skel->maps.pf_block_counters, &block_slot, sizeof(block_slot),
                                 &c, sizeof(c), 0);
        if (r < 0)
                return r;
        *ret_packets = c.packets;
        *ret_bytes = c.bytes;
        return 0;
}

int loader_block_counter_reset(Loader *l, uint32_t block_slot) {
        struct pf_counter zero = {};

        if (block_slot >= PF_BLOCK_SLOTS)
                return -ERANGE;
        return bpf_map__update_elem(l->skel->maps.pf_block_counters, &block_slot, sizeof(block_slot),
                                    &zero, sizeof(zero), BPF_ANY);
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

int loader_statistics_reset(Loader *l) {
        _cleanup_free_ uint64_t *zero = NULL;
        int r;

        zero = calloc(l->n_cpus, sizeof(uint64_t));
        if (!zero)
                return -ENOMEM;
        for (uint32_t i = 0; i < _PF_STAT_MAX; i++) {
                r = bpf_map__update_elem(l->skel->maps.pf_stats, &i, sizeof(i), zero,
                                         l->n_cpus * sizeof(uint64_t), BPF_ANY);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- Rate limits ------------------------------------------------------------------------------- */

int loader_set_rate_limit(Loader *l, uint32_t rule_slot, uint32_t rule_id, uint32_t rate, uint32_t burst,
                          enum pf_rate_per per) {
        struct pf_rate_limit cfg = {};
        struct pf_rate_bucket bucket = {};
        int r;

        if (rule_slot >= PF_RULE_SLOTS)
                return -ERANGE;
        if (rate > 0) {
                cfg.interval_ns = 1000000000ULL / rate;
                cfg.burst_ns = (uint64_t) (burst ?: rate) * cfg.interval_ns;
                cfg.rule_id = rule_id;
                cfg.per = per;
        }
        r = bpf_map__update_elem(l->skel->maps.pf_rate_rule, &rule_slot, sizeof(rule_slot),
                                 &bucket, sizeof(bucket), BPF_ANY);
        if (r >= 0)
                r = loader_rate_limited_reset(l, rule_slot);
        if (r >= 0)
                r = bpf_map__update_elem(l->skel->maps.pf_rate_config, &rule_slot, sizeof(rule_slot),
                                         &cfg, sizeof(cfg), BPF_ANY);
        return r;
}

int loader_rate_limited_read(Loader *l, uint32_t rule_slot, uint64_t *ret) {
        _cleanup_free_ uint64_t *per_cpu = NULL;
        uint64_t sum = 0;
        int r;

        if (rule_slot >= PF_RULE_SLOTS)
                return -ERANGE;
        per_cpu = calloc(l->n_cpus, sizeof(uint64_t));
        if (!per_cpu)
                return -ENOMEM;
        r = bpf_map__lookup_elem(l->skel->maps.pf_rate_limited, &rule_slot, sizeof(rule_slot),
                                 per_cpu, l->n_cpus * sizeof(uint64_t), 0);
        if (r < 0)
                return r;
        for (int i = 0; i < l->n_cpus; i++)
                sum += per_cpu[i];
        *ret = sum;
        return 0;
}

int loader_rate_limited_reset(Loader *l, uint32_t rule_slot) {
        _cleanup_free_ uint64_t *zero = NULL;

        if (rule_slot >= PF_RULE_SLOTS)
                return -ERANGE;
        zero = calloc(l->n_cpus, sizeof(uint64_t));
        if (!zero)
                return -ENOMEM;
        return bpf_map__update_elem(l->skel->maps.pf_rate_limited, &rule_slot, sizeof(rule_slot),
                                    zero, l->n_cpus * sizeof(uint64_t), BPF_ANY);
}

int loader_rate_sources_count(Loader *l, size_t *ret) {
        struct pf_rate_source_key key, *prev = NULL, next;
        size_t n = 0;
        int r;

        for (;;) {
                r = bpf_map__get_next_key(l->skel->maps.pf_rate_source, prev, &next, sizeof(next));
                if (r == -ENOENT)
                        break;
                if (r < 0)
                        return r;
                n++;
                key = next;
                prev = &key;
        }
        *ret = n;
        return 0;
}

/* ---- Drop events and per-interface figures ----------------------------------------------------- */

int loader_drop_events_fd(Loader *l) {
        return bpf_map__fd(l->skel->maps.pf_drop_events);
}

int loader_set_drop_event_budget(Loader *l, uint32_t budget) {
        struct pf_event_config cfg = { .budget = budget };
        uint32_t zero = 0;

        return bpf_map__update_elem(l->skel->maps.pf_event_config, &zero, sizeof(zero), &cfg, sizeof(cfg), BPF_ANY);
}

int loader_interface_statistics(Loader *l, const char *ifname, struct pf_iface_stats *ret) {
        _cleanup_free_ struct pf_iface_stats *per_cpu = NULL;
        struct attachment *a = loader_find_attachment(l, ifname);
        struct pf_iface_stats sum = {};
        uint32_t key;
        int r;

        if (!a || a->ifindex <= 0)
                return -ENOENT;
        key = (uint32_t) a->ifindex;
        per_cpu = calloc(l->n_cpus, sizeof(struct pf_iface_stats));
        if (!per_cpu)
                return -ENOMEM;
        r = bpf_map__lookup_elem(l->skel->maps.pf_iface_stats, &key, sizeof(key), per_cpu,
                                 l->n_cpus * sizeof(struct pf_iface_stats), 0);
        if (r < 0)
                return r;
        for (int i = 0; i < l->n_cpus; i++) {
                sum.packets += per_cpu[i].packets;
                sum.bytes += per_cpu[i].bytes;
                sum.passed += per_cpu[i].passed;
                sum.dropped += per_cpu[i].dropped;
                sum.rate_limited += per_cpu[i].rate_limited;
        }
        *ret = sum;
        return 0;
}

int loader_interface_statistics_reset(Loader *l) {
        _cleanup_free_ struct pf_iface_stats *zero = NULL;
        int r;

        zero = calloc(l->n_cpus, sizeof(struct pf_iface_stats));
        if (!zero)
                return -ENOMEM;
        for (size_t i = 0; i < l->n_attachments; i++) {
                uint32_t key = (uint32_t) l->attachments[i].ifindex;

                r = bpf_map__update_elem(l->skel->maps.pf_iface_stats, &key, sizeof(key), zero,
                                         l->n_cpus * sizeof(struct pf_iface_stats), BPF_EXIST);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}

/* The kernel's own account of a map's memory (fdinfo "memlock", exact since Linux 6.4). */
uint64_t loader_fd_memory(int fd) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], line[256];
        uint64_t v = 0;

        snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
        f = fopen(path, "re");
        if (!f)
                return 0;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "memlock: %" SCNu64, &v) == 1)
                        break;
        return v;
}

uint64_t loader_map_memory(Loader *l) {
        struct bpf_map *map;
        uint64_t total = 0;

        bpf_object__for_each_map(map, l->skel->obj)
                total += loader_fd_memory(bpf_map__fd(map));
        return total;
}
