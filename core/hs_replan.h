/*
 * hs_replan.h - the rebalancing planner (hs_replan.c): a new assignment
 * of one kind of address space around a slot, given which subtrees keep
 * their addresses.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CORE_REPLAN_H
#define HOTSWAP_CORE_REPLAN_H

#include "hs_resource.h"
#include "hs_txn.h"

#define HS_REPLAN_MAX_SPINE 16

/* A subtree hanging off the path from the root bus to the slot. */
struct hs_replan_unit {
	struct hs_dev *dev;
	unsigned level;     /* 0: on the root bus; j: below spine[j - 1] */
	unsigned cost;      /* devices it holds with an address of the kind */
	unsigned long load; /* their drivers' load (hs_driver.load) */
	bool pinned;        /* keeps its addresses (default: when cost > 0) */
	bool trimmed;       /* pinned one-card slot: its window shrinks to
			       the hull of its card (hs_replan_trimmable) */
	bool movable;       /* for the caller's search */
	bool tried;
	const char *why;    /* why the policy keeps it, when it does */
};

struct hs_replan {
	struct hs_core *core;
	struct hs_dev *br;                  /* the slot's bridge */
	enum hs_res r;
	const struct hs_host_bridge *host;
	bool host_pref;
	struct hs_dev *spine[HS_REPLAN_MAX_SPINE]; /* [0]: on the root bus */
	unsigned k;                         /* spine[k - 1] == br */
	unsigned m;                         /* deepest anchored level */
	struct hs_replan_unit *units;
	size_t nunits, capunits;
	bool may_shrink;   /* floating empty slots may get less room */
};

int hs_replan_init(struct hs_replan *rp, struct hs_core *core,
		   struct hs_dev *br, enum hs_res r);
void hs_replan_fini(struct hs_replan *rp);
/*
 * With the units' pinned flags as they are: 0 when an assignment exists
 * that keeps the pinned units where they are and fits the new functions
 * below br (DEV_PENDING_ADD) or br's reservation; -HS_ENOSPC when not.
 * With apply, the assignment is made in memory (BARs, windows), every
 * changed committed device recorded in the open transaction first.
 */
int hs_replan_try(struct hs_replan *rp, bool apply);
/* top, then every device below it (NULL after the last). */
struct hs_dev *hs_replan_subtree_next(struct hs_dev *top, struct hs_dev *d);
/* May unit i give back room when pinned: a one-card slot whose window
 * is larger than the hull of its card? */
bool hs_replan_trimmable(const struct hs_replan *rp, size_t i);
/* Has d an assigned BAR in kind r? */
bool hs_replan_has_bar(const struct hs_dev *d, enum hs_res r);

#endif
