/* Unit test: where device memory is charged (pvk_budget.h) and the
 * context's charging against a shared budget with a RAM pool and GPU
 * pools. lavapipe reports a CPU device, so a discrete GPU is described
 * here by hand (fake VkPhysicalDeviceMemoryProperties, an NVIDIA-like
 * layout with a resizable-BAR heap); the charges then go through
 * pvk_context_charge_memory to a real shared budget (common/budget.h),
 * as pv-vtest's and pv-vhost-user-gpu's callbacks do. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/budget.h"
#include "common/test_check.h"
#include "venus/pvk_budget.h"
#include "venus/pvk_context.h"

#define M (1024ull * 1024ull)

/* heap 0: 8 GiB VRAM; heap 1: 16 GiB system RAM; heap 2: 256 MiB VRAM
 * (the BAR window) */
static const VkPhysicalDeviceMemoryProperties discrete = {
   .memoryTypeCount = 4,
   .memoryTypes = {
      { VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0 },
      { VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 1 },
      { VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, 2 },
      { VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 3 }, /* a heap index the driver lacks */
   },
   .memoryHeapCount = 3,
   .memoryHeaps = {
      { 8192 * M, VK_MEMORY_HEAP_DEVICE_LOCAL_BIT },
      { 16384 * M, 0 },
      { 256 * M, VK_MEMORY_HEAP_DEVICE_LOCAL_BIT },
   },
};

static void
test_pool_of(void)
{
   struct pv_memory_pool p;
   /* device-local heap of a discrete GPU: its GPU's pool; the default
    * limit is the device-local heaps together */
   pvk_memory_pool_of(VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 0, &discrete, 0, false, &p);
   CHECK(p.index == PV_MEMORY_POOL_GPU(0) && p.heap == 0 && p.heap_size == 8448 * M);
   pvk_memory_pool_of(VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 1, &discrete, 2, false, &p);
   CHECK(p.index == PV_MEMORY_POOL_GPU(1) && p.heap == 2);
   /* GPUs past the last pool share it */
   pvk_memory_pool_of(VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 40, &discrete, 0, false, &p);
   CHECK(p.index == PV_MEMORY_POOLS - 1);
   /* RAM: a heap without DEVICE_LOCAL, memory PearVisor backs with a
    * memfd, a heap index out of range, any heap of another device type */
   pvk_memory_pool_of(VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 0, &discrete, 1, false, &p);
   CHECK(p.index == PV_MEMORY_POOL_RAM);
   pvk_memory_pool_of(VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 0, &discrete, 2, true, &p);
   CHECK(p.index == PV_MEMORY_POOL_RAM);
   pvk_memory_pool_of(VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 0, &discrete, 3, false, &p);
   CHECK(p.index == PV_MEMORY_POOL_RAM);
   static const VkPhysicalDeviceType shared_ram[] = { VK_PHYSICAL_DEVICE_TYPE_CPU,
                                                      VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU,
                                                      VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU,
                                                      VK_PHYSICAL_DEVICE_TYPE_OTHER };
   for (unsigned i = 0; i < sizeof(shared_ram) / sizeof(shared_ram[0]); i++) {
      pvk_memory_pool_of(shared_ram[i], 0, &discrete, 0, false, &p);
      CHECK(p.index == PV_MEMORY_POOL_RAM);
   }
}

/* The budget as the servers' callbacks charge it: one slot. */
static bool
charge(void *data, const struct pv_memory_pool *pool, uint64_t bytes)
{
   return pv_shared_budget_charge(data, 0, pool->index, bytes, pool->heap_size);
}

static void
release(void *data, uint32_t pool, uint64_t bytes)
{
   pv_shared_budget_release(data, 0, pool, bytes);
}

/* stderr goes to a file while the call runs; returns what was written */
static char log_text[4096];

static const char *
charge_logged(struct pvk_context *ctx, const struct pv_memory_pool *pool, uint64_t size, bool *ok)
{
   fflush(stderr);
   FILE *f = tmpfile();
   CHECK(f);
   const int saved = dup(2);
   CHECK(saved >= 0 && dup2(fileno(f), 2) == 2);
   *ok = pvk_context_charge_memory(ctx, pool, size);
   fflush(stderr);
   CHECK(dup2(saved, 2) == 2);
   close(saved);
   rewind(f);
   const size_t n = fread(log_text, 1, sizeof(log_text) - 1, f);
   log_text[n] = 0;
   fclose(f);
   fputs(log_text, stderr);
   return log_text;
}

/* A small VRAM budget refuses device-local memory of the discrete GPU
 * while RAM-backed memory (host-visible, non-device-local heaps) is still
 * charged; the per-context cap counts both. */
static void
test_context_charges(void)
{
   struct pv_shared_budget *b;
   int fd;
   CHECK(pv_shared_budget_create(1024 * M, 64 * M, 1, &b, &fd) == 0);
   struct pv_memory_budget mb = { .charge = charge, .release = release, .data = b };
   const struct pvk_context_create_info info = {
      .ctx_id = 7,
      .name = "vram",
      .max_objects = 16,
      .max_memory = 512 * M,
      .budget = &mb,
   };
   struct pvk_context *ctx;
   CHECK(pvk_context_create(&info, &ctx) == 0);

   struct pv_memory_pool vram, ram, host_visible;
   pvk_memory_pool_of(VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 0, &discrete, 0, false, &vram);
   pvk_memory_pool_of(VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 0, &discrete, 1, false, &ram);
   pvk_memory_pool_of(VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 0, &discrete, 2, true, &host_visible);

   bool ok;
   charge_logged(ctx, &vram, 48 * M, &ok);
   CHECK(ok && b->used[PV_MEMORY_POOL_GPU(0)] == 48 * M);
   const char *log = charge_logged(ctx, &vram, 32 * M, &ok);
   CHECK(!ok);
   CHECK(strstr(log, "context 7 (vram): 33554432 bytes refused by the VRAM budget of GPU 0 "
                     "(heap 0)"));
   CHECK(b->used[PV_MEMORY_POOL_GPU(0)] == 48 * M && ctx->memory_used == 48 * M);
   /* RAM-backed memory still works, past the VRAM budget */
   charge_logged(ctx, &ram, 200 * M, &ok);
   CHECK(ok);
   charge_logged(ctx, &host_visible, 100 * M, &ok);
   CHECK(ok);
   charge_logged(ctx, NULL, 100 * M, &ok); /* a blob */
   CHECK(ok && b->used[PV_MEMORY_POOL_RAM] == 400 * M && ctx->memory_used == 448 * M);
   /* the per-context cap holds for all pools together */
   log = charge_logged(ctx, &ram, 100 * M, &ok);
   CHECK(!ok && strstr(log, "refused: per-context memory cap 536870912"));
   /* a RAM refusal names the RAM budget */
   b->limit[PV_MEMORY_POOL_RAM] = 420 * M;
   log = charge_logged(ctx, &ram, 32 * M, &ok);
   CHECK(!ok && strstr(log, "refused by the RAM budget"));
   /* freed VRAM can be taken again */
   pvk_context_uncharge_memory(ctx, PV_MEMORY_POOL_GPU(0), 48 * M);
   CHECK(b->used[PV_MEMORY_POOL_GPU(0)] == 0);
   charge_logged(ctx, &vram, 60 * M, &ok);
   CHECK(ok);
   /* a destroyed context gives every pool back */
   pvk_context_destroy(ctx, pvk_now_ns() + 5000000000ull);
   for (uint32_t pool = 0; pool < PV_BUDGET_POOLS; pool++)
      CHECK(b->used[pool] == 0);

   /* --vram-budget left at 0: the GPU's device-local heaps are the limit */
   b->limit[PV_MEMORY_POOL_GPU(0)] = 0;
   CHECK(pvk_context_create(&(struct pvk_context_create_info){ .ctx_id = 8,
                                                               .name = "heap",
                                                               .max_objects = 16,
                                                               .max_memory = UINT64_MAX,
                                                               .budget = &mb },
                            &ctx) == 0);
   charge_logged(ctx, &vram, 8448 * M, &ok);
   CHECK(ok);
   charge_logged(ctx, &vram, 1, &ok);
   CHECK(!ok);
   pvk_context_destroy(ctx, pvk_now_ns() + 5000000000ull);
   CHECK(b->used[PV_MEMORY_POOL_GPU(0)] == 0);
   close(fd);
}

int
main(void)
{
   test_pool_of();
   test_context_charges();
   printf("ok\n");
   return 0;
}
