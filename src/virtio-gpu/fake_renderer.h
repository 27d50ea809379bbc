/* The fake renderer's state, visible to the tests that use it. */
#ifndef PV_VIRTIO_GPU_FAKE_RENDERER_H
#define PV_VIRTIO_GPU_FAKE_RENDERER_H

#include "pearvisor/pearvisor.h"

#define FAKE_MAX 8

struct fake_blob {
   uint32_t id;
   uint64_t size;
   uint32_t iov_count;
   uint8_t *mem;
};

struct pv_renderer {
   struct pv_renderer_callbacks cbs;
   uint32_t ctx[FAKE_MAX];
   struct fake_blob blob[FAKE_MAX];
   char last_name[65];
   int submits, fences, unrefs, attached;
   size_t last_submit_size;
   uint64_t last_fence;
   uint32_t last_ring;
};

#endif
