/*
 * A venus ring (vkCreateRingMESA): a guest-produced circular command buffer
 * in a blob resource, consumed by one host thread. The object only moves
 * bytes: create, start, stop, notify, and the monitor's alive report. What
 * the commands mean (seqnos, waits) is pvk_transport.c's business.
 *
 * Shared layout (offsets from VkRingCreateInfoMESA): head (u32, written by
 * us: bytes consumed), tail (u32, written by the guest), status (u32, IDLE /
 * FATAL / ALIVE bits, written by us with atomic OR/AND: the guest clears
 * ALIVE itself), a power-of-two buffer, and an "extra" area.
 */
#ifndef PV_VENUS_PVK_RING_H
#define PV_VENUS_PVK_RING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "venus/generated/vn_protocol_renderer.h"

#define PVK_RING_STATUS_IDLE 0x1u
#define PVK_RING_STATUS_FATAL 0x2u
#define PVK_RING_STATUS_ALIVE 0x4u

struct pvk_context;
struct pvk_resource;

struct pvk_ring {
   struct pvk_context *ctx;
   uint64_t id;
   atomic_uint refs; /* the context's list, the thread's owner, waiters */
   struct pvk_resource *res;
   atomic_uint *head;
   atomic_uint *tail;
   atomic_uint *status;
   uint8_t *buffer;
   uint32_t buffer_size;
   uint8_t *extra;
   uint64_t extra_size;
   uint64_t spin_ns;
   uint8_t *cmd; /* private copy of the commands being executed */

   /* VkRingMonitorInfoMESA: ALIVE must be set at least this often (0: off) */
   uint64_t monitor_period_ns;

   /* what the guest can wait for (pvk_transport.c), under ctx->transport.mutex */
   uint32_t consumed;        /* our copy of head: the guest can write the shared one */
   uint64_t virtqueue_seqno; /* the latest vkSubmitVirtqueueSeqnoMESA */

   pthread_t thread;
   bool started;
   pthread_mutex_t mutex;
   pthread_cond_t cond;
   bool notified;
   atomic_bool stop;

   struct pvk_ring *next; /* in ctx->rings or ctx->dead_rings */
};

/* Validates the layout against the attached resource and sets the ring up
 * (not started). NULL with the context marked lost on a bad layout. */
struct pvk_ring *pvk_ring_create(struct pvk_context *ctx, uint64_t id,
                                 const VkRingCreateInfoMESA *info);
/* Starts the consumer thread. False when it could not be started. */
bool pvk_ring_start(struct pvk_ring *ring);
/* Asks the thread to stop and wakes it (and whoever waits on the ring). */
void pvk_ring_stop(struct pvk_ring *ring);
/* vkNotifyRingMESA: wakes an idle ring. */
void pvk_ring_notify(struct pvk_ring *ring);
/* The monitor's report: sets ALIVE (atomic OR, the guest clears it). */
void pvk_ring_monitor(struct pvk_ring *ring);
/* Joins the thread (when started) and drops the caller's reference. */
void pvk_ring_join(struct pvk_ring *ring);

struct pvk_ring *pvk_ring_ref(struct pvk_ring *ring);
void pvk_ring_unref(struct pvk_ring *ring);

#endif
