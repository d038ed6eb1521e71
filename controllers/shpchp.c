/*
 * shpchp.c - the PCI Standard Hot-Plug Controller (SHPC 1.0) driver.
 *
 * Owns: the SHPC working register set of a conventional PCI-to-PCI
 * bridge (reached through BAR0 at the Base Offset the PCI Hot-Plug
 * capability 0Ch names; SHPC 1.0, "SHPC Register Set"): Slot
 * Configuration, the Command register and Command Status, Controller
 * SERR-INT Enable with its Command Completion Detected latch, and the
 * logical slot registers with their event latches and interrupt masks;
 * and the bridge's interrupt.  One hs_hpc with one slot per logical slot.
 *
 * It speaks only registers.  Every slot operation is one command to the
 * one Command register of the controller, carrying the new slot state
 * (enable / disable) and both indicators in its low six bits; the core
 * issues one command at a time per controller and waits for Command
 * Completion (reported here as HS_HW_CMD_DONE) before the next (SHPC 1.0:
 * software must not write Command while Controller Busy is set).
 *
 * A slot that is enabled has its bus switches closed: the card is on the
 * bus, so "enabled" is what the core sees as the link being up.  A
 * conventional card then needs Trhfa (PCI Local Bus 3.0, 2^25 clocks
 * after RST# deasserts) before its first configuration request.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hotswap/hpc.h"
#include "hotswap/shpc_regs.h"

#include "controllers.h"

/* Command Status busy, as the upper half of the Command dword. */
#define CMD_BUSY ((uint32_t)HS_SHPC_CS_BUSY << 16)

/* PCI Local Bus 3.0: Trhfa, 2^25 clocks at 33 MHz, after the slot's
 * reset deasserts before the first configuration request. */
#define SHPC_TRHFA HS_USEC(1006633)

#define MAX_SLOTS 31u

struct shpchp {
	struct hs_dev *br;
	struct hs_hpc *hpc;
	uint32_t base;         /* Base Offset of the register set in BAR0 */
	uint32_t slot_config;
	unsigned nslots;
	int cmd_slot;          /* slot of the command in flight, -1 */
	bool irq_on;
};

static int rd(struct shpchp *h, uint32_t reg, uint32_t *v)
{
	return hs_dev_read32(h->br, 0, (uint64_t)h->base + reg, v);
}

static int wr(struct shpchp *h, uint32_t reg, uint32_t v)
{
	return hs_dev_write32(h->br, 0, (uint64_t)h->base + reg, v);
}

static int shpc_status(void *priv, unsigned slot, struct hs_slot_status *st)
{
	struct shpchp *h = priv;
	uint32_t r, state;
	int rc;

	if ((rc = rd(h, HS_SHPC_SLOT(slot), &r)))
		return rc;
	if (r == 0xffffffffu)
		return -HS_ENODEV; /* the bridge itself is gone */
	state = r & HS_SHPC_SL_STATE;
	st->present = (r & HS_SHPC_SL_PRSNT) != HS_SHPC_SL_PRSNT;
	st->latch_open = (h->slot_config & HS_SHPC_SC_MRLSI) &&
			 (r & HS_SHPC_SL_MRL_OPEN);
	st->powered = state != HS_SHPC_ST_DISABLED;
	/* Enabled: bus switches closed, the card is on the bus. */
	st->link_up = state == HS_SHPC_ST_ENABLED;
	st->power_fault = !(r & HS_SHPC_SL_PF_N);
	st->interlock = false;
	return 0;
}

/* Indicator field of a slot operation: 00b no change, 01b on, 10b blink,
 * 11b off (SHPC 1.0, Slot Operation command). */
static uint32_t ind_code(int ind)
{
	if (ind == HS_KEEP)
		return 0;
	return ind == HS_IND_ON ? 1 : ind == HS_IND_BLINK ? 2 : 3;
}

static int shpc_command(void *priv, unsigned slot, const struct hs_slot_cmd *c)
{
	struct shpchp *h = priv;
	uint32_t code = 0, cmd, si;
	int rc;

	/* State field: 10b enable (power, then the bus switches), 11b
	 * disable; 00b leaves the state as it is. */
	if (c->power != HS_KEEP)
		code |= c->power ? HS_SHPC_ST_ENABLED : HS_SHPC_ST_DISABLED;
	code |= ind_code(c->power_ind) << 2;
	code |= ind_code(c->attn_ind) << 4;
	if (!code)
		return 0;
	/* The core waits for each completion, but a command it gave up on
	 * may still run: never write Command while the controller is busy
	 * (it would be dropped). */
	if ((rc = rd(h, HS_SHPC_COMMAND, &cmd)))
		return rc;
	if (cmd == 0xffffffffu)
		return -HS_ENODEV;
	if (cmd & CMD_BUSY)
		return -HS_EBUSY;
	/* A completion latched for an earlier command is not this one's. */
	if ((rc = rd(h, HS_SHPC_SERR_INT, &si)))
		return rc;
	if ((si & HS_SHPC_SI_CC) &&
	    (rc = wr(h, HS_SHPC_SERR_INT,
		     (si & HS_SHPC_SI_RW) | HS_SHPC_SI_CC)))
		return rc;
	h->cmd_slot = (int)slot;
	/* The target field numbers logical slots from 1. */
	if ((rc = wr(h, HS_SHPC_COMMAND, code | (slot + 1) << 8))) {
		h->cmd_slot = -1;
		return rc;
	}
	return HS_HPC_PENDING;
}

static void shpc_collect(void *priv)
{
	struct shpchp *h = priv;

	/* Acknowledge what was seen, then look again: with MSI the
	 * controller signals only when its condition rises, so everything
	 * unmasked must be clear before the next event can be told. */
	for (int round = 0; round < 8; round++) {
		bool any = false;
		uint32_t si;

		if (rd(h, HS_SHPC_SERR_INT, &si) || si == 0xffffffffu) {
			hs_hpc_collect_failed(h->hpc);
			return;
		}
		if (si & HS_SHPC_SI_CC) {
			any = true;
			wr(h, HS_SHPC_SERR_INT, (si & HS_SHPC_SI_RW) | HS_SHPC_SI_CC);
			if (h->cmd_slot >= 0) {
				unsigned s = (unsigned)h->cmd_slot;

				/* Done, failed or not: Command Status says
				 * how, and the slot's state shows it. */
				h->cmd_slot = -1;
				hs_hpc_report(h->hpc, s, HS_HW_CMD_DONE, NULL);
			}
		}
		for (unsigned n = 0; n < h->nslots; n++) {
			uint32_t r, ev_bits;
			unsigned ev = 0;

			if (rd(h, HS_SHPC_SLOT(n), &r) || r == 0xffffffffu) {
				hs_hpc_collect_failed(h->hpc);
				return;
			}
			ev_bits = r & HS_SHPC_SL_EVENTS;
			if (!ev_bits)
				continue;
			any = true;
			/* Clear exactly what was seen; masks stay as set. */
			wr(h, HS_SHPC_SLOT(n), (r & HS_SHPC_SL_MASKS) | ev_bits);
			if (ev_bits & HS_SHPC_SL_EV_PRSNT)
				ev |= HS_HW_PRESENCE;
			if (ev_bits & (HS_SHPC_SL_EV_ISO_PF | HS_SHPC_SL_EV_CON_PF))
				ev |= HS_HW_POWER_FAULT;
			if (ev_bits & HS_SHPC_SL_EV_BUTTON)
				ev |= HS_HW_BUTTON;
			if (ev_bits & HS_SHPC_SL_EV_MRL)
				ev |= HS_HW_LATCH;
			hs_hpc_report(h->hpc, n, ev, NULL);
		}
		if (!any)
			return;
	}
}

static void shpc_isr(void *arg, const struct hs_irq *irq)
{
	struct shpchp *h = arg;

	(void)irq;
	hs_hpc_interrupt(h->hpc);
}

/* The event interrupts a slot has hardware for. */
static uint32_t slot_unmask(const struct shpchp *h)
{
	uint32_t ev = HS_SHPC_SL_EV_PRSNT | HS_SHPC_SL_EV_ISO_PF |
		      HS_SHPC_SL_EV_CON_PF;

	if (h->slot_config & HS_SHPC_SC_ABI)
		ev |= HS_SHPC_SL_EV_BUTTON;
	if (h->slot_config & HS_SHPC_SC_MRLSI)
		ev |= HS_SHPC_SL_EV_MRL;
	return HS_SHPC_SL_IMASK(ev);
}

static int shpc_notify(void *priv, bool irq)
{
	struct shpchp *h = priv;
	uint32_t si;
	int rc;

	if (irq && !h->irq_on) {
		rc = hs_dev_request_irq(h->br, shpc_isr, h);
		if (rc == 0 && !hs_dev_irq_attached(h->br)) {
			hs_dev_free_irq(h->br);
			rc = -HS_ENOTSUP; /* a shared line someone else owns */
		}
		if (rc)
			return -HS_ENOTSUP;
		h->irq_on = true;
	}
	/* Events from before we looked are not news (the core reconciles
	 * with each slot's state); the masks: every event the slot has
	 * hardware for in interrupt mode, none when polled.  SERR stays
	 * masked: errors are not hot-plug events. */
	for (unsigned n = 0; n < h->nslots; n++) {
		uint32_t r, m = HS_SHPC_SL_MASKS;

		if ((rc = rd(h, HS_SHPC_SLOT(n), &r)))
			return rc;
		if (irq)
			m &= ~slot_unmask(h);
		if ((rc = wr(h, HS_SHPC_SLOT(n), m | (r & HS_SHPC_SL_EVENTS))))
			return rc;
	}
	if ((rc = rd(h, HS_SHPC_SERR_INT, &si)))
		return rc;
	si = (si & HS_SHPC_SI_RW) | HS_SHPC_SI_GSM | HS_SHPC_SI_ASM;
	if (irq)
		si &= ~(HS_SHPC_SI_GIM | HS_SHPC_SI_CCIM);
	else
		si |= HS_SHPC_SI_GIM | HS_SHPC_SI_CCIM;
	if ((rc = wr(h, HS_SHPC_SERR_INT, si | HS_SHPC_SI_CC | HS_SHPC_SI_ATOUT)))
		return rc;
	h->cmd_slot = -1;
	/* Mask writes are not commands: nothing to wait for. */
	return 0;
}

static const struct hs_hpc_ops shpc_ops = {
	.kind = "shpc",
	.status = shpc_status,
	.command = shpc_command,
	.collect = shpc_collect,
	.notify = shpc_notify,
};

/* Base Offset of the working register set in BAR0, read through the
 * capability's DWORD window (DWORD 0). */
static int base_offset(struct hs_dev *br, uint16_t cap, uint32_t *base)
{
	int rc;

	if ((rc = hs_dev_cfg_write(br, (uint16_t)(cap + HS_SHPC_DWORD_SELECT), 1,
				   HS_SHPC_BASE_OFFSET / 4)) ||
	    (rc = hs_dev_cfg_read(br, (uint16_t)(cap + HS_SHPC_DWORD_DATA), 4,
				  base)))
		return rc;
	if (*base == 0xffffffffu)
		return -HS_ENODEV;
	return 0;
}

static int shpc_probe(struct hs_dev *br, void **priv)
{
	struct hs_hpc_slot_desc d[MAX_SLOTS];
	struct hs_resource bar;
	struct shpchp *h;
	uint16_t cap;
	unsigned first_dev, psn;
	int rc;

	if (hs_dev_find_cap(br, HS_SHPC_CAP_ID, &cap))
		return -HS_ENODEV; /* a bridge without an SHPC */
	/* The register set is used through memory; a controller whose BAR0
	 * was not assigned cannot be driven.  -HS_EIO, not a verdict: a
	 * sizing write lost at boot makes an implemented BAR0 look absent,
	 * and the core's boot then scans again (hs_core_enumerate). */
	if (hs_dev_bar(br, 0, &bar) || bar.kind != HS_RES_MEM)
		return -HS_EIO;
	h = hs_ctl_zalloc(br, sizeof(*h));
	if (!h)
		return -HS_ENOMEM;
	h->br = br;
	h->cmd_slot = -1;
	if ((rc = base_offset(br, cap, &h->base)))
		goto free_h;
	if (h->base > bar.size || bar.size - h->base < HS_SHPC_SLOT(MAX_SLOTS)) {
		rc = -HS_EINVAL;
		goto free_h;
	}
	if ((rc = rd(h, HS_SHPC_SLOT_CONFIG, &h->slot_config)))
		goto free_h;
	h->nslots = HS_SHPC_SC_NSLOTS(h->slot_config);
	first_dev = HS_SHPC_SC_FIRST_DEV(h->slot_config);
	psn = HS_SHPC_SC_PSN(h->slot_config);
	if (h->slot_config == 0xffffffffu || !h->nslots ||
	    h->nslots > MAX_SLOTS || first_dev + h->nslots > 32) {
		rc = -HS_EINVAL;
		goto free_h;
	}

	hs_memzero(d, sizeof(d));
	for (unsigned i = 0; i < h->nslots; i++) {
		/* Physical numbers go up or down from the first slot's. */
		d[i].phys = (h->slot_config & HS_SHPC_SC_PSN_UP) ? psn + i
			    : psn >= i ? psn - i : 0;
		d[i].devnum = (uint8_t)(first_dev + i);
		d[i].caps = HS_SLOT_CAP_POWER | HS_SLOT_CAP_PWR_IND |
			    HS_SLOT_CAP_ATTN_IND | HS_SLOT_CAP_LINK_REPORT;
		if (h->slot_config & HS_SHPC_SC_ABI)
			d[i].caps |= HS_SLOT_CAP_BUTTON;
		if (h->slot_config & HS_SHPC_SC_MRLSI)
			d[i].caps |= HS_SLOT_CAP_MRL;
		/* Enabled is reported at once; a conventional card then
		 * needs Trhfa before it is asked anything. */
		d[i].link_wait = 0;
		d[i].settle = SHPC_TRHFA;
		d[i].immediate_ready_ok = false;
	}
	if ((rc = hs_hpc_register(br, &shpc_ops, h, d, h->nslots, 0,
				  &h->hpc)))
		goto free_h;
	*priv = h;
	return 0;

free_h:
	hs_ctl_free(br, h, sizeof(*h));
	return rc;
}

static void shpc_remove(struct hs_dev *br, void *priv)
{
	struct shpchp *h = priv;
	uint32_t si;

	/* Quiet first: no interrupt may reach a controller being freed. */
	if (h->irq_on) {
		if (rd(h, HS_SHPC_SERR_INT, &si) == 0 && si != 0xffffffffu)
			wr(h, HS_SHPC_SERR_INT, (si & HS_SHPC_SI_RW) |
			   HS_SHPC_SI_GIM | HS_SHPC_SI_CCIM);
		hs_dev_free_irq(br);
		h->irq_on = false;
	}
	hs_hpc_unregister(h->hpc);
	hs_ctl_free(br, h, sizeof(*h));
}

static const struct hs_device_id shpc_ids[] = {
	/* PCI-to-PCI bridges; probe looks for the SHPC capability. */
	{ HS_ANY_ID, HS_ANY_ID, HS_ANY_ID, HS_ANY_ID, 0x060400, 0xffff00 },
	{ 0 },
};

const struct hs_driver hs_shpchp_driver = {
	.name = "shpchp",
	.ids = shpc_ids,
	.probe = shpc_probe,
	.remove = shpc_remove,
};
