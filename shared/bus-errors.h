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

static const sd_bus_error_map pf_bus_error_map[] = {
        SD_BUS_ERROR_MAP(PF_ERROR_INVALID_ADDRESS, EINVAL),
        SD_BUS_ERROR_MAP(PF_ERROR_INVALID_RULE, EINVAL),
        SD_BUS_ERROR_MAP(PF_ERROR_NO_SUCH_RULE, ENOENT),
        SD_BUS_ERROR_MAP(PF_ERROR_NO_SUCH_INTERFACE, ENODEV),
        SD_BUS_ERROR_MAP(PF_ERROR_LIMIT_EXCEEDED, E2BIG),
        SD_BUS_ERROR_MAP(PF_ERROR_ATTACH_FAILED, EOPNOTSUPP),
        SD_BUS_ERROR_MAP(PF_ERROR_INVALID_CONFIG, EBADMSG),
        SD_BUS_ERROR_MAP_END
};
