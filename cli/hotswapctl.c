/*
 * hotswapctl - the administrative tool for hotswapd.
 *
 * Owns: the command line an operator types (cfgadm's receptacle /
 * occupant view, sysfs slot verbs, ledctl's locate, udevadm's --json),
 * talking to the daemon's socket (docs/protocol.md), confirmation of
 * disruptive verbs, and printing: tables for people, --json for
 * programs, device names from pci.ids through libpci.
 *
 * Exit status: 0 done; 1 the daemon refused or the operation failed
 * (its message is printed); 2 usage error; 3 the daemon cannot be
 * reached; 4 permission denied.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pci/pci.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "hotswap/pcie_regs.h"

#ifndef HOTSWAP_SOCKET_DEFAULT
#define HOTSWAP_SOCKET_DEFAULT "/run/hotswap/hotswapd.sock"
#endif

enum { EX_OK = 0, EX_FAILED = 1, EX_USAGE = 2, EX_UNREACHABLE = 3,
       EX_DENIED = 4 };

struct ctl {
	const char *socket;
	bool json, yes;
	FILE *in, *out;
	int fd;
	json_t *hello;
	struct pci_access *pacc;
	long next_id;
};

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2),
							    noreturn));
static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hotswapctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'hotswapctl --help'.\n");
	exit(EX_USAGE);
}

static void usage(FILE *f)
{
	fputs("usage: hotswapctl [--socket PATH] [--json] [--yes] VERB [ARGS]\n"
	      "\n"
	      "Looking:\n"
	      "  list                     slots: receptacle, occupant, power, indicators\n"
	      "  show SLOT                one slot in detail (SltCap/SltCtl/SltSta decoded)\n"
	      "  tree                     the device tree with pci.ids names\n"
	      "  devices                  devices with their resources\n"
	      "  status                   the service\n"
	      "  watch [--after SEQ] [--count N]   events as they happen\n"
	      "  history [--slot S] [--after SEQ] [--limit N]\n"
	      "  report                   availability per slot\n"
	      "  rules | decisions        authorization policy\n"
	      "Changing:\n"
	      "  add SLOT | remove SLOT | replace SLOT\n"
	      "  attention SLOT on|off|blink\n"
	      "  enable SLOT | disable SLOT   persistently\n"
	      "  authorize DEVICE|--slot SLOT [--permanent]\n"
	      "  rebalance                give empty slots their reserved room back,\n"
	      "                           moving what the rebalance policy allows\n"
	      "Simulator (physical actions):\n"
	      "  sim catalog | sim insert SLOT CARD | sim pull SLOT [--surprise]\n"
	      "  sim button SLOT | sim latch SLOT open|close | sim fault SLOT\n"
	      "  sim advance DURATION | sim dma SLOT [--count N]\n"
	      "  sim traffic DEVICE [--count N]\n"
	      "\n"
	      "Socket: --socket, else $HOTSWAP_SOCKET, else /run/hotswap/hotswapd.sock.\n"
	      "Exit: 0 ok, 1 refused or failed, 2 usage, 3 daemon unreachable, 4 denied.\n",
	      f);
}

/* A whole non-negative number for an option, or a usage error. */
static long long num_arg(const char *opt, const char *v)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(v, &end, 10);
	if (!*v || *end || errno || x < 0)
		die_usage("%s wants a non-negative number, got '%s'", opt, v);
	return x;
}

/* ---- talking to the daemon ---------------------------------------------------- */

static json_t *read_msg(struct ctl *c)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, c->in);
	json_error_t je;
	json_t *m;

	if (n <= 0) {
		free(line);
		return NULL;
	}
	m = json_loads(line, 0, &je);
	free(line);
	return m;
}

static void connect_daemon(struct ctl *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	json_t *h;

	if (strlen(c->socket) >= sizeof(sa.sun_path))
		die_usage("socket path too long: %s", c->socket);
	memcpy(sa.sun_path, c->socket, strlen(c->socket) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		fprintf(stderr, "hotswapctl: cannot reach hotswapd at %s: %s%s\n",
			c->socket, strerror(e),
			e == EACCES ? " (root or the hotswap group may use it)"
			: e == ENOENT || e == ECONNREFUSED
				? " (is hotswapd running? --socket or "
				  "$HOTSWAP_SOCKET name another socket)"
				: "");
		exit(e == EACCES ? EX_DENIED : EX_UNREACHABLE);
	}
	c->in = fdopen(c->fd, "r");
	c->out = fdopen(dup(c->fd), "w");
	h = c->in ? read_msg(c) : NULL;
	if (!h || !json_is_object(json_object_get(h, "hello"))) {
		fprintf(stderr, "hotswapctl: %s did not greet like hotswapd\n",
			c->socket);
		exit(EX_UNREACHABLE);
	}
	if (json_integer_value(json_object_get(json_object_get(h, "hello"),
					       "protocol")) != 1) {
		fprintf(stderr, "hotswapctl: hotswapd speaks protocol %"
			JSON_INTEGER_FORMAT ", this tool speaks 1\n",
			json_integer_value(json_object_get(
				json_object_get(h, "hello"), "protocol")));
		exit(EX_UNREACHABLE);
	}
	c->hello = h;
}

static void send_req(struct ctl *c, const char *method, json_t *params)
{
	json_t *req = json_pack("{s:I, s:s, s:o}", "id", (json_int_t)++c->next_id,
				"method", method, "params",
				params ? params : json_object());

	json_dumpf(req, c->out, JSON_COMPACT);
	fputc('\n', c->out);
	fflush(c->out);
	json_decref(req);
}

/* The reply to the last request (events in between are skipped). */
static json_t *wait_reply(struct ctl *c)
{
	json_t *m;

	while ((m = read_msg(c))) {
		json_t *id = json_object_get(m, "id");

		if (json_is_integer(id) && json_integer_value(id) == c->next_id)
			return m;
		if (!id && json_object_get(m, "error"))
			return m;   /* about the connection itself */
		json_decref(m);
	}
	fprintf(stderr, "hotswapctl: hotswapd closed the connection\n");
	exit(EX_UNREACHABLE);
}

/* Call and return the result, or print the error and exit. */
static json_t *call(struct ctl *c, const char *method, json_t *params)
{
	json_t *m, *err, *res;

	send_req(c, method, params);
	m = wait_reply(c);
	err = json_object_get(m, "error");
	if (err) {
		const char *code = json_string_value(json_object_get(err, "code"));

		if (c->json) {
			json_dumpf(m, stdout, JSON_INDENT(2));
			putchar('\n');
		}
		fprintf(stderr, "hotswapctl: %s\n",
			json_string_value(json_object_get(err, "message")));
		exit(code && !strcmp(code, "permission-denied") ? EX_DENIED
			: code && (!strcmp(code, "invalid-params") ||
				   !strcmp(code, "unknown-method"))
				? EX_USAGE
				: EX_FAILED);
	}
	res = json_incref(json_object_get(m, "result"));
	json_decref(m);
	return res;
}

static void print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2));
	putchar('\n');
}

/* ---- formatting ---------------------------------------------------------------- */

static const char *s_(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "-";
}

static bool b_(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

static void pci_name(struct ctl *c, json_t *dev, char *buf, size_t len)
{
	unsigned v = 0, d = 0, cls = 0;
	char name[200] = "", cname[100] = "";

	sscanf(s_(dev, "id"), "%x:%x", &v, &d);
	sscanf(s_(dev, "class"), "%x", &cls);
	if (c->pacc) {
		pci_lookup_name(c->pacc, name, sizeof(name),
				PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE, v, d);
		pci_lookup_name(c->pacc, cname, sizeof(cname), PCI_LOOKUP_CLASS,
				cls >> 8);
	}
	snprintf(buf, len, "%s: %s [%04x:%04x]", cname[0] ? cname : "class",
		 name[0] ? name : "device", v, d);
}

static void dev_brief(json_t *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", s_(d, "name"),
		 json_object_get(d, "driver") ? "(" : "",
		 json_object_get(d, "driver") ? s_(d, "driver") : "",
		 json_object_get(d, "driver") ? ")" : "",
		 b_(d, "blocked") ? "[blocked]" : "");
}

static void print_slots(json_t *a)
{
	size_t i;
	json_t *s;

	printf("%-5s %-5s %-12s %-12s %-12s %-5s %-5s %-6s %s\n", "SLOT",
	       "KIND", "RECEPTACLE", "OCCUPANT", "STATE", "POWER", "ATTN",
	       "LATCH", "DEVICES");
	json_array_foreach(a, i, s) {
		char devs[256] = "";
		size_t j, n = 0;
		json_t *d;

		json_array_foreach(json_object_get(s, "devices"), j, d) {
			char one[96];

			dev_brief(d, one, sizeof(one));
			n += (size_t)snprintf(devs + n, sizeof(devs) - n, "%s%s",
					      n ? " " : "", one);
			if (n >= sizeof(devs))
				break;
		}
		printf("%-5s %-5s %-12s %-12s %-12s %-5s %-5s %-6s %s%s\n",
		       s_(s, "slot"), s_(s, "kind"), s_(s, "receptacle"),
		       s_(s, "occupant"), s_(s, "state"),
		       b_(s, "power") ? "on" : "off", s_(s, "attention"),
		       s_(s, "latch"), devs,
		       b_(s, "disabled") ? "  (disabled)" : "");
	}
}

static void bits(char *buf, size_t len, size_t *n, const char *name, bool on)
{
	*n += (size_t)snprintf(buf + *n, len - *n, " %s%c", name, on ? '+' : '-');
}

static const char *ind_ctl(unsigned v)
{
	switch (v & 3) {
	case 1:
		return "On";
	case 2:
		return "Blink";
	case 3:
		return "Off";
	default:
		return "Unknown";
	}
}

/* As lspci -vv prints them (PCIe Base 7.5.3.9-11). */
static void print_registers(json_t *r)
{
	unsigned cap = (unsigned)json_integer_value(json_object_get(r, "sltcap"));
	unsigned ctl = (unsigned)json_integer_value(json_object_get(r, "sltctl"));
	unsigned sta = (unsigned)json_integer_value(json_object_get(r, "sltsta"));
	char b[256];
	size_t n = 0;

	bits(b, sizeof(b), &n, "AttnBtn", cap & HS_SLTCAP_ABP);
	bits(b, sizeof(b), &n, "PwrCtrl", cap & HS_SLTCAP_PCP);
	bits(b, sizeof(b), &n, "MRL", cap & HS_SLTCAP_MRLSP);
	bits(b, sizeof(b), &n, "AttnInd", cap & HS_SLTCAP_AIP);
	bits(b, sizeof(b), &n, "PwrInd", cap & HS_SLTCAP_PIP);
	bits(b, sizeof(b), &n, "HotPlug", cap & HS_SLTCAP_HPC);
	bits(b, sizeof(b), &n, "Surprise", cap & HS_SLTCAP_HPS);
	printf("  SltCap:%s\n          Slot #%u, Interlock%c NoCompl%c\n", b,
	       cap >> 19, cap & HS_SLTCAP_EIP ? '+' : '-',
	       cap & HS_SLTCAP_NCCS ? '+' : '-');
	n = 0;
	bits(b, sizeof(b), &n, "AttnBtn", ctl & HS_SLTCTL_ABPE);
	bits(b, sizeof(b), &n, "PwrFlt", ctl & HS_SLTCTL_PFDE);
	bits(b, sizeof(b), &n, "MRL", ctl & HS_SLTCTL_MRLSCE);
	bits(b, sizeof(b), &n, "PresDet", ctl & HS_SLTCTL_PDCE);
	bits(b, sizeof(b), &n, "CmdCplt", ctl & HS_SLTCTL_CCIE);
	bits(b, sizeof(b), &n, "HPIrq", ctl & HS_SLTCTL_HPIE);
	bits(b, sizeof(b), &n, "LinkChg", ctl & HS_SLTCTL_DLLSCE);
	printf("  SltCtl: Enable:%s\n          Control: AttnInd %s, PwrInd %s, "
	       "Power%c Interlock%c\n", b, ind_ctl(ctl >> 6), ind_ctl(ctl >> 8),
	       ctl & HS_SLTCTL_PCC ? '-' : '+', ctl & HS_SLTCTL_EIC ? '+' : '-');
	n = 0;
	bits(b, sizeof(b), &n, "AttnBtn", sta & HS_SLTSTA_ABP);
	bits(b, sizeof(b), &n, "PowerFlt", sta & HS_SLTSTA_PFD);
	bits(b, sizeof(b), &n, "MRL", sta & HS_SLTSTA_MRLSS);
	bits(b, sizeof(b), &n, "CmdCplt", sta & HS_SLTSTA_CC);
	bits(b, sizeof(b), &n, "PresDet", sta & HS_SLTSTA_PDS);
	bits(b, sizeof(b), &n, "Interlock", sta & HS_SLTSTA_EIS);
	printf("  SltSta: Status:%s\n", b);
	n = 0;
	bits(b, sizeof(b), &n, "MRL", sta & HS_SLTSTA_MRLSC);
	bits(b, sizeof(b), &n, "PresDet", sta & HS_SLTSTA_PDC);
	bits(b, sizeof(b), &n, "LinkState", sta & HS_SLTSTA_DLLSC);
	printf("          Changed:%s\n", b);
}

static void print_resources(json_t *d, const char *indent)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(d, "bars"), i, r) {
		json_int_t start = json_integer_value(json_object_get(r, "start"));
		json_int_t size = json_integer_value(json_object_get(r, "size"));

		printf("%sBAR%" JSON_INTEGER_FORMAT " %-4s %#" PRIx64 "-%#" PRIx64
		       "%s%s\n", indent,
		       json_integer_value(json_object_get(r, "bar")),
		       s_(r, "kind"), (uint64_t)start,
		       (uint64_t)(start + size - 1),
		       b_(r, "is64") ? " 64-bit" : "",
		       b_(r, "prefetch") ? " prefetchable" : "");
	}
	json_array_foreach(json_object_get(d, "windows"), i, r) {
		json_int_t start = json_integer_value(json_object_get(r, "start"));
		json_int_t size = json_integer_value(json_object_get(r, "size"));

		printf("%swindow %-4s %#" PRIx64 "-%#" PRIx64 "\n", indent,
		       s_(r, "kind"), (uint64_t)start,
		       (uint64_t)(start + size - 1));
	}
	if ((r = json_object_get(d, "irq")))
		printf("%sirq %s %" JSON_INTEGER_FORMAT "\n", indent,
		       s_(r, "kind"), json_integer_value(json_object_get(r, "number")));
}

static void print_event(json_t *e)
{
	const char *type = s_(e, "type");
	double t = (double)json_integer_value(json_object_get(e, "time")) / 1e9;

	printf("%6" JSON_INTEGER_FORMAT " %14.6f %-17s %-4s ",
	       json_integer_value(json_object_get(e, "seq")), t, type,
	       json_object_get(e, "slot") ? s_(e, "slot") : "");
	if (!strcmp(type, "slot-state"))
		printf("%s -> %s%s%s", s_(e, "from"), s_(e, "to"),
		       json_object_get(e, "msg") ? ": " : "",
		       json_object_get(e, "msg") ? s_(e, "msg") : "");
	else if (!strcmp(type, "slot-alert") || !strcmp(type, "service"))
		printf("%s", s_(e, "msg"));
	else if (!strcmp(type, "policy"))
		printf("%s %s (%s): %s", s_(e, "target"), s_(e, "bdf"),
		       s_(e, "ids"), s_(e, "why"));
	else if (!strcmp(type, "operator"))
		printf("%s by uid %" JSON_INTEGER_FORMAT ": %s",
		       s_(e, "request"),
		       json_integer_value(json_object_get(e, "uid")),
		       s_(e, "outcome"));
	else if (!strcmp(type, "physical"))
		printf("%s%s%s", s_(e, "action"),
		       json_object_get(e, "card") ? " " : "",
		       json_object_get(e, "card") ? s_(e, "card") : "");
	else
		printf("%s %s%s%s%s%s", s_(e, "bdf"), s_(e, "id"),
		       json_object_get(e, "name") ? " " : "",
		       json_object_get(e, "name") ? s_(e, "name") : "",
		       json_object_get(e, "driver") ? " driver " : "",
		       json_object_get(e, "driver") ? s_(e, "driver") : "");
	putchar('\n');
}

/* ---- verbs ---------------------------------------------------------------------- */

static bool confirm(struct ctl *c, const char *question)
{
	char line[16];

	if (c->yes)
		return true;
	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}

static json_t *slot_param(const char *slot)
{
	return json_pack("{s:s}", "slot", slot);
}

static int v_operator(struct ctl *c, const char *verb, const char *method,
		      const char *slot)
{
	json_t *r;

	if (strcmp(verb, "add")) {
		json_t *s = call(c, "slot.show", slot_param(slot));
		char q[512], devs[256] = "";
		size_t i, n = 0;
		json_t *d;

		json_array_foreach(json_object_get(s, "devices"), i, d) {
			char one[96];

			dev_brief(d, one, sizeof(one));
			n += (size_t)snprintf(devs + n, sizeof(devs) - n,
					      " %s", one);
			if (n >= sizeof(devs))
				break;
		}
		snprintf(q, sizeof(q), "%s%s slot %s (%s%s)?",
			 verb[0] == 'r' ? "R" : "D", verb + 1, slot,
			 s_(s, "state"), devs);
		json_decref(s);
		if (!confirm(c, q)) {
			fprintf(stderr, "hotswapctl: not confirmed; nothing "
				"done (--yes skips the question)\n");
			return EX_FAILED;
		}
	}
	if (!strcmp(verb, "replace") && !c->json)
		fprintf(stderr, "hotswapctl: slot %s: taking the card down; "
			"then pull it and insert the new one\n", slot);
	r = call(c, method, slot_param(slot));
	if (c->json)
		print_json(r);
	else
		printf("slot %s: %s, %s\n", s_(r, "slot"), s_(r, "state"),
		       s_(r, "receptacle"));
	json_decref(r);
	return EX_OK;
}

static int v_watch(struct ctl *c, int argc, char **argv)
{
	json_int_t after = -1, count = -1, seen = 0;
	json_t *r, *m;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--after") && i + 1 < argc)
			after = num_arg("--after", argv[++i]);
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = num_arg("--count", argv[++i]);
		else
			die_usage("watch: unknown option '%s'", argv[i]);
	}
	r = call(c, "events.subscribe", json_pack("{s:I}", "after", after));
	if (json_is_true(json_object_get(r, "gap")))
		fprintf(stderr, "hotswapctl: events before %" JSON_INTEGER_FORMAT
			" are no longer kept\n",
			json_integer_value(json_object_get(r, "first")));
	json_decref(r);
	while (count != 0 && (m = read_msg(c))) {
		json_t *e = json_object_get(m, "event");

		if (e) {
			if (c->json) {
				json_dumpf(e, stdout, JSON_COMPACT);
				putchar('\n');
			} else {
				print_event(e);
			}
			fflush(stdout);
			if (count > 0 && ++seen == count)
				count = 0;
		}
		json_decref(m);
	}
	return EX_OK;
}

static int v_tree(struct ctl *c, json_t *devs)
{
	size_t i;
	json_t *d;

	json_array_foreach(devs, i, d) {
		int depth = 0;
		const char *p = json_string_value(json_object_get(d, "parent"));
		char name[320];

		/* Parents come first: count how many are above. */
		while (p) {
			size_t j;
			json_t *q, *found = NULL;

			json_array_foreach(devs, j, q)
				if (!strcmp(s_(q, "bdf"), p))
					found = q;
			depth++;
			p = found ? json_string_value(json_object_get(found,
								      "parent"))
				  : NULL;
		}
		pci_name(c, d, name, sizeof(name));
		printf("%*s%s %s", depth * 2, "", s_(d, "bdf"), name);
		if (json_object_get(d, "name"))
			printf("  %s", s_(d, "name"));
		if (json_object_get(d, "driver"))
			printf("  [%s]", s_(d, "driver"));
		if (json_object_get(d, "slot"))
			printf("  slot %s", s_(d, "slot"));
		if (b_(d, "blocked"))
			printf("  BLOCKED");
		if (json_object_get(d, "isolated"))
			printf("  ISOLATED: %s", s_(d, "isolated"));
		putchar('\n');
	}
	return EX_OK;
}

/* The same duration syntax as hotswapd's configuration (config.c). */
static int64_t duration_ns(const char *s)
{
	uint64_t ns;

	if (hsd_parse_duration(s, &ns))
		die_usage("'%s' is not a duration (like 5s, 250ms)", s);
	return (int64_t)ns;
}

static int v_sim(struct ctl *c, int argc, char **argv)
{
	const char *what = argc ? argv[0] : NULL;
	json_t *p = NULL, *r;

	if (!what)
		die_usage("sim: which action? (catalog, insert, pull, button, "
			  "latch, fault, advance, dma, traffic)");
	if (!strcmp(what, "catalog")) {
		size_t i;
		json_t *e;

		r = call(c, "sim.catalog", NULL);
		if (c->json)
			print_json(r);
		else
			json_array_foreach(r, i, e)
				printf("%-22s %s\n", s_(e, "card"),
				       s_(e, "description"));
		json_decref(r);
		return EX_OK;
	}
	if (!strcmp(what, "insert") && argc == 3)
		p = json_pack("{s:s, s:s}", "slot", argv[1], "card", argv[2]);
	else if (!strcmp(what, "pull") && (argc == 2 ||
		 (argc == 3 && !strcmp(argv[2], "--surprise"))))
		p = json_pack("{s:s, s:b}", "slot", argv[1], "surprise",
			      argc == 3);
	else if ((!strcmp(what, "button") || !strcmp(what, "fault")) &&
		 argc == 2)
		p = slot_param(argv[1]);
	else if (!strcmp(what, "latch") && argc == 3 &&
		 (!strcmp(argv[2], "open") || !strcmp(argv[2], "close")))
		p = json_pack("{s:s, s:b}", "slot", argv[1], "open",
			      !strcmp(argv[2], "open"));
	else if (!strcmp(what, "advance") && argc == 2)
		p = json_pack("{s:I}", "ns", (json_int_t)duration_ns(argv[1]));
	else if ((!strcmp(what, "dma") || !strcmp(what, "traffic")) &&
		 (argc == 2 || (argc == 4 && !strcmp(argv[2], "--count"))))
		p = json_pack("{s:s, s:I}", !strcmp(what, "dma") ? "slot"
								 : "device",
			      argv[1], "count",
			      (json_int_t)(argc == 4 ? num_arg("--count", argv[3])
						     : !strcmp(what, "dma") ? 16
									    : 8));
	else
		die_usage("sim %s: wrong arguments (see hotswapctl --help)",
			  what);
	{
		char method[32];

		snprintf(method, sizeof(method), "sim.%s", what);
		r = call(c, method, p);
	}
	if (c->json)
		print_json(r);
	else if (!strcmp(what, "advance"))
		printf("clock at %.6f s\n",
		       (double)json_integer_value(json_object_get(r, "chassis_time")) / 1e9);
	else if (!strcmp(what, "dma"))
		printf("%" JSON_INTEGER_FORMAT " DMA attempts, %" JSON_INTEGER_FORMAT
		       " blocked, %" JSON_INTEGER_FORMAT " reached memory\n",
		       json_integer_value(json_object_get(r, "attempts")),
		       json_integer_value(json_object_get(r, "blocked")),
		       json_integer_value(json_object_get(r, "through")));
	else if (!strcmp(what, "traffic"))
		printf("%" JSON_INTEGER_FORMAT " requests submitted, %"
		       JSON_INTEGER_FORMAT " in flight\n",
		       json_integer_value(json_object_get(r, "submitted")),
		       json_integer_value(json_object_get(r, "in_flight")));
	else
		printf("slot %s: %s%s%s\n", s_(r, "slot"),
		       b_(r, "present") ? "card " : "empty",
		       b_(r, "present") ? s_(r, "card") : "",
		       b_(r, "latch_open") ? ", latch open" : "");
	json_decref(r);
	return EX_OK;
}

static void need(int argc, int n, const char *verb, const char *args)
{
	if (argc != n)
		die_usage("%s: usage: hotswapctl %s %s", verb, verb, args);
}

int main(int argc, char **argv)
{
	struct ctl c = { 0 };
	const char *verb;
	json_t *r;
	int i;

	c.socket = getenv("HOTSWAP_SOCKET");
	if (!c.socket || !*c.socket)
		c.socket = HOTSWAP_SOCKET_DEFAULT;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json"))
			c.json = true;
		else if (!strcmp(argv[i], "--yes") || !strcmp(argv[i], "-y"))
			c.yes = true;
		else if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			c.socket = argv[++i];
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EX_OK;
		} else
			die_usage("unknown option '%s'", argv[i]);
	}
	if (i == argc)
		die_usage("which verb? (list, show, add, remove, ...)");
	verb = argv[i++];
	argc -= i;
	argv += i;
	/* Options may also follow the verb. */
	for (int j = 0; j < argc; j++)
		if (!strcmp(argv[j], "--json") || !strcmp(argv[j], "--yes")) {
			if (argv[j][2] == 'j')
				c.json = true;
			else
				c.yes = true;
			memmove(&argv[j], &argv[j + 1],
				(size_t)(argc - j - 1) * sizeof(*argv));
			argc--;
			j--;
		}
	static const char *const verbs[] = {
		"list", "show", "tree", "devices", "status", "watch", "history",
		"report", "rules", "decisions", "add", "remove", "replace",
		"attention", "enable", "disable", "authorize", "rebalance",
		"sim", NULL,
	};
	for (i = 0; verbs[i] && strcmp(verbs[i], verb); i++)
		;
	if (!verbs[i])
		die_usage("unknown verb '%s'", verb);
	signal(SIGPIPE, SIG_IGN);
	connect_daemon(&c);
	json_decref(c.hello);   /* only its protocol number was needed */
	c.hello = NULL;
	if (!c.json && (!strcmp(verb, "show") || !strcmp(verb, "tree") ||
			!strcmp(verb, "devices"))) {
		/* Names from pci.ids. */
		c.pacc = pci_alloc();
		if (c.pacc)
			pci_init(c.pacc);
	}

	if (!strcmp(verb, "list")) {
		need(argc, 0, verb, "");
		r = call(&c, "slot.list", NULL);
		c.json ? print_json(r) : print_slots(r);
	} else if (!strcmp(verb, "show")) {
		size_t j;
		json_t *d;

		need(argc, 1, verb, "SLOT");
		r = call(&c, "slot.show", slot_param(argv[0]));
		if (c.json) {
			print_json(r);
		} else {
			printf("slot %s (%s, physical %" JSON_INTEGER_FORMAT
			       ", bridge %s device %" JSON_INTEGER_FORMAT ")\n",
			       s_(r, "slot"), s_(r, "kind"),
			       json_integer_value(json_object_get(r, "number")),
			       s_(r, "bridge"),
			       json_integer_value(json_object_get(r, "devnum")));
			printf("  state %s, receptacle %s, occupant %s%s\n",
			       s_(r, "state"), s_(r, "receptacle"),
			       s_(r, "occupant"),
			       b_(r, "disabled") ? ", disabled by the operator" : "");
			printf("  power %s, power indicator %s, attention %s, "
			       "latch %s, link %s%s\n",
			       b_(r, "power") ? "on" : "off",
			       s_(r, "power_indicator"), s_(r, "attention"),
			       s_(r, "latch"), b_(r, "link") ? "up" : "down",
			       b_(r, "power_fault") ? ", POWER FAULT" : "");
			if (json_object_get(r, "blue_led"))
				printf("  blue LED %s\n", b_(r, "blue_led")
				       ? "ON: safe to extract" : "off");
			if (*s_(r, "reason") && strcmp(s_(r, "reason"), "-"))
				printf("  last problem: %s\n", s_(r, "reason"));
			if (json_object_get(r, "registers"))
				print_registers(json_object_get(r, "registers"));
			json_array_foreach(json_object_get(r, "devices"), j, d) {
				char name[320];

				pci_name(&c, d, name, sizeof(name));
				printf("  %s %s %s%s%s\n", s_(d, "bdf"), name,
				       s_(d, "name"),
				       json_object_get(d, "driver") ? " driver " : "",
				       json_object_get(d, "driver") ? s_(d, "driver")
								    : " (no driver)");
				print_resources(d, "      ");
			}
		}
	} else if (!strcmp(verb, "tree") || !strcmp(verb, "devices")) {
		size_t j;
		json_t *d;

		need(argc, 0, verb, "");
		r = call(&c, "device.list", NULL);
		if (c.json)
			print_json(r);
		else if (!strcmp(verb, "tree"))
			v_tree(&c, r);
		else
			json_array_foreach(r, j, d) {
				char name[320];

				pci_name(&c, d, name, sizeof(name));
				printf("%s %s %s%s%s%s\n", s_(d, "bdf"),
				       json_object_get(d, "name") ? s_(d, "name") : "",
				       name,
				       json_object_get(d, "driver") ? " driver " : "",
				       json_object_get(d, "driver") ? s_(d, "driver") : "",
				       b_(d, "blocked") ? " BLOCKED" : "");
				print_resources(d, "    ");
			}
	} else if (!strcmp(verb, "status")) {
		need(argc, 0, verb, "");
		r = call(&c, "status", NULL);
		if (c.json)
			print_json(r);
		else
			printf("hotswapd on %s: chassis %s, %s clock at %.6f s, "
			       "%" JSON_INTEGER_FORMAT " slots, %"
			       JSON_INTEGER_FORMAT " devices, last event %"
			       JSON_INTEGER_FORMAT "\n",
			       s_(r, "socket"), s_(r, "chassis"), s_(r, "clock"),
			       (double)json_integer_value(json_object_get(r, "chassis_time")) / 1e9,
			       json_integer_value(json_object_get(r, "slots")),
			       json_integer_value(json_object_get(r, "devices")),
			       json_integer_value(json_object_get(r, "seq")));
	} else if (!strcmp(verb, "watch")) {
		return v_watch(&c, argc, argv);
	} else if (!strcmp(verb, "history")) {
		json_t *p = json_object(), *e;
		size_t j;

		for (int k = 0; k < argc; k++) {
			if (!strcmp(argv[k], "--slot") && k + 1 < argc)
				json_object_set_new(p, "slot", json_string(argv[++k]));
			else if (!strcmp(argv[k], "--after") && k + 1 < argc) {
				k++;
				json_object_set_new(p, "after", json_integer(
					num_arg("--after", argv[k])));
			}
			else if (!strcmp(argv[k], "--limit") && k + 1 < argc) {
				k++;
				json_object_set_new(p, "limit", json_integer(
					num_arg("--limit", argv[k])));
			}
			else
				die_usage("history: unknown option '%s'", argv[k]);
		}
		r = call(&c, "events.history", p);
		if (c.json)
			print_json(r);
		else
			json_array_foreach(r, j, e)
				print_event(e);
	} else if (!strcmp(verb, "report")) {
		size_t j;
		json_t *s;

		need(argc, 0, verb, "");
		r = call(&c, "report", NULL);
		if (c.json) {
			print_json(r);
		} else {
			printf("%-5s %12s %8s %14s %10s %12s %6s\n", "SLOT",
			       "REPLACEMENTS", "OUTAGES", "OUT OF SERVICE",
			       "MTTR", "AVAILABILITY", "NINES");
			json_array_foreach(json_object_get(r, "slots"), j, s) {
				json_t *mttr = json_object_get(s, "mttr_s");
				json_t *nines = json_object_get(s, "nines");
				char m[16] = "-", n[16] = "inf";

				if (json_is_number(mttr))
					snprintf(m, sizeof(m), "%.3f s",
						 json_number_value(mttr));
				if (json_is_number(nines))
					snprintf(n, sizeof(n), "%.2f",
						 json_number_value(nines));
				printf("%-5s %12" JSON_INTEGER_FORMAT " %8zu %12.3f s "
				       "%10s %11.6f%% %6s\n", s_(s, "slot"),
				       json_integer_value(json_object_get(s, "replacements")),
				       json_array_size(json_object_get(s, "outages")),
				       json_number_value(json_object_get(s, "out_of_service_s")),
				       m, 100 * json_number_value(json_object_get(s, "availability")),
				       n);
			}
		}
	} else if (!strcmp(verb, "rules")) {
		size_t j;
		json_t *e;

		r = call(&c, "policy.rules", NULL);
		if (c.json) {
			print_json(r);
		} else {
			json_array_foreach(json_object_get(r, "rules"), j, e)
				printf("%s\n", json_string_value(e));
			printf("# default for inserted cards: %s\n"
			       "# default for cards present at start: %s\n",
			       s_(r, "default_inserted"), s_(r, "default_present"));
		}
	} else if (!strcmp(verb, "decisions")) {
		size_t j;
		json_t *e;

		r = call(&c, "policy.decisions", NULL);
		if (c.json)
			print_json(r);
		else
			json_array_foreach(r, j, e)
				printf("%-5s %-6s %s %s: %s\n",
				       json_object_get(e, "slot") ? s_(e, "slot") : "",
				       s_(e, "target"), s_(e, "bdf"), s_(e, "ids"),
				       s_(e, "why"));
	} else if (!strcmp(verb, "add") || !strcmp(verb, "remove") ||
		   !strcmp(verb, "replace") || !strcmp(verb, "disable") ||
		   !strcmp(verb, "enable")) {
		char method[32];

		need(argc, 1, verb, "SLOT");
		snprintf(method, sizeof(method), "slot.%s", verb);
		return v_operator(&c, !strcmp(verb, "enable") ? "add" : verb,
				  method, argv[0]);
	} else if (!strcmp(verb, "attention")) {
		need(argc, 2, verb, "SLOT on|off|blink");
		r = call(&c, "slot.attention",
			 json_pack("{s:s, s:s}", "slot", argv[0], "indicator",
				   argv[1]));
		if (c.json)
			print_json(r);
		else
			printf("slot %s: attention indicator %s\n",
			       s_(r, "slot"), s_(r, "attention"));
	} else if (!strcmp(verb, "authorize")) {
		json_t *p = json_object(), *e;
		size_t j;

		for (int k = 0; k < argc; k++) {
			if (!strcmp(argv[k], "--permanent"))
				json_object_set_new(p, "permanent", json_true());
			else if (!strcmp(argv[k], "--slot") && k + 1 < argc)
				json_object_set_new(p, "slot", json_string(argv[++k]));
			else if (argv[k][0] != '-' && !json_object_get(p, "device"))
				json_object_set_new(p, "device", json_string(argv[k]));
			else
				die_usage("authorize: usage: hotswapctl authorize "
					  "DEVICE|--slot SLOT [--permanent]");
		}
		r = call(&c, "authorize", p);
		if (c.json)
			print_json(r);
		else
			json_array_foreach(r, j, e)
				printf("%s: %s%s%s\n", s_(e, "bdf"), s_(e, "result"),
				       json_object_get(e, "driver") ? "; driver " : "",
				       json_object_get(e, "driver") ? s_(e, "driver") : "");
	} else if (!strcmp(verb, "rebalance")) {
		need(argc, 0, verb, "");
		r = call(&c, "rebalance", NULL);
		if (c.json)
			print_json(r);
		else
			printf("%s\n", s_(r, "result"));
	} else {
		return v_sim(&c, argc, argv);
	}
	json_decref(r);
	if (c.pacc)
		pci_cleanup(c.pacc);
	return EX_OK;
}
