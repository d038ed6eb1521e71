/*
 * methods.c - the requests of hotswapd's protocol (docs/protocol.md).
 *
 * Owns: the method table (name, access needed, handler), parameter
 * checking with errors that name the parameter, the JSON views of slots
 * and devices, and the operator's flows: query-remove agents before any
 * removal, then the back-end's request, then the reply.  The machine is
 * reached only through the back-end seam (backend.h); a back-end's own
 * methods (the simulator's "sim.*") come from its ops table.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include "daemon_internal.h"
#include "alloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "report.h"

/* ---- replies ---------------------------------------------------------------- */

json_t *hsd_reply(json_t *id, json_t *result)
{
	/* No result: building it ran out of memory (an empty result is
	 * json_object()); an empty reply would pass for success. */
	json_t *r = result ? json_object() : NULL;

	/* Built by hand: json_pack (jansson 2.14) leaks an object argument
	 * when it runs out of memory before it takes it over. */
	if (r && (json_object_set(r, "id", id ? id : json_null()) ||
		  json_object_set(r, "result", result))) {
		json_decref(r);
		r = NULL;
	}
	json_decref(result);
	return r ? r : hsd_error(id, "failed", ENOMEM, "%s", HSD_REPLY_OOM);
}

json_t *hsd_error(json_t *id, const char *code, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:O?, s:{s:s, s:i, s:s}}", "id", id, "error",
			 "code", code, "errno", err, "message", msg);
}


/* ---- parameters --------------------------------------------------------------- */

const char *hsd_p_str(struct call *k, const char *name, bool required,
			 bool *bad)
{
	json_t *v = json_object_get(k->params, name);

	if (!v) {
		if (required) {
			FAIL(k, "invalid-params", EINVAL,
			     "missing parameter '%s'", name);
			*bad = true;
		}
		return NULL;
	}
	if (json_is_integer(v)) {
		/* Slot numbers may come as numbers. */
		static char buf[32];

		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		return buf;
	}
	if (!json_is_string(v)) {
		FAIL(k, "invalid-params", EINVAL,
		     "parameter '%s' must be a string", name);
		*bad = true;
		return NULL;
	}
	return json_string_value(v);
}

bool hsd_p_bool(struct call *k, const char *name, bool def, bool *bad)
{
	json_t *v = json_object_get(k->params, name);

	if (!v)
		return def;
	if (!json_is_boolean(v)) {
		FAIL(k, "invalid-params", EINVAL,
		     "parameter '%s' must be true or false", name);
		*bad = true;
		return def;
	}
	return json_is_true(v);
}

int64_t hsd_p_int(struct call *k, const char *name, int64_t def,
		     int64_t min, int64_t max, bool *bad)
{
	json_t *v = json_object_get(k->params, name);
	int64_t x;

	if (!v)
		return def;
	if (!json_is_integer(v) ||
	    (x = json_integer_value(v)) < min || x > max) {
		FAIL(k, "invalid-params", EINVAL,
		     "parameter '%s' must be an integer from %" PRId64
		     " to %" PRId64, name, min, max);
		*bad = true;
		return def;
	}
	return x;
}

/* The slot named by the "slot" parameter, into v. */
static bool p_slot(struct call *k, struct hsd_slot_view *v, bool *bad)
{
	const char *name = hsd_p_str(k, "slot", true, bad);
	struct hsd *d = k->d;

	if (*bad)
		return false;
	if (d->be_ops->slot_get(d->be, name, v)) {
		FAIL(k, "not-found", ENOENT, "no slot named '%s' (hotswapctl "
		     "list shows the slots)", name);
		*bad = true;
		return false;
	}
	return true;
}

/* A device by bus address ("0000:03:00.0", "03:00.0") or stable name. */
static int find_dev(struct hsd *d, const char *what, struct hsd_dev_view *v)
{
	hs_bdf_t b;

	if (hsd_parse_bdf(what, &b) == 0)
		return d->be_ops->dev_get(d->be, b, v);
	for (size_t i = 0; i < d->ndevs; i++)
		if (!strcmp(d->devs[i].name, what))
			return d->be_ops->dev_get(d->be, d->devs[i].bdf, v);
	return -ENOENT;
}

/* ---- what a back-end's methods may use ----------------------------------------- */

struct hsd_backend *hsd_call_backend(const struct call *k)
{
	return k->d->be;
}

bool hsd_call_virtual_clock(const struct call *k)
{
	return k->d->cfg.virtual_clock;
}

int64_t hsd_call_now(const struct call *k)
{
	return hsd_now(k->d);
}

void hsd_call_publish(const struct call *k, const char *type,
		      const char *slot, json_t *ev)
{
	hsd_publish(k->d, type, slot, ev);
}

struct call *hsd_call_detach(const struct call *k)
{
	struct call *c = hsd_malloc(sizeof(*c));

	if (!c)
		return NULL;
	*c = *k;
	hsd_client_ref(c->c);
	json_incref(c->id);
	json_incref(c->params);
	return c;
}

void hsd_call_release(struct call *k)
{
	if (!k)
		return;
	hsd_client_unref(k->c);
	json_decref(k->id);
	json_decref(k->params);
	free(k);
}

int hsd_call_find_dev(const struct call *k, const char *what, hs_bdf_t *bdf)
{
	struct hsd_dev_view v;
	int rc = find_dev(k->d, what, &v);

	if (!rc)
		*bdf = v.bdf;
	return rc;
}

/* ---- views ------------------------------------------------------------------------ */


static json_t *dev_json(struct hsd *d, const struct hsd_dev_view *v)
{
	char b[16], id[16], sub[16], cls[8];
	struct hsd_devinfo *di = hsd_devinfo(d, v->bdf);
	json_t *o, *bars = json_array(), *wins = json_array();

	hsd_fmt_bdf(v->bdf, b, sizeof(b));
	snprintf(id, sizeof(id), "%04x:%04x", v->vendor, v->device);
	snprintf(sub, sizeof(sub), "%04x:%04x", v->subsys_vendor, v->subsys);
	snprintf(cls, sizeof(cls), "%06x", (unsigned)v->class_code);
	o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:b}", "bdf", b, "id", id,
		      "subsys", sub, "class", cls, "bridge", v->bridge,
		      "hotplug_bridge", v->hotplug_bridge, "blocked",
		      v->blocked);
	if (v->has_parent) {
		hsd_fmt_bdf(v->parent, b, sizeof(b));
		json_object_set_new(o, "parent", json_string(b));
	}
	if (v->driver)
		json_object_set_new(o, "driver", json_string(v->driver));
	if (v->isolated)
		json_object_set_new(o, "isolated", json_string(v->isolated));
	if (di && di->name[0]) {
		json_object_set_new(o, "name", json_string(di->name));
		json_object_set_new(o, "minor", json_integer(di->minor));
	}
	if (di && di->slot[0])
		json_object_set_new(o, "slot", json_string(di->slot));
	if (v->has_serial) {
		char sn[20];

		snprintf(sn, sizeof(sn), "%016" PRIx64, v->serial);
		json_object_set_new(o, "serial", json_string(sn));
	}
	for (unsigned i = 0; i < v->nbars; i++) {
		const struct hs_resource *r = &v->bars[i].r;

		json_array_append_new(bars, json_pack(
			"{s:i, s:s, s:I, s:I, s:b, s:b}", "bar", v->bars[i].bar,
			"kind", hs_res_kind_name(r->kind), "start", (json_int_t)r->start,
			"size", (json_int_t)r->size, "prefetch", r->prefetch,
			"is64", r->is64));
	}
	for (unsigned i = 0; i < v->nwins; i++)
		json_array_append_new(wins, json_pack(
			"{s:s, s:I, s:I}", "kind", hs_res_kind_name(v->wins[i].kind),
			"start", (json_int_t)v->wins[i].start, "size",
			(json_int_t)v->wins[i].size));
	json_object_set_new(o, "bars", bars);
	json_object_set_new(o, "windows", wins);
	if (v->has_irq)
		json_object_set_new(o, "irq", json_pack(
			"{s:s, s:i, s:i}", "kind",
			v->irq.kind == HS_IRQ_MSI ? "msi" : "intx", "number",
			(int)v->irq.number, "vectors", (int)v->nvec));
	if (v->bus_master >= 0)
		json_object_set_new(o, "bus_master",
				    json_boolean(v->bus_master));
	return o;
}

static bool in_slot(const struct hsd_dev_view *v, const char *slot)
{
	return v->slot && !strcmp(v->slot, slot);
}

/* The functions on the card in a slot, parents first (at most max). */
static unsigned slot_devices(struct hsd *d, const char *slot,
			     bool only_blocked, hs_bdf_t *list, unsigned max)
{
	struct hsd_dev_view v;
	unsigned n = 0;

	for (void *c = d->be_ops->dev_next(d->be, NULL, &v); c && n < max;
	     c = d->be_ops->dev_next(d->be, c, &v))
		if (in_slot(&v, slot) && (!only_blocked || v.blocked))
			list[n++] = v.bdf;
	return n;
}

static bool slot_disabled(struct hsd *d, const char *name)
{
	char v[8];

	return hsd_db_slot_get(d->db, name, "disabled", v, sizeof(v)) == 0 &&
	       !strcmp(v, "1");
}

/*
 * cfgadm's condition of an attachment point: unusable (the operator
 * disabled it), failed (a power fault latched), failing (a function on
 * the card fenced off), ok (in service), unknown otherwise.
 */
static const char *slot_condition(const struct hs_slot_info *si,
				  bool disabled, json_t *devs)
{
	size_t i;
	json_t *dv;

	if (disabled)
		return "unusable";
	if (si->power_fault || si->state == HS_SLOT_FAULT)
		return "failed";
	json_array_foreach(devs, i, dv)
		if (json_object_get(dv, "isolated"))
			return "failing";
	return si->state == HS_SLOT_ON || si->state == HS_SLOT_BLINKING_OFF
		       ? "ok" : "unknown";
}

/* cfgadm's type: what the occupant is, by its first function's class
 * (PCI Code and ID Assignment, base classes). */
static const char *occupant_type(const struct hs_slot_info *si, json_t *devs)
{
	static const char *const base[] = {
		"unclassified", "storage", "network", "display",
		"multimedia", "memory", "bridge", "communication",
		"system", "input", "docking", "processor", "serial-bus",
		"wireless", "intelligent-io", "satellite", "encryption",
		"signal-processing", "accelerator", "instrumentation",
	};
	const char *cls = json_string_value(json_object_get(
		json_array_get(devs, 0), "class"));
	unsigned long c;

	if (!cls)
		return si->present ? "unknown" : "none";
	c = strtoul(cls, NULL, 16) >> 16;
	return c < sizeof(base) / sizeof(base[0]) ? base[c] : "unknown";
}

/*
 * The hot-plug reservation kept under the slot's bridge (what a card
 * inserted later can use without moving anything, docs/core.md) and
 * where each value came from, then the bridge's windows as they are.
 * Built first: the view's strings live until the next back-end call.
 */
static json_t *reservation_json(struct hsd *d, const struct hsd_slot_view *sv)
{
	static const char *const keys[] = { "buses", "io", "mem", "pref" };
	const struct hs_reserve *r = &sv->reserve;
	const uint64_t val[] = { r->bus, r->io, r->mem, r->pref };
	struct hsd_dev_view bv;
	json_t *o = json_pack("{s:b}", "managed", sv->reserve_managed);

	if (sv->reserve_note)
		json_object_set_new(o, "note", json_string(sv->reserve_note));
	for (unsigned i = 0; sv->reserve_managed && i < HS_RES_COUNT; i++)
		json_object_set_new(o, keys[i], json_pack(
			"{s:I, s:s}", "value", (json_int_t)val[i], "from",
			sv->reserve_from[i] ? sv->reserve_from[i] : "default"));
	if (d->be_ops->dev_get(d->be, sv->info.bridge, &bv) == 0) {
		json_t *w = json_array();

		for (unsigned i = 0; i < bv.nwins; i++)
			json_array_append_new(w, json_pack(
				"{s:s, s:I, s:I}", "kind",
				hs_res_kind_name(bv.wins[i].kind), "start",
				(json_int_t)bv.wins[i].start, "size",
				(json_int_t)bv.wins[i].size));
		json_object_set_new(o, "windows", w);
	}
	return o;
}

static json_t *slot_json(struct hsd *d, const struct hsd_slot_view *sv,
			 bool detail)
{
	static const char *const cap_names[] = {
		"power", "button", "mrl", "attention-indicator",
		"power-indicator", "surprise", "interlock", "link-report",
		"link-control", "latch-asks",
	};
	static const char *const policy_names[] = { "default", "presence",
						    "request", "disabled" };
	const struct hs_slot_info *si = &sv->info;
	struct hsd_dev_view v;
	json_t *o, *devs = json_array(), *caps = json_array();
	json_t *resv = reservation_json(d, sv);
	char name[64];
	bool connected;
	char b[16];

	/* The views below are the back-end's; keep the name. */
	snprintf(name, sizeof(name), "%s", si->name);
	connected = si->state == HS_SLOT_ON || si->state == HS_SLOT_POWERING_ON ||
		    si->state == HS_SLOT_BLINKING_OFF ||
		    si->state == HS_SLOT_POWERING_OFF ||
		    si->state == HS_SLOT_CONNECTED;
	for (unsigned i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
		if (si->caps & (1u << i))
			json_array_append_new(caps, json_string(cap_names[i]));
	hsd_fmt_bdf(si->bridge, b, sizeof(b));
	o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:b, s:b, s:s, s:s, s:b,"
		      " s:b, s:b, s:s, s:b, s:s}",
		      "slot", name, "number", (int)si->phys, "kind", si->kind,
		      "state", hs_slot_state_name(si->state), "receptacle",
		      !si->present ? "empty" : connected ? "connected"
							 : "disconnected",
		      "power", si->powered, "adapter", si->present,
		      "attention", hs_indicator_name(si->attn_ind), "power_indicator",
		      hs_indicator_name(si->power_ind), "link", si->link_up,
		      "power_fault", si->power_fault, "busy", si->busy,
		      "policy", policy_names[si->policy & 3],
		      "disabled", slot_disabled(d, name),
		      "bridge", b);
	json_object_set_new(o, "latch", (si->caps & HS_SLOT_CAP_MRL)
					? json_string(si->latch_open ? "open"
								     : "closed")
					: json_null());
	json_object_set_new(o, "devnum", json_integer(si->devnum));
	json_object_set_new(o, "caps", caps);
	json_object_set_new(o, "reservation", resv);
	/* The slot's own last refusal, else why the service last stopped
	 * something on it (an agent cancelling the button's removal). */
	json_object_set_new(o, "reason", json_string(
		si->reason && *si->reason ? si->reason
		: hsd_slot_note(d, name) ? hsd_slot_note(d, name) : ""));
	json_object_set_new(o, "transitions",
			    json_integer((json_int_t)si->transitions));
	if (sv->controller)
		json_object_set_new(o, "controller",
				    json_string(sv->controller));
	if (sv->address[0])
		json_object_set_new(o, "address", json_string(sv->address));
	{
		int64_t when = hsd_slot_changed(d, name);

		json_object_set_new(o, "changed", when < 0 ? json_null()
					: json_integer((json_int_t)when));
	}
	if (sv->has_regs && si->link_up && (sv->lnksta & 0x3f0)) {
		/* PCIe 7.5.3.8: Current Link Speed (an index into the
		 * Supported Link Speeds vector) and Negotiated Link Width,
		 * undefined while the link is down: shown only when up. */
		static const char *const gts[] = { "?", "2.5", "5", "8",
						   "16", "32", "64" };
		unsigned sp = sv->lnksta & 0xf;

		json_object_set_new(o, "link_speed", json_string(
			sp < sizeof(gts) / sizeof(gts[0]) ? gts[sp] : "?"));
		json_object_set_new(o, "link_width",
				    json_integer((sv->lnksta >> 4) & 0x3f));
	}
	{
		/* The state machine's own value for the state (on when on,
		 * blinking while changing, else off): anything else was
		 * the operator's (slot.power_indicator), until the next
		 * state change. */
		enum hs_indicator own =
			si->state == HS_SLOT_ON || si->state == HS_SLOT_CONNECTED
				? HS_IND_ON
			: si->state == HS_SLOT_EMPTY || si->state == HS_SLOT_OFF ||
			  si->state == HS_SLOT_FAULT ? HS_IND_OFF : HS_IND_BLINK;

		if (si->caps & HS_SLOT_CAP_PWR_IND)
			json_object_set_new(o, "power_indicator_by",
					    json_string(si->power_ind == own
							? "slot" : "operator"));
	}
	if (sv->blue_led >= 0)
		json_object_set_new(o, "blue_led", json_boolean(sv->blue_led));
	if (detail && sv->has_regs)
		json_object_set_new(o, "registers", json_pack(
			"{s:i, s:i, s:i, s:i}", "sltcap", (int)sv->sltcap,
			"sltctl", (int)sv->sltctl, "sltsta", (int)sv->sltsta,
			"lnksta", (int)sv->lnksta));
	for (void *c = d->be_ops->dev_next(d->be, NULL, &v); c;
	     c = d->be_ops->dev_next(d->be, c, &v))
		if (in_slot(&v, name))
			json_array_append_new(devs, dev_json(d, &v));
	json_object_set_new(o, "occupant", json_string(
		json_array_size(devs) ? "configured" : "unconfigured"));
	json_object_set_new(o, "condition", json_string(
		slot_condition(si, slot_disabled(d, name), devs)));
	json_object_set_new(o, "type", json_string(
		occupant_type(si, devs)));
	json_object_set_new(o, "devices", devs);
	return o;
}

/* ---- read-only methods --------------------------------------------------------- */

static void m_hello(struct call *k)
{
	REPLY(k, json_pack("{s:i, s:s, s:s, s:i}", "protocol", HSD_PROTOCOL,
			   "version", "0.1.0", "access",
			   k->c->access == HSD_ACC_ADMIN ? "admin"
							 : "read-only",
			   "uid", (int)k->c->uid));
}

static void m_status(struct call *k)
{
	struct hsd *d = k->d;
	struct hsd_agents_stats as = { 0 };
	struct hsd_slot_view v;
	unsigned nslots = 0;
	json_t *st;

	for (void *c = d->be_ops->slot_next(d->be, NULL, &v); c;
	     c = d->be_ops->slot_next(d->be, c, &v))
		nslots++;
	if (d->agents)
		hsd_agents_stats(d->agents, &as);
	st = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:i, s:i, "
			   "s:{s:I, s:I, s:I}, s:I, s:s, s:s}",
			   "platform", d->be_ops->name, "backend_chosen_by",
			   d->be_why, "chassis", d->be_ops->chassis(d->be),
			   "clock",
			   d->cfg.virtual_clock ? "virtual" : "realtime",
			   "time", (json_int_t)hsd_now(d), "chassis_time",
			   (json_int_t)d->be_ops->now(d->be), "seq",
			   (json_int_t)d->seq, "slots", (int)nslots,
			   "devices", (int)d->ndevs, "agents", "runs",
			   (json_int_t)as.runs, "failures",
			   (json_int_t)as.failures, "timeouts",
			   (json_int_t)as.timeouts, "db_errors",
			   (json_int_t)d->db_errors, "state_dir",
			   d->cfg.state_dir, "socket", d->cfg.socket);
	if (st && d->be_ops->driver_ledger) {
		struct hsd_driver_ledger l;

		if (d->be_ops->driver_ledger(d->be, &l) == 0)
			json_object_set_new(st, "driver_requests", json_pack(
				"{s:I, s:I, s:I, s:I, s:I, s:I}",
				"submitted", (json_int_t)l.submitted,
				"completed", (json_int_t)l.completed,
				"failed", (json_int_t)l.failed,
				"refused", (json_int_t)l.refused,
				"in_flight", (json_int_t)l.in_flight,
				/* Neither finished nor still in hand. */
				"lost", (json_int_t)(l.submitted - l.completed -
						      l.failed - l.in_flight)));
	}
	if (st) {
		unsigned long n = 0;

		/* Clients now, and those cut off since start for not reading
		 * their replies or flooding requests (server.c). */
		for (struct hsd_client *c = d->clients; c; c = c->next)
			n++;
		json_object_set_new(st, "clients", json_pack(
			"{s:I, s:I}", "connected", (json_int_t)n, "cut_off",
			(json_int_t)d->clients_cut_off));
	}
	REPLY(k, st);
}

static void m_slot_list(struct call *k)
{
	struct hsd *d = k->d;
	struct hsd_slot_view v;
	json_t *a = json_array();

	for (void *c = d->be_ops->slot_next(d->be, NULL, &v); c;
	     c = d->be_ops->slot_next(d->be, c, &v))
		json_array_append_new(a, slot_json(d, &v, false));
	REPLY(k, a);
}

static void m_slot_show(struct call *k)
{
	bool bad = false;
	struct hsd_slot_view v;

	if (p_slot(k, &v, &bad))
		REPLY(k, slot_json(k->d, &v, true));
}

static void m_device_list(struct call *k)
{
	struct hsd *d = k->d;
	bool bad = false;
	bool only_blocked = hsd_p_bool(k, "blocked", false, &bad);
	struct hsd_dev_view v;
	json_t *a;

	if (bad)
		return;
	a = json_array();
	for (void *c = d->be_ops->dev_next(d->be, NULL, &v); c;
	     c = d->be_ops->dev_next(d->be, c, &v))
		if (!only_blocked || v.blocked)
			json_array_append_new(a, dev_json(d, &v));
	REPLY(k, a);
}

/* USBGuard's "block": a running function loses its driver, decode and
 * bus mastering; it stays visible, blocked, until authorized again.
 * With permanent, a rule blocks that card from now on. */
static void m_device_block(struct call *k)
{
	struct hsd *d = k->d;
	bool bad = false;
	const char *what = hsd_p_str(k, "device", true, &bad);
	bool permanent = bad ? false : hsd_p_bool(k, "permanent", false, &bad);
	struct hsd_dev_view v;
	char b[16], msg[256], why[320];
	int rc;

	if (bad)
		return;
	if (!d->be_ops->deauthorize) {
		FAIL(k, "not-supported", ENOTSUP, "the %s back-end cannot block "
		     "a running function", d->be_ops->name);
		return;
	}
	if (find_dev(d, what, &v)) {
		FAIL(k, "not-found", ENOENT, "no device '%s'", what);
		return;
	}
	hsd_fmt_bdf(v.bdf, b, sizeof(b));
	if (permanent) {
		struct hsd_card_id id;
		char rule[256], err[256], drop[256];

		hsd_card_id(&v, &id);
		/* The latest permanent decision for a card is the one that
		 * stands: an earlier allow rule for it goes. */
		if (hsd_policy_rule_for(&id, HSD_BLOCK, rule, sizeof(rule)) >=
			    (int)sizeof(rule) ||
		    hsd_policy_rule_for(&id, HSD_ALLOW, drop, sizeof(drop)) >=
			    (int)sizeof(drop) ||
		    hsd_db_rule_replace(d->db, rule, drop, hsd_now(d)) ||
		    hsd_policy_reload(d, err, sizeof(err))) {
			FAIL(k, "failed", EIO, "storing the rule for %s failed: "
			     "%s", b, hsd_db_errmsg(d->db));
			return;
		}
		snprintf(why, sizeof(why), "blocked permanently by uid %u: %s",
			 (unsigned)k->c->uid, rule);
	} else {
		snprintf(why, sizeof(why), "blocked by uid %u",
			 (unsigned)k->c->uid);
	}
	rc = d->be_ops->deauthorize(d->be, v.bdf, msg, sizeof(msg));
	if (rc) {
		FAIL(k, rc == -EBUSY ? "refused" : "failed", -rc, "%s: %s", b,
		     msg);
		return;
	}
	hsd_record_decision(d, &v, "block", why);
	if (d->be_ops->dev_get(d->be, v.bdf, &v) == 0)
		REPLY(k, dev_json(d, &v));
	else
		REPLY(k, json_object());
}

/* USBGuard's generate-policy: one allow rule per function present (its
 * ids and subsystem, its serial or else its slot), in rule-file syntax. */
static void m_policy_generate(struct call *k)
{
	struct hsd *d = k->d;
	struct hsd_dev_view v;
	json_t *a = json_array();

	for (void *c = d->be_ops->dev_next(d->be, NULL, &v); c;
	     c = d->be_ops->dev_next(d->be, c, &v)) {
		struct hsd_card_id id;
		char rule[256];

		if (v.hotplug_bridge || !v.slot)
			continue;       /* ports and soldered functions */
		hsd_card_id(&v, &id);
		if (hsd_policy_rule_for(&id, v.blocked ? HSD_BLOCK : HSD_ALLOW,
					rule, sizeof(rule)) >= (int)sizeof(rule))
			continue;
		{
			/* Functions of one card often share one rule. */
			size_t i;
			json_t *r;
			bool seen = false;

			json_array_foreach(a, i, r)
				seen |= !strcmp(json_string_value(r), rule);
			if (!seen)
				json_array_append_new(a, json_string(rule));
		}
	}
	REPLY(k, json_pack("{s:o}", "rules", a));
}

/* udevadm trigger: the agents get an "add" event (and "bind" for a bound
 * function) for every function present, as if it had just come. */
static void m_agents_trigger(struct call *k)
{
	struct hsd *d = k->d;
	struct hsd_dev_view v;
	unsigned n = 0;

	if (!d->agents) {
		FAIL(k, "busy", EBUSY, "the service is stopping");
		return;
	}
	for (void *c = d->be_ops->dev_next(d->be, NULL, &v); c;
	     c = d->be_ops->dev_next(d->be, c, &v)) {
		struct hsd_devinfo *di = hsd_devinfo(d, v.bdf);
		struct envbuf e;

		if (!di)
			continue;
		hsd_publish(d, "trigger", di->slot[0] ? di->slot : NULL,
			    json_pack("{s:s, s:s?}", "action", "add", "name",
				      di->name[0] ? di->name : NULL));
		hsd_agent_env(d, di, "add", d->seq, v.driver, &e);
		if (hsd_agents_event(d->agents, d->seq, (const char *const *)e.v))
			continue;
		n++;
	}
	REPLY(k, json_pack("{s:i}", "triggered", (int)n));
}

static void m_device_show(struct call *k)
{
	bool bad = false;
	const char *what = hsd_p_str(k, "device", true, &bad);
	struct hsd_dev_view v;

	if (bad)
		return;
	if (find_dev(k->d, what, &v)) {
		FAIL(k, "not-found", ENOENT, "no device '%s' (give a bus "
		     "address like 0000:03:00.0 or a name like net0)", what);
		return;
	}
	REPLY(k, dev_json(k->d, &v));
}

static int collect_event(void *arg, const struct hsd_event_row *ev)
{
	json_t *a = arg, *o = hsd_loadb(ev->json, strlen(ev->json), 0, NULL);

	if (o)
		json_array_append_new(a, o);
	return 0;
}

static void m_events_history(struct call *k)
{
	bool bad = false;
	const char *slot = hsd_p_str(k, "slot", false, &bad);
	int64_t after = hsd_p_int(k, "after", 0, 0, INT64_MAX, &bad);
	int64_t since = hsd_p_int(k, "since", INT64_MIN, INT64_MIN, INT64_MAX, &bad);
	int64_t limit = hsd_p_int(k, "limit", 1000, 0, 100000, &bad);
	json_t *a;

	if (bad)
		return;
	/* One rule, with or without filters: without a starting point
	 * ("after") the newest `limit` events that match; with one, the
	 * oldest `limit` after it (paging forward).  Oldest first. */
	a = json_array();
	if ((json_object_get(k->params, "after")
		     ? hsd_db_events(k->d->db, (uint64_t)after, slot, since,
				     (unsigned)limit, collect_event, a)
		     : hsd_db_events_newest(k->d->db, slot, since,
					    (unsigned)limit, collect_event,
					    a)) < 0) {
		json_decref(a);
		FAIL(k, "failed", EIO, "reading the history: %s",
		     hsd_db_errmsg(k->d->db));
		return;
	}
	REPLY(k, a);
}

/* Replay from the history, then live: the replay runs in chunks between
 * other clients' turns (server.c) and live events follow exactly where it
 * stops. */
static void m_events_subscribe(struct call *k)
{
	bool bad = false;
	int64_t after = hsd_p_int(k, "after", -1, -1, INT64_MAX, &bad);
	uint64_t first = 0;

	if (bad)
		return;
	if (hsd_db_event_first(k->d->db, &first) < 0) {
		FAIL(k, "failed", EIO, "reading the history: %s",
		     hsd_db_errmsg(k->d->db));
		return;
	}
	if (after < 0)
		after = (int64_t)k->d->seq;
	REPLY(k, json_pack("{s:I, s:I, s:b}", "first", (json_int_t)first,
			   "last", (json_int_t)k->d->seq, "gap",
			   first > (uint64_t)after + 1));
	k->c->subscribed = true;
	hsd_client_replay(k->c, (uint64_t)after);
}

static void m_events_unsubscribe(struct call *k)
{
	k->c->subscribed = false;
	REPLY(k, json_object());
}

static int rule_json(void *arg, int64_t id, const char *rule)
{
	json_array_append_new(arg, json_pack("{s:I, s:s}", "id",
					     (json_int_t)id, "rule", rule));
	return 0;
}

static void m_policy_rules(struct call *k)
{
	struct hsd *d = k->d;
	json_t *all = json_array(), *perm = json_array();

	for (unsigned i = 0; i < hsd_policy_count(d->policy); i++)
		json_array_append_new(all, json_string(hsd_policy_rule(d->policy,
								       i)));
	if (hsd_db_rules(d->db, rule_json, perm) < 0) {
		json_decref(all);
		json_decref(perm);
		FAIL(k, "failed", EIO, "reading the permanent rules: %s",
		     hsd_db_errmsg(d->db));
		return;
	}
	REPLY(k, json_pack("{s:o, s:o, s:s, s:s, s:s}", "rules", all,
			   "permanent", perm, "default_inserted",
			   hsd_policy_target_name(hsd_policy_default(d->policy,
								     false)),
			   "default_present",
			   hsd_policy_target_name(hsd_policy_default(d->policy,
								     true)),
			   "rule_file", d->cfg.rules));
}

static int decision_json(void *arg, const struct hsd_decision_row *r)
{
	json_array_append_new(arg, json_pack("{s:I, s:s?, s:s?, s:s?, s:s, s:s?}",
					     "time", (json_int_t)r->time,
					     "slot", r->slot, "bdf", r->bdf,
					     "ids", r->ids, "target", r->target,
					     "why", r->why));
	return 0;
}

static void m_policy_decisions(struct call *k)
{
	bool bad = false;
	int64_t limit = hsd_p_int(k, "limit", 100, 0, 100000, &bad);
	json_t *a;

	if (bad)
		return;
	a = json_array();
	if (hsd_db_decisions(k->d->db, (unsigned)limit, decision_json, a) < 0) {
		json_decref(a);
		FAIL(k, "failed", EIO, "reading the decisions: %s",
		     hsd_db_errmsg(k->d->db));
		return;
	}
	REPLY(k, a);
}

static int feed_report(void *arg, const struct hsd_event_row *ev)
{
	json_t *o;
	const char *from, *to, *msg;

	if (strcmp(ev->type, "slot-state") && strcmp(ev->type, "service") &&
	    strcmp(ev->type, "slot-snapshot"))
		return 0;
	o = hsd_loadb(ev->json, strlen(ev->json), 0, NULL);
	if (!o)
		return 0;
	from = json_string_value(json_object_get(o, "from"));
	to = json_string_value(json_object_get(o, "to"));
	msg = json_string_value(json_object_get(o, "msg"));
	if (!strcmp(ev->type, "service") && msg)
		hsd_report_booting(arg, !strcmp(msg, "starting"));
	else if (!strcmp(ev->type, "slot-snapshot") && ev->slot && to)
		hsd_report_snapshot(arg, ev->slot, ev->time, to);
	else if (ev->slot && from && to)
		hsd_report_feed(arg, ev->slot, ev->time, from, to);
	json_decref(o);
	return 0;
}

static void m_report(struct call *k)
{
	struct hsd_report *r = hsd_report_new();
	json_t *a, *res;

	if (!r) {
		FAIL(k, "failed", ENOMEM, "out of memory");
		return;
	}
	if (hsd_db_events(k->d->db, 0, NULL, INT64_MIN, 0, feed_report,
			  r) < 0) {
		hsd_report_free(r);
		FAIL(k, "failed", EIO, "reading the history: %s",
		     hsd_db_errmsg(k->d->db));
		return;
	}
	a = hsd_report_build(r, hsd_now(k->d));
	hsd_report_free(r);
	/* Built by hand: json_pack (jansson 2.14) leaks an object argument
	 * when it runs out of memory before it takes it over. */
	res = a ? json_object() : NULL;
	if (res && (json_object_set_new(res, "now",
					json_integer(hsd_now(k->d))) ||
		    json_object_set(res, "slots", a))) {
		json_decref(res);
		res = NULL;
	}
	json_decref(a);
	REPLY(k, res);
}

/* ---- rebalance now ------------------------------------------------------------ */

struct rb_call {
	struct hsd *d;
	struct hsd_client *c;
	json_t *id;
	bool done, detached;
};

static void rebalance_done(void *arg, int rc, const char *msg)
{
	struct rb_call *p = arg;

	p->done = true;
	hsd_publish(p->d, "operator", NULL,
		    json_pack("{s:s, s:i, s:s}", "request", "rebalance", "uid",
			      (int)p->c->uid, "outcome",
			      msg && *msg ? msg : rc ? "failed" : "done"));
	if (rc)
		hsd_client_send(p->c, hsd_error(p->id, rc == -EBUSY ? "busy"
								    : "failed",
						-rc, "rebalance: %s",
						msg && *msg ? msg
							    : strerror(-rc)));
	else
		hsd_client_send(p->c, hsd_reply(p->id, json_pack(
					"{s:s}", "result", msg ? msg : "")));
	if (p->detached) {
		hsd_client_unref(p->c);
		json_decref(p->id);
		free(p);
	}
}

static void m_rebalance(struct call *k)
{
	struct rb_call *p = hsd_calloc(1, sizeof(*p));

	if (!p) {
		FAIL(k, "failed", ENOMEM, "out of memory");
		return;
	}
	if (!k->d->be_ops->rebalance) {
		FAIL(k, "not-supported", ENOTSUP, "rebalance: the %s back-end "
		     "leaves resource placement to the operating system",
		     k->d->be_ops->name);
		free(p);
		return;
	}
	p->d = k->d;
	hsd_client_ref(k->c);
	p->c = k->c;
	p->id = json_incref(k->id);
	{
		int rc = k->d->be_ops->rebalance(k->d->be, rebalance_done, p);

		if (rc < 0 && !p->done)
			rebalance_done(p, rc, NULL);
	}
	hsd_settle(k->d, &p->done);
	if (p->done) {
		hsd_client_unref(p->c);
		json_decref(p->id);
		free(p);
	} else {
		p->detached = true;
	}
}

/* ---- the operator's requests ------------------------------------------------- */

/* cfgadm's four steps are requests of their own: configure is add (it
 * connects first when it must) and disconnect is remove (it unconfigures
 * first), as cfgadm -c does; connect and unconfigure stop half way. */
enum op { OP_ADD, OP_REMOVE, OP_REPLACE, OP_DISABLE, OP_ENABLE, OP_CONNECT,
	  OP_CONFIGURE, OP_UNCONFIGURE, OP_DISCONNECT };
static const char *const op_name[] = { "add", "remove", "replace",
				       "disable", "enable", "connect",
				       "configure", "unconfigure",
				       "disconnect" };

struct pending {
	struct hsd *d;
	struct hsd_client *c;
	json_t *id;
	enum op op;
	char slot[32];
	hs_bdf_t devs[64];      /* asked in order by query-remove */
	unsigned ndevs, at;
	enum hs_slot_policy old_policy;
	bool done, detached;
};

static void pending_free(struct pending *p)
{
	hsd_client_unref(p->c);
	json_decref(p->id);
	free(p);
}

static void operator_event(struct hsd *d, const char *slot, const char *what,
			   const struct hsd_client *c, const char *outcome)
{
	hsd_publish(d, "operator", slot,
		    json_pack("{s:s, s:i, s:s?}", "request", what, "uid",
			      (int)c->uid, "outcome", outcome));
}

/* The slot's view as a reply, or an empty result if it is gone. */
static json_t *slot_reply(struct hsd *d, const char *slot)
{
	struct hsd_slot_view v;

	return d->be_ops->slot_get(d->be, slot, &v) ? NULL
						    : slot_json(d, &v, false);
}

static void request_done(void *arg, int rc, const char *msg)
{
	struct pending *p = arg;
	struct hsd *d = p->d;

	p->done = true;
	if (rc) {
		if (p->op == OP_DISABLE)
			d->be_ops->slot_policy(d->be, p->slot, p->old_policy);
		operator_event(d, p->slot, op_name[p->op], p->c,
			       msg && *msg ? msg : "failed");
		hsd_client_send(p->c, hsd_error(p->id, rc == -EBUSY ? "refused"
								    : "failed",
						-rc, "slot %s: %s", p->slot,
						msg && *msg ? msg
							    : strerror(-rc)));
	} else {
		if (p->op == OP_DISABLE)
			hsd_db_slot_set(d->db, p->slot, "disabled", "1");
		operator_event(d, p->slot, op_name[p->op], p->c, "done");
		hsd_client_send(p->c, hsd_reply(p->id, slot_reply(d, p->slot)));
	}
	if (p->detached)
		pending_free(p);
}

/* The back-end's part of a request, once agents have had their say. */
static void issue(struct pending *p)
{
	struct hsd *d = p->d;
	struct hsd_slot_view v;
	char why[512] = "";
	int rc;

	if (d->be_ops->slot_get(d->be, p->slot, &v)) {
		hsd_client_send(p->c, hsd_error(p->id, "not-found", ENOENT,
						"slot %s is gone", p->slot));
		pending_free(p);
		return;
	}
	p->old_policy = v.info.policy;
	switch (p->op) {
	case OP_ADD:
	case OP_ENABLE:
	case OP_CONFIGURE:
		rc = d->be_ops->slot_request(d->be, p->slot, HSD_OP_ENABLE,
					     request_done, p, why, sizeof(why));
		break;
	case OP_CONNECT:
		rc = d->be_ops->slot_request(d->be, p->slot, HSD_OP_CONNECT,
					     request_done, p, why, sizeof(why));
		break;
	case OP_UNCONFIGURE:
		rc = d->be_ops->slot_request(d->be, p->slot,
					     HSD_OP_UNCONFIGURE, request_done,
					     p, why, sizeof(why));
		break;
	case OP_REPLACE:
		rc = d->be_ops->slot_request(d->be, p->slot, HSD_OP_REPLACE,
					     request_done, p, why, sizeof(why));
		break;
	case OP_DISABLE:
		/* Disabled first, so that neither presence nor the button
		 * brings the card back while it goes down. */
		d->be_ops->slot_policy(d->be, p->slot, HS_SLOT_POLICY_DISABLED);
		if (v.info.state == HS_SLOT_EMPTY ||
		    v.info.state == HS_SLOT_OFF) {
			rc = 0;
			request_done(p, 0, NULL);
			break;
		}
		rc = d->be_ops->slot_request(d->be, p->slot, HSD_OP_DISABLE,
					     request_done, p, why, sizeof(why));
		break;
	default:
		rc = d->be_ops->slot_request(d->be, p->slot, HSD_OP_DISABLE,
					     request_done, p, why, sizeof(why));
		break;
	}
	if (rc < 0) {
		if (p->op == OP_DISABLE)
			d->be_ops->slot_policy(d->be, p->slot, p->old_policy);
		operator_event(d, p->slot, op_name[p->op], p->c, why);
		hsd_client_send(p->c, hsd_error(p->id, rc == -EBUSY ? "busy"
								    : "refused",
						-rc, "slot %s: %s", p->slot,
						why));
		pending_free(p);
		return;
	}
	hsd_settle(d, &p->done);
	if (p->done)
		pending_free(p);
	else
		p->detached = true;
}

static void ask_next(struct pending *p);

static void query_done(void *arg, int rc, const char *agent,
		       const char *reason)
{
	struct pending *p = arg;
	struct hsd_devinfo *di = hsd_devinfo(p->d, p->devs[p->at]);

	if (rc) {
		char why[512];

		snprintf(why, sizeof(why), "%s%s refused: %s",
			 agent ? "agent " : "", agent ? agent : "agents",
			 reason ? reason : strerror(-rc));
		operator_event(p->d, p->slot, op_name[p->op], p->c, why);
		hsd_client_send(p->c, hsd_error(p->id, "refused", EBUSY,
						"slot %s: %s%s%s", p->slot,
						di && di->name[0] ? di->name : "",
						di && di->name[0] ? ": " : "",
						why));
		pending_free(p);
		return;
	}
	p->at++;
	ask_next(p);
}

static void ask_next(struct pending *p)
{
	if (!hsd_query_next(p->d, p->devs, p->ndevs, &p->at, query_done, p))
		issue(p);
}

static void operator_request(struct call *k, enum op op)
{
	bool bad = false;
	struct hsd_slot_view v;
	struct pending *p;
	const struct hs_slot_info *si = &v.info;

	if (!p_slot(k, &v, &bad))
		return;
	if ((op == OP_ADD || op == OP_REPLACE || op == OP_CONNECT ||
	     op == OP_CONFIGURE) && slot_disabled(k->d, si->name)) {
		FAIL(k, "refused", EPERM, "slot %s is disabled by the "
		     "operator: `hotswapctl enable %s` first", si->name,
		     si->name);
		return;
	}
	p = hsd_calloc(1, sizeof(*p));
	if (!p) {
		FAIL(k, "failed", ENOMEM, "out of memory");
		return;
	}
	p->d = k->d;
	p->c = k->c;
	hsd_client_ref(k->c);
	p->id = json_incref(k->id);
	p->op = op;
	snprintf(p->slot, sizeof(p->slot), "%s", si->name);
	if (op == OP_ENABLE) {
		hsd_db_slot_set(k->d->db, p->slot, "disabled", NULL);
		if (si->policy == HS_SLOT_POLICY_DISABLED)
			k->d->be_ops->slot_policy(k->d->be, p->slot,
						  HS_SLOT_POLICY_DEFAULT);
		if (si->state != HS_SLOT_OFF || !si->present) {
			/* Nothing to bring up: the setting is what changed. */
			operator_event(k->d, p->slot, "enable", k->c, "done");
			REPLY(k, slot_reply(k->d, p->slot));
			pending_free(p);
			return;
		}
	}
	if (op == OP_REMOVE || op == OP_REPLACE || op == OP_DISABLE ||
	    op == OP_UNCONFIGURE || op == OP_DISCONNECT) {
		/* Agents are asked first, one device at a time. */
		p->ndevs = slot_devices(k->d, p->slot, false, p->devs, 64);
		ask_next(p);
		return;
	}
	issue(p);
}

static void m_slot_add(struct call *k) { operator_request(k, OP_ADD); }
static void m_slot_remove(struct call *k) { operator_request(k, OP_REMOVE); }
static void m_slot_replace(struct call *k) { operator_request(k, OP_REPLACE); }
static void m_slot_disable(struct call *k) { operator_request(k, OP_DISABLE); }
static void m_slot_enable(struct call *k) { operator_request(k, OP_ENABLE); }
static void m_slot_connect(struct call *k) { operator_request(k, OP_CONNECT); }
static void m_slot_configure(struct call *k)
{
	operator_request(k, OP_CONFIGURE);
}
static void m_slot_unconfigure(struct call *k)
{
	operator_request(k, OP_UNCONFIGURE);
}
static void m_slot_disconnect(struct call *k)
{
	operator_request(k, OP_DISCONNECT);
}

/* USBGuard's "reject": the function is blocked at once, then its card
 * is removed like slot.remove (agents asked, drivers quiesced, slot
 * powered off). */
static void m_device_reject(struct call *k)
{
	struct hsd *d = k->d;
	bool bad = false;
	const char *what = hsd_p_str(k, "device", true, &bad);
	struct hsd_dev_view v;
	char b[16], msg[256], slot[64];
	int rc;

	if (bad)
		return;
	if (find_dev(d, what, &v)) {
		FAIL(k, "not-found", ENOENT, "no device '%s'", what);
		return;
	}
	hsd_fmt_bdf(v.bdf, b, sizeof(b));
	if (!v.slot || v.hotplug_bridge) {
		FAIL(k, "refused", EINVAL, "%s is not on a card in a hot-plug "
		     "slot: it cannot be removed (block it instead)", b);
		return;
	}
	snprintf(slot, sizeof(slot), "%s", v.slot);
	if (!v.blocked && !v.bridge && d->be_ops->deauthorize) {
		rc = d->be_ops->deauthorize(d->be, v.bdf, msg, sizeof(msg));
		if (rc) {
			FAIL(k, rc == -EBUSY ? "refused" : "failed", -rc,
			     "%s: %s", b, msg);
			return;
		}
		hsd_record_decision(d, &v, "block", "rejected: blocked, then "
				    "its card removed");
	}
	json_object_set_new(k->params, "slot", json_string(slot));
	operator_request(k, OP_REMOVE);
}


/* ledctl's locate with a timeout: the indicator blinks, then goes off
 * by itself (unless something else set it meanwhile). */
struct locate {
	uv_timer_t timer;
	struct hsd *d;
	struct locate *next;
	char slot[64];
};

static void locate_closed(uv_handle_t *h)
{
	struct locate *l = h->data, **pp;

	for (pp = (struct locate **)&l->d->locates; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	free(l);
}

void hsd_locates_stop(struct hsd *d)
{
	for (struct locate *l = d->locates; l; l = l->next)
		if (!uv_is_closing((uv_handle_t *)&l->timer))
			uv_close((uv_handle_t *)&l->timer, locate_closed);
}

static void locate_over(uv_timer_t *t)
{
	struct locate *l = t->data;
	struct hsd *d = l->d;
	struct hsd_slot_view v;
	char why[256];

	if (uv_is_closing((uv_handle_t *)t))
		return;
	if (!d->stopping && d->be_ops->slot_get(d->be, l->slot, &v) == 0 &&
	    v.info.attn_ind == HS_IND_BLINK &&
	    d->be_ops->slot_attention(d->be, l->slot, HS_IND_OFF, why,
				      sizeof(why)) == 0)
		hsd_publish(d, "operator", l->slot,
			    json_pack("{s:s, s:s}", "request", "attention",
				      "outcome", "off (locate timed out)"));
	uv_close((uv_handle_t *)t, locate_closed);
}

/*
 * The "indicator" parameter of the two indicator methods: on, off or
 * blink; "locate" (ledctl's word) is a blink of the attention indicator
 * only, the one an operator looks for.  Returns the name given, or NULL
 * with the error already sent.
 */
static const char *p_indicator(struct call *k, bool locate_ok,
			       enum hs_indicator *ind)
{
	bool bad = false;
	const char *val = hsd_p_str(k, "indicator", true, &bad);

	if (bad)
		return NULL;
	if (!strcmp(val, "on"))
		*ind = HS_IND_ON;
	else if (!strcmp(val, "off"))
		*ind = HS_IND_OFF;
	else if (!strcmp(val, "blink") ||
		 (locate_ok && !strcmp(val, "locate")))
		*ind = HS_IND_BLINK;
	else {
		FAIL(k, "invalid-params", EINVAL, "indicator '%s' is not on, "
		     "off or blink%s", val, locate_ok ? " (or locate)" :
		     " (locate is the attention indicator's)");
		return NULL;
	}
	return val;
}

static void m_slot_attention(struct call *k)
{
	struct hsd *d = k->d;
	bool bad = false;
	struct hsd_slot_view v;
	const char *val;
	enum hs_indicator ind;
	char name[64], why[256];

	if (!p_slot(k, &v, &bad))
		return;
	snprintf(name, sizeof(name), "%s", v.info.name);
	val = p_indicator(k, true, &ind);
	if (!val)
		return;
	{
		int64_t tmo = hsd_p_int(k, "timeout_ns", 0, 0,
					(int64_t)24 * 3600 * 1000000000, &bad);

		if (bad)
			return;
		if (tmo && ind != HS_IND_BLINK) {
			FAIL(k, "invalid-params", EINVAL, "timeout_ns goes with "
			     "locate (blink), not with '%s'", val);
			return;
		}
		/* The timer is allocated before the indicator changes: a
		 * locate that could not end by itself is refused whole. */
		struct locate *l = tmo ? hsd_calloc(1, sizeof(*l)) : NULL;

		if (tmo && !l) {
			FAIL(k, "failed", ENOMEM, "slot %s: no memory for "
			     "the locate timeout", name);
			return;
		}
		if (d->be_ops->slot_attention(d->be, name, ind, why,
					      sizeof(why)) < 0) {
			free(l);
			FAIL(k, "not-supported", ENOTSUP, "slot %s: %s", name,
			     why);
			return;
		}
		if (l) {
			l->d = d;
			snprintf(l->slot, sizeof(l->slot), "%s", name);
			uv_timer_init(d->loop, &l->timer);
			l->timer.data = l;
			uv_timer_start(&l->timer, locate_over,
				       (uint64_t)(tmo + 999999) / 1000000, 0);
			l->next = d->locates;
			d->locates = l;
		}
	}
	operator_event(d, name, "attention", k->c, hs_indicator_name(ind));
	REPLY(k, slot_reply(d, name));
}

/*
 * ledctl's habit for the power indicator: set it where the slot has one
 * and nothing is changing; the slot's state machine sets it again at
 * its next state change (hs_slot_set_power_indicator).
 */
static void m_slot_power_indicator(struct call *k)
{
	struct hsd *d = k->d;
	bool bad = false;
	struct hsd_slot_view v;
	const char *val;
	enum hs_indicator ind;
	char name[64], why[320];
	int rc;

	if (!p_slot(k, &v, &bad))
		return;
	snprintf(name, sizeof(name), "%s", v.info.name);
	val = p_indicator(k, false, &ind);
	if (!val)
		return;
	if (!d->be_ops->slot_power_indicator) {
		FAIL(k, "not-supported", ENOTSUP, "slot %s: the %s back-end "
		     "cannot set a power indicator (the kernel's hot-plug "
		     "drivers give user space only the attention indicator)",
		     name, d->be_ops->name);
		return;
	}
	rc = d->be_ops->slot_power_indicator(d->be, name, ind, why,
					     sizeof(why));
	if (rc < 0) {
		if (rc == -EBUSY)
			FAIL(k, "busy", EBUSY, "slot %s: %s", name, why);
		else if (rc == -EPERM)
			FAIL(k, "refused", EPERM, "slot %s: %s", name, why);
		else if (rc == -ENOENT)
			FAIL(k, "not-found", ENOENT, "slot %s: %s", name, why);
		else
			FAIL(k, "not-supported", ENOTSUP, "slot %s: %s", name,
			     why);
		return;
	}
	operator_event(d, name, "power-indicator", k->c, hs_indicator_name(ind));
	REPLY(k, slot_reply(d, name));
}

/* ---- authorization ----------------------------------------------------------- */

static void m_authorize(struct call *k)
{
	struct hsd *d = k->d;
	bool bad = false;
	const char *what = hsd_p_str(k, "device", false, &bad);
	const char *slot = bad ? NULL : hsd_p_str(k, "slot", false, &bad);
	bool permanent = bad ? false : hsd_p_bool(k, "permanent", false, &bad);
	hs_bdf_t list[64];
	unsigned n = 0;
	json_t *done;
	char why[320], msg[256];

	if (bad)
		return;
	if (!what == !slot) {
		FAIL(k, "invalid-params", EINVAL, "give either 'device' (a bus "
		     "address or name) or 'slot'");
		return;
	}
	if (what) {
		struct hsd_dev_view v;

		if (find_dev(d, what, &v)) {
			FAIL(k, "not-found", ENOENT, "no device '%s'", what);
			return;
		}
		list[n++] = v.bdf;
	} else {
		struct hsd_slot_view sv;

		if (d->be_ops->slot_get(d->be, slot, &sv)) {
			FAIL(k, "not-found", ENOENT, "no slot named '%s'", slot);
			return;
		}
		n = slot_devices(d, slot, true, list, 64);
		if (!n) {
			FAIL(k, "not-found", ENOENT, "slot %s holds no blocked "
			     "device", slot);
			return;
		}
	}
	done = json_array();
	for (unsigned i = 0; i < n; i++) {
		struct hsd_dev_view v;
		char b[16];
		int rc;

		hsd_fmt_bdf(list[i], b, sizeof(b));
		if (d->be_ops->dev_get(d->be, list[i], &v))
			continue;
		if (!v.blocked) {
			json_array_append_new(done, json_pack(
				"{s:s, s:s}", "bdf", b, "result",
				"already allowed"));
			continue;
		}
		if (permanent) {
			struct hsd_card_id id;
			char rule[256], err[256], drop[256];

			hsd_card_id(&v, &id);
			/* Replaces an earlier permanent block of the card. */
			if (hsd_policy_rule_for(&id, HSD_ALLOW, rule,
						sizeof(rule)) >= (int)sizeof(rule) ||
			    hsd_policy_rule_for(&id, HSD_BLOCK, drop,
						sizeof(drop)) >= (int)sizeof(drop) ||
			    hsd_db_rule_replace(d->db, rule, drop, hsd_now(d)) ||
			    hsd_policy_reload(d, err, sizeof(err))) {
				json_decref(done);
				FAIL(k, "failed", EIO, "storing the rule for %s "
				     "failed: %s", b, hsd_db_errmsg(d->db));
				return;
			}
			snprintf(why, sizeof(why), "authorized permanently by "
				 "uid %u: %s", (unsigned)k->c->uid, rule);
		} else {
			snprintf(why, sizeof(why), "authorized once by uid %u",
				 (unsigned)k->c->uid);
		}
		rc = d->be_ops->authorize(d->be, list[i], msg, sizeof(msg));
		if (rc) {
			json_decref(done);
			FAIL(k, "failed", -rc, "%s: %s", b, msg);
			return;
		}
		hsd_record_decision(d, &v, "allow", why);
		if (d->be_ops->dev_get(d->be, list[i], &v))
			v.driver = NULL;
		json_array_append_new(done, json_pack("{s:s, s:s, s:s?}", "bdf",
						      b, "result", why, "driver",
						      v.driver));
	}
	REPLY(k, done);
}

/* ---- dispatch ------------------------------------------------------------------- */

static const struct hsd_method methods[] = {
	{ "hello", HSD_ACC_READ, m_hello },
	{ "status", HSD_ACC_READ, m_status },
	{ "slot.list", HSD_ACC_READ, m_slot_list },
	{ "slot.show", HSD_ACC_READ, m_slot_show },
	{ "slot.add", HSD_ACC_ADMIN, m_slot_add },
	{ "slot.remove", HSD_ACC_ADMIN, m_slot_remove },
	{ "slot.replace", HSD_ACC_ADMIN, m_slot_replace },
	{ "slot.enable", HSD_ACC_ADMIN, m_slot_enable },
	{ "slot.connect", HSD_ACC_ADMIN, m_slot_connect },
	{ "slot.configure", HSD_ACC_ADMIN, m_slot_configure },
	{ "slot.unconfigure", HSD_ACC_ADMIN, m_slot_unconfigure },
	{ "slot.disconnect", HSD_ACC_ADMIN, m_slot_disconnect },
	{ "slot.disable", HSD_ACC_ADMIN, m_slot_disable },
	{ "slot.attention", HSD_ACC_ADMIN, m_slot_attention },
	{ "slot.power_indicator", HSD_ACC_ADMIN, m_slot_power_indicator },
	{ "device.list", HSD_ACC_READ, m_device_list },
	{ "device.show", HSD_ACC_READ, m_device_show },
	{ "authorize", HSD_ACC_ADMIN, m_authorize },
	{ "rebalance", HSD_ACC_ADMIN, m_rebalance },
	{ "policy.rules", HSD_ACC_READ, m_policy_rules },
	{ "policy.decisions", HSD_ACC_READ, m_policy_decisions },
	{ "events.subscribe", HSD_ACC_READ, m_events_subscribe },
	{ "events.unsubscribe", HSD_ACC_READ, m_events_unsubscribe },
	{ "events.history", HSD_ACC_READ, m_events_history },
	{ "report", HSD_ACC_READ, m_report },
	{ "device.block", HSD_ACC_ADMIN, m_device_block },
	{ "device.reject", HSD_ACC_ADMIN, m_device_reject },
	{ "policy.generate", HSD_ACC_READ, m_policy_generate },
	{ "agents.trigger", HSD_ACC_ADMIN, m_agents_trigger },
};

/* The method a name stands for: the operator's table, then the
 * back-end's own. */
static const struct hsd_method *method_find(const struct hsd *d,
					     const char *name, bool *of_backend)
{
	*of_backend = false;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(methods[i].name, name))
			return &methods[i];
	*of_backend = true;
	for (size_t i = 0; i < d->be_ops->nmethods; i++)
		if (!strcmp(d->be_ops->methods[i].name, name))
			return &d->be_ops->methods[i];
	return NULL;
}

void hsd_dispatch(struct hsd_client *c, json_t *req)
{
	struct call k = { c->d, c, NULL, NULL };
	const struct hsd_method *mt;
	bool of_backend;
	const char *name;
	json_t *m;

	if (!json_is_object(req)) {
		hsd_client_send(c, hsd_error(NULL, "invalid-request", EINVAL,
					     "a request is a JSON object"));
		return;
	}
	k.id = json_object_get(req, "id");
	if (k.id && !json_is_integer(k.id) && !json_is_string(k.id)) {
		hsd_client_send(c, hsd_error(NULL, "invalid-request", EINVAL,
					     "'id' must be a number or a "
					     "string"));
		return;
	}
	m = json_object_get(req, "method");
	if (!json_is_string(m)) {
		FAIL(&k, "invalid-request", EINVAL,
		     "missing 'method' (a string)");
		return;
	}
	name = json_string_value(m);
	k.params = json_object_get(req, "params");
	if (k.params && !json_is_object(k.params)) {
		FAIL(&k, "invalid-request", EINVAL,
		     "'params' must be an object");
		return;
	}
	if (!k.params)
		k.params = json_object();
	else
		json_incref(k.params);
	/* docs/protocol.md, Access: without access every request is
	 * refused, whether or not the method exists. */
	if (c->access == HSD_ACC_NONE) {
		FAIL(&k, "permission-denied", EACCES, "%s: uid %u may not do "
		     "this: only root and members of the service's group may "
		     "use hotswapd", name, (unsigned)c->uid);
		json_decref(k.params);
		return;
	}
	mt = method_find(k.d, name, &of_backend);
	if (mt && c->access < mt->need) {
		/* Read-only access: no access at all was refused above. */
		FAIL(&k, "permission-denied", EACCES,
		     "%s: uid %u may not do this: read-only access (root or "
		     "the service's group may change things)",
		     name, (unsigned)c->uid);
	} else if (mt && of_backend && k.d->stopping) {
		FAIL(&k, "busy", EBUSY, "the service is stopping");
	} else if (mt) {
		hsd_log(k.d, LOG_DEBUG, "client %lu: %s", c->id, name);
		mt->fn(&k);
	} else if (!strncmp(name, "sim.", 4)) {
		FAIL(&k, "not-supported", ENOTSUP, "'%s' acts on the simulated "
		     "chassis; this hotswapd runs the %s back-end", name,
		     k.d->be_ops->name);
	} else {
		FAIL(&k, "unknown-method", ENOSYS, "unknown method '%s'", name);
	}
	json_decref(k.params);
}
