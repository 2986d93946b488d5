/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rtnetlink link watcher. One raw NETLINK_ROUTE socket carries both the
 * RTMGRP_LINK notifications and the replies to our own RTM_GETLINK dumps; the
 * dump's messages are told apart by our port id and sequence number.
 *
 * Dumps are how the table is (re)built: at creation (quietly: those links
 * were there before anyone watched), and whenever notifications were lost
 * (ENOBUFS, a truncated datagram, a dump the kernel marks as interrupted).
 * Every link a dump shows is marked with the dump's generation, and so is every
 * link a notification shows after the dump's first reply (the kernel builds
 * that reply when it takes the request, so what follows it in the socket
 * happened later; what precedes it may be long stale). When the dump is done,
 * links not marked are gone.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "netlink-watch.h"

/* Large enough for any dump datagram the kernel builds (it sizes them up to 32 KiB on most systems). */
#define NETLINK_WATCH_BUFFER_SIZE (64 * 1024)
/* Room for bursts (a container host creating hundreds of veths); ENOBUFS is handled anyway. */
#define NETLINK_WATCH_RCVBUF (4 * 1024 * 1024)
/* Datagrams read per wake-up, so a storm of notifications cannot starve the rest of the loop. */
#define NETLINK_WATCH_BATCH 64
/* How long creation waits for the first dump. */
#define NETLINK_WATCH_INITIAL_DUMP_TIMEOUT_MS 5000

struct link_entry {
        int ifindex;
        char name[IF_NAMESIZE];
        uint64_t generation;            /* the last dump generation that saw the link */
};

struct NetlinkWatch {
        sd_event_source *io;
        int fd;
        uint32_t port_id;
        netlink_watch_handler_t handler;
        void *userdata;

        struct link_entry *links;
        size_t n_links;

        uint32_t seq;                   /* of the last dump requested */
        uint64_t generation;            /* of the dump in flight */
        bool dumping;                   /* a dump request is in flight */
        bool dump_answered;             /* its first reply is in: later notifications are newer than it */
        bool dump_again;                /* that dump cannot be trusted: start another when it ends */
        bool quiet;                     /* the first dump: fill the table, report nothing */
        int dump_error;                 /* why the kernel refused the last dump, or 0 */
        unsigned n_resyncs;

        uint8_t *buffer;
};

static const char *const link_event_names[] = {
        [LINK_NEW] = "new",
        [LINK_RENAMED] = "renamed",
        [LINK_DEL] = "deleted",
};

const char *link_event_to_string(enum link_event ev) {
        if ((unsigned) ev >= ELEMENTSOF(link_event_names))
                return NULL;
        return link_event_names[ev];
}

/* ---- The table of links --------------------------------------------------------------------- */

static struct link_entry *netlink_watch_find(NetlinkWatch *w, int ifindex) {
        for (size_t i = 0; i < w->n_links; i++)
                if (w->links[i].ifindex == ifindex)
                        return &w->links[i];
        return NULL;
}

static int netlink_watch_add(NetlinkWatch *w, int ifindex, const char *name, struct link_entry **ret) {
        struct link_entry *links;

        links = reallocarray(w->links, w->n_links + 1, sizeof(struct link_entry));
        if (!links)
                return -ENOMEM;
        w->links = links;
        links[w->n_links] = (struct link_entry) { .ifindex = ifindex };
        snprintf(links[w->n_links].name, sizeof(links[w->n_links].name), "%s", name);
        *ret = &links[w->n_links++];
        return 0;
}

static void netlink_watch_remove(NetlinkWatch *w, struct link_entry *e) {
        *e = w->links[--w->n_links];
}

static void netlink_watch_emit(NetlinkWatch *w, enum link_event ev, int ifindex, const char *name,
                               const char *old_name) {
        if (w->quiet)
                return;
        if (old_name)
                log_debug("Link %d %s: %s -> %s.", ifindex, link_event_to_string(ev), old_name, name);
        else
                log_debug("Link %d %s: %s.", ifindex, link_event_to_string(ev), name);
        w->handler(w->userdata, ev, ifindex, name, old_name);
}

/* ---- Dumps ---------------------------------------------------------------------------------- */

static int netlink_watch_request_dump(NetlinkWatch *w) {
        struct {
                struct nlmsghdr header;
                struct ifinfomsg ifi;
        } request = {
                .header = {
                        .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
                        .nlmsg_type = RTM_GETLINK,
                        .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                        .nlmsg_seq = ++w->seq,
                },
                .ifi = { .ifi_family = AF_UNSPEC },
        };
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

        if (sendto(w->fd, &request, request.header.nlmsg_len, 0, (struct sockaddr *) &kernel, sizeof(kernel)) < 0)
                return log_error_errno(-errno, "Failed to ask rtnetlink for the list of links: %m");
        w->generation++;
        w->dumping = true;
        w->dump_answered = false;
        w->dump_again = false;
        w->dump_error = 0;
        return 0;
}

int netlink_watch_resync(NetlinkWatch *w) {
        /* The kernel runs one dump per socket at a time: mark the running one as stale instead. */
        if (w->dumping) {
                w->dump_again = true;
                return 0;
        }
        return netlink_watch_request_dump(w);
}

/* Notifications were dropped: what we know may be wrong in any way, so rebuild it. */
static void netlink_watch_lost(NetlinkWatch *w, const char *why) {
        int r;

        w->n_resyncs++;
        log_warning("Link notifications were lost (%s); re-reading the list of links.", why);
        r = netlink_watch_resync(w);
        if (r < 0)
                log_warning_errno(r, "Failed to re-read the list of links, interface changes may go unnoticed: %m");
}

static void netlink_watch_dump_done(NetlinkWatch *w) {
        w->dumping = false;
        if (w->dump_again) {
                /* Links not seen by a stale dump may still exist: sweep nothing, ask again. */
                (void) netlink_watch_request_dump(w);
                return;
        }
        /* Downwards, so that the last entry moved into a removed one's place was already looked at. */
        for (size_t i = w->n_links; i > 0; i--) {
                struct link_entry gone = w->links[i - 1];

                if (gone.generation == w->generation)
                        continue;
                netlink_watch_remove(w, &w->links[i - 1]);
                netlink_watch_emit(w, LINK_DEL, gone.ifindex, gone.name, NULL);
        }
        w->quiet = false;
}

/* ---- Messages ------------------------------------------------------------------------------- */

/* The IFLA_IFNAME of a link message, or NULL when missing or malformed. */
static const char *link_message_name(const struct nlmsghdr *h) {
        const struct ifinfomsg *ifi = NLMSG_DATA(h);
        int length = (int) h->nlmsg_len - (int) NLMSG_LENGTH(sizeof(*ifi));

        for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, length); a = RTA_NEXT(a, length)) {
                const char *name = RTA_DATA(a);
                size_t size = RTA_PAYLOAD(a);

                if (a->rta_type != IFLA_IFNAME)
                        continue;
                if (size < 2 || size > IF_NAMESIZE || !memchr(name, 0, size) || name[0] == 0)
                        return NULL;
                return name;
        }
        return NULL;
}

static int netlink_watch_on_new_link(NetlinkWatch *w, int ifindex, const char *name) {
        struct link_entry *e = netlink_watch_find(w, ifindex);
        char old_name[IF_NAMESIZE];
        bool added = false;
        int r;

        if (!e) {
                r = netlink_watch_add(w, ifindex, name, &e);
                if (r < 0)
                        return r;
                added = true;
        }
        /* A dump reply, or a notification newer than the dump's start, proves the link exists now. */
        if (w->dumping && w->dump_answered)
                e->generation = w->generation;

        if (added)
                netlink_watch_emit(w, LINK_NEW, ifindex, name, NULL);
        else if (!streq(e->name, name)) {
                memcpy(old_name, e->name, sizeof(old_name));
                snprintf(e->name, sizeof(e->name), "%s", name);
                netlink_watch_emit(w, LINK_RENAMED, ifindex, name, old_name);
        }
        return 0;
}

static void netlink_watch_on_del_link(NetlinkWatch *w, int ifindex) {
        struct link_entry *e = netlink_watch_find(w, ifindex), gone;

        if (!e)
                return;         /* never reported, nothing to take back */
        gone = *e;
        netlink_watch_remove(w, e);
        netlink_watch_emit(w, LINK_DEL, gone.ifindex, gone.name, NULL);
}

static void netlink_watch_parse(NetlinkWatch *w, size_t size) {
        size_t left = size;

        for (const struct nlmsghdr *h = (const struct nlmsghdr *) w->buffer; NLMSG_OK(h, left);
             h = NLMSG_NEXT(h, left)) {
                bool ours = w->dumping && h->nlmsg_pid == w->port_id && h->nlmsg_seq == w->seq;
                const struct ifinfomsg *ifi = NLMSG_DATA(h);
                const char *name;
                int r;

                if (ours)
                        w->dump_answered = true;
                if (ours && (h->nlmsg_flags & NLM_F_DUMP_INTR))
                        w->dump_again = true;   /* the link list changed under the dump */

                switch (h->nlmsg_type) {
                case NLMSG_DONE:
                        if (ours)
                                netlink_watch_dump_done(w);
                        break;
                case NLMSG_ERROR:
                        if (ours && h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
                                const struct nlmsgerr *err = NLMSG_DATA(h);

                                w->dump_error = err->error < 0 ? err->error : -EIO;
                                log_warning_errno(w->dump_error, "rtnetlink refused the list of links: %m");
                                w->dumping = false;
                        }
                        break;
                case RTM_NEWLINK:
                case RTM_DELLINK:
                        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) || ifi->ifi_index <= 0)
                                break;
                        if (h->nlmsg_type == RTM_DELLINK) {
                                netlink_watch_on_del_link(w, ifi->ifi_index);
                                break;
                        }
                        name = link_message_name(h);
                        if (!name) {
                                log_debug("Ignoring a link message without a valid name (index %d).", ifi->ifi_index);
                                break;
                        }
                        r = netlink_watch_on_new_link(w, ifi->ifi_index, name);
                        if (r < 0) {
                                /* The event is lost to us: make sure a dump repairs the table. */
                                log_oom();
                                netlink_watch_lost(w, "out of memory");
                        }
                        break;
                default:
                        break;
                }
        }
}

/* Reads up to max_batch datagrams; 0 when the socket is drained, 1 when more may wait. */
static int netlink_watch_receive(NetlinkWatch *w, unsigned max_batch) {
        for (unsigned i = 0; i < max_batch; i++) {
                struct sockaddr_nl sender = {};
                struct iovec iov = { .iov_base = w->buffer, .iov_len = NETLINK_WATCH_BUFFER_SIZE };
                struct msghdr mh = {
                        .msg_name = &sender,
                        .msg_namelen = sizeof(sender),
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                };
                ssize_t n;

                n = recvmsg(w->fd, &mh, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                return 0;
                        if (errno == EINTR)
                                continue;
                        if (errno == ENOBUFS) {
                                netlink_watch_lost(w, "receive buffer full");
                                continue;
                        }
                        return log_error_errno(-errno, "Failed to read from the rtnetlink socket: %m");
                }
                if (sender.nl_pid != 0)
                        continue;       /* not from the kernel */
                if (mh.msg_flags & MSG_TRUNC) {
                        netlink_watch_lost(w, "datagram truncated");
                        continue;
                }
                netlink_watch_parse(w, (size_t) n);
        }
        return 1;
}

static int netlink_watch_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        NetlinkWatch *w = userdata;
        int r;

        r = netlink_watch_receive(w, NETLINK_WATCH_BATCH);
        if (r < 0)
                /* A broken socket: rather resync than stop the daemon. */
                netlink_watch_lost(w, "read error");
        return 0;
}

/* ---- Life cycle ----------------------------------------------------------------------------- */

static uint64_t now_msec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static int netlink_watch_open(NetlinkWatch *w) {
        struct sockaddr_nl address = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
        socklen_t length = sizeof(address);
        int size = NETLINK_WATCH_RCVBUF;

        w->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        if (w->fd < 0)
                return log_error_errno(-errno, "Failed to open an rtnetlink socket: %m");
        /* FORCE passes net.core.rmem_max with CAP_NET_ADMIN; without it, take what we may. */
        if (setsockopt(w->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
                (void) setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        if (bind(w->fd, (struct sockaddr *) &address, sizeof(address)) < 0)
                return log_error_errno(-errno, "Failed to subscribe to rtnetlink link notifications: %m");
        if (getsockname(w->fd, (struct sockaddr *) &address, &length) < 0)
                return log_error_errno(-errno, "Failed to get the rtnetlink port id: %m");
        w->port_id = address.nl_pid;
        return 0;
}

/* The first dump, read synchronously so the table is complete when netlink_watch_new() returns. */
static int netlink_watch_initial_dump(NetlinkWatch *w) {
        uint64_t deadline = now_msec() + NETLINK_WATCH_INITIAL_DUMP_TIMEOUT_MS;
        int r;

        w->quiet = true;
        r = netlink_watch_request_dump(w);
        if (r < 0)
                return r;
        while (w->dumping) {
                struct pollfd p = { .fd = w->fd, .events = POLLIN };
                uint64_t now = now_msec();

                if (now >= deadline)
                        return log_error_errno(-ETIMEDOUT, "rtnetlink did not list the links within %d ms.",
                                               NETLINK_WATCH_INITIAL_DUMP_TIMEOUT_MS);
                r = poll(&p, 1, (int) (deadline - now));
                if (r < 0 && errno != EINTR)
                        return log_error_errno(-errno, "Failed to wait for rtnetlink: %m");
                r = netlink_watch_receive(w, UINT32_MAX);
                if (r < 0)
                        return r;
        }
        if (w->dump_error < 0)
                return w->dump_error;
        w->quiet = false;
        return 0;
}

int netlink_watch_new(sd_event *e, netlink_watch_handler_t handler, void *userdata, NetlinkWatch **ret) {
        _cleanup_(netlink_watch_freep) NetlinkWatch *w = NULL;
        int r;

        if (!e || !handler || !ret)
                return -EINVAL;

        w = calloc(1, sizeof(NetlinkWatch));
        if (!w)
                return -ENOMEM;
        w->fd = -1;
        w->handler = handler;
        w->userdata = userdata;
        w->buffer = malloc(NETLINK_WATCH_BUFFER_SIZE);
        if (!w->buffer)
                return -ENOMEM;

        r = netlink_watch_open(w);
        if (r < 0)
                return r;
        r = netlink_watch_initial_dump(w);
        if (r < 0)
                return r;

        r = sd_event_add_io(e, &w->io, w->fd, EPOLLIN, netlink_watch_on_io, w);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the rtnetlink socket: %m");
        (void) sd_event_source_set_description(w->io, "rtnetlink-links");

        log_debug("Watching %zu network interfaces through rtnetlink.", w->n_links);
        *ret = TAKE_PTR(w);
        return 0;
}

NetlinkWatch *netlink_watch_free(NetlinkWatch *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->io);
        closep(&w->fd);
        free(w->links);
        free(w->buffer);
        free(w);
        return NULL;
}

int netlink_watch_get_name(NetlinkWatch *w, int ifindex, const char **ret_name) {
        struct link_entry *e = netlink_watch_find(w, ifindex);

        if (!e)
                return -ENODEV;
        *ret_name = e->name;
        return 0;
}

unsigned netlink_watch_resync_count(const NetlinkWatch *w) {
        return w->n_resyncs;
}

int netlink_watch_fd(const NetlinkWatch *w) {
        return w->fd;
}
