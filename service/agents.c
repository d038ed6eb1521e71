/*
 * agents.c - hotplug agents run by hotswapd.
 *
 * Owns: the queue of events and query-remove requests (one FIFO, one job
 * at a time), reading the agents directory and the match lines of each
 * agent before every job, and the one agent process that may run at any
 * moment: its uv_process_t, the two pipes its stdout and stderr are read
 * from line by line, and the timer that kills its process group when it
 * runs out of time.  Values reach agents in the environment only (argv is
 * { path, NULL }, no shell in between).
 *
 * After hsd_agents_free returns, no callback of the caller (log, done) is
 * called again; the struct itself goes with the last close callback.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <syslog.h>
#include <unistd.h>

#include "alloc.h"
#include "agents.h"

#define HEAD_MAX 4096		/* match lines are looked for here */
#define LINE_CUT 1024		/* longer output lines are cut */
#define DRAIN_MAX 65536		/* output read after a kill, at most */
#define MATCH_TAG "hotswap-match:"
#define DEFAULT_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

/* An event or a query-remove request, queued and then run. */
struct job {
	struct job *next;
	bool query;
	char **env;		/* NULL-terminated copy, PATH included */
	hsd_query_done_fn done;
	void *arg;
	/* Set when the job starts: the matching agents, in name order. */
	char **agents;
	size_t nagents, next_agent;
};

/* One stream of an agent's output being cut into lines. */
struct linebuf {
	char line[LINE_CUT + 1];
	size_t len;
	bool cutting;		/* past LINE_CUT: drop up to the newline */
	bool eof;
	char rbuf[4096];
};

/* One agent process.  Freed by the close callback of its last handle. */
struct run {
	struct hsd_agents *a;
	uv_process_t proc;
	uv_pipe_t out, err;
	struct linebuf lo, le;
	int open;		/* handles not yet closed */
	char *name;
	int pid;
	bool exited, killed, timed_out, completed;
	int64_t status;
	int term_signal;
	char *reason;		/* first non-empty stdout line (query) */
};

struct hsd_agents {
	uv_loop_t *loop;
	char *dir;		/* absolute, or NULL: no agents */
	int dir_errno;		/* the error last said about dir, 0: none:
				   said once, not at every event */
	unsigned timeout_ms;
	hsd_agents_log_fn log;
	void *log_arg;

	struct job *head, *tail;	/* waiting */
	struct job *cur;		/* running */
	unsigned long njobs;		/* waiting + running */
	struct run *run;		/* the agent process, if any */
	bool have_seq;
	uint64_t last_seq;

	uv_timer_t timer;	/* time limit of the run */
	uv_timer_t kick;	/* starts work on the next loop turn */
	int open;		/* handles (own and runs') not yet closed */
	bool closing;
	struct hsd_agents_stats stats;
};

static void advance(struct hsd_agents *a);
static void on_kick(uv_timer_t *t);

static void alog(struct hsd_agents *a, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void alog(struct hsd_agents *a, int level, const char *fmt, ...)
{
	char msg[LINE_CUT + NAME_MAX + 128];
	va_list ap;

	if (!a->log || a->closing)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	a->log(a->log_arg, level, msg);
}

/* ---- environment -------------------------------------------------------- */

static void free_strv(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static bool has_key(const char *entry, const char *key, size_t klen)
{
	return strncmp(entry, key, klen) == 0 && entry[klen] == '=';
}

/* The value of key (klen bytes, not NUL-terminated) in env, or NULL. */
static const char *env_get(char *const *env, const char *key, size_t klen)
{
	for (; *env; env++)
		if (has_key(*env, key, klen))
			return *env + klen + 1;
	return NULL;
}

/* Copy env for a job; a query gets ACTION=query-remove instead of any
 * ACTION given, and PATH is added when missing. */
static int copy_env(const char *const *env, bool query, char ***out)
{
	size_t n = 0, k = 0;
	bool path = false, action = false;
	char **v;

	if (!env)
		return -EINVAL;
	for (; env[n]; n++) {
		const char *eq = strchr(env[n], '=');

		if (!eq || eq == env[n])
			return -EINVAL;
		if (has_key(env[n], "PATH", 4))
			path = true;
		if (has_key(env[n], "ACTION", 6))
			action = true;
	}
	if (!query && !action)
		return -EINVAL;
	v = hsd_calloc(n + 3, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (query && !(v[k++] = hsd_strdup("ACTION=query-remove")))
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		if (query && has_key(env[i], "ACTION", 6))
			continue;
		if (!(v[k++] = hsd_strdup(env[i])))
			goto nomem;
	}
	if (!path && !(v[k++] = hsd_strdup(DEFAULT_PATH)))
		goto nomem;
	*out = v;
	return 0;
nomem:
	free_strv(v);
	return -ENOMEM;
}

/* ---- agents directory and match lines ------------------------------------ */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* One match line (after the tag), NUL-terminated and ours to cut up. */
static bool line_matches(char *p, char *const *env, bool query)
{
	bool action = false;

	for (;;) {
		char *tok, *eq, *globs;
		const char *val;
		bool any = false;

		while (is_space(*p))
			p++;
		if (!*p)
			break;
		tok = p;
		while (*p && !is_space(*p))
			p++;
		if (*p)
			*p++ = '\0';
		eq = strchr(tok, '=');
		if (!eq || eq == tok)
			return false;	/* malformed: matches nothing */
		val = env_get(env, tok, (size_t)(eq - tok));
		if (!val)
			return false;
		if (eq - tok == 6 && strncmp(tok, "ACTION", 6) == 0)
			action = true;
		globs = eq + 1;
		for (char *g = globs; g && !any;) {
			char *comma = strchr(g, ',');

			if (comma)
				*comma = '\0';
			any = fnmatch(g, val, 0) == 0;
			g = comma ? comma + 1 : NULL;
		}
		if (!any)
			return false;
	}
	/* query-remove only reaches agents that name ACTION on the line. */
	return !query || action;
}

/* Whether the agent whose first bytes are head (NUL-terminated, ours to
 * modify) wants this job. */
static bool agent_matches(char *head, char *const *env, bool query)
{
	bool any_line = false;

	for (char *line = head; line;) {
		char *nl = strchr(line, '\n'), *p = line;

		if (nl)
			*nl = '\0';
		while (is_space(*p))
			p++;
		if (*p == '#') {
			p++;
			while (is_space(*p))
				p++;
			if (strncmp(p, MATCH_TAG, strlen(MATCH_TAG)) == 0) {
				any_line = true;
				if (line_matches(p + strlen(MATCH_TAG), env,
						 query))
					return true;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return !any_line && !query;
}

static int name_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 0 && d->d_name[0] != '.' && d->d_name[n - 1] != '~';
}

static int name_cmp(const struct dirent **x, const struct dirent **y)
{
	return strcmp((*x)->d_name, (*y)->d_name);
}

/* Read up to HEAD_MAX bytes of an executable regular file; 1 if it is an
 * agent (head filled), 0 if not, negative errno. */
static int read_head(const char *path, char *head)
{
	struct stat st;
	size_t len = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return errno == ENOMEM ? -ENOMEM : 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    access(path, X_OK) < 0)
		goto out;
	while (len < HEAD_MAX) {
		ssize_t n = read(fd, head + len, HEAD_MAX - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	head[len] = '\0';
	if (len == HEAD_MAX) {
		/* A line cut at the limit is not a line. */
		char *nl = strrchr(head, '\n');

		*(nl ? nl + 1 : head) = '\0';
	}
	rc = 1;
out:
	close(fd);
	return rc;
}

static char *join_path(const char *dir, const char *name)
{
	size_t ld = strlen(dir), ln = strlen(name);
	char *p = hsd_malloc(ld + ln + 2);

	if (!p)
		return NULL;
	memcpy(p, dir, ld);
	p[ld] = '/';
	memcpy(p + ld + 1, name, ln + 1);
	return p;
}

/* Fill job->agents with the agents that match it, in name order. */
static int scan(struct hsd_agents *a, struct job *job)
{
	struct dirent **list = NULL;
	char *head = NULL, *path = NULL;
	int n, rc = 0;

	if (!a->dir)
		return 0;
	n = scandir(a->dir, &list, name_filter, name_cmp);
	if (n < 0) {
		int e = errno;

		if (e == ENOMEM)
			return -ENOMEM;
		/* A missing directory means no agents.  Anything else is
		 * a mistake the operator must hear about, once (and again
		 * if it changes), not at every event. */
		if (e != ENOENT && e != a->dir_errno)
			alog(a, LOG_WARNING, "agents directory %s: %s; no "
			     "agents run until it is readable", a->dir,
			     strerror(e));
		a->dir_errno = e;
		return 0;
	}
	if (a->dir_errno && a->dir_errno != ENOENT)
		alog(a, LOG_NOTICE, "agents directory %s is readable again",
		     a->dir);
	a->dir_errno = 0;
	head = hsd_malloc(HEAD_MAX + 1);
	job->agents = hsd_calloc((size_t)n + 1, sizeof(*job->agents));
	if (!head || !job->agents) {
		rc = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		path = join_path(a->dir, list[i]->d_name);
		if (!path) {
			rc = -ENOMEM;
			goto out;
		}
		rc = read_head(path, head);
		free(path);
		path = NULL;
		if (rc < 0)
			goto out;
		if (rc == 0 || !agent_matches(head, job->env, job->query))
			continue;
		job->agents[job->nagents] = hsd_strdup(list[i]->d_name);
		if (!job->agents[job->nagents]) {
			rc = -ENOMEM;
			goto out;
		}
		job->nagents++;
	}
	rc = 0;
out:
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	free(head);
	return rc;
}

/* ---- jobs ----------------------------------------------------------------- */

static void free_job(struct job *job)
{
	free_strv(job->env);
	free_strv(job->agents);
	free(job);
}

/* The current job is over: report it (queries) and drop it. */
static void finish_job(struct hsd_agents *a, int rc, const char *agent,
		       const char *reason)
{
	struct job *job = a->cur;

	a->cur = NULL;
	a->njobs--;
	if (job->query)
		job->done(job->arg, rc, agent, reason);
	free_job(job);
}

static void enqueue(struct hsd_agents *a, struct job *job)
{
	if (a->tail)
		a->tail->next = job;
	else
		a->head = job;
	a->tail = job;
	a->njobs++;
	if (a->njobs > a->stats.queued_max)
		a->stats.queued_max = a->njobs;
	if (!a->cur && !a->run)
		uv_timer_start(&a->kick, on_kick, 0, 0);
}

/* ---- handles --------------------------------------------------------------- */

static void maybe_free(struct hsd_agents *a)
{
	if (a->closing && a->open == 0) {
		free(a->dir);
		free(a);
	}
}

static void own_closed(uv_handle_t *h)
{
	struct hsd_agents *a = h->data;

	a->open--;
	maybe_free(a);
}

static void run_closed(uv_handle_t *h)
{
	struct run *run = h->data;
	struct hsd_agents *a = run->a;

	if (--run->open == 0) {
		free(run->name);
		free(run->reason);
		free(run);
	}
	a->open--;
	maybe_free(a);
}

/* All three handles: uv_spawn initialises the process handle even when
 * it fails. */
static void close_run(struct run *run)
{
	uv_close((uv_handle_t *)&run->out, run_closed);
	uv_close((uv_handle_t *)&run->err, run_closed);
	uv_close((uv_handle_t *)&run->proc, run_closed);
}

/* ---- output ---------------------------------------------------------------- */

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static void emit_line(struct run *run, struct linebuf *lb)
{
	struct hsd_agents *a = run->a;
	bool out = lb == &run->lo;
	char *line = lb->line, *t;

	line[lb->len] = '\0';
	lb->len = 0;
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			*p = '?';
	alog(a, out ? LOG_INFO : LOG_WARNING, "agent %s[%d]: %s", run->name,
	      run->pid, line);
	if (out && !run->reason && a->cur && a->cur->query) {
		t = trim(line);
		if (*t)
			run->reason = hsd_strdup(t);
	}
}

static void feed(struct run *run, struct linebuf *lb, const char *p,
		 size_t n)
{
	for (size_t i = 0; i < n && !run->a->closing; i++) {
		char c = p[i];

		if (c == '\n') {
			if (!lb->cutting) {
				if (lb->len && lb->line[lb->len - 1] == '\r')
					lb->len--;
				emit_line(run, lb);
			}
			lb->len = 0;
			lb->cutting = false;
		} else if (lb->cutting) {
			continue;
		} else if (lb->len == LINE_CUT) {
			emit_line(run, lb);
			lb->cutting = true;
		} else {
			lb->line[lb->len++] = c ? c : '?';
		}
	}
}

/* A last line without a newline is a line too. */
static void flush(struct run *run, struct linebuf *lb)
{
	if (lb->len && !lb->cutting && !run->a->closing)
		emit_line(run, lb);
	lb->len = 0;
}

/* After a kill: take what is already in the pipe without waiting. */
static void drain(struct run *run, uv_pipe_t *pipe, struct linebuf *lb)
{
	uv_os_fd_t fd;
	size_t total = 0;

	if (lb->eof || uv_fileno((uv_handle_t *)pipe, &fd) < 0)
		return;
	while (total < DRAIN_MAX) {
		ssize_t n = read(fd, lb->rbuf, sizeof(lb->rbuf));

		if (n <= 0)
			break;
		feed(run, lb, lb->rbuf, (size_t)n);
		total += (size_t)n;
	}
}

/* ---- a run ---------------------------------------------------------------- */

static void describe(const struct run *run, unsigned timeout_ms, char *buf,
		     size_t len)
{
	if (run->timed_out)
		snprintf(buf, len, "timed out after %u ms", timeout_ms);
	else if (run->term_signal)
		snprintf(buf, len, "killed by signal %d", run->term_signal);
	else
		snprintf(buf, len, "exited with status %lld",
			 (long long)run->status);
}

static void complete(struct run *run)
{
	struct hsd_agents *a = run->a;
	bool failed = run->timed_out || run->term_signal || run->status;
	char why[64];

	run->completed = true;
	uv_timer_stop(&a->timer);
	a->run = NULL;
	if (!a->closing) {
		if (run->killed) {
			drain(run, &run->out, &run->lo);
			drain(run, &run->err, &run->le);
		}
		flush(run, &run->lo);
		flush(run, &run->le);
	}
	describe(run, a->timeout_ms, why, sizeof(why));
	close_run(run);
	if (a->closing)
		return;
	if (failed) {
		a->stats.failures++;
		/* A time-out was logged when it happened. */
		if (!run->timed_out)
			alog(a, LOG_WARNING, "agent %s[%d] %s", run->name,
			      run->pid, why);
	} else {
		alog(a, LOG_DEBUG, "agent %s[%d] done", run->name, run->pid);
	}
	if (a->cur->query && failed) {
		finish_job(a, -EBUSY, run->name,
			   run->reason ? run->reason : why);
	} else {
		a->cur->next_agent++;
	}
	advance(a);
}

static void check_done(struct run *run)
{
	if (run->completed || !run->exited)
		return;
	if (run->killed || (run->lo.eof && run->le.eof))
		complete(run);
}

static void on_proc_exit(uv_process_t *proc, int64_t status, int term_signal)
{
	struct run *run = proc->data;

	run->exited = true;
	run->status = status;
	run->term_signal = term_signal;
	check_done(run);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct run *run = h->data;
	struct linebuf *lb = h == (uv_handle_t *)&run->out ? &run->lo
							    : &run->le;

	(void)hint;
	*buf = uv_buf_init(lb->rbuf, sizeof(lb->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct run *run = s->data;
	struct linebuf *lb = s == (uv_stream_t *)&run->out ? &run->lo
							   : &run->le;

	if (nread > 0) {
		feed(run, lb, buf->base, (size_t)nread);
		return;
	}
	if (nread == 0)
		return;
	if (nread != UV_EOF)
		alog(run->a, LOG_WARNING, "agent %s[%d]: reading output: %s",
		      run->name, run->pid, uv_strerror((int)nread));
	uv_read_stop(s);
	flush(run, lb);
	lb->eof = true;
	check_done(run);
}

static void on_timeout(uv_timer_t *t)
{
	struct hsd_agents *a = t->data;
	struct run *run = a->run;

	if (!run)
		return;
	run->timed_out = true;
	run->killed = true;
	a->stats.timeouts++;
	alog(a, LOG_ERR, "agent %s[%d] timed out after %u ms, killing it",
	      run->name, run->pid, a->timeout_ms);
	kill(-run->pid, SIGKILL);
	check_done(run);
}

/* Start the agent name for the current job: 0 running, else negative
 * errno (logged, counted, why filled in). */
static int spawn(struct hsd_agents *a, const char *name, char *why,
		 size_t whylen)
{
	uv_process_options_t opt;
	uv_stdio_container_t stdio[3];
	char *args[2] = { NULL, NULL };
	struct run *run;
	int rc;

	a->stats.runs++;
	run = hsd_calloc(1, sizeof(*run));
	if (!run) {
		rc = -ENOMEM;
		goto fail;
	}
	run->a = a;
	run->name = hsd_strdup(name);
	args[0] = join_path(a->dir, name);
	if (!run->name || !args[0]) {
		rc = -ENOMEM;
		goto fail_run;
	}
	uv_pipe_init(a->loop, &run->out, 0);
	uv_pipe_init(a->loop, &run->err, 0);
	run->out.data = run->err.data = run->proc.data = run;
	run->open = 3;
	a->open += 3;

	memset(&opt, 0, sizeof(opt));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&run->out;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&run->err;
	opt.exit_cb = on_proc_exit;
	opt.file = args[0];
	opt.args = args;
	opt.env = a->cur->env;
	opt.cwd = "/";
	opt.flags = UV_PROCESS_DETACHED;
	opt.stdio_count = 3;
	opt.stdio = stdio;
	rc = uv_spawn(a->loop, &run->proc, &opt);
	free(args[0]);
	if (rc < 0) {
		close_run(run);
		goto fail;
	}
	run->pid = run->proc.pid;
	a->run = run;
	alog(a, LOG_DEBUG, "agent %s[%d] started", name, run->pid);
	if (a->timeout_ms)
		uv_timer_start(&a->timer, on_timeout, a->timeout_ms, 0);
	if (uv_read_start((uv_stream_t *)&run->out, on_alloc, on_read) < 0)
		run->lo.eof = true;
	if (uv_read_start((uv_stream_t *)&run->err, on_alloc, on_read) < 0)
		run->le.eof = true;
	return 0;

fail_run:
	free(args[0]);
	free(run->name);
	free(run);
fail:
	a->stats.failures++;
	snprintf(why, whylen, "could not be started: %s", strerror(-rc));
	alog(a, LOG_ERR, "agent %s %s", name, why);
	return rc;
}

/* Start what comes next, unless an agent runs; finish jobs that have no
 * agent left. */
static void advance(struct hsd_agents *a)
{
	char why[128];
	struct job *job;
	int rc;

	while (!a->closing && !a->run) {
		job = a->cur;
		if (!job) {
			job = a->head;
			if (!job)
				return;
			a->head = job->next;
			if (!a->head)
				a->tail = NULL;
			job->next = NULL;
			a->cur = job;
			rc = scan(a, job);
			if (rc < 0) {
				alog(a, LOG_ERR, "agents: reading %s: %s",
				      a->dir, strerror(-rc));
				finish_job(a, job->query ? rc : 0, NULL, NULL);
				continue;
			}
		}
		if (job->next_agent >= job->nagents) {
			finish_job(a, 0, NULL, NULL);
			continue;
		}
		rc = spawn(a, job->agents[job->next_agent], why, sizeof(why));
		if (rc == 0)
			return;
		if (job->query)
			finish_job(a, -EBUSY, job->agents[job->next_agent],
				   why);
		else
			job->next_agent++;
	}
}

static void on_kick(uv_timer_t *t)
{
	advance(t->data);
}

/* ---- interface ------------------------------------------------------------ */

int hsd_agents_new(uv_loop_t *loop, const char *dir, unsigned timeout_ms,
		   hsd_agents_log_fn log, void *log_arg,
		   struct hsd_agents **out)
{
	struct hsd_agents *a;
	char cwd[PATH_MAX];
	int rc;

	if (!loop || !out)
		return -EINVAL;
	a = hsd_calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->loop = loop;
	a->timeout_ms = timeout_ms;
	a->log = log;
	a->log_arg = log_arg;
	if (dir && *dir) {
		if (dir[0] == '/') {
			a->dir = hsd_strdup(dir);
		} else if (!getcwd(cwd, sizeof(cwd))) {
			rc = -errno;
			goto fail;
		} else {
			a->dir = join_path(cwd, dir);
		}
		if (!a->dir) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	uv_timer_init(loop, &a->timer);
	uv_timer_init(loop, &a->kick);
	a->timer.data = a->kick.data = a;
	a->open = 2;
	*out = a;
	return 0;
fail:
	free(a);
	return rc;
}

int hsd_agents_event(struct hsd_agents *a, uint64_t seq,
		     const char *const *env)
{
	struct job *job;
	int rc;

	if (!a)
		return -EINVAL;
	if (a->closing)
		return -ECANCELED;
	if (a->have_seq && seq <= a->last_seq)
		return -EINVAL;
	job = hsd_calloc(1, sizeof(*job));
	if (!job)
		return -ENOMEM;
	rc = copy_env(env, false, &job->env);
	if (rc < 0)
		goto fail;
	enqueue(a, job);
	a->have_seq = true;
	a->last_seq = seq;
	return 0;
fail:
	free_job(job);
	return rc;
}

int hsd_agents_query_remove(struct hsd_agents *a, const char *const *env,
			    hsd_query_done_fn done, void *arg)
{
	struct job *job;
	int rc;

	if (!a || !done)
		return -EINVAL;
	if (a->closing)
		return -ECANCELED;
	job = hsd_calloc(1, sizeof(*job));
	if (!job)
		return -ENOMEM;
	job->query = true;
	job->done = done;
	job->arg = arg;
	rc = copy_env(env, true, &job->env);
	if (rc < 0) {
		free_job(job);
		return rc;
	}
	enqueue(a, job);
	return 0;
}

bool hsd_agents_idle(const struct hsd_agents *a)
{
	return !a->cur && !a->head && !a->run;
}

void hsd_agents_stats(const struct hsd_agents *a, struct hsd_agents_stats *out)
{
	*out = a->stats;
}

void hsd_agents_free(struct hsd_agents *a)
{
	struct job *job, *next;

	if (!a || a->closing)
		return;
	if (a->run)
		alog(a, LOG_WARNING, "agent %s[%d] killed: shutting down",
		      a->run->name, a->run->pid);
	a->closing = true;
	if (a->run) {
		struct run *run = a->run;

		run->killed = true;
		kill(-run->pid, SIGKILL);
		/* Completes now if it already exited, else from on_proc_exit. */
		check_done(run);
	}
	job = a->cur;
	a->cur = NULL;
	if (job)
		job->next = a->head;
	else
		job = a->head;
	a->head = a->tail = NULL;
	for (; job; job = next) {
		next = job->next;
		if (job->query)
			job->done(job->arg, -ECANCELED, NULL, NULL);
		free_job(job);
	}
	a->njobs = 0;
	uv_close((uv_handle_t *)&a->timer, own_closed);
	uv_close((uv_handle_t *)&a->kick, own_closed);
}
