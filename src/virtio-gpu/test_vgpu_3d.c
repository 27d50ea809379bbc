/*
 * Unit tests of the device model's renderer routing (vgpu_3d.c) against a
 * fake renderer: capsets, contexts, SUBMIT_3D, fences, host blobs, mapping.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_renderer.h"
#include "common/test_check.h"
#include "vgpu.h"
#include "vgpu_internal.h" /* held_realloc, to make growing fail */

#define GUEST_BASE 0x100000ull
#define GUEST_SIZE (1u << 20)
#define HOSTMEM_SIZE (1u << 20)

static uint8_t guest[GUEST_SIZE];
static int maps, unmaps, updates;
static uint32_t last_px;
static uint64_t last_map_off, last_map_len, last_unmap_off, last_unmap_len;
static int map_fails; /* the transport refuses this many maps */

static uint64_t
translate(void *data, uint64_t gpa, uint64_t len, void **host)
{
   if (gpa < GUEST_BASE || gpa >= GUEST_BASE + GUEST_SIZE)
      return 0;
   *host = guest + (gpa - GUEST_BASE);
   uint64_t avail = GUEST_BASE + GUEST_SIZE - gpa;
   return len < avail ? len : avail;
}

static int
hm_map(void *data, uint64_t off, int fd, uint64_t len)
{
   if (map_fails) {
      map_fails--;
      return -5;
   }
   maps++;
   last_map_off = off;
   last_map_len = len;
   return fd >= 0 ? 0 : -1;
}

static void
hm_unmap(void *data, uint64_t off, uint64_t len)
{
   unmaps++;
   last_unmap_off = off;
   last_unmap_len = len;
}

static void
on_update(void *data, uint32_t id, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
          const uint32_t *px)
{
   updates++;
   last_px = px[0];
}

static struct pv_vgpu *dev;
static struct pv_renderer *rend;
static uint8_t resp[4096];
static struct pv_vgpu_fence_wait wait;

static uint32_t
ctrl(const void *req, size_t len)
{
   struct iovec in = { (void *)req, len }, out = { resp, sizeof(resp) };
   uint32_t used = pv_vgpu_process_ctrl(dev, &in, 1, &out, 1, &wait);
   return used >= sizeof(struct virtio_gpu_ctrl_hdr) ? ((struct virtio_gpu_ctrl_hdr *)resp)->type
                                                     : 0;
}

static uint32_t
ctx_create(uint32_t id, uint32_t init, uint32_t nlen)
{
   struct virtio_gpu_ctx_create c = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_CREATE, .ctx_id = id },
                                      .nlen = nlen,
                                      .context_init = init };
   memcpy(c.debug_name, "vkcube", 6);
   return ctrl(&c, sizeof(c));
}

static uint32_t
blob(uint32_t ctx, uint32_t id, uint32_t mem, uint32_t flags, uint64_t size, uint32_t n)
{
   struct {
      struct virtio_gpu_resource_create_blob c;
      struct virtio_gpu_mem_entry e;
   } r = { .c = { .hdr = { .type = VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, .ctx_id = ctx },
                  .resource_id = id,
                  .blob_mem = mem,
                  .blob_flags = flags,
                  .nr_entries = n,
                  .blob_id = 5,
                  .size = size },
           .e = { .addr = GUEST_BASE, .length = (uint32_t)size } };
   return ctrl(&r, sizeof(r.c) + (n ? sizeof(r.e) : 0));
}

static uint32_t
ctx_res(uint32_t type, uint32_t ctx, uint32_t res)
{
   struct virtio_gpu_ctx_resource c = { .hdr = { .type = type, .ctx_id = ctx },
                                        .resource_id = res };
   return ctrl(&c, sizeof(c));
}

static uint32_t
map(uint32_t res, uint64_t off)
{
   struct virtio_gpu_resource_map_blob c = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB,
                                             .resource_id = res,
                                             .offset = off };
   return ctrl(&c, sizeof(c));
}

static uint32_t
res_cmd(uint32_t type, uint32_t res)
{
   struct virtio_gpu_resource_unref c = { .hdr.type = type, .resource_id = res };
   return ctrl(&c, sizeof(c));
}

static void
test_capsets(void)
{
   struct virtio_gpu_config cfg;
   pv_vgpu_get_config(dev, &cfg);
   EXPECT(cfg.num_capsets == 1);
   uint64_t f = pv_vgpu_features(dev);
   EXPECT((f & (1ull << VIRTIO_GPU_F_VIRGL)) && (f & (1ull << VIRTIO_GPU_F_CONTEXT_INIT)) &&
          (f & (1ull << VIRTIO_GPU_F_RESOURCE_BLOB)));

   struct virtio_gpu_get_capset_info ci = { .hdr.type = VIRTIO_GPU_CMD_GET_CAPSET_INFO };
   EXPECT(ctrl(&ci, sizeof(ci)) == VIRTIO_GPU_RESP_OK_CAPSET_INFO);
   struct virtio_gpu_resp_capset_info *r = (void *)resp;
   EXPECT(r->capset_id == PV_CAPSET_VENUS && r->capset_max_size == FAKE_CAPSET_SIZE);
   ci.capset_index = 1;
   EXPECT(ctrl(&ci, sizeof(ci)) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);

   struct virtio_gpu_get_capset gc = { .hdr.type = VIRTIO_GPU_CMD_GET_CAPSET,
                                       .capset_id = PV_CAPSET_VENUS };
   EXPECT(ctrl(&gc, sizeof(gc)) == VIRTIO_GPU_RESP_OK_CAPSET);
   EXPECT(resp[sizeof(struct virtio_gpu_resp_capset) + 5] == 5); /* the fake's byte i is i */
   gc.capset_version = 1;
   EXPECT(ctrl(&gc, sizeof(gc)) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   gc.capset_version = 0;
   gc.capset_id = 1;
   EXPECT(ctrl(&gc, sizeof(gc)) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
}

static void
test_contexts_and_submit(void)
{
   EXPECT(ctx_create(1, PV_CAPSET_VENUS, 6) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(strcmp(rend->last_name, "vkcube") == 0);
   EXPECT(ctx_create(1, PV_CAPSET_VENUS, 6) == VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
   EXPECT(ctx_create(0, PV_CAPSET_VENUS, 6) == VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
   EXPECT(ctx_create(2, PV_CAPSET_VENUS, 65) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(ctx_create(2, 0, 6) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(ctx_create(2, PV_CAPSET_VENUS | 0x100, 6) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);

   struct {
      struct virtio_gpu_cmd_submit c;
      uint8_t data[16];
   } s = { .c = { .hdr = { .type = VIRTIO_GPU_CMD_SUBMIT_3D, .ctx_id = 1 }, .size = 16 } };
   EXPECT(ctrl(&s, sizeof(s)) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(rend->submits == 1 && rend->last_submit_size == 16);
   s.c.size = 17;
   EXPECT(ctrl(&s, sizeof(s)) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   s.c.size = 0xffffffffu;
   EXPECT(ctrl(&s, sizeof(s)) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   s.c.size = 16;
   s.c.hdr.ctx_id = 3;
   EXPECT(ctrl(&s, sizeof(s)) == VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
   /* A stream the renderer rejects loses its context, not the others. */
   EXPECT(ctx_create(8, PV_CAPSET_VENUS, 6) == VIRTIO_GPU_RESP_OK_NODATA);
   s.c.hdr.ctx_id = 8;
   const uint32_t bad = FAKE_BAD_STREAM;
   memcpy(s.data, &bad, 4);
   EXPECT(ctrl(&s, sizeof(s)) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   memset(s.data, 0, 4);
   EXPECT(rend->submits == 2 && pv_context_is_lost(rend, 8) && !pv_context_is_lost(rend, 1));
   EXPECT(ctrl(&s, sizeof(s)) == VIRTIO_GPU_RESP_ERR_UNSPEC); /* lost: -ENODEV */
   struct virtio_gpu_ctx_destroy d8 = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_DESTROY,
                                                 .ctx_id = 8 } };
   EXPECT(ctrl(&d8, sizeof(d8)) == VIRTIO_GPU_RESP_OK_NODATA);
   s.c.hdr.ctx_id = 1;

   /* A fenced submit waits on the renderer's fence, on the given ring. */
   s.c.hdr.flags = VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX;
   s.c.hdr.fence_id = 42;
   s.c.hdr.ring_idx = 3;
   EXPECT(ctrl(&s, sizeof(s)) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(wait.pending && wait.ctx_id == 1 && wait.ring_idx == 3 && wait.fence_id == 42);
   EXPECT(rend->fences == 1 && rend->last_fence == 42 && rend->last_ring == 3);
   struct virtio_gpu_ctrl_hdr *rh = (void *)resp;
   EXPECT(rh->fence_id == 42 && rh->ring_idx == 3 && (rh->flags & VIRTIO_GPU_FLAG_FENCE));
   /* A failing fenced command does not queue a fence. */
   s.c.hdr.ctx_id = 9;
   EXPECT(ctrl(&s, sizeof(s)) == VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
   EXPECT(!wait.pending && rend->fences == 1);
}

static void
test_blobs(void)
{
   /* Host blobs need an existing context. */
   EXPECT(blob(7, 10, VIRTIO_GPU_BLOB_MEM_HOST3D, 1, 4096, 0) ==
          VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
   EXPECT(blob(1, 10, VIRTIO_GPU_BLOB_MEM_HOST3D, 1, 4096, 0) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(blob(1, 10, VIRTIO_GPU_BLOB_MEM_HOST3D, 1, 4096, 0) ==
          VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   EXPECT(blob(1, 11, VIRTIO_GPU_BLOB_MEM_HOST3D, 0, 4096, 0) == VIRTIO_GPU_RESP_OK_NODATA);
   /* The renderer refusing (too big) is reported. */
   EXPECT(blob(1, 12, VIRTIO_GPU_BLOB_MEM_HOST3D, 1, 1ull << 30, 0) ==
          VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
   /* Guest blobs reach the renderer with their pages. */
   EXPECT(blob(0, 13, VIRTIO_GPU_BLOB_MEM_GUEST, 0, 8192, 1) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(rend->blob[2].id == 13 && rend->blob[2].iov_count == 1);

   EXPECT(ctx_res(VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 1, 10) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(rend->attached == 1);
   EXPECT(ctx_res(VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 5, 10) ==
          VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
   EXPECT(ctx_res(VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 1, 99) ==
          VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   EXPECT(ctx_res(VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, 1, 10) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(rend->attached == 0);

   /* Mapping into the host-visible region. */
   EXPECT(map(10, 4096) == VIRTIO_GPU_RESP_OK_MAP_INFO);
   EXPECT(((struct virtio_gpu_resp_map_info *)resp)->map_info == VIRTIO_GPU_MAP_CACHE_CACHED);
   EXPECT(maps == 1);
   EXPECT(map(10, 8192) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER); /* twice */
   EXPECT(map(11, 0) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);    /* not mappable */
   EXPECT(res_cmd(VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 10) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(unmaps == 1);
   EXPECT(res_cmd(VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 10) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(map(10, 100) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER); /* misaligned */
   EXPECT(map(10, HOSTMEM_SIZE - 2048) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(map(10, 0xfffffffffffff000ull) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(map(99, 0) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   EXPECT(map(10, 0) == VIRTIO_GPU_RESP_OK_MAP_INFO);

   /* Scanout from a host blob reads the renderer's memory. */
   rend->blob[0].mem[0] = 0x33, rend->blob[0].mem[1] = 0x22, rend->blob[0].mem[2] = 0x11;
   struct virtio_gpu_set_scanout_blob sb = { .hdr.type = VIRTIO_GPU_CMD_SET_SCANOUT_BLOB,
                                             .r = { 0, 0, 16, 16 },
                                             .resource_id = 10,
                                             .width = 16,
                                             .height = 16,
                                             .format = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
                                             .strides = { 64 } };
   EXPECT(ctrl(&sb, sizeof(sb)) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(updates == 1 && (last_px & 0xffffff) == 0x112233);
   sb.height = 65; /* 64 rows of 64 bytes + 1 row: past the 4096-byte blob */
   EXPECT(ctrl(&sb, sizeof(sb)) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);

   /* Unref of a mapped blob unmaps it and drops the renderer's reference. */
   EXPECT(res_cmd(VIRTIO_GPU_CMD_RESOURCE_UNREF, 10) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(unmaps == 2 && rend->unrefs == 1);

   struct virtio_gpu_ctx_destroy d = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_DESTROY, .ctx_id = 1 } };
   EXPECT(ctrl(&d, sizeof(d)) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(ctrl(&d, sizeof(d)) == VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
}

/* RESOURCE_MAP_BLOB / UNMAP_BLOB checks: each guest mistake fails only that
 * command with its error; the transport sees only good requests. */
static void
test_hostmem(void)
{
   EXPECT(ctx_create(2, PV_CAPSET_VENUS, 6) == VIRTIO_GPU_RESP_OK_NODATA);
   const uint32_t M = VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE;
   EXPECT(blob(2, 20, VIRTIO_GPU_BLOB_MEM_HOST3D, M, 5000, 0) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(blob(2, 21, VIRTIO_GPU_BLOB_MEM_HOST3D, M, 4096, 0) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(blob(0, 22, VIRTIO_GPU_BLOB_MEM_GUEST, M, 4096, 1) == VIRTIO_GPU_RESP_OK_NODATA);
   int m0 = maps, u0 = unmaps;

   /* The length is the blob size rounded up to pages. */
   EXPECT(map(20, 0x10000) == VIRTIO_GPU_RESP_OK_MAP_INFO);
   EXPECT(maps == m0 + 1 && last_map_off == 0x10000 && last_map_len == 8192);
   /* Overlaps with it, at its start, inside, and ending inside it. */
   EXPECT(map(21, 0x10000) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(map(21, 0x11000) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(map(21, 0xf000) == VIRTIO_GPU_RESP_OK_MAP_INFO); /* just below: fine */
   EXPECT(res_cmd(VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 21) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(last_unmap_off == 0xf000 && last_unmap_len == 4096);
   EXPECT(map(21, 0x12000) == VIRTIO_GPU_RESP_OK_MAP_INFO); /* just above: fine */
   EXPECT(res_cmd(VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 21) == VIRTIO_GPU_RESP_OK_NODATA);
   /* The last page of the region, and one past it. */
   EXPECT(map(21, HOSTMEM_SIZE - 4096) == VIRTIO_GPU_RESP_OK_MAP_INFO);
   EXPECT(res_cmd(VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 21) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(map(21, HOSTMEM_SIZE) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(map(20, HOSTMEM_SIZE - 4096) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER); /* mapped */
   /* Guest blobs and 2D resources are not mappable. */
   EXPECT(map(22, 0x40000) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   struct virtio_gpu_resource_create_2d c2 = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
                                               .resource_id = 23,
                                               .format = 1,
                                               .width = 4,
                                               .height = 4 };
   EXPECT(ctrl(&c2, sizeof(c2)) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(map(23, 0x40000) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   EXPECT(res_cmd(VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 23) ==
          VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   EXPECT(res_cmd(VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 77) ==
          VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   EXPECT(res_cmd(VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 22) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   /* The transport failing the map fails the command; nothing is mapped. */
   map_fails = 1;
   EXPECT(map(21, 0x40000) == VIRTIO_GPU_RESP_ERR_UNSPEC);
   EXPECT(res_cmd(VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 21) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
   EXPECT(map(21, 0x40000) == VIRTIO_GPU_RESP_OK_MAP_INFO);
   /* A short request. */
   struct virtio_gpu_resource_map_blob sh = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB };
   EXPECT(ctrl(&sh, sizeof(sh) - 8) == VIRTIO_GPU_RESP_ERR_UNSPEC);

   /* Resetting the device (driver gone) unmaps what is mapped first. */
   int u1 = unmaps;
   pv_vgpu_reset(dev);
   EXPECT(unmaps == u1 + 2);
   EXPECT(maps == m0 + 5 && unmaps == u0 + 5);
}

/* RESOURCE_ASSIGN_UUID: stable per resource, distinct between resources. */
static void
test_uuid(void)
{
   EXPECT(pv_vgpu_features(dev) & (1ull << VIRTIO_GPU_F_RESOURCE_UUID));
   struct virtio_gpu_resource_create_2d c2 = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
                                               .resource_id = 30,
                                               .format = 1,
                                               .width = 4,
                                               .height = 4 };
   EXPECT(ctrl(&c2, sizeof(c2)) == VIRTIO_GPU_RESP_OK_NODATA);
   c2.resource_id = 31;
   EXPECT(ctrl(&c2, sizeof(c2)) == VIRTIO_GPU_RESP_OK_NODATA);
   struct virtio_gpu_resource_assign_uuid a = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID,
                                                .resource_id = 30 };
   uint8_t u30[16], u31[16];
   EXPECT(ctrl(&a, sizeof(a)) == VIRTIO_GPU_RESP_OK_RESOURCE_UUID);
   memcpy(u30, ((struct virtio_gpu_resp_resource_uuid *)resp)->uuid, 16);
   EXPECT((u30[6] >> 4) == 8 && (u30[8] & 0xc0) == 0x80); /* version 8, RFC 4122 variant */
   EXPECT(ctrl(&a, sizeof(a)) == VIRTIO_GPU_RESP_OK_RESOURCE_UUID);
   EXPECT(memcmp(u30, ((struct virtio_gpu_resp_resource_uuid *)resp)->uuid, 16) == 0);
   a.resource_id = 31;
   EXPECT(ctrl(&a, sizeof(a)) == VIRTIO_GPU_RESP_OK_RESOURCE_UUID);
   memcpy(u31, ((struct virtio_gpu_resp_resource_uuid *)resp)->uuid, 16);
   EXPECT(memcmp(u30, u31, 16) != 0);
   /* Re-created under the same id: a new uuid. */
   EXPECT(res_cmd(VIRTIO_GPU_CMD_RESOURCE_UNREF, 31) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(ctrl(&c2, sizeof(c2)) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(ctrl(&a, sizeof(a)) == VIRTIO_GPU_RESP_OK_RESOURCE_UUID);
   EXPECT(memcmp(u31, ((struct virtio_gpu_resp_resource_uuid *)resp)->uuid, 16) != 0);
   a.resource_id = 99;
   EXPECT(ctrl(&a, sizeof(a)) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
   EXPECT(ctrl(&a, sizeof(a) - 4) == VIRTIO_GPU_RESP_ERR_UNSPEC);
}

/* ---- fence ownership: held requests ---------------------------------- */

static uint64_t done[64];
static unsigned ndone;

static void
on_complete(void *data, uint64_t token, uint32_t len)
{
   if (ndone < 64)
      done[ndone++] = token;
   EXPECT(len == sizeof(struct virtio_gpu_ctrl_hdr));
}

static void *
no_realloc(void *p, size_t size)
{
   (void)p;
   (void)size;
   return NULL;
}

/* A fenced, empty SUBMIT_3D on (ctx, ring) through pv_vgpu_submit_ctrl. */
static int
submit_fenced(struct pv_vgpu *d, uint64_t token, uint32_t ctx, uint32_t ring, uint64_t fence)
{
   struct virtio_gpu_cmd_submit c = { .hdr = { .type = VIRTIO_GPU_CMD_SUBMIT_3D,
                                               .ctx_id = ctx,
                                               .fence_id = fence,
                                               .flags = VIRTIO_GPU_FLAG_FENCE |
                                                        VIRTIO_GPU_FLAG_INFO_RING_IDX,
                                               .ring_idx = (uint8_t)ring } };
   struct iovec in = { &c, sizeof(c) }, out = { resp, sizeof(resp) };
   uint32_t len = 0;
   return pv_vgpu_submit_ctrl(d, token, &in, 1, &out, 1, &len);
}

static void
test_held(void)
{
   struct pv_vgpu_config cfg = { .translate = translate,
                                 .renderer = rend,
                                 .max_held = 3,
                                 .completion = { .complete = on_complete } };
   struct pv_vgpu *d;
   EXPECT(pv_vgpu_create(&cfg, &d) == 0);
   struct pv_vgpu *saved = dev;
   dev = d; /* ctrl() and ctx_create() drive this device */
   EXPECT(ctx_create(4, PV_CAPSET_VENUS, 6) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(ctx_create(5, PV_CAPSET_VENUS, 6) == VIRTIO_GPU_RESP_OK_NODATA);

   /* Unfenced commands are answered at once and need no room. */
   struct virtio_gpu_ctrl_hdr gdi = { .type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO };
   struct iovec in = { &gdi, sizeof(gdi) }, out = { resp, sizeof(resp) };
   uint32_t len = 0;
   EXPECT(pv_vgpu_submit_ctrl(d, 100, &in, 1, &out, 1, &len) == 1 && len > 24);

   /* The table fills: three held, the fourth is refused untouched. */
   int submits = rend->submits;
   EXPECT(submit_fenced(d, 1, 4, 0, 10) == 0);
   EXPECT(submit_fenced(d, 2, 4, 0, 11) == 0);
   EXPECT(submit_fenced(d, 3, 5, 1, 7) == 0);
   EXPECT(pv_vgpu_held_count(d) == 3 && !pv_vgpu_ctrl_ready(d));
   EXPECT(submit_fenced(d, 4, 4, 0, 12) == -EBUSY);
   EXPECT(rend->submits == submits + 3); /* the refused one never ran */
   EXPECT(ndone == 0);

   /* Fences of another ring or context release nothing of ring (4, 0). */
   pv_vgpu_fence_retired(d, 4, 1, 100);
   pv_vgpu_fence_retired(d, 9, 0, 100);
   EXPECT(ndone == 0);
   /* Fence 10 releases exactly token 1; then room for one more. */
   pv_vgpu_fence_retired(d, 4, 0, 10);
   EXPECT(ndone == 1 && done[0] == 1 && pv_vgpu_ctrl_ready(d));
   EXPECT(submit_fenced(d, 4, 4, 0, 12) == 0);
   /* Fence 12 retires every earlier fence of the ring: 11, then 12. */
   pv_vgpu_fence_retired(d, 4, 0, 12);
   EXPECT(ndone == 3 && done[1] == 2 && done[2] == 4);
   pv_vgpu_fence_retired(d, 5, 1, 7);
   EXPECT(ndone == 4 && done[3] == 3 && pv_vgpu_held_count(d) == 0);

   /* In order per ring: a later request with a smaller fence id waits for
    * the earlier one. */
   ndone = 0;
   EXPECT(submit_fenced(d, 20, 4, 2, 50) == 0);
   EXPECT(submit_fenced(d, 21, 4, 2, 40) == 0);
   pv_vgpu_fence_retired(d, 4, 2, 40);
   EXPECT(ndone == 0);
   pv_vgpu_fence_retired(d, 4, 2, 50);
   EXPECT(ndone == 2 && done[0] == 20 && done[1] == 21);

   /* Growing fails: the device refuses new requests instead of losing one,
    * and takes them again once growing works. A device with room for more
    * than the initial table. */
   pv_vgpu_destroy(d);
   cfg.max_held = 1000;
   EXPECT(pv_vgpu_create(&cfg, &d) == 0);
   dev = d;
   EXPECT(ctx_create(4, PV_CAPSET_VENUS, 6) == VIRTIO_GPU_RESP_OK_NODATA);
   d->held_realloc = no_realloc;
   EXPECT(!pv_vgpu_ctrl_ready(d));
   EXPECT(submit_fenced(d, 1, 4, 0, 1) == -EBUSY);
   d->held_realloc = realloc;
   uint32_t n = 64; /* the first table */
   for (uint32_t i = 0; i < n; i++)
      EXPECT(submit_fenced(d, 1000 + i, 4, 0, 1000 + i) == 0);
   EXPECT(d->held_cap == n);
   d->held_realloc = no_realloc;
   EXPECT(!pv_vgpu_ctrl_ready(d) && submit_fenced(d, 5000, 4, 0, 5000) == -EBUSY);
   EXPECT(pv_vgpu_held_count(d) == n);
   ndone = 0;
   pv_vgpu_fence_retired(d, 4, 0, 1000); /* one slot frees */
   EXPECT(ndone == 1 && done[0] == 1000 && pv_vgpu_ctrl_ready(d));
   d->held_realloc = realloc;
   EXPECT(submit_fenced(d, 5000, 4, 0, 5000) == 0);
   EXPECT(pv_vgpu_ctrl_ready(d) && d->held_cap > n); /* grew */

   /* Destroying the context completes what it still holds, in order. */
   ndone = 0;
   struct virtio_gpu_ctx_destroy cd = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_DESTROY,
                                                 .ctx_id = 4 } };
   EXPECT(ctrl(&cd, sizeof(cd)) == VIRTIO_GPU_RESP_OK_NODATA);
   EXPECT(pv_vgpu_held_count(d) == 0 && ndone == 64 && done[0] == 1001);
   /* A reset forgets held requests without completing them. */
   EXPECT(ctx_create(6, PV_CAPSET_VENUS, 6) == VIRTIO_GPU_RESP_OK_NODATA);
   ndone = 0;
   EXPECT(submit_fenced(d, 7, 6, 0, 1) == 0);
   pv_vgpu_reset(d);
   EXPECT(pv_vgpu_held_count(d) == 0 && ndone == 0);
   pv_vgpu_fence_retired(d, 6, 0, 1);
   EXPECT(ndone == 0);
   pv_vgpu_destroy(d);
   dev = saved;
}

int
main(void)
{
   struct pv_renderer_callbacks cbs = { 0 };
   if (pv_renderer_create(&cbs, NULL, &rend) < 0)
      return 1;
   struct pv_vgpu_config cfg = {
      .translate = translate,
      .display = { .update = on_update },
      .hostmem = { .size = HOSTMEM_SIZE, .map = hm_map, .unmap = hm_unmap },
      .renderer = rend,
   };
   if (pv_vgpu_create(&cfg, &dev) < 0)
      return 1;
   test_capsets();
   test_contexts_and_submit();
   test_blobs();
   test_hostmem();
   EXPECT(rend->unrefs == 6); /* 10 by UNREF; 11, 13, 20, 21, 22 by the reset */
   test_uuid();
   test_held();
   /* A guest refused over and over: the first VGPU_REJECTS_WARNED refusals
    * are warnings, the rest go to the debug level. */
   struct virtio_gpu_ctx_destroy bad = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_DESTROY,
                                                  .ctx_id = 77 } };
   for (unsigned i = 0; i < 2 * VGPU_REJECTS_WARNED; i++)
      EXPECT(ctrl(&bad, sizeof(bad)) == VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
   EXPECT(dev->rejects_warned == VGPU_REJECTS_WARNED);
   pv_vgpu_destroy(dev);
   pv_renderer_destroy(rend);
   return test_report("vgpu_3d");
}
