/*
 * test_intx_swizzle.c - the INTx swizzle through bridges, checked against
 * lines worked out by hand from the PCI-to-PCI Bridge Architecture 1.2,
 * 9.1 ("interrupt routing"): a device's pin seen on the primary side of
 * the bridge it sits behind is
 *
 *     pin' = ((device + pin - 1) mod 4) + 1      (INTA# = 1 .. INTD# = 4)
 *
 * applied at every bridge up to the root bus, where the simulated
 * platform (like a PC's PIRQ router) wires root device d's pin p to line
 * intx_base + ((d + p - 1) mod 4), intx_base 16 (sim.h).
 *
 * Chassis (plain PCI-to-PCI bridges, numbered depth first):
 *
 *   00:02.0 bridge -> bus A
 *       A:01.0 card Z, INTD#
 *       A:03.0 bridge -> bus B
 *           B:04.0 bridge -> bus C
 *               C:02.0 card V, INTA#
 *           B:05.0 card X, INTB#
 *           B:06.0 card Y, INTB#
 *   00:07.0 card W, INTC#
 *
 * By hand:
 *   X: B:05 INTB# -> ((5+2-1) mod 4)+1 = 3 at A:03; ((3+3-1) mod 4)+1 = 2
 *      at 00:02; line 16 + ((2+2-1) mod 4) = 19
 *   Y: B:06 INTB# -> ((6+2-1) mod 4)+1 = 4 at A:03; ((3+4-1) mod 4)+1 = 3
 *      at 00:02; line 16 + ((2+3-1) mod 4) = 16
 *   Z: A:01 INTD# -> ((1+4-1) mod 4)+1 = 1 at 00:02; line
 *      16 + ((2+1-1) mod 4) = 18
 *   V: C:02 INTA# -> ((2+1-1) mod 4)+1 = 3 at B:04; ((4+3-1) mod 4)+1 = 3
 *      at A:03; ((3+3-1) mod 4)+1 = 2 at 00:02; line 16 + 3 = 19
 *   W: 00:07 INTC# -> line 16 + ((7+3-1) mod 4) = 17
 *
 * Both sides are checked: the line the core records for each device
 * (what a driver attaches its handler to, hs_dev_irq), and the line the
 * simulated hardware actually raises when the card interrupts.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <string.h>

#include "sim_util.h"
#include "hotswap/core.h"
#include "hotswap/simcard_regs.h"

static const struct sim_card_spec card_x = {
	.name = "x", .nfuncs = 1,
	.funcs = { { .vendor = 0x1234, .device = 0x0005, .class_code = 0x020000,
		     .irq_pin = 2, .bar = { [0] = { SIM_BAR_MEM32, false, 4096 } } } },
};
static const struct sim_card_spec card_y = {
	.name = "y", .nfuncs = 1,
	.funcs = { { .vendor = 0x1234, .device = 0x0006, .class_code = 0x020000,
		     .irq_pin = 2, .bar = { [0] = { SIM_BAR_MEM32, false, 4096 } } } },
};
static const struct sim_card_spec card_z = {
	.name = "z", .nfuncs = 1,
	.funcs = { { .vendor = 0x1234, .device = 0x0001, .class_code = 0x020000,
		     .irq_pin = 4, .bar = { [0] = { SIM_BAR_MEM32, false, 4096 } } } },
};
static const struct sim_card_spec card_v = {
	.name = "v", .nfuncs = 1,
	.funcs = { { .vendor = 0x1234, .device = 0x0002, .class_code = 0x020000,
		     .irq_pin = 1, .bar = { [0] = { SIM_BAR_MEM32, false, 4096 } } } },
};
static const struct sim_card_spec card_w = {
	.name = "w", .nfuncs = 1,
	.funcs = { { .vendor = 0x1234, .device = 0x0007, .class_code = 0x020000,
		     .irq_pin = 3, .bar = { [0] = { SIM_BAR_MEM32, false, 4096 } } } },
};

static const struct {
	uint16_t device;   /* which card */
	unsigned levels;   /* bridges above it */
	uint32_t line;     /* worked out by hand, above */
} want[] = {
	{ 0x0005, 2, 19 },  /* X */
	{ 0x0006, 2, 16 },  /* Y */
	{ 0x0001, 1, 18 },  /* Z */
	{ 0x0002, 3, 19 },  /* V */
	{ 0x0007, 0, 17 },  /* W */
};

static struct tu t;
static struct hs_core *core;
static unsigned fired[32];

static void on_line(void *arg, const struct hs_irq *irq)
{
	(void)arg;
	if (irq->kind == HS_IRQ_INTX && irq->number < 32)
		fired[irq->number]++;
}

static void build(void)
{
	struct sim_fn *b0, *ba, *bb;
	struct hs_core_params p;
	int err = 0;

	tu_init(&t, NULL);
	b0 = sim_add_pci_bridge(sim_root_bus(t.sim), 2, 0, 0x8086, 0x244e, &err);
	assert_non_null(b0);
	assert_int_equal(sim_add_device(sim_fn_secondary(b0), 1, &card_z), 0);
	ba = sim_add_pci_bridge(sim_fn_secondary(b0), 3, 0, 0x8086, 0x244e, &err);
	assert_non_null(ba);
	bb = sim_add_pci_bridge(sim_fn_secondary(ba), 4, 0, 0x8086, 0x244e, &err);
	assert_non_null(bb);
	assert_int_equal(sim_add_device(sim_fn_secondary(bb), 2, &card_v), 0);
	assert_int_equal(sim_add_device(sim_fn_secondary(ba), 5, &card_x), 0);
	assert_int_equal(sim_add_device(sim_fn_secondary(ba), 6, &card_y), 0);
	assert_int_equal(sim_add_device(sim_root_bus(t.sim), 7, &card_w), 0);
	hs_core_params_defaults(&p);
	assert_int_equal(hs_core_create(&t.plat, &p, &core), 0);
	hs_core_enable_rebalance(core);
	assert_int_equal(hs_core_enumerate(core), 0);
}

static void teardown(void)
{
	hs_core_destroy(core);
	core = NULL;
	tu_fini(&t);
}

static struct hs_dev *card(uint16_t device)
{
	for (struct hs_dev *d = hs_dev_next(core, NULL); d;
	     d = hs_dev_next(core, d))
		if (hs_dev_vendor(d) == 0x1234 && hs_dev_device(d) == device)
			return d;
	fail_msg("card %04x not enumerated", device);
	return NULL;
}

static unsigned depth(const struct hs_dev *d)
{
	unsigned n = 0;

	for (d = hs_dev_parent(d); d; d = hs_dev_parent(d))
		n++;
	return n;
}

/* The line the core gives each device's driver. */
static void test_core_records_hand_worked_lines(void **state)
{
	(void)state;
	build();
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct hs_dev *d = card(want[i].device);
		struct hs_irq irq;
		unsigned nvec = 0;

		assert_int_equal(depth(d), want[i].levels);
		assert_int_equal(hs_dev_irq(d, &irq, &nvec), 0);
		assert_int_equal(irq.kind, HS_IRQ_INTX);
		if (irq.number != want[i].line)
			fail_msg("card %04x: the core routes it to line %u, "
				 "by hand it is %u", want[i].device,
				 (unsigned)irq.number, (unsigned)want[i].line);
	}
	teardown();
}

/* The line the hardware raises when each card interrupts: one request
 * through its doorbell, completion interrupt unmasked. */
static void test_hardware_raises_hand_worked_lines(void **state)
{
	(void)state;
	build();
	for (uint32_t l = 16; l < 20; l++) {
		struct hs_irq irq = { HS_IRQ_INTX, l };

		assert_int_equal(t.plat.ops->irq_attach(t.plat.ctx, &irq,
							on_line, NULL), 0);
	}
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct hs_dev *d = card(want[i].device);
		struct hs_resource bar;

		memset(fired, 0, sizeof(fired));
		assert_int_equal(hs_dev_bar(d, 0, &bar), 0);
		assert_int_equal(tu_mem32(&t, bar.start + SIMCARD_REG_ID),
				 (uint32_t)want[i].device << 16 | 0x1234);
		tu_wmem32(&t, bar.start + SIMCARD_REG_IRQ_MASK, 1);
		tu_wmem32(&t, bar.start + SIMCARD_REG_DOORBELL, 1);
		sim_advance(t.sim, HS_USEC(100));
		for (uint32_t l = 16; l < 20; l++)
			if (fired[l] != (l == want[i].line))
				fail_msg("card %04x: line %u fired %u times "
					 "(by hand: line %u)", want[i].device,
					 (unsigned)l, fired[l],
					 (unsigned)want[i].line);
		/* Acknowledge: the level drops, the line is free again. */
		tu_wmem32(&t, bar.start + SIMCARD_REG_IRQ_STATUS, 1);
		tu_wmem32(&t, bar.start + SIMCARD_REG_IRQ_MASK, 0);
	}
	for (uint32_t l = 16; l < 20; l++) {
		struct hs_irq irq = { HS_IRQ_INTX, l };

		t.plat.ops->irq_detach(t.plat.ctx, &irq);
	}
	teardown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_records_hand_worked_lines),
		cmocka_unit_test(test_hardware_raises_hand_worked_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
