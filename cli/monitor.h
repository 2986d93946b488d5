/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packetfilterctl monitor and top: live views of the PacketDropped signal. */
#pragma once

int verb_monitor(int argc, char *argv[]);
int verb_top(int argc, char *argv[]);
