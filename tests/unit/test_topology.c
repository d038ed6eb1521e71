/*
 * test_topology.c - the JSON topology loader and the card catalog.
 *
 * Owns: proof that every example chassis loads and has the slots its
 * description promises, that the built-in catalog says what
 * docs/topology.md says it does, and that each malformed file in
 * tests/topology/bad/ fails with the one-line message its .expect file
 * describes, leaving nothing allocated (ASan's leak check runs over all
 * of it).
 *
 * A NAME.expect file holds the JSON path the error must be reported at
 * on its first line (the message must begin "FILE: PATH: "; an empty
 * first line skips that check), then one substring a line that the
 * message must contain.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "topology.h"

#define SRC HOTSWAP_SRCDIR
#define CATALOG SRC "/data/catalog.json"
#define EXAMPLES SRC "/examples"
#define BAD SRC "/tests/topology/bad"

static char errbuf[1024];
/* What a result pointer holds before a call, to see the loader clear it. */
static int sentinel;

static struct sim_topology *load_ok(const char *path)
{
	struct sim_topology *t = NULL;
	int rc = sim_topology_load(path, CATALOG, &t, errbuf, sizeof(errbuf));

	if (rc)
		fail_msg("%s: rc %d: %s", path, rc, errbuf);
	assert_non_null(t);
	assert_string_equal(errbuf, "");
	assert_non_null(sim_topology_sim(t));
	return t;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && !strcmp(s + n - m, tail);
}

/* Checks one slot; card NULL means empty. */
static void check_slot(struct sim *sim, unsigned phys,
		       enum sim_slot_kind kind, int dev, const char *card)
{
	struct sim_slot_info info;
	struct sim_slot *s = sim_slot_by_phys(sim, phys);

	if (!s)
		fail_msg("no slot %u", phys);
	sim_slot_get_info(s, &info);
	assert_int_equal(info.phys, phys);
	assert_int_equal(info.kind, kind);
	if (dev >= 0)
		assert_int_equal(info.dev, dev);
	if (card) {
		if (!info.present)
			fail_msg("slot %u should hold %s", phys, card);
		assert_non_null(info.card);
		assert_string_equal(info.card, card);
	} else if (info.present) {
		fail_msg("slot %u should be empty, holds %s", phys,
			 info.card ? info.card : "?");
	}
}

/*
 * The *.json names in a directory, sorted.  Read in full before any
 * assertion can jump out of the test, so that no DIR stays open.
 */
#define MAX_FILES 256
static char names[MAX_FILES][256];

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static size_t list_json(const char *dir)
{
	struct dirent *e;
	size_t n = 0;
	DIR *d = opendir(dir);

	if (!d)
		fail_msg("%s: cannot open: %s", dir, strerror(errno));
	while ((e = readdir(d)) && n < MAX_FILES) {
		if (!ends_with(e->d_name, ".json") ||
		    strlen(e->d_name) >= sizeof(names[0]))
			continue;
		strcpy(names[n++], e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_name);
	return n;
}

static unsigned count_slots(struct sim *sim)
{
	struct sim_slot *s = NULL;
	unsigned n = 0;

	while ((s = sim_slot_next(sim, s)))
		n++;
	return n;
}

/* ---- examples ------------------------------------------------------------ */

static void test_examples_all_load(void **state)
{
	char path[4096];
	size_t i, n;

	(void)state;
	n = list_json(EXAMPLES);
	for (i = 0; i < n; i++) {
		struct sim_topology *t;

		snprintf(path, sizeof(path), "%s/%s", EXAMPLES, names[i]);
		t = load_ok(path);
		assert_non_null(sim_topology_name(t));
		assert_true(strlen(sim_topology_name(t)) > 0);
		assert_non_null(sim_topology_description(t));
		/* Every example exists to show some hot-plug slots. */
		assert_true(count_slots(sim_topology_sim(t)) > 0);
		sim_topology_free(t);
	}
	assert_true(n >= 6);
}

static void test_default_lab(void **state)
{
	struct sim_topology *t = load_ok(EXAMPLES "/default.json");
	struct sim *sim = sim_topology_sim(t);

	(void)state;
	assert_string_equal(sim_topology_name(t), "lab");
	check_slot(sim, 1, SIM_SLOT_PCIE, 0, "nic-1port");
	check_slot(sim, 2, SIM_SLOT_PCIE, 0, NULL);
	check_slot(sim, 3, SIM_SLOT_PCIE, 0, "nvme");
	check_slot(sim, 4, SIM_SLOT_PCIE, 0, "gpu");
	check_slot(sim, 5, SIM_SLOT_PCIE, 0, NULL);
	check_slot(sim, 6, SIM_SLOT_PCIE, 0, NULL);
	check_slot(sim, 10, SIM_SLOT_SHPC, 1, NULL);
	check_slot(sim, 11, SIM_SLOT_SHPC, 2, "nic-dual-82546");
	check_slot(sim, 13, SIM_SLOT_SHPC, 4, NULL);
	check_slot(sim, 20, SIM_SLOT_CPCI, 1, NULL);
	check_slot(sim, 21, SIM_SLOT_CPCI, 2, "nic-bridge-2port");
	check_slot(sim, 22, SIM_SLOT_CPCI, 3, "cpci-io");
	check_slot(sim, 23, SIM_SLOT_CPCI, 4, NULL);
	assert_null(sim_slot_by_phys(sim, 7));
	assert_null(sim_slot_by_phys(sim, 14));
	assert_int_equal(count_slots(sim), 6 + 4 + 4);
	sim_topology_free(t);
}

static void test_seed001(void **state)
{
	struct sim_topology *t = load_ok(EXAMPLES "/seed001.json");
	struct sim *sim = sim_topology_sim(t);
	const struct sim_config *cfg = sim_get_config(sim);
	const struct sim_card_spec *c;

	(void)state;
	assert_string_equal(sim_topology_name(t), "seed001");
	/* Bus 1 packed: two boards and the empty hot-swap slot. */
	check_slot(sim, 1, SIM_SLOT_CPCI, 1, "seed-io-board");
	check_slot(sim, 2, SIM_SLOT_CPCI, 2, "seed-io-board");
	check_slot(sim, 3, SIM_SLOT_CPCI, 3, NULL);
	assert_int_equal(count_slots(sim), 3);
	/* A roomy system as a whole (the post's point is that nothing is
	 * free next to the packed bus), no prefetchable aperture. */
	assert_int_equal(cfg->bus_first, 0);
	assert_int_equal(cfg->bus_last, 255);
	assert_int_equal(cfg->io_base, 0x6000);
	assert_int_equal(cfg->io_limit, 0xffff);
	assert_int_equal(cfg->mem_base, 0x80000000u);
	assert_int_equal(cfg->mem_limit, 0x8fffffffu);
	assert_int_equal(cfg->pref_limit, 0);
	/* The file's own catalog entry, I/O hungry like the picture. */
	c = sim_topology_card(t, "seed-io-board");
	assert_non_null(c);
	assert_false(c->pcie);
	assert_int_equal(c->funcs[0].bar[0].type, SIM_BAR_IO);
	assert_int_equal(c->funcs[0].bar[0].size, 128);
	sim_topology_free(t);
}

static void test_pcie_server(void **state)
{
	struct sim_topology *t = load_ok(EXAMPLES "/pcie-server.json");
	struct sim *sim = sim_topology_sim(t);

	(void)state;
	check_slot(sim, 1, SIM_SLOT_PCIE, 0, "nic-4port");
	check_slot(sim, 2, SIM_SLOT_PCIE, 0, "nic-serial");
	check_slot(sim, 10, SIM_SLOT_PCIE, 0, "nvme");
	check_slot(sim, 11, SIM_SLOT_PCIE, 0, "nvme-gen4");
	check_slot(sim, 12, SIM_SLOT_PCIE, 0, NULL);
	check_slot(sim, 13, SIM_SLOT_PCIE, 0, "gpu");
	assert_int_equal(count_slots(sim), 6);
	sim_topology_free(t);
}

static void test_cpci_rack(void **state)
{
	struct sim_topology *t = load_ok(EXAMPLES "/cpci-rack.json");
	struct sim *sim = sim_topology_sim(t);
	unsigned phys;

	(void)state;
	check_slot(sim, 2, SIM_SLOT_CPCI, 9, "cpci-io");
	check_slot(sim, 3, SIM_SLOT_CPCI, 10, "nic-bridge-2port");
	check_slot(sim, 4, SIM_SLOT_CPCI, 11, NULL);
	check_slot(sim, 5, SIM_SLOT_CPCI, 12, "nic-82559");
	check_slot(sim, 8, SIM_SLOT_CPCI, 15, NULL);
	check_slot(sim, 9, SIM_SLOT_CPCI, 9, "nic-e1000");
	check_slot(sim, 12, SIM_SLOT_CPCI, 12, "cpci-io");
	for (phys = 2; phys <= 15; phys++)
		assert_non_null(sim_slot_by_phys(sim, phys));
	assert_null(sim_slot_by_phys(sim, 1));
	assert_int_equal(count_slots(sim), 14);
	sim_topology_free(t);
}

static void test_shpc_bridge(void **state)
{
	struct sim_topology *t = load_ok(EXAMPLES "/shpc-bridge.json");
	struct sim *sim = sim_topology_sim(t);

	(void)state;
	check_slot(sim, 1, SIM_SLOT_SHPC, 1, "nic-e1000");
	check_slot(sim, 2, SIM_SLOT_SHPC, 2, NULL);
	check_slot(sim, 3, SIM_SLOT_SHPC, 3, "nic-dual-82546");
	check_slot(sim, 31, SIM_SLOT_SHPC, 31, NULL);
	check_slot(sim, 40, SIM_SLOT_SHPC, 1, NULL);
	check_slot(sim, 42, SIM_SLOT_SHPC, 3, "cpci-io");
	assert_int_equal(count_slots(sim), 31 + 4);
	sim_topology_free(t);
}

static void test_qemu_reserve(void **state)
{
	struct sim_topology *t = load_ok(EXAMPLES "/qemu-reserve.json");
	struct sim *sim = sim_topology_sim(t);

	(void)state;
	check_slot(sim, 1, SIM_SLOT_PCIE, 0, "nic-1port");
	check_slot(sim, 2, SIM_SLOT_PCIE, 0, NULL);
	check_slot(sim, 3, SIM_SLOT_PCIE, 0, NULL);
	sim_topology_free(t);
}

/* ---- the catalog --------------------------------------------------------- */

static const struct {
	const char *name;
	unsigned quirk;
} evil[] = {
	{ "evil-cap-loop", SIM_QUIRK_CAP_LOOP },
	{ "evil-cap-outside", SIM_QUIRK_CAP_OUTSIDE },
	{ "evil-extcap-loop", SIM_QUIRK_EXTCAP_LOOP },
	{ "evil-bar-bad-size", SIM_QUIRK_BAR_BAD_SIZE },
	{ "evil-bus-greedy", SIM_QUIRK_BUS_GREEDY },
};

static void test_builtin_catalog(void **state)
{
	struct sim_topology *t = load_ok(EXAMPLES "/qemu-reserve.json");
	const struct sim_card_spec *c, *prev = NULL;
	size_t i;

	(void)state;
	c = sim_topology_card(t, "nic-1port");
	assert_non_null(c);
	assert_string_equal(c->name, "nic-1port");
	assert_true(c->pcie);
	assert_int_equal(c->nfuncs, 1);
	assert_int_equal(c->funcs[0].vendor, 0x8086);
	assert_int_equal(c->funcs[0].device, 0x10d3);
	assert_int_equal(c->funcs[0].class_code, 0x020000);
	assert_int_equal(c->funcs[0].bar[0].type, SIM_BAR_MEM32);
	assert_int_equal(c->funcs[0].bar[0].size, 128 << 10);
	assert_int_equal(c->funcs[0].bar[2].type, SIM_BAR_IO);
	assert_int_equal(c->funcs[0].bar[2].size, 32);
	assert_true(c->funcs[0].msix_vectors > 0);
	assert_int_equal(c->funcs[0].irq_pin, 1);

	c = sim_topology_card(t, "nic-bridge-2port");
	assert_non_null(c);
	assert_false(c->pcie);
	assert_true(c->funcs[0].is_bridge);
	assert_int_equal(c->funcs[0].class_code, 0x060400);
	assert_int_equal(c->nchildren, 2);
	assert_ptr_equal(c->children[0].card,
			 sim_topology_card(t, "nic-82559"));
	assert_int_not_equal(c->children[0].dev, c->children[1].dev);

	c = sim_topology_card(t, "gpu");
	assert_non_null(c);
	assert_int_equal(c->funcs[0].class_code, 0x030000);
	assert_int_equal(c->funcs[0].bar[0].type, SIM_BAR_MEM32);
	assert_int_equal(c->funcs[0].bar[0].size, 16 << 20);
	assert_int_equal(c->funcs[0].bar[1].type, SIM_BAR_MEM64);
	assert_true(c->funcs[0].bar[1].prefetch);
	assert_int_equal(c->funcs[0].bar[1].size, 256u << 20);
	assert_int_equal(c->funcs[0].bar[2].type, SIM_BAR_NONE);

	c = sim_topology_card(t, "nvme");
	assert_non_null(c);
	assert_int_equal(c->funcs[0].class_code, 0x010802);
	assert_int_equal(c->funcs[0].bar[0].type, SIM_BAR_MEM64);
	assert_int_equal(c->funcs[0].bar[0].size, 16 << 10);
	assert_true(c->funcs[0].msix_vectors > 0);

	c = sim_topology_card(t, "nic-4port");
	assert_non_null(c);
	assert_int_equal(c->nfuncs, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(c->funcs[i].fn, i);

	c = sim_topology_card(t, "nic-serial");
	assert_non_null(c);
	assert_true(c->funcs[0].has_serial);
	assert_true(c->funcs[0].serial == 0x001b21fffe3a5c10ull);

	c = sim_topology_card(t, "cpci-io");
	assert_non_null(c);
	assert_false(c->pcie);
	assert_int_equal(c->funcs[0].bar[1].type, SIM_BAR_IO);
	assert_int_equal(c->funcs[0].bar[1].size, 256);

	for (i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		c = sim_topology_card(t, evil[i].name);
		assert_non_null(c);
		assert_int_equal(c->funcs[0].quirks, evil[i].quirk);
	}
	assert_true(sim_topology_card(t, "nvme-slow")->crs_us > 0);
	c = sim_topology_card(t, "nvme-gen4");
	assert_true(c->funcs[0].immediate_readiness);
	assert_null(sim_topology_card(t, "no-such-card"));

	/* card_at: sorted, complete, agrees with card(). */
	for (i = 0; (c = sim_topology_card_at(t, i)); i++) {
		if (prev)
			assert_true(strcmp(prev->name, c->name) < 0);
		assert_ptr_equal(sim_topology_card(t, c->name), c);
		assert_non_null(c->description);
		prev = c;
	}
	assert_true(i >= 15);
	assert_null(sim_topology_card_at(t, i + 1));
	sim_topology_free(t);
}

/* A file that shadows a built-in card and spells numbers every way. */
static const char shadow_json[] =
	"{\n"
	"  \"platform\": { \"ram_base\": \"1M\",\n"
	"                \"ram_size\": \"0x100_0000\",\n"
	"                \"msi_vectors\": \"32\", \"intx_base\": 20 },\n"
	"  \"catalog\": {\n"
	"    \"nic-82559\": { \"functions\": [ { \"vendor\": \"0x8086\",\n"
	"      \"device\": \"0x1209\", \"class\": 131072,\n"
	"      \"bars\": [ { \"type\": \"io\", \"size\": \"0x40\" },\n"
	"                  { \"type\": \"mem64\", \"size\": \"1k\" },\n"
	"                  { \"type\": \"mem32\",\n"
	"                    \"size\": \"4_096\" } ] } ] }\n"
	"  },\n"
	"  \"host_bridge\": {\n"
	"    \"segment\": \"0x0001\", \"bus_first\": \"0\", \"bus_last\": 64,\n"
	"    \"io\": { \"base\": \"4K\", \"limit\": \"0xFFFF\" },\n"
	"    \"mem\": { \"base\": \"2G\", \"limit\": \"0xdfff_ffff\" },\n"
	"    \"pref\": { \"base\": \"16G\", \"limit\": \"0x7_ffff_ffff\" },\n"
	"    \"devices\": [ { \"type\": \"cpci-segment\", \"dev\": 1,\n"
	"      \"slots\": 2, \"first_phys\": 5, \"enum_line\": 9,\n"
	"      \"cards\": [ { \"slot\": 6,\n"
	"                   \"card\": \"nic-bridge-2port\" } ] } ]\n"
	"  }\n"
	"}\n";

static void test_shadow_and_numbers(void **state)
{
	char dir[] = "/tmp/hotswap-topo-XXXXXX", path[64];
	const struct sim_card_spec *nic, *br;
	const struct sim_config *cfg;
	struct sim_topology *t = NULL;
	FILE *f;
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/shadow.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(shadow_json, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);

	rc = sim_topology_load(path, CATALOG, &t, errbuf, sizeof(errbuf));
	/* Clean up before any assertion can jump out. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	if (rc)
		fail_msg("%s", errbuf);
	/* No "name": the file's base name. */
	assert_string_equal(sim_topology_name(t), "shadow");
	nic = sim_topology_card(t, "nic-82559");
	assert_non_null(nic);
	assert_int_equal(nic->funcs[0].device, 0x1209);
	/* Built-in cards referring to the name get the file's entry. */
	br = sim_topology_card(t, "nic-bridge-2port");
	assert_ptr_equal(br->children[0].card, nic);
	assert_ptr_equal(br->children[1].card, nic);
	/* BAR indices follow on, a 64-bit BAR taking two. */
	assert_int_equal(nic->funcs[0].bar[0].type, SIM_BAR_IO);
	assert_int_equal(nic->funcs[0].bar[0].size, 64);
	assert_int_equal(nic->funcs[0].bar[1].type, SIM_BAR_MEM64);
	assert_int_equal(nic->funcs[0].bar[1].size, 1024);
	assert_int_equal(nic->funcs[0].bar[2].type, SIM_BAR_NONE);
	assert_int_equal(nic->funcs[0].bar[3].type, SIM_BAR_MEM32);
	assert_int_equal(nic->funcs[0].bar[3].size, 4096);
	assert_int_equal(nic->funcs[0].class_code, 0x020000);

	cfg = sim_get_config(sim_topology_sim(t));
	assert_int_equal(cfg->segment, 1);
	assert_int_equal(cfg->bus_last, 64);
	assert_int_equal(cfg->io_base, 0x1000);
	assert_int_equal(cfg->io_limit, 0xffff);
	assert_true(cfg->mem_base == 0x80000000ull);
	assert_true(cfg->pref_base == 0x400000000ull);
	assert_true(cfg->pref_limit == 0x7ffffffffull);
	assert_true(cfg->ram_base == 0x100000ull);
	assert_true(cfg->ram_size == 0x1000000ull);
	assert_int_equal(cfg->msi_vectors, 32);
	assert_int_equal(cfg->intx_base, 20);
	check_slot(sim_topology_sim(t), 6, SIM_SLOT_CPCI, 2,
		   "nic-bridge-2port");
	sim_topology_free(t);
}

/* ---- errors -------------------------------------------------------------- */

/* Reads NAME.expect into lines; returns their number. */
static size_t read_expect(const char *path, char lines[][512], size_t max)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (!f)
		fail_msg("%s: missing (each bad file needs one)", path);
	while (n < max && fgets(lines[n], 512, f)) {
		lines[n][strcspn(lines[n], "\n")] = '\0';
		n++;
	}
	fclose(f);
	return n;
}

static void test_bad_files(void **state)
{
	char path[4096], expect[4096], prefix[4700];
	char lines[8][512];
	size_t k, count;

	(void)state;
	count = list_json(BAD);
	for (k = 0; k < count; k++) {
		struct sim_topology *t = (struct sim_topology *)&sentinel;
		size_t n, i, len = strlen(names[k]) - 5;
		int rc;

		snprintf(path, sizeof(path), "%s/%s", BAD, names[k]);
		snprintf(expect, sizeof(expect), "%s/%.*s.expect", BAD,
			 (int)len, names[k]);
		n = read_expect(expect, lines, 8);
		if (n < 2)
			fail_msg("%s: needs a path line and a message line",
				 expect);

		errbuf[0] = '\0';
		rc = sim_topology_load(path, CATALOG, &t, errbuf,
				       sizeof(errbuf));
		if (rc >= 0)
			fail_msg("%s: loaded (rc %d) but must fail", path, rc);
		if (t)
			fail_msg("%s: failed but left a topology", path);
		if (strchr(errbuf, '\n'))
			fail_msg("%s: message is not one line: %s", path,
				 errbuf);
		snprintf(prefix, sizeof(prefix), "%s: ", path);
		if (strncmp(errbuf, prefix, strlen(prefix)))
			fail_msg("%s: message does not begin with the file: "
				 "%s", path, errbuf);
		if (lines[0][0]) {
			snprintf(prefix, sizeof(prefix), "%s: %s: ", path,
				 lines[0]);
			if (strncmp(errbuf, prefix, strlen(prefix)))
				fail_msg("%s: error not reported at %s: %s",
					 path, lines[0], errbuf);
		}
		for (i = 1; i < n; i++)
			if (lines[i][0] && !strstr(errbuf, lines[i]))
				fail_msg("%s: message lacks '%s': %s", path,
					 lines[i], errbuf);
		/* Content errors are -EINVAL, or -ELOOP for card loops. */
		if (rc != -EINVAL && rc != -ELOOP)
			fail_msg("%s: rc %d (%s)", path, rc, errbuf);
	}
	if (count < 20)
		fail_msg("only %zu malformed topologies, want at least 20",
			 count);
}

static void test_missing_file(void **state)
{
	const char *path = SRC "/tests/topology/no-such-file.json";
	struct sim_topology *t = (struct sim_topology *)&sentinel;
	char want[4200];

	(void)state;
	assert_int_equal(sim_topology_load(path, CATALOG, &t, errbuf,
					   sizeof(errbuf)), -ENOENT);
	assert_null(t);
	snprintf(want, sizeof(want), "%s: $: ", path);
	assert_memory_equal(errbuf, want, strlen(want));
}

static void test_directory(void **state)
{
	struct sim_topology *t = NULL;

	(void)state;
	assert_int_equal(sim_topology_load(EXAMPLES, CATALOG, &t, errbuf,
					   sizeof(errbuf)), -EISDIR);
	assert_null(t);
}

static void test_missing_catalog(void **state)
{
	const char *cat = SRC "/tests/topology/no-such-catalog.json";
	struct sim_topology *t = NULL;
	char want[4200];

	(void)state;
	assert_int_equal(sim_topology_load(EXAMPLES "/default.json", cat, &t,
					   errbuf, sizeof(errbuf)), -ENOENT);
	assert_null(t);
	snprintf(want, sizeof(want), "%s: $: ", cat);
	assert_memory_equal(errbuf, want, strlen(want));
}

static void test_bad_catalog(void **state)
{
	const char *cat = SRC "/tests/topology/catalog-bad.json";
	struct sim_topology *t = NULL;
	char want[4200];

	(void)state;
	assert_int_equal(sim_topology_load(EXAMPLES "/qemu-reserve.json", cat,
					   &t, errbuf, sizeof(errbuf)),
			 -EINVAL);
	assert_null(t);
	snprintf(want, sizeof(want),
		 "%s: $.catalog[\"nic-1port\"].functions[0].bars[0].size: ",
		 cat);
	if (strncmp(errbuf, want, strlen(want)))
		fail_msg("got: %s", errbuf);
}

static void test_small_error_buffer(void **state)
{
	const char *path = BAD "/dup-slot-number.json";
	struct sim_topology *t = NULL;
	char small[8];

	(void)state;
	memset(small, 'x', sizeof(small));
	assert_int_equal(sim_topology_load(path, CATALOG, &t, small,
					   sizeof(small)), -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(sim_topology_load(path, CATALOG, &t, NULL, 0),
			 -EINVAL);
	assert_null(t);
	assert_int_equal(sim_topology_load(NULL, CATALOG, &t, errbuf,
					   sizeof(errbuf)), -EINVAL);
	assert_int_equal(sim_topology_load(path, CATALOG, NULL, errbuf,
					   sizeof(errbuf)), -EINVAL);
	sim_topology_free(NULL);
}

/*
 * Issue #17: a malformed key of hundreds of characters, in a file with a
 * long path, reported into a 256-byte buffer: the problem text is kept
 * whole and the file and JSON path are shortened ("...tail") instead.
 */
static void test_long_key_keeps_problem(void **state)
{
	char dir[] = "/tmp/hotswap-longkey.XXXXXX", sub[512], path[640];
	char key[601], err[256];
	struct sim_topology *t = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/%0200d", dir, 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/chassis.json", sub);
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	key[300] = '!';         /* not a valid card name */
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "{ \"catalog\": { \"%s\": { \"functions\": [ { "
		"\"vendor\": \"0x1b36\", \"device\": \"0x0005\", "
		"\"class\": \"0xff0000\" } ] } }, \"host_bridge\": {} }\n",
		key);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(sim_topology_load(path, CATALOG, &t, err,
					   sizeof(err)), -EINVAL);
	assert_null(t);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
	/* The whole problem, at the end of the line. */
	if (!strstr(err, "must be 1 to ") ||
	    !strstr(err, "letters, digits, '-', '_' or '.'"))
		fail_msg("problem text lost: %s", err);
	/* The file's name and the key's tail are still there, shortened. */
	if (!strstr(err, "chassis.json: ") || !strstr(err, "...") ||
	    !strstr(err, "\"]: card name 'kkk"))
		fail_msg("file or path not shortened from the front: %s", err);
	assert_true(strlen(err) < sizeof(err));
}

/* ---- defaults ------------------------------------------------------------ */

static void test_default_paths(void **state)
{
	struct sim_topology *t = NULL;
	int rc;

	(void)state;
	assert_int_equal(setenv("HOTSWAP_CATALOG", "/x/catalog.json", 1), 0);
	assert_int_equal(setenv("HOTSWAP_TOPOLOGY", "/x/chassis.json", 1), 0);
	assert_string_equal(sim_topology_default_catalog(), "/x/catalog.json");
	assert_string_equal(sim_topology_default_chassis(), "/x/chassis.json");
	/* Empty counts as unset. */
	assert_int_equal(setenv("HOTSWAP_CATALOG", "", 1), 0);
	assert_int_equal(unsetenv("HOTSWAP_TOPOLOGY"), 0);
	assert_int_equal(access(sim_topology_default_catalog(), R_OK), 0);
	assert_int_equal(access(sim_topology_default_chassis(), R_OK), 0);
	assert_true(ends_with(sim_topology_default_catalog(), "/catalog.json"));
	assert_true(ends_with(sim_topology_default_chassis(), "/default.json"));
	assert_int_equal(unsetenv("HOTSWAP_CATALOG"), 0);

	rc = sim_topology_load(sim_topology_default_chassis(), NULL, &t,
			       errbuf, sizeof(errbuf));
	if (rc)
		fail_msg("default chassis: %s", errbuf);
	assert_non_null(sim_slot_by_phys(sim_topology_sim(t), 1));
	sim_topology_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples_all_load),
		cmocka_unit_test(test_default_lab),
		cmocka_unit_test(test_seed001),
		cmocka_unit_test(test_pcie_server),
		cmocka_unit_test(test_cpci_rack),
		cmocka_unit_test(test_shpc_bridge),
		cmocka_unit_test(test_qemu_reserve),
		cmocka_unit_test(test_builtin_catalog),
		cmocka_unit_test(test_shadow_and_numbers),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_missing_catalog),
		cmocka_unit_test(test_bad_catalog),
		cmocka_unit_test(test_small_error_buffer),
		cmocka_unit_test(test_long_key_keeps_problem),
		cmocka_unit_test(test_default_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
