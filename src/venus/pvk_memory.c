/*
 * Device memory. Host-visible memory is a memfd mapped on the host and
 * imported with VK_EXT_external_memory_host, so the HOST3D blob the guest
 * creates for it (blob_id = the VkDeviceMemory id) is that same memfd: the
 * guest maps exactly the pages the GPU uses, with no copies. Other memory is
 * a plain vkAllocateMemory.
 *
 * Reuse: making host-visible memory is the costliest allocation here (a
 * memfd, its zeroed pages, an import whose pages the driver pins), and
 * programs free and allocate staging memory of one size over and over
 * (ffmpeg's hwupload and hwdownload, six allocations a frame). A freed
 * allocation that carried nothing but its type and size is kept by its
 * device, still charged to the context, and serves the next allocation of
 * the same type and size once no blob maps it. Its contents are what this
 * context left there (Vulkan leaves new memory's contents undefined); kept
 * memory never leaves its device. The oldest goes once the device keeps
 * more than PV_MEMORY_REUSE_MIB or PVK_MEMORY_REUSE_MAX_ENTRIES
 * allocations (each allocation and free walks the list), all of it at the
 * device's teardown or when the context's budget needs the room.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_budget.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_lifetime.h"
#include "venus/pvk_memory.h"
#include "venus/pvk_resource.h"
#include "venus/pvk_validate.h"

/* Not in vulkan_core.h: the venus protocol's own structs. */
#define VN_STYPE_IMPORT_MEMORY_RESOURCE_INFO_MESA ((VkStructureType)1000384002)
#define VN_STYPE_MEMORY_RESOURCE_ALLOCATION_SIZE_PROPERTIES_100000_MESA \
   ((VkStructureType)1000384003)

/* ffmpeg's frames keep 6-12 allocations in flight */
#define PVK_MEMORY_REUSE_MAX_ENTRIES 32u

static uint64_t
align_up(uint64_t v, uint64_t a)
{
   return a ? (v + a - 1) / a * a : v;
}

struct alloc_chain {
   uint32_t resource_id; /* VkImportMemoryResourceInfoMESA, 0 if absent */
   bool bad;             /* a handle import the host cannot do */
};

/* Removes the structs the host driver must not see from the (arena-owned)
 * chain: venus' resource import and export requests (host-pointer imports
 * cannot be exported). */
static void
filter_alloc_chain(VkMemoryAllocateInfo *info, struct alloc_chain *out)
{
   VkBaseOutStructure *prev = (VkBaseOutStructure *)info;
   while (prev->pNext) {
      VkBaseOutStructure *s = prev->pNext;
      switch ((int)s->sType) {
      case VN_STYPE_IMPORT_MEMORY_RESOURCE_INFO_MESA:
         out->resource_id = ((VkImportMemoryResourceInfoMESA *)s)->resourceId;
         prev->pNext = s->pNext;
         continue;
      case VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO:
         prev->pNext = s->pNext;
         continue;
      case VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR:
      case VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT:
         out->bad = true;
         prev->pNext = s->pNext;
         continue;
      default:
         prev = s;
         break;
      }
   }
}

/* Imports `ptr` (host_size bytes) as the memory of `info`. */
static VkResult
import_host_pointer(struct pvk_device *dev, VkMemoryAllocateInfo *info, void *ptr,
                    uint64_t host_size, VkDeviceMemory *out)
{
   const uint64_t align = dev->physical_device->host_ptr_alignment;
   const uint64_t size = align_up(info->allocationSize, align);
   if (size > host_size || ((uintptr_t)ptr % align))
      return VK_ERROR_OUT_OF_DEVICE_MEMORY;

   VkMemoryHostPointerPropertiesEXT props = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT,
   };
   VkResult r = dev->dispatch.vkGetMemoryHostPointerPropertiesEXT(
      dev->handle, VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, ptr, &props);
   if (r != VK_SUCCESS)
      return r;
   if (!(props.memoryTypeBits & (1u << info->memoryTypeIndex))) {
      pv_warn("venus", "memory type %u cannot import host memory", info->memoryTypeIndex);
      return VK_ERROR_OUT_OF_DEVICE_MEMORY;
   }
   VkImportMemoryHostPointerInfoEXT import = {
      .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
      .pNext = info->pNext,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
      .pHostPointer = ptr,
   };
   VkMemoryAllocateInfo local = *info;
   local.pNext = &import;
   local.allocationSize = size;
   return dev->dispatch.vkAllocateMemory(dev->handle, &local, NULL, out);
}

static struct pvk_device_memory **
memory_bucket(struct pvk_device *dev, uint64_t handle)
{
   return &dev->memory_buckets[(handle ^ (handle >> 12)) % PVK_MEMORY_BUCKETS];
}

static void
memory_track(struct pvk_device *dev, struct pvk_device_memory *mem)
{
   struct pvk_device_memory **b = memory_bucket(dev, mem->obj->handle);
   mem->next = *b;
   *b = mem;
}

static void
memory_untrack(struct pvk_device *dev, struct pvk_device_memory *mem)
{
   for (struct pvk_device_memory **p = memory_bucket(dev, mem->obj->handle); *p; p = &(*p)->next) {
      if (*p == mem) {
         *p = mem->next;
         return;
      }
   }
}

/* Frees the host memory and its state now. */
static void
memory_release_now(struct pvk_context *ctx, struct pvk_device *dev, uint64_t handle,
                   struct pvk_device_memory *mem)
{
   dev->dispatch.vkFreeMemory(dev->handle, (VkDeviceMemory)(uintptr_t)handle, NULL);
   if (mem) {
      pvk_context_uncharge_memory(ctx, mem->pool, mem->size);
      /* a blob exported from it keeps the memfd alive on its own */
      pvk_shm_unref(mem->shm);
      pvk_resource_unref(mem->res);
      free(mem);
   }
}

/* --- reuse of freed host-visible memory (see the top of the file) --- */

uint64_t
pvk_device_memory_reuse_limit(void)
{
   const char *env = getenv("PV_MEMORY_REUSE_MIB");
   uint64_t mib = PVK_MEMORY_REUSE_DEFAULT_MIB;
   if (env && *env) {
      char *end;
      const unsigned long long v = strtoull(env, &end, 10);
      if (!*end && v < (1ull << 20))
         mib = v;
   }
   return mib << 20;
}

/* The oldest kept allocation of this type and size that no blob maps any
 * more, taken off the list. (A blob of the freed memory may live on, in
 * this context or another the guest attached it to: its pages must not
 * become another allocation's. Once the last blob is gone nothing can
 * map them again: blobs are made from live memory only.) */
static struct pvk_device_memory *
reuse_take(struct pvk_device *dev, uint32_t type_index, VkDeviceSize size)
{
   for (struct pvk_device_memory **p = &dev->reuse; *p; p = &(*p)->next) {
      struct pvk_device_memory *m = *p;
      if (m->type_index != type_index || m->alloc_size != size ||
          atomic_load(&m->shm->refcount) != 1)
         continue;
      *p = m->next;
      m->next = NULL;
      dev->reuse_count--;
      dev->reuse_bytes -= m->size;
      m->has_binds = false;
      return m;
   }
   return NULL;
}

/* Keeps freed memory for reuse, making room by freeing the oldest; false
 * when it cannot be kept. */
static bool
reuse_keep(struct pvk_context *ctx, struct pvk_device *dev, struct pvk_device_memory *mem)
{
   if (!mem->reusable || mem->size > dev->reuse_limit)
      return false;
   while (dev->reuse && (dev->reuse_bytes + mem->size > dev->reuse_limit ||
                         dev->reuse_count >= PVK_MEMORY_REUSE_MAX_ENTRIES)) {
      struct pvk_device_memory *old = dev->reuse;
      dev->reuse = old->next;
      dev->reuse_count--;
      dev->reuse_bytes -= old->size;
      memory_release_now(ctx, dev, (uint64_t)(uintptr_t)old->handle, old);
   }
   struct pvk_device_memory **tail = &dev->reuse;
   while (*tail)
      tail = &(*tail)->next;
   mem->next = NULL;
   *tail = mem;
   dev->reuse_count++;
   dev->reuse_bytes += mem->size;
   return true;
}

void
pvk_device_memory_flush_reuse(struct pvk_context *ctx, struct pvk_device *dev)
{
   while (dev->reuse) {
      struct pvk_device_memory *m = dev->reuse;
      dev->reuse = m->next;
      memory_release_now(ctx, dev, (uint64_t)(uintptr_t)m->handle, m);
   }
   dev->reuse_count = 0;
   dev->reuse_bytes = 0;
}

/* The host memory of a freed object: kept for reuse or freed. */
void
pvk_device_memory_release(struct pvk_context *ctx, struct pvk_device *dev, uint64_t handle,
                          struct pvk_device_memory *mem)
{
   if (!mem || !reuse_keep(ctx, dev, mem))
      memory_release_now(ctx, dev, handle, mem);
}

void
vn_handle_vkAllocateMemory(struct vn_dispatch_context *dctx,
                           struct vn_command_vkAllocateMemory *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   const struct pvk_physical_device *pd = dev->physical_device;
   VkMemoryAllocateInfo *info = (VkMemoryAllocateInfo *)args->pAllocateInfo;
   if (!info || !args->pMemory) {
      pvk_context_set_lost(ctx, "vkAllocateMemory: missing arguments");
      return;
   }
   const uint64_t id = (uint64_t)(uintptr_t)*args->pMemory;

   if (info->memoryTypeIndex >= pd->mem_props.memoryTypeCount || !info->allocationSize) {
      args->ret = VK_ERROR_OUT_OF_DEVICE_MEMORY;
      return;
   }
   const VkMemoryPropertyFlags flags =
      pd->mem_props.memoryTypes[info->memoryTypeIndex].propertyFlags;
   struct alloc_chain chain = { 0 };
   filter_alloc_chain(info, &chain);
   if (chain.bad) {
      args->ret = VK_ERROR_INVALID_EXTERNAL_HANDLE;
      return;
   }
   VkDeviceMemory handle = VK_NULL_HANDLE;

   struct pvk_device_memory *mem =
      chain.resource_id || info->pNext
         ? NULL
         : reuse_take(dev, info->memoryTypeIndex, info->allocationSize);
   if (mem) {
      handle = mem->handle;
      goto insert;
   }
   mem = calloc(1, sizeof(*mem));
   if (!mem) {
      args->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      return;
   }
   mem->type_index = info->memoryTypeIndex;
   mem->alloc_size = info->allocationSize;

   if (chain.resource_id) {
      /* the guest imports one of its blob resources (not charged twice) */
      struct pvk_resource *res = pvk_context_lookup_resource(ctx, chain.resource_id);
      if (!res || !res->map || !dev->host_ptr_import) {
         args->ret = VK_ERROR_INVALID_EXTERNAL_HANDLE;
         goto fail;
      }
      const uint64_t host_size = res->shm ? res->shm->shm.size : res->size;
      args->ret = import_host_pointer(dev, info, res->map, host_size, &handle);
      if (args->ret != VK_SUCCESS)
         goto fail;
      mem->res = pvk_resource_ref(res);
   } else {
      struct pv_memory_pool pool;
      pvk_memory_pool_of(pd->device_type, pd->host_index, &pd->mem_props, info->memoryTypeIndex,
                         (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) && dev->host_ptr_import,
                         &pool);
      bool charged = pvk_context_charge_memory(ctx, &pool, info->allocationSize);
      if (!charged && dev->reuse_count) {
         /* the memory kept for reuse makes room first */
         pvk_device_memory_flush_reuse(ctx, dev);
         charged = pvk_context_charge_memory(ctx, &pool, info->allocationSize);
         if (charged)
            pv_info("venus",
                    "context %u: vkAllocateMemory: %llu bytes charged after all, once the "
                    "memory kept for reuse was freed",
                    ctx->ctx_id, (unsigned long long)info->allocationSize);
      }
      if (!charged) {
         args->ret = VK_ERROR_OUT_OF_DEVICE_MEMORY;
         goto fail;
      }
      mem->size = info->allocationSize;
      mem->pool = pool.index;
      if ((flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) && dev->host_ptr_import) {
         mem->reusable = !info->pNext;
         mem->shm =
            pvk_shm_create("pv-devmem", align_up(info->allocationSize, pd->host_ptr_alignment));
         args->ret = mem->shm ? import_host_pointer(dev, info, mem->shm->shm.map,
                                                    mem->shm->shm.size, &handle)
                              : VK_ERROR_OUT_OF_HOST_MEMORY;
      } else {
         args->ret = dev->dispatch.vkAllocateMemory(dev->handle, info, NULL, &handle);
      }
      if (args->ret != VK_SUCCESS)
         goto fail;
   }

   mem->handle = handle;
insert:;
   struct vn_object *obj = vn_object_table_insert(
      ctx->dispatch.objects, id, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)(uintptr_t)handle);
   if (!obj) {
      dev->dispatch.vkFreeMemory(dev->handle, handle, NULL);
      pvk_context_set_lost(ctx, "vkAllocateMemory: bad or duplicate object id");
      goto fail;
   }
   obj->instance = pvk_instance_base(dev->instance);
   obj->device = pvk_device_base(dev);
   obj->data = mem;
   mem->obj = obj;
   memory_track(dev, mem);
   return;

fail:
   pvk_context_uncharge_memory(ctx, mem->pool, mem->size);
   pvk_shm_unref(mem->shm);
   pvk_resource_unref(mem->res);
   free(mem);
}

/* Drops the object and its lookup entry; the host memory is freed now or,
 * while submissions are pending, once they are done (pvk_lifetime.h). */
static void
memory_free(struct pvk_context *ctx, struct vn_object *obj, bool defer)
{
   struct pvk_device *dev = pvk_device_from_base(obj->device);
   struct pvk_device_memory *mem = obj->data;
   const uint64_t handle = obj->handle;
   if (mem) {
      memory_untrack(dev, mem);
      mem->obj = NULL;
   }
   vn_object_table_remove(ctx->dispatch.objects, obj);
   if (defer)
      pvk_lifetime_destroy(ctx, dev, VK_OBJECT_TYPE_DEVICE_MEMORY, handle, 0, mem);
   else
      memory_release_now(ctx, dev, handle, mem);
}

void
pvk_device_memory_destroy(struct pvk_context *ctx, struct vn_object *obj)
{
   memory_free(ctx, obj, false);
}

struct pvk_device_memory *
pvk_device_memory_lookup(struct pvk_device *dev, uint64_t handle)
{
   for (struct pvk_device_memory *m = *memory_bucket(dev, handle); m; m = m->next) {
      if (m->obj->handle == handle)
         return m;
   }
   return NULL;
}

void
vn_handle_vkFreeMemory(struct vn_dispatch_context *dctx, struct vn_command_vkFreeMemory *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!args->memory)
      return;
   /* the args carry the host handle: find its object */
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   struct pvk_device_memory *m = pvk_device_memory_lookup(dev, (uint64_t)(uintptr_t)args->memory);
   if (!m)
      return;
   /* VUID-vkCmdCopyBuffer-srcBuffer-00119 and the like: what was bound to
    * it is no longer bound to any memory */
   if (m->has_binds)
      pvk_validate_memory_freed(ctx, (uint64_t)(uintptr_t)args->memory);
   memory_free(ctx, m->obj, true);
}

void
vn_handle_vkUnmapMemory(struct vn_dispatch_context *dctx, struct vn_command_vkUnmapMemory *args)
{
   /* Guest mappings are blob mappings; the host never maps for the guest. */
}

void
vn_handle_vkGetMemoryResourcePropertiesMESA(
   struct vn_dispatch_context *dctx, struct vn_command_vkGetMemoryResourcePropertiesMESA *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   struct pvk_resource *res = pvk_context_lookup_resource(ctx, args->resourceId);
   VkMemoryResourcePropertiesMESA *props = args->pMemoryResourceProperties;
   if (!res || !res->map || !dev->host_ptr_import || !props) {
      args->ret = VK_ERROR_INVALID_EXTERNAL_HANDLE;
      return;
   }
   VkMemoryHostPointerPropertiesEXT host = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT,
   };
   args->ret = dev->dispatch.vkGetMemoryHostPointerPropertiesEXT(
      dev->handle, VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, res->map, &host);
   if (args->ret != VK_SUCCESS)
      return;
   props->memoryTypeBits = host.memoryTypeBits;
   for (VkBaseOutStructure *s = props->pNext; s; s = s->pNext) {
      if ((int)s->sType == VN_STYPE_MEMORY_RESOURCE_ALLOCATION_SIZE_PROPERTIES_100000_MESA)
         ((VkMemoryResourceAllocationSizeProperties100000MESA *)s)->allocationSize = res->size;
   }
}

/* --- buffers and images: may be bound to host-pointer memory --- */

/* Memory imported from a host pointer may only back buffers and images
 * created with that handle type (VUID-VkBindBufferMemoryInfo-memory-02727),
 * so where the host supports it we add it to every buffer and image. The
 * chain lives in the arena: `ext` replaces or extends it in place. */
static void
add_host_handle_type(const void **chain, VkStructureType stype, void *ext)
{
   for (VkBaseOutStructure *s = (VkBaseOutStructure *)*chain; s; s = s->pNext) {
      if (s->sType == stype) {
         /* VkExternalMemory{Buffer,Image}CreateInfo share their layout */
         ((VkExternalMemoryBufferCreateInfo *)s)->handleTypes |=
            VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
         return;
      }
   }
   VkExternalMemoryBufferCreateInfo *info = ext;
   info->sType = stype;
   info->pNext = *chain;
   info->handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
   *chain = info;
}

static bool
buffer_host_importable(struct pvk_device *dev, const VkBufferCreateInfo *info)
{
   if (!dev->host_ptr_import || (info->flags & VK_BUFFER_CREATE_SPARSE_BINDING_BIT))
      return false;
   const VkPhysicalDeviceExternalBufferInfo query = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
      .flags = info->flags,
      .usage = info->usage,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
   };
   VkExternalBufferProperties props = { .sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES };
   dev->instance->dispatch.vkGetPhysicalDeviceExternalBufferProperties(dev->physical_device->handle,
                                                                       &query, &props);
   return props.externalMemoryProperties.externalMemoryFeatures &
          VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT;
}

static bool
image_host_importable(struct pvk_device *dev, const VkImageCreateInfo *info)
{
   if (!dev->host_ptr_import || (info->flags & VK_IMAGE_CREATE_SPARSE_BINDING_BIT) ||
       info->tiling == VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT)
      return false;
   VkPhysicalDeviceExternalImageFormatInfo ext = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_IMAGE_FORMAT_INFO,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
   };
   const VkPhysicalDeviceImageFormatInfo2 query = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_FORMAT_INFO_2,
      .pNext = &ext,
      .format = info->format,
      .type = info->imageType,
      .tiling = info->tiling,
      .usage = info->usage,
      .flags = info->flags,
   };
   VkExternalImageFormatProperties ext_props = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_IMAGE_FORMAT_PROPERTIES,
   };
   VkImageFormatProperties2 props = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_FORMAT_PROPERTIES_2,
      .pNext = &ext_props,
   };
   if (dev->instance->dispatch.vkGetPhysicalDeviceImageFormatProperties2(
          dev->physical_device->handle, &query, &props) != VK_SUCCESS)
      return false;
   return ext_props.externalMemoryProperties.externalMemoryFeatures &
          VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT;
}

static struct vn_object *
insert_device_object(struct pvk_context *ctx, struct pvk_device *dev, uint64_t id,
                     VkObjectType type, uint64_t handle)
{
   struct vn_object *obj = vn_object_table_insert(ctx->dispatch.objects, id, type, handle);
   if (!obj) {
      pvk_context_set_lost(ctx, "bad or duplicate object id");
      return NULL;
   }
   obj->instance = pvk_instance_base(dev->instance);
   obj->device = pvk_device_base(dev);
   return obj;
}

void
vn_handle_vkCreateBuffer(struct vn_dispatch_context *dctx, struct vn_command_vkCreateBuffer *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   if (!args->pCreateInfo || !args->pBuffer) {
      pvk_context_set_lost(ctx, "vkCreateBuffer: missing arguments");
      return;
   }
   VkBufferCreateInfo *info = (VkBufferCreateInfo *)args->pCreateInfo;
   /* VUID-VkBufferCreateInfo-flags-00915/00916/00917: sparse flags need
    * the features; without sparseBinding nothing can bind such a buffer,
    * and its binding is not tracked (docs/sandbox.md) */
   const VkBufferCreateFlags sparse = VK_BUFFER_CREATE_SPARSE_BINDING_BIT |
                                      VK_BUFFER_CREATE_SPARSE_RESIDENCY_BIT |
                                      VK_BUFFER_CREATE_SPARSE_ALIASED_BIT;
   if ((info->flags & sparse) && !dev->sparse_binding) {
      pvk_reject(ctx,
                 "sparse: vkCreateBuffer: sparse flags 0x%x without the sparseBinding "
                 "feature (buffer %llu)",
                 info->flags & sparse, (unsigned long long)(uintptr_t)*args->pBuffer);
      return;
   }
   VkExternalMemoryBufferCreateInfo ext;
   if (buffer_host_importable(dev, info))
      add_host_handle_type(&info->pNext, VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
                           &ext);
   VkBuffer handle = VK_NULL_HANDLE;
   args->ret = dev->dispatch.vkCreateBuffer(dev->handle, info, NULL, &handle);
   if (args->ret != VK_SUCCESS)
      return;
   struct vn_object *obj = insert_device_object(ctx, dev, (uint64_t)(uintptr_t)*args->pBuffer,
                                                VK_OBJECT_TYPE_BUFFER, (uint64_t)(uintptr_t)handle);
   if (obj)
      pvk_validate_record_buffer(ctx, obj, info);
   if (pvk_context_is_lost(ctx))
      dev->dispatch.vkDestroyBuffer(dev->handle, handle, NULL);
}

/* VUID-VkImageCreateInfo-extent-00944/00945/00946, -mipLevels-00947/00958,
 * -arrayLayers-00948: drivers size their per-level arrays from these (lavapipe's
 * queue thread crashed drawing with an image of 0xfffffffe levels: the replay
 * fuzzer's image-mip-levels.pvcap). NULL or why the image is refused. */
static const char *
image_extent_why(const VkImageCreateInfo *info)
{
   const VkExtent3D *x = &info->extent;
   if (!x->width || !x->height || !x->depth || !info->mipLevels || !info->arrayLayers)
      return "zero extent, mipLevels or arrayLayers";
   uint32_t max = x->width > x->height ? x->width : x->height;
   max = max > x->depth ? max : x->depth;
   uint32_t levels = 0;
   for (; max; max >>= 1)
      levels++;
   return info->mipLevels > levels ? "more mip levels than the extent has" : NULL;
}

/* VUID-VkImageCreateInfo-imageCreateFormatFeatures-02260, -format-01577:
 * DISJOINT only for a multi-planar format whose features for the tiling
 * have VK_FORMAT_FEATURE_DISJOINT_BIT (lavapipe 22.3 gives it to no
 * format). DRM format modifier tiling is refused: its memory planes
 * (VK_IMAGE_ASPECT_MEMORY_PLANE_*) are not tracked. Each plane is then
 * bound on its own (pvk_validate_range.c). NULL or why it is refused. */
static const char *
disjoint_why(const struct pvk_device *dev, const VkImageCreateInfo *info)
{
   if (!(info->flags & VK_IMAGE_CREATE_DISJOINT_BIT))
      return NULL;
   if (pvk_format_planes(info->format) < 2)
      return "DISJOINT for a format that is not multi-planar "
             "(VUID-VkImageCreateInfo-format-01577)";
   if (info->tiling != VK_IMAGE_TILING_OPTIMAL && info->tiling != VK_IMAGE_TILING_LINEAR)
      return "DISJOINT with a tiling other than OPTIMAL or LINEAR (not tracked)";
   VkFormatProperties props = { 0 };
   dev->instance->dispatch.vkGetPhysicalDeviceFormatProperties(dev->physical_device->handle,
                                                               info->format, &props);
   const VkFormatFeatureFlags features = info->tiling == VK_IMAGE_TILING_LINEAR
                                            ? props.linearTilingFeatures
                                            : props.optimalTilingFeatures;
   return features & VK_FORMAT_FEATURE_DISJOINT_BIT
             ? NULL
             : "DISJOINT for a format without VK_FORMAT_FEATURE_DISJOINT_BIT on the host "
               "(VUID-VkImageCreateInfo-imageCreateFormatFeatures-02260)";
}

void
vn_handle_vkCreateImage(struct vn_dispatch_context *dctx, struct vn_command_vkCreateImage *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   if (!args->pCreateInfo || !args->pImage) {
      pvk_context_set_lost(ctx, "vkCreateImage: missing arguments");
      return;
   }
   VkImageCreateInfo *info = (VkImageCreateInfo *)args->pCreateInfo;
   const char *why = image_extent_why(info);
   if (!why && !pvk_sample_count_ok(dev->physical_device, info->samples))
      why = "a sample count the device does not have";
   if (why) {
      pvk_reject(ctx,
                 "range: vkCreateImage: %s (image %llu, extent %ux%ux%u, %u levels, %u layers)",
                 why, (unsigned long long)(uintptr_t)*args->pImage, info->extent.width,
                 info->extent.height, info->extent.depth, info->mipLevels, info->arrayLayers);
      return;
   }
   /* VUID-VkImageCreateInfo-flags-00969 and the like: as for buffers */
   const VkImageCreateFlags sparse = VK_IMAGE_CREATE_SPARSE_BINDING_BIT |
                                     VK_IMAGE_CREATE_SPARSE_RESIDENCY_BIT |
                                     VK_IMAGE_CREATE_SPARSE_ALIASED_BIT;
   if ((info->flags & sparse) && !dev->sparse_binding) {
      pvk_reject(ctx,
                 "sparse: vkCreateImage: sparse flags 0x%x without the sparseBinding "
                 "feature (image %llu)",
                 info->flags & sparse, (unsigned long long)(uintptr_t)*args->pImage);
      return;
   }
   why = disjoint_why(dev, info);
   if (why) {
      pvk_reject(ctx, "memory: vkCreateImage: %s (image %llu, format %d, tiling %d)", why,
                 (unsigned long long)(uintptr_t)*args->pImage, (int)info->format,
                 (int)info->tiling);
      return;
   }
   VkExternalMemoryImageCreateInfo ext;
   if (image_host_importable(dev, info))
      add_host_handle_type(&info->pNext, VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO, &ext);
   VkImage handle = VK_NULL_HANDLE;
   args->ret = dev->dispatch.vkCreateImage(dev->handle, info, NULL, &handle);
   if (args->ret != VK_SUCCESS)
      return;
   struct vn_object *obj = insert_device_object(ctx, dev, (uint64_t)(uintptr_t)*args->pImage,
                                                VK_OBJECT_TYPE_IMAGE, (uint64_t)(uintptr_t)handle);
   if (obj)
      pvk_validate_record_image(ctx, obj, info);
   if (pvk_context_is_lost(ctx))
      dev->dispatch.vkDestroyImage(dev->handle, handle, NULL);
}
