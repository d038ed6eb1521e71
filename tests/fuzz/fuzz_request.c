/*
 * fuzz_request.c - libFuzzer harness: untrusted request lines through
 * hotswapd's socket, framing and dispatch (service/server.c, methods.c),
 * in process: one daemon on the virtual clock for the whole run, one
 * client connection (reconnected whenever the daemon closes it).
 *
 * Owns: the protocol's promises under any input (docs/protocol.md): no
 * crash, no leak, no undefined behaviour; every line the daemon sends is
 * one JSON object: a reply ("id" with "result" or "error" {code,
 * message}), an event or the greeting; every error code is one the
 * protocol document lists.  The chassis' state carries over between
 * inputs (operator and sim.* requests change it), as it would for a
 * long-lived daemon.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "config.h"
#include "daemon.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static struct hsd *daemon_;
static struct hsd_config cfg;
static int cfd = -1;
static char in[1 << 20];
static size_t inlen;

static const char *const codes[] = {
	"parse-error", "invalid-request", "invalid-params", "unknown-method",
	"permission-denied", "not-found", "busy", "refused", "failed",
	"not-supported", "too-large", "too-slow", "too-many-requests",
};

static void check_line(const char *line, size_t len)
{
	json_error_t je;
	json_t *m = json_loadb(line, len, 0, &je), *e;
	const char *code;
	size_t i;

	if (!json_is_object(m))
		fuzz_fail("daemon sent a line that is not a JSON object: %.*s",
			  (int)len, line);
	if ((e = json_object_get(m, "error"))) {
		code = json_string_value(json_object_get(e, "code"));
		if (!code || !json_is_string(json_object_get(e, "message")))
			fuzz_fail("error without code or message: %.*s",
				  (int)len, line);
		for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
			if (!strcmp(code, codes[i]))
				break;
		if (i == sizeof(codes) / sizeof(codes[0]))
			fuzz_fail("undocumented error code '%s'", code);
	} else if (!json_object_get(m, "result") &&
		   !json_object_get(m, "event") &&
		   !json_object_get(m, "hello")) {
		fuzz_fail("neither reply, event nor greeting: %.*s", (int)len,
			  line);
	}
	json_decref(m);
}

/* Run the loop and read what the daemon sent until it goes quiet;
 * returns false when the connection was closed. */
static int pump(void)
{
	int idle = 0, open = 1;

	while (idle < 3) {
		ssize_t n;

		uv_run(&loop, UV_RUN_NOWAIT);
		n = read(cfd, in + inlen, sizeof(in) - inlen);
		if (n > 0) {
			char *nl;

			inlen += (size_t)n;
			while ((nl = memchr(in, '\n', inlen))) {
				check_line(in, (size_t)(nl - in));
				inlen -= (size_t)(nl - in) + 1;
				memmove(in, nl + 1, inlen);
			}
			if (inlen == sizeof(in))
				fuzz_fail("daemon sent a line over 1 MiB");
			idle = 0;
			continue;
		}
		if (n == 0) {
			open = 0;
			break;
		}
		idle++;
	}
	return open;
}

static void connect_client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (cfd >= 0)
		close(cfd);
	inlen = 0;
	cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.107s", cfg.socket);
	if (cfd < 0 || (connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) &&
			errno != EINPROGRESS))
		fuzz_fail("connecting to the daemon: %m");
	pump();
}

static void stop_daemon(void)
{
	char cmd[HSD_PATH_MAX + 16];

	hsd_stop(daemon_);
	uv_run(&loop, UV_RUN_DEFAULT);
	hsd_free(daemon_);
	uv_loop_close(&loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cfg.state_dir);
	if (system(cmd))
		fprintf(stderr, "fuzz_request: could not remove %s\n",
			cfg.state_dir);
}

static void start_daemon(void)
{
	char dir[] = "/tmp/hotswap-fuzz-request.XXXXXX", err[512];

	if (!mkdtemp(dir))
		fuzz_fail("mkdtemp: %m");
	signal(SIGPIPE, SIG_IGN);
	hsd_config_defaults(&cfg);
	cfg.virtual_clock = true;
	cfg.log_level = 0;
	cfg.socket_group[0] = '\0';
	snprintf(cfg.agents_dir, sizeof(cfg.agents_dir), "%s/agents", dir);
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s", dir);
	snprintf(cfg.runtime_dir, sizeof(cfg.runtime_dir), "%s", dir);
	snprintf(cfg.socket, sizeof(cfg.socket), "%s/s", dir);
	if (uv_loop_init(&loop) || hsd_start(&loop, &cfg, &daemon_, err,
					     sizeof(err)))
		fuzz_fail("starting hotswapd: %s", err);
	atexit(stop_daemon);
	connect_client();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	size_t off = 0;

	if (!buf)
		return 0;
	if (!daemon_)
		start_daemon();
	/* The input, then a newline so its last line is a request too. */
	memcpy(buf, data, size);
	buf[size] = '\n';
	while (off < size + 1) {
		ssize_t w = send(cfd, buf + off, size + 1 - off, MSG_NOSIGNAL);

		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno == EAGAIN && pump())
			continue;
		else
			break;          /* the daemon closed it (too-large...) */
	}
	free(buf);
	if (!pump())
		connect_client();
	return 0;
}
