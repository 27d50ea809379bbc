/*
 * libFuzzer target over captured venus sessions: an input is a .pvcap
 * file; it is replayed against the real renderer on the host's Vulkan
 * driver (replay.h). The custom mutator and cross-over edit sessions
 * structurally (mutate.h) instead of as plain bytes, so mutated inputs stay
 * sessions. A crash inside the host driver ends the process: run it in
 * libFuzzer's fork mode so that the run goes on (fuzz/README.md):
 *
 *   build-fuzz/fuzz/replay/fuzz_replay -fork=1 -ignore_crashes=1 \
 *      -ignore_timeouts=1 -timeout=20 -artifact_prefix=crashes/ CORPUS_DIR fuzz/corpus/sessions
 *
 * Streams are replayed with a wait after each (PVF_REPLAY_SYNC);
 * PV_FUZZ_ASYNC=1 replays without waits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mutate.h"
#include "replay.h"
#include "session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2,
                                 size_t size2, uint8_t *out, size_t max_out_size,
                                 unsigned int seed);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
   struct pvf_session s;
   if (pvf_session_parse(&s, data, size))
      return -1; /* not a session: not worth keeping */
   struct pvf_replay_result res;
   /* PV_FUZZ_ASYNC=1: no waits between streams (replay.h) */
   const char *async = getenv("PV_FUZZ_ASYNC");
   pvf_replay(&s, async && !strcmp(async, "1") ? 0 : PVF_REPLAY_SYNC, &res);
   pvf_session_free(&s);
   return 0;
}

/* Serializes s into out (max bytes); the size, or 0 when it does not fit. */
static size_t
emit(const struct pvf_session *s, uint8_t *out, size_t max)
{
   size_t n;
   uint8_t *buf = pvf_session_serialize(s, &n);
   if (!buf || n > max) {
      free(buf);
      return 0;
   }
   memcpy(out, buf, n);
   free(buf);
   return n;
}

size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
   struct pvf_session s;
   if (pvf_session_parse(&s, data, size))
      return LLVMFuzzerMutate(data, size, max_size);
   uint64_t rng = seed;
   char log[512] = "";
   pvf_mutate(&s, &s, &rng, 1 + pvf_below(&rng, 4), log, sizeof(log));
   const size_t n = emit(&s, data, max_size);
   pvf_session_free(&s);
   return n ? n : size;
}

size_t
LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2, size_t size2,
                          uint8_t *out, size_t max_out_size, unsigned int seed)
{
   struct pvf_session a, b;
   if (pvf_session_parse(&a, data1, size1))
      return 0;
   if (pvf_session_parse(&b, data2, size2)) {
      pvf_session_free(&a);
      return 0;
   }
   uint64_t rng = seed;
   char log[512] = "";
   pvf_mutate(&a, &b, &rng, 1 + pvf_below(&rng, 3), log, sizeof(log));
   const size_t n = emit(&a, out, max_out_size);
   pvf_session_free(&a);
   pvf_session_free(&b);
   return n;
}
