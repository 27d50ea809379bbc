/*
 * Decoder micro-benchmark (not a test): decodes command streams as Mesa's
 * venus driver sends a command buffer, against host entry points that do
 * nothing (the generated stub handlers: no firewall, no driver), and prints
 * the decoder's cost per command: decode, object lookups, arena, dispatch.
 *
 *   build/bench/micro/bench_venus_decode [rounds [STREAM-IDS]]
 *
 * STREAM-IDS runs one stream only (e.g. `mixed-ptr`): for
 * `valgrind --tool=callgrind --toggle-collect=vn_dispatch_command`, whose
 * instruction count divided by rounds x commands is the cost per command
 * without the machine's noise.
 *
 * Streams:
 * - `draws`: 10k vkCmdDraw on one command buffer;
 * - `mixed`: 10k groups of vkCmdBindDescriptorSets (two sets alternating),
 *   vkCmdBindVertexBuffers (a buffer of 16 per group), vkCmdSetScissor,
 *   vkCmdPushConstants (16 bytes), vkCmdDrawIndexed and vkCmdDraw, and every
 *   50th group a vkCmdPipelineBarrier (one buffer barrier) and a
 *   vkCmdCopyBuffer (one region): 60,400 commands.
 * Each stream runs with the object ids of both guest drivers: Mesa 22.3
 * names objects by their guest heap address (16-byte aligned, `ptr`),
 * Mesa 25 by a counter (`seq`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "venus/generated/vn_protocol_renderer.h"
#include "venus/vn_dispatch.h"

#define DRAWS 10000u
#define GROUPS 10000u
#define BUFFERS 16u

static struct vn_cs_encoder reply_enc;

struct vn_cs_encoder *
vn_dispatch_reply_encoder(struct vn_dispatch_context *ctx)
{
   (void)ctx;
   return &reply_enc;
}

static uint64_t draw_sum;

static VKAPI_ATTR void VKAPI_CALL
fake_draw(VkCommandBuffer cmd, uint32_t vertex_count, uint32_t instance_count,
          uint32_t first_vertex, uint32_t first_instance)
{
   (void)cmd;
   draw_sum += vertex_count + instance_count + first_vertex + first_instance;
}

/* --- a growable guest-side stream --- */

struct stream {
   uint32_t *w;
   size_t len, cap; /* in 32-bit words */
   uint32_t commands;
};

static void
put32(struct stream *s, uint32_t v)
{
   if (s->len == s->cap) {
      s->cap = s->cap ? s->cap * 2 : 4096;
      s->w = realloc(s->w, s->cap * sizeof(*s->w));
      if (!s->w)
         abort();
   }
   s->w[s->len++] = v;
}

static void
put64(struct stream *s, uint64_t v)
{
   put32(s, (uint32_t)v);
   put32(s, (uint32_t)(v >> 32));
}

static void
cmd(struct stream *s, uint32_t type, uint64_t cb)
{
   put32(s, type);
   put32(s, 0);
   put64(s, cb);
   s->commands++;
}

/* --- objects --- */

enum { OBJ_CB, OBJ_LAYOUT, OBJ_SET0, OBJ_SET1, OBJ_BUF0 };
#define OBJECTS (OBJ_BUF0 + BUFFERS)

static const VkObjectType obj_types[OBJECTS] = {
   [OBJ_CB] = VK_OBJECT_TYPE_COMMAND_BUFFER,
   [OBJ_LAYOUT] = VK_OBJECT_TYPE_PIPELINE_LAYOUT,
   [OBJ_SET0] = VK_OBJECT_TYPE_DESCRIPTOR_SET,
   [OBJ_SET1] = VK_OBJECT_TYPE_DESCRIPTOR_SET,
};

static uint64_t
object_id(unsigned i, bool ptr_ids)
{
   /* heap addresses as Mesa 22.3's objects have them: 16-byte aligned,
    * a few hundred bytes apart */
   return ptr_ids ? 0x5612a0c04000ull + (uint64_t)i * 0x1d0 : 100 + i;
}

static void
stream_draws(struct stream *s, const uint64_t *id)
{
   for (uint32_t i = 0; i < DRAWS; i++) {
      cmd(s, VK_COMMAND_TYPE_vkCmdDraw_EXT, id[OBJ_CB]);
      put32(s, 3);
      put32(s, 1);
      put32(s, 0);
      put32(s, i);
   }
}

static void
stream_mixed(struct stream *s, const uint64_t *id)
{
   for (uint32_t i = 0; i < GROUPS; i++) {
      cmd(s, VK_COMMAND_TYPE_vkCmdBindDescriptorSets_EXT, id[OBJ_CB]);
      put32(s, VK_PIPELINE_BIND_POINT_GRAPHICS);
      put64(s, id[OBJ_LAYOUT]);
      put32(s, 0); /* firstSet */
      put32(s, 1);
      put64(s, 1);
      put64(s, id[OBJ_SET0 + (i & 1)]);
      put32(s, 0); /* dynamicOffsetCount */
      put64(s, 0);

      cmd(s, VK_COMMAND_TYPE_vkCmdBindVertexBuffers_EXT, id[OBJ_CB]);
      put32(s, 0);
      put32(s, 1);
      put64(s, 1);
      put64(s, id[OBJ_BUF0 + i % BUFFERS]);
      put64(s, 1);
      put64(s, 0);

      cmd(s, VK_COMMAND_TYPE_vkCmdSetScissor_EXT, id[OBJ_CB]);
      put32(s, 0);
      put32(s, 1);
      put64(s, 1);
      put32(s, i % 100);
      put32(s, i / 100);
      put32(s, 8);
      put32(s, 8);

      cmd(s, VK_COMMAND_TYPE_vkCmdPushConstants_EXT, id[OBJ_CB]);
      put64(s, id[OBJ_LAYOUT]);
      put32(s, VK_SHADER_STAGE_VERTEX_BIT);
      put32(s, 0);
      put32(s, 16);
      put64(s, 16);
      for (uint32_t k = 0; k < 4; k++)
         put32(s, i + k);

      cmd(s, VK_COMMAND_TYPE_vkCmdDrawIndexed_EXT, id[OBJ_CB]);
      put32(s, 6);
      put32(s, 1);
      put32(s, 0);
      put32(s, 0);
      put32(s, i);

      cmd(s, VK_COMMAND_TYPE_vkCmdDraw_EXT, id[OBJ_CB]);
      put32(s, 3);
      put32(s, 1);
      put32(s, 0);
      put32(s, i);

      if (i % 50)
         continue;
      cmd(s, VK_COMMAND_TYPE_vkCmdPipelineBarrier_EXT, id[OBJ_CB]);
      put32(s, VK_PIPELINE_STAGE_TRANSFER_BIT);
      put32(s, VK_PIPELINE_STAGE_VERTEX_INPUT_BIT);
      put32(s, 0);
      put32(s, 0); /* memoryBarrierCount */
      put64(s, 0);
      put32(s, 1); /* bufferMemoryBarrierCount */
      put64(s, 1);
      put32(s, VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER);
      put64(s, 0); /* pNext */
      put32(s, VK_ACCESS_TRANSFER_WRITE_BIT);
      put32(s, VK_ACCESS_VERTEX_ATTRIBUTE_READ_BIT);
      put32(s, VK_QUEUE_FAMILY_IGNORED);
      put32(s, VK_QUEUE_FAMILY_IGNORED);
      put64(s, id[OBJ_BUF0]);
      put64(s, 0);
      put64(s, VK_WHOLE_SIZE);
      put32(s, 0); /* imageMemoryBarrierCount */
      put64(s, 0);

      cmd(s, VK_COMMAND_TYPE_vkCmdCopyBuffer_EXT, id[OBJ_CB]);
      put64(s, id[OBJ_BUF0 + 1]);
      put64(s, id[OBJ_BUF0]);
      put32(s, 1);
      put64(s, 1);
      put64(s, 0);
      put64(s, 256);
      put64(s, 1024);
   }
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

/* Decodes the stream `rounds` times; prints the median and minimum per command. */
static int
run(const char *name, bool ptr_ids, void (*build)(struct stream *, const uint64_t *),
    unsigned rounds)
{
   static struct vn_dispatch_device device;
   static struct vn_dispatch_instance instance;
   device.dispatch.vkCmdDraw = fake_draw;
   struct vn_dispatch_context ctx = { .objects = vn_object_table_create(1024) };
   struct vn_arena arena;
   vn_arena_init(&arena, 1 << 20);
   uint64_t id[OBJECTS];
   for (unsigned i = 0; i < OBJECTS; i++) {
      id[i] = object_id(i, ptr_ids);
      const VkObjectType type = i >= OBJ_BUF0 ? VK_OBJECT_TYPE_BUFFER : obj_types[i];
      struct vn_object *obj =
         vn_object_table_insert(ctx.objects, id[i], type, 0x7000 + (uint64_t)i * 0x100);
      if (!obj)
         return 1;
      obj->device = &device;
      obj->instance = &instance;
   }
   struct stream s = { 0 };
   build(&s, id);

   uint64_t *ns = calloc(rounds, sizeof(*ns));
   if (!ns)
      return 1;
   for (unsigned r = 0; r < rounds; r++) {
      struct vn_cs_decoder dec;
      vn_cs_decoder_init(&dec, s.w, s.len * sizeof(uint32_t), &arena, ctx.objects);
      const uint64_t start = now_ns();
      while (!dec.fatal && !vn_cs_decoder_done(&dec))
         vn_dispatch_command(&ctx, &dec);
      ns[r] = now_ns() - start;
      if (dec.fatal) {
         fprintf(stderr, "%s: decode failed: %s\n", name, dec.error);
         return 1;
      }
   }
   qsort(ns, rounds, sizeof(*ns), cmp_u64);
   printf("%-6s %-4s %6u commands: median %5.1f ns/command, min %5.1f (%u rounds)\n", name,
          ptr_ids ? "ptr" : "seq", s.commands, (double)ns[rounds / 2] / s.commands,
          (double)ns[0] / s.commands, rounds);
   vn_object_table_destroy(ctx.objects);
   vn_arena_fini(&arena);
   free(s.w);
   free(ns);
   return 0;
}

int
main(int argc, char **argv)
{
   const unsigned rounds = argc > 1 ? (unsigned)atoi(argv[1]) : 200;
   if (!rounds)
      return 1;
   const char *only = argc > 2 ? argv[2] : NULL;
   int rc = 0;
   for (int ptr = 1; ptr >= 0; ptr--) {
      static const char *const names[2][2] = { { "draws-seq", "mixed-seq" },
                                               { "draws-ptr", "mixed-ptr" } };
      if (!only || !strcmp(only, names[ptr][0]))
         rc |= run("draws", ptr, stream_draws, rounds);
      if (!only || !strcmp(only, names[ptr][1]))
         rc |= run("mixed", ptr, stream_mixed, rounds);
   }
   return rc || draw_sum == 0;
}
