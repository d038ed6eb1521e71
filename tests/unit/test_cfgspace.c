/*
 * test_cfgspace.c - the per-byte register model: read-only, writable and
 * write-1-to-clear bits, widths, and capability list construction.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "sim_util.h"
#include "sim_internal.h"

static struct sim_cfg c;

static void test_readonly_ignores_writes(void **state)
{
	(void)state;
	sim_cfg_init(&c);
	sim_cfg_set(&c, 0x00, 4, 0x12345678);
	sim_cfg_write(&c, 0x00, 4, 0xffffffff);
	assert_int_equal(sim_cfg_get(&c, 0x00, 4), 0x12345678);
}

static void test_writable_bits_only(void **state)
{
	(void)state;
	sim_cfg_init(&c);
	sim_cfg_set(&c, 0x04, 2, 0x0100);
	sim_cfg_set_wmask(&c, 0x04, 2, 0x00ff);
	sim_cfg_write(&c, 0x04, 2, 0xffff);
	/* High byte read-only keeps 0x01; low byte takes the write. */
	assert_int_equal(sim_cfg_get(&c, 0x04, 2), 0x01ff);
	sim_cfg_write(&c, 0x04, 2, 0x0000);
	assert_int_equal(sim_cfg_get(&c, 0x04, 2), 0x0100);
}

static void test_w1c_clears_only_ones(void **state)
{
	(void)state;
	sim_cfg_init(&c);
	sim_cfg_set(&c, 0x06, 2, 0xf810);
	sim_cfg_set_w1c(&c, 0x06, 2, 0xf800);
	/* Writing 0 changes nothing. */
	sim_cfg_write(&c, 0x06, 2, 0x0000);
	assert_int_equal(sim_cfg_get(&c, 0x06, 2), 0xf810);
	/* Writing 1 to one error bit clears that bit alone. */
	sim_cfg_write(&c, 0x06, 2, 0x2000);
	assert_int_equal(sim_cfg_get(&c, 0x06, 2), 0xd810);
	/* A 1 written to a read-only bit (bit 4) does nothing. */
	sim_cfg_write(&c, 0x06, 2, 0x0010);
	assert_int_equal(sim_cfg_get(&c, 0x06, 2), 0xd810);
	/* Clear the rest. */
	sim_cfg_write(&c, 0x06, 2, 0xffff);
	assert_int_equal(sim_cfg_get(&c, 0x06, 2), 0x0010);
}

static void test_byte_writes_inside_dword(void **state)
{
	(void)state;
	sim_cfg_init(&c);
	sim_cfg_set_wmask(&c, 0x40, 4, 0xffffffff);
	sim_cfg_write(&c, 0x42, 1, 0xab);
	assert_int_equal(sim_cfg_get(&c, 0x40, 4), 0x00ab0000);
	sim_cfg_write(&c, 0x40, 2, 0x1234);
	assert_int_equal(sim_cfg_get(&c, 0x40, 4), 0x00ab1234);
	assert_int_equal(sim_cfg_get(&c, 0x43, 1), 0x00);
}

static void test_mixed_masks_in_one_byte(void **state)
{
	(void)state;
	sim_cfg_init(&c);
	/* bits 0-1 writable, bits 6-7 W1C, the rest read-only. */
	sim_cfg_set(&c, 0x50, 1, 0xc4);
	sim_cfg_set_wmask(&c, 0x50, 1, 0x03);
	sim_cfg_set_w1c(&c, 0x50, 1, 0xc0);
	sim_cfg_write(&c, 0x50, 1, 0x83);
	assert_int_equal(sim_cfg_get(&c, 0x50, 1), 0x47);
}

static void test_capability_lists(void **state)
{
	uint16_t a, b, e1, e2;

	(void)state;
	sim_cfg_init(&c);
	a = sim_cfg_add_cap(&c, 0x01, 8);
	b = sim_cfg_add_cap(&c, 0x05, 10);
	assert_int_equal(a, 0x40);
	assert_int_equal(b, 0x48);
	assert_int_equal(sim_cfg_get(&c, 0x34, 1), 0x40);
	assert_int_equal(sim_cfg_get(&c, 0x41, 1), 0x48);
	assert_int_equal(sim_cfg_get(&c, 0x49, 1), 0x00);
	assert_true(sim_cfg_get(&c, 0x06, 2) & 0x10);
	/* Next one is DWORD aligned after the 10-byte MSI capability. */
	assert_int_equal(sim_cfg_add_cap(&c, 0x10, 0x3c), 0x54);
	/* No room left below 0x100 for a huge one. */
	assert_int_equal(sim_cfg_add_cap(&c, 0x09, 0x100), 0);
	e1 = sim_cfg_add_ext_cap(&c, 0x0001, 2, 0x48);
	e2 = sim_cfg_add_ext_cap(&c, 0x0003, 1, 12);
	assert_int_equal(e1, 0x100);
	assert_int_equal(e2, 0x148);
	assert_int_equal(sim_cfg_get(&c, 0x100, 4), 0x14820001u);
	assert_int_equal(sim_cfg_get(&c, 0x148, 4), 0x00010003u);
}

static void test_edge_of_space(void **state)
{
	(void)state;
	sim_cfg_init(&c);
	sim_cfg_set_wmask(&c, 0xffc, 4, 0xffffffff);
	sim_cfg_write(&c, 0xffc, 4, 0xdeadbeef);
	assert_int_equal(sim_cfg_get(&c, 0xffc, 4), 0xdeadbeef);
	/* Bytes past 4 KiB are not there: reads stop at the end. */
	assert_int_equal(sim_cfg_get(&c, 0xffe, 4), 0xdead);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readonly_ignores_writes),
		cmocka_unit_test(test_writable_bits_only),
		cmocka_unit_test(test_w1c_clears_only_ones),
		cmocka_unit_test(test_byte_writes_inside_dword),
		cmocka_unit_test(test_mixed_masks_in_one_byte),
		cmocka_unit_test(test_capability_lists),
		cmocka_unit_test(test_edge_of_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
