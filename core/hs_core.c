/*
 * hs_core.c - the core object's lifecycle: parameters, create, destroy.
 *
 * Owns: hs_core_create / hs_core_destroy, the top of the core's layers
 * (docs/core.md): creating the core wires the upcalls through which a
 * lower layer reaches a higher one (transactions undoing interrupts,
 * driver removal running waiting adds, the tree asking the slots); the
 * rebalancer's upcalls, and the slots' answer to it, are installed by
 * hs_core_enable_rebalance (hs_core_rebalance.c), so a core without it
 * does not link them.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hs_tree.h"
#include "hs_txn.h"
#include "hs_driver.h"
#include "hs_add.h"
#include "hs_slot.h"
#include "hotswap/slot.h"

/* ---- parameters and lifecycle ------------------------------------------ */

void hs_core_params_defaults(struct hs_core_params *p)
{
	hs_memset(p, 0, sizeof(*p));
	p->hotplug.bus = 4;
	p->hotplug.io = 4096;
	p->hotplug.mem = 8u << 20;
	p->hotplug.pref = 64u << 20;
	p->share_leftover = true;
	p->quiesce_timeout = HS_SEC(5);
	p->slot_poll = false;
	p->poll_period = HS_SEC(1);
	p->cmd_timeout = HS_SEC(1);
	p->button_window = HS_SEC(5);
	p->debounce = HS_MSEC(20);
	p->link_timeout = HS_SEC(1);
	p->ready_timeout = HS_SEC(1);
	p->ready_poll = HS_MSEC(10);
	p->slot_policy = HS_SLOT_POLICY_DEFAULT;
	p->rebalance.move = HS_MOVE_CAPABLE;
}

int hs_core_create(const struct hs_platform *plat,
		   const struct hs_core_params *params, struct hs_core **out)
{
	struct hs_core *core;
	void *m;

	if (!plat || !plat->ops || !plat->ops->realloc || !plat->ops->cfg_read)
		return -HS_EINVAL;
	m = plat->ops->realloc(plat->ctx, NULL, 0, sizeof(*core));
	if (!m)
		return -HS_ENOMEM;
	core = m;
	hs_memset(core, 0, sizeof(*core));
	core->plat = plat;
	if (params)
		core->params = *params;
	else
		hs_core_params_defaults(&core->params);
	hs_timers_init(&core->timers, plat);
	core->txq_tail = &core->txq;
	hs_timer_init(&core->txq_tm, hs_txn_run_writers, core);
	/* The upcalls (hs_tree.h): the only ways a layer reaches up. */
	core->up.free_irq = hs_dev_free_irq;
	core->up.run_pending_adds = hs_run_pending_adds;
	/* Rebalancing's five (rebalance_run, rebalance_cancel,
	 * rebalance_add, scan_slot_buses, controller_busy) stay NULL until
	 * hs_core_enable_rebalance (hs_core_rebalance.c). */
	core->up.slot_phys_at = hs_slot_phys_at;
	while (core->nhosts < HS_MAX_HOSTS && plat->ops->host_bridge &&
	       plat->ops->host_bridge(plat->ctx, core->nhosts,
				      &core->host[core->nhosts]) == 0)
		core->nhosts++;
	if (!core->nhosts) {
		plat->ops->realloc(plat->ctx, core, sizeof(*core), 0);
		return -HS_ENODEV;
	}
	*out = core;
	return 0;
}

static void free_tree(struct hs_core *core, struct hs_dev *d)
{
	while (d) {
		struct hs_dev *next = d->sibling;

		free_tree(core, d->child);
		if (d->drv) {
			if (d->drv->remove)
				d->drv->remove(d, d->drv_priv);
			d->drv = NULL;
		}
		for (unsigned i = 0; i < HS_MAX_SERVICES; i++)
			if (d->svc[i] && d->svc[i]->remove)
				d->svc[i]->remove(d, d->svc_priv[i]);
		hs_dev_free_irq(d);
		hs_free(core, d, sizeof(*d));
		d = next;
	}
}

void hs_core_destroy(struct hs_core *core)
{
	if (!core)
		return;
	if (core->in_txn)
		hs_txn_abort(core);
	/* Queued writers hear -HS_ECANCELED, with nothing open. */
	hs_txn_queue_flush(core);
	if (core->up.rebalance_cancel)
		core->up.rebalance_cancel(core, "the core is shutting down");
	while (core->adds) {
		struct pending_add *pa = core->adds;

		core->adds = pa->next;
		if (pa->done)
			pa->done(pa->arg, -HS_ECANCELED, "the core is shutting down");
		hs_free(core, pa, sizeof(*pa));
	}
	hs_cancel_removals(core);
	free_tree(core, core->roots);
	/* Controllers not bound through a device go with the core. */
	hs_slots_destroy(core);
	hs_timers_fini(&core->timers);
	hs_txn_fini(core);
	core->plat->ops->realloc(core->plat->ctx, core, sizeof(*core), 0);
}

