/*
 * Internals shared by the 2D core (vgpu.c) and the renderer routing
 * (vgpu_3d.c). Not part of the library's contract.
 */
#ifndef PV_VIRTIO_GPU_VGPU_INTERNAL_H
#define PV_VIRTIO_GPU_VGPU_INTERNAL_H

#include "vgpu.h"

struct vgpu_mem_entry {
   uint64_t gpa;
   uint32_t len;
};

struct vgpu_res {
   uint32_t id;
   bool blob;
   /* 2D resources: a host copy filled by TRANSFER_TO_HOST_2D. */
   uint32_t format, width, height, stride;
   uint8_t *pixels;
   /* Guest backing (2D backing or GUEST blob memory). */
   struct vgpu_mem_entry *backing;
   uint32_t nbacking;
   uint64_t backing_size;
   /* Blobs. */
   uint32_t blob_mem, blob_flags;
   uint64_t blob_size;
   bool in_renderer; /* created through pv_resource_create_blob */
   bool mapped;
   uint64_t map_offset, map_len; /* in the host-visible region */
   /* RESOURCE_ASSIGN_UUID: assigned once, then the same for its lifetime. */
   bool has_uuid;
   uint8_t uuid[16];
};

struct vgpu_ctx {
   uint32_t id;
   uint32_t capset_id;
};

struct vgpu_scanout {
   uint32_t res_id; /* 0: disabled */
   struct virtio_gpu_rect r;
   /* Blob scanouts: the framebuffer layout inside the blob. */
   bool blob;
   uint32_t format, fb_width, fb_height, stride;
   uint64_t offset;
   /* Size last announced to the display (0: disabled). */
   uint32_t shown_w, shown_h;
};

/* A fenced control request whose response waits for its fence. */
struct vgpu_held {
   uint64_t token;
   uint32_t len;
   uint32_t ctx_id, ring_idx;
   uint64_t fence_id;
};

struct pv_vgpu {
   struct pv_vgpu_config cfg;
   uint32_t events_read;
   struct vgpu_res **res;
   uint32_t nres, res_cap;
   uint64_t host_mem_used;
   struct vgpu_ctx *ctx;
   uint32_t nctx, ctx_cap;
   struct vgpu_scanout scanout[VIRTIO_GPU_MAX_SCANOUTS];
   uint64_t uuid_seq;      /* makes every assigned uuid of this device distinct */
   struct vgpu_held *held; /* in submission order */
   uint32_t nheld, held_cap;
   /* realloc for the held table; tests replace it to make growing fail. */
   void *(*held_realloc)(void *ptr, size_t size);
   uint32_t *conv; /* scratch for converted pixels */
   size_t conv_cap;
   uint32_t rejects_warned; /* refusals logged at warn level (vgpu_reject) */
};

/* A parsed request: the readable part flattened, and the response buffer. */
struct vgpu_req {
   struct pv_vgpu *dev;
   const uint8_t *buf;
   size_t len;
   struct virtio_gpu_ctrl_hdr hdr;
   uint8_t *resp; /* response being built */
   size_t resp_cap;
   size_t resp_len;
   struct pv_vgpu_fence_wait *wait;
};

/* Refuses the request: logs the check that failed (fmt: what, with the ids it
 * names) and returns `resp`, the error response. A device's first
 * VGPU_REJECTS_WARNED refusals are logged at warn level, later ones at debug,
 * so that a guest cannot flood the host's log. Every refusal of guest input
 * goes through here. */
#define VGPU_REJECTS_WARNED 64u
uint32_t vgpu_reject(const struct vgpu_req *req, uint32_t resp, const char *fmt, ...)
   __attribute__((format(printf, 3, 4)));

/* Copies the fixed-size command struct; false (refused and logged) when the
 * request is shorter. */
bool vgpu_req_get(const struct vgpu_req *req, void *cmd, size_t size);

struct vgpu_res *vgpu_res_find(struct pv_vgpu *dev, uint32_t id);
int vgpu_res_add(struct pv_vgpu *dev, struct vgpu_res *res);
void vgpu_res_free(struct pv_vgpu *dev, struct vgpu_res *res);
/* Parses nr entries following `off` in the request into *out, checking that
 * each lies in guest RAM. Returns a VIRTIO_GPU_RESP_* code. */
uint32_t vgpu_parse_entries(struct pv_vgpu *dev, const struct vgpu_req *req, size_t off,
                            uint32_t nr, struct vgpu_mem_entry **out, uint64_t *total);
/* Copies `len` bytes at `offset` of a guest backing into dst. */
int vgpu_backing_read(struct pv_vgpu *dev, const struct vgpu_mem_entry *e, uint32_t n,
                      uint64_t offset, void *dst, uint64_t len);
bool vgpu_format_supported(uint32_t format);
bool vgpu_rect_inside(const struct virtio_gpu_rect *r, uint32_t w, uint32_t h);
void vgpu_scanout_set(struct pv_vgpu *dev, uint32_t id, struct vgpu_scanout *s);
uint32_t vgpu_flush_resource(struct pv_vgpu *dev, const struct vgpu_req *req, struct vgpu_res *res,
                             const struct virtio_gpu_rect *r);

/* Reserves a response of `size` bytes (zeroed, header filled); NULL when
 * the guest's response buffer is too small. */
void *vgpu_resp_alloc(struct vgpu_req *req, uint32_t type, size_t size);

/* Renderer routing (vgpu_3d.c); without a configured renderer 2D only. */
bool vgpu_3d_available(const struct pv_vgpu *dev);
uint32_t vgpu_3d_num_capsets(const struct pv_vgpu *dev);
uint32_t vgpu_3d_command(struct pv_vgpu *dev, struct vgpu_req *req);
/* Blob resources the renderer owns. */
uint32_t vgpu_3d_create_blob(struct pv_vgpu *dev, struct vgpu_req *req, struct vgpu_res *res);
void vgpu_3d_unref(struct pv_vgpu *dev, struct vgpu_res *res);
/* Host pointer to a renderer blob (for blob scanouts); NULL if none. */
const uint8_t *vgpu_3d_blob_ptr(struct pv_vgpu *dev, struct vgpu_res *res, uint64_t *size);
uint32_t vgpu_3d_map_blob(struct pv_vgpu *dev, struct vgpu_req *req);
uint32_t vgpu_3d_unmap_blob(struct pv_vgpu *dev, struct vgpu_req *req);
void vgpu_3d_reset(struct pv_vgpu *dev);
/* A fenced command succeeded: queue the fence on the renderer context (if
 * any) and report the wait in req->wait. */
void vgpu_3d_fence(struct pv_vgpu *dev, struct vgpu_req *req);

/* A context is gone: its held requests are completed (in order), since
 * no fence of it will retire any more. */
void vgpu_held_complete_ctx(struct pv_vgpu *dev, uint32_t ctx_id);

#endif
