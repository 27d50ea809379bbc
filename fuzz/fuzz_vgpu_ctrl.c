/*
 * libFuzzer target over the control (and cursor) queue parser.
 *
 * Input: a sequence of requests, each [u8 queue/iov-split][u16 len][len
 * bytes], run in order on one device so that commands can build on each
 * other (create, attach, transfer, scanout, flush, contexts, blobs). The
 * device has 64 KiB of fake guest memory at 0x10000 and the fake renderer,
 * so the 3D routing is fuzzed too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_renderer.h"
#include "virtio-gpu/vgpu.h"

#define GUEST_BASE 0x10000u
#define GUEST_SIZE 0x10000u

struct fuzz_mem {
   uint8_t bytes[GUEST_SIZE];
};

static uint64_t
translate(void *data, uint64_t gpa, uint64_t len, void **host)
{
   struct fuzz_mem *m = data;
   if (gpa < GUEST_BASE || gpa >= GUEST_BASE + GUEST_SIZE)
      return 0;
   *host = m->bytes + (gpa - GUEST_BASE);
   uint64_t avail = GUEST_BASE + GUEST_SIZE - gpa;
   return len < avail ? len : avail;
}

static int
hm_map(void *data, uint64_t off, int fd, uint64_t len)
{
   return 0;
}

static void
hm_unmap(void *data, uint64_t off, uint64_t len)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every refused command is logged at warn level; fuzzing refuses most of
 * them, so only errors are printed unless PV_LOG says otherwise. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
   (void)argc;
   (void)argv;
   setenv("PV_LOG", "error", 0);
   return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
   struct fuzz_mem *mem = malloc(sizeof(*mem));
   struct pv_renderer *rend = NULL;
   struct pv_renderer_callbacks cbs = { 0 };
   struct pv_vgpu *dev = NULL;
   if (!mem || pv_renderer_create(&cbs, NULL, &rend) < 0)
      goto out;
   for (size_t i = 0; i < GUEST_SIZE; i++)
      mem->bytes[i] = (uint8_t)(i * 7);
   struct pv_vgpu_config cfg = {
      .num_scanouts = 2,
      .width = 64,
      .height = 48,
      .max_host_memory = 1 << 20,
      .max_resources = 64,
      .translate = translate,
      .translate_data = mem,
      .hostmem = { .size = 1 << 20, .map = hm_map, .unmap = hm_unmap },
      .renderer = rend,
   };
   if (pv_vgpu_create(&cfg, &dev) < 0)
      goto out;
   static uint8_t resp[2048];
   while (size >= 3) {
      uint8_t ctl = data[0];
      size_t len = (size_t)data[1] | (size_t)data[2] << 8;
      data += 3;
      size -= 3;
      if (len > size)
         len = size;
      /* Split the request in two iovecs and vary the response size. */
      size_t split = len ? (ctl >> 1) % (len + 1) : 0;
      struct iovec in[2] = { { (void *)data, split }, { (void *)(data + split), len - split } };
      size_t out_len = (ctl & 0x40) ? (size_t)(ctl & 0x3f) : sizeof(resp);
      struct iovec out = { resp, out_len };
      struct pv_vgpu_fence_wait wait;
      if (ctl & 0x80)
         pv_vgpu_process_cursor(dev, in, 2, &out, 1);
      else
         pv_vgpu_process_ctrl(dev, in, 2, &out, 1, &wait);
      data += len;
      size -= len;
   }
out:
   pv_vgpu_destroy(dev);
   if (rend)
      pv_renderer_destroy(rend);
   free(mem);
   return 0;
}
