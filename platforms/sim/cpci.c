/*
 * cpci.c - a CompactPCI backplane segment behind the system slot board's
 * PCI-to-PCI bridge, with PICMG 2.1 Hot Swap boards in its slots.
 *
 * Owns: the bridge function, the hardware connection process of the
 * boards (power from the backplane, BD_SEL#, the ejector handle switch),
 * the board side of the Hot Swap Control/Status register (INS, EXT and
 * the hardware-driven blue LED; card.c builds the register itself), the
 * bussed ENUM# signal, and, in high-availability mode, a slot power
 * register block in the bridge's BAR0 with its presence interrupt.
 *
 * Insertion (PICMG 2.1 hardware connection): a board in a full hot swap
 * system is powered by the backplane as it seats; in a high-availability
 * system (spec->power_control) it waits, unpowered and off the bus, until
 * software switches its slot power on.  Once powered it leaves reset and
 * connects to the bus.  INS is set when the board is out of reset with
 * the ejector handle closed and EXT clear; EXT is set when the handle
 * opens with INS clear (the rules hot swap silicon such as the TI PCI2250
 * implements).  The blue LED is driven by the board's hardware from reset
 * until the handle is closed, then by software through LOO.  sim_insert
 * seats the board and closes the handle in one step, so a freshly
 * inserted board shows LOO = 0 and INS = 1; a board powered with its
 * handle open shows LOO = 1 (the hardware-driven LED, modelled in the
 * bit) until the handle closes.  A seated board whose back-end power is
 * off lights its LED from early power (sim_slot_get_info's blue_led).
 *
 * ENUM# is asserted while any powered, connected board has INS or EXT set
 * and EIM clear; the platform line spec->enum_line follows that level.
 *
 * High-availability slot power registers, BAR0 (4 KiB, memory), dwords:
 *
 *   0x000 HS_HA_CAPS        RO  4:0 slots, 12:8 device number of the first
 *                            slot, 26:16 physical number of the first
 *                            slot, 31 slot power control (always 1)
 *   0x004 HS_HA_IRQ_STATUS  RO  bit n: slot n has PRSNT_CHG with PRSNT_IE
 *   0x010 + 4n SLOT n:
 *        bit 0  PWR_EN     RW  backplane power to the slot on.  Writing 0
 *                              powers the board off (it resets); writing
 *                              1 powers and connects a seated board.
 *                              Cleared by the hardware when the board
 *                              leaves (BD_SEL# opens).
 *        bit 1  HEALTHY    RO  the board is powered and its HEALTHY# is
 *                              asserted (no power fault)
 *        bit 2  PRESENT    RO  a board is seated (BD_SEL# grounded)
 *        bit 8  PRSNT_CHG  RW1C PRESENT changed
 *        bit 16 PRSNT_IE   RW  interrupt on PRSNT_CHG through the
 *                              bridge's INTA# (a level)
 *
 * Without power control the bridge has no BAR0 and no interrupt pin.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "hotswap/cpci_regs.h"
#include "sim_internal.h"

#define MAX_SLOTS 31u
#define BAR0_SIZE 4096u

/* The Hot Swap register's bits and the slot power block's layout are in
 * hotswap/cpci_regs.h, shared with the controller driver. */

struct cpci {
	struct sim_fn *fn;
	unsigned nslots;
	uint8_t first_dev;
	uint16_t first_phys;
	bool ha;                      /* slot power control */
	uint32_t enum_line;
	bool enum_level;              /* ENUM# as last driven */
	uint32_t ctl[MAX_SLOTS];      /* HA slot registers (stored bits) */
	bool hw_led[MAX_SLOTS];       /* LED under hardware control */
	struct sim_slot *slot[MAX_SLOTS];
};

static struct cpci *of_fn(const struct sim_fn *fn)
{
	return fn->model_data;
}

/* The function carrying the board's Hot Swap register, if it has one. */
static struct sim_fn *hs_fn(const struct sim_slot *s)
{
	struct sim_fn *f = s->card ? s->card->fn[0] : NULL;

	return f && f->hs_cap ? f : NULL;
}

static uint8_t csr(const struct sim_fn *f)
{
	return (uint8_t)sim_cfg_get(&f->cfg, f->hs_cap + HS_CPCI_CSR, 1);
}

static void csr_set(struct sim_fn *f, uint8_t bits)
{
	sim_cfg_setbits(&f->cfg, f->hs_cap + HS_CPCI_CSR, 1, bits);
}

static void csr_clr(struct sim_fn *f, uint8_t bits)
{
	sim_cfg_clrbits(&f->cfg, f->hs_cap + HS_CPCI_CSR, 1, bits);
}

static bool board_up(const struct sim_slot *s)
{
	return s->card && s->powered && s->connected;
}

/* ---- ENUM# and the HA interrupt ----------------------------------------- */

static bool irq_pending(const struct cpci *c, unsigned n)
{
	return (c->ctl[n] & HS_HA_PRSNT_CHG) && (c->ctl[n] & HS_HA_PRSNT_IE);
}

static void update(struct cpci *c)
{
	bool level = false, irq = false;

	for (unsigned n = 0; n < c->nslots; n++) {
		struct sim_slot *s = c->slot[n];
		struct sim_fn *f = hs_fn(s);

		/* Only a board that is up can drive ENUM#. */
		if (f && board_up(s) && (csr(f) & (HS_CPCI_INS | HS_CPCI_EXT)) &&
		    !(csr(f) & HS_CPCI_EIM))
			level = true;
		irq |= irq_pending(c, n);
	}
	/* The platform line counts assertions: drive transitions only. */
	if (level != c->enum_level) {
		c->enum_level = level;
		sim_line_set(c->fn->sim, c->enum_line, level);
	}
	if (c->ha)
		sim_fn_intx(c->fn, irq);
}

/* ---- the hardware connection process ------------------------------------ */

static void board_power_on(struct cpci *c, unsigned n)
{
	struct sim_slot *s = c->slot[n];
	struct sim_fn *f;

	if (!s->card || s->power_fault || board_up(s))
		return;
	sim_slot_power(s, true);
	sim_slot_connect(s, true);
	f = hs_fn(s);
	if (!f)
		return; /* a board without hot swap support: no ENUM# */
	if (s->mrl_open) {
		/* Out of reset with the handle open: the hardware keeps the
		 * blue LED lit until the handle closes. */
		c->hw_led[n] = true;
		csr_set(f, HS_CPCI_LOO);
	} else if (!(csr(f) & HS_CPCI_EXT)) {
		csr_set(f, HS_CPCI_INS);
	}
}

static void board_power_off(struct cpci *c, unsigned n)
{
	struct sim_slot *s = c->slot[n];

	c->hw_led[n] = false;
	if (s->connected)
		sim_slot_connect(s, false);
	if (s->powered)
		sim_slot_power(s, false); /* the board resets */
}

static bool may_power(const struct cpci *c, unsigned n)
{
	return !c->ha || (c->ctl[n] & HS_HA_PWR_EN);
}

static void set_present(struct cpci *c, unsigned n, bool present)
{
	if (!c->ha)
		return;
	if (present)
		c->ctl[n] |= HS_HA_PRESENT;
	else
		c->ctl[n] &= ~HS_HA_PRESENT;
	c->ctl[n] |= HS_HA_PRSNT_CHG;
}

static struct cpci *slot_cpci(const struct sim_slot *s)
{
	return of_fn(s->ctrl);
}

static void cpci_inserted(struct sim_slot *s)
{
	struct cpci *c = slot_cpci(s);
	unsigned n = s->index;

	set_present(c, n, true);
	if (may_power(c, n))
		board_power_on(c, n);
	update(c);
}

static void cpci_removed(struct sim_slot *s)
{
	struct cpci *c = slot_cpci(s);
	unsigned n = s->index;

	board_power_off(c, n);
	s->power_fault = false; /* the fault left with the board */
	set_present(c, n, false);
	/* BD_SEL# opened: the slot's power switch drops, and software has
	 * to switch it on again for the next board. */
	c->ctl[n] &= ~HS_HA_PWR_EN;
	update(c);
}

static void cpci_latch(struct sim_slot *s, bool open)
{
	struct cpci *c = slot_cpci(s);
	unsigned n = s->index;
	struct sim_fn *f = hs_fn(s);

	if (!f || !board_up(s)) {
		update(c);
		return; /* an unpowered board's switch goes unnoticed */
	}
	if (open) {
		/* Extraction request: EXT, unless insertion is still
		 * pending (INS set). */
		if (!(csr(f) & HS_CPCI_INS))
			csr_set(f, HS_CPCI_EXT);
	} else {
		if (c->hw_led[n]) {
			c->hw_led[n] = false;
			csr_clr(f, HS_CPCI_LOO);
		}
		if (!(csr(f) & HS_CPCI_EXT))
			csr_set(f, HS_CPCI_INS);
	}
	update(c);
}

static void cpci_power_fault(struct sim_slot *s)
{
	struct cpci *c = slot_cpci(s);

	board_power_off(c, s->index);
	update(c);
}

static void cpci_presence_glitch(struct sim_slot *s, bool present)
{
	struct cpci *c = slot_cpci(s);
	unsigned n = s->index;

	/* BD_SEL# bouncing: the board drops off the bus and resets, and
	 * runs its hardware connection again when the contact returns. */
	set_present(c, n, present);
	if (!present)
		board_power_off(c, n);
	else if (may_power(c, n))
		board_power_on(c, n);
	update(c);
}

static void cpci_coldplugged(struct sim_slot *s)
{
	struct cpci *c = slot_cpci(s);
	unsigned n = s->index;

	/* Powered at chassis power-up: out of reset with the handle closed,
	 * so INS is set and software clears it (PICMG 2.1). */
	if (c->ha)
		c->ctl[n] |= HS_HA_PRESENT | HS_HA_PWR_EN;
	board_power_on(c, n);
	s->card->ready_at = 0;
	update(c);
}

static void cpci_card_cfg_written(struct sim_slot *s, struct sim_fn *fn,
				  uint16_t off, unsigned width, uint32_t old,
				  uint32_t val)
{
	(void)fn;
	(void)off;
	(void)width;
	(void)old;
	(void)val;
	/* INS / EXT cleared or EIM changed: ENUM# may drop. */
	update(slot_cpci(s));
}

static const struct sim_slot_ctrl_ops cpci_slot_ops = {
	.inserted = cpci_inserted,
	.removed = cpci_removed,
	.latch = cpci_latch,
	.power_fault = cpci_power_fault,
	.presence_glitch = cpci_presence_glitch,
	.coldplugged = cpci_coldplugged,
	.card_cfg_written = cpci_card_cfg_written,
};

/* ---- the HA register block ---------------------------------------------- */

/* The HA block's read and write (regblock.c); ctx is the struct cpci. */
static uint32_t ha_read(void *ctx, uint32_t off)
{
	const struct cpci *c = ctx;
	uint32_t v = 0;

	if (off == HS_HA_CAPS)
		return c->nslots | (uint32_t)c->first_dev << 8 |
		       (uint32_t)(c->first_phys & 0x7ff) << 16 | HS_HA_CAPS_POWER;
	if (off == HS_HA_IRQ_STATUS) {
		for (unsigned n = 0; n < c->nslots; n++)
			if (irq_pending(c, n))
				v |= 1u << n;
		return v;
	}
	if (off >= HS_HA_SLOT(0) && off < HS_HA_SLOT(0) + 4 * c->nslots) {
		unsigned n = (off - HS_HA_SLOT(0)) / 4;
		const struct sim_slot *s = c->slot[n];

		v = c->ctl[n];
		if (s->card && s->powered && !s->power_fault)
			v |= HS_HA_HEALTHY;
	}
	return v;
}

static void ha_write(void *ctx, uint32_t off, uint32_t val, uint32_t wm)
{
	struct cpci *c = ctx;
	unsigned n;
	uint32_t was;

	if (off < HS_HA_SLOT(0) || off >= HS_HA_SLOT(0) + 4 * c->nslots)
		return;
	n = (off - HS_HA_SLOT(0)) / 4;
	was = c->ctl[n];
	c->ctl[n] = sim_reg_apply(c->ctl[n], val, wm, HS_HA_SLOT_RW,
				  HS_HA_PRSNT_CHG);
	if (!(was & HS_HA_PWR_EN) && (c->ctl[n] & HS_HA_PWR_EN))
		board_power_on(c, n);
	else if ((was & HS_HA_PWR_EN) && !(c->ctl[n] & HS_HA_PWR_EN))
		board_power_off(c, n);
	update(c);
}

static struct sim_regblock block(struct cpci *c)
{
	return (struct sim_regblock){ .read = ha_read, .write = ha_write,
				      .ctx = c,
				      .size = BAR0_SIZE };
}

static uint64_t cpci_bar_read(struct sim_fn *fn, int bar, uint64_t off,
			      unsigned width)
{
	struct sim_regblock rb = block(of_fn(fn));

	return bar == 0 ? sim_regblock_read(&rb, off, width) : 0;
}

static void cpci_bar_write(struct sim_fn *fn, int bar, uint64_t off,
			   unsigned width, uint64_t val)
{
	struct sim_regblock rb = block(of_fn(fn));

	if (bar == 0)
		sim_regblock_write(&rb, off, width, val);
}

static void cpci_cfg_written(struct sim_fn *fn, uint16_t off, unsigned width,
			     uint32_t old, uint32_t val)
{
	(void)old;
	(void)val;
	/* Interrupt Disable may have changed the pin's level. */
	if (off <= 0x05 && off + width > 0x05)
		update(of_fn(fn));
}

static void cpci_destroy(struct sim_fn *fn)
{
	struct cpci *c = of_fn(fn);

	if (c && c->enum_level)
		sim_line_set(fn->sim, c->enum_line, false);
	free(c);
	fn->model_data = NULL;
}

static const struct sim_fn_model cpci_model = {
	.kind = "cpci-bridge",
	.cfg_written = cpci_cfg_written,
	.bar_read = cpci_bar_read,
	.bar_write = cpci_bar_write,
	.destroy = cpci_destroy,
};

int sim_cpci_enum_line(const struct sim_fn *fn, uint32_t *line)
{
	const struct cpci *c;

	if (!fn || fn->kind != SIM_FN_CPCI_BRIDGE || fn->model != &cpci_model)
		return -HS_ENOENT;
	c = of_fn(fn);
	if (!c)
		return -HS_ENOENT;
	*line = c->enum_line;
	return 0;
}

int sim_cpci_layout(const struct sim_fn *fn, unsigned *first_dev,
		    unsigned *nslots, unsigned *first_phys)
{
	const struct cpci *c;

	if (!fn || fn->kind != SIM_FN_CPCI_BRIDGE || fn->model != &cpci_model)
		return -HS_ENOENT;
	c = of_fn(fn);
	if (!c)
		return -HS_ENOENT;
	*first_dev = c->first_dev;
	*nslots = c->nslots;
	*first_phys = c->first_phys;
	return 0;
}

/* ---- construction ------------------------------------------------------- */

struct sim_fn *sim_add_cpci_segment(struct sim_bus *bus, uint8_t dev,
				    uint8_t fnum,
				    const struct sim_cpci_spec *spec, int *err)
{
	struct sim_fn *fn;
	struct cpci *c;

	if (!sim_multislot_args_ok(bus, dev, fnum, spec->nslots, MAX_SLOTS,
				   spec->first_dev)) {
		*err = -HS_EINVAL;
		return NULL;
	}
	fn = sim_fn_new(bus, (uint8_t)(dev << 3 | fnum), SIM_FN_CPCI_BRIDGE,
			err);
	if (!fn)
		return NULL;
	c = sim_zalloc(sizeof(*c));
	if (!c)
		goto fail_fn;
	fn->model_data = c;
	fn->model = &cpci_model;
	c->fn = fn;
	c->nslots = spec->nslots;
	c->first_dev = spec->first_dev;
	c->first_phys = spec->first_phys;
	c->ha = spec->power_control;
	c->enum_line = spec->enum_line;
	sim_bridge_header_init(fn, spec->vendor, spec->device, true, true);
	if (c->ha) {
		sim_cfg_set(&fn->cfg, 0x3d, 1, 1); /* INTA# */
		sim_fn_define_bar(fn, 0, SIM_BAR_MEM32, false, BAR0_SIZE);
	}
	fn->secondary = sim_bus_new(bus->sim, fn);
	if (!fn->secondary)
		goto fail_fn;
	for (unsigned n = 0; n < c->nslots; n++) {
		struct sim_slot *s;

		/* If this fails part way, slots already registered stay in
		 * the chassis list (sim.c cannot unregister one). */
		s = sim_slot_new(bus->sim, SIM_SLOT_CPCI, spec->first_phys + n,
				 fn, fn->secondary,
				 (uint8_t)(spec->first_dev + n));
		if (!s)
			goto fail_fn;
		s->index = n;
		memset(&s->feat, 0, sizeof(s->feat));
		s->feat.power_controller = c->ha;
		c->slot[n] = s;
		sim_slot_set_ctrl_ops(s, &cpci_slot_ops);
	}
	return fn;

fail_fn:
	for (unsigned n = 0; c && n < c->nslots; n++)
		if (c->slot[n])
			sim_slot_set_ctrl_ops(c->slot[n], NULL);
	sim_fn_free(fn);
	*err = -HS_ENOMEM;
	return NULL;
}
