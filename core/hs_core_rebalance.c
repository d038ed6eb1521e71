/*
 * hs_core_rebalance.c - what turning rebalancing on links: the upcalls
 * through which the lower layers reach the rebalancer, and the slots'
 * answer to the one question it asks them.
 *
 * Owns: hs_core_enable_rebalance and hs_core_rebalance (hotswap/core.h).
 * Optional like the rebalancer itself (hs_rebalance.c): a core whose
 * embedder calls neither links neither, so nothing only rebalancing
 * uses is in a firmware that does not (issue #18, size).  It sits at the
 * top, with the core's lifecycle, because it wires a lower layer to a
 * higher one (docs/core.md).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hotswap/slot.h"
#include "hs_tree.h"
#include "hs_rebalance.h"

/* A hot-plug controller renumbered with the bridges above it: it finds
 * its registers through its record, which is renumbered with it, so it
 * only must not be in the middle of a slot transition.  CompactPCI is
 * out: the platform wires ENUM# and the backplane by bus address. */
static const char *controller_busy(struct hs_core *core,
				   const struct hs_dev *d)
{
	for (struct hs_slot *s = hs_slot_next(core, NULL); s;
	     s = hs_slot_next(core, s)) {
		struct hs_slot_info si;

		hs_slot_get_info(s, &si);
		if (si.bridge != d->bdf)
			continue;
		if (!hs_strcmp(si.kind, "cpci"))
			return "a CompactPCI backplane is wired to its bus "
			       "address";
		if (si.busy || si.state == HS_SLOT_BLINKING_ON ||
		    si.state == HS_SLOT_BLINKING_OFF)
			return "one of its slots is changing state";
	}
	return NULL;
}

void hs_core_enable_rebalance(struct hs_core *core)
{
	core->up.rebalance_run = hs_rebalance_run;
	core->up.rebalance_cancel = hs_rebalance_cancel;
	core->up.rebalance_add = hs_rebalance_add;
	core->up.scan_slot_buses = hs_scan_slot_buses;
	core->up.controller_busy = controller_busy;
}

int hs_core_rebalance(struct hs_core *core, hs_done_fn done, void *arg)
{
	hs_core_enable_rebalance(core);
	return hs_rebalance_run(core, done, arg);
}
