/*
 * backends.c - the list of hotswapd's back-ends and the choice of one.
 *
 * Owns: which back-ends this build has.  A back-end is in the build when
 * its file is linked: the table refers to each by a weak reference, so a
 * build without backend_linux.c (a non-Linux host) simply lacks "linux",
 * with no #ifdef.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include "backend.h"

#include <stdio.h>
#include <string.h>

extern const struct hsd_backend_ops hsd_backend_sim
	__attribute__((weak));
extern const struct hsd_backend_ops hsd_backend_linux
	__attribute__((weak));

static const struct hsd_backend_ops *const all[] = {
	&hsd_backend_sim,
	&hsd_backend_linux,
};

const struct hsd_backend_ops *hsd_backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i] && !strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}

const char *hsd_backend_names(void)
{
	static char buf[64];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i] && n < sizeof(buf))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
					      n ? ", " : "", all[i]->name);
	return buf;
}

const char *hsd_backend_choose(const struct hsd_config *cfg,
			       const char **why)
{
	*why = cfg->backend_from[0] ? cfg->backend_from
				    : "the default: the embedded simulator";
	return cfg->backend;
}
