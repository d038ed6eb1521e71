/*
 * bench_alloc.c - how often a hot-added card gets its resources, under
 * which allocation strategy, and at what cost.
 *
 * Owns: the issue #7 allocation benchmark (docs/benchmarks.md).  Plays
 * seeded random workloads of insertions and removals on several chassis
 * with fixed apertures: every example chassis with hot-plug slots
 * (examples/ *.json) and four generated ones (16 and 64 PCIe root-port
 * slots, a PCIe switch, a CompactPCI + SHPC machine with a tight I/O
 * aperture).  Cards come from a catalog of realistic cards built below:
 * NICs, NVMe, GPUs with 256 MiB to 16 GiB 64-bit prefetchable BARs,
 * I/O-hungry CompactPCI boards, and cards carrying a bridge with two or
 * four functions behind it.  For each strategy the same workload (same
 * seed, same events) runs on a fresh chassis in the same run:
 *   (a) tight packing, no reservations, never move;
 *   (b) Linux's documented defaults (2 MiB mem, 2 MiB pref, 256 bytes
 *       of I/O, 1 bus per hot-plug bridge, spare space shared), never
 *       move;
 *   (c) hotswap's default reservations, never move;
 *   (d) hotswap's defaults with rebalancing (HS_MOVE_CAPABLE);
 *   (e) the bound: before every insertion, a fresh chassis holding
 *       exactly the cards configured plus the new one is booted with no
 *       reservations; the insertion is feasible when every function got
 *       its resources.
 * Cards go in and out the way an operator does it: the card is seated
 * (sim_insert) and the slot state machine brings it up on presence;
 * removal is an operator request (hs_slot_disable), then the card is
 * pulled.  Bound simnet / simstor devices get requests before every
 * insertion (under (d) they keep flowing until the slot settles, so a
 * rebalance finds some to hold); the ledger must balance at the end.
 * Every assignment is also checked from outside: nothing overlaps,
 * everything sits in its bridge's window, nothing running moved under
 * the never-move strategies.
 * Prints a table and the "done when" checks; asserts nothing
 * about time.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hotswap/core.h"
#include "hotswap/hpc.h"
#include "hotswap/slot.h"
#include "sim.h"
#include "simcard.h"
#include "topology.h"

#ifndef HOTSWAP_SRCDIR
#define HOTSWAP_SRCDIR "."
#endif

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* ---- the card catalog ---------------------------------------------------- */

#define M32(sz) { SIM_BAR_MEM32, false, (sz) }
#define M64(sz) { SIM_BAR_MEM64, false, (sz) }
#define P64(sz) { SIM_BAR_MEM64, true, (sz) }
#define IO(sz)  { SIM_BAR_IO, false, (sz) }

/* Requests take this long on the cards the simcard drivers bind, so
 * that requests submitted before an insertion are still in flight when
 * the slot is configured (and when a rebalance stops the driver). */
#define LAT_US 10000

static const struct sim_card_spec c_nic_82574 = {
	.name = "nic-82574l",
	.description = "Intel 82574L 1-port gigabit NIC, PCIe x1",
	.pcie = true, .nfuncs = 1,
	.funcs = { { .fn = 0, .vendor = 0x8086, .device = 0x10d3,
		     .class_code = 0x020000, .irq_pin = 1,
		     .bar = { [0] = M32(128 * KiB), [2] = IO(32),
			      [3] = M32(16 * KiB) },
		     .msix_vectors = 5, .msix_bar = 3,
		     .latency_us = LAT_US } },
};

#define X710(n) { .fn = n, .vendor = 0x8086, .device = 0x1572,          \
		  .class_code = 0x020000, .irq_pin = 1,                   \
		  .bar = { [0] = P64(8 * MiB), [3] = P64(32 * KiB) },     \
		  .msix_vectors = 129, .msix_bar = 3,                     \
		  .latency_us = LAT_US }
static const struct sim_card_spec c_nic_x710 = {
	.name = "nic-x710-2p",
	.description = "Intel X710-DA2 2-port 10GbE: 8M + 32K prefetchable "
		       "64-bit BARs per port, PCIe x8",
	.pcie = true, .nfuncs = 2,
	.funcs = { X710(0), X710(1) },
};

#define CX4(n) { .fn = n, .vendor = 0x15b3, .device = 0x1015,           \
		 .class_code = 0x020000, .irq_pin = 1,                    \
		 .bar = { [0] = P64(32 * MiB) },                          \
		 .msix_vectors = 64, .msix_bar = 0, .latency_us = LAT_US }
static const struct sim_card_spec c_nic_cx4 = {
	.name = "nic-cx4lx-2p",
	.description = "Mellanox ConnectX-4 Lx 2-port 25GbE: 32M prefetchable "
		       "64-bit BAR per port, PCIe x8",
	.pcie = true, .nfuncs = 2,
	.funcs = { CX4(0), CX4(1) },
};

#define I350(n, pin) { .fn = n, .vendor = 0x8086, .device = 0x1521,     \
		       .class_code = 0x020000, .irq_pin = pin,            \
		       .bar = { [0] = M32(1 * MiB), [2] = IO(32),         \
				[3] = M32(16 * KiB) },                    \
		       .msix_vectors = 10, .msix_bar = 3,                 \
		       .latency_us = LAT_US }
static const struct sim_card_spec c_nic_i350 = {
	.name = "nic-i350-4p",
	.description = "Intel I350-T4 4-port gigabit NIC: four functions, "
		       "PCIe x4",
	.pcie = true, .nfuncs = 4,
	.funcs = { I350(0, 1), I350(1, 2), I350(2, 3), I350(3, 4) },
};

static const struct sim_card_spec c_nvme = {
	.name = "nvme-pm981",
	.description = "Samsung PM981 NVMe SSD: one 16K 64-bit BAR, PCIe x4",
	.pcie = true, .nfuncs = 1,
	.funcs = { { .fn = 0, .vendor = 0x144d, .device = 0xa808,
		     .class_code = 0x010802, .irq_pin = 1,
		     .bar = { [0] = M64(16 * KiB) },
		     .msix_vectors = 33, .msix_bar = 0,
		     .latency_us = LAT_US } },
};

/* NVIDIA layout: registers in a 32-bit BAR, the frame buffer and a
 * second aperture in 64-bit prefetchable BARs, a small I/O BAR. */
#define NV_GPU(dev_id, fb) { .fn = 0, .vendor = 0x10de, .device = dev_id, \
			     .class_code = 0x030000, .irq_pin = 1,       \
			     .bar = { [0] = M32(16 * MiB), [1] = P64(fb), \
				      [3] = P64(32 * MiB), [5] = IO(128) }, \
			     .rom_size = 512 * 1024, .msi_vectors = 1 }
/* AMD layout: the frame buffer aperture (its resizable BAR set to the
 * size given) and doorbells prefetchable, registers in a 32-bit BAR. */
#define AMD_GPU(dev_id, fb) { .fn = 0, .vendor = 0x1002, .device = dev_id, \
			      .class_code = 0x030000, .irq_pin = 1,       \
			      .bar = { [0] = P64(fb), [2] = P64(2 * MiB),  \
				       [4] = IO(256), [5] = M32(512 * KiB) }, \
			      .rom_size = 128 * 1024, .msi_vectors = 1 }

static const struct sim_card_spec c_gpu_256m = {
	.name = "gpu-256m",
	.description = "NVIDIA Quadro RTX 4000-like: 16M registers, 256M "
		       "frame buffer BAR, 32M aperture, PCIe x16",
	.pcie = true, .nfuncs = 1, .funcs = { NV_GPU(0x1eb1, 256 * MiB) },
};

static const struct sim_card_spec c_gpu_1g = {
	.name = "gpu-1g",
	.description = "AMD Radeon Pro-like with its resizable BAR at 1 GiB",
	.pcie = true, .nfuncs = 1, .funcs = { AMD_GPU(0x731f, 1 * GiB) },
};

static const struct sim_card_spec c_gpu_4g = {
	.name = "gpu-4g",
	.description = "AMD Radeon Pro-like with its resizable BAR at 4 GiB",
	.pcie = true, .nfuncs = 1, .funcs = { AMD_GPU(0x73a3, 4 * GiB) },
};

static const struct sim_card_spec c_gpu_16g = {
	.name = "gpu-16g",
	.description = "NVIDIA Tesla V100-16GB-like: 16 GiB frame buffer BAR",
	.pcie = true, .nfuncs = 1, .funcs = { NV_GPU(0x1db4, 16 * GiB) },
};

/* Conventional cards (SHPC and CompactPCI slots, and behind the
 * bridges of bridge cards). */
static const struct sim_card_spec c_82559 = {
	.name = "nic-82559-b",
	.description = "Intel 82559 Fast Ethernet",
	.nfuncs = 1,
	.funcs = { { .fn = 0, .vendor = 0x8086, .device = 0x1229,
		     .class_code = 0x020000, .irq_pin = 1,
		     .bar = { [0] = M32(4 * KiB), [1] = IO(64),
			      [2] = M32(1 * MiB) },
		     .latency_us = LAT_US } },
};

#define E82546(n, pin) { .fn = n, .vendor = 0x8086, .device = 0x1010,   \
			 .class_code = 0x020000, .irq_pin = pin,          \
			 .bar = { [0] = M64(128 * KiB), [4] = IO(64) },   \
			 .latency_us = LAT_US }
static const struct sim_card_spec c_82546 = {
	.name = "nic-82546-2p",
	.description = "Intel 82546EB dual-port gigabit: two functions",
	.nfuncs = 2,
	.funcs = { E82546(0, 1), E82546(1, 2) },
};

static const struct sim_card_spec c_io9030 = {
	.name = "io-9030",
	.description = "CompactPCI I/O board on a PLX PCI9030: 256 bytes of "
		       "I/O ports, 4K registers",
	.nfuncs = 1,
	.funcs = { { .fn = 0, .vendor = 0x10b5, .device = 0x9030,
		     .class_code = 0x078000, .irq_pin = 1,
		     .bar = { [0] = M32(4 * KiB), [1] = IO(256) } } },
};

static const struct sim_card_spec c_daq = {
	.name = "daq-9054",
	.description = "CompactPCI data acquisition board on a PLX PCI9054: "
		       "two 256-byte I/O BARs, 1M local-bus window",
	.nfuncs = 1,
	.funcs = { { .fn = 0, .vendor = 0x10b5, .device = 0x9054,
		     .class_code = 0x118000, .irq_pin = 1,
		     .bar = { [0] = M32(256), [1] = IO(256), [2] = IO(256),
			      [3] = M32(1 * MiB) } } },
};

#define SCSI(n, pin) { .fn = n, .vendor = 0x1000, .device = 0x0030,     \
		       .class_code = 0x010000, .irq_pin = pin,            \
		       .bar = { [0] = M64(64 * KiB), [2] = M64(64 * KiB),  \
				[4] = IO(256) },                          \
		       .latency_us = LAT_US }
static const struct sim_card_spec c_scsi = {
	.name = "scsi-53c1030",
	.description = "LSI 53C1030 dual-channel Ultra320 SCSI: two "
		       "functions, 256 bytes of I/O each",
	.nfuncs = 2,
	.funcs = { SCSI(0, 1), SCSI(1, 2) },
};

#define BRIDGE_FN(ven, dev_id) { .fn = 0, .vendor = ven, .device = dev_id, \
				 .class_code = 0x060400, .is_bridge = true }

static const struct sim_child_spec ch_2x82559[] = {
	{ 0, &c_82559 }, { 1, &c_82559 },
};
static const struct sim_child_spec ch_4x82559[] = {
	{ 0, &c_82559 }, { 1, &c_82559 }, { 2, &c_82559 }, { 3, &c_82559 },
};
static const struct sim_child_spec ch_2x82546[] = {
	{ 0, &c_82546 }, { 1, &c_82546 },
};
static const struct sim_child_spec ch_scsi[] = {
	{ 0, &c_scsi },
};

static const struct sim_card_spec c_br2 = {
	.name = "nic-bridge-2p",
	.description = "CompactPCI dual Fast Ethernet: DEC 21154 bridge, two "
		       "82559 behind it",
	.nfuncs = 1, .funcs = { BRIDGE_FN(0x1011, 0x0026) },
	.nchildren = 2, .children = ch_2x82559,
};

static const struct sim_card_spec c_br4 = {
	.name = "nic-bridge-4p",
	.description = "CompactPCI quad Fast Ethernet (ZNYX ZX374-like): "
		       "21154 bridge, four 82559 behind it",
	.nfuncs = 1, .funcs = { BRIDGE_FN(0x1011, 0x0026) },
	.nchildren = 4, .children = ch_4x82559,
};

static const struct sim_card_spec c_pcie_quad = {
	.name = "nic-quad-bridge",
	.description = "PCIe quad-port gigabit (HP NC364T-like): PCIe-to-PCI "
		       "bridge, two 82546 dual-port devices (four functions) "
		       "behind it",
	.pcie = true, .nfuncs = 1, .funcs = { BRIDGE_FN(0x10b5, 0x8114) },
	.nchildren = 2, .children = ch_2x82546,
};

static const struct sim_card_spec c_pcie_raid = {
	.name = "raid-bridge",
	.description = "PCIe RAID card (IOP333-like): PCIe-to-PCI-X bridge, "
		       "a dual-channel SCSI controller (two functions) behind "
		       "it",
	.pcie = true, .nfuncs = 1, .funcs = { BRIDGE_FN(0x8086, 0x0370) },
	.nchildren = 1, .children = ch_scsi,
};

/* Soldered on the generated boards. */
static const struct sim_card_spec c_bmc_vga = {
	.name = "bmc-vga",
	.description = "ASPEED AST2500-like BMC graphics",
	.nfuncs = 1,
	.funcs = { { .fn = 0, .vendor = 0x1a03, .device = 0x2000,
		     .class_code = 0x030000, .irq_pin = 1,
		     .bar = { [0] = M32(16 * MiB), [1] = M32(128 * KiB),
			      [2] = IO(128) } } },
};

struct card {
	const struct sim_card_spec *spec;
	unsigned weight;     /* how often it is drawn */
	bool initial;        /* may populate a generated chassis at start */
};

/* What arrives in PCIe slots: mostly NICs and NVMe, GPUs of every size,
 * now and then a bridge card. */
static const struct card pcie_cards[] = {
	{ &c_nic_82574, 3, true }, { &c_nic_x710, 2, true },
	{ &c_nic_cx4, 2, true },   { &c_nic_i350, 2, true },
	{ &c_nvme, 4, true },      { &c_gpu_256m, 3, true },
	{ &c_gpu_1g, 2, false },   { &c_gpu_4g, 2, false },
	{ &c_gpu_16g, 1, false },  { &c_pcie_quad, 1, true },
	{ &c_pcie_raid, 1, true },
};

/* What arrives in SHPC and CompactPCI slots. */
static const struct card conv_cards[] = {
	{ &c_82559, 3, true }, { &c_82546, 2, true }, { &c_io9030, 3, true },
	{ &c_daq, 2, true },   { &c_scsi, 2, true },  { &c_br2, 2, true },
	{ &c_br4, 1, true },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* --trace: slot transitions, the tree after every insertion, the
 * bound's verdicts. */
static bool trace;

static unsigned count_functions(const struct sim_card_spec *c)
{
	unsigned n = c->nfuncs;

	for (unsigned i = 0; i < c->nchildren; i++)
		n += count_functions(c->children[i].card);
	return n;
}

/* ---- time and randomness ------------------------------------------------- */

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_next(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rng_below(uint64_t *s, unsigned n)
{
	return n ? (unsigned)(rng_next(s) % n) : 0;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

/* ---- chassis ------------------------------------------------------------- */

struct chassis {
	char name[64];
	char path[1024];            /* topology file, or "" when generated */
	int (*build)(struct sim **out);
	const char *what;           /* generated: what it is */
};

/* An instance of a chassis: the simulator, and the topology that owns
 * its catalog when it was loaded from a file. */
struct inst {
	struct sim_topology *topo;
	struct sim *sim;
};

static struct sim *gen_sim(uint64_t mem_base, uint64_t mem_limit,
			   uint64_t pref_base, uint64_t pref_limit,
			   uint32_t io_limit, uint8_t bus_last)
{
	struct sim_config cfg;

	sim_config_defaults(&cfg);
	cfg.mem_base = mem_base;
	cfg.mem_limit = mem_limit;
	cfg.pref_base = pref_base;
	cfg.pref_limit = pref_limit;
	cfg.io_limit = io_limit;
	cfg.bus_last = bus_last;
	cfg.ram_size = 64 * MiB;
	cfg.msi_vectors = 1024;
	return sim_create(&cfg);
}

static int add_slot_port(struct sim_bus *bus, uint8_t dev, uint8_t fn,
			 enum sim_port_type type, uint16_t phys)
{
	struct sim_port_spec ps;
	int err = 0;

	memset(&ps, 0, sizeof(ps));
	ps.type = type;
	ps.vendor = type == SIM_PORT_ROOT ? 0x8086 : 0x10b5;
	ps.device = type == SIM_PORT_ROOT ? 0x2030 : 0x8747;
	ps.has_slot = true;
	ps.phys_slot = phys;
	sim_slot_features_default(&ps.slot);
	if (sim_add_pcie_port(bus, dev, fn, &ps, &err))
		return 0;
	return err ? err : -1;
}

static int build_rootports(struct sim **out, unsigned n, uint64_t mem_limit,
			   uint64_t pref_base, uint64_t pref_limit)
{
	struct sim *sim = gen_sim(0x80000000ull, mem_limit, pref_base,
				  pref_limit, 0xffff, 255);
	int rc;

	if (!sim)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		if ((rc = add_slot_port(sim_root_bus(sim), (uint8_t)(1 + i / 8),
					(uint8_t)(i % 8), SIM_PORT_ROOT,
					(uint16_t)(1 + i)))) {
			sim_destroy(sim);
			return rc;
		}
	if ((rc = sim_add_device(sim_root_bus(sim), 0, &c_bmc_vga))) {
		sim_destroy(sim);
		return rc;
	}
	*out = sim;
	return 0;
}

/* 16 root-port slots: 1 GiB of 32-bit memory, 64 GiB prefetchable. */
static int build_pcie16(struct sim **out)
{
	return build_rootports(out, 16, 0xbfffffffull, 0x4000000000ull,
			       0x4fffffffffull);
}

/* 64 root-port slots: 1.75 GiB of 32-bit memory, 128 GiB prefetchable. */
static int build_pcie64(struct sim **out)
{
	return build_rootports(out, 64, 0xefffffffull, 0x8000000000ull,
			       0x9fffffffffull);
}

/* Four root-port slots and an 8-port switch below a fifth root port:
 * 512 MiB of 32-bit memory, 32 GiB prefetchable, buses 0-63. */
static int build_switch(struct sim **out)
{
	struct sim *sim = gen_sim(0x80000000ull, 0x9fffffffull,
				  0x800000000ull, 0xfffffffffull, 0xffff, 63);
	struct sim_port_spec ps;
	struct sim_fn *rp, *up;
	int rc = 0, err = 0;

	if (!sim)
		return -ENOMEM;
	for (unsigned i = 0; i < 4 && !rc; i++)
		rc = add_slot_port(sim_root_bus(sim), 1, (uint8_t)i,
				   SIM_PORT_ROOT, (uint16_t)(1 + i));
	memset(&ps, 0, sizeof(ps));
	ps.type = SIM_PORT_ROOT;
	ps.vendor = 0x8086;
	ps.device = 0x2032;
	rp = rc ? NULL : sim_add_pcie_port(sim_root_bus(sim), 2, 0, &ps, &err);
	ps.type = SIM_PORT_UPSTREAM;
	ps.vendor = 0x10b5;
	ps.device = 0x8747;
	up = rp ? sim_add_pcie_port(sim_fn_secondary(rp), 0, 0, &ps, &err)
		: NULL;
	if (!up)
		rc = rc ? rc : (err ? err : -1);
	for (unsigned i = 0; i < 8 && !rc; i++)
		rc = add_slot_port(sim_fn_secondary(up), (uint8_t)i, 0,
				   SIM_PORT_DOWNSTREAM, (uint16_t)(10 + i));
	if (!rc)
		rc = sim_add_device(sim_root_bus(sim), 0, &c_bmc_vga);
	if (rc) {
		sim_destroy(sim);
		return rc;
	}
	*out = sim;
	return 0;
}

/* A conventional machine: an 8-slot CompactPCI segment with slot power
 * and a 6-slot SHPC bridge; 28 KiB of I/O (below 0x1000 and above
 * 0x7fff belong to the board), 256 MiB of memory, no prefetchable
 * aperture, buses 0-31. */
static int build_cpci(struct sim **out)
{
	struct sim *sim = gen_sim(0x80000000ull, 0x8fffffffull, 0, 0, 0x7fff,
				  31);
	struct sim_cpci_spec cs;
	struct sim_shpc_spec ss;
	int rc = 0, err = 0;

	if (!sim)
		return -ENOMEM;
	memset(&cs, 0, sizeof(cs));
	cs.vendor = 0x8086;
	cs.device = 0xb154;
	cs.nslots = 8;
	cs.first_dev = 8;
	cs.first_phys = 1;
	cs.power_control = true;
	cs.enum_line = 10;
	if (!sim_add_cpci_segment(sim_root_bus(sim), 1, 0, &cs, &err))
		rc = err ? err : -1;
	memset(&ss, 0, sizeof(ss));
	ss.vendor = 0x8086;
	ss.device = 0x0329;
	ss.nslots = 6;
	ss.first_dev = 1;
	ss.first_phys = 20;
	ss.attention_button = true;
	ss.mrl_sensor = true;
	ss.cmd_delay_us = 1000;
	if (!rc && !sim_add_shpc_bridge(sim_root_bus(sim), 2, 0, &ss, &err))
		rc = err ? err : -1;
	if (!rc)
		rc = sim_add_device(sim_root_bus(sim), 0, &c_bmc_vga);
	if (rc) {
		sim_destroy(sim);
		return rc;
	}
	*out = sim;
	return 0;
}

static const struct chassis generated[] = {
	{ "gen-pcie16", "", build_pcie16,
	  "16 root-port slots; mem 1G, pref 64G" },
	{ "gen-pcie64", "", build_pcie64,
	  "64 root-port slots; mem 1.75G, pref 128G" },
	{ "gen-switch", "", build_switch,
	  "4 root-port slots + 8-port switch; mem 512M, pref 32G, 64 buses" },
	{ "gen-cpci", "", build_cpci,
	  "8 cPCI + 6 SHPC slots; io 28K, mem 256M, no pref, 32 buses" },
};

static int inst_open(const struct chassis *ch, struct inst *in, char *err,
		     size_t errlen)
{
	int rc;

	memset(in, 0, sizeof(*in));
	if (ch->path[0]) {
		rc = sim_topology_load(ch->path, NULL, &in->topo, err, errlen);
		if (rc)
			return rc;
		in->sim = sim_topology_sim(in->topo);
		return 0;
	}
	rc = ch->build(&in->sim);
	if (rc)
		snprintf(err, errlen, "%s: building the chassis failed (%d)",
			 ch->name, rc);
	return rc;
}

static void inst_close(struct inst *in)
{
	if (in->topo)
		sim_topology_free(in->topo);
	else if (in->sim)
		sim_destroy(in->sim);
	in->topo = NULL;
	in->sim = NULL;
}

/* ---- workloads ----------------------------------------------------------- */

struct ev {
	bool insert;
	unsigned slot;                       /* index in creation order */
	const struct sim_card_spec *card;    /* insertions */
};

struct workload {
	unsigned nslots;
	unsigned *phys;                      /* per slot */
	bool *pcie;                          /* per slot: takes PCIe cards */
	/* Generated chassis: the cards seated at power-on (NULL: empty).
	 * Loaded chassis keep the cards their file puts in. */
	const struct sim_card_spec **initial;
	struct ev *ev;
	size_t nev;
	unsigned ninsert;
};

static const struct sim_card_spec *draw_card(uint64_t *rng, bool pcie,
					     bool initial)
{
	const struct card *v = pcie ? pcie_cards : conv_cards;
	size_t n = pcie ? NELEM(pcie_cards) : NELEM(conv_cards);
	unsigned total = 0, x;

	for (size_t i = 0; i < n; i++)
		if (!initial || v[i].initial)
			total += v[i].weight;
	x = rng_below(rng, total);
	for (size_t i = 0; i < n; i++) {
		if (initial && !v[i].initial)
			continue;
		if (x < v[i].weight)
			return v[i].spec;
		x -= v[i].weight;
	}
	return v[0].spec;
}

static int bound_compute(const struct chassis *ch, const struct workload *w,
			 const struct sim_card_spec *const *want,
			 bool *feasible, char *err, size_t errlen);

static void workload_free(struct workload *w)
{
	free(w->phys);
	free(w->pcie);
	free(w->initial);
	free(w->ev);
	memset(w, 0, sizeof(*w));
}

/*
 * The same events for every strategy: which slot gets which card, and
 * which slot is emptied, decided on physical occupancy alone (a card
 * that failed to come up is still seated until its removal event).
 * About 60 % of events are insertions while there is room, so the
 * chassis fills up and then churns.
 */
static int workload_make(const struct chassis *ch, uint64_t seed,
			 unsigned ninsert, struct workload *w, char *err,
			 size_t errlen)
{
	struct inst in;
	struct sim_slot *s;
	bool *occ = NULL;
	size_t cap;
	uint64_t rng = seed;
	unsigned n = 0, i;
	int rc;

	memset(w, 0, sizeof(*w));
	if ((rc = inst_open(ch, &in, err, errlen)))
		return rc;
	for (s = sim_slot_next(in.sim, NULL); s; s = sim_slot_next(in.sim, s))
		n++;
	w->nslots = n;
	w->phys = calloc(n ? n : 1, sizeof(*w->phys));
	w->pcie = calloc(n ? n : 1, sizeof(*w->pcie));
	w->initial = calloc(n ? n : 1, sizeof(*w->initial));
	occ = calloc(n ? n : 1, sizeof(*occ));
	cap = 2 * (size_t)ninsert + n + 16;
	w->ev = calloc(cap, sizeof(*w->ev));
	if (!w->phys || !w->pcie || !w->initial || !occ || !w->ev) {
		inst_close(&in);
		free(occ);
		workload_free(w);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	i = 0;
	for (s = sim_slot_next(in.sim, NULL); s;
	     s = sim_slot_next(in.sim, s), i++) {
		struct sim_slot_info si;

		sim_slot_get_info(s, &si);
		w->phys[i] = si.phys;
		w->pcie[i] = si.kind == SIM_SLOT_PCIE;
		occ[i] = si.card != NULL;
	}
	inst_close(&in);
	/* A generated chassis starts about half full, with cards that all
	 * fit together (no function isolated at boot, whatever the
	 * strategy): each drawn card is kept only if the bound still finds
	 * an assignment. */
	for (i = 0; i < n && !ch->path[0]; i++) {
		bool fits = false;

		if (!rng_below(&rng, 2))
			continue;
		w->initial[i] = draw_card(&rng, w->pcie[i], true);
		if ((rc = bound_compute(ch, w, w->initial, &fits, err,
					errlen))) {
			free(occ);
			workload_free(w);
			return rc;
		}
		if (fits)
			occ[i] = true;
		else
			w->initial[i] = NULL;
	}
	while (w->ninsert < ninsert && w->nev < cap && n) {
		unsigned nocc = 0, pick, k;
		bool insert;

		for (k = 0; k < n; k++)
			nocc += occ[k];
		insert = nocc == 0 ||
			 (nocc < n && rng_below(&rng, 100) < 60);
		pick = rng_below(&rng, insert ? n - nocc : nocc);
		for (k = 0; k < n; k++)
			if (occ[k] != insert && pick-- == 0)
				break;
		w->ev[w->nev].insert = insert;
		w->ev[w->nev].slot = k;
		w->ev[w->nev].card = insert ? draw_card(&rng, w->pcie[k], false)
					    : NULL;
		occ[k] = insert;
		w->nev++;
		w->ninsert += insert;
	}
	free(occ);
	return 0;
}

/* ---- strategies ---------------------------------------------------------- */

enum { S_TIGHT, S_LINUX, S_HOTSWAP, S_REBAL, NSTRAT };

static const char *const strat_tag[NSTRAT] = { "(a)", "(b)", "(c)", "(d)" };
static const char *const strat_name[NSTRAT] = {
	"tight packing, no reservations, never move",
	"Linux defaults: 2M mem, 2M pref, 256 B I/O (4K: our I/O "
	"granularity), 1 bus, spare shared, never move",
	"hotswap defaults: 8M mem, 64M pref, 4K I/O, 4 buses, spare shared, "
	"never move",
	"hotswap defaults with rebalancing (HS_MOVE_CAPABLE)",
};

/*
 * Parameters of a strategy.  (a) and (b) also override every slot with
 * their own reservation, so a bridge's QEMU reservation capability
 * (examples/qemu-reserve.json) does not sneak reservations into (a) or
 * change Linux's; (c) and (d) are hotswap's defaults as shipped, which
 * honour it.  resv must hold one entry per slot and outlive the core.
 */
static void strat_params(int s, const struct workload *w,
			 struct hs_slot_reserve *resv,
			 struct hs_core_params *p)
{
	hs_core_params_defaults(p);
	p->slot_policy = HS_SLOT_POLICY_PRESENCE;
	p->rebalance.move = s == S_REBAL ? HS_MOVE_CAPABLE : HS_MOVE_NEVER;
	if (s == S_TIGHT || s == S_LINUX) {
		struct hs_reserve r = { 0, 0, 0, 0 };

		if (s == S_LINUX) {
			r.bus = 1;
			r.io = 256;
			r.mem = 2 * MiB;
			r.pref = 2 * MiB;
		}
		p->hotplug = r;
		p->share_leftover = s == S_LINUX;
		for (unsigned i = 0; i < w->nslots; i++) {
			resv[i].phys_slot = (uint16_t)w->phys[i];
			resv[i].r = r;
		}
		p->slot_reserve = resv;
		p->nslot_reserve = w->nslots;
	}
}

/* ---- the bound (e) ------------------------------------------------------- */

struct memo_ent {
	struct memo_ent *next;
	uint64_t h;
	bool feasible;
	char key[];
};

#define MEMO_BUCKETS 4096

struct bound {
	struct memo_ent *b[MEMO_BUCKETS];
	unsigned long computed, hits, witnessed;
	double cpu;
};

static void bound_clear(struct bound *bd)
{
	for (unsigned i = 0; i < MEMO_BUCKETS; i++)
		while (bd->b[i]) {
			struct memo_ent *e = bd->b[i];

			bd->b[i] = e->next;
			free(e);
		}
}

/* Whether d sits on a card in one of the slots: it, or one of the
 * bridges above it, is at a slot's device number on that slot's bus
 * (in_slot: a bitmap of bus << 5 | device). */
static unsigned check_assignment(struct hs_core *core, const struct sim *sim,
				 char *why, size_t len);

static bool in_a_slot(const struct hs_dev *d, const uint8_t *in_slot)
{
	for (; d; d = hs_dev_parent(d)) {
		unsigned k = (unsigned)HS_BDF_BUS(hs_dev_bdf(d)) << 5 |
			     HS_BDF_DEV(hs_dev_bdf(d));

		if (in_slot[k >> 3] & (1u << (k & 7)))
			return true;
	}
	return false;
}

/*
 * Whether an assignment exists for the cards in want[] (one per slot,
 * NULL: empty) and everything soldered: a fresh chassis holding exactly
 * those cards, booted with no reservations at all (tight packing,
 * largest alignment first), must give every function its bus numbers
 * and BARs without isolating anything.
 */
static int bound_compute(const struct chassis *ch, const struct workload *w,
			 const struct sim_card_spec *const *want,
			 bool *feasible, char *err, size_t errlen)
{
	struct hs_slot_reserve *resv = calloc(w->nslots + 1, sizeof(*resv));
	struct hs_core_params p;
	struct hs_platform plat;
	struct hs_core *core = NULL;
	struct inst in;
	struct sim_slot *s;
	unsigned i = 0, expected = 0, found = 0;
	uint8_t in_slot[256 * 32 / 8];
	char bad[256];
	bool isolated = false;
	int rc;

	memset(in_slot, 0, sizeof(in_slot));
	if (!resv)
		return -ENOMEM;
	if ((rc = inst_open(ch, &in, err, errlen))) {
		free(resv);
		return rc;
	}
	for (s = sim_slot_next(in.sim, NULL); s && i < w->nslots;
	     s = sim_slot_next(in.sim, s), i++) {
		struct sim_slot_info si;
		bool same;

		sim_slot_get_info(s, &si);
		same = si.card && want[i] && !strcmp(si.card, want[i]->name);
		if (si.card && !same)
			sim_remove(s, SIM_REMOVE_SURPRISE);
		if (want[i] && !same && (rc = sim_coldplug(s, want[i]))) {
			snprintf(err, errlen, "%s: seating %s in slot %u for "
				 "the bound failed (%d)", ch->name,
				 want[i]->name, si.phys, rc);
			goto out;
		}
		if (want[i])
			expected += count_functions(want[i]);
	}
	strat_params(S_TIGHT, w, resv, &p);
	sim_get_platform(in.sim, &plat);
	if ((rc = hs_core_create(&plat, &p, &core)) ||
	    (hs_core_enable_rebalance(core), (rc = hs_core_enumerate(core)))) {
		snprintf(err, errlen, "%s: booting the bound's chassis failed "
			 "(%d)", ch->name, rc);
		goto out;
	}
	/* Each slot's bus as the core numbered it, and its device. */
	for (s = sim_slot_next(in.sim, NULL); s; s = sim_slot_next(in.sim, s)) {
		struct sim_slot_info si;
		unsigned k;

		sim_slot_get_info(s, &si);
		k = sim_fn_peek(sim_slot_controller(s), 0x19, 1) << 5 | si.dev;
		in_slot[k >> 3] |= (uint8_t)(1u << (k & 7));
	}
	for (struct hs_dev *d = hs_dev_next(core, NULL); d;
	     d = hs_dev_next(core, d)) {
		const char *why;

		if (hs_dev_isolated(d, &why)) {
			isolated = true;
			if (trace)
				printf("      bound: %02x:%02x.%u isolated: "
				       "%s\n", HS_BDF_BUS(hs_dev_bdf(d)),
				       HS_BDF_DEV(hs_dev_bdf(d)),
				       HS_BDF_FN(hs_dev_bdf(d)), why);
		}
		if (in_a_slot(d, in_slot))
			found++;
	}
	/* And the assignment itself holds together. */
	*feasible = !isolated && found == expected &&
		    !check_assignment(core, in.sim, bad, sizeof(bad));
	if (trace && !isolated && found == expected && !*feasible)
		printf("      bound: invalid assignment: %s\n", bad);
	if (trace && found != expected)
		printf("      bound: %u functions in slots, %u expected\n",
		       found, expected);
out:
	hs_core_destroy(core);
	inst_close(&in);
	free(resv);
	return rc;
}

/* The memo key of a set of cards (one per slot); false when too long
 * to memoise. */
static bool memo_key(const struct workload *w,
		     const struct sim_card_spec *const *want, char *key,
		     size_t len, uint64_t *h)
{
	size_t at = 0;

	if (!len)
		return false;
	key[0] = '\0';         /* a workload without slots: the empty key */
	for (unsigned i = 0; i < w->nslots; i++) {
		int n = snprintf(key + at, len - at, "%s,",
				 want[i] ? want[i]->name : "");

		if (n < 0 || (size_t)n >= len - at)
			return false;
		at += (size_t)n;
	}
	*h = hash_str(0xcbf29ce484222325ull, key);
	return true;
}

static struct memo_ent *memo_find(struct bound *bd, const char *key,
				  uint64_t h)
{
	for (struct memo_ent *e = bd->b[h % MEMO_BUCKETS]; e; e = e->next)
		if (e->h == h && !strcmp(e->key, key))
			return e;
	return NULL;
}

/*
 * A strategy placed these cards, in a live assignment the validator
 * passed, where the bound's boot packer found none: that assignment is a
 * witness too (the live planner packs windows end-aligned, which boot
 * does not).  Later strategies in the same state see "feasible".
 */
static void bound_witness(struct bound *bd, const struct workload *w,
			  const struct sim_card_spec *const *want)
{
	char key[4096];
	uint64_t h;
	struct memo_ent *e;

	if (memo_key(w, want, key, sizeof(key), &h) &&
	    (e = memo_find(bd, key, h)) && !e->feasible) {
		e->feasible = true;
		bd->witnessed++;
	}
}

static int bound_feasible(struct bound *bd, const struct chassis *ch,
			  const struct workload *w,
			  const struct sim_card_spec *const *want,
			  bool *feasible, char *err, size_t errlen)
{
	char key[4096];
	size_t at = sizeof(key);
	uint64_t h = 0;
	struct memo_ent *e;
	double t0 = cpu_seconds();
	int rc;

	if (memo_key(w, want, key, sizeof(key), &h)) {
		at = 0;
		if ((e = memo_find(bd, key, h))) {
			*feasible = e->feasible;
			bd->hits++;
			bd->cpu += cpu_seconds() - t0;
			return 0;
		}
	}
	rc = bound_compute(ch, w, want, feasible, err, errlen);
	bd->computed++;
	if (!rc && at < sizeof(key)) {
		size_t len = strlen(key);

		e = malloc(sizeof(*e) + len + 1);
		if (e) {
			e->h = h;
			e->feasible = *feasible;
			memcpy(e->key, key, len + 1);
			e->next = bd->b[h % MEMO_BUCKETS];
			bd->b[h % MEMO_BUCKETS] = e;
		}
	}
	bd->cpu += cpu_seconds() - t0;
	return rc;
}

/* ---- one strategy on one workload ---------------------------------------- */

struct stats {
	unsigned attempted, succeeded, feasible, ok_feasible, ok_infeasible;
	unsigned long moved, moved_max, bars_moved, win_changed;
	unsigned decisions;
	double decision_cpu;
	unsigned removals, removal_failures;
	unsigned skipped;     /* insertions into a slot still holding a card */
	unsigned long submitted, completed, failed, refused, held, in_flight,
		      lost;
	unsigned dead;        /* bound devices not answering at the end */
	unsigned tainted;     /* insertions with an isolated function present */
	unsigned invalid;     /* insertions leaving overlapping resources */
	/* What the hardware saw: two agents claiming one cycle, DMA that
	 * found Bus Master Enable off on the way up. */
	unsigned long conflicts, dma_blocked;
	double cpu;
};

/* The decision of one insertion starts when the slot's first config
 * read of the new card answers (the slot state machine then calls the
 * hot-add at once) and ends when the slot leaves powering-on.  The
 * platform's cfg_read is wrapped to see that read. */
static struct tap {
	const struct hs_platform_ops *inner;
	bool armed;
	hs_bdf_t watch;
	double t_start;
} tap;

static int tap_cfg_read(void *ctx, hs_bdf_t bdf, uint16_t off, unsigned width,
			uint32_t *val)
{
	int rc = tap.inner->cfg_read(ctx, bdf, off, width, val);

	if (tap.armed && bdf == tap.watch && off == 0 && rc == 0) {
		uint16_t vid = (uint16_t)(*val & 0xffff);

		if (vid != 0xffff && vid != 0x0001 && vid != 0) {
			tap.armed = false;
			tap.t_start = cpu_seconds();
		}
	}
	return rc;
}

struct run {
	const struct chassis *ch;
	const struct workload *w;
	struct bound *bd;
	int strat;
	bool verbose;
	struct inst in;
	struct hs_platform plat;
	struct hs_platform_ops ops;
	struct hs_core *core;
	struct hs_slot_reserve *resv;
	struct sim_slot **slot;                  /* per slot */
	struct hs_slot **hs;
	const struct sim_card_spec **card;       /* seated now */
	const struct sim_card_spec **want;       /* scratch for the bound */
	/* The insertion being watched (by the core's slot name: physical
	 * numbers may repeat). */
	char watch[32];
	bool settled;
	double t_end;
	unsigned long moved_now, win_all;
	char alert[256];
	/* An operator request's outcome. */
	bool done_called;
	int done_rc;
	char done_msg[256];
	struct stats st;
};

static void on_event(void *arg, const struct hs_event *ev)
{
	struct run *r = arg;

	switch (ev->type) {
	case HS_EV_DEV_MOVED:
		r->moved_now++;
		break;
	case HS_EV_WINDOW_CHANGED:
		r->win_all++;
		break;
	case HS_EV_SLOT_STATE:
		if (trace)
			printf("      [%.3f ms] slot %s %s>%s %s\n",
			       (double)sim_now(r->in.sim) / 1e6, ev->slot_name,
			       hs_slot_state_name((enum hs_slot_state)ev->from),
			       hs_slot_state_name((enum hs_slot_state)ev->to),
			       ev->msg ? ev->msg : "");
		if (ev->slot_name && !strcmp(ev->slot_name, r->watch) &&
		    !r->settled &&
		    ev->from == HS_SLOT_POWERING_ON && ev->to != ev->from) {
			r->settled = true;
			r->t_end = cpu_seconds();
		}
		break;
	case HS_EV_SLOT_ALERT:
		if (ev->slot_name && !strcmp(ev->slot_name, r->watch) &&
		    !r->alert[0])
			snprintf(r->alert, sizeof(r->alert), "%s",
				 ev->msg ? ev->msg : "?");
		break;
	default:
		break;
	}
}

static void on_done(void *arg, int rc, const char *msg)
{
	struct run *r = arg;

	r->done_called = true;
	r->done_rc = rc;
	snprintf(r->done_msg, sizeof(r->done_msg), "%s", msg ? msg : "");
}

static enum hs_slot_state slot_state(const struct run *r, unsigned i)
{
	struct hs_slot_info si;

	hs_slot_get_info(r->hs[i], &si);
	return si.state;
}

#define REQS_PER_DEVICE 16   /* submitted before every insertion */
#define TOPUP_BELOW 4        /* during one, kept at least this many */
#define TOPUP_PERIOD HS_MSEC(10)

static bool is_simcard(const struct hs_dev *d)
{
	const struct hs_driver *drv = hs_dev_driver(d);

	return drv == &simnet_driver || drv == &simstor_driver;
}

/* Requests on every bound simnet / simstor device: n each, or with
 * below set, enough to keep at least that many in flight (held while
 * a rebalance has the driver stopped). */
static void submit_traffic(struct run *r, unsigned n, unsigned below)
{
	for (struct hs_dev *d = hs_dev_next(r->core, NULL); d;
	     d = hs_dev_next(r->core, d))
		if (is_simcard(d) && (!below || simcard_in_flight(d) < below))
			simcard_submit(d, n);
}

/* Run the chassis event by event until cond holds or limit passes;
 * with traffic, requests keep flowing while slot i is powering on
 * (readiness, then the hot-add and any rebalance it needs). */
static bool run_until(struct run *r, bool (*cond)(const struct run *, unsigned),
		      unsigned i, hs_time_t limit, bool traffic)
{
	struct sim *sim = r->in.sim;
	hs_time_t end = sim_now(sim) + limit, when, next = sim_now(sim);

	sim_advance(sim, 0);
	while (!cond(r, i)) {
		if (traffic && sim_now(sim) >= next &&
		    slot_state(r, i) == HS_SLOT_POWERING_ON) {
			submit_traffic(r, REQS_PER_DEVICE, TOPUP_BELOW);
			next = sim_now(sim) + TOPUP_PERIOD;
		}
		if (!sim_next_event(sim, &when) || when > end) {
			sim_advance(sim, end - sim_now(sim));
			return cond(r, i);
		}
		sim_step(sim);
	}
	return true;
}

static bool c_settled(const struct run *r, unsigned i)
{
	(void)i;
	return r->settled;
}

static bool c_done(const struct run *r, unsigned i)
{
	(void)i;
	return r->done_called;
}

static bool c_empty(const struct run *r, unsigned i)
{
	return slot_state(r, i) == HS_SLOT_EMPTY;
}

static unsigned long in_flight(struct run *r)
{
	unsigned long n = 0;

	for (struct hs_dev *d = hs_dev_next(r->core, NULL); d;
	     d = hs_dev_next(r->core, d))
		n += simcard_in_flight(d);
	return n;
}

/* Where every running function's BARs are, to see who moved. */
struct snap {
	const struct hs_dev *dev;
	uint64_t at[7];
};

static struct snap *snap_take(struct hs_core *core, size_t *n)
{
	size_t cnt = 0, k = 0;
	struct snap *v;

	for (struct hs_dev *d = hs_dev_next(core, NULL); d;
	     d = hs_dev_next(core, d))
		cnt++;
	v = calloc(cnt ? cnt : 1, sizeof(*v));
	if (!v) {
		*n = 0;
		return NULL;
	}
	for (struct hs_dev *d = hs_dev_next(core, NULL); d && k < cnt;
	     d = hs_dev_next(core, d), k++) {
		v[k].dev = d;
		for (int b = 0; b < 7; b++) {
			struct hs_resource res;

			v[k].at[b] = hs_dev_bar(d, b, &res) == 0 ? res.start
								 : ~0ull;
		}
	}
	*n = k;
	return v;
}

/* Functions present in both snapshots whose BARs changed address. */
static unsigned snap_moved(const struct snap *a, size_t na,
			   const struct snap *b, size_t nb)
{
	unsigned moved = 0;

	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++)
			if (a[i].dev == b[j].dev) {
				moved += memcmp(a[i].at, b[j].at,
						sizeof(a[i].at)) != 0;
				break;
			}
	return moved;
}

/*
 * Is the committed assignment valid?  On every bus, no two BARs or
 * windows of one kind overlap, and each lies inside the window of its
 * bridge (on the root bus: inside the host's aperture).  Returns the
 * number of violations; the first is described in why.
 */
struct iv {
	const struct hs_dev *dev, *parent;
	enum hs_res kind;
	uint64_t start, end;    /* end exclusive */
	int bar;                /* -1: a window */
};

static void iv_name(char *buf, size_t len, const struct iv *v)
{
	hs_bdf_t b = hs_dev_bdf(v->dev);

	snprintf(buf, len, "%02x:%02x.%u %s%d [%#llx-%#llx]", HS_BDF_BUS(b),
		 HS_BDF_DEV(b), HS_BDF_FN(b), v->bar < 0 ? "window" : "BAR",
		 v->bar < 0 ? (int)v->kind : v->bar,
		 (unsigned long long)v->start, (unsigned long long)v->end - 1);
}

static unsigned check_assignment(struct hs_core *core, const struct sim *sim,
				 char *why, size_t len)
{
	const struct sim_config *cfg = sim_get_config(sim);
	struct iv *v = NULL;
	size_t n = 0, cap = 0;
	unsigned bad = 0;
	char a[96], b[96];

	why[0] = '\0';
	for (struct hs_dev *d = hs_dev_next(core, NULL); d;
	     d = hs_dev_next(core, d)) {
		/* Windows (as -1 - kind), then BARs 0-6. */
		for (int k = -1 - HS_RES_PREF; k < 7; k++) {
			struct hs_resource res;
			int rc;

			if (k >= 0)
				rc = hs_dev_bar(d, k, &res);
			else if (hs_dev_is_bridge(d))
				rc = hs_dev_window(d, (enum hs_res)(-1 - k),
						   &res);
			else
				rc = -1;
			if (rc || !res.size || k == -1 - HS_RES_BUS)
				continue;
			if (n == cap) {
				size_t nc = cap ? 2 * cap : 256;
				struct iv *m = realloc(v, nc * sizeof(*v));

				if (!m) {
					free(v);
					snprintf(why, len, "out of memory");
					return 1;
				}
				v = m;
				cap = nc;
			}
			v[n].dev = d;
			v[n].parent = hs_dev_parent(d);
			v[n].kind = res.kind;
			v[n].start = res.start;
			v[n].end = res.start + res.size;
			v[n].bar = k < 0 ? -1 : k;
			n++;
		}
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t lo = 0, hi = 0;
		struct hs_resource pw;

		/* Inside the bridge's window, or the host's aperture. */
		if (v[i].parent) {
			if (hs_dev_window(v[i].parent, v[i].kind, &pw) == 0) {
				lo = pw.start;
				hi = pw.start + pw.size;
			}
		} else if (v[i].kind == HS_RES_IO) {
			lo = cfg->io_base;
			hi = (uint64_t)cfg->io_limit + 1;
		} else if (v[i].kind == HS_RES_MEM) {
			lo = cfg->mem_base;
			hi = cfg->mem_limit + 1;
		} else if (cfg->pref_limit) {
			lo = cfg->pref_base;
			hi = cfg->pref_limit + 1;
		}
		if ((v[i].start < lo || v[i].end > hi) && !bad++) {
			iv_name(a, sizeof(a), &v[i]);
			if (hi > lo)
				snprintf(why, len, "%s outside [%#llx-%#llx]",
					 a, (unsigned long long)lo,
					 (unsigned long long)hi - 1);
			else
				snprintf(why, len, "%s, and %s", a,
					 v[i].parent ? "its bridge has no such "
						       "window"
						     : "the host has no such "
						       "aperture");
		}
		for (size_t j = i + 1; j < n; j++)
			if (v[j].parent == v[i].parent &&
			    v[j].kind == v[i].kind && v[j].start < v[i].end &&
			    v[i].start < v[j].end && !bad++) {
				iv_name(a, sizeof(a), &v[i]);
				iv_name(b, sizeof(b), &v[j]);
				snprintf(why, len, "%s overlaps %s", a, b);
			}
	}
	free(v);
	return bad;
}

/* After boot and every insertion: count an invalid assignment. */
static void check_now(struct run *r, const char *when)
{
	char why[256];

	if (check_assignment(r->core, r->in.sim, why, sizeof(why))) {
		r->st.invalid++;
		if (r->verbose)
			printf("    %s %-12s INVALID assignment after %s: %s\n",
			       strat_tag[r->strat], r->ch->name, when, why);
	}
}

/* --trace: every function's windows and BARs, and what the hardware
 * counted so far. */
static void dump_tree(struct run *r)
{
	struct sim_counters c;

	for (struct hs_dev *d = hs_dev_next(r->core, NULL); d;
	     d = hs_dev_next(r->core, d)) {
		hs_bdf_t b = hs_dev_bdf(d);
		struct hs_resource res;

		printf("        %02x:%02x.%u", HS_BDF_BUS(b), HS_BDF_DEV(b),
		       HS_BDF_FN(b));
		for (int k = HS_RES_IO; k < HS_RES_COUNT; k++)
			if (hs_dev_is_bridge(d) &&
			    hs_dev_window(d, (enum hs_res)k, &res) == 0)
				printf(" w%d %#llx+%#llx", k,
				       (unsigned long long)res.start,
				       (unsigned long long)res.size);
		for (int k = 0; k < 7; k++)
			if (hs_dev_bar(d, k, &res) == 0)
				printf(" b%d %#llx+%#llx", k,
				       (unsigned long long)res.start,
				       (unsigned long long)res.size);
		printf("\n");
	}
	sim_get_counters(r->in.sim, &c);
	printf("      counters: decode conflicts %lu, DMA blocked %lu, mem "
	       "master aborts %lu\n", c.decode_conflicts, c.dma_blocked,
	       c.mem_master_aborts);
}

static int do_insert(struct run *r, unsigned i,
		     const struct sim_card_spec *card, char *err,
		     size_t errlen)
{
	struct hs_slot_info si;
	struct sim_slot_info hw;
	struct hs_dev *br;
	struct snap *before, *after;
	size_t nb = 0, na = 0;
	unsigned secbus = 0, moved_bars;
	bool feasible = false, ok;
	int rc;

	sim_slot_get_info(r->slot[i], &hw);
	if (hw.card) {
		r->st.skipped++;
		return 0;
	}
	/* (e): the cards configured now, plus the new one. */
	for (unsigned k = 0; k < r->w->nslots; k++)
		r->want[k] = slot_state(r, k) == HS_SLOT_ON ? r->card[k] : NULL;
	r->want[i] = card;
	/* The bound reasons about whole cards: it is only meaningful when
	 * every configured function holds its resources. */
	for (struct hs_dev *d = hs_dev_next(r->core, NULL); d;
	     d = hs_dev_next(r->core, d))
		if (hs_dev_isolated(d, NULL)) {
			r->st.tainted++;
			break;
		}
	rc = bound_feasible(r->bd, r->ch, r->w, r->want, &feasible, err,
			    errlen);
	if (rc)
		return rc;

	submit_traffic(r, REQS_PER_DEVICE, 0);
	before = snap_take(r->core, &nb);
	hs_slot_get_info(r->hs[i], &si);
	br = hs_dev_find(r->core, si.bridge);
	if (!br || hs_dev_secondary_bus(br, &secbus))
		secbus = 0x100; /* matches no read: no decision timing */
	tap.watch = HS_BDF(HS_BDF_SEG(si.bridge), secbus, si.devnum, 0);
	tap.armed = secbus < 0x100;
	tap.t_start = 0;
	snprintf(r->watch, sizeof(r->watch), "%s", si.name);
	r->settled = false;
	r->moved_now = 0;
	r->alert[0] = '\0';
	if ((rc = sim_insert(r->slot[i], card))) {
		snprintf(err, errlen, "%s: inserting %s in slot %u failed (%d)",
			 r->ch->name, card->name, r->w->phys[i], rc);
		free(before);
		return rc;
	}
	r->card[i] = card;
	/* Under (d) a rebalance may stop running drivers: keep their
	 * requests flowing until the slot settles, so some are held and
	 * resumed.  (a)-(c) never stop a driver; the burst above keeps
	 * requests in flight around their decisions, at a quarter of the
	 * simulation time. */
	run_until(r, c_settled, i, HS_SEC(30), r->strat == S_REBAL);
	tap.armed = false;
	r->watch[0] = '\0';
	ok = slot_state(r, i) == HS_SLOT_ON;
	after = snap_take(r->core, &na);
	moved_bars = snap_moved(before, nb, after, na);
	free(before);
	free(after);

	/* A success is itself a witness when the validator passes it. */
	{
		unsigned long invalid = r->st.invalid;

		check_now(r, "insertion");
		if (ok && !feasible && r->st.invalid == invalid) {
			bound_witness(r->bd, r->w, r->want);
			r->st.ok_infeasible++;
			feasible = true;
		}
	}
	r->st.attempted++;
	r->st.succeeded += ok;
	r->st.feasible += feasible;
	r->st.ok_feasible += ok && feasible;
	r->st.moved += r->moved_now;
	if (r->moved_now > r->st.moved_max)
		r->st.moved_max = r->moved_now;
	r->st.bars_moved += moved_bars;
	if (r->settled && tap.t_start > 0) {
		r->st.decisions++;
		r->st.decision_cpu += r->t_end - tap.t_start;
	}
	if (trace)
		dump_tree(r);
	if (r->verbose)
		printf("    %s %-12s slot %3u %-16s %-4s %s, moved %lu, "
		       "requests failed so far %lu%s%s\n",
		       strat_tag[r->strat], r->ch->name, r->w->phys[i],
		       card->name, ok ? "ok" : "FAIL",
		       feasible ? "feasible" : "infeasible", r->moved_now,
		       simcard_ledger()->failed, ok ? "" : ": ",
		       ok ? "" : r->alert);
	return 0;
}

static void do_remove(struct run *r, unsigned i)
{
	enum hs_slot_state s = slot_state(r, i);

	r->st.removals++;
	if (s == HS_SLOT_ON) {
		r->done_called = false;
		if (hs_slot_disable(r->hs[i], on_done, r) != 0 ||
		    !run_until(r, c_done, i, HS_SEC(30), false) || r->done_rc) {
			r->st.removal_failures++;
			if (r->verbose)
				printf("    %s %-12s slot %3u removal refused: "
				       "%s\n", strat_tag[r->strat], r->ch->name,
				       r->w->phys[i], r->done_msg);
		}
	}
	/* Pulled: orderly if the operator's request went through, as is
	 * otherwise (the core then sees a surprise removal).  A card the
	 * interlock still holds stays, and the next insertion into the
	 * slot is skipped. */
	if (sim_remove(r->slot[i], slot_state(r, i) == HS_SLOT_ON
					   ? SIM_REMOVE_SURPRISE
					   : SIM_REMOVE_ORDERLY)) {
		r->st.removal_failures++;
		if (r->verbose)
			printf("    %s %-12s slot %3u: the card could not be "
			       "pulled\n", strat_tag[r->strat], r->ch->name,
			       r->w->phys[i]);
		return;
	}
	r->card[i] = NULL;
	run_until(r, c_empty, i, HS_SEC(5), false);
}

/*
 * The core's slot for a simulator slot: the one at the same device
 * number on the same bus.  (Physical numbers are not unique: a plain
 * 21154 bridge is taken for a CompactPCI backplane and gets a slot per
 * device number, named by device number.)
 */
static struct hs_slot *core_slot(struct hs_core *core, struct sim_slot *s)
{
	struct sim_slot_info si;
	unsigned bus = sim_fn_peek(sim_slot_controller(s), 0x19, 1);

	sim_slot_get_info(s, &si);
	for (struct hs_slot *h = hs_slot_next(core, NULL); h;
	     h = hs_slot_next(core, h)) {
		struct hs_slot_info hi;
		struct hs_dev *br;
		unsigned sec;

		hs_slot_get_info(h, &hi);
		br = hs_dev_find(core, hi.bridge);
		if (br && hs_dev_secondary_bus(br, &sec) == 0 && sec == bus &&
		    hi.devnum == si.dev)
			return h;
	}
	return NULL;
}

static void run_free(struct run *r)
{
	if (r->core)
		hs_core_destroy(r->core);
	inst_close(&r->in);
	free(r->resv);
	free(r->slot);
	free(r->hs);
	free(r->card);
	free(r->want);
	r->core = NULL;
}

static int run_strategy(const struct chassis *ch, const struct workload *w,
			struct bound *bd, int strat, bool verbose,
			struct stats *out, char *err, size_t errlen)
{
	struct run r;
	struct hs_core_params p;
	const struct simcard_ledger *l = simcard_ledger();
	struct sim_slot *s;
	unsigned n = w->nslots, i;
	double t0 = cpu_seconds(), bound0 = bd->cpu;
	int rc;

	memset(&r, 0, sizeof(r));
	r.ch = ch;
	r.w = w;
	r.bd = bd;
	r.strat = strat;
	r.verbose = verbose;
	simcard_ledger_reset();
	r.resv = calloc(n + 1, sizeof(*r.resv));
	r.slot = calloc(n + 1, sizeof(*r.slot));
	r.hs = calloc(n + 1, sizeof(*r.hs));
	r.card = calloc(n + 1, sizeof(*r.card));
	r.want = calloc(n + 1, sizeof(*r.want));
	if (!r.resv || !r.slot || !r.hs || !r.card || !r.want) {
		run_free(&r);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((rc = inst_open(ch, &r.in, err, errlen))) {
		run_free(&r);
		return rc;
	}
	i = 0;
	for (s = sim_slot_next(r.in.sim, NULL); s && i < n;
	     s = sim_slot_next(r.in.sim, s), i++) {
		struct sim_slot_info si;

		r.slot[i] = s;
		sim_slot_get_info(s, &si);
		if (si.card)
			r.card[i] = sim_topology_card(r.in.topo, si.card);
		else if (w->initial[i] &&
			 (rc = sim_coldplug(s, w->initial[i])) == 0)
			r.card[i] = w->initial[i];
		if (rc) {
			snprintf(err, errlen, "%s: seating %s failed (%d)",
				 ch->name, w->initial[i]->name, rc);
			run_free(&r);
			return rc;
		}
	}

	/* The core on a platform whose config reads are watched. */
	sim_get_platform(r.in.sim, &r.plat);
	tap.inner = r.plat.ops;
	tap.armed = false;
	r.ops = *r.plat.ops;
	r.ops.cfg_read = tap_cfg_read;
	r.plat.ops = &r.ops;
	strat_params(strat, w, r.resv, &p);
	if ((rc = hs_core_create(&r.plat, &p, &r.core)) ||
	    (hs_core_enable_rebalance(r.core),
	     (rc = hs_controllers_register(r.core))) ||
	    (rc = hs_driver_register(r.core, &simnet_driver)) ||
	    (rc = hs_driver_register(r.core, &simstor_driver)) ||
	    (rc = hs_core_subscribe(r.core, on_event, &r)) ||
	    (rc = hs_core_enumerate(r.core))) {
		snprintf(err, errlen, "%s %s: the core did not start (%d)",
			 ch->name, strat_tag[strat], rc);
		run_free(&r);
		return rc;
	}
	/* Let every slot settle from what enumeration found. */
	sim_advance(r.in.sim, HS_SEC(3));
	for (i = 0; i < n; i++)
		if (!(r.hs[i] = core_slot(r.core, r.slot[i]))) {
			snprintf(err, errlen, "%s: the core has no slot for "
				 "physical slot %u", ch->name, w->phys[i]);
			run_free(&r);
			return -ENOENT;
		}

	check_now(&r, "boot");
	for (size_t e = 0; e < w->nev; e++) {
		const struct ev *ev = &w->ev[e];

		if (!ev->insert) {
			do_remove(&r, ev->slot);
			continue;
		}
		if ((rc = do_insert(&r, ev->slot, ev->card, err, errlen))) {
			run_free(&r);
			return rc;
		}
	}

	/* Let the traffic finish, then balance the ledger. */
	for (int k = 0; k < 100 && in_flight(&r); k++)
		sim_advance(r.in.sim, HS_MSEC(100));
	r.st.in_flight = in_flight(&r);
	r.st.submitted = l->submitted;
	r.st.completed = l->completed;
	r.st.failed = l->failed;
	r.st.refused = l->refused;
	r.st.held = l->held;
	r.st.lost = l->submitted - l->completed - l->failed - r.st.in_flight;
	/* Every bound device still answers at its (possibly new) address. */
	for (struct hs_dev *d = hs_dev_next(r.core, NULL); d;
	     d = hs_dev_next(r.core, d)) {
		uint32_t v = 0;

		if (is_simcard(d) && (hs_dev_read32(d, 0, 0, &v) ||
				      v != simcard_id(d)))
			r.st.dead++;
	}
	r.st.win_changed = r.win_all;
	{
		struct sim_counters c;

		sim_get_counters(r.in.sim, &c);
		r.st.conflicts = c.decode_conflicts;
		r.st.dma_blocked = c.dma_blocked;
	}
	run_free(&r);
	r.st.cpu = cpu_seconds() - t0 - (bd->cpu - bound0);
	*out = r.st;
	return 0;
}

/* ---- the table ----------------------------------------------------------- */

static void stats_add(struct stats *a, const struct stats *b)
{
	a->attempted += b->attempted;
	a->succeeded += b->succeeded;
	a->feasible += b->feasible;
	a->ok_feasible += b->ok_feasible;
	a->ok_infeasible += b->ok_infeasible;
	a->moved += b->moved;
	if (b->moved_max > a->moved_max)
		a->moved_max = b->moved_max;
	a->bars_moved += b->bars_moved;
	a->win_changed += b->win_changed;
	a->decisions += b->decisions;
	a->decision_cpu += b->decision_cpu;
	a->removals += b->removals;
	a->removal_failures += b->removal_failures;
	a->skipped += b->skipped;
	a->submitted += b->submitted;
	a->completed += b->completed;
	a->failed += b->failed;
	a->refused += b->refused;
	a->held += b->held;
	a->in_flight += b->in_flight;
	a->lost += b->lost;
	a->dead += b->dead;
	a->tainted += b->tainted;
	a->invalid += b->invalid;
	a->conflicts += b->conflicts;
	a->dma_blocked += b->dma_blocked;
	a->cpu += b->cpu;
}

static void print_header(void)
{
	printf("%-13s %-3s %5s %5s %5s %8s %5s %4s %6s %5s %6s %4s %6s %8s "
	       "%6s\n",
	       "chassis", "", "tried", "ok", "feas.", "ok/feas.", "moved",
	       "max", "BARchg", "winch", "failrq", "lost", "dconf", "us/dec.",
	       "run s");
}

static void print_row(const char *name, int s, const struct stats *st)
{
	char rate[16];

	if (st->feasible)
		snprintf(rate, sizeof(rate), "%.1f%%",
			 100.0 * st->ok_feasible / st->feasible);
	else
		snprintf(rate, sizeof(rate), "-");
	printf("%-13s %-3s %5u %5u %5u %8s %5.2f %4lu %6lu %5lu %6lu %4lu "
	       "%6lu %8.1f %6.2f\n",
	       name, strat_tag[s], st->attempted, st->succeeded, st->feasible,
	       rate, st->attempted ? (double)st->moved / st->attempted : 0.0,
	       st->moved_max, st->bars_moved, st->win_changed, st->failed,
	       st->lost, st->conflicts,
	       st->decisions ? st->decision_cpu / st->decisions * 1e6 : 0.0,
	       st->cpu);
}

/* ---- main ---------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hotswap-bench-alloc [--seed N] [--quick] "
		"[--insertions N] [--workloads N]\n"
		"                           [--chassis NAME] [--examples DIR] "
		"[--verbose] [--trace]\n"
		"  --seed N        seed of the workloads (default 1)\n"
		"  --quick         a short run (8 insertions, 1 workload per "
		"chassis)\n"
		"  --insertions N  insertions per workload (default 30)\n"
		"  --workloads N   workloads per chassis (default 3)\n"
		"  --chassis NAME  only chassis whose name contains NAME\n"
		"  --examples DIR  example chassis directory (default %s)\n"
		"  --verbose       print every insertion and refusal\n"
		"  --trace         also slot transitions, the tree after each "
		"insertion and\n"
		"                  why the bound refused\n",
		HOTSWAP_SRCDIR "/examples");
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return !errno && !*end;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(((const struct chassis *)a)->name,
		      ((const struct chassis *)b)->name);
}

/* Every example chassis (*.json in dir) that has hot-plug slots. */
static int find_examples(const char *dir, struct chassis **out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct chassis *v = NULL;
	size_t cnt = 0, cap = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct chassis c;
		struct inst in;
		char err[512];

		if (len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		memset(&c, 0, sizeof(c));
		snprintf(c.name, sizeof(c.name), "%.*s", (int)(len - 5),
			 de->d_name);
		snprintf(c.path, sizeof(c.path), "%s/%s", dir, de->d_name);
		if (inst_open(&c, &in, err, sizeof(err))) {
			fprintf(stderr, "bench-alloc: skipping %s\n", err);
			continue;
		}
		bool slots = sim_slot_next(in.sim, NULL) != NULL;

		inst_close(&in);
		if (!slots)
			continue;
		if (cnt == cap) {
			size_t nc = cap ? 2 * cap : 8;
			struct chassis *m = realloc(v, nc * sizeof(*v));

			if (!m) {
				closedir(d);
				free(v);
				return -ENOMEM;
			}
			v = m;
			cap = nc;
		}
		v[cnt++] = c;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*out = v;
	*n = cnt;
	return 0;
}

int main(int argc, char **argv)
{
	const char *examples = HOTSWAP_SRCDIR "/examples", *only = NULL;
	uint64_t seed = 1, v;
	unsigned ninsert = 30, nwork = 3;
	bool quick = false, verbose = false, set_ins = false, set_wl = false;
	struct chassis *ex = NULL, *all;
	size_t nex = 0, nall;
	struct bound *bd;
	unsigned long d_ok = 0, d_feas = 0, lost = 0, failed = 0, contra = 0,
		      never_moved = 0, dead = 0, refused_rm = 0, conflicts = 0,
		      blocked = 0, tainted = 0, invalid = 0, skipped = 0,
		      held = 0, submitted = 0, timed = 0, tried = 0;
	unsigned cb_bad = 0, nwl = 0;
	char cb_list[512] = "";
	double t_all = cpu_seconds();
	int rc, status = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--quick")) {
			quick = true;
		} else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
			verbose = true;
		} else if (!strcmp(a, "--trace")) {
			verbose = trace = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--seed") && i + 1 < argc &&
			   parse_u64(argv[i + 1], &v)) {
			seed = v;
			i++;
		} else if (!strcmp(a, "--insertions") && i + 1 < argc &&
			   parse_u64(argv[i + 1], &v) && v > 0 && v <= 100000) {
			ninsert = (unsigned)v;
			set_ins = true;
			i++;
		} else if (!strcmp(a, "--workloads") && i + 1 < argc &&
			   parse_u64(argv[i + 1], &v) && v > 0 && v <= 1000) {
			nwork = (unsigned)v;
			set_wl = true;
			i++;
		} else if (!strcmp(a, "--chassis") && i + 1 < argc) {
			only = argv[++i];
		} else if (!strcmp(a, "--examples") && i + 1 < argc) {
			examples = argv[++i];
		} else {
			fprintf(stderr, "hotswap-bench-alloc: bad option or "
				"value: %s\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (quick) {
		if (!set_ins)
			ninsert = 8;
		if (!set_wl)
			nwork = 1;
	}
	if ((rc = find_examples(examples, &ex, &nex)) < 0) {
		fprintf(stderr, "hotswap-bench-alloc: %s: %s\n", examples,
			strerror(-rc));
		return 2;
	}
	nall = nex + NELEM(generated);
	all = calloc(nall, sizeof(*all));
	bd = calloc(1, sizeof(*bd));
	if (!all || !bd) {
		fprintf(stderr, "hotswap-bench-alloc: out of memory\n");
		status = 1;
		goto out;
	}
	if (nex)
		memcpy(all, ex, nex * sizeof(*ex));
	memcpy(all + nex, generated, sizeof(generated));

	for (size_t c = 0, match = 0; c < nall; c++) {
		match += !only || strstr(all[c].name, only);
		if (c + 1 == nall && !match) {
			fprintf(stderr, "hotswap-bench-alloc: no chassis "
				"matches \"%s\"\n", only);
			status = 2;
			goto out;
		}
	}
	printf("hotswap allocation benchmark: seed %llu, %u workload%s of %u "
	       "insertions per chassis\n\n",
	       (unsigned long long)seed, nwork, nwork == 1 ? "" : "s",
	       ninsert);
	for (int s = 0; s < NSTRAT; s++)
		printf("  %s %s\n", strat_tag[s], strat_name[s]);
	printf("  (e) bound: a fresh chassis with the configured cards plus "
	       "the new one, booted with\n      no reservations, gives "
	       "every function its resources (\"feas.\")\n\n");
	printf("chassis (fixed apertures; every slot starts as the file "
	       "says, generated ones half full):\n");
	for (size_t c = 0; c < nall; c++)
		if (!only || strstr(all[c].name, only))
			printf("  %-13s %s\n", all[c].name,
			       all[c].path[0] ? all[c].path : all[c].what);
	printf("\n");
	printf("columns: tried, ok: insertions attempted, succeeded; feas.: "
	       "feasible per (e);\n"
	       " ok/feas.: success rate on the feasible ones; moved, max: "
	       "devices moved per insertion\n"
	       " (HS_EV_DEV_MOVED), mean and max; BARchg: running functions "
	       "whose BARs changed\n"
	       " address (seen from outside); winch: HS_EV_WINDOW_CHANGED; "
	       "failrq, lost: requests\n"
	       " failed with an error, lost; dconf: cycles two agents "
	       "claimed; us/dec.: CPU per\n"
	       " decision (the card's first answer to the slot leaving "
	       "powering-on); run s: CPU of\n"
	       " the runs (the bound's chassis excluded)\n\n");
	print_header();

	for (size_t c = 0; c < nall; c++) {
		const struct chassis *ch = &all[c];
		struct stats tot[NSTRAT];
		unsigned nslots = 0;

		if (only && !strstr(ch->name, only))
			continue;
		memset(tot, 0, sizeof(tot));
		for (unsigned k = 0; k < nwork; k++) {
			struct workload w;
			struct stats row[NSTRAT];
			char err[512];
			uint64_t ws = hash_str(seed * 0x9e3779b97f4a7c15ull + k,
					       ch->name);

			if (workload_make(ch, ws, ninsert, &w, err,
					  sizeof(err))) {
				fprintf(stderr, "hotswap-bench-alloc: %s\n",
					err);
				status = 1;
				goto out;
			}
			nslots = w.nslots;
			for (int s = 0; s < NSTRAT; s++) {
				if (run_strategy(ch, &w, bd, s, verbose,
						 &row[s], err, sizeof(err))) {
					fprintf(stderr,
						"hotswap-bench-alloc: %s\n",
						err);
					workload_free(&w);
					status = 1;
					goto out;
				}
				stats_add(&tot[s], &row[s]);
				never_moved += s != S_REBAL
					       ? row[s].bars_moved : 0;
			}
			nwl++;
			if (row[S_HOTSWAP].succeeded < row[S_LINUX].succeeded) {
				size_t len = strlen(cb_list);

				cb_bad++;
				snprintf(cb_list + len, sizeof(cb_list) - len,
					 " %s#%u (%u < %u)", ch->name, k,
					 row[S_HOTSWAP].succeeded,
					 row[S_LINUX].succeeded);
			}
			workload_free(&w);
		}
		bound_clear(bd);
		for (int s = 0; s < NSTRAT; s++) {
			char label[80];

			/* The name, then the number of slots under it. */
			if (s == 0)
				snprintf(label, sizeof(label), "%s", ch->name);
			else if (s == 1)
				snprintf(label, sizeof(label), " %u slots",
					 nslots);
			else
				label[0] = '\0';
			print_row(label, s, &tot[s]);
			lost += tot[s].lost;
			failed += tot[s].failed;
			contra += tot[s].ok_infeasible;
			dead += tot[s].dead;
			tainted += tot[s].tainted;
			invalid += tot[s].invalid;
			refused_rm += tot[s].removal_failures;
			skipped += tot[s].skipped;
			held += tot[s].held;
			timed += tot[s].decisions;
			tried += tot[s].attempted;
			submitted += tot[s].submitted;
			conflicts += tot[s].conflicts;
			blocked += tot[s].dma_blocked;
		}
		d_ok += tot[S_REBAL].ok_feasible;
		d_feas += tot[S_REBAL].feasible;
		fflush(stdout);
	}

	printf("\nbound (e): %lu chassis booted, %lu answered from memory, "
	       "%lu states witnessed by a live assignment, %.2f s CPU\n",
	       bd->computed, bd->hits, bd->witnessed, bd->cpu);
	printf("total CPU %.2f s\n\n", cpu_seconds() - t_all);
	printf("done when (issue #7):\n");
	printf("  (d) succeeded on %lu of %lu feasible insertions (%.1f%%)\n",
	       d_ok, d_feas, d_feas ? 100.0 * d_ok / d_feas : 100.0);
	printf("  (c) >= (b) on every workload: %s (%u workload%s)%s%s\n",
	       cb_bad ? "no" : "yes", nwl, nwl == 1 ? "" : "s",
	       cb_bad ? "; not on:" : "", cb_list);
	printf("  requests lost: %lu (of %lu submitted; failed with an error: "
	       "%lu; held while a rebalance had their driver stopped: %lu)\n",
	       lost, submitted, failed, held);
	printf("also:\n");
	printf("  never-move strategies (a)-(c): running functions whose BARs "
	       "changed: %lu\n", never_moved);
	printf("  insertions placed where (e)'s boot found no assignment (the "
	       "live one is the witness, counted feasible): %lu\n", contra);
	printf("  insertions made while an isolated function was present "
	       "(bound not meaningful): %lu\n", tainted);
	printf("  bound devices not answering their ID register at the end: "
	       "%lu\n", dead);
	printf("  insertions whose decision was timed: %lu of %lu\n", timed,
	       tried);
	printf("  removals refused or failed: %lu (insertions skipped as the "
	       "card was still there: %lu)\n", refused_rm, skipped);
	printf("  insertions after which two BARs or windows overlapped or "
	       "one left its bridge's window: %lu\n", invalid);
	printf("  cycles two agents claimed (decode conflicts): %lu; DMA "
	       "blocked on the way up: %lu\n", conflicts, blocked);
out:
	if (bd)
		bound_clear(bd);
	free(bd);
	free(all);
	free(ex);
	return status;
}
