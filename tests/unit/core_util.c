/*
 * core_util.c - snapshots of simulator registers and core records.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core_util.h"

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < b->cap - b->len);
	b->len += (size_t)n;
}

static int snap_fn(void *arg, const struct sim_walk_node *n)
{
	struct sbuf *b = arg;

	sb_printf(b, "%d:%02x.%u", n->depth, HS_BDF_DEVFN(n->where) >> 3,
		  HS_BDF_DEVFN(n->where) & 7);
	/* Header, capabilities and the first extended ones. */
	for (uint16_t off = 0; off < 0x140; off += 4)
		sb_printf(b, " %08x", sim_fn_peek(n->fn, off, 4));
	sb_printf(b, "\n");
	return 0;
}

char *cu_snapshot(struct sim *sim, struct hs_core *core)
{
	struct sbuf b = { calloc(1, 4 << 20), 0, 4 << 20 };

	assert_non_null(b.p);
	assert_int_equal(sim_walk(sim, snap_fn, &b), 0);
	sb_printf(&b, "--core--\n");
	for (struct hs_dev *d = hs_dev_next(core, NULL); d;
	     d = hs_dev_next(core, d)) {
		struct hs_resource r;
		const char *why;

		sb_printf(&b, "%06x %04x:%04x drv=%s iso=%d", hs_dev_bdf(d),
			  hs_dev_vendor(d), hs_dev_device(d),
			  hs_dev_driver_name(d) ? hs_dev_driver_name(d) : "-",
			  hs_dev_isolated(d, &why));
		for (int i = 0; i < 7; i++)
			if (hs_dev_bar(d, i, &r) == 0)
				sb_printf(&b, " b%d=%llx+%llx", i,
					  (unsigned long long)r.start,
					  (unsigned long long)r.size);
		for (int k = 0; k < HS_RES_COUNT; k++)
			if (hs_dev_window(d, (enum hs_res)k, &r) == 0)
				sb_printf(&b, " w%d=%llx+%llx", k,
					  (unsigned long long)r.start,
					  (unsigned long long)r.size);
		sb_printf(&b, "\n");
	}
	sb_printf(&b, "gen=%llu\n",
		  (unsigned long long)hs_core_generation(core));
	return b.p;
}

const char *cu_record(const char *snap, hs_bdf_t bdf, size_t *len)
{
	char key[16];
	const char *core = strstr(snap, "--core--\n"), *p;

	if (!core)
		return NULL;
	snprintf(key, sizeof(key), "\n%06x ", bdf);
	p = strstr(core + 8, key);
	if (!p)
		return NULL;
	p++;
	*len = strcspn(p, "\n");
	return p;
}

unsigned cu_same_except_new(const char *before, const char *after)
{
	const char *p = strstr(after, "--core--\n");
	unsigned added = 0;

	assert_non_null(p);
	for (p += 9; *p && strncmp(p, "gen=", 4); p += strcspn(p, "\n") + 1) {
		unsigned bdf;
		size_t la = strcspn(p, "\n"), lb;
		const char *q;

		assert_int_equal(sscanf(p, "%6x", &bdf), 1);
		q = cu_record(before, bdf, &lb);
		if (!q) {
			added++;
			continue;
		}
		if (la != lb || memcmp(p, q, la)) {
			print_error("record of %06x changed:\n before %.*s\n after  %.*s\n",
				    bdf, (int)lb, q, (int)la, p);
			fail();
		}
	}
	return added;
}
