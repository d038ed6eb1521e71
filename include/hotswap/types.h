/*
 * hotswap/types.h - basic types shared by every layer of hotswap.
 *
 * Owns: the PCI function address (hs_bdf_t), access widths, log levels and
 * the negative-errno error codes.  Freestanding: only <stdint.h>,
 * <stddef.h> and <stdbool.h>, which C11 guarantees without a libc.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HOTSWAP_TYPES_H
#define HOTSWAP_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* C linkage for C++ programs (tests/cli/install.sh builds one). */
#ifdef __cplusplus
extern "C" {
#endif

/*
 * A PCI function address: segment (16 bits), bus (8), device (5),
 * function (3), packed as SSSS:BB:DD.F into 32 bits so it compares and
 * hashes as one integer.
 */
typedef uint32_t hs_bdf_t;

#define HS_BDF(seg, bus, dev, fn)                                         \
	((hs_bdf_t)(((uint32_t)(seg) << 16) | ((uint32_t)(bus) << 8) |    \
		    (((uint32_t)(dev) & 0x1f) << 3) | ((uint32_t)(fn) & 7)))
#define HS_BDF_SEG(a)   ((uint16_t)((a) >> 16))
#define HS_BDF_BUS(a)   ((uint8_t)(((a) >> 8) & 0xff))
#define HS_BDF_DEV(a)   ((uint8_t)(((a) >> 3) & 0x1f))
#define HS_BDF_FN(a)    ((uint8_t)((a) & 7))
#define HS_BDF_DEVFN(a) ((uint8_t)((a) & 0xff))

/* Size of a function's configuration space (PCIe extended space). */
#define HS_CFG_SIZE 4096u

/* Log levels, lowest number most severe (syslog order). */
enum hs_log_level {
	HS_LOG_ERR = 3,
	HS_LOG_WARN = 4,
	HS_LOG_NOTICE = 5,
	HS_LOG_INFO = 6,
	HS_LOG_DEBUG = 7,
};

/*
 * Error codes.  Functions return 0 or one of these negated.  The values are
 * Linux's errno numbers so that the hosted layers can pass them to
 * strerror(); the core itself never includes <errno.h>, which is not a
 * freestanding header.
 */
enum hs_errno {
	HS_EPERM = 1,
	HS_ENOENT = 2,
	HS_EIO = 5,
	HS_E2BIG = 7,
	HS_EAGAIN = 11,
	HS_ENOMEM = 12,
	HS_EFAULT = 14,
	HS_EBUSY = 16,
	HS_EEXIST = 17,
	HS_ENODEV = 19,
	HS_EINVAL = 22,
	HS_ENOSPC = 28,
	HS_ERANGE = 34,
	HS_ELOOP = 40,
	HS_ENOTSUP = 95,
	HS_ETIMEDOUT = 110,
	HS_ECANCELED = 125,
};

/* Time, everywhere in hotswap: nanoseconds of the platform's clock. */
typedef uint64_t hs_time_t;
#define HS_USEC(x) ((hs_time_t)(x) * 1000u)
#define HS_MSEC(x) ((hs_time_t)(x) * 1000000u)
#define HS_SEC(x)  ((hs_time_t)(x) * 1000000000u)

#ifdef __cplusplus
}
#endif

#endif /* HOTSWAP_TYPES_H */
