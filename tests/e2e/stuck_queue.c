/*
 * A guest that leaves its queue stuck, with valid Vulkan: it submits a
 * batch that waits for value 1 of a timeline semaphore that nothing will
 * ever signal, then exits without tearing anything down. The host's
 * context teardown then waits for a device that never goes idle: the
 * server's teardown watchdog must kill that client process.
 * Prints "submitted" once the batch is queued. Exit status 0 on success.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

#define CHECK(call)                                                       \
   do {                                                                   \
      VkResult r_ = (call);                                               \
      if (r_ != VK_SUCCESS) {                                             \
         fprintf(stderr, "stuck_queue: %s failed: %d\n", #call, (int)r_); \
         exit(1);                                                         \
      }                                                                   \
   } while (0)

int
main(void)
{
   const VkApplicationInfo app = { .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                                   .apiVersion = VK_API_VERSION_1_2 };
   const VkInstanceCreateInfo ici = { .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                      .pApplicationInfo = &app };
   VkInstance instance;
   CHECK(vkCreateInstance(&ici, NULL, &instance));
   uint32_t n = 1;
   VkPhysicalDevice pd;
   VkResult r = vkEnumeratePhysicalDevices(instance, &n, &pd);
   if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || n == 0) {
      fprintf(stderr, "stuck_queue: no device\n");
      return 1;
   }
   const float prio = 1.0f;
   const VkDeviceQueueCreateInfo qci = { .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                         .queueFamilyIndex = 0,
                                         .queueCount = 1,
                                         .pQueuePriorities = &prio };
   VkPhysicalDeviceVulkan12Features f12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES, .timelineSemaphore = VK_TRUE
   };
   const VkDeviceCreateInfo dci = { .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                                    .pNext = &f12,
                                    .queueCreateInfoCount = 1,
                                    .pQueueCreateInfos = &qci };
   VkDevice dev;
   CHECK(vkCreateDevice(pd, &dci, NULL, &dev));
   VkQueue queue;
   vkGetDeviceQueue(dev, 0, 0, &queue);

   const VkSemaphoreTypeCreateInfo type = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                            .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE };
   const VkSemaphoreCreateInfo sci = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
                                       .pNext = &type };
   VkSemaphore sem;
   CHECK(vkCreateSemaphore(dev, &sci, NULL, &sem));
   /* wait-before-signal on a timeline is valid usage */
   const uint64_t value = 1;
   const VkTimelineSemaphoreSubmitInfo tsi = { .sType =
                                                  VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
                                               .waitSemaphoreValueCount = 1,
                                               .pWaitSemaphoreValues = &value };
   const VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
   const VkSubmitInfo si = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                             .pNext = &tsi,
                             .waitSemaphoreCount = 1,
                             .pWaitSemaphores = &sem,
                             .pWaitDstStageMask = &stage };
   CHECK(vkQueueSubmit(queue, 1, &si, VK_NULL_HANDLE));
   /* the submission reaches the host through a ring (Mesa 22.3 answers
    * this query from the host, Mesa 25 may answer it itself): give the
    * host time to consume it */
   CHECK(vkGetSemaphoreCounterValue(dev, sem, &(uint64_t){ 0 }));
   sleep(1);
   printf("submitted\n");
   fflush(stdout);
   /* leave as a crashed guest would: nothing torn down */
   _exit(0);
}
