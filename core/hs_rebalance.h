/*
 * hs_rebalance.h - rebalancing running devices and bus numbers (hs_rebalance.c).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CORE_REBALANCE_H
#define HOTSWAP_CORE_REBALANCE_H

#include "hs_tree.h"
#include "hs_txn.h"

/* Rebalance now (hs_core_rebalance, hotswap/core.h), or queue it behind
 * the writer or removal in progress; the upcall rebalance_run. */
int hs_rebalance_run(struct hs_core *core, hs_done_fn done, void *arg);
/* The card below bridge does not fit (res: what its hot-add lacked):
 * renumber running devices when res->bus_move says so
 * (hs_rebalance_bus_add), else plan a new assignment of addresses under
 * the policy and start it; 0: done() will be called.  Otherwise nothing
 * changed and msg says why (what would have to move). */
int hs_rebalance_add(struct hs_core *core, struct hs_dev *bridge, int devnum,
		     const struct hs_add_result *res, hs_done_fn done,
		     void *arg, char *msg, size_t msglen);
/* A device goes away (surprise) or the core shuts down: stopped drivers
 * go on where they are, the rebalance ends with -HS_ECANCELED. */
void hs_rebalance_cancel(struct hs_core *core, const char *why);
/* hs_scan_slot in the open transaction, growing the slot bridge's bus
 * range when a bridge on the card needs more numbers: ancestors grow,
 * bridges in the way are renumbered elsewhere (with the functions below
 * them only if renumber_running: their drivers must be stopped).  When
 * running devices are in the way and may not be renumbered here,
 * -HS_ENOSPC with res->bus_move set to the numbers needed (the policy
 * allows it; hs_rebalance_bus_add does it); res->bus_short: the numbers
 * the last scan lacked.  *after (if not NULL): a savepoint after the
 * renumbering, before the last scan. */
int hs_scan_slot_buses(struct hs_core *core, struct hs_dev *bridge,
		       int devnum, bool renumber_running,
		       struct hs_txn_mark *after, struct hs_add_result *res,
		       char *msg, size_t msglen);
/* Renumber the running devices in the way (their drivers stopped and
 * started again), then start the card's hot-add over; 0: done() will be
 * called.  Otherwise nothing changed and msg says why. */
int hs_rebalance_bus_add(struct hs_core *core, struct hs_dev *bridge,
			 int devnum, unsigned need, hs_done_fn done, void *arg,
			 char *msg, size_t msglen);

#endif /* HOTSWAP_CORE_REBALANCE_H */
