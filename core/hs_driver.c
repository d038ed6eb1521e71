/*
 * hs_driver.c - the driver-binding bus, PCIe port services, device access
 * for drivers, interrupts, and the removal flows.
 *
 * Owns: matching drivers by id table, probing each device instance on its
 * own (seeds/002's instance independence), the PCIe port bus on which
 * hot-plug, AER and PME services coexist (seeds/003's 2.6.12 change),
 * access helpers that fail fast once a device is gone, INTx swizzle and
 * MSI / MSI-X vectors, and orderly and surprise removal: ask every driver
 * first (query-remove), quiesce with a deadline, then tear down child
 * before parent inside one transaction.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hs_tree.h"
#include "hs_txn.h"
#include "hs_resource.h"
#include "hs_driver.h"

/* ---- registration and matching ------------------------------------------- */

int hs_driver_register(struct hs_core *core, const struct hs_driver *drv)
{
	if (!drv || !drv->name || !drv->ids || !drv->probe)
		return -HS_EINVAL;
	if (core->ndrivers == HS_MAX_DRIVERS)
		return -HS_ENOSPC;
	for (unsigned i = 0; i < core->ndrivers; i++)
		if (core->drivers[i] == drv)
			return -HS_EEXIST;
	core->drivers[core->ndrivers++] = drv;
	return 0;
}

int hs_port_service_register(struct hs_core *core,
			     const struct hs_port_service *svc)
{
	if (!svc || !svc->name || !svc->probe || !svc->type ||
	    (svc->type & (svc->type - 1)))
		return -HS_EINVAL;
	if (core->nservices == HS_MAX_DRIVERS)
		return -HS_ENOSPC;
	core->services[core->nservices++] = svc;
	return 0;
}

HS_NOINLINE
static bool id_match(const struct hs_device_id *id, const struct hs_dev *d)
{
	return (id->vendor == HS_ANY_ID || id->vendor == d->vendor) &&
	       (id->device == HS_ANY_ID || id->device == d->device) &&
	       (id->subsys_vendor == HS_ANY_ID ||
		id->subsys_vendor == d->ssvid) &&
	       (id->subsys == HS_ANY_ID || id->subsys == d->ssid) &&
	       ((d->class_code & id->class_mask) ==
		(id->class_code & id->class_mask));
}

static bool drv_matches(const struct hs_driver *drv, const struct hs_dev *d)
{
	for (const struct hs_device_id *id = drv->ids; id->vendor; id++)
		if (id_match(id, d))
			return true;
	return false;
}

/* ---- the PCIe port bus ----------------------------------------------------- */

static bool is_pcie_port(const struct hs_dev *d)
{
	return d->cap_pcie &&
	       (d->pcie_type == 4 || d->pcie_type == 5 || d->pcie_type == 6);
}

HS_NOINLINE
static unsigned port_capabilities(struct hs_dev *d)
{
	unsigned t = 0;
	uint16_t off;

	if (d->flags & DEV_HOTPLUG)
		t |= HS_PORT_SVC_HOTPLUG;
	/* (d is not gone: bind_one binds no gone device.) */
	if (hs_dev_find_ext_cap(d, 0x0001, &off) == 0 && d->pcie_type == 4)
		t |= HS_PORT_SVC_AER;
	if (d->pcie_type == 4)
		t |= HS_PORT_SVC_PME;
	return t;
}

/*
 * A driver or port service that failed with -HS_EIO at boot (a config
 * access failed or read garbage) while the boot has tries left: the boot
 * fails and scans again (hs_core_enumerate) rather than leave a device
 * without its driver or a port without its slot for good.
 */
static bool boot_retry(const struct hs_core *core, int rc)
{
	return rc == -HS_EIO && core->booting && !core->boot_last_try;
}

static int port_probe(struct hs_dev *d, void **priv)
{
	struct hs_core *core = d->core;
	unsigned caps = port_capabilities(d);
	unsigned n = 0;
	int rc;

	(void)priv;
	for (unsigned i = 0; i < core->nservices && n < HS_MAX_SERVICES; i++) {
		const struct hs_port_service *s = core->services[i];
		void *sp = NULL;

		if (!(s->type & caps) || (d->services & s->type))
			continue;
		rc = s->probe(d, &sp);
		if (rc) {
			hs_log(core->plat, HS_LOG_WARN,
			       "%pB: port service %s failed (%d)",
			       &d->bdf, s->name, rc);
			/* Out of memory is no verdict on the port: a slot
			 * left without its controller would lose its card
			 * unseen (an open MRL cuts power, PCI Hot-Plug 1.1
			 * 2.2.1) while the records stay.  The whole
			 * transaction fails instead and is undone; the
			 * caller may try again.  At boot neither is any
			 * other failure at first (a config access that
			 * failed or read garbage in the controller's
			 * set-up): the boot fails with -HS_EIO and scans
			 * again (hs_core_enumerate).  Only its last try,
			 * and a hot-add, leave the port without that
			 * service, as Linux does. */
			if (rc == -HS_ENOMEM)
				return rc;
			if (boot_retry(core, -HS_EIO))
				return -HS_EIO;
			continue;
		}
		while (d->svc[n])
			n++;
		d->svc[n] = s;
		d->svc_priv[n] = sp;
		d->services |= s->type;
		if ((rc = hs_txn_record(core, TXN_SERVICE, d, n))) {
			hs_txn_drop_service(d, n);
			return rc;
		}
	}
	return 0;
}

static void port_remove(struct hs_dev *d, void *priv)
{
	(void)priv;
	for (unsigned i = 0; i < HS_MAX_SERVICES; i++)
		hs_txn_drop_service(d, i);
	d->services = 0;
}

static const struct hs_device_id port_ids[] = {
	{ HS_ANY_ID, HS_ANY_ID, HS_ANY_ID, HS_ANY_ID, 0x060400, 0xffff00 },
	{ 0 },
};

/* The port bus driver itself: binds to PCIe ports, hosts services. */
static const struct hs_driver port_driver = {
	.name = "pcieport",
	.ids = port_ids,
	.probe = port_probe,
	.remove = port_remove,
};

unsigned hs_dev_port_services(const struct hs_dev *port)
{
	return port->services;
}

/* ---- binding --------------------------------------------------------------- */

/* A driver (or the port bus) for d.  Fails with out of memory, with
 * -HS_EIO while the boot has tries left (boot_retry) and, if strict, with
 * a driver's failure to start (msg says which); otherwise 0, d perhaps
 * left unbound. */
static int bind_one(struct hs_core *core, struct hs_dev *d, bool strict,
		    char *msg, size_t msglen)
{
	int rc;

	if (d->drv || (d->flags & (DEV_ISOLATED | DEV_GONE | DEV_BLOCKED)))
		return 0;
	if (is_pcie_port(d)) {
		rc = hs_txn_record(core, TXN_BIND, d, 0);
		if (rc)
			return rc;
		d->drv = &port_driver;
		rc = port_probe(d, &d->drv_priv);
		if (rc)
			return rc;
		goto bound;
	}
	for (unsigned i = 0; i < core->ndrivers; i++) {
		const struct hs_driver *drv = core->drivers[i];
		void *priv = NULL;

		if (!drv_matches(drv, d))
			continue;
		rc = drv->probe(d, &priv);
		if (rc == -HS_ENODEV)
			continue; /* declined: not one it handles */
		if (rc) {
			hs_log(core->plat, HS_LOG_ERR,
			       "%pB: driver %s probe failed (%d)",
			       &d->bdf, drv->name, rc);
			/* Out of memory says nothing about the device; a
			 * controller driver that did not start would leave
			 * its slots unwatched.  The transaction fails. */
			if (strict || rc == -HS_ENOMEM || boot_retry(core, rc)) {
				hs_snprintf(msg, msglen,
					    "driver %s failed to start on "
					    "%pB (%d)", drv->name,
					    &d->bdf, rc);
				return rc;
			}
			continue;
		}
		d->drv = drv;
		d->drv_priv = priv;
		rc = hs_txn_record(core, TXN_BIND, d, 0);
		if (rc) {
			hs_txn_drop_driver(d);
			return rc;
		}
		goto bound;
	}
	return 0;
bound:
	hs_txn_event(core, HS_EV_DRIVER_BOUND, d, d->drv->name);
	return 0;
}

int hs_bind_dev(struct hs_core *core, struct hs_dev *d)
{
	/* Not strict, bind_one fails only for what fails the boot: out of
	 * memory, or -HS_EIO while the boot has tries left (boot_retry);
	 * any other failure leaves the device unbound and answers 0. */
	return bind_one(core, d, false, NULL, 0);
}

int hs_bind_all(struct hs_core *core)
{
	/* A driver that fails to start leaves its device unbound (records
	 * still true); running out of memory, for the undo log, a driver or
	 * a port's hot-plug service, fails the boot transaction. */
	for (struct hs_dev *d = hs_dev_walk(core, NULL); d;
	     d = hs_dev_walk(core, d)) {
		int rc = hs_bind_dev(core, d);

		if (rc)
			return rc;
	}
	return 0;
}

int hs_bind_new(struct hs_core *core, struct hs_dev *top, char *msg,
		size_t msglen)
{
	for (struct hs_dev *d = hs_dev_walk_under(top, NULL); d;
	     d = hs_dev_walk_under(top, d)) {
		int rc;

		if (!(d->flags & DEV_PENDING_ADD))
			continue;
		rc = bind_one(core, d, true, msg, msglen);
		if (rc) {
			if (msglen && !msg[0])
				hs_snprintf(msg, msglen, "binding failed (%d)",
					    rc);
			return rc;
		}
	}
	return 0;
}

/* Does d's driver refuse to let d go (query-remove)?  NULL if not, else
 * its reason (in why) or "busy" if it gave none. */
HS_NOINLINE
static const char *refusal(struct hs_dev *d, char *why, size_t whylen)
{
	why[0] = '\0';
	if (!d->drv || !d->drv->query_remove ||
	    !d->drv->query_remove(d, d->drv_priv, why, whylen))
		return NULL;
	return why[0] ? why : "busy";
}

int hs_dev_authorize(struct hs_dev *d, char *msg, size_t msglen)
{
	struct hs_core *core = d->core;
	int rc;

	if (msglen)
		msg[0] = '\0';
	if (!(d->flags & DEV_BLOCKED))
		return 0;
	/* (DEV_PENDING_ADD: not visible, hs_dev_visible.) */
	if (d->flags & (DEV_GONE | DEV_ISOLATED | DEV_PENDING_ADD)) {
		hs_snprintf(msg, msglen, "the device is %s",
			    d->flags & DEV_GONE ? "gone" :
			    d->flags & DEV_ISOLATED ? "isolated" :
			    "not configured yet");
		return -HS_ENODEV;
	}
	for (struct hs_dev *p = d->parent; p; p = p->parent)
		if (p->flags & DEV_BLOCKED) {
			hs_snprintf(msg, msglen, "the bridge %pB in "
				    "front of it is blocked: authorize it "
				    "first", &p->bdf);
			return -HS_EPERM;
		}
	rc = hs_txn_begin(core, "authorize");
	if (rc) {
		hs_snprintf(msg, msglen, "another change is in progress");
		return rc;
	}
	d->flags &= ~DEV_BLOCKED;
	if ((rc = hs_enable_decode(core, d)) ||
	    (rc = hs_txn_event(core, HS_EV_DEV_AUTHORIZED, d, NULL)))
		goto undo_flag;
	rc = bind_one(core, d, true, msg, msglen);
	if (rc)
		goto undo_flag;
	return hs_txn_commit(core);
undo_flag:
	if (msglen && !msg[0])
		hs_snprintf(msg, msglen, "enabling the device failed (%d)", rc);
	hs_txn_abort(core);
	d->flags |= DEV_BLOCKED;
	return rc;
}

int hs_dev_deauthorize(struct hs_dev *d, char *msg, size_t msglen)
{
	struct hs_core *core = d->core;
	const char *reason;
	char why[128];
	int rc;

	if (msglen)
		msg[0] = '\0';
	if (d->flags & DEV_BLOCKED)
		return 0;
	if (d->flags & DEV_GONE) {
		reason = "the device is gone";
		rc = -HS_ENODEV;
		goto refuse;
	}
	if (d->bridge) {
		reason = "a bridge forwards for the functions behind it: "
			 "block those instead";
		rc = -HS_EINVAL;
		goto refuse;
	}
	if ((reason = refusal(d, why, sizeof(why)))) {
		hs_snprintf(msg, msglen, "driver %s refuses: %s", d->drv->name,
			    reason);
		return -HS_EBUSY;
	}
	rc = hs_txn_begin(core, "deauthorize");
	if (rc) {
		reason = "another change is in progress";
		goto refuse;
	}
	hs_unbind(core, d);
	/* Decode and bus mastering off: no MMIO reaches it and it can
	 * issue no DMA (PCI Local Bus 6.2.2, Command bits 0-2). */
	hs_disable_dev(core, d);
	d->flags |= DEV_BLOCKED;
	/* The driver is gone already: the block is committed even if its
	 * event could not be queued (the view still says blocked). */
	(void)hs_txn_event(core, HS_EV_DEV_BLOCKED, d, NULL);
	return hs_txn_commit(core);
refuse:
	hs_snprintf(msg, msglen, "%s", reason);
	return rc;
}

void hs_unbind(struct hs_core *core, struct hs_dev *d)
{
	const struct hs_driver *drv = d->drv;

	if (!drv)
		return;
	hs_txn_drop_driver(d);
	hs_txn_event(core, HS_EV_DRIVER_UNBOUND, d, drv->name);
}

/* ---- access for drivers --------------------------------------------------- */

/* Four bytes at off in d's BAR bar, read into *val or written from it:
 * the checks are the same both ways. */
static int bar_access(struct hs_dev *d, int bar, uint64_t off, uint32_t *val,
		      bool write)
{
	const struct hs_platform *p = d->core->plat;
	const struct hs_bar_info *b;
	uint64_t at, v = 0xffffffffu;
	int rc;

	if (d->flags & DEV_GONE)
		return -HS_ENODEV; /* fail fast: nothing is there */
	if (bar < 0 || bar > 5)
		return -HS_EINVAL;
	b = &d->bar[bar];
	if (b->kind == BAR_NONE || !b->assigned || off + 4 > b->size)
		return -HS_EINVAL;
	at = b->addr + off;
	if (b->kind == BAR_IO) {
		uint32_t v32;

		if (write)
			return p->ops->io_write(p->ctx, (uint32_t)at, 4, *val);
		rc = p->ops->io_read(p->ctx, (uint32_t)at, 4, &v32);
		v = v32;
	} else {
		if (write)
			return p->ops->mem_write(p->ctx, at, 4, *val);
		rc = p->ops->mem_read(p->ctx, at, 4, &v);
	}
	*val = (uint32_t)v;
	return rc;
}

int hs_dev_read32(struct hs_dev *d, int bar, uint64_t off, uint32_t *val)
{
	*val = 0xffffffffu;
	return bar_access(d, bar, off, val, false);
}

int hs_dev_write32(struct hs_dev *d, int bar, uint64_t off, uint32_t val)
{
	return bar_access(d, bar, off, &val, true);
}

int hs_dev_cfg_read(struct hs_dev *d, uint16_t off, unsigned width,
		    uint32_t *val)
{
	if (d->flags & DEV_GONE) {
		*val = 0xffffffffu;
		return -HS_ENODEV;
	}
	return hs_rd(d->core, d->bdf, off, width, val);
}

int hs_dev_cfg_write(struct hs_dev *d, uint16_t off, unsigned width,
		     uint32_t val)
{
	if (d->flags & DEV_GONE)
		return -HS_ENODEV;
	return hs_txn_cfg_write(d->core, d->bdf, off, width, val);
}

int hs_dev_set_master(struct hs_dev *d, bool on)
{
	uint32_t cmd;
	int rc;

	if (on && (d->flags & DEV_BLOCKED))
		return -HS_EPERM;   /* not authorized to touch memory */
	rc = hs_dev_cfg_read(d, PCI_COMMAND, 2, &cmd);
	if (rc)
		return rc;
	cmd = (cmd & ~(uint32_t)CMD_MASTER) | (on ? CMD_MASTER : 0);
	return hs_dev_cfg_write(d, PCI_COMMAND, 2, cmd);
}

hs_time_t hs_dev_now(const struct hs_dev *d)
{
	return hs_now(&d->core->timers);
}

void hs_dev_timer_arm(struct hs_dev *d, struct hs_timer *tm, hs_time_t delay)
{
	hs_timer_arm(&d->core->timers, tm, delay);
}

void hs_dev_timer_cancel(struct hs_dev *d, struct hs_timer *tm)
{
	hs_timer_cancel(&d->core->timers, tm);
}

/* ---- interrupts ----------------------------------------------------------- */


/*
 * The Requester ID d's MSI writes carry when they reach the host bridge,
 * which the platform may translate by (an ITS's DeviceID): its own (PCIe
 * Base 2.2.6.2) unless a bridge on the way forwards them as another.  A
 * PCIe-to-PCI bridge (Device/Port Type 0111b) uses its secondary bus
 * number with device and function 0 (PCIe-to-PCI/PCI-X Bridge 1.0, 2.3);
 * a conventional PCI bridge's writes reach PCIe with its own ID.
 */
static hs_bdf_t msi_requester(const struct hs_dev *d)
{
	hs_bdf_t rid = d->bdf;

	for (const struct hs_dev *cur = d, *b = d->parent; b;
	     cur = b, b = b->parent) {
		if (!b->cap_pcie)
			rid = b->bdf;
		else if (b->pcie_type == 0x7)
			rid = cur->bdf & ~0xFFu;
	}
	return rid;
}

/* The message for d's vector, from the platform. */
HS_NOINLINE
static int msi_message(struct hs_dev *d, struct hs_msi_msg *m)
{
	const struct hs_platform *p = d->core->plat;

	return p->ops->msi_message(p->ctx, msi_requester(d), d->msi_first, m);
}

/* A write to d's MSI-X capability if d->msix, else to its MSI one. */
HS_NOINLINE
static int msi_cap_write(struct hs_dev *d, unsigned off, unsigned width,
			 uint32_t val)
{
	return hs_dev_cfg_write(d, (uint16_t)((d->msix ? d->cap_msix
						      : d->cap_msi) + off),
				width, val);
}

/* d's one vector (hs_dev_request_irq asks for one) in MSI-X table entry
 * 0. */
static int program_msix(struct hs_dev *d)
{
	struct hs_msi_msg m;
	uint32_t tbl, ctl, w[4];
	int bir, rc;

	if ((rc = hs_dev_cfg_read(d, d->cap_msix + 4, 4, &tbl)) ||
	    (rc = hs_dev_cfg_read(d, d->cap_msix + 2, 2, &ctl)))
		return rc;
	bir = (int)(tbl & 7);
	if (bir > 5 || !d->bar[bir].assigned)
		return -HS_EINVAL;
	if ((rc = msi_message(d, &m)))
		return rc;
	/* The entry: address low, high, data, vector control 0
	 * (unmasked). */
	w[0] = (uint32_t)m.address;
	w[1] = (uint32_t)(m.address >> 32);
	w[2] = m.data;
	w[3] = 0;
	for (unsigned k = 0; k < 4; k++)
		if ((rc = hs_dev_write32(d, bir, (tbl & ~7u) + 4ull * k,
					 w[k])))
			return rc;
	return msi_cap_write(d, 2, 2, (ctl & ~0x4000u) | 0x8000u);
}

static int program_msi(struct hs_dev *d)
{
	struct hs_msi_msg m;
	uint32_t ctl;
	int rc;

	if ((rc = msi_message(d, &m)) ||
	    (rc = hs_dev_cfg_read(d, d->cap_msi + 2, 2, &ctl)) ||
	    (rc = msi_cap_write(d, 4, 4, (uint32_t)m.address)))
		return rc;
	/* 64-bit capable: the upper address, then the data one register
	 * further on. */
	if (((ctl & 0x80) &&
	     (rc = msi_cap_write(d, 8, 4, (uint32_t)(m.address >> 32)))) ||
	    (rc = msi_cap_write(d, ctl & 0x80 ? 12 : 8, 2, m.data)))
		return rc;
	/* One vector (Multiple Message Enable 0), enable. */
	return msi_cap_write(d, 2, 2, (ctl & ~0x70u) | 1u);
}

int hs_dev_request_irq(struct hs_dev *d, hs_irq_fn fn, void *arg)
{
	struct hs_core *core = d->core;
	const struct hs_platform *p = core->plat;
	struct hs_irq irq;
	int rc;

	if (d->flags & DEV_GONE)
		return -HS_ENODEV;
	if ((d->cap_msix || d->cap_msi) && p->ops->msi_alloc &&
	    p->ops->msi_alloc(p->ctx, 1, &d->msi_first) == 0) {
		d->msi_count = 1;
		d->msix = d->cap_msix != 0;
		if ((rc = hs_txn_record(core, TXN_MSI, d, 0))) {
			p->ops->msi_free(p->ctx, d->msi_first, 1);
			d->msi_count = 0;
			return rc;
		}
		rc = d->msix ? program_msix(d) : program_msi(d);
		if (rc) {
			hs_dev_free_irq(d);
			return rc;
		}
		irq.kind = HS_IRQ_MSI;
		irq.number = d->msi_first;
	} else {
		if (!d->irq_pin)
			return -HS_ENOENT;
		irq.kind = HS_IRQ_INTX;
		irq.number = d->irq_line;
	}
	rc = p->ops->irq_attach(p->ctx, &irq, fn, arg);
	if (irq.kind == HS_IRQ_MSI) {
		if (rc)
			hs_dev_free_irq(d);
		return rc;
	}
	/* INTx lines are shared: the platform takes one handler a line, so a
	 * device whose line is taken polls from its completion timer. */
	if (rc == 0)
		d->intx_attached = true;
	return rc == -HS_EBUSY ? 0 : rc;
}

bool hs_dev_irq_attached(const struct hs_dev *d)
{
	return d->msi_count || d->intx_attached;
}

void hs_dev_free_irq(struct hs_dev *d)
{
	const struct hs_platform *p = d->core->plat;
	struct hs_irq irq;

	if (d->intx_attached) {
		/* The handler points at the driver's data: it must not fire
		 * once the driver is gone. */
		irq.kind = HS_IRQ_INTX;
		irq.number = d->irq_line;
		p->ops->irq_detach(p->ctx, &irq);
		d->intx_attached = false;
	}
	if (d->msi_count) {
		irq.kind = HS_IRQ_MSI;
		irq.number = d->msi_first;
		p->ops->irq_detach(p->ctx, &irq);
		msi_cap_write(d, 2, 2, 0); /* (not if gone: fails fast) */
		p->ops->msi_free(p->ctx, d->msi_first, d->msi_count);
		d->msi_count = 0;
	}
}

/* ---- removal ------------------------------------------------------------------ */

struct removal {
	struct hs_core *core;
	struct removal *next;       /* in core->removing */
	struct hs_dev *bridge;
	int devnum;                 /* slot's device number, or HS_SLOT_ALL */
	hs_done_fn done;
	void *arg;
	hs_time_t deadline;
	struct hs_timer poll;
};

/* Deepest first descendant: where a post-order walk of d starts. */
static struct hs_dev *post_order_first(struct hs_dev *d)
{
	while (d && d->child)
		d = d->child;
	return d;
}

/* Does top-level device c (a child of the bridge) sit in the slot? */
static bool in_slot(const struct hs_dev *c, int devnum)
{
	return devnum == HS_SLOT_ALL || HS_BDF_DEV(c->bdf) == (unsigned)devnum;
}

static struct hs_dev *next_top(struct hs_dev *c, int devnum)
{
	while (c && !in_slot(c, devnum))
		c = c->sibling;
	return c;
}

/* The slot's functions, children before parents: each function of the
 * card on the bridge's bus, after everything behind it.  The first from
 * top-level device c on (c and its later siblings): */
static struct hs_dev *slot_first_from(struct hs_dev *c, int devnum)
{
	struct hs_dev *t = next_top(c, devnum);

	return t ? post_order_first(t) : NULL;
}

static struct hs_dev *slot_first(struct hs_dev *br, int devnum)
{
	return slot_first_from(br->child, devnum);
}

static struct hs_dev *slot_next(struct hs_dev *br, int devnum,
				struct hs_dev *d)
{
	if (d->parent == br)
		return slot_first_from(d->sibling, devnum);
	if (d->sibling)
		return post_order_first(d->sibling);
	return d->parent;
}

bool hs_slot_populated(struct hs_dev *br, int devnum)
{
	return slot_first(br, devnum) != NULL;
}

bool hs_slot_immediate_ready(struct hs_dev *br, int devnum)
{
	for (struct hs_dev *t = next_top(br->child, devnum); t;
	     t = next_top(t->sibling, devnum))
		if (HS_BDF_FN(t->bdf) == 0)
			return (t->flags & DEV_IMM_READY) != 0;
	return false;
}

static void cancel_inside(struct hs_core *core, struct hs_dev *br, int devnum);

static int teardown(struct hs_core *core, struct hs_dev *br, int devnum,
		    bool surprise)
{
	size_t n = 0;
	int rc;

	rc = hs_txn_begin(core, surprise ? "surprise removal" : "removal");
	if (rc)
		return rc;
	/* Everything this removal will record is reserved first: once a
	 * driver is unbound it cannot be bound back, so nothing after that
	 * point may fail for want of memory.  Per function: Command write,
	 * interrupt writes, the driver's own writes; two events. */
	for (struct hs_dev *d = slot_first(br, devnum); d;
	     d = slot_next(br, devnum, d))
		n++;
	rc = surprise ? hs_txn_reserve_surprise(core, n)
		      : hs_txn_reserve(core, 8 * n + 8, 2 * n + 2);
	if (rc)
		goto fail;
	if (surprise) {
		/* Gone first, the whole card: accesses now fail fast, so
		 * drivers that fail their requests touch no hardware and wait
		 * for none. */
		for (struct hs_dev *d = slot_first(br, devnum); d;
		     d = slot_next(br, devnum, d))
			d->flags |= DEV_GONE;
		for (struct hs_dev *d = slot_first(br, devnum); d;
		     d = slot_next(br, devnum, d))
			if (d->drv && d->drv->gone)
				d->drv->gone(d, d->drv_priv);
	}
	for (struct hs_dev *d = slot_first(br, devnum), *next; d; d = next) {
		next = slot_next(br, devnum, d);
		hs_unbind(core, d);
		hs_dev_free_irq(d);
		if (!(d->flags & DEV_GONE))
			hs_disable_dev(core, d);
		if ((rc = hs_txn_dev_removed(core, d)))
			goto fail;
		hs_txn_event(core, HS_EV_DEV_REMOVED, d, NULL);
	}
	/* Work waiting on bridges that are about to disappear ends now. */
	cancel_inside(core, br, devnum);
	return hs_txn_commit(core);
fail:
	hs_txn_abort(core);
	return rc;
}

/* A removal in progress at, above or below this bridge: changes there
 * would interleave with it. */
bool hs_removal_pending(struct hs_core *core, const struct hs_dev *bridge)
{
	for (struct removal *r = core->removing; r; r = r->next)
		if (hs_dev_ancestor_or_self(r->bridge, bridge) ||
		    hs_dev_ancestor_or_self(bridge, r->bridge))
			return true;
	return false;
}

/* Is x one of the functions of the slot (devnum on br's bus), or behind
 * one of them? */
static bool in_slot_subtree(const struct hs_dev *br, int devnum,
			    const struct hs_dev *x)
{
	for (; x && x->parent; x = x->parent)
		if (x->parent == br)
			return devnum == HS_SLOT_ALL ||
			       HS_BDF_DEV(x->bdf) == (unsigned)devnum;
	return false;
}

/* The removal at *rp (a link in core->removing) ends: unlinked, its
 * poll stopped, freed, then its done() told. */
static void end_removal(struct hs_core *core, struct removal **rp, int rc,
			const char *msg)
{
	struct removal *rm = *rp;
	hs_done_fn done = rm->done;
	void *arg = rm->arg;

	*rp = rm->next;
	hs_timer_cancel(&core->timers, &rm->poll);
	hs_free(core, rm, sizeof(*rm));
	if (done)
		done(arg, rc, msg);
}

static void finish(struct removal *rm, int rc, const char *msg)
{
	struct hs_core *core = rm->core;
	struct hs_dev *br = rm->bridge;
	struct removal *self = rm, **pp = &core->removing;

	while (*pp && *pp != rm)
		pp = &(*pp)->next;
	/* (Not in the list: it ends all the same.) */
	end_removal(core, *pp ? pp : &self, rc, msg);
	/* Adds that waited for this removal go now, in the order asked. */
	core->up.run_pending_adds(core, br);
}

void hs_cancel_removals(struct hs_core *core)
{
	while (core->removing)
		end_removal(core, &core->removing, -HS_ECANCELED,
			    "the core is shutting down");
}

static void cancel_inside(struct hs_core *core, struct hs_dev *br, int devnum)
{
	struct removal **rp = &core->removing;
	struct pending_add **ap = &core->adds;

	while (*rp) {
		if (!in_slot_subtree(br, devnum, (*rp)->bridge))
			rp = &(*rp)->next;
		else
			end_removal(core, rp, -HS_ECANCELED,
				    "the card holding this slot was removed");
	}
	while (*ap) {
		struct pending_add *pa = *ap;

		if (!in_slot_subtree(br, devnum, pa->bridge)) {
			ap = &pa->next;
			continue;
		}
		*ap = pa->next;
		if (pa->done)
			pa->done(pa->arg, -HS_ECANCELED,
				 "the card holding this slot was removed");
		hs_free(core, pa, sizeof(*pa));
	}
}

static void quiesce_poll(void *arg)
{
	struct removal *rm = arg;
	struct hs_core *core = rm->core;
	bool late = hs_now(&core->timers) >= rm->deadline;
	bool busy = false;
	char msg[160] = "";
	int rc;

	for (struct hs_dev *d = slot_first(rm->bridge, rm->devnum); d;
	     d = slot_next(rm->bridge, rm->devnum, d)) {
		if (!d->drv || !d->drv->quiesce)
			continue;
		if (d->drv->quiesce(d, d->drv_priv) == -HS_EAGAIN) {
			if (!late) {
				busy = true;
				continue;
			}
			hs_log(core->plat, HS_LOG_WARN,
			       "%pB: driver %s did not quiesce in "
			       "time; aborting its requests",
			       &d->bdf, d->drv->name);
			if (d->drv->abort)
				d->drv->abort(d, d->drv_priv);
		}
	}
	if (busy) {
		hs_timer_arm(&core->timers, &rm->poll, HS_MSEC(1));
		return;
	}
	rc = teardown(core, rm->bridge, rm->devnum, false);
	if (rc)
		hs_snprintf(msg, sizeof(msg), "teardown failed (%d)", rc);
	finish(rm, rc, msg);
}

int hs_core_hot_remove(struct hs_core *core, struct hs_dev *br, int devnum,
		       hs_done_fn done, void *arg)
{
	struct removal *rm;
	const char *reason, *no = "out of memory";
	char why[96], msg[192];
	bool pending;
	int rc = -HS_ENOMEM;

	if (!br || !(br->flags & DEV_HOTPLUG)) {
		rc = -HS_EINVAL;
		no = "not a hot-plug bridge";
		goto refuse;
	}
	pending = hs_removal_pending(core, br);
	if (core->in_txn && !pending && !core->rebalancing) {
		/* A writer holds the transaction (a driver or the service
		 * over asynchronous work, hotswap/txn.h): the removal waits
		 * for it as a hot-add does (seeds/002), and runs from the
		 * queue when it ends (hs_run_pending_adds). */
		if (hs_pending_queue(core, PENDING_REMOVE, br, devnum, done,
				     arg))
			goto refuse;
		return 0;
	}
	if (core->in_txn || pending) {
		rc = -HS_EBUSY;
		no = "a change below this bridge is already in progress";
		goto refuse;
	}
	if (core->rebalancing) {
		rc = -HS_EBUSY;
		no = "a rebalance is in progress";
		goto refuse;
	}
	if (!slot_first(br, devnum)) {
		rc = -HS_ENOENT;
		no = "no card in that slot";
		goto refuse;
	}
	for (struct hs_dev *d = slot_first(br, devnum); d;
	     d = slot_next(br, devnum, d)) {
		if (d->flags & DEV_NO_REMOVE) {
			hs_snprintf(msg, sizeof(msg),
				    "%pB is critical (%s) and is "
				    "never removed", &d->bdf,
				    d->flags & DEV_BOOT_VGA ? "boot console"
							    : "quirk");
			rc = -HS_EPERM;
			no = msg;
			goto refuse;
		}
		if ((reason = refusal(d, why, sizeof(why)))) {
			hs_snprintf(msg, sizeof(msg),
				    "driver %s on %pB refuses: %s",
				    d->drv->name, &d->bdf, reason);
			rc = -HS_EBUSY;
			no = msg;
			goto refuse;
		}
	}
	rm = hs_zalloc(core, sizeof(*rm));
	if (!rm)
		goto refuse;
	rm->core = core;
	rm->bridge = br;
	rm->devnum = devnum;
	rm->done = done;
	rm->arg = arg;
	rm->deadline = hs_now(&core->timers) + core->params.quiesce_timeout;
	hs_timer_init(&rm->poll, quiesce_poll, rm);
	rm->next = core->removing;
	core->removing = rm;
	quiesce_poll(rm);
	return 0;
refuse:
	/* Refused before it began: done() hears why (rc -HS_ENOMEM: out of
	 * memory). */
	if (done)
		done(arg, rc, no);
	return rc;
}

int hs_core_surprise_remove(struct hs_core *core, struct hs_dev *br,
			    int devnum)
{
	int rc;

	if (!br || !(br->flags & DEV_HOTPLUG))
		return -HS_EINVAL;
	if (!slot_first(br, devnum))
		return -HS_ENOENT;
	/* A rebalance waiting for drivers to stop plans with devices that
	 * are going: it ends, its drivers go on where they are. */
	if (core->up.rebalance_cancel)
		core->up.rebalance_cancel(core, "a card was pulled while "
					  "drivers were stopping for a "
					  "rebalance");
	/* The hardware is gone whatever else is going on: a removal still
	 * quiescing in this slot ends now, the teardown does the rest. */
	for (struct removal **rp = &core->removing; *rp;) {
		struct removal *rm = *rp;

		if (rm->bridge != br ||
		    !(rm->devnum == devnum || rm->devnum == HS_SLOT_ALL ||
		      devnum == HS_SLOT_ALL))
			rp = &rm->next;
		else
			end_removal(core, rp, -HS_ECANCELED,
				    "the card was pulled");
	}
	rc = teardown(core, br, devnum, true);
	/* Adds that waited for a removal here may go now. */
	if (!rc)
		core->up.run_pending_adds(core, br);
	if (rc)
		hs_log(core->plat, HS_LOG_ERR,
		       "surprise removal below %pB failed (%d); the "
		       "devices stay marked present", &br->bdf, rc);
	return rc;
}
