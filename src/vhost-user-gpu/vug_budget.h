/*
 * The memory budget of pv-vhost-user-gpu: every blob and device memory
 * allocation of every context of the VM is charged to one budget, besides
 * each context's own cap (pv_renderer_limits.max_memory_per_context). The
 * budget is the process's own, or a host budget file (common/budget.h) that
 * the backends of several VMs open by name and share.
 *
 * A refusal fails that allocation only; it is logged twice: here (size,
 * the budget's limit and use), then by the renderer (context id and name).
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

/* Opens the budget: limit bytes (0: pv_default_memory_budget), this
 * process's own, or shared by every backend that gives the same shm_name
 * (the first one's limit holds; a different limit is logged). Call it
 * before the sandbox (it opens /dev/shm/NAME). Returns 0 or -errno, logged. */
int vug_budget_open(struct vug_budget *vb, uint64_t limit, const char *shm_name);

/* Makes the renderer's contexts charge the budget (before its first context). */
int vug_budget_attach(struct vug_budget *vb, struct pv_renderer *r);

void vug_budget_close(struct vug_budget *vb);

#endif
