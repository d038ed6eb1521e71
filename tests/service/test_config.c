/*
 * test_config.c - hotswapd.conf (service/config.c) as an operator meets
 * it: every key the file accepts and what it sets, each value type's
 * spellings and its errors (exact text, naming the file, the line and the
 * key), comments, blank lines and spaces, duplicates, a file with an error
 * applied not at all, missing and unreadable files, the defaults for root
 * and for another user, --print-config's output loading back to itself,
 * the rebalancing pin lists, the hot-plug reservation keys, and the man
 * page and the installed file listing every key.  Files live in a
 * mkdtemp directory, removed at the end.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE             /* seteuid, open_memstream, setenv */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"

#ifndef HOTSWAP_SRCDIR
#define HOTSWAP_SRCDIR "."
#endif

static char tmpdir[64];
static char conf[128];          /* tmpdir/hotswapd.conf */
static char err[1024];

/* Writes text (len bytes: it may hold NULs) to tmpdir/hotswapd.conf. */
static void write_len(const char *text, size_t len)
{
	FILE *f = fopen(conf, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Defaults, then text as the config file: load's return value. */
static int load(struct hsd_config *c, const char *text)
{
	hsd_config_defaults(c);
	write_len(text, strlen(text));
	err[0] = '\0';
	return hsd_config_load(c, conf, true, err, sizeof(err));
}

static void load_ok(struct hsd_config *c, const char *text)
{
	if (load(c, text))
		fail_msg("load failed: %s\n--- file ---\n%s", err, text);
}

/* The file is refused with exactly "CONF:line: what". */
static void load_fails(const char *text, unsigned line, const char *what)
{
	struct hsd_config c;
	char want[1024];

	assert_int_equal(load(&c, text), -EINVAL);
	snprintf(want, sizeof(want), "%s:%u: %s", conf, line, what);
	assert_string_equal(err, want);
}

/* One key = value through the file: the error text or "" when taken. */
static const char *set_via_file(struct hsd_config *c, const char *key,
				const char *value)
{
	char text[2200];

	snprintf(text, sizeof(text), "%s = %s\n", key, value);
	if (!load(c, text))
		return "";
	/* Strip "CONF:1: ": the rest is hsd_config_set's message. */
	assert_true(strncmp(err, conf, strlen(conf)) == 0);
	assert_true(strncmp(err + strlen(conf), ":1: ", 4) == 0);
	return err + strlen(conf) + 4;
}

static char *print(const struct hsd_config *c)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	hsd_config_print(c, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hsd-config-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(conf, sizeof(conf), "%s/hotswapd.conf", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- every key ------------------------------------------------------------ */

/* Every key set away from its default; each field checked, then the
 * printed configuration (hotswapd --print-config) line by line. */
static const char all_keys[] =
	"backend = linux\n"
	"topology = /srv/chassis.json\n"
	"catalog = /srv/catalog.json\n"
	"clock = virtual\n"
	"socket = /srv/run/hsd.sock\n"
	"socket_group = wheel\n"
	"read_only_others = yes\n"
	"state_dir = /srv/state\n"
	"runtime_dir = /srv/run\n"
	"agents_dir = /srv/agents.d\n"
	"agent_timeout = 2.5s\n"
	"rules = /srv/rules.conf\n"
	"default_inserted = block\n"
	"default_present = block\n"
	"naming = slot\n"
	"poll = on\n"
	"poll_period = 250ms\n"
	"button_window = 2m\n"
	"log = syslog\n"
	"log_level = debug\n"
	"history_keep = 500\n"
	"pidfile = /srv/run/hsd.pid\n"
	"rebalance = never\n"
	"rebalance_max_moved = 3\n"
	"rebalance_pinned_slots = 3,7\n"
	"rebalance_pinned_classes = 0108,03\n"
	"http_listen = [::1]:8080\n"
	"http_token = /srv/token\n"
	"web_dir = /srv/web\n";

static void test_every_key(void **state)
{
	struct hsd_config c;
	char from[256];

	(void)state;
	load_ok(&c, all_keys);
	assert_string_equal(c.backend, "linux");
	snprintf(from, sizeof(from), "%s:1", conf);
	assert_string_equal(c.backend_from, from);
	assert_string_equal(c.topology, "/srv/chassis.json");
	assert_string_equal(c.catalog, "/srv/catalog.json");
	assert_true(c.virtual_clock);
	assert_string_equal(c.socket, "/srv/run/hsd.sock");
	assert_string_equal(c.socket_group, "wheel");
	assert_true(c.read_only_others);
	assert_string_equal(c.state_dir, "/srv/state");
	assert_string_equal(c.runtime_dir, "/srv/run");
	assert_string_equal(c.agents_dir, "/srv/agents.d");
	assert_int_equal(c.agent_timeout_ms, 2500);
	assert_string_equal(c.rules, "/srv/rules.conf");
	assert_true(c.block_inserted);
	assert_true(c.block_present);
	assert_false(c.name_by_serial);
	assert_true(c.poll);
	assert_int_equal(c.poll_period_ns, 250000000ull);
	assert_int_equal(c.button_window_ns, 120000000000ull);
	assert_true(c.syslog);
	assert_int_equal(c.log_level, LOG_DEBUG - LOG_ERR);
	assert_int_equal(c.history_keep, 500);
	assert_string_equal(c.pidfile, "/srv/run/hsd.pid");
	assert_false(c.rebalance_capable);
	assert_int_equal(c.rebalance_max_moved, 3);
	assert_string_equal(c.rebalance_pinned_slots, "3,7");
	assert_string_equal(c.rebalance_pinned_classes, "0108,03");
	assert_string_equal(c.http_listen, "[::1]:8080");
	assert_string_equal(c.http_token, "/srv/token");
	assert_string_equal(c.web_dir, "/srv/web");
}

static void test_print_every_key(void **state)
{
	struct hsd_config c;
	char *out;

	(void)state;
	load_ok(&c, all_keys);
	out = print(&c);
	/* The file's keys in its order, durations in ms, enums by name,
	 * booleans as yes/no; "platform" (an alias) not repeated. */
	assert_string_equal(out,
		"backend = linux\n"
		"topology = /srv/chassis.json\n"
		"catalog = /srv/catalog.json\n"
		"clock = virtual\n"
		"socket = /srv/run/hsd.sock\n"
		"socket_group = wheel\n"
		"read_only_others = yes\n"
		"state_dir = /srv/state\n"
		"runtime_dir = /srv/run\n"
		"agents_dir = /srv/agents.d\n"
		"agent_timeout = 2500ms\n"
		"rules = /srv/rules.conf\n"
		"default_inserted = block\n"
		"default_present = block\n"
		"naming = slot\n"
		"poll = yes\n"
		"poll_period = 250ms\n"
		"button_window = 120000ms\n"
		"log = syslog\n"
		"log_level = debug\n"
		"history_keep = 500\n"
		"pidfile = /srv/run/hsd.pid\n"
		"rebalance = never\n"
		"rebalance_max_moved = 3\n"
		"rebalance_pinned_slots = 3,7\n"
		"rebalance_pinned_classes = 0108,03\n"
		"http_listen = [::1]:8080\n"
		"http_token = /srv/token\n"
		"web_dir = /srv/web\n");
	free(out);
}

/* What --print-config prints is a config file giving the same config. */
static void test_print_loads_back(void **state)
{
	struct hsd_config c, back;
	char *out, *out2;

	(void)state;
	for (int i = 0; i < 2; i++) {
		if (i == 0)
			hsd_config_defaults(&c);
		else
			load_ok(&c, all_keys);
		out = print(&c);
		load_ok(&back, out);
		out2 = print(&back);
		assert_string_equal(out, out2);
		free(out);
		free(out2);
	}
}

/* "platform", the key's old name, still chooses the back-end, and the
 * daemon can say which line chose it. */
static void test_platform_alias(void **state)
{
	struct hsd_config c;
	char from[256];

	(void)state;
	load_ok(&c, "# the old name\n\nplatform = linux\n");
	assert_string_equal(c.backend, "linux");
	snprintf(from, sizeof(from), "%s:3", conf);
	assert_string_equal(c.backend_from, from);
	/* Not chosen by the file: backend_from stays empty (the default). */
	load_ok(&c, "poll = yes\n");
	assert_string_equal(c.backend, "sim");
	assert_string_equal(c.backend_from, "");
}

/* ---- value types ----------------------------------------------------------- */

static void test_booleans(void **state)
{
	static const char *const yes[] = { "yes", "true", "on", "1", "YES",
					   "True", "oN" };
	static const char *const no[] = { "no", "false", "off", "0", "NO",
					  "False", "OFF" };
	struct hsd_config c;

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		assert_string_equal(set_via_file(&c, "poll", yes[i]), "");
		assert_true(c.poll);
		assert_string_equal(set_via_file(&c, "read_only_others",
						 yes[i]), "");
		assert_true(c.read_only_others);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		load_ok(&c, "poll = yes\nread_only_others = yes\n");
		assert_int_equal(hsd_config_set(&c, "poll", no[i], err,
						sizeof(err)), 0);
		assert_false(c.poll);
		assert_int_equal(hsd_config_set(&c, "read_only_others", no[i],
						err, sizeof(err)), 0);
		assert_false(c.read_only_others);
	}
	assert_string_equal(set_via_file(&c, "poll", "maybe"),
			    "poll: 'maybe' is not yes or no");
	assert_string_equal(set_via_file(&c, "read_only_others", "2"),
			    "read_only_others: '2' is not yes or no");
	assert_string_equal(set_via_file(&c, "poll", "yess"),
			    "poll: 'yess' is not yes or no");
	assert_string_equal(set_via_file(&c, "poll", ""),
			    "poll: '' is not yes or no");
}

static void test_durations(void **state)
{
	static const struct {
		const char *text;
		uint64_t ns;
	} ok[] = {
		{ "250", 250000000ull },         /* bare: milliseconds */
		{ "250ms", 250000000ull },
		{ "1.5s", 1500000000ull },
		{ "2m", 120000000000ull },
		{ "2min", 120000000000ull },
		{ "1500us", 1500000ull },
		{ "10ns", 10ull },
		{ "0", 0 },
		{ "0.25ms", 250000ull },
	};
	static const char *const bad[] = { "", "s", "5 s", "5sec", "5h",
					   "-1s", "nan", "abc", "5S" };
	uint64_t ns;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ns = 12345;
		assert_int_equal(hsd_parse_duration(ok[i].text, &ns), 0);
		assert_int_equal(ns, ok[i].ns);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ns = 12345;
		if (hsd_parse_duration(bad[i], &ns) != -EINVAL)
			fail_msg("'%s' taken as a duration", bad[i]);
		assert_int_equal(ns, 12345);
	}
	/* Past 10^18 ns (31 years) does not fit: out of range. */
	assert_int_equal(hsd_parse_duration("1e10s", &ns), -ERANGE);
	assert_int_equal(hsd_parse_duration("inf", &ns), -ERANGE);
}

static void test_duration_keys(void **state)
{
	struct hsd_config c;

	(void)state;
	assert_string_equal(set_via_file(&c, "button_window", "1.5s"), "");
	assert_int_equal(c.button_window_ns, 1500000000ull);
	assert_string_equal(set_via_file(&c, "button_window", "0"), "");
	assert_int_equal(c.button_window_ns, 0);
	assert_string_equal(set_via_file(&c, "button_window", "5 seconds"),
			    "button_window: '5 seconds' is not a duration "
			    "(like 5s, 250ms, 2m)");
	assert_string_equal(set_via_file(&c, "poll_period", "1e10s"),
			    "poll_period: '1e10s' is not a duration "
			    "(like 5s, 250ms, 2m)");

	/* agent_timeout: milliseconds, 0 = no limit, at most an hour. */
	assert_string_equal(set_via_file(&c, "agent_timeout", "60m"), "");
	assert_int_equal(c.agent_timeout_ms, 3600000);
	assert_string_equal(set_via_file(&c, "agent_timeout", "0"), "");
	assert_int_equal(c.agent_timeout_ms, 0);
	assert_string_equal(set_via_file(&c, "agent_timeout", "1ms"), "");
	assert_int_equal(c.agent_timeout_ms, 1);
	assert_string_equal(set_via_file(&c, "agent_timeout", "61m"),
			    "agent_timeout: at most 1 hour");
	/* Used to become 0 ms, which means no limit at all. */
	assert_string_equal(set_via_file(&c, "agent_timeout", "500us"),
			    "agent_timeout: '500us' is less than 1ms "
			    "(0 means no limit)");
	assert_string_equal(set_via_file(&c, "agent_timeout", "ten"),
			    "agent_timeout: 'ten' is not a duration "
			    "(like 5s, 250ms, 2m)");

	/* poll_period: a period of 0 re-armed the poll timer at once and
	 * kept the daemon at 100 % CPU with poll = yes. */
	assert_string_equal(set_via_file(&c, "poll_period", "1ms"), "");
	assert_int_equal(c.poll_period_ns, 1000000ull);
	assert_string_equal(set_via_file(&c, "poll_period", "0"),
			    "poll_period: '0' is less than 1ms");
	assert_string_equal(set_via_file(&c, "poll_period", "999us"),
			    "poll_period: '999us' is less than 1ms");
}

static void test_numbers(void **state)
{
	static const char *const bad[] = { "", "-1", "12x", "0x10", "1.5",
					   "99999999999999999999999" };
	struct hsd_config c;
	char want[128];

	(void)state;
	assert_string_equal(set_via_file(&c, "history_keep", "0"), "");
	assert_int_equal(c.history_keep, 0);
	assert_string_equal(set_via_file(&c, "history_keep",
					 "18446744073709551615"), "");
	assert_int_equal(c.history_keep, UINT64_MAX);
	assert_string_equal(set_via_file(&c, "rebalance_max_moved", "12"), "");
	assert_int_equal(c.rebalance_max_moved, 12);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(want, sizeof(want), "history_keep: '%s' is not a "
			 "number", bad[i]);
		assert_string_equal(set_via_file(&c, "history_keep", bad[i]),
				    want);
		snprintf(want, sizeof(want), "rebalance_max_moved: '%s' is "
			 "not a number", bad[i]);
		assert_string_equal(set_via_file(&c, "rebalance_max_moved",
						 bad[i]), want);
	}
}

static void test_choices(void **state)
{
	static const char *const levels[] = { "err", "warning", "notice",
					      "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE,
				    LOG_INFO, LOG_DEBUG };
	struct hsd_config c;

	(void)state;
	assert_string_equal(set_via_file(&c, "clock", "realtime"), "");
	assert_false(c.virtual_clock);
	assert_string_equal(set_via_file(&c, "clock", "virtual"), "");
	assert_true(c.virtual_clock);
	assert_string_equal(set_via_file(&c, "default_inserted", "allow"), "");
	assert_false(c.block_inserted);
	assert_string_equal(set_via_file(&c, "default_present", "block"), "");
	assert_true(c.block_present);
	assert_false(c.block_inserted);
	assert_string_equal(set_via_file(&c, "naming", "slot"), "");
	assert_false(c.name_by_serial);
	assert_string_equal(set_via_file(&c, "naming", "card"), "");
	assert_true(c.name_by_serial);
	assert_string_equal(set_via_file(&c, "naming", "serial"), "");
	assert_true(c.name_by_serial);
	assert_string_equal(set_via_file(&c, "log", "stderr"), "");
	assert_false(c.syslog);
	assert_string_equal(set_via_file(&c, "log", "syslog"), "");
	assert_true(c.syslog);
	assert_string_equal(set_via_file(&c, "rebalance", "never"), "");
	assert_false(c.rebalance_capable);
	assert_string_equal(set_via_file(&c, "rebalance", "capable"), "");
	assert_true(c.rebalance_capable);
	for (int i = 0; i < 5; i++) {
		assert_string_equal(set_via_file(&c, "log_level", levels[i]),
				    "");
		/* The daemon logs at LOG_ERR + log_level and below. */
		assert_int_equal(LOG_ERR + c.log_level, prio[i]);
	}

	/* The error lists what would have been taken. */
	assert_string_equal(set_via_file(&c, "clock", "fast"),
			    "clock: 'fast' is not one of realtime, virtual");
	assert_string_equal(set_via_file(&c, "default_inserted", "deny"),
			    "default_inserted: 'deny' is not one of allow, "
			    "block");
	assert_string_equal(set_via_file(&c, "default_present", ""),
			    "default_present: '' is not one of allow, block");
	assert_string_equal(set_via_file(&c, "naming", "name"),
			    "naming: 'name' is not one of slot, card, serial");
	assert_string_equal(set_via_file(&c, "log", "journal"),
			    "log: 'journal' is not one of stderr, syslog");
	assert_string_equal(set_via_file(&c, "log_level", "warn"),
			    "log_level: 'warn' is not one of err, warning, "
			    "notice, info, debug");
	assert_string_equal(set_via_file(&c, "rebalance", "always"),
			    "rebalance: 'always' is not one of never, capable");
	/* Names are exact: not case-folded like the booleans. */
	assert_string_equal(set_via_file(&c, "clock", "Virtual"),
			    "clock: 'Virtual' is not one of realtime, virtual");
	/* A short error buffer truncates the list, nothing more. */
	hsd_config_defaults(&c);
	assert_int_equal(hsd_config_set(&c, "log_level", "x", err, 24),
			 -EINVAL);
	assert_string_equal(err, "log_level: 'x' is not o");
}

static void test_strings(void **state)
{
	static const char *const paths[] = { "topology", "catalog", "socket",
		"state_dir", "runtime_dir", "agents_dir", "rules", "pidfile",
		"http_token", "web_dir" };
	struct hsd_config c;
	char v[600], want[128];

	(void)state;
	/* Paths may be empty (none / the default). */
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_string_equal(set_via_file(&c, paths[i], ""), "");
		memset(v, 'a', 511);
		v[511] = '\0';
		assert_string_equal(set_via_file(&c, paths[i], v), "");
		v[511] = 'a';
		v[512] = '\0';
		snprintf(want, sizeof(want), "%s: value longer than 511 bytes",
			 paths[i]);
		assert_string_equal(set_via_file(&c, paths[i], v), want);
	}
	memset(v, 'g', 63);
	v[63] = '\0';
	assert_string_equal(set_via_file(&c, "socket_group", v), "");
	assert_int_equal(strlen(c.socket_group), 63);
	v[63] = 'g';
	v[64] = '\0';
	assert_string_equal(set_via_file(&c, "socket_group", v),
			    "socket_group: value longer than 63 bytes");
	assert_string_equal(set_via_file(&c, "backend", "a-sixteen-bytes!"),
			    "backend: value longer than 15 bytes");
	memset(v, '1', 128);
	v[128] = '\0';
	assert_string_equal(set_via_file(&c, "http_listen", v),
			    "http_listen: value longer than 127 bytes");
	/* A value may hold '=' and inner spaces: only the first '=' splits. */
	assert_string_equal(set_via_file(&c, "http_token", "/srv/a=b c"), "");
	assert_string_equal(c.http_token, "/srv/a=b c");
}

/* ---- the file's syntax ---------------------------------------------------- */

static void test_comments_and_spaces(void **state)
{
	struct hsd_config c;

	(void)state;
	load_ok(&c,
		"# a comment\n"
		"\n"
		"   \t\n"
		"   # an indented comment\n"
		"poll=yes\n"
		"\tclock   =\tvirtual   # comment after a value\n"
		"history_keep = 42#no space before the comment\n"
		"socket_group = staff \r\n"       /* a CRLF line */
		"  rules  =  \n"                   /* empty value */
		"pidfile = /run/x.pid");           /* no final newline */
	assert_true(c.poll);
	assert_true(c.virtual_clock);
	assert_int_equal(c.history_keep, 42);
	assert_string_equal(c.socket_group, "staff");
	assert_string_equal(c.rules, "");
	assert_string_equal(c.pidfile, "/run/x.pid");

	/* An empty file and a file of comments change nothing. */
	load_ok(&c, "");
	assert_false(c.poll);
	load_ok(&c, "# poll = yes\n#clock = virtual\n");
	assert_false(c.poll);
	assert_false(c.virtual_clock);
	/* '#' inside a value starts a comment (hotswapd.conf(5)). */
	load_ok(&c, "http_token = /srv/tok#en\n");
	assert_string_equal(c.http_token, "/srv/tok");
}

/* The last of several lines for one key wins. */
static void test_duplicates(void **state)
{
	struct hsd_config c;
	char from[256];

	(void)state;
	load_ok(&c, "history_keep = 1\npoll = yes\nhistory_keep = 2\n"
		    "poll = no\n");
	assert_int_equal(c.history_keep, 2);
	assert_false(c.poll);
	load_ok(&c, "backend = linux\nplatform = sim\n");
	assert_string_equal(c.backend, "sim");
	snprintf(from, sizeof(from), "%s:2", conf);
	assert_string_equal(c.backend_from, from);
}

static void test_syntax_errors(void **state)
{
	(void)state;
	load_fails("poll = yes\n\ncolour = blue\n", 3, "unknown key 'colour'");
	load_fails("# hi\npoll yes\n", 2, "expected 'key = value', got "
		   "'poll yes'");
	load_fails("  = yes\n", 1, "unknown key ''");
	/* Keys are exact: no case folding, no inner spaces. */
	load_fails("Poll = yes\n", 1, "unknown key 'Poll'");
	load_fails("history keep = 5\n", 1, "unknown key 'history keep'");
	load_fails("poll = yes\nclock = fast\n", 2,
		   "clock: 'fast' is not one of realtime, virtual");
	/* The comment goes before '=' is looked for. */
	load_fails("poll # = yes\n", 1, "expected 'key = value', got 'poll'");
}

/* A line may be at most 2046 bytes (hotswapd.conf(5)). */
static void test_line_length(void **state)
{
	struct hsd_config c;
	char text[2200];
	size_t n;

	(void)state;
	/* "web_dir = " then padding spaces, then a value: 2046 bytes. */
	n = (size_t)snprintf(text, sizeof(text), "web_dir = ");
	memset(text + n, ' ', 2046 - n - 4);
	memcpy(text + 2046 - 4, "/srv\n", 6);
	assert_int_equal(strlen(text), 2047);
	load_ok(&c, text);
	assert_string_equal(c.web_dir, "/srv");
	/* The same without its newline, at the end of the file. */
	text[2046] = '\0';
	load_ok(&c, text);
	assert_string_equal(c.web_dir, "/srv");
	/* One byte more, with and without the newline. */
	memcpy(text + 2046 - 4, "/srvx\n", 7);
	load_fails(text, 1, "line longer than 2046 bytes");
	text[2047] = '\0';
	load_fails(text, 1, "line longer than 2046 bytes");
	/* A long line after good ones names its own line. */
	snprintf(text, sizeof(text), "poll = yes\n# x\n%2100s\n", "x");
	load_fails(text, 3, "line longer than 2046 bytes");
}

/* A NUL byte was reported as a line longer than 2046 bytes. */
static void test_nul_byte(void **state)
{
	static const char text[] = "poll = yes\nclock = virtual\0junk\n";
	struct hsd_config c;
	char want[256];

	(void)state;
	hsd_config_defaults(&c);
	write_len(text, sizeof(text) - 1);
	assert_int_equal(hsd_config_load(&c, conf, true, err, sizeof(err)),
			 -EINVAL);
	snprintf(want, sizeof(want), "%s:2: NUL byte in the line", conf);
	assert_string_equal(err, want);
	assert_false(c.poll);
}

/* A file with any error is applied not at all (hotswapd.conf(5)). */
static void test_error_applies_nothing(void **state)
{
	static const char text[] = "poll = yes\nbackend = linux\n"
				   "history_keep = 9\nlog_level = loud\n";
	struct hsd_config c, before;
	char *a, *b;

	(void)state;
	hsd_config_defaults(&c);
	assert_int_equal(hsd_config_set(&c, "history_keep", "7", err,
					sizeof(err)), 0);
	before = c;
	write_len(text, strlen(text));
	assert_int_equal(hsd_config_load(&c, conf, true, err, sizeof(err)),
			 -EINVAL);
	a = print(&c);
	b = print(&before);
	assert_string_equal(a, b);
	assert_string_equal(c.backend_from, "");
	free(a);
	free(b);
}

static void test_missing_and_unreadable(void **state)
{
	struct hsd_config c;
	char path[256], want[512];

	(void)state;
	hsd_config_defaults(&c);
	snprintf(path, sizeof(path), "%s/nope.conf", tmpdir);
	/* The default file may be missing... */
	err[0] = '\0';
	assert_int_equal(hsd_config_load(&c, path, false, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	/* ...a file named with -c may not. */
	assert_int_equal(hsd_config_load(&c, path, true, err, sizeof(err)),
			 -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
	/* A directory opened without error and read as an empty file. */
	assert_int_equal(hsd_config_load(&c, tmpdir, true, err, sizeof(err)),
			 -EISDIR);
	snprintf(want, sizeof(want), "%s: Is a directory", tmpdir);
	assert_string_equal(err, want);
	assert_int_equal(hsd_config_load(&c, tmpdir, false, err, sizeof(err)),
			 -EISDIR);
	/* Under a file that is not a directory. */
	load_ok(&c, "");
	snprintf(path, sizeof(path), "%s/x", conf);
	assert_int_equal(hsd_config_load(&c, path, false, err, sizeof(err)),
			 -ENOTDIR);
	snprintf(want, sizeof(want), "%s: Not a directory", path);
	assert_string_equal(err, want);
}

/* ---- defaults --------------------------------------------------------------- */

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && !strcmp(s + n - m, tail);
}

/* What does not depend on the user. */
static void check_common_defaults(const struct hsd_config *c)
{
	assert_string_equal(c->backend, "sim");
	assert_string_equal(c->backend_from, "");
	assert_string_equal(c->topology, "");
	assert_string_equal(c->catalog, "");
	assert_false(c->virtual_clock);
	assert_false(c->read_only_others);
	assert_int_equal(c->agent_timeout_ms, 10000);
	assert_false(c->block_inserted);
	assert_false(c->block_present);
	assert_true(c->name_by_serial);
	assert_false(c->poll);
	assert_int_equal(c->poll_period_ns, 1000000000ull);
	assert_int_equal(c->button_window_ns, 5000000000ull);
	assert_false(c->syslog);
	assert_int_equal(LOG_ERR + c->log_level, LOG_INFO);
	assert_int_equal(c->history_keep, 100000);
	assert_string_equal(c->pidfile, "");
	assert_true(c->rebalance_capable);
	assert_int_equal(c->rebalance_max_moved, 0);
	assert_string_equal(c->rebalance_pinned_slots, "");
	assert_string_equal(c->rebalance_pinned_classes, "");
	assert_string_equal(c->http_listen, "");
	assert_string_equal(c->http_token, "");
	assert_string_equal(c->web_dir, "");
}

static void test_defaults_root(void **state)
{
	struct hsd_config c;

	(void)state;
	if (geteuid() != 0)
		skip();
	hsd_config_defaults(&c);
	check_common_defaults(&c);
	/* The FHS places (under the build's prefix for /etc). */
	assert_string_equal(c.runtime_dir, "/run/hotswap");
	assert_string_equal(c.socket, "/run/hotswap/hotswapd.sock");
	assert_true(ends_with(c.state_dir, "/lib/hotswap"));
	assert_true(ends_with(c.agents_dir, "/hotswap/agents.d"));
	assert_true(ends_with(c.rules, "/hotswap/rules.conf"));
	assert_string_equal(c.socket_group, "hotswap");
}

/* Another user's defaults: under $XDG_RUNTIME_DIR, else /tmp/hotswap-UID;
 * no rules, no group.  As root the effective uid is dropped meanwhile. */
static void test_defaults_user(void **state)
{
	const char *old = getenv("XDG_RUNTIME_DIR");
	char *saved = old ? strdup(old) : NULL;
	bool root = geteuid() == 0;
	struct hsd_config x, t;
	char want[128];
	uid_t uid;

	(void)state;
	if (root)
		assert_int_equal(seteuid(65534), 0);
	uid = geteuid();
	setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
	hsd_config_defaults(&x);
	setenv("XDG_RUNTIME_DIR", "", 1);
	hsd_config_defaults(&t);
	if (root)
		assert_int_equal(seteuid(0), 0);
	if (saved)
		setenv("XDG_RUNTIME_DIR", saved, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	free(saved);

	check_common_defaults(&x);
	assert_string_equal(x.runtime_dir, "/run/user/4242/hotswap");
	assert_string_equal(x.socket, "/run/user/4242/hotswap/hotswapd.sock");
	assert_string_equal(x.state_dir, "/run/user/4242/hotswap/state");
	assert_string_equal(x.agents_dir, "/run/user/4242/hotswap/agents.d");
	assert_string_equal(x.rules, "");
	assert_string_equal(x.socket_group, "");

	check_common_defaults(&t);
	snprintf(want, sizeof(want), "/tmp/hotswap-%u", (unsigned)uid);
	assert_string_equal(t.runtime_dir, want);
	snprintf(want, sizeof(want), "/tmp/hotswap-%u/hotswapd.sock",
		 (unsigned)uid);
	assert_string_equal(t.socket, want);
	snprintf(want, sizeof(want), "/tmp/hotswap-%u/state", (unsigned)uid);
	assert_string_equal(t.state_dir, want);
	assert_string_equal(t.rules, "");
}

/* ---- the rebalancing pin lists --------------------------------------------- */

static int pins(const char *slots_text, const char *classes_text,
		uint16_t *slots, unsigned *ns, uint32_t *codes,
		uint32_t *masks, unsigned *nc, unsigned max)
{
	struct hsd_config c;

	hsd_config_defaults(&c);
	assert_int_equal(hsd_config_set(&c, "rebalance_pinned_slots",
					slots_text, err, sizeof(err)), 0);
	assert_int_equal(hsd_config_set(&c, "rebalance_pinned_classes",
					classes_text, err, sizeof(err)), 0);
	err[0] = '\0';
	return hsd_config_pins(&c, slots, ns, codes, masks, nc, max, err,
			       sizeof(err));
}

static void test_pins(void **state)
{
	uint16_t slots[4];
	uint32_t codes[4], masks[4];
	unsigned ns, nc;

	(void)state;
	assert_int_equal(pins("", "", slots, &ns, codes, masks, &nc, 4), 0);
	assert_int_equal(ns, 0);
	assert_int_equal(nc, 0);

	assert_int_equal(pins("3, 7,,65535", "0108,03,0x010802,0X0c03",
			      slots, &ns, codes, masks, &nc, 4), 0);
	assert_int_equal(ns, 3);
	assert_int_equal(slots[0], 3);
	assert_int_equal(slots[1], 7);
	assert_int_equal(slots[2], 65535);
	assert_int_equal(nc, 4);
	/* 4 digits: class and subclass; 2: the base class; 6: all. */
	assert_int_equal(codes[0], 0x010800);
	assert_int_equal(masks[0], 0xffff00);
	assert_int_equal(codes[1], 0x030000);
	assert_int_equal(masks[1], 0xff0000);
	assert_int_equal(codes[2], 0x010802);
	assert_int_equal(masks[2], 0xffffff);
	assert_int_equal(codes[3], 0x0c0300);
	assert_int_equal(masks[3], 0xffff00);
	/* Spaces separate entries as commas do. */
	assert_int_equal(pins("1 2", "01 0c03", slots, &ns, codes, masks, &nc,
			      4), 0);
	assert_int_equal(ns, 2);
	assert_int_equal(slots[1], 2);
	assert_int_equal(nc, 2);
	assert_int_equal(codes[1], 0x0c0300);
}

static void test_pin_errors(void **state)
{
	static const char *const bad_slots[] = { "x", "3a", "0x3", "-1",
						 "65536" };
	static const char *const bad_classes[] = { "1", "010", "01080", "0",
		"0x", "zz", "-1", "+2", "0x-1", "0x+1f" };
	uint16_t slots[2];
	uint32_t codes[2], masks[2];
	unsigned ns, nc;
	char want[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_slots) / sizeof(bad_slots[0]); i++) {
		char text[32];

		snprintf(text, sizeof(text), "3,%s", bad_slots[i]);
		assert_int_equal(pins(text, "", slots, &ns, codes, masks, &nc,
				      2), -EINVAL);
		snprintf(want, sizeof(want), "rebalance_pinned_slots: '%s' is "
			 "not a slot number", bad_slots[i]);
		assert_string_equal(err, want);
	}
	for (size_t i = 0; i < sizeof(bad_classes) / sizeof(bad_classes[0]);
	     i++) {
		const char *tok = bad_classes[i];

		assert_int_equal(pins("", tok, slots, &ns, codes, masks, &nc,
				      2), -EINVAL);
		snprintf(want, sizeof(want), "rebalance_pinned_classes: '%s' "
			 "is not a class code (2, 4 or 6 hex digits: 01, 0108, "
			 "010802)", tok);
		assert_string_equal(err, want);
	}
	assert_int_equal(pins("1,2,3", "", slots, &ns, codes, masks, &nc, 2),
			 -EINVAL);
	assert_string_equal(err, "rebalance_pinned_slots: more than 2 slots");
	assert_int_equal(pins("", "01,02,03", slots, &ns, codes, masks, &nc,
			      2), -EINVAL);
	assert_string_equal(err, "rebalance_pinned_classes: more than 2 "
			    "classes");
}

/* ---- hot-plug reservations ------------------------------------------------ */

static void test_reservations(void **state)
{
	struct hsd_config c;
	const struct hsd_reserve_cfg *all, *s3;
	char *out;

	(void)state;
	load_ok(&c, "# reservations\n"
		    "reserve.mem = 64M\n"
		    "reserve.pref = 8G\n"
		    "slot.3.reserve.buses = 2\n"
		    "slot.3.reserve.io = 0x1000\n"
		    "reserve.mem = 2KiB\n");
	assert_int_equal(c.nreserve, 2);
	all = hsd_config_reserve(&c, -1);
	s3 = hsd_config_reserve(&c, 3);
	assert_non_null(all);
	assert_non_null(s3);
	assert_null(hsd_config_reserve(&c, 4));
	/* The last line for a value wins; each remembers its line. */
	assert_int_equal(all->v[HSD_RESV_MEM], 2048);
	assert_int_equal(all->line[HSD_RESV_MEM], 6);
	assert_int_equal(all->v[HSD_RESV_PREF], 8ull << 30);
	assert_int_equal(all->set, (1u << HSD_RESV_MEM) | (1u << HSD_RESV_PREF));
	assert_int_equal(s3->v[HSD_RESV_BUSES], 2);
	assert_int_equal(s3->v[HSD_RESV_IO], 4096);
	assert_int_equal(s3->line[HSD_RESV_IO], 5);
	assert_string_equal(c.reserve_file, conf);
	assert_string_equal(hsd_reserve_name(HSD_RESV_PREF), "pref");
	assert_string_equal(hsd_reserve_name(HSD_RESV_COUNT), "?");
	/* Printed after the other keys, in bytes; and loads back. */
	out = print(&c);
	assert_non_null(strstr(out, "\nweb_dir = \nreserve.mem = 2048\n"
				    "reserve.pref = 8589934592\n"
				    "slot.3.reserve.buses = 2\n"
				    "slot.3.reserve.io = 4096\n"));
	free(out);

	assert_string_equal(set_via_file(&c, "reserve.bus", "1"),
			    "reserve.bus: 'bus' is not a reservation: one of "
			    "buses, io, mem, pref");
	assert_string_equal(set_via_file(&c, "slot.x.reserve.io", "4K"),
			    "slot.x.reserve.io: 'x' is not a physical slot "
			    "number (slot.N.reserve.RES)");
	assert_string_equal(set_via_file(&c, "slot.3.reserv.io", "4K"),
			    "unknown key 'slot.3.reserv.io' (a slot's keys are "
			    "slot.N.reserve.buses, .io, .mem, .pref; N a "
			    "physical slot number up to 65535)");
	assert_string_equal(set_via_file(&c, "slot.65536.reserve.io", "4K"),
			    "unknown key 'slot.65536.reserve.io' (a slot's keys "
			    "are slot.N.reserve.buses, .io, .mem, .pref; N a "
			    "physical slot number up to 65535)");
	assert_string_equal(set_via_file(&c, "reserve.buses", "256"),
			    "reserve.buses: '256' is not a number of buses "
			    "(0 to 255)");
	assert_string_equal(set_via_file(&c, "reserve.buses", "-1"),
			    "reserve.buses: '-1' is not a number of buses "
			    "(0 to 255)");
	assert_string_equal(set_via_file(&c, "reserve.io", "8G"),
			    "reserve.io: '8G' is not a size of at most 4G "
			    "(like 4096, 4K, 64M, 1G)");
	assert_string_equal(set_via_file(&c, "reserve.mem", "lots"),
			    "reserve.mem: 'lots' is not a size (like 4096, 4K, "
			    "64M, 1G)");
	assert_string_equal(set_via_file(&c, "reserve.mem", "64Q"),
			    "reserve.mem: '64Q' is not a size (like 4096, 4K, "
			    "64M, 1G)");
	assert_string_equal(set_via_file(&c, "reserve.pref", "99999999T"),
			    "reserve.pref: '99999999T' is not a size (like "
			    "4096, 4K, 64M, 1G)");
}

static void test_reservations_bounded(void **state)
{
	struct hsd_config c;
	char text[4096], *t = text;

	(void)state;
	/* The defaults for every slot and 31 slots of their own fit. */
	t += sprintf(t, "reserve.buses = 2\n");
	for (int i = 1; i < HSD_RESERVE_MAX; i++)
		t += sprintf(t, "slot.%d.reserve.buses = 1\n", i);
	load_ok(&c, text);
	assert_int_equal(c.nreserve, HSD_RESERVE_MAX);
	/* A 32nd slot does not, and the line says so. */
	sprintf(t, "slot.99.reserve.buses = 1\n");
	assert_int_equal(load(&c, text), -EINVAL);
	assert_non_null(strstr(err, ":33: slot.99.reserve.buses: too many "
			       "reservations: at most 32 entries, the "
			       "default reserve.* and one per slot"));
}

/* Without a default, all 32 entries go to slots (the message's count is
 * the entries, not "slots minus one"). */
static void test_reservations_bounded_without_default(void **state)
{
	struct hsd_config c;
	char text[4096], *t = text;

	(void)state;
	for (int i = 1; i <= HSD_RESERVE_MAX; i++)
		t += sprintf(t, "slot.%d.reserve.io = 4K\n", i);
	load_ok(&c, text);
	assert_int_equal(c.nreserve, HSD_RESERVE_MAX);
	sprintf(t, "slot.99.reserve.io = 4K\n");
	assert_int_equal(load(&c, text), -EINVAL);
	assert_non_null(strstr(err, ":33: slot.99.reserve.io: too many "
			       "reservations: at most 32 entries"));
}

/* ---- the documentation lists every key ---------------------------------- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Every key --print-config prints has its entry in hotswapd.conf(5) and
 * its commented-out line in the installed etc/hotswapd.conf. */
static void test_docs_list_every_key(void **state)
{
	char *man = slurp(HOTSWAP_SRCDIR "/doc/hotswapd.conf.5");
	char *etc = slurp(HOTSWAP_SRCDIR "/etc/hotswapd.conf");
	struct hsd_config c;
	char *out, *line, *save = NULL, needle[96];
	unsigned n = 0;

	(void)state;
	hsd_config_defaults(&c);
	out = print(&c);
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		*strchr(line, ' ') = '\0';
		snprintf(needle, sizeof(needle), "\n.BR %s \"", line);
		if (!strstr(man, needle))
			fail_msg("hotswapd.conf(5) has no entry for '%s'", line);
		snprintf(needle, sizeof(needle), "\n#%s =", line);
		if (!strstr(etc, needle))
			fail_msg("etc/hotswapd.conf does not show '%s'", line);
		n++;
	}
	assert_int_equal(n, 29);
	free(out);
	free(man);
	free(etc);
}

/* The installed file's commented-out lines, uncommented, load: each
 * documented default is a value the parser takes, and (paths aside,
 * which depend on the prefix and the user) the one the daemon uses. */
static void test_installed_file_defaults(void **state)
{
	static const char *const paths[] = { "socket", "socket_group",
		"state_dir", "runtime_dir", "agents_dir", "rules", "topology",
		"catalog", "pidfile", "http_token", "web_dir", NULL };
	char *etc = slurp(HOTSWAP_SRCDIR "/etc/hotswapd.conf");
	char *text = calloc(1, strlen(etc) + 1), *t = text;
	char *line, *save = NULL, *a, *b, *la, *lb, *sa = NULL, *sb = NULL;
	struct hsd_config c, d;
	unsigned n = 0;

	(void)state;
	assert_non_null(text);
	for (line = strtok_r(etc, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t k = strspn(line + 1, "abcdefghijklmnopqrstuvwxyz_");

		if (line[0] != '#' || !k || strncmp(line + 1 + k, " =", 2))
			continue;
		t += sprintf(t, "%s\n", line + 1);
		n++;
	}
	assert_int_equal(n, 29);
	load_ok(&c, text);
	hsd_config_defaults(&d);
	a = print(&c);
	b = print(&d);
	for (la = strtok_r(a, "\n", &sa), lb = strtok_r(b, "\n", &sb); la && lb;
	     la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb)) {
		bool path = false;

		for (int i = 0; paths[i]; i++)
			if (!strncmp(la, paths[i], strlen(paths[i])) &&
			    la[strlen(paths[i])] == ' ')
				path = true;
		if (!path)
			assert_string_equal(la, lb);
	}
	assert_null(la);
	assert_null(lb);
	free(a);
	free(b);
	free(text);
	free(etc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_print_every_key),
		cmocka_unit_test(test_print_loads_back),
		cmocka_unit_test(test_platform_alias),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_duration_keys),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_choices),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_comments_and_spaces),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_line_length),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_error_applies_nothing),
		cmocka_unit_test(test_missing_and_unreadable),
		cmocka_unit_test(test_defaults_root),
		cmocka_unit_test(test_defaults_user),
		cmocka_unit_test(test_pins),
		cmocka_unit_test(test_reservations),
		cmocka_unit_test(test_reservations_bounded),
		cmocka_unit_test(test_reservations_bounded_without_default),
		cmocka_unit_test(test_pin_errors),
		cmocka_unit_test(test_docs_list_every_key),
		cmocka_unit_test(test_installed_file_defaults),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
