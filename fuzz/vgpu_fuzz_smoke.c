/*
 * Runs the control-queue fuzz target without libFuzzer: on the files given
 * as arguments, or else on deterministic pseudo-random structured inputs
 * (valid command types, small or wild field values), so CI exercises the
 * parser with any compiler.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_gpu.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
   rng_state ^= rng_state << 13;
   rng_state ^= rng_state >> 7;
   rng_state ^= rng_state << 17;
   return (uint32_t)rng_state;
}

/* Small ids, sizes and guest addresses hit the interesting paths. */
static uint32_t
field(void)
{
   static const uint32_t pick[] = { 0,       1,       2,       4,       16,          64,
                                    0x10000, 0x10100, 0x1fff0, 0x20000, 0xffffffffu, 0x80000000u };
   uint32_t r = rnd();
   return (r & 3) ? pick[(r >> 2) % (sizeof(pick) / sizeof(pick[0]))] : rnd();
}

static const uint32_t types[] = {
   VIRTIO_GPU_CMD_GET_DISPLAY_INFO,
   VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
   VIRTIO_GPU_CMD_RESOURCE_UNREF,
   VIRTIO_GPU_CMD_SET_SCANOUT,
   VIRTIO_GPU_CMD_RESOURCE_FLUSH,
   VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
   VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
   VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
   VIRTIO_GPU_CMD_GET_CAPSET_INFO,
   VIRTIO_GPU_CMD_GET_CAPSET,
   VIRTIO_GPU_CMD_GET_EDID,
   VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
   VIRTIO_GPU_CMD_SET_SCANOUT_BLOB,
   VIRTIO_GPU_CMD_CTX_CREATE,
   VIRTIO_GPU_CMD_CTX_DESTROY,
   VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE,
   VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE,
   VIRTIO_GPU_CMD_SUBMIT_3D,
   VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB,
   VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB,
   VIRTIO_GPU_CMD_UPDATE_CURSOR,
   VIRTIO_GPU_CMD_MOVE_CURSOR,
};

static size_t
make_input(uint8_t *buf, size_t cap)
{
   size_t n = 0;
   unsigned cmds = 1 + rnd() % 24;
   for (unsigned c = 0; c < cmds; c++) {
      uint32_t words[40];
      unsigned nw = 6 + rnd() % 34;
      uint32_t type = types[rnd() % (sizeof(types) / sizeof(types[0]))];
      for (unsigned i = 0; i < nw; i++)
         words[i] = field();
      words[0] = type;
      words[1] = rnd() & 3; /* flags: fence, ring idx */
      words[4] = rnd() % 3; /* ctx_id */
      if (type == VIRTIO_GPU_CMD_CTX_CREATE && nw > 7)
         words[7] = 4; /* venus capset */
      size_t len = nw * 4 - (rnd() % 8 == 0 ? rnd() % 8 : 0);
      if (n + 3 + len > cap)
         break;
      uint8_t ctl = (uint8_t)(rnd() & 0x7f);
      if (type >= VIRTIO_GPU_CMD_UPDATE_CURSOR)
         ctl |= 0x80;
      buf[n++] = ctl;
      buf[n++] = (uint8_t)len;
      buf[n++] = (uint8_t)(len >> 8);
      memcpy(buf + n, words, len);
      n += len;
   }
   return n;
}

int
main(int argc, char **argv)
{
   LLVMFuzzerInitialize(&argc, &argv);
   if (argc > 1) {
      for (int i = 1; i < argc; i++) {
         FILE *f = fopen(argv[i], "rb");
         if (!f)
            return 1;
         static uint8_t buf[1 << 20];
         size_t n = fread(buf, 1, sizeof(buf), f);
         fclose(f);
         LLVMFuzzerTestOneInput(buf, n);
      }
      return 0;
   }
   static uint8_t buf[8192];
   for (int i = 0; i < 3000; i++) {
      size_t n = make_input(buf, sizeof(buf));
      LLVMFuzzerTestOneInput(buf, n);
   }
   printf("fuzz smoke: 3000 inputs ok\n");
   return 0;
}
