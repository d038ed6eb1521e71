/*
 * hs_slot_table.h - the slot state machine's table (hs_slot_table.c):
 * its states, its cells and their docs; the middle of the three slot
 * modules (docs/core.md).  Its one entry is hs_st_input, which the
 * dispatcher below reaches through the controller record's callback.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CORE_SLOT_TABLE_H
#define HOTSWAP_CORE_SLOT_TABLE_H

#include "hs_slot_dispatch.h"

/* Apply one input to the slot: the cell (fine state, input) runs.  A
 * request's verdict is left in s->req_rc (< 0 refused with s->reason,
 * > 0 accepted and already true, 0 accepted). */
void hs_st_input(struct hs_slot *s, enum hs_slot_input in);

/* Whether a card's presence alone brings the slot up (its policy). */
bool hs_st_presence_enables(const struct hs_slot *s);

#endif /* HOTSWAP_CORE_SLOT_TABLE_H */
