/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A polkit text agent (pkttyagent) for the lifetime of one command, so that a
 * person at a terminal is asked for a password instead of being refused;
 * started the way systemctl starts it.
 */
#pragma once

/* Starts pkttyagent if it can help: on a terminal, not root, installed. Local buses only: the caller decides. */
int polkit_agent_open(void);
/* Stops the agent, if one was started. */
void polkit_agent_close(void);
