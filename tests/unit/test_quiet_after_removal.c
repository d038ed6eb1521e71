/*
 * test_quiet_after_removal.c - after the core takes a function away (a
 * slot removal, a deauthorization), the function neither decodes nor
 * masters the bus, whatever its driver did: the core clears the Command
 * register's I/O, memory and Bus Master Enable bits itself (PCI Local Bus
 * 3.0, 6.2.2).
 *
 * The drivers in drivers/ clear Bus Master Enable in their remove and
 * quiesce, which would hide a core that forgot to; the driver here
 * ("lazy") turns bus mastering on at probe and leaves it on, as a
 * careless third-party driver would.  The CompactPCI backplane here has
 * no high-availability block, so the board stays powered and on the bus
 * after its removal until the operator pulls it (the blue LED only says
 * it may go): what a user notices is whether that board, left in its
 * slot, can still write into host memory on its own.  (A PCIe slot
 * without a Power Controller is cut off by Link Disable instead.)  A
 * blocked function (hs_dev_deauthorize) stays powered too.
 *
 * The other way round, a card pulled by surprise is gone: the core
 * marks it so before any driver hears of it, and no driver or core
 * access reaches for it afterwards (on real hardware each such access
 * waits for a completion timeout).  The simulator counts memory and I/O
 * cycles nobody claimed (master aborts).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <string.h>

#include "slot_rig.h"
#include "simcard.h"
#include "hotswap/hpc.h"

#define CMD_IO     0x1u
#define CMD_MEM    0x2u
#define CMD_MASTER 0x4u

/* A card only the lazy driver matches (the simcard drivers go by class
 * 01h/02h; this one is class 0x118000, "other"). */
static const struct sim_card_spec dma_card = {
	.name = "dma-engine", .nfuncs = 1,
	.funcs = { { .vendor = 0x1af4, .device = 0x10f0,
		     .class_code = 0x118000, .irq_pin = 1,
		     .bar = { [0] = { SIM_BAR_MEM32, false, 4096 },
			      [2] = { SIM_BAR_IO, false, 32 } } } },
};

static const struct hs_device_id lazy_ids[] = {
	{ 0x1af4, 0x10f0, HS_ANY_ID, HS_ANY_ID, 0, 0 },
	{ 0, 0, 0, 0, 0, 0 },
};

static unsigned lazy_probes, lazy_removes;
static int lazy_token;

static int lazy_probe(struct hs_dev *dev, void **priv)
{
	int rc = hs_dev_set_master(dev, true);

	if (rc)
		return rc;
	lazy_probes++;
	*priv = &lazy_token;
	return 0;
}

/* Leaves Bus Master Enable (and decode) exactly as they were. */
static void lazy_remove(struct hs_dev *dev, void *priv)
{
	(void)dev;
	assert_ptr_equal(priv, &lazy_token);
	lazy_removes++;
}

static const struct hs_driver lazy_driver = {
	.name = "lazy", .ids = lazy_ids,
	.probe = lazy_probe, .remove = lazy_remove,
};

static void start(struct rig *r, enum rig_kind kind, const struct rig_opts *o)
{
	struct hs_core_params p;
	struct sim_slot_info hw;

	lazy_probes = lazy_removes = 0;
	rig_build(r, kind, o);
	hs_core_params_defaults(&p);
	assert_int_equal(hs_core_create(&r->t.plat, &p, &r->core), 0);
	hs_core_enable_rebalance(r->core);
	assert_int_equal(hs_controllers_register(r->core), 0);
	assert_int_equal(hs_driver_register(r->core, &lazy_driver), 0);
	assert_int_equal(hs_core_enumerate(r->core), 0);
	rig_run(r, 0);
	sim_slot_get_info(r->slot, &hw);
	r->hs = hs_slot_by_phys(r->core, hw.phys);
	assert_non_null(r->hs);
}

/* The card's own DMA attempts that reached host memory (of 8). */
static int rogue_dma(struct rig *r)
{
	return sim_card_dma(r->slot, 0, 0x100000, 64, 8);
}

static uint16_t command_of(struct rig *r, hs_bdf_t bdf)
{
	return tu_rd16(&r->t, bdf, 0x04);
}

static void bring_up(struct rig *r, hs_bdf_t *bdf)
{
	struct hs_dev *d;

	rig_insert(r, &dma_card);
	assert_true(rig_until(r, HS_SLOT_ON, HS_SEC(5)));
	rig_run(r, HS_MSEC(5));
	d = rig_dev(r);
	assert_non_null(d);
	assert_string_equal(hs_dev_driver_name(d), "lazy");
	*bdf = hs_dev_bdf(d);
	/* Running: decoding what it was given, mastering as its driver
	 * asked, and its DMA gets through (the test can see it). */
	assert_int_equal(command_of(r, *bdf) & (CMD_IO | CMD_MEM | CMD_MASTER),
			 CMD_IO | CMD_MEM | CMD_MASTER);
	assert_int_equal(rogue_dma(r), 8);
}

static void removal_leaves_card_quiet(enum rig_kind kind,
				      const struct rig_opts *o)
{
	struct rig r;
	struct sim_slot_info hw;
	hs_bdf_t bdf;

	start(&r, kind, o);
	bring_up(&r, &bdf);
	assert_int_equal(rig_disable(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(5)));
	rig_run(&r, HS_MSEC(5));
	assert_true(r.done_called);
	assert_int_equal(r.done_rc, 0);
	assert_null(rig_dev(&r));
	assert_int_equal(lazy_removes, 1);
	/* No slot power: the board is still there, powered, answering. */
	rig_info(&r, &hw, NULL);
	assert_true(hw.present);
	assert_true(hw.powered);
	assert_int_equal(tu_rd16(&r.t, bdf, 0x00), 0x1af4);
	/* But it decodes nothing and masters nothing: the core's job, the
	 * driver left BME on. */
	assert_int_equal(command_of(&r, bdf) & (CMD_IO | CMD_MEM | CMD_MASTER),
			 0);
	assert_int_equal(rogue_dma(&r), 0);
	rig_fini(&r);
}

static void test_cpci_removal_without_ha(void **state)
{
	(void)state;
	removal_leaves_card_quiet(RIG_CPCI, &(struct rig_opts){
		.cpci_no_ha = true });
}

/* The operator's ejector handle on the same backplane: the removal the
 * hardware asks for takes the same path. */
static void test_cpci_ejector_removal_without_ha(void **state)
{
	struct rig r;
	hs_bdf_t bdf;

	(void)state;
	start(&r, RIG_CPCI, &(struct rig_opts){ .cpci_no_ha = true });
	bring_up(&r, &bdf);
	rig_ask_removal(&r);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(5)));
	rig_run(&r, HS_MSEC(5));
	assert_int_equal(lazy_removes, 1);
	assert_int_equal(tu_rd16(&r.t, bdf, 0x00), 0x1af4);
	assert_int_equal(command_of(&r, bdf) & (CMD_IO | CMD_MEM | CMD_MASTER),
			 0);
	assert_int_equal(rogue_dma(&r), 0);
	rig_fini(&r);
}

/* Blocking a running function (USBGuard's "block"): unbound, and no
 * DMA from it afterwards, though its driver never cleared BME. */
static void test_deauthorize_clears_bus_master(void **state)
{
	struct rig r;
	struct hs_dev *d;
	char msg[128];
	hs_bdf_t bdf;

	(void)state;
	start(&r, RIG_PCIE, &(struct rig_opts){ 0 });
	rig_insert(&r, &dma_card);
	rig_run(&r, HS_MSEC(50));
	if (rig_state(&r) == HS_SLOT_OFF)
		assert_int_equal(sim_press_button(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(10)));
	rig_run(&r, HS_MSEC(5));
	d = rig_dev(&r);
	assert_non_null(d);
	bdf = hs_dev_bdf(d);
	assert_int_equal(rogue_dma(&r), 8);
	assert_int_equal(hs_dev_deauthorize(d, msg, sizeof(msg)), 0);
	assert_int_equal(lazy_removes, 1);
	assert_null(hs_dev_driver_name(d));
	assert_int_equal(command_of(&r, bdf) & (CMD_IO | CMD_MEM | CMD_MASTER),
			 0);
	assert_int_equal(rogue_dma(&r), 0);
	/* Authorized again: decode back on, bus mastering is the new
	 * driver's (lazy turns it on). */
	assert_int_equal(hs_dev_authorize(d, msg, sizeof(msg)), 0);
	assert_int_equal(lazy_probes, 2);
	assert_int_equal(rogue_dma(&r), 8);
	rig_fini(&r);
}

/* A card in use pulled by surprise: once the slot notices, not one
 * memory or I/O cycle goes to where the card was. */
static void test_surprise_pull_touches_nothing(void **state)
{
	for (enum rig_kind k = RIG_PCIE; k < RIG_KINDS; k++) {
		struct rig r;
		struct sim_counters c0, c1;
		const struct simcard_ledger *l;

		(void)state;
		rig_init(&r, k, &(struct rig_opts){ 0 });
		rig_bring_up(&r, &tu_card_nic);
		rig_run(&r, HS_MSEC(5));
		assert_non_null(rig_dev(&r));
		assert_int_equal(simcard_submit(rig_dev(&r), 8), 8);
		sim_get_counters(r.t.sim, &c0);
		rig_pull(&r, false);
		assert_true(rig_until(&r, HS_SLOT_EMPTY, HS_SEC(2)));
		rig_run(&r, HS_MSEC(50));
		sim_get_counters(r.t.sim, &c1);
		if (c1.mem_master_aborts != c0.mem_master_aborts ||
		    c1.io_master_aborts != c0.io_master_aborts)
			fail_msg("%s: %lu memory and %lu I/O cycles to the "
				 "pulled card", rig_kind_name[k],
				 c1.mem_master_aborts - c0.mem_master_aborts,
				 c1.io_master_aborts - c0.io_master_aborts);
		/* Its requests ended (failed), none lost. */
		l = simcard_ledger();
		assert_int_equal(l->submitted, l->completed + l->failed);
		rig_assert_clean(&r);
		rig_fini(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpci_removal_without_ha),
		cmocka_unit_test(test_cpci_ejector_removal_without_ha),
		cmocka_unit_test(test_deauthorize_clears_bus_master),
		cmocka_unit_test(test_surprise_pull_touches_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
