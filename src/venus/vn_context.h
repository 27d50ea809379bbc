/*
 * One guest Vulkan context of the Venus renderer, and the host-side state of
 * its instances, devices, memory, resources and rings.
 *
 * Locking: `ctx->mutex` serializes everything that touches the context's
 * object table, arena and reply stream: command execution from the submit
 * path and from ring threads, resource attach/detach and fence submission.
 * Handlers run with it held. The renderer lock (vn_renderer.c) is always
 * taken before a context lock, never after.
 */
#ifndef PV_VENUS_VN_CONTEXT_H
#define PV_VENUS_VN_CONTEXT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <time.h>
#include <vulkan/vulkan.h>

#include "common/shmem.h"
#include "venus/generated/vn_protocol_renderer.h"
#include "venus/vn_cs.h"
#include "venus/vn_object.h"
#include "venus/vn_trace.h"

/* Memory shared by a blob resource and possibly a VkDeviceMemory (memfd,
 * mapped once on the host). Refcounted: freed when the last user is gone. */
struct vn_shm {
   atomic_uint refcount;
   struct pv_shmem shm;
};

struct vn_shm *vn_shm_create(const char *name, uint64_t size);
struct vn_shm *vn_shm_ref(struct vn_shm *s);
void vn_shm_unref(struct vn_shm *s);

/* A blob resource (pv_resource_create_blob). Refcounted: the renderer's
 * table, each context it is attached to, rings and reply streams hold refs. */
struct vn_resource {
   atomic_uint refcount;
   uint32_t res_id;
   uint32_t blob_mem;
   uint32_t blob_flags;
   uint64_t blob_id;
   uint64_t size;
   uint32_t charged_ctx_id; /* context whose memory limit this blob counts against */
   struct vn_shm *shm; /* memfd backing, or NULL for iov-backed GUEST blobs */
   uint8_t *map;       /* host address of the whole blob (shm->shm.map or the iov) */
};

struct vn_resource *vn_resource_ref(struct vn_resource *res);
void vn_resource_unref(struct vn_resource *res);

/* Per VkInstance object (obj->instance). */
struct vn_instance {
   VkInstance handle;
   uint32_t api_version; /* what the host instance was created with */
   struct vn_instance_dispatch dispatch;
};

/* Per VkPhysicalDevice object (obj->data). */
struct vn_physical_device {
   VkPhysicalDevice handle;
   uint32_t api_version; /* advertised: min(host device, instance, protocol) */
   VkPhysicalDeviceMemoryProperties mem_props;
   VkDeviceSize host_ptr_alignment; /* minImportedHostPointerAlignment, 0: no import */
   uint32_t ext_count;               /* advertised device extensions */
   VkExtensionProperties *exts;
};

#define VN_MAX_QUEUE_FAMILIES 16
#define VN_MEMORY_BUCKETS 256

struct vn_device_memory;

/* Per VkDevice object (obj->device). */
struct vn_device {
   VkDevice handle;
   struct vn_physical_device *physical_device;
   struct vn_instance *instance;
   bool host_ptr_import; /* VK_EXT_external_memory_host enabled */
   uint32_t queue_counts[VN_MAX_QUEUE_FAMILIES]; /* created queues per family */
   /* host VkDeviceMemory -> its object: vkFreeMemory gets host handles */
   struct vn_device_memory *memory_buckets[VN_MEMORY_BUCKETS];
   struct vn_device_dispatch dispatch;
};

/* Per VkDeviceMemory object (obj->data). */
struct vn_device_memory {
   VkDeviceSize size;       /* accounted size */
   uint32_t type_index;
   struct vn_shm *shm;      /* host-visible memory: the memfd it was imported from */
   struct vn_resource *res; /* imported blob resource (VkImportMemoryResourceInfoMESA) */
   struct vn_object *obj;
   struct vn_device_memory *next; /* in the device's memory_buckets */
};

struct vn_ring;

/* Transport state shared by the rings, the submit channel and the monitor
 * (vn_transport.c). `mutex` nests inside ctx->mutex; waiters hold only it. */
#define VN_TRANSPORT_MAX_MONITORED 64
struct vn_transport {
   pthread_mutex_t mutex;
   pthread_cond_t progress;  /* a ring consumed, a seqno arrived, a ring stopped */
   uint32_t waiters;
   atomic_bool cancel;       /* context teardown: every wait ends */
   struct vn_ring *executing; /* ring whose commands run now (ctx->mutex held) */

   pthread_t monitor;
   bool monitor_started;
   bool monitor_stop;
   pthread_cond_t monitor_cond;
   struct vn_ring *monitored[VN_TRANSPORT_MAX_MONITORED];
   uint32_t monitored_count;
};

/* Resources attached to the context, by res_id. */
#define VN_ATTACHED_BUCKETS 64
struct vn_attached {
   struct vn_resource *res;
   struct vn_attached *next;
};

struct vn_fence_entry;
/* Fence timelines per context: virtio-gpu and vtest both allow 64 rings. */
#define VN_FENCE_MAX_TIMELINES 64

/* CLOCK_MONOTONIC in nanoseconds (ring polling, execution statistics). */
static inline uint64_t
vn_now_ns(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct vn_context {
   struct pv_renderer *renderer;
   uint32_t ctx_id;
   char name[64];

   pthread_mutex_t mutex;
   struct vn_object_table *objects;
   struct vn_arena arena;

   /* reply stream (vkSetReplyCommandStreamMESA / vkSeekReplyCommandStreamMESA) */
   struct {
      struct vn_resource *res;
      uint64_t offset;
      uint64_t size;
      struct vn_cs_encoder enc;
   } reply;

   struct vn_attached *attached[VN_ATTACHED_BUCKETS];
   struct vn_ring *rings;      /* live rings */
   struct vn_ring *dead_rings; /* stopped, waiting to be joined outside the lock */
   uint32_t ring_count;        /* live rings and their buffer bytes (caps) */
   uint64_t ring_bytes;
   struct vn_transport transport;
   /* venus wire format of the capset this context was created for:
    * 0 = Mesa 22.3's driver, 1 = Mesa 25's (PV_VENUS_WIRE_FORMAT_*) */
   uint32_t wire_format;
   uint32_t exec_depth;        /* vkExecuteCommandStreamsMESA nesting */


   struct vn_trace *trace; /* PV_TRACE_DIR timeline (vn_trace.h), else NULL */
   struct vn_recorder *recorder;
   struct vn_recorder *recording;

   /* private copy of a shared-memory command stream, reused across streams */
   struct {
      void *data;
      size_t capacity;
   } stream_copy;

   /* totals logged at PV_LOG=info when the context goes away */
   struct {
      uint64_t streams;
      uint64_t bytes;
      uint64_t exec_ns;    /* outermost streams only (nested ones are inside),
                            * timed only at PV_LOG=info */
      uint64_t longest_ns; /* the longest outermost stream */
   } stats;

   atomic_bool lost;

   uint64_t memory_used;
   uint64_t memory_limit;
   struct pv_memory_budget *budget; /* shared by renderers, or NULL */

   /* fence threads (pv_context_submit_fence): one per timeline, started on
    * its first fence; entries of all timelines in one FIFO list */
   struct {
      pthread_t threads[VN_FENCE_MAX_TIMELINES];
      bool started[VN_FENCE_MAX_TIMELINES];
      pthread_mutex_t mutex;
      pthread_cond_t cond;
      struct vn_fence_entry *head, *tail;
      uint32_t pending;
      bool stop;
      void (*retired)(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id);
      void *data;
   } fence;
};

struct vn_context_create_info {
   struct pv_renderer *renderer;
   uint32_t ctx_id;
   const char *name;
   uint32_t max_objects;
   uint64_t max_memory;
   struct pv_memory_budget *budget;
   uint32_t wire_format;
   void (*fence_retired)(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id);
   void *fence_data;
};

int vn_context_create(const struct vn_context_create_info *info, struct vn_context **out);
/* Stops rings and the fence thread, destroys every host object left behind. */
void vn_context_destroy(struct vn_context *ctx);

/* Executes a command stream. Takes ctx->mutex. -EINVAL when the stream made
 * the context lost, -ENODEV when it was lost before. */
int vn_context_submit(struct vn_context *ctx, const void *data, size_t size);

/* Executes a stream with ctx->mutex held (rings, vkExecuteCommandStreamsMESA).
 * Returns false when the context is (or became) lost. */
bool vn_context_execute_locked(struct vn_context *ctx, const void *data, size_t size);

/* Marks the context lost; logs `why` once. Safe with or without the lock. */
void vn_context_set_lost(struct vn_context *ctx, const char *why);
static inline bool
vn_context_is_lost(struct vn_context *ctx)
{
   return atomic_load(&ctx->lost);
}

/* Encoder writing at the current reply position. Without a reply stream it
 * has no space: any write makes it fatal (and the context lost). */
struct vn_cs_encoder *vn_context_reply_encoder(struct vn_context *ctx);

/* Attached resources (ctx->mutex held). lookup returns a borrowed pointer. */
int vn_context_attach_locked(struct vn_context *ctx, struct vn_resource *res);
void vn_context_detach_locked(struct vn_context *ctx, uint32_t res_id);
struct vn_resource *vn_context_lookup_resource(struct vn_context *ctx, uint32_t res_id);

/* Returns a host pointer to [offset, offset + size) of an attached resource,
 * or NULL when the resource is unknown or the range is out of bounds. */
void *vn_context_resource_range(struct vn_context *ctx, uint32_t res_id, uint64_t offset,
                                uint64_t size, struct vn_resource **res_out);

/* Memory accounting against the per-context limit and the shared budget;
 * a refusal is logged with the cap, the context and the sizes. */
bool vn_context_charge_memory(struct vn_context *ctx, uint64_t size);
void vn_context_uncharge_memory(struct vn_context *ctx, uint64_t size);

/* Queues a fence (ctx->mutex NOT held: it takes it). */
int vn_context_submit_fence(struct vn_context *ctx, uint32_t ring_idx, uint64_t fence_id);

/* Transport (vn_transport.c). */
void vn_transport_init(struct vn_context *ctx);
/* Ends every seqno and fence wait of the context, now and later (teardown). */
void vn_transport_cancel(struct vn_context *ctx);
bool vn_transport_cancelled(struct vn_context *ctx);
/* Stops the monitor; rings must be stopped and joined before. */
void vn_transport_fini(struct vn_context *ctx);
/* Ring threads: run a ring's commands, publish how far it got. */
bool vn_transport_execute_ring_locked(struct vn_context *ctx, struct vn_ring *ring,
                                      const void *data, size_t size);
void vn_transport_ring_consumed(struct vn_context *ctx, struct vn_ring *ring, uint32_t head);
void vn_ring_stop_all_locked(struct vn_context *ctx);
void vn_ring_join_dead(struct vn_context *ctx);
/* Drops the reply stream (ctx->mutex held). */
void vn_context_reply_reset(struct vn_context *ctx);

/* Device-level cleanup before a device goes away (vn_queue.c): waits until
 * no fence entry references it. ctx->mutex held. */
void vn_fence_drain_device(struct vn_context *ctx, struct vn_device *dev);

/* Destroys every object of the context, children first (vn_device.c). When
 * `dev` / `instance` is non-NULL only that device's / instance's objects. */
void vn_context_destroy_objects(struct vn_context *ctx, struct vn_instance *instance,
                                struct vn_device *dev);

void vn_physical_device_free(struct vn_physical_device *pd);

/* Serializes, process-wide, the Vulkan loader calls that create or destroy
 * instances and devices or fill their dispatch tables: contexts run on many
 * threads, and the loader's bookkeeping for them is not safe against
 * concurrent creation and destruction (pv-vtest crashed in
 * vkGetDeviceProcAddr while other clients tore down). Innermost lock: never
 * take another lock while holding it. */
void vn_loader_lock(void);
void vn_loader_unlock(void);
/* Frees a VkDeviceMemory object: host memory, its state, the table entry. */
void vn_device_memory_destroy(struct vn_context *ctx, struct vn_object *obj);
/* Retires every pending fence, then joins the fence thread. */
void vn_fence_thread_stop(struct vn_context *ctx);

#endif
