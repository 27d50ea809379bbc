/*
 * Instance and physical-device handlers: the host instance is created with
 * what the guest asked (filtered), physical devices advertise only what both
 * the host and Mesa's venus protocol can carry.
 */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/dlpin.h"
#include "common/device_policy.h"
#include "common/log.h"
#include "pearvisor/pearvisor.h"
#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_capset.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_premade.h"
#include "venus/pvk_semaphore.h"

static pthread_mutex_t pvk_loader_mutex = PTHREAD_MUTEX_INITIALIZER;

void
pvk_loader_lock(void)
{
   pthread_mutex_lock(&pvk_loader_mutex);
}

void
pvk_loader_unlock(void)
{
   pthread_mutex_unlock(&pvk_loader_mutex);
}

/* Venus needs Vulkan 1.1 on the host. The decoder carries all of Vulkan
 * 1.3 (and Mesa's venus drivers go no further); the pinned vk.xml is 1.4,
 * but 1.4's commands have no venus command types. */
#define PVK_MIN_API_VERSION VK_API_VERSION_1_1
#define PVK_MAX_API_VERSION VK_MAKE_API_VERSION(0, 1, 3, VK_HEADER_VERSION)

/* Protocol extensions PearVisor does not offer: they need handle types
 * (dma-buf, opaque/sync fds) that blob resources here do not carry. */
static const char *const pvk_unsupported_exts[] = {
   "VK_EXT_external_memory_dma_buf", "VK_EXT_image_drm_format_modifier",
   "VK_KHR_external_memory_fd",      "VK_KHR_external_fence_fd",
   "VK_EXT_command_serialization",   "VK_MESA_venus_protocol",
};

static uint32_t
min_u32(uint32_t a, uint32_t b)
{
   return a < b ? a : b;
}

static uint32_t
max_u32(uint32_t a, uint32_t b)
{
   return a > b ? a : b;
}

static uint32_t
host_instance_version(void)
{
   uint32_t v = VK_API_VERSION_1_0;
   if (vkEnumerateInstanceVersion(&v) != VK_SUCCESS)
      v = VK_API_VERSION_1_0;
   return v;
}

void
vn_handle_vkEnumerateInstanceVersion(struct vn_dispatch_context *dctx,
                                     struct vn_command_vkEnumerateInstanceVersion *args)
{
   args->ret = VK_SUCCESS;
   if (args->pApiVersion)
      *args->pApiVersion = min_u32(host_instance_version(), PVK_MAX_API_VERSION);
}

void
vn_handle_vkEnumerateInstanceExtensionProperties(
   struct vn_dispatch_context *dctx, struct vn_command_vkEnumerateInstanceExtensionProperties *args)
{
   /* the guest driver implements its instance extensions itself */
   args->ret = VK_SUCCESS;
   if (args->pPropertyCount)
      *args->pPropertyCount = 0;
}

void
vn_handle_vkEnumerateInstanceLayerProperties(
   struct vn_dispatch_context *dctx, struct vn_command_vkEnumerateInstanceLayerProperties *args)
{
   args->ret = VK_SUCCESS;
   if (args->pPropertyCount)
      *args->pPropertyCount = 0;
}

/* A device created and destroyed at once: drivers do their per-process
 * first-device work (lavapipe: LLVM's set-up and first compiles; NVIDIA:
 * its per-process channels) here rather than in a guest's vkCreateDevice. */
static void
warm_up_device(VkPhysicalDevice phys)
{
   const float prio = 1.0f;
   const VkDeviceQueueCreateInfo queue = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .queueFamilyIndex = 0,
      .queueCount = 1,
      .pQueuePriorities = &prio,
   };
   const VkDeviceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &queue,
   };
   VkDevice dev;
   if (vkCreateDevice(phys, &info, NULL, &dev) == VK_SUCCESS)
      vkDestroyDevice(dev, NULL);
}

int
pv_host_driver_preload(void)
{
   const VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .pApplicationName = "pearvisor-preload",
      .apiVersion = PVK_MIN_API_VERSION,
   };
   const VkInstanceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
   };
   VkInstance handle;
   uint32_t count = 1;
   VkPhysicalDevice phys = VK_NULL_HANDLE;
   pvk_loader_lock();
   (void)host_instance_version();
   VkResult res = vkCreateInstance(&info, NULL, &handle);
   if (res == VK_SUCCESS) {
      /* drivers open their devices and probe them here */
      res = vkEnumeratePhysicalDevices(handle, &count, &phys);
      if (res == VK_INCOMPLETE)
         res = VK_SUCCESS;
      if (res == VK_SUCCESS && count)
         warm_up_device(phys);
      (void)pv_pin_loaded_libraries(NULL);
      vkDestroyInstance(handle, NULL);
   }
   pvk_loader_unlock();
#ifdef __GLIBC__
   /* What the throwaway instance and device freed would otherwise stay in
    * this thread's heap as private memory for the process's whole life
    * (4-5 MiB with lavapipe); guests allocate on other threads. */
   malloc_trim(0);
#endif
   if (res != VK_SUCCESS) {
      pv_warn("venus", "preloading the host driver: VkResult %d", (int)res);
      return -ENODEV;
   }
   pv_debug("venus", "host driver preloaded (%u physical devices)", count);
   return 0;
}

bool
pvk_host_app_info(const VkApplicationInfo *guest, VkApplicationInfo *out)
{
   /* apiVersion: at least 1.1 (venus needs it), at most what the host and
    * the protocol know. */
   uint32_t api = guest ? guest->apiVersion : 0;
   if (api < PVK_MIN_API_VERSION)
      api = PVK_MIN_API_VERSION;
   api = min_u32(api, min_u32(host_instance_version(), PVK_MAX_API_VERSION));
   if (api < PVK_MIN_API_VERSION)
      return false;
   *out = (VkApplicationInfo){ .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO };
   if (guest)
      *out = *guest;
   out->pNext = NULL;
   out->apiVersion = api;
   return true;
}

VkResult
pvk_instance_create_host(const VkApplicationInfo *app, struct pvk_instance **out)
{
   /* No guest layers or instance extensions reach the host: the guest
    * driver implements them (WSI, debug utils) on its side. */
   const VkInstanceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = app,
   };
   struct pvk_instance *inst = calloc(1, sizeof(*inst));
   if (!inst || !pvk_key_app_info(app, &inst->app_key)) {
      free(inst);
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   }
   VkInstance handle;
   pvk_loader_lock();
   VkResult res = vkCreateInstance(&info, NULL, &handle);
   if (res == VK_SUCCESS)
      vn_instance_dispatch_init(&inst->dispatch, vkGetInstanceProcAddr, handle);
   pvk_loader_unlock();
   if (res != VK_SUCCESS) {
      pvk_key_fini(&inst->app_key);
      free(inst);
      return res;
   }
   /* The host driver (and what the loader pulled in) stays loaded: guests
    * create and destroy instances often, and reloading a driver (LLVM for
    * lavapipe) each time is slow. Best effort. */
   (void)pv_pin_loaded_libraries(NULL);
   inst->handle = handle;
   inst->api_version = app->apiVersion;
   *out = inst;
   return VK_SUCCESS;
}

void
pvk_instance_destroy_host(struct pvk_instance *inst)
{
   if (!inst)
      return;
   /* a device made ahead on it that no guest claimed goes first */
   pv_premade_destroy(inst->premade);
   pvk_loader_lock();
   inst->dispatch.vkDestroyInstance(inst->handle, NULL);
   pvk_loader_unlock();
   pvk_key_fini(&inst->app_key);
   free(inst);
}

void
vn_handle_vkCreateInstance(struct vn_dispatch_context *dctx,
                           struct vn_command_vkCreateInstance *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   const VkInstanceCreateInfo *guest = args->pCreateInfo;
   if (!guest || !args->pInstance) {
      pvk_context_set_lost(ctx, "vkCreateInstance: missing arguments");
      return;
   }
   const uint64_t id = (uint64_t)(uintptr_t)*args->pInstance;

   VkApplicationInfo app;
   if (!pvk_host_app_info(guest->pApplicationInfo, &app)) {
      args->ret = VK_ERROR_INCOMPATIBLE_DRIVER;
      return;
   }
   /* An instance made ahead from the same application info (pv_premade)
    * is taken as is; otherwise one is created now. */
   struct pvk_instance *inst = NULL;
   struct pvk_key key;
   if (pvk_key_app_info(&app, &key)) {
      inst = pvk_renderer_take_premade(ctx->renderer, &key);
      pvk_key_fini(&key);
   }
   if (inst) {
      pv_info("venus", "context %u: vkCreateInstance: took the instance made ahead (pre-made)",
              ctx->ctx_id);
      pvk_renderer_count_premade(ctx->renderer, false);
      args->ret = VK_SUCCESS;
   } else {
      args->ret = pvk_instance_create_host(&app, &inst);
      if (args->ret != VK_SUCCESS)
         return;
   }
   inst->gpu_mask = ctx->policy.gpu_mask; /* a pre-made one's is the same */

   struct vn_object *obj = vn_object_table_insert(
      ctx->dispatch.objects, id, VK_OBJECT_TYPE_INSTANCE, (uint64_t)(uintptr_t)inst->handle);
   if (!obj) {
      pvk_instance_destroy_host(inst);
      pvk_context_set_lost(ctx, "vkCreateInstance: bad or duplicate object id");
      return;
   }
   obj->instance = pvk_instance_base(inst);
}

void
vn_handle_vkDestroyInstance(struct vn_dispatch_context *dctx,
                            struct vn_command_vkDestroyInstance *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct vn_object *obj = args->dispatch;
   if (!obj)
      return;
   /* also destroys objects the guest left behind, then the instance */
   pvk_context_destroy_objects(ctx, pvk_instance_from_base(obj->instance), NULL);
}

/* --- physical devices --- */

static bool
ext_unsupported(const char *name)
{
   for (size_t i = 0; i < sizeof(pvk_unsupported_exts) / sizeof(pvk_unsupported_exts[0]); i++) {
      if (!strcmp(name, pvk_unsupported_exts[i]))
         return true;
   }
   return false;
}

static bool
physical_device_has_ext(const struct pvk_physical_device *pd, const char *name)
{
   for (uint32_t i = 0; i < pd->ext_count; i++) {
      if (!strcmp(pd->exts[i].extensionName, name))
         return true;
   }
   return false;
}

static void
physical_device_init_exts(struct pvk_instance *inst, struct pvk_physical_device *pd)
{
   uint32_t count = 0;
   inst->dispatch.vkEnumerateDeviceExtensionProperties(pd->handle, NULL, &count, NULL);
   VkExtensionProperties *host = calloc(count ? count : 1, sizeof(*host));
   pd->exts = calloc(count + 1, sizeof(*pd->exts)); /* + the emulated one below */
   if (!host || !pd->exts) {
      free(host);
      return;
   }
   inst->dispatch.vkEnumerateDeviceExtensionProperties(pd->handle, NULL, &count, host);
   for (uint32_t i = 0; i < count; i++) {
      if (!strcmp(host[i].extensionName, VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME))
         pd->host_ptr_alignment = 1; /* real value below */
      if (!strcmp(host[i].extensionName, VK_KHR_GLOBAL_PRIORITY_EXTENSION_NAME))
         pd->queue_priority_ext = VK_KHR_GLOBAL_PRIORITY_EXTENSION_NAME;
      else if (!strcmp(host[i].extensionName, VK_EXT_GLOBAL_PRIORITY_EXTENSION_NAME) &&
               !pd->queue_priority_ext)
         pd->queue_priority_ext = VK_EXT_GLOBAL_PRIORITY_EXTENSION_NAME;
      const struct pvk_protocol_extension *ext = pvk_protocol_extension_find(host[i].extensionName);
      if (!ext || ext_unsupported(ext->name))
         continue;
      if (!strcmp(ext->name, PVK_SEMAPHORE_SYNC_FD_EXTENSION))
         continue; /* added below whatever the host has */
      VkExtensionProperties p = host[i];
      p.specVersion = min_u32(p.specVersion, ext->spec_version);
      pd->exts[pd->ext_count++] = p;
   }
   free(host);
   /* sync-file import into binary semaphores, done by the renderer
    * (pvk_semaphore.h): the guest driver needs it for synchronization2 */
   VkExtensionProperties sync_fd = { .specVersion = 1 };
   strcpy(sync_fd.extensionName, PVK_SEMAPHORE_SYNC_FD_EXTENSION);
   pd->exts[pd->ext_count++] = sync_fd;
}

/* vkGetPhysicalDeviceProperties2 for one properties struct `chained`
 * (sType set by the caller; the core properties are not kept). */
static void
query_properties(struct pvk_instance *inst, VkPhysicalDevice handle, void *chained)
{
   VkPhysicalDeviceProperties2 p2 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
      .pNext = chained,
   };
   inst->dispatch.vkGetPhysicalDeviceProperties2(handle, &p2);
}

struct pvk_physical_device *
pvk_physical_device_create(struct pvk_instance *inst, VkPhysicalDevice handle, uint32_t host_index)
{
   struct pvk_physical_device *pd = calloc(1, sizeof(*pd));
   if (!pd)
      return NULL;
   pd->handle = handle;
   VkPhysicalDeviceProperties props;
   inst->dispatch.vkGetPhysicalDeviceProperties(handle, &props);
   pd->max_push_constants = props.limits.maxPushConstantsSize;
   pd->device_type = props.deviceType;
   pd->host_index = host_index;
   pd->max_viewports = props.limits.maxViewports;
   pd->max_vertex_bindings = props.limits.maxVertexInputBindings;
   pd->max_vertex_attributes = props.limits.maxVertexInputAttributes;
   pd->max_color_attachments = props.limits.maxColorAttachments;
   pd->limits = props.limits;
   pd->max_locations = max_u32(
      max_u32(props.limits.maxVertexInputAttributes, props.limits.maxVertexOutputComponents / 4),
      max_u32(props.limits.maxFragmentInputComponents / 4,
              props.limits.maxFragmentOutputAttachments));
   pd->max_locations = max_u32(
      pd->max_locations, max_u32(props.limits.maxTessellationControlPerVertexInputComponents / 4,
                                 props.limits.maxGeometryOutputComponents / 4));
   /* what the host device has, as far as the decoder carries it (a native
    * device reports its version whatever the application asked for) */
   pd->api_version = min_u32(props.apiVersion, PVK_MAX_API_VERSION);
   if (VK_API_VERSION_PATCH(pd->api_version) > VK_API_VERSION_PATCH(props.apiVersion))
      pd->api_version = VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(pd->api_version),
                                            VK_API_VERSION_MINOR(pd->api_version),
                                            VK_API_VERSION_PATCH(props.apiVersion));
   inst->dispatch.vkGetPhysicalDeviceMemoryProperties(handle, &pd->mem_props);
   physical_device_init_exts(inst, pd);

   if (pd->host_ptr_alignment && pd->api_version >= VK_API_VERSION_1_1) {
      VkPhysicalDeviceExternalMemoryHostPropertiesEXT host = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT,
      };
      query_properties(inst, handle, &host);
      pd->host_ptr_alignment = host.minImportedHostPointerAlignment;
   } else {
      pd->host_ptr_alignment = 0;
   }
   if (!pd->host_ptr_alignment)
      pv_warn("venus", "host device lacks VK_EXT_external_memory_host: no mappable memory");
   if (pd->api_version >= VK_API_VERSION_1_1 &&
       physical_device_has_ext(pd, "VK_EXT_inline_uniform_block")) {
      VkPhysicalDeviceInlineUniformBlockProperties iub = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_INLINE_UNIFORM_BLOCK_PROPERTIES,
      };
      query_properties(inst, handle, &iub);
      pd->inline_block_size = iub.maxInlineUniformBlockSize;
      pd->inline_blocks_per_stage = iub.maxPerStageDescriptorInlineUniformBlocks;
      pd->inline_blocks_per_set = iub.maxDescriptorSetInlineUniformBlocks;
   }
   if (pd->api_version >= VK_API_VERSION_1_2) {
      VkPhysicalDeviceDriverProperties driver = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES,
      };
      query_properties(inst, handle, &driver);
      pd->query_results_wait_idle = driver.driverID == VK_DRIVER_ID_MESA_LLVMPIPE;
      pd->binary_waits_block_submit = driver.driverID == VK_DRIVER_ID_MESA_LLVMPIPE;
   }
   /* the UpdateAfterBind limits (pipeline layouts of UPDATE_AFTER_BIND
    * sets); the extension's struct, valid whatever the instance's version */
   if (pd->api_version >= VK_API_VERSION_1_1 &&
       physical_device_has_ext(pd, "VK_EXT_descriptor_indexing")) {
      VkPhysicalDeviceDescriptorIndexingProperties di = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DESCRIPTOR_INDEXING_PROPERTIES,
      };
      query_properties(inst, handle, &di);
      const uint32_t uab[7] = {
         di.maxPerStageDescriptorUpdateAfterBindSamplers,
         di.maxPerStageDescriptorUpdateAfterBindUniformBuffers,
         di.maxPerStageDescriptorUpdateAfterBindStorageBuffers,
         di.maxPerStageDescriptorUpdateAfterBindSampledImages,
         di.maxPerStageDescriptorUpdateAfterBindStorageImages,
         di.maxPerStageDescriptorUpdateAfterBindInputAttachments,
         di.maxPerStageUpdateAfterBindResources,
      };
      memcpy(pd->uab_per_stage, uab, sizeof(uab));
      const uint32_t uab_set[8] = {
         di.maxDescriptorSetUpdateAfterBindSamplers,
         di.maxDescriptorSetUpdateAfterBindUniformBuffers,
         di.maxDescriptorSetUpdateAfterBindStorageBuffers,
         di.maxDescriptorSetUpdateAfterBindSampledImages,
         di.maxDescriptorSetUpdateAfterBindStorageImages,
         di.maxDescriptorSetUpdateAfterBindInputAttachments,
         di.maxDescriptorSetUpdateAfterBindUniformBuffersDynamic,
         di.maxDescriptorSetUpdateAfterBindStorageBuffersDynamic,
      };
      memcpy(pd->uab_per_set, uab_set, sizeof(uab_set));
   }
   return pd;
}

void
pvk_physical_device_free(struct pvk_physical_device *pd)
{
   if (pd) {
      free(pd->exts);
      free(pd);
   }
}

static struct pvk_physical_device *
pd_of(struct vn_object *obj)
{
   return obj ? obj->data : NULL;
}

/* The host's physical devices the instance's guest sees (its policy's
 * gpu_mask), in the host's order, with their host indices (calloc'd, free
 * both). */
static VkResult
visible_physical_devices(struct pvk_instance *inst, VkPhysicalDevice **handles,
                         uint32_t **host_indices, uint32_t *count)
{
   *handles = NULL;
   *host_indices = NULL;
   *count = 0;
   uint32_t all = 0;
   VkResult res = inst->dispatch.vkEnumeratePhysicalDevices(inst->handle, &all, NULL);
   if (res != VK_SUCCESS)
      return res;
   VkPhysicalDevice *h = calloc(all ? all : 1, sizeof(*h));
   uint32_t *idx = calloc(all ? all : 1, sizeof(*idx));
   if (!h || !idx) {
      free(h);
      free(idx);
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   }
   res = inst->dispatch.vkEnumeratePhysicalDevices(inst->handle, &all, h);
   uint32_t n = 0;
   for (uint32_t i = 0; res >= 0 && i < all; i++) {
      if (pv_device_policy_shows_gpu(inst->gpu_mask, i)) {
         h[n] = h[i];
         idx[n++] = i;
      }
   }
   if (res < 0) {
      free(h);
      free(idx);
      return res;
   }
   *handles = h;
   *host_indices = idx;
   *count = n;
   return VK_SUCCESS;
}

static bool
handle_visible(const VkPhysicalDevice *handles, uint32_t count, VkPhysicalDevice h)
{
   for (uint32_t i = 0; i < count; i++) {
      if (handles[i] == h)
         return true;
   }
   return false;
}

void
vn_handle_vkEnumeratePhysicalDevices(struct vn_dispatch_context *dctx,
                                     struct vn_command_vkEnumeratePhysicalDevices *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_instance *inst = pvk_instance_from_base(args->dispatch->instance);
   VkPhysicalDevice *handles;
   uint32_t *host_indices, count;
   args->ret = visible_physical_devices(inst, &handles, &host_indices, &count);
   if (args->ret != VK_SUCCESS || !args->pPhysicalDeviceCount || !args->pPhysicalDevices) {
      if (args->ret == VK_SUCCESS && args->pPhysicalDeviceCount)
         *args->pPhysicalDeviceCount = count;
      free(handles);
      free(host_indices);
      return;
   }
   const uint32_t want = *args->pPhysicalDeviceCount;
   const uint32_t n = min_u32(want, count);
   for (uint32_t i = 0; i < n; i++) {
      const uint64_t id = (uint64_t)(uintptr_t)args->pPhysicalDevices[i];
      struct vn_object *obj =
         vn_object_table_lookup(ctx->dispatch.objects, id, VK_OBJECT_TYPE_PHYSICAL_DEVICE);
      if (obj && obj->handle == (uint64_t)(uintptr_t)handles[i])
         continue; /* enumerated before with the same id */
      /* queried already when the instance was made ahead, or now */
      struct pvk_physical_device *pd = pvk_premade_take_physical_device(inst, handles[i]);
      if (!pd)
         pd = pvk_physical_device_create(inst, handles[i], host_indices[i]);
      obj = pd ? vn_object_table_insert(ctx->dispatch.objects, id, VK_OBJECT_TYPE_PHYSICAL_DEVICE,
                                        (uint64_t)(uintptr_t)handles[i])
               : NULL;
      if (!obj) {
         pvk_physical_device_free(pd);
         pvk_context_set_lost(ctx, "vkEnumeratePhysicalDevices: bad object id");
         break;
      }
      obj->instance = pvk_instance_base(inst);
      obj->data = pd;
   }
   *args->pPhysicalDeviceCount = n;
   if (n < count)
      args->ret = VK_INCOMPLETE;
   free(handles);
   free(host_indices);
}

struct pd_search {
   uint64_t handle;
   uint64_t id;
};

static void
pd_search_fn(struct vn_object *obj, void *data)
{
   struct pd_search *s = data;
   if (obj->type == VK_OBJECT_TYPE_PHYSICAL_DEVICE && !obj->retired && obj->handle == s->handle &&
       !s->id)
      s->id = obj->id;
}

/* The host's device groups with only the members the instance's guest
 * sees, groups left empty dropped (calloc'd, free it). */
static VkResult
visible_groups(struct pvk_instance *inst, VkPhysicalDeviceGroupProperties **out, uint32_t *count)
{
   *out = NULL;
   *count = 0;
   uint32_t all = 0;
   VkResult res = inst->dispatch.vkEnumeratePhysicalDeviceGroups(inst->handle, &all, NULL);
   if (res != VK_SUCCESS)
      return res;
   VkPhysicalDeviceGroupProperties *groups = calloc(all ? all : 1, sizeof(*groups));
   if (!groups)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   for (uint32_t i = 0; i < all; i++)
      groups[i].sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_GROUP_PROPERTIES;
   res = inst->dispatch.vkEnumeratePhysicalDeviceGroups(inst->handle, &all, groups);
   VkPhysicalDevice *handles = NULL;
   uint32_t *host_indices = NULL, visible = 0, n = 0;
   if (res >= 0)
      res = visible_physical_devices(inst, &handles, &host_indices, &visible);
   for (uint32_t i = 0; res >= 0 && i < all; i++) {
      const VkPhysicalDeviceGroupProperties g = groups[i];
      uint32_t members = 0;
      for (uint32_t j = 0; j < min_u32(g.physicalDeviceCount, VK_MAX_DEVICE_GROUP_SIZE); j++) {
         if (handle_visible(handles, visible, g.physicalDevices[j]))
            groups[n].physicalDevices[members++] = g.physicalDevices[j];
      }
      if (!members)
         continue;
      groups[n].physicalDeviceCount = members;
      groups[n].subsetAllocation = g.subsetAllocation;
      n++;
   }
   free(handles);
   free(host_indices);
   if (res < 0) {
      free(groups);
      return res;
   }
   *out = groups;
   *count = n;
   return VK_SUCCESS;
}

void
vn_handle_vkEnumeratePhysicalDeviceGroups(struct vn_dispatch_context *dctx,
                                          struct vn_command_vkEnumeratePhysicalDeviceGroups *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   /* The guest sends id 0 for every member (a query) and maps the ids we
    * reply to the physical devices it enumerated before. Members it never
    * enumerated get id 0, which it drops. */
   struct pvk_instance *inst = pvk_instance_from_base(args->dispatch->instance);
   VkPhysicalDeviceGroupProperties *groups;
   uint32_t count;
   args->ret = visible_groups(inst, &groups, &count);
   if (args->ret != VK_SUCCESS || !args->pPhysicalDeviceGroupCount ||
       !args->pPhysicalDeviceGroupProperties) {
      if (args->ret == VK_SUCCESS && args->pPhysicalDeviceGroupCount)
         *args->pPhysicalDeviceGroupCount = count;
      free(groups);
      return;
   }
   const uint32_t n = min_u32(*args->pPhysicalDeviceGroupCount, count);
   for (uint32_t i = 0; i < n; i++) {
      VkPhysicalDeviceGroupProperties *g = &args->pPhysicalDeviceGroupProperties[i];
      g->physicalDeviceCount = groups[i].physicalDeviceCount;
      g->subsetAllocation = groups[i].subsetAllocation;
      for (uint32_t j = 0; j < VK_MAX_DEVICE_GROUP_SIZE; j++) {
         struct pd_search s = { (uint64_t)(uintptr_t)groups[i].physicalDevices[j], 0 };
         if (j < g->physicalDeviceCount)
            vn_object_table_foreach(ctx->dispatch.objects, pd_search_fn, &s);
         g->physicalDevices[j] = (VkPhysicalDevice)(uintptr_t)s.id;
      }
   }
   *args->pPhysicalDeviceGroupCount = n;
   if (n < count)
      args->ret = VK_INCOMPLETE;
   free(groups);
}

static void
fix_properties(struct pvk_physical_device *pd, VkPhysicalDeviceProperties *p)
{
   p->apiVersion = pd->api_version;
}

void
vn_handle_vkGetPhysicalDeviceProperties(struct vn_dispatch_context *dctx,
                                        struct vn_command_vkGetPhysicalDeviceProperties *args)
{
   struct pvk_instance *inst = pvk_instance_from_base(args->dispatch->instance);
   if (!args->pProperties)
      return;
   inst->dispatch.vkGetPhysicalDeviceProperties(args->physicalDevice, args->pProperties);
   fix_properties(pd_of(args->dispatch), args->pProperties);
}

void
vn_handle_vkGetPhysicalDeviceProperties2(struct vn_dispatch_context *dctx,
                                         struct vn_command_vkGetPhysicalDeviceProperties2 *args)
{
   struct pvk_instance *inst = pvk_instance_from_base(args->dispatch->instance);
   if (!args->pProperties)
      return;
   inst->dispatch.vkGetPhysicalDeviceProperties2(args->physicalDevice, args->pProperties);
   fix_properties(pd_of(args->dispatch), &args->pProperties->properties);
}

void
vn_handle_vkGetPhysicalDeviceFeatures2(struct vn_dispatch_context *dctx,
                                       struct vn_command_vkGetPhysicalDeviceFeatures2 *args)
{
   struct pvk_instance *inst = pvk_instance_from_base(args->dispatch->instance);
   if (!args->pFeatures)
      return;
   inst->dispatch.vkGetPhysicalDeviceFeatures2(args->physicalDevice, args->pFeatures);
}

void
vn_handle_vkGetPhysicalDeviceMemoryProperties(
   struct vn_dispatch_context *dctx, struct vn_command_vkGetPhysicalDeviceMemoryProperties *args)
{
   struct pvk_instance *inst = pvk_instance_from_base(args->dispatch->instance);
   if (!args->pMemoryProperties)
      return;
   inst->dispatch.vkGetPhysicalDeviceMemoryProperties(args->physicalDevice,
                                                      args->pMemoryProperties);
}

void
vn_handle_vkGetPhysicalDeviceMemoryProperties2(
   struct vn_dispatch_context *dctx, struct vn_command_vkGetPhysicalDeviceMemoryProperties2 *args)
{
   struct pvk_instance *inst = pvk_instance_from_base(args->dispatch->instance);
   if (!args->pMemoryProperties)
      return;
   inst->dispatch.vkGetPhysicalDeviceMemoryProperties2(args->physicalDevice,
                                                       args->pMemoryProperties);
}

void
vn_handle_vkEnumerateDeviceExtensionProperties(
   struct vn_dispatch_context *dctx, struct vn_command_vkEnumerateDeviceExtensionProperties *args)
{
   struct pvk_physical_device *pd = pd_of(args->dispatch);
   args->ret = VK_SUCCESS;
   if (!args->pPropertyCount)
      return;
   if (args->pLayerName) {
      args->ret = VK_ERROR_LAYER_NOT_PRESENT;
      return;
   }
   if (!args->pProperties) {
      *args->pPropertyCount = pd->ext_count;
      return;
   }
   const uint32_t n = min_u32(*args->pPropertyCount, pd->ext_count);
   memcpy(args->pProperties, pd->exts, sizeof(*pd->exts) * n);
   *args->pPropertyCount = n;
   if (n < pd->ext_count)
      args->ret = VK_INCOMPLETE;
}

void
vn_handle_vkEnumerateDeviceLayerProperties(struct vn_dispatch_context *dctx,
                                           struct vn_command_vkEnumerateDeviceLayerProperties *args)
{
   args->ret = VK_SUCCESS;
   if (args->pPropertyCount)
      *args->pPropertyCount = 0;
}

void
vn_handle_vkGetVenusExperimentalFeatureData100000MESA(
   struct vn_dispatch_context *dctx,
   struct vn_command_vkGetVenusExperimentalFeatureData100000MESA *args)
{
   const VkVenusExperimentalFeatures100000MESA features = {
      .memoryResourceAllocationSize = VK_TRUE,
      .globalFencing = VK_FALSE,
      .largeRing = VK_TRUE,
      .syncFdFencing = VK_FALSE,
   };
   if (!args->pDataSize)
      return;
   if (!args->pData) {
      *args->pDataSize = sizeof(features);
      return;
   }
   size_t n = *args->pDataSize < sizeof(features) ? *args->pDataSize : sizeof(features);
   memcpy(args->pData, &features, n);
   *args->pDataSize = n;
}
