/*
 * A fake PearVisor renderer for the device model's 3D routing tests: it
 * implements include/pearvisor/pearvisor.h with just enough bookkeeping to
 * check what the device passes on.
 */
#include "fake_renderer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int pv_renderer_create(const struct pv_renderer_callbacks *cbs,
                       const struct pv_renderer_limits *limits, struct pv_renderer **out)
{
   struct pv_renderer *r = calloc(1, sizeof(*r));
   if (!r)
      return -ENOMEM;
   r->cbs = *cbs;
   *out = r;
   return 0;
}

void pv_renderer_destroy(struct pv_renderer *r)
{
   for (int i = 0; i < FAKE_MAX; i++)
      if (r->blob[i].id)
         free(r->blob[i].mem);
   free(r);
}

int pv_renderer_get_capset_info(struct pv_renderer *r, uint32_t capset_id, uint32_t *max_version,
                                uint32_t *max_size)
{
   if (capset_id != PV_CAPSET_VENUS)
      return -EINVAL;
   *max_version = 0;
   *max_size = 16;
   return 0;
}

int pv_renderer_get_capset(struct pv_renderer *r, uint32_t capset_id, uint32_t version, void *buf,
                           uint32_t *size)
{
   if (capset_id != PV_CAPSET_VENUS || version != 0)
      return -EINVAL;
   uint32_t n = *size < 16 ? *size : 16;
   memset(buf, 0xab, n);
   *size = n;
   return 0;
}

static int ctx_slot(struct pv_renderer *r, uint32_t id)
{
   for (int i = 0; i < FAKE_MAX; i++)
      if (r->ctx[i] == id)
         return i;
   return -1;
}

int pv_context_create(struct pv_renderer *r, uint32_t ctx_id, uint32_t capset_id, const char *name)
{
   if (ctx_id == 0 || ctx_slot(r, ctx_id) >= 0)
      return -EEXIST;
   int i = ctx_slot(r, 0);
   if (i < 0)
      return -ENOSPC;
   r->ctx[i] = ctx_id;
   strncpy(r->last_name, name, sizeof(r->last_name) - 1);
   return 0;
}

void pv_context_destroy(struct pv_renderer *r, uint32_t ctx_id)
{
   int i = ctx_slot(r, ctx_id);
   if (i >= 0)
      r->ctx[i] = 0;
}

int pv_context_submit(struct pv_renderer *r, uint32_t ctx_id, const void *data, size_t size)
{
   if (ctx_slot(r, ctx_id) < 0)
      return -ENOENT;
   r->submits++;
   r->last_submit_size = size;
   if (size >= 4 && memcmp(data, "BAD!", 4) == 0)
      return -EINVAL;
   return 0;
}

bool pv_context_is_lost(struct pv_renderer *r, uint32_t ctx_id)
{
   return false;
}

int pv_context_submit_fence(struct pv_renderer *r, uint32_t ctx_id, uint32_t ring_idx,
                            uint64_t fence_id)
{
   if (ctx_slot(r, ctx_id) < 0)
      return -ENOENT;
   r->fences++;
   r->last_fence = fence_id;
   r->last_ring = ring_idx;
   return 0;
}

static struct fake_blob *blob_find(struct pv_renderer *r, uint32_t id)
{
   for (int i = 0; i < FAKE_MAX; i++)
      if (id && r->blob[i].id == id)
         return &r->blob[i];
   return NULL;
}

int pv_resource_create_blob(struct pv_renderer *r, const struct pv_blob_args *a)
{
   if (blob_find(r, a->res_id))
      return -EEXIST;
   struct fake_blob *b = blob_find(r, 0);
   for (int i = 0; !b && i < FAKE_MAX; i++)
      if (!r->blob[i].id)
         b = &r->blob[i];
   if (!b || a->size > (1u << 20))
      return -ENOMEM;
   b->id = a->res_id;
   b->size = a->size;
   b->iov_count = a->iov_count;
   b->mem = calloc(1, a->size);
   return b->mem ? 0 : -ENOMEM;
}

void pv_resource_unref(struct pv_renderer *r, uint32_t res_id)
{
   struct fake_blob *b = blob_find(r, res_id);
   if (b) {
      free(b->mem);
      memset(b, 0, sizeof(*b));
      r->unrefs++;
   }
}

int pv_resource_export_fd(struct pv_renderer *r, uint32_t res_id, int *fd, uint32_t *map_info)
{
   struct fake_blob *b = blob_find(r, res_id);
   if (!b)
      return -ENOENT;
   *fd = memfd_create("fake-blob", 0);
   if (*fd < 0)
      return -errno;
   *map_info = PV_MAP_CACHE_CACHED;
   return 0;
}

int pv_resource_map(struct pv_renderer *r, uint32_t res_id, void **ptr, uint64_t *size)
{
   struct fake_blob *b = blob_find(r, res_id);
   if (!b)
      return -ENOENT;
   *ptr = b->mem;
   *size = b->size;
   return 0;
}

int pv_context_attach_resource(struct pv_renderer *r, uint32_t ctx_id, uint32_t res_id)
{
   if (ctx_slot(r, ctx_id) < 0 || !blob_find(r, res_id))
      return -ENOENT;
   r->attached++;
   return 0;
}

void pv_context_detach_resource(struct pv_renderer *r, uint32_t ctx_id, uint32_t res_id)
{
   r->attached--;
}
