/*
 * fuzz_cfgspace.c - libFuzzer harness: a malicious card's configuration
 * space through the core's enumeration on the simulator.
 *
 * Each input overwrites, per function of the cards in a small fixed
 * chassis (tests/fuzz/catalog-chassis.json: a conventional NIC and a
 * card with its own PCI-to-PCI bridge and two NICs behind it), the
 * configuration header and capability area (bytes 0x00-0xff: IDs, header
 * type, BARs, bridge bus numbers and windows, capability pointers and
 * lists), the writable masks of the BARs and ROM (what all-ones sizing
 * reads back) and the first extended capabilities (0x100-0x1ff); then the
 * core enumerates with the controllers and drivers registered.
 *
 * Owns: the core's promises against any card: no crash, no hang, no
 * leak, no undefined behaviour; every record it keeps is found again by
 * its address.  With HOTSWAP_FUZZ_WRITE_SEED=FILE the first input writes
 * the chassis' own bytes to FILE instead (how corpus/cfgspace/asbuilt was
 * made).  Uses the simulator's internal register model
 * (sim_internal.h) to plant the bytes, nothing of the core's.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "sim.h"
#include "sim_internal.h"
#include "topology.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bytes one function takes from the input. */
#define PER_FN (256 + 28 + 256)

struct plant {
	const uint8_t *data;
	size_t size, at;
	FILE *seed;             /* write the chassis' own bytes instead */
};

static int plant_fn(void *arg, const struct sim_walk_node *n)
{
	struct plant *p = arg;
	/* The walk hands out const views; the harness owns the chassis. */
	struct sim_fn *fn = (struct sim_fn *)(uintptr_t)n->fn;
	const uint8_t *b;

	if (!fn->card)
		return 0;
	if (p->seed) {
		/* The seed corpus: the cards as they are (docs/testing.md). */
		fwrite(fn->cfg.data, 1, 256, p->seed);
		fwrite(fn->cfg.wmask + 0x10, 1, 24, p->seed);
		fwrite(fn->cfg.wmask + 0x30, 1, 4, p->seed);
		fwrite(fn->cfg.data + 0x100, 1, 256, p->seed);
		return 0;
	}
	if (p->at + PER_FN > p->size)
		return 0;
	b = p->data + p->at;
	p->at += PER_FN;
	memcpy(fn->cfg.data, b, 256);
	memcpy(fn->cfg.wmask + 0x10, b + 256, 24);      /* BAR0-5 */
	memcpy(fn->cfg.wmask + 0x30, b + 256 + 24, 4);  /* ROM */
	memcpy(fn->cfg.data + 0x100, b + 256 + 28, 256);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_topology *t = NULL;
	struct plant p = { data, size, 0, NULL };
	const char *seed = getenv("HOTSWAP_FUZZ_WRITE_SEED");
	char err[512];

	if (sim_topology_load(HOTSWAP_SRCDIR "/tests/fuzz/catalog-chassis.json",
			      HOTSWAP_SRCDIR "/data/catalog.json", &t, err,
			      sizeof(err)))
		fuzz_fail("the fixed chassis does not load: %s", err);
	if (seed && !(p.seed = fopen(seed, "w")))
		fuzz_fail("%s: cannot write", seed);
	sim_walk(sim_topology_sim(t), plant_fn, &p);
	if (p.seed) {
		fclose(p.seed);
		unsetenv("HOTSWAP_FUZZ_WRITE_SEED");
	}
	fuzz_enumerate(sim_topology_sim(t));
	sim_topology_free(t);
	return 0;
}
