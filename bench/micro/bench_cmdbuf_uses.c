/*
 * Recorded-uses micro-benchmark (not a test): what the firewall costs per
 * recorded command and per submission through the renderer's real
 * handlers on the host driver (lavapipe here), the firewall's recorded
 * uses included (pvk_validate_cmdbuf.c) or not (an older tree):
 *
 *   record   vkBeginCommandBuffer, 96 x vkCmdCopyBuffer among `buffers`
 *            buffers, vkEndCommandBuffer, in one stream: ns per copy
 *   submit   vkQueueSubmit of that command buffer, nothing destroyed since
 *            it was recorded: µs per submission (the wait after it is not
 *            timed)
 *   submit+  the same after a vkDestroyBuffer of an unrelated buffer (and
 *            its re-creation, not timed): every use looked up again
 *
 * Medians over the rounds.
 *
 *   build/bench/micro/bench_cmdbuf_uses [rounds [buffers]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <vulkan/vulkan.h>

#include "pearvisor/pearvisor.h"
#include "venus/generated/vn_protocol_renderer.h"
#include "venus/test_session.h"

#define T(name) VK_COMMAND_TYPE_##name##_EXT

enum {
   DEVICE = 300, /* test_session.c's ids */
   QUEUE = 400,
   MEMORY = 500,
   POOL = 700,
   CMD = 710,
   SPARE = 999,
   BUFFER0 = 1000,
};

#define COPIES 96
#define BUFFER_SIZE 4096u

static struct pv_renderer *renderer;

static double
now_ns(void)
{
   struct timespec t;
   clock_gettime(CLOCK_MONOTONIC, &t);
   return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
   const double x = *(const double *)a, y = *(const double *)b;
   return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
   qsort(v, (size_t)n, sizeof(*v), cmp_double);
   return v[n / 2];
}

static void
run(const struct test_stream *e)
{
   if (pv_context_submit(renderer, 1, e->data, e->len) != 0 || pv_context_is_lost(renderer, 1)) {
      fprintf(stderr, "bench_cmdbuf_uses: context lost\n");
      exit(1);
   }
}

static void
create_buffer(struct test_stream *e, uint64_t id)
{
   ts_cmd(e, T(vkCreateBuffer), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, BUFFER_SIZE);
   ts_u32(e, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT);
   ts_u32(e, VK_SHARING_MODE_EXCLUSIVE);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, id);
}

static void
destroy_buffer(struct test_stream *e, uint64_t id)
{
   ts_cmd(e, T(vkDestroyBuffer), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, id);
   ts_u64(e, 0);
}

static void
setup(uint32_t buffers)
{
   struct test_stream e = { 0 };
   ts_session_device(&e, 1);
   ts_cmd(&e, T(vkAllocateMemory), 0);
   ts_u64(&e, DEVICE);
   ts_u64(&e, 1);
   ts_u32(&e, VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
   ts_u64(&e, 0);
   ts_u64(&e, (uint64_t)buffers * BUFFER_SIZE);
   ts_u32(&e, 0);
   ts_u64(&e, 0);
   ts_u64(&e, 1);
   ts_u64(&e, MEMORY);
   ts_cmd(&e, T(vkCreateCommandPool), 0);
   ts_u64(&e, DEVICE);
   ts_u64(&e, 1);
   ts_u32(&e, VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
   ts_u64(&e, 0);
   ts_u32(&e, VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT);
   ts_u32(&e, 0);
   ts_u64(&e, 0);
   ts_u64(&e, 1);
   ts_u64(&e, POOL);
   ts_cmd(&e, T(vkAllocateCommandBuffers), 0);
   ts_u64(&e, DEVICE);
   ts_u64(&e, 1);
   ts_u32(&e, VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
   ts_u64(&e, 0);
   ts_u64(&e, POOL);
   ts_u32(&e, VK_COMMAND_BUFFER_LEVEL_PRIMARY);
   ts_u32(&e, 1);
   ts_u64(&e, 1);
   ts_u64(&e, CMD);
   create_buffer(&e, SPARE);
   run(&e);
   for (uint32_t i = 0; i < buffers; i++) {
      e.len = 0;
      create_buffer(&e, BUFFER0 + i);
      ts_cmd(&e, T(vkBindBufferMemory), 0);
      ts_u64(&e, DEVICE);
      ts_u64(&e, BUFFER0 + i);
      ts_u64(&e, MEMORY);
      ts_u64(&e, (uint64_t)i * BUFFER_SIZE);
      run(&e);
   }
}

static void
record(struct test_stream *e, uint32_t buffers)
{
   ts_cmd(e, T(vkBeginCommandBuffer), 0);
   ts_u64(e, CMD);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   for (uint32_t i = 0; i < COPIES; i++) {
      ts_cmd(e, T(vkCmdCopyBuffer), 0);
      ts_u64(e, CMD);
      ts_u64(e, BUFFER0 + i % buffers);
      ts_u64(e, BUFFER0 + (i + 1) % buffers);
      ts_u32(e, 1);
      ts_u64(e, 1);
      ts_u64(e, 0);
      ts_u64(e, 0);
      ts_u64(e, 64);
   }
   ts_cmd(e, T(vkEndCommandBuffer), 0);
   ts_u64(e, CMD);
}

static void
submit(struct test_stream *e)
{
   ts_cmd(e, T(vkQueueSubmit), 0);
   ts_u64(e, QUEUE);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_SUBMIT_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, CMD);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 0);
}

int
main(int argc, char **argv)
{
   const int rounds = argc > 1 ? atoi(argv[1]) : 300;
   const uint32_t buffers = argc > 2 ? (uint32_t)atoi(argv[2]) : 16;
   if (rounds <= 0 || buffers < 2 || buffers > 96) {
      fprintf(stderr, "usage: bench_cmdbuf_uses [rounds [buffers 2..96]]\n");
      return 2;
   }
   if (pv_renderer_create(NULL, NULL, &renderer) != 0 ||
       pv_context_create(renderer, 1, PV_CAPSET_VENUS, "bench") != 0)
      return 1;
   const struct pv_blob_args blob = { .res_id = 1,
                                      .ctx_id = 1,
                                      .blob_mem = PV_BLOB_MEM_HOST3D,
                                      .blob_flags = PV_BLOB_FLAG_MAPPABLE,
                                      .size = 65536 };
   if (pv_resource_create_blob(renderer, &blob) != 0)
      return 1;
   setup(buffers);
   double *rec = calloc((size_t)rounds, sizeof(double));
   double *sub = calloc((size_t)rounds, sizeof(double));
   double *sub2 = calloc((size_t)rounds, sizeof(double));
   struct test_stream *e = calloc(1, sizeof(*e));
   struct test_stream *s = calloc(1, sizeof(*s));
   struct test_stream *w = calloc(1, sizeof(*w));
   struct test_stream *d = calloc(1, sizeof(*d));
   if (!rec || !sub || !sub2 || !e || !s || !w || !d)
      return 1;
   record(e, buffers);
   submit(s);
   ts_session_queue_wait_idle(w);
   destroy_buffer(d, SPARE);
   create_buffer(d, SPARE);
   for (int r = 0; r < rounds; r++) {
      double t = now_ns();
      run(e);
      rec[r] = (now_ns() - t) / COPIES;
      t = now_ns();
      run(s);
      sub[r] = (now_ns() - t) / 1e3;
      run(w);
      run(d);
      t = now_ns();
      run(s);
      sub2[r] = (now_ns() - t) / 1e3;
      run(w);
   }
   printf("bench_cmdbuf_uses: %d rounds, %d copies among %u buffers\n", rounds, COPIES, buffers);
   printf("  record   %8.1f ns per vkCmdCopyBuffer (begin and end included)\n",
          median(rec, rounds));
   printf("  submit   %8.2f us per vkQueueSubmit, nothing destroyed since recording\n",
          median(sub, rounds));
   printf("  submit+  %8.2f us per vkQueueSubmit after an unrelated vkDestroyBuffer\n",
          median(sub2, rounds));
   pv_context_destroy(renderer, 1);
   pv_resource_unref(renderer, 1);
   pv_renderer_destroy(renderer);
   return 0;
}
