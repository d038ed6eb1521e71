/*
 * test_cov_controllers.c - the three controller drivers (pciehp, shpchp,
 * cpcihp) when the hardware or the platform lets them down: a config
 * access failing at each point of the boot, on every kind of slot; a
 * platform that cannot attach the controller's interrupt; commands whose
 * config write is lost.  (Issue #17 item 6: these paths had no test.)
 *
 * What a user sees: the boot either fails as a whole with an error, or
 * every slot comes up knowing its card, and a card inserted afterwards
 * is found; nothing leaks (ASan) and no request is lost.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slot_rig.h"
#include "simcard.h"
#include "hotswap/hpc.h"

static enum rig_kind kinds[RIG_KINDS] = { RIG_PCIE, RIG_SHPC,
						RIG_CPCI };
static const unsigned phys_of[RIG_KINDS] = { 1, 10, 20 };
/* The controller of each rig's slot. */
static const hs_bdf_t bridge_of[RIG_KINDS] = {
	HS_BDF(0, 0, 1, 0), HS_BDF(0, 0, 2, 0), HS_BDF(0, 0, 3, 0)
};

static const struct rig_opts on_presence = {
	.policy = HS_SLOT_POLICY_PRESENCE
};

static enum rig_kind kind_of(void **state)
{
	return *(const enum rig_kind *)*state;
}

/* The core on the rig's chassis, on the given platform; the boot's
 * result. */
static int boot(struct rig *r, const struct hs_platform *plat,
		const struct rig_opts *o)
{
	struct hs_core_params p;
	int rc;

	hs_core_params_defaults(&p);
	p.slot_poll = o->poll;
	p.slot_policy = o->policy;
	assert_int_equal(hs_core_create(plat, &p, &r->core), 0);
	hs_core_enable_rebalance(r->core);
	assert_int_equal(hs_controllers_register(r->core), 0);
	assert_int_equal(hs_driver_register(r->core, &simnet_driver), 0);
	assert_int_equal(hs_driver_register(r->core, &simstor_driver), 0);
	rc = hs_core_enumerate(r->core);
	r->hs = hs_slot_by_phys(r->core, phys_of[r->kind]);
	return rc;
}

static bool bound_in_slot(struct rig *r)
{
	struct hs_dev *d = r->hs ? rig_dev(r) : NULL;

	return d && hs_dev_driver_name(d) &&
	       !strcmp(hs_dev_driver_name(d), "simnet");
}

/* The card in the slot is bound, or comes up after a pull and a new
 * insertion. */
static bool usable(struct rig *r)
{
	if (bound_in_slot(r))
		return true;
	rig_pull(r, false);
	if (!rig_until(r, HS_SLOT_EMPTY, HS_SEC(5)))
		return false;
	rig_insert(r, &tu_card_nic);
	return rig_until(r, HS_SLOT_ON, HS_SEC(10)) && bound_in_slot(r);
}

/*
 * A card seated at power-on, and the nth config access of the boot
 * fails (reads all ones, write dropped), for every n the clean boot
 * makes.  The boot may notice (an error, nothing half done) or not;
 * if it succeeds the slot must exist and, once the fault has passed,
 * hold the card with its driver bound, and a second card inserted
 * into the other slot (SHPC, cPCI) or after a pull (PCIe) comes up.
 */
static void sc_boot_with_cfg_fault(void **state)
{
	enum rig_kind k = kind_of(state);
	struct sim_counters c0, c1;
	unsigned long accesses, failed = 0, unnoticed = 0, lost = 0;
	unsigned long unusable = 0;
	struct hs_dev *b;
	struct rig r;

	/* How many accesses a clean boot makes. */
	simcard_ledger_reset();
	rig_build(&r, k, &on_presence);
	assert_int_equal(sim_coldplug(r.slot, &tu_card_nic), 0);
	sim_get_counters(r.t.sim, &c0);
	assert_int_equal(boot(&r, &r.t.plat, &on_presence), 0);
	sim_get_counters(r.t.sim, &c1);
	accesses = c1.cfg_reads + c1.cfg_writes - c0.cfg_reads - c0.cfg_writes;
	rig_run(&r, HS_SEC(2));
	assert_true(bound_in_slot(&r));
	rig_fini(&r);
	assert_true(accesses > 20);

	for (unsigned long n = 1; n <= accesses; n++) {
		int rc;

		simcard_ledger_reset();
		rig_build(&r, k, &on_presence);
		assert_int_equal(sim_coldplug(r.slot, &tu_card_nic), 0);
		sim_fault_cfg(r.t.sim, n);
		rc = boot(&r, &r.t.plat, &on_presence);
		sim_fault_cfg(r.t.sim, 0);
		if (rc) {
			/* Failed as a whole: nothing recorded. */
			assert_true(rc < 0);
			assert_null(hs_dev_next(r.core, NULL));
			failed++;
			rig_fini(&r);
			continue;
		}
		unnoticed++;
		rig_run(&r, HS_SEC(3));
		/* Where the slot exists it knows the card: present, and
		 * out of the empty state. */
		if (r.hs) {
			struct sim_slot_info hw;
			struct hs_slot_info sw;

			rig_info(&r, &hw, &sw);
			assert_true(hw.present);
			if (!sw.present || sw.state == HS_SLOT_EMPTY) {
				print_error("%s: fault at config access %lu of "
					    "the boot: slot %u says %s\n",
					    rig_kind_name[k], n, phys_of[k],
					    hs_slot_state_name(sw.state));
				fail();
			}
		}
		/* The slot gone although its port is recorded as a hot-plug
		 * bridge: the controller's probe failed and the boot went
		 * on. */
		b = hs_dev_find(r.core, bridge_of[k]);
		if (!r.hs && b && hs_dev_is_hotplug_bridge(b)) {
			lost++;
			print_message("  access %lu: no slot\n", n);
		} else if (r.hs && !usable(&r)) {
			unusable++;
			print_message("  access %lu: card never bound\n", n);
		}
		rig_fini(&r);
	}
	/* A fault the boot did not notice must not leave damage: a lost
	 * write of a bridge's Memory Limit used to leave its window closed
	 * (the card's driver could not start, then or after a re-insert),
	 * and a read failing in a controller's set-up left a hot-plug port
	 * without its slot.  The core now reads windows back, and a boot
	 * whose driver or port service fails with -HS_EIO scans again. */
	print_message("%s: %lu config faults in boot: %lu failed it, %lu "
		      "did not (%lu lost the slot, %lu left it unusable)\n",
		      rig_kind_name[k], accesses, failed, unnoticed, lost,
		      unusable);
	assert_int_equal(lost, 0);
	assert_int_equal(unusable, 0);
}

/* ---- a platform that cannot attach the controller's interrupt ------- */

static struct hs_platform_ops no_irq_ops;

static int refuse_irq(void *ctx, const struct hs_irq *irq, hs_irq_fn fn,
		      void *arg)
{
	(void)ctx;
	(void)irq;
	(void)fn;
	(void)arg;
	return -HS_EBUSY;
}

static int refuse_msi(void *ctx, unsigned count, uint32_t *first)
{
	(void)ctx;
	(void)count;
	(void)first;
	return -HS_ENOSPC;
}

/* Interrupts asked for, none to be had: the slots are polled, and a
 * card inserted is found and brought up, then removed by the operator's
 * usual gesture. */
static void sc_no_interrupts_polls(void **state)
{
	enum rig_kind k = kind_of(state);
	struct hs_platform plat;
	struct rig r;

	simcard_ledger_reset();
	rig_build(&r, k, &on_presence);
	no_irq_ops = *r.t.plat.ops;
	no_irq_ops.irq_attach = refuse_irq;
	no_irq_ops.msi_alloc = refuse_msi;
	plat = r.t.plat;
	plat.ops = &no_irq_ops;
	assert_int_equal(boot(&r, &plat, &on_presence), 0);
	assert_non_null(r.hs);
	rig_run(&r, HS_MSEC(100));
	assert_int_equal(rig_state(&r), HS_SLOT_EMPTY);
	rig_insert(&r, &tu_card_nic);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(10)));
	/* The card's driver runs without an interrupt too (it polls). */
	assert_true(bound_in_slot(&r));
	rig_ask_removal(&r);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(10)));
	rig_pull(&r, true);
	assert_true(rig_until(&r, HS_SLOT_EMPTY, HS_SEC(5)));
	rig_assert_clean(&r);
	rig_fini(&r);
}

/* ---- the slot's commands when a config access fails ----------------- */

/*
 * A card is inserted and the nth config access from then on fails, for
 * every n the clean bring-up makes (slot commands, link and presence
 * reads, the hot-add).  The slot ends on with the card bound, or off
 * with a reason; from off the operator's enable brings it up.
 */
static void sc_bring_up_with_cfg_fault(void **state)
{
	enum rig_kind k = kind_of(state);
	struct sim_counters c0, c1;
	unsigned long accesses, off = 0;
	struct hs_slot_info sw;
	struct rig r;

	rig_init(&r, k, &on_presence);
	sim_get_counters(r.t.sim, &c0);
	rig_insert(&r, &tu_card_nic);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(10)));
	sim_get_counters(r.t.sim, &c1);
	accesses = c1.cfg_reads + c1.cfg_writes - c0.cfg_reads - c0.cfg_writes;
	rig_fini(&r);
	assert_true(accesses > 10);

	for (unsigned long n = 1; n <= accesses; n++) {
		rig_init(&r, k, &on_presence);
		sim_fault_cfg(r.t.sim, n);
		rig_insert(&r, &tu_card_nic);
		rig_run(&r, HS_SEC(4));
		sim_fault_cfg(r.t.sim, 0);
		rig_run(&r, HS_SEC(4));
		rig_info(&r, NULL, &sw);
		if (sw.state == HS_SLOT_OFF) {
			off++;
			assert_true(sw.reason && sw.reason[0]);
			assert_int_equal(rig_enable(&r), 0);
			assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(10)));
		}
		if (rig_state(&r) != HS_SLOT_ON || !bound_in_slot(&r)) {
			print_error("%s: fault at access %lu of the bring-up: "
				    "slot %s (%s)\n", rig_kind_name[k], n,
				    hs_slot_state_name(rig_state(&r)),
				    sw.reason ? sw.reason : "");
			fail();
		}
		rig_fini(&r);
	}
	print_message("%s: %lu config faults in a bring-up, %lu left the "
		      "slot off until asked again\n", rig_kind_name[k],
		      accesses, off);
}

#define ALL3(f)                                                          \
	cmocka_unit_test_prestate(f, (void *)&kinds[RIG_PCIE]),          \
	cmocka_unit_test_prestate(f, (void *)&kinds[RIG_SHPC]),          \
	cmocka_unit_test_prestate(f, (void *)&kinds[RIG_CPCI])

static const struct CMUnitTest each_kind[] = {
	ALL3(sc_boot_with_cfg_fault),
	ALL3(sc_no_interrupts_polls),
	ALL3(sc_bring_up_with_cfg_fault),
};

int main(void)
{
	return cmocka_run_group_tests(each_kind, NULL, NULL);
}
