/*
 * Submission-tracking micro-benchmark (not a test): what the valid-usage
 * firewall's ways of knowing when a submission has finished (pvk_lifetime.h)
 * cost on the host driver, one empty submission waited for each time:
 *
 *   A  the guest's fence plus an empty submission carrying a tracking fence
 *      (the firewall before issue 12), waits, poll and resets
 *   B  the guest's fence alone (the firewall now, when the guest passes one)
 *   C  no guest fence: a tracking fence on the submission, poll and reset
 *   D  no guest fence: a timeline semaphore signal appended instead, its
 *      counter read (the alternative considered for C)
 *
 * and one vkGetFenceStatus / vkGetSemaphoreCounterValue on their own.
 * Medians over the rounds, in µs.
 *
 *   build/bench/micro/bench_submit_tracking [rounds]
 *
 * Runs on the default Vulkan driver (VK_ICD_FILENAMES picks another).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <vulkan/vulkan.h>

#define CHECK_VK(x)                                       \
   do {                                                   \
      VkResult r_ = (x);                                  \
      if (r_ != VK_SUCCESS) {                             \
         fprintf(stderr, "%s failed: %d\n", #x, (int)r_); \
         exit(1);                                         \
      }                                                   \
   } while (0)

static double
now_us(void)
{
   struct timespec t;
   clock_gettime(CLOCK_MONOTONIC, &t);
   return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
   const double x = *(const double *)a, y = *(const double *)b;
   return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
   qsort(v, (size_t)n, sizeof(*v), cmp_double);
   return v[n / 2];
}

struct env {
   VkInstance instance;
   VkDevice dev;
   VkQueue queue;
   VkFence guest, track;
   VkSemaphore timeline;
   uint64_t value;
};

static void
env_init(struct env *e)
{
   const VkApplicationInfo app = { .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                                   .apiVersion = VK_API_VERSION_1_2 };
   const VkInstanceCreateInfo ici = { .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                      .pApplicationInfo = &app };
   CHECK_VK(vkCreateInstance(&ici, NULL, &e->instance));
   uint32_t n = 1;
   VkPhysicalDevice pd;
   if (vkEnumeratePhysicalDevices(e->instance, &n, &pd) < 0 || !n) {
      fprintf(stderr, "no Vulkan device\n");
      exit(1);
   }
   const float prio = 1.0f;
   const VkDeviceQueueCreateInfo q = { .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                       .queueCount = 1,
                                       .pQueuePriorities = &prio };
   VkPhysicalDeviceVulkan12Features f12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
      .timelineSemaphore = VK_TRUE,
   };
   const VkDeviceCreateInfo dci = { .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                                    .pNext = &f12,
                                    .queueCreateInfoCount = 1,
                                    .pQueueCreateInfos = &q };
   CHECK_VK(vkCreateDevice(pd, &dci, NULL, &e->dev));
   vkGetDeviceQueue(e->dev, 0, 0, &e->queue);
   const VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   CHECK_VK(vkCreateFence(e->dev, &fci, NULL, &e->guest));
   CHECK_VK(vkCreateFence(e->dev, &fci, NULL, &e->track));
   const VkSemaphoreTypeCreateInfo sti = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                           .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE };
   const VkSemaphoreCreateInfo sci = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
                                       .pNext = &sti };
   CHECK_VK(vkCreateSemaphore(e->dev, &sci, NULL, &e->timeline));
}

static const VkSubmitInfo empty_submit = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO };

static void
wait_fence(struct env *e, VkFence f)
{
   CHECK_VK(vkWaitForFences(e->dev, 1, &f, VK_TRUE, UINT64_MAX));
}

static void
run_a(struct env *e)
{
   CHECK_VK(vkQueueSubmit(e->queue, 1, &empty_submit, e->guest));
   CHECK_VK(vkQueueSubmit(e->queue, 0, NULL, e->track));
   wait_fence(e, e->guest);
   wait_fence(e, e->track);
   CHECK_VK(vkGetFenceStatus(e->dev, e->track));
   CHECK_VK(vkResetFences(e->dev, 1, &e->track));
   CHECK_VK(vkResetFences(e->dev, 1, &e->guest));
}

static void
run_b(struct env *e)
{
   CHECK_VK(vkQueueSubmit(e->queue, 1, &empty_submit, e->guest));
   wait_fence(e, e->guest);
   CHECK_VK(vkResetFences(e->dev, 1, &e->guest));
}

static void
run_c(struct env *e)
{
   CHECK_VK(vkQueueSubmit(e->queue, 1, &empty_submit, e->track));
   wait_fence(e, e->track);
   CHECK_VK(vkGetFenceStatus(e->dev, e->track));
   CHECK_VK(vkResetFences(e->dev, 1, &e->track));
}

static void
run_d(struct env *e)
{
   const uint64_t value = ++e->value;
   const VkTimelineSemaphoreSubmitInfo tsi = {
      .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
      .signalSemaphoreValueCount = 1,
      .pSignalSemaphoreValues = &value,
   };
   const VkSubmitInfo si = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                             .pNext = &tsi,
                             .signalSemaphoreCount = 1,
                             .pSignalSemaphores = &e->timeline };
   CHECK_VK(vkQueueSubmit(e->queue, 1, &si, VK_NULL_HANDLE));
   const VkSemaphoreWaitInfo wi = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
                                    .semaphoreCount = 1,
                                    .pSemaphores = &e->timeline,
                                    .pValues = &value };
   CHECK_VK(vkWaitSemaphores(e->dev, &wi, UINT64_MAX));
   uint64_t got;
   CHECK_VK(vkGetSemaphoreCounterValue(e->dev, e->timeline, &got));
}

int
main(int argc, char **argv)
{
   const int rounds = argc > 1 ? atoi(argv[1]) : 3000;
   if (rounds < 1)
      return 2;
   struct env e = { 0 };
   env_init(&e);
   void (*const runs[4])(struct env *) = { run_a, run_b, run_c, run_d };
   double *t[4];
   for (int k = 0; k < 4; k++) {
      t[k] = calloc((size_t)rounds, sizeof(double));
      if (!t[k])
         return 1;
   }
   /* interleaved, so that a busy host affects all four alike */
   for (int i = 0; i < rounds; i++) {
      for (int k = 0; k < 4; k++) {
         const double t0 = now_us();
         runs[k](&e);
         t[k][i] = now_us() - t0;
      }
   }
   printf("median us per submission: A guest fence + empty tracking submission %.2f, "
          "B guest fence alone %.2f, C tracking fence %.2f, D timeline signal %.2f\n",
          median(t[0], rounds), median(t[1], rounds), median(t[2], rounds), median(t[3], rounds));
   for (int i = 0; i < rounds; i++) {
      double t0 = now_us();
      for (int j = 0; j < 100; j++)
         vkGetFenceStatus(e.dev, e.guest);
      t[0][i] = (now_us() - t0) * 10.0; /* ns per call */
      uint64_t got;
      t0 = now_us();
      for (int j = 0; j < 100; j++)
         vkGetSemaphoreCounterValue(e.dev, e.timeline, &got);
      t[1][i] = (now_us() - t0) * 10.0;
   }
   printf("median ns per call: vkGetFenceStatus %.0f, vkGetSemaphoreCounterValue %.0f\n",
          median(t[0], rounds), median(t[1], rounds));
   vkDeviceWaitIdle(e.dev);
   vkDestroySemaphore(e.dev, e.timeline, NULL);
   vkDestroyFence(e.dev, e.guest, NULL);
   vkDestroyFence(e.dev, e.track, NULL);
   vkDestroyDevice(e.dev, NULL);
   vkDestroyInstance(e.instance, NULL);
   for (int k = 0; k < 4; k++)
      free(t[k]);
   return 0;
}
