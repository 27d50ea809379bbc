/*
 * One vtest client connection: its own pv_renderer (so clients never see
 * each other's contexts, resources or syncs), one venus context, its syncs.
 *
 * Everything read from the socket is untrusted: every length is bounded
 * before anything is allocated, every offset/id is checked, and a client
 * that breaks the protocol is dropped with one log line.
 */
#ifndef PV_VTEST_CLIENT_H
#define PV_VTEST_CLIENT_H

#include <stdint.h>

#include "common/budget.h"
#include "pearvisor/pearvisor.h"
#include "vtest/vtest_sync.h"

struct vtest_client_config {
   uint32_t max_message_bytes;    /* payload of one message; 0: 64 MiB */
   uint32_t max_sync_queues;      /* VCMD_PARAM_MAX_SYNC_QUEUE_COUNT; 0: 64 */
   uint64_t max_guest_blob_bytes; /* GUEST blobs this server allocates; 0: 4 GiB */
   /* A connection that has not created its context (CONTEXT_INIT, which
    * Mesa's driver sends right after connecting) within this time is
    * closed. 0: 10000 ms. */
   uint32_t handshake_timeout_ms;
   /* Shared by every client's renderer and guest blobs (NULL: none); this
    * client charges it as budget_slot (see common/budget.h). */
   struct pv_shared_budget *budget;
   uint32_t budget_slot;
   /* venus wire format served (PV_VENUS_WIRE_FORMAT_*): 0 for Mesa 22.3's
    * driver, 1 for Mesa 25's. With 1, sync queue (ring) 0 is the CPU
    * timeline, signalled when the batch's commands have been consumed. */
   uint32_t wire_format;
   struct pv_renderer_limits renderer_limits;
   /* the GPUs the client sees and its devices' queue priority
    * (pv_renderer_set_device_policy); zero: every GPU, the default */
   struct pv_device_policy device_policy;
   struct vtest_sync_limits sync_limits;
   /* The longest the client's context teardown waits for its GPU work
    * (pv_renderer_set_teardown_timeout); 0: the renderer's default. */
   uint32_t teardown_timeout_ms;
   /* In a client process: its socketpair with the server, on which the
    * guest's context recipe is reported (vtest_server_send_recipe) so that
    * the next processes make their instance and device ahead; 0: none
    * (never stdin). */
   int recipe_fd;
   /* Made ahead for this client (pv_premade); vtest_client_serve hands it
    * to the client's renderer, or destroys it. NULL: none. */
   struct pv_premade *premade;
};

/* Serves the client on `sock` until it disconnects, breaks the protocol or
 * the socket is shut down (server shutdown). Returns 0 after an orderly
 * disconnect, a negative errno when the client was dropped (already
 * logged). Does not close `sock`. */
int vtest_client_serve(int sock, uint32_t client_id, const struct vtest_client_config *cfg);

#endif
