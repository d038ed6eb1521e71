/*
 * platform.h - the x86 QEMU platform of the bare-metal image: the
 * hs_platform ops table over ECAM (q35) or 0xCF8/0xCFC (pc), the TSC
 * clock calibrated against the PIT, the one platform timer, the pool
 * allocator and the serial log.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HSQ_PLATFORM_H
#define HSQ_PLATFORM_H

#include "../bare/board.h"

struct hsq_machine {
	const char *name;          /* "q35" or "pc" */
	uint16_t host_vendor, host_device;
	uint64_t ecam_base;        /* 0: legacy 0xCF8/0xCFC only */
	unsigned ecam_buses;
	uint64_t tsc_hz;
	uint64_t clock_hz;         /* the clock's rate */
	const char *clock;         /* "hpet" or "tsc" */
	uint32_t ram_top;          /* end of RAM below 4 GiB */
	struct hs_host_bridge hb;
};

/* Find the machine (host bridge, ECAM from the MCH's PCIEXBAR), calibrate
 * the clock.  ram_top: from the Multiboot memory map (0: unknown). */
int hsq_platform_init(uint32_t ram_top);
const struct hsq_machine *hsq_machine(void);

#endif
