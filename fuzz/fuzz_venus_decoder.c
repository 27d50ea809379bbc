/*
 * libFuzzer target: decodes a Venus command stream with the generated
 * decoder, then runs it through the generated dispatcher against a device
 * whose only entry points are a few vkCmd* that do nothing (every other
 * command fails as unsupported), which exercises the fixed-layout and
 * run-of-commands fast paths. venus_fuzz_smoke.c drives it in the `fuzz`
 * suite; -Dfuzzers=true builds the libFuzzer binary (fuzz/meson.build).
 *
 * A table with a few objects of every type lets handle lookups succeed, so
 * the fuzzer gets past the first handle of most commands.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "venus/generated/vn_protocol_renderer.h"
#include "venus/vn_dispatch.h"

static const VkObjectType fuzz_types[] = {
   VK_OBJECT_TYPE_INSTANCE,
   VK_OBJECT_TYPE_PHYSICAL_DEVICE,
   VK_OBJECT_TYPE_DEVICE,
   VK_OBJECT_TYPE_QUEUE,
   VK_OBJECT_TYPE_SEMAPHORE,
   VK_OBJECT_TYPE_COMMAND_BUFFER,
   VK_OBJECT_TYPE_FENCE,
   VK_OBJECT_TYPE_DEVICE_MEMORY,
   VK_OBJECT_TYPE_BUFFER,
   VK_OBJECT_TYPE_IMAGE,
   VK_OBJECT_TYPE_EVENT,
   VK_OBJECT_TYPE_QUERY_POOL,
   VK_OBJECT_TYPE_BUFFER_VIEW,
   VK_OBJECT_TYPE_IMAGE_VIEW,
   VK_OBJECT_TYPE_SHADER_MODULE,
   VK_OBJECT_TYPE_PIPELINE_CACHE,
   VK_OBJECT_TYPE_PIPELINE_LAYOUT,
   VK_OBJECT_TYPE_RENDER_PASS,
   VK_OBJECT_TYPE_PIPELINE,
   VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT,
   VK_OBJECT_TYPE_SAMPLER,
   VK_OBJECT_TYPE_DESCRIPTOR_POOL,
   VK_OBJECT_TYPE_DESCRIPTOR_SET,
   VK_OBJECT_TYPE_FRAMEBUFFER,
   VK_OBJECT_TYPE_COMMAND_POOL,
   VK_OBJECT_TYPE_SAMPLER_YCBCR_CONVERSION,
   VK_OBJECT_TYPE_DESCRIPTOR_UPDATE_TEMPLATE,
   VK_OBJECT_TYPE_PRIVATE_DATA_SLOT,
};

struct fuzz_env {
   struct vn_object_table *objects;
   struct vn_arena arena;
   struct vn_dispatch_context ctx; /* for dispatch: shares objects */
   struct vn_dispatch_instance instance;
   struct vn_dispatch_device device;
};

static VKAPI_ATTR void VKAPI_CALL
fuzz_cmd_draw(VkCommandBuffer cmd, uint32_t vertex_count, uint32_t instance_count,
              uint32_t first_vertex, uint32_t first_instance)
{
   (void)cmd, (void)vertex_count, (void)instance_count, (void)first_vertex, (void)first_instance;
}

static VKAPI_ATTR void VKAPI_CALL
fuzz_cmd_draw_indexed(VkCommandBuffer cmd, uint32_t index_count, uint32_t instance_count,
                      uint32_t first_index, int32_t vertex_offset, uint32_t first_instance)
{
   (void)cmd, (void)index_count, (void)instance_count, (void)first_index, (void)vertex_offset,
      (void)first_instance;
}

static VKAPI_ATTR void VKAPI_CALL
fuzz_cmd_dispatch(VkCommandBuffer cmd, uint32_t x, uint32_t y, uint32_t z)
{
   (void)cmd, (void)x, (void)y, (void)z;
}

static VKAPI_ATTR void VKAPI_CALL
fuzz_cmd_set_line_width(VkCommandBuffer cmd, float width)
{
   (void)cmd, (void)width;
}

static VKAPI_ATTR void VKAPI_CALL
fuzz_cmd_bind_pipeline(VkCommandBuffer cmd, VkPipelineBindPoint point, VkPipeline pipeline)
{
   (void)cmd, (void)point, (void)pipeline;
}

static void
fuzz_attach_device(struct vn_object *obj, void *data)
{
   struct fuzz_env *env = data;
   obj->device = &env->device;
   obj->instance = &env->instance;
}

/* libFuzzer calls the target many times per process: the environment is
 * built once and never changes (decoding does not touch the table, and the
 * device has no entry point that creates or destroys objects). */
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
      env.device.dispatch.vkCmdDraw = fuzz_cmd_draw;
      env.device.dispatch.vkCmdDrawIndexed = fuzz_cmd_draw_indexed;
      env.device.dispatch.vkCmdDispatch = fuzz_cmd_dispatch;
      env.device.dispatch.vkCmdSetLineWidth = fuzz_cmd_set_line_width;
      env.device.dispatch.vkCmdBindPipeline = fuzz_cmd_bind_pipeline;
      vn_object_table_foreach(env.objects, fuzz_attach_device, &env);
      env.ctx.objects = env.objects;
      ready = 1;
   }
   return &env;
}

/* The generated dispatcher links against it; decoding never replies. */
struct vn_cs_encoder *
vn_dispatch_reply_encoder(struct vn_dispatch_context *ctx)
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
   /* Executing changes nothing: the entry points that exist do nothing,
    * and commands that would create or destroy objects have none. */
   vn_cs_decoder_init(&dec, data, size, &env->arena, env->objects);
   while (!dec.fatal && !vn_cs_decoder_done(&dec))
      vn_dispatch_command(&env->ctx, &dec);
   return 0;
}
