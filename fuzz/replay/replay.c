/* Session replay (replay.h). */
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pearvisor/pearvisor.h"
#include "replay.h"
#include "venus/pvk_capture_format.h"

#define REPLAY_CTX_ID 1u
/* Kept low so that a mutated size cannot take the machine's memory. */
#define REPLAY_MAX_MEMORY (512ull << 20)
#define REPLAY_MAX_GUEST_BLOB (64ull << 20)
#define REPLAY_MAX_GUEST_BLOBS 256

/* fences of the sync mode: ids far above any a guest would use */
#define REPLAY_FENCE_BASE (1ull << 62)
#define REPLAY_FENCE_WAIT_S 10

struct replay_state {
   struct pv_renderer *r;
   pthread_mutex_t mutex;
   pthread_cond_t cond;
   uint64_t retired; /* the latest sync fence retired */
   uint64_t submitted;
   struct {
      void *map;
      size_t size;
   } pages[REPLAY_MAX_GUEST_BLOBS];
   uint32_t npages;
};

static void
fence_retired(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id)
{
   struct replay_state *st = data;
   (void)ctx_id, (void)ring_idx;
   if (fence_id < REPLAY_FENCE_BASE)
      return;
   pthread_mutex_lock(&st->mutex);
   if (fence_id > st->retired)
      st->retired = fence_id;
   pthread_cond_broadcast(&st->cond);
   pthread_mutex_unlock(&st->mutex);
}

/* Waits until the context's queues finished what was submitted so far.
 * False when that took longer than REPLAY_FENCE_WAIT_S: the stream waits
 * on something it never submits, or its queue never drains. */
static bool
replay_sync(struct replay_state *st)
{
   const uint64_t id = REPLAY_FENCE_BASE + ++st->submitted;
   if (pv_context_submit_fence(st->r, REPLAY_CTX_ID, 1, id))
      return true;
   struct timespec deadline;
   clock_gettime(CLOCK_REALTIME, &deadline);
   deadline.tv_sec += REPLAY_FENCE_WAIT_S;
   pthread_mutex_lock(&st->mutex);
   while (st->retired < id && !pthread_cond_timedwait(&st->cond, &st->mutex, &deadline))
      ;
   const bool done = st->retired >= id;
   pthread_mutex_unlock(&st->mutex);
   return done;
}

/* ATTACH: create the blob when the renderer does not know it (the context
 * made it, or a guest blob), then attach it. */
static void
replay_attach(struct replay_state *st, const struct pvf_record *rec)
{
   struct pvk_capture_blob b;
   if (rec->size < sizeof(b))
      return;
   memcpy(&b, rec->data, sizeof(b));
   struct pv_blob_args args = {
      .res_id = b.res_id,
      .ctx_id = REPLAY_CTX_ID,
      .blob_mem = b.blob_mem,
      .blob_flags = b.blob_flags,
      .blob_id = b.blob_id,
      .size = b.size,
   };
   struct iovec iov;
   if (b.guest_pages && b.blob_mem == PV_BLOB_MEM_GUEST) {
      if (b.size > REPLAY_MAX_GUEST_BLOB || st->npages == REPLAY_MAX_GUEST_BLOBS)
         return;
      void *p = mmap(NULL, b.size ? b.size : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
      if (p == MAP_FAILED)
         return;
      st->pages[st->npages].map = p;
      st->pages[st->npages].size = b.size ? b.size : 1;
      st->npages++;
      iov = (struct iovec){ .iov_base = p, .iov_len = b.size };
      args.iov = &iov;
      args.iov_count = 1;
   }
   /* -EEXIST: the renderer has it already (another context's, or made by
    * an earlier record): attach it */
   if (pv_resource_create_blob(st->r, &args) == -EEXIST)
      pv_context_attach_resource(st->r, REPLAY_CTX_ID, b.res_id);
}

static void
replay_record(struct replay_state *st, const struct pvf_record *rec, uint32_t flags,
              struct pvf_replay_result *out)
{
   struct pvk_capture_res res;
   struct pvk_capture_fence fence;
   switch (rec->type) {
   case PVK_CAPTURE_STREAM:
      out->streams++;
      pv_context_submit(st->r, REPLAY_CTX_ID, rec->data, rec->size);
      /* after one wait gave up, the rest goes without: a queue stuck
       * for good would make every later wait give up too */
      if ((flags & PVF_REPLAY_SYNC) && out->stalled_at == UINT32_MAX && !replay_sync(st))
         out->stalled_at = out->records;
      break;
   case PVK_CAPTURE_BLOB:
   case PVK_CAPTURE_ATTACH:
      replay_attach(st, rec);
      break;
   case PVK_CAPTURE_DETACH:
   case PVK_CAPTURE_UNREF:
      if (rec->size < sizeof(res))
         break;
      memcpy(&res, rec->data, sizeof(res));
      if (rec->type == PVK_CAPTURE_DETACH)
         pv_context_detach_resource(st->r, REPLAY_CTX_ID, res.res_id);
      else
         pv_resource_unref(st->r, res.res_id);
      break;
   case PVK_CAPTURE_FENCE:
      if (rec->size < sizeof(fence))
         break;
      memcpy(&fence, rec->data, sizeof(fence));
      pv_context_submit_fence(st->r, REPLAY_CTX_ID, fence.ring_idx, fence.fence_id);
      break;
   default:
      break; /* unknown records are skipped, as a newer format's would be */
   }
}

void
pvf_replay(const struct pvf_session *s, uint32_t flags, struct pvf_replay_result *out)
{
   memset(out, 0, sizeof(*out));
   out->lost_at = UINT32_MAX;
   out->stalled_at = UINT32_MAX;
   struct replay_state *st = calloc(1, sizeof(*st));
   if (!st) {
      out->setup_error = -ENOMEM;
      return;
   }
   pthread_mutex_init(&st->mutex, NULL);
   pthread_cond_init(&st->cond, NULL);
   const struct pv_renderer_callbacks cbs = { .data = st, .fence_retired = fence_retired };
   const struct pv_renderer_limits limits = { .max_memory_per_context = REPLAY_MAX_MEMORY };
   int ret = pv_renderer_create(&cbs, &limits, &st->r);
   if (!ret)
      ret = pv_renderer_set_venus_wire_format(st->r, s->wire_format);
   if (!ret)
      ret = pv_context_create(st->r, REPLAY_CTX_ID, PV_CAPSET_VENUS, "fuzz-replay");
   if (ret) {
      out->setup_error = ret;
   } else {
      for (uint32_t i = 0; i < s->count; i++) {
         replay_record(st, &s->rec[i], flags, out);
         out->records++;
         if (pv_context_is_lost(st->r, REPLAY_CTX_ID)) {
            out->lost_at = i;
            break;
         }
      }
      pv_context_destroy(st->r, REPLAY_CTX_ID);
   }
   pv_renderer_destroy(st->r);
   for (uint32_t i = 0; i < st->npages; i++)
      munmap(st->pages[i].map, st->pages[i].size);
   pthread_cond_destroy(&st->cond);
   pthread_mutex_destroy(&st->mutex);
   free(st);
}
