/* Command timeline (pvk_trace.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_trace.h"

#define PVK_TRACE_MAX_ENTRIES (1u << 20)

struct pvk_trace_entry {
   uint32_t type;
   uint64_t count;
   uint64_t start_ns;
   uint64_t end_ns;
};

struct pvk_trace {
   uint32_t ctx_id;
   bool commands;
   uint32_t used;
   struct pvk_trace_entry entries[];
};

struct pvk_trace *
pvk_trace_create(uint32_t ctx_id)
{
   const char *dir = getenv("PV_TRACE_DIR");
   if (!dir || !*dir)
      return NULL;
   struct pvk_trace *t =
      malloc(sizeof(*t) + (size_t)PVK_TRACE_MAX_ENTRIES * sizeof(struct pvk_trace_entry));
   if (!t)
      return NULL;
   t->ctx_id = ctx_id;
   t->used = 0;
   const char *commands = getenv("PV_TRACE_COMMANDS");
   t->commands = commands && !strcmp(commands, "1");
   return t;
}

void
pvk_trace_add(struct pvk_trace *t, uint32_t type, uint64_t count, uint64_t start_ns,
              uint64_t end_ns)
{
   if (t->used && type != PVK_TRACE_STREAM) {
      struct pvk_trace_entry *prev = &t->entries[t->used - 1];
      if (prev->type == type) {
         prev->count += count;
         prev->end_ns = end_ns;
         return;
      }
   }
   if (t->used == PVK_TRACE_MAX_ENTRIES)
      return;
   t->entries[t->used++] = (struct pvk_trace_entry){ type, count, start_ns, end_ns };
}

void
pvk_trace_destroy(struct pvk_trace *t)
{
   if (!t)
      return;
   char path[4096];
   snprintf(path, sizeof(path), "%s/context-%d-%u.txt", getenv("PV_TRACE_DIR"), (int)getpid(),
            t->ctx_id);
   FILE *f = fopen(path, "w");
   if (f) {
      uint64_t t0 = UINT64_MAX;
      for (uint32_t i = 0; i < t->used; i++)
         t0 = t->entries[i].start_ns < t0 ? t->entries[i].start_ns : t0;
      fprintf(f, "# start_us end_us count command (stream: count = bytes)\n");
      for (uint32_t i = 0; i < t->used; i++) {
         const struct pvk_trace_entry *e = &t->entries[i];
         const char *name = e->type == PVK_TRACE_STREAM ? "stream" : vn_command_name(e->type);
         fprintf(f, "%.3f %.3f %llu %s\n", (double)(e->start_ns - t0) / 1e3,
                 (double)(e->end_ns - t0) / 1e3, (unsigned long long)e->count, name ? name : "?");
      }
      fclose(f);
   } else {
      pv_warn("venus", "cannot write %s", path);
   }
   free(t);
}

bool
pvk_trace_commands(const struct pvk_trace *t)
{
   return t && t->commands;
}
