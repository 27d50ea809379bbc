/*
 * Renderer routing: capsets, contexts, SUBMIT_3D, host blobs and fences go
 * to the PearVisor renderer through include/pearvisor/pearvisor.h.
 */
#include "vgpu_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pearvisor/pearvisor.h"

bool
vgpu_3d_available(const struct pv_vgpu *dev)
{
   return dev->cfg.renderer != NULL;
}

uint32_t
vgpu_3d_num_capsets(const struct pv_vgpu *dev)
{
   return dev->cfg.renderer ? 1 : 0;
}

static uint32_t
errno_to_resp(int err)
{
   switch (err) {
   case -ENOMEM:
   case -ENOSPC:
      return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
   case -EINVAL:
   case -ERANGE:
      return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
   case -EEXIST:
      return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
   default:
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   }
}

static struct vgpu_ctx *
ctx_find(struct pv_vgpu *dev, uint32_t id)
{
   for (uint32_t i = 0; i < dev->nctx; i++)
      if (dev->ctx[i].id == id)
         return &dev->ctx[i];
   return NULL;
}

static uint32_t
cmd_get_capset_info(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_get_capset_info c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   if (c.capset_index >= vgpu_3d_num_capsets(dev))
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "capset index %u of %u",
                         c.capset_index, vgpu_3d_num_capsets(dev));
   uint32_t ver, size;
   if (pv_renderer_get_capset_info(dev->cfg.renderer, PV_CAPSET_VENUS, &ver, &size) < 0)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_UNSPEC, "the renderer has no venus capset");
   struct virtio_gpu_resp_capset_info *r =
      vgpu_resp_alloc(req, VIRTIO_GPU_RESP_OK_CAPSET_INFO, sizeof(*r));
   if (!r)
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   r->capset_id = PV_CAPSET_VENUS;
   r->capset_max_version = ver;
   r->capset_max_size = size;
   return VIRTIO_GPU_RESP_OK_CAPSET_INFO;
}

static uint32_t
cmd_get_capset(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_get_capset c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   uint32_t ver, max_size;
   if (c.capset_id != PV_CAPSET_VENUS ||
       pv_renderer_get_capset_info(dev->cfg.renderer, c.capset_id, &ver, &max_size) < 0 ||
       c.capset_version > ver)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                         "capset %u version %u: unknown to the renderer", c.capset_id,
                         c.capset_version);
   size_t hdr = sizeof(struct virtio_gpu_resp_capset);
   uint8_t *r = vgpu_resp_alloc(req, VIRTIO_GPU_RESP_OK_CAPSET, hdr + max_size);
   if (!r)
      return VIRTIO_GPU_RESP_ERR_UNSPEC; /* logged: response buffer too small */
   uint32_t size = max_size;
   if (pv_renderer_get_capset(dev->cfg.renderer, c.capset_id, c.capset_version, r + hdr, &size) < 0)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                         "capset %u version %u: the renderer refused it", c.capset_id,
                         c.capset_version);
   return VIRTIO_GPU_RESP_OK_CAPSET;
}

static uint32_t
cmd_ctx_create(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_ctx_create c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   uint32_t id = c.hdr.ctx_id;
   if (id == 0 || ctx_find(dev, id))
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, "zero or in use");
   uint32_t capset = c.context_init & VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK;
   if (c.nlen > sizeof(c.debug_name) ||
       (c.context_init & ~VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK) || capset != PV_CAPSET_VENUS)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                         "name of %u bytes (max %zu) or context_init 0x%x (capset %u only)", c.nlen,
                         sizeof(c.debug_name), c.context_init, PV_CAPSET_VENUS);
   if (dev->nctx == dev->ctx_cap) {
      uint32_t cap = dev->ctx_cap ? dev->ctx_cap * 2 : 8;
      struct vgpu_ctx *p = realloc(dev->ctx, cap * sizeof(*p));
      if (!p)
         return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
      dev->ctx = p;
      dev->ctx_cap = cap;
   }
   char name[sizeof(c.debug_name) + 1];
   memcpy(name, c.debug_name, c.nlen);
   name[c.nlen] = 0;
   int err = pv_context_create(dev->cfg.renderer, id, capset, name);
   if (err < 0)
      return vgpu_reject(req, errno_to_resp(err), "the renderer refused it: %s", strerror(-err));
   dev->ctx[dev->nctx++] = (struct vgpu_ctx){ .id = id, .capset_id = capset };
   return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t
cmd_ctx_destroy(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct vgpu_ctx *ctx = ctx_find(dev, req->hdr.ctx_id);
   if (!ctx)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, "unknown context");
   pv_context_destroy(dev->cfg.renderer, ctx->id);
   vgpu_held_complete_ctx(dev, ctx->id);
   *ctx = dev->ctx[--dev->nctx];
   return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t
cmd_ctx_resource(struct pv_vgpu *dev, struct vgpu_req *req, bool attach)
{
   struct virtio_gpu_ctx_resource c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   if (!ctx_find(dev, c.hdr.ctx_id))
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, "unknown context");
   struct vgpu_res *res = vgpu_res_find(dev, c.resource_id);
   if (!res)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "res %u: unknown",
                         c.resource_id);
   /* 2D resources live in the device only; the renderer never sees them. */
   if (!res->in_renderer)
      return VIRTIO_GPU_RESP_OK_NODATA;
   if (!attach) {
      pv_context_detach_resource(dev->cfg.renderer, c.hdr.ctx_id, c.resource_id);
      return VIRTIO_GPU_RESP_OK_NODATA;
   }
   int err = pv_context_attach_resource(dev->cfg.renderer, c.hdr.ctx_id, c.resource_id);
   if (err < 0)
      return vgpu_reject(req, errno_to_resp(err), "res %u: the renderer refused it: %s",
                         c.resource_id, strerror(-err));
   return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t
cmd_submit_3d(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_cmd_submit c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   if (!ctx_find(dev, c.hdr.ctx_id))
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, "unknown context");
   if (c.size > req->len - sizeof(c))
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                         "stream of %u bytes, the request carries %zu", c.size,
                         req->len - sizeof(c));
   int err = pv_context_submit(dev->cfg.renderer, c.hdr.ctx_id, req->buf + sizeof(c), c.size);
   if (err < 0)
      return vgpu_reject(
         req, err == -EINVAL ? VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER : VIRTIO_GPU_RESP_ERR_UNSPEC,
         "the renderer refused the stream of %u bytes: %s", c.size, strerror(-err));
   return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t
vgpu_3d_command(struct pv_vgpu *dev, struct vgpu_req *req)
{
   if (!dev->cfg.renderer) {
      bool capset = req->hdr.type == VIRTIO_GPU_CMD_GET_CAPSET_INFO ||
                    req->hdr.type == VIRTIO_GPU_CMD_GET_CAPSET;
      return vgpu_reject(
         req, capset ? VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER : VIRTIO_GPU_RESP_ERR_UNSPEC,
         "3D command without a renderer (2D only)");
   }
   switch (req->hdr.type) {
   case VIRTIO_GPU_CMD_GET_CAPSET_INFO:
      return cmd_get_capset_info(dev, req);
   case VIRTIO_GPU_CMD_GET_CAPSET:
      return cmd_get_capset(dev, req);
   case VIRTIO_GPU_CMD_CTX_CREATE:
      return cmd_ctx_create(dev, req);
   case VIRTIO_GPU_CMD_CTX_DESTROY:
      return cmd_ctx_destroy(dev, req);
   case VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE:
      return cmd_ctx_resource(dev, req, true);
   case VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE:
      return cmd_ctx_resource(dev, req, false);
   case VIRTIO_GPU_CMD_SUBMIT_3D:
      return cmd_submit_3d(dev, req);
   default: /* unknown, or virgl-only 3D resources */
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_UNSPEC, "command not supported");
   }
}

/* Host addresses of a GUEST blob's backing, for the renderer. */
static struct iovec *
backing_iov(struct pv_vgpu *dev, const struct vgpu_res *res, uint32_t *count)
{
   uint32_t cap = res->nbacking, n = 0;
   struct iovec *iov = calloc(cap, sizeof(*iov));
   for (uint32_t i = 0; iov && i < res->nbacking; i++) {
      uint64_t gpa = res->backing[i].gpa, len = res->backing[i].len;
      while (len) {
         void *host;
         uint64_t c = dev->cfg.translate(dev->cfg.translate_data, gpa, len, &host);
         if (c == 0 || c > len) {
            free(iov);
            return NULL;
         }
         if (n == cap) {
            cap *= 2;
            struct iovec *p = realloc(iov, cap * sizeof(*iov));
            if (!p) {
               free(iov);
               return NULL;
            }
            iov = p;
         }
         iov[n++] = (struct iovec){ .iov_base = host, .iov_len = c };
         gpa += c;
         len -= c;
      }
   }
   *count = n;
   return iov;
}

uint32_t
vgpu_3d_create_blob(struct pv_vgpu *dev, struct vgpu_req *req, struct vgpu_res *res)
{
   bool host = res->blob_mem != VIRTIO_GPU_BLOB_MEM_GUEST;
   if (!dev->cfg.renderer)
      return host ? vgpu_reject(req, VIRTIO_GPU_RESP_ERR_UNSPEC,
                                "res %u: a host blob without a renderer", res->id)
                  : VIRTIO_GPU_RESP_OK_NODATA;
   struct virtio_gpu_resource_create_blob c;
   memcpy(&c, req->buf, sizeof(c)); /* length checked by the caller */
   if (host && !ctx_find(dev, c.hdr.ctx_id))
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID,
                         "res %u: host blob of an unknown context", res->id);
   struct pv_blob_args args = {
      .res_id = res->id,
      .ctx_id = c.hdr.ctx_id,
      .blob_mem = c.blob_mem,
      .blob_flags = c.blob_flags,
      .blob_id = c.blob_id,
      .size = c.size,
   };
   struct iovec *iov = NULL;
   if (res->nbacking) {
      iov = backing_iov(dev, res, &args.iov_count);
      if (!iov)
         return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                            "res %u: backing outside guest RAM (or no memory for it)", res->id);
      args.iov = iov;
   }
   int err = pv_resource_create_blob(dev->cfg.renderer, &args);
   free(iov);
   if (err < 0)
      return vgpu_reject(req, errno_to_resp(err),
                         "res %u (blob_mem %u, blob_id %llu, %llu bytes): the renderer "
                         "refused it: %s",
                         res->id, c.blob_mem, (unsigned long long)c.blob_id,
                         (unsigned long long)c.size, strerror(-err));
   res->in_renderer = true;
   return VIRTIO_GPU_RESP_OK_NODATA;
}

static void
hostmem_unmap(struct pv_vgpu *dev, struct vgpu_res *res)
{
   if (res->mapped && dev->cfg.hostmem.unmap)
      dev->cfg.hostmem.unmap(dev->cfg.hostmem.data, res->map_offset, res->map_len);
   res->mapped = false;
}

void
vgpu_3d_unref(struct pv_vgpu *dev, struct vgpu_res *res)
{
   hostmem_unmap(dev, res); /* the guest must not keep a window on freed memory */
   if (res->in_renderer)
      pv_resource_unref(dev->cfg.renderer, res->id);
   res->in_renderer = false;
}

const uint8_t *
vgpu_3d_blob_ptr(struct pv_vgpu *dev, struct vgpu_res *res, uint64_t *size)
{
   void *ptr;
   if (!res->in_renderer || pv_resource_map(dev->cfg.renderer, res->id, &ptr, size) < 0)
      return NULL;
   return ptr;
}

#define HOSTMEM_PAGE 4096ull /* guest and host page size on x86-64 */

/* A mapped blob's range in the region overlapping [off, off + len). */
static struct vgpu_res *
mapping_overlap(struct pv_vgpu *dev, uint64_t off, uint64_t len)
{
   for (uint32_t i = 0; i < dev->nres; i++) {
      struct vgpu_res *o = dev->res[i];
      if (o->mapped && off < o->map_offset + o->map_len && o->map_offset < off + len)
         return o;
   }
   return NULL;
}

/* Every check a guest's RESOURCE_MAP_BLOB must pass; 0 when it may be
 * mapped, else the response (each rejection logged with its check). */
static uint32_t
map_check(struct pv_vgpu *dev, const struct vgpu_req *req,
          const struct virtio_gpu_resource_map_blob *c, struct vgpu_res *res, uint64_t *len)
{
   const struct pv_vgpu_hostmem *hm = &dev->cfg.hostmem;
   uint32_t id = c->resource_id;
   const char *why = NULL;
   uint32_t ret = VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
   if (!res) {
      why = "no such resource";
      ret = VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
   } else if (!res->blob) {
      why = "not a blob";
      ret = VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
   } else if (!hm->size || !hm->map) {
      why = "the device has no host-visible region";
      ret = VIRTIO_GPU_RESP_ERR_UNSPEC;
   } else if (!res->in_renderer || res->blob_mem == VIRTIO_GPU_BLOB_MEM_GUEST) {
      why = "not a host blob";
   } else if (!(res->blob_flags & VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE)) {
      why = "blob created without USE_MAPPABLE";
   } else if (res->mapped) {
      why = "already mapped";
   } else if (c->offset % HOSTMEM_PAGE) {
      why = "offset not page-aligned";
   } else if (res->blob_size > UINT64_MAX - HOSTMEM_PAGE) {
      why = "blob size";
   } else {
      *len = (res->blob_size + HOSTMEM_PAGE - 1) & ~(HOSTMEM_PAGE - 1);
      struct vgpu_res *o;
      if (c->offset > hm->size || *len > hm->size - c->offset) {
         why = "range outside the host-visible region";
      } else if ((o = mapping_overlap(dev, c->offset, *len))) {
         return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
                            "res %u offset 0x%llx: overlaps the mapping of res %u", id,
                            (unsigned long long)c->offset, o->id);
      }
   }
   if (why)
      return vgpu_reject(req, ret, "res %u offset 0x%llx: %s", id, (unsigned long long)c->offset,
                         why);
   return 0;
}

uint32_t
vgpu_3d_map_blob(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_resource_map_blob c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   struct vgpu_res *res = vgpu_res_find(dev, c.resource_id);
   uint64_t len = 0;
   uint32_t bad = map_check(dev, req, &c, res, &len);
   if (bad)
      return bad;
   const struct pv_vgpu_hostmem *hm = &dev->cfg.hostmem;
   int fd;
   uint32_t map_info;
   int err = pv_resource_export_fd(dev->cfg.renderer, res->id, &fd, &map_info);
   if (err < 0)
      return vgpu_reject(req, errno_to_resp(err), "res %u: the renderer cannot export it: %s",
                         res->id, strerror(-err));
   err = hm->map(hm->data, c.offset, fd, len);
   close(fd);
   if (err < 0)
      return vgpu_reject(req, VIRTIO_GPU_RESP_ERR_UNSPEC,
                         "res %u offset 0x%llx: the transport could not map it (%d)", res->id,
                         (unsigned long long)c.offset, err);
   res->mapped = true;
   res->map_offset = c.offset;
   res->map_len = len;
   struct virtio_gpu_resp_map_info *r =
      vgpu_resp_alloc(req, VIRTIO_GPU_RESP_OK_MAP_INFO, sizeof(*r));
   if (!r)
      return VIRTIO_GPU_RESP_ERR_UNSPEC; /* stays mapped: the guest may unmap it */
   r->map_info = map_info & VIRTIO_GPU_MAP_CACHE_MASK;
   return VIRTIO_GPU_RESP_OK_MAP_INFO;
}

uint32_t
vgpu_3d_unmap_blob(struct pv_vgpu *dev, struct vgpu_req *req)
{
   struct virtio_gpu_resource_unmap_blob c;
   if (!vgpu_req_get(req, &c, sizeof(c)))
      return VIRTIO_GPU_RESP_ERR_UNSPEC;
   struct vgpu_res *res = vgpu_res_find(dev, c.resource_id);
   const char *why = NULL;
   uint32_t ret = VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
   if (!res || !res->blob) {
      why = res ? "not a blob" : "no such resource";
      ret = VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
   } else if (!dev->cfg.hostmem.size) {
      why = "the device has no host-visible region";
      ret = VIRTIO_GPU_RESP_ERR_UNSPEC;
   } else if (!res->mapped) {
      why = "not mapped";
   }
   if (why)
      return vgpu_reject(req, ret, "res %u: %s", c.resource_id, why);
   hostmem_unmap(dev, res);
   return VIRTIO_GPU_RESP_OK_NODATA;
}

void
vgpu_3d_reset(struct pv_vgpu *dev)
{
   for (uint32_t i = 0; i < dev->nctx; i++)
      pv_context_destroy(dev->cfg.renderer, dev->ctx[i].id);
   dev->nctx = 0;
}

void
vgpu_3d_fence(struct pv_vgpu *dev, struct vgpu_req *req)
{
   if (!dev->cfg.renderer || !req->wait || !ctx_find(dev, req->hdr.ctx_id))
      return;
   uint32_t ring = (req->hdr.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX) ? req->hdr.ring_idx : 0;
   if (pv_context_submit_fence(dev->cfg.renderer, req->hdr.ctx_id, ring, req->hdr.fence_id) < 0)
      return; /* a lost context: answer at once, the guest sees the loss elsewhere */
   *req->wait = (struct pv_vgpu_fence_wait){
      .pending = true, .ctx_id = req->hdr.ctx_id, .ring_idx = ring, .fence_id = req->hdr.fence_id
   };
}
