/* shpchp.c - placeholder until the SHPC controller driver lands. */
#include "controllers.h"

static int shpc_probe(struct hs_dev *dev, void **priv)
{
	(void)dev;
	(void)priv;
	return -HS_ENODEV;
}

static const struct hs_device_id shpc_ids[] = {
	{ HS_ANY_ID, HS_ANY_ID, HS_ANY_ID, HS_ANY_ID, 0x060400, 0xffff00 },
	{ 0 },
};

const struct hs_driver hs_shpchp_driver = {
	.name = "shpchp",
	.ids = shpc_ids,
	.probe = shpc_probe,
};
