/*
 * Diagnostic only: holds one Vulkan device, idle, with a queue global
 * priority, until it is killed. Tells whether other processes' idle
 * devices of a class slow a busy client of that class natively, as
 * PearVisor's pre-started processes did (bench/results/h200-2026-12-02).
 *
 * usage: pv-idle-device low|medium|high|realtime|none
 * Prints "ready" once the device exists.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vkutil.h"

int
main(int argc, char **argv)
{
   static const struct {
      const char *name;
      VkQueueGlobalPriorityKHR priority;
   } names[] = {
      { "none", 0 },
      { "low", VK_QUEUE_GLOBAL_PRIORITY_LOW_KHR },
      { "medium", VK_QUEUE_GLOBAL_PRIORITY_MEDIUM_KHR },
      { "high", VK_QUEUE_GLOBAL_PRIORITY_HIGH_KHR },
      { "realtime", VK_QUEUE_GLOBAL_PRIORITY_REALTIME_KHR },
   };
   struct vkb b = { 0 };
   size_t i = 0;
   while (argc == 2 && i < sizeof(names) / sizeof(names[0]) && strcmp(argv[1], names[i].name))
      i++;
   if (argc != 2 || i == sizeof(names) / sizeof(names[0])) {
      fprintf(stderr, "usage: pv-idle-device low|medium|high|realtime|none\n");
      return 2;
   }
   b.priority = names[i].priority;
   if (vkb_init(&b) != VK_SUCCESS) {
      fprintf(stderr, "pv-idle-device: %s\n", b.err);
      return 1;
   }
   printf("ready\n");
   fflush(stdout);
   pause();
   vkb_fini(&b);
   return 0;
}
