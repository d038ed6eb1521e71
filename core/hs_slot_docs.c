/*
 * hs_slot_docs.c - the slot state machine's table in words: each cell's
 * one-line doc and, for a cell nothing but a drill reaches, the reason.
 *
 * Owns: the docs expansion of hs_slot_cells.h and the public calls that
 * read it.  Only what prints or checks the table calls these
 * (hotswap-demo --table, which docs/slots.md must equal, and the
 * coverage tests), so a freestanding image that never does links none
 * of this prose (issue #18: size).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hs_slot_dispatch.h"
#include "hs_slot_cells.h"

#define UNREACHABLE "unreachable (ignored): "
#define AS_DOC(f, in, fn, doc) [HS_FINE_##f][HS_IN_##in] = doc,
#define AS_WHY(f, in, why) [HS_FINE_##f][HS_IN_##in] = UNREACHABLE why,
static const char *const docs[HS_FINE_COUNT][HS_IN_COUNT] = {
	HS_SLOT_CELLS(AS_DOC, AS_WHY)
};
#undef AS_DOC
#undef AS_WHY

static bool cell_ok(enum hs_slot_fine f, enum hs_slot_input in)
{
	return (unsigned)f < HS_FINE_COUNT && (unsigned)in < HS_IN_COUNT;
}

const char *hs_slot_fine_cell_doc(enum hs_slot_fine f, enum hs_slot_input in)
{
	return cell_ok(f, in) ? docs[f][in] : NULL;
}

const char *hs_slot_fine_cell_unreachable(enum hs_slot_fine f,
					  enum hs_slot_input in)
{
	static const char mark[] = UNREACHABLE;
	const char *doc = hs_slot_fine_cell_doc(f, in);

	for (size_t i = 0; doc && i < sizeof(mark) - 1; i++)
		if (doc[i] != mark[i])
			return NULL;
	return doc ? doc + sizeof(mark) - 1 : NULL;
}

const char *hs_slot_cell_doc(enum hs_slot_state st, enum hs_slot_input in)
{
	static const enum hs_slot_fine one[HS_SLOT_STATE_COUNT] = {
		[HS_SLOT_EMPTY] = HS_FINE_EMPTY,
		[HS_SLOT_OFF] = HS_FINE_OFF,
		[HS_SLOT_BLINKING_ON] = HS_FINE_BLINKING_ON,
		[HS_SLOT_POWERING_ON] = HS_FINE_COUNT,
		[HS_SLOT_ON] = HS_FINE_ON,
		[HS_SLOT_BLINKING_OFF] = HS_FINE_BLINKING_OFF,
		[HS_SLOT_POWERING_OFF] = HS_FINE_COUNT,
		[HS_SLOT_FAULT] = HS_FINE_FAULT,
		[HS_SLOT_CONNECTED] = HS_FINE_CONNECTED,
	};

	if ((unsigned)st >= HS_SLOT_STATE_COUNT)
		return NULL;
	return hs_slot_fine_cell_doc(one[st], in);
}
