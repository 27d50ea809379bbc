/* Unit test: pv-vhost-user-gpu's memory budget (vug_budget.h) on the real
 * renderer. Two contexts of one VM share the budget: an allocation past it
 * is refused and logged, the other context goes on; each context's own cap
 * holds below it; two renderers (two VMs' backends) given the same
 * --budget-shm name share one budget (and the first one's VRAM budget); a
 * small VRAM budget refuses GPU charges while RAM blobs go on. No host Vulkan is needed: HOST3D
 * blobs without a blob id are charged like device memory. */
#include "vug_budget.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/test_check.h"

#define K 1024ull
#define RAM PV_MEMORY_POOL_RAM

static int
blob(struct pv_renderer *r, uint32_t ctx_id, uint32_t res_id, uint64_t size)
{
   const struct pv_blob_args args = {
      .res_id = res_id,
      .ctx_id = ctx_id,
      .blob_mem = PV_BLOB_MEM_HOST3D,
      .blob_flags = PV_BLOB_FLAG_MAPPABLE,
      .size = size,
   };
   return pv_resource_create_blob(r, &args);
}

/* stderr goes to a file while the call runs; returns what was written */
static char log_text[4096];
static int saved_stderr = -1;
static FILE *log_file;

static void
capture_begin(void)
{
   fflush(stderr);
   log_file = tmpfile();
   CHECK(log_file);
   saved_stderr = dup(2);
   CHECK(saved_stderr >= 0 && dup2(fileno(log_file), 2) == 2);
}

static const char *
capture_end(void)
{
   fflush(stderr);
   CHECK(dup2(saved_stderr, 2) == 2);
   close(saved_stderr);
   rewind(log_file);
   const size_t n = fread(log_text, 1, sizeof(log_text) - 1, log_file);
   log_text[n] = 0;
   fclose(log_file);
   fputs(log_text, stderr); /* still in the test's log */
   return log_text;
}

static struct pv_renderer *
renderer(struct vug_budget *vb, uint64_t ctx_cap)
{
   const struct pv_renderer_limits limits = { .max_memory_per_context = ctx_cap };
   struct pv_renderer *r = NULL;
   CHECK(pv_renderer_create(NULL, &limits, &r) == 0);
   CHECK(vug_budget_attach(vb, r) == 0);
   return r;
}

static void
test_contexts_share(void)
{
   struct vug_budget vb;
   CHECK(vug_budget_open(&vb, 1024 * K, 0, NULL) == 0);
   struct pv_renderer *r = renderer(&vb, 768 * K);
   CHECK(pv_context_create(r, 1, PV_CAPSET_VENUS, "first") == 0);
   CHECK(pv_context_create(r, 2, PV_CAPSET_VENUS, "second") == 0);

   CHECK(blob(r, 1, 10, 640 * K) == 0);
   CHECK(vb.budget->used[RAM] == 640 * K);
   /* 640K + 512K > 1M: refused, logged with the context, size and budget */
   capture_begin();
   const int ret = blob(r, 2, 20, 512 * K);
   const char *log = capture_end();
   CHECK(ret < 0);
   CHECK(strstr(log, "context 2 (second): 524288 bytes refused by the RAM budget"));
   CHECK(strstr(log, "524288 bytes refused: RAM budget 1048576 bytes, 655360 in use"));
   CHECK(vb.budget->used[RAM] == 640 * K);
   /* the other context is unaffected, and the second one still works */
   CHECK(!pv_context_is_lost(r, 1) && !pv_context_is_lost(r, 2));
   CHECK(blob(r, 1, 11, 64 * K) == 0);
   CHECK(blob(r, 2, 21, 256 * K) == 0);
   CHECK(vb.budget->used[RAM] == 960 * K);
   /* what one context frees, the other can take */
   pv_resource_unref(r, 10);
   CHECK(vb.budget->used[RAM] == 320 * K);
   CHECK(blob(r, 2, 22, 448 * K) == 0);
   /* the per-context cap holds below the budget: 256K + 448K + 128K > 768K */
   capture_begin();
   CHECK(blob(r, 2, 23, 128 * K) < 0);
   log = capture_end();
   CHECK(strstr(log, "context 2 (second): 131072 bytes refused: per-context memory cap 786432"));
   /* a destroyed context's charges go back */
   pv_context_destroy(r, 2);
   pv_resource_unref(r, 21);
   pv_resource_unref(r, 22);
   CHECK(vb.budget->used[RAM] == 64 * K);
   pv_renderer_destroy(r);
   CHECK(vb.budget->used[RAM] == 0);
   vug_budget_close(&vb);
}

static void
test_backends_share(void)
{
   char name[64];
   snprintf(name, sizeof(name), "pv-test-vug-budget-%d", (int)getpid());
   struct vug_budget a, b;
   CHECK(vug_budget_open(&a, 1024 * K, 512 * K, name) == 0);
   CHECK(vug_budget_open(&b, 4096 * K, 0, name) == 0); /* the first one's limit holds */
   CHECK(b.budget->limit[RAM] == 1024 * K);
   CHECK(b.budget->limit[PV_MEMORY_POOL_GPU(0)] == 512 * K); /* the first one's --vram-budget */
   struct pv_renderer *ra = renderer(&a, 0), *rb = renderer(&b, 0);
   CHECK(pv_context_create(ra, 1, PV_CAPSET_VENUS, "vm-a") == 0);
   CHECK(pv_context_create(rb, 1, PV_CAPSET_VENUS, "vm-b") == 0);
   CHECK(blob(ra, 1, 1, 768 * K) == 0);
   capture_begin();
   const int ret = blob(rb, 1, 1, 512 * K);
   const char *log = capture_end();
   CHECK(ret < 0 && strstr(log, "shared by every backend of --budget-shm pv-test-vug-budget-"));
   CHECK(blob(rb, 1, 1, 256 * K) == 0);
   CHECK(a.budget->used[RAM] == 1024 * K && b.budget->used[RAM] == 1024 * K);
   pv_renderer_destroy(ra);
   CHECK(b.budget->used[RAM] == 256 * K);
   pv_renderer_destroy(rb);
   vug_budget_close(&a);
   vug_budget_close(&b);
   char path[128];
   snprintf(path, sizeof(path), "/dev/shm/%s", name);
   unlink(path);
}

/* A small --vram-budget refuses device-local memory of a discrete GPU
 * (as the renderer charges it: pool GPU 0, heap 0) with a line naming it,
 * while RAM-backed blobs of the same VM still work. lavapipe is a CPU
 * device, so the GPU charge is made through the callbacks the renderer is
 * given (test_pvk_budget covers the renderer's side). */
static void
test_vram_budget(void)
{
   struct vug_budget vb;
   CHECK(vug_budget_open(&vb, 1024 * K, 256 * K, NULL) == 0);
   struct pv_memory_budget mb = vug_budget_callbacks(&vb);
   const struct pv_memory_pool gpu = { .index = PV_MEMORY_POOL_GPU(0),
                                       .heap = 0,
                                       .heap_size = 8ull << 30 };
   CHECK(mb.charge(mb.data, &gpu, 192 * K));
   capture_begin();
   const bool ok = mb.charge(mb.data, &gpu, 128 * K);
   const char *log = capture_end();
   CHECK(!ok);
   CHECK(strstr(log, "131072 bytes refused: VRAM budget of GPU 0 (heap 0) 262144 bytes, "
                     "196608 in use (--vram-budget)"));
   struct pv_renderer *r = renderer(&vb, 0);
   CHECK(pv_context_create(r, 1, PV_CAPSET_VENUS, "ram") == 0);
   CHECK(blob(r, 1, 1, 768 * K) == 0);
   CHECK(vb.budget->used[RAM] == 768 * K && vb.budget->used[PV_MEMORY_POOL_GPU(0)] == 192 * K);
   mb.release(mb.data, gpu.index, 192 * K);
   CHECK(mb.charge(mb.data, &gpu, 256 * K));
   mb.release(mb.data, gpu.index, 256 * K);
   pv_renderer_destroy(r);
   CHECK(vb.budget->used[RAM] == 0);
   vug_budget_close(&vb);
}

int
main(void)
{
   test_vram_budget();
   test_contexts_share();
   test_backends_share();
   printf("ok\n");
   return 0;
}
