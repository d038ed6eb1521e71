/*
 * hs_add.h - operations: boot, hot-add, waiting adds (hs_add.c).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CORE_ADD_H
#define HOTSWAP_CORE_ADD_H

#include "hs_tree.h"
#include "hs_txn.h"

/* Scan the slot's bus in the open transaction, bus numbers from the
 * bridge's free range (-HS_ENOSPC with msg and *bus_short, the numbers
 * lacking, when short). */
int hs_scan_slot(struct hs_core *core, struct hs_dev *bridge, int devnum,
		 unsigned *bus_short, char *msg, size_t msglen);

/* A removal below bridge finished: the hot-adds waiting for it go. */
void hs_run_pending_adds(struct hs_core *core, struct hs_dev *bridge);

#endif /* HOTSWAP_CORE_ADD_H */
