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

#include <vulkan/vulkan.h>

struct pvk_context;
struct pvk_device;

/* The device extension the renderer offers for it (the host's own is not
 * enabled: the import never reaches the host driver). */
#define PVK_SEMAPHORE_SYNC_FD_EXTENSION VK_KHR_EXTERNAL_SEMAPHORE_FD_EXTENSION_NAME

/* Signals binary semaphore `semaphore` (a host handle of dev) as an import
 * of resource `resource_id` would; only id 0 (an already-signalled sync
 * file) exists. A timeline semaphore, an unknown handle or another id
 * marks the context lost. */
void pvk_semaphore_import_signalled(struct pvk_context *ctx, struct pvk_device *dev,
                                    VkSemaphore semaphore, uint32_t resource_id);

#endif
