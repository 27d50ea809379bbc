/*
 * A fake PearVisor renderer shared by the transport tests (the virtio-gpu
 * device model, the vtest server, their fuzzers): it implements
 * include/pearvisor/pearvisor.h with bookkeeping only, no Vulkan, and its
 * state is public so a test can check what the transport passed on.
 *
 * Behaviour the tests rely on:
 * - one capset, PV_CAPSET_VENUS version 0, FAKE_CAPSET_SIZE bytes: byte i
 *   is i (whatever the wire format);
 * - up to FAKE_MAX contexts and FAKE_MAX blobs; a blob takes the lowest
 *   free slot of blob[];
 * - a command stream whose first dword is FAKE_BAD_STREAM, or whose size is
 *   not a multiple of 4, is malformed: the submit returns -EINVAL and the
 *   context is lost (later submits: -ENODEV), as the contract says;
 * - fences are counted; with a fence_retired callback, those on ring 0
 *   retire inside pv_context_submit_fence and those on other rings 50 ms
 *   later from a thread of the fake's own; without one they never retire;
 * - HOST3D blobs are memfds of at most FAKE_BLOB_MAX_SIZE (bigger: -ENOMEM),
 *   exported only when MAPPABLE; GUEST blobs need exactly one iov and keep
 *   the caller's memory (nothing to map or export).
 */
#ifndef PV_TESTS_FAKE_RENDERER_H
#define PV_TESTS_FAKE_RENDERER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/shmem.h"
#include "pearvisor/pearvisor.h"

#define FAKE_MAX 16
#define FAKE_CAPSET_SIZE 64
#define FAKE_BAD_STREAM 0xdeadbeefu
#define FAKE_BLOB_MAX_SIZE (1u << 20)

struct fake_ctx {
   uint32_t id; /* 0: free slot */
   bool lost;
};

struct fake_blob {
   uint32_t id; /* 0: free slot */
   uint32_t blob_mem, blob_flags, iov_count;
   uint64_t size;
   struct pv_shmem shm; /* HOST3D only */
   uint8_t *mem;        /* shm.map, NULL for GUEST blobs */
};

struct fake_fence_thread;

struct pv_renderer {
   struct pv_renderer_callbacks cbs;
   uint32_t wire_format;
   uint32_t teardown_timeout_ms;          /* pv_renderer_set_teardown_timeout */
   struct pv_device_policy device_policy; /* pv_renderer_set_device_policy */
   struct fake_ctx ctx[FAKE_MAX];
   struct fake_blob blob[FAKE_MAX];
   struct fake_fence_thread *threads; /* deferred fences, joined on destroy */
   /* what the transport passed on */
   char last_name[65];
   int submits, fences, unrefs, attached;
   size_t last_submit_size;
   uint64_t last_fence;
   uint32_t last_ring;
};

/* pv_context_submit_fence calls on ring 0 and on other rings, summed over
 * every renderer (atomic: servers call from several threads). */
extern unsigned fake_fence_calls[2];

#endif
