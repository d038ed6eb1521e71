/*
 * fuzz_topology.c - libFuzzer harness: an untrusted chassis file through
 * the topology loader (platforms/sim/topology.c), with the built-in
 * catalog; a chassis that loads is enumerated by the core.
 *
 * Owns: the loader's promises under any input: no crash, no leak, no
 * undefined behaviour; a failure leaves no topology and one non-empty
 * line of error "FILE: ..." (the loader's header); a success builds a
 * simulator the core can enumerate.
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
	const char *path = fuzz_file("chassis.json", data, size);
	struct sim_topology *t = NULL;
	char err[512];
	int rc;

	rc = sim_topology_load(path, HOTSWAP_SRCDIR "/data/catalog.json", &t,
			       err, sizeof(err));
	if (rc) {
		fuzz_check_error(t, err, path);
		return 0;
	}
	fuzz_enumerate(sim_topology_sim(t));
	sim_topology_free(t);
	return 0;
}
