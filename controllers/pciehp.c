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
 * Slot Control and Link Control are cached: only software writes them
 * (every Slot Control field is RW or RsvdP and Electromechanical
 * Interlock Control reads 0, PCIe Base 7.5.3.10; Retrain Link reads 0,
 * 7.5.3.7), and this driver is their only writer, so each is read once
 * at probe and every write updates the copy.  Slot Status is read only when
 * an answer depends on it, Link Status only while the slot is powered
 * (issue #18: the config accesses a hot-add needs, no more).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hotswap/hpc.h"

#include "controllers.h"
#include "hotswap/pcie_regs.h"

struct pciehp {
	struct hs_dev *port;
	struct hs_hpc *hpc;
	uint16_t cap;
	uint32_t sltcap;
	uint16_t sltctl;   /* Slot Control as last written (EIC clear) */
	uint16_t lnkctl;   /* Link Control as last written */
	bool dllla;        /* link active reporting capable */
	bool fault_seen;   /* PFD latched since the card arrived */
	bool irq_on;
};

static int rd(struct pciehp *p, unsigned reg, unsigned width, uint32_t *v)
{
	return hs_dev_cfg_read(p->port, (uint16_t)(p->cap + reg), width, v);
}

/* Not inlined: one call is shorter than its arguments' set-up at each
 * of the five writes (issue #18: code size; so is ind_bits). */
__attribute__((noinline))
static int wr(struct pciehp *p, unsigned reg, unsigned width, uint32_t v)
{
	return hs_dev_cfg_write(p->port, (uint16_t)(p->cap + reg), width, v);
}

/* Every Slot Control write goes through here, so the cache stays true. */
static int ctl_write(struct pciehp *p, uint16_t v)
{
	int rc = wr(p, HS_PX_SLTCTL, 2, v);

	if (rc == 0)
		p->sltctl = (uint16_t)(v & ~HS_SLTCTL_EIC);
	return rc;
}

static int px_status(void *priv, unsigned slot, struct hs_slot_status *st)
{
	struct pciehp *p = priv;
	uint32_t sta, lnk = 0;
	int rc;

	(void)slot;
	if ((rc = rd(p, HS_PX_SLTSTA, 2, &sta)))
		return rc;
	if (sta == 0xffff)
		return -HS_ENODEV; /* the port itself is gone */
	st->present = sta & HS_SLTSTA_PDS;
	st->latch_open = (p->sltcap & HS_SLTCAP_MRLSP) && (sta & HS_SLTSTA_MRLSS);
	st->powered = (p->sltcap & HS_SLTCAP_PCP) ? !(p->sltctl & HS_SLTCTL_PCC)
					       : st->present;
	/* No link without a powered card in the slot: Link Status is read
	 * only when it can say something. */
	if (p->dllla && st->present && st->powered &&
	    (rc = rd(p, HS_PX_LNKSTA, 2, &lnk)))
		return rc;
	/* Without link active reporting nothing tells; the core waits. */
	st->link_up = p->dllla ? (lnk & HS_LNKSTA_DLLLA) != 0
			       : st->present && st->powered;
	if (!st->present)
		p->fault_seen = false;
	st->power_fault = p->fault_seen || (sta & HS_SLTSTA_PFD);
	st->interlock = (p->sltcap & HS_SLTCAP_EIP) && (sta & HS_SLTSTA_EIS);
	return 0;
}

__attribute__((noinline))
static uint16_t ind_bits(int ind)
{
	/* 01b on, 10b blink, 11b off (PCIe Base 7.5.3.10). */
	return ind == HS_IND_ON ? 1 : ind == HS_IND_BLINK ? 2 : 3;
}

static int px_command(void *priv, unsigned slot, const struct hs_slot_cmd *c)
{
	struct pciehp *p = priv;
	uint32_t sta, lnk;
	uint16_t now;
	int rc;

	(void)slot;
	/* Link Disable before power goes off; enabled before it comes on. */
	if (c->link != HS_KEEP) {
		/* Link Control is software's too (PCIe Base 7.5.3.7; Retrain
		 * Link reads 0): the copy read at probe is kept current. */
		lnk = c->link ? p->lnkctl & ~HS_LNKCTL_LD
			      : p->lnkctl | HS_LNKCTL_LD;
		if ((rc = wr(p, HS_PX_LNKCTL, 2, lnk)))
			return rc;
		p->lnkctl = (uint16_t)lnk;
	}
	now = p->sltctl;
	if (c->power != HS_KEEP && (p->sltcap & HS_SLTCAP_PCP))
		now = c->power ? now & ~HS_SLTCTL_PCC : now | HS_SLTCTL_PCC;
	if (c->power_ind != HS_KEEP && (p->sltcap & HS_SLTCAP_PIP))
		now = (uint16_t)((now & ~HS_SLTCTL_PIC) | ind_bits(c->power_ind) << 8);
	if (c->attn_ind != HS_KEEP && (p->sltcap & HS_SLTCAP_AIP))
		now = (uint16_t)((now & ~HS_SLTCTL_AIC) | ind_bits(c->attn_ind) << 6);
	/* The interlock toggles on a 1 written to its control bit, so its
	 * state decides whether to write one. */
	if (c->interlock != HS_KEEP && (p->sltcap & HS_SLTCAP_EIP)) {
		if ((rc = rd(p, HS_PX_SLTSTA, 2, &sta)))
			return rc;
		if ((bool)c->interlock != ((sta & HS_SLTSTA_EIS) != 0))
			now |= HS_SLTCTL_EIC;
	}
	if (now == p->sltctl)
		return 0;
	if ((rc = ctl_write(p, now)))
		return rc;
	return (p->sltcap & HS_SLTCAP_NCCS) ? 0 : HS_HPC_PENDING;
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

		if (rd(p, HS_PX_SLTSTA, 2, &sta) || sta == 0xffff) {
			hs_hpc_collect_failed(p->hpc);
			return;
		}
		sta &= HS_SLTSTA_EVENTS;
		if (!sta)
			return;
		wr(p, HS_PX_SLTSTA, 2, sta);
		if (sta & HS_SLTSTA_ABP)
			ev |= HS_HW_BUTTON;
		if (sta & HS_SLTSTA_PFD) {
			ev |= HS_HW_POWER_FAULT;
			p->fault_seen = true;
		}
		if (sta & HS_SLTSTA_MRLSC)
			ev |= HS_HW_LATCH;
		if (sta & HS_SLTSTA_PDC)
			ev |= HS_HW_PRESENCE;
		if (sta & HS_SLTSTA_CC)
			ev |= HS_HW_CMD_DONE;
		if (sta & HS_SLTSTA_DLLSC)
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
	 * with the slot's state instead.  A power fault is a condition as
	 * well: it stays known (status' power_fault) after the clear, so
	 * a fault latched before a restart is found again. */
	{
		uint32_t sta;

		if (rd(p, HS_PX_SLTSTA, 2, &sta) == 0 && sta != 0xffff &&
		    (sta & HS_SLTSTA_PFD) && (sta & HS_SLTSTA_PDS))
			p->fault_seen = true;
	}
	wr(p, HS_PX_SLTSTA, 2, HS_SLTSTA_EVENTS & ~HS_SLTSTA_CC);
	if (irq) {
		/* The button, power fault and MRL events exist with the
		 * button, the power controller and the MRL sensor: Slot
		 * Capabilities bits 0-2 enable as Slot Control bits 0-2. */
		_Static_assert(HS_SLTCAP_ABP == HS_SLTCTL_ABPE &&
			       HS_SLTCAP_PCP == HS_SLTCTL_PFDE &&
			       HS_SLTCAP_MRLSP == HS_SLTCTL_MRLSCE,
			       "Slot Capabilities bits 0-2 match Slot Control's");
		en = HS_SLTCTL_PDCE | HS_SLTCTL_HPIE |
		     (p->sltcap & (HS_SLTCAP_ABP | HS_SLTCAP_PCP |
				   HS_SLTCAP_MRLSP));
		if (!(p->sltcap & HS_SLTCAP_NCCS))
			en |= HS_SLTCTL_CCIE;
		if (p->dllla)
			en |= HS_SLTCTL_DLLSCE;
	}
	if ((p->sltctl & HS_SLTCTL_EVENTS) == en)
		return 0;
	if ((rc = ctl_write(p, (uint16_t)((p->sltctl & ~HS_SLTCTL_EVENTS) | en))))
		return rc;
	return (p->sltcap & HS_SLTCAP_NCCS) ? 0 : HS_HPC_PENDING;
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
	uint32_t lnkcap, ctl, lnk;
	int rc;

	p = hs_ctl_zalloc(port, sizeof(*p));
	if (!p)
		return -HS_ENOMEM;
	p->port = port;
	if ((rc = hs_dev_find_cap(port, 0x10, &p->cap)) ||
	    (rc = rd(p, HS_PX_SLTCAP, 4, &p->sltcap)) ||
	    (rc = rd(p, HS_PX_LNKCAP, 4, &lnkcap)) ||
	    (rc = rd(p, HS_PX_SLTCTL, 2, &ctl)) ||
	    (rc = rd(p, HS_PX_LNKCTL, 2, &lnk)))
		goto free_p;
	/* All ones from any of them: the port did not answer (a failed
	 * read returns them too); a Slot Capabilities of all ones would
	 * register slot 8191 with every feature. */
	if (ctl == 0xffff || lnk == 0xffff || p->sltcap == 0xffffffffu ||
	    lnkcap == 0xffffffffu) {
		rc = -HS_ENODEV;
		goto free_p;
	}
	p->lnkctl = (uint16_t)(lnk & ~HS_LNKCTL_RL);
	p->sltctl = (uint16_t)(ctl & ~HS_SLTCTL_EIC);
	p->dllla = lnkcap & HS_LNKCAP_DLLLARC;

	hs_memzero(&d, sizeof(d));
	d.phys = p->sltcap >> 19;
	d.devnum = 0;
	/* MRL sensor, attention and power indicators, surprise: Slot
	 * Capabilities bits 2-5 are the slot capabilities' bits 2-5. */
	_Static_assert(HS_SLTCAP_MRLSP == HS_SLOT_CAP_MRL &&
		       HS_SLTCAP_AIP == HS_SLOT_CAP_ATTN_IND &&
		       HS_SLTCAP_PIP == HS_SLOT_CAP_PWR_IND &&
		       HS_SLTCAP_HPS == HS_SLOT_CAP_SURPRISE,
		       "Slot Capabilities bits 2-5 are HS_SLOT_CAP_*'s");
	d.caps = HS_SLOT_CAP_LINK_CTL |
		 (p->sltcap & (HS_SLTCAP_MRLSP | HS_SLTCAP_AIP |
			       HS_SLTCAP_PIP | HS_SLTCAP_HPS));
	if (p->sltcap & HS_SLTCAP_PCP)
		d.caps |= HS_SLOT_CAP_POWER;
	if (p->sltcap & HS_SLTCAP_ABP)
		d.caps |= HS_SLOT_CAP_BUTTON;
	if (p->sltcap & HS_SLTCAP_EIP)
		d.caps |= HS_SLOT_CAP_INTERLOCK;
	if (p->dllla)
		d.caps |= HS_SLOT_CAP_LINK_REPORT;
	/* PCIe Base 6.6.1: below a port that reports Data Link Layer Link
	 * Active (required above 5 GT/s), 100 ms after the link comes up;
	 * below one of at most 5 GT/s that cannot report it, 100 ms after
	 * the reset exit (power-on), which covers training too. */
	d.link_wait = HS_MSEC(100);
	d.settle = p->dllla ? HS_MSEC(100) : 0;
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
