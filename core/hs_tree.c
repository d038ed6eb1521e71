/*
 * hs_tree.c - the core object's lowest layer: memory through the
 * platform allocator, the device tree and its accessors, what readers
 * may see (committed devices only), and event delivery.
 *
 * Owns: linking, walking and freeing device records, the public
 * hs_dev_* accessors and event subscription.  Calls nothing above it;
 * the slot a device sits in comes through the slots' registered upcall
 * (docs/core.md, layers).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hs_tree.h"

/* ---- memory ----------------------------------------------------------- */

int hs_pending_queue(struct hs_core *core, enum pending_kind kind,
		     struct hs_dev *bridge, int devnum, hs_done_fn done,
		     void *arg)
{
	struct pending_add *pa = hs_zalloc(core, sizeof(*pa)), **pp;

	if (!pa)
		return -HS_ENOMEM;
	pa->kind = kind;
	pa->bridge = bridge;
	pa->devnum = devnum;
	pa->done = done;
	pa->arg = arg;
	for (pp = &core->adds; *pp; pp = &(*pp)->next)
		;
	*pp = pa;
	return 0;
}

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
	dev->core->ndevs++;
}

void hs_dev_unlink(struct hs_core *core, struct hs_dev *dev)
{
	struct hs_dev **pp = dev->parent ? &dev->parent->child : &core->roots;

	for (; *pp; pp = &(*pp)->sibling)
		if (*pp == dev) {
			*pp = dev->sibling;
			core->ndevs--;
			break;
		}
	dev->sibling = NULL;
}

void hs_dev_free(struct hs_dev *dev)
{
	hs_free(dev->core, dev, sizeof(*dev));
}

/* (top NULL: the whole tree, once past its first device.) */
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

/* One config read through the platform; not inline, so that each of
 * the core's many reads is one call (issue #18: size). */
int hs_rd(struct hs_core *core, hs_bdf_t bdf, uint16_t off, unsigned w,
	  uint32_t *v)
{
	return core->plat->ops->cfg_read(core->plat->ctx, bdf, off, w, v);
}

bool hs_dev_ancestor_or_self(const struct hs_dev *a, const struct hs_dev *d)
{
	for (; d; d = d->parent)
		if (d == a)
			return true;
	return false;
}

struct hs_dev *hs_dev_walk(struct hs_core *core, struct hs_dev *prev)
{
	/* After the first, the walk under no top: up to the roots. */
	return prev ? hs_dev_walk_under(NULL, prev) : core->roots;
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
	/* The ones the scan kept (hs_scan.c), by ID; the rest from the
	 * card. */
	static const uint8_t kept[6] = { 0x10, 0x05, 0x11, 0x06, 0x0c, 0x09 };
	const uint16_t have[6] = { d->cap_pcie, d->cap_msi, d->cap_msix,
				   d->cap_hs, d->cap_shpc, d->cap_vndr };
	uint16_t at = 0;
	unsigned i = 0;

	while (i < 6 && kept[i] != id)
		i++;
	if (i < 6)
		at = have[i];
	else if (hs_cfg_find_cap(d->core->plat, d->bdf, id, &at))
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

int hs_dev_reservation(const struct hs_dev *d, struct hs_reserve *out)
{
	if (!(d->flags & DEV_HOTPLUG))
		return -HS_ENOENT;
	*out = d->resv;
	return 0;
}

const char *hs_res_kind_name(enum hs_res kind)
{
	static const char names[HS_RES_COUNT][5] = {
		"bus", "io", "mem", "pref",
	};

	return (unsigned)kind < HS_RES_COUNT ? names[kind] : "?";
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
			int phys = d->core->up.slot_phys_at
					   ? d->core->up.slot_phys_at(
						     p, HS_BDF_DEV(top->bdf))
					   : -1;

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
	const struct hs_platform *p = d->core->plat;
	uint16_t off;
	uint32_t lo, hi;
	int rc;

	/* PCIe Base 7.9.3: the 64-bit number follows the header. */
	if ((rc = hs_dev_find_ext_cap(d, 0x0003, &off)))
		return rc;  /* gone, or no serial number */
	if (hs_cfg_read32(p, d->bdf, (uint16_t)(off + 4), &lo) ||
	    hs_cfg_read32(p, d->bdf, (uint16_t)(off + 8), &hi))
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
