/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>

#include "isolate.h"
#include "log.h"
#include "macro.h"

int test_isolate(const char *veth0, const char *veth1) {
        char command[128];
        int r;

        if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
                return log_error_errno(negative_errno(), "Failed to create mount and network namespaces: %m");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return log_error_errno(negative_errno(), "Failed to make mounts private: %m");
        if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") < 0)
                return log_error_errno(negative_errno(), "Failed to mount a private bpffs: %m");
        if (!veth0 || !veth1)
                return 0;

        (void) snprintf(command, sizeof(command), "ip link add %s type veth peer name %s", veth0, veth1);
        r = system(command);
        if (r != 0)
                return log_error_errno(-EIO, "Failed to create a veth pair in the test's namespace (ip: %d).", r);
        return 0;
}
