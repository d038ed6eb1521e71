/*
 * report.c - the availability report: outages, replacements, MTTR and
 * nines per slot, from the slot state history.
 *
 * Owns: the bookkeeping of report.h.  Pure computation: no I/O, no
 * clock (the caller says what "now" is).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct outage {
	int64_t start, end;   /* end -1: still out */
	bool replaced;        /* the slot was empty at some point */
};

struct slot_hist {
	char *name;
	int64_t first_on;     /* -1: never on */
	int64_t last_time;
	bool on;
	struct outage *out;
	size_t nout, cap;
};

struct hsd_report {
	struct slot_hist *slots;
	size_t n, cap;
};

struct hsd_report *hsd_report_new(void)
{
	return calloc(1, sizeof(struct hsd_report));
}

void hsd_report_free(struct hsd_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->slots[i].name);
		free(r->slots[i].out);
	}
	free(r->slots);
	free(r);
}

static struct slot_hist *slot_get(struct hsd_report *r, const char *name)
{
	struct slot_hist *s;

	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->slots[i].name, name))
			return &r->slots[i];
	if (r->n == r->cap) {
		size_t nc = r->cap ? 2 * r->cap : 8;
		void *p = realloc(r->slots, nc * sizeof(*r->slots));

		if (!p)
			return NULL;
		r->slots = p;
		r->cap = nc;
	}
	s = &r->slots[r->n];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	if (!s->name)
		return NULL;
	s->first_on = -1;
	s->last_time = INT64_MIN;
	r->n++;
	return s;
}

int hsd_report_feed(struct hsd_report *r, const char *slot, int64_t time,
		    const char *from, const char *to)
{
	struct slot_hist *s = slot_get(r, slot);
	/* Blinking before a removal the operator may still cancel, the card
	 * still serves. */
	bool now_on = !strcmp(to, "on") || !strcmp(to, "blinking-off");

	if (!s)
		return -ENOMEM;
	if (time < s->last_time)
		return -EINVAL;
	/* A card that was already in service when the history begins
	 * (present at start) counts from its first recorded change. */
	if (s->first_on < 0 && !s->on &&
	    (!strcmp(from, "on") || !strcmp(from, "blinking-off"))) {
		s->first_on = time;
		s->on = true;
	}
	s->last_time = time;
	if (now_on && !s->on) {
		if (s->first_on < 0)
			s->first_on = time;
		else if (s->nout && s->out[s->nout - 1].end < 0)
			s->out[s->nout - 1].end = time;
	} else if (!now_on && s->on) {
		if (s->nout == s->cap) {
			size_t nc = s->cap ? 2 * s->cap : 8;
			void *p = realloc(s->out, nc * sizeof(*s->out));

			if (!p)
				return -ENOMEM;
			s->out = p;
			s->cap = nc;
		}
		s->out[s->nout++] = (struct outage){ time, -1, false };
	}
	if (!strcmp(to, "empty") && s->nout && s->out[s->nout - 1].end < 0)
		s->out[s->nout - 1].replaced = true;
	s->on = now_on;
	return 0;
}

static double secs(int64_t ns)
{
	return (double)ns / 1e9;
}

static json_t *slot_report(const struct slot_hist *s, int64_t now)
{
	json_t *o = json_object(), *arr = json_array();
	int64_t down = 0, observed = now - s->first_on;
	unsigned replacements = 0, closed = 0;
	int64_t closed_sum = 0;

	if (!o || !arr)
		goto fail;
	for (size_t i = 0; i < s->nout; i++) {
		const struct outage *u = &s->out[i];
		int64_t end = u->end < 0 ? now : u->end;
		json_t *e = json_pack("{s:f, s:o, s:f, s:b}", "start",
				      secs(u->start), "end",
				      u->end < 0 ? json_null()
						 : json_real(secs(u->end)),
				      "seconds", secs(end - u->start),
				      "replaced", u->replaced);

		if (!e || json_array_append_new(arr, e))
			goto fail;
		down += end - u->start;
		if (u->replaced && u->end >= 0)
			replacements++;
		if (u->end >= 0) {
			closed++;
			closed_sum += u->end - u->start;
		}
	}
	if (observed <= 0)
		observed = 0;
	{
		double avail = observed ? 1.0 - (double)down / (double)observed
					: 1.0;
		json_t *mttr = closed ? json_real(secs(closed_sum) / closed)
				      : json_null();
		double n9 = avail < 1.0 ? -log10(1.0 - avail) : 0;
		json_t *nines = down && avail < 1.0
					? json_real(n9 > 0 ? n9 : 0.0)
					: json_null();

		if (json_object_set_new(o, "slot", json_string(s->name)) ||
		    json_object_set_new(o, "replacements",
					json_integer(replacements)) ||
		    json_object_set_new(o, "outages", arr) ||
		    json_object_set_new(o, "out_of_service_s",
					json_real(secs(down))) ||
		    json_object_set_new(o, "observed_s",
					json_real(secs(observed))) ||
		    json_object_set_new(o, "mttr_s", mttr) ||
		    json_object_set_new(o, "availability", json_real(avail)) ||
		    json_object_set_new(o, "nines", nines)) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
fail:
	json_decref(arr);
	json_decref(o);
	return NULL;
}

json_t *hsd_report_build(const struct hsd_report *r, int64_t now)
{
	json_t *all = json_array();

	if (!all)
		return NULL;
	for (size_t i = 0; i < r->n; i++) {
		json_t *o;

		if (r->slots[i].first_on < 0)
			continue;
		o = slot_report(&r->slots[i], now);
		if (!o || json_array_append_new(all, o)) {
			json_decref(all);
			return NULL;
		}
	}
	return all;
}
