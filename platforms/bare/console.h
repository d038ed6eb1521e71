/*
 * console.h - the image's line protocol on the serial console
 * (docs/qemu.md): every event, state change, assignment and driver bind
 * goes out as one timestamped line; operator requests come in as lines.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HSQ_CONSOLE_H
#define HSQ_CONSOLE_H

#include "hotswap/core.h"

#define HSQ_PROTOCOL 1

/* poll: the core's poll period, for the fallback's `irq` line. */
void hsq_console_init(struct hs_core *core, hs_time_t poll);
/* One formatted protocol line (the timestamp is added). */
void hsq_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The core's event subscriber. */
void hsq_console_event(void *arg, const struct hs_event *ev);
/* The platform log sink. */
void hsq_console_log(enum hs_log_level level, const char *line);
/* Every config read the core makes, reported by the platform's cfg_read
 * op: the first valid vendor ID of a function prints `dev found`. */
void hsq_console_cfg(hs_bdf_t bdf, uint16_t off, unsigned width, uint32_t v);
/* Read what the serial port has; run each complete line. */
void hsq_console_poll(void);
/* The authorization hook (the `authmode` command sets its answer). */
bool hsq_console_authorize(void *arg, struct hs_dev *dev, bool at_boot);
/* Print every device with its BARs / windows (at boot and `devices`). */
void hsq_console_devices(const char *verb);

#endif
