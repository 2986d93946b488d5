/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Rules as a{sv} dictionaries on the bus: the strict decoder, and the encoder for replies and signals. */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"
#include "rule.h"

/*
 * Reads one a{sv} rule. Every key has exactly one D-Bus type; an unknown key,
 * a repeated key or a value of another type is an error, never ignored or
 * converted. The rule is validated as a whole. On error, *error is
 * org.example.PacketFilter1.Error.InvalidRule (or InvalidAddress) with the
 * key and the reason, prefixed with "rule N: " when index >= 0.
 * *ret_timeout_sec gets the "timeout" key (0 when absent).
 */
int bus_message_read_rule(sd_bus_message *m, int index, const char *default_group, Rule **ret,
                          uint32_t *ret_timeout_sec, sd_bus_error *error);
/* Reads aa{sv}: all rules or an error naming the first bad one. A rule without a "group" key
 * gets default_group (NULL: "default"). */
int bus_message_read_rules(sd_bus_message *m, const char *default_group, Rule ***ret, size_t *ret_n,
                           sd_bus_error *error);
void rules_free_many(Rule **rules, size_t n);

int bus_message_append_rule(sd_bus_message *m, Manager *manager, const Rule *rule);
