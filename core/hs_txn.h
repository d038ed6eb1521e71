/*
 * hs_txn.h - transactions: the undo log, commit / abort, savepoints,
 * record-and-do helpers (hs_txn.c).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_CORE_TXN_H
#define HOTSWAP_CORE_TXN_H

#include "hs_tree.h"

struct hs_txn_mark hs_txn_mark(struct hs_core *core);
void hs_txn_rollback_to(struct hs_core *core, struct hs_txn_mark m);
int hs_txn_commit(struct hs_core *core);
void hs_txn_abort(struct hs_core *core);
/* The queued writers' timer (armed when a transaction ends). */
void hs_txn_run_writers(void *arg);
/* Drop queued writers unrun (the core is going away). */
void hs_txn_queue_flush(struct hs_core *core);
/* Record-and-do helpers: each returns 0 or -HS_ENOMEM (nothing done). */
int hs_txn_cfg_write(struct hs_core *core, hs_bdf_t bdf, uint16_t off,
		     unsigned width, uint32_t val);
int hs_txn_cfg_write_old(struct hs_core *core, hs_bdf_t bdf, uint16_t off,
			 unsigned width, uint32_t old, uint32_t val);
int hs_txn_dev_added(struct hs_core *core, struct hs_dev *dev);
int hs_txn_dev_removed(struct hs_core *core, struct hs_dev *dev);
/* Make room for this many more log entries and events, so that a change
 * that cannot be undone (drivers unbound) is never followed by a record
 * that fails. */
int hs_txn_reserve(struct hs_core *core, size_t entries, size_t events);
/* The same for tearing down n functions after a surprise removal: within
 * the room every commit keeps for all devices present, so it needs no
 * memory and cannot fail. */
int hs_txn_reserve_surprise(struct hs_core *core, size_t n);
/* The log's memory, at the core's end. */
void hs_txn_fini(struct hs_core *core);
/* A record of kind about dev: TXN_BIND (its driver bound), TXN_SERVICE
 * (port service idx bound), TXN_MSI (its vectors allocated); 0 at once
 * outside a transaction. */
int hs_txn_record(struct hs_core *core, enum txn_kind kind,
		  struct hs_dev *dev, unsigned idx);
/* What undoing a TXN_BIND or a TXN_SERVICE record does, also the driver
 * bus's own way back: d's driver (if any) removed and forgotten; its port
 * service idx (if any) removed and forgotten. */
void hs_txn_drop_driver(struct hs_dev *d);
void hs_txn_drop_service(struct hs_dev *d, unsigned idx);
/* Before a committed device's BARs or windows change in memory: abort
 * puts them back.  Once per device per transaction is enough. */
int hs_txn_dev_res(struct hs_core *core, struct hs_dev *dev);
/* The snapshot recorded for dev in the open transaction, or NULL. */
const struct txn_res_snap *hs_txn_res_of(struct hs_core *core,
					 const struct hs_dev *dev);
int hs_txn_event(struct hs_core *core, enum hs_event_type type,
		 struct hs_dev *dev, const char *driver);

/* Keep dev in the tree, decoding nothing, with its reason (an event in
 * the open transaction). */
void hs_dev_isolate(struct hs_dev *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* HOTSWAP_CORE_TXN_H */
