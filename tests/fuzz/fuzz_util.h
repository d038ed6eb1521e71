/*
 * fuzz_util.h - what the libFuzzer harnesses in tests/fuzz/ share.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_FUZZ_UTIL_H
#define HOTSWAP_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct sim;
struct sim_topology;

/* The input as a file (an in-memory one, rewritten per input); returns
 * its path.  name is only for the file's label. */
const char *fuzz_file(const char *name, const uint8_t *data, size_t size);
/* A failed load: no topology, one non-empty line of error, starting
 * with "path: " when path is given.  Aborts otherwise. */
void fuzz_check_error(const struct sim_topology *t, const char *err,
		      const char *path);
/* Bring the core up on the simulator (controllers and the simulator's
 * card drivers registered) and enumerate; the core is destroyed again.
 * Aborts if the core reports a device it cannot find back. */
void fuzz_enumerate(struct sim *sim);
/* Abort with a message (a finding). */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						     noreturn));

#endif
