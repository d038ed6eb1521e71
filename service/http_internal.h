/*
 * http_internal.h - what http.c, redfish.c and metrics.c share: one HTTP
 * request, the protocol calls it makes, and the other modules' entries.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SERVICE_HTTP_INTERNAL_H
#define HOTSWAP_SERVICE_HTTP_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "http.h"

struct http_req;

/* A read-only protocol method run now (every read method replies at
 * once): its result (a new reference), or NULL with *err set to the
 * protocol's error object (a new reference) when it failed. */
json_t *http_call(struct hsd_http *h, const char *method, json_t *params,
		  json_t **err);
/* A protocol method with the requester's authority (admin once the
 * token was checked); done gets the reply message ({"result":...} or
 * {"error":{...}}), perhaps before this returns.  params is taken. */
/* slot.list's result (a new reference), built once per event number and
 * service time; NULL with *err as http_call. */
json_t *http_slots(struct hsd_http *h, json_t **err);
typedef void (*http_done_fn)(struct http_req *r, json_t *msg);
void http_req_call(struct http_req *r, const char *method, json_t *params,
		   http_done_fn done);

struct hsd_http *http_req_http(struct http_req *r);
const char *http_req_arg(struct http_req *r, const char *name);
/* Whether the request carried the write token (Authorization: Bearer). */
bool http_req_admin(struct http_req *r);

/* Responses: each takes its body. */
void http_req_reply(struct http_req *r, unsigned status, const char *ctype,
		    char *body, size_t len);
void http_req_json(struct http_req *r, unsigned status, json_t *body);
void http_req_add_header(struct http_req *r, const char *name,
			 const char *value);
/* {"error":{"code":..., "message":...}} with the status. */
void http_req_error(struct http_req *r, unsigned status, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The HTTP status for a protocol error code ("not-found" -> 404...). */
unsigned http_status_of(const char *code);

/* redfish.c: everything under /redfish; body is the parsed JSON of a
 * PATCH or POST (NULL otherwise). */
void hsd_redfish_route(struct http_req *r, const char *method,
		       const char *url, json_t *body);

/* metrics.c: counters fed by events, gauges read at scrape time. */
struct hsd_metrics;
struct hsd_metrics *hsd_metrics_new(void);
void hsd_metrics_free(struct hsd_metrics *m);
void hsd_metrics_event(struct hsd_metrics *m, const json_t *ev);
/* The exposition text (malloc'd), NULL when out of memory. */
char *hsd_metrics_render(struct hsd_metrics *m, struct hsd_http *h,
			 size_t *len);

#endif
