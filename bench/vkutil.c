#include "vkutil.h"

#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
vkb_result_str(VkResult res)
{
   switch (res) {
   case VK_SUCCESS:
      return "VK_SUCCESS";
   case VK_NOT_READY:
      return "VK_NOT_READY";
   case VK_TIMEOUT:
      return "VK_TIMEOUT";
   case VK_INCOMPLETE:
      return "VK_INCOMPLETE";
   case VK_ERROR_OUT_OF_HOST_MEMORY:
      return "VK_ERROR_OUT_OF_HOST_MEMORY";
   case VK_ERROR_OUT_OF_DEVICE_MEMORY:
      return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
   case VK_ERROR_INITIALIZATION_FAILED:
      return "VK_ERROR_INITIALIZATION_FAILED";
   case VK_ERROR_DEVICE_LOST:
      return "VK_ERROR_DEVICE_LOST";
   case VK_ERROR_MEMORY_MAP_FAILED:
      return "VK_ERROR_MEMORY_MAP_FAILED";
   case VK_ERROR_LAYER_NOT_PRESENT:
      return "VK_ERROR_LAYER_NOT_PRESENT";
   case VK_ERROR_EXTENSION_NOT_PRESENT:
      return "VK_ERROR_EXTENSION_NOT_PRESENT";
   case VK_ERROR_FEATURE_NOT_PRESENT:
      return "VK_ERROR_FEATURE_NOT_PRESENT";
   case VK_ERROR_INCOMPATIBLE_DRIVER:
      return "VK_ERROR_INCOMPATIBLE_DRIVER";
   case VK_ERROR_TOO_MANY_OBJECTS:
      return "VK_ERROR_TOO_MANY_OBJECTS";
   case VK_ERROR_FORMAT_NOT_SUPPORTED:
      return "VK_ERROR_FORMAT_NOT_SUPPORTED";
   case VK_ERROR_UNKNOWN:
      return "VK_ERROR_UNKNOWN";
   default:
      return "VkResult(other)";
   }
}

VkResult
vkb_fail(struct vkb *b, VkResult res, const char *what)
{
   snprintf(b->err, sizeof(b->err), "%s: %s (%d)", what, vkb_result_str(res), (int)res);
   return res;
}

VkResult
vkb_create_instance(struct vkb *b)
{
   const VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .pApplicationName = "pvbench",
      /* 1.2: with 1.1, Mesa 22.3's venus chains one features struct per
       * extension (longer than PearVisor's pNext depth limit today). */
      .apiVersion = VK_API_VERSION_1_2,
   };
   const VkInstanceCreateInfo ici = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
   };
   VkResult res = vkCreateInstance(&ici, NULL, &b->instance);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateInstance");

   uint32_t count = 1;
   res = vkEnumeratePhysicalDevices(b->instance, &count, &b->pdev);
   if ((res != VK_SUCCESS && res != VK_INCOMPLETE) || count == 0) {
      vkDestroyInstance(b->instance, NULL);
      b->instance = VK_NULL_HANDLE;
      return vkb_fail(b, res == VK_SUCCESS ? VK_ERROR_INITIALIZATION_FAILED : res,
                      "vkEnumeratePhysicalDevices (no device)");
   }
   vkGetPhysicalDeviceProperties(b->pdev, &b->props);
   vkGetPhysicalDeviceMemoryProperties(b->pdev, &b->memprops);
   return VK_SUCCESS;
}

static bool
find_queue_family(VkPhysicalDevice pdev, uint32_t *out)
{
   VkQueueFamilyProperties fams[16];
   uint32_t n = 16;
   vkGetPhysicalDeviceQueueFamilyProperties(pdev, &n, fams);
   const VkQueueFlags want = VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT;
   for (uint32_t i = 0; i < n; i++) {
      if ((fams[i].queueFlags & want) == want && fams[i].queueCount > 0) {
         *out = i;
         return true;
      }
   }
   return false;
}

/* the device extension that carries a queue's global priority, or NULL */
static const char *
global_priority_extension(VkPhysicalDevice pdev)
{
   uint32_t n = 0;
   if (vkEnumerateDeviceExtensionProperties(pdev, NULL, &n, NULL) != VK_SUCCESS || !n)
      return NULL;
   VkExtensionProperties *exts = calloc(n, sizeof(*exts));
   VkResult res = exts ? vkEnumerateDeviceExtensionProperties(pdev, NULL, &n, exts)
                       : VK_ERROR_OUT_OF_HOST_MEMORY;
   const char *found = NULL;
   for (uint32_t i = 0; (res == VK_SUCCESS || res == VK_INCOMPLETE) && i < n; i++) {
      if (!strcmp(exts[i].extensionName, VK_KHR_GLOBAL_PRIORITY_EXTENSION_NAME)) {
         found = VK_KHR_GLOBAL_PRIORITY_EXTENSION_NAME;
         break;
      }
      if (!strcmp(exts[i].extensionName, VK_EXT_GLOBAL_PRIORITY_EXTENSION_NAME))
         found = VK_EXT_GLOBAL_PRIORITY_EXTENSION_NAME;
   }
   free(exts);
   return found;
}

VkResult
vkb_create_device(struct vkb *b)
{
   if (!find_queue_family(b->pdev, &b->qfam))
      return vkb_fail(b, VK_ERROR_FEATURE_NOT_PRESENT, "no graphics+compute queue family");
   const float prio = 1.0f;
   const VkDeviceQueueGlobalPriorityCreateInfoKHR gp = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_GLOBAL_PRIORITY_CREATE_INFO_KHR,
      .globalPriority = b->priority,
   };
   const char *gp_ext = b->priority ? global_priority_extension(b->pdev) : NULL;
   if (b->priority && !gp_ext)
      return vkb_fail(b, VK_ERROR_EXTENSION_NOT_PRESENT, "global priority extension");
   const VkDeviceQueueCreateInfo qci = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .pNext = b->priority ? &gp : NULL,
      .queueFamilyIndex = b->qfam,
      .queueCount = 1,
      .pQueuePriorities = &prio,
   };
   const VkDeviceCreateInfo dci = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &qci,
      .enabledExtensionCount = gp_ext ? 1 : 0,
      .ppEnabledExtensionNames = gp_ext ? &gp_ext : NULL,
   };
   VkResult res = vkCreateDevice(b->pdev, &dci, NULL, &b->dev);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateDevice");
   vkGetDeviceQueue(b->dev, b->qfam, 0, &b->queue);
   if (b->queue == VK_NULL_HANDLE)
      return vkb_fail(b, VK_ERROR_INITIALIZATION_FAILED, "vkGetDeviceQueue returned NULL");
   return VK_SUCCESS;
}

VkResult
vkb_init(struct vkb *b)
{
   const VkQueueGlobalPriorityKHR priority = b->priority;
   memset(b, 0, sizeof(*b));
   b->priority = priority;
   VkResult res = vkb_create_instance(b);
   if (res != VK_SUCCESS)
      return res;
   res = vkb_create_device(b);
   if (res != VK_SUCCESS)
      return res;
   const VkCommandPoolCreateInfo pci = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
      .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
      .queueFamilyIndex = b->qfam,
   };
   res = vkCreateCommandPool(b->dev, &pci, NULL, &b->pool);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateCommandPool");
   const VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   res = vkCreateFence(b->dev, &fci, NULL, &b->fence);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateFence");
   return VK_SUCCESS;
}

void
vkb_fini(struct vkb *b)
{
   if (b->dev) {
      vkDeviceWaitIdle(b->dev);
      if (b->fence)
         vkDestroyFence(b->dev, b->fence, NULL);
      if (b->pool)
         vkDestroyCommandPool(b->dev, b->pool, NULL);
      vkDestroyDevice(b->dev, NULL);
   }
   if (b->instance)
      vkDestroyInstance(b->instance, NULL);
   b->dev = VK_NULL_HANDLE;
   b->instance = VK_NULL_HANDLE;
   b->fence = VK_NULL_HANDLE;
   b->pool = VK_NULL_HANDLE;
}

static int
find_memory_type(const struct vkb *b, uint32_t type_bits, VkMemoryPropertyFlags want,
                 VkMemoryPropertyFlags prefer)
{
   int fallback = -1;
   for (uint32_t i = 0; i < b->memprops.memoryTypeCount; i++) {
      VkMemoryPropertyFlags f = b->memprops.memoryTypes[i].propertyFlags;
      if (!(type_bits & (1u << i)) || (f & want) != want)
         continue;
      if ((f & prefer) == prefer)
         return (int)i;
      if (fallback < 0)
         fallback = (int)i;
   }
   return fallback;
}

static VkResult
alloc_bind_memory(struct vkb *b, const VkMemoryRequirements *req, bool host_visible,
                  VkDeviceMemory *out)
{
   /* Readback and upload both go through host-visible memory; prefer cached
    * coherent memory there (what a real readback path uses), device-local
    * memory otherwise. */
   VkMemoryPropertyFlags want =
      host_visible ? VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT : 0;
   VkMemoryPropertyFlags prefer =
      host_visible ? VK_MEMORY_PROPERTY_HOST_CACHED_BIT : VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
   int type = find_memory_type(b, req->memoryTypeBits, want, prefer);
   if (type < 0)
      return vkb_fail(b, VK_ERROR_FEATURE_NOT_PRESENT, "no suitable memory type");
   const VkMemoryAllocateInfo mai = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = req->size,
      .memoryTypeIndex = (uint32_t)type,
   };
   VkResult res = vkAllocateMemory(b->dev, &mai, NULL, out);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkAllocateMemory");
   return VK_SUCCESS;
}

VkResult
vkb_buffer_create(struct vkb *b, VkDeviceSize size, VkBufferUsageFlags usage, bool host_visible,
                  struct vkb_buffer *out)
{
   struct vkb_buffer buf = { .size = size };
   const VkBufferCreateInfo bci = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = size,
      .usage = usage,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
   };
   VkResult res = vkCreateBuffer(b->dev, &bci, NULL, &buf.buf);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateBuffer");
   VkMemoryRequirements req;
   vkGetBufferMemoryRequirements(b->dev, buf.buf, &req);
   res = alloc_bind_memory(b, &req, host_visible, &buf.mem);
   if (res == VK_SUCCESS) {
      res = vkBindBufferMemory(b->dev, buf.buf, buf.mem, 0);
      if (res != VK_SUCCESS)
         vkb_fail(b, res, "vkBindBufferMemory");
   }
   if (res == VK_SUCCESS && host_visible) {
      res = vkMapMemory(b->dev, buf.mem, 0, VK_WHOLE_SIZE, 0, &buf.map);
      if (res != VK_SUCCESS)
         vkb_fail(b, res, "vkMapMemory");
   }
   if (res != VK_SUCCESS) {
      vkb_buffer_destroy(b, &buf);
      return res;
   }
   *out = buf;
   return VK_SUCCESS;
}

void
vkb_buffer_destroy(struct vkb *b, struct vkb_buffer *buf)
{
   if (buf->buf)
      vkDestroyBuffer(b->dev, buf->buf, NULL);
   if (buf->mem)
      vkFreeMemory(b->dev, buf->mem, NULL); /* unmaps implicitly */
   memset(buf, 0, sizeof(*buf));
}

VkResult
vkb_image_create(struct vkb *b, uint32_t w, uint32_t h, VkFormat format, VkImageUsageFlags usage,
                 struct vkb_image *out)
{
   struct vkb_image img = { .format = format, .width = w, .height = h };
   const VkImageCreateInfo ici = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
      .imageType = VK_IMAGE_TYPE_2D,
      .format = format,
      .extent = { w, h, 1 },
      .mipLevels = 1,
      .arrayLayers = 1,
      .samples = VK_SAMPLE_COUNT_1_BIT,
      .tiling = VK_IMAGE_TILING_OPTIMAL,
      .usage = usage,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
      .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
   };
   VkResult res = vkCreateImage(b->dev, &ici, NULL, &img.image);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateImage");
   VkMemoryRequirements req;
   vkGetImageMemoryRequirements(b->dev, img.image, &req);
   res = alloc_bind_memory(b, &req, false, &img.mem);
   if (res == VK_SUCCESS) {
      res = vkBindImageMemory(b->dev, img.image, img.mem, 0);
      if (res != VK_SUCCESS)
         vkb_fail(b, res, "vkBindImageMemory");
   }
   if (res != VK_SUCCESS) {
      vkb_image_destroy(b, &img);
      return res;
   }
   *out = img;
   return VK_SUCCESS;
}

void
vkb_image_destroy(struct vkb *b, struct vkb_image *img)
{
   if (img->image)
      vkDestroyImage(b->dev, img->image, NULL);
   if (img->mem)
      vkFreeMemory(b->dev, img->mem, NULL);
   memset(img, 0, sizeof(*img));
}

VkResult
vkb_cmd_alloc(struct vkb *b, VkCommandBuffer *out)
{
   const VkCommandBufferAllocateInfo ai = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = b->pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
   };
   VkResult res = vkAllocateCommandBuffers(b->dev, &ai, out);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkAllocateCommandBuffers");
   return VK_SUCCESS;
}

VkResult
vkb_cmd_begin(struct vkb *b, VkCommandBuffer cmd, bool one_time)
{
   const VkCommandBufferBeginInfo bi = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = one_time ? VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT : 0,
   };
   VkResult res = vkBeginCommandBuffer(cmd, &bi);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkBeginCommandBuffer");
   return VK_SUCCESS;
}

VkResult
vkb_cmd_end(struct vkb *b, VkCommandBuffer cmd)
{
   VkResult res = vkEndCommandBuffer(cmd);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkEndCommandBuffer");
   return VK_SUCCESS;
}

VkResult
vkb_submit_wait(struct vkb *b, VkCommandBuffer cmd, uint64_t timeout_ns)
{
   const VkSubmitInfo si = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = cmd ? 1 : 0,
      .pCommandBuffers = cmd ? &cmd : NULL,
   };
   VkResult res = vkQueueSubmit(b->queue, 1, &si, b->fence);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkQueueSubmit");
   res = vkWaitForFences(b->dev, 1, &b->fence, VK_TRUE, timeout_ns);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkWaitForFences");
   res = vkResetFences(b->dev, 1, &b->fence);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkResetFences");
   return VK_SUCCESS;
}

void
vkb_cmd_image_barrier(VkCommandBuffer cmd, VkImage image, VkImageLayout from, VkImageLayout to,
                      VkAccessFlags src_access, VkAccessFlags dst_access,
                      VkPipelineStageFlags src_stage, VkPipelineStageFlags dst_stage)
{
   const VkImageMemoryBarrier bar = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
      .srcAccessMask = src_access,
      .dstAccessMask = dst_access,
      .oldLayout = from,
      .newLayout = to,
      .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .image = image,
      .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
   };
   vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &bar);
}

void
vkb_cmd_memory_barrier(VkCommandBuffer cmd, VkPipelineStageFlags src_stage,
                       VkAccessFlags src_access, VkPipelineStageFlags dst_stage,
                       VkAccessFlags dst_access)
{
   const VkMemoryBarrier bar = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = src_access,
      .dstAccessMask = dst_access,
   };
   vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 1, &bar, 0, NULL, 0, NULL);
}

void
vkb_cmd_host_read_barrier(VkCommandBuffer cmd)
{
   vkb_cmd_memory_barrier(cmd,
                          VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                          VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
}

VkResult
vkb_shader_module(struct vkb *b, const uint32_t *code, size_t size, VkShaderModule *out)
{
   const VkShaderModuleCreateInfo ci = {
      .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
      .codeSize = size,
      .pCode = code,
   };
   VkResult res = vkCreateShaderModule(b->dev, &ci, NULL, out);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateShaderModule");
   return VK_SUCCESS;
}

/* Pulls "library_path": "<value>" out of an ICD json; enough for the
 * one-string-field lookup, not a JSON parser. */
static int
icd_library_path(const char *json_path, char *out, size_t len)
{
   FILE *f = fopen(json_path, "re");
   if (!f)
      return -errno;
   char buf[8192];
   size_t n = fread(buf, 1, sizeof(buf) - 1, f);
   fclose(f);
   buf[n] = '\0';
   const char *k = strstr(buf, "\"library_path\"");
   const char *q = k ? strchr(k + 14, ':') : NULL;
   q = q ? strchr(q, '"') : NULL;
   const char *e = q ? strchr(q + 1, '"') : NULL;
   if (!e)
      return -EINVAL;
   size_t l = (size_t)(e - q - 1);
   char lib[PATH_MAX];
   if (l >= sizeof(lib))
      return -ENAMETOOLONG;
   memcpy(lib, q + 1, l);
   lib[l] = '\0';
   if (lib[0] == '/' || !strchr(lib, '/')) {
      snprintf(out, len, "%s", lib); /* absolute, or a name for the search path */
   } else {
      char dir[PATH_MAX];
      snprintf(dir, sizeof(dir), "%s", json_path);
      const char *d = dirname(dir);
      if (strlen(d) + 1 + strlen(lib) >= len)
         return -ENAMETOOLONG;
      strcpy(out, d);
      strcat(out, "/");
      strcat(out, lib);
   }
   return 0;
}

int
vkb_pin_driver(void)
{
   const char *files = getenv("VK_DRIVER_FILES");
   if (!files || !files[0])
      files = getenv("VK_ICD_FILENAMES");
   if (!files || !files[0])
      return -ENOENT;
   char first[PATH_MAX], lib[PATH_MAX];
   snprintf(first, sizeof(first), "%s", files);
   first[strcspn(first, ":")] = '\0';
   int err = icd_library_path(first, lib, sizeof(lib));
   if (err)
      return err;
   return dlopen(lib, RTLD_LAZY | RTLD_NODELETE) ? 0 : -ENOENT;
}
