/*
 * The ring object (pvk_ring.h): one host thread per ring consumes what the
 * guest wrote between head and tail.
 *
 * The thread polls (sched_yield) for a short spin window after the last
 * work, then sets idle and sleeps until notified. The guest's tail store is
 * a release and its status load cannot order before it on every CPU, so a
 * notify can be lost; the sleeping thread re-checks the tail at growing
 * intervals instead of trusting the notify alone.
 */
#include "venus/pvk_ring.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "venus/pvk_context.h"
#include "venus/pvk_resource.h"
#include "venus/pvk_transport.h"

#define PVK_RING_MAX_BUFFER_SIZE (16u << 20)
/* Polling after the last work, capped by the guest's idleTimeout. Waking a
 * sleeping thread costs tens to hundreds of microseconds (more in a VM, where
 * an idle vCPU must be scheduled back in), and a guest that records a large
 * command buffer leaves the ring quiet for about that long: with cores to
 * spare, poll for a while. With few cores, polling takes CPU time the host
 * driver needs (lavapipe renders on the CPU, and every context has a ring
 * thread): go idle early, which costs the guest one vkNotifyRingMESA.
 * PV_RING_SPIN_US overrides the choice. */
#define PVK_RING_SPIN_NS_MANY_CPUS (2ull * 1000 * 1000)
#define PVK_RING_SPIN_NS_FEW_CPUS (100ull * 1000)
#define PVK_RING_MANY_CPUS 8
#define PVK_RING_SPIN_NS_MAX (100ull * 1000 * 1000)
/* re-checks of the tail while idle: first after this, doubling up to the cap */
#define PVK_RING_RECHECK_NS_FIRST (250ull * 1000)
#define PVK_RING_RECHECK_NS_MAX (100ull * 1000 * 1000)
/* the monitor's period is clamped to this range */
#define PVK_RING_MONITOR_NS_MIN (10ull * 1000 * 1000)
#define PVK_RING_MONITOR_NS_MAX (1000ull * 1000 * 1000)

static void
ring_copy_out(struct pvk_ring *ring, uint32_t head, uint32_t size)
{
   const uint32_t off = head & (ring->buffer_size - 1);
   const uint32_t first = ring->buffer_size - off < size ? ring->buffer_size - off : size;
   memcpy(ring->cmd, ring->buffer + off, first);
   memcpy(ring->cmd + first, ring->buffer, size - first);
}

/* Executes everything between head and tail. False when the ring must stop. */
static bool
ring_consume(struct pvk_ring *ring, uint32_t head, uint32_t tail)
{
   const uint32_t size = tail - head;
   struct pvk_context *ctx = ring->ctx;
   if (size > ring->buffer_size) {
      pvk_context_set_lost(ctx, "ring tail beyond its buffer");
      atomic_fetch_or(ring->status, PVK_RING_STATUS_FATAL);
      return false;
   }
   ring_copy_out(ring, head, size);

   pthread_mutex_lock(&ctx->mutex);
   const bool stopped = atomic_load(&ring->stop);
   if (!stopped && !pvk_transport_execute_ring_locked(ctx, ring, ring->cmd, size))
      atomic_fetch_or(ring->status, PVK_RING_STATUS_FATAL);
   pthread_mutex_unlock(&ctx->mutex);

   /* Even on loss, let the guest see its commands consumed so that it does
    * not spin forever on the head. */
   atomic_store_explicit(ring->head, tail, memory_order_release);
   pvk_transport_ring_consumed(ctx, ring, tail);
   return !stopped;
}

static void
add_ns(struct timespec *ts, uint64_t ns)
{
   ns += (uint64_t)ts->tv_nsec;
   ts->tv_sec += (time_t)(ns / 1000000000ull);
   ts->tv_nsec = (long)(ns % 1000000000ull);
}

/* Waits for vkNotifyRingMESA, new commands or stop, with the idle bit set. */
static void
ring_sleep(struct pvk_ring *ring, uint32_t head)
{
   atomic_fetch_or_explicit(ring->status, PVK_RING_STATUS_IDLE, memory_order_seq_cst);
   /* the guest may have stored tail before it could see the idle bit */
   if (atomic_load_explicit(ring->tail, memory_order_seq_cst) == head) {
      uint64_t recheck = PVK_RING_RECHECK_NS_FIRST;
      pthread_mutex_lock(&ring->mutex);
      while (!ring->notified && !atomic_load(&ring->stop)) {
         struct timespec ts;
         clock_gettime(CLOCK_MONOTONIC, &ts);
         add_ns(&ts, recheck);
         pthread_cond_timedwait(&ring->cond, &ring->mutex, &ts);
         if (atomic_load_explicit(ring->tail, memory_order_acquire) != head)
            break;
         if (recheck < PVK_RING_RECHECK_NS_MAX)
            recheck *= 2;
      }
      ring->notified = false;
      pthread_mutex_unlock(&ring->mutex);
   }
   atomic_fetch_and_explicit(ring->status, ~PVK_RING_STATUS_IDLE, memory_order_seq_cst);
}

static void *
ring_thread(void *data)
{
   struct pvk_ring *ring = data;
   uint32_t head = atomic_load_explicit(ring->head, memory_order_relaxed);
   uint64_t last_work = pvk_now_ns();

   while (!atomic_load(&ring->stop)) {
      const uint32_t tail = atomic_load_explicit(ring->tail, memory_order_acquire);
      if (tail != head) {
         if (!ring_consume(ring, head, tail))
            break;
         head = tail;
         last_work = pvk_now_ns();
         continue;
      }
      if (pvk_now_ns() - last_work >= ring->spin_ns) {
         ring_sleep(ring, head);
         last_work = pvk_now_ns();
         continue;
      }
      sched_yield();
   }
   return NULL;
}

/* min(guest idleTimeout, PV_RING_SPIN_US or the default for this host) */
static uint64_t
ring_spin_ns(uint64_t idle_timeout)
{
   const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
   uint64_t spin =
      cpus >= PVK_RING_MANY_CPUS ? PVK_RING_SPIN_NS_MANY_CPUS : PVK_RING_SPIN_NS_FEW_CPUS;
   const char *env = getenv("PV_RING_SPIN_US");
   if (env && *env) {
      char *end;
      const unsigned long long us = strtoull(env, &end, 10);
      if (!*end)
         spin = us < PVK_RING_SPIN_NS_MAX / 1000 ? us * 1000 : PVK_RING_SPIN_NS_MAX;
   }
   return idle_timeout < spin ? idle_timeout : spin;
}

static bool
range_ok(uint64_t off, uint64_t size, uint64_t total)
{
   return off <= total && size <= total - off;
}

static bool
ring_layout_ok(const VkRingCreateInfoMESA *info)
{
   const uint64_t s = info->size;
   /* the shared words are accessed atomically: keep them aligned */
   if ((info->offset | info->headOffset | info->tailOffset | info->statusOffset |
        info->extraOffset) &
       3)
      return false;
   return range_ok(info->headOffset, 4, s) && range_ok(info->tailOffset, 4, s) &&
          range_ok(info->statusOffset, 4, s) && range_ok(info->bufferOffset, info->bufferSize, s) &&
          range_ok(info->extraOffset, info->extraSize, s) && info->bufferSize >= 4 &&
          info->bufferSize <= PVK_RING_MAX_BUFFER_SIZE &&
          !(info->bufferSize & (info->bufferSize - 1));
}

/* The period from VkRingMonitorInfoMESA, halved so that one late report
 * still lands inside the guest's window; 0 when the guest asked for none. */
static uint64_t
monitor_period_ns(const VkRingCreateInfoMESA *info)
{
   for (const VkBaseInStructure *p = info->pNext; p; p = p->pNext) {
      if (p->sType != VK_STRUCTURE_TYPE_RING_MONITOR_INFO_MESA)
         continue;
      const VkRingMonitorInfoMESA *m = (const VkRingMonitorInfoMESA *)p;
      uint64_t ns = (uint64_t)m->maxReportingPeriodMicroseconds * 1000 / 2;
      if (ns < PVK_RING_MONITOR_NS_MIN)
         ns = PVK_RING_MONITOR_NS_MIN;
      return ns < PVK_RING_MONITOR_NS_MAX ? ns : PVK_RING_MONITOR_NS_MAX;
   }
   return 0;
}

struct pvk_ring *
pvk_ring_create(struct pvk_context *ctx, uint64_t id, const VkRingCreateInfoMESA *info)
{
   struct pvk_resource *res = NULL;
   uint8_t *base =
      info ? pvk_context_resource_range(ctx, info->resourceId, info->offset, info->size, &res)
           : NULL;
   if (!base || ((uintptr_t)base & 3) || !ring_layout_ok(info)) {
      pv_error("venus", "context %u: vkCreateRingMESA %llu: bad resource %u or layout", ctx->ctx_id,
               (unsigned long long)id, info ? info->resourceId : 0);
      pvk_context_set_lost(ctx, "bad vkCreateRingMESA");
      return NULL;
   }
   struct pvk_ring *ring = calloc(1, sizeof(*ring));
   uint8_t *cmd = malloc(info->bufferSize);
   if (!ring || !cmd) {
      free(ring);
      free(cmd);
      pvk_context_set_lost(ctx, "out of memory for a ring");
      return NULL;
   }
   ring->ctx = ctx;
   ring->id = id;
   atomic_init(&ring->refs, 1);
   ring->res = pvk_resource_ref(res);
   ring->head = (atomic_uint *)(base + info->headOffset);
   ring->tail = (atomic_uint *)(base + info->tailOffset);
   ring->status = (atomic_uint *)(base + info->statusOffset);
   ring->buffer = base + info->bufferOffset;
   ring->buffer_size = (uint32_t)info->bufferSize;
   ring->extra = base + info->extraOffset;
   ring->extra_size = info->extraSize;
   ring->spin_ns = ring_spin_ns(info->idleTimeout);
   ring->monitor_period_ns = monitor_period_ns(info);
   ring->consumed = atomic_load(ring->head);
   ring->cmd = cmd;
   pthread_mutex_init(&ring->mutex, NULL);
   pthread_condattr_t attr;
   pthread_condattr_init(&attr);
   pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
   pthread_cond_init(&ring->cond, &attr);
   pthread_condattr_destroy(&attr);
   atomic_init(&ring->stop, false);
   return ring;
}

bool
pvk_ring_start(struct pvk_ring *ring)
{
   if (ring->monitor_period_ns)
      pvk_ring_monitor(ring); /* alive from the start */
   ring->started = !pthread_create(&ring->thread, NULL, ring_thread, ring);
   return ring->started;
}

void
pvk_ring_stop(struct pvk_ring *ring)
{
   atomic_store(&ring->stop, true);
   pthread_mutex_lock(&ring->mutex);
   pthread_cond_signal(&ring->cond);
   pthread_mutex_unlock(&ring->mutex);
}

void
pvk_ring_notify(struct pvk_ring *ring)
{
   pthread_mutex_lock(&ring->mutex);
   ring->notified = true;
   pthread_cond_signal(&ring->cond);
   pthread_mutex_unlock(&ring->mutex);
}

void
pvk_ring_monitor(struct pvk_ring *ring)
{
   atomic_fetch_or_explicit(ring->status, PVK_RING_STATUS_ALIVE, memory_order_seq_cst);
}

struct pvk_ring *
pvk_ring_ref(struct pvk_ring *ring)
{
   atomic_fetch_add(&ring->refs, 1);
   return ring;
}

void
pvk_ring_unref(struct pvk_ring *ring)
{
   if (atomic_fetch_sub(&ring->refs, 1) != 1)
      return;
   pthread_mutex_destroy(&ring->mutex);
   pthread_cond_destroy(&ring->cond);
   pvk_resource_unref(ring->res);
   free(ring->cmd);
   free(ring);
}

void
pvk_ring_join(struct pvk_ring *ring)
{
   if (ring->started)
      pthread_join(ring->thread, NULL);
   ring->started = false;
   pvk_ring_unref(ring);
}
