/*
 * http.h - hotswapd's HTTP endpoint: the web view, a REST view of the
 * protocol, Redfish resources and Prometheus metrics (docs/web.md,
 * docs/redfish.md, docs/metrics.md).
 *
 * Owns: the libmicrohttpd daemon driven from the service's libuv loop,
 * the write token, routing, and the in-process protocol clients every
 * request goes through.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SERVICE_HTTP_H
#define HOTSWAP_SERVICE_HTTP_H

#include <jansson.h>
#include <stddef.h>

struct hsd;
struct hsd_http;

/* Listen on cfg.http_listen (nothing when it is empty: *out = NULL) and
 * write a fresh token to the token file.  err says what failed. */
int hsd_http_start(struct hsd *d, struct hsd_http **out, char *err,
		   size_t errlen);
/* Every published event (metrics; called from hsd_publish). */
void hsd_http_event(struct hsd_http *h, const json_t *ev);
/* Close every connection and the listening socket; frees h once the
 * loop has closed its handles. */
void hsd_http_stop(struct hsd_http *h);

#endif
