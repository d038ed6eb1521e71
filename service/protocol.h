/*
 * protocol.h - the protocol layer of hotswapd (docs/protocol.md): one
 * request in flight (struct call), its parameters checked with errors
 * that name the parameter, replies and errors, and the method table
 * entries that methods.c and the back-ends' extra methods share.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_SERVICE_PROTOCOL_H
#define HOTSWAP_SERVICE_PROTOCOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "hotswap/types.h"

struct hsd;
struct hsd_client;
struct hsd_backend;

enum hsd_access { HSD_ACC_NONE = 0, HSD_ACC_READ, HSD_ACC_ADMIN };

struct call {
	struct hsd *d;
	struct hsd_client *c;
	json_t *id;
	json_t *params;
};

struct hsd_method {
	const char *name;
	enum hsd_access need;
	void (*fn)(struct call *k);
};

/* The error a request gets when its reply could not be built: its work
 * may have been done all the same. */
#define HSD_REPLY_OOM \
	"out of memory: the reply could not be built (what was asked may " \
	"have been done)"

json_t *hsd_error(json_t *id, const char *code, int err, const char *fmt,
		  ...) __attribute__((format(printf, 4, 5)));
json_t *hsd_reply(json_t *id, json_t *result);
void hsd_client_send(struct hsd_client *c, json_t *msg);

#define FAIL(call, code, err, ...) \
	hsd_client_send((call)->c, hsd_error((call)->id, code, err, __VA_ARGS__))
#define REPLY(call, res) hsd_client_send((call)->c, hsd_reply((call)->id, res))

/* Parameters: a missing required one or one of the wrong type fails the
 * call (the error names it) and sets *bad. */
const char *hsd_p_str(struct call *k, const char *name, bool required,
		      bool *bad);
bool hsd_p_bool(struct call *k, const char *name, bool def, bool *bad);
int64_t hsd_p_int(struct call *k, const char *name, int64_t def,
		  int64_t min, int64_t max, bool *bad);

/* What a back-end's method may use of the service. */
struct hsd_backend *hsd_call_backend(const struct call *k);
bool hsd_call_virtual_clock(const struct call *k);
int64_t hsd_call_now(const struct call *k);
/* Publish a service event (numbered, stored, sent); ev is taken over. */
void hsd_call_publish(const struct call *k, const char *type,
		      const char *slot, json_t *ev);
/* A call that is answered later: a copy holding its client and id
 * (NULL when out of memory); released after the reply. */
struct call *hsd_call_detach(const struct call *k);
void hsd_call_release(struct call *k);
/* A device by bus address or stable name; 0 and *bdf, or -ENOENT. */
int hsd_call_find_dev(const struct call *k, const char *what, hs_bdf_t *bdf);

#endif
