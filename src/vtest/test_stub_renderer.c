/*
 * A small stand-in for PearVisor's renderer (include/pearvisor/pearvisor.h),
 * linked only into test_vtest, so the vtest server can be tested on its own.
 *
 * Behaviour the tests rely on:
 * - capset PV_CAPSET_VENUS, version 0, 64 bytes: byte i is i (whatever the
 *   wire format set with pv_renderer_set_venus_wire_format);
 * - pv_context_submit_fence counts its calls per ring (stub_fence_calls);
 * - a command stream starting with STUB_BAD_STREAM marks the context lost;
 * - fences on ring 0 retire at once (inside the call), on other rings 50 ms
 *   later from a thread of the stub's own;
 * - HOST3D blobs are memfds, exported only when MAPPABLE; GUEST blobs keep
 *   the server's iov.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/shmem.h"
#include "pearvisor/pearvisor.h"

#define STUB_BAD_STREAM 0xdeadbeefu
#define STUB_CAPSET_SIZE 64

struct stub_blob {
   struct stub_blob *next;
   uint32_t res_id;
   uint32_t blob_mem;
   uint32_t blob_flags;
   struct pv_shmem shm;
};

struct stub_fence_thread {
   struct stub_fence_thread *next;
   pthread_t thread;
   struct pv_renderer *r;
   uint32_t ctx_id, ring;
   uint64_t fence_id;
};

struct pv_renderer {
   struct pv_renderer_callbacks cbs;
   pthread_mutex_t lock;
   uint32_t ctx_id;
   bool lost;
   struct stub_blob *blobs;
   struct stub_fence_thread *threads;
   uint32_t wire_format;
};

/* pv_context_submit_fence calls on ring 0 and on other rings, all renderers */
unsigned stub_fence_calls[2];

int
pv_renderer_set_venus_wire_format(struct pv_renderer *r, uint32_t wire_format)
{
   if (wire_format > PV_VENUS_WIRE_FORMAT_MESA25)
      return -EINVAL;
   r->wire_format = wire_format;
   return 0;
}

int
pv_renderer_set_memory_budget(struct pv_renderer *r, const struct pv_memory_budget *budget)
{
   (void)r;
   (void)budget;
   return 0;
}

uint32_t
pv_renderer_venus_wire_format(const struct pv_renderer *r)
{
   return r->wire_format;
}

int
pv_renderer_create(const struct pv_renderer_callbacks *cbs, const struct pv_renderer_limits *limits,
                   struct pv_renderer **out)
{
   struct pv_renderer *r = calloc(1, sizeof(*r));
   if (!r)
      return -ENOMEM;
   r->cbs = *cbs;
   pthread_mutex_init(&r->lock, NULL);
   *out = r;
   return 0;
}

void
pv_renderer_destroy(struct pv_renderer *r)
{
   while (r->threads) {
      struct stub_fence_thread *t = r->threads;
      r->threads = t->next;
      pthread_join(t->thread, NULL);
      free(t);
   }
   while (r->blobs) {
      struct stub_blob *b = r->blobs;
      r->blobs = b->next;
      pv_shmem_destroy(&b->shm);
      free(b);
   }
   pthread_mutex_destroy(&r->lock);
   free(r);
}

int
pv_renderer_get_capset_info(struct pv_renderer *r, uint32_t capset_id, uint32_t *max_version,
                            uint32_t *max_size)
{
   if (capset_id != PV_CAPSET_VENUS)
      return -EINVAL;
   *max_version = 0;
   *max_size = STUB_CAPSET_SIZE;
   return 0;
}

int
pv_renderer_get_capset(struct pv_renderer *r, uint32_t capset_id, uint32_t version, void *buf,
                       uint32_t *size)
{
   if (capset_id != PV_CAPSET_VENUS || version != 0)
      return -EINVAL;
   uint8_t data[STUB_CAPSET_SIZE];
   for (unsigned i = 0; i < sizeof(data); i++)
      data[i] = (uint8_t)i;
   if (*size > sizeof(data))
      *size = sizeof(data);
   memcpy(buf, data, *size);
   return 0;
}

int
pv_context_create(struct pv_renderer *r, uint32_t ctx_id, uint32_t capset_id, const char *name)
{
   if (!ctx_id || capset_id != PV_CAPSET_VENUS)
      return -EINVAL;
   if (r->ctx_id)
      return -EEXIST;
   r->ctx_id = ctx_id;
   return 0;
}

void
pv_context_destroy(struct pv_renderer *r, uint32_t ctx_id)
{
   if (ctx_id == r->ctx_id)
      r->ctx_id = 0;
}

int
pv_context_submit(struct pv_renderer *r, uint32_t ctx_id, const void *data, size_t size)
{
   if (!ctx_id || ctx_id != r->ctx_id)
      return -EINVAL;
   if (r->lost)
      return -ENODEV;
   uint32_t first = 0;
   if (size >= 4)
      memcpy(&first, data, 4);
   if (first == STUB_BAD_STREAM || size % 4) {
      r->lost = true;
      return -EINVAL;
   }
   return 0;
}

bool
pv_context_is_lost(struct pv_renderer *r, uint32_t ctx_id)
{
   return r->lost;
}

static void *
deferred_fence(void *arg)
{
   struct stub_fence_thread *t = arg;
   nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
   t->r->cbs.fence_retired(t->r->cbs.data, t->ctx_id, t->ring, t->fence_id);
   return NULL;
}

int
pv_context_submit_fence(struct pv_renderer *r, uint32_t ctx_id, uint32_t ring_idx,
                        uint64_t fence_id)
{
   if (!ctx_id || ctx_id != r->ctx_id)
      return -EINVAL;
   __atomic_fetch_add(&stub_fence_calls[ring_idx ? 1 : 0], 1, __ATOMIC_SEQ_CST);
   if (ring_idx == 0) {
      r->cbs.fence_retired(r->cbs.data, ctx_id, ring_idx, fence_id);
      return 0;
   }
   struct stub_fence_thread *t = calloc(1, sizeof(*t));
   if (!t)
      return -ENOMEM;
   *t = (struct stub_fence_thread){ .r = r, .ctx_id = ctx_id, .ring = ring_idx,
                                    .fence_id = fence_id };
   if (pthread_create(&t->thread, NULL, deferred_fence, t)) {
      free(t);
      return -EAGAIN;
   }
   t->next = r->threads;
   r->threads = t;
   return 0;
}

static struct stub_blob *
find_blob(struct pv_renderer *r, uint32_t res_id)
{
   for (struct stub_blob *b = r->blobs; b; b = b->next) {
      if (b->res_id == res_id)
         return b;
   }
   return NULL;
}

int
pv_resource_create_blob(struct pv_renderer *r, const struct pv_blob_args *args)
{
   if (!args->res_id || find_blob(r, args->res_id) || !args->size)
      return -EINVAL;
   if (args->blob_mem == PV_BLOB_MEM_GUEST && (!args->iov || args->iov_count != 1))
      return -EINVAL;
   struct stub_blob *b = calloc(1, sizeof(*b));
   if (!b)
      return -ENOMEM;
   b->res_id = args->res_id;
   b->blob_mem = args->blob_mem;
   b->blob_flags = args->blob_flags;
   b->shm.fd = -1;
   if (args->blob_mem != PV_BLOB_MEM_GUEST) {
      int ret = pv_shmem_create(&b->shm, "stub-blob", args->size);
      if (ret < 0) {
         free(b);
         return ret;
      }
   }
   b->next = r->blobs;
   r->blobs = b;
   return 0;
}

void
pv_resource_unref(struct pv_renderer *r, uint32_t res_id)
{
   for (struct stub_blob **link = &r->blobs; *link; link = &(*link)->next) {
      if ((*link)->res_id == res_id) {
         struct stub_blob *b = *link;
         *link = b->next;
         pv_shmem_destroy(&b->shm);
         free(b);
         return;
      }
   }
}

int
pv_resource_export_fd(struct pv_renderer *r, uint32_t res_id, int *fd, uint32_t *map_info)
{
   struct stub_blob *b = find_blob(r, res_id);
   if (!b || b->shm.fd < 0 || !(b->blob_flags & PV_BLOB_FLAG_MAPPABLE))
      return -EINVAL;
   *fd = dup(b->shm.fd);
   *map_info = PV_MAP_CACHE_CACHED;
   return *fd < 0 ? -errno : 0;
}

int
pv_resource_map(struct pv_renderer *r, uint32_t res_id, void **ptr, uint64_t *size)
{
   struct stub_blob *b = find_blob(r, res_id);
   if (!b || !b->shm.map)
      return -EINVAL;
   *ptr = b->shm.map;
   *size = b->shm.size;
   return 0;
}

int
pv_context_attach_resource(struct pv_renderer *r, uint32_t ctx_id, uint32_t res_id)
{
   return ctx_id == r->ctx_id && find_blob(r, res_id) ? 0 : -EINVAL;
}

void
pv_context_detach_resource(struct pv_renderer *r, uint32_t ctx_id, uint32_t res_id)
{
}
