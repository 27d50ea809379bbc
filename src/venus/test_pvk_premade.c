/*
 * Instances and devices made ahead (pv_premade) on the host's driver
 * (lavapipe in CI): a guest's vkCreateDevice reports a recipe; a recipe
 * damaged anywhere (every truncation, a flipped byte at every offset) is
 * refused or made, never read out of bounds (ASan); a second renderer's
 * guest with the same create infos adopts the pre-made instance and device
 * and uses them; a guest with another device create info gets an instance
 * adopted and a device of its own, which works; one that adopts only the
 * instance and leaves frees the device made ahead with it. A guest's
 * destroys of its device and instance are left to the context's teardown,
 * at most one of each per context.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vulkan/vulkan.h>

#include "pearvisor/pearvisor.h"
#include "venus/pvk_renderer_test.h"
#include "venus/test_stream.h"

#include "common/test_check.h"

enum {
   CMD_CREATE_INSTANCE = 0,
   CMD_DESTROY_INSTANCE = 1,
   CMD_ENUMERATE_PHYSICAL_DEVICES = 2,
   CMD_CREATE_DEVICE = 11,
   CMD_DESTROY_DEVICE = 12,
   CMD_GET_DEVICE_QUEUE = 17,
   CMD_QUEUE_WAIT_IDLE = 19,
   CMD_SET_REPLY = 178,
   CMD_SEEK_REPLY = 179,
};

struct recipe {
   uint8_t bytes[PV_PREMADE_MAX_RECIPE];
   size_t size;
   uint32_t reports;
};

static void
on_recipe(void *data, const void *bytes, size_t size)
{
   struct recipe *r = data;
   CHECK(size <= sizeof(r->bytes));
   memcpy(r->bytes, bytes, size);
   r->size = size;
   r->reports++;
}

static uint8_t *
reply_blob(struct pv_renderer *r, uint32_t ctx)
{
   const struct pv_blob_args blob = {
      .res_id = 1,
      .ctx_id = ctx,
      .blob_mem = PV_BLOB_MEM_HOST3D,
      .blob_flags = PV_BLOB_FLAG_MAPPABLE,
      .size = 65536,
   };
   CHECK(pv_resource_create_blob(r, &blob) == 0);
   void *ptr = NULL;
   uint64_t mapped = 0;
   CHECK(pv_resource_map(r, 1, &ptr, &mapped) == 0);
   CHECK(ptr && mapped == blob.size);
   return ptr;
}

static void
set_reply(struct test_stream *e)
{
   ts_cmd(e, CMD_SET_REPLY, 0);
   ts_u64(e, 1);
   ts_u32(e, 1);
   ts_u64(e, 0);
   ts_u64(e, 65536);
   ts_cmd(e, CMD_SEEK_REPLY, 0);
   ts_u64(e, 0);
}

static uint32_t
reply_u32(const uint8_t *reply, unsigned i)
{
   uint32_t v;
   memcpy(&v, reply + 4 * i, sizeof(v));
   return v;
}

/* What a guest does in context ctx: instance 100 (application
 * "premade-test"), physical device 200, device 300 with one queue of the
 * given priority (none when priority < 0), its queue 400, a wait for it.
 * Checks every reply. */
static void
guest_objects(struct pv_renderer *r, uint32_t ctx, const uint8_t *reply, float priority)
{
   struct test_stream e = { 0 };
   set_reply(&e);
   ts_cmd(&e, CMD_CREATE_INSTANCE, TS_REPLY);
   ts_u64(&e, 1);
   ts_u32(&e, VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
   ts_u64(&e, 0);
   ts_u32(&e, 0);
   ts_u64(&e, 1); /* application info */
   ts_u32(&e, VK_STRUCTURE_TYPE_APPLICATION_INFO);
   ts_u64(&e, 0);
   ts_string(&e, "premade-test");
   ts_u32(&e, 1);
   ts_string(&e, "none");
   ts_u32(&e, 0);
   ts_u32(&e, VK_API_VERSION_1_1);
   ts_u32(&e, 0);
   ts_u64(&e, 0);
   ts_u32(&e, 0);
   ts_u64(&e, 0);
   ts_u64(&e, 0); /* allocator */
   ts_u64(&e, 1);
   ts_u64(&e, 100);
   CHECK(pv_context_submit(r, ctx, e.data, e.len) == 0);
   CHECK(reply_u32(reply, 0) == CMD_CREATE_INSTANCE && reply_u32(reply, 1) == VK_SUCCESS);

   e.len = 0;
   set_reply(&e);
   ts_cmd(&e, CMD_ENUMERATE_PHYSICAL_DEVICES, TS_REPLY);
   ts_u64(&e, 100);
   ts_u64(&e, 1);
   ts_u32(&e, 1);
   ts_u64(&e, 1);
   ts_u64(&e, 200);
   CHECK(pv_context_submit(r, ctx, e.data, e.len) == 0);
   CHECK(reply_u32(reply, 1) == VK_SUCCESS || reply_u32(reply, 1) == VK_INCOMPLETE);
   if (priority < 0)
      return;

   e.len = 0;
   set_reply(&e);
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
   ts_f32(&e, priority);
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
   CHECK(reply_u32(reply, 0) == CMD_CREATE_DEVICE && reply_u32(reply, 1) == VK_SUCCESS);

   e.len = 0;
   set_reply(&e);
   ts_cmd(&e, CMD_QUEUE_WAIT_IDLE, TS_REPLY);
   ts_u64(&e, 400);
   CHECK(pv_context_submit(r, ctx, e.data, e.len) == 0);
   CHECK(reply_u32(reply, 0) == CMD_QUEUE_WAIT_IDLE && reply_u32(reply, 1) == VK_SUCCESS);
   CHECK(!pv_context_is_lost(r, ctx));
}

static void
run_guest(struct pv_renderer *r, float priority)
{
   const uint32_t ctx = 1;
   CHECK(pv_context_create(r, ctx, PV_CAPSET_VENUS, "premade") == 0);
   guest_objects(r, ctx, reply_blob(r, ctx), priority);
   pv_context_destroy(r, ctx);
}

static struct pv_renderer *
renderer(struct recipe *rec)
{
   const struct pv_renderer_callbacks cbs = { .data = rec, .device_recipe = on_recipe };
   struct pv_renderer *r = NULL;
   CHECK(pv_renderer_create(&cbs, NULL, &r) == 0);
   return r;
}

/* The guest's vkDestroyDevice and vkDestroyInstance (device 300, instance
 * 100), the destroy of the instance with a reply. */
static void
guest_destroy(struct pv_renderer *r, uint32_t ctx, const uint8_t *reply)
{
   struct test_stream e = { 0 };
   set_reply(&e);
   ts_cmd(&e, CMD_DESTROY_DEVICE, 0);
   ts_u64(&e, 300);
   ts_u64(&e, 0);
   ts_cmd(&e, CMD_DESTROY_INSTANCE, TS_REPLY);
   ts_u64(&e, 100);
   ts_u64(&e, 0);
   CHECK(pv_context_submit(r, ctx, e.data, e.len) == 0);
   CHECK(reply_u32(reply, 0) == CMD_DESTROY_INSTANCE);
   CHECK(!pv_context_is_lost(r, ctx));
}

/* A guest's destroys of a device and an instance are replied at once and
 * their host objects destroyed by the context's teardown; the same ids
 * work again right after; past one deferred device and instance per
 * context, destroys are synchronous (LeakSanitizer checks they happen). */
static void
test_deferred_destroy(void)
{
   static struct recipe rec;
   struct pv_renderer *r = renderer(&rec);
   const uint32_t ctx = 1;
   CHECK(pv_context_create(r, ctx, PV_CAPSET_VENUS, "deferred") == 0);
   const uint8_t *reply = reply_blob(r, ctx);
   uint32_t deferred, finished;

   guest_objects(r, ctx, reply, 1.0f);
   guest_destroy(r, ctx, reply);
   pvk_renderer_destroy_stats(r, &deferred, &finished);
   CHECK(deferred == 2 && finished == 0);

   /* the same ids again, in the same context: the limit is reached, so
    * these destroys are synchronous */
   guest_objects(r, ctx, reply, 1.0f);
   guest_destroy(r, ctx, reply);
   pvk_renderer_destroy_stats(r, &deferred, &finished);
   CHECK(deferred == 2 && finished == 0);

   /* and once more, with a device left for the teardown */
   guest_objects(r, ctx, reply, 0.5f);
   pv_context_destroy(r, ctx);
   pvk_renderer_destroy_stats(r, &deferred, &finished);
   CHECK(deferred == 2 && finished == 2);
   pv_renderer_destroy(r);
   printf("deferred destroys: 2 left to the teardown and finished there, then synchronous\n");
}

/* Every truncation and a flipped byte at every offset: refused or made. */
static void
test_damaged(const struct recipe *good)
{
   static uint8_t copy[PV_PREMADE_MAX_RECIPE];
   uint32_t made = 0, refused = 0;
   for (size_t n = 0; n < good->size; n += 4) {
      memcpy(copy, good->bytes, n);
      struct pv_premade *pm = NULL;
      CHECK(pv_premade_create(copy, n, NULL, &pm) == -EINVAL && !pm);
   }
   for (size_t i = 0; i < good->size; i++) {
      memcpy(copy, good->bytes, good->size);
      copy[i] ^= 0x5a;
      struct pv_premade *pm = NULL;
      const int ret = pv_premade_create(copy, good->size, NULL, &pm);
      CHECK(ret == 0 || ret == -EINVAL || ret == -ENODEV);
      if (ret == 0)
         made++;
      else
         refused++;
      pv_premade_destroy(pm);
   }
   printf("damaged recipes: %u truncations refused, %u flips made, %u refused\n",
          (unsigned)(good->size / 4), made, refused);
}

int
main(void)
{
   static struct recipe rec;

   /* guest A: nothing made ahead; its device reports the recipe */
   struct pv_renderer *a = renderer(&rec);
   run_guest(a, 1.0f);
   uint32_t insts, devs;
   pvk_renderer_premade_stats(a, &insts, &devs);
   CHECK(insts == 0 && devs == 0);
   pv_renderer_destroy(a);
   CHECK(rec.reports == 1 && rec.size > 16);

   test_damaged(&rec);

   /* guest B, same create infos: adopts both */
   struct pv_premade *pm = NULL;
   CHECK(pv_premade_create(rec.bytes, rec.size, NULL, &pm) == 0 && pm);
   struct recipe rec_b = { .size = 0 };
   struct pv_renderer *b = renderer(&rec_b);
   CHECK(pv_renderer_set_premade(b, pm) == 0);
   run_guest(b, 1.0f);
   pvk_renderer_premade_stats(b, &insts, &devs);
   CHECK(insts == 1 && devs == 1);
   CHECK(rec_b.size == rec.size && !memcmp(rec_b.bytes, rec.bytes, rec.size));
   pv_renderer_destroy(b);

   /* guest C, another queue priority: the instance is adopted, the device
    * made ahead is destroyed and C gets one of its own */
   CHECK(pv_premade_create(rec.bytes, rec.size, NULL, &pm) == 0 && pm);
   struct recipe rec_c = { .size = 0 };
   struct pv_renderer *c = renderer(&rec_c);
   CHECK(pv_renderer_set_premade(c, pm) == 0);
   run_guest(c, 0.5f);
   pvk_renderer_premade_stats(c, &insts, &devs);
   CHECK(insts == 1 && devs == 0);
   CHECK(rec_c.reports == 1 &&
         (rec_c.size != rec.size || memcmp(rec_c.bytes, rec.bytes, rec.size)));
   pv_renderer_destroy(c);

   /* a guest that adopts the instance and leaves without a device: the
    * device made ahead goes with the instance (LeakSanitizer checks) */
   CHECK(pv_premade_create(rec.bytes, rec.size, NULL, &pm) == 0 && pm);
   struct pv_renderer *e = renderer(NULL);
   CHECK(pv_renderer_set_premade(e, pm) == 0);
   run_guest(e, -1.0f);
   pvk_renderer_premade_stats(e, &insts, &devs);
   CHECK(insts == 1 && devs == 0);
   pv_renderer_destroy(e);

   /* the device policy is the embedder's: an unknown priority and a GPU
    * the policy hides (the recipe names host device 0) are refused, objects
    * made under another policy than the renderer's too (and destroyed),
    * ones made under its own adopted */
   const struct pv_device_policy high = { .queue_priority = PV_QUEUE_PRIORITY_HIGH };
   CHECK(pv_premade_create(rec.bytes, rec.size, &(struct pv_device_policy){ .queue_priority = 3 },
                           &pm) == -EINVAL &&
         !pm);
   CHECK(pv_premade_create(rec.bytes, rec.size, &(struct pv_device_policy){ .gpu_mask = 2 }, &pm) ==
            -EINVAL &&
         !pm);
   CHECK(pv_premade_create(rec.bytes, rec.size, NULL, &pm) == 0 && pm);
   struct recipe rec_f = { .size = 0 };
   struct pv_renderer *f = renderer(&rec_f);
   CHECK(pv_renderer_set_device_policy(f, &high) == 0);
   CHECK(pv_renderer_set_premade(f, pm) == -EINVAL);
   CHECK(pv_premade_create(rec.bytes, rec.size, &high, &pm) == 0 && pm);
   CHECK(pv_renderer_set_premade(f, pm) == 0);
   run_guest(f, 1.0f);
   pvk_renderer_premade_stats(f, &insts, &devs);
   CHECK(insts == 1 && devs == 1);
   pv_renderer_destroy(f);

   /* a renderer whose guest never comes destroys what it was given */
   CHECK(pv_premade_create(rec.bytes, rec.size, NULL, &pm) == 0 && pm);
   struct pv_renderer *d = renderer(NULL);
   CHECK(pv_renderer_set_premade(d, pm) == 0);
   pv_renderer_destroy(d);

   test_deferred_destroy();

   printf("ok: recipe reported, damaged ones refused or made, adopted by an identical guest, "
          "not by another\n");
   return 0;
}
