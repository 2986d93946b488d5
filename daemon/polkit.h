/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Asynchronous polkit authorization, in the manner of systemd's bus-polkit:
 * the first call starts CheckAuthorization and returns 0; when polkitd
 * answers, the method call is put back on the bus's read queue, the handler
 * runs again, and this time polkit_verify() returns the answer.
 */
#pragma once

#include <systemd/sd-bus.h>

typedef struct PolkitRegistry PolkitRegistry;

int polkit_registry_new(PolkitRegistry **ret);
PolkitRegistry *polkit_registry_free(PolkitRegistry *r);

/*
 * details: NULL or a NULL-terminated list of key, value, key, value...,
 * passed to polkit so that rules can look at them.
 * Returns 1 authorized (go on), 0 pending (return 1 from the handler: the
 * reply comes later), or a negative errno with *error set to
 * AccessDenied / InteractiveAuthorizationRequired.
 * Callers with uid 0 are authorized without asking polkit. A user with 16
 * checks pending (over all its connections), or 64 pending in all, gets
 * LimitsExceeded.
 */
int polkit_verify(PolkitRegistry *registry, sd_bus_message *m, const char *action,
                  const char *const *details, sd_bus_error *error);
