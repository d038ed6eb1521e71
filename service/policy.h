/*
 * policy.h - the authorization policy for hot-plugged cards (USBGuard's
 * model applied to PCI: a card that can bus-master can DMA into memory).
 *
 * Owns: the rule language (docs/policy.md), parsing it with errors that
 * name the file, line and word, and deciding allow / block for a card:
 * an ordered list of rules, first match wins, then the default target
 * (one for cards inserted while running, one for cards present at start).
 *
 * Rule syntax, one per line ('#' starts a comment):
 *
 *   allow|block [id VVVV:DDDD] [subsys VVVV:DDDD] [class CCSSPP]
 *               [slot NAME] [serial HEX]
 *
 * Hex fields accept '*' for a whole field ("8086:*") and class accepts a
 * prefix with '*' ("02*" = every network controller, "0c03*").  A rule
 * with no condition matches everything.  Every condition must hold.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SERVICE_POLICY_H
#define HOTSWAP_SERVICE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hsd_policy;

enum hsd_target {
	HSD_ALLOW = 0,
	HSD_BLOCK = 1,
};

/* What is known about one PCI function when it is decided on. */
struct hsd_card_id {
	uint16_t vendor, device, subsys_vendor, subsys;
	uint32_t class_code;      /* 24 bits */
	const char *slot;         /* slot name, NULL when soldered */
	bool has_serial;
	uint64_t serial;          /* Device Serial Number capability */
};

/* An empty policy: no rules, inserted cards allowed, present allowed. */
struct hsd_policy *hsd_policy_new(void);
void hsd_policy_free(struct hsd_policy *p);

/* Append the rules in text (a whole rule file).  origin names it in
 * errors: "rules.conf:12: unknown condition 'vendr' (expected id, subsys,
 * class, slot or serial)".  On error nothing is added. */
int hsd_policy_load(struct hsd_policy *p, const char *text,
		    const char *origin, char *err, size_t errlen);
/* Add one rule (no comments, one line) at the front (checked first) or
 * the back. */
int hsd_policy_add(struct hsd_policy *p, const char *rule, bool front,
		   char *err, size_t errlen);
/* "allow" / "block" → target; -EINVAL otherwise. */
int hsd_policy_parse_target(const char *word, enum hsd_target *out);
const char *hsd_policy_target_name(enum hsd_target t);
void hsd_policy_set_default(struct hsd_policy *p, bool at_start,
			    enum hsd_target t);
enum hsd_target hsd_policy_default(const struct hsd_policy *p,
				   bool at_start);

/*
 * First matching rule's target, or the default for inserted cards /
 * cards present at start.  *why (may be NULL) receives the matching
 * rule's text in canonical form, or "default for inserted cards" /
 * "default for cards present at start"; it lives as long as p.
 */
enum hsd_target hsd_policy_decide(const struct hsd_policy *p,
				  const struct hsd_card_id *card,
				  bool at_start, const char **why);

/* Rules in order, canonical text ("allow id 8086:10d3 slot 3"). */
unsigned hsd_policy_count(const struct hsd_policy *p);
const char *hsd_policy_rule(const struct hsd_policy *p, unsigned i);

/* The canonical rule that allows exactly this card: its id and subsys,
 * its serial when it has one, else its slot.  Returns the length that
 * was needed (like snprintf). */
int hsd_policy_rule_for(const struct hsd_card_id *card, enum hsd_target t,
			char *buf, size_t len);

#endif /* HOTSWAP_SERVICE_POLICY_H */
