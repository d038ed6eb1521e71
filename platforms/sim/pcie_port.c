/*
 * pcie_port.c - PCI Express root ports, switch ports and their hot-plug
 * slots.
 *
 * Owns: the port's type 1 header and PCI Express capability, Link
 * Capabilities / Control / Status (Data Link Layer Link Active reporting,
 * Link Disable), and the slot registers of PCIe Base 7.5.3.9 to 7.5.3.11:
 * Slot Capabilities, Slot Control (commands with Command Completed after a
 * delay, or No Command Completed Support), Slot Status (write-1-to-clear
 * events, presence / MRL / interlock state), the power controller that
 * really gates the card, link training that takes time after power-on,
 * and the hot-plug interrupt (MSI, or INTx as a level) raised on the
 * rising edge of "some enabled event is pending" (PCIe Base 6.7.3.4).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"
#include "hotswap/pcie_regs.h"

struct port {
	struct sim_slot *slot;   /* NULL when the port has no slot */
	bool irq_pending;        /* the OR of enabled events, last seen */
	unsigned cmd_ev;
};

static uint16_t px(const struct sim_fn *fn, unsigned reg)
{
	return (uint16_t)sim_cfg_get(&fn->cfg, fn->pcie_cap + reg, 2);
}

static void px_set(struct sim_fn *fn, unsigned reg, uint16_t bits)
{
	sim_cfg_setbits(&fn->cfg, fn->pcie_cap + reg, 2, bits);
}

static void px_clr(struct sim_fn *fn, unsigned reg, uint16_t bits)
{
	sim_cfg_clrbits(&fn->cfg, fn->pcie_cap + reg, 2, bits);
}

static bool dll_reporting(const struct sim_fn *fn)
{
	return sim_cfg_get(&fn->cfg, fn->pcie_cap + HS_PX_LNKCAP, 4) &
	       HS_LNKCAP_DLLLARC;
}

/* ---- the hot-plug interrupt ---------------------------------------- */

static void eval_irq(struct sim_fn *fn)
{
	struct port *p = fn->model_data;
	uint16_t ctl = px(fn, HS_PX_SLTCTL), sta = px(fn, HS_PX_SLTSTA);
	uint16_t ev = 0;
	bool pending;

	if (sta & HS_SLTSTA_ABP && ctl & HS_SLTCTL_ABPE)
		ev |= 1;
	if (sta & HS_SLTSTA_PFD && ctl & HS_SLTCTL_PFDE)
		ev |= 1;
	if (sta & HS_SLTSTA_MRLSC && ctl & HS_SLTCTL_MRLSCE)
		ev |= 1;
	if (sta & HS_SLTSTA_PDC && ctl & HS_SLTCTL_PDCE)
		ev |= 1;
	if (sta & HS_SLTSTA_CC && ctl & HS_SLTCTL_CCIE)
		ev |= 1;
	if (sta & HS_SLTSTA_DLLSC && ctl & HS_SLTCTL_DLLSCE)
		ev |= 1;
	pending = ev && (ctl & HS_SLTCTL_HPIE);
	if (pending == p->irq_pending)
		return;
	p->irq_pending = pending;
	if (fn->msi_cap && (sim_cfg_get(&fn->cfg, fn->msi_cap + 2, 2) & 1)) {
		/* MSI on the rising edge only; software must clear every
		 * enabled event before another message can be sent. */
		if (pending)
			sim_fn_interrupt(fn, 0);
		return;
	}
	sim_fn_intx(fn, pending);
}

static void sta_event(struct sim_fn *fn, uint16_t bits)
{
	px_set(fn, HS_PX_SLTSTA, bits);
	eval_irq(fn);
}

/* ---- link ------------------------------------------------------------- */

static void link_down(struct sim_fn *fn)
{
	struct port *p = fn->model_data;
	struct sim_slot *s = p->slot;
	bool was = px(fn, HS_PX_LNKSTA) & HS_LNKSTA_DLLLA;

	if (s) {
		sim_cancel(fn->sim, s->train_ev);
		s->train_ev = 0;
		sim_slot_connect(s, false);
	}
	px_clr(fn, HS_PX_LNKSTA, HS_LNKSTA_DLLLA | HS_LNKSTA_LT);
	if (was && dll_reporting(fn))
		sta_event(fn, HS_SLTSTA_DLLSC);
}

static void link_trained(struct sim *sim, void *arg, uintptr_t tag)
{
	struct sim_fn *fn = arg;
	struct port *p = fn->model_data;
	struct sim_slot *s = p->slot;

	(void)sim;
	(void)tag;
	s->train_ev = 0;
	px_clr(fn, HS_PX_LNKSTA, HS_LNKSTA_LT);
	if (!s->card || !s->powered || s->link_fail ||
	    (px(fn, HS_PX_LNKCTL) & HS_LNKCTL_LD))
		return;
	sim_slot_connect(s, true);
	if (dll_reporting(fn)) {
		px_set(fn, HS_PX_LNKSTA, HS_LNKSTA_DLLLA);
		sta_event(fn, HS_SLTSTA_DLLSC);
	}
}

/* Start training if a powered card sits behind an enabled link. */
static void link_train(struct sim_fn *fn)
{
	struct port *p = fn->model_data;
	struct sim_slot *s = p->slot;
	uint32_t t;

	if (!s || !s->card || !s->powered || s->connected || s->train_ev ||
	    (px(fn, HS_PX_LNKCTL) & HS_LNKCTL_LD))
		return;
	if (s->link_fail) {
		/* The LTSSM keeps trying and never gets to L0. */
		px_set(fn, HS_PX_LNKSTA, HS_LNKSTA_LT);
		return;
	}
	t = s->card->spec->link_train_us ? s->card->spec->link_train_us
					 : s->feat.link_train_us;
	px_set(fn, HS_PX_LNKSTA, HS_LNKSTA_LT);
	s->train_ev = sim_schedule(fn->sim, HS_USEC(t), link_trained, fn, 0);
}

/* ---- power -------------------------------------------------------------- */

static void power_arrived(struct sim *sim, void *arg, uintptr_t tag)
{
	struct sim_fn *fn = arg;
	struct port *p = fn->model_data;

	(void)sim;
	(void)tag;
	p->slot->power_ev = 0;
	sim_slot_power(p->slot, true);
	link_train(fn);
}

static void power_on(struct sim_fn *fn)
{
	struct sim_slot *s = ((struct port *)fn->model_data)->slot;

	if (s->power_ev)
		return;
	if (s->power_fault) {
		/* The fault is still there: the power controller trips
		 * again at once and says so (Power Fault Detected, PCIe
		 * 7.5.3.11), instead of a card that never comes up. */
		sta_event(fn, HS_SLTSTA_PFD);
		return;
	}
	if (s->powered) {
		link_train(fn);
		return;
	}
	if (s->feat.power_delay_us)
		s->power_ev = sim_schedule(fn->sim,
					   HS_USEC(s->feat.power_delay_us),
					   power_arrived, fn, 0);
	else
		power_arrived(fn->sim, fn, 0);
}

static void power_off(struct sim_fn *fn)
{
	struct sim_slot *s = ((struct port *)fn->model_data)->slot;

	sim_cancel(fn->sim, s->power_ev);
	s->power_ev = 0;
	link_down(fn);
	sim_slot_power(s, false);
}

/* ---- Slot Control commands --------------------------------------------- */

static void cmd_done(struct sim *sim, void *arg, uintptr_t tag)
{
	struct sim_fn *fn = arg;
	struct port *p = fn->model_data;

	(void)sim;
	(void)tag;
	p->cmd_ev = 0;
	sta_event(fn, HS_SLTSTA_CC);
}

static enum sim_indicator ind(uint16_t field, enum sim_indicator keep)
{
	switch (field) {
	case 1:
		return SIM_IND_ON;
	case 2:
		return SIM_IND_BLINK;
	case 3:
		return SIM_IND_OFF;
	default:
		return keep; /* 00b is reserved: no change */
	}
}

static void slot_control_written(struct sim_fn *fn, uint16_t old,
				 uint16_t now, bool eic)
{
	struct port *p = fn->model_data;
	struct sim_slot *s = p->slot;

	if (s->feat.attention_indicator)
		s->attn_ind = ind((now & HS_SLTCTL_AIC) >> 6, s->attn_ind);
	if (s->feat.power_indicator)
		s->power_ind = ind((now & HS_SLTCTL_PIC) >> 8, s->power_ind);
	if (s->feat.power_controller) {
		if ((old & HS_SLTCTL_PCC) && !(now & HS_SLTCTL_PCC))
			power_on(fn);
		else if (!(old & HS_SLTCTL_PCC) && (now & HS_SLTCTL_PCC))
			power_off(fn);
	}
	if (eic && s->feat.interlock) {
		/* Writing 1 to Electromechanical Interlock Control toggles
		 * the interlock; the bit itself always reads 0. */
		s->interlock = !s->interlock;
		if (s->interlock)
			px_set(fn, HS_PX_SLTSTA, HS_SLTSTA_EIS);
		else
			px_clr(fn, HS_PX_SLTSTA, HS_SLTSTA_EIS);
	}
	/* Every write to Slot Control is a command (PCIe Base 6.7.3.2). */
	if (!s->feat.no_cmd_completed) {
		sim_cancel(fn->sim, p->cmd_ev);
		p->cmd_ev = sim_schedule(fn->sim, HS_USEC(s->feat.cmd_delay_us),
					 cmd_done, fn, 0);
	}
	eval_irq(fn);
}

static bool covers(uint16_t off, unsigned width, uint16_t reg, unsigned len)
{
	return off < reg + len && off + width > reg;
}

static void port_cfg_written(struct sim_fn *fn, uint16_t off, unsigned width,
			     uint32_t old, uint32_t val)
{
	struct port *p = fn->model_data;
	uint16_t cap = fn->pcie_cap;

	if (!cap)
		return;
	if (p->slot && covers(off, width, cap + HS_PX_SLTCTL, 2)) {
		/* Rebuild the old Slot Control value from the bytes written. */
		uint16_t now = px(fn, HS_PX_SLTCTL), before = now;
		bool eic = false;

		for (unsigned i = 0; i < width; i++) {
			int b = (int)(off + i) - (int)(cap + HS_PX_SLTCTL);

			if (b < 0 || b > 1)
				continue;
			before = (uint16_t)((before & ~(0xffu << (8 * b))) |
					    (((old >> (8 * i)) & 0xff) << (8 * b)));
			if (b == 1 && ((val >> (8 * i)) & (HS_SLTCTL_EIC >> 8)))
				eic = true;
		}
		slot_control_written(fn, before, now, eic);
	}
	if (p->slot && covers(off, width, cap + HS_PX_SLTSTA, 2))
		eval_irq(fn); /* events cleared: the level may drop */
	if (covers(off, width, cap + HS_PX_LNKCTL, 2)) {
		if (px(fn, HS_PX_LNKCTL) & HS_LNKCTL_LD)
			link_down(fn);
		else
			link_train(fn);
	}
}

static void port_destroy(struct sim_fn *fn)
{
	free(fn->model_data);
	fn->model_data = NULL;
}

static const struct sim_fn_model root_port_model = {
	.kind = "root-port",
	.cfg_written = port_cfg_written,
	.destroy = port_destroy,
};
static const struct sim_fn_model up_port_model = {
	.kind = "switch-upstream",
	.cfg_written = port_cfg_written,
	.destroy = port_destroy,
};
static const struct sim_fn_model down_port_model = {
	.kind = "switch-downstream",
	.cfg_written = port_cfg_written,
	.destroy = port_destroy,
};

/* ---- physical actions ---------------------------------------------------- */

static struct sim_fn *slot_port(struct sim_slot *s)
{
	return s->ctrl;
}

static void px_inserted(struct sim_slot *s)
{
	struct sim_fn *fn = slot_port(s);
	uint16_t ev = HS_SLTSTA_PDC;

	px_set(fn, HS_PX_SLTSTA, HS_SLTSTA_PDS);
	if (s->feat.mrl_sensor && (px(fn, HS_PX_SLTSTA) & HS_SLTSTA_MRLSS)) {
		px_clr(fn, HS_PX_SLTSTA, HS_SLTSTA_MRLSS);
		ev |= HS_SLTSTA_MRLSC;
	}
	/* Without a power controller the slot is always powered; with one,
	 * a slot software left powered feeds the card at once. */
	if (!s->feat.power_controller ||
	    !(px(fn, HS_PX_SLTCTL) & HS_SLTCTL_PCC)) {
		if (!s->power_fault)
			power_on(fn);
	}
	sta_event(fn, ev);
}

static void px_removed(struct sim_slot *s)
{
	struct sim_fn *fn = slot_port(s);

	link_down(fn);
	if (!s->feat.power_controller)
		sim_slot_power(s, false);
	s->power_fault = false; /* the fault left with the card */
	px_clr(fn, HS_PX_SLTSTA, HS_SLTSTA_PDS);
	sta_event(fn, HS_SLTSTA_PDC);
}

static void px_button(struct sim_slot *s)
{
	sta_event(slot_port(s), HS_SLTSTA_ABP);
}

static void px_latch(struct sim_slot *s, bool open)
{
	struct sim_fn *fn = slot_port(s);

	if (open) {
		px_set(fn, HS_PX_SLTSTA, HS_SLTSTA_MRLSS);
		/* An open MRL takes main power from the card (PCI Hot-Plug
		 * 1.1, 2.2.1): the model cuts it, whatever Slot Control
		 * says, so software that ignores the latch loses the card. */
		if (s->powered)
			power_off(fn);
	} else {
		px_clr(fn, HS_PX_SLTSTA, HS_SLTSTA_MRLSS);
		if (!s->feat.power_controller ||
		    !(px(fn, HS_PX_SLTCTL) & HS_SLTCTL_PCC))
			power_on(fn);
	}
	sta_event(fn, HS_SLTSTA_MRLSC);
}

static void px_power_fault(struct sim_slot *s)
{
	struct sim_fn *fn = slot_port(s);

	power_off(fn);
	sta_event(fn, HS_SLTSTA_PFD);
}

static void px_presence_glitch(struct sim_slot *s, bool present)
{
	struct sim_fn *fn = slot_port(s);

	if (present)
		px_set(fn, HS_PX_SLTSTA, HS_SLTSTA_PDS);
	else
		px_clr(fn, HS_PX_SLTSTA, HS_SLTSTA_PDS);
	sta_event(fn, HS_SLTSTA_PDC);
}

static void px_link_glitch(struct sim_slot *s, bool up)
{
	struct sim_fn *fn = slot_port(s);
	bool shown = px(fn, HS_PX_LNKSTA) & HS_LNKSTA_DLLLA;

	/* During a bounce the card drops off and comes back with the link;
	 * at the end (up == s->connected) the real state is shown. */
	if (up == shown)
		return;
	if (up) {
		if (!s->card || !s->powered)
			return;
		sim_slot_connect(s, true);
		if (dll_reporting(fn)) {
			px_set(fn, HS_PX_LNKSTA, HS_LNKSTA_DLLLA);
			sta_event(fn, HS_SLTSTA_DLLSC);
		}
	} else {
		sim_slot_connect(s, false);
		px_clr(fn, HS_PX_LNKSTA, HS_LNKSTA_DLLLA);
		if (dll_reporting(fn))
			sta_event(fn, HS_SLTSTA_DLLSC);
	}
}

static void px_coldplugged(struct sim_slot *s)
{
	struct sim_fn *fn = slot_port(s);

	/* As firmware leaves a populated slot: powered, link up, power
	 * indicator on, attention off, nothing latched. */
	px_set(fn, HS_PX_SLTSTA, HS_SLTSTA_PDS);
	px_clr(fn, HS_PX_SLTSTA, HS_SLTSTA_MRLSS);
	if (s->feat.power_controller)
		px_clr(fn, HS_PX_SLTCTL, HS_SLTCTL_PCC);
	if (s->feat.power_indicator) {
		px_clr(fn, HS_PX_SLTCTL, HS_SLTCTL_PIC);
		px_set(fn, HS_PX_SLTCTL, 0x0100);
		s->power_ind = SIM_IND_ON;
	}
	sim_slot_power(s, true);
	sim_slot_connect(s, true);
	s->card->ready_at = 0;
	if (dll_reporting(fn))
		px_set(fn, HS_PX_LNKSTA, HS_LNKSTA_DLLLA);
}

static const struct sim_slot_ctrl_ops pcie_slot_ops = {
	.inserted = px_inserted,
	.removed = px_removed,
	.button = px_button,
	.latch = px_latch,
	.power_fault = px_power_fault,
	.presence_glitch = px_presence_glitch,
	.link_glitch = px_link_glitch,
	.coldplugged = px_coldplugged,
};

/* ---- construction ------------------------------------------------------- */

static void port_caps(struct sim_fn *fn, const struct sim_port_spec *spec)
{
	struct sim_cfg *c = &fn->cfg;
	const struct sim_slot_features *f = &spec->slot;
	uint16_t at, msi;
	uint32_t sltcap = 0, lnkcap;
	uint16_t ctlmask = 0, sltctl = 0;

	at = sim_cfg_add_cap(c, 0x01, 8); /* Power Management */
	if (at)
		sim_cfg_set(c, at + 2, 2, 0x0003);
	msi = sim_cfg_add_cap(c, 0x05, 10); /* MSI, one 32-bit vector */
	if (msi) {
		fn->msi_cap = msi;
		sim_cfg_set_wmask(c, msi + 2, 2, 0x0001);
		sim_cfg_set_wmask(c, msi + 4, 4, 0xfffffffc);
		sim_cfg_set_wmask(c, msi + 8, 2, 0xffff);
	}
	at = sim_cfg_add_cap(c, 0x10, 0x3c);
	fn->pcie_cap = at;
	sim_cfg_set(c, at + HS_PX_CAPS, 2,
		    0x0002 | ((unsigned)spec->type << 4) |
			    (spec->has_slot ? 0x0100 : 0));
	sim_cfg_set_wmask(c, at + HS_PX_DEVCTL, 2, 0x7cff);
	sim_cfg_set_w1c(c, at + HS_PX_DEVSTA, 2, 0x000f);
	lnkcap = 0x11 | ((uint32_t)(fn->devfn >> 3) << 24);
	if (spec->type != SIM_PORT_UPSTREAM &&
	    (!spec->has_slot || f->dll_active_reporting))
		lnkcap |= HS_LNKCAP_DLLLARC;
	sim_cfg_set(c, at + HS_PX_LNKCAP, 4, lnkcap);
	sim_cfg_set_wmask(c, at + HS_PX_LNKCTL, 2, 0x0ffb);
	sim_cfg_set(c, at + HS_PX_LNKSTA, 2, 0x0011);
	sim_cfg_set_w1c(c, at + HS_PX_LNKSTA, 2, 0xc000);
	if (spec->type != SIM_PORT_UPSTREAM) {
		/* ARI Forwarding Supported; Device Control 2 bit 5. */
		sim_cfg_set(c, at + HS_PX_DEVCAP2, 4, 0x20);
		sim_cfg_set_wmask(c, at + HS_PX_DEVCTL2, 2, 0x0020);
	}
	if (spec->type == SIM_PORT_ROOT) {
		sim_cfg_set(c, at + HS_PX_RTCAP, 2, 0x0001); /* CRS SV */
		sim_cfg_set_wmask(c, at + HS_PX_RTCTL, 2, 0x001f);
	}
	if (spec->has_slot) {
		if (f->attention_button) {
			sltcap |= HS_SLTCAP_ABP;
			ctlmask |= HS_SLTCTL_ABPE;
		}
		if (f->power_controller) {
			sltcap |= HS_SLTCAP_PCP;
			ctlmask |= HS_SLTCTL_PCC | HS_SLTCTL_PFDE;
			sltctl |= HS_SLTCTL_PCC; /* off out of reset */
		}
		if (f->mrl_sensor) {
			sltcap |= HS_SLTCAP_MRLSP;
			ctlmask |= HS_SLTCTL_MRLSCE;
		}
		if (f->attention_indicator) {
			sltcap |= HS_SLTCAP_AIP;
			ctlmask |= HS_SLTCTL_AIC;
			sltctl |= HS_SLTCTL_AIC;
		}
		if (f->power_indicator) {
			sltcap |= HS_SLTCAP_PIP;
			ctlmask |= HS_SLTCTL_PIC;
			sltctl |= HS_SLTCTL_PIC;
		}
		if (f->surprise)
			sltcap |= HS_SLTCAP_HPS;
		if (f->interlock)
			sltcap |= HS_SLTCAP_EIP;
		if (f->no_cmd_completed)
			sltcap |= HS_SLTCAP_NCCS;
		else
			ctlmask |= HS_SLTCTL_CCIE;
		if (f->dll_active_reporting)
			ctlmask |= HS_SLTCTL_DLLSCE;
		sltcap |= HS_SLTCAP_HPC;
		ctlmask |= HS_SLTCTL_PDCE | HS_SLTCTL_HPIE;
		sltcap |= (uint32_t)(spec->phys_slot & 0x1fff) << 19;
		sim_cfg_set(c, at + HS_PX_SLTCAP, 4, sltcap);
		sim_cfg_set(c, at + HS_PX_SLTCTL, 2, sltctl);
		sim_cfg_set_wmask(c, at + HS_PX_SLTCTL, 2, ctlmask);
		sim_cfg_set_w1c(c, at + HS_PX_SLTSTA, 2, 0x011f);
	}
	at = sim_cfg_add_cap(c, 0x0d, 8); /* Bridge Subsystem Vendor ID */
	if (at)
		sim_cfg_set(c, at + 4, 4,
			    spec->vendor | (uint32_t)spec->device << 16);
	if (spec->has_reserve) {
		/* QEMU's resource reservation capability (vendor specific,
		 * Red Hat type 1): bus, I/O, memory, 32- and 64-bit
		 * prefetchable; all ones means "no hint". */
		at = sim_cfg_add_cap(c, 0x09, 0x20);
		if (at) {
			sim_cfg_set(c, at + 2, 1, 0x20);
			sim_cfg_set(c, at + 3, 1, 1);
			sim_cfg_set(c, at + 4, 4,
				    spec->bus_reserve ? spec->bus_reserve
						      : 0xffffffffu);
			uint64_t io = spec->io_reserve ? spec->io_reserve : ~0ull;
			uint64_t p64 = spec->pref64_reserve ? spec->pref64_reserve
							    : ~0ull;

			sim_cfg_set(c, at + 8, 4, (uint32_t)io);
			sim_cfg_set(c, at + 12, 4, (uint32_t)(io >> 32));
			sim_cfg_set(c, at + 16, 4,
				    spec->mem_reserve ? (uint32_t)spec->mem_reserve
						      : 0xffffffffu);
			sim_cfg_set(c, at + 20, 4,
				    spec->pref32_reserve
					    ? (uint32_t)spec->pref32_reserve
					    : 0xffffffffu);
			sim_cfg_set(c, at + 24, 4, (uint32_t)p64);
			sim_cfg_set(c, at + 28, 4, (uint32_t)(p64 >> 32));
		}
	}
	sim_cfg_add_ext_cap(c, 0x0001, 2, 0x48); /* AER */
}

struct sim_fn *sim_add_pcie_port(struct sim_bus *bus, uint8_t dev, uint8_t fnum,
				 const struct sim_port_spec *spec, int *err)
{
	struct sim_fn *fn;
	struct port *p;

	if (dev > 31 || fnum > 7 ||
	    (spec->type != SIM_PORT_ROOT && spec->type != SIM_PORT_UPSTREAM &&
	     spec->type != SIM_PORT_DOWNSTREAM) ||
	    (spec->has_slot && spec->type == SIM_PORT_UPSTREAM)) {
		*err = -HS_EINVAL;
		return NULL;
	}
	/* A port below a link sits at device 0 only (PCIe Base 7.3.1). */
	if (bus->link_below_port && dev != 0) {
		*err = -HS_EINVAL;
		return NULL;
	}
	fn = sim_fn_new(bus, (uint8_t)(dev << 3 | fnum), SIM_FN_PCIE_PORT, err);
	if (!fn)
		return NULL;
	p = sim_zalloc(sizeof(*p));
	if (!p)
		goto fail_fn;
	fn->model_data = p;
	fn->model = spec->type == SIM_PORT_ROOT ? &root_port_model
		    : spec->type == SIM_PORT_UPSTREAM ? &up_port_model
						       : &down_port_model;
	sim_bridge_header_init(fn, spec->vendor, spec->device, true, true);
	sim_cfg_set(&fn->cfg, 0x3d, 1, 1); /* INTA# for hot-plug INTx */
	fn->secondary = sim_bus_new(bus->sim, fn);
	if (!fn->secondary)
		goto fail_fn;
	fn->secondary->link_below_port = spec->type != SIM_PORT_UPSTREAM;
	port_caps(fn, spec);
	if (spec->has_slot) {
		p->slot = sim_slot_new(bus->sim, SIM_SLOT_PCIE, spec->phys_slot,
				       fn, fn->secondary, 0);
		if (!p->slot)
			goto fail_fn;
		p->slot->feat = spec->slot;
		sim_slot_set_ctrl_ops(p->slot, &pcie_slot_ops);
		/* A slot without a power controller is always powered. */
		if (!spec->slot.power_controller)
			sim_slot_power(p->slot, true);
	}
	return fn;

fail_fn:
	sim_fn_free(fn);
	*err = -HS_ENOMEM;
	return NULL;
}
