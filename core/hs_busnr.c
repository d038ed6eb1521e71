/*
 * hs_busnr.c - bus numbers: the one place that computes bus-number
 * ranges, on the range engine (hs_range.c).
 *
 * Owns: the free run a scan hands out from (every number after a host's
 * root bus at boot, the largest run free below a slot bridge at
 * hot-add), a bridge's secondary and subordinate with its hot-plug
 * reservation.  Renumbering (a slot bridge's range grown, the bridges in
 * the way given new homes) is the same module's other file,
 * hs_busnr_move.c, apart only so that a core without rebalancing does
 * not link it.  The scan (hs_scan.c) writes the registers it is handed;
 * the rebalancer (hs_rebalance.c) decides whether running functions may
 * be renumbered.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hs_tree.h"
#include "hs_busnr.h"

struct hs_range hs_busnr_host(const struct hs_host_bridge *h)
{
	struct hs_range r = { h->bus_first, 0 };

	if (h->bus_last >= h->bus_first)
		r.size = (uint64_t)h->bus_last - h->bus_first + 1;
	return r;
}

struct hs_range hs_busnr_after_first(struct hs_range r)
{
	if (r.size) {
		r.base++;
		r.size--;
	}
	return r;
}

/* ---- handing out during a scan ------------------------------------------- */

void hs_busnr_boot(struct hs_busnr *ba, const struct hs_host_bridge *h)
{
	ba->free = hs_busnr_after_first(hs_busnr_host(h));
	ba->short_by = 0;
}

int hs_busnr_slot(struct hs_core *core, struct hs_dev *br,
		  struct hs_busnr *ba)
{
	struct hs_range_set used;
	int rc = 0;

	ba->short_by = 0;
	hs_range_set_init(&used, core->plat);
	for (struct hs_dev *c = br->child; c && !rc; c = c->sibling)
		if (c->bridge && !(c->flags & (DEV_ISOLATED |
					       DEV_PENDING_REMOVE |
					       DEV_PENDING_ADD)))
			rc = hs_range_add(&used, c->win[HS_RES_BUS].base,
					  c->win[HS_RES_BUS].size);
	if (!rc)
		ba->free = hs_range_largest_gap(
			&used, hs_busnr_after_first(br->win[HS_RES_BUS]));
	hs_range_set_fini(&used);
	return rc;
}

/* What is left to hand out: first..last (none when first > last). */
static void free_from(struct hs_busnr *ba, unsigned first, unsigned last)
{
	ba->free.base = first;
	ba->free.size = last + 1 - first;
}

int hs_busnr_next(struct hs_busnr *ba, unsigned *sec, unsigned *last)
{
	if (!ba->free.size) {
		ba->short_by++;
		return -HS_ENOSPC;
	}
	/* The lowest free number; the subtree's are after it. */
	*sec = (unsigned)ba->free.base;
	*last = *sec + (unsigned)ba->free.size - 1;
	return 0;
}

void hs_busnr_take(struct hs_busnr *ba, unsigned sec, unsigned last)
{
	free_from(ba, sec + 1, last);
}

unsigned hs_busnr_close(struct hs_core *core, const struct hs_dev *d,
			struct hs_busnr *ba, unsigned sec, unsigned last)
{
	unsigned sub = (unsigned)ba->free.base - 1;
	unsigned resv = d->resv.bus >> core->bus_resv_shift;

	if ((d->flags & DEV_HOTPLUG) && sub < sec + resv) {
		sub = sec + resv;
		if (sub > last)
			sub = last;
	}
	free_from(ba, sub + 1, last);
	return sub;
}

void hs_busnr_set(struct hs_dev *d, unsigned first, unsigned last)
{
	d->win[HS_RES_BUS].base = first;
	d->win[HS_RES_BUS].size = last - first + 1;
}

struct hs_busrange hs_busnr_of(const struct hs_dev *b)
{
	struct hs_busrange r = { 1, 0 };

	if (b->win[HS_RES_BUS].size) {
		r.first = (unsigned)b->win[HS_RES_BUS].base;
		r.last = (unsigned)(b->win[HS_RES_BUS].base +
				    b->win[HS_RES_BUS].size - 1);
	}
	return r;
}
