/*
 * Fences of a context (pvk_queue.c): one retiring thread per timeline.
 */
#ifndef PV_VENUS_PVK_QUEUE_H
#define PV_VENUS_PVK_QUEUE_H

#include <stdint.h>

struct pvk_context;
struct pvk_device;

/* Fence timelines per context: virtio-gpu and vtest both allow 64 rings. */
#define PVK_FENCE_MAX_TIMELINES 64

/* Queues a fence (ctx->mutex NOT held: it takes it). */
int pvk_context_submit_fence(struct pvk_context *ctx, uint32_t ring_idx, uint64_t fence_id);

/* Device-level cleanup before a device goes away: waits until no fence
 * entry references it. ctx->mutex held. */
void pvk_fence_drain_device(struct pvk_context *ctx, struct pvk_device *dev);

/* Retires every pending fence, then joins the fence threads. */
void pvk_fence_thread_stop(struct pvk_context *ctx);

#endif
