/*
 * PearVisor public API: the host side of a virtualized Vulkan GPU.
 *
 * A VMM (or the vtest server) embeds PearVisor through this header alone.
 * One pv_renderer stands for one guest: it owns that guest's contexts and
 * resources, so resource and context ids of one guest never reach another's
 * objects. Everything passed in from the guest (command streams, ids, sizes,
 * offsets) is untrusted: a bad stream marks only its own context lost.
 *
 * Threading: calls on one renderer are serialized by the renderer itself;
 * different renderers are independent and may be used from different threads.
 * Callbacks may be invoked from PearVisor's own threads.
 *
 * Errors are returned as negative errno values (0 on success).
 */
#ifndef PEARVISOR_H
#define PEARVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Capset ids, as virtio-gpu numbers them. */
#define PV_CAPSET_VENUS 4

/* Blob memory types and flags, as virtio-gpu numbers them. */
#define PV_BLOB_MEM_GUEST 1
#define PV_BLOB_MEM_HOST3D 2
#define PV_BLOB_MEM_HOST3D_GUEST 3

#define PV_BLOB_FLAG_MAPPABLE (1u << 0)
#define PV_BLOB_FLAG_SHAREABLE (1u << 1)
#define PV_BLOB_FLAG_CROSS_DEVICE (1u << 2)

/* How the guest may map a blob (virtio-gpu map_info values). */
#define PV_MAP_CACHE_CACHED 1
#define PV_MAP_CACHE_UNCACHED 2
#define PV_MAP_CACHE_WC 3

struct pv_renderer;

struct pv_renderer_callbacks {
   void *data;
   /* A fence submitted with pv_context_submit_fence retired: all work the
    * context submitted before it has completed. Called from any thread. */
   void (*fence_retired)(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id);
   /* Optional. A guest's vkCreateDevice succeeded: `recipe` (size bytes,
    * at most PV_PREMADE_MAX_RECIPE) describes its vkCreateInstance and
    * vkCreateDevice create infos, for pv_premade_create in a process that
    * will serve another guest. It is guest data: only create infos, no
    * object of this guest. Called on the context's thread; the bytes are
    * valid during the call only. */
   void (*device_recipe)(void *data, const void *recipe, size_t size);
};

struct pv_renderer_limits {
   uint32_t max_contexts;            /* 0: default (64) */
   uint32_t max_objects_per_context; /* Vulkan objects; 0: default (1 << 20) */
   /* bytes of blobs + device memory; 0: default (16 GiB, at most half the
    * host's RAM) */
   uint64_t max_memory_per_context;
};

/* Where charged memory lives. Pool PV_MEMORY_POOL_RAM: host RAM (guest
 * blobs, host-visible memory, every heap of a device that is not a
 * discrete GPU, heaps without VK_MEMORY_HEAP_DEVICE_LOCAL_BIT). Pool
 * PV_MEMORY_POOL_GPU(i): the device-local heaps of the host's discrete
 * GPU i, in the host's enumeration order (GPUs past the last pool share
 * it). */
#define PV_MEMORY_POOL_RAM 0u
#define PV_MEMORY_MAX_GPUS 8u
#define PV_MEMORY_POOLS (1u + PV_MEMORY_MAX_GPUS)
#define PV_MEMORY_POOL_GPU(i) (1u + ((i) < PV_MEMORY_MAX_GPUS ? (i) : PV_MEMORY_MAX_GPUS - 1u))

struct pv_memory_pool {
   uint32_t index;     /* PV_MEMORY_POOL_RAM or PV_MEMORY_POOL_GPU(i) */
   uint32_t heap;      /* GPU pools: the host heap the memory comes from (logs) */
   uint64_t heap_size; /* GPU pools: the GPU's device-local heaps together, as
                        * the driver reports them (the default limit) */
};

/* A memory budget shared by several renderers (several guests, even in
 * several processes): every blob and every device memory allocation of
 * their contexts is charged to it, to the pool its memory lives in,
 * besides the per-context cap. charge returns false to refuse (the
 * allocation then fails, logged with the context); release gives back
 * what a charge to that pool index took. Called from any thread, with
 * renderer locks held: they must not call back into PearVisor. */
struct pv_memory_budget {
   bool (*charge)(void *data, const struct pv_memory_pool *pool, uint64_t bytes);
   void (*release)(void *data, uint32_t pool, uint64_t bytes);
   void *data;
};

/* Makes the renderer's contexts charge `budget` (copied; NULL: none, the
 * default). Before the first context: -EBUSY once a context exists. */
int pv_renderer_set_memory_budget(struct pv_renderer *r, const struct pv_memory_budget *budget);

/* Bounds every wait for the GPU when a context is destroyed (default and
 * 0: 5000 ms; applies to teardowns that start afterwards). A context whose
 * queues have not drained by then (a guest left its queue waiting on a
 * semaphore nothing signals, or the GPU hangs) is torn down anyway: its
 * pending fences are retired, its slot freed, and its devices abandoned,
 * not destroyed (the driver may still use them), so their host memory
 * stays allocated, and charged to the memory budget, until the process
 * exits. Past 4 such contexts in a process, pv_context_create fails with
 * -EBUSY. -EINVAL for a NULL renderer. */
int pv_renderer_set_teardown_timeout(struct pv_renderer *r, uint32_t timeout_ms);

/* Loads the host Vulkan loader's ICD (and layers) and keeps them loaded for
 * the rest of the process: creates a throwaway host instance, enumerates
 * its physical devices, creates and destroys a device on the first one
 * (the driver's first-device work), pins every library then loaded
 * (RTLD_NODELETE), destroys the instance and returns the freed heap to the
 * system (malloc_trim). Nothing of it outlives the call but the loaded
 * libraries and the driver's own process-wide state, the same a process
 * keeps after its first instance. For a process started ahead of its one
 * guest (pv-vtest's pre-started client processes), so that the guest's
 * first vkCreateInstance does not pay for loading the driver. Returns 0 or
 * -ENODEV (no host instance; logged). */
int pv_host_driver_preload(void);

/* What the host's owner decides about the devices of a renderer's guests
 * (per VM, per vtest socket); guests cannot change it. */
struct pv_device_policy {
   /* The host's physical devices the guests see: bit i for the host's
    * device i in its enumeration order (the order of PV_MEMORY_POOL_GPU);
    * 0: all of them. vkEnumeratePhysicalDevices and
    * vkEnumeratePhysicalDeviceGroups show only these (groups with none of
    * them left out), so no guest can create a device on another. */
   uint64_t gpu_mask;
   /* Host queue global priority (VK_KHR/EXT_global_priority of the host
    * driver) of every queue of every device the guests create: their share
    * of the GPU beside other guests. Guests cannot choose one: the
    * extensions are not offered to them, and a guest's own
    * VkDeviceQueueGlobalPriorityCreateInfo is refused. A host device
    * without either extension, or whose driver refuses the class
    * (VK_ERROR_NOT_PERMITTED_KHR: NVIDIA's refuses realtime to a process
    * without capabilities), gets the driver's default, logged once per
    * device. */
   uint32_t queue_priority; /* PV_QUEUE_PRIORITY_* */
};

#define PV_QUEUE_PRIORITY_DEFAULT 0u /* nothing chained: the driver's default */
#define PV_QUEUE_PRIORITY_LOW 128u   /* the VkQueueGlobalPriorityKHR values */
#define PV_QUEUE_PRIORITY_MEDIUM 256u
#define PV_QUEUE_PRIORITY_HIGH 512u
#define PV_QUEUE_PRIORITY_REALTIME 1024u

/* Parses "default", "low", "medium", "high" or "realtime" (command-line
 * options of the programs that embed the renderer). 0 or -EINVAL. */
int pv_queue_priority_from_name(const char *name, uint32_t *priority);

/* Parses a comma-separated list of host device indices ("0", "1,3"; each
 * below 64) into a gpu_mask. 0 or -EINVAL (also for an empty list). */
int pv_gpu_mask_from_list(const char *list, uint64_t *gpu_mask);

/* Applies to instances and devices created from now on (default: all
 * zero, every GPU at the driver's default priority). -EINVAL for an
 * unknown priority, -EBUSY once a context exists. */
int pv_renderer_set_device_policy(struct pv_renderer *r, const struct pv_device_policy *policy);

/* A host instance and device made ahead of a guest from a recipe
 * (pv_renderer_callbacks.device_recipe), for a process that waits for its
 * guest: when the guest's first vkCreateInstance has the same application
 * info it gets that instance, and when its vkCreateDevice (on the same
 * physical device) has an identical create info, that device (a mismatch
 * destroys the device made ahead, during that vkCreateDevice). The objects
 * are fresh, made only from the create infos; the guest cannot tell them
 * from ones made on its request. Costs the memory of an idle device until
 * a guest comes. */
#define PV_PREMADE_MAX_RECIPE (64u << 10)
struct pv_premade;

/* Decodes the recipe as untrusted input, then creates the instance and
 * the device (as long as vkCreateDevice takes) under `policy` (NULL: the
 * default; the embedder's, never the recipe's: a device on a GPU it hides
 * is not made, and a renderer takes only objects made under its own).
 * Returns 0, -EINVAL for a malformed recipe, a GPU the policy hides or an
 * unknown priority, -ENODEV when the host could not make them (logged
 * each), -ENOMEM. */
int pv_premade_create(const void *recipe, size_t size, const struct pv_device_policy *policy,
                      struct pv_premade **out);

/* Destroys what the pre-made objects still hold (NULL: nothing). */
void pv_premade_destroy(struct pv_premade *pm);

/* Gives the renderer pre-made objects for its guest (it owns them from
 * then on, also on error; what no guest takes is destroyed with the
 * renderer). Before the first context: -EBUSY once a context exists,
 * -EEXIST when it holds some already, -EINVAL when they were made under
 * another device policy than the renderer's. */
int pv_renderer_set_premade(struct pv_renderer *r, struct pv_premade *pm);

/* Creates a renderer for one guest. `limits` may be NULL for defaults. */
int pv_renderer_create(const struct pv_renderer_callbacks *cbs,
                       const struct pv_renderer_limits *limits, struct pv_renderer **out);

/* Venus wire formats: what Mesa's guest driver checks in the capset before
 * it sends anything else. Mesa 22.3 needs 0, Mesa 25 needs 1; nothing a
 * guest sends before the capset request tells them apart, so the embedder
 * chooses per renderer (per vtest socket, per VM). */
#define PV_VENUS_WIRE_FORMAT_MESA22 0
#define PV_VENUS_WIRE_FORMAT_MESA25 1

/* Selects the wire format of the venus capset and of the contexts created
 * afterwards (default: 0). -EINVAL for an unknown format, -EBUSY once a
 * context exists. */
int pv_renderer_set_venus_wire_format(struct pv_renderer *r, uint32_t wire_format);
uint32_t pv_renderer_venus_wire_format(const struct pv_renderer *r);

/* Destroys every context and resource of the renderer, then the renderer.
 * The contexts' waits for the GPU share one teardown timeout. */
void pv_renderer_destroy(struct pv_renderer *r);

/* Capsets. get_capset_info reports the max version and size; get_capset
 * copies up to *size bytes of the capset and sets *size to the bytes written. */
int pv_renderer_get_capset_info(struct pv_renderer *r, uint32_t capset_id, uint32_t *max_version,
                                uint32_t *max_size);
int pv_renderer_get_capset(struct pv_renderer *r, uint32_t capset_id, uint32_t version, void *buf,
                           uint32_t *size);

/* Contexts. ctx_id is chosen by the guest and must be unused and nonzero. */
int pv_context_create(struct pv_renderer *r, uint32_t ctx_id, uint32_t capset_id,
                      const char *debug_name);
/* Destroy waits for the context's calls in flight and its threads, and for
 * its GPU work at most the teardown timeout (pv_renderer_set_teardown_timeout);
 * from its start the id is unknown to every call (a new context may take
 * it), and its slot counts towards max_contexts until the teardown ends.
 * Other contexts' calls go on meanwhile (the renderer lock is not held
 * across teardown). pv_context_create: -EBUSY once too many contexts were
 * abandoned (see pv_renderer_set_teardown_timeout). */
void pv_context_destroy(struct pv_renderer *r, uint32_t ctx_id);

/* Decodes and executes a command stream (a virtio-gpu SUBMIT_3D). A
 * malformed stream marks the context lost and returns -EINVAL; a lost
 * context rejects further submits with -ENODEV. Commands read parts of
 * `data` in place while they run: it must be the caller's own copy, not
 * memory the guest can still write. */
int pv_context_submit(struct pv_renderer *r, uint32_t ctx_id, const void *data, size_t size);

/* True once the context is lost (bad stream or host device loss). */
bool pv_context_is_lost(struct pv_renderer *r, uint32_t ctx_id);

/* Queues a fence: fence_retired is called once everything the context
 * submitted so far (on ring_idx) has completed on the host GPU. With wire
 * format 1, ring_idx 0 is the CPU timeline: its fences retire at once (the
 * submit before was consumed), possibly inside this call; ring_idx N > 0
 * waits for the queue the guest bound to N (VkDeviceQueueTimelineInfoMESA),
 * or for every queue when none is bound. With wire format 0 every fence
 * waits for every queue of the context. */
int pv_context_submit_fence(struct pv_renderer *r, uint32_t ctx_id, uint32_t ring_idx,
                            uint64_t fence_id);

/* Resources. res_id is chosen by the guest, nonzero, unique per renderer. */
struct pv_blob_args {
   uint32_t res_id;
   uint32_t ctx_id;     /* context creating the blob (0 for GUEST blobs without one) */
   uint32_t blob_mem;   /* PV_BLOB_MEM_* */
   uint32_t blob_flags; /* PV_BLOB_FLAG_* */
   uint64_t blob_id;    /* venus: id of a VkDeviceMemory, or 0 for plain shared memory */
   uint64_t size;
   const struct iovec *iov; /* backing pages for GUEST blobs (may be NULL) */
   uint32_t iov_count;
};

int pv_resource_create_blob(struct pv_renderer *r, const struct pv_blob_args *args);

/* Drops the renderer's reference; the memory stays alive while a context
 * still uses it (e.g. as a ring or a mapped VkDeviceMemory). */
void pv_resource_unref(struct pv_renderer *r, uint32_t res_id);

/* Exports a mappable blob as a new file descriptor (caller closes it) that
 * maps the same memory PearVisor uses: zero copies. map_info gets a
 * PV_MAP_CACHE_* value. */
int pv_resource_export_fd(struct pv_renderer *r, uint32_t res_id, int *fd, uint32_t *map_info);

/* Host mapping of a blob for a VMM that maps it into guest memory itself. */
int pv_resource_map(struct pv_renderer *r, uint32_t res_id, void **ptr, uint64_t *size);

/* Makes a resource visible to a context's command stream (venus rings and
 * reply streams name resources by res_id) or hides it again. */
int pv_context_attach_resource(struct pv_renderer *r, uint32_t ctx_id, uint32_t res_id);
void pv_context_detach_resource(struct pv_renderer *r, uint32_t ctx_id, uint32_t res_id);

#ifdef __cplusplus
}
#endif

#endif
