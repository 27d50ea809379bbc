/*
 * A captured venus session (.pvcap, src/venus/pvk_capture_format.h) in
 * memory: records in order, streams with their command boundaries, so that
 * the mutator can edit it and the replayer can run it. Parsing checks every
 * size: a corrupt file is refused, never read out of bounds.
 */
#ifndef PV_FUZZ_SESSION_H
#define PV_FUZZ_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pvf_record {
   uint32_t type; /* PVK_CAPTURE_* */
   uint8_t *data; /* payload (STREAM: the command bytes only) */
   size_t size;
   uint32_t *cmd; /* STREAM: offset of each command in data */
   uint32_t ncmd;
};

struct pvf_session {
   uint32_t wire_format;
   struct pvf_record *rec;
   uint32_t count, capacity;
};

/* 0, or -1 when the bytes are not a capture (nothing to free then). */
int pvf_session_parse(struct pvf_session *s, const uint8_t *data, size_t size);
int pvf_session_load(struct pvf_session *s, const char *path);
void pvf_session_free(struct pvf_session *s);
/* A deep copy; 0 or -1. */
int pvf_session_copy(struct pvf_session *dst, const struct pvf_session *src);

/* The file bytes (malloc'd) and their size; NULL on allocation failure. */
uint8_t *pvf_session_serialize(const struct pvf_session *s, size_t *size);
int pvf_session_save(const struct pvf_session *s, const char *path);

/* Record editing. insert takes ownership of nothing: it copies. */
int pvf_session_insert(struct pvf_session *s, uint32_t at, const struct pvf_record *r);
void pvf_session_remove(struct pvf_session *s, uint32_t at);

/* Stream editing. Command i spans [cmd[i], cmd[i + 1]) (the last one: to
 * the end). replace swaps commands [first, first + n_old) for n_new commands
 * whose bytes are `bytes` (bytes_size) starting at offsets `offs` (relative
 * to `bytes`); 0 or -1. truncate keeps `size` bytes and the commands that
 * start before. */
int pvf_stream_replace(struct pvf_record *r, uint32_t first, uint32_t n_old, const uint8_t *bytes,
                       size_t bytes_size, const uint32_t *offs, uint32_t n_new);
void pvf_stream_truncate(struct pvf_record *r, size_t size);
size_t pvf_stream_cmd_size(const struct pvf_record *r, uint32_t i);

#endif
