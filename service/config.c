/*
 * config.c - hotswapd's configuration file and defaults.
 *
 * Owns: the table of keys (name, type, where it goes), parsing values,
 * and the defaults for root and for an unprivileged user.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#ifndef HOTSWAP_SYSCONFDIR
#define HOTSWAP_SYSCONFDIR "/etc"
#endif
#ifndef HOTSWAP_LOCALSTATEDIR
#define HOTSWAP_LOCALSTATEDIR "/var"
#endif
#ifndef HOTSWAP_RUNSTATEDIR
#define HOTSWAP_RUNSTATEDIR "/run"
#endif

enum kind { K_STR, K_BOOL, K_DUR, K_UINT, K_ENUM };

struct key {
	const char *name;
	enum kind kind;
	size_t off, size;            /* into struct hsd_config */
	const char *const *choices;  /* K_ENUM: value i sets the bool to i */
};

static const char *const clock_choices[] = { "realtime", "virtual", NULL };
static const char *const target_choices[] = { "allow", "block", NULL };
/* slot: keyed by slot, path and ids; card (alias serial): by the Device
 * Serial Number when the card has one, else as slot. */
static const char *const naming_choices[] = { "slot", "card", "serial",
					      NULL };
static const char *const log_choices[] = { "stderr", "syslog", NULL };
static const char *const move_choices[] = { "never", "capable", NULL };
static const char *const level_choices[] = { "err", "warning", "notice",
					     "info", "debug", NULL };

#define F(m) offsetof(struct hsd_config, m), sizeof(((struct hsd_config *)0)->m)
static const struct key keys[] = {
	{ "backend", K_STR, F(backend), NULL },
	/* The key's name before back-ends existed; still read. */
	{ "platform", K_STR, F(backend), NULL },
	{ "topology", K_STR, F(topology), NULL },
	{ "catalog", K_STR, F(catalog), NULL },
	{ "clock", K_ENUM, F(virtual_clock), clock_choices },
	{ "socket", K_STR, F(socket), NULL },
	{ "socket_group", K_STR, F(socket_group), NULL },
	{ "read_only_others", K_BOOL, F(read_only_others), NULL },
	{ "state_dir", K_STR, F(state_dir), NULL },
	{ "runtime_dir", K_STR, F(runtime_dir), NULL },
	{ "agents_dir", K_STR, F(agents_dir), NULL },
	{ "agent_timeout", K_DUR, F(agent_timeout_ms), NULL },
	{ "rules", K_STR, F(rules), NULL },
	{ "default_inserted", K_ENUM, F(block_inserted), target_choices },
	{ "default_present", K_ENUM, F(block_present), target_choices },
	{ "naming", K_ENUM, F(name_by_serial), naming_choices },
	{ "poll", K_BOOL, F(poll), NULL },
	{ "poll_period", K_DUR, F(poll_period_ns), NULL },
	{ "button_window", K_DUR, F(button_window_ns), NULL },
	{ "log", K_ENUM, F(syslog), log_choices },
	{ "log_level", K_ENUM, F(log_level), level_choices },
	{ "history_keep", K_UINT, F(history_keep), NULL },
	{ "pidfile", K_STR, F(pidfile), NULL },
	{ "rebalance", K_ENUM, F(rebalance_capable), move_choices },
	{ "rebalance_max_moved", K_UINT, F(rebalance_max_moved), NULL },
	{ "rebalance_pinned_slots", K_STR, F(rebalance_pinned_slots), NULL },
	{ "rebalance_pinned_classes", K_STR, F(rebalance_pinned_classes), NULL },
	{ "http_listen", K_STR, F(http_listen), NULL },
	{ "http_token", K_STR, F(http_token), NULL },
	{ "web_dir", K_STR, F(web_dir), NULL },
};
#undef F

void hsd_config_defaults(struct hsd_config *c)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char base[HSD_PATH_MAX - 32];

	memset(c, 0, sizeof(*c));
	snprintf(c->backend, sizeof(c->backend), "sim");
	c->agent_timeout_ms = 10000;
	c->block_inserted = false;
	c->block_present = false;
	c->poll_period_ns = 1000000000ull;
	c->button_window_ns = 5000000000ull;
	c->log_level = LOG_INFO - LOG_ERR;   /* index into level_choices */
	c->history_keep = 100000;
	c->rebalance_capable = true;
	c->name_by_serial = true;    /* naming = card */
	if (geteuid() == 0) {
		snprintf(c->runtime_dir, sizeof(c->runtime_dir),
			 HOTSWAP_RUNSTATEDIR "/hotswap");
		snprintf(c->state_dir, sizeof(c->state_dir),
			 HOTSWAP_LOCALSTATEDIR "/lib/hotswap");
		snprintf(c->agents_dir, sizeof(c->agents_dir),
			 HOTSWAP_SYSCONFDIR "/hotswap/agents.d");
		snprintf(c->rules, sizeof(c->rules),
			 HOTSWAP_SYSCONFDIR "/hotswap/rules.conf");
		snprintf(c->socket_group, sizeof(c->socket_group), "hotswap");
	} else {
		if (xdg && *xdg)
			snprintf(base, sizeof(base), "%.400s/hotswap", xdg);
		else
			snprintf(base, sizeof(base), "/tmp/hotswap-%u",
				 (unsigned)geteuid());
		snprintf(c->runtime_dir, sizeof(c->runtime_dir), "%s", base);
		snprintf(c->state_dir, sizeof(c->state_dir), "%s/state", base);
		snprintf(c->agents_dir, sizeof(c->agents_dir), "%s/agents.d",
			 base);
	}
	snprintf(c->socket, sizeof(c->socket), "%.*s/hotswapd.sock",
		 HSD_PATH_MAX - 32, c->runtime_dir);
}

int hsd_parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	double v;
	double mul = 1e6;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || v < 0 || v != v)
		return -EINVAL;
	if (!strcmp(end, "") || !strcmp(end, "ms"))
		mul = 1e6;
	else if (!strcmp(end, "s"))
		mul = 1e9;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		mul = 60e9;
	else if (!strcmp(end, "us"))
		mul = 1e3;
	else if (!strcmp(end, "ns"))
		mul = 1;
	else
		return -EINVAL;
	if (v * mul > 1e18)
		return -ERANGE;
	*ns = (uint64_t)(v * mul + 0.5);
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- hot-plug reservations ------------------------------------------------ */

static const char *const resv_names[HSD_RESV_COUNT] = { "buses", "io", "mem",
							"pref" };

const char *hsd_reserve_name(unsigned r)
{
	return r < HSD_RESV_COUNT ? resv_names[r] : "?";
}

const struct hsd_reserve_cfg *hsd_config_reserve(const struct hsd_config *c,
						 int slot)
{
	for (unsigned i = 0; i < c->nreserve; i++)
		if (c->reserve[i].slot == slot)
			return &c->reserve[i];
	return NULL;
}

/* A size: bytes, or with a binary suffix K, M, G, T (KiB ... also read),
 * decimal or 0x hex. */
static int parse_size(const char *v, uint64_t *out)
{
	static const char *const sfx[] = { "K", "M", "G", "T" };
	unsigned long long u;
	char *end;

	errno = 0;
	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	u = strtoull(v, &end, 0);
	if (errno)
		return -ERANGE;
	if (*end) {
		unsigned i;

		for (i = 0; i < 4; i++)
			if (!strcasecmp(end, sfx[i]) ||
			    (!strncasecmp(end, sfx[i], 1) &&
			     !strcasecmp(end + 1, "iB")))
				break;
		if (i == 4)
			return -EINVAL;
		if (u > (~0ull >> (10 * (i + 1))))
			return -ERANGE;
		u <<= 10 * (i + 1);
	}
	*out = u;
	return 0;
}

/*
 * "reserve.RES" and "slot.N.reserve.RES": 1 when name is one (set, or
 * -EINVAL with err), 0 when it is some other key.  *entry and *res say
 * which value was set, for hsd_config_load to note the line.
 */
static int reserve_set(struct hsd_config *c, const char *name, const char *v,
		       int *entry, unsigned *res, char *err, size_t errlen)
{
	const char *r = NULL;
	struct hsd_reserve_cfg *e = NULL;
	long slot = -1;
	uint64_t u;
	unsigned k;
	int rc;

	if (!strncmp(name, "reserve.", 8)) {
		r = name + 8;
	} else if (!strncmp(name, "slot.", 5)) {
		char *end;

		if (!isdigit((unsigned char)name[5])) {
			snprintf(err, errlen, "%s: '%.*s' is not a physical "
				 "slot number (slot.N.reserve.RES)", name,
				 (int)strcspn(name + 5, "."), name + 5);
			return -EINVAL;
		}
		slot = strtol(name + 5, &end, 10);
		if (slot > 65535 || strncmp(end, ".reserve.", 9)) {
			snprintf(err, errlen, "unknown key '%s' (a slot's keys "
				 "are slot.N.reserve.buses, .io, .mem, .pref; "
				 "N a physical slot number up to 65535)", name);
			return -EINVAL;
		}
		r = end + 9;
	} else {
		return 0;
	}
	for (k = 0; k < HSD_RESV_COUNT; k++)
		if (!strcmp(r, resv_names[k]))
			break;
	if (k == HSD_RESV_COUNT) {
		snprintf(err, errlen, "%s: '%s' is not a reservation: one of "
			 "buses, io, mem, pref", name, r);
		return -EINVAL;
	}
	if (k == HSD_RESV_BUSES) {
		char *end;

		errno = 0;
		u = strtoull(v, &end, 10);
		if (!isdigit((unsigned char)*v) || *end || errno || u > 255) {
			snprintf(err, errlen, "%s: '%s' is not a number of "
				 "buses (0 to 255)", name, v);
			return -EINVAL;
		}
	} else {
		rc = parse_size(v, &u);
		/* I/O and non-prefetchable memory windows are 32-bit
		 * (PCI-to-PCI Bridge 3.2, 3.2.5.6 and 3.2.5.8). */
		if (rc || (k != HSD_RESV_PREF && u > (1ull << 32))) {
			snprintf(err, errlen, "%s: '%s' is not a size%s (like "
				 "4096, 4K, 64M, 1G)", name, v,
				 !rc ? " of at most 4G" : "");
			return -EINVAL;
		}
	}
	for (unsigned i = 0; i < c->nreserve; i++)
		if (c->reserve[i].slot == (int)slot)
			e = &c->reserve[i];
	if (!e) {
		if (c->nreserve == HSD_RESERVE_MAX) {
			/* The default (reserve.*) takes an entry too. */
			snprintf(err, errlen, "%s: too many reservations: at "
				 "most %d entries, the default reserve.* and "
				 "one per slot", name, HSD_RESERVE_MAX);
			return -EINVAL;
		}
		e = &c->reserve[c->nreserve++];
		memset(e, 0, sizeof(*e));
		e->slot = (int)slot;
	}
	e->set |= 1u << k;
	e->v[k] = u;
	e->line[k] = 0;
	*entry = (int)(e - c->reserve);
	*res = k;
	return 1;
}

static int config_set(struct hsd_config *c, const char *name, const char *v,
		      int *rentry, unsigned *rres, char *err, size_t errlen)
{
	const struct key *k = NULL;
	char *at;
	uint64_t ns;
	bool b;
	int rc;

	*rentry = -1;
	if ((rc = reserve_set(c, name, v, rentry, rres, err, errlen)))
		return rc < 0 ? rc : 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].name, name))
			k = &keys[i];
	if (!k) {
		snprintf(err, errlen, "unknown key '%s'", name);
		return -EINVAL;
	}
	at = (char *)c + k->off;
	switch (k->kind) {
	case K_STR:
		if (strlen(v) >= k->size) {
			snprintf(err, errlen, "%s: value longer than %zu bytes",
				 name, k->size - 1);
			return -EINVAL;
		}
		memcpy(at, v, strlen(v) + 1);
		return 0;
	case K_BOOL:
		if (parse_bool(v, &b)) {
			snprintf(err, errlen, "%s: '%s' is not yes or no", name,
				 v);
			return -EINVAL;
		}
		*(bool *)at = b;
		return 0;
	case K_DUR:
		if (hsd_parse_duration(v, &ns)) {
			snprintf(err, errlen, "%s: '%s' is not a duration "
				 "(like 5s, 250ms, 2m)", name, v);
			return -EINVAL;
		}
		if (k->size == sizeof(unsigned)) {
			if (ns / 1000000 > 3600000) {
				snprintf(err, errlen, "%s: at most 1 hour", name);
				return -EINVAL;
			}
			/* Kept in ms, where 0 means no limit: 500us must
			 * not become that. */
			if (ns && ns < 1000000) {
				snprintf(err, errlen, "%s: '%s' is less than "
					 "1ms (0 means no limit)", name, v);
				return -EINVAL;
			}
			*(unsigned *)at = (unsigned)(ns / 1000000);
		} else {
			/* A poll period under 1ms keeps the daemon busy
			 * polling (0 re-armed the timer at once, for ever). */
			if (!strcmp(k->name, "poll_period") && ns < 1000000) {
				snprintf(err, errlen, "%s: '%s' is less than "
					 "1ms", name, v);
				return -EINVAL;
			}
			*(uint64_t *)at = ns;
		}
		return 0;
	case K_UINT: {
		char *end;
		unsigned long long u;

		errno = 0;
		u = strtoull(v, &end, 10);
		if (!*v || *end || errno || *v == '-') {
			snprintf(err, errlen, "%s: '%s' is not a number", name, v);
			return -EINVAL;
		}
		*(uint64_t *)at = u;
		return 0;
	}
	case K_ENUM:
		for (int i = 0; k->choices[i]; i++)
			if (!strcmp(k->choices[i], v)) {
				if (k->size == sizeof(bool))
					*(bool *)at = i != 0;
				else
					*(int *)at = i;
				return 0;
			}
		{
			size_t n = (size_t)snprintf(err, errlen,
						    "%s: '%s' is not one of",
						    name, v);
			for (int i = 0; k->choices[i] && n < errlen; i++)
				n += (size_t)snprintf(err + n, errlen - n,
						      "%s %s", i ? "," : "",
						      k->choices[i]);
		}
		return -EINVAL;
	}
	return -EINVAL;
}

int hsd_config_set(struct hsd_config *c, const char *name, const char *v,
		   char *err, size_t errlen)
{
	unsigned r;
	int e;

	return config_set(c, name, v, &e, &r, err, errlen);
}

int hsd_config_pins(const struct hsd_config *c, uint16_t *slots,
		    unsigned *nslots, uint32_t *codes, uint32_t *masks,
		    unsigned *nclasses, unsigned max, char *err, size_t errlen)
{
	char buf[256], *tok, *save = NULL;

	*nslots = *nclasses = 0;
	snprintf(buf, sizeof(buf), "%s", c->rebalance_pinned_slots);
	for (tok = strtok_r(buf, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		char *end;
		unsigned long v = strtoul(tok, &end, 10);

		if (*end || v > 65535 || *tok == '-') {
			snprintf(err, errlen, "rebalance_pinned_slots: '%s' is "
				 "not a slot number", tok);
			return -EINVAL;
		}
		if (*nslots == max) {
			snprintf(err, errlen, "rebalance_pinned_slots: more "
				 "than %u slots", max);
			return -EINVAL;
		}
		slots[(*nslots)++] = (uint16_t)v;
	}
	save = NULL;
	snprintf(buf, sizeof(buf), "%s", c->rebalance_pinned_classes);
	for (tok = strtok_r(buf, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		const char *h = strncasecmp(tok, "0x", 2) ? tok : tok + 2;
		size_t n = strlen(h);
		unsigned long v = strtoul(h, NULL, 16);

		/* Hex digits only: strtoul alone took "-1" and "+2". */
		if (strspn(h, "0123456789abcdefABCDEF") != n ||
		    (n != 2 && n != 4 && n != 6)) {
			snprintf(err, errlen, "rebalance_pinned_classes: '%s' "
				 "is not a class code (2, 4 or 6 hex digits: "
				 "01, 0108, 010802)", tok);
			return -EINVAL;
		}
		if (*nclasses == max) {
			snprintf(err, errlen, "rebalance_pinned_classes: more "
				 "than %u classes", max);
			return -EINVAL;
		}
		codes[*nclasses] = (uint32_t)(v << (4 * (6 - n)));
		masks[*nclasses] = (uint32_t)(0xffffffu << (4 * (6 - n))) &
				   0xffffffu;
		(*nclasses)++;
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int hsd_config_load(struct hsd_config *c, const char *path, bool must_exist,
		    char *err, size_t errlen)
{
	enum { LINE_MAX_BYTES = 2046 };      /* hotswapd.conf(5) */
	struct hsd_config tmp = *c;
	char *line = NULL, msg[256];
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	FILE *f = fopen(path, "r");
	int rc = 0;

	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	/* getline, not fgets: the length tells a NUL byte from the end of
	 * the line. */
	while ((len = getline(&line, &cap, f)) > 0) {
		char *p, *eq, *key, *val;
		unsigned rres;
		int rentry;

		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > LINE_MAX_BYTES) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes",
				 path, lineno, LINE_MAX_BYTES);
			rc = -EINVAL;
			goto close_file;
		}
		if (memchr(line, '\0', (size_t)len)) {
			snprintf(err, errlen, "%s:%u: NUL byte in the line",
				 path, lineno);
			rc = -EINVAL;
			goto close_file;
		}
		if ((p = strchr(line, '#')))
			*p = '\0';
		p = trim(line);
		if (!*p)
			continue;
		eq = strchr(p, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected 'key = value', "
				 "got '%s'", path, lineno, p);
			rc = -EINVAL;
			goto close_file;
		}
		*eq = '\0';
		key = trim(p);
		val = trim(eq + 1);
		if ((rc = config_set(&tmp, key, val, &rentry, &rres, msg,
				     sizeof(msg)))) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
			goto close_file;
		}
		if (rentry >= 0) {
			/* Where a reservation came from, for `show`. */
			tmp.reserve[rentry].line[rres] = lineno;
			snprintf(tmp.reserve_file, sizeof(tmp.reserve_file),
				 "%.*s", HSD_PATH_MAX - 1, path);
		}
		if (!strcmp(key, "backend") || !strcmp(key, "platform"))
			snprintf(tmp.backend_from, sizeof(tmp.backend_from),
				 "%.*s:%u", HSD_PATH_MAX, path, lineno);
	}
	/* A directory opens, then fails to read (EISDIR): an error, not an
	 * empty file. */
	if (ferror(f)) {
		rc = errno ? -errno : -EIO;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto close_file;
	}
	*c = tmp;
close_file:
	free(line);
	fclose(f);
	return rc;
}

void hsd_config_print(const struct hsd_config *c, void *file)
{
	FILE *f = file;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key *k = &keys[i];
		const char *at = (const char *)c + k->off;

		if (!strcmp(k->name, "platform"))
			continue;       /* an alias of backend */
		fprintf(f, "%s = ", k->name);
		switch (k->kind) {
		case K_STR:
			fprintf(f, "%s\n", at);
			break;
		case K_BOOL:
			fprintf(f, "%s\n", *(const bool *)at ? "yes" : "no");
			break;
		case K_DUR:
			if (k->size == sizeof(unsigned))
				fprintf(f, "%ums\n", *(const unsigned *)at);
			else
				fprintf(f, "%" PRIu64 "ms\n",
					*(const uint64_t *)at / 1000000);
			break;
		case K_UINT:
			fprintf(f, "%" PRIu64 "\n", *(const uint64_t *)at);
			break;
		case K_ENUM:
			fprintf(f, "%s\n",
				k->choices[k->size == sizeof(bool)
						   ? *(const bool *)at
						   : *(const int *)at]);
			break;
		}
	}
	for (unsigned i = 0; i < c->nreserve; i++) {
		const struct hsd_reserve_cfg *e = &c->reserve[i];

		for (unsigned r = 0; r < HSD_RESV_COUNT; r++) {
			if (!(e->set & (1u << r)))
				continue;
			if (e->slot >= 0)
				fprintf(f, "slot.%d.", e->slot);
			fprintf(f, "reserve.%s = %" PRIu64 "\n", resv_names[r],
				e->v[r]);
		}
	}
}
