/*
 * test_core.c - the freestanding core pieces that exist so far: the
 * formatter, the timer list on the platform's one one-shot timer, and
 * capability walks that survive cards lying about their lists.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <string.h>

#include "sim_util.h"

#include "hotswap/cfg.h"
#include "hotswap/util.h"
#include "hotswap/timer.h"

static void test_format(void **state)
{
	char b[64];

	(void)state;
	hs_snprintf(b, sizeof(b), "%04x:%02x:%02x.%u %s %d %5d|%-3s|", 0, 3,
		    0x1f, 7u, "ok", -42, 12, "a");
	assert_string_equal(b, "0000:03:1f.7 ok -42    12|a  |");
	hs_snprintf(b, sizeof(b), "%llx %lu %zu %X %c %%", 0x123456789abull,
		    4000000000ul, (size_t)5, 0xbeefu, 'z');
	assert_string_equal(b, "123456789ab 4000000000 5 BEEF z %");
	hs_snprintf(b, sizeof(b), "%#llx-%#x %#x", 0x80000000ull, 0xfffu, 0u);
	assert_string_equal(b, "0x80000000-0xfff 0");
	/* Truncation keeps the terminator and reports the full length. */
	assert_int_equal(hs_snprintf(b, 5, "%s", "abcdefgh"), 8);
	assert_string_equal(b, "abcd");
	hs_snprintf(b, sizeof(b), "%d", -2147483647 - 1);
	assert_string_equal(b, "-2147483648");
}

static struct tu t;
static char order[64];
static size_t norder;

static void mark(void *arg)
{
	order[norder++] = *(const char *)arg;
	order[norder] = '\0';
}

static void test_timers_in_deadline_order(void **state)
{
	struct hs_timers ts;
	struct hs_timer a, b, c, d;
	static char ca = 'a', cb = 'b', cc = 'c', cd = 'd';

	(void)state;
	tu_init(&t, NULL);
	norder = 0;
	order[0] = '\0';
	hs_timers_init(&ts, &t.plat);
	hs_timer_init(&a, mark, &ca);
	hs_timer_init(&b, mark, &cb);
	hs_timer_init(&c, mark, &cc);
	hs_timer_init(&d, mark, &cd);
	hs_timer_arm(&ts, &a, HS_MSEC(30));
	hs_timer_arm(&ts, &b, HS_MSEC(10));
	hs_timer_arm(&ts, &c, HS_MSEC(20));
	hs_timer_arm(&ts, &d, HS_MSEC(10)); /* tie with b: armed later */
	hs_timer_cancel(&ts, &c);
	sim_advance(t.sim, HS_MSEC(9));
	assert_string_equal(order, "");
	sim_advance(t.sim, HS_MSEC(1));
	assert_string_equal(order, "bd");
	/* Re-arming moves a timer. */
	hs_timer_arm(&ts, &a, HS_MSEC(100));
	sim_advance(t.sim, HS_MSEC(50));
	assert_string_equal(order, "bd");
	assert_true(hs_timer_armed(&a));
	sim_advance(t.sim, HS_MSEC(50));
	assert_string_equal(order, "bda");
	assert_false(hs_timer_armed(&a));
	/* Nothing left: the platform timer is disarmed. */
	hs_time_t when;

	assert_false(sim_next_event(t.sim, &when));
	hs_timer_arm(&ts, &c, HS_SEC(5));
	hs_timers_fini(&ts);
	assert_false(sim_next_event(t.sim, &when));
	tu_fini(&t);
}

static const struct sim_card_spec quirky[] = {
	{ .name = "loop", .nfuncs = 1,
	  .funcs = { { .vendor = 0x1234, .device = 1, .class_code = 0xff0000,
		       .msi_vectors = 1, .quirks = SIM_QUIRK_CAP_LOOP } } },
	{ .name = "outside", .nfuncs = 1,
	  .funcs = { { .vendor = 0x1234, .device = 2, .class_code = 0xff0000,
		       .quirks = SIM_QUIRK_CAP_OUTSIDE } } },
	{ .name = "extloop", .nfuncs = 1, .pcie = true,
	  .funcs = { { .vendor = 0x1234, .device = 3, .class_code = 0xff0000,
		       .has_serial = true, .serial = 1,
		       .quirks = SIM_QUIRK_EXTCAP_LOOP } } },
	{ .name = "good", .nfuncs = 1, .pcie = true,
	  .funcs = { { .vendor = 0x1234, .device = 4, .class_code = 0xff0000,
		       .msi_vectors = 4, .has_serial = true,
		       .serial = 0x1122334455667788ull } } },
};

static void test_capability_walks_are_bounded(void **state)
{
	uint16_t off;

	(void)state;
	tu_init(&t, NULL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(sim_add_device(sim_root_bus(t.sim),
						(uint8_t)(i + 1), &quirky[i]), 0);
	/* A loop is detected, not followed forever. */
	assert_int_equal(hs_cfg_find_cap(&t.plat, HS_BDF(0, 0, 1, 0), 0x10,
					 &off), -HS_ELOOP);
	assert_int_equal(hs_cfg_check_caps(&t.plat, HS_BDF(0, 0, 1, 0)),
			 -HS_ELOOP);
	/* Entries before the loop point are still found. */
	assert_int_equal(hs_cfg_find_cap(&t.plat, HS_BDF(0, 0, 1, 0), 0x05,
					 &off), 0);
	/* A pointer into the header is refused. */
	assert_int_equal(hs_cfg_find_cap(&t.plat, HS_BDF(0, 0, 2, 0), 0x10,
					 &off), -HS_EFAULT);
	/* Extended list loop. */
	assert_int_equal(hs_cfg_find_ext_cap(&t.plat, HS_BDF(0, 0, 3, 0),
					     0x000e, &off), -HS_ELOOP);
	assert_int_equal(hs_cfg_check_caps(&t.plat, HS_BDF(0, 0, 3, 0)),
			 -HS_ELOOP);
	/* A sound card: everything found, serial readable. */
	assert_int_equal(hs_cfg_check_caps(&t.plat, HS_BDF(0, 0, 4, 0)), 0);
	assert_int_equal(hs_cfg_find_cap(&t.plat, HS_BDF(0, 0, 4, 0), 0x05,
					 &off), 0);
	assert_int_equal(hs_cfg_find_ext_cap(&t.plat, HS_BDF(0, 0, 4, 0),
					     0x0003, &off), 0);
	assert_int_equal(tu_rd32(&t, HS_BDF(0, 0, 4, 0), off + 4), 0x55667788);
	assert_int_equal(hs_cfg_find_cap(&t.plat, HS_BDF(0, 0, 4, 0), 0x11,
					 &off), -HS_ENOENT);
	/* Nobody home. */
	assert_int_equal(hs_cfg_find_cap(&t.plat, HS_BDF(0, 0, 9, 0), 0x05,
					 &off), -HS_ENODEV);
	assert_false(hs_cfg_present(&t.plat, HS_BDF(0, 0, 9, 0)));
	assert_true(hs_cfg_present(&t.plat, HS_BDF(0, 0, 4, 0)));
	tu_fini(&t);
}

static void test_walk_survives_vanishing_card(void **state)
{
	uint16_t off;

	(void)state;
	tu_init(&t, NULL);
	assert_int_equal(sim_add_device(sim_root_bus(t.sim), 4, &quirky[3]), 0);
	/* The 4th config read of the walk fails (card gone mid-walk). */
	sim_fault_cfg(t.sim, 4);
	assert_int_not_equal(hs_cfg_find_cap(&t.plat, HS_BDF(0, 0, 4, 0), 0x10,
					     &off), 0);
	tu_fini(&t);
}

static char logged[256];

static void grab_log(void *arg, enum hs_log_level lvl, const char *line)
{
	(void)arg;
	(void)lvl;
	snprintf(logged, sizeof(logged), "%s", line);
}

static void test_log_goes_through_platform(void **state)
{
	(void)state;
	tu_init(&t, NULL);
	sim_set_log(t.sim, grab_log, NULL);
	hs_log(&t.plat, HS_LOG_INFO, "slot %s: %s", "7", "powered");
	assert_string_equal(logged, "slot 7: powered");
	tu_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_timers_in_deadline_order),
		cmocka_unit_test(test_capability_walks_are_bounded),
		cmocka_unit_test(test_walk_survives_vanishing_card),
		cmocka_unit_test(test_log_goes_through_platform),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
