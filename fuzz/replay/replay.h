/*
 * Replays a captured session against the real renderer
 * (include/pearvisor/pearvisor.h) on the host's Vulkan driver: one renderer,
 * one context of the session's wire format, then every record in order
 * (streams through pv_context_submit, blobs, attach/detach/unref, fences),
 * until the end or until the context is lost; then the context and the
 * renderer are destroyed. Guest blob backing pages are zeroed memory.
 *
 * A real guest waits for its GPU work (Mesa polls fence feedback in shared
 * memory, which a capture does not see) before it frees what the work uses;
 * a replay runs faster. With PVF_REPLAY_SYNC each stream is followed by a
 * context fence (pv_context_submit_fence) and a wait for it (at most 10 s),
 * as a guest that waits for everything would: the run is deterministic.
 * After a wait that gives up (a queue waiting on something a later
 * stream signals, or on something nothing will) the rest goes without
 * waits, so a stuck queue costs one wait, and the teardown that follows
 * must end within the renderer's teardown timeout.
 * Without it, the replay submits as fast as it can, so objects may be
 * destroyed while work that uses them is pending (lifetime races).
 */
#ifndef PV_FUZZ_REPLAY_H
#define PV_FUZZ_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"

struct pvf_replay_result {
   uint32_t records; /* records replayed */
   uint32_t streams; /* streams submitted */
   uint32_t lost_at; /* record that made the context lost (UINT32_MAX: none) */
   /* PVF_REPLAY_SYNC: the stream record after which the wait for the
    * context's queues gave up (UINT32_MAX: none); later streams go without
    * waits, and the context's teardown must still end in time */
   uint32_t stalled_at;
   int setup_error; /* negative errno when no renderer/context could be made */
};

#define PVF_REPLAY_SYNC 1u

void pvf_replay(const struct pvf_session *s, uint32_t flags, struct pvf_replay_result *out);

#endif
