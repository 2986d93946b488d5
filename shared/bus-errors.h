/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The named D-Bus errors of org.example.PacketFilter1, and their errno mapping for sd-bus clients. */
#pragma once

#include <errno.h>
#include <systemd/sd-bus.h>

#define PF_ERROR_PREFIX                 "org.example.PacketFilter1.Error."
#define PF_ERROR_INVALID_ADDRESS        PF_ERROR_PREFIX "InvalidAddress"
#define PF_ERROR_INVALID_RULE           PF_ERROR_PREFIX "InvalidRule"
#define PF_ERROR_NO_SUCH_RULE           PF_ERROR_PREFIX "NoSuchRule"
#define PF_ERROR_NO_SUCH_INTERFACE      PF_ERROR_PREFIX "NoSuchInterface"
#define PF_ERROR_LIMIT_EXCEEDED         PF_ERROR_PREFIX "LimitExceeded"
#define PF_ERROR_ATTACH_FAILED          PF_ERROR_PREFIX "AttachFailed"
#define PF_ERROR_INVALID_CONFIG         PF_ERROR_PREFIX "InvalidConfig"
#define PF_ERROR_INVALID_SET            PF_ERROR_PREFIX "InvalidSet"
#define PF_ERROR_SET_EXISTS             PF_ERROR_PREFIX "SetExists"
#define PF_ERROR_NO_SUCH_SET            PF_ERROR_PREFIX "NoSuchSet"
#define PF_ERROR_SET_IN_USE             PF_ERROR_PREFIX "SetInUse"
#define PF_ERROR_INVALID_SET_FILE       PF_ERROR_PREFIX "InvalidSetFile"

static const sd_bus_error_map pf_bus_error_map[] = {
        SD_BUS_ERROR_MAP(PF_ERROR_INVALID_ADDRESS, EINVAL),
        SD_BUS_ERROR_MAP(PF_ERROR_INVALID_RULE, EINVAL),
        SD_BUS_ERROR_MAP(PF_ERROR_NO_SUCH_RULE, ENOENT),
        SD_BUS_ERROR_MAP(PF_ERROR_NO_SUCH_INTERFACE, ENODEV),
        SD_BUS_ERROR_MAP(PF_ERROR_LIMIT_EXCEEDED, E2BIG),
        SD_BUS_ERROR_MAP(PF_ERROR_ATTACH_FAILED, EOPNOTSUPP),
        SD_BUS_ERROR_MAP(PF_ERROR_INVALID_CONFIG, EBADMSG),
        SD_BUS_ERROR_MAP(PF_ERROR_INVALID_SET, EINVAL),
        SD_BUS_ERROR_MAP(PF_ERROR_SET_EXISTS, EEXIST),
        SD_BUS_ERROR_MAP(PF_ERROR_NO_SUCH_SET, ENOENT),
        SD_BUS_ERROR_MAP(PF_ERROR_SET_IN_USE, EBUSY),
        SD_BUS_ERROR_MAP(PF_ERROR_INVALID_SET_FILE, EBADMSG),
        SD_BUS_ERROR_MAP_END
};
