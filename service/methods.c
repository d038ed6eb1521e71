/*
 * methods.c - the requests of hotswapd's protocol (docs/protocol.md).
 *
 * Owns: the method table (name, access needed, handler), parameter
 * checking with errors that name the parameter, the JSON views of slots
 * and devices, and the operator's flows: query-remove agents before any
 * removal, then the core's request, then the reply.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include "daemon_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "hotswap/pcie_regs.h"
#include "report.h"
#include "simcard.h"

/* ---- replies ---------------------------------------------------------------- */

json_t *hsd_reply(json_t *id, json_t *result)
{
	return json_pack("{s:O?, s:o}", "id", id, "result",
			 result ? result : json_object());
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

struct call {
	struct hsd *d;
	struct hsd_client *c;
	json_t *id;
	json_t *params;
};

#define FAIL(call, code, err, ...) \
	hsd_client_send((call)->c, hsd_error((call)->id, code, err, __VA_ARGS__))
#define REPLY(call, res) hsd_client_send((call)->c, hsd_reply((call)->id, res))

/* ---- parameters --------------------------------------------------------------- */

static const char *p_str(struct call *k, const char *name, bool required,
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

static bool p_bool(struct call *k, const char *name, bool def, bool *bad)
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

static int64_t p_int(struct call *k, const char *name, int64_t def,
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

static struct hs_slot *p_slot(struct call *k, bool *bad)
{
	const char *name = p_str(k, "slot", true, bad);
	struct hs_slot *s;

	if (*bad)
		return NULL;
	s = hs_slot_find(k->d->core, name);
	if (!s) {
		FAIL(k, "not-found", ENOENT, "no slot named '%s' (hotswapctl "
		     "list shows the slots)", name);
		*bad = true;
	}
	return s;
}

/* A device by bus address ("0000:03:00.0", "03:00.0") or stable name. */
static struct hs_dev *find_dev(struct hsd *d, const char *what)
{
	hs_bdf_t b;

	if (hsd_parse_bdf(what, &b) == 0)
		return hs_dev_find(d->core, b);
	for (size_t i = 0; i < d->ndevs; i++)
		if (!strcmp(d->devs[i].name, what))
			return hs_dev_find(d->core, d->devs[i].bdf);
	return NULL;
}

/* ---- views ------------------------------------------------------------------------ */

static const char *ind_name(enum hs_indicator i)
{
	return i == HS_IND_ON ? "on" : i == HS_IND_BLINK ? "blink" : "off";
}

static const char *const res_name[] = { "bus", "io", "mem", "pref" };

static json_t *dev_json(struct hsd *d, struct hs_dev *dev)
{
	char b[16], id[16], sub[16], cls[8];
	struct hsd_devinfo *di = hsd_devinfo(d, hs_dev_bdf(dev));
	json_t *o, *bars = json_array(), *wins = json_array();
	const char *reason = NULL;
	struct hs_irq irq;
	unsigned nvec = 0;

	hsd_fmt_bdf(hs_dev_bdf(dev), b, sizeof(b));
	snprintf(id, sizeof(id), "%04x:%04x", hs_dev_vendor(dev),
		 hs_dev_device(dev));
	snprintf(sub, sizeof(sub), "%04x:%04x", hs_dev_subsys_vendor(dev),
		 hs_dev_subsys(dev));
	snprintf(cls, sizeof(cls), "%06x", (unsigned)hs_dev_class(dev));
	o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:b}", "bdf", b, "id", id,
		      "subsys", sub, "class", cls, "bridge",
		      hs_dev_is_bridge(dev), "hotplug_bridge",
		      hs_dev_is_hotplug_bridge(dev), "blocked",
		      hs_dev_blocked(dev));
	if (hs_dev_parent(dev)) {
		hsd_fmt_bdf(hs_dev_bdf(hs_dev_parent(dev)), b, sizeof(b));
		json_object_set_new(o, "parent", json_string(b));
	}
	if (hs_dev_driver_name(dev))
		json_object_set_new(o, "driver",
				    json_string(hs_dev_driver_name(dev)));
	if (hs_dev_isolated(dev, &reason))
		json_object_set_new(o, "isolated", json_string(reason));
	if (di && di->name[0]) {
		json_object_set_new(o, "name", json_string(di->name));
		json_object_set_new(o, "minor", json_integer(di->minor));
	}
	if (di && di->slot[0])
		json_object_set_new(o, "slot", json_string(di->slot));
	if (di && di->has_serial) {
		char sn[20];

		snprintf(sn, sizeof(sn), "%016" PRIx64, di->serial);
		json_object_set_new(o, "serial", json_string(sn));
	}
	for (int i = 0; i <= 6; i++) {
		struct hs_resource r;

		if (hs_dev_bar(dev, i, &r))
			continue;
		json_array_append_new(bars, json_pack(
			"{s:i, s:s, s:I, s:I, s:b, s:b}", "bar", i, "kind",
			res_name[r.kind], "start", (json_int_t)r.start, "size",
			(json_int_t)r.size, "prefetch", r.prefetch, "is64",
			r.is64));
	}
	for (int k = 0; k < HS_RES_COUNT; k++) {
		struct hs_resource r;

		if (hs_dev_window(dev, (enum hs_res)k, &r) || !r.size)
			continue;
		json_array_append_new(wins, json_pack(
			"{s:s, s:I, s:I}", "kind", res_name[k], "start",
			(json_int_t)r.start, "size", (json_int_t)r.size));
	}
	json_object_set_new(o, "bars", bars);
	json_object_set_new(o, "windows", wins);
	if (hs_dev_irq(dev, &irq, &nvec) == 0)
		json_object_set_new(o, "irq", json_pack(
			"{s:s, s:i, s:i}", "kind",
			irq.kind == HS_IRQ_MSI ? "msi" : "intx", "number",
			(int)irq.number, "vectors", (int)nvec));
	return o;
}

static bool dev_in_slot(const struct hs_dev *dev, const struct hs_slot_info *si)
{
	const struct hs_dev *p;

	if (hs_dev_bdf(dev) == si->bridge || hs_dev_slot(dev) != (int)si->phys)
		return false;
	for (p = hs_dev_parent(dev); p; p = hs_dev_parent(p))
		if (hs_dev_bdf(p) == si->bridge)
			return true;
	return false;
}

/* The devices on the card in a slot, parents first (at most max). */
static unsigned slot_devices(struct hsd *d, const struct hs_slot_info *si,
			     bool only_blocked, struct hs_dev **list,
			     unsigned max)
{
	unsigned n = 0;

	for (struct hs_dev *dev = hs_dev_next(d->core, NULL); dev && n < max;
	     dev = hs_dev_next(d->core, dev))
		if (dev_in_slot(dev, si) && (!only_blocked || hs_dev_blocked(dev)))
			list[n++] = dev;
	return n;
}

static bool slot_disabled(struct hsd *d, const char *name)
{
	char v[8];

	return hsd_db_slot_get(d->db, name, "disabled", v, sizeof(v)) == 0 &&
	       !strcmp(v, "1");
}

static json_t *slot_json(struct hsd *d, struct hs_slot *s, bool detail)
{
	static const char *const cap_names[] = {
		"power", "button", "mrl", "attention-indicator",
		"power-indicator", "surprise", "interlock", "link-report",
		"link-control", "latch-asks",
	};
	static const char *const policy_names[] = { "default", "presence",
						    "request", "disabled" };
	struct hs_slot_info si;
	json_t *o, *devs = json_array(), *caps = json_array();
	bool connected;
	char b[16];

	hs_slot_get_info(s, &si);
	connected = si.state == HS_SLOT_ON || si.state == HS_SLOT_POWERING_ON ||
		    si.state == HS_SLOT_BLINKING_OFF ||
		    si.state == HS_SLOT_POWERING_OFF;
	for (struct hs_dev *dev = hs_dev_next(d->core, NULL); dev;
	     dev = hs_dev_next(d->core, dev)) {
		if (!dev_in_slot(dev, &si))
			continue;
		json_array_append_new(devs, dev_json(d, dev));
	}
	for (unsigned i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
		if (si.caps & (1u << i))
			json_array_append_new(caps, json_string(cap_names[i]));
	hsd_fmt_bdf(si.bridge, b, sizeof(b));
	o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:s, s:b,"
		      " s:b, s:b, s:s, s:b, s:s}",
		      "slot", si.name, "number", (int)si.phys, "kind", si.kind,
		      "state", hs_slot_state_name(si.state), "receptacle",
		      !si.present ? "empty" : connected ? "connected"
							: "disconnected",
		      "occupant", json_array_size(devs) ? "configured"
							: "unconfigured",
		      "power", si.powered, "adapter", si.present,
		      "attention", ind_name(si.attn_ind), "power_indicator",
		      ind_name(si.power_ind), "link", si.link_up,
		      "power_fault", si.power_fault, "busy", si.busy,
		      "policy", policy_names[si.policy & 3],
		      "disabled", slot_disabled(d, si.name),
		      "bridge", b);
	json_object_set_new(o, "latch", (si.caps & HS_SLOT_CAP_MRL)
					? json_string(si.latch_open ? "open"
								    : "closed")
					: json_null());
	json_object_set_new(o, "devnum", json_integer(si.devnum));
	json_object_set_new(o, "caps", caps);
	json_object_set_new(o, "reason", json_string(si.reason ? si.reason : ""));
	json_object_set_new(o, "transitions", json_integer((json_int_t)si.transitions));
	json_object_set_new(o, "devices", devs);
	if (!strcmp(si.kind, "cpci")) {
		/* The blue LED as the operator sees it on the board (PICMG
		 * 2.1: lit = safe to extract). */
		struct sim_slot *hw = sim_slot_by_name(d->sim, si.name);
		struct sim_slot_info hi;

		if (hw) {
			sim_slot_get_info(hw, &hi);
			json_object_set_new(o, "blue_led", json_boolean(hi.blue_led));
		}
	}
	if (detail && !strcmp(si.kind, "pcie")) {
		struct hs_dev *br = hs_dev_find(d->core, si.bridge);
		uint16_t cap;
		uint32_t sltcap = 0, ctl = 0, sta = 0, lnksta = 0;

		if (br && hs_dev_find_cap(br, 0x10 /* PCI Express capability */, &cap) == 0) {
			hs_dev_cfg_read(br, (uint16_t)(cap + HS_PX_SLTCAP), 4,
					&sltcap);
			hs_dev_cfg_read(br, (uint16_t)(cap + HS_PX_SLTCTL), 2,
					&ctl);
			hs_dev_cfg_read(br, (uint16_t)(cap + HS_PX_SLTSTA), 2,
					&sta);
			hs_dev_cfg_read(br, (uint16_t)(cap + HS_PX_LNKSTA), 2,
					&lnksta);
			json_object_set_new(o, "registers", json_pack(
				"{s:i, s:i, s:i, s:i}", "sltcap", (int)sltcap,
				"sltctl", (int)ctl, "sltsta", (int)sta,
				"lnksta", (int)lnksta));
		}
	}
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
	unsigned nslots = 0;

	for (struct hs_slot *s = hs_slot_next(d->core, NULL); s;
	     s = hs_slot_next(d->core, s))
		nslots++;
	if (d->agents)
		hsd_agents_stats(d->agents, &as);
	REPLY(k, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:i, s:i, s:{s:I, "
			   "s:I, s:I}, s:I, s:s, s:s}",
			   "platform", "sim", "chassis",
			   sim_topology_name(d->topo), "clock",
			   d->cfg.virtual_clock ? "virtual" : "realtime",
			   "time", (json_int_t)hsd_now(d), "chassis_time",
			   (json_int_t)sim_now(d->sim), "seq",
			   (json_int_t)d->seq, "slots", (int)nslots,
			   "devices", (int)d->ndevs, "agents", "runs",
			   (json_int_t)as.runs, "failures",
			   (json_int_t)as.failures, "timeouts",
			   (json_int_t)as.timeouts, "db_errors",
			   (json_int_t)d->db_errors, "state_dir",
			   d->cfg.state_dir, "socket", d->cfg.socket));
}

static void m_slot_list(struct call *k)
{
	json_t *a = json_array();

	for (struct hs_slot *s = hs_slot_next(k->d->core, NULL); s;
	     s = hs_slot_next(k->d->core, s))
		json_array_append_new(a, slot_json(k->d, s, false));
	REPLY(k, a);
}

static void m_slot_show(struct call *k)
{
	bool bad = false;
	struct hs_slot *s = p_slot(k, &bad);

	if (!bad)
		REPLY(k, slot_json(k->d, s, true));
}

static void m_device_list(struct call *k)
{
	json_t *a = json_array();

	for (struct hs_dev *dev = hs_dev_next(k->d->core, NULL); dev;
	     dev = hs_dev_next(k->d->core, dev))
		json_array_append_new(a, dev_json(k->d, dev));
	REPLY(k, a);
}

static void m_device_show(struct call *k)
{
	bool bad = false;
	const char *what = p_str(k, "device", true, &bad);
	struct hs_dev *dev;

	if (bad)
		return;
	dev = find_dev(k->d, what);
	if (!dev) {
		FAIL(k, "not-found", ENOENT, "no device '%s' (give a bus "
		     "address like 0000:03:00.0 or a name like net0)", what);
		return;
	}
	REPLY(k, dev_json(k->d, dev));
}

static int collect_event(void *arg, const struct hsd_event_row *ev)
{
	json_t *a = arg, *o = json_loads(ev->json, 0, NULL);

	if (o)
		json_array_append_new(a, o);
	return 0;
}

static void m_events_history(struct call *k)
{
	bool bad = false;
	const char *slot = p_str(k, "slot", false, &bad);
	int64_t after = p_int(k, "after", 0, 0, INT64_MAX, &bad);
	int64_t since = p_int(k, "since", INT64_MIN, INT64_MIN, INT64_MAX, &bad);
	int64_t limit = p_int(k, "limit", 1000, 0, 100000, &bad);
	json_t *a;

	if (bad)
		return;
	/* Without a starting point, the newest events. */
	if (!json_object_get(k->params, "after") && !slot && limit &&
	    k->d->seq > (uint64_t)limit)
		after = (int64_t)(k->d->seq - (uint64_t)limit);
	a = json_array();
	if (hsd_db_events(k->d->db, (uint64_t)after, slot, since,
			  (unsigned)limit, collect_event, a) < 0) {
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
	int64_t after = p_int(k, "after", -1, -1, INT64_MAX, &bad);
	uint64_t first = 0;

	if (bad)
		return;
	hsd_db_event_first(k->d->db, &first);
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
	REPLY(k, NULL);
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
	hsd_db_rules(d->db, rule_json, perm);
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
	int64_t limit = p_int(k, "limit", 100, 0, 100000, &bad);
	json_t *a;

	if (bad)
		return;
	a = json_array();
	hsd_db_decisions(k->d->db, (unsigned)limit, decision_json, a);
	REPLY(k, a);
}

static int feed_report(void *arg, const struct hsd_event_row *ev)
{
	json_t *o;
	const char *from, *to;

	if (strcmp(ev->type, "slot-state") || !ev->slot)
		return 0;
	o = json_loads(ev->json, 0, NULL);
	if (!o)
		return 0;
	from = json_string_value(json_object_get(o, "from"));
	to = json_string_value(json_object_get(o, "to"));
	if (from && to)
		hsd_report_feed(arg, ev->slot, ev->time, from, to);
	json_decref(o);
	return 0;
}

static void m_report(struct call *k)
{
	struct hsd_report *r = hsd_report_new();
	json_t *a;

	if (!r) {
		FAIL(k, "failed", ENOMEM, "out of memory");
		return;
	}
	hsd_db_events(k->d->db, 0, NULL, INT64_MIN, 0, feed_report, r);
	a = hsd_report_build(r, hsd_now(k->d));
	hsd_report_free(r);
	REPLY(k, json_pack("{s:I, s:o}", "now", (json_int_t)hsd_now(k->d),
			   "slots", a ? a : json_array()));
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
	struct rb_call *p = calloc(1, sizeof(*p));

	if (!p) {
		FAIL(k, "failed", ENOMEM, "out of memory");
		return;
	}
	p->d = k->d;
	hsd_client_ref(k->c);
	p->c = k->c;
	p->id = json_incref(k->id);
	hs_core_rebalance(k->d->core, rebalance_done, p);
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

enum op { OP_ADD, OP_REMOVE, OP_REPLACE, OP_DISABLE, OP_ENABLE };
static const char *const op_name[] = { "add", "remove", "replace",
				       "disable", "enable" };

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

static void core_done(void *arg, int rc, const char *msg)
{
	struct pending *p = arg;
	struct hsd *d = p->d;
	struct hs_slot *s = hs_slot_find(d->core, p->slot);

	p->done = true;
	if (rc) {
		if (p->op == OP_DISABLE && s)
			hs_slot_set_policy(s, p->old_policy);
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
		hsd_client_send(p->c, hsd_reply(p->id, s ? slot_json(d, s, false)
							  : NULL));
	}
	if (p->detached)
		pending_free(p);
}

/* The core's part of a request, once agents have had their say. */
static void issue(struct pending *p)
{
	struct hsd *d = p->d;
	struct hs_slot *s = hs_slot_find(d->core, p->slot);
	struct hs_slot_info si;
	int rc;

	if (!s) {
		hsd_client_send(p->c, hsd_error(p->id, "not-found", ENOENT,
						"slot %s is gone", p->slot));
		pending_free(p);
		return;
	}
	hs_slot_get_info(s, &si);
	p->old_policy = si.policy;
	switch (p->op) {
	case OP_ADD:
	case OP_ENABLE:
		rc = hs_slot_enable(s, core_done, p);
		break;
	case OP_REPLACE:
		rc = hs_slot_replace(s, core_done, p);
		break;
	case OP_DISABLE:
		/* Disabled first, so that neither presence nor the button
		 * brings the card back while it goes down. */
		hs_slot_set_policy(s, HS_SLOT_POLICY_DISABLED);
		if (si.state == HS_SLOT_EMPTY || si.state == HS_SLOT_OFF) {
			rc = 0;
			core_done(p, 0, NULL);
			break;
		}
		rc = hs_slot_disable(s, core_done, p);
		break;
	default:
		rc = hs_slot_disable(s, core_done, p);
		break;
	}
	if (rc < 0) {
		hs_slot_get_info(s, &si);
		if (p->op == OP_DISABLE)
			hs_slot_set_policy(s, p->old_policy);
		operator_event(d, p->slot, op_name[p->op], p->c, si.reason);
		hsd_client_send(p->c, hsd_error(p->id, rc == -EBUSY ? "busy"
								    : "refused",
						-rc, "slot %s: %s", p->slot,
						si.reason));
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
	struct hsd *d = p->d;
	struct hsd_devinfo *di;
	struct envbuf e;

	for (; p->at < p->ndevs; p->at++) {
		struct hs_dev *dev = hs_dev_find(d->core, p->devs[p->at]);

		di = hsd_devinfo(d, p->devs[p->at]);
		if (!dev || !di || !d->agents)
			continue;
		hsd_agent_env(d, di, "query-remove", d->seq,
			      hs_dev_driver_name(dev), &e);
		if (hsd_agents_query_remove(d->agents,
					    (const char *const *)e.v,
					    query_done, p) == 0)
			return;
	}
	issue(p);
}

static void operator_request(struct call *k, enum op op)
{
	bool bad = false;
	struct hs_slot *s = p_slot(k, &bad);
	struct pending *p;
	struct hs_slot_info si;

	if (bad)
		return;
	hs_slot_get_info(s, &si);
	if ((op == OP_ADD || op == OP_REPLACE) && slot_disabled(k->d, si.name)) {
		FAIL(k, "refused", EPERM, "slot %s is disabled by the "
		     "operator: `hotswapctl enable %s` first", si.name,
		     si.name);
		return;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		FAIL(k, "failed", ENOMEM, "out of memory");
		return;
	}
	p->d = k->d;
	p->c = k->c;
	hsd_client_ref(k->c);
	p->id = json_incref(k->id);
	p->op = op;
	snprintf(p->slot, sizeof(p->slot), "%s", si.name);
	if (op == OP_ENABLE) {
		hsd_db_slot_set(k->d->db, si.name, "disabled", NULL);
		if (si.policy == HS_SLOT_POLICY_DISABLED)
			hs_slot_set_policy(s, HS_SLOT_POLICY_DEFAULT);
		if (si.state != HS_SLOT_OFF || !si.present) {
			/* Nothing to bring up: the setting is what changed. */
			operator_event(k->d, si.name, "enable", k->c, "done");
			REPLY(k, slot_json(k->d, s, false));
			pending_free(p);
			return;
		}
	}
	if (op == OP_REMOVE || op == OP_REPLACE || op == OP_DISABLE) {
		/* Agents are asked first, one device at a time. */
		struct hs_dev *list[64];

		p->ndevs = slot_devices(k->d, &si, false, list, 64);
		for (unsigned i = 0; i < p->ndevs; i++)
			p->devs[i] = hs_dev_bdf(list[i]);
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

static void m_slot_attention(struct call *k)
{
	bool bad = false;
	struct hs_slot *s = p_slot(k, &bad);
	const char *v = bad ? NULL : p_str(k, "indicator", true, &bad);
	enum hs_indicator ind;
	struct hs_slot_info si;

	if (bad)
		return;
	if (!strcmp(v, "on"))
		ind = HS_IND_ON;
	else if (!strcmp(v, "off"))
		ind = HS_IND_OFF;
	else if (!strcmp(v, "blink") || !strcmp(v, "locate"))
		ind = HS_IND_BLINK;
	else {
		FAIL(k, "invalid-params", EINVAL, "indicator '%s' is not on, "
		     "off or blink", v);
		return;
	}
	if (hs_slot_set_attention(s, ind) < 0) {
		hs_slot_get_info(s, &si);
		FAIL(k, "not-supported", ENOTSUP, "slot %s: %s", si.name,
		     si.reason);
		return;
	}
	hs_slot_get_info(s, &si);
	operator_event(k->d, si.name, "attention", k->c, v);
	REPLY(k, slot_json(k->d, s, false));
}

/* ---- authorization ----------------------------------------------------------- */

static void m_authorize(struct call *k)
{
	struct hsd *d = k->d;
	bool bad = false;
	const char *what = p_str(k, "device", false, &bad);
	const char *slot = bad ? NULL : p_str(k, "slot", false, &bad);
	bool permanent = bad ? false : p_bool(k, "permanent", false, &bad);
	struct hs_dev *list[64];
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
		struct hs_dev *dev = find_dev(d, what);

		if (!dev) {
			FAIL(k, "not-found", ENOENT, "no device '%s'", what);
			return;
		}
		list[n++] = dev;
	} else {
		struct hs_slot *s = hs_slot_find(d->core, slot);
		struct hs_slot_info si;

		if (!s) {
			FAIL(k, "not-found", ENOENT, "no slot named '%s'", slot);
			return;
		}
		hs_slot_get_info(s, &si);
		n = slot_devices(d, &si, true, list, 64);
		if (!n) {
			FAIL(k, "not-found", ENOENT, "slot %s holds no blocked "
			     "device", slot);
			return;
		}
	}
	done = json_array();
	for (unsigned i = 0; i < n; i++) {
		struct hs_dev *dev = list[i];
		char b[16];
		int rc;

		hsd_fmt_bdf(hs_dev_bdf(dev), b, sizeof(b));
		if (!hs_dev_blocked(dev)) {
			json_array_append_new(done, json_pack(
				"{s:s, s:s}", "bdf", b, "result",
				"already allowed"));
			continue;
		}
		if (permanent) {
			struct hsd_card_id id = {
				.vendor = hs_dev_vendor(dev),
				.device = hs_dev_device(dev),
				.subsys_vendor = hs_dev_subsys_vendor(dev),
				.subsys = hs_dev_subsys(dev),
				.class_code = hs_dev_class(dev),
				.slot = hsd_slot_name_of(d, hs_dev_slot(dev)),
			};
			char rule[256], err[256];

			id.has_serial = hs_dev_serial(dev, &id.serial) == 0;
			if (hsd_policy_rule_for(&id, HSD_ALLOW, rule,
						sizeof(rule)) >= (int)sizeof(rule) ||
			    hsd_db_rule_add(d->db, rule, hsd_now(d)) ||
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
		rc = hs_dev_authorize(dev, msg, sizeof(msg));
		if (rc) {
			json_decref(done);
			FAIL(k, "failed", -rc, "%s: %s", b, msg);
			return;
		}
		hsd_record_decision(d, dev, "allow", why);
		json_array_append_new(done, json_pack("{s:s, s:s, s:s?}", "bdf",
						      b, "result", why, "driver",
						      hs_dev_driver_name(dev)));
	}
	REPLY(k, done);
}

/* ---- the simulator's physical actions ----------------------------------------- */

static struct sim_slot *p_sim_slot(struct call *k, bool *bad)
{
	const char *name = p_str(k, "slot", true, bad);
	struct sim_slot *s;

	if (*bad)
		return NULL;
	s = sim_slot_by_name(k->d->sim, name);
	if (!s) {
		FAIL(k, "not-found", ENOENT, "the chassis has no slot '%s'",
		     name);
		*bad = true;
	}
	return s;
}

static void sim_done(struct call *k, const char *what, struct sim_slot *s,
		     int rc, const char *why)
{
	struct sim_slot_info si;

	sim_slot_get_info(s, &si);
	if (rc < 0) {
		FAIL(k, rc == -HS_EBUSY ? "busy" : "refused", -rc,
		     "slot %s: %s", si.name, why);
		return;
	}
	hsd_chassis_save(k->d);
	hsd_publish(k->d, "physical", si.name,
		    json_pack("{s:s, s:s?}", "action", what, "card", si.card));
	/* Interrupts raised by the action are taken at once. */
	sim_advance(k->d->sim, 0);
	REPLY(k, json_pack("{s:s, s:b, s:b, s:b, s:s?}", "slot", si.name,
			   "present", si.present, "powered", si.powered,
			   "latch_open", si.mrl_open, "card", si.card));
}

static void m_sim_insert(struct call *k)
{
	bool bad = false;
	struct sim_slot *s = p_sim_slot(k, &bad);
	const char *name = bad ? NULL : p_str(k, "card", true, &bad);
	const struct sim_card_spec *card;

	if (bad)
		return;
	card = sim_topology_card(k->d->topo, name);
	if (!card) {
		FAIL(k, "not-found", ENOENT, "no card '%s' in the catalog "
		     "(hotswapctl sim catalog lists them)", name);
		return;
	}
	{
		int rc = sim_insert(s, card);

		sim_done(k, "insert", s, rc,
			 rc == -HS_EBUSY ? "the slot already holds a card"
					 : "the card does not fit this slot");
	}
}

static void m_sim_pull(struct call *k)
{
	bool bad = false;
	struct sim_slot *s = p_sim_slot(k, &bad);
	bool surprise = bad ? false : p_bool(k, "surprise", false, &bad);
	int rc;

	if (bad)
		return;
	rc = sim_remove(s, surprise ? SIM_REMOVE_SURPRISE : SIM_REMOVE_ORDERLY);
	sim_done(k, surprise ? "pull (surprise)" : "pull", s, rc,
		 rc == -HS_ENOENT ? "the slot is empty"
				  : "the electromechanical interlock holds "
				    "the card");
}

static void m_sim_button(struct call *k)
{
	bool bad = false;
	struct sim_slot *s = p_sim_slot(k, &bad);

	if (!bad)
		sim_done(k, "button", s, sim_press_button(s),
			 "the slot has no attention button");
}

static void m_sim_latch(struct call *k)
{
	bool bad = false;
	struct sim_slot *s = p_sim_slot(k, &bad);
	bool open = bad ? false : p_bool(k, "open", true, &bad);

	if (!bad)
		sim_done(k, open ? "latch open" : "latch close", s,
			 sim_set_latch(s, open), "the slot has no latch");
}

static void m_sim_fault(struct call *k)
{
	bool bad = false;
	struct sim_slot *s = p_sim_slot(k, &bad);

	if (!bad)
		sim_done(k, "power fault", s, sim_inject_power_fault(s),
			 "no powered card to fault");
}

static void m_sim_advance(struct call *k)
{
	struct hsd *d = k->d;
	bool bad = false;
	int64_t ns = p_int(k, "ns", -1, 0, (int64_t)3600 * 1000000000, &bad);

	if (bad)
		return;
	if (!d->cfg.virtual_clock) {
		FAIL(k, "not-supported", ENOTSUP, "the clock is real time; "
		     "start hotswapd with clock = virtual to step it");
		return;
	}
	if (ns < 0) {
		FAIL(k, "invalid-params", EINVAL, "missing parameter 'ns'");
		return;
	}
	sim_advance(d->sim, (hs_time_t)ns);
	REPLY(k, json_pack("{s:I, s:I}", "chassis_time",
			   (json_int_t)sim_now(d->sim), "time",
			   (json_int_t)hsd_now(d)));
}

static void m_sim_dma(struct call *k)
{
	struct hsd *d = k->d;
	bool bad = false;
	struct sim_slot *s = p_sim_slot(k, &bad);
	int64_t fn = bad ? 0 : p_int(k, "fn", 0, 0, 7, &bad);
	int64_t count = bad ? 0 : p_int(k, "count", 16, 1, 100000, &bad);
	struct sim_counters before, after;
	int through;

	if (bad)
		return;
	sim_get_counters(d->sim, &before);
	through = sim_card_dma(s, (unsigned)fn,
			       sim_get_config(d->sim)->ram_base + 0x10000, 16,
			       (unsigned)count);
	if (through < 0) {
		FAIL(k, "not-found", ENOENT, "no card function %d in the slot",
		     (int)fn);
		return;
	}
	sim_get_counters(d->sim, &after);
	REPLY(k, json_pack("{s:I, s:I, s:I}", "attempts",
			   (json_int_t)(after.dma_attempts - before.dma_attempts),
			   "blocked",
			   (json_int_t)(after.dma_blocked - before.dma_blocked),
			   "through", (json_int_t)through));
}

static void m_sim_traffic(struct call *k)
{
	struct hsd *d = k->d;
	bool bad = false;
	const char *what = p_str(k, "device", true, &bad);
	int64_t count = bad ? 0 : p_int(k, "count", 8, 1, 4096, &bad);
	struct hs_dev *dev;
	const struct hs_driver *drv;
	unsigned taken;
	const struct simcard_ledger *l = simcard_ledger();

	if (bad)
		return;
	dev = find_dev(d, what);
	drv = dev ? hs_dev_driver(dev) : NULL;
	if (!dev || (drv != &simnet_driver && drv != &simstor_driver)) {
		FAIL(k, "not-found", ENOENT, "'%s' is not a device bound to "
		     "simnet or simstor", what);
		return;
	}
	taken = simcard_submit(dev, (unsigned)count);
	REPLY(k, json_pack("{s:i, s:i, s:{s:I, s:I, s:I, s:I}}", "submitted",
			   (int)taken, "in_flight", (int)simcard_in_flight(dev),
			   "ledger", "submitted", (json_int_t)l->submitted,
			   "completed", (json_int_t)l->completed, "failed",
			   (json_int_t)l->failed, "refused",
			   (json_int_t)l->refused));
}

static void m_sim_catalog(struct call *k)
{
	json_t *a = json_array();
	const struct sim_card_spec *c;

	for (size_t i = 0; (c = sim_topology_card_at(k->d->topo, i)); i++)
		json_array_append_new(a, json_pack(
			"{s:s, s:s, s:b, s:i}", "card", c->name,
			"description", c->description ? c->description : "",
			"pcie", c->pcie, "functions", (int)c->nfuncs));
	REPLY(k, a);
}

/* ---- dispatch ------------------------------------------------------------------- */

struct method {
	const char *name;
	enum hsd_access need;
	void (*fn)(struct call *k);
};

static const struct method methods[] = {
	{ "hello", HSD_ACC_READ, m_hello },
	{ "status", HSD_ACC_READ, m_status },
	{ "slot.list", HSD_ACC_READ, m_slot_list },
	{ "slot.show", HSD_ACC_READ, m_slot_show },
	{ "slot.add", HSD_ACC_ADMIN, m_slot_add },
	{ "slot.remove", HSD_ACC_ADMIN, m_slot_remove },
	{ "slot.replace", HSD_ACC_ADMIN, m_slot_replace },
	{ "slot.enable", HSD_ACC_ADMIN, m_slot_enable },
	{ "slot.disable", HSD_ACC_ADMIN, m_slot_disable },
	{ "slot.attention", HSD_ACC_ADMIN, m_slot_attention },
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
	{ "sim.catalog", HSD_ACC_READ, m_sim_catalog },
	{ "sim.insert", HSD_ACC_ADMIN, m_sim_insert },
	{ "sim.pull", HSD_ACC_ADMIN, m_sim_pull },
	{ "sim.button", HSD_ACC_ADMIN, m_sim_button },
	{ "sim.latch", HSD_ACC_ADMIN, m_sim_latch },
	{ "sim.fault", HSD_ACC_ADMIN, m_sim_fault },
	{ "sim.advance", HSD_ACC_ADMIN, m_sim_advance },
	{ "sim.dma", HSD_ACC_ADMIN, m_sim_dma },
	{ "sim.traffic", HSD_ACC_ADMIN, m_sim_traffic },
};

void hsd_dispatch(struct hsd_client *c, json_t *req)
{
	struct call k = { c->d, c, NULL, NULL };
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
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (strcmp(methods[i].name, name))
			continue;
		if (c->access < methods[i].need) {
			FAIL(&k, "permission-denied", EACCES,
			     "%s: uid %u may not do this: %s",
			     name, (unsigned)c->uid,
			     c->access == HSD_ACC_NONE
				     ? "only root and members of the "
				       "service's group may use hotswapd"
				     : "read-only access (root or the "
				       "service's group may change things)");
		} else if (!strncmp(name, "sim.", 4) && k.d->stopping) {
			FAIL(&k, "busy", EBUSY, "the service is stopping");
		} else {
			hsd_log(k.d, LOG_DEBUG, "client %lu: %s", c->id, name);
			methods[i].fn(&k);
		}
		json_decref(k.params);
		return;
	}
	FAIL(&k, "unknown-method", ENOSYS, "unknown method '%s'", name);
	json_decref(k.params);
}
