/*
 * topology.h - loading a chassis from a JSON topology file.
 *
 * Owns: the card catalog (built-in data/catalog.json plus the file's own
 * "catalog" entries) and the translation of docs/topology.md's format into
 * sim_* builder calls.  Hosted code: uses libc and jansson.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SIM_TOPOLOGY_H
#define HOTSWAP_SIM_TOPOLOGY_H

#include <stddef.h>

#include "sim.h"

/* C linkage for C++ programs (tests/cli/install.sh builds one). */
#ifdef __cplusplus
extern "C" {
#endif

struct sim_topology;

/*
 * Load a topology file and build its chassis.  catalog_path names the
 * built-in catalog (NULL: sim_topology_default_catalog()).  On failure
 * returns a negative errno and writes into err one line of the form
 *   FILE: JSON-PATH: PROBLEM
 * e.g. "examples/x.json: $.host_bridge.devices[2].slot.number: slot
 * number 7 is already used by $.host_bridge.devices[0]".  Nothing is
 * built on failure.
 */
int sim_topology_load(const char *path, const char *catalog_path,
		      struct sim_topology **out, char *err, size_t errlen);
void sim_topology_free(struct sim_topology *topo);

struct sim *sim_topology_sim(struct sim_topology *topo);
const char *sim_topology_name(const struct sim_topology *topo);
const char *sim_topology_description(const struct sim_topology *topo);

/* Catalog lookup (file entries shadow built-in ones); NULL if unknown. */
const struct sim_card_spec *sim_topology_card(const struct sim_topology *topo,
					      const char *name);
/* Catalog entries in a stable order; NULL past the end. */
const struct sim_card_spec *sim_topology_card_at(const struct sim_topology *topo,
						 size_t index);

/* $HOTSWAP_CATALOG if set, else the installed data directory's
 * catalog.json if it exists, else the source tree's data/catalog.json. */
const char *sim_topology_default_catalog(void);
/* Same for the default chassis: $HOTSWAP_TOPOLOGY, installed
 * examples/default.json, source tree examples/default.json. */
const char *sim_topology_default_chassis(void);

#ifdef __cplusplus
}
#endif

#endif /* HOTSWAP_SIM_TOPOLOGY_H */
