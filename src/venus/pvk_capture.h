/*
 * Session capture for replay and fuzzing: with PV_CAPTURE_DIR set, each
 * context writes everything a replay needs to
 * PV_CAPTURE_DIR/session-<pid>-<ctx_id>-<n>.pvcap, as it happens (a file
 * survives a crash of the process):
 *
 * - every command the context executed, in execution order, whichever
 *   channel carried it (submits, rings, indirect streams). Commands of
 *   indirect streams (vkExecuteCommandStreamsMESA) are written in place of
 *   that command, preceded by the reply seek it implied; the transport's
 *   blocking waits (vkWaitRingSeqnoMESA, vkWaitVirtqueueSeqnoMESA) are left
 *   out: the file is already one serialization of every channel, and a
 *   replay submits it as plain streams;
 * - the resources the stream names: blobs created by the context, attach,
 *   detach and unref of resources, and fences.
 *
 * Not captured: what the guest writes into shared memory (vertex data, the
 * contents of mapped device memory). Off (one NULL check per command) when
 * PV_CAPTURE_DIR is unset. File format: pvk_capture_format.h.
 */
#ifndef PV_VENUS_PVK_CAPTURE_H
#define PV_VENUS_PVK_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

struct pvk_capture;
struct pvk_capture_blob;

/* NULL unless PV_CAPTURE_DIR is set (or when the file cannot be made). */
struct pvk_capture *pvk_capture_create(uint32_t ctx_id, uint32_t wire_format);
/* Writes what is pending, closes the file; NULL is ignored. */
void pvk_capture_destroy(struct pvk_capture *cap);

/* One executed command (bytes as decoded); `type` picks what is left out. */
void pvk_capture_command(struct pvk_capture *cap, uint32_t type, const void *data, size_t size);
/* The reply seek a vkExecuteCommandStreamsMESA does before a stream. */
void pvk_capture_reply_seek(struct pvk_capture *cap, uint64_t position);
/* Ends an outermost stream: its commands become one stream record. */
void pvk_capture_flush(struct pvk_capture *cap);

/* Resource and fence records (PVK_CAPTURE_* of pvk_capture_format.h);
 * commands pending are written first. */
void pvk_capture_blob(struct pvk_capture *cap, uint32_t type, const struct pvk_capture_blob *blob);
void pvk_capture_res_id(struct pvk_capture *cap, uint32_t type, uint32_t res_id);
void pvk_capture_fence(struct pvk_capture *cap, uint32_t ring_idx, uint64_t fence_id);

#endif
