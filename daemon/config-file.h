/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /etc/packetfilter/packetfilterd.conf: an ini file with one section.
 *
 *   [Filter]
 *   DefaultAction=pass|drop          what happens to packets no rule matches
 *   Interfaces=eth0 wlan0:generic    attach at start; NAME or NAME:MODE (auto, native, generic)
 *   DetachOnStop=no|yes              detach the filter when the daemon stops
 *   Connections=home-lan office:generic  NetworkManager connection ids whose interface the
 *                                    dispatcher script attaches on "up" (ID or ID:MODE;
 *                                    ids with spaces cannot be listed)
 *   DropSignalsPerSecond=20          PacketDropped signals per second at most; 0 = no drop events
 *
 * '#' and ';' start comments. Unknown keys or sections are errors, so typos do not pass silently.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "loader.h"
#include "rule.h"

#define CONFIG_MAX_INTERFACES 64

typedef struct ConfigInterface {
        char name[16];
        enum xdp_mode mode;
} ConfigInterface;

typedef struct Config {
        bool has_default_action;
        enum pf_action default_action;
        ConfigInterface interfaces[CONFIG_MAX_INTERFACES];
        size_t n_interfaces;
        bool detach_on_stop;
        char *connections;              /* as written, for the dispatcher script; NULL = none */
        bool has_drop_signals_per_second;
        unsigned drop_signals_per_second; /* 0..DROP_SIGNALS_PER_SECOND_MAX */
} Config;

/* DropSignalsPerSecond=, or its default. */
unsigned config_drop_signals_per_second(const Config *c);

/* A missing file is an empty config. On a bad line: -EBADMSG, with the line number and the reason logged. */
int config_load(const char *path, Config *ret);
int config_parse(const char *text, const char *origin, Config *ret);
void config_done(Config *c);
