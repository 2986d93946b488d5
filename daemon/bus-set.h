/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The D-Bus methods and signal of named sets; bus.c puts them in the vtable. */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

int method_create_set(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_delete_set(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_add_to_set(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_remove_from_set(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_import_set(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_export_set(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_sets(sd_bus_message *msg, void *userdata, sd_bus_error *error);

/* Manager.notify_set: emits SetChanged(name, change). */
void bus_on_set_change(Manager *m, const char *name, const char *change);
