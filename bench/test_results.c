/* Unit test of pvbench's statistics, % of native, statuses and outputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"

#include "common/test_check.h"

static bool
near(double a, double b)
{
   return fabs(a - b) < 1e-9;
}

static void
test_stats(void)
{
   struct pb_series s = { 0 };
   struct pb_stats st;
   CHECK(!pb_stats_compute(&s, &st));
   const double v[] = { 5, 1, 4, 2, 3, 10, 9, 8, 7, 6 };
   for (size_t i = 0; i < 10; i++)
      CHECK(pb_series_add(&s, v[i]) == 0);
   CHECK(pb_stats_compute(&s, &st));
   CHECK(st.n == 10 && near(st.min, 1) && near(st.median, 5.5) && near(st.p90, 9) &&
         near(st.mean, 5.5));
   /* samples keep their order (the JSON lists them as measured) */
   CHECK(near(s.v[0], 5));
   pb_series_add(&s, 11);
   pb_stats_compute(&s, &st);
   CHECK(near(st.median, 6) && near(st.p90, 10));
   free(s.v);
}

static struct pb_results *
two_paths(void)
{
   static struct pb_results r;
   pb_results_init(&r);
   r.npaths = 2;
   snprintf(r.paths[0].name, sizeof(r.paths[0].name), "native");
   snprintf(r.paths[1].name, sizeof(r.paths[1].name), "pearvisor");
   snprintf(r.paths[0].status, sizeof(r.paths[0].status), "ok");
   snprintf(r.paths[1].status, sizeof(r.paths[1].status), "ok");
   return &r;
}

static void
test_pct_and_status(void)
{
   struct pb_results *r = two_paths();
   struct pb_metric *t = pb_metric_get(r, "clear", "clear", "ms", false, "clear \"quoted\"");
   struct pb_metric *f = pb_metric_get(r, "clients4", "fps", "fps", true, "fps");
   CHECK(t && f && pb_metric_find(r, "clear") == t);
   pb_series_add(&t->s[0], 1.0);
   pb_series_add(&t->s[1], 4.0);
   pb_series_add(&f->s[0], 100.0);
   pb_series_add(&f->s[1], 50.0);
   /* time: native/path; rate: path/native */
   CHECK(near(pb_pct_of_native(t, 1), 25.0));
   CHECK(near(pb_pct_of_native(f, 1), 50.0));
   CHECK(near(pb_pct_of_native(t, 0), 100.0));

   CHECK(pb_set_status(r, "clear", 1, "ok") == 0);
   CHECK(t->s[1].n == 1);
   CHECK(pb_set_status(r, "clear", 1, "fails: hangs") == 0);
   CHECK(t->s[1].n == 0); /* a failure drops that path's samples */
   CHECK(!strcmp(pb_get_status(r, "clear", 1), "fails: hangs"));
   CHECK(!strcmp(pb_get_status(r, "nothing", 1), ""));
   CHECK(pb_pct_of_native(t, 1) < 0);

   char *buf = NULL;
   size_t len = 0;
   FILE *m = open_memstream(&buf, &len);
   pb_write_table(r, m);
   fclose(m);
   CHECK(strstr(buf, "fails [1]") && strstr(buf, "[1] fails: hangs"));
   free(buf);

   m = open_memstream(&buf, &len);
   pb_write_json(r, m);
   fclose(m);
   CHECK(strstr(buf, "\"clear \\\"quoted\\\"\""));
   CHECK(strstr(buf, "\"pct_of_native\": 50"));
   CHECK(strstr(buf, "\"status\": \"fails: hangs\""));
   free(buf);
   pb_results_fini(r);
}

/* Recording-bound rows: serial limit = path's recording + native's whole. */
static void
test_serial_limit(void)
{
   struct pb_results *r = two_paths();
   struct pb_metric *t = pb_metric_get(r, "draws", "draws", "ms", false, "draws");
   struct pb_metric *rec = pb_metric_get(r, "draws", "drawsrec", "ms", false, "rec");
   CHECK(t && rec);
   pb_series_add(&t->s[0], 2.0);
   pb_series_add(&t->s[1], 4.0);
   pb_series_add(&rec->s[1], 1.0);
   double limit = 0, pct = 0;
   CHECK(!pb_serial_limit(r, t, 1, &limit, &pct)); /* not declared recording-bound */
   snprintf(t->serial_rec, sizeof(t->serial_rec), "drawsrec");
   CHECK(pb_serial_limit(r, t, 1, &limit, &pct));
   CHECK(near(limit, 3.0) && near(pct, 75.0));
   CHECK(!pb_serial_limit(r, t, 0, &limit, &pct)); /* native has none */
   char *buf = NULL;
   size_t len = 0;
   FILE *m = open_memstream(&buf, &len);
   pb_write_json(r, m);
   fclose(m);
   CHECK(strstr(buf, "\"serial_limit\": 3") && strstr(buf, "\"pct_of_serial_limit\": 75"));
   free(buf);
   m = open_memstream(&buf, &len);
   pb_write_table(r, m);
   fclose(m);
   CHECK(strstr(buf, "serial limit 3.000, 75.0% of it"));
   free(buf);
   pb_results_fini(r);
}

int
main(void)
{
   test_stats();
   test_pct_and_status();
   test_serial_limit();
   printf("ok\n");
   return 0;
}
