/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int max_level = LOG_INFO;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) {
        int saved_errno = errno;
        va_list ap;

        if (error < 0)
                error = -error;

        if (level <= max_level) {
                char buf[2048];

                /* %m is glibc's: make it print our error, not whatever errno holds. */
                errno = error;
                va_start(ap, format);
                (void) vsnprintf(buf, sizeof(buf), format, ap);
                va_end(ap);
                if (max_level >= LOG_DEBUG)
                        fprintf(stderr, "<%d>%s (%s:%d %s)\n", level, buf, file, line, func);
                else
                        fprintf(stderr, "<%d>%s\n", level, buf);
        }

        errno = saved_errno;
        return -error;
}
