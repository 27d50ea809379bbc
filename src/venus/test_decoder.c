/*
 * Unit tests of the generated Venus decoder: hand-encoded streams in Mesa
 * 22.3's wire format, decoded with the generated code, plus bad input that
 * must make the decoder fatal (run under ASan+UBSan in CI).
 *
 * Links the generated code with stub manual handlers and fake host entry
 * points: no Vulkan driver is needed.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venus/generated/vn_protocol_renderer.h"
#include "venus/test_stream.h"
#include "venus/vn_dispatch.h"

extern unsigned vn_stub_handler_calls;

#include "common/test_check.h"

/* ---- fake context, device and host entry points ------------------------ */

struct test_env {
   struct vn_dispatch_context ctx;
   struct vn_arena arena;
   struct vn_cs_encoder reply_enc;
   struct vn_dispatch_instance instance;
   struct vn_dispatch_device device;
   uint8_t reply[4096];
};

enum {
   ID_DEVICE = 1,
   ID_FENCE = 2,
   ID_CMD = 3,
   ID_IMAGE = 4,
   ID_RENDER_PASS = 5,
   ID_FRAMEBUFFER = 6,
   ID_INSTANCE = 7,
   ID_POOL = 8,
   ID_EVENT = 9,
};

#define HOST(id) ((uint64_t)0x10000 + (id))

static uint64_t fake_next_fence = 0x9000;
static int fake_destroyed;

static VKAPI_ATTR VkResult VKAPI_CALL
fake_create_fence(VkDevice device, const VkFenceCreateInfo *info,
                  const VkAllocationCallbacks *alloc, VkFence *fence)
{
   CHECK(device == (VkDevice)(uintptr_t)HOST(ID_DEVICE));
   CHECK(info && info->sType == VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
   CHECK(alloc == NULL);
   *fence = (VkFence)(uintptr_t)fake_next_fence++;
   return VK_SUCCESS;
}

static VKAPI_ATTR void VKAPI_CALL
fake_destroy_fence(VkDevice device, VkFence fence, const VkAllocationCallbacks *alloc)
{
   CHECK(alloc == NULL);
   fake_destroyed++;
}

static VKAPI_ATTR VkResult VKAPI_CALL
fake_get_event_status(VkDevice device, VkEvent event)
{
   return event == (VkEvent)(uintptr_t)HOST(ID_EVENT) ? VK_EVENT_RESET : VK_ERROR_DEVICE_LOST;
}

static VKAPI_ATTR void VKAPI_CALL
fake_get_image_memory_requirements(VkDevice device, VkImage image, VkMemoryRequirements *req)
{
   req->size = 0x12345;
   req->alignment = 256;
   req->memoryTypeBits = 7;
}

static VKAPI_ATTR void VKAPI_CALL
fake_get_buffer_memory_requirements2(VkDevice device, const VkBufferMemoryRequirementsInfo2 *info,
                                     VkMemoryRequirements2 *req)
{
   CHECK(info->buffer == (VkBuffer)(uintptr_t)HOST(ID_IMAGE + 100));
   req->memoryRequirements.size = 4096;
   req->memoryRequirements.alignment = 64;
   req->memoryRequirements.memoryTypeBits = 3;
   VkMemoryDedicatedRequirements *ded = req->pNext;
   CHECK(ded && ded->sType == VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS && !ded->pNext);
   ded->prefersDedicatedAllocation = VK_TRUE;
   ded->requiresDedicatedAllocation = VK_FALSE;
}

static VKAPI_ATTR VkResult VKAPI_CALL
fake_allocate_command_buffers(VkDevice device, const VkCommandBufferAllocateInfo *info,
                              VkCommandBuffer *cmds)
{
   CHECK(info->commandPool == (VkCommandPool)(uintptr_t)HOST(ID_POOL));
   for (uint32_t i = 0; i < info->commandBufferCount; i++)
      cmds[i] = (VkCommandBuffer)(uintptr_t)(0x7000 + i);
   return VK_SUCCESS;
}

static VKAPI_ATTR void VKAPI_CALL
fake_free_command_buffers(VkDevice device, VkCommandPool pool, uint32_t count,
                          const VkCommandBuffer *cmds)
{
}

static VKAPI_ATTR void VKAPI_CALL
fake_destroy_command_pool(VkDevice device, VkCommandPool pool, const VkAllocationCallbacks *alloc)
{
}

struct vn_cs_encoder *
vn_dispatch_reply_encoder(struct vn_dispatch_context *ctx)
{
   struct test_env *env = (struct test_env *)((char *)ctx - offsetof(struct test_env, ctx));
   return &env->reply_enc;
}

static struct vn_object *
add(struct test_env *env, uint64_t id, VkObjectType type)
{
   struct vn_object *obj = vn_object_table_insert(env->ctx.objects, id, type, HOST(id));
   CHECK(obj);
   obj->device = &env->device;
   obj->instance = &env->instance;
   return obj;
}

static void
env_init(struct test_env *env)
{
   memset(env, 0, sizeof(*env));
   env->ctx.objects = vn_object_table_create(1024);
   CHECK(env->ctx.objects);
   vn_arena_init(&env->arena, 1 << 20);
   vn_cs_encoder_init(&env->reply_enc, env->reply, sizeof(env->reply));
   env->device.handle = (VkDevice)(uintptr_t)HOST(ID_DEVICE);
   env->device.dispatch.vkCreateFence = fake_create_fence;
   env->device.dispatch.vkDestroyFence = fake_destroy_fence;
   env->device.dispatch.vkGetEventStatus = fake_get_event_status;
   env->device.dispatch.vkGetImageMemoryRequirements = fake_get_image_memory_requirements;
   env->device.dispatch.vkGetBufferMemoryRequirements2 = fake_get_buffer_memory_requirements2;
   env->device.dispatch.vkAllocateCommandBuffers = fake_allocate_command_buffers;
   env->device.dispatch.vkFreeCommandBuffers = fake_free_command_buffers;
   env->device.dispatch.vkDestroyCommandPool = fake_destroy_command_pool;
   add(env, ID_DEVICE, VK_OBJECT_TYPE_DEVICE);
   add(env, ID_FENCE, VK_OBJECT_TYPE_FENCE);
   add(env, ID_EVENT, VK_OBJECT_TYPE_EVENT);
   add(env, ID_CMD, VK_OBJECT_TYPE_COMMAND_BUFFER);
   add(env, ID_IMAGE, VK_OBJECT_TYPE_IMAGE);
   add(env, ID_RENDER_PASS, VK_OBJECT_TYPE_RENDER_PASS);
   add(env, ID_FRAMEBUFFER, VK_OBJECT_TYPE_FRAMEBUFFER);
   add(env, ID_INSTANCE, VK_OBJECT_TYPE_INSTANCE);
}

static void
env_fini(struct test_env *env)
{
   vn_object_table_destroy(env->ctx.objects);
   vn_arena_fini(&env->arena);
}

static void
dec_init(struct test_env *env, struct vn_cs_decoder *dec, const struct test_stream *b, size_t len)
{
   vn_cs_decoder_init(dec, b->data, len, &env->arena, env->ctx.objects);
}

/* Runs every command of b[0..len); returns true when all decoded fine. */
static bool
run_stream(struct test_env *env, const struct test_stream *b, size_t len, const char **why)
{
   struct vn_cs_decoder dec;
   dec_init(env, &dec, b, len);
   while (!dec.fatal && !vn_cs_decoder_done(&dec))
      vn_dispatch_command(&env->ctx, &dec);
   if (why)
      *why = dec.error;
   return !dec.fatal;
}

/* ---- streams ---------------------------------------------------------- */

static void
enc_create_fence(struct test_stream *b, uint64_t device, uint64_t new_id, bool reply)
{
   ts_cmd(b, VK_COMMAND_TYPE_vkCreateFence_EXT, reply ? VK_COMMAND_GENERATE_REPLY_BIT_EXT : 0);
   ts_u64(b, device);
   ts_u64(b, 1); /* pCreateInfo */
   ts_u32(b, VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
   ts_u64(b, 1); /* pNext: VkExportFenceCreateInfo */
   ts_u32(b, VK_STRUCTURE_TYPE_EXPORT_FENCE_CREATE_INFO);
   ts_u64(b, 0); /* its pNext */
   ts_u32(b, VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT);
   ts_u32(b, VK_FENCE_CREATE_SIGNALED_BIT); /* flags */
   ts_u64(b, 0);                            /* pAllocator */
   ts_u64(b, 1);                            /* pFence */
   ts_u64(b, new_id);                       /* the guest's id */
}

static void
test_create_fence(void)
{
   struct test_env env;
   env_init(&env);
   struct test_stream b = { .len = 0 };
   enc_create_fence(&b, ID_DEVICE, 100, false);

   /* decode only */
   struct vn_cs_decoder dec;
   dec_init(&env, &dec, &b, b.len);
   CHECK(vn_decode_uint32_t(&dec) == VK_COMMAND_TYPE_vkCreateFence_EXT);
   CHECK(vn_decode_uint32_t(&dec) == 0);
   struct vn_command_vkCreateFence args = { 0 };
   vn_decode_vkCreateFence_args(&dec, &args);
   CHECK(!dec.fatal && vn_cs_decoder_done(&dec));
   CHECK(args.device == (VkDevice)(uintptr_t)HOST(ID_DEVICE));
   CHECK(args.dispatch && args.dispatch->id == ID_DEVICE);
   CHECK(args.pCreateInfo->flags == VK_FENCE_CREATE_SIGNALED_BIT);
   const VkExportFenceCreateInfo *exp = args.pCreateInfo->pNext;
   CHECK(exp && exp->sType == VK_STRUCTURE_TYPE_EXPORT_FENCE_CREATE_INFO && !exp->pNext);
   CHECK(exp->handleTypes == VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT);
   CHECK(args.pAllocator == NULL);
   CHECK(args.pFence && (uint64_t)(uintptr_t)*args.pFence == 100);

   /* execute with a reply, then destroy */
   b.len = 0;
   enc_create_fence(&b, ID_DEVICE, 100, true);
   CHECK(run_stream(&env, &b, b.len, NULL));
   struct vn_object *obj = vn_object_table_lookup(env.ctx.objects, 100, VK_OBJECT_TYPE_FENCE);
   CHECK(obj && obj->handle == 0x9000 && obj->device == &env.device);
   /* reply: type, VkResult, pFence marker, guest id */
   CHECK(env.reply_enc.cur - env.reply == 4 + 4 + 8 + 8);
   uint32_t u32;
   uint64_t u64;
   memcpy(&u32, env.reply, 4);
   CHECK(u32 == VK_COMMAND_TYPE_vkCreateFence_EXT);
   memcpy(&u32, env.reply + 4, 4);
   CHECK(u32 == VK_SUCCESS);
   memcpy(&u64, env.reply + 16, 8);
   CHECK(u64 == 100);

   /* the same id again is rejected (and the host object destroyed) */
   b.len = 0;
   enc_create_fence(&b, ID_DEVICE, 100, false);
   const char *why = NULL;
   CHECK(!run_stream(&env, &b, b.len, &why));
   CHECK(fake_destroyed == 1);

   /* vkDestroyFence is hand-written (pvk_lifetime.c: destruction waits
    * for pending work): the decoder resolves the id and hands it over */
   b.len = 0;
   ts_cmd(&b, VK_COMMAND_TYPE_vkDestroyFence_EXT, 0);
   ts_u64(&b, ID_DEVICE);
   ts_u64(&b, 100);
   ts_u64(&b, 0);
   const unsigned calls = vn_stub_handler_calls;
   CHECK(run_stream(&env, &b, b.len, NULL));
   CHECK(vn_stub_handler_calls == calls + 1);
   /* an id that is no fence is a bad stream */
   b.len = 0;
   ts_cmd(&b, VK_COMMAND_TYPE_vkDestroyFence_EXT, 0);
   ts_u64(&b, ID_DEVICE);
   ts_u64(&b, 101);
   ts_u64(&b, 0);
   CHECK(!run_stream(&env, &b, b.len, NULL));
   env_fini(&env);
}

static void
test_reply_struct(void)
{
   struct test_env env;
   env_init(&env);
   struct test_stream b = { .len = 0 };
   ts_cmd(&b, VK_COMMAND_TYPE_vkGetImageMemoryRequirements_EXT, VK_COMMAND_GENERATE_REPLY_BIT_EXT);
   ts_u64(&b, ID_DEVICE);
   ts_u64(&b, ID_IMAGE);
   ts_u64(&b, 1); /* pMemoryRequirements, partial: no members */
   ts_cmd(&b, VK_COMMAND_TYPE_vkGetEventStatus_EXT, VK_COMMAND_GENERATE_REPLY_BIT_EXT);
   ts_u64(&b, ID_DEVICE);
   ts_u64(&b, ID_EVENT);
   CHECK(run_stream(&env, &b, b.len, NULL));
   const uint8_t *r = env.reply;
   uint32_t u32;
   uint64_t u64;
   CHECK(env.reply_enc.cur - env.reply == 4 + 8 + 8 + 8 + 4 + 4 + 4);
   memcpy(&u32, r, 4);
   CHECK(u32 == VK_COMMAND_TYPE_vkGetImageMemoryRequirements_EXT);
   memcpy(&u64, r + 4, 8);
   CHECK(u64 == 1);
   memcpy(&u64, r + 12, 8);
   CHECK(u64 == 0x12345);
   memcpy(&u64, r + 20, 8);
   CHECK(u64 == 256);
   memcpy(&u32, r + 28, 4);
   CHECK(u32 == 7);
   memcpy(&u32, r + 36, 4);
   CHECK(u32 == (uint32_t)VK_EVENT_RESET);
   env_fini(&env);
}

/* An output struct with an output pNext chain: partial in, whole out. */
static void
test_reply_chain(void)
{
   struct test_env env;
   env_init(&env);
   add(&env, ID_IMAGE + 100, VK_OBJECT_TYPE_BUFFER);
   struct test_stream b = { .len = 0 };
   ts_cmd(&b, VK_COMMAND_TYPE_vkGetBufferMemoryRequirements2_EXT,
          VK_COMMAND_GENERATE_REPLY_BIT_EXT);
   ts_u64(&b, ID_DEVICE);
   ts_u64(&b, 1);
   ts_u32(&b, VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2);
   ts_u64(&b, 0);
   ts_u64(&b, ID_IMAGE + 100);
   ts_u64(&b, 1); /* pMemoryRequirements, partial */
   ts_u32(&b, VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2);
   ts_u64(&b, 1);
   ts_u32(&b, VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS);
   ts_u64(&b, 0);
   CHECK(run_stream(&env, &b, b.len, NULL));

   struct test_stream want = { .len = 0 };
   ts_u32(&want, VK_COMMAND_TYPE_vkGetBufferMemoryRequirements2_EXT);
   ts_u64(&want, 1);
   ts_u32(&want, VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2);
   ts_u64(&want, 1);
   ts_u32(&want, VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS);
   ts_u64(&want, 0);
   ts_u32(&want, VK_TRUE);
   ts_u32(&want, VK_FALSE);
   ts_u64(&want, 4096);
   ts_u64(&want, 64);
   ts_u32(&want, 3);
   CHECK((size_t)(env.reply_enc.cur - env.reply) == want.len);
   CHECK(memcmp(env.reply, want.data, want.len) == 0);
   env_fini(&env);
}

/* Command buffers and their pool: ids resolved and handed over. */
static void
test_pool_children(void)
{
   struct test_env env;
   env_init(&env);
   add(&env, ID_POOL, VK_OBJECT_TYPE_COMMAND_POOL);
   struct test_stream b = { .len = 0 };
   ts_cmd(&b, VK_COMMAND_TYPE_vkAllocateCommandBuffers_EXT, 0);
   ts_u64(&b, ID_DEVICE);
   ts_u64(&b, 1);
   ts_u32(&b, VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
   ts_u64(&b, 0);
   ts_u64(&b, ID_POOL);
   ts_u32(&b, VK_COMMAND_BUFFER_LEVEL_PRIMARY);
   ts_u32(&b, 3);
   ts_u64(&b, 3);
   ts_u64(&b, 40);
   ts_u64(&b, 41);
   ts_u64(&b, 42);
   /* vkAllocateCommandBuffers is hand-written (pvk_validate_level.c records
    * each one's level and pool; test_pvk_firewall.c runs it): the decoder
    * hands it over; the command buffers are inserted here as it would */
   unsigned calls = vn_stub_handler_calls;
   CHECK(run_stream(&env, &b, b.len, NULL));
   CHECK(vn_stub_handler_calls == calls + 1);
   for (uint64_t id = 40; id <= 42; id++)
      add(&env, id, VK_OBJECT_TYPE_COMMAND_BUFFER)->parent_id = ID_POOL;
   /* vkFreeCommandBuffers and vkDestroyCommandPool are hand-written
    * (pvk_lifetime.c; test_pvk_firewall.c runs them on a real driver): the
    * decoder resolves every id and hands them over */
   b.len = 0;
   ts_cmd(&b, VK_COMMAND_TYPE_vkFreeCommandBuffers_EXT, 0);
   ts_u64(&b, ID_DEVICE);
   ts_u64(&b, ID_POOL);
   ts_u32(&b, 2);
   ts_u64(&b, 2);
   ts_u64(&b, 41);
   ts_u64(&b, 41);
   ts_cmd(&b, VK_COMMAND_TYPE_vkDestroyCommandPool_EXT, 0);
   ts_u64(&b, ID_DEVICE);
   ts_u64(&b, ID_POOL);
   ts_u64(&b, 0);
   calls = vn_stub_handler_calls;
   CHECK(run_stream(&env, &b, b.len, NULL));
   CHECK(vn_stub_handler_calls == calls + 2);
   CHECK(vn_object_table_count(env.ctx.objects) == 12);
   env_fini(&env);
}

static void
test_create_instance_strings(void)
{
   struct test_env env;
   env_init(&env);
   struct test_stream b = { .len = 0 };
   ts_cmd(&b, VK_COMMAND_TYPE_vkCreateInstance_EXT, 0);
   ts_u64(&b, 1);
   ts_u32(&b, VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
   ts_u64(&b, 0);
   ts_u32(&b, 0); /* flags */
   ts_u64(&b, 1); /* pApplicationInfo */
   ts_u32(&b, VK_STRUCTURE_TYPE_APPLICATION_INFO);
   ts_u64(&b, 0);
   ts_string(&b, "app");
   ts_u32(&b, 3);
   ts_u64(&b, 0); /* pEngineName NULL */
   ts_u32(&b, 0);
   ts_u32(&b, VK_API_VERSION_1_2);
   ts_u32(&b, 0); /* enabledLayerCount */
   ts_u64(&b, 0);
   ts_u32(&b, 2); /* enabledExtensionCount */
   ts_u64(&b, 2);
   ts_string(&b, "VK_KHR_a");
   ts_string(&b, "VK_EXT_bb");
   ts_u64(&b, 0); /* pAllocator */
   ts_u64(&b, 1); /* pInstance */
   ts_u64(&b, 500);

   struct vn_cs_decoder dec;
   dec_init(&env, &dec, &b, b.len);
   vn_decode_uint32_t(&dec);
   vn_decode_uint32_t(&dec);
   struct vn_command_vkCreateInstance args = { 0 };
   vn_decode_vkCreateInstance_args(&dec, &args);
   CHECK(!dec.fatal && vn_cs_decoder_done(&dec));
   CHECK(strcmp(args.pCreateInfo->pApplicationInfo->pApplicationName, "app") == 0);
   CHECK(args.pCreateInfo->pApplicationInfo->pEngineName == NULL);
   CHECK(args.pCreateInfo->pApplicationInfo->apiVersion == VK_API_VERSION_1_2);
   CHECK(args.pCreateInfo->enabledExtensionCount == 2);
   CHECK(strcmp(args.pCreateInfo->ppEnabledExtensionNames[1], "VK_EXT_bb") == 0);
   CHECK(args.pCreateInfo->ppEnabledLayerNames == NULL);
   CHECK((uint64_t)(uintptr_t)*args.pInstance == 500);

   /* manual commands reach the handler */
   const unsigned calls = vn_stub_handler_calls;
   CHECK(run_stream(&env, &b, b.len, NULL));
   CHECK(vn_stub_handler_calls == calls + 1);

   /* a string without room for its terminator still ends up terminated */
   env_fini(&env);
}

static void
enc_clear_color(struct test_stream *b, uint32_t tag)
{
   ts_cmd(b, VK_COMMAND_TYPE_vkCmdClearColorImage_EXT, 0);
   ts_u64(b, ID_CMD);
   ts_u64(b, ID_IMAGE);
   ts_u32(b, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
   ts_u64(b, 1); /* pColor */
   ts_u32(b, tag);
   ts_u64(b, 4);
   ts_f32(b, 0.25f);
   ts_f32(b, 0.5f);
   ts_f32(b, 0.75f);
   ts_f32(b, 1.0f);
   ts_u32(b, 1); /* rangeCount */
   ts_u64(b, 1);
   ts_u32(b, VK_IMAGE_ASPECT_COLOR_BIT);
   ts_u32(b, 0);
   ts_u32(b, 1);
   ts_u32(b, 0);
   ts_u32(b, 1);
}

static void
test_union_and_arrays(void)
{
   struct test_env env;
   env_init(&env);
   struct test_stream b = { .len = 0 };
   enc_clear_color(&b, 0);
   struct vn_cs_decoder dec;
   dec_init(&env, &dec, &b, b.len);
   vn_decode_uint32_t(&dec);
   vn_decode_uint32_t(&dec);
   struct vn_command_vkCmdClearColorImage args = { 0 };
   vn_decode_vkCmdClearColorImage_args(&dec, &args);
   CHECK(!dec.fatal && vn_cs_decoder_done(&dec));
   CHECK(args.image == (VkImage)(uintptr_t)HOST(ID_IMAGE));
   CHECK(args.pColor->float32[2] == 0.75f);
   CHECK(args.rangeCount == 1 && args.pRanges[0].layerCount == 1);

   /* bad union tag */
   b.len = 0;
   enc_clear_color(&b, 7);
   CHECK(!run_stream(&env, &b, b.len, NULL));

   /* VkRenderPassBeginInfo: handles inside a struct, VkClearValue array */
   b.len = 0;
   ts_cmd(&b, VK_COMMAND_TYPE_vkCmdBeginRenderPass_EXT, 0);
   ts_u64(&b, ID_CMD);
   ts_u64(&b, 1);
   ts_u32(&b, VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO);
   ts_u64(&b, 0);
   ts_u64(&b, ID_RENDER_PASS);
   ts_u64(&b, ID_FRAMEBUFFER);
   ts_u32(&b, 0);
   ts_u32(&b, 0);
   ts_u32(&b, 64);
   ts_u32(&b, 32);
   ts_u32(&b, 2); /* clearValueCount */
   ts_u64(&b, 2);
   ts_u32(&b, 0); /* color */
   ts_u32(&b, 2); /* uint32 */
   ts_u64(&b, 4);
   ts_u32(&b, 1);
   ts_u32(&b, 2);
   ts_u32(&b, 3);
   ts_u32(&b, 4);
   ts_u32(&b, 1); /* depthStencil */
   ts_f32(&b, 1.0f);
   ts_u32(&b, 5);
   ts_u32(&b, VK_SUBPASS_CONTENTS_INLINE);
   dec_init(&env, &dec, &b, b.len);
   vn_decode_uint32_t(&dec);
   vn_decode_uint32_t(&dec);
   struct vn_command_vkCmdBeginRenderPass rp = { 0 };
   vn_decode_vkCmdBeginRenderPass_args(&dec, &rp);
   CHECK(!dec.fatal && vn_cs_decoder_done(&dec));
   CHECK(rp.pRenderPassBegin->renderPass == (VkRenderPass)(uintptr_t)HOST(ID_RENDER_PASS));
   CHECK(rp.pRenderPassBegin->framebuffer == (VkFramebuffer)(uintptr_t)HOST(ID_FRAMEBUFFER));
   CHECK(rp.pRenderPassBegin->renderArea.extent.width == 64);
   CHECK(rp.pRenderPassBegin->pClearValues[0].color.uint32[3] == 4);
   CHECK(rp.pRenderPassBegin->pClearValues[1].depthStencil.stencil == 5);

   /* the framebuffer id given where a render pass is expected */
   b.data[8 + 8 + 8 + 4 + 8] = ID_FRAMEBUFFER;
   const char *why = NULL;
   CHECK(!run_stream(&env, &b, b.len, &why));
   CHECK(strcmp(why, "object of the wrong type") == 0);
   env_fini(&env);
}

/* ---- bad input -------------------------------------------------------- */

/* Every proper prefix of the stream's first command must fail cleanly;
 * each is copied to a buffer of its exact size, so ASan sees overreads. */
static void
check_prefixes_fail(struct test_env *env, const struct test_stream *b)
{
   for (size_t len = 1; len < b->len; len++) {
      uint8_t *copy = malloc(len);
      memcpy(copy, b->data, len);
      struct vn_cs_decoder dec;
      vn_cs_decoder_init(&dec, copy, len, &env->arena, env->ctx.objects);
      vn_dispatch_command(&env->ctx, &dec);
      CHECK(dec.fatal);
      free(copy);
   }
}

static void
test_truncated(void)
{
   struct test_env env;
   env_init(&env);
   struct test_stream b = { .len = 0 };
   enc_clear_color(&b, 0);
   check_prefixes_fail(&env, &b);
   b.len = 0;
   enc_create_fence(&b, ID_DEVICE, 200, false);
   check_prefixes_fail(&env, &b);
   CHECK(!vn_object_table_lookup(env.ctx.objects, 200, VK_OBJECT_TYPE_FENCE));
   env_fini(&env);
}

static uint32_t fake_draws;
static uint32_t fake_draw_first_instance;

/* vkCmdSetStencilReference stands for the fixed-layout commands (vkCmdDraw
 * itself has a hand-written handler since the firewall checks it). */
static VKAPI_ATTR void VKAPI_CALL
fake_cmd_draw(VkCommandBuffer cmd, VkStencilFaceFlags face_mask, uint32_t reference)
{
   CHECK(cmd == (VkCommandBuffer)(uintptr_t)HOST(ID_CMD));
   CHECK(face_mask == VK_STENCIL_FACE_FRONT_AND_BACK);
   fake_draws++;
   fake_draw_first_instance = reference;
}

static void
enc_draw(struct test_stream *b, uint64_t cmd, uint32_t reference)
{
   ts_cmd(b, VK_COMMAND_TYPE_vkCmdSetStencilReference_EXT, 0);
   ts_u64(b, cmd);
   ts_u32(b, VK_STENCIL_FACE_FRONT_AND_BACK);
   ts_u32(b, reference);
}

/* Fixed-layout commands (vkCmdDraw, vkCmdSetStencilReference) are decoded
 * with one bounds check and the inline object lookup: same results and
 * same errors as the others. */
static void
test_fixed_layout(void)
{
   struct test_env env;
   env_init(&env);
   env.device.dispatch.vkCmdSetStencilReference = fake_cmd_draw;
   struct test_stream b = { .len = 0 };
   for (uint32_t i = 0; i < 100; i++)
      enc_draw(&b, ID_CMD, i);
   const char *why = NULL;
   CHECK(run_stream(&env, &b, b.len, &why));
   CHECK(fake_draws == 100 && fake_draw_first_instance == 99);

   b.len = 0;
   enc_draw(&b, ID_CMD, 1);
   check_prefixes_fail(&env, &b);
   CHECK(fake_draws == 100);

   /* the cached last object must not serve another type or a removed id */
   b.len = 0;
   enc_draw(&b, ID_FENCE, 1);
   CHECK(!run_stream(&env, &b, b.len, &why));
   CHECK(strcmp(why, "object of the wrong type") == 0);
   b.len = 0;
   enc_draw(&b, ID_CMD, 1);
   CHECK(run_stream(&env, &b, b.len, &why));
   vn_object_table_remove(env.ctx.objects, vn_object_table_lookup(env.ctx.objects, ID_CMD,
                                                                  VK_OBJECT_TYPE_COMMAND_BUFFER));
   CHECK(!run_stream(&env, &b, b.len, &why));
   CHECK(strcmp(why, "unknown object id") == 0);
   b.len = 0;
   enc_draw(&b, 0, 1);
   CHECK(!run_stream(&env, &b, b.len, &why));
   CHECK(strcmp(why, "missing required object") == 0);
   CHECK(fake_draws == 101);
   env_fini(&env);
}

static void
test_bad_input(void)
{
   struct test_env env;
   env_init(&env);
   struct test_stream b = { .len = 0 };
   const char *why = NULL;

   /* huge array size */
   ts_cmd(&b, VK_COMMAND_TYPE_vkCmdSetViewport_EXT, 0);
   ts_u64(&b, ID_CMD);
   ts_u32(&b, 0);
   ts_u32(&b, 0xffffffffu);
   ts_u64(&b, 0xffffffffu);
   CHECK(!run_stream(&env, &b, b.len, &why));
   CHECK(strcmp(why, "array size exceeds command stream") == 0);

   /* array size that disagrees with its count */
   b.len = 0;
   ts_cmd(&b, VK_COMMAND_TYPE_vkCmdSetViewport_EXT, 0);
   ts_u64(&b, ID_CMD);
   ts_u32(&b, 0);
   ts_u32(&b, 2);
   ts_u64(&b, 1);
   for (int i = 0; i < 6; i++)
      ts_f32(&b, 1.0f);
   CHECK(!run_stream(&env, &b, b.len, &why));
   CHECK(strcmp(why, "array size mismatch") == 0);

   /* a required handle given as 0 */
   b.len = 0;
   ts_cmd(&b, VK_COMMAND_TYPE_vkGetQueryPoolResults_EXT, 0);
   ts_u64(&b, ID_DEVICE);
   ts_u64(&b, 0);
   ts_u32(&b, 0); /* firstQuery, queryCount: the fixed-size leading */
   ts_u32(&b, 1); /* parameters are bounds-checked together */
   CHECK(!run_stream(&env, &b, b.len, &why));
   CHECK(strcmp(why, "missing required object") == 0);

   /* unknown command types, and one Mesa 22.3 never encodes */
   const uint32_t bad_types[] = { 9999, VN_COMMAND_TYPE_COUNT, VK_COMMAND_TYPE_vkMapMemory_EXT,
                                  0xffffffffu };
   for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
      b.len = 0;
      ts_cmd(&b, bad_types[i], 0);
      ts_u64(&b, ID_DEVICE);
      CHECK(!run_stream(&env, &b, b.len, &why));
      CHECK(strcmp(why, "unknown or unsupported command type") == 0);
   }

   /* unknown sType in a pNext chain */
   b.len = 0;
   enc_create_fence(&b, ID_DEVICE, 300, false);
   b.data[8 + 8 + 8 + 4 + 8] = 0x77; /* the chain element's sType */
   CHECK(!run_stream(&env, &b, b.len, &why));
   CHECK(strcmp(why, "unknown sType in pNext chain") == 0);

   /* a struct valid elsewhere but not in this chain */
   b.len = 0;
   enc_create_fence(&b, ID_DEVICE, 300, false);
   const uint32_t wrong = VK_STRUCTURE_TYPE_EXPORT_SEMAPHORE_CREATE_INFO;
   memcpy(b.data + 8 + 8 + 8 + 4 + 8, &wrong, 4);
   CHECK(!run_stream(&env, &b, b.len, &why));

   /* wrong top-level sType */
   b.len = 0;
   enc_create_fence(&b, ID_DEVICE, 300, false);
   b.data[8 + 8 + 8] = 0x55;
   CHECK(!run_stream(&env, &b, b.len, &why));
   CHECK(strcmp(why, "unexpected sType") == 0);

   /* wrong object type for an id; unknown id; missing required handle */
   const uint64_t bad_devices[] = { ID_FENCE, 12345, 0 };
   const char *const reasons[] = { "object of the wrong type", "unknown object id",
                                   "missing required object" };
   for (size_t i = 0; i < 3; i++) {
      b.len = 0;
      enc_create_fence(&b, bad_devices[i], 300, false);
      CHECK(!run_stream(&env, &b, b.len, &why));
      CHECK(strcmp(why, reasons[i]) == 0);
   }

   /* bad pointer marker */
   b.len = 0;
   enc_create_fence(&b, ID_DEVICE, 300, false);
   b.data[8 + 8] = 2;
   CHECK(!run_stream(&env, &b, b.len, &why));
   CHECK(strcmp(why, "bad pointer marker") == 0);

   /* NULL where the host driver would dereference: required pointer,
    * required array with a count, required string */
   b.len = 0;
   ts_cmd(&b, VK_COMMAND_TYPE_vkCreateFence_EXT, 0);
   ts_u64(&b, ID_DEVICE);
   ts_u64(&b, 0);
   CHECK(!run_stream(&env, &b, b.len, &why));
   CHECK(strcmp(why, "missing required pointer") == 0);
   b.len = 0;
   ts_cmd(&b, VK_COMMAND_TYPE_vkCmdSetViewport_EXT, 0);
   ts_u64(&b, ID_CMD);
   ts_u32(&b, 0);
   ts_u32(&b, 2);
   ts_u64(&b, 0);
   CHECK(!run_stream(&env, &b, b.len, &why));
   CHECK(strcmp(why, "missing required array") == 0);

   /* allocation callbacks are never sent by Mesa */
   b.len = 0;
   ts_cmd(&b, VK_COMMAND_TYPE_vkDestroyFence_EXT, 0);
   ts_u64(&b, ID_DEVICE);
   ts_u64(&b, ID_FENCE);
   ts_u64(&b, 1);
   CHECK(!run_stream(&env, &b, b.len, &why));

   /* endless pNext chain */
   b.len = 0;
   ts_cmd(&b, VK_COMMAND_TYPE_vkCreateFence_EXT, 0);
   ts_u64(&b, ID_DEVICE);
   ts_u64(&b, 1);
   ts_u32(&b, VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
   for (int i = 0; i < 300; i++) {
      ts_u64(&b, 1);
      ts_u32(&b, VK_STRUCTURE_TYPE_EXPORT_FENCE_CREATE_INFO);
   }
   CHECK(!run_stream(&env, &b, b.len, &why));
   CHECK(strcmp(why, "pNext chain too long") == 0);

   /* a long but valid chain (Mesa chains ~100 feature structs): members of
    * the elements come last, innermost first */
   b.len = 0;
   ts_cmd(&b, VK_COMMAND_TYPE_vkCreateFence_EXT, 0);
   ts_u64(&b, ID_DEVICE);
   ts_u64(&b, 1);
   ts_u32(&b, VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
   for (int i = 0; i < 150; i++) {
      ts_u64(&b, 1);
      ts_u32(&b, VK_STRUCTURE_TYPE_EXPORT_FENCE_CREATE_INFO);
   }
   ts_u64(&b, 0);
   for (int i = 149; i >= 0; i--)
      ts_u32(&b, (uint32_t)i); /* handleTypes of element i */
   ts_u32(&b, 0);              /* VkFenceCreateInfo::flags */
   ts_u64(&b, 0);
   ts_u64(&b, 1); /* pFence */
   ts_u64(&b, 777);
   {
      struct vn_cs_decoder dec;
      dec_init(&env, &dec, &b, b.len);
      vn_decode_uint32_t(&dec);
      vn_decode_uint32_t(&dec);
      struct vn_command_vkCreateFence args = { 0 };
      vn_decode_vkCreateFence_args(&dec, &args);
      CHECK(!dec.fatal && vn_cs_decoder_done(&dec));
      const VkExportFenceCreateInfo *e = args.pCreateInfo->pNext;
      for (uint32_t i = 0; i < 150; i++, e = e->pNext)
         CHECK(e && e->handleTypes == i);
      CHECK(!e && (uint64_t)(uintptr_t)*args.pFence == 777);
   }

   /* a command the host does not expose */
   b.len = 0;
   ts_cmd(&b, VK_COMMAND_TYPE_vkTrimCommandPool_EXT, 0);
   ts_u64(&b, ID_DEVICE);
   ts_u64(&b, ID_POOL);
   ts_u32(&b, 0);
   CHECK(!run_stream(&env, &b, b.len, &why));

   CHECK(vn_object_table_count(env.ctx.objects) == 8);
   env_fini(&env);
}

/* Random byte mutations of valid streams, decoded and dispatched: the
 * decoder must never read outside the stream (ASan) nor crash. */
static void
test_mutations(void)
{
   struct test_env env;
   env_init(&env);
   struct test_stream seeds[3] = { { .len = 0 } };
   enc_create_fence(&seeds[0], ID_DEVICE, 900, false);
   enc_clear_color(&seeds[1], 2);
   enc_create_fence(&seeds[2], ID_DEVICE, 901, true);
   enc_clear_color(&seeds[2], 1);
   uint64_t rng = 0x12345678;
   for (int iter = 0; iter < 3000; iter++) {
      const struct test_stream *seed = &seeds[iter % 3];
      uint8_t *copy = malloc(seed->len);
      memcpy(copy, seed->data, seed->len);
      for (int k = 0; k < 1 + iter % 4; k++) {
         rng = rng * 6364136223846793005ull + 1442695040888963407ull;
         copy[(rng >> 33) % seed->len] ^= (uint8_t)(1u << ((rng >> 20) & 7));
      }
      rng = rng * 6364136223846793005ull + 1442695040888963407ull;
      const size_t len = iter % 5 ? seed->len : (size_t)((rng >> 33) % seed->len) + 1;
      struct vn_cs_decoder dec;
      vn_cs_decoder_init(&dec, copy, len, &env.arena, env.ctx.objects);
      while (!dec.fatal && !vn_cs_decoder_done(&dec))
         vn_decode_command(&dec);
      vn_cs_encoder_init(&env.reply_enc, env.reply, sizeof(env.reply));
      vn_cs_decoder_init(&dec, copy, len, &env.arena, env.ctx.objects);
      while (!dec.fatal && !vn_cs_decoder_done(&dec))
         vn_dispatch_command(&env.ctx, &dec);
      free(copy);
   }
   env_fini(&env);
}

static void
test_object_table(void)
{
   struct vn_object_table *t = vn_object_table_create(3);
   CHECK(!vn_object_table_insert(t, 0, VK_OBJECT_TYPE_BUFFER, 1));
   CHECK(vn_object_table_insert(t, 1, VK_OBJECT_TYPE_BUFFER, 1));
   CHECK(!vn_object_table_insert(t, 1, VK_OBJECT_TYPE_BUFFER, 1));
   CHECK(vn_object_table_insert(t, 2, VK_OBJECT_TYPE_IMAGE, 2));
   CHECK(vn_object_table_insert(t, 3, VK_OBJECT_TYPE_IMAGE, 3));
   CHECK(!vn_object_table_insert(t, 4, VK_OBJECT_TYPE_IMAGE, 4)); /* full */
   CHECK(!vn_object_table_lookup(t, 2, VK_OBJECT_TYPE_BUFFER));
   struct vn_object *o = vn_object_table_lookup(t, 2, VK_OBJECT_TYPE_IMAGE);
   CHECK(o && o->handle == 2);
   CHECK(vn_object_table_find_handle(t, VK_OBJECT_TYPE_IMAGE, 3)->id == 3);
   CHECK(!vn_object_table_find_handle(t, VK_OBJECT_TYPE_BUFFER, 3));
   vn_object_table_remove(t, o);
   CHECK(!vn_object_table_find_handle(t, VK_OBJECT_TYPE_IMAGE, 2));
   CHECK(vn_object_table_count(t) == 2);
   vn_object_table_destroy(t);

   /* many objects: growth keeps every entry reachable */
   t = vn_object_table_create(100000);
   for (uint64_t id = 1; id <= 5000; id++)
      CHECK(vn_object_table_insert(t, id * 7, VK_OBJECT_TYPE_FENCE, id));
   for (uint64_t id = 1; id <= 5000; id++) {
      CHECK(vn_object_table_lookup(t, id * 7, VK_OBJECT_TYPE_FENCE)->handle == id);
      CHECK(vn_object_table_find_handle(t, VK_OBJECT_TYPE_FENCE, id)->id == id * 7);
   }
   vn_object_table_destroy(t);
}

/* The recent-lookup cache: objects whose ids share a set both stay in it
 * (two ways), the oldest leaves for a third, a removed object leaves its
 * entry, and a hit still checks the type. */
static void
test_object_recent(void)
{
   struct vn_object_table *t = vn_object_table_create(100);
   const struct vn_object_table_head *head = (const struct vn_object_table_head *)t;
   uint64_t ids[3];
   uint32_t found = 0;
   for (uint64_t id = 1; found < 3; id++) {
      if (vn_object_recent_slot(id) == vn_object_recent_slot(1))
         ids[found++] = id;
   }
   const uint32_t slot = vn_object_recent_slot(ids[0]);
   struct vn_object *o[3];
   for (uint32_t i = 0; i < 3; i++)
      CHECK((o[i] = vn_object_table_insert(t, ids[i], VK_OBJECT_TYPE_BUFFER, 10 + i)));
   struct vn_arena arena;
   vn_arena_init(&arena, 1 << 16);
   uint8_t none[4] = { 0 };
   struct vn_cs_decoder dec;
   vn_cs_decoder_init(&dec, none, sizeof(none), &arena, t);
   for (uint32_t round = 0; round < 3; round++) { /* alternating: both stay */
      CHECK(vn_lookup_object(&dec, ids[0], VK_OBJECT_TYPE_BUFFER, false) == o[0]);
      CHECK(vn_lookup_object(&dec, ids[1], VK_OBJECT_TYPE_BUFFER, false) == o[1]);
   }
   CHECK(head->recent[0][slot] == o[1] && head->recent[1][slot] == o[0]);
   CHECK(head->last == o[1]);
   CHECK(vn_lookup_object(&dec, ids[2], VK_OBJECT_TYPE_BUFFER, false) == o[2]);
   CHECK(head->recent[0][slot] == o[2] && head->recent[1][slot] == o[1]); /* o[0] left */
   CHECK(vn_lookup_object(&dec, ids[0], VK_OBJECT_TYPE_BUFFER, false) == o[0]);
   vn_object_table_remove(t, o[2]);
   CHECK(head->recent[0][slot] == o[0] && head->recent[1][slot] == NULL);
   CHECK(!vn_lookup_object(&dec, ids[2], VK_OBJECT_TYPE_BUFFER, false) && dec.fatal);
   vn_cs_decoder_init(&dec, none, sizeof(none), &arena, t);
   CHECK(!vn_lookup_object(&dec, ids[0], VK_OBJECT_TYPE_IMAGE, false) && dec.fatal);
   vn_arena_fini(&arena);
   vn_object_table_destroy(t);
}

static void
count_retired(struct vn_object *obj, void *data)
{
   uint32_t *n = data;
   n[obj->retired]++;
}

/* A retired object: its id is free, foreach and handle lookups still see
 * it, the cap counts it, growth keeps it, remove and destroy free it. */
static void
test_object_table_retire(void)
{
   struct vn_object_table *t = vn_object_table_create(200);
   struct vn_object *old = vn_object_table_insert(t, 5, VK_OBJECT_TYPE_DEVICE, 50);
   CHECK(old);
   vn_object_table_retire(t, old);
   CHECK(old->retired && old->id == 5);
   CHECK(!vn_object_table_lookup(t, 5, VK_OBJECT_TYPE_DEVICE));
   CHECK(vn_object_table_find_handle(t, VK_OBJECT_TYPE_DEVICE, 50) == old);
   struct vn_object *fresh = vn_object_table_insert(t, 5, VK_OBJECT_TYPE_DEVICE, 50);
   CHECK(fresh && fresh != old && !fresh->retired);
   CHECK(vn_object_table_lookup(t, 5, VK_OBJECT_TYPE_DEVICE) == fresh);
   CHECK(vn_object_table_find_handle(t, VK_OBJECT_TYPE_DEVICE, 50) == fresh); /* live first */
   CHECK(vn_object_table_count(t) == 2);
   for (uint64_t id = 100; id < 300; id++) /* grows past the first buckets, up to the cap */
      vn_object_table_insert(t, id, VK_OBJECT_TYPE_FENCE, id);
   CHECK(vn_object_table_count(t) == 200);
   uint32_t n[2] = { 0, 0 };
   vn_object_table_foreach(t, count_retired, n);
   CHECK(n[0] == 199 && n[1] == 1);
   vn_object_table_remove(t, fresh);
   CHECK(vn_object_table_find_handle(t, VK_OBJECT_TYPE_DEVICE, 50) == old);
   vn_object_table_remove(t, old);
   CHECK(!vn_object_table_find_handle(t, VK_OBJECT_TYPE_DEVICE, 50));
   CHECK(vn_object_table_count(t) == 198);
   old = vn_object_table_lookup(t, 100, VK_OBJECT_TYPE_FENCE);
   vn_object_table_retire(t, old);
   vn_object_table_destroy(t); /* frees the retired one too (LeakSanitizer) */
}

static void
test_arena(void)
{
   struct vn_arena a;
   vn_arena_init(&a, 1 << 20);
   void *p1 = vn_arena_alloc(&a, 10);
   void *p2 = vn_arena_alloc(&a, 100000); /* new chunk */
   CHECK(p1 && p2 && ((uintptr_t)p1 & 15) == 0 && ((uintptr_t)p2 & 15) == 0);
   memset(p1, 1, 10);
   CHECK(((uint8_t *)p2)[99999] == 0);
   CHECK(!vn_arena_alloc(&a, 2 << 20)); /* over the limit */
   for (int i = 0; i < 100; i++) {
      vn_arena_reset(&a);
      CHECK(vn_arena_alloc(&a, 500000)); /* dead chunks are reclaimed */
   }
   /* a large command's chunk goes after its stream; a small one stays */
   vn_arena_reset(&a);
   vn_arena_trim(&a, 256 << 10);
   CHECK(!a.base && !a.capacity);
   CHECK(vn_arena_alloc(&a, 100));
   const uint8_t *small = a.base;
   vn_arena_reset(&a);
   vn_arena_trim(&a, 256 << 10);
   CHECK(a.base == small && vn_arena_alloc(&a, 100));
   vn_arena_fini(&a);
}

/* An empty stream and a missing reply stream have no buffer: no pointer
 * arithmetic on NULL (found by the replay fuzzer under clang's UBSan, which
 * reports NULL + 0 where gcc's does not). */
static void
test_null_buffers(void)
{
   struct vn_cs_decoder dec;
   vn_cs_decoder_init(&dec, NULL, 0, NULL, NULL);
   CHECK(vn_cs_decoder_done(&dec) && vn_cs_decoder_remaining(&dec) == 0);
   struct vn_cs_encoder enc;
   vn_cs_encoder_init(&enc, NULL, 0);
   vn_encode_bytes(&enc, "", 0);
   CHECK(!enc.fatal);
   vn_encode_uint32_t(&enc, 1);
   CHECK(enc.fatal);
}

int
main(void)
{
   test_null_buffers();
   test_object_table();
   test_object_recent();
   test_object_table_retire();
   test_arena();
   test_create_fence();
   test_reply_struct();
   test_reply_chain();
   test_pool_children();
   test_create_instance_strings();
   test_union_and_arrays();
   test_truncated();
   test_fixed_layout();
   test_bad_input();
   test_mutations();
   printf("venus decoder tests passed\n");
   return 0;
}
