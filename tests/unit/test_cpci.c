/*
 * test_cpci.c - the CompactPCI segment model: PICMG 2.1 Hot Swap boards
 * behind the system slot's bridge, their Control/Status register, the
 * bussed ENUM# line, the blue LED, and the high-availability slot power
 * registers in the bridge's BAR0, driven as system software would.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdlib.h>
#include <string.h>

#include "sim_util.h"

#define BR       HS_BDF(0, 0, 3, 0)
#define SEC      1
#define BAR      0x90000000u
#define ENUM     40u
#define FIRST    9u  /* device number of the first slot */
#define PHYS     2u  /* physical number of the first slot */
#define CARD(n)  HS_BDF(0, SEC, FIRST + (n), 0) /* slot index n */

#define INS 0x80
#define EXT 0x40
#define LOO 0x08
#define EIM 0x02

#define HA_CAPS   0x000
#define HA_IRQ    0x004
#define HA_SLOT(n) (0x010 + 4 * (n))
#define PWR_EN    0x1u
#define HEALTHY   0x2u
#define PRESENT   0x4u
#define PRSNT_CHG 0x100u
#define PRSNT_IE  0x10000u

struct irq_rec {
	unsigned count;
	struct hs_irq last;
};

struct fx {
	struct tu t;
	struct sim_fn *br;
	struct sim_cpci_spec spec;
	struct irq_rec er;         /* ENUM# */
	struct hs_irq enum_irq;
};

static const struct sim_cpci_spec base_spec = {
	.vendor = 0x8086, .device = 0xb154,
	.nslots = 4, .first_dev = FIRST, .first_phys = PHYS,
	.power_control = false, .enum_line = ENUM,
};

static void on_irq(void *arg, const struct hs_irq *irq)
{
	struct irq_rec *r = arg;

	r->count++;
	r->last = *irq;
}

static void build(struct fx *f, const struct sim_cpci_spec *spec)
{
	int err = 0;

	tu_init(&f->t, NULL);
	memset(&f->er, 0, sizeof(f->er));
	f->spec = *spec;
	f->br = sim_add_cpci_segment(sim_root_bus(f->t.sim), 3, 0, &f->spec,
				     &err);
	assert_non_null(f->br);
	assert_int_equal(err, 0);
	tu_bridge_bus(&f->t, BR, 0, SEC, SEC);
	tu_bridge_mem(&f->t, BR, 0x80000000u, 0x80ffffffu);
	if (spec->power_control)
		tu_wr32(&f->t, BR, 0x10, BAR);
	tu_cmd(&f->t, BR, 0x0006);
	f->enum_irq.kind = HS_IRQ_LINE;
	f->enum_irq.number = ENUM;
}

static void attach_enum(struct fx *f)
{
	assert_int_equal(f->t.plat.ops->irq_attach(f->t.plat.ctx, &f->enum_irq,
						   on_irq, &f->er), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	build(f, &base_spec);
	attach_enum(f);
	*state = f;
	return 0;
}

static int setup_ha(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sim_cpci_spec s = base_spec;

	assert_non_null(f);
	s.power_control = true;
	build(f, &s);
	attach_enum(f);
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

static bool enum_active(struct fx *f)
{
	return line_active(f, &f->enum_irq, &f->er);
}

static struct sim_slot *slot_n(struct fx *f, unsigned n)
{
	struct sim_slot *s = sim_slot_by_phys(f->t.sim, PHYS + n);

	assert_non_null(s);
	return s;
}

static uint16_t vendor(struct fx *f, unsigned n)
{
	return tu_rd16(&f->t, CARD(n), 0x00);
}

/* The board's Hot Swap Control/Status register, as software reads it. */
static uint8_t hs_csr(struct fx *f, unsigned n)
{
	return tu_rd8(&f->t, CARD(n), tu_cap(&f->t, CARD(n), 0x06) + 2);
}

static void hs_write(struct fx *f, unsigned n, uint8_t v)
{
	tu_wr8(&f->t, CARD(n), tu_cap(&f->t, CARD(n), 0x06) + 2, v);
}

static bool blue_led(struct fx *f, unsigned n)
{
	struct sim_slot_info info;

	sim_slot_get_info(slot_n(f, n), &info);
	return info.blue_led;
}

static uint32_t ha_rd(struct fx *f, uint32_t off)
{
	return tu_mem32(&f->t, BAR + off);
}

static void ha_wr(struct fx *f, uint32_t off, uint32_t v)
{
	tu_wmem32(&f->t, BAR + off, v);
}

/* ---- the bridge --------------------------------------------------------- */

static void test_header(void **state)
{
	struct fx *f = *state;
	struct sim_slot_info info;

	assert_int_equal(tu_rd32(&f->t, BR, 0x00), 0xb1548086u);
	assert_int_equal(tu_rd32(&f->t, BR, 0x08) >> 8, 0x060400);
	assert_int_equal(tu_rd8(&f->t, BR, 0x0e) & 0x7f, 1);
	/* Full hot swap: no register block, no interrupt pin. */
	assert_int_equal(tu_rd8(&f->t, BR, 0x3d), 0);
	tu_wr32(&f->t, BR, 0x10, 0xffffffffu);
	assert_int_equal(tu_rd32(&f->t, BR, 0x10), 0);
	for (unsigned n = 0; n < 4; n++) {
		sim_slot_get_info(slot_n(f, n), &info);
		assert_int_equal(info.kind, SIM_SLOT_CPCI);
		assert_int_equal(info.dev, FIRST + n);
		assert_int_equal(info.phys, PHYS + n);
		assert_false(info.present);
		assert_ptr_equal(sim_slot_controller(slot_n(f, n)), f->br);
	}
	/* No attention button; the ejector belongs to the board. */
	assert_int_equal(sim_press_button(slot_n(f, 0)), -HS_ENOTSUP);
	assert_int_equal(sim_set_latch(slot_n(f, 0), true), -HS_ENOENT);
	assert_int_equal(sim_remove(slot_n(f, 0), SIM_REMOVE_ORDERLY),
			 -HS_ENOENT);
	assert_false(enum_active(f));
}

static void test_bad_spec(void **state)
{
	struct fx *f = *state;
	struct sim_cpci_spec s = base_spec;
	struct sim_bus *root = sim_root_bus(f->t.sim);
	int err = 0;

	s.first_phys = 50;
	s.nslots = 0;
	assert_null(sim_add_cpci_segment(root, 5, 0, &s, &err));
	assert_int_equal(err, -HS_EINVAL);
	s.nslots = 8;
	s.first_dev = 25;
	assert_null(sim_add_cpci_segment(root, 5, 0, &s, &err));
	assert_int_equal(err, -HS_EINVAL);
	s.first_dev = 0;
	assert_null(sim_add_cpci_segment(root, 3, 0, &s, &err));
	assert_int_equal(err, -HS_EEXIST);
	assert_null(sim_add_cpci_segment(root, 3, 8, &s, &err));
	assert_int_equal(err, -HS_EINVAL);
}

/* ---- insertion and ENUM# ------------------------------------------------ */

static void test_insert(void **state)
{
	struct fx *f = *state;
	struct sim_slot_info info;

	assert_int_equal(sim_insert(slot_n(f, 1), &tu_card_nic), 0);
	/* Full hot swap: powered by the backplane, on the bus, INS set and
	 * ENUM# asserted; the handle closed, so the LED is software's. */
	sim_slot_get_info(slot_n(f, 1), &info);
	assert_true(info.present);
	assert_true(info.powered);
	assert_true(info.link_up);
	assert_false(info.mrl_open);
	assert_false(info.blue_led);
	assert_int_equal(vendor(f, 1), 0x8086);
	assert_int_equal(hs_csr(f, 1) & (INS | EXT | LOO | EIM), INS);
	assert_int_equal(f->er.count, 1);
	/* (sim.c reports every platform line with kind HS_IRQ_INTX.) */
	assert_int_equal(f->er.last.number, ENUM);
	assert_true(enum_active(f));
	/* EIM masks the board's ENUM#; INS stays. */
	hs_write(f, 1, EIM);
	assert_false(enum_active(f));
	assert_int_equal(hs_csr(f, 1) & (INS | EIM), INS | EIM);
	hs_write(f, 1, 0);
	assert_int_equal(f->er.count, 2);
	/* Writing 0 to INS does nothing; 1 clears it and ENUM# drops. */
	assert_true(enum_active(f));
	hs_write(f, 1, INS);
	assert_int_equal(hs_csr(f, 1) & INS, 0);
	assert_false(enum_active(f));
	/* LOO is software's: the blue LED follows it. */
	hs_write(f, 1, LOO);
	assert_true(blue_led(f, 1));
	hs_write(f, 1, 0);
	assert_false(blue_led(f, 1));
	/* Other slots are empty: their device numbers master-abort. */
	assert_int_equal(vendor(f, 0), 0xffff);
	assert_int_equal(sim_insert(slot_n(f, 1), &tu_card_nic), -HS_EBUSY);
}

static void test_extract(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 0);
	struct sim_slot_info info;

	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	hs_write(f, 0, INS);
	assert_false(enum_active(f));
	/* The operator opens the ejector handle: EXT, ENUM#. */
	assert_int_equal(sim_set_latch(s, true), 0);
	assert_int_equal(hs_csr(f, 0) & (INS | EXT), EXT);
	assert_int_equal(f->er.count, 2);
	assert_true(enum_active(f));
	sim_slot_get_info(s, &info);
	assert_true(info.mrl_open);
	assert_true(info.powered); /* still running until software is done */
	/* Software acknowledges, quiesces and lights the blue LED. */
	hs_write(f, 0, EXT);
	assert_false(enum_active(f));
	assert_false(blue_led(f, 0));
	hs_write(f, 0, LOO);
	assert_true(blue_led(f, 0));
	/* The operator pulls the board. */
	assert_int_equal(sim_remove(s, SIM_REMOVE_ORDERLY), 0);
	sim_slot_get_info(s, &info);
	assert_false(info.present);
	assert_false(info.powered);
	assert_false(info.blue_led);
	assert_int_equal(vendor(f, 0), 0xffff);
	assert_false(enum_active(f));
	assert_int_equal(f->er.count, 2);
}

static void test_ins_ext_rules(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 2);

	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	/* Handle opened before software saw the insertion: no EXT while
	 * INS is pending. */
	assert_int_equal(sim_set_latch(s, true), 0);
	assert_int_equal(hs_csr(f, 2) & (INS | EXT), INS);
	hs_write(f, 2, INS);
	assert_false(enum_active(f));
	/* Closing it again announces the board again. */
	assert_int_equal(sim_set_latch(s, false), 0);
	assert_int_equal(hs_csr(f, 2) & (INS | EXT), INS);
	assert_true(enum_active(f));
	hs_write(f, 2, INS);
	/* Open: EXT.  Closed again with EXT still pending: no INS. */
	assert_int_equal(sim_set_latch(s, true), 0);
	assert_int_equal(hs_csr(f, 2) & (INS | EXT), EXT);
	assert_int_equal(sim_set_latch(s, false), 0);
	assert_int_equal(hs_csr(f, 2) & (INS | EXT), EXT);
	hs_write(f, 2, EXT);
	assert_false(enum_active(f));
	/* Opened and closed after software acknowledged: EXT, then INS
	 * once EXT is cleared and the handle closes. */
	assert_int_equal(sim_set_latch(s, true), 0);
	hs_write(f, 2, EXT);
	assert_int_equal(sim_set_latch(s, false), 0);
	assert_int_equal(hs_csr(f, 2) & (INS | EXT), INS);
	/* Software writes to other config registers leave ENUM# alone. */
	tu_wr8(&f->t, CARD(2), 0x3c, 5);
	assert_true(enum_active(f));
}

static void test_shared_enum(void **state)
{
	struct fx *f = *state;

	assert_int_equal(sim_insert(slot_n(f, 0), &tu_card_nic), 0);
	assert_int_equal(sim_insert(slot_n(f, 3), &tu_card_gpu), 0);
	/* One wired-OR level: one assertion for both sources. */
	assert_int_equal(f->er.count, 1);
	assert_int_equal(hs_csr(f, 0) & INS, INS);
	assert_int_equal(hs_csr(f, 3) & INS, INS);
	hs_write(f, 0, INS);
	assert_true(enum_active(f));
	hs_write(f, 3, INS);
	assert_false(enum_active(f));
	/* A later event asserts it again. */
	assert_int_equal(sim_set_latch(slot_n(f, 3), true), 0);
	assert_int_equal(f->er.count, 2);
	/* Masked on one board, the other board still drives it. */
	hs_write(f, 3, EIM);
	assert_false(enum_active(f));
	assert_int_equal(sim_set_latch(slot_n(f, 0), true), 0);
	assert_int_equal(f->er.count, 3);
	hs_write(f, 0, EXT);
	assert_false(enum_active(f));
	hs_write(f, 3, 0); /* unmask: EXT was still set */
	assert_true(enum_active(f));
	hs_write(f, 3, EXT);
	assert_false(enum_active(f));
}

static void test_two_segments_one_line(void **state)
{
	struct fx *f = *state;
	struct sim_cpci_spec s2 = base_spec;
	hs_bdf_t br2 = HS_BDF(0, 0, 4, 0);
	struct sim_slot *other;
	int err = 0;

	/* A second backplane wired to the same ENUM# (wired-OR). */
	s2.first_phys = 20;
	assert_non_null(sim_add_cpci_segment(sim_root_bus(f->t.sim), 4, 0,
					     &s2, &err));
	tu_bridge_bus(&f->t, br2, 0, 2, 2);
	other = sim_slot_by_phys(f->t.sim, 20);
	assert_non_null(other);
	assert_int_equal(sim_insert(slot_n(f, 0), &tu_card_nic), 0);
	assert_int_equal(sim_insert(other, &tu_card_nic), 0);
	assert_int_equal(f->er.count, 1);
	assert_int_equal(tu_rd16(&f->t, HS_BDF(0, 2, FIRST, 0), 0), 0x8086);
	/* Cleared on the first backplane: the second still holds it. */
	hs_write(f, 0, INS);
	assert_true(enum_active(f));
	tu_wr8(&f->t, HS_BDF(0, 2, FIRST, 0),
	       tu_cap(&f->t, HS_BDF(0, 2, FIRST, 0), 0x06) + 2, INS);
	assert_false(enum_active(f));
	/* And either one raises it again. */
	assert_int_equal(sim_set_latch(other, true), 0);
	assert_int_equal(f->er.count, 2);
	assert_true(enum_active(f));
}

static void test_coldplug(void **state)
{
	struct fx *f = *state;
	struct sim_slot_info info;

	tu_fini(&f->t);
	build(f, &base_spec);
	assert_int_equal(sim_coldplug(slot_n(f, 1), &tu_card_nic), 0);
	assert_int_equal(sim_coldplug(slot_n(f, 2), &tu_card_multi), 0);
	/* Boards present at power-up have INS set; the handler sees the
	 * level as soon as it attaches. */
	attach_enum(f);
	assert_int_equal(f->er.count, 1);
	assert_int_equal(vendor(f, 1), 0x8086);
	assert_int_equal(hs_csr(f, 1) & (INS | LOO), INS);
	assert_int_equal(hs_csr(f, 2) & INS, INS);
	sim_slot_get_info(slot_n(f, 1), &info);
	assert_true(info.powered);
	assert_true(info.link_up);
	assert_false(info.blue_led);
	/* Only function 0 carries the register. */
	assert_int_equal(tu_rd16(&f->t, HS_BDF(0, SEC, FIRST + 2, 1), 0),
			 0x1b36);
	hs_write(f, 1, INS);
	assert_true(enum_active(f));
	hs_write(f, 2, INS);
	assert_false(enum_active(f));
}

static void test_surprise_remove(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 0);
	struct sim_slot_info info;

	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	assert_true(enum_active(f));
	/* Pulled with INS still pending and the handle closed: the board's
	 * ENUM# leaves with it. */
	assert_int_equal(sim_remove(s, SIM_REMOVE_SURPRISE), 0);
	assert_false(enum_active(f));
	sim_slot_get_info(s, &info);
	assert_false(info.present);
	assert_false(info.powered);
	assert_int_equal(vendor(f, 0), 0xffff);
	/* A new board goes through the same sequence. */
	assert_int_equal(sim_insert(s, &tu_card_gpu), 0);
	assert_int_equal(vendor(f, 0), 0x10de);
	assert_int_equal(hs_csr(f, 0) & INS, INS);
	assert_int_equal(f->er.count, 2);
}

static void test_orderly_remove_pulse(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 3);

	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	hs_write(f, 3, INS);
	/* ORDERLY opens the handle first (EXT: ENUM# rises), then the
	 * board is gone (ENUM# falls). */
	assert_int_equal(sim_remove(s, SIM_REMOVE_ORDERLY), 0);
	assert_int_equal(f->er.count, 2);
	assert_false(enum_active(f));
}

static void test_power_fault(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 1);
	struct sim_slot_info info;

	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	assert_int_equal(sim_inject_power_fault(s), 0);
	sim_slot_get_info(s, &info);
	assert_true(info.power_fault);
	assert_false(info.powered);
	assert_false(info.link_up);
	assert_int_equal(vendor(f, 1), 0xffff);
	assert_false(enum_active(f));
	/* The fault leaves with the board. */
	assert_int_equal(sim_remove(s, SIM_REMOVE_SURPRISE), 0);
	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	assert_int_equal(vendor(f, 1), 0x8086);
}

static void test_bounce(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 0);
	hs_time_t when;

	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	hs_write(f, 0, INS);
	tu_wr8(&f->t, CARD(0), 0x3c, 9);
	assert_int_equal(sim_bounce(s, false, 50, 300), 0);
	/* BD_SEL# lost: the board drops off and resets. */
	assert_int_equal(vendor(f, 0), 0xffff);
	assert_false(enum_active(f));
	sim_advance(f->t.sim, HS_USEC(50));
	assert_int_equal(vendor(f, 0), 0x8086);
	assert_int_equal(tu_rd8(&f->t, CARD(0), 0x3c), 0); /* was reset */
	while (sim_next_event(f->t.sim, &when))
		sim_step(f->t.sim);
	/* Settled: connected again, and it announced itself again. */
	assert_int_equal(vendor(f, 0), 0x8086);
	assert_int_equal(hs_csr(f, 0) & INS, INS);
	assert_true(enum_active(f));
}

static void test_card_with_bridge(void **state)
{
	struct fx *f = *state;

	tu_bridge_bus(&f->t, BR, 0, SEC, SEC + 1);
	assert_int_equal(sim_insert(slot_n(f, 0), &tu_card_bridge), 0);
	/* The board's own bridge is function 0 and carries the register. */
	assert_int_equal(hs_csr(f, 0) & INS, INS);
	tu_bridge_bus(&f->t, CARD(0), SEC, SEC + 1, SEC + 1);
	assert_int_equal(tu_rd16(&f->t, HS_BDF(0, SEC + 1, 4, 0), 0), 0x8086);
	/* A write to a function behind it does not disturb ENUM#. */
	tu_wr8(&f->t, HS_BDF(0, SEC + 1, 4, 0), 0x3c, 3);
	assert_true(enum_active(f));
	hs_write(f, 0, INS);
	assert_false(enum_active(f));
}

/* ---- high availability -------------------------------------------------- */

static void test_ha_registers(void **state)
{
	struct fx *f = *state;
	uint32_t caps;

	assert_int_equal(tu_rd8(&f->t, BR, 0x3d), 1);
	tu_wr16(&f->t, BR, 0x04, tu_rd16(&f->t, BR, 0x04) & ~2);
	tu_wr32(&f->t, BR, 0x10, 0xffffffffu);
	assert_int_equal(tu_rd32(&f->t, BR, 0x10), 0xfffff000u);
	tu_wr32(&f->t, BR, 0x10, BAR);
	tu_cmd(&f->t, BR, 2);
	caps = ha_rd(f, HA_CAPS);
	assert_int_equal(caps & 0x1f, 4);
	assert_int_equal((caps >> 8) & 0x1f, FIRST);
	assert_int_equal((caps >> 16) & 0x7ff, PHYS);
	assert_true(caps & (1u << 31));
	assert_int_equal(ha_rd(f, HA_IRQ), 0);
	for (unsigned n = 0; n < 4; n++)
		assert_int_equal(ha_rd(f, HA_SLOT(n)), 0);
	assert_int_equal(ha_rd(f, HA_SLOT(4)), 0);
	/* Read-only bits stay put; reserved bits read 0. */
	ha_wr(f, HA_SLOT(0), 0xffffffffu & ~PWR_EN);
	assert_int_equal(ha_rd(f, HA_SLOT(0)), PRSNT_IE);
	ha_wr(f, HA_SLOT(0), 0);
	ha_wr(f, HA_CAPS, 0);
	assert_int_equal(ha_rd(f, HA_CAPS), caps);
}

static void test_ha_insert_power(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 1);
	struct sim_slot_info info;

	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	/* Seated but unpowered: not on the bus, no ENUM#; the blue LED on
	 * the board's early power says it may be pulled (PICMG 2.1). */
	sim_slot_get_info(s, &info);
	assert_true(info.present);
	assert_false(info.powered);
	assert_true(info.blue_led);
	assert_int_equal(vendor(f, 1), 0xffff);
	assert_false(enum_active(f));
	assert_int_equal(ha_rd(f, HA_SLOT(1)), PRESENT | PRSNT_CHG);
	/* Software powers the slot: the board connects and announces. */
	ha_wr(f, HA_SLOT(1), PWR_EN | PRSNT_CHG);
	assert_int_equal(ha_rd(f, HA_SLOT(1)), PWR_EN | HEALTHY | PRESENT);
	assert_int_equal(vendor(f, 1), 0x8086);
	assert_int_equal(hs_csr(f, 1) & (INS | LOO), INS);
	assert_int_equal(f->er.count, 1);
	hs_write(f, 1, INS);
	assert_false(enum_active(f));
	tu_wr8(&f->t, CARD(1), 0x3c, 7);
	/* Writing PWR_EN again changes nothing. */
	ha_wr(f, HA_SLOT(1), PWR_EN);
	assert_int_equal(tu_rd8(&f->t, CARD(1), 0x3c), 7);
	assert_false(enum_active(f));
	/* Power off: the board resets and leaves the bus. */
	ha_wr(f, HA_SLOT(1), 0);
	assert_int_equal(ha_rd(f, HA_SLOT(1)), PRESENT);
	assert_int_equal(vendor(f, 1), 0xffff);
	sim_slot_get_info(s, &info);
	assert_false(info.powered);
	assert_true(info.present);
	/* Power on again: a fresh hardware connection, INS again. */
	ha_wr(f, HA_SLOT(1), PWR_EN);
	assert_int_equal(tu_rd8(&f->t, CARD(1), 0x3c), 0);
	assert_int_equal(hs_csr(f, 1) & INS, INS);
	assert_int_equal(f->er.count, 2);
	/* The board leaves: power switch drops, presence changes. */
	assert_int_equal(sim_remove(s, SIM_REMOVE_SURPRISE), 0);
	assert_int_equal(ha_rd(f, HA_SLOT(1)), PRSNT_CHG);
	assert_false(enum_active(f));
	/* The next board waits for software again. */
	assert_int_equal(sim_insert(s, &tu_card_gpu), 0);
	assert_int_equal(vendor(f, 1), 0xffff);
	/* A slot armed while empty powers the next board at once. */
	ha_wr(f, HA_SLOT(2), PWR_EN);
	assert_int_equal(ha_rd(f, HA_SLOT(2)), PWR_EN);
	assert_int_equal(sim_insert(slot_n(f, 2), &tu_card_nic), 0);
	assert_int_equal(vendor(f, 2), 0x8086);
	assert_int_equal(ha_rd(f, HA_SLOT(2)),
			 PWR_EN | HEALTHY | PRESENT | PRSNT_CHG);
}

static void test_ha_interrupt(void **state)
{
	struct fx *f = *state;
	struct irq_rec r = { 0 };
	struct hs_irq irq = { HS_IRQ_INTX, 0 };

	assert_int_equal(f->t.plat.ops->intx_route(f->t.plat.ctx, BR, 1,
						   &irq.number), 0);
	assert_int_equal(f->t.plat.ops->irq_attach(f->t.plat.ctx, &irq, on_irq,
						   &r), 0);
	/* Presence changes are latched; with PRSNT_IE they raise INTA#. */
	assert_int_equal(sim_insert(slot_n(f, 0), &tu_card_nic), 0);
	assert_int_equal(r.count, 0);
	assert_int_equal(ha_rd(f, HA_IRQ), 0);
	ha_wr(f, HA_SLOT(0), PRSNT_IE);
	assert_int_equal(r.count, 1);
	assert_int_equal(ha_rd(f, HA_IRQ), 1u << 0);
	assert_true(tu_rd16(&f->t, BR, 0x06) & 0x0008);
	assert_int_equal(sim_insert(slot_n(f, 3), &tu_card_nic), 0);
	ha_wr(f, HA_SLOT(3), PRSNT_IE);
	assert_int_equal(ha_rd(f, HA_IRQ), 1u << 0 | 1u << 3);
	assert_int_equal(r.count, 1); /* one level */
	ha_wr(f, HA_SLOT(0), PRSNT_IE | PRSNT_CHG);
	assert_true(line_active(f, &irq, &r));
	ha_wr(f, HA_SLOT(3), PRSNT_IE | PRSNT_CHG);
	assert_false(line_active(f, &irq, &r));
	assert_false(tu_rd16(&f->t, BR, 0x06) & 0x0008);
	assert_int_equal(ha_rd(f, HA_IRQ), 0);
	/* Interrupt Disable silences the pin. */
	tu_wr16(&f->t, BR, 0x04, tu_rd16(&f->t, BR, 0x04) | 0x0400);
	assert_int_equal(sim_remove(slot_n(f, 0), SIM_REMOVE_SURPRISE), 0);
	assert_false(line_active(f, &irq, &r));
	assert_true(tu_rd16(&f->t, BR, 0x06) & 0x0008);
	tu_wr16(&f->t, BR, 0x04, tu_rd16(&f->t, BR, 0x04) & ~0x0400);
	assert_true(line_active(f, &irq, &r));
	f->t.plat.ops->irq_detach(f->t.plat.ctx, &irq);
}

static void test_ha_coldplug(void **state)
{
	struct fx *f = *state;

	assert_int_equal(sim_coldplug(slot_n(f, 2), &tu_card_nic), 0);
	assert_int_equal(ha_rd(f, HA_SLOT(2)), PWR_EN | HEALTHY | PRESENT);
	assert_int_equal(vendor(f, 2), 0x8086);
	assert_int_equal(hs_csr(f, 2) & INS, INS);
	assert_true(enum_active(f));
}

static void test_ha_handle_open_at_power_on(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 0);

	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	/* The handle of an unpowered board: nobody notices. */
	assert_int_equal(sim_set_latch(s, true), 0);
	assert_false(enum_active(f));
	/* Out of reset with the handle open: LED on, no INS. */
	ha_wr(f, HA_SLOT(0), PWR_EN);
	assert_int_equal(vendor(f, 0), 0x8086);
	assert_int_equal(hs_csr(f, 0) & (INS | EXT | LOO), LOO);
	assert_true(blue_led(f, 0));
	assert_false(enum_active(f));
	/* The handle closes: the LED goes to software (off), INS. */
	assert_int_equal(sim_set_latch(s, false), 0);
	assert_int_equal(hs_csr(f, 0) & (INS | EXT | LOO), INS);
	assert_false(blue_led(f, 0));
	assert_true(enum_active(f));
}

static void test_ha_power_fault(void **state)
{
	struct fx *f = *state;
	struct sim_slot *s = slot_n(f, 3);

	assert_int_equal(sim_insert(s, &tu_card_nic), 0);
	ha_wr(f, HA_SLOT(3), PWR_EN | PRSNT_CHG);
	assert_int_equal(sim_inject_power_fault(s), 0);
	/* Power switch still on, but the board is not healthy. */
	assert_int_equal(ha_rd(f, HA_SLOT(3)), PWR_EN | PRESENT);
	assert_int_equal(vendor(f, 3), 0xffff);
	/* Cycling the power does not help while the fault lasts. */
	ha_wr(f, HA_SLOT(3), 0);
	ha_wr(f, HA_SLOT(3), PWR_EN);
	assert_int_equal(vendor(f, 3), 0xffff);
	assert_false(enum_active(f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define H(fn) cmocka_unit_test_setup_teardown(fn, setup_ha, teardown)
		T(test_header),
		T(test_bad_spec),
		T(test_insert),
		T(test_extract),
		T(test_ins_ext_rules),
		T(test_shared_enum),
		T(test_two_segments_one_line),
		T(test_coldplug),
		T(test_surprise_remove),
		T(test_orderly_remove_pulse),
		T(test_power_fault),
		T(test_bounce),
		T(test_card_with_bridge),
		H(test_ha_registers),
		H(test_ha_insert_power),
		H(test_ha_interrupt),
		H(test_ha_coldplug),
		H(test_ha_handle_open_at_power_on),
		H(test_ha_power_fault),
#undef T
#undef H
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
