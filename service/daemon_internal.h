/*
 * daemon_internal.h - what daemon.c, server.c and methods.c share.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SERVICE_DAEMON_INTERNAL_H
#define HOTSWAP_SERVICE_DAEMON_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agents.h"
#include "daemon.h"
#include "db.h"
#include "hotswap/slot.h"
#include "policy.h"
#include "sim.h"
#include "topology.h"

/* What the service remembers about a device while it is present (the
 * core forgets it the moment it is removed; agents still need it). */
struct hsd_devinfo {
	hs_bdf_t bdf;
	uint16_t vendor, device, subsys_vendor, subsys;
	uint32_t class_code;
	int phys;               /* physical slot, -1 soldered */
	char slot[32];          /* slot name, "" soldered or a port */
	bool has_serial;
	uint64_t serial;
	char key[160];          /* naming key */
	char name[32];          /* stable name */
	unsigned minor;
	uint64_t renumbered_gen; /* core generation of its last renumbering */
};

enum hsd_access { HSD_ACC_NONE = 0, HSD_ACC_READ, HSD_ACC_ADMIN };

struct hsd_client {
	uv_pipe_t pipe;
	struct hsd *d;
	struct hsd_client *next;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	enum hsd_access access;
	char *in;               /* unparsed input */
	size_t inlen, incap;
	size_t inpos;           /* in[0..inpos) already handled */
	bool paused;            /* reading stopped: whole lines wait (server.c) */
	bool subscribed;
	bool replaying;         /* history replay still running (server.c) */
	uint64_t replay_after;  /* last seq replayed */
	bool draining;          /* cut off: the error is being flushed */
	uint64_t drain_since;   /* uv_now() when it was cut off */
	bool closing;
	unsigned refs;          /* requests still in flight */
	unsigned long id;       /* connection number, for the log */
};

struct hsd {
	/* The rebalancing policy's pins (hs_core_params points here). */
	uint16_t pin_slots[32];
	struct hs_class_match pin_classes[32];
	struct hsd_config cfg;
	uv_loop_t *loop;
	uv_pipe_t server;
	bool server_open;
	/* server.c: work left over from a loop turn (fairness), and the
	 * sweep of cut-off clients that do not take their error. */
	uv_idle_t srv_idle;
	bool srv_idle_on;
	unsigned long srv_cursor;       /* round-robin: next client id */
	uv_timer_t srv_reaper;
	bool srv_reaper_on;
	unsigned long clients_cut_off;
	uv_timer_t clock_timer;
	uv_prepare_t prepare;
	unsigned open_handles;
	gid_t group;            /* socket_group's gid */
	bool have_group;

	struct sim_topology *topo;
	struct sim *sim;
	struct hs_platform plat;
	struct hs_core *core;
	struct hsd_db *db;
	struct hsd_policy *policy;
	struct hsd_agents *agents;

	uint64_t seq;           /* last event number published */
	int64_t time_base;      /* service time = time_base + sim clock */
	uint64_t wall0;         /* uv_hrtime() when virt0 was taken */
	hs_time_t virt0;
	bool booting;
	bool stopping;

	struct hsd_client *clients;
	unsigned long nclients_ever;
	struct hsd_devinfo *devs;
	size_t ndevs, capdevs;
	unsigned long events_published, db_errors;
	char slot_name_buf[16];
};

struct envbuf {
	char *v[40];
	char store[4096];
	size_t n, at;
};

void hsd_log(struct hsd *d, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int64_t hsd_now(const struct hsd *d);
void hsd_clock_pump(struct hsd *d);
void hsd_settle(struct hsd *d, const bool *done);
void hsd_fmt_bdf(hs_bdf_t b, char *buf, size_t len);
int hsd_parse_bdf(const char *s, hs_bdf_t *out);
const char *hsd_slot_name_of(struct hsd *d, int phys);
struct hsd_devinfo *hsd_devinfo(struct hsd *d, hs_bdf_t bdf);
void hsd_agent_env(struct hsd *d, const struct hsd_devinfo *di,
		   const char *action, uint64_t seq, const char *driver,
		   struct envbuf *e);
/* Publish a service event: numbered, stored, sent to subscribers.  ev
 * gets "seq" and "time"; the reference is taken over. */
void hsd_publish(struct hsd *d, const char *type, const char *slot,
		 json_t *ev);
/* Rebuild the policy: permanent rules from the database, then the rule
 * file. */
int hsd_policy_reload(struct hsd *d, char *err, size_t errlen);
/* The simulated chassis' cards, saved so that a restarted daemon finds
 * the hardware as it was left. */
void hsd_chassis_save(struct hsd *d);

void hsd_record_decision(struct hsd *d, struct hs_dev *dev,
			 const char *target, const char *why);

/* server.c */
int hsd_server_listen(struct hsd *d, char *err, size_t errlen);
void hsd_server_close(struct hsd *d);
void hsd_client_send(struct hsd_client *c, json_t *msg);
void hsd_client_ref(struct hsd_client *c);
void hsd_client_unref(struct hsd_client *c);
/* Replay the stored events after seq `after` to a subscribed client in
 * bounded chunks between other clients' turns; live events reach it once
 * the replay has caught up (nothing missed, nothing twice). */
void hsd_client_replay(struct hsd_client *c, uint64_t after);
void hsd_broadcast_event(struct hsd *d, json_t *ev);
void hsd_handle_close(struct hsd *d, uv_handle_t *h);

/* methods.c: one request; the reply is sent now or later. */
void hsd_dispatch(struct hsd_client *c, json_t *req);
json_t *hsd_error(json_t *id, const char *code, int err, const char *fmt,
		  ...) __attribute__((format(printf, 4, 5)));
json_t *hsd_reply(json_t *id, json_t *result);

#endif
