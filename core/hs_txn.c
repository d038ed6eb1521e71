/*
 * hs_txn.c - the transactional resource database.
 *
 * Owns: begin / commit / abort of the one writer's transaction (seeds/002:
 * cm_begin_trans / cm_end_trans).  Every change a hot-add or hot-remove
 * makes is recorded before it is made: config register writes (with the
 * value they replaced), devices linked into or marked out of the tree,
 * snapshots of device records whose resources change, driver and port
 * service bindings, MSI vectors.  Readers see committed state only
 * (hs_dev_visible), and events are held until commit.  Abort undoes the
 * log backwards, so the device tree, the allocations and the hardware
 * registers end exactly as they were.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hs_tree.h"
#include "hs_txn.h"

static int resize_log(struct hs_core *core, size_t want);

/* A slot in the log, or NULL: out of memory (sticky error set).  Only
 * called with a transaction open. */
static struct txn_entry *push(struct hs_core *core, enum txn_kind kind,
			      struct hs_dev *dev)
{
	struct txn_entry *e;

	if (core->txn.n == core->txn.cap &&
	    resize_log(core, core->txn.cap ? 2 * core->txn.cap : 64)) {
		core->txn.error = -HS_ENOMEM;
		return NULL;
	}
	e = &core->txn.log[core->txn.n++];
	*e = (struct txn_entry){ .kind = kind, .dev = dev };
	return e;
}

/* ---- queued writers (hotswap/txn.h) ------------------------------------ */

/* The queue's continuation: begin the next writer's transaction and hand
 * it over, as long as none is open (a writer may keep its own open across
 * asynchronous work; its end arms this again). */
void hs_txn_run_writers(void *arg)
{
	struct hs_core *core = arg;

	while (!core->in_txn && core->txq) {
		struct txn_wait *w = core->txq;
		int rc;

		core->txq = w->next;
		if (!core->txq)
			core->txq_tail = &core->txq;
		rc = hs_txn_begin(core, w->what);
		w->fn(w->arg, core, rc);
		hs_free(core, w, sizeof(*w));
	}
	/* Then hot-adds that waited for the transaction (hs_add.c). */
	if (!core->in_txn && core->adds)
		core->up.run_pending_adds(core, NULL);
}

/* A transaction ended: the next writer starts from the timer, not from
 * inside whatever flow just committed (no reentrancy, no spin). */
static void next_writer(struct hs_core *core)
{
	if ((core->txq || core->adds) && !hs_timer_armed(&core->txq_tm))
		hs_timer_arm(&core->timers, &core->txq_tm, 0);
}

void hs_txn_queue_flush(struct hs_core *core)
{
	hs_timer_cancel(&core->timers, &core->txq_tm);
	while (core->txq) {
		struct txn_wait *w = core->txq;

		core->txq = w->next;
		w->fn(w->arg, core, -HS_ECANCELED);
		hs_free(core, w, sizeof(*w));
	}
	core->txq_tail = &core->txq;
}

int hs_core_txn_begin(struct hs_core *core, const char *what, hs_txn_fn fn,
		      void *arg)
{
	struct txn_wait *w;

	if (!fn)
		return -HS_EINVAL;
	if (!core->in_txn && !core->txq) {
		fn(arg, core, hs_txn_begin(core, what));
		return 0;
	}
	w = hs_zalloc(core, sizeof(*w));
	if (!w)
		return -HS_ENOMEM;
	w->what = what;
	w->fn = fn;
	w->arg = arg;
	*core->txq_tail = w;
	core->txq_tail = &w->next;
	if (!core->in_txn)
		next_writer(core);
	return 1;
}

int hs_core_txn_commit(struct hs_core *core)
{
	return hs_txn_commit(core);
}

void hs_core_txn_abort(struct hs_core *core)
{
	hs_txn_abort(core);
}

int hs_core_txn_record(struct hs_core *core, void (*undo_fn)(void *arg),
		       void (*commit_fn)(void *arg), void *arg)
{
	struct txn_entry *e;

	if (!core->in_txn)
		return -HS_EINVAL;
	e = push(core, TXN_USER, NULL);
	if (!e)
		return -HS_ENOMEM;
	e->user_undo = undo_fn;
	e->user_commit = commit_fn;
	e->user_arg = arg;
	return 0;
}

uint64_t hs_core_read_begin(const struct hs_core *core)
{
	return core->generation;
}

int hs_core_read_end(const struct hs_core *core, uint64_t ticket)
{
	return core->generation == ticket ? 0 : -HS_EAGAIN;
}

/* ---- the transaction ----------------------------------------------------- */

int hs_txn_begin(struct hs_core *core, const char *what)
{
	if (core->in_txn)
		return -HS_EBUSY;
	core->in_txn = true;
	core->txn.error = 0;
	core->txn.what = what ? what : "transaction"; /* (for the log) */
	core->txn.n = 0;
	core->txn.nev = 0;
	core->txn.mark = 0;
	return 0;
}

/*
 * The standing room.  A card pulled without warning must leave the tree
 * even when memory is short (its hardware is gone, whatever we record),
 * so its teardown must not allocate: the log and the event array are kept
 * between transactions, at least as big as tearing down every device
 * present takes (per function: its removal and a freed interrupt vector
 * in the log, driver unbound and device removed as events).  A commit
 * that adds devices first grows them; if it cannot, it fails as a whole.
 */
#define SURPRISE_LOG(n) (3 * (n) + 8)
#define SURPRISE_EV(n) (2 * (n) + 4)

/* The log (events: the event array) resized to want elements; -HS_ENOMEM
 * and nothing changed if that failed. */
static int resize(struct hs_core *core, bool events, size_t want)
{
	const struct hs_platform *p = core->plat;
	struct hs_txn *t = &core->txn;
	size_t *cap = events ? &t->cap_ev : &t->cap;
	size_t size = events ? sizeof(*t->events) : sizeof(*t->log);
	void *n = p->ops->realloc(p->ctx, events ? (void *)t->events
						  : (void *)t->log,
				  *cap * size, want * size);

	if (!n && want)
		return -HS_ENOMEM;
	*cap = want;
	if (events)
		t->events = n;
	else
		t->log = n;
	return 0;
}

static int resize_log(struct hs_core *core, size_t want)
{
	return resize(core, false, want);
}

static int resize_events(struct hs_core *core, size_t want)
{
	return resize(core, true, want);
}

/* Room for at least this many log entries and events: 0, or -HS_ENOMEM
 * (the events not grown when the log could not be). */
static int grow(struct hs_core *core, size_t entries, size_t events)
{
	struct hs_txn *t = &core->txn;

	if (t->cap < entries && resize_log(core, entries))
		return -HS_ENOMEM;
	if (t->cap_ev < events && resize_events(core, events))
		return -HS_ENOMEM;
	return 0;
}

/* Grow the room to what the devices that will be in the tree after this
 * transaction need.  Only a change that adds devices needs more than it
 * had: -HS_ENOMEM for one that does and cannot have it. */
static int keep_room(struct hs_core *core)
{
	struct hs_txn *t = &core->txn;
	size_t ndev = core->ndevs;
	bool adds = false;
	int rc;

	/* What stays: the tree's count less what this transaction removes
	 * (its own log, not a walk of the fabric: a change costs the same
	 * whatever the size of the machine). */
	for (size_t i = 0; i < t->n; i++) {
		if (t->log[i].kind == TXN_DEV_REMOVE && ndev)
			ndev--;
		adds |= t->log[i].kind == TXN_DEV_ADD;
	}
	t->keep = SURPRISE_LOG(ndev);
	t->keep_ev = SURPRISE_EV(ndev);
	rc = grow(core, t->keep, t->keep_ev);
	return adds ? rc : 0;
}

/* The snapshots of log entries from on are freed (they end with them). */
static void free_snaps(struct hs_core *core, size_t from)
{
	struct hs_txn *t = &core->txn;

	for (size_t i = from; i < t->n; i++)
		if (t->log[i].kind == TXN_RES)
			hs_free(core, t->log[i].snap, sizeof(*t->log[i].snap));
}

static void release(struct hs_core *core)
{
	struct hs_txn *t = &core->txn;

	free_snaps(core, 0);
	/* Kept for the next one; a log a big rebalance grew goes back to
	 * the standing size (a failed shrink keeps it as it is). */
	if (t->cap > 2 * t->keep + 64)
		(void)resize_log(core, t->keep);
	t->n = t->nev = 0;
	core->in_txn = false;
}

void hs_txn_fini(struct hs_core *core)
{
	(void)resize_log(core, 0);
	(void)resize_events(core, 0);
}

int hs_txn_commit(struct hs_core *core)
{
	struct hs_txn *t = &core->txn;

	if (!core->in_txn)
		return -HS_EINVAL;
	/* Anything that could not be recorded (an event, an undo entry)
	 * makes the whole change fail: nothing half-recorded is committed. */
	if (t->error) {
		int rc = t->error;

		hs_txn_abort(core);
		return rc;
	}
	/* Room to tear down what is now present; only a change that adds
	 * devices needs more than it had. */
	if (keep_room(core)) {
		hs_log(core->plat, HS_LOG_ERR, "%s: no memory for the room "
		       "its removal would need", t->what);
		hs_txn_abort(core);
		return -HS_ENOMEM;
	}
	/* Devices added are committed; devices removed by the transaction
	 * go now, children first (the log holds removals in teardown order
	 * already; a device is added before it can be removed). */
	for (size_t i = 0; i < t->n; i++) {
		struct txn_entry *e = &t->log[i];

		if (e->kind == TXN_DEV_ADD)
			e->dev->flags &= ~DEV_PENDING_ADD;
		if (e->kind == TXN_DEV_REMOVE) {
			hs_dev_unlink(core, e->dev);
			hs_dev_free(e->dev);
		}
	}
	core->generation++;
	/* Records of the public API: kept, their owners told (oldest
	 * first), with the transaction closed as in undo(). */
	core->in_txn = false;
	for (size_t i = 0; i < t->n; i++)
		if (t->log[i].kind == TXN_USER && t->log[i].user_commit)
			t->log[i].user_commit(t->log[i].user_arg);
	core->in_txn = true;
	/* Events only now: nobody hears of a change that might be undone. */
	size_t nev = t->nev;
	struct hs_event *evs = t->events;

	t->events = NULL;
	size_t cap_ev = t->cap_ev;

	t->cap_ev = 0;
	release(core); /* (nev 0 again) */
	/* A subscriber may begin another transaction meanwhile: the array
	 * is its own until the last event is out, then kept again unless
	 * that transaction made one of its own. */
	for (size_t i = 0; i < nev; i++)
		hs_emit(core, &evs[i]);
	if (!t->events && !t->cap_ev) {
		t->events = evs;
		t->cap_ev = cap_ev;
	} else {
		core->plat->ops->realloc(core->plat->ctx, evs,
					 cap_ev * sizeof(*evs), 0);
	}
	next_writer(core);
	return 0;
}

void hs_txn_drop_driver(struct hs_dev *d)
{
	if (d->drv && d->drv->remove)
		d->drv->remove(d, d->drv_priv);
	d->drv = NULL;
	d->drv_priv = NULL;
}

void hs_txn_drop_service(struct hs_dev *d, unsigned idx)
{
	const struct hs_port_service *svc = d->svc[idx];

	if (!svc)
		return;
	if (svc->remove)
		svc->remove(d, d->svc_priv[idx]);
	d->services &= ~svc->type;
	d->svc[idx] = NULL;
}

/* Undo the log from its end down to entry from, newest first.  Called
 * with the transaction closed: what drivers do in their remove callbacks
 * is final, not more log to undo, and the log is not reallocated under
 * the loop. */
static void undo(struct hs_core *core, size_t from)
{
	struct hs_txn *t = &core->txn;
	const struct hs_platform *p = core->plat;

	for (size_t i = t->n; i-- > from;) {
		const struct txn_entry *e = &t->log[i];
		struct hs_dev *d = e->dev;

		switch (e->kind) {
		case TXN_CFG: {
			uint32_t now;

			p->ops->cfg_write(p->ctx, e->bdf, e->off, e->width,
					  e->old);
			/* A write lost here would leave the change half
			 * undone for whoever comes next (a boot retried
			 * after running out of memory): look, and say it
			 * once more. */
			if (hs_rd(core, e->bdf, e->off, e->width,
				  &now) == 0 && now != e->old)
				p->ops->cfg_write(p->ctx, e->bdf, e->off,
						  e->width, e->old);
			break;
		}
		case TXN_DEV_ADD:
			hs_dev_unlink(core, d);
			hs_dev_free(d);
			break;
		case TXN_DEV_REMOVE:
			d->flags &= ~DEV_PENDING_REMOVE;
			break;
		case TXN_BIND:
			hs_txn_drop_driver(d);
			break;
		case TXN_SERVICE:
			hs_txn_drop_service(d, e->svc_index);
			break;
		case TXN_MSI:
			core->up.free_irq(d); /* the driver bus, above */
			break;
		case TXN_RES:
			hs_memcpy(d->bar, e->snap->bar, sizeof(d->bar));
			hs_memcpy(d->win, e->snap->win, sizeof(d->win));
			d->bdf = e->snap->bdf;
			break;
		case TXN_USER:
			if (e->user_undo)
				e->user_undo(e->user_arg);
			break;
		}
	}
}

void hs_txn_abort(struct hs_core *core)
{
	struct hs_txn *t = &core->txn;
	const struct hs_platform *p = core->plat;

	if (!core->in_txn)
		return;
	core->in_txn = false;
	undo(core, 0);
	hs_log(p, HS_LOG_NOTICE, "%s rolled back (%zu changes undone)",
	       t->what, t->n);
	release(core);
	next_writer(core);
}

int hs_txn_cfg_write(struct hs_core *core, hs_bdf_t bdf, uint16_t off,
		     unsigned width, uint32_t val)
{
	uint32_t old = 0;
	int rc;

	/* The value it replaces, for the undo log (none outside one). */
	if (core->in_txn && (rc = hs_rd(core, bdf, off, width, &old)))
		return rc;
	return hs_txn_cfg_write_old(core, bdf, off, width, old, val);
}

/* The caller read (or wrote) the register a moment ago, in this
 * transaction, and nothing else writes it: the undo log takes that value
 * instead of a read of its own (issue #18: one access per write). */
int hs_txn_cfg_write_old(struct hs_core *core, hs_bdf_t bdf, uint16_t off,
			 unsigned width, uint32_t old, uint32_t val)
{
	const struct hs_platform *p = core->plat;
	struct txn_entry *e;

	if (core->in_txn) {
		e = push(core, TXN_CFG, NULL);
		if (!e)
			return -HS_ENOMEM;
		e->bdf = bdf;
		e->off = off;
		e->width = (uint8_t)width;
		e->old = old;
	}
	return p->ops->cfg_write(p->ctx, bdf, off, width, val);
}

int hs_txn_record(struct hs_core *core, enum txn_kind kind,
		  struct hs_dev *dev, unsigned idx)
{
	struct txn_entry *e;

	if (!core->in_txn)
		return 0;
	e = push(core, kind, dev);
	if (!e)
		return -HS_ENOMEM;
	e->svc_index = idx;
	return 0;
}

int hs_txn_dev_added(struct hs_core *core, struct hs_dev *dev)
{
	int rc = hs_txn_record(core, TXN_DEV_ADD, dev, 0);

	if (!rc && core->in_txn)
		dev->flags |= DEV_PENDING_ADD;
	return rc;
}

int hs_txn_dev_removed(struct hs_core *core, struct hs_dev *dev)
{
	if (!core->in_txn)
		return -HS_EINVAL; /* removal is only ever transactional */
	if (hs_txn_record(core, TXN_DEV_REMOVE, dev, 0))
		return -HS_ENOMEM;
	dev->flags |= DEV_PENDING_REMOVE;
	return 0;
}

/* The first TXN_RES record of dev from log entry from on, or NULL. */
HS_NOINLINE
static struct txn_entry *res_entry(struct hs_core *core,
				   const struct hs_dev *dev, size_t from)
{
	for (size_t i = from; i < core->txn.n; i++)
		if (core->txn.log[i].kind == TXN_RES &&
		    core->txn.log[i].dev == dev)
			return &core->txn.log[i];
	return NULL;
}

int hs_txn_dev_res(struct hs_core *core, struct hs_dev *dev)
{
	struct txn_res_snap *snap;
	struct txn_entry *e;

	if (!core->in_txn)
		return -HS_EINVAL;
	/* One snapshot per device since the latest savepoint (the first
	 * one, hs_txn_res_of, keeps the state at the start). */
	if (res_entry(core, dev, core->txn.mark))
		return 0;
	snap = hs_zalloc(core, sizeof(*snap));
	if (!snap)
		return -HS_ENOMEM;
	e = push(core, TXN_RES, dev);
	if (!e) {
		hs_free(core, snap, sizeof(*snap));
		return -HS_ENOMEM;
	}
	hs_memcpy(snap->bar, dev->bar, sizeof(snap->bar));
	hs_memcpy(snap->win, dev->win, sizeof(snap->win));
	snap->bdf = dev->bdf;
	e->snap = snap;
	return 0;
}

const struct txn_res_snap *hs_txn_res_of(struct hs_core *core,
					 const struct hs_dev *dev)
{
	const struct txn_entry *e;

	if (!core->in_txn)
		return NULL;
	e = res_entry(core, dev, 0);
	return e ? e->snap : NULL;
}

int hs_txn_reserve(struct hs_core *core, size_t entries, size_t events)
{
	struct hs_txn *t = &core->txn;

	if (!core->in_txn)
		return -HS_EINVAL;
	return grow(core, t->n + entries, t->nev + events);
}

int hs_txn_reserve_surprise(struct hs_core *core, size_t n)
{
	return hs_txn_reserve(core, SURPRISE_LOG(n), SURPRISE_EV(n));
}

int hs_txn_event(struct hs_core *core, enum hs_event_type type,
		 struct hs_dev *dev, const char *driver)
{
	struct hs_txn *t = &core->txn;
	struct hs_event ev = {
		.type = type, .bdf = dev->bdf, .vendor = dev->vendor,
		.device = dev->device, .class_code = dev->class_code,
		.slot = hs_dev_slot(dev), .driver = driver,
		.old_bdf = dev->bdf,
	};
	/* A device renumbered in this transaction: where it was. */
	if (type == HS_EV_DEV_MOVED) {
		const struct txn_res_snap *snap = hs_txn_res_of(core, dev);

		if (snap)
			ev.old_bdf = snap->bdf;
	}

	if (!core->in_txn) {
		hs_emit(core, &ev);
		return 0;
	}
	/* A device renumbered or moved twice in one change (bus numbers
	 * grown over several scan rounds) gets one event: where it was at
	 * the start, where it is now.  Its old address names it. */
	if (type == HS_EV_DEV_MOVED || type == HS_EV_WINDOW_CHANGED)
		for (size_t i = 0; i < t->nev; i++)
			if (t->events[i].type == type &&
			    t->events[i].old_bdf == ev.old_bdf) {
				t->events[i] = ev;
				return 0;
			}
	if (t->nev == t->cap_ev &&
	    resize_events(core, t->cap_ev ? 2 * t->cap_ev : 16)) {
		t->error = -HS_ENOMEM;
		return -HS_ENOMEM;
	}
	t->events[t->nev++] = ev;
	return 0;
}

struct hs_txn_mark hs_txn_mark(struct hs_core *core)
{
	struct hs_txn_mark m = { core->txn.n, core->txn.nev };

	core->txn.mark = core->txn.n;
	return m;
}

void hs_txn_rollback_to(struct hs_core *core, struct hs_txn_mark m)
{
	struct hs_txn *t = &core->txn;

	if (!core->in_txn || m.n > t->n)
		return;
	core->in_txn = false;
	undo(core, m.n);
	core->in_txn = true;
	free_snaps(core, m.n);
	t->n = m.n;
	if (t->mark > t->n)
		t->mark = t->n;
	if (m.nev < t->nev)
		t->nev = m.nev;
}

/* Keep dev in the tree, decoding nothing, with its reason; the event
 * goes out with the transaction. */
void hs_dev_isolate(struct hs_dev *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hs_vsnprintf(dev->reason, sizeof(dev->reason), fmt, ap);
	va_end(ap);
	dev->flags |= DEV_ISOLATED;
	hs_log(dev->core->plat, HS_LOG_WARN,
	       "%04x:%pB isolated: %s", HS_BDF_SEG(dev->bdf), &dev->bdf,
	       dev->reason);
	hs_txn_event(dev->core, HS_EV_DEV_ISOLATED, dev, NULL);
}
