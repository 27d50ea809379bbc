/*
 * Test helper: a tiny guest-side Venus stream writer, shared by the unit
 * tests that hand-encode command streams. Every value is padded to 4 bytes,
 * as Mesa's encoder does; overflowing the buffer fails the test (exit 1).
 */
#ifndef PV_VENUS_TEST_STREAM_H
#define PV_VENUS_TEST_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* VK_COMMAND_GENERATE_REPLY_BIT_EXT, for tests without the Venus headers. */
#define TS_REPLY 1u

struct test_stream {
   uint8_t data[8192];
   size_t len;
};

/* Appends n bytes of p, zero-padded to a multiple of 4. */
void ts_bytes(struct test_stream *s, const void *p, size_t n);
void ts_u32(struct test_stream *s, uint32_t v);
void ts_u64(struct test_stream *s, uint64_t v);
void ts_f32(struct test_stream *s, float v);
/* A string as Venus sends it: its size with the NUL (uint64), then bytes. */
void ts_string(struct test_stream *s, const char *str);
/* A command header: VkCommandTypeEXT and VkCommandFlagsEXT. */
void ts_cmd(struct test_stream *s, uint32_t type, uint32_t flags);

#endif
