/*
 * hs_scan.h - enumeration of a bus (hs_scan.c).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CORE_SCAN_H
#define HOTSWAP_CORE_SCAN_H

#include "hs_tree.h"
#include "hs_busnr.h"

/* Scan bus busno below parent (NULL: root bus of host h); new devices
 * are linked and logged in the open transaction; bridges take their
 * bus numbers from ba. */
int hs_scan_bus(struct hs_core *core, const struct hs_host_bridge *h,
		struct hs_dev *parent, unsigned busno, struct hs_busnr *ba);
/* The ID register at bdf read a moment ago (the slot's readiness poll):
 * the next scan takes it instead of reading again.  Valid only until
 * hs_scan_hint_clear; set it just around a synchronous hot-add. */
void hs_scan_hint_id(struct hs_core *core, hs_bdf_t bdf, uint32_t id);
void hs_scan_hint_clear(struct hs_core *core);

#endif /* HOTSWAP_CORE_SCAN_H */
