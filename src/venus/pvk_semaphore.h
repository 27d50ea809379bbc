/*
 * Semaphores: sync-file import for the guest driver.
 *
 * Mesa's venus driver enables VK_KHR_synchronization2 (and with it Vulkan
 * 1.3) only when the renderer can import a sync file into a binary
 * semaphore: when an application imports one, the guest waits for it on its
 * side and then tells the host, with vkImportSemaphoreResource*MESA and
 * resource id 0, that the semaphore's payload is now signalled. The host
 * driver need not support sync files for that: the renderer signals the
 * semaphore with an empty queue submission, which is what a temporary
 * import of an already-signalled sync file amounts to for the next wait.
 */
#ifndef PV_VENUS_PVK_SEMAPHORE_H
#define PV_VENUS_PVK_SEMAPHORE_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

struct pvk_context;
struct pvk_device;

/* The device extension the renderer offers for it (the host's own is not
 * enabled: the import never reaches the host driver). */
#define PVK_SEMAPHORE_SYNC_FD_EXTENSION VK_KHR_EXTERNAL_SEMAPHORE_FD_EXTENSION_NAME

/* Whether host handle `semaphore` names a timeline semaphore of `dev`.
 * vkGetSemaphoreCounterValue, vkSignalSemaphore and vkWaitSemaphores take
 * only those (VUID-vkGetSemaphoreCounterValue-semaphore-03255,
 * VUID-VkSemaphoreSignalInfo-semaphore-03257,
 * VUID-VkSemaphoreWaitInfo-pSemaphores-03256): given a binary one,
 * lavapipe called a NULL function. */
bool pvk_semaphore_is_timeline(struct pvk_context *ctx, struct pvk_device *dev,
                               VkSemaphore semaphore);

/* Signals binary semaphore `semaphore` (a host handle of dev) as an import
 * of resource `resource_id` would; only id 0 (an already-signalled sync
 * file) exists. A timeline semaphore, an unknown handle or another id
 * marks the context lost. */
void pvk_semaphore_import_signalled(struct pvk_context *ctx, struct pvk_device *dev,
                                    VkSemaphore semaphore, uint32_t resource_id);

/* Binary semaphore state for the firewall: a queue wait on a binary
 * semaphore needs a signal operation submitted before it
 * (VUID-vkQueueSubmit-pWaitSemaphores-03238); some drivers (lavapipe)
 * block in vkQueueSubmit forever without one. A submission's binary waits
 * and signals are replayed, batch by batch, on the semaphores' recorded
 * state: pvk_semaphore_submit_begin checks and applies them and returns an
 * undo log (NULL with *ok false: refused, logged, context lost);
 * pvk_semaphore_submit_end keeps the new state when the driver took the
 * submission and restores the old one when it did not. A pending binary
 * semaphore remembers the serial of the submission that signals it
 * (pvk_lifetime.h): where the host driver's submission would wait for that
 * signal with no bound (lavapipe), pvk_semaphore_submit_begin waits for it
 * first, within the firewall's wait limit, and refuses a wait on a signal
 * made earlier in the same call (the caller submits batch by batch on
 * such a driver; vkQueueBindSparse does not). Timeline
 * semaphores are not tracked: wait-before-signal is valid for them, and a
 * queue stuck on one is bounded by the context's teardown. */
struct pvk_semaphore_undo;

enum pvk_semaphore_op_kind {
   PVK_SEMAPHORE_WAIT,
   PVK_SEMAPHORE_SIGNAL,
};

struct pvk_semaphore_op {
   VkSemaphore semaphore;
   enum pvk_semaphore_op_kind kind;
};

/* `ops` in submission order (batch by batch, waits before signals). */
struct pvk_semaphore_undo *pvk_semaphore_submit_begin(struct pvk_context *ctx,
                                                      struct pvk_device *dev,
                                                      const struct pvk_semaphore_op *ops,
                                                      uint32_t count, const char *command,
                                                      bool *ok);
/* `serial`: the submission's (pvk_lifetime_end_submit), 0 untracked. */
void pvk_semaphore_submit_end(struct pvk_semaphore_undo *undo, bool submitted, uint64_t serial);

#endif
