/*
 * Command timeline for performance work: with PV_TRACE_DIR set, each
 * context records when every stream started and ended (with
 * PV_TRACE_COMMANDS=1 also every command, runs of one type merged into one
 * line), and writes
 * PV_TRACE_DIR/context-<pid>-<id>.txt when it is destroyed. Recording is a
 * few stores per command into memory allocated up front; off by default.
 */
#ifndef PV_VENUS_TRACE_H
#define PV_VENUS_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pvk_trace;

/* NULL unless PV_TRACE_DIR is set (or on allocation failure). */
struct pvk_trace *pvk_trace_create(uint32_t ctx_id);
/* Writes the file and frees the trace; NULL is ignored. */
void pvk_trace_destroy(struct pvk_trace *trace);

/* Whether single commands are traced too (PV_TRACE_COMMANDS=1): two clock
 * reads per command, which slows small commands down noticeably. */
bool pvk_trace_commands(const struct pvk_trace *trace);

#define PVK_TRACE_STREAM UINT32_MAX
/* One command (or a stream: type PVK_TRACE_STREAM, count = its size). */
void pvk_trace_add(struct pvk_trace *trace, uint32_t type, uint64_t count, uint64_t start_ns,
                   uint64_t end_ns);

#endif
