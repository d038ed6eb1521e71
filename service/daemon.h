/*
 * daemon.h - hotswapd: the service object.
 *
 * Owns: one running service: the platform (the simulated chassis), the
 * core with its controllers and drivers, the libuv loop, the control
 * socket and its clients, the database, the policy and the agents.  The
 * JSON protocol it speaks is docs/protocol.md.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SERVICE_DAEMON_H
#define HOTSWAP_SERVICE_DAEMON_H

#include <stddef.h>
#include <uv.h>

#include "config.h"

/* Protocol version (docs/protocol.md): bumped on incompatible change. */
#define HSD_PROTOCOL 1

struct hsd;

/* Builds everything and listens; err says what failed ("topology ...:
 * ...", "database ...", "socket ...: Address already in use").  The
 * caller runs the loop. */
int hsd_start(uv_loop_t *loop, const struct hsd_config *cfg,
	      struct hsd **out, char *err, size_t errlen);
/* Orderly stop (SIGTERM): close clients and the socket, finish writing,
 * free everything once the loop has closed the handles. */
void hsd_stop(struct hsd *d);
/* After the loop ended: release what is left. */
void hsd_free(struct hsd *d);

#endif
