/*
 * console.c - the serial line protocol of the bare-metal images, the
 * same on every architecture (it reaches the machine through board.h).
 *
 * Owns: the output format (one line per event, "<seconds> <kind>
 * key=value..."), the input line buffer and the command table.  Requests
 * that take time (add, remove) answer "ok" when accepted and "done" with
 * the outcome later, so a harness can measure both.  The protocol is
 * documented in docs/qemu.md; the harness is tests/qemu/.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "console.h"

#include <stdarg.h>

#include "hotswap/slot.h"
#include "hotswap/util.h"
#include "board.h"
#include "libc.h"
#include "pool.h"

#include "../../drivers/qemudev.h"

#define LINE_MAX 256u

static struct hs_core *core;
static char inbuf[LINE_MAX];
static size_t inlen;
static bool overflow;
static bool block_new;       /* authmode block: hot-added cards wait */

/* ---- output ------------------------------------------------------------- */

void hsq_out(const char *fmt, ...)
{
	char line[512];
	hs_time_t t = hsq_now();
	size_t n = hs_snprintf(line, sizeof(line), "%llu.%06llu ",
			       (unsigned long long)(t / 1000000000u),
			       (unsigned long long)(t / 1000u % 1000000u));
	va_list ap;

	va_start(ap, fmt);
	if (n < sizeof(line))
		n += hs_vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	hsq_uart_write(line, n);
}

/* A value for key="...": quotes and backslashes cannot appear inside,
 * so they become single quotes; control characters become spaces. */
static const char *q(const char *s, char *buf, size_t len)
{
	size_t i;

	if (!s)
		s = "";
	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = s[i] == '"' || s[i] == '\\' ? '\'' :
			 (unsigned char)s[i] < 0x20 ? ' ' : s[i];
	buf[i] = 0;
	return buf;
}

static const char *bdfs(hs_bdf_t b, char *buf, size_t len)
{
	hs_snprintf(buf, len, "%02x:%02x.%x", HS_BDF_BUS(b), HS_BDF_DEV(b),
		    HS_BDF_FN(b));
	return buf;
}

static void print_resources(const struct hs_dev *d)
{
	char b[16];
	struct hs_resource r;
	int n;

	bdfs(hs_dev_bdf(d), b, sizeof(b));
	for (n = 0; n <= 6; n++)
		if (hs_dev_bar(d, n, &r) == 0)
			hsq_out("bar bdf=%s n=%d kind=%s%s start=0x%llx "
				"size=0x%llx", b, n, hs_res_kind_name(r.kind),
				r.is64 ? "64" : "",
				(unsigned long long)r.start,
				(unsigned long long)r.size);
	if (!hs_dev_is_bridge(d))
		return;
	for (n = HS_RES_BUS; n < HS_RES_COUNT; n++)
		if (hs_dev_window(d, (enum hs_res)n, &r) == 0 && r.size)
			hsq_out("window bdf=%s kind=%s start=0x%llx "
				"end=0x%llx", b, hs_res_kind_name((enum hs_res)n),
				(unsigned long long)r.start,
				(unsigned long long)(r.start + r.size - 1));
}

static hs_time_t poll_period;

/* The slot a function at bdf sits in: the slot whose bridge's secondary
 * bus is the function's bus and whose device number is the function's.
 * Physical numbers repeat across controllers (QEMU numbers a switch's
 * ports and an SHPC's slots from its own chassis), so a slot is found by
 * its controller and place, never by its number alone. */
static struct hs_slot *slot_at(hs_bdf_t bdf)
{
	struct hs_slot *s = NULL;
	struct hs_slot_info si;

	while ((s = hs_slot_next(core, s))) {
		struct hs_dev *br;
		unsigned sec;

		hs_slot_get_info(s, &si);
		if (si.devnum != HS_BDF_DEV(bdf) ||
		    HS_BDF_SEG(si.bridge) != HS_BDF_SEG(bdf))
			continue;
		br = hs_dev_find(core, si.bridge);
		if (br && hs_dev_secondary_bus(br, &sec) == 0 &&
		    sec == HS_BDF_BUS(bdf))
			return s;
	}
	return NULL;
}

/* The slot's unique name for a function: its own place, or its nearest
 * ancestor's (a function behind a bridge on a card). */
static const char *slot_label(hs_bdf_t bdf, char *buf, size_t len)
{
	struct hs_slot *s = slot_at(bdf);
	struct hs_dev *d = s ? NULL : hs_dev_find(core, bdf);
	struct hs_slot_info si;

	while (!s && d && (d = hs_dev_parent(d)))
		s = slot_at(hs_dev_bdf(d));
	if (!s)
		return "-";
	hs_slot_get_info(s, &si);
	hs_snprintf(buf, len, "%s", si.name);
	return buf;
}

/* ---- functions found -------------------------------------------------------- */

/* Which functions have answered a vendor ID read, one bit each: the
 * platforms report every config read the core makes (hsq_console_cfg),
 * and the first valid vendor ID of a function is the moment the core's
 * enumeration found it: the `dev found` line, stamped then, before its
 * resources are assigned and a driver binds (`dev added`, `bind`). */
static uint32_t answered[65536 / 32];

static void forget(hs_bdf_t bdf)
{
	unsigned i = ((unsigned)HS_BDF_BUS(bdf) << 8) | HS_BDF_DEVFN(bdf);

	answered[i / 32] &= ~(1u << (i % 32));
}

void hsq_console_cfg(hs_bdf_t bdf, uint16_t off, unsigned width, uint32_t v)
{
	unsigned i = ((unsigned)HS_BDF_BUS(bdf) << 8) | HS_BDF_DEVFN(bdf);
	uint32_t bit = 1u << (i % 32);
	uint16_t vendor = (uint16_t)v;
	char b[16], sl[24];

	if (off != 0 || width < 2 || HS_BDF_SEG(bdf))
		return;
	/* 0001h: Configuration Request Retry Status (PCIe Base 2.3.2), the
	 * function is not ready yet. */
	if (vendor == 0xFFFF || vendor == 0x0000 || vendor == 0x0001) {
		answered[i / 32] &= ~bit;
		return;
	}
	if (answered[i / 32] & bit)
		return;
	answered[i / 32] |= bit;
	if (!core)
		return;
	bdfs(bdf, b, sizeof(b));
	if (width == 4)
		hsq_out("dev found bdf=%s id=%04x:%04x slot=%s", b, vendor,
			(unsigned)(v >> 16), slot_label(bdf, sl, sizeof(sl)));
	else
		hsq_out("dev found bdf=%s vendor=%04x slot=%s", b, vendor,
			slot_label(bdf, sl, sizeof(sl)));
}

/* When a controller starts (its first slot's "controller started"):
 * how its events reach the core.  Polling is the fallback for a
 * controller whose interrupt could not be attached, and the operator
 * should know, since it keeps the CPU awake. */
static void print_irq_mode(hs_bdf_t bridge, const char *b)
{
	struct hs_dev *d = hs_dev_find(core, bridge);
	struct hs_slot *s = NULL;
	struct hs_slot_info si;
	const char *kind = "?";
	unsigned first = 256, nvec;
	struct hs_irq irq;

	while ((s = hs_slot_next(core, s))) {
		hs_slot_get_info(s, &si);
		if (si.bridge == bridge && si.devnum < first) {
			first = si.devnum;
			kind = si.kind;
		}
	}
	if (!d)
		return;
	if (hs_dev_irq_attached(d) && hs_dev_irq(d, &irq, &nvec) == 0)
		hsq_out("irq bridge=%s kind=%s mode=%s %s=%u", b, kind,
			irq.kind == HS_IRQ_MSI ? "msi" : "intx",
			irq.kind == HS_IRQ_MSI ? "vector" : "line",
			(unsigned)irq.number);
	else
		hsq_out("irq bridge=%s kind=%s mode=poll msg=\"no interrupt "
			"could be attached: polled every %llu ms\"", b, kind,
			(unsigned long long)(poll_period / 1000000u));
}

static bool first_slot_of(const struct hs_event *ev)
{
	struct hs_slot *s = NULL, *me = hs_slot_find(core, ev->slot_name);
	struct hs_slot_info si, mi;

	if (!me)
		return false;
	hs_slot_get_info(me, &mi);
	while ((s = hs_slot_next(core, s))) {
		hs_slot_get_info(s, &si);
		if (si.bridge == mi.bridge && si.devnum < mi.devnum)
			return false;
	}
	return true;
}

void hsq_console_event(void *arg, const struct hs_event *ev)
{
	char b[16], sl[24], m[200];
	struct hs_dev *d;

	(void)arg;
	bdfs(ev->bdf, b, sizeof(b));
	switch (ev->type) {
	case HS_EV_DEV_ADDED:
		hsq_out("dev added bdf=%s id=%04x:%04x class=%06x slot=%s", b,
			ev->vendor, ev->device, (unsigned)ev->class_code,
			slot_label(ev->bdf, sl, sizeof(sl)));
		if ((d = hs_dev_find(core, ev->bdf)))
			print_resources(d);
		break;
	case HS_EV_DEV_REMOVED:
		hsq_out("dev removed bdf=%s id=%04x:%04x slot=%s", b,
			ev->vendor, ev->device,
			slot_label(ev->bdf, sl, sizeof(sl)));
		/* A card put back at the same address is found again, even
		 * if nothing read its vendor ID while the slot was empty. */
		forget(ev->bdf);
		break;
	case HS_EV_DRIVER_BOUND:
		hsq_out("bind bdf=%s driver=%s slot=%s", b, ev->driver,
			slot_label(ev->bdf, sl, sizeof(sl)));
		break;
	case HS_EV_DRIVER_UNBOUND:
		hsq_out("unbind bdf=%s driver=%s slot=%s", b, ev->driver,
			slot_label(ev->bdf, sl, sizeof(sl)));
		break;
	case HS_EV_DEV_ISOLATED:
		hsq_out("dev isolated bdf=%s id=%04x:%04x why=\"%s\"", b,
			ev->vendor, ev->device, q(ev->msg, m, sizeof(m)));
		break;
	case HS_EV_DEV_BLOCKED:
		hsq_out("dev blocked bdf=%s id=%04x:%04x slot=%s", b,
			ev->vendor, ev->device,
			slot_label(ev->bdf, sl, sizeof(sl)));
		break;
	case HS_EV_DEV_AUTHORIZED:
		hsq_out("dev authorized bdf=%s id=%04x:%04x", b, ev->vendor,
			ev->device);
		break;
	case HS_EV_DEV_MOVED:
	case HS_EV_WINDOW_CHANGED:
		/* A rebalance: the new addresses follow, as at an add. */
		hsq_out("dev %s bdf=%s id=%04x:%04x slot=%s",
			ev->type == HS_EV_DEV_MOVED ? "moved" : "windows", b,
			ev->vendor, ev->device,
			slot_label(ev->bdf, sl, sizeof(sl)));
		if ((d = hs_dev_find(core, ev->bdf)))
			print_resources(d);
		break;
	case HS_EV_SLOT_STATE:
		hsq_out("slot name=%s bridge=%s from=%s to=%s why=\"%s\"",
			ev->slot_name, b,
			hs_slot_state_name((enum hs_slot_state)ev->from),
			hs_slot_state_name((enum hs_slot_state)ev->to),
			q(ev->msg, m, sizeof(m)));
		if (ev->msg && !hs_strcmp(ev->msg, "controller started") &&
		    first_slot_of(ev))
			print_irq_mode(ev->bdf, b);
		break;
	case HS_EV_SLOT_ALERT:
		hsq_out("alert slot=%s msg=\"%s\"", ev->slot_name,
			q(ev->msg, m, sizeof(m)));
		break;
	}
}

/* Log level names, from HS_LOG_ERR on (the `loglevel` command too). */
static const char *const level_names[] = { "err", "warn", "notice", "info",
					    "debug" };

void hsq_console_log(enum hs_log_level level, const char *line)
{
	char m[400];

	hsq_out("log level=%s msg=\"%s\"",
		level >= HS_LOG_ERR && level <= HS_LOG_DEBUG ?
			level_names[level - HS_LOG_ERR] : "?",
		q(line, m, sizeof(m)));
}

bool hsq_console_authorize(void *arg, struct hs_dev *dev, bool at_boot)
{
	(void)arg, (void)dev;
	return at_boot || !block_new;
}

/* ---- commands ----------------------------------------------------------- */

#define MAXARGS 4

struct req {
	char verb[16];
	char arg[32];
};

static bool streq(const char *a, const char *b)
{
	return hs_strcmp(a, b) == 0;
}

static void copy(char *dst, const char *src, size_t len)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < len; i++)
		dst[i] = src[i];
	dst[i] = 0;
}

static struct hs_slot *slot_arg(const char *verb, const char *name)
{
	struct hs_slot *s;

	if (!name) {
		hsq_out("err %s msg=\"which slot? (%s SLOT)\"", verb, verb);
		return NULL;
	}
	s = hs_slot_find(core, name);
	if (!s)
		hsq_out("err %s slot=%s msg=\"no slot named %s; status lists "
			"them\"", verb, name, name);
	return s;
}

/* "bb:dd.f" (hex) */
static int parse_bdf(const char *s, hs_bdf_t *out)
{
	unsigned v[3] = { 0, 0, 0 }, i = 0, digits = 0;

	for (; *s; s++) {
		char c = *s;

		if ((c == ':' && i == 0) || (c == '.' && i == 1)) {
			if (!digits)
				return -HS_EINVAL;
			i++;
			digits = 0;
			continue;
		}
		if (c >= '0' && c <= '9')
			v[i] = v[i] * 16 + (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v[i] = v[i] * 16 + (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v[i] = v[i] * 16 + (unsigned)(c - 'A' + 10);
		else
			return -HS_EINVAL;
		if (++digits > 2)
			return -HS_EINVAL;
	}
	if (i != 2 || !digits || v[0] > 255 || v[1] > 31 || v[2] > 7)
		return -HS_EINVAL;
	*out = HS_BDF(0, v[0], v[1], v[2]);
	return 0;
}

static struct hs_dev *dev_arg(const char *verb, const char *s)
{
	hs_bdf_t b;
	struct hs_dev *d;

	if (!s || parse_bdf(s, &b)) {
		hsq_out("err %s msg=\"give a device as bus:dev.fn in hex, "
			"e.g. 01:00.0\"", verb);
		return NULL;
	}
	d = hs_dev_find(core, b);
	if (!d)
		hsq_out("err %s bdf=%s msg=\"no device at %s\"", verb, s, s);
	return d;
}

/* Asynchronous requests: "done VERB SLOT rc=N msg=..." when finished. */
static struct req pending[16];

static struct req *req_new(const char *verb, const char *arg)
{
	unsigned i;

	for (i = 0; i < 16; i++)
		if (!pending[i].verb[0]) {
			copy(pending[i].verb, verb, sizeof(pending[i].verb));
			copy(pending[i].arg, arg, sizeof(pending[i].arg));
			return &pending[i];
		}
	return NULL;
}

static void req_done(void *arg, int rc, const char *msg)
{
	struct req *r = arg;
	char m[200];

	hsq_out("done %s slot=%s rc=%d msg=\"%s\"", r->verb, r->arg, rc,
		q(msg, m, sizeof(m)));
	r->verb[0] = 0;
}

static void refused(const char *verb, struct hs_slot *s, int rc)
{
	struct hs_slot_info si;
	char m[200];

	hs_slot_get_info(s, &si);
	hsq_out("err %s slot=%s rc=%d msg=\"%s\"", verb, si.name, rc,
		q(si.reason && si.reason[0] ? si.reason : "refused", m,
		  sizeof(m)));
}

static void cmd_slot_request(const char *verb, const char *name,
			     int (*fn)(struct hs_slot *, hs_done_fn, void *))
{
	struct hs_slot *s = slot_arg(verb, name);
	struct req *r;
	int rc;

	if (!s)
		return;
	r = req_new(verb, name);
	if (!r) {
		hsq_out("err %s slot=%s msg=\"too many requests in progress\"",
			verb, name);
		return;
	}
	rc = fn(s, req_done, r);
	if (rc) {
		r->verb[0] = 0;
		refused(verb, s, rc);
		return;
	}
	hsq_out("ok %s slot=%s", verb, name);
}

static void print_slot(struct hs_slot *s)
{
	struct hs_slot_info si;
	char b[16], m[200];

	hs_slot_get_info(s, &si);
	hsq_out("slotinfo name=%s kind=%s bridge=%s dev=%u state=%s "
		"present=%d power=%d link=%d latch_open=%d pwr_ind=%s "
		"attn_ind=%s busy=%d reason=\"%s\"", si.name, si.kind,
		bdfs(si.bridge, b, sizeof(b)), si.devnum,
		hs_slot_state_name(si.state), si.present, si.powered,
		si.link_up, si.latch_open, hs_indicator_name(si.power_ind),
		hs_indicator_name(si.attn_ind), si.busy,
		q(si.reason, m, sizeof(m)));
}

void hsq_console_devices(const char *verb)
{
	struct hs_dev *d = NULL;
	char b[16], sl[24];
	unsigned n = 0;

	while ((d = hs_dev_next(core, d))) {
		const char *why = "";

		hs_dev_isolated(d, &why);
		hsq_out("device bdf=%s id=%04x:%04x class=%06x slot=%s "
			"driver=%s blocked=%d", bdfs(hs_dev_bdf(d), b, sizeof(b)),
			hs_dev_vendor(d), hs_dev_device(d),
			(unsigned)hs_dev_class(d),
			slot_label(hs_dev_bdf(d), sl, sizeof(sl)),
			hs_dev_driver_name(d) ? hs_dev_driver_name(d) : "-",
			hs_dev_blocked(d));
		print_resources(d);
		n++;
	}
	hsq_out("ok %s devices=%u", verb, n);
}

static void cmd_status(void)
{
	struct hs_slot *s = NULL;
	struct hsq_pool_stats ps;
	unsigned n = 0;

	while ((s = hs_slot_next(core, s))) {
		print_slot(s);
		n++;
	}
	hsq_pool_stats(&ps);
	hsq_out("ok status slots=%u pool_in_use=%lu pool_peak=%lu "
		"pool_carved=%lu pool_failures=%lu", n,
		(unsigned long)ps.in_use, (unsigned long)ps.peak,
		(unsigned long)ps.carved, ps.failures);
}

static void cmd_attention(const char *name, const char *how)
{
	struct hs_slot *s = slot_arg("attention", name);
	enum hs_indicator ind;
	int rc;

	if (!s)
		return;
	if (how && streq(how, "on"))
		ind = HS_IND_ON;
	else if (how && streq(how, "off"))
		ind = HS_IND_OFF;
	else if (how && streq(how, "blink"))
		ind = HS_IND_BLINK;
	else {
		hsq_out("err attention slot=%s msg=\"say on, off or blink\"",
			name);
		return;
	}
	rc = hs_slot_set_attention(s, ind);
	if (rc)
		refused("attention", s, rc);
	else
		hsq_out("ok attention slot=%s ind=%s", name, hs_indicator_name(ind));
}

static void cmd_button(const char *name)
{
	struct hs_slot *s = slot_arg("button", name);

	if (!s)
		return;
	/* QEMU 7.2 has no QMP command for the attention button and refuses
	 * device_del while the power indicator blinks, so a second press
	 * comes from here, through the same state table as a real one. */
	hs_slot_drill(s, HS_IN_BUTTON);
	hsq_out("ok button slot=%s", name);
}

static void cmd_policy(const char *name, const char *how)
{
	struct hs_slot *s = slot_arg("policy", name);
	static const char *const names[] = { "default", "presence", "request",
					     "disabled" };
	int i, rc;

	if (!s)
		return;
	for (i = 0; i < 4; i++)
		if (how && streq(how, names[i]))
			break;
	if (i == 4) {
		hsq_out("err policy slot=%s msg=\"say default, presence, "
			"request or disabled\"", name);
		return;
	}
	rc = hs_slot_set_policy(s, (enum hs_slot_policy)i);
	if (rc)
		refused("policy", s, rc);
	else
		hsq_out("ok policy slot=%s policy=%s", name, names[i]);
}

static void cmd_authorize(const char *bdf)
{
	struct hs_dev *d = dev_arg("authorize", bdf);
	char msg[200], m[200];
	int rc;

	if (!d)
		return;
	rc = hs_dev_authorize(d, msg, sizeof(msg));
	if (rc)
		hsq_out("err authorize bdf=%s rc=%d msg=\"%s\"", bdf, rc,
			q(msg, m, sizeof(m)));
	else
		hsq_out("ok authorize bdf=%s", bdf);
}

static void cmd_edu(const char *bdf, bool start)
{
	const char *verb = start ? "edu-dma" : "edu";
	struct hs_dev *d = dev_arg(verb, bdf);
	struct qemu_edu_status st;
	int rc;

	if (!d)
		return;
	if (start) {
		rc = qemu_edu_dma(d);
		if (rc == -HS_ENODEV)
			hsq_out("err %s bdf=%s rc=%d msg=\"no edu driver is bound "
				"to %s\"", verb, bdf, rc, bdf);
		else if (rc == -HS_EPERM)
			hsq_out("err %s bdf=%s rc=%d msg=\"bus mastering refused: "
				"the device is blocked\"", verb, bdf, rc);
		else if (rc)
			hsq_out("err %s bdf=%s rc=%d msg=\"cannot start\"", verb,
				bdf, rc);
		else
			hsq_out("ok %s bdf=%s", verb, bdf);
		return;
	}
	if (qemu_edu_status(d, &st)) {
		hsq_out("err %s bdf=%s msg=\"no edu driver is bound to %s\"",
			verb, bdf, bdf);
		return;
	}
	hsq_out("ok %s bdf=%s id=0x%08x live=%d dma_busy=%d dma_ok=%u "
		"dma_failed=%u", verb, bdf, st.id, st.live, st.dma_busy,
		st.dma_ok, st.dma_failed);
}

static void cmd_testdev(const char *bdf)
{
	struct hs_dev *d = dev_arg("testdev", bdf);
	const char *a, *b;

	if (!d)
		return;
	if (qemu_testdev_names(d, &a, &b))
		hsq_out("err testdev bdf=%s msg=\"no pci-testdev driver is "
			"bound to %s\"", bdf, bdf);
	else
		hsq_out("ok testdev bdf=%s mmio=%s portio=%s", bdf, a, b);
}

static void cmd_cfg(const char *bdf, const char *offs)
{
	hs_bdf_t b;
	uint32_t off = 0, v;
	const char *s = offs;

	if (!bdf || parse_bdf(bdf, &b) || !s || !*s) {
		hsq_out("err cfg msg=\"cfg BB:DD.F OFFSET (hex)\"");
		return;
	}
	for (; *s; s++) {
		unsigned c = (unsigned char)*s, d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			d = 16;
		off = off * 16 + d;
		if (d > 15 || off >= HS_CFG_SIZE) {
			hsq_out("err cfg msg=\"offset must be hex below 1000\"");
			return;
		}
	}
	off &= ~3u;
	hsq_cfg_read(b, (uint16_t)off, 4, &v);
	hsq_out("ok cfg bdf=%s off=0x%03x val=0x%08x", bdf, (unsigned)off, v);
}

/* Interrupts taken so far, by kind, and how often the image slept: the
 * benchmark reads this around its idle window (bench/qemu_bench.py). */
static void cmd_irqstat(void)
{
	struct hsq_irq_stats st;

	hsq_irq_stats(&st);
	hsq_out("ok irqstat msi=%lu line=%lu timer=%lu serial=%lu "
		"spurious=%lu sleeps=%lu", st.msi, st.line, st.timer,
		st.serial, st.spurious, st.wakeups);
}

static void cmd_help(void)
{
	hsq_out("help commands=\"status devices add SLOT remove SLOT "
		"connect SLOT unconfigure SLOT "
		"button SLOT attention SLOT on|off|blink policy SLOT "
		"default|presence|request|disabled authmode allow|block "
		"authorize BDF edu BDF edu-dma BDF testdev BDF cfg BDF OFF "
		"loglevel err|warn|notice|info|debug echo WORD irqstat "
		"quit [CODE] help\"");
	hsq_out("ok help");
}

static void cmd_loglevel(const char *how)
{
	int i;

	for (i = 0; i < 5; i++)
		if (how && streq(how, level_names[i])) {
			hsq_set_log_level((enum hs_log_level)(HS_LOG_ERR + i));
			hsq_out("ok loglevel level=%s", level_names[i]);
			return;
		}
	hsq_out("err loglevel msg=\"say err, warn, notice, info or debug\"");
}

static void cmd_quit(const char *code)
{
	unsigned c = 0;

	for (; code && *code >= '0' && *code <= '9'; code++)
		c = c * 10 + (unsigned)(*code - '0');
	hsq_out("bye code=%u", c & 0x7f);
	hsq_exit(c & 0x7f);
}

static void run_line(char *line)
{
	char *argv[MAXARGS + 1];
	unsigned argc = 0;
	char *p = line;
	const char *v;

	while (*p && argc <= MAXARGS) {
		while (*p == ' ' || *p == '\t')
			*p++ = 0;
		if (!*p)
			break;
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	if (!argc)
		return;
	if (argc > MAXARGS) {
		hsq_out("err %s msg=\"too many words\"", argv[0]);
		return;
	}
	argv[argc] = NULL;
	v = argv[0];
	if (streq(v, "echo"))
		/* A marker for a harness to wait on. */
		hsq_out("ok echo %s", argv[1] ? argv[1] : "");
	else if (streq(v, "status"))
		cmd_status();
	else if (streq(v, "devices"))
		hsq_console_devices("devices");
	else if (streq(v, "add"))
		cmd_slot_request("add", argv[1], hs_slot_enable);
	else if (streq(v, "remove"))
		cmd_slot_request("remove", argv[1], hs_slot_disable);
	/* cfgadm's steps: configure is add, disconnect is remove. */
	else if (streq(v, "connect"))
		cmd_slot_request("connect", argv[1], hs_slot_connect);
	else if (streq(v, "unconfigure"))
		cmd_slot_request("unconfigure", argv[1], hs_slot_unconfigure);
	else if (streq(v, "button"))
		cmd_button(argv[1]);
	else if (streq(v, "attention"))
		cmd_attention(argv[1], argv[2]);
	else if (streq(v, "policy"))
		cmd_policy(argv[1], argv[2]);
	else if (streq(v, "authmode")) {
		if (argv[1] && (streq(argv[1], "allow") || streq(argv[1], "block"))) {
			block_new = streq(argv[1], "block");
			hsq_out("ok authmode mode=%s", argv[1]);
		} else {
			hsq_out("err authmode msg=\"say allow or block\"");
		}
	} else if (streq(v, "authorize"))
		cmd_authorize(argv[1]);
	else if (streq(v, "edu"))
		cmd_edu(argv[1], false);
	else if (streq(v, "edu-dma"))
		cmd_edu(argv[1], true);
	else if (streq(v, "testdev"))
		cmd_testdev(argv[1]);
	else if (streq(v, "cfg"))
		cmd_cfg(argv[1], argv[2]);
	else if (streq(v, "loglevel"))
		cmd_loglevel(argv[1]);
	else if (streq(v, "help"))
		cmd_help();
	else if (streq(v, "irqstat"))
		cmd_irqstat();
	else if (streq(v, "quit"))
		cmd_quit(argv[1]);
	else {
		char m[40];

		hsq_out("err %s msg=\"unknown command; help lists them\"",
			q(v, m, sizeof(m)));
	}
}

void hsq_console_poll(void)
{
	int c;

	while ((c = hsq_uart_getc()) >= 0) {
		if (c == '\r' || c == '\n') {
			inbuf[inlen] = 0;
			if (overflow)
				hsq_out("err line msg=\"line longer than %u "
					"bytes ignored\"", LINE_MAX - 1);
			else
				run_line(inbuf);
			inlen = 0;
			overflow = false;
			continue;
		}
		if (inlen + 1 >= LINE_MAX) {
			overflow = true;
			continue;
		}
		inbuf[inlen++] = (char)c;
	}
}

void hsq_console_init(struct hs_core *c, hs_time_t poll)
{
	core = c;
	poll_period = poll;
}
