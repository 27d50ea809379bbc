/*
 * Structure-aware mutations of a captured session, deterministic for a
 * given seed: bit flips, integer fields pushed toward boundaries, command
 * deletion and duplication, truncation, splicing commands (or whole
 * streams) from another session, and resource record tweaks. Each applied
 * mutation is described in `log` (one line, for the saved crash).
 */
#ifndef PV_FUZZ_MUTATE_H
#define PV_FUZZ_MUTATE_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

/* splitmix64: the fuzzer's only randomness. */
static inline uint64_t
pvf_rand(uint64_t *state)
{
   uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
   z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
   z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
   return z ^ (z >> 31);
}

static inline uint32_t
pvf_below(uint64_t *state, uint32_t n)
{
   return n ? (uint32_t)(pvf_rand(state) % n) : 0;
}

/* Applies `count` mutations to s; `donor` (may be s itself, or NULL) gives
 * spliced commands. Appends a description to log (size bytes). */
void pvf_mutate(struct pvf_session *s, const struct pvf_session *donor, uint64_t *rng,
                uint32_t count, char *log, size_t log_size);

#endif
