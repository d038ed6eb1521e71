/*
 * hs_busnr.h - bus-number ranges (hs_busnr.c, and hs_busnr_move.c for
 * renumbering): the one place that computes them, on the range engine
 * (hotswap/range.h).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CORE_BUSNR_H
#define HOTSWAP_CORE_BUSNR_H

#include "hs_tree.h"

/* Bus numbers are handed out depth first from one free range: a bridge
 * takes the lowest as its secondary and gives back what its subtree did
 * not use. */
struct hs_busnr {
	struct hs_range free;  /* the numbers not handed out yet */
	unsigned short_by;     /* how many bridges found none */
};

/* The host's bus numbers (bus_first alone at least). */
struct hs_range hs_busnr_host(const struct hs_host_bridge *h);
/* A range without its first number (a bridge's own secondary, a host's
 * root bus). */
struct hs_range hs_busnr_after_first(struct hs_range r);
/* Boot: every number of host h after its root bus's own. */
void hs_busnr_boot(struct hs_busnr *ba, const struct hs_host_bridge *h);
/* Hot-add: the largest run the running bridges below the slot bridge
 * br leave free in its range after its own secondary (a card's bridges
 * need contiguous numbers).  -HS_ENOMEM. */
int hs_busnr_slot(struct hs_core *core, struct hs_dev *br,
		  struct hs_busnr *ba);
/* The number a bridge would take as *sec (the lowest free), and *last,
 * the highest it may route while its subtree is scanned.  -HS_ENOSPC
 * (counted in short_by) when none is left. */
int hs_busnr_next(struct hs_busnr *ba, unsigned *sec, unsigned *last);
/* The bridge holds sec (hs_busnr_next's): its subtree's come after it. */
void hs_busnr_take(struct hs_busnr *ba, unsigned sec, unsigned last);
/* Bridge d's subtree is scanned: its subordinate (what the subtree
 * used, a hot-plug bridge's reservation at least, never past last);
 * the rest goes back to ba. */
unsigned hs_busnr_close(struct hs_core *core, const struct hs_dev *d,
			struct hs_busnr *ba, unsigned sec, unsigned last);
/* Record that bridge d routes first..last. */
void hs_busnr_set(struct hs_dev *d, unsigned first, unsigned last);

/* A bridge's range, first > last when it has none. */
struct hs_busrange {
	unsigned first, last;
};
struct hs_busrange hs_busnr_of(const struct hs_dev *b);

/* ---- hs_busnr_move.c: renumbering (linked with the rebalancer) ---- */

/* Renumbering: where the slot bridge's range grows, and the bridges
 * that make room (moved to new homes inside their parents' ranges). */
#define HS_BUSNR_MAX_MOVED 16
struct hs_busplan {
	struct hs_busrange cur, grow;
	unsigned need, new_last;
	struct hs_dev *mv[HS_BUSNR_MAX_MOVED];
	struct hs_busrange to[HS_BUSNR_MAX_MOVED];
	unsigned nmv;
	unsigned nrun;     /* live functions below them: renumbered too */
};

/* Why a function below bridge x may not change bus number (NULL: all
 * may); *who: which.  The caller's policy (the rebalancer's). */
typedef const char *(*hs_busnr_blocked_fn)(struct hs_core *core,
					    struct hs_dev *x,
					    struct hs_dev **who);
/* Which bridges must take other numbers for br's range to grow by need,
 * and where they go.  A bridge with functions below it may go only if
 * blocked() finds none that may not.  -HS_ENOSPC with msg saying what
 * is in the way; -HS_EINVAL. */
int hs_busnr_plan(struct hs_core *core, struct hs_dev *br, unsigned need,
		  hs_busnr_blocked_fn blocked, struct hs_busplan *bp,
		  char *msg, size_t msglen);
/* Carry a plan out in the open transaction (every register written is
 * read back); msg says what failed. */
int hs_busnr_apply(struct hs_core *core, struct hs_dev *br,
		   const struct hs_busplan *bp, char *msg, size_t msglen);
/* Did the open transaction give d another bus number? */
bool hs_busnr_renumbered(struct hs_core *core, const struct hs_dev *d);

#endif /* HOTSWAP_CORE_BUSNR_H */
