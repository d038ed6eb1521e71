/*
 * hs_replan.c - computing a new assignment of one kind of address space
 * around a slot whose card does not fit (seeds/001 model 1).
 *
 * Owns: the planner.  It sees the path from the host's root bus down to
 * the slot's bridge (the spine) and, hanging off it at every level, the
 * units: subtrees (a device and all below it) that are either pinned,
 * keeping every address they have, or floating, packed again wherever
 * they fit.  Units with nothing of this kind below them always float:
 * moving an empty window moves nothing.  Which units with devices float
 * is the caller's choice (hs_rebalance.c searches for the fewest).
 *
 * With a choice of pins the plan is computed bottom-up:
 *   - every spine bridge with pinned content below it is anchored: its new
 *     window must contain that content and stay inside the gap its
 *     pinned siblings leave in its parent;
 *   - floating items at each level go where they grow the window least;
 *   - the window of an anchored bridge is then the hull of what it
 *     holds, rounded to the window granularity (PCI-to-PCI Bridge 3.2,
 *     3.2.5: 4 KiB I/O, 1 MiB memory), and is a fixed item one level up;
 *   - below the deepest anchored bridge everything floats and is sized
 *     and packed the way boot does it (hs_size_bridge, hs_assign_item).
 * Windows grow into free space, empty windows move, pinned devices keep
 * their addresses: what the policy calls "nothing running moves".
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hs_tree.h"
#include "hs_txn.h"
#include "hs_resource.h"
#include "hs_replan.h"

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

/* Placed before this plan: takes room (hs_counts) and was not added by
 * the open transaction (the new card is what the plan makes room for). */
static bool settled(const struct hs_dev *d)
{
	return hs_counts(d) && !(d->flags & DEV_PENDING_ADD);
}

struct hs_dev *hs_replan_subtree_next(struct hs_dev *top, struct hs_dev *d)
{
	return hs_dev_walk_under(top, d == top ? NULL : d);
}

bool hs_replan_has_bar(const struct hs_dev *d, enum hs_res r)
{
	for (int i = 0; i < 7; i++)
		if (d->bar[i].kind != BAR_NONE && d->bar[i].assigned &&
		    d->bar[i].res == r)
			return true;
	return false;
}

/* Devices below (and including) top with an assigned BAR of kind r:
 * what moving the subtree in r would move. */
static unsigned subtree_cost(struct hs_dev *top, enum hs_res r)
{
	unsigned n = 0;

	for (struct hs_dev *d = top; d; d = hs_replan_subtree_next(top, d))
		if (settled(d) && hs_replan_has_bar(d, r))
			n++;
	return n;
}

/* A one-card slot (a PCIe port) with a card: the part of its window
 * the card does not use may be given back, the card staying where it is.
 * A multi-slot bus keeps its window: that room is its other slots'. */
static bool trimmable(const struct hs_dev *d, enum hs_res r)
{
	return d->bridge && (d->flags & DEV_HOTPLUG) && d->cap_pcie &&
	       !d->cap_shpc && d->win[r].size;
}

/* The hull of what sits below bridge d in kind r, in granules. */
static bool content_hull(const struct hs_dev *d, enum hs_res r,
			 uint64_t *lo, uint64_t *hi)
{
	uint64_t g = hs_res_gran(r);

	*lo = ~0ull;
	*hi = 0;
	for (const struct hs_dev *c = d->child; c; c = c->sibling) {
		if (!settled(c))
			continue;
		for (int i = 0; i < 7; i++)
			if (c->bar[i].kind != BAR_NONE && c->bar[i].assigned &&
			    c->bar[i].res == r) {
				if (c->bar[i].addr < *lo)
					*lo = c->bar[i].addr;
				if (c->bar[i].addr + c->bar[i].size > *hi)
					*hi = c->bar[i].addr + c->bar[i].size;
			}
		if (c->bridge && c->win[r].size) {
			if (c->win[r].base < *lo)
				*lo = c->win[r].base;
			if (c->win[r].base + c->win[r].size > *hi)
				*hi = c->win[r].base + c->win[r].size;
		}
	}
	if (*lo >= *hi)
		return false;
	*lo = align_down(*lo, g);
	*hi = hs_align_up(*hi, g);
	return true;
}

/* The window a pinned unit keeps: all of it, or (trimmed) the hull of
 * its card. */
static void unit_window(const struct hs_replan *rp,
			const struct hs_replan_unit *u, uint64_t *lo,
			uint64_t *hi)
{
	const struct hs_dev *d = u->dev;

	*lo = d->win[rp->r].base;
	*hi = *lo + d->win[rp->r].size;
	if (u->trimmed && !content_hull(d, rp->r, lo, hi)) {
		*lo = d->win[rp->r].base;
		*hi = *lo + d->win[rp->r].size;
	}
}

static int unit_fixed(const struct hs_replan *rp, struct hs_range_set *s,
		      const struct hs_replan_unit *u)
{
	const struct hs_dev *d = u->dev;
	int rc = hs_bars_add(s, d, rp->r);
	uint64_t lo, hi;

	if (!rc && d->bridge && d->win[rp->r].size) {
		unit_window(rp, u, &lo, &hi);
		rc = hs_range_add(s, lo, hi - lo);
	}
	return rc;
}

bool hs_replan_trimmable(const struct hs_replan *rp, size_t i)
{
	const struct hs_replan_unit *u = &rp->units[i];
	uint64_t lo, hi;

	return trimmable(u->dev, rp->r) &&
	       content_hull(u->dev, rp->r, &lo, &hi) &&
	       (lo != u->dev->win[rp->r].base ||
		hi != u->dev->win[rp->r].base + u->dev->win[rp->r].size);
}

static bool level_pref(const struct hs_replan *rp, unsigned j)
{
	return j ? hs_path_pref(rp->spine[j - 1]) : rp->host_pref;
}

static struct hs_dev *level_first(const struct hs_replan *rp, unsigned j)
{
	return j ? rp->spine[j - 1]->child : rp->core->roots;
}

static bool on_level(const struct hs_replan *rp, unsigned j,
		     const struct hs_dev *d)
{
	if (!settled(d))
		return false;
	if (!j && HS_BDF_SEG(d->bdf) != rp->host->segment)
		return false;
	return j == rp->k || d != rp->spine[j];
}

int hs_replan_init(struct hs_replan *rp, struct hs_core *core,
		   struct hs_dev *br, enum hs_res r)
{
	struct hs_dev *path[HS_REPLAN_MAX_SPINE];
	unsigned k = 0;

	hs_memset(rp, 0, sizeof(*rp));
	rp->core = core;
	rp->br = br;
	rp->r = r;
	rp->host = hs_dev_host(br);
	rp->host_pref = rp->host->pref_limit > rp->host->pref_base;
	for (struct hs_dev *d = br; d; d = d->parent) {
		if (k == HS_REPLAN_MAX_SPINE)
			return -HS_ENOSPC;
		path[k++] = d;
	}
	rp->k = k;
	for (unsigned i = 0; i < k; i++)
		rp->spine[i] = path[k - 1 - i];
	/* The units hanging off each level. */
	for (unsigned j = 0; j <= k; j++)
		for (struct hs_dev *d = level_first(rp, j); d; d = d->sibling) {
			struct hs_replan_unit *u;

			if (!on_level(rp, j, d))
				continue;
			if (rp->nunits == rp->capunits) {
				size_t nc = rp->capunits ? 2 * rp->capunits : 16;
				const struct hs_platform *p = core->plat;
				void *m = p->ops->realloc(
					p->ctx, rp->units,
					rp->capunits * sizeof(*rp->units),
					nc * sizeof(*rp->units));

				if (!m) {
					hs_replan_fini(rp);
					return -HS_ENOMEM;
				}
				rp->units = m;
				rp->capunits = nc;
			}
			u = &rp->units[rp->nunits++];
			hs_memset(u, 0, sizeof(*u));
			u->dev = d;
			u->level = j;
			u->cost = subtree_cost(d, r);
			u->pinned = u->cost > 0;
		}
	return 0;
}

void hs_replan_fini(struct hs_replan *rp)
{
	const struct hs_platform *p = rp->core->plat;

	p->ops->realloc(p->ctx, rp->units, rp->capunits * sizeof(*rp->units), 0);
	rp->units = NULL;
	rp->nunits = rp->capunits = 0;
}

/* ---- one level ------------------------------------------------------------ */

/* ---- the whole spine ------------------------------------------------------ */

struct lvl {
	uint64_t lo, hi;      /* where this level's content may go */
	uint64_t elo, ehi;    /* pinned content below (elo >= ehi: none) */
	uint64_t wlo, whi;    /* new window (anchored bridges) */
	struct hs_items fl;   /* floats (each placed at its at) */
};

/* The hull of a set: lo > hi when it is empty. */
static void hull(const struct hs_range_set *s, uint64_t *lo, uint64_t *hi)
{
	*lo = s->n ? s->v[0].base : ~0ull;
	*hi = s->n ? s->v[s->n - 1].base + s->v[s->n - 1].size : 0;
}

/* l's pinned envelope grows to hold the set. */
static void widen(struct lvl *l, const struct hs_range_set *s)
{
	uint64_t lo, hi;

	hull(s, &lo, &hi);
	if (lo < l->elo)
		l->elo = lo;
	if (hi > l->ehi)
		l->ehi = hi;
}

static int try_plan(struct hs_replan *rp, const struct hs_plan *pl, bool apply)
{
	struct hs_core *core = rp->core;
	const struct hs_platform *p = core->plat;
	enum hs_res r = rp->r;
	uint64_t g = hs_res_gran(r);
	unsigned k = rp->k, m = 0;
	struct hs_range ap;
	struct lvl L[HS_REPLAN_MAX_SPINE + 1];
	struct hs_range_set fixed;
	int rc = 0;

	hs_range_set_init(&fixed, p);

	hs_memset(L, 0, sizeof(L));
	for (unsigned j = 0; j <= k; j++) {
		L[j].fl.core = core;
		L[j].elo = ~0ull;
		L[j].ehi = 0;
	}
	/* Pinned envelopes, bottom-up. */
	for (size_t i = 0; i < rp->nunits; i++) {
		struct hs_replan_unit *u = &rp->units[i];

		if (!u->pinned)
			continue;
		hs_range_set_clear(&fixed);
		if ((rc = unit_fixed(rp, &fixed, u)))
			goto out;
		widen(&L[u->level], &fixed);
	}
	/* A spine bridge's own BARs (an SHPC controller's registers, a
	 * switch port's) never move: pinned content of the bus they are
	 * on. */
	for (unsigned j = 1; j < k; j++) {
		hs_range_set_clear(&fixed);
		if ((rc = hs_bars_add(&fixed, rp->spine[j], r)))
			goto out;
		widen(&L[j], &fixed);
	}
	for (unsigned j = k; j >= 1; j--) {
		if (j < k && L[j + 1].elo < L[j + 1].ehi) {
			if (L[j + 1].elo < L[j].elo)
				L[j].elo = L[j + 1].elo;
			if (L[j + 1].ehi > L[j].ehi)
				L[j].ehi = L[j + 1].ehi;
		}
		if (L[j].elo < L[j].ehi && !m)
			m = j;
	}
	/* Ranges, top-down: the gap the parent's pinned units (and the
	 * parent's own BARs) leave around the pinned content. */
	ap = hs_host_aperture(rp->host, r);
	L[0].lo = ap.base;
	L[0].hi = ap.base + ap.size;
	for (unsigned j = 1; j <= m; j++) {
		struct hs_range in, gap, want;

		hs_range_set_clear(&fixed);
		for (size_t i = 0; i < rp->nunits; i++)
			if (rp->units[i].pinned && rp->units[i].level == j - 1 &&
			    (rc = unit_fixed(rp, &fixed, &rp->units[i])))
				goto out;
		/* The spine bridge's own BARs sit on its parent's bus. */
		if ((rc = hs_bars_add(&fixed, rp->spine[j - 1], r)))
			goto out;
		in.base = L[j - 1].lo;
		in.size = L[j - 1].hi - L[j - 1].lo;
		want.base = L[j].elo;
		want.size = L[j].ehi - L[j].elo;
		if (!hs_range_gap_around(&fixed, in, want, &gap)) {
			rc = -HS_ENOSPC;
			goto out;
		}
		L[j].lo = hs_align_up(gap.base, g);
		L[j].hi = align_down(gap.base + gap.size, g);
		if (L[j].lo > L[j].elo || L[j].hi < L[j].ehi) {
			rc = -HS_ENOSPC;
			goto out;
		}
	}
	/* Sizes of what floats. */
	for (size_t i = 0; i < rp->nunits; i++) {
		struct hs_replan_unit *u = &rp->units[i];
		bool pref = level_pref(rp, u->level);

		/* Below level m, the floating spine bridge carries them. */
		if (u->pinned || u->level > m)
			continue;
		if (u->dev->bridge &&
		    (rc = hs_size_bridge(core, u->dev, pref, pl)))
			goto out;
		for (int b = 0; b < 7; b++) {
			struct hs_bar_info *bi = &u->dev->bar[b];

			if (bi->kind != BAR_NONE && bi->assigned && bi->res == r &&
			    (rc = hs_items_add(&L[u->level].fl, u->dev, b,
					       bi->size, bi->size)))
				goto out;
		}
		if (u->dev->bridge && u->dev->need[r] &&
		    (rc = hs_items_add(&L[u->level].fl, u->dev, -1,
				       u->dev->need[r], u->dev->need_align[r])))
			goto out;
	}
	if (m < k) {
		/* Everything below spine[m] floats: one item at level m. */
		struct hs_dev *fb = rp->spine[m];

		if ((rc = hs_size_bridge(core, fb, level_pref(rp, m), pl)))
			goto out;
		if (fb->need[r] &&
		    (rc = hs_items_add(&L[m].fl, fb, -1, fb->need[r],
				       fb->need_align[r])))
			goto out;
	} else {
		/* The slot's bridge is anchored: the new functions float
		 * among the boards already on its bus. */
		if ((rc = hs_size_new_bridges(core, rp->br)) ||
		    (rc = hs_gather(&L[k].fl, rp->br->child, r,
				    hs_path_pref(rp->br), true)))
			goto out;
	}
	/* Placement, bottom-up from the deepest anchored level. */
	for (unsigned j = m + 1; j-- > 0;) {
		struct hs_range in = { L[j].lo, L[j].hi - L[j].lo };
		uint64_t hlo, hhi;

		hs_range_set_clear(&fixed);
		for (size_t i = 0; i < rp->nunits; i++)
			if (rp->units[i].pinned && rp->units[i].level == j &&
			    (rc = unit_fixed(rp, &fixed, &rp->units[i])))
				goto out;
		if (j < k && (rc = hs_bars_add(&fixed, rp->spine[j], r)))
			goto out;
		if (j < m && L[j + 1].whi > L[j + 1].wlo &&
		    (rc = hs_range_add(&fixed, L[j + 1].wlo,
				       L[j + 1].whi - L[j + 1].wlo)))
			goto out;
		/* Floats around the fixed ranges: inside a bridge where its
		 * window grows least, on the root bus the lowest place. */
		if ((rc = hs_items_fit(&fixed, in, &L[j].fl,
				       HS_FIT_TOP | (j ? HS_FIT_TIGHT : 0),
				       NULL)))
			goto out;
		if (j) {
			/* The hull of everything placed, fixed included. */
			hull(&fixed, &hlo, &hhi);
			L[j].wlo = align_down(hlo, g);
			L[j].whi = hs_align_up(hhi, g);
			if (L[j].wlo < L[j].lo || L[j].whi > L[j].hi) {
				rc = -HS_ENOSPC;
				goto out;
			}
		}
	}
	if (!apply)
		goto out;
	/* Floating bridges that need nothing of this kind any more: their
	 * window closes (left open, it would overlap what moved in). */
	for (size_t i = 0; i < rp->nunits; i++) {
		struct hs_replan_unit *u = &rp->units[i];

		if (u->pinned || u->level > m || !u->dev->bridge ||
		    u->dev->need[r] || !u->dev->win[r].size)
			continue;
		if ((rc = hs_items_add(&L[u->level].fl, u->dev, -1, 0, 0)))
			goto out; /* placed at 0 with size 0: closed */
	}
	/* Record, then change: the transaction can put everything back. */
	for (unsigned j = 0; j <= m; j++) {
		if (j && (rc = hs_txn_dev_res(core, rp->spine[j - 1])))
			goto out;
		for (size_t i = 0; i < L[j].fl.n; i++) {
			struct hs_dev *d = L[j].fl.v[i].dev;

			if (d->flags & DEV_PENDING_ADD)
				continue;
			for (struct hs_dev *x = d; x; x = hs_replan_subtree_next(d, x))
				if (!(x->flags & DEV_PENDING_ADD) &&
				    (rc = hs_txn_dev_res(core, x)))
					goto out;
		}
	}
	/* Pinned one-card slots that gave back what their card does not
	 * use: the window shrinks to the card, nothing below it moves. */
	for (size_t i = 0; i < rp->nunits; i++) {
		struct hs_replan_unit *u = &rp->units[i];
		uint64_t lo, hi;

		if (!u->pinned || !u->trimmed)
			continue;
		unit_window(rp, u, &lo, &hi);
		if ((rc = hs_txn_dev_res(core, u->dev)))
			goto out;
		u->dev->win[r].base = lo;
		u->dev->win[r].size = hi - lo;
	}
	for (unsigned j = 0; j <= m; j++) {
		bool pref = level_pref(rp, j);

		if (j) {
			struct hs_dev *b = rp->spine[j - 1];

			b->win[r].base = L[j].wlo;
			b->win[r].size = L[j].whi - L[j].wlo;
		}
		for (size_t i = 0; i < L[j].fl.n; i++)
			if ((rc = hs_assign_item(core, &L[j].fl.v[i], r,
						 L[j].fl.v[i].at, pref)))
				goto out;
	}
	rp->m = m;
out:
	for (unsigned j = 0; j <= k; j++)
		hs_items_free(&L[j].fl);
	hs_range_set_fini(&fixed);
	return rc;
}

int hs_replan_try(struct hs_replan *rp, bool apply)
{
	/* Full reservations for whatever floats first, then smaller ones:
	 * an empty slot's room is worth less than a running device's
	 * address. */
	static const unsigned shifts[] = { 0, 1, 2, 4, 8 };
	int rc = -HS_ENOSPC;

	for (unsigned i = 0; i <= sizeof(shifts) / sizeof(shifts[0]); i++) {
		struct hs_plan pl = { { 0 }, 0, false };

		if (i < sizeof(shifts) / sizeof(shifts[0]))
			pl.resv_shift = shifts[i];
		else
			pl.no_resv = true;
		if (!rp->may_shrink && (pl.resv_shift || pl.no_resv))
			break;
		rc = try_plan(rp, &pl, apply);
		if (rc != -HS_ENOSPC)
			return rc;
	}
	return rc;
}
