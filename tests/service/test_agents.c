/*
 * test_agents.c - hotplug agents (service/agents.c) on a real libuv loop,
 * with small /bin/sh agents in a temporary directory.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "agents.h"

#define MAX_LOGS 256

struct logline {
	int level;
	char *text;
};

struct t {
	uv_loop_t loop;
	uv_timer_t watchdog;	/* wakes uv_run(UV_RUN_ONCE) regularly */
	char root[64];		/* /tmp/hag-XXXXXX */
	char dir[128];		/* root/agents */
	char out[128];		/* root/out: what agents write */
	struct hsd_agents *a;
	struct logline logs[MAX_LOGS];
	size_t nlogs;
};

struct query {
	int calls, rc;
	char agent[64], reason[256];
};

/* ---- helpers -------------------------------------------------------------- */

static void on_log(void *arg, int level, const char *line)
{
	struct t *t = arg;

	if (t->nlogs < MAX_LOGS) {
		t->logs[t->nlogs].level = level;
		t->logs[t->nlogs].text = strdup(line);
		assert_non_null(t->logs[t->nlogs].text);
		t->nlogs++;
	}
}

static void on_done(void *arg, int rc, const char *agent, const char *reason)
{
	struct query *q = arg;

	q->calls++;
	q->rc = rc;
	snprintf(q->agent, sizeof(q->agent), "%s", agent ? agent : "");
	snprintf(q->reason, sizeof(q->reason), "%s", reason ? reason : "");
}

static void on_watchdog(uv_timer_t *timer)
{
	(void)timer;
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(uv_loop_init(&t->loop), 0);
	assert_int_equal(uv_timer_init(&t->loop, &t->watchdog), 0);
	assert_int_equal(uv_timer_start(&t->watchdog, on_watchdog, 20, 20), 0);
	strcpy(t->root, "/tmp/hag-XXXXXX");
	assert_non_null(mkdtemp(t->root));
	snprintf(t->dir, sizeof(t->dir), "%s/agents", t->root);
	snprintf(t->out, sizeof(t->out), "%s/out", t->root);
	assert_int_equal(mkdir(t->dir, 0755), 0);
	assert_int_equal(mkdir(t->out, 0755), 0);
	*state = t;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct t *t = *state;

	hsd_agents_free(t->a);
	uv_close((uv_handle_t *)&t->watchdog, NULL);
	uv_run(&t->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&t->loop), 0);
	assert_int_equal(nftw(t->root, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	for (size_t i = 0; i < t->nlogs; i++)
		free(t->logs[i].text);
	free(t);
	return 0;
}

static void start(struct t *t, unsigned timeout_ms)
{
	assert_int_equal(hsd_agents_new(&t->loop, t->dir, timeout_ms, on_log,
					t, &t->a), 0);
}

/* Write a file in the agents directory: body with every @OUT@ replaced by
 * the output directory and @ROOT@ by the temporary root. */
static void write_raw(struct t *t, const char *name, mode_t mode,
		      const char *body)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	for (const char *p = body; *p;) {
		if (strncmp(p, "@OUT@", 5) == 0) {
			fputs(t->out, f);
			p += 5;
		} else if (strncmp(p, "@ROOT@", 6) == 0) {
			fputs(t->root, f);
			p += 6;
		} else {
			fputc(*p++, f);
		}
	}
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void write_agent(struct t *t, const char *name, const char *body)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "#!/bin/sh\n%s", body);
	write_raw(t, name, 0755, buf);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void wait_idle(struct t *t, unsigned ms)
{
	uint64_t end = now_ms() + ms;

	while (!hsd_agents_idle(t->a)) {
		uv_run(&t->loop, UV_RUN_ONCE);
		assert_true(now_ms() < end);
	}
}

static bool out_exists(struct t *t, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", t->out, name);
	return access(path, F_OK) == 0;
}

static void wait_file(struct t *t, const char *name, unsigned ms)
{
	uint64_t end = now_ms() + ms;

	while (!out_exists(t, name)) {
		uv_run(&t->loop, UV_RUN_ONCE);
		assert_true(now_ms() < end);
	}
}

/* The contents of out/name (malloc'ed), or NULL. */
static char *read_out(struct t *t, const char *name)
{
	char path[256], *buf;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->out, name);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	buf = calloc(1, 65536);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void assert_out(struct t *t, const char *name, const char *want)
{
	char *got = read_out(t, name);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

/* The log line "agent NAME[pid]<rest>" at level, or NULL. */
static const char *find_log(struct t *t, int level, const char *name,
			    const char *rest)
{
	size_t ln = strlen(name);

	for (size_t i = 0; i < t->nlogs; i++) {
		const char *s = t->logs[i].text, *e;

		if (t->logs[i].level != level || strncmp(s, "agent ", 6) ||
		    strncmp(s + 6, name, ln) || s[6 + ln] != '[')
			continue;
		e = strchr(s + 6 + ln, ']');
		if (e && strcmp(e + 1, rest) == 0)
			return s;
	}
	return NULL;
}

static bool pid_gone(long pid)
{
	char path[64], buf[512], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* A zombie nobody reaps (pid 1 in a container) is gone too. */
	return !p || p[2] == 'Z' || p[2] == 'X';
}

static void assert_pid_gone(struct t *t, const char *pidfile)
{
	char *s = read_out(t, pidfile);
	uint64_t end = now_ms() + 1000;
	long pid;

	assert_non_null(s);
	pid = strtol(s, NULL, 10);
	free(s);
	assert_true(pid > 1);
	while (!pid_gone(pid)) {
		assert_true(now_ms() < end);
		usleep(10000);
	}
}

#define ENV(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- tests ---------------------------------------------------------------- */

/* Values reach the agent exactly, never through a shell. */
static void test_env_exact(void **state)
{
	struct t *t = *state;
	char pwn1[128], pwn2[128], w3[160], w4[160], *got, *line, *save;
	const char *want[] = {
		"ACTION=add", "SEQNUM=7", "SUBSYSTEM=pci",
		"HOTSWAP_NAME=net0", "WEIRD1=a value  with spaces",
		"WEIRD2='single' \"double\" `back` \\n", w3, w4, "EMPTY=",
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"PWD=/",	/* dash's own: the cwd is "/" */
	};
	size_t nwant = sizeof(want) / sizeof(want[0]), nlines = 0;

	snprintf(pwn1, sizeof(pwn1), "%s/pwned1", t->root);
	snprintf(pwn2, sizeof(pwn2), "%s/pwned2", t->root);
	snprintf(w3, sizeof(w3), "WEIRD3=$(touch %s)", pwn1);
	snprintf(w4, sizeof(w4), "WEIRD4=x; touch %s ; echo", pwn2);
	write_agent(t, "10-dump", "exec /usr/bin/env > \"@OUT@/env.$SEQNUM\"\n");
	start(t, 2000);
	assert_int_equal(hsd_agents_event(t->a, 7, ENV("ACTION=add",
		"SEQNUM=7", "SUBSYSTEM=pci", "HOTSWAP_NAME=net0",
		"WEIRD1=a value  with spaces",
		"WEIRD2='single' \"double\" `back` \\n", w3, w4, "EMPTY=")), 0);
	assert_int_equal(hsd_agents_event(t->a, 8, ENV("ACTION=remove",
		"SEQNUM=8", "PATH=/opt/hs/bin")), 0);
	wait_idle(t, 3000);

	got = read_out(t, "env.7");
	assert_non_null(got);
	for (line = strtok_r(got, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		bool found = false;

		for (size_t i = 0; i < nwant; i++)
			found |= strcmp(line, want[i]) == 0;
		if (!found)
			fail_msg("unexpected variable: %s", line);
		nlines++;
	}
	assert_int_equal(nlines, nwant);
	free(got);
	assert_int_equal(access(pwn1, F_OK), -1);
	assert_int_equal(access(pwn2, F_OK), -1);

	/* A PATH given is kept, not doubled. */
	got = read_out(t, "env.8");
	assert_non_null(got);
	assert_non_null(strstr(got, "PATH=/opt/hs/bin\n"));
	assert_null(strstr(got, "PATH=/usr"));
	assert_non_null(strstr(got, "ACTION=remove\n"));
	free(got);
}

/* Match lines: globs, comma lists, alternatives, missing variables, and
 * query-remove only for agents that ask for it. */
static void test_match(void **state)
{
	struct t *t = *state;
	struct query q1 = { 0 }, q2 = { 0 };

	write_agent(t, "10-net",
		    "# hotswap-match: ACTION=add,bind PCI_CLASS=20*\n"
		    "echo \"10-net $ACTION $SEQNUM\" >> \"@OUT@/log\"\n");
	write_agent(t, "20-stor",
		    "# hotswap-match: PCI_CLASS=10*\n"
		    "  #hotswap-match: ACTION=remove\n"
		    "echo \"20-stor $ACTION $SEQNUM\" >> \"@OUT@/log\"\n");
	write_agent(t, "30-all",
		    "echo \"30-all $ACTION $SEQNUM\" >> \"@OUT@/log\"\n");
	write_agent(t, "40-query",
		    "# hotswap-match: ACTION=query-remove PCI_CLASS=10*\n"
		    "echo \"40-query $ACTION $HOTSWAP_NAME\" >> \"@OUT@/log\"\n");
	start(t, 2000);
	assert_int_equal(hsd_agents_event(t->a, 1,
		ENV("ACTION=add", "SEQNUM=1", "PCI_CLASS=20000")), 0);
	assert_int_equal(hsd_agents_event(t->a, 2,
		ENV("ACTION=add", "SEQNUM=2", "PCI_CLASS=10802")), 0);
	assert_int_equal(hsd_agents_event(t->a, 3,
		ENV("ACTION=remove", "SEQNUM=3", "PCI_CLASS=20000")), 0);
	assert_int_equal(hsd_agents_event(t->a, 4,
		ENV("ACTION=bind", "SEQNUM=4", "PCI_CLASS=20000")), 0);
	assert_int_equal(hsd_agents_event(t->a, 5,
		ENV("ACTION=bind", "SEQNUM=5")), 0);
	assert_int_equal(hsd_agents_event(t->a, 6,
		ENV("ACTION=unbind", "SEQNUM=6", "PCI_CLASS=20001")), 0);
	assert_int_equal(hsd_agents_query_remove(t->a,
		ENV("PCI_CLASS=20000", "HOTSWAP_NAME=net0"), on_done, &q1), 0);
	assert_int_equal(hsd_agents_query_remove(t->a,
		ENV("ACTION=remove", "PCI_CLASS=10802", "HOTSWAP_NAME=stor0"),
		on_done, &q2), 0);
	wait_idle(t, 3000);

	assert_out(t, "log",
		   "10-net add 1\n30-all add 1\n"
		   "20-stor add 2\n30-all add 2\n"
		   "20-stor remove 3\n30-all remove 3\n"
		   "10-net bind 4\n30-all bind 4\n"
		   "30-all bind 5\n"
		   "30-all unbind 6\n"
		   "40-query query-remove stor0\n");
	assert_int_equal(q1.calls, 1);
	assert_int_equal(q1.rc, 0);
	assert_int_equal(q2.calls, 1);
	assert_int_equal(q2.rc, 0);
}

/* Match lines that cannot mean what they say: a token without '=' or
 * without a name matches nothing; blanks of every kind separate tokens; a
 * line cut by the 4096-byte head is not a line (that agent has none, so
 * it runs for every event). */
static void test_match_edges(void **state)
{
	struct t *t = *state;
	char body[8192];
	int n;

	write_agent(t, "10-noeq", "# hotswap-match: ACTION\n"
		    "echo \"10 $SEQNUM\" >> \"@OUT@/log\"\n");
	write_agent(t, "20-noname", "# hotswap-match: =add\n"
		    "echo \"20 $SEQNUM\" >> \"@OUT@/log\"\n");
	write_agent(t, "30-blanks", "#\thotswap-match:\tACTION=add\v "
		    "PCI_CLASS=20*\f\r\n"
		    "echo \"30 $SEQNUM\" >> \"@OUT@/log\"\n");
	/* "#!/bin/sh\n" and a comment end at byte 4081; the match line
	 * after it crosses byte 4096. */
	n = snprintf(body, sizeof(body), "#!/bin/sh\n#%4069s\n", "");
	assert_int_equal(n, 4081);
	snprintf(body + n, sizeof(body) - (size_t)n,
		 "# hotswap-match: ACTION=remove\n"
		 "echo \"40 $SEQNUM\" >> \"@OUT@/log\"\n");
	write_raw(t, "40-cut", 0755, body);
	start(t, 2000);
	assert_int_equal(hsd_agents_event(t->a, 1,
		ENV("ACTION=add", "SEQNUM=1", "PCI_CLASS=20000")), 0);
	assert_int_equal(hsd_agents_event(t->a, 2,
		ENV("ACTION=bind", "SEQNUM=2", "PCI_CLASS=20000")), 0);
	wait_idle(t, 3000);
	assert_out(t, "log", "30 1\n40 1\n40 2\n");
}

/* One event at a time in queue order, agents in name order, never two
 * processes at once. */
static void test_order(void **state)
{
	struct t *t = *state;
	struct hsd_agents_stats st;
	/* $0 is the agent's absolute path (argv = { path, NULL }). */
	const char *body =
		"n=${0##*/}\n"
		"echo \"start $n $SEQNUM\" >> \"@OUT@/log\"\n"
		"sleep 0.05\n"
		"echo \"end $n $SEQNUM\" >> \"@OUT@/log\"\n";

	write_agent(t, "10-a", body);
	write_agent(t, "20-b", body);
	/* strcmp order, not the locale's: "20-B" before "20-b". */
	write_agent(t, "20-B", body);
	start(t, 2000);
	for (uint64_t s = 1; s <= 3; s++) {
		char seq[32];

		snprintf(seq, sizeof(seq), "SEQNUM=%llu", (unsigned long long)s);
		assert_int_equal(hsd_agents_event(t->a, s * 10,
						  ENV("ACTION=add", seq)), 0);
	}
	assert_false(hsd_agents_idle(t->a));
	wait_idle(t, 4000);
	assert_out(t, "log",
		   "start 10-a 1\nend 10-a 1\nstart 20-B 1\nend 20-B 1\n"
		   "start 20-b 1\nend 20-b 1\n"
		   "start 10-a 2\nend 10-a 2\nstart 20-B 2\nend 20-B 2\n"
		   "start 20-b 2\nend 20-b 2\n"
		   "start 10-a 3\nend 10-a 3\nstart 20-B 3\nend 20-B 3\n"
		   "start 20-b 3\nend 20-b 3\n");
	hsd_agents_stats(t->a, &st);
	assert_int_equal(st.runs, 9);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.timeouts, 0);
	assert_int_equal(st.queued_max, 3);
}

/* The time limit kills the agent's whole process group; the queue goes
 * on. */
static void test_timeout(void **state)
{
	struct t *t = *state;
	struct hsd_agents_stats st;
	uint64_t t0, took;
	bool err = false;

	write_agent(t, "10-slow",
		    "sleep 100 &\n"
		    "echo \"$!\" > \"@OUT@/child\"\n"
		    "echo sleeping\n"
		    "sleep 100\n");
	write_agent(t, "20-next", "echo \"next $SEQNUM\" >> \"@OUT@/log\"\n");
	start(t, 300);
	t0 = now_ms();
	assert_int_equal(hsd_agents_event(t->a, 1,
		ENV("ACTION=add", "SEQNUM=1")), 0);
	assert_int_equal(hsd_agents_event(t->a, 2,
		ENV("ACTION=add", "SEQNUM=2")), 0);
	wait_file(t, "log", 3000);
	took = now_ms() - t0;
	assert_true(took >= 300);
	assert_true(took < 1500);
	assert_pid_gone(t, "child");
	wait_idle(t, 3000);
	assert_out(t, "log", "next 1\nnext 2\n");
	assert_pid_gone(t, "child");
	assert_non_null(find_log(t, LOG_INFO, "10-slow", ": sleeping"));
	for (size_t i = 0; i < t->nlogs; i++)
		err |= t->logs[i].level == LOG_ERR &&
		       strstr(t->logs[i].text, "10-slow") &&
		       strstr(t->logs[i].text, "timed out after 300 ms");
	assert_true(err);
	hsd_agents_stats(t->a, &st);
	assert_int_equal(st.runs, 4);
	assert_int_equal(st.timeouts, 2);
	assert_int_equal(st.failures, 2);
}

/* stdout and stderr lines reach the log; long lines are cut. */
static void test_output(void **state)
{
	struct t *t = *state;
	struct hsd_agents_stats st;
	char want[1100];

	write_agent(t, "10-talk",
		    "echo 'hello out'\n"
		    "echo 'oops err' >&2\n"
		    "head -c 3000 /dev/zero | tr '\\0' y; echo\n"
		    "echo 'after long'\n"
		    "printf 'no newline'\n"
		    "exit 3\n");
	start(t, 2000);
	assert_int_equal(hsd_agents_event(t->a, 1, ENV("ACTION=add")), 0);
	wait_idle(t, 3000);
	assert_non_null(find_log(t, LOG_INFO, "10-talk", ": hello out"));
	assert_non_null(find_log(t, LOG_WARNING, "10-talk", ": oops err"));
	assert_non_null(find_log(t, LOG_INFO, "10-talk", ": after long"));
	assert_non_null(find_log(t, LOG_INFO, "10-talk", ": no newline"));
	want[0] = ':';
	want[1] = ' ';
	memset(want + 2, 'y', 1024);
	want[1026] = '\0';
	assert_non_null(find_log(t, LOG_INFO, "10-talk", want));
	assert_non_null(find_log(t, LOG_WARNING, "10-talk",
				 " exited with status 3"));
	hsd_agents_stats(t->a, &st);
	assert_int_equal(st.runs, 1);
	assert_int_equal(st.failures, 1);
}

static void test_query_allowed(void **state)
{
	struct t *t = *state;
	struct query q = { 0 };

	write_agent(t, "10-ask",
		    "# hotswap-match: ACTION=query-remove\n"
		    "echo \"$ACTION\" > \"@OUT@/action\"\n"
		    "echo 'fine, go ahead'\n");
	start(t, 2000);
	assert_int_equal(hsd_agents_query_remove(t->a,
		ENV("ACTION=remove", "HOTSWAP_NAME=net0"), on_done, &q), 0);
	wait_idle(t, 3000);
	assert_int_equal(q.calls, 1);
	assert_int_equal(q.rc, 0);
	assert_out(t, "action", "query-remove\n");
}

/* The first refusal stops the query; its first non-empty stdout line is
 * the reason. */
static void test_query_refused_reason(void **state)
{
	struct t *t = *state;
	struct query q = { 0 };

	write_agent(t, "10-ok",
		    "# hotswap-match: ACTION=query-remove\n"
		    "touch \"@OUT@/10\"\n");
	write_agent(t, "20-stor",
		    "# hotswap-match: ACTION=query-remove\n"
		    "echo 'noise on stderr' >&2\n"
		    "printf '\\n  \\n   a filesystem on stor0 is mounted  \\n'\n"
		    "echo 'second line'\n"
		    "exit 1\n");
	write_agent(t, "30-late",
		    "# hotswap-match: ACTION=query-remove\n"
		    "touch \"@OUT@/30\"\n");
	start(t, 2000);
	assert_int_equal(hsd_agents_query_remove(t->a,
		ENV("HOTSWAP_NAME=stor0"), on_done, &q), 0);
	wait_idle(t, 3000);
	assert_int_equal(q.calls, 1);
	assert_int_equal(q.rc, -EBUSY);
	assert_string_equal(q.agent, "20-stor");
	assert_string_equal(q.reason, "a filesystem on stor0 is mounted");
	assert_true(out_exists(t, "10"));
	assert_false(out_exists(t, "30"));
}

/* Refusals that print nothing: exit status, signal, not startable. */
static void test_query_refused_status(void **state)
{
	struct t *t = *state;
	struct query q1 = { 0 }, q2 = { 0 }, q3 = { 0 };

	write_agent(t, "10-status",
		    "# hotswap-match: ACTION=query-remove WHICH=status\n"
		    "echo 'only on stderr' >&2\n"
		    "exit 7\n");
	write_agent(t, "20-signal",
		    "# hotswap-match: ACTION=query-remove WHICH=signal\n"
		    "kill -TERM $$\n");
	write_raw(t, "30-noexec", 0755,
		  "#!/nonexistent/interpreter\n"
		  "# hotswap-match: ACTION=query-remove WHICH=exec\n");
	start(t, 2000);
	assert_int_equal(hsd_agents_query_remove(t->a, ENV("WHICH=status"),
						 on_done, &q1), 0);
	assert_int_equal(hsd_agents_query_remove(t->a, ENV("WHICH=signal"),
						 on_done, &q2), 0);
	assert_int_equal(hsd_agents_query_remove(t->a, ENV("WHICH=exec"),
						 on_done, &q3), 0);
	wait_idle(t, 3000);
	assert_int_equal(q1.calls, 1);
	assert_int_equal(q1.rc, -EBUSY);
	assert_string_equal(q1.agent, "10-status");
	assert_string_equal(q1.reason, "exited with status 7");
	assert_int_equal(q2.calls, 1);
	assert_int_equal(q2.rc, -EBUSY);
	assert_string_equal(q2.agent, "20-signal");
	assert_string_equal(q2.reason, "killed by signal 15");
	assert_int_equal(q3.calls, 1);
	assert_int_equal(q3.rc, -EBUSY);
	assert_string_equal(q3.agent, "30-noexec");
	assert_string_equal(q3.reason,
			    "could not be started: No such file or directory");
}

static void test_query_timeout(void **state)
{
	struct t *t = *state;
	struct query q = { 0 };

	write_agent(t, "10-hang",
		    "# hotswap-match: ACTION=query-remove\n"
		    "echo\n"
		    "sleep 100\n");
	write_agent(t, "20-after",
		    "# hotswap-match: ACTION=add\n"
		    "touch \"@OUT@/after\"\n");
	start(t, 200);
	assert_int_equal(hsd_agents_query_remove(t->a, ENV("X=1"), on_done,
						 &q), 0);
	assert_int_equal(hsd_agents_event(t->a, 1, ENV("ACTION=add")), 0);
	wait_idle(t, 2000);
	assert_int_equal(q.calls, 1);
	assert_int_equal(q.rc, -EBUSY);
	assert_string_equal(q.agent, "10-hang");
	assert_string_equal(q.reason, "timed out after 200 ms");
	assert_true(out_exists(t, "after"));
}

/* Not agents: not executable, dotfiles, backups, directories. */
static void test_ignored(void **state)
{
	struct t *t = *state;
	struct hsd_agents_stats st;
	char path[256];

	write_raw(t, "10-noexec", 0644, "#!/bin/sh\ntouch \"@OUT@/10\"\n");
	write_agent(t, ".20-hidden", "touch \"@OUT@/20\"\n");
	write_agent(t, "30-backup~", "touch \"@OUT@/30\"\n");
	snprintf(path, sizeof(path), "%s/40-dir", t->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	write_agent(t, "50-ok", "touch \"@OUT@/50\"\n");
	start(t, 2000);
	assert_int_equal(hsd_agents_event(t->a, 1, ENV("ACTION=add")), 0);
	wait_idle(t, 3000);
	assert_false(out_exists(t, "10"));
	assert_false(out_exists(t, "20"));
	assert_false(out_exists(t, "30"));
	assert_true(out_exists(t, "50"));
	hsd_agents_stats(t->a, &st);
	assert_int_equal(st.runs, 1);
	assert_int_equal(st.failures, 0);
}

/* A missing directory: no agents and no error; it is read again before
 * every event. */
/* An agents directory that is a file is said once, not at every event,
 * and its recovery is said too. */
static void test_dir_is_a_file(void **state)
{
	struct t *t = *state;
	unsigned warnings = 0, notices = 0;
	FILE *f;

	assert_int_equal(rmdir(t->dir), 0);
	f = fopen(t->dir, "w");
	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
	start(t, 2000);
	for (uint64_t seq = 1; seq <= 5; seq++)
		assert_int_equal(hsd_agents_event(t->a, seq,
						  ENV("ACTION=add")), 0);
	wait_idle(t, 3000);
	for (size_t i = 0; i < t->nlogs; i++)
		if (t->logs[i].level == LOG_WARNING &&
		    strstr(t->logs[i].text, "agents directory") &&
		    strstr(t->logs[i].text, "Not a directory"))
			warnings++;
	assert_int_equal(warnings, 1);

	assert_int_equal(unlink(t->dir), 0);
	assert_int_equal(mkdir(t->dir, 0755), 0);
	write_agent(t, "10-back", "touch \"@OUT@/back\"\n");
	assert_int_equal(hsd_agents_event(t->a, 6, ENV("ACTION=add")), 0);
	wait_idle(t, 3000);
	assert_true(out_exists(t, "back"));
	for (size_t i = 0; i < t->nlogs; i++)
		if (t->logs[i].level == LOG_NOTICE &&
		    strstr(t->logs[i].text, "readable again"))
			notices++;
	assert_int_equal(notices, 1);
}

static void test_missing_dir(void **state)
{
	struct t *t = *state;
	struct hsd_agents_stats st;
	struct query q = { 0 };
	struct hsd_agents *none;

	assert_int_equal(rmdir(t->dir), 0);
	start(t, 2000);
	assert_int_equal(hsd_agents_event(t->a, 1, ENV("ACTION=add")), 0);
	assert_int_equal(hsd_agents_query_remove(t->a, ENV("A=b"), on_done,
						 &q), 0);
	wait_idle(t, 3000);
	assert_int_equal(q.calls, 1);
	assert_int_equal(q.rc, 0);
	assert_int_equal(t->nlogs, 0);
	hsd_agents_stats(t->a, &st);
	assert_int_equal(st.runs, 0);

	assert_int_equal(mkdir(t->dir, 0755), 0);
	write_agent(t, "10-late", "touch \"@OUT@/late\"\n");
	assert_int_equal(hsd_agents_event(t->a, 2, ENV("ACTION=add")), 0);
	wait_idle(t, 3000);
	assert_true(out_exists(t, "late"));

	/* No directory at all. */
	assert_int_equal(hsd_agents_new(&t->loop, NULL, 100, NULL, NULL,
					&none), 0);
	memset(&q, 0, sizeof(q));
	assert_int_equal(hsd_agents_event(none, 1, ENV("ACTION=add")), 0);
	assert_int_equal(hsd_agents_query_remove(none, ENV("A=b"), on_done,
						 &q), 0);
	while (!hsd_agents_idle(none))
		uv_run(&t->loop, UV_RUN_ONCE);
	assert_int_equal(q.calls, 1);
	assert_int_equal(q.rc, 0);
	hsd_agents_free(none);
}

/* Free while a query's agent runs: it is killed, every pending query gets
 * -ECANCELED, queued events are dropped, nothing leaks, and no callback
 * comes after the free. */
static void test_free_running(void **state)
{
	struct t *t = *state;
	struct query q1 = { 0 }, q2 = { 0 };
	size_t nlogs;

	write_agent(t, "10-hang",
		    "# hotswap-match: ACTION=query-remove\n"
		    "# hotswap-match: ACTION=add\n"
		    "sleep 100 &\n"
		    "echo \"$!\" > \"@OUT@/child.tmp\"\n"
		    "mv \"@OUT@/child.tmp\" \"@OUT@/child\"\n"
		    "echo waiting\n"
		    "wait\n");
	start(t, 5000);
	assert_int_equal(hsd_agents_query_remove(t->a, ENV("N=1"), on_done,
						 &q1), 0);
	assert_int_equal(hsd_agents_event(t->a, 1, ENV("ACTION=add")), 0);
	assert_int_equal(hsd_agents_query_remove(t->a, ENV("N=2"), on_done,
						 &q2), 0);
	wait_file(t, "child", 3000);
	assert_int_equal(q1.calls, 0);
	hsd_agents_free(t->a);
	t->a = NULL;
	assert_int_equal(q1.calls, 1);
	assert_int_equal(q1.rc, -ECANCELED);
	assert_int_equal(q2.calls, 1);
	assert_int_equal(q2.rc, -ECANCELED);
	nlogs = t->nlogs;
	uv_run(&t->loop, UV_RUN_NOWAIT);
	uv_run(&t->loop, UV_RUN_NOWAIT);
	assert_int_equal(t->nlogs, nlogs);
	assert_pid_gone(t, "child");
	assert_int_equal(q1.calls, 1);
	assert_int_equal(q2.calls, 1);
}

/* The shipped example agents, run as hotswapd would run them. */
static void test_examples(void **state)
{
#ifdef HOTSWAP_SRCDIR
	struct t *t = *state;
	struct query q1 = { 0 }, q2 = { 0 }, q3 = { 0 };
	char rt[160], net0[160], mnt[200], stor0[220];
	FILE *f;

	snprintf(rt, sizeof(rt), "HOTSWAP_RUNTIME_DIR=%s", t->out);
	snprintf(net0, sizeof(net0), "%s/network/net0", t->out);
	snprintf(mnt, sizeof(mnt), "%s/mounted", t->out);
	snprintf(stor0, sizeof(stor0), "%s/stor0", mnt);
	assert_int_equal(hsd_agents_new(&t->loop,
		HOTSWAP_SRCDIR "/examples/agents", 2000, on_log, t, &t->a), 0);
	assert_int_equal(hsd_agents_event(t->a, 1, ENV("ACTION=bind",
		"SEQNUM=1", "SUBSYSTEM=pci", "PCI_CLASS=20000",
		"PCI_SLOT_NAME=0000:03:00.0", "DRIVER=simnet",
		"HOTSWAP_SLOT=slot3", "HOTSWAP_SLOT_NUMBER=3",
		"HOTSWAP_NAME=net0", rt)), 0);
	assert_int_equal(hsd_agents_event(t->a, 2, ENV("ACTION=bind",
		"SEQNUM=2", "SUBSYSTEM=pci", "PCI_CLASS=10802",
		"PCI_SLOT_NAME=0000:04:00.0", "DRIVER=simnvme",
		"HOTSWAP_SLOT_NUMBER=4", "HOTSWAP_NAME=stor0", rt)), 0);
	/* Class 0x100000 (encryption) is not storage. */
	assert_int_equal(hsd_agents_event(t->a, 3, ENV("ACTION=bind",
		"SEQNUM=3", "PCI_CLASS=100000", "HOTSWAP_NAME=crypt0", rt)), 0);
	assert_int_equal(hsd_agents_query_remove(t->a, ENV("PCI_CLASS=10802",
		"HOTSWAP_NAME=stor0", rt), on_done, &q1), 0);
	wait_idle(t, 3000);
	assert_non_null(find_log(t, LOG_INFO, "50-network.agent",
		": net0: would configure interface "
		"(slot 3, 0000:03:00.0, driver simnet)"));
	assert_int_equal(access(net0, F_OK), 0);
	assert_non_null(find_log(t, LOG_INFO, "60-storage.agent",
		": stor0: would mount /dev/stor0 on /srv/stor0 "
		"(slot 4, 0000:04:00.0, driver simnvme)"));
	for (size_t i = 0; i < t->nlogs; i++)
		assert_null(strstr(t->logs[i].text, "crypt0"));
	assert_int_equal(q1.calls, 1);
	assert_int_equal(q1.rc, 0);

	/* A (pretend) mounted filesystem keeps stor0 in. */
	assert_int_equal(mkdir(mnt, 0755), 0);
	f = fopen(stor0, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(hsd_agents_query_remove(t->a, ENV("PCI_CLASS=10802",
		"HOTSWAP_NAME=stor0", rt), on_done, &q2), 0);
	/* Network agents are not asked. */
	assert_int_equal(hsd_agents_query_remove(t->a, ENV("PCI_CLASS=20000",
		"HOTSWAP_NAME=net0", rt), on_done, &q3), 0);
	assert_int_equal(hsd_agents_event(t->a, 4, ENV("ACTION=unbind",
		"SEQNUM=4", "PCI_CLASS=20000", "DRIVER=simnet",
		"HOTSWAP_NAME=net0", rt)), 0);
	wait_idle(t, 3000);
	assert_int_equal(q2.calls, 1);
	assert_int_equal(q2.rc, -EBUSY);
	assert_string_equal(q2.agent, "60-storage.agent");
	assert_string_equal(q2.reason,
			    "a filesystem on stor0 is mounted at /srv/stor0");
	assert_int_equal(q3.calls, 1);
	assert_int_equal(q3.rc, 0);
	assert_non_null(find_log(t, LOG_INFO, "50-network.agent",
				 ": net0: would deconfigure"));
	assert_int_equal(access(net0, F_OK), -1);
#else
	(void)state;
	skip();
#endif
}

static void test_bad_arguments(void **state)
{
	struct t *t = *state;
	struct query q = { 0 };

	start(t, 2000);
	assert_int_equal(hsd_agents_event(t->a, 5, ENV("ACTION=add")), 0);
	assert_int_equal(hsd_agents_event(t->a, 5, ENV("ACTION=add")),
			 -EINVAL);
	assert_int_equal(hsd_agents_event(t->a, 4, ENV("ACTION=add")),
			 -EINVAL);
	assert_int_equal(hsd_agents_event(t->a, 6, ENV("SEQNUM=6")), -EINVAL);
	assert_int_equal(hsd_agents_event(t->a, 6,
		ENV("ACTION=add", "NOEQUALS")), -EINVAL);
	assert_int_equal(hsd_agents_event(t->a, 6, ENV("=x", "ACTION=add")),
			 -EINVAL);
	assert_int_equal(hsd_agents_event(t->a, 6, NULL), -EINVAL);
	/* Rejected events do not use up a sequence number. */
	assert_int_equal(hsd_agents_event(t->a, 6, ENV("ACTION=add")), 0);
	assert_int_equal(hsd_agents_query_remove(t->a, ENV("A=b"), NULL, NULL),
			 -EINVAL);
	assert_int_equal(hsd_agents_query_remove(t->a, ENV("A"), on_done, &q),
			 -EINVAL);
	wait_idle(t, 3000);
	assert_int_equal(q.calls, 0);
	assert_int_equal(hsd_agents_new(NULL, t->dir, 1, NULL, NULL, NULL),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_env_exact),
		T(test_match),
		T(test_order),
		T(test_match_edges),
		T(test_timeout),
		T(test_output),
		T(test_query_allowed),
		T(test_query_refused_reason),
		T(test_query_refused_status),
		T(test_query_timeout),
		T(test_ignored),
		T(test_missing_dir),
		T(test_dir_is_a_file),
		T(test_free_running),
		T(test_examples),
		T(test_bad_arguments),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
