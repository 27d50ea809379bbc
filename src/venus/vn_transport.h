/*
 * Transport state of a context (vn_transport.c): rings, the submit channel,
 * seqno waits and the ring monitor.
 */
#ifndef PV_VENUS_VN_TRANSPORT_H
#define PV_VENUS_VN_TRANSPORT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vn_context;
struct vn_ring;

/* Transport state shared by the rings, the submit channel and the monitor.
 * `mutex` nests inside ctx->mutex; waiters hold only it. */
#define VN_TRANSPORT_MAX_MONITORED 64
struct vn_transport {
   pthread_mutex_t mutex;
   pthread_cond_t progress;  /* a ring consumed, a seqno arrived, a ring stopped */
   uint32_t waiters;
   atomic_bool cancel;       /* context teardown: every wait ends */
   struct vn_ring *executing; /* ring whose commands run now (ctx->mutex held) */

   pthread_t monitor;
   bool monitor_started;
   bool monitor_stop;
   pthread_cond_t monitor_cond;
   struct vn_ring *monitored[VN_TRANSPORT_MAX_MONITORED];
   uint32_t monitored_count;
};

void vn_transport_init(struct vn_context *ctx);
/* Ends every seqno and fence wait of the context, now and later (teardown). */
void vn_transport_cancel(struct vn_context *ctx);
bool vn_transport_cancelled(struct vn_context *ctx);
/* Stops the monitor; rings must be stopped and joined before. */
void vn_transport_fini(struct vn_context *ctx);
/* Ring threads: run a ring's commands, publish how far it got. */
bool vn_transport_execute_ring_locked(struct vn_context *ctx, struct vn_ring *ring,
                                      const void *data, size_t size);
void vn_transport_ring_consumed(struct vn_context *ctx, struct vn_ring *ring, uint32_t head);
void vn_ring_stop_all_locked(struct vn_context *ctx);
void vn_ring_join_dead(struct vn_context *ctx);

#endif
