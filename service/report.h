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

#include <stdint.h>
#include <jansson.h>

struct hsd_report;

struct hsd_report *hsd_report_new(void);
void hsd_report_free(struct hsd_report *r);

/* One slot state change, oldest first: state names as
 * hs_slot_state_name prints them ("empty", "on"...); time in ns.
 * -EINVAL when time goes backwards for the slot, -ENOMEM. */
int hsd_report_feed(struct hsd_report *r, const char *slot, int64_t time,
		    const char *from, const char *to);

/*
 * The report at time now, one object per slot that was ever on, by slot
 * name:
 *   { "slot", "replacements", "outages": [ { "start", "end" (null while
 *     still out), "seconds", "replaced" } ], "out_of_service_s",
 *     "observed_s", "mttr_s" (null without outages), "availability"
 *     (0..1), "nines" (null when never out) }
 * A replacement is an outage during which the slot was found empty.
 */
json_t *hsd_report_build(const struct hsd_report *r, int64_t now);

#endif /* HOTSWAP_SERVICE_REPORT_H */
