/*
 * bench_catalog.c - topology and catalog loading time against catalog size
 * (issue #17: linear in the size; 80,000 cards in under 1 s).
 *
 * usage: hotswap-bench-catalog [N...]      (default 10000 40000 80000)
 *
 * For each N writes a topology file with a "catalog" of N cards (one in
 * eight a bridge card whose two children name other cards, so children
 * are looked up by name as well as entries) and a chassis of a cPCI
 * segment holding the last cards, then times sim_topology_load() on it
 * (best of three).  Prints the time, the time per card, and the per-card
 * time as a ratio of the smallest N's: about 1.0 when loading is linear.
 * The baseline, timed on the same file in the same run, is jansson alone
 * parsing and freeing it (json_load_file), which every load must do: the
 * loader's own share is the difference.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "topology.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_topology(const char *path, unsigned n)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "{\n \"name\": \"bench-%u\",\n \"catalog\": {\n", n);
	for (unsigned i = 0; i < n; i++) {
		if (i % 8 == 7) {
			/* A bridge card: children are earlier plain cards. */
			fprintf(f, "  \"card-%06u\": { \"functions\": [ { "
				"\"vendor\": \"0x1011\", \"device\": \"0x0026\", "
				"\"bridge\": true } ], \"children\": [ "
				"{ \"dev\": 0, \"card\": \"card-%06u\" }, "
				"{ \"dev\": 1, \"card\": \"card-%06u\" } ] }%s\n",
				i, i - 1, i - 2, i + 1 < n ? "," : "");
		} else {
			fprintf(f, "  \"card-%06u\": { \"functions\": [ { "
				"\"vendor\": \"0x8086\", \"device\": \"0x%04x\", "
				"\"class\": \"0x020000\", \"irq_pin\": \"INTA\", "
				"\"bars\": [ { \"index\": 0, \"type\": \"mem32\", "
				"\"size\": \"4K\" } ] } ] }%s\n",
				i, 0x1000 + i % 0x1000, i + 1 < n ? "," : "");
		}
	}
	fprintf(f, " },\n \"host_bridge\": { \"bus_first\": 0, "
		"\"bus_last\": 255,\n  \"io\": { \"base\": \"0x1000\", "
		"\"limit\": \"0xffff\" },\n  \"mem\": { \"base\": "
		"\"0x8000_0000\", \"limit\": \"0x8fff_ffff\" },\n"
		"  \"devices\": [ { \"type\": \"cpci-segment\", \"dev\": 1, "
		"\"vendor\": \"0x1011\", \"device\": \"0x0026\", \"slots\": 3, "
		"\"first_dev\": 1, \"first_phys\": 1, \"enum_line\": 10,\n"
		"   \"cards\": [ { \"slot\": 1, \"card\": \"card-%06u\" }, "
		"{ \"slot\": 2, \"card\": \"card-%06u\" } ] } ] }\n}\n",
		n - 1, n - 2);
	return fclose(f) ? -errno : 0;
}

int main(int argc, char **argv)
{
	unsigned sizes[16] = { 10000, 40000, 80000 };
	unsigned nsizes = 3;
	char path[] = "/tmp/hotswap-bench-catalog.XXXXXX";
	double base = 0;
	int fd, rc = 0;

	if (argc > 1) {
		nsizes = 0;
		for (int i = 1; i < argc && nsizes < 16; i++) {
			char *end;
			long v = strtol(argv[i], &end, 10);

			if (*end || v < 8 || v > 999999) {
				fprintf(stderr, "bench-catalog: '%s': a card "
					"count from 8 to 999999\n", argv[i]);
				return 2;
			}
			sizes[nsizes++] = (unsigned)v;
		}
	}
	fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	printf("topology + catalog load (sim_topology_load, best of 3)\n");
	for (unsigned k = 0; k < nsizes; k++) {
		double best = 1e9;
		char err[512];

		if (write_topology(path, sizes[k])) {
			perror(path);
			rc = 1;
			break;
		}
		double parse = 1e9;

		for (int r = 0; r < 3; r++) {
			json_error_t je;
			double t0 = now_s(), dt;
			json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES,
						   &je);

			json_decref(j);
			dt = now_s() - t0;
			if (dt < parse)
				parse = dt;
		}
		for (int r = 0; r < 3; r++) {
			struct sim_topology *t = NULL;
			double t0 = now_s(), dt;
			int e = sim_topology_load(path, NULL, &t, err,
						  sizeof(err));

			dt = now_s() - t0;
			if (e) {
				fprintf(stderr, "bench-catalog: %s\n", err);
				rc = 1;
				break;
			}
			sim_topology_free(t);
			if (dt < best)
				best = dt;
		}
		if (rc)
			break;
		if (!k)
			base = best / sizes[k];
		printf("  %6u cards: %7.3f s (jansson parse + free alone: "
		       "%.3f s, %.2fx), %5.2f us per card, %.2fx the %u-card "
		       "time per card%s\n", sizes[k], best, parse,
		       best / parse, best / sizes[k] * 1e6,
		       best / sizes[k] / base, sizes[0],
		       sizes[k] == 80000 ? (best < 1.0 ? " (goal < 1 s: met)"
					: " (goal < 1 s: MISSED)") : "");
	}
	unlink(path);
	return rc;
}
