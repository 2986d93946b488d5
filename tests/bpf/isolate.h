/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Puts the calling process in mount and network namespaces of its own, with a
 * fresh bpffs on /sys/fs/bpf, so a test never leaves pins in the host's bpffs
 * nor touches its interfaces; all of it vanishes with the process, however it
 * ends. With two names, also makes a veth pair there (for interface rules).
 */
int test_isolate(const char *veth0, const char *veth1);
