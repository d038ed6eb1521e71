/*
 * simcard.h - drivers for the simulator's cards: "simnet" (network-like,
 * class 02h) and "simstor" (storage-like, class 01h).
 *
 * Owns: the two drivers and the ledger tests read to prove that no
 * request is ever lost: every submitted request ends completed or failed
 * with an error, whatever happens to the card.
 *
 * Both drive the BAR0 register file documented in docs/simulator.md:
 * requests go in through the doorbell, completions come back by DMA into
 * a ring in host memory and an interrupt (MSI-X, MSI or INTx).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_DRIVERS_SIMCARD_H
#define HOTSWAP_DRIVERS_SIMCARD_H

#include "hotswap/core.h"

/* C linkage for C++ programs (tests/cli/install.sh builds one). */
#ifdef __cplusplus
extern "C" {
#endif

extern const struct hs_driver simnet_driver;
extern const struct hs_driver simstor_driver;

struct simcard_ledger {
	unsigned long submitted;
	unsigned long completed;   /* finished with success */
	unsigned long failed;      /* finished with an error */
	unsigned long refused;     /* not accepted (quiescing, full, gone) */
	unsigned long probes, removes;
	unsigned long held;        /* taken while stopped for a rebalance */
	unsigned long restarts;    /* started again after a stop */
};

/* Process-wide ledger across every instance (tests reset it). */
struct simcard_ledger *simcard_ledger(void);
void simcard_ledger_reset(void);

/* Submit n requests to a bound instance; returns how many were taken. */
unsigned simcard_submit(struct hs_dev *dev, unsigned n);
/* Requests of this instance not finished yet (0 if not bound). */
unsigned simcard_in_flight(const struct hs_dev *dev);
/* Make query-remove refuse with this reason (NULL: allow again). */
void simcard_set_busy(struct hs_dev *dev, const char *reason);
/* The ID register value the driver read at probe (0 if not bound). */
uint32_t simcard_id(const struct hs_dev *dev);
/* Make the next probe of any instance fail (for rollback tests). */
void simcard_fail_next_probe(int rc);

/* Rebalancing (HS_DRV_CAN_MOVE): make query_stop refuse with this reason
 * (NULL: allow again); whether the instance is stopped (its requests
 * held); make the next start of any instance fail. */
void simcard_set_stop_veto(struct hs_dev *dev, const char *reason);
bool simcard_stopped(const struct hs_dev *dev);
void simcard_fail_next_start(int rc);

#ifdef __cplusplus
}
#endif

#endif
