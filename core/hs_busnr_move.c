/*
 * hs_busnr_move.c - bus numbers, renumbering: the bus-number module's
 * second file (hs_busnr.h), linked only with the rebalancer, its one
 * user (hs_core_enable_rebalance).
 *
 * Owns: growing a slot bridge's range by the numbers a card lacks: which
 * bridges are in the way, a new home for each inside its parent's range
 * (the range engine's fit search), and the writes that carry the plan
 * out, every register read back.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hs_tree.h"
#include "hs_txn.h"
#include "hs_busnr.h"

static bool is_live(const struct hs_dev *d)
{
	return !(d->flags & (DEV_ISOLATED | DEV_PENDING_REMOVE |
			     DEV_PENDING_ADD | DEV_GONE));
}

static void fmt_bdf(char *buf, size_t len, const struct hs_dev *d)
{
	hs_snprintf(buf, len, "%02x:%02x.%u", HS_BDF_BUS(d->bdf),
		    HS_BDF_DEV(d->bdf), HS_BDF_FN(d->bdf));
}

/* ---- renumbering --------------------------------------------------------- */

static bool overlaps(struct hs_busrange a, struct hs_busrange b)
{
	return a.first <= a.last && b.first <= b.last && a.first <= b.last &&
	       b.first <= a.last;
}

/* Is d at or below mover i or one moved before it? */
static bool under_mover_before(const struct hs_busplan *bp, unsigned i,
			       const struct hs_dev *d)
{
	for (unsigned j = 0; j <= i && j < bp->nmv; j++)
		if (hs_dev_ancestor_or_self(bp->mv[j], d))
			return true;
	return false;
}

static int add_busrange(struct hs_range_set *s, struct hs_busrange r)
{
	return hs_range_add(s, r.first, r.last - r.first + 1);
}

/*
 * A bridge with functions below it may go only if every one of them may
 * change address under the policy: a bus number is part of a function's
 * address (bp->nrun counts them).
 */
int hs_busnr_plan(struct hs_core *core, struct hs_dev *br, unsigned need,
		  hs_busnr_blocked_fn blocked, struct hs_busplan *bp,
		  char *msg, size_t msglen)
{
	const struct hs_host_bridge *h = hs_dev_host(br);
	struct hs_range_set taken;
	char b[16];
	int rc = 0;

	hs_memset(bp, 0, sizeof(*bp));
	bp->cur = hs_busnr_of(br);
	bp->need = need;
	if (bp->cur.first > bp->cur.last || !need)
		return -HS_EINVAL;
	bp->new_last = bp->cur.last + need;
	if (bp->new_last > h->bus_last) {
		hs_snprintf(msg, msglen, "bus numbers: need %u more, and the "
			    "host bridge ends at bus %u", need, h->bus_last);
		return -HS_ENOSPC;
	}
	bp->grow.first = bp->cur.last + 1;
	bp->grow.last = bp->new_last;
	for (struct hs_dev *d = hs_dev_walk(core, NULL); d;
	     d = hs_dev_walk(core, d)) {
		if (!d->bridge || !is_live(d) || hs_dev_ancestor_or_self(d, br) ||
		    hs_dev_ancestor_or_self(br, d) ||
		    !overlaps(hs_busnr_of(d), bp->grow))
			continue;
		if (d->parent && !hs_dev_ancestor_or_self(d->parent, br) &&
		    overlaps(hs_busnr_of(d->parent), bp->grow))
			continue; /* its parent is in the way: handled there */
		fmt_bdf(b, sizeof(b), d);
		if (d->child) {
			struct hs_dev *x = NULL;
			const char *why = blocked(core, d, &x);

			if (why) {
				char xb[16];

				fmt_bdf(xb, sizeof(xb), x);
				hs_snprintf(msg, msglen, "bus numbers: need %u "
					    "more; %u-%u belong to %s, with "
					    "devices below it whose bus numbers "
					    "would change, and %s may not be "
					    "renumbered: %s", need,
					    bp->grow.first, bp->grow.last, b,
					    xb, why);
				return -HS_ENOSPC;
			}
			for (struct hs_dev *f = hs_dev_walk_under(d, NULL); f;
			     f = hs_dev_walk_under(d, f))
				bp->nrun += is_live(f);
		}
		if (bp->nmv == HS_BUSNR_MAX_MOVED) {
			hs_snprintf(msg, msglen, "bus numbers: need %u more; "
				    "too many bridges in the way", need);
			return -HS_ENOSPC;
		}
		bp->mv[bp->nmv++] = d;
	}
	/* A new home for each, inside its parent's range once grown: the
	 * lowest run of its size that nothing taken overlaps, found by the
	 * range engine like every other placement. */
	hs_range_set_init(&taken, core->plat);
	for (unsigned i = 0; i < bp->nmv && !rc; i++) {
		struct hs_dev *x = bp->mv[i], *p = x->parent;
		struct hs_range in = hs_busnr_after_first(
			p ? p->win[HS_RES_BUS] : hs_busnr_host(h));
		uint64_t size = x->win[HS_RES_BUS].size;
		struct hs_fit f;

		if (p && hs_dev_ancestor_or_self(p, br) &&
		    in.base + in.size <= bp->new_last)
			in.size = bp->new_last + 1 - in.base;
		/* Bridges below x go with it, and those below a mover
		 * before it have gone (their new homes are taken below); a
		 * later mover is still where it is when x moves. */
		hs_range_set_clear(&taken);
		rc = add_busrange(&taken, bp->grow);
		if (!rc)
			rc = add_busrange(&taken, bp->cur);
		for (struct hs_dev *d = hs_dev_walk(core, NULL); d && !rc;
		     d = hs_dev_walk(core, d))
			if (d->bridge && is_live(d) &&
			    !under_mover_before(bp, i, d) &&
			    !hs_dev_ancestor_or_self(d, br))
				rc = hs_range_add(&taken,
						  d->win[HS_RES_BUS].base,
						  d->win[HS_RES_BUS].size);
		for (unsigned j = 0; j < i && !rc; j++)
			rc = add_busrange(&taken, bp->to[j]);
		if (rc) {
			hs_snprintf(msg, msglen, "bus numbers: out of memory");
			break;
		}
		if (!hs_range_fit(&taken, in, size, 1, 0, &f)) {
			fmt_bdf(b, sizeof(b), x);
			hs_snprintf(msg, msglen, "bus numbers: need %u more; no "
				    "free numbers to move %s to", need, b);
			rc = -HS_ENOSPC;
			break;
		}
		bp->to[i].first = (unsigned)f.at;
		bp->to[i].last = (unsigned)(f.at + size - 1);
	}
	hs_range_set_fini(&taken);
	return rc;
}

static int write_range(struct hs_core *core, struct hs_dev *x,
		       struct hs_busrange to)
{
	int rc;

	/* Subordinate first: the range never covers what it did not. */
	if ((rc = hs_txn_dev_res(core, x)) ||
	    (rc = hs_txn_cfg_write(core, x->bdf, PCI_SUBORDINATE, 1,
				   to.last)) ||
	    (rc = hs_txn_cfg_write(core, x->bdf, PCI_SECONDARY, 1,
				   to.first)) ||
	    (rc = hs_txn_cfg_write(core, x->bdf, PCI_SUBORDINATE, 1, to.last)))
		return rc;
	hs_busnr_set(x, to.first, to.last);
	return 0;
}

/*
 * The bridges in the way take their new ranges (the functions below them
 * their new bus numbers, parents before children so each is reached
 * where it now is), then br and its ancestors grow.
 */
int hs_busnr_apply(struct hs_core *core, struct hs_dev *br,
		   const struct hs_busplan *bp, char *msg, size_t msglen)
{
	char b[16];
	int rc = 0;

	for (unsigned i = 0; i < bp->nmv; i++) {
		struct hs_dev *x = bp->mv[i];
		unsigned delta = bp->to[i].first - hs_busnr_of(x).first;

		if ((rc = write_range(core, x, bp->to[i])) ||
		    (rc = hs_txn_event(core, HS_EV_WINDOW_CHANGED, x, NULL)))
			goto fail;
		for (struct hs_dev *d = hs_dev_walk_under(x, NULL); d;
		     d = hs_dev_walk_under(x, d)) {
			struct hs_busrange r = hs_busnr_of(d);

			if ((rc = hs_txn_dev_res(core, d)))
				goto fail;
			d->bdf = HS_BDF(HS_BDF_SEG(d->bdf),
					(HS_BDF_BUS(d->bdf) + delta) & 0xff,
					HS_BDF_DEV(d->bdf), HS_BDF_FN(d->bdf));
			if (d->bridge &&
			    (rc = hs_txn_cfg_write(core, d->bdf, PCI_PRIMARY,
						   1,
						   hs_busnr_of(d->parent).first)))
				goto fail;
			if (d->bridge && r.first <= r.last) {
				r.first += delta;
				r.last += delta;
				if ((rc = write_range(core, d, r)))
					goto fail;
			}
			if (is_live(d) &&
			    (rc = hs_txn_event(core, HS_EV_DEV_MOVED, d,
					       d->drv ? d->drv->name : NULL)))
				goto fail;
		}
	}
	for (struct hs_dev *a = br; a; a = a->parent) {
		struct hs_busrange r = hs_busnr_of(a);

		if (r.last >= bp->new_last)
			break;
		if ((rc = hs_txn_dev_res(core, a)) ||
		    (rc = hs_txn_cfg_write(core, a->bdf, PCI_SUBORDINATE, 1,
					   bp->new_last)))
			goto fail;
		hs_busnr_set(a, r.first, bp->new_last);
		if ((rc = hs_txn_event(core, HS_EV_WINDOW_CHANGED, a, NULL)))
			goto fail;
	}
	/* Read back: a bridge that did not take a number would forward
	 * configuration cycles nobody expects, and a function must answer
	 * where its record now says it is. */
	for (struct hs_dev *d = hs_dev_walk(core, NULL); d;
	     d = hs_dev_walk(core, d)) {
		struct hs_busrange r = hs_busnr_of(d);
		uint32_t sec = 0, sub = 0, id = 0;
		bool bad;

		if (!hs_txn_res_of(core, d))
			continue;
		if (d->bridge && r.first <= r.last)
			bad = hs_rd(core, d->bdf, PCI_SECONDARY, 1, &sec) ||
			      hs_rd(core, d->bdf, PCI_SUBORDINATE, 1, &sub) ||
			      sec != r.first || sub != r.last;
		else
			bad = hs_rd(core, d->bdf, 0, 4, &id) ||
			      id != ((uint32_t)d->device << 16 | d->vendor);
		if (bad) {
			fmt_bdf(b, sizeof(b), d);
			hs_snprintf(msg, msglen, "bus numbers: %s does not %s",
				    b, d->bridge ? "hold the numbers written "
						   "to it"
						 : "answer at its new number");
			return -HS_EIO;
		}
	}
	return 0;
fail:
	hs_snprintf(msg, msglen, "bus numbers: %s (%d)",
		    rc == -HS_ENOMEM ? "out of memory" : "reprogramming failed",
		    rc);
	return rc;
}

bool hs_busnr_renumbered(struct hs_core *core, const struct hs_dev *d)
{
	const struct txn_res_snap *s = hs_txn_res_of(core, d);

	return s && s->bdf != d->bdf;
}
