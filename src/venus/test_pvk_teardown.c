/*
 * One context's slow teardown must not stall another context's calls: the
 * renderer lock is not held across teardown (pv_context_destroy). A test
 * hook holds context 1's teardown until the main thread has made calls on
 * context 2 (and created context 3); with the lock held across teardown
 * those calls would block until the hook's timeout and the test fails.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pearvisor/pearvisor.h"
#include "venus/test_stream.h"
#include "venus/pvk_renderer_test.h"

#include "common/test_check.h"

#define CMD_ENUMERATE_INSTANCE_VERSION 137
#define HOOK_TIMEOUT_S 10

struct gate {
   pthread_mutex_t mutex;
   pthread_cond_t cond;
   bool entered;   /* teardown of context 1 has started */
   bool released;  /* the main thread is done with its calls */
   bool timed_out; /* the hook gave up waiting: the calls were stalled */
};

static void
deadline_in(struct timespec *ts, int s)
{
   clock_gettime(CLOCK_REALTIME, ts);
   ts->tv_sec += s;
}

/* Holds the teardown until released (or HOOK_TIMEOUT_S). */
static void
slow_teardown(void *data, uint32_t ctx_id)
{
   struct gate *g = data;
   if (ctx_id != 1)
      return;
   struct timespec dl;
   deadline_in(&dl, HOOK_TIMEOUT_S);
   pthread_mutex_lock(&g->mutex);
   g->entered = true;
   pthread_cond_broadcast(&g->cond);
   while (!g->released && !g->timed_out) {
      if (pthread_cond_timedwait(&g->cond, &g->mutex, &dl) == ETIMEDOUT)
         g->timed_out = true;
   }
   pthread_mutex_unlock(&g->mutex);
}

struct destroy_arg {
   struct pv_renderer *r;
   uint32_t ctx_id;
};

static void *
destroy_thread(void *data)
{
   const struct destroy_arg *a = data;
   pv_context_destroy(a->r, a->ctx_id);
   return NULL;
}

int
main(void)
{
   struct pv_renderer *r = NULL;
   CHECK(pv_renderer_create(NULL, &(struct pv_renderer_limits){ .max_contexts = 3 }, &r) == 0);
   struct gate g = { .entered = false };
   pthread_mutex_init(&g.mutex, NULL);
   pthread_cond_init(&g.cond, NULL);
   pvk_renderer_set_teardown_hook(r, slow_teardown, &g);

   CHECK(pv_context_create(r, 1, PV_CAPSET_VENUS, "slow-teardown") == 0);
   CHECK(pv_context_create(r, 2, PV_CAPSET_VENUS, "bystander") == 0);

   pthread_t t;
   struct destroy_arg arg = { r, 1 };
   CHECK(pthread_create(&t, NULL, destroy_thread, &arg) == 0);
   pthread_mutex_lock(&g.mutex);
   while (!g.entered)
      pthread_cond_wait(&g.cond, &g.mutex);
   pthread_mutex_unlock(&g.mutex);

   /* Context 1 is being torn down: unreachable, its slot still taken. */
   CHECK(pv_context_is_lost(r, 1));
   CHECK(pv_context_submit(r, 1, NULL, 0) == -ENOENT);
   /* Context 2 goes on: a submit (a command needing no reply), a blob,
    * its attachment, its release. */
   struct test_stream e = { 0 };
   ts_cmd(&e, CMD_ENUMERATE_INSTANCE_VERSION, 0);
   ts_u64(&e, 1);
   CHECK(pv_context_submit(r, 2, e.data, e.len) == 0);
   CHECK(!pv_context_is_lost(r, 2));
   const struct pv_blob_args blob = {
      .res_id = 7,
      .ctx_id = 2,
      .blob_mem = PV_BLOB_MEM_HOST3D,
      .blob_flags = PV_BLOB_FLAG_MAPPABLE,
      .size = 4096,
   };
   CHECK(pv_resource_create_blob(r, &blob) == 0);
   CHECK(pv_context_attach_resource(r, 2, 7) == 0);
   pv_resource_unref(r, 7);
   pthread_mutex_lock(&g.mutex);
   const bool waited = g.timed_out;
   pthread_mutex_unlock(&g.mutex);
   if (waited) {
      fprintf(stderr, "calls on context 2 waited for context 1's teardown\n");
      exit(1);
   }
   /* A new context takes the third slot; the dying one's is not free yet. */
   CHECK(pv_context_create(r, 3, PV_CAPSET_VENUS, "newcomer") == 0);
   CHECK(pv_context_create(r, 4, PV_CAPSET_VENUS, "no-slot") == -ENOSPC);

   pthread_mutex_lock(&g.mutex);
   const bool stalled = g.timed_out;
   g.released = true;
   pthread_cond_broadcast(&g.cond);
   pthread_mutex_unlock(&g.mutex);
   CHECK(!stalled);
   CHECK(pthread_join(t, NULL) == 0);

   /* The slot is free after the teardown; the id can be used again. */
   CHECK(pv_context_create(r, 1, PV_CAPSET_VENUS, "again") == 0);
   pv_context_destroy(r, 1);
   pv_context_destroy(r, 2);
   pv_context_destroy(r, 3);
   pv_renderer_destroy(r);
   pthread_cond_destroy(&g.cond);
   pthread_mutex_destroy(&g.mutex);
   printf("ok: context 2's calls and a new context went through during context 1's "
          "teardown\n");
   return 0;
}
