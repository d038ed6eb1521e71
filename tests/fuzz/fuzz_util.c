/*
 * fuzz_util.c - helpers for the libFuzzer harnesses: inputs as files,
 * the loader's error-line contract, enumeration on a built chassis.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "hotswap/core.h"
#include "hotswap/hpc.h"
#include "sim.h"
#include "simcard.h"

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

const char *fuzz_file(const char *name, const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create(name, MFD_CLOEXEC);
		if (fd < 0)
			fuzz_fail("memfd_create: %m");
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) ||
	    (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		fuzz_fail("writing the input: %m");
	return path;
}

void fuzz_check_error(const struct sim_topology *t, const char *err,
		      const char *path)
{
	if (t)
		fuzz_fail("a failed load left a topology");
	if (!err[0])
		fuzz_fail("a failed load with an empty error");
	if (strchr(err, '\n'))
		fuzz_fail("error is not one line: %s", err);
	if (path && strncmp(err, path, strlen(path)))
		fuzz_fail("error does not name the file: %s", err);
}

void fuzz_enumerate(struct sim *sim)
{
	struct hs_core_params p;
	struct hs_platform plat;
	struct hs_core *core = NULL;

	if (!sim)
		fuzz_fail("a loaded topology without a simulator");
	sim_get_platform(sim, &plat);
	hs_core_params_defaults(&p);
	if (hs_core_create(&plat, &p, &core))
		return;                 /* out of memory: not a finding */
	hs_core_enable_rebalance(core);
	if (hs_controllers_register(core) ||
	    hs_driver_register(core, &simnet_driver) ||
	    hs_driver_register(core, &simstor_driver)) {
		hs_core_destroy(core);
		return;
	}
	(void)hs_core_enumerate(core);
	/* Every record the core keeps can be found again by its address. */
	for (struct hs_dev *d = hs_dev_next(core, NULL); d;
	     d = hs_dev_next(core, d))
		if (hs_dev_find(core, hs_dev_bdf(d)) != d)
			fuzz_fail("device %06x not found by its address",
				  (unsigned)hs_dev_bdf(d));
	hs_core_destroy(core);
}
