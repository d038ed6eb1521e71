/*
 * sim_util.h - helpers for tests that drive the simulator the way
 * software would: through the hs_platform it exposes.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_TEST_SIM_UTIL_H
#define HOTSWAP_TEST_SIM_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim.h"

struct tu {
	struct sim *sim;
	struct hs_platform plat;
};

/* A chassis with default apertures (cfg NULL) or the given ones. */
void tu_init(struct tu *t, const struct sim_config *cfg);
void tu_fini(struct tu *t);

uint8_t tu_rd8(struct tu *t, hs_bdf_t bdf, uint16_t off);
uint16_t tu_rd16(struct tu *t, hs_bdf_t bdf, uint16_t off);
uint32_t tu_rd32(struct tu *t, hs_bdf_t bdf, uint16_t off);
void tu_wr8(struct tu *t, hs_bdf_t bdf, uint16_t off, uint8_t v);
void tu_wr16(struct tu *t, hs_bdf_t bdf, uint16_t off, uint16_t v);
void tu_wr32(struct tu *t, hs_bdf_t bdf, uint16_t off, uint32_t v);
uint32_t tu_mem32(struct tu *t, uint64_t addr);
void tu_wmem32(struct tu *t, uint64_t addr, uint32_t v);
uint32_t tu_io32(struct tu *t, uint32_t port);

/* Program a bridge as firmware would. */
void tu_bridge_bus(struct tu *t, hs_bdf_t br, uint8_t pri, uint8_t sec,
		   uint8_t sub);
void tu_bridge_mem(struct tu *t, hs_bdf_t br, uint32_t base, uint32_t limit);
void tu_bridge_pref(struct tu *t, hs_bdf_t br, uint64_t base, uint64_t limit);
void tu_bridge_io(struct tu *t, hs_bdf_t br, uint32_t base, uint32_t limit);
/* Set Command bits (I/O, memory, bus master = 1, 2, 4). */
void tu_cmd(struct tu *t, hs_bdf_t bdf, uint16_t bits);
/* Offset of a standard capability, failing the test if absent. */
uint16_t tu_cap(struct tu *t, hs_bdf_t bdf, uint8_t id);

/* A small catalog for tests. */
extern const struct sim_card_spec tu_card_nic;    /* BAR0 mem32 64K, BAR2 io 32, MSI */
extern const struct sim_card_spec tu_card_gpu;    /* BAR0 mem32 16M, BAR2 mem64 pref 256M */
extern const struct sim_card_spec tu_card_multi;  /* fn 0,1,3 */
extern const struct sim_card_spec tu_card_bridge; /* bridge + 2 NICs behind */
extern const struct sim_card_spec tu_card_crs;    /* answers CRS for 300 ms */

#endif
