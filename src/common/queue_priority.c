#include "common/queue_priority.h"

#include <errno.h>
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
