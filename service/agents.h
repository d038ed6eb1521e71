/*
 * agents.h - running hotplug agents (the /sbin/hotplug and
 * /etc/hotplug/NAME.agent idea, done the way udev and devd users expect).
 *
 * Owns: the agents directory, the match lines each agent declares, and
 * running them on a libuv loop: one event at a time in sequence-number
 * order, every matching agent of an event in file-name order, each with a
 * time limit, with its stdout and stderr logged line by line.  Values are
 * passed in the environment and never through a shell (uv_spawn of the
 * file itself, argv = { path, NULL }).
 *
 * An agent is an executable regular file in the directory whose name does
 * not start with '.' and does not end in '~'.  It declares what it wants
 * with lines anywhere in its first 4 KiB:
 *
 *   # hotswap-match: ACTION=add,bind SUBSYSTEM=pci PCI_CLASS=02*
 *
 * Every KEY=globs on a line must match (fnmatch against the variable, any
 * of the comma-separated globs); several match lines are alternatives; an
 * agent with none matches every event except ACTION=query-remove (which
 * an agent must ask for explicitly).
 *
 * query-remove: the agent is asked whether the device may go.  Exit 0
 * allows; any other exit status refuses, and the first non-empty line the
 * agent printed on stdout is the reason shown to the operator ("agent
 * 50-storage refused: /mnt/data is mounted from stor0").  An agent that
 * runs out of time or cannot be started refuses too.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SERVICE_AGENTS_H
#define HOTSWAP_SERVICE_AGENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct hsd_agents;

/* level: syslog priorities (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG). */
typedef void (*hsd_agents_log_fn)(void *arg, int level, const char *line);

/*
 * dir may be NULL or missing (then no agent runs; not an error: the
 * directory is read again before every event, so agents dropped in later
 * are found).  timeout_ms: per agent run; at expiry the agent's process
 * group gets SIGKILL and the run counts as failed.
 */
int hsd_agents_new(uv_loop_t *loop, const char *dir, unsigned timeout_ms,
		   hsd_agents_log_fn log, void *log_arg,
		   struct hsd_agents **out);

/* Queue an event: env is a NULL-terminated list of "KEY=VALUE" strings
 * (copied; must include ACTION).  Events run strictly in queue order;
 * seq must be larger than the previous event's (else -EINVAL). */
int hsd_agents_event(struct hsd_agents *a, uint64_t seq,
		     const char *const *env);

/* Ask the query-remove agents about one device (env as above; ACTION is
 * set to query-remove).  Runs after the events already queued.  done is
 * called exactly once: rc 0 allowed, -EBUSY refused with agent (file
 * name) and reason, or another negative code. */
typedef void (*hsd_query_done_fn)(void *arg, int rc, const char *agent,
				  const char *reason);
int hsd_agents_query_remove(struct hsd_agents *a, const char *const *env,
			    hsd_query_done_fn done, void *arg);

/* Nothing queued and nothing running. */
bool hsd_agents_idle(const struct hsd_agents *a);

struct hsd_agents_stats {
	unsigned long runs, failures, timeouts, queued_max;
};
void hsd_agents_stats(const struct hsd_agents *a, struct hsd_agents_stats *out);

/* Kill what runs (SIGKILL), fail pending queries with -ECANCELED, then
 * free once every handle is closed (the loop must run on for that). */
void hsd_agents_free(struct hsd_agents *a);

#endif /* HOTSWAP_SERVICE_AGENTS_H */
