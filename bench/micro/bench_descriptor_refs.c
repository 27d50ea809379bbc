/*
 * Descriptor references micro-benchmark (not a test): what the firewall's
 * record of what descriptors name (pvk_validate_descriptor_refs.c) costs
 * per descriptor written and per destroy, through the renderer's real
 * handlers on the host driver (lavapipe here); an older tree without the
 * record runs the same streams.
 *
 *   write    vkUpdateDescriptorSets of 64 storage buffer descriptors, each
 *            naming another buffer than the last write did: ns per
 *            descriptor
 *   rewrite  the same write again (each slot names what it named): ns per
 *            descriptor
 *   destroy  vkDestroyBuffer of a buffer that 64 descriptors name (made
 *            null first), against one that none names: µs per destroy
 *            (its re-creation and the write naming it are not timed)
 *
 * Medians over the rounds.
 *
 *   build/bench/micro/bench_descriptor_refs [rounds]
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
   MEMORY = 500,
   LAYOUT = 600,
   DESC_POOL = 610,
   SET = 620,
   NAMED = 998,   /* the buffer all 64 descriptors name before its destroy */
   UNNAMED = 999, /* one that none names */
   BUFFER0 = 1000,
};

#define DESCRIPTORS 64
#define BUFFERS (DESCRIPTORS + 1)
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
      fprintf(stderr, "bench_descriptor_refs: context lost\n");
      exit(1);
   }
}

/* A buffer bound to MEMORY at slot `at` (each its own 4 KiB). */
static void
create_buffer(struct test_stream *e, uint64_t id, uint32_t at)
{
   ts_cmd(e, T(vkCreateBuffer), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, BUFFER_SIZE);
   ts_u32(e, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
   ts_u32(e, VK_SHARING_MODE_EXCLUSIVE);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, id);
   ts_cmd(e, T(vkBindBufferMemory), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, id);
   ts_u64(e, MEMORY);
   ts_u64(e, (uint64_t)at * BUFFER_SIZE);
}

static void
destroy_buffer(struct test_stream *e, uint64_t id)
{
   ts_cmd(e, T(vkDestroyBuffer), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, id);
   ts_u64(e, 0);
}

/* One write of all 64 descriptors: descriptor i names buffer
 * BUFFER0 + (i + shift) % BUFFERS, or `only` for all when not 0. */
static void
write_set(struct test_stream *e, uint32_t shift, uint64_t only)
{
   ts_cmd(e, T(vkUpdateDescriptorSets), 0);
   ts_u64(e, DEVICE);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
   ts_u64(e, 0);
   ts_u64(e, SET);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u32(e, DESCRIPTORS);
   ts_u32(e, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER);
   ts_u64(e, 0);
   ts_u64(e, DESCRIPTORS);
   for (uint32_t i = 0; i < DESCRIPTORS; i++) {
      ts_u64(e, only ? only : BUFFER0 + (i + shift) % BUFFERS);
      ts_u64(e, 0);
      ts_u64(e, VK_WHOLE_SIZE);
   }
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
}

static void
setup(void)
{
   struct test_stream e = { 0 };
   ts_session_device(&e, 1);
   ts_cmd(&e, T(vkAllocateMemory), 0);
   ts_u64(&e, DEVICE);
   ts_u64(&e, 1);
   ts_u32(&e, VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
   ts_u64(&e, 0);
   ts_u64(&e, (uint64_t)(BUFFERS + 2) * BUFFER_SIZE);
   ts_u32(&e, 0);
   ts_u64(&e, 0);
   ts_u64(&e, 1);
   ts_u64(&e, MEMORY);

   ts_cmd(&e, T(vkCreateDescriptorSetLayout), 0);
   ts_u64(&e, DEVICE);
   ts_u64(&e, 1);
   ts_u32(&e, VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
   ts_u64(&e, 0);
   ts_u32(&e, 0);
   ts_u32(&e, 1);
   ts_u64(&e, 1);
   ts_u32(&e, 0);
   ts_u32(&e, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER);
   ts_u32(&e, DESCRIPTORS);
   ts_u32(&e, VK_SHADER_STAGE_COMPUTE_BIT);
   ts_u64(&e, 0);
   ts_u64(&e, 0);
   ts_u64(&e, 1);
   ts_u64(&e, LAYOUT);

   ts_cmd(&e, T(vkCreateDescriptorPool), 0);
   ts_u64(&e, DEVICE);
   ts_u64(&e, 1);
   ts_u32(&e, VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
   ts_u64(&e, 0);
   ts_u32(&e, 0);
   ts_u32(&e, 1);
   ts_u32(&e, 1);
   ts_u64(&e, 1);
   ts_u32(&e, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER);
   ts_u32(&e, DESCRIPTORS);
   ts_u64(&e, 0);
   ts_u64(&e, 1);
   ts_u64(&e, DESC_POOL);

   ts_cmd(&e, T(vkAllocateDescriptorSets), 0);
   ts_u64(&e, DEVICE);
   ts_u64(&e, 1);
   ts_u32(&e, VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
   ts_u64(&e, 0);
   ts_u64(&e, DESC_POOL);
   ts_u32(&e, 1);
   ts_u64(&e, 1);
   ts_u64(&e, LAYOUT);
   ts_u64(&e, 1);
   ts_u64(&e, SET);
   run(&e);
   for (uint32_t i = 0; i < BUFFERS; i++) {
      e.len = 0;
      create_buffer(&e, BUFFER0 + i, i);
      run(&e);
   }
   e.len = 0;
   create_buffer(&e, NAMED, BUFFERS);
   create_buffer(&e, UNNAMED, BUFFERS + 1);
   run(&e);
}

int
main(int argc, char **argv)
{
   const int rounds = argc > 1 ? atoi(argv[1]) : 300;
   if (rounds <= 0) {
      fprintf(stderr, "usage: bench_descriptor_refs [rounds]\n");
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
   setup();
   double *wr = calloc((size_t)rounds, sizeof(double));
   double *rw = calloc((size_t)rounds, sizeof(double));
   double *dn = calloc((size_t)rounds, sizeof(double));
   double *du = calloc((size_t)rounds, sizeof(double));
   struct test_stream *w[2] = { calloc(1, sizeof(struct test_stream)),
                                calloc(1, sizeof(struct test_stream)) };
   struct test_stream *n = calloc(1, sizeof(*n)), *dn_s = calloc(1, sizeof(*dn_s));
   struct test_stream *du_s = calloc(1, sizeof(*du_s)), *re = calloc(1, sizeof(*re));
   if (!wr || !rw || !dn || !du || !w[0] || !w[1] || !n || !dn_s || !du_s || !re)
      return 1;
   write_set(w[0], 0, 0);
   write_set(w[1], 1, 0);
   write_set(n, 0, NAMED);
   destroy_buffer(dn_s, NAMED);
   destroy_buffer(du_s, UNNAMED);
   create_buffer(re, NAMED, BUFFERS);
   create_buffer(re, UNNAMED, BUFFERS + 1);
   for (int r = 0; r < rounds; r++) {
      run(w[r & 1]); /* every slot names another buffer than before */
      double t = now_ns();
      run(w[(r + 1) & 1]);
      wr[r] = (now_ns() - t) / DESCRIPTORS;
      t = now_ns();
      run(w[(r + 1) & 1]);
      rw[r] = (now_ns() - t) / DESCRIPTORS;
      run(n);
      t = now_ns();
      run(dn_s);
      dn[r] = (now_ns() - t) / 1e3;
      t = now_ns();
      run(du_s);
      du[r] = (now_ns() - t) / 1e3;
      run(re);
   }
   printf("bench_descriptor_refs: %d rounds, %d storage buffer descriptors\n", rounds, DESCRIPTORS);
   printf("  write    %8.1f ns per descriptor naming another buffer than before\n",
          median(wr, rounds));
   printf("  rewrite  %8.1f ns per descriptor naming the same buffer again\n", median(rw, rounds));
   printf("  destroy  %8.2f us per vkDestroyBuffer of a buffer %d descriptors name\n",
          median(dn, rounds), DESCRIPTORS);
   printf("  destroy0 %8.2f us per vkDestroyBuffer of a buffer no descriptor names\n",
          median(du, rounds));
   pv_context_destroy(renderer, 1);
   pv_resource_unref(renderer, 1);
   pv_renderer_destroy(renderer);
   return 0;
}
