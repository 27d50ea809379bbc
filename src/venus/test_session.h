/*
 * Hand-encoded venus sessions for the teardown tests (venus-stuck-teardown,
 * vgpu-stuck-teardown): a device whose queue can be left waiting forever.
 */
#ifndef PV_VENUS_TEST_SESSION_H
#define PV_VENUS_TEST_SESSION_H

#include <stdint.h>

#include "venus/test_stream.h"

/* Reply stream in resource reply_res, an instance (Vulkan 1.3), its first
 * physical device, a device with one queue of family 0, that queue and a
 * timeline semaphore. */
void ts_session_device(struct test_stream *e, uint32_t reply_res);
/* vkQueueSubmit of one batch without command buffers that waits for the
 * timeline semaphore to reach `value` (none when 0: nothing ever signals
 * it, so a value of 1 leaves the queue stuck for good). */
void ts_session_submit(struct test_stream *e, uint64_t value);
/* vkQueueWaitIdle on the queue. */
void ts_session_queue_wait_idle(struct test_stream *e);

#endif
