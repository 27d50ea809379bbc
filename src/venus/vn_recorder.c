/*
 * The recorder's ring and thread (vn_recorder.h): a single-producer,
 * single-consumer ring of records, each a header and the call's arguments,
 * padded to VN_RECORD_ALIGN. A record that would cross the ring's end is
 * preceded by a skip record filling the rest.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "venus/vn_recorder.h"

#define HEADER_SIZE \
   ((sizeof(struct vn_record_header) + VN_RECORD_ALIGN - 1) & ~(size_t)(VN_RECORD_ALIGN - 1))
#define RING_MASK (VN_RECORDER_RING_SIZE - 1)
_Static_assert((VN_RECORDER_RING_SIZE & RING_MASK) == 0, "ring size: a power of two");

/* How far ahead of the record being made the recorder thread prefetches
 * (and the producer prefetches for writing): a few records. */
#define PREFETCH_AHEAD 512u

/* How long a thread polls before it sleeps (the recorder) or yields (a
 * drain): about as long as a few hundred recorded commands take. */
#define SPIN_ROUNDS 4096

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
   __builtin_ia32_pause();
#elif defined(__aarch64__)
   __asm__ volatile("yield");
#endif
}

static struct vn_record_header *
record_at(const struct vn_recorder *rec, size_t pos)
{
   return (struct vn_record_header *)(rec->ring + (pos & RING_MASK));
}

/* Runs the records in [from, to); returns `to`. The consumed counter is
 * stored once per published batch, not per record: the producer waiting
 * for room or a drain sees it move as often as it publishes. */
static size_t
replay_range(struct vn_recorder *rec, const uint8_t *ring, size_t from, size_t to)
{
   while (from != to) {
      /* a record's size is in its header, so the next header's address is
       * known only after this one is loaded: lines the producer wrote on
       * another core would arrive one by one without these prefetches */
      if (to - from > PREFETCH_AHEAD) {
         __builtin_prefetch(ring + ((from + PREFETCH_AHEAD) & RING_MASK));
         __builtin_prefetch(ring + ((from + PREFETCH_AHEAD + 64) & RING_MASK));
      }
      const struct vn_record_header *h =
         (const struct vn_record_header *)(ring + (from & RING_MASK));
      if (h->replay)
         h->replay(h->fn, (const uint8_t *)h + HEADER_SIZE);
      from += h->size;
   }
   atomic_store_explicit(&rec->consumed, from, memory_order_release);
   return from;
}

/* Published bytes beyond `tail`, polled for a while; false to sleep. */
static bool
wait_published(struct vn_recorder *rec, size_t tail)
{
   for (int i = 0; i < SPIN_ROUNDS; i++) {
      if (atomic_load_explicit(&rec->published, memory_order_acquire) != tail ||
          atomic_load_explicit(&rec->stop, memory_order_relaxed))
         return true;
      cpu_relax();
   }
   return false;
}

static void *
recorder_thread(void *arg)
{
   struct vn_recorder *rec = arg;
   /* the producer's fields share a cache line with rec->ring: read once */
   const uint8_t *ring = rec->ring;
   size_t tail = atomic_load(&rec->consumed);
   for (;;) {
      const size_t to = atomic_load_explicit(&rec->published, memory_order_acquire);
      if (to != tail) {
         tail = replay_range(rec, ring, tail, to);
         continue;
      }
      if (atomic_load(&rec->stop))
         return NULL;
      if (wait_published(rec, tail))
         continue;
      /* sleeping is set before published is read again; a producer that
       * waits stores published before it reads sleeping (both sequentially
       * consistent, publish_and_wake): one of the two sees the other */
      pthread_mutex_lock(&rec->mutex);
      atomic_store(&rec->sleeping, true);
      while (atomic_load(&rec->published) == tail && !atomic_load(&rec->stop))
         pthread_cond_wait(&rec->cond, &rec->mutex);
      atomic_store(&rec->sleeping, false);
      pthread_mutex_unlock(&rec->mutex);
   }
}

void
vn_recorder_init(struct vn_recorder *rec, bool enabled)
{
   memset(rec, 0, sizeof(*rec));
   rec->disabled = !enabled;
   atomic_init(&rec->published, 0);
   atomic_init(&rec->consumed, 0);
   atomic_init(&rec->sleeping, false);
   atomic_init(&rec->stop, false);
   pthread_mutex_init(&rec->mutex, NULL);
   pthread_cond_init(&rec->cond, NULL);
}

static void
wake(struct vn_recorder *rec)
{
   pthread_mutex_lock(&rec->mutex);
   pthread_cond_signal(&rec->cond);
   pthread_mutex_unlock(&rec->mutex);
}

void
vn_recorder_fini(struct vn_recorder *rec)
{
   if (rec->started) {
      vn_recorder_drain(rec);
      atomic_store(&rec->stop, true);
      wake(rec);
      pthread_join(rec->thread, NULL);
   }
   free(rec->ring);
   pthread_mutex_destroy(&rec->mutex);
   pthread_cond_destroy(&rec->cond);
}

static bool
start(struct vn_recorder *rec)
{
   rec->ring = aligned_alloc(64, VN_RECORDER_RING_SIZE);
   if (rec->ring && !pthread_create(&rec->thread, NULL, recorder_thread, rec)) {
      rec->started = true;
      return true;
   }
   pv_warn("venus", "recorder thread not started: driver calls stay on the decoding thread");
   free(rec->ring);
   rec->ring = NULL;
   rec->disabled = true;
   return false;
}

bool
vn_recorder_begin(struct vn_recorder *rec)
{
   const bool was = rec->active;
   if (!rec->disabled && (rec->started || start(rec)))
      rec->active = true;
   return was;
}

void
vn_recorder_end(struct vn_recorder *rec, bool was_active)
{
   if (rec->active && vn_recorder_pending(rec))
      vn_recorder_drain(rec);
   rec->active = was_active;
}

/* Every batch: a release store only. A sequentially consistent store is a
 * full barrier on x86, which waited for every ring line still on its way
 * from the recorder's core, once per batch. Without it the thread may go
 * to sleep unseen (the two loads below can miss each other's stores); the
 * next wait_consumed() publishes with the full handshake and wakes it. */
void
vn_recorder_publish(struct vn_recorder *rec)
{
   rec->batch = 0;
   atomic_store_explicit(&rec->published, rec->head, memory_order_release);
   if (atomic_load_explicit(&rec->sleeping, memory_order_relaxed))
      wake(rec);
}

/* Before the producer waits: sleeping is read after published is stored
 * (both sequentially consistent), so a thread that went to sleep before
 * seeing the store is woken. */
static void
publish_and_wake(struct vn_recorder *rec)
{
   rec->batch = 0;
   atomic_store(&rec->published, rec->head);
   if (atomic_load(&rec->sleeping))
      wake(rec);
}

/* Until consumed reaches `until`; whether it had to wait. */
static bool
wait_consumed(struct vn_recorder *rec, size_t until)
{
   publish_and_wake(rec);
   for (unsigned i = 0;; i++) {
      rec->consumed_seen = atomic_load_explicit(&rec->consumed, memory_order_acquire);
      if ((ptrdiff_t)(rec->consumed_seen - until) >= 0)
         return i > 0;
      if (i < SPIN_ROUNDS)
         cpu_relax();
      else
         sched_yield();
   }
}

void
vn_recorder_drain(struct vn_recorder *rec)
{
   wait_consumed(rec, rec->head);
   rec->synced = rec->head;
   rec->pinned = false;
}

void *
vn_recorder_push(struct vn_recorder *rec, vn_replay_fn replay, PFN_vkVoidFunction fn, size_t size)
{
   const size_t need = (HEADER_SIZE + size + VN_RECORD_ALIGN - 1) & ~(size_t)(VN_RECORD_ALIGN - 1);
   const size_t to_end = VN_RECORDER_RING_SIZE - (rec->head & RING_MASK);
   if (need > to_end) {
      /* a skip record to the ring's start: at least HEADER_SIZE bytes,
       * since every record is a multiple of VN_RECORD_ALIGN */
      if (rec->head + to_end - rec->consumed_seen > VN_RECORDER_RING_SIZE)
         wait_consumed(rec, rec->head + to_end - VN_RECORDER_RING_SIZE);
      struct vn_record_header *skip = record_at(rec, rec->head);
      skip->replay = NULL;
      skip->size = (uint32_t)to_end;
      rec->head += to_end;
   }
   if (rec->head + need - rec->consumed_seen > VN_RECORDER_RING_SIZE)
      rec->full_waits += wait_consumed(rec, rec->head + need - VN_RECORDER_RING_SIZE);
   struct vn_record_header *h = record_at(rec, rec->head);
   /* the line was read by the recorder thread one lap ago: ask for it
    * ahead, before the store would wait for it */
   __builtin_prefetch(rec->ring + ((rec->head + PREFETCH_AHEAD) & RING_MASK), 1);
   h->replay = replay;
   h->fn = fn;
   h->size = (uint32_t)need;
   rec->head += need;
   rec->calls++;
   return (uint8_t *)h + HEADER_SIZE;
}
