/* vkt: helper library of the Vulkan test programs; see vkt.h. */
#include "vkt.h"

#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

/* Longest a test waits on the GPU: generous for PearVisor, finite so a lost
 * renderer fails the test instead of hanging it. */
#define VKT_WAIT_NS (30ull * 1000 * 1000 * 1000)

void
vkt_fail(const char *file, int line, const char *what, VkResult result)
{
   pv_error("vkt", "%s:%d: %s failed: VkResult %d", file, line, what, (int)result);
}

static VKAPI_ATTR VkBool32 VKAPI_CALL
debug_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
              VkDebugUtilsMessageTypeFlagsEXT types,
              const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
   struct vkt_ctx *ctx = user;
   const char *msg = data && data->pMessage ? data->pMessage : "(no message)";

   if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
      ctx->validation_errors++;
      pv_error("vkt", "%s: debug message: %s", ctx->name, msg);
   } else if (types == VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT) {
      /* e.g. the loader noting layers enabled through the environment */
      pv_info("vkt", "%s: debug message: %s", ctx->name, msg);
   } else {
      pv_warn("vkt", "%s: debug message: %s", ctx->name, msg);
   }
   return VK_FALSE;
}

static bool
has_instance_extension(const char *name)
{
   uint32_t count = 0;
   bool found = false;

   if (vkEnumerateInstanceExtensionProperties(NULL, &count, NULL) != VK_SUCCESS || !count)
      return false;
   VkExtensionProperties *props = calloc(count, sizeof(*props));
   if (!props)
      return false;
   if (vkEnumerateInstanceExtensionProperties(NULL, &count, props) == VK_SUCCESS) {
      for (uint32_t i = 0; i < count && !found; i++)
         found = strcmp(props[i].extensionName, name) == 0;
   }
   free(props);
   return found;
}

static VkResult
create_instance(struct vkt_ctx *ctx, const struct vkt_options *opts)
{
   const char *debug_ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
   bool debug = has_instance_extension(debug_ext);
   VkDebugUtilsMessengerCreateInfoEXT messenger_info = {
      .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
      .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                         VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
      .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
      .pfnUserCallback = debug_message,
      .pUserData = ctx,
   };
   VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .pApplicationName = ctx->name,
      .pEngineName = "pearvisor-vkt",
      .apiVersion = opts && opts->vulkan13 ? VK_API_VERSION_1_3 : VK_API_VERSION_1_2,
   };
   VkInstanceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      /* catches messages of vkCreateInstance/vkDestroyInstance themselves */
      .pNext = debug ? &messenger_info : NULL,
      .pApplicationInfo = &app,
      .enabledExtensionCount = debug ? 1 : 0,
      .ppEnabledExtensionNames = &debug_ext,
   };

   VKT_CHECK(vkCreateInstance(&info, NULL, &ctx->instance));
   if (!debug)
      return VK_SUCCESS;

   PFN_vkCreateDebugUtilsMessengerEXT create_messenger =
      (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(ctx->instance,
                                                                "vkCreateDebugUtilsMessengerEXT");
   ctx->destroy_messenger = (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
      ctx->instance, "vkDestroyDebugUtilsMessengerEXT");
   if (!create_messenger || !ctx->destroy_messenger) {
      ctx->destroy_messenger = NULL;
      return VK_SUCCESS;
   }
   VKT_CHECK(create_messenger(ctx->instance, &messenger_info, NULL, &ctx->messenger));
   return VK_SUCCESS;
}

static VkResult
pick_physical_device(struct vkt_ctx *ctx)
{
   uint32_t count = 1;
   VkResult r = vkEnumeratePhysicalDevices(ctx->instance, &count, &ctx->physical_device);

   /* VK_INCOMPLETE: more than one device; the first one is the one we use */
   if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
      vkt_fail(__FILE__, __LINE__, "vkEnumeratePhysicalDevices", r);
      return r;
   }
   VKT_EXPECT(count >= 1, "no Vulkan physical device");
   vkGetPhysicalDeviceProperties(ctx->physical_device, &ctx->props);
   vkGetPhysicalDeviceMemoryProperties(ctx->physical_device, &ctx->mem_props);
   VKT_EXPECT(ctx->props.apiVersion >= VK_API_VERSION_1_2,
              "device %s supports Vulkan %u.%u only, 1.2 needed", ctx->props.deviceName,
              VK_API_VERSION_MAJOR(ctx->props.apiVersion),
              VK_API_VERSION_MINOR(ctx->props.apiVersion));

   uint32_t qcount = 0;
   vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical_device, &qcount, NULL);
   VkQueueFamilyProperties *families = calloc(qcount ? qcount : 1, sizeof(*families));
   if (!families)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical_device, &qcount, families);
   const VkQueueFlags want = VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT;
   ctx->queue_family = UINT32_MAX;
   for (uint32_t i = 0; i < qcount && ctx->queue_family == UINT32_MAX; i++) {
      if ((families[i].queueFlags & want) == want && families[i].queueCount > 0) {
         ctx->queue_family = i;
         ctx->timestamp_valid_bits = families[i].timestampValidBits;
      }
   }
   free(families);
   VKT_EXPECT(ctx->queue_family != UINT32_MAX, "no graphics+compute queue family");
   return VK_SUCCESS;
}

static VkResult
create_device(struct vkt_ctx *ctx, const struct vkt_options *opts)
{
   VkPhysicalDeviceFeatures supported;
   VkPhysicalDeviceFeatures features = { 0 };
   VkPhysicalDeviceTimelineSemaphoreFeatures timeline = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES,
      .timelineSemaphore = VK_TRUE,
   };
   const float priority = 1.0f;
   VkDeviceQueueCreateInfo queue_info = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .queueFamilyIndex = ctx->queue_family,
      .queueCount = 1,
      .pQueuePriorities = &priority,
   };
   VkDeviceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &queue_info,
      .pEnabledFeatures = &features,
   };

   vkGetPhysicalDeviceFeatures(ctx->physical_device, &supported);
   if (opts && opts->occlusion_query_precise) {
      VKT_EXPECT(supported.occlusionQueryPrecise, "occlusionQueryPrecise not supported");
      features.occlusionQueryPrecise = VK_TRUE;
   }
   if (opts && opts->timeline_semaphore) {
      VkPhysicalDeviceTimelineSemaphoreFeatures have = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES,
      };
      VkPhysicalDeviceFeatures2 f2 = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
         .pNext = &have,
      };
      vkGetPhysicalDeviceFeatures2(ctx->physical_device, &f2);
      VKT_EXPECT(have.timelineSemaphore, "timelineSemaphore not supported");
      info.pNext = &timeline;
   }

   VkPhysicalDeviceVulkan13Features v13 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
      .pNext = (void *)info.pNext,
      .synchronization2 = VK_TRUE,
      .dynamicRendering = VK_TRUE,
   };
   if (opts && opts->vulkan13) {
      VkPhysicalDeviceVulkan13Features have = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
      };
      VkPhysicalDeviceFeatures2 f2 = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
         .pNext = &have,
      };
      vkGetPhysicalDeviceFeatures2(ctx->physical_device, &f2);
      VKT_EXPECT(have.synchronization2 && have.dynamicRendering,
                 "synchronization2 (%u) or dynamicRendering (%u) not supported",
                 have.synchronization2, have.dynamicRendering);
      info.pNext = &v13;
   }

   VKT_CHECK(vkCreateDevice(ctx->physical_device, &info, NULL, &ctx->device));
   vkGetDeviceQueue(ctx->device, ctx->queue_family, 0, &ctx->queue);

   VkCommandPoolCreateInfo pool_info = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
      .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
      .queueFamilyIndex = ctx->queue_family,
   };
   VKT_CHECK(vkCreateCommandPool(ctx->device, &pool_info, NULL, &ctx->cmd_pool));
   return VK_SUCCESS;
}

VkResult
vkt_init(struct vkt_ctx *ctx, int argc, char **argv, const char *name,
         const struct vkt_options *opts)
{
   memset(ctx, 0, sizeof(*ctx));
   ctx->name = name;
   clock_gettime(CLOCK_MONOTONIC, &ctx->start);

   if (argc != 2) {
      pv_error("vkt", "usage: %s OUTPUT-FILE", argc > 0 ? argv[0] : name);
      return VK_ERROR_INITIALIZATION_FAILED;
   }
   ctx->out = fopen(argv[1], "wb");
   if (!ctx->out) {
      pv_error("vkt", "%s: cannot open %s for writing", name, argv[1]);
      return VK_ERROR_INITIALIZATION_FAILED;
   }

   VkResult r = create_instance(ctx, opts);
   if (r == VK_SUCCESS)
      r = pick_physical_device(ctx);
   if (r == VK_SUCCESS && opts && opts->vulkan13 && ctx->props.apiVersion < VK_API_VERSION_1_3) {
      pv_error("vkt", "device %s supports Vulkan %u.%u only, 1.3 needed", ctx->props.deviceName,
               VK_API_VERSION_MAJOR(ctx->props.apiVersion),
               VK_API_VERSION_MINOR(ctx->props.apiVersion));
      r = VK_ERROR_INCOMPATIBLE_DRIVER;
   }
   if (r == VK_SUCCESS)
      r = create_device(ctx, opts);
   if (r != VK_SUCCESS)
      (void)vkt_finish(ctx, r);
   return r;
}

static void
destroy_tracked(VkDevice dev, const struct vkt_tracked *t)
{
   uint64_t h = t->handle;

   switch (t->type) {
   case VK_OBJECT_TYPE_BUFFER:
      vkDestroyBuffer(dev, (VkBuffer)(uintptr_t)h, NULL);
      break;
   case VK_OBJECT_TYPE_IMAGE:
      vkDestroyImage(dev, (VkImage)(uintptr_t)h, NULL);
      break;
   case VK_OBJECT_TYPE_IMAGE_VIEW:
      vkDestroyImageView(dev, (VkImageView)(uintptr_t)h, NULL);
      break;
   case VK_OBJECT_TYPE_DEVICE_MEMORY:
      vkFreeMemory(dev, (VkDeviceMemory)(uintptr_t)h, NULL);
      break;
   case VK_OBJECT_TYPE_SHADER_MODULE:
      vkDestroyShaderModule(dev, (VkShaderModule)(uintptr_t)h, NULL);
      break;
   case VK_OBJECT_TYPE_RENDER_PASS:
      vkDestroyRenderPass(dev, (VkRenderPass)(uintptr_t)h, NULL);
      break;
   case VK_OBJECT_TYPE_FRAMEBUFFER:
      vkDestroyFramebuffer(dev, (VkFramebuffer)(uintptr_t)h, NULL);
      break;
   case VK_OBJECT_TYPE_PIPELINE_LAYOUT:
      vkDestroyPipelineLayout(dev, (VkPipelineLayout)(uintptr_t)h, NULL);
      break;
   case VK_OBJECT_TYPE_PIPELINE:
      vkDestroyPipeline(dev, (VkPipeline)(uintptr_t)h, NULL);
      break;
   case VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT:
      vkDestroyDescriptorSetLayout(dev, (VkDescriptorSetLayout)(uintptr_t)h, NULL);
      break;
   case VK_OBJECT_TYPE_DESCRIPTOR_POOL:
      vkDestroyDescriptorPool(dev, (VkDescriptorPool)(uintptr_t)h, NULL);
      break;
   case VK_OBJECT_TYPE_SAMPLER:
      vkDestroySampler(dev, (VkSampler)(uintptr_t)h, NULL);
      break;
   case VK_OBJECT_TYPE_FENCE:
      vkDestroyFence(dev, (VkFence)(uintptr_t)h, NULL);
      break;
   case VK_OBJECT_TYPE_SEMAPHORE:
      vkDestroySemaphore(dev, (VkSemaphore)(uintptr_t)h, NULL);
      break;
   case VK_OBJECT_TYPE_QUERY_POOL:
      vkDestroyQueryPool(dev, (VkQueryPool)(uintptr_t)h, NULL);
      break;
   case VK_OBJECT_TYPE_COMMAND_POOL:
      vkDestroyCommandPool(dev, (VkCommandPool)(uintptr_t)h, NULL);
      break;
   default:
      pv_error("vkt", "cannot destroy tracked object of type %d", (int)t->type);
      break;
   }
}

struct lib_names {
   char **names;
   size_t count, cap;
};

/* dl_iterate_phdr callback: only collects names. Calling dlopen here could
 * deadlock against another thread's dlopen (the two take glibc's loader
 * locks in opposite orders). */
static int
collect_library(struct dl_phdr_info *info, size_t size, void *data)
{
   struct lib_names *libs = data;

   (void)size;
   if (!info->dlpi_name || !info->dlpi_name[0])
      return 0;
   if (libs->count == libs->cap) {
      size_t cap = libs->cap ? libs->cap * 2 : 32;
      char **n = realloc(libs->names, cap * sizeof(*n));
      if (!n)
         return 1; /* stop: pinning is best effort */
      libs->names = n;
      libs->cap = cap;
   }
   libs->names[libs->count] = strdup(info->dlpi_name);
   if (libs->names[libs->count])
      libs->count++;
   return 0;
}

/* Keeps every loaded library (the ICD, layers, LLVM) mapped after the
 * loader's dlclose: driver caches that live until exit then stay reachable
 * for LeakSanitizer, or are reported against their library name (which
 * tests/sanitizers.supp suppresses) instead of as an "unknown module".
 * Best effort: a failure only means LSan may report such caches. */
static void
pin_loaded_libraries(void)
{
   struct lib_names libs = { 0 };

   dl_iterate_phdr(collect_library, &libs);
   for (size_t i = 0; i < libs.count; i++) {
      /* RTLD_NOLOAD: takes a reference on an already loaded library only */
      (void)dlopen(libs.names[i], RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
      free(libs.names[i]);
   }
   free(libs.names);
}

int
vkt_finish(struct vkt_ctx *ctx, VkResult result)
{
   bool ok = result == VK_SUCCESS;

   if (ctx->device) {
      VkResult r = vkDeviceWaitIdle(ctx->device);
      if (r != VK_SUCCESS) {
         vkt_fail(__FILE__, __LINE__, "vkDeviceWaitIdle", r);
         ok = false;
      }
      while (ctx->tracked_count > 0)
         destroy_tracked(ctx->device, &ctx->tracked[--ctx->tracked_count]);
      if (ctx->cmd_pool)
         vkDestroyCommandPool(ctx->device, ctx->cmd_pool, NULL);
      vkDestroyDevice(ctx->device, NULL);
   }
   free(ctx->tracked);
   ctx->tracked = NULL;
   pin_loaded_libraries();
   if (ctx->messenger)
      ctx->destroy_messenger(ctx->instance, ctx->messenger, NULL);
   if (ctx->instance)
      vkDestroyInstance(ctx->instance, NULL);
   if (ctx->out && fclose(ctx->out) != 0) {
      pv_error("vkt", "%s: writing the output failed", ctx->name);
      ok = false;
   }
   if (ctx->validation_errors) {
      pv_error("vkt", "%s: %u error message(s) from the debug messenger", ctx->name,
               ctx->validation_errors);
      ok = false;
   }

   struct timespec end;
   clock_gettime(CLOCK_MONOTONIC, &end);
   double wall =
      (double)(end.tv_sec - ctx->start.tv_sec) + (double)(end.tv_nsec - ctx->start.tv_nsec) * 1e-9;
   /* the program's timing report, parsed by tests/run-compare.sh */
   fprintf(stderr, "vkt: %s: wall %.3f s on %s%s\n", ctx->name, wall,
           ctx->props.deviceName[0] ? ctx->props.deviceName : "no device", ok ? "" : " (FAILED)");
   return ok ? 0 : 1;
}

VkResult
vkt_track(struct vkt_ctx *ctx, VkObjectType type, uint64_t handle)
{
   struct vkt_tracked t = { type, handle };

   if (ctx->tracked_count == ctx->tracked_cap) {
      size_t cap = ctx->tracked_cap ? ctx->tracked_cap * 2 : 64;
      struct vkt_tracked *n = realloc(ctx->tracked, cap * sizeof(*n));
      if (!n) {
         destroy_tracked(ctx->device, &t);
         pv_error("vkt", "out of memory tracking objects");
         return VK_ERROR_OUT_OF_HOST_MEMORY;
      }
      ctx->tracked = n;
      ctx->tracked_cap = cap;
   }
   ctx->tracked[ctx->tracked_count++] = t;
   return VK_SUCCESS;
}

VkResult
vkt_output(struct vkt_ctx *ctx, const void *data, size_t size)
{
   if (size && fwrite(data, 1, size, ctx->out) != size) {
      pv_error("vkt", "%s: short write to the output", ctx->name);
      return VK_ERROR_UNKNOWN;
   }
   return VK_SUCCESS;
}

int
vkt_memory_type(const struct vkt_ctx *ctx, uint32_t type_bits, VkMemoryPropertyFlags required,
                VkMemoryPropertyFlags preferred)
{
   int fallback = -1;

   for (uint32_t i = 0; i < ctx->mem_props.memoryTypeCount; i++) {
      VkMemoryPropertyFlags f = ctx->mem_props.memoryTypes[i].propertyFlags;
      if (!(type_bits & (1u << i)) || (f & required) != required)
         continue;
      if ((f & preferred) == preferred)
         return (int)i;
      if (fallback < 0)
         fallback = (int)i;
   }
   return fallback;
}

/* Buffer + memory (+ mapping), not tracked; the caller owns both. */
static VkResult
buffer_create_raw(struct vkt_ctx *ctx, VkDeviceSize size, VkBufferUsageFlags usage,
                  VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred,
                  struct vkt_buffer *out)
{
   VkBufferCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = size,
      .usage = usage,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
   };
   VkMemoryRequirements req;

   memset(out, 0, sizeof(*out));
   out->size = size;
   VKT_CHECK(vkCreateBuffer(ctx->device, &info, NULL, &out->buffer));
   vkGetBufferMemoryRequirements(ctx->device, out->buffer, &req);
   int type = vkt_memory_type(ctx, req.memoryTypeBits, required, preferred);
   if (type < 0) {
      vkDestroyBuffer(ctx->device, out->buffer, NULL);
      VKT_EXPECT(false, "no memory type with flags 0x%x for a buffer", (unsigned)required);
   }
   out->memory_type = (uint32_t)type;
   VkMemoryAllocateInfo alloc = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = req.size,
      .memoryTypeIndex = (uint32_t)type,
   };
   VkResult r = vkAllocateMemory(ctx->device, &alloc, NULL, &out->memory);
   if (r == VK_SUCCESS)
      r = vkBindBufferMemory(ctx->device, out->buffer, out->memory, 0);
   if (r == VK_SUCCESS && (required & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
      r = vkMapMemory(ctx->device, out->memory, 0, VK_WHOLE_SIZE, 0, &out->map);
   if (r != VK_SUCCESS) {
      vkt_fail(__FILE__, __LINE__, "allocating/binding/mapping buffer memory", r);
      vkDestroyBuffer(ctx->device, out->buffer, NULL);
      if (out->memory)
         vkFreeMemory(ctx->device, out->memory, NULL);
      memset(out, 0, sizeof(*out));
   }
   return r;
}

static void
buffer_destroy_raw(struct vkt_ctx *ctx, struct vkt_buffer *buf)
{
   vkDestroyBuffer(ctx->device, buf->buffer, NULL);
   vkFreeMemory(ctx->device, buf->memory, NULL);
   memset(buf, 0, sizeof(*buf));
}

VkResult
vkt_create_buffer(struct vkt_ctx *ctx, VkDeviceSize size, VkBufferUsageFlags usage,
                  VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred,
                  struct vkt_buffer *out)
{
   VKT_CHECK(buffer_create_raw(ctx, size, usage, required, preferred, out));
   /* memory first: reverse-order destruction frees the buffer before it */
   VkResult r = vkt_track(ctx, VK_OBJECT_TYPE_DEVICE_MEMORY, VKT_HANDLE(out->memory));
   if (r != VK_SUCCESS) {
      vkDestroyBuffer(ctx->device, out->buffer, NULL);
      return r;
   }
   return vkt_track(ctx, VK_OBJECT_TYPE_BUFFER, VKT_HANDLE(out->buffer));
}

VkResult
vkt_create_host_buffer(struct vkt_ctx *ctx, VkDeviceSize size, VkBufferUsageFlags usage,
                       struct vkt_buffer *out)
{
   return vkt_create_buffer(
      ctx, size, usage | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0, out);
}

VkResult
vkt_invalidate_buffer(struct vkt_ctx *ctx, const struct vkt_buffer *buf)
{
   VkMemoryPropertyFlags f = ctx->mem_props.memoryTypes[buf->memory_type].propertyFlags;
   VkMappedMemoryRange range = {
      .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
      .memory = buf->memory,
      .offset = 0,
      .size = VK_WHOLE_SIZE,
   };

   if (f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)
      return VK_SUCCESS;
   VKT_CHECK(vkInvalidateMappedMemoryRanges(ctx->device, 1, &range));
   return VK_SUCCESS;
}

static uint32_t
format_texel_size(VkFormat format)
{
   switch (format) {
   case VK_FORMAT_R8_UNORM:
      return 1;
   case VK_FORMAT_R8G8B8A8_UNORM:
   case VK_FORMAT_B8G8R8A8_UNORM:
   case VK_FORMAT_R32_UINT:
   case VK_FORMAT_R32_SFLOAT:
      return 4;
   case VK_FORMAT_R32G32B32A32_SFLOAT:
      return 16;
   default:
      return 0;
   }
}

VkResult
vkt_create_image(struct vkt_ctx *ctx, VkFormat format, uint32_t width, uint32_t height,
                 VkImageUsageFlags usage, struct vkt_image *out)
{
   VkImageCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
      .imageType = VK_IMAGE_TYPE_2D,
      .format = format,
      .extent = { width, height, 1 },
      .mipLevels = 1,
      .arrayLayers = 1,
      .samples = VK_SAMPLE_COUNT_1_BIT,
      .tiling = VK_IMAGE_TILING_OPTIMAL,
      .usage = usage,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
      .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
   };
   VkMemoryRequirements req;

   memset(out, 0, sizeof(*out));
   out->format = format;
   out->width = width;
   out->height = height;
   out->texel_size = format_texel_size(format);
   VKT_EXPECT(out->texel_size, "format %d unknown to vkt", (int)format);

   VKT_CHECK(vkCreateImage(ctx->device, &info, NULL, &out->image));
   vkGetImageMemoryRequirements(ctx->device, out->image, &req);
   int type = vkt_memory_type(ctx, req.memoryTypeBits, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
   VkMemoryAllocateInfo alloc = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = req.size,
      .memoryTypeIndex = (uint32_t)(type < 0 ? 0 : type),
   };
   VkResult r = type < 0 ? VK_ERROR_OUT_OF_DEVICE_MEMORY
                         : vkAllocateMemory(ctx->device, &alloc, NULL, &out->memory);
   if (r != VK_SUCCESS) {
      vkt_fail(__FILE__, __LINE__, "allocating image memory", r);
      vkDestroyImage(ctx->device, out->image, NULL);
      return r;
   }
   /* memory tracked first: destroyed after the image */
   r = vkt_track(ctx, VK_OBJECT_TYPE_DEVICE_MEMORY, VKT_HANDLE(out->memory));
   if (r != VK_SUCCESS) {
      vkDestroyImage(ctx->device, out->image, NULL);
      return r;
   }
   VKT_CHECK(vkt_track(ctx, VK_OBJECT_TYPE_IMAGE, VKT_HANDLE(out->image)));
   VKT_CHECK(vkBindImageMemory(ctx->device, out->image, out->memory, 0));

   const VkImageUsageFlags view_usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_STORAGE_BIT |
                                        VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT |
                                        VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT;
   if (!(usage & view_usage))
      return VK_SUCCESS;
   VkImageViewCreateInfo view_info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
      .image = out->image,
      .viewType = VK_IMAGE_VIEW_TYPE_2D,
      .format = format,
      .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
   };
   VKT_CHECK(vkCreateImageView(ctx->device, &view_info, NULL, &out->view));
   return vkt_track(ctx, VK_OBJECT_TYPE_IMAGE_VIEW, VKT_HANDLE(out->view));
}

VkResult
vkt_create_shader(struct vkt_ctx *ctx, const uint32_t *code, size_t code_size, VkShaderModule *out)
{
   VkShaderModuleCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
      .codeSize = code_size,
      .pCode = code,
   };

   VKT_CHECK(vkCreateShaderModule(ctx->device, &info, NULL, out));
   return vkt_track(ctx, VK_OBJECT_TYPE_SHADER_MODULE, VKT_HANDLE(*out));
}

VkResult
vkt_create_color_pass(struct vkt_ctx *ctx, VkFormat format, VkAttachmentLoadOp load_op,
                      VkImageLayout initial_layout, VkImageLayout final_layout, VkRenderPass *out)
{
   VkAttachmentDescription att = {
      .format = format,
      .samples = VK_SAMPLE_COUNT_1_BIT,
      .loadOp = load_op,
      .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
      .stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE,
      .stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
      .initialLayout = initial_layout,
      .finalLayout = final_layout,
   };
   VkAttachmentReference ref = { 0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
   VkSubpassDescription subpass = {
      .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
      .colorAttachmentCount = 1,
      .pColorAttachments = &ref,
   };
   VkSubpassDependency deps[2] = {
      {
         .srcSubpass = VK_SUBPASS_EXTERNAL,
         .dstSubpass = 0,
         .srcStageMask =
            VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
         .dstStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
         .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
         .dstAccessMask =
            VK_ACCESS_COLOR_ATTACHMENT_READ_BIT | VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
      },
      {
         .srcSubpass = 0,
         .dstSubpass = VK_SUBPASS_EXTERNAL,
         .srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
         .dstStageMask = VK_PIPELINE_STAGE_TRANSFER_BIT,
         .srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
         .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT,
      },
   };
   VkRenderPassCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
      .attachmentCount = 1,
      .pAttachments = &att,
      .subpassCount = 1,
      .pSubpasses = &subpass,
      .dependencyCount = 2,
      .pDependencies = deps,
   };

   VKT_CHECK(vkCreateRenderPass(ctx->device, &info, NULL, out));
   return vkt_track(ctx, VK_OBJECT_TYPE_RENDER_PASS, VKT_HANDLE(*out));
}

VkResult
vkt_create_framebuffer(struct vkt_ctx *ctx, VkRenderPass pass, const struct vkt_image *img,
                       VkFramebuffer *out)
{
   VkFramebufferCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
      .renderPass = pass,
      .attachmentCount = 1,
      .pAttachments = &img->view,
      .width = img->width,
      .height = img->height,
      .layers = 1,
   };

   VKT_CHECK(vkCreateFramebuffer(ctx->device, &info, NULL, out));
   return vkt_track(ctx, VK_OBJECT_TYPE_FRAMEBUFFER, VKT_HANDLE(*out));
}

VkResult
vkt_create_target(struct vkt_ctx *ctx, uint32_t width, uint32_t height, struct vkt_target *out)
{
   VKT_CHECK(vkt_create_image(ctx, VK_FORMAT_R8G8B8A8_UNORM, width, height,
                              VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                              &out->img));
   VKT_CHECK(vkt_create_color_pass(ctx, out->img.format, VK_ATTACHMENT_LOAD_OP_CLEAR,
                                   VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                                   &out->pass));
   return vkt_create_framebuffer(ctx, out->pass, &out->img, &out->fb);
}

void
vkt_begin_target(VkCommandBuffer cmd, const struct vkt_target *t, const float clear_rgba[4])
{
   VkClearValue clear;
   memcpy(clear.color.float32, clear_rgba, sizeof(clear.color.float32));
   VkRenderPassBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
      .renderPass = t->pass,
      .framebuffer = t->fb,
      .renderArea = { { 0, 0 }, { t->img.width, t->img.height } },
      .clearValueCount = 1,
      .pClearValues = &clear,
   };
   vkCmdBeginRenderPass(cmd, &begin, VK_SUBPASS_CONTENTS_INLINE);
}

VkResult
vkt_create_pipeline_layout(struct vkt_ctx *ctx, uint32_t set_layout_count,
                           const VkDescriptorSetLayout *set_layouts, VkShaderStageFlags push_stages,
                           uint32_t push_size, VkPipelineLayout *out)
{
   VkPushConstantRange range = { push_stages, 0, push_size };
   VkPipelineLayoutCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = set_layout_count,
      .pSetLayouts = set_layouts,
      .pushConstantRangeCount = push_size ? 1 : 0,
      .pPushConstantRanges = push_size ? &range : NULL,
   };

   VKT_CHECK(vkCreatePipelineLayout(ctx->device, &info, NULL, out));
   return vkt_track(ctx, VK_OBJECT_TYPE_PIPELINE_LAYOUT, VKT_HANDLE(*out));
}

VkResult
vkt_create_graphics_pipeline(struct vkt_ctx *ctx, const struct vkt_gfx_desc *desc, VkPipeline *out)
{
   VkPipelineShaderStageCreateInfo stages[2] = {
      {
         .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
         .stage = VK_SHADER_STAGE_VERTEX_BIT,
         .module = desc->vert,
         .pName = "main",
      },
      {
         .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
         .stage = VK_SHADER_STAGE_FRAGMENT_BIT,
         .module = desc->frag,
         .pName = "main",
      },
   };
   VkPipelineVertexInputStateCreateInfo no_input = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO,
   };
   VkPipelineInputAssemblyStateCreateInfo ia = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO,
      .topology = desc->topology,
   };
   VkViewport viewport = { 0, 0, (float)desc->width, (float)desc->height, 0, 1 };
   VkRect2D scissor = { { 0, 0 }, { desc->width, desc->height } };
   VkPipelineViewportStateCreateInfo vp = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
      .viewportCount = 1,
      .pViewports = &viewport,
      .scissorCount = 1,
      .pScissors = &scissor,
   };
   VkPipelineRasterizationStateCreateInfo rs = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
      .polygonMode = VK_POLYGON_MODE_FILL,
      .cullMode = VK_CULL_MODE_NONE,
      .frontFace = VK_FRONT_FACE_COUNTER_CLOCKWISE,
      .lineWidth = 1.0f,
   };
   VkPipelineMultisampleStateCreateInfo ms = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
      .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT,
   };
   VkPipelineColorBlendAttachmentState blend = {
      .blendEnable = desc->blend ? VK_TRUE : VK_FALSE,
      .srcColorBlendFactor = VK_BLEND_FACTOR_SRC_ALPHA,
      .dstColorBlendFactor = VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA,
      .colorBlendOp = VK_BLEND_OP_ADD,
      .srcAlphaBlendFactor = VK_BLEND_FACTOR_ONE,
      .dstAlphaBlendFactor = VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA,
      .alphaBlendOp = VK_BLEND_OP_ADD,
      .colorWriteMask = VK_COLOR_COMPONENT_R_BIT | VK_COLOR_COMPONENT_G_BIT |
                        VK_COLOR_COMPONENT_B_BIT | VK_COLOR_COMPONENT_A_BIT,
   };
   VkPipelineColorBlendStateCreateInfo cb = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO,
      .attachmentCount = 1,
      .pAttachments = &blend,
   };
   VkGraphicsPipelineCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
      .stageCount = 2,
      .pStages = stages,
      .pVertexInputState = desc->vertex_input ? desc->vertex_input : &no_input,
      .pInputAssemblyState = &ia,
      .pViewportState = &vp,
      .pRasterizationState = &rs,
      .pMultisampleState = &ms,
      .pColorBlendState = &cb,
      .layout = desc->layout,
      .renderPass = desc->pass,
      .subpass = 0,
   };

   VKT_CHECK(vkCreateGraphicsPipelines(ctx->device, VK_NULL_HANDLE, 1, &info, NULL, out));
   return vkt_track(ctx, VK_OBJECT_TYPE_PIPELINE, VKT_HANDLE(*out));
}

VkResult
vkt_create_compute_pipeline(struct vkt_ctx *ctx, VkShaderModule comp, VkPipelineLayout layout,
                            VkPipeline *out)
{
   VkComputePipelineCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage = {
         .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
         .stage = VK_SHADER_STAGE_COMPUTE_BIT,
         .module = comp,
         .pName = "main",
      },
      .layout = layout,
   };

   VKT_CHECK(vkCreateComputePipelines(ctx->device, VK_NULL_HANDLE, 1, &info, NULL, out));
   return vkt_track(ctx, VK_OBJECT_TYPE_PIPELINE, VKT_HANDLE(*out));
}

VkResult
vkt_begin_once(struct vkt_ctx *ctx, VkCommandBuffer *cmd)
{
   VkCommandBufferAllocateInfo alloc = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = ctx->cmd_pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
   };
   VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
   };

   VKT_CHECK(vkAllocateCommandBuffers(ctx->device, &alloc, cmd));
   VkResult r = vkBeginCommandBuffer(*cmd, &begin);
   if (r != VK_SUCCESS) {
      vkt_fail(__FILE__, __LINE__, "vkBeginCommandBuffer", r);
      vkFreeCommandBuffers(ctx->device, ctx->cmd_pool, 1, cmd);
   }
   return r;
}

VkResult
vkt_end_once(struct vkt_ctx *ctx, VkCommandBuffer cmd)
{
   VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = 1,
      .pCommandBuffers = &cmd,
   };
   VkFence fence = VK_NULL_HANDLE;

   VkResult r = vkEndCommandBuffer(cmd);
   if (r == VK_SUCCESS)
      r = vkCreateFence(ctx->device, &fence_info, NULL, &fence);
   if (r == VK_SUCCESS)
      r = vkQueueSubmit(ctx->queue, 1, &submit, fence);
   if (r == VK_SUCCESS)
      r = vkWaitForFences(ctx->device, 1, &fence, VK_TRUE, VKT_WAIT_NS);
   if (r != VK_SUCCESS) {
      vkt_fail(__FILE__, __LINE__, "ending/submitting/waiting a one-shot command buffer", r);
      /* the GPU may still use it: leave it to vkt_finish's wait-idle */
      if (fence)
         (void)vkt_track(ctx, VK_OBJECT_TYPE_FENCE, VKT_HANDLE(fence));
      return r == VK_TIMEOUT ? VK_ERROR_DEVICE_LOST : r;
   }
   vkDestroyFence(ctx->device, fence, NULL);
   vkFreeCommandBuffers(ctx->device, ctx->cmd_pool, 1, &cmd);
   return VK_SUCCESS;
}

void
vkt_image_barrier(VkCommandBuffer cmd, VkImage image, VkImageLayout old_layout,
                  VkImageLayout new_layout, VkPipelineStageFlags src_stage,
                  VkAccessFlags src_access, VkPipelineStageFlags dst_stage,
                  VkAccessFlags dst_access)
{
   VkImageMemoryBarrier b = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
      .srcAccessMask = src_access,
      .dstAccessMask = dst_access,
      .oldLayout = old_layout,
      .newLayout = new_layout,
      .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .image = image,
      .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
   };

   vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &b);
}

/* Copies `size` bytes of a host buffer's mapping to dst after the GPU wrote it. */
static VkResult
copy_out(struct vkt_ctx *ctx, struct vkt_buffer *staging, void *dst, size_t size)
{
   VkResult r = vkt_invalidate_buffer(ctx, staging);
   if (r == VK_SUCCESS)
      memcpy(dst, staging->map, size);
   buffer_destroy_raw(ctx, staging);
   return r;
}

static const VkMemoryBarrier to_host = {
   .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
   .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
   .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
};

VkResult
vkt_read_image(struct vkt_ctx *ctx, const struct vkt_image *img, VkImageLayout layout, void *dst,
               size_t dst_size)
{
   const VkDeviceSize size = (VkDeviceSize)img->width * img->height * img->texel_size;
   struct vkt_buffer staging;
   VkCommandBuffer cmd;

   VKT_EXPECT(dst_size == size, "read_image: %zu bytes asked, image has %llu", dst_size,
              (unsigned long long)size);
   VKT_CHECK(buffer_create_raw(ctx, size, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                               VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                               VK_MEMORY_PROPERTY_HOST_CACHED_BIT, &staging));
   VkResult r = vkt_begin_once(ctx, &cmd);
   if (r != VK_SUCCESS) {
      buffer_destroy_raw(ctx, &staging);
      return r;
   }
   vkt_image_barrier(cmd, img->image, layout, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                     VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_ACCESS_MEMORY_WRITE_BIT,
                     VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
   VkBufferImageCopy region = {
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { img->width, img->height, 1 },
   };
   vkCmdCopyImageToBuffer(cmd, img->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, staging.buffer, 1,
                          &region);
   vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                        &to_host, 0, NULL, 0, NULL);
   r = vkt_end_once(ctx, cmd);
   if (r != VK_SUCCESS) {
      /* the GPU may still write it; vkt_finish's wait-idle comes first */
      (void)vkt_track(ctx, VK_OBJECT_TYPE_DEVICE_MEMORY, VKT_HANDLE(staging.memory));
      (void)vkt_track(ctx, VK_OBJECT_TYPE_BUFFER, VKT_HANDLE(staging.buffer));
      return r;
   }
   return copy_out(ctx, &staging, dst, (size_t)size);
}

VkResult
vkt_output_image(struct vkt_ctx *ctx, const struct vkt_image *img, VkImageLayout layout)
{
   size_t size = (size_t)img->width * img->height * img->texel_size;
   void *data = malloc(size);

   if (!data)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   VkResult r = vkt_read_image(ctx, img, layout, data, size);
   if (r == VK_SUCCESS)
      r = vkt_output(ctx, data, size);
   free(data);
   return r;
}

VkResult
vkt_read_buffer(struct vkt_ctx *ctx, VkBuffer buffer, VkDeviceSize offset, VkDeviceSize size,
                void *dst)
{
   struct vkt_buffer staging;
   VkCommandBuffer cmd;

   VKT_CHECK(buffer_create_raw(ctx, size, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                               VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                               VK_MEMORY_PROPERTY_HOST_CACHED_BIT, &staging));
   VkResult r = vkt_begin_once(ctx, &cmd);
   if (r != VK_SUCCESS) {
      buffer_destroy_raw(ctx, &staging);
      return r;
   }
   VkMemoryBarrier before = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT,
   };
   vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0,
                        1, &before, 0, NULL, 0, NULL);
   VkBufferCopy region = { offset, 0, size };
   vkCmdCopyBuffer(cmd, buffer, staging.buffer, 1, &region);
   vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                        &to_host, 0, NULL, 0, NULL);
   r = vkt_end_once(ctx, cmd);
   if (r != VK_SUCCESS) {
      (void)vkt_track(ctx, VK_OBJECT_TYPE_DEVICE_MEMORY, VKT_HANDLE(staging.memory));
      (void)vkt_track(ctx, VK_OBJECT_TYPE_BUFFER, VKT_HANDLE(staging.buffer));
      return r;
   }
   return copy_out(ctx, &staging, dst, (size_t)size);
}

VkResult
vkt_output_buffer(struct vkt_ctx *ctx, VkBuffer buffer, VkDeviceSize offset, VkDeviceSize size)
{
   void *data = malloc((size_t)size);

   if (!data)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   VkResult r = vkt_read_buffer(ctx, buffer, offset, size, data);
   if (r == VK_SUCCESS)
      r = vkt_output(ctx, data, (size_t)size);
   free(data);
   return r;
}
