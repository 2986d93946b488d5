/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Watches the network interfaces of the daemon's network namespace through
 * rtnetlink (a raw NETLINK_ROUTE socket in the RTMGRP_LINK group, on
 * sd-event) and reports, per interface index, when one appears, is renamed
 * or disappears.
 *
 * It keeps a table of the links it knows (index -> name), filled by a dump
 * when it is created, so that it reports only what matters: a flag, MTU or
 * carrier change (also an RTM_NEWLINK) is not an event. When the kernel
 * dropped notifications because the socket's buffer was full (ENOBUFS), the
 * table is rebuilt from a fresh dump and the differences are reported as
 * events, so a caller never misses that an interface came, went or changed
 * its name.
 */
#pragma once

#include <net/if.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct NetlinkWatch NetlinkWatch;

enum link_event {
        LINK_NEW,               /* an index not seen before: ifname is its name */
        LINK_RENAMED,           /* same index, new name: ifname is the new one, old_ifname the old */
        LINK_DEL,               /* gone: ifname is the last name known */
};

const char *link_event_to_string(enum link_event ev);

/*
 * old_ifname is NULL except for LINK_RENAMED. The strings live until the
 * callback returns. The callback may do anything but free the watcher.
 */
typedef void (*netlink_watch_handler_t)(void *userdata, enum link_event ev, int ifindex,
                                        const char *ifname, const char *old_ifname);

/*
 * Subscribes to link notifications and takes the current list of links (no
 * events are reported for those: they were there before the watcher). Create
 * the watcher before looking at interfaces, so that nothing that happens after
 * the look is missed.
 */
int netlink_watch_new(sd_event *e, netlink_watch_handler_t handler, void *userdata, NetlinkWatch **ret);
NetlinkWatch *netlink_watch_free(NetlinkWatch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(NetlinkWatch *, netlink_watch_free);

/* The name the watcher knows for an index; -ENODEV if none. */
int netlink_watch_get_name(NetlinkWatch *w, int ifindex, const char **ret_name);

/* Asks for a full dump now and reports what changed when it is in (also done on ENOBUFS). */
int netlink_watch_resync(NetlinkWatch *w);

/* How many times notifications were lost and the table rebuilt; for logs and tests. */
unsigned netlink_watch_resync_count(const NetlinkWatch *w);

/* The netlink socket, for tests that shrink its buffer to provoke ENOBUFS. */
int netlink_watch_fd(const NetlinkWatch *w);
