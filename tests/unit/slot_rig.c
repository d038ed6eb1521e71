/*
 * slot_rig.c - chassis and verbs for the slot scenarios (slot_rig.h).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slot_rig.h"
#include "hotswap/hpc.h"
#include "simcard.h"

const char *const rig_kind_name[RIG_KINDS] = { "pcie", "shpc", "cpci" };

static const unsigned phys_of[RIG_KINDS] = { 1, 10, 20 };

static void on_event(void *arg, const struct hs_event *ev)
{
	struct rig *r = arg;
	size_t n;

	switch (ev->type) {
	case HS_EV_DEV_ADDED:
		r->added++;
		break;
	case HS_EV_DEV_REMOVED:
		r->removed++;
		break;
	case HS_EV_DRIVER_BOUND:
		r->bound++;
		break;
	case HS_EV_SLOT_STATE:
		if (ev->slot != (int)phys_of[r->kind] || ev->from == ev->to)
			break;
		n = strlen(r->trace);
		snprintf(r->trace + n, sizeof(r->trace) - n, ">%s",
			 hs_slot_state_name((enum hs_slot_state)ev->to));
		r->t_state[ev->to] = ev->time;
		break;
	case HS_EV_SLOT_ALERT:
		if (ev->slot != (int)phys_of[r->kind])
			break;
		n = strlen(r->alerts);
		snprintf(r->alerts + n, sizeof(r->alerts) - n, "%s|",
			 ev->msg ? ev->msg : "?");
		break;
	default:
		break;
	}
}

static void print_log(void *arg, enum hs_log_level lvl, const char *line)
{
	struct rig *r = arg;

	fprintf(stderr, "[%10.3f ms] %d %s\n",
		(double)sim_now(r->t.sim) / 1e6, (int)lvl, line);
}

void rig_build(struct rig *r, enum rig_kind kind, const struct rig_opts *o)
{
	struct sim_bus *root;
	struct sim_fn *fn;
	int err = 0;

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	tu_init(&r->t, NULL);
	if (getenv("RIG_LOG"))
		sim_set_log(r->t.sim, print_log, r);
	root = sim_root_bus(r->t.sim);
	switch (kind) {
	case RIG_PCIE: {
		struct sim_port_spec ps;

		memset(&ps, 0, sizeof(ps));
		ps.type = SIM_PORT_ROOT;
		ps.vendor = 0x8086;
		ps.device = 0x7c00;
		ps.has_slot = true;
		ps.phys_slot = (uint16_t)phys_of[kind];
		sim_slot_features_default(&ps.slot);
		ps.slot.attention_button = !o->no_button;
		ps.slot.power_controller = !o->no_power_ctl;
		ps.slot.dll_active_reporting = !o->no_dllla;
		ps.slot.no_cmd_completed = o->nccs;
		ps.slot.interlock = o->interlock;
		ps.slot.mrl_sensor = !o->no_mrl;
		if (o->cmd_delay_us)
			ps.slot.cmd_delay_us = o->cmd_delay_us;
		fn = sim_add_pcie_port(root, 1, 0, &ps, &err);
		assert_non_null(fn);
		r->slot = sim_fn_slot(fn);
		break;
	}
	case RIG_SHPC: {
		struct sim_shpc_spec ss;

		memset(&ss, 0, sizeof(ss));
		ss.vendor = 0x8086;
		ss.device = 0x0329;
		ss.nslots = 2;
		ss.first_dev = 1;
		ss.first_phys = (uint16_t)phys_of[kind];
		ss.attention_button = true;
		ss.mrl_sensor = true;
		ss.cmd_delay_us = o->cmd_delay_us ? o->cmd_delay_us : 1000;
		if (o->shpc_behind_bridge) {
			fn = sim_add_pci_bridge(root, 2, 0, 0x8086, 0x244e,
						&err);
			assert_non_null(fn);
			fn = sim_add_shpc_bridge(sim_fn_secondary(fn), 0, 0,
						 &ss, &err);
		} else {
			fn = sim_add_shpc_bridge(root, 2, 0, &ss, &err);
		}
		assert_non_null(fn);
		r->slot = sim_slot_by_phys(r->t.sim, phys_of[kind]);
		r->slot2 = sim_slot_by_phys(r->t.sim, phys_of[kind] + 1);
		break;
	}
	default: {
		struct sim_cpci_spec cs;

		memset(&cs, 0, sizeof(cs));
		cs.vendor = 0x8086;
		cs.device = 0xb154;
		cs.nslots = 2;
		cs.first_dev = 1;
		cs.first_phys = (uint16_t)phys_of[kind];
		cs.power_control = !o->cpci_no_ha;
		cs.enum_line = 40;
		fn = sim_add_cpci_segment(root, 3, 0, &cs, &err);
		assert_non_null(fn);
		r->slot = sim_slot_by_phys(r->t.sim, phys_of[kind]);
		r->slot2 = sim_slot_by_phys(r->t.sim, phys_of[kind] + 1);
		break;
	}
	}
	assert_non_null(r->slot);
}

void rig_start(struct rig *r, const struct rig_opts *o)
{
	struct hs_core_params p;

	hs_core_params_defaults(&p);
	p.slot_poll = o->poll;
	p.slot_policy = o->policy;
	p.authorize = o->authorize;
	p.authorize_arg = o->authorize_arg;
	assert_int_equal(hs_core_create(&r->t.plat, &p, &r->core), 0);
	hs_core_enable_rebalance(r->core);
	assert_int_equal(hs_controllers_register(r->core), 0);
	assert_int_equal(hs_driver_register(r->core, &simnet_driver), 0);
	assert_int_equal(hs_driver_register(r->core, &simstor_driver), 0);
	assert_int_equal(hs_core_subscribe(r->core, on_event, r), 0);
	assert_int_equal(hs_core_enumerate(r->core), 0);
	r->trace[0] = '\0';
	r->alerts[0] = '\0';
	r->added = r->removed = r->bound = 0;
	rig_run(r, 0);
	r->hs = hs_slot_by_phys(r->core, phys_of[r->kind]);
	assert_non_null(r->hs);
	snprintf(r->trace, sizeof(r->trace), "%s",
		 hs_slot_state_name(rig_state(r)));
}

void rig_init(struct rig *r, enum rig_kind kind, const struct rig_opts *o)
{
	simcard_ledger_reset();
	rig_build(r, kind, o);
	rig_start(r, o);
}

void rig_stop(struct rig *r)
{
	hs_core_destroy(r->core);
	r->core = NULL;
	r->hs = NULL;
}

void rig_fini(struct rig *r)
{
	if (r->core)
		rig_stop(r);
	tu_fini(&r->t);
}

bool rig_has(const struct rig *r, unsigned cap)
{
	struct hs_slot_info si;

	hs_slot_get_info(r->hs, &si);
	return (si.caps & cap) != 0;
}

void rig_run(struct rig *r, hs_time_t delta)
{
	sim_advance(r->t.sim, delta);
}

enum hs_slot_state rig_state(const struct rig *r)
{
	struct hs_slot_info si;

	hs_slot_get_info(r->hs, &si);
	return si.state;
}

bool rig_until(struct rig *r, enum hs_slot_state s, hs_time_t limit)
{
	hs_time_t end = sim_now(r->t.sim) + limit, when;

	/* Everything due now first, then event by event. */
	sim_advance(r->t.sim, 0);
	while (rig_state(r) != s) {
		if (!sim_next_event(r->t.sim, &when) || when > end) {
			sim_advance(r->t.sim, end - sim_now(r->t.sim));
			return rig_state(r) == s;
		}
		sim_step(r->t.sim);
	}
	return true;
}

void rig_info(const struct rig *r, struct sim_slot_info *hw,
	      struct hs_slot_info *sw)
{
	if (hw)
		sim_slot_get_info(r->slot, hw);
	if (sw)
		hs_slot_get_info(r->hs, sw);
}

void rig_insert(struct rig *r, const struct sim_card_spec *card)
{
	assert_int_equal(sim_insert(r->slot, card), 0);
}

void rig_pull(struct rig *r, bool orderly)
{
	assert_int_equal(sim_remove(r->slot, orderly ? SIM_REMOVE_ORDERLY
						     : SIM_REMOVE_SURPRISE), 0);
}

void rig_ask_removal(struct rig *r)
{
	if (r->kind == RIG_CPCI)
		assert_int_equal(sim_set_latch(r->slot, true), 0);
	else
		assert_int_equal(sim_press_button(r->slot), 0);
}

void rig_bring_up(struct rig *r, const struct sim_card_spec *card)
{
	rig_insert(r, card);
	rig_run(r, HS_MSEC(50));
	if (rig_state(r) == HS_SLOT_OFF) {
		assert_true(rig_has(r, HS_SLOT_CAP_BUTTON));
		assert_int_equal(sim_press_button(r->slot), 0);
	}
	assert_true(rig_until(r, HS_SLOT_ON, HS_SEC(10)));
}

static void done_cb(void *arg, int rc, const char *msg)
{
	struct rig *r = arg;

	r->done_called = true;
	r->done_rc = rc;
	snprintf(r->done_msg, sizeof(r->done_msg), "%s", msg ? msg : "");
}

static void reset_done(struct rig *r)
{
	r->done_called = false;
	r->done_rc = 1;
	r->done_msg[0] = '\0';
}

int rig_enable(struct rig *r)
{
	reset_done(r);
	return hs_slot_enable(r->hs, done_cb, r);
}

int rig_disable(struct rig *r)
{
	reset_done(r);
	return hs_slot_disable(r->hs, done_cb, r);
}

int rig_connect(struct rig *r)
{
	reset_done(r);
	return hs_slot_connect(r->hs, done_cb, r);
}

int rig_unconfigure(struct rig *r)
{
	reset_done(r);
	return hs_slot_unconfigure(r->hs, done_cb, r);
}

int rig_replace(struct rig *r)
{
	reset_done(r);
	return hs_slot_replace(r->hs, done_cb, r);
}

struct hs_dev *rig_dev(struct rig *r)
{
	struct hs_slot_info si;

	hs_slot_get_info(r->hs, &si);
	for (struct hs_dev *d = hs_dev_next(r->core, NULL); d;
	     d = hs_dev_next(r->core, d)) {
		struct hs_dev *p = hs_dev_parent(d);

		if (p && hs_dev_bdf(p) == si.bridge &&
		    HS_BDF_DEV(hs_dev_bdf(d)) == si.devnum &&
		    HS_BDF_FN(hs_dev_bdf(d)) == 0)
			return d;
	}
	return NULL;
}

void rig_assert_clean(struct rig *r)
{
	const struct simcard_ledger *l = simcard_ledger();

	assert_null(rig_dev(r));
	/* Every request ended, completed or failed: none lost. */
	assert_int_equal(l->submitted, l->completed + l->failed);
}

static void evlog_add(struct evlog *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void evlog_add(struct evlog *l, const char *fmt, ...)
{
	size_t n = strlen(l->log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->log + n, sizeof(l->log) - n, fmt, ap);
	va_end(ap);
}

void evlog_event(void *arg, const struct hs_event *ev)
{
	static const char *const dev_kind[] = {
		[HS_EV_DEV_ADDED] = "added", [HS_EV_DEV_REMOVED] = "removed",
		[HS_EV_DRIVER_BOUND] = "bound",
		[HS_EV_DRIVER_UNBOUND] = "unbound",
		[HS_EV_DEV_BLOCKED] = "blocked",
		[HS_EV_DEV_AUTHORIZED] = "authorized",
		[HS_EV_DEV_MOVED] = "moved",
		[HS_EV_WINDOW_CHANGED] = "windows",
	};
	struct evlog *l = arg;

	switch (ev->type) {
	case HS_EV_SLOT_STATE:
		evlog_add(l, "state %s %s>%s%s%s\n", ev->slot_name,
			  hs_slot_state_name((enum hs_slot_state)ev->from),
			  hs_slot_state_name((enum hs_slot_state)ev->to),
			  ev->msg ? ": " : "", ev->msg ? ev->msg : "");
		break;
	case HS_EV_SLOT_ALERT:
		evlog_add(l, "alert %s %s\n", ev->slot_name,
			  ev->msg ? ev->msg : "");
		break;
	case HS_EV_DEV_ADDED:
	case HS_EV_DEV_REMOVED:
	case HS_EV_DRIVER_BOUND:
	case HS_EV_DRIVER_UNBOUND:
	case HS_EV_DEV_BLOCKED:
	case HS_EV_DEV_AUTHORIZED:
	case HS_EV_DEV_MOVED:
	case HS_EV_WINDOW_CHANGED:
		evlog_add(l, "%s %02x:%02x.%u%s%s\n", dev_kind[ev->type],
			  HS_BDF_BUS(ev->bdf), HS_BDF_DEV(ev->bdf),
			  HS_BDF_FN(ev->bdf), ev->driver ? " " : "",
			  ev->driver ? ev->driver : "");
		break;
	default:
		break;
	}
}

void evlog_expect_seq(struct evlog *l, const char *const *want)
{
	size_t at = l->at;

	for (; *want; want++) {
		const char *p = strstr(l->log + at, *want);

		if (!p) {
			print_error("expected \"%s\" after offset %zu in:\n%s\n",
				    *want, at, l->log);
			fail();
		}
		at = (size_t)(p - l->log) + strlen(*want);
	}
	l->at = at;
}

bool evlog_has(const struct evlog *l, const char *what)
{
	return strstr(l->log, what) != NULL;
}

void evlog_mark(struct evlog *l)
{
	l->at = strlen(l->log);
}

void rig_assert_trace(const struct rig *r, const char *expect)
{
	if (strcmp(r->trace, expect) != 0) {
		print_error("%s slot: trace\n  got  %s\n  want %s\n  alerts %s\n",
			    rig_kind_name[r->kind], r->trace, expect, r->alerts);
		fail();
	}
}
