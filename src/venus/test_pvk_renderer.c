/*
 * Drives the Venus renderer through the public API with hand-encoded
 * command streams on the host's Vulkan driver (lavapipe in CI): capset,
 * reply streams, instance/physical device/device/queue/memory creation, the
 * HOST3D blob of host-visible memory, rings, fences, and bad streams.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <vulkan/vulkan.h>

#include "pearvisor/pearvisor.h"
#include "venus/test_stream.h"
#include "venus/pvk_capset.h"

#include "common/test_check.h"

enum {
   CMD_CREATE_INSTANCE = 0,
   CMD_DESTROY_INSTANCE = 1,
   CMD_ENUMERATE_PHYSICAL_DEVICES = 2,
   CMD_CREATE_DEVICE = 11,
   CMD_DESTROY_DEVICE = 12,
   CMD_GET_DEVICE_QUEUE = 17,
   CMD_QUEUE_SUBMIT = 18,
   CMD_QUEUE_WAIT_IDLE = 19,
   CMD_ALLOCATE_MEMORY = 21,
   CMD_CREATE_SEMAPHORE = 40,
   CMD_ENUMERATE_INSTANCE_VERSION = 137,
   CMD_EXECUTE_COMMAND_STREAMS = 180,
   CMD_SET_REPLY = 178,
   CMD_SEEK_REPLY = 179,
   CMD_CREATE_RING = 188,
   CMD_DESTROY_RING = 189,
   CMD_NOTIFY_RING = 190,
   CMD_WRITE_RING_EXTRA = 191,
   CMD_IMPORT_SEMAPHORE_RESOURCE = 246,
   CMD_SUBMIT_VIRTQUEUE_SEQNO = 251,
   CMD_WAIT_VIRTQUEUE_SEQNO = 252,
   CMD_WAIT_RING_SEQNO = 253,
};

static void
set_reply(struct test_stream *e, uint32_t res_id, uint64_t size)
{
   ts_cmd(e, CMD_SET_REPLY, 0);
   ts_u64(e, 1);
   ts_u32(e, res_id);
   ts_u64(e, 0);
   ts_u64(e, size);
   ts_cmd(e, CMD_SEEK_REPLY, 0);
   ts_u64(e, 0);
}

/* --- test harness --- */

struct fences {
   pthread_mutex_t mutex;
   uint64_t last;
   uint32_t count;
};

static void
on_fence(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id)
{
   struct fences *f = data;
   pthread_mutex_lock(&f->mutex);
   f->last = fence_id;
   f->count++;
   pthread_mutex_unlock(&f->mutex);
}

static uint64_t
now_ms(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sleep_ms(unsigned ms)
{
   const struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
   nanosleep(&ts, NULL);
}

static const uint32_t *
reply_u32(const void *reply, size_t word)
{
   return (const uint32_t *)reply + word;
}

static void
test_capset(struct pv_renderer *r)
{
   uint32_t max_version = 99, max_size = 0;
   CHECK(pv_renderer_get_capset_info(r, PV_CAPSET_VENUS, &max_version, &max_size) == 0);
   CHECK(max_version == 0 && max_size == 152);
   CHECK(pv_renderer_get_capset_info(r, 1, &max_version, &max_size) == -EINVAL);
   struct pvk_capset_venus caps;
   uint32_t size = sizeof(caps);
   CHECK(pv_renderer_get_capset(r, PV_CAPSET_VENUS, 0, &caps, &size) == 0);
   CHECK(size == 152);
   CHECK(caps.wire_format_version == 0);
   CHECK(caps.vk_xml_version >= VK_MAKE_API_VERSION(0, 1, 3, 0));
   CHECK(caps.supports_blob_id_0 == 1);
   CHECK(caps.vk_extension_mask1[0] & 1);
   /* VK_KHR_timeline_semaphore is extension 208 */
   CHECK(caps.vk_extension_mask1[208 / 32] & (1u << (208 % 32)));
}

static void *
blob(struct pv_renderer *r, uint32_t ctx_id, uint32_t res_id, uint64_t blob_id, uint64_t size)
{
   const struct pv_blob_args args = {
      .res_id = res_id,
      .ctx_id = ctx_id,
      .blob_mem = PV_BLOB_MEM_HOST3D,
      .blob_flags = PV_BLOB_FLAG_MAPPABLE,
      .blob_id = blob_id,
      .size = size,
   };
   CHECK(pv_resource_create_blob(r, &args) == 0);
   void *ptr = NULL;
   uint64_t mapped = 0;
   CHECK(pv_resource_map(r, res_id, &ptr, &mapped) == 0);
   CHECK(ptr && mapped == size);
   return ptr;
}

static void
test_bad_streams(struct pv_renderer *r)
{
   CHECK(pv_context_create(r, 2, PV_CAPSET_VENUS, "bad") == 0);
   CHECK(pv_context_create(r, 2, PV_CAPSET_VENUS, "dup") == -EEXIST);
   struct test_stream e = { 0 };
   ts_cmd(&e, 99999, 0); /* unknown command */
   CHECK(pv_context_submit(r, 2, e.data, e.len) == -EINVAL);
   CHECK(pv_context_is_lost(r, 2));
   CHECK(pv_context_submit(r, 2, e.data, e.len) == -ENODEV);
   pv_context_destroy(r, 2);

   /* truncated command, and a reply without a reply stream */
   CHECK(pv_context_create(r, 3, PV_CAPSET_VENUS, "bad2") == 0);
   e.len = 0;
   ts_cmd(&e, CMD_ENUMERATE_INSTANCE_VERSION, TS_REPLY);
   ts_u64(&e, 1);
   CHECK(pv_context_submit(r, 3, e.data, e.len) == -EINVAL);
   CHECK(pv_context_is_lost(r, 3));
   pv_context_destroy(r, 3);

   /* a ring outside its resource */
   CHECK(pv_context_create(r, 4, PV_CAPSET_VENUS, "bad3") == 0);
   blob(r, 4, 40, 0, 4096);
   e.len = 0;
   ts_cmd(&e, CMD_CREATE_RING, 0);
   ts_u64(&e, 1);
   ts_u64(&e, 1);
   ts_u32(&e, 1000384000);
   ts_u64(&e, 0);
   ts_u32(&e, 0);
   ts_u32(&e, 40);
   ts_u64(&e, 0);
   ts_u64(&e, 4096);
   ts_u64(&e, 1000);
   ts_u64(&e, 0);
   ts_u64(&e, 64);
   ts_u64(&e, 128);
   ts_u64(&e, 192);
   ts_u64(&e, 8192); /* buffer beyond the resource */
   ts_u64(&e, 0);
   ts_u64(&e, 0);
   CHECK(pv_context_submit(r, 4, e.data, e.len) == -EINVAL);
   pv_context_destroy(r, 4);
   pv_resource_unref(r, 40);

   /* random garbage must never crash */
   CHECK(pv_context_create(r, 5, PV_CAPSET_VENUS, "fuzz") == 0);
   srand(1);
   for (int i = 0; i < 200; i++) {
      uint32_t junk[32];
      for (int j = 0; j < 32; j++)
         junk[j] = (uint32_t)rand() % 300;
      pv_context_submit(r, 5, junk, sizeof(junk));
   }
   pv_context_destroy(r, 5);
}

static void
execute_streams(struct test_stream *e, uint32_t res_id, uint64_t offset, uint64_t size,
                const uint64_t *reply_pos)
{
   ts_cmd(e, CMD_EXECUTE_COMMAND_STREAMS, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, res_id);
   ts_u64(e, offset);
   ts_u64(e, size);
   ts_u64(e, reply_pos ? 1 : 0);
   if (reply_pos)
      ts_u64(e, *reply_pos);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 0);
}

/* Commands in shared memory, run with vkExecuteCommandStreamsMESA; nesting
 * is refused. */
static void
test_execute_streams(struct pv_renderer *r, uint32_t ctx_id, const uint8_t *reply)
{
   uint8_t *shm = blob(r, ctx_id, 12, 0, 4096);
   struct test_stream c = { 0 };
   ts_cmd(&c, CMD_ENUMERATE_INSTANCE_VERSION, TS_REPLY);
   ts_u64(&c, 1);
   memcpy(shm + 64, c.data, c.len);

   const uint64_t pos = 256;
   struct test_stream e = { 0 };
   set_reply(&e, 1, 65536);
   execute_streams(&e, 12, 64, c.len, &pos);
   CHECK(pv_context_submit(r, ctx_id, e.data, e.len) == 0);
   CHECK(*reply_u32(reply, 64) == CMD_ENUMERATE_INSTANCE_VERSION);
   CHECK(*reply_u32(reply, 64 + 4) >= VK_API_VERSION_1_1);

   /* out of the resource's bounds: lost */
   CHECK(pv_context_create(r, 6, PV_CAPSET_VENUS, "exec") == 0);
   pv_context_attach_resource(r, 6, 12);
   e.len = 0;
   execute_streams(&e, 12, 4000, 200, NULL);
   CHECK(pv_context_submit(r, 6, e.data, e.len) == -EINVAL);
   pv_context_destroy(r, 6);

   /* a stream executing itself */
   CHECK(pv_context_create(r, 6, PV_CAPSET_VENUS, "nest") == 0);
   pv_context_attach_resource(r, 6, 12);
   struct test_stream n = { 0 };
   execute_streams(&n, 12, 1024, 0, NULL);
   const uint64_t n_size = n.len;
   n.len = 0;
   execute_streams(&n, 12, 1024, n_size, NULL);
   memcpy(shm + 1024, n.data, n.len);
   CHECK(pv_context_submit(r, 6, n.data, n.len) == -EINVAL);
   pv_context_destroy(r, 6);
   pv_resource_unref(r, 12);
}

static void
test_ring(struct pv_renderer *r, uint32_t ctx_id)
{
   uint8_t *shm = blob(r, ctx_id, 10, 0, 8192);
   const uint64_t head = 0, tail = 64, status = 128, buffer = 192, buffer_size = 4096;
   const uint64_t extra = buffer + buffer_size;
   struct test_stream e = { 0 };
   ts_cmd(&e, CMD_CREATE_RING, 0);
   ts_u64(&e, 7); /* ring id */
   ts_u64(&e, 1);
   ts_u32(&e, 1000384000);
   ts_u64(&e, 0);
   ts_u32(&e, 0);
   ts_u32(&e, 10);
   ts_u64(&e, 0);
   ts_u64(&e, 8192);
   ts_u64(&e, 10ull * 1000 * 1000); /* idle after 10 ms */
   ts_u64(&e, head);
   ts_u64(&e, tail);
   ts_u64(&e, status);
   ts_u64(&e, buffer);
   ts_u64(&e, buffer_size);
   ts_u64(&e, extra);
   ts_u64(&e, 4);
   CHECK(pv_context_submit(r, ctx_id, e.data, e.len) == 0);

   atomic_uint *h = (atomic_uint *)(shm + head), *t = (atomic_uint *)(shm + tail);
   atomic_uint *st = (atomic_uint *)(shm + status), *x = (atomic_uint *)(shm + extra);
   /* a command through the ring, wrapping around the end of the buffer */
   uint32_t pos = 0;
   for (int round = 0; round < 200; round++) {
      struct test_stream c = { 0 };
      ts_cmd(&c, CMD_WRITE_RING_EXTRA, 0);
      ts_u64(&c, 7);
      ts_u64(&c, 0);
      ts_u32(&c, 1000 + round);
      for (size_t i = 0; i < c.len; i++)
         shm[buffer + ((pos + i) & (buffer_size - 1))] = c.data[i];
      pos += (uint32_t)c.len;
      atomic_store_explicit(t, pos, memory_order_release);
      if (atomic_load(st) & 1) {
         struct test_stream n = { 0 };
         ts_cmd(&n, CMD_NOTIFY_RING, 0);
         ts_u64(&n, 7);
         ts_u32(&n, pos);
         ts_u32(&n, 0);
         CHECK(pv_context_submit(r, ctx_id, n.data, n.len) == 0);
      }
      for (int i = 0; i < 2000 && atomic_load_explicit(h, memory_order_acquire) != pos; i++)
         sleep_ms(1);
      CHECK(atomic_load(h) == pos);
      CHECK(atomic_load(x) == (uint32_t)(1000 + round));
   }
   /* idle after the timeout, woken by a notify */
   for (int i = 0; i < 2000 && !(atomic_load(st) & 1); i++)
      sleep_ms(1);
   CHECK(atomic_load(st) & 1);

   /* vkWriteRingExtraMESA through the submit path too */
   e.len = 0;
   ts_cmd(&e, CMD_WRITE_RING_EXTRA, 0);
   ts_u64(&e, 7);
   ts_u64(&e, 0);
   ts_u32(&e, 4242);
   CHECK(pv_context_submit(r, ctx_id, e.data, e.len) == 0);
   CHECK(atomic_load(x) == 4242);

   e.len = 0;
   ts_cmd(&e, CMD_DESTROY_RING, 0);
   ts_u64(&e, 7);
   CHECK(pv_context_submit(r, ctx_id, e.data, e.len) == 0);
   pv_resource_unref(r, 10);
}

struct submitter {
   struct pv_renderer *r;
   uint32_t ctx_id;
   int failures;
};

static void *
submit_loop(void *data)
{
   struct submitter *s = data;
   for (int i = 0; i < 300; i++) {
      struct test_stream e = { 0 };
      set_reply(&e, 1, 65536);
      ts_cmd(&e, CMD_ENUMERATE_INSTANCE_VERSION, TS_REPLY);
      ts_u64(&e, 1);
      if (pv_context_submit(s->r, s->ctx_id, e.data, e.len) != 0)
         s->failures++;
   }
   return NULL;
}

/* Submits to one context while others come and go and fences retire. */
static void
test_concurrency(struct pv_renderer *r, uint32_t ctx_id)
{
   struct submitter s = { r, ctx_id, 0 };
   pthread_t thread;
   CHECK(pthread_create(&thread, NULL, submit_loop, &s) == 0);
   for (uint32_t i = 0; i < 20; i++) {
      CHECK(pv_context_create(r, 100 + i, PV_CAPSET_VENUS, "churn") == 0);
      CHECK(pv_context_submit_fence(r, 100 + i, 0, i) == 0);
      CHECK(pv_context_submit_fence(r, ctx_id, 0, 1000 + i) == 0);
      pv_context_destroy(r, 100 + i);
   }
   pthread_join(thread, NULL);
   CHECK(s.failures == 0);
}

/* vkCreateSemaphore(device -> id), binary or timeline. */
static void
create_semaphore(struct test_stream *e, uint64_t device, uint64_t id, bool timeline)
{
   ts_cmd(e, CMD_CREATE_SEMAPHORE, 0);
   ts_u64(e, device);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO);
   if (timeline) {
      ts_u64(e, 1);
      ts_u32(e, VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO);
      ts_u64(e, 0);
      ts_u32(e, VK_SEMAPHORE_TYPE_TIMELINE);
      ts_u64(e, 0);
   } else {
      ts_u64(e, 0);
   }
   ts_u32(e, 0);
   ts_u64(e, 0); /* allocator */
   ts_u64(e, 1);
   ts_u64(e, id);
}

/* vkImportSemaphoreResource100000MESA(device, semaphore, resource). */
static void
import_semaphore(struct test_stream *e, uint64_t device, uint64_t semaphore, uint32_t resource)
{
   ts_cmd(e, CMD_IMPORT_SEMAPHORE_RESOURCE, 0);
   ts_u64(e, device);
   ts_u64(e, 1);
   ts_u32(e, 1000384004); /* VK_STRUCTURE_TYPE_IMPORT_SEMAPHORE_RESOURCE_INFO_100000_MESA */
   ts_u64(e, 0);
   ts_u64(e, semaphore);
   ts_u32(e, resource);
}

/* Sync-file import (pvk_semaphore.c): importing resource 0 into a binary
 * semaphore signals it, so a submission waiting on it completes (it would
 * wait forever otherwise), on a device (300) with a queue (400). */
static void
test_semaphore_import(struct pv_renderer *r, uint32_t ctx, const uint8_t *reply)
{
   struct test_stream e = { 0 };
   create_semaphore(&e, 300, 600, false);
   import_semaphore(&e, 300, 600, 0);
   /* vkQueueSubmit(400, 1 batch waiting on 600, no fence) */
   ts_cmd(&e, CMD_QUEUE_SUBMIT, 0);
   ts_u64(&e, 400);
   ts_u32(&e, 1);
   ts_u64(&e, 1);
   ts_u32(&e, VK_STRUCTURE_TYPE_SUBMIT_INFO);
   ts_u64(&e, 0);
   ts_u32(&e, 1);
   ts_u64(&e, 1);
   ts_u64(&e, 600);
   ts_u64(&e, 1);
   ts_u32(&e, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT);
   ts_u32(&e, 0);
   ts_u64(&e, 0);
   ts_u32(&e, 0);
   ts_u64(&e, 0);
   ts_u64(&e, 0); /* fence */
   set_reply(&e, 1, 65536);
   ts_cmd(&e, CMD_QUEUE_WAIT_IDLE, TS_REPLY);
   ts_u64(&e, 400);
   CHECK(pv_context_submit(r, ctx, e.data, e.len) == 0);
   CHECK(!pv_context_is_lost(r, ctx));
   CHECK(*reply_u32(reply, 0) == CMD_QUEUE_WAIT_IDLE);
   CHECK(*reply_u32(reply, 1) == VK_SUCCESS);
}

/* An import into a timeline semaphore, or of another resource than 0,
 * loses the context. */
static void
test_semaphore_import_refused(struct pv_renderer *r, uint32_t ctx)
{
   struct test_stream e = { 0 };
   create_semaphore(&e, 300, 601, true);
   import_semaphore(&e, 300, 601, 0);
   pv_context_submit(r, ctx, e.data, e.len);
   CHECK(pv_context_is_lost(r, ctx));
}

/* vkCreateInstance (id 100), then the count of physical devices it shows */
static uint32_t
create_instance(struct pv_renderer *r, uint32_t ctx, const uint8_t *reply)
{
   struct test_stream e = { 0 };
   /* vkCreateInstance(id 100) */
   set_reply(&e, 1, 65536);
   ts_cmd(&e, CMD_CREATE_INSTANCE, TS_REPLY);
   ts_u64(&e, 1);
   ts_u32(&e, VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
   ts_u64(&e, 0);
   ts_u32(&e, 0);
   ts_u64(&e, 0); /* no application info */
   ts_u32(&e, 0);
   ts_u64(&e, 0);
   ts_u32(&e, 0);
   ts_u64(&e, 0);
   ts_u64(&e, 0); /* allocator */
   ts_u64(&e, 1);
   ts_u64(&e, 100);
   CHECK(pv_context_submit(r, ctx, e.data, e.len) == 0);
   CHECK(*reply_u32(reply, 0) == CMD_CREATE_INSTANCE);
   CHECK(*reply_u32(reply, 1) == VK_SUCCESS);

   /* vkEnumeratePhysicalDevices: count, then ids 200.. */
   e.len = 0;
   set_reply(&e, 1, 65536);
   ts_cmd(&e, CMD_ENUMERATE_PHYSICAL_DEVICES, TS_REPLY);
   ts_u64(&e, 100);
   ts_u64(&e, 1);
   ts_u32(&e, 0);
   ts_u64(&e, 0);
   CHECK(pv_context_submit(r, ctx, e.data, e.len) == 0);
   CHECK(*reply_u32(reply, 1) == VK_SUCCESS);
   return *reply_u32(reply, 4);
}

/* Instance 100, physical devices 200.., device 300 with one queue (400)
 * on the first, replies in resource 1 mapped at `reply`. */
static void
create_device(struct pv_renderer *r, uint32_t ctx, const uint8_t *reply)
{
   const uint32_t count = create_instance(r, ctx, reply);
   CHECK(count >= 1 && count < 16);
   struct test_stream e = { 0 };
   set_reply(&e, 1, 65536);
   ts_cmd(&e, CMD_ENUMERATE_PHYSICAL_DEVICES, TS_REPLY);
   ts_u64(&e, 100);
   ts_u64(&e, 1);
   ts_u32(&e, count);
   ts_u64(&e, count);
   for (uint32_t i = 0; i < count; i++)
      ts_u64(&e, 200 + i);
   CHECK(pv_context_submit(r, ctx, e.data, e.len) == 0);
   CHECK(*reply_u32(reply, 1) == VK_SUCCESS);

   /* vkCreateDevice(200 -> 300) with one queue, vkGetDeviceQueue -> 400 */
   e.len = 0;
   set_reply(&e, 1, 65536);
   ts_cmd(&e, CMD_CREATE_DEVICE, TS_REPLY);
   ts_u64(&e, 200);
   ts_u64(&e, 1);
   ts_u32(&e, VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO);
   ts_u64(&e, 0);
   ts_u32(&e, 0);
   ts_u32(&e, 1);
   ts_u64(&e, 1);
   ts_u32(&e, VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
   ts_u64(&e, 0);
   ts_u32(&e, 0);
   ts_u32(&e, 0);
   ts_u32(&e, 1);
   ts_u64(&e, 1);
   ts_f32(&e, 1.0f);
   ts_u32(&e, 0);
   ts_u64(&e, 0);
   ts_u32(&e, 0);
   ts_u64(&e, 0);
   ts_u64(&e, 0); /* no features */
   ts_u64(&e, 0);
   ts_u64(&e, 1);
   ts_u64(&e, 300);
   ts_cmd(&e, CMD_GET_DEVICE_QUEUE, 0);
   ts_u64(&e, 300);
   ts_u32(&e, 0);
   ts_u32(&e, 0);
   ts_u64(&e, 1);
   ts_u64(&e, 400);
   CHECK(pv_context_submit(r, ctx, e.data, e.len) == 0);
   CHECK(*reply_u32(reply, 0) == CMD_CREATE_DEVICE);
   CHECK(*reply_u32(reply, 1) == VK_SUCCESS);
}

/* vkAllocateMemory(device 300 -> id) of memory type 0: its result */
static VkResult
try_allocate_memory(struct pv_renderer *r, uint32_t ctx, const uint8_t *reply, uint64_t size,
                    uint64_t id)
{
   struct test_stream e = { 0 };
   set_reply(&e, 1, 65536);
   ts_cmd(&e, CMD_ALLOCATE_MEMORY, TS_REPLY);
   ts_u64(&e, 300);
   ts_u64(&e, 1);
   ts_u32(&e, VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
   ts_u64(&e, 0);
   ts_u64(&e, size);
   ts_u32(&e, 0);
   ts_u64(&e, 0);
   ts_u64(&e, 1);
   ts_u64(&e, id);
   CHECK(pv_context_submit(r, ctx, e.data, e.len) == 0);
   return (VkResult)*reply_u32(reply, 1);
}

static void
allocate_memory(struct pv_renderer *r, uint32_t ctx, const uint8_t *reply, uint64_t size,
                uint64_t id)
{
   CHECK(try_allocate_memory(r, ctx, reply, size, id) == VK_SUCCESS);
}

/* vkFreeMemory(device 300, memory id) */
static void
free_memory(struct pv_renderer *r, uint32_t ctx, uint64_t id)
{
   struct test_stream e = { 0 };
   ts_cmd(&e, 22, 0);
   ts_u64(&e, 300);
   ts_u64(&e, id);
   ts_u64(&e, 0);
   CHECK(pv_context_submit(r, ctx, e.data, e.len) == 0);
}

/* Freed host-visible memory serves the next allocation of its type and
 * size once no blob maps it (pvk_memory.c). Memory 500 was freed; its blob
 * (resource 2, mapped at `old`) lives on. */
static void
test_memory_reuse(struct pv_renderer *r, uint32_t ctx, const uint8_t *reply,
                  const volatile uint8_t *old)
{
   /* 500's pages are still a blob's: new memory */
   allocate_memory(r, ctx, reply, 65536, 501);
   uint8_t *m501 = blob(r, ctx, 5, 501, 65536);
   m501[7] = 0xa5;
   CHECK(old[7] != 0xa5);
   /* 501 freed, its blob gone (the pages stay visible through a mapping of
    * the blob's fd, which holds no reference): reused */
   int fd = -1;
   uint32_t map_info = 0;
   CHECK(pv_resource_export_fd(r, 5, &fd, &map_info) == 0);
   volatile uint8_t *pages = mmap(NULL, 65536, PROT_READ, MAP_SHARED, fd, 0);
   CHECK(pages != MAP_FAILED);
   close(fd);
   free_memory(r, ctx, 501);
   pv_resource_unref(r, 5);
   allocate_memory(r, ctx, reply, 65536, 502);
   uint8_t *m502 = blob(r, ctx, 6, 502, 65536);
   CHECK(pages[7] == 0xa5); /* what this context left there */
   m502[9] = 0x3c;
   CHECK(pages[9] == 0x3c);
   /* another size: other memory */
   allocate_memory(r, ctx, reply, 4096, 503);
   uint8_t *m503 = blob(r, ctx, 7, 503, 4096);
   m503[9] = 0x11;
   CHECK(pages[9] == 0x3c);
   munmap((void *)pages, 65536);
   /* freed again: kept until the context goes (LeakSanitizer checks that
    * its teardown frees what the device kept) */
   free_memory(r, ctx, 502);
   free_memory(r, ctx, 503);
   pv_resource_unref(r, 6);
   pv_resource_unref(r, 7);
}

/* Memory kept for reuse makes room before an allocation is refused: with
 * a cap of the reply blob, 64 KiB and a little, a freed 64 KiB allocation
 * kept by the device would leave no room for 32 KiB more. */
static void
test_memory_reuse_budget(void)
{
   const struct pv_renderer_limits limits = { .max_memory_per_context = 65536 + 65536 + 4096 };
   struct pv_renderer *r = NULL;
   CHECK(pv_renderer_create(&(struct pv_renderer_callbacks){ 0 }, &limits, &r) == 0);
   const uint32_t ctx = 1;
   CHECK(pv_context_create(r, ctx, PV_CAPSET_VENUS, "budget") == 0);
   const uint8_t *reply = blob(r, ctx, 1, 0, 65536);
   create_device(r, ctx, reply);
   allocate_memory(r, ctx, reply, 65536, 500);
   free_memory(r, ctx, 500);
   allocate_memory(r, ctx, reply, 32768, 501); /* VK_SUCCESS checked */
   /* and the cap still holds */
   CHECK(try_allocate_memory(r, ctx, reply, 65536, 502) == VK_ERROR_OUT_OF_DEVICE_MEMORY);
   CHECK(!pv_context_is_lost(r, ctx));
   pv_context_destroy(r, ctx);
   pv_resource_unref(r, 1);
   pv_renderer_destroy(r);
}

/* A renderer with `policy` (or -EINVAL), one context and its reply blob. */
static struct pv_renderer *
policy_renderer(const struct pv_device_policy *policy, const uint8_t **reply)
{
   struct pv_renderer *r = NULL;
   CHECK(pv_renderer_create(&(struct pv_renderer_callbacks){ 0 }, NULL, &r) == 0);
   CHECK(pv_renderer_set_device_policy(r, policy) == 0);
   CHECK(pv_context_create(r, 1, PV_CAPSET_VENUS, "policy") == 0);
   CHECK(pv_renderer_set_device_policy(r, policy) == -EBUSY);
   *reply = blob(r, 1, 1, 0, 65536);
   return r;
}

static void
policy_renderer_destroy(struct pv_renderer *r)
{
   CHECK(!pv_context_is_lost(r, 1));
   pv_context_destroy(r, 1);
   pv_resource_unref(r, 1);
   pv_renderer_destroy(r);
}

/* The host's device policy: its options' syntax, its values, set only
 * before the first context; the GPUs shown (lavapipe has one; a host with
 * two: e2e-vtest-gpus-*); a queue priority on a host without the global
 * priority extension (lavapipe) still makes the device, at its default. */
static void
test_device_policy(void)
{
   uint32_t prio = 0;
   CHECK(pv_queue_priority_from_name("realtime", &prio) == 0 && prio == PV_QUEUE_PRIORITY_REALTIME);
   CHECK(pv_queue_priority_from_name("default", &prio) == 0 && prio == PV_QUEUE_PRIORITY_DEFAULT);
   CHECK(pv_queue_priority_from_name("urgent", &prio) == -EINVAL);
   uint64_t mask = 0;
   CHECK(pv_gpu_mask_from_list("0", &mask) == 0 && mask == 1);
   CHECK(pv_gpu_mask_from_list("1,3", &mask) == 0 && mask == 0xa);
   CHECK(pv_gpu_mask_from_list("63", &mask) == 0 && mask == 1ull << 63);
   const char *bad[] = { "", "64", "1,", ",1", "-1", "x", "1;2", "1,,2" };
   for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
      CHECK(pv_gpu_mask_from_list(bad[i], &mask) == -EINVAL);

   struct pv_renderer *r = NULL;
   CHECK(pv_renderer_create(&(struct pv_renderer_callbacks){ 0 }, NULL, &r) == 0);
   CHECK(pv_renderer_set_device_policy(r, &(struct pv_device_policy){ .queue_priority = 300 }) ==
         -EINVAL);
   pv_renderer_destroy(r);

   const uint8_t *reply;
   r = policy_renderer(&(struct pv_device_policy){ .queue_priority = PV_QUEUE_PRIORITY_HIGH },
                       &reply);
   create_device(r, 1, reply);
   policy_renderer_destroy(r);
   /* host device 0 shown, then only a device 1 the host does not have */
   r = policy_renderer(&(struct pv_device_policy){ .gpu_mask = 1 }, &reply);
   CHECK(create_instance(r, 1, reply) == 1);
   policy_renderer_destroy(r);
   r = policy_renderer(&(struct pv_device_policy){ .gpu_mask = 2 }, &reply);
   CHECK(create_instance(r, 1, reply) == 0);
   policy_renderer_destroy(r);
}

static void
test_vulkan(struct pv_renderer *r, struct fences *fences)
{
   const uint32_t ctx = 1;
   CHECK(pv_context_create(r, ctx, PV_CAPSET_VENUS, "test") == 0);
   uint8_t *reply = blob(r, ctx, 1, 0, 65536);

   /* vkEnumerateInstanceVersion */
   struct test_stream e = { 0 };
   set_reply(&e, 1, 65536);
   ts_cmd(&e, CMD_ENUMERATE_INSTANCE_VERSION, TS_REPLY);
   ts_u64(&e, 1);
   CHECK(pv_context_submit(r, ctx, e.data, e.len) == 0);
   CHECK(*reply_u32(reply, 0) == CMD_ENUMERATE_INSTANCE_VERSION);
   CHECK(*reply_u32(reply, 1) == VK_SUCCESS);
   CHECK(*reply_u32(reply, 4) >= VK_API_VERSION_1_1);

   create_device(r, ctx, reply);

   /* vkAllocateMemory(300 -> 500): lavapipe's type 0 is host-visible */
   allocate_memory(r, ctx, reply, 65536, 500);

   /* its HOST3D blob is the very memfd behind the VkDeviceMemory */
   uint8_t *mem = blob(r, ctx, 2, 500, 65536);
   int fd = -1;
   uint32_t map_info = 0;
   CHECK(pv_resource_export_fd(r, 2, &fd, &map_info) == 0);
   CHECK(fd >= 0 && map_info == PV_MAP_CACHE_CACHED);
   uint8_t *guest = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   CHECK(guest != MAP_FAILED);
   guest[123] = 0x5a;
   CHECK(mem[123] == 0x5a);
   munmap(guest, 65536);
   close(fd);
   /* a blob for an id that is no memory is refused */
   const struct pv_blob_args bad = {
      .res_id = 3, .ctx_id = ctx, .blob_mem = PV_BLOB_MEM_HOST3D, .blob_id = 300, .size = 4096
   };
   CHECK(pv_resource_create_blob(r, &bad) < 0);

   /* vkFreeMemory: the memory is gone, the exported blob stays valid */
   free_memory(r, ctx, 500);
   CHECK(mem[123] == 0x5a);
   const struct pv_blob_args freed = {
      .res_id = 4, .ctx_id = ctx, .blob_mem = PV_BLOB_MEM_HOST3D, .blob_id = 500, .size = 4096
   };
   CHECK(pv_resource_create_blob(r, &freed) == -ENOENT);
   test_memory_reuse(r, ctx, reply, mem);

   /* a fence retires once the queue is idle */
   CHECK(pv_context_submit_fence(r, ctx, 0, 77) == 0);
   for (int i = 0; i < 5000; i++) {
      pthread_mutex_lock(&fences->mutex);
      const bool done = fences->last == 77;
      pthread_mutex_unlock(&fences->mutex);
      if (done)
         break;
      sleep_ms(1);
   }
   CHECK(fences->last == 77);

   test_semaphore_import(r, ctx, reply);
   test_execute_streams(r, ctx, reply);
   test_concurrency(r, ctx);
   test_ring(r, ctx);
   test_bad_streams(r);
   CHECK(!pv_context_is_lost(r, ctx));

   /* context 1 still works after the others were lost */
   e.len = 0;
   set_reply(&e, 1, 65536);
   ts_cmd(&e, CMD_ENUMERATE_INSTANCE_VERSION, TS_REPLY);
   ts_u64(&e, 1);
   CHECK(pv_context_submit(r, ctx, e.data, e.len) == 0);
   CHECK(*reply_u32(reply, 1) == VK_SUCCESS);

   /* a ring left running, the device, memory and instance left behind: all
    * destroyed with the context */
   blob(r, ctx, 11, 0, 8192);
   test_semaphore_import_refused(r, ctx);
   pv_resource_unref(r, 2);
   pv_context_destroy(r, ctx);
   pv_resource_unref(r, 1);
   pv_resource_unref(r, 11);
}

/* GUEST blobs: backed by the caller's pages; usable by venus only when
 * they form one host range. */
static void
test_guest_blobs(struct pv_renderer *r)
{
   static uint8_t pages[3 * 4096] __attribute__((aligned(4096)));
   const struct iovec one[2] = { { pages, 4096 }, { pages + 4096, 4096 } };
   struct pv_blob_args args = {
      .res_id = 50, .blob_mem = PV_BLOB_MEM_GUEST, .size = 8192, .iov = one, .iov_count = 2
   };
   CHECK(pv_resource_create_blob(r, &args) == 0);
   void *ptr = NULL;
   uint64_t size = 0;
   CHECK(pv_resource_map(r, 50, &ptr, &size) == 0 && ptr == pages && size == 8192);
   int fd = -1;
   CHECK(pv_resource_export_fd(r, 50, &fd, NULL) == -EINVAL);

   const struct iovec scattered[2] = { { pages, 4096 }, { pages + 8192, 4096 } };
   args.res_id = 51;
   args.iov = scattered;
   CHECK(pv_resource_create_blob(r, &args) == 0);
   CHECK(pv_resource_map(r, 51, &ptr, &size) == -EINVAL);
   CHECK(pv_resource_create_blob(r, &args) == -EEXIST);
   pv_resource_unref(r, 50);
   pv_resource_unref(r, 51);
   pv_resource_unref(r, 51); /* unknown ids are ignored */
}

/* --- wire format 1 (Mesa 25): capset, seqnos, per-ring timelines, monitor --- */

#define T_RING_ID 9
#define T_HEAD 0
#define T_TAIL 64
#define T_STATUS 128
#define T_BUFFER 192
#define T_BUFFER_SIZE 4096u
#define T_STATUS_IDLE 1u
#define T_STATUS_ALIVE 4u

struct t_ring {
   struct pv_renderer *r;
   uint32_t ctx_id;
   uint8_t *shm;
   uint32_t pos;
};

static atomic_uint *
t_word(struct t_ring *tr, uint64_t off)
{
   return (atomic_uint *)(tr->shm + off);
}

/* vkCreateRingMESA with VkRingMonitorInfoMESA (period_us) when nonzero */
static void
t_create_ring(struct t_ring *tr, uint32_t res_id, uint32_t period_us)
{
   tr->shm = blob(tr->r, tr->ctx_id, res_id, 0, 8192);
   tr->pos = 0;
   struct test_stream e = { 0 };
   ts_cmd(&e, CMD_CREATE_RING, 0);
   ts_u64(&e, T_RING_ID);
   ts_u64(&e, 1);
   ts_u32(&e, 1000384000);
   if (period_us) {
      ts_u64(&e, 1);
      ts_u32(&e, 1000384006); /* VkRingMonitorInfoMESA, the end of its chain */
      ts_u64(&e, 0);
      ts_u32(&e, period_us);
   } else {
      ts_u64(&e, 0);
   }
   ts_u32(&e, 0);
   ts_u32(&e, res_id);
   ts_u64(&e, 0);
   ts_u64(&e, 8192);
   ts_u64(&e, 10ull * 1000 * 1000);
   ts_u64(&e, T_HEAD);
   ts_u64(&e, T_TAIL);
   ts_u64(&e, T_STATUS);
   ts_u64(&e, T_BUFFER);
   ts_u64(&e, T_BUFFER_SIZE);
   ts_u64(&e, T_BUFFER + T_BUFFER_SIZE);
   ts_u64(&e, 4);
   CHECK(pv_context_submit(tr->r, tr->ctx_id, e.data, e.len) == 0);
}

/* Appends a stream to the ring and notifies it; returns the new tail. */
static uint32_t
t_ring_push(struct t_ring *tr, const struct test_stream *c)
{
   for (size_t i = 0; i < c->len; i++)
      tr->shm[T_BUFFER + ((tr->pos + i) & (T_BUFFER_SIZE - 1))] = c->data[i];
   tr->pos += (uint32_t)c->len;
   atomic_store_explicit(t_word(tr, T_TAIL), tr->pos, memory_order_release);
   struct test_stream n = { 0 };
   ts_cmd(&n, CMD_NOTIFY_RING, 0);
   ts_u64(&n, T_RING_ID);
   ts_u32(&n, 0);
   ts_u32(&n, 0);
   CHECK(pv_context_submit(tr->r, tr->ctx_id, n.data, n.len) == 0);
   return tr->pos;
}

static bool
t_head_reaches(struct t_ring *tr, uint32_t pos, unsigned ms)
{
   for (unsigned i = 0; i < ms && atomic_load(t_word(tr, T_HEAD)) != pos; i++)
      sleep_ms(1);
   return atomic_load(t_word(tr, T_HEAD)) == pos;
}

/* The guest's check: clear ALIVE, expect the renderer to set it again. */
static bool
t_alive_reported(struct t_ring *tr, unsigned ms)
{
   atomic_fetch_and(t_word(tr, T_STATUS), ~T_STATUS_ALIVE);
   for (unsigned i = 0; i < ms && !(atomic_load(t_word(tr, T_STATUS)) & T_STATUS_ALIVE); i++)
      sleep_ms(1);
   return atomic_load(t_word(tr, T_STATUS)) & T_STATUS_ALIVE;
}

static void
t_seqno_cmd(struct test_stream *e, uint32_t type, uint64_t ring, uint64_t seqno)
{
   ts_cmd(e, type, 0);
   if (type != CMD_WAIT_VIRTQUEUE_SEQNO)
      ts_u64(e, ring);
   ts_u64(e, seqno);
}

struct t_waiter {
   struct pv_renderer *r;
   uint32_t ctx_id;
   struct test_stream e;
   atomic_bool done;
   int ret;
};

static void *
t_waiter_thread(void *data)
{
   struct t_waiter *w = data;
   w->ret = pv_context_submit(w->r, w->ctx_id, w->e.data, w->e.len);
   atomic_store(&w->done, true);
   return NULL;
}

static void
test_wire_format_1(void)
{
   struct fences fences = { .mutex = PTHREAD_MUTEX_INITIALIZER };
   const struct pv_renderer_callbacks cbs = { .data = &fences, .fence_retired = on_fence };
   struct pv_renderer *r = NULL;
   CHECK(pv_renderer_create(&cbs, NULL, &r) == 0);
   CHECK(pv_renderer_set_venus_wire_format(r, 2) == -EINVAL);
   CHECK(pv_renderer_set_venus_wire_format(r, PV_VENUS_WIRE_FORMAT_MESA25) == 0);

   /* the capset: every field Mesa 25 reads */
   uint32_t max_version = 99, max_size = 0;
   CHECK(pv_renderer_get_capset_info(r, PV_CAPSET_VENUS, &max_version, &max_size) == 0);
   CHECK(max_version == 0 && max_size == sizeof(struct pvk_capset_venus));
   struct pvk_capset_venus caps;
   uint32_t size = sizeof(caps);
   CHECK(pv_renderer_get_capset(r, PV_CAPSET_VENUS, 0, &caps, &size) == 0);
   CHECK(size == 160 && caps.wire_format_version == 1);
   CHECK(caps.supports_blob_id_0 == 1 && caps.allow_vk_wait_syncs == 1);
   CHECK(caps.supports_multiple_timelines == 1 && caps.use_guest_vram == 0);
   CHECK(caps.vk_mesa_venus_protocol_spec_version == 2);

   const uint32_t ctx = 1;
   CHECK(pv_context_create(r, ctx, PV_CAPSET_VENUS, "mesa25") == 0);
   CHECK(pv_renderer_set_venus_wire_format(r, 0) == -EBUSY);

   /* ring 0 is the CPU timeline: its fence retires inside the call */
   CHECK(pv_context_submit_fence(r, ctx, 0, 77) == 0);
   CHECK(fences.count == 1 && fences.last == 77);
   /* rings 3 and 5 (no queue bound, none created): retired by their own
    * timeline threads; ring 64 is beyond the 64 timelines */
   CHECK(pv_context_submit_fence(r, ctx, 3, 78) == 0);
   CHECK(pv_context_submit_fence(r, ctx, 5, 79) == 0);
   CHECK(pv_context_submit_fence(r, ctx, 64, 80) == -EINVAL);
   for (int i = 0; i < 2000; i++) {
      pthread_mutex_lock(&fences.mutex);
      const uint32_t n = fences.count;
      pthread_mutex_unlock(&fences.mutex);
      if (n == 3)
         break;
      sleep_ms(1);
   }
   CHECK(fences.count == 3);

   /* the monitor sets ALIVE (20 ms asked, at least every 10 ms) */
   struct t_ring tr = { .r = r, .ctx_id = ctx };
   t_create_ring(&tr, 20, 20000);
   CHECK(t_alive_reported(&tr, 1000));
   CHECK(t_alive_reported(&tr, 1000));

   /* vkWaitVirtqueueSeqnoMESA blocks the ring until the submit channel has
    * sent vkSubmitVirtqueueSeqnoMESA with that seqno or more */
   struct test_stream c = { 0 };
   t_seqno_cmd(&c, CMD_WAIT_VIRTQUEUE_SEQNO, 0, 5);
   ts_cmd(&c, CMD_WRITE_RING_EXTRA, 0);
   ts_u64(&c, T_RING_ID);
   ts_u64(&c, 0);
   ts_u32(&c, 55);
   const uint32_t after_wait = t_ring_push(&tr, &c);
   CHECK(!t_head_reaches(&tr, after_wait, 100));
   CHECK(atomic_load(t_word(&tr, T_BUFFER + T_BUFFER_SIZE)) == 0);
   /* the monitor keeps reporting while the ring is blocked */
   CHECK(t_alive_reported(&tr, 1000));
   struct test_stream e = { 0 };
   t_seqno_cmd(&e, CMD_SUBMIT_VIRTQUEUE_SEQNO, T_RING_ID, 4);
   CHECK(pv_context_submit(r, ctx, e.data, e.len) == 0);
   CHECK(!t_head_reaches(&tr, after_wait, 50));
   e.len = 0;
   t_seqno_cmd(&e, CMD_SUBMIT_VIRTQUEUE_SEQNO, T_RING_ID, 6);
   CHECK(pv_context_submit(r, ctx, e.data, e.len) == 0);
   CHECK(t_head_reaches(&tr, after_wait, 2000));
   CHECK(atomic_load(t_word(&tr, T_BUFFER + T_BUFFER_SIZE)) == 55);

   /* vkWaitRingSeqnoMESA on the submit channel blocks until the ring has
    * consumed up to the seqno (a byte position), not before */
   c.len = 0;
   ts_cmd(&c, CMD_WRITE_RING_EXTRA, 0);
   ts_u64(&c, T_RING_ID);
   ts_u64(&c, 0);
   ts_u32(&c, 66);
   struct t_waiter w = { .r = r, .ctx_id = ctx };
   atomic_init(&w.done, false);
   t_seqno_cmd(&w.e, CMD_WAIT_RING_SEQNO, T_RING_ID, tr.pos + c.len);
   pthread_t thread;
   CHECK(pthread_create(&thread, NULL, t_waiter_thread, &w) == 0);
   sleep_ms(50);
   CHECK(!atomic_load(&w.done));
   t_ring_push(&tr, &c);
   for (int i = 0; i < 2000 && !atomic_load(&w.done); i++)
      sleep_ms(1);
   CHECK(atomic_load(&w.done) && w.ret == 0);
   pthread_join(thread, NULL);
   CHECK(atomic_load(t_word(&tr, T_BUFFER + T_BUFFER_SIZE)) == 66);

   /* teardown ends every wait: a ring blocked on a seqno nobody sends and a
    * submit blocked on a ring position nobody writes */
   c.len = 0;
   t_seqno_cmd(&c, CMD_WAIT_VIRTQUEUE_SEQNO, 0, 1000);
   t_ring_push(&tr, &c);
   struct t_waiter w2 = { .r = r, .ctx_id = ctx };
   atomic_init(&w2.done, false);
   t_seqno_cmd(&w2.e, CMD_WAIT_RING_SEQNO, T_RING_ID, tr.pos + 4096);
   CHECK(pthread_create(&thread, NULL, t_waiter_thread, &w2) == 0);
   sleep_ms(50);
   CHECK(!atomic_load(&w2.done));
   CHECK(t_alive_reported(&tr, 1000));
   const uint64_t start = (uint64_t)time(NULL);
   pv_context_destroy(r, ctx);
   pthread_join(thread, NULL);
   CHECK(atomic_load(&w2.done));
   CHECK((uint64_t)time(NULL) - start < 5);
   pv_resource_unref(r, 20);

   /* a wire format 1 command in a wire format 0 context: lost, logged */
   struct pv_renderer *r0 = NULL;
   CHECK(pv_renderer_create(&cbs, NULL, &r0) == 0);
   CHECK(pv_context_create(r0, 1, PV_CAPSET_VENUS, "mesa22") == 0);
   e.len = 0;
   t_seqno_cmd(&e, CMD_WAIT_VIRTQUEUE_SEQNO, 0, 1);
   CHECK(pv_context_submit(r0, 1, e.data, e.len) == -EINVAL);
   CHECK(pv_context_is_lost(r0, 1));
   pv_renderer_destroy(r0);

   /* format 1, bad seqno commands: unknown ring, a virtqueue wait outside a ring */
   CHECK(pv_context_create(r, 2, PV_CAPSET_VENUS, "bad") == 0);
   e.len = 0;
   t_seqno_cmd(&e, CMD_WAIT_RING_SEQNO, 12345, 1);
   CHECK(pv_context_submit(r, 2, e.data, e.len) == -EINVAL);
   pv_context_destroy(r, 2);
   CHECK(pv_context_create(r, 3, PV_CAPSET_VENUS, "bad") == 0);
   e.len = 0;
   t_seqno_cmd(&e, CMD_WAIT_VIRTQUEUE_SEQNO, 0, 1);
   CHECK(pv_context_submit(r, 3, e.data, e.len) == -EINVAL);
   pv_context_destroy(r, 3);

   /* a direct stream's wait for a ring position nobody writes ends at the
    * firewall's wait limit (the teardown timeout): the caller, in a VMM the
    * control queue, gets its thread back and the context is lost */
   CHECK(pv_renderer_set_teardown_timeout(r, 300) == 0);
   CHECK(pv_context_create(r, 4, PV_CAPSET_VENUS, "direct-wait") == 0);
   struct t_ring tr4 = { .r = r, .ctx_id = 4 };
   t_create_ring(&tr4, 21, 0);
   e.len = 0;
   t_seqno_cmd(&e, CMD_WAIT_RING_SEQNO, T_RING_ID, tr4.pos + 4096);
   const uint64_t t0 = now_ms();
   CHECK(pv_context_submit(r, 4, e.data, e.len) == -EINVAL);
   const uint64_t waited = now_ms() - t0;
   CHECK(waited >= 250 && waited < 3000);
   CHECK(pv_context_is_lost(r, 4));
   pv_context_destroy(r, 4);
   pv_resource_unref(r, 21);
   pv_renderer_destroy(r);
}

int
main(void)
{
   /* Keep lavapipe loaded past vkDestroyInstance so LeakSanitizer can name
    * (and suppress) what the driver keeps until exit. */
   dlopen("libvulkan_lvp.so", RTLD_NOW | RTLD_NODELETE);
   struct fences fences = { .mutex = PTHREAD_MUTEX_INITIALIZER };
   const struct pv_renderer_callbacks cbs = { .data = &fences, .fence_retired = on_fence };
   struct pv_renderer *r = NULL;
   CHECK(pv_renderer_create(&cbs, NULL, &r) == 0);
   test_capset(r);
   test_guest_blobs(r);
   test_vulkan(r, &fences);
   pv_renderer_destroy(r);
   test_memory_reuse_budget();
   test_device_policy();
   test_wire_format_1();
   printf("ok\n");
   return 0;
}
