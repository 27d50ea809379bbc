/*
 * The device policy's values (struct pv_device_policy, pearvisor.h):
 * parsed from the embedding programs' options, checked by the renderer.
 */
#ifndef PV_COMMON_DEVICE_POLICY_H
#define PV_COMMON_DEVICE_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* Whether priority is one of the PV_QUEUE_PRIORITY_* values. */
bool pv_queue_priority_known(uint32_t priority);

/* Whether the policy lets a guest see the host's physical device
 * host_index (in the host's enumeration order). */
bool pv_device_policy_shows_gpu(uint64_t gpu_mask, uint32_t host_index);

#endif
