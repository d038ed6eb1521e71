/*
 * hs_core.c - the core object, the device tree and its accessors, events,
 * and the hot-add / hot-remove entry points.
 *
 * Owns: core lifecycle, memory through the platform allocator, linking
 * and walking devices, what readers may see (committed devices only),
 * event delivery, and the top-level flows that run the scan, the
 * allocator and driver binding inside one transaction.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hs_internal.h"

/* ---- memory ----------------------------------------------------------- */

void *hs_zalloc(struct hs_core *core, size_t size)
{
	const struct hs_platform *p = core->plat;
	void *m = p->ops->realloc(p->ctx, NULL, 0, size);

	if (m)
		hs_memset(m, 0, size);
	return m;
}

void hs_free(struct hs_core *core, void *m, size_t size)
{
	const struct hs_platform *p = core->plat;

	if (m)
		p->ops->realloc(p->ctx, m, size, 0);
}

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
	hs_rebalance_cancel(core, "the core is shutting down");
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
	core->plat->ops->realloc(core->plat->ctx, core, sizeof(*core), 0);
}

/* ---- the tree ---------------------------------------------------------- */

void hs_dev_link(struct hs_dev *parent, struct hs_dev **roots,
		 struct hs_dev *dev)
{
	struct hs_dev **pp = parent ? &parent->child : roots;

	/* Keep siblings in devfn order: walks and dumps are stable. */
	while (*pp && HS_BDF_DEVFN((*pp)->bdf) < HS_BDF_DEVFN(dev->bdf))
		pp = &(*pp)->sibling;
	dev->parent = parent;
	dev->sibling = *pp;
	*pp = dev;
}

void hs_dev_unlink(struct hs_core *core, struct hs_dev *dev)
{
	struct hs_dev **pp = dev->parent ? &dev->parent->child : &core->roots;

	for (; *pp; pp = &(*pp)->sibling)
		if (*pp == dev) {
			*pp = dev->sibling;
			break;
		}
	dev->sibling = NULL;
}

void hs_dev_free(struct hs_dev *dev)
{
	hs_free(dev->core, dev, sizeof(*dev));
}

struct hs_dev *hs_dev_walk_under(struct hs_dev *top, struct hs_dev *prev)
{
	struct hs_dev *d;

	if (!prev)
		return top->child;
	if (prev->child)
		return prev->child;
	for (d = prev; d && d != top; d = d->parent)
		if (d->sibling)
			return d->sibling;
	return NULL;
}

struct hs_dev *hs_dev_walk(struct hs_core *core, struct hs_dev *prev)
{
	struct hs_dev *d;

	if (!prev)
		return core->roots;
	if (prev->child)
		return prev->child;
	for (d = prev; d; d = d->parent)
		if (d->sibling)
			return d->sibling;
	return NULL;
}

bool hs_dev_visible(const struct hs_dev *dev)
{
	/* Readers see committed state: not what an open transaction added;
	 * still what it is removing. */
	return !(dev->flags & DEV_PENDING_ADD);
}

struct hs_dev *hs_dev_next(struct hs_core *core, struct hs_dev *prev)
{
	struct hs_dev *d = hs_dev_walk(core, prev);

	while (d && !hs_dev_visible(d))
		d = hs_dev_walk(core, d);
	return d;
}

struct hs_dev *hs_dev_find(struct hs_core *core, hs_bdf_t bdf)
{
	for (struct hs_dev *d = hs_dev_next(core, NULL); d;
	     d = hs_dev_next(core, d))
		if (d->bdf == bdf)
			return d;
	return NULL;
}

struct hs_dev *hs_core_slot_bridge(struct hs_core *core, uint16_t phys)
{
	for (struct hs_dev *d = hs_dev_next(core, NULL); d;
	     d = hs_dev_next(core, d))
		if ((d->flags & DEV_HOTPLUG) && d->slot_phys == phys)
			return d;
	return NULL;
}

const struct hs_host_bridge *hs_dev_host(const struct hs_dev *dev)
{
	const struct hs_core *core = dev->core;

	for (unsigned i = 0; i < core->nhosts; i++)
		if (core->host[i].segment == HS_BDF_SEG(dev->bdf))
			return &core->host[i];
	return &core->host[0];
}

/* ---- accessors ------------------------------------------------------- */

hs_bdf_t hs_dev_bdf(const struct hs_dev *d) { return d->bdf; }
uint16_t hs_dev_vendor(const struct hs_dev *d) { return d->vendor; }
uint16_t hs_dev_device(const struct hs_dev *d) { return d->device; }
uint16_t hs_dev_subsys_vendor(const struct hs_dev *d) { return d->ssvid; }
uint16_t hs_dev_subsys(const struct hs_dev *d) { return d->ssid; }
uint32_t hs_dev_class(const struct hs_dev *d) { return d->class_code; }
struct hs_dev *hs_dev_parent(const struct hs_dev *d) { return d->parent; }
bool hs_dev_is_bridge(const struct hs_dev *d) { return d->bridge; }
bool hs_dev_gone(const struct hs_dev *d) { return d->flags & DEV_GONE; }
const struct hs_platform *hs_dev_platform(const struct hs_dev *d)
{
	return d->core->plat;
}
struct hs_core *hs_dev_core(const struct hs_dev *d) { return d->core; }

int hs_dev_find_cap(const struct hs_dev *d, uint8_t id, uint16_t *off)
{
	uint16_t at = id == 0x10 ? d->cap_pcie : id == 0x05 ? d->cap_msi :
		      id == 0x11 ? d->cap_msix : id == 0x06 ? d->cap_hs :
		      id == 0x0c ? d->cap_shpc : id == 0x09 ? d->cap_vndr : 0;

	if (!at && id != 0x10 && id != 0x05 && id != 0x11 && id != 0x06 &&
	    id != 0x0c && id != 0x09 &&
	    hs_cfg_find_cap(d->core->plat, d->bdf, id, &at) != 0)
		return -HS_ENOENT;
	if (!at)
		return -HS_ENOENT;
	*off = at;
	return 0;
}

int hs_dev_find_ext_cap(const struct hs_dev *d, uint16_t id, uint16_t *off)
{
	if (d->flags & DEV_GONE)
		return -HS_ENODEV;
	return hs_cfg_find_ext_cap(d->core->plat, d->bdf, id, off) == 0
		       ? 0 : -HS_ENOENT;
}

int hs_dev_secondary_bus(const struct hs_dev *d, unsigned *bus)
{
	if (!d->bridge || !d->win[HS_RES_BUS].size)
		return -HS_ENOENT;
	*bus = (unsigned)d->win[HS_RES_BUS].base;
	return 0;
}

bool hs_dev_is_hotplug_bridge(const struct hs_dev *d)
{
	return d->flags & DEV_HOTPLUG;
}

int hs_dev_slot(const struct hs_dev *d)
{
	const struct hs_dev *top = d;

	if (d->flags & DEV_HOTPLUG)
		return d->slot_phys;
	for (const struct hs_dev *p = d->parent; p; top = p, p = p->parent)
		if (p->flags & DEV_HOTPLUG) {
			/* On a multi-slot bus the card's device number says
			 * which slot (SHPC, CompactPCI). */
			int phys = hs_slot_phys_at(p, HS_BDF_DEV(top->bdf));

			return phys >= 0 ? phys : p->slot_phys;
		}
	return -1;
}

bool hs_dev_blocked(const struct hs_dev *d)
{
	return d->flags & DEV_BLOCKED;
}

int hs_dev_serial(const struct hs_dev *d, uint64_t *serial)
{
	uint16_t off;
	uint32_t lo, hi;

	if (d->flags & DEV_GONE)
		return -HS_ENODEV;
	/* PCIe Base 7.9.3: the 64-bit number follows the header. */
	if (hs_cfg_find_ext_cap(d->core->plat, d->bdf, 0x0003, &off) ||
	    hs_cfg_read32(d->core->plat, d->bdf, (uint16_t)(off + 4), &lo) ||
	    hs_cfg_read32(d->core->plat, d->bdf, (uint16_t)(off + 8), &hi))
		return -HS_ENOENT;
	*serial = ((uint64_t)hi << 32) | lo;
	return 0;
}

bool hs_dev_isolated(const struct hs_dev *d, const char **reason)
{
	if (reason)
		*reason = d->reason;
	return d->flags & DEV_ISOLATED;
}

const char *hs_dev_driver_name(const struct hs_dev *d)
{
	return d->drv ? d->drv->name : NULL;
}

const struct hs_driver *hs_dev_driver(const struct hs_dev *d)
{
	return d->drv;
}

void *hs_dev_driver_data(const struct hs_dev *d)
{
	return d->drv_priv;
}

int hs_dev_bar(const struct hs_dev *d, int n, struct hs_resource *out)
{
	const struct hs_bar_info *b;

	if (n < 0 || n > 6)
		return -HS_EINVAL;
	b = &d->bar[n];
	if (b->kind == BAR_NONE || !b->assigned)
		return -HS_ENOENT;
	out->kind = b->res;
	out->start = b->addr;
	out->size = b->size;
	out->is64 = b->kind == BAR_MEM64;
	out->prefetch = b->pref;
	return 0;
}

int hs_dev_window(const struct hs_dev *d, enum hs_res kind,
		  struct hs_resource *out)
{
	if (!d->bridge || kind >= HS_RES_COUNT)
		return -HS_EINVAL;
	if (!d->win[kind].size)
		return -HS_ENOENT;
	out->kind = kind;
	out->start = d->win[kind].base;
	out->size = d->win[kind].size;
	out->is64 = kind == HS_RES_PREF && (d->flags & DEV_PREF64);
	out->prefetch = kind == HS_RES_PREF;
	return 0;
}

int hs_dev_irq(const struct hs_dev *d, struct hs_irq *out, unsigned *nvec)
{
	if (d->msi_count) {
		out->kind = HS_IRQ_MSI;
		out->number = d->msi_first;
		*nvec = d->msi_count;
		return 0;
	}
	if (!d->irq_pin)
		return -HS_ENOENT;
	out->kind = HS_IRQ_INTX;
	out->number = d->irq_line;
	*nvec = 1;
	return 0;
}

bool hs_core_in_transaction(const struct hs_core *core)
{
	return core->in_txn;
}

uint64_t hs_core_generation(const struct hs_core *core)
{
	return core->generation;
}

/* ---- events ------------------------------------------------------------ */

int hs_core_subscribe(struct hs_core *core, hs_event_fn fn, void *arg)
{
	if (core->nsubs == HS_MAX_SUBSCRIBERS)
		return -HS_ENOSPC;
	core->subs[core->nsubs].fn = fn;
	core->subs[core->nsubs].arg = arg;
	core->nsubs++;
	return 0;
}

void hs_core_unsubscribe(struct hs_core *core, hs_event_fn fn, void *arg)
{
	for (unsigned i = 0; i < core->nsubs; i++)
		if (core->subs[i].fn == fn && core->subs[i].arg == arg) {
			core->subs[i] = core->subs[--core->nsubs];
			return;
		}
}

void hs_emit(struct hs_core *core, const struct hs_event *ev)
{
	struct hs_event e = *ev;

	e.seq = ++core->event_seq;
	for (unsigned i = 0; i < core->nsubs; i++)
		core->subs[i].fn(core->subs[i].arg, &e);
}

void hs_dev_isolate(struct hs_dev *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hs_vsnprintf(dev->reason, sizeof(dev->reason), fmt, ap);
	va_end(ap);
	dev->flags |= DEV_ISOLATED;
	hs_log(dev->core->plat, HS_LOG_WARN,
	       "%04x:%02x:%02x.%u isolated: %s", HS_BDF_SEG(dev->bdf),
	       HS_BDF_BUS(dev->bdf), HS_BDF_DEV(dev->bdf), HS_BDF_FN(dev->bdf),
	       dev->reason);
	hs_txn_event(dev->core, HS_EV_DEV_ISOLATED, dev, NULL);
}

/* ---- boot -------------------------------------------------------------- */

int hs_core_enumerate(struct hs_core *core)
{
	bool short_of_buses;
	int rc;

	if (core->roots)
		return -HS_EEXIST;
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
			struct bus_alloc ba = { h->bus_first + 1u, h->bus_last,
						false, 0 };

			rc = hs_scan_bus(core, h, NULL, h->bus_first, &ba);
			if (rc)
				goto fail;
			short_of_buses |= ba.failed;
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
	hs_bind_all(core, NULL);
	core->booting = false;
	return hs_txn_commit(core);
fail:
	core->booting = false;
	hs_txn_abort(core);
	return rc;
}

/* ---- waiting adds ------------------------------------------------------- */

int hs_core_hot_add_async(struct hs_core *core, struct hs_dev *br,
			  hs_done_fn done, void *arg)
{
	return hs_core_hot_add_slot_async(core, br, HS_SLOT_ALL, done, arg);
}

int hs_core_hot_add_slot_async(struct hs_core *core, struct hs_dev *br,
			       int devnum, hs_done_fn done, void *arg)
{
	struct pending_add *pa, **pp;
	char msg[320];
	int rc;

	if (!br || (!hs_removal_pending(core, br) && !core->rebalancing)) {
		rc = hs_core_hot_add_slot(core, br, devnum, msg, sizeof(msg));
		/* It does not fit: a new assignment around the slot, under
		 * the rebalancing policy (hs_rebalance.c); done() later.
		 * Bus numbers first: the card is not fully seen before. */
		if (rc == -HS_ENOSPC && (core->add_short || core->bus_move)) {
			int r2 = core->bus_move
				 ? hs_rebalance_bus_add(core, br, devnum,
							core->bus_move, done,
							arg, msg, sizeof(msg))
				 : hs_rebalance_add(core, br, devnum, done,
						    arg, msg, sizeof(msg));

			if (r2 == 0)
				return 0;
			if (r2 != -HS_ENOSPC)
				hs_log(core->plat, HS_LOG_ERR, "rebalance "
				       "below %02x:%02x.%u not started (%d): "
				       "%s", HS_BDF_BUS(br->bdf),
				       HS_BDF_DEV(br->bdf), HS_BDF_FN(br->bdf),
				       r2, msg);
		}
		if (done)
			done(arg, rc, msg);
		return rc;
	}
	pa = hs_zalloc(core, sizeof(*pa));
	if (!pa)
		return -HS_ENOMEM;
	pa->bridge = br;
	pa->devnum = devnum;
	pa->done = done;
	pa->arg = arg;
	for (pp = &core->adds; *pp; pp = &(*pp)->next)
		;
	*pp = pa;
	return 0;
}

void hs_run_pending_adds(struct hs_core *core, struct hs_dev *br)
{
	struct pending_add **pp = &core->adds;

	while (*pp) {
		struct pending_add *pa = *pp;
		char msg[320];
		int rc;

		/* NULL: after a rebalance, whatever no removal holds. */
		if (br ? pa->bridge != br
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

		hs_free(core, pa, sizeof(*pa));
		(void)msg;
		(void)rc;
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
	int rc;

	if (msglen)
		msg[0] = '\0';
	if (!br || !(br->flags & DEV_HOTPLUG) || !hs_dev_visible(br)) {
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
	core->add_short = 0;
	core->bus_move = 0;
	rc = hs_txn_begin(core, "hot-add");
	if (rc) {
		hs_snprintf(msg, msglen, "another change is in progress");
		return rc;
	}
	rc = hs_scan_slot_buses(core, br, devnum, false, NULL, msg, msglen);
	if (rc)
		goto fail;
	rc = hs_assign_hot_add(core, br, 0, msg, msglen);
	if (rc)
		goto fail;
	rc = hs_bind_new(core, br, msg, msglen);
	if (rc)
		goto fail;
	return hs_txn_commit(core);
fail:
	hs_txn_abort(core);
	/* Not yet a failure when a rebalance may still place the card. */
	hs_log(core->plat, rc == -HS_ENOSPC && (core->add_short ||
						 core->bus_move)
			   ? HS_LOG_NOTICE : HS_LOG_ERR,
	       "hot-add below %02x:%02x.%u: %s", HS_BDF_BUS(br->bdf),
	       HS_BDF_DEV(br->bdf), HS_BDF_FN(br->bdf), msg);
	return rc;
}

int hs_scan_slot(struct hs_core *core, struct hs_dev *br, int devnum,
		 char *msg, size_t msglen)
{
	struct bus_alloc ba;
	int rc;

	/* Bus numbers for bridges on the card: the largest free run inside
	 * the slot bridge's own range. */
	rc = hs_free_bus_run(core, br, &ba.next, &ba.limit);
	if (rc) {
		hs_snprintf(msg, msglen, "out of memory");
		return rc;
	}
	ba.failed = false;
	ba.short_by = 0;
	core->scan_top = br;
	core->scan_dev = devnum;
	rc = hs_scan_bus(core, hs_dev_host(br), br,
			 (unsigned)br->win[HS_RES_BUS].base, &ba);
	core->scan_top = NULL;
	if (rc) {
		hs_snprintf(msg, msglen, "scan failed (%d)", rc);
		return rc;
	}
	if (ba.failed) {
		hs_snprintf(msg, msglen,
			    "bus numbers: need %u more, slot bridge has %u-%u "
			    "with none free",
			    ba.short_by,
			    (unsigned)br->win[HS_RES_BUS].base,
			    (unsigned)(br->win[HS_RES_BUS].base +
				       br->win[HS_RES_BUS].size - 1));
		core->bus_short = ba.short_by;
		return -HS_ENOSPC;
	}
	return 0;
}
