/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packetfilterctl's side of the bus: connecting, calling the service, decoding replies to JSON. */
#pragma once

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "macro.h"
#include "rule-words.h"

#define PF_BUS_NAME "org.example.PacketFilter"
#define PF_OBJECT_PATH "/org/example/PacketFilter"
#define PF_INTERFACE "org.example.PacketFilter1"

static inline void json_object_putp(json_object **o) {
        if (*o)
                (void) json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/*
 * Connects to the system bus, locally (honouring DBUS_SYSTEM_BUS_ADDRESS) or
 * over SSH with -H, and allows interactive authorization when asked to.
 */
int bus_connect(sd_bus **ret_bus);

/* Calls a method of the service's interface (see sd_bus_call_method()). */
int bus_call(sd_bus *bus, const char *method, sd_bus_error *error, sd_bus_message **reply,
             const char *types, ...);

/* The daemon's own message when there is one, else strerror(r). */
const char *bus_error_message(const sd_bus_error *error, int r);

/*
 * Reads the next complete value of the message (any type, containers and
 * variants included) as JSON: integers as numbers, dictionaries with string
 * keys as objects, other arrays and structs as arrays. Unknown keys of future
 * versions thus come through unchanged.
 */
int bus_message_read_json(sd_bus_message *m, json_object **ret);

/* All properties of the service's interface as one JSON object keyed by property name. */
int bus_get_all_properties_json(sd_bus *bus, sd_bus_error *error, json_object **ret);

/* Appends a rule dictionary (a{sv}) with the fields' own types. */
int bus_message_append_rule_fields(sd_bus_message *m, const RuleFields *rule);

/*
 * Reads one rule dictionary (a{sv}). A value of a type no rule key has is
 * skipped and recorded as RULE_VALUE_OTHER, so that its key can be named.
 */
int bus_message_read_rule_fields(sd_bus_message *m, RuleFields *ret);

/* Reads a list of rule dictionaries (aa{sv}). */
int bus_message_read_rule_list(sd_bus_message *m, RuleFields **ret_rules, size_t *ret_n);
void rule_list_free(RuleFields *rules, size_t n);
