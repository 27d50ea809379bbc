/*
 * Transport state of a context (pvk_transport.c): rings, the submit channel,
 * seqno waits and the ring monitor.
 */
#ifndef PV_VENUS_PVK_TRANSPORT_H
#define PV_VENUS_PVK_TRANSPORT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pvk_context;
struct pvk_ring;

/* Transport state shared by the rings, the submit channel and the monitor.
 * `mutex` nests inside ctx->mutex; waiters hold only it. */
#define PVK_TRANSPORT_MAX_MONITORED 64
struct pvk_transport {
   pthread_mutex_t mutex;
   pthread_cond_t progress; /* a ring consumed, a seqno arrived, a ring stopped */
   uint32_t waiters;
   atomic_bool cancel;         /* context teardown: every wait ends */
   struct pvk_ring *executing; /* ring whose commands run now (ctx->mutex held) */

   pthread_t monitor;
   bool monitor_started;
   bool monitor_stop;
   pthread_cond_t monitor_cond;
   struct pvk_ring *monitored[PVK_TRANSPORT_MAX_MONITORED];
   uint32_t monitored_count;
};

void pvk_transport_init(struct pvk_context *ctx);
/* Ends every seqno and fence wait of the context, now and later (teardown). */
void pvk_transport_cancel(struct pvk_context *ctx);
bool pvk_transport_cancelled(struct pvk_context *ctx);
/* Stops the monitor; rings must be stopped and joined before. */
void pvk_transport_fini(struct pvk_context *ctx);
/* Ring threads: run a ring's commands, publish how far it got. */
bool pvk_transport_execute_ring_locked(struct pvk_context *ctx, struct pvk_ring *ring,
                                       const void *data, size_t size);
void pvk_transport_ring_consumed(struct pvk_context *ctx, struct pvk_ring *ring, uint32_t head);
void pvk_ring_stop_all_locked(struct pvk_context *ctx);
void pvk_ring_join_dead(struct pvk_context *ctx);

#endif
