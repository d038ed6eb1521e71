/*
 * hotswap/cfg.h - configuration space access through a platform, for the
 * core and for platforms and tools that probe before the core runs.
 *
 * Owns: typed config reads / writes through the platform, presence
 * checks, and capability list walks that cannot be led astray by a card:
 * bounded, loop-detecting and range-checked (PCI 3.0 6.7; PCIe Base
 * 7.6.3).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CFG_H
#define HOTSWAP_CFG_H

#include "hotswap/platform.h"

/* C linkage for C++ programs (tests/cli/install.sh builds one). */
#ifdef __cplusplus
extern "C" {
#endif

int hs_cfg_read8(const struct hs_platform *p, hs_bdf_t bdf, uint16_t off,
		 uint8_t *val);
int hs_cfg_read16(const struct hs_platform *p, hs_bdf_t bdf, uint16_t off,
		  uint16_t *val);
int hs_cfg_read32(const struct hs_platform *p, hs_bdf_t bdf, uint16_t off,
		  uint32_t *val);
int hs_cfg_write8(const struct hs_platform *p, hs_bdf_t bdf, uint16_t off,
		  uint8_t val);
int hs_cfg_write16(const struct hs_platform *p, hs_bdf_t bdf, uint16_t off,
		   uint16_t val);
int hs_cfg_write32(const struct hs_platform *p, hs_bdf_t bdf, uint16_t off,
		   uint32_t val);

/* True when a function answers at bdf (Vendor ID neither all ones nor
 * the CRS value 0001h). */
bool hs_cfg_present(const struct hs_platform *p, hs_bdf_t bdf);

/*
 * Find a standard capability.  Returns 0 with *off set, -HS_ENOENT when
 * the list ends without it, -HS_ENODEV when the function does not answer,
 * -HS_ELOOP when the list revisits an entry or is longer than the space
 * allows, -HS_EFAULT when a pointer leaves the capability area.
 */
int hs_cfg_find_cap(const struct hs_platform *p, hs_bdf_t bdf, uint8_t id,
		    uint16_t *off);
/* Same for extended capabilities (from 0x100). */
int hs_cfg_find_ext_cap(const struct hs_platform *p, hs_bdf_t bdf,
			uint16_t id, uint16_t *off);
/* One walk of the standard list that validates it and records the first
 * offset of every capability ID in offs[id] (0: absent).  hdr_type and
 * status are the function's Header Type and Status registers when the
 * caller has just read them (they say where and whether the list
 * starts), or -1 to have them read.  Same return values as
 * hs_cfg_find_cap, with -HS_ENOENT meaning "no list". */
int hs_cfg_scan_caps(const struct hs_platform *p, hs_bdf_t bdf, int hdr_type,
		     int status, uint16_t offs[256]);
/* Walk both lists completely to check them; same return values, 0 if
 * sound. */
int hs_cfg_check_caps(const struct hs_platform *p, hs_bdf_t bdf);

#ifdef __cplusplus
}
#endif

#endif /* HOTSWAP_CFG_H */
