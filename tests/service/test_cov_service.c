/*
 * test_cov_service.c - edges of the service's availability report and
 * policy rules that the other service tests leave alone (issue #17 item
 * 6): history that goes back in time, a slot first seen in service, a
 * slot never out, slot names a rule cannot hold, targets that are not
 * one, and rule text cut to the caller's buffer.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "policy.h"
#include "report.h"

#define SEC 1000000000LL

static json_t *slot_of(json_t *rep, const char *name)
{
	json_t *slots = json_object_get(rep, "slots"), *s;
	size_t i;

	if (!slots && json_is_array(rep))
		slots = rep;
	json_array_foreach(slots, i, s)
		if (!strcmp(json_string_value(json_object_get(s, "slot")), name))
			return s;
	return NULL;
}

/* The history cannot go back: a feed or snapshot older than the last
 * one is refused and changes nothing. */
static void test_report_refuses_time_going_back(void **state)
{
	struct hsd_report *r = hsd_report_new();
	json_t *rep, *s;

	(void)state;
	assert_non_null(r);
	assert_int_equal(hsd_report_feed(r, "1", 10 * SEC, "off", "on"), 0);
	assert_int_equal(hsd_report_feed(r, "1", 5 * SEC, "on", "off"),
			 -EINVAL);
	assert_int_equal(hsd_report_snapshot(r, "1", 4 * SEC, "off"),
			 -EINVAL);
	rep = hsd_report_build(r, 20 * SEC);
	assert_non_null(rep);
	s = slot_of(rep, "1");
	assert_non_null(s);
	/* Still in service since 10 s: the refused "off" never counted. */
	assert_string_equal(json_string_value(json_object_get(s, "state")),
			    "on");
	assert_true(json_is_true(json_object_get(s, "in_service")));
	assert_true(json_real_value(json_object_get(s, "in_service_s")) >= 10.0);
	assert_true(json_real_value(json_object_get(s, "out_of_service_s")) == 0.0);
	json_decref(rep);
	hsd_report_free(r);
	hsd_report_free(NULL);
}

/* A slot whose first event leaves "on" was in service until then. */
static void test_report_first_seen_leaving_service(void **state)
{
	struct hsd_report *r = hsd_report_new();
	json_t *rep, *s;

	(void)state;
	assert_int_equal(hsd_report_feed(r, "7", 100 * SEC, "on", "off"), 0);
	rep = hsd_report_build(r, 130 * SEC);
	s = slot_of(rep, "7");
	assert_non_null(s);
	assert_string_equal(json_string_value(json_object_get(s, "state")),
			    "off");
	assert_false(json_is_true(json_object_get(s, "in_service")));
	/* Out of service for the 30 s since. */
	assert_true(json_real_value(json_object_get(s, "out_of_service_s")) >= 30.0);
	json_decref(rep);
	hsd_report_free(r);
}

/* A slot never out of service: availability 1 and the nines bounded by
 * how long it was watched (one-second resolution). */
static void test_report_never_out(void **state)
{
	struct hsd_report *r = hsd_report_new();
	json_t *rep, *s;

	(void)state;
	assert_int_equal(hsd_report_snapshot(r, "3", 0, "on"), 0);
	rep = hsd_report_build(r, 1000 * SEC);
	s = slot_of(rep, "3");
	assert_non_null(s);
	assert_true(json_real_value(json_object_get(s, "availability")) == 1.0);
	/* log10(1000 s) = 3 nines at most. */
	assert_true(json_real_value(json_object_get(s, "nines")) > 2.99);
	assert_true(json_real_value(json_object_get(s, "nines")) < 3.01);
	json_decref(rep);
	hsd_report_free(r);
}

static void test_policy_rule_for_edges(void **state)
{
	struct hsd_card_id c = { .vendor = 0x8086, .device = 0x10d3,
				 .subsys_vendor = 0x8086, .subsys = 0xa01f };
	char buf[64], small[12];
	char long_slot[300];
	int n;

	(void)state;
	/* Only allow and block are targets. */
	assert_int_equal(hsd_policy_rule_for(&c, (enum hsd_target)7, buf,
					     sizeof(buf)), -EINVAL);
	assert_string_equal(hsd_policy_target_name((enum hsd_target)7),
			    "invalid");
	/* A slot name a rule cannot hold: white space, '#', empty, too
	 * long. */
	c.slot = "slot 3";
	assert_int_equal(hsd_policy_rule_for(&c, HSD_ALLOW, buf, sizeof(buf)),
			 -EINVAL);
	c.slot = "a#b";
	assert_int_equal(hsd_policy_rule_for(&c, HSD_ALLOW, buf, sizeof(buf)),
			 -EINVAL);
	c.slot = "";
	assert_int_equal(hsd_policy_rule_for(&c, HSD_ALLOW, buf, sizeof(buf)),
			 -EINVAL);
	memset(long_slot, 'x', sizeof(long_slot) - 1);
	long_slot[sizeof(long_slot) - 1] = '\0';
	c.slot = long_slot;
	assert_int_equal(hsd_policy_rule_for(&c, HSD_ALLOW, buf, sizeof(buf)),
			 -EINVAL);
	/* Wildcard characters in a slot name are escaped, literally. */
	c.slot = "1*";
	n = hsd_policy_rule_for(&c, HSD_BLOCK, buf, sizeof(buf));
	assert_string_equal(buf, "block id 8086:10d3 subsys 8086:a01f slot 1\\*");
	assert_int_equal(n, (int)strlen(buf));
	/* Cut to the buffer, the length needed returned (like snprintf);
	 * no buffer at all just measures. */
	assert_int_equal(hsd_policy_rule_for(&c, HSD_BLOCK, small,
					     sizeof(small)), n);
	assert_string_equal(small, "block id 80");
	assert_int_equal(hsd_policy_rule_for(&c, HSD_BLOCK, NULL, 0), n);
}

/* The rule text keeps a '*' slot pattern and escapes; a rule whose slot
 * is too long for a rule is an error naming it. */
static void test_policy_slot_patterns(void **state)
{
	struct hsd_policy *p = hsd_policy_new();
	char err[256], rule[400];
	struct hsd_card_id c = { .vendor = 1, .device = 2, .slot = "12" };

	(void)state;
	assert_int_equal(hsd_policy_add(p, "block slot 1*", false, err,
					sizeof(err)), 0);
	assert_int_equal(hsd_policy_decide(p, &c, false, NULL), HSD_BLOCK);
	c.slot = "21";
	assert_int_equal(hsd_policy_decide(p, &c, false, NULL), HSD_ALLOW);
	memset(rule, 0, sizeof(rule));
	strcpy(rule, "block slot ");
	memset(rule + strlen(rule), 'y', 300);
	assert_true(hsd_policy_add(p, rule, false, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "slot"));
	assert_int_equal(hsd_policy_count(p), 1);
	hsd_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_refuses_time_going_back),
		cmocka_unit_test(test_report_first_seen_leaving_service),
		cmocka_unit_test(test_report_never_out),
		cmocka_unit_test(test_policy_rule_for_edges),
		cmocka_unit_test(test_policy_slot_patterns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
