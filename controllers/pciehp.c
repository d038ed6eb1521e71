/*
 * pciehp.c - the PCI Express native hot-plug controller driver.
 *
 * Owns: a root or switch downstream port's Slot Capabilities, Slot
 * Control and Slot Status (PCIe Base 7.5.3.9-11), the Link Control Link
 * Disable bit and the Link Status Data Link Layer Link Active bit, and
 * the port's hot-plug interrupt.  It binds as the hot-plug service of
 * the PCIe port bus and speaks only registers: what to do with a button
 * press or a presence change is the core's slot state machine.
 *
 * Every write to Slot Control is a command: with Command Completed
 * support the core waits for CC (reported here as HS_HW_CMD_DONE) before
 * the next one (PCIe Base 6.7.3.2); with No Command Completed Support
 * the write is done at once.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hotswap/hpc.h"

#include "controllers.h"

/* Offsets inside the PCI Express capability (PCIe Base 7.5.3). */
#define PX_LNKCAP 0x0c
#define PX_LNKCTL 0x10
#define PX_LNKSTA 0x12
#define PX_SLTCAP 0x14
#define PX_SLTCTL 0x18
#define PX_SLTSTA 0x1a

#define LNKCAP_DLLLARC (1u << 20)
#define LNKCTL_LD      0x0010
#define LNKSTA_DLLLA   0x2000

#define SLTCAP_ABP   0x00000001u
#define SLTCAP_PCP   0x00000002u
#define SLTCAP_MRLSP 0x00000004u
#define SLTCAP_AIP   0x00000008u
#define SLTCAP_PIP   0x00000010u
#define SLTCAP_HPS   0x00000020u
#define SLTCAP_EIP   0x00020000u
#define SLTCAP_NCCS  0x00040000u

#define SLTCTL_ABPE   0x0001
#define SLTCTL_PFDE   0x0002
#define SLTCTL_MRLSCE 0x0004
#define SLTCTL_PDCE   0x0008
#define SLTCTL_CCIE   0x0010
#define SLTCTL_HPIE   0x0020
#define SLTCTL_AIC    0x00c0
#define SLTCTL_PIC    0x0300
#define SLTCTL_PCC    0x0400
#define SLTCTL_EIC    0x0800
#define SLTCTL_DLLSCE 0x1000
#define SLTCTL_EVENTS (SLTCTL_ABPE | SLTCTL_PFDE | SLTCTL_MRLSCE |    \
		       SLTCTL_PDCE | SLTCTL_CCIE | SLTCTL_HPIE |     \
		       SLTCTL_DLLSCE)

#define SLTSTA_ABP   0x0001
#define SLTSTA_PFD   0x0002
#define SLTSTA_MRLSC 0x0004
#define SLTSTA_PDC   0x0008
#define SLTSTA_CC    0x0010
#define SLTSTA_MRLSS 0x0020
#define SLTSTA_PDS   0x0040
#define SLTSTA_EIS   0x0080
#define SLTSTA_DLLSC 0x0100
#define SLTSTA_EVENTS 0x011f

struct pciehp {
	struct hs_dev *port;
	struct hs_hpc *hpc;
	uint16_t cap;
	uint32_t sltcap;
	bool dllla;        /* link active reporting capable */
	bool fault_seen;   /* PFD latched since the card arrived */
	bool irq_on;
};

static int rd(struct pciehp *p, unsigned reg, unsigned width, uint32_t *v)
{
	return hs_dev_cfg_read(p->port, (uint16_t)(p->cap + reg), width, v);
}

static int wr(struct pciehp *p, unsigned reg, unsigned width, uint32_t v)
{
	return hs_dev_cfg_write(p->port, (uint16_t)(p->cap + reg), width, v);
}

static int px_status(void *priv, unsigned slot, struct hs_slot_status *st)
{
	struct pciehp *p = priv;
	uint32_t sta, ctl, lnk = 0;
	int rc;

	(void)slot;
	if ((rc = rd(p, PX_SLTSTA, 2, &sta)) || (rc = rd(p, PX_SLTCTL, 2, &ctl)))
		return rc;
	if (sta == 0xffff)
		return -HS_ENODEV; /* the port itself is gone */
	if (p->dllla && (rc = rd(p, PX_LNKSTA, 2, &lnk)))
		return rc;
	st->present = sta & SLTSTA_PDS;
	st->latch_open = (p->sltcap & SLTCAP_MRLSP) && (sta & SLTSTA_MRLSS);
	st->powered = (p->sltcap & SLTCAP_PCP) ? !(ctl & SLTCTL_PCC)
					       : st->present;
	/* Without link active reporting nothing tells; the core waits. */
	st->link_up = p->dllla ? (lnk & LNKSTA_DLLLA) != 0
			       : st->present && st->powered;
	if (!st->present)
		p->fault_seen = false;
	st->power_fault = p->fault_seen || (sta & SLTSTA_PFD);
	st->interlock = (p->sltcap & SLTCAP_EIP) && (sta & SLTSTA_EIS);
	return 0;
}

static uint16_t ind_bits(int ind)
{
	/* 01b on, 10b blink, 11b off (PCIe Base 7.5.3.10). */
	return ind == HS_IND_ON ? 1 : ind == HS_IND_BLINK ? 2 : 3;
}

static int px_command(void *priv, unsigned slot, const struct hs_slot_cmd *c)
{
	struct pciehp *p = priv;
	uint32_t ctl, sta, lnk;
	uint16_t now;
	int rc;

	(void)slot;
	/* Link Disable before power goes off; enabled before it comes on. */
	if (c->link != HS_KEEP) {
		if ((rc = rd(p, PX_LNKCTL, 2, &lnk)))
			return rc;
		lnk = c->link ? lnk & ~LNKCTL_LD : lnk | LNKCTL_LD;
		if ((rc = wr(p, PX_LNKCTL, 2, lnk)))
			return rc;
	}
	if ((rc = rd(p, PX_SLTCTL, 2, &ctl)) || (rc = rd(p, PX_SLTSTA, 2, &sta)))
		return rc;
	now = (uint16_t)(ctl & ~SLTCTL_EIC);
	if (c->power != HS_KEEP && (p->sltcap & SLTCAP_PCP))
		now = c->power ? now & ~SLTCTL_PCC : now | SLTCTL_PCC;
	if (c->power_ind != HS_KEEP && (p->sltcap & SLTCAP_PIP))
		now = (uint16_t)((now & ~SLTCTL_PIC) | ind_bits(c->power_ind) << 8);
	if (c->attn_ind != HS_KEEP && (p->sltcap & SLTCAP_AIP))
		now = (uint16_t)((now & ~SLTCTL_AIC) | ind_bits(c->attn_ind) << 6);
	/* The interlock toggles on a 1 written to its control bit. */
	if (c->interlock != HS_KEEP && (p->sltcap & SLTCAP_EIP) &&
	    (bool)c->interlock != ((sta & SLTSTA_EIS) != 0))
		now |= SLTCTL_EIC;
	if (now == (uint16_t)ctl)
		return 0;
	if ((rc = wr(p, PX_SLTCTL, 2, now)))
		return rc;
	return (p->sltcap & SLTCAP_NCCS) ? 0 : HS_HPC_PENDING;
}

static void px_collect(void *priv)
{
	struct pciehp *p = priv;

	/* Clear what was seen, then look again: an event latched between
	 * the read and the write would otherwise hold the MSI condition
	 * high with nobody told (PCIe Base 6.7.3.4). */
	for (int round = 0; round < 8; round++) {
		uint32_t sta;
		unsigned ev = 0;

		if (rd(p, PX_SLTSTA, 2, &sta) || sta == 0xffff)
			return;
		sta &= SLTSTA_EVENTS;
		if (!sta)
			return;
		wr(p, PX_SLTSTA, 2, sta);
		if (sta & SLTSTA_ABP)
			ev |= HS_HW_BUTTON;
		if (sta & SLTSTA_PFD) {
			ev |= HS_HW_POWER_FAULT;
			p->fault_seen = true;
		}
		if (sta & SLTSTA_MRLSC)
			ev |= HS_HW_LATCH;
		if (sta & SLTSTA_PDC)
			ev |= HS_HW_PRESENCE;
		if (sta & SLTSTA_CC)
			ev |= HS_HW_CMD_DONE;
		if (sta & SLTSTA_DLLSC)
			ev |= HS_HW_LINK;
		hs_hpc_report(p->hpc, 0, ev, NULL);
	}
}

static void px_isr(void *arg, const struct hs_irq *irq)
{
	struct pciehp *p = arg;

	(void)irq;
	hs_hpc_interrupt(p->hpc);
}

static int px_notify(void *priv, bool irq)
{
	struct pciehp *p = priv;
	uint32_t ctl;
	uint16_t en = 0;
	int rc;

	if (irq && !p->irq_on) {
		rc = hs_dev_request_irq(p->port, px_isr, p);
		if (rc == 0 && !hs_dev_irq_attached(p->port)) {
			hs_dev_free_irq(p->port);
			rc = -HS_ENOTSUP; /* a shared line someone else owns */
		}
		if (rc)
			return -HS_ENOTSUP;
		p->irq_on = true;
	}
	/* Events from before we looked are not news: the core reconciles
	 * with the slot's state instead. */
	wr(p, PX_SLTSTA, 2, SLTSTA_EVENTS & ~SLTSTA_CC);
	if (irq) {
		en = SLTCTL_PDCE | SLTCTL_HPIE;
		if (p->sltcap & SLTCAP_ABP)
			en |= SLTCTL_ABPE;
		if (p->sltcap & SLTCAP_PCP)
			en |= SLTCTL_PFDE;
		if (p->sltcap & SLTCAP_MRLSP)
			en |= SLTCTL_MRLSCE;
		if (!(p->sltcap & SLTCAP_NCCS))
			en |= SLTCTL_CCIE;
		if (p->dllla)
			en |= SLTCTL_DLLSCE;
	}
	if ((rc = rd(p, PX_SLTCTL, 2, &ctl)))
		return rc;
	if ((ctl & SLTCTL_EVENTS) == en)
		return 0;
	if ((rc = wr(p, PX_SLTCTL, 2, (ctl & ~(SLTCTL_EVENTS | SLTCTL_EIC)) | en)))
		return rc;
	return (p->sltcap & SLTCAP_NCCS) ? 0 : HS_HPC_PENDING;
}

static const struct hs_hpc_ops pciehp_ops = {
	.kind = "pcie",
	.status = px_status,
	.command = px_command,
	.collect = px_collect,
	.notify = px_notify,
};

static int pciehp_probe(struct hs_dev *port, void **priv)
{
	struct hs_hpc_slot_desc d;
	struct pciehp *p;
	uint32_t lnkcap;
	int rc;

	p = hs_ctl_zalloc(port, sizeof(*p));
	if (!p)
		return -HS_ENOMEM;
	p->port = port;
	if ((rc = hs_dev_find_cap(port, 0x10, &p->cap)) ||
	    (rc = rd(p, PX_SLTCAP, 4, &p->sltcap)) ||
	    (rc = rd(p, PX_LNKCAP, 4, &lnkcap)))
		goto free_p;
	p->dllla = lnkcap & LNKCAP_DLLLARC;

	hs_memzero(&d, sizeof(d));
	d.phys = p->sltcap >> 19;
	d.devnum = 0;
	d.caps = HS_SLOT_CAP_LINK_CTL;
	if (p->sltcap & SLTCAP_PCP)
		d.caps |= HS_SLOT_CAP_POWER;
	if (p->sltcap & SLTCAP_ABP)
		d.caps |= HS_SLOT_CAP_BUTTON;
	if (p->sltcap & SLTCAP_MRLSP)
		d.caps |= HS_SLOT_CAP_MRL;
	if (p->sltcap & SLTCAP_AIP)
		d.caps |= HS_SLOT_CAP_ATTN_IND;
	if (p->sltcap & SLTCAP_PIP)
		d.caps |= HS_SLOT_CAP_PWR_IND;
	if (p->sltcap & SLTCAP_HPS)
		d.caps |= HS_SLOT_CAP_SURPRISE;
	if (p->sltcap & SLTCAP_EIP)
		d.caps |= HS_SLOT_CAP_INTERLOCK;
	if (p->dllla)
		d.caps |= HS_SLOT_CAP_LINK_REPORT;
	/* A port that cannot report the link (at most 5 GT/s, PCIe Base
	 * 6.6.1) gets a fixed 100 ms for training; then, as for every
	 * port, 100 ms before the first configuration request. */
	d.link_wait = HS_MSEC(100);
	d.settle = HS_MSEC(100);
	d.immediate_ready_ok = true;

	if ((rc = hs_hpc_register(port, &pciehp_ops, p, &d, 1, 0, &p->hpc)))
		goto free_p;
	*priv = p;
	return 0;

free_p:
	hs_ctl_free(port, p, sizeof(*p));
	return rc;
}

static void pciehp_remove(struct hs_dev *port, void *priv)
{
	struct pciehp *p = priv;

	hs_hpc_unregister(p->hpc);
	if (p->irq_on)
		hs_dev_free_irq(port);
	hs_ctl_free(port, p, sizeof(*p));
}

const struct hs_port_service hs_pciehp_service = {
	.name = "pciehp",
	.type = HS_PORT_SVC_HOTPLUG,
	.probe = pciehp_probe,
	.remove = pciehp_remove,
};
