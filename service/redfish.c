/*
 * redfish.c - hotswapd's Redfish resources (DMTF DSP0266, schema bundle
 * DSP8010 release 2025.4; docs/redfish.md): the service root, one
 * chassis, one PCIeDevice per slot (an empty slot is a PCIeDevice whose
 * Status.State is Absent), its PCIeFunctions, and the deprecated
 * PCIeSlots resource, read-only, for older clients.
 *
 * Owns: the mapping between the protocol's slot and device views and
 * the Redfish shapes, and PATCH on a PCIeDevice: LocationIndicatorActive
 * blinks the attention indicator (slot.attention), ReadyToRemove: true
 * runs the quiesce-and-power-off removal (slot.remove, agents asked
 * first), false brings the card back (slot.add).  Refusals become Redfish
 * error responses with a Base message registry MessageId.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RF_ROOT "/redfish/v1"
#define CHASSIS_ID "1"
#define CHASSIS RF_ROOT "/Chassis/" CHASSIS_ID
/* Schema versions of release 2025.4 (docs/redfish.md). */
#define T_ROOT "#ServiceRoot.v1_18_0.ServiceRoot"
#define T_CHASSIS "#Chassis.v1_27_0.Chassis"
#define T_DEVICE "#PCIeDevice.v1_17_0.PCIeDevice"
#define T_FUNCTION "#PCIeFunction.v1_6_0.PCIeFunction"
#define T_SLOTS "#PCIeSlots.v1_6_0.PCIeSlots"
#define REGISTRY "Base.1.19."

/* ---- errors (DSP0266 section "Error responses") -------------------------- */

static void rf_error(struct http_req *r, unsigned status, const char *msgid,
		     const char *message)
{
	char id[64];

	snprintf(id, sizeof(id), REGISTRY "%s", msgid);
	http_req_add_header(r, "OData-Version", "4.0");
	http_req_json(r, status, json_pack(
		"{s:{s:s, s:s, s:[{s:s, s:s, s:s, s:s}]}}", "error", "code",
		REGISTRY "GeneralError", "message", message,
		"@Message.ExtendedInfo", "@odata.type",
		"#Message.v1_2_0.Message", "MessageId", id, "Message", message,
		"Severity", status >= 500 ? "Critical" : "Warning"));
}

static void rf_json(struct http_req *r, json_t *o)
{
	http_req_add_header(r, "OData-Version", "4.0");
	http_req_json(r, 200, o);
}

static const char *str(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

/* ---- the slot as a PCIeDevice ------------------------------------------- */

/* Slot name <-> resource Id: "3" <-> "Slot3" (names are digits and '-'). */
static void slot_id(const json_t *s, char *buf, size_t len)
{
	snprintf(buf, len, "Slot%s", str(s, "slot"));
}

static json_t *find_slot(json_t *slots, const char *id)
{
	size_t i;
	json_t *s;
	char sid[48];

	json_array_foreach(slots, i, s) {
		slot_id(s, sid, sizeof(sid));
		if (!strcmp(sid, id))
			return s;
	}
	return NULL;
}

static json_t *status_of(const json_t *s)
{
	const char *st = str(s, "state");
	const char *state = !json_is_true(json_object_get(s, "adapter"))
				    ? "Absent"
			    : !strcmp(st, "on") ? "Enabled"
			    : !strcmp(st, "powering-on") ||
					      !strcmp(st, "blinking-on")
				    ? "Starting"
			    : !strcmp(st, "fault") ? "UnavailableOffline"
						   : "StandbyOffline";
	const char *health = !strcmp(st, "fault") ||
				     json_is_true(json_object_get(s, "power_fault"))
				     ? "Critical"
			     : json_string_value(json_object_get(s, "reason")) &&
					       str(s, "reason")[0]
				     ? "Warning"
				     : "OK";

	return json_pack("{s:s, s:s}", "State", state, "Health", health);
}

/* The Slot object (PCIeDevice.Slot, PCIeSlots.Slots[]).  Lanes and the
 * PCIe generation come from the port's Link Status register (PCIe Base
 * 6.0 section 7.5.3.8: current link speed, negotiated width) when the
 * link is up; conventional PCI slots (SHPC, CompactPCI) have neither. */
static json_t *slot_object(const json_t *s, const json_t *detail)
{
	static const char *const gens[] = { NULL, "Gen1", "Gen2", "Gen3",
					    "Gen4", "Gen5", "Gen6" };
	json_t *o = json_pack("{s:b, s:s, s:{s:{s:s, s:i, s:s}}}",
			      "HotPluggable", 1, "SlotType",
			      !strcmp(str(s, "kind"), "pcie") ? "FullLength"
							      : "OEM",
			      "Location", "PartLocation", "LocationType",
			      "Slot", "LocationOrdinalValue",
			      (int)json_integer_value(json_object_get(s, "number")),
			      "ServiceLabel", str(s, "slot"));
	json_t *regs = detail ? json_object_get(detail, "registers") : NULL;

	if (regs && json_is_true(json_object_get(s, "link"))) {
		unsigned lnk = (unsigned)json_integer_value(
			json_object_get(regs, "lnksta"));
		unsigned speed = lnk & 0xf, width = (lnk >> 4) & 0x3f;

		if (speed && speed < sizeof(gens) / sizeof(gens[0]))
			json_object_set_new(o, "PCIeType",
					    json_string(gens[speed]));
		if (width)
			json_object_set_new(o, "Lanes", json_integer(width));
	}
	return o;
}

static json_t *device_resource(const json_t *s, const json_t *detail)
{
	char id[48], path[160], fpath[200];
	json_t *o, *devs = json_object_get(s, "devices");
	const char *st = str(s, "state");
	bool ready = json_is_true(json_object_get(s, "adapter")) &&
		     (!strcmp(st, "off") || !strcmp(st, "empty"));

	slot_id(s, id, sizeof(id));
	snprintf(path, sizeof(path), CHASSIS "/PCIeDevices/%s", id);
	snprintf(fpath, sizeof(fpath), "%s/PCIeFunctions", path);
	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:b, s:{s:s}, "
		      "s:{s:{s:s, s:s, s:s, s:s}}}",
		      "@odata.id", path, "@odata.type", T_DEVICE, "Id", id,
		      "Name", "PCIe slot", "Slot", slot_object(s, detail),
		      "Status", status_of(s), "LocationIndicatorActive",
		      strcmp(str(s, "attention"), "off") != 0, "ReadyToRemove",
		      ready, "PCIeFunctions", "@odata.id", fpath, "Oem",
		      "Hotswap", "SlotState", st, "Kind", str(s, "kind"),
		      "Controller", str(s, "bridge"), "Occupant",
		      str(s, "occupant"));
	{
		char name[64];

		snprintf(name, sizeof(name), "%s slot %s",
			 !strcmp(str(s, "kind"), "cpci") ? "CompactPCI"
			 : !strcmp(str(s, "kind"), "shpc") ? "PCI (SHPC)"
							   : "PCIe",
			 str(s, "slot"));
		json_object_set_new(o, "Name", json_string(name));
	}
	if (json_array_size(devs) > 0)
		json_object_set_new(o, "DeviceType", json_string(
			json_array_size(devs) > 1 ? "MultiFunction"
						  : "SingleFunction"));
	if (json_object_get(s, "blue_led"))
		json_object_set(json_object_get(json_object_get(o, "Oem"),
						"Hotswap"),
				"BlueLED", json_object_get(s, "blue_led"));
	return o;
}

static unsigned hexfield(const char *s, int at)
{
	unsigned v = 0;

	sscanf(s + at, "%4x", &v);
	return v;
}

static json_t *function_resource(const json_t *s, size_t fi,
				 const json_t *dv)
{
	char id[48], path[200], dpath[160], b[9][16];
	const char *bdf = str(dv, "bdf");     /* ssss:bb:dd.f */
	const char *ids = str(dv, "id"), *sub = str(dv, "subsys");
	unsigned seg = 0, bus = 0, dev = 0, fn = 0;
	bool enabled = !json_is_true(json_object_get(dv, "blocked")) &&
		       !json_object_get(dv, "isolated");

	sscanf(bdf, "%x:%x:%x.%u", &seg, &bus, &dev, &fn);
	slot_id(s, id, sizeof(id));
	snprintf(dpath, sizeof(dpath), CHASSIS "/PCIeDevices/%s", id);
	snprintf(path, sizeof(path), "%s/PCIeFunctions/%zu", dpath, fi);
	/* The schema's patterns: 0x and 4 hex digits for the IDs, 6 for
	 * the class code, 2 for bus and device, 1 for the function. */
	snprintf(b[0], 16, "0x%04x", hexfield(ids, 0));
	snprintf(b[1], 16, "0x%04x", hexfield(ids, 5));
	snprintf(b[2], 16, "0x%04x", hexfield(sub, 0));
	snprintf(b[3], 16, "0x%04x", hexfield(sub, 5));
	snprintf(b[4], 16, "0x%.6s", str(dv, "class"));
	snprintf(b[5], 16, "0x%02x", bus & 0xff);
	snprintf(b[6], 16, "0x%02x", dev & 0x1f);
	snprintf(b[7], 16, "0x%x", fn & 7);
	snprintf(b[8], 16, "0x%04x", seg & 0xffff);
	snprintf(id, sizeof(id), "%zu", fi);
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, "
			 "s:s, s:s, s:s, s:s, s:b, s:{s:s, s:s}, "
			 "s:{s:{s:s}}, s:{s:{s:s, s:s?, s:b}}}",
			 "@odata.id", path, "@odata.type", T_FUNCTION, "Id", id,
			 "Name", str(dv, "name")[0] ? str(dv, "name") : bdf,
			 "FunctionId", (int)fn, "VendorId", b[0],
			 "DeviceId", b[1], "SubsystemVendorId", b[2],
			 "SubsystemId", b[3], "ClassCode", b[4],
			 "BusNumber", b[5], "DeviceNumber", b[6],
			 "FunctionNumber", b[7], "SegmentNumber", b[8],
			 "Enabled", enabled, "Status", "State",
			 enabled ? "Enabled" : "Disabled", "Health",
			 json_object_get(dv, "isolated") ? "Critical" : "OK",
			 "Links", "PCIeDevice", "@odata.id", dpath, "Oem",
			 "Hotswap", "Address", bdf, "Driver",
			 json_string_value(json_object_get(dv, "driver")),
			 "Blocked",
			 json_is_true(json_object_get(dv, "blocked")));
}

/* ---- PATCH ----------------------------------------------------------------- */

static void answer_with_device(struct http_req *r, const char *slot)
{
	json_t *err = NULL, *s = http_call(http_req_http(r), "slot.show",
					   json_pack("{s:s}", "slot", slot),
					   &err);

	if (!s) {
		rf_error(r, 404, "ResourceMissingAtURI", str(err, "message"));
		json_decref(err);
		return;
	}
	rf_json(r, device_resource(s, s));
	json_decref(s);
}

static bool refused(struct http_req *r, json_t *msg)
{
	json_t *e = json_object_get(msg, "error");
	const char *code;

	if (!e)
		return false;
	code = str(e, "code");
	/* An agent's or a driver's veto, a slot busy with another change:
	 * the resource is in use (Base registry, HTTP 409). */
	if (!strcmp(code, "refused") || !strcmp(code, "busy"))
		rf_error(r, 409, "ResourceInUse", str(e, "message"));
	else if (!strcmp(code, "not-supported"))
		rf_error(r, 400, "PropertyNotWritable", str(e, "message"));
	else if (!strcmp(code, "not-found"))
		rf_error(r, 404, "ResourceMissingAtURI", str(e, "message"));
	else
		rf_error(r, http_status_of(code), "GeneralError",
			 str(e, "message"));
	return true;
}

static void ready_done(struct http_req *r, json_t *msg)
{
	json_t *res = json_object_get(msg, "result");

	if (refused(r, msg))
		return;
	answer_with_device(r, str(res, "slot"));
}

static void start_ready(struct http_req *r, const char *slot, int ready)
{
	http_req_call(r, ready ? "slot.remove" : "slot.add",
		      json_pack("{s:s}", "slot", slot), ready_done);
}

static void attention_done(struct http_req *r, json_t *msg)
{
	json_t *res = json_object_get(msg, "result");

	if (refused(r, msg))
		return;
	answer_with_device(r, str(res, "slot"));
}

static void patch_device(struct http_req *r, json_t *s, json_t *body)
{
	const char *key;
	json_t *v, *lia = NULL, *rtr = NULL;
	char msg[160];

	json_object_foreach(body, key, v) {
		if (!strcmp(key, "LocationIndicatorActive")) {
			lia = v;
		} else if (!strcmp(key, "ReadyToRemove")) {
			rtr = v;
		} else {
			snprintf(msg, sizeof(msg), "The property %s is not in "
				 "the list of valid properties for the resource "
				 "(writable: LocationIndicatorActive, "
				 "ReadyToRemove).", key);
			rf_error(r, 400, "PropertyUnknown", msg);
			return;
		}
		if (!json_is_boolean(v)) {
			snprintf(msg, sizeof(msg), "The value for the property "
				 "%s is of a different type than the property "
				 "can accept (a boolean).", key);
			rf_error(r, 400, "PropertyValueTypeError", msg);
			return;
		}
	}
	if (!lia && !rtr) {
		rf_error(r, 400, "PropertyUnknown", "The request body holds no "
			 "writable property (LocationIndicatorActive, "
			 "ReadyToRemove).");
		return;
	}
	if (lia && rtr) {
		rf_error(r, 400, "ActionParameterNotSupported", "Send "
			 "LocationIndicatorActive and ReadyToRemove in separate "
			 "requests: each maps to its own hot-plug flow.");
		return;
	}
	if (lia) {
		http_req_call(r, "slot.attention",
			      json_pack("{s:s, s:s}", "slot", str(s, "slot"),
					"indicator",
					json_is_true(lia) ? "blink" : "off"),
			      attention_done);
		return;
	}
	start_ready(r, str(s, "slot"), json_is_true(rtr));
}

/* ---- routing --------------------------------------------------------------- */

static json_t *collection(const char *path, const char *type,
			  const char *name)
{
	return json_pack("{s:s, s:s, s:s, s:[], s:i}", "@odata.id", path,
			 "@odata.type", type, "Name", name, "Members",
			 "Members@odata.count", 0);
}

static void add_member(json_t *c, const char *path)
{
	json_t *m = json_object_get(c, "Members");

	json_array_append_new(m, json_pack("{s:s}", "@odata.id", path));
	json_object_set_new(c, "Members@odata.count",
			    json_integer((json_int_t)json_array_size(m)));
}

static bool only_get(struct http_req *r, const char *method, bool patchable)
{
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
		return true;
	if (patchable && !strcmp(method, "PATCH"))
		return false;
	http_req_add_header(r, "Allow", patchable ? "GET, HEAD, PATCH"
						  : "GET, HEAD");
	rf_error(r, 405, "OperationNotAllowed", "The HTTP method is not "
		 "allowed on this resource.");
	return false;
}

void hsd_redfish_route(struct http_req *r, const char *method,
		       const char *url, json_t *body)
{
	struct hsd_http *h = http_req_http(r);
	char path[256], id[48], fid[16];
	json_t *err = NULL, *slots = NULL, *s, *o;
	size_t n = strlen(url), i;
	int end = 0;

	/* Trailing slash: the same resource (DSP0266 section 6.3). */
	if (n >= sizeof(path)) {
		rf_error(r, 404, "ResourceMissingAtURI", "No such resource.");
		return;
	}
	memcpy(path, url, n + 1);
	if (n > 1 && path[n - 1] == '/')
		path[n - 1] = '\0';
	if (!strcmp(path, "/redfish")) {
		if (only_get(r, method, false))
			rf_json(r, json_pack("{s:s}", "v1", RF_ROOT "/"));
		return;
	}
	if (!strcmp(path, RF_ROOT)) {
		if (only_get(r, method, false))
			rf_json(r, json_pack(
				"{s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:{s:{s:s}}, "
				"s:{s:{s:s}}}",
				"@odata.id", RF_ROOT "/", "@odata.type", T_ROOT,
				"Id", "RootService", "Name", "hotswapd",
				"RedfishVersion", "1.21.0", "Chassis",
				"@odata.id", RF_ROOT "/Chassis", "Links", "Sessions",
				"@odata.id", RF_ROOT "/SessionService/Sessions",
				"Oem", "Hotswap",
				"Note", "hot-plug slots and functions only"));
		return;
	}
	/* Links.Sessions is required in the service root; there are no
	 * sessions here (the bearer token is the credential), so the
	 * collection is empty and creating one is not allowed. */
	if (!strcmp(path, RF_ROOT "/SessionService/Sessions")) {
		if (only_get(r, method, false))
			rf_json(r, collection(RF_ROOT "/SessionService/Sessions",
					      "#SessionCollection.SessionCollection",
					      "Sessions (none: use the bearer "
					      "token)"));
		return;
	}
	if (!strcmp(path, RF_ROOT "/Chassis")) {
		if (only_get(r, method, false)) {
			o = collection(RF_ROOT "/Chassis",
				       "#ChassisCollection.ChassisCollection",
				       "Chassis");
			add_member(o, CHASSIS);
			rf_json(r, o);
		}
		return;
	}
	if (strncmp(path, CHASSIS, strlen(CHASSIS)) ||
	    (path[strlen(CHASSIS)] && path[strlen(CHASSIS)] != '/')) {
		rf_error(r, 404, "ResourceMissingAtURI", "No such resource.");
		return;
	}
	slots = http_slots(h, &err);
	if (!slots) {
		rf_error(r, 500, "InternalError", str(err, "message"));
		json_decref(err);
		return;
	}
	if (!strcmp(path, CHASSIS)) {
		json_t *st = http_call(h, "status", NULL, &err);

		if (only_get(r, method, false))
			rf_json(r, json_pack(
				"{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, "
				"s:{s:s}, s:{s:s}}",
				"@odata.id", CHASSIS, "@odata.type", T_CHASSIS,
				"Id", CHASSIS_ID, "Name",
				st ? str(st, "chassis") : "chassis",
				"ChassisType", "RackMount", "Status", "State",
				"Enabled", "Health", "OK", "PCIeDevices",
				"@odata.id", CHASSIS "/PCIeDevices", "PCIeSlots",
				"@odata.id", CHASSIS "/PCIeSlots"));
		json_decref(st);
		json_decref(err);
	} else if (!strcmp(path, CHASSIS "/PCIeDevices")) {
		if (only_get(r, method, false)) {
			o = collection(CHASSIS "/PCIeDevices",
				       "#PCIeDeviceCollection.PCIeDeviceCollection",
				       "PCIe devices (one per slot)");
			json_array_foreach(slots, i, s) {
				char p[160];

				slot_id(s, id, sizeof(id));
				snprintf(p, sizeof(p), CHASSIS "/PCIeDevices/%s",
					 id);
				add_member(o, p);
			}
			rf_json(r, o);
		}
	} else if (!strcmp(path, CHASSIS "/PCIeSlots")) {
		if (only_get(r, method, false)) {
			json_t *arr = json_array();

			json_array_foreach(slots, i, s) {
				json_t *d = http_call(h, "slot.show", json_pack(
					"{s:s}", "slot", str(s, "slot")), &err);
				json_t *so = slot_object(s, d);
				char p[160];

				json_decref(err);
				err = NULL;
				slot_id(s, id, sizeof(id));
				snprintf(p, sizeof(p), CHASSIS "/PCIeDevices/%s",
					 id);
				json_object_set_new(so, "Status", status_of(s));
				json_object_set_new(so, "LocationIndicatorActive",
						    json_boolean(strcmp(str(s, "attention"),
									"off")));
				json_object_set_new(so, "Links", json_pack(
					"{s:[{s:s}]}", "PCIeDevice", "@odata.id",
					p));
				json_array_append_new(arr, so);
				json_decref(d);
			}
			rf_json(r, json_pack("{s:s, s:s, s:s, s:s, s:o}",
					     "@odata.id", CHASSIS "/PCIeSlots",
					     "@odata.type", T_SLOTS, "Id",
					     "PCIeSlots", "Name", "PCIe slots "
					     "(deprecated: see PCIeDevices)",
					     "Slots", arr));
		}
	} else if (sscanf(path, CHASSIS "/PCIeDevices/%47[^/]%n", id, &end) == 1 &&
		   !path[end]) {
		s = find_slot(slots, id);
		if (!s) {
			rf_error(r, 404, "ResourceMissingAtURI", "No such "
				 "PCIe device.");
		} else if (only_get(r, method, true)) {
			json_t *d = http_call(h, "slot.show", json_pack(
				"{s:s}", "slot", str(s, "slot")), &err);

			rf_json(r, device_resource(s, d));
			json_decref(d);
			json_decref(err);
		} else if (!strcmp(method, "PATCH")) {
			if (!http_req_admin(r)) {
				http_req_add_header(r, "WWW-Authenticate",
						    "Bearer realm=\"hotswapd\"");
				rf_error(r, 401, "InsufficientPrivilege",
					 "A change needs the token: send "
					 "'Authorization: Bearer TOKEN'.");
			} else if (!body) {
				rf_error(r, 400, "MalformedJSON", "The PATCH "
					 "request needs a JSON object body.");
			} else {
				patch_device(r, s, body);
			}
		}
	} else if (sscanf(path, CHASSIS "/PCIeDevices/%47[^/]/PCIeFunctions%n",
			  id, &end) == 1 && !path[end]) {
		s = find_slot(slots, id);
		if (!s) {
			rf_error(r, 404, "ResourceMissingAtURI", "No such "
				 "PCIe device.");
		} else if (only_get(r, method, false)) {
			char p[240];
			json_t *dv;

			snprintf(p, sizeof(p), CHASSIS "/PCIeDevices/%s/"
				 "PCIeFunctions", id);
			o = collection(p, "#PCIeFunctionCollection."
				       "PCIeFunctionCollection",
				       "PCIe functions");
			json_array_foreach(json_object_get(s, "devices"), i, dv) {
				char fp[280];

				snprintf(fp, sizeof(fp), "%s/%zu", p, i);
				add_member(o, fp);
			}
			rf_json(r, o);
		}
	} else if (sscanf(path, CHASSIS "/PCIeDevices/%47[^/]/PCIeFunctions/"
				"%15[0-9]%n", id, fid, &end) == 2 && !path[end]) {
		json_t *dv;

		s = find_slot(slots, id);
		i = strtoul(fid, NULL, 10);
		dv = s ? json_array_get(json_object_get(s, "devices"), i)
		       : NULL;
		if (!dv)
			rf_error(r, 404, "ResourceMissingAtURI", "No such "
				 "PCIe function.");
		else if (only_get(r, method, false))
			rf_json(r, function_resource(s, i, dv));
	} else {
		rf_error(r, 404, "ResourceMissingAtURI", "No such resource.");
	}
	json_decref(slots);
}
