/*
 * fuzz_catalog.c - libFuzzer harness: an untrusted card catalog (the
 * "built-in" catalog file) under a small fixed chassis whose slots hold
 * cards by the names the seed catalogs use.
 *
 * Owns: the catalog parser's and linker's promises (names, functions,
 * BARs, capabilities, children references, cycles, depth) under any
 * input: no crash, no leak, no undefined behaviour; errors are one
 * non-empty line; a chassis that loads enumerates.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_util.h"
#include "topology.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file("catalog.json", data, size);
	struct sim_topology *t = NULL;
	char err[512];
	int rc;

	rc = sim_topology_load(HOTSWAP_SRCDIR "/tests/fuzz/catalog-chassis.json",
			       path, &t, err, sizeof(err));
	if (rc) {
		fuzz_check_error(t, err, NULL);
		return 0;
	}
	fuzz_enumerate(sim_topology_sim(t));
	sim_topology_free(t);
	return 0;
}
