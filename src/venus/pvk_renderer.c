/* The public API (include/pearvisor/pearvisor.h): renderers, contexts,
 * capsets, blob resources and fences. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/budget.h"
#include "common/device_policy.h"
#include "common/log.h"
#include "pearvisor/pearvisor.h"
#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_capset.h"
#include "venus/pvk_capture.h"
#include "venus/pvk_capture_format.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_memory.h"
#include "venus/pvk_premade.h"
#include "venus/pvk_queue.h"
#include "venus/pvk_renderer_test.h"
#include "venus/pvk_resource.h"

#define PVK_RES_BUCKETS 1024u
#define PVK_DEFAULT_TEARDOWN_TIMEOUT_MS 5000u

struct pvk_res_entry {
   struct pvk_resource *res;
   struct pvk_res_entry *next;
};

/* A context slot. Submits run without the renderer lock (a long command
 * must not stall the guest's other contexts): they count as users, and
 * destroy waits for them. A slot is free when ctx is NULL. */
struct pvk_ctx_entry {
   uint32_t ctx_id;
   struct pvk_context *ctx;
   uint32_t users;
   bool dying;
};

struct pv_renderer {
   pthread_mutex_t mutex;
   pthread_cond_t users_gone;
   struct pv_renderer_callbacks cbs;
   struct pv_renderer_limits limits;
   struct pvk_ctx_entry *contexts; /* limits.max_contexts slots */
   uint32_t wire_format;           /* PV_VENUS_WIRE_FORMAT_* */
   struct pv_device_policy policy;
   struct pv_memory_budget budget; /* shared with other renderers; charge NULL: none */
   struct pvk_res_entry *buckets[PVK_RES_BUCKETS];
   uint32_t teardown_timeout_ms; /* pv_renderer_set_teardown_timeout */
   /* Taken by the guest's vkCreateInstance, which runs with its context's
    * mutex held: premade_mutex, not mutex (pv_context_* take mutex, then a
    * context's), and nothing is locked under it. */
   pthread_mutex_t premade_mutex;
   struct pv_premade *premade; /* made ahead for the guest, until taken */
   /* counters for tests, atomic: bumped from handlers, context mutex held */
   uint32_t premade_instances; /* adopted so far */
   uint32_t premade_devices;
   uint32_t deferred_destroys;         /* guest destroys left to teardown */
   uint32_t finished_destroys;         /* of them, destroyed */
   pvk_teardown_hook_fn teardown_hook; /* tests only: runs before a teardown */
   void *teardown_hook_data;
};

int
pv_renderer_create(const struct pv_renderer_callbacks *cbs, const struct pv_renderer_limits *limits,
                   struct pv_renderer **out)
{
   if (!out)
      return -EINVAL;
   struct pv_renderer *r = calloc(1, sizeof(*r));
   if (!r)
      return -ENOMEM;
   if (cbs)
      r->cbs = *cbs;
   if (limits)
      r->limits = *limits;
   if (!r->limits.max_contexts)
      r->limits.max_contexts = 64;
   if (!r->limits.max_objects_per_context)
      r->limits.max_objects_per_context = 1u << 20;
   if (!r->limits.max_memory_per_context) {
      /* a single guest must not be allowed more than the host can give */
      const uint64_t half_ram = pv_host_ram_bytes() / 2;
      r->limits.max_memory_per_context = 16ull << 30;
      if (half_ram && half_ram < r->limits.max_memory_per_context)
         r->limits.max_memory_per_context = half_ram;
   }
   r->contexts = calloc(r->limits.max_contexts, sizeof(*r->contexts));
   if (!r->contexts) {
      free(r);
      return -ENOMEM;
   }
   r->teardown_timeout_ms = PVK_DEFAULT_TEARDOWN_TIMEOUT_MS;
   pthread_mutex_init(&r->mutex, NULL);
   pthread_mutex_init(&r->premade_mutex, NULL);
   pthread_cond_init(&r->users_gone, NULL);
   *out = r;
   return 0;
}

static struct pvk_ctx_entry *
find_ctx(struct pv_renderer *r, uint32_t ctx_id)
{
   if (!ctx_id)
      return NULL;
   for (uint32_t i = 0; i < r->limits.max_contexts; i++) {
      const struct pvk_ctx_entry *e = &r->contexts[i];
      if (e->ctx && e->ctx_id == ctx_id && !e->dying)
         return &r->contexts[i];
   }
   return NULL;
}

/* Takes a context for use without the renderer lock (r->mutex held). */
static struct pvk_ctx_entry *
ctx_acquire(struct pv_renderer *r, uint32_t ctx_id)
{
   struct pvk_ctx_entry *e = find_ctx(r, ctx_id);
   if (e)
      e->users++;
   return e;
}

static void
ctx_release(struct pv_renderer *r, struct pvk_ctx_entry *e)
{
   pthread_mutex_lock(&r->mutex);
   if (--e->users == 0)
      pthread_cond_broadcast(&r->users_gone);
   pthread_mutex_unlock(&r->mutex);
}

static struct pvk_context *
get_ctx(struct pv_renderer *r, uint32_t ctx_id)
{
   struct pvk_ctx_entry *e = find_ctx(r, ctx_id);
   return e ? e->ctx : NULL;
}

static struct pvk_res_entry **
find_res_slot(struct pv_renderer *r, uint32_t res_id)
{
   struct pvk_res_entry **p = &r->buckets[res_id % PVK_RES_BUCKETS];
   while (*p && (*p)->res->res_id != res_id)
      p = &(*p)->next;
   return p;
}

static struct pvk_resource *
get_res(struct pv_renderer *r, uint32_t res_id)
{
   struct pvk_res_entry *e = *find_res_slot(r, res_id);
   return e ? e->res : NULL;
}

void
pv_renderer_destroy(struct pv_renderer *r)
{
   if (!r)
      return;
   /* one deadline for all: stuck contexts do not add up */
   const uint64_t deadline = pvk_now_ns() + (uint64_t)r->teardown_timeout_ms * 1000000ull;
   for (uint32_t i = 0; i < r->limits.max_contexts; i++) {
      if (r->contexts[i].ctx)
         pvk_context_destroy(r->contexts[i].ctx, deadline);
   }
   for (uint32_t i = 0; i < PVK_RES_BUCKETS; i++) {
      while (r->buckets[i]) {
         struct pvk_res_entry *e = r->buckets[i];
         r->buckets[i] = e->next;
         pvk_resource_unref(e->res);
         free(e);
      }
   }
   pv_premade_destroy(r->premade);
   free(r->contexts);
   pthread_cond_destroy(&r->users_gone);
   pthread_mutex_destroy(&r->mutex);
   pthread_mutex_destroy(&r->premade_mutex);
   free(r);
}

static bool
has_context_locked(const struct pv_renderer *r)
{
   for (uint32_t i = 0; i < r->limits.max_contexts; i++) {
      if (r->contexts[i].ctx)
         return true;
   }
   return false;
}

int
pv_renderer_set_premade(struct pv_renderer *r, struct pv_premade *pm)
{
   if (!r || !pm) {
      pv_premade_destroy(pm);
      return -EINVAL;
   }
   pthread_mutex_lock(&r->mutex);
   pthread_mutex_lock(&r->premade_mutex);
   int ret = has_context_locked(r)                               ? -EBUSY
             : r->premade                                        ? -EEXIST
             : !pvk_device_policy_equal(&pm->policy, &r->policy) ? -EINVAL
                                                                 : 0;
   if (!ret)
      r->premade = pm;
   pthread_mutex_unlock(&r->premade_mutex);
   pthread_mutex_unlock(&r->mutex);
   if (ret)
      pv_premade_destroy(pm);
   return ret;
}

struct pvk_instance *
pvk_renderer_take_premade(struct pv_renderer *r, const struct pvk_key *app)
{
   pthread_mutex_lock(&r->premade_mutex);
   struct pv_premade *pm = r->premade;
   if (pm && pm->inst && pvk_key_equal(&pm->inst->app_key, app))
      r->premade = NULL;
   else
      pm = NULL;
   pthread_mutex_unlock(&r->premade_mutex);
   if (!pm)
      return NULL;
   struct pvk_instance *inst = pm->inst;
   pm->inst = NULL;
   /* the device goes with its instance, whoever destroys that */
   inst->premade = pm;
   return inst;
}

void
pvk_renderer_count_premade(struct pv_renderer *r, bool device)
{
   __atomic_fetch_add(device ? &r->premade_devices : &r->premade_instances, 1, __ATOMIC_RELAXED);
}

void
pvk_renderer_premade_stats(struct pv_renderer *r, uint32_t *instances, uint32_t *devices)
{
   *instances = __atomic_load_n(&r->premade_instances, __ATOMIC_RELAXED);
   *devices = __atomic_load_n(&r->premade_devices, __ATOMIC_RELAXED);
}

void
pvk_renderer_count_destroys(struct pv_renderer *r, uint32_t deferred, uint32_t finished)
{
   __atomic_fetch_add(&r->deferred_destroys, deferred, __ATOMIC_RELAXED);
   __atomic_fetch_add(&r->finished_destroys, finished, __ATOMIC_RELAXED);
}

void
pvk_renderer_destroy_stats(struct pv_renderer *r, uint32_t *deferred, uint32_t *finished)
{
   *deferred = __atomic_load_n(&r->deferred_destroys, __ATOMIC_RELAXED);
   *finished = __atomic_load_n(&r->finished_destroys, __ATOMIC_RELAXED);
}

void
pvk_renderer_report_recipe(struct pv_renderer *r, struct pvk_instance *inst, VkPhysicalDevice phys,
                           const struct pvk_key *device)
{
   if (!r->cbs.device_recipe)
      return;
   struct pvk_key recipe;
   if (!pvk_recipe_build(inst, phys, device, &recipe))
      return;
   r->cbs.device_recipe(r->cbs.data, recipe.bytes, recipe.size);
   pvk_key_fini(&recipe);
}

/* Settings that apply to contexts created afterwards: takes r->mutex;
 * false (not held) once a context exists. */
static bool
lock_before_contexts(struct pv_renderer *r)
{
   pthread_mutex_lock(&r->mutex);
   if (!has_context_locked(r))
      return true;
   pthread_mutex_unlock(&r->mutex);
   return false;
}

int
pv_renderer_set_venus_wire_format(struct pv_renderer *r, uint32_t wire_format)
{
   if (!r || wire_format > PV_VENUS_WIRE_FORMAT_MESA25)
      return -EINVAL;
   if (!lock_before_contexts(r))
      return -EBUSY;
   r->wire_format = wire_format;
   pthread_mutex_unlock(&r->mutex);
   return 0;
}

int
pv_renderer_set_device_policy(struct pv_renderer *r, const struct pv_device_policy *policy)
{
   if (!r || !policy || !pv_queue_priority_known(policy->queue_priority))
      return -EINVAL;
   if (!lock_before_contexts(r))
      return -EBUSY;
   r->policy = *policy;
   pthread_mutex_unlock(&r->mutex);
   return 0;
}

int
pv_renderer_set_teardown_timeout(struct pv_renderer *r, uint32_t timeout_ms)
{
   if (!r)
      return -EINVAL;
   pthread_mutex_lock(&r->mutex);
   r->teardown_timeout_ms = timeout_ms ? timeout_ms : PVK_DEFAULT_TEARDOWN_TIMEOUT_MS;
   pthread_mutex_unlock(&r->mutex);
   return 0;
}

int
pv_renderer_set_memory_budget(struct pv_renderer *r, const struct pv_memory_budget *budget)
{
   if (!r || (budget && (!budget->charge || !budget->release)))
      return -EINVAL;
   if (!lock_before_contexts(r))
      return -EBUSY;
   r->budget = budget ? *budget : (struct pv_memory_budget){ 0 };
   pthread_mutex_unlock(&r->mutex);
   return 0;
}

uint32_t
pv_renderer_venus_wire_format(const struct pv_renderer *r)
{
   return r ? r->wire_format : 0;
}

int
pv_renderer_get_capset_info(struct pv_renderer *r, uint32_t capset_id, uint32_t *max_version,
                            uint32_t *max_size)
{
   if (!r || capset_id != PV_CAPSET_VENUS)
      return -EINVAL;
   if (max_version)
      *max_version = 0;
   if (max_size) {
      struct pvk_capset_venus caps;
      *max_size = pvk_capset_venus_fill(&caps, r->wire_format);
   }
   return 0;
}

int
pv_renderer_get_capset(struct pv_renderer *r, uint32_t capset_id, uint32_t version, void *buf,
                       uint32_t *size)
{
   if (!r || !size || capset_id != PV_CAPSET_VENUS || version != 0)
      return -EINVAL;
   struct pvk_capset_venus caps;
   const uint32_t full = pvk_capset_venus_fill(&caps, r->wire_format);
   uint32_t n = *size < full ? *size : full;
   if (n && !buf)
      return -EINVAL;
   if (n)
      memcpy(buf, &caps, n);
   *size = n;
   return 0;
}

static void
fence_retired(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id)
{
   const struct pv_renderer_callbacks *cbs = data;
   if (cbs->fence_retired)
      cbs->fence_retired(cbs->data, ctx_id, ring_idx, fence_id);
}

int
pv_context_create(struct pv_renderer *r, uint32_t ctx_id, uint32_t capset_id,
                  const char *debug_name)
{
   if (!r || !ctx_id || capset_id != PV_CAPSET_VENUS)
      return -EINVAL;
   pthread_mutex_lock(&r->mutex);
   int ret = -EEXIST;
   if (find_ctx(r, ctx_id))
      goto out;
   ret = -ENOSPC;
   struct pvk_ctx_entry *slot = NULL;
   for (uint32_t i = 0; i < r->limits.max_contexts; i++) {
      if (!r->contexts[i].ctx) {
         slot = &r->contexts[i];
         break;
      }
   }
   if (!slot)
      goto out;
   ret = -EBUSY;
   const uint32_t abandoned = pvk_context_abandoned_count();
   if (abandoned >= PVK_MAX_ABANDONED_CONTEXTS) {
      pv_error("venus",
               "context %u refused: %u contexts of this process were abandoned at teardown "
               "with their devices still busy (at most %u)",
               ctx_id, abandoned, PVK_MAX_ABANDONED_CONTEXTS);
      goto out;
   }
   const struct pvk_context_create_info info = {
      .renderer = r,
      .ctx_id = ctx_id,
      .name = debug_name,
      .max_objects = r->limits.max_objects_per_context,
      .max_memory = r->limits.max_memory_per_context,
      .budget = r->budget.charge ? &r->budget : NULL,
      .wire_format = r->wire_format,
      .policy = r->policy,
      /* the firewall's waits are bounded like the teardown's */
      .firewall_wait_limit_ns = (uint64_t)r->teardown_timeout_ms * 1000000ull,
      .fence_retired = fence_retired,
      .fence_data = &r->cbs,
   };
   ret = pvk_context_create(&info, &slot->ctx);
   if (ret == 0) {
      slot->ctx_id = ctx_id;
      slot->users = 0;
      slot->dying = false;
   }
out:
   pthread_mutex_unlock(&r->mutex);
   return ret;
}

/* The context becomes unreachable under the renderer lock (dying: lookups
 * skip it, its slot stays taken); its teardown (ring, fence and monitor
 * threads joined, devices idled and destroyed, or abandoned after the
 * teardown timeout) runs without the lock, so one guest's teardown never
 * stalls another guest's calls. */
void
pv_context_destroy(struct pv_renderer *r, uint32_t ctx_id)
{
   if (!r)
      return;
   pthread_mutex_lock(&r->mutex);
   struct pvk_ctx_entry *e = find_ctx(r, ctx_id);
   if (!e) {
      pthread_mutex_unlock(&r->mutex);
      return;
   }
   e->dying = true;              /* no new users, no lookups */
   pvk_transport_cancel(e->ctx); /* users blocked in waits return */
   while (e->users)
      pthread_cond_wait(&r->users_gone, &r->mutex);
   struct pvk_context *ctx = e->ctx;
   const uint32_t timeout_ms = r->teardown_timeout_ms;
   const pvk_teardown_hook_fn hook = r->teardown_hook;
   void *hook_data = r->teardown_hook_data;
   pthread_mutex_unlock(&r->mutex);

   if (hook)
      hook(hook_data, ctx_id);
   pvk_context_destroy(ctx, pvk_now_ns() + (uint64_t)timeout_ms * 1000000ull);

   pthread_mutex_lock(&r->mutex);
   e->ctx = NULL; /* the slot is free again */
   e->ctx_id = 0;
   e->dying = false;
   pthread_mutex_unlock(&r->mutex);
}

void
pvk_renderer_set_teardown_hook(struct pv_renderer *r, pvk_teardown_hook_fn hook, void *data)
{
   pthread_mutex_lock(&r->mutex);
   r->teardown_hook = hook;
   r->teardown_hook_data = data;
   pthread_mutex_unlock(&r->mutex);
}

int
pv_context_submit(struct pv_renderer *r, uint32_t ctx_id, const void *data, size_t size)
{
   if (!r || (size && !data))
      return -EINVAL;
   pthread_mutex_lock(&r->mutex);
   struct pvk_ctx_entry *e = ctx_acquire(r, ctx_id);
   pthread_mutex_unlock(&r->mutex);
   if (!e)
      return -ENOENT;
   const int ret = pvk_context_submit(e->ctx, data, size);
   ctx_release(r, e);
   return ret;
}

bool
pv_context_is_lost(struct pv_renderer *r, uint32_t ctx_id)
{
   if (!r)
      return true;
   pthread_mutex_lock(&r->mutex);
   struct pvk_context *ctx = get_ctx(r, ctx_id);
   bool lost = !ctx || pvk_context_is_lost(ctx);
   pthread_mutex_unlock(&r->mutex);
   return lost;
}

int
pv_context_submit_fence(struct pv_renderer *r, uint32_t ctx_id, uint32_t ring_idx,
                        uint64_t fence_id)
{
   if (!r)
      return -EINVAL;
   pthread_mutex_lock(&r->mutex);
   struct pvk_ctx_entry *e = ctx_acquire(r, ctx_id);
   pthread_mutex_unlock(&r->mutex);
   if (!e)
      return -ENOENT;
   const int ret = pvk_context_submit_fence(e->ctx, ring_idx, fence_id);
   ctx_release(r, e);
   return ret;
}

/* Backing memory of a GUEST blob given as iovecs: usable only when the
 * pages are one contiguous host range (one iovec, or adjacent ones). */
static int
iov_contiguous(const struct iovec *iov, uint32_t count, uint64_t size, uint8_t **out)
{
   uint8_t *base = iov[0].iov_base;
   uint64_t total = 0;
   for (uint32_t i = 0; i < count; i++) {
      if ((uint8_t *)iov[i].iov_base != base + total || !iov[i].iov_base)
         return -ENOTSUP;
      total += iov[i].iov_len;
   }
   if (total < size)
      return -EINVAL;
   *out = base;
   return 0;
}

/* HOST3D blob naming a VkDeviceMemory: share its memfd (zero copies). */
static int
blob_from_device_memory(struct pvk_context *ctx, const struct pv_blob_args *args,
                        struct pvk_resource *res)
{
   pthread_mutex_lock(&ctx->mutex);
   int ret = -ENOENT;
   struct vn_object *obj =
      vn_object_table_lookup(ctx->dispatch.objects, args->blob_id, VK_OBJECT_TYPE_DEVICE_MEMORY);
   struct pvk_device_memory *mem = obj ? obj->data : NULL;
   if (mem && mem->shm) {
      ret = -EINVAL;
      if (args->size <= mem->shm->shm.size) {
         res->shm = pvk_shm_ref(mem->shm);
         res->map = mem->shm->shm.map;
         ret = 0;
      }
   } else if (mem && mem->res && mem->res->map && args->size <= mem->res->size) {
      /* memory imported from another blob: alias it */
      res->shm = mem->res->shm ? pvk_shm_ref(mem->res->shm) : NULL;
      res->map = mem->res->map;
      ret = 0;
   } else if (mem) {
      ret = -EINVAL; /* not host-visible */
   }
   pthread_mutex_unlock(&ctx->mutex);
   return ret;
}

static int
blob_init(struct pv_renderer *r, const struct pv_blob_args *args, struct pvk_resource *res,
          struct pvk_context *ctx, bool *charged)
{
   switch (args->blob_mem) {
   case PV_BLOB_MEM_GUEST:
      if (args->iov && args->iov_count) {
         /* Scattered guest pages: the blob exists, but venus cannot use it
          * (rings, reply and command streams need one host range). */
         const int ret = iov_contiguous(args->iov, args->iov_count, args->size, &res->map);
         return ret == -ENOTSUP ? 0 : ret;
      }
      break;
   case PV_BLOB_MEM_HOST3D:
      if (!ctx)
         return -EINVAL;
      if (args->blob_id)
         return blob_from_device_memory(ctx, args, res);
      break;
   default:
      return -EINVAL;
   }
   /* plain shared memory (rings, reply streams, command buffers) */
   if (ctx) {
      pthread_mutex_lock(&ctx->mutex);
      *charged = pvk_context_charge_memory(ctx, NULL, args->size);
      pthread_mutex_unlock(&ctx->mutex);
      if (!*charged)
         return -ENOMEM;
   }
   res->shm = pvk_shm_create("pv-blob", args->size);
   if (!res->shm)
      return -ENOMEM;
   res->map = res->shm->shm.map;
   return 0;
}

int
pv_resource_create_blob(struct pv_renderer *r, const struct pv_blob_args *args)
{
   if (!r || !args || !args->res_id || !args->size)
      return -EINVAL;
   pthread_mutex_lock(&r->mutex);
   int ret = -EEXIST;
   struct pvk_context *ctx = NULL;
   bool charged = false;
   struct pvk_resource *res = NULL;
   if (get_res(r, args->res_id))
      goto out;
   ret = -ENOENT;
   if (args->ctx_id && !(ctx = get_ctx(r, args->ctx_id)))
      goto out;
   ret = -ENOMEM;
   res = calloc(1, sizeof(*res));
   struct pvk_res_entry *e = calloc(1, sizeof(*e));
   if (!res || !e) {
      free(e);
      goto out;
   }
   atomic_init(&res->refcount, 1);
   res->res_id = args->res_id;
   res->blob_mem = args->blob_mem;
   res->blob_flags = args->blob_flags;
   res->blob_id = args->blob_id;
   res->size = args->size;
   ret = blob_init(r, args, res, ctx, &charged);
   if (ret) {
      free(e);
      goto out;
   }
   if (charged)
      res->charged_ctx_id = args->ctx_id;
   e->res = res;
   e->next = r->buckets[args->res_id % PVK_RES_BUCKETS];
   r->buckets[args->res_id % PVK_RES_BUCKETS] = e;
   /* The creating context may use it right away (as virglrenderer does). */
   if (ctx) {
      pthread_mutex_lock(&ctx->mutex);
      pvk_context_attach_locked(ctx, res);
      pthread_mutex_unlock(&ctx->mutex);
   }
   res = NULL;
out:
   if (res) {
      if (charged) {
         pthread_mutex_lock(&ctx->mutex);
         pvk_context_uncharge_memory(ctx, PV_MEMORY_POOL_RAM, args->size);
         pthread_mutex_unlock(&ctx->mutex);
      }
      pvk_resource_unref(res);
   }
   pthread_mutex_unlock(&r->mutex);
   return ret;
}

void
pv_resource_unref(struct pv_renderer *r, uint32_t res_id)
{
   if (!r)
      return;
   pthread_mutex_lock(&r->mutex);
   struct pvk_res_entry **p = find_res_slot(r, res_id);
   struct pvk_res_entry *e = *p;
   if (e) {
      *p = e->next;
      /* A resource is never reachable through a context once the guest
       * dropped it: detach it everywhere. */
      for (uint32_t i = 0; i < r->limits.max_contexts; i++) {
         struct pvk_context *ctx = r->contexts[i].ctx;
         /* a dying context drops its attachments in its own teardown */
         if (!ctx || r->contexts[i].dying)
            continue;
         pthread_mutex_lock(&ctx->mutex);
         if (pvk_context_lookup_resource(ctx, res_id)) {
            pvk_context_detach_locked(ctx, res_id);
            if (ctx->capture)
               pvk_capture_res_id(ctx->capture, PVK_CAPTURE_UNREF, res_id);
         }
         pthread_mutex_unlock(&ctx->mutex);
      }
      struct pvk_context *owner = get_ctx(r, e->res->charged_ctx_id);
      if (owner) {
         pthread_mutex_lock(&owner->mutex);
         pvk_context_uncharge_memory(owner, PV_MEMORY_POOL_RAM, e->res->size);
         pthread_mutex_unlock(&owner->mutex);
      }
      pvk_resource_unref(e->res);
      free(e);
   }
   pthread_mutex_unlock(&r->mutex);
}

int
pv_resource_export_fd(struct pv_renderer *r, uint32_t res_id, int *fd, uint32_t *map_info)
{
   if (!r || !fd)
      return -EINVAL;
   pthread_mutex_lock(&r->mutex);
   struct pvk_resource *res = get_res(r, res_id);
   int ret = -ENOENT;
   if (res) {
      ret = -EINVAL;
      if (res->shm) {
         *fd = fcntl(res->shm->shm.fd, F_DUPFD_CLOEXEC, 0);
         ret = *fd < 0 ? -errno : 0;
         if (map_info)
            *map_info = PV_MAP_CACHE_CACHED;
      }
   }
   pthread_mutex_unlock(&r->mutex);
   return ret;
}

int
pv_resource_map(struct pv_renderer *r, uint32_t res_id, void **ptr, uint64_t *size)
{
   if (!r || !ptr)
      return -EINVAL;
   pthread_mutex_lock(&r->mutex);
   struct pvk_resource *res = get_res(r, res_id);
   int ret = -ENOENT;
   if (res) {
      ret = res->map ? 0 : -EINVAL;
      *ptr = res->map;
      if (size)
         *size = res->size;
   }
   pthread_mutex_unlock(&r->mutex);
   return ret;
}

int
pv_context_attach_resource(struct pv_renderer *r, uint32_t ctx_id, uint32_t res_id)
{
   if (!r)
      return -EINVAL;
   pthread_mutex_lock(&r->mutex);
   struct pvk_context *ctx = get_ctx(r, ctx_id);
   struct pvk_resource *res = get_res(r, res_id);
   int ret = -ENOENT;
   if (ctx && res) {
      pthread_mutex_lock(&ctx->mutex);
      ret = pvk_context_attach_locked(ctx, res);
      pthread_mutex_unlock(&ctx->mutex);
   }
   pthread_mutex_unlock(&r->mutex);
   return ret;
}

void
pv_context_detach_resource(struct pv_renderer *r, uint32_t ctx_id, uint32_t res_id)
{
   if (!r)
      return;
   pthread_mutex_lock(&r->mutex);
   struct pvk_context *ctx = get_ctx(r, ctx_id);
   if (ctx) {
      pthread_mutex_lock(&ctx->mutex);
      pvk_context_detach_locked(ctx, res_id);
      pthread_mutex_unlock(&ctx->mutex);
   }
   pthread_mutex_unlock(&r->mutex);
}
