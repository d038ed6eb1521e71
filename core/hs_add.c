/*
 * hs_add.c - operations: boot enumeration, hot-add (now or once the
 * removals below the same bridge are done), and the slot scan they share.
 *
 * Owns: the top-level flows that run the scan, the allocator and driver
 * binding inside one transaction, and the queue of waiting hot-adds.
 * When a card does not fit, the rebalancer is asked through its upcalls
 * (it sits above this layer: docs/core.md).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hs_tree.h"
#include "hs_txn.h"
#include "hs_busnr.h"
#include "hs_scan.h"
#include "hs_resource.h"
#include "hs_driver.h"
#include "hs_add.h"

/* ---- boot -------------------------------------------------------------- */

/* A boot that a failed config access spoiled is undone and scanned
 * again, this many times in all. */
#define BOOT_TRIES 3

static int enumerate_once(struct hs_core *core);

int hs_core_enumerate(struct hs_core *core)
{
	int rc;

	if (core->roots)
		return -HS_EEXIST;
	/*
	 * A config access can fail, read garbage or be lost at any point of
	 * the boot (a function still coming out of reset, a transient bus
	 * error); what the core then sees is undone with the rest, and the
	 * whole scan runs again.  Only -HS_EIO and -HS_ENODEV (an access
	 * failed, a device stopped answering) are retried: out of memory
	 * and the rest are answers, not accidents.
	 */
	for (unsigned t = 1;; t++) {
		core->boot_last_try = t == BOOT_TRIES;
		rc = enumerate_once(core);
		if ((rc != -HS_EIO && rc != -HS_ENODEV) || t == BOOT_TRIES)
			break;
		hs_log(core->plat, HS_LOG_WARN, "boot enumeration failed "
		       "(%d): a config access went wrong; scanning again "
		       "(try %u of %u)", rc, t + 1, BOOT_TRIES);
	}
	core->boot_last_try = false;
	return rc;
}

static int enumerate_once(struct hs_core *core)
{
	bool short_of_buses;
	int rc;

	/*
	 * Bus numbers are handed out depth first, so a generous reservation
	 * on an early bridge could starve a bridge found later.  When that
	 * happens the scan is undone and run again with every bus
	 * reservation halved, until nobody goes without.
	 */
	core->max_bus_resv = 0;
	for (core->bus_resv_shift = 0;; core->bus_resv_shift++) {
		rc = hs_txn_begin(core, "boot enumeration");
		if (rc)
			return rc;
		core->booting = true;
		core->boot_vga_seen = false;
		short_of_buses = false;
		for (unsigned i = 0; i < core->nhosts; i++) {
			const struct hs_host_bridge *h = &core->host[i];
			struct hs_busnr ba;

			hs_busnr_boot(&ba, h);
			rc = hs_scan_bus(core, h, NULL, h->bus_first, &ba);
			if (rc)
				goto fail;
			short_of_buses |= ba.short_by != 0;
		}
		/* Retry only while halving still changes something. */
		if (!short_of_buses ||
		    !(core->max_bus_resv >> core->bus_resv_shift))
			break;
		core->booting = false;
		hs_txn_abort(core);
		hs_log(core->plat, HS_LOG_NOTICE,
		       "bus numbers ran out; scanning again with smaller "
		       "hot-plug bus reservations");
	}
	rc = hs_assign_boot(core);
	if (rc)
		goto fail;
	/* Parents come first in the walk: a hot-plug bridge's controller is
	 * bound as soon as the bridge is programmed, so the slots of a
	 * multi-slot bus (SHPC, CompactPCI) exist when the authorization
	 * hook is asked about the cards in them (their slot numbers). */
	for (struct hs_dev *d = hs_dev_walk(core, NULL); d;
	     d = hs_dev_walk(core, d)) {
		if ((rc = hs_program_boot_dev(core, d)))
			goto fail;
		if ((d->flags & DEV_HOTPLUG) && (rc = hs_bind_dev(core, d)))
			goto fail;
	}
	rc = hs_bind_all(core);
	if (rc)
		goto fail;
	core->booting = false;
	return hs_txn_commit(core);
fail:
	core->booting = false;
	hs_txn_abort(core);
	return rc;
}

/* ---- waiting adds ------------------------------------------------------- */

static int hot_add_slot(struct hs_core *core, struct hs_dev *br, int devnum,
			struct hs_add_result *res, char *msg, size_t msglen);

int hs_core_hot_add_async(struct hs_core *core, struct hs_dev *br,
			  hs_done_fn done, void *arg)
{
	return hs_core_hot_add_slot_async(core, br, HS_SLOT_ALL, done, arg);
}

int hs_core_hot_add_slot_async(struct hs_core *core, struct hs_dev *br,
			       int devnum, hs_done_fn done, void *arg)
{
	char msg[320];
	int rc;

	/* A writer holding the transaction (a driver or the service, over
	 * asynchronous work: hotswap/txn.h) is waited for, as a removal or
	 * a rebalance is (seeds/002: a transaction that finds another in
	 * progress waits for it); its end runs the adds waiting here. */
	if (!br || (!hs_removal_pending(core, br) && !core->rebalancing &&
		    !core->in_txn)) {
		struct hs_add_result res;

		rc = hot_add_slot(core, br, devnum, &res, msg, sizeof(msg));
		/* It does not fit: a new assignment around the slot, under
		 * the rebalancing policy (hs_rebalance.c), told what was
		 * short; done() later. */
		if (rc == -HS_ENOSPC && (res.kinds || res.bus_move) &&
		    core->up.rebalance_add) {
			int r2 = core->up.rebalance_add(core, br, devnum, &res,
							done, arg, msg,
							sizeof(msg));

			if (r2 == 0)
				return 0;
			if (r2 != -HS_ENOSPC)
				hs_log(core->plat, HS_LOG_ERR, "rebalance "
				       "below %pB not started (%d): "
				       "%s", &br->bdf,
				       r2, msg);
		}
		if (done)
			done(arg, rc, msg);
		return rc;
	}
	return hs_pending_queue(core, PENDING_ADD, br, devnum, done, arg);
}

void hs_run_pending_adds(struct hs_core *core, struct hs_dev *br)
{
	struct pending_add **pp = &core->adds;

	while (*pp && !core->in_txn) {
		struct pending_add *pa = *pp;
		char msg[320];
		int rc;

		/* NULL: after a rebalance, whatever no removal holds; a
		 * rebalance (no bridge) waits for every removal. */
		if (!pa->bridge ? core->removing != NULL
		    : br ? pa->bridge != br
			 : hs_removal_pending(core, pa->bridge)) {
			pp = &pa->next;
			continue;
		}
		if (core->rebalancing)
			return; /* the next one waits again */
		*pp = pa->next;
		/* The same path as at first (it may rebalance in turn). */
		struct hs_dev *b = pa->bridge;
		int devnum = pa->devnum;
		hs_done_fn done = pa->done;
		void *arg = pa->arg;
		enum pending_kind kind = pa->kind;

		hs_free(core, pa, sizeof(*pa));
		(void)msg;
		(void)rc;
		if (kind == PENDING_REMOVE)
			hs_core_hot_remove(core, b, devnum, done, arg);
		else if (kind == PENDING_REBALANCE)
			core->up.rebalance_run(core, done, arg);
		else
			hs_core_hot_add_slot_async(core, b, devnum, done, arg);
		pp = &core->adds;
	}
}

/* ---- hot add -------------------------------------------------------------- */

int hs_core_hot_add(struct hs_core *core, struct hs_dev *br, char *msg,
		    size_t msglen)
{
	return hs_core_hot_add_slot(core, br, HS_SLOT_ALL, msg, msglen);
}

int hs_core_hot_add_slot(struct hs_core *core, struct hs_dev *br, int devnum,
			 char *msg, size_t msglen)
{
	struct hs_add_result res;

	return hot_add_slot(core, br, devnum, &res, msg, msglen);
}

/* One attempt; *res says what was short (all zero unless -HS_ENOSPC). */
static int hot_add_slot(struct hs_core *core, struct hs_dev *br, int devnum,
			struct hs_add_result *res, char *msg, size_t msglen)
{
	int rc;

	*res = (struct hs_add_result){ 0 };
	if (msglen)
		msg[0] = '\0';
	/* Not a hot-plug bridge, or one not visible yet (DEV_PENDING_ADD,
	 * hs_dev_visible). */
	if (!br || (br->flags & (DEV_HOTPLUG | DEV_PENDING_ADD)) != DEV_HOTPLUG) {
		hs_snprintf(msg, msglen, "not a hot-plug bridge");
		return -HS_EINVAL;
	}
	if ((br->flags & (DEV_ISOLATED | DEV_GONE)) ||
	    !br->win[HS_RES_BUS].size) {
		hs_snprintf(msg, msglen, "the slot's bridge %s%s",
			    br->flags & DEV_GONE ? "is gone" :
			    br->flags & DEV_ISOLATED ? "is isolated: "
						     : "has no bus number",
			    br->flags & DEV_ISOLATED ? br->reason : "");
		return -HS_ENODEV;
	}
	if (hs_removal_pending(core, br)) {
		hs_snprintf(msg, msglen, "the removal below this bridge is "
			    "still in progress");
		return -HS_EBUSY;
	}
	if (core->rebalancing) {
		hs_snprintf(msg, msglen, "a rebalance is in progress");
		return -HS_EBUSY;
	}
	rc = hs_txn_begin(core, "hot-add");
	if (rc) {
		hs_snprintf(msg, msglen, "another change is in progress");
		return rc;
	}
	/* With rebalancing, a card short of bus numbers may grow the
	 * slot's range; without, the free run below the slot is all. */
	if (core->up.scan_slot_buses)
		rc = core->up.scan_slot_buses(core, br, devnum, false, NULL,
					      res, msg, msglen);
	else
		rc = hs_scan_slot(core, br, devnum, &res->bus_short, msg,
				  msglen);
	if (rc)
		goto fail;
	rc = hs_assign_hot_add(core, br, 0, &res->kinds, msg, msglen);
	if (rc)
		goto fail;
	rc = hs_bind_new(core, br, msg, msglen);
	if (rc)
		goto fail;
	return hs_txn_commit(core);
fail:
	hs_txn_abort(core);
	/* Not yet a failure when a rebalance may still place the card. */
	hs_log(core->plat, rc == -HS_ENOSPC && (res->kinds || res->bus_move)
			   ? HS_LOG_NOTICE : HS_LOG_ERR,
	       "hot-add below %pB: %s", &br->bdf, msg);
	return rc;
}

int hs_scan_slot(struct hs_core *core, struct hs_dev *br, int devnum,
		 unsigned *bus_short, char *msg, size_t msglen)
{
	struct hs_busnr ba;
	int rc;

	*bus_short = 0;
	/* Bus numbers for bridges on the card: the largest free run inside
	 * the slot bridge's own range. */
	rc = hs_busnr_slot(core, br, &ba);
	if (rc) {
		hs_snprintf(msg, msglen, "out of memory");
		return rc;
	}
	core->scan_top = br;
	core->scan_dev = devnum;
	rc = hs_scan_bus(core, hs_dev_host(br), br,
			 (unsigned)br->win[HS_RES_BUS].base, &ba);
	core->scan_top = NULL;
	if (rc) {
		hs_snprintf(msg, msglen, "scan failed (%d)", rc);
		return rc;
	}
	if (ba.short_by) {
		hs_snprintf(msg, msglen,
			    "bus numbers: need %u more, slot bridge has %u-%u "
			    "with none free",
			    ba.short_by,
			    (unsigned)br->win[HS_RES_BUS].base,
			    (unsigned)(br->win[HS_RES_BUS].base +
				       br->win[HS_RES_BUS].size - 1));
		*bus_short = ba.short_by;
		return -HS_ENOSPC;
	}
	return 0;
}
