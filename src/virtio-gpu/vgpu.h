/*
 * PearVisor virtio-gpu device model (virtio 1.2, "GPU Device"),
 * independent of any transport.
 *
 * A transport (vhost-user, a VMM of its own, a unit test, a fuzzer) pops a
 * descriptor chain, hands the device-readable part and the device-writable
 * part as iovecs to pv_vgpu_process_ctrl / pv_vgpu_process_cursor, and
 * pushes the returned length to the used ring. Guest-physical addresses met
 * inside requests (backing pages) are resolved through the `translate`
 * callback, so every range is checked against guest memory on every use.
 *
 * Everything in a request is untrusted: each field is validated and a bad
 * one is answered with the spec's error response; nothing a guest sends can
 * make the device crash or touch memory outside the guest's RAM.
 *
 * 3D commands (contexts, capsets, SUBMIT_3D, host blobs) are routed to the
 * PearVisor renderer (include/pearvisor/pearvisor.h) when one is configured;
 * without one they are answered with ERR_UNSPEC and the 3D features are not
 * offered.
 *
 * Not thread-safe: one device is driven from one thread at a time.
 */
#ifndef PV_VIRTIO_GPU_VGPU_H
#define PV_VIRTIO_GPU_VGPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/virtio_gpu.h>

struct pv_renderer;
struct pv_vgpu;

/* Resolves guest-physical [gpa, gpa + len). Returns how many bytes starting
 * at gpa are contiguous in host memory (<= len; 0 when gpa is not guest RAM)
 * and sets *host to their host address. */
typedef uint64_t (*pv_vgpu_translate_fn)(void *data, uint64_t gpa, uint64_t len, void **host);

/* Where the device's scanouts go (a display, a PNG dumper, a test). */
struct pv_vgpu_display {
   void *data;
   /* Scanout size changed; width == 0 disables the scanout. */
   void (*scanout)(void *data, uint32_t scanout_id, uint32_t width, uint32_t height);
   /* A rectangle of the scanout changed. `pixels` is w*h x8r8g8b8 (little
    * endian 0xXXRRGGBB), tightly packed; valid only during the call. */
   void (*update)(void *data, uint32_t scanout_id, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
                  const uint32_t *pixels);
   /* Cursor position; `image` (64x64 a8r8g8b8) is non-NULL when the shape
    * changed; visible == false hides the cursor. */
   void (*cursor)(void *data, uint32_t scanout_id, uint32_t x, uint32_t y, bool visible,
                  const uint32_t *image, uint32_t hot_x, uint32_t hot_y);
};

/* The transport's host-visible memory region (virtio-gpu shared memory id 1,
 * where RESOURCE_MAP_BLOB places blobs). Absent (size 0) on transports that
 * have none, e.g. QEMU 7.2's vhost-user-gpu. */
struct pv_vgpu_hostmem {
   void *data;
   uint64_t size;
   /* Maps `len` bytes of the blob exported as `fd` at `offset` in the
    * region. Returns 0 or a negative errno. */
   int (*map)(void *data, uint64_t offset, int fd, uint64_t len);
   void (*unmap)(void *data, uint64_t offset, uint64_t len);
};

/* Where held control requests go once their fence retires: the transport
 * returns the chain it named `token` with `len` bytes written. */
struct pv_vgpu_completion {
   void *data;
   void (*complete)(void *data, uint64_t token, uint32_t len);
};

struct pv_vgpu_config {
   uint32_t num_scanouts;    /* 1..16; 0 means 1 */
   uint32_t width, height;   /* preferred mode of every scanout; 0: 1024x768 */
   uint64_t max_host_memory; /* bytes of 2D resources; 0: 256 MiB */
   uint32_t max_resources;   /* 0: 16384 */
   pv_vgpu_translate_fn translate;
   void *translate_data;
   struct pv_vgpu_display display;
   struct pv_vgpu_hostmem hostmem;
   struct pv_renderer *renderer;         /* NULL: 2D only */
   struct pv_vgpu_completion completion; /* for pv_vgpu_submit_ctrl */
   uint32_t max_held;                    /* held fenced requests at most; 0: 4096 */
};

/* A control request whose response must wait for a renderer fence
 * (ctx_id, ring_idx, fence_id). Reported by pv_vgpu_process_ctrl, the
 * stateless path (tests, fuzzing); transports that hold descriptors use
 * pv_vgpu_submit_ctrl, where the device keeps the wait itself. */
struct pv_vgpu_fence_wait {
   bool pending;
   uint32_t ctx_id;
   uint32_t ring_idx;
   uint64_t fence_id;
};

int pv_vgpu_create(const struct pv_vgpu_config *cfg, struct pv_vgpu **out);
void pv_vgpu_destroy(struct pv_vgpu *dev);

/* Replaces the guest-memory translation (e.g. after a new memory table). */
void pv_vgpu_set_translate(struct pv_vgpu *dev, pv_vgpu_translate_fn fn, void *data);

/* VIRTIO_GPU_F_* bits this device offers (EDID always, VIRGL/CONTEXT_INIT
 * with a renderer, RESOURCE_BLOB always). */
uint64_t pv_vgpu_features(const struct pv_vgpu *dev);
/* The device configuration space. */
void pv_vgpu_get_config(const struct pv_vgpu *dev, struct virtio_gpu_config *cfg);
/* Driver writes to the configuration space (events_clear). */
void pv_vgpu_set_config(struct pv_vgpu *dev, const struct virtio_gpu_config *cfg);

/* Handles one control-queue request. `in` is the device-readable part of
 * the chain, `out` the device-writable part. Returns the bytes written to
 * `out` (the used length; 0 when `out` cannot hold a response). `wait` (may
 * be NULL) reports a response that must wait for a fence; the caller then
 * owns that wait (pv_vgpu_submit_ctrl below does it for the caller). */
uint32_t pv_vgpu_process_ctrl(struct pv_vgpu *dev, const struct iovec *in, unsigned n_in,
                              const struct iovec *out, unsigned n_out,
                              struct pv_vgpu_fence_wait *wait);

/* Fence ownership. A transport that holds descriptors hands each control
 * request in with pv_vgpu_submit_ctrl and a token of its own (e.g. the
 * ring head). The device answers it at once, or, for a fenced command the
 * renderer still works on, keeps the token until the transport reports the
 * fence with pv_vgpu_fence_retired; held requests of one (ctx, ring) are
 * completed in the order they came, each no earlier than its own fence.
 * A held request is never dropped or answered early: when the device has
 * no room to hold one more (max_held reached, or growing failed),
 * pv_vgpu_ctrl_ready says so and the transport leaves requests in its queue
 * until a retired fence frees room. */

/* True when pv_vgpu_submit_ctrl can take a request now. */
bool pv_vgpu_ctrl_ready(struct pv_vgpu *dev);

/* Handles one control request. Returns 1 with *len set (answered now), 0
 * when held (cfg.completion.complete reports it later), or -EBUSY without
 * looking at the request when there is no room to hold it (the transport
 * puts it back). */
int pv_vgpu_submit_ctrl(struct pv_vgpu *dev, uint64_t token, const struct iovec *in, unsigned n_in,
                        const struct iovec *out, unsigned n_out, uint32_t *len);

/* The renderer retired fence_id on (ctx_id, ring_idx) (and every earlier
 * one of that ring). Completes the held requests it releases, in order.
 * Call on the device's thread. */
void pv_vgpu_fence_retired(struct pv_vgpu *dev, uint32_t ctx_id, uint32_t ring_idx,
                           uint64_t fence_id);

/* Requests held for fences now. */
uint32_t pv_vgpu_held_count(const struct pv_vgpu *dev);

/* Logs at warn level what a stuck guest may wait on: the contexts alive,
 * the held requests in order (token, ctx, ring, fence) and the resources
 * (for a transport's on-demand state dump). */
void pv_vgpu_log_state(const struct pv_vgpu *dev, const char *tag);

/* Handles one cursor-queue request (UPDATE_CURSOR / MOVE_CURSOR); same
 * contract as pv_vgpu_process_ctrl without fences. */
uint32_t pv_vgpu_process_cursor(struct pv_vgpu *dev, const struct iovec *in, unsigned n_in,
                                const struct iovec *out, unsigned n_out);

/* Drops every resource (unmapping mapped blobs first), context, scanout and
 * held request (device reset: the transport's queues are gone, so held
 * requests are forgotten, not completed). */
void pv_vgpu_reset(struct pv_vgpu *dev);

/* Re-sends every enabled scanout's size and content to the display (after
 * the display was re-connected). */
void pv_vgpu_refresh_display(struct pv_vgpu *dev);

/* Largest request the device accepts (bigger ones get ERR_UNSPEC). */
#define PV_VGPU_MAX_REQUEST (64u << 20)

#endif
