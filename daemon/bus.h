/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The D-Bus face of the daemon: object, vtable, handlers, named errors. */
#pragma once

#include "manager.h"

#define PF_BUS_NAME "org.example.PacketFilter"
#define PF_BUS_PATH "/org/example/PacketFilter"
#define PF_BUS_INTERFACE "org.example.PacketFilter1"

/* Connects to the system bus and serves the object; the name is requested by bus_request_name(). */
int bus_setup(Manager *m);
int bus_request_name(Manager *m);
