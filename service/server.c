/*
 * server.c - hotswapd's control socket: listening, access control from
 * the peer's credentials, newline-delimited JSON framing, and writing
 * replies and events to clients.
 *
 * Owns: struct hsd_client's life: accepted, greeted, fed requests,
 * closed (when the peer goes, when it sends too much, when the service
 * stops).  A client that disconnects while requests are in flight is kept
 * until they finish; their replies are dropped.  No client can stall or
 * bloat the daemon: each gets a few request lines per loop turn, history
 * replay runs in chunks paced by the client's reading, and one that leaves
 * too much output unread or has too many requests in progress is cut off
 * with an error (and counted).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include "daemon_internal.h"
#include "alloc.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

/* A request line longer than this closes the connection. */
#define MAX_REQUEST (256u * 1024)
/* Unsent output (replies and events) a client may leave unread: one more
 * message over this cuts it off (`too-slow`), so a client that sends
 * requests and never reads costs the daemon at most about this much. */
#define MAX_QUEUED (1u * 1024 * 1024)
/* History replay sends its next chunk only while the client's unsent
 * output is under this (it waits for the client to read, it is never cut
 * off for a replay). */
#define REPLAY_LOW (128u * 1024)
#define REPLAY_CHUNK 128u
/* Requests one client may have in progress (operator requests waiting
 * for the hardware); one more cuts it off (`too-many-requests`). */
#define MAX_PENDING 64u
/* Request lines handled per client per loop turn; the rest wait (reading
 * paused) until every other client has had its turn. */
#define LINES_PER_TURN 8u
/* Left-over work done per loop turn for all clients together, in
 * replayed events; a request line counts as LINE_COST of them. */
#define TURN_BUDGET 256u
#define LINE_COST 8u
/* A cut-off client gets this long to take its error line, then it is
 * closed whether it read it or not. */
#define DRAIN_MS 5000u

static void handle_closed(uv_handle_t *h)
{
	struct hsd *d = h->data;

	d->open_handles--;
}

void hsd_handle_close(struct hsd *d, uv_handle_t *h)
{
	h->data = d;
	if (!uv_is_closing(h))
		uv_close(h, handle_closed);
}

/* ---- access --------------------------------------------------------------- */

static bool in_group(struct hsd *d, struct hsd_client *c, int fd)
{
	gid_t some[64], *groups = some;
	socklen_t len = sizeof(some);
	bool found = false;
	int rc;

	if (!d->have_group)
		return false;
	if (c->gid == d->group)
		return true;
	/* Supplementary groups of the peer as the kernel saw them when it
	 * connected (SO_PEERGROUPS, Linux 4.13).  ERANGE says how much room
	 * all of them need (up to NGROUPS_MAX, 65536): every one is
	 * checked, not just the first few. */
	rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);
	if (rc && errno == ERANGE && len > sizeof(some)) {
		groups = hsd_malloc(len);
		if (!groups)
			return false;
		rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);
	}
	if (rc == 0)
		for (size_t i = 0; i < len / sizeof(gid_t) && !found; i++)
			found = groups[i] == d->group;
	if (groups != some)
		free(groups);
	return found;
}

static enum hsd_access access_of(struct hsd *d, struct hsd_client *c, int fd)
{
	if (c->uid == 0 || c->uid == geteuid() || in_group(d, c, fd))
		return HSD_ACC_ADMIN;
	return d->cfg.read_only_others ? HSD_ACC_READ : HSD_ACC_NONE;
}

/* ---- work left for later turns -------------------------------------------- */

static size_t queued(struct hsd_client *c)
{
	if (c->sink)            /* an in-process client: nothing queued */
		return 0;
	return uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe);
}

static bool has_work(struct hsd_client *c)
{
	return !c->closing && !c->draining &&
	       (c->paused || (c->replaying && queued(c) < REPLAY_LOW));
}

static void idle_cb(uv_idle_t *h);
static void reaper_cb(uv_timer_t *t);

static void kick(struct hsd *d)
{
	if (d->server_open && !d->srv_idle_on) {
		uv_idle_start(&d->srv_idle, idle_cb);
		d->srv_idle_on = true;
	}
}

/* ---- writing --------------------------------------------------------------- */

struct wreq {
	uv_write_t req;
	char *buf;
};

static void write_done(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct hsd_client *c = req->handle->data;

	(void)status;
	free(w->buf);
	free(w);
	/* A replay waiting for the client to read goes on now. */
	if (c && has_work(c))
		kick(c->d);
}

static void client_close(struct hsd_client *c);
static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* An in-process client (hsd_client_local) takes JSON, line by line. */
static void sink_text(struct hsd_client *c, char *text, size_t n)
{
	for (size_t at = 0; at < n && c->sink;) {
		char *nl = memchr(text + at, '\n', n - at);
		size_t len = nl ? (size_t)(nl - text) - at : n - at;
		json_t *m = hsd_loadb(text + at, len, 0, NULL);

		if (m)
			c->sink(c, m);
		at += len + 1;
	}
	free(text);
}

/* Queue one line (text of n bytes, a newline is added); takes text.  A
 * replay chunk is several lines in one text. */
static void send_text(struct hsd_client *c, char *text, size_t n)
{
	struct wreq *w;
	uv_buf_t b;

	if (c->sink) {
		sink_text(c, text, n);
		return;
	}
	w = hsd_malloc(sizeof(*w));

	/* A line that cannot be queued (out of memory) closes the client:
	 * it sees the end of the stream, never a reply silently missing. */
	if (!w || !(w->buf = hsd_realloc(text, n + 1))) {
		free(w);
		free(text);
		client_close(c);
		return;
	}
	w->buf[n] = '\n';
	b = uv_buf_init(w->buf, (unsigned)(n + 1));
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, write_done)) {
		free(w->buf);
		free(w);
		client_close(c);
	}
}

static void send_json(struct hsd_client *c, json_t *msg)
{
	char *text = hsd_dumps(msg, JSON_COMPACT);

	json_decref(msg);
	if (text)
		send_text(c, text, strlen(text));
	else if (!c->sink)
		client_close(c);
}

/* Everything queued, the error last, is written: the client has it. */
static void shutdown_done(uv_shutdown_t *sh, int status)
{
	struct hsd_client *c = sh->handle->data;

	(void)status;
	free(sh);
	if (c)
		client_close(c);
}

/* Cut a client off: its error line is queued behind what it has not read
 * yet, nothing more is read from it or sent to it, and it is closed once
 * that is written (or after DRAIN_MS, or when the service stops). */
static void cut_off(struct hsd_client *c, const char *code, int err,
		    const char *why)
{
	struct hsd *d = c->d;
	uv_shutdown_t *sh;

	if (c->closing || c->draining)
		return;
	if (c->sink) {          /* nothing queued: cannot happen; closed */
		client_close(c);
		return;
	}
	d->clients_cut_off++;
	hsd_log(d, LOG_WARNING, "client %lu (pid %d uid %u) cut off: %s "
		"(%lu cut off so far)", c->id, (int)c->pid, (unsigned)c->uid,
		why, d->clients_cut_off);
	c->draining = true;
	c->subscribed = false;
	c->replaying = false;
	c->drain_since = uv_now(d->loop);
	if (c->paused) {
		c->paused = false;
		uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb);
	}
	send_json(c, err ? hsd_error(NULL, code, err, "%s", why)
			 : json_pack("{s:{s:s, s:s}}", "error", "code", code,
				     "message", why));
	if (c->closing)
		return;
	sh = hsd_malloc(sizeof(*sh));
	if (!sh || uv_shutdown(sh, (uv_stream_t *)&c->pipe, shutdown_done)) {
		free(sh);
		client_close(c);
		return;
	}
	if (!d->srv_reaper_on) {
		uv_timer_start(&d->srv_reaper, reaper_cb, DRAIN_MS / 2, DRAIN_MS / 2);
		d->srv_reaper_on = true;
	}
}

void hsd_client_send(struct hsd_client *c, json_t *msg)
{
	/* A reply or event that could not be built: the client would wait
	 * for it forever; it is told, and cut off. */
	if (!msg) {
		cut_off(c, "failed", ENOMEM, "out of memory: a reply or "
			"event could not be built");
		return;
	}
	/* jansson's setters fail quietly: a result built while an
	 * allocation failed may lack a member, and would pass for whole. */
	if (c->dispatching && hsd_alloc_failures() != c->dispatch_failures &&
	    json_object_get(msg, "result")) {
		json_t *e = hsd_error(json_object_get(msg, "id"), "failed",
				      ENOMEM, "%s", HSD_REPLY_OOM);

		json_decref(msg);
		if (!e) {
			cut_off(c, "failed", ENOMEM, "out of memory: a reply "
				"could not be built");
			return;
		}
		msg = e;
	}
	if (c->closing || c->draining) {
		json_decref(msg);
		return;
	}
	if (c->sink) {
		c->sink(c, msg);
		return;
	}
	if (queued(c) > MAX_QUEUED) {
		json_decref(msg);
		cut_off(c, "too-slow", 0, "more than 1 MiB of replies and "
			"events not read: disconnected");
		return;
	}
	send_json(c, msg);
}

void hsd_broadcast_event(struct hsd *d, json_t *ev)
{
	json_t *msg = json_pack("{s:O}", "event", ev);
	char *text = msg ? hsd_dumps(msg, JSON_COMPACT) : NULL;
	size_t n = text ? strlen(text) : 0;

	json_decref(msg);
	/* Dumped once, copied to each subscriber.  A subscriber that would
	 * miss it is cut off: it may subscribe again from the history (the
	 * event is stored before it is broadcast), without a gap. */
	for (struct hsd_client *c = d->clients; c; c = c->next) {
		char *copy;

		/* A client still replaying gets this event from the history
		 * (it is stored before it is broadcast). */
		if (!c->subscribed || c->closing || c->draining ||
		    c->replaying)
			continue;
		if (queued(c) > MAX_QUEUED) {
			cut_off(c, "too-slow", 0, "more than 1 MiB of replies "
				"and events not read: disconnected");
			continue;
		}
		if (!text || !(copy = hsd_malloc(n + 1))) {
			cut_off(c, "failed", ENOMEM, "out of memory: an event "
				"could not be sent; subscribe again from the "
				"last one received");
			continue;
		}
		memcpy(copy, text, n);
		send_text(c, copy, n);
	}
	free(text);
}

/* ---- history replay ------------------------------------------------------- */

struct replay {
	struct hsd_client *c;
	unsigned n;
	char *buf;              /* the chunk's lines, written at once */
	size_t len, cap;
};

static int replay_row(void *arg, const struct hsd_event_row *ev)
{
	struct replay *r = arg;
	size_t n = strlen(ev->json);

	if (r->len + n + 11 > r->cap) {
		size_t cap = (r->len + n + 11) * 2;
		char *p = hsd_realloc(r->buf, cap);

		if (!p)
			return -ENOMEM;
		r->buf = p;
		r->cap = cap;
	}
	r->n++;
	r->c->replay_after = ev->seq;
	/* The stored text is the event's JSON object as published. */
	memcpy(r->buf + r->len, "{\"event\":", 9);
	memcpy(r->buf + r->len + 9, ev->json, n);
	memcpy(r->buf + r->len + 9 + n, "}\n", 2);
	r->len += n + 11;
	return 0;
}

/* Up to max events; returns how many were sent. */
static unsigned replay_chunk(struct hsd_client *c, unsigned max)
{
	struct replay r = { c, 0, NULL, 0, 0 };
	int rc;

	if (!c->subscribed) {
		c->replaying = false;
		return 0;
	}
	rc = hsd_db_events(c->d->db, c->replay_after, NULL, INT64_MIN, max,
			   replay_row, &r);
	if (rc < 0)
		hsd_log(c->d, LOG_ERR, "client %lu: replaying the history: "
			"%s", c->id, rc == -ENOMEM ? strerror(ENOMEM)
						   : hsd_db_errmsg(c->d->db));
	if (r.len)                      /* send_text adds the last newline */
		send_text(c, r.buf, r.len - 1);
	else
		free(r.buf);
	/* Fewer than asked: caught up.  No event can be published between
	 * the query and here (one loop callback), so live events go on from
	 * exactly where the replay stopped. */
	if (rc < 0 || r.n < max)
		c->replaying = false;
	return r.n;
}

void hsd_client_replay(struct hsd_client *c, uint64_t after)
{
	c->replaying = false;           /* a new subscription restarts it */
	if (c->closing || c->draining || after >= c->d->seq)
		return;
	c->replay_after = after;
	c->replaying = true;
	kick(c->d);             /* from the next turn on, in chunks */
}

/* ---- client life ---------------------------------------------------------- */

static void client_free(struct hsd_client *c)
{
	struct hsd *d = c->d;

	for (struct hsd_client **pp = &d->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c->in);
	free(c);
}

static void client_closed(uv_handle_t *h)
{
	struct hsd_client *c = h->data;

	c->d->open_handles--;
	if (!c->refs)
		client_free(c);
	else
		c->pipe.data = NULL;   /* freed by the last unref */
}

static void client_close(struct hsd_client *c)
{
	if (c->closing)
		return;
	c->closing = true;
	c->subscribed = false;
	c->replaying = false;
	if (c->sink) {          /* its owner frees it: hsd_client_local_close */
		c->sink = NULL;
		return;
	}
	uv_read_stop((uv_stream_t *)&c->pipe);
	uv_close((uv_handle_t *)&c->pipe, client_closed);
}

struct hsd_client *hsd_client_local(struct hsd *d, enum hsd_access access,
				    void (*sink)(struct hsd_client *c,
						 json_t *msg),
				    void *arg)
{
	struct hsd_client *c = hsd_calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->d = d;
	c->access = access;
	c->uid = geteuid();     /* acts with the service's authority */
	c->gid = getegid();
	c->pid = getpid();
	c->id = ++d->nclients_ever;
	c->sink = sink;
	c->sink_arg = arg;
	c->next = d->clients;
	d->clients = c;
	return c;
}

void hsd_client_local_close(struct hsd_client *c)
{
	c->closing = true;
	c->subscribed = false;
	c->sink = NULL;
	/* pipe.data stays NULL for a local client: the last unref frees it */
	if (!c->refs)
		client_free(c);
}

void hsd_client_ref(struct hsd_client *c)
{
	c->refs++;
}

void hsd_client_unref(struct hsd_client *c)
{
	if (--c->refs == 0 && c->closing && !c->pipe.data)
		client_free(c);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct hsd_client *c = h->data;
	/* Small reads: 200 idle clients should not hold 64 KiB each. */
	size_t want = c->inlen + 16384;

	(void)hint;
	if (want > c->incap) {
		char *p = hsd_realloc(c->in, want);

		if (!p) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		c->in = p;
		c->incap = want;
	}
	*buf = uv_buf_init(c->in + c->inlen, (unsigned)(c->incap - c->inlen));
}

static void handle_line(struct hsd_client *c, char *line, size_t len)
{
	json_error_t je;
	const char *nul;
	unsigned long failures;
	json_t *req;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return;
	/* JSON text never contains a raw NUL (RFC 8259 section 7: control
	 * characters are escaped); the parser would stop at one and accept
	 * what came before it. */
	if ((nul = memchr(line, '\0', len))) {
		hsd_client_send(c, hsd_error(NULL, "parse-error", EINVAL,
					     "NUL byte at column %d",
					     (int)(nul - line) + 1));
		return;
	}
	if (c->refs >= MAX_PENDING) {
		char why[96];

		snprintf(why, sizeof(why), "more than %u requests in "
			 "progress: disconnected", MAX_PENDING);
		cut_off(c, "too-many-requests", EAGAIN, why);
		return;
	}
	failures = hsd_alloc_failures();
	req = hsd_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!req && (json_error_code(&je) == json_error_out_of_memory ||
		     hsd_alloc_failures() != failures)) {
		/* Not the client's fault, and its id is unknown: it learns
		 * that its requests from here on were not read. */
		cut_off(c, "failed", ENOMEM, "out of memory: a request could "
			"not be read; disconnected");
		return;
	}
	if (!req) {
		hsd_client_send(c, hsd_error(NULL, "parse-error", EINVAL,
					     "malformed JSON at column %d: %s",
					     je.column, je.text));
		return;
	}
	c->dispatching = true;
	c->dispatch_failures = failures;
	hsd_dispatch(c, req);
	c->dispatching = false;
	json_decref(req);
}

/* Handle at most max whole lines; then either read on, or, with lines
 * left, stop reading and wait for a later turn.  Returns how many. */
static unsigned take_lines(struct hsd_client *c, unsigned max)
{
	unsigned handled = 0;
	char *nl;

	while (!c->closing && !c->draining && c->inpos < c->inlen &&
	       (nl = memchr(c->in + c->inpos, '\n', c->inlen - c->inpos))) {
		size_t at = c->inpos;

		if (handled == max) {
			if (!c->paused) {
				uv_read_stop((uv_stream_t *)&c->pipe);
				c->paused = true;
			}
			kick(c->d);
			return handled;
		}
		handled++;
		c->inpos = (size_t)(nl - c->in) + 1;
		handle_line(c, c->in + at, (size_t)(nl - c->in) - at);
	}
	if (c->closing || c->draining)
		return handled;
	c->inlen -= c->inpos;
	memmove(c->in, c->in + c->inpos, c->inlen);
	c->inpos = 0;
	if (!c->inlen) {
		free(c->in);
		c->in = NULL;
		c->incap = 0;
	}
	if (c->inlen > MAX_REQUEST) {
		hsd_client_send(c, hsd_error(NULL, "too-large", E2BIG,
					     "request longer than %u bytes",
					     MAX_REQUEST));
		client_close(c);
		return handled;
	}
	if (c->paused) {
		c->paused = false;
		uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb);
	}
	return handled;
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct hsd_client *c = s->data;

	(void)buf;
	/* No buffer (out of memory): the bytes wait in the socket and the
	 * next turn of the loop reads them; the client stays. */
	if (n == UV_ENOBUFS)
		return;
	if (n < 0) {
		client_close(c);
		return;
	}
	/* A cut-off client's further requests are read and dropped, so a
	 * peer blocked writing them gets to read its error. */
	if (c->draining) {
		c->inlen = c->inpos = 0;
		return;
	}
	c->inlen += (size_t)n;
	take_lines(c, LINES_PER_TURN);
}

/* One turn of left-over work, bounded for all clients together (a
 * request line costs LINE_COST, a replayed event 1), taken round-robin
 * from where the last turn stopped.  Between turns the loop polls, so
 * fresh clients and live traffic wait for at most one bounded turn. */
static unsigned serve(struct hsd_client *c, unsigned budget)
{
	unsigned used = 0;

	if (c->paused) {
		unsigned max = budget / LINE_COST;

		used += take_lines(c, max < LINES_PER_TURN ? (max ? max : 1)
							   : LINES_PER_TURN) *
			LINE_COST;
	}
	if (!c->closing && c->replaying && queued(c) < REPLAY_LOW &&
	    used < budget) {
		unsigned max = budget - used;

		used += replay_chunk(c, max < REPLAY_CHUNK ? max
							   : REPLAY_CHUNK);
	}
	return used ? used : 1;
}

static void idle_cb(uv_idle_t *h)
{
	struct hsd *d = h->data;
	unsigned budget = TURN_BUDGET;
	bool more = false;

	/* The list runs from the newest client (highest id) down: first
	 * those at or below the cursor, then wrap to the newer ones. */
	for (int pass = 0; pass < 2 && budget; pass++)
		for (struct hsd_client *c = d->clients; c && budget;
		     c = c->next) {
			unsigned used;

			if ((c->id <= d->srv_cursor) != (pass == 0) ||
			    !has_work(c))
				continue;
			used = serve(c, budget);
			budget = used < budget ? budget - used : 0;
			d->srv_cursor = c->id - 1;
		}
	for (struct hsd_client *c = d->clients; c && !more; c = c->next)
		more = has_work(c);
	if (!more) {
		uv_idle_stop(h);
		d->srv_idle_on = false;
	}
}

/* Cut-off clients that did not take their error in time. */
static void reaper_cb(uv_timer_t *t)
{
	struct hsd *d = t->data;
	uint64_t now = uv_now(d->loop);
	bool any = false;

	for (struct hsd_client *c = d->clients; c; c = c->next) {
		if (!c->draining || c->closing)
			continue;
		if (now - c->drain_since >= DRAIN_MS)
			client_close(c);
		else
			any = true;
	}
	if (!any) {
		uv_timer_stop(t);
		d->srv_reaper_on = false;
	}
}

static void on_connect(uv_stream_t *server, int status)
{
	struct hsd *d = server->data;
	struct hsd_client *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;

	if (status < 0 || d->stopping)
		return;
	c = hsd_calloc(1, sizeof(*c));
	if (!c)
		return;
	c->d = d;
	uv_pipe_init(d->loop, &c->pipe, 0);
	c->pipe.data = c;
	d->open_handles++;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) ||
	    uv_fileno((uv_handle_t *)&c->pipe, &fd) ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
		c->closing = true;
		uv_close((uv_handle_t *)&c->pipe, client_closed);
		c->next = d->clients;
		d->clients = c;
		return;
	}
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->pid = cred.pid;
	c->id = ++d->nclients_ever;
	c->access = access_of(d, c, fd);
	c->next = d->clients;
	d->clients = c;
	hsd_log(d, LOG_DEBUG, "client %lu: pid %d uid %u access %s", c->id,
		(int)c->pid, (unsigned)c->uid,
		c->access == HSD_ACC_ADMIN ? "admin" :
		c->access == HSD_ACC_READ ? "read-only" : "none");
	/* The greeting: who we are, which protocol, what this peer may do. */
	hsd_client_send(c, json_pack("{s:{s:i, s:s, s:s, s:s, s:s}}",
				     "hello", "protocol", HSD_PROTOCOL,
				     "version", HOTSWAP_VERSION, "platform", d->be_ops->name,
				     "clock", d->cfg.virtual_clock
						      ? "virtual" : "realtime",
				     "access",
				     c->access == HSD_ACC_ADMIN ? "admin" :
				     c->access == HSD_ACC_READ ? "read-only"
							       : "none"));
	uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb);
}

int hsd_server_listen(struct hsd *d, char *err, size_t errlen)
{
	const char *path = d->cfg.socket;
	mode_t mode;
	int rc;

	if (d->cfg.socket_group[0]) {
		struct group *g = getgrnam(d->cfg.socket_group);

		if (g) {
			d->group = g->gr_gid;
			d->have_group = true;
		} else {
			hsd_log(d, LOG_WARNING, "socket_group '%s' does not "
				"exist: only root may use the socket",
				d->cfg.socket_group);
		}
	}
	/* A socket file left by a daemon that was killed: remove it, but
	 * never one a running daemon still answers on. */
	if (access(path, F_OK) == 0) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%.107s", path);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa,
				       sizeof(sa)) == 0) {
			close(fd);
			snprintf(err, errlen, "%s: another hotswapd is "
				 "listening there", path);
			return -EADDRINUSE;
		}
		if (fd >= 0)
			close(fd);
		unlink(path);
	}
	{
		/* libuv reports a missing directory as "permission denied"
		 * (bind's ENOENT becomes EACCES): say what is missing. */
		char dir[sizeof(d->cfg.socket)];
		char *slash;
		struct stat st;

		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
				snprintf(err, errlen, "%s: the directory %s %s",
					 path, dir, stat(dir, &st)
					 ? "does not exist" : "is not a directory");
				return -ENOENT;
			}
		}
	}
	uv_pipe_init(d->loop, &d->server, 0);
	d->server.data = d;
	d->open_handles++;
	if ((rc = uv_pipe_bind(&d->server, path)) ||
	    /* Hundreds of clients may connect at once; the kernel caps
	     * this at net.core.somaxconn (4096 since Linux 5.4). */
	    (rc = uv_listen((uv_stream_t *)&d->server, SOMAXCONN,
			    on_connect))) {
		snprintf(err, errlen, "%s: %s", path, uv_strerror(rc));
		hsd_handle_close(d, (uv_handle_t *)&d->server);
		d->server.data = d;
		return rc;
	}
	d->server.data = d;
	d->server_open = true;
	uv_idle_init(d->loop, &d->srv_idle);
	d->srv_idle.data = d;
	uv_timer_init(d->loop, &d->srv_reaper);
	d->srv_reaper.data = d;
	d->open_handles += 2;
	/* Access is decided from the peer's credentials on every
	 * connection; the file mode only keeps out those who could never
	 * be served. */
	mode = d->cfg.read_only_others ? 0666 : (d->have_group ? 0660 : 0600);
	if (d->have_group && chown(path, (uid_t)-1, d->group))
		hsd_log(d, LOG_WARNING, "chown %s: %s", path, strerror(errno));
	chmod(path, mode);
	hsd_log(d, LOG_INFO, "listening on %s (mode %04o%s%s)", path,
		(unsigned)mode, d->have_group ? ", group " : "",
		d->have_group ? d->cfg.socket_group : "");
	return 0;
}

void hsd_server_close(struct hsd *d)
{
	if (d->server_open) {
		d->server_open = false;
		hsd_handle_close(d, (uv_handle_t *)&d->server);
		d->server.data = d;
		unlink(d->cfg.socket);
		hsd_handle_close(d, (uv_handle_t *)&d->srv_idle);
		hsd_handle_close(d, (uv_handle_t *)&d->srv_reaper);
		d->srv_idle_on = d->srv_reaper_on = false;
	}
	for (struct hsd_client *c = d->clients; c; c = c->next)
		client_close(c);
}
