/*
 * http.c - hotswapd's HTTP endpoint on libmicrohttpd, driven from the
 * service's libuv loop (MHD's epoll descriptor watched by a uv_poll, its
 * timeout by a uv_timer): the page's static files, the REST view of the
 * JSON protocol under /api/v1, the live event stream (Server-Sent
 * Events), Redfish (redfish.c) and /metrics (metrics.c).
 *
 * Owns: the MHD daemon, the write token and its file, routing, request
 * bodies and their limit, the in-process protocol clients every request
 * acts through (so the endpoint shows and does exactly what the socket
 * does), suspended connections (a request waiting for the core, an event
 * stream waiting for events) and their resumption.
 *
 * Access (docs/web.md): reads are open when read_only_others = yes, else
 * they need the token too; every change needs the token, sent as
 * "Authorization: Bearer TOKEN".  The token is 256 random bits written
 * at start to a file only root and the service's group may read (0640).
 * A browser may carry it for reads in the hotswap_token cookie (an event
 * stream cannot send headers), never for writes: a cross-site page can
 * make a browser send a cookie but not an Authorization header, so no
 * write can be forged (RFC 6750 section 2.1 for the header).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include "http_internal.h"
#include "alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon_internal.h"

#ifndef HOTSWAP_DATADIR
#define HOTSWAP_DATADIR "/usr/share/hotswap"
#endif

/* A request body larger than this is refused (413) unread. */
#define MAX_BODY (64u * 1024)
/* An event stream this far behind is ended (the page reconnects and
 * resumes from its last event id). */
#define MAX_STREAM_BACKLOG (4u * 1024 * 1024)
/* A comment line every so often keeps proxies from closing an idle
 * stream and lets a vanished client be noticed. */
#define KEEPALIVE_MS 15000

struct stream {
	struct hsd_http *h;
	struct MHD_Connection *conn;
	struct hsd_client *cl;
	struct stream *next;
	char *buf;
	size_t len, cap, off;
	bool suspended, ended;
};

struct http_req {
	struct hsd_http *h;
	struct MHD_Connection *conn;
	char method[16];
	char *body;
	size_t bodylen;
	bool too_large, routed, suspended, admin, called;
	/* The response, once there is one. */
	bool have_response;
	unsigned status;
	const char *ctype;
	char *out;
	size_t outlen;
	char *headers[8][2];
	unsigned nheaders;
	struct MHD_Response *stream_resp;   /* an event stream's */
	/* hsd_alloc_failures() when this step of the request began (its
	 * routing, or a protocol reply's arrival): a reply built after an
	 * allocation failed may lack a piece (jansson's setters fail
	 * quietly), so it is answered as out of memory instead. */
	unsigned long fails;
	bool oom;
	/* A protocol call in flight. */
	struct hsd_client *cl;
	http_done_fn done;
	struct http_req *next;             /* suspended ones */
};

struct hsd_http {
	struct hsd *d;
	struct MHD_Daemon *mhd;
	uv_poll_t poll;
	uv_timer_t timer, kick, keepalive;
	char token[65];
	char token_path[HSD_PATH_MAX + 32];
	char web_dir[HSD_PATH_MAX];
	char listen[160];
	struct stream *streams;
	struct http_req *waiting;
	struct hsd_metrics *metrics;
	unsigned handles;
	bool stopping;
	bool loopback;          /* listening on 127.0.0.0/8 or ::1 */
	/* slot.list as of (seq, service time): see http_slots. */
	json_t *slots;
	char *slots_text;
	uint64_t slots_seq;
	int64_t slots_time;
};

/* ---- the loop ----------------------------------------------------------- */

static void run_mhd(struct hsd_http *h);

static void timer_cb(uv_timer_t *t)
{
	run_mhd(t->data);
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	run_mhd(p->data);
}

static void run_mhd(struct hsd_http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (h->stopping)
		return;
	MHD_run(h->mhd);
	if (MHD_get_timeout(h->mhd, &ms) == MHD_YES)
		uv_timer_start(&h->timer, timer_cb, ms > 60000 ? 60000 : ms, 0);
	else
		uv_timer_stop(&h->timer);
}

/* After a resume from outside MHD's callbacks MHD must run again
 * (microhttpd.h, MHD_resume_connection); not from inside them. */
static void kick(struct hsd_http *h)
{
	if (!h->stopping)
		uv_timer_start(&h->kick, timer_cb, 0, 0);
}

/* ---- responses ---------------------------------------------------------- */

/* Sent without allocating (MHD_RESPMEM_PERSISTENT: never written to or
 * freed): the answer when this service could not build one.  Once a
 * protocol call was made, what it asked for may have been done. */
static char oom_text[] =
	"{\n \"error\": {\n  \"code\": \"failed\",\n"
	"  \"message\": \"out of memory\"\n }\n}\n";
static char oom_done_text[] =
	"{\n \"error\": {\n  \"code\": \"failed\",\n"
	"  \"message\": \"out of memory: the reply could not be built; "
	"what was asked may have been done\"\n }\n}\n";

void http_req_reply(struct http_req *r, unsigned status, const char *ctype,
		    char *body, size_t len)
{
	free(r->out);
	r->oom = hsd_alloc_failures() != r->fails;
	if (r->oom) {
		free(body);
		body = NULL;
		status = 500;
		ctype = "application/json";
	}
	r->status = status;
	r->ctype = ctype;
	r->out = body;
	r->outlen = body ? len : 0;
	r->have_response = true;
	if (r->suspended) {
		r->suspended = false;
		for (struct http_req **pp = &r->h->waiting; *pp;
		     pp = &(*pp)->next)
			if (*pp == r) {
				*pp = r->next;
				break;
			}
		MHD_resume_connection(r->conn);
		kick(r->h);
	}
}

void http_req_json(struct http_req *r, unsigned status, json_t *body)
{
	char *text = body ? hsd_dumps(body, JSON_INDENT(1) |
					     JSON_PRESERVE_ORDER |
					     JSON_ENCODE_ANY)
			  : NULL;
	size_t n = text ? strlen(text) : 0;

	json_decref(body);
	if (text) {
		char *t = hsd_realloc(text, n + 2);

		if (t) {
			text = t;
			text[n++] = '\n';
			text[n] = '\0';
		}
	}
	http_req_reply(r, text || !body ? status : 500, "application/json",
		       text, n);
}

void http_req_add_header(struct http_req *r, const char *name,
			 const char *value)
{
	char *n, *v;

	if (r->nheaders == sizeof(r->headers) / sizeof(r->headers[0]))
		return;
	n = hsd_strdup(name);
	v = hsd_strdup(value);
	if (!n || !v) {
		/* Not a response without one of its headers. */
		free(n);
		free(v);
		r->oom = true;
		return;
	}
	r->headers[r->nheaders][0] = n;
	r->headers[r->nheaders][1] = v;
	r->nheaders++;
}

void http_req_error(struct http_req *r, unsigned status, const char *code,
		    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	http_req_json(r, status, json_pack("{s:{s:s, s:s}}", "error", "code",
					   code, "message", msg));
}

unsigned http_status_of(const char *code)
{
	static const struct {
		const char *code;
		unsigned status;
	} map[] = {
		{ "not-found", 404 }, { "invalid-params", 400 },
		{ "invalid-request", 400 }, { "parse-error", 400 },
		{ "unknown-method", 404 }, { "permission-denied", 403 },
		{ "refused", 409 }, { "busy", 409 }, { "not-supported", 409 },
		{ "too-large", 413 },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].code, code))
			return map[i].status;
	return 500;
}

struct hsd_http *http_req_http(struct http_req *r)
{
	return r->h;
}

const char *http_req_arg(struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

bool http_req_admin(struct http_req *r)
{
	return r->admin;
}

/* ---- protocol calls ----------------------------------------------------- */

struct sync_call {
	json_t *msg;
};

static void sync_sink(struct hsd_client *c, json_t *msg)
{
	struct sync_call *s = c->sink_arg;

	if (!s->msg && !json_object_get(msg, "event"))
		s->msg = msg;
	else
		json_decref(msg);
}

json_t *http_call(struct hsd_http *h, const char *method, json_t *params,
		  json_t **err)
{
	unsigned long failures = hsd_alloc_failures();
	struct sync_call s = { NULL };
	struct hsd_client *c = hsd_client_local(h->d, HSD_ACC_READ, sync_sink,
						&s);
	json_t *req, *res = NULL;

	*err = NULL;
	if (!c) {
		json_decref(params);
		*err = json_pack("{s:s, s:s}", "code", "failed", "message",
				 "out of memory");
		return NULL;
	}
	req = json_pack("{s:s, s:i, s:o}", "method", method, "id", 1,
			"params", params ? params : json_object());
	c->dispatching = true;
	c->dispatch_failures = failures;
	hsd_dispatch(c, req);
	json_decref(req);
	hsd_client_local_close(c);
	if (s.msg && (res = json_object_get(s.msg, "result")))
		json_incref(res);
	else if (s.msg && json_object_get(s.msg, "error"))
		*err = json_incref(json_object_get(s.msg, "error"));
	else
		*err = json_pack("{s:s, s:s}", "code", "failed", "message",
				 "no reply");
	json_decref(s.msg);
	return res;
}

/*
 * slot.list is the costly read (every slot's registers through the
 * back-end: milliseconds).  A burst of readers served in one pass of the
 * loop gets one build: it is reused while neither the event number nor
 * the service time has moved, i.e. for requests that would have got the
 * very same answer.
 */
json_t *http_slots(struct hsd_http *h, json_t **err)
{
	int64_t now = hsd_now(h->d);

	*err = NULL;
	if (h->slots && h->slots_seq == h->d->seq && h->slots_time == now)
		return json_incref(h->slots);
	json_decref(h->slots);
	free(h->slots_text);
	h->slots_text = NULL;
	h->slots = http_call(h, "slot.list", NULL, err);
	h->slots_seq = h->d->seq;
	h->slots_time = now;
	return h->slots ? json_incref(h->slots) : NULL;
}

static void get_slots(struct http_req *r)
{
	struct hsd_http *h = r->h;
	json_t *err = NULL, *list = http_slots(h, &err);
	char *copy;

	if (!list) {
		http_req_json(r, http_status_of(json_string_value(
					 json_object_get(err, "code"))),
			      json_pack("{s:o}", "error", err));
		return;
	}
	json_decref(list);
	if (!h->slots_text)
		h->slots_text = hsd_dumps(h->slots, JSON_INDENT(1) |
						     JSON_PRESERVE_ORDER);
	copy = h->slots_text ? hsd_strdup(h->slots_text) : NULL;
	if (!copy) {
		http_req_error(r, 500, "failed", "out of memory");
		return;
	}
	http_req_reply(r, 200, "application/json", copy, strlen(copy));
}

static void req_sink(struct hsd_client *c, json_t *msg)
{
	struct http_req *r = c->sink_arg;
	http_done_fn done = r->done;

	if (json_object_get(msg, "event") || !done) {
		json_decref(msg);
		return;
	}
	r->done = NULL;
	r->fails = hsd_alloc_failures();
	done(r, msg);
	json_decref(msg);
}

void http_req_call(struct http_req *r, const char *method, json_t *params,
		   http_done_fn done)
{
	json_t *req;

	if (!r->cl)
		r->cl = hsd_client_local(r->h->d, r->admin ? HSD_ACC_ADMIN
							   : HSD_ACC_READ,
					 req_sink, r);
	if (!r->cl) {
		json_decref(params);
		http_req_error(r, 500, "failed", "out of memory");
		return;
	}
	r->done = done;
	req = json_pack("{s:s, s:i, s:o}", "method", method, "id", 1,
			"params", params ? params : json_object());
	if (hsd_alloc_failures() != r->fails) {
		/* The request lacks a piece (its parameters): not sent. */
		r->done = NULL;
		json_decref(req);
		http_req_reply(r, 500, NULL, NULL, 0);
		return;
	}
	r->called = true;
	/* A reply built here and then is checked as the socket's are. */
	r->cl->dispatching = true;
	r->cl->dispatch_failures = r->fails;
	hsd_dispatch(r->cl, req);
	r->cl->dispatching = false;
	json_decref(req);
}

/* ---- the event stream (text/event-stream, WHATWG HTML section 9.2) ----- */

static void stream_append(struct stream *s, const char *text, size_t n)
{
	if (s->ended)
		return;
	if (s->len - s->off + n > MAX_STREAM_BACKLOG) {
		s->ended = true;        /* the client resumes with its last id */
	} else {
		if (s->off && s->off == s->len)
			s->off = s->len = 0;
		if (s->len + n > s->cap) {
			size_t cap = (s->len + n) * 2;
			char *p = hsd_realloc(s->buf, cap);

			if (!p) {
				s->ended = true;
				goto wake;
			}
			s->buf = p;
			s->cap = cap;
		}
		memcpy(s->buf + s->len, text, n);
		s->len += n;
	}
wake:
	if (s->suspended && s->conn) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
		kick(s->h);
	}
}

static void stream_sink(struct hsd_client *c, json_t *msg)
{
	struct stream *s = c->sink_arg;
	json_t *ev = json_object_get(msg, "event");
	char *text;

	if (ev && (text = hsd_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS))) {
		char head[48];
		int n = snprintf(head, sizeof(head), "id: %" JSON_INTEGER_FORMAT
				 "\ndata: ",
				 json_integer_value(json_object_get(ev, "seq")));

		stream_append(s, head, (size_t)n);
		stream_append(s, text, strlen(text));
		stream_append(s, "\n\n", 2);
		free(text);
	}
	json_decref(msg);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	size_t n = s->len - s->off;

	(void)pos;
	if (!n) {
		if (s->ended || s->h->stopping)
			return MHD_CONTENT_READER_END_OF_STREAM;
		/* Nothing to send: sleep until an event comes. */
		s->suspended = true;
		MHD_suspend_connection(s->conn);
		return 0;
	}
	if (n > max)
		n = max;
	memcpy(buf, s->buf + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;
	struct hsd_http *h = s->h;

	for (struct stream **pp = &h->streams; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (s->cl)
		hsd_client_local_close(s->cl);
	free(s->buf);
	free(s);
}

static void keepalive_cb(uv_timer_t *t)
{
	struct hsd_http *h = t->data;

	for (struct stream *s = h->streams; s; s = s->next)
		stream_append(s, ": keepalive\n\n", 13);
}

static void open_stream(struct http_req *r)
{
	const char *last = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						       "Last-Event-ID");
	const char *after = http_req_arg(r, "after");
	struct stream *s = hsd_calloc(1, sizeof(*s));
	json_t *req, *params = json_object();
	char *end;
	long long v = -1;

	if (!s) {
		json_decref(params);
		http_req_error(r, 500, "failed", "out of memory");
		return;
	}
	if (last || after) {
		errno = 0;
		v = strtoll(last ? last : after, &end, 10);
		if (errno || *end || v < -1 || end == (last ? last : after)) {
			free(s);
			json_decref(params);
			http_req_error(r, 400, "invalid-params", "%s '%s' is not "
				       "an event number",
				       last ? "Last-Event-ID" : "after",
				       last ? last : after);
			return;
		}
	}
	json_object_set_new(params, "after", json_integer(v));
	s->h = r->h;
	s->conn = r->conn;
	s->cl = hsd_client_local(r->h->d, HSD_ACC_READ, stream_sink, s);
	r->stream_resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN,
							   16384, stream_read,
							   s, stream_free);
	if (!s->cl || !r->stream_resp) {
		if (s->cl)
			hsd_client_local_close(s->cl);
		if (r->stream_resp)
			MHD_destroy_response(r->stream_resp);
		r->stream_resp = NULL;
		free(s);
		json_decref(params);
		http_req_error(r, 500, "failed", "out of memory");
		return;
	}
	s->next = r->h->streams;
	r->h->streams = s;
	/* The browser retries after 2 s with Last-Event-ID: nothing lost. */
	stream_append(s, "retry: 2000\n\n", 13);
	req = json_pack("{s:s, s:i, s:o}", "method", "events.subscribe", "id", 1,
			"params", params);
	hsd_dispatch(s->cl, req);
	json_decref(req);
	r->have_response = true;
	r->status = 200;
}

/* ---- static files --------------------------------------------------------- */

static const char *ctype_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (!dot)
		return "application/octet-stream";
	if (!strcmp(dot, ".html"))
		return "text/html; charset=utf-8";
	if (!strcmp(dot, ".js"))
		return "text/javascript; charset=utf-8";
	if (!strcmp(dot, ".css"))
		return "text/css; charset=utf-8";
	if (!strcmp(dot, ".svg"))
		return "image/svg+xml";
	if (!strcmp(dot, ".png"))
		return "image/png";
	return "application/octet-stream";
}

static void serve_file(struct http_req *r, const char *name)
{
	char path[HSD_PATH_MAX + 64];
	struct stat st;
	char *buf;
	int fd;

	/* One level of plain names: nothing outside web_dir is reachable. */
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || (*p == '.' && p != name))) {
			http_req_error(r, 404, "not-found", "no such file");
			return;
		}
	snprintf(path, sizeof(path), "%s/%s", r->h->web_dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > 4 * 1024 * 1024) {
		if (fd >= 0)
			close(fd);
		http_req_error(r, 404, "not-found", "no file /%s", name);
		return;
	}
	buf = hsd_malloc((size_t)st.st_size + 1);
	if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		close(fd);
		http_req_error(r, 500, "failed", "reading %s failed", name);
		return;
	}
	close(fd);
	http_req_reply(r, 200, ctype_of(name), buf, (size_t)st.st_size);
}

/* ---- /api/v1 -------------------------------------------------------------- */

static void reply_msg(struct http_req *r, json_t *msg, unsigned ok)
{
	json_t *e = json_object_get(msg, "error");

	if (e) {
		http_req_json(r, http_status_of(json_string_value(
					 json_object_get(e, "code"))),
			      json_pack("{s:O}", "error", e));
		return;
	}
	http_req_json(r, ok, json_incref(json_object_get(msg, "result")));
}

static void done_200(struct http_req *r, json_t *msg)
{
	reply_msg(r, msg, 200);
}

/* Slot actions: POST /api/v1/slots/NAME/ACTION -> the method. */
static const struct {
	const char *action, *method;
} slot_actions[] = {
	{ "add", "slot.add" }, { "remove", "slot.remove" },
	{ "replace", "slot.replace" }, { "enable", "slot.enable" },
	{ "disable", "slot.disable" }, { "attention", "slot.attention" },
	{ "connect", "slot.connect" }, { "configure", "slot.configure" },
	{ "unconfigure", "slot.unconfigure" },
	{ "disconnect", "slot.disconnect" },
	{ "power_indicator", "slot.power_indicator" },
	/* The simulator's attention button, as the operator's finger. */
	{ "button", "sim.button" },
};

static bool method_is(struct http_req *r, const char *allow)
{
	if (!strcmp(r->method, allow) ||
	    (!strcmp(allow, "GET") && !strcmp(r->method, "HEAD")))
		return true;
	http_req_add_header(r, "Allow", !strcmp(allow, "GET") ? "GET, HEAD"
								: allow);
	http_req_error(r, 405, "method-not-allowed", "%s is not allowed "
		       "here (allowed: %s)", r->method, allow);
	return false;
}

static bool need_admin(struct http_req *r)
{
	if (r->admin)
		return true;
	http_req_add_header(r, "WWW-Authenticate", "Bearer realm=\"hotswapd\"");
	http_req_error(r, 401, "unauthorized", "a change needs the token: "
		       "send 'Authorization: Bearer TOKEN' with the contents "
		       "of %s", r->h->token_path);
	return false;
}

static void route_api(struct http_req *r, const char *path, json_t *body)
{
	char name[64], action[32];
	json_t *params;
	int n = 0;

	if (!strcmp(path, "slots")) {
		if (method_is(r, "GET"))
			get_slots(r);
		return;
	}
	if (!strcmp(path, "status") || !strcmp(path, "devices")) {
		if (method_is(r, "GET"))
			http_req_call(r, !strcmp(path, "status") ? "status"
								 : "device.list",
				      NULL, done_200);
		return;
	}
	if (!strcmp(path, "events")) {
		const char *after = http_req_arg(r, "after");
		const char *limit = http_req_arg(r, "limit");
		const char *slot = http_req_arg(r, "slot");
		char *end;

		if (!method_is(r, "GET"))
			return;
		params = json_object();
		if (slot)
			json_object_set_new(params, "slot", json_string(slot));
		if (after) {
			long long v = strtoll(after, &end, 10);

			if (*end || end == after) {
				json_decref(params);
				http_req_error(r, 400, "invalid-params", "after "
					       "'%s' is not a number", after);
				return;
			}
			json_object_set_new(params, "after", json_integer(v));
		}
		if (limit) {
			long long v = strtoll(limit, &end, 10);

			if (*end || end == limit) {
				json_decref(params);
				http_req_error(r, 400, "invalid-params", "limit "
					       "'%s' is not a number", limit);
				return;
			}
			json_object_set_new(params, "limit", json_integer(v));
		}
		http_req_call(r, "events.history", params, done_200);
		return;
	}
	if (!strcmp(path, "events/stream")) {
		if (method_is(r, "GET"))
			open_stream(r);
		return;
	}
	if (!strcmp(path, "authorize")) {
		if (!method_is(r, "POST") || !need_admin(r))
			return;
		http_req_call(r, "authorize", json_incref(body), done_200);
		return;
	}
	if (sscanf(path, "slots/%63[^/]%n", name, &n) == 1 && !path[n]) {
		if (method_is(r, "GET"))
			http_req_call(r, "slot.show",
				      json_pack("{s:s}", "slot", name),
				      done_200);
		return;
	}
	if (sscanf(path, "devices/%63[^/]%n", name, &n) == 1 && !path[n]) {
		if (method_is(r, "GET"))
			http_req_call(r, "device.show",
				      json_pack("{s:s}", "device", name),
				      done_200);
		return;
	}
	if (sscanf(path, "slots/%63[^/]/%31[^/]%n", name, action, &n) == 2 &&
	    !path[n]) {
		for (size_t i = 0; i < sizeof(slot_actions) /
				       sizeof(slot_actions[0]); i++) {
			if (strcmp(slot_actions[i].action, action))
				continue;
			if (!method_is(r, "POST") || !need_admin(r))
				return;
			params = body ? json_deep_copy(body) : json_object();
			json_object_set_new(params, "slot", json_string(name));
			http_req_call(r, slot_actions[i].method, params,
				      done_200);
			return;
		}
	}
	http_req_error(r, 404, "not-found", "no resource /api/v1/%s", path);
}

/* ---- routing -------------------------------------------------------------- */

static bool token_ok(struct hsd_http *h, const char *given)
{
	unsigned char diff = 0;
	size_t n = strlen(h->token);

	if (!given || strlen(given) != n)
		return false;
	/* Constant time: the comparison says nothing about how much of a
	 * guess was right. */
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(given[i] ^ h->token[i]);
	return diff == 0;
}

static const char *bearer(struct http_req *r)
{
	const char *a = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						    "Authorization");

	if (!a || strncasecmp(a, "Bearer ", 7))
		return NULL;
	return a + 7;
}

/* On loopback only loopback names are served: a page elsewhere that
 * rebinds its own name to 127.0.0.1 (DNS rebinding) must not read the
 * chassis through the visitor's browser. */
static bool host_ok(struct http_req *r)
{
	const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						       "Host");
	char name[128];
	size_t n;

	if (!r->h->loopback || !host)
		return true;
	if (host[0] == '[')
		return !strncmp(host, "[::1]", 5);
	n = strcspn(host, ":");
	if (n >= sizeof(name))
		return false;
	memcpy(name, host, n);
	name[n] = '\0';
	return !strcmp(name, "localhost") || !strncmp(name, "127.", 4);
}

static void route(struct http_req *r, const char *url)
{
	const char *auth = bearer(r);
	const char *cookie = MHD_lookup_connection_value(r->conn,
							 MHD_COOKIE_KIND,
							 "hotswap_token");
	bool read_ok;
	json_t *body = NULL;

	if (!host_ok(r)) {
		http_req_error(r, 421, "misdirected", "this endpoint listens on "
			       "loopback: use http://127.0.0.1 or localhost");
		return;
	}
	if (auth && !token_ok(r->h, auth)) {
		http_req_add_header(r, "WWW-Authenticate", "Bearer realm="
				    "\"hotswapd\", error=\"invalid_token\"");
		http_req_error(r, 401, "unauthorized", "wrong token (it is "
			       "in %s, new at every start)", r->h->token_path);
		return;
	}
	r->admin = auth != NULL;
	read_ok = r->admin || r->h->d->cfg.read_only_others ||
		  token_ok(r->h, cookie);
	if (r->too_large) {
		http_req_error(r, 413, "too-large", "request body over %u "
			       "bytes", MAX_BODY);
		return;
	}
	if (r->bodylen) {
		json_error_t je;

		body = hsd_loadb(r->body, r->bodylen, JSON_REJECT_DUPLICATES,
				  &je);
		if (!body) {
			http_req_error(r, 400, "parse-error", "malformed JSON "
				       "at line %d column %d: %s", je.line,
				       je.column, je.text);
			return;
		}
		if (!json_is_object(body)) {
			json_decref(body);
			http_req_error(r, 400, "invalid-request", "the body "
				       "must be a JSON object");
			return;
		}
	}
	/* The page's files are public: they hold no chassis data. */
	if (!strcmp(url, "/") || !strcmp(url, "/index.html")) {
		if (method_is(r, "GET"))
			serve_file(r, "index.html");
	} else if (!strncmp(url, "/static/", 8)) {
		if (method_is(r, "GET"))
			serve_file(r, url + 8);
	} else if (!read_ok) {
		http_req_add_header(r, "WWW-Authenticate",
				    "Bearer realm=\"hotswapd\"");
		http_req_error(r, 401, "unauthorized", "reading needs the token "
			       "here (read_only_others = no): send "
			       "'Authorization: Bearer TOKEN' with the contents "
			       "of %s", r->h->token_path);
	} else if (!strncmp(url, "/api/v1/", 8)) {
		route_api(r, url + 8, body);
	} else if (!strcmp(url, "/metrics")) {
		if (method_is(r, "GET")) {
			size_t n = 0;
			char *text = hsd_metrics_render(r->h->metrics, r->h, &n);

			if (text)
				http_req_reply(r, 200, "text/plain; version="
					       "0.0.4; charset=utf-8", text, n);
			else
				http_req_error(r, 500, "failed", "out of memory");
		}
	} else if (!strcmp(url, "/redfish") || !strncmp(url, "/redfish/", 9)) {
		hsd_redfish_route(r, r->method, url, body);
	} else {
		http_req_error(r, 404, "not-found", "no resource %s", url);
	}
	json_decref(body);
}

static enum MHD_Result queue(struct http_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->stream_resp) {
		resp = r->stream_resp;
		r->stream_resp = NULL;
		MHD_add_response_header(resp, "Content-Type",
					"text/event-stream");
		MHD_add_response_header(resp, "Cache-Control", "no-store");
		ret = MHD_queue_response(r->conn, 200, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	if (r->oom) {
		char *t = r->called ? oom_done_text : oom_text;

		resp = MHD_create_response_from_buffer(strlen(t), t,
						       MHD_RESPMEM_PERSISTENT);
		r->status = 500;
		r->ctype = "application/json";
	} else {
		resp = MHD_create_response_from_buffer(r->outlen, r->out,
						       MHD_RESPMEM_MUST_FREE);
		if (resp)
			r->out = NULL;
	}
	if (!resp)
		return MHD_NO;
	if (r->ctype)
		MHD_add_response_header(resp, "Content-Type", r->ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	for (unsigned i = 0; !r->oom && i < r->nheaders; i++)
		MHD_add_response_header(resp, r->headers[i][0],
					r->headers[i][1]);
	ret = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	struct hsd_http *h = cls;
	struct http_req *r = *con_cls;

	(void)version;
	if (!r) {
		const char *cl = MHD_lookup_connection_value(conn,
							     MHD_HEADER_KIND,
							     "Content-Length");

		r = hsd_calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->h = h;
		r->conn = conn;
		snprintf(r->method, sizeof(r->method), "%s", method);
		/* Refused before reading a byte of it. */
		if (cl && strtoull(cl, NULL, 10) > MAX_BODY)
			r->too_large = true;
		*con_cls = r;
		return MHD_YES;
	}
	if (*data_size) {
		if (!r->too_large && r->bodylen + *data_size <= MAX_BODY) {
			char *p = hsd_realloc(r->body, r->bodylen + *data_size);

			if (!p)
				return MHD_NO;
			r->body = p;
			memcpy(r->body + r->bodylen, data, *data_size);
			r->bodylen += *data_size;
		} else {
			r->too_large = true;
		}
		*data_size = 0;
		return MHD_YES;
	}
	if (!r->routed) {
		r->routed = true;
		r->fails = hsd_alloc_failures();
		route(r, url);
	}
	if (!r->have_response) {
		/* Waiting for the core (a real-time hot-plug takes seconds). */
		r->suspended = true;
		r->next = h->waiting;
		h->waiting = r;
		MHD_suspend_connection(conn);
		return MHD_YES;
	}
	return queue(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode why)
{
	struct http_req *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)why;
	if (!r)
		return;
	if (r->cl) {
		r->done = NULL;
		hsd_client_local_close(r->cl);
	}
	if (r->stream_resp)
		MHD_destroy_response(r->stream_resp);
	for (unsigned i = 0; i < r->nheaders; i++) {
		free(r->headers[i][0]);
		free(r->headers[i][1]);
	}
	free(r->body);
	free(r->out);
	free(r);
	*con_cls = NULL;
}

/* ---- start and stop ------------------------------------------------------- */

void hsd_http_event(struct hsd_http *h, const json_t *ev)
{
	hsd_metrics_event(h->metrics, ev);
}

static int parse_listen(const char *s, struct sockaddr_storage *ss,
			socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char host[128] = "127.0.0.1";
	const char *port = s, *colon;
	char *end;
	unsigned long p;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':' || (size_t)(close - s - 1) >=
						     sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		port = close + 2;
	} else if ((colon = strrchr(s, ':'))) {
		if ((size_t)(colon - s) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		port = colon + 1;
		if (!strcmp(host, "localhost"))
			snprintf(host, sizeof(host), "127.0.0.1");
	}
	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno || *end || end == port || p > 65535)
		return -EINVAL;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

static int write_token(struct hsd_http *h, char *err, size_t errlen)
{
	unsigned char rnd[32];
	int fd;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		snprintf(err, errlen, "http: no random bytes for the token: %s",
			 strerror(errno));
		return -EIO;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(h->token + 2 * i, 3, "%02x", rnd[i]);
	/* A new file each start: an old copy never grants access again. */
	unlink(h->token_path);
	fd = open(h->token_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
				 O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "http: token file %s: %s", h->token_path,
			 strerror(errno));
		return -errno;
	}
	/* Root and the service's group (the socket's), nobody else. */
	if (h->d->have_group && fchown(fd, (uid_t)-1, h->d->group))
		hsd_log(h->d, LOG_WARNING, "chown %s: %s", h->token_path,
			strerror(errno));
	if (fchmod(fd, 0640) || write(fd, h->token, 64) != 64 ||
	    write(fd, "\n", 1) != 1) {
		snprintf(err, errlen, "http: writing %s: %s", h->token_path,
			 strerror(errno));
		close(fd);
		unlink(h->token_path);
		return -EIO;
	}
	close(fd);
	return 0;
}

static void find_web_dir(struct hsd_http *h)
{
	const char *dir = h->d->cfg.web_dir;
	char probe[HSD_PATH_MAX + 32];

	if (!dir[0]) {
		dir = HOTSWAP_DATADIR "/web";
#ifdef HOTSWAP_SRCDIR
		/* Run from a build tree: the source's files. */
		snprintf(probe, sizeof(probe), "%s/index.html", dir);
		if (access(probe, R_OK))
			dir = HOTSWAP_SRCDIR "/web";
#endif
	}
	snprintf(h->web_dir, sizeof(h->web_dir), "%s", dir);
	snprintf(probe, sizeof(probe), "%s/index.html", h->web_dir);
	if (access(probe, R_OK))
		hsd_log(h->d, LOG_WARNING, "http: no page in %s (web_dir)",
			h->web_dir);
}

/* fmt is libmicrohttpd's printf format (clang's -Wformat-nonliteral). */
__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct hsd_http *h = cls;
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	hsd_log(h->d, LOG_DEBUG, "http: %s", line);
}

int hsd_http_start(struct hsd *d, struct hsd_http **out, char *err,
		   size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	const union MHD_DaemonInfo *info;
	struct hsd_http *h;
	char addr[INET6_ADDRSTRLEN];
	int rc;

	*out = NULL;
	if (!d->cfg.http_listen[0])
		return 0;
	if (parse_listen(d->cfg.http_listen, &ss, &sslen)) {
		snprintf(err, errlen, "http_listen '%s': not PORT, ADDR:PORT "
			 "or [ADDR6]:PORT", d->cfg.http_listen);
		return -EINVAL;
	}
	h = hsd_calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->d = d;
	if (d->cfg.http_token[0])
		snprintf(h->token_path, sizeof(h->token_path), "%s",
			 d->cfg.http_token);
	else
		snprintf(h->token_path, sizeof(h->token_path), "%s/http.token",
			 d->cfg.runtime_dir);
	find_web_dir(h);
	if ((rc = write_token(h, err, errlen)))
		goto free_h;
	h->metrics = hsd_metrics_new();
	if (!h->metrics) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto unlink_token;
	}
	h->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
				  MHD_USE_ERROR_LOG |
				  (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				  0, NULL, NULL, on_request, h,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				  MHD_OPTION_CONNECTION_LIMIT, 1000u,
				  MHD_OPTION_CONNECTION_TIMEOUT, 60u,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
				  MHD_OPTION_END);
	info = h->mhd ? MHD_get_daemon_info(h->mhd,
					    MHD_DAEMON_INFO_EPOLL_FD)
		      : NULL;
	if (!info) {
		snprintf(err, errlen, "http_listen %s: %s", d->cfg.http_listen,
			 h->mhd ? "no epoll descriptor"
				: "cannot listen there (in use?)");
		rc = -EADDRINUSE;
		goto stop_mhd;
	}
	uv_poll_init(d->loop, &h->poll, info->epoll_fd);
	uv_timer_init(d->loop, &h->timer);
	uv_timer_init(d->loop, &h->kick);
	uv_timer_init(d->loop, &h->keepalive);
	h->poll.data = h->timer.data = h->kick.data = h->keepalive.data = h;
	d->open_handles += 4;
	uv_poll_start(&h->poll, UV_READABLE, poll_cb);
	uv_timer_start(&h->keepalive, keepalive_cb, KEEPALIVE_MS, KEEPALIVE_MS);
	h->loopback = ss.ss_family == AF_INET6
			      ? IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr)
			      : (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
			  addr, sizeof(addr));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr,
			  sizeof(addr));
	{
		const union MHD_DaemonInfo *pi =
			MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);

		snprintf(h->listen, sizeof(h->listen),
			 ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", addr,
			 pi ? (unsigned)pi->port : 0);
	}
	hsd_log(d, LOG_INFO, "http: listening on http://%s/ (token in %s)",
		h->listen, h->token_path);
	run_mhd(h);
	*out = h;
	return 0;

stop_mhd:
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	hsd_metrics_free(h->metrics);
	json_decref(h->slots);
	free(h->slots_text);
unlink_token:
	unlink(h->token_path);
free_h:
	free(h);
	return rc;
}

static void handle_closed(uv_handle_t *hd)
{
	struct hsd_http *h = hd->data;

	h->d->open_handles--;
	if (--h->handles == 0)
		free(h);
}

void hsd_http_stop(struct hsd_http *h)
{
	if (!h)
		return;
	h->stopping = true;
	/* MHD must not stop with suspended connections (microhttpd.h). */
	for (struct stream *s = h->streams; s; s = s->next) {
		s->ended = true;
		if (s->cl) {
			hsd_client_local_close(s->cl);
			s->cl = NULL;
		}
		if (s->suspended) {
			s->suspended = false;
			MHD_resume_connection(s->conn);
		}
	}
	while (h->waiting) {
		struct http_req *r = h->waiting;

		h->waiting = r->next;
		r->suspended = false;
		MHD_resume_connection(r->conn);
	}
	MHD_stop_daemon(h->mhd);
	hsd_metrics_free(h->metrics);
	json_decref(h->slots);
	free(h->slots_text);
	unlink(h->token_path);
	h->handles = 4;
	uv_poll_stop(&h->poll);
	uv_close((uv_handle_t *)&h->poll, handle_closed);
	uv_close((uv_handle_t *)&h->timer, handle_closed);
	uv_close((uv_handle_t *)&h->kick, handle_closed);
	uv_close((uv_handle_t *)&h->keepalive, handle_closed);
}
