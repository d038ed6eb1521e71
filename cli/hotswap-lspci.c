/*
 * hotswap-lspci - load a simulated chassis and print its tree.
 *
 * Owns: the newcomer's first look at the simulator.  Prints the physical
 * tree of a topology file the way `lspci -tv` does, with the slots each
 * hot-plug controller drives and their state (occupant, power, link,
 * indicators, latch), and names from pci.ids through libpci.  It reads
 * the silicon as built (the chassis is not enumerated yet, so bridges have
 * no bus numbers: functions are shown as device.function under their
 * parent).  With -e it runs the core's enumeration first and prints the
 * result: bus numbers, bridge windows, BARs, interrupts and the driver
 * bound to each function.  With -x it brings the chassis up as hotswapd
 * does (the controller drivers too, 30 s of chassis time) and writes every
 * function's configuration space in the format of `lspci -xxxx`, so that
 * pciutils' own decoder reads the simulated registers: `lspci -F FILE -vv`.
 *
 * Exit status: 0 printed, 1 runtime error, 2 bad usage or bad topology.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pci/pci.h>

#include "hotswap/core.h"
#include "hotswap/hpc.h"
#include "hotswap/pcie_regs.h"
#include "simcard.h"
#include "topology.h"

struct opts {
	bool dump;
	bool enumerate;
	bool numeric;
	bool slots_only;
	bool verbose;
};

struct printer {
	struct sim *sim;
	struct hs_platform plat;
	struct pci_access *pacc;
	const struct opts *o;
	/* Whether the ancestor at each depth has siblings still to come. */
	bool more[32];
};

static const char *ind_name(enum sim_indicator i)
{
	return i == SIM_IND_ON ? "on" : i == SIM_IND_BLINK ? "blink" : "off";
}

static const char *slot_kind(enum sim_slot_kind k)
{
	return k == SIM_SLOT_PCIE ? "pcie" : k == SIM_SLOT_SHPC ? "shpc"
							       : "cpci";
}

static void describe_slot(const struct sim_slot *s, char *buf, size_t n)
{
	struct sim_slot_info i;

	sim_slot_get_info(s, &i);
	if (!i.present) {
		snprintf(buf, n, "slot %s [%s, dev %02x]: empty, power %s, "
			 "power LED %s, attention %s%s", i.name,
			 slot_kind(i.kind), i.dev, i.powered ? "on" : "off",
			 ind_name(i.power_ind), ind_name(i.attn_ind),
			 i.mrl_open ? ", latch open" : "");
		return;
	}
	snprintf(buf, n, "slot %s [%s, dev %02x]: %s, power %s, link %s, "
		 "power LED %s, attention %s%s%s%s%s", i.name,
		 slot_kind(i.kind), i.dev, i.card ? i.card : "card",
		 i.powered ? "on" : "off", i.link_up ? "up" : "down",
		 ind_name(i.power_ind), ind_name(i.attn_ind),
		 i.mrl_open ? ", latch open" : "",
		 i.interlock_engaged ? ", interlock engaged" : "",
		 i.power_fault ? ", POWER FAULT" : "",
		 i.kind == SIM_SLOT_CPCI ? (i.blue_led ? ", blue LED on"
						       : ", blue LED off")
					 : "");
}

static void fn_name(struct printer *p, const struct sim_fn *fn, char *buf,
		    size_t n)
{
	uint16_t vid = (uint16_t)sim_fn_peek(fn, 0x00, 2);
	uint16_t did = (uint16_t)sim_fn_peek(fn, 0x02, 2);
	uint32_t cls = sim_fn_peek(fn, 0x08, 4) >> 8;
	char name[256], cname[128];

	if (p->o->numeric || !p->pacc) {
		snprintf(buf, n, "[%04x:%04x] class %06x", vid, did, cls);
		return;
	}
	pci_lookup_name(p->pacc, name, sizeof(name),
			PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE, vid, did);
	pci_lookup_name(p->pacc, cname, sizeof(cname), PCI_LOOKUP_CLASS,
			cls >> 8);
	snprintf(buf, n, "%s [%04x:%04x] (%s)", name, vid, did, cname);
}

static void prefix(struct printer *p, int depth, bool last)
{
	for (int d = 0; d < depth; d++)
		fputs(p->more[d] ? " |  " : "    ", stdout);
	fputs(last ? " \\- " : " +- ", stdout);
}

/* The walk is parents first; collect it so siblings can be looked ahead. */
struct nodes {
	struct sim_walk_node *v;
	size_t n, cap;
};

static int collect(void *arg, const struct sim_walk_node *node)
{
	struct nodes *ns = arg;

	if (ns->n == ns->cap) {
		size_t nc = ns->cap ? 2 * ns->cap : 64;
		struct sim_walk_node *nv = realloc(ns->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		ns->v = nv;
		ns->cap = nc;
	}
	ns->v[ns->n++] = *node;
	return 0;
}

static bool last_sibling(const struct nodes *ns, size_t i)
{
	for (size_t j = i + 1; j < ns->n; j++) {
		if (ns->v[j].depth < ns->v[i].depth)
			return true;
		if (ns->v[j].depth == ns->v[i].depth)
			return false;
	}
	return true;
}

static void print_tree(struct printer *p, const struct nodes *ns)
{
	const struct sim_config *sc = sim_get_config(p->sim);
	char name[400], sl[256];

	printf("-[%04x:%02x]- host bridge (I/O %#x-%#x, memory %#llx-%#llx",
	       sc->segment, sc->bus_first, sc->io_base, sc->io_limit,
	       (unsigned long long)sc->mem_base,
	       (unsigned long long)sc->mem_limit);
	if (sc->pref_limit)
		printf(", prefetchable %#llx-%#llx",
		       (unsigned long long)sc->pref_base,
		       (unsigned long long)sc->pref_limit);
	printf(")\n");
	for (size_t i = 0; i < ns->n; i++) {
		const struct sim_walk_node *n = &ns->v[i];
		bool last = last_sibling(ns, i);
		uint8_t devfn = HS_BDF_DEVFN(n->where);

		if (n->depth >= 31)
			continue;
		p->more[n->depth] = !last;
		fn_name(p, n->fn, name, sizeof(name));
		prefix(p, n->depth, last);
		if (n->depth == 0)
			printf("%02x:%02x.%u", HS_BDF_BUS(n->where), devfn >> 3,
			       devfn & 7);
		else
			printf("%02x.%u", devfn >> 3, devfn & 7);
		printf("  %s  <%s>%s\n", name, n->kind,
		       sim_fn_responds(n->fn) ? "" : "  (not answering)");
		/* Slots this function controls, as children of it. */
		for (struct sim_slot *s = sim_slot_next(p->sim, NULL); s;
		     s = sim_slot_next(p->sim, s)) {
			if (sim_slot_controller(s) != n->fn)
				continue;
			describe_slot(s, sl, sizeof(sl));
			for (int d = 0; d <= n->depth; d++)
				fputs(d < n->depth ? (p->more[d] ? " |  " : "    ")
						   : (last ? "    " : " |  "),
				      stdout);
			printf(" :  %s\n", sl);
		}
	}
}

static void print_res(const char *what, const struct hs_resource *r)
{
	if (r->kind == HS_RES_BUS)
		printf(" %s %02llx-%02llx", what, (unsigned long long)r->start,
		       (unsigned long long)(r->start + r->size - 1));
	else
		printf(" %s %#llx-%#llx", what, (unsigned long long)r->start,
		       (unsigned long long)(r->start + r->size - 1));
}

static int enumerated(struct printer *p)
{
	struct hs_core_params params;
	struct hs_core *core;
	char name[400];
	int rc;

	hs_core_params_defaults(&params);
	sim_get_platform(p->sim, &p->plat);
	rc = hs_core_create(&p->plat, &params, &core);
	if (rc)
		return rc;
	hs_core_enable_rebalance(core);
	if ((rc = hs_driver_register(core, &simnet_driver)) ||
	    (rc = hs_driver_register(core, &simstor_driver)) ||
	    (rc = hs_core_enumerate(core))) {
		hs_core_destroy(core);
		return rc;
	}
	for (struct hs_dev *d = hs_dev_next(core, NULL); d;
	     d = hs_dev_next(core, d)) {
		struct hs_resource r;
		const char *why;
		int depth = 0;
		hs_bdf_t b = hs_dev_bdf(d);
		uint16_t vid = hs_dev_vendor(d), did = hs_dev_device(d);

		for (struct hs_dev *u = hs_dev_parent(d); u; u = hs_dev_parent(u))
			depth++;
		if (p->o->numeric || !p->pacc)
			snprintf(name, sizeof(name), "[%04x:%04x]", vid, did);
		else
			pci_lookup_name(p->pacc, name, sizeof(name),
					PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE,
					vid, did);
		printf("%*s%02x:%02x.%u %s", 2 * depth, "", HS_BDF_BUS(b),
		       HS_BDF_DEV(b), HS_BDF_FN(b), name);
		if (hs_dev_driver_name(d))
			printf(" [%s]", hs_dev_driver_name(d));
		if (hs_dev_is_hotplug_bridge(d) && hs_dev_slot(d) >= 0)
			printf(" (hot-plug slot %d)", hs_dev_slot(d));
		else if (hs_dev_is_hotplug_bridge(d))
			printf(" (hot-plug bus)");
		printf("\n%*s   ", 2 * depth, "");
		if (hs_dev_isolated(d, &why))
			printf(" ISOLATED: %s", why);
		for (int k = 0; k < HS_RES_COUNT; k++)
			if (hs_dev_window(d, (enum hs_res)k, &r) == 0)
				print_res(hs_res_kind_name((enum hs_res)k), &r);
		for (int i = 0; i < 7; i++)
			if (hs_dev_bar(d, i, &r) == 0) {
				char what[16];

				snprintf(what, sizeof(what), i == 6 ? "rom" : "bar%d", i);
				print_res(what, &r);
			}
		struct hs_irq irq;
		unsigned nvec;

		if (hs_dev_irq(d, &irq, &nvec) == 0)
			printf(" %s %u", irq.kind == HS_IRQ_MSI ? "msi" : "irq",
			       irq.number);
		printf("\n");
	}
	hs_core_destroy(core);
	return 0;
}

static void print_slots(struct printer *p)
{
	char sl[256];
	int n = 0;

	for (struct sim_slot *s = sim_slot_next(p->sim, NULL); s;
	     s = sim_slot_next(p->sim, s)) {
		describe_slot(s, sl, sizeof(sl));
		printf("%s\n", sl);
		n++;
	}
	if (!n)
		printf("no hot-plug slots\n");
}

/*
 * The configuration space of every function the core found, as
 * `lspci -xxxx` prints it (pciutils' lib/dump.c reads it back with -F):
 * a "bb:dd.f name" line, then 16 bytes a line after the offset in hex,
 * 4096 bytes for a PCI Express function (extended space, PCIe Base
 * 7.2.2) and 256 otherwise, then an empty line.  The chassis is brought
 * up first as hotswapd brings it up: the core with the hot-plug
 * controller drivers and the simulated cards' drivers, enumeration,
 * then 30 s of chassis time so that slots with cards are powered and
 * their indicators set (the daemon's virtual-clock start, hotswapd(8)).
 */
static int dump(struct printer *p)
{
	struct hs_core *core;
	int rc;

	sim_get_platform(p->sim, &p->plat);
	rc = hs_core_create(&p->plat, NULL, &core);
	if (rc)
		return rc;
	hs_core_enable_rebalance(core);
	if ((rc = hs_controllers_register(core)) ||
	    (rc = hs_driver_register(core, &simnet_driver)) ||
	    (rc = hs_driver_register(core, &simstor_driver)) ||
	    (rc = hs_core_enumerate(core)))
		goto out;
	sim_advance(p->sim, (hs_time_t)30 * 1000000000);
	for (struct hs_dev *d = hs_dev_next(core, NULL); d;
	     d = hs_dev_next(core, d)) {
		hs_bdf_t b = hs_dev_bdf(d);
		uint16_t vid = hs_dev_vendor(d), did = hs_dev_device(d), cap;
		/* Capability ID 10h: PCI Express (PCIe Base 7.5.3). */
		unsigned size = hs_dev_find_cap(d, 0x10, &cap) == 0
			? 4096 : 256;

		/* lspci -F reads only the address from this line. */
		printf("%02x:%02x.%u Device %04x:%04x\n", HS_BDF_BUS(b),
		       HS_BDF_DEV(b), HS_BDF_FN(b), vid, did);
		for (unsigned off = 0; off < size; off += 16) {
			printf("%02x:", off);
			for (unsigned i = 0; i < 16; i += 4) {
				uint32_t v;

				if (hs_dev_cfg_read(d, (uint16_t)(off + i), 4, &v))
					v = 0xffffffff;
				printf(" %02x %02x %02x %02x", v & 0xff,
				       (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24);
			}
			putchar('\n');
		}
		putchar('\n');
	}
out:
	hs_core_destroy(core);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hotswap-lspci [-e] [-n] [-s] [-v] [TOPOLOGY.json]\n"
		"       hotswap-lspci -x [TOPOLOGY.json] > FILE; lspci -F FILE -vv\n"
		"Print the tree of a simulated chassis with its slots.\n"
		"  -e, --enumerate run hotswap's enumeration and print bus numbers,\n"
		"                  windows, BARs, interrupts and drivers\n"
		"  -x, --dump      bring the chassis up as hotswapd does and write\n"
		"                  its configuration space as `lspci -xxxx` does\n"
		"  -n, --numeric   numeric IDs only (no pci.ids names)\n"
		"  -s, --slots     only the slots and their state\n"
		"  -v, --verbose   also print the chassis description\n"
		"  -h, --help      this text\n"
		"  -V, --version   the version\n"
		"Without TOPOLOGY the default chassis is used (%s).\n"
		"Exit status: 0 ok, 1 runtime error, 2 bad usage or topology.\n",
		sim_topology_default_chassis());
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "enumerate", no_argument, NULL, 'e' },
		{ "dump", no_argument, NULL, 'x' },
		{ "numeric", no_argument, NULL, 'n' },
		{ "slots", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	struct printer p = { 0 };
	struct nodes ns = { 0 };
	struct sim_topology *topo = NULL;
	const char *path;
	char err[512];
	int c, rc;

	while ((c = getopt_long(argc, argv, "ensvhVx", lopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			o.enumerate = true;
			break;
		case 'x':
			o.dump = true;
			break;
		case 'n':
			o.numeric = true;
			break;
		case 's':
			o.slots_only = true;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("hotswap-lspci (hotswap) %s\n", HOTSWAP_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "hotswap-lspci: one topology file at most\n");
		usage(stderr);
		return 2;
	}
	path = optind < argc ? argv[optind] : sim_topology_default_chassis();
	rc = sim_topology_load(path, NULL, &topo, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "hotswap-lspci: %s\n", err);
		return 2;
	}
	p.sim = sim_topology_sim(topo);
	p.o = &o;
	if (!o.numeric) {
		p.pacc = pci_alloc();
		if (p.pacc)
			p.pacc->error = NULL;
	}
	if (o.dump) {
		rc = dump(&p);
		if (rc) {
			fprintf(stderr, "hotswap-lspci: bringing the chassis up "
				"failed: %s\n", strerror(-rc));
			rc = 1;
		}
		goto out;
	}
	printf("chassis %s (%s)\n", sim_topology_name(topo), path);
	if (o.verbose && sim_topology_description(topo))
		printf("  %s\n", sim_topology_description(topo));
	if (o.slots_only) {
		print_slots(&p);
	} else if (o.enumerate) {
		rc = enumerated(&p);
		if (rc) {
			fprintf(stderr, "hotswap-lspci: enumeration failed: %s\n",
				strerror(-rc));
			rc = 1;
			goto out;
		}
	} else {
		rc = sim_walk(p.sim, collect, &ns);
		if (rc) {
			fprintf(stderr, "hotswap-lspci: out of memory\n");
			rc = 1;
			goto out;
		}
		print_tree(&p, &ns);
	}
	rc = 0;
out:
	free(ns.v);
	if (p.pacc)
		pci_cleanup(p.pacc);
	sim_topology_free(topo);
	return rc;
}
