/*
 * hs_resource.h - resource allocation: boot sizing and placement, hot-add
 * placement, programming, the items the replanner shares (hs_resource.c).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CORE_RESOURCE_H
#define HOTSWAP_CORE_RESOURCE_H

#include "hs_tree.h"

/* Boot: plan every host bridge's tree (nothing written yet), then, in
 * tree order, ask the authorization hook about each function on a card
 * and program it (hs_add.c binds each hot-plug controller as it comes,
 * so the functions below it are asked with their true slot). */
int hs_assign_boot(struct hs_core *core);
int hs_program_boot_dev(struct hs_core *core, struct hs_dev *d);
/* Place (except the kinds in the placed mask: a rebalance did those)
 * and program the functions the open transaction added below bridge.
 * *short_kinds: the kinds that did not fit (1u << r each; -HS_ENOSPC). */
int hs_assign_hot_add(struct hs_core *core, struct hs_dev *bridge,
		      unsigned placed, unsigned *short_kinds, char *msg,
		      size_t msglen);
int hs_size_new_bridges(struct hs_core *core, struct hs_dev *bridge);
/* Place the new functions' items of kind r in bridge's window, around
 * what the running devices use; with assign false, only see whether they
 * would fit as things stand.  -HS_ENOSPC when one does not, msg (if any)
 * saying which. */
int hs_hot_add_fit(struct hs_core *core, struct hs_dev *bridge,
		   enum hs_res r, bool assign, char *msg, size_t msglen);
/* Write a bridge's windows as its records say (a rebalance grew or
 * moved them). */
int hs_program_windows(struct hs_core *core, struct hs_dev *bridge);

/* What the rebalancer shares with the allocator: the items a bus holds
 * in one kind of resource, sizing and placing a bridge's subtree. */
struct hs_item {
	struct hs_dev *dev;
	int bar;          /* 0..6, or -1 for a bridge's window */
	uint64_t size, align;
	uint64_t at;      /* where it was placed (hs_items_fit) */
	/* Window only: its end (not its base) is aligned to align and its
	 * content is laid out mirrored (hs_assign_item). */
	bool mirror;
};

struct hs_items {
	struct hs_item *v;
	size_t n, cap;
	struct hs_core *core;
};

struct hs_plan {
	uint64_t extra[HS_RES_COUNT];  /* added to every hot-plug bridge */
	unsigned resv_shift;           /* reservations divided by 2^shift */
	bool no_resv;
};

int hs_items_add(struct hs_items *it, struct hs_dev *d, int bar,
		 uint64_t size, uint64_t align);
void hs_items_free(struct hs_items *it);
/* Sort the items, largest alignment first (stable), then place each in
 * order (its at) at the lowest place in in that used leaves
 * (HS_FIT_TIGHT in how: the tightest), adding it to used; with
 * HS_FIT_TOP, a window whose size is not a multiple of its alignment may
 * go end-aligned (its mirror set).  -HS_ENOSPC with *failed (may be
 * NULL) the first that does not fit; -HS_ENOMEM. */
int hs_items_fit(struct hs_range_set *used, struct hs_range in,
		 struct hs_items *it, unsigned how, size_t *failed);
/* Add d's assigned BARs of kind r to s (what it uses where it is). */
int hs_bars_add(struct hs_range_set *s, const struct hs_dev *d,
		enum hs_res r);
/* Items of kind r among a sibling list (only_new: devices the open
 * transaction added). */
int hs_gather(struct hs_items *it, struct hs_dev *first, enum hs_res r,
	      bool pref_path, bool only_new);
/* Bottom-up: what br's windows must hold (need[], need_align[]). */
int hs_size_bridge(struct hs_core *core, struct hs_dev *br, bool pref_path,
		   const struct hs_plan *pl);
/* Top-down: the item at at (a BAR's address, or a bridge's window with
 * its subtree packed inside); -HS_ENOMEM when memory runs out. */
int hs_assign_item(struct hs_core *core, const struct hs_item *x,
		   enum hs_res r, uint64_t at, bool pref_path);
/* Whether every bridge from br up has a 64-bit prefetchable window. */
bool hs_path_pref(const struct hs_dev *br);
/* Does d take room: neither isolated nor being removed? */
bool hs_counts(const struct hs_dev *d);
/* The host's aperture of address kind r (I/O, memory, prefetchable;
 * its bus numbers: hs_busnr.c); size 0 when it has none. */
struct hs_range hs_host_aperture(const struct hs_host_bridge *h,
				 enum hs_res r);
uint64_t hs_res_gran(enum hs_res r);
enum hs_res hs_bar_res(const struct hs_bar_info *b, bool pref_path);
int hs_program_dev(struct hs_core *core, struct hs_dev *dev);
/* Decode on for dev's assigned BARs (and a bridge's forwarding), in the
 * open transaction. */
int hs_enable_decode(struct hs_core *core, struct hs_dev *dev);
void hs_disable_dev(struct hs_core *core, struct hs_dev *dev);
const char *hs_res_name(enum hs_res r);

/* The platform line dev's INTx pin arrives on (the swizzle). */
void hs_route_intx(struct hs_core *core, struct hs_dev *dev);

#endif /* HOTSWAP_CORE_RESOURCE_H */
