/*
 * fuzz_policy.c - libFuzzer harness: an untrusted rule file through the
 * authorization policy's parser (service/policy.c, docs/policy.md).
 *
 * Owns: the parser's promises under any input: no crash, no leak, no
 * undefined behaviour; an error is one non-empty line naming the file
 * and the line ("fuzz.rules:N: ..."); every rule it accepts prints in a
 * canonical form that parses back to the same canonical text; deciding
 * on a card never fails.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hsd_policy *p, *q;
	char *text, err[512];
	struct hsd_card_id card = { 0x8086, 0x10d3, 0x8086, 0xa01f, 0x020000,
				    "3", true, 0x0011223344556677ull };
	const char *why;

	text = malloc(size + 1);
	p = hsd_policy_new();
	if (!text || !p) {
		free(text);
		hsd_policy_free(p);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	if (hsd_policy_load(p, text, "fuzz.rules", err, sizeof(err))) {
		if (!err[0] || strchr(err, '\n') ||
		    strncmp(err, "fuzz.rules:", 11))
			fuzz_fail("bad error line: '%s'", err);
		if (hsd_policy_count(p))
			fuzz_fail("a failed load added %u rules",
				  hsd_policy_count(p));
	}
	for (unsigned i = 0; i < hsd_policy_count(p); i++) {
		const char *rule = hsd_policy_rule(p, i);

		q = hsd_policy_new();
		if (!q)
			break;
		if (hsd_policy_add(q, rule, false, err, sizeof(err)))
			fuzz_fail("canonical rule '%s' does not parse: %s",
				  rule, err);
		if (strcmp(hsd_policy_rule(q, 0), rule))
			fuzz_fail("canonical rule '%s' prints back as '%s'",
				  rule, hsd_policy_rule(q, 0));
		hsd_policy_free(q);
	}
	if (size >= 8) {
		memcpy(&card.vendor, data, 2);
		memcpy(&card.device, data + 2, 2);
		memcpy(&card.class_code, data + 4, 3);
		card.class_code &= 0xffffff;
	}
	(void)hsd_policy_decide(p, &card, false, &why);
	if (!why || !why[0])
		fuzz_fail("a decision without a reason");
	(void)hsd_policy_decide(p, &card, true, NULL);
	hsd_policy_free(p);
	free(text);
	return 0;
}
