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

#include "hotswap/platform.h"

struct hsq_machine {
	const char *name;          /* "q35" or "pc" */
	uint16_t host_vendor, host_device;
	uint64_t ecam_base;        /* 0: legacy 0xCF8/0xCFC only */
	unsigned ecam_buses;
	uint64_t tsc_hz;
	uint32_t ram_top;          /* end of RAM below 4 GiB */
	struct hs_host_bridge hb;
};

/* Find the machine (host bridge, ECAM from the MCH's PCIEXBAR), calibrate
 * the clock.  ram_top: from the Multiboot memory map (0: unknown). */
int hsq_platform_init(uint32_t ram_top);
const struct hsq_machine *hsq_machine(void);
const struct hs_platform *hsq_platform(void);

/* Nanoseconds since hsq_platform_init. */
hs_time_t hsq_now(void);
/* Is the platform timer armed, and for when? */
bool hsq_timer_deadline(hs_time_t *deadline);
/* Run the platform timer's callback if it is due; true if it ran. */
bool hsq_timer_poll(void);
/* Where log lines go (the console sets it). */
void hsq_set_log_sink(void (*fn)(enum hs_log_level, const char *));
/* Minimum level logged (default INFO). */
void hsq_set_log_level(enum hs_log_level lvl);

/* Raw config access, for the console's diagnostics (not the core). */
int hsq_cfg_read(hs_bdf_t bdf, uint16_t off, unsigned width, uint32_t *v);
int hsq_cfg_write(hs_bdf_t bdf, uint16_t off, unsigned width, uint32_t v);

#endif
