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
#include "backend.h"
#include "daemon.h"
#include "db.h"
#include "hotswap/slot.h"
#include "policy.h"
#include "protocol.h"

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
	char devpath[256];      /* as sysfs spells it, kept for remove */
	char driver[32];        /* last bound driver, "" none */
	bool boot;              /* found at boot: named at ready */
};

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
	/* A request being dispatched now, and the count of allocation
	 * failures when it began (server.c: a reply built meanwhile may
	 * lack a piece, and is answered as out of memory instead). */
	bool dispatching;
	unsigned long dispatch_failures;
	/* An in-process client (http.c): replies and events go to sink
	 * instead of a pipe (hsd_client_local). */
	void (*sink)(struct hsd_client *c, json_t *msg);
	void *sink_arg;
};

struct hsd {
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
	unsigned open_handles;
	gid_t group;            /* socket_group's gid */
	bool have_group;

	/* The back-end (backend.h) and why it was chosen. */
	const struct hsd_backend_ops *be_ops;
	struct hsd_backend *be;
	const char *be_why;
	struct hsd_db *db;
	struct hsd_policy *policy;
	struct hsd_agents *agents;

	uint64_t seq;           /* last event number published */
	int64_t time_base;      /* service time = time_base + back-end clock */
	bool booting;
	bool stopping;
	bool journal;           /* logging natively to systemd's journal */
	void *locates;          /* locate timers running (methods.c) */

	struct hsd_client *clients;
	unsigned long nclients_ever;
	struct hsd_devinfo *devs;
	size_t ndevs, capdevs;
	/* Agents asked about removals started at the machine (the button). */
	unsigned button_queries;
	/* When each slot last changed state (cfgadm's "when"). */
	struct hsd_slot_time { char slot[32]; int64_t time; } *slot_times;
	size_t nslot_times;
	/* Why a slot's last removal by the button was cancelled. */
	struct { char slot[32]; char why[448]; } notes[16];
	unsigned long events_published, db_errors;
	char slot_name_buf[16];
	struct hsd_http *http;  /* the HTTP endpoint (http.c), NULL when off */
};

struct envbuf {
	char *v[40];
	char store[4096];
	size_t n, at;
};

/* json_loadb, out of the fault hook's reach (alloc.h). */
json_t *hsd_loadb(const char *buf, size_t len, size_t flags,
		  json_error_t *je);
/* json_dumps, or NULL when an allocation failed on the way: jansson
 * 2.14 may then return text with a piece missing (a key dropped). */
char *hsd_dumps(const json_t *j, size_t flags);
void hsd_log(struct hsd *d, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int64_t hsd_now(const struct hsd *d);
/* Virtual clock: run the back-end until *done (or nothing is pending, or
 * a minute of its time passed).  Real time: nothing (the loop runs it). */
void hsd_settle(struct hsd *d, const bool *done);
void hsd_fmt_bdf(hs_bdf_t b, char *buf, size_t len);
int hsd_parse_bdf(const char *s, hs_bdf_t *out);
struct hsd_devinfo *hsd_devinfo(struct hsd *d, hs_bdf_t bdf);
/* Service time of the slot's last state change (or of the service's
 * start), -1 unknown. */
int64_t hsd_slot_changed(const struct hsd *d, const char *slot);
/* Why the service last stopped something on this slot, or NULL. */
const char *hsd_slot_note(const struct hsd *d, const char *slot);
void hsd_agent_env(struct hsd *d, const struct hsd_devinfo *di,
		   const char *action, uint64_t seq, const char *driver,
		   struct envbuf *e);
/* Ask the query-remove agents about devs[*at], skipping functions gone
 * meanwhile; true when a query runs (done comes later) or could not be
 * put (done has been called with the error), false when every device
 * has been asked. */
bool hsd_query_next(struct hsd *d, const hs_bdf_t *devs, unsigned n,
		    unsigned *at, hsd_query_done_fn done, void *arg);
/* The card identity the policy decides on. */
void hsd_card_id(const struct hsd_dev_view *v, struct hsd_card_id *id);
/* Publish a service event: numbered, stored, sent to subscribers.  ev
 * gets "seq" and "time"; the reference is taken over. */
void hsd_publish(struct hsd *d, const char *type, const char *slot,
		 json_t *ev);
/* Rebuild the policy: permanent rules from the database, then the rule
 * file. */
int hsd_policy_reload(struct hsd *d, char *err, size_t errlen);
void hsd_record_decision(struct hsd *d, const struct hsd_dev_view *dev,
			 const char *target, const char *why);

/* server.c */
int hsd_server_listen(struct hsd *d, char *err, size_t errlen);
void hsd_server_close(struct hsd *d);
void hsd_client_ref(struct hsd_client *c);
void hsd_client_unref(struct hsd_client *c);
/* Replay the stored events after seq `after` to a subscribed client in
 * bounded chunks between other clients' turns; live events reach it once
 * the replay has caught up (nothing missed, nothing twice). */
void hsd_client_replay(struct hsd_client *c, uint64_t after);
void hsd_broadcast_event(struct hsd *d, json_t *ev);
void hsd_handle_close(struct hsd *d, uv_handle_t *h);
/* An in-process client with the given access: every message the
 * protocol would write to it (replies, events) is handed to sink, which
 * takes the reference.  Closing it drops later messages; it is freed
 * once no request of its is in flight. */
struct hsd_client *hsd_client_local(struct hsd *d, enum hsd_access access,
				    void (*sink)(struct hsd_client *c,
						 json_t *msg),
				    void *arg);
void hsd_client_local_close(struct hsd_client *c);

/* methods.c: one request; the reply is sent now or later. */
void hsd_dispatch(struct hsd_client *c, json_t *req);
/* Close the locate timers still running (at stop). */
void hsd_locates_stop(struct hsd *d);

#endif
