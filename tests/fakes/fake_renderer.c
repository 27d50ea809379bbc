/*
 * The fake renderer (fake_renderer.h says what tests may rely on).
 */
#include "fake_renderer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct fake_fence_thread {
   struct fake_fence_thread *next;
   pthread_t thread;
   struct pv_renderer *r;
   uint32_t ctx_id, ring;
   uint64_t fence_id;
};

unsigned fake_fence_calls[2];

int
pv_renderer_create(const struct pv_renderer_callbacks *cbs, const struct pv_renderer_limits *limits,
                   struct pv_renderer **out)
{
   (void)limits;
   struct pv_renderer *r = calloc(1, sizeof(*r));
   if (!r)
      return -ENOMEM;
   r->cbs = *cbs;
   *out = r;
   return 0;
}

void
pv_renderer_destroy(struct pv_renderer *r)
{
   while (r->threads) {
      struct fake_fence_thread *t = r->threads;
      r->threads = t->next;
      pthread_join(t->thread, NULL);
      free(t);
   }
   for (int i = 0; i < FAKE_MAX; i++)
      if (r->blob[i].id)
         pv_shmem_destroy(&r->blob[i].shm);
   free(r);
}

int
pv_renderer_set_memory_budget(struct pv_renderer *r, const struct pv_memory_budget *budget)
{
   (void)r;
   (void)budget;
   return 0;
}

/* Nothing is made ahead here: a recipe is refused. */
int
pv_premade_create(const void *recipe, size_t size, const struct pv_device_policy *policy,
                  struct pv_premade **out)
{
   (void)recipe;
   (void)size;
   (void)policy;
   *out = NULL;
   return -ENODEV;
}

void
pv_premade_destroy(struct pv_premade *pm)
{
   (void)pm;
}

int
pv_renderer_set_premade(struct pv_renderer *r, struct pv_premade *pm)
{
   (void)r;
   (void)pm;
   return -EINVAL;
}

int
pv_renderer_set_device_policy(struct pv_renderer *r, const struct pv_device_policy *policy)
{
   r->device_policy = *policy;
   return 0;
}

int
pv_renderer_set_teardown_timeout(struct pv_renderer *r, uint32_t timeout_ms)
{
   r->teardown_timeout_ms = timeout_ms;
   return 0;
}

int
pv_renderer_set_venus_wire_format(struct pv_renderer *r, uint32_t wire_format)
{
   if (wire_format > PV_VENUS_WIRE_FORMAT_MESA25)
      return -EINVAL;
   r->wire_format = wire_format;
   return 0;
}

uint32_t
pv_renderer_venus_wire_format(const struct pv_renderer *r)
{
   return r->wire_format;
}

int
pv_renderer_get_capset_info(struct pv_renderer *r, uint32_t capset_id, uint32_t *max_version,
                            uint32_t *max_size)
{
   (void)r;
   if (capset_id != PV_CAPSET_VENUS)
      return -EINVAL;
   *max_version = 0;
   *max_size = FAKE_CAPSET_SIZE;
   return 0;
}

int
pv_renderer_get_capset(struct pv_renderer *r, uint32_t capset_id, uint32_t version, void *buf,
                       uint32_t *size)
{
   (void)r;
   if (capset_id != PV_CAPSET_VENUS || version != 0)
      return -EINVAL;
   if (*size > FAKE_CAPSET_SIZE)
      *size = FAKE_CAPSET_SIZE;
   for (uint32_t i = 0; i < *size; i++)
      ((uint8_t *)buf)[i] = (uint8_t)i;
   return 0;
}

static struct fake_ctx *
ctx_find(struct pv_renderer *r, uint32_t id)
{
   for (int i = 0; i < FAKE_MAX; i++)
      if (r->ctx[i].id == id)
         return &r->ctx[i];
   return NULL;
}

int
pv_context_create(struct pv_renderer *r, uint32_t ctx_id, uint32_t capset_id, const char *name)
{
   if (!ctx_id || capset_id != PV_CAPSET_VENUS)
      return -EINVAL;
   if (ctx_find(r, ctx_id))
      return -EEXIST;
   struct fake_ctx *c = ctx_find(r, 0);
   if (!c)
      return -ENOSPC;
   *c = (struct fake_ctx){ .id = ctx_id };
   strncpy(r->last_name, name, sizeof(r->last_name) - 1);
   return 0;
}

void
pv_context_destroy(struct pv_renderer *r, uint32_t ctx_id)
{
   struct fake_ctx *c = ctx_id ? ctx_find(r, ctx_id) : NULL;
   if (c)
      *c = (struct fake_ctx){ 0 };
}

int
pv_context_submit(struct pv_renderer *r, uint32_t ctx_id, const void *data, size_t size)
{
   struct fake_ctx *c = ctx_id ? ctx_find(r, ctx_id) : NULL;
   if (!c)
      return -EINVAL;
   if (c->lost)
      return -ENODEV;
   r->submits++;
   r->last_submit_size = size;
   uint32_t first = 0;
   if (size >= 4)
      memcpy(&first, data, 4);
   if (first == FAKE_BAD_STREAM || size % 4) {
      c->lost = true;
      return -EINVAL;
   }
   return 0;
}

bool
pv_context_is_lost(struct pv_renderer *r, uint32_t ctx_id)
{
   struct fake_ctx *c = ctx_id ? ctx_find(r, ctx_id) : NULL;
   return c && c->lost;
}

static void *
deferred_fence(void *arg)
{
   struct fake_fence_thread *t = arg;
   nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
   t->r->cbs.fence_retired(t->r->cbs.data, t->ctx_id, t->ring, t->fence_id);
   return NULL;
}

int
pv_context_submit_fence(struct pv_renderer *r, uint32_t ctx_id, uint32_t ring_idx,
                        uint64_t fence_id)
{
   if (!ctx_id || !ctx_find(r, ctx_id))
      return -EINVAL;
   __atomic_fetch_add(&fake_fence_calls[ring_idx ? 1 : 0], 1, __ATOMIC_SEQ_CST);
   r->fences++;
   r->last_fence = fence_id;
   r->last_ring = ring_idx;
   if (!r->cbs.fence_retired)
      return 0;
   if (ring_idx == 0) {
      r->cbs.fence_retired(r->cbs.data, ctx_id, ring_idx, fence_id);
      return 0;
   }
   struct fake_fence_thread *t = calloc(1, sizeof(*t));
   if (!t)
      return -ENOMEM;
   *t = (struct fake_fence_thread){
      .r = r, .ctx_id = ctx_id, .ring = ring_idx, .fence_id = fence_id
   };
   if (pthread_create(&t->thread, NULL, deferred_fence, t)) {
      free(t);
      return -EAGAIN;
   }
   t->next = r->threads;
   r->threads = t;
   return 0;
}

static struct fake_blob *
blob_find(struct pv_renderer *r, uint32_t id)
{
   for (int i = 0; i < FAKE_MAX; i++)
      if (r->blob[i].id == id)
         return &r->blob[i];
   return NULL;
}

int
pv_resource_create_blob(struct pv_renderer *r, const struct pv_blob_args *a)
{
   if (!a->res_id || !a->size)
      return -EINVAL;
   if (blob_find(r, a->res_id))
      return -EEXIST;
   if (a->blob_mem == PV_BLOB_MEM_GUEST && (!a->iov || a->iov_count != 1))
      return -EINVAL;
   struct fake_blob *b = blob_find(r, 0);
   if (!b || a->size > FAKE_BLOB_MAX_SIZE)
      return -ENOMEM;
   *b = (struct fake_blob){ .blob_mem = a->blob_mem,
                            .blob_flags = a->blob_flags,
                            .iov_count = a->iov_count,
                            .size = a->size,
                            .shm.fd = -1 };
   if (a->blob_mem != PV_BLOB_MEM_GUEST) {
      int ret = pv_shmem_create(&b->shm, "fake-blob", a->size);
      if (ret < 0)
         return ret;
      b->mem = b->shm.map;
   }
   b->id = a->res_id;
   return 0;
}

void
pv_resource_unref(struct pv_renderer *r, uint32_t res_id)
{
   struct fake_blob *b = res_id ? blob_find(r, res_id) : NULL;
   if (!b)
      return;
   pv_shmem_destroy(&b->shm);
   *b = (struct fake_blob){ 0 };
   r->unrefs++;
}

int
pv_resource_export_fd(struct pv_renderer *r, uint32_t res_id, int *fd, uint32_t *map_info)
{
   struct fake_blob *b = res_id ? blob_find(r, res_id) : NULL;
   if (!b || !b->mem || !(b->blob_flags & PV_BLOB_FLAG_MAPPABLE))
      return -EINVAL;
   *fd = dup(b->shm.fd);
   if (*fd < 0)
      return -errno;
   *map_info = PV_MAP_CACHE_CACHED;
   return 0;
}

int
pv_resource_map(struct pv_renderer *r, uint32_t res_id, void **ptr, uint64_t *size)
{
   struct fake_blob *b = res_id ? blob_find(r, res_id) : NULL;
   if (!b || !b->mem)
      return -EINVAL;
   *ptr = b->mem;
   *size = b->size;
   return 0;
}

int
pv_context_attach_resource(struct pv_renderer *r, uint32_t ctx_id, uint32_t res_id)
{
   if (!ctx_id || !ctx_find(r, ctx_id) || !res_id || !blob_find(r, res_id))
      return -EINVAL;
   r->attached++;
   return 0;
}

void
pv_context_detach_resource(struct pv_renderer *r, uint32_t ctx_id, uint32_t res_id)
{
   (void)ctx_id;
   (void)res_id;
   r->attached--;
}
