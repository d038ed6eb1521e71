/*
 * fuzz_config.c - libFuzzer harness: an untrusted hotswapd.conf through
 * the service's config parser (service/config.c).
 *
 * Owns: the parser's promises under any input: no crash, no leak, no
 * undefined behaviour; an error is one non-empty line naming the file;
 * a config it accepts prints (hotswapd --print-config) as a file that
 * loads back to the same printed config, and its pin lists parse.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *print(const struct hsd_config *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	hsd_config_print(c, f);
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hsd_config c, back;
	const char *path = fuzz_file("hotswapd.conf", data, size);
	uint16_t slots[32];
	uint32_t codes[32], masks[32];
	unsigned ns, nc;
	char err[512], *out, *out2;
	size_t len, len2;

	hsd_config_defaults(&c);
	if (hsd_config_load(&c, path, true, err, sizeof(err))) {
		if (!err[0] || strchr(err, '\n') ||
		    strncmp(err, path, strlen(path)))
			fuzz_fail("bad error line: '%s'", err);
		return 0;
	}
	(void)hsd_config_pins(&c, slots, &ns, codes, masks, &nc, 32, err,
			      sizeof(err));
	out = print(&c, &len);
	if (!out)
		return 0;
	path = fuzz_file("printed.conf", (const uint8_t *)out, len);
	hsd_config_defaults(&back);
	if (hsd_config_load(&back, path, true, err, sizeof(err)))
		fuzz_fail("printed config does not load: %s\n%s", err, out);
	out2 = print(&back, &len2);
	if (out2 && (len != len2 || memcmp(out, out2, len)))
		fuzz_fail("printed config changes when loaded back:\n%s\n--\n%s",
			  out, out2);
	free(out);
	free(out2);
	return 0;
}
