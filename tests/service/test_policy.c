/*
 * test_policy.c - the authorization policy: rule language, canonical
 * text, decision order, defaults, rule_for and error messages.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

/* An Intel 82574L NIC in slot "3", no serial. */
static struct hsd_card_id nic(void)
{
	struct hsd_card_id c = {
		.vendor = 0x8086, .device = 0x10d3,
		.subsys_vendor = 0x8086, .subsys = 0xa01f,
		.class_code = 0x020000, .slot = "3",
	};
	return c;
}

static struct hsd_policy *pol(const char *text)
{
	char err[256] = "";
	struct hsd_policy *p = hsd_policy_new();

	assert_non_null(p);
	if (text) {
		int rc = hsd_policy_load(p, text, "test.conf", err,
					 sizeof(err));
		if (rc)
			fail_msg("load: %s", err);
	}
	return p;
}

static enum hsd_target decide(const struct hsd_policy *p,
			      const struct hsd_card_id *c)
{
	return hsd_policy_decide(p, c, false, NULL);
}

/* A one-rule "block <cond>" policy (default allow): does cond match c? */
static bool cond_matches(const char *cond, const struct hsd_card_id *c)
{
	char rule[256];
	struct hsd_policy *p;
	bool m;

	snprintf(rule, sizeof(rule), "block %s", cond);
	p = pol(rule);
	assert_int_equal(hsd_policy_count(p), 1);
	m = decide(p, c) == HSD_BLOCK;
	hsd_policy_free(p);
	return m;
}

/* ---- decision order -------------------------------------------------------- */

static void test_empty_policy_allows(void **state)
{
	struct hsd_policy *p = pol(NULL);
	struct hsd_card_id c = nic();
	const char *why = NULL;

	(void)state;
	assert_int_equal(hsd_policy_count(p), 0);
	assert_null(hsd_policy_rule(p, 0));
	assert_int_equal(hsd_policy_default(p, false), HSD_ALLOW);
	assert_int_equal(hsd_policy_default(p, true), HSD_ALLOW);
	assert_int_equal(hsd_policy_decide(p, &c, false, &why), HSD_ALLOW);
	assert_string_equal(why, "default for inserted cards");
	assert_int_equal(hsd_policy_decide(p, &c, true, &why), HSD_ALLOW);
	assert_string_equal(why, "default for cards present at start");
	hsd_policy_free(p);
	hsd_policy_free(NULL);
}

static void test_first_match_wins(void **state)
{
	struct hsd_policy *p = pol("allow id 8086:10d3\n"
				   "block class 02*\n"
				   "allow\n");
	struct hsd_card_id c = nic();
	const char *why;

	(void)state;
	assert_int_equal(hsd_policy_decide(p, &c, false, &why), HSD_ALLOW);
	assert_string_equal(why, "allow id 8086:10d3");
	c.device = 0x1533;              /* another Intel NIC */
	assert_int_equal(hsd_policy_decide(p, &c, false, &why), HSD_BLOCK);
	assert_string_equal(why, "block class 02*");
	c.class_code = 0x010802;        /* NVMe: the catch-all */
	assert_int_equal(hsd_policy_decide(p, &c, true, &why), HSD_ALLOW);
	assert_string_equal(why, "allow");
	hsd_policy_free(p);
}

static void test_defaults_separate(void **state)
{
	struct hsd_policy *p = pol("allow id 8086:10d3\n");
	struct hsd_card_id c = nic(), other = nic();
	const char *why;

	(void)state;
	other.vendor = 0x10ec;
	hsd_policy_set_default(p, false, HSD_BLOCK);
	assert_int_equal(hsd_policy_default(p, false), HSD_BLOCK);
	assert_int_equal(hsd_policy_default(p, true), HSD_ALLOW);
	assert_int_equal(hsd_policy_decide(p, &other, false, &why), HSD_BLOCK);
	assert_string_equal(why, "default for inserted cards");
	assert_int_equal(hsd_policy_decide(p, &other, true, &why), HSD_ALLOW);
	assert_string_equal(why, "default for cards present at start");
	/* A matching rule beats either default. */
	assert_int_equal(hsd_policy_decide(p, &c, false, &why), HSD_ALLOW);
	assert_string_equal(why, "allow id 8086:10d3");

	hsd_policy_set_default(p, true, HSD_BLOCK);
	hsd_policy_set_default(p, false, HSD_ALLOW);
	assert_int_equal(hsd_policy_decide(p, &other, true, NULL), HSD_BLOCK);
	assert_int_equal(hsd_policy_decide(p, &other, false, NULL), HSD_ALLOW);
	hsd_policy_free(p);
}

static void test_add_front_takes_precedence(void **state)
{
	struct hsd_policy *p = pol("block class 02*\n");
	struct hsd_card_id c = nic();
	char err[256];
	const char *why;

	(void)state;
	assert_int_equal(decide(p, &c), HSD_BLOCK);
	assert_int_equal(hsd_policy_add(p, "allow id 8086:10d3", false, err,
					sizeof(err)), 0);
	assert_int_equal(decide(p, &c), HSD_BLOCK);   /* behind the block */
	assert_int_equal(hsd_policy_add(p, "allow id 8086:10d3 slot 3", true,
					err, sizeof(err)), 0);
	assert_int_equal(hsd_policy_decide(p, &c, false, &why), HSD_ALLOW);
	assert_string_equal(why, "allow id 8086:10d3 slot 3");
	assert_int_equal(hsd_policy_count(p), 3);
	assert_string_equal(hsd_policy_rule(p, 0), "allow id 8086:10d3 slot 3");
	assert_string_equal(hsd_policy_rule(p, 1), "block class 02*");
	assert_string_equal(hsd_policy_rule(p, 2), "allow id 8086:10d3");
	hsd_policy_free(p);
}

/* *why stays valid while rules are added (it lives as long as p). */
static void test_why_outlives_additions(void **state)
{
	struct hsd_policy *p = pol("block class 02*\n");
	struct hsd_card_id c = nic();
	const char *why;
	char rule[64];
	int i;

	(void)state;
	hsd_policy_decide(p, &c, false, &why);
	for (i = 0; i < 100; i++) {
		snprintf(rule, sizeof(rule), "allow id 1234:%04x", i);
		assert_int_equal(hsd_policy_add(p, rule, i & 1, NULL, 0), 0);
	}
	assert_string_equal(why, "block class 02*");
	hsd_policy_free(p);
}

/* ---- conditions ------------------------------------------------------------ */

static void test_cond_id(void **state)
{
	struct hsd_card_id c = nic();

	(void)state;
	assert_true(cond_matches("id 8086:10d3", &c));
	assert_true(cond_matches("id 8086:10D3", &c));
	assert_false(cond_matches("id 8086:10d4", &c));
	assert_false(cond_matches("id 8087:10d3", &c));
	assert_true(cond_matches("id 8086:*", &c));
	assert_true(cond_matches("id *:10d3", &c));
	assert_true(cond_matches("id *:*", &c));
	assert_false(cond_matches("id 10ec:*", &c));
	assert_false(cond_matches("id *:8168", &c));
	/* id is vendor:device, not subsystem. */
	assert_false(cond_matches("id 8086:a01f", &c));
}

static void test_cond_subsys(void **state)
{
	struct hsd_card_id c = nic();

	(void)state;
	assert_true(cond_matches("subsys 8086:a01f", &c));
	assert_true(cond_matches("subsys 8086:A01F", &c));
	assert_false(cond_matches("subsys 8086:a020", &c));
	assert_false(cond_matches("subsys 8086:10d3", &c));
	assert_true(cond_matches("subsys 8086:*", &c));
	assert_true(cond_matches("subsys *:a01f", &c));
	assert_false(cond_matches("subsys 1028:*", &c));
}

static void test_cond_class(void **state)
{
	struct hsd_card_id c = nic();           /* 020000 */
	struct hsd_card_id usb = nic();

	(void)state;
	usb.class_code = 0x0c0330;              /* xHCI */
	assert_true(cond_matches("class 020000", &c));
	assert_false(cond_matches("class 020001", &c));
	assert_false(cond_matches("class 028000", &c));
	assert_true(cond_matches("class 02*", &c));
	assert_true(cond_matches("class 02", &c));      /* prefix too */
	assert_true(cond_matches("class 0200*", &c));
	assert_true(cond_matches("class 020000*", &c));
	assert_false(cond_matches("class 03*", &c));
	assert_false(cond_matches("class 0280*", &c));
	assert_true(cond_matches("class 0c03*", &usb));
	assert_true(cond_matches("class 0C03*", &usb));
	assert_true(cond_matches("class 0c*", &usb));
	assert_true(cond_matches("class 0c0330", &usb));
	assert_false(cond_matches("class 0c0320", &usb));
	assert_false(cond_matches("class 0c02*", &usb));
	assert_false(cond_matches("class 02*", &usb));
	/* Bits above 24 in class_code are ignored. */
	c.class_code = 0xff020000;
	assert_true(cond_matches("class 020000", &c));
}

static void test_cond_slot(void **state)
{
	struct hsd_card_id c = nic(), soldered = nic(), star = nic();

	(void)state;
	soldered.slot = NULL;
	assert_true(cond_matches("slot 3", &c));
	assert_false(cond_matches("slot 4", &c));
	assert_false(cond_matches("slot 33", &c));
	assert_false(cond_matches("slot 3", &soldered));
	assert_false(cond_matches("slot *", &soldered));

	c.slot = "pcie-slot-2";
	assert_true(cond_matches("slot pcie-slot-2", &c));
	assert_false(cond_matches("slot PCIE-SLOT-2", &c)); /* names exact */
	assert_true(cond_matches("slot pcie-slot-*", &c));
	assert_true(cond_matches("slot pcie-slot-[0-3]", &c));
	assert_false(cond_matches("slot pcie-slot-[4-7]", &c));
	assert_true(cond_matches("slot pcie-slot-?", &c));
	assert_false(cond_matches("slot cpci-*", &c));
	assert_true(cond_matches("slot *", &c));

	star.slot = "a*b";
	assert_true(cond_matches("slot a\\*b", &star));
	c.slot = "axxb";
	assert_false(cond_matches("slot a\\*b", &c));
	assert_true(cond_matches("slot a*b", &c));
}

static void test_cond_serial(void **state)
{
	struct hsd_card_id c = nic(), none = nic();

	(void)state;
	c.has_serial = true;
	c.serial = 0x0011223344556677ull;
	assert_true(cond_matches("serial 0011223344556677", &c));
	assert_true(cond_matches("serial 11223344556677", &c));
	assert_true(cond_matches("serial 00-11-22-33-44-55-66-77", &c));
	assert_true(cond_matches("serial 0011-2233-4455-6677", &c));
	assert_false(cond_matches("serial 0011223344556678", &c));
	c.serial = 0xabcdef;
	assert_true(cond_matches("serial ABCDEF", &c));
	assert_true(cond_matches("serial abcdef", &c));

	/* Only a card that has a serial matches, even serial 0. */
	none.has_serial = false;
	none.serial = 0;
	assert_false(cond_matches("serial 0", &none));
	none.has_serial = true;
	assert_true(cond_matches("serial 0", &none));
}

static void test_all_conditions_must_hold(void **state)
{
	struct hsd_card_id c = nic();
	const char *all = "id 8086:10d3 subsys 8086:a01f class 02* slot 3 "
			  "serial 42";

	(void)state;
	c.has_serial = true;
	c.serial = 0x42;
	assert_true(cond_matches(all, &c));
	/* Conditions in any order. */
	assert_true(cond_matches("serial 42 slot 3 class 02* subsys 8086:a01f "
				 "id 8086:10d3", &c));
	c.slot = "4";
	assert_false(cond_matches(all, &c));
	c = nic();
	c.has_serial = true;
	c.serial = 0x42;
	c.subsys = 0;
	assert_false(cond_matches(all, &c));
	c = nic();
	c.has_serial = true;
	c.serial = 0x42;
	c.class_code = 0x030000;
	assert_false(cond_matches(all, &c));
	c = nic();
	assert_false(cond_matches(all, &c));          /* no serial */
}

/* ---- canonical text -------------------------------------------------------- */

/* The same decisions for every card in a small zoo. */
static void assert_same_decisions(const struct hsd_policy *a,
				  const struct hsd_policy *b)
{
	static const char *const slots[] = { "3", "4", "a*b", NULL };
	static const uint16_t ids[] = { 0x8086, 0x10d3, 0xa01f, 0x10ec };
	static const uint32_t classes[] = { 0x020000, 0x028000, 0x0c0330 };
	unsigned v, d, k, s, ser;

	for (v = 0; v < 4; v++)
	for (d = 0; d < 4; d++)
	for (k = 0; k < 3; k++)
	for (s = 0; s < 4; s++)
	for (ser = 0; ser < 3; ser++) {
		struct hsd_card_id c = {
			.vendor = ids[v], .device = ids[d],
			.subsys_vendor = ids[d], .subsys = ids[v],
			.class_code = classes[k], .slot = slots[s],
			.has_serial = ser != 0,
			.serial = ser == 2 ? 0x0011223344556677ull : 0x42,
		};
		assert_int_equal(decide(a, &c), decide(b, &c));
	}
}

static void test_canonical_text(void **state)
{
	static const struct {
		const char *in, *canon;
	} cases[] = {
		{ "allow", "allow" },
		{ "  block  ", "block" },
		{ "allow slot 3 class 02* id 8086:10D3",
		  "allow id 8086:10d3 class 02* slot 3" },
		{ "block\tclass 0C03\tid *:*",
		  "block id *:* class 0c03*" },
		{ "allow class 02", "allow class 02*" },
		{ "allow class 020000*", "allow class 020000" },
		{ "allow class 0C0330", "allow class 0c0330" },
		{ "allow serial 00-11-22-33-44-55-66-77 subsys 8086:*",
		  "allow subsys 8086:* serial 0011223344556677" },
		{ "allow serial 1", "allow serial 0000000000000001" },
		{ "block slot a\\*b id *:10d3",
		  "block id *:10d3 slot a\\*b" },
		{ "allow id 8086:10d3 subsys 8086:a01f class 020000 slot 3 "
		  "serial ffffffffffffffff",
		  "allow id 8086:10d3 subsys 8086:a01f class 020000 slot 3 "
		  "serial ffffffffffffffff" },
	};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hsd_policy *a = pol(NULL), *b = pol(NULL);
		char err[256] = "";

		if (hsd_policy_add(a, cases[i].in, false, err, sizeof(err)))
			fail_msg("'%s': %s", cases[i].in, err);
		assert_string_equal(hsd_policy_rule(a, 0), cases[i].canon);
		/* parse(canonical(r)) == r: same text, same decisions. */
		if (hsd_policy_add(b, hsd_policy_rule(a, 0), false, err,
				   sizeof(err)))
			fail_msg("'%s': %s", cases[i].canon, err);
		assert_string_equal(hsd_policy_rule(b, 0), cases[i].canon);
		assert_same_decisions(a, b);
		hsd_policy_free(a);
		hsd_policy_free(b);
	}
}

static void test_targets(void **state)
{
	enum hsd_target t = HSD_BLOCK;

	(void)state;
	assert_int_equal(hsd_policy_parse_target("allow", &t), 0);
	assert_int_equal(t, HSD_ALLOW);
	assert_int_equal(hsd_policy_parse_target("block", &t), 0);
	assert_int_equal(t, HSD_BLOCK);
	assert_int_equal(hsd_policy_parse_target("reject", &t), -EINVAL);
	assert_int_equal(hsd_policy_parse_target("Allow", &t), -EINVAL);
	assert_int_equal(hsd_policy_parse_target("", &t), -EINVAL);
	assert_string_equal(hsd_policy_target_name(HSD_ALLOW), "allow");
	assert_string_equal(hsd_policy_target_name(HSD_BLOCK), "block");
}

/* ---- rule_for -------------------------------------------------------------- */

static void test_rule_for_serial(void **state)
{
	struct hsd_card_id c = nic(), twin = nic(), noser = nic();
	struct hsd_policy *p;
	char buf[256];
	int n;

	(void)state;
	c.has_serial = true;
	c.serial = 0x0011223344556677ull;
	n = hsd_policy_rule_for(&c, HSD_ALLOW, buf, sizeof(buf));
	assert_string_equal(buf, "allow id 8086:10d3 subsys 8086:a01f "
			    "serial 0011223344556677");
	assert_int_equal(n, (int)strlen(buf));

	p = pol(NULL);
	hsd_policy_set_default(p, false, HSD_BLOCK);
	hsd_policy_set_default(p, true, HSD_BLOCK);
	assert_int_equal(hsd_policy_add(p, buf, true, NULL, 0), 0);
	assert_string_equal(hsd_policy_rule(p, 0), buf);  /* canonical */
	assert_int_equal(decide(p, &c), HSD_ALLOW);
	c.slot = "7";                   /* moved to another slot: still it */
	assert_int_equal(decide(p, &c), HSD_ALLOW);
	twin.has_serial = true;         /* same model, another serial */
	twin.serial = 0x0011223344556678ull;
	assert_int_equal(decide(p, &twin), HSD_BLOCK);
	noser.has_serial = false;
	assert_int_equal(decide(p, &noser), HSD_BLOCK);
	hsd_policy_free(p);
}

static void test_rule_for_slot(void **state)
{
	struct hsd_card_id c = nic(), moved = nic(), other = nic();
	struct hsd_policy *p;
	char buf[256];

	(void)state;
	hsd_policy_rule_for(&c, HSD_ALLOW, buf, sizeof(buf));
	assert_string_equal(buf, "allow id 8086:10d3 subsys 8086:a01f slot 3");
	p = pol(NULL);
	hsd_policy_set_default(p, false, HSD_BLOCK);
	assert_int_equal(hsd_policy_add(p, buf, true, NULL, 0), 0);
	assert_int_equal(decide(p, &c), HSD_ALLOW);
	moved.slot = "4";
	assert_int_equal(decide(p, &moved), HSD_BLOCK);
	other.subsys = 0x0001;
	assert_int_equal(decide(p, &other), HSD_BLOCK);
	hsd_policy_free(p);

	/* Glob characters in a slot name are escaped: it matches only
	 * itself. */
	c.slot = "bay[1]*";
	hsd_policy_rule_for(&c, HSD_BLOCK, buf, sizeof(buf));
	assert_string_equal(buf, "block id 8086:10d3 subsys 8086:a01f "
			    "slot bay\\[1]\\*");
	p = pol(NULL);
	assert_int_equal(hsd_policy_add(p, buf, false, NULL, 0), 0);
	assert_string_equal(hsd_policy_rule(p, 0), buf);
	assert_int_equal(decide(p, &c), HSD_BLOCK);
	moved.slot = "bay1x";
	assert_int_equal(decide(p, &moved), HSD_ALLOW);
	hsd_policy_free(p);

	/* Soldered, no serial: id and subsys only. */
	c.slot = NULL;
	hsd_policy_rule_for(&c, HSD_ALLOW, buf, sizeof(buf));
	assert_string_equal(buf, "allow id 8086:10d3 subsys 8086:a01f");

	/* A slot name no rule can hold. */
	c.slot = "slot 3";
	assert_int_equal(hsd_policy_rule_for(&c, HSD_ALLOW, buf, sizeof(buf)),
			 -EINVAL);
	c.slot = "";
	assert_int_equal(hsd_policy_rule_for(&c, HSD_ALLOW, buf, sizeof(buf)),
			 -EINVAL);
}

static void test_rule_for_snprintf(void **state)
{
	struct hsd_card_id c = nic();
	char small[10];
	int n;

	(void)state;
	n = hsd_policy_rule_for(&c, HSD_ALLOW, NULL, 0);
	assert_int_equal(n, (int)strlen("allow id 8086:10d3 subsys 8086:a01f "
					"slot 3"));
	memset(small, 'x', sizeof(small));
	assert_int_equal(hsd_policy_rule_for(&c, HSD_ALLOW, small,
					     sizeof(small)), n);
	assert_string_equal(small, "allow id ");
}

/* ---- errors ---------------------------------------------------------------- */

/* Loading text fails with -EINVAL and a message containing each of the
 * NULL-terminated fragments; nothing is added. */
static void expect_error(const char *text, int want, ...)
{
	struct hsd_policy *p = pol("block class 02*\n");
	char err[512] = "";
	const char *frag;
	va_list ap;
	int rc;

	rc = hsd_policy_load(p, text, "rules.conf", err, sizeof(err));
	if (rc != want)
		fail_msg("'%s': rc %d, want %d (%s)", text, rc, want, err);
	va_start(ap, want);
	while ((frag = va_arg(ap, const char *)))
		if (!strstr(err, frag))
			fail_msg("'%s': error '%s' lacks '%s'", text, err,
				 frag);
	va_end(ap);
	assert_int_equal(hsd_policy_count(p), 1);
	assert_string_equal(hsd_policy_rule(p, 0), "block class 02*");
	hsd_policy_free(p);
}

static void test_error_messages(void **state)
{
	(void)state;
	expect_error("allow\npermit id 8086:10d3\n", -EINVAL,
		     "rules.conf:2: unknown target 'permit' "
		     "(expected allow or block)", NULL);
	expect_error("allow vendr 8086\n", -EINVAL,
		     "rules.conf:1: unknown condition 'vendr' (expected id, "
		     "subsys, class, slot or serial)", NULL);
	expect_error("# header\n\nallow id\n", -EINVAL,
		     "rules.conf:3: missing value after 'id'", NULL);
	expect_error("allow id 8086:10d3 slot   # no name\n", -EINVAL,
		     "rules.conf:1: missing value after 'slot'", NULL);
	expect_error("allow id 8086:10dz\n", -EINVAL,
		     "rules.conf:1: malformed id '8086:10dz'", "VVVV:DDDD",
		     NULL);
	expect_error("allow id 8086\n", -EINVAL,
		     "rules.conf:1: malformed id '8086'", NULL);
	expect_error("allow id 80861:10d3\n", -EINVAL,
		     "rules.conf:1: malformed id '80861:10d3'", NULL);
	expect_error("allow subsys 8086:a01\n", -EINVAL,
		     "rules.conf:1: malformed subsys '8086:a01'", NULL);
	expect_error("allow class 2*\n", -EINVAL,
		     "rules.conf:1: malformed class '2*'",
		     "2, 4 or 6 hex digits", NULL);
	expect_error("allow class 0g*\n", -EINVAL,
		     "rules.conf:1: malformed class '0g*'", NULL);
	expect_error("allow class *\n", -EINVAL,
		     "rules.conf:1: malformed class '*'", NULL);
	expect_error("allow class 02000000\n", -EINVAL,
		     "rules.conf:1: class '02000000' is too long "
		     "(at most 6 hex digits)", NULL);
	expect_error("allow serial 00-11--22\n", -EINVAL,
		     "rules.conf:1: malformed serial '00-11--22'", NULL);
	expect_error("allow serial -0011\n", -EINVAL,
		     "rules.conf:1: malformed serial '-0011'", NULL);
	expect_error("allow serial 0011-\n", -EINVAL,
		     "rules.conf:1: malformed serial '0011-'", NULL);
	expect_error("allow serial xyz\n", -EINVAL,
		     "rules.conf:1: malformed serial 'xyz'", NULL);
	expect_error("allow serial 00112233445566778\n", -EINVAL,
		     "rules.conf:1: serial '00112233445566778' is too long "
		     "(at most 16 hex digits)", NULL);
	expect_error("allow slot "
		     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		     "\n", -EINVAL,
		     "rules.conf:1: slot 'aaaa", "is too long "
		     "(at most 64 characters)", NULL);
	expect_error("allow id 8086:10d3 class 02* id 8086:10d4\n", -EINVAL,
		     "rules.conf:1: duplicate condition 'id'", NULL);
	expect_error("allow\nallow\nblock serial 1 serial 2\n", -EINVAL,
		     "rules.conf:3: duplicate condition 'serial'", NULL);
}

static void test_line_too_long(void **state)
{
	char *text = malloc(2100);
	size_t i;

	(void)state;
	assert_non_null(text);
	/* Exactly 1024 characters is fine (a long run of spaces). */
	strcpy(text, "allow");
	for (i = 5; i < 1020; i++)
		text[i] = ' ';
	strcpy(text + 1020, "id *:*\n");    /* 1026 chars + newline */
	expect_error(text, -EINVAL, "rules.conf:1: line too long "
		     "(at most 1024 characters)", NULL);
	text[1018] = '\0';
	strcat(text, "id *:*\n");            /* 1024 + newline */
	assert_int_equal(strlen(text), 1025);
	{
		struct hsd_policy *p = pol(text);

		assert_int_equal(hsd_policy_count(p), 1);
		assert_string_equal(hsd_policy_rule(p, 0), "allow id *:*");
		hsd_policy_free(p);
	}
	free(text);
}

static void test_all_or_nothing(void **state)
{
	struct hsd_policy *p = pol("block class 02*\n");
	char err[256] = "";

	(void)state;
	assert_int_equal(hsd_policy_load(p, "allow id 8086:10d3\n"
					 "allow slot 3\n"
					 "allow clas 02*\n"
					 "allow\n", "x.conf", err,
					 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "x.conf:3: unknown condition 'clas'"));
	assert_int_equal(hsd_policy_count(p), 1);
	assert_string_equal(hsd_policy_rule(p, 0), "block class 02*");
	/* A good load appends after what was there. */
	assert_int_equal(hsd_policy_load(p, "allow id 8086:10d3\n", "x.conf",
					 err, sizeof(err)), 0);
	assert_int_equal(hsd_policy_count(p), 2);
	assert_string_equal(hsd_policy_rule(p, 1), "allow id 8086:10d3");
	hsd_policy_free(p);
}

static void test_comments_and_blank_lines(void **state)
{
	struct hsd_policy *p = pol("# the known NICs\n"
				   "\n"
				   "   \t\r\n"
				   "allow id 8086:10d3   # e1000e\r\n"
				   "allow id 10ec:8168#r8169\n"
				   "    # indented comment\n"
				   "block");    /* no final newline */

	(void)state;
	assert_int_equal(hsd_policy_count(p), 3);
	assert_string_equal(hsd_policy_rule(p, 0), "allow id 8086:10d3");
	assert_string_equal(hsd_policy_rule(p, 1), "allow id 10ec:8168");
	assert_string_equal(hsd_policy_rule(p, 2), "block");
	hsd_policy_free(p);

	p = pol("");
	assert_int_equal(hsd_policy_count(p), 0);
	hsd_policy_free(p);
}

static void test_too_many_rules(void **state)
{
	struct hsd_policy *p = pol(NULL);
	char *text = malloc(4097 * 8 + 1), err[256] = "";
	size_t i;

	(void)state;
	assert_non_null(text);
	text[0] = '\0';
	for (i = 0; i < 4097; i++)
		strcat(text + i * 6, "allow\n");
	assert_int_equal(hsd_policy_load(p, text, "big.conf", err,
					 sizeof(err)), -ENOSPC);
	assert_string_equal(err, "big.conf:4097: too many rules "
			    "(at most 4096)");
	assert_int_equal(hsd_policy_count(p), 0);
	text[4096 * 6] = '\0';
	assert_int_equal(hsd_policy_load(p, text, "big.conf", err,
					 sizeof(err)), 0);
	assert_int_equal(hsd_policy_count(p), 4096);
	assert_int_equal(hsd_policy_add(p, "block", true, err, sizeof(err)),
			 -ENOSPC);
	assert_non_null(strstr(err, "too many rules (at most 4096)"));
	assert_int_equal(hsd_policy_load(p, "allow\n", "more.conf", err,
					 sizeof(err)), -ENOSPC);
	assert_string_equal(err, "more.conf:1: too many rules (at most 4096)");
	assert_int_equal(hsd_policy_count(p), 4096);
	free(text);
	hsd_policy_free(p);
}

static void test_add_errors(void **state)
{
	struct hsd_policy *p = pol(NULL);
	char err[256], longrule[1100];

	(void)state;
	assert_int_equal(hsd_policy_add(p, "allow vendr 8086", false, err,
					sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown condition 'vendr' (expected id, "
			    "subsys, class, slot or serial)");
	assert_int_equal(hsd_policy_add(p, "", false, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "empty rule"));
	assert_int_equal(hsd_policy_add(p, "allow # all", false, err,
					sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "comments"));
	assert_int_equal(hsd_policy_add(p, "allow\nblock", false, err,
					sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "single line"));
	memset(longrule, ' ', sizeof(longrule));
	memcpy(longrule, "allow", 5);
	longrule[sizeof(longrule) - 1] = '\0';
	assert_int_equal(hsd_policy_add(p, longrule, false, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "at most 1024 characters"));
	/* A tiny or absent error buffer is fine. */
	assert_int_equal(hsd_policy_add(p, "deny", false, err, 4), -EINVAL);
	assert_string_equal(err, "unk");
	assert_int_equal(hsd_policy_add(p, "deny", false, NULL, 0), -EINVAL);
	assert_int_equal(hsd_policy_count(p), 0);
	hsd_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_policy_allows),
		cmocka_unit_test(test_first_match_wins),
		cmocka_unit_test(test_defaults_separate),
		cmocka_unit_test(test_add_front_takes_precedence),
		cmocka_unit_test(test_why_outlives_additions),
		cmocka_unit_test(test_cond_id),
		cmocka_unit_test(test_cond_subsys),
		cmocka_unit_test(test_cond_class),
		cmocka_unit_test(test_cond_slot),
		cmocka_unit_test(test_cond_serial),
		cmocka_unit_test(test_all_conditions_must_hold),
		cmocka_unit_test(test_canonical_text),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_rule_for_serial),
		cmocka_unit_test(test_rule_for_slot),
		cmocka_unit_test(test_rule_for_snprintf),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_all_or_nothing),
		cmocka_unit_test(test_comments_and_blank_lines),
		cmocka_unit_test(test_too_many_rules),
		cmocka_unit_test(test_add_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
