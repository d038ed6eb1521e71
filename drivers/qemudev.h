/*
 * qemudev.h - drivers for two of QEMU's test devices, used by the
 * bare-metal image to prove on emulated hardware that windows and BARs
 * are right (a driver reaches its registers or it does not).
 *
 *  - "edu" (1234:11e8, QEMU docs/specs/edu.txt): BAR0 reads 0x010000ed
 *    at offset 0, the liveness register at 0x04 returns the inverse of
 *    what was written, and a DMA engine copies between host memory and a
 *    4 KiB buffer on the card (so it needs Bus Master Enable, and is the
 *    authorization policy's test device).
 *  - "pci-testdev" (1b36:0005, QEMU docs/specs/pci-testdev.txt): a test
 *    header readable through BAR0 (memory) and BAR1 (I/O); selecting
 *    test 0 and reading its name proves both windows.
 *
 * Freestanding: only the core's driver API.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_DRIVERS_QEMUDEV_H
#define HOTSWAP_DRIVERS_QEMUDEV_H

#include "hotswap/core.h"

extern const struct hs_driver qemu_edu_driver;
extern const struct hs_driver qemu_testdev_driver;

#define EDU_ID_VALUE 0x010000edu

struct qemu_edu_status {
	uint32_t id;
	bool live;                     /* liveness answered with ~value */
	bool dma_busy;                 /* a round trip is in progress */
	unsigned dma_ok, dma_failed;   /* round trips finished */
	const char *last_error;        /* "" when none */
};

/* Start a DMA round trip (host -> card buffer -> host, compared):
 * -HS_EBUSY while one runs, -HS_ENODEV when not bound to edu. */
int qemu_edu_dma(struct hs_dev *dev);
int qemu_edu_status(const struct hs_dev *dev, struct qemu_edu_status *out);
/* The names pci-testdev reported for test 0 through BAR0 and BAR1. */
int qemu_testdev_names(const struct hs_dev *dev, const char **mmio,
		       const char **portio);

#endif
