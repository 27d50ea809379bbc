/*
 * Replays a captured session against the real renderer
 * (include/pearvisor/pearvisor.h) on the host's Vulkan driver: one renderer,
 * one context of the session's wire format, then every record in order
 * (streams through pv_context_submit, blobs, attach/detach/unref, fences),
 * until the end or until the context is lost; then the context and the
 * renderer are destroyed. Guest blob backing pages are zeroed memory.
 */
#ifndef PV_FUZZ_REPLAY_H
#define PV_FUZZ_REPLAY_H

#include <stdint.h>

#include "session.h"

struct pvf_replay_result {
   uint32_t records;     /* records replayed */
   uint32_t streams;     /* streams submitted */
   uint32_t lost_at;     /* record that made the context lost (UINT32_MAX: none) */
   int setup_error;      /* negative errno when no renderer/context could be made */
};

void pvf_replay(const struct pvf_session *s, struct pvf_replay_result *out);

#endif
