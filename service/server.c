/*
 * server.c - hotswapd's control socket: listening, access control from
 * the peer's credentials, newline-delimited JSON framing, and writing
 * replies and events to clients.
 *
 * Owns: struct hsd_client's life: accepted, greeted, fed requests,
 * closed (when the peer goes, when it sends too much, when the service
 * stops).  A client that disconnects while requests are in flight is kept
 * until they finish; their replies are dropped.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include "daemon_internal.h"

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
/* A subscriber this far behind is cut off rather than buffered forever. */
#define MAX_BACKLOG (16u * 1024 * 1024)

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
	gid_t groups[256];
	socklen_t len = sizeof(groups);

	if (!d->have_group)
		return false;
	if (c->gid == d->group)
		return true;
	/* Supplementary groups of the peer as the kernel saw them when it
	 * connected (SO_PEERGROUPS, Linux 4.13). */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) {
		for (size_t i = 0; i < len / sizeof(gid_t); i++)
			if (groups[i] == d->group)
				return true;
	}
	return false;
}

static enum hsd_access access_of(struct hsd *d, struct hsd_client *c, int fd)
{
	if (c->uid == 0 || c->uid == geteuid() || in_group(d, c, fd))
		return HSD_ACC_ADMIN;
	return d->cfg.read_only_others ? HSD_ACC_READ : HSD_ACC_NONE;
}

/* ---- writing --------------------------------------------------------------- */

struct wreq {
	uv_write_t req;
	char *buf;
};

static void write_done(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;

	(void)status;
	free(w->buf);
	free(w);
}

static void client_close(struct hsd_client *c);

void hsd_client_send(struct hsd_client *c, json_t *msg)
{
	struct wreq *w;
	char *text;
	size_t n;
	uv_buf_t b;

	if (!msg)
		return;
	if (c->closing) {
		json_decref(msg);
		return;
	}
	if (c->sink) {
		c->sink(c, msg);
		return;
	}
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (!text)
		return;
	n = strlen(text);
	w = malloc(sizeof(*w));
	if (!w || !(w->buf = realloc(text, n + 1))) {
		free(w);
		free(text);
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

void hsd_broadcast_event(struct hsd *d, json_t *ev)
{
	for (struct hsd_client *c = d->clients; c; c = c->next) {
		if (!c->subscribed || c->closing)
			continue;
		if (!c->sink && uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) >
		    MAX_BACKLOG) {
			hsd_log(d, LOG_WARNING, "client %lu reads events too "
				"slowly: disconnected", c->id);
			hsd_client_send(c, json_pack("{s:{s:s, s:s}}", "error",
						     "code", "too-slow",
						     "message", "event backlog "
						     "over 16 MiB"));
			client_close(c);
			continue;
		}
		hsd_client_send(c, json_pack("{s:O}", "event", ev));
	}
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
	struct hsd_client *c = calloc(1, sizeof(*c));

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
	size_t want = c->inlen + 65536;

	(void)hint;
	if (want > c->incap) {
		char *p = realloc(c->in, want);

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
	json_t *req;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return;
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!req) {
		hsd_client_send(c, hsd_error(NULL, "parse-error", EINVAL,
					     "malformed JSON at column %d: %s",
					     je.column, je.text));
		return;
	}
	hsd_dispatch(c, req);
	json_decref(req);
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct hsd_client *c = s->data;
	size_t start = 0;

	(void)buf;
	if (n < 0) {
		client_close(c);
		return;
	}
	c->inlen += (size_t)n;
	for (size_t i = 0; i < c->inlen && !c->closing; i++) {
		if (c->in[i] != '\n')
			continue;
		handle_line(c, c->in + start, i - start);
		start = i + 1;
	}
	if (c->closing)
		return;
	memmove(c->in, c->in + start, c->inlen - start);
	c->inlen -= start;
	if (c->inlen > MAX_REQUEST) {
		hsd_client_send(c, hsd_error(NULL, "too-large", E2BIG,
					     "request longer than %u bytes",
					     MAX_REQUEST));
		client_close(c);
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
	c = calloc(1, sizeof(*c));
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
				     "version", "0.1.0", "platform", d->be_ops->name,
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
	uv_pipe_init(d->loop, &d->server, 0);
	d->server.data = d;
	d->open_handles++;
	if ((rc = uv_pipe_bind(&d->server, path)) ||
	    (rc = uv_listen((uv_stream_t *)&d->server, 64, on_connect))) {
		snprintf(err, errlen, "%s: %s", path, uv_strerror(rc));
		hsd_handle_close(d, (uv_handle_t *)&d->server);
		d->server.data = d;
		return rc;
	}
	d->server.data = d;
	d->server_open = true;
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
	}
	for (struct hsd_client *c = d->clients; c; c = c->next)
		client_close(c);
}
