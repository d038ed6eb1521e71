/*
 * controllers.h - what the controller drivers share: their registration
 * records and two small helpers (they are freestanding, like the core).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CONTROLLERS_H
#define HOTSWAP_CONTROLLERS_H

#include "hotswap/hpc.h"

extern const struct hs_port_service hs_pciehp_service;
extern const struct hs_driver hs_shpchp_driver;
extern const struct hs_driver hs_cpcihp_driver;

/* Zeroed memory from the platform's allocator (NULL on failure). */
void *hs_ctl_zalloc(struct hs_dev *dev, size_t size);
void hs_ctl_free(struct hs_dev *dev, void *p, size_t size);
void hs_memzero(void *p, size_t n);

#endif
