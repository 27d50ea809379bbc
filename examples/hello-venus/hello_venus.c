/*
 * hello-venus: embeds PearVisor the way a VMM does, through
 * <pearvisor/pearvisor.h> and `pkg-config pearvisor` alone.
 *
 * It plays both sides. As the VMM: a renderer, the venus capset, a context,
 * blob resources exported as file descriptors and mapped, a fence. In place
 * of Mesa's venus driver in a guest: hand-encoded venus commands that query
 * the host device, then have it fill a buffer with vkCmdFillBuffer; the
 * buffer's memory is read back through the fd of its blob, without a copy.
 *
 *   cc hello_venus.c $(pkg-config --cflags --libs pearvisor) -o hello-venus
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, mmap with -std=c11 */

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <pearvisor/pearvisor.h>

/* Venus command types (VkCommandTypeEXT) and the Vulkan values used here,
 * so the example needs no Vulkan or venus-protocol headers. */
enum {
   CMD_CREATE_INSTANCE = 0,
   CMD_DESTROY_INSTANCE = 1,
   CMD_ENUMERATE_PHYSICAL_DEVICES = 2,
   CMD_GET_PHYSICAL_DEVICE_PROPERTIES = 6,
   CMD_GET_PHYSICAL_DEVICE_MEMORY_PROPERTIES = 8,
   CMD_CREATE_DEVICE = 11,
   CMD_DESTROY_DEVICE = 12,
   CMD_GET_DEVICE_QUEUE = 17,
   CMD_QUEUE_SUBMIT = 18,
   CMD_ALLOCATE_MEMORY = 21,
   CMD_FREE_MEMORY = 22,
   CMD_BIND_BUFFER_MEMORY = 28,
   CMD_GET_BUFFER_MEMORY_REQUIREMENTS = 30,
   CMD_CREATE_BUFFER = 50,
   CMD_DESTROY_BUFFER = 51,
   CMD_CREATE_COMMAND_POOL = 85,
   CMD_DESTROY_COMMAND_POOL = 86,
   CMD_ALLOCATE_COMMAND_BUFFERS = 88,
   CMD_BEGIN_COMMAND_BUFFER = 90,
   CMD_END_COMMAND_BUFFER = 91,
   CMD_CMD_FILL_BUFFER = 118,
   CMD_SET_REPLY_COMMAND_STREAM = 178,
   CMD_SEEK_REPLY_COMMAND_STREAM = 179,
};
#define CMD_FLAG_GENERATE_REPLY 1u

enum {
   STYPE_INSTANCE_CREATE_INFO = 1,
   STYPE_DEVICE_QUEUE_CREATE_INFO = 2,
   STYPE_DEVICE_CREATE_INFO = 3,
   STYPE_SUBMIT_INFO = 4,
   STYPE_MEMORY_ALLOCATE_INFO = 5,
   STYPE_BUFFER_CREATE_INFO = 12,
   STYPE_COMMAND_POOL_CREATE_INFO = 39,
   STYPE_COMMAND_BUFFER_ALLOCATE_INFO = 40,
   STYPE_COMMAND_BUFFER_BEGIN_INFO = 42,
};
#define VK_SUCCESS 0
#define VK_INCOMPLETE 5
#define MEMORY_HOST_VISIBLE_COHERENT (0x2u | 0x4u)
#define BUFFER_USAGE_TRANSFER_DST 0x2u
#define COMMAND_BUFFER_ONE_TIME_SUBMIT 0x1u

/* Object ids the guest picks for its Vulkan handles. */
enum {
   INSTANCE_ID = 1,
   PHYSICAL_DEVICE_ID,
   DEVICE_ID,
   QUEUE_ID,
   BUFFER_ID,
   MEMORY_ID,
   COMMAND_POOL_ID,
   COMMAND_BUFFER_ID,
};

#define BUFFER_SIZE 65536
#define FILL_PATTERN 0x52414550u /* "PEAR" in memory */

#define CTX_ID 1
#define REPLY_RES_ID 1
#define BUFFER_RES_ID 2
#define REPLY_SIZE 4096

/* A venus command stream: little-endian values, each padded to 4 bytes. */
struct stream {
   uint32_t words[256];
   size_t count;
   bool overflow;
};

static void
put_u32(struct stream *s, uint32_t v)
{
   if (s->count < sizeof(s->words) / sizeof(s->words[0]))
      s->words[s->count++] = v;
   else
      s->overflow = true;
}

static void
put_u64(struct stream *s, uint64_t v)
{
   put_u32(s, (uint32_t)v);
   put_u32(s, (uint32_t)(v >> 32));
}

static void
put_cmd(struct stream *s, uint32_t type, uint32_t flags)
{
   put_u32(s, type);
   put_u32(s, flags);
}

/* Replies of the following commands go to REPLY_RES_ID, from offset 0. */
static void
put_reply_stream(struct stream *s)
{
   put_cmd(s, CMD_SET_REPLY_COMMAND_STREAM, 0);
   put_u64(s, 1); /* VkCommandStreamDescriptionMESA present */
   put_u32(s, REPLY_RES_ID);
   put_u64(s, 0);          /* offset */
   put_u64(s, REPLY_SIZE); /* size */
   put_cmd(s, CMD_SEEK_REPLY_COMMAND_STREAM, 0);
   put_u64(s, 0);
}

/* Starts a stream whose first command's reply lands at offset 0. */
static void
begin(struct stream *s)
{
   s->count = 0;
   s->overflow = false;
   put_reply_stream(s);
}

static int
submit(struct pv_renderer *r, const struct stream *s, const char *what)
{
   if (s->overflow) {
      fprintf(stderr, "hello-venus: %s: stream too long\n", what);
      return -1;
   }
   const int ret = pv_context_submit(r, CTX_ID, s->words, s->count * sizeof(uint32_t));
   if (ret)
      fprintf(stderr, "hello-venus: %s: pv_context_submit failed: %s\n", what, strerror(-ret));
   return ret;
}

static uint32_t
reply_u32(const uint8_t *reply, size_t offset)
{
   uint32_t v;
   memcpy(&v, reply + offset, sizeof(v));
   return v;
}

static uint64_t
reply_u64(const uint8_t *reply, size_t offset)
{
   uint64_t v;
   memcpy(&v, reply + offset, sizeof(v));
   return v;
}

/* Submits a stream whose (one) reply starts with the command type and a
 * VkResult, and checks both. */
static int
submit_checked(struct pv_renderer *r, const struct stream *s, const char *what,
               const uint8_t *reply, uint32_t cmd)
{
   if (submit(r, s, what))
      return -1;
   const int32_t result = (int32_t)reply_u32(reply, 4);
   if (reply_u32(reply, 0) != cmd || result != VK_SUCCESS) {
      fprintf(stderr, "hello-venus: %s: VkResult %d\n", what, result);
      return -1;
   }
   return 0;
}

/* --- fences: the renderer calls back from its own threads --- */

struct fence_state {
   pthread_mutex_t mutex;
   pthread_cond_t cond;
   uint64_t retired;
};

static void
on_fence_retired(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id)
{
   (void)ctx_id;
   (void)ring_idx;
   struct fence_state *f = data;
   pthread_mutex_lock(&f->mutex);
   f->retired = fence_id;
   pthread_cond_broadcast(&f->cond);
   pthread_mutex_unlock(&f->mutex);
}

static int
wait_fence(struct fence_state *f, uint64_t fence_id)
{
   struct timespec deadline;
   clock_gettime(CLOCK_REALTIME, &deadline);
   deadline.tv_sec += 10;
   pthread_mutex_lock(&f->mutex);
   while (f->retired != fence_id) {
      if (pthread_cond_timedwait(&f->cond, &f->mutex, &deadline) == ETIMEDOUT)
         break;
   }
   const bool retired = f->retired == fence_id;
   pthread_mutex_unlock(&f->mutex);
   return retired ? 0 : -ETIMEDOUT;
}

/* --- the guest's side: what Mesa's venus driver would send --- */

/* vkCreateInstance, the first physical device and its name. */
static int
query_device(struct pv_renderer *r, const uint8_t *reply)
{
   /* vkCreateInstance(&{no app info, no layers, no extensions}) */
   struct stream s;
   begin(&s);
   put_cmd(&s, CMD_CREATE_INSTANCE, CMD_FLAG_GENERATE_REPLY);
   put_u64(&s, 1); /* pCreateInfo */
   put_u32(&s, STYPE_INSTANCE_CREATE_INFO);
   put_u64(&s, 0); /* pNext */
   put_u32(&s, 0); /* flags */
   put_u64(&s, 0); /* pApplicationInfo */
   put_u32(&s, 0); /* enabledLayerCount */
   put_u64(&s, 0); /* ppEnabledLayerNames */
   put_u32(&s, 0); /* enabledExtensionCount */
   put_u64(&s, 0); /* ppEnabledExtensionNames */
   put_u64(&s, 0); /* pAllocator */
   put_u64(&s, 1); /* pInstance */
   put_u64(&s, INSTANCE_ID);
   if (submit_checked(r, &s, "vkCreateInstance", reply, CMD_CREATE_INSTANCE))
      return -1;

   /* vkEnumeratePhysicalDevices(instance, &1, &first) */
   begin(&s);
   put_cmd(&s, CMD_ENUMERATE_PHYSICAL_DEVICES, CMD_FLAG_GENERATE_REPLY);
   put_u64(&s, INSTANCE_ID);
   put_u64(&s, 1); /* pPhysicalDeviceCount */
   put_u32(&s, 1);
   put_u64(&s, 1); /* pPhysicalDevices: one */
   put_u64(&s, PHYSICAL_DEVICE_ID);
   if (submit(r, &s, "vkEnumeratePhysicalDevices"))
      return -1;
   /* reply: type, VkResult (VK_INCOMPLETE with more devices), count */
   const int32_t result = (int32_t)reply_u32(reply, 4);
   if ((result != VK_SUCCESS && result != VK_INCOMPLETE) || reply_u32(reply, 16) < 1) {
      fprintf(stderr, "hello-venus: vkEnumeratePhysicalDevices: VkResult %d\n", result);
      return -1;
   }

   /* vkGetPhysicalDeviceProperties(first, &props) */
   begin(&s);
   put_cmd(&s, CMD_GET_PHYSICAL_DEVICE_PROPERTIES, CMD_FLAG_GENERATE_REPLY);
   put_u64(&s, PHYSICAL_DEVICE_ID);
   put_u64(&s, 1); /* pProperties: an output struct, nothing of it is sent */
   if (submit(r, &s, "vkGetPhysicalDeviceProperties"))
      return -1;
   /* reply: type (4), pointer (8), apiVersion, driverVersion, vendorID,
    * deviceID, deviceType (4 each), deviceName's size (8), deviceName */
   const uint32_t api = reply_u32(reply, 12);
   char name[257] = { 0 };
   memcpy(name, reply + 40, 256);
   /* apiVersion is what this instance may use (it asked for none: 1.1) */
   printf("host device: %s (vendor 0x%04x, Vulkan %u.%u.%u for this instance)\n", name,
          reply_u32(reply, 20), api >> 22, (api >> 12) & 0x3ff, api & 0xfff);
   return 0;
}

/* A device with one queue of family 0. */
static int
create_device(struct pv_renderer *r, const uint8_t *reply)
{
   struct stream s;
   begin(&s);
   put_cmd(&s, CMD_CREATE_DEVICE, CMD_FLAG_GENERATE_REPLY);
   put_u64(&s, PHYSICAL_DEVICE_ID);
   put_u64(&s, 1); /* pCreateInfo */
   put_u32(&s, STYPE_DEVICE_CREATE_INFO);
   put_u64(&s, 0); /* pNext */
   put_u32(&s, 0); /* flags */
   put_u32(&s, 1); /* queueCreateInfoCount */
   put_u64(&s, 1); /* pQueueCreateInfos[1] */
   put_u32(&s, STYPE_DEVICE_QUEUE_CREATE_INFO);
   put_u64(&s, 0);          /* pNext */
   put_u32(&s, 0);          /* flags */
   put_u32(&s, 0);          /* queueFamilyIndex */
   put_u32(&s, 1);          /* queueCount */
   put_u64(&s, 1);          /* pQueuePriorities[1] */
   put_u32(&s, 0x3f800000); /* 1.0f */
   put_u32(&s, 0);          /* enabledLayerCount */
   put_u64(&s, 0);
   put_u32(&s, 0); /* enabledExtensionCount */
   put_u64(&s, 0);
   put_u64(&s, 0); /* pEnabledFeatures */
   put_u64(&s, 0); /* pAllocator */
   put_u64(&s, 1); /* pDevice */
   put_u64(&s, DEVICE_ID);
   if (submit_checked(r, &s, "vkCreateDevice", reply, CMD_CREATE_DEVICE))
      return -1;

   begin(&s);
   put_cmd(&s, CMD_GET_DEVICE_QUEUE, 0);
   put_u64(&s, DEVICE_ID);
   put_u32(&s, 0); /* queueFamilyIndex */
   put_u32(&s, 0); /* queueIndex */
   put_u64(&s, 1); /* pQueue */
   put_u64(&s, QUEUE_ID);
   return submit(r, &s, "vkGetDeviceQueue");
}

/* A host-visible, coherent memory type allowed by type_bits (-1 if none). */
static int
find_host_visible_type(struct pv_renderer *r, const uint8_t *reply, uint32_t type_bits)
{
   struct stream s;
   begin(&s);
   put_cmd(&s, CMD_GET_PHYSICAL_DEVICE_MEMORY_PROPERTIES, CMD_FLAG_GENERATE_REPLY);
   put_u64(&s, PHYSICAL_DEVICE_ID);
   put_u64(&s, 1);  /* pMemoryProperties: */
   put_u64(&s, 32); /* sizes of its memoryTypes and memoryHeaps arrays */
   put_u64(&s, 16);
   if (submit(r, &s, "vkGetPhysicalDeviceMemoryProperties"))
      return -1;
   /* reply: type, pointer, memoryTypeCount (@12), array size, then
    * {propertyFlags, heapIndex} per type (@24) */
   const uint32_t count = reply_u32(reply, 12);
   for (uint32_t i = 0; i < count && i < 32; i++) {
      const uint32_t flags = reply_u32(reply, 24 + 8 * i);
      if ((type_bits & (1u << i)) &&
          (flags & MEMORY_HOST_VISIBLE_COHERENT) == MEMORY_HOST_VISIBLE_COHERENT)
         return (int)i;
   }
   fprintf(stderr, "hello-venus: no host-visible, coherent memory type\n");
   return -1;
}

/* A transfer-destination buffer bound to host-visible memory; *alloc_size
 * gets the size of its VkDeviceMemory. */
static int
create_buffer(struct pv_renderer *r, const uint8_t *reply, uint64_t *alloc_size)
{
   struct stream s;
   begin(&s);
   put_cmd(&s, CMD_CREATE_BUFFER, CMD_FLAG_GENERATE_REPLY);
   put_u64(&s, DEVICE_ID);
   put_u64(&s, 1); /* pCreateInfo */
   put_u32(&s, STYPE_BUFFER_CREATE_INFO);
   put_u64(&s, 0); /* pNext */
   put_u32(&s, 0); /* flags */
   put_u64(&s, BUFFER_SIZE);
   put_u32(&s, BUFFER_USAGE_TRANSFER_DST);
   put_u32(&s, 0); /* VK_SHARING_MODE_EXCLUSIVE */
   put_u32(&s, 0); /* queueFamilyIndexCount */
   put_u64(&s, 0); /* pQueueFamilyIndices */
   put_u64(&s, 0); /* pAllocator */
   put_u64(&s, 1); /* pBuffer */
   put_u64(&s, BUFFER_ID);
   if (submit_checked(r, &s, "vkCreateBuffer", reply, CMD_CREATE_BUFFER))
      return -1;

   begin(&s);
   put_cmd(&s, CMD_GET_BUFFER_MEMORY_REQUIREMENTS, CMD_FLAG_GENERATE_REPLY);
   put_u64(&s, DEVICE_ID);
   put_u64(&s, BUFFER_ID);
   put_u64(&s, 1); /* pMemoryRequirements */
   if (submit(r, &s, "vkGetBufferMemoryRequirements"))
      return -1;
   /* reply: type, pointer, size (@12), alignment, memoryTypeBits (@28) */
   const uint64_t size = reply_u64(reply, 12);
   const int type = find_host_visible_type(r, reply, reply_u32(reply, 28));
   if (type < 0)
      return -1;
   /* whole pages, so that the blob maps exactly this memory */
   *alloc_size = (size + 4095) & ~(uint64_t)4095;

   begin(&s);
   put_cmd(&s, CMD_ALLOCATE_MEMORY, CMD_FLAG_GENERATE_REPLY);
   put_u64(&s, DEVICE_ID);
   put_u64(&s, 1); /* pAllocateInfo */
   put_u32(&s, STYPE_MEMORY_ALLOCATE_INFO);
   put_u64(&s, 0); /* pNext */
   put_u64(&s, *alloc_size);
   put_u32(&s, (uint32_t)type);
   put_u64(&s, 0); /* pAllocator */
   put_u64(&s, 1); /* pMemory */
   put_u64(&s, MEMORY_ID);
   if (submit_checked(r, &s, "vkAllocateMemory", reply, CMD_ALLOCATE_MEMORY))
      return -1;

   begin(&s);
   put_cmd(&s, CMD_BIND_BUFFER_MEMORY, CMD_FLAG_GENERATE_REPLY);
   put_u64(&s, DEVICE_ID);
   put_u64(&s, BUFFER_ID);
   put_u64(&s, MEMORY_ID);
   put_u64(&s, 0); /* memoryOffset */
   return submit_checked(r, &s, "vkBindBufferMemory", reply, CMD_BIND_BUFFER_MEMORY);
}

/* Records vkCmdFillBuffer(buffer, FILL_PATTERN) and submits it to the queue.
 * The caller waits with a PearVisor fence. */
static int
fill_buffer(struct pv_renderer *r, const uint8_t *reply)
{
   struct stream s;
   begin(&s);
   put_cmd(&s, CMD_CREATE_COMMAND_POOL, CMD_FLAG_GENERATE_REPLY);
   put_u64(&s, DEVICE_ID);
   put_u64(&s, 1); /* pCreateInfo */
   put_u32(&s, STYPE_COMMAND_POOL_CREATE_INFO);
   put_u64(&s, 0); /* pNext */
   put_u32(&s, 0); /* flags */
   put_u32(&s, 0); /* queueFamilyIndex */
   put_u64(&s, 0); /* pAllocator */
   put_u64(&s, 1); /* pCommandPool */
   put_u64(&s, COMMAND_POOL_ID);
   if (submit_checked(r, &s, "vkCreateCommandPool", reply, CMD_CREATE_COMMAND_POOL))
      return -1;

   begin(&s);
   put_cmd(&s, CMD_ALLOCATE_COMMAND_BUFFERS, CMD_FLAG_GENERATE_REPLY);
   put_u64(&s, DEVICE_ID);
   put_u64(&s, 1); /* pAllocateInfo */
   put_u32(&s, STYPE_COMMAND_BUFFER_ALLOCATE_INFO);
   put_u64(&s, 0); /* pNext */
   put_u64(&s, COMMAND_POOL_ID);
   put_u32(&s, 0); /* VK_COMMAND_BUFFER_LEVEL_PRIMARY */
   put_u32(&s, 1); /* commandBufferCount */
   put_u64(&s, 1); /* pCommandBuffers[1] */
   put_u64(&s, COMMAND_BUFFER_ID);
   if (submit_checked(r, &s, "vkAllocateCommandBuffers", reply, CMD_ALLOCATE_COMMAND_BUFFERS))
      return -1;

   /* Recording and submission in one stream, as the guest's ring would
    * carry them; only vkBeginCommandBuffer asks for a reply here. */
   begin(&s);
   put_cmd(&s, CMD_BEGIN_COMMAND_BUFFER, CMD_FLAG_GENERATE_REPLY);
   put_u64(&s, COMMAND_BUFFER_ID);
   put_u64(&s, 1); /* pBeginInfo */
   put_u32(&s, STYPE_COMMAND_BUFFER_BEGIN_INFO);
   put_u64(&s, 0); /* pNext */
   put_u32(&s, COMMAND_BUFFER_ONE_TIME_SUBMIT);
   put_u64(&s, 0); /* pInheritanceInfo */
   put_cmd(&s, CMD_CMD_FILL_BUFFER, 0);
   put_u64(&s, COMMAND_BUFFER_ID);
   put_u64(&s, BUFFER_ID);
   put_u64(&s, 0); /* dstOffset */
   put_u64(&s, BUFFER_SIZE);
   put_u32(&s, FILL_PATTERN);
   put_cmd(&s, CMD_END_COMMAND_BUFFER, 0);
   put_u64(&s, COMMAND_BUFFER_ID);
   put_cmd(&s, CMD_QUEUE_SUBMIT, 0);
   put_u64(&s, QUEUE_ID);
   put_u32(&s, 1); /* submitCount */
   put_u64(&s, 1); /* pSubmits[1] */
   put_u32(&s, STYPE_SUBMIT_INFO);
   put_u64(&s, 0); /* pNext */
   put_u32(&s, 0); /* waitSemaphoreCount */
   put_u64(&s, 0); /* pWaitSemaphores */
   put_u64(&s, 0); /* pWaitDstStageMask */
   put_u32(&s, 1); /* commandBufferCount */
   put_u64(&s, 1); /* pCommandBuffers[1] */
   put_u64(&s, COMMAND_BUFFER_ID);
   put_u32(&s, 0); /* signalSemaphoreCount */
   put_u64(&s, 0); /* pSignalSemaphores */
   put_u64(&s, 0); /* fence: VK_NULL_HANDLE */
   return submit_checked(r, &s, "vkCmdFillBuffer + vkQueueSubmit", reply, CMD_BEGIN_COMMAND_BUFFER);
}

/* Destroys what create_device, create_buffer and fill_buffer made. */
static int
destroy_all(struct pv_renderer *r)
{
   struct stream s = { 0 };
   put_cmd(&s, CMD_DESTROY_COMMAND_POOL, 0); /* frees its command buffer */
   put_u64(&s, DEVICE_ID);
   put_u64(&s, COMMAND_POOL_ID);
   put_u64(&s, 0);
   put_cmd(&s, CMD_DESTROY_BUFFER, 0);
   put_u64(&s, DEVICE_ID);
   put_u64(&s, BUFFER_ID);
   put_u64(&s, 0);
   put_cmd(&s, CMD_FREE_MEMORY, 0);
   put_u64(&s, DEVICE_ID);
   put_u64(&s, MEMORY_ID);
   put_u64(&s, 0);
   put_cmd(&s, CMD_DESTROY_DEVICE, 0);
   put_u64(&s, DEVICE_ID);
   put_u64(&s, 0);
   put_cmd(&s, CMD_DESTROY_INSTANCE, 0);
   put_u64(&s, INSTANCE_ID);
   put_u64(&s, 0);
   return submit(r, &s, "vkDestroy*");
}

/* --- the VMM's side --- */

/* Creates a mappable HOST3D blob and maps it the way a VMM maps it into a
 * guest: through the exported fd (the same memory the renderer uses). */
static int
create_mapped_blob(struct pv_renderer *r, uint32_t res_id, uint64_t blob_id, uint64_t size,
                   const uint8_t **map)
{
   const struct pv_blob_args args = {
      .res_id = res_id,
      .ctx_id = CTX_ID,
      .blob_mem = PV_BLOB_MEM_HOST3D,
      .blob_flags = PV_BLOB_FLAG_MAPPABLE,
      .blob_id = blob_id,
      .size = size,
   };
   int ret = pv_resource_create_blob(r, &args);
   if (ret)
      return ret;
   int fd = -1;
   uint32_t map_info = 0;
   ret = pv_resource_export_fd(r, res_id, &fd, &map_info);
   if (ret) {
      pv_resource_unref(r, res_id);
      return ret;
   }
   void *ptr = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
   close(fd);
   if (ptr == MAP_FAILED) {
      pv_resource_unref(r, res_id);
      return -errno;
   }
   *map = ptr;
   return 0;
}

static int
print_capset(struct pv_renderer *r)
{
   uint32_t max_version = 0, max_size = 0;
   int ret = pv_renderer_get_capset_info(r, PV_CAPSET_VENUS, &max_version, &max_size);
   if (ret)
      return ret;
   uint8_t capset[4096];
   uint32_t size = max_size < sizeof(capset) ? max_size : sizeof(capset);
   ret = pv_renderer_get_capset(r, PV_CAPSET_VENUS, max_version, capset, &size);
   if (ret)
      return ret;
   printf("venus capset: version %u, %u bytes\n", max_version, size);
   return 0;
}

/* The buffer the host device filled, read through the guest's mapping. */
static int
check_fill(const uint8_t *mem)
{
   for (size_t i = 0; i < BUFFER_SIZE; i += 4) {
      if (reply_u32(mem, i) != FILL_PATTERN) {
         fprintf(stderr, "hello-venus: byte %zu of the buffer is 0x%02x\n", i, mem[i]);
         return -1;
      }
   }
   printf("vkCmdFillBuffer: %d bytes of \"%.4s\", read through the blob's fd\n", BUFFER_SIZE,
          (const char *)mem);
   return 0;
}

/* The guest's work, with the fence that tells the VMM it is done. */
static int
render(struct pv_renderer *r, struct fence_state *fences, const uint8_t *reply)
{
   uint64_t alloc_size = 0;
   if (query_device(r, reply) || create_device(r, reply) || create_buffer(r, reply, &alloc_size))
      return -EIO;

   /* The buffer's VkDeviceMemory as a blob (blob_id = its object id). */
   const uint8_t *mem = NULL;
   int ret = create_mapped_blob(r, BUFFER_RES_ID, MEMORY_ID, alloc_size, &mem);
   if (ret)
      return ret;
   ret = fill_buffer(r, reply) ? -EIO : 0;
   if (ret == 0)
      ret = pv_context_submit_fence(r, CTX_ID, 0, 1);
   if (ret == 0)
      ret = wait_fence(fences, 1);
   if (ret == 0)
      ret = check_fill(mem) ? -EIO : 0;
   munmap((void *)mem, alloc_size);
   pv_resource_unref(r, BUFFER_RES_ID);
   if (ret == 0)
      ret = destroy_all(r) ? -EIO : 0;
   return ret;
}

static int
run(struct pv_renderer *r, struct fence_state *fences)
{
   int ret = print_capset(r);
   if (ret)
      return ret;
   ret = pv_context_create(r, CTX_ID, PV_CAPSET_VENUS, "hello-venus");
   if (ret)
      return ret;
   /* The reply stream: plain shared memory (blob id 0). */
   const uint8_t *reply = NULL;
   ret = create_mapped_blob(r, REPLY_RES_ID, 0, REPLY_SIZE, &reply);
   if (ret == 0) {
      ret = render(r, fences, reply);
      munmap((void *)reply, REPLY_SIZE);
      pv_resource_unref(r, REPLY_RES_ID);
   }
   /* Destroys whatever the guest left, as when a guest goes away. */
   pv_context_destroy(r, CTX_ID);
   return ret;
}

int
main(void)
{
   struct fence_state fences = {
      .mutex = PTHREAD_MUTEX_INITIALIZER,
      .cond = PTHREAD_COND_INITIALIZER,
   };
   const struct pv_renderer_callbacks cbs = {
      .data = &fences,
      .fence_retired = on_fence_retired,
   };
   struct pv_renderer *r = NULL;
   int ret = pv_renderer_create(&cbs, NULL, &r);
   if (ret) {
      fprintf(stderr, "hello-venus: pv_renderer_create: %s\n", strerror(-ret));
      return 1;
   }
   ret = run(r, &fences);
   pv_renderer_destroy(r);
   if (ret) {
      fprintf(stderr, "hello-venus: %s\n", strerror(-ret));
      return 1;
   }
   return 0;
}
