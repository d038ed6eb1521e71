/*
 * hs_resource.c - resource allocation: sizing bridge windows bottom-up,
 * placing them top-down, hot-plug reservations, placing a hot-added card
 * inside its slot's windows, and programming the result.
 *
 * Owns: the assignment of I/O, 32-bit memory and 64-bit prefetchable
 * memory.  (Bus numbers are handed out during the scan.)  The plan is
 * computed from the device tree alone and only then written to hardware,
 * so a later rebalancer can compute a new assignment of the whole tree the
 * same way.
 *
 * Rules (PCI-to-PCI Bridge 3.2, 3.2.5): I/O windows have 4 KiB
 * granularity, memory windows 1 MiB; a BAR is aligned to its size; a
 * window is aligned to the largest alignment inside it.  64-bit
 * prefetchable BARs go to the prefetchable window when every bridge above
 * them has a 64-bit one and the host decodes a prefetchable aperture, and
 * fall back to 32-bit memory otherwise.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hs_tree.h"
#include "hs_txn.h"
#include "hs_resource.h"

#define IO_GRAN  0x1000ull
#define MEM_GRAN 0x100000ull

const char *hs_res_name(enum hs_res r)
{
	return hs_nth_name("bus numbers\0I/O\0memory\0prefetchable memory",
			   HS_RES_COUNT, r);
}

HS_NOINLINE
uint64_t hs_res_gran(enum hs_res r)
{
	return r == HS_RES_IO ? IO_GRAN : MEM_GRAN;
}

/* Saturates at ~0 instead of wrapping: a plan that would wrap the
 * address space can never fit, and must not look small. */
#define SAT ~0ull

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > SAT - b ? SAT : a + b;
}

/* Does d take room: neither isolated nor being removed?  (A function
 * the open transaction added does.) */
bool hs_counts(const struct hs_dev *d)
{
	return !(d->flags & (DEV_ISOLATED | DEV_PENDING_REMOVE));
}


/* Where a BAR goes, given whether a 64-bit prefetchable path exists. */
enum hs_res hs_bar_res(const struct hs_bar_info *b, bool pref_path)
{
	if (b->kind == BAR_IO)
		return HS_RES_IO;
	if (b->kind == BAR_MEM64 && b->pref && pref_path)
		return HS_RES_PREF;
	return HS_RES_MEM;
}

static bool child_pref_path(const struct hs_dev *br, bool pref_path)
{
	return pref_path && (br->flags & DEV_PREF64);
}

/* ---- items: what a bus must hold in one kind of resource ---------------- */

int hs_items_add(struct hs_items *it, struct hs_dev *d, int bar,
		     uint64_t size, uint64_t align)
{
	void *m = hs_grow(it->core->plat, it->v, &it->cap, it->n,
			  sizeof(*it->v));

	if (!m)
		return -HS_ENOMEM;
	it->v = m;
	it->v[it->n].dev = d;
	it->v[it->n].bar = bar;
	it->v[it->n].size = size;
	it->v[it->n].align = align;
	it->v[it->n].mirror = false;
	it->v[it->n].at = 0;
	it->n++;
	return 0;
}

void hs_items_free(struct hs_items *it)
{
	const struct hs_platform *p = it->core->plat;

	p->ops->realloc(p->ctx, it->v, it->cap * sizeof(*it->v), 0);
	it->v = NULL;
	it->n = it->cap = 0;
}

/* Largest alignment first: with power-of-two sizes this packs without
 * holes, which is what keeps windows tight. */
static void items_sort(struct hs_items *it)
{
	for (size_t i = 1; i < it->n; i++) {
		struct hs_item x = it->v[i];
		size_t j = i;

		while (j && (it->v[j - 1].align < x.align ||
			     (it->v[j - 1].align == x.align &&
			      it->v[j - 1].size < x.size))) {
			it->v[j] = it->v[j - 1];
			j--;
		}
		it->v[j] = x;
	}
}

int hs_items_fit(struct hs_range_set *used, struct hs_range in,
		 struct hs_items *it, unsigned how, size_t *failed)
{
	int rc;

	items_sort(it);
	for (size_t i = 0; i < it->n; i++) {
		struct hs_item *x = &it->v[i];
		unsigned f = how & ~(unsigned)HS_FIT_TOP;
		struct hs_fit p;

		/* A window whose size is not a multiple of its alignment may
		 * also go end-aligned, its content then mirrored. */
		if ((how & HS_FIT_TOP) && x->bar < 0 && x->align &&
		    (x->size & (x->align - 1)))
			f |= HS_FIT_TOP;
		if (!hs_range_fit(used, in, x->size, x->align, f, &p)) {
			if (failed)
				*failed = i;
			return -HS_ENOSPC;
		}
		x->mirror = p.top;
		x->at = p.at;
		if ((rc = hs_range_add(used, p.at, x->size)))
			return rc;
	}
	return 0;
}

/*
 * Lay items out from base, largest alignment first (sorting them; a
 * sorted list stays as it is): each goes to the lowest place above base
 * (hs_items_fit), so the gaps alignment padding leaves are filled by
 * later, smaller items before the end grows.  Sizing and placement both
 * use this, so what sizing promised is exactly what placement does.
 * *endp is the end address (SAT: it does not fit in the address space);
 * each item's at is where it goes.  -HS_ENOMEM when the set cannot
 * grow.
 */
static int pack(struct hs_core *core, struct hs_items *it, uint64_t base,
		uint64_t *endp)
{
	struct hs_range_set used;
	struct hs_range all = { base, SAT - base };
	int rc;

	hs_range_set_init(&used, core->plat);
	rc = hs_items_fit(&used, all, it, 0, NULL);
	*endp = used.n ? used.v[used.n - 1].base + used.v[used.n - 1].size
		       : base;
	if (rc == -HS_ENOSPC) {
		*endp = SAT;
		rc = 0;
	}
	hs_range_set_fini(&used);
	return rc;
}

int hs_bars_add(struct hs_range_set *s, const struct hs_dev *d, enum hs_res r)
{
	int rc = 0;

	for (int i = 0; i < 7 && !rc; i++)
		if (d->bar[i].kind != BAR_NONE && d->bar[i].assigned &&
		    d->bar[i].res == r)
			rc = hs_range_add(s, d->bar[i].addr, d->bar[i].size);
	return rc;
}

/* Items of one resource kind among the devices of a bus (a sibling list).
 * only_new limits them to devices the open transaction added. */
int hs_gather(struct hs_items *it, struct hs_dev *first, enum hs_res r,
		  bool pref_path, bool only_new)
{
	int rc;

	for (struct hs_dev *d = first; d; d = d->sibling) {
		if (!hs_counts(d) || (only_new && !(d->flags & DEV_PENDING_ADD)))
			continue;
		/* BARs 0-6, then a bridge's window (bar -1). */
		for (int i = 0; i < 8; i++) {
			int bar = i < 7 ? i : -1;
			uint64_t size = d->need[r], align = d->need_align[r];

			if (bar >= 0) {
				const struct hs_bar_info *b = &d->bar[bar];

				if (b->kind == BAR_NONE ||
				    hs_bar_res(b, pref_path) != r)
					continue;
				size = align = b->size;
			} else if (!d->bridge || !size) {
				continue;
			}
			if ((rc = hs_items_add(it, d, bar, size, align)))
				return rc;
		}
	}
	return 0;
}

/* ---- sizing ---------------------------------------------------------- */

static uint64_t resv_of(const struct hs_dev *d, enum hs_res r,
			const struct hs_plan *pl)
{
	uint64_t v;

	if (!(d->flags & DEV_HOTPLUG) || pl->no_resv)
		return 0;
	v = r == HS_RES_IO ? d->resv.io : r == HS_RES_MEM ? d->resv.mem
							   : d->resv.pref;
	return (v >> pl->resv_shift) + pl->extra[r];
}

int hs_size_bridge(struct hs_core *core, struct hs_dev *br, bool pref_path,
		       const struct hs_plan *pl)
{
	struct hs_items it = { .core = core };
	bool cpath = child_pref_path(br, pref_path);
	int rc = 0;

	for (struct hs_dev *c = br->child; c; c = c->sibling)
		if (c->bridge && hs_counts(c) &&
		    (rc = hs_size_bridge(core, c, cpath, pl)))
			return rc;
	for (enum hs_res r = HS_RES_IO; r < HS_RES_COUNT; r++) {
		uint64_t off = 0, al = hs_res_gran(r), total, resv;

		br->need[r] = br->need_align[r] = 0;
		if (r == HS_RES_PREF && !cpath)
			continue; /* no such window on this path */
		it.n = 0;
		if ((rc = hs_gather(&it, br->child, r, cpath, false)))
			break;
		/* Windows start aligned to their largest alignment, so packing
		 * from 0 gives the same layout as packing from the base. */
		if ((rc = pack(core, &it, 0, &off)))
			break;
		/* Packed, so sorted: the first has the largest alignment. */
		if (it.n && it.v[0].align > al)
			al = it.v[0].align;
		total = off;
		if (total == SAT) {
			rc = -HS_ENOSPC; /* cannot be placed anywhere */
			break;
		}
		/* A bus with several slots (SHPC, CompactPCI) keeps its
		 * reservation on top of the boards present; a PCIe slot holds
		 * one card, so its window is the larger of the two. */
		resv = resv_of(br, r, pl);
		if (br->cap_shpc || (!br->cap_pcie && (br->flags & DEV_HOTPLUG)))
			total = add_sat(total, resv);
		else if (resv > total)
			total = resv;
		if (!total)
			continue;
		br->need[r] = hs_align_up(total, hs_res_gran(r));
		if (br->need[r] == SAT) {
			rc = -HS_ENOSPC;
			break;
		}
		br->need_align[r] = al;
	}
	hs_items_free(&it);
	return rc;
}

/* ---- placement -------------------------------------------------------- */

static int place_bridge(struct hs_core *core, struct hs_dev *br,
			enum hs_res r, uint64_t base, bool pref_path,
			bool mirror);

int hs_assign_item(struct hs_core *core, const struct hs_item *x,
		   enum hs_res r, uint64_t at, bool pref_path)
{
	struct hs_bar_info *b;

	if (x->bar < 0)
		return place_bridge(core, x->dev, r, at, pref_path, x->mirror);
	b = &x->dev->bar[x->bar];
	b->addr = at;
	b->res = r;
	b->assigned = true;
	return 0;
}

/*
 * Place a gathered list from base (sorting it); *end is where it ends
 * (unused with mirror; SAT: it does not fit).  With mirror, the layout is
 * reflected inside [base, top): an item packed at offset off goes to
 * top - off - size.  top must then be aligned to the largest alignment:
 * BARs stay aligned, and a child window's end is aligned, so it is laid
 * out mirrored in turn.  -HS_ENOMEM when memory runs out.
 */
static int place_items(struct hs_core *core, struct hs_items *it,
		       enum hs_res r, uint64_t base, bool pref_path,
		       bool mirror, uint64_t top, uint64_t *end)
{
	int rc;

	rc = pack(core, it, mirror ? 0 : base, end);
	for (size_t i = 0; i < it->n && !rc && *end != SAT; i++) {
		struct hs_item *x = &it->v[i];

		x->mirror = mirror && x->bar < 0;
		rc = hs_assign_item(core, x, r,
				    mirror ? top - x->at - x->size : x->at,
				    pref_path);
	}
	return rc;
}

static int place_bridge(struct hs_core *core, struct hs_dev *br,
			enum hs_res r, uint64_t base, bool pref_path,
			bool mirror)
{
	struct hs_items it = { .core = core };
	bool cpath = child_pref_path(br, pref_path);
	uint64_t end;
	int rc = 0;

	br->win[r].base = base;
	br->win[r].size = br->need[r];
	/* Child bridges that need nothing of this kind get no window: a
	 * re-layout (a rebalance) must not leave an old one open over what
	 * is placed now. */
	for (struct hs_dev *c = br->child; c && !rc; c = c->sibling)
		if (c->bridge && hs_counts(c) && !c->need[r] && c->win[r].size)
			rc = place_bridge(core, c, r, 0, cpath, false);
	if (!rc)
		rc = hs_gather(&it, br->child, r, cpath, false);
	if (!rc)
		rc = place_items(core, &it, r, base, cpath, mirror,
				 base + br->need[r], &end);
	hs_items_free(&it);
	return rc;
}

/* ---- boot ------------------------------------------------------------- */

struct hs_range hs_host_aperture(const struct hs_host_bridge *h,
				 enum hs_res r)
{
	uint64_t b = h->io_base, l = h->io_limit;
	struct hs_range a = { 0, 0 };

	if (r == HS_RES_MEM) {
		b = h->mem_base;
		l = h->mem_limit;
	} else if (r == HS_RES_PREF) {
		b = h->pref_base;
		l = h->pref_limit;
	}
	/* A limit of 0 (or below the base) is no aperture. */
	a.base = b;
	if (l >= b && l)
		a.size = l - b + 1;
	return a;
}

/* Try a plan on one host: size, then see whether the root bus fits. */
/*
 * The root bus: bridge windows packed up from the aperture's base, the
 * root bus's own BARs (soldered devices, a boot console among them, which
 * never move) packed down from its top.  The room windows grow into at
 * hot-plug time then stays in one piece instead of being cut by a small
 * BAR that can never leave.  -HS_ENOSPC when the two do not fit apart
 * (the caller then packs both together, filling alignment holes); else
 * *used is what both take.
 */
HS_NOINLINE
static int root_split(struct hs_core *core, const struct hs_items *all,
		      enum hs_res r, uint64_t base, uint64_t size,
		      bool pref_path, bool place, uint64_t *used)
{
	struct hs_items w = { .core = core }, b = { .core = core };
	uint64_t wend, bsz, top, al = 1;
	int rc = 0;

	for (size_t i = 0; i < all->n && !rc; i++) {
		const struct hs_item *x = &all->v[i];

		rc = hs_items_add(x->bar < 0 ? &w : &b, x->dev, x->bar,
				  x->size, x->align);
	}
	if (rc)
		goto out;
	rc = -HS_ENOSPC;
	if (!b.n || !w.n)
		goto out; /* nothing to keep apart: one packing is the same */
	if ((rc = pack(core, &w, base, &wend)) ||
	    (rc = pack(core, &b, 0, &bsz)))
		goto out;
	/* Packed, so sorted: the first BAR has the largest alignment. */
	if (b.v[0].align > al)
		al = b.v[0].align;
	rc = -HS_ENOSPC;
	top = add_sat(base, size);
	/* al is a BAR's size, a power of two (the scan isolates a function
	 * whose BAR is not, PCI 3.0 6.2.5.1). */
	top &= ~(al - 1);
	if (wend == SAT || bsz == SAT || top < bsz || top - bsz < wend)
		goto out;
	*used = (wend - base) + bsz;
	rc = 0;
	if (place &&
	    !(rc = place_items(core, &w, r, base, pref_path, false, 0, &wend)))
		rc = place_items(core, &b, r, 0, pref_path, true, top, &bsz);
out:
	hs_items_free(&w);
	hs_items_free(&b);
	return rc;
}

static int try_root(struct hs_core *core, const struct hs_host_bridge *h,
		    const struct hs_plan *pl, bool place, uint64_t used[])
{
	bool pref_path = h->pref_limit > h->pref_base;
	struct hs_items it = { .core = core };
	int rc = 0;

	for (struct hs_dev *d = core->roots; d; d = d->sibling)
		if (HS_BDF_SEG(d->bdf) == h->segment && d->bridge &&
		    hs_counts(d) &&
		    (rc = hs_size_bridge(core, d, pref_path, pl)))
			return rc;
	for (enum hs_res r = HS_RES_IO; r < HS_RES_COUNT; r++) {
		struct hs_range ap = hs_host_aperture(h, r);
		uint64_t base = ap.base, size = ap.size, off = 0;

		it.n = 0;
		if (r == HS_RES_PREF && !pref_path)
			continue;
		if ((rc = hs_gather(&it, core->roots, r, pref_path, false)))
			break;
		/* Only this host's root bus. */
		size_t k = 0;

		for (size_t i = 0; i < it.n; i++)
			if (HS_BDF_SEG(it.v[i].dev->bdf) == h->segment)
				it.v[k++] = it.v[i];
		it.n = k;
		if ((rc = root_split(core, &it, r, base, size, pref_path, place,
				     &off)) == 0) {
			used[r] = off;
			continue;
		}
		if (rc != -HS_ENOSPC)
			break;
		rc = place ? place_items(core, &it, r, base, pref_path,
					 false, 0, &off)
			   : pack(core, &it, base, &off);
		if (rc)
			break;
		used[r] = off == SAT ? SAT : off - base;
		if (off == SAT || off - base > size) {
			rc = -HS_ENOSPC;
			break;
		}
	}
	hs_items_free(&it);
	return rc;
}

static unsigned count_hotplug(struct hs_core *core)
{
	unsigned n = 0;

	for (struct hs_dev *d = hs_dev_walk(core, NULL); d;
	     d = hs_dev_walk(core, d))
		if ((d->flags & DEV_HOTPLUG) && hs_counts(d))
			n++;
	return n;
}

/* The device with the largest BAR that goes into kind r on host h, to
 * give up on when nothing else makes the plan fit. */
static struct hs_dev *largest_consumer(struct hs_core *core,
				       const struct hs_host_bridge *h,
				       enum hs_res r, int *bar)
{
	struct hs_dev *best = NULL;
	uint64_t best_size = 0;

	for (struct hs_dev *d = hs_dev_walk(core, NULL); d;
	     d = hs_dev_walk(core, d)) {
		bool pref = d->parent ? hs_path_pref(d->parent)
				      : h->pref_limit > h->pref_base;

		if (!hs_counts(d) || HS_BDF_SEG(d->bdf) != h->segment)
			continue;
		for (int i = 0; i < 7; i++)
			if (d->bar[i].kind != BAR_NONE &&
			    d->bar[i].size > best_size &&
			    hs_bar_res(&d->bar[i], pref) == r) {
				best = d;
				best_size = d->bar[i].size;
				*bar = i;
			}
	}
	return best;
}

HS_NOINLINE
static int plan_host(struct hs_core *core, const struct hs_host_bridge *h)
{
	struct hs_plan pl = { { 0 }, 0, false };
	uint64_t used[HS_RES_COUNT] = { 0 };
	int rc;

	/* First with full reservations, then halving them; if nothing fits
	 * even without reservations, the largest consumer is isolated. */
	for (;;) {
		rc = try_root(core, h, &pl, false, used);
		if (rc != -HS_ENOSPC)
			break;
		if (!pl.no_resv && pl.resv_shift < 16) {
			pl.resv_shift++;
			continue;
		}
		if (!pl.no_resv) {
			pl.no_resv = true;
			continue;
		}
		for (enum hs_res r = HS_RES_IO; r < HS_RES_COUNT; r++) {
			int bar = 0;
			struct hs_dev *d;

			if (used[r] <= hs_host_aperture(h, r).size)
				continue;
			d = largest_consumer(core, h, r, &bar);
			if (!d)
				return rc;
			hs_dev_isolate(d, "no room for BAR%d (%llu bytes) in the "
				       "host's %s aperture", bar,
				       (unsigned long long)d->bar[bar].size,
				       hs_res_name(r));
			break;
		}
		pl.resv_shift = 0;
		pl.no_resv = false;
	}
	if (rc)
		return rc;
	/* With full reservations, share what is left among the hot-plug
	 * bridges, half of each one's part first, halving it until the plan
	 * fits again (alignment padding can eat some). */
	if (pl.resv_shift || pl.no_resv) {
		hs_log(core->plat, HS_LOG_WARN,
		       "hot-plug reservations reduced to fit the apertures");
	} else if (core->params.share_leftover) {
		unsigned nhp = count_hotplug(core);
		struct hs_plan share = pl;

		for (enum hs_res r = HS_RES_IO; r < HS_RES_COUNT && nhp; r++) {
			uint64_t size = hs_host_aperture(h, r).size;

			if (size > used[r])
				share.extra[r] = (size - used[r]) / nhp;
		}
		for (int tries = 0; tries < 24; tries++) {
			uint64_t u2[HS_RES_COUNT];

			for (enum hs_res r = HS_RES_IO; r < HS_RES_COUNT; r++)
				share.extra[r] = (share.extra[r] / 2) &
						 ~(hs_res_gran(r) - 1);
			if (try_root(core, h, &share, false, u2) == 0) {
				pl = share;
				break;
			}
		}
	}
	return try_root(core, h, &pl, true, used);
}

/* On a card in a slot: somewhere below a hot-plug bridge.  Functions
 * soldered to the platform are trusted. */
static bool on_card(const struct hs_dev *d)
{
	for (const struct hs_dev *p = d->parent; p; p = p->parent)
		if (p->flags & DEV_HOTPLUG)
			return true;
	return false;
}

/* Ask the authorization hook about a new function before it decodes
 * anything, then program it: a blocked one is programmed with its
 * addresses but with decode and bus mastering off. */
static int program_new(struct hs_core *core, struct hs_dev *d, bool at_boot)
{
	const struct hs_core_params *pp = &core->params;
	int rc;

	if (pp->authorize && on_card(d) &&
	    !pp->authorize(pp->authorize_arg, d, at_boot)) {
		d->flags |= DEV_BLOCKED;
		if ((rc = hs_txn_event(core, HS_EV_DEV_BLOCKED, d, NULL)))
			return rc;
	}
	return hs_program_dev(core, d);
}

int hs_assign_boot(struct hs_core *core)
{
	int rc;

	for (unsigned i = 0; i < core->nhosts; i++)
		if ((rc = plan_host(core, &core->host[i])))
			return rc;
	return 0;
}

int hs_program_boot_dev(struct hs_core *core, struct hs_dev *d)
{
	return hs_counts(d) ? program_new(core, d, true) : 0;
}

/* ---- hot-add ------------------------------------------------------------ */

static void human(char *buf, size_t len, uint64_t v)
{
	static const char unit[][6] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;

	while (u < 4 && v >= 1024 && !(v & 1023)) {
		v >>= 10;
		u++;
	}
	hs_snprintf(buf, len, "%llu %s", (unsigned long long)v, unit[u]);
}

bool hs_path_pref(const struct hs_dev *br)
{
	const struct hs_host_bridge *h = hs_dev_host(br);

	if (!(h->pref_limit > h->pref_base))
		return false;
	for (const struct hs_dev *d = br; d; d = d->parent)
		if (!(d->flags & DEV_PREF64))
			return false;
	return true;
}

/*
 * Place the new functions' items of kind r in the gaps the running
 * devices below br leave in its window; with assign false, only see
 * whether they fit.  -HS_ENOSPC with msg naming the item that does not.
 */
int hs_hot_add_fit(struct hs_core *core, struct hs_dev *br, enum hs_res r,
		   bool assign, char *msg, size_t msglen)
{
	bool cpath = hs_path_pref(br);
	struct hs_range win = br->win[r];
	struct hs_items it = { .core = core };
	struct hs_range_set used;
	size_t bad = 0;
	int rc;

	hs_range_set_init(&used, core->plat);
	if ((rc = hs_gather(&it, br->child, r, cpath, true)) || !it.n)
		goto out;
	/* What the running devices below the bridge already use. */
	for (struct hs_dev *c = br->child; c && !rc; c = c->sibling) {
		if (c->flags & DEV_PENDING_ADD || !hs_counts(c))
			continue;
		rc = hs_bars_add(&used, c, r);
		if (c->bridge && !rc)
			rc = hs_range_add(&used, c->win[r].base,
					  c->win[r].size);
	}
	if (rc)
		goto out;
	/* The lowest place in the slot's window for each (none in a
	 * closed window: the first item does not fit). */
	rc = hs_items_fit(&used, win, &it, HS_FIT_TOP, &bad);
	for (size_t i = 0; i < it.n && assign && !rc; i++)
		rc = hs_assign_item(core, &it.v[i], r, it.v[i].at, cpath);
	if (rc == -HS_ENOSPC && msg) {
		const struct hs_item *x = &it.v[bad];
		const char *name = hs_res_name(r);
		char need[32], has[32], fr[32], al[32];

		human(need, sizeof(need), x->size);
		human(al, sizeof(al), x->align);
		human(has, sizeof(has), win.size);
		human(fr, sizeof(fr),
		      win.size - hs_range_used(&used, win));
		if (win.size)
			hs_snprintf(msg, msglen,
				    "%s: need %s aligned to %s for %pB "
				    "%s%d, slot window %#llx-%#llx (%s) has %s "
				    "free", name, need, al, &x->dev->bdf,
				    x->bar >= 0 ? "BAR" : "window",
				    x->bar >= 0 ? x->bar : 0,
				    (unsigned long long)win.base,
				    (unsigned long long)(win.base +
							 win.size - 1),
				    has, fr);
		else
			hs_snprintf(msg, msglen,
				    "%s: need %s for %pB, the slot has "
				    "no %s window", name, need, &x->dev->bdf,
				    name);
	}
out:
	hs_items_free(&it);
	hs_range_set_fini(&used);
	return rc;
}

/* New bridges on the card: size them (no reservation: they are not
 * hot-plug bridges of ours unless they say so). */
int hs_size_new_bridges(struct hs_core *core, struct hs_dev *br)
{
	struct hs_plan pl = { { 0 }, 0, false };
	bool cpath = hs_path_pref(br);
	int rc;

	for (struct hs_dev *c = br->child; c; c = c->sibling)
		if ((c->flags & DEV_PENDING_ADD) && c->bridge && hs_counts(c) &&
		    (rc = hs_size_bridge(core, c, cpath, &pl)))
			return rc;
	return 0;
}

int hs_assign_hot_add(struct hs_core *core, struct hs_dev *br,
		      unsigned placed, unsigned *short_kinds, char *msg,
		      size_t msglen)
{
	struct hs_dev *c = br->child;
	int rc = 0;

	*short_kinds = 0;
	while (c && !(c->flags & DEV_PENDING_ADD))
		c = c->sibling;
	if (!c) {
		hs_snprintf(msg, msglen, "no function answers below the slot");
		return -HS_ENODEV;
	}
	if (!placed && (rc = hs_size_new_bridges(core, br)))
		return rc;
	for (enum hs_res r = HS_RES_IO; r < HS_RES_COUNT; r++) {
		int r2;

		if (placed & (1u << r))
			continue;
		r2 = hs_hot_add_fit(core, br, r, true, rc ? NULL : msg,
				    msglen);
		if (r2 == -HS_ENOSPC) {
			*short_kinds |= 1u << r;
			rc = r2;
		} else if (r2) {
			return r2;
		}
	}
	if (rc)
		return rc;
	for (struct hs_dev *d = hs_dev_walk_under(br, NULL); d;
	     d = hs_dev_walk_under(br, d))
		if ((d->flags & DEV_PENDING_ADD) && hs_counts(d) &&
		    (rc = program_new(core, d, false))) {
			hs_snprintf(msg, msglen, "programming %pB "
				    "failed (%d)", &d->bdf, rc);
			return rc;
		}
	return 0;
}

/* ---- programming --------------------------------------------------------- */

/* Base and limit registers' values for a window; a closed window gets
 * a base above its limit (PCI-to-PCI Bridge 3.2, 3.2.5.8). */
static void win_regs(const struct hs_range *w, uint64_t closed_base,
		     uint64_t *base, uint64_t *limit)
{
	if (w->size) {
		*base = w->base;
		*limit = w->base + w->size - 1;
	} else {
		*base = closed_base;
		*limit = 0;
	}
}

/*
 * A bridge's window registers in the order they are written: the window,
 * whether the register holds the limit (else the base), its offset and
 * width, and whether its bits 3:0 are read-only type bits (the base and
 * limit registers proper; the upper halves are all address).  Each takes
 * the address shifted right by 8 x its width (I/O bits 15:12 in bits 7:4,
 * memory bits 31:20 in bits 15:4, the upper halves bits 31:16 and
 * 63:32), a typed one masked to its width.  The prefetchable window's
 * come last: a bridge without one (DEV_NO_PREF) stops before them, one
 * without 64-bit addressing (not DEV_PREF64) before its upper halves
 * (PCI-to-PCI Bridge 3.2, 3.2.5.6-3.2.5.10).
 */
static const struct win_reg {
	uint8_t r, limit, off, width, typed;
} win_reg[] = {
	{ HS_RES_IO, 0, PCI_IO_BASE_UP, 2, 0 },
	{ HS_RES_IO, 1, PCI_IO_LIMIT_UP, 2, 0 },
	{ HS_RES_IO, 0, PCI_IO_BASE, 1, 1 },
	{ HS_RES_IO, 1, PCI_IO_LIMIT, 1, 1 },
	{ HS_RES_MEM, 0, PCI_MEM_BASE, 2, 1 },
	{ HS_RES_MEM, 1, PCI_MEM_LIMIT, 2, 1 },
	{ HS_RES_PREF, 0, PCI_PREF_BASE, 2, 1 },
	{ HS_RES_PREF, 1, PCI_PREF_LIMIT, 2, 1 },
	{ HS_RES_PREF, 0, PCI_PREF_BASE_UP, 4, 0 },
	{ HS_RES_PREF, 1, PCI_PREF_LIMIT_UP, 4, 0 },
};

/* The value of window register g for d's window. */
static uint32_t win_val(const struct hs_dev *d, const struct win_reg *g)
{
	uint64_t base, limit;
	uint32_t v;

	win_regs(&d->win[g->r], g->r == HS_RES_IO ? 0xf000 : 0xfff00000,
		 &base, &limit);
	v = (uint32_t)((g->limit ? limit : base) >> 8 * g->width);
	if (g->typed)
		v &= ((1u << 8 * g->width) - 1) & ~0xfu;
	return v;
}

/* How many of win_reg[] bridge d has. */
static unsigned win_nregs(const struct hs_dev *d)
{
	return d->flags & DEV_NO_PREF ? 6 : d->flags & DEV_PREF64 ? 10 : 8;
}

int hs_program_windows(struct hs_core *core, struct hs_dev *d)
{
	int rc = 0;

	for (unsigned i = 0; i < win_nregs(d) && !rc; i++)
		rc = hs_txn_cfg_write(core, d->bdf, win_reg[i].off,
				      win_reg[i].width,
				      win_val(d, &win_reg[i]));
	return rc;
}

/*
 * The memory windows read back, as bar_took does for BARs: a lost write
 * of a base or limit leaves a window closed (or open where it must not
 * be), and everything below the bridge then cannot be reached although
 * the records say it can (issue #17's boot fault sweep found exactly
 * that).  The memory window is mandatory in every PCI-to-PCI bridge and
 * the prefetchable one is checked where the scan found it (PCI-to-PCI
 * Bridge 1.2, 3.2.5.8-3.2.5.10); bits 3:0 of each are read-only type
 * bits.  The I/O window is left out: it is optional and a bridge without
 * it reads zeros.  1 when both took, 0 when not (got[]: what the memory
 * and prefetchable DWORDs read), or the error; verify rewrites both
 * windows once, then fails with -HS_EIO.
 */
static int windows_took(struct hs_core *core, struct hs_dev *d,
			uint32_t got[2])
{
	unsigned n = win_nregs(d);
	bool ok = true;
	int rc;

	/* Memory, prefetchable: base and limit in one DWORD read each;
	 * then the prefetchable upper halves, both read before they are
	 * compared. */
	for (unsigned i = 4; ok && i < n; i += 2) {
		const struct win_reg *g = &win_reg[i];
		uint32_t v, hi = 0;

		if ((rc = hs_rd(core, d->bdf, g->off, 4, &v)) ||
		    (g->width == 4 &&
		     (rc = hs_rd(core, d->bdf, g[1].off, 4, &hi))))
			return rc;
		if (g->width == 4)
			ok = v == win_val(d, g) && hi == win_val(d, g + 1);
		else
			ok = (v & 0xfff0fff0u) ==
			     (win_val(d, g) | win_val(d, g + 1) << 16);
		if (i < 8)
			got[i / 2 - 2] = v;
	}
	return ok;
}

/* The platform line a device's INTx pin arrives on. */
void hs_route_intx(struct hs_core *core, struct hs_dev *d)
{
	const struct hs_platform *p = core->plat;
	const struct hs_dev *at = d;
	unsigned pin = d->irq_pin;
	uint32_t line = 0;

	if (!pin || !p->ops->intx_route)
		return;
	/* The standard swizzle through every bridge (PCI-to-PCI Bridge 3.2,
	 * 9.1): pin' = ((device + pin - 1) mod 4) + 1. */
	while (at->parent) {
		pin = (HS_BDF_DEV(at->bdf) + pin - 1) % 4 + 1;
		at = at->parent;
	}
	if (p->ops->intx_route(p->ctx, at->bdf, pin, &line) == 0)
		d->irq_line = line;
}

/*
 * One register hs_program_dev writes.  While the device is new in this
 * transaction and not isolated, only the core has written it since the
 * scan, so the value the scan left (d->*_reg) is what the undo log needs
 * and no read precedes the write (issue #18); the record follows.
 */
static int prog_reg(struct hs_core *core, struct hs_dev *d, uint16_t off,
		    unsigned width, uint32_t *known, uint32_t val)
{
	int rc;

	if (!d->regs_known || !(d->flags & DEV_PENDING_ADD) ||
	    (d->flags & DEV_ISOLATED))
		return hs_txn_cfg_write(core, d->bdf, off, width, val);
	rc = hs_txn_cfg_write_old(core, d->bdf, off, width, *known, val);
	if (rc == 0)
		*known = val;
	return rc;
}

/*
 * A config write can vanish without a word (a function not ready yet, a
 * transient error the platform does not report), and a BAR that is not
 * where the records say makes the driver talk to nobody, or to another
 * device.  Before decode goes on, each BAR is read back once; one that
 * did not take is written again, and if it still does not, the change
 * fails (-HS_EIO) and is undone rather than committed untrue (verify).
 * The low bits are the BAR's type, read-only (PCI 3.0 6.2.5.1).  1 when
 * BAR i took, 0 when not (got[]: its low and high DWORDs as read), or
 * the error.
 */
static int bar_took(struct hs_core *core, struct hs_dev *d, int i,
		    uint32_t got[2])
{
	const struct hs_bar_info *b = &d->bar[i];
	uint16_t off = (uint16_t)(PCI_BAR0 + 4 * i);
	uint32_t mask = b->kind == BAR_IO ? ~(uint32_t)3 : ~(uint32_t)15;
	int rc;

	if ((rc = hs_rd(core, d->bdf, off, 4, &got[0])))
		return rc;
	if ((got[0] ^ (uint32_t)b->addr) & mask)
		return 0;
	if (b->kind != BAR_MEM64)
		return 1;
	if ((rc = hs_rd(core, d->bdf, off + 4, 4, &got[1])))
		return rc;
	return got[1] == (uint32_t)(b->addr >> 32);
}

static int write_bar(struct hs_core *core, struct hs_dev *d, int i)
{
	const struct hs_bar_info *b = &d->bar[i];
	uint16_t off = (uint16_t)(PCI_BAR0 + 4 * i);
	int rc;

	if ((rc = hs_txn_cfg_write(core, d->bdf, off, 4, (uint32_t)b->addr)) ||
	    b->kind != BAR_MEM64)
		return rc;
	return hs_txn_cfg_write(core, d->bdf, off + 4, 4,
				(uint32_t)(b->addr >> 32));
}

/* The windows (i < 0) or BAR i read back (windows_took, bar_took),
 * written again once when they did not take, then -HS_EIO. */
static int verify(struct hs_core *core, struct hs_dev *d, int i)
{
	for (int tries = 0;; tries++) {
		uint32_t got[2] = { 0, 0 };
		int rc = i < 0 ? windows_took(core, d, got)
			       : bar_took(core, d, i, got);

		if (rc)
			return rc < 0 ? rc : 0;
		if (tries == 1) {
			if (i < 0)
				hs_log(core->plat, HS_LOG_ERR, "%pB: a memory "
				       "window did not take its base or limit "
				       "(memory 0x%08x, prefetchable 0x%08x)",
				       &d->bdf, got[0], got[1]);
			else
				hs_log(core->plat, HS_LOG_ERR, "%pB: BAR%d did "
				       "not take its address 0x%llx (reads "
				       "0x%08x%08x)", &d->bdf, i,
				       (unsigned long long)d->bar[i].addr,
				       got[1], got[0]);
			return -HS_EIO;
		}
		if ((rc = i < 0 ? hs_program_windows(core, d)
				: write_bar(core, d, i)))
			return rc;
	}
}

int hs_program_dev(struct hs_core *core, struct hs_dev *d)
{
	uint16_t cmd = 0;
	uint32_t v;
	int rc;

	for (int i = 0; i < 6; i++) {
		struct hs_bar_info *b = &d->bar[i];
		uint16_t off = (uint16_t)(PCI_BAR0 + 4 * i);

		if (b->kind == BAR_NONE)
			continue;
		if (!b->assigned)
			return -HS_ENOSPC;
		if ((rc = prog_reg(core, d, off, 4, &d->bar_reg[i],
				   (uint32_t)b->addr)))
			return rc;
		if (b->kind == BAR_MEM64 &&
		    (rc = prog_reg(core, d, off + 4, 4, &d->bar_reg[i + 1],
				   (uint32_t)(b->addr >> 32))))
			return rc;
		cmd |= b->kind == BAR_IO ? CMD_IO : CMD_MEM;
	}
	if (d->bar[6].kind != BAR_NONE && d->bar[6].assigned) {
		/* The ROM gets its address, decode stays off until a driver
		 * asks (PCI 3.0 6.2.5.2: ROM and BARs may share a decoder). */
		rc = prog_reg(core, d, d->bridge ? PCI_ROM_BRIDGE : PCI_ROM, 4,
			      &d->bar_reg[6], (uint32_t)d->bar[6].addr);
		if (rc)
			return rc;
	}
	if (d->bridge) {
		if ((rc = hs_program_windows(core, d)) ||
		    (rc = verify(core, d, -1)))
			return rc;
		/* A bridge forwards both ways: decode, and master for its
		 * children's DMA and MSIs. */
		cmd |= CMD_IO | CMD_MEM | CMD_MASTER;
	}
	for (int i = 0; i < 6; i++)
		if (d->bar[i].kind != BAR_NONE &&
		    (rc = verify(core, d, i)))
			return rc;
	hs_route_intx(core, d);
	v = d->int_line_reg;
	if (d->irq_pin &&
	    (rc = prog_reg(core, d, PCI_INT_LINE, 1, &v, d->irq_line & 0xff)))
		return rc;
	d->int_line_reg = (uint8_t)v;
	if (d->flags & DEV_BLOCKED)
		cmd = 0;  /* addresses set, nothing decoded, no mastering */
	v = d->cmd_reg;
	rc = prog_reg(core, d, PCI_COMMAND, 2, &v, cmd);
	d->cmd_reg = (uint16_t)v;
	return rc;
}

int hs_enable_decode(struct hs_core *core, struct hs_dev *d)
{
	uint16_t cmd = 0;

	for (int i = 0; i < 6; i++)
		if (d->bar[i].kind != BAR_NONE && d->bar[i].assigned)
			cmd |= d->bar[i].kind == BAR_IO ? CMD_IO : CMD_MEM;
	if (d->bridge)
		cmd |= CMD_IO | CMD_MEM | CMD_MASTER;
	return hs_txn_cfg_write(core, d->bdf, PCI_COMMAND, 2, cmd);
}

void hs_disable_dev(struct hs_core *core, struct hs_dev *d)
{
	hs_txn_cfg_write(core, d->bdf, PCI_COMMAND, 2, 0);
}
