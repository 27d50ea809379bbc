/*
 * The device model with the real renderer (lavapipe in CI), as
 * pv-vhost-user-gpu runs it: a guest context whose queue waits for a
 * timeline value nothing signals, with a fenced SUBMIT_3D held behind it.
 * CTX_DESTROY must return within the renderer's teardown timeout (plus
 * margin) and complete the held request; another context of the same VM
 * must then still get its fences.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/test_check.h"
#include "pearvisor/pearvisor.h"
#include "venus/test_session.h"
#include "vgpu.h"

#define REPLY_RES 1
#define TIMEOUT_MS 1000u
#define MARGIN_MS 2000u

static struct pv_vgpu *dev;
static uint8_t resp[4096];
static uint64_t done[16];
static unsigned ndone;

/* fences the renderer retired, handed to the device on the main thread
 * (pv_vgpu_fence_retired: the device's thread only) */
static struct {
   pthread_mutex_t mutex;
   pthread_cond_t cond;
   uint32_t ctx[64], ring[64];
   uint64_t fence[64];
   unsigned n;
} retired = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { 0 }, { 0 }, { 0 }, 0 };

static void
fence_retired(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id)
{
   (void)data;
   pthread_mutex_lock(&retired.mutex);
   if (retired.n < 64) {
      retired.ctx[retired.n] = ctx_id;
      retired.ring[retired.n] = ring_idx;
      retired.fence[retired.n] = fence_id;
      retired.n++;
   }
   pthread_cond_broadcast(&retired.cond);
   pthread_mutex_unlock(&retired.mutex);
}

/* Reports every retired fence to the device. */
static void
deliver_fences(void)
{
   pthread_mutex_lock(&retired.mutex);
   for (unsigned i = 0; i < retired.n; i++)
      pv_vgpu_fence_retired(dev, retired.ctx[i], retired.ring[i], retired.fence[i]);
   retired.n = 0;
   pthread_mutex_unlock(&retired.mutex);
}

static void
on_complete(void *data, uint64_t token, uint32_t len)
{
   (void)data;
   (void)len;
   if (ndone < 16)
      done[ndone++] = token;
}

static uint64_t
translate(void *data, uint64_t gpa, uint64_t len, void **host)
{
   (void)data;
   (void)gpa;
   (void)len;
   (void)host;
   return 0; /* no guest memory: host blobs only */
}

static uint64_t
now_ms(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint32_t
ctrl(const void *req, size_t len)
{
   struct iovec in = { (void *)req, len }, out = { resp, sizeof(resp) };
   uint32_t used = 0;
   CHECK(pv_vgpu_submit_ctrl(dev, 0, &in, 1, &out, 1, &used) == 1);
   return used >= sizeof(struct virtio_gpu_ctrl_hdr) ? ((struct virtio_gpu_ctrl_hdr *)resp)->type
                                                     : 0;
}

/* A context with the session's device; `stuck`: its queue never drains. */
static void
start_context(uint32_t ctx, bool stuck)
{
   struct virtio_gpu_ctx_create c = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_CREATE, .ctx_id = ctx },
                                      .nlen = 5,
                                      .context_init = PV_CAPSET_VENUS };
   memcpy(c.debug_name, "stuck", 5);
   CHECK(ctrl(&c, sizeof(c)) == VIRTIO_GPU_RESP_OK_NODATA);
   if (ctx == 1) {
      struct virtio_gpu_resource_create_blob b = {
         .hdr = { .type = VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, .ctx_id = ctx },
         .resource_id = REPLY_RES,
         .blob_mem = VIRTIO_GPU_BLOB_MEM_HOST3D,
         .blob_flags = VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE,
         .size = 65536,
      };
      CHECK(ctrl(&b, sizeof(b)) == VIRTIO_GPU_RESP_OK_NODATA);
   } else {
      struct virtio_gpu_ctx_resource a = {
         .hdr = { .type = VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, .ctx_id = ctx },
         .resource_id = REPLY_RES,
      };
      CHECK(ctrl(&a, sizeof(a)) == VIRTIO_GPU_RESP_OK_NODATA);
   }
   struct {
      struct virtio_gpu_cmd_submit c;
      struct test_stream e;
   } s = { .c = { .hdr = { .type = VIRTIO_GPU_CMD_SUBMIT_3D, .ctx_id = ctx } } };
   ts_session_device(&s.e, REPLY_RES);
   ts_session_submit(&s.e, stuck ? 1 : 0);
   s.c.size = (uint32_t)s.e.len;
   /* the stream right after the header */
   uint8_t buf[sizeof(s.c) + sizeof(s.e.data)];
   memcpy(buf, &s.c, sizeof(s.c));
   memcpy(buf + sizeof(s.c), s.e.data, s.e.len);
   CHECK(ctrl(buf, sizeof(s.c) + s.e.len) == VIRTIO_GPU_RESP_OK_NODATA);
}

/* A fenced, empty SUBMIT_3D on (ctx, ring 0): held until its fence. */
static void
submit_fenced(uint64_t token, uint32_t ctx, uint64_t fence)
{
   struct virtio_gpu_cmd_submit c = {
      .hdr = { .type = VIRTIO_GPU_CMD_SUBMIT_3D,
               .ctx_id = ctx,
               .fence_id = fence,
               .flags = VIRTIO_GPU_FLAG_FENCE },
   };
   struct iovec in = { &c, sizeof(c) }, out = { resp, sizeof(resp) };
   uint32_t len = 0;
   CHECK(pv_vgpu_submit_ctrl(dev, token, &in, 1, &out, 1, &len) == 0);
}

/* Delivers retired fences until `token` completed (5 s at most). */
static bool
wait_done(uint64_t token)
{
   const uint64_t until = now_ms() + 5000;
   for (;;) {
      deliver_fences();
      for (unsigned i = 0; i < ndone; i++) {
         if (done[i] == token)
            return true;
      }
      if (now_ms() >= until)
         return false;
      struct timespec pause = { 0, 10 * 1000 * 1000 };
      nanosleep(&pause, NULL);
   }
}

int
main(void)
{
   const struct pv_renderer_callbacks cbs = { .fence_retired = fence_retired };
   struct pv_renderer *r = NULL;
   CHECK(pv_renderer_create(&cbs, NULL, &r) == 0);
   CHECK(pv_renderer_set_teardown_timeout(r, TIMEOUT_MS) == 0);
   const struct pv_vgpu_config cfg = { .translate = translate,
                                       .renderer = r,
                                       .completion = { .complete = on_complete } };
   CHECK(pv_vgpu_create(&cfg, &dev) == 0);

   start_context(1, true);
   start_context(2, false);
   submit_fenced(101, 1, 1); /* behind the stuck batch: never retires */
   submit_fenced(201, 2, 1);
   CHECK(wait_done(201));
   deliver_fences();
   CHECK(pv_vgpu_held_count(dev) == 1);

   struct virtio_gpu_ctx_destroy d = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_DESTROY, .ctx_id = 1 } };
   const uint64_t start = now_ms();
   CHECK(ctrl(&d, sizeof(d)) == VIRTIO_GPU_RESP_OK_NODATA);
   const uint64_t took = now_ms() - start;
   printf("CTX_DESTROY of the stuck context took %llu ms (teardown timeout %u ms)\n",
          (unsigned long long)took, TIMEOUT_MS);
   CHECK(took <= TIMEOUT_MS + MARGIN_MS);
   deliver_fences(); /* the renderer retired it at teardown: nothing left */
   CHECK(pv_vgpu_held_count(dev) == 0);
   bool completed = false;
   for (unsigned i = 0; i < ndone; i++)
      completed |= done[i] == 101;
   CHECK(completed);

   /* the VM's other context goes on */
   submit_fenced(202, 2, 2);
   CHECK(wait_done(202));

   pv_vgpu_destroy(dev);
   pv_renderer_destroy(r);
   printf("ok: the stuck context's CTX_DESTROY returned in bounded time, completed its held "
          "request, and the VM's other context kept working\n");
   return 0;
}
