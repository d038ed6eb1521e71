/*
 * backend_linux.c - hotswapd's "linux" back-end: the kernel's own PCI
 * hot-plug drivers (pciehp, shpchp, acpiphp) through sysfs and the
 * kernel's device events (platforms/linux/linux_pci.h, docs/linux.md).
 *
 * Owns: the slots and functions as the service sees them on Linux (views
 * built from sysfs; slot states derived from power / adapter / latch and
 * from the service's own requests), the requests (enable = power 1,
 * disable = attention blinking while power 0 runs, replace), the
 * authorization mechanism (drivers_autoprobe = 0 while it runs, every new
 * function decided at its add event from attributes that take no device
 * lock, then allowed = probed through drivers_probe, blocked =
 * driver_override, unbound, decode and bus mastering off), the kernel's PCI events on the loop and the
 * low-rate poll of the slot files the kernel announces nothing for.
 *
 * The power writes block in the kernel until the slot is configured or
 * removed (a second or more), so they run on libuv's thread pool.
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
#include <sys/utsname.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "linux_pci.h"

#define L_MAX_SLOTS 256
#define L_MAX_DEVS 256

struct lslot {
	struct hsl_slot hw;
	bool used;              /* still in sysfs */
	enum hs_slot_state state;
	enum hs_indicator attn; /* as last commanded */
	enum hs_slot_policy policy;
	bool busy;
	char reason[256];
	unsigned long transitions;
	/* The request in flight. */
	enum hsd_slot_op op;
	hsd_done_fn done;
	void *done_arg;
	bool replace_wait;      /* replace: waiting for the next card */
};

struct ldev {
	bool used;
	hs_bdf_t bdf;
	struct hsl_func f;
	char slot[32];
	int phys;
	bool blocked;
	bool announced_bound;   /* DRIVER_BOUND sent for f.driver */
	int64_t added_usec;
};

struct work {
	uv_work_t req;
	struct hsd_backend *b;
	char slot[32];
	struct hsl_slot hw;     /* the slot as the request found it */
	enum hsd_slot_op op;
	bool rescan;            /* enable of a connected slot: configure */
	int on;
	int rc;
	char err[512];
};

struct hsd_backend {
	uv_loop_t *loop;
	const struct hsd_config *cfg;
	struct hsd_backend_hooks hooks;
	struct hsl_sys *sys;
	struct hsl_monitor *mon;
	uv_poll_t poll;
	uv_timer_t timer;
	bool handles_open, stopping;
	int old_autoprobe;
	bool autoprobe_set;
	struct lslot slots[L_MAX_SLOTS];
	size_t nslots;
	struct ldev devs[L_MAX_DEVS];
	char chassis[160];
	/* What the kernel sizes hot-plug windows by (reserve_note). */
	char resv_note[400];
	/* View storage (valid until the next call, backend.h). */
	char v_driver[32], v_slot[32], v_controller[200];
	struct hsd_dev_view ev_view;
};

static void blog(struct hsd_backend *b, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void blog(struct hsd_backend *b, int level, const char *fmt, ...)
{
	char line[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (b->hooks.log)
		b->hooks.log(b->hooks.arg, level, line);
}

/* Bounded, always terminated copy (sysfs names fit their fields). */
static void scopy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

static int parse_bdf(const char *s, hs_bdf_t *out)
{
	unsigned d, bus, dev, fn;

	if (sscanf(s, "%4x:%2x:%2x.%1u", &d, &bus, &dev, &fn) != 4)
		return -EINVAL;
	*out = HS_BDF(d, bus, dev, fn);
	return 0;
}

static void fmt_bdf(hs_bdf_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%u", HS_BDF_SEG(a), HS_BDF_BUS(a),
		 HS_BDF_DEV(a), HS_BDF_FN(a));
}

/* The physical slot number: the kernel's name up to a "-N" suffix. */
static int phys_of(const char *name)
{
	char *end;
	long v = strtol(name, &end, 10);

	return end == name ? -1 : (int)v;
}

/* ---- slots ---------------------------------------------------------------- */

static struct lslot *slot_by_name(struct hsd_backend *b, const char *name)
{
	for (size_t i = 0; i < b->nslots; i++)
		if (b->slots[i].used && !strcmp(b->slots[i].hw.name, name))
			return &b->slots[i];
	return NULL;
}

/* The nearest known slot above a function, from its device path (the
 * deepest component on a slot's bus and device number). */
static struct lslot *slot_of_path(struct hsd_backend *b, const char *devpath)
{
	char p[200];
	char *c;

	scopy(p, sizeof(p), devpath);
	for (;;) {
		const char *comp;

		c = strrchr(p, '/');
		comp = c ? c + 1 : p;
		for (size_t i = 0; i < b->nslots; i++)
			if (b->slots[i].used && strlen(comp) == 12 &&
			    !strncmp(comp, b->slots[i].hw.address, 10) &&
			    comp[10] == '.')
				return &b->slots[i];
		if (!c)
			return NULL;
		*c = 0;
	}
}

/* What the slot files say: empty (no adapter), off (a card, power 0),
 * on (power 1).  Slots without an adapter file count as occupied when
 * powered. */
static enum hs_slot_state hw_state(const struct hsl_slot *h)
{
	/* power: pciehp 0/1; shpchp 1 enabled, 2 powered only. */
	if (h->adapter == 0 && h->power < 1)
		return HS_SLOT_EMPTY;
	if (h->power >= 1)
		return HS_SLOT_ON;
	return h->adapter == 1 ? HS_SLOT_OFF : HS_SLOT_EMPTY;
}

static void set_state(struct hsd_backend *b, struct lslot *s,
		      enum hs_slot_state to, const char *msg)
{
	struct hsd_bevent e = { 0 };

	if (s->state == to)
		return;
	e.type = HSD_BEV_SLOT_STATE;
	e.slot_name = s->hw.name;
	e.phys = phys_of(s->hw.name);
	e.from = (int)s->state;
	e.to = (int)to;
	e.msg = msg;
	s->state = to;
	s->transitions++;
	b->hooks.event(b->hooks.arg, &e);
}

static void finish(struct hsd_backend *b, struct lslot *s, int rc,
		   const char *msg)
{
	hsd_done_fn done = s->done;
	void *arg = s->done_arg;

	s->busy = false;
	s->replace_wait = false;
	s->done = NULL;
	if (rc && msg)
		scopy(s->reason, sizeof(s->reason), msg);
	if (done)
		done(arg, rc, msg);
}

/* Re-read every slot: new ones are added, vanished ones dropped (a
 * request in flight on one fails with the reason), changes of state the
 * service did not ask for are announced. */
static void slots_refresh(struct hsd_backend *b)
{
	static struct hsl_slot now[L_MAX_SLOTS];
	size_t n, i, j;

	if (hsl_slots(b->sys, now, L_MAX_SLOTS, &n))
		return;
	for (j = 0; j < b->nslots; j++) {
		struct lslot *s = &b->slots[j];

		if (!s->used)
			continue;
		for (i = 0; i < n; i++)
			if (!strcmp(now[i].id, s->hw.id))
				break;
		if (i < n)
			continue;
		blog(b, LOG_NOTICE, "slot %s (%s) is gone", s->hw.name,
		     s->hw.id);
		if (s->busy) {
			char why[320];

			snprintf(why, sizeof(why), "slot %s vanished while the "
				 "operation ran", s->hw.name);
			finish(b, s, -ENODEV, why);
		}
		set_state(b, s, HS_SLOT_EMPTY, "the slot is gone");
		s->used = false;
	}
	for (i = 0; i < n; i++) {
		struct lslot *s = NULL;
		enum hs_slot_state st;

		for (j = 0; j < b->nslots; j++)
			if (b->slots[j].used && !strcmp(b->slots[j].hw.id,
							now[i].id)) {
				s = &b->slots[j];
				break;
			}
		if (!s) {
			for (j = 0; j < b->nslots && b->slots[j].used; j++)
				;
			if (j == L_MAX_SLOTS)
				continue;
			if (j == b->nslots)
				b->nslots++;
			s = &b->slots[j];
			memset(s, 0, sizeof(*s));
			s->used = true;
			s->state = HS_SLOT_EMPTY;
		}
		s->hw = now[i];
		if (s->hw.attention >= 0 && s->hw.attention <= 2)
			s->attn = (enum hs_indicator)s->hw.attention;
		st = hw_state(&s->hw);
		/* Powered with no function of its card known to the kernel:
		 * connected, unconfigured (cfgadm), e.g. after an
		 * unconfigure or a `remove` written by hand. */
		if (st == HS_SLOT_ON && !hsl_slot_configured(b->sys, &s->hw))
			st = HS_SLOT_CONNECTED;
		/* The service's own requests set their states; the slot
		 * files settle afterwards. */
		if (!s->busy || s->replace_wait)
			set_state(b, s, st, NULL);
		if (s->replace_wait && st == HS_SLOT_ON)
			finish(b, s, 0, NULL);
	}
}

static void fill_slot_view(struct hsd_backend *b, struct lslot *s,
			   struct hsd_slot_view *v)
{
	struct hs_slot_info *si = &v->info;
	unsigned d, bus, dev, fn;

	memset(v, 0, sizeof(*v));
	si->name = s->hw.name;
	si->phys = (unsigned)(phys_of(s->hw.name) < 0 ? 0 :
			      phys_of(s->hw.name));
	si->kind = !strcmp(s->hw.module, "pciehp") ? "pcie" :
		   !strcmp(s->hw.module, "shpchp") ? "shpc" :
		   !strcmp(s->hw.module, "acpiphp") ? "acpi" : s->hw.module;
	if (sscanf(s->hw.port, "%x:%x:%x.%u", &d, &bus, &dev, &fn) == 4)
		si->bridge = HS_BDF(d, bus, dev, fn);
	if (sscanf(s->hw.address, "%x:%x:%x", &d, &bus, &dev) == 3)
		si->devnum = (uint8_t)dev;
	/* What the driver lets user space do (each file exists only if the
	 * driver implements it). */
	if (s->hw.power >= 0)
		si->caps |= HS_SLOT_CAP_POWER;
	if (s->hw.attention >= 0)
		si->caps |= HS_SLOT_CAP_ATTN_IND;
	if (s->hw.latch >= 0)
		si->caps |= HS_SLOT_CAP_MRL;
	si->state = s->state;
	si->present = s->hw.adapter == 1;
	si->latch_open = s->hw.latch == 0;
	si->powered = s->hw.power >= 1;
	si->link_up = s->hw.power == 1 && s->hw.adapter != 0;
	si->power_ind = si->powered ? HS_IND_ON : HS_IND_OFF;
	si->attn_ind = s->attn;
	si->policy = s->policy;
	/* The kernel's drivers bring a card up on the button or presence
	 * themselves; disabled slots are held off by the service. */
	si->presence_enables = s->policy != HS_SLOT_POLICY_DISABLED;
	si->busy = s->busy;
	si->reason = s->reason;
	si->transitions = s->transitions;
	scopy(v->address, sizeof(v->address), s->hw.address);
	scopy(b->v_controller, sizeof(b->v_controller), s->hw.id);
	v->controller = b->v_controller;
	v->blue_led = -1;
	v->has_regs = false;
	v->reserve_managed = false;
	v->reserve_note = b->resv_note;
}

/*
 * Hot-plug reservations are the kernel's on this back-end: it sizes the
 * windows of hot-plug bridges at boot from pci=hpiosize=, hpmmiosize=,
 * hpmmioprefsize=, hpmemsize= and hpbussize= on its command line
 * (Documentation/admin-guide/kernel-parameters.txt), and nothing can
 * change them later.  Say what the command line asks for, and which
 * hotswapd.conf keys therefore do nothing.
 */
static void reserve_kernel(struct hsd_backend *b)
{
	char line[4096], opts[300] = "";
	size_t n = 0;
	FILE *f = fopen("/proc/cmdline", "r");

	if (f) {
		if (fgets(line, sizeof(line), f)) {
			char *save = NULL;

			for (char *t = strtok_r(line, " \n", &save); t;
			     t = strtok_r(NULL, " \n", &save))
				if (!strncmp(t, "pci=", 4) && strstr(t, "hp") &&
				    n < sizeof(opts) - 1)
					n += (size_t)snprintf(opts + n,
						sizeof(opts) - n, "%s%s",
						n ? " " : "", t);
		}
		fclose(f);
	}
	snprintf(b->resv_note, sizeof(b->resv_note), "not managed by "
		 "hotswapd: the kernel sized the hot-plug windows at boot%s%s%s",
		 n ? " (" : " with its defaults (no pci=hp*size= on its "
			    "command line)", n ? opts : "", n ? ")" : "");
	n = 0;
	line[0] = '\0';
	for (unsigned i = 0; i < b->cfg->nreserve; i++) {
		const struct hsd_reserve_cfg *e = &b->cfg->reserve[i];

		for (unsigned r = 0; r < HSD_RESV_COUNT; r++) {
			char slot[24] = "";

			if (!(e->set & (1u << r)) || n >= sizeof(line) - 64)
				continue;
			if (e->slot >= 0)
				snprintf(slot, sizeof(slot), "slot.%d.",
					 e->slot);
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      "%s%sreserve.%s", n ? ", " : "",
					      slot, hsd_reserve_name(r));
		}
	}
	if (n)
		blog(b, LOG_WARNING, "%s: %s do not apply on the linux "
		     "back-end (%s; set pci=hpmmiosize=, hpmmioprefsize=, "
		     "hpiosize=, hpbussize= on the kernel command line)",
		     b->cfg->reserve_file[0] ? b->cfg->reserve_file
					     : "the command line",
		     line, b->resv_note);
}

static void *l_slot_next(struct hsd_backend *b, void *prev,
			 struct hsd_slot_view *out)
{
	size_t i = prev ? (size_t)((struct lslot *)prev - b->slots) + 1 : 0;

	for (; i < b->nslots; i++)
		if (b->slots[i].used) {
			fill_slot_view(b, &b->slots[i], out);
			return &b->slots[i];
		}
	return NULL;
}

static int l_slot_get(struct hsd_backend *b, const char *name,
		      struct hsd_slot_view *out)
{
	struct lslot *s = slot_by_name(b, name);

	if (!s)
		return -ENOENT;
	fill_slot_view(b, s, out);
	return 0;
}

/* ---- devices ----------------------------------------------------------------- */

static struct ldev *dev_find(struct hsd_backend *b, hs_bdf_t bdf)
{
	for (size_t i = 0; i < L_MAX_DEVS; i++)
		if (b->devs[i].used && b->devs[i].bdf == bdf)
			return &b->devs[i];
	return NULL;
}

static bool is_port(struct hsd_backend *b, const char *bdf)
{
	for (size_t i = 0; i < b->nslots; i++)
		if (b->slots[i].used && !strcmp(b->slots[i].hw.port, bdf))
			return true;
	return false;
}

/* The Device Serial Number capability (PCIe 6.1 7.9.3), from the
 * extended configuration space (root may read past 64 bytes). */
static bool read_serial(const char *bdf, uint64_t *out)
{
	char p[96];
	uint32_t hdr;
	unsigned off = 0x100, guard = 0;
	uint8_t buf[8];
	int fd;
	bool ok = false;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	while (off >= 0x100 && off < 0x1000 && guard++ < 64) {
		if (pread(fd, buf, 4, off) != 4)
			break;
		hdr = buf[0] | buf[1] << 8 | buf[2] << 16 | (uint32_t)buf[3] << 24;
		if (hdr == 0 || hdr == 0xffffffffu)
			break;
		if ((hdr & 0xffff) == 0x0003) {
			if (pread(fd, buf, 8, off + 4) == 8) {
				*out = 0;
				for (int i = 7; i >= 0; i--)
					*out = *out << 8 | buf[i];
				ok = true;
			}
			break;
		}
		off = hdr >> 20;
	}
	close(fd);
	return ok;
}

static void fill_dev_view(struct hsd_backend *b, struct ldev *ld,
			  struct hsd_dev_view *v)
{
	const struct hsl_func *f = &ld->f;
	const char *c, *last = NULL, *prev = NULL;
	struct lslot *s;

	memset(v, 0, sizeof(*v));
	v->bdf = ld->bdf;
	/* The parent: the path component before the function's own. */
	for (c = f->devpath; (c = strchr(c, '/')); c++) {
		prev = last;
		last = c + 1;
	}
	if (prev && parse_bdf(prev, &v->parent) == 0)
		v->has_parent = true;
	v->vendor = f->vendor;
	v->device = f->device;
	v->subsys_vendor = f->subsys_vendor;
	v->subsys = f->subsys;
	v->class_code = f->class_code;
	v->bridge = f->bridge;
	v->hotplug_bridge = is_port(b, f->bdf);
	v->blocked = ld->blocked;
	scopy(b->v_driver, sizeof(b->v_driver), f->driver);
	v->driver = f->driver[0] ? b->v_driver : NULL;
	v->isolated = NULL;
	v->phys = ld->phys;
	scopy(b->v_slot, sizeof(b->v_slot), ld->slot);
	v->slot = ld->slot[0] ? b->v_slot : NULL;
	v->has_serial = read_serial(f->bdf, &v->serial);
	/* Card-relative path: the components below the slot's port. */
	s = ld->slot[0] ? slot_by_name(b, ld->slot) : NULL;
	if (s) {
		const char *at = strstr(f->devpath, s->hw.port);
		char out[96] = "";
		size_t n = 0;

		for (at = at ? strchr(at, '/') : NULL; at; at = strchr(at, '/')) {
			unsigned dd, bb, dv, fn;

			at++;
			if (sscanf(at, "%x:%x:%x.%u", &dd, &bb, &dv, &fn) == 4 &&
			    n < sizeof(out))
				n += (size_t)snprintf(out + n, sizeof(out) - n,
						      "%s%02x.%u", n ? "/" : "",
						      dv, fn);
		}
		scopy(v->card_path, sizeof(v->card_path), out);
	}
	snprintf(v->devpath, sizeof(v->devpath), "/devices/%s", f->devpath);
	v->mem_decode = f->command < 0 ? -1 : !!(f->command & HSL_CMD_MEM);
	v->io_decode = f->command < 0 ? -1 : !!(f->command & HSL_CMD_IO);
	v->bus_master = f->command < 0 ? -1 : !!(f->command & HSL_CMD_MASTER);
}

static int dev_refresh(struct hsd_backend *b, struct ldev *ld)
{
	char bdf[16];

	fmt_bdf(ld->bdf, bdf, sizeof(bdf));
	return hsl_func_read_fast(b->sys, bdf, &ld->f);
}

static void *l_dev_next(struct hsd_backend *b, void *prev,
			struct hsd_dev_view *out)
{
	size_t i = prev ? (size_t)((struct ldev *)prev - b->devs) + 1 : 0;

	for (; i < L_MAX_DEVS; i++)
		if (b->devs[i].used) {
			dev_refresh(b, &b->devs[i]);
			fill_dev_view(b, &b->devs[i], out);
			return &b->devs[i];
		}
	return NULL;
}

static int l_dev_get(struct hsd_backend *b, hs_bdf_t bdf,
		     struct hsd_dev_view *out)
{
	struct ldev *ld = dev_find(b, bdf);

	if (!ld)
		return -ENOENT;
	if (dev_refresh(b, ld))
		return -ENOENT;
	fill_dev_view(b, ld, out);
	return 0;
}

static void dev_event(struct hsd_backend *b, enum hsd_bev_type type,
		      struct ldev *ld, const char *driver, bool with_view)
{
	struct hsd_bevent e = { 0 };

	e.type = type;
	e.bdf = ld->bdf;
	e.phys = ld->phys;
	e.vendor = ld->f.vendor;
	e.device = ld->f.device;
	e.class_code = ld->f.class_code;
	e.driver = driver;
	if (with_view) {
		fill_dev_view(b, ld, &b->ev_view);
		e.dev = &b->ev_view;
	}
	b->hooks.event(b->hooks.arg, &e);
}

/* Block: no driver, no decode, no bus mastering; the window (add event
 * to all off) is logged when a driver or the Command register had got
 * there first. */
static void dev_block(struct hsd_backend *b, struct ldev *ld, const char *why)
{
	struct hsl_block r;
	char err[512];
	int64_t now;

	if (hsl_func_block(b->sys, ld->f.bdf, &r, err, sizeof(err))) {
		blog(b, LOG_ERR, "blocking %s: %s", ld->f.bdf, err);
		return;
	}
	now = hsl_now_usec();
	if (r.had_driver[0] || (r.command_before > 0 &&
				(r.command_before & 7)))
		blog(b, LOG_WARNING, "blocked %s (%s): %s%s had it, command "
		     "0x%04x -> 0x%04x, window %" PRId64 " us after its add "
		     "event", ld->f.bdf, why, r.had_driver[0] ? "driver " : "",
		     r.had_driver[0] ? r.had_driver : "the Command register",
		     (unsigned)r.command_before, (unsigned)r.command_after,
		     ld->added_usec ? now - ld->added_usec : 0);
	ld->blocked = true;
	dev_refresh(b, ld);
	if (ld->announced_bound) {
		ld->announced_bound = false;
		dev_event(b, HSD_BEV_DRIVER_UNBOUND, ld, r.had_driver, true);
	}
}

struct probe_work {
	uv_work_t req;
	struct hsd_backend *b;
	char bdf[16];
	int rc;
	char err[512];
};

static void probe_run(uv_work_t *req)
{
	struct probe_work *w = req->data;

	w->rc = hsl_func_allow(w->b->sys, w->bdf, NULL, w->err,
			       sizeof(w->err));
}

static void probe_after(uv_work_t *req, int status)
{
	struct probe_work *w = req->data;

	(void)status;
	if (w->rc && !w->b->stopping)
		blog(w->b, LOG_ERR, "%s", w->err);
	free(w);
}

/* Let the kernel bind an allowed function (driver_override cleared,
 * drivers_probe) without the loop waiting for the driver's probe.  The
 * bind event announces the driver. */
static void probe_async(struct hsd_backend *b, const char *bdf)
{
	struct probe_work *w = hsd_calloc(1, sizeof(*w));

	if (!w) {
		blog(b, LOG_ERR, "probing %s: out of memory", bdf);
		return;
	}
	w->b = b;
	w->req.data = w;
	scopy(w->bdf, sizeof(w->bdf), bdf);
	uv_queue_work(b->loop, &w->req, probe_run, probe_after);
}

/* A new function: decided, announced. */
static void dev_arrive(struct hsd_backend *b, const char *bdf, bool at_boot,
		       int64_t usec)
{
	struct hsl_slot hs;
	struct lslot *s;
	struct ldev *ld = NULL;
	struct hsd_dev_view v;
	hs_bdf_t a;
	bool allow;

	if (parse_bdf(bdf, &a))
		return;
	if (!(ld = dev_find(b, a))) {
		for (size_t i = 0; i < L_MAX_DEVS; i++)
			if (!b->devs[i].used) {
				ld = &b->devs[i];
				break;
			}
		if (!ld) {
			blog(b, LOG_ERR, "%s: more than %d functions", bdf,
			     L_MAX_DEVS);
			return;
		}
	}
	memset(ld, 0, sizeof(*ld));
	ld->used = true;
	ld->bdf = a;
	ld->added_usec = usec;
	if (hsl_func_read_fast(b->sys, bdf, &ld->f)) {
		ld->used = false;
		return;
	}
	ld->phys = -1;
	if ((s = slot_of_path(b, ld->f.devpath)) ||
	    (hsl_func_slot(b->sys, bdf, &hs) == 0 &&
	     (slots_refresh(b), s = slot_by_name(b, hs.name)))) {
		scopy(ld->slot, sizeof(ld->slot), s->hw.name);
		ld->phys = phys_of(s->hw.name);
		/* A card arriving is its slot coming up: re-read that one
		 * slot's files now rather than at the next poll. */
		if (!at_boot && hsl_slot_find(b->sys, s->hw.name, &hs) == 0 &&
		    !strcmp(hs.id, s->hw.id)) {
			s->hw = hs;
			if (!s->busy || s->replace_wait)
				set_state(b, s, hw_state(&s->hw), NULL);
			if (s->replace_wait && hw_state(&s->hw) == HS_SLOT_ON)
				finish(b, s, 0, NULL);
		}
	}
	fill_dev_view(b, ld, &v);
	allow = b->hooks.authorize(b->hooks.arg, &v, at_boot);
	/* The decision reads only attributes (no device lock), so it comes
	 * within a few milliseconds of the add event.  Blocking starts with
	 * the override write, which waits for a probe the kernel may be
	 * running; allowing (a probe, in case no driver has it yet) runs on
	 * the thread pool so the loop does not wait for that probe. */
	if (allow) {
		if (!at_boot)
			probe_async(b, ld->f.bdf);
	} else {
		dev_block(b, ld, "policy");
	}
	dev_event(b, HSD_BEV_DEV_ADDED, ld, NULL, true);
	if (!allow) {
		dev_event(b, HSD_BEV_DEV_BLOCKED, ld, NULL, true);
	} else if (ld->f.driver[0]) {
		ld->announced_bound = true;
		dev_event(b, HSD_BEV_DRIVER_BOUND, ld, ld->f.driver, true);
	}
}

/* ---- kernel events ---------------------------------------------------------- */

static void on_uevent(uv_poll_t *h, int status, int events)
{
	struct hsd_backend *b = h->data;
	struct hsl_event ev;
	struct ldev *ld;
	hs_bdf_t a;

	(void)status;
	(void)events;
	while (hsl_monitor_next(b->mon, &ev) == 0) {
		if (ev.action == HSL_DRIVER_ADD) {
			/* drivers_autoprobe is 0: a module loaded now (udev's
			 * modalias load) binds nothing by itself; offer it
			 * the allowed functions that have no driver. */
			for (size_t i = 0; i < L_MAX_DEVS; i++) {
				struct ldev *d = &b->devs[i];

				if (d->used && !d->blocked &&
				    dev_refresh(b, d) == 0 && !d->f.driver[0])
					probe_async(b, d->f.bdf);
			}
			continue;
		}
		if (parse_bdf(ev.bdf, &a))
			continue;
		ld = dev_find(b, a);
		switch (ev.action) {
		case HSL_ADD:
			dev_arrive(b, ev.bdf, false, ev.usec);
			break;
		case HSL_BIND:
			if (!ld || dev_refresh(b, ld))
				break;
			if (ld->blocked)
				hsl_func_read(b->sys, ev.bdf, &ld->f);
			if (ld->blocked) {
				/* Bound anyway (an override other than ours
				 * means it was allowed meanwhile). */
				if (!strcmp(ld->f.override,
					    HSL_BLOCKED_OVERRIDE) &&
				    ld->f.driver[0])
					dev_block(b, ld, "bound while blocked");
				break;
			}
			if (ld->f.driver[0] && !ld->announced_bound) {
				ld->announced_bound = true;
				dev_event(b, HSD_BEV_DRIVER_BOUND, ld,
					  ld->f.driver, true);
			}
			break;
		case HSL_UNBIND:
			if (!ld || !ld->announced_bound)
				break;
			ld->announced_bound = false;
			{
				char drv[32];

				scopy(drv, sizeof(drv), ld->f.driver);
				dev_refresh(b, ld);
				dev_event(b, HSD_BEV_DRIVER_UNBOUND, ld,
					  drv[0] ? drv : NULL, true);
			}
			break;
		case HSL_REMOVE:
			if (!ld)
				break;
			if (ld->announced_bound) {
				ld->announced_bound = false;
				dev_event(b, HSD_BEV_DRIVER_UNBOUND, ld,
					  ld->f.driver, false);
			}
			dev_event(b, HSD_BEV_DEV_REMOVED, ld, NULL, false);
			ld->used = false;
			slots_refresh(b);
			break;
		default:
			break;
		}
	}
}

static void on_timer(uv_timer_t *t)
{
	slots_refresh(t->data);
}

/* ---- requests ----------------------------------------------------------------- */

static void power_work(uv_work_t *req)
{
	struct work *w = req->data;

	if (w->op == HSD_OP_UNCONFIGURE)
		w->rc = hsl_slot_unconfigure(w->b->sys, &w->hw, w->err,
					     sizeof(w->err));
	else if (w->rescan)
		w->rc = hsl_slot_rescan(w->b->sys, &w->hw, w->err,
					sizeof(w->err));
	else
		w->rc = hsl_slot_power(w->b->sys, w->slot, w->on, w->err,
				       sizeof(w->err));
}

static void power_after(uv_work_t *req, int status)
{
	struct work *w = req->data;
	struct hsd_backend *b = w->b;
	struct lslot *s = slot_by_name(b, w->slot);
	char err[512];

	(void)status;
	if (b->stopping || !s) {
		if (s)
			s->busy = false;
		free(w);
		return;
	}
	if (s->op != HSD_OP_ENABLE)
		hsl_slot_attention(b->sys, s->hw.name, 0, err, sizeof(err));
	s->attn = HS_IND_OFF;
	if (w->rc) {
		s->busy = false;
		slots_refresh(b);
		finish(b, s, w->rc, w->err);
	} else if (s->op == HSD_OP_REPLACE) {
		/* Down; the next card in this slot completes it. */
		s->busy = false;
		slots_refresh(b);
		s->busy = s->replace_wait = true;
	} else {
		s->busy = false;
		slots_refresh(b);
		finish(b, s, 0, NULL);
	}
	free(w);
}

static int l_request(struct hsd_backend *b, const char *slot,
		     enum hsd_slot_op op, hsd_done_fn done, void *arg,
		     char *why, size_t whylen)
{
	struct lslot *s = slot_by_name(b, slot);
	struct work *w;
	char err[512];

	if (!s) {
		snprintf(why, whylen, "slot %s is gone", slot);
		return -ENOENT;
	}
	if (hsl_read_only(b->sys)) {
		scopy(why, whylen, hsl_read_only(b->sys));
		return -EACCES;
	}
	if (s->busy) {
		snprintf(why, whylen, "slot %s is busy with another request",
			 slot);
		return -EBUSY;
	}
	if (s->hw.power < 0) {
		snprintf(why, whylen, "slot %s: its driver (%s) offers no "
			 "power control", slot, s->hw.module);
		return -EOPNOTSUPP;
	}
	if (op == HSD_OP_CONNECT && (s->state == HS_SLOT_ON ||
				     s->state == HS_SLOT_CONNECTED ||
				     s->state == HS_SLOT_BLINKING_OFF)) {
		if (done)
			done(arg, 0, NULL); /* connected already */
		return 0;
	}
	if (op == HSD_OP_CONNECT) {
		snprintf(why, whylen, "slot %s: the kernel's %s powers and "
			 "configures a slot in one step (its power file), so "
			 "there is no connect alone on Linux: use configure",
			 slot, s->hw.module[0] ? s->hw.module : "driver");
		return -EOPNOTSUPP;
	}
	if (op == HSD_OP_UNCONFIGURE && s->state != HS_SLOT_ON &&
	    s->state != HS_SLOT_BLINKING_OFF) {
		/* Nothing is configured (off, empty, connected). */
		if (done)
			done(arg, 0, NULL);
		return 0;
	}
	if (op == HSD_OP_ENABLE) {
		if (s->policy == HS_SLOT_POLICY_DISABLED) {
			snprintf(why, whylen, "slot %s is disabled", slot);
			return -EPERM;
		}
		if (s->hw.adapter == 0) {
			snprintf(why, whylen, "slot %s is empty", slot);
			return -ENODEV;
		}
		if (s->hw.power >= 1 && s->state != HS_SLOT_CONNECTED) {
			/* Already up: nothing to do. */
			if (done)
				done(arg, 0, NULL);
			return 0;
		}
	} else if (s->state == HS_SLOT_EMPTY || s->state == HS_SLOT_OFF) {
		if (op == HSD_OP_DISABLE) {
			if (done)
				done(arg, 0, NULL);
			return 0;
		}
		/* Replace with nothing to take down: wait for the card. */
		s->op = op;
		s->done = done;
		s->done_arg = arg;
		s->reason[0] = 0;
		s->busy = s->replace_wait = true;
		return 0;
	}
	w = hsd_calloc(1, sizeof(*w));
	if (!w) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	w->b = b;
	w->req.data = w;
	scopy(w->slot, sizeof(w->slot), slot);
	w->hw = s->hw;
	w->op = op;
	w->on = op == HSD_OP_ENABLE;
	w->rescan = op == HSD_OP_ENABLE && s->state == HS_SLOT_CONNECTED;
	s->op = op;
	s->done = done;
	s->done_arg = arg;
	s->busy = true;
	s->reason[0] = 0;
	if (op == HSD_OP_ENABLE) {
		set_state(b, s, HS_SLOT_POWERING_ON, NULL);
	} else {
		/* The attention indicator blinks while the card goes down
		 * (the operator sees which slot is being worked on). */
		if (s->hw.attention >= 0 &&
		    hsl_slot_attention(b->sys, slot, 2, err, sizeof(err)) == 0)
			s->attn = HS_IND_BLINK;
		set_state(b, s, HS_SLOT_POWERING_OFF, NULL);
	}
	uv_queue_work(b->loop, &w->req, power_work, power_after);
	return 0;
}

static int l_attention(struct hsd_backend *b, const char *slot,
		       enum hs_indicator ind, char *why, size_t whylen)
{
	struct lslot *s = slot_by_name(b, slot);
	int rc;

	if (!s) {
		snprintf(why, whylen, "slot %s is gone", slot);
		return -ENOENT;
	}
	rc = hsl_slot_attention(b->sys, slot, (int)ind, why, whylen);
	if (rc == 0) {
		s->attn = ind;
		/* Read back, so that status shows what the driver did. */
		slots_refresh(b);
		s->attn = ind;
	} else {
		scopy(s->reason, sizeof(s->reason), why);
	}
	return rc;
}

static int l_policy(struct hsd_backend *b, const char *slot,
		    enum hs_slot_policy policy)
{
	struct lslot *s = slot_by_name(b, slot);

	if (!s)
		return -ENOENT;
	s->policy = policy;
	return 0;
}

static int l_authorize(struct hsd_backend *b, hs_bdf_t bdf, char *msg,
		       size_t msglen)
{
	struct ldev *ld = dev_find(b, bdf);
	int rc;

	if (!ld) {
		snprintf(msg, msglen, "the device is gone");
		return -ENOENT;
	}
	if (!ld->blocked) {
		snprintf(msg, msglen, "not blocked");
		return 0;
	}
	rc = hsl_func_allow(b->sys, ld->f.bdf, NULL, msg, msglen);
	if (rc)
		return rc;
	ld->blocked = false;
	dev_refresh(b, ld);
	dev_event(b, HSD_BEV_DEV_AUTHORIZED, ld, NULL, true);
	if (ld->f.driver[0] && !ld->announced_bound) {
		ld->announced_bound = true;
		dev_event(b, HSD_BEV_DRIVER_BOUND, ld, ld->f.driver, true);
	}
	scopy(msg, msglen, ld->f.driver[0] ? ld->f.driver :
		 "no driver matched");
	return 0;
}

/* Block a running function again: the kernel unbinds its driver (the
 * driver's remove; Linux gives it no say), decode and bus mastering go
 * off, driver_override keeps every driver away until authorize. */
static int l_deauthorize(struct hsd_backend *b, hs_bdf_t bdf, char *msg,
			 size_t msglen)
{
	struct ldev *ld = dev_find(b, bdf);

	if (!ld || dev_refresh(b, ld)) {
		scopy(msg, msglen, "the device is gone");
		return -ENOENT;
	}
	if (hsl_read_only(b->sys)) {
		scopy(msg, msglen, hsl_read_only(b->sys));
		return -EACCES;
	}
	if (ld->f.bridge) {
		scopy(msg, msglen, "a bridge: block the functions behind it");
		return -EINVAL;
	}
	if (ld->blocked)
		return 0;
	dev_block(b, ld, "operator");
	if (!ld->blocked) {
		scopy(msg, msglen, "sysfs refused (see the log)");
		return -EIO;
	}
	dev_event(b, HSD_BEV_DEV_BLOCKED, ld, NULL, true);
	return 0;
}

static void l_resync(struct hsd_backend *b)
{
	slots_refresh(b);
}

/* ---- open, start, stop ------------------------------------------------------------ */

static int l_open(uv_loop_t *loop, const struct hsd_config *cfg,
		  const struct hsd_backend_hooks *hooks,
		  struct hsd_backend **out, char *err, size_t errlen)
{
	struct hsd_backend *b = hsd_calloc(1, sizeof(*b));
	struct hsl_iommu io;
	struct utsname u;
	int rc;

	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	b->loop = loop;
	b->cfg = cfg;
	b->hooks = *hooks;
	rc = hsl_open(NULL, &b->sys, err, errlen);
	if (rc)
		goto free_b;
	rc = hsl_monitor_open(&b->mon, err, errlen);
	if (rc)
		goto close_sys;
	uname(&u);
	snprintf(b->chassis, sizeof(b->chassis), "linux %s (%s)", u.release,
		 hsl_drivers(b->sys));
	reserve_kernel(b);
	if (hsl_read_only(b->sys))
		blog(b, LOG_WARNING, "%s: slots and devices are shown, "
		     "nothing can be changed and cards are not authorized",
		     hsl_read_only(b->sys));
	hsl_iommu(b->sys, &io);
	if (io.dma)
		blog(b, LOG_INFO, "IOMMU: %u unit(s), %u group(s), %s domains: "
		     "a blocked card cannot DMA", io.units, io.groups, io.type);
	else
		blog(b, LOG_WARNING, "no IOMMU translates DMA (%u unit(s), "
		     "domain type %s): a blocked card is kept from drivers "
		     "and its bus mastering is off, but a card that ignores "
		     "its Command register could still write to memory",
		     io.units, io.type);
	*out = b;
	return 0;
close_sys:
	hsl_close(b->sys);
free_b:
	free(b);
	return rc;
}

static int l_start(struct hsd_backend *b, char *err, size_t errlen)
{
	uint64_t ms;
	int rc;

	/* Off while the service runs: a driver module loaded after a card
	 * appeared does not bind by itself (hotplug-facts.md). */
	if (!hsl_read_only(b->sys)) {
		rc = hsl_autoprobe(b->sys, &b->old_autoprobe, 0, err, errlen);
		if (rc)
			return rc;
		b->autoprobe_set = true;
	}
	slots_refresh(b);
	/* The functions already on cards in slots, decided as at boot. */
	for (size_t i = 0; i < b->nslots; i++) {
		struct hsl_func f[32];
		size_t n = 0;

		if (!b->slots[i].used)
			continue;
		hsl_slot_funcs(b->sys, &b->slots[i].hw, f, 32, &n);
		for (size_t k = 0; k < n; k++) {
			hs_bdf_t a;

			if (parse_bdf(f[k].bdf, &a) == 0 && !dev_find(b, a))
				dev_arrive(b, f[k].bdf, true, 0);
		}
	}
	uv_poll_init(b->loop, &b->poll, hsl_monitor_fd(b->mon));
	b->poll.data = b;
	uv_poll_start(&b->poll, UV_READABLE, on_uevent);
	uv_timer_init(b->loop, &b->timer);
	b->timer.data = b;
	/* The slot files are polled: the kernel sends no event for power,
	 * presence, latch or attention.  poll_period (default 1 s). */
	ms = b->cfg->poll_period_ns ? b->cfg->poll_period_ns / 1000000 : 1000;
	if (ms < 10)
		ms = 10;
	uv_timer_start(&b->timer, on_timer, ms, ms);
	b->handles_open = true;
	blog(b, LOG_INFO, "%zu slots (%s), %s, slot files polled every "
	     "%" PRIu64 " ms", b->nslots, hsl_drivers(b->sys),
	     b->autoprobe_set ? "drivers_autoprobe 0" : "read-only", ms);
	return 0;
}

static void l_stop(struct hsd_backend *b)
{
	char err[256];

	if (b->stopping)
		return;
	b->stopping = true;
	if (b->autoprobe_set &&
	    hsl_autoprobe(b->sys, NULL, b->old_autoprobe, err, sizeof(err)))
		blog(b, LOG_ERR, "restoring drivers_autoprobe: %s", err);
	if (b->handles_open) {
		uv_poll_stop(&b->poll);
		uv_close((uv_handle_t *)&b->poll, NULL);
		uv_timer_stop(&b->timer);
		uv_close((uv_handle_t *)&b->timer, NULL);
	}
}

static void l_close(struct hsd_backend *b)
{
	if (!b)
		return;
	hsl_monitor_close(b->mon);
	hsl_close(b->sys);
	free(b);
}

static const char *l_chassis(struct hsd_backend *b)
{
	return b->chassis;
}

static int64_t l_now(struct hsd_backend *b)
{
	struct timespec ts;

	(void)b;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const struct hsd_backend_ops hsd_backend_linux = {
	.name = "linux",
	.summary = "the kernel's PCI hot-plug drivers through sysfs",
	.open = l_open,
	.start = l_start,
	.stop = l_stop,
	.close = l_close,
	.chassis = l_chassis,
	.now = l_now,
	.step = NULL,
	.slot_next = l_slot_next,
	.slot_get = l_slot_get,
	.dev_next = l_dev_next,
	.dev_get = l_dev_get,
	.slot_request = l_request,
	.slot_attention = l_attention,
	.slot_policy = l_policy,
	.authorize = l_authorize,
	.deauthorize = l_deauthorize,
	.rebalance = NULL,
	.resync = l_resync,
	.methods = NULL,
	.nmethods = 0,
};
