/* cpcihp.c - placeholder until the CompactPCI controller driver lands. */
#include "controllers.h"

static int cpci_probe(struct hs_dev *dev, void **priv)
{
	(void)dev;
	(void)priv;
	return -HS_ENODEV;
}

static const struct hs_device_id cpci_ids[] = {
	{ HS_ANY_ID, HS_ANY_ID, HS_ANY_ID, HS_ANY_ID, 0x060400, 0xffff00 },
	{ 0 },
};

const struct hs_driver hs_cpcihp_driver = {
	.name = "cpcihp",
	.ids = cpci_ids,
	.probe = cpci_probe,
};
