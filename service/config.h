/*
 * config.h - hotswapd's configuration: defaults, the config file
 * (docs/hotswapd.conf.md, etc/hotswapd.conf) and command-line overrides.
 *
 * Owns: struct hsd_config and parsing "key = value" lines with errors that
 * name the file, the line and the key.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SERVICE_CONFIG_H
#define HOTSWAP_SERVICE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HSD_PATH_MAX 512

/*
 * Hot-plug reservations from the config file (docs/hotswapd.conf.md):
 * "reserve.RES = V" for every hot-plug bridge, "slot.N.reserve.RES = V"
 * for physical slot N, RES one of buses, io, mem, pref (the order of
 * enum hs_res).  Where each value came from is kept for `show`.
 */
#define HSD_RESERVE_MAX 32
enum { HSD_RESV_BUSES, HSD_RESV_IO, HSD_RESV_MEM, HSD_RESV_PREF,
       HSD_RESV_COUNT };
struct hsd_reserve_cfg {
	int slot;                  /* physical slot; -1: reserve.* */
	unsigned set;              /* bit r: v[r] was given */
	uint64_t v[HSD_RESV_COUNT];  /* a bus count, or bytes */
	unsigned line[HSD_RESV_COUNT]; /* of reserve_file; 0: --set */
};

struct hsd_config {
	char backend[16];             /* "sim" | "linux" (backend.h) */
	char backend_from[HSD_PATH_MAX + 16]; /* who chose it: "FILE:LINE",
	                                 * "the command line", "" default */
	char topology[HSD_PATH_MAX];  /* "" = the default chassis */
	char catalog[HSD_PATH_MAX];   /* "" = the default catalog */
	bool virtual_clock;           /* clock = virtual | realtime */
	char socket[HSD_PATH_MAX];
	char socket_group[64];        /* "" = none: root only */
	bool read_only_others;        /* others may use read-only requests */
	char state_dir[HSD_PATH_MAX]; /* hotswap.db, chassis.json */
	char runtime_dir[HSD_PATH_MAX];
	char agents_dir[HSD_PATH_MAX];
	unsigned agent_timeout_ms;
	char rules[HSD_PATH_MAX];     /* "" = no rule file */
	bool block_inserted, block_present;   /* default targets */
	bool name_by_serial;          /* naming = card (serial) | slot */
	bool poll;                    /* slots polled, not interrupts */
	uint64_t poll_period_ns, button_window_ns;
	bool syslog;                  /* log = syslog | stderr */
	int log_level;                /* syslog priority, LOG_INFO */
	uint64_t history_keep;        /* events kept in the database */
	char pidfile[HSD_PATH_MAX];   /* "" = none */
	/* Rebalancing (docs/rebalance.md): never | capable, at most this
	 * many devices moved (0: no limit), slots and classes never moved
	 * (comma-separated slot numbers; class codes as hex, 2 digits = a
	 * base class, 4 = class and subclass). */
	bool rebalance_capable;
	uint64_t rebalance_max_moved;
	char rebalance_pinned_slots[256];
	char rebalance_pinned_classes[256];
	/* The HTTP endpoint (docs/web.md): "" = off, "PORT" (loopback),
	 * "ADDR:PORT" or "[ADDR6]:PORT"; the write token's file ("" =
	 * runtime_dir/http.token); the page's files ("" = installed). */
	char http_listen[128];
	char http_token[HSD_PATH_MAX];
	char web_dir[HSD_PATH_MAX];
	/* Hot-plug reservations (above) and the file that gave them. */
	struct hsd_reserve_cfg reserve[HSD_RESERVE_MAX];
	unsigned nreserve;
	char reserve_file[HSD_PATH_MAX];
};

/* "buses", "io", "mem", "pref" (HSD_RESV_*). */
const char *hsd_reserve_name(unsigned r);
/* The reservation entry for a physical slot (-1: the reserve.* defaults),
 * NULL when the config says nothing about it. */
const struct hsd_reserve_cfg *hsd_config_reserve(const struct hsd_config *c,
						 int slot);

/* The two lists parsed; -EINVAL with err naming the bad entry. */
int hsd_config_pins(const struct hsd_config *c, uint16_t *slots,
		    unsigned *nslots, uint32_t *codes, uint32_t *masks,
		    unsigned *nclasses, unsigned max, char *err, size_t errlen);

/* Defaults: as root the FHS paths (/run/hotswap, /var/lib/hotswap,
 * /etc/hotswap/...), otherwise paths under $XDG_RUNTIME_DIR (or
 * /tmp/hotswap-UID) so that a user can try it without installing. */
void hsd_config_defaults(struct hsd_config *c);

/* Apply a config file over c.  Unknown keys, bad values and overlong
 * lines are errors naming "FILE:LINE: key: problem".  When must_exist is
 * false a missing file is not an error. */
int hsd_config_load(struct hsd_config *c, const char *path, bool must_exist,
		    char *err, size_t errlen);
/* Apply one "key=value" (command-line --set, or a single option). */
int hsd_config_set(struct hsd_config *c, const char *key, const char *value,
		   char *err, size_t errlen);
/* "5s", "250ms", "2m", "1500us", bare number = ms. */
int hsd_parse_duration(const char *s, uint64_t *ns);

/* The config as "key = value" lines (hotswapd --print-config). */
void hsd_config_print(const struct hsd_config *c, void *file);

#endif
