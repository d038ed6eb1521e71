/*
 * hs_slot.h - the slots' side the core calls (hs_slot.c); the public
 * side is hotswap/slot.h and hotswap/hpc.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CORE_SLOT_H
#define HOTSWAP_CORE_SLOT_H

#include "hs_tree.h"

void hs_slots_destroy(struct hs_core *core);
/* Physical number of the slot at device devnum below a hot-plug bridge,
 * from its registered controller; -1 when none is registered. */
int hs_slot_phys_at(const struct hs_dev *bridge, unsigned devnum);

#endif /* HOTSWAP_CORE_SLOT_H */
