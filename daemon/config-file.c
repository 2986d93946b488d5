/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-file.h"
#include "drop-events.h"
#include "log.h"
#include "macro.h"

static char *strip(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = 0;
        return s;
}

static int parse_boolean(const char *v) {
        static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(v, yes[i]) == 0)
                        return 1;
                if (strcasecmp(v, no[i]) == 0)
                        return 0;
        }
        return -EINVAL;
}

static int parse_interfaces(char *v, Config *c, const char **reason) {
        char *save = NULL;

        c->n_interfaces = 0;
        for (char *w = strtok_r(v, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                ConfigInterface *ci;
                char *colon = strchr(w, ':');
                enum xdp_mode mode = XDP_MODE_AUTO;

                if (colon) {
                        *colon = 0;
                        mode = xdp_mode_from_string(colon + 1);
                        if (mode < 0) {
                                *reason = "mode must be auto, native or generic";
                                return -EINVAL;
                        }
                }
                if (*w == 0 || strlen(w) >= IF_NAMESIZE || strchr(w, '/')) {
                        *reason = "not a valid interface name";
                        return -EINVAL;
                }
                if (c->n_interfaces >= CONFIG_MAX_INTERFACES) {
                        *reason = "too many interfaces";
                        return -E2BIG;
                }
                ci = &c->interfaces[c->n_interfaces++];
                snprintf(ci->name, sizeof(ci->name), "%s", w);
                ci->mode = mode;
        }
        return 0;
}

static int config_parse_line(char *line, bool *in_section, Config *c, const char **reason) {
        char *eq, *key, *value;
        int r;

        line = strip(line);
        if (*line == 0 || *line == '#' || *line == ';')
                return 0;

        if (*line == '[') {
                if (!streq(line, "[Filter]")) {
                        *reason = "unknown section (only [Filter] exists)";
                        return -EINVAL;
                }
                *in_section = true;
                return 0;
        }
        if (!*in_section) {
                *reason = "assignment outside the [Filter] section";
                return -EINVAL;
        }

        eq = strchr(line, '=');
        if (!eq) {
                *reason = "expected KEY=VALUE";
                return -EINVAL;
        }
        *eq = 0;
        key = strip(line);
        value = strip(eq + 1);

        if (streq(key, "DefaultAction")) {
                if (pf_default_action_from_string(value, &c->default_action) < 0) {
                        *reason = "DefaultAction must be pass or drop";
                        return -EINVAL;
                }
                c->has_default_action = true;
        } else if (streq(key, "Interfaces")) {
                r = parse_interfaces(value, c, reason);
                if (r < 0)
                        return r;
        } else if (streq(key, "Connections")) {
                char *copy = strdup(value);

                /* Only the dispatcher script acts on it; check the modes so a typo is caught here. */
                if (!copy)
                        return -ENOMEM;
                for (char *save = NULL, *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                        char *colon = strrchr(w, ':');

                        if (colon && xdp_mode_from_string(colon + 1) < 0) {
                                free(copy);
                                *reason = "Connections: a mode must be auto, native or generic";
                                return -EINVAL;
                        }
                }
                free(copy);
                free(c->connections);
                c->connections = strdup(value);
                if (!c->connections)
                        return -ENOMEM;
        } else if (streq(key, "DropSignalsPerSecond")) {
                char *end;
                unsigned long v;

                errno = 0;
                v = strtoul(value, &end, 10);
                if (errno || end == value || *end || value[0] == '-' || value[0] == '+' ||
                    v > DROP_SIGNALS_PER_SECOND_MAX) {
                        *reason = "DropSignalsPerSecond must be a number from 0 to 1000";
                        return -EINVAL;
                }
                c->drop_signals_per_second = (unsigned) v;
                c->has_drop_signals_per_second = true;
        } else if (streq(key, "DetachOnStop")) {
                r = parse_boolean(value);
                if (r < 0) {
                        *reason = "DetachOnStop must be yes or no";
                        return r;
                }
                c->detach_on_stop = r;
        } else {
                *reason = "unknown key";
                return -EINVAL;
        }
        return 0;
}

int config_parse(const char *text, const char *origin, Config *ret) {
        _cleanup_free_ char *copy = NULL;
        Config c = {};
        bool in_section = false;
        unsigned line_no = 0;
        copy = strdup(text);
        if (!copy)
                return -ENOMEM;

        /* strtok_r would skip empty lines and miscount; split by hand. */
        for (char *line = copy, *next; line; line = next) {
                const char *reason = NULL;
                int r;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                line_no++;

                r = config_parse_line(line, &in_section, &c, &reason);
                if (r == -ENOMEM) {
                        config_done(&c);
                        return r;
                }
                if (r < 0) {
                        log_error("%s:%u: %s.", origin, line_no, reason ?: "invalid line");
                        config_done(&c);
                        return -EBADMSG;
                }
        }
        *ret = c;
        return 0;
}

int config_load(const char *path, Config *ret) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        f = fopen(path, "re");
        if (!f) {
                if (errno == ENOENT) {
                        *ret = (Config) {};
                        return 0;
                }
                return log_error_errno(-errno, "Failed to open %s: %m", path);
        }

        /* A config file is small; refuse anything absurd instead of reading it whole. */
        text = calloc(1, 64 * 1024 + 1);
        if (!text)
                return -ENOMEM;
        size = fread(text, 1, 64 * 1024 + 1, f);
        if (ferror(f))
                return log_error_errno(-EIO, "Failed to read %s: %m", path);
        if (size > 64 * 1024)
                return log_error_errno(-EFBIG, "%s is larger than 64 KiB.", path);
        if (memchr(text, 0, size))
                return log_error_errno(-EBADMSG, "%s contains a NUL byte.", path);

        r = config_parse(text, path, ret);
        return r;
}

void config_done(Config *c) {
        free(c->connections);
        *c = (Config) {};
}

unsigned config_drop_signals_per_second(const Config *c) {
        return c->has_drop_signals_per_second ? c->drop_signals_per_second : DROP_SIGNALS_PER_SECOND_DEFAULT;
}
