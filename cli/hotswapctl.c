/*
 * hotswapctl - the administrative tool for hotswapd.
 *
 * Owns: the command line an operator types (cfgadm's receptacle /
 * occupant / condition view, sysfs slot addresses, ledctl's locate,
 * udevadm's --json and watch filters), talking to the daemon's socket
 * (docs/protocol.md), confirmation of disruptive verbs, and printing:
 * tables for people, --json for programs, device names from pci.ids
 * through libpci.
 *
 * The whole command line is parsed and checked before the daemon is
 * contacted, so a usage error exits 2 whether or not hotswapd runs.
 *
 * Exit status: 0 done; 1 the daemon refused or the operation failed
 * (its message is printed); 2 usage error; 3 the daemon cannot be
 * reached; 4 permission denied.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
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
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "hotswap/pcie_regs.h"

#ifndef HOTSWAP_SOCKET_DEFAULT
#define HOTSWAP_SOCKET_DEFAULT "/run/hotswap/hotswapd.sock"
#endif
#ifndef HOTSWAP_VERSION
#error "HOTSWAP_VERSION comes from CMake's project version"
#endif

enum { EX_OK = 0, EX_FAILED = 1, EX_USAGE = 2, EX_UNREACHABLE = 3,
       EX_DENIED = 4 };

struct ctl {
	const char *socket;
	bool json, yes;
	bool realtime;          /* the daemon's clock: event times are epoch ns */
	FILE *in, *out;
	int fd;
	json_t *hello;
	struct pci_access *pacc;
	long next_id;
};

/* Options of one command line, all verbs' together (see parse()). */
enum opt_id {
	O_HELP = 'h', O_YES = 'y', O_VERSION = 'V',
	O_JSON = 256, O_SOCKET, O_AFTER, O_COUNT, O_LIMIT, O_SLOT, O_TYPE,
	O_PROPERTY, O_TIMEOUT, O_PERMANENT, O_BLOCKED, O_SURPRISE,
};

#define MAX_FILTERS 16

struct args {
	const char *verb;
	char **pos;             /* positional arguments after the verb */
	int npos;
	unsigned seen;          /* bit (id - O_AFTER) per verb option given */
	long long after, count, limit;
	const char *slot;
	int64_t timeout_ns;
	const char *types[MAX_FILTERS], *slots[MAX_FILTERS];
	const char *props[MAX_FILTERS];
	unsigned ntypes, nslots, nprops;
	/* What prepare() made of it. */
	const char *method;
	json_t *params;
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
	      "       hotswapctl --version | --help\n"
	      "\n"
	      "Looking:\n"
	      "  list                     slots: address, receptacle, occupant, condition,\n"
	      "                           type, power, indicators, latch, devices\n"
	      "  show SLOT                one slot in detail (SltCap/SltCtl/SltSta decoded)\n"
	      "  tree                     the device tree with pci.ids names\n"
	      "  devices [--blocked]      devices with their resources (only the\n"
	      "                           blocked ones, as usbguard list-devices --blocked)\n"
	      "  status                   the service\n"
	      "  watch [--after SEQ] [--count N] [--type TYPE]... [--slot SLOT]...\n"
	      "        [--property KEY=VALUE]...   events as they happen (filters as\n"
	      "                           udevadm monitor: same option ORed, different ANDed)\n"
	      "  history [--slot S] [--after SEQ] [--limit N]\n"
	      "  report                   availability per slot\n"
	      "  rules | decisions        authorization policy\n"
	      "  generate-policy          a rule for each card present (rules.conf syntax)\n"
	      "Changing:\n"
	      "  add SLOT | remove SLOT | replace SLOT\n"
	      "  connect SLOT | configure SLOT | unconfigure SLOT | disconnect SLOT\n"
	      "                           cfgadm's steps: power and link only; find and\n"
	      "                           bind (connecting first); unbind and release,\n"
	      "                           power kept; power off (unconfiguring first)\n"
	      "  attention SLOT on|off|blink|locate [--timeout DURATION]\n"
	      "  led SLOT attn=on|off|blink|locate   (or led=attn,mode=MODE, as cfgadm)\n"
	      "  led SLOT power=on|off|blink   the power indicator, between state changes\n"
	      "  enable SLOT | disable SLOT   persistently\n"
	      "  authorize DEVICE|--slot SLOT [--permanent]\n"
	      "  block DEVICE [--permanent]   stop a running function: driver unbound,\n"
	      "                           no decode, no bus mastering, until authorize\n"
	      "  reject DEVICE            block it, then take its card down (as remove)\n"
	      "  trigger                  replay add events of present devices to the agents\n"
	      "  rebalance                give empty slots their reserved room back,\n"
	      "                           moving what the rebalance policy allows\n"
	      "Simulator (physical actions):\n"
	      "  sim catalog | sim insert SLOT CARD | sim pull SLOT [--surprise]\n"
	      "  sim button SLOT | sim latch SLOT open|close | sim fault SLOT\n"
	      "  sim advance DURATION | sim dma SLOT [--count N]\n"
	      "  sim traffic DEVICE [--count N]\n"
	      "\n"
	      "Socket: --socket, else $HOTSWAP_SOCKET, else " HOTSWAP_SOCKET_DEFAULT ".\n"
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

/* A string field, or "-" when absent. */
static const char *s_(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "-";
}

static bool b_(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
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
	/* Event times are chassis nanoseconds on the virtual clock and
	 * nanoseconds since the epoch on the real one (protocol: hello). */
	c->realtime = !strcmp(s_(json_object_get(h, "hello"), "clock"),
			      "realtime");
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


/*
 * A string from the daemon for a terminal: control characters, the
 * backslash and bytes outside printable ASCII escaped C-style, so a
 * chassis named "a\nb" prints on one line as a\nb and cannot forge
 * lines of output.
 */
static const char *esc(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s && n + 5 < len; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\n')
			n += (size_t)snprintf(buf + n, len - n, "\\n");
		else if (ch == '\t')
			n += (size_t)snprintf(buf + n, len - n, "\\t");
		else if (ch == '\\')
			n += (size_t)snprintf(buf + n, len - n, "\\\\");
		else if (ch < 0x20 || ch >= 0x7f)
			n += (size_t)snprintf(buf + n, len - n, "\\x%02x", ch);
		else
			buf[n++] = (char)ch;
	}
	buf[n] = '\0';
	return buf;
}

/*
 * An event time as people read it: on the real-time clock the local
 * date and time to the millisecond; on the virtual clock seconds of
 * chassis time (there is no date to give).  --json keeps the number.
 */
static const char *when(const struct ctl *c, json_int_t ns, char *buf,
			size_t len)
{
	if (c->realtime) {
		time_t secs = (time_t)(ns / 1000000000);
		struct tm tm;
		char day[40];

		if (!localtime_r(&secs, &tm) ||
		    !strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm))
			snprintf(day, sizeof(day), "%" JSON_INTEGER_FORMAT,
				 ns / 1000000000);
		snprintf(buf, len, "%s.%03d", day,
			 (int)(ns % 1000000000 / 1000000));
	} else {
		snprintf(buf, len, "%14.6f", (double)ns / 1e9);
	}
	return buf;
}

/* Slots in the order of their physical numbers: 1, 2, ..., 10, 11. */
static int by_number(const void *a, const void *b)
{
	json_int_t x = json_integer_value(
		json_object_get(*(json_t *const *)a, "number"));
	json_int_t y = json_integer_value(
		json_object_get(*(json_t *const *)b, "number"));
	int ns;

	if (x != y)
		return x < y ? -1 : 1;
	ns = strcmp(s_(*(json_t *const *)a, "slot"),
		    s_(*(json_t *const *)b, "slot"));
	return ns;
}

static void sort_slots(json_t *a)
{
	size_t n = json_array_size(a), i;
	json_t **v;

	if (n < 2 || !(v = calloc(n, sizeof(*v))))
		return;
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(a, i));
	qsort(v, n, sizeof(*v), by_number);
	json_array_clear(a);
	for (i = 0; i < n; i++)
		json_array_append_new(a, v[i]);
	free(v);
}

/*
 * cfgadm's condition (cfgadm(8): unknown, ok, failing, failed,
 * unusable): the daemon's own field when it sends one; otherwise what
 * the slot object says: an operator-disabled slot is unusable, a
 * latched power fault or the fault state is failed, a slot in service
 * is ok, anything else (empty, off, on its way) unknown.
 */
static const char *condition(json_t *s)
{
	const char *st = s_(s, "state");

	if (json_is_string(json_object_get(s, "condition")))
		return s_(s, "condition");
	if (b_(s, "disabled"))
		return "unusable";
	if (b_(s, "power_fault") || !strcmp(st, "fault"))
		return "failed";
	if (!strcmp(st, "on"))
		return "ok";
	return "unknown";
}

/* cfgadm's type of the occupant: the daemon's field when it sends one;
 * otherwise the PCI base class of the first function that is not a
 * bridge (a card with a bridge on it is typed by what is behind it),
 * "none" for an empty slot, "unknown" when no function is known. */
static const char *occupant_type(json_t *s)
{
	static const char *const base[] = {
		[0x01] = "storage", [0x02] = "network", [0x03] = "display",
		[0x04] = "multimedia", [0x05] = "memory", [0x06] = "bridge",
		[0x07] = "comm", [0x08] = "system", [0x09] = "input",
		[0x0c] = "serial-bus", [0x0d] = "wireless", [0x10] = "crypto",
		[0x11] = "signal", [0x12] = "accelerator",
	};
	json_t *devs = json_object_get(s, "devices"), *d;
	unsigned cls = 0, first = 0;
	bool have = false;
	size_t i;

	if (json_is_string(json_object_get(s, "type")))
		return s_(s, "type");
	if (!b_(s, "adapter") && !json_array_size(devs))
		return "none";
	json_array_foreach(devs, i, d) {
		if (sscanf(s_(d, "class"), "%x", &cls) != 1)
			continue;
		if (!have)
			first = cls >> 16;
		have = true;
		if (cls >> 16 != 0x06) {
			first = cls >> 16;
			break;
		}
	}
	if (!have)
		return "unknown";
	return first < sizeof(base) / sizeof(base[0]) && base[first]
		? base[first] : "other";
}

/*
 * The slot's address as sysfs has it (/sys/bus/pci/slots/N/address):
 * domain:bus:device, the bus being the secondary bus of the bridge
 * that controls the slot (its bus-number window) and the device the
 * slot's device number.  From a function in the slot if the bridge is
 * not among the devices listed.
 */
static void slot_address(json_t *s, json_t *devs, char *buf, size_t len)
{
	const char *br = s_(s, "bridge");
	json_int_t devnum = json_integer_value(json_object_get(s, "devnum"));
	json_t *d, *w;
	size_t i, j;

	if (json_is_string(json_object_get(s, "address"))) {
		snprintf(buf, len, "%s", s_(s, "address"));
		return;
	}
	json_array_foreach(devs, i, d) {
		if (strcmp(s_(d, "bdf"), br))
			continue;
		json_array_foreach(json_object_get(d, "windows"), j, w)
			if (!strcmp(s_(w, "kind"), "bus")) {
				snprintf(buf, len, "%.4s:%02x:%02x", br,
					 (unsigned)json_integer_value(
						 json_object_get(w, "start")),
					 (unsigned)devnum);
				return;
			}
	}
	d = json_array_get(json_object_get(s, "devices"), 0);
	if (d && strlen(s_(d, "bdf")) >= 10) {
		snprintf(buf, len, "%.10s", s_(d, "bdf"));
		return;
	}
	snprintf(buf, len, "-");
}

static const char *onoff(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_boolean(v) ? json_is_true(v) ? "on" : "off" : "-";
}

static void print_slots(json_t *a, json_t *devices)
{
	size_t i;
	json_t *s;

	/* TYPE fits the longest class name ("communication"). */
	printf("%-4s %-5s %-10s %-12s %-12s %-9s %-13s %-12s %-5s %-5s %-5s "
	       "%-4s %-6s %s\n", "SLOT", "KIND", "ADDRESS", "RECEPTACLE",
	       "OCCUPANT", "CONDITION", "TYPE", "STATE", "POWER", "P-IND",
	       "ATTN", "BLUE", "LATCH", "DEVICES");
	json_array_foreach(a, i, s) {
		char devs[256] = "", addr[32];
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
		slot_address(s, devices, addr, sizeof(addr));
		printf("%-4s %-5s %-10s %-12s %-12s %-9s %-13s %-12s %-5s %-5s "
		       "%-5s %-4s %-6s %s%s\n",
		       s_(s, "slot"), s_(s, "kind"), addr, s_(s, "receptacle"),
		       s_(s, "occupant"), condition(s), occupant_type(s),
		       s_(s, "state"), b_(s, "power") ? "on" : "off",
		       s_(s, "power_indicator"), s_(s, "attention"),
		       onoff(s, "blue_led"),
		       json_is_string(json_object_get(s, "latch"))
			       ? s_(s, "latch") : "-",
		       devs, b_(s, "disabled") ? "  (disabled)" : "");
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

/*
 * The Slot Power Limit (PCIe Base 7.5.3.9: value bits 14:7, scale bits
 * 16:15 as 1.0, 0.1, 0.01, 0.001; at scale 1.0 values F0h-F2h mean 250,
 * 275 and 300 W, above that reserved).
 */
static double power_limit(unsigned cap)
{
	static const double scale[4] = { 1.0, 0.1, 0.01, 0.001 };
	unsigned v = (cap >> 7) & 0xff, s = (cap >> 15) & 3;

	if (s == 0 && v >= 0xf0)
		return v > 0xf2 ? 0 : 250 + 25 * (v - 0xf0);
	return v * scale[s];
}

/*
 * As lspci -vv prints them (PCIe Base 7.5.3.9-11), so that the two can be
 * compared line for line (tests/cli/lspci_dump.sh does, on pciutils' own
 * decoding of hotswap-lspci -x).  Like lspci, "Power+" is the Power
 * Controller Control bit set, which means the slot's power is OFF.
 */
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
	printf("  SltCap:%s\n          Slot #%u, PowerLimit %gW; Interlock%c "
	       "NoCompl%c\n", b, cap >> 19, power_limit(cap),
	       cap & HS_SLTCAP_EIP ? '+' : '-', cap & HS_SLTCAP_NCCS ? '+' : '-');
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
	       ctl & HS_SLTCTL_PCC ? '+' : '-', ctl & HS_SLTCTL_EIC ? '+' : '-');
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

static void print_event(const struct ctl *c, json_t *e)
{
	const char *type = s_(e, "type");
	char t[64];

	printf("%6" JSON_INTEGER_FORMAT " %s %-17s %-4s ",
	       json_integer_value(json_object_get(e, "seq")),
	       when(c, json_integer_value(json_object_get(e, "time")), t,
		    sizeof(t)),
	       type, json_object_get(e, "slot") ? s_(e, "slot") : "");
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

/* An event field as text, for --property: strings as they are, numbers
 * in decimal, booleans as true / false; false when absent or nested. */
static bool field_text(json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	else
		return false;
	return true;
}

/*
 * watch's filters, as udevadm monitor combines its matches: several
 * values of one option are alternatives (--type slot-state --type
 * physical), different options must all hold.
 */
static bool event_matches(const struct args *a, json_t *e)
{
	char buf[512];
	unsigned i;
	bool any;

	for (i = 0, any = !a->ntypes; i < a->ntypes && !any; i++)
		any = !strcmp(s_(e, "type"), a->types[i]);
	if (!any)
		return false;
	for (i = 0, any = !a->nslots; i < a->nslots && !any; i++)
		any = json_is_string(json_object_get(e, "slot")) &&
		      !strcmp(s_(e, "slot"), a->slots[i]);
	if (!any)
		return false;
	for (i = 0, any = !a->nprops; i < a->nprops && !any; i++) {
		const char *eq = strchr(a->props[i], '=');
		char key[128];

		snprintf(key, sizeof(key), "%.*s", (int)(eq - a->props[i]),
			 a->props[i]);
		any = field_text(json_object_get(e, key), buf, sizeof(buf)) &&
		      !strcmp(buf, eq + 1);
	}
	return any;
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

	if (strcmp(verb, "add") && strcmp(verb, "enable") &&
	    strcmp(verb, "connect") && strcmp(verb, "configure")) {
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
		snprintf(q, sizeof(q), "%c%s slot %s (%s%s)?",
			 toupper((unsigned char)verb[0]), verb + 1, slot,
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
		printf("slot %s: %s, %s, %s\n", s_(r, "slot"), s_(r, "state"),
		       s_(r, "receptacle"), s_(r, "occupant"));
	json_decref(r);
	return EX_OK;
}

static int v_watch(struct ctl *c, const struct args *a)
{
	json_int_t count = a->count, seen = 0;
	json_t *r, *m;

	r = call(c, "events.subscribe", a->params);
	if (json_is_true(json_object_get(r, "gap")))
		fprintf(stderr, "hotswapctl: events before %" JSON_INTEGER_FORMAT
			" are no longer kept\n",
			json_integer_value(json_object_get(r, "first")));
	json_decref(r);
	while (count != 0 && (m = read_msg(c))) {
		json_t *e = json_object_get(m, "event");

		if (e && event_matches(a, e)) {
			if (c->json) {
				json_dumpf(e, stdout, JSON_COMPACT);
				putchar('\n');
			} else {
				print_event(c, e);
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

/* lspci -v's line for a function in a slot (from sysfs' slots/N). */
static void physical_slot(json_t *d, const char *indent)
{
	if (json_is_string(json_object_get(d, "slot")))
		printf("%sPhysical Slot: %s\n", indent, s_(d, "slot"));
}

/* A size as an operator writes it in hotswapd.conf: 64 MiB, 4 KiB. */
static void size_text(uint64_t v, char *buf, size_t len)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB",
					    "TiB" };
	unsigned u = 0;

	while (u < 4 && v >= 1024 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", v, unit[u]);
}

/* The hot-plug reservation of the slot's bridge and where each value
 * came from (hotswapd.conf(5)), then the bridge's windows as they are. */
static void print_reservation(json_t *rv)
{
	static const char *const key[] = { "buses", "io", "mem", "pref" };
	static const char *const label[] = { "buses", "I/O", "memory",
					     "prefetchable" };
	json_t *w;
	size_t i;

	if (!rv)
		return;
	if (!b_(rv, "managed")) {
		printf("  hot-plug reservation: %s\n",
		       json_is_string(json_object_get(rv, "note"))
		       ? s_(rv, "note") : "not managed");
		return;
	}
	printf("  hot-plug reservation (room for a card inserted later)%s%s:\n",
	       json_is_string(json_object_get(rv, "note")) ? ", " : "",
	       json_is_string(json_object_get(rv, "note")) ? s_(rv, "note")
							   : "");
	for (unsigned k = 0; k < 4; k++) {
		json_t *e = json_object_get(rv, key[k]);
		uint64_t v = (uint64_t)json_integer_value(
			json_object_get(e, "value"));
		char t[32];

		if (!e)
			continue;
		if (k == 0)
			snprintf(t, sizeof(t), "%" PRIu64, v);
		else
			size_text(v, t, sizeof(t));
		printf("    %-13s %-10s %s\n", label[k], t, s_(e, "from"));
	}
	if (!json_array_size(json_object_get(rv, "windows")))
		return;
	printf("  bridge windows now:");
	json_array_foreach(json_object_get(rv, "windows"), i, w) {
		uint64_t start = (uint64_t)json_integer_value(
			json_object_get(w, "start"));
		uint64_t size = (uint64_t)json_integer_value(
			json_object_get(w, "size"));
		const char *kind = s_(w, "kind");
		char t[32];

		if (!strcmp(kind, "bus")) {
			printf("%s bus %02" PRIx64 "-%02" PRIx64, i ? "," : "",
			       start, start + size - 1);
			continue;
		}
		size_text(size, t, sizeof(t));
		printf("%s %s %s", i ? "," : "",
		       !strcmp(kind, "io") ? "I/O" : !strcmp(kind, "mem")
		       ? "memory" : "prefetchable", t);
	}
	printf("\n");
}

static void v_show(struct ctl *c, json_t *r, json_t *devices)
{
	char addr[32], link[64], t[64];
	size_t j;
	json_t *d;

	slot_address(r, devices, addr, sizeof(addr));
	printf("slot %s (%s, physical %" JSON_INTEGER_FORMAT ", address %s, "
	       "bridge %s device %" JSON_INTEGER_FORMAT ")\n",
	       s_(r, "slot"), s_(r, "kind"),
	       json_integer_value(json_object_get(r, "number")), addr,
	       s_(r, "bridge"), json_integer_value(json_object_get(r, "devnum")));
	printf("  state %s, receptacle %s, occupant %s, condition %s, type %s%s\n",
	       s_(r, "state"), s_(r, "receptacle"), s_(r, "occupant"),
	       condition(r), occupant_type(r),
	       b_(r, "disabled") ? ", disabled by the operator" : "");
	if (json_is_string(json_object_get(r, "link_speed")))
		snprintf(link, sizeof(link), "up, %s GT/s x%" JSON_INTEGER_FORMAT,
			 s_(r, "link_speed"),
			 json_integer_value(json_object_get(r, "link_width")));
	else
		snprintf(link, sizeof(link), "%s", b_(r, "link") ? "up" : "down");
	printf("  power %s, power indicator %s%s, attention %s, latch %s, "
	       "link %s%s\n", b_(r, "power") ? "on" : "off",
	       s_(r, "power_indicator"),
	       !strcmp(s_(r, "power_indicator_by"), "operator")
	       ? " (the operator's)" : "", s_(r, "attention"),
	       json_is_string(json_object_get(r, "latch")) ? s_(r, "latch")
							    : "none",
	       link, b_(r, "power_fault") ? ", POWER FAULT" : "");
	if (json_is_integer(json_object_get(r, "changed"))) {
		const char *w = when(c, json_integer_value(
					     json_object_get(r, "changed")),
				     t, sizeof(t));

		printf("  last state change %s%s\n", w + strspn(w, " "),
		       c->realtime ? "" : " s (chassis clock)");
	}
	if (json_object_get(r, "blue_led"))
		printf("  blue LED %s (on the board, for the operator: lit when "
		       "the board is safe to extract, PICMG 2.1)\n",
		       b_(r, "blue_led") ? "ON: safe to extract" : "off");
	if (!strcmp(s_(r, "power_indicator_by"), "operator"))
		printf("  the power indicator was set by the operator; the slot "
		       "sets it again at its next state change\n");
	if (*s_(r, "reason") && strcmp(s_(r, "reason"), "-"))
		printf("  last problem: %s\n", s_(r, "reason"));
	print_reservation(json_object_get(r, "reservation"));
	if (json_object_get(r, "registers"))
		print_registers(json_object_get(r, "registers"));
	json_array_foreach(json_object_get(r, "devices"), j, d) {
		char name[320];

		pci_name(c, d, name, sizeof(name));
		printf("  %s %s %s%s%s%s\n", s_(d, "bdf"), name, s_(d, "name"),
		       json_object_get(d, "driver") ? " driver " : "",
		       json_object_get(d, "driver") ? s_(d, "driver")
						    : " (no driver)",
		       b_(d, "blocked") ? " BLOCKED: not authorized "
					  "(hotswapctl authorize)" : "");
		physical_slot(d, "      ");
		print_resources(d, "      ");
	}
}

/* ---- the command line ------------------------------------------------------------ */

/* The same duration syntax as hotswapd's configuration (config.c). */
static int64_t duration_ns(const char *s)
{
	uint64_t ns;

	if (hsd_parse_duration(s, &ns))
		die_usage("'%s' is not a duration (like 5s, 250ms)", s);
	return (int64_t)ns;
}

#define BIT(o) (1u << ((o) - O_AFTER))

/* Which verb takes which of the verb options. */
static const struct verb {
	const char *name;
	unsigned opts;
} verbs[] = {
	{ "list", 0 }, { "show", 0 }, { "tree", 0 },
	{ "devices", BIT(O_BLOCKED) },
	{ "status", 0 },
	{ "watch", BIT(O_AFTER) | BIT(O_COUNT) | BIT(O_TYPE) | BIT(O_SLOT) |
		   BIT(O_PROPERTY) },
	{ "history", BIT(O_SLOT) | BIT(O_AFTER) | BIT(O_LIMIT) },
	{ "report", 0 }, { "rules", 0 }, { "decisions", 0 },
	{ "add", 0 }, { "remove", 0 }, { "replace", 0 },
	{ "attention", BIT(O_TIMEOUT) }, { "led", 0 },
	{ "enable", 0 }, { "disable", 0 },
	{ "connect", 0 }, { "configure", 0 }, { "unconfigure", 0 },
	{ "disconnect", 0 },
	{ "authorize", BIT(O_SLOT) | BIT(O_PERMANENT) },
	{ "rebalance", 0 },
	{ "block", BIT(O_PERMANENT) }, { "reject", 0 },
	{ "generate-policy", 0 }, { "trigger", 0 },
	{ "sim", BIT(O_SURPRISE) | BIT(O_COUNT) },
	{ NULL, 0 },
};

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, O_JSON },
	{ "yes", no_argument, NULL, O_YES },
	{ "socket", required_argument, NULL, O_SOCKET },
	{ "help", no_argument, NULL, O_HELP },
	{ "version", no_argument, NULL, O_VERSION },
	{ "after", required_argument, NULL, O_AFTER },
	{ "count", required_argument, NULL, O_COUNT },
	{ "limit", required_argument, NULL, O_LIMIT },
	{ "slot", required_argument, NULL, O_SLOT },
	{ "type", required_argument, NULL, O_TYPE },
	{ "property", required_argument, NULL, O_PROPERTY },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "permanent", no_argument, NULL, O_PERMANENT },
	{ "blocked", no_argument, NULL, O_BLOCKED },
	{ "surprise", no_argument, NULL, O_SURPRISE },
	{ NULL, 0, NULL, 0 },
};

static const char *opt_name(int id)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (o->val == id)
			return o->name;
	return "?";
}

static void add_filter(const char **v, unsigned *n, const char *opt,
		       const char *val)
{
	if (*n == MAX_FILTERS)
		die_usage("--%s: at most %d", opt, MAX_FILTERS);
	v[(*n)++] = val;
}

/*
 * Options may stand before or after the verb (getopt_long permutes);
 * each verb option is checked against the verb afterwards, so a wrong
 * or unknown option is a usage error before the daemon is contacted.
 */
static void parse(struct ctl *c, struct args *a, int argc, char **argv)
{
	const struct verb *v;
	int o;

	opterr = 0;
	while ((o = getopt_long(argc, argv, ":yhV", long_opts, NULL)) != -1) {
		if (o >= O_AFTER) {
			if ((a->seen & BIT(o)) && o != O_TYPE && o != O_PROPERTY &&
			    !(o == O_SLOT && a->nslots))
				die_usage("--%s given twice", opt_name(o));
			a->seen |= BIT(o);
		}
		switch (o) {
		case O_JSON:
			c->json = true;
			break;
		case O_YES:
			c->yes = true;
			break;
		case O_SOCKET:
			c->socket = optarg;
			break;
		case O_HELP:
			usage(stdout);
			exit(EX_OK);
		case O_VERSION:
			printf("hotswapctl (hotswap) %s\n", HOTSWAP_VERSION);
			exit(EX_OK);
		case O_AFTER:
			a->after = num_arg("--after", optarg);
			break;
		case O_COUNT:
			a->count = num_arg("--count", optarg);
			break;
		case O_LIMIT:
			a->limit = num_arg("--limit", optarg);
			break;
		case O_SLOT:
			a->slot = optarg;
			add_filter(a->slots, &a->nslots, "slot", optarg);
			break;
		case O_TYPE:
			add_filter(a->types, &a->ntypes, "type", optarg);
			break;
		case O_PROPERTY:
			if (!strchr(optarg, '=') || optarg[0] == '=')
				die_usage("--property wants KEY=VALUE, got '%s'",
					  optarg);
			add_filter(a->props, &a->nprops, "property", optarg);
			break;
		case O_TIMEOUT:
			a->timeout_ns = duration_ns(optarg);
			if (a->timeout_ns <= 0)
				die_usage("--timeout wants a positive duration");
			break;
		case O_PERMANENT:
		case O_BLOCKED:
		case O_SURPRISE:
			break;
		case ':':
			die_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			die_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind == argc)
		die_usage("which verb? (list, show, add, remove, ...)");
	a->verb = argv[optind];
	a->pos = argv + optind + 1;
	a->npos = argc - optind - 1;
	for (v = verbs; v->name && strcmp(v->name, a->verb); v++)
		;
	if (!v->name)
		die_usage("unknown verb '%s'", a->verb);
	for (o = O_AFTER; o <= O_SURPRISE; o++)
		if ((a->seen & BIT(o)) && !(v->opts & BIT(o)))
			die_usage("%s: no option --%s", a->verb, opt_name(o));
}

static void need(const struct args *a, int n, const char *args)
{
	if (a->npos != n)
		die_usage("%s: usage: hotswapctl %s%s%s", a->verb, a->verb,
			  *args ? " " : "", args);
}

static bool is_indicator(const char *m)
{
	return !strcmp(m, "on") || !strcmp(m, "off") || !strcmp(m, "blink") ||
	       !strcmp(m, "locate");
}

/*
 * led SLOT SPEC: the indicator functions of cfgadm's -x led=...,mode=...
 * and ledctl's attn=MODE.  attn is the attention indicator; power the
 * power indicator, which the operator may set between the slot's state
 * changes where the hardware has one (the daemon says when not); the
 * CompactPCI blue LED follows the slot's state only (PICMG 2.1 4.4:
 * "safe to extract"), so asking for it is a usage error.  *power is set
 * for the power indicator.
 */
static const char *led_mode(const char *spec, bool *power)
{
	static char mode[16];
	const char *m = NULL;

	*power = false;
	if (!strncmp(spec, "attn=", 5))
		m = spec + 5;
	else if (!strncmp(spec, "led=attn,mode=", 14))
		m = spec + 14;
	else if (!strncmp(spec, "power=", 6))
		m = spec + 6, *power = true;
	else if (!strncmp(spec, "led=power,mode=", 15))
		m = spec + 15, *power = true;
	else if (!strncmp(spec, "blue=", 5) || !strncmp(spec, "led=blue", 8))
		die_usage("led: '%s': the blue LED says when a CompactPCI "
			  "board is safe to extract and follows the slot's "
			  "state only", spec);
	else
		die_usage("led: '%s' is not attn=MODE, power=MODE or "
			  "led=attn|power,mode=MODE", spec);
	if (!is_indicator(m))
		die_usage("led: mode '%s' is not on, off, blink or locate", m);
	if (*power && !strcmp(m, "locate"))
		die_usage("led: locate is the attention indicator's "
			  "(attn=locate)");
	snprintf(mode, sizeof(mode), "%s", m);
	return mode;
}

/* The request a verb makes, checked and built before connecting. */
static void prepare(struct args *a)
{
	const char *v = a->verb;
	char **p = a->pos;

	if (!strcmp(v, "list") || !strcmp(v, "tree") || !strcmp(v, "devices") ||
	    !strcmp(v, "status") || !strcmp(v, "report") ||
	    !strcmp(v, "rules") || !strcmp(v, "decisions") ||
	    !strcmp(v, "rebalance") || !strcmp(v, "generate-policy") ||
	    !strcmp(v, "trigger")) {
		need(a, 0, "");
		/* USBGuard's list-devices --blocked. */
		if (a->seen & BIT(O_BLOCKED))
			a->params = json_pack("{s:b}", "blocked", 1);
	} else if (!strcmp(v, "reject")) {
		need(a, 1, "DEVICE");
		a->method = "device.reject";
		a->params = json_pack("{s:s}", "device", p[0]);
	} else if (!strcmp(v, "block")) {
		need(a, 1, "DEVICE [--permanent]");
		a->method = "device.block";
		a->params = json_pack("{s:s}", "device", p[0]);
		if (a->seen & BIT(O_PERMANENT))
			json_object_set_new(a->params, "permanent", json_true());
	} else if (!strcmp(v, "show")) {
		need(a, 1, "SLOT");
		a->method = "slot.show";
		a->params = slot_param(p[0]);
	} else if (!strcmp(v, "watch")) {
		need(a, 0, "[--after SEQ] [--count N] [--type T] [--slot S] "
			   "[--property K=V]");
		a->method = "events.subscribe";
		a->params = json_pack("{s:I}", "after", (json_int_t)(
			a->seen & BIT(O_AFTER) ? a->after : -1));
		if (!(a->seen & BIT(O_COUNT)))
			a->count = -1;
	} else if (!strcmp(v, "history")) {
		need(a, 0, "[--slot S] [--after SEQ] [--limit N]");
		a->method = "events.history";
		a->params = json_object();
		if (a->slot)
			json_object_set_new(a->params, "slot", json_string(a->slot));
		if (a->seen & BIT(O_AFTER))
			json_object_set_new(a->params, "after",
					    json_integer(a->after));
		if (a->seen & BIT(O_LIMIT))
			json_object_set_new(a->params, "limit",
					    json_integer(a->limit));
	} else if (!strcmp(v, "add") || !strcmp(v, "remove") ||
		   !strcmp(v, "replace") || !strcmp(v, "disable") ||
		   !strcmp(v, "enable") || !strcmp(v, "connect") ||
		   !strcmp(v, "configure") || !strcmp(v, "unconfigure") ||
		   !strcmp(v, "disconnect")) {
		need(a, 1, "SLOT");
	} else if (!strcmp(v, "attention") || !strcmp(v, "led")) {
		const char *mode;
		bool power = false;

		if (!strcmp(v, "led")) {
			need(a, 2, "SLOT attn=on|off|blink|locate | "
				   "power=on|off|blink");
			mode = led_mode(p[1], &power);
			if (power && a->timeout_ns)
				die_usage("led: --timeout goes with attn=locate");
		} else {
			need(a, 2, "SLOT on|off|blink|locate [--timeout DURATION]");
			mode = p[1];
			if (!is_indicator(mode))
				die_usage("attention: '%s' is not on, off, blink "
					  "or locate", mode);
			if (a->timeout_ns && strcmp(mode, "locate"))
				die_usage("attention: --timeout goes with locate");
		}
		/* ledctl's locate: a blink the daemon ends after timeout_ns. */
		a->method = power ? "slot.power_indicator" : "slot.attention";
		a->params = json_pack("{s:s, s:s}", "slot", p[0], "indicator",
				      mode);
		if (a->timeout_ns)
			json_object_set_new(a->params, "timeout_ns",
					    json_integer(a->timeout_ns));
	} else if (!strcmp(v, "authorize")) {
		if (a->npos > 1 || (a->npos == 1) == !!a->slot)
			die_usage("authorize: usage: hotswapctl authorize "
				  "DEVICE|--slot SLOT [--permanent]");
		a->method = "authorize";
		a->params = json_object();
		json_object_set_new(a->params, a->slot ? "slot" : "device",
				    json_string(a->slot ? a->slot : p[0]));
		if (a->seen & BIT(O_PERMANENT))
			json_object_set_new(a->params, "permanent", json_true());
	} else {
		const char *w = a->npos ? p[0] : NULL;
		int n = a->npos;
		static char method[32];

		if (!w)
			die_usage("sim: which action? (catalog, insert, pull, "
				  "button, latch, fault, advance, dma, traffic)");
		if ((a->seen & BIT(O_SURPRISE)) && strcmp(w, "pull"))
			die_usage("sim %s: no option --surprise", w);
		if ((a->seen & BIT(O_COUNT)) && strcmp(w, "dma") &&
		    strcmp(w, "traffic"))
			die_usage("sim %s: no option --count", w);
		if (!strcmp(w, "catalog") && n == 1)
			;
		else if (!strcmp(w, "insert") && n == 3)
			a->params = json_pack("{s:s, s:s}", "slot", p[1], "card",
					      p[2]);
		else if (!strcmp(w, "pull") && n == 2)
			a->params = json_pack("{s:s, s:b}", "slot", p[1],
					      "surprise",
					      !!(a->seen & BIT(O_SURPRISE)));
		else if ((!strcmp(w, "button") || !strcmp(w, "fault")) && n == 2)
			a->params = slot_param(p[1]);
		else if (!strcmp(w, "latch") && n == 3 &&
			 (!strcmp(p[2], "open") || !strcmp(p[2], "close")))
			a->params = json_pack("{s:s, s:b}", "slot", p[1], "open",
					      !strcmp(p[2], "open"));
		else if (!strcmp(w, "advance") && n == 2)
			a->params = json_pack("{s:I}", "ns",
					      (json_int_t)duration_ns(p[1]));
		else if ((!strcmp(w, "dma") || !strcmp(w, "traffic")) && n == 2)
			a->params = json_pack(
				"{s:s, s:I}", !strcmp(w, "dma") ? "slot" : "device",
				p[1], "count", (json_int_t)(
					a->seen & BIT(O_COUNT) ? a->count
					: !strcmp(w, "dma") ? 16 : 8));
		else
			die_usage("sim %s: wrong arguments (see hotswapctl "
				  "--help)", w);
		snprintf(method, sizeof(method), "sim.%s", w);
		a->method = method;
	}
}

static void print_sim(struct ctl *c, const char *what, json_t *r)
{
	size_t i;
	json_t *e;

	if (c->json) {
		print_json(r);
	} else if (!strcmp(what, "catalog")) {
		json_array_foreach(r, i, e)
			printf("%-22s %s\n", s_(e, "card"), s_(e, "description"));
	} else if (!strcmp(what, "advance")) {
		printf("clock at %.6f s\n", (double)json_integer_value(
			json_object_get(r, "chassis_time")) / 1e9);
	} else if (!strcmp(what, "dma")) {
		json_int_t n = json_integer_value(json_object_get(r, "attempts"));

		printf("%" JSON_INTEGER_FORMAT " DMA attempt%s, %" JSON_INTEGER_FORMAT
		       " blocked, %" JSON_INTEGER_FORMAT " reached memory\n",
		       n, n == 1 ? "" : "s",
		       json_integer_value(json_object_get(r, "blocked")),
		       json_integer_value(json_object_get(r, "through")));
	} else if (!strcmp(what, "traffic")) {
		json_int_t n = json_integer_value(json_object_get(r, "submitted"));

		printf("%" JSON_INTEGER_FORMAT " request%s submitted, %"
		       JSON_INTEGER_FORMAT " in flight\n", n, n == 1 ? "" : "s",
		       json_integer_value(json_object_get(r, "in_flight")));
	} else {
		printf("slot %s: %s%s%s\n", s_(r, "slot"),
		       b_(r, "present") ? "card " : "empty",
		       b_(r, "present") ? s_(r, "card") : "",
		       b_(r, "latch_open") ? ", latch open" : "");
	}
}

int main(int argc, char **argv)
{
	struct ctl c = { 0 };
	struct args a = { 0 };
	const char *verb;
	json_t *r = NULL, *devs = NULL;
	char e1[512], e2[512];
	size_t j;
	json_t *d;

	c.socket = getenv("HOTSWAP_SOCKET");
	if (!c.socket || !*c.socket)
		c.socket = HOTSWAP_SOCKET_DEFAULT;
	parse(&c, &a, argc, argv);
	prepare(&a);
	verb = a.verb;

	signal(SIGPIPE, SIG_IGN);
	connect_daemon(&c);
	json_decref(c.hello);   /* its protocol number and clock were needed */
	c.hello = NULL;
	if (!c.json && (!strcmp(verb, "show") || !strcmp(verb, "tree") ||
			!strcmp(verb, "devices"))) {
		/* Names from pci.ids. */
		c.pacc = pci_alloc();
		if (c.pacc)
			pci_init(c.pacc);
	}

	if (!strcmp(verb, "list")) {
		r = call(&c, "slot.list", NULL);
		sort_slots(r);
		if (c.json) {
			print_json(r);
		} else {
			devs = call(&c, "device.list", NULL);
			print_slots(r, devs);
		}
	} else if (!strcmp(verb, "show")) {
		r = call(&c, a.method, a.params);
		if (c.json) {
			print_json(r);
		} else {
			devs = call(&c, "device.list", NULL);
			v_show(&c, r, devs);
		}
	} else if (!strcmp(verb, "tree") || !strcmp(verb, "devices")) {
		r = call(&c, "device.list", a.params);
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
				physical_slot(d, "    ");
				print_resources(d, "    ");
			}
	} else if (!strcmp(verb, "status")) {
		r = call(&c, "status", NULL);
		if (c.json) {
			print_json(r);
		} else {
			json_t *cl = json_object_get(r, "clients");

			printf("hotswapd on %s: chassis %s, %s clock at %.6f s, "
			       "%" JSON_INTEGER_FORMAT " slots, %"
			       JSON_INTEGER_FORMAT " devices, last event %"
			       JSON_INTEGER_FORMAT,
			       esc(s_(r, "socket"), e1, sizeof(e1)),
			       esc(s_(r, "chassis"), e2, sizeof(e2)),
			       s_(r, "clock"),
			       (double)json_integer_value(json_object_get(r, "chassis_time")) / 1e9,
			       json_integer_value(json_object_get(r, "slots")),
			       json_integer_value(json_object_get(r, "devices")),
			       json_integer_value(json_object_get(r, "seq")));
			/* One line: clients now, and those cut off for
			 * flooding or not reading. */
			if (cl)
				printf(", %" JSON_INTEGER_FORMAT " clients (%"
				       JSON_INTEGER_FORMAT " cut off)",
				       json_integer_value(json_object_get(cl, "connected")),
				       json_integer_value(json_object_get(cl, "cut_off")));
			printf("\n");
		}
	} else if (!strcmp(verb, "watch")) {
		return v_watch(&c, &a);
	} else if (!strcmp(verb, "history")) {
		r = call(&c, a.method, a.params);
		if (c.json)
			print_json(r);
		else
			json_array_foreach(r, j, d)
				print_event(&c, d);
	} else if (!strcmp(verb, "report")) {
		json_t *s;

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
				char m[16] = "-", n[16] = "-";

				if (json_is_number(mttr))
					snprintf(m, sizeof(m), "%.3f s",
						 json_number_value(mttr));
				/* Never out: the figure is a lower bound. */
				if (json_is_number(nines))
					snprintf(n, sizeof(n), "%s%.2f",
						 json_is_true(json_object_get(
							 s, "nines_lower_bound"))
							 ? ">" : "",
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
		r = call(&c, "policy.rules", NULL);
		if (c.json) {
			print_json(r);
		} else {
			json_array_foreach(json_object_get(r, "rules"), j, d)
				printf("%s\n", json_string_value(d));
			printf("# default for inserted cards: %s\n"
			       "# default for cards present at start: %s\n",
			       s_(r, "default_inserted"), s_(r, "default_present"));
		}
	} else if (!strcmp(verb, "decisions")) {
		r = call(&c, "policy.decisions", NULL);
		if (c.json)
			print_json(r);
		else
			json_array_foreach(r, j, d)
				printf("%-5s %-6s %s %s: %s\n",
				       json_object_get(d, "slot") ? s_(d, "slot") : "",
				       s_(d, "target"), s_(d, "bdf"), s_(d, "ids"),
				       s_(d, "why"));
	} else if (!strcmp(verb, "add") || !strcmp(verb, "remove") ||
		   !strcmp(verb, "replace") || !strcmp(verb, "disable") ||
		   !strcmp(verb, "enable") || !strcmp(verb, "connect") ||
		   !strcmp(verb, "configure") || !strcmp(verb, "unconfigure") ||
		   !strcmp(verb, "disconnect")) {
		char method[32];

		snprintf(method, sizeof(method), "slot.%s", verb);
		return v_operator(&c, verb, method, a.pos[0]);
	} else if (!strcmp(verb, "attention") || !strcmp(verb, "led")) {
		char asked[16];

		snprintf(asked, sizeof(asked), "%s", json_string_value(
				 json_object_get(a.params, "indicator")));
		r = call(&c, a.method, a.params);
		if (c.json)
			print_json(r);
		else if (!strcmp(a.method, "slot.power_indicator"))
			/* The daemon has asked; the controller completes it
			 * (the virtual clock: after sim advance). */
			printf("slot %s: power indicator set to %s; the slot "
			       "sets it again at its next state change\n",
			       s_(r, "slot"), asked);
		else
			printf("slot %s: attention indicator %s\n",
			       s_(r, "slot"), s_(r, "attention"));
	} else if (!strcmp(verb, "authorize")) {
		r = call(&c, a.method, a.params);
		if (c.json)
			print_json(r);
		else
			json_array_foreach(r, j, d)
				printf("%s: %s%s%s\n", s_(d, "bdf"), s_(d, "result"),
				       json_object_get(d, "driver") ? "; driver " : "",
				       json_object_get(d, "driver") ? s_(d, "driver") : "");
	} else if (!strcmp(verb, "block")) {
		r = call(&c, a.method, a.params);
		if (c.json)
			print_json(r);
		else
			printf("%s%s%s: blocked (no driver, no decode, no bus "
			       "mastering) until hotswapctl authorize\n",
			       s_(r, "bdf"), json_object_get(r, "name") ? " " : "",
			       json_object_get(r, "name") ? s_(r, "name") : "");
	} else if (!strcmp(verb, "reject")) {
		r = call(&c, a.method, a.params);
		if (c.json)
			print_json(r);
		else
			printf("slot %s: %s: the rejected function's card is "
			       "down\n", s_(r, "slot"), s_(r, "state"));
	} else if (!strcmp(verb, "generate-policy")) {
		r = call(&c, "policy.generate", NULL);
		if (c.json) {
			print_json(r);
		} else {
			printf("# hotswap rules generated from the cards present "
			       "(docs/policy.md)\n");
			json_array_foreach(json_object_get(r, "rules"), j, d)
				printf("%s\n", json_string_value(d));
		}
	} else if (!strcmp(verb, "trigger")) {
		json_int_t n;

		r = call(&c, "agents.trigger", NULL);
		n = json_integer_value(json_object_get(r, "triggered"));
		if (c.json)
			print_json(r);
		else
			printf("%" JSON_INTEGER_FORMAT " add event%s replayed to "
			       "the agents\n", n, n == 1 ? "" : "s");
	} else if (!strcmp(verb, "rebalance")) {
		r = call(&c, "rebalance", NULL);
		if (c.json)
			print_json(r);
		else
			printf("%s\n", s_(r, "result"));
	} else {
		r = call(&c, a.method, a.params);
		print_sim(&c, a.pos[0], r);
	}
	json_decref(r);
	json_decref(devs);
	if (c.pacc)
		pci_cleanup(c.pacc);
	return EX_OK;
}
