/*
 * service_faults.c - hotswapd when an allocation fails: "fail the Nth
 * allocation" swept over the daemon's real work, in process on the
 * simulated chassis and the virtual clock (service/alloc.h's hook;
 * jansson, libuv and SQLite routed through it too).
 *
 * Owns: what a user of the service notices when memory runs out once.
 * For every N until a run that reaches no Nth allocation:
 *  - starting the daemon (config, rule file, topology and catalog,
 *    database, policy, core, socket) fails with an error naming out of
 *    memory, or starts; a start after a failed one succeeds with the
 *    state the last good run left;
 *  - a request through the socket (hello, status, lists, show, history,
 *    subscribe, report, policy, attention, block/authorize, add, remove
 *    with an agent asked and told, the simulator's actions) gets its
 *    usual reply, or an error reply whose message names out of memory;
 *    the connection stays usable (or, if the reply itself could not be
 *    written, is closed: never a request left without an answer on an
 *    open connection);
 *  - afterwards the same daemon answers the next request as it did
 *    before, and the database the daemon wrote passes its check;
 *  - a removal that went through had asked the agent (one whose
 *    question could not be put is refused), and one refused left the
 *    card up; the stored history has no gap; a restart finds the slot
 *    up and the history whole;
 *  - a request through the HTTP endpoint (REST reads, /metrics, the
 *    Redfish resources, an attention POST and a Redfish PATCH) gets its
 *    usual response (reads: the very same body), or 500 with a JSON
 *    error naming out of memory, or the connection closes without a
 *    response; the slots read the same afterwards.
 * ASan's leak check covers every path at exit (ctest runs it with
 * detect_leaks=1).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "alloc.h"
#include "config.h"
#include "daemon.h"
#include "db.h"

static char dir[64];
static struct hsd_config cfg;
static uv_loop_t loop;
static struct hsd *daemon_;
static int cfd = -1;
static char in[16 << 20];      /* a whole history fits */
static size_t inlen;
static long rid;
static bool verbose;
static bool last_answered;      /* the sweep's last run got a result */
static bool last_maybe_done;    /* ... or an error saying it may be done */
static const char *only;        /* -v METHOD: that request's sweep only */
static char current[256];       /* the request waited for, for messages */

/* ---- the daemon and one client ---------------------------------------- */

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void config(void)
{
	hsd_config_defaults(&cfg);
	cfg.virtual_clock = true;
	cfg.log_level = verbose ? 7 : 0;
	cfg.socket_group[0] = '\0';
	snprintf(cfg.agents_dir, sizeof(cfg.agents_dir), "%s/agents", dir);
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s", dir);
	snprintf(cfg.runtime_dir, sizeof(cfg.runtime_dir), "%s", dir);
	snprintf(cfg.socket, sizeof(cfg.socket), "%s/s", dir);
	snprintf(cfg.rules, sizeof(cfg.rules), "%s/rules", dir);
	/* A GPU plugged in while running is blocked until authorized. */
	write_file("rules", "allow class 02*\nallow class 01*\n"
		   "block class 03*   # GPUs wait for the operator\n");
}

/* Starts hotswapd with the nth allocation of its start failing (0:
 * none); the loop is the caller's, not the daemon's work. */
static int start_nth(unsigned long nth, char *err, size_t errlen)
{
	int rc;

	assert_int_equal(uv_loop_init(&loop), 0);
	hsd_fault_arm(nth, false);
	rc = hsd_start(&loop, &cfg, &daemon_, err, errlen);
	if (rc) {
		/* A failed start leaves the loop's handles closing. */
		uv_run(&loop, UV_RUN_DEFAULT);
		assert_int_equal(uv_loop_close(&loop), 0);
		daemon_ = NULL;
	}
	return rc;
}

static int start(char *err, size_t errlen)
{
	return start_nth(0, err, errlen);
}

static void stop(void)
{
	if (cfd >= 0)
		close(cfd);
	cfd = -1;
	hsd_stop(daemon_);
	uv_run(&loop, UV_RUN_DEFAULT);
	hsd_free(daemon_);
	daemon_ = NULL;
	assert_int_equal(uv_loop_close(&loop), 0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The next line from the daemon, parsed; NULL when the connection closed
 * (or, after 5 s of nothing, fails the test: an answer never came).
 */
static json_t *next_msg(void)
{
	double until = now_s() + 5;

	for (;;) {
		char *nl = memchr(in, '\n', inlen);
		struct pollfd p = { .fd = cfd, .events = POLLIN };
		ssize_t n;

		if (nl) {
			json_error_t je;
			size_t len = (size_t)(nl - in);
			json_t *m;

			/* The test's own parsing is not the daemon's work. */
			hsd_fault_pause(true);
			m = json_loadb(in, len, 0, &je);
			hsd_fault_pause(false);

			if (!m)
				fail_msg("daemon sent a line that is not JSON "
					 "(%s): %.*s", je.text, (int)len, in);
			inlen -= len + 1;
			memmove(in, nl + 1, inlen);
			return m;
		}
		uv_run(&loop, UV_RUN_NOWAIT);
		if (inlen == sizeof(in))
			fail_msg("a line of over %zu bytes", sizeof(in));
		n = read(cfd, in + inlen, sizeof(in) - inlen);
		if (n > 0) {
			inlen += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			return NULL;
		if (now_s() > until)
			fail_msg("no answer from the daemon in 5 s to %s",
				 current);
		poll(&p, 1, 1);
	}
}

static void client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	json_t *hello;

	if (cfd >= 0)
		close(cfd);
	inlen = 0;
	cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(cfd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.107s", cfg.socket);
	if (connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    errno != EINPROGRESS)
		fail_msg("connect %s: %m", cfg.socket);
	hello = next_msg();
	if (!hello || !json_object_get(hello, "hello"))
		fail_msg("no greeting");
	json_decref(hello);
}

/* One request; its reply (events and others' replies skipped), or NULL
 * when the daemon closed the connection first. */
static json_t *call(const char *method, const char *params)
{
	char line[1024];
	long id = ++rid;
	int n = snprintf(line, sizeof(line),
			 "{\"id\":%ld,\"method\":\"%s\"%s%s}\n", id, method,
			 params ? ",\"params\":" : "", params ? params : "");

	snprintf(current, sizeof(current), "%.*s", n - 1, line);
	if (send(cfd, line, (size_t)n, MSG_NOSIGNAL) != n)
		return NULL;
	for (;;) {
		json_t *m = next_msg(), *mid;

		if (!m)
			return NULL;
		mid = json_object_get(m, "id");
		if (json_is_integer(mid) && json_integer_value(mid) == id)
			return m;
		json_decref(m);
	}
}

/* A request that must work: its result (the caller owns it). */
static json_t *must(const char *method, const char *params)
{
	json_t *r = call(method, params), *res;

	if (!r)
		fail_msg("%s %s: connection closed", method, params ? params : "");
	res = json_object_get(r, "result");
	if (!res) {
		char *t = json_dumps(r, JSON_COMPACT);

		fail_msg("%s %s: %s", method, params ? params : "", t);
	}
	json_incref(res);
	json_decref(r);
	return res;
}

static const char *err_message(json_t *r)
{
	return json_string_value(json_object_get(json_object_get(r, "error"),
						 "message"));
}

static bool names_oom(const char *s)
{
	return s && (strstr(s, "out of memory") || strstr(s, "Out of memory") ||
		     strstr(s, strerror(ENOMEM)));
}

/* The database as the daemon left it on disk passes SQLite's checks. */
static void db_intact(void)
{
	struct hsd_db *db = NULL;
	char path[128], err[512] = "";

	snprintf(path, sizeof(path), "%s/hotswap.db", dir);
	if (hsd_db_open(path, &db, err, sizeof(err)))
		fail_msg("reopening the database: %s", err);
	if (hsd_db_check(db, err, sizeof(err)))
		fail_msg("database check: %s", err);
	hsd_db_close(db);
}

/* ---- the sweep --------------------------------------------------------- */

/* What must hold of the daemon's answers once the fault has passed. */
typedef void (*after_fn)(void);

struct sweep_stats { unsigned long runs, ok, oom, closed; };

/*
 * "fail the Nth allocation" for N = 1, 2, ... over one request, until a
 * run in which no allocation failed (then it must equal the baseline).
 * same: a success must return exactly the baseline's result (read-only
 * requests); restore puts the chassis back after each run.
 */
static void sweep(const char *method, const char *params, bool same,
		  after_fn restore, after_fn check)
{
	json_t *base;
	struct sweep_stats st = { 0 };

	if (only && strcmp(only, method))
		return;
	base = must(method, params);

	if (restore)
		restore();
	/* Every allocation of the first 200, then a stride growing with n
	 * (a listing makes thousands, most of them alike). */
	for (unsigned long n = 1;; n += n < 200 ? 1 : n / 50) {
		json_t *r, *res;
		unsigned long hit;

		if (verbose)
			printf("# %s: allocation %lu fails\n", method, n),
			fflush(stdout);
		hsd_fault_arm(n, false);
		r = call(method, params);
		hit = hsd_fault_disarm();
		st.runs++;
		last_answered = r && json_object_get(r, "result");
		/* Closed, or told the reply could not be built: the outcome
		 * is not known to the client. */
		last_maybe_done = !r || (err_message(r) &&
					 strstr(err_message(r),
						"may have been done"));
		if (!r) {
			/* Closed: the reply itself could not be written. */
			if (!hit)
				fail_msg("%s: connection closed without a fault",
					 method);
			st.closed++;
			client();
		} else if ((res = json_object_get(r, "result"))) {
			if (same && !json_equal(res, base)) {
				char *a = json_dumps(res, JSON_COMPACT);
				char *b = json_dumps(base, JSON_COMPACT);

				fail_msg("%s, allocation %lu failed: the reply "
					 "differs from the one without a fault:\n"
					 "  %s\n  %s", method, n, a, b);
			}
			st.ok++;
		} else {
			const char *msg = err_message(r);

			if (!hit || !names_oom(msg)) {
				char *t = json_dumps(r, JSON_COMPACT);

				fail_msg("%s, allocation %lu failed (%lu "
					 "injected): error not naming out of "
					 "memory: %s", method, n, hit, t);
			}
			if (verbose)
				printf("#   %s\n", msg);
			st.oom++;
		}
		json_decref(r);
		/* What the run left, then the daemon answers as before. */
		if (check)
			check();
		if (restore)
			restore();
		if (!hit)
			break;
	}
	json_decref(base);
	if (verbose)
		printf("# %s: %lu runs: %lu answered, %lu out of memory, %lu "
		       "closed\n", method, st.runs, st.ok, st.oom, st.closed);
	assert_true(st.runs > 1);
}

/* ---- what is checked after each fault ------------------------------- */

static json_t *status_before;

static void status_same(void)
{
	json_t *s = must("slot.list", NULL);

	if (!json_equal(s, status_before)) {
		char *a = json_dumps(s, JSON_COMPACT);
		char *b = json_dumps(status_before, JSON_COMPACT);

		fail_msg("after the fault the slots read:\n  %s\nbefore:\n  %s",
			 a, b);
	}
	json_decref(s);
}

/* ---- the cases ---------------------------------------------------------- */

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/hotswap-faults.XXXXXX");
	assert_non_null(mkdtemp(dir));
	config();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

/* Starting hotswapd: every allocation of the start in turn. */
static void start_sweep(void **state)
{
	char err[512];
	unsigned long n, total, failed = 0, step = 1;

	if (only && strcmp(only, "start"))
		skip();

	/* A first start creates the database; the sweep is over restarts,
	 * and then over a first start (no database). */
	for (int round = 0; round < 2; round++) {
		if (round == 1) {
			char path[128];

			snprintf(path, sizeof(path), "%s/hotswap.db", dir);
			unlink(path);
		}
		hsd_fault_count(true);
		n = hsd_fault_allocs();
		assert_int_equal(start(err, sizeof(err)), 0);
		stop();
		total = hsd_fault_allocs() - n;
		hsd_fault_count(false);
		/* Thousands (jansson reads the chassis and its catalog):
		 * every one of the first 200, then a stride that still
		 * lands in every phase. */
		for (n = 1; n <= total + 1; n += step) {
			unsigned long hit;
			int rc;

			if (round == 1)
				unlink(cfg.socket);
			err[0] = '\0';
			rc = start_nth(n, err, sizeof(err));
			hit = hsd_fault_disarm();
			if (rc) {
				if (!hit)
					fail_msg("start failed without a fault: %s",
						 err);
				/* jansson reports running out of memory in
				 * its parser as a syntax error, and
				 * platforms/sim/topology.c passes it on as
				 * malformed JSON (not service/'s; left to its
				 * owner).  The start after it must work. */
				if (!names_oom(err) && rc != -ENOMEM &&
				    !strstr(err, "malformed JSON at line"))
					fail_msg("allocation %lu: start failed "
						 "with %d: '%s', not out of "
						 "memory", n, rc, err);
				failed++;
			} else {
				/* Started after all: it must work. */
				client();
				json_decref(must("status", NULL));
				stop();
			}
			/* A start after the failure works. */
			assert_int_equal(start(err, sizeof(err)), 0);
			client();
			json_decref(must("slot.list", NULL));
			stop();
			db_intact();
			step = n < 200 ? 1 : total / 100 + 1;
		}
		if (verbose)
			printf("# start (round %d): %lu allocations, %lu failed "
			       "starts\n", round, total, failed);
	}
	assert_true(failed > 0);
}

static void restore_nothing(void) { }

/* Read-only requests: the same answer or out of memory. */
static void read_sweeps(void **state)
{
	char err[512];

	if (only && !strcmp(only, "start"))
		skip();
	assert_int_equal(start(err, sizeof(err)), 0);
	client();
	/* Some history first: a card inserted and brought up. */
	json_decref(must("sim.insert", "{\"slot\":\"2\",\"card\":\"nic-1port\"}"));
	json_decref(must("sim.advance", "{\"ns\":100000000}"));
	json_decref(must("slot.add", "{\"slot\":\"2\"}"));
	status_before = must("slot.list", NULL);

	sweep("hello", NULL, true, NULL, status_same);
	sweep("slot.list", NULL, true, NULL, status_same);
	sweep("slot.show", "{\"slot\":\"2\"}", true, NULL, status_same);
	sweep("device.list", NULL, true, NULL, status_same);
	sweep("device.show", "{\"device\":\"net0\"}", true, NULL, status_same);
	sweep("events.history", "{\"limit\":20}", true, NULL, status_same);
	sweep("policy.rules", NULL, true, NULL, status_same);
	sweep("policy.decisions", NULL, true, NULL, status_same);
	sweep("policy.generate", NULL, true, NULL, status_same);
	/* Answers carry the time, so not the same answer each run. */
	sweep("report", NULL, false, NULL, status_same);
	sweep("status", NULL, false, NULL, status_same);
	sweep("sim.catalog", NULL, true, NULL, status_same);
	(void)restore_nothing;
	json_decref(status_before);
	stop();
	db_intact();
}

/* ---- operator requests: each undone after every run ----------------- */

static const char *slot2_state(void)
{
	static char state[32];
	json_t *v = must("slot.show", "{\"slot\":\"2\"}");

	snprintf(state, sizeof(state), "%s",
		 json_string_value(json_object_get(v, "state")));
	json_decref(v);
	return state;
}

/* Slot 2's card up again (a removal the fault stopped half-way, or one
 * that went through). */
static void slot2_on(void)
{
	if (strcmp(slot2_state(), "on"))
		json_decref(must("slot.add", "{\"slot\":\"2\"}"));
	if (strcmp(slot2_state(), "on"))
		fail_msg("slot 2 is %s after slot.add", slot2_state());
}

static void slot2_off(void)
{
	if (!strcmp(slot2_state(), "on"))
		json_decref(must("slot.remove", "{\"slot\":\"2\"}"));
	if (strcmp(slot2_state(), "off"))
		fail_msg("slot 2 is %s after slot.remove", slot2_state());
}

static void attention_off(void)
{
	json_decref(must("slot.attention",
			 "{\"slot\":\"2\",\"indicator\":\"off\"}"));
}

static void authorize_net(void)
{
	json_t *v = must("device.show", "{\"device\":\"0000:10:00.0\"}");

	if (json_is_true(json_object_get(v, "blocked")))
		json_decref(must("authorize", "{\"device\":\"0000:10:00.0\"}"));
	json_decref(v);
}

static void unsubscribe(void)
{
	json_decref(must("events.unsubscribe", NULL));
}

/* The next request still answered, and slot 2 as the operator left it. */
static void answers(void)
{
	json_decref(must("status", NULL));
}

/* The history the daemon kept is gap-free: every seq from the first. */
static void history_whole(void)
{
	json_t *h = must("events.history", "{\"after\":0,\"limit\":100000}");
	json_int_t want = 0;
	size_t i;
	json_t *e;

	json_array_foreach(h, i, e) {
		json_int_t seq = json_integer_value(json_object_get(e, "seq"));

		if (want && seq != want)
			fail_msg("history: event %lld follows %lld",
				 (long long)seq, (long long)want - 1);
		want = seq + 1;
	}
	json_decref(h);
}

static unsigned long lines_of(const char *name)
{
	char path[128], line[256];
	unsigned long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

/* A removal that went through had asked the agent first: one that
 * could not be asked (out of memory) is refused, never taken as yes. */
static void removal_asked(void)
{
	static unsigned long asked;
	unsigned long now = lines_of("asked");

	if (verbose)
		printf("# asked %lu -> %lu, answered %d\n", asked, now,
		       last_answered);
	if (last_answered && now == asked)
		fail_msg("slot.remove went through without asking the agent");
	/* Told it failed (not merely that its reply could not be built):
	 * the card is still up. */
	if (!last_answered && !last_maybe_done && strcmp(slot2_state(), "on"))
		fail_msg("slot.remove failed, and slot 2 is %s", slot2_state());
	asked = now;
}

static void action_sweeps(void **state)
{
	char err[512];

	char path[128];

	if (only && !strcmp(only, "start"))
		skip();
	/* An agent asked before every removal: its runs (uv_spawn, pipes,
	 * its output) are in the sweep; device events queue for it and
	 * find nothing to run (a spawn under ASan costs ~20 ms). */
	snprintf(path, sizeof(path), "%s/agents", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	write_file("agents/50-ask.agent",
		   "#!/bin/sh\n"
		   "# hotswap-match: ACTION=query-remove\n"
		   "echo \"$ACTION $HOTSWAP_SLOT\"\n"
		   "[ \"$ACTION\" != query-remove ] || echo \"$HOTSWAP_SLOT\" "
		   ">>\"$HOTSWAP_RUNTIME_DIR\"/asked\n");
	snprintf(path, sizeof(path), "%s/agents/50-ask.agent", dir);
	assert_int_equal(chmod(path, 0755), 0);
	assert_int_equal(start(err, sizeof(err)), 0);
	client();
	json_decref(must("sim.insert", "{\"slot\":\"2\",\"card\":\"nic-1port\"}"));
	json_decref(must("sim.advance", "{\"ns\":100000000}"));
	json_decref(must("slot.add", "{\"slot\":\"2\"}"));

	sweep("slot.attention", "{\"slot\":\"2\",\"indicator\":\"blink\"}",
	      false, attention_off, answers);
	sweep("device.block", "{\"device\":\"0000:10:00.0\"}", false,
	      authorize_net, answers);
	sweep("events.subscribe", "{\"after\":0}", false, unsubscribe,
	      answers);
	last_answered = false;
	last_maybe_done = true;
	removal_asked();        /* the count before the sweep */
	sweep("slot.remove", "{\"slot\":\"2\"}", false, slot2_on,
	      removal_asked);
	slot2_off();
	sweep("slot.add", "{\"slot\":\"2\"}", false, slot2_off, answers);
	slot2_on();
	sweep("sim.advance", "{\"ns\":1000000000}", false, NULL, answers);
	history_whole();
	stop();
	db_intact();
	/* A restart finds what the sweeps left: slot 2 up, its history. */
	assert_int_equal(start(err, sizeof(err)), 0);
	client();
	assert_string_equal(slot2_state(), "on");
	history_whole();
	stop();
}

/* ---- the HTTP endpoint ------------------------------------------------ */

static int http_port;
static char token[80];

/* A free loopback port for http_listen (bound, then let go). */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

struct http_answer {
	int status;             /* 0: closed without a response */
	char *body;             /* malloc'ed, NUL-terminated */
};

/* One request on a connection of its own, the loop run until the daemon
 * closes it (Connection: close). */
static struct http_answer http(const char *method, const char *path,
			       const char *body)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)http_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct http_answer a = { 0, NULL };
	static char buf[4 << 20];
	size_t len = 0;
	double until = now_s() + 5;
	char req[1024];
	int fd, n;
	char *p;

	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		     "Authorization: Bearer %s\r\nConnection: close\r\n"
		     "Content-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n%s", method, path, token,
		     body ? strlen(body) : 0, body ? body : "");
	snprintf(current, sizeof(current), "%s %s", method, path);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	/* Loopback: the kernel completes the handshake on its own. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		fail_msg("connect to port %d: %m", http_port);
	assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t got;

		uv_run(&loop, UV_RUN_NOWAIT);
		if (len == sizeof(buf) - 1)
			fail_msg("%s: a response of over 4 MiB", current);
		got = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (got > 0) {
			len += (size_t)got;
			continue;
		}
		if (got == 0 || (errno != EAGAIN && errno != EINTR))
			break;
		if (now_s() > until)
			fail_msg("no response in 5 s to %s", current);
		poll(&pf, 1, 1);
	}
	close(fd);
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.1 %d", &a.status) != 1)
		a.status = 0;
	p = strstr(buf, "\r\n\r\n");
	a.body = strdup(p ? p + 4 : "");
	assert_non_null(a.body);
	return a;
}

/*
 * The same sweep through the endpoint: each run answers as without a
 * fault (same: the same body), or 500 with a JSON error naming out of
 * memory, or closes the connection without a response; after it, the
 * slots read the same.
 */
static void http_sweep(const char *method, const char *path,
		       const char *body, bool same, after_fn restore)
{
	struct http_answer base, slots, a;
	struct sweep_stats st = { 0 };

	if (only && strcmp(only, path))
		return;
	slots = http("GET", "/api/v1/slots", NULL);
	assert_int_equal(slots.status, 200);
	base = http(method, path, body);
	if (base.status != 200)
		fail_msg("%s %s: %d %s", method, path, base.status, base.body);
	if (restore)
		restore();
	for (unsigned long n = 1;; n += n < 200 ? 1 : n / 50) {
		struct http_answer now;
		unsigned long hit;

		if (verbose)
			printf("# %s %s: allocation %lu fails\n", method, path,
			       n), fflush(stdout);
		hsd_fault_arm(n, false);
		a = http(method, path, body);
		hit = hsd_fault_disarm();
		st.runs++;
		if (!a.status) {
			if (!hit)
				fail_msg("%s %s: closed without a fault",
					 method, path);
			st.closed++;
		} else if (a.status == 200) {
			if (same && strcmp(a.body, base.body)) {
				size_t at = 0;

				while (a.body[at] && a.body[at] == base.body[at])
					at++;
				at = at > 200 ? at - 200 : 0;
				fail_msg("%s %s, allocation %lu failed: the "
					 "body differs from the one without a "
					 "fault, from byte %zu:\n  %.400s\n  "
					 "%.400s", method, path, n, at,
					 a.body + at, base.body + at);
			}
			st.ok++;
		} else {
			if (!hit || a.status != 500 || !names_oom(a.body))
				fail_msg("%s %s, allocation %lu failed (%lu "
					 "injected): %d %s", method, path, n,
					 hit, a.status, a.body);
			if (verbose)
				printf("#   %d %s\n", a.status, a.body);
			st.oom++;
		}
		free(a.body);
		if (restore)
			restore();
		now = http("GET", "/api/v1/slots", NULL);
		if (now.status != 200 || strcmp(now.body, slots.body))
			fail_msg("after %s %s with allocation %lu failing, the "
				 "slots read:\n  %d %.2000s\nbefore:\n  %.2000s",
				 method, path, n, now.status, now.body,
				 slots.body);
		free(now.body);
		if (!hit)
			break;
	}
	free(base.body);
	free(slots.body);
	if (verbose)
		printf("# %s %s: %lu runs: %lu answered, %lu out of memory, "
		       "%lu closed\n", method, path, st.runs, st.ok, st.oom,
		       st.closed);
	assert_true(st.runs > 1);
}

static void attention_off_http(void)
{
	json_decref(must("slot.attention",
			 "{\"slot\":\"2\",\"indicator\":\"off\"}"));
}

/* Reads and writes through the HTTP endpoint (REST, Redfish, metrics). */
static void http_sweeps(void **state)
{
	char err[512], path[128];
	FILE *f;

	if (only && (!strcmp(only, "start") || only[0] != '/'))
		skip();
	http_port = free_port();
	snprintf(cfg.http_listen, sizeof(cfg.http_listen), "127.0.0.1:%d",
		 http_port);
	assert_int_equal(start(err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/http.token", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(token, sizeof(token), f));
	fclose(f);
	token[strcspn(token, "\n")] = '\0';
	client();
	json_decref(must("sim.insert", "{\"slot\":\"2\",\"card\":\"nic-1port\"}"));
	json_decref(must("sim.advance", "{\"ns\":100000000}"));
	json_decref(must("slot.add", "{\"slot\":\"2\"}"));

	http_sweep("GET", "/api/v1/slots", NULL, true, NULL);
	http_sweep("GET", "/api/v1/slots/2", NULL, true, NULL);
	http_sweep("GET", "/api/v1/devices", NULL, true, NULL);
	http_sweep("GET", "/api/v1/events?limit=5&slot=2", NULL, true, NULL);
	http_sweep("GET", "/api/v1/status", NULL, false, NULL);
	http_sweep("GET", "/metrics", NULL, false, NULL);
	http_sweep("GET", "/redfish/v1/Chassis/1", NULL, true, NULL);
	http_sweep("GET", "/redfish/v1/Chassis/1/PCIeDevices", NULL, true,
		   NULL);
	http_sweep("GET", "/redfish/v1/Chassis/1/PCIeSlots", NULL, true,
		   NULL);
	http_sweep("GET", "/redfish/v1/Chassis/1/PCIeDevices/Slot2", NULL,
		   true, NULL);
	http_sweep("GET", "/redfish/v1/Chassis/1/PCIeDevices/Slot2/"
		   "PCIeFunctions", NULL, true, NULL);
	http_sweep("GET", "/redfish/v1/Chassis/1/PCIeDevices/Slot2/"
		   "PCIeFunctions/0", NULL, true, NULL);
	http_sweep("POST", "/api/v1/slots/2/attention",
		   "{\"indicator\":\"blink\"}", false, attention_off_http);
	http_sweep("PATCH", "/redfish/v1/Chassis/1/PCIeDevices/Slot2",
		   "{\"LocationIndicatorActive\":true}", false,
		   attention_off_http);
	stop();
	cfg.http_listen[0] = '\0';
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(start_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(read_sweeps, setup, teardown),
		cmocka_unit_test_setup_teardown(action_sweeps, setup, teardown),
	};
	/* The HTTP endpoint's sweeps: their own ctest (argument "http"). */
	const struct CMUnitTest http_tests[] = {
		cmocka_unit_test_setup_teardown(http_sweeps, setup, teardown),
	};
	bool http_only = argc > 1 && !strcmp(argv[1], "http");
	int rc = 0;

	verbose = argc > 1 && !strcmp(argv[1], "-v");
	only = verbose && argc > 2 ? argv[2] : NULL;
	signal(SIGPIPE, SIG_IGN);
	if (hsd_fault_route_libraries()) {
		fprintf(stderr, "service_faults: SQLite was used before the "
			"fault hook could be installed\n");
		return 1;
	}
	/* -v runs both, each sweep filtered by its name. */
	if (!http_only)
		rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (http_only || verbose)
		rc |= cmocka_run_group_tests(http_tests, NULL, NULL);
	return rc;
}
