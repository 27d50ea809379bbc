/*
 * Unit tests of the virtio-gpu device model without a renderer: every 2D,
 * blob and cursor command with good and bad fields, driven through iovecs
 * and a fake guest memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/test_check.h"
#include "vgpu.h"

#define GUEST_BASE 0x100000ull
#define GUEST_SIZE (4u << 20)
#define HOLE_BASE (GUEST_BASE + GUEST_SIZE + 0x1000) /* second region after a hole */
#define HOLE_SIZE 0x10000u

struct harness {
   uint8_t *mem;  /* [GUEST_BASE, GUEST_BASE + GUEST_SIZE) */
   uint8_t *mem2; /* [HOLE_BASE, HOLE_BASE + HOLE_SIZE) */
   struct pv_vgpu *dev;
   /* display events */
   int scanouts, updates, cursors;
   uint32_t scan_w, scan_h;
   uint32_t up_x, up_y, up_w, up_h;
   uint32_t first_px;
   uint32_t cur_x, cur_y, cur_first;
   bool cur_visible, cur_image;
};

static uint64_t
translate(void *data, uint64_t gpa, uint64_t len, void **host)
{
   struct harness *h = data;
   if (gpa >= GUEST_BASE && gpa < GUEST_BASE + GUEST_SIZE) {
      uint64_t avail = GUEST_BASE + GUEST_SIZE - gpa;
      *host = h->mem + (gpa - GUEST_BASE);
      return len < avail ? len : avail;
   }
   if (gpa >= HOLE_BASE && gpa < HOLE_BASE + HOLE_SIZE) {
      uint64_t avail = HOLE_BASE + HOLE_SIZE - gpa;
      *host = h->mem2 + (gpa - HOLE_BASE);
      return len < avail ? len : avail;
   }
   return 0;
}

static void
on_scanout(void *data, uint32_t id, uint32_t w, uint32_t hh)
{
   struct harness *h = data;
   h->scanouts++;
   h->scan_w = w;
   h->scan_h = hh;
}

static void
on_update(void *data, uint32_t id, uint32_t x, uint32_t y, uint32_t w, uint32_t hh,
          const uint32_t *px)
{
   struct harness *h = data;
   h->updates++;
   h->up_x = x;
   h->up_y = y;
   h->up_w = w;
   h->up_h = hh;
   h->first_px = px[0];
}

static void
on_cursor(void *data, uint32_t id, uint32_t x, uint32_t y, bool visible, const uint32_t *image,
          uint32_t hx, uint32_t hy)
{
   struct harness *h = data;
   h->cursors++;
   h->cur_x = x;
   h->cur_y = y;
   h->cur_visible = visible;
   h->cur_image = image != NULL;
   if (image)
      h->cur_first = image[0];
}

static void
setup(struct harness *h, uint64_t max_mem)
{
   memset(h, 0, sizeof(*h));
   h->mem = calloc(1, GUEST_SIZE);
   h->mem2 = calloc(1, HOLE_SIZE);
   struct pv_vgpu_config cfg = {
      .num_scanouts = 2,
      .width = 640,
      .height = 480,
      .max_host_memory = max_mem,
      .translate = translate,
      .translate_data = h,
      .display = { .data = h, .scanout = on_scanout, .update = on_update, .cursor = on_cursor },
   };
   EXPECT(pv_vgpu_create(&cfg, &h->dev) == 0);
}

static void
teardown(struct harness *h)
{
   pv_vgpu_destroy(h->dev);
   free(h->mem);
   free(h->mem2);
}

static uint8_t resp_buf[8192];

/* Sends a control request; returns the response type (0: no response). */
static uint32_t
ctrl(struct harness *h, const void *req, size_t len)
{
   struct iovec in = { (void *)req, len }, out = { resp_buf, sizeof(resp_buf) };
   memset(resp_buf, 0xcc, sizeof(resp_buf));
   uint32_t used = pv_vgpu_process_ctrl(h->dev, &in, 1, &out, 1, NULL);
   if (used < sizeof(struct virtio_gpu_ctrl_hdr))
      return 0;
   return ((struct virtio_gpu_ctrl_hdr *)resp_buf)->type;
}

static uint32_t
cursor_cmd(struct harness *h, const void *req, size_t len)
{
   struct iovec in = { (void *)req, len }, out = { resp_buf, sizeof(resp_buf) };
   uint32_t used = pv_vgpu_process_cursor(h->dev, &in, 1, &out, 1);
   return used >= sizeof(struct virtio_gpu_ctrl_hdr)
             ? ((struct virtio_gpu_ctrl_hdr *)resp_buf)->type
             : 0;
}

static uint32_t
create_2d(struct harness *h, uint32_t id, uint32_t fmt, uint32_t w, uint32_t hh)
{
   struct virtio_gpu_resource_create_2d c = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
                                              .resource_id = id,
                                              .format = fmt,
                                              .width = w,
                                              .height = hh };
   return ctrl(h, &c, sizeof(c));
}

static uint32_t
attach(struct harness *h, uint32_t id, uint32_t n, const uint64_t *addr, const uint32_t *len)
{
   struct {
      struct virtio_gpu_resource_attach_backing c;
      struct virtio_gpu_mem_entry e[4];
   } r = { .c = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
                  .resource_id = id,
                  .nr_entries = n } };
   for (uint32_t i = 0; i < n && i < 4; i++)
      r.e[i] = (struct virtio_gpu_mem_entry){ .addr = addr[i], .length = len[i] };
   return ctrl(h, &r, sizeof(r.c) + (n < 4 ? n : 4) * sizeof(r.e[0]));
}

static uint32_t
transfer(struct harness *h, uint32_t id, uint32_t x, uint32_t y, uint32_t w, uint32_t hh,
         uint64_t off)
{
   struct virtio_gpu_transfer_to_host_2d c = { .hdr.type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
                                               .r = { x, y, w, hh },
                                               .offset = off,
                                               .resource_id = id };
   return ctrl(h, &c, sizeof(c));
}

static uint32_t
set_scanout(struct harness *h, uint32_t sid, uint32_t id, uint32_t x, uint32_t y, uint32_t w,
            uint32_t hh)
{
   struct virtio_gpu_set_scanout c = { .hdr.type = VIRTIO_GPU_CMD_SET_SCANOUT,
                                       .r = { x, y, w, hh },
                                       .scanout_id = sid,
                                       .resource_id = id };
   return ctrl(h, &c, sizeof(c));
}

static uint32_t
flush(struct harness *h, uint32_t id, uint32_t x, uint32_t y, uint32_t w, uint32_t hh)
{
   struct virtio_gpu_resource_flush c = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_FLUSH,
                                          .r = { x, y, w, hh },
                                          .resource_id = id };
   return ctrl(h, &c, sizeof(c));
}

static uint32_t
simple(struct harness *h, uint32_t type, uint32_t id)
{
   struct virtio_gpu_resource_unref c = { .hdr.type = type, .resource_id = id };
   return ctrl(h, &c, sizeof(c));
}

static void
test_header_and_display_info(void)
{
   struct harness h;
   setup(&h, 0);
   struct virtio_gpu_ctrl_hdr hdr = { .type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO };
   EXPECT(ctrl(&h, &hdr, sizeof(hdr)) == VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
   struct virtio_gpu_resp_display_info *di = (void *)resp_buf;
   EXPECT(di->pmodes[0].enabled == 1 && di->pmodes[0].r.width == 640 &&
          di->pmodes[0].r.height == 480);
   EXPECT(di->pmodes[1].enabled == 1 && di->pmodes[2].enabled == 0);

   /* Short request, unknown command, cursor command on the control queue. */
   EXPECT(ctrl(&h, &hdr, 8) == VIRTIO_GPU_RESP_ERR_UNSPEC);
   hdr.type = 0x999;
   EXPECT(ctrl(&h, &hdr, sizeof(hdr)) == VIRTIO_GPU_RESP_ERR_UNSPEC);
   hdr.type = VIRTIO_GPU_CMD_MOVE_CURSOR;
   EXPECT(ctrl(&h, &hdr, sizeof(hdr)) == VIRTIO_GPU_RESP_ERR_UNSPEC);
   /* Truncated command body. */
   struct virtio_gpu_resource_create_2d c2 = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
                                               .resource_id = 1,
                                               .format = 1,
                                               .width = 4,
                                               .height = 4 };
   EXPECT(ctrl(&h, &c2, sizeof(c2) - 4) == VIRTIO_GPU_RESP_ERR_UNSPEC);

   /* Response buffer too small: nothing written. */
   hdr.type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO;
   struct iovec in = { &hdr, sizeof(hdr) }, out = { resp_buf, 16 };
   EXPECT(pv_vgpu_process_ctrl(h.dev, &in, 1, &out, 1, NULL) == 0);

   /* Request and response split over several iovecs. */
   uint8_t *raw = (uint8_t *)&hdr;
   struct iovec ins[3] = { { raw, 5 }, { raw + 5, 7 }, { raw + 12, sizeof(hdr) - 12 } };
   static uint8_t o1[100], o2[400];
   struct iovec outs[2] = { { o1, sizeof(o1) }, { o2, sizeof(o2) } };
   EXPECT(pv_vgpu_process_ctrl(h.dev, ins, 3, outs, 2, NULL) == sizeof(*di));
   EXPECT(((struct virtio_gpu_ctrl_hdr *)o1)->type == VIRTIO_GPU_RESP_OK_DISPLAY_INFO);

   /* Fences are echoed. */
   hdr = (struct virtio_gpu_ctrl_hdr){ .type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO,
                                       .flags = VIRTIO_GPU_FLAG_FENCE,
                                       .fence_id = 77 };
   struct pv_vgpu_fence_wait wait;
   in = (struct iovec){ &hdr, sizeof(hdr) };
   out = (struct iovec){ resp_buf, sizeof(resp_buf) };
   pv_vgpu_process_ctrl(h.dev, &in, 1, &out, 1, &wait);
   EXPECT(!wait.pending);
   EXPECT(di->hdr.flags & VIRTIO_GPU_FLAG_FENCE);
   EXPECT(di->hdr.fence_id == 77);

   struct virtio_gpu_config cfg;
   pv_vgpu_get_config(h.dev, &cfg);
   EXPECT(cfg.num_scanouts == 2 && cfg.num_capsets == 0);
   uint64_t f = pv_vgpu_features(h.dev);
   EXPECT((f & (1ull << VIRTIO_GPU_F_EDID)) && !(f & (1ull << VIRTIO_GPU_F_VIRGL)));
   teardown(&h);
}

static void
test_edid(void)
{
   struct harness h;
   setup(&h, 0);
   struct virtio_gpu_cmd_get_edid c = { .hdr.type = VIRTIO_GPU_CMD_GET_EDID, .scanout = 1 };
   EXPECT(ctrl(&h, &c, sizeof(c)) == VIRTIO_GPU_RESP_OK_EDID);
   struct virtio_gpu_resp_edid *r = (void *)resp_buf;
   EXPECT(r->size == 128);
   uint8_t sum = 0;
   for (int i = 0; i < 128; i++)
      sum += r->edid[i];
   EXPECT(sum == 0);
   EXPECT(r->edid[0] == 0 && r->edid[1] == 0xff && r->edid[56] == (640 & 0xff));
   c.scanout = 2;
   EXPECT(ctrl(&h, &c, sizeof(c)) == VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
   teardown(&h);
}

static void
test_create_unref(void)
{
   struct harness h;
   setup(&h, 1 << 20);
   EXPECT(create_2d(&h, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(create_2d(&h, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) ==
          VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   EXPECT(create_2d(&h, 0, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) ==
          VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   EXPECT(create_2d(&h, 2, 999, 64, 64) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(create_2d(&h, 2, VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 0, 64) ==
          VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(create_2d(&h, 2, VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 64, 0) ==
          VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(create_2d(&h, 2, VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 0x80000000u, 0x80000000u) ==
          VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   /* 1 MiB host memory budget: 64*64*4 used, 512x512x4 does not fit. */
   EXPECT(create_2d(&h, 2, VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 512, 512) ==
          VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
   EXPECT(simple(&h, VIRTIO_GPU_CMD_RESOURCE_UNREF, 1) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(simple(&h, VIRTIO_GPU_CMD_RESOURCE_UNREF, 1) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   EXPECT(simple(&h, VIRTIO_GPU_CMD_RESOURCE_UNREF, 0) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   /* Budget returned on unref. */
   EXPECT(create_2d(&h, 2, VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 512, 512) ==
          VIRTIO_GPU_RESP_OK_NODATA);
   teardown(&h);
}

static void
test_backing(void)
{
   struct harness h;
   setup(&h, 0);
   EXPECT(create_2d(&h, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 16, 16) == VIRTIO_GPU_RESP_OK_NODATA);
   uint64_t a[2] = { GUEST_BASE, GUEST_BASE + 0x1000 };
   uint32_t l[2] = { 0x200, 0x200 };
   EXPECT(attach(&h, 9, 1, a, l) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   /* Outside guest memory, straddling the end, overflowing, empty. */
   uint64_t bad[4] = { 0x1000, GUEST_BASE + GUEST_SIZE - 0x10, 0xfffffffffffff000ull, GUEST_BASE };
   uint32_t badl[4] = { 0x100, 0x100, 0x2000, 0 };
   for (int i = 0; i < 4; i++)
      EXPECT(attach(&h, 1, 1, &bad[i], &badl[i]) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   /* A region after the hole is fine; the hole itself is not. */
   uint64_t hole = GUEST_BASE + GUEST_SIZE + 0x10;
   uint32_t hl = 0x10;
   EXPECT(attach(&h, 1, 1, &hole, &hl) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   /* nr_entries larger than what the request carries; zero entries. */
   EXPECT(attach(&h, 1, 0, a, l) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   struct virtio_gpu_resource_attach_backing lie = {
      .hdr.type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, .resource_id = 1, .nr_entries = 1000
   };
   EXPECT(ctrl(&h, &lie, sizeof(lie)) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   lie.nr_entries = 0xffffffffu;
   EXPECT(ctrl(&h, &lie, sizeof(lie)) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   /* Good, then twice. */
   EXPECT(attach(&h, 1, 2, a, l) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(attach(&h, 1, 2, a, l) == VIRTIO_GPU_RESP_ERR_UNSPEC);
   EXPECT(simple(&h, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 1) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(simple(&h, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 1) == VIRTIO_GPU_RESP_ERR_UNSPEC);
   EXPECT(simple(&h, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 5) ==
          VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   teardown(&h);
}

static void
test_transfer_scanout_flush(void)
{
   struct harness h;
   setup(&h, 0);
   const uint32_t W = 32, H = 8, stride = W * 4;
   EXPECT(create_2d(&h, 1, VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, W, H) == VIRTIO_GPU_RESP_OK_NODATA);
   /* No backing yet. */
   EXPECT(transfer(&h, 1, 0, 0, W, H, 0) == VIRTIO_GPU_RESP_ERR_UNSPEC);
   /* Backing split in two entries across the two guest regions. */
   uint64_t a[2] = { GUEST_BASE + 0x3000, HOLE_BASE };
   uint32_t l[2] = { stride * 3, stride * (H - 3) };
   EXPECT(attach(&h, 1, 2, a, l) == VIRTIO_GPU_RESP_OK_NODATA);
   /* Pixel (x=2, y=4) = R 0x11 G 0x22 B 0x33 A 0x44 in the second entry. */
   uint8_t *px = h.mem2 + (4 - 3) * stride + 2 * 4;
   px[0] = 0x11, px[1] = 0x22, px[2] = 0x33, px[3] = 0x44;
   EXPECT(transfer(&h, 1, 0, 0, W, H, 0) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(transfer(&h, 1, 2, 4, 3, 2, 4 * stride + 8) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(transfer(&h, 2, 0, 0, W, H, 0) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   EXPECT(transfer(&h, 1, 1, 0, W, H, 0) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(transfer(&h, 1, 0, 0xffffffffu, W, 2, 0) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(transfer(&h, 1, 0, 0, W, H, 4) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(transfer(&h, 1, 0, 0, 1, 1, 0xfffffffffffffff0ull) ==
          VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);

   EXPECT(set_scanout(&h, 2, 1, 0, 0, W, H) == VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
   EXPECT(set_scanout(&h, 0, 7, 0, 0, W, H) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   EXPECT(set_scanout(&h, 0, 1, 1, 0, W, H) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(set_scanout(&h, 0, 1, 0, 0, 0, H) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(h.scanouts == 0);
   /* Scanout shows the sub-rectangle starting at (2, 4). */
   EXPECT(set_scanout(&h, 0, 1, 2, 4, 8, 4) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(h.scanouts == 1 && h.scan_w == 8 && h.scan_h == 4);
   EXPECT(h.updates == 1 && h.up_w == 8 && h.up_h == 4);
   EXPECT(h.first_px == 0x44112233u); /* 0xAARRGGBB */

   /* Flush of a rectangle partly outside the scanout is clipped. */
   EXPECT(flush(&h, 1, 0, 0, 4, 6) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(h.updates == 2 && h.up_x == 0 && h.up_y == 0 && h.up_w == 2 && h.up_h == 2);
   EXPECT(h.first_px == 0x44112233u);
   /* Flush outside the scanout: no update. */
   EXPECT(flush(&h, 1, 20, 0, 4, 2) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(h.updates == 2);
   EXPECT(flush(&h, 1, 0, 0, W + 1, 1) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(flush(&h, 1, 0xffffffffu, 0, 2, 1) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(flush(&h, 3, 0, 0, 1, 1) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);

   /* Unref disables the scanout. */
   EXPECT(simple(&h, VIRTIO_GPU_CMD_RESOURCE_UNREF, 1) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(h.scanouts == 2 && h.scan_w == 0);
   /* Disable an already disabled scanout: fine, no event. */
   EXPECT(set_scanout(&h, 0, 0, 0, 0, 0, 0) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(h.scanouts == 2);
   teardown(&h);
}

static void
test_cursor(void)
{
   struct harness h;
   setup(&h, 0);
   EXPECT(create_2d(&h, 1, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(create_2d(&h, 2, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 32, 32) == VIRTIO_GPU_RESP_OK_NODATA);
   uint64_t a = GUEST_BASE;
   uint32_t l = 64 * 64 * 4;
   h.mem[0] = 0x01, h.mem[1] = 0x02, h.mem[2] = 0x03, h.mem[3] = 0x80;
   EXPECT(attach(&h, 1, 1, &a, &l) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(transfer(&h, 1, 0, 0, 64, 64, 0) == VIRTIO_GPU_RESP_OK_NODATA);

   struct virtio_gpu_update_cursor c = { .hdr.type = VIRTIO_GPU_CMD_UPDATE_CURSOR,
                                         .pos = { .scanout_id = 0, .x = 10, .y = 20 },
                                         .resource_id = 1,
                                         .hot_x = 3,
                                         .hot_y = 4 };
   EXPECT(cursor_cmd(&h, &c, sizeof(c)) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(h.cursors == 1 && h.cur_image && h.cur_visible && h.cur_first == 0x80030201u);
   c.hdr.type = VIRTIO_GPU_CMD_MOVE_CURSOR;
   c.pos.x = 50;
   EXPECT(cursor_cmd(&h, &c, sizeof(c)) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(h.cursors == 2 && !h.cur_image && h.cur_x == 50);
   c.hdr.type = VIRTIO_GPU_CMD_UPDATE_CURSOR;
   c.resource_id = 0;
   EXPECT(cursor_cmd(&h, &c, sizeof(c)) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(h.cursors == 3 && !h.cur_visible);
   c.resource_id = 2; /* not 64x64 */
   EXPECT(cursor_cmd(&h, &c, sizeof(c)) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   c.resource_id = 1;
   c.hot_x = 64;
   EXPECT(cursor_cmd(&h, &c, sizeof(c)) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   c.hot_x = 0;
   c.resource_id = 99;
   EXPECT(cursor_cmd(&h, &c, sizeof(c)) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   c.pos.scanout_id = 16;
   EXPECT(cursor_cmd(&h, &c, sizeof(c)) == VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
   EXPECT(cursor_cmd(&h, &c, 20) == VIRTIO_GPU_RESP_ERR_UNSPEC);
   /* Control commands are refused on the cursor queue. */
   struct virtio_gpu_ctrl_hdr hdr = { .type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO };
   EXPECT(cursor_cmd(&h, &hdr, sizeof(hdr)) == VIRTIO_GPU_RESP_ERR_UNSPEC);
   EXPECT(h.cursors == 3);
   teardown(&h);
}

static uint32_t
create_blob(struct harness *h, uint32_t id, uint32_t mem, uint32_t flags, uint64_t size, uint32_t n,
            uint64_t addr, uint32_t len)
{
   struct {
      struct virtio_gpu_resource_create_blob c;
      struct virtio_gpu_mem_entry e;
   } r = { .c = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
                  .resource_id = id,
                  .blob_mem = mem,
                  .blob_flags = flags,
                  .nr_entries = n,
                  .size = size },
           .e = { .addr = addr, .length = len } };
   return ctrl(h, &r, sizeof(r.c) + (n ? sizeof(r.e) : 0));
}

static uint32_t
scanout_blob(struct harness *h, uint32_t sid, uint32_t id, uint32_t w, uint32_t hh, uint32_t stride,
             uint32_t off)
{
   struct virtio_gpu_set_scanout_blob c = { .hdr.type = VIRTIO_GPU_CMD_SET_SCANOUT_BLOB,
                                            .r = { 0, 0, w, hh },
                                            .scanout_id = sid,
                                            .resource_id = id,
                                            .width = w,
                                            .height = hh,
                                            .format = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
                                            .strides = { stride },
                                            .offsets = { off } };
   return ctrl(h, &c, sizeof(c));
}

static void
test_blobs(void)
{
   struct harness h;
   setup(&h, 0);
   const uint32_t W = 16, H = 16, size = W * H * 4;
   uint64_t base = GUEST_BASE + 0x10000;
   EXPECT(create_blob(&h, 1, VIRTIO_GPU_BLOB_MEM_GUEST, 0, size, 1, base, size) ==
          VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(create_blob(&h, 1, VIRTIO_GPU_BLOB_MEM_GUEST, 0, size, 1, base, size) ==
          VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   EXPECT(create_blob(&h, 0, VIRTIO_GPU_BLOB_MEM_GUEST, 0, size, 1, base, size) ==
          VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   EXPECT(create_blob(&h, 2, 0, 0, size, 1, base, size) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(create_blob(&h, 2, 4, 0, size, 1, base, size) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(create_blob(&h, 2, VIRTIO_GPU_BLOB_MEM_GUEST, 8, size, 1, base, size) ==
          VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(create_blob(&h, 2, VIRTIO_GPU_BLOB_MEM_GUEST, 0, 0, 1, base, size) ==
          VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(create_blob(&h, 2, VIRTIO_GPU_BLOB_MEM_GUEST, 0, size, 0, 0, 0) ==
          VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(create_blob(&h, 2, VIRTIO_GPU_BLOB_MEM_GUEST, 0, size * 2, 1, base, size) ==
          VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(create_blob(&h, 2, VIRTIO_GPU_BLOB_MEM_GUEST, 0, size, 1, 0x10, size) ==
          VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   /* Host blobs need a renderer. */
   EXPECT(create_blob(&h, 2, VIRTIO_GPU_BLOB_MEM_HOST3D, 1, size, 0, 0, 0) ==
          VIRTIO_GPU_RESP_ERR_UNSPEC);
   EXPECT(create_blob(&h, 2, VIRTIO_GPU_BLOB_MEM_HOST3D, 1, size, 1, base, size) ==
          VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);

   /* Blob resources are not 2D resources. */
   EXPECT(transfer(&h, 1, 0, 0, 1, 1, 0) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   EXPECT(set_scanout(&h, 0, 1, 0, 0, 1, 1) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   EXPECT(simple(&h, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 1) == VIRTIO_GPU_RESP_ERR_UNSPEC);

   /* Pixel (1, 2): bytes B G R X. */
   uint8_t *p = h.mem + 0x10000 + 2 * W * 4 + 4;
   p[0] = 0x33, p[1] = 0x22, p[2] = 0x11;
   EXPECT(scanout_blob(&h, 0, 1, W, H, W * 4 - 4, 0) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(scanout_blob(&h, 0, 1, W, H, W * 4, 4) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(scanout_blob(&h, 0, 1, W, H + 1, W * 4, 0) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(scanout_blob(&h, 0, 1, 0, H, W * 4, 0) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(scanout_blob(&h, 0, 9, W, H, W * 4, 0) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   EXPECT(scanout_blob(&h, 5, 1, W, H, W * 4, 0) == VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
   EXPECT(scanout_blob(&h, 0, 1, W, H, W * 4, 0) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(h.scanouts == 1 && h.scan_w == W && h.updates == 1);
   EXPECT(flush(&h, 1, 1, 2, 1, 1) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(h.updates == 2 && h.up_x == 1 && h.up_y == 2 && (h.first_px & 0xffffff) == 0x112233u);

   /* Mapping needs a host-visible region, which this device has none of. */
   struct virtio_gpu_resource_map_blob m = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB,
                                             .resource_id = 1 };
   EXPECT(ctrl(&h, &m, sizeof(m)) == VIRTIO_GPU_RESP_ERR_UNSPEC);
   EXPECT(simple(&h, VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 1) == VIRTIO_GPU_RESP_ERR_UNSPEC);

   EXPECT(simple(&h, VIRTIO_GPU_CMD_RESOURCE_UNREF, 1) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(h.scanouts == 2 && h.scan_w == 0);
   teardown(&h);
}

static void
test_3d_without_renderer(void)
{
   struct harness h;
   setup(&h, 0);
   struct virtio_gpu_get_capset_info ci = { .hdr.type = VIRTIO_GPU_CMD_GET_CAPSET_INFO };
   EXPECT(ctrl(&h, &ci, sizeof(ci)) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   struct virtio_gpu_ctx_create cc = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_CREATE, .ctx_id = 1 },
                                       .context_init = 4 };
   EXPECT(ctrl(&h, &cc, sizeof(cc)) == VIRTIO_GPU_RESP_ERR_UNSPEC);
   struct virtio_gpu_cmd_submit s = { .hdr = { .type = VIRTIO_GPU_CMD_SUBMIT_3D, .ctx_id = 1 } };
   EXPECT(ctrl(&h, &s, sizeof(s)) == VIRTIO_GPU_RESP_ERR_UNSPEC);
   teardown(&h);
}

int
main(void)
{
   test_header_and_display_info();
   test_edid();
   test_create_unref();
   test_backing();
   test_transfer_scanout_flush();
   test_cursor();
   test_blobs();
   test_3d_without_renderer();
   return test_report("vgpu");
}
