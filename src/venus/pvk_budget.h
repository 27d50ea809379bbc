/*
 * Which budget pool (pearvisor.h's struct pv_memory_pool) a device memory
 * allocation is charged to: where its memory really lives.
 */
#ifndef PVK_BUDGET_H
#define PVK_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include <vulkan/vulkan.h>

#include "pearvisor/pearvisor.h"

/* The pool of an allocation of memory type type_index (< memoryTypeCount)
 * on the host's physical device gpu_index (its enumeration order) of
 * device_type: the GPU's pool for a device-local heap of a discrete GPU,
 * with heap_size the sum of its device-local heaps; RAM for anything else
 * (CPU and integrated devices share RAM, non-device-local heaps are RAM)
 * and for memory PearVisor backs with its own shared memory
 * (ram_backed: host-visible memory imported from a memfd). */
void pvk_memory_pool_of(VkPhysicalDeviceType device_type, uint32_t gpu_index,
                        const VkPhysicalDeviceMemoryProperties *props, uint32_t type_index,
                        bool ram_backed, struct pv_memory_pool *out);

#endif
