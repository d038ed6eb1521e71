/*
 * shpc.c - the PCI Standard Hot-Plug Controller (SHPC 1.0) on a
 * conventional PCI-to-PCI bridge, and the slots on its secondary bus.
 *
 * Owns: the bridge function (type 1 header, MSI capability, PCI Hot-Plug
 * capability 0x0C with its DWORD Select / DWORD Data window, BAR0 holding
 * the SHPC working register set), the controller's command engine (slot
 * operations, bus speed, power-only-all / enable-all, Controller Busy and
 * Command Status, completion after a delay), the logical slot registers
 * (state, indicators, sensed signals, write-1-to-clear event latches and
 * their interrupt / SERR masks), the slot power and bus isolation switches
 * that really gate the cards, and the controller's interrupt (INTx as a
 * level or MSI on the rising edge) and SERR locator.
 *
 * Working register set, byte offsets from BAR0 (the same dwords are read
 * through the capability window: DWORD Select n shows offset 4 * n):
 *
 *   0x00 Base Offset           RO  0: the set starts at BAR0 + 0
 *   0x04 Slots Available I     RO  4:0 slots at 33 MHz conventional
 *                                  (= number of slots); PCI-X fields 0
 *   0x08 Slots Available II    RO  0 (no 66 MHz conventional slots)
 *   0x0C Slot Configuration    RO  4:0 slots, 12:8 first device number,
 *                                  26:16 physical number of slot 1,
 *                                  29 numbers go up, 30 MRL sensors,
 *                                  31 attention buttons
 *   0x10 Secondary Bus Config  RO  2:0 bus speed/mode (000 = 33 MHz);
 *                                  23:16 MSI Control (not modelled, 0);
 *                                  31:24 Programming Interface = 01h
 *   0x14 Command               RW  7:0 command code, 12:8 target slot
 *   0x16 Command Status        RO  0 Controller Busy, 1 MRL Open,
 *                                  2 Invalid Command, 3 Invalid Speed/Mode
 *   0x18 Interrupt Locator     RO  0 command completion, n slot n
 *   0x1C SERR Locator          RO  0 arbiter (never), n slot n
 *   0x20 Controller SERR-INT   0 Global Interrupt Mask, 1 Global SERR
 *        Enable                Mask, 2 Command Completion Interrupt Mask,
 *                              3 Arbiter SERR Mask (RW, all 1 at reset);
 *                              16 Command Completion Detected, 17 Arbiter
 *                              Time-out Detected (RW1C)
 *   0x24 + 4(n-1) logical slot n:
 *        RO  1:0 state (01 power only, 10 enabled, 11 disabled),
 *            3:2 power indicator, 5:4 attention indicator (01 on,
 *            10 blink, 11 off), 6 power fault (0 = fault), 7 attention
 *            button (0: the model's button is momentary), 8 MRL open,
 *            9 M66EN (0), 11:10 PRSNT2#/PRSNT1# (11 empty, 00 a card:
 *            the model reports every card as 7.5 W), 13:12 PCI-X (00)
 *        RW1C 16 card presence changed, 17 isolated power fault,
 *            18 attention button pressed, 19 MRL sensor changed,
 *            20 connected power fault
 *        RW  24-28 interrupt masks of events 16-20, 29 MRL SERR mask,
 *            30 connected power fault SERR mask (all 1 at reset)
 *
 * Software should use BAR0.  Writes through the capability's DWORD Data
 * register reach the working register set too in this model (QEMU 7.2
 * ignores them), but real controllers differ and the facts sheet says so.
 * The capability's pending bits (byte 3) are not modelled and read 0:
 * software finds pending work through the Interrupt Locator.
 *
 * Model choices (SHPC 1.0 leaves them to the implementation):
 *  - A command takes effect when it completes, cmd_delay_us after the
 *    write (0: at the next turn of the virtual clock, never inside the
 *    write); a write to Command while the controller is busy is dropped.
 *  - A command that fails changes nothing (indicators included).
 *  - Power-only or enable of a slot whose presence pins show no card is
 *    an Invalid Command; with the MRL open it fails with MRL Open;
 *    enabled -> power-only is an Invalid Command.
 *  - Power-Only All / Enable All fail with Invalid Command unless every
 *    slot is disabled; they act on the slots holding a card with the MRL
 *    closed and turn those slots' power indicators on.
 *  - The hardware isolates (disables and powers off) a slot on its own
 *    when its MRL opens, its card is pulled or its power faults; the
 *    indicators stay as software set them.
 *  - A power fault latches Isolated Power Fault, and Connected Power
 *    Fault as well when the slot was enabled.  The fault condition lasts
 *    until the card is pulled; powering the slot again trips it at once.
 *  - SERR# is not wired to the platform: a rising SERR condition sets
 *    Signaled System Error in the bridge's Status when SERR# Enable is on.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "hotswap/shpc_regs.h"
#include "sim_internal.h"

#define MAX_SLOTS 31u
#define BAR0_SIZE 4096u

/* Configuration header bits used here (PCI 3.0, 6.2.2 and 6.2.3). */
#define CFG_COMMAND     0x04
#define CFG_STATUS      0x06
#define CMD_SERR_EN     0x0100
#define STATUS_SSE      0x4000

/* The PCI Hot-Plug capability's size; its registers and the working
 * register set are in hotswap/shpc_regs.h, shared with the driver. */
#define CAP_SIZE         8

#define PROG_IF_SHPC_1_0 0x01u

struct shpc {
	struct sim_fn *fn;
	unsigned nslots;
	uint32_t slot_config;
	uint32_t cmd_delay_us;
	uint16_t sec_bus;        /* Secondary Bus Configuration */
	uint16_t cmd;            /* Command, as last accepted */
	uint16_t cmd_status;
	uint32_t serr_int;       /* Controller SERR-INT Enable */
	unsigned cmd_ev;
	bool irq_level;          /* interrupt condition, last seen */
	bool serr_level;         /* SERR condition, last seen */
	uint32_t reg[MAX_SLOTS]; /* logical slot registers */
	struct sim_slot *slot[MAX_SLOTS];
};

static struct shpc *of_fn(const struct sim_fn *fn)
{
	return fn->model_data;
}

/* ---- derived registers -------------------------------------------------- */

static uint32_t int_locator(const struct shpc *h)
{
	uint32_t loc = 0;

	if ((h->serr_int & HS_SHPC_SI_CC) && !(h->serr_int & HS_SHPC_SI_CCIM))
		loc |= 1;
	for (unsigned n = 0; n < h->nslots; n++) {
		uint32_t r = h->reg[n];
		uint32_t masked = (r >> HS_SHPC_SL_IMASK_SHIFT) & HS_SHPC_SL_EVENTS;

		if (r & HS_SHPC_SL_EVENTS & ~masked)
			loc |= 1u << (n + 1);
	}
	return loc;
}

static uint32_t serr_locator(const struct shpc *h)
{
	uint32_t loc = 0;

	/* Only MRL changes and connected power faults can raise SERR#
	 * (SHPC 1.0, Logical Slot Register); arbiter time-outs are never
	 * modelled. */
	for (unsigned n = 0; n < h->nslots; n++) {
		uint32_t r = h->reg[n];

		if (((r & HS_SHPC_SL_EV_MRL) && !(r & HS_SHPC_SL_SERR_MRL)) ||
		    ((r & HS_SHPC_SL_EV_CON_PF) && !(r & HS_SHPC_SL_SERR_CPF)))
			loc |= 1u << (n + 1);
	}
	return loc;
}

/* The register block's read (regblock.c): ctx is the struct shpc. */
static uint32_t reg_read(void *ctx, uint32_t off)
{
	const struct shpc *h = ctx;

	switch (off) {
	case HS_SHPC_BASE_OFFSET:
		return 0;
	case HS_SHPC_SLOTS_AVAIL1:
		return h->nslots;
	case HS_SHPC_SLOTS_AVAIL2:
		return 0;
	case HS_SHPC_SLOT_CONFIG:
		return h->slot_config;
	case HS_SHPC_SEC_BUS:
		return h->sec_bus | PROG_IF_SHPC_1_0 << 24;
	case HS_SHPC_COMMAND:
		return h->cmd | (uint32_t)h->cmd_status << 16;
	case HS_SHPC_INT_LOCATOR:
		return int_locator(h);
	case HS_SHPC_SERR_LOCATOR:
		return serr_locator(h);
	case HS_SHPC_SERR_INT:
		return h->serr_int;
	default:
		break;
	}
	if (off >= HS_SHPC_SLOT(0) && off < HS_SHPC_SLOT(0) + 4 * h->nslots)
		return h->reg[(off - HS_SHPC_SLOT(0)) / 4];
	return 0;
}

/*
 * Re-derive everything that follows from the registers: the interrupt
 * (asserted while the Interrupt Locator is non-zero and the Global
 * Interrupt Mask is clear), SERR, and the capability's DWORD Data window
 * (config reads come straight from the stored bytes, so it must always
 * hold the selected dword).
 */
static void update(struct shpc *h)
{
	struct sim_fn *fn = h->fn;
	struct sim_cfg *c = &fn->cfg;
	bool level = !(h->serr_int & HS_SHPC_SI_GIM) && int_locator(h);
	bool serr = !(h->serr_int & HS_SHPC_SI_GSM) && serr_locator(h);
	uint32_t sel;

	if (fn->msi_cap && (sim_cfg_get(c, fn->msi_cap + 2, 2) & 1)) {
		/* With MSI enabled the pin is not used (PCI 3.0, 6.8); a
		 * message goes out when the condition rises, so software must
		 * clear every unmasked event before the next one. */
		sim_fn_intx(fn, false);
		if (level && !h->irq_level)
			sim_fn_interrupt(fn, 0);
	} else {
		sim_fn_intx(fn, level);
	}
	h->irq_level = level;

	if (serr && !h->serr_level &&
	    (sim_cfg_get(c, CFG_COMMAND, 2) & CMD_SERR_EN))
		sim_cfg_setbits(c, CFG_STATUS, 2, STATUS_SSE);
	h->serr_level = serr;

	sel = sim_cfg_get(c, fn->shpc_cap + HS_SHPC_DWORD_SELECT, 1);
	sim_cfg_set(c, fn->shpc_cap + HS_SHPC_DWORD_DATA, 4,
		    reg_read(h, 4 * sel));
}

/* ---- slot state --------------------------------------------------------- */

static void set_field(uint32_t *r, uint32_t mask, uint32_t val)
{
	*r = (*r & ~mask) | ((val * (mask & -mask)) & mask);
}

static enum sim_indicator ind_of(unsigned code)
{
	return code == HS_SHPC_IND_ON ? SIM_IND_ON
	       : code == HS_SHPC_IND_BLINK ? SIM_IND_BLINK : SIM_IND_OFF;
}

static void set_power_ind(struct shpc *h, unsigned n, unsigned code)
{
	if (!code)
		return; /* 00b: no change */
	set_field(&h->reg[n], HS_SHPC_SL_PWR_IND, code);
	h->slot[n]->power_ind = ind_of(code);
}

static void set_attn_ind(struct shpc *h, unsigned n, unsigned code)
{
	if (!code)
		return;
	set_field(&h->reg[n], HS_SHPC_SL_ATTN_IND, code);
	h->slot[n]->attn_ind = ind_of(code);
}

static unsigned state_of(const struct shpc *h, unsigned n)
{
	return h->reg[n] & HS_SHPC_SL_STATE;
}

/* Open the bus switches and cut power: the card resets and is gone from
 * the bus (its config reads master-abort). */
static void isolate(struct shpc *h, unsigned n)
{
	struct sim_slot *s = h->slot[n];

	if (s->connected)
		sim_slot_connect(s, false);
	if (s->powered)
		sim_slot_power(s, false);
	set_field(&h->reg[n], HS_SHPC_SL_STATE, HS_SHPC_ST_DISABLED);
}

static void fault_trip(struct shpc *h, unsigned n)
{
	uint32_t ev = HS_SHPC_SL_EV_ISO_PF;

	if (state_of(h, n) == HS_SHPC_ST_ENABLED)
		ev |= HS_SHPC_SL_EV_CON_PF;
	isolate(h, n);
	h->reg[n] &= ~HS_SHPC_SL_PF_N;
	h->reg[n] |= ev;
}

static void power_up(struct shpc *h, unsigned n, bool connect)
{
	struct sim_slot *s = h->slot[n];

	if (s->power_fault) {
		/* The fault is still there: the power controller trips
		 * again as soon as it switches the slot on. */
		fault_trip(h, n);
		return;
	}
	sim_slot_power(s, true);
	if (connect && !s->connected)
		sim_slot_connect(s, true);
	set_field(&h->reg[n], HS_SHPC_SL_STATE,
		  connect ? HS_SHPC_ST_ENABLED : HS_SHPC_ST_PWRONLY);
}

static bool shows_present(const struct shpc *h, unsigned n)
{
	return (h->reg[n] & HS_SHPC_SL_PRSNT) != HS_SHPC_PRSNT_EMPTY;
}

/* ---- commands (SHPC 1.0, Command register and command set) -------------- */

static uint16_t slot_operation(struct shpc *h, unsigned target, unsigned code)
{
	unsigned state = code & 3, pwr = (code >> 2) & 3;
	unsigned attn = (code >> 4) & 3, n;

	/* Logical slots are numbered from 1 in the target field. */
	if (target < 1 || target > h->nslots)
		return HS_SHPC_CS_INVALID;
	n = target - 1;
	if (state == HS_SHPC_ST_PWRONLY || state == HS_SHPC_ST_ENABLED) {
		if (state == HS_SHPC_ST_PWRONLY && state_of(h, n) == HS_SHPC_ST_ENABLED)
			return HS_SHPC_CS_INVALID;
		if (h->reg[n] & HS_SHPC_SL_MRL_OPEN)
			return HS_SHPC_CS_MRL_OPEN;
		if (!shows_present(h, n))
			return HS_SHPC_CS_INVALID;
	}
	set_power_ind(h, n, pwr);
	set_attn_ind(h, n, attn);
	switch (state) {
	case HS_SHPC_ST_PWRONLY:
		power_up(h, n, false);
		break;
	case HS_SHPC_ST_ENABLED:
		power_up(h, n, true);
		break;
	case HS_SHPC_ST_DISABLED:
		isolate(h, n);
		break;
	default:
		break; /* 00b: state unchanged */
	}
	return 0;
}

static uint16_t set_bus_speed(struct shpc *h, unsigned mode)
{
	/* Only 33 MHz conventional is available (Slots Available I/II);
	 * codes 5-7 of Set Bus Segment Speed/Mode A are reserved. */
	if (mode == 0) {
		h->sec_bus = 0;
		return 0;
	}
	return mode <= 4 ? HS_SHPC_CS_BAD_SPEED : HS_SHPC_CS_INVALID;
}

static uint16_t all_slots(struct shpc *h, bool enable)
{
	for (unsigned n = 0; n < h->nslots; n++)
		if (state_of(h, n) != HS_SHPC_ST_DISABLED)
			return HS_SHPC_CS_INVALID;
	for (unsigned n = 0; n < h->nslots; n++) {
		if (!shows_present(h, n) || (h->reg[n] & HS_SHPC_SL_MRL_OPEN))
			continue;
		set_power_ind(h, n, HS_SHPC_IND_ON);
		power_up(h, n, enable);
	}
	return 0;
}

static uint16_t cmd_execute(struct shpc *h)
{
	unsigned code = h->cmd & 0xff, target = (h->cmd >> 8) & 0x1f;

	if (code <= 0x3f)
		return slot_operation(h, target, code);
	if (code <= 0x47)
		return set_bus_speed(h, code & 7);
	if (code == 0x48)
		return all_slots(h, false);
	if (code == 0x49)
		return all_slots(h, true);
	return HS_SHPC_CS_INVALID;
}

static void cmd_done(struct sim *sim, void *arg, uintptr_t tag)
{
	struct shpc *h = of_fn(arg);

	(void)sim;
	(void)tag;
	h->cmd_ev = 0;
	h->cmd_status = cmd_execute(h); /* Controller Busy drops */
	h->serr_int |= HS_SHPC_SI_CC;
	update(h);
}

static void cmd_issue(struct shpc *h)
{
	/* Errors of the previous command clear as a new one starts. */
	h->cmd_status = HS_SHPC_CS_BUSY;
	h->cmd_ev = sim_schedule(h->fn->sim, HS_USEC(h->cmd_delay_us),
				 cmd_done, h->fn, 0);
}

/* ---- register writes ---------------------------------------------------- */

/* A write of the bytes wm selects (0xff per lane) of the dword at off
 * (the register block's write; ctx is the struct shpc). */
static void reg_write(void *ctx, uint32_t off, uint32_t val, uint32_t wm)
{
	struct shpc *h = ctx;

	if (off == HS_SHPC_COMMAND && (wm & 0xffff)) {
		/* Software must wait for Controller Busy to clear; the model
		 * drops a command written while one is running. */
		if (h->cmd_status & HS_SHPC_CS_BUSY)
			return;
		h->cmd = (uint16_t)sim_reg_apply(h->cmd, val, wm, 0x1fff, 0);
		if (wm & 0xff)
			cmd_issue(h);
	} else if (off == HS_SHPC_SERR_INT) {
		h->serr_int = sim_reg_apply(h->serr_int, val, wm,
					    HS_SHPC_SI_RW, HS_SHPC_SI_W1C);
	} else if (off >= HS_SHPC_SLOT(0) && off < HS_SHPC_SLOT(0) + 4 * h->nslots) {
		uint32_t *r = &h->reg[(off - HS_SHPC_SLOT(0)) / 4];

		*r = sim_reg_apply(*r, val, wm, HS_SHPC_SL_MASKS,
				   HS_SHPC_SL_EVENTS);
	}
	update(h);
}

static struct sim_regblock block(struct shpc *h)
{
	return (struct sim_regblock){ .read = reg_read, .write = reg_write,
				      .ctx = h,
				      .size = BAR0_SIZE };
}

static uint64_t shpc_bar_read(struct sim_fn *fn, int bar, uint64_t off,
			      unsigned width)
{
	struct sim_regblock rb = block(of_fn(fn));

	return bar == 0 ? sim_regblock_read(&rb, off, width) : 0;
}

static void shpc_bar_write(struct sim_fn *fn, int bar, uint64_t off,
			   unsigned width, uint64_t val)
{
	struct sim_regblock rb = block(of_fn(fn));

	if (bar == 0)
		sim_regblock_write(&rb, off, width, val);
}

static void shpc_cfg_written(struct sim_fn *fn, uint16_t off, unsigned width,
			     uint32_t old, uint32_t val)
{
	struct shpc *h = of_fn(fn);
	uint16_t data = fn->shpc_cap + HS_SHPC_DWORD_DATA;

	(void)old;
	uint32_t v, wm;

	if (sim_regblock_window(off, width, val, data, &v, &wm)) {
		/* A write through the DWORD Data window goes to the selected
		 * register, with the byte enables of the config write. */
		uint32_t sel = sim_cfg_get(&fn->cfg,
					   fn->shpc_cap + HS_SHPC_DWORD_SELECT, 1);

		reg_write(h, 4 * sel, v, wm);
		return;
	}
	/* DWORD Select, Interrupt Disable, SERR# Enable and MSI Enable all
	 * change what update() derives. */
	update(h);
}

static void shpc_destroy(struct sim_fn *fn)
{
	free(fn->model_data);
	fn->model_data = NULL;
}

static const struct sim_fn_model shpc_model = {
	.kind = "shpc-bridge",
	.cfg_written = shpc_cfg_written,
	.bar_read = shpc_bar_read,
	.bar_write = shpc_bar_write,
	.destroy = shpc_destroy,
};

/* ---- physical actions --------------------------------------------------- */

static struct shpc *slot_shpc(const struct sim_slot *s)
{
	return of_fn(s->ctrl);
}

static void set_presence(struct shpc *h, unsigned n, bool present)
{
	set_field(&h->reg[n], HS_SHPC_SL_PRSNT,
		  (present ? HS_SHPC_PRSNT_7W5 : HS_SHPC_PRSNT_EMPTY) >> 10);
}

static void shpc_inserted(struct sim_slot *s)
{
	struct shpc *h = slot_shpc(s);
	unsigned n = s->index;

	set_presence(h, n, true);
	h->reg[n] |= HS_SHPC_SL_EV_PRSNT;
	/* The MRL closed behind the card. */
	if (h->reg[n] & HS_SHPC_SL_MRL_OPEN) {
		h->reg[n] &= ~HS_SHPC_SL_MRL_OPEN;
		h->reg[n] |= HS_SHPC_SL_EV_MRL;
	}
	update(h);
}

static void shpc_removed(struct sim_slot *s)
{
	struct shpc *h = slot_shpc(s);
	unsigned n = s->index;

	/* A card pulled from a live slot: the controller isolates the slot
	 * rather than leave the bus switches and power on an empty
	 * connector.  The fault, if any, left with the card. */
	if (state_of(h, n) != HS_SHPC_ST_DISABLED || s->powered)
		isolate(h, n);
	s->power_fault = false;
	h->reg[n] |= HS_SHPC_SL_PF_N;
	set_presence(h, n, false);
	h->reg[n] |= HS_SHPC_SL_EV_PRSNT;
	update(h);
}

static void shpc_button(struct sim_slot *s)
{
	struct shpc *h = slot_shpc(s);

	h->reg[s->index] |= HS_SHPC_SL_EV_BUTTON;
	update(h);
}

static void shpc_latch(struct sim_slot *s, bool open)
{
	struct shpc *h = slot_shpc(s);
	unsigned n = s->index;

	if (open) {
		h->reg[n] |= HS_SHPC_SL_MRL_OPEN;
		/* An open MRL must not leave the slot powered (SHPC 1.0: the
		 * controller disables the slot on its own). */
		if (state_of(h, n) != HS_SHPC_ST_DISABLED)
			isolate(h, n);
	} else {
		h->reg[n] &= ~HS_SHPC_SL_MRL_OPEN;
	}
	h->reg[n] |= HS_SHPC_SL_EV_MRL;
	update(h);
}

static void shpc_power_fault(struct sim_slot *s)
{
	struct shpc *h = slot_shpc(s);

	fault_trip(h, s->index);
	update(h);
}

static void shpc_presence_glitch(struct sim_slot *s, bool present)
{
	struct shpc *h = slot_shpc(s);

	set_presence(h, s->index, present);
	h->reg[s->index] |= HS_SHPC_SL_EV_PRSNT;
	update(h);
}

static void shpc_coldplugged(struct sim_slot *s)
{
	struct shpc *h = slot_shpc(s);
	unsigned n = s->index;

	/* As firmware leaves a populated slot: enabled, power indicator on,
	 * attention off, MRL closed, nothing latched. */
	set_presence(h, n, true);
	h->reg[n] &= ~HS_SHPC_SL_MRL_OPEN;
	set_power_ind(h, n, HS_SHPC_IND_ON);
	set_attn_ind(h, n, HS_SHPC_IND_OFF);
	sim_slot_power(s, true);
	sim_slot_connect(s, true);
	s->card->ready_at = 0;
	set_field(&h->reg[n], HS_SHPC_SL_STATE, HS_SHPC_ST_ENABLED);
	update(h);
}

static const struct sim_slot_ctrl_ops shpc_slot_ops = {
	.inserted = shpc_inserted,
	.removed = shpc_removed,
	.button = shpc_button,
	.latch = shpc_latch,
	.power_fault = shpc_power_fault,
	.presence_glitch = shpc_presence_glitch,
	.coldplugged = shpc_coldplugged,
};

/* ---- construction ------------------------------------------------------- */

static void shpc_caps(struct sim_fn *fn)
{
	struct sim_cfg *c = &fn->cfg;
	uint16_t at;

	at = sim_cfg_add_cap(c, 0x05, 10); /* MSI, one 32-bit vector */
	if (at) {
		fn->msi_cap = at;
		sim_cfg_set_wmask(c, at + 2, 2, 0x0001);
		sim_cfg_set_wmask(c, at + 4, 4, 0xfffffffc);
		sim_cfg_set_wmask(c, at + 8, 2, 0xffff);
	}
	at = sim_cfg_add_cap(c, HS_SHPC_CAP_ID, CAP_SIZE);
	fn->shpc_cap = at;
	sim_cfg_set_wmask(c, at + HS_SHPC_DWORD_SELECT, 1, 0xff);
}

static void shpc_reset_regs(struct shpc *h, const struct sim_shpc_spec *spec)
{
	h->slot_config = h->nslots | (uint32_t)spec->first_dev << 8 |
			 (uint32_t)(spec->first_phys & 0x7ff) << 16 |
			 HS_SHPC_SC_PSN_UP;
	if (spec->mrl_sensor)
		h->slot_config |= HS_SHPC_SC_MRLSI;
	if (spec->attention_button)
		h->slot_config |= HS_SHPC_SC_ABI;
	/* Every mask set out of reset: software unmasks what it handles. */
	h->serr_int = HS_SHPC_SI_RW;
	for (unsigned n = 0; n < h->nslots; n++)
		h->reg[n] = HS_SHPC_ST_DISABLED | HS_SHPC_IND_OFF << 2 |
			    HS_SHPC_IND_OFF << 4 | HS_SHPC_SL_PF_N |
			    HS_SHPC_PRSNT_EMPTY | HS_SHPC_SL_MASKS;
}

struct sim_fn *sim_add_shpc_bridge(struct sim_bus *bus, uint8_t dev,
				   uint8_t fnum,
				   const struct sim_shpc_spec *spec, int *err)
{
	struct sim_fn *fn;
	struct shpc *h;

	if (!sim_multislot_args_ok(bus, dev, fnum, spec->nslots, MAX_SLOTS,
				   spec->first_dev)) {
		*err = -HS_EINVAL;
		return NULL;
	}
	fn = sim_fn_new(bus, (uint8_t)(dev << 3 | fnum), SIM_FN_SHPC_BRIDGE,
			err);
	if (!fn)
		return NULL;
	h = sim_zalloc(sizeof(*h));
	if (!h)
		goto fail_fn;
	fn->model_data = h;
	fn->model = &shpc_model;
	h->fn = fn;
	h->nslots = spec->nslots;
	h->cmd_delay_us = spec->cmd_delay_us;
	sim_bridge_header_init(fn, spec->vendor, spec->device, true, true);
	sim_cfg_set(&fn->cfg, 0x3d, 1, 1); /* INTA# for the controller */
	sim_fn_define_bar(fn, 0, SIM_BAR_MEM32, false, BAR0_SIZE);
	fn->secondary = sim_bus_new(bus->sim, fn);
	if (!fn->secondary)
		goto fail_fn;
	shpc_caps(fn);
	shpc_reset_regs(h, spec);
	for (unsigned n = 0; n < h->nslots; n++) {
		struct sim_slot *s;

		/* If this fails part way, slots already registered stay in
		 * the chassis list (sim.c cannot unregister one); the
		 * simulator treats its own allocation failures as fatal
		 * anyway. */
		s = sim_slot_new(bus->sim, SIM_SLOT_SHPC, spec->first_phys + n,
				 fn, fn->secondary,
				 (uint8_t)(spec->first_dev + n));
		if (!s)
			goto fail_fn;
		s->index = n;
		memset(&s->feat, 0, sizeof(s->feat));
		s->feat.power_controller = true;
		s->feat.attention_indicator = true;
		s->feat.power_indicator = true;
		s->feat.attention_button = spec->attention_button;
		s->feat.mrl_sensor = spec->mrl_sensor;
		s->feat.cmd_delay_us = spec->cmd_delay_us;
		h->slot[n] = s;
		sim_slot_set_ctrl_ops(s, &shpc_slot_ops);
	}
	update(h);
	return fn;

fail_fn:
	for (unsigned n = 0; h && n < h->nslots; n++)
		if (h->slot[n])
			sim_slot_set_ctrl_ops(h->slot[n], NULL);
	sim_fn_free(fn);
	*err = -HS_ENOMEM;
	return NULL;
}
