#include "common/device_policy.h"

#include <errno.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "pearvisor/pearvisor.h"

static const struct {
   const char *name;
   uint32_t priority;
} priorities[] = {
   { "default", PV_QUEUE_PRIORITY_DEFAULT },   { "low", PV_QUEUE_PRIORITY_LOW },
   { "medium", PV_QUEUE_PRIORITY_MEDIUM },     { "high", PV_QUEUE_PRIORITY_HIGH },
   { "realtime", PV_QUEUE_PRIORITY_REALTIME },
};

#define PRIORITY_COUNT (sizeof(priorities) / sizeof(priorities[0]))

int
pv_queue_priority_from_name(const char *name, uint32_t *priority)
{
   for (size_t i = 0; name && i < PRIORITY_COUNT; i++) {
      if (!strcmp(name, priorities[i].name)) {
         *priority = priorities[i].priority;
         return 0;
      }
   }
   return -EINVAL;
}

bool
pv_queue_priority_known(uint32_t priority)
{
   for (size_t i = 0; i < PRIORITY_COUNT; i++) {
      if (priorities[i].priority == priority)
         return true;
   }
   return false;
}

bool
pv_device_policy_shows_gpu(uint64_t gpu_mask, uint32_t host_index)
{
   return !gpu_mask || (host_index < 64 && (gpu_mask >> host_index & 1));
}

int
pv_gpu_mask_from_list(const char *list, uint64_t *gpu_mask)
{
   uint64_t mask = 0;
   const char *p = list;
   while (p && *p) {
      char *end;
      errno = 0;
      const unsigned long index = strtoul(p, &end, 10);
      if (errno || end == p || *p == '-' || *p == '+' || index >= 64 || (*end && *end != ','))
         return -EINVAL;
      mask |= 1ull << index;
      p = *end ? end + 1 : end;
      if (*end && !*p)
         return -EINVAL; /* a trailing comma */
   }
   if (!mask)
      return -EINVAL;
   *gpu_mask = mask;
   return 0;
}
