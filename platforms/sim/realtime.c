/*
 * realtime.c - running the simulated chassis against the wall clock.
 *
 * Owns: the real-time mode the demo and hotswapd use.  The virtual clock
 * stays the only clock the simulator and the core see; this loop just
 * sleeps until the wall-clock moment of the next pending event and then
 * advances the virtual clock to it, so a 5-second button window takes 5
 * real seconds (scaled by speed) and tests keep stepping the same clock
 * explicitly.  Hosted: uses clock_gettime / clock_nanosleep.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <time.h>

#include "sim.h"

static hs_time_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (hs_time_t)ts.tv_sec * 1000000000u + (hs_time_t)ts.tv_nsec;
}

static void sleep_ns(hs_time_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u),
			       (long)(ns % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

int sim_run_realtime(struct sim *sim, hs_time_t duration, unsigned speed,
		     bool (*stop)(void *arg), void *arg)
{
	hs_time_t v0 = sim_now(sim), w0 = mono_ns(), end = v0 + duration;

	if (!speed)
		return -HS_EINVAL;
	while (sim_now(sim) < end) {
		hs_time_t next, wall, due;

		if (stop && stop(arg))
			return 1;
		if (!sim_next_event(sim, &next) || next > end)
			next = end;
		/* Sleep at most 50 ms at a time so stop() is polled. */
		if (next > sim_now(sim) + HS_MSEC(50) * speed)
			next = sim_now(sim) + HS_MSEC(50) * speed;
		due = w0 + (next - v0) / speed;
		wall = mono_ns();
		if (due > wall)
			sleep_ns(due - wall);
		sim_advance(sim, next - sim_now(sim));
	}
	return 0;
}
