/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "polkit.h"

/* polkit may wait for a password typed into an agent; give a person time. */
#define POLKIT_TIMEOUT_USEC (120ULL * 1000000ULL)

/* One user cannot pile up checks (each holds its message and a polkit call), however
 * many connections it opens: past these, calls are refused until some are answered. */
#define POLKIT_PENDING_PER_USER_MAX 16
#define POLKIT_PENDING_MAX 64

typedef struct PolkitQuery PolkitQuery;
struct PolkitQuery {
        PolkitRegistry *registry;
        PolkitQuery *next;
        sd_bus_message *request;        /* the method call waiting for the answer */
        uid_t uid;                      /* the caller's */
        char *action;
        sd_bus_slot *slot;              /* the CheckAuthorization call in flight; NULL once answered */
        bool answered;
        int result;                     /* 1 authorized, or negative errno */
        sd_bus_error error;
};

struct PolkitRegistry {
        PolkitQuery *queries;
};

int polkit_registry_new(PolkitRegistry **ret) {
        PolkitRegistry *r = calloc(1, sizeof(PolkitRegistry));

        if (!r)
                return -ENOMEM;
        *ret = r;
        return 0;
}

static PolkitQuery *polkit_query_free(PolkitQuery *q) {
        if (!q)
                return NULL;
        sd_bus_slot_unref(q->slot);
        sd_bus_message_unref(q->request);
        sd_bus_error_free(&q->error);
        free(q->action);
        free(q);
        return NULL;
}

static void polkit_registry_unlink(PolkitRegistry *registry, PolkitQuery *q) {
        for (PolkitQuery **p = &registry->queries; *p; p = &(*p)->next)
                if (*p == q) {
                        *p = q->next;
                        return;
                }
}

PolkitRegistry *polkit_registry_free(PolkitRegistry *registry) {
        if (!registry)
                return NULL;
        while (registry->queries) {
                PolkitQuery *q = registry->queries;

                registry->queries = q->next;
                polkit_query_free(q);
        }
        free(registry);
        return NULL;
}

static PolkitQuery *polkit_registry_find(PolkitRegistry *registry, sd_bus_message *m, const char *action) {
        for (PolkitQuery *q = registry->queries; q; q = q->next)
                if (q->request == m && streq(q->action, action))
                        return q;
        return NULL;
}

static int polkit_parse_answer(sd_bus_message *reply, sd_bus_error *error) {
        int authorized, challenge, r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);

                /* polkitd absent or failing: deny, never allow. */
                log_warning("polkit check failed (%s: %s), denying.", strna(e->name), strna(e->message));
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Authorization could not be checked: polkit is not available.");
        }

        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0) {
                log_warning_errno(r, "Failed to parse polkit's answer, denying: %m");
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Authorization could not be checked: bad answer from polkit.");
        }

        if (authorized)
                return 1;
        if (challenge)
                return sd_bus_error_set(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                        "Interactive authentication required.");
        return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied by polkit.");
}

static int polkit_on_answer(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;
        sd_bus *bus = sd_bus_message_get_bus(q->request);
        int r;

        q->slot = sd_bus_slot_unref(q->slot);
        q->answered = true;
        q->result = polkit_parse_answer(reply, &q->error);

        /* Run the method call again: the handler now finds the answer. */
        r = sd_bus_message_rewind(q->request, true);
        if (r >= 0)
                r = sd_bus_enqueue_for_read(bus, q->request);
        if (r < 0) {
                log_error_errno(r, "Failed to re-queue method call after polkit answered: %m");
                (void) sd_bus_reply_method_errno(q->request, r, NULL);
                polkit_registry_unlink(q->registry, q);
                polkit_query_free(q);
        }
        return 0;
}

/* Pending checks in all, and of one user. */
static void polkit_pending_count(PolkitRegistry *registry, uid_t uid, unsigned *ret_total, unsigned *ret_user) {
        unsigned total = 0, user = 0;

        for (PolkitQuery *q = registry->queries; q; q = q->next)
                if (!q->answered) {
                        total++;
                        user += q->uid == uid;
                }
        *ret_total = total;
        *ret_user = user;
}

static int polkit_start_query(PolkitRegistry *registry, sd_bus_message *m, uid_t uid, const char *action,
                              const char *const *details) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        PolkitQuery *q;
        int interactive, r;

        interactive = sd_bus_message_get_allow_interactive_authorization(m);

        r = sd_bus_message_new_method_call(sd_bus_message_get_bus(m), &call,
                                           "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority",
                                           "CheckAuthorization");
        if (r < 0)
                return r;
        /* Subject: the caller's unique bus name; polkitd resolves its pid, uid and session. */
        r = sd_bus_message_append(call, "(sa{sv})s", "system-bus-name", 1,
                                  "name", "s", sd_bus_message_get_sender(m), action);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(call, 'a', "{ss}");
        if (r < 0)
                return r;
        for (const char *const *d = details; d && d[0] && d[1]; d += 2) {
                r = sd_bus_message_append(call, "{ss}", d[0], d[1]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(call);
        if (r < 0)
                return r;
        /* Flag 1: AllowUserInteraction, only when the caller said it can wait for a prompt. */
        r = sd_bus_message_append(call, "us", (uint32_t) (interactive > 0), "");
        if (r < 0)
                return r;

        q = calloc(1, sizeof(PolkitQuery));
        if (!q)
                return -ENOMEM;
        q->registry = registry;
        q->uid = uid;
        q->error = SD_BUS_ERROR_NULL;
        q->request = sd_bus_message_ref(m);
        q->action = strdup(action);
        if (!q->action) {
                polkit_query_free(q);
                return -ENOMEM;
        }

        r = sd_bus_call_async(sd_bus_message_get_bus(m), &q->slot, call, polkit_on_answer, q, POLKIT_TIMEOUT_USEC);
        if (r < 0) {
                polkit_query_free(q);
                return r;
        }

        q->next = registry->queries;
        registry->queries = q;
        return 0;
}

static int bus_message_sender_uid(sd_bus_message *m, uid_t *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        int r;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        /* Never trust credentials augmented from /proc for authorization. */
        if (sd_bus_creds_get_augmented_mask(creds) & SD_BUS_CREDS_EUID)
                return -EPERM;
        return sd_bus_creds_get_euid(creds, ret);
}

int polkit_verify(PolkitRegistry *registry, sd_bus_message *m, const char *action,
                  const char *const *details, sd_bus_error *error) {
        unsigned pending_total, pending_user;
        PolkitQuery *q;
        uid_t uid;
        int r;

        r = bus_message_sender_uid(m, &uid);
        if (r >= 0 && uid == 0)
                return 1;

        q = polkit_registry_find(registry, m, action);
        if (q) {
                if (!q->answered)
                        return 0;
                r = q->result;
                if (r < 0)
                        (void) sd_bus_error_copy(error, &q->error);
                polkit_registry_unlink(registry, q);
                polkit_query_free(q);
                return r;
        }

        if (r < 0)
                uid = (uid_t) -1;       /* unknown: counted together, and polkit decides */
        polkit_pending_count(registry, uid, &pending_total, &pending_user);
        if (pending_user >= POLKIT_PENDING_PER_USER_MAX || pending_total >= POLKIT_PENDING_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                         "Too many authorization checks pending (at most %u per user, %u in all).",
                                         POLKIT_PENDING_PER_USER_MAX, POLKIT_PENDING_MAX);

        r = polkit_start_query(registry, m, uid, action, details);
        if (r < 0) {
                log_warning_errno(r, "Failed to ask polkit, denying: %m");
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Authorization could not be checked.");
        }
        return 0;
}
