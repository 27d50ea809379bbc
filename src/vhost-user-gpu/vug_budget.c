#include "vug_budget.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define TAG "pv-vhost-user-gpu"

static bool
budget_charge(void *data, uint64_t bytes)
{
   struct vug_budget *vb = data;
   if (pv_shared_budget_charge(vb->budget, vb->slot, bytes))
      return true;
   /* the renderer's line after this one names the context */
   pv_warn(TAG, "%llu bytes refused: memory budget %llu bytes, %llu in use (--memory-budget%s%s)",
           (unsigned long long)bytes,
           (unsigned long long)__atomic_load_n(&vb->budget->limit, __ATOMIC_RELAXED),
           (unsigned long long)__atomic_load_n(&vb->budget->used, __ATOMIC_RELAXED),
           vb->shm_name ? ", shared by every backend of --budget-shm " : "",
           vb->shm_name ? vb->shm_name : "");
   return false;
}

static void
budget_release(void *data, uint64_t bytes)
{
   struct vug_budget *vb = data;
   pv_shared_budget_release(vb->budget, vb->slot, bytes);
}

int
vug_budget_open(struct vug_budget *vb, uint64_t limit, const char *shm_name)
{
   *vb = (struct vug_budget){ 0 };
   if (!limit)
      limit = pv_default_memory_budget();
   if (!shm_name) {
      vb->budget = calloc(1, sizeof(*vb->budget) + sizeof(vb->budget->slot_used[0]));
      if (!vb->budget)
         return -ENOMEM;
      vb->budget->limit = limit;
      pv_info(TAG, "memory budget of this VM's contexts: %llu MiB",
              (unsigned long long)(limit >> 20));
      return 0;
   }
   int ret = pv_host_budget_open(shm_name, limit, &vb->host);
   if (ret < 0) {
      pv_error(TAG, "cannot open the shared memory budget /dev/shm/%s: %s", shm_name,
               ret == -EINVAL ? "bad name, or not a budget file" : strerror(-ret));
      return ret;
   }
   vb->budget = vb->host.budget;
   vb->slot = vb->host.slot;
   vb->shm_name = shm_name;
   const uint64_t shared = __atomic_load_n(&vb->budget->limit, __ATOMIC_RELAXED);
   if (!vb->host.created && shared != limit)
      pv_warn(TAG,
              "memory budget /dev/shm/%s: %llu MiB, set by the backend that created it "
              "(this one asked for %llu MiB)",
              shm_name, (unsigned long long)(shared >> 20), (unsigned long long)(limit >> 20));
   pv_info(TAG, "memory budget shared through /dev/shm/%s (slot %u): %llu MiB, %llu in use",
           shm_name, vb->slot, (unsigned long long)(shared >> 20),
           (unsigned long long)__atomic_load_n(&vb->budget->used, __ATOMIC_RELAXED));
   return 0;
}

int
vug_budget_attach(struct vug_budget *vb, struct pv_renderer *r)
{
   const struct pv_memory_budget mb = { .charge = budget_charge,
                                        .release = budget_release,
                                        .data = vb };
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
