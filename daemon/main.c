/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packetfilterd: owns the XDP filter and serves it on the system bus. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "bus.h"
#include "config.h"
#include "log.h"
#include "macro.h"
#include "manager.h"

static const char *arg_state_dir = PF_DEFAULT_STATE_DIR;
static const char *arg_bpffs_dir = PF_DEFAULT_BPFFS_DIR;
static const char *arg_config_file = PF_DEFAULT_CONFIG_FILE;

static void help(void) {
        printf("Usage: packetfilterd [OPTIONS]\n\n"
               "Owns the XDP packet filter and serves it on the system bus as %s.\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --state-dir=DIR     Where rules are saved (default %s)\n"
               "     --bpffs-dir=DIR     Where maps and links are pinned (default %s)\n"
               "     --config=FILE       Configuration file (default %s, may be absent)\n"
               "     --log-level=LEVEL   err, warning, notice, info or debug (default info)\n",
               PF_BUS_NAME, PF_DEFAULT_STATE_DIR, PF_DEFAULT_BPFFS_DIR, PF_DEFAULT_CONFIG_FILE);
}

static int parse_log_level(const char *s) {
        static const struct { const char *name; int level; } levels[] = {
                { "err", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
                { "info", LOG_INFO }, { "debug", LOG_DEBUG },
        };

        for (size_t i = 0; i < ELEMENTSOF(levels); i++)
                if (streq(s, levels[i].name))
                        return levels[i].level;
        return -EINVAL;
}

/* Returns 1 to go on, 0 to exit successfully (--help), negative on bad usage. */
static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_STATE_DIR,
                ARG_BPFFS_DIR,
                ARG_CONFIG,
                ARG_LOG_LEVEL,
        };
        static const struct option options[] = {
                { "help",      no_argument,       NULL, 'h'           },
                { "version",   no_argument,       NULL, ARG_VERSION   },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "bpffs-dir", required_argument, NULL, ARG_BPFFS_DIR },
                { "config",    required_argument, NULL, ARG_CONFIG    },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                {}
        };
        int c, level;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("packetfilterd %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_STATE_DIR:
                        arg_state_dir = optarg;
                        break;
                case ARG_BPFFS_DIR:
                        arg_bpffs_dir = optarg;
                        break;
                case ARG_CONFIG:
                        arg_config_file = optarg;
                        break;
                case ARG_LOG_LEVEL:
                        level = parse_log_level(optarg);
                        if (level < 0)
                                return log_error_errno(level, "Unknown log level '%s'.", optarg);
                        log_set_max_level(level);
                        break;
                default:
                        return -EINVAL;
                }

        if (optind < argc)
                return log_error_errno(-EINVAL, "This program takes no positional arguments.");
        return 1;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        int r;

        (void) sd_notify(false, "RELOADING=1\nSTATUS=Reloading the configuration...");
        r = manager_reload(m);
        if (r < 0)
                log_error_errno(r, "Reload on SIGHUP failed, keeping the running configuration: %m");
        (void) sd_notify(false, "READY=1");
        return 0;
}

static int run(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;

        r = manager_new(arg_state_dir, arg_bpffs_dir, arg_config_file, &m);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate manager: %m");

        r = sd_event_add_signal(m->event, NULL, SIGTERM | SD_EVENT_SIGNAL_PROCMASK, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT | SD_EVENT_SIGNAL_PROCMASK, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGHUP | SD_EVENT_SIGNAL_PROCMASK, on_sighup, m);
        if (r < 0)
                return log_error_errno(r, "Failed to install signal handlers: %m");
        (void) signal(SIGPIPE, SIG_IGN);

        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                log_warning_errno(r, "Failed to enable the watchdog: %m");

        (void) sd_notify(false, "STATUS=Loading the filter and saved state...");
        r = manager_start(m);
        if (r < 0)
                return r;

        r = bus_setup(m);
        if (r < 0)
                return r;
        /* The name is owned only once the saved state is applied: a caller never sees a half-started filter. */
        r = bus_request_name(m);
        if (r < 0)
                return r;

        (void) sd_notifyf(false, "READY=1\nSTATUS=Filtering %zu interface(s) with %zu rule(s).",
                          m->n_interfaces, m->rules->n_rules);
        log_info("packetfilterd %s ready.", PACKAGE_VERSION);

        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        if (r > 0)
                /* The bus dropped us (sd_bus_set_exit_on_disconnect): fail, so Restart= applies. */
                return log_error_errno(-ECONNRESET, "Lost the connection to the system bus; exiting, "
                                       "the filter stays in place.");

        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping.");
        manager_stop(m);
        log_info("Stopped.");
        return 0;
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);

        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
