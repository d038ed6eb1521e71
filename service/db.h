/*
 * db.h - hotswapd's persistent state in SQLite.
 *
 * Owns: the database file (WAL journal, synchronous=FULL, foreign keys
 * on), its versioned schema and the migrations between versions, and
 * every read and write the daemon makes of it: devices ever seen, stable
 * names and minor numbers, per-slot settings, permanent policy rules,
 * policy decisions and the event history.
 *
 * Every write function is one SQLite transaction by itself unless the
 * caller wrapped several in hsd_db_begin / hsd_db_commit; a process
 * killed at any moment leaves either all of a transaction or none of it.
 *
 * Errors: 0 or a negative errno (-EIO for SQLite failures, -ENOENT for
 * "no such row", -EINVAL for bad arguments); err/errlen (where given)
 * receive a message naming what went wrong.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SERVICE_DB_H
#define HOTSWAP_SERVICE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hsd_db;

/* The schema version this build writes (PRAGMA user_version). */
#define HSD_DB_SCHEMA_VERSION 2

/* Opens (creating the file if needed) and migrates to the current
 * schema, each migration step in its own transaction.  A database whose
 * version is newer than this build's is refused (-EPROTO) and left
 * untouched; a file that is not a database gives -EIO.  err names the
 * file and the problem. */
int hsd_db_open(const char *path, struct hsd_db **out, char *err,
		size_t errlen);
void hsd_db_close(struct hsd_db *db);
int hsd_db_schema_version(struct hsd_db *db);
/* PRAGMA integrity_check == "ok" and foreign_key_check empty: 0, or
 * -EIO with the first complaint in err. */
int hsd_db_check(struct hsd_db *db, char *err, size_t errlen);
/* The last failure's message (path, what, SQLite's words), for logging
 * only; valid until the next call on db. */
const char *hsd_db_errmsg(struct hsd_db *db);

/* Group several writes into one transaction (no nesting).  A write that
 * fails inside it undoes only itself; a failed commit rolls back. */
int hsd_db_begin(struct hsd_db *db);
int hsd_db_commit(struct hsd_db *db);
void hsd_db_rollback(struct hsd_db *db);

/* ---- event history ---------------------------------------------------- */

/* One event as the daemon publishes it: seq strictly increasing across
 * restarts, time in service nanoseconds, type ("slot", "device",
 * "driver", "alert", "policy", "operator"...), slot name or NULL, and the
 * whole event as JSON text (what the protocol sends). */
struct hsd_event_row {
	uint64_t seq;
	int64_t time;
	const char *type;
	const char *slot;
	const char *json;
};

int hsd_db_event_append(struct hsd_db *db, const struct hsd_event_row *ev);
/* Highest stored seq (0 when empty) and the time of that event. */
int hsd_db_event_last(struct hsd_db *db, uint64_t *seq, int64_t *time);
/* Events with seq > after, oldest first, at most limit (0: no limit),
 * optionally only one slot's (slot NULL: all) and only time >= since.
 * cb returns non-zero to stop (returned as is). */
typedef int (*hsd_event_cb)(void *arg, const struct hsd_event_row *ev);
int hsd_db_events(struct hsd_db *db, uint64_t after, const char *slot,
		  int64_t since, unsigned limit, hsd_event_cb cb, void *arg);
/* The newest limit events (with the same filters), given oldest first. */
int hsd_db_events_newest(struct hsd_db *db, const char *slot, int64_t since,
			 unsigned limit, hsd_event_cb cb, void *arg);
/* Lowest seq still stored (history may be trimmed), 0 when empty. */
int hsd_db_event_first(struct hsd_db *db, uint64_t *seq);
/* Keep only the newest keep events. */
int hsd_db_event_trim(struct hsd_db *db, uint64_t keep);

/* ---- devices and stable names ----------------------------------------- */

struct hsd_device_row {
	const char *key;          /* naming key: "slot:3/00.0" or
				     "serial:0011223344556677/0" */
	uint16_t vendor, device, subsys_vendor, subsys;
	uint32_t class_code;
	bool has_serial;
	uint64_t serial;
	const char *slot;         /* slot name, or NULL (soldered) */
	const char *bdf;          /* "0000:03:00.0" when last seen */
	int64_t first_seen, last_seen;   /* service ns (out only on read) */
	unsigned times_seen;      /* out only on read */
	const char *name;         /* stable name ("net0"), out only */
	unsigned minor;           /* out only */
};

/*
 * The stable name for key: the one recorded before, or a new one made of
 * prefix and the lowest minor number not yet used with that prefix
 * ("net0", "net1"...), recorded for good.  A key keeps its name even
 * when the card's class changes.
 */
int hsd_db_name(struct hsd_db *db, const char *key, const char *prefix,
		char *name, size_t namelen, unsigned *minor);
/* Record that a device was seen now (insert or update by key). */
int hsd_db_device_seen(struct hsd_db *db, const struct hsd_device_row *dev,
		       int64_t now);
typedef int (*hsd_device_cb)(void *arg, const struct hsd_device_row *dev);
int hsd_db_devices(struct hsd_db *db, hsd_device_cb cb, void *arg);

/* ---- per-slot settings -------------------------------------------------- */

/* Small key/value settings per slot name ("disabled" = "1",
 * "policy" = "request"...).  value NULL deletes. */
int hsd_db_slot_set(struct hsd_db *db, const char *slot, const char *key,
		    const char *value);
/* -ENOENT when not set. */
int hsd_db_slot_get(struct hsd_db *db, const char *slot, const char *key,
		    char *value, size_t len);
typedef int (*hsd_setting_cb)(void *arg, const char *slot, const char *key,
			      const char *value);
int hsd_db_slot_settings(struct hsd_db *db, hsd_setting_cb cb, void *arg);

/* ---- policy --------------------------------------------------------------- */

/* Rules added with `hotswapctl authorize --permanent`, in the order
 * added (they are checked before the configured rule file). */
int hsd_db_rule_add(struct hsd_db *db, const char *rule, int64_t now);
/* rule, added last, in place of any stored copy of it or of drop (the
 * opposite decision for the same card): one transaction. */
int hsd_db_rule_replace(struct hsd_db *db, const char *rule,
			const char *drop, int64_t now);
typedef int (*hsd_rule_cb)(void *arg, int64_t id, const char *rule);
int hsd_db_rules(struct hsd_db *db, hsd_rule_cb cb, void *arg);

struct hsd_decision_row {
	int64_t time;
	const char *slot;         /* may be NULL */
	const char *bdf;
	const char *ids;          /* "8086:10d3 sub 8086:a01f class 020000" */
	const char *target;       /* "allow" / "block" */
	const char *why;          /* the matching rule, "default for inserted
				     cards", "authorized once by uid 0"... */
};
int hsd_db_decision_add(struct hsd_db *db, const struct hsd_decision_row *d);
typedef int (*hsd_decision_cb)(void *arg, const struct hsd_decision_row *d);
/* Newest last; limit 0 = all. */
int hsd_db_decisions(struct hsd_db *db, unsigned limit, hsd_decision_cb cb,
		     void *arg);

#endif /* HOTSWAP_SERVICE_DB_H */
