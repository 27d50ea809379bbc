/*
 * The memory budget of pv-vhost-user-gpu: every blob and device memory
 * allocation of every context of the VM is charged to one budget, to the
 * pool its memory lives in (RAM, or a discrete GPU's device-local heaps:
 * pearvisor.h's struct pv_memory_pool), besides each context's own cap (pv_renderer_limits.max_memory_per_context). The
 * budget is the process's own, or a host budget file (common/budget.h) that
 * the backends of several VMs open by name and share.
 *
 * A refusal fails that allocation only; it is logged twice: here (size,
 * the pool, its limit and use), then by the renderer (context id and name).
 */
#ifndef PV_VUG_BUDGET_H
#define PV_VUG_BUDGET_H

#include <stdint.h>

#include "common/budget.h"
#include "pearvisor/pearvisor.h"

struct vug_budget {
   struct pv_shared_budget *budget;
   uint32_t slot;
   struct pv_host_budget host; /* with a shared name */
   const char *shm_name;       /* NULL: this process's own budget */
};

/* Opens the budget: limit bytes of RAM (0: pv_default_memory_budget),
 * vram_limit bytes per discrete GPU (0: the size of its device-local
 * heaps), this process's own, or shared by every backend that gives the
 * same shm_name (the first one's limits hold; a different one is logged).
 * Call it before the sandbox (it opens /dev/shm/NAME). Returns 0 or
 * -errno, logged. */
int vug_budget_open(struct vug_budget *vb, uint64_t limit, uint64_t vram_limit,
                    const char *shm_name);

/* The callbacks that charge the budget (what vug_budget_attach gives the
 * renderer). */
struct pv_memory_budget vug_budget_callbacks(struct vug_budget *vb);

/* Makes the renderer's contexts charge the budget (before its first context). */
int vug_budget_attach(struct vug_budget *vb, struct pv_renderer *r);

void vug_budget_close(struct vug_budget *vb);

#endif
