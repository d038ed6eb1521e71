/*
 * test_report.c - the availability report as an operator reads it: the
 * worked example of docs/protocol.md, slots in service since start,
 * restarts, slots the operator emptied, replacements, nines.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "report.h"

#define S(x) ((int64_t)((x) * 1e9))

static json_t *slot_of(json_t *all, const char *name)
{
	size_t i;
	json_t *s;

	json_array_foreach(all, i, s)
		if (!strcmp(json_string_value(json_object_get(s, "slot")), name))
			return s;
	return NULL;
}

static double num(json_t *s, const char *key)
{
	json_t *v = json_object_get(s, key);

	assert_true(json_is_number(v));
	return json_number_value(v);
}

/* Service started at 0 with slot 2 on; a surprise pull at 49 s; a new card
 * in service at 51.2 s; report at 100 s: 97.8 s in, 2.2 s out. */
static void test_worked_example(void **state)
{
	struct hsd_report *r = hsd_report_new();
	json_t *all, *s, *out;

	(void)state;
	hsd_report_booting(r, true);
	/* Boot reconciliation is not history. */
	assert_int_equal(hsd_report_feed(r, "2", S(0.1), "empty", "on"), 0);
	hsd_report_booting(r, false);
	assert_int_equal(hsd_report_snapshot(r, "2", S(0.2), "on"), 0);
	assert_int_equal(hsd_report_feed(r, "2", S(49.2), "on", "empty"), 0);
	assert_int_equal(hsd_report_feed(r, "2", S(50), "empty", "off"), 0);
	assert_int_equal(hsd_report_feed(r, "2", S(50.5), "off", "powering-on"), 0);
	assert_int_equal(hsd_report_feed(r, "2", S(51.4), "powering-on", "on"), 0);
	all = hsd_report_build(r, S(100.2));
	s = slot_of(all, "2");
	assert_non_null(s);
	assert_float_equal(num(s, "in_service_s"), 97.8, 1e-6);
	assert_float_equal(num(s, "out_of_service_s"), 2.2, 1e-6);
	assert_float_equal(num(s, "availability"), 97.8 / 100.0, 1e-9);
	assert_float_equal(num(s, "nines"), -log10(1 - 0.978), 1e-6);
	assert_false(json_is_true(json_object_get(s, "nines_lower_bound")));
	assert_int_equal(json_integer_value(json_object_get(s, "replacements")), 1);
	assert_float_equal(num(s, "mttr_s"), 2.2, 1e-6);
	out = json_array_get(json_object_get(s, "outages"), 0);
	assert_string_equal(json_string_value(json_object_get(out, "cause")),
			    "failure");
	assert_true(json_is_true(json_object_get(out, "replaced")));
	json_decref(all);
	hsd_report_free(r);
}

/* A slot on since start that never changed is in the report, 100 %. */
static void test_on_since_start(void **state)
{
	struct hsd_report *r = hsd_report_new();
	json_t *all, *s;

	(void)state;
	assert_int_equal(hsd_report_snapshot(r, "7", S(10), "on"), 0);
	assert_int_equal(hsd_report_snapshot(r, "8", S(10), "empty"), 0);
	all = hsd_report_build(r, S(1010));
	s = slot_of(all, "7");
	assert_non_null(s);
	assert_float_equal(num(s, "availability"), 1.0, 0);
	assert_float_equal(num(s, "in_service_s"), 1000, 1e-6);
	/* Never out: log10(1000 s) = 3 nines at least. */
	assert_float_equal(num(s, "nines"), 3.0, 1e-9);
	assert_true(json_is_true(json_object_get(s, "nines_lower_bound")));
	assert_true(json_is_null(json_object_get(s, "mttr_s")));
	/* Never in service: not in the report. */
	assert_null(slot_of(all, "8"));
	json_decref(all);
	hsd_report_free(r);
}

/* The operator takes the card down and pulls it: the empty time is not
 * an outage; a new card brought up later counts from its insertion. */
static void test_operator_emptied(void **state)
{
	struct hsd_report *r = hsd_report_new();
	json_t *all, *s, *out;

	(void)state;
	hsd_report_snapshot(r, "3", S(0), "on");
	hsd_report_feed(r, "3", S(10), "on", "blinking-off");
	hsd_report_feed(r, "3", S(15), "blinking-off", "powering-off");
	hsd_report_feed(r, "3", S(16), "powering-off", "off");
	hsd_report_feed(r, "3", S(20), "off", "empty");
	/* Emptied: 5 s counted (15..20), nothing more while it stays so. */
	all = hsd_report_build(r, S(1000));
	s = slot_of(all, "3");
	assert_float_equal(num(s, "out_of_service_s"), 5, 1e-6);
	assert_float_equal(num(s, "in_service_s"), 15, 1e-6);
	out = json_array_get(json_object_get(s, "outages"), 0);
	assert_true(json_is_true(json_object_get(out, "emptied")));
	assert_string_equal(json_string_value(json_object_get(out, "cause")),
			    "operator");
	assert_int_equal(json_integer_value(json_object_get(s, "replacements")), 0);
	json_decref(all);
	/* A card inserted at 2000 and on at 2001: a replacement of 6 s. */
	hsd_report_feed(r, "3", S(2000), "empty", "off");
	hsd_report_feed(r, "3", S(2000.5), "off", "powering-on");
	hsd_report_feed(r, "3", S(2001), "powering-on", "on");
	all = hsd_report_build(r, S(2001));
	s = slot_of(all, "3");
	assert_float_equal(num(s, "out_of_service_s"), 6, 1e-6);
	assert_int_equal(json_integer_value(json_object_get(s, "replacements")), 1);
	assert_float_equal(num(s, "mttr_s"), 6, 1e-6);
	json_decref(all);
	hsd_report_free(r);
}

/* A restart: the boot's transitions are ignored, the card on before and
 * after keeps its uptime; one found off after the restart is out since. */
static void test_restart(void **state)
{
	struct hsd_report *r = hsd_report_new();
	json_t *all;

	(void)state;
	hsd_report_snapshot(r, "1", S(0), "on");
	hsd_report_snapshot(r, "2", S(0), "on");
	hsd_report_booting(r, true);
	hsd_report_feed(r, "1", S(60), "empty", "off");
	hsd_report_feed(r, "1", S(60.5), "off", "on");
	hsd_report_booting(r, false);
	hsd_report_snapshot(r, "1", S(61), "on");
	hsd_report_snapshot(r, "2", S(61), "fault");
	all = hsd_report_build(r, S(100));
	assert_float_equal(num(slot_of(all, "1"), "availability"), 1.0, 0);
	assert_float_equal(num(slot_of(all, "2"), "out_of_service_s"), 39, 1e-6);
	assert_true(json_is_null(json_object_get(
		json_array_get(json_object_get(slot_of(all, "2"), "outages"), 0),
		"end")));
	json_decref(all);
	hsd_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_on_since_start),
		cmocka_unit_test(test_operator_emptied),
		cmocka_unit_test(test_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
