/*
 * embed.c - an embedder's program against the installed libraries
 * (tests/cli/install.sh compiles it as C with gcc and as C++ with g++).
 *
 * Owns: nothing but its own check: the public headers (include/hotswap and
 * include/hotswap/sim) compile in both languages and the programs link with
 * libhotswap-core and libhotswap-sim through their pkg-config files.
 * It builds a chassis from a topology file, brings the core up on the
 * simulator with the hot-plug controllers and the simulated cards'
 * drivers, and prints what was found, for the script to compare with
 * hotswap-lspci's view of the same chassis.
 *
 * usage: embed TOPOLOGY.json CATALOG.json
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>

#include "hotswap/cfg.h"
#include "hotswap/core.h"
#include "hotswap/hpc.h"
#include "hotswap/pcie_regs.h"
#include "hotswap/platform.h"
#include "hotswap/slot.h"
#include "hotswap/timer.h"
#include "hotswap/txn.h"
#include "hotswap/types.h"
#include "hotswap/util.h"
#include "hotswap/sim/sim.h"
#include "hotswap/sim/simcard.h"
#include "hotswap/sim/topology.h"

int main(int argc, char **argv)
{
	struct sim_topology *topo = NULL;
	struct hs_platform plat;
	struct hs_core *core = NULL;
	struct hs_dev *d = NULL;
	unsigned devices = 0, bound = 0;
	char err[512];
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: embed TOPOLOGY.json CATALOG.json\n");
		return 2;
	}
	rc = sim_topology_load(argv[1], argv[2], &topo, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "embed: %s\n", err);
		return 1;
	}
	sim_get_platform(sim_topology_sim(topo), &plat);
	rc = hs_core_create(&plat, NULL, &core);
	if (!rc) {
		hs_core_enable_rebalance(core);
		rc = hs_controllers_register(core);
	}
	if (!rc)
		rc = hs_driver_register(core, &simnet_driver);
	if (!rc)
		rc = hs_driver_register(core, &simstor_driver);
	if (!rc)
		rc = hs_core_enumerate(core);
	if (rc) {
		fprintf(stderr, "embed: the core did not start: %d\n", rc);
		goto out;
	}
	while ((d = hs_dev_next(core, d))) {
		devices++;
		if (hs_dev_driver_name(d))
			bound++;
	}
	printf("chassis %s: %u functions, %u with a driver\n",
	       sim_topology_name(topo), devices, bound);
out:
	hs_core_destroy(core);
	sim_topology_free(topo);
	return rc ? 1 : 0;
}
