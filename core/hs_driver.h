/*
 * hs_driver.h - the driver bus: binding, port services, interrupts, removal
 * (hs_driver.c).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CORE_DRIVER_H
#define HOTSWAP_CORE_DRIVER_H

#include "hs_tree.h"

bool hs_removal_pending(struct hs_core *core, const struct hs_dev *bridge);
/* Shutting down: removals still quiescing end with -HS_ECANCELED. */
void hs_cancel_removals(struct hs_core *core);
int hs_bind_all(struct hs_core *core);
/* One device, as hs_bind_all does (boot binds controllers early). */
int hs_bind_dev(struct hs_core *core, struct hs_dev *d);
int hs_bind_new(struct hs_core *core, struct hs_dev *top, char *msg,
		size_t msglen);
void hs_unbind(struct hs_core *core, struct hs_dev *dev);
/* Does anything sit in the slot (device devnum below the bridge)? */
bool hs_slot_populated(struct hs_dev *bridge, int devnum);
/* Function 0 in the slot reported Immediate Readiness when scanned. */
bool hs_slot_immediate_ready(struct hs_dev *bridge, int devnum);

#endif /* HOTSWAP_CORE_DRIVER_H */
