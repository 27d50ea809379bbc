/*
 * Names of the host queue priorities (PV_QUEUE_PRIORITY_*, pearvisor.h),
 * shared by the renderer and the programs that embed it.
 */
#ifndef PV_COMMON_QUEUE_PRIORITY_H
#define PV_COMMON_QUEUE_PRIORITY_H

#include <stdbool.h>
#include <stdint.h>

/* Whether priority is one of the PV_QUEUE_PRIORITY_* values. */
bool pv_queue_priority_known(uint32_t priority);

#endif
