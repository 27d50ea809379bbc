/*
 * Fences of a context (pvk_queue.c): one retiring thread per timeline.
 */
#ifndef PV_VENUS_PVK_QUEUE_H
#define PV_VENUS_PVK_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

struct pvk_context;
struct pvk_device;

/* Fence timelines per context: virtio-gpu and vtest both allow 64 rings. */
#define PVK_FENCE_MAX_TIMELINES 64

/* Queues a fence (ctx->mutex NOT held: it takes it). */
int pvk_context_submit_fence(struct pvk_context *ctx, uint32_t ring_idx, uint64_t fence_id);

/* Device-level cleanup before a device goes away: waits until no fence
 * entry references it, until deadline_ns (CLOCK_MONOTONIC, pvk_now_ns)
 * or, when `cancellable`, until the context's transport is cancelled.
 * Then destroys the host fences left to the device (pvk_fence_leave) that
 * have signalled. True when nothing of the context's fences on `dev` is
 * left. ctx->mutex held. */
bool pvk_fence_drain_device(struct pvk_context *ctx, struct pvk_device *dev, uint64_t deadline_ns,
                            bool cancellable);

/* Hands a host fence of `dev` whose submission may still be pending to the
 * device's teardown: destroyed by pvk_fence_drain_device once signalled,
 * never while the device is abandoned (pvk_device.h). */
void pvk_fence_leave(struct pvk_context *ctx, struct pvk_device *dev, VkFence fence);

/* Retires every pending fence, then joins the fence threads. A fence whose
 * work has not completed by deadline_ns is retired all the same (its
 * context is going away: nobody can see its work) and its host fences are
 * left to the device teardown. Returns false when that happened. */
bool pvk_fence_thread_stop(struct pvk_context *ctx, uint64_t deadline_ns);

#endif
