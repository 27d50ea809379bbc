/*
 * virtio-gpu device model: request parsing, 2D resources, scanouts, cursor.
 * 3D commands are routed to the renderer by vgpu_3d.c.
 */
#include "vgpu_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define TAG "vgpu"
#define MAX_DIM 16384u
#define MAX_ENTRIES (1u << 20)
#define RESP_MAX (64u << 10)
#define CURSOR_DIM 64u

/* ---- small helpers ---------------------------------------------------- */

bool
vgpu_rect_inside(const struct virtio_gpu_rect *r, uint32_t w, uint32_t h)
{
   return (uint64_t)r->x + r->width <= w && (uint64_t)r->y + r->height <= h;
}

bool
vgpu_format_supported(uint32_t format)
{
   switch (format) {
   case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
   case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
   case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
   case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
   case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
   case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
   case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
   case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
      return true;
   default:
      return false;
   }
}

/* Byte positions of R, G, B, A inside one 4-byte pixel (virtio formats are
 * named by byte order in memory); a < 0: no alpha. */
struct byte_layout {
   int r, g, b, a;
};

static struct byte_layout
format_layout(uint32_t format)
{
   switch (format) {
   case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
      return (struct byte_layout){ 2, 1, 0, 3 };
   case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
      return (struct byte_layout){ 2, 1, 0, -1 };
   case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
      return (struct byte_layout){ 1, 2, 3, 0 };
   case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
      return (struct byte_layout){ 1, 2, 3, -1 };
   case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
      return (struct byte_layout){ 0, 1, 2, 3 };
   case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
      return (struct byte_layout){ 3, 2, 1, -1 };
   case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
      return (struct byte_layout){ 3, 2, 1, 0 };
   default: /* R8G8B8X8 */
      return (struct byte_layout){ 0, 1, 2, -1 };
   }
}

/* Converts one row to 0xAARRGGBB. */
static void
convert_row(uint32_t format, const uint8_t *src, uint32_t *dst, uint32_t w)
{
   struct byte_layout l = format_layout(format);
   for (uint32_t i = 0; i < w; i++, src += 4) {
      uint32_t a = l.a >= 0 ? src[l.a] : 0xff;
      dst[i] = a << 24 | (uint32_t)src[l.r] << 16 | (uint32_t)src[l.g] << 8 | src[l.b];
   }
}

static uint32_t *
conv_buffer(struct pv_vgpu *dev, size_t pixels)
{
   if (pixels > dev->conv_cap) {
      uint32_t *p = realloc(dev->conv, pixels * sizeof(uint32_t));
      if (!p)
         return NULL;
      dev->conv = p;
      dev->conv_cap = pixels;
   }
   return dev->conv;
}

/* ---- requests and responses ------------------------------------------- */

void *
vgpu_resp_alloc(struct vgpu_req *req, uint32_t type, size_t size)
{
   if (size > req->resp_cap) {
      req->resp_len = 0;
      if (type < VIRTIO_GPU_RESP_ERR_UNSPEC)
         vgpu_reject(req, VIRTIO_GPU_RESP_ERR_UNSPEC,
                     "response buffer of %zu bytes, the response has %zu", req->resp_cap, size);
      return NULL;
   }
   memset(req->resp, 0, size);
   struct virtio_gpu_ctrl_hdr *h = (struct virtio_gpu_ctrl_hdr *)req->resp;
   h->type = type;
   if (req->hdr.flags & VIRTIO_GPU_FLAG_FENCE) {
      h->flags = req->hdr.flags & (VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX);
      h->fence_id = req->hdr.fence_id;
      h->ctx_id = req->hdr.ctx_id;
      h->ring_idx = req->hdr.ring_idx;
   }
   req->resp_len = size;
   return req->resp;
}

static size_t
iov_total(const struct iovec *iov, unsigned n)
{
   size_t t = 0;
   for (unsigned i = 0; i < n; i++) {
      if (iov[i].iov_len > PV_VGPU_MAX_REQUEST || t + iov[i].iov_len > PV_VGPU_MAX_REQUEST)
         return PV_VGPU_MAX_REQUEST + 1;
      t += iov[i].iov_len;
   }
   return t;
}

static void
iov_gather(const struct iovec *iov, unsigned n, uint8_t *dst, size_t len)
{
   for (unsigned i = 0; i < n && len; i++) {
      size_t c = iov[i].iov_len < len ? iov[i].iov_len : len;
      memcpy(dst, iov[i].iov_base, c);
      dst += c;
      len -= c;
   }
}

static uint32_t
iov_scatter(const struct iovec *iov, unsigned n, const uint8_t *src, size_t len)
{
   size_t done = 0;
   for (unsigned i = 0; i < n && done < len; i++) {
      size_t c = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;
      memcpy(iov[i].iov_base, src + done, c);
      done += c;
   }
   return (uint32_t)done;
}

bool
vgpu_req_get(const struct vgpu_req *req, void *cmd, size_t size)
{
   if (req->len < size) {
      vgpu_reject(req, VIRTIO_GPU_RESP_ERR_UNSPEC, "request of %zu bytes, the command has %zu",
                  req->len, size);
      return false;
   }
   memcpy(cmd, req->buf, size);
   return true;
}

/* ---- guest memory ----------------------------------------------------- */

static bool
gpa_range_valid(struct pv_vgpu *dev, uint64_t gpa, uint64_t len)
{
   if (gpa + len < gpa)
      return false;
   while (len) {
      void *host;
      uint64_t c =
         dev->cfg.translate ? dev->cfg.translate(dev->cfg.translate_data, gpa, len, &host) : 0;
      if (c == 0 || c > len)
         return false;
      gpa += c;
      len -= c;
   }
   return true;
}

uint32_t
vgpu_parse_entries(struct pv_vgpu *dev, const struct vgpu_req *req, size_t off, uint32_t nr,
                   struct vgpu_mem_entry **out, uint64_t *total)
{
   *out = NULL;
   *total = 0;
   if (nr == 0 || nr > MAX_ENTRIES || off > req->len ||
       (uint64_t)nr * sizeof(struct virtio_gpu_mem_entry) > req->len - off)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                         "%u memory entries: none, over %u or past the request's %zu bytes", nr,
                         MAX_ENTRIES, req->len);
   struct vgpu_mem_entry *e = calloc(nr, sizeof(*e));
   if (!e)
      return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
   uint64_t sum = 0;
   for (uint32_t i = 0; i < nr; i++) {
      struct virtio_gpu_mem_entry me;
      memcpy(&me, req->buf + off + i * sizeof(me), sizeof(me));
      if (me.length == 0 || !gpa_range_valid(dev, me.addr, me.length)) {
         free(e);
         return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                            "memory entry %u (0x%llx, %u bytes): empty or outside guest RAM", i,
                            (unsigned long long)me.addr, me.length);
      }
      e[i].gpa = me.addr;
      e[i].len = me.length;
      sum += me.length; /* <= 2^20 * 2^32: no overflow */
   }
   *out = e;
   *total = sum;
   return VIRTIO_GPU_RESP_OK_NODATA;
}

int
vgpu_backing_read(struct pv_vgpu *dev, const struct vgpu_mem_entry *e, uint32_t n, uint64_t offset,
                  void *dst, uint64_t len)
{
   uint8_t *d = dst;
   uint32_t i = 0;
   /* Skip whole entries before offset. */
   while (i < n && offset >= e[i].len) {
      offset -= e[i].len;
      i++;
   }
   while (len) {
      if (i >= n)
         return -EFAULT;
      uint64_t avail = e[i].len - offset;
      uint64_t want = len < avail ? len : avail;
      uint64_t gpa = e[i].gpa + offset;
      while (want) {
         void *host;
         uint64_t c =
            dev->cfg.translate ? dev->cfg.translate(dev->cfg.translate_data, gpa, want, &host) : 0;
         if (c == 0 || c > want)
            return -EFAULT; /* memory table changed under the backing */
         memcpy(d, host, c);
         d += c;
         gpa += c;
         want -= c;
         len -= c;
      }
      offset = 0;
      i++;
   }
   return 0;
}

/* ---- resources -------------------------------------------------------- */

struct vgpu_res *
vgpu_res_find(struct pv_vgpu *dev, uint32_t id)
{
   if (id == 0)
      return NULL;
   for (uint32_t i = 0; i < dev->nres; i++)
      if (dev->res[i]->id == id)
         return dev->res[i];
   return NULL;
}

int
vgpu_res_add(struct pv_vgpu *dev, struct vgpu_res *res)
{
   if (dev->nres >= dev->cfg.max_resources)
      return -ENOSPC;
   if (dev->nres == dev->res_cap) {
      uint32_t cap = dev->res_cap ? dev->res_cap * 2 : 16;
      struct vgpu_res **p = realloc(dev->res, cap * sizeof(*p));
      if (!p)
         return -ENOMEM;
      dev->res = p;
      dev->res_cap = cap;
   }
   dev->res[dev->nres++] = res;
   return 0;
}

static void
scanout_disable(struct pv_vgpu *dev, uint32_t id)
{
   struct vgpu_scanout *s = &dev->scanout[id];
   bool shown = s->shown_w != 0;
   memset(s, 0, sizeof(*s));
   if (shown && dev->cfg.display.scanout)
      dev->cfg.display.scanout(dev->cfg.display.data, id, 0, 0);
}

void
vgpu_res_free(struct pv_vgpu *dev, struct vgpu_res *res)
{
   for (uint32_t i = 0; i < dev->cfg.num_scanouts; i++)
      if (dev->scanout[i].res_id == res->id)
         scanout_disable(dev, i);
   for (uint32_t i = 0; i < dev->nres; i++) {
      if (dev->res[i] == res) {
         dev->res[i] = dev->res[--dev->nres];
         break;
      }
   }
   if (res->blob)
      vgpu_3d_unref(dev, res);
   if (res->pixels)
      dev->host_mem_used -= (uint64_t)res->stride * res->height;
   free(res->pixels);
   free(res->backing);
   free(res);
}

/* ---- 2D commands ------------------------------------------------------ */

static uint32_t
cmd_get_display_info(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_resp_display_info *r =
      vgpu_resp_alloc(req, VIRTIO_GPU_RESP_OK_DISPLAY_INFO, sizeof(*r));
   if (!r)
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   for (uint32_t i = 0; i < dev->cfg.num_scanouts; i++) {
      r->pmodes[i].enabled = 1;
      r->pmodes[i].r.width = dev->cfg.width;
      r->pmodes[i].r.height = dev->cfg.height;
   }
   return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
}

/* A minimal EDID 1.4 base block whose preferred mode is w x h at 60 Hz. */
static void
build_edid(uint8_t e[128], uint32_t w, uint32_t h, uint32_t scanout)
{
   static const uint8_t magic[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
   memset(e, 0, 128);
   memcpy(e, magic, 8);
   uint16_t mfg = ('P' - '@') << 10 | ('V' - '@') << 5 | ('R' - '@');
   e[8] = mfg >> 8;
   e[9] = mfg & 0xff;
   e[10] = 0x01;
   e[12] = (uint8_t)scanout;
   e[16] = 1;
   e[17] = 2026 - 1990;
   e[18] = 1;
   e[19] = 4;
   e[20] = 0x80; /* digital input */
   e[21] = 52;   /* cm */
   e[22] = 29;
   e[23] = 120;  /* gamma 2.2 */
   e[24] = 0x06; /* sRGB, preferred timing is native */
   for (int i = 38; i < 54; i++)
      e[i] = 0x01; /* unused standard timings */
   uint32_t hb = 160, vb = 30;
   uint32_t clk = (uint32_t)(((uint64_t)(w + hb) * (h + vb) * 60) / 10000);
   uint8_t *d = e + 54;
   d[0] = clk & 0xff;
   d[1] = (clk >> 8) & 0xff;
   d[2] = w & 0xff;
   d[3] = hb & 0xff;
   d[4] = (uint8_t)(((w >> 8) & 0xf) << 4 | ((hb >> 8) & 0xf));
   d[5] = h & 0xff;
   d[6] = vb & 0xff;
   d[7] = (uint8_t)(((h >> 8) & 0xf) << 4 | ((vb >> 8) & 0xf));
   d[8] = 48;
   d[9] = 32;
   d[10] = 3 << 4 | 5;
   d[12] = 0x08; /* image size 520 x 290 mm */
   d[13] = 0x22;
   d[14] = 0x21;
   d[17] = 0x1e;
   static const uint8_t name[13] = "PearVisor\n  ";
   d = e + 72;
   d[3] = 0xfc;
   memcpy(d + 5, name, 13);
   e[90 + 3] = 0x10; /* dummy descriptors */
   e[108 + 3] = 0x10;
   uint8_t sum = 0;
   for (int i = 0; i < 127; i++)
      sum += e[i];
   e[127] = (uint8_t)(0x100 - sum);
}

static uint32_t
cmd_get_edid(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_cmd_get_edid c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   if (c.scanout >= dev->cfg.num_scanouts)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "scanout %u of %u", c.scanout,
                         dev->cfg.num_scanouts);
   struct virtio_gpu_resp_edid *r = vgpu_resp_alloc(req, VIRTIO_GPU_RESP_OK_EDID, sizeof(*r));
   if (!r)
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   r->size = 128;
   build_edid(r->edid, dev->cfg.width, dev->cfg.height, c.scanout);
   return VIRTIO_GPU_RESP_OK_EDID;
}

static uint32_t
cmd_resource_create_2d(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_resource_create_2d c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   if (c.resource_id == 0 || vgpu_res_find(dev, c.resource_id))
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "res %u: zero or in use",
                         c.resource_id);
   if (!vgpu_format_supported(c.format) || c.width == 0 || c.height == 0 || c.width > MAX_DIM ||
       c.height > MAX_DIM)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                         "res %u: format %u unsupported or size %ux%u not in 1..%u", c.resource_id,
                         c.format, c.width, c.height, MAX_DIM);
   uint64_t bytes = (uint64_t)c.width * 4 * c.height;
   if (bytes > dev->cfg.max_host_memory - dev->host_mem_used)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
                         "res %u: %llu bytes over the device's max_host_memory", c.resource_id,
                         (unsigned long long)bytes);
   struct vgpu_res *res = calloc(1, sizeof(*res));
   if (!res)
      return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
   res->id = c.resource_id;
   res->format = c.format;
   res->width = c.width;
   res->height = c.height;
   res->stride = c.width * 4;
   res->pixels = calloc(1, bytes);
   if (!res->pixels || vgpu_res_add(dev, res) < 0) {
      free(res->pixels);
      free(res);
      return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
   }
   dev->host_mem_used += bytes;
   return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t
cmd_resource_unref(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_resource_unref c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   struct vgpu_res *res = vgpu_res_find(dev, c.resource_id);
   if (!res)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "res %u: unknown",
                         c.resource_id);
   vgpu_res_free(dev, res);
   return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t
cmd_attach_backing(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_resource_attach_backing c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   struct vgpu_res *res = vgpu_res_find(dev, c.resource_id);
   if (!res)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "res %u: unknown",
                         c.resource_id);
   if (res->blob || res->backing)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_UNSPEC, "res %u: a blob or already backed",
                         c.resource_id);
   uint32_t ret =
      vgpu_parse_entries(dev, req, sizeof(c), c.nr_entries, &res->backing, &res->backing_size);
   if (ret != VIRTIO_GPU_RESP_OK_NODATA)
      return ret;
   res->nbacking = c.nr_entries;
   return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t
cmd_detach_backing(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_resource_detach_backing c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   struct vgpu_res *res = vgpu_res_find(dev, c.resource_id);
   if (!res)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "res %u: unknown",
                         c.resource_id);
   if (res->blob || !res->backing)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_UNSPEC, "res %u: a blob or without backing",
                         c.resource_id);
   free(res->backing);
   res->backing = NULL;
   res->nbacking = 0;
   res->backing_size = 0;
   return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t
cmd_transfer_to_host_2d(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_transfer_to_host_2d c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   struct vgpu_res *res = vgpu_res_find(dev, c.resource_id);
   if (!res || res->blob)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "res %u: unknown or a blob",
                         c.resource_id);
   if (!res->backing)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_UNSPEC, "res %u: without backing", c.resource_id);
   if (!vgpu_rect_inside(&c.r, res->width, res->height))
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                         "res %u: rect %ux%u+%u+%u outside %ux%u", c.resource_id, c.r.width,
                         c.r.height, c.r.x, c.r.y, res->width, res->height);
   if (c.r.width == 0 || c.r.height == 0)
      return VIRTIO_GPU_RESP_OK_NODATA;
   /* Row h of the rectangle sits at offset + h * stride in the backing. */
   uint64_t row = (uint64_t)c.r.width * 4;
   uint64_t span = (uint64_t)(c.r.height - 1) * res->stride + row;
   if (c.offset > res->backing_size || span > res->backing_size - c.offset)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                         "res %u: %llu bytes at offset %llu past the backing's %llu", c.resource_id,
                         (unsigned long long)span, (unsigned long long)c.offset,
                         (unsigned long long)res->backing_size);
   uint8_t *dst = res->pixels + (uint64_t)c.r.y * res->stride + (uint64_t)c.r.x * 4;
   if (c.r.x == 0 && c.r.width == res->width) {
      if (vgpu_backing_read(dev, res->backing, res->nbacking, c.offset, dst, span) < 0)
         return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                            "res %u: backing no longer in guest RAM", c.resource_id);
      return VIRTIO_GPU_RESP_OK_NODATA;
   }
   for (uint32_t h = 0; h < c.r.height; h++) {
      if (vgpu_backing_read(dev, res->backing, res->nbacking, c.offset + (uint64_t)h * res->stride,
                            dst + (uint64_t)h * res->stride, row) < 0)
         return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                            "res %u: backing no longer in guest RAM", c.resource_id);
   }
   return VIRTIO_GPU_RESP_OK_NODATA;
}

/* Reads one row of a scanout's source (x, y in resource coordinates). */
static int
scanout_read_row(struct pv_vgpu *dev, const struct vgpu_scanout *s, struct vgpu_res *res,
                 uint32_t x, uint32_t y, uint32_t w, uint32_t *dst)
{
   if (!s->blob) {
      convert_row(res->format, res->pixels + (uint64_t)y * res->stride + (uint64_t)x * 4, dst, w);
      return 0;
   }
   uint64_t off = s->offset + (uint64_t)y * s->stride + (uint64_t)x * 4;
   uint8_t tmp[4096];
   uint64_t host_size;
   const uint8_t *host = res->in_renderer ? vgpu_3d_blob_ptr(dev, res, &host_size) : NULL;
   for (uint32_t done = 0; done < w;) {
      uint32_t n = w - done < sizeof(tmp) / 4 ? w - done : sizeof(tmp) / 4;
      const uint8_t *src;
      if (host) {
         if (off + (uint64_t)n * 4 > host_size)
            return -EFAULT;
         src = host + off;
      } else {
         if (vgpu_backing_read(dev, res->backing, res->nbacking, off, tmp, (uint64_t)n * 4) < 0)
            return -EFAULT;
         src = tmp;
      }
      convert_row(s->format, src, dst + done, n);
      done += n;
      off += (uint64_t)n * 4;
   }
   return 0;
}

/* Sends the part of rectangle r (resource coordinates) that scanout `id`
 * shows to the display. */
static int
scanout_update(struct pv_vgpu *dev, uint32_t id, struct vgpu_res *res,
               const struct virtio_gpu_rect *r)
{
   struct vgpu_scanout *s = &dev->scanout[id];
   uint64_t x0 = r->x > s->r.x ? r->x : s->r.x;
   uint64_t y0 = r->y > s->r.y ? r->y : s->r.y;
   uint64_t x1 = (uint64_t)r->x + r->width, sx1 = (uint64_t)s->r.x + s->r.width;
   uint64_t y1 = (uint64_t)r->y + r->height, sy1 = (uint64_t)s->r.y + s->r.height;
   if (x1 > sx1)
      x1 = sx1;
   if (y1 > sy1)
      y1 = sy1;
   if (x0 >= x1 || y0 >= y1 || !dev->cfg.display.update)
      return 0;
   uint32_t w = (uint32_t)(x1 - x0), h = (uint32_t)(y1 - y0);
   uint32_t *px = conv_buffer(dev, (size_t)w * h);
   if (!px)
      return -ENOMEM;
   for (uint32_t row = 0; row < h; row++)
      if (scanout_read_row(dev, s, res, (uint32_t)x0, (uint32_t)y0 + row, w, px + (size_t)row * w) <
          0)
         return -EFAULT;
   dev->cfg.display.update(dev->cfg.display.data, id, (uint32_t)(x0 - s->r.x),
                           (uint32_t)(y0 - s->r.y), w, h, px);
   return 0;
}

void
vgpu_scanout_set(struct pv_vgpu *dev, uint32_t id, struct vgpu_scanout *ns)
{
   struct vgpu_scanout *s = &dev->scanout[id];
   uint32_t shown_w = s->shown_w, shown_h = s->shown_h;
   *s = *ns;
   s->shown_w = shown_w;
   s->shown_h = shown_h;
   if ((s->shown_w != s->r.width || s->shown_h != s->r.height) && dev->cfg.display.scanout)
      dev->cfg.display.scanout(dev->cfg.display.data, id, s->r.width, s->r.height);
   s->shown_w = s->r.width;
   s->shown_h = s->r.height;
   struct vgpu_res *res = vgpu_res_find(dev, s->res_id);
   if (res)
      scanout_update(dev, id, res, &s->r);
}

/*
 * What SET_SCANOUT and SET_SCANOUT_BLOB share: checks the scanout id and
 * disables the scanout for resource 0. Returns the resource to show (a blob
 * one or not, as `blob` says), or NULL with the response in *resp.
 */
static struct vgpu_res *
scanout_target(struct pv_vgpu *dev, const struct vgpu_req *req, uint32_t scanout_id,
               uint32_t resource_id, bool blob, uint32_t *resp)
{
   if (scanout_id >= dev->cfg.num_scanouts) {
      *resp = vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "scanout %u of %u",
                          scanout_id, dev->cfg.num_scanouts);
      return NULL;
   }
   if (resource_id == 0) {
      scanout_disable(dev, scanout_id);
      *resp = VIRTIO_GPU_RESP_OK_NODATA;
      return NULL;
   }
   struct vgpu_res *res = vgpu_res_find(dev, resource_id);
   if (!res || res->blob != blob) {
      *resp = vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID,
                          "scanout %u: res %u unknown or %s", scanout_id, resource_id,
                          blob ? "not a blob" : "a blob");
      return NULL;
   }
   return res;
}

static uint32_t
cmd_set_scanout(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_set_scanout c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   uint32_t resp;
   struct vgpu_res *res = scanout_target(dev, req, c.scanout_id, c.resource_id, false, &resp);
   if (!res)
      return resp;
   if (c.r.width == 0 || c.r.height == 0 || !vgpu_rect_inside(&c.r, res->width, res->height))
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                         "scanout %u: rect %ux%u+%u+%u empty or outside res %u (%ux%u)",
                         c.scanout_id, c.r.width, c.r.height, c.r.x, c.r.y, res->id, res->width,
                         res->height);
   struct vgpu_scanout ns = { .res_id = res->id, .r = c.r };
   vgpu_scanout_set(dev, c.scanout_id, &ns);
   return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t
cmd_set_scanout_blob(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_set_scanout_blob c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   uint32_t resp;
   struct vgpu_res *res = scanout_target(dev, req, c.scanout_id, c.resource_id, true, &resp);
   if (!res)
      return resp;
   if (!vgpu_format_supported(c.format) || c.width == 0 || c.height == 0 || c.width > MAX_DIM ||
       c.height > MAX_DIM || c.strides[0] < c.width * 4 || c.r.width == 0 || c.r.height == 0 ||
       !vgpu_rect_inside(&c.r, c.width, c.height))
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                         "scanout %u, res %u: format %u, %ux%u stride %u, rect %ux%u+%u+%u: "
                         "unsupported format, size, stride or rect",
                         c.scanout_id, res->id, c.format, c.width, c.height, c.strides[0],
                         c.r.width, c.r.height, c.r.x, c.r.y);
   uint64_t end =
      (uint64_t)c.offsets[0] + (uint64_t)(c.height - 1) * c.strides[0] + (uint64_t)c.width * 4;
   uint64_t avail = res->blob_size;
   if (res->in_renderer) {
      if (!vgpu_3d_blob_ptr(dev, res, &avail))
         return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                            "scanout %u: res %u has no host mapping", c.scanout_id, res->id);
   } else if (res->backing_size < avail) {
      avail = res->backing_size;
   }
   if (end > avail)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                         "scanout %u: framebuffer ends at %llu, past res %u's %llu bytes",
                         c.scanout_id, (unsigned long long)end, res->id, (unsigned long long)avail);
   struct vgpu_scanout ns = { .res_id = res->id,
                              .r = c.r,
                              .blob = true,
                              .format = c.format,
                              .fb_width = c.width,
                              .fb_height = c.height,
                              .stride = c.strides[0],
                              .offset = c.offsets[0] };
   vgpu_scanout_set(dev, c.scanout_id, &ns);
   return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t
vgpu_flush_resource(struct pv_vgpu *dev, const struct vgpu_req *req, struct vgpu_res *res,
                    const struct virtio_gpu_rect *r)
{
   for (uint32_t i = 0; i < dev->cfg.num_scanouts; i++) {
      if (dev->scanout[i].res_id != res->id)
         continue;
      int err = scanout_update(dev, i, res, r);
      if (err < 0)
         return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_UNSPEC,
                            "res %u on scanout %u: cannot read the frame: %s", res->id, i,
                            strerror(-err));
   }
   return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t
cmd_resource_flush(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_resource_flush c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   struct vgpu_res *res = vgpu_res_find(dev, c.resource_id);
   if (!res)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "res %u: unknown",
                         c.resource_id);
   if ((!res->blob && !vgpu_rect_inside(&c.r, res->width, res->height)) ||
       (res->blob &&
        ((uint64_t)c.r.x + c.r.width > MAX_DIM || (uint64_t)c.r.y + c.r.height > MAX_DIM)))
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                         "res %u: rect %ux%u+%u+%u outside the resource", c.resource_id, c.r.width,
                         c.r.height, c.r.x, c.r.y);
   return vgpu_flush_resource(dev, req, res, &c.r);
}

static uint32_t
cmd_resource_create_blob(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_resource_create_blob c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   if (c.resource_id == 0 || vgpu_res_find(dev, c.resource_id))
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "res %u: zero or in use",
                         c.resource_id);
   if (c.blob_mem < VIRTIO_GPU_BLOB_MEM_GUEST || c.blob_mem > VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST ||
       (c.blob_flags & ~7u) || c.size == 0)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                         "res %u: blob_mem %u, flags 0x%x, size %llu: unknown or empty",
                         c.resource_id, c.blob_mem, c.blob_flags, (unsigned long long)c.size);
   bool guest = c.blob_mem != VIRTIO_GPU_BLOB_MEM_HOST3D;
   if (guest != (c.nr_entries != 0))
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                         "res %u: blob_mem %u with %u memory entries", c.resource_id, c.blob_mem,
                         c.nr_entries);
   struct vgpu_res *res = calloc(1, sizeof(*res));
   if (!res)
      return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
   res->id = c.resource_id;
   res->blob = true;
   res->blob_mem = c.blob_mem;
   res->blob_flags = c.blob_flags;
   res->blob_size = c.size;
   uint32_t ret = VIRTIO_GPU_RESP_OK_NODATA;
   if (guest) {
      ret =
         vgpu_parse_entries(dev, req, sizeof(c), c.nr_entries, &res->backing, &res->backing_size);
      res->nbacking = c.nr_entries;
      if (ret == VIRTIO_GPU_RESP_OK_NODATA && res->backing_size < c.size)
         ret = vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                           "res %u: %llu bytes of backing for a blob of %llu", c.resource_id,
                           (unsigned long long)res->backing_size, (unsigned long long)c.size);
   }
   if (ret == VIRTIO_GPU_RESP_OK_NODATA)
      ret = vgpu_3d_create_blob(dev, req, res);
   if (ret == VIRTIO_GPU_RESP_OK_NODATA && vgpu_res_add(dev, res) < 0)
      ret = VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
   if (ret != VIRTIO_GPU_RESP_OK_NODATA) {
      if (res->in_renderer)
         vgpu_3d_unref(dev, res);
      free(res->backing);
      free(res);
   }
   return ret;
}

/* RESOURCE_ASSIGN_UUID: a resource's uuid is made on first request and
 * kept for its lifetime, so every guest driver sharing it sees the same
 * one. Unique within the device: a sequence number and the resource id,
 * formatted as an RFC 4122 version 8 (custom) uuid. */
static uint32_t
cmd_resource_assign_uuid(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_resource_assign_uuid c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   struct vgpu_res *res = vgpu_res_find(dev, c.resource_id);
   if (!res)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "res %u: unknown",
                         c.resource_id);
   if (!res->has_uuid) {
      uint64_t seq = ++dev->uuid_seq;
      memcpy(res->uuid, &res->id, 4);
      memcpy(res->uuid + 4, "PV", 2);
      res->uuid[6] = 0x80; /* version 8 */
      res->uuid[7] = 0;
      res->uuid[8] = 0x80; /* RFC 4122 variant */
      memcpy(res->uuid + 9, &seq, 7);
      res->has_uuid = true;
   }
   struct virtio_gpu_resp_resource_uuid *r =
      vgpu_resp_alloc(req, VIRTIO_GPU_RESP_OK_RESOURCE_UUID, sizeof(*r));
   if (!r)
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   memcpy(r->uuid, res->uuid, sizeof(r->uuid));
   return VIRTIO_GPU_RESP_OK_RESOURCE_UUID;
}

/* ---- cursor ----------------------------------------------------------- */

static uint32_t
cmd_cursor(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_update_cursor c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   if (c.pos.scanout_id >= dev->cfg.num_scanouts)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "scanout %u of %u",
                         c.pos.scanout_id, dev->cfg.num_scanouts);
   void (*cb)(void *, uint32_t, uint32_t, uint32_t, bool, const uint32_t *, uint32_t, uint32_t) =
      dev->cfg.display.cursor;
   if (req->hdr.type == VIRTIO_GPU_CMD_MOVE_CURSOR) {
      if (cb)
         cb(dev->cfg.display.data, c.pos.scanout_id, c.pos.x, c.pos.y, true, NULL, 0, 0);
      return VIRTIO_GPU_RESP_OK_NODATA;
   }
   if (c.resource_id == 0) {
      if (cb)
         cb(dev->cfg.display.data, c.pos.scanout_id, c.pos.x, c.pos.y, false, NULL, 0, 0);
      return VIRTIO_GPU_RESP_OK_NODATA;
   }
   struct vgpu_res *res = vgpu_res_find(dev, c.resource_id);
   if (!res || res->blob)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "res %u: unknown or a blob",
                         c.resource_id);
   if (res->width != CURSOR_DIM || res->height != CURSOR_DIM || c.hot_x >= CURSOR_DIM ||
       c.hot_y >= CURSOR_DIM)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                         "res %u: cursor of %ux%u (needs %ux%u) or hot spot %u,%u outside",
                         c.resource_id, res->width, res->height, CURSOR_DIM, CURSOR_DIM, c.hot_x,
                         c.hot_y);
   uint32_t img[CURSOR_DIM * CURSOR_DIM];
   for (uint32_t y = 0; y < CURSOR_DIM; y++)
      convert_row(res->format, res->pixels + y * res->stride, img + y * CURSOR_DIM, CURSOR_DIM);
   if (cb)
      cb(dev->cfg.display.data, c.pos.scanout_id, c.pos.x, c.pos.y, true, img, c.hot_x, c.hot_y);
   return VIRTIO_GPU_RESP_OK_NODATA;
}

/* ---- dispatch --------------------------------------------------------- */

static uint32_t
dispatch_ctrl(struct pv_vgpu *dev, struct vgpu_req *req)
{
   switch (req->hdr.type) {
   case VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
      return cmd_get_display_info(dev, req);
   case VIRTIO_GPU_CMD_GET_EDID:
      return cmd_get_edid(dev, req);
   case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
      return cmd_resource_create_2d(dev, req);
   case VIRTIO_GPU_CMD_RESOURCE_UNREF:
      return cmd_resource_unref(dev, req);
   case VIRTIO_GPU_CMD_SET_SCANOUT:
      return cmd_set_scanout(dev, req);
   case VIRTIO_GPU_CMD_RESOURCE_FLUSH:
      return cmd_resource_flush(dev, req);
   case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
      return cmd_transfer_to_host_2d(dev, req);
   case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
      return cmd_attach_backing(dev, req);
   case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
      return cmd_detach_backing(dev, req);
   case VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB:
      return cmd_resource_create_blob(dev, req);
   case VIRTIO_GPU_CMD_SET_SCANOUT_BLOB:
      return cmd_set_scanout_blob(dev, req);
   case VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID:
      return cmd_resource_assign_uuid(dev, req);
   case VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB:
      return vgpu_3d_map_blob(dev, req);
   case VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB:
      return vgpu_3d_unmap_blob(dev, req);
   default:
      return vgpu_3d_command(dev, req);
   }
}

static const char *
resp_name(uint32_t t)
{
   switch (t) {
   case VIRTIO_GPU_RESP_ERR_UNSPEC:
      return "ERR_UNSPEC";
   case VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY:
      return "ERR_OUT_OF_MEMORY";
   case VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID:
      return "ERR_INVALID_SCANOUT_ID";
   case VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID:
      return "ERR_INVALID_RESOURCE_ID";
   case VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID:
      return "ERR_INVALID_CONTEXT_ID";
   case VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER:
      return "ERR_INVALID_PARAMETER";
   default:
      return "OK";
   }
}

static const char *
cmd_name(uint32_t t)
{
   switch (t) {
      /* a macro list clang-format cannot lay out stably */
/* clang-format off */
#define CMD(x) case VIRTIO_GPU_CMD_##x: return #x;
   CMD(GET_DISPLAY_INFO)
   CMD(RESOURCE_CREATE_2D)
   CMD(RESOURCE_UNREF)
   CMD(SET_SCANOUT)
   CMD(RESOURCE_FLUSH)
   CMD(TRANSFER_TO_HOST_2D)
   CMD(RESOURCE_ATTACH_BACKING)
   CMD(RESOURCE_DETACH_BACKING)
   CMD(GET_CAPSET_INFO)
   CMD(GET_CAPSET)
   CMD(GET_EDID)
   CMD(RESOURCE_ASSIGN_UUID)
   CMD(RESOURCE_CREATE_BLOB)
   CMD(SET_SCANOUT_BLOB)
   CMD(CTX_CREATE)
   CMD(CTX_DESTROY)
   CMD(CTX_ATTACH_RESOURCE)
   CMD(CTX_DETACH_RESOURCE)
   CMD(RESOURCE_CREATE_3D)
   CMD(TRANSFER_TO_HOST_3D)
   CMD(TRANSFER_FROM_HOST_3D)
   CMD(SUBMIT_3D)
   CMD(RESOURCE_MAP_BLOB)
   CMD(RESOURCE_UNMAP_BLOB)
   CMD(UPDATE_CURSOR)
   CMD(MOVE_CURSOR)
#undef CMD
      /* clang-format on */
   default:
      return "unknown command";
   }
}

uint32_t
vgpu_reject(const struct vgpu_req *req, uint32_t resp, const char *fmt, ...)
{
   struct pv_vgpu *dev = req->dev;
   enum pv_log_level level = PV_LOG_DEBUG;
   if (dev->rejects_warned < VGPU_REJECTS_WARNED) {
      level = PV_LOG_WARN;
      dev->rejects_warned++;
   }
   if (!pv_log_enabled(level))
      return resp;
   char what[256];
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(what, sizeof(what), fmt, ap);
   va_end(ap);
   pv_log(level, TAG, "%s (0x%x) ctx %u: %s: %s%s", cmd_name(req->hdr.type), req->hdr.type,
          req->hdr.ctx_id, what, resp_name(resp),
          dev->rejects_warned == VGPU_REJECTS_WARNED && level == PV_LOG_WARN
             ? " (further refusals of this device are logged at debug level)"
             : "");
   return resp;
}

static uint32_t
process(struct pv_vgpu *dev, bool cursor, const struct iovec *in, unsigned n_in,
        const struct iovec *out, unsigned n_out, struct pv_vgpu_fence_wait *wait)
{
   if (wait)
      memset(wait, 0, sizeof(*wait));
   size_t in_len = iov_total(in, n_in);
   size_t out_len = iov_total(out, n_out);
   if (out_len > PV_VGPU_MAX_REQUEST)
      out_len = 0;
   uint8_t *resp = calloc(1, RESP_MAX);
   if (!resp)
      return 0;
   struct vgpu_req req = {
      .dev = dev, .resp = resp, .resp_cap = out_len < RESP_MAX ? out_len : RESP_MAX, .wait = wait
   };
   uint8_t *buf = NULL;
   uint32_t ret;
   if (in_len < sizeof(req.hdr) || in_len > PV_VGPU_MAX_REQUEST) {
      ret = vgpu_reject(&req, VIRTIO_GPU_RESP_ERR_UNSPEC, "request of %zu bytes, not in %zu..%u",
                        in_len, sizeof(req.hdr), PV_VGPU_MAX_REQUEST);
   } else if (!(buf = malloc(in_len))) {
      ret = VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
   } else {
      iov_gather(in, n_in, buf, in_len);
      req.buf = buf;
      req.len = in_len;
      memcpy(&req.hdr, buf, sizeof(req.hdr));
      bool is_cursor_cmd =
         req.hdr.type == VIRTIO_GPU_CMD_UPDATE_CURSOR || req.hdr.type == VIRTIO_GPU_CMD_MOVE_CURSOR;
      if (cursor != is_cursor_cmd)
         ret = vgpu_reject(&req, VIRTIO_GPU_RESP_ERR_UNSPEC, "on the %s queue",
                           cursor ? "cursor" : "control");
      else
         ret = cursor ? cmd_cursor(dev, &req) : dispatch_ctrl(dev, &req);
   }
   if (ret >= VIRTIO_GPU_RESP_ERR_UNSPEC) {
      pv_debug(TAG, "command 0x%x: %s", req.hdr.type, resp_name(ret));
      vgpu_resp_alloc(&req, ret, sizeof(struct virtio_gpu_ctrl_hdr));
   } else {
      if (req.resp_len == 0 && req.resp_cap >= sizeof(struct virtio_gpu_ctrl_hdr))
         vgpu_resp_alloc(&req, ret, sizeof(struct virtio_gpu_ctrl_hdr));
      else if (req.resp_len == 0) /* done, but the guest gave no room for the answer */
         pv_debug(TAG, "command 0x%x: no response buffer", req.hdr.type);
      if (!cursor && (req.hdr.flags & VIRTIO_GPU_FLAG_FENCE))
         vgpu_3d_fence(dev, &req);
   }
   uint32_t used = iov_scatter(out, n_out, resp, req.resp_len);
   free(buf);
   free(resp);
   return used;
}

uint32_t
pv_vgpu_process_ctrl(struct pv_vgpu *dev, const struct iovec *in, unsigned n_in,
                     const struct iovec *out, unsigned n_out, struct pv_vgpu_fence_wait *wait)
{
   return process(dev, false, in, n_in, out, n_out, wait);
}

uint32_t
pv_vgpu_process_cursor(struct pv_vgpu *dev, const struct iovec *in, unsigned n_in,
                       const struct iovec *out, unsigned n_out)
{
   return process(dev, true, in, n_in, out, n_out, NULL);
}

/* ---- held requests (fence ownership) ----------------------------------- */

#define HELD_INITIAL 64u

bool
pv_vgpu_ctrl_ready(struct pv_vgpu *dev)
{
   if (dev->nheld < dev->held_cap)
      return true;
   if (dev->held_cap >= dev->cfg.max_held)
      return false; /* full: wait for a fence */
   uint32_t cap = dev->held_cap ? dev->held_cap * 2 : HELD_INITIAL;
   if (cap > dev->cfg.max_held)
      cap = dev->cfg.max_held;
   struct vgpu_held *p = dev->held_realloc(dev->held, (size_t)cap * sizeof(*p));
   if (!p)
      return false; /* try again once a fence frees a slot */
   dev->held = p;
   dev->held_cap = cap;
   return true;
}

int
pv_vgpu_submit_ctrl(struct pv_vgpu *dev, uint64_t token, const struct iovec *in, unsigned n_in,
                    const struct iovec *out, unsigned n_out, uint32_t *len)
{
   /* Room first: once the command ran, its response must be kept. */
   if (!pv_vgpu_ctrl_ready(dev))
      return -EBUSY;
   struct pv_vgpu_fence_wait wait;
   *len = process(dev, false, in, n_in, out, n_out, &wait);
   if (!wait.pending)
      return 1;
   dev->held[dev->nheld++] = (struct vgpu_held){ .token = token,
                                                 .len = *len,
                                                 .ctx_id = wait.ctx_id,
                                                 .ring_idx = wait.ring_idx,
                                                 .fence_id = wait.fence_id };
   return 0;
}

/* Completes the held requests `release` picks, keeping the others in order. */
static void
held_complete(struct pv_vgpu *dev, uint32_t ctx_id, bool any_ring, uint32_t ring_idx,
              uint64_t fence_id)
{
   uint32_t kept = 0;
   uint64_t blocked = 0; /* bit r: an earlier request of ring r is still held */
   const struct pv_vgpu_completion *c = &dev->cfg.completion;
   for (uint32_t i = 0; i < dev->nheld; i++) {
      struct vgpu_held h = dev->held[i];
      bool same = h.ctx_id == ctx_id && (any_ring || h.ring_idx == ring_idx);
      uint64_t bit = 1ull << (h.ring_idx & 63);
      if (same && !(blocked & bit) && (any_ring || h.fence_id <= fence_id)) {
         if (c->complete)
            c->complete(c->data, h.token, h.len);
         continue;
      }
      if (same)
         blocked |= bit; /* later ones of this ring wait behind it */
      dev->held[kept++] = h;
   }
   dev->nheld = kept;
}

void
pv_vgpu_fence_retired(struct pv_vgpu *dev, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id)
{
   held_complete(dev, ctx_id, false, ring_idx, fence_id);
}

void
vgpu_held_complete_ctx(struct pv_vgpu *dev, uint32_t ctx_id)
{
   held_complete(dev, ctx_id, true, 0, 0);
}

uint32_t
pv_vgpu_held_count(const struct pv_vgpu *dev)
{
   return dev->nheld;
}

/* Held requests per log line in pv_vgpu_log_state. */
#define HELD_PER_LINE 8u

void
pv_vgpu_log_state(const struct pv_vgpu *dev, const char *tag)
{
   char line[512];
   int n = snprintf(line, sizeof(line), "%u context(s):", dev->nctx);
   for (uint32_t i = 0; i < dev->nctx && n > 0 && (size_t)n < sizeof(line); i++)
      n += snprintf(line + n, sizeof(line) - (size_t)n, " %u", dev->ctx[i].id);
   pv_warn(tag, "%s", line);
   uint32_t blobs = 0, mapped = 0;
   for (uint32_t i = 0; i < dev->nres; i++) {
      blobs += dev->res[i]->blob;
      mapped += dev->res[i]->mapped;
   }
   pv_warn(tag, "%u resource(s) (%u blobs, %u mapped); %u held request(s) of room for %u (max %u)",
           dev->nres, blobs, mapped, dev->nheld, dev->held_cap, dev->cfg.max_held);
   for (uint32_t i = 0; i < dev->nheld; i += HELD_PER_LINE) {
      n = snprintf(line, sizeof(line), "held %u..:", i);
      for (uint32_t j = i; j < dev->nheld && j < i + HELD_PER_LINE; j++) {
         const struct vgpu_held *h = &dev->held[j];
         if (n > 0 && (size_t)n < sizeof(line))
            n += snprintf(line + n, sizeof(line) - (size_t)n,
                          " (head %llu ctx %u ring %u fence %llu)", (unsigned long long)h->token,
                          h->ctx_id, h->ring_idx, (unsigned long long)h->fence_id);
      }
      pv_warn(tag, "%s", line);
   }
}

/* ---- lifetime --------------------------------------------------------- */

int
pv_vgpu_create(const struct pv_vgpu_config *cfg, struct pv_vgpu **out)
{
   struct pv_vgpu *dev = calloc(1, sizeof(*dev));
   if (!dev)
      return -ENOMEM;
   dev->cfg = *cfg;
   if (dev->cfg.num_scanouts == 0)
      dev->cfg.num_scanouts = 1;
   if (dev->cfg.num_scanouts > VIRTIO_GPU_MAX_SCANOUTS) {
      free(dev);
      return -EINVAL;
   }
   if (dev->cfg.width == 0 || dev->cfg.height == 0) {
      dev->cfg.width = 1024;
      dev->cfg.height = 768;
   }
   if (dev->cfg.width > MAX_DIM || dev->cfg.height > MAX_DIM) {
      free(dev);
      return -EINVAL;
   }
   if (dev->cfg.max_host_memory == 0)
      dev->cfg.max_host_memory = 256ull << 20;
   if (dev->cfg.max_resources == 0)
      dev->cfg.max_resources = 16384;
   if (dev->cfg.max_held == 0)
      dev->cfg.max_held = 4096;
   dev->held_realloc = realloc;
   *out = dev;
   return 0;
}

void
pv_vgpu_reset(struct pv_vgpu *dev)
{
   while (dev->nres)
      vgpu_res_free(dev, dev->res[dev->nres - 1]);
   vgpu_3d_reset(dev);
   for (uint32_t i = 0; i < dev->cfg.num_scanouts; i++)
      scanout_disable(dev, i);
   dev->events_read = 0;
   dev->nheld = 0;
}

void
pv_vgpu_destroy(struct pv_vgpu *dev)
{
   if (!dev)
      return;
   pv_vgpu_reset(dev);
   free(dev->res);
   free(dev->ctx);
   free(dev->held);
   free(dev->conv);
   free(dev);
}

void
pv_vgpu_set_translate(struct pv_vgpu *dev, pv_vgpu_translate_fn fn, void *data)
{
   dev->cfg.translate = fn;
   dev->cfg.translate_data = data;
}

uint64_t
pv_vgpu_features(const struct pv_vgpu *dev)
{
   uint64_t f = 1ull << VIRTIO_GPU_F_EDID | 1ull << VIRTIO_GPU_F_RESOURCE_BLOB |
                1ull << VIRTIO_GPU_F_RESOURCE_UUID;
   if (vgpu_3d_available(dev))
      f |= 1ull << VIRTIO_GPU_F_VIRGL | 1ull << VIRTIO_GPU_F_CONTEXT_INIT;
   return f;
}

void
pv_vgpu_get_config(const struct pv_vgpu *dev, struct virtio_gpu_config *cfg)
{
   memset(cfg, 0, sizeof(*cfg));
   cfg->events_read = dev->events_read;
   cfg->num_scanouts = dev->cfg.num_scanouts;
   cfg->num_capsets = vgpu_3d_num_capsets(dev);
}

void
pv_vgpu_set_config(struct pv_vgpu *dev, const struct virtio_gpu_config *cfg)
{
   dev->events_read &= ~cfg->events_clear;
}

void
pv_vgpu_refresh_display(struct pv_vgpu *dev)
{
   for (uint32_t i = 0; i < dev->cfg.num_scanouts; i++) {
      struct vgpu_scanout *s = &dev->scanout[i];
      if (!s->res_id)
         continue;
      struct vgpu_scanout ns = *s;
      s->shown_w = s->shown_h = 0;
      vgpu_scanout_set(dev, i, &ns);
   }
}
