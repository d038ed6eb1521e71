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
 *     and packed the way boot does it (hs_size_bridge, hs_place_bridge).
 * Windows grow into free space, empty windows move, pinned devices keep
 * their addresses: what the policy calls "nothing running moves".
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hs_tree.h"
#include "hs_txn.h"
#include "hs_resource.h"
#include "hs_replan.h"

struct span {
	uint64_t start, end;  /* end exclusive */
};

struct spans {
	struct span *v;
	size_t n, cap;
};

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

static int spans_insert(struct hs_core *core, struct spans *s, uint64_t start,
			uint64_t end)
{
	if (start >= end)
		return 0;
	if (s->n == s->cap) {
		size_t nc = s->cap ? 2 * s->cap : 16;
		const struct hs_platform *p = core->plat;
		void *m = p->ops->realloc(p->ctx, s->v, s->cap * sizeof(*s->v),
					  nc * sizeof(*s->v));

		if (!m)
			return -HS_ENOMEM;
		s->v = m;
		s->cap = nc;
	}
	size_t i = s->n;

	while (i && s->v[i - 1].start > start) {
		s->v[i] = s->v[i - 1];
		i--;
	}
	s->v[i].start = start;
	s->v[i].end = end;
	s->n++;
	return 0;
}

static void spans_free(struct hs_core *core, struct spans *s)
{
	core->plat->ops->realloc(core->plat->ctx, s->v, s->cap * sizeof(*s->v),
				 0);
	s->v = NULL;
	s->n = s->cap = 0;
}

static bool counts(const struct hs_dev *d)
{
	return !(d->flags & (DEV_ISOLATED | DEV_PENDING_REMOVE | DEV_PENDING_ADD));
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
		if (counts(d) && hs_replan_has_bar(d, r))
			n++;
	return n;
}

/* The fixed spans of a pinned unit (or a spine bridge's own BARs). */
static int own_bars(struct hs_core *core, struct spans *s,
		    const struct hs_dev *d, enum hs_res r)
{
	int rc = 0;

	for (int i = 0; i < 7 && !rc; i++)
		if (d->bar[i].kind != BAR_NONE && d->bar[i].assigned &&
		    d->bar[i].res == r)
			rc = spans_insert(core, s, d->bar[i].addr,
					  d->bar[i].addr + d->bar[i].size);
	return rc;
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
		if (!counts(c))
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

static int unit_fixed(const struct hs_replan *rp, struct spans *s,
		      const struct hs_replan_unit *u)
{
	struct hs_core *core = rp->core;
	const struct hs_dev *d = u->dev;
	int rc = own_bars(core, s, d, rp->r);
	uint64_t lo, hi;

	if (!rc && d->bridge && d->win[rp->r].size) {
		unit_window(rp, u, &lo, &hi);
		rc = spans_insert(core, s, lo, hi);
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
	if (!counts(d))
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

struct level_out {
	uint64_t *at;        /* per float */
	uint64_t hlo, hhi;   /* hull of everything placed, fixed included */
};

/*
 * Place floats (sorted, largest alignment first) in [lo, hi) around the
 * fixed spans.  With tight, each goes where the hull grows least (lowest
 * address on a tie); otherwise at the lowest address it fits.  A window
 * whose size is not a multiple of its alignment may also go end-aligned
 * (its item's mirror set): what exceeds the aligned block then lies
 * below it rather than spilling into the next aligned block.
 */
static int place_level(struct hs_core *core, uint64_t lo, uint64_t hi,
		       struct spans *fixed, struct hs_items *fl,
		       bool tight, struct level_out *out)
{
	uint64_t hlo = ~0ull, hhi = 0;
	int rc;

	for (size_t i = 0; i < fixed->n; i++) {
		if (fixed->v[i].start < hlo)
			hlo = fixed->v[i].start;
		if (fixed->v[i].end > hhi)
			hhi = fixed->v[i].end;
	}
	for (size_t i = 0; i < fl->n; i++) {
		uint64_t sz = fl->v[i].size, a = fl->v[i].align;
		uint64_t best = 0, best_cost = ~0ull, cur = lo;
		bool found = false, best_mirror = false, can_mirror;

		if (!a)
			a = 1;
		can_mirror = fl->v[i].bar < 0 && (sz & (a - 1));
		for (size_t g = 0; g <= fixed->n; g++) {
			uint64_t ge = g < fixed->n ? fixed->v[g].start : hi;
			/* Base-aligned lowest, highest; end-aligned lowest,
			 * highest (~0: none). */
			uint64_t c[4] = { ~0ull, ~0ull, ~0ull, ~0ull };

			if (ge > hi)
				ge = hi;
			if (ge > cur && ge - cur >= sz) {
				c[0] = hs_align_up(cur, a);
				c[1] = align_down(ge - sz, a);
				if (can_mirror) {
					uint64_t e = hs_align_up(cur + sz, a);

					if (e != ~0ull)
						c[2] = e - sz;
					e = align_down(ge, a);
					if (e >= sz)
						c[3] = e - sz;
				}
				for (int t = 0; t < 4; t++) {
					uint64_t nlo, nhi, cost;

					if (c[t] < cur || c[t] > ge - sz ||
					    c[t] == ~0ull)
						continue;
					nlo = hlo < c[t] ? hlo : c[t];
					nhi = hhi > c[t] + sz ? hhi : c[t] + sz;
					cost = tight ? nhi - nlo : c[t];
					if (!found || cost < best_cost ||
					    (cost == best_cost && c[t] < best)) {
						best = c[t];
						best_cost = cost;
						best_mirror = t >= 2;
						found = true;
					}
				}
			}
			if (g < fixed->n && fixed->v[g].end > cur)
				cur = fixed->v[g].end;
			if (found && !tight)
				break;
		}
		if (!found)
			return -HS_ENOSPC;
		out->at[i] = best;
		fl->v[i].mirror = best_mirror;
		if ((rc = spans_insert(core, fixed, best, best + sz)))
			return rc;
		if (best < hlo)
			hlo = best;
		if (best + sz > hhi)
			hhi = best + sz;
	}
	out->hlo = hlo;
	out->hhi = hhi;
	return 0;
}

/* The largest interval of [lo, hi) free of the spans that contains
 * [elo, ehi); false when they overlap it. */
static bool gap_around(const struct spans *s, uint64_t lo, uint64_t hi,
		       uint64_t elo, uint64_t ehi, uint64_t *glo, uint64_t *ghi)
{
	uint64_t a = lo, b = hi;

	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].end <= elo) {
			if (s->v[i].end > a)
				a = s->v[i].end;
		} else if (s->v[i].start >= ehi) {
			if (s->v[i].start < b)
				b = s->v[i].start;
		} else {
			return false;
		}
	}
	*glo = a;
	*ghi = b;
	return a <= elo && ehi <= b;
}

static void aperture_of(const struct hs_host_bridge *h, enum hs_res r,
			uint64_t *lo, uint64_t *hi)
{
	uint64_t b = 0, l = 0;

	if (r == HS_RES_IO) {
		b = h->io_base;
		l = h->io_limit;
	} else if (r == HS_RES_MEM) {
		b = h->mem_base;
		l = h->mem_limit;
	} else if (r == HS_RES_PREF) {
		b = h->pref_base;
		l = h->pref_limit;
	}
	*lo = b;
	*hi = l >= b && l ? l + 1 : b;
}

/* ---- the whole spine ------------------------------------------------------ */

struct lvl {
	uint64_t lo, hi;      /* where this level's content may go */
	uint64_t elo, ehi;    /* pinned content below (elo >= ehi: none) */
	uint64_t wlo, whi;    /* new window (anchored bridges) */
	struct hs_items fl;   /* floats */
	uint64_t *at;
	size_t nat;
};

static int try_plan(struct hs_replan *rp, const struct hs_plan *pl, bool apply)
{
	struct hs_core *core = rp->core;
	const struct hs_platform *p = core->plat;
	enum hs_res r = rp->r;
	uint64_t g = hs_res_gran(r);
	unsigned k = rp->k, m = 0;
	struct lvl L[HS_REPLAN_MAX_SPINE + 1];
	struct spans fixed = { 0 };
	int rc = 0;

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
		fixed.n = 0;
		if ((rc = unit_fixed(rp, &fixed, u)))
			goto out;
		for (size_t s = 0; s < fixed.n; s++) {
			if (fixed.v[s].start < L[u->level].elo)
				L[u->level].elo = fixed.v[s].start;
			if (fixed.v[s].end > L[u->level].ehi)
				L[u->level].ehi = fixed.v[s].end;
		}
	}
	/* A spine bridge's own BARs (an SHPC controller's registers, a
	 * switch port's) never move: pinned content of the bus they are
	 * on. */
	for (unsigned j = 1; j < k; j++) {
		fixed.n = 0;
		if ((rc = own_bars(core, &fixed, rp->spine[j], r)))
			goto out;
		for (size_t s = 0; s < fixed.n; s++) {
			if (fixed.v[s].start < L[j].elo)
				L[j].elo = fixed.v[s].start;
			if (fixed.v[s].end > L[j].ehi)
				L[j].ehi = fixed.v[s].end;
		}
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
	aperture_of(rp->host, r, &L[0].lo, &L[0].hi);
	for (unsigned j = 1; j <= m; j++) {
		uint64_t glo, ghi;

		fixed.n = 0;
		for (size_t i = 0; i < rp->nunits; i++)
			if (rp->units[i].pinned && rp->units[i].level == j - 1 &&
			    (rc = unit_fixed(rp, &fixed, &rp->units[i])))
				goto out;
		/* The spine bridge's own BARs sit on its parent's bus. */
		if ((rc = own_bars(core, &fixed, rp->spine[j - 1], r)))
			goto out;
		if (!gap_around(&fixed, L[j - 1].lo, L[j - 1].hi, L[j].elo,
				L[j].ehi, &glo, &ghi)) {
			rc = -HS_ENOSPC;
			goto out;
		}
		L[j].lo = hs_align_up(glo, g);
		L[j].hi = align_down(ghi, g);
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
		struct level_out o;

		fixed.n = 0;
		for (size_t i = 0; i < rp->nunits; i++)
			if (rp->units[i].pinned && rp->units[i].level == j &&
			    (rc = unit_fixed(rp, &fixed, &rp->units[i])))
				goto out;
		if (j < k && (rc = own_bars(core, &fixed, rp->spine[j], r)))
			goto out;
		if (j < m && (rc = spans_insert(core, &fixed, L[j + 1].wlo,
						L[j + 1].whi)))
			goto out;
		hs_items_sort(&L[j].fl);
		if (L[j].fl.n) {
			L[j].at = p->ops->realloc(p->ctx, NULL, 0,
						  L[j].fl.n * sizeof(uint64_t));
			if (!L[j].at) {
				rc = -HS_ENOMEM;
				goto out;
			}
			L[j].nat = L[j].fl.n;
		}
		o.at = L[j].at;
		if ((rc = place_level(core, L[j].lo, L[j].hi, &fixed, &L[j].fl,
				      j > 0, &o))) {
goto out;
		}
		if (j) {
			L[j].wlo = align_down(o.hlo, g);
			L[j].whi = hs_align_up(o.hhi, g);
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
			goto out;
		if (L[u->level].nat < L[u->level].fl.n) {
			uint64_t *at = p->ops->realloc(
				p->ctx, L[u->level].at,
				L[u->level].nat * sizeof(uint64_t),
				L[u->level].fl.n * sizeof(uint64_t));

			if (!at) {
				rc = -HS_ENOMEM;
				goto out;
			}
			L[u->level].at = at;
			L[u->level].nat = L[u->level].fl.n;
		}
		L[u->level].at[L[u->level].fl.n - 1] = 0;
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
			hs_assign_item(core, &L[j].fl.v[i], r, L[j].at[i], pref);
	}
	rp->m = m;
out:
	for (unsigned j = 0; j <= k; j++) {
		hs_items_free(&L[j].fl);
		if (L[j].at)
			p->ops->realloc(p->ctx, L[j].at,
					L[j].nat * sizeof(uint64_t), 0);
	}
	spans_free(core, &fixed);
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
