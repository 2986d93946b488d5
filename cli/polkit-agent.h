/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A polkit text agent (pkttyagent) for the lifetime of one command, so that a
 * person at a terminal is asked for a password instead of being refused;
 * started the way systemctl starts it.
 */
#pragma once

#include "macro.h"

/* Starts pkttyagent when it can help: on a terminal, not root, local bus, and installed. */
int polkit_agent_open(void);
void polkit_agent_close(void);

static inline void polkit_agent_closep(int *unused) {
        polkit_agent_close();
}
