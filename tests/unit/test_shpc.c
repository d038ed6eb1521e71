/*
 * test_shpc.c - the SHPC bridge model, driven the way software drives a
 * Standard Hot-Plug Controller: config cycles to the bridge, memory
 * cycles to its BAR0 working register set, commands and their completion
 * on the virtual clock, event latches, masks and interrupts.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "sim_util.h"

#define BR      HS_BDF(0, 0, 2, 0)
#define SEC     1
#define BAR     0x90000000u
#define DELAY   500u /* cmd_delay_us */
#define CARD(d) HS_BDF(0, SEC, (d), 0)

/* Working register set offsets (SHPC 1.0). */
#define R_BASE   0x00
#define R_AVAIL1 0x04
#define R_AVAIL2 0x08
#define R_SLOTCFG 0x0c
#define R_SECBUS 0x10
#define R_CMD    0x14
#define R_CMDSTA 0x16
#define R_INTLOC 0x18
#define R_SERRLOC 0x1c
#define R_SERRINT 0x20
#define R_SLOT(n) (0x24 + 4 * ((n) - 1)) /* logical slot n, from 1 */

#define CS_BUSY 0x1
#define CS_MRL  0x2
#define CS_INV  0x4
#define CS_SPEED 0x8

#define SI_GIM  0x1
#define SI_GSM  0x2
#define SI_CCIM 0x4
#define SI_ASM  0x8
#define SI_CC   0x10000

#define EV_PRSNT  (1u << 16)
#define EV_ISO_PF (1u << 17)
#define EV_BUTTON (1u << 18)
#define EV_MRL    (1u << 19)
#define EV_CON_PF (1u << 20)
#define IM(ev)    ((ev) << 8)
#define SERR_MRL  (1u << 29)
#define SERR_CPF  (1u << 30)

#define ST_MASK   0x3u
#define ST_PWRONLY 1u
#define ST_ENABLED 2u
#define ST_DISABLED 3u
#define PWR_IND(r) (((r) >> 2) & 3)
#define ATTN_IND(r) (((r) >> 4) & 3)
#define PF_N      0x40u
#define MRL_OPEN  0x100u
#define PRSNT(r)  (((r) >> 10) & 3)

/* Slot operation codes: state | power indicator << 2 | attention << 4. */
#define OP_ENABLE_ON  0x36 /* enable, power on, attention off */
#define OP_DISABLE_OFF 0x3f
#define OP_PWRONLY 0x01
#define OP_ENABLE  0x02

struct irq_rec {
	unsigned count;
	struct hs_irq last;
};

struct fx {
	struct tu t;
	struct sim_fn *br;
	struct sim_shpc_spec spec;
};

static const struct sim_shpc_spec base_spec = {
	.vendor = 0x1b36, .device = 0x0001,
	.nslots = 3, .first_dev = 1, .first_phys = 11,
	.attention_button = true, .mrl_sensor = true,
	.cmd_delay_us = DELAY,
};

static void on_irq(void *arg, const struct hs_irq *irq)
{
	struct irq_rec *r = arg;

	r->count++;
	r->last = *irq;
}

static void build(struct fx *f, const struct sim_shpc_spec *spec)
{
	int err = 0;

	tu_init(&f->t, NULL);
	f->spec = *spec;
	f->br = sim_add_shpc_bridge(sim_root_bus(f->t.sim), 2, 0, &f->spec,
				    &err);
	assert_non_null(f->br);
	assert_int_equal(err, 0);
	/* Firmware: bus numbers, a window for the cards, BAR0, decode. */
	tu_bridge_bus(&f->t, BR, 0, SEC, SEC);
	tu_bridge_mem(&f->t, BR, 0x80000000u, 0x80ffffffu);
	tu_wr32(&f->t, BR, 0x10, BAR);
	tu_cmd(&f->t, BR, 0x0006);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	build(f, &base_spec);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tu_fini(&f->t);
	free(f);
	return 0;
}

static uint32_t rd(struct fx *f, uint32_t off)
{
	return tu_mem32(&f->t, BAR + off);
}

static uint16_t rd16(struct fx *f, uint32_t off)
{
	uint64_t v = 0;

	assert_int_equal(f->t.plat.ops->mem_read(f->t.plat.ctx, BAR + off, 2,
						 &v), 0);
	return (uint16_t)v;
}

static void wr(struct fx *f, uint32_t off, uint32_t v)
{
	tu_wmem32(&f->t, BAR + off, v);
}

static void wr16(struct fx *f, uint32_t off, uint16_t v)
{
	assert_int_equal(f->t.plat.ops->mem_write(f->t.plat.ctx, BAR + off, 2,
						  v), 0);
}

static void wr8(struct fx *f, uint32_t off, uint8_t v)
{
	assert_int_equal(f->t.plat.ops->mem_write(f->t.plat.ctx, BAR + off, 1,
						  v), 0);
}

/* Issue a command the way a driver does (16-bit write), leave it busy. */
static void issue(struct fx *f, unsigned target, unsigned code)
{
	wr16(f, R_CMD, (uint16_t)(target << 8 | code));
}

/* Issue and wait for completion; returns Command Status. */
static uint16_t command(struct fx *f, unsigned target, unsigned code)
{
	issue(f, target, code);
	assert_true(rd16(f, R_CMDSTA) & CS_BUSY);
	sim_advance(f->t.sim, HS_USEC(DELAY));
	return rd16(f, R_CMDSTA);
}

static struct sim_slot *slot_n(struct fx *f, unsigned n)
{
	struct sim_slot *s = sim_slot_by_phys(f->t.sim, 10 + n);

	assert_non_null(s);
	return s;
}

static uint16_t vendor(struct fx *f, unsigned n)
{
	return tu_rd16(&f->t, CARD(n), 0x00);
}

static uint32_t intx_line(struct fx *f)
{
	uint32_t line = 0;

	assert_int_equal(f->t.plat.ops->intx_route(f->t.plat.ctx, BR, 1,
						   &line), 0);
	return line;
}

/* Is a level line active?  Re-attaching fires at once if it is. */
static bool line_active(struct fx *f, const struct hs_irq *irq,
			struct irq_rec *r)
{
	unsigned before = r->count;
	bool active;

	f->t.plat.ops->irq_detach(f->t.plat.ctx, irq);
	assert_int_equal(f->t.plat.ops->irq_attach(f->t.plat.ctx, irq, on_irq,
						   r), 0);
	active = r->count != before;
	r->count = before;
	return active;
}

static void clear_events(struct fx *f, unsigned n)
{
	wr(f, R_SLOT(n), (rd(f, R_SLOT(n)) & 0xff000000u) | 0x001f0000u);
}

/* ---- the bridge --------------------------------------------------------- */

static void test_header(void **state)
{
	struct fx *f = *state;
	uint16_t cap, msi;
	struct sim_slot_info info;

	assert_int_equal(tu_rd32(&f->t, BR, 0x00), 0x00011b36);
	assert_int_equal(tu_rd32(&f->t, BR, 0x08) >> 8, 0x060400);
	assert_int_equal(tu_rd8(&f->t, BR, 0x0e) & 0x7f, 1);
	assert_int_equal(tu_rd8(&f->t, BR, 0x3d), 1);
	cap = tu_cap(&f->t, BR, 0x0c);
	msi = tu_cap(&f->t, BR, 0x05);
	assert_true(cap >= 0x40);
	assert_true(msi >= 0x40);
	/* BAR0: 4 KiB of 32-bit non-prefetchable memory. */
	tu_wr16(&f->t, BR, 0x04, tu_rd16(&f->t, BR, 0x04) & ~2);
	tu_wr32(&f->t, BR, 0x10, 0xffffffffu);
	assert_int_equal(tu_rd32(&f->t, BR, 0x10), 0xfffff000u);
	tu_wr32(&f->t, BR, 0x10, BAR);
	tu_cmd(&f->t, BR, 2);
	assert_int_equal(tu_rd32(&f->t, BR, 0x10), BAR);
	assert_non_null(sim_fn_secondary(f->br));
	assert_true(sim_fn_responds(f->br));
	/* Slots at first_dev + n, physical first_phys + n, on bus SEC. */
	for (unsigned n = 1; n <= 3; n++) {
		struct sim_slot *s = slot_n(f, n);

		sim_slot_get_info(s, &info);
		assert_int_equal(info.kind, SIM_SLOT_SHPC);
		assert_int_equal(info.dev, n);
		assert_int_equal(info.phys, 10 + n);
		assert_false(info.present);
		assert_ptr_equal(sim_slot_controller(s), f->br);
	}
}

static void test_reset_registers(void **state)
{
	struct fx *f = *state;
	uint32_t sc = rd(f, R_SLOTCFG);

	assert_int_equal(rd(f, R_BASE), 0);
	assert_int_equal(rd(f, R_AVAIL1), 3);
	assert_int_equal(rd(f, R_AVAIL2), 0);
	assert_int_equal(sc & 0x1f, 3);
	assert_int_equal((sc >> 8) & 0x1f, 1);
	assert_int_equal((sc >> 16) & 0x7ff, 11);
	assert_true(sc & (1u << 29)); /* numbers go up */
	assert_true(sc & (1u << 30)); /* MRL sensors */
	assert_true(sc & (1u << 31)); /* attention buttons */
	assert_int_equal(rd(f, R_SECBUS), 0x01000000u); /* 33 MHz, PI 1 */
	assert_int_equal(rd(f, R_CMD), 0);
	assert_int_equal(rd(f, R_INTLOC), 0);
	assert_int_equal(rd(f, R_SERRLOC), 0);
	assert_int_equal(rd(f, R_SERRINT), SI_GIM | SI_GSM | SI_CCIM | SI_ASM);
	for (unsigned n = 1; n <= 3; n++) {
		uint32_t r = rd(f, R_SLOT(n));

		assert_int_equal(r & ST_MASK, ST_DISABLED);
		assert_int_equal(PWR_IND(r), 3);
		assert_int_equal(ATTN_IND(r), 3);
		assert_true(r & PF_N);
		assert_false(r & MRL_OPEN);
		assert_int_equal(PRSNT(r), 3);
		assert_int_equal(r & 0x3200u, 0); /* M66EN, PCI-X */
		assert_int_equal(r & 0x001f0000u, 0);
		assert_int_equal(r & 0x7f000000u, 0x7f000000u);
	}
	/* Past the last slot: zeros. */
	assert_int_equal(rd(f, R_SLOT(4)), 0);
	assert_int_equal(rd(f, 0xffc), 0);
	/* Narrow reads see the same bytes. */
	assert_int_equal(rd16(f, R_SLOTCFG + 2), (sc >> 16) & 0xffff);
}

static void test_no_spec_features(void **state)
{
	struct fx *f = *state;
	struct sim_shpc_spec s = base_spec;
	struct sim_slot *sl;

	tu_fini(&f->t);
	s.attention_button = false;
	s.mrl_sensor = false;
	s.first_phys = 1;
	build(f, &s);
	assert_int_equal(rd(f, R_SLOTCFG) >> 30, 0);
	sl = sim_slot_by_phys(f->t.sim, 1);
	assert_non_null(sl);
	assert_int_equal(sim_press_button(sl), -HS_ENOTSUP);
	assert_int_equal(sim_set_latch(sl, true), -HS_ENOTSUP);
}

static void test_bad_spec(void **state)
{
	struct fx *f = *state;
	struct sim_shpc_spec s = base_spec;
	struct sim_bus *root = sim_root_bus(f->t.sim);
	int err = 0;

	s.nslots = 0;
	assert_null(sim_add_shpc_bridge(root, 5, 0, &s, &err));
	assert_int_equal(err, -HS_EINVAL);
	s.nslots = 32;
	assert_null(sim_add_shpc_bridge(root, 5, 0, &s, &err));
	assert_int_equal(err, -HS_EINVAL);
	s.nslots = 4;
	s.first_dev = 29;
	assert_null(sim_add_shpc_bridge(root, 5, 0, &s, &err));
	assert_int_equal(err, -HS_EINVAL);
	s = base_spec;
	s.first_phys = 40;
	assert_null(sim_add_shpc_bridge(root, 2, 0, &s, &err));
	assert_int_equal(err, -HS_EEXIST);
	assert_null(sim_add_shpc_bridge(root, 32, 0, &s, &err));
	assert_int_equal(err, -HS_EINVAL);
}

/* ---- the capability window ---------------------------------------------- */

static void test_dword_window(void **state)
{
	struct fx *f = *state;
	uint16_t cap = tu_cap(&f->t, BR, 0x0c);

	/* Every dword of the set, by index. */
	for (unsigned i = 0; i < 12; i++) {
		tu_wr8(&f->t, BR, cap + 2, (uint8_t)i);
		assert_int_equal(tu_rd8(&f->t, BR, cap + 2), i);
		assert_int_equal(tu_rd32(&f->t, BR, cap + 4), rd(f, 4 * i));
	}
	/* The window follows the registers as they change. */
	tu_wr8(&f->t, BR, cap + 2, R_SLOT(1) / 4);
	assert_int_equal(sim_insert(slot_n(f, 1), &tu_card_nic), 0);
	assert_true(tu_rd32(&f->t, BR, cap + 4) & EV_PRSNT);
	/* Writes through the window reach the register (W1C and masks). */
	tu_wr32(&f->t, BR, cap + 4, EV_PRSNT | 0x7e000000u);
	assert_int_equal(rd(f, R_SLOT(1)) & 0xff1f0000u, 0x7e000000u);
	assert_int_equal(tu_rd32(&f->t, BR, cap + 4), rd(f, R_SLOT(1)));
	/* A byte write into the window hits one byte of the register. */
	tu_wr8(&f->t, BR, cap + 7, 0x7f);
	assert_int_equal(rd(f, R_SLOT(1)) >> 24, 0x7f);
	/* A command through the window. */
	tu_wr8(&f->t, BR, cap + 2, R_CMD / 4);
	tu_wr16(&f->t, BR, cap + 4, 1 << 8 | OP_ENABLE_ON);
	assert_true(tu_rd32(&f->t, BR, cap + 4) & (CS_BUSY << 16));
	sim_advance(f->t.sim, HS_USEC(DELAY));
	assert_int_equal(rd(f, R_SLOT(1)) & ST_MASK, ST_ENABLED);
	/* Past the register set. */
	tu_wr8(&f->t, BR, cap + 2, 0xff);
	assert_int_equal(tu_rd32(&f->t, BR, cap + 4), 0);
}

/* ---- commands ----------------------------------------------------------- */

static void test_enable_disable(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 1);
	struct sim_slot_info info;
	uint32_t r;

	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	r = rd(f, R_SLOT(1));
	assert_int_equal(PRSNT(r), 0);
	assert_true(r & EV_PRSNT);
	assert_int_equal(r & ST_MASK, ST_DISABLED);
	/* Not powered, not on the bus: config reads master-abort. */
	assert_int_equal(vendor(f, 1), 0xffff);
	sim_slot_get_info(s, &info);
	assert_true(info.present);
	assert_false(info.powered);

	issue(f, 1, OP_ENABLE_ON);
	assert_int_equal(rd16(f, R_CMDSTA), CS_BUSY);
	assert_int_equal(rd16(f, R_CMD), 1 << 8 | OP_ENABLE_ON);
	/* Nothing happens until the controller completes. */
	sim_advance(f->t.sim, HS_USEC(DELAY - 1));
	assert_int_equal(rd16(f, R_CMDSTA), CS_BUSY);
	assert_int_equal(vendor(f, 1), 0xffff);
	assert_false(rd(f, R_SERRINT) & SI_CC);
	sim_advance(f->t.sim, HS_USEC(1));
	assert_int_equal(rd16(f, R_CMDSTA), 0);
	assert_true(rd(f, R_SERRINT) & SI_CC);
	r = rd(f, R_SLOT(1));
	assert_int_equal(r & ST_MASK, ST_ENABLED);
	assert_int_equal(PWR_IND(r), 1);
	assert_int_equal(ATTN_IND(r), 3);
	assert_int_equal(vendor(f, 1), 0x8086);
	sim_slot_get_info(s, &info);
	assert_true(info.powered);
	assert_true(info.link_up);
	assert_int_equal(info.power_ind, SIM_IND_ON);
	assert_int_equal(info.attn_ind, SIM_IND_OFF);

	/* The card's own registers work; disabling resets them. */
	tu_wr8(&f->t, CARD(1), 0x3c, 0x0b);
	assert_int_equal(tu_rd8(&f->t, CARD(1), 0x3c), 0x0b);
	assert_int_equal(command(f, 1, OP_DISABLE_OFF), 0);
	r = rd(f, R_SLOT(1));
	assert_int_equal(r & ST_MASK, ST_DISABLED);
	assert_int_equal(PWR_IND(r), 3);
	assert_int_equal(vendor(f, 1), 0xffff);
	sim_slot_get_info(s, &info);
	assert_false(info.powered);
	assert_false(info.link_up);
	assert_int_equal(info.power_ind, SIM_IND_OFF);
	assert_int_equal(command(f, 1, OP_ENABLE), 0);
	assert_int_equal(tu_rd8(&f->t, CARD(1), 0x3c), 0);
	/* 00b indicator fields left the indicators as they were. */
	assert_int_equal(PWR_IND(rd(f, R_SLOT(1))), 3);
	/* Other slots were never touched. */
	assert_int_equal(rd(f, R_SLOT(2)) & ST_MASK, ST_DISABLED);
}

static void test_power_only(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 2);
	struct sim_slot_info info;

	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	assert_int_equal(command(f, 2, OP_PWRONLY | 0x08), 0); /* blink */
	assert_int_equal(rd(f, R_SLOT(2)) & ST_MASK, ST_PWRONLY);
	assert_int_equal(PWR_IND(rd(f, R_SLOT(2))), 2);
	sim_slot_get_info(s, &info);
	assert_true(info.powered);
	assert_false(info.link_up);
	assert_int_equal(info.power_ind, SIM_IND_BLINK);
	assert_int_equal(vendor(f, 2), 0xffff); /* isolated from the bus */
	assert_int_equal(command(f, 2, OP_ENABLE), 0);
	assert_int_equal(rd(f, R_SLOT(2)) & ST_MASK, ST_ENABLED);
	assert_int_equal(vendor(f, 2), 0x8086);
	/* Enabled -> power only is not a legal transition. */
	assert_int_equal(command(f, 2, OP_PWRONLY), CS_INV);
	assert_int_equal(rd(f, R_SLOT(2)) & ST_MASK, ST_ENABLED);
	assert_int_equal(vendor(f, 2), 0x8086);
	/* A state-less command (00b) only moves indicators. */
	assert_int_equal(command(f, 2, 0x10), 0); /* attention on */
	assert_int_equal(ATTN_IND(rd(f, R_SLOT(2))), 1);
	assert_int_equal(rd(f, R_SLOT(2)) & ST_MASK, ST_ENABLED);
	sim_slot_get_info(s, &info);
	assert_int_equal(info.attn_ind, SIM_IND_ON);
	assert_int_equal(command(f, 2, 0x20), 0); /* attention blink */
	sim_slot_get_info(s, &info);
	assert_int_equal(info.attn_ind, SIM_IND_BLINK);
}

static void test_command_errors(void **state)
{
	struct fx *f = *state;

	/* Enable / power-only of an empty slot. */
	assert_int_equal(command(f, 1, OP_ENABLE_ON), CS_INV);
	assert_int_equal(rd(f, R_SLOT(1)) & ST_MASK, ST_DISABLED);
	assert_int_equal(PWR_IND(rd(f, R_SLOT(1))), 3); /* unchanged */
	assert_int_equal(command(f, 1, OP_PWRONLY), CS_INV);
	/* Disabling an empty slot is fine. */
	assert_int_equal(command(f, 1, OP_DISABLE_OFF), 0);
	/* Targets 0 and past the last slot. */
	assert_int_equal(command(f, 0, OP_DISABLE_OFF), CS_INV);
	assert_int_equal(command(f, 4, OP_DISABLE_OFF), CS_INV);
	/* Unknown codes. */
	assert_int_equal(command(f, 0, 0x4a), CS_INV);
	assert_int_equal(command(f, 0, 0xc0), CS_INV);
	/* Bus speed: 33 MHz conventional only; 45h-47h reserved. */
	assert_int_equal(command(f, 0, 0x40), 0);
	assert_int_equal(rd16(f, R_SECBUS) & 7, 0);
	assert_int_equal(command(f, 0, 0x41), CS_SPEED);
	assert_int_equal(command(f, 0, 0x44), CS_SPEED);
	assert_int_equal(command(f, 0, 0x45), CS_INV);
	assert_int_equal(rd16(f, R_SECBUS) & 7, 0);
	/* Errors clear when the next command starts. */
	issue(f, 0, 0x40);
	assert_int_equal(rd16(f, R_CMDSTA), CS_BUSY);
	sim_advance(f->t.sim, HS_USEC(DELAY));
	assert_int_equal(rd16(f, R_CMDSTA), 0);
	/* Command Status is read-only (this write also issues 40h). */
	wr(f, R_CMD, 0xffff0000u | 0x40);
	assert_int_equal(rd16(f, R_CMDSTA), CS_BUSY);
	sim_advance(f->t.sim, HS_USEC(DELAY));
	assert_int_equal(rd16(f, R_CMDSTA), 0);
}

static void test_mrl_open_error(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 1);

	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	clear_events(f, 1);
	assert_int_equal(sim_set_latch(s, true), 0);
	assert_true(rd(f, R_SLOT(1)) & MRL_OPEN);
	assert_true(rd(f, R_SLOT(1)) & EV_MRL);
	assert_int_equal(command(f, 1, OP_ENABLE_ON), CS_MRL);
	assert_int_equal(rd(f, R_SLOT(1)) & ST_MASK, ST_DISABLED);
	assert_int_equal(command(f, 1, OP_PWRONLY), CS_MRL);
	assert_int_equal(vendor(f, 1), 0xffff);
	assert_int_equal(sim_set_latch(s, false), 0);
	assert_false(rd(f, R_SLOT(1)) & MRL_OPEN);
	assert_int_equal(command(f, 1, OP_ENABLE_ON), 0);
	assert_int_equal(vendor(f, 1), 0x8086);
}

static void test_busy_drops_command(void **state)
{
	struct fx *f = *state;

	assert_int_equal(sim_insert(slot_n(f, 1), &tu_card_nic), 0);
	assert_int_equal(sim_insert(slot_n(f, 2), &tu_card_nic), 0);
	issue(f, 1, OP_ENABLE_ON);
	issue(f, 2, OP_ENABLE_ON); /* dropped: the controller is busy */
	assert_int_equal(rd16(f, R_CMD), 1 << 8 | OP_ENABLE_ON);
	sim_advance(f->t.sim, HS_USEC(DELAY));
	assert_int_equal(rd16(f, R_CMDSTA), 0);
	assert_int_equal(rd(f, R_SLOT(1)) & ST_MASK, ST_ENABLED);
	assert_int_equal(rd(f, R_SLOT(2)) & ST_MASK, ST_DISABLED);
	/* A write of the target byte alone issues nothing. */
	wr8(f, R_CMD + 1, 2);
	assert_int_equal(rd16(f, R_CMDSTA), 0);
	assert_int_equal(rd16(f, R_CMD), 2 << 8 | OP_ENABLE_ON);
	/* ... the code byte does. */
	wr8(f, R_CMD, OP_ENABLE_ON);
	assert_int_equal(rd16(f, R_CMDSTA), CS_BUSY);
	sim_advance(f->t.sim, HS_USEC(DELAY));
	assert_int_equal(rd(f, R_SLOT(2)) & ST_MASK, ST_ENABLED);
}

static void test_all_slots(void **state)
{
	struct fx *f = *state;

	assert_int_equal(sim_insert(slot_n(f, 1), &tu_card_nic), 0);
	assert_int_equal(sim_insert(slot_n(f, 3), &tu_card_gpu), 0);
	assert_int_equal(sim_set_latch(slot_n(f, 3), true), 0);
	/* Power-only all: slot 1 only (2 empty, 3 has its MRL open). */
	assert_int_equal(command(f, 0, 0x48), 0);
	assert_int_equal(rd(f, R_SLOT(1)) & ST_MASK, ST_PWRONLY);
	assert_int_equal(PWR_IND(rd(f, R_SLOT(1))), 1);
	assert_int_equal(rd(f, R_SLOT(2)) & ST_MASK, ST_DISABLED);
	assert_int_equal(rd(f, R_SLOT(3)) & ST_MASK, ST_DISABLED);
	assert_int_equal(vendor(f, 1), 0xffff);
	/* Both fail unless every slot is disabled. */
	assert_int_equal(command(f, 0, 0x49), CS_INV);
	assert_int_equal(command(f, 0, 0x48), CS_INV);
	assert_int_equal(command(f, 1, OP_DISABLE_OFF), 0);
	assert_int_equal(sim_set_latch(slot_n(f, 3), false), 0);
	assert_int_equal(command(f, 0, 0x49), 0);
	assert_int_equal(rd(f, R_SLOT(1)) & ST_MASK, ST_ENABLED);
	assert_int_equal(rd(f, R_SLOT(3)) & ST_MASK, ST_ENABLED);
	assert_int_equal(rd(f, R_SLOT(2)) & ST_MASK, ST_DISABLED);
	assert_int_equal(vendor(f, 1), 0x8086);
	assert_int_equal(vendor(f, 3), 0x10de);
}

/* ---- latches and masks -------------------------------------------------- */

static void test_latch_w1c_and_masks(void **state)
{
	struct fx *f = *state;
	uint32_t r;

	assert_int_equal(sim_insert(slot_n(f, 1), &tu_card_nic), 0);
	assert_int_equal(sim_press_button(slot_n(f, 1)), 0);
	r = rd(f, R_SLOT(1));
	assert_int_equal(r & 0x001f0000u, EV_PRSNT | EV_BUTTON);
	assert_false(r & 0x80); /* the button is momentary */
	/* Writing 0 leaves latches alone; 1 clears just that one. */
	wr(f, R_SLOT(1), r & 0xff000000u);
	assert_int_equal(rd(f, R_SLOT(1)) & 0x001f0000u, EV_PRSNT | EV_BUTTON);
	wr(f, R_SLOT(1), (r & 0xff000000u) | EV_BUTTON);
	assert_int_equal(rd(f, R_SLOT(1)) & 0x001f0000u, EV_PRSNT);
	/* The low half is read-only: state and indicators do not move. */
	wr(f, R_SLOT(1), 0x7f000000u | 0x0000ffffu);
	r = rd(f, R_SLOT(1));
	assert_int_equal(r & ST_MASK, ST_DISABLED);
	assert_int_equal(PRSNT(r), 0);
	assert_true(r & PF_N);
	assert_true(r & EV_PRSNT);
	/* Masks are read-write, bit 31 and 23:21 reserved. */
	wr(f, R_SLOT(1), 0xffe00000u);
	assert_int_equal(rd(f, R_SLOT(1)) & 0xffe00000u, 0x7f000000u);
	wr(f, R_SLOT(1), 0);
	assert_int_equal(rd(f, R_SLOT(1)) & 0xff000000u, 0);
	/* SERR-INT: masks RW, Command Completion Detected W1C. */
	wr(f, R_SERRINT, 0);
	assert_int_equal(rd(f, R_SERRINT), 0);
	assert_int_equal(command(f, 1, OP_DISABLE_OFF), 0);
	assert_int_equal(rd(f, R_SERRINT), SI_CC);
	wr(f, R_SERRINT, 0);
	assert_int_equal(rd(f, R_SERRINT), SI_CC);
	wr(f, R_SERRINT, SI_CC | SI_GIM);
	assert_int_equal(rd(f, R_SERRINT), SI_GIM);
}

/* Accesses of any width and alignment are split into the dword registers
 * they cover, each written with the byte enables of its own bytes (PCI
 * 3.0, 3.2.2): no byte outside the access changes. */
static void test_byte_lanes(void **state)
{
	struct fx *f = *state;
	uint64_t v = 0;

	wr(f, R_SLOT(1), 0);
	wr(f, R_SLOT(2), 0);
	/* Two bytes across the boundary: byte 3 of slot 1, byte 0 of slot
	 * 2 (read-only there: it stays as the hardware has it). */
	uint32_t low2 = rd(f, R_SLOT(2)) & 0xff;

	assert_int_equal(f->t.plat.ops->mem_write(f->t.plat.ctx,
						  BAR + R_SLOT(1) + 3, 2,
						  0x5a7f), 0);
	assert_int_equal(rd(f, R_SLOT(1)) >> 24, 0x7f);
	assert_int_equal(rd(f, R_SLOT(2)) & 0xff, low2);
	assert_int_equal(rd(f, R_SLOT(2)) & 0xff000000u, 0);
	/* A byte write to bits 31:24 leaves the latches in bits 20:16. */
	assert_int_equal(sim_insert(slot_n(f, 1), &tu_card_nic), 0);
	wr8(f, R_SLOT(1) + 3, 0x00);
	assert_true(rd(f, R_SLOT(1)) & EV_PRSNT);
	/* An 8-byte write is two register writes: each slot's masks take
	 * their own byte. */
	assert_int_equal(f->t.plat.ops->mem_write(f->t.plat.ctx, BAR + R_SLOT(1),
						  8, 0x7e000000ull << 32 |
						  0x7d000000u), 0);
	assert_int_equal(rd(f, R_SLOT(1)) >> 24, 0x7d);
	assert_int_equal(rd(f, R_SLOT(2)) >> 24, 0x7e);
	/* An 8-byte read is two registers, low one first. */
	assert_int_equal(f->t.plat.ops->mem_read(f->t.plat.ctx, BAR + R_SLOT(1),
						 8, &v), 0);
	assert_int_equal((uint32_t)v, rd(f, R_SLOT(1)));
	assert_int_equal((uint32_t)(v >> 32), rd(f, R_SLOT(2)));
}

static void test_interrupt_locator(void **state)
{
	struct fx *f = *state;

	assert_int_equal(sim_insert(slot_n(f, 2), &tu_card_nic), 0);
	/* Masked events do not show in the locator. */
	assert_int_equal(rd(f, R_INTLOC), 0);
	wr(f, R_SLOT(2), 0x7f000000u & ~IM(EV_PRSNT));
	assert_int_equal(rd(f, R_INTLOC), 1u << 2);
	assert_int_equal(command(f, 2, OP_ENABLE_ON), 0);
	assert_int_equal(rd(f, R_INTLOC), 1u << 2); /* CC still masked */
	wr(f, R_SERRINT, SI_GIM | SI_GSM | SI_ASM);
	assert_int_equal(rd(f, R_INTLOC), 1u << 2 | 1);
	wr(f, R_SERRINT, SI_GIM | SI_GSM | SI_ASM | SI_CC);
	assert_int_equal(rd(f, R_INTLOC), 1u << 2);
	clear_events(f, 2);
	assert_int_equal(rd(f, R_INTLOC), 0);
}

/* ---- interrupts --------------------------------------------------------- */

static void test_intx(void **state)
{
	struct fx *f = *state;
	struct irq_rec r = { 0 };
	struct hs_irq irq = { HS_IRQ_INTX, 0 };

	irq.number = intx_line(f);
	assert_int_equal(irq.number, 16 + 2); /* INTA# of device 2 */
	assert_int_equal(f->t.plat.ops->irq_attach(f->t.plat.ctx, &irq, on_irq,
						   &r), 0);
	/* Presence and command completion unmasked, global mask still set:
	 * nothing. */
	wr(f, R_SLOT(1), 0x7f000000u & ~IM(EV_PRSNT));
	wr(f, R_SERRINT, SI_GIM | SI_GSM | SI_ASM);
	assert_int_equal(sim_insert(slot_n(f, 1), &tu_card_nic), 0);
	assert_int_equal(r.count, 0);
	assert_false(tu_rd16(&f->t, BR, 0x06) & 0x0008);
	/* Clearing the global mask with the event latched asserts INTx. */
	wr(f, R_SERRINT, SI_GSM | SI_ASM);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.last.kind, HS_IRQ_INTX);
	assert_true(tu_rd16(&f->t, BR, 0x06) & 0x0008); /* Interrupt Status */
	assert_true(line_active(f, &irq, &r));
	/* A second event while asserted: still one level. */
	assert_int_equal(command(f, 1, OP_ENABLE_ON), 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(rd(f, R_INTLOC), 1u << 1 | 1);
	/* Clearing one source leaves the other holding the line. */
	clear_events(f, 1);
	assert_true(line_active(f, &irq, &r));
	wr(f, R_SERRINT, SI_GSM | SI_ASM | SI_CC);
	assert_false(line_active(f, &irq, &r));
	assert_false(tu_rd16(&f->t, BR, 0x06) & 0x0008);
	/* Command completion alone raises it again. */
	assert_int_equal(command(f, 1, 0x10), 0);
	assert_int_equal(r.count, 2);
	wr(f, R_SERRINT, SI_GSM | SI_ASM | SI_CC);
	assert_false(line_active(f, &irq, &r));
	/* Interrupt Disable keeps the pin quiet, status still shows it. */
	tu_wr16(&f->t, BR, 0x04, tu_rd16(&f->t, BR, 0x04) | 0x0400);
	assert_int_equal(sim_press_button(slot_n(f, 1)), 0);
	wr(f, R_SLOT(1), 0x7f000000u & ~IM(EV_BUTTON));
	assert_false(line_active(f, &irq, &r));
	assert_true(tu_rd16(&f->t, BR, 0x06) & 0x0008);
	tu_wr16(&f->t, BR, 0x04, tu_rd16(&f->t, BR, 0x04) & ~0x0400);
	assert_true(line_active(f, &irq, &r));
	/* Masking the event's interrupt drops the line. */
	wr(f, R_SLOT(1), 0x7f000000u);
	assert_false(line_active(f, &irq, &r));
	assert_true(rd(f, R_SLOT(1)) & EV_BUTTON); /* still latched */
	f->t.plat.ops->irq_detach(f->t.plat.ctx, &irq);
}

static void test_msi(void **state)
{
	struct fx *f = *state;
	struct irq_rec r = { 0 }, rx = { 0 };
	struct hs_irq irq = { HS_IRQ_MSI, 0 };
	struct hs_irq intx = { HS_IRQ_INTX, 0 };
	struct hs_msi_msg msg;
	uint16_t msi = tu_cap(&f->t, BR, 0x05);
	uint32_t vec;

	intx.number = intx_line(f);
	assert_int_equal(f->t.plat.ops->msi_alloc(f->t.plat.ctx, 1, &vec), 0);
	assert_int_equal(f->t.plat.ops->msi_message(f->t.plat.ctx, vec, &msg),
			 0);
	irq.number = vec;
	assert_int_equal(f->t.plat.ops->irq_attach(f->t.plat.ctx, &irq, on_irq,
						   &r), 0);
	assert_int_equal(f->t.plat.ops->irq_attach(f->t.plat.ctx, &intx,
						   on_irq, &rx), 0);
	tu_wr32(&f->t, BR, msi + 4, (uint32_t)msg.address);
	tu_wr16(&f->t, BR, msi + 8, (uint16_t)msg.data);
	tu_wr16(&f->t, BR, msi + 2, 1);
	wr(f, R_SLOT(3), 0x7f000000u & ~IM(EV_PRSNT) & ~IM(EV_BUTTON));
	wr(f, R_SERRINT, SI_GSM | SI_ASM | SI_CCIM);
	assert_int_equal(sim_insert(slot_n(f, 3), &tu_card_nic), 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.last.kind, HS_IRQ_MSI);
	assert_int_equal(r.last.number, vec);
	assert_int_equal(rx.count, 0); /* no INTx with MSI on */
	/* Edge semantics: nothing new until the condition clears. */
	assert_int_equal(sim_press_button(slot_n(f, 3)), 0);
	assert_int_equal(r.count, 1);
	clear_events(f, 3);
	assert_int_equal(sim_press_button(slot_n(f, 3)), 0);
	assert_int_equal(r.count, 2);
	/* Without Bus Master Enable the message cannot go upstream. */
	clear_events(f, 3);
	tu_wr16(&f->t, BR, 0x04, tu_rd16(&f->t, BR, 0x04) & ~0x0004);
	assert_int_equal(sim_press_button(slot_n(f, 3)), 0);
	assert_int_equal(r.count, 2);
	f->t.plat.ops->irq_detach(f->t.plat.ctx, &intx);
	f->t.plat.ops->msi_free(f->t.plat.ctx, vec, 1);
}

static void test_serr(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 1);

	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	tu_wr16(&f->t, BR, 0x04, tu_rd16(&f->t, BR, 0x04) | 0x0100);
	assert_int_equal(sim_set_latch(s, true), 0);
	/* MRL SERR masked by default. */
	assert_int_equal(rd(f, R_SERRLOC), 0);
	wr(f, R_SLOT(1), 0x7f000000u & ~SERR_MRL);
	assert_int_equal(rd(f, R_SERRLOC), 1u << 1);
	/* Global SERR mask still set: no SERR#. */
	assert_false(tu_rd16(&f->t, BR, 0x06) & 0x4000);
	wr(f, R_SERRINT, SI_GIM | SI_CCIM | SI_ASM);
	assert_true(tu_rd16(&f->t, BR, 0x06) & 0x4000);
	tu_wr16(&f->t, BR, 0x06, 0x4000); /* W1C */
	assert_false(tu_rd16(&f->t, BR, 0x06) & 0x4000);
	clear_events(f, 1);
	assert_int_equal(rd(f, R_SERRLOC), 0);
}

/* ---- physical actions --------------------------------------------------- */

static void test_remove_enabled(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 1);
	struct sim_slot_info info;
	uint32_t r;

	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	assert_int_equal(command(f, 1, OP_ENABLE_ON), 0);
	clear_events(f, 1);
	assert_int_equal(sim_remove(s, SIM_REMOVE_SURPRISE), 0);
	r = rd(f, R_SLOT(1));
	assert_int_equal(PRSNT(r), 3);
	assert_int_equal(r & 0x001f0000u, EV_PRSNT); /* MRL stayed closed */
	assert_int_equal(r & ST_MASK, ST_DISABLED);
	sim_slot_get_info(s, &info);
	assert_false(info.present);
	assert_false(info.powered);
	assert_int_equal(vendor(f, 1), 0xffff);
	/* A new card is not powered until software enables the slot. */
	assert_int_equal(sim_insert(s, &tu_card_gpu), 0);
	assert_int_equal(vendor(f, 1), 0xffff);
	assert_int_equal(command(f, 1, OP_ENABLE_ON), 0);
	assert_int_equal(vendor(f, 1), 0x10de);
}

static void test_orderly_remove(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 2);
	uint32_t r;

	assert_int_equal(sim_remove(s, SIM_REMOVE_ORDERLY), -HS_ENOENT);
	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	assert_int_equal(command(f, 2, OP_ENABLE_ON), 0);
	clear_events(f, 2);
	assert_int_equal(sim_remove(s, SIM_REMOVE_ORDERLY), 0);
	r = rd(f, R_SLOT(2));
	assert_int_equal(r & 0x001f0000u, EV_PRSNT | EV_MRL);
	assert_true(r & MRL_OPEN);
	assert_int_equal(r & ST_MASK, ST_DISABLED);
	/* Inserting closes the MRL again: both latch. */
	clear_events(f, 2);
	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	r = rd(f, R_SLOT(2));
	assert_int_equal(r & 0x001f0000u, EV_PRSNT | EV_MRL);
	assert_false(r & MRL_OPEN);
}

static void test_mrl_open_isolates(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 3);
	struct sim_slot_info info;
	uint32_t r;

	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	assert_int_equal(command(f, 3, OP_ENABLE_ON), 0);
	clear_events(f, 3);
	assert_int_equal(sim_set_latch(s, true), 0);
	r = rd(f, R_SLOT(3));
	assert_true(r & MRL_OPEN);
	assert_int_equal(r & 0x001f0000u, EV_MRL);
	assert_int_equal(r & ST_MASK, ST_DISABLED);
	assert_int_equal(PRSNT(r), 0); /* the card is still there */
	sim_slot_get_info(s, &info);
	assert_true(info.present);
	assert_false(info.powered);
	assert_true(info.mrl_open);
	assert_int_equal(vendor(f, 3), 0xffff);
	/* The same latch state again is no event. */
	clear_events(f, 3);
	assert_int_equal(sim_set_latch(s, true), 0);
	assert_int_equal(rd(f, R_SLOT(3)) & 0x001f0000u, 0);
	assert_int_equal(sim_set_latch(s, false), 0);
	assert_int_equal(rd(f, R_SLOT(3)) & 0x001f0000u, EV_MRL);
	/* Closing does not power the slot by itself. */
	assert_int_equal(vendor(f, 3), 0xffff);
}

static void test_power_fault(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 1);
	struct sim_slot_info info;
	uint32_t r;

	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	assert_int_equal(command(f, 1, OP_ENABLE_ON), 0);
	clear_events(f, 1);
	assert_int_equal(sim_inject_power_fault(s), 0);
	r = rd(f, R_SLOT(1));
	assert_false(r & PF_N); /* active low */
	assert_int_equal(r & 0x001f0000u, EV_ISO_PF | EV_CON_PF);
	assert_int_equal(r & ST_MASK, ST_DISABLED);
	assert_int_equal(vendor(f, 1), 0xffff);
	sim_slot_get_info(s, &info);
	assert_true(info.power_fault);
	assert_false(info.powered);
	/* Connected power fault can raise SERR (masked by default). */
	assert_int_equal(rd(f, R_SERRLOC), 0);
	wr(f, R_SLOT(1), 0x7f000000u & ~SERR_CPF);
	assert_int_equal(rd(f, R_SERRLOC), 1u << 1);
	/* The fault persists: powering trips it again (isolated only). */
	wr(f, R_SLOT(1), 0x7f000000u | 0x001f0000u);
	assert_int_equal(command(f, 1, OP_PWRONLY), 0);
	r = rd(f, R_SLOT(1));
	assert_int_equal(r & 0x001f0000u, EV_ISO_PF);
	assert_int_equal(r & ST_MASK, ST_DISABLED);
	sim_slot_get_info(s, &info);
	assert_false(info.powered);
	/* Pulling the faulty card clears the condition. */
	assert_int_equal(sim_remove(s, SIM_REMOVE_SURPRISE), 0);
	assert_true(rd(f, R_SLOT(1)) & PF_N);
	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	assert_int_equal(command(f, 1, OP_ENABLE_ON), 0);
	assert_int_equal(vendor(f, 1), 0x8086);
}

static void test_button(void **state)
{
	struct fx *f = *state;

	assert_int_equal(sim_press_button(slot_n(f, 2)), 0);
	assert_int_equal(rd(f, R_SLOT(2)) & 0x001f0000u, EV_BUTTON);
	assert_int_equal(rd(f, R_SLOT(1)) & 0x001f0000u, 0);
	assert_int_equal(rd(f, R_SLOT(3)) & 0x001f0000u, 0);
}

static void test_coldplug(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 2);
	struct sim_slot_info info;
	uint32_t r;

	assert_int_equal(sim_coldplug(s, &tu_card_nic), 0);
	r = rd(f, R_SLOT(2));
	assert_int_equal(r & ST_MASK, ST_ENABLED);
	assert_int_equal(PWR_IND(r), 1);
	assert_int_equal(ATTN_IND(r), 3);
	assert_int_equal(PRSNT(r), 0);
	assert_int_equal(r & 0x001f0000u, 0);
	assert_int_equal(rd(f, R_INTLOC), 0);
	assert_int_equal(vendor(f, 2), 0x8086);
	sim_slot_get_info(s, &info);
	assert_true(info.powered);
	assert_true(info.link_up);
	assert_int_equal(info.power_ind, SIM_IND_ON);
	assert_int_equal(sim_coldplug(s, &tu_card_nic), -HS_EBUSY);
	/* Software takes over from there. */
	assert_int_equal(command(f, 2, OP_DISABLE_OFF), 0);
	assert_int_equal(vendor(f, 2), 0xffff);
}

static void test_presence_bounce(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 1);
	hs_time_t when;

	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	clear_events(f, 1);
	assert_int_equal(sim_bounce(s, false, 100, 1000), 0);
	/* First glitch: shows empty. */
	assert_int_equal(PRSNT(rd(f, R_SLOT(1))), 3);
	assert_true(rd(f, R_SLOT(1)) & EV_PRSNT);
	clear_events(f, 1);
	sim_advance(f->t.sim, HS_USEC(100));
	assert_int_equal(PRSNT(rd(f, R_SLOT(1))), 0);
	assert_true(rd(f, R_SLOT(1)) & EV_PRSNT);
	while (sim_next_event(f->t.sim, &when))
		sim_step(f->t.sim);
	/* Settles on the truth: a card. */
	assert_int_equal(PRSNT(rd(f, R_SLOT(1))), 0);
	/* The card itself was never powered by the glitch. */
	assert_int_equal(rd(f, R_SLOT(1)) & ST_MASK, ST_DISABLED);
}

static int walk_cb(void *arg, const struct sim_walk_node *n)
{
	int *found = arg;

	if (n->kind && !strcmp(n->kind, "shpc-bridge") && n->controls)
		(*found)++;
	return 0;
}

static void test_walk(void **state)
{
	struct fx *f = *state;
	int found = 0;

	assert_int_equal(sim_walk(f->t.sim, walk_cb, &found), 0);
	assert_int_equal(found, 1);
	assert_int_equal(sim_fn_peek(f->br, 0x0a, 2), 0x0604);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_header),
		T(test_reset_registers),
		T(test_no_spec_features),
		T(test_bad_spec),
		T(test_dword_window),
		T(test_enable_disable),
		T(test_power_only),
		T(test_command_errors),
		T(test_mrl_open_error),
		T(test_busy_drops_command),
		T(test_all_slots),
		T(test_latch_w1c_and_masks),
		T(test_byte_lanes),
		T(test_interrupt_locator),
		T(test_intx),
		T(test_msi),
		T(test_serr),
		T(test_remove_enabled),
		T(test_orderly_remove),
		T(test_mrl_open_isolates),
		T(test_power_fault),
		T(test_button),
		T(test_coldplug),
		T(test_presence_bounce),
		T(test_walk),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
