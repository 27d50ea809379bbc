#include "vug_budget.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define TAG "pv-vhost-user-gpu"

_Static_assert(PV_BUDGET_POOLS == PV_MEMORY_POOLS, "one budget pool per renderer pool");

static bool
budget_charge(void *data, const struct pv_memory_pool *pool, uint64_t bytes)
{
   struct vug_budget *vb = data;
   if (pv_shared_budget_charge(vb->budget, vb->slot, pool->index, bytes, pool->heap_size))
      return true;
   const unsigned long long limit =
      pv_shared_budget_limit(vb->budget, pool->index, pool->heap_size);
   const unsigned long long used =
      pool->index < PV_BUDGET_POOLS
         ? __atomic_load_n(&vb->budget->used[pool->index], __ATOMIC_RELAXED)
         : 0;
   const char *shared = vb->shm_name ? ", shared by every backend of --budget-shm " : "";
   const char *name = vb->shm_name ? vb->shm_name : "";
   /* the renderer's line after this one names the context */
   if (pool->index == PV_MEMORY_POOL_RAM)
      pv_warn(TAG, "%llu bytes refused: RAM budget %llu bytes, %llu in use (--memory-budget%s%s)",
              (unsigned long long)bytes, limit, used, shared, name);
   else
      pv_warn(TAG,
              "%llu bytes refused: VRAM budget of GPU %u (heap %u) %llu bytes, %llu in use "
              "(--vram-budget%s%s)",
              (unsigned long long)bytes, pool->index - 1, pool->heap, limit, used, shared, name);
   return false;
}

static void
budget_release(void *data, uint32_t pool, uint64_t bytes)
{
   struct vug_budget *vb = data;
   pv_shared_budget_release(vb->budget, vb->slot, pool, bytes);
}

int
vug_budget_open(struct vug_budget *vb, uint64_t limit, uint64_t vram_limit, const char *shm_name)
{
   *vb = (struct vug_budget){ 0 };
   if (!limit)
      limit = pv_default_memory_budget();
   if (!shm_name) {
      vb->budget = calloc(1, sizeof(*vb->budget) + sizeof(vb->budget->slot_used[0]));
      if (!vb->budget)
         return -ENOMEM;
      vb->budget->limit[PV_MEMORY_POOL_RAM] = limit;
      for (uint32_t pool = 1; pool < PV_BUDGET_POOLS; pool++)
         vb->budget->limit[pool] = vram_limit;
      pv_info(TAG,
              "memory budget of this VM's contexts: RAM %llu MiB, each discrete GPU %llu MiB%s",
              (unsigned long long)(limit >> 20), (unsigned long long)(vram_limit >> 20),
              vram_limit ? "" : " (0: its device-local heaps)");
      return 0;
   }
   int ret = pv_host_budget_open(shm_name, limit, vram_limit, &vb->host);
   if (ret < 0) {
      pv_error(TAG, "cannot open the shared memory budget /dev/shm/%s: %s", shm_name,
               ret == -EINVAL ? "bad name, or not a budget file" : strerror(-ret));
      return ret;
   }
   vb->budget = vb->host.budget;
   vb->slot = vb->host.slot;
   vb->shm_name = shm_name;
   const uint64_t shared =
      __atomic_load_n(&vb->budget->limit[PV_MEMORY_POOL_RAM], __ATOMIC_RELAXED);
   const uint64_t shared_vram = __atomic_load_n(&vb->budget->limit[1], __ATOMIC_RELAXED);
   if (!vb->host.created && shared_vram != vram_limit)
      pv_warn(TAG,
              "VRAM budget /dev/shm/%s: %llu MiB per GPU (0: its heaps), set by the backend "
              "that created it (this one asked for %llu MiB)",
              shm_name, (unsigned long long)(shared_vram >> 20),
              (unsigned long long)(vram_limit >> 20));
   if (!vb->host.created && shared != limit)
      pv_warn(TAG,
              "memory budget /dev/shm/%s: %llu MiB, set by the backend that created it "
              "(this one asked for %llu MiB)",
              shm_name, (unsigned long long)(shared >> 20), (unsigned long long)(limit >> 20));
   pv_info(
      TAG,
      "memory budget shared through /dev/shm/%s (slot %u): RAM %llu MiB, %llu in use; "
      "each discrete GPU %llu MiB (0: its device-local heaps)",
      shm_name, vb->slot, (unsigned long long)(shared >> 20),
      (unsigned long long)__atomic_load_n(&vb->budget->used[PV_MEMORY_POOL_RAM], __ATOMIC_RELAXED),
      (unsigned long long)(shared_vram >> 20));
   return 0;
}

struct pv_memory_budget
vug_budget_callbacks(struct vug_budget *vb)
{
   return (
      struct pv_memory_budget){ .charge = budget_charge, .release = budget_release, .data = vb };
}

int
vug_budget_attach(struct vug_budget *vb, struct pv_renderer *r)
{
   const struct pv_memory_budget mb = vug_budget_callbacks(vb);
   return pv_renderer_set_memory_budget(r, &mb);
}

void
vug_budget_close(struct vug_budget *vb)
{
   if (vb->shm_name)
      pv_host_budget_close(&vb->host);
   else
      free(vb->budget);
   vb->budget = NULL;
}
