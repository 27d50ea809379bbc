#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void
pb_results_init(struct pb_results *r)
{
   memset(r, 0, sizeof(*r));
}

void
pb_results_fini(struct pb_results *r)
{
   for (size_t i = 0; i < r->nm; i++) {
      for (unsigned p = 0; p < PB_MAX_PATHS; p++)
         free(r->m[i].s[p].v);
   }
   free(r->m);
   free(r->w);
   memset(r, 0, sizeof(*r));
}

static void
copy_str(char *dst, size_t len, const char *src)
{
   snprintf(dst, len, "%s", src ? src : "");
}

struct pb_metric *
pb_metric_find(struct pb_results *r, const char *id)
{
   for (size_t i = 0; i < r->nm; i++) {
      if (!strcmp(r->m[i].id, id))
         return &r->m[i];
   }
   return NULL;
}

struct pb_metric *
pb_metric_get(struct pb_results *r, const char *workload, const char *id, const char *unit,
              bool higher_better, const char *name)
{
   struct pb_metric *m = pb_metric_find(r, id);
   if (m)
      return m;
   if (r->nm == r->capm) {
      size_t cap = r->capm ? r->capm * 2 : 16;
      struct pb_metric *n = realloc(r->m, cap * sizeof(*n));
      if (!n)
         return NULL;
      r->m = n;
      r->capm = cap;
   }
   m = &r->m[r->nm++];
   memset(m, 0, sizeof(*m));
   copy_str(m->id, sizeof(m->id), id);
   copy_str(m->workload, sizeof(m->workload), workload);
   copy_str(m->unit, sizeof(m->unit), unit);
   copy_str(m->name, sizeof(m->name), name);
   m->higher_better = higher_better;
   return m;
}

int
pb_series_add(struct pb_series *s, double v)
{
   if (s->n == s->cap) {
      size_t cap = s->cap ? s->cap * 2 : 64;
      double *n = realloc(s->v, cap * sizeof(*n));
      if (!n)
         return -ENOMEM;
      s->v = n;
      s->cap = cap;
   }
   s->v[s->n++] = v;
   return 0;
}

static struct pb_wstatus *
wstatus_get(struct pb_results *r, const char *workload)
{
   for (size_t i = 0; i < r->nw; i++) {
      if (!strcmp(r->w[i].workload, workload))
         return &r->w[i];
   }
   if (r->nw == r->capw) {
      size_t cap = r->capw ? r->capw * 2 : 16;
      struct pb_wstatus *n = realloc(r->w, cap * sizeof(*n));
      if (!n)
         return NULL;
      r->w = n;
      r->capw = cap;
   }
   struct pb_wstatus *w = &r->w[r->nw++];
   memset(w, 0, sizeof(*w));
   copy_str(w->workload, sizeof(w->workload), workload);
   return w;
}

int
pb_set_status(struct pb_results *r, const char *workload, unsigned path, const char *status)
{
   if (path >= PB_MAX_PATHS)
      return -EINVAL;
   struct pb_wstatus *w = wstatus_get(r, workload);
   if (!w)
      return -ENOMEM;
   copy_str(w->status[path], sizeof(w->status[path]), status);
   if (strcmp(status, "ok")) {
      for (size_t i = 0; i < r->nm; i++) {
         if (!strcmp(r->m[i].workload, workload))
            r->m[i].s[path].n = 0;
      }
   }
   return 0;
}

const char *
pb_get_status(const struct pb_results *r, const char *workload, unsigned path)
{
   for (size_t i = 0; i < r->nw; i++) {
      if (!strcmp(r->w[i].workload, workload))
         return path < PB_MAX_PATHS ? r->w[i].status[path] : "";
   }
   return "";
}

static int
cmp_double(const void *a, const void *b)
{
   double x = *(const double *)a, y = *(const double *)b;
   return x < y ? -1 : x > y;
}

bool
pb_stats_compute(const struct pb_series *s, struct pb_stats *out)
{
   memset(out, 0, sizeof(*out));
   if (!s->n)
      return false;
   double *v = malloc(s->n * sizeof(*v));
   if (!v)
      return false;
   memcpy(v, s->v, s->n * sizeof(*v));
   qsort(v, s->n, sizeof(*v), cmp_double);
   double sum = 0;
   for (size_t i = 0; i < s->n; i++)
      sum += v[i];
   out->n = s->n;
   out->min = v[0];
   out->median = s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
   /* Nearest-rank p90. */
   size_t rank = (size_t)ceil(0.9 * (double)s->n);
   out->p90 = v[rank ? rank - 1 : 0];
   out->mean = sum / (double)s->n;
   free(v);
   return true;
}

static int
native_index(const struct pb_results *r)
{
   for (unsigned p = 0; p < r->npaths; p++) {
      if (!strcmp(r->paths[p].name, "native"))
         return (int)p;
   }
   return -1;
}

double
pb_pct_of_native(const struct pb_metric *m, unsigned path)
{
   /* Native is path 0 (pvbench orders paths so); callers check that. */
   struct pb_stats nat, cur;
   if (!pb_stats_compute(&m->s[0], &nat) || !pb_stats_compute(&m->s[path], &cur))
      return -1;
   if (nat.median <= 0 || cur.median <= 0)
      return -1;
   return m->higher_better ? cur.median / nat.median * 100 : nat.median / cur.median * 100;
}

static double
pct(const struct pb_results *r, const struct pb_metric *m, unsigned path)
{
   return native_index(r) == 0 ? pb_pct_of_native(m, path) : -1;
}

bool
pb_serial_limit(const struct pb_results *r, const struct pb_metric *m, unsigned path, double *limit,
                double *pct_out)
{
   struct pb_stats nat, rec, cur;
   if (!m->serial_rec[0] || path == 0 || native_index(r) != 0 || m->higher_better)
      return false;
   const struct pb_metric *rm = NULL;
   for (size_t i = 0; i < r->nm && !rm; i++) {
      if (!strcmp(r->m[i].id, m->serial_rec))
         rm = &r->m[i];
   }
   if (!rm || !pb_stats_compute(&m->s[0], &nat) || !pb_stats_compute(&rm->s[path], &rec) ||
       !pb_stats_compute(&m->s[path], &cur) || cur.median <= 0)
      return false;
   *limit = rec.median + nat.median;
   *pct_out = *limit / cur.median * 100;
   return true;
}

static const char *
metric_status(const struct pb_results *r, const struct pb_metric *m, unsigned p)
{
   const char *st = pb_get_status(r, m->workload, p);
   if (!st[0])
      return r->paths[p].status[0] && strcmp(r->paths[p].status, "ok") ? r->paths[p].status
                                                                       : "not run";
   return st;
}

/* Distinct failure reasons, so the table can point at them by number. */
struct reasons {
   const char *v[64];
   size_t n;
};

static const char *
reason_ref(struct reasons *rs, const char *status, char *buf, size_t len)
{
   if (strncmp(status, "fails", 5))
      return status;
   size_t i = 0;
   while (i < rs->n && strcmp(rs->v[i], status))
      i++;
   if (i == rs->n && rs->n < sizeof(rs->v) / sizeof(rs->v[0]))
      rs->v[rs->n++] = status;
   if (i == sizeof(rs->v) / sizeof(rs->v[0]))
      return status;
   snprintf(buf, len, "fails [%zu]", i + 1);
   return buf;
}

void
pb_write_table(const struct pb_results *r, FILE *f)
{
   struct reasons rs = { .n = 0 };
   char ref[32];
   fprintf(f, "pvbench %s, %ld CPUs%s", r->date, r->cpus, r->quick ? ", --quick" : "");
   if (r->rounds > 1)
      fprintf(f, ", %u of %u rounds", r->rounds_done, r->rounds);
   fputc('\n', f);
   fprintf(f, "guest driver settings (venus paths): %s\n",
           r->guest_env[0] ? r->guest_env : "none (Mesa's defaults)");
   for (unsigned x = 0; x < r->nextra; x++)
      fprintf(f,
              "extra rows \"[%s]\": the venus paths with %s added (native: the default "
              "rows' figures)\n",
              r->extra_env[x], r->extra_env[x]);
   fprintf(f, "serial limit (recording-bound rows): the path's recording time + native's "
              "whole time\n\n");
   int lw = 40;
   for (size_t i = 0; i < r->nm; i++) {
      int n = (int)strlen(r->m[i].name);
      lw = n > lw ? n : lw;
   }
   lw = lw > 110 ? 110 : lw;
   fprintf(f, "%-*s %-10s %10s %10s %10s %-5s %9s\n", lw, "metric", "path", "min", "median", "p90",
           "unit", "% native");
   for (size_t i = 0; i < r->nm; i++) {
      const struct pb_metric *m = &r->m[i];
      for (unsigned p = 0; p < r->npaths; p++) {
         struct pb_stats st;
         const char *label = p == 0 ? m->name : "";
         if (!pb_stats_compute(&m->s[p], &st)) {
            fprintf(f, "%-*.*s %-10s %s\n", lw, lw, label, r->paths[p].name,
                    reason_ref(&rs, metric_status(r, m, p), ref, sizeof(ref)));
            continue;
         }
         double pc = pct(r, m, p), limit, spct;
         char pcs[16] = "-";
         if (pc >= 0)
            snprintf(pcs, sizeof(pcs), "%.1f%%", pc);
         fprintf(f, "%-*.*s %-10s %10.3f %10.3f %10.3f %-5s %9s", lw, lw, label, r->paths[p].name,
                 st.min, st.median, st.p90, m->unit, pcs);
         if (pb_serial_limit(r, m, p, &limit, &spct))
            fprintf(f, "  serial limit %.3f, %.1f%% of it", limit, spct);
         fputc('\n', f);
      }
   }
   /* Workloads that declared no metric anywhere failed before starting. */
   for (size_t i = 0; i < r->nw; i++) {
      bool has_metric = false;
      for (size_t j = 0; j < r->nm; j++)
         has_metric |= !strcmp(r->m[j].workload, r->w[i].workload);
      if (has_metric)
         continue;
      for (unsigned p = 0; p < r->npaths; p++)
         fprintf(f, "%-*s %-10s %s\n", lw, p == 0 ? r->w[i].workload : "", r->paths[p].name,
                 reason_ref(&rs, r->w[i].status[p][0] ? r->w[i].status[p] : "not run", ref,
                            sizeof(ref)));
   }
   if (rs.n)
      fprintf(f, "\nfailures:\n");
   for (size_t i = 0; i < rs.n; i++)
      fprintf(f, "  [%zu] %s\n", i + 1, rs.v[i]);
   fprintf(f, "\npaths:\n");
   for (unsigned p = 0; p < r->npaths; p++)
      fprintf(f, "  %-10s %s%s%s\n", r->paths[p].name, r->paths[p].status,
              r->paths[p].device[0] ? "; device: " : "", r->paths[p].device);
}

static void
json_str(FILE *f, const char *s)
{
   fputc('"', f);
   for (; *s; s++) {
      unsigned char c = (unsigned char)*s;
      if (c == '"' || c == '\\')
         fprintf(f, "\\%c", c);
      else if (c < 0x20)
         fprintf(f, "\\u%04x", c);
      else
         fputc(c, f);
   }
   fputc('"', f);
}

static void
json_num(FILE *f, double v)
{
   if (isfinite(v))
      fprintf(f, "%.6g", v);
   else
      fputs("null", f);
}

static void
json_series(const struct pb_results *r, const struct pb_metric *m, unsigned p, FILE *f)
{
   struct pb_stats st;
   fprintf(f, "        ");
   json_str(f, r->paths[p].name);
   fprintf(f, ": {\"status\": ");
   if (!pb_stats_compute(&m->s[p], &st)) {
      json_str(f, metric_status(r, m, p));
      fprintf(f, "}");
      return;
   }
   fprintf(f, "\"ok\", \"n\": %zu, \"min\": ", st.n);
   json_num(f, st.min);
   fprintf(f, ", \"median\": ");
   json_num(f, st.median);
   fprintf(f, ", \"p90\": ");
   json_num(f, st.p90);
   fprintf(f, ", \"mean\": ");
   json_num(f, st.mean);
   fprintf(f, ", \"pct_of_native\": ");
   double pc = pct(r, m, p), limit, spct;
   if (pc >= 0)
      json_num(f, pc);
   else
      fputs("null", f);
   if (pb_serial_limit(r, m, p, &limit, &spct)) {
      fprintf(f, ", \"serial_limit\": ");
      json_num(f, limit);
      fprintf(f, ", \"pct_of_serial_limit\": ");
      json_num(f, spct);
   }
   fprintf(f, ", \"samples\": [");
   for (size_t i = 0; i < m->s[p].n; i++) {
      if (i)
         fputs(", ", f);
      json_num(f, m->s[p].v[i]);
   }
   fprintf(f, "]}");
}

void
pb_write_json(const struct pb_results *r, FILE *f)
{
   fprintf(f, "{\n  \"pvbench\": 1,\n  \"date\": ");
   json_str(f, r->date);
   fprintf(f,
           ",\n  \"cpus\": %ld,\n  \"quick\": %s,\n  \"rounds\": %u,\n  \"rounds_done\": %u,"
           "\n  \"host_icd\": ",
           r->cpus, r->quick ? "true" : "false", r->rounds, r->rounds_done);
   json_str(f, r->host_icd);
   fprintf(f, ",\n  \"venus_icd\": ");
   json_str(f, r->venus_icd);
   fprintf(f, ",\n  \"guest_env\": ");
   json_str(f, r->guest_env);
   fprintf(f, ",\n  \"extra_guest_env\": [");
   for (unsigned x = 0; x < r->nextra; x++) {
      if (x)
         fputs(", ", f);
      json_str(f, r->extra_env[x]);
   }
   fprintf(f, "],\n  \"paths\": [\n");
   for (unsigned p = 0; p < r->npaths; p++) {
      fprintf(f, "    {\"name\": ");
      json_str(f, r->paths[p].name);
      fprintf(f, ", \"status\": ");
      json_str(f, r->paths[p].status);
      fprintf(f, ", \"device\": ");
      json_str(f, r->paths[p].device);
      fprintf(f, "}%s\n", p + 1 < r->npaths ? "," : "");
   }
   fprintf(f, "  ],\n  \"workloads\": [\n");
   for (size_t i = 0; i < r->nw; i++) {
      fprintf(f, "    {\"name\": ");
      json_str(f, r->w[i].workload);
      fprintf(f, ", \"status\": {");
      for (unsigned p = 0; p < r->npaths; p++) {
         json_str(f, r->paths[p].name);
         fputs(": ", f);
         json_str(f, r->w[i].status[p][0] ? r->w[i].status[p] : "not run");
         if (p + 1 < r->npaths)
            fputs(", ", f);
      }
      fprintf(f, "}}%s\n", i + 1 < r->nw ? "," : "");
   }
   fprintf(f, "  ],\n  \"metrics\": [\n");
   for (size_t i = 0; i < r->nm; i++) {
      const struct pb_metric *m = &r->m[i];
      fprintf(f, "    {\"id\": ");
      json_str(f, m->id);
      fprintf(f, ", \"workload\": ");
      json_str(f, m->workload);
      fprintf(f, ", \"name\": ");
      json_str(f, m->name);
      fprintf(f, ", \"unit\": ");
      json_str(f, m->unit);
      fprintf(f, ", \"higher_is_better\": %s", m->higher_better ? "true" : "false");
      if (m->serial_rec[0]) {
         fprintf(f, ", \"serial_recording_metric\": ");
         json_str(f, m->serial_rec);
      }
      fprintf(f, ",\n      \"results\": {\n");
      for (unsigned p = 0; p < r->npaths; p++) {
         json_series(r, m, p, f);
         fprintf(f, "%s\n", p + 1 < r->npaths ? "," : "");
      }
      fprintf(f, "      }}%s\n", i + 1 < r->nm ? "," : "");
   }
   fprintf(f, "  ]\n}\n");
}
