/*
 * libFuzzer target: decodes (never executes) a Venus command stream with the
 * generated decoder. Built when meson option `fuzzers` is true, with clang:
 *   CC=clang meson setup build-fuzz -Dfuzzers=true -Db_sanitize=address,undefined -Db_lundef=false
 *   ninja -C build-fuzz src/venus/fuzz_venus_decoder && build-fuzz/src/venus/fuzz_venus_decoder
 *
 * A table with a few objects of every type lets handle lookups succeed, so
 * the fuzzer gets past the first handle of most commands.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "venus/generated/vn_protocol_renderer.h"

static const VkObjectType fuzz_types[] = {
   VK_OBJECT_TYPE_INSTANCE, VK_OBJECT_TYPE_PHYSICAL_DEVICE, VK_OBJECT_TYPE_DEVICE,
   VK_OBJECT_TYPE_QUEUE, VK_OBJECT_TYPE_SEMAPHORE, VK_OBJECT_TYPE_COMMAND_BUFFER,
   VK_OBJECT_TYPE_FENCE, VK_OBJECT_TYPE_DEVICE_MEMORY, VK_OBJECT_TYPE_BUFFER,
   VK_OBJECT_TYPE_IMAGE, VK_OBJECT_TYPE_EVENT, VK_OBJECT_TYPE_QUERY_POOL,
   VK_OBJECT_TYPE_BUFFER_VIEW, VK_OBJECT_TYPE_IMAGE_VIEW, VK_OBJECT_TYPE_SHADER_MODULE,
   VK_OBJECT_TYPE_PIPELINE_CACHE, VK_OBJECT_TYPE_PIPELINE_LAYOUT, VK_OBJECT_TYPE_RENDER_PASS,
   VK_OBJECT_TYPE_PIPELINE, VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT, VK_OBJECT_TYPE_SAMPLER,
   VK_OBJECT_TYPE_DESCRIPTOR_POOL, VK_OBJECT_TYPE_DESCRIPTOR_SET, VK_OBJECT_TYPE_FRAMEBUFFER,
   VK_OBJECT_TYPE_COMMAND_POOL, VK_OBJECT_TYPE_SAMPLER_YCBCR_CONVERSION,
   VK_OBJECT_TYPE_DESCRIPTOR_UPDATE_TEMPLATE, VK_OBJECT_TYPE_PRIVATE_DATA_SLOT,
};

struct fuzz_env {
   struct vn_object_table *objects;
   struct vn_arena arena;
};

/* libFuzzer calls the target many times per process: the environment is
 * built once and never changes (decoding does not touch the table). */
static struct fuzz_env *
fuzz_env_get(void)
{
   static struct fuzz_env env;
   static int ready;
   if (!ready) {
      const size_t n = sizeof(fuzz_types) / sizeof(fuzz_types[0]);
      env.objects = vn_object_table_create(4096);
      if (!env.objects)
         abort();
      /* ids 1..4*n: type i owns ids 4i+1 .. 4i+4 */
      for (size_t i = 0; i < n; i++)
         for (uint64_t k = 1; k <= 4; k++)
            vn_object_table_insert(env.objects, 4 * i + k, fuzz_types[i], 0x1000 + 4 * i + k);
      vn_arena_init(&env.arena, 16u << 20);
      ready = 1;
   }
   return &env;
}

/* The generated dispatcher links against it; decoding never replies. */
struct vn_cs_encoder *
vn_context_reply_encoder(struct vn_context *ctx)
{
   (void)ctx;
   return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
   struct fuzz_env *env = fuzz_env_get();
   struct vn_cs_decoder dec;
   vn_cs_decoder_init(&dec, data, size, &env->arena, env->objects);
   while (!dec.fatal && !vn_cs_decoder_done(&dec))
      vn_decode_command(&dec);
   return 0;
}
