/*
 * controllers.c - registering the controller drivers with a core.
 *
 * Owns: hs_controllers_register() and the drivers' shared helpers.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "controllers.h"

void hs_memzero(void *p, size_t n)
{
	unsigned char *b = p;

	while (n--)
		*b++ = 0;
}

void *hs_ctl_zalloc(struct hs_dev *dev, size_t size)
{
	const struct hs_platform *pl = hs_dev_platform(dev);
	void *p = pl->ops->realloc(pl->ctx, NULL, 0, size);

	if (p)
		hs_memzero(p, size);
	return p;
}

void hs_ctl_free(struct hs_dev *dev, void *p, size_t size)
{
	const struct hs_platform *pl = hs_dev_platform(dev);

	if (p)
		pl->ops->realloc(pl->ctx, p, size, 0);
}

int hs_controllers_register(struct hs_core *core)
{
	int rc;

	if ((rc = hs_port_service_register(core, &hs_pciehp_service)) ||
	    (rc = hs_driver_register(core, &hs_shpchp_driver)) ||
	    (rc = hs_driver_register(core, &hs_cpcihp_driver)))
		return rc;
	return 0;
}
