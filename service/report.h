/*
 * report.h - the availability report (seeds/003 ends with it).
 *
 * Owns: turning a slot's state history into what an operator of a
 * high-availability system asks: how often was the card replaced, how
 * long was each outage (from the moment the slot left "on" - a removal
 * request, a surprise pull, a fault - until a card was "on" in it
 * again), the mean time to repair, and the availability that implies,
 * in nines.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SERVICE_REPORT_H
#define HOTSWAP_SERVICE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

struct hsd_report;

struct hsd_report *hsd_report_new(void);
void hsd_report_free(struct hsd_report *r);

/* One slot state change, oldest first: state names as
 * hs_slot_state_name prints them ("empty", "on"...); time in ns.
 * -EINVAL when time goes backwards for the slot, -ENOMEM.  Ignored while
 * booting (the snapshot at ready says where the slots are). */
int hsd_report_feed(struct hsd_report *r, const char *slot, int64_t time,
		    const char *from, const char *to);
/* A slot's state as found at service start ("slot-snapshot" events):
 * the start of its history, or a change that happened while nobody was
 * watching. */
int hsd_report_snapshot(struct hsd_report *r, const char *slot,
			int64_t time, const char *state);
/* Between the service's "starting" and "ready": state changes are the
 * boot's own reconciliation, not the slot's history. */
void hsd_report_booting(struct hsd_report *r, bool booting);

/*
 * The report at time now, one object per slot that was ever in service:
 *   { "slot", "state", "in_service", "replacements", "outages": [
 *     { "start", "end" (null while out), "seconds" (counted), "replaced",
 *       "cause" ("operator" | "failure"), "emptied" } ],
 *     "in_service_s", "out_of_service_s", "observed_s" (the two summed),
 *     "mttr_s" (null until an outage ended), "availability" (0..1),
 *     "nines", "nines_lower_bound" }
 * In service: on, or blinking before a removal that may be cancelled.
 * An outage runs from leaving service until a card is in service in the
 * slot again; time the slot spends empty after an operator's removal is
 * not counted ("emptied": the operator emptied it, not an outage).  A
 * replacement is an ended outage during which the slot was empty.
 * availability = in service / (in service + out of service); nines =
 * -log10(1 - availability), or, never out, log10(seconds in service) as
 * a lower bound at the history's one-second resolution.
 */
json_t *hsd_report_build(const struct hsd_report *r, int64_t now);

#endif /* HOTSWAP_SERVICE_REPORT_H */
