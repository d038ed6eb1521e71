/*
 * test_db_errors.c - hotswapd's database (service/db.c) when things go
 * wrong, as the daemon's log and its callers see it: a file that cannot
 * be opened, a database damaged on disk (every read and write fails with
 * -EIO and a message naming the file, what was being done and SQLite's
 * words; the check reports the damage), a dangling reference found by the
 * foreign-key check, bad arguments refused with -EINVAL and a message, a
 * callback that stops an iteration, a transaction misused, and the edges
 * of the event history (trim to nothing, no seq after the largest).
 * test_db.c covers the paths that work.  Everything lives in a mkdtemp
 * directory, removed at the end.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"

static char tmpdir[64];

static void path_of(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", tmpdir, name);

	assert_true(n > 0 && (size_t)n < len);
}

static struct hsd_db *open_ok(const char *path)
{
	struct hsd_db *db = NULL;
	char err[512] = "";

	if (hsd_db_open(path, &db, err, sizeof(err)))
		fail_msg("hsd_db_open(%s): %s", path, err);
	return db;
}

/* err is "PATH: what: ..." */
static void assert_names(const char *err, const char *path, const char *what)
{
	char want[640];

	snprintf(want, sizeof(want), "%s: %s", path, what);
	if (strncmp(err, want, strlen(want)))
		fail_msg("'%s' does not start with '%s'", err, want);
}

static int count_event(void *arg, const struct hsd_event_row *ev)
{
	(void)ev;
	++*(int *)arg;
	return 0;
}

static int stop_event(void *arg, const struct hsd_event_row *ev)
{
	++*(int *)arg;
	return ev->seq == 2 ? 42 : 0;
}

static int stop_device(void *arg, const struct hsd_device_row *d)
{
	(void)d;
	++*(int *)arg;
	return 43;
}

static int stop_setting(void *arg, const char *slot, const char *key,
			const char *value)
{
	(void)slot; (void)key; (void)value;
	++*(int *)arg;
	return 44;
}

static int stop_rule(void *arg, int64_t id, const char *rule)
{
	(void)id; (void)rule;
	++*(int *)arg;
	return 45;
}

static int stop_decision(void *arg, const struct hsd_decision_row *d)
{
	(void)d;
	++*(int *)arg;
	return 46;
}

static void fill(struct hsd_db *db)
{
	struct hsd_device_row dev = {
		.key = "slot:3/00.0", .vendor = 0x8086, .device = 0x10d3,
		.class_code = 0x020000, .slot = "3", .bdf = "0000:03:00.0",
	};
	struct hsd_decision_row dec = {
		.time = 5, .slot = "3", .bdf = "0000:03:00.0",
		.ids = "8086:10d3", .target = "allow", .why = "test",
	};
	char name[32];
	unsigned minor;

	for (uint64_t s = 1; s <= 3; s++) {
		struct hsd_event_row ev = {
			.seq = s, .time = (int64_t)s * 10, .type = "slot",
			.slot = "3", .json = "{}",
		};

		assert_int_equal(hsd_db_event_append(db, &ev), 0);
	}
	assert_int_equal(hsd_db_device_seen(db, &dev, 7), 0);
	assert_int_equal(hsd_db_name(db, "slot:3/00.0", "net", name,
				     sizeof(name), &minor), 0);
	assert_int_equal(hsd_db_slot_set(db, "3", "disabled", "1"), 0);
	assert_int_equal(hsd_db_slot_set(db, "4", "policy", "request"), 0);
	assert_int_equal(hsd_db_rule_add(db, "allow class 02*", 8), 0);
	assert_int_equal(hsd_db_rule_add(db, "block id 10de:*", 9), 0);
	assert_int_equal(hsd_db_decision_add(db, &dec), 0);
	assert_int_equal(hsd_db_decision_add(db, &dec), 0);
}

/* ---- opening ---------------------------------------------------------------- */

static void open_errors(void **state)
{
	struct hsd_db *db = (struct hsd_db *)&db;   /* must be cleared */
	char path[256], err[512];

	(void)state;
	assert_int_equal(hsd_db_open(NULL, &db, err, sizeof(err)), -EINVAL);
	assert_null(db);
	assert_string_equal(err, "hsd_db_open: no database path");
	assert_int_equal(hsd_db_open("", &db, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "hsd_db_open: no database path");
	assert_int_equal(hsd_db_open("x.db", NULL, err, sizeof(err)), -EINVAL);

	/* A directory that does not exist. */
	path_of(path, sizeof(path), "no/such/dir/hotswap.db");
	assert_int_equal(hsd_db_open(path, &db, err, sizeof(err)), -EIO);
	assert_null(db);
	assert_names(err, path, "cannot open: unable to open database file");
	/* The path is a directory. */
	assert_int_equal(hsd_db_open(tmpdir, &db, err, sizeof(err)), -EIO);
	assert_names(err, tmpdir, "");

	/* No database: calls say so instead of crashing. */
	assert_string_equal(hsd_db_errmsg(NULL), "no database");
	assert_int_equal(hsd_db_schema_version(NULL), -EINVAL);
	assert_int_equal(hsd_db_check(NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(hsd_db_begin(NULL), -EINVAL);
	assert_int_equal(hsd_db_commit(NULL), -EINVAL);
	hsd_db_rollback(NULL);
	hsd_db_close(NULL);
	/* ...and every other call the daemon makes. */
	{
		struct hsd_event_row ev = { .seq = 1, .type = "slot",
					    .json = "{}" };
		struct hsd_device_row dev = { .key = "slot:1/00.0" };
		struct hsd_decision_row dec = { .target = "0000:01:00.0" };
		uint64_t seq;
		int64_t t;
		unsigned minor;
		char buf[16];

		assert_int_equal(hsd_db_event_append(NULL, &ev), -EINVAL);
		assert_int_equal(hsd_db_event_last(NULL, &seq, &t), -EINVAL);
		assert_int_equal(hsd_db_events(NULL, 0, NULL, 0, 0, NULL,
					       NULL), -EINVAL);
		assert_int_equal(hsd_db_event_first(NULL, &seq), -EINVAL);
		assert_int_equal(hsd_db_event_trim(NULL, 1), -EINVAL);
		assert_int_equal(hsd_db_name(NULL, "k", "net", buf,
					     sizeof(buf), &minor), -EINVAL);
		assert_int_equal(hsd_db_device_seen(NULL, &dev, 1), -EINVAL);
		assert_int_equal(hsd_db_devices(NULL, NULL, NULL), -EINVAL);
		assert_int_equal(hsd_db_slot_set(NULL, "1", "disabled", "1"),
				 -EINVAL);
		assert_int_equal(hsd_db_slot_get(NULL, "1", "disabled", buf,
						 sizeof(buf)), -EINVAL);
		assert_int_equal(hsd_db_slot_settings(NULL, NULL, NULL),
				 -EINVAL);
		assert_int_equal(hsd_db_rule_add(NULL, "allow class 02*", 1),
				 -EINVAL);
		assert_int_equal(hsd_db_rule_replace(NULL, "allow class 02*",
						     "", 1), -EINVAL);
		assert_int_equal(hsd_db_rules(NULL, NULL, NULL), -EINVAL);
		assert_int_equal(hsd_db_decision_add(NULL, &dec), -EINVAL);
		assert_int_equal(hsd_db_decisions(NULL, 0, NULL, NULL),
				 -EINVAL);
	}
}

/* ---- damage on disk ------------------------------------------------------ */

/* Every page after the first (the schema) overwritten with garbage. */
static void damage(const char *path)
{
	FILE *f = fopen(path, "r+b");
	char junk[4096];
	long size;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 4096);
	memset(junk, 0x5a, sizeof(junk));
	assert_int_equal(fseek(f, 4096, SEEK_SET), 0);
	for (long at = 4096; at < size; at += (long)sizeof(junk))
		assert_int_equal(fwrite(junk, 1, sizeof(junk), f),
				 sizeof(junk));
	assert_int_equal(fclose(f), 0);
}

static void damaged_database(void **state)
{
	struct hsd_db *db;
	struct hsd_event_row ev = { .seq = 9, .time = 90, .type = "slot",
				    .json = "{}" };
	struct hsd_device_row dev = { .key = "slot:5/00.0" };
	struct hsd_decision_row dec = { .target = "block" };
	char path[256], err[512], value[16], name[32];
	uint64_t seq;
	int64_t t;
	unsigned minor;
	int n = 0;

	(void)state;
	path_of(path, sizeof(path), "damaged.db");
	db = open_ok(path);
	fill(db);
	hsd_db_close(db);
	damage(path);

	/* The header and the schema are intact: it opens. */
	db = open_ok(path);
	assert_int_equal(hsd_db_schema_version(db), HSD_DB_SCHEMA_VERSION);

	/* The check reports the damage. */
	assert_int_equal(hsd_db_check(db, err, sizeof(err)), -EIO);
	assert_names(err, path, "integrity_check");
	assert_string_equal(hsd_db_errmsg(db), err);

	/* Every read fails with -EIO, naming the file and what it read. */
	assert_int_equal(hsd_db_events(db, 0, NULL, 0, 0, count_event, &n),
			 -EIO);
	assert_names(hsd_db_errmsg(db), path, "reading events: ");
	assert_int_equal(n, 0);
	assert_int_equal(hsd_db_events_newest(db, "3", 0, 5, count_event, &n),
			 -EIO);
	assert_int_equal(hsd_db_event_first(db, &seq), -EIO);
	assert_names(hsd_db_errmsg(db), path, "reading the first event: ");
	assert_int_equal(hsd_db_event_last(db, &seq, &t), -EIO);
	assert_names(hsd_db_errmsg(db), path, "reading the last event: ");
	assert_int_equal(hsd_db_devices(db, stop_device, &n), -EIO);
	assert_names(hsd_db_errmsg(db), path, "reading devices: ");
	assert_int_equal(hsd_db_slot_get(db, "3", "disabled", value,
					 sizeof(value)), -EIO);
	/* A setting is looked up in all of them, read at once. */
	assert_names(hsd_db_errmsg(db), path, "reading slot settings: ");
	assert_int_equal(hsd_db_slot_settings(db, stop_setting, &n), -EIO);
	assert_names(hsd_db_errmsg(db), path, "reading slot settings: ");
	assert_int_equal(hsd_db_rules(db, stop_rule, &n), -EIO);
	assert_names(hsd_db_errmsg(db), path, "reading rules: ");
	assert_int_equal(hsd_db_decisions(db, 0, stop_decision, &n), -EIO);
	assert_names(hsd_db_errmsg(db), path, "reading decisions: ");
	assert_int_equal(hsd_db_name(db, "slot:3/00.0", "net", name,
				     sizeof(name), &minor), -EIO);
	assert_names(hsd_db_errmsg(db), path, "looking up a name: ");
	assert_int_equal(n, 0);

	/* Writes fail too, and say so. */
	assert_int_equal(hsd_db_event_append(db, &ev), -EIO);
	assert_true(strstr(hsd_db_errmsg(db), path) == hsd_db_errmsg(db));
	assert_int_equal(hsd_db_device_seen(db, &dev, 1), -EIO);
	assert_int_equal(hsd_db_rule_add(db, "allow class 01*", 1), -EIO);
	assert_int_equal(hsd_db_decision_add(db, &dec), -EIO);
	assert_int_equal(hsd_db_event_trim(db, 1), -EIO);
	assert_names(hsd_db_errmsg(db), path, "trimming events: ");
	hsd_db_close(db);
}

/* A file that is not a database at all fails the check's first step. */
static void garbage_file(void **state)
{
	struct hsd_db *db = NULL;
	char path[256], err[512];
	FILE *f;

	(void)state;
	path_of(path, sizeof(path), "garbage.db");
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 2000; i++)
		fputs("not a database ", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(hsd_db_open(path, &db, err, sizeof(err)), -EIO);
	assert_null(db);
	assert_names(err, path, "");
	assert_non_null(strstr(err, "not a database"));
}

/* A row referring to a missing row is reported by the check with the
 * table, the row and what it refers to. */
static void dangling_reference(void **state)
{
	struct hsd_db *db;
	char path[256], err[512], want[640];
	sqlite3 *h;

	(void)state;
	path_of(path, sizeof(path), "fk.db");
	db = open_ok(path);
	assert_int_equal(hsd_db_check(db, err, sizeof(err)), 0);
	hsd_db_close(db);

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h,
		"PRAGMA foreign_keys = OFF;"
		"CREATE TABLE notes (id INTEGER PRIMARY KEY,"
		" rule INTEGER REFERENCES rules(id));"
		"INSERT INTO notes VALUES (1, 77);", NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(h);

	db = open_ok(path);
	assert_int_equal(hsd_db_check(db, err, sizeof(err)), -EIO);
	snprintf(want, sizeof(want), "%s: foreign_key_check: notes row 1 "
		 "refers to a missing row of rules", path);
	assert_string_equal(err, want);
	hsd_db_close(db);
}

/* ---- arguments, callbacks, transactions ---------------------------------- */

static void bad_arguments(void **state)
{
	struct hsd_db *db;
	struct hsd_event_row ev = { .seq = 1, .type = "slot" };   /* no json */
	struct hsd_device_row dev = { .key = NULL };
	struct hsd_decision_row dec = { .target = NULL };
	char path[256], value[16], name[4], want[640];
	unsigned minor;

	(void)state;
	path_of(path, sizeof(path), "args.db");
	db = open_ok(path);
#define REFUSED(call, what)                                                 \
	do {                                                                \
		assert_int_equal((call), -EINVAL);                          \
		snprintf(want, sizeof(want), "%s: %s", path, what);         \
		assert_string_equal(hsd_db_errmsg(db), want);               \
	} while (0)
	REFUSED(hsd_db_event_append(db, &ev), "event without type or JSON");
	REFUSED(hsd_db_events(db, 0, NULL, 0, 0, NULL, NULL),
		"events: no callback");
	REFUSED(hsd_db_device_seen(db, &dev, 1), "device without a key");
	REFUSED(hsd_db_devices(db, NULL, NULL), "devices: no callback");
	REFUSED(hsd_db_name(db, "k", NULL, value, sizeof(value), &minor),
		"name: missing key, prefix or buffer");
	REFUSED(hsd_db_slot_set(db, NULL, "disabled", "1"),
		"slot setting without slot or key");
	REFUSED(hsd_db_slot_get(db, "3", NULL, value, sizeof(value)),
		"slot_get: missing slot, key or buffer");
	REFUSED(hsd_db_slot_settings(db, NULL, NULL),
		"slot_settings: no callback");
	REFUSED(hsd_db_rules(db, NULL, NULL), "rules: no callback");
	REFUSED(hsd_db_decision_add(db, &dec), "decision without a target");
	REFUSED(hsd_db_decisions(db, 0, NULL, NULL), "decisions: no callback");
	/* "net" and a minor do not fit in 4 bytes with the NUL... */
	REFUSED(hsd_db_name(db, "slot:1/00.0", "net", name, 4, &minor),
		"name buffer too small");
	/* ...and the name was not recorded for good meanwhile. */
	assert_int_equal(hsd_db_name(db, "slot:2/00.0", "net", value,
				     sizeof(value), &minor), 0);
	assert_string_equal(value, "net0");
	/* Each missing or empty argument on its own. */
	REFUSED(hsd_db_event_append(db, NULL), "event without type or JSON");
	ev.json = "{}";
	ev.type = NULL;
	REFUSED(hsd_db_event_append(db, &ev), "event without type or JSON");
	ev.type = "slot";
	ev.seq = 0;
	REFUSED(hsd_db_event_append(db, &ev), "event seq out of range");
	ev.seq = (uint64_t)INT64_MAX + 1;
	REFUSED(hsd_db_event_append(db, &ev), "event seq out of range");
	REFUSED(hsd_db_device_seen(db, NULL, 1), "device without a key");
	dev.key = "";
	REFUSED(hsd_db_device_seen(db, &dev, 1), "device without a key");
	REFUSED(hsd_db_name(db, NULL, "net", value, sizeof(value), &minor),
		"name: missing key, prefix or buffer");
	REFUSED(hsd_db_name(db, "", "net", value, sizeof(value), &minor),
		"name: missing key, prefix or buffer");
	REFUSED(hsd_db_name(db, "k", "net", NULL, sizeof(value), &minor),
		"name: missing key, prefix or buffer");
	REFUSED(hsd_db_name(db, "k", "net", value, 0, &minor),
		"name: missing key, prefix or buffer");
	/* "eth1" + 0 would read as "eth" + 10. */
	REFUSED(hsd_db_name(db, "k", "", value, sizeof(value), &minor),
		"name prefix empty or ending in a digit");
	REFUSED(hsd_db_name(db, "k", "eth1", value, sizeof(value), &minor),
		"name prefix empty or ending in a digit");
	REFUSED(hsd_db_slot_set(db, "", "disabled", "1"),
		"slot setting without slot or key");
	REFUSED(hsd_db_slot_set(db, "3", "", "1"),
		"slot setting without slot or key");
	REFUSED(hsd_db_slot_get(db, NULL, "disabled", value, sizeof(value)),
		"slot_get: missing slot, key or buffer");
	REFUSED(hsd_db_slot_get(db, "3", "disabled", NULL, sizeof(value)),
		"slot_get: missing slot, key or buffer");
	REFUSED(hsd_db_slot_get(db, "3", "disabled", value, 0),
		"slot_get: missing slot, key or buffer");
	REFUSED(hsd_db_rule_add(db, NULL, 1), "empty rule");
	REFUSED(hsd_db_rule_add(db, "", 1), "empty rule");
	REFUSED(hsd_db_rule_replace(db, NULL, "", 1), "empty rule");
	REFUSED(hsd_db_rule_replace(db, "allow class 02*", NULL, 1),
		"empty rule");
	REFUSED(hsd_db_decision_add(db, NULL), "decision without a target");
	assert_int_equal(hsd_db_event_first(db, NULL), -EINVAL);
	REFUSED(hsd_db_commit(db), "commit without a transaction");
	assert_int_equal(hsd_db_begin(db), 0);
	REFUSED(hsd_db_begin(db), "a transaction is already open");
	hsd_db_rollback(db);
#undef REFUSED
	hsd_db_close(db);
}

static void callbacks_stop(void **state)
{
	struct hsd_db *db;
	char path[256];
	int n;

	(void)state;
	path_of(path, sizeof(path), "stop.db");
	db = open_ok(path);
	fill(db);
	/* A callback's non-zero value ends the walk and is returned. */
	n = 0;
	assert_int_equal(hsd_db_events(db, 0, NULL, 0, 0, stop_event, &n), 42);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(hsd_db_devices(db, stop_device, &n), 43);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(hsd_db_slot_settings(db, stop_setting, &n), 44);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(hsd_db_rules(db, stop_rule, &n), 45);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(hsd_db_decisions(db, 0, stop_decision, &n), 46);
	assert_int_equal(n, 1);
	hsd_db_close(db);
}

static void history_edges(void **state)
{
	struct hsd_db *db;
	char path[256];
	uint64_t seq = 99;
	int n;

	(void)state;
	path_of(path, sizeof(path), "edges.db");
	db = open_ok(path);
	fill(db);
	/* Nothing can follow the largest seq: no call, no error. */
	n = 0;
	assert_int_equal(hsd_db_events(db, UINT64_MAX, NULL, 0, 0, count_event,
				       &n), 0);
	assert_int_equal(n, 0);
	/* Keeping more than 2^63 events keeps them all. */
	assert_int_equal(hsd_db_event_trim(db, UINT64_MAX), 0);
	assert_int_equal(hsd_db_event_first(db, &seq), 0);
	assert_int_equal(seq, 1);
	/* history_keep = 0 in the daemon never trims; trim(0) empties. */
	assert_int_equal(hsd_db_event_trim(db, 0), 0);
	assert_int_equal(hsd_db_event_first(db, &seq), 0);
	assert_int_equal(seq, 0);
	n = 0;
	assert_int_equal(hsd_db_events(db, 0, NULL, 0, 0, count_event, &n), 0);
	assert_int_equal(n, 0);
	hsd_db_close(db);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hsd-dberr-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_errors),
		cmocka_unit_test(damaged_database),
		cmocka_unit_test(garbage_file),
		cmocka_unit_test(dangling_reference),
		cmocka_unit_test(bad_arguments),
		cmocka_unit_test(callbacks_stop),
		cmocka_unit_test(history_edges),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
