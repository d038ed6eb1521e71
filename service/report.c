/*
 * report.c - the availability report: in-service time, outages,
 * replacements, MTTR and nines per slot, from the slot state history.
 *
 * Owns: the bookkeeping of report.h.  Pure computation: no I/O, no
 * clock (the caller says what "now" is).  The definition (report.h,
 * docs/protocol.md "report") in short: a slot is in service while its
 * card is on (or blinking before a removal it may still cancel); an
 * outage runs from the moment an in-service slot leaves service until a
 * card is in service in it again, except that the time a slot spends
 * empty after the operator took its card down is not counted (the
 * operator emptied it: that is not an outage).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _POSIX_C_SOURCE 200809L
#include "report.h"
#include "alloc.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct outage {
	int64_t start, end;     /* end -1: still out */
	int64_t counted;        /* ns counted so far */
	int64_t count_from;     /* counting since; -1 paused (emptied) */
	bool by_operator;       /* began with an operator's removal */
	bool replaced;          /* the slot was found empty meanwhile */
};

struct slot_hist {
	char *name;
	int64_t last_time;
	bool known;             /* a state has been seen */
	char state[16];
	int64_t up, up_since;   /* up_since -1: not in service */
	struct outage *out;
	size_t nout, cap;
};

struct hsd_report {
	struct slot_hist *slots;
	size_t n, cap;
	bool booting;
};

struct hsd_report *hsd_report_new(void)
{
	return hsd_calloc(1, sizeof(struct hsd_report));
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
		void *p = hsd_realloc(r->slots, nc * sizeof(*r->slots));

		if (!p)
			return NULL;
		r->slots = p;
		r->cap = nc;
	}
	s = &r->slots[r->n];
	memset(s, 0, sizeof(*s));
	s->name = hsd_strdup(name);
	if (!s->name)
		return NULL;
	s->last_time = INT64_MIN;
	s->up_since = -1;
	r->n++;
	return s;
}

/* Blinking before a removal the operator may still cancel, the card
 * still serves. */
static bool serving(const char *state)
{
	return !strcmp(state, "on") || !strcmp(state, "blinking-off");
}

static struct outage *open_outage(struct slot_hist *s)
{
	return s->nout && s->out[s->nout - 1].end < 0 ? &s->out[s->nout - 1]
						       : NULL;
}

/* The slot goes from its state to `to` at time. */
static int move(struct slot_hist *s, int64_t time, const char *to)
{
	bool was = s->known && serving(s->state), now = serving(to);
	struct outage *u = open_outage(s);

	if (was && !now) {
		if (s->nout == s->cap) {
			size_t nc = s->cap ? 2 * s->cap : 8;
			void *p = hsd_realloc(s->out, nc * sizeof(*s->out));

			if (!p)
				return -ENOMEM;
			s->out = p;
			s->cap = nc;
		}
		s->up += time - s->up_since;
		s->up_since = -1;
		/* A removal the operator asked for (or the button, the same
		 * thing at the machine) goes through powering-off; anything
		 * else is a failure: a fault, a surprise pull, a lost link. */
		s->out[s->nout++] = (struct outage){
			.start = time, .end = -1, .count_from = time,
			.by_operator = !strcmp(to, "powering-off"),
		};
		u = &s->out[s->nout - 1];
	} else if (!was && now) {
		if (u) {
			if (u->count_from >= 0)
				u->counted += time - u->count_from;
			u->end = time;
		}
		s->up_since = time;
	}
	if (u && u->end < 0) {
		if (!strcmp(to, "empty")) {
			u->replaced = true;
			if (u->by_operator && u->count_from >= 0) {
				/* Emptied by the operator: not counted. */
				u->counted += time - u->count_from;
				u->count_from = -1;
			}
		} else if (u->count_from < 0) {
			u->count_from = time;   /* a card is back in */
		}
	}
	s->known = true;
	snprintf(s->state, sizeof(s->state), "%s", to);
	s->last_time = time;
	return 0;
}

int hsd_report_feed(struct hsd_report *r, const char *slot, int64_t time,
		    const char *from, const char *to)
{
	struct slot_hist *s;

	if (r->booting)
		return 0;       /* reconciled by the snapshot at ready */
	if (!(s = slot_get(r, slot)))
		return -ENOMEM;
	if (time < s->last_time)
		return -EINVAL;
	if (!s->known) {
		/* History that begins with the slot already in a state. */
		s->known = true;
		snprintf(s->state, sizeof(s->state), "%s", from);
		if (serving(from))
			s->up_since = time;
	}
	return move(s, time, to);
}

int hsd_report_snapshot(struct hsd_report *r, const char *slot,
			int64_t time, const char *state)
{
	struct slot_hist *s = slot_get(r, slot);

	if (!s)
		return -ENOMEM;
	if (time < s->last_time)
		return -EINVAL;
	if (!s->known) {
		s->known = true;
		snprintf(s->state, sizeof(s->state), "%s", state);
		if (serving(state))
			s->up_since = time;
		s->last_time = time;
		return 0;
	}
	return move(s, time, state);
}

void hsd_report_booting(struct hsd_report *r, bool booting)
{
	r->booting = booting;
}

static double secs(int64_t ns)
{
	return (double)ns / 1e9;
}

static json_t *slot_report(const struct slot_hist *s, int64_t now)
{
	json_t *o = json_object(), *arr = json_array();
	int64_t down = 0, up = s->up, closed_sum = 0;
	unsigned replacements = 0, closed = 0;
	double avail, n9 = 0;
	bool bound = false;

	if (!o || !arr)
		goto fail;
	if (s->up_since >= 0 && now > s->up_since)
		up += now - s->up_since;
	for (size_t i = 0; i < s->nout; i++) {
		const struct outage *u = &s->out[i];
		int64_t counted = u->counted;
		json_t *e;

		if (u->end < 0 && u->count_from >= 0 && now > u->count_from)
			counted += now - u->count_from;
		/* "end" is set on its own: json_pack (jansson 2.14) leaks an
		 * object argument when it runs out of memory before taking
		 * it over; json_object_set_new releases it on failure. */
		e = json_pack("{s:f, s:f, s:b, s:s, s:b}", "start",
			      secs(u->start), "seconds", secs(counted),
			      "replaced", u->replaced, "cause",
			      u->by_operator ? "operator" : "failure", "emptied",
			      u->end < 0 && u->count_from < 0);
		if (!e)
			goto fail;
		if (json_object_set_new(e, "end",
					u->end < 0 ? json_null()
						   : json_real(secs(u->end)))) {
			json_decref(e);
			goto fail;
		}
		if (json_array_append_new(arr, e))
			goto fail;
		down += counted;
		if (u->end >= 0) {
			closed++;
			closed_sum += counted;
			if (u->replaced)
				replacements++;
		}
	}
	avail = up + down > 0 ? (double)up / (double)(up + down) : 1.0;
	if (down > 0 && avail < 1.0) {
		n9 = -log10(1.0 - avail);
	} else if (up >= 1000000000) {
		/* Never out: the history's one-second resolution bounds it. */
		n9 = log10(secs(up));
		bound = true;
	}
	if (json_object_set_new(o, "slot", json_string(s->name)) ||
	    json_object_set_new(o, "state", json_string(s->state)) ||
	    json_object_set_new(o, "in_service", json_boolean(serving(s->state))) ||
	    json_object_set_new(o, "replacements", json_integer(replacements)) ||
	    json_object_set(o, "outages", arr) ||
	    json_object_set_new(o, "in_service_s", json_real(secs(up))) ||
	    json_object_set_new(o, "out_of_service_s", json_real(secs(down))) ||
	    json_object_set_new(o, "observed_s", json_real(secs(up + down))) ||
	    json_object_set_new(o, "mttr_s", closed ? json_real(secs(closed_sum) /
								closed)
						    : json_null()) ||
	    json_object_set_new(o, "availability", json_real(avail)) ||
	    json_object_set_new(o, "nines", json_real(n9 > 0 ? n9 : 0.0)) ||
	    json_object_set_new(o, "nines_lower_bound", json_boolean(bound))) {
		json_decref(o);
		o = NULL;
	}
	/* o holds its own reference to the outages (json_object_set), so
	 * a failure before "outages" was set does not leak them. */
	json_decref(arr);
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
		const struct slot_hist *s = &r->slots[i];
		json_t *o;

		if (!s->nout && s->up_since < 0 && !s->up)
			continue;       /* never in service */
		o = slot_report(s, now);
		if (!o || json_array_append_new(all, o)) {
			json_decref(all);
			return NULL;
		}
	}
	return all;
}
