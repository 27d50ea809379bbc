#include "fft.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VKFFT_BACKEND 0 /* Vulkan */
#include "vkFFT_compat.h"

struct pb_fft {
   struct vkb *b;
   uint32_t n, batch, round_trips;
   uint64_t bytes;
   struct vkb_buffer data;    /* device-local, the transforms' buffer */
   struct vkb_buffer staging; /* host-visible, upload and read-back */
   VkCommandBuffer cmd;       /* forward + inverse */
   VkCommandBuffer copy_back;
   VkFFTApplication app;
   int app_ready;
};

/* a deterministic signal with amplitude at most 1 */
static float
input_value(uint64_t i)
{
   return (float)((i * 2654435761u) % 2001u) / 1000.0f - 1.0f;
}

static VkResult
record_copy(struct pb_fft *f, VkCommandBuffer *cmd, const struct vkb_buffer *from,
            const struct vkb_buffer *to)
{
   VkResult res = vkb_cmd_alloc(f->b, cmd);
   if (res == VK_SUCCESS)
      res = vkb_cmd_begin(f->b, *cmd, false);
   if (res != VK_SUCCESS)
      return res;
   const VkBufferCopy region = { .size = f->bytes };
   vkCmdCopyBuffer(*cmd, from->buf, to->buf, 1, &region);
   if (to == &f->staging)
      vkb_cmd_host_read_barrier(*cmd);
   return vkb_cmd_end(f->b, *cmd);
}

static VkResult
upload(struct pb_fft *f)
{
   float *p = f->staging.map;
   for (uint64_t i = 0; i < f->bytes / sizeof(float); i++)
      p[i] = input_value(i);
   VkCommandBuffer up;
   VkResult res = record_copy(f, &up, &f->staging, &f->data);
   if (res == VK_SUCCESS)
      res = vkb_submit_wait(f->b, up, UINT64_MAX);
   vkFreeCommandBuffers(f->b->dev, f->b->pool, 1, &up);
   return res;
}

/* round_trips times forward, then the inverse, each after the previous
 * writes to the data */
static int
record_transforms(struct pb_fft *f, char *why, size_t len)
{
   VkResult res = vkb_cmd_alloc(f->b, &f->cmd);
   if (res == VK_SUCCESS)
      res = vkb_cmd_begin(f->b, f->cmd, false);
   if (res != VK_SUCCESS) {
      snprintf(why, len, "%s", f->b->err);
      return -1;
   }
   const VkPipelineStageFlags cs = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT;
   const VkAccessFlags rw = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
   VkFFTLaunchParams lp = { .commandBuffer = &f->cmd };
   vkb_cmd_memory_barrier(f->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT | cs,
                          VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT, cs, rw);
   VkFFTResult r = VKFFT_SUCCESS;
   for (uint32_t i = 0; i < f->round_trips && r == VKFFT_SUCCESS; i++) {
      if (i)
         vkb_cmd_memory_barrier(f->cmd, cs, VK_ACCESS_SHADER_WRITE_BIT, cs, rw);
      r = VkFFTAppend(&f->app, -1, &lp);
      if (r == VKFFT_SUCCESS) {
         vkb_cmd_memory_barrier(f->cmd, cs, VK_ACCESS_SHADER_WRITE_BIT, cs, rw);
         r = VkFFTAppend(&f->app, 1, &lp);
      }
   }
   if (r != VKFFT_SUCCESS) {
      snprintf(why, len, "VkFFTAppend: VkFFTResult %d", (int)r);
      return -1;
   }
   vkb_cmd_memory_barrier(f->cmd, cs, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_READ_BIT);
   if (vkb_cmd_end(f->b, f->cmd) != VK_SUCCESS) {
      snprintf(why, len, "%s", f->b->err);
      return -1;
   }
   return 0;
}

static int
plan(struct pb_fft *f, char *why, size_t len)
{
   VkFFTConfiguration conf = { 0 };
   conf.FFTdim = 1;
   conf.size[0] = f->n;
   conf.numberBatches = f->batch;
   conf.normalize = 1; /* the inverse divides by n: a round trip is the identity */
   conf.physicalDevice = &f->b->pdev;
   conf.device = &f->b->dev;
   conf.queue = &f->b->queue;
   conf.commandPool = &f->b->pool;
   conf.fence = &f->b->fence;
   conf.buffer = &f->data.buf;
   conf.bufferSize = &f->bytes;
   const VkFFTResult r = initializeVkFFT(&f->app, conf);
   if (r != VKFFT_SUCCESS) {
      snprintf(why, len, "initializeVkFFT: VkFFTResult %d", (int)r);
      return -1;
   }
   f->app_ready = 1;
   return 0;
}

int
pb_fft_create(struct vkb *b, uint32_t n, uint32_t batch, uint32_t round_trips, struct pb_fft **out,
              char *why, size_t len)
{
   struct pb_fft *f = calloc(1, sizeof(*f));
   if (!f) {
      snprintf(why, len, "out of memory");
      return -1;
   }
   f->b = b;
   f->n = n;
   f->batch = batch;
   f->round_trips = round_trips;
   f->bytes = (uint64_t)n * batch * 2 * sizeof(float);
   const VkBufferUsageFlags usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                    VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                    VK_BUFFER_USAGE_TRANSFER_DST_BIT;
   int rc = -1;
   if (vkb_buffer_create(b, f->bytes, usage, false, &f->data) != VK_SUCCESS ||
       vkb_buffer_create(b, f->bytes, usage, true, &f->staging) != VK_SUCCESS ||
       upload(f) != VK_SUCCESS ||
       record_copy(f, &f->copy_back, &f->data, &f->staging) != VK_SUCCESS)
      snprintf(why, len, "%s", b->err);
   else if (!plan(f, why, len) && !record_transforms(f, why, len))
      rc = 0;
   if (rc) {
      pb_fft_destroy(f);
      f = NULL;
   }
   *out = f;
   return rc;
}

double
pb_fft_max_error(struct pb_fft *f)
{
   if (vkb_submit_wait(f->b, f->copy_back, UINT64_MAX) != VK_SUCCESS)
      return -1.0;
   const float *p = f->staging.map;
   double worst = 0;
   for (uint64_t i = 0; i < f->bytes / sizeof(float); i++) {
      const double d = fabs((double)p[i] - (double)input_value(i));
      if (!(d <= worst)) /* NaN counts as the worst */
         worst = isnan(d) ? INFINITY : d;
   }
   return worst;
}

void
pb_fft_destroy(struct pb_fft *f)
{
   if (!f)
      return;
   if (f->b->dev)
      vkDeviceWaitIdle(f->b->dev);
   if (f->app_ready)
      deleteVkFFT(&f->app);
   VkCommandBuffer cmds[2] = { f->cmd, f->copy_back };
   for (unsigned i = 0; i < 2; i++) {
      if (cmds[i])
         vkFreeCommandBuffers(f->b->dev, f->b->pool, 1, &cmds[i]);
   }
   vkb_buffer_destroy(f->b, &f->data);
   vkb_buffer_destroy(f->b, &f->staging);
   free(f);
}

VkCommandBuffer
pb_fft_cmd(const struct pb_fft *f)
{
   return f->cmd;
}
