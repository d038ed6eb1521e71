/*
 * hs_rebalance.c - runtime rebalancing: a hot-add that does not fit gets
 * a new assignment of the tree around its slot, with the devices that
 * have to move stopped and started again (seeds/001 model 1, the
 * query-stop / stop / start model; docs/rebalance.md).
 *
 * Owns: the policy checks, the search for the fewest devices to move,
 * and the operation itself:
 *   1. plan: in a transaction that is rolled back, scan the card, find
 *      per kind of address space the fewest units to float (hs_replan.c),
 *      apply the plan in memory to learn exactly which devices move;
 *   2. ask every moved device's driver (query_stop: any may refuse, with
 *      a reason), then stop them, polling every millisecond until they
 *      are quiet or quiesce_timeout passes (then everything resumes);
 *   3. apply: one transaction that scans again, makes the same plan,
 *      rewrites the moved devices' BARs and the bridges' windows, places,
 *      programs and binds the new card, and starts the moved drivers at
 *      their new addresses.  Any failure (a driver that does not start,
 *      a fault, no memory) rolls the transaction back: registers, BARs
 *      and windows return to what they were, the new card's functions
 *      go, and every stopped driver is started again where it was.
 *   4. commit, then resume: the held requests go out.
 * One rebalance at a time; hot-adds that arrive meanwhile wait for it.
 * An optional module: hs_core_enable_rebalance (hs_core_rebalance.c)
 * installs the upcalls the lower layers reach it by, so a core that never calls it (nor
 * hs_core_rebalance) links neither this file nor hs_replan.c nor the
 * bus-number module's renumbering (hs_busnr_move.c).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hotswap/slot.h"
#include "hs_tree.h"
#include "hs_txn.h"
#include "hs_busnr.h"
#include "hs_resource.h"
#include "hs_replan.h"
#include "hs_driver.h"
#include "hs_add.h"
#include "hs_rebalance.h"

#define MAX_MORE 8

struct rebalance {
	struct hs_core *core;
	struct hs_dev *br;
	int devnum;
	bool now;                      /* restore br's reservation, no card */
	unsigned bus_need;             /* renumber for this many more buses */
	bool refit;                    /* ...and the card needs addresses moved */
	struct hs_dev *more[MAX_MORE]; /* found renumbered, not yet stopped */
	unsigned nmore, rounds;
	hs_done_fn done;
	void *arg;
	/* Chosen per kind: the units that float (devices pointers of
	 * committed subtree roots). */
	struct hs_dev **floats[HS_RES_COUNT];
	size_t nfloats[HS_RES_COUNT];
	/* ...and the pinned one-card slots whose windows shrink. */
	struct hs_dev **trims[HS_RES_COUNT];
	size_t ntrims[HS_RES_COUNT];
	unsigned kinds;                /* kinds that need a new plan */
	struct hs_dev **stopped;       /* drivers to stop / stopped */
	bool *quiet;
	size_t nstopped, nalloc;
	hs_time_t deadline;
	struct hs_timer poll;
	char summary[192];             /* what moves, for the messages */
};

/* ---- policy --------------------------------------------------------------- */

static bool drv_can_move(const struct hs_driver *drv)
{
	return (drv->flags & HS_DRV_CAN_MOVE) && drv->query_stop && drv->stop &&
	       drv->start && drv->resume;
}


/* May dev change address (with bus, its bus number)?  NULL when it may,
 * else why not. */
static const char *keeps(struct hs_core *core, struct hs_dev *d,
			 bool any_policy, bool bus)
{
	const struct hs_rebalance_policy *pol = &core->params.rebalance;
	int slot = hs_dev_slot(d);

	/* A hot-plug controller's registers in a BAR (SHPC) stay put:
	 * its driver holds them for as long as the slot lives.  Renumbered,
	 * it is not stopped, so its driver need not move. */
	bool ctl = d->services || (d->bridge && d->drv);
	const char *why;

	if (ctl && !bus)
		return "a hot-plug controller's registers are in it";
	if (ctl && (why = core->up.controller_busy(core, d)))
		return why;
	if (d->flags & DEV_NO_REMOVE)
		return "critical";
	if (any_policy)
		return NULL;
	if (pol->move == HS_MOVE_NEVER)
		return "the policy never moves a device";
	if (!ctl && d->drv && !drv_can_move(d->drv))
		return "its driver cannot move";
	for (unsigned i = 0; i < pol->npinned_slots; i++)
		if (slot >= 0 && pol->pinned_slots[i] == (unsigned)slot)
			return "its slot is pinned by the policy";
	for (unsigned i = 0; i < pol->npinned_classes; i++)
		if ((d->class_code & pol->pinned_classes[i].mask) ==
		    pol->pinned_classes[i].class_code)
			return "its class is pinned by the policy";
	return NULL;
}

static bool is_live(const struct hs_dev *d)
{
	return !(d->flags & (DEV_ISOLATED | DEV_PENDING_REMOVE |
			     DEV_PENDING_ADD | DEV_GONE));
}


static void mark_movable(struct hs_core *core, struct hs_replan *rp,
			 bool any_policy)
{
	for (size_t i = 0; i < rp->nunits; i++) {
		struct hs_replan_unit *u = &rp->units[i];

		u->movable = u->cost > 0;
		u->why = NULL;
		u->load = 0;
		for (struct hs_dev *d = u->dev; d && u->movable;
		     d = hs_replan_subtree_next(u->dev, d)) {
			const char *why;

			/* Only what has an address of this kind moves. */
			if (!is_live(d) || !hs_replan_has_bar(d, rp->r))
				continue;
			if (d->drv && d->drv->load)
				u->load += d->drv->load(d, d->drv_priv);
			if ((why = keeps(core, d, any_policy, false))) {
				u->movable = false;
				u->why = why;
			}
		}
	}
}

static void fmt_bdf(char *buf, size_t len, const struct hs_dev *d)
{
	hs_snprintf(buf, len, "%02x:%02x.%u", HS_BDF_BUS(d->bdf),
		    HS_BDF_DEV(d->bdf), HS_BDF_FN(d->bdf));
}

/* Append "02:00.0 (simnet)" for every device of the floating units that
 * has an address of the kind. */
static void list_units(const struct hs_replan *rp, char *out, size_t len)
{
	size_t used = hs_strlen(out);

	for (size_t i = 0; i < rp->nunits; i++) {
		const struct hs_replan_unit *u = &rp->units[i];

		if (u->pinned || !u->cost)
			continue;
		for (struct hs_dev *d = u->dev; d && used + 1 < len;
		     d = hs_replan_subtree_next(u->dev, d)) {
			char b[16];

			if (!is_live(d) || !hs_replan_has_bar(d, rp->r))
				continue;
			fmt_bdf(b, sizeof(b), d);
			hs_snprintf(out + used, len - used, "%s%s%s%s%s",
				    used ? ", " : "", b, d->drv ? " (" : "",
				    d->drv ? d->drv->name : "",
				    d->drv ? ")" : "");
			used = hs_strlen(out);
		}
	}
}

/* ---- search --------------------------------------------------------------- */

static unsigned moved_cost(const struct hs_replan *rp)
{
	unsigned n = 0;

	for (size_t i = 0; i < rp->nunits; i++)
		if (!rp->units[i].pinned)
			n += rp->units[i].cost;
	return n;
}

static unsigned long moved_load(const struct hs_replan *rp)
{
	unsigned long n = 0;

	for (size_t i = 0; i < rp->nunits; i++)
		if (!rp->units[i].pinned)
			n += rp->units[i].load;
	return n;
}

/* Is unit a dearer to move than unit b: more devices, or as many and
 * busier? */
static bool dearer(const struct hs_replan_unit *a,
		   const struct hs_replan_unit *b)
{
	return a->cost > b->cost || (a->cost == b->cost && a->load > b->load);
}

/*
 * Find the fewest movable units to float so that the plan fits: none
 * first (windows grow, empty windows move), then everything movable
 * below ever higher spine levels, then pin back whatever is not needed,
 * most costly first.  0 with the pins set, or -HS_ENOSPC.
 */
/* Pin back, the dearest first, every floating unit the plan can do
 * without (each one tried once). */
static int put_back(struct hs_replan *rp)
{
	int rc;

	for (size_t i = 0; i < rp->nunits; i++)
		rp->units[i].tried = false;
	for (;;) {
		size_t best = rp->nunits;

		for (size_t i = 0; i < rp->nunits; i++) {
			struct hs_replan_unit *u = &rp->units[i];

			if (!u->pinned && u->cost && u->movable && !u->tried &&
			    (best == rp->nunits || dearer(u, &rp->units[best])))
				best = i;
		}
		if (best == rp->nunits)
			return 0;
		rp->units[best].pinned = true;
		rp->units[best].tried = true;
		rc = hs_replan_try(rp, false);
		if (rc == -HS_ENOSPC)
			rp->units[best].pinned = false; /* it must move */
		else if (rc)
			return rc;
	}
}

static int search(struct hs_replan *rp)
{
	unsigned best_cost = ~0u;
	unsigned long best_load = ~0ul;
	bool *best = NULL;
	int rc;

	/* Nothing moves at all, not even empty windows: only the spine's
	 * windows change. */
	for (size_t i = 0; i < rp->nunits; i++)
		rp->units[i].pinned = true;
	rc = hs_replan_try(rp, false);
	if (rc != -HS_ENOSPC)
		return rc;
	/* Empty windows may move. */
	for (size_t i = 0; i < rp->nunits; i++)
		rp->units[i].pinned = rp->units[i].cost > 0;
	rc = hs_replan_try(rp, false);
	if (rc == 0)
		goto put_back_empty;
	if (rc != -HS_ENOSPC)
		return rc;
	/* Occupied one-card slots give back what their cards do not use:
	 * windows shrink, nothing moves. */
	for (size_t i = 0; i < rp->nunits; i++)
		rp->units[i].trimmed = hs_replan_trimmable(rp, i);
	rc = hs_replan_try(rp, false);
	if (rc == 0)
		goto put_back_empty;
	if (rc != -HS_ENOSPC)
		return rc;
	/* Movable units from some spine level down float, then whatever
	 * is not needed is pinned back.  Every starting level is tried and
	 * the cheapest result kept (the deepest on a tie: moves stay near
	 * the slot). */
	best = hs_zalloc(rp->core, rp->nunits * sizeof(bool) + 1);
	if (!best)
		return -HS_ENOMEM;
	for (unsigned lvl = rp->k + 1; lvl-- > 0;) {
		bool changed = false;
		unsigned cost;

		for (size_t i = 0; i < rp->nunits; i++) {
			struct hs_replan_unit *u = &rp->units[i];

			u->pinned = u->cost > 0;
			if (u->movable && u->level >= lvl) {
				u->pinned = false;
				changed = true;
			}
		}
		if (!changed)
			continue;
		rc = hs_replan_try(rp, false);
		if (rc == -HS_ENOSPC)
			continue;
		if (rc || (rc = put_back(rp)))
			goto out;
		cost = moved_cost(rp);
		if (cost < best_cost ||
		    (cost == best_cost && moved_load(rp) < best_load)) {
			best_cost = cost;
			best_load = moved_load(rp);
			for (size_t i = 0; i < rp->nunits; i++)
				best[i] = rp->units[i].pinned;
		}
	}
	if (best_cost == ~0u) {
		rc = -HS_ENOSPC;
		goto out;
	}
	for (size_t i = 0; i < rp->nunits; i++)
		rp->units[i].pinned = best[i];
	rc = 0;
put_back_empty:
	/* Empty windows that need not move stay where they are too. */
	for (size_t i = 0; i < rp->nunits && !rc; i++) {
		struct hs_replan_unit *u = &rp->units[i];

		if (u->pinned || u->cost)
			continue;
		u->pinned = true;
		rc = hs_replan_try(rp, false);
		if (rc == -HS_ENOSPC) {
			u->pinned = false;
			rc = 0;
		}
	}
	/* Windows that need not shrink keep their room. */
	for (size_t i = 0; i < rp->nunits && !rc; i++) {
		struct hs_replan_unit *u = &rp->units[i];

		if (!u->trimmed)
			continue;
		u->trimmed = false;
		if (!u->pinned)
			continue;
		rc = hs_replan_try(rp, false);
		if (rc == -HS_ENOSPC) {
			u->trimmed = true;
			rc = 0;
		}
	}
out:
	if (best)
		hs_free(rp->core, best, rp->nunits * sizeof(bool) + 1);
	return rc;
}

/* Reservation of kind r of a hot-plug bridge (as hs_scan.c set it). */
static uint64_t resv_of(const struct hs_dev *br, enum hs_res r)
{
	return r == HS_RES_IO ? br->resv.io
	       : r == HS_RES_MEM ? br->resv.mem
	       : r == HS_RES_PREF ? br->resv.pref : 0;
}

/* An empty slot whose window of kind r is smaller than its reservation
 * (the kinds a rebalance-now gives back). */
static bool short_of_reservation(struct hs_dev *br, enum hs_res r, char *why,
				 size_t len)
{
	uint64_t want = hs_align_up(resv_of(br, r), hs_res_gran(r));

	if (r == HS_RES_BUS || !want || br->child)
		return false;
	if (r == HS_RES_PREF && !hs_path_pref(br))
		return false;
	if (br->win[r].size >= want)
		return false;
	hs_snprintf(why, len, "%s: window %llu KiB, reservation %llu KiB",
		    hs_res_name(r), (unsigned long long)(br->win[r].size >> 10),
		    (unsigned long long)(want >> 10));
	return true;
}

/*
 * Plan every kind the card lacks, applying each in memory (the open
 * transaction records what changes).  rb != NULL: remember the choice;
 * use: replay a remembered choice instead of searching.  msg says why
 * not, naming what would have to move.
 */
static int plan_kinds(struct hs_core *core, struct hs_dev *br,
		      struct rebalance *rb, bool replay, char *msg,
		      size_t msglen)
{
	const struct hs_rebalance_policy *pol = &core->params.rebalance;
	unsigned total = 0;
	int rc;

	if ((rc = hs_size_new_bridges(core, br)))
		return rc;

	for (enum hs_res r = HS_RES_IO; r < HS_RES_COUNT; r++) {
		struct hs_replan rp;
		char why[160] = "";

		if (replay ? !(rb->kinds & (1u << r))
			   : rb->now ? !short_of_reservation(br, r, why,
							    sizeof(why))
				     : hs_hot_add_fit(core, br, r, false, why,
						      sizeof(why)) == 0)
			continue;
		if ((rc = hs_replan_init(&rp, core, br, r)))
			return rc;
		/* Restoring one slot's room must not take other slots'. */
		rp.may_shrink = !rb->now;
		if (replay) {
			for (size_t i = 0; i < rp.nunits; i++) {
				rp.units[i].pinned = true;
				for (size_t f = 0; f < rb->nfloats[r]; f++)
					if (rp.units[i].dev == rb->floats[r][f])
						rp.units[i].pinned = false;
				for (size_t f = 0; f < rb->ntrims[r]; f++)
					if (rp.units[i].dev == rb->trims[r][f])
						rp.units[i].trimmed = true;
			}
			rc = hs_replan_try(&rp, true);
			if (rc == -HS_ENOSPC)
				hs_snprintf(msg, msglen, "the chassis changed "
					    "while drivers were stopping; the "
					    "plan no longer fits");
			hs_replan_fini(&rp);
			if (rc)
				return rc;
			continue;
		}
		mark_movable(core, &rp, false);
		rc = search(&rp);
		if (rc == -HS_ENOSPC) {
			/* What would it take with no policy at all? */
			char list[160] = "";

			for (size_t i = 0; i < rp.nunits; i++)
				rp.units[i].pinned = rp.units[i].cost > 0;
			mark_movable(core, &rp, true);
			if (search(&rp) == 0) {
				list_units(&rp, list, sizeof(list));
				hs_snprintf(msg, msglen,
					    "%s; rebalancing would have to move "
					    "%s, which the policy forbids",
					    why, list);
			} else {
				hs_snprintf(msg, msglen,
					    "%s; no assignment fits even if "
					    "every device moved", why);
			}
			hs_replan_fini(&rp);
			return -HS_ENOSPC;
		}
		if (rc) {
			hs_replan_fini(&rp);
			return rc;
		}
		total += moved_cost(&rp);
		if (pol->max_moved && total > pol->max_moved) {
			char list[160] = "";

			list_units(&rp, list, sizeof(list));
			hs_snprintf(msg, msglen, "%s; rebalancing would move "
				    "%u devices (%s), more than the policy's "
				    "limit of %u", why, total, list,
				    pol->max_moved);
			hs_replan_fini(&rp);
			return -HS_ENOSPC;
		}
		if (rb) {
			size_t n = 0, nt = 0;

			for (size_t i = 0; i < rp.nunits; i++) {
				if (!rp.units[i].pinned)
					n++;
				else if (rp.units[i].trimmed)
					nt++;
			}
			if (nt) {
				rb->trims[r] = hs_zalloc(core, nt * sizeof(void *));
				if (!rb->trims[r]) {
					hs_replan_fini(&rp);
					return -HS_ENOMEM;
				}
				for (size_t i = 0; i < rp.nunits; i++)
					if (rp.units[i].pinned &&
					    rp.units[i].trimmed)
						rb->trims[r][rb->ntrims[r]++] =
							rp.units[i].dev;
			}
			rb->kinds |= 1u << r;
			if (n) {
				rb->floats[r] = hs_zalloc(core, n * sizeof(void *));
				if (!rb->floats[r]) {
					hs_replan_fini(&rp);
					return -HS_ENOMEM;
				}
				for (size_t i = 0; i < rp.nunits; i++)
					if (!rp.units[i].pinned)
						rb->floats[r][rb->nfloats[r]++] =
							rp.units[i].dev;
			}
		}
		rc = hs_replan_try(&rp, true);
		hs_replan_fini(&rp);
		if (rc)
			return rc;
	}
	return 0;
}

/* Did the open transaction give dev other addresses? */
static bool moved(struct hs_core *core, const struct hs_dev *d)
{
	const struct txn_res_snap *s = hs_txn_res_of(core, d);

	if (!s)
		return false;
	for (int i = 0; i < 7; i++)
		if (s->bar[i].assigned != d->bar[i].assigned ||
		    s->bar[i].addr != d->bar[i].addr)
			return true;
	return false;
}

static bool windows_changed(struct hs_core *core, const struct hs_dev *d)
{
	const struct txn_res_snap *s = hs_txn_res_of(core, d);

	if (!s || !d->bridge)
		return false;
	for (int r = 0; r < HS_RES_COUNT; r++)
		if (s->win[r].base != d->win[r].base ||
		    s->win[r].size != d->win[r].size)
			return true;
	return false;
}

/* ---- the operation -------------------------------------------------------- */

static int apply_bus_add(struct rebalance *rb, char *msg, size_t msglen);

static void rb_free(struct rebalance *rb)
{
	struct hs_core *core = rb->core;

	for (int r = 0; r < HS_RES_COUNT; r++) {
		if (rb->floats[r])
			hs_free(core, rb->floats[r],
				rb->nfloats[r] * sizeof(void *));
		if (rb->trims[r])
			hs_free(core, rb->trims[r],
				rb->ntrims[r] * sizeof(void *));
	}
	if (rb->stopped)
		hs_free(core, rb->stopped, rb->nalloc * sizeof(void *));
	if (rb->quiet)
		hs_free(core, rb->quiet, rb->nalloc * sizeof(bool));
	hs_timer_cancel(&core->timers, &rb->poll);
	hs_free(core, rb, sizeof(*rb));
}

/* Drivers go on where they are now (after a rollback: the old place). */
static void restart_all(struct rebalance *rb)
{
	for (size_t i = 0; i < rb->nstopped; i++) {
		struct hs_dev *d = rb->stopped[i];
		int rc;

		if (!d->drv)
			continue;
		if (rb->quiet[i] && (rc = d->drv->start(d, d->drv_priv))) {
			/* It cannot reach its registers where they always
			 * were: nothing left to do but say so. */
			hs_dev_isolate(d, "driver %s did not start again after "
				       "a rebalance was rolled back (%d)",
				       d->drv->name, rc);
		}
		d->drv->resume(d, d->drv_priv);
	}
}

static void finish(struct rebalance *rb, int rc, const char *msg)
{
	struct hs_core *core = rb->core;
	hs_done_fn done = rb->done;
	void *arg = rb->arg;
	struct hs_dev *br = rb->br;
	int devnum = rb->devnum;
	bool refit = rb->refit && rc == 0;

	core->rebalancing = NULL;
	rb_free(rb);
	if (refit)
		/* The slot has its numbers now: the card's hot-add starts
		 * over (and may rebalance addresses in turn). */
		hs_core_hot_add_slot_async(core, br, devnum, done, arg);
	else if (done)
		done(arg, rc, msg);
	hs_run_pending_adds(core, NULL);
}

/* ---- the moved devices' registers (only a rebalance moves one) ---------- */

/*
 * A running device gets new addresses (its driver is stopped): decode
 * off while the BARs change, so that it never answers at a half-written
 * address, then the Command register as the driver left it (Bus Master
 * and INTx Disable included).
 */
static int program_moved(struct hs_core *core, struct hs_dev *d)
{
	uint32_t cmd = 0;
	int rc;

	d->regs_known = false; /* written here with reads of their own */
	if ((rc = hs_rd(core, d->bdf, PCI_COMMAND, 2, &cmd)))
		return rc;
	if ((rc = hs_txn_cfg_write(core, d->bdf, PCI_COMMAND, 2,
				   cmd & ~(uint32_t)(CMD_IO | CMD_MEM))))
		return rc;
	for (int i = 0; i < 6; i++) {
		struct hs_bar_info *b = &d->bar[i];
		uint16_t off = (uint16_t)(PCI_BAR0 + 4 * i);

		if (b->kind == BAR_NONE || !b->assigned)
			continue;
		if ((rc = hs_txn_cfg_write(core, d->bdf, off, 4,
					   (uint32_t)b->addr)))
			return rc;
		if (b->kind == BAR_MEM64 &&
		    (rc = hs_txn_cfg_write(core, d->bdf, off + 4, 4,
					   (uint32_t)(b->addr >> 32))))
			return rc;
	}
	if (d->bar[6].kind != BAR_NONE && d->bar[6].assigned &&
	    (rc = hs_txn_cfg_write(core, d->bdf,
				   d->bridge ? PCI_ROM_BRIDGE : PCI_ROM, 4,
				   (uint32_t)d->bar[6].addr)))
		return rc;
	if (d->bridge && (rc = hs_program_windows(core, d)))
		return rc;
	return hs_txn_cfg_write(core, d->bdf, PCI_COMMAND, 2, cmd);
}

/*
 * Read back what program_moved / hs_program_windows / hs_program_dev
 * wrote: a write lost on the way would leave a device decoding where the
 * records say it does not (and perhaps where another one does).
 */
static int verify_regs(struct hs_core *core, struct hs_dev *d)
{
	uint32_t v = 0, v2 = 0;

	for (int i = 0; i < 6; i++) {
		const struct hs_bar_info *b = &d->bar[i];
		uint16_t off = (uint16_t)(PCI_BAR0 + 4 * i);
		uint64_t got;

		if (b->kind == BAR_NONE || !b->assigned)
			continue;
		if (hs_rd(core, d->bdf, off, 4, &v))
			return -HS_EIO;
		got = v & (b->kind == BAR_IO ? ~0x3u : ~0xfu);
		if (b->kind == BAR_MEM64) {
			if (hs_rd(core, d->bdf, off + 4, 4, &v2))
				return -HS_EIO;
			got |= (uint64_t)v2 << 32;
		}
		if (got != (b->kind == BAR_IO ? b->addr & 0xffffffffu
					       : b->addr))
			return -HS_EIO;
	}
	if (!d->bridge)
		return 0;
	for (enum hs_res r = HS_RES_IO; r < HS_RES_COUNT; r++) {
		uint64_t base, limit, want_b, want_l;
		uint32_t lo = 0, hi = 0, ul = 0, uh = 0;

		if (r == HS_RES_PREF && (d->flags & DEV_NO_PREF))
			continue;
		if (r == HS_RES_IO) {
			if (hs_rd(core, d->bdf, PCI_IO_BASE, 2, &lo) ||
			    hs_rd(core, d->bdf, PCI_IO_BASE_UP, 4, &ul))
				return -HS_EIO;
			base = (uint64_t)(lo & 0xf0) << 8 | (uint64_t)(ul & 0xffff) << 16;
			limit = (uint64_t)(lo >> 8 & 0xf0) << 8 | 0xfff |
				(uint64_t)(ul >> 16) << 16;
		} else {
			uint16_t off = r == HS_RES_MEM ? PCI_MEM_BASE
						       : PCI_PREF_BASE;

			if (hs_rd(core, d->bdf, off, 4, &lo))
				return -HS_EIO;
			if (r == HS_RES_PREF && (d->flags & DEV_PREF64) &&
			    (hs_rd(core, d->bdf, PCI_PREF_BASE_UP, 4, &hi) ||
			     hs_rd(core, d->bdf, PCI_PREF_LIMIT_UP, 4, &uh)))
				return -HS_EIO;
			base = (uint64_t)(lo & 0xfff0) << 16 | (uint64_t)hi << 32;
			limit = (uint64_t)(lo >> 16 & 0xfff0) << 16 | 0xfffff |
				(uint64_t)uh << 32;
		}
		if (!d->win[r].size) {
			if (base <= limit)
				return -HS_EIO; /* should be closed */
			continue;
		}
		want_b = d->win[r].base;
		want_l = d->win[r].base + d->win[r].size - 1;
		if (base != want_b || limit != want_l)
			return -HS_EIO;
	}
	return 0;
}

/* Read back every register a rebalance and the new card's placement
 * wrote before anything runs at the new addresses (a write that got lost
 * must not become a device decoding where nobody thinks it is). */
static int verify_written(struct hs_core *core, char *msg, size_t msglen)
{
	for (struct hs_dev *d = hs_dev_walk(core, NULL); d;
	     d = hs_dev_walk(core, d)) {
		bool fresh = (d->flags & DEV_PENDING_ADD) &&
			     !(d->flags & (DEV_ISOLATED | DEV_GONE));

		if ((fresh || (is_live(d) && hs_txn_res_of(core, d))) &&
		    verify_regs(core, d)) {
			char b[16];

			fmt_bdf(b, sizeof(b), d);
			hs_snprintf(msg, msglen, "%s does not hold the "
				    "addresses written to it", b);
			return -HS_EIO;
		}
	}
	return 0;
}

/* Step 3 for addresses: the same plan, the moved devices reprogrammed,
 * the new card placed and bound (in the open transaction). */
static int apply_plan(struct rebalance *rb, char *msg, size_t msglen)
{
	struct hs_core *core = rb->core;
	struct hs_dev *br = rb->br;
	struct hs_add_result res = { 0, 0, 0 };
	int rc;

	if (!rb->now && (rc = hs_scan_slot_buses(core, br, rb->devnum, false,
						 NULL, &res, msg, msglen)))
		return rc;
	if ((rc = plan_kinds(core, br, rb, true, msg, msglen))) {
		if (!msg[0])
			hs_snprintf(msg, msglen, "planning failed (%d)", rc);
		return rc;
	}
	/* Every device that moves must be one whose driver stopped. */
	for (struct hs_dev *d = hs_dev_walk(core, NULL); d;
	     d = hs_dev_walk(core, d)) {
		bool ok = !d->drv;

		if (!is_live(d) || !moved(core, d))
			continue;
		for (size_t i = 0; i < rb->nstopped && !ok; i++)
			ok = rb->stopped[i] == d;
		if (!ok) {
			hs_snprintf(msg, msglen, "the chassis changed while "
				    "drivers were stopping");
			return -HS_EAGAIN;
		}
	}
	/* Hardware: moved devices, then windows, parents first (a walk is
	 * depth first), so nothing decodes an address twice for longer
	 * than the writes take. */
	for (struct hs_dev *d = hs_dev_walk(core, NULL); d;
	     d = hs_dev_walk(core, d)) {
		if (!is_live(d))
			continue;
		rc = 0;
		if (moved(core, d))
			rc = program_moved(core, d);
		else if (windows_changed(core, d))
			rc = hs_program_windows(core, d);
		if (rc) {
			hs_snprintf(msg, msglen, "reprogramming failed (%d)", rc);
			return rc;
		}
		if (moved(core, d))
			rc = hs_txn_event(core, HS_EV_DEV_MOVED, d,
					  d->drv ? d->drv->name : NULL);
		else if (windows_changed(core, d))
			rc = hs_txn_event(core, HS_EV_WINDOW_CHANGED, d, NULL);
		if (rc)
			return rc;
	}
	if (!rb->now &&
	    (rc = hs_assign_hot_add(core, br, rb->kinds, &res.kinds, msg,
				    msglen)))
		return rc;
	if ((rc = verify_written(core, msg, msglen)))
		return rc;
	if (!rb->now && (rc = hs_bind_new(core, br, msg, msglen)))
		return rc;
	return 0;
}

/* May d's driver stop?  False, with msg naming the device, the driver and
 * its reason, when it refuses (or cannot move at all). */
static bool ask_stop(struct rebalance *rb, struct hs_dev *d, char *msg,
		     size_t msglen)
{
	char why[96] = "", b[16];

	if (drv_can_move(d->drv) &&
	    !d->drv->query_stop(d, d->drv_priv, why, sizeof(why)))
		return false;
	fmt_bdf(b, sizeof(b), d);
	hs_snprintf(msg, msglen, "%s needs %s %s and driver %s refuses to "
		    "stop: %s",
		    rb->bus_need ? "renumbering bus numbers" : "rebalancing", b,
		    rb->bus_need ? "renumbered" : "moved", d->drv->name,
		    why[0] ? why : drv_can_move(d->drv) ? "busy"
							: "it cannot move");
	return true;
}

static void stop_poll(void *arg);

/* Devices a later scan round renumbers: asked (a veto ends the
 * operation), then stopped with the others; apply() runs again once all
 * are quiet.  Nothing was changed: the transaction was rolled back. */
static int stop_more(struct rebalance *rb, char *msg, size_t msglen)
{
	struct hs_core *core = rb->core;
	size_t n = rb->nstopped + rb->nmore;
	struct hs_dev **st;
	bool *q;

	for (unsigned i = 0; i < rb->nmore; i++)
		if (ask_stop(rb, rb->more[i], msg, msglen))
			return -HS_EBUSY;
	st = hs_zalloc(core, n * sizeof(void *));
	q = hs_zalloc(core, n * sizeof(bool));
	if (!st || !q) {
		if (st)
			hs_free(core, st, n * sizeof(void *));
		if (q)
			hs_free(core, q, n * sizeof(bool));
		hs_snprintf(msg, msglen, "out of memory");
		return -HS_ENOMEM;
	}
	for (size_t i = 0; i < rb->nstopped; i++) {
		st[i] = rb->stopped[i];
		q[i] = rb->quiet[i];
	}
	for (unsigned i = 0; i < rb->nmore; i++)
		st[rb->nstopped + i] = rb->more[i];
	if (rb->stopped)
		hs_free(core, rb->stopped, rb->nalloc * sizeof(void *));
	if (rb->quiet)
		hs_free(core, rb->quiet, rb->nalloc * sizeof(bool));
	rb->stopped = st;
	rb->quiet = q;
	rb->nstopped = rb->nalloc = n;
	rb->nmore = 0;
	rb->deadline = hs_now(&core->timers) + core->params.quiesce_timeout;
	stop_poll(rb);
	return 0;
}

/* Step 3: one transaction, the same plan (addresses, or bus numbers),
 * the restarts. */
static void apply(struct rebalance *rb)
{
	struct hs_core *core = rb->core;
	char msg[320] = "";
	size_t started = 0;
	int rc;

	if ((rc = hs_txn_begin(core, rb->bus_need ? "bus numbers"
						  : "rebalance"))) {
		hs_snprintf(msg, sizeof(msg), "another change is in progress");
		goto fail_resume;
	}
	rc = rb->bus_need ? apply_bus_add(rb, msg, sizeof(msg))
			  : apply_plan(rb, msg, sizeof(msg));
	if (rc == -HS_EAGAIN && rb->nmore && rb->rounds++ < 4) {
		hs_txn_abort(core);
		if ((rc = stop_more(rb, msg, sizeof(msg))))
			goto fail_resume;
		return;
	}
	if (rc == -HS_EAGAIN && rb->nmore)
		hs_snprintf(msg, sizeof(msg), "bus numbers: the devices to "
			    "renumber kept changing");
	if (rc)
		goto fail_abort;
	for (; started < rb->nstopped; started++) {
		struct hs_dev *d = rb->stopped[started];

		if ((rc = d->drv->start(d, d->drv_priv))) {
			char b[16];

			fmt_bdf(b, sizeof(b), d);
			hs_snprintf(msg, sizeof(msg), "driver %s on %s did not "
				    "start at its new address (%d)",
				    d->drv->name, b, rc);
			goto fail_abort;
		}
	}
	if ((rc = hs_txn_commit(core))) {
		hs_snprintf(msg, sizeof(msg), "commit failed (%d)", rc);
		goto fail_restart;
	}
	for (size_t i = 0; i < rb->nstopped; i++)
		rb->stopped[i]->drv->resume(rb->stopped[i],
					    rb->stopped[i]->drv_priv);
	hs_snprintf(msg, sizeof(msg), "%s: %s",
		    rb->bus_need ? "bus numbers" : "rebalanced", rb->summary);
	hs_log(core->plat, HS_LOG_NOTICE, "%s", msg);
	finish(rb, 0, msg);
	return;

fail_abort:
	hs_txn_abort(core);
fail_restart:
	/* Registers, BARs, windows and bus numbers are back: start everyone
	 * there. */
	for (size_t i = 0; i < rb->nstopped; i++)
		rb->quiet[i] = true;
fail_resume:
	restart_all(rb);
	hs_log(core->plat, HS_LOG_ERR, "%s rolled back: %s",
	       rb->bus_need ? "bus renumbering" : "rebalance", msg);
	finish(rb, rc, msg);
}

/* Step 2: wait for every moved driver to stop. */
static void stop_poll(void *arg)
{
	struct rebalance *rb = arg;
	struct hs_core *core = rb->core;
	bool late = hs_now(&core->timers) >= rb->deadline;
	bool busy = false;

	for (size_t i = 0; i < rb->nstopped; i++) {
		struct hs_dev *d = rb->stopped[i];

		if (rb->quiet[i])
			continue;
		if (d->drv->stop(d, d->drv_priv) == -HS_EAGAIN) {
			busy = true;
			continue;
		}
		rb->quiet[i] = true;
	}
	if (!busy) {
		apply(rb);
		return;
	}
	if (late) {
		char b[16] = "?", msg[160];

		for (size_t i = 0; i < rb->nstopped; i++)
			if (!rb->quiet[i]) {
				fmt_bdf(b, sizeof(b), rb->stopped[i]);
				break;
			}
		hs_snprintf(msg, sizeof(msg), "%s did not stop within the "
			    "quiesce time-out; nothing was moved", b);
		restart_all(rb);
		finish(rb, -HS_ETIMEDOUT, msg);
		return;
	}
	hs_timer_arm(&core->timers, &rb->poll, HS_MSEC(1));
}

void hs_rebalance_cancel(struct hs_core *core, const char *why)
{
	struct rebalance *rb = core->rebalancing;

	if (!rb)
		return;
	/* Nothing has been reprogrammed before apply(), which runs in one
	 * go: stopped drivers just go on where they are. */
	restart_all(rb);
	finish(rb, -HS_ECANCELED, why);
}

/* Step 2: every driver is asked before any is stopped; then the
 * stopping starts (stop_poll), the operation owning the core. */
static int ask_and_stop(struct rebalance *rb, char *msg, size_t msglen)
{
	struct hs_core *core = rb->core;
	struct hs_dev *br = rb->br;

	for (size_t i = 0; i < rb->nstopped; i++)
		if (ask_stop(rb, rb->stopped[i], msg, msglen))
			return -HS_EBUSY;
	core->rebalancing = rb;
	rb->deadline = hs_now(&core->timers) + core->params.quiesce_timeout;
	hs_log(core->plat, HS_LOG_NOTICE, "%02x:%02x.%u: %s; %s (%s)",
	       HS_BDF_BUS(br->bdf), HS_BDF_DEV(br->bdf), HS_BDF_FN(br->bdf),
	       rb->bus_need ? "the card needs more bus numbers"
	       : rb->now    ? "room below its reservation"
			    : "the card does not fit",
	       rb->bus_need ? "renumbering" : "rebalancing", rb->summary);
	stop_poll(rb);
	return 0;
}

static int start(struct hs_core *core, struct hs_dev *br, int devnum,
		 bool now, hs_done_fn done, void *arg, char *msg,
		 size_t msglen);

int hs_rebalance_add(struct hs_core *core, struct hs_dev *br, int devnum,
		     const struct hs_add_result *res, hs_done_fn done,
		     void *arg, char *msg, size_t msglen)
{
	/* Bus numbers first: the card is not fully seen before. */
	if (res->bus_move)
		return hs_rebalance_bus_add(core, br, devnum, res->bus_move,
					    done, arg, msg, msglen);
	return start(core, br, devnum, false, done, arg, msg, msglen);
}

static int start(struct hs_core *core, struct hs_dev *br, int devnum,
		 bool now, hs_done_fn done, void *arg, char *msg,
		 size_t msglen)
{
	struct rebalance *rb;
	struct hs_add_result res;
	char first[256];
	size_t n = 0;
	int rc;

	if (core->rebalancing || core->in_txn)
		return -HS_EBUSY;
	rb = hs_zalloc(core, sizeof(*rb));
	if (!rb)
		return -HS_ENOMEM;
	rb->core = core;
	rb->br = br;
	rb->devnum = devnum;
	rb->now = now;
	rb->done = done;
	rb->arg = arg;
	hs_timer_init(&rb->poll, stop_poll, rb);

	/* Keep the plain hot-add's refusal in case this fails too. */
	hs_snprintf(first, sizeof(first), "%s", msg);
	/* Step 1: plan in a transaction that is rolled back. */
	if ((rc = hs_txn_begin(core, "rebalance plan")))
		goto fail_free;
	if (!now && (rc = hs_scan_slot_buses(core, br, devnum, false, NULL,
					     &res, msg, msglen)))
		goto fail_abort;
	msg[0] = '\0';
	if ((rc = plan_kinds(core, br, rb, false, msg, msglen))) {
		/* The plan's own refusal names the kind and what would have
		 * to move; anything else keeps the plain refusal. */
		if (!msg[0])
			hs_snprintf(msg, msglen, "%s", first);
		goto fail_abort;
	}
	for (struct hs_dev *d = hs_dev_walk(core, NULL); d;
	     d = hs_dev_walk(core, d))
		if (is_live(d) && moved(core, d) && d->drv)
			n++;
	if (n) {
		rb->nalloc = n;
		rb->stopped = hs_zalloc(core, n * sizeof(void *));
		rb->quiet = hs_zalloc(core, n * sizeof(bool));
		if (!rb->stopped || !rb->quiet) {
			rc = -HS_ENOMEM;
			goto fail_abort;
		}
	}
	{
		size_t used = 0, nm = 0, nw = 0;
		char list[128] = "";

		for (struct hs_dev *d = hs_dev_walk(core, NULL); d;
		     d = hs_dev_walk(core, d)) {
			if (!is_live(d))
				continue;
			if (moved(core, d)) {
				char b[16];

				nm++;
				if (d->drv)
					rb->stopped[rb->nstopped++] = d;
				fmt_bdf(b, sizeof(b), d);
				hs_snprintf(list + used, sizeof(list) - used,
					    "%s%s", used ? ", " : "", b);
				used = hs_strlen(list);
			} else if (windows_changed(core, d)) {
				nw++;
			}
		}
		if (nm)
			hs_snprintf(rb->summary, sizeof(rb->summary),
				    "moved %zu device%s (%s), %zu window%s "
				    "changed", nm, nm == 1 ? "" : "s", list,
				    nw, nw == 1 ? "" : "s");
		else
			hs_snprintf(rb->summary, sizeof(rb->summary),
				    "nothing moved, %zu window%s changed", nw,
				    nw == 1 ? "" : "s");
	}
	hs_txn_abort(core);
	if ((rc = ask_and_stop(rb, msg, msglen)))
		goto fail_free;
	return 0;

fail_abort:
	hs_txn_abort(core);
fail_free:
	rb_free(rb);
	return rc;
}

/* ---- rebalance now -------------------------------------------------------- */

struct now_run {
	struct hs_core *core;
	hs_done_fn done;
	void *arg;
	struct hs_dev *next;      /* the walk goes on after this one */
	unsigned restored, failed;
	char first_fail[160];
};

static bool eligible(struct hs_dev *d)
{
	char why[8];

	if (!(d->flags & DEV_HOTPLUG) || !is_live(d) || d->child)
		return false;
	for (enum hs_res r = HS_RES_IO; r < HS_RES_COUNT; r++)
		if (short_of_reservation(d, r, why, sizeof(why)))
			return true;
	return false;
}

static void now_step(struct now_run *nr);

static void now_one_done(void *arg, int rc, const char *msg)
{
	struct now_run *nr = arg;

	if (rc == 0) {
		nr->restored++;
	} else {
		nr->failed++;
		if (!nr->first_fail[0])
			hs_snprintf(nr->first_fail, sizeof(nr->first_fail),
				    "%s", msg ? msg : "");
	}
	now_step(nr);
}

/* Slots one after the other, each its own rebalance. */
static void now_step(struct now_run *nr)
{
	struct hs_core *core = nr->core;
	struct hs_dev *d = nr->next;
	char msg[320];

	for (d = d ? hs_dev_walk(core, d) : hs_dev_walk(core, NULL); d;
	     d = hs_dev_walk(core, d)) {
		int rc;

		if (!eligible(d))
			continue;
		nr->next = d;
		msg[0] = '\0';
		rc = start(core, d, HS_SLOT_ALL, true, now_one_done, nr, msg,
			   sizeof(msg));
		if (rc == 0)
			return; /* now_one_done goes on */
		nr->failed++;
		if (!nr->first_fail[0]) {
			char b[16];

			fmt_bdf(b, sizeof(b), d);
			hs_snprintf(nr->first_fail, sizeof(nr->first_fail),
				    "%s: %s", b, msg);
		}
	}
	hs_snprintf(msg, sizeof(msg), "%u slot%s got %s reservation back, "
		    "%u did not%s%s", nr->restored,
		    nr->restored == 1 ? "" : "s",
		    nr->restored == 1 ? "its" : "their", nr->failed,
		    nr->failed ? ": " : "", nr->first_fail);
	{
		hs_done_fn done = nr->done;
		void *arg = nr->arg;

		hs_free(core, nr, sizeof(*nr));
		if (done)
			done(arg, 0, msg);
	}
}

int hs_rebalance_run(struct hs_core *core, hs_done_fn done, void *arg)
{
	struct now_run *nr;

	if (!core->rebalancing && (core->in_txn || core->removing)) {
		/* A writer's transaction or a removal in progress: the
		 * rebalance waits for it (seeds/002) and runs from the
		 * queue when it ends (hs_run_pending_adds). */
		if (hs_pending_queue(core, PENDING_REBALANCE, NULL, 0, done,
				     arg)) {
			if (done)
				done(arg, -HS_ENOMEM, "out of memory");
			return -HS_ENOMEM;
		}
		return 0;
	}
	if (core->rebalancing) {
		if (done)
			done(arg, -HS_EBUSY, "another rebalance is in "
			     "progress");
		return -HS_EBUSY;
	}
	nr = hs_zalloc(core, sizeof(*nr));
	if (!nr) {
		if (done)
			done(arg, -HS_ENOMEM, "out of memory");
		return -HS_ENOMEM;
	}
	nr->core = core;
	nr->done = done;
	nr->arg = arg;
	now_step(nr);
	return 0;
}

/* ---- bus numbers ------------------------------------------------------------ */

/* A function below bridge x may not change bus number: why, and which
 * (*who); NULL when all may (hs_busnr_plan asks). */
static const char *renumber_blocker(struct hs_core *core, struct hs_dev *x,
				    struct hs_dev **who)
{
	const char *why;

	*who = x;
	if (hs_removal_pending(core, x))
		return "a removal is in progress there";
	for (struct hs_dev *d = hs_dev_walk_under(x, NULL); d;
	     d = hs_dev_walk_under(x, d))
		if (is_live(d) && (why = keeps(core, d, false, true))) {
			*who = d;
			return why;
		}
	return NULL;
}

int hs_scan_slot_buses(struct hs_core *core, struct hs_dev *br, int devnum,
		       bool renumber_running, struct hs_txn_mark *after,
		       struct hs_add_result *res, char *msg, size_t msglen)
{
	struct hs_txn_mark m = hs_txn_mark(core);
	char b[16];
	int rc;

	res->bus_short = res->bus_move = 0;
	rc = hs_scan_slot(core, br, devnum, &res->bus_short, msg, msglen);
	/* Bridges below a bridge that found no number were not seen yet:
	 * a few rounds at most. */
	for (int round = 0; round < 8 && rc == -HS_ENOSPC && res->bus_short;
	     round++) {
		struct hs_busplan bp;
		unsigned need = res->bus_short;

		/* Forget the partial scan, make room, scan again. */
		hs_txn_rollback_to(core, m);
		if ((rc = hs_busnr_plan(core, br, need, renumber_blocker, &bp,
					 msg, msglen)))
			return rc;
		if (bp.nrun && !renumber_running) {
			/* Their drivers stop first: hs_rebalance_bus_add. */
			fmt_bdf(b, sizeof(b), bp.mv[0]);
			hs_snprintf(msg, msglen, "bus numbers: need %u more; %u "
				    "running device%s below %s would be "
				    "renumbered, which needs their drivers "
				    "stopped", need, bp.nrun,
				    bp.nrun == 1 ? "" : "s", b);
			res->bus_move = need;
			return -HS_ENOSPC;
		}
		if ((rc = hs_busnr_apply(core, br, &bp, msg, msglen)))
			return rc;
		fmt_bdf(b, sizeof(b), br);
		hs_log(core->plat, HS_LOG_INFO, "%s: bus numbers %u-%u (%u more, "
		       "%u bridge%s renumbered)", b, bp.cur.first, bp.new_last,
		       need, bp.nmv, bp.nmv == 1 ? "" : "s");
		m = hs_txn_mark(core);
		rc = hs_scan_slot(core, br, devnum, &res->bus_short, msg,
				  msglen);
	}
	if (after)
		*after = m;
	return rc;
}

/*
 * Renumbering functions that run: the same query-stop / stop / start as
 * moving them (seeds/001 model 1), since a bus number is part of their
 * address.  On success the card's hot-add starts over in the grown
 * range.
 */
int hs_rebalance_bus_add(struct hs_core *core, struct hs_dev *br, int devnum,
			 unsigned need, hs_done_fn done, void *arg, char *msg,
			 size_t msglen)
{
	struct rebalance *rb;
	struct hs_busplan bp;
	size_t used = 0;
	char list[128] = "", b[16];
	int rc;

	if (core->rebalancing || core->in_txn)
		return -HS_EBUSY;
	if ((rc = hs_busnr_plan(core, br, need, renumber_blocker, &bp,
					 msg, msglen)))
		return rc;
	rb = hs_zalloc(core, sizeof(*rb));
	if (!rb)
		return -HS_ENOMEM;
	rb->core = core;
	rb->br = br;
	rb->devnum = devnum;
	rb->bus_need = need;
	rb->done = done;
	rb->arg = arg;
	hs_timer_init(&rb->poll, stop_poll, rb);
	if (bp.nrun) {
		rb->nalloc = bp.nrun;
		rb->stopped = hs_zalloc(core, bp.nrun * sizeof(void *));
		rb->quiet = hs_zalloc(core, bp.nrun * sizeof(bool));
		if (!rb->stopped || !rb->quiet) {
			rc = -HS_ENOMEM;
			goto fail_free;
		}
	}
	for (unsigned i = 0; i < bp.nmv; i++)
		for (struct hs_dev *d = hs_dev_walk_under(bp.mv[i], NULL); d;
		     d = hs_dev_walk_under(bp.mv[i], d)) {
			if (!is_live(d))
				continue;
			/* A controller's driver goes on (keeps() saw it
			 * idle); every other driver here can move. */
			if (d->drv && !d->services && !d->bridge &&
			    rb->nstopped < rb->nalloc)
				rb->stopped[rb->nstopped++] = d;
			fmt_bdf(b, sizeof(b), d);
			hs_snprintf(list + used, sizeof(list) - used, "%s%s",
				    used ? ", " : "", b);
			used = hs_strlen(list);
		}
	fmt_bdf(b, sizeof(b), br);
	hs_snprintf(rb->summary, sizeof(rb->summary), "%s grows to %u-%u; "
		    "renumbered %u device%s (%s)", b, bp.cur.first, bp.new_last,
		    bp.nrun, bp.nrun == 1 ? "" : "s", list);
	if ((rc = ask_and_stop(rb, msg, msglen)))
		goto fail_free;
	return 0;

fail_free:
	rb_free(rb);
	return rc;
}

/* What the renumbering did, as it was carried out: the slot's range and
 * every running function with its old and new address. */
static void bus_summary(struct rebalance *rb)
{
	struct hs_core *core = rb->core;
	struct hs_busrange r = hs_busnr_of(rb->br);
	unsigned n = 0;
	size_t used;
	char b[16];

	fmt_bdf(b, sizeof(b), rb->br);
	hs_snprintf(rb->summary, sizeof(rb->summary), "%s has %u-%u; "
		    "renumbered", b, r.first, r.last);
	used = hs_strlen(rb->summary);
	for (struct hs_dev *d = hs_dev_walk(core, NULL); d;
	     d = hs_dev_walk(core, d)) {
		const struct txn_res_snap *sn = hs_txn_res_of(core, d);
		char o[16];

		if (!is_live(d) || !hs_busnr_renumbered(core, d))
			continue;
		hs_snprintf(o, sizeof(o), "%02x:%02x.%u", HS_BDF_BUS(sn->bdf),
			    HS_BDF_DEV(sn->bdf), HS_BDF_FN(sn->bdf));
		fmt_bdf(b, sizeof(b), d);
		hs_snprintf(rb->summary + used, sizeof(rb->summary) - used,
			    "%s %s -> %s", n ? "," : "", o, b);
		used = hs_strlen(rb->summary);
		n++;
	}
	if (!n)
		hs_snprintf(rb->summary + used, sizeof(rb->summary) - used,
			    " nothing running");
}

/* Step 3 for bus numbers, in the open transaction: the running devices
 * in the way renumbered (their drivers are stopped), the card scanned,
 * placed and bound.  A card that also needs addresses moved keeps the
 * renumbering only (*refit): its hot-add then starts over and rebalances
 * addresses as its own operation. */
static int apply_bus_add(struct rebalance *rb, char *msg, size_t msglen)
{
	struct hs_core *core = rb->core;
	struct hs_dev *br = rb->br;
	struct hs_add_result res = { 0, 0, 0 };
	struct hs_txn_mark m;
	int rc;

	if ((rc = hs_scan_slot_buses(core, br, rb->devnum, true, &m, &res, msg,
				     msglen)))
		return rc;
	/* A later round of the scan (a bridge behind a bridge on the card)
	 * may renumber devices the first plan did not see: they are
	 * stopped too, and the whole step is tried again. */
	rb->nmore = 0;
	for (struct hs_dev *d = hs_dev_walk(core, NULL); d;
	     d = hs_dev_walk(core, d)) {
		bool ok = !d->drv || !is_live(d) || !hs_busnr_renumbered(core, d) ||
			  d->services || d->bridge;

		for (size_t j = 0; j < rb->nstopped && !ok; j++)
			ok = rb->stopped[j] == d;
		if (!ok && rb->nmore < MAX_MORE)
			rb->more[rb->nmore++] = d;
		else if (!ok) {
			hs_snprintf(msg, msglen, "bus numbers: too many "
				    "devices to renumber");
			return -HS_ENOSPC;
		}
	}
	if (rb->nmore)
		return -HS_EAGAIN;
	bus_summary(rb);
	rc = hs_assign_hot_add(core, br, 0, &res.kinds, msg, msglen);
	if (rc == -HS_ENOSPC && res.kinds) {
		hs_txn_rollback_to(core, m);
		rb->refit = true;
		return 0;
	}
	if (rc || (rc = verify_written(core, msg, msglen)))
		return rc;
	return hs_bind_new(core, br, msg, msglen);
}
