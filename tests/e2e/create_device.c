/*
 * A guest that creates an instance and a device (optionally with one more
 * device extension), submits an empty batch with a fence, waits for it and
 * destroys everything: what an application does when it starts. Exit 0
 * when every call succeeded; 2 when the extension is not offered.
 *
 * usage: create_device [--ext NAME]
 * With PV_E2E_TIMES set it prints how long each create and destroy took
 * (ms), for measuring what the guest waits for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vulkan/vulkan.h>

#define TRY(call)                                                             \
   do {                                                                       \
      const VkResult r_ = (call);                                             \
      if (r_ != VK_SUCCESS) {                                                 \
         fprintf(stderr, "create_device: %s: VkResult %d\n", #call, (int)r_); \
         return 1;                                                            \
      }                                                                       \
   } while (0)

static double
now_ms(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* create instance, create device, destroy device, destroy instance */
static double times[4];

static int
has_ext(VkPhysicalDevice pd, const char *name)
{
   VkExtensionProperties props[512];
   uint32_t n = 512;
   if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, props) < 0)
      return 0;
   for (uint32_t i = 0; i < n; i++) {
      if (!strcmp(props[i].extensionName, name))
         return 1;
   }
   return 0;
}

static int
run(VkInstance inst, const char *ext)
{
   VkPhysicalDevice pd;
   uint32_t count = 1;
   const VkResult er = vkEnumeratePhysicalDevices(inst, &count, &pd);
   if ((er != VK_SUCCESS && er != VK_INCOMPLETE) || !count) {
      fprintf(stderr, "create_device: no physical device\n");
      return 1;
   }
   if (ext && !has_ext(pd, ext)) {
      fprintf(stderr, "create_device: %s not offered\n", ext);
      return 2;
   }
   const float prio = 1.0f;
   const VkDeviceQueueCreateInfo queue = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .queueCount = 1,
      .pQueuePriorities = &prio,
   };
   const VkDeviceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &queue,
      .enabledExtensionCount = ext ? 1 : 0,
      .ppEnabledExtensionNames = ext ? &ext : NULL,
   };
   VkDevice dev;
   double t = now_ms();
   TRY(vkCreateDevice(pd, &info, NULL, &dev));
   times[1] = now_ms() - t;
   VkQueue q;
   vkGetDeviceQueue(dev, 0, 0, &q);
   const VkFenceCreateInfo fi = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence;
   TRY(vkCreateFence(dev, &fi, NULL, &fence));
   TRY(vkQueueSubmit(q, 0, NULL, fence));
   TRY(vkWaitForFences(dev, 1, &fence, VK_TRUE, 5000000000ull));
   vkDestroyFence(dev, fence, NULL);
   TRY(vkDeviceWaitIdle(dev));
   t = now_ms();
   vkDestroyDevice(dev, NULL);
   times[2] = now_ms() - t;
   return 0;
}

int
main(int argc, char **argv)
{
   const char *ext = NULL;
   if (argc == 3 && !strcmp(argv[1], "--ext"))
      ext = argv[2];
   else if (argc != 1) {
      fprintf(stderr, "usage: create_device [--ext NAME]\n");
      return 1;
   }
   const VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .pApplicationName = "pv-e2e-create-device",
      .apiVersion = VK_API_VERSION_1_1,
   };
   const VkInstanceCreateInfo ici = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
   };
   VkInstance inst;
   double t = now_ms();
   TRY(vkCreateInstance(&ici, NULL, &inst));
   times[0] = now_ms() - t;
   const int ret = run(inst, ext);
   t = now_ms();
   vkDestroyInstance(inst, NULL);
   times[3] = now_ms() - t;
   if (getenv("PV_E2E_TIMES"))
      printf("ms: create instance %.2f, device %.2f; destroy device %.2f, instance %.2f\n",
             times[0], times[1], times[2], times[3]);
   if (!ret)
      printf("create_device%s%s: ok\n", ext ? " --ext " : "", ext ? ext : "");
   return ret;
}
