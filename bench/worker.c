#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fft.h"
#include "vkutil.h"
#include "compute_comp_spv.h"
#include "draw_frag_spv.h"
#include "draw_vert_spv.h"
#include "draw_push_vert_spv.h"
#include "draw_bind_vert_spv.h"
#include "draw_bind_frag_spv.h"
#include "mlstep_comp_spv.h"

#define FRAME_W 1920u
#define FRAME_H 1080u
#define GRID_PX 400u /* draws target: 100x100 cells of 4x4 pixels */
#define GRID_CELLS 10000u
#define CELL_PX 4u
#define ML_STEPS 1000u /* dispatches in the mlchain command buffer */
#define ML_ELEMS 4096u /* elements each dispatch updates */
#define WAIT_NS (30ull * 1000 * 1000 * 1000)

/* Worker state: the report channel, sample buffer and the Vulkan objects. */
struct wk {
   const struct pb_worker_args *args;
   struct vkb vk;
   long uss_start; /* private memory before the driver was loaded, KiB */
   double *samples;
   size_t nsamples, cap;
};

/* ---- reporting ---- */

static void rep(struct wk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
rep(struct wk *w, const char *fmt, ...)
{
   char line[512];
   va_list ap;
   va_start(ap, fmt);
   int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
   va_end(ap);
   if (n < 0)
      return;
   if ((size_t)n > sizeof(line) - 2)
      n = (int)sizeof(line) - 2;
   /* One write per line: the parent reads lines, never torn ones. */
   for (int i = 0; i < n; i++) {
      if (line[i] == '\n')
         line[i] = ' ';
   }
   line[n++] = '\n';
   ssize_t off = 0;
   while (off < n) {
      ssize_t r = write(w->args->report_fd, line + off, (size_t)(n - off));
      if (r < 0 && errno == EINTR)
         continue;
      if (r <= 0)
         return;
      off += r;
   }
}

static int
rep_vk_error(struct wk *w)
{
   rep(w, "error %s", w->vk.err[0] ? w->vk.err : "unknown Vulkan failure");
   return 1;
}

static double
now_us(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
push_sample(struct wk *w, double v)
{
   if (w->nsamples == w->cap) {
      size_t cap = w->cap ? w->cap * 2 : 256;
      double *s = realloc(w->samples, cap * sizeof(*s));
      if (!s)
         return -ENOMEM;
      w->samples = s;
      w->cap = cap;
   }
   w->samples[w->nsamples++] = v;
   return 0;
}

/* Writes samples of one metric. */
static void
rep_samples(struct wk *w, const char *id, const double *v, size_t n)
{
   for (size_t i = 0; i < n; i++)
      rep(w, "sample %s %.3f", id, v[i]);
}

/* Writes and clears the buffered samples of one metric. */
static void
flush_samples(struct wk *w, const char *id)
{
   rep_samples(w, id, w->samples, w->nsamples);
   w->nsamples = 0;
}

static bool
wait_go(struct wk *w)
{
   rep(w, "ready");
   if (w->args->go_fd < 0)
      return true;
   char c;
   for (;;) {
      ssize_t r = read(w->args->go_fd, &c, 1);
      if (r == 1)
         return true;
      if (r < 0 && errno == EINTR)
         continue;
      /* Parent gone or done with us: leave without the driver's exit-time
       * clean-up, which can block on a server that dropped us. */
      _exit(1);
   }
}

long
pb_proc_uss_kb(int pid)
{
   char path[64];
   if (pid > 0)
      snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
   else
      snprintf(path, sizeof(path), "/proc/self/smaps_rollup");
   FILE *f = fopen(path, "re");
   if (!f)
      return -errno;
   char line[256];
   long kb = 0;
   int seen = 0;
   while (fgets(line, sizeof(line), f)) {
      if (!strncmp(line, "Private_Clean:", 14)) {
         kb += strtol(line + 14, NULL, 10);
         seen++;
      } else if (!strncmp(line, "Private_Dirty:", 14)) {
         kb += strtol(line + 14, NULL, 10);
         seen++;
      }
   }
   fclose(f);
   return seen == 2 ? kb : -ENOENT;
}

static int
init_vk(struct wk *w)
{
   if (vkb_init(&w->vk) != VK_SUCCESS)
      return rep_vk_error(w);
   rep(w, "info device %s", w->vk.props.deviceName);
   return 0;
}

/* ---- checks ---- */

/* Six exact colours (0/1 channels) and their BGRA8 texels as a little-endian
 * u32 (bytes B, G, R, A). */
static const float colours[6][4] = {
   { 1, 0, 0, 1 }, { 0, 1, 0, 1 }, { 0, 0, 1, 1 }, { 1, 1, 0, 1 }, { 0, 1, 1, 1 }, { 1, 0, 1, 1 },
};

static uint32_t
colour_bgra(unsigned k)
{
   const float *c = colours[k % 6];
   uint32_t r = c[0] > 0.5f ? 255 : 0, g = c[1] > 0.5f ? 255 : 0, b = c[2] > 0.5f ? 255 : 0;
   return b | g << 8 | r << 16 | 0xffu << 24;
}

static bool
check_fill(const uint32_t *px, size_t n, uint32_t want, char *why, size_t whylen)
{
   for (size_t i = 0; i < n; i++) {
      if (px[i] != want) {
         snprintf(why, whylen, "pixel %zu is 0x%08x, expected 0x%08x", i, px[i], want);
         return false;
      }
   }
   return true;
}

/* How the draws workloads draw their 100x100 grid of cells. */
enum draw_mode {
   DRAW_PLAIN, /* vkCmdDraw per cell, the cell in firstInstance */
   DRAW_PUSH,  /* vkCmdPushConstants (the cell) + vkCmdDraw per cell */
   DRAW_BIND,  /* + descriptor set, vertex buffer, scissor, vkCmdDrawIndexed per cell */
};

/* The blue channel of cell i: DRAW_BIND alternates two descriptor sets
 * ("materials") whose tint is 255 or 128. */
static uint32_t
cell_blue(enum draw_mode mode, uint32_t i)
{
   return mode == DRAW_BIND && (i & 1) ? 128u : 255u;
}

/* RGBA8 grid from the draws: cell i holds (i & 255, i >> 8, blue, 255);
 * checked at its centre and at its last pixel, which DRAW_BIND's oversized
 * quads of the next cells would overwrite without the per-draw scissor. */
static bool
check_grid(const uint32_t *px, enum draw_mode mode, char *why, size_t whylen)
{
   for (uint32_t i = 0; i < GRID_CELLS; i++) {
      for (uint32_t o = 2; o <= 3; o++) {
         uint32_t x = (i % 100) * CELL_PX + o, y = (i / 100) * CELL_PX + o;
         uint32_t want = (i & 255) | (i >> 8) << 8 | cell_blue(mode, i) << 16 | 0xffu << 24;
         uint32_t got = px[y * GRID_PX + x];
         if (got != want) {
            snprintf(why, whylen, "draw %u: pixel (%u,%u) is 0x%08x, expected 0x%08x", i, x, y, got,
                     want);
            return false;
         }
      }
   }
   return true;
}

/* ---- workloads ---- */

/* Instance + device creation and destruction: the cost of a new context,
 * back to back (create) or after pause_ms of nothing (createpaced: a
 * server that prepares contexts ahead has had time to). */
static int
create_loop(struct wk *w, const char *id, unsigned pause_ms)
{
   if (!wait_go(w))
      return 1;
   for (unsigned i = 0; i < w->args->iters; i++) {
      if (pause_ms) {
         struct timespec ts = { pause_ms / 1000, (long)(pause_ms % 1000) * 1000000L };
         nanosleep(&ts, NULL);
      }
      struct vkb b;
      memset(&b, 0, sizeof(b));
      double t0 = now_us();
      VkResult res = vkb_create_instance(&b);
      if (res == VK_SUCCESS)
         res = vkb_create_device(&b);
      bool ok = res == VK_SUCCESS && b.queue != VK_NULL_HANDLE;
      vkb_fini(&b);
      double t1 = now_us();
      if (!ok) {
         rep(w, "error iteration %u: %s", i, b.err);
         return 1;
      }
      if (i == 0)
         rep(w, "info device %s", b.props.deviceName);
      push_sample(w, (t1 - t0) / 1e3);
   }
   flush_samples(w, id);
   rep(w, "done");
   rep(w, "check ok");
   return 0;
}

static int
wl_create(struct wk *w)
{
   rep(w, "metric create ms 0 instance+device create/destroy");
   return create_loop(w, "create", 0);
}

static int
wl_createpaced(struct wk *w)
{
   rep(w, "metric createpaced ms 0 instance+device create/destroy, one every 300 ms");
   return create_loop(w, "createpaced", 300);
}

/* Image + staging buffer + one recorded command buffer per colour. */
struct frame_res {
   struct vkb_image img;
   struct vkb_buffer staging;
   VkCommandBuffer clear[6]; /* clear only */
   VkCommandBuffer frame[6]; /* clear + copy to staging */
   VkCommandBuffer readback; /* copy to staging */
};

static void
record_copy_to_staging(VkCommandBuffer cmd, const struct frame_res *f)
{
   vkb_cmd_image_barrier(cmd, f->img.image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                         VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_ACCESS_TRANSFER_WRITE_BIT,
                         VK_ACCESS_TRANSFER_READ_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_TRANSFER_BIT);
   const VkBufferImageCopy region = {
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { f->img.width, f->img.height, 1 },
   };
   vkCmdCopyImageToBuffer(cmd, f->img.image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, f->staging.buf,
                          1, &region);
   /* Back to the layout every clear expects. */
   vkb_cmd_image_barrier(cmd, f->img.image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                         VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_ACCESS_TRANSFER_READ_BIT,
                         VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_TRANSFER_BIT);
   vkb_cmd_host_read_barrier(cmd);
}

static void
record_clear(VkCommandBuffer cmd, const struct frame_res *f, unsigned k)
{
   VkClearColorValue c;
   memcpy(c.float32, colours[k], sizeof(c.float32));
   const VkImageSubresourceRange range = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 };
   vkCmdClearColorImage(cmd, f->img.image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &c, 1, &range);
}

/* 1920x1080 unless the worker was given --frame WxH (the clients workload's
 * --client-frame: hundreds of clients on a CPU driver need a tiny frame). */
static VkResult
frame_res_init(struct vkb *b, const struct pb_worker_args *a, struct frame_res *f)
{
   memset(f, 0, sizeof(*f));
   const uint32_t fw = a->frame_w ? a->frame_w : FRAME_W;
   const uint32_t fh = a->frame_h ? a->frame_h : FRAME_H;
   VkResult res =
      vkb_image_create(b, fw, fh, VK_FORMAT_B8G8R8A8_UNORM,
                       VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT, &f->img);
   if (res == VK_SUCCESS)
      res = vkb_buffer_create(b, (VkDeviceSize)fw * fh * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, true,
                              &f->staging);
   for (unsigned k = 0; k < 6 && res == VK_SUCCESS; k++) {
      res = vkb_cmd_alloc(b, &f->clear[k]);
      if (res == VK_SUCCESS)
         res = vkb_cmd_begin(b, f->clear[k], false);
      if (res != VK_SUCCESS)
         break;
      record_clear(f->clear[k], f, k);
      res = vkb_cmd_end(b, f->clear[k]);
      if (res == VK_SUCCESS)
         res = vkb_cmd_alloc(b, &f->frame[k]);
      if (res == VK_SUCCESS)
         res = vkb_cmd_begin(b, f->frame[k], false);
      if (res != VK_SUCCESS)
         break;
      record_clear(f->frame[k], f, k);
      record_copy_to_staging(f->frame[k], f);
      res = vkb_cmd_end(b, f->frame[k]);
   }
   if (res == VK_SUCCESS)
      res = vkb_cmd_alloc(b, &f->readback);
   if (res == VK_SUCCESS)
      res = vkb_cmd_begin(b, f->readback, false);
   if (res == VK_SUCCESS) {
      record_copy_to_staging(f->readback, f);
      res = vkb_cmd_end(b, f->readback);
   }
   /* Initial layout transition, once. */
   VkCommandBuffer init = VK_NULL_HANDLE;
   if (res == VK_SUCCESS)
      res = vkb_cmd_alloc(b, &init);
   if (res == VK_SUCCESS)
      res = vkb_cmd_begin(b, init, true);
   if (res == VK_SUCCESS) {
      vkb_cmd_image_barrier(init, f->img.image, VK_IMAGE_LAYOUT_UNDEFINED,
                            VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0, VK_ACCESS_TRANSFER_WRITE_BIT,
                            VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT);
      res = vkb_cmd_end(b, init);
   }
   if (res == VK_SUCCESS)
      res = vkb_submit_wait(b, init, WAIT_NS);
   if (init)
      vkFreeCommandBuffers(b->dev, b->pool, 1, &init);
   return res;
}

static void
frame_res_fini(struct vkb *b, struct frame_res *f)
{
   vkb_image_destroy(b, &f->img);
   vkb_buffer_destroy(b, &f->staging);
   /* Command buffers go with the pool. */
}

/* Reads the image back and checks every pixel has colour k. */
static bool
check_frame(struct wk *w, struct frame_res *f, unsigned k, bool copy)
{
   char why[200];
   if (copy && vkb_submit_wait(&w->vk, f->readback, WAIT_NS) != VK_SUCCESS) {
      rep(w, "check fail readback: %s", w->vk.err);
      return false;
   }
   if (!check_fill(f->staging.map, (size_t)f->img.width * f->img.height, colour_bgra(k), why,
                   sizeof(why))) {
      rep(w, "check fail colour %u: %s", k % 6, why);
      return false;
   }
   return true;
}

/* Clear loop shared by "clear" (latency) and "clientloop" (N clients). */
static int
clear_loop(struct wk *w, const char *metric, bool report_loop)
{
   struct frame_res f;
   /* From before the driver was loaded: a native client's driver is its
    * own, as a pv-vtest client process's is. */
   const long uss_before = w->uss_start;
   if (init_vk(w))
      return 1;
   if (frame_res_init(&w->vk, w->args, &f) != VK_SUCCESS)
      return rep_vk_error(w);
   rep(w, "value uss_before_kb %ld", uss_before);
   /* Warm-up: every command buffer once, untimed (first-use costs). */
   for (unsigned k = 0; k < 6; k++) {
      if (vkb_submit_wait(&w->vk, f.clear[k], WAIT_NS) != VK_SUCCESS)
         return rep_vk_error(w);
   }
   if (!wait_go(w))
      return 1;
   double start = now_us();
   unsigned k = 0;
   for (unsigned i = 0; i < w->args->iters; i++) {
      k = i % 6;
      double t0 = now_us();
      if (vkb_submit_wait(&w->vk, f.clear[k], WAIT_NS) != VK_SUCCESS)
         return rep_vk_error(w);
      push_sample(w, (now_us() - t0) / 1e3);
   }
   double loop = now_us() - start;
   /* After the loop: the image memory has been touched. */
   rep(w, "value uss_after_kb %ld", pb_proc_uss_kb(0));
   flush_samples(w, metric);
   if (report_loop)
      rep(w, "value loop_us %.1f", loop);
   rep(w, "done");
   if (check_frame(w, &f, k, true))
      rep(w, "check ok");
   frame_res_fini(&w->vk, &f);
   vkb_fini(&w->vk);
   return 0;
}

static int
wl_clear(struct wk *w)
{
   rep(w, "metric clear ms 0 clear 1920x1080 BGRA8 + wait");
   return clear_loop(w, "clear", false);
}

static int
wl_clientloop(struct wk *w)
{
   rep(w, "metric clientframe ms 0 client clear 1920x1080 + wait");
   return clear_loop(w, "clientframe", true);
}

/* Frames: clear to one of 6 colours, copy to host memory, wait, check all. */
static int
wl_frames(struct wk *w)
{
   struct frame_res f;
   rep(w, "metric frame ms 0 frame: clear 1080p + readback, 6 colours");
   if (init_vk(w))
      return 1;
   if (frame_res_init(&w->vk, w->args, &f) != VK_SUCCESS)
      return rep_vk_error(w);
   for (unsigned k = 0; k < 6; k++) {
      if (vkb_submit_wait(&w->vk, f.frame[k], WAIT_NS) != VK_SUCCESS)
         return rep_vk_error(w);
   }
   if (!wait_go(w))
      return 1;
   bool ok = true;
   for (unsigned i = 0; i < w->args->iters; i++) {
      double t0 = now_us();
      if (vkb_submit_wait(&w->vk, f.frame[i % 6], WAIT_NS) != VK_SUCCESS)
         return rep_vk_error(w);
      push_sample(w, (now_us() - t0) / 1e3);
      /* Checked outside the timed part, every frame. */
      if (ok && !check_frame(w, &f, i % 6, false))
         ok = false;
   }
   flush_samples(w, "frame");
   rep(w, "done");
   if (ok)
      rep(w, "check ok");
   frame_res_fini(&w->vk, &f);
   vkb_fini(&w->vk);
   return 0;
}

static int
wl_submit(struct wk *w)
{
   rep(w, "metric submit us 0 empty submit + fence wait round trip");
   if (init_vk(w))
      return 1;
   for (unsigned i = 0; i < 10; i++) {
      if (vkb_submit_wait(&w->vk, VK_NULL_HANDLE, WAIT_NS) != VK_SUCCESS)
         return rep_vk_error(w);
   }
   if (!wait_go(w))
      return 1;
   for (unsigned i = 0; i < w->args->iters; i++) {
      double t0 = now_us();
      if (vkb_submit_wait(&w->vk, VK_NULL_HANDLE, WAIT_NS) != VK_SUCCESS)
         return rep_vk_error(w);
      push_sample(w, now_us() - t0);
   }
   flush_samples(w, "submit");
   rep(w, "done");
   /* An empty submit must still signal its fence. */
   const VkSubmitInfo si = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO };
   VkResult res = vkQueueSubmit(w->vk.queue, 1, &si, w->vk.fence);
   if (res == VK_SUCCESS)
      res = vkWaitForFences(w->vk.dev, 1, &w->vk.fence, VK_TRUE, WAIT_NS);
   if (res == VK_SUCCESS)
      res = vkGetFenceStatus(w->vk.dev, w->vk.fence);
   if (res == VK_SUCCESS)
      rep(w, "check ok");
   else
      rep(w, "check fail fence not signaled: %s", vkb_result_str(res));
   vkb_fini(&w->vk);
   return 0;
}

/* Render pass + pipeline objects for the draws and pipeline workloads. */
struct draw_res {
   enum draw_mode mode;
   struct vkb_image img;
   struct vkb_buffer staging;
   VkImageView view;
   VkRenderPass pass;
   VkFramebuffer fb;
   VkPipelineLayout layout;
   VkShaderModule vs, fs;
   VkPipeline pipeline;
   VkCommandBuffer cmd;
   /* DRAW_BIND: two materials (uniform buffer + set each), per-cell quads */
   VkDescriptorSetLayout dsl;
   VkDescriptorPool dpool;
   VkDescriptorSet sets[2];
   struct vkb_buffer ubo[2], vbuf, ibuf;
};

static VkResult
create_draw_pipeline(struct vkb *b, const struct draw_res *d, VkPipeline *out)
{
   const VkPipelineShaderStageCreateInfo stages[2] = {
      { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
        .stage = VK_SHADER_STAGE_VERTEX_BIT,
        .module = d->vs,
        .pName = "main" },
      { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
        .stage = VK_SHADER_STAGE_FRAGMENT_BIT,
        .module = d->fs,
        .pName = "main" },
   };
   const bool bind = d->mode == DRAW_BIND;
   const VkVertexInputBindingDescription vb = { 0, 2 * sizeof(float), VK_VERTEX_INPUT_RATE_VERTEX };
   const VkVertexInputAttributeDescription va = { 0, 0, VK_FORMAT_R32G32_SFLOAT, 0 };
   const VkPipelineVertexInputStateCreateInfo vi = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO,
      .vertexBindingDescriptionCount = bind,
      .pVertexBindingDescriptions = &vb,
      .vertexAttributeDescriptionCount = bind,
      .pVertexAttributeDescriptions = &va,
   };
   const VkDynamicState dyn_scissor = VK_DYNAMIC_STATE_SCISSOR;
   const VkPipelineDynamicStateCreateInfo dyn = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO,
      .dynamicStateCount = 1,
      .pDynamicStates = &dyn_scissor,
   };
   const VkPipelineInputAssemblyStateCreateInfo ia = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO,
      .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST,
   };
   const VkViewport vp = { 0, 0, (float)GRID_PX, (float)GRID_PX, 0, 1 };
   const VkRect2D sc = { { 0, 0 }, { GRID_PX, GRID_PX } };
   const VkPipelineViewportStateCreateInfo vps = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
      .viewportCount = 1,
      .pViewports = &vp,
      .scissorCount = 1,
      .pScissors = &sc,
   };
   const VkPipelineRasterizationStateCreateInfo rs = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
      .polygonMode = VK_POLYGON_MODE_FILL,
      .cullMode = VK_CULL_MODE_NONE,
      .frontFace = VK_FRONT_FACE_COUNTER_CLOCKWISE,
      .lineWidth = 1.0f,
   };
   const VkPipelineMultisampleStateCreateInfo ms = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
      .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT,
   };
   const VkPipelineColorBlendAttachmentState att = { .colorWriteMask = 0xf };
   const VkPipelineColorBlendStateCreateInfo cb = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO,
      .attachmentCount = 1,
      .pAttachments = &att,
   };
   const VkGraphicsPipelineCreateInfo gci = {
      .sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
      .stageCount = 2,
      .pStages = stages,
      .pVertexInputState = &vi,
      .pInputAssemblyState = &ia,
      .pViewportState = &vps,
      .pRasterizationState = &rs,
      .pMultisampleState = &ms,
      .pColorBlendState = &cb,
      .pDynamicState = bind ? &dyn : NULL,
      .layout = d->layout,
      .renderPass = d->pass,
   };
   VkResult res = vkCreateGraphicsPipelines(b->dev, VK_NULL_HANDLE, 1, &gci, NULL, out);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateGraphicsPipelines");
   return VK_SUCCESS;
}

/* DRAW_BIND's resources: the materials (a uniform buffer and descriptor set
 * each), a vertex buffer with every cell's 4 corners (a quad one pixel
 * larger than its cell on each side) and the index buffer. */
static VkResult
draw_bind_init(struct vkb *b, struct draw_res *d)
{
   const VkDescriptorSetLayoutBinding bind = { 0, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 1,
                                               VK_SHADER_STAGE_FRAGMENT_BIT, NULL };
   const VkDescriptorSetLayoutCreateInfo dslci = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = 1,
      .pBindings = &bind,
   };
   VkResult res = vkCreateDescriptorSetLayout(b->dev, &dslci, NULL, &d->dsl);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateDescriptorSetLayout");
   const VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 2 };
   const VkDescriptorPoolCreateInfo dpci = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
      .maxSets = 2,
      .poolSizeCount = 1,
      .pPoolSizes = &ps,
   };
   res = vkCreateDescriptorPool(b->dev, &dpci, NULL, &d->dpool);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateDescriptorPool");
   const VkDescriptorSetLayout layouts[2] = { d->dsl, d->dsl };
   const VkDescriptorSetAllocateInfo dsai = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
      .descriptorPool = d->dpool,
      .descriptorSetCount = 2,
      .pSetLayouts = layouts,
   };
   res = vkAllocateDescriptorSets(b->dev, &dsai, d->sets);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkAllocateDescriptorSets");
   for (unsigned k = 0; k < 2 && res == VK_SUCCESS; k++) {
      res = vkb_buffer_create(b, 16, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, true, &d->ubo[k]);
      if (res != VK_SUCCESS)
         break;
      const float tint[4] = { 0, 0, (float)cell_blue(DRAW_BIND, k) / 255.0f, 1 };
      memcpy(d->ubo[k].map, tint, sizeof(tint));
      const VkDescriptorBufferInfo dbi = { d->ubo[k].buf, 0, VK_WHOLE_SIZE };
      const VkWriteDescriptorSet wr = {
         .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
         .dstSet = d->sets[k],
         .dstBinding = 0,
         .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER,
         .pBufferInfo = &dbi,
      };
      vkUpdateDescriptorSets(b->dev, 1, &wr, 0, NULL);
   }
   if (res == VK_SUCCESS)
      res = vkb_buffer_create(b, (VkDeviceSize)GRID_CELLS * 4 * 2 * sizeof(float),
                              VK_BUFFER_USAGE_VERTEX_BUFFER_BIT, true, &d->vbuf);
   if (res == VK_SUCCESS)
      res = vkb_buffer_create(b, 6 * sizeof(uint16_t), VK_BUFFER_USAGE_INDEX_BUFFER_BIT, true,
                              &d->ibuf);
   if (res != VK_SUCCESS)
      return res;
   float *v = d->vbuf.map;
   for (uint32_t i = 0; i < GRID_CELLS; i++) {
      const float x0 = (float)((i % 100) * CELL_PX) - 1, y0 = (float)((i / 100) * CELL_PX) - 1;
      const float xs[2] = { x0, x0 + CELL_PX + 2 }, ys[2] = { y0, y0 + CELL_PX + 2 };
      for (unsigned c = 0; c < 4; c++) {
         *v++ = xs[c & 1] / (float)GRID_PX * 2.0f - 1.0f;
         *v++ = ys[c >> 1] / (float)GRID_PX * 2.0f - 1.0f;
      }
   }
   static const uint16_t idx[6] = { 0, 1, 2, 1, 3, 2 };
   memcpy(d->ibuf.map, idx, sizeof(idx));
   return VK_SUCCESS;
}

static VkResult
draw_res_init(struct vkb *b, struct draw_res *d, enum draw_mode mode)
{
   memset(d, 0, sizeof(*d));
   d->mode = mode;
   const VkFormat fmt = VK_FORMAT_R8G8B8A8_UNORM;
   VkResult res = vkb_image_create(
      b, GRID_PX, GRID_PX, fmt,
      VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT, &d->img);
   if (res == VK_SUCCESS)
      res = vkb_buffer_create(b, (VkDeviceSize)GRID_PX * GRID_PX * 4,
                              VK_BUFFER_USAGE_TRANSFER_DST_BIT, true, &d->staging);
   if (res != VK_SUCCESS)
      return res;
   const VkImageViewCreateInfo ivci = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
      .image = d->img.image,
      .viewType = VK_IMAGE_VIEW_TYPE_2D,
      .format = fmt,
      .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
   };
   res = vkCreateImageView(b->dev, &ivci, NULL, &d->view);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateImageView");
   const VkAttachmentDescription att = {
      .format = fmt,
      .samples = VK_SAMPLE_COUNT_1_BIT,
      .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
      .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
      .stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE,
      .stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
      .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
      .finalLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
   };
   const VkAttachmentReference ref = { 0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
   const VkSubpassDescription sub = {
      .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
      .colorAttachmentCount = 1,
      .pColorAttachments = &ref,
   };
   /* The copy after the pass must see the colour writes. */
   const VkSubpassDependency dep = {
      .srcSubpass = 0,
      .dstSubpass = VK_SUBPASS_EXTERNAL,
      .srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
      .dstStageMask = VK_PIPELINE_STAGE_TRANSFER_BIT,
      .srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT,
   };
   const VkRenderPassCreateInfo rpci = {
      .sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
      .attachmentCount = 1,
      .pAttachments = &att,
      .subpassCount = 1,
      .pSubpasses = &sub,
      .dependencyCount = 1,
      .pDependencies = &dep,
   };
   res = vkCreateRenderPass(b->dev, &rpci, NULL, &d->pass);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateRenderPass");
   const VkFramebufferCreateInfo fbci = {
      .sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
      .renderPass = d->pass,
      .attachmentCount = 1,
      .pAttachments = &d->view,
      .width = GRID_PX,
      .height = GRID_PX,
      .layers = 1,
   };
   res = vkCreateFramebuffer(b->dev, &fbci, NULL, &d->fb);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateFramebuffer");
   if (mode == DRAW_BIND && (res = draw_bind_init(b, d)) != VK_SUCCESS)
      return res;
   const VkPushConstantRange pcr = { VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof(uint32_t) };
   const VkPipelineLayoutCreateInfo plci = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = mode == DRAW_BIND,
      .pSetLayouts = &d->dsl,
      .pushConstantRangeCount = mode != DRAW_PLAIN,
      .pPushConstantRanges = &pcr,
   };
   res = vkCreatePipelineLayout(b->dev, &plci, NULL, &d->layout);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreatePipelineLayout");
   switch (mode) {
   case DRAW_PLAIN:
      res = vkb_shader_module(b, pvb_draw_vert, sizeof(pvb_draw_vert), &d->vs);
      break;
   case DRAW_PUSH:
      res = vkb_shader_module(b, pvb_draw_push_vert, sizeof(pvb_draw_push_vert), &d->vs);
      break;
   case DRAW_BIND:
      res = vkb_shader_module(b, pvb_draw_bind_vert, sizeof(pvb_draw_bind_vert), &d->vs);
      break;
   }
   if (res == VK_SUCCESS && mode == DRAW_BIND)
      res = vkb_shader_module(b, pvb_draw_bind_frag, sizeof(pvb_draw_bind_frag), &d->fs);
   else if (res == VK_SUCCESS)
      res = vkb_shader_module(b, pvb_draw_frag, sizeof(pvb_draw_frag), &d->fs);
   if (res == VK_SUCCESS)
      res = vkb_cmd_alloc(b, &d->cmd);
   return res;
}

static void
draw_res_fini(struct vkb *b, struct draw_res *d)
{
   if (d->pipeline)
      vkDestroyPipeline(b->dev, d->pipeline, NULL);
   if (d->vs)
      vkDestroyShaderModule(b->dev, d->vs, NULL);
   if (d->fs)
      vkDestroyShaderModule(b->dev, d->fs, NULL);
   if (d->layout)
      vkDestroyPipelineLayout(b->dev, d->layout, NULL);
   if (d->fb)
      vkDestroyFramebuffer(b->dev, d->fb, NULL);
   if (d->pass)
      vkDestroyRenderPass(b->dev, d->pass, NULL);
   if (d->view)
      vkDestroyImageView(b->dev, d->view, NULL);
   vkb_image_destroy(b, &d->img);
   vkb_buffer_destroy(b, &d->staging);
   if (d->dpool)
      vkDestroyDescriptorPool(b->dev, d->dpool, NULL);
   if (d->dsl)
      vkDestroyDescriptorSetLayout(b->dev, d->dsl, NULL);
   for (unsigned k = 0; k < 2; k++)
      vkb_buffer_destroy(b, &d->ubo[k]);
   vkb_buffer_destroy(b, &d->vbuf);
   vkb_buffer_destroy(b, &d->ibuf);
}

/* One cell the way d->mode draws it. */
static void
record_cell(const struct draw_res *d, uint32_t i)
{
   VkCommandBuffer cmd = d->cmd;
   switch (d->mode) {
   case DRAW_PLAIN:
      vkCmdDraw(cmd, 6, 1, 0, i);
      break;
   case DRAW_PUSH:
      vkCmdPushConstants(cmd, d->layout, VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof(i), &i);
      vkCmdDraw(cmd, 6, 1, 0, 0);
      break;
   case DRAW_BIND: {
      const VkDeviceSize off = (VkDeviceSize)i * 4 * 2 * sizeof(float);
      const VkRect2D sc = { { (int32_t)((i % 100) * CELL_PX), (int32_t)((i / 100) * CELL_PX) },
                            { CELL_PX, CELL_PX } };
      vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, d->layout, 0, 1,
                              &d->sets[i & 1], 0, NULL);
      vkCmdBindVertexBuffers(cmd, 0, 1, &d->vbuf.buf, &off);
      vkCmdSetScissor(cmd, 0, 1, &sc);
      vkCmdPushConstants(cmd, d->layout, VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof(i), &i);
      vkCmdDrawIndexed(cmd, 6, 1, 0, 0, 0);
      break;
   }
   }
}

/* Records the pass: `draws` draws of one instance each, or a single draw of
 * GRID_CELLS instances when draws is 1; then the copy to staging. */
static VkResult
record_draws(struct vkb *b, struct draw_res *d, unsigned draws)
{
   VkResult res = vkResetCommandBuffer(d->cmd, 0);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkResetCommandBuffer");
   res = vkb_cmd_begin(b, d->cmd, true);
   if (res != VK_SUCCESS)
      return res;
   const VkClearValue clear = { .color = { .float32 = { 0, 0, 0, 0 } } };
   const VkRenderPassBeginInfo rpbi = {
      .sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
      .renderPass = d->pass,
      .framebuffer = d->fb,
      .renderArea = { { 0, 0 }, { GRID_PX, GRID_PX } },
      .clearValueCount = 1,
      .pClearValues = &clear,
   };
   vkCmdBeginRenderPass(d->cmd, &rpbi, VK_SUBPASS_CONTENTS_INLINE);
   vkCmdBindPipeline(d->cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, d->pipeline);
   if (d->mode == DRAW_BIND)
      vkCmdBindIndexBuffer(d->cmd, d->ibuf.buf, 0, VK_INDEX_TYPE_UINT16);
   if (draws == 1 && d->mode == DRAW_PLAIN) {
      vkCmdDraw(d->cmd, 6, GRID_CELLS, 0, 0);
   } else {
      for (uint32_t i = 0; i < draws; i++)
         record_cell(d, i);
   }
   vkCmdEndRenderPass(d->cmd);
   const VkBufferImageCopy region = {
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { GRID_PX, GRID_PX, 1 },
   };
   vkCmdCopyImageToBuffer(d->cmd, d->img.image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                          d->staging.buf, 1, &region);
   vkb_cmd_host_read_barrier(d->cmd);
   return vkb_cmd_end(b, d->cmd);
}

static void
report_grid_check(struct wk *w, struct draw_res *d)
{
   char why[200];
   if (check_grid(d->staging.map, d->mode, why, sizeof(why)))
      rep(w, "check ok");
   else
      rep(w, "check fail %s", why);
}

/* Recording-bound workloads: recorded and submitted every iteration, timed
 * whole (`id`) and in two parts: recording until vkEndCommandBuffer returns
 * (`id`rec: with Mesa's defaults the guest sends the commands only then)
 * and submit + wait (`id`exec). The parent puts the serial limit (this
 * path's recording + native's whole) beside the figure. */
typedef VkResult (*record_fn)(struct wk *w, void *data);

static int
rec_exec_loop(struct wk *w, const char *id, record_fn record, void *data,
              const VkCommandBuffer *cmd, void (*after)(void *data))
{
   char rec_id[48], exec_id[48];
   snprintf(rec_id, sizeof(rec_id), "%srec", id);
   snprintf(exec_id, sizeof(exec_id), "%sexec", id);
   double *rec_t = calloc(w->args->iters ? w->args->iters : 1, sizeof(*rec_t));
   double *exec_t = calloc(w->args->iters ? w->args->iters : 1, sizeof(*exec_t));
   if (!rec_t || !exec_t) {
      free(rec_t);
      free(exec_t);
      rep(w, "error out of memory");
      return 1;
   }
   for (unsigned i = 0; i < w->args->iters; i++) {
      double t0 = now_us();
      if (record(w, data) != VK_SUCCESS)
         break;
      double t1 = now_us();
      if (vkb_submit_wait(&w->vk, *cmd, WAIT_NS) != VK_SUCCESS)
         break;
      double t2 = now_us();
      rec_t[i] = (t1 - t0) / 1e3;
      exec_t[i] = (t2 - t1) / 1e3;
      push_sample(w, (t2 - t0) / 1e3);
      if (after)
         after(data);
   }
   const size_t done = w->nsamples;
   if (done < w->args->iters) {
      free(rec_t);
      free(exec_t);
      return rep_vk_error(w);
   }
   flush_samples(w, id);
   rep_samples(w, rec_id, rec_t, done);
   rep_samples(w, exec_id, exec_t, done);
   free(rec_t);
   free(exec_t);
   rep(w, "serial %s %s", id, rec_id);
   return 0;
}

static VkResult
record_grid(struct wk *w, void *data)
{
   return record_draws(&w->vk, data, GRID_CELLS);
}

/* 10k small draws in one render pass, recorded and submitted each time. */
static int
draws_workload(struct wk *w, enum draw_mode mode, const char *id, const char *what)
{
   struct draw_res d;
   rep(w, "metric %s ms 0 %s: record+submit+wait", id, what);
   rep(w, "metric %srec ms 0 %s: recording alone (to vkEndCommandBuffer)", id, what);
   rep(w, "metric %sexec ms 0 %s: submit+wait after recording", id, what);
   if (init_vk(w))
      return 1;
   if (draw_res_init(&w->vk, &d, mode) != VK_SUCCESS ||
       create_draw_pipeline(&w->vk, &d, &d.pipeline) != VK_SUCCESS ||
       record_draws(&w->vk, &d, GRID_CELLS) != VK_SUCCESS ||
       vkb_submit_wait(&w->vk, d.cmd, WAIT_NS) != VK_SUCCESS) /* warm-up */
      return rep_vk_error(w);
   if (!wait_go(w))
      return 1;
   if (rec_exec_loop(w, id, record_grid, &d, &d.cmd, NULL))
      return 1;
   rep(w, "done");
   report_grid_check(w, &d);
   draw_res_fini(&w->vk, &d);
   vkb_fini(&w->vk);
   return 0;
}

static int
wl_draws(struct wk *w)
{
   return draws_workload(w, DRAW_PLAIN, "draws", "render pass with 10k draws");
}

static int
wl_drawpush(struct wk *w)
{
   return draws_workload(w, DRAW_PUSH, "drawpush", "10k draws, push constants each");
}

static int
wl_drawbind(struct wk *w)
{
   return draws_workload(w, DRAW_BIND, "drawbind", "10k indexed draws, set+VB+scissor+push each");
}

/* Graphics pipeline creation; the last pipeline then draws the grid. */
static int
wl_pipeline(struct wk *w)
{
   struct draw_res d;
   rep(w, "metric pipeline ms 0 graphics pipeline creation (+ empty submit to sync)");
   if (init_vk(w))
      return 1;
   if (draw_res_init(&w->vk, &d, DRAW_PLAIN) != VK_SUCCESS)
      return rep_vk_error(w);
   if (!wait_go(w))
      return 1;
   for (unsigned i = 0; i < w->args->iters; i++) {
      VkPipeline p;
      double t0 = now_us();
      /* Venus creates pipelines asynchronously: the empty submit + wait
       * behind it makes the time include the host's compile. */
      if (create_draw_pipeline(&w->vk, &d, &p) != VK_SUCCESS ||
          vkb_submit_wait(&w->vk, VK_NULL_HANDLE, WAIT_NS) != VK_SUCCESS)
         return rep_vk_error(w);
      push_sample(w, (now_us() - t0) / 1e3);
      if (d.pipeline)
         vkDestroyPipeline(w->vk.dev, d.pipeline, NULL);
      d.pipeline = p;
   }
   flush_samples(w, "pipeline");
   rep(w, "done");
   if (d.pipeline) {
      if (record_draws(&w->vk, &d, 1) != VK_SUCCESS ||
          vkb_submit_wait(&w->vk, d.cmd, WAIT_NS) != VK_SUCCESS)
         rep(w, "check fail drawing with the new pipeline: %s", w->vk.err);
      else
         report_grid_check(w, &d);
   }
   draw_res_fini(&w->vk, &d);
   vkb_fini(&w->vk);
   return 0;
}

static uint32_t
compute_input(uint32_t i)
{
   return i * 7u + 3u;
}

struct compute_res {
   struct vkb_buffer in, out, staging;
   VkDescriptorSetLayout dsl;
   VkDescriptorPool dpool;
   VkDescriptorSet set;
   VkPipelineLayout layout;
   VkShaderModule cs;
   VkPipeline pipeline;
   VkCommandBuffer cmd, copy;
};

static VkResult
compute_res_init(struct vkb *b, struct compute_res *c, VkDeviceSize bytes, uint32_t n, uint32_t mul)
{
   memset(c, 0, sizeof(*c));
   const VkBufferUsageFlags usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                    VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                    VK_BUFFER_USAGE_TRANSFER_DST_BIT;
   VkResult res = vkb_buffer_create(b, bytes, usage, false, &c->in);
   if (res == VK_SUCCESS)
      res = vkb_buffer_create(b, bytes, usage, false, &c->out);
   if (res == VK_SUCCESS)
      res = vkb_buffer_create(b, bytes,
                              VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                              true, &c->staging);
   if (res != VK_SUCCESS)
      return res;
   const VkDescriptorSetLayoutBinding bind[2] = {
      { 0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
      { 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
   };
   const VkDescriptorSetLayoutCreateInfo dslci = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = 2,
      .pBindings = bind,
   };
   res = vkCreateDescriptorSetLayout(b->dev, &dslci, NULL, &c->dsl);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateDescriptorSetLayout");
   const VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2 };
   const VkDescriptorPoolCreateInfo dpci = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
      .maxSets = 1,
      .poolSizeCount = 1,
      .pPoolSizes = &ps,
   };
   res = vkCreateDescriptorPool(b->dev, &dpci, NULL, &c->dpool);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateDescriptorPool");
   const VkDescriptorSetAllocateInfo dsai = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
      .descriptorPool = c->dpool,
      .descriptorSetCount = 1,
      .pSetLayouts = &c->dsl,
   };
   res = vkAllocateDescriptorSets(b->dev, &dsai, &c->set);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkAllocateDescriptorSets");
   const VkDescriptorBufferInfo dbi[2] = {
      { c->in.buf, 0, VK_WHOLE_SIZE },
      { c->out.buf, 0, VK_WHOLE_SIZE },
   };
   const VkWriteDescriptorSet wr = {
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
      .dstSet = c->set,
      .dstBinding = 0,
      .descriptorCount = 2,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .pBufferInfo = dbi,
   };
   vkUpdateDescriptorSets(b->dev, 1, &wr, 0, NULL);
   const VkPushConstantRange pcr = { VK_SHADER_STAGE_COMPUTE_BIT, 0, 8 };
   const VkPipelineLayoutCreateInfo plci = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = 1,
      .pSetLayouts = &c->dsl,
      .pushConstantRangeCount = 1,
      .pPushConstantRanges = &pcr,
   };
   res = vkCreatePipelineLayout(b->dev, &plci, NULL, &c->layout);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreatePipelineLayout");
   res = vkb_shader_module(b, pvb_compute_comp, sizeof(pvb_compute_comp), &c->cs);
   if (res != VK_SUCCESS)
      return res;
   const VkComputePipelineCreateInfo cpci = {
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage = { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                 .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                 .module = c->cs,
                 .pName = "main" },
      .layout = c->layout,
   };
   res = vkCreateComputePipelines(b->dev, VK_NULL_HANDLE, 1, &cpci, NULL, &c->pipeline);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateComputePipelines");

   /* Input upload, once, through the staging buffer. */
   uint32_t *p = c->staging.map;
   for (uint32_t i = 0; i < n; i++)
      p[i] = compute_input(i);
   const VkBufferCopy whole = { 0, 0, bytes };
   VkCommandBuffer up;
   res = vkb_cmd_alloc(b, &up);
   if (res == VK_SUCCESS)
      res = vkb_cmd_begin(b, up, true);
   if (res != VK_SUCCESS)
      return res;
   vkCmdCopyBuffer(up, c->staging.buf, c->in.buf, 1, &whole);
   res = vkb_cmd_end(b, up);
   if (res == VK_SUCCESS)
      res = vkb_submit_wait(b, up, WAIT_NS);
   vkFreeCommandBuffers(b->dev, b->pool, 1, &up);
   if (res != VK_SUCCESS)
      return res;
   memset(c->staging.map, 0, bytes); /* so a missing copy-back is caught */

   const uint32_t pc[2] = { n, mul };
   uint32_t groups = (n + 255) / 256;
   if (groups > 65535)
      groups = 65535;
   res = vkb_cmd_alloc(b, &c->cmd);
   if (res == VK_SUCCESS)
      res = vkb_cmd_begin(b, c->cmd, false);
   if (res != VK_SUCCESS)
      return res;
   vkCmdBindPipeline(c->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, c->pipeline);
   vkCmdBindDescriptorSets(c->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, c->layout, 0, 1, &c->set, 0,
                           NULL);
   vkCmdPushConstants(c->cmd, c->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(pc), pc);
   vkCmdDispatch(c->cmd, groups, 1, 1);
   res = vkb_cmd_end(b, c->cmd);
   if (res == VK_SUCCESS)
      res = vkb_cmd_alloc(b, &c->copy);
   if (res == VK_SUCCESS)
      res = vkb_cmd_begin(b, c->copy, false);
   if (res != VK_SUCCESS)
      return res;
   vkb_cmd_memory_barrier(c->copy, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                          VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
   vkCmdCopyBuffer(c->copy, c->out.buf, c->staging.buf, 1, &whole);
   vkb_cmd_host_read_barrier(c->copy);
   return vkb_cmd_end(b, c->copy);
}

static void
compute_res_fini(struct vkb *b, struct compute_res *c)
{
   if (c->pipeline)
      vkDestroyPipeline(b->dev, c->pipeline, NULL);
   if (c->cs)
      vkDestroyShaderModule(b->dev, c->cs, NULL);
   if (c->layout)
      vkDestroyPipelineLayout(b->dev, c->layout, NULL);
   if (c->dpool)
      vkDestroyDescriptorPool(b->dev, c->dpool, NULL);
   if (c->dsl)
      vkDestroyDescriptorSetLayout(b->dev, c->dsl, NULL);
   vkb_buffer_destroy(b, &c->in);
   vkb_buffer_destroy(b, &c->out);
   vkb_buffer_destroy(b, &c->staging);
}

static int
wl_compute(struct wk *w)
{
   const unsigned mib = w->args->size_mib ? w->args->size_mib : 32;
   const VkDeviceSize bytes = (VkDeviceSize)mib << 20;
   const uint32_t n = (uint32_t)(bytes / 4), mul = 2654435761u;
   struct compute_res c;
   rep(w, "metric compute ms 0 compute dispatch over 2x%u MiB storage buffers", mib);
   if (init_vk(w))
      return 1;
   if (compute_res_init(&w->vk, &c, bytes, n, mul) != VK_SUCCESS ||
       vkb_submit_wait(&w->vk, c.cmd, WAIT_NS) != VK_SUCCESS) /* warm-up */
      return rep_vk_error(w);
   if (!wait_go(w))
      return 1;
   for (unsigned i = 0; i < w->args->iters; i++) {
      double t0 = now_us();
      if (vkb_submit_wait(&w->vk, c.cmd, WAIT_NS) != VK_SUCCESS)
         return rep_vk_error(w);
      push_sample(w, (now_us() - t0) / 1e3);
   }
   flush_samples(w, "compute");
   rep(w, "done");
   if (vkb_submit_wait(&w->vk, c.copy, WAIT_NS) != VK_SUCCESS) {
      rep(w, "check fail copy back: %s", w->vk.err);
   } else {
      const uint32_t *p = c.staging.map;
      uint32_t bad = n;
      for (uint32_t i = 0; i < n && bad == n; i++) {
         if (p[i] != compute_input(i) * mul + i)
            bad = i;
      }
      if (bad == n)
         rep(w, "check ok");
      else
         rep(w, "check fail element %u is 0x%08x, expected 0x%08x", bad, p[bad],
             compute_input(bad) * mul + bad);
   }
   compute_res_fini(&w->vk, &c);
   vkb_fini(&w->vk);
   return 0;
}

/* Fairness: a light client (the clear loop) measured alone, then while a
 * heavy client of the same process keeps the GPU busy with long compute
 * submissions. Each client has its own instance and device: natively two
 * devices of one process, through venus two contexts of the server (Mesa
 * opens a connection per instance). The figure is the light client's frame
 * time beside the heavy one against alone. */
#define FAIR_HEAVY_DISPATCHES 64u
#define FAIR_HEAVY_DISPATCHES_QUICK 4u

struct fair_heavy {
   struct vkb vk;
   struct compute_res c;
   VkCommandBuffer busy; /* FAIR_HEAVY_DISPATCHES dispatches with barriers */
   atomic_bool stop;
   atomic_uint submits;
   VkResult res;
};

static VkResult
fair_heavy_record(struct fair_heavy *h, uint32_t n, uint32_t dispatches)
{
   struct compute_res *c = &h->c;
   const uint32_t pc[2] = { n, 3u };
   uint32_t groups = (n + 255) / 256;
   if (groups > 65535)
      groups = 65535;
   VkResult res = vkb_cmd_alloc(&h->vk, &h->busy);
   if (res == VK_SUCCESS)
      res = vkb_cmd_begin(&h->vk, h->busy, false);
   if (res != VK_SUCCESS)
      return res;
   vkCmdBindPipeline(h->busy, VK_PIPELINE_BIND_POINT_COMPUTE, c->pipeline);
   vkCmdBindDescriptorSets(h->busy, VK_PIPELINE_BIND_POINT_COMPUTE, c->layout, 0, 1, &c->set, 0,
                           NULL);
   vkCmdPushConstants(h->busy, c->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(pc), pc);
   const VkMemoryBarrier bar = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
   };
   for (uint32_t i = 0; i < dispatches; i++) {
      vkCmdDispatch(h->busy, groups, 1, 1);
      vkCmdPipelineBarrier(h->busy, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                           VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &bar, 0, NULL, 0, NULL);
   }
   return vkb_cmd_end(&h->vk, h->busy);
}

static void *
fair_heavy_thread(void *data)
{
   struct fair_heavy *h = data;
   while (!atomic_load(&h->stop)) {
      h->res = vkb_submit_wait(&h->vk, h->busy, WAIT_NS);
      if (h->res != VK_SUCCESS)
         break;
      atomic_fetch_add(&h->submits, 1);
   }
   return NULL;
}

/* iters light frames into the sample list; false on a Vulkan error */
static bool
fair_light_frames(struct wk *w, struct frame_res *f, unsigned iters)
{
   for (unsigned i = 0; i < iters; i++) {
      const double t0 = now_us();
      if (vkb_submit_wait(&w->vk, f->clear[i % 6], WAIT_NS) != VK_SUCCESS)
         return false;
      push_sample(w, (now_us() - t0) / 1e3);
   }
   return true;
}

static int
cmp_double(const void *a, const void *b)
{
   const double x = *(const double *)a, y = *(const double *)b;
   return x < y ? -1 : x > y;
}

static double
fair_median(double *v, size_t n)
{
   qsort(v, n, sizeof(*v), cmp_double);
   return n ? v[n / 2] : 0;
}

static VkQueueGlobalPriorityKHR
parse_priority(const char *s, size_t len)
{
   static const struct {
      const char *name;
      VkQueueGlobalPriorityKHR prio;
   } names[] = {
      { "low", VK_QUEUE_GLOBAL_PRIORITY_LOW_KHR },
      { "medium", VK_QUEUE_GLOBAL_PRIORITY_MEDIUM_KHR },
      { "high", VK_QUEUE_GLOBAL_PRIORITY_HIGH_KHR },
      { "realtime", VK_QUEUE_GLOBAL_PRIORITY_REALTIME_KHR },
   };
   for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
      if (strlen(names[i].name) == len && !strncmp(s, names[i].name, len))
         return names[i].prio;
   }
   return 0;
}

/* PVBENCH_FAIR_PRIORITY=LIGHT,HEAVY (low, medium, high, realtime or none):
 * the two clients' queue global priorities on the native path */
static void
fair_priorities(struct wk *w, struct vkb *light, struct vkb *heavy)
{
   const char *env = getenv("PVBENCH_FAIR_PRIORITY");
   const char *comma = env ? strchr(env, ',') : NULL;
   if (!comma)
      return;
   light->priority = parse_priority(env, (size_t)(comma - env));
   heavy->priority = parse_priority(comma + 1, strlen(comma + 1));
   rep(w, "info queue global priorities: light %d, heavy %d", (int)light->priority,
       (int)heavy->priority);
}

/* PVBENCH_FAIR_HEAVY_SOCKET=PATH: the heavy client's instance connects to
 * the vtest server on PATH (Mesa 25's venus reads VTEST_SOCKET_NAME at
 * each vkCreateInstance; Mesa 22.3's always uses /tmp/.virgl_test), so
 * the two clients can be served by servers set up differently (a queue
 * priority for one). */
static VkResult
fair_heavy_init(struct wk *w, struct vkb *heavy)
{
   const char *path = getenv("PVBENCH_FAIR_HEAVY_SOCKET");
   if (!path || !*path)
      return vkb_init(heavy);
   const char *old = getenv("VTEST_SOCKET_NAME");
   char *saved = old ? strdup(old) : NULL;
   setenv("VTEST_SOCKET_NAME", path, 1);
   const VkResult res = vkb_init(heavy);
   if (saved)
      setenv("VTEST_SOCKET_NAME", saved, 1);
   else
      unsetenv("VTEST_SOCKET_NAME");
   free(saved);
   rep(w, "info heavy client: vtest socket %s", path);
   return res;
}

static int
wl_fairness(struct wk *w)
{
   const unsigned mib = w->args->size_mib ? w->args->size_mib : 32;
   const VkDeviceSize bytes = (VkDeviceSize)mib << 20;
   const uint32_t n = (uint32_t)(bytes / 4);
   const uint32_t dispatches = w->args->size_mib && w->args->size_mib < 32
                                  ? FAIR_HEAVY_DISPATCHES_QUICK
                                  : FAIR_HEAVY_DISPATCHES;
   const unsigned iters = w->args->iters ? w->args->iters : 100;
   rep(w, "metric fair_alone ms 0 light client: clear 1080p + wait, alone");
   rep(w,
       "metric fair_loaded ms 0 light client: clear 1080p + wait, beside a heavy client "
       "(%u dispatches over 2x%u MiB per submission)",
       dispatches, mib);
   rep(w, "metric fair_ratio x 0 light client: frame time beside a heavy client / alone");

   struct fair_heavy *h = calloc(1, sizeof(*h));
   struct frame_res f;
   if (h)
      fair_priorities(w, &w->vk, &h->vk);
   if (!h || init_vk(w))
      return h ? 1 : (rep(w, "error out of memory"), 1);
   if (frame_res_init(&w->vk, w->args, &f) != VK_SUCCESS)
      return rep_vk_error(w);
   if (fair_heavy_init(w, &h->vk) != VK_SUCCESS) {
      rep(w, "error heavy client: %s", h->vk.err);
      return 1;
   }
   if (compute_res_init(&h->vk, &h->c, bytes, n, 3u) != VK_SUCCESS ||
       fair_heavy_record(h, n, dispatches) != VK_SUCCESS ||
       vkb_submit_wait(&h->vk, h->busy, WAIT_NS) != VK_SUCCESS) {
      rep(w, "error heavy client: %s", h->vk.err);
      return 1;
   }
   for (unsigned k = 0; k < 6; k++) { /* warm-up, untimed */
      if (vkb_submit_wait(&w->vk, f.clear[k], WAIT_NS) != VK_SUCCESS)
         return rep_vk_error(w);
   }
   if (!wait_go(w))
      return 1;

   if (!fair_light_frames(w, &f, iters))
      return rep_vk_error(w);
   const double alone = fair_median(w->samples, w->nsamples);
   flush_samples(w, "fair_alone");

   pthread_t thread;
   if (pthread_create(&thread, NULL, fair_heavy_thread, h)) {
      rep(w, "error cannot start the heavy client's thread");
      return 1;
   }
   /* measure once the heavy client has the GPU busy */
   while (atomic_load(&h->submits) < 1 && h->res == VK_SUCCESS)
      usleep(1000);
   const bool ok = fair_light_frames(w, &f, iters);
   const unsigned heavy_submits = atomic_load(&h->submits);
   atomic_store(&h->stop, true);
   pthread_join(thread, NULL);
   if (!ok)
      return rep_vk_error(w);
   if (h->res != VK_SUCCESS) {
      rep(w, "error heavy client: %s", h->vk.err);
      return 1;
   }
   const double loaded = fair_median(w->samples, w->nsamples);
   flush_samples(w, "fair_loaded");
   if (alone > 0) {
      push_sample(w, loaded / alone);
      flush_samples(w, "fair_ratio");
   }
   rep(w, "info heavy client: %u submissions while the light one was measured", heavy_submits);
   rep(w, "done");
   if (check_frame(w, &f, (iters - 1) % 6, true))
      rep(w, "check ok");
   frame_res_fini(&w->vk, &f);
   compute_res_fini(&h->vk, &h->c);
   vkb_fini(&h->vk);
   vkb_fini(&w->vk);
   free(h);
   return 0;
}

/* ML-like chain: ML_STEPS small dispatches over one buffer, each with its
 * own push constants and a barrier before the next, recorded each time. */
struct ml_res {
   struct vkb_buffer data;
   VkDescriptorSetLayout dsl;
   VkDescriptorPool dpool;
   VkDescriptorSet set;
   VkPipelineLayout layout;
   VkShaderModule cs;
   VkPipeline pipeline;
   VkCommandBuffer cmd;
   uint32_t *expect; /* the host's copy of the chain's result */
};

static void
ml_step_host(uint32_t *x)
{
   for (uint32_t k = 0; k < ML_STEPS; k++) {
      for (uint32_t i = 0; i < ML_ELEMS; i++)
         x[i] = x[i] * 3u + k;
   }
}

static void
ml_after(void *data)
{
   ml_step_host(((struct ml_res *)data)->expect);
}

static VkResult
ml_record(struct wk *w, void *data)
{
   struct ml_res *m = data;
   struct vkb *b = &w->vk;
   VkResult res = vkResetCommandBuffer(m->cmd, 0);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkResetCommandBuffer");
   if ((res = vkb_cmd_begin(b, m->cmd, true)) != VK_SUCCESS)
      return res;
   const VkMemoryBarrier bar = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT,
   };
   vkCmdBindPipeline(m->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, m->pipeline);
   vkCmdBindDescriptorSets(m->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, m->layout, 0, 1, &m->set, 0,
                           NULL);
   for (uint32_t k = 0; k < ML_STEPS; k++) {
      const uint32_t pc[2] = { k, ML_ELEMS };
      if (k)
         vkCmdPipelineBarrier(m->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                              VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &bar, 0, NULL, 0, NULL);
      vkCmdPushConstants(m->cmd, m->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(pc), pc);
      vkCmdDispatch(m->cmd, ML_ELEMS / 64, 1, 1);
   }
   vkb_cmd_memory_barrier(m->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   return vkb_cmd_end(b, m->cmd);
}

static VkResult
ml_res_init(struct vkb *b, struct ml_res *m)
{
   memset(m, 0, sizeof(*m));
   m->expect = malloc(ML_ELEMS * sizeof(uint32_t));
   if (!m->expect)
      return vkb_fail(b, VK_ERROR_OUT_OF_HOST_MEMORY, "malloc");
   VkResult res = vkb_buffer_create(b, ML_ELEMS * sizeof(uint32_t),
                                    VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, true, &m->data);
   if (res != VK_SUCCESS)
      return res;
   uint32_t *x = m->data.map;
   for (uint32_t i = 0; i < ML_ELEMS; i++)
      x[i] = m->expect[i] = i;
   const VkDescriptorSetLayoutBinding bind = { 0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1,
                                               VK_SHADER_STAGE_COMPUTE_BIT, NULL };
   const VkDescriptorSetLayoutCreateInfo dslci = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = 1,
      .pBindings = &bind,
   };
   if ((res = vkCreateDescriptorSetLayout(b->dev, &dslci, NULL, &m->dsl)) != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateDescriptorSetLayout");
   const VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1 };
   const VkDescriptorPoolCreateInfo dpci = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
      .maxSets = 1,
      .poolSizeCount = 1,
      .pPoolSizes = &ps,
   };
   if ((res = vkCreateDescriptorPool(b->dev, &dpci, NULL, &m->dpool)) != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateDescriptorPool");
   const VkDescriptorSetAllocateInfo dsai = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
      .descriptorPool = m->dpool,
      .descriptorSetCount = 1,
      .pSetLayouts = &m->dsl,
   };
   if ((res = vkAllocateDescriptorSets(b->dev, &dsai, &m->set)) != VK_SUCCESS)
      return vkb_fail(b, res, "vkAllocateDescriptorSets");
   const VkDescriptorBufferInfo dbi = { m->data.buf, 0, VK_WHOLE_SIZE };
   const VkWriteDescriptorSet wr = {
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
      .dstSet = m->set,
      .dstBinding = 0,
      .descriptorCount = 1,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .pBufferInfo = &dbi,
   };
   vkUpdateDescriptorSets(b->dev, 1, &wr, 0, NULL);
   const VkPushConstantRange pcr = { VK_SHADER_STAGE_COMPUTE_BIT, 0, 8 };
   const VkPipelineLayoutCreateInfo plci = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = 1,
      .pSetLayouts = &m->dsl,
      .pushConstantRangeCount = 1,
      .pPushConstantRanges = &pcr,
   };
   if ((res = vkCreatePipelineLayout(b->dev, &plci, NULL, &m->layout)) != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreatePipelineLayout");
   if ((res = vkb_shader_module(b, pvb_mlstep_comp, sizeof(pvb_mlstep_comp), &m->cs)) != VK_SUCCESS)
      return res;
   const VkComputePipelineCreateInfo cpci = {
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage = { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                 .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                 .module = m->cs,
                 .pName = "main" },
      .layout = m->layout,
   };
   res = vkCreateComputePipelines(b->dev, VK_NULL_HANDLE, 1, &cpci, NULL, &m->pipeline);
   if (res != VK_SUCCESS)
      return vkb_fail(b, res, "vkCreateComputePipelines");
   return vkb_cmd_alloc(b, &m->cmd);
}

static void
ml_res_fini(struct vkb *b, struct ml_res *m)
{
   if (m->pipeline)
      vkDestroyPipeline(b->dev, m->pipeline, NULL);
   if (m->cs)
      vkDestroyShaderModule(b->dev, m->cs, NULL);
   if (m->layout)
      vkDestroyPipelineLayout(b->dev, m->layout, NULL);
   if (m->dpool)
      vkDestroyDescriptorPool(b->dev, m->dpool, NULL);
   if (m->dsl)
      vkDestroyDescriptorSetLayout(b->dev, m->dsl, NULL);
   vkb_buffer_destroy(b, &m->data);
   free(m->expect);
}

static int
wl_mlchain(struct wk *w)
{
   struct ml_res m;
   const char *what = "1000 dispatches, push constants+barrier each";
   rep(w, "metric mlchain ms 0 %s: record+submit+wait", what);
   rep(w, "metric mlchainrec ms 0 %s: recording alone (to vkEndCommandBuffer)", what);
   rep(w, "metric mlchainexec ms 0 %s: submit+wait after recording", what);
   if (init_vk(w))
      return 1;
   if (ml_res_init(&w->vk, &m) != VK_SUCCESS || ml_record(w, &m) != VK_SUCCESS ||
       vkb_submit_wait(&w->vk, m.cmd, WAIT_NS) != VK_SUCCESS) /* warm-up */
      return rep_vk_error(w);
   ml_after(&m);
   if (!wait_go(w))
      return 1;
   if (rec_exec_loop(w, "mlchain", ml_record, &m, &m.cmd, ml_after))
      return 1;
   rep(w, "done");
   const uint32_t *x = m.data.map;
   uint32_t bad = ML_ELEMS;
   for (uint32_t i = 0; i < ML_ELEMS && bad == ML_ELEMS; i++) {
      if (x[i] != m.expect[i])
         bad = i;
   }
   if (bad == ML_ELEMS)
      rep(w, "check ok");
   else
      rep(w, "check fail element %u is 0x%08x, expected 0x%08x after %u chains", bad, x[bad],
          m.expect[bad], w->args->iters + 1);
   ml_res_fini(&w->vk, &m);
   vkb_fini(&w->vk);
   return 0;
}

/* Upload into host-visible memory + copy to device; copy back + read out. */
static int
wl_upload(struct wk *w)
{
   const unsigned mib = w->args->size_mib ? w->args->size_mib : 64;
   const size_t bytes = (size_t)mib << 20;
   rep(w, "metric upload ms 0 %u MiB upload (host-visible -> device)", mib);
   rep(w, "metric readback ms 0 %u MiB readback (device -> host-visible)", mib);
   if (init_vk(w))
      return 1;
   struct vkb *b = &w->vk;
   struct vkb_buffer up, dev, down;
   uint32_t *src = malloc(bytes), *dst = malloc(bytes);
   double *up_t = calloc(w->args->iters ? w->args->iters : 1, sizeof(double));
   VkCommandBuffer cup, cdown;
   if (!src || !dst || !up_t) {
      rep(w, "error out of memory");
      return 1;
   }
   const VkBufferUsageFlags tu =
      VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
   if (vkb_buffer_create(b, bytes, tu, true, &up) != VK_SUCCESS ||
       vkb_buffer_create(b, bytes, tu, false, &dev) != VK_SUCCESS ||
       vkb_buffer_create(b, bytes, tu, true, &down) != VK_SUCCESS ||
       vkb_cmd_alloc(b, &cup) != VK_SUCCESS || vkb_cmd_begin(b, cup, false) != VK_SUCCESS)
      return rep_vk_error(w);
   const VkBufferCopy whole = { 0, 0, bytes };
   vkCmdCopyBuffer(cup, up.buf, dev.buf, 1, &whole);
   if (vkb_cmd_end(b, cup) != VK_SUCCESS || vkb_cmd_alloc(b, &cdown) != VK_SUCCESS ||
       vkb_cmd_begin(b, cdown, false) != VK_SUCCESS)
      return rep_vk_error(w);
   vkCmdCopyBuffer(cdown, dev.buf, down.buf, 1, &whole);
   vkb_cmd_host_read_barrier(cdown);
   if (vkb_cmd_end(b, cdown) != VK_SUCCESS)
      return rep_vk_error(w);
   for (size_t i = 0; i < bytes / 4; i++)
      src[i] = (uint32_t)i * 2654435761u;
   if (!wait_go(w))
      return 1;
   bool ok = true;
   for (unsigned i = 0; i < w->args->iters; i++) {
      src[0] = i; /* fresh data each round */
      double t0 = now_us();
      memcpy(up.map, src, bytes);
      if (vkb_submit_wait(b, cup, WAIT_NS) != VK_SUCCESS)
         return rep_vk_error(w);
      double t1 = now_us();
      if (vkb_submit_wait(b, cdown, WAIT_NS) != VK_SUCCESS)
         return rep_vk_error(w);
      memcpy(dst, down.map, bytes);
      double t2 = now_us();
      up_t[i] = (t1 - t0) / 1e3;
      push_sample(w, (t2 - t1) / 1e3);
      if (ok && memcmp(src, dst, bytes)) {
         ok = false;
         rep(w, "check fail round %u: read back data differs from the upload", i);
      }
   }
   flush_samples(w, "readback");
   rep_samples(w, "upload", up_t, w->args->iters);
   rep(w, "done");
   if (ok)
      rep(w, "check ok");
   vkb_buffer_destroy(b, &up);
   vkb_buffer_destroy(b, &dev);
   vkb_buffer_destroy(b, &down);
   free(src);
   free(dst);
   free(up_t);
   vkb_fini(b);
   return 0;
}

/* ---- third-party workloads ---- */

#define FF_W 1280u
#define FF_H 720u
#define FF_FRAME (FF_W * FF_H * 3 / 2) /* yuv420p */
#define FF_WARMUP 3u                   /* frames not timed (pipeline set-up) */
#define FF_COLOUR "0x3366CC"

/* Starts ffmpeg with `args` (after the program name), its stdout in *out;
 * it dies with this worker. */
static pid_t
ff_start(const struct wk *w, char *const args[], int *out)
{
   int p[2];
   if (pipe2(p, O_CLOEXEC))
      return -1;
   pid_t pid = fork();
   if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(p[1], 1);
      /* the worker's report and go pipes are not ffmpeg's */
      close(w->args->report_fd);
      if (w->args->go_fd >= 0)
         close(w->args->go_fd);
      execv("/usr/bin/ffmpeg", args);
      _exit(127);
   }
   close(p[1]);
   if (pid < 0) {
      close(p[0]);
      return -1;
   }
   *out = p[0];
   return pid;
}

static bool
read_full(int fd, uint8_t *buf, size_t n)
{
   size_t got = 0;
   while (got < n) {
      ssize_t r = read(fd, buf + got, n - got);
      if (r < 0 && errno == EINTR)
         continue;
      if (r <= 0)
         return false;
      got += (size_t)r;
   }
   return true;
}

static int
ff_finish(pid_t pid, int fd)
{
   int st = 0;
   close(fd);
   if (waitpid(pid, &st, 0) != pid)
      return -1;
   return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* One 720p frame of the solid colour converted on the CPU: what scaling the
 * solid image must give back. */
static int
ff_reference(const struct wk *w, uint8_t *ref)
{
   char *args[] = { "ffmpeg",
                    "-v",
                    "error",
                    "-f",
                    "lavfi",
                    "-i",
                    "color=c=" FF_COLOUR ":size=1280x720:rate=30",
                    "-frames:v",
                    "1",
                    "-vf",
                    "format=yuv420p",
                    "-f",
                    "rawvideo",
                    "-",
                    NULL };
   int fd;
   pid_t pid = ff_start(w, args, &fd);
   if (pid < 0)
      return -1;
   bool ok = read_full(fd, ref, FF_FRAME);
   return ff_finish(pid, fd) == 0 && ok ? 0 : -1;
}

/* ffmpeg's Vulkan filters: upload, scale_vulkan (1080p to 720p), download,
 * frames per second once running. The input is a solid colour, so every
 * output byte must equal the CPU's conversion of it at 720p (+-1): the
 * frames went through the device and came back. (avgblur_vulkan is not
 * used: Debian 12's ffmpeg 5.1 blurs a solid image into other values on
 * lavapipe, natively.) */
static int
wl_ffmpeg(struct wk *w)
{
   if (access("/usr/bin/ffmpeg", X_OK)) {
      rep(w, "skip /usr/bin/ffmpeg not installed (Debian: ffmpeg)");
      return 0;
   }
   rep(w, "metric ffmpeg fps 1 ffmpeg hwupload+scale_vulkan 1080p->720p+hwdownload: FPS");
   uint8_t *ref = malloc(FF_FRAME), *frame = malloc(FF_FRAME);
   if (!ref || !frame || ff_reference(w, ref)) {
      rep(w, "error cannot convert the reference frame with ffmpeg");
      return 1;
   }
   const unsigned frames = w->args->iters + FF_WARMUP;
   char nframes[16];
   snprintf(nframes, sizeof(nframes), "%u", frames);
   char *args[] = { "ffmpeg",
                    "-v",
                    "error",
                    "-init_hw_device",
                    "vulkan=vk:0",
                    "-filter_hw_device",
                    "vk",
                    "-f",
                    "lavfi",
                    "-i",
                    "color=c=" FF_COLOUR ":size=1920x1080:rate=30",
                    "-frames:v",
                    nframes,
                    "-vf",
                    "format=yuv420p,hwupload,scale_vulkan=w=1280:h=720,hwdownload,"
                    "format=yuv420p",
                    "-f",
                    "rawvideo",
                    "-",
                    NULL };
   if (!wait_go(w))
      return 1;
   int fd;
   pid_t pid = ff_start(w, args, &fd);
   if (pid < 0) {
      rep(w, "error cannot start ffmpeg: %s", strerror(errno));
      return 1;
   }
   double prev = 0;
   char bad[160] = "";
   unsigned n = 0;
   for (; n < frames && read_full(fd, frame, FF_FRAME); n++) {
      const double t = now_us();
      if (n >= FF_WARMUP)
         push_sample(w, 1e6 / (t - prev));
      prev = t;
      for (size_t i = 0; i < FF_FRAME && !bad[0]; i++) {
         if (abs((int)frame[i] - (int)ref[i]) > 1)
            snprintf(bad, sizeof(bad), "frame %u byte %zu is %u, expected %u", n, i, frame[i],
                     ref[i]);
      }
   }
   const int st = ff_finish(pid, fd);
   free(ref);
   free(frame);
   if (st || n < frames) {
      rep(w, "error ffmpeg exit status %d after %u of %u frames (its log above)", st, n, frames);
      return 1;
   }
   flush_samples(w, "ffmpeg");
   rep(w, "done");
   if (bad[0])
      rep(w, "check fail %s", bad);
   else
      rep(w, "check ok");
   return 0;
}

/* VkFFT (libvkfft-dev, third-party code): 1D complex FFTs of 4096 points
 * over a size_mib buffer (1024 of them at 32 MiB), forward and then inverse
 * FFT_ROUND_TRIPS times in one recorded command buffer (enough GPU work per
 * submission to measure throughput rather than a submission's latency),
 * submitted and waited for each time. VkFFT compiles its shaders and
 * creates its pipelines through the driver under test; where it does not
 * build (bench/meson.build) the workload is reported as skipped, never
 * faked. */
#define FFT_POINTS 4096u
#define FFT_ROUND_TRIPS 10u

static int
wl_vkfft(struct wk *w)
{
   const unsigned mib = w->args->size_mib ? w->args->size_mib : 32;
   const uint32_t batch = (uint32_t)(((uint64_t)mib << 20) / (FFT_POINTS * 8u));
#ifndef PVBENCH_VKFFT_BUILDS
   (void)batch;
   rep(w, "skip VkFFT (libvkfft-dev with glslang-dev and spirv-tools) did not build here");
   return 0;
#else
   rep(w,
       "metric vkfft ms 0 VkFFT: %u-point complex FFTs x %u (%u MiB), %ux (forward + inverse) "
       "+ wait",
       FFT_POINTS, batch, mib, FFT_ROUND_TRIPS);
   if (init_vk(w))
      return 1;
   struct pb_fft *f;
   char why[256];
   if (pb_fft_create(&w->vk, FFT_POINTS, batch, FFT_ROUND_TRIPS, &f, why, sizeof(why))) {
      rep(w, "error VkFFT: %s", why);
      return 1;
   }
   if (vkb_submit_wait(&w->vk, pb_fft_cmd(f), WAIT_NS) != VK_SUCCESS) /* warm-up */
      return rep_vk_error(w);
   if (!wait_go(w))
      return 1;
   for (unsigned i = 0; i < w->args->iters; i++) {
      const double t0 = now_us();
      if (vkb_submit_wait(&w->vk, pb_fft_cmd(f), WAIT_NS) != VK_SUCCESS)
         return rep_vk_error(w);
      push_sample(w, (now_us() - t0) / 1e3);
   }
   flush_samples(w, "vkfft");
   rep(w, "done");
   /* every run is a round trip: the data must still be the input */
   const double err = pb_fft_max_error(f);
   if (err >= 0 && err < 1e-3)
      rep(w, "check ok");
   else
      rep(w, "check fail largest difference from the input after %u round trips: %g",
          (w->args->iters + 1) * FFT_ROUND_TRIPS, err);
   pb_fft_destroy(f);
   vkb_fini(&w->vk);
   return 0;
#endif
}

struct workload_entry {
   const char *name;
   int (*run)(struct wk *w);
};

static const struct workload_entry workloads[] = {
   { "create", wl_create },         { "createpaced", wl_createpaced }, { "clear", wl_clear },
   { "frames", wl_frames },         { "submit", wl_submit },           { "draws", wl_draws },
   { "compute", wl_compute },       { "upload", wl_upload },           { "pipeline", wl_pipeline },
   { "clientloop", wl_clientloop }, { "drawpush", wl_drawpush },       { "drawbind", wl_drawbind },
   { "mlchain", wl_mlchain },       { "ffmpeg", wl_ffmpeg },           { "vkfft", wl_vkfft },
   { "fairness", wl_fairness },
};

int
pb_worker_main(const struct pb_worker_args *args)
{
   struct wk w;
   memset(&w, 0, sizeof(w));
   w.args = args;
   w.uss_start = pb_proc_uss_kb(0);
   if (vkb_pin_driver())
      rep(&w, "info pin failed: driver library not pinned");
   for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
      if (!strcmp(workloads[i].name, args->workload)) {
         int rc = workloads[i].run(&w);
         free(w.samples);
         return rc;
      }
   }
   rep(&w, "error unknown workload %s", args->workload);
   return 2;
}
