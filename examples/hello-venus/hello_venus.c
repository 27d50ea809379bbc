/*
 * hello-venus: embeds PearVisor the way a VMM does, through
 * <pearvisor/pearvisor.h> and `pkg-config pearvisor` alone.
 *
 * It plays both sides: the VMM (renderer, capset, context, blob resources,
 * fences) and, in place of Mesa's venus driver in a guest, a few hand-encoded
 * venus commands: vkCreateInstance, vkEnumeratePhysicalDevices and
 * vkGetPhysicalDeviceProperties, whose replies the renderer writes into a
 * shared-memory blob that the "guest" reads through the exported fd.
 * It prints the host device the guest would see.
 *
 *   cc hello_venus.c $(pkg-config --cflags --libs pearvisor) -o hello-venus
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, mmap with -std=c11 */

#include <errno.h>
#include <pthread.h>
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
   CMD_SET_REPLY_COMMAND_STREAM = 178,
   CMD_SEEK_REPLY_COMMAND_STREAM = 179,
};
#define CMD_FLAG_GENERATE_REPLY 1u
#define VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO 1u

/* Object ids the guest picks for its Vulkan handles. */
#define INSTANCE_ID 1
#define PHYSICAL_DEVICE_ID 2

#define CTX_ID 1
#define REPLY_RES_ID 1
#define REPLY_SIZE 4096

/* A venus command stream: little-endian values, each padded to 4 bytes. */
struct stream {
   uint32_t words[256];
   size_t count;
};

static void
put_u32(struct stream *s, uint32_t v)
{
   if (s->count < sizeof(s->words) / sizeof(s->words[0]))
      s->words[s->count++] = v;
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

static int
submit(struct pv_renderer *r, const struct stream *s, const char *what)
{
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

/* --- the guest's side: three Vulkan calls --- */

static int
query_device(struct pv_renderer *r, const uint8_t *reply)
{
   /* vkCreateInstance(&{no app info, no layers, no extensions}) */
   struct stream s = {0};
   put_reply_stream(&s);
   put_cmd(&s, CMD_CREATE_INSTANCE, CMD_FLAG_GENERATE_REPLY);
   put_u64(&s, 1); /* pCreateInfo */
   put_u32(&s, VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
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
   if (submit(r, &s, "vkCreateInstance"))
      return -1;
   /* reply: command type, VkResult */
   if (reply_u32(reply, 4) != 0) {
      fprintf(stderr, "hello-venus: vkCreateInstance: VkResult %d\n", (int)reply_u32(reply, 4));
      return -1;
   }

   /* vkEnumeratePhysicalDevices(instance, &1, &first) */
   s.count = 0;
   put_reply_stream(&s);
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
   if ((result != 0 && result != 5) || reply_u32(reply, 16) < 1) {
      fprintf(stderr, "hello-venus: vkEnumeratePhysicalDevices: VkResult %d\n", result);
      return -1;
   }

   /* vkGetPhysicalDeviceProperties(first, &props) */
   s.count = 0;
   put_reply_stream(&s);
   put_cmd(&s, CMD_GET_PHYSICAL_DEVICE_PROPERTIES, CMD_FLAG_GENERATE_REPLY);
   put_u64(&s, PHYSICAL_DEVICE_ID);
   put_u64(&s, 1); /* pProperties: an output struct, nothing of it is sent */
   if (submit(r, &s, "vkGetPhysicalDeviceProperties"))
      return -1;
   /* reply: type (4), pointer (8), apiVersion, driverVersion, vendorID,
    * deviceID, deviceType (4 each), deviceName's size (8), deviceName */
   const uint32_t api = reply_u32(reply, 12);
   char name[257] = {0};
   memcpy(name, reply + 40, 256);
   /* apiVersion is what this instance may use (it asked for none: 1.1) */
   printf("host device: %s (vendor 0x%04x, Vulkan %u.%u.%u for this instance)\n", name,
          reply_u32(reply, 20), api >> 22, (api >> 12) & 0x3ff, api & 0xfff);

   /* vkDestroyInstance(instance, NULL) */
   s.count = 0;
   put_cmd(&s, CMD_DESTROY_INSTANCE, 0);
   put_u64(&s, INSTANCE_ID);
   put_u64(&s, 0);
   return submit(r, &s, "vkDestroyInstance") ? -1 : 0;
}

/* --- the VMM's side --- */

static int
run(struct pv_renderer *r, struct fence_state *fences)
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

   ret = pv_context_create(r, CTX_ID, PV_CAPSET_VENUS, "hello-venus");
   if (ret)
      return ret;

   /* The reply stream: plain shared memory (blob id 0), which a VMM maps
    * into the guest through the exported fd. */
   const struct pv_blob_args blob = {
      .res_id = REPLY_RES_ID,
      .ctx_id = CTX_ID,
      .blob_mem = PV_BLOB_MEM_HOST3D,
      .blob_flags = PV_BLOB_FLAG_MAPPABLE,
      .blob_id = 0,
      .size = REPLY_SIZE,
   };
   ret = pv_resource_create_blob(r, &blob);
   if (ret)
      return ret;
   int fd = -1;
   uint32_t map_info = 0;
   ret = pv_resource_export_fd(r, REPLY_RES_ID, &fd, &map_info);
   if (ret)
      return ret;
   void *guest_view = mmap(NULL, REPLY_SIZE, PROT_READ, MAP_SHARED, fd, 0);
   close(fd);
   if (guest_view == MAP_FAILED)
      return -errno;

   ret = query_device(r, guest_view) ? -EIO : 0;
   if (ret == 0) {
      ret = pv_context_submit_fence(r, CTX_ID, 0, 1);
      if (ret == 0)
         ret = wait_fence(fences, 1);
      if (ret == 0)
         printf("fence 1 retired\n");
   }
   munmap(guest_view, REPLY_SIZE);
   pv_resource_unref(r, REPLY_RES_ID);
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
