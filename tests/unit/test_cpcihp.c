/*
 * test_cpcihp.c - the CompactPCI hot swap driver (controllers/cpcihp.c)
 * with the core's slot state machine, on simulated PICMG 2.1 segments
 * and the virtual clock: boards inserted (INS acknowledged, configured,
 * blue LED off), extraction through the ejector handle (drivers quiesce,
 * the board is unconfigured, the blue LED lights, the high-availability
 * slot power goes off), boards pulled before the LED said so, boards
 * present at start, power faults; ENUM# as an interrupt (shared by two
 * segments, too), polling, and a platform without ENUM# wired.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slot_rig.h"

#include "hotswap/cpci_regs.h"
#include "hotswap/hpc.h"
#include "simcard.h"

#define BR       HS_BDF(0, 0, 3, 0)
#define BR2      HS_BDF(0, 0, 4, 0)
#define ENUM     40u

#define INS 0x80
#define EXT 0x40
#define LOO 0x08

/* Layouts: the HA block tells slots 20.. at devices 1..; without it the
 * slots are named by device number, so the chassis here numbers its
 * connectors the same way (as cpci-rack.json does). */
#define HA_DEV   1u
#define HA_PHYS  20u
#define NOHA_DEV 9u

static const struct sim_card_spec pci_nic = {
	.name = "pci-nic", .nfuncs = 1,
	.funcs = { { .vendor = 0x8086, .device = 0x1229,
		     .class_code = 0x020000, .irq_pin = 1,
		     .bar = { [0] = { SIM_BAR_MEM32, false, 4096 },
			      [1] = { SIM_BAR_IO, false, 64 } } } },
};

static const struct sim_card_spec pci_disk = {
	.name = "pci-disk", .nfuncs = 1,
	.funcs = { { .vendor = 0x1000, .device = 0x0030,
		     .class_code = 0x010000, .irq_pin = 1,
		     .bar = { [0] = { SIM_BAR_MEM32, false, 8192 } } } },
};

struct opts {
	bool ha;
	bool poll;
	int policy;
	bool no_enum_op;           /* the platform has no enum_line op */
	bool no_backplane_op;      /* nor a backplane op */
	bool second;               /* a second segment on the same ENUM# */
	const struct sim_card_spec *cold[4];
};

struct fx {
	struct tu t;
	struct hs_platform plat;   /* what the core runs on */
	struct hs_platform_ops ops;
	struct hs_core *core;
	struct sim_cpci_spec spec;
	bool ha;
	struct sim_slot *slot[4];  /* the first four slots */
	struct sim_slot *other;    /* first slot of the second segment */
	struct evlog ev;       /* slot and device events */
	int done_rc;
	unsigned ndone;
	/* HA: the slot power register block (the bridge's BAR0), and, at
	 * each write switching a powered slot off, whether its board's blue
	 * LED was lit at that moment (PICMG 2.1: lit first, then power). */
	uint64_t ha_regs;
	unsigned power_offs[4];
	bool lit_at_power_off[4];
};

static struct fx *F;

#define EXPECT(f, ...) EVLOG_EXPECT(&(f)->ev, __VA_ARGS__)

static bool logged(const struct fx *f, const char *what)
{
	return evlog_has(&f->ev, what);
}

static void mark(struct fx *f)
{
	evlog_mark(&f->ev);
}

/* The platform's memory writes, watched for the HA slot power switch. */
static int spy_mem_write(void *ctx, uint64_t addr, unsigned width,
			 uint64_t val)
{
	struct fx *f = F;

	if (f && f->ha_regs && width == 4 &&
	    addr >= f->ha_regs + HS_HA_SLOT(0) &&
	    addr < f->ha_regs + HS_HA_SLOT(4) && !(addr & 3) &&
	    !(val & HS_HA_PWR_EN)) {
		unsigned n = (unsigned)(addr - f->ha_regs - HS_HA_SLOT(0)) / 4;
		struct sim_slot_info si;

		sim_slot_get_info(f->slot[n], &si);
		if (si.powered) {
			f->power_offs[n]++;
			f->lit_at_power_off[n] = si.blue_led;
		}
	}
	return f->t.plat.ops->mem_write(ctx, addr, width, val);
}

static void sim_log_fn(void *arg, enum hs_log_level lvl, const char *line)
{
	struct fx *f = arg;

	fprintf(stderr, "[%12.6f] %d %s\n", (double)sim_now(f->t.sim) / 1e9,
		(int)lvl, line);
}

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
	f->ha = o->ha;
	f->spec.vendor = 0x8086;
	f->spec.device = 0xb154;
	f->spec.nslots = 4;
	f->spec.first_dev = (uint8_t)(o->ha ? HA_DEV : NOHA_DEV);
	f->spec.first_phys = (uint16_t)(o->ha ? HA_PHYS : NOHA_DEV);
	f->spec.power_control = o->ha;
	f->spec.enum_line = ENUM;
	assert_non_null(sim_add_cpci_segment(sim_root_bus(f->t.sim), 3, 0,
					     &f->spec, &err));
	for (unsigned i = 0; i < 4; i++) {
		f->slot[i] = sim_slot_by_phys(f->t.sim,
					      f->spec.first_phys + i);
		assert_non_null(f->slot[i]);
		if (o->cold[i])
			assert_int_equal(sim_coldplug(f->slot[i], o->cold[i]), 0);
	}
	if (o->second) {
		/* Another backplane, its ENUM# on the same line. */
		struct sim_cpci_spec s2 = f->spec;

		s2.power_control = false;
		s2.nslots = 2;
		s2.first_dev = 5;
		s2.first_phys = 5;
		assert_non_null(sim_add_cpci_segment(sim_root_bus(f->t.sim), 4,
						     0, &s2, &err));
		f->other = sim_slot_by_phys(f->t.sim, 5);
		assert_non_null(f->other);
	}
	f->plat = f->t.plat;
	if (o->ha) {
		f->ops = *f->t.plat.ops;
		f->ops.mem_write = spy_mem_write;
		f->plat.ops = &f->ops;
	}
	if (o->no_enum_op || o->no_backplane_op) {
		if (!o->ha)
			f->ops = *f->t.plat.ops;
		if (o->no_enum_op)
			f->ops.enum_line = NULL;
		if (o->no_backplane_op)
			f->ops.backplane = NULL;
		f->plat.ops = &f->ops;
	}
	hs_core_params_defaults(&p);
	p.slot_poll = o->poll;
	p.slot_policy = o->policy;
	assert_int_equal(hs_core_create(&f->plat, &p, &f->core), 0);
	hs_core_enable_rebalance(f->core);
	assert_int_equal(hs_controllers_register(f->core), 0);
	assert_int_equal(hs_driver_register(f->core, &simnet_driver), 0);
	assert_int_equal(hs_driver_register(f->core, &simstor_driver), 0);
	assert_int_equal(hs_core_subscribe(f->core, evlog_event, &f->ev), 0);
	assert_int_equal(hs_core_enumerate(f->core), 0);
	if (o->ha) {
		struct hs_resource r;

		assert_int_equal(hs_dev_bar(hs_dev_find(f->core, BR), 0, &r), 0);
		f->ha_regs = r.start;
	}
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

static unsigned phys_of(const struct fx *f, unsigned i)
{
	return f->spec.first_phys + i;
}

static struct hs_slot *slot_named(struct fx *f, unsigned phys)
{
	char name[16];
	struct hs_slot *s;

	snprintf(name, sizeof(name), "%u", phys);
	s = hs_slot_find(f->core, name);
	assert_non_null(s);
	return s;
}

static struct hs_slot *slot_of(struct fx *f, unsigned i)
{
	return slot_named(f, phys_of(f, i));
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

static bool until_slot(struct fx *f, struct hs_slot *s, enum hs_slot_state st,
		       hs_time_t limit)
{
	hs_time_t end = sim_now(f->t.sim) + limit, when;
	struct hs_slot_info si;

	sim_advance(f->t.sim, 0);
	for (;;) {
		hs_slot_get_info(s, &si);
		if (si.state == st)
			return true;
		if (!sim_next_event(f->t.sim, &when) || when > end) {
			sim_advance(f->t.sim, end - sim_now(f->t.sim));
			hs_slot_get_info(s, &si);
			return si.state == st;
		}
		sim_step(f->t.sim);
	}
}

static bool until(struct fx *f, unsigned i, enum hs_slot_state st,
		  hs_time_t limit)
{
	return until_slot(f, slot_of(f, i), st, limit);
}

static hs_bdf_t card_bdf(const struct fx *f, unsigned i)
{
	return HS_BDF(0, 1, f->spec.first_dev + i, 0);
}

static struct hs_dev *card_dev(struct fx *f, unsigned i)
{
	return hs_dev_find(f->core, card_bdf(f, i));
}

/* The board's Hot Swap Control/Status register, read as software would. */
static uint8_t csr(struct fx *f, unsigned i)
{
	hs_bdf_t b = card_bdf(f, i);

	return tu_rd8(&f->t, b, (uint16_t)(tu_cap(&f->t, b, 0x06) + 2));
}

static void on_done(void *arg, int rc, const char *msg)
{
	(void)arg;
	(void)msg;
	F->done_rc = rc;
	F->ndone++;
}

static void assert_up(struct fx *f, unsigned i, const char *driver)
{
	struct sim_slot_info h = hw(f, i);
	struct hs_dev *d = card_dev(f, i);
	struct hs_slot_info si;

	assert_int_equal(sstate(f, i), HS_SLOT_ON);
	assert_true(h.powered);
	assert_true(h.link_up);
	assert_false(h.blue_led);
	assert_int_equal(csr(f, i) & (INS | EXT | LOO), 0);
	assert_non_null(d);
	assert_string_equal(hs_dev_driver_name(d), driver);
	hs_slot_get_info(slot_of(f, i), &si);
	assert_true(si.present);
	assert_true(si.link_up);
	assert_false(si.latch_open);
	assert_int_equal(si.power_ind, HS_IND_ON);
}

/* ---- layout ----------------------------------------------------------------- */

static void test_ha_layout(void **state)
{
	static const struct opts o = { .ha = true };
	struct fx *f = start(&o);
	struct hs_dev *br = hs_dev_find(f->core, BR);
	struct hs_slot_info si;
	unsigned n = 0;

	(void)state;
	assert_non_null(br);
	assert_string_equal(hs_dev_driver_name(br), "cpcihp");
	for (struct hs_slot *s = hs_slot_next(f->core, NULL); s;
	     s = hs_slot_next(f->core, s)) {
		hs_slot_get_info(s, &si);
		assert_string_equal(si.kind, "cpci");
		assert_int_equal(si.phys, HA_PHYS + n);
		assert_int_equal(si.devnum, HA_DEV + n);
		assert_int_equal(si.bridge, BR);
		assert_int_equal(si.caps,
				 HS_SLOT_CAP_POWER | HS_SLOT_CAP_PWR_IND |
				 HS_SLOT_CAP_MRL | HS_SLOT_CAP_LATCH_ASKS |
				 HS_SLOT_CAP_LINK_REPORT);
		assert_int_equal(si.state, HS_SLOT_EMPTY);
		assert_true(si.presence_enables);
		n++;
	}
	assert_int_equal(n, 4);
	stop(f);
}

/* Without the HA block the platform says where the connectors are. */
static void test_no_ha_platform_layout(void **state)
{
	static const struct opts o = { 0 };
	struct fx *f = start(&o);
	struct hs_slot_info si;
	unsigned n = 0;

	(void)state;
	for (struct hs_slot *s = hs_slot_next(f->core, NULL); s;
	     s = hs_slot_next(f->core, s)) {
		hs_slot_get_info(s, &si);
		assert_int_equal(si.devnum, NOHA_DEV + n);
		assert_int_equal(si.phys, NOHA_DEV + n);
		n++;
	}
	assert_int_equal(n, 4);
	stop(f);
}

/* ... and when it does not know either, nothing says: one slot per
 * device number, named by it. */
static void test_no_ha_layout(void **state)
{
	static const struct opts o = { .no_backplane_op = true };
	struct fx *f = start(&o);
	struct hs_slot_info si;
	unsigned n = 0;

	(void)state;
	assert_string_equal(hs_dev_driver_name(hs_dev_find(f->core, BR)),
			    "cpcihp");
	for (struct hs_slot *s = hs_slot_next(f->core, NULL); s;
	     s = hs_slot_next(f->core, s)) {
		hs_slot_get_info(s, &si);
		assert_int_equal(si.devnum, n);
		assert_int_equal(si.phys, n);
		assert_int_equal(si.caps,
				 HS_SLOT_CAP_PWR_IND | HS_SLOT_CAP_MRL |
				 HS_SLOT_CAP_LATCH_ASKS |
				 HS_SLOT_CAP_LINK_REPORT);
		n++;
	}
	assert_int_equal(n, 32);
	stop(f);
}

/* Issue #20: a bridge with the 21154's ids is not a backplane by its ids
 * alone.  With neither the HA block, nor ENUM# or slot wiring from the
 * platform, nor a Hot Swap board behind it, cpcihp leaves it alone: no
 * 32 phantom slots whose numbers clash with real ones. */
static void test_bare_bridge_is_no_backplane(void **state)
{
	static const struct opts o = { .no_backplane_op = true,
				       .no_enum_op = true };
	struct fx *f = start(&o);

	(void)state;
	assert_non_null(hs_dev_find(f->core, BR));
	assert_null(hs_dev_driver(hs_dev_find(f->core, BR)));
	assert_null(hs_slot_next(f->core, NULL));
	stop(f);
}

/* ... but a board with the Hot Swap capability behind it says it is. */
static void test_hotswap_board_makes_backplane(void **state)
{
	static const struct opts o = { .no_backplane_op = true,
				       .no_enum_op = true,
				       .cold = { [1] = &pci_nic } };
	struct fx *f = start(&o);
	unsigned n = 0;

	(void)state;
	assert_string_equal(hs_dev_driver_name(hs_dev_find(f->core, BR)),
			    "cpcihp");
	for (struct hs_slot *s = hs_slot_next(f->core, NULL); s;
	     s = hs_slot_next(f->core, s))
		n++;
	assert_int_equal(n, 32);
	stop(f);
}

/* ---- insertion ---------------------------------------------------------------- */

static void insert_comes_up(const struct opts *o)
{
	struct fx *f = start(o);
	hs_time_t t0;

	run(f, HS_MSEC(100));
	mark(f);
	assert_int_equal(sim_insert(f->slot[1], &pci_nic), 0);
	t0 = sim_now(f->t.sim);
	if (!f->ha)
		/* Powered by the backplane, out of reset: INS, ENUM#. */
		assert_int_equal(csr(f, 1) & INS, INS);
	assert_true(until(f, 1, HS_SLOT_ON, HS_SEC(2)));
	/* ENUM# (or the HA presence interrupt): no waiting for a poll. */
	assert_true(sim_now(f->t.sim) - t0 < HS_MSEC(100));
	run(f, HS_MSEC(5));
	assert_up(f, 1, "simnet");
	EXPECT(f, "empty>off: card inserted", ">powering-on",
	       "added 01:0", "bound 01:0", "simnet", "powering-on>on");
	assert_false(logged(f, "alert"));
	stop(f);
}

static void test_insert_configures_and_led_off(void **state)
{
	static const struct opts o = { 0 };

	(void)state;
	insert_comes_up(&o);
}

static void test_ha_insert_powers_and_configures(void **state)
{
	static const struct opts o = { .ha = true };

	(void)state;
	insert_comes_up(&o);
}

/* Policy: only on request.  The board waits, the blue LED lit (safe to
 * remove), until the operator enables it. */
static void test_request_policy_leaves_led_lit(void **state)
{
	static const struct opts o = { .policy = HS_SLOT_POLICY_REQUEST };
	struct fx *f = start(&o);

	(void)state;
	assert_int_equal(sim_insert(f->slot[0], &pci_disk), 0);
	run(f, HS_MSEC(200));
	assert_int_equal(sstate(f, 0), HS_SLOT_OFF);
	assert_true(hw(f, 0).blue_led);
	assert_int_equal(csr(f, 0) & INS, 0);
	assert_null(card_dev(f, 0));
	assert_int_equal(hs_slot_enable(slot_of(f, 0), on_done, NULL), 0);
	assert_true(until(f, 0, HS_SLOT_ON, HS_SEC(1)));
	run(f, HS_MSEC(5));
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->done_rc, 0);
	assert_up(f, 0, "simstor");
	stop(f);
}

/* ---- extraction --------------------------------------------------------------- */

static void ejector_removal(const struct opts *o)
{
	struct fx *f = start(o);
	struct simcard_ledger *l = simcard_ledger();

	assert_int_equal(sim_insert(f->slot[0], &pci_nic), 0);
	assert_true(until(f, 0, HS_SLOT_ON, HS_SEC(2)));
	run(f, HS_MSEC(5));
	assert_up(f, 0, "simnet");
	mark(f);
	assert_int_equal(simcard_submit(card_dev(f, 0), 4), 4);
	/* The operator opens the ejector handle: a request to remove. */
	assert_int_equal(sim_set_latch(f->slot[0], true), 0);
	assert_true(until(f, 0, HS_SLOT_OFF, HS_SEC(2)));
	run(f, HS_MSEC(5));
	EXPECT(f, "state", "on>powering-off", "unbound 01:", "simnet",
	       "removed 01:", "powering-off>off");
	assert_false(logged(f, "alert"));
	assert_null(card_dev(f, 0));
	assert_int_equal(l->submitted, l->completed + l->failed);
	assert_true(hw(f, 0).present);
	if (f->ha) {
		/* The LED was lit, then the slot's power went off: the
		 * board's early power keeps it lit (PICMG 2.1: safe to
		 * extract).  Lit afterwards proves nothing (early power
		 * lights it anyway), so it is checked at the switch. */
		assert_int_equal(f->power_offs[0], 1);
		assert_true(f->lit_at_power_off[0]);
		assert_false(hw(f, 0).powered);
		assert_false(hw(f, 0).link_up);
		assert_true(hw(f, 0).blue_led);
	} else {
		/* Safe to pull: the blue LED says so. */
		assert_true(hw(f, 0).blue_led);
		assert_true(hw(f, 0).powered);
		assert_int_equal(csr(f, 0) & (INS | EXT), 0);
	}
	{
		struct hs_slot_info si;

		hs_slot_get_info(slot_of(f, 0), &si);
		assert_int_equal(si.power_ind, HS_IND_OFF);
		/* The handle was opened to ask for the extraction; powered
		 * off, the board cannot say otherwise: open as last seen. */
		assert_true(si.latch_open);
	}
	/* Changing one's mind: the handle closes again. */
	assert_int_equal(sim_set_latch(f->slot[0], false), 0);
	if (f->ha) {
		/* An unpowered board's handle goes unnoticed: the
		 * operator asks. */
		run(f, HS_MSEC(100));
		assert_int_equal(sstate(f, 0), HS_SLOT_OFF);
		assert_int_equal(hs_slot_enable(slot_of(f, 0), on_done, NULL),
				 0);
	}
	assert_true(until(f, 0, HS_SLOT_ON, HS_SEC(2)));
	run(f, HS_MSEC(5));
	assert_up(f, 0, "simnet");
	/* It stays up: the open handle of before is forgotten. */
	run(f, HS_SEC(2));
	assert_up(f, 0, "simnet");
	/* Out again, and pulled once the LED is lit: no alert. */
	assert_int_equal(sim_set_latch(f->slot[0], true), 0);
	assert_true(until(f, 0, HS_SLOT_OFF, HS_SEC(2)));
	assert_int_equal(sim_remove(f->slot[0], SIM_REMOVE_ORDERLY), 0);
	/* Found by the poll (or the HA presence interrupt). */
	assert_true(until(f, 0, HS_SLOT_EMPTY, HS_MSEC(1100)));
	assert_false(logged(f, "alert"));
	assert_false(logged(f, "improperly"));
	stop(f);
}

static void test_ejector_removal(void **state)
{
	static const struct opts o = { 0 };

	(void)state;
	ejector_removal(&o);
}

static void test_ha_ejector_removal_powers_off(void **state)
{
	static const struct opts o = { .ha = true };

	(void)state;
	ejector_removal(&o);
}

static void test_ha_ejector_removal_polled(void **state)
{
	static const struct opts o = { .ha = true, .poll = true };

	(void)state;
	ejector_removal(&o);
}

/* Polled, the handle opened the moment the board is up: INS must be
 * acknowledged by then, or the hardware would not set EXT. */
static void test_ha_polled_ejector_right_after_up(void **state)
{
	static const struct opts o = { .ha = true, .poll = true };
	struct fx *f = start(&o);

	(void)state;
	assert_int_equal(sim_insert(f->slot[1], &pci_disk), 0);
	assert_true(until(f, 1, HS_SLOT_ON, HS_MSEC(1200)));
	assert_int_equal(csr(f, 1) & INS, 0);
	assert_int_equal(sim_set_latch(f->slot[1], true), 0);
	assert_int_equal(csr(f, 1) & EXT, EXT);
	assert_true(until(f, 1, HS_SLOT_OFF, HS_MSEC(1200)));
	run(f, HS_MSEC(5));
	assert_null(card_dev(f, 1));
	assert_false(hw(f, 1).powered);
	assert_int_equal(f->power_offs[1], 1);
	assert_true(f->lit_at_power_off[1]);
	assert_false(logged(f, "alert"));
	stop(f);
}

/* Pulled while in use, the ejector opened and the board out in one
 * go: its configuration reads come back all ones. */
static void pulled_before_led(const struct opts *o, enum sim_remove_how how,
			      hs_time_t within)
{
	struct fx *f = start(o);

	assert_int_equal(sim_insert(f->slot[2], &pci_disk), 0);
	assert_true(until(f, 2, HS_SLOT_ON, HS_SEC(2)));
	run(f, HS_MSEC(5));
	assert_int_equal(simcard_submit(card_dev(f, 2), 3), 3);
	mark(f);
	assert_int_equal(sim_remove(f->slot[2], how), 0);
	assert_true(until(f, 2, HS_SLOT_EMPTY, within));
	run(f, HS_MSEC(5));
	EXPECT(f, "removed 01:",
	       "surprise removal: card removed while in use (board reads "
	       "all ones: improperly removed)",
	       ">empty");
	assert_null(card_dev(f, 2));
	assert_int_equal(simcard_ledger()->submitted,
			 simcard_ledger()->completed + simcard_ledger()->failed);
	stop(f);
}

static void test_pulled_before_led_is_lit(void **state)
{
	static const struct opts o = { 0 };

	(void)state;
	/* The handle opening raises ENUM#: seen at once. */
	pulled_before_led(&o, SIM_REMOVE_ORDERLY, HS_MSEC(50));
}

static void test_surprise_pull_found_by_polling(void **state)
{
	static const struct opts o = { 0 };

	(void)state;
	/* Nothing raises ENUM#: the poll finds it within its period. */
	pulled_before_led(&o, SIM_REMOVE_SURPRISE, HS_MSEC(1100));
}

static void test_ha_pull_interrupts(void **state)
{
	static const struct opts o = { .ha = true };

	(void)state;
	/* BD_SEL# opening raises the HA presence interrupt. */
	pulled_before_led(&o, SIM_REMOVE_SURPRISE, HS_MSEC(50));
}

/* ---- start-up ------------------------------------------------------------------- */

static void cold_boards(const struct opts *o)
{
	struct fx *f = start(o);

	run(f, HS_MSEC(50));
	assert_up(f, 0, "simnet");
	assert_up(f, 3, "simstor");
	assert_int_equal(sstate(f, 1), HS_SLOT_EMPTY);
	/* Nothing torn down or re-done. */
	assert_true(logged(f, "on>on: controller started"));
	assert_false(logged(f, "removed"));
	assert_false(logged(f, ">powering"));
	assert_false(logged(f, "alert"));
	assert_int_equal(simcard_ledger()->probes, 2);
	run(f, HS_SEC(3));
	assert_up(f, 0, "simnet");
	assert_up(f, 3, "simstor");
	assert_false(logged(f, "removed"));
	/* The ejector of a board found at start asks for its removal. */
	mark(f);
	assert_int_equal(sim_set_latch(f->slot[3], true), 0);
	assert_true(until(f, 3, HS_SLOT_OFF, HS_MSEC(1100)));
	EXPECT(f, "on>powering-off", "unbound 01:", "removed 01:",
	       "powering-off>off");
	assert_false(logged(f, "alert"));
	/* The blue LED: lit by the time the board is safe to pull (HA:
	 * before its slot power went off). */
	if (f->ha) {
		assert_int_equal(f->power_offs[3], 1);
		assert_true(f->lit_at_power_off[3]);
	} else {
		assert_true(hw(f, 3).blue_led);
	}
	stop(f);
}

static void test_boards_present_at_start(void **state)
{
	static const struct opts o = { .cold = { &pci_nic, NULL, NULL,
						 &pci_disk } };

	(void)state;
	cold_boards(&o);
}

static void test_ha_boards_present_at_start(void **state)
{
	static const struct opts o = { .ha = true,
				       .cold = { &pci_nic, NULL, NULL,
						 &pci_disk } };

	(void)state;
	cold_boards(&o);
}

static void test_boards_present_at_start_polled(void **state)
{
	static const struct opts o = { .poll = true,
				       .cold = { &pci_nic, NULL, NULL,
						 &pci_disk } };

	(void)state;
	cold_boards(&o);
}

/* ---- notification ------------------------------------------------------------- */

static void insert_found_by_polling(const struct opts *o)
{
	struct fx *f = start(o);
	struct sim_counters c0, c1;
	hs_time_t t0;

	run(f, HS_MSEC(100));
	sim_get_counters(f->t.sim, &c0);
	assert_int_equal(sim_insert(f->slot[0], &pci_nic), 0);
	t0 = sim_now(f->t.sim);
	assert_true(until(f, 0, HS_SLOT_ON, HS_MSEC(1200)));
	assert_true(sim_now(f->t.sim) - t0 > HS_MSEC(500));
	run(f, HS_MSEC(5));
	assert_up(f, 0, "simnet");
	/* ENUM# went active but nobody listened. */
	sim_get_counters(f->t.sim, &c1);
	assert_int_equal(c1.irq_delivered, c0.irq_delivered);
	assert_int_equal(sim_set_latch(f->slot[0], true), 0);
	assert_true(until(f, 0, HS_SLOT_OFF, HS_MSEC(1200)));
	run(f, HS_MSEC(5));
	assert_null(card_dev(f, 0));
	assert_true(hw(f, 0).blue_led);
	assert_false(logged(f, "alert"));
	stop(f);
}

static void test_polled_mode(void **state)
{
	static const struct opts o = { .poll = true };

	(void)state;
	insert_found_by_polling(&o);
}

/* Interrupts asked for, but the platform did not wire ENUM#. */
static void test_no_enum_line_polls(void **state)
{
	static const struct opts o = { .no_enum_op = true };

	(void)state;
	insert_found_by_polling(&o);
}

static void test_enum_line_shared_by_two_segments(void **state)
{
	static const struct opts o = { .second = true };
	struct fx *f = start(&o);
	struct hs_slot *s5;
	hs_time_t t0;

	(void)state;
	run(f, HS_MSEC(100));
	/* The second segment's device 5: its board raises the line the
	 * first segment's driver holds. */
	s5 = hs_slot_find(f->core, "5");
	assert_non_null(s5);
	{
		struct hs_slot_info si;

		hs_slot_get_info(s5, &si);
		assert_int_equal(si.bridge, BR2);
		assert_int_equal(si.devnum, 5);
	}
	assert_int_equal(sim_insert(f->other, &pci_nic), 0);
	t0 = sim_now(f->t.sim);
	assert_true(until_slot(f, s5, HS_SLOT_ON, HS_SEC(2)));
	assert_true(sim_now(f->t.sim) - t0 < HS_MSEC(100));
	/* And the first's. */
	assert_int_equal(sim_insert(f->slot[0], &pci_disk), 0);
	t0 = sim_now(f->t.sim);
	assert_true(until(f, 0, HS_SLOT_ON, HS_SEC(2)));
	assert_true(sim_now(f->t.sim) - t0 < HS_MSEC(100));
	/* Both at once. */
	assert_int_equal(sim_set_latch(f->other, true), 0);
	assert_int_equal(sim_set_latch(f->slot[0], true), 0);
	t0 = sim_now(f->t.sim);
	assert_true(until_slot(f, s5, HS_SLOT_OFF, HS_SEC(2)));
	assert_true(until(f, 0, HS_SLOT_OFF, HS_SEC(2)));
	assert_true(sim_now(f->t.sim) - t0 < HS_MSEC(100));
	assert_false(logged(f, "alert"));
	stop(f);
}

/* HA: HEALTHY# drops on a running board.  Nothing interrupts for it;
 * the poll finds it. */
static void test_ha_power_fault(void **state)
{
	static const struct opts o = { .ha = true };
	struct fx *f = start(&o);
	struct hs_slot_info si;

	(void)state;
	assert_int_equal(sim_insert(f->slot[0], &pci_nic), 0);
	assert_true(until(f, 0, HS_SLOT_ON, HS_SEC(2)));
	mark(f);
	assert_int_equal(sim_inject_power_fault(f->slot[0]), 0);
	assert_true(until(f, 0, HS_SLOT_FAULT, HS_MSEC(1100)));
	run(f, HS_MSEC(5));
	EXPECT(f, "removed 01:", "alert 20 surprise removal: power fault",
	       "state 20 on>fault", "alert 20 power fault");
	/* Seated but unpowered is not "removed". */
	assert_false(logged(f, "improperly"));
	assert_null(card_dev(f, 0));
	hs_slot_get_info(slot_of(f, 0), &si);
	assert_false(si.powered);  /* switched off */
	assert_int_equal(hs_slot_enable(slot_of(f, 0), on_done, NULL),
			 -HS_EPERM);
	/* The board goes; a good one comes up. */
	assert_int_equal(sim_remove(f->slot[0], SIM_REMOVE_SURPRISE), 0);
	assert_true(until(f, 0, HS_SLOT_EMPTY, HS_MSEC(100)));
	assert_int_equal(sim_insert(f->slot[0], &pci_nic), 0);
	assert_true(until(f, 0, HS_SLOT_ON, HS_SEC(2)));
	run(f, HS_MSEC(5));
	assert_up(f, 0, "simnet");
	stop(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ha_layout),
		cmocka_unit_test(test_no_ha_platform_layout),
		cmocka_unit_test(test_no_ha_layout),
		cmocka_unit_test(test_bare_bridge_is_no_backplane),
		cmocka_unit_test(test_hotswap_board_makes_backplane),
		cmocka_unit_test(test_insert_configures_and_led_off),
		cmocka_unit_test(test_ha_insert_powers_and_configures),
		cmocka_unit_test(test_request_policy_leaves_led_lit),
		cmocka_unit_test(test_ejector_removal),
		cmocka_unit_test(test_ha_ejector_removal_powers_off),
		cmocka_unit_test(test_ha_ejector_removal_polled),
		cmocka_unit_test(test_ha_polled_ejector_right_after_up),
		cmocka_unit_test(test_pulled_before_led_is_lit),
		cmocka_unit_test(test_surprise_pull_found_by_polling),
		cmocka_unit_test(test_ha_pull_interrupts),
		cmocka_unit_test(test_boards_present_at_start),
		cmocka_unit_test(test_ha_boards_present_at_start),
		cmocka_unit_test(test_boards_present_at_start_polled),
		cmocka_unit_test(test_polled_mode),
		cmocka_unit_test(test_no_enum_line_polls),
		cmocka_unit_test(test_enum_line_shared_by_two_segments),
		cmocka_unit_test(test_ha_power_fault),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
