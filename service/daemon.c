/*
 * daemon.c - hotswapd's service object: the back-end it runs on, the
 * service clock, device records and stable names, authorization, events
 * (history, subscribers, agents).
 *
 * Owns: everything of struct hsd except the socket plumbing (server.c)
 * and the protocol's method table (methods.c).  Runs on one libuv loop;
 * the back-end is only ever entered from loop callbacks.  It sees the
 * machine only through the back-end seam (backend.h).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include "daemon_internal.h"
#include "alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

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
	if (d->journal) {
		sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", level,
				"SYSLOG_IDENTIFIER=hotswapd", NULL);
		return;
	}
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

static void backend_log(void *arg, int level, const char *line)
{
	hsd_log(arg, level, "%s", line);
}

static void agents_log(void *arg, int level, const char *line)
{
	hsd_log(arg, level, "%s", line);
}

/* ---- time ---------------------------------------------------------------- */

/* Service time: wall-clock nanoseconds at start plus the back-end's
 * clock, so that history stays ordered across restarts. */
int64_t hsd_now(const struct hsd *d)
{
	return d->time_base + d->be_ops->now(d->be);
}

/*
 * Virtual clock: a request the back-end works on asynchronously runs it
 * forward, event by event, until it is done (or nothing is left to
 * happen, or a minute of virtual time passed), so a scripted client sees
 * the outcome at once and exactly.
 */
void hsd_settle(struct hsd *d, const bool *done)
{
	int64_t start = d->be_ops->now(d->be);

	if (!d->cfg.virtual_clock || !d->be_ops->step)
		return;
	while (!*done && d->be_ops->now(d->be) - start < (int64_t)HS_SEC(60))
		if (!d->be_ops->step(d->be))
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

/*
 * The naming key of a function: a stable name must stay with the same
 * card and fit its class.  A card with a Device Serial Number (PCIe
 * 7.9.3) is keyed by it and the function (naming = card, the default:
 * the name follows the card to another slot); otherwise by the slot, the
 * function's path on the card ("00.0", "00.0/01.0" behind a bridge on the
 * card) and its ids, so that another card inserted in the same slot gets
 * a name of its own.  Soldered functions and hot-plug bridges are keyed
 * by bus address.
 */
static void naming_key(struct hsd *d, const struct hsd_dev_view *v,
		       char *key, size_t len)
{
	if (d->cfg.name_by_serial && v->has_serial) {
		snprintf(key, len, "serial:%016" PRIx64 "/%u", v->serial,
			 HS_BDF_FN(v->bdf));
		return;
	}
	if (!v->slot || v->hotplug_bridge) {
		char b[16];

		hsd_fmt_bdf(v->bdf, b, sizeof(b));
		snprintf(key, len, "path:%s", b);
		return;
	}
	snprintf(key, len, "slot:%s/%s/%04x:%04x:%04x:%04x", v->slot,
		 v->card_path, v->vendor, v->device, v->subsys_vendor,
		 v->subsys);
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

/* Its stable name, from its key, recorded in the database. */
static void devinfo_name(struct hsd *d, struct hsd_devinfo *di,
			 const struct hsd_dev_view *v)
{
	int rc;

	snprintf(di->slot, sizeof(di->slot), "%s",
		 v->slot && !v->hotplug_bridge ? v->slot : "");
	naming_key(d, v, di->key, sizeof(di->key));
	rc = hsd_db_name(d->db, di->key, name_prefix(di->class_code),
			 di->name, sizeof(di->name), &di->minor);
	if (rc)
		hsd_log(d, LOG_ERR, "stable name for %s: %s", di->key,
			hsd_db_errmsg(d->db));
	devinfo_record(d, di);
}

/*
 * A function came.  During boot enumeration the slots do not exist yet
 * (the controllers make them after): a function on a multi-slot bus
 * would be keyed by the wrong slot, so its name waits for the slots
 * (boot_announce at ready).
 */
static struct hsd_devinfo *devinfo_add(struct hsd *d,
				       const struct hsd_dev_view *v)
{
	struct hsd_devinfo *di = hsd_devinfo(d, v->bdf);

	if (!di) {
		if (d->ndevs == d->capdevs) {
			size_t nc = d->capdevs ? 2 * d->capdevs : 32;
			void *p = hsd_realloc(d->devs, nc * sizeof(*d->devs));

			if (!p)
				return NULL;
			d->devs = p;
			d->capdevs = nc;
		}
		di = &d->devs[d->ndevs++];
	}
	memset(di, 0, sizeof(*di));
	di->bdf = v->bdf;
	di->vendor = v->vendor;
	di->device = v->device;
	di->subsys_vendor = v->subsys_vendor;
	di->subsys = v->subsys;
	di->class_code = v->class_code;
	di->phys = v->phys;
	di->has_serial = v->has_serial;
	di->serial = v->serial;
	snprintf(di->devpath, sizeof(di->devpath), "%s", v->devpath);
	snprintf(di->driver, sizeof(di->driver), "%s",
		 v->driver ? v->driver : "");
	if (d->booting)
		di->boot = true;
	else
		devinfo_name(d, di, v);
	return di;
}

/*
 * Ready: the slots exist, so the functions found at boot get their names
 * now, each announced with a "device-present" event and given to the
 * agents as an "add" (with its driver), as udev's coldplug replays the
 * devices present at boot.
 */
static void boot_announce(struct hsd *d)
{
	for (size_t i = 0; i < d->ndevs; i++) {
		struct hsd_devinfo *di = &d->devs[i];
		struct hsd_dev_view v;
		struct envbuf e;
		char b[16];

		if (!di->boot || d->be_ops->dev_get(d->be, di->bdf, &v))
			continue;
		di->boot = false;
		devinfo_name(d, di, &v);
		hsd_fmt_bdf(di->bdf, b, sizeof(b));
		hsd_publish(d, "device-present", di->slot[0] ? di->slot : NULL,
			    json_pack("{s:s, s:s?, s:i, s:s?}", "bdf", b,
				      "name", di->name[0] ? di->name : NULL,
				      "minor", (int)di->minor, "driver",
				      v.driver));
		hsd_agent_env(d, di, "add", d->seq, v.driver, &e);
		if (hsd_agents_event(d->agents, d->seq,
				     (const char *const *)e.v))
			hsd_log(d, LOG_ERR, "agents: event %" PRIu64
				" not queued", d->seq);
	}
}

/*
 * A bus renumbering gave a device another address.  The events of one
 * change all arrive after its commit, under one generation; an entry
 * already renumbered by this change is skipped, so a device taking the
 * number another one just left is never mistaken for it.  The database
 * row (keyed by the stable naming key) gets the new address.
 */
static struct hsd_devinfo *devinfo_renumber(struct hsd *d, hs_bdf_t old,
					    hs_bdf_t now, uint64_t gen,
					    const struct hsd_dev_view *v)
{
	for (size_t i = 0; i < d->ndevs; i++) {
		struct hsd_devinfo *di = &d->devs[i];

		if (di->bdf != old || di->renumbered_gen == gen)
			continue;
		di->bdf = now;
		di->renumbered_gen = gen;
		if (v)
			snprintf(di->devpath, sizeof(di->devpath), "%s",
				 v->devpath);
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

	hsd_fmt_bdf(di->bdf, b, sizeof(b));
	e->n = e->at = 0;
	e->v[0] = NULL;
	env_add(e, "ACTION=%s", action);
	env_add(e, "SEQNUM=%" PRIu64, seq);
	env_add(e, "SUBSYSTEM=pci");
	/* DEVPATH as sysfs spells it: the chain of bridges from the root,
	 * kept from when the function was added, so that unbind and remove
	 * say the same as add. */
	env_add(e, "DEVPATH=%s", di->devpath);
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

/*
 * Under systemd (stderr is the journal's stream: $JOURNAL_STREAM names its
 * device and inode, systemd.exec(5)), log natively, so that lines carry
 * their priority and every event its fields for journalctl to match on:
 * HOTSWAP_EVENT, HOTSWAP_SEQ, HOTSWAP_SLOT, HOTSWAP_BDF, HOTSWAP_NAME.
 */
static bool journal_is_stderr(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	       fstat(STDERR_FILENO, &st) == 0 &&
	       (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

static void journal_event(const char *type, uint64_t seq, const char *slot,
			  json_t *ev)
{
	const char *bdf = json_string_value(json_object_get(ev, "bdf"));
	const char *name = json_string_value(json_object_get(ev, "name"));
	const char *msg = json_string_value(json_object_get(ev, "msg"));
	const char *to = json_string_value(json_object_get(ev, "to"));
	char text[512];

	snprintf(text, sizeof(text), "%s%s%s%s%s%s%s%s%s", type,
		 slot ? " slot " : "", slot ? slot : "", bdf ? " " : "",
		 bdf ? bdf : "", to ? " -> " : "", to ? to : "",
		 msg ? ": " : "", msg ? msg : "");
	sd_journal_send("MESSAGE=%s", text, "PRIORITY=%d", LOG_INFO,
			"SYSLOG_IDENTIFIER=hotswapd",
			"HOTSWAP_EVENT=%s", type,
			"HOTSWAP_SEQ=%llu", (unsigned long long)seq,
			"HOTSWAP_SLOT=%s", slot ? slot : "",
			"HOTSWAP_BDF=%s", bdf ? bdf : "",
			"HOTSWAP_NAME=%s", name ? name : "", NULL);
}

json_t *hsd_loadb(const char *buf, size_t len, size_t flags,
		  json_error_t *je)
{
	json_t *j;

	/* The fault hook leaves jansson 2.14's parser alone: a failed
	 * allocation inside it can crash it (its lexer drops the failure
	 * and reads on), which no caller can survive. */
	hsd_fault_pause(true);
	j = json_loadb(buf, len, flags, je);
	hsd_fault_pause(false);
	return j;
}

char *hsd_dumps(const json_t *j, size_t flags)
{
	unsigned long failures = hsd_alloc_failures();
	char *text = json_dumps(j, flags);

	if (text && hsd_alloc_failures() != failures) {
		free(text);
		text = NULL;
	}
	return text;
}

void hsd_publish(struct hsd *d, const char *type, const char *slot,
		 json_t *ev)
{
	struct hsd_event_row row;
	char *text = NULL;
	int rc;

	/* An event that cannot be built whole (out of memory) is dropped
	 * before it takes a number: the stream stays gap-free. */
	if (!ev ||
	    json_object_set_new(ev, "seq",
				json_integer((json_int_t)d->seq + 1)) ||
	    json_object_set_new(ev, "time", json_integer(hsd_now(d))) ||
	    json_object_set_new(ev, "type", json_string(type)) ||
	    (slot && slot[0] &&
	     json_object_set_new(ev, "slot", json_string(slot))) ||
	    !(text = hsd_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS))) {
		hsd_log(d, LOG_ERR, "%s event%s%s lost: out of memory", type,
			slot && slot[0] ? " of slot " : "", slot ? slot : "");
		json_decref(ev);
		return;
	}
	d->seq++;
	row = (struct hsd_event_row){ .seq = d->seq, .time = hsd_now(d),
				      .type = type,
				      .slot = slot && slot[0] ? slot : NULL,
				      .json = text };
	/* Once more after running out of memory (SQLite has given back
	 * what the failed statement held): a hole in the stored history
	 * is for good. */
	rc = hsd_db_event_append(d->db, &row);
	if (rc == -ENOMEM)
		rc = hsd_db_event_append(d->db, &row);
	if (rc) {
		d->db_errors++;
		hsd_log(d, LOG_ERR, "event %" PRIu64 " not stored: %s",
			d->seq, hsd_db_errmsg(d->db));
	}
	free(text);
	d->events_published++;
	if (d->journal)
		journal_event(type, d->seq, slot && slot[0] ? slot : NULL, ev);
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

static const char *dev_event_type(enum hsd_bev_type t, const char **action)
{
	*action = NULL;
	switch (t) {
	case HSD_BEV_DEV_ADDED:
		*action = "add";
		return "device-added";
	case HSD_BEV_DEV_REMOVED:
		*action = "remove";
		return "device-removed";
	case HSD_BEV_DRIVER_BOUND:
		*action = "bind";
		return "driver-bound";
	case HSD_BEV_DRIVER_UNBOUND:
		*action = "unbind";
		return "driver-unbound";
	case HSD_BEV_DEV_ISOLATED:
		return "device-isolated";
	case HSD_BEV_DEV_BLOCKED:
		return "device-blocked";
	case HSD_BEV_DEV_AUTHORIZED:
		return "device-authorized";
	case HSD_BEV_DEV_MOVED:
		return "device-moved";
	case HSD_BEV_WINDOW_CHANGED:
		return "window-changed";
	default:
		return NULL;
	}
}

/*
 * What the operator left a slot in, kept so that a restart (or a crash)
 * finds it so again: a card taken down (by a request or the button) stays
 * off; a latched power fault stays a fault (the back-end's hardware keeps
 * it).  A card in service again, or a slot emptied, forgets it.
 */
static void remember_slot_state(struct hsd *d, const char *slot, int from,
				int to)
{
	const char *v = NULL;

	if (!slot)
		return;
	if (to == HS_SLOT_OFF && from == HS_SLOT_POWERING_OFF)
		v = "off";
	else if (to == HS_SLOT_CONNECTED)
		v = "connected";
	else if (to == HS_SLOT_FAULT)
		v = "fault";
	else if (to != HS_SLOT_ON && to != HS_SLOT_EMPTY)
		return;
	if (hsd_db_slot_set(d->db, slot, "operator_state", v))
		hsd_log(d, LOG_ERR, "slot %s: remembering its state: %s", slot,
			hsd_db_errmsg(d->db));
}

/* ---- removals started at the machine ------------------------------------ */

int64_t hsd_slot_changed(const struct hsd *d, const char *slot)
{
	for (size_t i = 0; i < d->nslot_times; i++)
		if (!strcmp(d->slot_times[i].slot, slot))
			return d->slot_times[i].time;
	return -1;
}

static void slot_changed(struct hsd *d, const char *slot)
{
	struct hsd_slot_time *t;
	size_t i;

	if (!slot)
		return;
	for (i = 0; i < d->nslot_times; i++)
		if (!strcmp(d->slot_times[i].slot, slot))
			break;
	if (i == d->nslot_times) {
		t = hsd_realloc(d->slot_times, (i + 1) * sizeof(*t));
		if (!t)
			return;
		d->slot_times = t;
		d->nslot_times++;
		snprintf(t[i].slot, sizeof(t[i].slot), "%s", slot);
	}
	d->slot_times[i].time = hsd_now(d);
}

const char *hsd_slot_note(const struct hsd *d, const char *slot)
{
	for (size_t i = 0; i < sizeof(d->notes) / sizeof(d->notes[0]); i++)
		if (d->notes[i].slot[0] && !strcmp(d->notes[i].slot, slot))
			return d->notes[i].why;
	return NULL;
}

static void note_set(struct hsd *d, const char *slot, const char *why)
{
	size_t n = sizeof(d->notes) / sizeof(d->notes[0]), i, free_i = n;

	for (i = 0; i < n; i++) {
		if (d->notes[i].slot[0] && !strcmp(d->notes[i].slot, slot))
			break;
		if (!d->notes[i].slot[0] && free_i == n)
			free_i = i;
	}
	if (!why) {
		if (i < n)
			d->notes[i].slot[0] = '\0';
		return;
	}
	if (i == n)
		i = free_i < n ? free_i : 0;
	snprintf(d->notes[i].slot, sizeof(d->notes[i].slot), "%s", slot);
	snprintf(d->notes[i].why, sizeof(d->notes[i].why), "%s", why);
}

/*
 * The attention button was pressed on a slot in service: its 5 s window
 * runs.  The query-remove agents have the same say as for a removal asked
 * through the socket (seeds/002: the hot-plug manager asks before it
 * unconfigures): they are asked now, one function at a time, and a
 * refusal cancels the removal inside the window (as a second press
 * would); the slot stops blinking and says why.  A refusal that comes
 * after the window closed is too late and is logged as such.
 */
struct button_query {
	struct hsd *d;
	char slot[32];
	hs_bdf_t devs[64];
	unsigned ndevs, at;
};

static void button_next(struct button_query *q);

static void button_done(void *arg, int rc, const char *agent,
			const char *reason)
{
	struct button_query *q = arg;
	struct hsd *d = q->d;
	struct hsd_slot_view v;
	char why[448], ign[64];

	if (rc != -EBUSY) {
		/* Allowed (or the agents could not be asked: the drivers
		 * still have their own say). */
		q->at++;
		button_next(q);
		return;
	}
	snprintf(why, sizeof(why), "removal by the attention button "
		 "cancelled: agent %s refused: %s", agent ? agent : "?",
		 reason ? reason : "no reason given");
	if (!d->stopping && d->be_ops->slot_get(d->be, q->slot, &v) == 0 &&
	    v.info.state == HS_SLOT_BLINKING_OFF) {
		d->be_ops->slot_request(d->be, q->slot, HSD_OP_ENABLE, NULL,
					NULL, ign, sizeof(ign));
		note_set(d, q->slot, why);
		hsd_publish(d, "slot-alert", q->slot,
			    json_pack("{s:s, s:i}", "msg", why, "number",
				      (int)v.info.phys));
		hsd_log(d, LOG_NOTICE, "slot %s: %s", q->slot, why);
	} else if (!d->stopping) {
		hsd_log(d, LOG_WARNING, "slot %s: agent %s refused the "
			"button's removal too late (the window had closed): "
			"%s", q->slot, agent ? agent : "?",
			reason ? reason : "");
	}
	d->button_queries--;
	free(q);
}

bool hsd_query_next(struct hsd *d, const hs_bdf_t *devs, unsigned n,
		    unsigned *at, hsd_query_done_fn done, void *arg)
{
	struct hsd_devinfo *di;
	struct hsd_dev_view v;
	struct envbuf e;
	int rc;

	for (; *at < n && d->agents && !d->stopping; ++*at) {
		di = hsd_devinfo(d, devs[*at]);
		if (!di || d->be_ops->dev_get(d->be, devs[*at], &v))
			continue;       /* gone meanwhile: nothing to ask */
		hsd_agent_env(d, di, "query-remove", d->seq, v.driver, &e);
		rc = hsd_agents_query_remove(d->agents,
					     (const char *const *)e.v, done,
					     arg);
		/* A question that could not be put (out of memory) is no
		 * "yes": the caller hears the error as the answer. */
		if (rc)
			done(arg, rc, NULL, strerror(-rc));
		return true;
	}
	return false;
}

static void button_next(struct button_query *q)
{
	if (hsd_query_next(q->d, q->devs, q->ndevs, &q->at, button_done, q))
		return;
	q->d->button_queries--;
	free(q);
}

static void button_query(struct hsd *d, const char *slot)
{
	struct button_query *q;
	struct hsd_dev_view v;

	if (!d->agents || !slot || !(q = hsd_calloc(1, sizeof(*q))))
		return;
	q->d = d;
	snprintf(q->slot, sizeof(q->slot), "%s", slot);
	for (void *c = d->be_ops->dev_next(d->be, NULL, &v);
	     c && q->ndevs < 64; c = d->be_ops->dev_next(d->be, c, &v))
		if (v.slot && !strcmp(v.slot, slot))
			q->devs[q->ndevs++] = v.bdf;
	d->button_queries++;
	button_next(q);
}

static bool service_busy(void *arg)
{
	const struct hsd *d = arg;

	return d->button_queries > 0;
}

/* An event from the back-end: published, stored, given to agents. */
static void on_backend_event(void *arg, const struct hsd_bevent *ev)
{
	struct hsd *d = arg;
	const char *action = NULL, *type;
	struct hsd_devinfo *di;
	char b[16], id[16], cls[8];
	json_t *o;

	if (ev->type == HSD_BEV_SLOT_STATE || ev->type == HSD_BEV_SLOT_ALERT) {
		if (ev->type == HSD_BEV_SLOT_STATE && ev->from == ev->to)
			return;
		o = json_object();
		if (ev->type == HSD_BEV_SLOT_STATE) {
			json_object_set_new(o, "from", json_string(
				hs_slot_state_name((enum hs_slot_state)ev->from)));
			json_object_set_new(o, "to", json_string(
				hs_slot_state_name((enum hs_slot_state)ev->to)));
		}
		if (ev->msg)
			json_object_set_new(o, "msg", json_string(ev->msg));
		json_object_set_new(o, "number", json_integer(ev->phys));
		hsd_publish(d, ev->type == HSD_BEV_SLOT_STATE ? "slot-state"
							      : "slot-alert",
			    ev->slot_name, o);
		if (ev->type == HSD_BEV_SLOT_STATE)
			slot_changed(d, ev->slot_name);
		if (ev->type == HSD_BEV_SLOT_STATE && !d->booting) {
			remember_slot_state(d, ev->slot_name, ev->from, ev->to);
			if (ev->from == HS_SLOT_ON &&
			    ev->to == HS_SLOT_BLINKING_OFF)
				button_query(d, ev->slot_name);
			else if (ev->to != HS_SLOT_ON)
				note_set(d, ev->slot_name, NULL);
		}
		return;
	}
	type = dev_event_type(ev->type, &action);
	if (!type)
		return;
	if (ev->type == HSD_BEV_DEV_ADDED)
		di = ev->dev ? devinfo_add(d, ev->dev) : NULL;
	else if (ev->type == HSD_BEV_DEV_MOVED && ev->old_bdf != ev->bdf)
		di = devinfo_renumber(d, ev->old_bdf, ev->bdf, ev->generation,
				      ev->dev);
	else
		di = hsd_devinfo(d, ev->bdf);
	if (di && ev->type == HSD_BEV_DRIVER_BOUND)
		snprintf(di->driver, sizeof(di->driver), "%s",
			 ev->driver ? ev->driver : "");
	hsd_fmt_bdf(ev->bdf, b, sizeof(b));
	snprintf(id, sizeof(id), "%04x:%04x", ev->vendor, ev->device);
	snprintf(cls, sizeof(cls), "%06x", (unsigned)ev->class_code);
	o = json_pack("{s:s, s:s, s:s, s:i}", "bdf", b, "id", id, "class",
		      cls, "number", ev->phys);
	if (ev->driver)
		json_object_set_new(o, "driver", json_string(ev->driver));
	if (ev->type == HSD_BEV_DEV_MOVED && ev->old_bdf != ev->bdf) {
		char ob[16];

		hsd_fmt_bdf(ev->old_bdf, ob, sizeof(ob));
		json_object_set_new(o, "old_bdf", json_string(ob));
	}
	if (di && di->name[0]) {
		json_object_set_new(o, "name", json_string(di->name));
		json_object_set_new(o, "minor", json_integer(di->minor));
	}
	hsd_publish(d, type, di && di->slot[0] ? di->slot : NULL, o);
	if (di && action && !di->boot) {
		struct envbuf e;

		hsd_agent_env(d, di, action, d->seq, ev->driver, &e);
		if (hsd_agents_event(d->agents, d->seq,
				     (const char *const *)e.v))
			hsd_log(d, LOG_ERR, "agents: event %" PRIu64
				" not queued", d->seq);
	}
	if (ev->type == HSD_BEV_DEV_REMOVED && di)
		devinfo_drop(d, ev->bdf);
}

/* ---- authorization ---------------------------------------------------------- */

void hsd_card_id(const struct hsd_dev_view *v, struct hsd_card_id *id)
{
	memset(id, 0, sizeof(*id));
	id->vendor = v->vendor;
	id->device = v->device;
	id->subsys_vendor = v->subsys_vendor;
	id->subsys = v->subsys;
	id->class_code = v->class_code;
	id->slot = v->hotplug_bridge ? NULL : v->slot;
	id->has_serial = v->has_serial;
	id->serial = v->serial;
}

void hsd_record_decision(struct hsd *d, const struct hsd_dev_view *dev,
			 const char *target, const char *why)
{
	struct hsd_card_id id;
	struct hsd_decision_row row;
	char b[16], ids[96];

	hsd_card_id(dev, &id);
	hsd_fmt_bdf(dev->bdf, b, sizeof(b));
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

static bool authorize_hook(void *arg, const struct hsd_dev_view *dev,
			   bool at_boot)
{
	struct hsd *d = arg;
	struct hsd_card_id id;
	const char *why = NULL;
	enum hsd_target t;

	hsd_card_id(dev, &id);
	t = hsd_policy_decide(d->policy, &id, at_boot, &why);
	hsd_record_decision(d, dev, hsd_policy_target_name(t), why);
	return t == HSD_ALLOW;
}

static int add_db_rule(void *arg, int64_t id, const char *rule)
{
	struct hsd *d = arg;
	char err[256];

	int rc;

	(void)id;
	/* Out of memory is no reason to drop a permanent rule (a block
	 * would turn into the default): the reload fails instead. */
	rc = hsd_policy_add(d->policy, rule, false, err, sizeof(err));
	if (rc == -ENOMEM)
		return rc;
	if (rc)
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
	rc = hsd_db_rules(d->db, add_db_rule, d);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "permanent rules: out of memory");
	else if (rc)
		snprintf(err, errlen, "permanent rules: %s",
			 hsd_db_errmsg(d->db));
	if (!rc && d->cfg.rules[0]) {
		FILE *f = fopen(d->cfg.rules, "r");
		struct stat st;

		/* A directory opens for reading and reads as nothing: it
		 * would pass for an empty rule file. */
		if (f && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
			fclose(f);
			f = NULL;
			errno = EISDIR;
		}
		if (f) {
			size_t n = 0, cap = 0;
			char buf[4096];
			size_t got;

			while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
				if (n + got + 1 > cap) {
					char *t;

					cap = (n + got + 1) * 2;
					t = hsd_realloc(text, cap);
					if (!t) {
						snprintf(err, errlen, "%s: out "
							 "of memory",
							 d->cfg.rules);
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
	struct hsd_slot_view v;
	char why[256];

	if (d->be_ops->slot_get(d->be, slot, &v))
		return 0;
	if (!strcmp(key, "operator_state") && !strcmp(value, "off")) {
		/* Taken down by the operator before the restart: it stays
		 * down whatever the hardware came back as. */
		if (v.info.state != HS_SLOT_ON &&
		    v.info.state != HS_SLOT_POWERING_ON &&
		    v.info.state != HS_SLOT_CONNECTED)
			return 0;
		hsd_log(d, LOG_NOTICE, "slot %s: the operator had taken its "
			"card down: keeping it down", slot);
		if (d->be_ops->slot_request(d->be, slot, HSD_OP_DISABLE, NULL,
					    NULL, why, sizeof(why)) < 0)
			hsd_log(d, LOG_WARNING, "slot %s: %s", slot, why);
		return 0;
	}
	if (!strcmp(key, "operator_state") && !strcmp(value, "connected")) {
		/* Left connected, unconfigured (cfgadm): so again. */
		enum hsd_slot_op op = v.info.state == HS_SLOT_ON
					      ? HSD_OP_UNCONFIGURE
				      : v.info.state == HS_SLOT_OFF
					      ? HSD_OP_CONNECT
					      : (enum hsd_slot_op)-1;

		if ((int)op < 0)
			return 0;
		hsd_log(d, LOG_NOTICE, "slot %s: the operator had left it "
			"connected and unconfigured: so again", slot);
		if (d->be_ops->slot_request(d->be, slot, op, NULL, NULL, why,
					    sizeof(why)) < 0)
			hsd_log(d, LOG_WARNING, "slot %s: %s", slot, why);
		return 0;
	}
	if (strcmp(key, "disabled") || strcmp(value, "1"))
		return 0;
	d->be_ops->slot_policy(d->be, slot, HS_SLOT_POLICY_DISABLED);
	if (v.info.state == HS_SLOT_ON || v.info.state == HS_SLOT_POWERING_ON ||
	    v.info.state == HS_SLOT_BLINKING_ON ||
	    v.info.state == HS_SLOT_CONNECTED) {
		hsd_log(d, LOG_NOTICE, "slot %s is disabled by the operator: "
			"taking its card down", slot);
		if (d->be_ops->slot_request(d->be, slot, HSD_OP_DISABLE, NULL,
					    NULL, why, sizeof(why)) < 0)
			hsd_log(d, LOG_WARNING, "slot %s: %s", slot, why);
	}
	return 0;
}

/* Where every slot is as the service becomes ready: the availability
 * report's start (and what changed while nobody was watching). */
static void publish_snapshot(struct hsd *d)
{
	struct hsd_slot_view v;

	for (void *c = d->be_ops->slot_next(d->be, NULL, &v); c;
	     c = d->be_ops->slot_next(d->be, c, &v)) {
		if (hsd_slot_changed(d, v.info.name) < 0)
			slot_changed(d, v.info.name);
		hsd_publish(d, "slot-snapshot", v.info.name, json_pack(
			"{s:s, s:i}", "to", hs_slot_state_name(v.info.state),
			"number", (int)v.info.phys));
	}
}

/* Virtual clock: run the back-end until nothing is pending (at most
 * limit of its time). */
static void run_until_idle(struct hsd *d, int64_t limit)
{
	int64_t start = d->be_ops->now(d->be);

	if (!d->be_ops->step)
		return;
	while (d->be_ops->now(d->be) - start < limit && d->be_ops->step(d->be))
		;
}

int hsd_start(uv_loop_t *loop, const struct hsd_config *cfg,
	      struct hsd **out, char *err, size_t errlen)
{
	struct hsd *d = hsd_calloc(1, sizeof(*d));
	struct hsd_backend_hooks hooks;
	char path[HSD_PATH_MAX + 32];
	const char *name;
	uint64_t last_seq = 0;
	int64_t last_time = 0;
	int rc;

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* jansson allocates through the service's seam (alloc.h): its
	 * failures are counted, so that a request it could not parse for
	 * want of memory is not answered as malformed (server.c). */
	json_set_alloc_funcs(hsd_malloc, free);
	d->cfg = *cfg;
	d->loop = loop;
	d->journal = !cfg->syslog && journal_is_stderr();
	name = hsd_backend_choose(&d->cfg, &d->be_why);
	d->be_ops = hsd_backend_find(name);
	if (!d->be_ops) {
		snprintf(err, errlen, "back-end '%s' (%s) is not in this build "
			 "(available: %s)", name, d->be_why,
			 hsd_backend_names());
		rc = -ENOTSUP;
		goto free_d;
	}
	if (cfg->virtual_clock && !d->be_ops->step) {
		snprintf(err, errlen, "clock = virtual: the %s back-end runs "
			 "in real time only", d->be_ops->name);
		rc = -EINVAL;
		goto free_d;
	}
	hsd_log(d, LOG_NOTICE, "back-end %s (%s), chosen by %s",
		d->be_ops->name, d->be_ops->summary, d->be_why);
	if ((rc = mkdirs(cfg->state_dir, 0755)) ||
	    (rc = mkdirs(cfg->runtime_dir, 0755))) {
		snprintf(err, errlen, "creating %s / %s: %s", cfg->state_dir,
			 cfg->runtime_dir, strerror(-rc));
		goto free_d;
	}
	snprintf(path, sizeof(path), "%.480s/hotswap.db", cfg->state_dir);
	if ((rc = hsd_db_open(path, &d->db, err, errlen)))
		goto free_d;
	/* Numbering events from 1 again over a history that goes on would
	 * leave every later event unstored: no start without the last. */
	if ((rc = hsd_db_event_last(d->db, &last_seq, &last_time))) {
		snprintf(err, errlen, "%s", hsd_db_errmsg(d->db));
		goto close_db;
	}
	d->seq = last_seq;

	hooks = (struct hsd_backend_hooks){ .arg = d,
					    .event = on_backend_event,
					    .authorize = authorize_hook,
					    .log = backend_log,
					    .busy = service_busy };
	if ((rc = d->be_ops->open(loop, &d->cfg, &hooks, &d->be, err,
				  errlen)))
		goto close_db;
	if (cfg->virtual_clock) {
		d->time_base = last_seq ? last_time + 1000000000 : 0;
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		d->time_base = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec -
			       d->be_ops->now(d->be);
		if (d->time_base + d->be_ops->now(d->be) <= last_time)
			d->time_base = last_time + 1 - d->be_ops->now(d->be);
	}

	if ((rc = hsd_policy_reload(d, err, errlen)))
		goto close_backend;
	rc = hsd_agents_new(loop, cfg->agents_dir, cfg->agent_timeout_ms,
			    agents_log, d, &d->agents);
	if (rc) {
		snprintf(err, errlen, "agents: %s", strerror(-rc));
		goto free_policy;
	}
	hsd_publish(d, "service", NULL,
		    json_pack("{s:s, s:s, s:s, s:s, s:i}", "msg", "starting",
			      "backend", d->be_ops->name,
			      "chassis", d->be_ops->chassis(d->be),
			      "clock", cfg->virtual_clock ? "virtual"
							  : "realtime",
			      "pid", (int)getpid()));
	d->booting = true;
	rc = d->be_ops->start(d->be, err, errlen);
	d->booting = false;
	if (rc)
		goto free_agents;
	boot_announce(d);
	/* A slot the operator took down must not come back up because its
	 * setting could not be read. */
	if ((rc = hsd_db_slot_settings(d->db, apply_setting, d))) {
		snprintf(err, errlen, "%s", hsd_db_errmsg(d->db));
		goto stop_backend;
	}
	/* Start-up reconciliation runs on the chassis' clock. */
	if (cfg->virtual_clock)
		run_until_idle(d, (int64_t)HS_SEC(30));
	if ((rc = hsd_server_listen(d, err, errlen)))
		goto stop_backend;
	if ((rc = hsd_http_start(d, &d->http, err, errlen))) {
		hsd_server_close(d);
		goto stop_backend;
	}
	publish_snapshot(d);
	hsd_publish(d, "service", NULL,
		    json_pack("{s:s, s:i}", "msg", "ready", "devices",
			      (int)d->ndevs));
	*out = d;
	return 0;

stop_backend:
	d->stopping = true;
	d->be_ops->stop(d->be);
free_agents:
	hsd_agents_free(d->agents);
	d->agents = NULL;
	uv_run(loop, UV_RUN_DEFAULT);
free_policy:
	hsd_policy_free(d->policy);
close_backend:
	d->be_ops->close(d->be);
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
	hsd_locates_stop(d);
	hsd_agents_free(d->agents);
	d->agents = NULL;
	d->be_ops->stop(d->be);
}

void hsd_free(struct hsd *d)
{
	if (!d)
		return;
	d->be_ops->close(d->be);
	hsd_policy_free(d->policy);
	hsd_db_close(d->db);
	free(d->devs);
	free(d->slot_times);
	free(d);
}
