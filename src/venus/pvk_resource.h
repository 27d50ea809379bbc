/*
 * Blob resources and the shared memory behind them (pvk_context.c).
 */
#ifndef PV_VENUS_PVK_RESOURCE_H
#define PV_VENUS_PVK_RESOURCE_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/shmem.h"

/* Memory shared by a blob resource and possibly a VkDeviceMemory (memfd,
 * mapped once on the host). Refcounted: freed when the last user is gone. */
struct pvk_shm {
   atomic_uint refcount;
   struct pv_shmem shm;
};

struct pvk_shm *pvk_shm_create(const char *name, uint64_t size);
struct pvk_shm *pvk_shm_ref(struct pvk_shm *s);
void pvk_shm_unref(struct pvk_shm *s);

/* A blob resource (pv_resource_create_blob). Refcounted: the renderer's
 * table, each context it is attached to, rings and reply streams hold refs. */
struct pvk_resource {
   atomic_uint refcount;
   uint32_t res_id;
   uint32_t blob_mem;
   uint32_t blob_flags;
   uint64_t blob_id;
   uint64_t size;
   uint32_t charged_ctx_id; /* context whose memory limit this blob counts against */
   struct pvk_shm *shm;     /* memfd backing, or NULL for iov-backed GUEST blobs */
   uint8_t *map;            /* host address of the whole blob (shm->shm.map or the iov) */
};

struct pvk_resource *pvk_resource_ref(struct pvk_resource *res);
void pvk_resource_unref(struct pvk_resource *res);

#endif
