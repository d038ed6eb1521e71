/*
 * test_slot_scenarios.c - the slot state machine, one scenario
 * description run against each controller kind the hardware allows
 * (PCIe native, SHPC, CompactPCI), on the virtual clock.
 *
 * Each scenario asserts what an operator would see: the state trace,
 * the indicators, the power, the events, and that nothing leaked (the
 * device records are gone, the drivers' ledgers balance).  The last test
 * runs every scenario once more itself, gathering the hits of the state
 * table (every state x input cell) from those runs alone, prints them and
 * fails if a cell was never exercised: it holds whatever order cmocka
 * runs the cases in and whichever of them a filter selects.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <string.h>

#include "slot_rig.h"
#include "simcard.h"
#include "hotswap/txn.h"

/* Hits of the table's cells (fine state x input) in the runs so far,
 * and how many of them were inputs a drill latched. */
static unsigned long cov[HS_FINE_COUNT][HS_IN_COUNT];
static unsigned long drilled[HS_FINE_COUNT][HS_IN_COUNT];

static void gather(const struct rig *r)
{
	for (int f = 0; f < HS_FINE_COUNT; f++)
		for (int i = 0; i < HS_IN_COUNT; i++) {
			cov[f][i] += hs_slot_fine_cell_hits(
				r->core, (enum hs_slot_fine)f,
				(enum hs_slot_input)i);
			drilled[f][i] += hs_slot_fine_cell_drilled(
				r->core, (enum hs_slot_fine)f,
				(enum hs_slot_input)i);
		}
}

static void fini(struct rig *r)
{
	if (r->core)
		gather(r);
	rig_fini(r);
}

static void restart(struct rig *r, const struct rig_opts *o)
{
	gather(r);
	rig_stop(r);
	rig_start(r, o);
}

static enum rig_kind kind_of(void **state)
{
	return *(const enum rig_kind *)*state;
}

static const struct rig_opts defaults;
static const struct rig_opts on_presence = {
	.policy = HS_SLOT_POLICY_PRESENCE
};

static void expect_inds(struct rig *r, enum sim_indicator pwr,
			enum sim_indicator attn)
{
	struct sim_slot_info hw;

	rig_info(r, &hw, NULL);
	if (r->kind == RIG_CPCI) {
		/* The blue LED: lit exactly when the power indicator would
		 * be off (safe to pull), and only on a powered board. */
		if (hw.present && hw.powered)
			assert_int_equal(hw.blue_led, pwr == SIM_IND_OFF);
		return;
	}
	assert_int_equal(hw.power_ind, pwr);
	assert_int_equal(hw.attn_ind, attn);
}

static bool has_alert(const struct rig *r, const char *what)
{
	return strstr(r->alerts, what) != NULL;
}

/* ---- bring-up --------------------------------------------------------- */

/* Insert, then whatever the slot needs: the card comes up, is
 * configured, its driver reads its ID register, the indicator is on. */
static void sc_insert_comes_up(void **state)
{
	struct rig r;
	struct sim_slot_info hw;
	struct hs_dev *d;

	rig_init(&r, kind_of(state), &defaults);
	rig_assert_trace(&r, "empty");
	rig_bring_up(&r, &tu_card_nic);
	rig_info(&r, &hw, NULL);
	assert_true(hw.powered);
	assert_true(hw.link_up);
	rig_run(&r, HS_MSEC(2)); /* the indicator command completes */
	expect_inds(&r, SIM_IND_ON, SIM_IND_OFF);
	d = rig_dev(&r);
	assert_non_null(d);
	assert_string_equal(hs_dev_driver_name(d), "simnet");
	assert_int_equal(simcard_id(d), 0x10d38086);
	if (rig_has(&r, HS_SLOT_CAP_BUTTON))
		rig_assert_trace(&r, "empty>off>blinking-on>powering-on>on");
	else
		rig_assert_trace(&r, "empty>off>powering-on>on");
	fini(&r);
}

/* An SHPC bridge behind a conventional PCI-to-PCI bridge interrupts by
 * MSI, and its messages reach the platform with the outer bridge's ID
 * (PCI has no requester ID): the core names that requester to
 * msi_message, or a translating controller (an ITS, the simulator's
 * platform) drops every one and the card never comes up. */
static void sc_shpc_msi_behind_bridge(void **state)
{
	struct rig r;
	struct sim_counters c;

	(void)state;
	rig_init(&r, RIG_SHPC, &(struct rig_opts){
		.policy = HS_SLOT_POLICY_PRESENCE, .shpc_behind_bridge = true });
	sim_reset_counters(r.t.sim);
	rig_insert(&r, &tu_card_nic);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(10)));
	sim_get_counters(r.t.sim, &c);
	assert_true(c.msi_sent > 0);
	assert_int_equal(c.msi_wrong_requester, 0);
	assert_int_equal(c.irq_delivered, c.msi_sent);
	assert_string_equal(hs_dev_driver_name(rig_dev(&r)), "simnet");
	fini(&r);
}

/* PCIe: the card is configured exactly power-on + link training +
 * 100 ms after the power-on, with no config request before that. */
static void sc_pcie_exact_timing(void **state)
{
	struct rig r;
	struct sim_counters c;

	(void)state;
	rig_init(&r, RIG_PCIE, &on_presence);
	sim_reset_counters(r.t.sim);
	rig_insert(&r, &tu_card_nic);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(2)));
	/* 20 ms of training (sim default), then 100 ms. */
	assert_int_equal(r.t_state[HS_SLOT_ON] - r.t_state[HS_SLOT_POWERING_ON],
			 HS_MSEC(20) + HS_MSEC(100));
	/* Presence held still for the debounce time first. */
	assert_int_equal(r.t_state[HS_SLOT_OFF], HS_MSEC(20));
	sim_get_counters(r.t.sim, &c);
	assert_int_equal(c.cfg_early, 0);
	rig_assert_trace(&r, "empty>off>powering-on>on");
	fini(&r);
}

/* The button path: the 5 s window, to the microsecond. */
static void sc_button_window_expiry(void **state)
{
	struct rig r;
	hs_time_t pressed;

	rig_init(&r, kind_of(state), &defaults);
	rig_insert(&r, &tu_card_nic);
	rig_run(&r, HS_MSEC(50));
	rig_assert_trace(&r, "empty>off");
	expect_inds(&r, SIM_IND_OFF, SIM_IND_OFF);
	assert_int_equal(sim_press_button(r.slot), 0);
	pressed = sim_now(r.t.sim);
	rig_run(&r, HS_MSEC(10));
	expect_inds(&r, SIM_IND_BLINK, SIM_IND_OFF);
	rig_run(&r, HS_SEC(5) - HS_MSEC(10) - HS_USEC(1));
	assert_int_equal(rig_state(&r), HS_SLOT_BLINKING_ON);
	rig_run(&r, HS_USEC(1));
	assert_int_equal(rig_state(&r), HS_SLOT_POWERING_ON);
	assert_int_equal(r.t_state[HS_SLOT_POWERING_ON] - pressed, HS_SEC(5));
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(3)));
	/* A press after expiry is a new request: removal. */
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_SEC(5) + HS_MSEC(1));
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(3)));
	expect_inds(&r, SIM_IND_OFF, SIM_IND_OFF);
	rig_assert_trace(&r, "empty>off>blinking-on>powering-on>on>"
			     "blinking-off>powering-off>off");
	rig_assert_clean(&r);
	fini(&r);
}

/* A second press inside the window cancels and restores the indicator,
 * both ways; a press while powering on is ignored. */
static void sc_button_cancel(void **state)
{
	struct rig r;
	struct sim_slot_info hw;

	rig_init(&r, kind_of(state), &defaults);
	rig_insert(&r, &tu_card_nic);
	rig_run(&r, HS_MSEC(50));
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_SEC(2));
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_MSEC(10));
	expect_inds(&r, SIM_IND_OFF, SIM_IND_OFF);
	rig_run(&r, HS_SEC(10));
	assert_int_equal(rig_state(&r), HS_SLOT_OFF);
	/* Now up, with a press during power-on that changes nothing. */
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_SEC(5));
	assert_int_equal(rig_state(&r), HS_SLOT_POWERING_ON);
	assert_int_equal(sim_press_button(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(3)));
	/* Cancel a removal. */
	simcard_submit(rig_dev(&r), 4);
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_MSEC(4999));
	assert_int_equal(rig_state(&r), HS_SLOT_BLINKING_OFF);
	expect_inds(&r, SIM_IND_BLINK, SIM_IND_OFF);
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_SEC(10));
	assert_int_equal(rig_state(&r), HS_SLOT_ON);
	expect_inds(&r, SIM_IND_ON, SIM_IND_OFF);
	rig_info(&r, &hw, NULL);
	assert_true(hw.powered);
	assert_non_null(rig_dev(&r));
	rig_assert_trace(&r, "empty>off>blinking-on>off>blinking-on>"
			     "powering-on>on>blinking-off>on");
	fini(&r);
}

/* The operator's own removal request (the ejector on CompactPCI, the
 * button on the others), with requests in flight: every one of them
 * completes or fails, the slot ends off and safe to pull. */
static void sc_orderly_removal_with_traffic(void **state)
{
	struct rig r;
	struct sim_slot_info hw;
	unsigned long before;

	rig_init(&r, kind_of(state), &defaults);
	rig_bring_up(&r, &tu_card_nic);
	assert_int_equal(simcard_submit(rig_dev(&r), 16), 16);
	before = r.removed;
	rig_ask_removal(&r);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(10)));
	rig_info(&r, &hw, NULL);
	expect_inds(&r, SIM_IND_OFF, SIM_IND_OFF);
	if (rig_has(&r, HS_SLOT_CAP_POWER))
		assert_false(hw.powered);
	if (r.kind == RIG_CPCI && !rig_has(&r, HS_SLOT_CAP_POWER))
		assert_true(hw.blue_led);
	assert_int_equal(r.removed, before + 1);
	rig_assert_clean(&r);
	rig_pull(&r, true);
	assert_true(rig_until(&r, HS_SLOT_EMPTY, HS_SEC(2)));
	fini(&r);
}

/* hs_slot_enable / hs_slot_disable: the operator's flows, and the
 * requests that must be refused with a reason. */
static void sc_operator_requests(void **state)
{
	struct rig r;
	struct hs_slot_info si;

	rig_init(&r, kind_of(state), &(struct rig_opts){
		.policy = HS_SLOT_POLICY_REQUEST });
	assert_int_equal(rig_enable(&r), -HS_ENOENT);
	rig_info(&r, NULL, &si);
	assert_non_null(strstr(si.reason, "empty"));
	assert_int_equal(rig_disable(&r), -HS_ENOENT);
	rig_insert(&r, &tu_card_nic);
	rig_run(&r, HS_SEC(1));
	assert_int_equal(rig_state(&r), HS_SLOT_OFF);
	/* Off already: done at once. */
	assert_int_equal(rig_disable(&r), 0);
	assert_true(r.done_called);
	assert_int_equal(r.done_rc, 0);
	assert_int_equal(rig_enable(&r), 0);
	assert_false(r.done_called);
	/* Busy: a second request is refused, not interleaved. */
	assert_int_equal(hs_slot_disable(r.hs, NULL, NULL), -HS_EBUSY);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(3)));
	rig_run(&r, 0);
	assert_true(r.done_called);
	assert_int_equal(r.done_rc, 0);
	assert_int_equal(rig_enable(&r), 0); /* on already */
	assert_int_equal(r.done_rc, 0);
	/* Disable with a veto: refused with the driver's reason. */
	simcard_set_busy(rig_dev(&r), "a filesystem on it is mounted");
	assert_int_equal(rig_disable(&r), 0);
	rig_run(&r, HS_MSEC(100));
	assert_true(r.done_called);
	assert_int_equal(r.done_rc, -HS_EBUSY);
	assert_non_null(strstr(r.done_msg, "mounted"));
	assert_int_equal(rig_state(&r), HS_SLOT_ON);
	expect_inds(&r, SIM_IND_ON, SIM_IND_OFF);
	assert_true(has_alert(&r, "mounted"));
	simcard_set_busy(rig_dev(&r), NULL);
	assert_int_equal(rig_disable(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(3)));
	rig_run(&r, 0);
	assert_int_equal(r.done_rc, 0);
	rig_assert_clean(&r);
	rig_assert_trace(&r, "empty>off>powering-on>on>powering-off>on>"
			     "powering-off>off");
	fini(&r);
}

/* Surprise removal at every step of the enable sequence and while on:
 * the slot ends empty, powered off, nothing left behind, and the next
 * card comes up normally. */
static void sc_surprise_at_every_step(void **state)
{
	static const hs_time_t when[] = {
		HS_MSEC(5),    /* debouncing */
		HS_MSEC(21),   /* power-on command in flight */
		HS_MSEC(30),   /* waiting for the link */
		HS_MSEC(60),   /* the 100 ms (PCIe) / Trhfa (SHPC) */
		HS_MSEC(400),  /* SHPC still settling; others on */
		HS_SEC(3),     /* on */
	};
	enum rig_kind k = kind_of(state);

	for (unsigned i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
		struct rig r;
		struct sim_slot_info hw;

		rig_init(&r, k, &on_presence);
		rig_insert(&r, &tu_card_nic);
		rig_run(&r, when[i]);
		if (rig_dev(&r))
			simcard_submit(rig_dev(&r), 8);
		rig_pull(&r, false);
		assert_true(rig_until(&r, HS_SLOT_EMPTY, HS_SEC(3)));
		rig_run(&r, HS_SEC(2));
		assert_int_equal(rig_state(&r), HS_SLOT_EMPTY);
		rig_info(&r, &hw, NULL);
		assert_false(hw.powered);
		rig_assert_clean(&r);
		/* And the slot still works. */
		rig_insert(&r, &tu_card_nic);
		assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(3)));
		assert_int_equal(simcard_id(rig_dev(&r)), 0x10d38086);
		fini(&r);
	}
}

/* A power fault while on: devices gone, power off, attention on; enable
 * refused until the fault is acknowledged or the card removed. */
static void sc_power_fault(void **state)
{
	struct rig r;
	struct sim_slot_info hw;

	rig_init(&r, kind_of(state), &on_presence);
	rig_bring_up(&r, &tu_card_nic);
	simcard_submit(rig_dev(&r), 8);
	assert_int_equal(sim_inject_power_fault(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_FAULT, HS_SEC(2)));
	rig_run(&r, HS_MSEC(10));
	rig_info(&r, &hw, NULL);
	assert_false(hw.powered);
	expect_inds(&r, SIM_IND_OFF, SIM_IND_ON);
	rig_assert_clean(&r);
	assert_true(has_alert(&r, "power fault"));
	assert_int_equal(rig_enable(&r), -HS_EPERM);
	assert_int_equal(rig_disable(&r), 0); /* acknowledge */
	assert_int_equal(r.done_rc, 0);
	assert_int_equal(rig_state(&r), HS_SLOT_OFF);
	rig_run(&r, HS_MSEC(10));
	expect_inds(&r, SIM_IND_OFF, SIM_IND_OFF);
	rig_pull(&r, true);
	assert_true(rig_until(&r, HS_SLOT_EMPTY, HS_SEC(2)));
	/* A new card comes up. */
	rig_insert(&r, &tu_card_nic);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(3)));
	fini(&r);
}

/* A fault that a card removal clears. */
static void sc_power_fault_then_pull(void **state)
{
	struct rig r;

	rig_init(&r, kind_of(state), &on_presence);
	rig_bring_up(&r, &tu_card_nic);
	assert_int_equal(sim_inject_power_fault(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_FAULT, HS_SEC(2)));
	/* Buttons, latches and requests do nothing while it is latched. */
	if (rig_has(&r, HS_SLOT_CAP_BUTTON))
		assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_SEC(6));
	assert_int_equal(rig_state(&r), HS_SLOT_FAULT);
	rig_pull(&r, true);
	assert_true(rig_until(&r, HS_SLOT_EMPTY, HS_SEC(2)));
	rig_run(&r, HS_MSEC(2)); /* the indicator command completes */
	expect_inds(&r, SIM_IND_OFF, SIM_IND_OFF);
	rig_assert_trace(&r, "empty>off>powering-on>on>fault>empty");
	fini(&r);
}

/* The MRL opened under a running card cuts its power: a surprise. */
static void sc_mrl_open_while_on(void **state)
{
	struct rig r;

	rig_init(&r, kind_of(state), &on_presence);
	rig_bring_up(&r, &tu_card_nic);
	simcard_submit(rig_dev(&r), 8);
	assert_int_equal(sim_set_latch(r.slot, true), 0);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(2)));
	rig_assert_clean(&r);
	assert_true(has_alert(&r, "surprise removal"));
	/* Closing it again brings the card back (presence policy). */
	assert_int_equal(sim_set_latch(r.slot, false), 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(3)));
	fini(&r);
}

/* Presence bouncing for 50 ms at insertion: one enable, no flapping. */
static void sc_presence_bounce(void **state)
{
	struct rig r;
	struct hs_slot_info si;

	rig_init(&r, kind_of(state), &on_presence);
	rig_insert(&r, &tu_card_nic);
	assert_int_equal(sim_bounce(r.slot, false, 3000, 50000), 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(3)));
	rig_run(&r, HS_SEC(1));
	assert_int_equal(rig_state(&r), HS_SLOT_ON);
	rig_assert_trace(&r, "empty>off>powering-on>on");
	rig_info(&r, NULL, &si);
	assert_int_equal(si.transitions, 3);
	assert_int_equal(r.added, 1);
	fini(&r);
}

/* Presence bouncing under a card in use: it left and came back between
 * two looks, so it lost power (a CompactPCI board resets when BD_SEL#
 * drops) and may be another card.  The slot takes it down and up again
 * (Linux's pciehp does the same): the driver starts anew and reaches
 * its registers at the addresses the core records. */
static void sc_presence_bounce_while_on(void **state)
{
	/* Polled, so that the whole bounce falls between two looks and
	 * only what the controller latched tells of it. */
	static const struct rig_opts polled = {
		.poll = true, .policy = HS_SLOT_POLICY_PRESENCE,
	};
	struct rig r;

	rig_init(&r, kind_of(state), &polled);
	rig_bring_up(&r, &tu_card_nic);
	simcard_submit(rig_dev(&r), 8);
	assert_int_equal(r.added, 1);
	assert_int_equal(sim_bounce(r.slot, false, 2000, 30000), 0);
	rig_run(&r, HS_SEC(3));
	assert_int_equal(rig_state(&r), HS_SLOT_ON);
	assert_true(has_alert(&r, "surprise removal"));
	assert_int_equal(r.added, 2);
	assert_int_equal(r.removed, 1);
	assert_non_null(rig_dev(&r));
	assert_int_equal(simcard_id(rig_dev(&r)), 0x10d38086);
	fini(&r);
}

/* A surprise removal while memory runs out: the card is gone whatever
 * we can record, so its teardown runs in room kept for it and cannot
 * fail; no record of it is left behind. */
static void sc_surprise_without_memory(void **state)
{
	struct rig r;

	rig_init(&r, kind_of(state), &on_presence);
	rig_bring_up(&r, &tu_card_nic);
	simcard_submit(rig_dev(&r), 8);
	for (unsigned n = 1; n <= 3; n++) {
		if (n > 1) {
			rig_insert(&r, &tu_card_nic);
			assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(3)));
		}
		/* The next allocation, whichever, fails. */
		sim_fault_alloc(r.t.sim, n);
		rig_pull(&r, false);
		assert_true(rig_until(&r, HS_SLOT_EMPTY, HS_SEC(3)));
		sim_fault_alloc(r.t.sim, 0);
		rig_assert_clean(&r);
		assert_false(has_alert(&r, "stay marked present"));
	}
	fini(&r);
}

/* The controller's event register reads all ones once (a config access
 * that failed): what it latched is still there and, with MSI, no new
 * interrupt comes for it.  The core looks again and the removal is
 * seen. */
static void sc_collect_read_fails(void **state)
{
	struct rig r;

	rig_init(&r, kind_of(state), &on_presence);
	rig_bring_up(&r, &tu_card_nic);
	rig_run(&r, HS_SEC(1));
	/* The first config access after the pull is the interrupt's read of
	 * the event register. */
	sim_fault_cfg(r.t.sim, 1);
	rig_pull(&r, false);
	assert_true(rig_until(&r, HS_SLOT_EMPTY, HS_MSEC(200)));
	sim_fault_cfg(r.t.sim, 0);
	rig_assert_clean(&r);
	fini(&r);
}

/* A writer holds the core's transaction over asynchronous work (a
 * driver's, hotswap/txn.h) while a card comes up: the slot's hot-add
 * waits for it, as seeds/002's transactions wait for one another,
 * instead of failing with "another change is in progress". */
static void held(void *arg, struct hs_core *core, int rc)
{
	(void)core;
	*(int *)arg = rc;
}

static void sc_add_waits_for_writer(void **state)
{
	struct rig r;
	int rc = 99;

	(void)state;
	rig_init(&r, RIG_PCIE, &on_presence);
	assert_int_equal(hs_core_txn_begin(r.core, "a driver's change", held,
					   &rc), 0);
	assert_int_equal(rc, 0);
	rig_insert(&r, &tu_card_nic);
	rig_run(&r, HS_SEC(2));
	assert_int_equal(rig_state(&r), HS_SLOT_POWERING_ON);
	assert_null(rig_dev(&r));
	assert_false(has_alert(&r, "in progress"));
	assert_int_equal(hs_core_txn_commit(r.core), 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(1)));
	assert_non_null(rig_dev(&r));
	assert_int_equal(simcard_id(rig_dev(&r)), 0x10d38086);
	assert_int_equal(r.added, 1);
	fini(&r);
}

/* A removal that finds a driver's transaction open waits for it
 * (seeds/002), as an add does: the slot stays powering-off with its
 * card in use until the writer commits, then goes off; nobody is told
 * "in progress". */
static void sc_remove_waits_for_writer(void **state)
{
	struct rig r;
	int rc = 99;

	(void)state;
	rig_init(&r, RIG_PCIE, &(struct rig_opts){
		.policy = HS_SLOT_POLICY_REQUEST });
	rig_insert(&r, &tu_card_nic);
	rig_run(&r, HS_MSEC(30));
	assert_int_equal(rig_enable(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(2)));
	assert_int_equal(hs_core_txn_begin(r.core, "a driver's change", held,
					   &rc), 0);
	assert_int_equal(rc, 0);
	assert_int_equal(rig_disable(&r), 0);
	rig_run(&r, HS_SEC(2));
	assert_int_equal(rig_state(&r), HS_SLOT_POWERING_OFF);
	assert_non_null(rig_dev(&r));
	assert_false(r.done_called);
	assert_false(has_alert(&r, "in progress"));
	assert_int_equal(hs_core_txn_commit(r.core), 0);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(2)));
	rig_run(&r, HS_MSEC(10));
	assert_true(r.done_called);
	assert_int_equal(r.done_rc, 0);
	rig_assert_clean(&r);
	fini(&r);
}

/* Link bouncing while the slot powers on: it settles, once. */
static void sc_link_bounce(void **state)
{
	struct rig r;

	(void)state;
	rig_init(&r, RIG_PCIE, &on_presence);
	rig_insert(&r, &tu_card_nic);
	rig_run(&r, HS_MSEC(45)); /* link just up */
	assert_int_equal(sim_bounce(r.slot, true, 4000, 50000), 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(3)));
	rig_run(&r, HS_SEC(1));
	rig_assert_trace(&r, "empty>off>powering-on>on");
	assert_int_equal(r.added, 1);
	fini(&r);
}

/* A link that never trains: reported, powered off, attention on. */
static void sc_link_never_trains(void **state)
{
	struct rig r;
	struct sim_slot_info hw;

	(void)state;
	rig_init(&r, RIG_PCIE, &on_presence);
	rig_insert(&r, &tu_card_nic);
	assert_int_equal(sim_set_link_fail(r.slot, true), 0);
	assert_true(rig_until(&r, HS_SLOT_POWERING_ON, HS_SEC(1)));
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(2)));
	assert_int_equal(r.t_state[HS_SLOT_OFF] - r.t_state[HS_SLOT_POWERING_ON],
			 HS_SEC(1) + HS_MSEC(1));
	rig_run(&r, HS_MSEC(10));
	rig_info(&r, &hw, NULL);
	assert_false(hw.powered);
	expect_inds(&r, SIM_IND_OFF, SIM_IND_ON);
	assert_true(has_alert(&r, "link did not come up"));
	/* The operator fixes it and asks again. */
	assert_int_equal(sim_set_link_fail(r.slot, false), 0);
	assert_int_equal(rig_enable(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(2)));
	expect_inds(&r, SIM_IND_ON, SIM_IND_OFF);
	fini(&r);
}

/* A card answering Retry Status for 300 ms after its link came up. */
static void sc_crs_300ms(void **state)
{
	struct rig r;
	struct sim_counters c;
	hs_time_t up;

	(void)state;
	rig_init(&r, RIG_PCIE, &on_presence);
	sim_reset_counters(r.t.sim);
	rig_insert(&r, &tu_card_crs);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(3)));
	up = r.t_state[HS_SLOT_ON] - r.t_state[HS_SLOT_POWERING_ON];
	/* Link 20 ms, then 300 ms of Retry Status, asked every 10 ms. */
	assert_true(up >= HS_MSEC(320) && up <= HS_MSEC(330));
	sim_get_counters(r.t.sim, &c);
	assert_true(c.cfg_crs >= 10);
	assert_int_equal(c.cfg_early, 0);
	fini(&r);
}

/* A command that never completes is reported and not hung on. */
static void sc_command_never_completes(void **state)
{
	struct rig r;

	(void)state;
	rig_init(&r, RIG_PCIE, &(struct rig_opts){
		.policy = HS_SLOT_POLICY_PRESENCE, .cmd_delay_us = 60000000 });
	rig_insert(&r, &tu_card_nic);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(5)));
	assert_true(has_alert(&r, "did not complete a command"));
	fini(&r);
}

/* Interrupts or polling: the same flows. */
static void sc_polling_mode(void **state)
{
	struct rig r;
	struct rig_opts o = { .poll = true, .policy = HS_SLOT_POLICY_PRESENCE };

	rig_init(&r, kind_of(state), &o);
	rig_insert(&r, &tu_card_nic);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(5)));
	assert_int_equal(simcard_id(rig_dev(&r)), 0x10d38086);
	rig_ask_removal(&r);
	if (rig_has(&r, HS_SLOT_CAP_BUTTON))
		rig_run(&r, HS_SEC(5));
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(5)));
	rig_pull(&r, true);
	assert_true(rig_until(&r, HS_SLOT_EMPTY, HS_SEC(5)));
	rig_assert_clean(&r);
	fini(&r);
}

/* Replace: remove, wait for a new card, bring it up under the same
 * slot name whatever the policy. */
static void sc_replace(void **state)
{
	struct rig r;
	struct hs_slot_info si;

	rig_init(&r, kind_of(state), &(struct rig_opts){
		.policy = HS_SLOT_POLICY_REQUEST });
	rig_insert(&r, &tu_card_nic);
	rig_run(&r, HS_MSEC(50));
	assert_int_equal(rig_enable(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(3)));
	assert_int_equal(rig_replace(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(3)));
	assert_false(r.done_called);
	rig_pull(&r, true);
	assert_true(rig_until(&r, HS_SLOT_EMPTY, HS_SEC(2)));
	rig_run(&r, HS_SEC(10));
	assert_false(r.done_called);
	rig_insert(&r, &tu_card_crs);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(3)));
	rig_run(&r, 0);
	assert_true(r.done_called);
	assert_int_equal(r.done_rc, 0);
	rig_info(&r, NULL, &si);
	assert_string_equal(si.name, r.kind == RIG_PCIE ? "1" :
			    r.kind == RIG_SHPC ? "10" : "20");
	assert_int_equal(hs_dev_vendor(rig_dev(&r)), 0x1b36);
	fini(&r);
}

/* Start-up and restart: the machine takes the hardware's word. */
static void sc_restart_reconciles(void **state)
{
	struct rig r;
	struct rig_opts o = { .policy = HS_SLOT_POLICY_PRESENCE };

	rig_build(&r, kind_of(state), &o);
	simcard_ledger_reset();
	assert_int_equal(sim_coldplug(r.slot, &tu_card_nic), 0);
	rig_start(&r, &o);
	rig_run(&r, HS_MSEC(50));
	assert_int_equal(rig_state(&r), HS_SLOT_ON);
	expect_inds(&r, SIM_IND_ON, SIM_IND_OFF);
	/* The service goes away; the card is pulled meanwhile; another
	 * is inserted in the second slot where there is one. */
	restart(&r, &o);
	rig_stop(&r);
	rig_pull(&r, false);
	if (r.slot2)
		assert_int_equal(sim_insert(r.slot2, &tu_card_nic), 0);
	rig_start(&r, &o);
	rig_run(&r, HS_SEC(2));
	assert_int_equal(rig_state(&r), HS_SLOT_EMPTY);
	rig_assert_clean(&r);
	if (r.slot2) {
		struct hs_slot *s2 = hs_slot_next(r.core, r.hs);
		struct hs_slot_info si;

		assert_non_null(s2);
		hs_slot_get_info(s2, &si);
		assert_int_equal(si.state, HS_SLOT_ON);
	}
	/* A card inserted while nobody was looking comes up. */
	rig_stop(&r);
	rig_insert(&r, &tu_card_nic);
	rig_start(&r, &o);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(3)));
	fini(&r);
}

/* Immediate Readiness: a card that reports it skips the 100 ms when it
 * is powered up again (it cannot be known before the first request). */
static const struct sim_card_spec card_ir = {
	.name = "test-ir",
	.pcie = true,
	.nfuncs = 1,
	.funcs = { {
		.fn = 0, .vendor = 0x8086, .device = 0x10d3,
		.class_code = 0x020000, .immediate_readiness = true,
		.bar = { [0] = { SIM_BAR_MEM32, false, 64 << 10 } },
		.msi_vectors = 1,
	} },
};

static void sc_immediate_readiness(void **state)
{
	struct rig r;

	(void)state;
	rig_init(&r, RIG_PCIE, &(struct rig_opts){
		.policy = HS_SLOT_POLICY_REQUEST, .no_button = true });
	rig_insert(&r, &card_ir);
	rig_run(&r, HS_MSEC(50));
	assert_int_equal(rig_enable(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(2)));
	assert_int_equal(r.t_state[HS_SLOT_ON] - r.t_state[HS_SLOT_POWERING_ON],
			 HS_MSEC(120));
	assert_int_equal(rig_disable(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(2)));
	assert_int_equal(rig_enable(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(2)));
	assert_int_equal(r.t_state[HS_SLOT_ON] - r.t_state[HS_SLOT_POWERING_ON],
			 HS_MSEC(20));
	fini(&r);
}

/* Slots without a power controller, without a button, without Command
 * Completed, without link reporting, with an interlock. */
static void sc_pcie_variants(void **state)
{
	struct rig r;
	struct sim_slot_info hw;

	(void)state;
	/* No power controller and no button: presence drives enable. */
	rig_init(&r, RIG_PCIE, &(struct rig_opts){
		.no_power_ctl = true, .no_button = true });
	rig_insert(&r, &tu_card_nic);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(2)));
	assert_int_equal(rig_disable(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(2)));
	rig_info(&r, &hw, NULL);
	assert_true(hw.powered); /* nothing can switch it */
	assert_false(hw.link_up); /* but the link is disabled */
	fini(&r);

	/* No Command Completed support and no link reporting (a port of at
	 * most 5 GT/s): 100 ms from power-on, which covers training too
	 * (PCIe Base 6.6.1), and not one config request before it. */
	rig_init(&r, RIG_PCIE, &(struct rig_opts){
		.nccs = true, .no_dllla = true,
		.policy = HS_SLOT_POLICY_PRESENCE });
	rig_insert(&r, &tu_card_nic);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(2)));
	assert_int_equal(r.t_state[HS_SLOT_ON] - r.t_state[HS_SLOT_POWERING_ON],
			 HS_MSEC(100));
	{
		struct sim_counters cc;

		sim_get_counters(r.t.sim, &cc);
		assert_int_equal(cc.cfg_early, 0);
	}
	fini(&r);

	/* The interlock holds the card while it is in use. */
	rig_init(&r, RIG_PCIE, &(struct rig_opts){
		.interlock = true, .policy = HS_SLOT_POLICY_PRESENCE });
	rig_insert(&r, &tu_card_nic);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(2)));
	rig_run(&r, HS_MSEC(10));
	rig_info(&r, &hw, NULL);
	assert_true(hw.interlock_engaged);
	assert_int_equal(sim_remove(r.slot, SIM_REMOVE_ORDERLY), -HS_EBUSY);
	assert_int_equal(rig_disable(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(2)));
	rig_run(&r, HS_MSEC(10));
	rig_info(&r, &hw, NULL);
	assert_false(hw.interlock_engaged);
	rig_pull(&r, true);
	assert_true(rig_until(&r, HS_SLOT_EMPTY, HS_SEC(2)));
	fini(&r);
}

/* ---- every cell, with the hardware -------------------------------------- */

/* A card whose every request takes 100 ms: its driver needs time to
 * quiesce, so things can happen meanwhile. */
static const struct sim_card_spec card_slow = {
	.name = "test-slow",
	.pcie = true,
	.nfuncs = 1,
	.funcs = { {
		.fn = 0, .vendor = 0x8086, .device = 0x10d3,
		.class_code = 0x020000, .irq_pin = 1,
		.bar = { [0] = { SIM_BAR_MEM32, false, 64 << 10 } },
		.msi_vectors = 1, .latency_us = 100000,
	} },
};

static void up_slow(struct rig *r)
{
	rig_insert(r, &card_slow);
	rig_run(r, HS_MSEC(30));
	if (rig_state(r) == HS_SLOT_OFF)
		assert_int_equal(rig_enable(r), 0);
	assert_true(rig_until(r, HS_SLOT_ON, HS_SEC(2)));
	assert_int_equal(simcard_submit(rig_dev(r), 1), 1);
}

/* The inputs that arrive in the middle of things: each on the state it
 * is meant for, through the hardware. */
static void sc_pcie_interruptions(void **state)
{
	struct rig r;
	const struct rig_opts req = { .policy = HS_SLOT_POLICY_REQUEST };

	(void)state;
	/* Empty slot: a button, then a power fault. */
	rig_init(&r, RIG_PCIE, &req);
	assert_int_equal(sim_press_button(r.slot), 0);
	assert_int_equal(sim_inject_power_fault(r.slot), 0);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(rig_state(&r), HS_SLOT_FAULT);
	assert_int_equal(sim_inject_power_fault(r.slot), 0); /* again */
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(rig_state(&r), HS_SLOT_FAULT);
	assert_int_equal(rig_disable(&r), 0);                /* ack */
	assert_int_equal(rig_state(&r), HS_SLOT_EMPTY);
	fini(&r);

	/* Off: a fault, with the latch played while it is latched. */
	rig_init(&r, RIG_PCIE, &req);
	rig_insert(&r, &tu_card_nic);
	rig_run(&r, HS_MSEC(30));
	assert_int_equal(sim_inject_power_fault(r.slot), 0);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(rig_state(&r), HS_SLOT_FAULT);
	assert_int_equal(sim_set_latch(r.slot, true), 0);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(rig_state(&r), HS_SLOT_FAULT);
	fini(&r);

	/* The button window, interrupted five ways. */
	rig_init(&r, RIG_PCIE, &req);
	rig_insert(&r, &tu_card_nic);
	rig_run(&r, HS_MSEC(30));
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(rig_disable(&r), 0);          /* cancels */
	assert_int_equal(rig_state(&r), HS_SLOT_OFF);
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(sim_set_latch(r.slot, true), 0);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(rig_state(&r), HS_SLOT_OFF);   /* latch cancels */
	assert_int_equal(sim_set_latch(r.slot, false), 0);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(rig_enable(&r), 0);           /* skips the wait */
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(1)));
	assert_true(r.t_state[HS_SLOT_ON] < HS_SEC(1));
	/* ... and the removal window, likewise. */
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(rig_enable(&r), 0);           /* cancels */
	assert_int_equal(rig_state(&r), HS_SLOT_ON);
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(rig_disable(&r), 0);          /* skips the wait */
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(1)));
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_MSEC(10));
	rig_pull(&r, false);                           /* card gone */
	assert_true(rig_until(&r, HS_SLOT_EMPTY, HS_SEC(1)));
	rig_insert(&r, &tu_card_nic);
	rig_run(&r, HS_MSEC(30));
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(sim_inject_power_fault(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_FAULT, HS_SEC(1)));
	fini(&r);

	/* Powering on, interrupted: the latch, a fault, requests. */
	rig_init(&r, RIG_PCIE, &defaults);
	rig_insert(&r, &tu_card_nic);
	rig_run(&r, HS_MSEC(30));
	assert_int_equal(sim_press_button(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_POWERING_ON, HS_SEC(6)));
	assert_int_equal(rig_enable(&r), -HS_EBUSY);
	assert_int_equal(rig_disable(&r), -HS_EBUSY);
	rig_run(&r, HS_MSEC(30));
	assert_int_equal(sim_set_latch(r.slot, true), 0);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(1)));
	assert_true(has_alert(&r, "latch"));
	assert_int_equal(sim_set_latch(r.slot, false), 0);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(rig_enable(&r), 0);
	rig_run(&r, HS_MSEC(30));
	assert_int_equal(rig_state(&r), HS_SLOT_POWERING_ON);
	assert_int_equal(sim_inject_power_fault(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_FAULT, HS_SEC(1)));
	fini(&r);

	/* On: the link drops and comes back by itself. */
	rig_init(&r, RIG_PCIE, &on_presence);
	rig_bring_up(&r, &tu_card_nic);
	assert_int_equal(sim_bounce(r.slot, true, 1000, 1000), 0);
	rig_run(&r, HS_MSEC(5));
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(2)));
	assert_true(has_alert(&r, "link went down"));
	/* The removal window: the link again, the latch, a fault. */
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(sim_bounce(r.slot, true, 1000, 1000), 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(2)));
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(sim_set_latch(r.slot, true), 0);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(1)));
	assert_int_equal(sim_set_latch(r.slot, false), 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(2)));
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(sim_inject_power_fault(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_FAULT, HS_SEC(1)));
	rig_assert_clean(&r);
	/* Pulled inside the removal window. */
	rig_pull(&r, true);
	assert_true(rig_until(&r, HS_SLOT_EMPTY, HS_SEC(1)));
	rig_insert(&r, &tu_card_nic);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(2)));
	simcard_submit(rig_dev(&r), 4);
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_MSEC(10));
	rig_pull(&r, false);
	assert_true(rig_until(&r, HS_SLOT_EMPTY, HS_SEC(1)));
	rig_assert_clean(&r);
	fini(&r);
}

/* Powering off while a slow driver quiesces: the card pulled, the latch
 * opened, a fault, the button, requests; and the late results of the
 * removal that was cut short. */
static void sc_pcie_interrupted_removal(void **state)
{
	struct rig r;
	const struct rig_opts req = { .policy = HS_SLOT_POLICY_REQUEST };

	(void)state;
	rig_init(&r, RIG_PCIE, &req);
	up_slow(&r);
	assert_int_equal(rig_disable(&r), 0);
	rig_run(&r, HS_MSEC(20));
	assert_int_equal(rig_state(&r), HS_SLOT_POWERING_OFF);
	assert_int_equal(sim_press_button(r.slot), 0); /* ignored */
	rig_run(&r, HS_MSEC(5));
	assert_int_equal(rig_state(&r), HS_SLOT_POWERING_OFF);
	rig_pull(&r, false);
	assert_true(rig_until(&r, HS_SLOT_EMPTY, HS_SEC(1)));
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(r.done_rc, -HS_ENODEV);
	rig_assert_clean(&r);
	fini(&r);

	rig_init(&r, RIG_PCIE, &req);
	up_slow(&r);
	assert_int_equal(rig_disable(&r), 0);
	rig_run(&r, HS_MSEC(20));
	assert_int_equal(sim_set_latch(r.slot, true), 0);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(1)));
	rig_run(&r, HS_MSEC(10));
	rig_assert_clean(&r);
	fini(&r);

	rig_init(&r, RIG_PCIE, &req);
	up_slow(&r);
	assert_int_equal(rig_disable(&r), 0);
	rig_run(&r, HS_MSEC(20));
	assert_int_equal(sim_inject_power_fault(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_FAULT, HS_SEC(1)));
	rig_run(&r, HS_MSEC(10));
	rig_assert_clean(&r);
	fini(&r);

	/* A removal started by the button: requests meet a busy slot; the
	 * link dropping mid-quiesce is a surprise. */
	rig_init(&r, RIG_PCIE, &req);
	up_slow(&r);
	assert_int_equal(sim_press_button(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_POWERING_OFF, HS_SEC(6)));
	assert_int_equal(rig_enable(&r), -HS_EBUSY);
	assert_int_equal(rig_disable(&r), -HS_EBUSY);
	assert_int_equal(sim_bounce(r.slot, true, 1000, 1000), 0);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(1)));
	rig_run(&r, HS_MSEC(200));
	rig_assert_clean(&r);
	fini(&r);

	/* Out of memory when the removal starts: tried again. */
	rig_init(&r, RIG_PCIE, &req);
	up_slow(&r);
	sim_fault_alloc(r.t.sim, 1);
	assert_int_equal(rig_disable(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(2)));
	rig_run(&r, 0);
	assert_int_equal(r.done_rc, 0);
	rig_assert_clean(&r);
	fini(&r);
}

/* ---- every step of powering on and off, every input ------------------- */

/* Run until the slot's machine is in fine state f (true) or limit
 * passes (false), event by event, so it stops as the step begins. */
static bool until_fine(struct rig *r, enum hs_slot_fine f, hs_time_t limit)
{
	hs_time_t end = sim_now(r->t.sim) + limit, when;

	sim_advance(r->t.sim, 0);
	while (hs_slot_fine_state(r->hs) != f) {
		if (!sim_next_event(r->t.sim, &when) || when > end) {
			sim_advance(r->t.sim, end - sim_now(r->t.sim));
			return hs_slot_fine_state(r->hs) == f;
		}
		sim_step(r->t.sim);
	}
	return true;
}

/* What happens to the slot, through the hardware or the operator, and
 * the input of the table it is. */
static const struct {
	const char *what;
	enum hs_slot_input in;
} hits[] = {
	{ "card pulled", HS_IN_PRESENCE },
	{ "MRL opened", HS_IN_LATCH },
	{ "button pressed", HS_IN_BUTTON },
	{ "power fault", HS_IN_POWER_FAULT },
	{ "link bounced", HS_IN_LINK },
	{ "attention indicator set", HS_IN_CMD },
	{ "enable asked", HS_IN_ENABLE },
	{ "disable asked", HS_IN_DISABLE },
	{ "connect asked", HS_IN_CONNECT },
	{ "unconfigure asked", HS_IN_UNCONFIGURE },
};

static void hit(struct rig *r, enum hs_slot_input in)
{
	switch (in) {
	case HS_IN_PRESENCE:
		rig_pull(r, false);
		break;
	case HS_IN_LATCH:
		assert_int_equal(sim_set_latch(r->slot, true), 0);
		break;
	case HS_IN_BUTTON:
		assert_int_equal(sim_press_button(r->slot), 0);
		break;
	case HS_IN_POWER_FAULT:
		assert_int_equal(sim_inject_power_fault(r->slot), 0);
		break;
	case HS_IN_LINK:
		assert_int_equal(sim_bounce(r->slot, true, 1000, 1000), 0);
		break;
	case HS_IN_CMD:
		assert_int_equal(hs_slot_set_attention(r->hs, HS_IND_BLINK), 0);
		break;
	case HS_IN_ENABLE:
		/* Requests never interleave with a change in progress. */
		assert_int_equal(rig_enable(r), -HS_EBUSY);
		break;
	case HS_IN_DISABLE:
		assert_int_equal(rig_disable(r), -HS_EBUSY);
		break;
	case HS_IN_CONNECT:
		assert_int_equal(rig_connect(r), -HS_EBUSY);
		break;
	case HS_IN_UNCONFIGURE:
		assert_int_equal(rig_unconfigure(r), -HS_EBUSY);
		break;
	default:
		fail();
	}
}

/* Bring a fresh PCIe slot to step f.  *writer: a public writer holds the
 * core's transaction (commit it after the hit). */
static void to_step(struct rig *r, enum hs_slot_fine f, int *writer_rc,
		    bool *writer)
{
	static const struct rig_opts up = {
		.policy = HS_SLOT_POLICY_PRESENCE, .cmd_delay_us = 5000,
	};
	static const struct rig_opts down = {
		.policy = HS_SLOT_POLICY_REQUEST, .cmd_delay_us = 5000,
	};

	*writer = false;
	if (hs_slot_fine_coarse(f) == HS_SLOT_POWERING_ON) {
		rig_init(r, RIG_PCIE, &up);
		if (f == HS_FINE_PON_CONFIG) {
			/* The add waits for the writer: configuring lasts. */
			assert_int_equal(hs_core_txn_begin(r->core, "a driver's "
							   "change", held,
							   writer_rc), 0);
			*writer = true;
		}
		rig_insert(r, f == HS_FINE_PON_READY ? &tu_card_crs
						     : &tu_card_nic);
		assert_true(until_fine(r, f, HS_SEC(2)));
		return;
	}
	rig_init(r, RIG_PCIE, &down);
	if (f == HS_FINE_POFF_POWER) {
		rig_insert(r, &tu_card_nic);
		rig_run(r, HS_MSEC(30));
		assert_int_equal(rig_enable(r), 0);
		assert_true(rig_until(r, HS_SLOT_ON, HS_SEC(2)));
	} else {
		up_slow(r); /* its driver takes 100 ms to quiesce */
	}
	/* The button, not a request: a request in progress would refuse
	 * the operator's next one before the table sees it. */
	assert_int_equal(sim_press_button(r->slot), 0);
	assert_true(until_fine(r, HS_FINE_BLINKING_OFF, HS_SEC(1)));
	rig_run(r, HS_SEC(5) - HS_MSEC(1)); /* the window's end */
	if (f == HS_FINE_POFF_QUIESCE)
		/* A request in flight: the driver quiesces for 100 ms. */
		assert_int_equal(simcard_submit(rig_dev(r), 1), 1);
	if (f == HS_FINE_POFF_RETRY)
		/* The removal's first allocation fails. */
		sim_fault_alloc(r->t.sim, 1);
	if (!until_fine(r, f, HS_SEC(6)))
		fail_msg("%s not reached (%s; %s)", hs_slot_fine_name(f),
			 hs_slot_fine_name(hs_slot_fine_state(r->hs)), r->trace);
}

/*
 * Each step of powering on (power command, link, the 100 ms, readiness,
 * configuration) and of powering off (quiesce, power-off command, the
 * retry after a removal without memory) meets each thing that can
 * happen to a slot, and the cell of that step and input runs: the card
 * pulled ends empty, a fault in fault, an MRL opened off, and the rest
 * (a button, a bouncing link, the operator's indicator, refused
 * requests) do not stop the slot from ending on (powering on) or off
 * (powering off).  Nothing leaks.
 */
static void sc_every_step_every_input(void **state)
{
	static const enum hs_slot_fine steps[] = {
		HS_FINE_PON_POWER, HS_FINE_PON_LINK, HS_FINE_PON_SETTLE,
		HS_FINE_PON_READY, HS_FINE_PON_CONFIG, HS_FINE_POFF_QUIESCE,
		HS_FINE_POFF_POWER, HS_FINE_POFF_RETRY,
	};

	(void)state;
	for (unsigned k = 0; k < sizeof(steps) / sizeof(steps[0]); k++)
		for (unsigned i = 0; i < sizeof(hits) / sizeof(hits[0]); i++) {
			enum hs_slot_fine f = steps[k];
			enum hs_slot_input in = hits[i].in;
			bool on = hs_slot_fine_coarse(f) == HS_SLOT_POWERING_ON;
			enum hs_slot_state want = on ? HS_SLOT_ON : HS_SLOT_OFF;
			struct rig r;
			unsigned long before;
			bool writer;
			int wrc = 99;

			/* A command of the operator's waits behind the power
			 * command, whose completion is these steps' own cmd
			 * input (every enable and disable runs it); the link
			 * goes down with the power-off command (every disable
			 * runs that cell). */
			if (in == HS_IN_CMD && (f == HS_FINE_PON_POWER ||
						f == HS_FINE_POFF_POWER))
				continue;
			if (in == HS_IN_LINK && f == HS_FINE_POFF_POWER)
				continue;
			to_step(&r, f, &wrc, &writer);
			before = hs_slot_fine_cell_hits(r.core, f, in);
			hit(&r, in);
			/* A command takes 5 ms, and may wait for one. */
			rig_run(&r, HS_MSEC(12));
			if (hs_slot_fine_cell_hits(r.core, f, in) == before)
				fail_msg("%s in %s: the cell did not run",
					 hits[i].what, hs_slot_fine_name(f));
			if (writer)
				assert_int_equal(hs_core_txn_commit(r.core), 0);
			rig_run(&r, HS_SEC(3));
			if (in == HS_IN_PRESENCE)
				want = HS_SLOT_EMPTY;
			else if (in == HS_IN_POWER_FAULT)
				want = HS_SLOT_FAULT;
			else if (in == HS_IN_LATCH)
				want = HS_SLOT_OFF;
			if (rig_state(&r) != want)
				fail_msg("%s in %s: the slot ends %s, not %s",
					 hits[i].what, hs_slot_fine_name(f),
					 hs_slot_state_name(rig_state(&r)),
					 hs_slot_state_name(want));
			if (want == HS_SLOT_ON)
				assert_non_null(rig_dev(&r));
			else
				rig_assert_clean(&r);
			fini(&r);
		}
}

/* A configuration that waits for a writer's transaction outlives the
 * enable that started it (the MRL was opened meanwhile): the slot is
 * off again, its add still queued behind the writer. */
static void late_add(struct rig *r, const struct sim_card_spec *card,
		     int *wrc)
{
	static const struct rig_opts o = {
		.policy = HS_SLOT_POLICY_REQUEST, .cmd_delay_us = 5000,
	};

	rig_init(r, RIG_PCIE, &o);
	assert_int_equal(hs_core_txn_begin(r->core, "a driver's change", held,
					   wrc), 0);
	rig_insert(r, card);
	rig_run(r, HS_MSEC(30));
	assert_int_equal(rig_enable(r), 0);
	assert_true(until_fine(r, HS_FINE_PON_CONFIG, HS_SEC(2)));
	assert_int_equal(sim_set_latch(r->slot, true), 0);
	assert_true(rig_until(r, HS_SLOT_OFF, HS_SEC(1)));
	assert_int_equal(r->done_rc, -HS_EIO);
	assert_int_equal(sim_set_latch(r->slot, false), 0);
	rig_run(r, HS_MSEC(10));
	assert_int_equal(rig_state(r), HS_SLOT_OFF);
	assert_null(rig_dev(r));
}

/*
 * That late result arrives in whatever step the slot has reached by
 * then: the button window, each step of powering on again, or on (the
 * first add configured the card and the second, queued behind it, finds
 * it there).  It is never taken for the result the slot waits for, and
 * the card comes up exactly once.
 */
static void sc_late_results(void **state)
{
	static const enum hs_slot_fine at[] = {
		HS_FINE_BLINKING_ON, HS_FINE_PON_POWER, HS_FINE_PON_LINK,
		HS_FINE_PON_SETTLE, HS_FINE_PON_READY, HS_FINE_ON,
	};

	(void)state;
	for (unsigned k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
		enum hs_slot_fine f = at[k];
		struct rig r;
		unsigned long before;
		int wrc = 99;

		late_add(&r, f == HS_FINE_PON_READY ? &tu_card_crs
						    : &tu_card_nic, &wrc);
		if (f == HS_FINE_BLINKING_ON) {
			assert_int_equal(sim_press_button(r.slot), 0);
		} else {
			assert_int_equal(rig_enable(&r), 0);
		}
		if (f != HS_FINE_ON && !until_fine(&r, f, HS_SEC(1)))
			fail_msg("%s not reached", hs_slot_fine_name(f));
		before = hs_slot_fine_cell_hits(r.core, f, HS_IN_DONE);
		if (f == HS_FINE_ON)
			assert_true(until_fine(&r, HS_FINE_PON_CONFIG,
					       HS_SEC(1)));
		assert_int_equal(hs_core_txn_commit(r.core), 0);
		if (f == HS_FINE_ON)
			/* Both adds report before anything else is applied:
			 * nothing is left outstanding once the slot is on
			 * (why blinking-off and powering-off/power and /retry
			 * never see a result they did not ask for). */
			assert_true(until_fine(&r, HS_FINE_ON, HS_SEC(1)));
		else
			rig_run(&r, HS_MSEC(2));
		if (hs_slot_fine_cell_hits(r.core, f, HS_IN_DONE) == before)
			fail_msg("the late result did not arrive in %s",
				 hs_slot_fine_name(f));
		assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(7)));
		rig_run(&r, HS_MSEC(100));
		assert_int_equal(rig_state(&r), HS_SLOT_ON);
		assert_non_null(rig_dev(&r));
		if (f != HS_FINE_PON_READY)
			assert_int_equal(simcard_id(rig_dev(&r)), 0x10d38086);
		assert_int_equal(r.added - r.removed, 1);
		fini(&r);
	}
}

/* Inputs that change nothing: a button on an empty slot; the link of a
 * slot without a power controller (its card is powered as it is
 * seated) bouncing in the button window. */
static void sc_quiet_inputs(void **state)
{
	struct rig r;
	struct sim_slot_info hw;

	(void)state;
	rig_init(&r, RIG_PCIE, &(struct rig_opts){
		.policy = HS_SLOT_POLICY_REQUEST });
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_SEC(6));
	assert_int_equal(rig_state(&r), HS_SLOT_EMPTY);
	assert_int_equal(hs_slot_fine_cell_hits(r.core, HS_FINE_EMPTY,
						HS_IN_BUTTON), 1);
	rig_info(&r, &hw, NULL);
	assert_false(hw.powered);
	fini(&r);

	rig_init(&r, RIG_PCIE, &(struct rig_opts){
		.policy = HS_SLOT_POLICY_REQUEST, .no_power_ctl = true });
	rig_insert(&r, &tu_card_nic);
	rig_run(&r, HS_MSEC(100));
	assert_int_equal(rig_state(&r), HS_SLOT_OFF);
	assert_int_equal(sim_press_button(r.slot), 0);
	assert_true(until_fine(&r, HS_FINE_BLINKING_ON, HS_SEC(1)));
	assert_int_equal(sim_bounce(r.slot, true, 1000, 1000), 0);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(rig_state(&r), HS_SLOT_BLINKING_ON);
	assert_true(hs_slot_fine_cell_hits(r.core, HS_FINE_BLINKING_ON,
					   HS_IN_LINK) > 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(6)));
	assert_non_null(rig_dev(&r));
	fini(&r);
}

/* Inputs the hardware cannot deliver in some states (a stale timer, a
 * late result, a link event on an unpowered slot) still have a defined
 * cell: drilled, nothing changes. */
static void sc_drills(void **state)
{
	struct rig r;
	static const enum hs_slot_input ins[] = {
		HS_IN_PRESENCE, HS_IN_LATCH, HS_IN_BUTTON, HS_IN_LINK,
		HS_IN_CMD, HS_IN_TIMER, HS_IN_DONE,
	};

	(void)state;
	rig_init(&r, RIG_PCIE, &(struct rig_opts){
		.policy = HS_SLOT_POLICY_REQUEST });
	for (unsigned i = 0; i < sizeof(ins) / sizeof(ins[0]); i++) {
		hs_slot_drill(r.hs, ins[i]);
		rig_run(&r, HS_MSEC(50));
		assert_int_equal(rig_state(&r), HS_SLOT_EMPTY);
	}
	rig_insert(&r, &tu_card_nic);
	rig_run(&r, HS_MSEC(50));
	/* The window: a link event (unpowered), a late result. */
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_MSEC(10));
	hs_slot_drill(r.hs, HS_IN_LINK);
	hs_slot_drill(r.hs, HS_IN_DONE);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(rig_state(&r), HS_SLOT_BLINKING_ON);
	hs_slot_drill(r.hs, HS_IN_ENABLE);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(1)));
	hs_slot_drill(r.hs, HS_IN_TIMER);
	hs_slot_drill(r.hs, HS_IN_DONE);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(rig_state(&r), HS_SLOT_ON);
	assert_non_null(rig_dev(&r));
	assert_int_equal(sim_press_button(r.slot), 0);
	rig_run(&r, HS_MSEC(10));
	hs_slot_drill(r.hs, HS_IN_DONE);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(rig_state(&r), HS_SLOT_BLINKING_OFF);
	hs_slot_drill(r.hs, HS_IN_POWER_FAULT);
	assert_true(rig_until(&r, HS_SLOT_FAULT, HS_SEC(1)));
	hs_slot_drill(r.hs, HS_IN_TIMER);
	hs_slot_drill(r.hs, HS_IN_LINK);
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(rig_state(&r), HS_SLOT_FAULT);
	fini(&r);
}

/* ---- cfgadm's connect / configure / unconfigure / disconnect ------------- */

/* The slot is connected and nothing more: powered, the link up where the
 * hardware tells it, the power indicator on (do not pull), attention
 * off, and no function of the card known to the core. */
static void expect_connected(struct rig *r)
{
	struct sim_slot_info hw;
	struct hs_slot_info si;

	rig_info(r, &hw, &si);
	assert_int_equal(rig_state(r), HS_SLOT_CONNECTED);
	assert_true(hw.powered);
	assert_true(hw.link_up);
	if (r->kind != RIG_CPCI)
		expect_inds(r, SIM_IND_ON, SIM_IND_OFF);
	else
		assert_false(hw.blue_led); /* powered: not safe to extract */
	assert_null(rig_dev(r));
}

/*
 * Each step on its own, as cfgadm does them: connect powers the slot
 * and waits for the card's answer but configures nothing; configure
 * (enable) finds and binds the card; unconfigure stops and unbinds its
 * driver and frees its functions, keeping power; disconnect (disable)
 * powers off.  Requests that are already true are done at once, and the
 * ones that cannot be are refused with the reason.
 */
static void sc_cfgadm_steps(void **state)
{
	struct rig r;
	struct hs_slot_info si;
	struct sim_slot_info hw;

	rig_init(&r, kind_of(state), &(struct rig_opts){
		.policy = HS_SLOT_POLICY_REQUEST });
	assert_int_equal(rig_connect(&r), -HS_ENOENT);
	assert_int_equal(rig_unconfigure(&r), -HS_ENOENT);
	rig_info(&r, NULL, &si);
	assert_non_null(strstr(si.reason, "empty"));
	rig_insert(&r, &tu_card_nic);
	rig_run(&r, HS_SEC(1));
	assert_int_equal(rig_state(&r), HS_SLOT_OFF);
	assert_int_equal(rig_unconfigure(&r), 0); /* nothing configured */
	assert_int_equal(r.done_rc, 0);

	assert_int_equal(rig_connect(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_CONNECTED, HS_SEC(3)));
	rig_run(&r, HS_MSEC(50));
	assert_true(r.done_called);
	assert_int_equal(r.done_rc, 0);
	expect_connected(&r);
	assert_int_equal(r.bound, 0);
	assert_int_equal(rig_connect(&r), 0);
	assert_int_equal(r.done_rc, 0);
	assert_int_equal(rig_unconfigure(&r), 0);
	assert_int_equal(r.done_rc, 0);
	assert_int_equal(rig_state(&r), HS_SLOT_CONNECTED);

	/* configure */
	assert_int_equal(rig_enable(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(3)));
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(r.done_rc, 0);
	assert_non_null(rig_dev(&r));
	assert_int_equal(r.bound, 1);
	assert_int_equal(rig_connect(&r), 0); /* connected already */
	assert_int_equal(r.done_rc, 0);

	/* unconfigure: a veto keeps the card in use, as for disable */
	simcard_set_busy(rig_dev(&r), "a filesystem on it is mounted");
	assert_int_equal(rig_unconfigure(&r), 0);
	rig_run(&r, HS_MSEC(100));
	assert_int_equal(r.done_rc, -HS_EBUSY);
	assert_non_null(strstr(r.done_msg, "mounted"));
	assert_int_equal(rig_state(&r), HS_SLOT_ON);
	simcard_set_busy(rig_dev(&r), NULL);
	assert_int_equal(rig_unconfigure(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_CONNECTED, HS_SEC(3)));
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(r.done_rc, 0);
	expect_connected(&r);
	rig_assert_clean(&r);

	/* configure again, unconfigure, then disconnect */
	assert_int_equal(rig_enable(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(3)));
	assert_int_equal(rig_unconfigure(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_CONNECTED, HS_SEC(3)));
	assert_int_equal(rig_disable(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(3)));
	rig_run(&r, HS_MSEC(10));
	assert_int_equal(r.done_rc, 0);
	rig_info(&r, &hw, NULL);
	assert_false(hw.powered);
	rig_assert_clean(&r);
	rig_assert_trace(&r, "empty>off>powering-on>connected>powering-on>on>"
			     "powering-off>on>powering-off>connected>"
			     "powering-on>on>powering-off>connected>"
			     "powering-off>off");
	/* A slot the operator disabled is not connected either. */
	assert_int_equal(hs_slot_set_policy(r.hs, HS_SLOT_POLICY_DISABLED), 0);
	assert_int_equal(rig_connect(&r), -HS_EPERM);
	fini(&r);
}

/* Connect a PCIe slot (request policy, cmd 5 ms): CONNECTED, settled. */
static void to_connected(struct rig *r)
{
	rig_init(r, RIG_PCIE, &(struct rig_opts){
		.policy = HS_SLOT_POLICY_REQUEST, .cmd_delay_us = 5000 });
	rig_insert(r, &tu_card_nic);
	rig_run(r, HS_MSEC(30));
	assert_int_equal(rig_connect(r), 0);
	assert_true(rig_until(r, HS_SLOT_CONNECTED, HS_SEC(3)));
	rig_run(r, HS_MSEC(20));
	assert_int_equal(r->done_rc, 0);
}

/*
 * What happens to a connected slot: the card pulled, the MRL opened, a
 * power fault, the link lost, each takes the slot down (nothing to tear
 * down: nothing was configured); the button asks for power off with the
 * usual 5 s window, and a second press returns to connected, not on; the
 * operator's indicator changes nothing.  The button window's requests
 * from a connected slot: enable configures, connect cancels,
 * unconfigure powers nothing off.
 */
static void sc_connected_inputs(void **state)
{
	struct rig r;
	struct sim_slot_info hw;

	(void)state;
	to_connected(&r);
	rig_pull(&r, false);
	assert_true(rig_until(&r, HS_SLOT_EMPTY, HS_SEC(1)));
	assert_true(has_alert(&r, "removed while connected"));
	rig_assert_clean(&r);
	fini(&r);

	to_connected(&r);
	assert_int_equal(sim_set_latch(r.slot, true), 0);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(1)));
	rig_info(&r, &hw, NULL);
	assert_false(hw.powered);
	fini(&r);

	to_connected(&r);
	assert_int_equal(sim_inject_power_fault(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_FAULT, HS_SEC(1)));
	assert_int_equal(rig_unconfigure(&r), 0); /* nothing configured */
	assert_int_equal(rig_connect(&r), -HS_EPERM);
	fini(&r);

	to_connected(&r);
	assert_int_equal(sim_bounce(r.slot, true, 1000, 1000), 0);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(1)));
	fini(&r);

	to_connected(&r);
	assert_int_equal(hs_slot_set_attention(r.hs, HS_IND_BLINK), 0);
	rig_run(&r, HS_MSEC(20));
	assert_int_equal(rig_state(&r), HS_SLOT_CONNECTED);
	expect_inds(&r, SIM_IND_ON, SIM_IND_BLINK);
	/* The button: a second press returns to connected. */
	assert_int_equal(sim_press_button(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_BLINKING_OFF, HS_SEC(1)));
	rig_run(&r, HS_SEC(1));
	assert_int_equal(sim_press_button(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_CONNECTED, HS_SEC(1)));
	/* In the window, connect cancels it. */
	assert_int_equal(sim_press_button(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_BLINKING_OFF, HS_SEC(1)));
	assert_int_equal(rig_connect(&r), 0);
	assert_int_equal(r.done_rc, 0);
	assert_int_equal(rig_state(&r), HS_SLOT_CONNECTED);
	/* enable in the window configures the card */
	assert_int_equal(sim_press_button(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_BLINKING_OFF, HS_SEC(1)));
	assert_int_equal(rig_enable(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(3)));
	rig_run(&r, HS_MSEC(20));
	assert_int_equal(r.done_rc, 0);
	assert_non_null(rig_dev(&r));
	/* From on, unconfigure in the window: connected, power kept. */
	assert_int_equal(sim_press_button(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_BLINKING_OFF, HS_SEC(1)));
	assert_int_equal(rig_unconfigure(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_CONNECTED, HS_SEC(3)));
	rig_run(&r, HS_MSEC(20));
	expect_connected(&r);
	/* The window runs out: powered off. */
	assert_int_equal(sim_press_button(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_OFF, HS_SEC(7)));
	rig_info(&r, &hw, NULL);
	assert_false(hw.powered);
	rig_assert_clean(&r);
	fini(&r);

	/* The button's power-on window: connect skips it and stops at
	 * connected; unconfigure cancels it. */
	rig_init(&r, RIG_PCIE, &(struct rig_opts){
		.policy = HS_SLOT_POLICY_REQUEST, .cmd_delay_us = 5000 });
	rig_insert(&r, &tu_card_nic);
	rig_run(&r, HS_MSEC(30));
	assert_int_equal(sim_press_button(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_BLINKING_ON, HS_SEC(1)));
	assert_int_equal(rig_unconfigure(&r), 0);
	assert_int_equal(r.done_rc, 0);
	assert_int_equal(rig_state(&r), HS_SLOT_OFF);
	assert_int_equal(sim_press_button(r.slot), 0);
	assert_true(rig_until(&r, HS_SLOT_BLINKING_ON, HS_SEC(1)));
	assert_int_equal(rig_connect(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_CONNECTED, HS_SEC(3)));
	rig_run(&r, HS_MSEC(20));
	expect_connected(&r);
	fini(&r);
}

/* The late result of an earlier enable arrives once the slot is only
 * connected: what it configured is torn down (connected means nothing
 * configured), and configuring afterwards brings the card up once. */
static void sc_late_result_connected(void **state)
{
	struct rig r;
	unsigned long before;
	int wrc = 99;

	(void)state;
	late_add(&r, &tu_card_nic, &wrc);
	assert_int_equal(rig_connect(&r), 0);
	assert_true(until_fine(&r, HS_FINE_CONNECTED, HS_SEC(2)));
	before = hs_slot_fine_cell_hits(r.core, HS_FINE_CONNECTED, HS_IN_DONE);
	assert_int_equal(hs_core_txn_commit(r.core), 0);
	rig_run(&r, HS_MSEC(20));
	if (hs_slot_fine_cell_hits(r.core, HS_FINE_CONNECTED, HS_IN_DONE) ==
	    before)
		fail_msg("the late result did not arrive in connected");
	expect_connected(&r);
	assert_int_equal(rig_enable(&r), 0);
	assert_true(rig_until(&r, HS_SLOT_ON, HS_SEC(3)));
	rig_run(&r, HS_MSEC(20));
	assert_non_null(rig_dev(&r));
	assert_int_equal(r.added - r.removed, 1);
	fini(&r);
}

/* ---- coverage of the table ---------------------------------------------- */

static enum rig_kind K_PCIE = RIG_PCIE, K_SHPC = RIG_SHPC,
			   K_CPCI = RIG_CPCI;

/* Every scenario and the controller kinds it runs on: the cases cmocka
 * runs and the ones the coverage test runs come from this one list. */
#define SCENARIOS(X)                                                      \
	X(ALL3, sc_insert_comes_up)                                       \
	X(PCIE, sc_pcie_exact_timing)                                     \
	X(SHPC, sc_shpc_msi_behind_bridge)                                \
	X(BUTTON, sc_button_window_expiry)                                \
	X(BUTTON, sc_button_cancel)                                       \
	X(ALL3, sc_orderly_removal_with_traffic)                          \
	X(ALL3, sc_operator_requests)                                     \
	X(ALL3, sc_surprise_at_every_step)                                \
	X(BUTTON, sc_power_fault)                                         \
	X(BUTTON, sc_power_fault_then_pull)                               \
	X(BUTTON, sc_mrl_open_while_on)                                   \
	X(ALL3, sc_presence_bounce)                                       \
	X(ALL3, sc_presence_bounce_while_on)                              \
	X(ALL3, sc_surprise_without_memory)                               \
	X(BUTTON, sc_collect_read_fails)                                  \
	X(PCIE, sc_link_bounce)                                           \
	X(PCIE, sc_add_waits_for_writer)                                  \
	X(PCIE, sc_remove_waits_for_writer)                               \
	X(PCIE, sc_link_never_trains)                                     \
	X(PCIE, sc_crs_300ms)                                             \
	X(PCIE, sc_command_never_completes)                               \
	X(ALL3, sc_polling_mode)                                          \
	X(ALL3, sc_replace)                                               \
	X(ALL3, sc_restart_reconciles)                                    \
	X(PCIE, sc_immediate_readiness)                                   \
	X(PCIE, sc_pcie_variants)                                         \
	X(PCIE, sc_pcie_interruptions)                                    \
	X(PCIE, sc_pcie_interrupted_removal)                              \
	X(PCIE, sc_every_step_every_input)                                \
	X(PCIE, sc_late_results)                                          \
	X(PCIE, sc_quiet_inputs)                                          \
	X(ALL3, sc_cfgadm_steps)                                          \
	X(PCIE, sc_connected_inputs)                                      \
	X(PCIE, sc_late_result_connected)                                 \
	X(PCIE, sc_drills)

#define ALL3(f) cmocka_unit_test_prestate(f, (void *)&K_PCIE),            \
		cmocka_unit_test_prestate(f, (void *)&K_SHPC),            \
		cmocka_unit_test_prestate(f, (void *)&K_CPCI)
#define BUTTON(f) cmocka_unit_test_prestate(f, (void *)&K_PCIE),          \
		  cmocka_unit_test_prestate(f, (void *)&K_SHPC)
#define PCIE(f) cmocka_unit_test_prestate(f, (void *)&K_PCIE)
#define SHPC(f) cmocka_unit_test_prestate(f, (void *)&K_SHPC)
#define AS_CASE(kinds, f) kinds(f),

struct scenario {
	void (*fn)(void **state);
	enum rig_kind *kind;
};
#define RUN_ALL3(f) { f, &K_PCIE }, { f, &K_SHPC }, { f, &K_CPCI },
#define RUN_BUTTON(f) { f, &K_PCIE }, { f, &K_SHPC },
#define RUN_PCIE(f) { f, &K_PCIE },
#define RUN_SHPC(f) { f, &K_SHPC },
#define AS_RUN(kinds, f) RUN_##kinds(f)

static const struct scenario scenarios[] = { SCENARIOS(AS_RUN) };

/*
 * The table is over the fine states (powering on and off one state per
 * step), so a cell that ran means that step met that input.  A cell is
 * exercised when a scenario's hardware or requests reached it (a drill
 * does not count); every reachable cell must be; a cell the table calls
 * unreachable must never be reached but by a drill (that would make its
 * reason false).
 */
static void test_every_cell_exercised(void **state)
{
	unsigned missing = 0, reachable = 0, wrong = 0;

	(void)state;
	/* The hits of these runs only, not of whatever ran before. */
	memset(cov, 0, sizeof(cov));
	memset(drilled, 0, sizeof(drilled));
	for (size_t k = 0; k < sizeof(scenarios) / sizeof(scenarios[0]); k++) {
		void *st = scenarios[k].kind;

		scenarios[k].fn(&st);
	}
	printf("slot state table coverage (hits per fine state x input, "
	       "drills apart; -: unreachable):\n");
	printf("%-21s", "");
	for (int i = 0; i < HS_IN_COUNT; i++)
		printf(" %11s", hs_slot_input_name((enum hs_slot_input)i));
	printf("\n");
	for (int f = 0; f < HS_FINE_COUNT; f++) {
		printf("%-21s", hs_slot_fine_name((enum hs_slot_fine)f));
		for (int i = 0; i < HS_IN_COUNT; i++) {
			unsigned long real = cov[f][i] - drilled[f][i];
			char cell[16];

			if (hs_slot_fine_cell_unreachable((enum hs_slot_fine)f,
							  (enum hs_slot_input)i))
				snprintf(cell, sizeof(cell), "-");
			else if (drilled[f][i])
				snprintf(cell, sizeof(cell), "%lu+%lud", real,
					 drilled[f][i]);
			else
				snprintf(cell, sizeof(cell), "%lu", real);
			printf(" %11s", cell);
		}
		printf("\n");
	}
	printf("unreachable cells (only a drill gets there):\n");
	for (int f = 0; f < HS_FINE_COUNT; f++)
		for (int i = 0; i < HS_IN_COUNT; i++) {
			const char *why = hs_slot_fine_cell_unreachable(
				(enum hs_slot_fine)f, (enum hs_slot_input)i);
			unsigned long real = cov[f][i] - drilled[f][i];

			if (!why) {
				reachable++;
				if (!real) {
					missing++;
					print_error("never exercised: %s + %s "
						    "(%s)\n",
						    hs_slot_fine_name((enum hs_slot_fine)f),
						    hs_slot_input_name((enum hs_slot_input)i),
						    hs_slot_fine_cell_doc((enum hs_slot_fine)f,
									  (enum hs_slot_input)i));
				}
				continue;
			}
			printf("  %s + %s: %s; drilled %lu time(s)\n",
			       hs_slot_fine_name((enum hs_slot_fine)f),
			       hs_slot_input_name((enum hs_slot_input)i), why,
			       drilled[f][i]);
			if (real) {
				wrong++;
				print_error("reached without a drill %lu time(s), "
					    "yet called unreachable: %s + %s\n",
					    real,
					    hs_slot_fine_name((enum hs_slot_fine)f),
					    hs_slot_input_name((enum hs_slot_input)i));
			}
		}
	printf("%u of %u reachable cells exercised (%u cells, %u "
	       "unreachable)\n", reachable - missing, reachable,
	       HS_FINE_COUNT * HS_IN_COUNT,
	       HS_FINE_COUNT * HS_IN_COUNT - reachable);
	assert_int_equal(wrong, 0);
	assert_int_equal(missing, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SCENARIOS(AS_CASE)
		cmocka_unit_test(test_every_cell_exercised),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
