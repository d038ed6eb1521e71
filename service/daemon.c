/*
 * daemon.c - hotswapd's service object: the chassis and core it runs,
 * the clock, device records and stable names, authorization, events
 * (history, subscribers, agents) and the operator's requests.
 *
 * Owns: everything of struct hsd except the socket plumbing (server.c)
 * and the protocol's method table (methods.c).  Runs on one libuv loop;
 * the core is only ever entered from loop callbacks.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include "daemon_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "hotswap/hpc.h"
#include "http.h"
#include "simcard.h"

/* ---- logging ------------------------------------------------------------ */

void hsd_log(struct hsd *d, int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level > LOG_ERR + d->cfg.log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (d->cfg.syslog) {
		syslog(level, "%s", line);
		return;
	}
	{
		static const char *const lv[] = { "emerg", "alert", "crit",
						  "error", "warning", "notice",
						  "info", "debug" };
		fprintf(stderr, "hotswapd: %s: %s\n",
			lv[level & 7], line);
	}
}

static void core_log(void *arg, enum hs_log_level level, const char *line)
{
	hsd_log(arg, (int)level, "%s", line);
}

static void agents_log(void *arg, int level, const char *line)
{
	hsd_log(arg, level, "%s", line);
}

/* ---- time ---------------------------------------------------------------- */

int64_t hsd_now(const struct hsd *d)
{
	return d->time_base + (int64_t)sim_now(d->sim);
}

/* Real time: the simulated chassis follows the monotonic clock. */
static void clock_timer_cb(uv_timer_t *t);

void hsd_clock_pump(struct hsd *d)
{
	hs_time_t next, now;

	if (d->cfg.virtual_clock || d->stopping)
		return;
	now = (hs_time_t)(uv_hrtime() - d->wall0) + d->virt0;
	if (now > sim_now(d->sim))
		sim_advance(d->sim, now - sim_now(d->sim));
	if (sim_next_event(d->sim, &next)) {
		uint64_t ms = next > now ? (next - now + 999999) / 1000000 : 0;

		uv_timer_start(&d->clock_timer, clock_timer_cb, ms, 0);
	} else {
		uv_timer_stop(&d->clock_timer);
	}
}

static void clock_timer_cb(uv_timer_t *t)
{
	hsd_clock_pump(t->data);
}

static void prepare_cb(uv_prepare_t *p)
{
	hsd_clock_pump(p->data);
}

/*
 * Virtual clock: a request the core works on asynchronously runs the
 * chassis forward, event by event, until it is done (or nothing is
 * left to happen, or a minute of virtual time passed), so a scripted
 * client sees the outcome at once and exactly.
 */
void hsd_settle(struct hsd *d, const bool *done)
{
	hs_time_t start = sim_now(d->sim);

	if (!d->cfg.virtual_clock)
		return;
	while (!*done && sim_now(d->sim) - start < HS_SEC(60))
		if (!sim_step(d->sim))
			break;
}

/* ---- small helpers --------------------------------------------------------- */

void hsd_fmt_bdf(hs_bdf_t b, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%u", HS_BDF_SEG(b), HS_BDF_BUS(b),
		 HS_BDF_DEV(b), HS_BDF_FN(b));
}

int hsd_parse_bdf(const char *s, hs_bdf_t *out)
{
	unsigned seg = 0, bus, dev, fn;
	char tail;

	if (sscanf(s, "%x:%x:%x.%u%c", &seg, &bus, &dev, &fn, &tail) == 4 ||
	    (seg = 0, sscanf(s, "%x:%x.%u%c", &bus, &dev, &fn, &tail) == 3)) {
		if (seg > 0xffff || bus > 0xff || dev > 31 || fn > 7)
			return -EINVAL;
		*out = HS_BDF(seg, bus, dev, fn);
		return 0;
	}
	return -EINVAL;
}

const char *hsd_slot_name_of(struct hsd *d, int phys)
{
	struct hs_slot *s;
	struct hs_slot_info si;

	if (phys < 0)
		return NULL;
	if (!(s = hs_slot_by_phys(d->core, (unsigned)phys))) {
		/* During boot enumeration the slots do not exist yet; their
		 * names are their physical numbers (made unique only on a
		 * clash, which a topology with a clash gets as "N-2"). */
		snprintf(d->slot_name_buf, sizeof(d->slot_name_buf), "%d",
			 phys);
		return d->slot_name_buf;
	}
	hs_slot_get_info(s, &si);
	return si.name;
}

/* ---- device records and stable names ------------------------------------ */

struct hsd_devinfo *hsd_devinfo(struct hsd *d, hs_bdf_t bdf)
{
	for (size_t i = 0; i < d->ndevs; i++)
		if (d->devs[i].bdf == bdf)
			return &d->devs[i];
	return NULL;
}

static const char *name_prefix(uint32_t class_code)
{
	switch (class_code >> 16) {
	case 0x01:
		return "stor";
	case 0x02:
		return "net";
	case 0x03:
		return "gpu";
	case 0x06:
		return "bridge";
	default:
		return "pci";
	}
}

/* The card-relative path of a function: "00.0", or "00.0/01.0" behind
 * a bridge on the card.  Soldered functions use their bus address. */
static void naming_key(struct hsd *d, struct hs_dev *dev, char *key,
		       size_t len)
{
	char path[96] = "";
	const struct hs_dev *c = dev;
	uint64_t serial;
	int phys = hs_dev_slot(dev);
	const char *slot = hsd_slot_name_of(d, phys);

	if (d->cfg.name_by_serial && hs_dev_serial(dev, &serial) == 0) {
		snprintf(key, len, "serial:%016" PRIx64 "/%u", serial,
			 HS_BDF_FN(hs_dev_bdf(dev)));
		return;
	}
	if (!slot || hs_dev_is_hotplug_bridge(dev)) {
		char b[16];

		hsd_fmt_bdf(hs_dev_bdf(dev), b, sizeof(b));
		snprintf(key, len, "path:%s", b);
		return;
	}
	for (; c && !hs_dev_is_hotplug_bridge(c); c = hs_dev_parent(c)) {
		char part[110];
		hs_bdf_t b = hs_dev_bdf(c);

		snprintf(part, sizeof(part), "%02x.%u%s%s", HS_BDF_DEV(b),
			 HS_BDF_FN(b), path[0] ? "/" : "", path);
		snprintf(path, sizeof(path), "%.95s", part);
	}
	snprintf(key, len, "slot:%s/%s", slot, path);
}

/* The device's row in the database: last seen now, at this address. */
static void devinfo_record(struct hsd *d, const struct hsd_devinfo *di)
{
	struct hsd_device_row row;
	char b[16];

	hsd_fmt_bdf(di->bdf, b, sizeof(b));
	row = (struct hsd_device_row){
		.key = di->key, .vendor = di->vendor, .device = di->device,
		.subsys_vendor = di->subsys_vendor, .subsys = di->subsys,
		.class_code = di->class_code, .has_serial = di->has_serial,
		.serial = di->serial, .slot = di->slot[0] ? di->slot : NULL,
		.bdf = b,
	};
	if (hsd_db_device_seen(d->db, &row, hsd_now(d)))
		hsd_log(d, LOG_ERR, "recording %s: %s", b,
			hsd_db_errmsg(d->db));
}

static struct hsd_devinfo *devinfo_add(struct hsd *d, struct hs_dev *dev)
{
	struct hsd_devinfo *di = hsd_devinfo(d, hs_dev_bdf(dev));
	const char *slot;
	int rc;

	if (!di) {
		if (d->ndevs == d->capdevs) {
			size_t nc = d->capdevs ? 2 * d->capdevs : 32;
			void *p = realloc(d->devs, nc * sizeof(*d->devs));

			if (!p)
				return NULL;
			d->devs = p;
			d->capdevs = nc;
		}
		di = &d->devs[d->ndevs++];
	}
	memset(di, 0, sizeof(*di));
	di->bdf = hs_dev_bdf(dev);
	di->vendor = hs_dev_vendor(dev);
	di->device = hs_dev_device(dev);
	di->subsys_vendor = hs_dev_subsys_vendor(dev);
	di->subsys = hs_dev_subsys(dev);
	di->class_code = hs_dev_class(dev);
	di->phys = hs_dev_slot(dev);
	di->has_serial = hs_dev_serial(dev, &di->serial) == 0;
	slot = hs_dev_is_hotplug_bridge(dev) ? NULL
					       : hsd_slot_name_of(d, di->phys);
	snprintf(di->slot, sizeof(di->slot), "%s", slot ? slot : "");
	naming_key(d, dev, di->key, sizeof(di->key));
	rc = hsd_db_name(d->db, di->key, name_prefix(di->class_code),
			 di->name, sizeof(di->name), &di->minor);
	if (rc)
		hsd_log(d, LOG_ERR, "stable name for %s: %s", di->key,
			hsd_db_errmsg(d->db));
	devinfo_record(d, di);
	return di;
}

/*
 * A bus renumbering gave a device another address.  The events of one
 * change all arrive after its commit, under one generation; an entry
 * already renumbered by this change is skipped, so a device taking the
 * number another one just left is never mistaken for it.  The database
 * row (keyed by the stable naming key) gets the new address.
 */
static struct hsd_devinfo *devinfo_renumber(struct hsd *d, hs_bdf_t old,
					    hs_bdf_t now)
{
	uint64_t gen = hs_core_generation(d->core);

	for (size_t i = 0; i < d->ndevs; i++) {
		struct hsd_devinfo *di = &d->devs[i];

		if (di->bdf != old || di->renumbered_gen == gen)
			continue;
		di->bdf = now;
		di->renumbered_gen = gen;
		devinfo_record(d, di);
		return di;
	}
	return NULL;
}

static void devinfo_drop(struct hsd *d, hs_bdf_t bdf)
{
	struct hsd_devinfo *di = hsd_devinfo(d, bdf);

	if (!di)
		return;
	*di = d->devs[--d->ndevs];
}

/* ---- agents' environment ---------------------------------------------------- */

static void env_add(struct envbuf *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void env_add(struct envbuf *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (e->n + 1 >= sizeof(e->v) / sizeof(e->v[0]))
		return;
	va_start(ap, fmt);
	n = vsnprintf(e->store + e->at, sizeof(e->store) - e->at, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(e->store) - e->at)
		return;
	e->v[e->n++] = e->store + e->at;
	e->v[e->n] = NULL;
	e->at += (size_t)n + 1;
}

/* The kernel's PCI uevent (drivers/pci/pci-driver.c pci_uevent) plus
 * what it leaves out: slot, stable name, minor, serial. */
void hsd_agent_env(struct hsd *d, const struct hsd_devinfo *di,
		   const char *action, uint64_t seq, const char *driver,
		   struct envbuf *e)
{
	char b[16];
	const struct hs_dev *p;
	struct hs_dev *dev = hs_dev_find(d->core, di->bdf);
	char devpath[256];
	size_t at;

	hsd_fmt_bdf(di->bdf, b, sizeof(b));
	e->n = e->at = 0;
	e->v[0] = NULL;
	env_add(e, "ACTION=%s", action);
	env_add(e, "SEQNUM=%" PRIu64, seq);
	env_add(e, "SUBSYSTEM=pci");
	/* DEVPATH as sysfs spells it: the chain of bridges from the root. */
	at = (size_t)snprintf(devpath, sizeof(devpath), "/devices/pci%04x:%02x",
			      HS_BDF_SEG(di->bdf), 0);
	{
		hs_bdf_t chain[16];
		int n = 0;

		chain[n++] = di->bdf;
		for (p = dev ? hs_dev_parent(dev) : NULL; p && n < 16;
		     p = hs_dev_parent(p))
			chain[n++] = hs_dev_bdf(p);
		while (n-- > 0 && at < sizeof(devpath)) {
			char pb[16];

			hsd_fmt_bdf(chain[n], pb, sizeof(pb));
			at += (size_t)snprintf(devpath + at,
					       sizeof(devpath) - at, "/%s", pb);
		}
	}
	env_add(e, "DEVPATH=%s", devpath);
	env_add(e, "PCI_CLASS=%04X", (unsigned)di->class_code);
	env_add(e, "PCI_ID=%04X:%04X", di->vendor, di->device);
	env_add(e, "PCI_SUBSYS_ID=%04X:%04X", di->subsys_vendor, di->subsys);
	env_add(e, "PCI_SLOT_NAME=%s", b);
	env_add(e, "MODALIAS=pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X",
		di->vendor, di->device, di->subsys_vendor, di->subsys,
		(unsigned)(di->class_code >> 16) & 0xff,
		(unsigned)(di->class_code >> 8) & 0xff,
		(unsigned)di->class_code & 0xff);
	if (driver)
		env_add(e, "DRIVER=%s", driver);
	if (di->slot[0]) {
		env_add(e, "HOTSWAP_SLOT=%s", di->slot);
		env_add(e, "HOTSWAP_SLOT_NUMBER=%d", di->phys);
	}
	if (di->name[0]) {
		env_add(e, "HOTSWAP_NAME=%s", di->name);
		env_add(e, "HOTSWAP_MINOR=%u", di->minor);
	}
	if (di->has_serial)
		env_add(e, "HOTSWAP_SERIAL=%016" PRIx64, di->serial);
	env_add(e, "HOTSWAP_RUNTIME_DIR=%s", d->cfg.runtime_dir);
}

/* ---- events ----------------------------------------------------------------- */

void hsd_publish(struct hsd *d, const char *type, const char *slot,
		 json_t *ev)
{
	struct hsd_event_row row;
	char *text;

	d->seq++;
	json_object_set_new(ev, "seq", json_integer((json_int_t)d->seq));
	json_object_set_new(ev, "time", json_integer(hsd_now(d)));
	json_object_set_new(ev, "type", json_string(type));
	if (slot && slot[0])
		json_object_set_new(ev, "slot", json_string(slot));
	text = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
	if (text) {
		row = (struct hsd_event_row){ .seq = d->seq,
					      .time = hsd_now(d),
					      .type = type,
					      .slot = slot && slot[0] ? slot
								      : NULL,
					      .json = text };
		if (hsd_db_event_append(d->db, &row)) {
			d->db_errors++;
			hsd_log(d, LOG_ERR, "event %" PRIu64 " not stored: %s",
				d->seq, hsd_db_errmsg(d->db));
		}
		free(text);
	}
	d->events_published++;
	/* Keep the history bounded (history_keep), trimming in batches. */
	if (d->cfg.history_keep && d->seq % 1024 == 0 &&
	    hsd_db_event_trim(d->db, d->cfg.history_keep))
		hsd_log(d, LOG_WARNING, "trimming the history: %s",
			hsd_db_errmsg(d->db));
	hsd_broadcast_event(d, ev);
	if (d->http)
		hsd_http_event(d->http, ev);
	json_decref(ev);
}

static const char *dev_event_type(enum hs_event_type t, const char **action)
{
	switch (t) {
	case HS_EV_DEV_ADDED:
		*action = "add";
		return "device-added";
	case HS_EV_DEV_REMOVED:
		*action = "remove";
		return "device-removed";
	case HS_EV_DRIVER_BOUND:
		*action = "bind";
		return "driver-bound";
	case HS_EV_DRIVER_UNBOUND:
		*action = "unbind";
		return "driver-unbound";
	case HS_EV_DEV_ISOLATED:
		*action = NULL;
		return "device-isolated";
	case HS_EV_DEV_BLOCKED:
		*action = NULL;
		return "device-blocked";
	case HS_EV_DEV_AUTHORIZED:
		*action = NULL;
		return "device-authorized";
	case HS_EV_DEV_MOVED:
		*action = NULL;
		return "device-moved";
	case HS_EV_WINDOW_CHANGED:
		*action = NULL;
		return "window-changed";
	default:
		*action = NULL;
		return NULL;
	}
}

static void on_core_event(void *arg, const struct hs_event *ev)
{
	struct hsd *d = arg;
	const char *action = NULL, *type;
	struct hsd_devinfo *di, copy;
	char b[16];
	json_t *o;

	if (ev->type == HS_EV_SLOT_STATE || ev->type == HS_EV_SLOT_ALERT) {
		if (ev->type == HS_EV_SLOT_STATE && ev->from == ev->to)
			return;
		o = json_object();
		if (ev->type == HS_EV_SLOT_STATE) {
			json_object_set_new(o, "from", json_string(
				hs_slot_state_name((enum hs_slot_state)ev->from)));
			json_object_set_new(o, "to", json_string(
				hs_slot_state_name((enum hs_slot_state)ev->to)));
		}
		if (ev->msg)
			json_object_set_new(o, "msg", json_string(ev->msg));
		json_object_set_new(o, "number", json_integer(ev->slot));
		hsd_publish(d, ev->type == HS_EV_SLOT_STATE ? "slot-state"
							    : "slot-alert",
			    ev->slot_name, o);
		return;
	}
	type = dev_event_type(ev->type, &action);
	if (!type)
		return;
	if (ev->type == HS_EV_DEV_ADDED) {
		struct hs_dev *dev = hs_dev_find(d->core, ev->bdf);

		di = dev ? devinfo_add(d, dev) : NULL;
	} else if (ev->type == HS_EV_DEV_MOVED && ev->old_bdf != ev->bdf) {
		di = devinfo_renumber(d, ev->old_bdf, ev->bdf);
	} else {
		di = hsd_devinfo(d, ev->bdf);
	}
	hsd_fmt_bdf(ev->bdf, b, sizeof(b));
	o = json_pack("{s:s, s:s, s:s, s:i}", "bdf", b, "id", "", "class",
		      "", "number", ev->slot);
	{
		char id[16], cls[8];

		snprintf(id, sizeof(id), "%04x:%04x", ev->vendor, ev->device);
		snprintf(cls, sizeof(cls), "%06x", (unsigned)ev->class_code);
		json_object_set_new(o, "id", json_string(id));
		json_object_set_new(o, "class", json_string(cls));
	}
	if (ev->driver)
		json_object_set_new(o, "driver", json_string(ev->driver));
	if (ev->type == HS_EV_DEV_MOVED && ev->old_bdf != ev->bdf) {
		char ob[16];

		hsd_fmt_bdf(ev->old_bdf, ob, sizeof(ob));
		json_object_set_new(o, "old_bdf", json_string(ob));
	}
	if (di && di->name[0]) {
		json_object_set_new(o, "name", json_string(di->name));
		json_object_set_new(o, "minor", json_integer(di->minor));
	}
	hsd_publish(d, type, di && di->slot[0] ? di->slot : NULL, o);
	if (di && action) {
		struct envbuf e;

		hsd_agent_env(d, di, action, d->seq, ev->driver, &e);
		if (hsd_agents_event(d->agents, d->seq,
				     (const char *const *)e.v))
			hsd_log(d, LOG_ERR, "agents: event %" PRIu64
				" not queued", d->seq);
	}
	if (ev->type == HS_EV_DEV_REMOVED && di) {
		copy = *di;
		(void)copy;
		devinfo_drop(d, ev->bdf);
	}
}

/* ---- authorization ---------------------------------------------------------- */

static void card_id(struct hsd *d, struct hs_dev *dev, struct hsd_card_id *id)
{
	memset(id, 0, sizeof(*id));
	id->vendor = hs_dev_vendor(dev);
	id->device = hs_dev_device(dev);
	id->subsys_vendor = hs_dev_subsys_vendor(dev);
	id->subsys = hs_dev_subsys(dev);
	id->class_code = hs_dev_class(dev);
	id->slot = hsd_slot_name_of(d, hs_dev_slot(dev));
	id->has_serial = hs_dev_serial(dev, &id->serial) == 0;
}

void hsd_record_decision(struct hsd *d, struct hs_dev *dev,
			 const char *target, const char *why)
{
	struct hsd_card_id id;
	struct hsd_decision_row row;
	char b[16], ids[96];

	card_id(d, dev, &id);
	hsd_fmt_bdf(hs_dev_bdf(dev), b, sizeof(b));
	snprintf(ids, sizeof(ids), "%04x:%04x sub %04x:%04x class %06x",
		 id.vendor, id.device, id.subsys_vendor, id.subsys,
		 (unsigned)id.class_code);
	row = (struct hsd_decision_row){ .time = hsd_now(d), .slot = id.slot,
					 .bdf = b, .ids = ids,
					 .target = target, .why = why };
	if (hsd_db_decision_add(d->db, &row))
		hsd_log(d, LOG_ERR, "policy decision not stored: %s",
			hsd_db_errmsg(d->db));
	hsd_publish(d, "policy", id.slot,
		    json_pack("{s:s, s:s, s:s, s:s}", "bdf", b, "ids", ids,
			      "target", target, "why", why));
	hsd_log(d, LOG_NOTICE, "%s %s (%s): %s", target, b, ids, why);
}

static bool authorize_hook(void *arg, struct hs_dev *dev, bool at_boot)
{
	struct hsd *d = arg;
	struct hsd_card_id id;
	const char *why = NULL;
	enum hsd_target t;

	card_id(d, dev, &id);
	t = hsd_policy_decide(d->policy, &id, at_boot, &why);
	hsd_record_decision(d, dev, hsd_policy_target_name(t), why);
	return t == HSD_ALLOW;
}

static int add_db_rule(void *arg, int64_t id, const char *rule)
{
	struct hsd *d = arg;
	char err[256];

	(void)id;
	if (hsd_policy_add(d->policy, rule, false, err, sizeof(err)))
		hsd_log(d, LOG_WARNING, "stored rule '%s' ignored: %s", rule,
			err);
	return 0;
}

int hsd_policy_reload(struct hsd *d, char *err, size_t errlen)
{
	struct hsd_policy *old = d->policy, *p = hsd_policy_new();
	char *text = NULL;
	int rc = 0;

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	hsd_policy_set_default(p, false, d->cfg.block_inserted ? HSD_BLOCK
							       : HSD_ALLOW);
	hsd_policy_set_default(p, true, d->cfg.block_present ? HSD_BLOCK
							     : HSD_ALLOW);
	d->policy = p;
	hsd_db_rules(d->db, add_db_rule, d);
	if (d->cfg.rules[0]) {
		FILE *f = fopen(d->cfg.rules, "r");

		if (f) {
			size_t n = 0, cap = 0;
			char buf[4096];
			size_t got;

			while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
				if (n + got + 1 > cap) {
					char *t;

					cap = (n + got + 1) * 2;
					t = realloc(text, cap);
					if (!t) {
						rc = -ENOMEM;
						break;
					}
					text = t;
				}
				memcpy(text + n, buf, got);
				n += got;
			}
			fclose(f);
			if (!rc && text) {
				text[n] = '\0';
				rc = hsd_policy_load(p, text, d->cfg.rules, err,
						     errlen);
			}
		} else if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", d->cfg.rules,
				 strerror(errno));
			rc = -errno;
		}
	}
	free(text);
	if (rc) {
		d->policy = old;
		hsd_policy_free(p);
		return rc;
	}
	hsd_policy_free(old);
	return 0;
}

/* ---- the simulated chassis' persistent state ------------------------------- */

static void chassis_path(const struct hsd *d, char *buf, size_t len)
{
	snprintf(buf, len, "%.480s/chassis.json", d->cfg.state_dir);
}

void hsd_chassis_save(struct hsd *d)
{
	char path[HSD_PATH_MAX + 32], tmp[HSD_PATH_MAX + 40];
	json_t *o = json_object(), *slots = json_object();
	struct sim_slot *s = NULL;
	int fd;
	char *text;

	json_object_set_new(o, "topology",
			    json_string(sim_topology_name(d->topo)));
	while ((s = sim_slot_next(d->sim, s))) {
		struct sim_slot_info si;

		sim_slot_get_info(s, &si);
		json_object_set_new(slots, si.name,
				    si.card ? json_string(si.card)
					    : json_null());
	}
	json_object_set_new(o, "slots", slots);
	text = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		return;
	chassis_path(d, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fsync(fd) || rename(tmp, path))
		hsd_log(d, LOG_ERR, "saving %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(text);
}

/* Put the cards back where the last run left them (the hardware kept
 * running while the daemon was away). */
static void chassis_restore(struct hsd *d)
{
	char path[HSD_PATH_MAX + 32];
	json_error_t je;
	json_t *o, *slots, *v;
	const char *name;

	chassis_path(d, path, sizeof(path));
	o = json_load_file(path, 0, &je);
	if (!o)
		return;
	if (!json_is_string(json_object_get(o, "topology")) ||
	    strcmp(json_string_value(json_object_get(o, "topology")),
		   sim_topology_name(d->topo))) {
		hsd_log(d, LOG_NOTICE, "%s describes another chassis: ignored",
			path);
		goto free_json;
	}
	slots = json_object_get(o, "slots");
	json_object_foreach(slots, name, v) {
		struct sim_slot *s = sim_slot_by_name(d->sim, name);
		struct sim_slot_info si;
		const struct sim_card_spec *card = NULL;

		if (!s)
			continue;
		if (json_is_string(v) &&
		    !(card = sim_topology_card(d->topo, json_string_value(v))))
			continue;
		sim_slot_get_info(s, &si);
		if ((si.card && card && !strcmp(si.card, card->name)) ||
		    (!si.card && !card))
			continue;
		if (si.card)
			sim_remove(s, SIM_REMOVE_SURPRISE);
		if (card)
			sim_coldplug(s, card);
	}
	hsd_log(d, LOG_INFO, "chassis restored from %s", path);
free_json:
	json_decref(o);
}

/* ---- start and stop ----------------------------------------------------------- */

static int mkdirs(const char *path, mode_t mode)
{
	char buf[HSD_PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, mode) && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

static int apply_setting(void *arg, const char *slot, const char *key,
			 const char *value)
{
	struct hsd *d = arg;
	struct hs_slot *s = hs_slot_find(d->core, slot);
	struct hs_slot_info si;

	if (!s || strcmp(key, "disabled") || strcmp(value, "1"))
		return 0;
	hs_slot_set_policy(s, HS_SLOT_POLICY_DISABLED);
	hs_slot_get_info(s, &si);
	if (si.state == HS_SLOT_ON || si.state == HS_SLOT_POWERING_ON ||
	    si.state == HS_SLOT_BLINKING_ON) {
		hsd_log(d, LOG_NOTICE, "slot %s is disabled by the operator: "
			"taking its card down", slot);
		if (hs_slot_disable(s, NULL, NULL) < 0)
			hsd_log(d, LOG_WARNING, "slot %s: %s", slot, si.reason);
	}
	return 0;
}

static void run_until_idle(struct hsd *d, hs_time_t limit)
{
	hs_time_t start = sim_now(d->sim);

	while (sim_now(d->sim) - start < limit && sim_step(d->sim))
		;
}

int hsd_start(uv_loop_t *loop, const struct hsd_config *cfg,
	      struct hsd **out, char *err, size_t errlen)
{
	struct hsd *d = calloc(1, sizeof(*d));
	struct hs_core_params p;
	char path[HSD_PATH_MAX + 32], msg[512];
	const char *topo;
	uint64_t last_seq = 0;
	int64_t last_time = 0;
	int rc;

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->cfg = *cfg;
	d->loop = loop;
	if (strcmp(cfg->platform, "sim")) {
		snprintf(err, errlen, "platform '%s' is not available in this "
			 "build (available: sim)", cfg->platform);
		rc = -ENOTSUP;
		goto free_d;
	}
	if ((rc = mkdirs(cfg->state_dir, 0755)) ||
	    (rc = mkdirs(cfg->runtime_dir, 0755))) {
		snprintf(err, errlen, "creating %s / %s: %s", cfg->state_dir,
			 cfg->runtime_dir, strerror(-rc));
		goto free_d;
	}
	snprintf(path, sizeof(path), "%.480s/hotswap.db", cfg->state_dir);
	if ((rc = hsd_db_open(path, &d->db, err, errlen)))
		goto free_d;
	hsd_db_event_last(d->db, &last_seq, &last_time);
	d->seq = last_seq;

	topo = cfg->topology[0] ? cfg->topology
				: sim_topology_default_chassis();
	rc = sim_topology_load(topo, cfg->catalog[0] ? cfg->catalog : NULL,
			       &d->topo, msg, sizeof(msg));
	if (rc) {
		snprintf(err, errlen, "%s", msg);
		goto close_db;
	}
	d->sim = sim_topology_sim(d->topo);
	chassis_restore(d);
	sim_get_platform(d->sim, &d->plat);
	sim_set_log(d->sim, core_log, d);
	if (cfg->virtual_clock) {
		d->time_base = last_seq ? last_time + 1000000000 : 0;
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		d->time_base = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		if (d->time_base <= last_time)
			d->time_base = last_time + 1;
	}

	if ((rc = hsd_policy_reload(d, err, errlen)))
		goto free_topo;
	rc = hsd_agents_new(loop, cfg->agents_dir, cfg->agent_timeout_ms,
			    agents_log, d, &d->agents);
	if (rc) {
		snprintf(err, errlen, "agents: %s", strerror(-rc));
		goto free_policy;
	}

	hs_core_params_defaults(&p);
	p.slot_poll = cfg->poll;
	p.poll_period = cfg->poll_period_ns;
	p.button_window = cfg->button_window_ns;
	p.authorize = authorize_hook;
	p.authorize_arg = d;
	{
		uint32_t codes[32], masks[32];
		unsigned ns, nc;

		rc = hsd_config_pins(cfg, d->pin_slots, &ns, codes, masks, &nc,
				     32, err, errlen);
		if (rc)
			goto free_policy;
		for (unsigned i = 0; i < nc; i++) {
			d->pin_classes[i].class_code = codes[i];
			d->pin_classes[i].mask = masks[i];
		}
		p.rebalance.move = cfg->rebalance_capable ? HS_MOVE_CAPABLE
							  : HS_MOVE_NEVER;
		p.rebalance.max_moved = (unsigned)cfg->rebalance_max_moved;
		p.rebalance.pinned_slots = d->pin_slots;
		p.rebalance.npinned_slots = ns;
		p.rebalance.pinned_classes = d->pin_classes;
		p.rebalance.npinned_classes = nc;
	}
	if ((rc = hs_core_create(&d->plat, &p, &d->core)) ||
	    (rc = hs_controllers_register(d->core)) ||
	    (rc = hs_driver_register(d->core, &simnet_driver)) ||
	    (rc = hs_driver_register(d->core, &simstor_driver)) ||
	    (rc = hs_core_subscribe(d->core, on_core_event, d))) {
		snprintf(err, errlen, "starting the core: %s", strerror(-rc));
		goto free_core;
	}
	hsd_publish(d, "service", NULL,
		    json_pack("{s:s, s:s, s:s, s:i}", "msg", "starting",
			      "chassis", sim_topology_name(d->topo),
			      "clock", cfg->virtual_clock ? "virtual"
							  : "realtime",
			      "pid", (int)getpid()));
	d->booting = true;
	rc = hs_core_enumerate(d->core);
	d->booting = false;
	if (rc) {
		snprintf(err, errlen, "enumeration failed: %s", strerror(-rc));
		goto free_core;
	}
	sim_advance(d->sim, 0);
	hsd_db_slot_settings(d->db, apply_setting, d);
	/* Start-up reconciliation runs on the chassis' clock. */
	if (cfg->virtual_clock)
		run_until_idle(d, HS_SEC(30));

	uv_timer_init(loop, &d->clock_timer);
	d->clock_timer.data = d;
	uv_prepare_init(loop, &d->prepare);
	d->prepare.data = d;
	uv_prepare_start(&d->prepare, prepare_cb);
	d->open_handles += 2;
	d->wall0 = uv_hrtime();
	d->virt0 = sim_now(d->sim);
	if ((rc = hsd_server_listen(d, err, errlen)))
		goto stop_handles;
	if ((rc = hsd_http_start(d, &d->http, err, errlen))) {
		hsd_server_close(d);
		goto stop_handles;
	}
	hsd_chassis_save(d);
	hsd_publish(d, "service", NULL,
		    json_pack("{s:s, s:i}", "msg", "ready", "devices",
			      (int)d->ndevs));
	*out = d;
	return 0;

stop_handles:
	d->stopping = true;
	hsd_handle_close(d, (uv_handle_t *)&d->clock_timer);
	hsd_handle_close(d, (uv_handle_t *)&d->prepare);
	uv_run(loop, UV_RUN_DEFAULT);
free_core:
	if (d->core)
		hs_core_destroy(d->core);
	hsd_agents_free(d->agents);
	uv_run(loop, UV_RUN_DEFAULT);
free_policy:
	hsd_policy_free(d->policy);
free_topo:
	sim_topology_free(d->topo);
close_db:
	hsd_db_close(d->db);
free_d:
	free(d->devs);
	free(d);
	return rc;
}

void hsd_stop(struct hsd *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	hsd_log(d, LOG_NOTICE, "stopping");
	hsd_publish(d, "service", NULL, json_pack("{s:s}", "msg", "stopping"));
	hsd_http_stop(d->http);
	d->http = NULL;
	hsd_server_close(d);
	hsd_agents_free(d->agents);
	d->agents = NULL;
	uv_timer_stop(&d->clock_timer);
	hsd_handle_close(d, (uv_handle_t *)&d->clock_timer);
	hsd_handle_close(d, (uv_handle_t *)&d->prepare);
}

void hsd_free(struct hsd *d)
{
	if (!d)
		return;
	hs_core_destroy(d->core);
	hsd_policy_free(d->policy);
	sim_topology_free(d->topo);
	hsd_db_close(d->db);
	free(d->devs);
	free(d);
}
