/*
 * db.c - hotswapd's persistent state in SQLite.
 *
 * Owns: the connection and its settings (WAL journal, synchronous=FULL,
 * foreign keys, a 5 s busy timeout), the schema and the ordered list of
 * migrations between its versions (PRAGMA user_version, one transaction
 * per step), transactions (the caller's from hsd_db_begin, else one per
 * write function, a savepoint when nested in the caller's), and every
 * statement the daemon runs against the file.  Values always travel as
 * bound parameters; no SQL text is ever built from them.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _POSIX_C_SOURCE 200809L
#include "db.h"
#include "alloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

/* One per-slot setting, as the table holds it. */
struct setting {
	char *slot, *key, *value;
};

struct hsd_db {
	sqlite3 *h;
	char *path;
	char errmsg[512];       /* last failure, for logging only */
	/* The per-slot settings, read once and again after every change:
	 * every slot view asks for them, and a query each (a statement
	 * compiled, a WAL read lock taken and dropped) was most of what
	 * a busy daemon's loop did (issue #17's client benchmark). */
	struct setting *settings;
	size_t nsettings;
	bool settings_fresh;
};

/* ---- the schema ------------------------------------------------------- */

/*
 * Step i takes a database from version i to version i + 1 and sets
 * user_version itself, so the bump commits with the step or not at all.
 * Append only: a released step is never edited.
 */
struct migration {
	int version;            /* user_version after this step */
	const char *sql;
};

static const struct migration migrations[] = {
	{ 1,
	  "CREATE TABLE events ("
	  " seq  INTEGER PRIMARY KEY,"
	  " time INTEGER NOT NULL,"
	  " type TEXT NOT NULL,"
	  " slot TEXT,"
	  " json TEXT NOT NULL);"
	  "CREATE TABLE devices ("
	  " key TEXT PRIMARY KEY NOT NULL,"
	  " vendor INTEGER NOT NULL,"
	  " device INTEGER NOT NULL,"
	  " subsys_vendor INTEGER NOT NULL,"
	  " subsys INTEGER NOT NULL,"
	  " class INTEGER NOT NULL,"
	  " serial INTEGER,"                 /* NULL: the card has none */
	  " slot TEXT,"
	  " bdf TEXT,"
	  " first_seen INTEGER NOT NULL,"
	  " last_seen INTEGER NOT NULL);"
	  "CREATE TABLE names ("
	  " key TEXT PRIMARY KEY NOT NULL,"
	  " prefix TEXT NOT NULL,"
	  " minor INTEGER NOT NULL,"
	  " UNIQUE (prefix, minor));"
	  "CREATE TABLE slot_settings ("
	  " slot TEXT NOT NULL,"
	  " key TEXT NOT NULL,"
	  " value TEXT NOT NULL,"
	  " PRIMARY KEY (slot, key));"
	  "CREATE TABLE rules ("
	  " id INTEGER PRIMARY KEY,"
	  " rule TEXT NOT NULL,"
	  " added INTEGER NOT NULL);"
	  "PRAGMA user_version = 1;" },
	{ 2,
	  "ALTER TABLE devices ADD COLUMN"
	  " times_seen INTEGER NOT NULL DEFAULT 1;"
	  "CREATE INDEX events_slot_seq ON events (slot, seq);"
	  "CREATE TABLE decisions ("
	  " id INTEGER PRIMARY KEY,"
	  " time INTEGER NOT NULL,"
	  " slot TEXT,"
	  " bdf TEXT,"
	  " ids TEXT,"
	  " target TEXT NOT NULL,"
	  " why TEXT);"
	  "PRAGMA user_version = 2;" },
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) ==
	       HSD_DB_SCHEMA_VERSION,
	       "one migration step per schema version");

/* ---- helpers ------------------------------------------------------------ */

__attribute__((format(printf, 3, 4)))
static void msg(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* Keeps SQLite's complaint about what just failed. */
static int fail(struct hsd_db *db, const char *what)
{
	int code = sqlite3_errcode(db->h);

	msg(db->errmsg, sizeof(db->errmsg), "%s: %s: %s", db->path, what,
	    sqlite3_errmsg(db->h));
	return code == SQLITE_NOMEM ? -ENOMEM : -EIO;
}

static int invalid(struct hsd_db *db, const char *what)
{
	msg(db->errmsg, sizeof(db->errmsg), "%s: %s", db->path, what);
	return -EINVAL;
}

/* Static SQL only: never carries a value. */
static int exec(struct hsd_db *db, const char *sql, const char *what)
{
	if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail(db, what);
	return 0;
}

static int prep(struct hsd_db *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return fail(db, "prepare");
	}
	return 0;
}

/* Runs a statement that returns no rows. */
static int step_done(struct hsd_db *db, sqlite3_stmt *st, const char *what)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		return fail(db, what);
	return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* SQLite integers are signed: uint64 values travel as their two's
 * complement bit pattern. */
static int64_t u64_to_i64(uint64_t v)
{
	return v <= INT64_MAX ? (int64_t)v : -(int64_t)(UINT64_MAX - v) - 1;
}

static uint64_t i64_to_u64(int64_t v)
{
	return v >= 0 ? (uint64_t)v : UINT64_MAX - (uint64_t)(-(v + 1));
}

/* Limits: 0 means none, which SQLite spells -1. */
static int64_t sql_limit(unsigned limit)
{
	return limit ? (int64_t)limit : -1;
}

/*
 * A write function's own transaction: BEGIN IMMEDIATE (the write lock
 * up front, so a read-then-write never fails half way on a busy
 * upgrade) or, inside the caller's transaction, a savepoint so a failure
 * undoes this function's changes and leaves the caller's standing.
 */
static int wbegin(struct hsd_db *db, bool *own)
{
	*own = sqlite3_get_autocommit(db->h) != 0;
	return exec(db, *own ? "BEGIN IMMEDIATE" : "SAVEPOINT hsd_write",
		    "begin");
}

static int wend(struct hsd_db *db, bool own, int rc)
{
	if (!rc) {
		rc = exec(db, own ? "COMMIT" : "RELEASE hsd_write", "commit");
		if (!rc)
			return 0;
	}
	if (own) {
		if (!sqlite3_get_autocommit(db->h))
			sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	} else {
		/* Fails harmlessly when SQLite already rolled the whole
		 * transaction back (I/O error, disk full). */
		sqlite3_exec(db->h, "ROLLBACK TO hsd_write; RELEASE hsd_write",
			     NULL, NULL, NULL);
	}
	return rc;
}

static int read_version(struct hsd_db *db, int *version)
{
	sqlite3_stmt *st;
	int rc;

	rc = prep(db, "PRAGMA user_version", &st);
	if (rc)
		return rc;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = fail(db, "reading the schema version");
		goto finalize;
	}
	*version = sqlite3_column_int(st, 0);
finalize:
	sqlite3_finalize(st);
	return rc;
}

/* ---- opening, schema, checks ------------------------------------------- */

static int configure(struct hsd_db *db)
{
	sqlite3_stmt *st;
	const char *mode;
	int rc;

	rc = prep(db, "PRAGMA journal_mode = WAL", &st);
	if (rc)
		return rc;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = fail(db, "setting journal_mode=WAL");
		goto finalize;
	}
	mode = col_text(st, 0);
	if (!mode || strcmp(mode, "wal") != 0) {
		msg(db->errmsg, sizeof(db->errmsg),
		    "%s: journal_mode is %s, not wal", db->path,
		    mode ? mode : "unknown");
		rc = -EIO;
		goto finalize;
	}
	rc = exec(db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON",
		  "configuring");
finalize:
	sqlite3_finalize(st);
	return rc;
}

static int migrate_step(struct hsd_db *db, const struct migration *m)
{
	int rc, version;

	rc = exec(db, "BEGIN IMMEDIATE", "starting a migration");
	if (rc)
		return rc;
	/* Read again under the write lock: another process may have
	 * migrated since we looked. */
	rc = read_version(db, &version);
	if (rc)
		goto rollback;
	if (version > HSD_DB_SCHEMA_VERSION) {
		msg(db->errmsg, sizeof(db->errmsg),
		    "%s: schema version %d is newer than this build's %d",
		    db->path, version, HSD_DB_SCHEMA_VERSION);
		rc = -EPROTO;
		goto rollback;
	}
	if (version >= m->version)
		goto rollback;          /* nothing to do: not an error */
	rc = exec(db, m->sql, "migrating the schema");
	if (rc)
		goto rollback;
	rc = read_version(db, &version);
	if (rc)
		goto rollback;
	if (version != m->version) {
		msg(db->errmsg, sizeof(db->errmsg),
		    "%s: migration to version %d left version %d", db->path,
		    m->version, version);
		rc = -EIO;
		goto rollback;
	}
	rc = exec(db, "COMMIT", "committing a migration");
	if (rc)
		goto rollback;
	return 0;
rollback:
	if (!sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int hsd_db_open(const char *path, struct hsd_db **out, char *err,
		size_t errlen)
{
	struct hsd_db *db;
	size_t i;
	int rc, version;

	if (out)
		*out = NULL;
	if (!path || !*path || !out) {
		msg(err, errlen, "hsd_db_open: no database path");
		return -EINVAL;
	}
	db = hsd_calloc(1, sizeof(*db));
	if (!db) {
		msg(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	db->path = hsd_strdup(path);
	if (!db->path) {
		msg(err, errlen, "%s: out of memory", path);
		rc = -ENOMEM;
		goto free_db;
	}
	if (sqlite3_open_v2(path, &db->h,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK) {
		rc = db->h ? fail(db, "cannot open") : -ENOMEM;
		if (!db->h)
			msg(db->errmsg, sizeof(db->errmsg),
			    "%s: out of memory", path);
		goto close_sqlite;
	}
	sqlite3_busy_timeout(db->h, 5000);
	/* Look before changing anything: the journal mode switch below
	 * would rewrite the header of a file we must leave alone. */
	rc = read_version(db, &version);
	if (rc)
		goto close_sqlite;
	if (version > HSD_DB_SCHEMA_VERSION) {
		msg(db->errmsg, sizeof(db->errmsg),
		    "%s: schema version %d is newer than this build's %d",
		    path, version, HSD_DB_SCHEMA_VERSION);
		rc = -EPROTO;
		goto close_sqlite;
	}
	rc = configure(db);
	if (rc)
		goto close_sqlite;
	for (i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++) {
		if (version >= migrations[i].version)
			continue;
		rc = migrate_step(db, &migrations[i]);
		if (rc)
			goto close_sqlite;
	}
	db->errmsg[0] = '\0';
	*out = db;
	return 0;

close_sqlite:
	msg(err, errlen, "%s", db->errmsg);
	sqlite3_close(db->h);
	free(db->path);
free_db:
	free(db);
	return rc;
}

static void settings_drop(struct hsd_db *db)
{
	for (size_t i = 0; i < db->nsettings; i++) {
		free(db->settings[i].slot);
		free(db->settings[i].key);
		free(db->settings[i].value);
	}
	free(db->settings);
	db->settings = NULL;
	db->nsettings = 0;
	db->settings_fresh = false;
}

void hsd_db_close(struct hsd_db *db)
{
	if (!db)
		return;
	sqlite3_close(db->h);   /* rolls back an open transaction */
	settings_drop(db);
	free(db->path);
	free(db);
}

int hsd_db_schema_version(struct hsd_db *db)
{
	int rc, version;

	if (!db)
		return -EINVAL;
	rc = read_version(db, &version);
	return rc ? rc : version;
}

const char *hsd_db_errmsg(struct hsd_db *db)
{
	return db ? db->errmsg : "no database";
}

int hsd_db_check(struct hsd_db *db, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	const char *s;
	int rc;

	if (!db)
		return -EINVAL;
	rc = prep(db, "PRAGMA integrity_check", &st);
	if (rc)
		goto report;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = fail(db, "integrity_check");
		goto finalize;
	}
	s = col_text(st, 0);
	if (!s || strcmp(s, "ok") != 0) {
		msg(db->errmsg, sizeof(db->errmsg), "%s: integrity_check: %s",
		    db->path, s ? s : "no answer");
		rc = -EIO;
		goto finalize;
	}
	sqlite3_finalize(st);

	rc = prep(db, "PRAGMA foreign_key_check", &st);
	if (rc)
		goto report;
	switch (sqlite3_step(st)) {
	case SQLITE_DONE:
		break;
	case SQLITE_ROW:
		s = col_text(st, 0);
		msg(db->errmsg, sizeof(db->errmsg),
		    "%s: foreign_key_check: %s row %lld refers to a missing "
		    "row of %s", db->path, s ? s : "?",
		    (long long)sqlite3_column_int64(st, 1),
		    col_text(st, 2) ? col_text(st, 2) : "?");
		rc = -EIO;
		break;
	default:
		rc = fail(db, "foreign_key_check");
		break;
	}
finalize:
	sqlite3_finalize(st);
report:
	if (rc)
		msg(err, errlen, "%s", db->errmsg);
	return rc;
}

/* ---- transactions ------------------------------------------------------- */

int hsd_db_begin(struct hsd_db *db)
{
	if (!db)
		return -EINVAL;
	if (!sqlite3_get_autocommit(db->h))
		return invalid(db, "a transaction is already open");
	return exec(db, "BEGIN IMMEDIATE", "begin");
}

int hsd_db_commit(struct hsd_db *db)
{
	int rc;

	if (!db)
		return -EINVAL;
	if (sqlite3_get_autocommit(db->h))
		return invalid(db, "commit without a transaction");
	rc = exec(db, "COMMIT", "commit");
	if (rc && !sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

void hsd_db_rollback(struct hsd_db *db)
{
	if (db && !sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- event history -------------------------------------------------------- */

int hsd_db_event_append(struct hsd_db *db, const struct hsd_event_row *ev)
{
	sqlite3_stmt *st;
	int64_t last;
	bool own;
	int rc;

	if (!db)
		return -EINVAL;
	if (!ev || !ev->type || !ev->json)
		return invalid(db, "event without type or JSON");
	if (ev->seq == 0 || ev->seq > INT64_MAX)
		return invalid(db, "event seq out of range");
	rc = wbegin(db, &own);
	if (rc)
		return rc;
	rc = prep(db, "SELECT coalesce(max(seq), 0) FROM events", &st);
	if (rc)
		goto end;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = fail(db, "reading the last event");
		goto finalize;
	}
	last = sqlite3_column_int64(st, 0);
	if ((int64_t)ev->seq <= last) {
		msg(db->errmsg, sizeof(db->errmsg),
		    "%s: event seq %llu is not after the last stored %lld",
		    db->path, (unsigned long long)ev->seq, (long long)last);
		rc = -EINVAL;
		goto finalize;
	}
	sqlite3_finalize(st);
	rc = prep(db, "INSERT INTO events (seq, time, type, slot, json)"
		      " VALUES (?1, ?2, ?3, ?4, ?5)", &st);
	if (rc)
		goto end;
	sqlite3_bind_int64(st, 1, (int64_t)ev->seq);
	sqlite3_bind_int64(st, 2, ev->time);
	bind_text(st, 3, ev->type);
	bind_text(st, 4, ev->slot);
	bind_text(st, 5, ev->json);
	rc = step_done(db, st, "appending an event");
finalize:
	sqlite3_finalize(st);
end:
	return wend(db, own, rc);
}

int hsd_db_event_last(struct hsd_db *db, uint64_t *seq, int64_t *time)
{
	sqlite3_stmt *st;
	int rc;

	if (!db)
		return -EINVAL;
	rc = prep(db, "SELECT seq, time FROM events ORDER BY seq DESC LIMIT 1",
		  &st);
	if (rc)
		return rc;
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		if (seq)
			*seq = (uint64_t)sqlite3_column_int64(st, 0);
		if (time)
			*time = sqlite3_column_int64(st, 1);
		break;
	case SQLITE_DONE:
		if (seq)
			*seq = 0;
		if (time)
			*time = 0;
		break;
	default:
		rc = fail(db, "reading the last event");
		break;
	}
	sqlite3_finalize(st);
	return rc;
}

static int events_query(struct hsd_db *db, uint64_t after, const char *slot,
			int64_t since, unsigned limit, bool newest,
			hsd_event_cb cb, void *arg)
{
	struct hsd_event_row ev;
	sqlite3_stmt *st;
	int rc, s;

	if (!db)
		return -EINVAL;
	if (!cb)
		return invalid(db, "events: no callback");
	if (after >= INT64_MAX)
		return 0;               /* no seq can follow */
	/* Two statements so the slot query can use events(slot, seq); the
	 * newest N are taken from the end and given oldest first. */
	rc = prep(db, newest ? (slot ?
		  "SELECT * FROM (SELECT seq, time, type, slot, json FROM events"
		  " WHERE slot = ?4 AND seq > ?1 AND time >= ?2"
		  " ORDER BY seq DESC LIMIT ?3) ORDER BY seq" :
		  "SELECT * FROM (SELECT seq, time, type, slot, json FROM events"
		  " WHERE seq > ?1 AND time >= ?2"
		  " ORDER BY seq DESC LIMIT ?3) ORDER BY seq") : slot ?
		  "SELECT seq, time, type, slot, json FROM events"
		  " WHERE slot = ?4 AND seq > ?1 AND time >= ?2"
		  " ORDER BY seq LIMIT ?3" :
		  "SELECT seq, time, type, slot, json FROM events"
		  " WHERE seq > ?1 AND time >= ?2"
		  " ORDER BY seq LIMIT ?3", &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)after);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, sql_limit(limit));
	if (slot)
		bind_text(st, 4, slot);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		ev.seq = (uint64_t)sqlite3_column_int64(st, 0);
		ev.time = sqlite3_column_int64(st, 1);
		ev.type = col_text(st, 2);
		ev.slot = col_text(st, 3);
		ev.json = col_text(st, 4);
		rc = cb(arg, &ev);
		if (rc)
			goto finalize;
	}
	if (s != SQLITE_DONE)
		rc = fail(db, "reading events");
finalize:
	sqlite3_finalize(st);
	return rc;
}

int hsd_db_events(struct hsd_db *db, uint64_t after, const char *slot,
		  int64_t since, unsigned limit, hsd_event_cb cb, void *arg)
{
	return events_query(db, after, slot, since, limit, false, cb, arg);
}

int hsd_db_events_newest(struct hsd_db *db, const char *slot, int64_t since,
			 unsigned limit, hsd_event_cb cb, void *arg)
{
	return events_query(db, 0, slot, since, limit, true, cb, arg);
}

int hsd_db_event_first(struct hsd_db *db, uint64_t *seq)
{
	sqlite3_stmt *st;
	int rc;

	if (!db || !seq)
		return -EINVAL;
	rc = prep(db, "SELECT coalesce(min(seq), 0) FROM events", &st);
	if (rc)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		*seq = (uint64_t)sqlite3_column_int64(st, 0);
	else
		rc = fail(db, "reading the first event");
	sqlite3_finalize(st);
	return rc;
}

int hsd_db_event_trim(struct hsd_db *db, uint64_t keep)
{
	sqlite3_stmt *st;
	int rc;

	if (!db)
		return -EINVAL;
	if (keep > INT64_MAX)
		return 0;
	/* The subquery is the oldest event kept; NULL (nothing deleted)
	 * when there are no more than keep. */
	rc = prep(db, keep ?
		  "DELETE FROM events WHERE seq < (SELECT seq FROM events"
		  " ORDER BY seq DESC LIMIT 1 OFFSET ?1 - 1)" :
		  "DELETE FROM events", &st);
	if (rc)
		return rc;
	if (keep)
		sqlite3_bind_int64(st, 1, (int64_t)keep);
	rc = step_done(db, st, "trimming events");
	sqlite3_finalize(st);
	return rc;
}

/* ---- devices and stable names --------------------------------------------- */

/* The lowest minor not taken for ?1: 0, or one past a taken minor whose
 * successor is free. */
static const char lowest_free_minor[] =
	"SELECT 0 WHERE NOT EXISTS"
	" (SELECT 1 FROM names WHERE prefix = ?1 AND minor = 0)"
	" UNION ALL"
	" SELECT n.minor + 1 FROM names AS n WHERE n.prefix = ?1"
	" AND NOT EXISTS (SELECT 1 FROM names AS m"
	"  WHERE m.prefix = ?1 AND m.minor = n.minor + 1)"
	" ORDER BY 1 LIMIT 1";

/* name = prefix and minor in decimal; -EINVAL when it does not fit. */
static int format_name(struct hsd_db *db, char *name, size_t namelen,
		       const char *prefix, int64_t minor)
{
	int n;

	if (minor < 0 || minor > (int64_t)UINT32_MAX) {
		msg(db->errmsg, sizeof(db->errmsg),
		    "%s: stored minor %lld out of range", db->path,
		    (long long)minor);
		return -EIO;
	}
	n = snprintf(name, namelen, "%s%u", prefix, (unsigned)minor);
	if (n < 0 || (size_t)n >= namelen)
		return invalid(db, "name buffer too small");
	return 0;
}

int hsd_db_name(struct hsd_db *db, const char *key, const char *prefix,
		char *name, size_t namelen, unsigned *minor)
{
	sqlite3_stmt *st;
	int64_t m = 0;
	size_t plen;
	bool own;
	int rc;

	if (!db)
		return -EINVAL;
	if (!key || !*key || !prefix || !name || !namelen)
		return invalid(db, "name: missing key, prefix or buffer");
	plen = strlen(prefix);
	/* "eth1" + 0 would read as "eth" + 10. */
	if (!plen || (prefix[plen - 1] >= '0' && prefix[plen - 1] <= '9'))
		return invalid(db, "name prefix empty or ending in a digit");
	rc = wbegin(db, &own);
	if (rc)
		return rc;
	rc = prep(db, "SELECT prefix, minor FROM names WHERE key = ?1", &st);
	if (rc)
		goto end;
	bind_text(st, 1, key);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:        /* named before: keep it, whatever prefix */
		m = sqlite3_column_int64(st, 1);
		rc = format_name(db, name, namelen, col_text(st, 0), m);
		goto finalize;
	case SQLITE_DONE:
		break;
	default:
		rc = fail(db, "looking up a name");
		goto finalize;
	}
	sqlite3_finalize(st);

	rc = prep(db, lowest_free_minor, &st);
	if (rc)
		goto end;
	bind_text(st, 1, prefix);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = fail(db, "finding a free minor");
		goto finalize;
	}
	m = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	rc = format_name(db, name, namelen, prefix, m);
	if (rc)
		goto end;

	rc = prep(db, "INSERT INTO names (key, prefix, minor)"
		      " VALUES (?1, ?2, ?3)", &st);
	if (rc)
		goto end;
	bind_text(st, 1, key);
	bind_text(st, 2, prefix);
	sqlite3_bind_int64(st, 3, m);
	rc = step_done(db, st, "recording a name");
finalize:
	sqlite3_finalize(st);
	if (!rc && minor)
		*minor = (unsigned)m;
end:
	return wend(db, own, rc);
}

int hsd_db_device_seen(struct hsd_db *db, const struct hsd_device_row *dev,
		       int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	if (!db)
		return -EINVAL;
	if (!dev || !dev->key || !*dev->key)
		return invalid(db, "device without a key");
	rc = prep(db,
		  "INSERT INTO devices (key, vendor, device, subsys_vendor,"
		  " subsys, class, serial, slot, bdf, first_seen, last_seen,"
		  " times_seen)"
		  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, 1)"
		  " ON CONFLICT (key) DO UPDATE SET"
		  " vendor = excluded.vendor, device = excluded.device,"
		  " subsys_vendor = excluded.subsys_vendor,"
		  " subsys = excluded.subsys, class = excluded.class,"
		  " serial = excluded.serial, slot = excluded.slot,"
		  " bdf = excluded.bdf, last_seen = excluded.last_seen,"
		  " times_seen = times_seen + 1", &st);
	if (rc)
		return rc;
	bind_text(st, 1, dev->key);
	sqlite3_bind_int(st, 2, dev->vendor);
	sqlite3_bind_int(st, 3, dev->device);
	sqlite3_bind_int(st, 4, dev->subsys_vendor);
	sqlite3_bind_int(st, 5, dev->subsys);
	sqlite3_bind_int64(st, 6, dev->class_code);
	if (dev->has_serial)
		sqlite3_bind_int64(st, 7, u64_to_i64(dev->serial));
	else
		sqlite3_bind_null(st, 7);
	bind_text(st, 8, dev->slot);
	bind_text(st, 9, dev->bdf);
	sqlite3_bind_int64(st, 10, now);
	rc = step_done(db, st, "recording a device");
	sqlite3_finalize(st);
	return rc;
}

int hsd_db_devices(struct hsd_db *db, hsd_device_cb cb, void *arg)
{
	struct hsd_device_row d;
	sqlite3_stmt *st;
	int rc, s;

	if (!db)
		return -EINVAL;
	if (!cb)
		return invalid(db, "devices: no callback");
	rc = prep(db,
		  "SELECT d.key, d.vendor, d.device, d.subsys_vendor,"
		  " d.subsys, d.class, d.serial, d.slot, d.bdf, d.first_seen,"
		  " d.last_seen, d.times_seen, n.prefix || n.minor, n.minor"
		  " FROM devices AS d LEFT JOIN names AS n ON n.key = d.key"
		  " ORDER BY d.first_seen, d.key", &st);
	if (rc)
		return rc;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&d, 0, sizeof(d));
		d.key = col_text(st, 0);
		d.vendor = (uint16_t)sqlite3_column_int(st, 1);
		d.device = (uint16_t)sqlite3_column_int(st, 2);
		d.subsys_vendor = (uint16_t)sqlite3_column_int(st, 3);
		d.subsys = (uint16_t)sqlite3_column_int(st, 4);
		d.class_code = (uint32_t)sqlite3_column_int64(st, 5);
		d.has_serial = sqlite3_column_type(st, 6) != SQLITE_NULL;
		if (d.has_serial)
			d.serial = i64_to_u64(sqlite3_column_int64(st, 6));
		d.slot = col_text(st, 7);
		d.bdf = col_text(st, 8);
		d.first_seen = sqlite3_column_int64(st, 9);
		d.last_seen = sqlite3_column_int64(st, 10);
		d.times_seen = (unsigned)sqlite3_column_int64(st, 11);
		d.name = col_text(st, 12);
		d.minor = (unsigned)sqlite3_column_int64(st, 13);
		rc = cb(arg, &d);
		if (rc)
			goto finalize;
	}
	if (s != SQLITE_DONE)
		rc = fail(db, "reading devices");
finalize:
	sqlite3_finalize(st);
	return rc;
}

/* ---- per-slot settings ------------------------------------------------------ */

int hsd_db_slot_set(struct hsd_db *db, const char *slot, const char *key,
		    const char *value)
{
	sqlite3_stmt *st;
	int rc;

	if (!db)
		return -EINVAL;
	if (!slot || !*slot || !key || !*key)
		return invalid(db, "slot setting without slot or key");
	rc = prep(db, value ?
		  "INSERT INTO slot_settings (slot, key, value)"
		  " VALUES (?1, ?2, ?3)"
		  " ON CONFLICT (slot, key) DO UPDATE SET value = excluded.value" :
		  "DELETE FROM slot_settings WHERE slot = ?1 AND key = ?2",
		  &st);
	if (rc)
		return rc;
	bind_text(st, 1, slot);
	bind_text(st, 2, key);
	if (value)
		bind_text(st, 3, value);
	rc = step_done(db, st, "writing a slot setting");
	sqlite3_finalize(st);
	db->settings_fresh = false;     /* read again at the next get */
	return rc;
}

static int keep_setting(void *arg, const char *slot, const char *key,
			const char *value)
{
	struct hsd_db *db = arg;
	struct setting *n = hsd_realloc(db->settings, (db->nsettings + 1) *
						      sizeof(*n));

	if (!n)
		return -ENOMEM;
	db->settings = n;
	n = &db->settings[db->nsettings];
	n->slot = hsd_strdup(slot ? slot : "");
	n->key = hsd_strdup(key ? key : "");
	n->value = hsd_strdup(value ? value : "");
	db->nsettings++;
	return n->slot && n->key && n->value ? 0 : -ENOMEM;
}

int hsd_db_slot_get(struct hsd_db *db, const char *slot, const char *key,
		    char *value, size_t len)
{
	int rc;

	if (!db)
		return -EINVAL;
	if (!slot || !key || !value || !len)
		return invalid(db, "slot_get: missing slot, key or buffer");
	if (!db->settings_fresh) {
		settings_drop(db);
		rc = hsd_db_slot_settings(db, keep_setting, db);
		if (rc) {
			settings_drop(db);
			if (rc == -ENOMEM)
				msg(db->errmsg, sizeof(db->errmsg), "%s: out of "
				    "memory reading slot settings", db->path);
			return rc;
		}
		db->settings_fresh = true;
	}
	for (size_t i = 0; i < db->nsettings; i++) {
		const struct setting *s = &db->settings[i];

		if (strcmp(s->slot, slot) || strcmp(s->key, key))
			continue;
		if (strlen(s->value) >= len)
			return invalid(db, "slot setting longer than the buffer");
		memcpy(value, s->value, strlen(s->value) + 1);
		return 0;
	}
	return -ENOENT;
}

int hsd_db_slot_settings(struct hsd_db *db, hsd_setting_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int rc, s;

	if (!db)
		return -EINVAL;
	if (!cb)
		return invalid(db, "slot_settings: no callback");
	rc = prep(db, "SELECT slot, key, value FROM slot_settings"
		      " ORDER BY slot, key", &st);
	if (rc)
		return rc;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		rc = cb(arg, col_text(st, 0), col_text(st, 1), col_text(st, 2));
		if (rc)
			goto finalize;
	}
	if (s != SQLITE_DONE)
		rc = fail(db, "reading slot settings");
finalize:
	sqlite3_finalize(st);
	return rc;
}

/* ---- policy ------------------------------------------------------------------- */

int hsd_db_rule_add(struct hsd_db *db, const char *rule, int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	if (!db)
		return -EINVAL;
	if (!rule || !*rule)
		return invalid(db, "empty rule");
	rc = prep(db, "INSERT INTO rules (rule, added) VALUES (?1, ?2)", &st);
	if (rc)
		return rc;
	bind_text(st, 1, rule);
	sqlite3_bind_int64(st, 2, now);
	rc = step_done(db, st, "adding a rule");
	sqlite3_finalize(st);
	return rc;
}

int hsd_db_rule_replace(struct hsd_db *db, const char *rule,
			const char *drop, int64_t now)
{
	sqlite3_stmt *st = NULL;
	bool own;
	int rc;

	if (!db)
		return -EINVAL;
	if (!rule || !*rule || !drop)
		return invalid(db, "empty rule");
	if ((rc = wbegin(db, &own)))
		return rc;
	rc = prep(db, "DELETE FROM rules WHERE rule = ?1 OR rule = ?2", &st);
	if (!rc) {
		bind_text(st, 1, rule);
		bind_text(st, 2, drop);
		rc = step_done(db, st, "replacing a rule");
		sqlite3_finalize(st);
	}
	if (!rc)
		rc = hsd_db_rule_add(db, rule, now);
	return wend(db, own, rc);
}

int hsd_db_rules(struct hsd_db *db, hsd_rule_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int rc, s;

	if (!db)
		return -EINVAL;
	if (!cb)
		return invalid(db, "rules: no callback");
	rc = prep(db, "SELECT id, rule FROM rules ORDER BY id", &st);
	if (rc)
		return rc;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		rc = cb(arg, sqlite3_column_int64(st, 0), col_text(st, 1));
		if (rc)
			goto finalize;
	}
	if (s != SQLITE_DONE)
		rc = fail(db, "reading rules");
finalize:
	sqlite3_finalize(st);
	return rc;
}

int hsd_db_decision_add(struct hsd_db *db, const struct hsd_decision_row *d)
{
	sqlite3_stmt *st;
	int rc;

	if (!db)
		return -EINVAL;
	if (!d || !d->target)
		return invalid(db, "decision without a target");
	rc = prep(db, "INSERT INTO decisions (time, slot, bdf, ids, target, why)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, d->time);
	bind_text(st, 2, d->slot);
	bind_text(st, 3, d->bdf);
	bind_text(st, 4, d->ids);
	bind_text(st, 5, d->target);
	bind_text(st, 6, d->why);
	rc = step_done(db, st, "recording a decision");
	sqlite3_finalize(st);
	return rc;
}

int hsd_db_decisions(struct hsd_db *db, unsigned limit, hsd_decision_cb cb,
		     void *arg)
{
	struct hsd_decision_row d;
	sqlite3_stmt *st;
	int rc, s;

	if (!db)
		return -EINVAL;
	if (!cb)
		return invalid(db, "decisions: no callback");
	rc = prep(db, "SELECT time, slot, bdf, ids, target, why FROM"
		      " (SELECT * FROM decisions ORDER BY id DESC LIMIT ?1)"
		      " ORDER BY id", &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, sql_limit(limit));
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		d.time = sqlite3_column_int64(st, 0);
		d.slot = col_text(st, 1);
		d.bdf = col_text(st, 2);
		d.ids = col_text(st, 3);
		d.target = col_text(st, 4);
		d.why = col_text(st, 5);
		rc = cb(arg, &d);
		if (rc)
			goto finalize;
	}
	if (s != SQLITE_DONE)
		rc = fail(db, "reading decisions");
finalize:
	sqlite3_finalize(st);
	return rc;
}
