/*
 * hotswapd - the hot-swap service.
 *
 * Owns: the program: command line, configuration file, logging target,
 * signals (SIGTERM / SIGINT stop cleanly, SIGHUP reloads the policy),
 * the pid file and the readiness notification to the service manager
 * (sd_notify, Type=notify), then the libuv loop.
 *
 * Exit status: 0 stopped by a signal, 1 failed while running, 2 bad
 * usage or configuration, 3 could not start (chassis, database, socket).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon_internal.h"

static struct hsd *the_daemon;
static uv_signal_t sig_term, sig_int, sig_hup;

static void on_stop_signal(uv_signal_t *h, int signum)
{
	(void)h;
	hsd_log(the_daemon, LOG_NOTICE, "%s received", strsignal(signum));
	sd_notify(0, "STOPPING=1");
	hsd_stop(the_daemon);
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
	uv_close((uv_handle_t *)&sig_hup, NULL);
}

static void on_hup(uv_signal_t *h, int signum)
{
	char err[512];

	(void)h;
	(void)signum;
	if (hsd_policy_reload(the_daemon, err, sizeof(err)))
		hsd_log(the_daemon, LOG_ERR, "policy not reloaded: %s", err);
	else
		hsd_log(the_daemon, LOG_NOTICE, "policy reloaded: %u rules",
			hsd_policy_count(the_daemon->policy));
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hotswapd [options]\n"
		"  -c, --config FILE      configuration file (default "
		HOTSWAP_SYSCONFDIR "/hotswap/hotswapd.conf if present)\n"
		"  -b, --backend sim|linux  what to manage: the simulated "
		"chassis (default)\n"
		"                         or this Linux machine's hot-plug "
		"slots\n"
		"  -t, --topology FILE    simulated chassis (default: the "
		"default chassis)\n"
		"      --clock realtime|virtual\n"
		"  -s, --socket PATH      control socket\n"
		"      --state-dir DIR    database and chassis state\n"
		"      --agents DIR       agents directory\n"
		"      --rules FILE       authorization rules\n"
		"      --set KEY=VALUE    any configuration key\n"
		"      --http [ADDR:]PORT serve the web view, REST, Redfish and\n"
		"                         /metrics there (loopback by default)\n"
		"      --syslog           log to syslog instead of stderr\n"
		"  -v, --verbose          log debug messages\n"
		"      --print-config     print the configuration and exit\n"
		"  -h, --help\n"
		"  -V, --version\n"
		"See hotswapd(8) and docs/protocol.md.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "backend", required_argument, NULL, 'b' },
		{ "topology", required_argument, NULL, 't' },
		{ "clock", required_argument, NULL, 'C' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "agents", required_argument, NULL, 'A' },
		{ "rules", required_argument, NULL, 'R' },
		{ "set", required_argument, NULL, 'o' },
		{ "http", required_argument, NULL, 'H' },
		{ "syslog", no_argument, NULL, 'L' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "print-config", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct { const char *key, *value; } sets[64];
	unsigned nsets = 0;
	const char *config = NULL;
	bool print = false;
	struct hsd_config cfg;
	char err[1024];
	uv_loop_t loop;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "b:c:t:s:vhV", opts, NULL)) != -1) {
		const char *key = NULL, *value = optarg;

		switch (opt) {
		case 'c':
			config = optarg;
			continue;
		case 'b': key = "backend"; break;
		case 't': key = "topology"; break;
		case 'C': key = "clock"; break;
		case 's': key = "socket"; break;
		case 'S': key = "state_dir"; break;
		case 'A': key = "agents_dir"; break;
		case 'R': key = "rules"; break;
		case 'H': key = "http_listen"; break;
		case 'L':
			key = "log";
			value = "syslog";
			break;
		case 'v':
			key = "log_level";
			value = "debug";
			break;
		case 'P':
			print = true;
			continue;
		case 'o': {
			char *eq = strchr(optarg, '=');

			if (!eq) {
				fprintf(stderr, "hotswapd: --set wants "
					"KEY=VALUE, got '%s'\n", optarg);
				return 2;
			}
			*eq = '\0';
			key = optarg;
			value = eq + 1;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("hotswapd (hotswap) %s\n", HOTSWAP_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (nsets == sizeof(sets) / sizeof(sets[0])) {
			fprintf(stderr, "hotswapd: too many options\n");
			return 2;
		}
		sets[nsets].key = key;
		sets[nsets++].value = value;
	}
	if (optind < argc) {
		fprintf(stderr, "hotswapd: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	hsd_config_defaults(&cfg);
	if (hsd_config_load(&cfg, config ? config
					 : HOTSWAP_SYSCONFDIR
					   "/hotswap/hotswapd.conf",
			    config != NULL, err, sizeof(err))) {
		fprintf(stderr, "hotswapd: %s\n", err);
		return 2;
	}
	for (unsigned i = 0; i < nsets; i++) {
		if (hsd_config_set(&cfg, sets[i].key, sets[i].value, err,
				   sizeof(err))) {
			fprintf(stderr, "hotswapd: %s\n", err);
			return 2;
		}
		if (!strcmp(sets[i].key, "backend") ||
		    !strcmp(sets[i].key, "platform"))
			snprintf(cfg.backend_from, sizeof(cfg.backend_from),
				 "the command line");
	}
	/* Paths derived from the runtime directory follow it. */
	if (print) {
		hsd_config_print(&cfg, stdout);
		return 0;
	}
	if (cfg.syslog)
		openlog("hotswapd", LOG_PID, LOG_DAEMON);
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&loop);
	rc = hsd_start(&loop, &cfg, &the_daemon, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "hotswapd: %s\n", err);
		if (cfg.syslog)
			syslog(LOG_ERR, "%s", err);
		uv_loop_close(&loop);
		return 3;
	}
	uv_signal_init(&loop, &sig_term);
	uv_signal_init(&loop, &sig_int);
	uv_signal_init(&loop, &sig_hup);
	uv_signal_start(&sig_term, on_stop_signal, SIGTERM);
	uv_signal_start(&sig_int, on_stop_signal, SIGINT);
	uv_signal_start(&sig_hup, on_hup, SIGHUP);
	if (cfg.pidfile[0]) {
		FILE *f = fopen(cfg.pidfile, "w");

		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
			hsd_log(the_daemon, LOG_ERR, "pid file %s: %s",
				cfg.pidfile, strerror(errno));
		}
	}
	hsd_log(the_daemon, LOG_NOTICE, "ready: %s back-end, chassis %s, "
		"%s clock, %zu devices, socket %s",
		the_daemon->be_ops->name,
		the_daemon->be_ops->chassis(the_daemon->be),
		cfg.virtual_clock ? "virtual" : "real-time",
		the_daemon->ndevs, cfg.socket);
	sd_notifyf(0, "READY=1\nSTATUS=serving %s\nMAINPID=%d",
		   cfg.socket, (int)getpid());
	uv_run(&loop, UV_RUN_DEFAULT);
	hsd_free(the_daemon);
	if (cfg.pidfile[0])
		unlink(cfg.pidfile);
	rc = uv_loop_close(&loop);
	if (rc)
		fprintf(stderr, "hotswapd: loop not closed cleanly: %s\n",
			uv_strerror(rc));
	return 0;
}
