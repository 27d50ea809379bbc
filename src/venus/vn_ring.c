/*
 * Venus rings (vkCreateRingMESA): a guest-produced circular command buffer
 * in a blob resource, consumed by one host thread per ring.
 *
 * Layout (offsets from VkRingCreateInfoMESA, relative to the ring's offset
 * in the resource): head (u32, written by us: bytes consumed), tail (u32,
 * written by the guest: bytes produced), status (u32, bit 0 = idle, written
 * by us), a power-of-two buffer, and an "extra" area the guest reads
 * (vkWriteRingExtraMESA). The guest stores tail with release semantics after
 * writing whole commands, reads status after that, and sends
 * vkNotifyRingMESA when it saw us idle.
 *
 * The ring thread polls (sched_yield) for a short spin window after the last
 * work, then sets idle and sleeps until notified. The guest's tail store is
 * a release and its status load cannot order before it on every CPU, so a
 * notify can be lost; the sleeping thread re-checks the tail at growing
 * intervals instead of trusting the notify alone.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "venus/vn_context.h"

#define VN_RING_STATUS_IDLE 1u
/* Per-context caps: each ring is a host thread and a private copy buffer. */
#define VN_RING_MAX_PER_CONTEXT 16
#define VN_RING_MAX_BUFFER_SIZE (16u << 20)
/* Polling after the last work, capped by the guest's idleTimeout. Waking a
 * sleeping thread costs tens to hundreds of microseconds (more in a VM, where
 * an idle vCPU must be scheduled back in), and a guest that records a large
 * command buffer leaves the ring quiet for about that long: with cores to
 * spare, poll for a while. With few cores, polling takes CPU time the host
 * driver needs (lavapipe renders on the CPU, and every context has a ring
 * thread): go idle early, which costs the guest one vkNotifyRingMESA.
 * PV_RING_SPIN_US overrides the choice. */
#define VN_RING_SPIN_NS_MANY_CPUS (2ull * 1000 * 1000)
#define VN_RING_SPIN_NS_FEW_CPUS (100ull * 1000)
#define VN_RING_MANY_CPUS 8
#define VN_RING_SPIN_NS_MAX (100ull * 1000 * 1000)
/* re-checks of the tail while idle: first after this, doubling up to the cap */
#define VN_RING_RECHECK_NS_FIRST (250ull * 1000)
#define VN_RING_RECHECK_NS_MAX (100ull * 1000 * 1000)

struct vn_ring {
   struct vn_context *ctx;
   uint64_t id;
   struct vn_resource *res;
   atomic_uint *head;
   atomic_uint *tail;
   atomic_uint *status;
   uint8_t *buffer;
   uint32_t buffer_size;
   uint8_t *extra;
   uint64_t extra_size;
   uint64_t spin_ns;
   uint8_t *cmd; /* private copy of the commands being executed */

   pthread_t thread;
   pthread_mutex_t mutex;
   pthread_cond_t cond;
   bool notified;
   atomic_bool stop;

   struct vn_ring *next;
};

static void
ring_copy_out(struct vn_ring *ring, uint32_t head, uint32_t size)
{
   const uint32_t off = head & (ring->buffer_size - 1);
   const uint32_t first = ring->buffer_size - off < size ? ring->buffer_size - off : size;
   memcpy(ring->cmd, ring->buffer + off, first);
   memcpy(ring->cmd + first, ring->buffer, size - first);
}

/* Executes everything between head and tail. False when the ring must stop. */
static bool
ring_consume(struct vn_ring *ring, uint32_t head, uint32_t tail)
{
   const uint32_t size = tail - head;
   struct vn_context *ctx = ring->ctx;
   if (size > ring->buffer_size) {
      vn_context_set_lost(ctx, "ring tail beyond its buffer");
      return false;
   }
   ring_copy_out(ring, head, size);

   pthread_mutex_lock(&ctx->mutex);
   const bool stopped = atomic_load(&ring->stop);
   if (!stopped)
      vn_context_execute_locked(ctx, ring->cmd, size);
   pthread_mutex_unlock(&ctx->mutex);

   /* Even on loss, let the guest see its commands consumed so that it does
    * not spin forever on the head. */
   atomic_store_explicit(ring->head, tail, memory_order_release);
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
ring_sleep(struct vn_ring *ring, uint32_t head)
{
   atomic_store_explicit(ring->status, VN_RING_STATUS_IDLE, memory_order_seq_cst);
   /* the guest may have stored tail before it could see the idle bit */
   if (atomic_load_explicit(ring->tail, memory_order_seq_cst) == head) {
      uint64_t recheck = VN_RING_RECHECK_NS_FIRST;
      pthread_mutex_lock(&ring->mutex);
      while (!ring->notified && !atomic_load(&ring->stop)) {
         struct timespec ts;
         clock_gettime(CLOCK_MONOTONIC, &ts);
         add_ns(&ts, recheck);
         pthread_cond_timedwait(&ring->cond, &ring->mutex, &ts);
         if (atomic_load_explicit(ring->tail, memory_order_acquire) != head)
            break;
         if (recheck < VN_RING_RECHECK_NS_MAX)
            recheck *= 2;
      }
      ring->notified = false;
      pthread_mutex_unlock(&ring->mutex);
   }
   atomic_store_explicit(ring->status, 0, memory_order_seq_cst);
}

static void *
ring_thread(void *data)
{
   struct vn_ring *ring = data;
   uint32_t head = atomic_load_explicit(ring->head, memory_order_relaxed);
   uint64_t last_work = vn_now_ns();

   while (!atomic_load(&ring->stop)) {
      const uint32_t tail = atomic_load_explicit(ring->tail, memory_order_acquire);
      if (tail != head) {
         if (!ring_consume(ring, head, tail))
            break;
         head = tail;
         last_work = vn_now_ns();
         continue;
      }
      if (vn_now_ns() - last_work >= ring->spin_ns) {
         ring_sleep(ring, head);
         last_work = vn_now_ns();
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
   uint64_t spin = cpus >= VN_RING_MANY_CPUS ? VN_RING_SPIN_NS_MANY_CPUS : VN_RING_SPIN_NS_FEW_CPUS;
   const char *env = getenv("PV_RING_SPIN_US");
   if (env && *env) {
      char *end;
      const unsigned long long us = strtoull(env, &end, 10);
      if (!*end)
         spin = us < VN_RING_SPIN_NS_MAX / 1000 ? us * 1000 : VN_RING_SPIN_NS_MAX;
   }
   return idle_timeout < spin ? idle_timeout : spin;
}

static uint32_t
ring_count(const struct vn_context *ctx)
{
   uint32_t n = 0;
   for (const struct vn_ring *r = ctx->rings; r; r = r->next)
      n++;
   return n;
}

static struct vn_ring *
ring_find(struct vn_context *ctx, uint64_t id)
{
   for (struct vn_ring *r = ctx->rings; r; r = r->next) {
      if (r->id == id)
         return r;
   }
   return NULL;
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
        info->extraOffset) & 3)
      return false;
   return range_ok(info->headOffset, 4, s) && range_ok(info->tailOffset, 4, s) &&
          range_ok(info->statusOffset, 4, s) && range_ok(info->bufferOffset, info->bufferSize, s) &&
          range_ok(info->extraOffset, info->extraSize, s) && info->bufferSize >= 4 &&
          info->bufferSize <= VN_RING_MAX_BUFFER_SIZE &&
          !(info->bufferSize & (info->bufferSize - 1));
}

void
vn_handle_vkCreateRingMESA(struct vn_context *ctx, struct vn_command_vkCreateRingMESA *args)
{
   const VkRingCreateInfoMESA *info = args->pCreateInfo;
   struct vn_resource *res = NULL;
   uint8_t *base = info ? vn_context_resource_range(ctx, info->resourceId, info->offset,
                                                    info->size, &res)
                        : NULL;
   if (!base || ((uintptr_t)base & 3) || !ring_layout_ok(info) || ring_find(ctx, args->ring) ||
       ring_count(ctx) >= VN_RING_MAX_PER_CONTEXT) {
      vn_context_set_lost(ctx, "bad vkCreateRingMESA");
      return;
   }
   struct vn_ring *ring = calloc(1, sizeof(*ring));
   uint8_t *cmd = malloc(info->bufferSize);
   if (!ring || !cmd) {
      free(ring);
      free(cmd);
      vn_context_set_lost(ctx, "out of memory for a ring");
      return;
   }
   ring->ctx = ctx;
   ring->id = args->ring;
   ring->res = vn_resource_ref(res);
   ring->head = (atomic_uint *)(base + info->headOffset);
   ring->tail = (atomic_uint *)(base + info->tailOffset);
   ring->status = (atomic_uint *)(base + info->statusOffset);
   ring->buffer = base + info->bufferOffset;
   ring->buffer_size = (uint32_t)info->bufferSize;
   ring->extra = base + info->extraOffset;
   ring->extra_size = info->extraSize;
   ring->spin_ns = ring_spin_ns(info->idleTimeout);
   ring->cmd = cmd;
   pthread_mutex_init(&ring->mutex, NULL);
   pthread_condattr_t attr;
   pthread_condattr_init(&attr);
   pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
   pthread_cond_init(&ring->cond, &attr);
   pthread_condattr_destroy(&attr);
   atomic_init(&ring->stop, false);

   if (pthread_create(&ring->thread, NULL, ring_thread, ring)) {
      vn_resource_unref(ring->res);
      free(cmd);
      free(ring);
      vn_context_set_lost(ctx, "cannot start a ring thread");
      return;
   }
   ring->next = ctx->rings;
   ctx->rings = ring;
}

static void
ring_stop(struct vn_context *ctx, struct vn_ring *ring)
{
   atomic_store(&ring->stop, true);
   pthread_mutex_lock(&ring->mutex);
   pthread_cond_signal(&ring->cond);
   pthread_mutex_unlock(&ring->mutex);
   ring->next = ctx->dead_rings;
   ctx->dead_rings = ring;
}

void
vn_handle_vkDestroyRingMESA(struct vn_context *ctx, struct vn_command_vkDestroyRingMESA *args)
{
   for (struct vn_ring **p = &ctx->rings; *p; p = &(*p)->next) {
      if ((*p)->id == args->ring) {
         struct vn_ring *ring = *p;
         *p = ring->next;
         ring_stop(ctx, ring);
         return;
      }
   }
   vn_context_set_lost(ctx, "vkDestroyRingMESA: unknown ring");
}

void
vn_handle_vkNotifyRingMESA(struct vn_context *ctx, struct vn_command_vkNotifyRingMESA *args)
{
   struct vn_ring *ring = ring_find(ctx, args->ring);
   if (!ring) {
      vn_context_set_lost(ctx, "vkNotifyRingMESA: unknown ring");
      return;
   }
   pthread_mutex_lock(&ring->mutex);
   ring->notified = true;
   pthread_cond_signal(&ring->cond);
   pthread_mutex_unlock(&ring->mutex);
}

void
vn_handle_vkWriteRingExtraMESA(struct vn_context *ctx,
                               struct vn_command_vkWriteRingExtraMESA *args)
{
   struct vn_ring *ring = ring_find(ctx, args->ring);
   if (!ring || (args->offset & 3) || !range_ok(args->offset, 4, ring->extra_size)) {
      vn_context_set_lost(ctx, "bad vkWriteRingExtraMESA");
      return;
   }
   atomic_store_explicit((atomic_uint *)(ring->extra + args->offset), args->value,
                         memory_order_seq_cst);
}

void
vn_ring_stop_all_locked(struct vn_context *ctx)
{
   while (ctx->rings) {
      struct vn_ring *ring = ctx->rings;
      ctx->rings = ring->next;
      ring_stop(ctx, ring);
   }
}

void
vn_ring_join_dead(struct vn_context *ctx)
{
   pthread_mutex_lock(&ctx->mutex);
   struct vn_ring *dead = ctx->dead_rings;
   ctx->dead_rings = NULL;
   pthread_mutex_unlock(&ctx->mutex);

   while (dead) {
      struct vn_ring *ring = dead;
      dead = ring->next;
      if (pthread_equal(ring->thread, pthread_self())) {
         /* a ring destroyed by its own commands: joined by the next caller */
         pthread_mutex_lock(&ctx->mutex);
         ring->next = ctx->dead_rings;
         ctx->dead_rings = ring;
         pthread_mutex_unlock(&ctx->mutex);
         continue;
      }
      pthread_join(ring->thread, NULL);
      pthread_mutex_destroy(&ring->mutex);
      pthread_cond_destroy(&ring->cond);
      vn_resource_unref(ring->res);
      free(ring->cmd);
      free(ring);
   }
}
