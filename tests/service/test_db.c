/*
 * test_db.c - hotswapd's SQLite state (service/db.c) as its users see it:
 * files created, reopened, migrated from version 1 or refused; stable
 * names; the event history; slot settings, rules, decisions, devices;
 * transactions; and a writer SIGKILLed mid-stream leaving whole
 * transactions only.  Everything lives in a mkdtemp directory under
 * /tmp, removed at the end.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
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
	int rc = hsd_db_open(path, &db, err, sizeof(err));

	if (rc)
		fail_msg("hsd_db_open(%s) = %d: %s", path, rc, err);
	assert_non_null(db);
	return db;
}

static struct hsd_db *open_new(const char *name)
{
	char path[256];

	path_of(path, sizeof(path), name);
	return open_ok(path);
}

/* Raw SQLite, for building files the way an older build left them. */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *h = NULL;
	char *e = NULL;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	if (sqlite3_exec(h, sql, NULL, NULL, &e) != SQLITE_OK)
		fail_msg("raw sql failed: %s", e ? e : "?");
	sqlite3_free(e);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static bool exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static void check_ok(struct hsd_db *db)
{
	char err[512] = "";
	int rc = hsd_db_check(db, err, sizeof(err));

	if (rc)
		fail_msg("hsd_db_check = %d: %s", rc, err);
}

static int append(struct hsd_db *db, uint64_t seq, int64_t time,
		  const char *type, const char *slot)
{
	struct hsd_event_row ev = { seq, time, type, slot, NULL };
	char json[128];

	snprintf(json, sizeof(json), "{\"seq\":%llu}", (unsigned long long)seq);
	ev.json = json;
	return hsd_db_event_append(db, &ev);
}

/* ---- collectors ------------------------------------------------------- */

struct seqs {
	uint64_t seq[64];
	char slot[64][16];
	size_t n;
	size_t stop_at;         /* stop (return 7) after this many; 0: never */
};

static int collect_event(void *arg, const struct hsd_event_row *ev)
{
	struct seqs *s = arg;
	char want[128];

	snprintf(want, sizeof(want), "{\"seq\":%llu}",
		 (unsigned long long)ev->seq);
	assert_string_equal(ev->json, want);
	assert_true(s->n < 64);
	s->seq[s->n] = ev->seq;
	snprintf(s->slot[s->n], sizeof(s->slot[0]), "%s",
		 ev->slot ? ev->slot : "-");
	s->n++;
	return s->stop_at && s->n == s->stop_at ? 7 : 0;
}

static void expect_seqs(const struct seqs *s, const uint64_t *want, size_t n)
{
	size_t i;

	assert_int_equal(s->n, n);
	for (i = 0; i < n; i++)
		assert_int_equal(s->seq[i], want[i]);
}

struct devs {
	struct {
		char key[64], bdf[32], name[16];
		bool named, has_serial;
		uint64_t serial;
		uint16_t vendor;
		uint32_t class_code;
		int64_t first, last;
		unsigned times, minor;
	} d[8];
	size_t n;
};

static int collect_dev(void *arg, const struct hsd_device_row *dev)
{
	struct devs *s = arg;

	assert_true(s->n < 8);
	snprintf(s->d[s->n].key, sizeof(s->d[0].key), "%s", dev->key);
	snprintf(s->d[s->n].bdf, sizeof(s->d[0].bdf), "%s",
		 dev->bdf ? dev->bdf : "-");
	s->d[s->n].named = dev->name != NULL;
	snprintf(s->d[s->n].name, sizeof(s->d[0].name), "%s",
		 dev->name ? dev->name : "-");
	s->d[s->n].has_serial = dev->has_serial;
	s->d[s->n].serial = dev->serial;
	s->d[s->n].vendor = dev->vendor;
	s->d[s->n].class_code = dev->class_code;
	s->d[s->n].first = dev->first_seen;
	s->d[s->n].last = dev->last_seen;
	s->d[s->n].times = dev->times_seen;
	s->d[s->n].minor = dev->minor;
	s->n++;
	return 0;
}

struct strs {
	char s[16][96];
	size_t n;
};

static int collect_setting(void *arg, const char *slot, const char *key,
			   const char *value)
{
	struct strs *s = arg;

	assert_true(s->n < 16);
	snprintf(s->s[s->n++], sizeof(s->s[0]), "%s.%s=%s", slot, key, value);
	return 0;
}

static int collect_rule(void *arg, int64_t id, const char *rule)
{
	struct strs *s = arg;

	assert_true(id > 0);
	assert_true(s->n < 16);
	snprintf(s->s[s->n++], sizeof(s->s[0]), "%s", rule);
	return 0;
}

static int collect_decision(void *arg, const struct hsd_decision_row *d)
{
	struct strs *s = arg;

	assert_true(s->n < 16);
	snprintf(s->s[s->n++], sizeof(s->s[0]), "%lld %s %s %s %s %s",
		 (long long)d->time, d->slot ? d->slot : "-",
		 d->bdf ? d->bdf : "-", d->ids ? d->ids : "-", d->target,
		 d->why ? d->why : "-");
	return 0;
}

static void name_is(struct hsd_db *db, const char *key, const char *prefix,
		    const char *want, unsigned want_minor)
{
	char name[32];
	unsigned minor = 999;

	assert_int_equal(hsd_db_name(db, key, prefix, name, sizeof(name),
				     &minor), 0);
	assert_string_equal(name, want);
	assert_int_equal(minor, want_minor);
}

/* ---- tests --------------------------------------------------------------- */

static void create_and_reopen(void **state)
{
	struct strs rules = { .n = 0 };
	struct seqs ev = { .n = 0 };
	char path[256], value[32];
	struct hsd_db *db;
	uint64_t last;
	int64_t t;

	(void)state;
	path_of(path, sizeof(path), "reopen.db");
	assert_false(exists(path));
	db = open_ok(path);
	assert_true(exists(path));
	assert_int_equal(hsd_db_schema_version(db), HSD_DB_SCHEMA_VERSION);
	assert_int_equal(append(db, 1, 100, "slot", "s1"), 0);
	assert_int_equal(append(db, 2, 200, "driver", NULL), 0);
	assert_int_equal(hsd_db_slot_set(db, "s1", "disabled", "1"), 0);
	assert_int_equal(hsd_db_rule_add(db, "allow class 02*", 5), 0);
	hsd_db_close(db);

	db = open_ok(path);
	assert_int_equal(hsd_db_schema_version(db), HSD_DB_SCHEMA_VERSION);
	assert_int_equal(hsd_db_event_last(db, &last, &t), 0);
	assert_int_equal(last, 2);
	assert_int_equal(t, 200);
	assert_int_equal(hsd_db_events(db, 0, NULL, INT64_MIN, 0,
				       collect_event, &ev), 0);
	expect_seqs(&ev, (const uint64_t[]){ 1, 2 }, 2);
	assert_string_equal(ev.slot[0], "s1");
	assert_string_equal(ev.slot[1], "-");
	assert_int_equal(hsd_db_slot_get(db, "s1", "disabled", value,
					 sizeof(value)), 0);
	assert_string_equal(value, "1");
	assert_int_equal(hsd_db_rules(db, collect_rule, &rules), 0);
	assert_int_equal(rules.n, 1);
	assert_string_equal(rules.s[0], "allow class 02*");
	check_ok(db);
	hsd_db_close(db);

	/* The file is in WAL mode for every later opener too. */
	{
		sqlite3 *h;
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode",
						    -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0),
				    "wal");
		sqlite3_finalize(st);
		sqlite3_close(h);
	}
}

/* Version 1 exactly as the first release wrote it. */
static const char v1_schema[] =
	"CREATE TABLE events (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
	" type TEXT NOT NULL, slot TEXT, json TEXT NOT NULL);"
	"CREATE TABLE devices (key TEXT PRIMARY KEY NOT NULL,"
	" vendor INTEGER NOT NULL, device INTEGER NOT NULL,"
	" subsys_vendor INTEGER NOT NULL, subsys INTEGER NOT NULL,"
	" class INTEGER NOT NULL, serial INTEGER, slot TEXT, bdf TEXT,"
	" first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL);"
	"CREATE TABLE names (key TEXT PRIMARY KEY NOT NULL,"
	" prefix TEXT NOT NULL, minor INTEGER NOT NULL,"
	" UNIQUE (prefix, minor));"
	"CREATE TABLE slot_settings (slot TEXT NOT NULL, key TEXT NOT NULL,"
	" value TEXT NOT NULL, PRIMARY KEY (slot, key));"
	"CREATE TABLE rules (id INTEGER PRIMARY KEY, rule TEXT NOT NULL,"
	" added INTEGER NOT NULL);"
	"PRAGMA user_version = 1;";

static void migrate_from_v1(void **state)
{
	struct seqs ev = { .n = 0 };
	struct devs devs = { .n = 0 };
	struct strs dec = { .n = 0 }, rules = { .n = 0 };
	struct hsd_decision_row d = { 50, "s2", "0000:03:00.0",
				      "8086:10d3 sub 8086:a01f class 020000",
				      "allow", "allow class 02*" };
	struct hsd_device_row dev = { 0 };
	char path[256], value[32];
	struct hsd_db *db;

	(void)state;
	path_of(path, sizeof(path), "v1.db");
	raw_exec(path, v1_schema);
	raw_exec(path,
		 "INSERT INTO events VALUES (1, 10, 'slot', 's1', '{\"seq\":1}');"
		 "INSERT INTO events VALUES (2, 20, 'slot', 's2', '{\"seq\":2}');"
		 "INSERT INTO events VALUES (3, 30, 'alert', 's1', '{\"seq\":3}');"
		 "INSERT INTO devices VALUES ('slot:s1/00.0', 32902, 4307,"
		 " 32902, 40991, 131072, NULL, 's1', '0000:03:00.0', 10, 10);"
		 "INSERT INTO names VALUES ('slot:s1/00.0', 'net', 0);"
		 "INSERT INTO slot_settings VALUES ('s1', 'policy', 'request');"
		 "INSERT INTO rules VALUES (1, 'block id 1234:*', 5);");

	db = open_ok(path);
	assert_int_equal(hsd_db_schema_version(db), 2);
	check_ok(db);

	/* Old rows survive. */
	assert_int_equal(hsd_db_events(db, 0, "s1", INT64_MIN, 0,
				       collect_event, &ev), 0);
	expect_seqs(&ev, (const uint64_t[]){ 1, 3 }, 2);
	assert_int_equal(hsd_db_slot_get(db, "s1", "policy", value,
					 sizeof(value)), 0);
	assert_string_equal(value, "request");
	assert_int_equal(hsd_db_rules(db, collect_rule, &rules), 0);
	assert_int_equal(rules.n, 1);
	assert_string_equal(rules.s[0], "block id 1234:*");
	name_is(db, "slot:s1/00.0", "net", "net0", 0);
	name_is(db, "slot:s2/00.0", "net", "net1", 1);
	assert_int_equal(hsd_db_devices(db, collect_dev, &devs), 0);
	assert_int_equal(devs.n, 1);
	assert_int_equal(devs.d[0].times, 1);      /* the v2 default */
	assert_string_equal(devs.d[0].name, "net0");

	/* What version 2 adds works on the migrated file. */
	dev.key = "slot:s1/00.0";
	dev.vendor = 0x8086;
	dev.device = 0x10d3;
	dev.class_code = 0x020000;
	dev.slot = "s1";
	dev.bdf = "0000:03:00.0";
	assert_int_equal(hsd_db_device_seen(db, &dev, 99), 0);
	devs.n = 0;
	assert_int_equal(hsd_db_devices(db, collect_dev, &devs), 0);
	assert_int_equal(devs.d[0].times, 2);
	assert_int_equal(devs.d[0].first, 10);
	assert_int_equal(devs.d[0].last, 99);
	assert_int_equal(hsd_db_decision_add(db, &d), 0);
	assert_int_equal(hsd_db_decisions(db, 0, collect_decision, &dec), 0);
	assert_int_equal(dec.n, 1);
	assert_string_equal(dec.s[0], "50 s2 0000:03:00.0 8086:10d3 sub "
			    "8086:a01f class 020000 allow allow class 02*");
	assert_int_equal(append(db, 4, 40, "slot", "s1"), 0);
	assert_int_equal(append(db, 3, 40, "slot", "s1"), -EINVAL);
	hsd_db_close(db);

	/* And the migration is done once: reopening changes nothing. */
	db = open_ok(path);
	assert_int_equal(hsd_db_schema_version(db), 2);
	dec.n = 0;
	assert_int_equal(hsd_db_decisions(db, 0, collect_decision, &dec), 0);
	assert_int_equal(dec.n, 1);
	hsd_db_close(db);
}

static void newer_version_refused(void **state)
{
	char path[256], wal[300], err[512] = "", want[64];
	struct hsd_db *db = (struct hsd_db *)&db;   /* must be cleared */
	size_t len0, len1;
	char *before, *after;

	(void)state;
	path_of(path, sizeof(path), "future.db");
	snprintf(wal, sizeof(wal), "%s-wal", path);
	raw_exec(path, "CREATE TABLE future (x); INSERT INTO future VALUES (1);"
		 "PRAGMA user_version = 3;");
	before = slurp(path, &len0);

	assert_int_equal(hsd_db_open(path, &db, err, sizeof(err)), -EPROTO);
	assert_null(db);
	assert_non_null(strstr(err, path));
	snprintf(want, sizeof(want), "version 3");
	assert_non_null(strstr(err, want));

	after = slurp(path, &len1);
	assert_int_equal(len0, len1);
	assert_memory_equal(before, after, len0);
	assert_false(exists(wal));
	free(before);
	free(after);
}

static void garbage_refused(void **state)
{
	char path[256], err[512] = "", *before, *after;
	struct hsd_db *db = NULL;
	size_t len0, len1, i;
	FILE *f;

	(void)state;
	path_of(path, sizeof(path), "garbage.db");
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < 200; i++)
		fputs("this is not a database, it is a text file\n", f);
	fclose(f);
	before = slurp(path, &len0);

	assert_int_equal(hsd_db_open(path, &db, err, sizeof(err)), -EIO);
	assert_null(db);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "not a database"));

	after = slurp(path, &len1);
	assert_int_equal(len0, len1);
	assert_memory_equal(before, after, len0);
	free(before);
	free(after);
}

static void stable_names(void **state)
{
	char path[256], small[4], name[32];
	struct hsd_db *db;

	(void)state;
	path_of(path, sizeof(path), "names.db");
	db = open_ok(path);
	name_is(db, "slot:1/00.0", "net", "net0", 0);
	name_is(db, "slot:2/00.0", "net", "net1", 1);
	name_is(db, "slot:1/00.0", "net", "net0", 0);        /* same key */
	name_is(db, "slot:3/00.0", "nvme", "nvme0", 0);      /* own numbers */
	/* A key keeps its name when its card's class changes. */
	name_is(db, "slot:2/00.0", "nvme", "net1", 1);
	name_is(db, "slot:4/00.0", "nvme", "nvme1", 1);
	/* A name that does not fit is not recorded. */
	assert_int_equal(hsd_db_name(db, "slot:5/00.0", "net", small,
				     sizeof(small), NULL), -EINVAL);
	assert_int_equal(hsd_db_name(db, "slot:5/00.0", "eth1", name,
				     sizeof(name), NULL), -EINVAL);
	hsd_db_close(db);

	/* Gaps (left by a release that let names go): lowest unused first,
	 * and the other prefix's numbers do not count. */
	raw_exec(path, "INSERT INTO names VALUES ('old:a', 'net', 3);"
		 "INSERT INTO names VALUES ('old:b', 'net', 5);"
		 "INSERT INTO names VALUES ('old:c', 'nvme', 2);");
	db = open_ok(path);
	name_is(db, "slot:1/00.0", "net", "net0", 0);        /* across reopen */
	name_is(db, "slot:2/00.0", "net", "net1", 1);
	name_is(db, "slot:5/00.0", "net", "net2", 2);
	name_is(db, "slot:6/00.0", "net", "net4", 4);
	name_is(db, "slot:7/00.0", "net", "net6", 6);
	name_is(db, "slot:8/00.0", "nvme", "nvme3", 3);
	name_is(db, "slot:5/00.0", "net", "net2", 2);
	check_ok(db);
	hsd_db_close(db);
}

static void events(void **state)
{
	struct seqs s = { .n = 0 };
	struct hsd_db *db = open_new("events.db");
	uint64_t seq, i;
	int64_t t;

	(void)state;
	assert_int_equal(hsd_db_event_last(db, &seq, &t), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(hsd_db_event_first(db, &seq), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(append(db, 0, 0, "slot", NULL), -EINVAL);

	/* seq 1..10 at time 10*seq, odd ones slot s1, even ones s2. */
	for (i = 1; i <= 10; i++)
		assert_int_equal(append(db, i, (int64_t)(10 * i), "slot",
					i % 2 ? "s1" : "s2"), 0);
	assert_int_equal(append(db, 10, 500, "slot", "s1"), -EINVAL);
	assert_int_equal(append(db, 5, 500, "slot", "s1"), -EINVAL);
	assert_non_null(strstr(hsd_db_errmsg(db), "seq"));
	assert_int_equal(hsd_db_event_last(db, &seq, &t), 0);
	assert_int_equal(seq, 10);
	assert_int_equal(t, 100);

	assert_int_equal(hsd_db_events(db, 3, NULL, INT64_MIN, 4,
				       collect_event, &s), 0);
	expect_seqs(&s, (const uint64_t[]){ 4, 5, 6, 7 }, 4);
	s.n = 0;
	assert_int_equal(hsd_db_events(db, 0, "s2", INT64_MIN, 0,
				       collect_event, &s), 0);
	expect_seqs(&s, (const uint64_t[]){ 2, 4, 6, 8, 10 }, 5);
	s.n = 0;
	assert_int_equal(hsd_db_events(db, 2, "s1", 0, 2, collect_event, &s),
			 0);
	expect_seqs(&s, (const uint64_t[]){ 3, 5 }, 2);
	s.n = 0;
	assert_int_equal(hsd_db_events(db, 0, NULL, 75, 0, collect_event, &s),
			 0);
	expect_seqs(&s, (const uint64_t[]){ 8, 9, 10 }, 3);
	s.n = 0;
	assert_int_equal(hsd_db_events(db, 0, "s1", 50, 0, collect_event, &s),
			 0);
	expect_seqs(&s, (const uint64_t[]){ 5, 7, 9 }, 3);
	s.n = 0;
	assert_int_equal(hsd_db_events(db, 10, NULL, INT64_MIN, 0,
				       collect_event, &s), 0);
	assert_int_equal(s.n, 0);
	/* The callback's non-zero return stops and comes back as is. */
	s.n = 0;
	s.stop_at = 2;
	assert_int_equal(hsd_db_events(db, 0, NULL, INT64_MIN, 0,
				       collect_event, &s), 7);
	assert_int_equal(s.n, 2);
	s.stop_at = 0;

	/* Trim keeps the newest; seq keeps rising after. */
	assert_int_equal(hsd_db_event_trim(db, 20), 0);
	assert_int_equal(hsd_db_event_first(db, &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(hsd_db_event_trim(db, 4), 0);
	assert_int_equal(hsd_db_event_first(db, &seq), 0);
	assert_int_equal(seq, 7);
	assert_int_equal(hsd_db_event_last(db, &seq, NULL), 0);
	assert_int_equal(seq, 10);
	s.n = 0;
	assert_int_equal(hsd_db_events(db, 0, NULL, INT64_MIN, 0,
				       collect_event, &s), 0);
	expect_seqs(&s, (const uint64_t[]){ 7, 8, 9, 10 }, 4);
	assert_int_equal(append(db, 9, 0, "slot", NULL), -EINVAL);
	assert_int_equal(append(db, 11, 110, "slot", NULL), 0);
	check_ok(db);
	hsd_db_close(db);
}

static void slot_settings(void **state)
{
	struct strs s = { .n = 0 };
	struct hsd_db *db = open_new("settings.db");
	char v[32], tiny[2];

	(void)state;
	assert_int_equal(hsd_db_slot_get(db, "s1", "disabled", v, sizeof(v)),
			 -ENOENT);
	assert_int_equal(hsd_db_slot_set(db, "s1", "disabled", "1"), 0);
	assert_int_equal(hsd_db_slot_set(db, "s1", "policy", "request"), 0);
	assert_int_equal(hsd_db_slot_set(db, "s0", "policy", "allow"), 0);
	assert_int_equal(hsd_db_slot_get(db, "s1", "disabled", v, sizeof(v)),
			 0);
	assert_string_equal(v, "1");
	assert_int_equal(hsd_db_slot_set(db, "s1", "disabled", "0"), 0);
	assert_int_equal(hsd_db_slot_get(db, "s1", "disabled", v, sizeof(v)),
			 0);
	assert_string_equal(v, "0");
	assert_int_equal(hsd_db_slot_get(db, "s1", "policy", tiny,
					 sizeof(tiny)), -EINVAL);
	assert_int_equal(hsd_db_slot_get(db, "s2", "policy", v, sizeof(v)),
			 -ENOENT);
	assert_int_equal(hsd_db_slot_settings(db, collect_setting, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.s[0], "s0.policy=allow");
	assert_string_equal(s.s[1], "s1.disabled=0");
	assert_string_equal(s.s[2], "s1.policy=request");

	assert_int_equal(hsd_db_slot_set(db, "s1", "disabled", NULL), 0);
	assert_int_equal(hsd_db_slot_get(db, "s1", "disabled", v, sizeof(v)),
			 -ENOENT);
	s.n = 0;
	assert_int_equal(hsd_db_slot_settings(db, collect_setting, &s), 0);
	assert_int_equal(s.n, 2);
	hsd_db_close(db);
}

static void rules_in_order(void **state)
{
	static const char *const want[] = {
		"block id 1234:*", "allow class 02*", "allow slot s3",
		"block serial 0011223344556677",
	};
	struct strs s = { .n = 0 };
	struct hsd_db *db = open_new("rules.db");
	size_t i;

	(void)state;
	assert_int_equal(hsd_db_rules(db, collect_rule, &s), 0);
	assert_int_equal(s.n, 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(hsd_db_rule_add(db, want[i], 100 - (int)i), 0);
	assert_int_equal(hsd_db_rule_add(db, "", 0), -EINVAL);
	assert_int_equal(hsd_db_rules(db, collect_rule, &s), 0);
	assert_int_equal(s.n, 4);
	for (i = 0; i < 4; i++)
		assert_string_equal(s.s[i], want[i]);
	hsd_db_close(db);
}

static void decisions_newest_last(void **state)
{
	struct strs s = { .n = 0 };
	struct hsd_db *db = open_new("decisions.db");
	struct hsd_decision_row d = { 0, NULL, "0000:03:00.0", "8086:10d3",
				      "block", "default for inserted cards" };
	int i;

	(void)state;
	for (i = 1; i <= 5; i++) {
		d.time = i;
		d.slot = i == 3 ? NULL : "s1";
		d.target = i % 2 ? "block" : "allow";
		assert_int_equal(hsd_db_decision_add(db, &d), 0);
	}
	assert_int_equal(hsd_db_decisions(db, 2, collect_decision, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.s[0], "4 s1 0000:03:00.0 8086:10d3 allow "
			    "default for inserted cards");
	assert_string_equal(s.s[1], "5 s1 0000:03:00.0 8086:10d3 block "
			    "default for inserted cards");
	s.n = 0;
	assert_int_equal(hsd_db_decisions(db, 0, collect_decision, &s), 0);
	assert_int_equal(s.n, 5);
	assert_true(strncmp(s.s[0], "1 ", 2) == 0);
	assert_true(strncmp(s.s[2], "3 - ", 4) == 0);
	assert_true(strncmp(s.s[4], "5 ", 2) == 0);
	hsd_db_close(db);
}

static void device_seen(void **state)
{
	struct devs s = { .n = 0 };
	struct hsd_db *db = open_new("devices.db");
	struct hsd_device_row a = { 0 }, b = { 0 };

	(void)state;
	a.key = "serial:8899aabbccddeeff/0";
	a.vendor = 0x8086;
	a.device = 0x10d3;
	a.subsys_vendor = 0x8086;
	a.subsys = 0xa01f;
	a.class_code = 0x020000;
	a.has_serial = true;
	a.serial = 0x8899aabbccddeeffULL;     /* above INT64_MAX */
	a.slot = "s1";
	a.bdf = "0000:03:00.0";
	b.key = "slot:2/00.0";
	b.vendor = 0x1b36;
	b.class_code = 0x010802;
	b.bdf = "0000:04:00.0";

	assert_int_equal(hsd_db_device_seen(db, &a, 100), 0);
	assert_int_equal(hsd_db_device_seen(db, &b, 150), 0);
	assert_int_equal(hsd_db_devices(db, collect_dev, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.d[0].key, a.key);
	assert_true(s.d[0].has_serial);
	assert_true(s.d[0].serial == 0x8899aabbccddeeffULL);
	assert_int_equal(s.d[0].vendor, 0x8086);
	assert_int_equal(s.d[0].class_code, 0x020000);
	assert_int_equal(s.d[0].first, 100);
	assert_int_equal(s.d[0].last, 100);
	assert_int_equal(s.d[0].times, 1);
	assert_false(s.d[0].named);
	assert_false(s.d[1].has_serial);

	/* Seen again elsewhere: updated in place, first_seen kept. */
	a.bdf = "0000:05:00.0";
	a.slot = "s4";
	assert_int_equal(hsd_db_device_seen(db, &a, 300), 0);
	assert_int_equal(hsd_db_device_seen(db, &a, 400), 0);
	name_is(db, a.key, "net", "net0", 0);
	s.n = 0;
	assert_int_equal(hsd_db_devices(db, collect_dev, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.d[0].bdf, "0000:05:00.0");
	assert_int_equal(s.d[0].first, 100);
	assert_int_equal(s.d[0].last, 400);
	assert_int_equal(s.d[0].times, 3);
	assert_true(s.d[0].named);
	assert_string_equal(s.d[0].name, "net0");
	assert_int_equal(s.d[0].minor, 0);
	assert_int_equal(s.d[1].times, 1);
	hsd_db_close(db);
}

static void transactions(void **state)
{
	struct seqs s = { .n = 0 };
	struct hsd_db *db = open_new("txn.db");
	char name[16];
	uint64_t last;

	(void)state;
	assert_int_equal(hsd_db_commit(db), -EINVAL);
	assert_int_equal(hsd_db_begin(db), 0);
	assert_int_equal(hsd_db_begin(db), -EINVAL);            /* no nesting */
	assert_int_equal(append(db, 1, 1, "slot", NULL), 0);
	assert_int_equal(hsd_db_name(db, "k", "net", name, sizeof(name), NULL),
			 0);
	hsd_db_rollback(db);
	assert_int_equal(hsd_db_event_last(db, &last, NULL), 0);
	assert_int_equal(last, 0);

	assert_int_equal(hsd_db_begin(db), 0);
	assert_int_equal(append(db, 1, 1, "slot", NULL), 0);
	assert_int_equal(append(db, 1, 1, "slot", NULL), -EINVAL); /* undone
								      alone */
	assert_int_equal(append(db, 2, 2, "slot", NULL), 0);
	assert_int_equal(hsd_db_slot_set(db, "s1", "k", "v"), 0);
	assert_int_equal(hsd_db_commit(db), 0);
	assert_int_equal(hsd_db_events(db, 0, NULL, INT64_MIN, 0,
				       collect_event, &s), 0);
	expect_seqs(&s, (const uint64_t[]){ 1, 2 }, 2);
	/* The rolled back name was never taken. */
	name_is(db, "other", "net", "net0", 0);
	hsd_db_close(db);
}

static void check_good(void **state)
{
	char err[256] = "unset";
	struct hsd_db *db = open_new("check.db");

	(void)state;
	assert_int_equal(append(db, 1, 1, "slot", "s1"), 0);
	assert_int_equal(hsd_db_check(db, err, sizeof(err)), 0);
	hsd_db_close(db);
}

/* ---- a writer killed at random moments ---------------------------------- */

#define TXN_EVENTS 3

/* Commits transactions of TXN_EVENTS events until killed; says so on
 * ready_fd once the first is committed, so that the kill lands in the
 * middle of the work however slowly the machine starts the process. */
static void writer(const char *path, int ready_fd)
{
	struct hsd_db *db = NULL;
	char err[256];
	uint64_t seq;
	int i, k;

	if (hsd_db_open(path, &db, err, sizeof(err)))
		_exit(2);
	if (hsd_db_event_last(db, &seq, NULL))
		_exit(3);
	for (i = 0; i < 100000; i++) {
		if (hsd_db_begin(db))
			_exit(4);
		for (k = 0; k < TXN_EVENTS; k++) {
			seq++;
			if (append(db, seq, (int64_t)seq, "driver", "s1"))
				_exit(5);
		}
		if (hsd_db_commit(db))
			_exit(6);
		if (i == 0 && write(ready_fd, "r", 1) != 1)
			_exit(7);
	}
	hsd_db_close(db);
	_exit(0);
}

struct gapless {
	uint64_t next;
};

static int gapless_event(void *arg, const struct hsd_event_row *ev)
{
	struct gapless *g = arg;
	char want[64];

	assert_int_equal(ev->seq, g->next);
	assert_int_equal(ev->time, (int64_t)ev->seq);
	snprintf(want, sizeof(want), "{\"seq\":%llu}",
		 (unsigned long long)ev->seq);
	assert_string_equal(ev->json, want);
	g->next++;
	return 0;
}

static void killed_writer(void **state)
{
	unsigned long rng = 20240611;   /* seeded: the same kills each run */
	uint64_t last = 0, prev = 0;
	unsigned killed = 0;
	char path[256];
	int round;

	(void)state;
	path_of(path, sizeof(path), "crash.db");
	for (round = 0; round < 20; round++) {
		struct gapless g = { 1 };
		struct timespec ts;
		struct hsd_db *db;
		long delay_us;
		int status;
		pid_t pid;
		int ready[2];
		char c;

		rng = rng * 6364136223846793005UL + 1442695040888963407UL;
		delay_us = (long)((rng >> 33) % 20000);
		assert_int_equal(pipe(ready), 0);
		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(ready[0]);
			writer(path, ready[1]);
		}
		close(ready[1]);
		/* EOF instead means it exited without committing: the
		 * status below says why. */
		(void)!read(ready[0], &c, 1);
		close(ready[0]);
		ts.tv_sec = 0;
		ts.tv_nsec = delay_us * 1000;
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (WIFSIGNALED(status))
			killed++;
		else
			assert_int_equal(WEXITSTATUS(status), 0);

		db = open_ok(path);
		check_ok(db);
		assert_int_equal(hsd_db_event_last(db, &last, NULL), 0);
		assert_int_equal(last % TXN_EVENTS, 0);   /* whole txns only */
		assert_true(last >= prev);                /* committed stays */
		assert_int_equal(hsd_db_events(db, 0, NULL, INT64_MIN, 0,
					       gapless_event, &g), 0);
		assert_int_equal(g.next, last + 1);
		hsd_db_close(db);
		prev = last;
	}
	assert_true(killed > 0);
	assert_true(last > 0);          /* some rounds got work done */
	print_message("killed writer %u/20 times, %llu events committed\n",
		      killed, (unsigned long long)last);
}

/* ---- setup --------------------------------------------------------------- */

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hsd-test-db-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	struct dirent *de;
	char path[512];
	DIR *d;

	(void)state;
	d = opendir(tmpdir);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, de->d_name);
		unlink(path);
	}
	closedir(d);
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_and_reopen),
		cmocka_unit_test(migrate_from_v1),
		cmocka_unit_test(newer_version_refused),
		cmocka_unit_test(garbage_refused),
		cmocka_unit_test(stable_names),
		cmocka_unit_test(events),
		cmocka_unit_test(slot_settings),
		cmocka_unit_test(rules_in_order),
		cmocka_unit_test(decisions_newest_last),
		cmocka_unit_test(device_seen),
		cmocka_unit_test(transactions),
		cmocka_unit_test(check_good),
		cmocka_unit_test(killed_writer),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
