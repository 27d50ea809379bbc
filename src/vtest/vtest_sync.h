/*
 * vtest sync objects of one client: 64-bit timeline values, waits that hand
 * the client a pollable fd, and fences that set sync values once the host
 * GPU has finished a batch.
 *
 * All functions are thread-safe (one mutex per vtest_syncs): the client
 * thread creates/reads/writes/waits, the renderer's threads retire fences.
 * No pv_* call is made with the mutex held.
 */
#ifndef PV_VTEST_SYNC_H
#define PV_VTEST_SYNC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vtest_sync_point {
   uint32_t id;
   uint64_t value;
};

struct vtest_sync_limits {
   uint32_t max_syncs;  /* live sync objects */
   uint32_t max_waits;  /* pending (unsatisfied) waits */
   uint32_t max_fences; /* fences submitted but not retired */
};

struct vtest_sync_obj;
struct vtest_wait;
struct vtest_fence;

struct vtest_syncs {
   pthread_mutex_t lock;
   struct vtest_sync_limits limits;
   uint32_t next_id;

   struct vtest_sync_obj *objs; /* sorted by id */
   uint32_t obj_count, obj_cap;

   struct vtest_wait *waits; /* singly linked, unordered */
   uint32_t wait_count;

   struct vtest_fence *fences; /* FIFO, oldest first */
   struct vtest_fence *fences_tail;
   uint32_t fence_count;
   uint64_t next_fence_id;
};

/* Default limits (used for zero fields). */
#define VTEST_DEFAULT_MAX_SYNCS 65536
#define VTEST_DEFAULT_MAX_WAITS 1024
#define VTEST_DEFAULT_MAX_FENCES 65536

int vtest_syncs_init(struct vtest_syncs *s, const struct vtest_sync_limits *limits);
/* Closes every pending wait fd and frees everything. */
void vtest_syncs_fini(struct vtest_syncs *s);

/* Returns 0, -ENOSPC (too many syncs) or -ENOENT (unknown id). */
int vtest_sync_create(struct vtest_syncs *s, uint64_t value, uint32_t *id);
int vtest_sync_unref(struct vtest_syncs *s, uint32_t id);
int vtest_sync_read(struct vtest_syncs *s, uint32_t id, uint64_t *value);
int vtest_sync_write(struct vtest_syncs *s, uint32_t id, uint64_t value);

/* -ENOENT unless every point names a live sync. */
int vtest_sync_check(struct vtest_syncs *s, const struct vtest_sync_point *pts, uint32_t count);

/* Sets the value of every live sync named by pts (dead ones are skipped:
 * the client may drop a sync before its fence retires). */
void vtest_sync_signal(struct vtest_syncs *s, const struct vtest_sync_point *pts, uint32_t count);

/* Starts a wait: all (or, with `any`, one) of the syncs reach their values.
 * *fd gets an eventfd for the client that becomes readable when the wait is
 * satisfied; the caller sends and then closes it. timeout_ms bounds how long
 * the server keeps an unsatisfied wait (UINT32_MAX: forever). Returns 0,
 * -ENOENT (unknown sync), -ENOSPC (too many waits) or another -errno. */
int vtest_sync_wait(struct vtest_syncs *s, bool any, uint32_t timeout_ms,
                    const struct vtest_sync_point *pts, uint32_t count, int *fd);

/* Records the points to signal once fence *fence_id (assigned here,
 * increasing) retires on `ring`. Call before handing the fence to the
 * renderer: it may retire at once. Returns 0 or -ENOSPC / -ENOMEM. */
int vtest_fence_add(struct vtest_syncs *s, uint32_t ring, const struct vtest_sync_point *pts,
                    uint32_t count, uint64_t *fence_id);

/* Fence `fence_id` retired on `ring`: it and every older fence of that ring
 * signal their points (a retired fence implies all earlier work on the ring
 * completed, so merged retirements are fine). Unknown ids are ignored. */
void vtest_fence_retired(struct vtest_syncs *s, uint32_t ring, uint64_t fence_id);

/* Removes a fence that was recorded but could not be submitted. */
void vtest_fence_cancel(struct vtest_syncs *s, uint64_t fence_id);

/* Number of pending waits / fences (for tests). */
uint32_t vtest_sync_pending_waits(struct vtest_syncs *s);
uint32_t vtest_sync_pending_fences(struct vtest_syncs *s);

#endif
