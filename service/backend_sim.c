/*
 * backend_sim.c - hotswapd's "sim" back-end: the register-level chassis
 * simulator with the core, the controller drivers and the simulator's
 * device drivers running on it (the embedded default).
 *
 * Owns: the simulated chassis (topology, catalog, its saved state in
 * STATE_DIR/chassis.json), the core object on it, the chassis clock
 * (real time follows the monotonic clock; virtual time is stepped by
 * requests), the translation of the core's events and objects into the
 * seam's views (backend.h), and the simulator's own protocol methods:
 * the physical actions sim.insert / pull / button / latch / fault, and
 * sim.advance, sim.dma, sim.traffic, sim.catalog.
 *
 * Nothing outside this file in service/ knows the simulator exists.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include "backend.h"
#include "alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "hotswap/hpc.h"
#include "hotswap/pcie_regs.h"
#include "protocol.h"
#include "sim.h"
#include "simcard.h"
#include "topology.h"

struct hsd_backend {
	uv_loop_t *loop;
	const struct hsd_config *cfg;
	struct hsd_backend_hooks hooks;
	struct sim_topology *topo;
	struct sim *sim;
	struct hs_platform plat;
	struct hs_core *core;
	/* The rebalancing policy's pins (hs_core_params points here). */
	uint16_t pin_slots[32];
	struct hs_class_match pin_classes[32];
	/* Per-slot reservations from the config (hs_core_params points
	 * here), and the defaults they were filled from. */
	struct hs_slot_reserve slot_resv[HSD_RESERVE_MAX];
	struct hs_reserve resv_default;
	/* View storage: where each reservation came from. */
	char v_from[HS_RES_COUNT][HSD_PATH_MAX + 64];
	/* Real time: the chassis follows the monotonic clock. */
	uv_timer_t clock_timer;
	uv_prepare_t prepare;
	bool handles_open, stopping;
	uint64_t wall0;
	hs_time_t virt0;
	char phys_name[16];     /* a slot's name before its slot exists */
};

static void blog(struct hsd_backend *b, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void blog(struct hsd_backend *b, int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (b->hooks.log)
		b->hooks.log(b->hooks.arg, level, line);
}

/* ---- views ------------------------------------------------------------------ */

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

/* The slot holding the card a function is on; during boot enumeration,
 * before the controllers made their slots, its physical number. */
static const char *slot_of(struct hsd_backend *b, const struct hs_dev *dev)
{
	struct hs_slot_info si;
	int phys = hs_dev_slot(dev);

	if (phys < 0)
		return NULL;
	for (struct hs_slot *s = hs_slot_next(b->core, NULL); s;
	     s = hs_slot_next(b->core, s)) {
		hs_slot_get_info(s, &si);
		if (dev_in_slot(dev, &si))
			return si.name;
	}
	if (hs_slot_by_phys(b->core, (unsigned)phys))
		return NULL;    /* the slots exist; it is on none of them */
	snprintf(b->phys_name, sizeof(b->phys_name), "%d", phys);
	return b->phys_name;
}

static void dev_view(struct hsd_backend *b, struct hs_dev *dev,
		     struct hsd_dev_view *v)
{
	const struct hs_dev *c;
	char path[96] = "";
	hs_bdf_t chain[16];
	int n = 0;
	size_t at;
	uint16_t cmd = 0;
	uint32_t cmd32 = 0;

	memset(v, 0, sizeof(*v));
	v->bdf = hs_dev_bdf(dev);
	if (hs_dev_parent(dev)) {
		v->has_parent = true;
		v->parent = hs_dev_bdf(hs_dev_parent(dev));
	}
	v->vendor = hs_dev_vendor(dev);
	v->device = hs_dev_device(dev);
	v->subsys_vendor = hs_dev_subsys_vendor(dev);
	v->subsys = hs_dev_subsys(dev);
	v->class_code = hs_dev_class(dev);
	v->bridge = hs_dev_is_bridge(dev);
	v->hotplug_bridge = hs_dev_is_hotplug_bridge(dev);
	v->blocked = hs_dev_blocked(dev);
	v->driver = hs_dev_driver_name(dev);
	if (!hs_dev_isolated(dev, &v->isolated))
		v->isolated = NULL;
	v->phys = hs_dev_slot(dev);
	v->slot = slot_of(b, dev);
	v->has_serial = hs_dev_serial(dev, &v->serial) == 0;
	/* The card-relative path: functions up to the slot's bridge. */
	for (c = dev; c && !hs_dev_is_hotplug_bridge(c); c = hs_dev_parent(c)) {
		char part[110];
		hs_bdf_t a = hs_dev_bdf(c);

		snprintf(part, sizeof(part), "%02x.%u%s%s", HS_BDF_DEV(a),
			 HS_BDF_FN(a), path[0] ? "/" : "", path);
		snprintf(path, sizeof(path), "%.95s", part);
	}
	snprintf(v->card_path, sizeof(v->card_path), "%s", path);
	/* DEVPATH as sysfs spells it: the chain of bridges from the root. */
	at = (size_t)snprintf(v->devpath, sizeof(v->devpath),
			      "/devices/pci%04x:%02x", HS_BDF_SEG(v->bdf), 0);
	for (c = dev; c && n < 16; c = hs_dev_parent(c))
		chain[n++] = hs_dev_bdf(c);
	while (n-- > 0 && at < sizeof(v->devpath)) {
		hs_bdf_t a = chain[n];

		at += (size_t)snprintf(v->devpath + at, sizeof(v->devpath) - at,
				       "/%04x:%02x:%02x.%u", HS_BDF_SEG(a),
				       HS_BDF_BUS(a), HS_BDF_DEV(a),
				       HS_BDF_FN(a));
	}
	for (int i = 0; i <= 6; i++) {
		struct hs_resource r;

		if (hs_dev_bar(dev, i, &r))
			continue;
		v->bars[v->nbars].bar = i;
		v->bars[v->nbars++].r = r;
	}
	for (int k = 0; k < HS_RES_COUNT; k++) {
		struct hs_resource r;

		if (hs_dev_window(dev, (enum hs_res)k, &r) || !r.size)
			continue;
		v->wins[v->nwins++] = r;
	}
	v->has_irq = hs_dev_irq(dev, &v->irq, &v->nvec) == 0;
	v->mem_decode = v->io_decode = v->bus_master = -1;
	if (!hs_dev_gone(dev) && hs_dev_cfg_read(dev, 0x04, 2, &cmd32) == 0) {
		cmd = (uint16_t)cmd32;
		v->io_decode = !!(cmd & 0x1);
		v->mem_decode = !!(cmd & 0x2);
		v->bus_master = !!(cmd & 0x4);
	}
}

/* One reservation value of the config: its value and where it came
 * from, for `show` (false when the config does not set it). */
static bool reserve_key(struct hsd_backend *b, int slot, unsigned r,
			uint64_t *val, char *from, size_t len)
{
	const struct hsd_reserve_cfg *e = hsd_config_reserve(b->cfg, slot);
	char key[48];

	if (!e || !(e->set & (1u << r)))
		return false;
	if (slot >= 0)
		snprintf(key, sizeof(key), "slot.%d.reserve.%s", slot,
			 hsd_reserve_name(r));
	else
		snprintf(key, sizeof(key), "reserve.%s", hsd_reserve_name(r));
	if (e->line[r])
		snprintf(from, len, "%s (%s:%u)", key, b->cfg->reserve_file,
			 e->line[r]);
	else
		snprintf(from, len, "%s (the command line)", key);
	*val = e->v[r];
	return true;
}

static uint64_t resv_get(const struct hs_reserve *r, unsigned k)
{
	return k == HS_RES_BUS ? r->bus : k == HS_RES_IO ? r->io
	       : k == HS_RES_MEM ? r->mem : r->pref;
}

/*
 * The reservation in effect under a slot's bridge and where each value
 * came from.  The core's rule (hs_scan.c): a slot's own entry replaces
 * everything, else the bridge's reservation capability (QEMU's Red Hat
 * vendor capability) wins over the defaults field by field.
 */
static void reserve_view(struct hsd_backend *b, struct hs_dev *br,
			 struct hsd_slot_view *v)
{
	int phys = hs_dev_slot(br);
	bool own = phys >= 0 && hsd_config_reserve(b->cfg, phys);

	if (hs_dev_reservation(br, &v->reserve))
		return;
	v->reserve_managed = true;
	if (strcmp(v->info.kind, "pcie"))
		v->reserve_note = phys >= 0
			? "shared by every slot on the bus; set with reserve.* "
			  "or the bus's first slot's keys"
			: "shared by every slot on the bus; set with reserve.*";
	for (unsigned r = 0; r < HS_RES_COUNT; r++) {
		char *from = b->v_from[r];
		size_t len = sizeof(b->v_from[r]);
		uint64_t val;

		v->reserve_from[r] = from;
		if (own && reserve_key(b, phys, r, &val, from, len))
			continue;
		if (reserve_key(b, -1, r, &val, from, len)) {
			if (own || val == resv_get(&v->reserve, r))
				continue;
		} else if (own || resv_get(&b->resv_default, r) ==
					  resv_get(&v->reserve, r)) {
			snprintf(from, len, "default");
			continue;
		}
		snprintf(from, len, "the bridge's reservation capability");
	}
}

static void slot_view(struct hsd_backend *b, struct hs_slot *s,
		      struct hsd_slot_view *v)
{
	struct hs_dev *br;
	uint16_t cap;

	memset(v, 0, sizeof(*v));
	hs_slot_get_info(s, &v->info);
	v->controller = NULL;
	v->blue_led = -1;
	if (!strcmp(v->info.kind, "cpci")) {
		/* The blue LED as the operator sees it on the board (PICMG
		 * 2.1: lit = safe to extract). */
		struct sim_slot *hw = sim_slot_by_name(b->sim, v->info.name);
		struct sim_slot_info hi;

		if (hw) {
			sim_slot_get_info(hw, &hi);
			v->blue_led = hi.blue_led;
		}
	}
	br = hs_dev_find(b->core, v->info.bridge);
	if (br)
		reserve_view(b, br, v);
	{
		unsigned bus;

		if (br && hs_dev_secondary_bus(br, &bus) == 0)
			snprintf(v->address, sizeof(v->address),
				 "%04x:%02x:%02x", HS_BDF_SEG(v->info.bridge),
				 bus & 0xff, v->info.devnum & 0x1f);
	}
	if (!strcmp(v->info.kind, "pcie") && br &&
	    hs_dev_find_cap(br, 0x10 /* PCI Express capability */, &cap) == 0) {
		uint32_t sltcap = 0, ctl = 0, sta = 0, lnksta = 0;

		hs_dev_cfg_read(br, (uint16_t)(cap + HS_PX_SLTCAP), 4, &sltcap);
		hs_dev_cfg_read(br, (uint16_t)(cap + HS_PX_SLTCTL), 2, &ctl);
		hs_dev_cfg_read(br, (uint16_t)(cap + HS_PX_SLTSTA), 2, &sta);
		hs_dev_cfg_read(br, (uint16_t)(cap + HS_PX_LNKSTA), 2, &lnksta);
		v->has_regs = true;
		v->sltcap = sltcap;
		v->sltctl = (uint16_t)ctl;
		v->sltsta = (uint16_t)sta;
		v->lnksta = (uint16_t)lnksta;
	}
}

static void *sim_slot_iter(struct hsd_backend *b, void *prev,
			   struct hsd_slot_view *out)
{
	struct hs_slot *s = hs_slot_next(b->core, prev);

	if (s)
		slot_view(b, s, out);
	return s;
}

static int sim_slot_get(struct hsd_backend *b, const char *name,
			struct hsd_slot_view *out)
{
	struct hs_slot *s = hs_slot_find(b->core, name);

	if (!s)
		return -ENOENT;
	slot_view(b, s, out);
	return 0;
}

static void *sim_dev_iter(struct hsd_backend *b, void *prev,
			  struct hsd_dev_view *out)
{
	struct hs_dev *d = hs_dev_next(b->core, prev);

	if (d)
		dev_view(b, d, out);
	return d;
}

static int sim_dev_get(struct hsd_backend *b, hs_bdf_t bdf,
		       struct hsd_dev_view *out)
{
	struct hs_dev *d = hs_dev_find(b->core, bdf);

	if (!d)
		return -ENOENT;
	dev_view(b, d, out);
	return 0;
}

/* ---- events and the authorization hook ----------------------------------------- */

static const enum hsd_bev_type bev_of[] = {
	[HS_EV_SLOT_STATE] = HSD_BEV_SLOT_STATE,
	[HS_EV_SLOT_ALERT] = HSD_BEV_SLOT_ALERT,
	[HS_EV_DEV_ADDED] = HSD_BEV_DEV_ADDED,
	[HS_EV_DEV_REMOVED] = HSD_BEV_DEV_REMOVED,
	[HS_EV_DRIVER_BOUND] = HSD_BEV_DRIVER_BOUND,
	[HS_EV_DRIVER_UNBOUND] = HSD_BEV_DRIVER_UNBOUND,
	[HS_EV_DEV_ISOLATED] = HSD_BEV_DEV_ISOLATED,
	[HS_EV_DEV_BLOCKED] = HSD_BEV_DEV_BLOCKED,
	[HS_EV_DEV_AUTHORIZED] = HSD_BEV_DEV_AUTHORIZED,
	[HS_EV_DEV_MOVED] = HSD_BEV_DEV_MOVED,
	[HS_EV_WINDOW_CHANGED] = HSD_BEV_WINDOW_CHANGED,
};

static void on_core_event(void *arg, const struct hs_event *ev)
{
	struct hsd_backend *b = arg;
	struct hsd_bevent e = { 0 };
	struct hsd_dev_view v;
	struct hs_dev *dev;

	if ((unsigned)ev->type >= sizeof(bev_of) / sizeof(bev_of[0]))
		return;
	e.type = bev_of[ev->type];
	e.slot_name = ev->slot_name;
	e.phys = ev->slot;
	e.from = ev->from;
	e.to = ev->to;
	e.msg = ev->msg;
	e.bdf = ev->bdf;
	e.old_bdf = ev->old_bdf;
	e.vendor = ev->vendor;
	e.device = ev->device;
	e.class_code = ev->class_code;
	e.driver = ev->driver;
	e.generation = hs_core_generation(b->core);
	if (e.type != HSD_BEV_SLOT_STATE && e.type != HSD_BEV_SLOT_ALERT &&
	    e.type != HSD_BEV_DEV_REMOVED &&
	    (dev = hs_dev_find(b->core, ev->bdf)) && !hs_dev_gone(dev)) {
		dev_view(b, dev, &v);
		e.dev = &v;
	}
	b->hooks.event(b->hooks.arg, &e);
}

static bool authorize_hook(void *arg, struct hs_dev *dev, bool at_boot)
{
	struct hsd_backend *b = arg;
	struct hsd_dev_view v;

	dev_view(b, dev, &v);
	return b->hooks.authorize(b->hooks.arg, &v, at_boot);
}

static void core_log(void *arg, enum hs_log_level level, const char *line)
{
	struct hsd_backend *b = arg;

	if (b->hooks.log)
		b->hooks.log(b->hooks.arg, (int)level, line);
}

/* ---- the clock ------------------------------------------------------------------- */

static int64_t sim_be_now(struct hsd_backend *b)
{
	return (int64_t)sim_now(b->sim);
}

static bool sim_be_step(struct hsd_backend *b)
{
	return sim_step(b->sim);
}

static void clock_timer_cb(uv_timer_t *t);

/* Real time: bring the chassis up to the monotonic clock, then sleep
 * until its next event. */
static void clock_pump(struct hsd_backend *b)
{
	hs_time_t next, now;

	if (b->stopping)
		return;
	now = (hs_time_t)(uv_hrtime() - b->wall0) + b->virt0;
	if (now > sim_now(b->sim))
		sim_advance(b->sim, now - sim_now(b->sim));
	if (sim_next_event(b->sim, &next)) {
		uint64_t ms = next > now ? (next - now + 999999) / 1000000 : 0;

		uv_timer_start(&b->clock_timer, clock_timer_cb, ms, 0);
	} else {
		uv_timer_stop(&b->clock_timer);
	}
}

static void clock_timer_cb(uv_timer_t *t)
{
	clock_pump(t->data);
}

static void prepare_cb(uv_prepare_t *p)
{
	clock_pump(p->data);
}

/* ---- the chassis' saved state ------------------------------------------------------ */

static void chassis_path(const struct hsd_backend *b, char *buf, size_t len)
{
	snprintf(buf, len, "%.480s/chassis.json", b->cfg->state_dir);
}

/* Which card is in which slot, so that a restarted daemon finds the
 * hardware as it was left. */
static void chassis_save(struct hsd_backend *b)
{
	char path[HSD_PATH_MAX + 32], tmp[HSD_PATH_MAX + 40];
	json_t *o = json_object(), *slots = json_object();
	json_t *faults = json_array();
	struct sim_slot *s = NULL;
	int fd;
	char *text;

	json_object_set_new(o, "topology",
			    json_string(sim_topology_name(b->topo)));
	while ((s = sim_slot_next(b->sim, s))) {
		struct sim_slot_info si;

		sim_slot_get_info(s, &si);
		json_object_set_new(slots, si.name,
				    si.card ? json_string(si.card)
					    : json_null());
		if (si.card && si.power_fault)
			json_array_append_new(faults, json_string(si.name));
	}
	json_object_set_new(o, "slots", slots);
	/* A latched power fault is the hardware's state too. */
	json_object_set_new(o, "faults", faults);
	text = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		return;
	chassis_path(b, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fsync(fd) || rename(tmp, path))
		blog(b, LOG_ERR, "saving %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(text);
}

/* Put the cards back where the last run left them (the hardware kept
 * running while the daemon was away). */
static void chassis_restore(struct hsd_backend *b)
{
	char path[HSD_PATH_MAX + 32];
	json_error_t je;
	json_t *o, *slots, *v;
	const char *name;
	size_t i;

	chassis_path(b, path, sizeof(path));
	o = json_load_file(path, 0, &je);
	if (!o)
		return;
	if (!json_is_string(json_object_get(o, "topology")) ||
	    strcmp(json_string_value(json_object_get(o, "topology")),
		   sim_topology_name(b->topo))) {
		blog(b, LOG_NOTICE, "%s describes another chassis: ignored",
		     path);
		goto free_json;
	}
	slots = json_object_get(o, "slots");
	json_object_foreach(slots, name, v) {
		struct sim_slot *s = sim_slot_by_name(b->sim, name);
		struct sim_slot_info si;
		const struct sim_card_spec *card = NULL;

		if (!s)
			continue;
		if (json_is_string(v) &&
		    !(card = sim_topology_card(b->topo, json_string_value(v))))
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
	json_array_foreach(json_object_get(o, "faults"), i, v) {
		struct sim_slot *s = json_is_string(v)
			? sim_slot_by_name(b->sim, json_string_value(v)) : NULL;

		if (s && sim_inject_power_fault(s) == 0)
			blog(b, LOG_INFO, "slot %s: its card's power fault is "
			     "still latched", json_string_value(v));
	}
	blog(b, LOG_INFO, "chassis restored from %s", path);
free_json:
	json_decref(o);
}

/* ---- open, start, stop -------------------------------------------------------------- */

static void resv_put(struct hs_reserve *r, unsigned k, uint64_t v)
{
	if (k == HS_RES_BUS)
		r->bus = (uint32_t)v;
	else if (k == HS_RES_IO)
		r->io = v;
	else if (k == HS_RES_MEM)
		r->mem = v;
	else
		r->pref = v;
}

/* The config's reserve.* over the core's defaults; each slot.N.reserve.*
 * entry becomes a per-slot reservation, its unset values taken from
 * those defaults (docs/hotswapd.conf.md). */
static void reserve_params(struct hsd_backend *b, struct hs_core_params *p)
{
	const struct hsd_config *c = b->cfg;
	const struct hsd_reserve_cfg *d = hsd_config_reserve(c, -1);
	unsigned n = 0;

	for (unsigned r = 0; d && r < HS_RES_COUNT; r++)
		if (d->set & (1u << r))
			resv_put(&p->hotplug, r, d->v[r]);
	b->resv_default = p->hotplug;
	for (unsigned i = 0; i < c->nreserve; i++) {
		const struct hsd_reserve_cfg *e = &c->reserve[i];

		if (e->slot < 0)
			continue;
		b->slot_resv[n].phys_slot = (uint16_t)e->slot;
		b->slot_resv[n].r = p->hotplug;
		for (unsigned r = 0; r < HS_RES_COUNT; r++)
			if (e->set & (1u << r))
				resv_put(&b->slot_resv[n].r, r, e->v[r]);
		n++;
	}
	p->slot_reserve = b->slot_resv;
	p->nslot_reserve = n;
}

static int sim_be_open(uv_loop_t *loop, const struct hsd_config *cfg,
		       const struct hsd_backend_hooks *hooks,
		       struct hsd_backend **out, char *err, size_t errlen)
{
	struct hsd_backend *b = hsd_calloc(1, sizeof(*b));
	struct hs_core_params p;
	const char *topo;
	char msg[512];
	int rc;

	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	b->loop = loop;
	b->cfg = cfg;
	b->hooks = *hooks;
	topo = cfg->topology[0] ? cfg->topology
				: sim_topology_default_chassis();
	rc = sim_topology_load(topo, cfg->catalog[0] ? cfg->catalog : NULL,
			       &b->topo, msg, sizeof(msg));
	if (rc) {
		snprintf(err, errlen, "%s", msg);
		goto free_b;
	}
	b->sim = sim_topology_sim(b->topo);
	chassis_restore(b);
	sim_get_platform(b->sim, &b->plat);
	sim_set_log(b->sim, core_log, b);

	hs_core_params_defaults(&p);
	reserve_params(b, &p);
	p.slot_poll = cfg->poll;
	p.poll_period = cfg->poll_period_ns;
	p.button_window = cfg->button_window_ns;
	p.authorize = authorize_hook;
	p.authorize_arg = b;
	{
		uint32_t codes[32], masks[32];
		unsigned ns, nc;

		rc = hsd_config_pins(cfg, b->pin_slots, &ns, codes, masks, &nc,
				     32, err, errlen);
		if (rc)
			goto free_topo;
		for (unsigned i = 0; i < nc; i++) {
			b->pin_classes[i].class_code = codes[i];
			b->pin_classes[i].mask = masks[i];
		}
		p.rebalance.move = cfg->rebalance_capable ? HS_MOVE_CAPABLE
							  : HS_MOVE_NEVER;
		p.rebalance.max_moved = (unsigned)cfg->rebalance_max_moved;
		p.rebalance.pinned_slots = b->pin_slots;
		p.rebalance.npinned_slots = ns;
		p.rebalance.pinned_classes = b->pin_classes;
		p.rebalance.npinned_classes = nc;
	}
	if ((rc = hs_core_create(&b->plat, &p, &b->core)) ||
	    (hs_core_enable_rebalance(b->core),
	     (rc = hs_controllers_register(b->core))) ||
	    (rc = hs_driver_register(b->core, &simnet_driver)) ||
	    (rc = hs_driver_register(b->core, &simstor_driver)) ||
	    (rc = hs_core_subscribe(b->core, on_core_event, b))) {
		snprintf(err, errlen, "starting the core: %s", strerror(-rc));
		goto free_core;
	}
	*out = b;
	return 0;

free_core:
	if (b->core)
		hs_core_destroy(b->core);
free_topo:
	sim_topology_free(b->topo);
free_b:
	free(b);
	return rc;
}

static int sim_be_start(struct hsd_backend *b, char *err, size_t errlen)
{
	int rc = hs_core_enumerate(b->core);

	if (rc) {
		snprintf(err, errlen, "enumeration failed: %s", strerror(-rc));
		return rc;
	}
	/* A slot key that names no slot with a bridge of its own does
	 * nothing: say so once. */
	for (unsigned i = 0; i < b->cfg->nreserve; i++) {
		const struct hsd_reserve_cfg *e = &b->cfg->reserve[i];

		if (e->slot >= 0 &&
		    !hs_core_slot_bridge(b->core, (uint16_t)e->slot))
			blog(b, LOG_WARNING, "slot.%d.reserve.* (%s): this "
			     "chassis has no hot-plug bridge for slot %d (a "
			     "slot on a bus of several takes its bus's "
			     "reservation, reserve.*); the keys do nothing",
			     e->slot, b->cfg->reserve_file[0]
			     ? b->cfg->reserve_file : "the command line",
			     e->slot);
	}
	/* Interrupts latched by enumeration are taken at once. */
	sim_advance(b->sim, 0);
	uv_timer_init(b->loop, &b->clock_timer);
	b->clock_timer.data = b;
	uv_prepare_init(b->loop, &b->prepare);
	b->prepare.data = b;
	b->handles_open = true;
	b->wall0 = uv_hrtime();
	b->virt0 = sim_now(b->sim);
	if (!b->cfg->virtual_clock)
		uv_prepare_start(&b->prepare, prepare_cb);
	chassis_save(b);
	return 0;
}

static void sim_be_stop(struct hsd_backend *b)
{
	if (b->stopping)
		return;
	b->stopping = true;
	chassis_save(b);
	if (b->handles_open) {
		uv_timer_stop(&b->clock_timer);
		uv_close((uv_handle_t *)&b->clock_timer, NULL);
		uv_close((uv_handle_t *)&b->prepare, NULL);
	}
}

static void sim_be_close(struct hsd_backend *b)
{
	if (!b)
		return;
	hs_core_destroy(b->core);
	sim_topology_free(b->topo);
	free(b);
}

static const char *sim_be_chassis(struct hsd_backend *b)
{
	return sim_topology_name(b->topo);
}

/* ---- operations ------------------------------------------------------------------------ */

static int sim_be_request(struct hsd_backend *b, const char *slot,
			  enum hsd_slot_op op, hsd_done_fn done, void *arg,
			  char *why, size_t whylen)
{
	struct hs_slot *s = hs_slot_find(b->core, slot);
	struct hs_slot_info si;
	int rc;

	if (!s) {
		snprintf(why, whylen, "slot %s is gone", slot);
		return -ENOENT;
	}
	switch (op) {
	case HSD_OP_ENABLE:
		rc = hs_slot_enable(s, done, arg);
		break;
	case HSD_OP_REPLACE:
		rc = hs_slot_replace(s, done, arg);
		break;
	case HSD_OP_CONNECT:
		rc = hs_slot_connect(s, done, arg);
		break;
	case HSD_OP_UNCONFIGURE:
		rc = hs_slot_unconfigure(s, done, arg);
		break;
	default:
		rc = hs_slot_disable(s, done, arg);
		break;
	}
	if (rc < 0) {
		hs_slot_get_info(s, &si);
		snprintf(why, whylen, "%s", si.reason);
	}
	return rc;
}

/* An indicator request on a slot; the slot's refusal reason, if any. */
static int set_indicator(struct hsd_backend *b, const char *slot,
			 int (*set)(struct hs_slot *, enum hs_indicator),
			 enum hs_indicator ind, char *why, size_t whylen)
{
	struct hs_slot *s = hs_slot_find(b->core, slot);
	struct hs_slot_info si;
	int rc;

	if (!s) {
		snprintf(why, whylen, "slot %s is gone", slot);
		return -ENOENT;
	}
	rc = set(s, ind);
	if (rc < 0) {
		hs_slot_get_info(s, &si);
		snprintf(why, whylen, "%s", si.reason);
	}
	return rc;
}

static int sim_be_attention(struct hsd_backend *b, const char *slot,
			    enum hs_indicator ind, char *why, size_t whylen)
{
	return set_indicator(b, slot, hs_slot_set_attention, ind, why,
			     whylen);
}

static int sim_be_power_indicator(struct hsd_backend *b, const char *slot,
				  enum hs_indicator ind, char *why,
				  size_t whylen)
{
	return set_indicator(b, slot, hs_slot_set_power_indicator, ind, why,
			     whylen);
}

static int sim_be_policy(struct hsd_backend *b, const char *slot,
			 enum hs_slot_policy policy)
{
	struct hs_slot *s = hs_slot_find(b->core, slot);

	return s ? hs_slot_set_policy(s, policy) : -ENOENT;
}

/* A function by address, for an operation that says why it failed. */
static struct hs_dev *dev_for(struct hsd_backend *b, hs_bdf_t bdf, char *msg,
			      size_t msglen)
{
	struct hs_dev *dev = hs_dev_find(b->core, bdf);

	if (!dev)
		snprintf(msg, msglen, "the device is gone");
	return dev;
}

static int sim_be_authorize(struct hsd_backend *b, hs_bdf_t bdf, char *msg,
			    size_t msglen)
{
	struct hs_dev *dev = dev_for(b, bdf, msg, msglen);

	return dev ? hs_dev_authorize(dev, msg, msglen) : -ENOENT;
}

static int sim_be_deauthorize(struct hsd_backend *b, hs_bdf_t bdf,
			      char *msg, size_t msglen)
{
	struct hs_dev *dev = dev_for(b, bdf, msg, msglen);

	return dev ? hs_dev_deauthorize(dev, msg, msglen) : -ENOENT;
}

static int sim_be_ledger(struct hsd_backend *b, struct hsd_driver_ledger *o)
{
	const struct simcard_ledger *l = simcard_ledger();

	o->submitted = l->submitted;
	o->completed = l->completed;
	o->failed = l->failed;
	o->refused = l->refused;
	o->in_flight = 0;
	for (struct hs_dev *d = hs_dev_next(b->core, NULL); d;
	     d = hs_dev_next(b->core, d)) {
		const struct hs_driver *drv = hs_dev_driver(d);

		if (drv == &simnet_driver || drv == &simstor_driver)
			o->in_flight += simcard_in_flight(d);
	}
	return 0;
}

static int sim_be_rebalance(struct hsd_backend *b, hsd_done_fn done,
			    void *arg)
{
	return hs_core_rebalance(b->core, done, arg);
}

static void sim_be_resync(struct hsd_backend *b)
{
	hs_core_slots_resync(b->core);
}

/* ---- the simulator's own methods: physical actions and drills ------------------------ */

static struct sim_slot *p_sim_slot(struct call *k, bool *bad)
{
	const char *name = hsd_p_str(k, "slot", true, bad);
	struct sim_slot *s;

	if (*bad)
		return NULL;
	s = sim_slot_by_name(hsd_call_backend(k)->sim, name);
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
	struct hsd_backend *b = hsd_call_backend(k);
	struct sim_slot_info si;

	sim_slot_get_info(s, &si);
	if (rc < 0) {
		FAIL(k, rc == -HS_EBUSY ? "busy" : "refused", -rc,
		     "slot %s: %s", si.name, why);
		return;
	}
	chassis_save(b);
	hsd_call_publish(k, "physical", si.name,
			 json_pack("{s:s, s:s?}", "action", what, "card",
				   si.card));
	/* Interrupts raised by the action are taken at once. */
	sim_advance(b->sim, 0);
	REPLY(k, json_pack("{s:s, s:b, s:b, s:b, s:s?}", "slot", si.name,
			   "present", si.present, "powered", si.powered,
			   "latch_open", si.mrl_open, "card", si.card));
}

static void m_sim_insert(struct call *k)
{
	bool bad = false;
	struct sim_slot *s = p_sim_slot(k, &bad);
	const char *name = bad ? NULL : hsd_p_str(k, "card", true, &bad);
	const struct sim_card_spec *card;
	int rc;

	if (bad)
		return;
	card = sim_topology_card(hsd_call_backend(k)->topo, name);
	if (!card) {
		FAIL(k, "not-found", ENOENT, "no card '%s' in the catalog "
		     "(hotswapctl sim catalog lists them)", name);
		return;
	}
	rc = sim_insert(s, card);
	sim_done(k, "insert", s, rc,
		 rc == -HS_EBUSY ? "the slot already holds a card"
				 : "the card does not fit this slot");
}

static void m_sim_pull(struct call *k)
{
	bool bad = false;
	struct sim_slot *s = p_sim_slot(k, &bad);
	bool surprise = bad ? false : hsd_p_bool(k, "surprise", false, &bad);
	int rc;

	if (bad)
		return;
	rc = sim_remove(s, surprise ? SIM_REMOVE_SURPRISE : SIM_REMOVE_ORDERLY);
	sim_done(k, surprise ? "pull (surprise)" : "pull", s, rc,
		 rc == -HS_ENOENT ? "the slot is empty"
		 : rc == -HS_EBUSY ? "the electromechanical interlock holds "
				     "the card"
				   : "the card could not be pulled");
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
	bool open = bad ? false : hsd_p_bool(k, "open", true, &bad);
	int rc;

	if (bad)
		return;
	rc = sim_set_latch(s, open);
	sim_done(k, open ? "latch open" : "latch close", s, rc,
		 rc == -HS_EBUSY ? "the electromechanical interlock holds "
				   "the latch closed"
		 : rc == -HS_ENOENT ? "the ejector handle is on the board, "
				      "and the slot is empty"
				    : "the slot has no latch (no MRL sensor)");
}

static void m_sim_fault(struct call *k)
{
	bool bad = false;
	struct sim_slot *s = p_sim_slot(k, &bad);
	int rc;

	struct sim_slot_info si;

	if (bad)
		return;
	/* A power fault is the slot's power controller seeing an over-
	 * current on a powered card: no card, or no power, nothing to
	 * fault (the simulator's own drills may still latch one). */
	sim_slot_get_info(s, &si);
	rc = !si.present ? -HS_ENOENT : !si.powered ? -HS_EAGAIN
			 : sim_inject_power_fault(s);
	sim_done(k, "power fault", s, rc,
		 rc == -HS_ENOENT ? "the slot is empty: no card to fault"
				  : "the card has no power: nothing to fault");
}

/* The clock steps once the service has nothing in hand it must not
 * overtake (agents still deciding on a button's removal, which may
 * cancel it inside its 5 s window). */
struct advance {
	uv_timer_t timer;
	struct call *k;
	int64_t ns;
	unsigned waited_ms;
};

static void advance_now(struct call *k, int64_t ns)
{
	struct hsd_backend *b = hsd_call_backend(k);

	sim_advance(b->sim, (hs_time_t)ns);
	REPLY(k, json_pack("{s:I, s:I}", "chassis_time",
			   (json_int_t)sim_now(b->sim), "time",
			   (json_int_t)hsd_call_now(k)));
}

static void advance_closed(uv_handle_t *h)
{
	struct advance *a = h->data;

	hsd_call_release(a->k);
	free(a);
}

static void advance_retry(uv_timer_t *t)
{
	struct advance *a = t->data;
	struct hsd_backend *b = hsd_call_backend(a->k);

	a->waited_ms += 5;
	/* Agents have their own time-out (agent_timeout); a minute is a
	 * backstop against waiting for ever. */
	if (!b->stopping && b->hooks.busy && b->hooks.busy(b->hooks.arg) &&
	    a->waited_ms < 60000)
		return;
	uv_timer_stop(t);
	if (b->stopping)
		FAIL(a->k, "busy", EBUSY, "the service is stopping");
	else
		advance_now(a->k, a->ns);
	uv_close((uv_handle_t *)t, advance_closed);
}

static void m_sim_advance(struct call *k)
{
	struct hsd_backend *b = hsd_call_backend(k);
	bool bad = false;
	int64_t ns = hsd_p_int(k, "ns", -1, 0, (int64_t)3600 * 1000000000,
			       &bad);
	struct advance *a;

	if (bad)
		return;
	if (!hsd_call_virtual_clock(k)) {
		FAIL(k, "not-supported", ENOTSUP, "the clock is real time; "
		     "start hotswapd with clock = virtual to step it");
		return;
	}
	if (ns < 0) {
		FAIL(k, "invalid-params", EINVAL, "missing parameter 'ns'");
		return;
	}
	if (!b->hooks.busy || !b->hooks.busy(b->hooks.arg)) {
		advance_now(k, ns);
		return;
	}
	a = hsd_calloc(1, sizeof(*a));
	if (!a || !(a->k = hsd_call_detach(k))) {
		free(a);
		FAIL(k, "failed", ENOMEM, "out of memory");
		return;
	}
	a->ns = ns;
	uv_timer_init(b->loop, &a->timer);
	a->timer.data = a;
	uv_timer_start(&a->timer, advance_retry, 5, 5);
}

static void m_sim_dma(struct call *k)
{
	struct hsd_backend *b = hsd_call_backend(k);
	bool bad = false;
	struct sim_slot *s = p_sim_slot(k, &bad);
	int64_t fn = bad ? 0 : hsd_p_int(k, "fn", 0, 0, 7, &bad);
	int64_t count = bad ? 0 : hsd_p_int(k, "count", 16, 1, 100000, &bad);
	struct sim_counters before, after;
	int through;

	if (bad)
		return;
	sim_get_counters(b->sim, &before);
	through = sim_card_dma(s, (unsigned)fn,
			       sim_get_config(b->sim)->ram_base + 0x10000, 16,
			       (unsigned)count);
	if (through < 0) {
		FAIL(k, "not-found", ENOENT, "no card function %d in the slot",
		     (int)fn);
		return;
	}
	sim_get_counters(b->sim, &after);
	REPLY(k, json_pack("{s:I, s:I, s:I}", "attempts",
			   (json_int_t)(after.dma_attempts - before.dma_attempts),
			   "blocked",
			   (json_int_t)(after.dma_blocked - before.dma_blocked),
			   "through", (json_int_t)through));
}

static void m_sim_traffic(struct call *k)
{
	struct hsd_backend *b = hsd_call_backend(k);
	bool bad = false;
	const char *what = hsd_p_str(k, "device", true, &bad);
	int64_t count = bad ? 0 : hsd_p_int(k, "count", 8, 1, 4096, &bad);
	struct hs_dev *dev = NULL;
	const struct hs_driver *drv;
	unsigned taken;
	const struct simcard_ledger *l = simcard_ledger();
	hs_bdf_t bdf;

	if (bad)
		return;
	if (hsd_call_find_dev(k, what, &bdf) == 0)
		dev = hs_dev_find(b->core, bdf);
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

	for (size_t i = 0;
	     (c = sim_topology_card_at(hsd_call_backend(k)->topo, i)); i++)
		json_array_append_new(a, json_pack(
			"{s:s, s:s, s:b, s:i}", "card", c->name,
			"description", c->description ? c->description : "",
			"pcie", c->pcie, "functions", (int)c->nfuncs));
	REPLY(k, a);
}

static const struct hsd_method sim_methods[] = {
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

const struct hsd_backend_ops hsd_backend_sim = {
	.name = "sim",
	.summary = "the register-level chassis simulator",
	.open = sim_be_open,
	.start = sim_be_start,
	.stop = sim_be_stop,
	.close = sim_be_close,
	.chassis = sim_be_chassis,
	.now = sim_be_now,
	.step = sim_be_step,
	.slot_next = sim_slot_iter,
	.slot_get = sim_slot_get,
	.dev_next = sim_dev_iter,
	.dev_get = sim_dev_get,
	.slot_request = sim_be_request,
	.slot_attention = sim_be_attention,
	.slot_power_indicator = sim_be_power_indicator,
	.slot_policy = sim_be_policy,
	.authorize = sim_be_authorize,
	.deauthorize = sim_be_deauthorize,
	.driver_ledger = sim_be_ledger,
	.rebalance = sim_be_rebalance,
	.resync = sim_be_resync,
	.methods = sim_methods,
	.nmethods = sizeof(sim_methods) / sizeof(sim_methods[0]),
};
