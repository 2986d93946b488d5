/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A polkit text agent (pkttyagent) for the lifetime of one command, so that a
 * person at a terminal is asked for a password instead of being refused;
 * started the way systemctl starts it.
 */
#pragma once

#include <stdbool.h>

/* Starts pkttyagent if it can help: on a terminal, not root, installed. Local buses only: the caller decides. */
int polkit_agent_open(void);
/* Is an agent running? Its password prompt may need the terminal: progress output must stay off it. */
bool polkit_agent_running(void);
/* Stops the agent, if one was started. */
void polkit_agent_close(void);
