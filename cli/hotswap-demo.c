/*
 * hotswap-demo - an operator's afternoon on the simulated chassis.
 *
 * Owns: the scripted demonstration the README's main command runs.  It
 * loads a chassis (the default lab chassis unless a topology file is
 * given), boots the core with the three controller drivers and the
 * simulator's card drivers, then plays a session of insertions,
 * removals, a veto, a cancelled button press, a CompactPCI extraction,
 * a board pulled without asking and a power fault, printing every slot
 * and device event against the virtual clock.  Everything happens
 * through simulated registers; nothing is faked.
 *
 * With --table it prints the slot state table (docs/slots.md carries the
 * same table; tests/cli/slot_table.sh keeps them equal).
 *
 * Exit status: 0 ok, 1 a step did not do what it should, 2 bad usage or
 * topology.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotswap/hpc.h"
#include "simcard.h"
#include "sim.h"
#include "topology.h"

struct demo {
	struct sim_topology *topo;
	struct sim *sim;
	struct hs_platform plat;
	struct hs_core *core;
	bool quiet_devices;
	int failures;
};

static const char *kind_name(enum hs_event_type t)
{
	switch (t) {
	case HS_EV_DEV_ADDED:
		return "added";
	case HS_EV_DEV_REMOVED:
		return "removed";
	case HS_EV_DRIVER_BOUND:
		return "bound";
	case HS_EV_DRIVER_UNBOUND:
		return "unbound";
	case HS_EV_DEV_ISOLATED:
		return "isolated";
	default:
		return "?";
	}
}

static void on_event(void *arg, const struct hs_event *ev)
{
	struct demo *d = arg;
	double t = (double)sim_now(d->sim) / 1e9;

	switch (ev->type) {
	case HS_EV_SLOT_STATE:
		if (ev->from == ev->to)
			break;
		printf("  [%10.6f s] slot %-4s %s -> %s%s%s\n", t, ev->slot_name,
		       hs_slot_state_name((enum hs_slot_state)ev->from),
		       hs_slot_state_name((enum hs_slot_state)ev->to),
		       ev->msg ? ": " : "", ev->msg ? ev->msg : "");
		break;
	case HS_EV_SLOT_ALERT:
		printf("  [%10.6f s] slot %-4s ALERT %s\n", t, ev->slot_name,
		       ev->msg);
		break;
	default:
		if (d->quiet_devices)
			break;
		printf("  [%10.6f s]   %02x:%02x.%u %04x:%04x %s%s%s\n", t,
		       HS_BDF_BUS(ev->bdf), HS_BDF_DEV(ev->bdf),
		       HS_BDF_FN(ev->bdf), ev->vendor, ev->device,
		       kind_name(ev->type), ev->driver ? " " : "",
		       ev->driver ? ev->driver : "");
		break;
	}
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	va_list ap;

	printf("\n* ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void run(struct demo *d, hs_time_t delta)
{
	sim_advance(d->sim, delta);
}

static struct hs_slot *slot(struct demo *d, unsigned phys)
{
	return hs_slot_by_phys(d->core, phys);
}

static enum hs_slot_state state_of(struct demo *d, unsigned phys)
{
	struct hs_slot_info si;

	hs_slot_get_info(slot(d, phys), &si);
	return si.state;
}

static void expect(struct demo *d, unsigned phys, enum hs_slot_state s)
{
	if (state_of(d, phys) != s) {
		fprintf(stderr, "hotswap-demo: slot %u is %s, expected %s\n",
			phys, hs_slot_state_name(state_of(d, phys)),
			hs_slot_state_name(s));
		d->failures++;
	}
}

static struct hs_dev *dev_in(struct demo *d, unsigned phys)
{
	struct hs_slot_info si;

	hs_slot_get_info(slot(d, phys), &si);
	for (struct hs_dev *v = hs_dev_next(d->core, NULL); v;
	     v = hs_dev_next(d->core, v)) {
		struct hs_dev *p = hs_dev_parent(v);

		if (p && hs_dev_bdf(p) == si.bridge &&
		    HS_BDF_DEV(hs_dev_bdf(v)) == si.devnum)
			return v;
	}
	return NULL;
}

static const char *ind(enum hs_indicator i)
{
	return i == HS_IND_ON ? "on" : i == HS_IND_BLINK ? "blink" : "off";
}

static void print_slots(struct demo *d)
{
	printf("  %-5s %-5s %-13s %-6s %-5s %-5s %s\n", "slot", "kind",
	       "state", "power", "pwr", "attn", "card");
	for (struct hs_slot *s = hs_slot_next(d->core, NULL); s;
	     s = hs_slot_next(d->core, s)) {
		struct hs_slot_info si;
		struct sim_slot_info hw = { 0 }; /* no simulator slot: blank */
		struct sim_slot *ss;

		hs_slot_get_info(s, &si);
		ss = sim_slot_by_phys(d->sim, si.phys);
		if (ss)
			sim_slot_get_info(ss, &hw);
		printf("  %-5s %-5s %-13s %-6s %-5s %-5s %s\n", si.name,
		       si.kind, hs_slot_state_name(si.state),
		       si.powered ? "on" : "off",
		       si.kind[0] == 'c' ? (hw.blue_led ? "blue" : "-")
					 : ind(si.power_ind),
		       ind(si.attn_ind), ss && hw.card ? hw.card : "-");
	}
}

static void done_print(void *arg, int rc, const char *msg)
{
	(void)arg;
	if (rc)
		printf("  -> request failed: %s (%s)\n", strerror(-rc), msg);
	else
		printf("  -> request done\n");
}

static int insert(struct demo *d, unsigned phys, const char *card)
{
	const struct sim_card_spec *c = sim_topology_card(d->topo, card);
	struct sim_slot *s = sim_slot_by_phys(d->sim, phys);

	if (!c || !s || sim_insert(s, c)) {
		fprintf(stderr, "hotswap-demo: cannot insert %s in slot %u\n",
			card, phys);
		d->failures++;
		return -1;
	}
	return 0;
}

static void session(struct demo *d)
{
	const struct simcard_ledger *l = simcard_ledger();
	struct sim_slot *s;
	struct hs_dev *v;

	say("The chassis boots; hotswap enumerates it and starts its slots.");
	run(d, HS_MSEC(100));
	print_slots(d);

	d->quiet_devices = false;
	say("A 4-port NIC goes into PCIe slot 2; the operator presses the "
	    "attention button.\n  The power indicator blinks for 5 s (a "
	    "second press would cancel), then the slot powers on,\n  the "
	    "link trains, 100 ms later the card is configured and its "
	    "driver bound.");
	if (insert(d, 2, "nic-4port"))
		return;
	run(d, HS_MSEC(100));
	sim_press_button(sim_slot_by_phys(d->sim, 2));
	run(d, HS_SEC(6));
	expect(d, 2, HS_SLOT_ON);

	say("The operator presses the button on slot 2 again and changes "
	    "their mind 2 s later.");
	sim_press_button(sim_slot_by_phys(d->sim, 2));
	run(d, HS_SEC(2));
	sim_press_button(sim_slot_by_phys(d->sim, 2));
	run(d, HS_SEC(6));
	expect(d, 2, HS_SLOT_ON);

	say("The operator asks to remove the NVMe drive in slot 3 while a "
	    "filesystem on it is mounted.");
	v = dev_in(d, 3);
	if (v)
		simcard_set_busy(v, "a filesystem on it is mounted");
	hs_slot_disable(slot(d, 3), done_print, NULL);
	run(d, HS_MSEC(100));
	expect(d, 3, HS_SLOT_ON);

	say("Unmounted, with 32 requests still in flight: removal again. "
	    "Every request completes or fails, none is lost.");
	if (v) {
		simcard_set_busy(v, NULL);
		simcard_submit(v, 32);
	}
	hs_slot_disable(slot(d, 3), done_print, NULL);
	run(d, HS_SEC(1));
	expect(d, 3, HS_SLOT_OFF);
	printf("  requests: %lu submitted, %lu completed, %lu failed\n",
	       l->submitted, l->completed, l->failed);

	say("A dual-port NIC goes into SHPC slot 12 and the operator enables "
	    "the slot from the console\n  (a conventional PCI card gets "
	    "2^25 clocks after reset before its first config cycle).");
	if (insert(d, 12, "nic-dual-82546"))
		return;
	run(d, HS_MSEC(100));
	if (state_of(d, 12) == HS_SLOT_OFF)
		hs_slot_enable(slot(d, 12), done_print, NULL);
	run(d, HS_SEC(2));
	expect(d, 12, HS_SLOT_ON);

	say("CompactPCI: the operator opens the ejector handle of the board "
	    "in slot 22.\n  Its drivers stop, it is unconfigured, powered "
	    "down, and the blue LED means safe to pull.");
	s = sim_slot_by_phys(d->sim, 22);
	sim_set_latch(s, true);
	run(d, HS_MSEC(500));
	expect(d, 22, HS_SLOT_OFF);
	sim_remove(s, SIM_REMOVE_ORDERLY);
	run(d, HS_MSEC(100));

	say("Someone pulls the board in CompactPCI slot 21 without asking.");
	v = dev_in(d, 21);
	if (v)
		simcard_submit(v, 8);
	sim_remove(sim_slot_by_phys(d->sim, 21), SIM_REMOVE_SURPRISE);
	run(d, HS_SEC(2));
	expect(d, 21, HS_SLOT_EMPTY);
	printf("  requests: %lu submitted, %lu completed, %lu failed\n",
	       l->submitted, l->completed, l->failed);

	say("The GPU in slot 4 trips its power controller.");
	sim_inject_power_fault(sim_slot_by_phys(d->sim, 4));
	run(d, HS_MSEC(100));
	expect(d, 4, HS_SLOT_FAULT);
	say("Enabling it again is refused until the fault is acknowledged.");
	if (hs_slot_enable(slot(d, 4), done_print, NULL)) {
		struct hs_slot_info si;

		hs_slot_get_info(slot(d, 4), &si);
		printf("  -> refused: %s\n", si.reason);
	}

	say("Where things stand.");
	print_slots(d);
	if (l->submitted != l->completed + l->failed) {
		fprintf(stderr, "hotswap-demo: requests were lost\n");
		d->failures++;
	}
}

/* The slot machine's table over its fine states, with the state each
 * is seen as outside the core (docs/slots.md carries it verbatim). */
static void print_table(void)
{
	printf("| state \\ input | seen as |");
	for (int i = 0; i < HS_IN_COUNT; i++)
		printf(" %s |", hs_slot_input_name((enum hs_slot_input)i));
	printf("\n|---|---|");
	for (int i = 0; i < HS_IN_COUNT; i++)
		printf("---|");
	printf("\n");
	for (int f = 0; f < HS_FINE_COUNT; f++) {
		printf("| **%s** | %s |",
		       hs_slot_fine_name((enum hs_slot_fine)f),
		       hs_slot_state_name(
			       hs_slot_fine_coarse((enum hs_slot_fine)f)));
		for (int i = 0; i < HS_IN_COUNT; i++)
			printf(" %s |",
			       hs_slot_fine_cell_doc((enum hs_slot_fine)f,
						     (enum hs_slot_input)i));
		printf("\n");
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hotswap-demo [TOPOLOGY.json]\n"
		"       hotswap-demo --table\n"
		"Plays an operator's session on the simulated chassis (the\n"
		"default lab chassis unless a topology is given) and prints\n"
		"every slot and device event on the virtual clock.\n"
		"  --table   print the slot state table (Markdown) and exit\n"
		"  --version print the version and exit\n"
		"Exit status: 0 ok, 1 a step went wrong, 2 bad usage or "
		"topology.\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "table", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct demo d = { 0 };
	const char *path;
	char err[512];
	int c, rc;

	while ((c = getopt_long(argc, argv, "thV", lopts, NULL)) != -1) {
		switch (c) {
		case 't':
			print_table();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("hotswap-demo (hotswap) %s\n", HOTSWAP_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1) {
		usage(stderr);
		return 2;
	}
	path = optind < argc ? argv[optind] : sim_topology_default_chassis();
	rc = sim_topology_load(path, NULL, &d.topo, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "hotswap-demo: %s\n", err);
		return 2;
	}
	d.sim = sim_topology_sim(d.topo);
	sim_get_platform(d.sim, &d.plat);
	printf("chassis %s (%s)\n", sim_topology_name(d.topo), path);
	rc = hs_core_create(&d.plat, NULL, &d.core);
	if (!rc) {
		hs_core_enable_rebalance(d.core);
		rc = hs_controllers_register(d.core);
	}
	if (!rc)
		rc = hs_driver_register(d.core, &simnet_driver);
	if (!rc)
		rc = hs_driver_register(d.core, &simstor_driver);
	if (!rc)
		rc = hs_core_subscribe(d.core, on_event, &d);
	if (!rc) {
		d.quiet_devices = true;
		rc = hs_core_enumerate(d.core);
	}
	if (rc) {
		fprintf(stderr, "hotswap-demo: the core did not start: %s\n",
			strerror(-rc));
		rc = 1;
		goto out;
	}
	if (!slot(&d, 2) || !slot(&d, 3) || !slot(&d, 4) || !slot(&d, 12) ||
	    !slot(&d, 21) || !slot(&d, 22)) {
		fprintf(stderr, "hotswap-demo: the session needs the lab "
			"chassis' slots 2, 3, 4, 12, 21 and 22\n");
		rc = 2;
		goto out;
	}
	session(&d);
	rc = d.failures ? 1 : 0;
out:
	hs_core_destroy(d.core);
	sim_topology_free(d.topo);
	return rc;
}
