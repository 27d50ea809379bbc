/*
 * Decoder micro-benchmark (not a test): decodes a stream of 10k vkCmdDraw,
 * as Mesa's venus driver sends a render pass of small draws, against a host
 * entry point that does nothing, and prints the decoder's cost per draw.
 *
 *   build/bench/micro/bench_venus_decode [rounds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "venus/generated/vn_protocol_renderer.h"
#include "venus/vn_dispatch.h"

#define DRAWS 10000u
#define ID_CMD 3u

static struct vn_cs_encoder reply_enc;

struct vn_cs_encoder *
vn_dispatch_reply_encoder(struct vn_dispatch_context *ctx)
{
   (void)ctx;
   return &reply_enc;
}

bool
vn_dispatch_context_ok(struct vn_dispatch_context *ctx)
{
   (void)ctx;
   return true;
}

static uint64_t draw_sum;

static VKAPI_ATTR void VKAPI_CALL
fake_draw(VkCommandBuffer cmd, uint32_t vertex_count, uint32_t instance_count,
          uint32_t first_vertex, uint32_t first_instance)
{
   (void)cmd;
   draw_sum += vertex_count + instance_count + first_vertex + first_instance;
}

static uint64_t
now_ns(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
   const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
   return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
   const unsigned rounds = argc > 1 ? (unsigned)atoi(argv[1]) : 200;
   static struct vn_dispatch_context ctx;
   static struct vn_arena arena;
   static struct vn_dispatch_device device;
   static struct vn_dispatch_instance instance;
   ctx.objects = vn_object_table_create(1024);
   vn_arena_init(&arena, 1 << 20);
   device.dispatch.vkCmdDraw = fake_draw;
   struct vn_object *obj =
      vn_object_table_insert(ctx.objects, ID_CMD, VK_OBJECT_TYPE_COMMAND_BUFFER, 0x7000);
   if (!obj || !rounds)
      return 1;
   obj->device = &device;
   obj->instance = &instance;

   /* type, flags, command buffer id (u64), 4 x u32: 32 bytes per draw */
   uint32_t *stream = calloc(DRAWS, 8 * sizeof(uint32_t));
   for (uint32_t i = 0; i < DRAWS; i++) {
      uint32_t *w = stream + i * 8;
      w[0] = VK_COMMAND_TYPE_vkCmdDraw_EXT;
      w[2] = ID_CMD;
      w[4] = 3;
      w[5] = 1;
      w[7] = i;
   }
   uint64_t *ns = calloc(rounds, sizeof(*ns));
   for (unsigned r = 0; r < rounds; r++) {
      struct vn_cs_decoder dec;
      vn_cs_decoder_init(&dec, stream, DRAWS * 8 * sizeof(uint32_t), &arena, ctx.objects);
      const uint64_t start = now_ns();
      while (!dec.fatal && !vn_cs_decoder_done(&dec))
         vn_dispatch_command(&ctx, &dec);
      ns[r] = now_ns() - start;
      if (dec.fatal) {
         fprintf(stderr, "decode failed: %s\n", dec.error);
         return 1;
      }
   }
   qsort(ns, rounds, sizeof(*ns), cmp_u64);
   printf("vkCmdDraw x %u: median %.1f ns/draw, min %.1f (%u rounds)\n", DRAWS,
          (double)ns[rounds / 2] / DRAWS, (double)ns[0] / DRAWS, rounds);
   vn_object_table_destroy(ctx.objects);
   vn_arena_fini(&arena);
   free(stream);
   free(ns);
   return draw_sum == 0;
}
