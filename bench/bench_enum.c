/*
 * bench_enum.c - what enumeration and hot-add cost as fabrics grow.
 *
 * Owns: the issue #3 benchmark.  Builds simulated fabrics of 256, 1,024
 * and 4,096 functions (PCI-to-PCI bridges on the root bus, each with 32
 * eight-function devices, plus one PCIe root port with a hot-plug slot),
 * and measures, in the same run:
 *   - CPU time of a full boot enumeration (scan, size, place, program,
 *     bind), best of several runs, and config accesses per function;
 *   - the growth ratio between sizes (4.0 is linear for 4x the functions);
 *   - CPU time and config accesses of one hot-add on each fabric, and the
 *     large / small ratio (near 1: a hot-add must not rescan the world).
 * CPU time includes the simulator's own decode work, which is also why
 * config accesses are printed: they are the hardware-independent figure.
 * Prints figures; asserts nothing about time.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hotswap/core.h"
#include "sim.h"
#include "simcard.h"

static const struct sim_card_spec card8 = {
	.name = "bench-8fn",
	.nfuncs = 8,
	.funcs = {
#define F(n) { .fn = n, .vendor = 0x1b36, .device = 0x0100 + n, \
	       .class_code = 0x020000, .irq_pin = 1, \
	       .bar = { [0] = { SIM_BAR_MEM32, false, 4096 } } }
		F(0), F(1), F(2), F(3), F(4), F(5), F(6), F(7),
#undef F
	},
};

static const struct sim_card_spec nic = {
	.name = "bench-nic",
	.pcie = true,
	.nfuncs = 1,
	.funcs = { { .fn = 0, .vendor = 0x8086, .device = 0x10d3,
		     .class_code = 0x020000, .irq_pin = 1, .msi_vectors = 1,
		     .bar = { [0] = { SIM_BAR_MEM32, false, 128 << 10 } } } },
};

struct fabric {
	struct sim *sim;
	struct hs_platform plat;
	struct hs_core *core;
	struct sim_slot *slot;
	unsigned functions;
};

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int build(struct fabric *f, unsigned functions)
{
	struct sim_config cfg;
	struct sim_port_spec ps = { .type = SIM_PORT_ROOT, .vendor = 0x8086,
				    .device = 0x7c00, .has_slot = true,
				    .phys_slot = 1 };
	unsigned bridges = functions / 256;
	int err = 0;

	sim_config_defaults(&cfg);
	cfg.mem_limit = 0xefffffff;
	cfg.ram_size = 256u << 20; /* a DMA ring per function */
	f->sim = sim_create(&cfg);
	if (!f->sim)
		return -1;
	sim_get_platform(f->sim, &f->plat);
	for (unsigned b = 0; b < bridges; b++) {
		struct sim_fn *br = sim_add_pci_bridge(sim_root_bus(f->sim),
						       (uint8_t)(b + 1), 0,
						       0x8086, 0x244e, &err);

		if (!br)
			return err;
		for (unsigned d = 0; d < 32; d++)
			if ((err = sim_add_device(sim_fn_secondary(br),
						  (uint8_t)d, &card8)))
				return err;
	}
	sim_slot_features_default(&ps.slot);
	f->slot = sim_fn_slot(sim_add_pcie_port(sim_root_bus(f->sim), 31, 0,
						&ps, &err));
	f->functions = functions;
	return f->slot ? 0 : -1;
}

static int boot(struct fabric *f)
{
	struct hs_core_params p;
	int rc;

	hs_core_params_defaults(&p);
	rc = hs_core_create(&f->plat, &p, &f->core);
	if (rc)
		return rc;
	hs_core_enable_rebalance(f->core);
	if ((rc = hs_driver_register(f->core, &simnet_driver)))
		return rc;
	return hs_core_enumerate(f->core);
}

static void teardown(struct fabric *f)
{
	hs_core_destroy(f->core);
	sim_destroy(f->sim);
	f->core = NULL;
	f->sim = NULL;
}

struct result {
	unsigned functions;
	double boot_s;
	double cfg_per_fn;
	double hot_add_s;
	unsigned long hot_add_cfg;
};

static int measure(unsigned functions, unsigned runs, struct result *r)
{
	struct sim_counters c0, c1;
	double best = 1e9, t0, t1, best_add = 1e9;
	char msg[256];

	memset(r, 0, sizeof(*r));
	r->functions = functions;
	for (unsigned i = 0; i < runs; i++) {
		struct fabric f = { 0 };
		struct hs_dev *br;
		uint16_t px = 0x60;
		uint32_t ctl;

		if (build(&f, functions))
			return -1;
		sim_get_counters(f.sim, &c0);
		t0 = cpu_seconds();
		if (boot(&f))
			return -1;
		t1 = cpu_seconds();
		sim_get_counters(f.sim, &c1);
		if (t1 - t0 < best)
			best = t1 - t0;
		r->cfg_per_fn = (double)((c1.cfg_reads + c1.cfg_writes) -
					 (c0.cfg_reads + c0.cfg_writes)) /
				functions;

		/* One hot-add into the slot. */
		br = hs_core_slot_bridge(f.core, 1);
		if (!br || sim_insert(f.slot, &nic))
			return -1;
		for (px = 0x40; px < 0x100; px += 4) {
			uint32_t v;

			f.plat.ops->cfg_read(f.plat.ctx, hs_dev_bdf(br), px, 1, &v);
			if (v == 0x10)
				break;
		}
		f.plat.ops->cfg_read(f.plat.ctx, hs_dev_bdf(br), px + 0x18, 2, &ctl);
		f.plat.ops->cfg_write(f.plat.ctx, hs_dev_bdf(br), px + 0x18, 2,
				      (ctl & ~0x0700u) | 0x0100u);
		sim_advance(f.sim, HS_MSEC(200));
		sim_get_counters(f.sim, &c0);
		t0 = cpu_seconds();
		if (hs_core_hot_add(f.core, br, msg, sizeof(msg))) {
			fprintf(stderr, "hot-add failed: %s\n", msg);
			return -1;
		}
		t1 = cpu_seconds();
		sim_get_counters(f.sim, &c1);
		if (t1 - t0 < best_add)
			best_add = t1 - t0;
		r->hot_add_cfg = (c1.cfg_reads + c1.cfg_writes) -
				 (c0.cfg_reads + c0.cfg_writes);
		teardown(&f);
	}
	r->boot_s = best;
	r->hot_add_s = best_add;
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned sizes[] = { 256, 1024, 4096 };
	struct result r[3];
	unsigned runs;

	/* --one N: one boot and one hot-add on a fabric of N functions, for
	 * bench_scaling.sh to count the hot-add's instructions (callgrind,
	 * collecting inside hs_core_hot_add only). */
	if (argc > 2 && !strcmp(argv[1], "--one")) {
		struct result one;
		unsigned n = (unsigned)atoi(argv[2]);

		if (n < 256 || measure(n, 1, &one)) {
			fprintf(stderr, "bench: --one %s: need >= 256 functions "
				"and a fabric that boots\n", argv[2]);
			return 1;
		}
		printf("%u functions: hot-add %lu config accesses\n", n,
		       one.hot_add_cfg);
		return 0;
	}
	runs = argc > 1 ? (unsigned)atoi(argv[1]) : 5;

	if (!runs)
		runs = 1;
	printf("hotswap enumeration benchmark (best of %u runs, CPU time)\n\n",
	       runs);
	printf("%10s %14s %12s %14s %12s\n", "functions", "boot (ms)",
	       "cfg/func", "hot-add (us)", "hot-add cfg");
	for (unsigned i = 0; i < 3; i++) {
		if (measure(sizes[i], runs, &r[i])) {
			fprintf(stderr, "bench: fabric of %u functions failed\n",
				sizes[i]);
			return 1;
		}
		printf("%10u %14.2f %12.1f %14.1f %12lu\n", r[i].functions,
		       r[i].boot_s * 1e3, r[i].cfg_per_fn, r[i].hot_add_s * 1e6,
		       r[i].hot_add_cfg);
	}
	printf("\ngrowth of boot time:  1024/256 = %.2fx, 4096/1024 = %.2fx "
	       "(4.00x is linear)\n", r[1].boot_s / r[0].boot_s,
	       r[2].boot_s / r[1].boot_s);
	printf("config accesses per function: %.1f, %.1f, %.1f\n",
	       r[0].cfg_per_fn, r[1].cfg_per_fn, r[2].cfg_per_fn);
	printf("hot-add, 4096 vs 256 functions: time %.2fx, config accesses "
	       "%.2fx (1.00x: no rescan of the world)\n",
	       r[2].hot_add_s / r[0].hot_add_s,
	       (double)r[2].hot_add_cfg / (double)r[0].hot_add_cfg);
	printf("(CPU time includes the simulator's decode of each cycle, which "
	       "checks every bridge on the root bus: 1 at 256 functions, 16 at "
	       "4096.\n Config accesses count what the core itself does.)\n");
	return 0;
}
