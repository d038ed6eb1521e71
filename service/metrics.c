/*
 * metrics.c - hotswapd's Prometheus metrics (docs/metrics.md) in the
 * text exposition format 0.0.4: one hotswap_ prefix, base units
 * (seconds), _total on counters, labels of bounded cardinality (slot,
 * kind, controller: as many as the chassis has slots; enumerations as
 * one-hot series).
 *
 * Owns: the counters and histograms fed by every published event (the
 * one hook in hsd_publish) and the rendering; the per-slot gauges are
 * read at scrape time through the protocol's slot.list, so /metrics
 * shows what `hotswapctl list` shows.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include "http_internal.h"
#include "alloc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_internal.h"

#define MAX_SLOTS 128

static const double buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
				  0.5, 1, 2.5, 5, 10, 30, 60 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct histo {
	uint64_t count[NBUCKETS];   /* not cumulative; summed at render */
	uint64_t n;
	double sum;
};

/* Refusal reasons: a fixed set, never the free text. */
enum reason { R_AGENT, R_DRIVER, R_BUSY, R_OTHER, R_COUNT };
static const char *const reason_name[] = { "agent_veto", "driver_veto",
					   "busy", "other" };

struct slot_track {
	char name[32];
	int64_t inserted;     /* time the card came in, 0 = none pending */
	int64_t removing;     /* time an orderly removal began, 0 = none */
};

struct hsd_metrics {
	uint64_t hot_adds, removals, surprise, blocked, authorized, vetoes,
		 events;
	uint64_t refusals[R_COUNT];
	struct histo add_lat, remove_lat;
	struct slot_track slots[MAX_SLOTS];
	unsigned nslots;
};

struct hsd_metrics *hsd_metrics_new(void)
{
	return hsd_calloc(1, sizeof(struct hsd_metrics));
}

void hsd_metrics_free(struct hsd_metrics *m)
{
	free(m);
}

static void observe(struct histo *hi, double v)
{
	size_t i;

	for (i = 0; i < NBUCKETS && v > buckets[i]; i++)
		;
	if (i < NBUCKETS)
		hi->count[i]++;
	hi->n++;
	hi->sum += v;
}

static struct slot_track *track(struct hsd_metrics *m, const char *slot)
{
	for (unsigned i = 0; i < m->nslots; i++)
		if (!strcmp(m->slots[i].name, slot))
			return &m->slots[i];
	if (m->nslots == MAX_SLOTS)
		return NULL;
	snprintf(m->slots[m->nslots].name, sizeof(m->slots[0].name), "%s",
		 slot);
	return &m->slots[m->nslots++];
}

static bool is_up(const char *st)
{
	return !strcmp(st, "on") || !strcmp(st, "powering-on") ||
	       !strcmp(st, "blinking-off") || !strcmp(st, "powering-off") ||
	       !strcmp(st, "connected");
}

static const char *str(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

void hsd_metrics_event(struct hsd_metrics *m, const json_t *ev)
{
	const char *type = str(ev, "type"), *slot = str(ev, "slot");
	int64_t t = json_integer_value(json_object_get(ev, "time"));
	struct slot_track *s = slot[0] ? track(m, slot) : NULL;

	m->events++;
	if (!strcmp(type, "slot-state") && s) {
		const char *from = str(ev, "from"), *to = str(ev, "to");

		if (!strcmp(from, "empty")) {
			s->inserted = t ? t : 1;    /* the card came in */
		} else if (!strcmp(to, "empty") && is_up(from)) {
			m->surprise++;  /* the card left while it was up */
			s->removing = 0;
		} else if (!strcmp(from, "on") && (!strcmp(to, "blinking-off") ||
						   !strcmp(to, "powering-off"))) {
			s->removing = t ? t : 1;
		} else if ((!strcmp(to, "off") || !strcmp(to, "connected")) &&
			   !strcmp(from, "powering-off") && s->removing) {
			/* A card taken out of service: its removal, or
			 * cfgadm's unconfigure (a disconnect after it is
			 * not another removal). */
			m->removals++;
			observe(&m->remove_lat,
				(double)(t - s->removing) / 1e9);
			s->removing = 0;
		} else if (!strcmp(to, "on")) {
			m->hot_adds++;
		}
		if (!strcmp(to, "empty"))
			s->inserted = 0;
	} else if (!strcmp(type, "driver-bound") && s && s->inserted) {
		/* Insertion to driver bound: what the operator waits for. */
		observe(&m->add_lat, (double)(t - s->inserted) / 1e9);
		s->inserted = 0;
	} else if (!strcmp(type, "device-blocked")) {
		m->blocked++;
	} else if (!strcmp(type, "device-authorized")) {
		m->authorized++;
	} else if (!strcmp(type, "operator")) {
		const char *req = str(ev, "request"), *out = str(ev, "outcome");

		if (!strcmp(req, "attention") || !strcmp(out, "done"))
			return;
		if (!strncmp(out, "agent ", 6)) {
			m->refusals[R_AGENT]++;
			m->vetoes++;
		} else if (strstr(out, "busy")) {
			m->refusals[R_BUSY]++;
		} else if (strstr(out, "refused") || strstr(out, "veto")) {
			m->refusals[R_DRIVER]++;
		} else {
			m->refusals[R_OTHER]++;
		}
	}
}

/* ---- rendering ------------------------------------------------------------ */

struct out {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->oom = true;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		{
			size_t cap = (o->cap + (size_t)n) * 2;
			char *p = hsd_realloc(o->buf, cap);

			if (!p) {
				o->oom = true;
				return;
			}
			o->buf = p;
			o->cap = cap;
		}
	}
}

static void head(struct out *o, const char *name, const char *type,
		 const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(struct out *o, const char *name, const char *help,
		    uint64_t v)
{
	head(o, name, "counter", help);
	put(o, "%s %" PRIu64 "\n", name, v);
}

static void histogram(struct out *o, const char *name, const char *help,
		      const struct histo *hi)
{
	uint64_t cum = 0;

	head(o, name, "histogram", help);
	for (size_t i = 0; i < NBUCKETS; i++) {
		cum += hi->count[i];
		put(o, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, buckets[i],
		    cum);
	}
	put(o, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, hi->n);
	put(o, "%s_sum %.9g\n%s_count %" PRIu64 "\n", name, hi->sum, name,
	    hi->n);
}

/* Label values: escape \, " and newline (exposition format). */
static const char *esc(const char *s, char *buf, size_t len)
{
	size_t j = 0;

	for (; *s && j + 2 < len; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			buf[j++] = '\\';
			buf[j++] = *s == '\n' ? 'n' : *s;
		} else {
			buf[j++] = *s;
		}
	}
	buf[j] = '\0';
	return buf;
}

static void labels(const json_t *s, char *lab, size_t len)
{
	char n[96], k[32], c[96];

	snprintf(c, sizeof(c), "%s:%s", str(s, "kind"), str(s, "bridge"));
	snprintf(lab, len, "slot=\"%s\",kind=\"%s\",controller=\"%s\"",
		 esc(str(s, "slot"), n, sizeof(n)),
		 esc(str(s, "kind"), k, sizeof(k)), c);
}

/* One gauge per slot: 0/1 from a boolean field. */
static void slot_bool(struct out *o, json_t *slots, const char *name,
		      const char *help, const char *field)
{
	char lab[320];
	size_t i;
	json_t *s;

	head(o, name, "gauge", help);
	json_array_foreach(slots, i, s) {
		labels(s, lab, sizeof(lab));
		put(o, "%s{%s} %d\n", name, lab,
		    json_is_true(json_object_get(s, field)));
	}
}

/* An enumeration as one-hot series: 1 for the value the field has. */
static void slot_enum(struct out *o, json_t *slots, const char *name,
		      const char *help, const char *field, const char *label,
		      const char *const *values, size_t nvalues)
{
	char lab[320];
	size_t i;
	json_t *s;

	head(o, name, "gauge", help);
	json_array_foreach(slots, i, s) {
		labels(s, lab, sizeof(lab));
		for (size_t k = 0; k < nvalues; k++)
			put(o, "%s{%s,%s=\"%s\"} %d\n", name, lab, label,
			    values[k], !strcmp(str(s, field), values[k]));
	}
}

static void slot_gauges(struct out *o, json_t *slots)
{
	static const char *const states[] = { "empty", "off", "blinking-on",
		"powering-on", "on", "blinking-off", "powering-off", "fault",
		"connected" };
	static const char *const inds[] = { "off", "on", "blink" };
	char lab[320];
	size_t i, j;
	json_t *s, *dv;

	slot_bool(o, slots, "hotswap_slot_occupied",
		  "1 when a card is in the slot (presence detect)", "adapter");
	slot_bool(o, slots, "hotswap_slot_powered",
		  "1 when the slot is powered", "power");
	slot_enum(o, slots, "hotswap_slot_state",
		  "1 for the slot's state in the hot-plug state machine",
		  "state", "state", states,
		  sizeof(states) / sizeof(states[0]));
	slot_enum(o, slots, "hotswap_slot_attention_indicator",
		  "1 for the attention indicator's setting", "attention",
		  "indicator", inds, 3);
	slot_enum(o, slots, "hotswap_slot_power_indicator",
		  "1 for the power indicator's setting", "power_indicator",
		  "indicator", inds, 3);
	head(o, "hotswap_slot_blocked_functions", "gauge",
	     "functions on the slot's card blocked by the policy");
	json_array_foreach(slots, i, s) {
		size_t nb = 0;

		json_array_foreach(json_object_get(s, "devices"), j, dv)
			nb += json_is_true(json_object_get(dv, "blocked"));
		labels(s, lab, sizeof(lab));
		put(o, "hotswap_slot_blocked_functions{%s} %zu\n", lab, nb);
	}
}

/* The drivers' ledger of I/O requests, where the back-end keeps one
 * (status' driver_requests): how requests ended, and the ones lost (taken
 * by a driver, then neither finished nor in hand: what a hot-plug stack
 * must never do across a removal or a move). */
static void driver_requests(struct out *o, json_t *dr)
{
	static const char *const outcome[] = { "submitted", "completed",
					       "failed", "refused" };

	if (!json_is_object(dr))
		return;
	head(o, "hotswap_driver_requests_total", "counter",
	     "I/O requests the device drivers took, by how they ended");
	for (size_t i = 0; i < sizeof(outcome) / sizeof(outcome[0]); i++)
		put(o, "hotswap_driver_requests_total{outcome=\"%s\"} %"
		    JSON_INTEGER_FORMAT "\n", outcome[i],
		    json_integer_value(json_object_get(dr, outcome[i])));
	head(o, "hotswap_driver_requests_in_flight", "gauge",
	     "I/O requests the device drivers hold now");
	put(o, "hotswap_driver_requests_in_flight %" JSON_INTEGER_FORMAT "\n",
	    json_integer_value(json_object_get(dr, "in_flight")));
	counter(o, "hotswap_driver_requests_lost_total",
		"I/O requests lost by the drivers: taken, never finished, no "
		"longer held",
		(uint64_t)json_integer_value(json_object_get(dr, "lost")));
}

/* The socket's clients, from status: a rising cut-off count is a client
 * that floods or never reads (docs/protocol.md's limits). */
static void clients(struct out *o, json_t *cl)
{
	if (!json_is_object(cl))
		return;
	head(o, "hotswap_clients", "gauge",
	     "clients connected to the control socket");
	put(o, "hotswap_clients %" JSON_INTEGER_FORMAT "\n",
	    json_integer_value(json_object_get(cl, "connected")));
	counter(o, "hotswap_clients_cut_off_total",
		"clients the daemon cut off for unread replies or too many "
		"requests", (uint64_t)json_integer_value(
				    json_object_get(cl, "cut_off")));
}

char *hsd_metrics_render(struct hsd_metrics *m, struct hsd_http *h,
			 size_t *len)
{
	struct out o = { NULL, 0, 0, false };
	json_t *err = NULL, *slots = http_slots(h, &err);

	o.buf = hsd_malloc(o.cap = 16384);
	if (!o.buf) {
		json_decref(slots);
		json_decref(err);
		return NULL;
	}
	{
		/* What the daemon says of itself in hello and status. */
		json_t *e1 = NULL, *e2 = NULL;
		json_t *hello = http_call(h, "hello", NULL, &e1);
		json_t *st = http_call(h, "status", NULL, &e2);
		char v[64], p[64];

		head(&o, "hotswap_build_info", "gauge",
		     "always 1; the labels say what is running");
		put(&o, "hotswap_build_info{version=\"%s\",protocol=\"%d\","
		    "platform=\"%s\"} 1\n",
		    esc(str(hello, "version"), v, sizeof(v)),
		    (int)json_integer_value(json_object_get(hello, "protocol")),
		    esc(str(st, "platform"), p, sizeof(p)));
		driver_requests(&o, json_object_get(st, "driver_requests"));
		clients(&o, json_object_get(st, "clients"));
		json_decref(hello);
		json_decref(st);
		json_decref(e1);
		json_decref(e2);
	}
	if (slots)
		slot_gauges(&o, slots);
	counter(&o, "hotswap_hot_adds_total",
		"slots that came up (state on) since the service started", m->hot_adds);
	counter(&o, "hotswap_removals_total",
		"orderly removals: slots powered off after quiescing", m->removals);
	counter(&o, "hotswap_surprise_removals_total",
		"cards that left a slot while it was up", m->surprise);
	head(&o, "hotswap_refusals_total", "counter",
	     "operator requests refused or failed, by reason");
	for (int i = 0; i < R_COUNT; i++)
		put(&o, "hotswap_refusals_total{reason=\"%s\"} %" PRIu64 "\n",
		    reason_name[i], m->refusals[i]);
	counter(&o, "hotswap_agent_vetoes_total",
		"removals an agent refused (query-remove)", m->vetoes);
	counter(&o, "hotswap_functions_blocked_total",
		"functions the policy blocked", m->blocked);
	counter(&o, "hotswap_functions_authorized_total",
		"blocked functions an operator authorized", m->authorized);
	counter(&o, "hotswap_events_total",
		"events published (each has a seq)", m->events);
	histogram(&o, "hotswap_hot_add_duration_seconds",
		  "card insertion to its driver bound", &m->add_lat);
	histogram(&o, "hotswap_removal_duration_seconds",
		  "orderly removal: slot leaving on to slot off", &m->remove_lat);
	json_decref(slots);
	json_decref(err);
	if (o.oom) {
		free(o.buf);
		return NULL;
	}
	*len = o.len;
	return o.buf;
}
