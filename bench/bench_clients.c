/*
 * bench_clients.c - hotswapd under 200 concurrent clients (issue #17):
 * the latency of a `status` from a fresh client and the daemon's memory.
 *
 * usage: hotswap-bench-clients [--hotswapd PATH] [--clients N]
 *                              [--seconds S] [--history EVENTS]
 *
 * Starts hotswapd (virtual clock, throw-away state directory), writes a
 * history of EVENTS operator events, then runs N clients at once from a
 * child process: readers (one request at a time: status, slot.list,
 * device.list, events.history), watchers (subscribe from event 0 and read
 * everything), slow readers (subscribe from event 0, never read), writers
 * (attention indicator on/off, one event each) and one flooding client
 * (pipelines status requests and `events.subscribe {"after":0}` without
 * reading, reconnecting whenever it is cut off).  Meanwhile this process
 * connects a fresh client every 10 ms and times connect + hello + status
 * + reply, and samples the daemon's VmRSS.  At the end it sends SIGTERM
 * with the load still running and times the exit.
 *
 * Prints p50/p99/max latency, RSS growth over the idle daemon's, connect
 * failures, clients cut off, and the SIGTERM exit time, each against the
 * issue's goal (p99 <= 10 ms, max <= 50 ms, growth <= 32 MiB, exit < 1 s).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char sock_path[PATH_MAX];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int connect_sock(bool nonblock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
				 (nonblock ? SOCK_NONBLOCK : 0), 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.107s", sock_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* Blocking: read until n newlines have arrived (0 on success). */
static int read_lines(int fd, int n)
{
	char buf[65536];

	while (n > 0) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r <= 0)
			return -1;
		for (ssize_t i = 0; i < r; i++)
			n -= buf[i] == '\n';
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* ---- the load (child process) ------------------------------------------- */

enum role { READER, WATCHER, SLOW, WRITER, FLOODER };

struct client {
	enum role role;
	int fd;
	unsigned long lines, sent;      /* lines read; requests sent */
	size_t out_at;                  /* flooder: position in its payload */
	double due;                     /* readers, writers: next request */
};

/* Readers and writers are paced like monitoring scripts and operators
 * (--rate requests per second each); the flooder is not. */
static double period_ms = 100;
static volatile sig_atomic_t load_stop, load_report;
static unsigned long answered, events_seen, reconnects;

static void on_load_stop(int sig)
{
	if (sig == SIGUSR1)
		load_report = 1;
	else
		load_stop = 1;
}

static const char *const reader_reqs[] = {
	"{\"id\":1,\"method\":\"status\"}\n",
	"{\"id\":2,\"method\":\"slot.list\"}\n",
	"{\"id\":3,\"method\":\"device.list\"}\n",
	"{\"id\":4,\"method\":\"events.history\",\"params\":{\"limit\":100}}\n",
};

static char *flood_payload;
static size_t flood_len;

static void client_start(struct client *c)
{
	static const char sub[] =
		"{\"id\":1,\"method\":\"events.subscribe\",\"params\":"
		"{\"after\":0}}\n";

	c->lines = c->sent = 0;
	c->out_at = 0;
	c->fd = connect_sock(false);
	if (c->fd < 0)
		return;
	if (c->role == WATCHER || c->role == SLOW)
		write_all(c->fd, sub, sizeof(sub) - 1);
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
}

static void client_next(struct client *c, unsigned i)
{
	char req[128];
	const char *r = req;

	if (c->role == READER) {
		r = reader_reqs[(i + c->sent) % 4];
	} else {
		snprintf(req, sizeof(req), "{\"id\":%lu,\"method\":"
			 "\"slot.attention\",\"params\":{\"slot\":\"1\","
			 "\"indicator\":\"%s\"}}\n", c->sent,
			 c->sent % 2 ? "on" : "off");
	}
	if (write_all(c->fd, r, strlen(r)) == 0)
		c->sent++;
	c->due = now_ms() + (c->role == WRITER ? 2.5 : 1) * period_ms;
}

static void load(unsigned n, int report_fd)
{
	struct client *cl = calloc(n, sizeof(*cl));
	struct pollfd *pf = calloc(n, sizeof(*pf));
	char buf[65536];
	size_t at = 0;

	if (!cl || !pf)
		_exit(1);
	/* The payload the flooder pours: status and replay-from-0 requests. */
	flood_payload = malloc(2000 * 80);
	if (!flood_payload)
		_exit(1);
	for (unsigned i = 0; i < 2000; i++)
		at += (size_t)sprintf(flood_payload + at, i % 2 ?
				      "{\"id\":%u,\"method\":\"status\"}\n" :
				      "{\"id\":%u,\"method\":\"events."
				      "subscribe\",\"params\":{\"after\":0}}\n",
				      i);
	flood_len = at;
	/* 1 flooder, 20% watchers, 20% slow readers, 10% writers, readers. */
	for (unsigned i = 0; i < n; i++) {
		cl[i].role = i == 0 ? FLOODER : i % 10 < 2 ? WATCHER :
			     i % 10 < 4 ? SLOW : i % 10 == 4 ? WRITER : READER;
		client_start(&cl[i]);
		cl[i].due = now_ms() + period_ms * i / n;
	}
	signal(SIGTERM, on_load_stop);
	signal(SIGUSR1, on_load_stop);
	while (!load_stop) {
		double t = now_ms();

		if (load_report) {
			load_report = 0;
			dprintf(report_fd, "%lu %lu %lu\n", answered,
				events_seen, reconnects);
		}

		for (unsigned i = 0; i < n; i++) {
			struct client *c = &cl[i];

			if (c->fd < 0) {
				reconnects++;
				client_start(c);
			}
			/* A paced client whose reply came sends when due. */
			if (c->fd >= 0 &&
			    (c->role == READER || c->role == WRITER) &&
			    c->lines >= c->sent + 1 && t >= c->due)
				client_next(c, i);
			pf[i].fd = c->fd;
			pf[i].events = c->role == SLOW ? 0 :
				       c->role == FLOODER ? POLLOUT : POLLIN;
		}
		if (poll(pf, n, 2) < 0 && errno != EINTR)
			_exit(1);
		for (unsigned i = 0; i < n; i++) {
			struct client *c = &cl[i];
			ssize_t r;

			if (c->fd < 0 || !pf[i].revents)
				continue;
			if (c->role == FLOODER) {
				if (pf[i].revents & (POLLERR | POLLHUP)) {
					close(c->fd);
					c->fd = -1;
					continue;
				}
				r = write(c->fd, flood_payload + c->out_at,
					  flood_len - c->out_at);
				if (r < 0 && errno != EAGAIN) {
					close(c->fd);
					c->fd = -1;
				} else if (r > 0) {
					c->out_at = (c->out_at + (size_t)r) %
						    flood_len;
				}
				continue;
			}
			r = read(c->fd, buf, sizeof(buf));
			if (r == 0 || (r < 0 && errno != EAGAIN)) {
				close(c->fd);
				c->fd = -1;
				continue;
			}
			for (ssize_t k = 0; k < r; k++) {
				if (buf[k] != '\n')
					continue;
				/* The first line is the greeting. */
				if (c->lines++ == 0)
					continue;
				if (c->role == WATCHER)
					events_seen++;
				else
					answered++;
			}
		}
	}
	_exit(0);
}

/* ---- the measurement (this process) --------------------------------------- */

/* One fresh client: connect, greeting, status, reply; ms or -1. */
static double probe(void)
{
	static const char st[] = "{\"id\":1,\"method\":\"status\"}\n";
	double t0 = now_ms(), ms = -1;
	int fd = connect_sock(false);

	if (fd >= 0 && write_all(fd, st, sizeof(st) - 1) == 0 &&
	    read_lines(fd, 2) == 0)
		ms = now_ms() - t0;
	if (fd >= 0)
		close(fd);
	return ms;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static pid_t start_daemon(const char *hotswapd, const char *dir)
{
	char state[PATH_MAX], rt[PATH_MAX], logp[PATH_MAX];
	pid_t pid;

	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(rt, sizeof(rt), "runtime_dir=%s", dir);
	snprintf(logp, sizeof(logp), "%s/daemon.log", dir);
	pid = fork();
	if (pid == 0) {
		int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(hotswapd, hotswapd, "--clock", "virtual", "--socket",
		      sock_path, "--state-dir", state, "--set", rt, "--set",
		      "socket_group=", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static unsigned long count_in_log(const char *dir, const char *what)
{
	char path[PATH_MAX], line[2048];
	unsigned long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/daemon.log", dir);
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, what) != NULL;
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	char hotswapd[PATH_MAX], dir[] = "/tmp/hotswap-bench.XXXXXX";
	char self[PATH_MAX];
	unsigned nclients = 200, seconds = 10, history = 3000;
	double *lat, t_end, next_rss;
	size_t nlat = 0, caplat = 100000, nbase = 0;
	double *base;
	unsigned long connect_fail = 0;
	long rss0, rss_max;
	pid_t dpid, lpid;
	int status, rc = 0, report[2];
	double t_load, rate = 10;
	unsigned long answered_all = 0, events_all = 0, reconn = 0;

	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(hotswapd, sizeof(hotswapd), "%s/hotswapd", dirname(self));
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hotswapd") && i + 1 < argc)
			snprintf(hotswapd, sizeof(hotswapd), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--clients") && i + 1 < argc)
			nclients = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
			rate = atof(argv[++i]);
		else if (!strcmp(argv[i], "--history") && i + 1 < argc)
			history = (unsigned)atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: %s [--hotswapd PATH] "
				"[--clients N] [--seconds S] [--history N] "
				"[--rate PER_SECOND]\n",
				argv[0]);
			return 2;
		}
	}
	if (nclients < 2 || !seconds || !(rate > 0 && rate <= 1000)) {
		fprintf(stderr, "bench-clients: --clients must be >= 2, "
			"--seconds >= 1, --rate in (0, 1000]\n");
		return 2;
	}
	period_ms = 1000.0 / rate;
	if (access(hotswapd, X_OK)) {
		fprintf(stderr, "bench-clients: %s: %s (give --hotswapd)\n",
			hotswapd, strerror(errno));
		return 2;
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/hotswapd.sock", dir);
	signal(SIGPIPE, SIG_IGN);
	dpid = start_daemon(hotswapd, dir);
	fprintf(stderr, "bench-clients: hotswapd pid %d, %s\n", (int)dpid, dir);
	for (int i = 0;; i++) {
		int fd = connect_sock(false);
		static const char st[] = "{\"id\":1,\"method\":\"status\"}\n";

		if (fd >= 0 && write_all(fd, st, sizeof(st) - 1) == 0 &&
		    read_lines(fd, 2) == 0) {
			close(fd);
			break;
		}
		if (fd >= 0)
			close(fd);
		if (i > 300 || waitpid(dpid, &status, WNOHANG) == dpid) {
			fprintf(stderr, "bench-clients: hotswapd did not start "
				"(see %s/daemon.log)\n", dir);
			return 1;
		}
		usleep(100000);
	}
	/* History to replay. */
	{
		int fd = connect_sock(false);
		char req[160];

		if (fd < 0 || read_lines(fd, 1))
			return 1;
		for (unsigned i = 0; i < history; i++) {
			snprintf(req, sizeof(req), "{\"id\":%u,\"method\":"
				 "\"slot.attention\",\"params\":{\"slot\":"
				 "\"1\",\"indicator\":\"%s\"}}\n", i,
				 i % 2 ? "on" : "off");
			if (write_all(fd, req, strlen(req)) ||
			    read_lines(fd, 1))
				return 1;
		}
		close(fd);
	}
	rss0 = rss_max = rss_kib(dpid);
	lat = malloc(caplat * sizeof(*lat));
	base = malloc(200 * sizeof(*base));
	if (!lat || !base)
		return 1;
	/* Baseline in the same run: the idle daemon, same probe, same
	 * machine (a loaded CI machine shows in both). */
	while (nbase < 200) {
		double ms = probe();

		if (ms >= 0)
			base[nbase++] = ms;
		usleep(10000);
	}
	qsort(base, nbase, sizeof(*base), cmp_double);
	if (pipe(report)) {
		perror("pipe");
		return 1;
	}
	t_load = now_ms();
	lpid = fork();
	if (lpid == 0) {
		close(report[0]);
		load(nclients, report[1]);
	}
	close(report[1]);
	usleep(500000);         /* let the 200 connect and start */
	t_end = now_ms() + seconds * 1e3;
	next_rss = 0;
	while (now_ms() < t_end && nlat < caplat) {
		double ms = probe();

		if (ms < 0)
			connect_fail++;
		else
			lat[nlat++] = ms;
		if (now_ms() >= next_rss) {
			long r = rss_kib(dpid);

			if (r > rss_max)
				rss_max = r;
			next_rss = now_ms() + 100;
		}
		usleep(10000);
	}
	/* The load's own figures, then SIGTERM with the load still on. */
	{
		double t0, t_exit = -1, t_rep = now_ms() - t_load;
		FILE *f = fdopen(report[0], "r");

		kill(lpid, SIGUSR1);
		if (!f || fscanf(f, "%lu %lu %lu", &answered_all,
				 &events_all, &reconn) != 3)
			fprintf(stderr, "bench-clients: no report from the "
				"load\n");
		if (f)
			fclose(f);
		t0 = now_ms();

		kill(dpid, SIGTERM);
		while (now_ms() - t0 < 10000) {
			if (waitpid(dpid, &status, WNOHANG) == dpid) {
				t_exit = now_ms() - t0;
				break;
			}
			usleep(1000);
		}
		kill(lpid, SIGTERM);
		waitpid(lpid, NULL, 0);
		if (t_exit < 0) {
			kill(dpid, SIGKILL);
			waitpid(dpid, &status, 0);
		}
		qsort(lat, nlat, sizeof(*lat), cmp_double);
		if (!nlat) {
			fprintf(stderr, "bench-clients: no status answered\n");
			return 1;
		}
		{
			double p50 = lat[nlat / 2];
			double p99 = lat[(nlat * 99) / 100];
			double max = lat[nlat - 1];
			double growth = (double)(rss_max - rss0) / 1024.0;

			printf("hotswapd, %u concurrent clients (1 flooding, "
			       "%u%% watchers, %u%% slow readers, %u%% "
			       "writers, the rest readers), %u s, history %u "
			       "events\n", nclients, 20, 20, 10, seconds,
			       history);
			printf("  load: readers %.0f/s and writers %.0f/s "
			       "each; %.0f requests answered/s, %.0f lines to "
			       "watchers/s, %lu reconnects (cut-off clients "
			       "coming back)\n", rate, rate / 2.5,
			       answered_all / (t_rep / 1e3),
			       events_all / (t_rep / 1e3),
			       reconn);
			printf("  status from a fresh client, idle daemon "
			       "(baseline): %zu samples, p50 %.2f ms, p99 "
			       "%.2f ms, max %.2f ms\n", nbase,
			       base[nbase / 2], base[(nbase * 99) / 100],
			       base[nbase - 1]);
			printf("  status from a fresh client under load: %zu "
			       "samples, p50 %.2f ms, p99 %.2f ms (goal <= 10: "
			       "%s), max %.2f ms (goal <= 50: %s); p99 %.1fx "
			       "the baseline's\n", nlat, p50, p99,
			       p99 <= 10 ? "met" : "MISSED", max,
			       max <= 50 ? "met" : "MISSED",
			       p99 / base[(nbase * 99) / 100]);
			printf("  daemon RSS: %.1f MiB idle, %.1f MiB peak, "
			       "growth %.1f MiB (goal <= 32: %s)\n",
			       rss0 / 1024.0, rss_max / 1024.0, growth,
			       growth <= 32 ? "met" : "MISSED");
			printf("  fresh connects or status failed: %lu; "
			       "clients cut off: %lu\n", connect_fail,
			       count_in_log(dir, "cut off:"));
			printf("  SIGTERM under load: %s%.0f ms (goal < 1000: "
			       "%s)\n", t_exit < 0 ? "no exit in 10 s, " : "",
			       t_exit < 0 ? 10000.0 : t_exit,
			       t_exit >= 0 && t_exit < 1000 ? "met" :
			       "MISSED");
		}
		if (t_exit < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			rc = 1;
	}
	free(lat);
	free(base);
	if (getenv("HOTSWAP_BENCH_KEEP")) {
		fprintf(stderr, "bench-clients: kept %s (daemon.log)\n", dir);
	} else {
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench-clients: could not remove "
				"%s\n", dir);
	}
	return rc;
}
