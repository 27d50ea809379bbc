/*
 * A context whose queue never drains must not make its teardown hang (issue
 * 13's watchdogs): on the host's driver (lavapipe in CI) a guest submits a
 * batch waiting for a timeline semaphore value nothing will signal, and a
 * context fence behind it. pv_context_destroy must return within the
 * teardown timeout (plus margin), retire that fence, abandon the device and
 * free the slot; another context, and a new one in the freed slot, must
 * still work. Past PVK_MAX_ABANDONED_CONTEXTS such contexts new ones are
 * refused.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <vulkan/vulkan.h>

#include "pearvisor/pearvisor.h"
#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_context.h"
#include "venus/test_session.h"
#include "venus/test_stream.h"

#include "common/test_check.h"

#define REPLY_RES 1

#define TIMEOUT_MS 1000u
/* ASan, a loaded 2-core machine: generous, but far below "forever" */
#define MARGIN_MS 2000u

struct retired {
   pthread_mutex_t mutex;
   pthread_cond_t cond;
   uint64_t last[8]; /* by context id */
};

static struct retired retired = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { 0 } };

static void
fence_retired(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id)
{
   (void)data;
   (void)ring_idx;
   pthread_mutex_lock(&retired.mutex);
   if (ctx_id < 8)
      retired.last[ctx_id] = fence_id;
   pthread_cond_broadcast(&retired.cond);
   pthread_mutex_unlock(&retired.mutex);
}

static uint64_t
now_ms(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* True once context ctx_id's fence fence_id retired (within 5 s). */
static bool
wait_retired(uint32_t ctx_id, uint64_t fence_id)
{
   struct timespec dl;
   clock_gettime(CLOCK_REALTIME, &dl);
   dl.tv_sec += 5;
   pthread_mutex_lock(&retired.mutex);
   int ret = 0;
   while (retired.last[ctx_id] != fence_id && ret == 0)
      ret = pthread_cond_timedwait(&retired.cond, &retired.mutex, &dl);
   const bool ok = retired.last[ctx_id] == fence_id;
   pthread_mutex_unlock(&retired.mutex);
   return ok;
}

struct submit_arg {
   struct pv_renderer *r;
   uint32_t ctx;
   struct test_stream e;
   int ret;
};

static void *
submit_thread(void *data)
{
   struct submit_arg *a = data;
   a->ret = pv_context_submit(a->r, a->ctx, a->e.data, a->e.len);
   return NULL;
}

/* A context with a device; `stuck`: its queue waits for value 1 of a
 * timeline semaphore nothing signals, with context fence `fence_id`
 * behind it. */
static void
start_context(struct pv_renderer *r, uint32_t ctx, bool stuck, uint64_t fence_id)
{
   CHECK(pv_context_create(r, ctx, PV_CAPSET_VENUS, stuck ? "stuck" : "bystander") == 0);
   CHECK(pv_context_attach_resource(r, ctx, REPLY_RES) == 0);
   struct test_stream e = { 0 };
   ts_session_device(&e, REPLY_RES);
   ts_session_submit(&e, stuck ? 1 : 0);
   CHECK(pv_context_submit(r, ctx, e.data, e.len) == 0);
   CHECK(!pv_context_is_lost(r, ctx));
   CHECK(pv_context_submit_fence(r, ctx, 0, fence_id) == 0);
}

/* Destroys context ctx; returns how long it took (ms). */
static uint64_t
timed_destroy(struct pv_renderer *r, uint32_t ctx)
{
   const uint64_t start = now_ms();
   pv_context_destroy(r, ctx);
   return now_ms() - start;
}

int
main(void)
{
   const struct pv_renderer_callbacks cbs = { .fence_retired = fence_retired };
   struct pv_renderer *r = NULL;
   CHECK(pv_renderer_create(&cbs, &(struct pv_renderer_limits){ .max_contexts = 2 }, &r) == 0);
   CHECK(pv_renderer_set_teardown_timeout(r, TIMEOUT_MS) == 0);
   CHECK(pv_renderer_set_teardown_timeout(NULL, TIMEOUT_MS) == -EINVAL);
   /* the reply stream every context shares */
   CHECK(pv_context_create(r, 7, PV_CAPSET_VENUS, "reply-owner") == 0);
   const struct pv_blob_args blob = { .res_id = REPLY_RES,
                                      .ctx_id = 7,
                                      .blob_mem = PV_BLOB_MEM_HOST3D,
                                      .blob_flags = PV_BLOB_FLAG_MAPPABLE,
                                      .size = 65536 };
   CHECK(pv_resource_create_blob(r, &blob) == 0);
   pv_context_destroy(r, 7);

   start_context(r, 1, true, 11);
   start_context(r, 2, false, 21);
   CHECK(wait_retired(2, 21));
   pthread_mutex_lock(&retired.mutex);
   CHECK(retired.last[1] != 11); /* its work never runs */
   pthread_mutex_unlock(&retired.mutex);

   const uint64_t took = timed_destroy(r, 1);
   printf("stuck context destroyed in %llu ms (timeout %u ms)\n", (unsigned long long)took,
          TIMEOUT_MS);
   CHECK(took >= TIMEOUT_MS - 50);
   CHECK(took <= TIMEOUT_MS + MARGIN_MS);
   CHECK(wait_retired(1, 11)); /* retired at teardown, so no guest waits forever */
   CHECK(pvk_context_abandoned_count() == 1);

   /* the other context goes on, and the freed slot takes a new one */
   struct test_stream e = { 0 };
   ts_session_submit(&e, 0);
   CHECK(pv_context_submit(r, 2, e.data, e.len) == 0);
   CHECK(pv_context_submit_fence(r, 2, 0, 22) == 0);
   CHECK(wait_retired(2, 22));
   start_context(r, 3, false, 31);
   CHECK(wait_retired(3, 31));
   const uint64_t idle_took = timed_destroy(r, 3);
   printf("idle context destroyed in %llu ms\n", (unsigned long long)idle_took);
   CHECK(idle_took < TIMEOUT_MS);
   CHECK(pvk_context_abandoned_count() == 1);

   /* A guest's vkQueueWaitIdle on the stuck queue blocks only its own
    * stream, until its context's teardown, which stays bounded. */
   start_context(r, 3, true, 32);
   struct submit_arg wait_idle = { .r = r, .ctx = 3 };
   ts_session_queue_wait_idle(&wait_idle.e);
   pthread_t t;
   CHECK(pthread_create(&t, NULL, submit_thread, &wait_idle) == 0);
   struct timespec pause = { 0, 200 * 1000 * 1000 };
   nanosleep(&pause, NULL);
   e.len = 0;
   ts_session_submit(&e, 0);
   CHECK(pv_context_submit(r, 2, e.data, e.len) == 0); /* another context goes on */
   const uint64_t wait_idle_took = timed_destroy(r, 3);
   CHECK(pthread_join(t, NULL) == 0);
   printf("stuck context with a guest vkQueueWaitIdle in flight destroyed in %llu ms\n",
          (unsigned long long)wait_idle_took);
   CHECK(wait_idle_took <= TIMEOUT_MS + MARGIN_MS);
   CHECK(wait_retired(3, 32));
   CHECK(pvk_context_abandoned_count() == 2);

   /* up to the limit of abandoned contexts, then refusal */
   CHECK(pv_renderer_set_teardown_timeout(r, 100) == 0);
   for (uint32_t ctx = 4; pvk_context_abandoned_count() < PVK_MAX_ABANDONED_CONTEXTS; ctx++) {
      start_context(r, ctx, true, ctx * 10);
      CHECK(timed_destroy(r, ctx) <= 100 + MARGIN_MS);
      CHECK(wait_retired(ctx, ctx * 10));
   }
   CHECK(pv_context_create(r, 1, PV_CAPSET_VENUS, "refused") == -EBUSY);
   /* contexts already there still work */
   e.len = 0;
   ts_session_submit(&e, 0);
   CHECK(pv_context_submit(r, 2, e.data, e.len) == 0);
   CHECK(pv_context_submit_fence(r, 2, 0, 23) == 0);
   CHECK(wait_retired(2, 23));

   pv_context_destroy(r, 2);
   pv_resource_unref(r, REPLY_RES);
   pv_renderer_destroy(r);
   printf("ok: a stuck queue's context was torn down in bounded time; others kept working; "
          "past %u abandoned contexts new ones are refused\n",
          PVK_MAX_ABANDONED_CONTEXTS);
   return 0;
}
