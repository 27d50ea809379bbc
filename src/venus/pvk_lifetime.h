/*
 * Object lifetimes against pending submissions (pvk_lifetime.c).
 *
 * Vulkan forbids destroying, freeing or resetting an object that work
 * still pending on a queue uses; a host driver that is given such a call
 * frees memory its queue thread is still reading (lavapipe crashed on a
 * fence destroyed, or command buffers freed, while their submission ran).
 * The renderer does not know which objects a submission uses (that would
 * mean tracking every handle recorded into every command buffer), so it
 * tracks submissions per device instead:
 *
 * - every vkQueueSubmit(2) and vkQueueBindSparse is tracked by a host fence
 *   and gets the next serial of its device. The fence is the guest's own
 *   when it passes one that is known to be unsignalled and in no other
 *   submission (created unsignalled and never submitted: one
 *   vkGetFenceStatus tells; or reset through the firewall since it was
 *   last submitted); else the renderer's own, from a pool of reset
 *   fences, carried by the guest's submission when the guest passed no
 *   fence and by an empty submission right after it otherwise (a guest
 *   fence that may already be signalled says nothing about this work).
 *   `completed` is the highest serial up to which every tracked submission
 *   has finished, polled with vkGetFenceStatus (never waited for on the
 *   way). A guest fence tracking a submission is never reset behind the
 *   renderer's back: vkResetFences (and the fence-resource reset) first
 *   observe it signalled, or wait for it, and mark that submission done;
 *   the guest's vkWaitForFences / vkGetFenceStatus returning VK_SUCCESS
 *   marks it done for free. Submissions marked done out of order count
 *   for the objects they use at once, and for `completed` once everything
 *   before them has finished too;
 * - destroying or freeing an object (fences, semaphores, events, query
 *   pools, buffers and their views, images and their views, memory,
 *   pipelines and their layouts, samplers, descriptor set layouts, pools
 *   and sets, framebuffers, render passes, command pools and buffers) while
 *   any submission of its device is pending drops the guest's id at once
 *   and DEFERS the host call until everything submitted before it has
 *   completed. Deferred calls run in order (a pool after its command
 *   buffers), at the next submission, destroy or guest fence observation
 *   on that device that finds them due, and at teardown after the device
 *   is idle. The price: memory,
 *   pool slots and memory-budget charges come back only once the work is
 *   done (a guest that frees and re-allocates from a full descriptor pool
 *   while its own work is pending can get VK_ERROR_OUT_OF_POOL_MEMORY);
 *   nothing ever waits.
 * - vkResetDescriptorPool while work is pending swaps in a fresh host pool
 *   (same create info) under the guest's id and defers destroying the old
 *   one, with the sets the work may read; a pool whose create info is not
 *   fully recorded (mutable descriptor type lists) waits instead.
 * - other resets cannot be deferred (the guest records or signals again
 *   right after): vkBeginCommandBuffer / vkResetCommandBuffer /
 *   vkResetCommandPool wait for the last submission of that command buffer
 *   or pool (secondary command buffers: everything submitted so far),
 *   vkResetFences for the submission that signals the fence. A valid guest
 *   never waits there (it waited for the work itself); the wait runs in
 *   slices and gives up, making the context lost, when the context is torn
 *   down.
 */
#ifndef PV_VENUS_PVK_LIFETIME_H
#define PV_VENUS_PVK_LIFETIME_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

struct pvk_context;
struct pvk_device;
struct vn_object;
struct pvk_device_memory;
struct pvk_deferred;

/* Per device (embedded in struct pvk_device; all zero is the initial state). */
struct pvk_lifetime {
   uint64_t submitted; /* serial of the last tracked submission */
   uint64_t completed; /* every submission up to this serial has finished */
   struct pvk_pending_submit {
      VkFence fence;
      uint64_t serial;
      bool guest_fence; /* the guest's: never reset nor reused here */
      bool done;        /* its guest fence was seen signalled */
   } * pending;         /* in submission order */
   uint32_t pending_count, pending_capacity;
   VkFence *spare; /* signalled-and-reset fences for reuse */
   uint32_t spare_count, spare_capacity;
   struct pvk_deferred *deferred, *deferred_tail;
};

/* A fence for the submission about to be made (reused or created), or
 * VK_NULL_HANDLE when none could be created or tracked (the submission then goes
 * untracked, which only makes the deferral conservative-late: it is
 * covered by the next tracked one). */
VkFence pvk_lifetime_begin_submit(struct pvk_device *dev);
/* After the submission: `ok` when the driver accepted it. Returns its
 * serial (0 when not tracked). */
uint64_t pvk_lifetime_end_submit(struct pvk_device *dev, VkFence fence, bool ok);

/* The guest's fence `fence` (host handle) of the submission about to be
 * made, when it can track that submission itself: it is known unsignalled
 * and in no pending submission (at most one vkGetFenceStatus to find out).
 * NULL: track it with a fence of the renderer's (begin/end_submit). */
struct vn_object *pvk_lifetime_guest_fence(struct pvk_context *ctx, struct pvk_device *dev,
                                           VkFence fence);
/* After the submission carrying that guest fence: `ok` when the driver
 * accepted it. Returns its serial (0 when not tracked). */
uint64_t pvk_lifetime_end_guest_submit(struct pvk_context *ctx, struct pvk_device *dev,
                                       struct vn_object *fence, bool ok);

/* After a tracked submission: the command buffers it runs (their pools,
 * the secondaries they execute) and the fence it signals are in use until
 * `serial` completes. */
void pvk_lifetime_mark_command_buffer(struct pvk_context *ctx, VkCommandBuffer cb, uint64_t serial);
/* Before command buffer `cb` (its object, pvk_cb_find) is submitted: one
 * not begun with SIMULTANEOUS_USE runs once at a time
 * (VUID-vkQueueSubmit-pCommandBuffers-00071), so a submission of it while
 * its last one may still be pending, or of a primary executing such a
 * secondary while the last submission that ran it may (-00073; after
 * pvk_cb_submit_ok), waits for that one first (pvk_lifetime_wait: bounded, and a guest that
 * saw its fence through a feedback buffer is ahead of the host by one
 * poll at most). False (context lost) when the wait gave up. */
bool pvk_lifetime_command_buffer_idle(struct pvk_context *ctx, struct pvk_device *dev,
                                      struct vn_object *cb, const char *what);
void pvk_lifetime_mark_fence(struct pvk_context *ctx, VkFence fence, uint64_t serial);

/* The guest saw `fence` signalled (vkWaitForFences for all of it,
 * vkGetFenceStatus): the submission it tracks, if any, is done. */
void pvk_lifetime_fence_signalled(struct pvk_context *ctx, struct pvk_device *dev, VkFence fence);

/* vkResetFences of the guest's fences (also the fence-resource reset):
 * observes or waits for the submissions they track, then resets them.
 * Returns the host's result; the context is lost when a wait gave up. */
VkResult pvk_lifetime_reset_fences(struct pvk_context *ctx, struct pvk_device *dev, uint32_t count,
                                   const VkFence *fences, const char *what);

/* Polls the pending fences and runs the deferred calls that are due. */
void pvk_lifetime_poll(struct pvk_context *ctx, struct pvk_device *dev);
/* The poll before a submission: only when it can free something (deferred
 * calls, a long backlog, or no spare fence left when `own_fence`: the
 * submission takes one of the renderer's), so that a stream of
 * submissions does not query a fence each. */
void pvk_lifetime_poll_before_submit(struct pvk_context *ctx, struct pvk_device *dev,
                                     bool own_fence);

/* Whether submission `serial` is known finished (no driver call); a
 * serial of UINT64_MAX (everything submitted so far) is not. */
bool pvk_lifetime_serial_done(const struct pvk_device *dev, uint64_t serial);

/* Waits until every submission up to `serial` has finished. False (and the
 * context lost) when the context is torn down or the device lost first, or
 * when the work outlasts ctx->firewall_wait_limit_ns (the guest should have
 * waited for it; the host does not wait on its behalf for ever); `what`
 * names the command for the log. */
bool pvk_lifetime_wait(struct pvk_context *ctx, struct pvk_device *dev, uint64_t serial,
                       const char *what);

/* Destroys (type, handle) now when nothing is pending, else once everything
 * submitted so far has finished. `pool` is the host pool of a command
 * buffer or descriptor set, `mem` the state of device memory. */
void pvk_lifetime_destroy(struct pvk_context *ctx, struct pvk_device *dev, VkObjectType type,
                          uint64_t handle, uint64_t pool, struct pvk_device_memory *mem);

/* Waits until every tracked submission of `dev` has finished, until
 * deadline_ns (CLOCK_MONOTONIC, pvk_now_ns) or, when `cancellable`, until
 * the context's transport is cancelled or the context lost. True when
 * nothing tracked is pending (or the device is lost). Submissions that
 * went untracked (no fence could be created) are not covered: device
 * teardown checks its queues besides (pvk_device.c). */
bool pvk_lifetime_wait_idle(struct pvk_context *ctx, struct pvk_device *dev, uint64_t deadline_ns,
                            bool cancellable);

/* Teardown, with the device idle: runs every deferred call and destroys
 * the tracking fences. */
void pvk_lifetime_finish(struct pvk_context *ctx, struct pvk_device *dev);

#endif
