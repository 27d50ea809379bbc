/*
 * Fences of a context (vn_queue.c): one retiring thread per timeline.
 */
#ifndef PV_VENUS_VN_QUEUE_H
#define PV_VENUS_VN_QUEUE_H

#include <stdint.h>

struct vn_context;
struct vn_device;

/* Fence timelines per context: virtio-gpu and vtest both allow 64 rings. */
#define VN_FENCE_MAX_TIMELINES 64

/* Queues a fence (ctx->mutex NOT held: it takes it). */
int vn_context_submit_fence(struct vn_context *ctx, uint32_t ring_idx, uint64_t fence_id);

/* Device-level cleanup before a device goes away: waits until no fence
 * entry references it. ctx->mutex held. */
void vn_fence_drain_device(struct vn_context *ctx, struct vn_device *dev);

/* Retires every pending fence, then joins the fence threads. */
void vn_fence_thread_stop(struct vn_context *ctx);

#endif
