/*
 * The recorder: a second thread that makes a context's vkCmd* driver calls
 * while the decoding thread goes on decoding and checking the commands
 * after them. A command buffer's stream arrives whole (Mesa's venus sends
 * it at vkEndCommandBuffer), so the host's decoding and the driver's own
 * recording would otherwise run one after the other for every command.
 *
 * Contract:
 * - One producer (the thread decoding the context's streams) and one
 *   consumer (the recorder's thread). Calls are made in the order they
 *   were pushed.
 * - Arrays of plain values are copied into the record. Other pointer
 *   arguments of a pushed call must stay valid until vn_recorder_drain()
 *   returns: they point into the stream's private copy and the decoder's
 *   arena, which the dispatch loop keeps until it drains while `pinned`
 *   (vn_dispatch_commands). Values a handler builds on its own stack must
 *   not be passed to a deferred call: such a handler drains and calls the
 *   driver itself (vn_recorder_sync()).
 * - Every driver call that is not a vkCmd* (vkEndCommandBuffer, a submit,
 *   a destroy) is made only after vn_recorder_drain(): the dispatch loop
 *   drains before every command that is not recorded this way.
 * - The record calls of vn_record.h (generated) call the driver directly
 *   while the recorder is not active.
 */
#ifndef PV_VENUS_VN_RECORDER_H
#define PV_VENUS_VN_RECORDER_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

/* Makes one deferred call: `fn` is the driver's entry point, `args` the
 * generated record struct (vn_record.h). */
typedef void (*vn_replay_fn)(PFN_vkVoidFunction fn, const void *args);

struct vn_record_header {
   vn_replay_fn replay; /* NULL: skip to the ring's start */
   PFN_vkVoidFunction fn;
   uint32_t size; /* of the whole record, header included */
};

#define VN_RECORD_ALIGN 32
#define VN_RECORDER_RING_SIZE ((size_t)256 * 1024)

struct vn_recorder {
   /* the producer's own fields */
   bool active;   /* calls are deferred (inside vn_dispatch_commands) */
   bool started;  /* the thread runs */
   bool disabled; /* the renderer's setting, or the thread did not start */
   size_t head;   /* bytes pushed */
   size_t synced; /* head at the last drain: nothing pending when equal */
   /* a pending record points into the decoder's arena or stream: the
    * arena is not reset until the recorder drains */
   bool pinned;
   /* consumed as last read: the producer reads the shared counter again
    * only when this leaves no room (reading it for every record moved its
    * cache line between the two cores for every command) */
   size_t consumed_seen;
   uint32_t batch;      /* records pushed since the last publish */
   uint64_t calls;      /* calls pushed over the recorder's life (statistics) */
   uint64_t full_waits; /* pushes that waited for room (statistics) */
   uint8_t *ring;

   /* shared with the recorder's thread, one cache line each */
   alignas(64) atomic_size_t published; /* bytes the thread may read */
   alignas(64) atomic_size_t consumed;  /* bytes whose calls returned (stored per batch) */
   alignas(64) atomic_bool sleeping;
   atomic_bool stop;
   pthread_mutex_t mutex;
   pthread_cond_t cond;
   pthread_t thread;
};

/* Never fails: the thread starts at the first vn_recorder_begin(). With
 * `enabled` false every call is made directly. */
void vn_recorder_init(struct vn_recorder *rec, bool enabled);
/* Drains and joins the thread. */
void vn_recorder_fini(struct vn_recorder *rec);

/* Defers calls until the matching vn_recorder_end(), which drains.
 * Returns the previous state for vn_recorder_end(); nests. */
bool vn_recorder_begin(struct vn_recorder *rec);
void vn_recorder_end(struct vn_recorder *rec, bool was_active);

static inline bool
vn_recorder_active(const struct vn_recorder *rec)
{
   return rec && rec->active;
}

/* Calls pushed since the last drain (the producer's own view: reading
 * the shared counter here would cost a cache line transfer per command). */
static inline bool
vn_recorder_pending(const struct vn_recorder *rec)
{
   return rec->head != rec->synced;
}

/* Waits until every pushed call has returned. */
void vn_recorder_drain(struct vn_recorder *rec);

/* Before a handler calls a vkCmd* itself (with arguments on its stack):
 * drains when the recorder is active. */
static inline void
vn_recorder_sync(struct vn_recorder *rec)
{
   if (vn_recorder_active(rec) && vn_recorder_pending(rec))
      vn_recorder_drain(rec);
}

/* Room for one record of `size` argument bytes; the caller fills it in
 * and calls vn_recorder_commit(). Waits while the ring is full. */
void *vn_recorder_push(struct vn_recorder *rec, vn_replay_fn replay, PFN_vkVoidFunction fn,
                       size_t size);
void vn_recorder_publish(struct vn_recorder *rec);

/* Arrays a record call copies into its record (generated/vn_record.h):
 * at most this many bytes per call, each array padded to 8. */
#define VN_RECORD_COPY_MAX 4096u

static inline size_t
vn_record_copy_size(size_t bytes)
{
   return (bytes + 7) & ~(size_t)7;
}

/* Publishing every record would move the shared line to the other core
 * once per command: records go over in batches. */
#define VN_RECORDER_BATCH 32

static inline void
vn_recorder_commit(struct vn_recorder *rec)
{
   if (++rec->batch >= VN_RECORDER_BATCH)
      vn_recorder_publish(rec);
}

#endif
