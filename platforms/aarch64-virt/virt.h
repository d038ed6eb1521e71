/*
 * virt.h - the aarch64 `virt` platform of the bare-metal image: what its
 * files give each other (board.h is what they give the shared code).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef HSA_VIRT_H
#define HSA_VIRT_H

#include "../bare/board.h"

struct hsa_machine {
	uint16_t host_vendor, host_device;
	uint64_t cnt_hz;            /* the generic timer's frequency */
	unsigned msi_first, msi_count; /* LPIs (INTIDs) the ITS maps */
	unsigned gic_lines;
	struct hs_host_bridge hb;
};

/* Clock and host bridge; -HS_ENODEV when no PCIe host answers. */
int hsa_platform_init(void);
struct hsa_machine *hsa_machine(void);

void hsa_uart_init(void);
void hsa_uart_irq_on(void);

/* MSI vectors are LPIs 8192.. (GICv3 arch. spec 1.2.1). */
#define HSA_LPI_BASE 8192u
#define HSA_LPI_COUNT 64u

/* GICv3 distributor, redistributor and CPU interface, the LPIs and the
 * ITS, the virtual timer; interrupts are on afterwards.  -HS_ENODEV
 * without a GICv3; without a usable ITS, msi_count is 0 (INTx only). */
int hsa_irq_init(struct hsa_machine *m);
/* its.c: LPI tables and the ITS (called by hsa_irq_init). */
int hsa_its_init(struct hsa_machine *m);
bool hsa_msi_allocated(uint32_t vector);
int hsa_irq_attach(const struct hs_irq *irq, hs_irq_fn fn, void *arg);
void hsa_irq_detach(const struct hs_irq *irq);
int hsa_msi_alloc(unsigned count, uint32_t *first);
void hsa_msi_free(uint32_t first, unsigned count);
int hsa_msi_message(hs_bdf_t requester, uint32_t vector,
		    struct hs_msi_msg *msg);
int hsa_intx_route(hs_bdf_t root_dev, unsigned pin, uint32_t *line);

#endif
