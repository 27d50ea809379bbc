/*
 * The valid-usage firewall (pvk_validate.h, pvk_lifetime.h) on the host's
 * Vulkan driver (lavapipe in CI): each rule gets a stream that breaks it
 * (the context must be lost, with one log line, and nothing reach the
 * driver) next to a stream that keeps to it (the context must live).
 * Every case runs in a context of its own; a lost one does not affect the
 * next.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vulkan/vulkan.h>

#include "pearvisor/pearvisor.h"
#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_validate.h" /* pvk_copy_block */
#include "venus/test_stream.h"

#include "common/log.h"
#include "common/test_check.h"

#define T(name) VK_COMMAND_TYPE_##name##_EXT

/* Object ids every case uses. */
enum {
   INSTANCE = 100,
   PHYSICAL = 200,
   DEVICE = 300,
   QUEUE = 400,
   MEMORY = 500,
   MEMORY2 = 501,
   BUFFER = 600,
   BUFFER2 = 601,
   IMAGE = 650,
   IMAGE2 = 651,
   POOL = 700,
   CMD = 710,
   CMD2 = 711,
   SECONDARY = 712, /* allocated by the cases that use it */
   SECONDARY2 = 713,
   SEMAPHORE = 800,
   SEMAPHORE2 = 801,
   FENCE = 900,
   SET_LAYOUT = 1000,
   DESC_POOL = 1100,
   SET = 1200,
   SET2 = 1201,
   VIEW = 1300,
   PIPELINE_LAYOUT = 1400,
   SHADER = 1450,
   PIPELINE = 1460,
   QUERY_POOL = 1500,
   RENDER_PASS = 1600,
   FRAMEBUFFER = 1700,
};

#define MEMORY_SIZE 65536u
#define BUFFER_SIZE 4096u

/* The log module's entry points, replaced here (so log.c is not linked) to
 * keep the last error line: every rejection must name its rule. Lines
 * still go to stderr. */
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static char last_error[1024];
/* Debug lines of pvk_lifetime.c, counted (not printed): destroys deferred
 * behind pending work, submissions tracked by the guest's own fence. */
static unsigned deferred_lines, guest_fence_lines;
/* Debug lines of pvk_validate_descriptor_refs.c (descriptors made null or
 * left stale when what they name goes away), and the last one. */
static unsigned nulled_lines, immutable_lines;
static char last_nulled[1024];

int
pv_log_enabled(enum pv_log_level level)
{
   return level <= PV_LOG_WARN || level == PV_LOG_DEBUG;
}

void
pv_logv(enum pv_log_level level, const char *tag, const char *fmt, va_list ap)
{
   if (!pv_log_enabled(level))
      return;
   char line[1024];
   vsnprintf(line, sizeof(line), fmt, ap);
   if (level == PV_LOG_DEBUG) {
      pthread_mutex_lock(&log_mutex);
      deferred_lines += strstr(line, "deferred until serial") != NULL;
      guest_fence_lines += strstr(line, "tracked by the guest's fence") != NULL;
      immutable_lines += strstr(line, "is an immutable sampler: kept") != NULL;
      if (strstr(line, "descriptors naming it made null")) {
         nulled_lines++;
         snprintf(last_nulled, sizeof(last_nulled), "%s", line);
      }
      pthread_mutex_unlock(&log_mutex);
      return;
   }
   fprintf(stderr, "pearvisor: [%s] %s\n", tag ? tag : "-", line);
   if (level == PV_LOG_ERROR) {
      pthread_mutex_lock(&log_mutex);
      snprintf(last_error, sizeof(last_error), "%s", line);
      pthread_mutex_unlock(&log_mutex);
   }
}

void
pv_log(enum pv_log_level level, const char *tag, const char *fmt, ...)
{
   va_list ap;
   va_start(ap, fmt);
   pv_logv(level, tag, fmt, ap);
   va_end(ap);
}

/* Under ASan, freed blocks are filled (the flags of ASAN_OPTIONS still
 * win): lavapipe is not instrumented, so a driver read through freed memory
 * is seen only when what it reads is garbage (a descriptor naming a
 * destroyed buffer made its queue thread fault with this, not without). */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
   return "max_free_fill_size=4096:free_fill_byte=85";
}

static struct pv_renderer *renderer;
static uint8_t *reply;
static uint32_t next_ctx = 1;
/* the next setup()'s device enables robustBufferAccess */
static bool robust_next;
/* the next setup()'s device enables VK_EXT_vertex_input_dynamic_state and
 * VK_EXT_vertex_attribute_divisor with their features */
static bool dynamic_input_next;
/* the queue create info asks for a realtime global priority */
static bool queue_priority_next;
/* the next setup()'s device enables VK_KHR_push_descriptor */
static bool push_descriptor_next;

static void
set_reply(struct test_stream *e)
{
   ts_cmd(e, T(vkSetReplyCommandStreamMESA), 0);
   ts_u64(e, 1);
   ts_u32(e, 1); /* resource 1 */
   ts_u64(e, 0);
   ts_u64(e, 65536);
   ts_cmd(e, T(vkSeekReplyCommandStreamMESA), 0);
   ts_u64(e, 0);
}

static void
create_instance_device(struct test_stream *e, uint32_t family, uint32_t queue_count)
{
   set_reply(e);
   ts_cmd(e, T(vkCreateInstance), 0);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 1); /* VkApplicationInfo: Vulkan 1.3 (vkSignalSemaphore) */
   ts_u32(e, VK_STRUCTURE_TYPE_APPLICATION_INFO);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, VK_API_VERSION_1_3);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, INSTANCE);
   /* one physical device is enough (lavapipe has one) */
   ts_cmd(e, T(vkEnumeratePhysicalDevices), 0);
   ts_u64(e, INSTANCE);
   ts_u64(e, 1);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, PHYSICAL);
   ts_cmd(e, T(vkCreateDevice), 0);
   ts_u64(e, PHYSICAL);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO);
   if (dynamic_input_next) {
      ts_u64(e, 1);
      ts_u32(e, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VERTEX_INPUT_DYNAMIC_STATE_FEATURES_EXT);
      ts_u64(e, 1);
      ts_u32(e, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VERTEX_ATTRIBUTE_DIVISOR_FEATURES);
      ts_u64(e, 0);
      ts_u32(e, 1); /* vertexAttributeInstanceRateDivisor */
      ts_u32(e, 1); /* vertexAttributeInstanceRateZeroDivisor */
      ts_u32(e, 1); /* vertexInputDynamicState */
   } else {
      ts_u64(e, 0);
   }
   ts_u32(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
   if (queue_priority_next) {
      ts_u64(e, 1);
      ts_u32(e, VK_STRUCTURE_TYPE_DEVICE_QUEUE_GLOBAL_PRIORITY_CREATE_INFO);
      ts_u64(e, 0);
      ts_u32(e, VK_QUEUE_GLOBAL_PRIORITY_REALTIME);
   } else {
      ts_u64(e, 0);
   }
   ts_u32(e, 0);
   ts_u32(e, family);
   ts_u32(e, queue_count);
   ts_u64(e, queue_count);
   for (uint32_t i = 0; i < queue_count; i++)
      ts_f32(e, 1.0f);
   ts_u32(e, 0);
   ts_u64(e, 0);
   const char *exts[3];
   uint32_t ext_count = 0;
   if (dynamic_input_next) {
      exts[ext_count++] = "VK_EXT_vertex_input_dynamic_state";
      exts[ext_count++] = "VK_EXT_vertex_attribute_divisor";
   }
   if (push_descriptor_next)
      exts[ext_count++] = "VK_KHR_push_descriptor";
   ts_u32(e, ext_count);
   ts_u64(e, ext_count);
   for (uint32_t i = 0; i < ext_count; i++)
      ts_string(e, exts[i]);
   if (robust_next) { /* VkPhysicalDeviceFeatures: robustBufferAccess only */
      ts_u64(e, 1);
      for (size_t i = 0; i < sizeof(VkPhysicalDeviceFeatures) / sizeof(VkBool32); i++)
         ts_u32(e, i == 0);
   } else {
      ts_u64(e, 0);
   }
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, DEVICE);
}

static void
get_queue(struct test_stream *e, uint32_t family, uint32_t index)
{
   ts_cmd(e, T(vkGetDeviceQueue), 0);
   ts_u64(e, DEVICE);
   ts_u32(e, family);
   ts_u32(e, index);
   ts_u64(e, 1);
   ts_u64(e, QUEUE);
}

static void
allocate_memory(struct test_stream *e, uint64_t id, uint64_t size)
{
   ts_cmd(e, T(vkAllocateMemory), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
   ts_u64(e, 0);
   ts_u64(e, size);
   ts_u32(e, 0); /* lavapipe's type 0 */
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, id);
}

static void
create_buffer(struct test_stream *e, uint64_t id, uint64_t size)
{
   ts_cmd(e, T(vkCreateBuffer), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, size);
   ts_u32(e, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT |
                VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT | VK_BUFFER_USAGE_INDEX_BUFFER_BIT);
   ts_u32(e, VK_SHARING_MODE_EXCLUSIVE);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, id);
}

static void
bind_buffer(struct test_stream *e, uint64_t buffer, uint64_t memory, uint64_t offset)
{
   ts_cmd(e, T(vkBindBufferMemory), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, buffer);
   ts_u64(e, memory);
   ts_u64(e, offset);
}

/* 16x16 of `format`, `mips` levels, `layers` layers */
static void
create_image_format(struct test_stream *e, uint64_t id, uint32_t mips, uint32_t layers,
                    VkImageCreateFlags flags, VkFormat format)
{
   ts_cmd(e, T(vkCreateImage), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, flags);
   ts_u32(e, VK_IMAGE_TYPE_2D);
   ts_u32(e, format);
   ts_u32(e, 16);
   ts_u32(e, 16);
   ts_u32(e, 1);
   ts_u32(e, mips);
   ts_u32(e, layers);
   ts_u32(e, VK_SAMPLE_COUNT_1_BIT);
   ts_u32(e, VK_IMAGE_TILING_OPTIMAL);
   ts_u32(e, VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT |
                VK_IMAGE_USAGE_SAMPLED_BIT);
   ts_u32(e, VK_SHARING_MODE_EXCLUSIVE);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, VK_IMAGE_LAYOUT_UNDEFINED);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, id);
}

/* 16x16 RGBA8 */
static void
create_image_flags(struct test_stream *e, uint64_t id, uint32_t mips, uint32_t layers,
                   VkImageCreateFlags flags)
{
   create_image_format(e, id, mips, layers, flags, VK_FORMAT_R8G8B8A8_UNORM);
}

static void
create_image(struct test_stream *e, uint64_t id, uint32_t mips, uint32_t layers)
{
   create_image_flags(e, id, mips, layers, 0);
}

static void
bind_image(struct test_stream *e, uint64_t image, uint64_t memory, uint64_t offset)
{
   ts_cmd(e, T(vkBindImageMemory), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, image);
   ts_u64(e, memory);
   ts_u64(e, offset);
}

static void
create_command_buffers(struct test_stream *e)
{
   ts_cmd(e, T(vkCreateCommandPool), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, POOL);
   ts_cmd(e, T(vkAllocateCommandBuffers), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
   ts_u64(e, 0);
   ts_u64(e, POOL);
   ts_u32(e, VK_COMMAND_BUFFER_LEVEL_PRIMARY);
   ts_u32(e, 2);
   ts_u64(e, 2);
   ts_u64(e, CMD);
   ts_u64(e, CMD2);
}

static void
begin(struct test_stream *e, uint64_t cmd)
{
   ts_cmd(e, T(vkBeginCommandBuffer), 0);
   ts_u64(e, cmd);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
}

static void
end(struct test_stream *e, uint64_t cmd)
{
   ts_cmd(e, T(vkEndCommandBuffer), 0);
   ts_u64(e, cmd);
}

static void
fill(struct test_stream *e, uint64_t cmd, uint64_t buffer, uint64_t offset, uint64_t size)
{
   ts_cmd(e, T(vkCmdFillBuffer), 0);
   ts_u64(e, cmd);
   ts_u64(e, buffer);
   ts_u64(e, offset);
   ts_u64(e, size);
   ts_u32(e, 0x5a5a5a5a);
}

static void
copy_buffer(struct test_stream *e, uint64_t cmd, uint64_t src_off, uint64_t dst_off, uint64_t size)
{
   ts_cmd(e, T(vkCmdCopyBuffer), 0);
   ts_u64(e, cmd);
   ts_u64(e, BUFFER);
   ts_u64(e, BUFFER2);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, src_off);
   ts_u64(e, dst_off);
   ts_u64(e, size);
}

/* a semaphore with a VkSemaphoreTypeCreateInfo of `type` */
static void
create_semaphore_of_type(struct test_stream *e, uint64_t id, uint32_t type)
{
   ts_cmd(e, T(vkCreateSemaphore), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, type);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, id);
}

static void
create_timeline(struct test_stream *e, uint64_t id)
{
   create_semaphore_of_type(e, id, VK_SEMAPHORE_TYPE_TIMELINE);
}

static void
create_fence_flags(struct test_stream *e, uint64_t id, uint32_t flags)
{
   ts_cmd(e, T(vkCreateFence), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, flags);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, id);
}

static void
create_fence(struct test_stream *e, uint64_t id)
{
   create_fence_flags(e, id, 0);
}

static void
reset_fence(struct test_stream *e, uint64_t fence)
{
   ts_cmd(e, T(vkResetFences), 0);
   ts_u64(e, DEVICE);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, fence);
}

static void
wait_fence(struct test_stream *e, uint64_t fence)
{
   ts_cmd(e, T(vkWaitForFences), 0);
   ts_u64(e, DEVICE);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, fence);
   ts_u32(e, VK_TRUE);
   ts_u64(e, 1000ull * 1000 * 1000);
}

/* vkGetFenceStatus with its reply at offset 0 of the reply resource. */
static void
fence_status(struct test_stream *e, uint64_t fence)
{
   ts_cmd(e, T(vkSeekReplyCommandStreamMESA), 0);
   ts_u64(e, 0);
   ts_cmd(e, T(vkGetFenceStatus), VK_COMMAND_GENERATE_REPLY_BIT_EXT);
   ts_u64(e, DEVICE);
   ts_u64(e, fence);
}

static VkResult
fence_status_reply(void)
{
   uint32_t cmd, result;
   memcpy(&cmd, reply, 4);
   memcpy(&result, reply + 4, 4);
   CHECK(cmd == T(vkGetFenceStatus));
   return (VkResult)(int32_t)result;
}

/* vkQueueSubmit(QUEUE, cmd, waiting for `semaphore` to reach `value`
 * (no wait when semaphore is 0), fence) */
static void
submit(struct test_stream *e, uint64_t cmd, uint64_t semaphore, uint64_t value, uint64_t fence)
{
   ts_cmd(e, T(vkQueueSubmit), 0);
   ts_u64(e, QUEUE);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_SUBMIT_INFO);
   const uint32_t waits = semaphore ? 1 : 0;
   if (waits) {
      ts_u64(e, 1);
      ts_u32(e, VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO);
      ts_u64(e, 0);
      ts_u32(e, 1);
      ts_u64(e, 1);
      ts_u64(e, value);
      ts_u32(e, 0);
      ts_u64(e, 0);
   } else {
      ts_u64(e, 0);
   }
   ts_u32(e, waits);
   ts_u64(e, waits);
   if (waits)
      ts_u64(e, semaphore);
   ts_u64(e, waits);
   if (waits)
      ts_u32(e, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, cmd);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, fence);
}

static void
signal_semaphore(struct test_stream *e, uint64_t semaphore, uint64_t value)
{
   ts_cmd(e, T(vkSignalSemaphore), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO);
   ts_u64(e, 0);
   ts_u64(e, semaphore);
   ts_u64(e, value);
}

static void
destroy(struct test_stream *e, uint32_t type, uint64_t id)
{
   ts_cmd(e, type, 0);
   ts_u64(e, DEVICE);
   ts_u64(e, id);
   ts_u64(e, 0);
}

static void
queue_wait_idle(struct test_stream *e)
{
   ts_cmd(e, T(vkQueueWaitIdle), 0);
   ts_u64(e, QUEUE);
}

/* A context with instance, device (one queue of family 0), memory, two
 * bound buffers and two command buffers. Returns its id. */
static uint32_t
setup(void)
{
   const uint32_t ctx = next_ctx++;
   CHECK(pv_context_create(renderer, ctx, PV_CAPSET_VENUS, "firewall") == 0);
   const struct pv_blob_args args = { .res_id = 1,
                                      .ctx_id = ctx,
                                      .blob_mem = PV_BLOB_MEM_HOST3D,
                                      .blob_flags = PV_BLOB_FLAG_MAPPABLE,
                                      .size = 65536 };
   if (ctx == 1) {
      CHECK(pv_resource_create_blob(renderer, &args) == 0);
      uint64_t mapped = 0;
      CHECK(pv_resource_map(renderer, 1, (void **)&reply, &mapped) == 0);
   } else {
      CHECK(pv_context_attach_resource(renderer, ctx, 1) == 0);
   }
   struct test_stream e = { 0 };
   create_instance_device(&e, 0, 1);
   get_queue(&e, 0, 0);
   allocate_memory(&e, MEMORY, MEMORY_SIZE);
   create_buffer(&e, BUFFER, BUFFER_SIZE);
   create_buffer(&e, BUFFER2, BUFFER_SIZE);
   bind_buffer(&e, BUFFER, MEMORY, 0);
   bind_buffer(&e, BUFFER2, MEMORY, BUFFER_SIZE);
   create_command_buffers(&e);
   CHECK(pv_context_submit(renderer, ctx, e.data, e.len) == 0);
   CHECK(!pv_context_is_lost(renderer, ctx));
   return ctx;
}

/* Runs `e` in context `ctx`; expects it alive, or lost with a log line
 * containing `why`; then ends it. */
static void
expect_why(uint32_t ctx, const struct test_stream *e, const char *why, const char *what)
{
   pthread_mutex_lock(&log_mutex);
   last_error[0] = '\0';
   pthread_mutex_unlock(&log_mutex);
   const int ret = pv_context_submit(renderer, ctx, e->data, e->len);
   const bool lost = why != NULL;
   pthread_mutex_lock(&log_mutex);
   const bool named = !why || strstr(last_error, why);
   pthread_mutex_unlock(&log_mutex);
   if (pv_context_is_lost(renderer, ctx) != lost || (ret == 0) == lost || !named) {
      fprintf(stderr, "FAIL: %s: context %s (submit %d), want \"%s\", logged \"%s\"\n", what,
              pv_context_is_lost(renderer, ctx) ? "lost" : "alive", ret, why ? why : "",
              last_error);
      exit(1);
   }
   pv_context_destroy(renderer, ctx);
}

static void
expect(uint32_t ctx, const struct test_stream *e, bool lost, const char *what)
{
   expect_why(ctx, e, lost ? "firewall: " : NULL, what);
}

/* --- binary semaphores --- */

static void
create_binary(struct test_stream *e, uint64_t id)
{
   ts_cmd(e, T(vkCreateSemaphore), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, id);
}

/* A VkSubmitInfo with no command buffer, waiting for binary semaphore
 * `wait` and signalling `signal` (0: none). */
static void
binary_batch(struct test_stream *e, uint64_t wait, uint64_t signal)
{
   ts_u32(e, VK_STRUCTURE_TYPE_SUBMIT_INFO);
   ts_u64(e, 0);
   const uint32_t waits = wait ? 1 : 0, signals = signal ? 1 : 0;
   ts_u32(e, waits);
   ts_u64(e, waits);
   if (waits)
      ts_u64(e, wait);
   ts_u64(e, waits);
   if (waits)
      ts_u32(e, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, signals);
   ts_u64(e, signals);
   if (signals)
      ts_u64(e, signal);
}

/* vkQueueSubmit(QUEUE) of one such batch, no fence. */
static void
submit_binary(struct test_stream *e, uint64_t wait, uint64_t signal)
{
   ts_cmd(e, T(vkQueueSubmit), 0);
   ts_u64(e, QUEUE);
   ts_u32(e, 1);
   ts_u64(e, 1);
   binary_batch(e, wait, signal);
   ts_u64(e, 0); /* no fence */
}

/* A queue wait on a binary semaphore needs a signal submitted before it:
 * lavapipe blocks in vkQueueSubmit forever without one (a mutated Mesa 25
 * session with the signalling submission deleted). */
static void
test_binary_semaphores(void)
{
   uint32_t ctx = setup();
   struct test_stream e = { 0 };
   create_binary(&e, SEMAPHORE2);
   submit_binary(&e, SEMAPHORE2, 0);
   expect_why(ctx, &e, "firewall: semaphore wait", "binary wait with no signal before");

   ctx = setup();
   e.len = 0;
   create_binary(&e, SEMAPHORE2);
   submit_binary(&e, 0, SEMAPHORE2);
   submit_binary(&e, SEMAPHORE2, 0);
   submit_binary(&e, 0, SEMAPHORE2);
   submit_binary(&e, SEMAPHORE2, 0);
   queue_wait_idle(&e);
   destroy(&e, T(vkDestroySemaphore), SEMAPHORE2);
   expect(ctx, &e, false, "binary signal then wait, twice");

   ctx = setup();
   e.len = 0;
   create_binary(&e, SEMAPHORE2);
   submit_binary(&e, 0, SEMAPHORE2);
   submit_binary(&e, SEMAPHORE2, 0);
   submit_binary(&e, SEMAPHORE2, 0);
   expect_why(ctx, &e, "firewall: semaphore wait", "a second wait for one signal");

   /* batches waiting on an earlier batch of the same call: lavapipe's
    * submission would block on them, so they go one at a time there */
   ctx = setup();
   e.len = 0;
   create_binary(&e, SEMAPHORE2);
   ts_cmd(&e, T(vkQueueSubmit), 0);
   ts_u64(&e, QUEUE);
   ts_u32(&e, 3);
   ts_u64(&e, 3);
   binary_batch(&e, 0, SEMAPHORE2);
   binary_batch(&e, SEMAPHORE2, SEMAPHORE2);
   binary_batch(&e, SEMAPHORE2, 0);
   ts_u64(&e, 0);
   queue_wait_idle(&e);
   destroy(&e, T(vkDestroySemaphore), SEMAPHORE2);
   expect(ctx, &e, false, "binary signal and waits in one call");
}

static void
counter_value(struct test_stream *e, uint64_t semaphore)
{
   ts_cmd(e, T(vkGetSemaphoreCounterValue), VK_COMMAND_GENERATE_REPLY_BIT_EXT);
   ts_u64(e, DEVICE);
   ts_u64(e, semaphore);
   ts_u64(e, 1); /* pValue */
}

/* The timeline commands take timeline semaphores only: lavapipe called a
 * NULL function reading a binary one's counter (fuzzer, seed 17000: a
 * semaphoreType of 0x40, which it made binary). */
static void
test_timeline_commands(void)
{
   uint32_t ctx = setup();
   struct test_stream e = { 0 };
   create_timeline(&e, SEMAPHORE);
   counter_value(&e, SEMAPHORE);
   signal_semaphore(&e, SEMAPHORE, 2);
   counter_value(&e, SEMAPHORE);
   destroy(&e, T(vkDestroySemaphore), SEMAPHORE);
   expect(ctx, &e, false, "a timeline's counter read and signalled");

   ctx = setup();
   e.len = 0;
   create_binary(&e, SEMAPHORE2);
   counter_value(&e, SEMAPHORE2);
   expect_why(ctx, &e, "vkGetSemaphoreCounterValue: semaphore 801 is not a timeline",
              "the counter of a binary semaphore");

   ctx = setup();
   e.len = 0;
   create_binary(&e, SEMAPHORE2);
   signal_semaphore(&e, SEMAPHORE2, 1);
   expect_why(ctx, &e, "vkSignalSemaphore: not a timeline semaphore",
              "a binary semaphore signalled from the host");

   ctx = setup();
   e.len = 0;
   create_timeline(&e, SEMAPHORE);
   signal_semaphore(&e, SEMAPHORE, 3);
   signal_semaphore(&e, SEMAPHORE, 3);
   expect_why(ctx, &e,
              "vkSignalSemaphore: value not above the semaphore's counter (value 3, "
              "counter 3)",
              "a timeline signalled twice with one value");

   ctx = setup();
   e.len = 0;
   create_semaphore_of_type(&e, SEMAPHORE2, 0x40);
   expect_why(ctx, &e, "invalid VkSemaphoreType value in VkSemaphoreTypeCreateInfo.semaphoreType",
              "a semaphore of type 0x40");
}

/* CMD recorded (a fill; SIMULTANEOUS_USE when `simultaneous`) and submitted
 * waiting for timeline SEMAPHORE's value 1 */
static void
pending_fill(struct test_stream *e, bool simultaneous)
{
   create_timeline(e, SEMAPHORE);
   ts_cmd(e, T(vkBeginCommandBuffer), 0);
   ts_u64(e, CMD);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
   ts_u64(e, 0);
   ts_u32(e, simultaneous ? VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT : 0);
   ts_u64(e, 0);
   fill(e, CMD, BUFFER, 0, 256);
   end(e, CMD);
   submit(e, CMD, SEMAPHORE, 1, 0);
}

/* A command buffer without SIMULTANEOUS_USE submitted again while it may
 * be pending waits for its last submission (bounded by the firewall's wait
 * limit: 300 ms here). */
static void
test_resubmit(void)
{
   uint32_t ctx = setup();
   struct test_stream e = { 0 };
   pending_fill(&e, false);
   signal_semaphore(&e, SEMAPHORE, 1);
   submit(&e, CMD, 0, 0, 0);
   queue_wait_idle(&e);
   expect(ctx, &e, false, "a command buffer submitted again after it ran");

   ctx = setup();
   e.len = 0;
   pending_fill(&e, true);
   submit(&e, CMD, 0, 0, 0);
   signal_semaphore(&e, SEMAPHORE, 1);
   queue_wait_idle(&e);
   expect(ctx, &e, false, "a SIMULTANEOUS_USE command buffer submitted again while pending");

   CHECK(pv_renderer_set_teardown_timeout(renderer, 300) == 0);
   ctx = setup();
   e.len = 0;
   pending_fill(&e, false);
   submit(&e, CMD, 0, 0, 0);
   expect_why(ctx, &e, "lifetime: vkQueueSubmit of command buffer 710 waited for pending work",
              "a command buffer submitted again while its submission waits for ever");
   CHECK(pv_renderer_set_teardown_timeout(renderer, 5000) == 0);
}

/* --- lifetimes --- */

/* A fence, command buffers, a buffer, memory and a command pool destroyed
 * while the submission using them waits on a timeline semaphore: each
 * destruction is deferred until the work has run (lavapipe freed the fence
 * and the command buffers under its queue thread before). */
static void
test_destroy_pending(void)
{
   uint32_t ctx = setup();
   struct test_stream e = { 0 };
   create_timeline(&e, SEMAPHORE);
   create_fence(&e, FENCE);
   begin(&e, CMD);
   fill(&e, CMD, BUFFER, 0, VK_WHOLE_SIZE);
   copy_buffer(&e, CMD, 0, 0, BUFFER_SIZE);
   end(&e, CMD);
   submit(&e, CMD, SEMAPHORE, 1, FENCE);
   destroy(&e, T(vkDestroyFence), FENCE);
   ts_cmd(&e, T(vkFreeCommandBuffers), 0);
   ts_u64(&e, DEVICE);
   ts_u64(&e, POOL);
   ts_u32(&e, 1);
   ts_u64(&e, 1);
   ts_u64(&e, CMD);
   destroy(&e, T(vkDestroyBuffer), BUFFER);
   destroy(&e, T(vkDestroyBuffer), BUFFER2);
   destroy(&e, T(vkFreeMemory), MEMORY);
   destroy(&e, T(vkDestroyCommandPool), POOL);
   CHECK(pv_context_submit(renderer, ctx, e.data, e.len) == 0);
   CHECK(!pv_context_is_lost(renderer, ctx));

   /* the work runs now; the next destroy finds the deferred ones due */
   e.len = 0;
   signal_semaphore(&e, SEMAPHORE, 1);
   queue_wait_idle(&e);
   destroy(&e, T(vkDestroySemaphore), SEMAPHORE);
   expect(ctx, &e, false, "deferred destruction");

   /* the same with the context ended while the work still waits: its
    * teardown waits for the device; here the work is released first */
   ctx = setup();
   e.len = 0;
   create_timeline(&e, SEMAPHORE);
   begin(&e, CMD);
   fill(&e, CMD, BUFFER, 0, 256);
   end(&e, CMD);
   submit(&e, CMD, SEMAPHORE, 1, 0);
   destroy(&e, T(vkDestroyCommandPool), POOL);
   destroy(&e, T(vkFreeMemory), MEMORY);
   signal_semaphore(&e, SEMAPHORE, 1);
   expect(ctx, &e, false, "deferred destruction at teardown");
}

/* Re-recording a command buffer whose submission is pending waits for it
 * (here released by the signal just before). */
static void
test_begin_pending(void)
{
   const uint32_t ctx = setup();
   struct test_stream e = { 0 };
   create_timeline(&e, SEMAPHORE);
   create_fence(&e, FENCE);
   begin(&e, CMD);
   fill(&e, CMD, BUFFER, 0, VK_WHOLE_SIZE);
   end(&e, CMD);
   submit(&e, CMD, SEMAPHORE, 1, FENCE);
   signal_semaphore(&e, SEMAPHORE, 1);
   begin(&e, CMD);
   fill(&e, CMD, BUFFER, 0, 4);
   end(&e, CMD);
   ts_cmd(&e, T(vkResetFences), 0);
   ts_u64(&e, DEVICE);
   ts_u32(&e, 1);
   ts_u64(&e, 1);
   ts_u64(&e, FENCE);
   ts_cmd(&e, T(vkResetCommandPool), 0);
   ts_u64(&e, DEVICE);
   ts_u64(&e, POOL);
   ts_u32(&e, 0);
   expect(ctx, &e, false, "reset after pending work");
}

/* Runs `e` in context `ctx` (which must live on); returns how many
 * destroys were deferred and submissions tracked by a guest fence. */
static void
run_counting(uint32_t ctx, struct test_stream *e, unsigned *deferred, unsigned *tracked)
{
   pthread_mutex_lock(&log_mutex);
   const unsigned d0 = deferred_lines, t0 = guest_fence_lines;
   pthread_mutex_unlock(&log_mutex);
   CHECK(pv_context_submit(renderer, ctx, e->data, e->len) == 0);
   CHECK(!pv_context_is_lost(renderer, ctx));
   pthread_mutex_lock(&log_mutex);
   *deferred = deferred_lines - d0;
   *tracked = guest_fence_lines - t0;
   pthread_mutex_unlock(&log_mutex);
   e->len = 0;
}

/* A submission with the guest's fence is tracked by that fence (no second
 * submission); what it uses still outlives it, across vkGetFenceStatus,
 * vkWaitForFences, vkResetFences and re-submission of the fence. A fence
 * that may already be signalled (created so, or given again before it was
 * seen done) does not track: the renderer's own fence does. */
static void
test_guest_fence(void)
{
   uint32_t ctx = setup();
   struct test_stream e = { 0 };
   unsigned deferred, tracked;
   create_timeline(&e, SEMAPHORE);
   create_fence(&e, FENCE);
   begin(&e, CMD);
   fill(&e, CMD, BUFFER, 0, VK_WHOLE_SIZE);
   end(&e, CMD);
   submit(&e, CMD, SEMAPHORE, 1, FENCE);
   destroy(&e, T(vkDestroyBuffer), BUFFER2);
   fence_status(&e, FENCE);
   run_counting(ctx, &e, &deferred, &tracked);
   CHECK(tracked == 1 && deferred == 1);
   CHECK(fence_status_reply() == VK_NOT_READY);

   /* the work runs; the guest sees the fence signalled, resets it and
    * submits it again, behind the same semaphore (value 2) */
   signal_semaphore(&e, SEMAPHORE, 1);
   wait_fence(&e, FENCE);
   fence_status(&e, FENCE);
   run_counting(ctx, &e, &deferred, &tracked);
   CHECK(fence_status_reply() == VK_SUCCESS);
   reset_fence(&e, FENCE);
   begin(&e, CMD);
   fill(&e, CMD, BUFFER, 0, 256);
   end(&e, CMD);
   submit(&e, CMD, SEMAPHORE, 2, FENCE);
   /* pending: all of these wait for the work (lavapipe ran freed command
    * buffers and fences before the firewall) */
   destroy(&e, T(vkDestroyFence), FENCE);
   ts_cmd(&e, T(vkFreeCommandBuffers), 0);
   ts_u64(&e, DEVICE);
   ts_u64(&e, POOL);
   ts_u32(&e, 1);
   ts_u64(&e, 1);
   ts_u64(&e, CMD);
   destroy(&e, T(vkDestroyBuffer), BUFFER);
   run_counting(ctx, &e, &deferred, &tracked);
   CHECK(tracked == 1 && deferred == 3);
   signal_semaphore(&e, SEMAPHORE, 2);
   queue_wait_idle(&e);
   destroy(&e, T(vkDestroySemaphore), SEMAPHORE);
   expect(ctx, &e, false, "guest fence tracking");

   /* a fence created signalled says nothing about the work it is given
    * to (invalid usage): the renderer's fence tracks it, the destroy waits */
   ctx = setup();
   e.len = 0;
   create_timeline(&e, SEMAPHORE);
   create_fence_flags(&e, FENCE, VK_FENCE_CREATE_SIGNALED_BIT);
   begin(&e, CMD);
   fill(&e, CMD, BUFFER, 0, VK_WHOLE_SIZE);
   end(&e, CMD);
   submit(&e, CMD, SEMAPHORE, 1, FENCE);
   destroy(&e, T(vkDestroyBuffer), BUFFER2);
   run_counting(ctx, &e, &deferred, &tracked);
   CHECK(tracked == 0 && deferred == 1);
   signal_semaphore(&e, SEMAPHORE, 1);
   queue_wait_idle(&e);
   /* nor does a fence given again while its submission is pending */
   begin(&e, CMD2);
   fill(&e, CMD2, BUFFER, 0, 256);
   end(&e, CMD2);
   create_fence(&e, FENCE + 1);
   submit(&e, CMD2, SEMAPHORE, 2, FENCE + 1);
   submit(&e, CMD, SEMAPHORE, 2, FENCE + 1);
   destroy(&e, T(vkDestroyBuffer), BUFFER);
   run_counting(ctx, &e, &deferred, &tracked);
   CHECK(tracked == 1 && deferred == 1);
   signal_semaphore(&e, SEMAPHORE, 2);
   queue_wait_idle(&e);
   expect(ctx, &e, false, "signalled guest fence");
}

/* --- descriptors --- */

/* Layout: binding 0 and 1 uniform buffers (1 and 2), binding 3 a storage
 * buffer; a pool and set SET of it. */
static void
descriptor_setup(struct test_stream *e)
{
   static const struct {
      uint32_t binding, type, count;
   } b[] = { { 0, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 1 },
             { 1, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 2 },
             { 3, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1 } };
   ts_cmd(e, T(vkCreateDescriptorSetLayout), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 3);
   ts_u64(e, 3);
   for (int i = 0; i < 3; i++) {
      ts_u32(e, b[i].binding);
      ts_u32(e, b[i].type);
      ts_u32(e, b[i].count);
      ts_u32(e, VK_SHADER_STAGE_COMPUTE_BIT);
      ts_u64(e, 0);
   }
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, SET_LAYOUT);

   ts_cmd(e, T(vkCreateDescriptorPool), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT);
   ts_u32(e, 4);
   ts_u32(e, 2);
   ts_u64(e, 2);
   ts_u32(e, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER);
   ts_u32(e, 16);
   ts_u32(e, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER);
   ts_u32(e, 16);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, DESC_POOL);

   ts_cmd(e, T(vkAllocateDescriptorSets), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
   ts_u64(e, 0);
   ts_u64(e, DESC_POOL);
   ts_u32(e, 2);
   ts_u64(e, 2);
   ts_u64(e, SET_LAYOUT);
   ts_u64(e, SET_LAYOUT);
   ts_u64(e, 2);
   ts_u64(e, SET);
   ts_u64(e, SET2);
}

/* vkUpdateDescriptorSets with one buffer write of `count` descriptors
 * (each BUFFER at `offset`, `range`). */
static void
write_buffers(struct test_stream *e, uint32_t binding, uint32_t element, uint32_t count,
              uint32_t type, uint64_t offset, uint64_t range)
{
   ts_cmd(e, T(vkUpdateDescriptorSets), 0);
   ts_u64(e, DEVICE);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
   ts_u64(e, 0);
   ts_u64(e, SET);
   ts_u32(e, binding);
   ts_u32(e, element);
   ts_u32(e, count);
   ts_u32(e, type);
   ts_u64(e, 0);
   ts_u64(e, count);
   for (uint32_t i = 0; i < count; i++) {
      ts_u64(e, BUFFER);
      ts_u64(e, offset);
      ts_u64(e, range);
   }
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
}

static void
copy_descriptors(struct test_stream *e, uint32_t src_binding, uint32_t src_element,
                 uint32_t dst_binding, uint32_t count)
{
   ts_cmd(e, T(vkUpdateDescriptorSets), 0);
   ts_u64(e, DEVICE);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_COPY_DESCRIPTOR_SET);
   ts_u64(e, 0);
   ts_u64(e, SET);
   ts_u32(e, src_binding);
   ts_u32(e, src_element);
   ts_u64(e, SET2);
   ts_u32(e, dst_binding);
   ts_u32(e, 0);
   ts_u32(e, count);
}

static void
descriptor_case(const char *why, const char *what, uint32_t binding, uint32_t element,
                uint32_t count, uint32_t type, uint64_t offset, uint64_t range)
{
   const uint32_t ctx = setup();
   struct test_stream e = { 0 };
   descriptor_setup(&e);
   write_buffers(&e, binding, element, count, type, offset, range);
   expect_why(ctx, &e, why, what);
}

static void
test_descriptors(void)
{
   const uint32_t ubo = VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER;
   const uint32_t ssbo = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
   /* binding 0 element 0, 3 descriptors: spills into binding 1 (2) */
   descriptor_case(NULL, "write spilling into the next binding", 0, 0, 3, ubo, 256, 256);
   descriptor_case(NULL, "whole-size buffer descriptor", 3, 0, 1, ssbo, 0, VK_WHOLE_SIZE);
   /* the crash of issue 13: a binding the layout does not have */
   descriptor_case("no such binding in the set's layout (set 1200, binding 7",
                   "binding out of range", 7, 0, 1, ubo, 0, 256);
   descriptor_case("no such binding in the set's layout (set 1200, binding 2", "binding 2 (a hole)",
                   2, 0, 1, ubo, 0, 256);
   descriptor_case("array element beyond the binding", "array element past the binding", 1, 3, 1,
                   ubo, 0, 256);
   /* binding 1 elements 1..2 reach binding 3, a storage buffer */
   descriptor_case("consecutive binding of another type", "spill into a binding of another type", 1,
                   1, 2, ubo, 0, 256);
   descriptor_case("beyond the last binding", "spill past the last binding", 3, 0, 2, ssbo, 0, 256);
   descriptor_case("descriptor type is not the binding's", "descriptor type mismatch", 3, 0, 1, ubo,
                   0, 256);
   descriptor_case("buffer offset beyond the buffer", "buffer offset past the buffer", 0, 0, 1, ubo,
                   BUFFER_SIZE, 16);
   descriptor_case("buffer range beyond the buffer", "buffer range past the buffer", 0, 0, 1, ubo,
                   256, BUFFER_SIZE);

   uint32_t ctx = setup();
   struct test_stream e = { 0 };
   descriptor_setup(&e);
   write_buffers(&e, 0, 0, 3, ubo, 0, 64);
   copy_descriptors(&e, 0, 0, 0, 3);
   expect(ctx, &e, false, "descriptor copy spilling into the next binding");

   ctx = setup();
   e.len = 0;
   descriptor_setup(&e);
   copy_descriptors(&e, 5, 0, 0, 1);
   expect_why(ctx, &e, "no such source binding", "descriptor copy from a missing binding");

   ctx = setup();
   e.len = 0;
   descriptor_setup(&e);
   copy_descriptors(&e, 0, 0, 1, 3);
   expect_why(ctx, &e, "consecutive binding of another type",
              "descriptor copy spilling into a binding of another type");

   /* the set's storage is gone with its pool; the layout outlives */
   ctx = setup();
   e.len = 0;
   descriptor_setup(&e);
   destroy(&e, T(vkDestroyDescriptorSetLayout), SET_LAYOUT);
   write_buffers(&e, 0, 0, 1, ubo, 0, 64);
   destroy(&e, T(vkDestroyDescriptorPool), DESC_POOL);
   expect(ctx, &e, false, "set outliving its layout");
}

static void
create_pipeline_layout(struct test_stream *e)
{
   ts_cmd(e, T(vkCreatePipelineLayout), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, SET_LAYOUT);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, PIPELINE_LAYOUT);
}

static void
bind_sets(struct test_stream *e, uint32_t first, uint32_t dynamic)
{
   ts_cmd(e, T(vkCmdBindDescriptorSets), 0);
   ts_u64(e, CMD);
   ts_u32(e, VK_PIPELINE_BIND_POINT_COMPUTE);
   ts_u64(e, PIPELINE_LAYOUT);
   ts_u32(e, first);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, SET);
   ts_u32(e, dynamic);
   ts_u64(e, dynamic);
   for (uint32_t i = 0; i < dynamic; i++)
      ts_u32(e, 0);
}

static void
bind_case(const char *why, const char *what, uint32_t first, uint32_t dynamic)
{
   const uint32_t ctx = setup();
   struct test_stream e = { 0 };
   descriptor_setup(&e);
   create_pipeline_layout(&e);
   begin(&e, CMD);
   bind_sets(&e, first, dynamic);
   end(&e, CMD);
   destroy(&e, T(vkDestroyPipelineLayout), PIPELINE_LAYOUT);
   expect_why(ctx, &e, why, what);
}

/* A layout `layout` of one binding 0 of `type` (1 descriptor, or the three
 * bindings of descriptor_setup's layout when `like_setup`), a pool
 * DESC_POOL + 1 and a set `set` of it. */
static void
second_set(struct test_stream *e, uint64_t layout, uint64_t set, uint32_t type, bool like_setup)
{
   static const struct {
      uint32_t binding, type, count;
   } same[] = { { 0, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 1 },
                { 1, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 2 },
                { 3, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1 } };
   const uint32_t n = like_setup ? 3 : 1;
   ts_cmd(e, T(vkCreateDescriptorSetLayout), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, n);
   ts_u64(e, n);
   for (uint32_t i = 0; i < n; i++) {
      ts_u32(e, like_setup ? same[i].binding : 0);
      ts_u32(e, like_setup ? same[i].type : type);
      ts_u32(e, like_setup ? same[i].count : 1);
      ts_u32(e, VK_SHADER_STAGE_COMPUTE_BIT);
      ts_u64(e, 0);
   }
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, layout);

   ts_cmd(e, T(vkCreateDescriptorPool), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 1);
   ts_u32(e, 3);
   ts_u64(e, 3);
   ts_u32(e, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER);
   ts_u32(e, 4);
   ts_u32(e, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER);
   ts_u32(e, 4);
   ts_u32(e, type);
   ts_u32(e, 4);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, DESC_POOL + 1);

   ts_cmd(e, T(vkAllocateDescriptorSets), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
   ts_u64(e, 0);
   ts_u64(e, DESC_POOL + 1);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, layout);
   ts_u64(e, 1);
   ts_u64(e, set);
}

/* VUID-vkCmdBindDescriptorSets-pDescriptorSets-00358: a set of a layout
 * other than the pipeline layout's is bound only if the two are identically
 * defined. lavapipe walks the bound set's own layout for dynamic offsets:
 * a set with a dynamic uniform buffer, bound where the pipeline layout's set
 * has none (so with no dynamic offsets), made it read pDynamicOffsets past
 * its end. */
static void
compatible_set_case(const char *why, const char *what, uint32_t type, bool like_setup)
{
   const uint32_t ctx = setup();
   struct test_stream e = { 0 };
   descriptor_setup(&e);
   second_set(&e, SET_LAYOUT + 1, SET + 2, type, like_setup);
   create_pipeline_layout(&e);
   begin(&e, CMD);
   ts_cmd(&e, T(vkCmdBindDescriptorSets), 0);
   ts_u64(&e, CMD);
   ts_u32(&e, VK_PIPELINE_BIND_POINT_COMPUTE);
   ts_u64(&e, PIPELINE_LAYOUT);
   ts_u32(&e, 0);
   ts_u32(&e, 1);
   ts_u64(&e, 1);
   ts_u64(&e, SET + 2);
   ts_u32(&e, 0);
   ts_u64(&e, 0);
   end(&e, CMD);
   destroy(&e, T(vkDestroyPipelineLayout), PIPELINE_LAYOUT);
   expect_why(ctx, &e, why, what);
}

static void
test_bind_and_push(void)
{
   bind_case(NULL, "descriptor set bound inside the pipeline layout", 0, 0);
   bind_case("sets beyond the pipeline layout", "descriptor set bound past the pipeline layout", 1,
             0);
   bind_case("dynamic offset count", "dynamic offsets for a layout without dynamic descriptors", 0,
             2);
   compatible_set_case(NULL, "set of an identically defined layout", 0, true);
   compatible_set_case("set allocated with a layout incompatible with the pipeline layout's "
                       "(layout 1400, sets 0..+1, 0 dynamic offsets, set 1202)",
                       "set of a layout with a dynamic uniform buffer",
                       VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC, false);
   compatible_set_case("set allocated with a layout incompatible",
                       "set of a layout with other bindings", VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                       false);

   /* push descriptors are checked against the pipeline layout's set layout */
   const uint32_t ctx = setup();
   struct test_stream e = { 0 };
   descriptor_setup(&e);
   create_pipeline_layout(&e);
   begin(&e, CMD);
   ts_cmd(&e, T(vkCmdPushDescriptorSet), 0);
   ts_u64(&e, CMD);
   ts_u32(&e, VK_PIPELINE_BIND_POINT_COMPUTE);
   ts_u64(&e, PIPELINE_LAYOUT);
   ts_u32(&e, 0);
   ts_u32(&e, 1);
   ts_u64(&e, 1);
   ts_u32(&e, VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
   ts_u64(&e, 0);
   ts_u64(&e, 0);
   ts_u32(&e, 7); /* no such binding */
   ts_u32(&e, 0);
   ts_u32(&e, 1);
   ts_u32(&e, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER);
   ts_u64(&e, 0);
   ts_u64(&e, 1);
   ts_u64(&e, BUFFER);
   ts_u64(&e, 0);
   ts_u64(&e, 64);
   ts_u64(&e, 0);
   expect_why(ctx, &e, "vkCmdPushDescriptorSet write 0: no such binding",
              "push descriptor binding out of range");
}

/* A descriptor set never written, bound and used by a dispatch: lavapipe's
 * queue thread read its NULL descriptors before sets were filled at
 * allocation (fuzz/known-crashes/unwritten-descriptor.pvcap). Compiled from
 *    layout(set = 0, binding = 0) uniform U { uint u; };
 *    layout(set = 0, binding = 3) buffer S { uint s[]; };
 *    void main() { s[0] = u + 1u; }
 * (glslangValidator -V --target-env vulkan1.1 -Os -g0). */
static const uint32_t spv_unwritten[] = {
   0x07230203, 0x00010300, 0x0008000b, 0x00000023, 0x00000000, 0x00020011, 0x00000001, 0x0006000b,
   0x00000001, 0x4c534c47, 0x6474732e, 0x3035342e, 0x00000000, 0x0003000e, 0x00000000, 0x00000001,
   0x0005000f, 0x00000005, 0x00000004, 0x6e69616d, 0x00000000, 0x00060010, 0x00000004, 0x00000011,
   0x00000001, 0x00000001, 0x00000001, 0x00040047, 0x00000007, 0x00000006, 0x00000004, 0x00050048,
   0x00000008, 0x00000000, 0x00000023, 0x00000000, 0x00030047, 0x00000008, 0x00000002, 0x00040047,
   0x0000000a, 0x00000022, 0x00000000, 0x00040047, 0x0000000a, 0x00000021, 0x00000001, 0x00040047,
   0x00000011, 0x00000022, 0x00000000, 0x00040047, 0x00000011, 0x00000021, 0x00000000, 0x00040047,
   0x00000022, 0x0000000b, 0x00000019, 0x00020013, 0x00000002, 0x00030021, 0x00000003, 0x00000002,
   0x00040015, 0x00000006, 0x00000020, 0x00000000, 0x0003001d, 0x00000007, 0x00000006, 0x0003001e,
   0x00000008, 0x00000007, 0x00040020, 0x00000009, 0x0000000c, 0x00000008, 0x0004003b, 0x00000009,
   0x0000000a, 0x0000000c, 0x00040015, 0x0000000b, 0x00000020, 0x00000001, 0x0004002b, 0x0000000b,
   0x0000000c, 0x00000000, 0x00030016, 0x0000000d, 0x00000020, 0x00090019, 0x0000000e, 0x0000000d,
   0x00000001, 0x00000000, 0x00000000, 0x00000000, 0x00000001, 0x00000000, 0x0003001b, 0x0000000f,
   0x0000000e, 0x00040020, 0x00000010, 0x00000000, 0x0000000f, 0x0004003b, 0x00000010, 0x00000011,
   0x00000000, 0x00040017, 0x00000013, 0x0000000d, 0x00000002, 0x0004002b, 0x0000000d, 0x00000014,
   0x3f000000, 0x0005002c, 0x00000013, 0x00000015, 0x00000014, 0x00000014, 0x0004002b, 0x0000000d,
   0x00000016, 0x00000000, 0x00040017, 0x00000017, 0x0000000d, 0x00000004, 0x0004002b, 0x0000000d,
   0x0000001b, 0x437f0000, 0x00040020, 0x0000001e, 0x0000000c, 0x00000006, 0x00040017, 0x00000020,
   0x00000006, 0x00000003, 0x0004002b, 0x00000006, 0x00000021, 0x00000001, 0x0006002c, 0x00000020,
   0x00000022, 0x00000021, 0x00000021, 0x00000021, 0x00050036, 0x00000002, 0x00000004, 0x00000000,
   0x00000003, 0x000200f8, 0x00000005, 0x0004003d, 0x0000000f, 0x00000012, 0x00000011, 0x00070058,
   0x00000017, 0x00000018, 0x00000012, 0x00000015, 0x00000002, 0x00000016, 0x00050051, 0x0000000d,
   0x0000001a, 0x00000018, 0x00000000, 0x00050085, 0x0000000d, 0x0000001c, 0x0000001a, 0x0000001b,
   0x0004006d, 0x00000006, 0x0000001d, 0x0000001c, 0x00060041, 0x0000001e, 0x0000001f, 0x0000000a,
   0x0000000c, 0x0000000c, 0x0003003e, 0x0000001f, 0x0000001d, 0x000100fd, 0x00010038,
};

/* Layout SET_LAYOUT: binding 0 a combined image sampler (no immutable
 * sampler), binding 1 a storage buffer; pool DESC_POOL and set SET of it,
 * never written. */
static void
sampler_set_setup_immutable(struct test_stream *e, uint64_t immutable)
{
   ts_cmd(e, T(vkCreateDescriptorSetLayout), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 2);
   ts_u64(e, 2);
   ts_u32(e, 0);
   ts_u32(e, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER);
   ts_u32(e, 1);
   ts_u32(e, VK_SHADER_STAGE_COMPUTE_BIT);
   ts_u64(e, immutable ? 1 : 0);
   if (immutable)
      ts_u64(e, immutable);
   ts_u32(e, 1);
   ts_u32(e, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER);
   ts_u32(e, 1);
   ts_u32(e, VK_SHADER_STAGE_COMPUTE_BIT);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, SET_LAYOUT);

   ts_cmd(e, T(vkCreateDescriptorPool), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 1);
   ts_u32(e, 2);
   ts_u64(e, 2);
   ts_u32(e, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER);
   ts_u32(e, 1);
   ts_u32(e, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER);
   ts_u32(e, 1);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, DESC_POOL);

   ts_cmd(e, T(vkAllocateDescriptorSets), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
   ts_u64(e, 0);
   ts_u64(e, DESC_POOL);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, SET_LAYOUT);
   ts_u64(e, 1);
   ts_u64(e, SET);
}

static void
sampler_set_setup(struct test_stream *e)
{
   sampler_set_setup_immutable(e, 0);
}

static void
create_compute_pipeline(struct test_stream *e)
{
   ts_cmd(e, T(vkCreateShaderModule), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, sizeof(spv_unwritten));
   ts_u64(e, sizeof(spv_unwritten) / 4);
   ts_bytes(e, spv_unwritten, sizeof(spv_unwritten));
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, SHADER);

   ts_cmd(e, T(vkCreateComputePipelines), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, VK_SHADER_STAGE_COMPUTE_BIT);
   ts_u64(e, SHADER);
   ts_string(e, "main");
   ts_u64(e, 0);
   ts_u64(e, PIPELINE_LAYOUT);
   ts_u64(e, 0);
   ts_u32(e, UINT32_MAX);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, PIPELINE);
}

static void
test_unwritten_descriptors(void)
{
   const uint32_t ctx = setup();
   struct test_stream e = { 0 };
   sampler_set_setup(&e);
   create_pipeline_layout(&e);
   create_compute_pipeline(&e);
   create_fence(&e, FENCE);
   begin(&e, CMD);
   ts_cmd(&e, T(vkCmdBindPipeline), 0);
   ts_u64(&e, CMD);
   ts_u32(&e, VK_PIPELINE_BIND_POINT_COMPUTE);
   ts_u64(&e, PIPELINE);
   bind_sets(&e, 0, 0);
   ts_cmd(&e, T(vkCmdDispatch), 0);
   ts_u64(&e, CMD);
   ts_u32(&e, 1);
   ts_u32(&e, 1);
   ts_u32(&e, 1);
   end(&e, CMD);
   submit(&e, CMD, 0, 0, FENCE);
   wait_fence(&e, FENCE);
   queue_wait_idle(&e);
   expect(ctx, &e, false, "dispatch with a descriptor set never written");
}

/* VUID-vkCmdBindPipeline-pipelineBindPoint-00777/00778: lavapipe binds a
 * pipeline by its own kind, so a compute pipeline bound at GRAPHICS would
 * let the draws after it through with no graphics pipeline (its queue
 * thread reads through NULL). */
static void
bind_point_case(const char *why, const char *what, uint32_t point)
{
   const uint32_t ctx = setup();
   struct test_stream e = { 0 };
   sampler_set_setup(&e);
   create_pipeline_layout(&e);
   create_compute_pipeline(&e);
   begin(&e, CMD);
   ts_cmd(&e, T(vkCmdBindPipeline), 0);
   ts_u64(&e, CMD);
   ts_u32(&e, point);
   ts_u64(&e, PIPELINE);
   end(&e, CMD);
   expect_why(ctx, &e, why, what);
}

static void
test_bind_points(void)
{
   bind_point_case(NULL, "compute pipeline at COMPUTE", VK_PIPELINE_BIND_POINT_COMPUTE);
   bind_point_case("recording: vkCmdBindPipeline: pipeline of another kind than pipelineBindPoint "
                   "(bind point 0, pipeline 1460)",
                   "compute pipeline at GRAPHICS", VK_PIPELINE_BIND_POINT_GRAPHICS);
   /* a registry value the renderer does not offer: the firewall's rule */
   bind_point_case("pipelineBindPoint not GRAPHICS or COMPUTE", "ray tracing bind point",
                   VK_PIPELINE_BIND_POINT_RAY_TRACING_KHR);
   /* no registry value: the decoder's */
   bind_point_case("invalid VkPipelineBindPoint value in vkCmdBindPipeline.pipelineBindPoint",
                   "bind point 0x7fffffff", 0x7fffffff);
}

/* --- vkCmdExecuteCommands --- */

static void
execute(struct test_stream *e, uint64_t cmd, uint64_t secondary)
{
   ts_cmd(e, T(vkCmdExecuteCommands), 0);
   ts_u64(e, cmd);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, secondary);
}

/* Allocates command buffer `id` of `level` from POOL. */
static void
allocate_level(struct test_stream *e, uint64_t id, uint32_t level)
{
   ts_cmd(e, T(vkAllocateCommandBuffers), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
   ts_u64(e, 0);
   ts_u64(e, POOL);
   ts_u32(e, level);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, id);
}

/* Begins secondary `id` with inheritance info; `continues`: inside
 * `subpass` of RENDER_PASS (RENDER_PASS_CONTINUE). */
static void
begin_secondary(struct test_stream *e, uint64_t id, bool continues, uint32_t subpass)
{
   ts_cmd(e, T(vkBeginCommandBuffer), 0);
   ts_u64(e, id);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
   ts_u64(e, 0);
   ts_u32(e, continues ? VK_COMMAND_BUFFER_USAGE_RENDER_PASS_CONTINUE_BIT : 0);
   ts_u64(e, 1); /* VkCommandBufferInheritanceInfo */
   ts_u32(e, VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_INFO);
   ts_u64(e, 0);
   ts_u64(e, continues ? RENDER_PASS : 0);
   ts_u32(e, subpass);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 0);
}

/* VUID-vkCmdExecuteCommands-bufferlevel / -pCommandBuffers-00088: only a
 * primary executes, only secondaries are executed, so nothing executes
 * itself. lavapipe runs executed command buffers recursively in its queue
 * thread: a command buffer that executes itself, directly or through
 * another, never returns (the stack overflows). Levels are not recorded;
 * the rule refuses what only a cycle or nesting needs: a command buffer
 * executing itself, or one that executes others. */
static void
test_execute_commands(void)
{
   uint32_t ctx = setup();
   struct test_stream e = { 0 };
   create_fence(&e, FENCE);
   allocate_level(&e, SECONDARY, VK_COMMAND_BUFFER_LEVEL_SECONDARY);
   begin_secondary(&e, SECONDARY, false, 0);
   fill(&e, SECONDARY, BUFFER, 0, 256);
   end(&e, SECONDARY);
   begin(&e, CMD);
   execute(&e, CMD, SECONDARY);
   end(&e, CMD);
   submit(&e, CMD, 0, 0, FENCE);
   wait_fence(&e, FENCE);
   expect(ctx, &e, false, "a command buffer executing one that executes nothing");

   ctx = setup();
   e.len = 0;
   create_fence(&e, FENCE);
   begin(&e, CMD);
   execute(&e, CMD, CMD);
   end(&e, CMD);
   submit(&e, CMD, 0, 0, FENCE);
   wait_fence(&e, FENCE);
   expect_why(ctx, &e,
              "recording: vkCmdExecuteCommands: command buffer 710 executes itself (command "
              "buffer 0 of 1)",
              "a command buffer executing itself");

   ctx = setup();
   e.len = 0;
   create_fence(&e, FENCE);
   begin(&e, CMD2);
   execute(&e, CMD2, CMD);
   end(&e, CMD2);
   begin(&e, CMD);
   execute(&e, CMD, CMD2);
   end(&e, CMD);
   submit(&e, CMD, 0, 0, FENCE);
   wait_fence(&e, FENCE);
   expect_why(ctx, &e, "command buffer 710 is a primary command buffer",
              "two command buffers executing each other");
}

/* --- one submission call running a command buffer twice --- */

/* Begins `id` with `usage` flags; a secondary gets an inheritance info
 * outside any render pass. */
static void
begin_usage(struct test_stream *e, uint64_t id, bool secondary, uint32_t usage)
{
   ts_cmd(e, T(vkBeginCommandBuffer), 0);
   ts_u64(e, id);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
   ts_u64(e, 0);
   ts_u32(e, usage);
   ts_u64(e, secondary);
   if (secondary) {
      ts_u32(e, VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_INFO);
      ts_u64(e, 0);
      ts_u64(e, 0); /* render pass */
      ts_u32(e, 0);
      ts_u64(e, 0); /* framebuffer */
      ts_u32(e, 0);
      ts_u32(e, 0);
      ts_u32(e, 0);
   }
}

/* One vkQueueSubmit (vkQueueSubmit2 when `v2`) call of command buffers
 * `a` and `b` (0: `a` only), in one batch or in two, then a wait for
 * FENCE and its reset. */
static void
submit_pair(struct test_stream *e, bool v2, bool two_batches, uint64_t a, uint64_t b)
{
   const uint64_t cmds[2] = { a, b };
   const uint32_t batches = two_batches && b ? 2 : 1, per = b && !two_batches ? 2 : 1;
   ts_cmd(e, v2 ? T(vkQueueSubmit2) : T(vkQueueSubmit), 0);
   ts_u64(e, QUEUE);
   ts_u32(e, batches);
   ts_u64(e, batches);
   for (uint32_t i = 0; i < batches; i++) {
      ts_u32(e, v2 ? VK_STRUCTURE_TYPE_SUBMIT_INFO_2 : VK_STRUCTURE_TYPE_SUBMIT_INFO);
      ts_u64(e, 0);
      if (v2) {
         ts_u32(e, 0); /* flags */
         ts_u32(e, 0); /* no waits */
         ts_u64(e, 0);
         ts_u32(e, per);
         ts_u64(e, per);
         for (uint32_t j = 0; j < per; j++) {
            ts_u32(e, VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO);
            ts_u64(e, 0);
            ts_u64(e, cmds[i * per + j]);
            ts_u32(e, 0);
         }
         ts_u32(e, 0); /* no signals */
         ts_u64(e, 0);
      } else {
         ts_u32(e, 0); /* no waits, no stage masks */
         ts_u64(e, 0);
         ts_u64(e, 0);
         ts_u32(e, per);
         ts_u64(e, per);
         for (uint32_t j = 0; j < per; j++)
            ts_u64(e, cmds[i * per + j]);
         ts_u32(e, 0); /* no signals */
         ts_u64(e, 0);
      }
   }
   ts_u64(e, FENCE);
   wait_fence(e, FENCE);
   reset_fence(e, FENCE);
}

/* CMD and CMD2 recorded (a fill each; `usage` for both), SECONDARY with
 * `secondary_usage` when `executes`, executed once by each primary. */
static void
record_pair(struct test_stream *e, uint32_t usage, bool executes, uint32_t secondary_usage)
{
   create_fence(e, FENCE);
   if (executes) {
      allocate_level(e, SECONDARY, VK_COMMAND_BUFFER_LEVEL_SECONDARY);
      begin_usage(e, SECONDARY, true, secondary_usage);
      fill(e, SECONDARY, BUFFER, 0, 256);
      end(e, SECONDARY);
   }
   const uint64_t cmds[2] = { CMD, CMD2 };
   for (int i = 0; i < 2; i++) {
      begin_usage(e, cmds[i], false, usage);
      fill(e, cmds[i], BUFFER2, 0, 256);
      if (executes)
         execute(e, cmds[i], SECONDARY);
      end(e, cmds[i]);
   }
}

/* VUID-vkQueueSubmit-pCommandBuffers-00071/00073, VUID-vkQueueSubmit2-
 * commandBuffer-03875/03877, VUID-vkCmdExecuteCommands-pCommandBuffers-
 * 00092/00093: without SIMULTANEOUS_USE a command buffer, or a secondary it
 * executes, runs once per call (the first run is pending when the second
 * is submitted). By its source, lavapipe 22.3 runs the batches of a call
 * one after the other on its queue thread and keeps no per-run state in a
 * command buffer, so such a call would not harm it; drivers that patch a
 * command buffer when it is submitted would patch it under its own run. */
static void
test_submit_twice(void)
{
   static const struct {
      bool v2, two_batches;
      const char *why;
   } twice[] = {
      { false, false,
        "lifetime: vkQueueSubmit: command buffer 710, begun without SIMULTANEOUS_USE, "
        "submitted twice in the call (VUID-vkQueueSubmit-pCommandBuffers-00071)" },
      { false, true, "VUID-vkQueueSubmit-pCommandBuffers-00071" },
      { true, false, "VUID-vkQueueSubmit2-commandBuffer-03875" },
      { true, true,
        "lifetime: vkQueueSubmit2: command buffer 710, begun without SIMULTANEOUS_USE, "
        "submitted twice in the call (VUID-vkQueueSubmit2-commandBuffer-03875)" },
   };
   for (size_t i = 0; i < sizeof(twice) / sizeof(twice[0]); i++) {
      uint32_t ctx = setup();
      struct test_stream e = { 0 };
      record_pair(&e, 0, false, 0);
      submit_pair(&e, twice[i].v2, twice[i].two_batches, CMD, CMD2);
      submit_pair(&e, twice[i].v2, twice[i].two_batches, CMD2, CMD);
      expect(ctx, &e, false, "two command buffers in one call, twice");

      ctx = setup();
      e.len = 0;
      record_pair(&e, 0, false, 0);
      submit_pair(&e, twice[i].v2, twice[i].two_batches, CMD, CMD);
      expect_why(ctx, &e, twice[i].why, "a command buffer twice in one call");

      ctx = setup();
      e.len = 0;
      record_pair(&e, VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT, false, 0);
      submit_pair(&e, twice[i].v2, twice[i].two_batches, CMD, CMD);
      expect(ctx, &e, false, "a SIMULTANEOUS_USE command buffer twice in one call");
   }

   /* a secondary through two primaries of one call */
   uint32_t ctx = setup();
   struct test_stream e = { 0 };
   record_pair(&e, 0, true, 0);
   submit_pair(&e, false, false, CMD, CMD2);
   expect_why(ctx, &e,
              "lifetime: vkQueueSubmit: secondary command buffer 712, begun without "
              "SIMULTANEOUS_USE, runs twice in the call (the second time in command buffer 711) "
              "(VUID-vkQueueSubmit-pCommandBuffers-00073)",
              "a secondary executed by two primaries of one call");

   ctx = setup();
   e.len = 0;
   record_pair(&e, 0, true, 0);
   submit_pair(&e, true, true, CMD2, CMD);
   expect_why(ctx, &e,
              "(the second time in command buffer 710) (VUID-vkQueueSubmit2-commandBuffer-03877)",
              "a secondary executed by two primaries of one vkQueueSubmit2");

   ctx = setup();
   e.len = 0;
   record_pair(&e, 0, true, 0);
   submit_pair(&e, false, false, CMD, CMD);
   expect_why(ctx, &e, "VUID-vkQueueSubmit-pCommandBuffers-00071",
              "a primary executing a secondary twice in one call");

   ctx = setup();
   e.len = 0;
   record_pair(&e, 0, true, VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT);
   submit_pair(&e, false, false, CMD, CMD2);
   submit_pair(&e, true, true, CMD2, CMD);
   expect(ctx, &e, false, "a SIMULTANEOUS_USE secondary through two primaries of one call");

   ctx = setup();
   e.len = 0;
   record_pair(&e, 0, true, 0);
   submit_pair(&e, false, false, CMD, 0);
   submit_pair(&e, true, false, CMD2, 0);
   expect(ctx, &e, false, "a secondary through two primaries in two calls");

   /* across calls: the secondary's run through CMD waits on a timeline
    * value; CMD2 running it waits for that run (bounded: 300 ms here) */
   ctx = setup();
   e.len = 0;
   create_timeline(&e, SEMAPHORE);
   record_pair(&e, 0, true, 0);
   submit(&e, CMD, SEMAPHORE, 1, 0);
   signal_semaphore(&e, SEMAPHORE, 1);
   submit_pair(&e, false, false, CMD2, 0);
   queue_wait_idle(&e);
   expect(ctx, &e, false, "a secondary through CMD2 after its run through CMD finished");

   ctx = setup();
   e.len = 0;
   create_timeline(&e, SEMAPHORE);
   record_pair(&e, 0, true, VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT);
   submit(&e, CMD, SEMAPHORE, 1, 0);
   submit(&e, CMD2, 0, 0, 0);
   signal_semaphore(&e, SEMAPHORE, 1);
   queue_wait_idle(&e);
   expect(ctx, &e, false,
          "a SIMULTANEOUS_USE secondary through CMD2 while its run through CMD waits");

   CHECK(pv_renderer_set_teardown_timeout(renderer, 300) == 0);
   ctx = setup();
   e.len = 0;
   create_timeline(&e, SEMAPHORE);
   record_pair(&e, 0, true, 0);
   submit(&e, CMD, SEMAPHORE, 1, 0);
   submit(&e, CMD2, 0, 0, 0);
   expect_why(ctx, &e, "lifetime: vkQueueSubmit of command buffer 711 waited for pending work",
              "a secondary through CMD2 while its run through CMD waits for ever");
   CHECK(pv_renderer_set_teardown_timeout(renderer, 5000) == 0);

   /* twice in one recording: one vkCmdExecuteCommands of two, or two */
   for (int two_commands = 0; two_commands < 2; two_commands++) {
      ctx = setup();
      e.len = 0;
      allocate_level(&e, SECONDARY, VK_COMMAND_BUFFER_LEVEL_SECONDARY);
      begin_usage(&e, SECONDARY, true, 0);
      fill(&e, SECONDARY, BUFFER, 0, 256);
      end(&e, SECONDARY);
      begin(&e, CMD);
      if (two_commands) {
         execute(&e, CMD, SECONDARY);
         execute(&e, CMD, SECONDARY);
      } else {
         ts_cmd(&e, T(vkCmdExecuteCommands), 0);
         ts_u64(&e, CMD);
         ts_u32(&e, 2);
         ts_u64(&e, 2);
         ts_u64(&e, SECONDARY);
         ts_u64(&e, SECONDARY);
      }
      expect_why(ctx, &e,
                 "lifetime: vkCmdExecuteCommands: secondary command buffer 712, begun without "
                 "SIMULTANEOUS_USE, executed twice by command buffer 710 "
                 "(VUID-vkCmdExecuteCommands-pCommandBuffers-00092/00093)",
                 "a secondary executed twice by one primary");
   }

   /* two primaries recorded at once, executing it in turn: the second
    * execution into CMD is not seen at recording, but at submission */
   ctx = setup();
   e.len = 0;
   create_fence(&e, FENCE);
   allocate_level(&e, SECONDARY, VK_COMMAND_BUFFER_LEVEL_SECONDARY);
   begin_usage(&e, SECONDARY, true, 0);
   fill(&e, SECONDARY, BUFFER, 0, 256);
   end(&e, SECONDARY);
   begin(&e, CMD);
   begin(&e, CMD2);
   execute(&e, CMD, SECONDARY);
   execute(&e, CMD2, SECONDARY);
   execute(&e, CMD, SECONDARY);
   end(&e, CMD);
   end(&e, CMD2);
   submit_pair(&e, false, false, CMD, 0);
   expect_why(ctx, &e,
              "(the second time in command buffer 710) (VUID-vkQueueSubmit-pCommandBuffers-00073)",
              "a secondary executed twice by one primary, recordings interleaved");
}

/* A descriptor pool reset while a submission is pending does not wait: the
 * guest's pool becomes a fresh host pool, the old one (with the sets the
 * work may read) goes once the work is done. With a wait this stream would
 * block for good: the work waits on a value signalled later in it. */
static void
test_pool_reset_pending(void)
{
   const uint32_t ctx = setup();
   struct test_stream e = { 0 };
   descriptor_setup(&e);
   write_buffers(&e, 0, 0, 1, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 0, 64);
   create_timeline(&e, SEMAPHORE);
   begin(&e, CMD);
   fill(&e, CMD, BUFFER, 0, 256);
   end(&e, CMD);
   submit(&e, CMD, SEMAPHORE, 1, 0);
   ts_cmd(&e, T(vkResetDescriptorPool), 0);
   ts_u64(&e, DEVICE);
   ts_u64(&e, DESC_POOL);
   ts_u32(&e, 0);
   /* the same ids again, from the fresh pool */
   ts_cmd(&e, T(vkAllocateDescriptorSets), 0);
   ts_u64(&e, DEVICE);
   ts_u64(&e, 1);
   ts_u32(&e, VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
   ts_u64(&e, 0);
   ts_u64(&e, DESC_POOL);
   ts_u32(&e, 1);
   ts_u64(&e, 1);
   ts_u64(&e, SET_LAYOUT);
   ts_u64(&e, 1);
   ts_u64(&e, SET);
   write_buffers(&e, 0, 0, 3, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 0, 64);
   signal_semaphore(&e, SEMAPHORE, 1);
   queue_wait_idle(&e);
   destroy(&e, T(vkDestroyDescriptorPool), DESC_POOL);
   expect(ctx, &e, false, "descriptor pool reset while work is pending");
}

/* --- ranges --- */

static void
range_case(const char *why, const char *what, void (*record)(struct test_stream *e))
{
   const uint32_t ctx = setup();
   struct test_stream e = { 0 };
   record(&e);
   expect_why(ctx, &e, why, what);
}

static void
copy_ok(struct test_stream *e)
{
   begin(e, CMD);
   copy_buffer(e, CMD, 0, BUFFER_SIZE - 16, 16);
   fill(e, CMD, BUFFER, 64, VK_WHOLE_SIZE);
   end(e, CMD);
}

static void
copy_past_src(struct test_stream *e)
{
   begin(e, CMD);
   copy_buffer(e, CMD, BUFFER_SIZE - 8, 0, 16);
}

static void
copy_past_dst(struct test_stream *e)
{
   begin(e, CMD);
   copy_buffer(e, CMD, 0, UINT64_MAX - 4, 16); /* wraps around */
}

static void
fill_past(struct test_stream *e)
{
   begin(e, CMD);
   fill(e, CMD, BUFFER, BUFFER_SIZE - 4, 8);
}

static void
update_past(struct test_stream *e)
{
   begin(e, CMD);
   ts_cmd(e, T(vkCmdUpdateBuffer), 0);
   ts_u64(e, CMD);
   ts_u64(e, BUFFER);
   ts_u64(e, BUFFER_SIZE - 8);
   ts_u64(e, 16);
   ts_u64(e, 16);
   ts_bytes(e, "0123456789abcdef", 16);
}

static void
bind_past(struct test_stream *e)
{
   create_buffer(e, 602, BUFFER_SIZE);
   bind_buffer(e, 602, MEMORY, MEMORY_SIZE - BUFFER_SIZE / 2);
}

static void
bind_small_memory(struct test_stream *e)
{
   allocate_memory(e, MEMORY2, 1024);
   create_buffer(e, 602, BUFFER_SIZE);
   bind_buffer(e, 602, MEMORY2, 0);
}

static void
buffer_view(struct test_stream *e, uint64_t offset, uint64_t range)
{
   ts_cmd(e, T(vkCreateBufferView), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, BUFFER);
   ts_u32(e, VK_FORMAT_R32_UINT);
   ts_u64(e, offset);
   ts_u64(e, range);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, VIEW);
}

static void
buffer_view_ok(struct test_stream *e)
{
   buffer_view(e, 0, 256);
   destroy(e, T(vkDestroyBufferView), VIEW);
}

static void
buffer_view_past(struct test_stream *e)
{
   buffer_view(e, 256, BUFFER_SIZE);
}

static void
image_setup(struct test_stream *e)
{
   allocate_memory(e, MEMORY2, MEMORY_SIZE);
   create_image(e, IMAGE, 2, 2);
   bind_image(e, IMAGE, MEMORY2, 0);
}

static void
image_view_format(struct test_stream *e, uint32_t base_mip, uint32_t mips, uint32_t base_layer,
                  uint32_t layers, VkFormat format)
{
   ts_cmd(e, T(vkCreateImageView), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, IMAGE);
   ts_u32(e, VK_IMAGE_VIEW_TYPE_2D_ARRAY);
   ts_u32(e, format);
   for (int i = 0; i < 4; i++)
      ts_u32(e, VK_COMPONENT_SWIZZLE_IDENTITY);
   ts_u32(e, VK_IMAGE_ASPECT_COLOR_BIT);
   ts_u32(e, base_mip);
   ts_u32(e, mips);
   ts_u32(e, base_layer);
   ts_u32(e, layers);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, VIEW);
}

static void
image_view(struct test_stream *e, uint32_t base_mip, uint32_t mips, uint32_t base_layer,
           uint32_t layers)
{
   image_view_format(e, base_mip, mips, base_layer, layers, VK_FORMAT_R8G8B8A8_UNORM);
}

static void
image_barrier(struct test_stream *e, uint32_t base_mip, uint32_t mips, uint32_t base_layer,
              uint32_t layers)
{
   ts_cmd(e, T(vkCmdPipelineBarrier), 0);
   ts_u64(e, CMD);
   ts_u32(e, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT);
   ts_u32(e, VK_PIPELINE_STAGE_TRANSFER_BIT);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, VK_ACCESS_TRANSFER_WRITE_BIT);
   ts_u32(e, VK_IMAGE_LAYOUT_UNDEFINED);
   ts_u32(e, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
   ts_u32(e, VK_QUEUE_FAMILY_IGNORED);
   ts_u32(e, VK_QUEUE_FAMILY_IGNORED);
   ts_u64(e, IMAGE);
   ts_u32(e, VK_IMAGE_ASPECT_COLOR_BIT);
   ts_u32(e, base_mip);
   ts_u32(e, mips);
   ts_u32(e, base_layer);
   ts_u32(e, layers);
}

/* vkCmdCopyBufferToImage of BUFFER into IMAGE's `mip`, `layer`: w x h at (x, y) */
static void
copy_to_image_from(struct test_stream *e, uint64_t buffer, uint64_t buffer_offset, uint32_t mip,
                   uint32_t layer, int32_t x, int32_t y, uint32_t w, uint32_t h)
{
   ts_cmd(e, T(vkCmdCopyBufferToImage), 0);
   ts_u64(e, CMD);
   ts_u64(e, buffer);
   ts_u64(e, IMAGE);
   ts_u32(e, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, buffer_offset);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u32(e, VK_IMAGE_ASPECT_COLOR_BIT);
   ts_u32(e, mip);
   ts_u32(e, layer);
   ts_u32(e, 1);
   ts_u32(e, (uint32_t)x);
   ts_u32(e, (uint32_t)y);
   ts_u32(e, 0);
   ts_u32(e, w);
   ts_u32(e, h);
   ts_u32(e, 1);
}

static void
copy_to_image(struct test_stream *e, uint64_t buffer_offset, uint32_t mip, uint32_t layer,
              int32_t x, int32_t y, uint32_t w, uint32_t h)
{
   copy_to_image_from(e, BUFFER, buffer_offset, mip, layer, x, y, w, h);
}

static void
image_ok(struct test_stream *e)
{
   image_setup(e);
   image_view(e, 1, 1, 0, VK_REMAINING_ARRAY_LAYERS);
   destroy(e, T(vkDestroyImageView), VIEW);
   begin(e, CMD);
   image_barrier(e, 0, VK_REMAINING_MIP_LEVELS, 0, 2);
   copy_to_image(e, 0, 0, 1, 0, 0, 16, 16);              /* 1024 bytes */
   copy_to_image(e, BUFFER_SIZE - 64, 1, 0, 4, 4, 4, 4); /* level 1 is 8x8 */
   end(e, CMD);
   submit(e, CMD, 0, 0, 0);
   queue_wait_idle(e);
}

static void
view_mip_past(struct test_stream *e)
{
   image_setup(e);
   image_view(e, 2, 1, 0, 1);
}

static void
view_layers_past(struct test_stream *e)
{
   image_setup(e);
   image_view(e, 0, 1, 1, 2);
}

static void
barrier_layers_past(struct test_stream *e)
{
   image_setup(e);
   begin(e, CMD);
   image_barrier(e, 0, 1, 0, 3);
}

static void
barrier_mips_past(struct test_stream *e)
{
   image_setup(e);
   begin(e, CMD);
   image_barrier(e, 1, 2, 0, 1);
}

static void
copy_image_region_past(struct test_stream *e)
{
   image_setup(e);
   begin(e, CMD);
   copy_to_image(e, 0, 1, 0, 4, 4, 8, 8); /* level 1 is 8x8: 4 + 8 > 8 */
}

static void
copy_image_buffer_past(struct test_stream *e)
{
   image_setup(e);
   begin(e, CMD);
   copy_to_image(e, BUFFER_SIZE - 1024 + 4, 0, 0, 0, 0, 16, 16);
}

static void
copy_image_layer_past(struct test_stream *e)
{
   image_setup(e);
   begin(e, CMD);
   copy_to_image(e, 0, 0, 2, 0, 0, 4, 4);
}

static void
image_bind_past(struct test_stream *e)
{
   allocate_memory(e, MEMORY2, 1024);
   create_image(e, IMAGE, 2, 2);
   bind_image(e, IMAGE, MEMORY2, 0);
}

static void
index_buffer_past(struct test_stream *e)
{
   begin(e, CMD);
   ts_cmd(e, T(vkCmdBindIndexBuffer), 0);
   ts_u64(e, CMD);
   ts_u64(e, BUFFER);
   ts_u64(e, BUFFER_SIZE);
   ts_u32(e, VK_INDEX_TYPE_UINT16);
}

static void
dispatch_indirect(struct test_stream *e, uint64_t offset)
{
   begin(e, CMD);
   ts_cmd(e, T(vkCmdDispatchIndirect), 0);
   ts_u64(e, CMD);
   ts_u64(e, BUFFER);
   ts_u64(e, offset);
}

static void
dispatch_indirect_ok(struct test_stream *e)
{
   dispatch_indirect(e, BUFFER_SIZE - 12);
}

static void
dispatch_indirect_past(struct test_stream *e)
{
   dispatch_indirect(e, BUFFER_SIZE - 8);
}

static void
draw_indirect_past(struct test_stream *e)
{
   begin(e, CMD);
   ts_cmd(e, T(vkCmdDrawIndirect), 0);
   ts_u64(e, CMD);
   ts_u64(e, BUFFER);
   ts_u64(e, 0);
   ts_u32(e, 2);
   ts_u32(e, BUFFER_SIZE); /* the second record starts at the end */
}

/* IMAGE and IMAGE2 (16x16, 2 levels, 2 layers) for image-to-image copies */
static void
two_images(struct test_stream *e)
{
   image_setup(e);
   create_image(e, IMAGE2, 2, 2);
   bind_image(e, IMAGE2, MEMORY2, 32768);
   begin(e, CMD);
}

static void
subresource(struct test_stream *e, uint32_t mip, uint32_t layer)
{
   ts_u32(e, VK_IMAGE_ASPECT_COLOR_BIT);
   ts_u32(e, mip);
   ts_u32(e, layer);
   ts_u32(e, 1);
}

static void
offset3d(struct test_stream *e, int32_t x, int32_t y, int32_t z)
{
   ts_u32(e, (uint32_t)x);
   ts_u32(e, (uint32_t)y);
   ts_u32(e, (uint32_t)z);
}

/* vkCmdCopyImage IMAGE -> IMAGE2, level 1 (8x8), w x w at (x, x) */
static void
copy_image(struct test_stream *e, int32_t x, uint32_t w)
{
   two_images(e);
   ts_cmd(e, T(vkCmdCopyImage), 0);
   ts_u64(e, CMD);
   ts_u64(e, IMAGE);
   ts_u32(e, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
   ts_u64(e, IMAGE2);
   ts_u32(e, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
   ts_u32(e, 1);
   ts_u64(e, 1);
   subresource(e, 1, 0);
   offset3d(e, x, x, 0);
   subresource(e, 1, 1);
   offset3d(e, 0, 0, 0);
   ts_u32(e, w);
   ts_u32(e, w);
   ts_u32(e, 1);
   end(e, CMD);
}

static void
copy_image_ok(struct test_stream *e)
{
   copy_image(e, 4, 4);
}

static void
copy_image_past(struct test_stream *e)
{
   copy_image(e, 4, 8);
}

/* vkCmdBlitImage IMAGE level 0 -> IMAGE2 level 1, destination corner `x` */
static void
blit_cmd(struct test_stream *e, int32_t x)
{
   ts_cmd(e, T(vkCmdBlitImage), 0);
   ts_u64(e, CMD);
   ts_u64(e, IMAGE);
   ts_u32(e, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
   ts_u64(e, IMAGE2);
   ts_u32(e, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
   ts_u32(e, 1);
   ts_u64(e, 1);
   subresource(e, 0, 0);
   ts_u64(e, 2);
   offset3d(e, 0, 0, 0);
   offset3d(e, 16, 16, 1);
   subresource(e, 1, 0);
   ts_u64(e, 2);
   offset3d(e, 0, 0, 0);
   offset3d(e, x, x, 1);
   ts_u32(e, VK_FILTER_NEAREST);
   end(e, CMD);
}

static void
blit(struct test_stream *e, int32_t x)
{
   two_images(e);
   blit_cmd(e, x);
}

static void
blit_ok(struct test_stream *e)
{
   blit(e, 8);
}

static void
blit_past(struct test_stream *e)
{
   blit(e, 9);
}

static void
copy_to_buffer_past(struct test_stream *e)
{
   image_setup(e);
   begin(e, CMD);
   ts_cmd(e, T(vkCmdCopyImageToBuffer), 0);
   ts_u64(e, CMD);
   ts_u64(e, IMAGE);
   ts_u32(e, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
   ts_u64(e, BUFFER);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, 0);
   ts_u32(e, 64); /* bufferRowLength: 64 texels a row */
   ts_u32(e, 0);
   subresource(e, 0, 0);
   offset3d(e, 0, 0, 0);
   ts_u32(e, 16);
   ts_u32(e, 16); /* 15 rows of 256 bytes + 64: 3904 <= 4096 */
   ts_u32(e, 1);
   ts_cmd(e, T(vkCmdCopyImageToBuffer), 0);
   ts_u64(e, CMD);
   ts_u64(e, IMAGE);
   ts_u32(e, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
   ts_u64(e, BUFFER);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, 256); /* the same from 256: 4160 > 4096 */
   ts_u32(e, 64);
   ts_u32(e, 0);
   subresource(e, 0, 0);
   offset3d(e, 0, 0, 0);
   ts_u32(e, 16);
   ts_u32(e, 16);
   ts_u32(e, 1);
}

/* a 16x16 A4R4G4B4 image (2 bytes a texel, a format outside the core
 * table) and a copy of all of it from BUFFER at `offset` */
static void
copy_4444_from(struct test_stream *e, uint64_t offset)
{
   allocate_memory(e, MEMORY2, MEMORY_SIZE);
   create_image_format(e, IMAGE, 1, 1, 0, VK_FORMAT_A4R4G4B4_UNORM_PACK16);
   bind_image(e, IMAGE, MEMORY2, 0);
   begin(e, CMD);
   ts_cmd(e, T(vkCmdCopyBufferToImage), 0);
   ts_u64(e, CMD);
   ts_u64(e, BUFFER);
   ts_u64(e, IMAGE);
   ts_u32(e, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, offset);
   ts_u32(e, 0);
   ts_u32(e, 0);
   subresource(e, 0, 0);
   offset3d(e, 0, 0, 0);
   ts_u32(e, 16);
   ts_u32(e, 16);
   ts_u32(e, 1);
}

static void
copy_4444_ok(struct test_stream *e)
{
   copy_4444_from(e, BUFFER_SIZE - 512); /* 16x16x2 bytes: the buffer's last 512 */
}

static void
copy_4444_past(struct test_stream *e)
{
   copy_4444_from(e, BUFFER_SIZE - 510);
}

/* the block table of buffer-image copies, formats of extensions included */
static void
test_copy_blocks(void)
{
   static const struct {
      VkFormat format;
      VkImageAspectFlags aspect;
      bool known;
      uint32_t bytes, w, h;
   } cases[] = {
      { VK_FORMAT_R8G8B8A8_UNORM, VK_IMAGE_ASPECT_COLOR_BIT, true, 4, 1, 1 },
      { VK_FORMAT_BC1_RGB_UNORM_BLOCK, VK_IMAGE_ASPECT_COLOR_BIT, true, 8, 4, 4 },
      { VK_FORMAT_D24_UNORM_S8_UINT, VK_IMAGE_ASPECT_STENCIL_BIT, true, 1, 1, 1 },
      { VK_FORMAT_A4R4G4B4_UNORM_PACK16, VK_IMAGE_ASPECT_COLOR_BIT, true, 2, 1, 1 },
      { VK_FORMAT_ASTC_10x8_SFLOAT_BLOCK, VK_IMAGE_ASPECT_COLOR_BIT, true, 16, 10, 8 },
      { VK_FORMAT_G8B8G8R8_422_UNORM, VK_IMAGE_ASPECT_COLOR_BIT, true, 4, 2, 1 },
      { VK_FORMAT_G8_B8R8_2PLANE_420_UNORM, VK_IMAGE_ASPECT_PLANE_0_BIT, true, 1, 1, 1 },
      { VK_FORMAT_G8_B8R8_2PLANE_420_UNORM, VK_IMAGE_ASPECT_PLANE_1_BIT, true, 2, 1, 1 },
      { VK_FORMAT_G8_B8R8_2PLANE_420_UNORM, VK_IMAGE_ASPECT_PLANE_2_BIT, false, 0, 0, 0 },
      { VK_FORMAT_G8_B8R8_2PLANE_420_UNORM, VK_IMAGE_ASPECT_COLOR_BIT, false, 0, 0, 0 },
      { VK_FORMAT_G16_B16_R16_3PLANE_444_UNORM, VK_IMAGE_ASPECT_PLANE_2_BIT, true, 2, 1, 1 },
      { VK_FORMAT_G10X6_B10X6R10X6_2PLANE_420_UNORM_3PACK16, VK_IMAGE_ASPECT_PLANE_1_BIT, true, 4,
        1, 1 },
      { VK_FORMAT_B12X4G12X4R12X4G12X4_422_UNORM_4PACK16, VK_IMAGE_ASPECT_COLOR_BIT, true, 8, 2,
        1 },
      { VK_FORMAT_G8_B8R8_2PLANE_444_UNORM, VK_IMAGE_ASPECT_PLANE_1_BIT, true, 2, 1, 1 },
      { VK_FORMAT_G16_B16R16_2PLANE_444_UNORM, VK_IMAGE_ASPECT_PLANE_1_BIT, true, 4, 1, 1 },
      { VK_FORMAT_PVRTC1_2BPP_UNORM_BLOCK_IMG, VK_IMAGE_ASPECT_COLOR_BIT, false, 0, 0, 0 },
   };
   for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
      uint32_t bytes = 0, w = 0, h = 0;
      const bool known = pvk_copy_block(cases[i].format, cases[i].aspect, &bytes, &w, &h);
      if (known != cases[i].known ||
          (known && (bytes != cases[i].bytes || w != cases[i].w || h != cases[i].h))) {
         fprintf(stderr, "FAIL: copy block of format %d aspect 0x%x: %s %u bytes %ux%u\n",
                 (int)cases[i].format, cases[i].aspect, known ? "known" : "unknown", bytes, w, h);
         exit(1);
      }
   }
   range_case(NULL, "an A4R4G4B4 image copied from the buffer's end", copy_4444_ok);
   range_case("vkCmdCopyBufferToImage region 0: buffer range of the copy beyond the buffer",
              "an A4R4G4B4 image copied from 2 bytes short of the buffer", copy_4444_past);
}

static void
buffer_barrier_past(struct test_stream *e)
{
   begin(e, CMD);
   ts_cmd(e, T(vkCmdPipelineBarrier), 0);
   ts_u64(e, CMD);
   ts_u32(e, VK_PIPELINE_STAGE_TRANSFER_BIT);
   ts_u32(e, VK_PIPELINE_STAGE_TRANSFER_BIT);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER);
   ts_u64(e, 0);
   ts_u32(e, VK_ACCESS_TRANSFER_WRITE_BIT);
   ts_u32(e, VK_ACCESS_TRANSFER_READ_BIT);
   ts_u32(e, VK_QUEUE_FAMILY_IGNORED);
   ts_u32(e, VK_QUEUE_FAMILY_IGNORED);
   ts_u64(e, BUFFER);
   ts_u64(e, 1024);
   ts_u64(e, BUFFER_SIZE);
   ts_u32(e, 0);
   ts_u64(e, 0);
}

static void
vertex_buffer_past(struct test_stream *e)
{
   begin(e, CMD);
   ts_cmd(e, T(vkCmdBindVertexBuffers), 0);
   ts_u64(e, CMD);
   ts_u32(e, 0);
   ts_u32(e, 2);
   ts_u64(e, 2);
   ts_u64(e, BUFFER);
   ts_u64(e, BUFFER2);
   ts_u64(e, 2);
   ts_u64(e, 0);
   ts_u64(e, BUFFER_SIZE);
}

/* vkCmdBindVertexBuffers2: BUFFER from `offset`, `size` bytes */
static void
vertex_buffers2(struct test_stream *e, uint64_t offset, uint64_t size)
{
   begin(e, CMD);
   ts_cmd(e, T(vkCmdBindVertexBuffers2), 0);
   ts_u64(e, CMD);
   ts_u32(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, BUFFER);
   ts_u64(e, 1);
   ts_u64(e, offset);
   ts_u64(e, 1);
   ts_u64(e, size);
   ts_u64(e, 0);
   end(e, CMD);
}

static void
vertex_buffers2_ok(struct test_stream *e)
{
   vertex_buffers2(e, 1024, BUFFER_SIZE - 1024);
}

static void
vertex_buffers2_past(struct test_stream *e)
{
   vertex_buffers2(e, 1024, BUFFER_SIZE);
}

static void
indirect_count_past(struct test_stream *e)
{
   begin(e, CMD);
   ts_cmd(e, T(vkCmdDrawIndexedIndirectCount), 0);
   ts_u64(e, CMD);
   ts_u64(e, BUFFER);
   ts_u64(e, 0);
   ts_u64(e, BUFFER2);
   ts_u64(e, BUFFER_SIZE);
   ts_u32(e, 1000); /* more than fit: valid, the count decides */
   ts_u32(e, 20);
}

static void
test_ranges(void)
{
   range_case(NULL, "buffer copy and fill inside", copy_ok);
   range_case("vkCmdCopyBuffer region 0: range beyond the buffer", "buffer copy past the source",
              copy_past_src);
   range_case("vkCmdCopyBuffer region 0: range beyond the buffer",
              "buffer copy past the destination (wrapping)", copy_past_dst);
   range_case("vkCmdFillBuffer region 0: range beyond", "fill past the buffer", fill_past);
   range_case("vkCmdUpdateBuffer region 0: range beyond", "update past the buffer", update_past);
   range_case("vkBindBufferMemory bind 0: offset + required size beyond the allocation (object "
              "602, memory 500)",
              "bind past the allocation", bind_past);
   range_case("vkBindBufferMemory bind 0: offset + required size beyond the allocation (object "
              "602, memory 501)",
              "bind into too small an allocation", bind_small_memory);
   range_case(NULL, "buffer view inside", buffer_view_ok);
   range_case("vkCreateBufferView region 0: range beyond the buffer", "buffer view past the buffer",
              buffer_view_past);
   range_case(NULL, "image views, barriers and copies inside", image_ok);
   range_case("vkCreateImageView region 0: mip levels beyond", "image view mip past the image",
              view_mip_past);
   range_case("vkCreateImageView region 0: array layers beyond", "image view layers past the image",
              view_layers_past);
   range_case("vkCmdPipelineBarrier region 0: array layers beyond", "barrier layers past the image",
              barrier_layers_past);
   range_case("vkCmdPipelineBarrier region 0: mip levels beyond", "barrier mips past the image",
              barrier_mips_past);
   range_case("region beyond the mip level's extent", "buffer-to-image region past the level",
              copy_image_region_past);
   range_case("buffer range of the copy beyond the buffer",
              "buffer-to-image reading past the buffer", copy_image_buffer_past);
   range_case("vkCmdCopyBufferToImage region 0: array layers beyond",
              "buffer-to-image layer past the image", copy_image_layer_past);
   range_case("vkBindImageMemory bind 0: offset + required size",
              "image bind into too small an allocation", image_bind_past);
   range_case("vkCmdBindIndexBuffer region 0: offset beyond", "index buffer offset past the buffer",
              index_buffer_past);
   /* inside the buffer, refused only for the missing pipeline */
   range_case("recording: vkCmdDispatchIndirect with no compute pipeline bound",
              "indirect dispatch inside, no pipeline", dispatch_indirect_ok);
   range_case("vkCmdDispatchIndirect region 0: indirect records beyond",
              "indirect dispatch past the buffer", dispatch_indirect_past);
   range_case("vkCmdDrawIndirect region 0: indirect records beyond",
              "indirect draws past the buffer", draw_indirect_past);
   range_case(NULL, "image-to-image copy inside", copy_image_ok);
   range_case("vkCmdCopyImage region 0: region beyond the mip level's extent",
              "image-to-image copy past the level", copy_image_past);
   range_case(NULL, "blit inside", blit_ok);
   range_case("vkCmdBlitImage region 0: blit corner beyond", "blit corner past the level",
              blit_past);
   range_case("vkCmdCopyImageToBuffer region 0: buffer range of the copy beyond",
              "image-to-buffer writing past the buffer (row length)", copy_to_buffer_past);
   range_case("vkCmdPipelineBarrier region 0: range beyond the buffer",
              "buffer barrier past the buffer", buffer_barrier_past);
   range_case("vkCmdBindVertexBuffers region 1: offset beyond",
              "vertex buffer offset past the buffer", vertex_buffer_past);
   range_case(NULL, "vertex buffer with a size inside", vertex_buffers2_ok);
   range_case("vkCmdBindVertexBuffers2 region 0: range beyond the buffer",
              "vertex buffer with a size past the buffer", vertex_buffers2_past);
   range_case("vkCmdDrawIndexedIndirectCount region 0: range beyond the buffer (source 601",
              "indirect count word past the count buffer", indirect_count_past);
}

/* --- index types, objects with no memory bound, sparse flags --- */

static void
bind_index(struct test_stream *e, uint64_t buffer, uint32_t type)
{
   ts_cmd(e, T(vkCmdBindIndexBuffer), 0);
   ts_u64(e, CMD);
   ts_u64(e, buffer);
   ts_u64(e, 0);
   ts_u32(e, type);
}

static void
index_types_ok(struct test_stream *e)
{
   begin(e, CMD);
   bind_index(e, BUFFER, VK_INDEX_TYPE_UINT16);
   bind_index(e, BUFFER, VK_INDEX_TYPE_UINT32);
   end(e, CMD);
}

static void
index_type_invalid(struct test_stream *e)
{
   begin(e, CMD);
   bind_index(e, BUFFER, 0xffffffffu); /* lavapipe divided by its index size */
}

static void
index_type_uint8(struct test_stream *e)
{
   begin(e, CMD);
   bind_index(e, BUFFER, VK_INDEX_TYPE_UINT8); /* the device did not enable indexTypeUint8 */
}

static void
index_type_none(struct test_stream *e)
{
   begin(e, CMD);
   bind_index(e, BUFFER, VK_INDEX_TYPE_NONE_KHR);
}

#define UNBOUND 602

/* IMAGE bound, buffer UNBOUND created but never bound */
static void
unbound_buffer_to_image(struct test_stream *e)
{
   image_setup(e);
   create_buffer(e, UNBOUND, BUFFER_SIZE);
   begin(e, CMD);
   copy_to_image_from(e, UNBOUND, 0, 0, 0, 0, 0, 4, 4);
}

static void
unbound_image_blit(struct test_stream *e)
{
   image_setup(e);
   create_image(e, IMAGE2, 2, 2); /* not bound */
   begin(e, CMD);
   blit_cmd(e, 8);
}

static void
unbound_indirect(struct test_stream *e)
{
   create_buffer(e, UNBOUND, BUFFER_SIZE);
   begin(e, CMD);
   ts_cmd(e, T(vkCmdDispatchIndirect), 0);
   ts_u64(e, CMD);
   ts_u64(e, UNBOUND);
   ts_u64(e, 0);
}

/* vkCmdClearColorImage of IMAGE, mip levels [base, base + count) */
static void
clear_color(struct test_stream *e, uint32_t base, uint32_t count)
{
   ts_cmd(e, T(vkCmdClearColorImage), 0);
   ts_u64(e, CMD);
   ts_u64(e, IMAGE);
   ts_u32(e, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
   ts_u64(e, 1);
   ts_u32(e, 0); /* float32 */
   ts_u64(e, 4);
   for (int i = 0; i < 4; i++)
      ts_f32(e, 0.5f);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_IMAGE_ASPECT_COLOR_BIT);
   ts_u32(e, base);
   ts_u32(e, count);
   ts_u32(e, 0);
   ts_u32(e, VK_REMAINING_ARRAY_LAYERS);
}

static void
clear_ok(struct test_stream *e)
{
   image_setup(e);
   begin(e, CMD);
   image_barrier(e, 0, VK_REMAINING_MIP_LEVELS, 0, 2);
   clear_color(e, 0, VK_REMAINING_MIP_LEVELS);
   end(e, CMD);
   submit(e, CMD, 0, 0, 0);
   queue_wait_idle(e);
}

static void
clear_mips_past(struct test_stream *e)
{
   image_setup(e);
   begin(e, CMD);
   clear_color(e, 1, 2);
}

static void
clear_unbound(struct test_stream *e)
{
   create_image(e, IMAGE, 2, 2); /* not bound */
   begin(e, CMD);
   clear_color(e, 0, 1);
}

static void
sparse_buffer(struct test_stream *e)
{
   ts_cmd(e, T(vkCreateBuffer), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, VK_BUFFER_CREATE_SPARSE_BINDING_BIT); /* the device did not enable sparseBinding */
   ts_u64(e, BUFFER_SIZE);
   ts_u32(e, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
   ts_u32(e, VK_SHARING_MODE_EXCLUSIVE);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, UNBOUND);
}

/* UNBOUND bound to MEMORY2, which is then freed; BUFFER (on MEMORY) is
 * still bound */
static void
memory_freed(struct test_stream *e)
{
   allocate_memory(e, MEMORY2, MEMORY_SIZE);
   create_buffer(e, UNBOUND, BUFFER_SIZE);
   bind_buffer(e, UNBOUND, MEMORY2, 0);
   destroy(e, T(vkFreeMemory), MEMORY2);
   begin(e, CMD);
   fill(e, CMD, BUFFER, 0, 64);
}

static void
memory_freed_ok(struct test_stream *e)
{
   memory_freed(e);
   end(e, CMD);
   destroy(e, T(vkDestroyBuffer), UNBOUND);
}

static void
memory_freed_use(struct test_stream *e)
{
   memory_freed(e);
   fill(e, CMD, UNBOUND, 0, 64);
}

/* vkCmdSetViewport of `count` viewports from `first` */
static void
set_viewport(struct test_stream *e, uint32_t first, uint32_t count)
{
   begin(e, CMD);
   ts_cmd(e, T(vkCmdSetViewport), 0);
   ts_u64(e, CMD);
   ts_u32(e, first);
   ts_u32(e, count);
   ts_u64(e, count);
   for (uint32_t i = 0; i < count; i++) {
      const float vp[6] = { 0, 0, 16, 16, 0, 1 };
      for (int k = 0; k < 6; k++)
         ts_f32(e, vp[k]);
   }
}

static void
viewport_ok(struct test_stream *e)
{
   set_viewport(e, 0, 1);
   end(e, CMD);
}

static void
viewport_past(struct test_stream *e)
{
   set_viewport(e, 0x80000000u, 1); /* lavapipe indexed its viewport array with it */
}

static void
vertex_binding_past(struct test_stream *e)
{
   begin(e, CMD);
   ts_cmd(e, T(vkCmdBindVertexBuffers), 0);
   ts_u64(e, CMD);
   ts_u32(e, 0xffffu);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, BUFFER);
   ts_u64(e, 1);
   ts_u64(e, 0);
}

static void
end_render_pass_unbegun(struct test_stream *e)
{
   begin(e, CMD);
   ts_cmd(e, T(vkCmdEndRenderPass), 0); /* lavapipe read through NULL */
   ts_u64(e, CMD);
}

static void
end_rendering_unbegun(struct test_stream *e)
{
   begin(e, CMD);
   ts_cmd(e, T(vkCmdEndRendering), 0);
   ts_u64(e, CMD);
}

static void
draw_no_pipeline(struct test_stream *e)
{
   begin(e, CMD);
   ts_cmd(e, T(vkCmdDraw), 0); /* lavapipe's queue crashed drawing it */
   ts_u64(e, CMD);
   ts_u32(e, 3);
   ts_u32(e, 1);
   ts_u32(e, 0);
   ts_u32(e, 0);
}

static void
dispatch_no_pipeline(struct test_stream *e)
{
   begin(e, CMD);
   ts_cmd(e, T(vkCmdDispatch), 0);
   ts_u64(e, CMD);
   ts_u32(e, 1);
   ts_u32(e, 1);
   ts_u32(e, 1);
}

static void
draw_indexed(struct test_stream *e, uint32_t count, uint32_t first)
{
   ts_cmd(e, T(vkCmdDrawIndexed), 0);
   ts_u64(e, CMD);
   ts_u32(e, count);
   ts_u32(e, 1);
   ts_u32(e, first);
   ts_u32(e, 0);
   ts_u32(e, 0);
}

static void
draw_indexed_no_index_buffer(struct test_stream *e)
{
   begin(e, CMD);
   draw_indexed(e, 3, 0); /* lavapipe divided by the unset index size (SIGFPE) */
}

/* BUFFER holds BUFFER_SIZE / 2 indices of UINT16; the index rule checks
 * before the pipeline rule, so a draw inside the buffer is refused only
 * for the pipeline it lacks. */
static void
draw_indexed_last(struct test_stream *e)
{
   begin(e, CMD);
   bind_index(e, BUFFER, VK_INDEX_TYPE_UINT16);
   draw_indexed(e, 2, BUFFER_SIZE / 2 - 2);
}

static void
draw_indexed_past_end(struct test_stream *e)
{
   begin(e, CMD);
   bind_index(e, BUFFER, VK_INDEX_TYPE_UINT16);
   draw_indexed(e, 3, BUFFER_SIZE / 2 - 2);
}

/* the state is the recording's: a new begin forgets the index buffer */
static void
draw_indexed_after_begin(struct test_stream *e)
{
   begin(e, CMD);
   bind_index(e, BUFFER, VK_INDEX_TYPE_UINT32);
   end(e, CMD);
   begin(e, CMD);
   draw_indexed(e, 1, 0);
}

static void
image_levels_ok(struct test_stream *e)
{
   create_image(e, IMAGE2, 5, 1); /* 16x16: 5 levels */
}

static void
image_levels_past(struct test_stream *e)
{
   create_image(e, IMAGE2, 6, 1);
}

static void
image_levels_huge(struct test_stream *e)
{
   create_image(e, IMAGE2, 0xfffffffeu, 1); /* lavapipe's queue thread crashed using it */
}

static void
image_no_layers(struct test_stream *e)
{
   create_image(e, IMAGE2, 1, 0);
}

static void
test_image_create(void)
{
   range_case(NULL, "16x16 image with 5 levels", image_levels_ok);
   range_case("range: vkCreateImage: more mip levels than the extent has (image 651, extent "
              "16x16x1, 6 levels",
              "16x16 image with 6 levels", image_levels_past);
   range_case("more mip levels than the extent has", "image with 0xfffffffe levels",
              image_levels_huge);
   range_case("zero extent, mipLevels or arrayLayers", "image with 0 layers", image_no_layers);
}

/* vkBindImageMemory2 of `image` to `memory` (an id; 0: VK_NULL_HANDLE) at
 * `offset`, with a VkBindImagePlaneMemoryInfo of `plane` when not 0. */
static void
bind_image2(struct test_stream *e, uint64_t image, uint64_t memory, uint64_t offset,
            VkImageAspectFlagBits plane)
{
   ts_cmd(e, T(vkBindImageMemory2), 0);
   ts_u64(e, DEVICE);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_INFO);
   ts_u64(e, plane != 0);
   if (plane) {
      ts_u32(e, VK_STRUCTURE_TYPE_BIND_IMAGE_PLANE_MEMORY_INFO);
      ts_u64(e, 0);
      ts_u32(e, plane);
   }
   ts_u64(e, image);
   ts_u64(e, memory);
   ts_u64(e, offset);
}

static void
disjoint_ycbcr(struct test_stream *e)
{
   create_image_format(e, IMAGE, 1, 1, VK_IMAGE_CREATE_DISJOINT_BIT,
                       VK_FORMAT_G8_B8R8_2PLANE_420_UNORM);
}

static void
disjoint_rgba(struct test_stream *e)
{
   create_image_flags(e, IMAGE, 1, 1, VK_IMAGE_CREATE_DISJOINT_BIT);
}

static void
bind2_whole(struct test_stream *e)
{
   create_image(e, IMAGE, 1, 1);
   bind_image2(e, IMAGE, MEMORY, 0, 0);
   begin(e, CMD);
   clear_color(e, 0, 1);
   end(e, CMD);
}

/* lavapipe 22.3 ignores the plane struct and binds the whole image at
 * the offset: 256 bytes before the end of the allocation */
static void
bind2_plane_not_disjoint(struct test_stream *e)
{
   create_image(e, IMAGE, 1, 1);
   bind_image2(e, IMAGE, MEMORY, MEMORY_SIZE - 256, VK_IMAGE_ASPECT_PLANE_0_BIT);
}

/* lavapipe 22.3 reads the memory object through the NULL handle */
static void
bind2_no_memory(struct test_stream *e)
{
   create_image(e, IMAGE, 1, 1);
   bind_image2(e, IMAGE, 0, 0, 0);
}

static void
bind_buffer_twice(struct test_stream *e)
{
   bind_buffer(e, BUFFER, MEMORY, 2 * BUFFER_SIZE);
}

/* One vkBindBufferMemory2 / vkBindImageMemory2 call naming the same new
 * object twice, at two offsets of the memory. */
static void
bind2_same_twice(struct test_stream *e, bool image)
{
   const uint64_t id = image ? 659 : 609; /* ids no other case uses */
   if (image)
      create_image(e, id, 1, 1);
   else
      create_buffer(e, id, BUFFER_SIZE);
   ts_cmd(e, image ? T(vkBindImageMemory2) : T(vkBindBufferMemory2), 0);
   ts_u64(e, DEVICE);
   ts_u32(e, 2);
   ts_u64(e, 2);
   for (uint64_t i = 0; i < 2; i++) {
      ts_u32(e, image ? VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_INFO
                      : VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO);
      ts_u64(e, 0);
      ts_u64(e, id);
      ts_u64(e, MEMORY);
      ts_u64(e, 8192 * (i + 1));
   }
}

static void
bind2_buffer_twice_in_call(struct test_stream *e)
{
   bind2_same_twice(e, false);
}

static void
bind2_image_twice_in_call(struct test_stream *e)
{
   bind2_same_twice(e, true);
}

/* A buffer or image whose memory was freed counts as unbound, and is never
 * bound again: on the host it still is bound (to the freed memory, or to
 * memory the device kept for reuse), and a second bind is invalid. */
static void
bind_buffer_after_free(struct test_stream *e)
{
   destroy(e, T(vkFreeMemory), MEMORY);
   allocate_memory(e, MEMORY2, MEMORY_SIZE);
   bind_buffer(e, BUFFER, MEMORY2, 0);
}

static void
bind_image_after_free(struct test_stream *e)
{
   allocate_memory(e, MEMORY2, MEMORY_SIZE);
   create_image(e, IMAGE, 1, 1);
   bind_image(e, IMAGE, MEMORY2, 0);
   destroy(e, T(vkFreeMemory), MEMORY2);
   bind_image2(e, IMAGE, MEMORY, 8192, 0);
}

static void
bind_image_twice(struct test_stream *e)
{
   create_image(e, IMAGE, 1, 1);
   bind_image(e, IMAGE, MEMORY, 0);
   bind_image2(e, IMAGE, MEMORY, 8192, 0);
}

/* VK_IMAGE_CREATE_DISJOINT_BIT and VkBindImagePlaneMemoryInfo. lavapipe
 * 22.3 gives VK_FORMAT_FEATURE_DISJOINT_BIT to no format, so no DISJOINT
 * image exists there and the plane checks of such images have no stream
 * here: what lavapipe shows is the refusal at creation and of a plane
 * bind of an ordinary image (which lavapipe bound whole, unchecked, at the
 * plane's offset before). */
static void
test_disjoint(void)
{
   range_case("memory: vkCreateImage: DISJOINT for a format without VK_FORMAT_FEATURE_DISJOINT_BIT "
              "on the host (VUID-VkImageCreateInfo-imageCreateFormatFeatures-02260) (image 650, "
              "format 1000156003, tiling 0)",
              "a DISJOINT 2-plane 4:2:0 image", disjoint_ycbcr);
   range_case("memory: vkCreateImage: DISJOINT for a format that is not multi-planar "
              "(VUID-VkImageCreateInfo-format-01577)",
              "a DISJOINT RGBA8 image", disjoint_rgba);
   range_case(NULL, "vkBindImageMemory2 of a whole image, then a clear", bind2_whole);
   range_case(
      "range: vkBindImageMemory2 bind 0: VkBindImagePlaneMemoryInfo for an image created without "
      "DISJOINT (VUID-VkBindImageMemoryInfo-pNext-01618) (object 650, memory 500)",
      "a plane bind of an ordinary image, 256 bytes before the allocation's end",
      bind2_plane_not_disjoint);
   range_case("range: vkBindImageMemory2 bind 0: no memory "
              "(VUID-VkBindImageMemoryInfo-pNext-01632) (object 650, memory 0)",
              "vkBindImageMemory2 with VK_NULL_HANDLE memory", bind2_no_memory);
   range_case("range: vkBindBufferMemory bind 0: buffer already bound (before, earlier in "
              "this call, or to memory freed since), or sparse "
              "(VUID-vkBindBufferMemory-buffer-07459/01030) (object 600, "
              "memory 500)",
              "a buffer bound a second time", bind_buffer_twice);
   range_case(
      "range: vkBindImageMemory2 bind 0: image already bound (before, earlier in this "
      "call, or to memory freed since), or sparse (VUID-VkBindImageMemoryInfo-image-07460/01045, "
      "VUID-vkBindImageMemory2-pBindInfos-04006) (object 650, memory 500)",
      "an image bound a second time", bind_image_twice);
   range_case("range: vkBindBufferMemory2 bind 1: buffer already bound (before, earlier in "
              "this call, or to memory freed since), or sparse "
              "(VUID-vkBindBufferMemory-buffer-07459/01030) (object 609, "
              "memory 500)",
              "one vkBindBufferMemory2 binding a new buffer twice", bind2_buffer_twice_in_call);
   range_case(
      "range: vkBindImageMemory2 bind 1: image already bound (before, earlier in this "
      "call, or to memory freed since), or sparse (VUID-VkBindImageMemoryInfo-image-07460/01045, "
      "VUID-vkBindImageMemory2-pBindInfos-04006) (object 659, memory 500)",
      "one vkBindImageMemory2 binding a new image twice", bind2_image_twice_in_call);
   range_case("range: vkBindBufferMemory bind 0: buffer already bound (before, earlier in "
              "this call, or to memory freed since), or sparse "
              "(VUID-vkBindBufferMemory-buffer-07459/01030) (object 600, memory 501)",
              "a buffer bound again after its memory was freed", bind_buffer_after_free);
   range_case("range: vkBindImageMemory2 bind 0: image already bound (before, earlier in this "
              "call, or to memory freed since), or sparse (VUID-VkBindImageMemoryInfo-image-"
              "07460/01045, VUID-vkBindImageMemory2-pBindInfos-04006) (object 650, memory 500)",
              "an image bound again after its memory was freed", bind_image_after_free);
}

static void
test_index_buffers(void)
{
   range_case("recording: vkCmdDrawIndexed: no index buffer bound (indices 0..+3, command buffer "
              "710)",
              "indexed draw with no index buffer", draw_indexed_no_index_buffer);
   range_case("recording: vkCmdDrawIndexed with no graphics pipeline bound",
              "indexed draw up to the last index", draw_indexed_last);
   range_case("recording: vkCmdDrawIndexed: indices beyond the bound index buffer (indices "
              "2046..+3",
              "indexed draw one index past the buffer", draw_indexed_past_end);
   range_case("no index buffer bound", "indexed draw after a new begin", draw_indexed_after_begin);
}

static void
test_unbound_and_index_types(void)
{
   range_case("recording: vkCmdEndRenderPass: no render pass instance begun (command buffer 710)",
              "render pass ended, never begun", end_render_pass_unbegun);
   range_case("recording: vkCmdEndRendering: no dynamic rendering begun",
              "dynamic rendering ended, never begun", end_rendering_unbegun);
   range_case("recording: vkCmdDraw with no graphics pipeline bound", "draw with no pipeline",
              draw_no_pipeline);
   range_case("recording: vkCmdDispatch with no compute pipeline bound",
              "dispatch with no pipeline", dispatch_no_pipeline);
   range_case(NULL, "index types UINT16 and UINT32", index_types_ok);
   range_case("invalid VkIndexType value in vkCmdBindIndexBuffer.indexType",
              "index type 0xffffffff", index_type_invalid);
   range_case("vkCmdBindIndexBuffer region 0: VK_INDEX_TYPE_UINT8 without the indexTypeUint8",
              "index type UINT8 without the feature", index_type_uint8);
   range_case("vkCmdBindIndexBuffer region 0: VK_INDEX_TYPE_NONE_KHR", "index type NONE",
              index_type_none);
   /* vkCmdBindIndexBuffer2 shares the check; lavapipe 22.3 lacks it
    * (maintenance5) */
   range_case("vkCmdCopyBufferToImage region 0: buffer with no memory bound (source 602",
              "buffer-to-image copy from an unbound buffer", unbound_buffer_to_image);
   range_case("vkCmdBlitImage region 0: image with no memory bound (source 650, destination 651)",
              "blit into an unbound image", unbound_image_blit);
   range_case("vkCmdDispatchIndirect region 0: buffer with no memory bound (source 602",
              "indirect dispatch from an unbound buffer", unbound_indirect);
   range_case(NULL, "image clear inside", clear_ok);
   range_case("vkCmdClearColorImage region 0: mip levels beyond", "image clear past the mips",
              clear_mips_past);
   range_case("vkCmdClearColorImage region 0: image with no memory bound",
              "clear of an unbound image", clear_unbound);
   range_case(NULL, "one viewport", viewport_ok);
   range_case("limits: vkCmdSetViewport: viewports 2147483648..+1 outside 0..",
              "viewport index past maxViewports", viewport_past);
   range_case("limits: vkCmdBindVertexBuffers: bindings 65535..+1 outside 0..",
              "vertex binding past maxVertexInputBindings", vertex_binding_past);
   range_case(NULL, "memory freed, the other buffers used", memory_freed_ok);
   range_case("vkCmdFillBuffer region 0: buffer with no memory bound (source 0, destination 602)",
              "fill of a buffer whose memory was freed", memory_freed_use);
   range_case("sparse: vkCreateBuffer: sparse flags 0x1 without the sparseBinding feature",
              "sparse buffer without the feature", sparse_buffer);
}

/* --- queries --- */

static void
create_query_pool_of(struct test_stream *e, VkQueryType type)
{
   ts_cmd(e, T(vkCreateQueryPool), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, type);
   ts_u32(e, 4);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, QUERY_POOL);
}

static void
create_query_pool(struct test_stream *e)
{
   create_query_pool_of(e, VK_QUERY_TYPE_TIMESTAMP);
}

static void
timestamp(struct test_stream *e, uint32_t query)
{
   ts_cmd(e, T(vkCmdWriteTimestamp), 0);
   ts_u64(e, CMD);
   ts_u32(e, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT);
   ts_u64(e, QUERY_POOL);
   ts_u32(e, query);
}

static void
reset_queries(struct test_stream *e, uint32_t first, uint32_t count)
{
   ts_cmd(e, T(vkCmdResetQueryPool), 0);
   ts_u64(e, CMD);
   ts_u64(e, QUERY_POOL);
   ts_u32(e, first);
   ts_u32(e, count);
}

static void
copy_results(struct test_stream *e, uint64_t offset)
{
   ts_cmd(e, T(vkCmdCopyQueryPoolResults), 0);
   ts_u64(e, CMD);
   ts_u64(e, QUERY_POOL);
   ts_u32(e, 0);
   ts_u32(e, 4);
   ts_u64(e, BUFFER);
   ts_u64(e, offset);
   ts_u64(e, 8);
   ts_u32(e, VK_QUERY_RESULT_64_BIT);
}

static void
get_results_flags(struct test_stream *e, uint64_t size, VkQueryResultFlags flags)
{
   ts_cmd(e, T(vkGetQueryPoolResults), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, QUERY_POOL);
   ts_u32(e, 0);
   ts_u32(e, 4);
   ts_u64(e, size);
   ts_u64(e, size);
   ts_u64(e, 8);
   ts_u32(e, flags);
}

static void
get_results(struct test_stream *e, uint64_t size)
{
   get_results_flags(e, size, VK_QUERY_RESULT_64_BIT);
}

static void
queries_ok(struct test_stream *e)
{
   create_query_pool(e);
   begin(e, CMD);
   reset_queries(e, 0, 4);
   for (uint32_t q = 0; q < 4; q++)
      timestamp(e, q);
   copy_results(e, BUFFER_SIZE - 32);
   end(e, CMD);
   submit(e, CMD, 0, 0, 0);
   queue_wait_idle(e);
   get_results(e, 32);
   destroy(e, T(vkDestroyQueryPool), QUERY_POOL);
}

/* the guest's wait for results its submitted work makes available: no
 * vkQueueWaitIdle before it */
static void
wait_results_ok(struct test_stream *e)
{
   create_query_pool(e);
   begin(e, CMD);
   reset_queries(e, 0, 4);
   for (uint32_t q = 0; q < 4; q++)
      timestamp(e, q);
   end(e, CMD);
   submit(e, CMD, 0, 0, 0);
   get_results_flags(e, 32, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
   destroy(e, T(vkDestroyQueryPool), QUERY_POOL);
}

/* queries reset and submitted, never written: the driver's own wait would
 * never end */
static void
wait_results_never_written(struct test_stream *e)
{
   create_query_pool(e);
   begin(e, CMD);
   reset_queries(e, 0, 4);
   end(e, CMD);
   submit(e, CMD, 0, 0, 0);
   get_results_flags(e, 32, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
}

static void
timestamp_past(struct test_stream *e)
{
   create_query_pool(e);
   begin(e, CMD);
   timestamp(e, 4);
}

static void
reset_past(struct test_stream *e)
{
   create_query_pool(e);
   begin(e, CMD);
   reset_queries(e, 2, 3);
}

static void
copy_results_past(struct test_stream *e)
{
   create_query_pool(e);
   begin(e, CMD);
   copy_results(e, BUFFER_SIZE - 16);
}

static void
get_results_past(struct test_stream *e)
{
   create_query_pool(e);
   get_results(e, 16);
}

static void
begin_query(struct test_stream *e, uint32_t query)
{
   ts_cmd(e, T(vkCmdBeginQuery), 0);
   ts_u64(e, CMD);
   ts_u64(e, QUERY_POOL);
   ts_u32(e, query);
   ts_u32(e, 0);
}

static void
end_query(struct test_stream *e, uint32_t query)
{
   ts_cmd(e, T(vkCmdEndQuery), 0);
   ts_u64(e, CMD);
   ts_u64(e, QUERY_POOL);
   ts_u32(e, query);
}

/* an occlusion pool of 4, CMD recording, queries reset */
static void
occlusion_setup(struct test_stream *e)
{
   create_query_pool_of(e, VK_QUERY_TYPE_OCCLUSION);
   begin(e, CMD);
   reset_queries(e, 0, 4);
}

static void
active_queries_ok(struct test_stream *e)
{
   occlusion_setup(e);
   begin_query(e, 0);
   end_query(e, 0);
   begin_query(e, 1);
   end_query(e, 1);
   end(e, CMD);
   submit(e, CMD, 0, 0, 0);
   queue_wait_idle(e);
}

static void
end_inactive(struct test_stream *e)
{
   occlusion_setup(e);
   end_query(e, 0); /* lavapipe ended a query object it never made */
}

static void
begin_twice(struct test_stream *e)
{
   occlusion_setup(e);
   begin_query(e, 0);
   begin_query(e, 1);
}

static void
reset_active(struct test_stream *e)
{
   occlusion_setup(e);
   begin_query(e, 2);
   reset_queries(e, 0, 4);
}

/* vkBeginCommandBuffer resets: a query begun before is not active after */
static void
end_after_rebegin(struct test_stream *e)
{
   occlusion_setup(e);
   begin_query(e, 0);
   begin(e, CMD);
   end_query(e, 0);
}

static void
test_queries(void)
{
   range_case(NULL, "queries begun and ended", active_queries_ok);
   range_case("vkCmdEndQuery: query not active in this command buffer (pool 1500, query 0",
              "end of a query never begun", end_inactive);
   range_case("vkCmdBeginQuery: a query of type 0, index 0 is already active",
              "two occlusion queries active", begin_twice);
   range_case("vkCmdResetQueryPool: query 2 is active (pool 1500)", "reset of an active query",
              reset_active);
   range_case("vkCmdEndQuery: query not active", "end after the command buffer began again",
              end_after_rebegin);
   range_case(NULL, "queries inside the pool", queries_ok);
   range_case(NULL, "a wait for query results submitted work makes available", wait_results_ok);
   range_case("vkGetQueryPoolResults: waits for queries that no submitted work makes available "
              "(pool 1500, queries 0..3)",
              "a wait for query results never written", wait_results_never_written);
   range_case("vkCmdWriteTimestamp: queries 4..+1 outside pool 1500 of 4",
              "timestamp query past the pool", timestamp_past);
   range_case("vkCmdResetQueryPool: queries 2..+3 outside", "query reset past the pool",
              reset_past);
   range_case("vkCmdCopyQueryPoolResults: results beyond", "query results copied past the buffer",
              copy_results_past);
   range_case("vkGetQueryPoolResults: results beyond", "query results past the guest's data",
              get_results_past);
}

/* --- queues --- */

static void
queue_case(const char *why, const char *what, uint32_t family, uint32_t count, uint32_t get_index)
{
   const uint32_t ctx = next_ctx++;
   CHECK(pv_context_create(renderer, ctx, PV_CAPSET_VENUS, "firewall") == 0);
   CHECK(pv_context_attach_resource(renderer, ctx, 1) == 0);
   struct test_stream e = { 0 };
   create_instance_device(&e, family, count);
   get_queue(&e, family, get_index);
   expect_why(ctx, &e, why, what);
}

/* --- render passes, framebuffers, push constants --- */

/* One color attachment (cleared or loaded), one subpass writing attachment
 * `color_ref`. */
static void
create_render_pass(struct test_stream *e, bool clear, uint32_t color_ref)
{
   ts_cmd(e, T(vkCreateRenderPass), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, 0);
   ts_u32(e, VK_FORMAT_R8G8B8A8_UNORM);
   ts_u32(e, VK_SAMPLE_COUNT_1_BIT);
   ts_u32(e, clear ? VK_ATTACHMENT_LOAD_OP_CLEAR : VK_ATTACHMENT_LOAD_OP_LOAD);
   ts_u32(e, VK_ATTACHMENT_STORE_OP_STORE);
   ts_u32(e, VK_ATTACHMENT_LOAD_OP_DONT_CARE);
   ts_u32(e, VK_ATTACHMENT_STORE_OP_DONT_CARE);
   ts_u32(e, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL);
   ts_u32(e, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, 0);
   ts_u32(e, VK_PIPELINE_BIND_POINT_GRAPHICS);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, color_ref);
   ts_u32(e, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, RENDER_PASS);
}

/* A 16x16 color-attachment image, its view VIEW, and a framebuffer of
 * `views` attachments (VIEW each time) of size x size. */
static void
create_framebuffer_sized(struct test_stream *e, uint32_t views, uint32_t size)
{
   allocate_memory(e, MEMORY2, MEMORY_SIZE);
   ts_cmd(e, T(vkCreateImage), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, VK_IMAGE_TYPE_2D);
   ts_u32(e, VK_FORMAT_R8G8B8A8_UNORM);
   ts_u32(e, 16);
   ts_u32(e, 16);
   ts_u32(e, 1);
   ts_u32(e, 1);
   ts_u32(e, 1);
   ts_u32(e, VK_SAMPLE_COUNT_1_BIT);
   ts_u32(e, VK_IMAGE_TILING_OPTIMAL);
   ts_u32(e, VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT);
   ts_u32(e, VK_SHARING_MODE_EXCLUSIVE);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, VK_IMAGE_LAYOUT_UNDEFINED);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, IMAGE);
   bind_image(e, IMAGE, MEMORY2, 0);
   image_view(e, 0, 1, 0, 1);
   ts_cmd(e, T(vkCreateFramebuffer), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, RENDER_PASS);
   ts_u32(e, views);
   ts_u64(e, views);
   for (uint32_t i = 0; i < views; i++)
      ts_u64(e, VIEW);
   ts_u32(e, size);
   ts_u32(e, size);
   ts_u32(e, 1);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, FRAMEBUFFER);
}

static void
create_framebuffer(struct test_stream *e, uint32_t views)
{
   create_framebuffer_sized(e, views, 16);
}

/* vkCmdBeginRenderPass in `cmd` with render area (x, 0) w x 16 */
static void
begin_render_pass_full(struct test_stream *e, uint64_t cmd, VkSubpassContents contents, int32_t x,
                       uint32_t w)
{
   ts_cmd(e, T(vkCmdBeginRenderPass), 0);
   ts_u64(e, cmd);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO);
   ts_u64(e, 0);
   ts_u64(e, RENDER_PASS);
   ts_u64(e, FRAMEBUFFER);
   ts_u32(e, (uint32_t)x);
   ts_u32(e, 0);
   ts_u32(e, w);
   ts_u32(e, 16);
   ts_u32(e, 0); /* no clear values */
   ts_u64(e, 0);
   ts_u32(e, contents);
}

static void
begin_render_pass_area(struct test_stream *e, int32_t x, uint32_t w)
{
   begin_render_pass_full(e, CMD, VK_SUBPASS_CONTENTS_INLINE, x, w);
}

static void
begin_render_pass_in(struct test_stream *e, uint64_t cmd, VkSubpassContents contents)
{
   begin_render_pass_full(e, cmd, contents, 0, 16);
}

static void
begin_render_pass(struct test_stream *e)
{
   begin_render_pass_in(e, CMD, VK_SUBPASS_CONTENTS_INLINE);
}

static void
push_constants(struct test_stream *e, uint32_t offset)
{
   ts_cmd(e, T(vkCmdPushConstants), 0);
   ts_u64(e, CMD);
   ts_u64(e, PIPELINE_LAYOUT);
   ts_u32(e, VK_SHADER_STAGE_COMPUTE_BIT);
   ts_u32(e, offset);
   ts_u32(e, 16);
   ts_u64(e, 16);
   ts_bytes(e, "0123456789abcdef", 16);
}

static void
render_pass_ok(struct test_stream *e)
{
   create_render_pass(e, false, 0);
   create_framebuffer(e, 1);
   begin(e, CMD);
   begin_render_pass(e);
   ts_cmd(e, T(vkCmdEndRenderPass), 0);
   ts_u64(e, CMD);
   end(e, CMD);
   destroy(e, T(vkDestroyFramebuffer), FRAMEBUFFER);
   destroy(e, T(vkDestroyRenderPass), RENDER_PASS);
}

static void
render_pass_bad_ref(struct test_stream *e)
{
   create_render_pass(e, false, 1);
}

static void
framebuffer_too_many(struct test_stream *e)
{
   create_render_pass(e, false, 0);
   create_framebuffer(e, 2);
}

/* lavapipe renders the framebuffer's size into the attachments' memory */
static void
framebuffer_past_view(struct test_stream *e)
{
   create_render_pass(e, false, 0);
   create_framebuffer_sized(e, 1, 64);
}

static void
render_area_past(struct test_stream *e)
{
   create_render_pass(e, false, 0);
   create_framebuffer(e, 1);
   begin(e, CMD);
   begin_render_pass_area(e, 8, 16);
}

static void
render_area_negative(struct test_stream *e)
{
   create_render_pass(e, false, 0);
   create_framebuffer(e, 1);
   begin(e, CMD);
   begin_render_pass_area(e, -8, 8);
}

/* a 16x16 RGBA8 image, `flags`, viewed as `format` */
static void
view_as(struct test_stream *e, VkImageCreateFlags flags, VkFormat format)
{
   allocate_memory(e, MEMORY2, MEMORY_SIZE);
   create_image_flags(e, IMAGE, 1, 1, flags);
   bind_image(e, IMAGE, MEMORY2, 0);
   image_view_format(e, 0, 1, 0, 1, format);
}

static void
view_format_mutable_ok(struct test_stream *e)
{
   view_as(e, VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT, VK_FORMAT_R32_UINT);
   destroy(e, T(vkDestroyImageView), VIEW);
}

/* 16-byte texels over a 4-byte-texel image: reads 4x past its rows */
static void
view_format_not_mutable(struct test_stream *e)
{
   view_as(e, 0, VK_FORMAT_R32G32B32A32_SFLOAT);
}

static void
view_format_other_size(struct test_stream *e)
{
   view_as(e, VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT, VK_FORMAT_R32G32B32A32_SFLOAT);
}

/* vkCmdBeginRendering into VIEW (16x16, one layer), render area w x 16,
 * VkRenderingInfo::flags `flags` */
static void
begin_rendering_flags(struct test_stream *e, uint32_t w, uint32_t layers, uint32_t flags)
{
   ts_cmd(e, T(vkCmdBeginRendering), 0);
   ts_u64(e, CMD);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_RENDERING_INFO);
   ts_u64(e, 0);
   ts_u32(e, flags);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u32(e, w);
   ts_u32(e, 16);
   ts_u32(e, layers);
   ts_u32(e, 0); /* viewMask */
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO);
   ts_u64(e, 0);
   ts_u64(e, VIEW);
   ts_u32(e, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL);
   ts_u32(e, VK_RESOLVE_MODE_NONE);
   ts_u64(e, 0);
   ts_u32(e, VK_IMAGE_LAYOUT_UNDEFINED);
   ts_u32(e, VK_ATTACHMENT_LOAD_OP_CLEAR);
   ts_u32(e, VK_ATTACHMENT_STORE_OP_STORE);
   ts_u32(e, 0); /* VkClearValue.color */
   ts_u32(e, 0); /* VkClearColorValue.float32 */
   ts_u64(e, 4);
   for (int i = 0; i < 4; i++)
      ts_u32(e, 0);
   ts_u64(e, 0); /* no depth */
   ts_u64(e, 0); /* no stencil */
}

static void
begin_rendering(struct test_stream *e, uint32_t w, uint32_t layers)
{
   begin_rendering_flags(e, w, layers, 0);
}

/* SECONDARY begun to continue a dynamic rendering of `colors` colour
 * attachments of `format` and depth format `depth` */
static void
begin_inheriting_rendering(struct test_stream *e, uint32_t colors, VkFormat format, VkFormat depth)
{
   ts_cmd(e, T(vkBeginCommandBuffer), 0);
   ts_u64(e, SECONDARY);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
   ts_u64(e, 0);
   ts_u32(e, VK_COMMAND_BUFFER_USAGE_RENDER_PASS_CONTINUE_BIT);
   ts_u64(e, 1); /* VkCommandBufferInheritanceInfo */
   ts_u32(e, VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_INFO);
   ts_u64(e, 1); /* VkCommandBufferInheritanceRenderingInfo */
   ts_u32(e, VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_RENDERING_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0); /* flags */
   ts_u32(e, 0); /* viewMask */
   ts_u32(e, colors);
   ts_u64(e, colors);
   for (uint32_t i = 0; i < colors; i++)
      ts_u32(e, format);
   ts_u32(e, depth);
   ts_u32(e, VK_FORMAT_UNDEFINED);
   ts_u32(e, VK_SAMPLE_COUNT_1_BIT);
   ts_u64(e, 0); /* render pass */
   ts_u32(e, 0);
   ts_u64(e, 0); /* framebuffer */
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 0);
}

/* CMD renders into an RGBA8 view and executes SECONDARY, which inherits
 * `colors` attachments of `format` and depth format `depth` */
static void
execute_in_rendering(struct test_stream *e, uint32_t colors, VkFormat format, VkFormat depth)
{
   allocate_memory(e, MEMORY2, MEMORY_SIZE);
   create_image(e, IMAGE, 1, 1);
   bind_image(e, IMAGE, MEMORY2, 0);
   image_view(e, 0, 1, 0, 1);
   create_fence(e, FENCE);
   allocate_level(e, SECONDARY, VK_COMMAND_BUFFER_LEVEL_SECONDARY);
   begin_inheriting_rendering(e, colors, format, depth);
   end(e, SECONDARY);
   begin(e, CMD);
   begin_rendering_flags(e, 16, 1, VK_RENDERING_CONTENTS_SECONDARY_COMMAND_BUFFERS_BIT);
   execute(e, CMD, SECONDARY);
   ts_cmd(e, T(vkCmdEndRendering), 0);
   ts_u64(e, CMD);
   end(e, CMD);
   submit(e, CMD, 0, 0, FENCE);
   wait_fence(e, FENCE);
}

static void
inherited_formats_ok(struct test_stream *e)
{
   execute_in_rendering(e, 1, VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_UNDEFINED);
}

/* 16-byte texels for a 4-byte-texel attachment */
static void
inherited_format_other(struct test_stream *e)
{
   execute_in_rendering(e, 1, VK_FORMAT_R32G32B32A32_SFLOAT, VK_FORMAT_UNDEFINED);
}

static void
inherited_no_colors(struct test_stream *e)
{
   execute_in_rendering(e, 0, VK_FORMAT_UNDEFINED, VK_FORMAT_UNDEFINED);
}

static void
inherited_depth_without_view(struct test_stream *e)
{
   execute_in_rendering(e, 1, VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_D32_SFLOAT);
}

/* VUID-vkCmdExecuteCommands-colorAttachmentCount-06027, -imageView-06028,
 * -pDepthAttachment-06029/06774: a secondary that continues a dynamic
 * rendering inherits its attachment count and formats. */
static void
test_inherited_formats(void)
{
   range_case(NULL, "a secondary inheriting the instance's formats", inherited_formats_ok);
   range_case("recording: vkCmdExecuteCommands: command buffer 712 inherits a colour attachment "
              "format other than the view's (VUID-vkCmdExecuteCommands-imageView-06028)",
              "a secondary inheriting RGBA32F for an RGBA8 view", inherited_format_other);
   range_case("inherits another colour attachment count than vkCmdBeginRendering's "
              "(VUID-vkCmdExecuteCommands-colorAttachmentCount-06027)",
              "a secondary inheriting no colour attachment for one", inherited_no_colors);
   range_case("inherits a depth attachment format other than the view's "
              "(VUID-vkCmdExecuteCommands-pDepthAttachment-06029/06774)",
              "a secondary inheriting a depth format where the instance has no depth view",
              inherited_depth_without_view);
}

static void
rendering(struct test_stream *e, uint32_t w, uint32_t layers)
{
   allocate_memory(e, MEMORY2, MEMORY_SIZE);
   create_image(e, IMAGE, 1, 1);
   bind_image(e, IMAGE, MEMORY2, 0);
   image_view(e, 0, 1, 0, 1);
   begin(e, CMD);
   begin_rendering(e, w, layers);
   ts_cmd(e, T(vkCmdEndRendering), 0);
   ts_u64(e, CMD);
   end(e, CMD);
}

static void
rendering_ok(struct test_stream *e)
{
   rendering(e, 16, 1);
}

static void
rendering_past_view(struct test_stream *e)
{
   rendering(e, 64, 1);
}

static void
rendering_past_layers(struct test_stream *e)
{
   rendering(e, 16, 4);
}

static void
begin_without_clear_values(struct test_stream *e)
{
   create_render_pass(e, true, 0);
   create_framebuffer(e, 1);
   begin(e, CMD);
   begin_render_pass(e);
}

static void
push_ok(struct test_stream *e)
{
   descriptor_setup(e);
   create_pipeline_layout(e);
   begin(e, CMD);
   push_constants(e, 64);
   end(e, CMD);
}

static void
push_past(struct test_stream *e)
{
   descriptor_setup(e);
   create_pipeline_layout(e);
   begin(e, CMD);
   push_constants(e, 65536);
}

/* vkCmdClearAttachments of colour attachment `color`, one rect at
 * (x, 0) of w x 1, layers [0, layers) */
static void
clear_attachments_rect(struct test_stream *e, uint64_t cmd, uint32_t color, int32_t x, uint32_t w,
                       uint32_t layers)
{
   ts_cmd(e, T(vkCmdClearAttachments), 0);
   ts_u64(e, cmd);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_IMAGE_ASPECT_COLOR_BIT);
   ts_u32(e, color);
   ts_u32(e, 0); /* VkClearValue.color */
   ts_u32(e, 0); /* VkClearColorValue.float32 */
   ts_u64(e, 4);
   for (int i = 0; i < 4; i++)
      ts_u32(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, (uint32_t)x);
   ts_u32(e, 0);
   ts_u32(e, w);
   ts_u32(e, 1);
   ts_u32(e, 0);
   ts_u32(e, layers);
}

static void
clear_attachments(struct test_stream *e, uint32_t color)
{
   clear_attachments_rect(e, CMD, color, 0, 1, 1);
}

/* lavapipe clears the rectangle in the attachment's memory */
static void
clear_rect_in_pass(struct test_stream *e, int32_t x, uint32_t w, uint32_t layers)
{
   create_render_pass(e, false, 0);
   create_framebuffer(e, 1);
   begin(e, CMD);
   begin_render_pass(e);
   clear_attachments_rect(e, CMD, 0, x, w, layers);
}

static void
clear_rect_past(struct test_stream *e)
{
   clear_rect_in_pass(e, 8, 64, 1);
}

static void
clear_rect_negative(struct test_stream *e)
{
   clear_rect_in_pass(e, -4, 4, 1);
}

static void
clear_rect_layers(struct test_stream *e)
{
   clear_rect_in_pass(e, 0, 16, 2);
}

static void
clear_attachments_in(struct test_stream *e, uint64_t cmd, uint32_t color)
{
   clear_attachments_rect(e, cmd, color, 0, 1, 1);
}

static void
clear_in_pass(struct test_stream *e, uint32_t color)
{
   create_render_pass(e, false, 0);
   create_framebuffer(e, 1);
   begin(e, CMD);
   begin_render_pass(e);
   clear_attachments(e, color);
   ts_cmd(e, T(vkCmdEndRenderPass), 0);
   ts_u64(e, CMD);
   end(e, CMD);
}

static void
clear_in_pass_ok(struct test_stream *e)
{
   clear_in_pass(e, 0);
}

/* lavapipe indexes its attachments of the instance with colorAttachment */
static void
clear_in_pass_past(struct test_stream *e)
{
   clear_in_pass(e, 1);
}

/* lavapipe's queue thread read through NULL
 * (fuzz/known-crashes/clear-attachments-outside-pass.pvcap) */
static void
clear_outside_pass(struct test_stream *e)
{
   begin(e, CMD);
   clear_attachments(e, 0);
}

static void
test_render_passes(void)
{
   range_case(NULL, "render pass, framebuffer and begin that match", render_pass_ok);
   range_case("color attachment outside the pass", "render pass referencing attachment 1 of 1",
              render_pass_bad_ref);
   range_case("attachment count is not the render pass's", "framebuffer with 2 views for 1",
              framebuffer_too_many);
   range_case("fewer clear values than cleared attachments", "begin without its clear value",
              begin_without_clear_values);
   range_case("attachment smaller than the framebuffer (render pass 1600, attachment 0 of 1, "
              "framebuffer 64x64",
              "64x64 framebuffer of a 16x16 view", framebuffer_past_view);
   range_case("render area outside the framebuffer", "render area 8..24 of 16", render_area_past);
   range_case("render area outside the framebuffer", "render area at x -8", render_area_negative);
   range_case(NULL, "R32_UINT view of a mutable RGBA8 image", view_format_mutable_ok);
   range_case(NULL, "dynamic rendering into a 16x16 view", rendering_ok);
   range_case("vkCmdBeginRendering: render area outside an attachment (attachment 0",
              "dynamic rendering of 64x16 into a 16x16 view", rendering_past_view);
   range_case("vkCmdBeginRendering: attachment with fewer layers than rendered",
              "dynamic rendering of 4 layers into a 1-layer view", rendering_past_layers);
   range_case("view format other than the image's, which is not MUTABLE_FORMAT",
              "RGBA32F view of an RGBA8 image", view_format_not_mutable);
   range_case("view format of another texel block size than the image's",
              "RGBA32F view of a mutable RGBA8 image", view_format_other_size);
   range_case(NULL, "colour attachment 0 cleared in a one-colour subpass", clear_in_pass_ok);
   range_case("recording: vkCmdClearAttachments: colour attachment the render pass instance does "
              "not have (element 0, command buffer 710)",
              "colour attachment 1 cleared in a one-colour subpass", clear_in_pass_past);
   range_case("vkCmdClearAttachments: clear rectangle outside the render area (element 0",
              "a clear rectangle 8..72 in a 16-wide render area", clear_rect_past);
   range_case("vkCmdClearAttachments: clear rectangle outside the render area (element 0",
              "a clear rectangle at x -4", clear_rect_negative);
   range_case("vkCmdClearAttachments: clear rectangle past the instance's layers",
              "a clear of 2 layers in a 1-layer framebuffer", clear_rect_layers);
   range_case("recording: vkCmdClearAttachments: outside a render pass instance",
              "attachments cleared outside a render pass", clear_outside_pass);
   range_case(NULL, "push constants inside the device's limit", push_ok);
   range_case("vkCmdPushConstants: offset 65536 size 16", "push constants past the limit",
              push_past);
}

static void
test_queues(void)
{
   queue_case(NULL, "queue family 0, one queue", 0, 1, 0);
   queue_case("no such queue family (family 99", "queue family past the device's", 99, 1, 0);
   queue_case("queue count outside 1..the family's queueCount", "more queues than the family has",
              0, 1000, 0);
   queue_case("vkGetDeviceQueue: no such queue (device 300, family 0, index 1)",
              "queue index never created", 0, 1, 1);
   /* a guest's own global priority would take GPU time from other guests */
   queue_priority_next = true;
   queue_case("pNext chain on a queue create info", "a guest's realtime queue priority", 0, 1, 0);
   queue_priority_next = false;
}

/* --- SPIR-V --- */

/* glslangValidator -V of "#version 450 / layout(local_size_x=1) in; /
 * void main(){}" */
static const uint32_t empty_compute[] = {
   0x07230203, 0x00010000, 0x0008000b, 0x0000000a, 0x00000000, 0x00020011, 0x00000001, 0x0006000b,
   0x00000001, 0x4c534c47, 0x6474732e, 0x3035342e, 0x00000000, 0x0003000e, 0x00000000, 0x00000001,
   0x0005000f, 0x00000005, 0x00000004, 0x6e69616d, 0x00000000, 0x00060010, 0x00000004, 0x00000011,
   0x00000001, 0x00000001, 0x00000001, 0x00030003, 0x00000002, 0x000001c2, 0x00040005, 0x00000004,
   0x6e69616d, 0x00000000, 0x00040047, 0x00000009, 0x0000000b, 0x00000019, 0x00020013, 0x00000002,
   0x00030021, 0x00000003, 0x00000002, 0x00040015, 0x00000006, 0x00000020, 0x00000000, 0x00040017,
   0x00000007, 0x00000006, 0x00000003, 0x0004002b, 0x00000006, 0x00000008, 0x00000001, 0x0006002c,
   0x00000007, 0x00000009, 0x00000008, 0x00000008, 0x00000008, 0x00050036, 0x00000002, 0x00000004,
   0x00000000, 0x00000003, 0x000200f8, 0x00000005, 0x000100fd, 0x00010038,
};
#define FUNCTION_RESULT_TYPE_WORD 62 /* OpFunction's result type: %void */

static void
create_shader_module(struct test_stream *e, const uint32_t *code, uint32_t words)
{
   ts_cmd(e, T(vkCreateShaderModule), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, (uint64_t)words * 4);
   ts_u64(e, words);
   for (uint32_t i = 0; i < words; i++)
      ts_u32(e, code[i]);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, SHADER);
}

static void
shader_ok(struct test_stream *e)
{
   create_shader_module(e, empty_compute, sizeof(empty_compute) / 4);
}

/* The replay fuzzer's "spirv-word": one word changed (lavapipe crashed
 * compiling such a module in vkCreateComputePipelines). */
static void
shader_bad_word(struct test_stream *e)
{
   uint32_t code[sizeof(empty_compute) / 4];
   memcpy(code, empty_compute, sizeof(code));
   code[FUNCTION_RESULT_TYPE_WORD] = 6; /* %uint: not the function type's */
   create_shader_module(e, code, sizeof(code) / 4);
}

static void
shader_bad_magic(struct test_stream *e)
{
   uint32_t code[sizeof(empty_compute) / 4];
   memcpy(code, empty_compute, sizeof(code));
   code[0] = 0x03022307;
   create_shader_module(e, code, sizeof(code) / 4);
}

/* A compute pipeline whose stage carries its code inline (maintenance5):
 * VkShaderModuleCreateInfo in the stage's pNext, no module. */
static void
pipeline_inline_bad_word(struct test_stream *e)
{
   uint32_t code[sizeof(empty_compute) / 4];
   memcpy(code, empty_compute, sizeof(code));
   code[FUNCTION_RESULT_TYPE_WORD] = 6;
   descriptor_setup(e);
   create_pipeline_layout(e);
   ts_cmd(e, T(vkCreateComputePipelines), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 0); /* no pipeline cache */
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO);
   ts_u64(e, 1); /* pNext: one VkShaderModuleCreateInfo */
   ts_u32(e, VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, sizeof(code));
   ts_u64(e, sizeof(code) / 4);
   for (uint32_t i = 0; i < sizeof(code) / 4; i++)
      ts_u32(e, code[i]);
   ts_u32(e, 0);
   ts_u32(e, VK_SHADER_STAGE_COMPUTE_BIT);
   ts_u64(e, 0); /* no module */
   ts_string(e, "main");
   ts_u64(e, 0);
   ts_u64(e, PIPELINE_LAYOUT);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, PIPELINE);
}

/* A compute pipeline of empty_compute with one specialization constant
 * (id 0) of `size` bytes at `offset` in 8 bytes of data. */
static void
pipeline_specialized(struct test_stream *e, uint32_t offset, uint64_t size)
{
   descriptor_setup(e);
   create_pipeline_layout(e);
   create_shader_module(e, empty_compute, sizeof(empty_compute) / 4);
   ts_cmd(e, T(vkCreateComputePipelines), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, VK_SHADER_STAGE_COMPUTE_BIT);
   ts_u64(e, SHADER);
   ts_string(e, "main");
   ts_u64(e, 1); /* VkSpecializationInfo */
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, 0);
   ts_u32(e, offset);
   ts_u64(e, size);
   ts_u64(e, 8);
   ts_u64(e, 8);
   ts_bytes(e, "\1\0\0\0\2\0\0\0", 8);
   ts_u64(e, PIPELINE_LAYOUT);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, PIPELINE);
}

static void
specialized_ok(struct test_stream *e)
{
   pipeline_specialized(e, 4, 4);
}

/* drivers copy the constant from pData + offset */
static void
specialized_past(struct test_stream *e)
{
   pipeline_specialized(e, 4, 8);
}

static void
specialized_odd_size(struct test_stream *e)
{
   pipeline_specialized(e, 0, 3);
}

/* A graphics pipeline of RENDER_PASS's `subpass` with no stages (every
 * case here is refused before the driver sees it): one vertex binding and
 * an attribute at `location`, `topology`, `blends` blend attachments. */
static void
graphics_pipeline(struct test_stream *e, uint32_t subpass, uint32_t location, uint32_t topology,
                  uint32_t blends)
{
   descriptor_setup(e);
   create_pipeline_layout(e);
   create_render_pass(e, false, 0);
   ts_cmd(e, T(vkCreateGraphicsPipelines), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 0); /* no stages */
   ts_u64(e, 0);
   ts_u64(e, 1); /* vertex input */
   ts_u32(e, VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, 0);
   ts_u32(e, 16);
   ts_u32(e, VK_VERTEX_INPUT_RATE_VERTEX);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, location);
   ts_u32(e, 0);
   ts_u32(e, VK_FORMAT_R32G32B32A32_SFLOAT);
   ts_u32(e, 0);
   ts_u64(e, 1); /* input assembly */
   ts_u32(e, VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, topology);
   ts_u32(e, 0);
   for (int i = 0; i < 5; i++)
      ts_u64(e, 0); /* tessellation, viewport, rasterization, multisample, depth */
   ts_u64(e, 1);    /* colour blend */
   ts_u32(e, VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u32(e, blends);
   ts_u64(e, blends);
   for (uint32_t i = 0; i < blends * 8; i++)
      ts_u32(e, i % 8 == 7 ? 0xf : 0);
   ts_u64(e, 4);
   for (int i = 0; i < 4; i++)
      ts_u32(e, 0);
   ts_u64(e, 0); /* no dynamic state */
   ts_u64(e, PIPELINE_LAYOUT);
   ts_u64(e, RENDER_PASS);
   ts_u32(e, subpass);
   ts_u64(e, 0);
   ts_u32(e, UINT32_MAX);
   ts_u64(e, 0); /* no allocator */
   ts_u64(e, 1);
   ts_u64(e, PIPELINE);
}

/* lavapipe reads the render pass's subpass array at `subpass` */
static void
graphics_bad_subpass(struct test_stream *e)
{
   graphics_pipeline(e, 3, 0, VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST, 1);
}

/* drivers keep vertex state in arrays indexed by location */
static void
graphics_bad_location(struct test_stream *e)
{
   graphics_pipeline(e, 0, 4096, VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST, 1);
}

static void
graphics_bad_topology(struct test_stream *e)
{
   graphics_pipeline(e, 0, 0, 0x7fff, 1);
}

/* lavapipe copies blend states into an array of 8 */
static void
graphics_many_blends(struct test_stream *e)
{
   graphics_pipeline(e, 0, 0, VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST, 64);
}

/* Set layout SET_LAYOUT of `bindings` compute bindings numbered from
 * `first`, each `count` descriptors of `type` (bytes for inline uniform
 * blocks). */
static void
compute_set_layout(struct test_stream *e, uint32_t first, uint32_t bindings, VkDescriptorType type,
                   uint32_t count)
{
   ts_cmd(e, T(vkCreateDescriptorSetLayout), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, bindings);
   ts_u64(e, bindings);
   for (uint32_t i = 0; i < bindings; i++) {
      ts_u32(e, first + i);
      ts_u32(e, type);
      ts_u32(e, count);
      ts_u32(e, VK_SHADER_STAGE_COMPUTE_BIT);
      ts_u64(e, 0);
   }
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, SET_LAYOUT);
}

/* A set layout of one binding of `count` uniform buffers for the compute
 * stage, and a pipeline layout of it. */
static void
layout_of_uniform_buffers(struct test_stream *e, uint32_t count)
{
   compute_set_layout(e, 0, 1, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, count);
   create_pipeline_layout(e);
}

static void
layout_uniform_buffers_ok(struct test_stream *e)
{
   layout_of_uniform_buffers(e, 4);
}

/* lavapipe binds a stage's uniform buffers into an array of its constant
 * buffer cap */
static void
layout_too_many_uniform_buffers(struct test_stream *e)
{
   layout_of_uniform_buffers(e, 256);
}

/* A set layout of `blocks` inline uniform blocks of `bytes` each, compute */
static void
inline_blocks(struct test_stream *e, uint32_t blocks, uint32_t bytes)
{
   compute_set_layout(e, 0, blocks, VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK, bytes);
}

static void
inline_blocks_ok(struct test_stream *e)
{
   inline_blocks(e, 2, 64);
}

/* lavapipe keeps a set layout's blocks per stage in an array of 8 */
static void
inline_blocks_many(struct test_stream *e)
{
   inline_blocks(e, 16, 16);
}

/* and their sizes in 16 bits */
static void
inline_block_huge(struct test_stream *e)
{
   inline_blocks(e, 1, 1u << 20);
}

static void
binding_number_ok(struct test_stream *e)
{
   compute_set_layout(e, 16383, 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1);
}

/* lavapipe sized the layout by the binding number: 240 GB asked */
static void
binding_number_huge(struct test_stream *e)
{
   compute_set_layout(e, 0x80000000u, 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1);
}

/* lavapipe's maxDescriptorSetStorageBuffers is 256 */
static void
storage_buffers_ok(struct test_stream *e)
{
   compute_set_layout(e, 0, 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 256);
}

/* and a set of it would be 112 bytes a descriptor */
static void
storage_buffers_huge(struct test_stream *e)
{
   compute_set_layout(e, 0, 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 0x80000000u);
}

/* lavapipe keeps a layout's sets in an array of 8 */
static void
layout_many_sets(struct test_stream *e)
{
   descriptor_setup(e);
   ts_cmd(e, T(vkCreatePipelineLayout), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 64);
   ts_u64(e, 64);
   for (int i = 0; i < 64; i++)
      ts_u64(e, SET_LAYOUT);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, PIPELINE_LAYOUT);
}

static void
test_spirv(void)
{
   range_case(NULL, "a valid compute shader module", shader_ok);
   range_case("spirv: vkCreateShaderModule: object 1450: invalid SPIR-V",
              "a module with one word changed", shader_bad_word);
   range_case("not SPIR-V (magic number)", "a module with a byte-swapped magic", shader_bad_magic);
   range_case("spirv: vkCreateComputePipelines: object 1460: invalid SPIR-V",
              "inline stage code with one word changed", pipeline_inline_bad_word);
   range_case(NULL, "a specialization constant inside its data", specialized_ok);
   range_case("specialization constant past the end of its data",
              "a specialization constant of 8 bytes at 4 in 8", specialized_past);
   range_case("specialization constant of a size no scalar has",
              "a specialization constant of 3 bytes", specialized_odd_size);
   range_case("vkCreateGraphicsPipelines create info 0: subpass outside its render pass",
              "a graphics pipeline of subpass 3 of 1", graphics_bad_subpass);
   range_case("vertex attribute location, binding or offset past the device's limits",
              "a vertex attribute at location 4096", graphics_bad_location);
   range_case(
      "invalid VkPrimitiveTopology value in VkPipelineInputAssemblyStateCreateInfo.topology",
      "topology 0x7fff", graphics_bad_topology);
   range_case("vkCreatePipelineLayout: 64 set layouts, more than maxBoundDescriptorSets",
              "a pipeline layout of 64 sets", layout_many_sets);
   range_case(NULL, "a pipeline layout of 4 uniform buffers", layout_uniform_buffers_ok);
   range_case(NULL, "a set layout of 2 inline uniform blocks", inline_blocks_ok);
   range_case("more inline uniform blocks than maxDescriptorSetInlineUniformBlocks",
              "a set layout of 16 inline uniform blocks", inline_blocks_many);
   range_case("an inline uniform block larger than maxInlineUniformBlockSize",
              "an inline uniform block of 1 MiB", inline_block_huge);
   range_case("vkCreatePipelineLayout: more uniform buffers for stage 0x20 than its maxPerStage",
              "a pipeline layout of 256 uniform buffers (the per-set limit)",
              layout_too_many_uniform_buffers);
   range_case("more blend attachments than maxColorAttachments", "64 blend attachments",
              graphics_many_blends);
   range_case(NULL, "a set layout binding numbered 16383", binding_number_ok);
   range_case("binding number 2147483648, not below 16384", "a set layout binding numbered 2^31",
              binding_number_huge);
   range_case(NULL, "a set layout of 256 storage buffers", storage_buffers_ok);
   range_case("vkCreateDescriptorSetLayout: more storage buffers than the device's per-set limit",
              "a set layout of 2^31 storage buffers", storage_buffers_huge);
}

/* --- recorded uses: what a command buffer recorded is alive when it runs --- */

enum { BUFFER3 = 602 };

static void
copy_recorded(struct test_stream *e)
{
   begin(e, CMD);
   copy_buffer(e, CMD, 0, 0, 16);
   end(e, CMD);
}

static void
buffer_destroyed_after_recording(struct test_stream *e)
{
   copy_recorded(e);
   destroy(e, T(vkDestroyBuffer), BUFFER2);
   submit(e, CMD, 0, 0, 0);
}

static void
memory_freed_under_recorded_image(struct test_stream *e)
{
   image_setup(e);
   begin(e, CMD);
   image_barrier(e, 0, VK_REMAINING_MIP_LEVELS, 0, 2);
   copy_to_image(e, 0, 0, 0, 0, 0, 16, 16);
   end(e, CMD);
   destroy(e, T(vkFreeMemory), MEMORY2);
   submit(e, CMD, 0, 0, 0);
}

/* something else destroyed: the uses are looked up, found alive, and the
 * second submission skips the lookups */
static void
other_destroyed_ok(struct test_stream *e)
{
   create_buffer(e, BUFFER3, BUFFER_SIZE);
   copy_recorded(e);
   destroy(e, T(vkDestroyBuffer), BUFFER3);
   submit(e, CMD, 0, 0, 0);
   queue_wait_idle(e);
   submit(e, CMD, 0, 0, 0);
   queue_wait_idle(e);
}

/* destroyed, then recorded again without it */
static void
rerecorded_ok(struct test_stream *e)
{
   copy_recorded(e);
   destroy(e, T(vkDestroyBuffer), BUFFER2);
   begin(e, CMD);
   fill(e, CMD, BUFFER, 0, 64);
   end(e, CMD);
   submit(e, CMD, 0, 0, 0);
   queue_wait_idle(e);
}

/* destroyed after the submission (deferred while it runs), then submitted
 * again: the second submission is refused */
static void
destroyed_between_submissions(struct test_stream *e)
{
   copy_recorded(e);
   submit(e, CMD, 0, 0, 0);
   destroy(e, T(vkDestroyBuffer), BUFFER);
   queue_wait_idle(e);
   submit(e, CMD, 0, 0, 0);
}

static void
set_recorded(struct test_stream *e)
{
   descriptor_setup(e);
   create_pipeline_layout(e);
   begin(e, CMD);
   bind_sets(e, 0, 0);
   end(e, CMD);
}

static void
set_freed_after_recording(struct test_stream *e)
{
   set_recorded(e);
   ts_cmd(e, T(vkFreeDescriptorSets), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, DESC_POOL);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, SET);
   submit(e, CMD, 0, 0, 0);
}

static void
set_pool_destroyed_after_recording(struct test_stream *e)
{
   set_recorded(e);
   destroy(e, T(vkDestroyDescriptorPool), DESC_POOL);
   submit(e, CMD, 0, 0, 0);
}

static void
set_recorded_ok(struct test_stream *e)
{
   set_recorded(e);
   destroy(e, T(vkDestroyPipelineLayout), PIPELINE_LAYOUT); /* allowed after recording */
   submit(e, CMD, 0, 0, 0);
   queue_wait_idle(e);
}

static void
secondary_recorded(struct test_stream *e)
{
   allocate_level(e, SECONDARY, VK_COMMAND_BUFFER_LEVEL_SECONDARY);
   begin_secondary(e, SECONDARY, false, 0);
   copy_buffer(e, SECONDARY, 0, 0, 16);
   end(e, SECONDARY);
}

static void
execute_secondary(struct test_stream *e)
{
   begin(e, CMD);
   ts_cmd(e, T(vkCmdExecuteCommands), 0);
   ts_u64(e, CMD);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, SECONDARY);
   end(e, CMD);
}

static void
secondary_ok(struct test_stream *e)
{
   secondary_recorded(e);
   execute_secondary(e);
   submit(e, CMD, 0, 0, 0);
   queue_wait_idle(e);
}

static void
secondary_use_destroyed(struct test_stream *e)
{
   secondary_recorded(e);
   execute_secondary(e);
   destroy(e, T(vkDestroyBuffer), BUFFER2);
   submit(e, CMD, 0, 0, 0);
}

static void
secondary_destroyed_before_execute(struct test_stream *e)
{
   secondary_recorded(e);
   destroy(e, T(vkDestroyBuffer), BUFFER2);
   execute_secondary(e);
}

static void
secondary_rerecorded(struct test_stream *e)
{
   secondary_recorded(e);
   execute_secondary(e);
   ts_cmd(e, T(vkResetCommandBuffer), 0);
   ts_u64(e, SECONDARY);
   ts_u32(e, 0);
   submit(e, CMD, 0, 0, 0);
}

/* A secondary continuing RENDER_PASS's subpass 0 that clears a rect at
 * (x, 0) w x 1, executed inside a 16x16 instance of the pass. */
static void
secondary_clear(struct test_stream *e, int32_t x, uint32_t w)
{
   create_render_pass(e, false, 0);
   create_framebuffer(e, 1);
   ts_cmd(e, T(vkAllocateCommandBuffers), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
   ts_u64(e, 0);
   ts_u64(e, POOL);
   ts_u32(e, VK_COMMAND_BUFFER_LEVEL_SECONDARY);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, SECONDARY);
   ts_cmd(e, T(vkBeginCommandBuffer), 0);
   ts_u64(e, SECONDARY);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
   ts_u64(e, 0);
   ts_u32(e, VK_COMMAND_BUFFER_USAGE_RENDER_PASS_CONTINUE_BIT);
   ts_u64(e, 1); /* VkCommandBufferInheritanceInfo */
   ts_u32(e, VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_INFO);
   ts_u64(e, 0);
   ts_u64(e, RENDER_PASS);
   ts_u32(e, 0);
   ts_u64(e, FRAMEBUFFER);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 0);
   clear_attachments_rect(e, SECONDARY, 0, x, w, 1);
   end(e, SECONDARY);
   begin(e, CMD);
   ts_cmd(e, T(vkCmdBeginRenderPass), 0);
   ts_u64(e, CMD);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO);
   ts_u64(e, 0);
   ts_u64(e, RENDER_PASS);
   ts_u64(e, FRAMEBUFFER);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 16);
   ts_u32(e, 16);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, VK_SUBPASS_CONTENTS_SECONDARY_COMMAND_BUFFERS);
   ts_cmd(e, T(vkCmdExecuteCommands), 0);
   ts_u64(e, CMD);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, SECONDARY);
   ts_cmd(e, T(vkCmdEndRenderPass), 0);
   ts_u64(e, CMD);
   end(e, CMD);
}

static void
secondary_clear_ok(struct test_stream *e)
{
   secondary_clear(e, 0, 16);
   submit(e, CMD, 0, 0, 0);
   queue_wait_idle(e);
}

static void
secondary_clear_past(struct test_stream *e)
{
   secondary_clear(e, 8, 64);
}

static void
render_pass_recorded(struct test_stream *e)
{
   create_render_pass(e, false, 0);
   create_framebuffer(e, 1);
   begin(e, CMD);
   begin_render_pass(e);
   ts_cmd(e, T(vkCmdEndRenderPass), 0);
   ts_u64(e, CMD);
   end(e, CMD);
}

static void
framebuffer_memory_freed(struct test_stream *e)
{
   render_pass_recorded(e);
   destroy(e, T(vkFreeMemory), MEMORY2);
   submit(e, CMD, 0, 0, 0);
}

static void
framebuffer_view_destroyed(struct test_stream *e)
{
   render_pass_recorded(e);
   destroy(e, T(vkDestroyImageView), VIEW);
   submit(e, CMD, 0, 0, 0);
}

static void
framebuffer_ok(struct test_stream *e)
{
   render_pass_recorded(e);
   submit(e, CMD, 0, 0, 0);
   queue_wait_idle(e);
}

static void
render_pass_destroyed(struct test_stream *e)
{
   render_pass_recorded(e);
   destroy(e, T(vkDestroyRenderPass), RENDER_PASS);
   submit(e, CMD, 0, 0, 0);
}

/* lavapipe's queue thread writes the timestamps into the pool's memory */
static void
query_pool_destroyed(struct test_stream *e)
{
   create_query_pool(e);
   begin(e, CMD);
   reset_queries(e, 0, 4);
   timestamp(e, 0);
   end(e, CMD);
   destroy(e, T(vkDestroyQueryPool), QUERY_POOL);
   submit(e, CMD, 0, 0, 0);
}

enum { EVENT = 1900 };

/* vkCmdSetEvent of EVENT recorded, then the event destroyed */
static void
event_destroyed(struct test_stream *e)
{
   ts_cmd(e, T(vkCreateEvent), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_EVENT_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, EVENT);
   begin(e, CMD);
   ts_cmd(e, T(vkCmdSetEvent), 0);
   ts_u64(e, CMD);
   ts_u64(e, EVENT);
   ts_u32(e, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT);
   end(e, CMD);
   destroy(e, T(vkDestroyEvent), EVENT);
   submit(e, CMD, 0, 0, 0);
}

/* a compute pipeline bound and dispatched, the pipeline destroyed before
 * the submission (`destroy_pipeline`), or after it ran */
static void
pipeline_case(const char *why, const char *what, bool destroy_pipeline)
{
   const uint32_t ctx = setup();
   struct test_stream *e = calloc(1, sizeof(*e));
   CHECK(e);
   sampler_set_setup(e);
   create_pipeline_layout(e);
   create_compute_pipeline(e);
   begin(e, CMD);
   ts_cmd(e, T(vkCmdBindPipeline), 0);
   ts_u64(e, CMD);
   ts_u32(e, VK_PIPELINE_BIND_POINT_COMPUTE);
   ts_u64(e, PIPELINE);
   bind_sets(e, 0, 0);
   ts_cmd(e, T(vkCmdDispatch), 0);
   ts_u64(e, CMD);
   ts_u32(e, 1);
   ts_u32(e, 1);
   ts_u32(e, 1);
   end(e, CMD);
   if (destroy_pipeline)
      destroy(e, T(vkDestroyPipeline), PIPELINE);
   submit(e, CMD, 0, 0, 0);
   queue_wait_idle(e);
   if (!destroy_pipeline)
      destroy(e, T(vkDestroyPipeline), PIPELINE);
   expect_why(ctx, e, why, what);
   free(e);
}

static void
test_recorded_uses(void)
{
   range_case("cmdbuf: vkQueueSubmit: command buffer 710 uses buffer 601",
              "buffer destroyed between recording and submission",
              buffer_destroyed_after_recording);
   range_case("cmdbuf: vkQueueSubmit: command buffer 710 uses image 650",
              "memory freed under an image between recording and submission",
              memory_freed_under_recorded_image);
   range_case(NULL, "another buffer destroyed before the submission", other_destroyed_ok);
   range_case(NULL, "command buffer recorded again after a destroy", rerecorded_ok);
   range_case("uses buffer 600", "buffer destroyed between two submissions",
              destroyed_between_submissions);
   range_case("uses descriptor set 1200", "bound descriptor set freed before the submission",
              set_freed_after_recording);
   range_case("uses descriptor set 1200", "bound set's pool destroyed before the submission",
              set_pool_destroyed_after_recording);
   range_case(NULL, "pipeline layout destroyed after recording", set_recorded_ok);
   range_case(NULL, "secondary executed and submitted", secondary_ok);
   range_case("vkQueueSubmit: command buffer 710 uses buffer 601",
              "buffer of a secondary destroyed before the primary's submission",
              secondary_use_destroyed);
   range_case("vkCmdExecuteCommands: command buffer 712 uses buffer 601",
              "buffer of a secondary destroyed before vkCmdExecuteCommands",
              secondary_destroyed_before_execute);
   range_case("uses secondary command buffer 712",
              "secondary reset after vkCmdExecuteCommands, primary submitted",
              secondary_rerecorded);
   range_case(NULL, "a continuing secondary clearing inside the instance", secondary_clear_ok);
   range_case("vkCmdExecuteCommands: command buffer 712 clears outside the render area or "
              "layers of the instance",
              "a continuing secondary clearing past the instance", secondary_clear_past);
   range_case(NULL, "render pass instance recorded and submitted", framebuffer_ok);
   range_case("uses image 650", "memory freed under a framebuffer's image before the submission",
              framebuffer_memory_freed);
   range_case("uses image view 1300", "framebuffer's view destroyed before the submission",
              framebuffer_view_destroyed);
   range_case("uses render pass 1600", "render pass destroyed before the submission",
              render_pass_destroyed);
   range_case("uses query pool 1500", "query pool destroyed before the submission",
              query_pool_destroyed);
   range_case("uses event 1900", "event destroyed before the submission", event_destroyed);
   pipeline_case(NULL, "pipeline destroyed after its submission ran", false);
   pipeline_case("uses pipeline 1460", "bound pipeline destroyed before the submission", true);
}

/* --- descriptors naming destroyed objects --- */

enum { SAMPLER = 1800 };

static void
create_sampler_compare(struct test_stream *e, uint64_t id, bool compare)
{
   ts_cmd(e, T(vkCreateSampler), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   for (int i = 0; i < 6; i++)
      ts_u32(e, 0); /* nearest, nearest, nearest, repeat x3 */
   ts_u32(e, 0);    /* mipLodBias 0.0f */
   ts_u32(e, 0);
   ts_u32(e, 0x3f800000); /* maxAnisotropy 1.0f */
   ts_u32(e, compare);    /* compareEnable */
   ts_u32(e, 0);
   ts_u32(e, 0); /* minLod */
   ts_u32(e, 0); /* maxLod */
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, id);
}

static void
create_sampler(struct test_stream *e, uint64_t id)
{
   create_sampler_compare(e, id, false);
}

/* vkUpdateDescriptorSets: one image descriptor of `type` into `set`. */
static void
write_image(struct test_stream *e, uint64_t set, uint32_t binding, uint32_t type, uint64_t sampler,
            uint64_t view)
{
   ts_cmd(e, T(vkUpdateDescriptorSets), 0);
   ts_u64(e, DEVICE);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
   ts_u64(e, 0);
   ts_u64(e, set);
   ts_u32(e, binding);
   ts_u32(e, 0);
   ts_u32(e, 1);
   ts_u32(e, type);
   ts_u64(e, 1);
   ts_u64(e, sampler);
   ts_u64(e, view);
   ts_u32(e, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
}

/* Records CMD: the compute pipeline of spv_unwritten with SET bound,
 * one dispatch. */
static void
record_dispatch(struct test_stream *e)
{
   begin(e, CMD);
   ts_cmd(e, T(vkCmdBindPipeline), 0);
   ts_u64(e, CMD);
   ts_u32(e, VK_PIPELINE_BIND_POINT_COMPUTE);
   ts_u64(e, PIPELINE);
   bind_sets(e, 0, 0);
   ts_cmd(e, T(vkCmdDispatch), 0);
   ts_u64(e, CMD);
   ts_u32(e, 1);
   ts_u32(e, 1);
   ts_u32(e, 1);
   end(e, CMD);
}

/* sampler_set_setup's set (binding 0 a combined image sampler, binding 1
 * a storage buffer) with the compute pipeline that reads both. */
static void
dispatch_setup(struct test_stream *e)
{
   sampler_set_setup(e);
   create_pipeline_layout(e);
   create_compute_pipeline(e);
   create_fence(e, FENCE);
}

/* Submits CMD, waits for it, and expects the context alive with `lines`
 * more descriptor lines, the last naming `want` (NULL: any). */
static void
dispatch_and_expect(uint32_t ctx, struct test_stream *e, unsigned lines, const char *want,
                    const char *what)
{
   submit(e, CMD, 0, 0, FENCE);
   wait_fence(e, FENCE);
   queue_wait_idle(e);
   pthread_mutex_lock(&log_mutex);
   const unsigned before = nulled_lines;
   last_nulled[0] = '\0';
   pthread_mutex_unlock(&log_mutex);
   const int ret = pv_context_submit(renderer, ctx, e->data, e->len);
   pthread_mutex_lock(&log_mutex);
   const unsigned got = nulled_lines - before;
   const bool named = !want || strstr(last_nulled, want);
   pthread_mutex_unlock(&log_mutex);
   if (ret != 0 || pv_context_is_lost(renderer, ctx) || got != lines || !named) {
      fprintf(stderr,
              "FAIL: %s: submit %d, context %s, %u descriptor lines (want %u), last \"%s\"\n", what,
              ret, pv_context_is_lost(renderer, ctx) ? "lost" : "alive", got, lines, last_nulled);
      exit(1);
   }
   pv_context_destroy(renderer, ctx);
}

/* Layout SET_LAYOUT: binding 0 one storage buffer, binding 1 up to 8 of
 * them (variable count); set SET of it with `count` in binding 1. */
static void
variable_set_setup(struct test_stream *e, uint32_t count)
{
   ts_cmd(e, T(vkCreateDescriptorSetLayout), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_BINDING_FLAGS_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 2);
   ts_u64(e, 2);
   ts_u32(e, 0);
   ts_u32(e, VK_DESCRIPTOR_BINDING_VARIABLE_DESCRIPTOR_COUNT_BIT);
   ts_u32(e, 0);
   ts_u32(e, 2);
   ts_u64(e, 2);
   for (uint32_t i = 0; i < 2; i++) {
      ts_u32(e, i);
      ts_u32(e, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER);
      ts_u32(e, i ? 8 : 1);
      ts_u32(e, VK_SHADER_STAGE_COMPUTE_BIT);
      ts_u64(e, 0);
   }
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, SET_LAYOUT);

   ts_cmd(e, T(vkCreateDescriptorPool), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 1);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER);
   ts_u32(e, 16);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, DESC_POOL);

   ts_cmd(e, T(vkAllocateDescriptorSets), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DESCRIPTOR_SET_VARIABLE_DESCRIPTOR_COUNT_ALLOCATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, count);
   ts_u64(e, DESC_POOL);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, SET_LAYOUT);
   ts_u64(e, 1);
   ts_u64(e, SET);
}

/* A push descriptor set layout (binding 0 one combined image sampler,
 * `immutable` its immutable sampler or 0) and PIPELINE_LAYOUT of it; an
 * image view VIEW and sampler SAMPLER; CMD recorded with a push of
 * {SAMPLER, VIEW} into binding 0. */
static void
push_sampler_setup(struct test_stream *e, uint64_t immutable)
{
   if (immutable)
      create_sampler(e, immutable);
   ts_cmd(e, T(vkCreateDescriptorSetLayout), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, 0);
   ts_u32(e, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER);
   ts_u32(e, 1);
   ts_u32(e, VK_SHADER_STAGE_COMPUTE_BIT);
   ts_u64(e, immutable ? 1 : 0);
   if (immutable)
      ts_u64(e, immutable);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, SET_LAYOUT);
   create_pipeline_layout(e);
   image_setup(e);
   image_view(e, 0, 1, 0, 1);
   create_sampler(e, SAMPLER);
   begin(e, CMD);
   ts_cmd(e, T(vkCmdPushDescriptorSet), 0);
   ts_u64(e, CMD);
   ts_u32(e, VK_PIPELINE_BIND_POINT_COMPUTE);
   ts_u64(e, PIPELINE_LAYOUT);
   ts_u32(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 1);
   ts_u32(e, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER);
   ts_u64(e, 1);
   ts_u64(e, SAMPLER);
   ts_u64(e, VIEW);
   ts_u32(e, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
   ts_u64(e, 0);
   ts_u64(e, 0);
   end(e, CMD);
}

/* the pushed sampler destroyed before the submission */
static void
push_sampler_destroyed(struct test_stream *e)
{
   push_sampler_setup(e, 0);
   destroy(e, T(vkDestroySampler), SAMPLER);
   submit(e, CMD, 0, 0, 0);
}

static void
push_sampler_destroyed_after(struct test_stream *e)
{
   push_sampler_setup(e, 0);
   submit(e, CMD, 0, 0, 0);
   queue_wait_idle(e);
   destroy(e, T(vkDestroySampler), SAMPLER);
}

/* a binding with an immutable sampler ignores the pushed one */
static void
push_sampler_ignored(struct test_stream *e)
{
   push_sampler_setup(e, SAMPLER + 1);
   destroy(e, T(vkDestroySampler), SAMPLER);
   submit(e, CMD, 0, 0, 0);
   queue_wait_idle(e);
}

static void
test_push_samplers(void)
{
   push_descriptor_next = true;
   range_case("cmdbuf: vkQueueSubmit: command buffer 710 uses sampler 1800",
              "a pushed sampler destroyed before the submission", push_sampler_destroyed);
   range_case(NULL, "a pushed sampler destroyed after the submission ran",
              push_sampler_destroyed_after);
   range_case(NULL, "a pushed sampler that an immutable one overrides, destroyed",
              push_sampler_ignored);
   push_descriptor_next = false;
}

/* A sampler with compareEnable written with an RGBA8 view into a combined
 * image sampler (VUID-vkCmdDraw-None-06479): lavapipe's LLVM crashed
 * compiling a draw that sampled such a pair
 * (fuzz/known-crashes/sampler-compare-color-view.pvcap). */
static void
compare_sampler_color_view(struct test_stream *e)
{
   dispatch_setup(e);
   image_setup(e);
   image_view(e, 0, 1, 0, 1);
   create_sampler_compare(e, SAMPLER, true);
   write_image(e, SET, 0, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, SAMPLER, VIEW);
}

static void
test_compare_samplers(void)
{
   range_case("descriptor: vkUpdateDescriptorSets write 0: a sampler with compareEnable and a "
              "view of a format without depth (VUID-vkCmdDraw-None-06479)",
              "a depth-compare sampler with an RGBA8 view", compare_sampler_color_view);
}

/* lavapipe 22.3 reads every descriptor of a bound set at a dispatch: a
 * buffer, view or sampler written into a set and destroyed (or its image
 * destroyed, or its memory freed) would be read through freed memory. The
 * renderer writes null descriptors over them first. */
static void
test_descriptor_lifetimes(void)
{
   const uint32_t ssbo = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
   const uint32_t combined = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER;

   /* the valid neighbour: nothing destroyed, no descriptor rewritten */
   uint32_t ctx = setup();
   struct test_stream e = { 0 };
   dispatch_setup(&e);
   write_buffers(&e, 1, 0, 1, ssbo, 0, VK_WHOLE_SIZE);
   record_dispatch(&e);
   dispatch_and_expect(ctx, &e, 0, NULL, "storage buffer alive");

   /* a storage buffer destroyed, then a dispatch with its set bound */
   ctx = setup();
   e.len = 0;
   dispatch_setup(&e);
   write_buffers(&e, 1, 0, 1, ssbo, 0, VK_WHOLE_SIZE);
   destroy(&e, T(vkDestroyBuffer), BUFFER);
   record_dispatch(&e);
   dispatch_and_expect(ctx, &e, 1,
                       "object 600 (type 9) going away: 1 descriptors naming it made null",
                       "storage buffer destroyed");

   /* ... the same written twice (one reference), then recorded before the
    * destroy: the command buffer recorded the buffer (recorded uses) */
   ctx = setup();
   e.len = 0;
   dispatch_setup(&e);
   write_buffers(&e, 1, 0, 1, ssbo, 0, VK_WHOLE_SIZE);
   write_buffers(&e, 1, 0, 1, ssbo, 0, 64);
   record_dispatch(&e);
   destroy(&e, T(vkDestroyBuffer), BUFFER);
   record_dispatch(&e);
   dispatch_and_expect(ctx, &e, 1, ": 1 descriptors naming it made null",
                       "storage buffer written twice, destroyed");

   /* its memory freed (the buffer lives on, unbound) */
   ctx = setup();
   e.len = 0;
   dispatch_setup(&e);
   write_buffers(&e, 1, 0, 1, ssbo, 0, VK_WHOLE_SIZE);
   destroy(&e, T(vkFreeMemory), MEMORY);
   record_dispatch(&e);
   dispatch_and_expect(ctx, &e, 1, "object 600 (type 9)", "storage buffer's memory freed");

   /* overwritten by another buffer first: nothing left to rewrite */
   ctx = setup();
   e.len = 0;
   dispatch_setup(&e);
   write_buffers(&e, 1, 0, 1, ssbo, 0, VK_WHOLE_SIZE);
   ts_cmd(&e, T(vkUpdateDescriptorSets), 0);
   ts_u64(&e, DEVICE);
   ts_u32(&e, 1);
   ts_u64(&e, 1);
   ts_u32(&e, VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
   ts_u64(&e, 0);
   ts_u64(&e, SET);
   ts_u32(&e, 1);
   ts_u32(&e, 0);
   ts_u32(&e, 1);
   ts_u32(&e, ssbo);
   ts_u64(&e, 0);
   ts_u64(&e, 1);
   ts_u64(&e, BUFFER2);
   ts_u64(&e, 0);
   ts_u64(&e, VK_WHOLE_SIZE);
   ts_u64(&e, 0);
   ts_u32(&e, 0);
   ts_u64(&e, 0);
   destroy(&e, T(vkDestroyBuffer), BUFFER);
   record_dispatch(&e);
   dispatch_and_expect(ctx, &e, 0, NULL, "storage buffer overwritten, then destroyed");

   /* copies: the copy names the buffer too (descriptor_setup's sets) */
   ctx = setup();
   e.len = 0;
   descriptor_setup(&e);
   write_buffers(&e, 0, 0, 3, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 0, 64);
   copy_descriptors(&e, 0, 0, 0, 3);
   destroy(&e, T(vkDestroyBuffer), BUFFER);
   CHECK(pv_context_submit(renderer, ctx, e.data, e.len) == 0);
   CHECK(!pv_context_is_lost(renderer, ctx));
   CHECK(strstr(last_nulled, ": 6 descriptors naming it made null"));
   pv_context_destroy(renderer, ctx);

   /* a variable-count binding: a write from binding 0 spills into its 4
    * descriptors; the slots follow the set's count */
   ctx = setup();
   e.len = 0;
   variable_set_setup(&e, 4);
   write_buffers(&e, 0, 0, 5, ssbo, 0, 64);
   write_buffers(&e, 1, 3, 1, ssbo, 64, 64);
   destroy(&e, T(vkDestroyBuffer), BUFFER);
   CHECK(pv_context_submit(renderer, ctx, e.data, e.len) == 0);
   CHECK(!pv_context_is_lost(renderer, ctx));
   CHECK(strstr(last_nulled, "object 600 (type 9) going away: 5 descriptors naming it made null"));
   pv_context_destroy(renderer, ctx);

   /* an image view and a sampler of a combined image sampler destroyed */
   ctx = setup();
   e.len = 0;
   dispatch_setup(&e);
   image_setup(&e);
   image_view(&e, 0, 1, 0, 1);
   create_sampler(&e, SAMPLER);
   write_image(&e, SET, 0, combined, SAMPLER, VIEW);
   write_buffers(&e, 1, 0, 1, ssbo, 0, VK_WHOLE_SIZE);
   destroy(&e, T(vkDestroyImageView), VIEW);
   destroy(&e, T(vkDestroySampler), SAMPLER);
   record_dispatch(&e);
   /* the sampler's line comes last: the view's slot was rewritten already */
   dispatch_and_expect(ctx, &e, 2, "object 1800 (type 21) going away: 1 descriptors",
                       "image view and sampler destroyed");

   /* an image destroyed under a view that a set names; the view can no
    * longer be written */
   ctx = setup();
   e.len = 0;
   dispatch_setup(&e);
   image_setup(&e);
   image_view(&e, 0, 1, 0, 1);
   create_sampler(&e, SAMPLER);
   write_image(&e, SET, 0, combined, SAMPLER, VIEW);
   write_buffers(&e, 1, 0, 1, ssbo, 0, VK_WHOLE_SIZE);
   destroy(&e, T(vkDestroyImage), IMAGE);
   record_dispatch(&e);
   dispatch_and_expect(ctx, &e, 1, "object 650 (type 10)", "image destroyed under its view");
   ctx = setup();
   e.len = 0;
   dispatch_setup(&e);
   image_setup(&e);
   image_view(&e, 0, 1, 0, 1);
   create_sampler(&e, SAMPLER);
   destroy(&e, T(vkFreeMemory), MEMORY2);
   write_image(&e, SET, 0, combined, SAMPLER, VIEW);
   expect_why(ctx, &e, "image view 1300 of a destroyed image or freed memory",
              "view of freed memory written");

   /* an immutable sampler destroyed while its layout and set live: kept on
    * the host (lavapipe's set points at it) until the device goes */
   ctx = setup();
   e.len = 0;
   create_sampler(&e, SAMPLER);
   sampler_set_setup_immutable(&e, SAMPLER);
   create_pipeline_layout(&e);
   create_compute_pipeline(&e);
   create_fence(&e, FENCE);
   write_buffers(&e, 1, 0, 1, ssbo, 0, VK_WHOLE_SIZE);
   destroy(&e, T(vkDestroySampler), SAMPLER);
   create_sampler(&e, SAMPLER); /* the id is free again */
   destroy(&e, T(vkDestroySampler), SAMPLER);
   record_dispatch(&e);
   pthread_mutex_lock(&log_mutex);
   const unsigned kept = immutable_lines;
   pthread_mutex_unlock(&log_mutex);
   dispatch_and_expect(ctx, &e, 0, NULL, "immutable sampler destroyed");
   CHECK(immutable_lines == kept + 1);

   /* pending work: the destroy is deferred, the descriptor made null now */
   ctx = setup();
   e.len = 0;
   dispatch_setup(&e);
   create_timeline(&e, SEMAPHORE);
   write_buffers(&e, 1, 0, 1, ssbo, 0, VK_WHOLE_SIZE);
   record_dispatch(&e);
   submit(&e, CMD, SEMAPHORE, 1, 0);
   destroy(&e, T(vkDestroyBuffer), BUFFER);
   signal_semaphore(&e, SEMAPHORE, 1);
   queue_wait_idle(&e);
   record_dispatch(&e);
   dispatch_and_expect(ctx, &e, 1, "object 600 (type 9)", "storage buffer destroyed while pending");

   /* input attachments have no null descriptor: the set is refused when
    * bound, and where it was bound before, at submission */
   ctx = setup();
   e.len = 0;
   image_setup(&e);
   image_view(&e, 0, 1, 0, 1);
   second_set(&e, SET_LAYOUT, SET, VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT, false);
   create_pipeline_layout(&e);
   write_image(&e, SET, 0, VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT, 0, VIEW);
   destroy(&e, T(vkDestroyImageView), VIEW);
   begin(&e, CMD);
   bind_sets(&e, 0, 0);
   expect_why(ctx, &e, "set names a destroyed object the host has no null descriptor for",
              "input attachment destroyed, set bound");
   ctx = setup();
   e.len = 0;
   image_setup(&e);
   image_view(&e, 0, 1, 0, 1);
   second_set(&e, SET_LAYOUT, SET, VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT, false);
   create_pipeline_layout(&e);
   write_image(&e, SET, 0, VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT, 0, VIEW);
   begin(&e, CMD);
   bind_sets(&e, 0, 0);
   end(&e, CMD);
   destroy(&e, T(vkDestroyImageView), VIEW);
   submit(&e, CMD, 0, 0, 0);
   expect_why(ctx, &e, "uses descriptor set 1200, destroyed",
              "input attachment destroyed after the set was bound");
   /* ... and written again: bound and run as usual */
   ctx = setup();
   e.len = 0;
   image_setup(&e);
   image_view(&e, 0, 1, 0, 1);
   second_set(&e, SET_LAYOUT, SET, VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT, false);
   create_pipeline_layout(&e);
   write_image(&e, SET, 0, VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT, 0, VIEW);
   destroy(&e, T(vkDestroyImageView), VIEW);
   image_view(&e, 0, 1, 0, 1); /* VIEW again */
   write_image(&e, SET, 0, VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT, 0, VIEW);
   begin(&e, CMD);
   bind_sets(&e, 0, 0);
   end(&e, CMD);
   submit(&e, CMD, 0, 0, 0);
   queue_wait_idle(&e);
   expect(ctx, &e, false, "input attachment destroyed, then written again");
}

/* --- command buffer levels --- */

static void
level_ok(struct test_stream *e)
{
   secondary_recorded(e);
   execute_secondary(e);
   submit(e, CMD, 0, 0, 0);
   queue_wait_idle(e);
}

/* lavapipe runs a secondary submitted to a queue as it would a primary */
static void
secondary_submitted(struct test_stream *e)
{
   secondary_recorded(e);
   submit(e, SECONDARY, 0, 0, 0);
}

static void
primary_executed(struct test_stream *e)
{
   begin(e, CMD2);
   fill(e, CMD2, BUFFER, 0, 256);
   end(e, CMD2);
   begin(e, CMD);
   execute(e, CMD, CMD2);
}

static void
executed_into_secondary(struct test_stream *e)
{
   secondary_recorded(e);
   allocate_level(e, SECONDARY2, VK_COMMAND_BUFFER_LEVEL_SECONDARY);
   begin_secondary(e, SECONDARY2, false, 0);
   execute(e, SECONDARY2, SECONDARY);
}

/* lavapipe reads a secondary's pInheritanceInfo at vkBeginCommandBuffer */
static void
secondary_without_inheritance(struct test_stream *e)
{
   allocate_level(e, SECONDARY, VK_COMMAND_BUFFER_LEVEL_SECONDARY);
   begin(e, SECONDARY);
}

static void
inherited_subpass_past(struct test_stream *e)
{
   create_render_pass(e, false, 0);
   allocate_level(e, SECONDARY, VK_COMMAND_BUFFER_LEVEL_SECONDARY);
   begin_secondary(e, SECONDARY, true, 1);
}

static void
render_pass_in_secondary(struct test_stream *e)
{
   create_render_pass(e, false, 0);
   create_framebuffer(e, 1);
   allocate_level(e, SECONDARY, VK_COMMAND_BUFFER_LEVEL_SECONDARY);
   begin_secondary(e, SECONDARY, false, 0);
   begin_render_pass_in(e, SECONDARY, VK_SUBPASS_CONTENTS_INLINE);
}

static void
level_bad(struct test_stream *e)
{
   allocate_level(e, SECONDARY, 7);
}

/* A secondary continuing subpass 0 of RENDER_PASS that clears colour
 * attachment `color`, executed inside (`inside`) or outside the primary's
 * render pass instance. */
static void
continuing_secondary(struct test_stream *e, uint32_t color, bool inside, bool continues)
{
   create_render_pass(e, false, 0);
   create_framebuffer(e, 1);
   allocate_level(e, SECONDARY, VK_COMMAND_BUFFER_LEVEL_SECONDARY);
   begin_secondary(e, SECONDARY, continues, 0);
   if (continues)
      clear_attachments_in(e, SECONDARY, color);
   end(e, SECONDARY);
   begin(e, CMD);
   if (inside)
      begin_render_pass_in(e, CMD, VK_SUBPASS_CONTENTS_SECONDARY_COMMAND_BUFFERS);
   execute(e, CMD, SECONDARY);
   if (inside) {
      ts_cmd(e, T(vkCmdEndRenderPass), 0);
      ts_u64(e, CMD);
   }
   end(e, CMD);
   submit(e, CMD, 0, 0, 0);
   queue_wait_idle(e);
}

static void
continuing_ok(struct test_stream *e)
{
   continuing_secondary(e, 0, true, true);
}

static void
continuing_outside(struct test_stream *e)
{
   continuing_secondary(e, 0, false, true);
}

static void
not_continuing_inside(struct test_stream *e)
{
   continuing_secondary(e, 0, true, false);
}

/* lavapipe indexes the subpass's attachments with colorAttachment */
static void
continuing_clear_past(struct test_stream *e)
{
   continuing_secondary(e, 1, true, true);
}

static void
test_levels(void)
{
   range_case(NULL, "secondary executed by a primary, primary submitted", level_ok);
   range_case("level: vkQueueSubmit: command buffer 712 is a secondary command buffer",
              "secondary submitted", secondary_submitted);
   range_case("vkCmdExecuteCommands: command buffer 711 is a primary command buffer",
              "primary executed", primary_executed);
   range_case("level: vkCmdExecuteCommands: recorded into a secondary command buffer (command "
              "buffer 713)",
              "vkCmdExecuteCommands in a secondary", executed_into_secondary);
   range_case("level: vkBeginCommandBuffer: secondary command buffer begun without inheritance "
              "info",
              "secondary begun without inheritance info", secondary_without_inheritance);
   range_case("level: vkBeginCommandBuffer: inherited subpass past the render pass's subpasses",
              "secondary continuing subpass 1 of a 1-subpass pass", inherited_subpass_past);
   range_case("level: vkCmdBeginRenderPass in a secondary command buffer (command buffer 712)",
              "render pass begun in a secondary", render_pass_in_secondary);
   range_case("invalid VkCommandBufferLevel value in VkCommandBufferAllocateInfo.level",
              "command buffer level 7", level_bad);
   range_case(NULL, "continuing secondary executed inside the render pass", continuing_ok);
   range_case("begun with RENDER_PASS_CONTINUE, executed outside a render pass instance",
              "continuing secondary executed outside", continuing_outside);
   range_case("not begun with RENDER_PASS_CONTINUE, executed inside a render pass instance",
              "secondary not continuing executed inside", not_continuing_inside);
   range_case("vkCmdClearAttachments: colour attachment the render pass instance does not have "
              "(element 0, command buffer 712)",
              "continuing secondary clearing attachment 1 of 1", continuing_clear_past);
}

/* --- direct draws: vertex and instance ranges --- */

/* tests/vk/shaders/attr.vert: a_pos (vec2, location 0) and a_color (vec4,
 * location 1) per vertex, a_offset (vec2, location 2) per instance;
 * color.frag (glslangValidator -V --target-env vulkan1.1 -Os -g0). */
static const uint32_t spv_attr_vert[] = {
   0x07230203, 0x00010300, 0x0008000b, 0x00000022, 0x00000000, 0x00020011, 0x00000001, 0x0006000b,
   0x00000001, 0x4c534c47, 0x6474732e, 0x3035342e, 0x00000000, 0x0003000e, 0x00000000, 0x00000001,
   0x000a000f, 0x00000000, 0x00000004, 0x6e69616d, 0x00000000, 0x0000000d, 0x00000012, 0x00000014,
   0x0000001e, 0x00000020, 0x00050048, 0x0000000b, 0x00000000, 0x0000000b, 0x00000000, 0x00050048,
   0x0000000b, 0x00000001, 0x0000000b, 0x00000001, 0x00050048, 0x0000000b, 0x00000002, 0x0000000b,
   0x00000003, 0x00050048, 0x0000000b, 0x00000003, 0x0000000b, 0x00000004, 0x00030047, 0x0000000b,
   0x00000002, 0x00040047, 0x00000012, 0x0000001e, 0x00000000, 0x00040047, 0x00000014, 0x0000001e,
   0x00000002, 0x00040047, 0x0000001e, 0x0000001e, 0x00000000, 0x00040047, 0x00000020, 0x0000001e,
   0x00000001, 0x00020013, 0x00000002, 0x00030021, 0x00000003, 0x00000002, 0x00030016, 0x00000006,
   0x00000020, 0x00040017, 0x00000007, 0x00000006, 0x00000004, 0x00040015, 0x00000008, 0x00000020,
   0x00000000, 0x0004002b, 0x00000008, 0x00000009, 0x00000001, 0x0004001c, 0x0000000a, 0x00000006,
   0x00000009, 0x0006001e, 0x0000000b, 0x00000007, 0x00000006, 0x0000000a, 0x0000000a, 0x00040020,
   0x0000000c, 0x00000003, 0x0000000b, 0x0004003b, 0x0000000c, 0x0000000d, 0x00000003, 0x00040015,
   0x0000000e, 0x00000020, 0x00000001, 0x0004002b, 0x0000000e, 0x0000000f, 0x00000000, 0x00040017,
   0x00000010, 0x00000006, 0x00000002, 0x00040020, 0x00000011, 0x00000001, 0x00000010, 0x0004003b,
   0x00000011, 0x00000012, 0x00000001, 0x0004003b, 0x00000011, 0x00000014, 0x00000001, 0x0004002b,
   0x00000006, 0x00000017, 0x00000000, 0x0004002b, 0x00000006, 0x00000018, 0x3f800000, 0x00040020,
   0x0000001c, 0x00000003, 0x00000007, 0x0004003b, 0x0000001c, 0x0000001e, 0x00000003, 0x00040020,
   0x0000001f, 0x00000001, 0x00000007, 0x0004003b, 0x0000001f, 0x00000020, 0x00000001, 0x00050036,
   0x00000002, 0x00000004, 0x00000000, 0x00000003, 0x000200f8, 0x00000005, 0x0004003d, 0x00000010,
   0x00000013, 0x00000012, 0x0004003d, 0x00000010, 0x00000015, 0x00000014, 0x00050081, 0x00000010,
   0x00000016, 0x00000013, 0x00000015, 0x00050051, 0x00000006, 0x00000019, 0x00000016, 0x00000000,
   0x00050051, 0x00000006, 0x0000001a, 0x00000016, 0x00000001, 0x00070050, 0x00000007, 0x0000001b,
   0x00000019, 0x0000001a, 0x00000017, 0x00000018, 0x00050041, 0x0000001c, 0x0000001d, 0x0000000d,
   0x0000000f, 0x0003003e, 0x0000001d, 0x0000001b, 0x0004003d, 0x00000007, 0x00000021, 0x00000020,
   0x0003003e, 0x0000001e, 0x00000021, 0x000100fd, 0x00010038,
};
static const uint32_t spv_color_frag[] = {
   0x07230203, 0x00010300, 0x0008000b, 0x0000000d, 0x00000000, 0x00020011, 0x00000001, 0x0006000b,
   0x00000001, 0x4c534c47, 0x6474732e, 0x3035342e, 0x00000000, 0x0003000e, 0x00000000, 0x00000001,
   0x0007000f, 0x00000004, 0x00000004, 0x6e69616d, 0x00000000, 0x00000009, 0x0000000b, 0x00030010,
   0x00000004, 0x00000007, 0x00040047, 0x00000009, 0x0000001e, 0x00000000, 0x00040047, 0x0000000b,
   0x0000001e, 0x00000000, 0x00020013, 0x00000002, 0x00030021, 0x00000003, 0x00000002, 0x00030016,
   0x00000006, 0x00000020, 0x00040017, 0x00000007, 0x00000006, 0x00000004, 0x00040020, 0x00000008,
   0x00000003, 0x00000007, 0x0004003b, 0x00000008, 0x00000009, 0x00000003, 0x00040020, 0x0000000a,
   0x00000001, 0x00000007, 0x0004003b, 0x0000000a, 0x0000000b, 0x00000001, 0x00050036, 0x00000002,
   0x00000004, 0x00000000, 0x00000003, 0x000200f8, 0x00000005, 0x0004003d, 0x00000007, 0x0000000c,
   0x0000000b, 0x0003003e, 0x00000009, 0x0000000c, 0x000100fd, 0x00010038,
};

enum { VERT_SHADER = 1451, FRAG_SHADER = 1452 };

static void
create_module(struct test_stream *e, uint64_t id, const uint32_t *code, size_t bytes)
{
   ts_cmd(e, T(vkCreateShaderModule), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, bytes);
   ts_u64(e, bytes / 4);
   ts_bytes(e, code, bytes);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, id);
}

static void
stage(struct test_stream *e, VkShaderStageFlagBits bit, uint64_t module)
{
   ts_u32(e, VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, bit);
   ts_u64(e, module);
   ts_string(e, "main");
   ts_u64(e, 0);
}

static void
vertex_input_state(struct test_stream *e, uint32_t attr_binding)
{
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 2);
   ts_u64(e, 2);
   const uint32_t bindings[] = { 0, 24, VK_VERTEX_INPUT_RATE_VERTEX,
                                 1, 8,  VK_VERTEX_INPUT_RATE_INSTANCE };
   ts_bytes(e, bindings, sizeof(bindings));
   ts_u32(e, 3);
   ts_u64(e, 3);
   const uint32_t attributes[] = { 0,
                                   0,
                                   VK_FORMAT_R32G32_SFLOAT,
                                   0,
                                   1,
                                   0,
                                   VK_FORMAT_R32G32B32A32_SFLOAT,
                                   8,
                                   2,
                                   attr_binding,
                                   VK_FORMAT_R32G32_SFLOAT,
                                   0 };
   ts_bytes(e, attributes, sizeof(attributes));
}

/* Vertex input: binding 0 per vertex (stride 24: vec2 at 0, vec4 at 8),
 * binding 1 per instance (stride 8: vec2 at 0); `attr_binding`: the
 * binding of location 2. */
static void
create_graphics_pipeline(struct test_stream *e, uint32_t attr_binding)
{
   create_module(e, VERT_SHADER, spv_attr_vert, sizeof(spv_attr_vert));
   create_module(e, FRAG_SHADER, spv_color_frag, sizeof(spv_color_frag));
   ts_cmd(e, T(vkCreatePipelineLayout), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, PIPELINE_LAYOUT);

   ts_cmd(e, T(vkCreateGraphicsPipelines), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 2);
   ts_u64(e, 2);
   stage(e, VK_SHADER_STAGE_VERTEX_BIT, VERT_SHADER);
   stage(e, VK_SHADER_STAGE_FRAGMENT_BIT, FRAG_SHADER);
   if (dynamic_input_next) {
      ts_u64(e, 0); /* vertex input: VK_DYNAMIC_STATE_VERTEX_INPUT_EXT */
   } else {
      vertex_input_state(e, attr_binding);
   }
   ts_u64(e, 1); /* input assembly */
   ts_u32(e, VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST);
   ts_u32(e, 0);
   ts_u64(e, 0); /* tessellation */
   ts_u64(e, 1); /* viewport: dynamic */
   ts_u32(e, VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 0);
   ts_u64(e, 1); /* rasterization */
   ts_u32(e, VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u32(e, VK_POLYGON_MODE_FILL);
   ts_u32(e, VK_CULL_MODE_NONE);
   ts_u32(e, VK_FRONT_FACE_COUNTER_CLOCKWISE);
   ts_u32(e, 0);
   ts_f32(e, 0.0f);
   ts_f32(e, 0.0f);
   ts_f32(e, 0.0f);
   ts_f32(e, 1.0f);
   ts_u64(e, 1); /* multisample */
   ts_u32(e, VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, VK_SAMPLE_COUNT_1_BIT);
   ts_u32(e, 0);
   ts_f32(e, 0.0f);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0); /* depth/stencil */
   ts_u64(e, 1); /* colour blend */
   ts_u32(e, VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u32(e, VK_LOGIC_OP_COPY);
   ts_u32(e, 1);
   ts_u64(e, 1);
   const VkPipelineColorBlendAttachmentState blend = { .colorWriteMask = 0xf };
   ts_bytes(e, &blend, sizeof(blend));
   ts_u64(e, 4);
   for (int i = 0; i < 4; i++)
      ts_f32(e, 0.0f);
   ts_u64(e, 1); /* dynamic state */
   ts_u32(e, VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, dynamic_input_next ? 3 : 2);
   ts_u64(e, dynamic_input_next ? 3 : 2);
   ts_u32(e, VK_DYNAMIC_STATE_VIEWPORT);
   ts_u32(e, VK_DYNAMIC_STATE_SCISSOR);
   if (dynamic_input_next)
      ts_u32(e, VK_DYNAMIC_STATE_VERTEX_INPUT_EXT);
   ts_u64(e, PIPELINE_LAYOUT);
   ts_u64(e, RENDER_PASS);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, UINT32_MAX);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, PIPELINE);
}

static void
bind_graphics(struct test_stream *e)
{
   ts_cmd(e, T(vkCmdBindPipeline), 0);
   ts_u64(e, CMD);
   ts_u32(e, VK_PIPELINE_BIND_POINT_GRAPHICS);
   ts_u64(e, PIPELINE);
}

static void
bind_vertex(struct test_stream *e, uint32_t binding, uint64_t buffer, uint64_t offset)
{
   ts_cmd(e, T(vkCmdBindVertexBuffers), 0);
   ts_u64(e, CMD);
   ts_u32(e, binding);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, buffer);
   ts_u64(e, 1);
   ts_u64(e, offset);
}

static void
draw(struct test_stream *e, uint32_t vertices, uint32_t instances, uint32_t first_vertex,
     uint32_t first_instance)
{
   ts_cmd(e, T(vkCmdDraw), 0);
   ts_u64(e, CMD);
   ts_u32(e, vertices);
   ts_u32(e, instances);
   ts_u32(e, first_vertex);
   ts_u32(e, first_instance);
}

static void
draw_instances_indexed(struct test_stream *e, uint32_t instances)
{
   ts_cmd(e, T(vkCmdDrawIndexed), 0);
   ts_u64(e, CMD);
   ts_u32(e, 3);
   ts_u32(e, instances);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 0);
}

/* The pipeline bound inside RENDER_PASS, BUFFER (4096 bytes: 170 vertices
 * of 24 bytes) at binding 0, BUFFER2 (512 instances of 8 bytes) at 1. */
static void
draw_setup(struct test_stream *e, bool bind_instances)
{
   create_render_pass(e, false, 0);
   create_framebuffer(e, 1);
   create_graphics_pipeline(e, 1);
   begin(e, CMD);
   begin_render_pass(e);
   bind_graphics(e);
   bind_vertex(e, 0, BUFFER, 0);
   if (bind_instances)
      bind_vertex(e, 1, BUFFER2, 0);
}

static void
draw_finish(struct test_stream *e)
{
   ts_cmd(e, T(vkCmdEndRenderPass), 0);
   ts_u64(e, CMD);
   end(e, CMD);
   submit(e, CMD, 0, 0, 0);
   queue_wait_idle(e);
}

static void
draws_ok(struct test_stream *e)
{
   draw_setup(e, true);
   draw(e, 170, 1, 0, 0);
   draw(e, 3, 512, 0, 0);
   draw(e, 1, 1, 169, 511);
   draw(e, 0, 1, 4000, 0);   /* nothing drawn */
   draw(e, 3, 0, 0, 100000); /* nothing drawn */
   bind_index(e, BUFFER, VK_INDEX_TYPE_UINT16);
   draw_instances_indexed(e, 512); /* indices are not checked: zeros here */
   bind_vertex(e, 0, BUFFER, 24);  /* one vertex fewer */
   draw(e, 169, 1, 0, 0);
   draw_finish(e);
}

/* Indexed draws' vertices are not checked (the device reads the indices):
 * lavapipe bounds its vertex fetches whatever robustBufferAccess says.
 * Indices 0x5a5a5a5a (about 36 GB past a 4 KiB vertex buffer) are drawn
 * and the queue thread must survive them. */
static void
draw_indexed_far(struct test_stream *e)
{
   create_render_pass(e, false, 0);
   create_framebuffer(e, 1);
   create_graphics_pipeline(e, 1);
   begin(e, CMD);
   fill(e, CMD, BUFFER2, 0, VK_WHOLE_SIZE);
   begin_render_pass(e);
   bind_graphics(e);
   bind_vertex(e, 0, BUFFER, 0);
   bind_vertex(e, 1, BUFFER2, 0);
   bind_index(e, BUFFER2, VK_INDEX_TYPE_UINT32);
   draw_instances_indexed(e, 1);
   draw_finish(e);
}

static void
draw_vertex_past(struct test_stream *e)
{
   draw_setup(e, true);
   draw(e, 171, 1, 0, 0);
}

static void
draw_vertex_past_offset(struct test_stream *e)
{
   draw_setup(e, true);
   bind_vertex(e, 0, BUFFER, 24);
   draw(e, 1, 1, 169, 0);
}

/* a bind after a draw lowers the cached count without a recompute */
static void
draw_vertex_past_rebind(struct test_stream *e)
{
   draw_setup(e, true);
   draw(e, 3, 1, 0, 0);
   bind_vertex(e, 0, BUFFER, 24);
   draw(e, 170, 1, 0, 0);
}

/* ... and one that raises it again is found by the slow path */
static void
draw_rebind_ok(struct test_stream *e)
{
   draw_setup(e, true);
   draw(e, 3, 1, 0, 0);
   bind_vertex(e, 0, BUFFER, 24);
   draw(e, 169, 1, 0, 0);
   bind_vertex(e, 0, BUFFER, 0);
   draw(e, 170, 1, 0, 0);
   bind_vertex(e, 1, BUFFER, 8);
   draw(e, 3, 511, 0, 0);
   draw_finish(e);
}

static void
draw_vertex_huge(struct test_stream *e)
{
   draw_setup(e, true);
   draw(e, UINT32_MAX, 1, UINT32_MAX, 0);
}

static void
draw_instance_past(struct test_stream *e)
{
   draw_setup(e, true);
   draw(e, 3, 2, 0, 511);
}

static void
draw_indexed_instance_past(struct test_stream *e)
{
   draw_setup(e, true);
   bind_index(e, BUFFER, VK_INDEX_TYPE_UINT16);
   draw_instances_indexed(e, 513);
}

/* a run of draws: each one is checked, not only the first */
static void
draw_run_past(struct test_stream *e)
{
   draw_setup(e, true);
   draw(e, 3, 1, 0, 0);
   draw(e, 3, 1, 0, 0);
   draw(e, 3, 1, 168, 0);
}

static void
draw_indexed_run_past(struct test_stream *e)
{
   draw_setup(e, true);
   bind_index(e, BUFFER, VK_INDEX_TYPE_UINT16);
   draw_instances_indexed(e, 1);
   draw_indexed(e, 3, BUFFER_SIZE / 2 - 2);
}

static void
draw_binding_unbound(struct test_stream *e)
{
   draw_setup(e, false);
   draw(e, 3, 1, 0, 0);
}

static void
draw_outside_pass(struct test_stream *e)
{
   create_render_pass(e, false, 0);
   create_graphics_pipeline(e, 1);
   begin(e, CMD);
   bind_graphics(e);
   bind_vertex(e, 0, BUFFER, 0);
   bind_vertex(e, 1, BUFFER2, 0);
   draw(e, 3, 1, 0, 0);
}

static void
draw_pipeline_destroyed(struct test_stream *e)
{
   draw_setup(e, true);
   draw(e, 3, 1, 0, 0);
   destroy(e, T(vkDestroyPipeline), PIPELINE);
   draw(e, 3, 1, 0, 0);
}

static void
draw_buffer_destroyed(struct test_stream *e)
{
   draw_setup(e, true);
   destroy(e, T(vkDestroyBuffer), BUFFER2);
   draw(e, 3, 1, 0, 0);
}

/* After vkCmdExecuteCommands the primary's bindings are undefined */
static void
draw_after_execute(struct test_stream *e)
{
   create_render_pass(e, false, 0);
   create_framebuffer(e, 1);
   create_graphics_pipeline(e, 1);
   allocate_level(e, SECONDARY, VK_COMMAND_BUFFER_LEVEL_SECONDARY);
   begin_secondary(e, SECONDARY, true, 0);
   end(e, SECONDARY);
   begin(e, CMD);
   begin_render_pass_in(e, CMD, VK_SUBPASS_CONTENTS_SECONDARY_COMMAND_BUFFERS);
   bind_graphics(e);
   bind_vertex(e, 0, BUFFER, 0);
   bind_vertex(e, 1, BUFFER2, 0);
   execute(e, CMD, SECONDARY);
   draw(e, 3, 1, 0, 0);
}

static void
pipeline_attribute_unbound(struct test_stream *e)
{
   create_render_pass(e, false, 0);
   create_graphics_pipeline(e, 2);
}

static void
draw_indirect(struct test_stream *e)
{
   ts_cmd(e, T(vkCmdDrawIndirect), 0);
   ts_u64(e, CMD);
   ts_u64(e, BUFFER2);
   ts_u64(e, 0);
   ts_u32(e, 1);
   ts_u32(e, 16);
}

/* indirect draws: the same state checks, not the counts (read by the device) */
static void
draw_indirect_ok(struct test_stream *e)
{
   draw_setup(e, true);
   draw_indirect(e);
   draw_finish(e);
}

static void
draw_indirect_outside_pass(struct test_stream *e)
{
   draw_setup(e, true);
   ts_cmd(e, T(vkCmdEndRenderPass), 0);
   ts_u64(e, CMD);
   draw_indirect(e);
}

static void
draw_indirect_pipeline_destroyed(struct test_stream *e)
{
   draw_setup(e, true);
   destroy(e, T(vkDestroyPipeline), PIPELINE);
   draw_indirect(e);
}

/* robustBufferAccess enabled: the driver bounds vertex fetches */
static void
draw_robust(struct test_stream *e)
{
   draw_setup(e, true);
   draw(e, 171, 600, 0, 0);
   draw_finish(e);
}

static void
test_vertex_ranges(void)
{
   range_case(NULL, "draws inside the vertex buffers", draws_ok);
   range_case(NULL, "indexed draw of indices far past the vertex buffer (lavapipe bounds it)",
              draw_indexed_far);
   range_case("draw: vkCmdDraw: vertices 0..+171 beyond the bound vertex buffers (170 vertices",
              "171 vertices of 170", draw_vertex_past);
   range_case("vertices 169..+1 beyond the bound vertex buffers (169 vertices",
              "last vertex past a bind offset", draw_vertex_past_offset);
   range_case("vertices 0..+170 beyond the bound vertex buffers (169 vertices",
              "vertex buffer bound again at an offset after a draw", draw_vertex_past_rebind);
   range_case(NULL, "vertex buffers bound again, smaller then larger", draw_rebind_ok);
   range_case("beyond the bound vertex buffers", "firstVertex + vertexCount past 2^32",
              draw_vertex_huge);
   range_case("draw: vkCmdDraw: instances 511..+2 beyond the vertex buffer of binding 1 (512",
              "instances 511..512 of 512", draw_instance_past);
   range_case("draw: vkCmdDrawIndexed: instances 0..+513 beyond the vertex buffer of binding 1",
              "indexed draw of 513 instances", draw_indexed_instance_past);
   range_case("vertices 168..+3 beyond", "third draw of a run past the end", draw_run_past);
   range_case("recording: vkCmdDrawIndexed: indices beyond the bound index buffer",
              "second indexed draw of a run past the index buffer", draw_indexed_run_past);
   range_case("draw: vkCmdDraw: a binding the pipeline reads has no vertex buffer bound (binding 1",
              "instance binding never bound", draw_binding_unbound);
   range_case("draw: vkCmdDraw: outside a render pass instance", "draw outside a render pass",
              draw_outside_pass);
   range_case("draw: vkCmdDraw: the bound graphics pipeline was destroyed",
              "pipeline destroyed between bind and draw", draw_pipeline_destroyed);
   range_case("draw: vkCmdDraw: a vertex buffer bound was destroyed or its memory freed",
              "vertex buffer destroyed between bind and draw", draw_buffer_destroyed);
   range_case("recording: vkCmdDraw with no graphics pipeline bound",
              "draw after vkCmdExecuteCommands without a new bind", draw_after_execute);
   range_case("pipeline: vkCreateGraphicsPipelines create info 0: vertex attribute of a binding "
              "not described",
              "attribute of binding 2, which has no description", pipeline_attribute_unbound);
   range_case(NULL, "indirect draw inside the render pass", draw_indirect_ok);
   range_case("draw: vkCmdDrawIndirect: outside a render pass instance",
              "indirect draw after the render pass ended", draw_indirect_outside_pass);
   range_case("draw: vkCmdDrawIndirect: the bound graphics pipeline was destroyed",
              "indirect draw after its pipeline was destroyed", draw_indirect_pipeline_destroyed);
   robust_next = true;
   range_case(NULL, "draws past the buffers with robustBufferAccess", draw_robust);
   robust_next = false;
}

/* vkCmdSetVertexInputEXT: the layout of create_graphics_pipeline, the
 * instance binding with divisor `divisor` */
static void
set_vertex_input(struct test_stream *e, uint32_t divisor)
{
   ts_cmd(e, T(vkCmdSetVertexInputEXT), 0);
   ts_u64(e, CMD);
   ts_u32(e, 2);
   ts_u64(e, 2);
   const uint32_t bindings[2][4] = { { 0, 24, VK_VERTEX_INPUT_RATE_VERTEX, 1 },
                                     { 1, 8, VK_VERTEX_INPUT_RATE_INSTANCE, divisor } };
   for (int i = 0; i < 2; i++) {
      ts_u32(e, VK_STRUCTURE_TYPE_VERTEX_INPUT_BINDING_DESCRIPTION_2_EXT);
      ts_u64(e, 0);
      ts_bytes(e, bindings[i], sizeof(bindings[i]));
   }
   ts_u32(e, 3);
   ts_u64(e, 3);
   const uint32_t attributes[3][4] = { { 0, 0, VK_FORMAT_R32G32_SFLOAT, 0 },
                                       { 1, 0, VK_FORMAT_R32G32B32A32_SFLOAT, 8 },
                                       { 2, 1, VK_FORMAT_R32G32_SFLOAT, 0 } };
   for (int i = 0; i < 3; i++) {
      ts_u32(e, VK_STRUCTURE_TYPE_VERTEX_INPUT_ATTRIBUTE_DESCRIPTION_2_EXT);
      ts_u64(e, 0);
      ts_bytes(e, attributes[i], sizeof(attributes[i]));
   }
}

/* 512 instance elements with divisor 4: 2048 instances */
static void
dynamic_input_ok(struct test_stream *e)
{
   draw_setup(e, true);
   set_vertex_input(e, 4);
   draw(e, 170, 2048, 0, 0);
   draw(e, 3, 4, 0, 511); /* element firstInstance + (i - firstInstance) / 4: 511 */
   set_vertex_input(e, 0);
   draw(e, 3, 100000, 0, 511); /* divisor 0: element firstInstance only */
   draw_finish(e);
}

static void
dynamic_input_never_set(struct test_stream *e)
{
   draw_setup(e, true);
   draw(e, 3, 1, 0, 0);
}

static void
dynamic_input_divisor_past(struct test_stream *e)
{
   draw_setup(e, true);
   set_vertex_input(e, 4);
   draw(e, 3, 2049, 0, 0);
}

/* firstInstance is not divided */
static void
dynamic_input_first_past(struct test_stream *e)
{
   draw_setup(e, true);
   set_vertex_input(e, 4);
   draw(e, 3, 1, 0, 512);
}

static void
dynamic_input_vertex_past(struct test_stream *e)
{
   draw_setup(e, true);
   set_vertex_input(e, 1);
   draw(e, 171, 1, 0, 0);
}

static void
test_dynamic_vertex_input(void)
{
   dynamic_input_next = true;
   range_case(NULL, "vkCmdSetVertexInputEXT with divisors 4 and 0", dynamic_input_ok);
   range_case("draw: vkCmdDraw: vertex input state never set", "draw before vkCmdSetVertexInputEXT",
              dynamic_input_never_set);
   range_case("instances 0..+2049 beyond the vertex buffer of binding 1 (512 elements, divisor 4",
              "2049 instances of divisor 4 over 512 elements", dynamic_input_divisor_past);
   range_case("instances 512..+1 beyond the vertex buffer of binding 1 (512 elements, divisor 4",
              "firstInstance 512 of divisor 4 over 512 elements", dynamic_input_first_past);
   range_case("vertices 0..+171 beyond the bound vertex buffers (170 vertices",
              "171 vertices with the input set dynamically", dynamic_input_vertex_past);
   dynamic_input_next = false;
}

int
main(void)
{
   /* Keep lavapipe loaded past vkDestroyInstance so LeakSanitizer can name
    * (and suppress) what the driver keeps until exit. */
   dlopen("libvulkan_lvp.so", RTLD_NOW | RTLD_NODELETE);
   const struct pv_renderer_callbacks cbs = { 0 };
   CHECK(pv_renderer_create(&cbs, NULL, &renderer) == 0);
   test_destroy_pending();
   test_begin_pending();
   test_guest_fence();
   test_descriptors();
   test_bind_and_push();
   test_unwritten_descriptors();
   test_bind_points();
   test_execute_commands();
   test_submit_twice();
   test_pool_reset_pending();
   test_ranges();
   test_unbound_and_index_types();
   test_index_buffers();
   test_image_create();
   test_disjoint();
   test_inherited_formats();
   test_queries();
   test_render_passes();
   test_queues();
   test_binary_semaphores();
   test_spirv();
   test_recorded_uses();
   test_timeline_commands();
   test_push_samplers();
   test_resubmit();
   test_copy_blocks();
   test_descriptor_lifetimes();
   test_compare_samplers();
   test_levels();
   test_vertex_ranges();
   test_dynamic_vertex_input();
   pv_resource_unref(renderer, 1);
   pv_renderer_destroy(renderer);
   printf("ok\n");
   return 0;
}
