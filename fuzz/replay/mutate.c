/* Session mutations (mutate.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mutate.h"
#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_capture_format.h"

static void
note(char *log, size_t size, const char *fmt, ...)
{
   const size_t used = strnlen(log, size);
   if (used + 1 >= size)
      return;
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(log + used, size - used, fmt, ap);
   va_end(ap);
}

static const char *
cmd_name(const struct pvf_record *r, uint32_t i)
{
   uint32_t type;
   if (pvf_stream_cmd_size(r, i) < 4)
      return "?";
   memcpy(&type, r->data + r->cmd[i], 4);
   const char *name = vn_command_name(type);
   return name ? name : "?";
}

/* A random STREAM record with at least one command, or UINT32_MAX. */
static uint32_t
pick_stream(const struct pvf_session *s, uint64_t *rng)
{
   uint32_t n = 0;
   for (uint32_t i = 0; i < s->count; i++)
      n += s->rec[i].type == PVK_CAPTURE_STREAM && s->rec[i].ncmd;
   if (!n)
      return UINT32_MAX;
   uint32_t k = pvf_below(rng, n);
   for (uint32_t i = 0; i < s->count; i++) {
      if (s->rec[i].type == PVK_CAPTURE_STREAM && s->rec[i].ncmd && !k--)
         return i;
   }
   return UINT32_MAX;
}

static const uint32_t boundaries[] = {
   0,    1,    2,    3,     4,     7,           8,           15,          16,
   31,   32,   63,   64,    127,   128,         255,         256,         1023,
   1024, 4095, 4096, 65535, 65536, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu,
};

/* A new value for a 32-bit field: a boundary, a neighbour, a sign flip. */
static uint32_t
tweak_u32(uint32_t v, uint64_t *rng)
{
   switch (pvf_below(rng, 6)) {
   case 0:
   case 1:
      return boundaries[pvf_below(rng, sizeof(boundaries) / sizeof(boundaries[0]))];
   case 2:
      return v + 1;
   case 3:
      return v - 1;
   case 4:
      return v ^ 0x80000000u;
   default:
      return v + (uint32_t)(pvf_below(rng, 64)) - 32;
   }
}

/* Integer field: an aligned word of a command's arguments (after its
 * 8-byte header), as u32 or, 8-aligned, as u64. */
static void
mutate_int(struct pvf_session *s, uint64_t *rng, char *log, size_t size)
{
   const uint32_t ri = pick_stream(s, rng);
   if (ri == UINT32_MAX)
      return;
   struct pvf_record *r = &s->rec[ri];
   const uint32_t ci = pvf_below(rng, r->ncmd);
   const size_t csize = pvf_stream_cmd_size(r, ci);
   if (csize < 12)
      return;
   const size_t word = 2 + pvf_below(rng, (uint32_t)(csize / 4 - 2));
   uint8_t *p = r->data + r->cmd[ci] + word * 4;
   uint32_t v;
   memcpy(&v, p, 4);
   if ((word & 1) == 0 && (word + 1) * 4 < csize && pvf_below(rng, 4) == 0) {
      uint64_t v64;
      memcpy(&v64, p, 8);
      const uint64_t n64 = pvf_below(rng, 2) ? ~0ull : (v64 ^ (1ull << pvf_below(rng, 64)));
      memcpy(p, &n64, 8);
      note(log, size, "u64 rec %u cmd %u (%s) word %zu: %#llx -> %#llx; ", ri, ci, cmd_name(r, ci),
           word, (unsigned long long)v64, (unsigned long long)n64);
      return;
   }
   const uint32_t n = tweak_u32(v, rng);
   memcpy(p, &n, 4);
   note(log, size, "u32 rec %u cmd %u (%s) word %zu: %#x -> %#x; ", ri, ci, cmd_name(r, ci), word,
        v, n);
}

static void
mutate_bitflip(struct pvf_session *s, uint64_t *rng, char *log, size_t size)
{
   const uint32_t ri = pick_stream(s, rng);
   if (ri == UINT32_MAX)
      return;
   struct pvf_record *r = &s->rec[ri];
   const uint32_t ci = pvf_below(rng, r->ncmd);
   const size_t csize = pvf_stream_cmd_size(r, ci);
   /* mostly the arguments: a flipped command type just ends the session */
   const size_t first = csize > 8 && pvf_below(rng, 8) ? 8 : 0;
   if (csize <= first)
      return;
   const size_t byte = first + pvf_below(rng, (uint32_t)(csize - first));
   const uint32_t bit = pvf_below(rng, 8);
   r->data[r->cmd[ci] + byte] ^= (uint8_t)(1u << bit);
   note(log, size, "bitflip rec %u cmd %u (%s) byte %zu bit %u; ", ri, ci, cmd_name(r, ci), byte,
        bit);
}

static void
mutate_delete_cmd(struct pvf_session *s, uint64_t *rng, char *log, size_t size)
{
   const uint32_t ri = pick_stream(s, rng);
   if (ri == UINT32_MAX)
      return;
   struct pvf_record *r = &s->rec[ri];
   const uint32_t ci = pvf_below(rng, r->ncmd);
   note(log, size, "delete rec %u cmd %u (%s); ", ri, ci, cmd_name(r, ci));
   pvf_stream_replace(r, ci, 1, NULL, 0, NULL, 0);
}

static void
mutate_duplicate_cmd(struct pvf_session *s, uint64_t *rng, char *log, size_t size)
{
   const uint32_t ri = pick_stream(s, rng);
   if (ri == UINT32_MAX)
      return;
   struct pvf_record *r = &s->rec[ri];
   const uint32_t ci = pvf_below(rng, r->ncmd);
   const size_t csize = pvf_stream_cmd_size(r, ci);
   uint8_t tmp[4096];
   if (csize > sizeof(tmp))
      return;
   memcpy(tmp, r->data + r->cmd[ci], csize);
   const uint32_t zero = 0;
   note(log, size, "duplicate rec %u cmd %u (%s); ", ri, ci, cmd_name(r, ci));
   pvf_stream_replace(r, ci + 1, 0, tmp, csize, &zero, 1);
}

/* Cuts the session: the rest of a stream from a command (or a word inside
 * it) on, and every record after it. */
static void
mutate_truncate(struct pvf_session *s, uint64_t *rng, char *log, size_t size)
{
   const uint32_t ri = pick_stream(s, rng);
   if (ri == UINT32_MAX)
      return;
   struct pvf_record *r = &s->rec[ri];
   const uint32_t ci = pvf_below(rng, r->ncmd);
   size_t at = r->cmd[ci];
   if (pvf_below(rng, 2))
      at += 4 * pvf_below(rng, (uint32_t)(pvf_stream_cmd_size(r, ci) / 4));
   note(log, size, "truncate rec %u at byte %zu (cmd %u %s); ", ri, at, ci, cmd_name(r, ci));
   pvf_stream_truncate(r, at);
   while (s->count > ri + 1)
      pvf_session_remove(s, s->count - 1);
}

/* Commands [a, b) of a donor stream inserted before a command of ours. */
static void
mutate_splice(struct pvf_session *s, const struct pvf_session *donor, uint64_t *rng, char *log,
              size_t size)
{
   if (!donor)
      return;
   const uint32_t di = pick_stream(donor, rng);
   const uint32_t ri = pick_stream(s, rng);
   if (di == UINT32_MAX || ri == UINT32_MAX)
      return;
   const struct pvf_record *d = &donor->rec[di];
   const uint32_t a = pvf_below(rng, d->ncmd);
   const uint32_t n = 1 + pvf_below(rng, d->ncmd - a < 4 ? d->ncmd - a : 4);
   const size_t start = d->cmd[a];
   const size_t end = a + n < d->ncmd ? d->cmd[a + n] : d->size;
   uint32_t offs[4];
   for (uint32_t i = 0; i < n; i++)
      offs[i] = d->cmd[a + i] - (uint32_t)start;
   /* copy first: donor may be s itself */
   uint8_t tmp[16384];
   if (end - start > sizeof(tmp))
      return;
   memcpy(tmp, d->data + start, end - start);
   struct pvf_record *r = &s->rec[ri];
   const uint32_t at = pvf_below(rng, r->ncmd + 1);
   note(log, size, "splice %u cmds from donor rec %u cmd %u (%s) into rec %u before cmd %u; ", n,
        di, a, cmd_name(d, a), ri, at);
   pvf_stream_replace(r, at, 0, tmp, end - start, offs, n);
}

/* A resource or fence record: drop it, or push one of its fields. */
static void
mutate_resource(struct pvf_session *s, uint64_t *rng, char *log, size_t size)
{
   uint32_t n = 0;
   for (uint32_t i = 0; i < s->count; i++)
      n += s->rec[i].type != PVK_CAPTURE_STREAM;
   if (!n)
      return;
   uint32_t k = pvf_below(rng, n), ri = 0;
   for (ri = 0; ri < s->count; ri++) {
      if (s->rec[ri].type != PVK_CAPTURE_STREAM && !k--)
         break;
   }
   struct pvf_record *r = &s->rec[ri];
   if (pvf_below(rng, 3) == 0 || r->size < 4) {
      note(log, size, "drop rec %u (type %u); ", ri, r->type);
      pvf_session_remove(s, ri);
      return;
   }
   const size_t word = pvf_below(rng, (uint32_t)(r->size / 4));
   uint32_t v;
   memcpy(&v, r->data + word * 4, 4);
   const uint32_t nv = tweak_u32(v, rng);
   memcpy(r->data + word * 4, &nv, 4);
   note(log, size, "rec %u (type %u) word %zu: %#x -> %#x; ", ri, r->type, word, v, nv);
}

void
pvf_mutate(struct pvf_session *s, const struct pvf_session *donor, uint64_t *rng, uint32_t count,
           char *log, size_t log_size)
{
   for (uint32_t i = 0; i < count; i++) {
      const uint32_t what = pvf_below(rng, 100);
      if (what < 35)
         mutate_int(s, rng, log, log_size);
      else if (what < 55)
         mutate_bitflip(s, rng, log, log_size);
      else if (what < 65)
         mutate_delete_cmd(s, rng, log, log_size);
      else if (what < 73)
         mutate_duplicate_cmd(s, rng, log, log_size);
      else if (what < 78)
         mutate_truncate(s, rng, log, log_size);
      else if (what < 93)
         mutate_splice(s, donor, rng, log, log_size);
      else
         mutate_resource(s, rng, log, log_size);
   }
}
