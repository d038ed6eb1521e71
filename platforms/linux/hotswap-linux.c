/*
 * hotswap-linux - the Linux hot-plug layer (linux_pci.h) from the shell:
 * look at slots, operate them, and run the authorization guard.
 *
 * Owns: the command line and the guard loop (libuv): drivers_autoprobe
 * off while it runs, each new PCI function decided by hotswap's policy
 * (service/policy.c, docs/policy.md), allowed ones bound through
 * driver_override + drivers_probe, blocked ones kept from every driver
 * and from the bus (hsl_func_block), the slot files polled for what the
 * kernel does not announce.  Every line it prints is "WORD key=value ...",
 * with t= the monotonic time in microseconds, for tests/linux and the
 * benchmark.
 *
 * Exit status: 0 done, 1 the operation failed, 2 bad usage, 3 the
 * environment cannot run it (not Linux, no hot-plug slots ...).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "linux_pci.h"
#include "policy.h"

#define MAX_SLOTS 256
#define MAX_FUNCS 64

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hotswap-linux [--sysfs ROOT] VERB [ARGS]\n"
		"  slots                     every hot-plug slot and its card\n"
		"  power SLOT on|off\n"
		"  attention SLOT off|on|blink\n"
		"  allow BDF [DRIVER]        let a function be bound\n"
		"  block BDF                 no driver, no decode, no bus master\n"
		"  autoprobe [0|1]           show or set drivers_autoprobe\n"
		"  iommu                     is DMA translated?\n"
		"  watch                     print the kernel's PCI events\n"
		"  guard [--rules FILE] [--inserted allow|block]\n"
		"        [--poll MS]         decide each new function by policy\n"
		"SLOT is the kernel's name (\"1-1\") or the slot id from `slots`.\n");
}

static void print_slot(struct hsl_sys *s, const struct hsl_slot *sl)
{
	struct hsl_func f[MAX_FUNCS];
	size_t n = 0;
	char name[256];

	printf("slot %s id=%s port=%s module=%s address=%s power=%d "
	       "attention=%d adapter=%d latch=%d\n", sl->name, sl->id,
	       sl->port, sl->module, sl->address, sl->power, sl->attention,
	       sl->adapter, sl->latch);
	hsl_slot_funcs(s, sl, f, MAX_FUNCS, &n);
	for (size_t i = 0; i < n; i++)
		printf("func %s slot=%s id=%04x:%04x class=%06x driver=%s "
		       "override=%s command=0x%04x name=\"%s\"\n", f[i].bdf,
		       sl->name, f[i].vendor, f[i].device, f[i].class_code,
		       f[i].driver[0] ? f[i].driver : "-",
		       f[i].override[0] ? f[i].override : "-",
		       (unsigned)(f[i].command < 0 ? 0xffff : f[i].command),
		       hsl_name(s, f[i].vendor, f[i].device, name,
				sizeof(name)));
}

static int resolve(struct hsl_sys *s, const char *arg, struct hsl_slot *sl)
{
	if (hsl_slot_find(s, arg, sl) == 0)
		return 0;
	fprintf(stderr, "hotswap-linux: no slot '%s' (see `hotswap-linux "
		"slots`)\n", arg);
	return -ENOENT;
}

/* ---- the guard ------------------------------------------------------------ */

struct guard {
	bool watch_only;        /* `watch`: print events, decide nothing */
	struct hsl_sys *s;
	struct hsl_monitor *mon;
	struct hsd_policy *pol;
	uv_loop_t *loop;
	uv_poll_t poll;
	uv_timer_t timer;
	uv_signal_t sig_term, sig_int;
	int old_autoprobe;
	struct hsl_slot slots[MAX_SLOTS];
	size_t nslots;
	bool primed;            /* the first poll only records */
	/* The blocked functions, with the time their add event came. */
	struct { char bdf[16]; int64_t added; } blocked[64];
	size_t nblocked;
	int64_t added_at[64];
	char added_bdf[64][16];
	unsigned nadded;
};

static int64_t added_time(struct guard *g, const char *bdf)
{
	for (unsigned i = 0; i < g->nadded && i < 64; i++)
		if (!strcmp(g->added_bdf[i], bdf))
			return g->added_at[i];
	return -1;
}

static bool is_blocked(struct guard *g, const char *bdf)
{
	for (size_t i = 0; i < g->nblocked; i++)
		if (!strcmp(g->blocked[i].bdf, bdf))
			return true;
	return false;
}

static void forget(struct guard *g, const char *bdf)
{
	for (size_t k = 0; k < g->nblocked; k++)
		if (!strcmp(g->blocked[k].bdf, bdf)) {
			g->blocked[k] = g->blocked[--g->nblocked];
			return;
		}
}

static void do_block(struct guard *g, const char *bdf, const char *why,
		     int64_t since)
{
	struct hsl_block r;
	char err[256];
	int rc = hsl_func_block(g->s, bdf, &r, err, sizeof(err));
	int64_t now = hsl_now_usec();

	if (rc) {
		printf("error block %s: %s\n", bdf, err);
		return;
	}
	/* The window: from the first moment user space could know (the
	 * add event) until decode and bus mastering are off; only when
	 * something had been enabled. */
	printf("block %s t=%" PRId64 " rule=\"%s\" had_driver=%s "
	       "command_before=0x%04x command_after=0x%04x window_us=%" PRId64
	       "\n", bdf, now, why, r.had_driver[0] ? r.had_driver : "-",
	       (unsigned)(r.command_before & 0xffff),
	       (unsigned)(r.command_after & 0xffff),
	       (r.had_driver[0] ||
		(r.command_before > 0 && (r.command_before & 7))) && since > 0 ?
	       now - since : 0);
	if (!is_blocked(g, bdf) && g->nblocked < 64) {
		snprintf(g->blocked[g->nblocked].bdf, 16, "%s", bdf);
		g->blocked[g->nblocked++].added = since;
	}
}

/* First of all, before reading anything: hold it from drivers. */
static void hold(struct guard *g, const char *bdf)
{
	char err[256];

	if (hsl_func_hold(g->s, bdf, err, sizeof(err)))
		printf("error hold %s: %s\n", bdf, err);
}

static void decide(struct guard *g, const char *bdf, bool at_start,
		   int64_t since)
{
	struct hsl_func f;
	struct hsl_slot sl;
	struct hsd_card_id id;
	const char *why = NULL;
	char err[256];

	if (hsl_func_read(g->s, bdf, &f))
		return;
	memset(&id, 0, sizeof(id));
	id.vendor = f.vendor;
	id.device = f.device;
	id.subsys_vendor = f.subsys_vendor;
	id.subsys = f.subsys;
	id.class_code = f.class_code;
	id.slot = hsl_func_slot(g->s, bdf, &sl) == 0 ? sl.name : NULL;
	if (hsd_policy_decide(g->pol, &id, at_start, &why) == HSD_BLOCK) {
		do_block(g, bdf, why, since);
		return;
	}
	/* Allowed: lift the hold and bind whatever driver matches
	 * (autoprobe is off).  kernel_bound: the kernel's own attach won
	 * the race against the hold. */
	if (hsl_func_allow(g->s, bdf, NULL, err, sizeof(err)))
		printf("error allow %s: %s\n", bdf, err);
	printf("allow %s t=%" PRId64 " rule=\"%s\" kernel_bound=%s\n", bdf,
	       hsl_now_usec(), why, f.driver[0] ? f.driver : "-");
}

static void on_event(uv_poll_t *h, int status, int events)
{
	struct guard *g = h->data;
	struct hsl_event ev;

	(void)status;
	(void)events;
	while (hsl_monitor_next(g->mon, &ev) == 0) {
		printf("event %s %s t=%" PRId64 " driver=%s class=%06x\n",
		       hsl_action_name(ev.action), ev.bdf, ev.usec,
		       ev.driver[0] ? ev.driver : "-", ev.class_code);
		if (g->watch_only)
			continue;
		if (ev.action == HSL_ADD) {
			unsigned i = g->nadded++ % 64;

			snprintf(g->added_bdf[i], 16, "%s", ev.bdf);
			g->added_at[i] = ev.usec;
			/* A function that comes back is decided anew. */
			forget(g, ev.bdf);
			hold(g, ev.bdf);
			decide(g, ev.bdf, false, ev.usec);
		} else if (ev.action == HSL_BIND && is_blocked(g, ev.bdf)) {
			struct hsl_func f;

			/* Something bound it anyway: revoke at once (the
			 * event may be older than our own unbind).  An
			 * override other than ours: the operator allowed it
			 * (`hotswap-linux allow`), so it is ours no more. */
			if (hsl_func_read(g->s, ev.bdf, &f) == 0 &&
			    strcmp(f.override, HSL_BLOCKED_OVERRIDE))
				forget(g, ev.bdf);
			else if (f.driver[0])
				do_block(g, ev.bdf, "bound while blocked",
					 added_time(g, ev.bdf));
		}
	}
	fflush(stdout);
}

static void poll_slots(uv_timer_t *t)
{
	struct guard *g = t->data;
	static struct hsl_slot now[MAX_SLOTS];
	size_t n, i, j;

	if (hsl_slots(g->s, now, MAX_SLOTS, &n))
		return;
	for (i = 0; i < n && g->primed; i++) {
		for (j = 0; j < g->nslots; j++)
			if (!strcmp(g->slots[j].id, now[i].id))
				break;
		if (j == g->nslots) {
			printf("slot-new %s id=%s\n", now[i].name, now[i].id);
			continue;
		}
#define CHANGED(f) if (g->slots[j].f != now[i].f) \
		printf("slot-change %s " #f "=%d->%d t=%" PRId64 "\n", \
		       now[i].name, g->slots[j].f, now[i].f, hsl_now_usec())
		CHANGED(power);
		CHANGED(adapter);
		CHANGED(latch);
		CHANGED(attention);
#undef CHANGED
	}
	for (j = 0; j < g->nslots && g->primed; j++) {
		for (i = 0; i < n; i++)
			if (!strcmp(g->slots[j].id, now[i].id))
				break;
		if (i == n)
			printf("slot-gone %s id=%s\n", g->slots[j].name,
			       g->slots[j].id);
	}
	memcpy(g->slots, now, n * sizeof(now[0]));
	g->nslots = n;
	g->primed = true;
	fflush(stdout);
}

static void on_stop(uv_signal_t *h, int sig)
{
	struct guard *g = h->data;

	(void)sig;
	uv_poll_stop(&g->poll);
	uv_close((uv_handle_t *)&g->poll, NULL);
	uv_close((uv_handle_t *)&g->timer, NULL);
	uv_close((uv_handle_t *)&g->sig_term, NULL);
	uv_close((uv_handle_t *)&g->sig_int, NULL);
}

static char *slurp(const char *file)
{
	FILE *f = fopen(file, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	if (m) {
		int c;

		while ((c = getc(f)) != EOF)
			putc(c, m);
		fclose(m);
	}
	fclose(f);
	return buf;
}

static int guard(struct hsl_sys *s, int argc, char **argv, bool watch)
{
	static struct guard g;
	enum hsd_target ins = HSD_ALLOW;
	const char *rules = NULL;
	char err[512];
	long poll_ms = 1000;
	int rc = 1, i;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--rules") && i + 1 < argc)
			rules = argv[++i];
		else if (!strcmp(argv[i], "--inserted") && i + 1 < argc) {
			if (hsd_policy_parse_target(argv[++i], &ins)) {
				fprintf(stderr, "hotswap-linux: --inserted %s: "
					"expected allow or block\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--poll") && i + 1 < argc) {
			char *end;

			poll_ms = strtol(argv[++i], &end, 10);
			if (*end || poll_ms < 10 || poll_ms > 600000) {
				fprintf(stderr, "hotswap-linux: --poll %s: "
					"expected milliseconds, 10..600000\n",
					argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "hotswap-linux: guard: unknown "
				"argument '%s'\n", argv[i]);
			return 2;
		}
	}
	g.watch_only = watch;
	if (!watch && hsl_read_only(s)) {
		fprintf(stderr, "hotswap-linux: guard: %s\n", hsl_read_only(s));
		return 3;
	}
	g.s = s;
	g.pol = hsd_policy_new();
	if (!g.pol)
		return 1;
	hsd_policy_set_default(g.pol, false, ins);
	if (rules) {
		char *text = slurp(rules);

		if (!text) {
			fprintf(stderr, "hotswap-linux: %s: %s\n", rules,
				strerror(errno));
			goto out_pol;
		}
		rc = hsd_policy_load(g.pol, text, rules, err, sizeof(err));
		free(text);
		if (rc) {
			fprintf(stderr, "hotswap-linux: %s\n", err);
			rc = 2;
			goto out_pol;
		}
		rc = 1;
	}
	if (hsl_monitor_open(&g.mon, err, sizeof(err))) {
		fprintf(stderr, "hotswap-linux: %s\n", err);
		goto out_pol;
	}
	/* Off while we run: a driver loaded after a card appeared does not
	 * bind by itself; we bind what the policy allows. */
	if (hsl_autoprobe(s, &g.old_autoprobe, watch ? -1 : 0, err,
			  sizeof(err))) {
		fprintf(stderr, "hotswap-linux: %s\n", err);
		goto out_mon;
	}
	g.loop = uv_default_loop();
	uv_poll_init(g.loop, &g.poll, hsl_monitor_fd(g.mon));
	g.poll.data = &g;
	uv_poll_start(&g.poll, UV_READABLE, on_event);
	uv_timer_init(g.loop, &g.timer);
	g.timer.data = &g;
	poll_slots(&g.timer);
	uv_timer_start(&g.timer, poll_slots, (uint64_t)poll_ms,
		       (uint64_t)poll_ms);
	uv_signal_init(g.loop, &g.sig_term);
	uv_signal_init(g.loop, &g.sig_int);
	g.sig_term.data = g.sig_int.data = &g;
	uv_signal_start(&g.sig_term, on_stop, SIGTERM);
	uv_signal_start(&g.sig_int, on_stop, SIGINT);
	printf("ready t=%" PRId64 " slots=%zu drivers=\"%s\" autoprobe=%d->%d\n",
	       hsl_now_usec(), g.nslots, hsl_drivers(s), g.old_autoprobe,
	       watch ? g.old_autoprobe : 0);
	fflush(stdout);
	uv_run(g.loop, UV_RUN_DEFAULT);
	uv_loop_close(g.loop);
	if (!watch)
		hsl_autoprobe(s, NULL, g.old_autoprobe, err, sizeof(err));
	printf("stopped autoprobe=%d\n", g.old_autoprobe);
	rc = 0;
out_mon:
	hsl_monitor_close(g.mon);
out_pol:
	hsd_policy_free(g.pol);
	return rc;
}

/* ---- main ------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	const char *root = NULL;
	struct hsl_sys *s;
	struct hsl_slot sl;
	char err[512];
	int rc = 0;

	if (argc > 2 && !strcmp(argv[1], "--sysfs")) {
		root = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (hsl_open(root, &s, err, sizeof(err))) {
		fprintf(stderr, "hotswap-linux: %s\n", err);
		return 3;
	}
	if (!strcmp(argv[1], "slots") && argc == 2) {
		static struct hsl_slot all[MAX_SLOTS];
		size_t n;

		if (hsl_read_only(s))
			printf("note %s\n", hsl_read_only(s));
		rc = hsl_slots(s, all, MAX_SLOTS, &n) ? 1 : 0;
		for (size_t i = 0; i < n; i++)
			print_slot(s, &all[i]);
	} else if (!strcmp(argv[1], "power") && argc == 4) {
		int on = !strcmp(argv[3], "on") ? 1 :
			 !strcmp(argv[3], "off") ? 0 : -1;

		if (on < 0) {
			fprintf(stderr, "hotswap-linux: power %s: expected on "
				"or off\n", argv[3]);
			rc = 2;
		} else if (resolve(s, argv[2], &sl)) {
			rc = 1;
		} else if (hsl_slot_power(s, sl.name, on, err, sizeof(err))) {
			fprintf(stderr, "hotswap-linux: %s\n", err);
			rc = 1;
		}
	} else if (!strcmp(argv[1], "attention") && argc == 4) {
		int m = !strcmp(argv[3], "off") ? 0 : !strcmp(argv[3], "on") ?
			1 : !strcmp(argv[3], "blink") ? 2 : -1;

		if (m < 0) {
			fprintf(stderr, "hotswap-linux: attention %s: expected "
				"off, on or blink\n", argv[3]);
			rc = 2;
		} else if (resolve(s, argv[2], &sl)) {
			rc = 1;
		} else if (hsl_slot_attention(s, sl.name, m, err,
					      sizeof(err))) {
			fprintf(stderr, "hotswap-linux: %s\n", err);
			rc = 1;
		}
	} else if (!strcmp(argv[1], "allow") && (argc == 3 || argc == 4)) {
		if (hsl_func_allow(s, argv[2], argc == 4 ? argv[3] : NULL, err,
				   sizeof(err))) {
			fprintf(stderr, "hotswap-linux: %s\n", err);
			rc = 1;
		}
	} else if (!strcmp(argv[1], "block") && argc == 3) {
		struct hsl_block r;

		if (hsl_func_block(s, argv[2], &r, err, sizeof(err))) {
			fprintf(stderr, "hotswap-linux: %s\n", err);
			rc = 1;
		} else {
			printf("block %s had_driver=%s command_before=0x%04x "
			       "command_after=0x%04x\n", argv[2],
			       r.had_driver[0] ? r.had_driver : "-",
			       (unsigned)(r.command_before & 0xffff),
			       (unsigned)(r.command_after & 0xffff));
		}
	} else if (!strcmp(argv[1], "autoprobe") && (argc == 2 || argc == 3)) {
		int old, set = argc == 3 ? atoi(argv[2]) : -1;

		if (argc == 3 && strcmp(argv[2], "0") && strcmp(argv[2], "1")) {
			fprintf(stderr, "hotswap-linux: autoprobe %s: expected "
				"0 or 1\n", argv[2]);
			rc = 2;
		} else if (hsl_autoprobe(s, &old, set, err, sizeof(err))) {
			fprintf(stderr, "hotswap-linux: %s\n", err);
			rc = 1;
		} else {
			printf("autoprobe %d\n", set < 0 ? old : set);
		}
	} else if (!strcmp(argv[1], "iommu") && argc == 2) {
		struct hsl_iommu io;

		hsl_iommu(s, &io);
		printf("iommu units=%u groups=%u type=%s dma=%s\n", io.units,
		       io.groups, io.type, io.dma ? "yes" : "no");
		if (!io.dma)
			printf("warning: no IOMMU translates DMA: a blocked "
			       "card that ignores its Command register can "
			       "still write to memory\n");
	} else if (!strcmp(argv[1], "guard")) {
		rc = guard(s, argc - 2, argv + 2, false);
	} else if (!strcmp(argv[1], "watch") && argc == 2) {
		rc = guard(s, 0, argv + 2, true);
	} else {
		fprintf(stderr, "hotswap-linux: unknown verb or wrong "
			"arguments: %s\n", argv[1]);
		usage(stderr);
		rc = 2;
	}
	hsl_close(s);
	return rc;
}
