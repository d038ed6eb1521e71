/*
 * hotswap/txn.h - the resource database's transactions, for drivers and
 * services (seeds/002: cm_begin_trans / cm_end_trans).
 *
 * Owns: the public side of core/hs_txn.c.  One write transaction at a
 * time: a writer that asks while another is open is queued and started
 * when that one ends (the core has no threads, so the wait is a
 * continuation, never a spin).  Read-only transactions never wait: a
 * reader sees committed state only, and learns at its end whether a
 * commit happened meanwhile.  A driver records its own changes in the
 * open transaction with an undo and a commit callback; exactly one of
 * the two runs, so its records get the same all-or-nothing guarantee as
 * the core's own (a record that cannot be made fails the commit).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_TXN_H
#define HOTSWAP_TXN_H

#include "hotswap/core.h"

/* C linkage for C++ programs (tests/cli/install.sh builds one). */
#ifdef __cplusplus
extern "C" {
#endif

/*
 * Called with the write transaction open (rc 0) or, if it could not be
 * begun, with a negative errno and none open.  The callee ends it with
 * hs_core_txn_commit or hs_core_txn_abort, now or later (after
 * asynchronous work); queued writers wait until it does.
 */
typedef void (*hs_txn_fn)(void *arg, struct hs_core *core, int rc);

/*
 * Begin a write transaction named what (for the log).  0: fn ran (the
 * transaction was free); 1: queued behind the open one, fn runs when
 * the queue reaches it; -HS_ENOMEM: neither.  The core's own operations
 * (hot-add, removal, rebalance) do not queue: they answer -HS_EBUSY
 * while a transaction begun here is open.
 */
int hs_core_txn_begin(struct hs_core *core, const char *what, hs_txn_fn fn,
		      void *arg);
/* End the open write transaction: commit (0, or a negative errno after
 * rolling everything back when some record could not be made) or roll
 * back.  Then the next queued writer, if any, begins. */
int hs_core_txn_commit(struct hs_core *core);
void hs_core_txn_abort(struct hs_core *core);

/*
 * Record a change the caller is about to make, in the open transaction
 * (its own or the core's, e.g. during a driver's probe).  On rollback
 * undo(arg) runs (newest record first); on commit, commit(arg) runs
 * (oldest first); either may be NULL.  -HS_EINVAL with no transaction
 * open; -HS_ENOMEM when the record could not be made: do not make the
 * change (the transaction will fail its commit anyway).
 */
int hs_core_txn_record(struct hs_core *core, void (*undo)(void *arg),
		       void (*commit)(void *arg), void *arg);

/* A read-only transaction: a ticket now, and at its end 0 if what was
 * read is still the committed state, -HS_EAGAIN if a write transaction
 * committed in between (read again). */
uint64_t hs_core_read_begin(const struct hs_core *core);
int hs_core_read_end(const struct hs_core *core, uint64_t ticket);

#ifdef __cplusplus
}
#endif

#endif /* HOTSWAP_TXN_H */
