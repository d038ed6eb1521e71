/*
 * test_shpchp.c - the SHPC controller driver (controllers/shpchp.c) with
 * the core's slot state machine, on a simulated SHPC bridge and the
 * virtual clock: what an operator sees (slot states, indicators, power,
 * the devices and their drivers, alerts) when cards are inserted,
 * enabled by the attention button, removed through it, pulled, when an
 * MRL opens under a running card, when power faults; several slots
 * operated at once through the one Command register; interrupt and
 * polled modes.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slot_rig.h"

#include "hotswap/hpc.h"
#include "simcard.h"

#define BR       HS_BDF(0, 0, 2, 0)
#define SEC      1
#define FIRST    1u   /* device number of logical slot 0 */
#define PHYS     10u  /* physical number of logical slot 0 */
#define CARD(i)  HS_BDF(0, SEC, FIRST + (i), 0)
#define TRHFA    HS_USEC(1006633)

/* A conventional network board (simnet binds by class 02h). */
static const struct sim_card_spec pci_nic = {
	.name = "pci-nic", .nfuncs = 1,
	.funcs = { { .vendor = 0x8086, .device = 0x1229,
		     .class_code = 0x020000, .irq_pin = 1,
		     .bar = { [0] = { SIM_BAR_MEM32, false, 4096 },
			      [1] = { SIM_BAR_IO, false, 64 } } } },
};

/* A conventional storage board (simstor). */
static const struct sim_card_spec pci_disk = {
	.name = "pci-disk", .nfuncs = 1,
	.funcs = { { .vendor = 0x1000, .device = 0x0030,
		     .class_code = 0x010000, .irq_pin = 1,
		     .bar = { [0] = { SIM_BAR_MEM32, false, 8192 } } } },
};

struct fx {
	struct tu t;
	struct hs_core *core;
	struct sim_slot *slot[4];
	struct sim_shpc_spec spec;
	struct evlog ev;       /* slot and device events */
	int done_rc[4];
	unsigned ndone[4];
};

static struct fx *F;

#define EXPECT(f, ...) EVLOG_EXPECT(&(f)->ev, __VA_ARGS__)

static bool logged(const struct fx *f, const char *what)
{
	return evlog_has(&f->ev, what);
}

static void sim_log_fn(void *arg, enum hs_log_level lvl, const char *line)
{
	struct fx *f = arg;

	fprintf(stderr, "[%12.6f] %d %s\n", (double)sim_now(f->t.sim) / 1e9,
		(int)lvl, line);
}

struct opts {
	bool poll;
	int policy;
	unsigned nslots;
	bool no_button, no_mrl;
	uint32_t cmd_delay_us;
	const struct sim_card_spec *cold[4];
};

static struct fx *start(const struct opts *o)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct hs_core_params p;
	int err = 0;

	assert_non_null(f);
	F = f;
	simcard_ledger_reset();
	tu_init(&f->t, NULL);
	if (getenv("TEST_LOG"))
		sim_set_log(f->t.sim, sim_log_fn, f);
	f->spec.vendor = 0x8086;
	f->spec.device = 0x0329;
	f->spec.nslots = o->nslots ? o->nslots : 2;
	f->spec.first_dev = FIRST;
	f->spec.first_phys = PHYS;
	f->spec.attention_button = !o->no_button;
	f->spec.mrl_sensor = !o->no_mrl;
	f->spec.cmd_delay_us = o->cmd_delay_us ? o->cmd_delay_us : 1000;
	assert_non_null(sim_add_shpc_bridge(sim_root_bus(f->t.sim), 2, 0,
					    &f->spec, &err));
	for (unsigned i = 0; i < f->spec.nslots; i++) {
		f->slot[i] = sim_slot_by_phys(f->t.sim, PHYS + i);
		assert_non_null(f->slot[i]);
		if (o->cold[i])
			assert_int_equal(sim_coldplug(f->slot[i], o->cold[i]), 0);
	}
	hs_core_params_defaults(&p);
	p.slot_poll = o->poll;
	p.slot_policy = o->policy;
	assert_int_equal(hs_core_create(&f->t.plat, &p, &f->core), 0);
	hs_core_enable_rebalance(f->core);
	assert_int_equal(hs_controllers_register(f->core), 0);
	assert_int_equal(hs_driver_register(f->core, &simnet_driver), 0);
	assert_int_equal(hs_driver_register(f->core, &simstor_driver), 0);
	assert_int_equal(hs_core_subscribe(f->core, evlog_event, &f->ev), 0);
	assert_int_equal(hs_core_enumerate(f->core), 0);
	sim_advance(f->t.sim, 0);
	return f;
}

static void stop(struct fx *f)
{
	hs_core_destroy(f->core);
	tu_fini(&f->t);
	free(f);
	F = NULL;
}

static void run(struct fx *f, hs_time_t d)
{
	sim_advance(f->t.sim, d);
}

static struct hs_slot *slot_of(struct fx *f, unsigned i)
{
	char name[16];
	struct hs_slot *s;

	snprintf(name, sizeof(name), "%u", PHYS + i);
	s = hs_slot_find(f->core, name);
	assert_non_null(s);
	return s;
}

static enum hs_slot_state sstate(struct fx *f, unsigned i)
{
	struct hs_slot_info si;

	hs_slot_get_info(slot_of(f, i), &si);
	return si.state;
}

static struct sim_slot_info hw(struct fx *f, unsigned i)
{
	struct sim_slot_info si;

	sim_slot_get_info(f->slot[i], &si);
	return si;
}

/* Run until slot i is in state s; false at the limit. */
static bool until(struct fx *f, unsigned i, enum hs_slot_state s,
		  hs_time_t limit)
{
	hs_time_t end = sim_now(f->t.sim) + limit, when;

	sim_advance(f->t.sim, 0);
	while (sstate(f, i) != s) {
		if (!sim_next_event(f->t.sim, &when) || when > end) {
			sim_advance(f->t.sim, end - sim_now(f->t.sim));
			return sstate(f, i) == s;
		}
		sim_step(f->t.sim);
	}
	return true;
}

static void on_done(void *arg, int rc, const char *msg)
{
	unsigned i = (unsigned)(uintptr_t)arg;

	(void)msg;
	F->done_rc[i] = rc;
	F->ndone[i]++;
}

static struct hs_dev *card_dev(struct fx *f, unsigned i)
{
	return hs_dev_find(f->core, CARD(i));
}

static void assert_up(struct fx *f, unsigned i, const char *driver)
{
	struct sim_slot_info h = hw(f, i);
	struct hs_slot_info si;
	struct hs_dev *d = card_dev(f, i);

	assert_int_equal(sstate(f, i), HS_SLOT_ON);
	assert_true(h.powered);
	assert_true(h.link_up);
	assert_int_equal(h.power_ind, SIM_IND_ON);
	assert_int_equal(h.attn_ind, SIM_IND_OFF);
	assert_non_null(d);
	assert_string_equal(hs_dev_driver_name(d), driver);
	hs_slot_get_info(slot_of(f, i), &si);
	assert_true(si.link_up);
	assert_int_equal(si.power_ind, HS_IND_ON);
}

static void assert_down(struct fx *f, unsigned i)
{
	struct sim_slot_info h = hw(f, i);

	assert_false(h.powered);
	assert_false(h.link_up);
	assert_int_equal(h.power_ind, SIM_IND_OFF);
	assert_null(card_dev(f, i));
}

/* ---- tests ---------------------------------------------------------------- */

static void test_binds_and_describes_slots(void **state)
{
	static const struct opts o = { .nslots = 3 };
	struct fx *f = start(&o);
	struct hs_dev *br = hs_dev_find(f->core, BR);
	struct hs_slot_info si;

	(void)state;
	assert_non_null(br);
	assert_string_equal(hs_dev_driver_name(br), "shpchp");
	for (unsigned i = 0; i < 3; i++) {
		hs_slot_get_info(slot_of(f, i), &si);
		assert_string_equal(si.kind, "shpc");
		assert_int_equal(si.phys, PHYS + i);
		assert_int_equal(si.devnum, FIRST + i);
		assert_int_equal(si.bridge, BR);
		assert_int_equal(si.caps,
				 HS_SLOT_CAP_POWER | HS_SLOT_CAP_PWR_IND |
				 HS_SLOT_CAP_ATTN_IND | HS_SLOT_CAP_LINK_REPORT |
				 HS_SLOT_CAP_BUTTON | HS_SLOT_CAP_MRL);
		assert_int_equal(si.state, HS_SLOT_EMPTY);
		assert_false(si.present);
		assert_false(si.powered);
	}
	assert_null(hs_slot_find(f->core, "13"));
	stop(f);
}

/* Insert, press the button: 5 s to change one's mind, then the slot is
 * enabled and, Trhfa later, the card configured and its driver bound.
 * Press again: 5 s, the driver stops, the slot is disabled. */
static void test_button_insert_then_button_remove(void **state)
{
	static const struct opts o = { 0 };
	struct fx *f = start(&o);
	struct sim_counters c0, c1;
	hs_time_t pressed;

	(void)state;
	assert_int_equal(sim_insert(f->slot[0], &pci_nic), 0);
	run(f, HS_MSEC(50));
	/* A slot with a button waits for it. */
	assert_int_equal(sstate(f, 0), HS_SLOT_OFF);
	assert_false(hw(f, 0).powered);
	assert_int_equal(hw(f, 0).power_ind, SIM_IND_OFF);
	sim_get_counters(f->t.sim, &c0);
	assert_int_equal(sim_press_button(f->slot[0]), 0);
	pressed = sim_now(f->t.sim);
	run(f, HS_MSEC(10));
	assert_int_equal(sstate(f, 0), HS_SLOT_BLINKING_ON);
	assert_int_equal(hw(f, 0).power_ind, SIM_IND_BLINK);
	run(f, HS_SEC(5) - HS_MSEC(11));
	assert_int_equal(sstate(f, 0), HS_SLOT_BLINKING_ON);
	assert_false(hw(f, 0).powered);
	run(f, HS_MSEC(2));
	assert_int_equal(sstate(f, 0), HS_SLOT_POWERING_ON);
	/* Enabled after one command (1 ms); the card is not asked anything
	 * for Trhfa after that. */
	run(f, HS_MSEC(2));
	assert_true(hw(f, 0).powered);
	assert_true(hw(f, 0).link_up);
	assert_int_equal(hw(f, 0).power_ind, SIM_IND_BLINK);
	assert_null(card_dev(f, 0));
	run(f, TRHFA - HS_MSEC(5));
	assert_int_equal(sstate(f, 0), HS_SLOT_POWERING_ON);
	assert_true(until(f, 0, HS_SLOT_ON, HS_MSEC(50)));
	assert_true(sim_now(f->t.sim) - pressed >= HS_SEC(5) + TRHFA);
	assert_true(sim_now(f->t.sim) - pressed < HS_SEC(5) + TRHFA +
						 HS_MSEC(20));
	run(f, HS_MSEC(5));
	assert_up(f, 0, "simnet");
	assert_int_equal(simcard_ledger()->probes, 1);
	/* The controller interrupted: nobody polled. */
	sim_get_counters(f->t.sim, &c1);
	assert_true(c1.irq_delivered > c0.irq_delivered);
	EXPECT(f, "state 10 empty>off: card inserted",
	       "state 10 off>blinking-on: attention button",
	       "state 10 blinking-on>powering-on",
	       "added 01:01.0", "bound 01:01.0 simnet",
	       "state 10 powering-on>on");

	/* Removal through the button, with requests in flight. */
	assert_int_equal(simcard_submit(card_dev(f, 0), 3), 3);
	assert_int_equal(sim_press_button(f->slot[0]), 0);
	run(f, HS_MSEC(10));
	assert_int_equal(sstate(f, 0), HS_SLOT_BLINKING_OFF);
	assert_int_equal(hw(f, 0).power_ind, SIM_IND_BLINK);
	assert_true(hw(f, 0).powered);
	run(f, HS_SEC(5));
	assert_true(until(f, 0, HS_SLOT_OFF, HS_SEC(2)));
	run(f, HS_MSEC(5));
	assert_down(f, 0);
	assert_int_equal(hw(f, 0).attn_ind, SIM_IND_OFF);
	assert_true(hw(f, 0).present);
	EXPECT(f, "state 10 on>blinking-off: attention button",
	       "state 10 blinking-off>powering-off",
	       "unbound 01:01.0 simnet", "removed 01:01.0",
	       "state 10 powering-off>off");
	assert_int_equal(simcard_ledger()->submitted,
			 simcard_ledger()->completed + simcard_ledger()->failed);
	assert_false(logged(f, "alert"));
	/* Pulled once off: the slot empties without fuss. */
	assert_int_equal(sim_remove(f->slot[0], SIM_REMOVE_ORDERLY), 0);
	assert_true(until(f, 0, HS_SLOT_EMPTY, HS_SEC(1)));
	assert_false(logged(f, "alert"));
	stop(f);
}

/* A second press inside the window cancels. */
static void test_button_cancel(void **state)
{
	static const struct opts o = { 0 };
	struct fx *f = start(&o);

	(void)state;
	assert_int_equal(sim_insert(f->slot[0], &pci_nic), 0);
	run(f, HS_MSEC(50));
	assert_int_equal(sim_press_button(f->slot[0]), 0);
	run(f, HS_SEC(2));
	assert_int_equal(sim_press_button(f->slot[0]), 0);
	run(f, HS_SEC(10));
	assert_int_equal(sstate(f, 0), HS_SLOT_OFF);
	assert_false(hw(f, 0).powered);
	assert_int_equal(hw(f, 0).power_ind, SIM_IND_OFF);
	EXPECT(f, "state 10 off>blinking-on", "state 10 blinking-on>off: cancelled");
	stop(f);
}

/* Two slots operated at once: one Command register for both, so the
 * commands go one after the other (a command written while the
 * controller is busy would be dropped, and a slot would never come up). */
static void test_two_slots_at_once_are_serialized(void **state)
{
	static const struct opts o = { .policy = HS_SLOT_POLICY_PRESENCE,
				       .cmd_delay_us = 40000 };
	struct fx *f = start(&o);
	hs_time_t t0;

	(void)state;
	assert_int_equal(sim_insert(f->slot[0], &pci_nic), 0);
	assert_int_equal(sim_insert(f->slot[1], &pci_disk), 0);
	t0 = sim_now(f->t.sim);
	assert_true(until(f, 0, HS_SLOT_ON, HS_SEC(3)));
	assert_true(until(f, 1, HS_SLOT_ON, HS_SEC(3)));
	run(f, HS_MSEC(200));
	assert_up(f, 0, "simnet");
	assert_up(f, 1, "simstor");
	/* Both came up; the second waited for the first's command. */
	assert_true(sim_now(f->t.sim) - t0 >= TRHFA + HS_MSEC(80));
	assert_false(logged(f, "alert"));

	/* And both down at once through the operator's requests. */
	assert_int_equal(hs_slot_disable(slot_of(f, 0), on_done, (void *)0), 0);
	assert_int_equal(hs_slot_disable(slot_of(f, 1), on_done, (void *)1), 0);
	assert_true(until(f, 0, HS_SLOT_OFF, HS_SEC(2)));
	assert_true(until(f, 1, HS_SLOT_OFF, HS_SEC(2)));
	run(f, HS_MSEC(200));
	assert_int_equal(f->ndone[0], 1);
	assert_int_equal(f->ndone[1], 1);
	assert_int_equal(f->done_rc[0], 0);
	assert_int_equal(f->done_rc[1], 0);
	assert_down(f, 0);
	assert_down(f, 1);
	assert_false(logged(f, "alert"));
	stop(f);
}

static void bring_up(struct fx *f, unsigned i, const struct sim_card_spec *c)
{
	assert_int_equal(sim_insert(f->slot[i], c), 0);
	run(f, HS_MSEC(50));
	assert_int_equal(hs_slot_enable(slot_of(f, i), on_done,
					(void *)(uintptr_t)i), 0);
	assert_true(until(f, i, HS_SLOT_ON, HS_SEC(3)));
	run(f, HS_MSEC(5));
	assert_int_equal(f->done_rc[i], 0);
}

/* The MRL opened under a running card: the controller cuts the slot; the
 * devices go at once, and the operator is told. */
static void test_mrl_open_while_on_is_a_surprise(void **state)
{
	static const struct opts o = { 0 };
	struct fx *f = start(&o);

	(void)state;
	bring_up(f, 0, &pci_nic);
	evlog_mark(&f->ev);
	assert_int_equal(simcard_submit(card_dev(f, 0), 2), 2);
	assert_int_equal(sim_set_latch(f->slot[0], true), 0);
	run(f, HS_MSEC(5));
	assert_int_equal(sstate(f, 0), HS_SLOT_OFF);
	run(f, HS_MSEC(20));
	assert_down(f, 0);
	EXPECT(f, "removed 01:01.0",
	       "alert 10 surprise removal: the latch (MRL) was opened while in use",
	       "state 10 on>off");
	assert_int_equal(simcard_ledger()->submitted,
			 simcard_ledger()->completed + simcard_ledger()->failed);
	/* Enabling with the MRL open is refused. */
	assert_int_equal(hs_slot_enable(slot_of(f, 0), on_done, (void *)0),
			 -HS_EPERM);
	/* Closed again: the button brings the card back. */
	assert_int_equal(sim_set_latch(f->slot[0], false), 0);
	run(f, HS_MSEC(50));
	assert_int_equal(sstate(f, 0), HS_SLOT_OFF);
	assert_int_equal(sim_press_button(f->slot[0]), 0);
	assert_true(until(f, 0, HS_SLOT_ON, HS_SEC(8)));
	run(f, HS_MSEC(5));
	assert_up(f, 0, "simnet");
	stop(f);
}

/* The MRL flipped open and shut at once under a running card, with
 * presence policy: the slot's disable command is still running when the
 * enable is wanted; the card comes back. */
static void test_mrl_flip_comes_back(void **state)
{
	static const struct opts o = { .policy = HS_SLOT_POLICY_PRESENCE };
	struct fx *f;

	(void)state;
	/* The controller disabled the slot by itself when the MRL opened:
	 * the core must say power-on again, not trust what it last said. */
	f = start(&o);
	assert_int_equal(sim_insert(f->slot[0], &pci_nic), 0);
	assert_true(until(f, 0, HS_SLOT_ON, HS_SEC(3)));
	assert_int_equal(sim_set_latch(f->slot[0], true), 0);
	assert_true(until(f, 0, HS_SLOT_OFF, HS_SEC(1)));
	assert_int_equal(sim_set_latch(f->slot[0], false), 0);
	assert_true(until(f, 0, HS_SLOT_ON, HS_SEC(3)));
	run(f, HS_MSEC(5));
	assert_up(f, 0, "simnet");
	stop(f);
}

/* A card pulled from a running slot. */
static void test_surprise_pull(void **state)
{
	static const struct opts o = { 0 };
	struct fx *f = start(&o);

	(void)state;
	bring_up(f, 1, &pci_disk);
	evlog_mark(&f->ev);
	assert_int_equal(sim_remove(f->slot[1], SIM_REMOVE_SURPRISE), 0);
	assert_true(until(f, 1, HS_SLOT_EMPTY, HS_MSEC(100)));
	run(f, HS_MSEC(5));
	assert_null(card_dev(f, 1));
	assert_int_equal(hw(f, 1).power_ind, SIM_IND_OFF);
	EXPECT(f, "removed 01:02.0",
	       "alert 11 surprise removal: card removed while in use",
	       "state 11 on>empty");
	stop(f);
}

/* A power fault: the controller isolates the slot, the state machine
 * latches the fault with the attention indicator on until the operator
 * acknowledges it or the card goes. */
static void test_power_fault(void **state)
{
	static const struct opts o = { 0 };
	struct fx *f = start(&o);
	struct hs_slot_info si;

	(void)state;
	bring_up(f, 0, &pci_nic);
	evlog_mark(&f->ev);
	assert_int_equal(sim_inject_power_fault(f->slot[0]), 0);
	assert_true(until(f, 0, HS_SLOT_FAULT, HS_MSEC(10)));
	run(f, HS_MSEC(10));
	assert_null(card_dev(f, 0));
	assert_false(hw(f, 0).powered);
	assert_int_equal(hw(f, 0).attn_ind, SIM_IND_ON);
	assert_int_equal(hw(f, 0).power_ind, SIM_IND_OFF);
	hs_slot_get_info(slot_of(f, 0), &si);
	assert_true(si.power_fault);
	EXPECT(f, "removed 01:01.0", "alert 10 surprise removal: power fault",
	       "state 10 on>fault", "alert 10 power fault");
	/* No enable while the fault is latched; a disable acknowledges. */
	assert_int_equal(hs_slot_enable(slot_of(f, 0), on_done, (void *)0),
			 -HS_EPERM);
	assert_int_equal(hs_slot_disable(slot_of(f, 0), on_done, (void *)0), 0);
	run(f, HS_MSEC(10));
	assert_int_equal(sstate(f, 0), HS_SLOT_OFF);
	assert_int_equal(hw(f, 0).attn_ind, SIM_IND_OFF);
	/* The faulty card goes; a good one comes up. */
	assert_int_equal(sim_remove(f->slot[0], SIM_REMOVE_ORDERLY), 0);
	assert_true(until(f, 0, HS_SLOT_EMPTY, HS_MSEC(100)));
	bring_up(f, 0, &pci_nic);
	assert_up(f, 0, "simnet");
	stop(f);
}

/* Polled: no interrupt is taken (every mask stays set), and the same
 * operations work from the poll, command completions included. */
static void test_polled_mode(void **state)
{
	static const struct opts o = { .poll = true };
	struct fx *f = start(&o);
	struct sim_counters c0, c1;
	hs_time_t t0;

	(void)state;
	/* The start-up commands (indicators off) are done by now. */
	run(f, HS_MSEC(100));
	sim_get_counters(f->t.sim, &c0);
	assert_int_equal(sim_insert(f->slot[0], &pci_nic), 0);
	/* Seen at the next poll (1 s), then the debounce. */
	t0 = sim_now(f->t.sim);
	assert_true(until(f, 0, HS_SLOT_OFF, HS_MSEC(1100)));
	assert_true(sim_now(f->t.sim) - t0 > HS_MSEC(500));
	assert_int_equal(sim_press_button(f->slot[0]), 0);
	assert_true(until(f, 0, HS_SLOT_BLINKING_ON, HS_MSEC(1100)));
	assert_true(until(f, 0, HS_SLOT_ON, HS_SEC(8)));
	run(f, HS_MSEC(5));
	assert_up(f, 0, "simnet");
	assert_int_equal(sim_press_button(f->slot[0]), 0);
	assert_true(until(f, 0, HS_SLOT_BLINKING_OFF, HS_MSEC(1100)));
	assert_true(until(f, 0, HS_SLOT_OFF, HS_SEC(8)));
	run(f, HS_MSEC(50));
	assert_down(f, 0);
	/* The controller never interrupted (the NIC's driver may have). */
	sim_get_counters(f->t.sim, &c1);
	assert_int_equal(c1.intx_asserted, c0.intx_asserted);
	assert_false(logged(f, "alert"));
	stop(f);
}

/* Cards present at power-on: firmware left the slots enabled; the core
 * configures them at boot and the slots start ON, nothing re-done. */
static void test_cold_cards_start_on(void **state)
{
	static const struct opts o = { .cold = { &pci_nic, NULL, &pci_disk },
				       .nslots = 3 };
	struct fx *f = start(&o);

	(void)state;
	run(f, HS_SEC(2));
	assert_up(f, 0, "simnet");
	assert_up(f, 2, "simstor");
	assert_int_equal(sstate(f, 1), HS_SLOT_EMPTY);
	assert_false(logged(f, "removed"));
	assert_false(logged(f, "alert"));
	/* Both stay ON: started so, and no state change since. */
	assert_true(logged(f, "state 10 on>on: controller started"));
	assert_true(logged(f, "state 12 on>on: controller started"));
	assert_false(logged(f, ">off"));
	assert_false(logged(f, ">powering"));
	assert_int_equal(simcard_ledger()->probes, 2);
	stop(f);
}

/* Without button or MRL sensor: presence alone brings a card up. */
static void test_no_button_presence_enables(void **state)
{
	static const struct opts o = { .no_button = true, .no_mrl = true };
	struct fx *f = start(&o);
	struct hs_slot_info si;

	(void)state;
	hs_slot_get_info(slot_of(f, 0), &si);
	assert_false(si.caps & (HS_SLOT_CAP_BUTTON | HS_SLOT_CAP_MRL));
	assert_true(si.presence_enables);
	assert_int_equal(sim_insert(f->slot[0], &pci_nic), 0);
	assert_true(until(f, 0, HS_SLOT_ON, HS_SEC(2)));
	run(f, HS_MSEC(5));
	assert_up(f, 0, "simnet");
	EXPECT(f, "state 10 empty>off", "state 10 off>powering-on",
	       "bound 01:01.0 simnet", "state 10 powering-on>on");
	stop(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binds_and_describes_slots),
		cmocka_unit_test(test_button_insert_then_button_remove),
		cmocka_unit_test(test_button_cancel),
		cmocka_unit_test(test_two_slots_at_once_are_serialized),
		cmocka_unit_test(test_mrl_open_while_on_is_a_surprise),
		cmocka_unit_test(test_mrl_flip_comes_back),
		cmocka_unit_test(test_surprise_pull),
		cmocka_unit_test(test_power_fault),
		cmocka_unit_test(test_polled_mode),
		cmocka_unit_test(test_cold_cards_start_on),
		cmocka_unit_test(test_no_button_presence_enables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
